/* Transformer layers and stacks: TransformerEncoderLayer, TransformerDecoderLayer,
 * TransformerEncoder, TransformerDecoder and Transformer. */
#include "nn/nn_impl.h"

/* ---- layers ---- */

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

/* ---- stacks ---- */

/* Calls every child but the last (the layers) in turn on (x, rest...), then the final "ln". */
static int stack_forward(const char *who, lz_module *m, lz_array *const *in, int n, int lo, int hi,
                         lz_array **out) {
  if (lz_nn__check_call(who, in, n, lo, hi) != 0) return -1;
  lz_array *args[4] = {NULL, NULL, NULL, NULL}, *o[LZ_NN_MAX_OUTPUTS];
  for (int i = 0; i < n; i++) args[i] = in[i];
  NN_BEGIN();
  lz_array *x = in[0];
  for (int i = 0; i < lz_module_num_children(m) - 1 && x; i++) {
    args[0] = x;
    x = lz_module_call(lz_module_child_at(m, i, NULL), args, hi, o) < 0 ? NULL : o[0];
  }
  return lz_nn__out1(out, NN_END(x ? call(m, "ln", x) : NULL));
}

static int encoder_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  return stack_forward("TransformerEncoder", m, in, n, 1, 2, out);
}

static int decoder_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  return stack_forward("TransformerDecoder", m, in, n, 2, 4, out);
}

static lz_module *stack(bool decoder, int num_layers, int dims, int num_heads, int mlp_dims,
                        double dropout, lz_nn_activation_fn activation, bool norm_first) {
  const char *type = decoder ? "TransformerDecoder" : "TransformerEncoder";
  if (num_layers < 0) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, type, "num_layers %d", num_layers);
    return NULL;
  }
  lz_module *m = lz_module_new(type, decoder ? decoder_forward : encoder_forward, NULL, NULL);
  int rc = m ? 0 : -1;
  for (int i = 0; i < num_layers && rc == 0; i++) {
    char name[32];
    snprintf(name, sizeof name, "layers.%d", i);
    rc = lz_module_add_child(
        m, name,
        transformer_layer(decoder, dims, num_heads, mlp_dims, dropout, activation, norm_first));
  }
  if (rc == 0) rc = lz_module_add_child(m, "ln", lz_nn_layer_norm_new(dims, 1e-5, true, true));
  if (rc) lz_module_free(m), m = NULL;
  return m;
}

lz_module *lz_nn_transformer_encoder_new(int num_layers, int dims, int num_heads, int mlp_dims,
                                         double dropout, lz_nn_activation_fn activation,
                                         bool norm_first) {
  return stack(false, num_layers, dims, num_heads, mlp_dims, dropout, activation, norm_first);
}

lz_module *lz_nn_transformer_decoder_new(int num_layers, int dims, int num_heads, int mlp_dims,
                                         double dropout, lz_nn_activation_fn activation,
                                         bool norm_first) {
  return stack(true, num_layers, dims, num_heads, mlp_dims, dropout, activation, norm_first);
}

/* ---- Transformer ---- */

/* (src, tgt, src_mask?, tgt_mask?, memory_mask?) */
static int transformer_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  if (lz_nn__check_call("Transformer", in, n, 2, 5) != 0) return -1;
  lz_array *o[LZ_NN_MAX_OUTPUTS];
  NN_BEGIN();
  lz_array *enc_in[2] = {in[0], lz_nn__opt(in, n, 2)};
  lz_array *mem = lz_module_call(lz_module_child(m, "encoder"), enc_in, 2, o) < 0 ? NULL : o[0];
  lz_array *dec_in[4] = {in[1], mem, lz_nn__opt(in, n, 3), lz_nn__opt(in, n, 4)};
  lz_array *y =
      mem && lz_module_call(lz_module_child(m, "decoder"), dec_in, 4, o) > 0 ? o[0] : NULL;
  return lz_nn__out1(out, NN_END(y));
}

lz_module *lz_nn_transformer_new(int dims, int num_heads, int num_encoder_layers,
                                 int num_decoder_layers, int mlp_dims, double dropout,
                                 lz_nn_activation_fn activation, lz_module *custom_encoder,
                                 lz_module *custom_decoder, bool norm_first) {
  lz_module *m = lz_module_new("Transformer", transformer_forward, NULL, NULL);
  lz_module *enc = custom_encoder ? custom_encoder
                                  : stack(false, num_encoder_layers, dims, num_heads, mlp_dims,
                                          dropout, activation, norm_first);
  lz_module *dec = custom_decoder ? custom_decoder
                                  : stack(true, num_decoder_layers, dims, num_heads, mlp_dims,
                                          dropout, activation, norm_first);
  if (!m) {
    lz_module_free(enc), lz_module_free(dec);
    return NULL;
  }
  int rc = lz_module_add_child(m, "encoder", enc);
  if (rc == 0)
    rc = lz_module_add_child(m, "decoder", dec);
  else
    lz_module_free(dec);
  if (rc) lz_module_free(m), m = NULL;
  return m;
}
