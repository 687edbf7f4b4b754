/* vjp and jvp rules of dequantize and quantized_matmul (ops/quantize.c), as MLX: the packed
 * codes are integers and get no derivative; the scales and biases do, since a group's weights
 * are scale * q + bias; x's cotangent in x @ W^T is the quantized product with W untransposed.
 * quantize itself has no rule (its codes are integers; MLX does not differentiate it). */
#include "cpu/quantize.h"
#include "transforms/rules_util.h"

/* (..., K) -> (..., K / gs, gs): one row per group. */
static lz_array *by_group(lz_array *v, int gs) {
  if (!v) return NULL;
  int shape[LZ_MAX_NDIM + 1], nd = v->ndim;
  if (nd + 1 > LZ_MAX_NDIM) {
    lz__error(LZ_ERROR_SHAPE, "lz_vjp", "quantized weights have too many dimensions");
    return NULL;
  }
  memcpy(shape, v->shape, (size_t)nd * sizeof(int));
  shape[nd - 1] = v->shape[nd - 1] / gs;
  shape[nd] = gs;
  return lz_reshape(v, shape, nd + 1);
}

/* The codes of w_q as values (scale 1, bias 0), grouped: (..., K / gs, gs). */
static lz_array *codes(const lz_quant_params *p, lz_array *wq, lz_array *scales) {
  lz_array *q = lz_dequantize(wq, lz_ones_like(scales), lz_zeros_like(scales), p->group_size, p->bits);
  return by_group(q, p->group_size);
}

/* Cotangents of scales (g[0]) and biases (g[1]) from the cotangent dw of the dequantized
 * weights (their shape); need[] says which are wanted. */
static int scale_bias_grads(const lz_quant_params *p, lz_array *dw, lz_array *wq, lz_array *scales,
                            lz_array *biases, const bool *need, lz_array **g) {
  lz_array *dg = by_group(dw, p->group_size);
  if (!dg) return -1;
  if (need[0] && !(g[0] = lz_astype(lz_sum_axis(lz_multiply(dg, codes(p, wq, scales)), -1, false),
                                    scales->dtype)))
    return -1;
  if (need[1] && !(g[1] = lz_astype(lz_sum_axis(dg, -1, false), biases->dtype))) return -1;
  return 0;
}

/* W's tangent: the codes with the tangents of the scales and biases (NULL when both are zero). */
static lz_array *weight_tangent(const lz_quant_params *p, lz_array *wq, lz_array *scales,
                                lz_array *biases, lz_array *ts, lz_array *tb) {
  if (!ts && !tb) return NULL;
  return lz_dequantize(wq, lz__or_zeros(ts, scales), lz__or_zeros(tb, biases), p->group_size,
                       p->bits);
}

static int vjp_dequantize(const lz_vjp_args *a, lz_array **g) {
  const lz_quant_params *p = a->node->params;
  g[0] = g[1] = g[2] = NULL;
  if (!a->cotans[0] || p->mode != LZ_QUANT_AFFINE) return 0; /* float modes: integer inputs */
  return scale_bias_grads(p, a->cotans[0], a->inputs[0], a->inputs[1], a->inputs[2], a->need + 1,
                          g + 1);
}
static int jvp_dequantize(const lz_jvp_args *a, lz_array **t) {
  const lz_quant_params *p = a->node->params;
  t[0] = NULL;
  if (p->mode != LZ_QUANT_AFFINE) return 0;
  uint64_t errors = lz_error_count();
  t[0] = weight_tangent(p, a->inputs[0], a->inputs[1], a->inputs[2], a->tangents[1],
                        a->tangents[2]);
  t[0] = lz__expand_to(t[0], a->node->outputs[0]);
  return lz_error_count() != errors ? -1 : 0; /* NULL without an error: a zero tangent */
}

/* x (..., K) as rows (M, K). */
static lz_array *rows(lz_array *x) {
  int k = x->shape[x->ndim - 1];
  int shape[2] = {k ? (int)(x->size / (size_t)k) : 0, k};
  if (!k) {
    shape[0] = 1;
    for (int d = 0; d < x->ndim - 1; d++) shape[0] *= x->shape[d];
  }
  return lz_reshape(x, shape, 2);
}

/* The node's product with W transposed or not (its mode and parameters). */
static lz_array *qmm(const lz_quant_params *p, lz_array *const *in, lz_array *v, bool transpose) {
  lz_array *b = p->mode == LZ_QUANT_AFFINE ? in[3] : NULL;
  return lz_quantized_matmul_v2(v, in[1], in[2], b, transpose, p->group_size, p->bits,
                                (lz_quant_mode)p->mode);
}

static int vjp_qmm(const lz_vjp_args *a, lz_array **g) {
  const lz_quant_params *p = a->node->params;
  bool affine = p->mode == LZ_QUANT_AFFINE;
  lz_array *x = a->inputs[0], *wq = a->inputs[1], *s = a->inputs[2];
  lz_array *b = affine ? a->inputs[3] : NULL, *c = a->cotans[0];
  g[0] = g[1] = g[2] = NULL;
  if (affine) g[3] = NULL;
  if (!c) return 0;
  if (a->need[0] && !(g[0] = lz_astype(qmm(p, a->inputs, c, !p->transpose), x->dtype))) return -1;
  if (!affine || (!a->need[2] && !a->need[3])) return 0;
  /* W is (N, K) when transposed (y = x W^T: dW = c^T x), else (K, N) (y = x W: dW = x^T c);
   * batched weights: one such product per matrix */
  lz_array *dw;
  if (wq->ndim > 2) {
    dw = p->transpose ? lz_matmul(lz_swapaxes(c, -1, -2), x) : lz_matmul(lz_swapaxes(x, -1, -2), c);
  } else {
    lz_array *xr = rows(x), *cr = rows(c);
    dw = p->transpose ? lz_matmul(lz_transpose(cr, NULL, 0), xr)
                      : lz_matmul(lz_transpose(xr, NULL, 0), cr);
  }
  return scale_bias_grads(p, dw, wq, s, b, a->need + 2, g + 2);
}
static int jvp_qmm(const lz_jvp_args *a, lz_array **t) {
  const lz_quant_params *p = a->node->params;
  bool affine = p->mode == LZ_QUANT_AFFINE;
  lz_array *x = a->inputs[0], *wq = a->inputs[1], *s = a->inputs[2];
  lz_array *b = affine ? a->inputs[3] : NULL;
  lz_array *tx = a->tangents[0], *r = NULL, *q = NULL;
  uint64_t errors = lz_error_count();
  if (tx) r = qmm(p, a->inputs, tx, p->transpose);
  lz_array *tw = affine ? weight_tangent(p, wq, s, b, a->tangents[2], a->tangents[3]) : NULL;
  if (tw) q = lz_matmul(x, p->transpose ? lz_swapaxes(tw, -1, -2) : tw);
  if (lz_error_count() != errors) return -1;
  t[0] = lz__sum_tangents(r, q, a->node->outputs[0]);
  return 0;
}

const lz_rule lz__rules_quantize[LZ_OP_COUNT] = {
    [LZ_OP_DEQUANTIZE] = {vjp_dequantize, jvp_dequantize, NULL},
    [LZ_OP_QUANTIZED_MATMUL] = {vjp_qmm, jvp_qmm, NULL},
};
