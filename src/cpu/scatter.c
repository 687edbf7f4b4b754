/* Scatter kernels: the typed combine loops (set, add, subtract, multiply, divide, maximum,
 * minimum) and the kernels of scatter, the at_* ops, put_along_axis and the slice updates. Each
 * kernel copies its input into a new contiguous output and then combines the updates into it
 * with the index-plan engine. float16/bfloat16 combine in float32; integers wrap. */
#include <math.h>

#include "gather.h"
#include "half.h"

/* ---- combine loops: dst[i] = EXPR(x = dst[i], y = src[i]) ------------------------------ */

#define COMBINE(NAME, T, LOAD, STORE, EXPR)                                                        \
  static void NAME(char *dst, int64_t ds, const char *src, int64_t ss, int64_t n) {                \
    for (int64_t i = 0; i < n; i++, dst += ds, src += ss) {                                        \
      __typeof__(LOAD(*(const T *)src)) x = LOAD(*(T *)dst), y = LOAD(*(const T *)src);            \
      *(T *)dst = STORE(EXPR);                                                                     \
    }                                                                                              \
  }

#define ID(v) (v)
#define WRAP(T, OPR) ((T)((uint64_t)(x)OPR(uint64_t)(y)))
#define FMAX(x, y) ((x) != (x) ? (x) : ((y) != (y) ? (y) : ((x) > (y) ? (x) : (y))))
#define FMIN(x, y) ((x) != (x) ? (x) : ((y) != (y) ? (y) : ((x) < (y) ? (x) : (y))))
#define IMAX(x, y) ((x) > (y) ? (x) : (y))
#define IMIN(x, y) ((x) < (y) ? (x) : (y))

#define INT_SET(T)                                                                                 \
  COMBINE(add_##T, T, ID, ID, WRAP(T, +))                                                          \
  COMBINE(subtract_##T, T, ID, ID, WRAP(T, -))                                                     \
  COMBINE(multiply_##T, T, ID, ID, WRAP(T, *))                                                     \
  COMBINE(maximum_##T, T, ID, ID, IMAX(x, y))                                                      \
  COMBINE(minimum_##T, T, ID, ID, IMIN(x, y))
INT_SET(uint8_t)
INT_SET(uint16_t)
INT_SET(uint32_t)
INT_SET(uint64_t)
INT_SET(int8_t)
INT_SET(int16_t)
INT_SET(int32_t)
INT_SET(int64_t)

#define FLOAT_SET(N, T, LOAD, STORE)                                                               \
  COMBINE(add_##N, T, LOAD, STORE, x + y)                                                          \
  COMBINE(subtract_##N, T, LOAD, STORE, x - y)                                                     \
  COMBINE(multiply_##N, T, LOAD, STORE, x *y)                                                      \
  COMBINE(divide_##N, T, LOAD, STORE, x / y)                                                       \
  COMBINE(maximum_##N, T, LOAD, STORE, FMAX(x, y))                                                 \
  COMBINE(minimum_##N, T, LOAD, STORE, FMIN(x, y))
FLOAT_SET(float, float, ID, ID)
FLOAT_SET(double, double, ID, ID)
FLOAT_SET(f16, uint16_t, lz_h2f, lz_f2h)
FLOAT_SET(bf16, uint16_t, lz_b2f, lz_f2b)

/* bool: add is "or", multiply "and", as in the binary ops. */
COMBINE(or_bool, uint8_t, ID, ID, (uint8_t)(x | y))
COMBINE(and_bool, uint8_t, ID, ID, (uint8_t)(x &y))

#define SET_FN(N, SZ)                                                                              \
  static void set_##N(char *dst, int64_t ds, const char *src, int64_t ss, int64_t n) {             \
    if (ds == SZ && ss == SZ) {                                                                    \
      memcpy(dst, src, (size_t)(n * SZ));                                                          \
      return;                                                                                      \
    }                                                                                              \
    for (int64_t i = 0; i < n; i++, dst += ds, src += ss) memcpy(dst, src, SZ);                    \
  }
SET_FN(1, 1)
SET_FN(2, 2)
SET_FN(4, 4)
SET_FN(8, 8)

#define ROW(N)                                                                                     \
  {                                                                                                \
    [LZ_SCATTER_ADD] = add_##N, [LZ_SCATTER_SUBTRACT] = subtract_##N,                              \
    [LZ_SCATTER_MULTIPLY] = multiply_##N, [LZ_SCATTER_MAXIMUM] = maximum_##N,                      \
    [LZ_SCATTER_MINIMUM] = minimum_##N                                                             \
  }
#define FROW(N)                                                                                    \
  {                                                                                                \
    [LZ_SCATTER_ADD] = add_##N, [LZ_SCATTER_SUBTRACT] = subtract_##N,                              \
    [LZ_SCATTER_MULTIPLY] = multiply_##N, [LZ_SCATTER_DIVIDE] = divide_##N,                        \
    [LZ_SCATTER_MAXIMUM] = maximum_##N, [LZ_SCATTER_MINIMUM] = minimum_##N                         \
  }

static const lz_cpu_combine_fn combine_table[LZ_DTYPE_COUNT][LZ_SCATTER_MODE_COUNT] = {
    [LZ_BOOL] = {[LZ_SCATTER_ADD] = or_bool,
                 [LZ_SCATTER_MULTIPLY] = and_bool,
                 [LZ_SCATTER_MAXIMUM] = or_bool,
                 [LZ_SCATTER_MINIMUM] = and_bool},
    [LZ_UINT8] = ROW(uint8_t),
    [LZ_UINT16] = ROW(uint16_t),
    [LZ_UINT32] = ROW(uint32_t),
    [LZ_UINT64] = ROW(uint64_t),
    [LZ_INT8] = ROW(int8_t),
    [LZ_INT16] = ROW(int16_t),
    [LZ_INT32] = ROW(int32_t),
    [LZ_INT64] = ROW(int64_t),
    [LZ_FLOAT16] = FROW(f16),
    [LZ_BFLOAT16] = FROW(bf16),
    [LZ_FLOAT32] = FROW(float),
    [LZ_FLOAT64] = FROW(double),
};

lz_cpu_combine_fn lz_cpu_scatter_fn(int mode, lz_dtype dtype) {
  if (mode < 0 || mode >= LZ_SCATTER_MODE_COUNT || (int)dtype < 0 || dtype >= LZ_DTYPE_COUNT)
    return NULL;
  if (mode == LZ_SCATTER_SET) {
    switch (lz_dtype_size(dtype)) {
    case 1:
      return set_1;
    case 2:
      return set_2;
    case 4:
      return set_4;
    case 8:
      return set_8;
    default:
      return NULL;
    }
  }
  return combine_table[dtype][mode];
}

/* ---- kernels ------------------------------------------------------------------------------- */

/* Starts a scatter plan: out = a copy of input 0, walked as dst; `upd` is src. */
static int scatter_plan(lz_index_plan *p, lz_node *node, lz_array *out, lz_array *upd) {
  const lz_index_params *prm = node->params;
  memset(p, 0, sizeof *p);
  if (lz__alloc_output(out, prm->name) != 0) return -1;
  if (out->size) lz__copy_to_contiguous(lz__data_ptr(out), node->inputs[0]);
  p->name = prm->name;
  p->dst = lz__data_ptr(out);
  p->src = lz__data_ptr(upd);
  p->itemsize = lz_dtype_size(out->dtype);
  p->indexes_dst = true;
  p->split = -1;
  return 0;
}

static int run(lz_index_plan *p, lz_node *node, lz_array *out) {
  const lz_index_params *prm = node->params;
  lz_cpu_combine_fn fn = lz_cpu_scatter_fn(prm->mode, out->dtype);
  if (!fn) {
    return lz__error(LZ_ERROR_DTYPE, prm->name, "not supported for %s", lz_dtype_name(out->dtype));
  }
  return lz_cpu_index_run(p, fn);
}

/* Element strides of `in` broadcast right-aligned to `nd` dims of `shape`. */
static void bcast(int64_t *s, const lz_array *in, const int64_t *shape, int nd) {
  int off = nd - in->ndim;
  for (int d = 0; d < nd; d++) {
    int di = d - off;
    s[d] = (di < 0 || (in->shape[di] == 1 && shape[d] != 1)) ? 0 : in->strides[di];
  }
}

/* scatter: inputs a, the index arrays, updates (shape I + U). */
int lz_cpu_scatter(lz_node *node, lz_array **outs) {
  const lz_index_params *prm = node->params;
  lz_array *a = node->inputs[0], *upd = node->inputs[node->ninputs - 1], *out = outs[0];
  lz_index_plan p;
  if (scatter_plan(&p, node, out, upd) != 0) return -1;
  int m = upd->ndim - a->ndim;
  p.ndim = upd->ndim;
  bool indexed[LZ_MAX_NDIM] = {false};
  for (int j = 0; j < prm->naxes; j++) indexed[prm->axes[j]] = true;
  for (int d = 0; d < p.ndim; d++) {
    p.shape[d] = upd->shape[d];
    p.src_strides[d] = upd->strides[d];
    p.dst_strides[d] = d < m ? 0 : out->strides[d - m];
    if (p.split < 0 && d >= m && !indexed[d - m] && p.shape[d] > 1) p.split = d;
  }
  for (int j = 0; j < prm->naxes; j++) {
    lz_array *idx = node->inputs[1 + j];
    int ax = prm->axes[j];
    int64_t is[LZ_MAX_NDIM] = {0}, ishape[LZ_MAX_NDIM];
    for (int d = 0; d < m; d++) ishape[d] = p.shape[d];
    bcast(is, idx, ishape, m);
    lz_cpu_index_ref(&p.idx[j], idx, 0, is, ax, a->shape[ax], upd->shape[m + ax], out->strides[ax]);
  }
  p.nidx = prm->naxes;
  return run(&p, node, out);
}

/* at_*: inputs a, indices, values (already broadcastable to the take shape). */
int lz_cpu_scatter_axis(lz_node *node, lz_array **outs) {
  const lz_index_params *prm = node->params;
  lz_array *a = node->inputs[0], *idx = node->inputs[1], *val = node->inputs[2], *out = outs[0];
  lz_index_plan p;
  if (scatter_plan(&p, node, out, val) != 0) return -1;
  int ax = prm->axis, k = idx->ndim;
  p.ndim = a->ndim - 1 + k;
  for (int d = 0; d < p.ndim; d++) {
    bool is_idx = d >= ax && d < ax + k;
    p.shape[d] = d < ax ? a->shape[d] : is_idx ? idx->shape[d - ax] : a->shape[d - k + 1];
    p.dst_strides[d] = d < ax ? out->strides[d] : is_idx ? 0 : out->strides[d - k + 1];
    if (p.split < 0 && !is_idx && p.shape[d] > 1) p.split = d;
  }
  bcast(p.src_strides, val, p.shape, p.ndim);
  int64_t is[LZ_MAX_NDIM] = {0};
  for (int d = 0; d < k; d++) is[ax + d] = idx->strides[d];
  lz_cpu_index_ref(&p.idx[0], idx, 0, is, ax, a->shape[ax], 1, out->strides[ax]);
  p.nidx = 1;
  return run(&p, node, out);
}

/* put_along_axis: inputs a, indices (a's ndim), values; walked over their broadcast shape. */
int lz_cpu_put_along_axis(lz_node *node, lz_array **outs) {
  const lz_index_params *prm = node->params;
  lz_array *a = node->inputs[0], *idx = node->inputs[1], *val = node->inputs[2], *out = outs[0];
  lz_index_plan p;
  if (scatter_plan(&p, node, out, val) != 0) return -1;
  int ax = prm->axis;
  p.ndim = a->ndim;
  for (int d = 0; d < p.ndim; d++) {
    /* the broadcast of a's and the indices' dims (validated when built): 0 against 1 is 0, so
     * not the larger of the two (that wrote past an empty output; found by the op fuzz test) */
    p.shape[d] = d == ax || idx->shape[d] != 1 ? idx->shape[d] : a->shape[d];
    /* a size-1 dim of `a` that the indices broadcast over is written repeatedly */
    p.dst_strides[d] = (d == ax || a->shape[d] == 1) ? 0 : out->strides[d];
    if (p.split < 0 && d != ax && a->shape[d] > 1) p.split = d;
  }
  bcast(p.src_strides, val, p.shape, p.ndim);
  int64_t is[LZ_MAX_NDIM];
  bcast(is, idx, p.shape, p.ndim);
  lz_cpu_index_ref(&p.idx[0], idx, 0, is, ax, a->shape[ax], 1, out->strides[ax]);
  p.nidx = 1;
  return run(&p, node, out);
}

/* slice_update: inputs src and the update (broadcastable to the slice); start/step in params. */
int lz_cpu_slice_update(lz_node *node, lz_array **outs) {
  const lz_index_params *prm = node->params;
  lz_array *a = node->inputs[0], *upd = node->inputs[1], *out = outs[0];
  lz_index_plan p;
  if (scatter_plan(&p, node, out, upd) != 0) return -1;
  p.ndim = a->ndim;
  int64_t base = 0;
  for (int d = 0; d < p.ndim; d++) {
    p.shape[d] = prm->sizes[d];
    p.dst_strides[d] = out->strides[d] * prm->step[d];
    base += prm->start[d] * out->strides[d];
    if (p.split < 0 && p.shape[d] > 1) p.split = d;
  }
  p.dst += base * (int64_t)p.itemsize;
  bcast(p.src_strides, upd, p.shape, p.ndim);
  return run(&p, node, out);
}

/* slice_update_dynamic: inputs src, update, start; the block's shape is in params.sizes. */
int lz_cpu_slice_update_dynamic(lz_node *node, lz_array **outs) {
  const lz_index_params *prm = node->params;
  lz_array *a = node->inputs[0], *upd = node->inputs[1], *start = node->inputs[2];
  lz_array *out = outs[0];
  lz_index_plan p;
  if (scatter_plan(&p, node, out, upd) != 0) return -1;
  p.ndim = a->ndim;
  for (int d = 0; d < p.ndim; d++) {
    p.shape[d] = prm->sizes[d];
    p.dst_strides[d] = out->strides[d];
    if (p.split < 0 && p.shape[d] > 1) p.split = d;
  }
  bcast(p.src_strides, upd, p.shape, p.ndim);
  int64_t zero[LZ_MAX_NDIM] = {0};
  for (int j = 0; j < prm->naxes; j++) {
    int ax = prm->axes[j];
    int64_t off = start->ndim ? j * start->strides[0] : 0;
    lz_cpu_index_ref(&p.idx[j], start, off, zero, ax, a->shape[ax], prm->sizes[ax],
                     out->strides[ax]);
  }
  p.nidx = prm->naxes;
  return run(&p, node, out);
}
