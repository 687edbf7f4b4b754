/* Lane kernels of the reduction family: argmax/argmin, median and softmax. Each lane (the
 * reduced axes of one output) is loaded into a contiguous compute-type buffer, processed, and
 * its result stored; lanes are split across threads. */
#include <math.h>
#include <stdlib.h>

#include "../core/threads.h"
#include "reduce.h"

/* Output element strides over the input's shape: contiguous over the kept dims, 0 on lanes. */
static void kept_strides(const lz_array *x, const bool *lane, int64_t *os) {
  int64_t s = 1;
  for (int d = x->ndim - 1; d >= 0; d--) {
    os[d] = lane[d] ? 0 : s;
    if (!lane[d]) s *= x->shape[d];
  }
}

typedef struct lane_ctx {
  lz_cpu_lanes L;
  const lz_array *x;
  char *out;
  lz_dtype ct;
  size_t csize, isize, osize;
  lz_cpu_load_fn ld;
  lz_cpu_store_fn st;
  bool is_max;
  atomic_bool oom;
} lane_ctx;

static void lane_ctx_init(lane_ctx *c, lz_array *x, lz_array *out, const bool *lane,
                          const int64_t *out_strides, lz_dtype ct) {
  lz_cpu_lanes_init(&c->L, x->ndim, x->shape, x->strides, out_strides, lane);
  c->x = x;
  c->out = lz__data_ptr(out);
  c->ct = ct;
  c->csize = lz_dtype_size(ct);
  c->isize = lz_dtype_size(x->dtype);
  c->osize = lz_dtype_size(out->dtype);
  c->ld = lz_cpu_loader(x->dtype, ct);
  c->st = lz_cpu_storer(out->dtype, ct);
  atomic_init(&c->oom, false);
}

static int lane_run(lane_ctx *c, void (*fn)(void *, int64_t, int64_t), const char *op) {
  if (!c->ld || !c->st) {
    return lz__error(LZ_ERROR_DTYPE, op, "no kernel for %s", lz_dtype_name(c->x->dtype));
  }
  if (c->L.nlanes == 0) return 0;
  lz__parallel_for(c->L.nlanes, 16384 / (c->L.len + 1) + 1, fn, c);
  if (atomic_load(&c->oom)) return lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
  return 0;
}

static void *lane_buf(lane_ctx *c, int64_t n, size_t size) {
  void *b = malloc((size_t)(n > 0 ? n : 1) * size);
  if (!b) atomic_store(&c->oom, true);
  return b;
}

/* ---- argmax / argmin ---- */

#define ARG_LOOP(T, ISNAN)                                                                       \
  {                                                                                              \
    const T *v = (const T *)buf;                                                                 \
    T best = v[0];                                                                               \
    if (ISNAN(best)) break;                                                                      \
    for (int64_t i = 1; i < n; i++) {                                                            \
      if (ISNAN(v[i])) {                                                                         \
        bi = (uint32_t)i;                                                                        \
        break;                                                                                   \
      }                                                                                          \
      if (c->is_max ? v[i] > best : v[i] < best) best = v[i], bi = (uint32_t)i;                  \
    }                                                                                            \
  }
#define IS_NAN(v) ((v) != (v))
#define NEVER(v) ((void)(v), 0)

static void argreduce_worker(void *ctx, int64_t begin, int64_t end) {
  lane_ctx *c = ctx;
  int64_t n = c->L.len;
  char *buf = lane_buf(c, n, c->csize);
  if (!buf) return;
  for (int64_t l = begin; l < end; l++) {
    int64_t io, oo;
    lz_cpu_lanes_offsets(&c->L, l, &io, &oo);
    lz_cpu_lane_load(&c->L, c->ld, lz__data_ptr(c->x) + io * (int64_t)c->isize, c->isize, buf,
                     c->csize);
    uint32_t bi = 0;
    switch (c->ct) {
    case LZ_FLOAT32: ARG_LOOP(float, IS_NAN) break;
    case LZ_FLOAT64: ARG_LOOP(double, IS_NAN) break;
    case LZ_UINT64: ARG_LOOP(uint64_t, NEVER) break;
    default: ARG_LOOP(int64_t, NEVER) break;
    }
    ((uint32_t *)c->out)[oo] = bi;
  }
  free(buf);
}

int lz_cpu_argreduce(lz_node *node, lz_array **outs) {
  const lz_axis_params *p = node->params;
  lz_array *x = node->inputs[0], *out = outs[0];
  if (lz__alloc_output(out, lz__op(node->op)->name) != 0) return -1;
  bool lane[LZ_MAX_NDIM];
  for (int d = 0; d < x->ndim; d++) lane[d] = p->axis < 0 || d == p->axis;
  int64_t os[LZ_MAX_NDIM];
  kept_strides(x, lane, os);
  lane_ctx c;
  lane_ctx_init(&c, x, out, lane, os, lz_cpu_compute_type(x->dtype));
  c.is_max = *(const int *)lz__op(node->op)->impl;
  c.st = lz_cpu_storer(LZ_UINT32, LZ_INT64); /* unused: indices are written directly */
  return lane_run(&c, argreduce_worker, "lz_argmax");
}

/* ---- median ---- */

/* Rearranges v so that v[k] is the k-th smallest, smaller ones before it (v has no NaN). */
static void select_kth(double *v, int64_t n, int64_t k) {
  int64_t lo = 0, hi = n - 1;
  while (lo < hi) {
    double piv = v[lo + (hi - lo) / 2];
    int64_t i = lo, j = hi;
    while (i <= j) {
      while (v[i] < piv) i++;
      while (v[j] > piv) j--;
      if (i <= j) {
        double t = v[i];
        v[i] = v[j], v[j] = t;
        i++, j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

static void median_worker(void *ctx, int64_t begin, int64_t end) {
  lane_ctx *c = ctx;
  int64_t n = c->L.len;
  double *buf = lane_buf(c, n, sizeof(double));
  if (!buf) return;
  for (int64_t l = begin; l < end; l++) {
    int64_t io, oo;
    lz_cpu_lanes_offsets(&c->L, l, &io, &oo);
    lz_cpu_lane_load(&c->L, c->ld, lz__data_ptr(c->x) + io * (int64_t)c->isize, c->isize, buf,
                     sizeof(double));
    double m = NAN;
    bool has_nan = false;
    for (int64_t i = 0; i < n && !has_nan; i++) has_nan = isnan(buf[i]);
    if (n > 0 && !has_nan) {
      int64_t k = n / 2;
      select_kth(buf, n, k);
      m = buf[k];
      if (n % 2 == 0) {
        double lo = buf[0];
        for (int64_t i = 1; i < k; i++) lo = buf[i] > lo ? buf[i] : lo;
        m = lo + (m - lo) / 2;
      }
    }
    c->st(c->out + oo * (int64_t)c->osize, (int64_t)c->osize, &m, 1);
  }
  free(buf);
}

int lz_cpu_median(lz_node *node, lz_array **outs) {
  const lz_reduce_params *p = node->params;
  lz_array *x = node->inputs[0], *out = outs[0];
  if (lz__alloc_output(out, "lz_median") != 0) return -1;
  bool lane[LZ_MAX_NDIM] = {false};
  for (int i = 0; i < p->naxes; i++) lane[p->axes[i]] = true;
  int64_t os[LZ_MAX_NDIM];
  kept_strides(x, lane, os);
  lane_ctx c;
  lane_ctx_init(&c, x, out, lane, os, LZ_FLOAT64);
  return lane_run(&c, median_worker, "lz_median");
}

/* ---- softmax: max pass, exp-and-sum pass, scale pass per lane ---- */

#define SOFTMAX_LANE(T, EXP)                                                                     \
  {                                                                                              \
    const T *x = (const T *)src;                                                                 \
    T *y = (T *)dst;                                                                             \
    T m = -INFINITY;                                                                             \
    bool nan = false;                                                                            \
    for (int64_t i = 0; i < n; i++) {                                                            \
      nan |= x[i] != x[i];                                                                       \
      m = x[i] > m ? x[i] : m;                                                                   \
    }                                                                                            \
    if (nan) m = NAN;                                                                            \
    else if (isinf(m)) m = m > 0 ? m : 0; /* all -inf: exp(-inf - 0) = 0, then 0/0 = NaN */    \
    T s = 0;                                                                                     \
    for (int64_t i = 0; i < n; i++) {                                                            \
      y[i] = EXP(x[i] - m);                                                                      \
      s += y[i];                                                                                 \
    }                                                                                            \
    T r = (T)1 / s;                                                                              \
    for (int64_t i = 0; i < n; i++) y[i] *= r;                                                   \
  }

static void softmax_worker(void *ctx, int64_t begin, int64_t end) {
  lane_ctx *c = ctx;
  int64_t n = c->L.len;
  bool one = c->L.nlane == 1;
  bool direct_in = one && c->x->dtype == c->ct && c->L.lin[0] == 1;
  bool direct_out = one && c->L.lout[0] == 1 && c->st == lz_cpu_storer(c->ct, c->ct);
  char *buf = lane_buf(c, n, c->csize);
  if (!buf) return;
  for (int64_t l = begin; l < end; l++) {
    int64_t io, oo;
    lz_cpu_lanes_offsets(&c->L, l, &io, &oo);
    const char *in = lz__data_ptr(c->x) + io * (int64_t)c->isize;
    char *outp = c->out + oo * (int64_t)c->osize;
    const char *src = in;
    if (!direct_in) {
      lz_cpu_lane_load(&c->L, c->ld, in, c->isize, buf, c->csize);
      src = buf;
    }
    char *dst = direct_out ? outp : buf;
    if (c->ct == LZ_FLOAT64) SOFTMAX_LANE(double, exp)
    else SOFTMAX_LANE(float, expf)
    if (!direct_out) lz_cpu_lane_store(&c->L, c->st, outp, c->osize, buf, c->csize);
  }
  free(buf);
}

int lz_cpu_softmax(lz_node *node, lz_array **outs) {
  const lz_reduce_params *p = node->params;
  lz_array *x = node->inputs[0], *out = outs[0];
  if (lz__alloc_output(out, "lz_softmax") != 0) return -1;
  bool lane[LZ_MAX_NDIM] = {false};
  for (int i = 0; i < p->naxes; i++) lane[p->axes[i]] = true;
  lane_ctx c;
  lane_ctx_init(&c, x, out, lane, out->strides, out->dtype == LZ_FLOAT64 ? LZ_FLOAT64 : LZ_FLOAT32);
  return lane_run(&c, softmax_worker, "lz_softmax");
}
