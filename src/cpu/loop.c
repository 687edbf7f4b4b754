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

void lz_cpu_iter_for(const lz_cpu_iter *it, lz_cpu_inner_fn fn, void *ctx) {
  int64_t outer = lz_cpu_iter_outer(it), inner = lz_cpu_iter_inner(it);
  int64_t total = outer * inner;
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
