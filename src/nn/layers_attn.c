/* Attention: scaled dot-product attention (the fused op where it applies) and
 * MultiHeadAttention, with grouped-query attention. Transformer layers: layers_transformer.c. */
#include <float.h>
#include <math.h>

#include "nn/nn_impl.h"

/* softmax(q k^T * scale + mask) v composed from basic ops, in the promoted dtype of every
 * operand; 4-d k and v with fewer heads are repeated to q's. */
static lz_array *sdpa_composed(lz_array *q, lz_array *k, lz_array *v, double scale,
                               lz_array *mask) {
  if (lz_array_ndim(q) == 4 && lz_array_ndim(k) == 4 && lz_array_ndim(v) == 4) {
    int hq = lz_array_dim(q, 1), hkv = lz_array_dim(k, 1);
    if (hkv > 0 && hq != hkv && hq % hkv == 0)
      k = lz_repeat(k, hq / hkv, 1), v = lz_repeat(v, hq / hkv, 1);
  }
  lz_array *s = lz_matmul(lz_multiply(q, lz_float(scale)), lz_swapaxes(k, -1, -2));
  if (mask && lz_array_dtype(mask) == LZ_BOOL)
    s = lz_where(mask, s, lz_float(-INFINITY));
  else if (mask)
    s = lz_add(s, mask);
  return lz_matmul(lz_softmax_axis(s, -1, true), v);
}

lz_array *lz_nn_scaled_dot_product_attention(lz_array *q, lz_array *k, lz_array *v, double scale,
                                             lz_array *mask) {
  lz_array *in[3] = {q, k, v};
  if (lz_nn__check_call("lz_nn_scaled_dot_product_attention", in, 3, 3, 3) != 0) return NULL;
  bool rank4 = lz_array_ndim(q) == 4 && lz_array_ndim(k) == 4 && lz_array_ndim(v) == 4;
  lz_dtype dt =
      lz_promote_types(lz_promote_types(lz_array_dtype(q), lz_array_dtype(k)), lz_array_dtype(v));
  lz_dtype mt = mask ? lz_array_dtype(mask) : dt;
  bool fused = rank4 && lz_dtype_is_float(dt) && (mt == LZ_BOOL || lz_promote_types(mt, dt) == dt);
  NN_BEGIN();
  if (fused) return NN_END(lz_fast_scaled_dot_product_attention(q, k, v, scale, "", mask));
  return NN_END(sdpa_composed(q, k, v, scale, mask));
}

lz_array *lz_nn_create_additive_causal_mask(int n, lz_dtype dtype) {
  if (n < 0 || !lz_dtype_is_float(dtype)) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_create_additive_causal_mask",
                 "need n >= 0 "
                 "and a floating dtype (n %d, %s)",
                 n, lz_dtype_name(dtype));
    return NULL;
  }
  double lowest = dtype == LZ_FLOAT16    ? -65504.0
                  : dtype == LZ_BFLOAT16 ? -3.3895313892515355e38
                  : dtype == LZ_FLOAT32  ? -(double)FLT_MAX
                                         : -DBL_MAX;
  NN_BEGIN();
  lz_array *idx = lz_arange(0, n, 1, LZ_INT32);
  lz_array *above = lz_less(lz_expand_dims(idx, (int[]){1}, 1), lz_expand_dims(idx, (int[]){0}, 1));
  return NN_END(lz_multiply(lz_astype(above, dtype), lz_scalar(lowest, dtype)));
}

/* ---- MultiHeadAttention ---- */

typedef struct mha_cfg {
  int num_heads, num_kv_heads;
} mha_cfg;

/* (B, L, heads * d) -> (B, heads, L, d) */
static lz_array *split_heads(lz_array *x, int heads) {
  int b = lz_array_dim(x, 0), l = lz_array_dim(x, 1);
  return lz_transpose(lz_reshape(x, (int[]){b, l, heads, -1}, 4), (int[]){0, 2, 1, 3}, 4);
}

static int mha_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  const mha_cfg *c = lz_module_ctx(m);
  if (lz_nn__check_call("MultiHeadAttention", in, n, 3, 4) != 0) return -1;
  for (int i = 0; i < 3; i++)
    if (lz_array_ndim(in[i]) != 3)
      return lz_set_error(LZ_ERROR_SHAPE, "MultiHeadAttention",
                          "input %d must be (B, L, D), got %d-d", i, lz_array_ndim(in[i]));
  NN_BEGIN();
  lz_array *q = lz_module_forward(lz_module_child(m, "query_proj"), in[0]);
  lz_array *k = lz_module_forward(lz_module_child(m, "key_proj"), in[1]);
  lz_array *v = lz_module_forward(lz_module_child(m, "value_proj"), in[2]);
  if (!q || !k || !v) return lz_nn__out1(out, NN_END(NULL));
  int b = lz_array_dim(q, 0), l = lz_array_dim(q, 1);
  int dh = lz_array_dim(q, 2) / c->num_heads;
  q = split_heads(q, c->num_heads), k = split_heads(k, c->num_kv_heads);
  v = split_heads(v, c->num_kv_heads);
  lz_array *o = lz_nn_scaled_dot_product_attention(q, k, v, sqrt(1.0 / dh), lz_nn__opt(in, n, 3));
  o = lz_reshape(lz_transpose(o, (int[]){0, 2, 1, 3}, 4), (int[]){b, l, -1}, 3);
  return lz_nn__out1(out, NN_END(lz_module_forward(lz_module_child(m, "out_proj"), o)));
}

lz_module *lz_nn_multi_head_attention_new_v2(int dims, int num_heads, int num_kv_heads,
                                             int query_input_dims, int key_input_dims,
                                             int value_input_dims, int value_dims,
                                             int value_output_dims, bool bias) {
  const char *who = "lz_nn_multi_head_attention_new";
  num_kv_heads = num_kv_heads > 0 ? num_kv_heads : num_heads;
  value_dims = value_dims > 0 ? value_dims : dims;
  if (dims < 1 || num_heads < 1 || dims % num_heads != 0 || value_dims % num_heads != 0) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who,
                 "dims (%d) and value_dims (%d) must be divisible by num_heads (%d)", dims,
                 value_dims, num_heads);
    return NULL;
  }
  if (num_heads % num_kv_heads != 0) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "num_kv_heads (%d) must divide num_heads (%d)",
                 num_kv_heads, num_heads);
    return NULL;
  }
  query_input_dims = query_input_dims > 0 ? query_input_dims : dims;
  key_input_dims = key_input_dims > 0 ? key_input_dims : dims;
  value_input_dims = value_input_dims > 0 ? value_input_dims : key_input_dims;
  value_output_dims = value_output_dims > 0 ? value_output_dims : dims;
  int kdims = dims / num_heads * num_kv_heads, vdims = value_dims / num_heads * num_kv_heads;
  mha_cfg c = {num_heads, num_kv_heads};
  lz_module *m = lz_nn__module("MultiHeadAttention", mha_forward, &c, sizeof c);
  if (!m) return NULL;
  if (lz_module_add_child(m, "query_proj", lz_nn_linear_new(query_input_dims, dims, bias)) ||
      lz_module_add_child(m, "key_proj", lz_nn_linear_new(key_input_dims, kdims, bias)) ||
      lz_module_add_child(m, "value_proj", lz_nn_linear_new(value_input_dims, vdims, bias)) ||
      lz_module_add_child(m, "out_proj", lz_nn_linear_new(value_dims, value_output_dims, bias))) {
    lz_module_free(m);
    return NULL;
  }
  return m;
}

lz_module *lz_nn_multi_head_attention_new(int dims, int num_heads, int query_input_dims,
                                          int key_input_dims, int value_input_dims, int value_dims,
                                          int value_output_dims, bool bias) {
  return lz_nn_multi_head_attention_new_v2(dims, num_heads, num_heads, query_input_dims,
                                           key_input_dims, value_input_dims, value_dims,
                                           value_output_dims, bias);
}
