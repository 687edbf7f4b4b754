/* vmap rules of the fused ops (rms_norm, layer_norm, rope, scaled_dot_product_attention), the
 * convolution, the FFT and quantized_matmul: each records the op once on the whole batch.
 *
 * The norms, rope, the FFT and quantized_matmul work row by row or along given axes, so the
 * batch moves to axis 0 (the FFT's axes shift by one). Attention and the convolution have a
 * fixed layout with a leading batch axis N: the vmapped batch merges into it, (V, N, ...) ->
 * (V * N, ...), and is split off the result. A batched convolution kernel instead merges into
 * the channels, as MLX: V kernels of O output channels become one of V * O with V times the
 * groups, reading the V inputs side by side along the channel axis. */
#include "cpu/conv.h"
#include "cpu/fast.h"
#include "cpu/fft.h"
#include "cpu/quantize.h"
#include "transforms/vmap_impl.h"

#define NB LZ__VMAP_NB

/* (V, N, rest...) -> (V * N, rest...). */
static lz_array *merge01(lz_array *x) {
  if (!x) return NULL;
  int shape[LZ_MAX_NDIM];
  shape[0] = x->shape[0] * x->shape[1];
  memcpy(shape + 1, x->shape + 2, (size_t)(x->ndim - 2) * sizeof(int));
  return lz_reshape(x, shape, x->ndim - 1);
}
/* (V * N, rest...) -> (V, N, rest...). */
static lz_array *split0(lz_array *x, int v) {
  if (!x) return NULL;
  int shape[LZ_MAX_NDIM];
  shape[0] = v, shape[1] = v ? x->shape[0] / v : 0;
  if (v == 0) shape[1] = 0;
  memcpy(shape + 2, x->shape + 1, (size_t)(x->ndim - 1) * sizeof(int));
  return lz_reshape(x, shape, x->ndim + 1);
}
/* Input i batched along axis 0 (broadcast when it is not batched). */
static lz_array *front(const lz_vmap_args *a, int i) {
  return lz__vmap_batched(a->inputs[i], a->axes[i], a->size);
}
/* Records the node's op on `ins` with `params` (NULL: the node's), one output of `shape` and
 * the traced dtype. */
static lz_array *remake1(const lz_vmap_args *a, const void *params, lz_array *const *ins, int nin,
                         const int *shape, int nd) {
  for (int i = 0; i < nin; i++)
    if (!ins[i]) return NULL;
  if (!params) params = a->node->params;
  return lz__make(a->node->op, params, ins, nin, a->node->outputs[0]->dtype, shape, nd);
}

/* ---- norms ------------------------------------------------------------------------------- */

/* x's batch to the front (the op normalises rows); a batched weight or bias is applied after
 * the op without it, broadcast along the batched rows (the kernel computes y * w + b too). */
static int vmap_norm(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  lz_norm_params p = *(const lz_norm_params *)a->node->params;
  int n = a->node->ninputs, iw = p.has_weight ? 1 : 0, ib = p.has_bias ? iw + 1 : 0;
  bool wb = p.has_weight && a->axes[iw] != NB, bb = p.has_bias && a->axes[ib] != NB;
  lz_array *x = front(a, 0);
  if (!wb && !bb) {
    lz_array *ins[3] = {x, n > 1 ? a->inputs[1] : NULL, n > 2 ? a->inputs[2] : NULL};
    return lz__vmap_remake(a, NULL, ins, n, outs, out_axes);
  }
  int rank = a->node->outputs[0]->ndim;
  lz_norm_params q = p;
  q.has_weight = q.has_bias = false;
  lz_array *y = remake1(a, &q, &x, 1, x ? x->shape : NULL, x ? x->ndim : 0);
  if (p.has_weight) y = lz_multiply(y, lz__vmap_front_rank(a->inputs[iw], a->axes[iw], rank));
  if (p.has_bias) y = lz_add(y, lz__vmap_front_rank(a->inputs[ib], a->axes[ib], rank));
  return lz__vmap_done(lz_astype(y, a->node->outputs[0]->dtype), 0, outs, out_axes);
}

/* rope works on the last two axes: the batch goes in front. Batched freqs need the loop. */
static int vmap_rope(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  const lz_rope_params *p = a->node->params;
  if (p->has_freqs && a->axes[1] != NB) return lz__vmap_fallback(a, outs, out_axes);
  lz_array *ins[2] = {front(a, 0), p->has_freqs ? a->inputs[1] : NULL};
  return lz__vmap_remake(a, NULL, ins, a->node->ninputs, outs, out_axes);
}

/* ---- attention: the batch merges into B ------------------------------------------------- */

static int vmap_sdpa(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  int n = a->node->ninputs, V = a->size;
  const lz_array *o = a->node->outputs[0];
  lz_array *ins[4];
  for (int i = 0; i < n; i++) ins[i] = merge01(front(a, i));
  int shape[4] = {V * o->shape[0], o->shape[1], o->shape[2], o->shape[3]};
  lz_array *y = remake1(a, NULL, ins, n, shape, 4);
  return lz__vmap_done(split0(y, V), 0, outs, out_axes);
}

/* ---- convolution ------------------------------------------------------------------------- */

static int vmap_conv(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  lz_conv_params p = *(const lz_conv_params *)a->node->params;
  const lz_array *o = a->node->outputs[0];
  int V = a->size, nd = o->ndim, shape[LZ_MAX_NDIM];
  memcpy(shape, o->shape, (size_t)nd * sizeof(int));
  if (a->axes[1] == NB) { /* one kernel: the batch merges into N */
    lz_array *x = merge01(front(a, 0)), *ins[2] = {x, a->inputs[1]};
    shape[0] *= V;
    return lz__vmap_done(split0(remake1(a, NULL, ins, 2, shape, nd), V), 0, outs, out_axes);
  }
  if (V == 0) return lz__vmap_fallback(a, outs, out_axes);
  /* x (V, N, sp..., C) -> (N, sp..., V * C); w (V, O, K..., Cg) -> (V * O, K..., Cg) */
  lz_array *x = lz_moveaxis(front(a, 0), 0, nd - 1);
  int xs[LZ_MAX_NDIM];
  if (!x) return -1;
  memcpy(xs, x->shape, (size_t)(nd - 1) * sizeof(int));
  xs[nd - 1] = V * x->shape[nd];
  x = lz_reshape(x, xs, nd);
  lz_array *w = merge01(front(a, 1)), *ins[2] = {x, w};
  p.groups *= V;
  int os = shape[nd - 1];
  shape[nd - 1] = V * os;
  lz_array *y = remake1(a, &p, ins, 2, shape, nd);
  /* (N, sp'..., V * O) -> (N, sp'..., V, O): the batch at axis nd - 1 */
  shape[nd - 1] = V, shape[nd] = os;
  return lz__vmap_done(lz_reshape(y, shape, nd + 1), nd - 1, outs, out_axes);
}

/* ---- FFT and quantized_matmul ------------------------------------------------------------- */

static int vmap_fft(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  lz_fft_params p = *(const lz_fft_params *)a->node->params;
  for (int i = 0; i < p.naxes; i++) p.axes[i] += 1;
  lz_array *x = lz__vmap_front(a->inputs[0], a->axes[0]);
  return lz__vmap_remake(a, &p, &x, 1, outs, out_axes);
}

/* Rows of x batched over 2-D weights: the batch is one more leading axis. Batched weights (or
 * a vmapped W) need the loop. The float modes have no biases (3 inputs). */
static int vmap_qmm(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  int n = a->node->ninputs;
  if (a->node->inputs[1]->ndim > 2) return lz__vmap_fallback(a, outs, out_axes);
  for (int i = 1; i < n; i++)
    if (a->axes[i] != NB) return lz__vmap_fallback(a, outs, out_axes);
  lz_array *ins[4] = {lz__vmap_front(a->inputs[0], a->axes[0]), a->inputs[1], a->inputs[2],
                      n > 3 ? a->inputs[3] : NULL};
  return lz__vmap_remake(a, NULL, ins, n, outs, out_axes);
}

const lz_vmap_rule lz__vmap_rules_fast[LZ_OP_COUNT] = {
    [LZ_OP_RMS_NORM] = vmap_norm,
    [LZ_OP_LAYER_NORM] = vmap_norm,
    [LZ_OP_ROPE] = vmap_rope,
    [LZ_OP_SCALED_DOT_PRODUCT_ATTENTION] = vmap_sdpa,
    [LZ_OP_CONVOLUTION] = vmap_conv,
    [LZ_OP_FFT] = vmap_fft,
    [LZ_OP_QUANTIZED_MATMUL] = vmap_qmm,
};
