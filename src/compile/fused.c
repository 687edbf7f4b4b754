/* The fused kernel: a tiled interpreter. A fused node's program is a list of steps, each an
 * existing typed inner loop of src/cpu/ (the unary and binary loop tables, casts, where). The
 * kernel walks the iteration space in tiles of TILE elements; for each tile it runs every step,
 * reading the node's inputs in place (any strides, broadcast included) and keeping intermediates
 * in a few tile-sized registers that stay in L1/L2, so memory is read and written once. A
 * trailing reduction consumes each tile as it is made (sum, mean, max, min) or a whole lane
 * kept in cache (logsumexp, softmax, var, std). Work is split across threads by rows or by
 * chunks of a row with lz__parallel_for.
 *
 * A program with a matmul prologue (the GEMM epilogue) runs by blocks of rows of the product:
 * each thread computes one block A[rows] @ B into its own buffer (a one-thread GEMM), then runs
 * the steps over those rows while the block is still in cache, so the product is never written
 * to memory whole and read back.
 *
 * Also here: the placeholder op (the inputs of a trace). */
#include <math.h>
#include <stdlib.h>

#include "compile/compile_impl.h"
#include "core/threads.h"
#include "cpu/binary.h"
#include "cpu/gemm.h"
#include "cpu/linalg_pack.h"
#include "cpu/unary.h"

enum { TILE = 1024, REG_BYTES = TILE * 8, CHUNK = 1 << 16, SERIAL_WORK = 1 << 15 };

/* ---- programs ---- */

void fz_prog_retain(fz_prog *p) {
  if (p) atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}

void fz_prog_release(fz_prog *p) {
  if (!p || atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1) return;
  for (int s = 0; s < p->nsteps; s++) free(p->steps[s].ctx);
  free(p);
}

bool fz_step_supported(int op, const lz_dtype *in_dts, int nin, lz_dtype out_dt, fz_step *st) {
  const lz_op_def *def = lz__op(op);
  if (lz_dtype_size(out_dt) > 8) return false;
  if (op == LZ_OP_ASTYPE && nin == 1) {
    st->kind = FZ_CAST, st->fn = NULL;
    return true;
  }
  if (op == LZ_OP_WHERE && nin == 3) {
    size_t sz = lz_dtype_size(out_dt);
    st->kind = FZ_WHERE, st->fn = NULL;
    return in_dts[0] == LZ_BOOL && (sz == 1 || sz == 2 || sz == 4 || sz == 8);
  }
  if ((def->cpu == lz_cpu_unary && nin == 1) || (def->cpu == lz_cpu_binary && nin == 2)) {
    const lz_cpu_inner_fn *loops = def->impl;
    if (!loops || !loops[in_dts[0]]) return false;
    st->kind = FZ_LOOP, st->fn = loops[in_dts[0]];
    return true;
  }
  return false;
}

/* ---- one kernel call ---- */

/* The matmul prologue of one call: A's rows are the iteration's rows (its batch dims folded
 * into them), element (i,k) at A[i*ars + k*acs] and B's (k,j) at B[k*brs + j*bcs]. */
typedef struct fz_mm {
  lz_dtype dt;
  size_t isz;
  const char *A, *B;
  int64_t ars, acs, brs, bcs;
  bool ta, tb;       /* float32: the BLAS layout of A and B, with leading dimensions lda, ldb */
  int64_t lda, ldb;
  int64_t K, N, blk; /* blk: rows (or columns, by_cols) per block */
  bool by_cols;
  void *pack[2];     /* contiguous copies of A or B that BLAS could not read in place */
  size_t cap[2];
} fz_mm;

typedef struct fz_run {
  const fz_prog *p;
  int nops, ndim, nouter, lnd;
  int64_t shape[LZ_MAX_NDIM];
  char *base[FZ_MAX_OPERANDS];
  int64_t str[FZ_MAX_OPERANDS][LZ_MAX_NDIM]; /* bytes, over the iteration shape */
  int64_t lshape[LZ_MAX_NDIM];               /* the lane dims, collapsed */
  int64_t lstr[FZ_MAX_OPERANDS][LZ_MAX_NDIM];
  int64_t rows, len, nchunks;
  char *red_out;
  size_t csize;
  double *partial;
  fz_mm *mm;
  atomic_bool oom;
} fz_run;

static void row_base(const fz_run *R, int64_t row, char **p) {
  for (int o = 0; o < R->nops; o++) p[o] = R->base[o];
  for (int d = R->nouter - 1; d >= 0; d--) {
    int64_t i = row % R->shape[d];
    row /= R->shape[d];
    for (int o = 0; o < R->nops; o++) p[o] += i * R->str[o][d];
  }
}

static void cast_step(const fz_step *st, int64_t n, char **pp, const int64_t *ss, char *tmp) {
  const char *x = pp[1];
  size_t isz = st->isz[1];
  if (ss[1] != (int64_t)isz) {
    for (int64_t i = 0; i < n; i++) memcpy(tmp + i * (int64_t)isz, pp[1] + i * ss[1], isz);
    x = tmp;
  }
  lz__convert(pp[0], st->dt_out, x, st->dt_in, n);
}

#define WHERE_T(T)                                                                               \
  {                                                                                              \
    T *o = (T *)pp[0];                                                                           \
    const char *c = pp[1], *x = pp[2], *y = pp[3];                                               \
    for (int64_t i = 0; i < n; i++, c += ss[1], x += ss[2], y += ss[3])                          \
      o[i] = *(const uint8_t *)c ? *(const T *)x : *(const T *)y;                                \
  }                                                                                              \
  break;

static void where_step(const fz_step *st, int64_t n, char **pp, const int64_t *ss) {
  switch (st->isz[0]) {
  case 1: WHERE_T(uint8_t)
  case 2: WHERE_T(uint16_t)
  case 4: WHERE_T(uint32_t)
  default: WHERE_T(uint64_t)
  }
}

static void copy_step(const fz_step *st, int64_t n, char **pp, const int64_t *ss) {
  size_t sz = st->isz[0];
  if (ss[1] == (int64_t)sz) {
    memcpy(pp[0], pp[1], (size_t)n * sz);
    return;
  }
  for (int64_t i = 0; i < n; i++) memcpy(pp[0] + i * (int64_t)sz, pp[1] + i * ss[1], sz);
}

void fz_exec_step(const fz_step *st, int64_t n, char **pp, const int64_t *ss, char *tmp) {
  switch (st->kind) {
  case FZ_LOOP: st->fn(st->ctx, n, pp, ss); break;
  case FZ_CAST: cast_step(st, n, pp, ss, tmp); break;
  case FZ_WHERE: where_step(st, n, pp, ss); break;
  default: copy_step(st, n, pp, ss); break;
  }
}

/* Per-thread state of a worker. */
typedef struct fz_local {
  char *regs;     /* nregs tiles */
  char *tmp;      /* two tiles */
  char *lane;     /* the stored lane (two-pass reductions) */
  char *mm_blk;   /* the product's block: rows mm_r0.., columns mm_c0.. (matmul prologue) */
  int64_t mm_r0, mm_c0, mm_ld; /* mm_ld: the block's row stride in bytes */
  double acc;
  bool nan;
} fz_local;

static inline char *loc_ptr(const fz_local *L, fz_loc l, char *const *p, const int64_t *s,
                            int64_t t, int64_t lanepos, size_t isz, int64_t *stride) {
  switch (l.kind) {
  case FZ_OPND: *stride = s[l.idx]; return p[l.idx] + t * s[l.idx];
  case FZ_REG: *stride = (int64_t)isz; return L->regs + (size_t)l.idx * REG_BYTES;
  default: *stride = (int64_t)isz; return L->lane + (lanepos + t) * (int64_t)isz;
  }
}

/* Folds n values of the one-pass reduction into L. */
static void fold(const fz_prog *P, fz_local *L, const char *x, int64_t s, int64_t n) {
  bool f32 = P->red_dt == LZ_FLOAT32;
  if (P->red == FZ_RED_SUM || P->red == FZ_RED_MEAN) {
    if (f32 && s == 4) {
      const float *v = (const float *)x;
      float a[8] = {0};
      int64_t i = 0;
      for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) a[k] += v[i + k];
      double t = 0;
      for (int k = 0; k < 8; k++) t += a[k];
      for (; i < n; i++) t += v[i];
      L->acc += t;
    } else {
      double t = 0;
      for (int64_t i = 0; i < n; i++, x += s) t += f32 ? *(const float *)x : *(const double *)x;
      L->acc += t;
    }
    return;
  }
  bool mx = P->red == FZ_RED_MAX;
  double m = L->acc;
  for (int64_t i = 0; i < n; i++, x += s) {
    double v = f32 ? *(const float *)x : *(const double *)x;
    if (v != v) L->nan = true;
    else m = mx ? (v > m ? v : m) : (v < m ? v : m);
  }
  L->acc = m;
}

/* Runs the program over lane elements [e0, e1) of row `row`. */
static void run_range(const fz_run *R, fz_local *L, int64_t row, int64_t e0, int64_t e1) {
  const fz_prog *P = R->p;
  char *rb[FZ_MAX_OPERANDS], *p[FZ_MAX_OPERANDS];
  int64_t s[FZ_MAX_OPERANDS];
  row_base(R, row, rb);
  if (R->mm) rb[P->nel] = L->mm_blk + (row - L->mm_r0) * L->mm_ld;
  int lnd = R->lnd;
  int64_t inner = R->lshape[lnd - 1];
  for (int o = 0; o < R->nops; o++) s[o] = R->lstr[o][lnd - 1];
  int64_t e = e0;
  while (e < e1) {
    int64_t run = e / inner, off = e % inner;
    int64_t m = inner - off < e1 - e ? inner - off : e1 - e;
    for (int o = 0; o < R->nops; o++) p[o] = rb[o] + off * s[o];
    if (R->mm) p[P->nel] = rb[P->nel] + (off - L->mm_c0) * s[P->nel];
    for (int d = lnd - 2; d >= 0; d--) {
      int64_t i = run % R->lshape[d];
      run /= R->lshape[d];
      for (int o = 0; o < R->nops; o++) p[o] += i * R->lstr[o][d];
    }
    for (int64_t t = 0; t < m; t += TILE) {
      int64_t n = m - t < TILE ? m - t : TILE;
      for (int k = 0; k < P->nsteps; k++) {
        const fz_step *st = &P->steps[k];
        char *pp[4];
        int64_t ss[4];
        pp[0] = loc_ptr(L, st->out, p, s, t, e, st->isz[0], &ss[0]);
        for (int j = 0; j < st->nin; j++)
          pp[j + 1] = loc_ptr(L, st->in[j], p, s, t, e, st->isz[j + 1], &ss[j + 1]);
        fz_exec_step(st, n, pp, ss, L->tmp);
      }
      if (P->red != FZ_RED_NONE && P->red < FZ_RED_LSE) {
        int64_t rs;
        char *x = loc_ptr(L, P->red_in, p, s, t, e, R->csize, &rs);
        fold(P, L, x, rs, n);
      }
    }
    e += m;
  }
}

/* exp of n contiguous values in place (the vector version for float32 when the CPU has it). */
static void exp_inplace(lz_dtype dt, char *v, int64_t n) {
  if (dt == LZ_FLOAT32) {
    lz_cpu_vec_fn vf = lz_cpu_vec_unary(LZ_VEC_EXP);
    float *f = (float *)v;
    if (vf) vf(f, f, n);
    else
      for (int64_t i = 0; i < n; i++) f[i] = expf(f[i]);
  } else {
    double *d = (double *)v;
    for (int64_t i = 0; i < n; i++) d[i] = exp(d[i]);
  }
}

static inline double ld(lz_dtype dt, const char *v, int64_t i) {
  return dt == LZ_FLOAT32 ? ((const float *)v)[i] : ((const double *)v)[i];
}

/* The two-pass reductions of one stored lane (n values); softmax rewrites it in place. */
static double finish_lane(const fz_prog *P, fz_local *L, char *v, int64_t n) {
  lz_dtype dt = P->red_dt;
  if (P->red == FZ_RED_VAR || P->red == FZ_RED_STD) {
    double s = 0, ssd = 0;
    for (int64_t i = 0; i < n; i++) s += ld(dt, v, i);
    double mean = n ? s / (double)n : NAN;
    for (int64_t i = 0; i < n; i++) {
      double d = ld(dt, v, i) - mean;
      ssd += d * d;
    }
    double d = (double)n - P->ddof, r = d > 0 ? ssd / d : ssd > 0 ? INFINITY : NAN;
    return P->red == FZ_RED_STD ? sqrt(r) : r;
  }
  double m = -INFINITY;
  bool nan = false;
  for (int64_t i = 0; i < n; i++) {
    double x = ld(dt, v, i);
    nan |= x != x;
    m = x > m ? x : m;
  }
  if (P->red == FZ_RED_LSE) {
    if (nan) return NAN;
    if (isinf(m)) return m;
    double s = 0;
    for (int64_t i = 0; i < n; i += TILE) {
      int64_t k = n - i < TILE ? n - i : TILE;
      if (dt == LZ_FLOAT32) {
        float *t = (float *)L->tmp;
        for (int64_t j = 0; j < k; j++) t[j] = ((const float *)v)[i + j] - (float)m;
      } else {
        double *t = (double *)L->tmp;
        for (int64_t j = 0; j < k; j++) t[j] = ((const double *)v)[i + j] - m;
      }
      exp_inplace(dt, L->tmp, k);
      for (int64_t j = 0; j < k; j++) s += ld(dt, L->tmp, j);
    }
    return m + log(s);
  }
  /* softmax, as the unfused kernel does it: NaN anywhere gives NaN; all -inf gives NaN */
  if (nan) m = NAN;
  else if (isinf(m)) m = m > 0 ? m : 0;
  if (dt == LZ_FLOAT32) {
    float *f = (float *)v, mf = (float)m, s = 0;
    for (int64_t i = 0; i < n; i++) f[i] -= mf;
    exp_inplace(dt, v, n);
    for (int64_t i = 0; i < n; i++) s += f[i];
    float r = 1.0f / s;
    for (int64_t i = 0; i < n; i++) f[i] *= r;
  } else {
    double *d = (double *)v, s = 0;
    for (int64_t i = 0; i < n; i++) d[i] -= m;
    exp_inplace(dt, v, n);
    for (int64_t i = 0; i < n; i++) s += d[i];
    double r = 1.0 / s;
    for (int64_t i = 0; i < n; i++) d[i] *= r;
  }
  return 0;
}

static void store_red(const fz_run *R, int64_t row, double v) {
  if (R->p->red_dt == LZ_FLOAT32) ((float *)R->red_out)[row] = (float)v;
  else ((double *)R->red_out)[row] = v;
}

static bool local_init(fz_run *R, fz_local *L, int64_t lane_len) {
  const fz_prog *P = R->p;
  size_t bytes = (size_t)(P->nregs + 2) * REG_BYTES + (size_t)lane_len * R->csize;
  char *m = malloc(bytes ? bytes : 1);
  if (!m) {
    atomic_store(&R->oom, true);
    return false;
  }
  L->regs = m;
  L->tmp = m + (size_t)P->nregs * REG_BYTES;
  L->lane = L->tmp + 2 * REG_BYTES;
  return true;
}

static void init_acc(const fz_prog *P, fz_local *L) {
  L->acc = P->red == FZ_RED_MAX ? -INFINITY : P->red == FZ_RED_MIN ? INFINITY : 0;
  L->nan = false;
}

/* Rows one at a time, each lane stored (two-pass reductions). */
static void rows_worker(void *ctx, int64_t begin, int64_t end) {
  fz_run *R = ctx;
  const fz_prog *P = R->p;
  bool in_out = P->red == FZ_RED_SOFTMAX; /* softmax builds its lane in the output row */
  fz_local L;
  if (!local_init(R, &L, in_out ? 0 : R->len)) return;
  char *own = L.lane;
  for (int64_t r = begin; r < end; r++) {
    if (in_out) L.lane = R->red_out + r * R->len * (int64_t)R->csize;
    run_range(R, &L, r, 0, R->len);
    double v = finish_lane(P, &L, L.lane, R->len);
    if (!in_out) store_red(R, r, v);
  }
  L.lane = own;
  free(L.regs);
}

/* Chunks of rows (one-pass reductions and plain elementwise programs). */
static void chunks_worker(void *ctx, int64_t begin, int64_t end) {
  fz_run *R = ctx;
  fz_local L;
  if (!local_init(R, &L, 0)) return;
  for (int64_t it = begin; it < end; it++) {
    int64_t row = it / R->nchunks, c = it % R->nchunks;
    int64_t e0 = c * CHUNK, e1 = e0 + CHUNK < R->len ? e0 + CHUNK : R->len;
    init_acc(R->p, &L);
    run_range(R, &L, row, e0, e1);
    if (R->partial) R->partial[it] = L.nan ? NAN : L.acc;
  }
  free(L.regs);
}

static void finish_rows(const fz_run *R) {
  const fz_prog *P = R->p;
  for (int64_t r = 0; r < R->rows; r++) {
    const double *q = R->partial + r * R->nchunks;
    double v = P->red == FZ_RED_MAX ? -INFINITY : P->red == FZ_RED_MIN ? INFINITY : 0;
    bool nan = false;
    for (int64_t c = 0; c < R->nchunks; c++) {
      if (q[c] != q[c]) nan = true;
      else if (P->red == FZ_RED_MAX) v = q[c] > v ? q[c] : v;
      else if (P->red == FZ_RED_MIN) v = q[c] < v ? q[c] : v;
      else v += q[c];
    }
    if (P->red == FZ_RED_MEAN) v = R->len ? v / (double)R->len : NAN;
    store_red(R, r, nan ? NAN : v);
  }
}

/* Sets up the operands over the iteration shape and the lane's collapsed dims. */
static int setup(fz_run *R, lz_node *node, lz_array **outs) {
  const fz_prog *P = R->p;
  int nd = P->ndim;
  R->ndim = nd;
  for (int d = 0; d < nd; d++) R->shape[d] = 1;
  for (int i = 0; i < node->ninputs; i++) { /* the iteration shape: inputs broadcast */
    const lz_array *x = node->inputs[i];
    if (x->ndim > nd) return lz__error(LZ_ERROR_INTERNAL, "lz_compile", "fused input rank");
    for (int d = 0; d < x->ndim; d++) {
      int64_t v = x->shape[d], *s = &R->shape[nd - x->ndim + d];
      if (v != 1 && *s != 1 && *s != v)
        return lz__error(LZ_ERROR_SHAPE, "lz_compile", "fused inputs do not broadcast");
      if (v != 1) *s = v;
    }
  }
  R->nops = P->nel + node->ninputs;
  for (int o = 0; o < R->nops; o++) {
    const lz_array *x = o < P->nel ? outs[o] : node->inputs[o - P->nel];
    int64_t isz = (int64_t)lz_dtype_size(x->dtype);
    R->base[o] = lz__data_ptr(x);
    for (int d = 0; d < nd; d++) {
      int di = d - (nd - x->ndim);
      R->str[o][d] = di < 0 || x->shape[di] == 1 ? 0 : x->strides[di] * isz;
    }
  }
  int nlane = P->red == FZ_RED_NONE ? nd : P->naxes;
  R->nouter = nd - nlane;
  R->rows = 1, R->len = 1;
  for (int d = 0; d < R->nouter; d++) R->rows *= R->shape[d];
  int ln = 0;
  for (int d = R->nouter; d < nd; d++) {
    R->len *= R->shape[d];
    if (R->shape[d] == 1) continue;
    bool merge = ln > 0;
    for (int o = 0; o < R->nops && merge; o++)
      merge = R->lstr[o][ln - 1] == R->str[o][d] * R->shape[d];
    if (merge) {
      R->lshape[ln - 1] *= R->shape[d];
      for (int o = 0; o < R->nops; o++) R->lstr[o][ln - 1] = R->str[o][d];
      continue;
    }
    R->lshape[ln] = R->shape[d];
    for (int o = 0; o < R->nops; o++) R->lstr[o][ln] = R->str[o][d];
    ln++;
  }
  if (ln == 0) {
    R->lshape[0] = 1;
    for (int o = 0; o < R->nops; o++) R->lstr[o][0] = 0;
    ln = 1;
  }
  R->lnd = ln;
  return 0;
}

/* ---- the matmul prologue ---- */

/* Rows of A's leading dims (all but the last) as one stride: false when they do not fold. */
static bool fold_rows(const lz_array *a, int64_t *rs) {
  bool have = false;
  int64_t expect = 0;
  *rs = a->shape[a->ndim - 1] > 0 ? a->shape[a->ndim - 1] : 1;
  for (int d = a->ndim - 2; d >= 0; d--) {
    if (a->shape[d] == 1) continue;
    if (!have) *rs = a->strides[d], expect = *rs * a->shape[d], have = true;
    else if (a->strides[d] != expect) return false;
    else expect *= a->shape[d];
  }
  return true;
}

/* How BLAS reads a (rows, cols) float32 matrix with element strides (rs, cs): row-major with
 * leading dimension ld, or transposed; false when neither. */
static bool blas_view(int64_t rows, int64_t cols, int64_t rs, int64_t cs, bool *t, int64_t *ld) {
  if ((cols == 1 || cs == 1) && (rows == 1 || rs >= cols)) {
    *t = false, *ld = rows == 1 ? cols : rs;
    return true;
  }
  if ((rows == 1 || rs == 1) && (cols == 1 || cs >= rows)) {
    *t = true, *ld = cols == 1 ? rows : cs;
    return true;
  }
  return false;
}

/* A contiguous copy of x (the caller frees M->pack[i]); NULL with an error recorded. */
static const char *mm_pack(fz_mm *M, int i, const lz_array *x) {
  M->pack[i] = lz_cpu_scratch((size_t)x->size * M->isz, &M->cap[i], "lz_compile");
  if (M->pack[i]) lz_cpu_pack(M->pack[i], M->dt, x);
  return M->pack[i];
}

/* Operands, shape and layout of a program with a matmul prologue: inputs (x..., A, B), operand
 * nel the product (its pointer set per row by run_range), the lane the last dim. */
static int mm_setup(fz_run *R, fz_mm *M, lz_node *node, lz_array **outs) {
  const fz_prog *P = R->p;
  int nd = P->ndim, nx = node->ninputs - 2;
  const lz_array *a = node->inputs[nx], *b = node->inputs[nx + 1];
  if (nx < 0 || a->ndim != nd || b->ndim != 2 || a->shape[nd - 1] != b->shape[0] ||
      a->dtype != b->dtype)
    return lz__error(LZ_ERROR_INTERNAL, "lz_compile", "fused matmul operands");
  M->dt = a->dtype, M->isz = lz_dtype_size(a->dtype);
  M->K = b->shape[0], M->N = b->shape[1];
  R->ndim = nd;
  for (int d = 0; d < nd - 1; d++) R->shape[d] = a->shape[d];
  R->shape[nd - 1] = M->N;
  for (int i = 0; i < nx; i++) {
    const lz_array *x = node->inputs[i];
    if (x->ndim > nd) return lz__error(LZ_ERROR_INTERNAL, "lz_compile", "fused input rank");
    for (int d = 0; d < x->ndim; d++) {
      int64_t v = x->shape[d];
      if (v != 1 && v != R->shape[nd - x->ndim + d])
        return lz__error(LZ_ERROR_SHAPE, "lz_compile", "fused inputs do not broadcast");
    }
  }
  R->nops = P->nel + 1 + nx;
  for (int o = 0; o < R->nops; o++) {
    const lz_array *x = o < P->nel ? outs[o] : o == P->nel ? NULL : node->inputs[o - P->nel - 1];
    int64_t isz = x ? (int64_t)lz_dtype_size(x->dtype) : (int64_t)M->isz;
    R->base[o] = x ? lz__data_ptr(x) : NULL;
    for (int d = 0; d < nd; d++) {
      int di = d - (nd - (x ? x->ndim : nd));
      R->str[o][d] = !x ? (d == nd - 1 ? isz : 0)
                        : di < 0 || x->shape[di] == 1 ? 0 : x->strides[di] * isz;
    }
    R->lstr[o][0] = R->str[o][nd - 1];
  }
  R->nouter = nd - 1, R->lnd = 1, R->lshape[0] = M->N, R->len = M->N, R->rows = 1;
  for (int d = 0; d < nd - 1; d++) R->rows *= R->shape[d];
  /* A by rows (its batch folded), B as stored; a copy where BLAS cannot read them in place */
  int64_t rows = R->rows, K = M->K, N = M->N;
  M->A = lz__data_ptr(a), M->acs = a->strides[nd - 1];
  bool f32 = M->dt == LZ_FLOAT32;
  if (!fold_rows(a, &M->ars) || (f32 && !blas_view(rows, K, M->ars, M->acs, &M->ta, &M->lda))) {
    if (!(M->A = mm_pack(M, 0, a))) return -1;
    M->ars = K, M->acs = 1, M->ta = false, M->lda = K > 0 ? K : 1;
  }
  M->B = lz__data_ptr(b), M->brs = b->strides[0], M->bcs = b->strides[1];
  if (f32 && !blas_view(K, N, M->brs, M->bcs, &M->tb, &M->ldb)) {
    if (!(M->B = mm_pack(M, 1, b))) return -1;
    M->brs = N, M->bcs = 1, M->tb = false, M->ldb = N;
  }
  /* Why big blocks (about two per thread, cut as lz_cpu_gemm_split cuts a plain product): each
   * block is one GEMM call, and BLAS packs the whole of the operand that is not cut (B for
   * blocks of rows) in every call: blocks of 64 rows (a product of 256 KB, L2-sized) made the
   * 2048x256 @ 256x1024 product + epilogue 15% slower than unfused from that repacking alone
   * (measured, one thread), two blocks per thread cost what the plain product costs. A block
   * then waits in L3 (32 MB here) for its epilogue, never in memory. Blocks of columns when the
   * product is wide (weight gradients: 256x2048 @ 2048x768), so the smaller operand repacks. */
  int64_t nth = lz__num_threads();
  M->by_cols = N > rows;
  int64_t big = M->by_cols ? N : rows, blk = (big + 2 * nth - 1) / (2 * nth);
  blk = blk < 16 ? 16 : (blk + 15) / 16 * 16;
  M->blk = blk;
  return 0;
}

/* The product's rows r0..r0+nr, columns c0..c0+nc into C (nr x nc, row-major). 0, or -1 out
 * of scratch memory. */
static int mm_block(const fz_mm *M, int64_t r0, int64_t nr, int64_t c0, int64_t nc, char *C) {
  if (M->K == 0) {
    memset(C, 0, (size_t)(nr * nc) * M->isz);
    return 0;
  }
  const char *A = M->A + r0 * M->ars * (int64_t)M->isz;
  const char *B = M->B + c0 * M->bcs * (int64_t)M->isz;
  if (M->dt != LZ_FLOAT32)
    return lz_cpu_gemm_half(M->dt, nr, nc, M->K, 1.0f, A, M->ars, M->acs, B, M->brs, M->bcs, C,
                            nc);
  lz_cpu_gemm_block(M->ta, M->tb, nr, nc, M->K, (const float *)A, M->lda, (const float *)B,
                    M->ldb, (float *)C, nc);
  return 0;
}

static void mm_worker(void *ctx, int64_t begin, int64_t end) {
  fz_run *R = ctx;
  const fz_mm *M = R->mm;
  fz_local L;
  if (!local_init(R, &L, 0)) return;
  size_t cap = 0;
  L.mm_blk = lz__data_alloc((size_t)(M->blk * (M->by_cols ? R->rows : M->N)) * M->isz, &cap);
  bool ok = L.mm_blk != NULL;
  for (int64_t b = begin; b < end && ok; b++) {
    int64_t r0 = 0, r1 = R->rows, c0 = 0, c1 = M->N, i0 = b * M->blk;
    if (M->by_cols) c0 = i0, c1 = i0 + M->blk < c1 ? i0 + M->blk : c1;
    else r0 = i0, r1 = i0 + M->blk < r1 ? i0 + M->blk : r1;
    ok = mm_block(M, r0, r1 - r0, c0, c1 - c0, L.mm_blk) == 0;
    L.mm_r0 = r0, L.mm_c0 = c0, L.mm_ld = (c1 - c0) * (int64_t)M->isz;
    for (int64_t r = r0; r < r1 && ok; r++) run_range(R, &L, r, c0, c1);
  }
  if (!ok) atomic_store(&R->oom, true);
  if (L.mm_blk) lz__data_free(L.mm_blk, cap);
  free(L.regs);
}

static int mm_run(fz_run *R, lz_node *node, lz_array **outs) {
  fz_mm M;
  memset(&M, 0, sizeof M);
  R->mm = &M;
  int rc = mm_setup(R, &M, node, outs);
  if (rc == 0 && R->rows > 0 && R->len > 0) {
    int64_t nblk = ((M.by_cols ? M.N : R->rows) + M.blk - 1) / M.blk;
    int64_t work = M.blk * (M.by_cols ? R->rows : M.N) * (M.K > 0 ? M.K : 1); /* per block */
    int64_t grain = work >= (1 << 20) ? 1 : (1 << 20) / work;
    lz__parallel_for(nblk, grain, mm_worker, R);
    if (atomic_load(&R->oom)) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory");
  }
  for (int i = 0; i < 2; i++)
    if (M.pack[i]) lz_cpu_scratch_free(M.pack[i], M.cap[i]);
  return rc;
}

static int fused_cpu(lz_node *node, lz_array **outs) {
  const fz_prog *P = ((const lz_fused_params *)node->params)->prog;
  for (int k = 0; k < node->noutputs; k++)
    if (lz__alloc_output(outs[k], "lz_compile") != 0) return -1;
  if (P->rowwise) return fz_rows_run(P, node, outs);
  fz_run *R = calloc(1, sizeof *R);
  if (!R) return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory");
  R->p = P;
  atomic_init(&R->oom, false);
  if (P->mm) {
    int rc = mm_run(R, node, outs);
    free(R);
    return rc;
  }
  int rc = setup(R, node, outs);
  if (rc == 0 && P->red != FZ_RED_NONE) {
    R->red_out = lz__data_ptr(outs[P->nel]);
    R->csize = lz_dtype_size(P->red_dt);
    if (R->len == 0 && R->rows > 0 && (P->red == FZ_RED_MAX || P->red == FZ_RED_MIN ||
                                       P->red == FZ_RED_LSE))
      rc = lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_compile", "cannot reduce a zero-size axis");
  }
  if (rc == 0 && R->rows > 0) {
    if (P->red >= FZ_RED_LSE) {
      int64_t grain = SERIAL_WORK / (R->len + 1) + 1;
      lz__parallel_for(R->rows, grain, rows_worker, R);
    } else {
      R->nchunks = R->len > CHUNK ? (R->len + CHUNK - 1) / CHUNK : 1;
      int64_t items = R->rows * R->nchunks, per = R->len < CHUNK ? R->len : CHUNK;
      if (P->red != FZ_RED_NONE && !(R->partial = malloc((size_t)items * sizeof(double))))
        atomic_store(&R->oom, true);
      else if (R->len > 0 || P->red != FZ_RED_NONE)
        lz__parallel_for(items, SERIAL_WORK / (per + 1) + 1, chunks_worker, R);
      if (R->partial && !atomic_load(&R->oom)) finish_rows(R);
      free(R->partial);
    }
    if (atomic_load(&R->oom)) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory");
  }
  free(R);
  return rc;
}

static void fused_params_free(void *params) { fz_prog_release(((lz_fused_params *)params)->prog); }

static void fused_params_print(const void *params, char *buf, size_t cap) {
  fz_prog_describe(((const lz_fused_params *)params)->prog, buf, cap);
}

const lz_op_def lz_opdef_fused = {
    .name = "fused",
    .params_size = sizeof(lz_fused_params),
    .cpu = fused_cpu,
    .params_print = fused_params_print,
    .params_free = fused_params_free,
};

/* ---- placeholders ---- */

static int placeholder_cpu(lz_node *node, lz_array **outs) {
  const lz_placeholder_params *p = node->params;
  (void)outs;
  if (p->index < p->nexplicit)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_compile",
                     "the traced function read the data of input %d (an implicit evaluation "
                     "inside compile)", p->index);
  return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_compile",
                   "the traced function read the data of state entry %d (an implicit "
                   "evaluation inside compile)", p->index - p->nexplicit);
}

const lz_op_def lz_opdef_placeholder = {
    .name = "placeholder",
    .flags = LZ_OPF_NO_CSE,
    .params_size = sizeof(lz_placeholder_params),
    .cpu = placeholder_cpu,
};
