/* Scans along one axis (cumsum, cumprod, cummax, cummin, logcumsumexp) and diff. Each lane is
 * loaded into a compute-type buffer, scanned in place and stored; lanes split across threads.
 * Integer sums and products wrap; floats scan in float32 (float64 for float64). */
#include <math.h>
#include <stdlib.h>

#include "../core/threads.h"
#include "reduce.h"

typedef struct scan_ctx {
  lz_cpu_lanes L;
  const lz_array *x;
  char *out;
  lz_dtype ct;
  size_t csize, isize, osize;
  lz_cpu_load_fn ld;
  lz_cpu_store_fn st;
  lz_reduce_kind kind;
  bool reverse, inclusive;
  double fid;  /* identity of an exclusive float scan */
  int64_t iid; /* identity of an exclusive integer scan, as the compute value */
  int n;       /* diff's order */
  int64_t out_len;
  atomic_bool oom;
} scan_ctx;

static inline double logaddexp(double a, double b) {
  if (a != a || b != b) return NAN;
  double m = a > b ? a : b;
  if (m == -INFINITY || m == INFINITY) return m;
  return m + log1p(exp(-fabs(a - b)));
}
static inline float logaddexpf(float a, float b) {
  if (a != a || b != b) return NAN;
  float m = a > b ? a : b;
  if (isinf(m)) return m;
  return m + log1pf(expf(-fabsf(a - b)));
}

#define FMAXN(a, b) ((a) != (a) || (b) != (b) ? (__typeof__(a))NAN : (a) > (b) ? (a) : (b))
#define FMINN(a, b) ((a) != (a) || (b) != (b) ? (__typeof__(a))NAN : (a) < (b) ? (a) : (b))
#define IMAX(a, b) ((a) > (b) ? (a) : (b))
#define IMIN(a, b) ((a) < (b) ? (a) : (b))
#define WADD(a, b) ((__typeof__(a))((uint64_t)(a) + (uint64_t)(b)))
#define WMUL(a, b) ((__typeof__(a))((uint64_t)(a) * (uint64_t)(b)))
#define FADD(a, b) ((a) + (b))
#define FMUL(a, b) ((a) * (b))

#define SCAN_LOOP(OP)                                                                            \
  for (int64_t t = 0; t < n; t++) {                                                              \
    int64_t i = rev ? n - 1 - t : t;                                                             \
    __typeof__(v[0]) x = v[i];                                                                     \
    if (inc) {                                                                                   \
      acc = t == 0 ? x : OP(acc, x);                                                             \
      v[i] = acc;                                                                                \
    } else {                                                                                     \
      v[i] = acc;                                                                                \
      acc = t == 0 ? x : OP(acc, x);                                                             \
    }                                                                                            \
  }

#define SCAN_FN(NAME, T, ADD, MUL, MAX, MIN, LAE)                                                \
  static void NAME(const scan_ctx *c, T *v, int64_t n, T id) {                                   \
    bool rev = c->reverse, inc = c->inclusive;                                                   \
    T acc = id;                                                                                  \
    switch (c->kind) {                                                                           \
    case LZ_RK_SUM: SCAN_LOOP(ADD) break;                                                        \
    case LZ_RK_PROD: SCAN_LOOP(MUL) break;                                                       \
    case LZ_RK_MAX: SCAN_LOOP(MAX) break;                                                        \
    case LZ_RK_MIN: SCAN_LOOP(MIN) break;                                                        \
    default: SCAN_LOOP(LAE) break;                                                               \
    }                                                                                            \
  }
SCAN_FN(scan_f32, float, FADD, FMUL, FMAXN, FMINN, logaddexpf)
SCAN_FN(scan_f64, double, FADD, FMUL, FMAXN, FMINN, logaddexp)
SCAN_FN(scan_i64, int64_t, WADD, WMUL, IMAX, IMIN, WADD)
SCAN_FN(scan_u64, uint64_t, WADD, WMUL, IMAX, IMIN, WADD)

static void scan_worker(void *ctx, int64_t begin, int64_t end) {
  scan_ctx *c = ctx;
  int64_t n = c->L.len;
  char *buf = malloc((size_t)(n > 0 ? n : 1) * c->csize);
  if (!buf) {
    atomic_store(&c->oom, true);
    return;
  }
  for (int64_t l = begin; l < end; l++) {
    int64_t io, oo;
    lz_cpu_lanes_offsets(&c->L, l, &io, &oo);
    lz_cpu_lane_load(&c->L, c->ld, lz__data_ptr(c->x) + io * (int64_t)c->isize, c->isize, buf,
                     c->csize);
    switch (c->ct) {
    case LZ_FLOAT32: scan_f32(c, (float *)buf, n, (float)c->fid); break;
    case LZ_FLOAT64: scan_f64(c, (double *)buf, n, c->fid); break;
    case LZ_UINT64: scan_u64(c, (uint64_t *)buf, n, (uint64_t)c->iid); break;
    default: scan_i64(c, (int64_t *)buf, n, c->iid); break;
    }
    lz_cpu_lane_store(&c->L, c->st, c->out + oo * (int64_t)c->osize, c->osize, buf, c->csize);
  }
  free(buf);
}

/* The identity of an exclusive scan of `kind` whose results have dtype d. */
static void identity(scan_ctx *c, lz_dtype d) {
  bool mx = c->kind == LZ_RK_MAX, mn = c->kind == LZ_RK_MIN;
  c->fid = c->kind == LZ_RK_PROD ? 1 : mx || c->kind == LZ_RK_LSE ? -INFINITY : mn ? INFINITY : 0;
  c->iid = c->kind == LZ_RK_PROD ? 1 : 0;
  if (!mx && !mn) return;
  switch (d) {
  case LZ_BOOL: c->iid = mn; break;
  case LZ_INT8: c->iid = mx ? INT8_MIN : INT8_MAX; break;
  case LZ_INT16: c->iid = mx ? INT16_MIN : INT16_MAX; break;
  case LZ_INT32: c->iid = mx ? INT32_MIN : INT32_MAX; break;
  case LZ_INT64: c->iid = mx ? INT64_MIN : INT64_MAX; break;
  case LZ_UINT8: c->iid = mx ? 0 : UINT8_MAX; break;
  case LZ_UINT16: c->iid = mx ? 0 : UINT16_MAX; break;
  case LZ_UINT32: c->iid = mx ? 0 : (int64_t)UINT32_MAX; break;
  case LZ_UINT64: c->iid = mx ? 0 : -1; break; /* all ones as uint64 */
  default: break;
  }
}

static int setup(scan_ctx *c, lz_node *node, lz_array *out, lz_dtype ct) {
  const lz_axis_params *p = node->params;
  lz_array *x = node->inputs[0];
  bool lane[LZ_MAX_NDIM] = {false};
  lane[p->axis] = true;
  lz_cpu_lanes_init(&c->L, x->ndim, x->shape, x->strides, out->strides, lane);
  c->x = x;
  c->out = lz__data_ptr(out);
  c->ct = ct;
  c->csize = lz_dtype_size(ct);
  c->isize = lz_dtype_size(x->dtype);
  c->osize = lz_dtype_size(out->dtype);
  c->ld = lz_cpu_loader(x->dtype, ct);
  c->st = lz_cpu_storer(out->dtype, ct);
  c->reverse = p->reverse;
  c->inclusive = p->inclusive;
  c->n = p->k;
  atomic_init(&c->oom, false);
  if (!c->ld || !c->st) {
    return lz__error(LZ_ERROR_DTYPE, "lz_eval", "%s has no kernel for %s",
                     lz__op(node->op)->name, lz_dtype_name(x->dtype));
  }
  return 0;
}

static int finish(scan_ctx *c, void (*fn)(void *, int64_t, int64_t), const char *op) {
  if (c->L.nlanes == 0) return 0;
  lz__parallel_for(c->L.nlanes, 16384 / (c->L.len + 1) + 1, fn, c);
  if (atomic_load(&c->oom)) return lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
  return 0;
}

int lz_cpu_scan(lz_node *node, lz_array **outs) {
  lz_array *out = outs[0];
  if (lz__alloc_output(out, lz__op(node->op)->name) != 0) return -1;
  scan_ctx c;
  memset(&c, 0, sizeof c);
  c.kind = *(const lz_reduce_kind *)lz__op(node->op)->impl;
  lz_dtype ct = lz_cpu_compute_type(out->dtype);
  if (setup(&c, node, out, ct) != 0) return -1;
  identity(&c, out->dtype);
  return finish(&c, scan_worker, lz__op(node->op)->name);
}

/* ---- diff ---- */

#define DIFF_FN(NAME, T, SUB)                                                                    \
  static void NAME(T *v, int64_t len, int n) {                                                   \
    for (int r = 0; r < n; r++, len--)                                                           \
      for (int64_t i = 0; i + 1 < len; i++) v[i] = SUB(v[i + 1], v[i]);                         \
  }
#define FSUB(a, b) ((a) - (b))
#define WSUB(a, b) ((__typeof__(a))((uint64_t)(a) - (uint64_t)(b)))
#define XOR(a, b) ((int64_t)((a) != (b)))
DIFF_FN(diff_f32, float, FSUB)
DIFF_FN(diff_f64, double, FSUB)
DIFF_FN(diff_i64, int64_t, WSUB)
DIFF_FN(diff_u64, uint64_t, WSUB)
DIFF_FN(diff_bool, int64_t, XOR)

static void diff_worker(void *ctx, int64_t begin, int64_t end) {
  scan_ctx *c = ctx;
  int64_t n = c->L.len;
  char *buf = malloc((size_t)(n > 0 ? n : 1) * c->csize);
  if (!buf) {
    atomic_store(&c->oom, true);
    return;
  }
  for (int64_t l = begin; l < end; l++) {
    int64_t io, oo;
    lz_cpu_lanes_offsets(&c->L, l, &io, &oo);
    lz_cpu_lane_load(&c->L, c->ld, lz__data_ptr(c->x) + io * (int64_t)c->isize, c->isize, buf,
                     c->csize);
    switch (c->ct) {
    case LZ_FLOAT32: diff_f32((float *)buf, n, c->n); break;
    case LZ_FLOAT64: diff_f64((double *)buf, n, c->n); break;
    case LZ_UINT64: diff_u64((uint64_t *)buf, n, c->n); break;
    default:
      if (c->x->dtype == LZ_BOOL) diff_bool((int64_t *)buf, n, c->n);
      else diff_i64((int64_t *)buf, n, c->n);
      break;
    }
    c->st(c->out + oo * (int64_t)c->osize, c->L.lout[0] * (int64_t)c->osize, buf, c->out_len);
  }
  free(buf);
}

int lz_cpu_diff(lz_node *node, lz_array **outs) {
  const lz_axis_params *p = node->params;
  lz_array *out = outs[0];
  if (lz__alloc_output(out, "lz_diff") != 0) return -1;
  scan_ctx c;
  memset(&c, 0, sizeof c);
  if (setup(&c, node, out, lz_cpu_compute_type(out->dtype)) != 0) return -1;
  c.out_len = out->shape[p->axis];
  if (c.out_len == 0) return 0;
  return finish(&c, diff_worker, "lz_diff");
}
