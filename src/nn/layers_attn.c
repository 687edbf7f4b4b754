/* Attention: scaled dot-product attention, MultiHeadAttention and the transformer layers. */
#include <float.h>
#include <math.h>

#include "nn/nn_impl.h"

lz_array *lz_nn_scaled_dot_product_attention(lz_array *q, lz_array *k, lz_array *v, double scale,
                                             lz_array *mask) {
  lz_array *in[3] = {q, k, v};
  if (lz_nn__check_call("lz_nn_scaled_dot_product_attention", in, 3, 3, 3) != 0) return NULL;
  NN_BEGIN();
  lz_array *s = lz_matmul(lz_multiply(q, lz_float(scale)), lz_swapaxes(k, -1, -2));
  if (mask && lz_array_dtype(mask) == LZ_BOOL)
    s = lz_where(mask, s, lz_float(-INFINITY));
  else if (mask)
    s = lz_add(s, mask);
  return NN_END(lz_matmul(lz_softmax_axis(s, -1, true), v));
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
  int num_heads;
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
                          "input %d must be (B, L, D), got "
                          "%d-d",
                          i, lz_array_ndim(in[i]));
  NN_BEGIN();
  lz_array *q = lz_module_forward(lz_module_child(m, "query_proj"), in[0]);
  lz_array *k = lz_module_forward(lz_module_child(m, "key_proj"), in[1]);
  lz_array *v = lz_module_forward(lz_module_child(m, "value_proj"), in[2]);
  if (!q || !k || !v) return lz_nn__out1(out, NN_END(NULL));
  int b = lz_array_dim(q, 0), l = lz_array_dim(q, 1);
  int dh = lz_array_dim(q, 2) / c->num_heads;
  q = split_heads(q, c->num_heads), k = split_heads(k, c->num_heads);
  v = split_heads(v, c->num_heads);
  lz_array *o = lz_nn_scaled_dot_product_attention(q, k, v, sqrt(1.0 / dh), lz_nn__opt(in, n, 3));
  o = lz_reshape(lz_transpose(o, (int[]){0, 2, 1, 3}, 4), (int[]){b, l, -1}, 3);
  return lz_nn__out1(out, NN_END(lz_module_forward(lz_module_child(m, "out_proj"), o)));
}

lz_module *lz_nn_multi_head_attention_new(int dims, int num_heads, int query_input_dims,
                                          int key_input_dims, int value_input_dims, int value_dims,
                                          int value_output_dims, bool bias) {
  if (dims < 1 || num_heads < 1 || dims % num_heads != 0) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_multi_head_attention_new",
                 "dims (%d) must be "
                 "divisible by num_heads (%d)",
                 dims, num_heads);
    return NULL;
  }
  query_input_dims = query_input_dims > 0 ? query_input_dims : dims;
  key_input_dims = key_input_dims > 0 ? key_input_dims : dims;
  value_input_dims = value_input_dims > 0 ? value_input_dims : key_input_dims;
  value_dims = value_dims > 0 ? value_dims : dims;
  value_output_dims = value_output_dims > 0 ? value_output_dims : dims;
  mha_cfg c = {num_heads};
  lz_module *m = lz_nn__module("MultiHeadAttention", mha_forward, &c, sizeof c);
  if (!m) return NULL;
  if (lz_module_add_child(m, "query_proj", lz_nn_linear_new(query_input_dims, dims, bias)) ||
      lz_module_add_child(m, "key_proj", lz_nn_linear_new(key_input_dims, dims, bias)) ||
      lz_module_add_child(m, "value_proj", lz_nn_linear_new(value_input_dims, value_dims, bias)) ||
      lz_module_add_child(m, "out_proj", lz_nn_linear_new(value_dims, value_output_dims, bias))) {
    lz_module_free(m);
    return NULL;
  }
  return m;
}

/* ---- transformer layers ---- */

typedef struct tf_cfg {
  lz_nn_activation_fn activation;
  bool norm_first;
} tf_cfg;

static lz_array *call(lz_module *m, const char *child, lz_array *x) {
  return lz_module_forward(lz_module_child(m, child), x);
}

static lz_array *attend(lz_module *m, const char *child, lz_array *q, lz_array *kv,
                        lz_array *mask) {
  lz_array *o[LZ_NN_MAX_OUTPUTS];
  lz_array *in[4] = {q, kv, kv, mask};
  if (!q || !kv) return NULL;
  return lz_module_call(lz_module_child(m, child), in, 4, o) < 0 ? NULL : o[0];
}

/* linear2(dropout(activation(linear1(y)))) */
static lz_array *mlp(lz_module *m, const tf_cfg *c, lz_array *y, const char *dropout) {
  y = call(m, "linear1", y);
  y = y ? c->activation(y) : NULL;
  return call(m, "linear2", call(m, dropout, y));
}

static int encoder_layer_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  const tf_cfg *c = lz_module_ctx(m);
  if (lz_nn__check_call("TransformerEncoderLayer", in, n, 1, 2) != 0) return -1;
  lz_array *x = in[0], *mask = lz_nn__opt(in, n, 1), *y;
  NN_BEGIN();
  if (c->norm_first) {
    y = call(m, "ln1", x);
    x = lz_add(x, call(m, "dropout1", attend(m, "attention", y, y, mask)));
    y = lz_add(x, mlp(m, c, call(m, "ln2", x), "dropout2"));
  } else {
    y = call(m, "dropout1", attend(m, "attention", x, x, mask));
    x = call(m, "ln1", lz_add(x, y));
    y = call(m, "ln2", lz_add(x, mlp(m, c, x, "dropout2")));
  }
  return lz_nn__out1(out, NN_END(y));
}

static int decoder_layer_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  const tf_cfg *c = lz_module_ctx(m);
  if (lz_nn__check_call("TransformerDecoderLayer", in, n, 2, 4) != 0) return -1;
  lz_array *x = in[0], *mem = in[1], *y;
  lz_array *xmask = lz_nn__opt(in, n, 2), *mmask = lz_nn__opt(in, n, 3);
  NN_BEGIN();
  if (c->norm_first) {
    y = call(m, "ln1", x);
    x = lz_add(x, call(m, "dropout1", attend(m, "self_attention", y, y, xmask)));
    y = call(m, "ln2", x);
    x = lz_add(x, call(m, "dropout2", attend(m, "cross_attention", y, mem, mmask)));
    y = lz_add(x, mlp(m, c, call(m, "ln3", x), "dropout3"));
  } else {
    y = attend(m, "self_attention", x, x, xmask);
    x = call(m, "ln1", lz_add(x, call(m, "dropout1", y)));
    y = attend(m, "cross_attention", x, mem, mmask);
    x = call(m, "ln2", lz_add(x, call(m, "dropout2", y)));
    y = call(m, "ln3", lz_add(x, mlp(m, c, x, "dropout3")));
  }
  return lz_nn__out1(out, NN_END(y));
}

static lz_module *transformer_layer(bool decoder, int dims, int num_heads, int mlp_dims,
                                    double dropout, lz_nn_activation_fn activation,
                                    bool norm_first) {
  const char *type = decoder ? "TransformerDecoderLayer" : "TransformerEncoderLayer";
  if (dims < 1 || num_heads < 1 || mlp_dims < 0) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, type, "invalid dims %d, heads %d or mlp_dims %d", dims,
                 num_heads, mlp_dims);
    return NULL;
  }
  mlp_dims = mlp_dims ? mlp_dims : 4 * dims;
  tf_cfg c = {activation ? activation : lz_nn_relu, norm_first};
  lz_module *m =
      lz_nn__module(type, decoder ? decoder_layer_forward : encoder_layer_forward, &c, sizeof c);
  if (!m) return NULL;
  int rc = 0;
  if (decoder) {
    rc |= lz_module_add_child(
        m, "self_attention", lz_nn_multi_head_attention_new(dims, num_heads, 0, 0, 0, 0, 0, false));
    rc |=
        lz_module_add_child(m, "cross_attention",
                            lz_nn_multi_head_attention_new(dims, num_heads, 0, 0, 0, 0, 0, false));
  } else {
    rc |= lz_module_add_child(
        m, "attention", lz_nn_multi_head_attention_new(dims, num_heads, 0, 0, 0, 0, 0, false));
  }
  int nln = decoder ? 3 : 2;
  for (int i = 1; i <= nln; i++) {
    char name[24];
    snprintf(name, sizeof name, "ln%d", i);
    rc |= lz_module_add_child(m, name, lz_nn_layer_norm_new(dims, 1e-5, true, true));
  }
  rc |= lz_module_add_child(m, "linear1", lz_nn_linear_new(dims, mlp_dims, true));
  rc |= lz_module_add_child(m, "linear2", lz_nn_linear_new(mlp_dims, dims, true));
  for (int i = 1; i <= nln; i++) {
    char name[24];
    snprintf(name, sizeof name, "dropout%d", i);
    rc |= lz_module_add_child(m, name, lz_nn_dropout_new(dropout));
  }
  if (rc) lz_module_free(m), m = NULL;
  return m;
}

lz_module *lz_nn_transformer_encoder_layer_new(int dims, int num_heads, int mlp_dims,
                                               double dropout, lz_nn_activation_fn activation,
                                               bool norm_first) {
  return transformer_layer(false, dims, num_heads, mlp_dims, dropout, activation, norm_first);
}

lz_module *lz_nn_transformer_decoder_layer_new(int dims, int num_heads, int mlp_dims,
                                               double dropout, lz_nn_activation_fn activation,
                                               bool norm_first) {
  return transformer_layer(true, dims, num_heads, mlp_dims, dropout, activation, norm_first);
}

static int encoder_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  if (lz_nn__check_call("TransformerEncoder", in, n, 1, 2) != 0) return -1;
  lz_array *x = in[0], *mask = lz_nn__opt(in, n, 1), *o[LZ_NN_MAX_OUTPUTS];
  NN_BEGIN();
  for (int i = 0; i < lz_module_num_children(m) - 1 && x; i++) {
    lz_array *args[2] = {x, mask};
    x = lz_module_call(lz_module_child_at(m, i, NULL), args, 2, o) < 0 ? NULL : o[0];
  }
  return lz_nn__out1(out, NN_END(x ? call(m, "ln", x) : NULL));
}

lz_module *lz_nn_transformer_encoder_new(int num_layers, int dims, int num_heads, int mlp_dims,
                                         double dropout, lz_nn_activation_fn activation,
                                         bool norm_first) {
  if (num_layers < 0) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_transformer_encoder_new", "num_layers %d",
                 num_layers);
    return NULL;
  }
  lz_module *m = lz_module_new("TransformerEncoder", encoder_forward, NULL, NULL);
  int rc = m ? 0 : -1;
  for (int i = 0; i < num_layers && rc == 0; i++) {
    char name[32];
    snprintf(name, sizeof name, "layers.%d", i);
    rc = lz_module_add_child(m, name,
                             lz_nn_transformer_encoder_layer_new(dims, num_heads, mlp_dims, dropout,
                                                                 activation, norm_first));
  }
  if (rc == 0) rc = lz_module_add_child(m, "ln", lz_nn_layer_norm_new(dims, 1e-5, true, true));
  if (rc) lz_module_free(m), m = NULL;
  return m;
}
