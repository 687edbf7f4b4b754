/* nn attention and transformer stacks: grouped-query MultiHeadAttention, the fused and composed
 * paths of lz_nn_scaled_dot_product_attention, TransformerDecoder and Transformer against NumPy
 * references (scripts/gen_nn_refs.py), and gradients through the layers built on fused ops
 * (attention, LayerNorm, RMSNorm, RoPE), the decoder stack and cubic Upsample. */
#include "nn_testutil.h"
#include "test_grad_check.h"

#define TOL 2e-5
#define IN(lo, hi, ...)                                                                            \
  { (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), {__VA_ARGS__}, lo, hi }

static lz_array *call(lz_module *m, lz_array *const *in, int n) {
  lz_array *out[LZ_NN_MAX_OUTPUTS];
  int k = lz_module_call(m, in, n, out);
  for (int i = 1; i < k; i++) lz_free(out[i]);
  return k > 0 ? out[0] : NULL;
}

static void test_gqa(void) {
  lz_module *m = lz_nn_multi_head_attention_new_v2(8, 4, 2, 0, 0, 0, 0, 0, false);
  CHECK_SHAPE(lz_module_param(m, "key_proj.weight"), 4, 8);
  CHECK_SHAPE(lz_module_param(m, "value_proj.weight"), 4, 8);
  CHECK_SHAPE(lz_module_param(m, "out_proj.weight"), 8, 8);
  CHECK(nn_load(m, "gqa") == 0);
  lz_array *q = nn_ref("gqa:in:q"), *k = nn_ref("gqa:in:k"), *mask = nn_ref("gqa:in:mask");
  CHECK_REF(call(m, (lz_array *[]){q, k, k, mask}, 4), "gqa:out:y", TOL);
  lz_array *bmask = lz_greater(mask, lz_float(-1));
  CHECK_REF(call(m, (lz_array *[]){q, k, k, bmask}, 4), "gqa:out:y", TOL);
  /* keys and values given as transposed views */
  lz_array *kt = lz_swapaxes(lz_contiguous(lz_swapaxes(k, 0, 1)), 0, 1);
  CHECK_REF(call(m, (lz_array *[]){q, kt, kt, mask}, 4), "gqa:out:y", TOL);
  lz_module_free(m);
  CHECK_ERROR(lz_nn_multi_head_attention_new_v2(8, 4, 3, 0, 0, 0, 0, 0, false), "num_kv_heads");
  CHECK_ERROR(lz_nn_multi_head_attention_new_v2(8, 4, 2, 0, 0, 0, 6, 0, false), "value_dims");
  /* num_kv_heads 0 means num_heads: the classic layer */
  lz_module *mh = lz_nn_multi_head_attention_new_v2(8, 2, 0, 0, 0, 0, 0, 0, true);
  CHECK(nn_load(mh, "mha") == 0);
  CHECK_REF(call(mh, (lz_array *[]){nn_ref("mha:in:q"), nn_ref("mha:in:k"), nn_ref("mha:in:v")}, 3),
            "mha:out:y", TOL);
  lz_module_free(mh);
}

static void test_sdpa_paths(void) {
  lz_random_seed(3);
  lz_array *q = lz_random_normal((int[]){1, 4, 3, 8}, 4, LZ_FLOAT32, 0, 1, NULL);
  lz_array *k = lz_random_normal((int[]){1, 2, 5, 8}, 4, LZ_FLOAT32, 0, 1, NULL);
  lz_array *v = lz_random_normal((int[]){1, 2, 5, 6}, 4, LZ_FLOAT32, 0, 1, NULL);
  lz_array *mask = lz_random_normal((int[]){3, 5}, 2, LZ_FLOAT32, 0, 1, NULL);
  /* the reference: k and v repeated to every query head, composed by hand */
  lz_array *kr = lz_repeat(k, 2, 1), *vr = lz_repeat(v, 2, 1);
  lz_array *s = lz_add(lz_multiply(lz_matmul(q, lz_swapaxes(kr, -1, -2)), lz_float(0.3)), mask);
  lz_array *ref = lz_matmul(lz_softmax_axis(s, -1, true), vr);
  lz_array *fused = lz_nn_scaled_dot_product_attention(q, k, v, 0.3, mask);
  CHECK_SHAPE(fused, 1, 4, 3, 6);
  CHECK(lz_item_bool(lz_allclose(fused, ref, 1e-5, 1e-5, false)));
  /* float16 q, k, v with a float32 mask: the composed path, in float32 */
  lz_array *q16 = lz_astype(q, LZ_FLOAT16), *k16 = lz_astype(k, LZ_FLOAT16);
  lz_array *v16 = lz_astype(v, LZ_FLOAT16);
  lz_array *mixed = lz_nn_scaled_dot_product_attention(q16, k16, v16, 0.3, mask);
  CHECK(lz_array_dtype(mixed) == LZ_FLOAT32);
  CHECK(lz_item_bool(lz_allclose(mixed, ref, 2e-2, 2e-2, false)));
  /* float16 throughout: the fused path keeps float16 */
  lz_array *h = lz_nn_scaled_dot_product_attention(q16, k16, v16, 0.3, lz_astype(mask, LZ_FLOAT16));
  CHECK(lz_array_dtype(h) == LZ_FLOAT16);
  CHECK(lz_item_bool(lz_allclose(lz_astype(h, LZ_FLOAT32), ref, 2e-2, 2e-2, false)));
  /* 3-d operands take the composed path */
  lz_array *q3 =
      lz_squeeze(lz_slice(q, (int[]){0, 0, 0, 0}, (int[]){1, 1, 3, 8}, NULL, 4), (int[]){0}, 1);
  lz_array *k3 =
      lz_squeeze(lz_slice(k, (int[]){0, 0, 0, 0}, (int[]){1, 1, 5, 8}, NULL, 4), (int[]){0}, 1);
  lz_array *v3 =
      lz_squeeze(lz_slice(v, (int[]){0, 0, 0, 0}, (int[]){1, 1, 5, 6}, NULL, 4), (int[]){0}, 1);
  lz_array *r3 = lz_nn_scaled_dot_product_attention(q3, k3, v3, 0.3, mask);
  lz_array *ref0 = lz_slice(ref, (int[]){0, 0, 0, 0}, (int[]){1, 1, 3, 6}, NULL, 4);
  CHECK(lz_item_bool(lz_allclose(r3, lz_reshape(ref0, (int[]){1, 3, 6}, 3), 1e-5, 1e-5, false)));
  CHECK_ERROR(
      lz_nn_scaled_dot_product_attention(q, lz_repeat(k, 3, 1), lz_repeat(v, 3, 1), 1, NULL),
      "multiple");
}

static void test_transformer(void) {
  lz_module *t = lz_nn_transformer_new(8, 2, 1, 1, 16, 0.0, NULL, NULL, NULL, true);
  CHECK(nn_load(t, "tf") == 0);
  lz_array *src = nn_ref("tf:in:src"), *tgt = nn_ref("tf:in:tgt"), *tm = nn_ref("tf:in:tgt_mask");
  CHECK_REF(call(t, (lz_array *[]){src, tgt, NULL, tm, NULL}, 5), "tf:out:y", 1e-4);
  CHECK_REF(lz_module_forward(lz_module_child(t, "encoder"), src), "tf:out:memory", 1e-4);
  /* the decoder stack alone, on the reference memory */
  lz_module *dec = lz_module_child(t, "decoder");
  CHECK(strcmp(lz_module_type(dec), "TransformerDecoder") == 0);
  CHECK_REF(call(dec, (lz_array *[]){tgt, nn_ref("tf:out:memory"), tm}, 3), "tf:out:y", 1e-4);
  CHECK(call(t, (lz_array *[]){src}, 1) == NULL && strstr(lz_last_error(), "Transformer"));
  lz_clear_error();
  lz_module_free(t);
  /* a standalone stack: names and sizes as MLX's */
  lz_module *d = lz_nn_transformer_decoder_new(2, 8, 2, 0, 0.1, NULL, false);
  CHECK(lz_module_has_param(d, "layers.1.cross_attention.out_proj.weight"));
  CHECK(lz_module_has_param(d, "ln.weight") && !lz_module_has_param(d, "layers.2.ln1.weight"));
  /* per layer: 2 attentions (4 * 64), 3 LayerNorms, linear1 (8 -> 32), linear2 (32 -> 8) */
  CHECK(lz_module_num_parameters(d) == 2 * (8 * 64 + 6 * 8 + 8 * 32 + 32 + 32 * 8 + 8) + 16);
  lz_module_train(d, false);
  lz_array *x = lz_ones((int[]){2, 3, 8}, 3, LZ_FLOAT32),
           *mem = lz_ones((int[]){2, 5, 8}, 3, LZ_FLOAT32);
  CHECK_SHAPE(call(d, (lz_array *[]){x, mem}, 2), 2, 3, 8);
  lz_module_free(d);
  /* custom encoder and decoder are taken over; a failed one fails the call without leaks */
  lz_module *c = lz_nn_transformer_new(
      8, 2, 0, 0, 0, 0, NULL, lz_nn_transformer_encoder_new(2, 8, 2, 0, 0, NULL, true), NULL, true);
  CHECK(lz_module_has_param(c, "encoder.layers.1.ln2.bias"));
  CHECK(lz_module_has_param(c, "decoder.ln.bias") &&
        !lz_module_has_param(c, "decoder.layers.0.ln1.bias"));
  lz_module_free(c);
  /* a NULL custom encoder means the default one, even from a failed constructor (whose error
   * stays pending): functions decide failure from their own results (core.h) */
  lz_clear_error();
  lz_module *dflt =
      lz_nn_transformer_new(8, 2, 1, 1, 0, 0, NULL, lz_nn_linear_new(0, 1, true), NULL, true);
  CHECK(dflt && lz_module_has_param(dflt, "encoder.layers.0.ln1.bias"));
  CHECK(strstr(lz_last_error(), "[lz_nn_linear_new]") != NULL);
  lz_module_free(dflt);
  lz_clear_error();
  CHECK_ERROR(lz_nn_transformer_new(8, 3, 1, 1, 0, 0, NULL, NULL, NULL, true), "divisible");
}

/* ---- gradients (float32 layers, float64 checker) ---- */

static lz_module *g_m;

static lz_array *f32(lz_array *x) { return lz_astype(x, LZ_FLOAT32); }
static lz_array *out64(lz_array *y) {
  lz_array *z = lz_astype(y, LZ_FLOAT64);
  int n = (int)lz_array_size(z);
  return lz_multiply(z, lz_reshape(lz_sin(lz_arange(1, 1 + n, 1, LZ_FLOAT64)), lz_array_shape(z),
                                   lz_array_ndim(z)));
}

static lz_array *f_gqa(lz_array *const *x) {
  lz_array *mask = lz_nn_create_additive_causal_mask(3, LZ_FLOAT32);
  return out64(call(g_m, (lz_array *[]){f32(x[0]), f32(x[1]), f32(x[1]), mask}, 4));
}
static lz_array *f_decoder(lz_array *const *x) {
  return out64(call(g_m, (lz_array *[]){f32(x[0]), f32(x[1])}, 2));
}
/* a layer with parameter "weight" (and "bias" when given as input 2) */
static lz_array *f_weighted(lz_array *const *x) {
  lz_module_set_param(g_m, "weight", f32(x[1]));
  if (lz_module_has_param(g_m, "bias")) lz_module_set_param(g_m, "bias", f32(x[2]));
  return out64(lz_module_forward(g_m, f32(x[0])));
}
static lz_array *f_plain(lz_array *const *x) { return out64(lz_module_forward(g_m, f32(x[0]))); }
static lz_array *f_rope_offset(lz_array *const *x) {
  return out64(lz_nn_rope_forward(g_m, f32(x[0]), 5));
}

static void check(lz_module *m, const char *what, gc_body f, const gc_input *in, int n) {
  g_m = m;
  gc_check_h(what, f, in, n, 3e-3, 1e-2);
  lz_module_free(m);
}

static void test_grad(void) {
  lz_random_seed(2);
  check(lz_nn_multi_head_attention_new_v2(4, 2, 1, 0, 0, 0, 0, 0, true), "GQA attention", f_gqa,
        (gc_input[]){IN(-1, 1, 1, 3, 4), IN(-1, 1, 1, 3, 4)}, 2);
  lz_module *d =
      lz_nn_transformer_decoder_new(1, 4, 2, 8, 0, lz_nn_silu, true); /* smooth: no kink */
  check(d, "TransformerDecoder", f_decoder, (gc_input[]){IN(-1, 1, 1, 2, 4), IN(-1, 1, 1, 3, 4)},
        2);
  check(lz_nn_layer_norm_new(5, 1e-5, true, true), "LayerNorm", f_weighted,
        (gc_input[]){IN(-2, 2, 2, 3, 5), IN(0.5, 1.5, 5), IN(-1, 1, 5)}, 3);
  check(lz_nn_rms_norm_new(5, 1e-5), "RMSNorm", f_weighted,
        (gc_input[]){IN(-2, 2, 2, 3, 5), IN(0.5, 1.5, 5)}, 2);
  check(lz_nn_rope_new(4, false, 10000, 1), "RoPE", f_plain, (gc_input[]){IN(-1, 1, 2, 3, 6)}, 1);
  check(lz_nn_rope_new(6, true, 100, 0.5), "RoPE traditional 2-d", f_rope_offset,
        (gc_input[]){IN(-1, 1, 3, 6)}, 1);
  check(lz_nn_upsample_new((double[]){2, 1.5}, 2, "cubic", false), "Upsample cubic", f_plain,
        (gc_input[]){IN(-1, 1, 1, 3, 2, 2)}, 1);
}

int main(void) {
  RUN(test_gqa);
  RUN(test_sdpa_paths);
  RUN(test_transformer);
  RUN(test_grad);
  return lzt_summary();
}
