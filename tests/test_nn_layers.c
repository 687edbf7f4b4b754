/* nn layers: every layer's forward against NumPy references (scripts/gen_nn_refs.py), with the
 * parameters loaded from the references, plus shapes of the initial parameters and errors. */
#include "nn_testutil.h"

#define TOL 2e-5

static lz_array *call1(lz_module *m, lz_array *a, lz_array *b) {
  lz_array *in[2] = {a, b}, *out[LZ_NN_MAX_OUTPUTS];
  int k = lz_module_call(m, in, b ? 2 : 1, out);
  if (k < 0) return NULL;
  for (int i = 1; i < k; i++) lz_free(out[i]);
  return out[0];
}

static void test_linear(void) {
  lz_module *m = lz_nn_linear_new(4, 5, true);
  lz_array *w = lz_module_param(m, "weight");
  CHECK_SHAPE(w, 5, 4);
  CHECK(lz_array_dtype(w) == LZ_FLOAT32);
  CHECK(lz_item_f64(lz_max(lz_abs(w), false)) <= 0.5); /* uniform in +-sqrt(1/4) */
  CHECK(nn_load(m, "linear") == 0);
  CHECK_REF(lz_module_forward(m, nn_ref("linear:in:x")), "linear:out:y", TOL);
  /* a transposed (non-contiguous) input gives the same result */
  lz_array *xt = lz_transpose(lz_contiguous(lz_transpose(nn_ref("linear:in:x"), NULL, 0)), NULL, 0);
  CHECK_REF(lz_module_forward(m, xt), "linear:out:y", TOL);
  /* float16 input and parameters */
  lz_module_set_dtype(m, LZ_FLOAT16);
  lz_array *y16 = lz_module_forward(m, nn_ref_as("linear:in:x", LZ_FLOAT16));
  CHECK(lz_array_dtype(y16) == LZ_FLOAT16);
  CHECK_REF(y16, "linear:out:y", 1e-2);
  CHECK_ERROR(lz_module_forward(m, lz_zeros((int[]){2, 3}, 2, LZ_FLOAT16)), "[lz_matmul]");
  lz_module *nb = lz_nn_linear_new(3, 2, false);
  CHECK(!lz_module_has_param(nb, "bias") && lz_module_has_param(nb, "weight"));
  CHECK_ERROR(lz_nn_linear_new(0, 2, true), "[lz_nn_linear_new]");
  lz_module_free(nb);
  lz_module_free(m);
}

static void test_bilinear_embedding(void) {
  lz_module *b = lz_nn_bilinear_new(4, 3, 5, true);
  CHECK_SHAPE(lz_module_param(b, "weight"), 5, 3, 4);
  CHECK(nn_load(b, "bilinear") == 0);
  CHECK_REF(call1(b, nn_ref("bilinear:in:x1"), nn_ref("bilinear:in:x2")), "bilinear:out:y", TOL);
  CHECK_ERROR(call1(b, nn_ref("bilinear:in:x2"), nn_ref("bilinear:in:x1")), "Bilinear");
  CHECK_ERROR(lz_module_forward(b, nn_ref("bilinear:in:x1")), "takes 2");
  lz_module_free(b);
  lz_module *e = lz_nn_embedding_new(10, 4);
  CHECK_SHAPE(lz_module_param(e, "weight"), 10, 4);
  CHECK(nn_load(e, "embedding") == 0);
  CHECK_REF(lz_module_forward(e, nn_ref_i("embedding:in:idx")), "embedding:out:y", TOL);
  CHECK_REF(lz_nn_embedding_as_linear(e, nn_ref("embedding:in:h")), "embedding:out:as_linear", TOL);
  lz_array *bad =
      lz_module_forward(e, lz_array_from_data((int32_t[]){10}, (int[]){1}, 1, LZ_INT32));
  CHECK(bad && lz_eval(bad) != 0 && strstr(lz_last_error(), "out of bounds"));
  lz_clear_error();
  lz_module_free(e);
}

static void test_norms(void) {
  lz_array *x = nn_ref("norm:in:x");
  lz_dict *wb = lz_dict_new();
  lz_dict_set(wb, "weight", nn_ref("norm:in:w"));
  lz_dict_set(wb, "bias", nn_ref("norm:in:b"));
  lz_module *ln = lz_nn_layer_norm_new(4, 1e-5, true, true);
  CHECK_VALUES(lz_module_param(ln, "weight"), ((double[]){1, 1, 1, 1}), 4, 0);
  CHECK(lz_module_load_weights_dict(ln, wb, true) == 0);
  CHECK_REF(lz_module_forward(ln, x), "norm:out:layer_norm", TOL);
  lz_module *plain = lz_nn_layer_norm_new(4, 1e-5, false, true);
  CHECK(!lz_module_has_param(plain, "weight") && !lz_module_has_param(plain, "bias"));
  CHECK_REF(lz_module_forward(plain, x), "norm:out:layer_norm_plain", TOL);
  CHECK_ERROR(lz_module_forward(plain, lz_zeros((int[]){2, 3}, 2, LZ_FLOAT32)),
              "does not end in 4");
  /* float16 input and parameters stay float16 */
  lz_module_set_dtype(ln, LZ_FLOAT16);
  lz_array *ln16 = lz_module_forward(ln, lz_astype(x, LZ_FLOAT16));
  CHECK(lz_array_dtype(ln16) == LZ_FLOAT16);
  CHECK_REF(ln16, "norm:out:layer_norm", 2e-2);
  lz_module *rms = lz_nn_rms_norm_new(4, 1e-5);
  lz_dict_remove(wb, "bias");
  CHECK(lz_module_load_weights_dict(rms, wb, true) == 0);
  CHECK_REF(lz_module_forward(rms, x), "norm:out:rms_norm", TOL);
  lz_dict_set(wb, "bias", nn_ref("norm:in:b"));
  lz_module *gn = lz_nn_group_norm_new(2, 4, 1e-5, true, false);
  lz_module *gp = lz_nn_group_norm_new(2, 4, 1e-5, true, true);
  CHECK(lz_module_load_weights_dict(gn, wb, true) == 0 &&
        lz_module_load_weights_dict(gp, wb, true) == 0);
  CHECK_REF(lz_module_forward(gn, x), "norm:out:group_norm", TOL);
  CHECK_REF(lz_module_forward(gp, x), "norm:out:group_norm_pt", TOL);
  CHECK_ERROR(lz_nn_group_norm_new(3, 4, 1e-5, true, false), "do not divide");
  lz_module *in = lz_nn_instance_norm_new(4, 1e-5, false);
  CHECK(lz_module_num_parameters(in) == 0);
  CHECK_REF(lz_module_forward(in, nn_ref("norm:in:x4")), "norm:out:instance_norm", TOL);
  lz_module_free(ln), lz_module_free(plain), lz_module_free(rms), lz_module_free(gn);
  lz_module_free(gp), lz_module_free(in);
  lz_dict_free(wb);
}

static void test_batch_norm(void) {
  lz_module *bn = lz_nn_batch_norm_new(4, 1e-5, 0.1, true, true);
  lz_dict *p = lz_module_parameters(bn);
  CHECK(lz_dict_size(p) == 4 && strcmp(lz_dict_key(p, 2), "running_mean") == 0);
  lz_dict_free(p);
  lz_dict *t = lz_module_trainable_parameters(bn);
  CHECK(lz_dict_size(t) == 2); /* running statistics are frozen */
  lz_dict_free(t);
  lz_module_unfreeze(bn, NULL);
  CHECK(lz_module_is_frozen(bn, "running_var") && !lz_module_is_frozen(bn, "weight"));
  lz_dict *wb = lz_dict_new();
  lz_dict_set(wb, "weight", nn_ref("norm:in:w"));
  lz_dict_set(wb, "bias", nn_ref("norm:in:b"));
  CHECK(lz_module_load_weights_dict(bn, wb, false) == 0);
  lz_array *x = nn_ref("norm:in:x");
  CHECK_REF(lz_module_forward(bn, x), "norm:out:batch_norm_train", TOL);
  CHECK_REF(lz_module_param(bn, "running_mean"), "norm:out:running_mean", TOL);
  CHECK_REF(lz_module_param(bn, "running_var"), "norm:out:running_var", TOL);
  lz_module_train(bn, false);
  CHECK(!lz_module_is_training(bn));
  CHECK_REF(lz_module_forward(bn, x), "norm:out:batch_norm_eval", TOL);
  CHECK_ERROR(lz_module_forward(bn, lz_zeros((int[]){4}, 1, LZ_FLOAT32)), "2-d to 4-d");
  lz_dict_free(wb);
  lz_module_free(bn);
}

static void test_pools(void) {
  lz_array *x1 = nn_ref("pool:in:x1d"), *x2 = nn_ref("pool:in:x2d");
  lz_module *m[6] = {lz_nn_max_pool1d_new(2, 0, 0),
                     lz_nn_avg_pool1d_new(3, 2, 1),
                     lz_nn_max_pool1d_new(3, 1, 1),
                     lz_nn_max_pool2d_new((int[]){2, 2}, NULL, NULL),
                     lz_nn_avg_pool2d_new((int[]){3, 3}, (int[]){2, 2}, (int[]){1, 1}),
                     lz_nn_max_pool2d_new((int[]){2, 3}, (int[]){1, 2}, (int[]){0, 1})};
  const char *names[6] = {"pool:out:max1d_k2", "pool:out:avg1d_k3s2p1", "pool:out:max1d_k3s1p1",
                          "pool:out:max2d_k2", "pool:out:avg2d_k3s2p1", "pool:out:max2d_k23s12"};
  for (int i = 0; i < 6; i++) {
    CHECK_REF(lz_module_forward(m[i], i < 3 ? x1 : x2), names[i], TOL);
    lz_module_free(m[i]);
  }
  lz_module *p = lz_nn_max_pool1d_new(2, 0, 0);
  CHECK_ERROR(lz_module_forward(p, x2), "MaxPool1d");
  lz_module_free(p);
  CHECK_ERROR(lz_nn_max_pool1d_new(2, 1, 2), "padding");
}

static void test_upsample(void) {
  lz_array *x = nn_ref("upsample:in:x");
  struct {
    double s[2];
    const char *mode;
    bool align;
    const char *ref;
  } cases[] = {{{2, 2}, NULL, false, "upsample:out:nearest2"},
               {{1.5, 2.5}, "nearest", false, "upsample:out:nearest15"},
               {{2, 2}, "linear", false, "upsample:out:linear2"},
               {{2, 3}, "linear", true, "upsample:out:linear2_align"}};
  for (int i = 0; i < 4; i++) {
    lz_module *u = lz_nn_upsample_new(cases[i].s, 2, cases[i].mode, cases[i].align);
    CHECK_REF(lz_module_forward(u, x), cases[i].ref, TOL);
    lz_module_free(u);
  }
  lz_array *xc = nn_ref("upsample:in:xc");
  lz_module *c2 = lz_nn_upsample_new((double[]){2, 2}, 2, "cubic", false);
  lz_module *ca = lz_nn_upsample_new((double[]){2, 1.5}, 2, "cubic", true);
  CHECK_REF(lz_module_forward(c2, xc), "upsample:out:cubic2", TOL);
  CHECK_REF(lz_module_forward(ca, xc), "upsample:out:cubic_align", TOL);
  /* a transposed (non-contiguous) input and float16 */
  lz_array *xt = lz_swapaxes(lz_contiguous(lz_swapaxes(xc, 1, 2)), 1, 2);
  CHECK_REF(lz_module_forward(c2, xt), "upsample:out:cubic2", TOL);
  lz_array *y16 = lz_module_forward(c2, lz_astype(xc, LZ_FLOAT16));
  CHECK(lz_array_dtype(y16) == LZ_FLOAT16);
  CHECK_REF(y16, "upsample:out:cubic2", 2e-2);
  CHECK_ERROR(lz_module_forward(c2, nn_ref("pos:in:t")), "Upsample");
  lz_module_free(c2), lz_module_free(ca);
  CHECK_ERROR(lz_nn_upsample_new((double[]){2}, 1, "area", false), "mode");
}

static void test_positional(void) {
  lz_array *x = nn_ref("pos:in:x");
  lz_module *r = lz_nn_rope_new(8, false, 10000, 1);
  lz_module *rt = lz_nn_rope_new(8, true, 10000, 1);
  lz_module *rp = lz_nn_rope_new(4, false, 500, 0.5);
  CHECK_REF(lz_module_forward(r, x), "pos:out:rope", TOL);
  CHECK_REF(lz_module_forward(rt, x), "pos:out:rope_trad", TOL);
  CHECK_REF(lz_nn_rope_forward(rp, x, 3), "pos:out:rope_partial", TOL);
  /* a (L, D) input: the first (batch, head) of the 4-d reference */
  lz_array *x2 = lz_reshape(lz_slice(x, (int[]){0, 0, 0, 0}, (int[]){1, 1, 5, 8}, NULL, 4),
                            (int[]){5, 8}, 2);
  lz_array *y2 = lz_reshape(lz_module_forward(rt, x2), (int[]){1, 1, 5, 8}, 4);
  lz_array *ref = lz_slice(nn_ref("pos:out:rope_trad"), (int[]){0, 0, 0, 0}, (int[]){1, 1, 5, 8},
                           NULL, 4);
  CHECK(lz_item_bool(lz_allclose(y2, ref, 1e-5, 1e-5, false)));
  lz_array *y16 = lz_module_forward(r, lz_astype(x, LZ_FLOAT16));
  CHECK(lz_array_dtype(y16) == LZ_FLOAT16);
  CHECK_REF(y16, "pos:out:rope", 1e-2);
  CHECK_ERROR(lz_module_forward(r, lz_zeros((int[]){3, 4}, 2, LZ_FLOAT32)), "RoPE");
  CHECK_ERROR(lz_nn_rope_new(3, false, 10000, 1), "even");
  lz_module *s = lz_nn_sinusoidal_positional_encoding_new(8, 1e-4, 1, 0, false, false);
  lz_module *sc = lz_nn_sinusoidal_positional_encoding_new(8, 1e-4, 1, 1, true, true);
  CHECK_REF(lz_module_forward(s, nn_ref("pos:in:t")), "pos:out:sinusoidal", TOL);
  CHECK_REF(lz_module_forward(sc, nn_ref("pos:in:t")), "pos:out:sinusoidal_cos", 1e-4);
  lz_module *a = lz_nn_alibi_new();
  CHECK_REF(lz_module_forward(a, nn_ref("pos:in:scores")), "pos:out:alibi", TOL);
  CHECK_REF(lz_nn_alibi_forward(a, nn_ref("pos:in:scores"), 2, NULL), "pos:out:alibi_off2", TOL);
  lz_module_free(r), lz_module_free(rt), lz_module_free(rp), lz_module_free(s);
  lz_module_free(sc), lz_module_free(a);
}

static void test_attention(void) {
  lz_module *m = lz_nn_multi_head_attention_new(8, 2, 0, 0, 0, 0, 0, true);
  lz_dict *p = lz_module_parameters(m);
  CHECK(lz_dict_size(p) == 8 && strcmp(lz_dict_key(p, 0), "query_proj.weight") == 0);
  lz_dict_free(p);
  CHECK(nn_load(m, "mha") == 0);
  lz_array *q = nn_ref("mha:in:q"), *k = nn_ref("mha:in:k"), *v = nn_ref("mha:in:v"), *o[8];
  CHECK(lz_module_call(m, (lz_array *[]){q, k, v}, 3, o) == 1);
  CHECK_REF(o[0], "mha:out:y", TOL);
  CHECK(lz_module_call(m, (lz_array *[]){q, k, v, nn_ref("mha:in:mask")}, 4, o) == 1);
  CHECK_REF(o[0], "mha:out:y_masked", TOL);
  /* a boolean mask: the same masking as the additive one */
  lz_array *bmask = lz_greater(nn_ref("mha:in:mask"), lz_float(-1));
  CHECK(lz_module_call(m, (lz_array *[]){q, k, v, bmask}, 4, o) == 1);
  CHECK_REF(o[0], "mha:out:y_masked", TOL);
  CHECK(lz_module_call(m, (lz_array *[]){q, k}, 2, o) == -1);
  lz_clear_error();
  lz_module_free(m);
  lz_array *cm = lz_nn_create_additive_causal_mask(3, LZ_FLOAT32);
  float lo = -3.4028234663852886e38f;
  CHECK_VALUES(cm, ((double[]){0, lo, lo, 0, 0, lo, 0, 0, 0}), 9, 0);
}

static void test_transformer(void) {
  lz_module *e = lz_nn_transformer_encoder_layer_new(8, 2, 16, 0.0, NULL, true);
  CHECK(nn_load(e, "enc") == 0);
  lz_array *x = nn_ref("enc:in:x"), *mask = nn_ref("enc:in:mask");
  CHECK_REF(call1(e, x, mask), "enc:out:y_norm_first", 1e-4);
  lz_module *e2 = lz_nn_transformer_encoder_layer_new(8, 2, 16, 0.0, lz_nn_relu, false);
  CHECK(nn_load(e2, "enc") == 0);
  CHECK_REF(lz_module_forward(e2, x), "enc:out:y_post_norm", 1e-4);
  lz_module *d = lz_nn_transformer_decoder_layer_new(8, 2, 16, 0.0, NULL, true);
  lz_module *d2 = lz_nn_transformer_decoder_layer_new(8, 2, 16, 0.0, NULL, false);
  CHECK(nn_load(d, "dec") == 0 && nn_load(d2, "dec") == 0);
  lz_array *in[3] = {nn_ref("dec:in:x"), nn_ref("dec:in:mem"), nn_ref("dec:in:mask")}, *o[8];
  CHECK(lz_module_call(d, in, 3, o) == 1);
  CHECK_REF(o[0], "dec:out:y_norm_first", 1e-4);
  CHECK(lz_module_call(d2, in, 3, o) == 1);
  CHECK_REF(o[0], "dec:out:y_post_norm", 1e-4);
  /* a stack: layers.N.attention.query_proj.weight ... ln.bias */
  lz_module *enc = lz_nn_transformer_encoder_new(3, 8, 2, 0, 0.1, NULL, true);
  CHECK(lz_module_has_param(enc, "layers.2.attention.query_proj.weight"));
  CHECK(lz_module_has_param(enc, "ln.bias") && !lz_module_has_param(enc, "layers.3.ln1.weight"));
  CHECK(lz_module_num_parameters(enc) == 3 * (4 * 64 + 4 * 8 + 8 * 32 + 32 + 32 * 8 + 8) + 16);
  lz_module_train(enc, false);
  CHECK_SHAPE(lz_module_forward(enc, x), 2, 3, 8);
  lz_module_free(e), lz_module_free(e2), lz_module_free(d), lz_module_free(d2);
  lz_module_free(enc);
}

static void test_recurrent(void) {
  lz_array *x = nn_ref("rnn:in:x"), *h0 = nn_ref("rnn:in:h0"), *c0 = nn_ref("rnn:in:c0"), *o[8];
  lz_module *r = lz_nn_rnn_new(4, 5, true, NULL);
  CHECK_SHAPE(lz_module_param(r, "Whh"), 5, 5);
  CHECK(nn_load(r, "rnn") == 0);
  CHECK_REF(lz_module_forward(r, x), "rnn:out:y", TOL);
  CHECK_REF(call1(r, x, h0), "rnn:out:y_h0", TOL);
  lz_module *g = lz_nn_gru_new(4, 5, true);
  CHECK_SHAPE(lz_module_param(g, "bhn"), 5);
  CHECK(nn_load(g, "gru") == 0);
  CHECK_REF(lz_module_forward(g, x), "gru:out:y", TOL);
  CHECK_REF(call1(g, x, h0), "gru:out:y_h0", TOL);
  lz_module *l = lz_nn_lstm_new(4, 5, true);
  CHECK(nn_load(l, "lstm") == 0);
  CHECK(lz_module_call(l, &x, 1, o) == 2);
  CHECK_REF(o[0], "lstm:out:h", TOL);
  CHECK_REF(o[1], "lstm:out:c", TOL);
  CHECK(lz_module_call(l, (lz_array *[]){x, h0, c0}, 3, o) == 2);
  CHECK_REF(o[0], "lstm:out:h_init", TOL);
  CHECK_REF(o[1], "lstm:out:c_init", TOL);
  /* unbatched (L, D) input */
  lz_array *x0 =
      lz_squeeze(lz_slice(x, (int[]){0, 0, 0}, (int[]){1, 3, 4}, NULL, 3), (int[]){0}, 1);
  CHECK_SHAPE(lz_module_forward(r, x0), 3, 5);
  CHECK_ERROR(lz_module_forward(r, lz_zeros((int[]){2, 3, 5}, 3, LZ_FLOAT32)), "(N, L, 4)");
  lz_module_free(r), lz_module_free(g), lz_module_free(l);
}

static void test_dropout_sequential(void) {
  lz_random_seed(7);
  lz_module *d = lz_nn_dropout_new(0.5);
  lz_array *x = lz_ones((int[]){1000}, 1, LZ_FLOAT32);
  lz_array *y = lz_module_forward(d, x);
  double s = lz_item_f64(lz_sum(y, false)), nz = lz_item_f64(lz_count_nonzero(y, false));
  CHECK(nz > 400 && nz < 600 && fabs(s - 2 * nz) < 1e-3); /* kept values scaled by 2 */
  lz_module_train(d, false);
  CHECK(lz_item_bool(lz_array_equal(lz_module_forward(d, x), x, false)));
  lz_module *d2 = lz_nn_dropout2d_new(0.5);
  lz_array *y2 = lz_module_forward(d2, lz_ones((int[]){2, 3, 3, 64}, 4, LZ_FLOAT32));
  /* whole channels: every spatial position agrees */
  lz_array *mn = lz_min_axes(y2, (int[]){1, 2}, 2, false),
           *mx = lz_max_axes(y2, (int[]){1, 2}, 2, false);
  CHECK(lz_item_bool(lz_array_equal(mn, mx, false)));
  CHECK_ERROR(lz_module_forward(d2, x), "Dropout2d");
  CHECK_ERROR(lz_nn_dropout_new(1.0), "[0, 1)");
  lz_module *d3 = lz_nn_dropout3d_new(0.25);
  CHECK_SHAPE(lz_module_forward(d3, lz_ones((int[]){2, 2, 2, 2, 3}, 5, LZ_FLOAT32)), 2, 2, 2, 2, 3);
  lz_module *seq = lz_nn_sequential_new(
      3, (lz_module *[]){lz_nn_identity_new(), lz_nn_relu_new(), lz_nn_step_new(0.5)});
  lz_array *v = lz_array_from_data((float[]){-1, 0.25, 2}, (int[]){3}, 1, LZ_FLOAT32);
  CHECK_VALUES(lz_module_forward(seq, v), ((double[]){0, 0, 1}), 3, 0);
  CHECK(strcmp(lz_module_type(lz_module_child(seq, "layers.1")), "ReLU") == 0);
  /* a failed constructor fails the container without leaking the others */
  CHECK_ERROR(lz_nn_sequential_new(2, (lz_module *[]){lz_nn_relu_new(), lz_nn_linear_new(0, 1, 1)}),
              "[lz_nn_linear_new]");
  lz_module_free(d), lz_module_free(d2), lz_module_free(d3), lz_module_free(seq);
}

int main(void) {
  RUN(test_linear);
  RUN(test_bilinear_embedding);
  RUN(test_norms);
  RUN(test_batch_norm);
  RUN(test_pools);
  RUN(test_upsample);
  RUN(test_positional);
  RUN(test_attention);
  RUN(test_transformer);
  RUN(test_recurrent);
  RUN(test_dropout_sequential);
  return lzt_summary();
}
