/* The reduction engine: sum, prod, max, min, all, any, count_nonzero, mean, var, std and
 * logsumexp over any set of axes of a strided input.
 *
 * Dims are split into kept and reduced ones (size-1 dims dropped, contiguous neighbours merged).
 * Two loop orders:
 *  - row mode, when the innermost reduced dim is the most contiguous: each output reduces its
 *    runs in blocks (floats with 8 independent lanes, so the compiler vectorises and rounding
 *    error grows like a blocked sum; block sums are added in double);
 *  - column mode, when the innermost kept dim is the most contiguous: a block of neighbouring
 *    outputs is accumulated as a vector, one input row at a time (cache friendly).
 * var/std and logsumexp make a second pass (deviations from the mean; exp shifted by the max).
 * float16/bfloat16 load as float32; accumulators are double or 64-bit integers. */
#include <math.h>
#include <stdlib.h>

#include "../core/threads.h"
#include "reduce.h"
#include "reduce_simd.h"

enum { BLK = 256 };   /* elements loaded per step in row mode */
enum { CBLK = 1024 }; /* outputs per column-mode work item (one contiguous row segment) */

/* Passes: what one sweep over the reduced elements accumulates. */
enum { P_SUM, P_PROD, P_MAX, P_MIN, P_CNT, P_SSD, P_SEXP, P_NONE };

typedef union acc_t {
  double f;
  int64_t i;
  uint64_t u;
} acc_t;

typedef struct domain {
  lz_dtype ct;
  size_t csize;
  bool is_float;
  /* Folds x[0..n) into the one state *st (c: the pass-2 centre). */
  void (*row)(int pk, const void *x, int64_t n, const acc_t *c, acc_t *st);
  /* Folds x[0..n) into the states acc[0..n) (c[j]: the pass-2 centre of output j). */
  void (*col)(int pk, const void *x, int64_t n, const acc_t *c, acc_t *acc);
  void (*init)(int pk, acc_t *a, int64_t n);
} domain;

/* NaN-propagating comparisons for float states. */
#define GT_NAN(v, m) ((v) > (m) || (v) != (v))
#define LT_NAN(v, m) ((v) < (m) || (v) != (v))

/* Row max/min with 8 independent lanes (vectorisable), NaN tracked on the side. */
#define ROW_EXTREME(T, CMP, st)                                                                  \
  {                                                                                              \
    T l[8];                                                                                      \
    int nan = 0;                                                                                 \
    int64_t i = 0;                                                                               \
    for (int k = 0; k < 8; k++) l[k] = x[0];                                                     \
    for (; i + 8 <= n; i += 8)                                                                   \
      for (int k = 0; k < 8; k++) {                                                              \
        T v = x[i + k];                                                                          \
        nan |= v != v;                                                                           \
        l[k] = v CMP l[k] ? v : l[k];                                                            \
      }                                                                                          \
    double m = st->f;                                                                            \
    for (; i < n; i++) nan |= x[i] != x[i], m = (double)x[i] CMP m ? (double)x[i] : m;           \
    for (int k = 0; k < 8; k++) m = (double)l[k] CMP m ? (double)l[k] : m;                       \
    if (nan || st->f != st->f) m = NAN;                                                          \
    st->f = m;                                                                                   \
  }

#define FLOAT_DOMAIN(N, T, EXP)                                                                  \
  static void N##_row(int pk, const void *xv, int64_t n, const acc_t *c, acc_t *st) {            \
    const T *x = (const T *)xv;                                                                  \
    switch (pk) {                                                                                \
    case P_SUM:                                                                                  \
    case P_SSD: {                                                                                \
      T l[8] = {0}, r = 0, cc = pk == P_SSD ? (T)c->f : (T)0;                                    \
      int64_t i = 0;                                                                             \
      if (pk == P_SUM) {                                                                         \
        for (; i + 8 <= n; i += 8)                                                               \
          for (int k = 0; k < 8; k++) l[k] += x[i + k];                                          \
        for (; i < n; i++) r += x[i];                                                            \
      } else {                                                                                   \
        for (; i + 8 <= n; i += 8)                                                               \
          for (int k = 0; k < 8; k++) l[k] += (x[i + k] - cc) * (x[i + k] - cc);                 \
        for (; i < n; i++) r += (x[i] - cc) * (x[i] - cc);                                       \
      }                                                                                          \
      st->f += (double)(((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))) +     \
               (double)r;                                                                        \
      break;                                                                                     \
    }                                                                                            \
    case P_PROD: {                                                                               \
      double p = st->f;                                                                          \
      for (int64_t i = 0; i < n; i++) p *= x[i];                                                 \
      st->f = p;                                                                                 \
      break;                                                                                     \
    }                                                                                            \
    case P_MAX: ROW_EXTREME(T, >, st) break;                                                     \
    case P_MIN: ROW_EXTREME(T, <, st) break;                                                     \
    case P_CNT: {                                                                                \
      int64_t k = 0;                                                                             \
      for (int64_t i = 0; i < n; i++) k += x[i] != 0;                                            \
      st->i += k;                                                                                \
      break;                                                                                     \
    }                                                                                            \
    case P_SEXP: {                                                                               \
      T cc = (T)c->f;                                                                            \
      double s = 0;                                                                              \
      for (int64_t i = 0; i < n; i++) s += EXP(x[i] - cc);                                       \
      st->f += s;                                                                                \
      break;                                                                                     \
    }                                                                                            \
    }                                                                                            \
  }                                                                                              \
  static void N##_col(int pk, const void *xv, int64_t n, const acc_t *c, acc_t *a) {             \
    const T *x = (const T *)xv;                                                                  \
    switch (pk) {                                                                                \
    case P_SUM:                                                                                  \
      for (int64_t j = 0; j < n; j++) a[j].f += x[j];                                            \
      break;                                                                                     \
    case P_SSD:                                                                                  \
      for (int64_t j = 0; j < n; j++) {                                                          \
        double d = x[j] - c[j].f;                                                                \
        a[j].f += d * d;                                                                         \
      }                                                                                          \
      break;                                                                                     \
    case P_PROD:                                                                                 \
      for (int64_t j = 0; j < n; j++) a[j].f *= x[j];                                            \
      break;                                                                                     \
    case P_MAX:                                                                                  \
      for (int64_t j = 0; j < n; j++)                                                            \
        if (GT_NAN((double)x[j], a[j].f)) a[j].f = x[j];                                         \
      break;                                                                                     \
    case P_MIN:                                                                                  \
      for (int64_t j = 0; j < n; j++)                                                            \
        if (LT_NAN((double)x[j], a[j].f)) a[j].f = x[j];                                         \
      break;                                                                                     \
    case P_CNT:                                                                                  \
      for (int64_t j = 0; j < n; j++) a[j].i += x[j] != 0;                                       \
      break;                                                                                     \
    case P_SEXP:                                                                                 \
      for (int64_t j = 0; j < n; j++) a[j].f += EXP(x[j] - (T)c[j].f);                           \
      break;                                                                                     \
    }                                                                                            \
  }                                                                                              \
  static void N##_init(int pk, acc_t *a, int64_t n) {                                            \
    for (int64_t j = 0; j < n; j++) {                                                            \
      if (pk == P_CNT) a[j].i = 0;                                                               \
      else a[j].f = pk == P_PROD ? 1.0 : pk == P_MAX ? -INFINITY : pk == P_MIN ? INFINITY : 0.0; \
    }                                                                                            \
  }

FLOAT_DOMAIN(f32, float, expf)
FLOAT_DOMAIN(f64, double, exp)

/* Integer domains: sums and products wrap (computed unsigned, no overflow UB). */
#define INT_DOMAIN(N, T, M, LO, HI)                                                              \
  static void N##_row(int pk, const void *xv, int64_t n, const acc_t *c, acc_t *st) {            \
    const T *x = (const T *)xv;                                                                  \
    (void)c;                                                                                     \
    switch (pk) {                                                                                \
    case P_SUM: {                                                                                \
      uint64_t s = 0;                                                                            \
      for (int64_t i = 0; i < n; i++) s += (uint64_t)x[i];                                       \
      st->u += s;                                                                                \
      break;                                                                                     \
    }                                                                                            \
    case P_PROD: {                                                                               \
      uint64_t p = st->u;                                                                        \
      for (int64_t i = 0; i < n; i++) p *= (uint64_t)x[i];                                       \
      st->u = p;                                                                                 \
      break;                                                                                     \
    }                                                                                            \
    case P_MAX: {                                                                                \
      T m = st->M;                                                                               \
      for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;                                   \
      st->M = m;                                                                                 \
      break;                                                                                     \
    }                                                                                            \
    case P_MIN: {                                                                                \
      T m = st->M;                                                                               \
      for (int64_t i = 0; i < n; i++) m = x[i] < m ? x[i] : m;                                   \
      st->M = m;                                                                                 \
      break;                                                                                     \
    }                                                                                            \
    case P_CNT: {                                                                                \
      int64_t k = 0;                                                                             \
      for (int64_t i = 0; i < n; i++) k += x[i] != 0;                                            \
      st->i += k;                                                                                \
      break;                                                                                     \
    }                                                                                            \
    }                                                                                            \
  }                                                                                              \
  static void N##_col(int pk, const void *xv, int64_t n, const acc_t *c, acc_t *a) {             \
    const T *x = (const T *)xv;                                                                  \
    (void)c;                                                                                     \
    switch (pk) {                                                                                \
    case P_SUM:                                                                                  \
      for (int64_t j = 0; j < n; j++) a[j].u += (uint64_t)x[j];                                  \
      break;                                                                                     \
    case P_PROD:                                                                                 \
      for (int64_t j = 0; j < n; j++) a[j].u *= (uint64_t)x[j];                                  \
      break;                                                                                     \
    case P_MAX:                                                                                  \
      for (int64_t j = 0; j < n; j++) a[j].M = x[j] > a[j].M ? x[j] : a[j].M;                    \
      break;                                                                                     \
    case P_MIN:                                                                                  \
      for (int64_t j = 0; j < n; j++) a[j].M = x[j] < a[j].M ? x[j] : a[j].M;                    \
      break;                                                                                     \
    case P_CNT:                                                                                  \
      for (int64_t j = 0; j < n; j++) a[j].i += x[j] != 0;                                       \
      break;                                                                                     \
    }                                                                                            \
  }                                                                                              \
  static void N##_init(int pk, acc_t *a, int64_t n) {                                            \
    for (int64_t j = 0; j < n; j++) {                                                            \
      if (pk == P_MAX) a[j].M = LO;                                                              \
      else if (pk == P_MIN) a[j].M = HI;                                                         \
      else a[j].u = pk == P_PROD ? 1u : 0u;                                                      \
    }                                                                                            \
  }

INT_DOMAIN(i64, int64_t, i, INT64_MIN, INT64_MAX)
INT_DOMAIN(u64, uint64_t, u, 0, UINT64_MAX)

static const domain DOM_F32 = {LZ_FLOAT32, 4, true, f32_row, f32_col, f32_init};
static const domain DOM_F64 = {LZ_FLOAT64, 8, true, f64_row, f64_col, f64_init};
static const domain DOM_I64 = {LZ_INT64, 8, false, i64_row, i64_col, i64_init};
static const domain DOM_U64 = {LZ_UINT64, 8, false, u64_row, u64_col, u64_init};

static const domain *domain_of(lz_dtype ct) {
  switch (ct) {
  case LZ_FLOAT32: return &DOM_F32;
  case LZ_FLOAT64: return &DOM_F64;
  case LZ_UINT64: return &DOM_U64;
  default: return &DOM_I64;
  }
}

/* ---- the engine ---- */

typedef struct rctx {
  const domain *D;
  const lz_red_kernels *K; /* float32 compute: the contiguous kernels; else NULL */
  lz_cpu_load_fn ld;
  lz_cpu_store_fn st;
  lz_reduce_kind kind;
  int p1, p2, ddof;
  size_t isize, osize;
  const char *base;
  char *out;
  lz_dtype dt, rct; /* input dtype; type of the finalised results */
  int nk, nr;
  int64_t ks[LZ_MAX_NDIM], kst[LZ_MAX_NDIM]; /* kept dims: sizes, byte strides */
  int64_t rs[LZ_MAX_NDIM], rst[LZ_MAX_NDIM]; /* reduced dims */
  int64_t nout, nred;
} rctx;

/* Steps a multi-index over dims [0, n) (odometer); returns the byte offset change. */
static int64_t odo_step(int64_t *idx, const int64_t *shape, const int64_t *st, int n) {
  int64_t delta = 0;
  for (int d = n - 1; d >= 0; d--) {
    idx[d]++;
    delta += st[d];
    if (idx[d] < shape[d]) return delta;
    delta -= st[d] * shape[d];
    idx[d] = 0;
  }
  return delta;
}

/* The pass-2 centre of one output from its pass-1 state. */
static acc_t centre(const rctx *R, acc_t s) {
  acc_t c;
  if (R->kind == LZ_RK_LSE) c.f = isfinite(s.f) ? s.f : 0.0;
  else c.f = R->nred ? s.f / (double)R->nred : NAN;
  return c;
}

static double as_double(const rctx *R, acc_t s) {
  return R->D->ct == LZ_INT64 ? (double)s.i : R->D->ct == LZ_UINT64 ? (double)s.u : s.f;
}

/* Turns m states into results (double, or int64/uint64 for integer sum/prod/max/min). */
static void finalize(const rctx *R, int64_t m, const acc_t *s1, const acc_t *s2, void *res) {
  double *rd = (double *)res;
  int64_t *ri = (int64_t *)res;
  uint64_t *ru = (uint64_t *)res;
  double n = (double)R->nred;
  for (int64_t j = 0; j < m; j++) {
    switch (R->kind) {
    case LZ_RK_SUM:
    case LZ_RK_PROD:
    case LZ_RK_MAX:
    case LZ_RK_MIN:
      if (R->rct == LZ_INT64) ri[j] = s1[j].i;
      else if (R->rct == LZ_UINT64) ru[j] = s1[j].u;
      else rd[j] = s1[j].f;
      break;
    case LZ_RK_ALL: rd[j] = s1[j].i == R->nred; break;
    case LZ_RK_ANY: rd[j] = s1[j].i > 0; break;
    case LZ_RK_COUNT: rd[j] = (double)s1[j].i; break;
    case LZ_RK_MEAN: rd[j] = R->nred ? as_double(R, s1[j]) / n : NAN; break;
    case LZ_RK_VAR:
    case LZ_RK_STD: {
      double d = n - R->ddof, s = s2[j].f, v;
      if (d > 0) v = s / d;
      else v = s > 0 ? INFINITY : NAN;
      rd[j] = R->kind == LZ_RK_STD ? sqrt(v) : v;
      break;
    }
    case LZ_RK_LSE: {
      double mx = s1[j].f;
      rd[j] = isinf(mx) ? mx : centre(R, s1[j]).f + log(s2[j].f);
      break;
    }
    }
  }
}

/* The passes the float32 kernels of reduce_simd.c cover. */
static bool fast_pass(const rctx *R, int pk) {
  return R->K && (pk == P_SUM || pk == P_SSD || pk == P_MAX || pk == P_MIN || pk == P_SEXP);
}

/* Folds n contiguous float32 values into *st with the kernels (pass pk, fast_pass). */
static void row_fast(const rctx *R, int pk, const float *x, int64_t n, const acc_t *c,
                     acc_t *st) {
  switch (pk) {
  case P_SUM: st->f += R->K->row_sum(x, n); break;
  case P_SSD: st->f += R->K->row_ssd(x, n, (float)c->f); break;
  case P_SEXP: st->f += R->K->row_sexp(x, n, (float)c->f); break;
  default: {
    if (n == 0) break;
    bool nan = false, is_max = pk == P_MAX;
    double m = R->K->row_ext(x, n, is_max, &nan);
    if (nan || st->f != st->f) st->f = NAN;
    else if (is_max ? m > st->f : m < st->f) st->f = m;
  }
  }
}

/* Folds every reduced element below `p` into st (row mode). buf: BLK compute values. */
static void row_sweep(const rctx *R, int pk, const char *p, const acc_t *c, acc_t *st,
                      char *buf) {
  int nr = R->nr;
  int64_t L = R->rs[nr - 1], s = R->rst[nr - 1];
  bool direct = R->dt == R->D->ct && s == (int64_t)R->isize, fast = fast_pass(R, pk);
  int64_t idx[LZ_MAX_NDIM] = {0};
  int64_t runs = R->nred / L;
  for (int64_t r = 0; r < runs; r++) {
    if (direct && fast) { /* the whole run at once: the kernels block sums themselves */
      row_fast(R, pk, (const float *)p, L, c, st);
      p += odo_step(idx, R->rs, R->rst, nr - 1);
      continue;
    }
    for (int64_t i = 0; i < L; i += BLK) {
      int64_t m = L - i < BLK ? L - i : BLK;
      const char *q = p + i * s;
      if (direct) {
        R->D->row(pk, q, m, c, st);
      } else {
        R->ld(buf, q, s, m);
        if (fast) row_fast(R, pk, (const float *)buf, m, c, st);
        else R->D->row(pk, buf, m, c, st);
      }
    }
    p += odo_step(idx, R->rs, R->rst, nr - 1);
  }
}

static void row_worker(void *ctx, int64_t begin, int64_t end) {
  const rctx *R = ctx;
  acc_t s1[BLK], s2[BLK], c;
  double res[BLK];
  _Alignas(64) char buf[BLK * 8];
  for (int64_t o0 = begin; o0 < end; o0 += BLK) {
    int64_t m = end - o0 < BLK ? end - o0 : BLK;
    for (int64_t j = 0; j < m; j++) {
      int64_t o = o0 + j, off = 0;
      for (int d = R->nk - 1; d >= 0; d--) {
        off += (o % R->ks[d]) * R->kst[d];
        o /= R->ks[d];
      }
      const char *p = R->base + off;
      R->D->init(R->p1, &s1[j], 1);
      if (R->nred) row_sweep(R, R->p1, p, NULL, &s1[j], buf);
      if (R->p2 != P_NONE) {
        c = centre(R, s1[j]);
        R->D->init(R->p2, &s2[j], 1);
        if (R->nred) row_sweep(R, R->p2, p, &c, &s2[j], buf);
      }
    }
    finalize(R, m, s1, s2, res);
    R->st(R->out + o0 * (int64_t)R->osize, (int64_t)R->osize, res, m);
  }
}

/* Rows folded into the float accumulators of col_fast before they are added to the double
 * states: sums of at most this many float32 values keep float32's accuracy. */
enum { CFLUSH = 64 };

/* col_sweep for the float32 kernels: float accumulators, vector-wide. */
static void col_fast(const rctx *R, int pk, const char *p, int64_t m, const acc_t *c,
                     acc_t *acc, char *buf) {
  const lz_red_kernels *K = R->K;
  int64_t s = R->kst[R->nk - 1];
  bool direct = R->dt == LZ_FLOAT32 && s == (int64_t)sizeof(float);
  bool ext = pk == P_MAX || pk == P_MIN;
  _Alignas(64) float fa[CBLK], fc[CBLK];
  for (int64_t j = 0; j < m; j++) {
    fa[j] = ext ? (float)acc[j].f : 0.0f;
    if (c) fc[j] = (float)c[j].f;
  }
  int64_t idx[LZ_MAX_NDIM] = {0}, r = 0;
  int since = 0;
  if (direct && R->nr == 1 && (ext || pk == P_SUM)) { /* up to 8 rows per pass over fa */
    int64_t rs = R->rst[0] / (int64_t)sizeof(float);
    for (; r < R->nred;) {
      int k = (int)(R->nred - r < 8 ? R->nred - r : 8);
      if (!ext && k > CFLUSH - since) k = CFLUSH - since;
      const float *x = (const float *)p + r * rs;
      if (ext) K->cols_ext(fa, x, rs, k, m, pk == P_MAX);
      else K->cols_sum(fa, x, rs, k, m);
      r += k;
      if (!ext && (since += k) == CFLUSH) {
        for (int64_t j = 0; j < m; j++) acc[j].f += fa[j], fa[j] = 0;
        since = 0;
      }
    }
  }
  for (; r < R->nred; r++) {
    const float *x = (const float *)p;
    if (!direct) {
      R->ld(buf, p, s, m);
      x = (const float *)buf;
    }
    switch (pk) {
    case P_SUM: K->col_sum(fa, x, m); break;
    case P_SSD: K->col_ssd(fa, x, fc, m); break;
    case P_SEXP: K->col_sexp(fa, x, fc, m); break;
    default: K->col_ext(fa, x, m, pk == P_MAX); break;
    }
    if (!ext && ++since == CFLUSH) {
      for (int64_t j = 0; j < m; j++) acc[j].f += fa[j], fa[j] = 0;
      since = 0;
    }
    p += odo_step(idx, R->rs, R->rst, R->nr);
  }
  for (int64_t j = 0; j < m; j++) {
    if (ext) acc[j].f = fa[j];
    else acc[j].f += fa[j];
  }
}

/* Folds every reduced row of m outputs starting at p into acc (column mode). */
static void col_sweep(const rctx *R, int pk, const char *p, int64_t m, const acc_t *c,
                      acc_t *acc, char *buf) {
  if (fast_pass(R, pk)) {
    col_fast(R, pk, p, m, c, acc, buf);
    return;
  }
  int64_t s = R->kst[R->nk - 1];
  bool direct = R->dt == R->D->ct && s == (int64_t)R->isize;
  int64_t idx[LZ_MAX_NDIM] = {0};
  for (int64_t r = 0; r < R->nred; r++) {
    if (direct) {
      R->D->col(pk, p, m, c, acc);
    } else {
      R->ld(buf, p, s, m);
      R->D->col(pk, buf, m, c, acc);
    }
    p += odo_step(idx, R->rs, R->rst, R->nr);
  }
}

static void col_worker(void *ctx, int64_t begin, int64_t end) {
  const rctx *R = ctx;
  acc_t s1[CBLK], s2[CBLK], c[CBLK];
  double res[CBLK];
  _Alignas(64) char buf[CBLK * 8];
  int nk = R->nk;
  int64_t Lk = R->ks[nk - 1], nb = (Lk + CBLK - 1) / CBLK;
  for (int64_t item = begin; item < end; item++) {
    int64_t q = item / nb, j0 = (item % nb) * CBLK, m = Lk - j0 < CBLK ? Lk - j0 : CBLK;
    int64_t off = j0 * R->kst[nk - 1], t = q;
    for (int d = nk - 2; d >= 0; d--) {
      off += (t % R->ks[d]) * R->kst[d];
      t /= R->ks[d];
    }
    const char *p = R->base + off;
    R->D->init(R->p1, s1, m);
    col_sweep(R, R->p1, p, m, NULL, s1, buf);
    if (R->p2 != P_NONE) {
      for (int64_t j = 0; j < m; j++) c[j] = centre(R, s1[j]);
      R->D->init(R->p2, s2, m);
      col_sweep(R, R->p2, p, m, c, s2, buf);
    }
    finalize(R, m, s1, s2, res);
    R->st(R->out + (q * Lk + j0) * (int64_t)R->osize, (int64_t)R->osize, res, m);
  }
}

/* ---- column mode split over rows: one-pass float32 reductions (sum, mean, max, min) ----
 * Reducing the leading axis of a matrix with few column blocks leaves threads idle, and a
 * column block narrower than the row reads one page-sized segment per row. Here each work item
 * is (column block of up to WBLK, chunk of rows): it accumulates whole row segments into float
 * accumulators (flushed to double every CFLUSH rows) and leaves a partial state per column;
 * the partials of the chunks are then combined. */
enum { WBLK = 4096 };

typedef struct split_ctx {
  const rctx *R;
  int64_t Lk, nb, nchunks, rows_per;
  int64_t W;    /* a partial's width: min(Lk, WBLK) */
  double *part; /* [item][W], from the allocator's cache: no fresh pages per call */
  atomic_bool oom;
} split_ctx;

static void split_worker(void *ctx, int64_t begin, int64_t end) {
  split_ctx *S = ctx;
  const rctx *R = S->R;
  const lz_red_kernels *K = R->K;
  int nk = R->nk, pk = R->p1;
  bool ext = pk != P_SUM, is_max = pk == P_MAX;
  int64_t s = R->kst[nk - 1];
  bool direct = R->dt == LZ_FLOAT32 && s == (int64_t)sizeof(float);
  float *fa = malloc(2 * WBLK * sizeof(float)), *buf = fa + WBLK;
  if (!fa) {
    atomic_store(&S->oom, true);
    return;
  }
  for (int64_t item = begin; item < end; item++) {
    int64_t chunk = item % S->nchunks, t = item / S->nchunks;
    int64_t q = t / S->nb, j0 = (t % S->nb) * WBLK, m = S->Lk - j0 < WBLK ? S->Lk - j0 : WBLK;
    int64_t off = j0 * s, u = q;
    for (int d = nk - 2; d >= 0; d--) {
      off += (u % R->ks[d]) * R->kst[d];
      u /= R->ks[d];
    }
    int64_t r0 = chunk * S->rows_per, r1 = r0 + S->rows_per < R->nred ? r0 + S->rows_per : R->nred;
    int64_t idx[LZ_MAX_NDIM] = {0}, rem = r0; /* multi-index of row r0 */
    for (int d = R->nr - 1; d >= 0; d--) {
      idx[d] = rem % R->rs[d];
      rem /= R->rs[d];
      off += idx[d] * R->rst[d];
    }
    const char *p = R->base + off;
    double *part = S->part + item * S->W;
    float init = ext ? (is_max ? -INFINITY : INFINITY) : 0.0f;
    for (int64_t j = 0; j < m; j++) fa[j] = init, part[j] = init;
    int since = 0;
    if (direct && R->nr == 1) { /* rows a constant stride apart: fold up to 8 per pass */
      int64_t rs = R->rst[0] / (int64_t)sizeof(float);
      for (int64_t r = r0; r < r1;) {
        int k = (int)(r1 - r < 8 ? r1 - r : 8);
        if (!ext && k > CFLUSH - since) k = CFLUSH - since;
        const float *x = (const float *)p + (r - r0) * rs;
        if (ext) K->cols_ext(fa, x, rs, k, m, is_max);
        else K->cols_sum(fa, x, rs, k, m);
        r += k;
        if (!ext && (since += k) == CFLUSH) {
          for (int64_t j = 0; j < m; j++) part[j] += fa[j], fa[j] = 0;
          since = 0;
        }
      }
      r1 = r0; /* done */
    }
    for (int64_t r = r0; r < r1; r++) {
      const float *x = (const float *)p;
      if (!direct) {
        R->ld(buf, p, s, m);
        x = buf;
      }
      if (ext) K->col_ext(fa, x, m, is_max);
      else K->col_sum(fa, x, m);
      if (!ext && ++since == CFLUSH) {
        for (int64_t j = 0; j < m; j++) part[j] += fa[j], fa[j] = 0;
        since = 0;
      }
      p += odo_step(idx, R->rs, R->rst, R->nr);
    }
    for (int64_t j = 0; j < m; j++) part[j] = ext ? fa[j] : part[j] + fa[j];
  }
  free(fa);
}

/* Runs the split column mode; false if it does not apply or scratch memory is short. */
static bool col_split(const rctx *R) {
  int pk = R->p1;
  if (!R->K || R->p2 != P_NONE || (pk != P_SUM && pk != P_MAX && pk != P_MIN)) return false;
  split_ctx S = {.R = R, .Lk = R->ks[R->nk - 1]};
  S.nb = (S.Lk + WBLK - 1) / WBLK;
  int64_t base = (R->nout / S.Lk) * S.nb, nth = lz__num_threads();
  S.nchunks = base >= 2 * nth ? 1 : (2 * nth + base - 1) / base;
  if (S.nchunks > R->nred / 256) S.nchunks = R->nred / 256 > 1 ? R->nred / 256 : 1;
  S.rows_per = (R->nred + S.nchunks - 1) / S.nchunks;
  S.nchunks = (R->nred + S.rows_per - 1) / S.rows_per;
  int64_t items = base * S.nchunks;
  S.W = S.Lk < WBLK ? S.Lk : WBLK;
  acc_t *st = malloc(WBLK * sizeof *st);
  double *res = malloc(WBLK * sizeof *res);
  size_t pcap = 0;
  S.part = lz__data_alloc((size_t)items * (size_t)S.W * sizeof(double), &pcap);
  atomic_init(&S.oom, false);
  if (!st || !res || !S.part) {
    free(st), free(res);
    lz__data_free(S.part, pcap);
    return false;
  }
  int64_t per_item = S.rows_per * (S.Lk < WBLK ? S.Lk : WBLK);
  lz__parallel_for(items, 32768 / (per_item + 1) + 1, split_worker, &S);
  bool ok = !atomic_load(&S.oom);
  for (int64_t t = 0; ok && t < base; t++) { /* combine the chunks of each block, store */
    int64_t q = t / S.nb, j0 = (t % S.nb) * WBLK, m = S.Lk - j0 < WBLK ? S.Lk - j0 : WBLK;
    const double *p0 = S.part + t * S.nchunks * S.W;
    for (int64_t j = 0; j < m; j++) {
      double a = p0[j];
      for (int64_t c = 1; c < S.nchunks; c++) {
        double v = p0[c * S.W + j];
        if (pk == P_SUM) a += v;
        else if (pk == P_MAX ? GT_NAN(v, a) : LT_NAN(v, a)) a = v;
      }
      st[j].f = a;
    }
    finalize(R, m, st, NULL, res);
    R->st(R->out + (q * S.Lk + j0) * (int64_t)R->osize, (int64_t)R->osize, res, m);
  }
  free(st), free(res);
  lz__data_free(S.part, pcap);
  return ok;
}

/* ---- row mode split along the run: few outputs, each reducing a long contiguous run (a full
 * sum of an array): threads take chunks of the run and their partial states are combined. */
typedef struct rsplit_ctx {
  const rctx *R;
  int64_t nchunks, per;
  acc_t *part; /* [output][chunk] */
} rsplit_ctx;

static void rsplit_worker(void *ctx, int64_t begin, int64_t end) {
  const rsplit_ctx *S = ctx;
  const rctx *R = S->R;
  int64_t s = R->rst[0];
  bool direct = R->dt == LZ_FLOAT32 && s == (int64_t)sizeof(float);
  _Alignas(64) float buf[BLK];
  for (int64_t item = begin; item < end; item++) {
    int64_t o = item / S->nchunks, ch = item % S->nchunks, off = 0;
    for (int d = R->nk - 1; d >= 0; d--) {
      off += (o % R->ks[d]) * R->kst[d];
      o /= R->ks[d];
    }
    int64_t e0 = ch * S->per, e1 = e0 + S->per < R->nred ? e0 + S->per : R->nred;
    const char *p = R->base + off + e0 * s;
    acc_t *st = &S->part[item];
    R->D->init(R->p1, st, 1);
    if (direct) {
      row_fast(R, R->p1, (const float *)p, e1 - e0, NULL, st);
      continue;
    }
    for (int64_t i = e0; i < e1; i += BLK, p += BLK * s) {
      int64_t m = e1 - i < BLK ? e1 - i : BLK;
      R->ld(buf, p, s, m);
      row_fast(R, R->p1, buf, m, NULL, st);
    }
  }
}

/* Runs the split row mode; false if it does not apply or scratch memory is short. */
static bool row_split(const rctx *R) {
  int pk = R->p1, nth = lz__num_threads();
  if (!R->K || R->p2 != P_NONE || (pk != P_SUM && pk != P_MAX && pk != P_MIN) || R->nr != 1 ||
      nth < 2 || R->nout >= nth || R->nred < 65536)
    return false;
  rsplit_ctx S = {.R = R, .nchunks = 4 * nth};
  S.per = ((R->nred + S.nchunks - 1) / S.nchunks + 63) & ~(int64_t)63;
  S.nchunks = (R->nred + S.per - 1) / S.per;
  int64_t items = R->nout * S.nchunks;
  S.part = malloc((size_t)items * sizeof *S.part);
  acc_t *st = malloc((size_t)R->nout * sizeof *st);
  double *res = malloc((size_t)R->nout * sizeof *res);
  if (!S.part || !st || !res) {
    free(S.part), free(st), free(res);
    return false;
  }
  lz__parallel_for(items, 1, rsplit_worker, &S);
  for (int64_t o = 0; o < R->nout; o++) {
    double a = S.part[o * S.nchunks].f;
    for (int64_t c = 1; c < S.nchunks; c++) {
      double v = S.part[o * S.nchunks + c].f;
      if (pk == P_SUM) a += v;
      else if (pk == P_MAX ? GT_NAN(v, a) : LT_NAN(v, a)) a = v;
    }
    st[o].f = a;
  }
  finalize(R, R->nout, st, NULL, res);
  R->st(R->out, (int64_t)R->osize, res, R->nout);
  free(S.part), free(st), free(res);
  return true;
}

/* Appends dim (size, byte stride) to a list, merging it into the previous dim when the two
 * are contiguous with each other. */
static void push_dim(int64_t *sizes, int64_t *strides, int *n, int64_t size, int64_t stride) {
  if (*n > 0 && strides[*n - 1] == stride * size) {
    sizes[*n - 1] *= size;
    strides[*n - 1] = stride;
    return;
  }
  sizes[*n] = size;
  strides[*n] = stride;
  (*n)++;
}

static int64_t iabs64(int64_t v) { return v < 0 ? -v : v; }

int lz_cpu_reduce_run(lz_reduce_kind kind, int ddof, const char *base, lz_dtype dt, int ndim,
                      const int64_t *shape, const int64_t *strides, const bool *reduced,
                      char *out, lz_dtype odt) {
  rctx R;
  memset(&R, 0, sizeof R);
  lz_dtype ct = lz_cpu_compute_type(dt);
  if (kind == LZ_RK_VAR || kind == LZ_RK_STD || kind == LZ_RK_LSE) {
    /* Float math: float32 for half and float32 inputs, float64 otherwise (exact for ints). */
    ct = ct == LZ_FLOAT32 || (kind == LZ_RK_LSE && ct != LZ_FLOAT64) ? LZ_FLOAT32 : LZ_FLOAT64;
  }
  R.D = domain_of(ct);
  R.K = ct == LZ_FLOAT32 ? lz_cpu_red_kernels() : NULL;
  R.kind = kind;
  R.ddof = ddof;
  R.dt = dt;
  R.isize = lz_dtype_size(dt);
  R.osize = lz_dtype_size(odt);
  R.base = base;
  R.out = out;
  switch (kind) {
  case LZ_RK_SUM:
  case LZ_RK_MEAN: R.p1 = P_SUM; break;
  case LZ_RK_PROD: R.p1 = P_PROD; break;
  case LZ_RK_MAX: R.p1 = P_MAX; break;
  case LZ_RK_MIN: R.p1 = P_MIN; break;
  case LZ_RK_ALL:
  case LZ_RK_ANY:
  case LZ_RK_COUNT: R.p1 = P_CNT; break;
  case LZ_RK_VAR:
  case LZ_RK_STD: R.p1 = P_SUM; break;
  case LZ_RK_LSE: R.p1 = P_MAX; break;
  }
  R.p2 = kind == LZ_RK_VAR || kind == LZ_RK_STD ? P_SSD : kind == LZ_RK_LSE ? P_SEXP : P_NONE;
  bool int_result = !R.D->is_float && kind <= LZ_RK_MIN;
  R.rct = int_result ? ct : LZ_FLOAT64;
  R.ld = lz_cpu_loader(dt, ct);
  R.st = lz_cpu_storer(odt, R.rct);
  if (!R.ld || !R.st) {
    return lz__error(LZ_ERROR_DTYPE, "lz_eval", "no reduction kernel from %s to %s",
                     lz_dtype_name(dt), lz_dtype_name(odt));
  }
  R.nout = R.nred = 1;
  for (int d = 0; d < ndim; d++) {
    int64_t bs = strides[d] * (int64_t)R.isize;
    if (reduced[d]) R.nred *= shape[d];
    else R.nout *= shape[d];
    if (shape[d] == 1) continue;
    if (reduced[d]) push_dim(R.rs, R.rst, &R.nr, shape[d], bs);
    else push_dim(R.ks, R.kst, &R.nk, shape[d], bs);
  }
  if (R.nout == 0) return 0;
  if (R.nr == 0) R.rs[0] = 1, R.rst[0] = 0, R.nr = 1;
  if (R.nk == 0) R.ks[0] = 1, R.kst[0] = 0, R.nk = 1;
  /* Column mode when the innermost kept dim is more contiguous than the innermost reduced one
   * (and there are several outputs along it to vectorise over). */
  bool col = R.ks[R.nk - 1] > 1 && R.nred > 0 &&
             iabs64(R.kst[R.nk - 1]) < iabs64(R.rst[R.nr - 1]);
  int64_t work = R.nred > 0 ? R.nred : 1;
  if (col && col_split(&R)) return 0;
  if (!col && row_split(&R)) return 0;
  if (col) {
    int64_t Lk = R.ks[R.nk - 1], nb = (Lk + CBLK - 1) / CBLK;
    int64_t items = (R.nout / Lk) * nb;
    int64_t grain = 32768 / (work * CBLK) + 1;
    lz__parallel_for(items, grain, col_worker, &R);
  } else {
    lz__parallel_for(R.nout, 32768 / work + 1, row_worker, &R);
  }
  return 0;
}

/* ---- node kernels ---- */

static void shape64(const lz_array *a, int64_t *shape) {
  for (int d = 0; d < a->ndim; d++) shape[d] = a->shape[d];
}

int lz_cpu_reduce(lz_node *node, lz_array **outs) {
  const lz_reduce_params *p = node->params;
  lz_reduce_kind kind = *(const lz_reduce_kind *)lz__op(node->op)->impl;
  lz_array *x = node->inputs[0], *out = outs[0];
  if (lz__alloc_output(out, lz__op(node->op)->name) != 0) return -1;
  bool red[LZ_MAX_NDIM] = {false};
  for (int i = 0; i < p->naxes; i++) red[p->axes[i]] = true;
  int64_t shape[LZ_MAX_NDIM];
  shape64(x, shape);
  return lz_cpu_reduce_run(kind, p->ddof, lz__data_ptr(x), x->dtype, x->ndim, shape, x->strides,
                           red, lz__data_ptr(out), out->dtype);
}

/* trace: a sum over the diagonal view (other dims..., diagonal) of the input. */
int lz_cpu_trace(lz_node *node, lz_array **outs) {
  const lz_trace_params *p = node->params;
  lz_array *x = node->inputs[0], *out = outs[0];
  if (lz__alloc_output(out, "lz_trace") != 0) return -1;
  int64_t shape[LZ_MAX_NDIM], strides[LZ_MAX_NDIM];
  bool red[LZ_MAX_NDIM] = {false};
  int n = 0;
  for (int d = 0; d < x->ndim; d++) {
    if (d == p->axis1 || d == p->axis2) continue;
    shape[n] = x->shape[d];
    strides[n++] = x->strides[d];
  }
  int64_t n1 = x->shape[p->axis1], n2 = x->shape[p->axis2], off = 0, len;
  int64_t s1 = x->strides[p->axis1], s2 = x->strides[p->axis2];
  if (p->offset >= 0) {
    len = n2 - p->offset < n1 ? n2 - p->offset : n1;
    off = p->offset * s2;
  } else {
    len = n1 + p->offset < n2 ? n1 + p->offset : n2;
    off = -(int64_t)p->offset * s1;
  }
  if (len <= 0) len = 0, off = 0;
  shape[n] = len;
  strides[n] = s1 + s2;
  red[n++] = true;
  const char *base = lz__data_ptr(x) + off * (int64_t)lz_dtype_size(x->dtype);
  return lz_cpu_reduce_run(LZ_RK_SUM, 0, base, x->dtype, n, shape, strides, red,
                           lz__data_ptr(out), out->dtype);
}
