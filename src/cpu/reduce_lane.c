/* Lane kernels of the reduction family: argmax/argmin, median and softmax. Each lane (the
 * reduced axes of one output) is loaded into a contiguous compute-type buffer, processed, and
 * its result stored; lanes are split across threads. */
#include <math.h>
#include <stdlib.h>

#include "../core/threads.h"
#include "reduce.h"
#include "reduce_simd.h"

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
  const lz_red_kernels *K; /* float32 lanes: the contiguous kernels */
  int64_t groups, gcols;   /* column mode: groups of gcols neighbouring lanes */
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
  c->K = ct == LZ_FLOAT32 ? lz_cpu_red_kernels() : NULL;
  c->groups = c->gcols = 0;
}

/* Column mode: a one-dim lane whose neighbouring lanes are neighbours in memory (the innermost
 * outer dim has input and output stride 1), as when reducing axis 0 of a row-major matrix.
 * Copying each lane would read one float per cache line; instead a group of up to `gmax`
 * neighbouring lanes is processed a row at a time. Sets c->groups, c->gcols. */
static bool lane_columns(lane_ctx *c, int64_t gmax, bool need_out) {
  const lz_cpu_lanes *L = &c->L;
  if (!c->K || c->x->dtype != LZ_FLOAT32 || L->nlane != 1 || L->nouter == 0 || L->len == 0)
    return false;
  int o = L->nouter - 1;
  if (L->oin[o] != 1 || (need_out && L->oout[o] != 1) || L->lin[0] == 1 || L->oshape[o] < 8)
    return false;
  int64_t w = L->oshape[o];
  c->gcols = w < gmax ? w : gmax;
  c->groups = (L->nlanes / w) * ((w + c->gcols - 1) / c->gcols);
  return true;
}

/* First lane and width of column group g. */
static int64_t group_lanes(const lane_ctx *c, int64_t g, int64_t *width) {
  int64_t w = c->L.oshape[c->L.nouter - 1], per = (w + c->gcols - 1) / c->gcols;
  int64_t j0 = (g % per) * c->gcols;
  *width = w - j0 < c->gcols ? w - j0 : c->gcols;
  return (g / per) * w + j0;
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

enum { ARG_GROUP = 1024, SOFTMAX_GROUP = 4096 };

static void argreduce_cols(void *ctx, int64_t begin, int64_t end) {
  lane_ctx *c = ctx;
  _Alignas(64) float best[ARG_GROUP];
  _Alignas(64) uint32_t idx[ARG_GROUP];
  int64_t n = c->L.len, rs = c->L.lin[0];
  for (int64_t g = begin; g < end; g++) {
    int64_t w, io, oo, l0 = group_lanes(c, g, &w);
    lz_cpu_lanes_offsets(&c->L, l0, &io, &oo);
    const float *x = (const float *)lz__data_ptr(c->x) + io;
    memcpy(best, x, (size_t)w * sizeof(float));
    memset(idx, 0, (size_t)w * sizeof(uint32_t));
    for (int64_t r = 1; r < n; r++) c->K->col_argext(best, idx, x + r * rs, w, (uint32_t)r, c->is_max);
    memcpy((uint32_t *)c->out + oo, idx, (size_t)w * sizeof(uint32_t));
  }
}

static void argreduce_worker(void *ctx, int64_t begin, int64_t end) {
  lane_ctx *c = ctx;
  int64_t n = c->L.len;
  if (c->K && c->x->dtype == LZ_FLOAT32 && c->L.nlane == 1 && c->L.lin[0] == 1) {
    for (int64_t l = begin; l < end; l++) { /* contiguous lanes: no copy */
      int64_t io, oo;
      lz_cpu_lanes_offsets(&c->L, l, &io, &oo);
      const float *x = (const float *)lz__data_ptr(c->x) + io;
      ((uint32_t *)c->out)[oo] = n > 0 ? (uint32_t)c->K->row_argext(x, n, c->is_max) : 0;
    }
    return;
  }
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
  if (c.L.nlanes > 0 && lane_columns(&c, ARG_GROUP, true)) {
    lz__parallel_for(c.groups, 16384 / (c.L.len * c.gcols + 1) + 1, argreduce_cols, &c);
    return 0;
  }
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
    else c->K->row_softmax((float *)dst, (const float *)src, n);
    if (!direct_out) lz_cpu_lane_store(&c->L, c->st, outp, c->osize, buf, c->csize);
  }
  free(buf);
}

/* Softmax of column groups: per group, a max pass, an exp-and-sum pass writing the output, and
 * a scaling pass; each pass reads one contiguous row segment at a time. Groups are wide (one
 * per thread): narrow segments read a few cache lines per row and leave the prefetchers idle. */
static void softmax_cols(void *ctx, int64_t begin, int64_t end) {
  lane_ctx *c = ctx;
  const lz_red_kernels *K = c->K;
  _Alignas(64) float m[SOFTMAX_GROUP], s[SOFTMAX_GROUP];
  int64_t n = c->L.len, rs = c->L.lin[0], ro = c->L.lout[0];
  for (int64_t g = begin; g < end; g++) {
    int64_t w, io, oo, l0 = group_lanes(c, g, &w);
    lz_cpu_lanes_offsets(&c->L, l0, &io, &oo);
    const float *x = (const float *)lz__data_ptr(c->x) + io;
    float *y = (float *)c->out + oo;
    for (int64_t j = 0; j < w; j++) m[j] = -INFINITY, s[j] = 0;
    for (int64_t r = 0; r < n; r += 8) K->cols_ext(m, x + r * rs, rs, n - r < 8 ? (int)(n - r) : 8, w, true);
    for (int64_t j = 0; j < w; j++) /* the shift of a lane, as the row kernel's */
      m[j] = m[j] != m[j] ? m[j] : isinf(m[j]) ? (m[j] > 0 ? m[j] : 0) : m[j];
    for (int64_t r = 0; r < n; r++) K->col_expsum(y + r * ro, s, x + r * rs, m, w);
    for (int64_t j = 0; j < w; j++) s[j] = 1.0f / s[j];
    for (int64_t r = 0; r < n; r++) K->col_scale(y + r * ro, s, w);
  }
}

int lz_cpu_softmax(lz_node *node, lz_array **outs) {
  const lz_reduce_params *p = node->params;
  lz_array *x = node->inputs[0], *out = outs[0];
  if (lz__alloc_output(out, "lz_softmax") != 0) return -1;
  bool lane[LZ_MAX_NDIM] = {false};
  for (int i = 0; i < p->naxes; i++) lane[p->axes[i]] = true;
  lane_ctx c;
  lane_ctx_init(&c, x, out, lane, out->strides, out->dtype == LZ_FLOAT64 ? LZ_FLOAT64 : LZ_FLOAT32);
  int64_t gmax = c.L.nouter ? c.L.oshape[c.L.nouter - 1] : 1, nth = lz__num_threads();
  gmax = ((gmax + nth - 1) / nth + 7) / 8 * 8; /* one group per thread */
  gmax = gmax < 64 ? 64 : gmax > SOFTMAX_GROUP ? SOFTMAX_GROUP : gmax;
  if (c.L.nlanes > 0 && out->dtype == LZ_FLOAT32 && lane_columns(&c, gmax, true)) {
    lz__parallel_for(c.groups, 16384 / (c.L.len * c.gcols + 1) + 1, softmax_cols, &c);
    return 0;
  }
  return lane_run(&c, softmax_worker, "lz_softmax");
}
