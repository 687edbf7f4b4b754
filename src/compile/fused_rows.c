/* Row mode of the fused kernel (see fuse.c's row groups): the program's steps run one row (the
 * last axis of the iteration shape) at a time. The steps are cut into segments at the points
 * where a step needs a reduction of the row that is not finished yet; a segment runs tile by
 * tile (TILE elements of the row through all its steps, so its intermediates stay in L1),
 * reading the node's inputs in place and folding its sums, means, maxima and minima tile by
 * tile with the float32 row kernels of cpu/reduce_simd.c (other dtypes through a float32 or
 * float64 copy, as the unfused reductions). Values a later segment needs stay in row-long
 * registers; var and std, which need their whole input twice, run alone over the stored row.
 * Steps over per-row values run once per row on one element. The row and its registers stay in
 * L1/L2 between segments, so the input is read from memory once and each output written once,
 * however many reductions the row needs. Threads split the rows. */
#include <math.h>
#include <stdlib.h>

#include "compile/compile_impl.h"
#include "core/isa.h"
#include "core/threads.h"
#include "cpu/reduce.h"
#include "cpu/reduce_simd.h"

enum { SERIAL_WORK = 1 << 15, SLOT = 8, TILE = 1024 /* a multiple of LZ_RED_BLOCK */ };

/* A run of steps executed together: tile by tile, or (whole) once over the stored row. */
typedef struct rw_seg {
  int first, last;
  bool whole;
} rw_seg;

typedef struct rw_run {
  const fz_prog *p;
  const lz_red_kernels *K;
  int nops, nd;
  int64_t shape[LZ_MAX_NDIM];
  char *base[FZ_MAX_OPERANDS];
  int64_t str[FZ_MAX_OPERANDS][LZ_MAX_NDIM]; /* bytes, over the iteration shape */
  int64_t rows, len;
  int nsegs;
  rw_seg segs[FZ_MAX_STEPS];
  bool local[FZ_MAX_STEPS + 1]; /* registers whose values live within one tiled segment */
  atomic_bool oom;
} rw_run;

static bool foldable(const fz_step *st) {
  return st->kind == FZ_REDUCE && st->op != LZ_OP_VAR && st->op != LZ_OP_STD;
}

static bool same_loc(fz_loc a, fz_loc b) { return a.kind == b.kind && a.idx == b.idx; }

/* Cuts the program into segments: a segment ends before a step that reads what one of its
 * folded reductions makes (a per-row step so cut starts the next one), and var/std run alone. */
static void rw_segments(rw_run *R) {
  const fz_prog *P = R->p;
  int k = 0;
  R->nsegs = 0;
  while (k < P->nsteps) {
    rw_seg *g = &R->segs[R->nsegs++];
    g->first = k, g->whole = false;
    const fz_step *st = &P->steps[k];
    if (st->kind == FZ_REDUCE && !foldable(st)) {
      g->last = ++k, g->whole = true;
      continue;
    }
    fz_loc pend[FZ_MAX_STEPS];
    int np = 0;
    for (; k < P->nsteps; k++) {
      st = &P->steps[k];
      bool reads = false;
      for (int j = 0; j < st->nin && !reads; j++)
        for (int q = 0; q < np && !reads; q++) reads = same_loc(st->in[j], pend[q]);
      if (reads || (st->kind == FZ_REDUCE && !foldable(st))) break;
      if (foldable(st)) pend[np++] = st->out;
    }
    g->last = k;
  }
  /* a register is tile-local when each value it holds is read only in the tiled segment that
   * made it: it then needs one tile, reused tile after tile, not a row (fewer lines in L1) */
  int seg_of[FZ_MAX_STEPS];
  for (int g = 0; g < R->nsegs; g++)
    for (int q = R->segs[g].first; q < R->segs[g].last; q++) seg_of[q] = R->segs[g].whole ? -1 : g;
  for (int r = 0; r < P->nregs; r++) R->local[r] = true;
  for (int q = 0; q < P->nsteps; q++) {
    const fz_step *w = &P->steps[q];
    if (w->out.kind != FZ_REG) continue;
    bool ok = seg_of[q] >= 0;
    for (int j = q + 1; j < P->nsteps && ok; j++) {
      const fz_step *u = &P->steps[j];
      for (int i = 0; i < u->nin && ok; i++)
        if (same_loc(u->in[i], w->out)) ok = seg_of[j] == seg_of[q];
      if (u->has_mean && same_loc(u->mean, w->out)) ok = false;
      if (same_loc(u->out, w->out)) break; /* the next value of the register */
    }
    if (!ok) R->local[w->out.idx] = false;
  }
}

/* The iteration shape (inputs and outputs broadcast, per-row values without their last axis
 * aligned as if they had a trailing 1) and every operand's strides over it. */
static int rw_setup(rw_run *R, lz_node *node, lz_array **outs) {
  const fz_prog *P = R->p;
  int nd = P->ndim;
  R->nd = nd;
  R->nops = P->nel + node->ninputs;
  for (int d = 0; d < nd; d++) R->shape[d] = P->fixed_shape ? P->shape[d] : 1;
  for (int o = 0; o < R->nops; o++) {
    const lz_array *x = o < P->nel ? outs[o] : node->inputs[o - P->nel];
    int xnd = x->ndim + (P->frame[o] == FZ_FRAME_NOKEEP);
    if (xnd > nd) return lz__error(LZ_ERROR_INTERNAL, "lz_compile", "fused operand rank");
    for (int d = 0; d < x->ndim; d++) {
      int64_t v = x->shape[d], *s = &R->shape[nd - xnd + d];
      if (v != 1 && *s != 1 && *s != v)
        return lz__error(LZ_ERROR_SHAPE, "lz_compile", "fused operands do not broadcast");
      if (v != 1) *s = v;
    }
  }
  for (int o = 0; o < R->nops; o++) {
    const lz_array *x = o < P->nel ? outs[o] : node->inputs[o - P->nel];
    int xnd = x->ndim + (P->frame[o] == FZ_FRAME_NOKEEP);
    int64_t isz = (int64_t)lz_dtype_size(x->dtype);
    R->base[o] = lz__data_ptr(x);
    for (int d = 0; d < nd; d++) {
      int di = d - (nd - xnd);
      R->str[o][d] = di < 0 || di >= x->ndim || x->shape[di] == 1 ? 0 : x->strides[di] * isz;
    }
  }
  R->rows = 1;
  for (int d = 0; d < nd - 1; d++) R->rows *= R->shape[d];
  R->len = R->shape[nd - 1];
  return 0;
}

static void rw_row_base(const rw_run *R, int64_t row, char **p) {
  for (int o = 0; o < R->nops; o++) p[o] = R->base[o];
  for (int d = R->nd - 2; d >= 0; d--) {
    int64_t i = row % R->shape[d];
    row /= R->shape[d];
    for (int o = 0; o < R->nops; o++) p[o] += i * R->str[o][d];
  }
}

/* One row's reduction into a double (float32 rows through the SIMD row kernels). */
static double reduce_row(const rw_run *R, int op, int ddof, lz_dtype ct, const char *x,
                         int64_t n) {
  if (ct == LZ_FLOAT32) {
    const float *f = (const float *)x;
    bool nan = false;
    switch (op) {
    case LZ_OP_SUM: return R->K->row_sum(f, n);
    case LZ_OP_MEAN: return n ? R->K->row_sum(f, n) / (double)n : NAN;
    case LZ_OP_MAX:
    case LZ_OP_MIN: {
      double m = R->K->row_ext(f, n, op == LZ_OP_MAX, &nan);
      return nan ? NAN : m;
    }
    default: {
      double mean = n ? R->K->row_sum(f, n) / (double)n : NAN;
      double s = R->K->row_ssd(f, n, (float)mean), d = (double)n - ddof;
      double v = d > 0 ? s / d : s > 0 ? INFINITY : NAN;
      return op == LZ_OP_STD ? sqrt(v) : v;
    }
    }
  }
  const double *v = (const double *)x;
  double s = 0;
  if (op == LZ_OP_MAX || op == LZ_OP_MIN) {
    bool mx = op == LZ_OP_MAX;
    double m = v[0];
    for (int64_t i = 0; i < n; i++) {
      if (v[i] != v[i]) return NAN;
      m = mx ? (v[i] > m ? v[i] : m) : (v[i] < m ? v[i] : m);
    }
    return m;
  }
  for (int64_t i = 0; i < n; i++) s += v[i];
  if (op == LZ_OP_SUM) return s;
  double mean = n ? s / (double)n : NAN;
  if (op == LZ_OP_MEAN) return mean;
  double ssd = 0, d = (double)n - ddof;
  for (int64_t i = 0; i < n; i++) ssd += (v[i] - mean) * (v[i] - mean);
  double var = d > 0 ? ssd / d : ssd > 0 ? INFINITY : NAN;
  return op == LZ_OP_STD ? sqrt(var) : var;
}

/* x as n contiguous values of the compute type (in place when it already is). */
static const char *as_compute(const fz_step *st, lz_dtype ct, const char *x, int64_t stride,
                              int64_t n, char *tmp) {
  if (st->dt_in == ct && stride == (int64_t)st->isz[1]) return x;
  lz_cpu_loader(st->dt_in, ct)(tmp, x, stride, n);
  return tmp;
}

static inline lz_dtype compute_type(const fz_step *st) {
  return st->dt_in == LZ_FLOAT64 ? LZ_FLOAT64 : LZ_FLOAT32;
}

static void store_scalar(const fz_step *st, char *out, double r) {
  if (compute_type(st) == LZ_FLOAT64) {
    memcpy(out, &r, sizeof r);
  } else {
    float f = (float)r;
    lz_cpu_storer(st->dt_out, LZ_FLOAT32)(out, st->isz[0], &f, 1);
  }
}

/* var or std of the whole stored row; with the row's mean at `mean` (float32 or float64, as
 * the input), one pass instead of two */
static void reduce_step(const rw_run *R, const fz_step *st, int64_t n, char **pp,
                        const int64_t *ss, char *tmp, const char *mean) {
  lz_dtype ct = compute_type(st);
  const char *x = as_compute(st, ct, pp[1], ss[1], n, tmp);
  int ddof = ((const lz_reduce_params *)st->ctx)->ddof;
  if (!mean) {
    store_scalar(st, pp[0], reduce_row(R, st->op, ddof, ct, x, n));
    return;
  }
  double ssd = 0, d = (double)n - ddof;
  if (ct == LZ_FLOAT32) {
    ssd = R->K->row_ssd((const float *)x, n, *(const float *)mean);
  } else {
    double mu = *(const double *)mean;
    for (int64_t i = 0; i < n; i++) ssd += (((const double *)x)[i] - mu) * (((const double *)x)[i] - mu);
  }
  double v = d > 0 ? ssd / d : ssd > 0 ? INFINITY : NAN;
  store_scalar(st, pp[0], st->op == LZ_OP_STD ? sqrt(v) : v);
}

/* A folded reduction's state. */
typedef struct rw_acc {
  double v;
  bool nan;
} rw_acc;

static void fold_init(const fz_step *st, rw_acc *a) {
  a->v = st->op == LZ_OP_MAX ? -INFINITY : st->op == LZ_OP_MIN ? INFINITY : 0;
  a->nan = false;
}

static void fold_tile(const rw_run *R, const fz_step *st, rw_acc *a, const char *x,
                      int64_t stride, int64_t n, char *tmp) {
  lz_dtype ct = compute_type(st);
  x = as_compute(st, ct, x, stride, n, tmp);
  if (st->squares) { /* float32 only (fuse.c's fold_squares) */
    a->v += R->K->row_ssd((const float *)x, n, 0.0f);
    return;
  }
  if (st->op == LZ_OP_SUM || st->op == LZ_OP_MEAN) {
    a->v += reduce_row(R, LZ_OP_SUM, 0, ct, x, n);
    return;
  }
  double m = reduce_row(R, st->op, 0, ct, x, n);
  if (m != m) a->nan = true;
  else a->v = st->op == LZ_OP_MAX ? (m > a->v ? m : a->v) : (m < a->v ? m : a->v);
}

static void fold_finish(const fz_step *st, const rw_acc *a, char *out, int64_t len) {
  double v = a->nan ? NAN : a->v;
  if (st->op == LZ_OP_MEAN) v = len ? v / (double)len : NAN;
  store_scalar(st, out, v);
}

static inline char *rw_ptr(const rw_run *R, fz_loc l, char *const *rb, char *regs, size_t reg,
                           char *scal, size_t isz, int64_t *stride) {
  switch (l.kind) {
  case FZ_OPND: *stride = R->str[l.idx][R->nd - 1]; return rb[l.idx];
  case FZ_REG: *stride = (int64_t)isz; return regs + (size_t)l.idx * reg;
  default: *stride = 0; return scal + (size_t)l.idx * SLOT;
  }
}

/* ---- FZ_PAIR: (a op b) op2 c in one pass ---- */

static inline float arith1(uint16_t op, float x, float y) {
  return op == LZ_OP_ADD ? x + y : op == LZ_OP_SUBTRACT ? x - y : x * y;
}

static void pair_scalar(const fz_step *st, int64_t n, char *const *pp, const int64_t *ss) {
  for (int64_t i = 0; i < n; i++) {
    float a = *(const float *)(pp[1] + i * ss[1]), b = *(const float *)(pp[2] + i * ss[2]);
    float c = *(const float *)(pp[3] + i * ss[3]), v = arith1(st->op, a, b);
    *(float *)(pp[0] + i * ss[0]) = st->pair_rev ? arith1(st->op2, c, v) : arith1(st->op2, v, c);
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
/* AVX2 without FMA, so that nothing contracts a multiply and an add: the same rounding as the
 * two steps. Operands are contiguous or one broadcast value (stride 0). */
__attribute__((target("avx2"))) static inline __m256 arith8(uint16_t op, __m256 x, __m256 y) {
  return op == LZ_OP_ADD ? _mm256_add_ps(x, y)
         : op == LZ_OP_SUBTRACT ? _mm256_sub_ps(x, y) : _mm256_mul_ps(x, y);
}

/* One loop per combination, the ops and the order constants: operands advance by inc (8 for
 * a contiguous one, 0 for a broadcast one read from an 8-float copy). */
#define PAIR_LOOP(OP1, OP2, REV)                                                                  \
  for (; i + 8 <= n; i += 8) {                                                                  \
    __m256 v = arith8(OP1, _mm256_loadu_ps(a + i * ia), _mm256_loadu_ps(b + i * ib));             \
    __m256 c8 = _mm256_loadu_ps(c + i * ic);                                                     \
    _mm256_storeu_ps(o + i, REV ? arith8(OP2, c8, v) : arith8(OP2, v, c8));                     \
  }                                                                                             \
  break;
#define PAIR_CASES(REV)                                                                          \
  switch (code) {                                                                               \
  case 0: PAIR_LOOP(LZ_OP_ADD, LZ_OP_ADD, REV)                                                  \
  case 1: PAIR_LOOP(LZ_OP_ADD, LZ_OP_SUBTRACT, REV)                                             \
  case 2: PAIR_LOOP(LZ_OP_ADD, LZ_OP_MULTIPLY, REV)                                             \
  case 3: PAIR_LOOP(LZ_OP_SUBTRACT, LZ_OP_ADD, REV)                                             \
  case 4: PAIR_LOOP(LZ_OP_SUBTRACT, LZ_OP_SUBTRACT, REV)                                        \
  case 5: PAIR_LOOP(LZ_OP_SUBTRACT, LZ_OP_MULTIPLY, REV)                                        \
  case 6: PAIR_LOOP(LZ_OP_MULTIPLY, LZ_OP_ADD, REV)                                             \
  case 7: PAIR_LOOP(LZ_OP_MULTIPLY, LZ_OP_SUBTRACT, REV)                                        \
  default: PAIR_LOOP(LZ_OP_MULTIPLY, LZ_OP_MULTIPLY, REV)                                       \
  }

static inline int op_code(uint16_t op) {
  return op == LZ_OP_ADD ? 0 : op == LZ_OP_SUBTRACT ? 1 : 2;
}

__attribute__((target("avx2"))) static int64_t pair_avx2(const fz_step *st, int64_t n,
                                                         char *const *pp, const int64_t *ss) {
  float bc[3][8];
  const float *q[3];
  int64_t inc[3];
  for (int j = 0; j < 3; j++) {
    inc[j] = ss[j + 1] ? 1 : 0;
    q[j] = (const float *)pp[j + 1];
    if (!inc[j]) {
      for (int l = 0; l < 8; l++) bc[j][l] = *q[j];
      q[j] = bc[j];
    }
  }
  const float *a = q[0], *b = q[1], *c = q[2];
  int64_t ia = inc[0], ib = inc[1], ic = inc[2], i = 0;
  float *o = (float *)pp[0];
  int code = op_code(st->op) * 3 + op_code(st->op2);
  if (st->pair_rev) {
    PAIR_CASES(1)
  } else {
    PAIR_CASES(0)
  }
  return i;
}
#endif

static void pair_step(const fz_step *st, int64_t n, char **pp, const int64_t *ss) {
  int64_t done = 0;
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  bool vec = ss[0] == 4 && lz_isa_path() >= LZ_ISA_AVX2;
  for (int j = 1; j <= 3 && vec; j++) vec = ss[j] == 4 || ss[j] == 0;
  if (vec) done = pair_avx2(st, n, pp, ss);
#endif
  if (done == n) return;
  char *rest[4];
  for (int j = 0; j < 4; j++) rest[j] = pp[j] + done * ss[j];
  pair_scalar(st, n - done, rest, ss);
}

/* The operand pointers of step st at element t of the row. */
static inline char *at_tile(const rw_run *R, fz_loc l, char *p, int64_t t, int64_t stride) {
  return l.kind == FZ_REG && R->local[l.idx] ? p : p + t * stride;
}

static inline void step_ptrs(const rw_run *R, const fz_step *st, char *const *rb, char *regs,
                             size_t reg, char *scal, int64_t t, char **pp, int64_t *ss) {
  for (int j = 0; j <= st->nin; j++) {
    fz_loc l = j ? st->in[j - 1] : st->out;
    char *p = rw_ptr(R, l, rb, regs, reg, scal, st->isz[j], &ss[j]);
    pp[j] = at_tile(R, l, p, t, ss[j]);
  }
}

static void run_segment(const rw_run *R, const rw_seg *g, char *const *rb, char *regs,
                        size_t reg, char *scal, char *tmp) {
  const fz_prog *P = R->p;
  int64_t L = R->len, ss[4];
  char *pp[4];
  if (g->whole) {
    const fz_step *st = &P->steps[g->first];
    step_ptrs(R, st, rb, regs, reg, scal, 0, pp, ss);
    int64_t ms;
    const char *mean = st->has_mean ? rw_ptr(R, st->mean, rb, regs, reg, scal, 8, &ms) : NULL;
    reduce_step(R, st, L, pp, ss, tmp, mean);
    return;
  }
  rw_acc acc[FZ_MAX_STEPS];
  for (int k = g->first; k < g->last; k++) {
    const fz_step *st = &P->steps[k];
    if (st->kind == FZ_REDUCE) fold_init(st, &acc[k]);
    else if (st->scalar) { /* per-row steps: their inputs are ready, run them once */
      step_ptrs(R, st, rb, regs, reg, scal, 0, pp, ss);
      fz_exec_step(st, 1, pp, ss, tmp);
    }
  }
  for (int64_t t = 0; t < L; t += TILE) {
    int64_t n = L - t < TILE ? L - t : TILE;
    for (int k = g->first; k < g->last; k++) {
      const fz_step *st = &P->steps[k];
      if (st->scalar && st->kind != FZ_REDUCE) continue;
      step_ptrs(R, st, rb, regs, reg, scal, t, pp, ss);
      if (st->kind == FZ_REDUCE) fold_tile(R, st, &acc[k], pp[1], ss[1], n, tmp);
      else if (st->kind == FZ_PAIR) pair_step(st, n, pp, ss);
      else fz_exec_step(st, n, pp, ss, tmp);
    }
  }
  for (int k = g->first; k < g->last; k++) {
    const fz_step *st = &P->steps[k];
    if (st->kind != FZ_REDUCE) continue;
    step_ptrs(R, st, rb, regs, reg, scal, 0, pp, ss);
    fold_finish(st, &acc[k], pp[0], L);
  }
}

static void rw_worker(void *ctx, int64_t begin, int64_t end) {
  rw_run *R = ctx;
  const fz_prog *P = R->p;
  int64_t L = R->len;
  /* every register is row-long: a tile-local one uses only its first tile, so the same L1
   * lines serve every tile (the rest is never touched) */
  size_t reg = ((size_t)L * (size_t)P->reg_isz + 63) & ~(size_t)63;
  size_t bytes = (size_t)P->nregs * reg + (size_t)P->nscal * SLOT + (size_t)L * 8 + 64;
  char *m = malloc(bytes);
  if (!m) {
    atomic_store(&R->oom, true);
    return;
  }
  char *regs = m, *scal = m + (size_t)P->nregs * reg, *tmp = scal + (size_t)P->nscal * SLOT;
  for (int64_t r = begin; r < end; r++) {
    char *rb[FZ_MAX_OPERANDS];
    rw_row_base(R, r, rb);
    for (int g = 0; g < R->nsegs; g++) run_segment(R, &R->segs[g], rb, regs, reg, scal, tmp);
  }
  free(m);
}

int fz_rows_run(const fz_prog *P, lz_node *node, lz_array **outs) {
  rw_run *R = calloc(1, sizeof *R);
  if (!R) return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory");
  R->p = P;
  R->K = lz_cpu_red_kernels();
  atomic_init(&R->oom, false);
  int rc = rw_setup(R, node, outs);
  rw_segments(R);
  for (int k = 0; rc == 0 && R->len == 0 && R->rows > 0 && k < P->nsteps; k++)
    if (P->steps[k].kind == FZ_REDUCE &&
        (P->steps[k].op == LZ_OP_MAX || P->steps[k].op == LZ_OP_MIN))
      rc = lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_compile", "cannot reduce a zero-size axis");
  if (rc == 0 && R->rows > 0) {
    lz__parallel_for(R->rows, SERIAL_WORK / (R->len * P->nsteps + 1) + 1, rw_worker, R);
    if (atomic_load(&R->oom)) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory");
  }
  free(R);
  return rc;
}
