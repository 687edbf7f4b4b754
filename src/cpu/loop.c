/* The strided n-d loop: one iteration scheme for every elementwise kernel and for copies. */
#include "cpu.h"

#include "../core/threads.h"

void lz_cpu_iter_init(lz_cpu_iter *it, int ndim, const int *shape, int nops, char *const *base,
                      const int64_t *const *elem_strides, const size_t *itemsizes) {
  it->nops = nops;
  for (int o = 0; o < nops; o++) it->base[o] = base[o];
  int nd = 0;
  for (int d = 0; d < ndim; d++) {
    if (shape[d] == 1) continue; /* size-1 dims contribute nothing */
    if (nd > 0) {
      bool merge = true; /* dim d continues dim nd-1 for every operand */
      for (int o = 0; o < nops && merge; o++)
        merge = it->strides[o][nd - 1] == elem_strides[o][d] * (int64_t)itemsizes[o] * shape[d];
      if (merge) {
        it->shape[nd - 1] *= shape[d];
        for (int o = 0; o < nops; o++) it->strides[o][nd - 1] = elem_strides[o][d] * (int64_t)itemsizes[o];
        continue;
      }
    }
    it->shape[nd] = shape[d];
    for (int o = 0; o < nops; o++) it->strides[o][nd] = elem_strides[o][d] * (int64_t)itemsizes[o];
    nd++;
  }
  it->ndim = nd;
}

int64_t lz_cpu_iter_outer(const lz_cpu_iter *it) {
  int64_t n = 1;
  for (int d = 0; d + 1 < it->ndim; d++) n *= it->shape[d];
  return n;
}

int64_t lz_cpu_iter_inner(const lz_cpu_iter *it) {
  return it->ndim ? it->shape[it->ndim - 1] : 1;
}

void lz_cpu_iter_run(const lz_cpu_iter *it, int64_t begin, int64_t end, lz_cpu_inner_fn fn,
                     void *ctx) {
  int nops = it->nops, nd = it->ndim;
  int64_t inner = lz_cpu_iter_inner(it);
  int64_t inner_strides[LZ_CPU_MAX_OPS] = {0};
  char *p[LZ_CPU_MAX_OPS];
  for (int o = 0; o < nops; o++) inner_strides[o] = nd ? it->strides[o][nd - 1] : 0;
  if (nd <= 1) {
    if (begin < end && inner > 0) {
      for (int o = 0; o < nops; o++) p[o] = it->base[o];
      fn(ctx, inner, p, inner_strides);
    }
    return;
  }
  /* Multi-index of run `begin` over dims [0, nd-1). */
  int64_t idx[LZ_MAX_NDIM];
  int64_t rem = begin;
  for (int d = nd - 2; d >= 0; d--) {
    idx[d] = rem % it->shape[d];
    rem /= it->shape[d];
  }
  for (int o = 0; o < nops; o++) {
    p[o] = it->base[o];
    for (int d = 0; d < nd - 1; d++) p[o] += idx[d] * it->strides[o][d];
  }
  char *q[LZ_CPU_MAX_OPS];
  for (int64_t r = begin; r < end; r++) {
    for (int o = 0; o < nops; o++) q[o] = p[o];
    fn(ctx, inner, q, inner_strides);
    for (int d = nd - 2; d >= 0; d--) { /* odometer step */
      idx[d]++;
      for (int o = 0; o < nops; o++) p[o] += it->strides[o][d];
      if (idx[d] < it->shape[d]) break;
      for (int o = 0; o < nops; o++) p[o] -= it->strides[o][d] * it->shape[d];
      idx[d] = 0;
    }
  }
}

/* Base pointers of run `r` (a multi-index over dims [0, nd-1)). */
static void run_ptrs(const lz_cpu_iter *it, int64_t r, char **p) {
  for (int o = 0; o < it->nops; o++) p[o] = it->base[o];
  for (int d = it->ndim - 2; d >= 0; d--) {
    int64_t i = r % it->shape[d];
    r /= it->shape[d];
    for (int o = 0; o < it->nops; o++) p[o] += i * it->strides[o][d];
  }
}

/* Threads split the flattened element range in blocks of BLOCK elements (so split points of a
 * contiguous output fall on cache-line boundaries); work below GRAIN elements stays serial,
 * where waking threads would cost more than it saves. */
enum { BLOCK = 4096, GRAIN = 32768 };

typedef struct par_ctx {
  const lz_cpu_iter *it;
  lz_cpu_inner_fn fn;
  void *ctx;
  int64_t inner, total;
} par_ctx;

/* Runs elements [b, e) of the flattened iteration: whole runs at once, partial runs at the
 * ends of the range as shorter runs. */
static void run_blocks(void *arg, int64_t bb, int64_t be) {
  const par_ctx *c = arg;
  const lz_cpu_iter *it = c->it;
  int64_t b = bb * BLOCK, e = be * BLOCK < c->total ? be * BLOCK : c->total, inner = c->inner;
  while (b < e) {
    int64_t r = b / inner, off = b % inner;
    if (off == 0 && e - b >= inner) {
      int64_t rend = e / inner;
      lz_cpu_iter_run(it, r, rend, c->fn, c->ctx);
      b = rend * inner;
      continue;
    }
    int64_t len = inner - off < e - b ? inner - off : e - b;
    char *p[LZ_CPU_MAX_OPS];
    int64_t s[LZ_CPU_MAX_OPS] = {0};
    run_ptrs(it, r, p);
    for (int o = 0; o < it->nops; o++) {
      s[o] = it->ndim ? it->strides[o][it->ndim - 1] : 0;
      p[o] += off * s[o];
    }
    c->fn(c->ctx, len, p, s);
    b += len;
  }
}

/* ---- transposed inputs: an input read across its rows (a transposed view, e.g. a gradient's
 * swapaxes) but contiguous down its columns touches one cache line per element along every
 * row of the output, and its inner loop cannot use SIMD. The output is walked in TILE x TILE
 * tiles instead: each such input's tile is first copied (reading down its contiguous columns)
 * into a small row-major buffer, and the kernel's inner loop runs on the buffer's unit-stride
 * rows. The tiles are shared out like the blocks above. */
enum { TILE = 32 };

typedef struct tile_ctx {
  const lz_cpu_iter *it;
  lz_cpu_inner_fn fn;
  void *ctx;
  int64_t rows, cols, row_tiles, col_tiles;
  int64_t isz[LZ_CPU_MAX_OPS]; /* element size of an input to pack, else 0 */
} tile_ctx;

/* Marks the inputs to pack (unit element stride down the rows, a stride of at least a cache
 * line along them); false when there is none. */
static bool plan_tiles(const lz_cpu_iter *it, int64_t *isz) {
  int nd = it->ndim;
  bool any = false;
  if (nd < 2 || it->shape[nd - 1] < TILE || it->shape[nd - 2] < TILE) return false;
  for (int o = 0; o < it->nops; o++) {
    int64_t sc = it->strides[o][nd - 1], sr = it->strides[o][nd - 2];
    isz[o] = 0;
    if (o == 0 || sc == 0) continue; /* the output, or an input broadcast along the rows */
    if (sc < 0) sc = -sc;
    if ((sr == 1 || sr == 2 || sr == 4 || sr == 8) && sc >= 64) isz[o] = sr, any = true;
  }
  for (int d = 0; any && d < nd; d++) any = it->strides[0][d] != 0; /* tiles write apart */
  return any;
}

static void pack_tile(char *buf, const char *src, int64_t isz, int64_t sc, int64_t nr,
                      int64_t nc) {
  for (int64_t c = 0; c < nc; c++, src += sc) { /* column c: nr contiguous elements */
    char *d = buf + c * isz;
    switch (isz) {
#define PACK(T)                                                                                    for (int64_t r = 0; r < nr; r++) ((T *)d)[r * TILE] = ((const T *)src)[r];                       break;
    case 1: PACK(uint8_t)
    case 2: PACK(uint16_t)
    case 4: PACK(uint32_t)
    default: PACK(uint64_t)
#undef PACK
    }
  }
}

static void run_tiles(void *arg, int64_t b, int64_t e) {
  const tile_ctx *c = arg;
  const lz_cpu_iter *it = c->it;
  int nd = it->ndim, nops = it->nops;
  _Alignas(64) char bufs[2][TILE * TILE * 8];
  int64_t per_plane = c->row_tiles * c->col_tiles, s[LZ_CPU_MAX_OPS];
  for (int o = 0; o < nops; o++) s[o] = c->isz[o] ? c->isz[o] : it->strides[o][nd - 1];
  for (int64_t t = b; t < e; t++) {
    int64_t plane = t / per_plane, rt = t % per_plane / c->col_tiles, ct = t % c->col_tiles;
    char *base[LZ_CPU_MAX_OPS], *p[LZ_CPU_MAX_OPS];
    for (int o = 0; o < nops; o++) base[o] = it->base[o];
    for (int d = nd - 3; d >= 0; d--) { /* the plane's offset over dims [0, nd-2) */
      int64_t i = plane % it->shape[d];
      plane /= it->shape[d];
      for (int o = 0; o < nops; o++) base[o] += i * it->strides[o][d];
    }
    int64_t r0 = rt * TILE, nr = r0 + TILE < c->rows ? TILE : c->rows - r0;
    int64_t c0 = ct * TILE, nc = c0 + TILE < c->cols ? TILE : c->cols - c0;
    int nb = 0;
    char *tile[LZ_CPU_MAX_OPS];
    for (int o = 0; o < nops; o++) {
      base[o] += r0 * it->strides[o][nd - 2] + c0 * it->strides[o][nd - 1];
      if (!c->isz[o]) continue;
      tile[o] = nb < 2 ? bufs[nb++] : NULL;
      if (tile[o]) pack_tile(tile[o], base[o], c->isz[o], it->strides[o][nd - 1], nr, nc);
    }
    for (int64_t r = 0; r < nr; r++) {
      int64_t ss[LZ_CPU_MAX_OPS];
      for (int o = 0; o < nops; o++) {
        bool packed = c->isz[o] && tile[o];
        p[o] = packed ? tile[o] + r * TILE * c->isz[o] : base[o] + r * it->strides[o][nd - 2];
        ss[o] = packed ? s[o] : it->strides[o][nd - 1];
      }
      c->fn(c->ctx, nc, p, ss);
    }
  }
}

void lz_cpu_iter_for(const lz_cpu_iter *it, lz_cpu_inner_fn fn, void *ctx) {
  int64_t outer = lz_cpu_iter_outer(it), inner = lz_cpu_iter_inner(it);
  int64_t total = outer * inner;
  tile_ctx tc = {it, fn, ctx, 0, 0, 0, 0, {0}};
  if (plan_tiles(it, tc.isz)) {
    int nd = it->ndim;
    tc.rows = it->shape[nd - 2], tc.cols = it->shape[nd - 1];
    tc.row_tiles = (tc.rows + TILE - 1) / TILE, tc.col_tiles = (tc.cols + TILE - 1) / TILE;
    int64_t tiles = total / (tc.rows * tc.cols) * tc.row_tiles * tc.col_tiles;
    lz__parallel_for(tiles, GRAIN / (TILE * TILE), run_tiles, &tc);
    return;
  }
  bool split = total > GRAIN && lz__num_threads() > 1;
  /* An output with a zero stride (several runs writing one element) cannot be split. */
  for (int d = 0; split && d < it->ndim; d++) split = it->strides[0][d] != 0;
  if (!split) {
    lz_cpu_iter_run(it, 0, outer, fn, ctx);
    return;
  }
  par_ctx c = {it, fn, ctx, inner, total};
  lz__parallel_for((total + BLOCK - 1) / BLOCK, GRAIN / BLOCK, run_blocks, &c);
}

void lz_cpu_broadcast_strides(const lz_array *in, const lz_array *out, int64_t *strides) {
  int off = out->ndim - in->ndim;
  for (int d = 0; d < out->ndim; d++) {
    int di = d - off;
    strides[d] = (di < 0 || in->shape[di] == 1) ? 0 : in->strides[di];
  }
}

/* ---- copies ---- */

static void copy_inner(void *ctx, int64_t n, char **p, const int64_t *s) {
  size_t sz = *(const size_t *)ctx;
  if (s[0] == (int64_t)sz && s[1] == (int64_t)sz) {
    memcpy(p[0], p[1], (size_t)n * sz);
    return;
  }
  char *d = p[0], *src = p[1];
  switch (sz) {
#define C(T)                                                                                     \
  for (int64_t i = 0; i < n; i++, d += s[0], src += s[1]) *(T *)d = *(const T *)src;             \
  break;
  case 1: C(uint8_t)
  case 2: C(uint16_t)
  case 4: C(uint32_t)
  case 8: C(uint64_t)
#undef C
  default:
    for (int64_t i = 0; i < n; i++, d += s[0], src += s[1]) memcpy(d, src, sz);
  }
}

void lz__copy_to_contiguous(void *dst, const lz_array *src) {
  size_t sz = lz_dtype_size(src->dtype);
  if (src->size == 0) return;
  int64_t cstr[LZ_MAX_NDIM];
  int64_t s = 1;
  for (int d = src->ndim - 1; d >= 0; d--) cstr[d] = s, s *= src->shape[d];
  char *base[2] = {dst, lz__data_ptr(src)};
  const int64_t *strides[2] = {cstr, src->strides};
  size_t sizes[2] = {sz, sz};
  lz_cpu_iter it;
  lz_cpu_iter_init(&it, src->ndim, src->shape, 2, base, strides, sizes);
  lz_cpu_iter_for(&it, copy_inner, &sz);
}
