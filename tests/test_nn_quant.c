/* nn quantized layers: QuantizedLinear and QuantizedEmbedding loaded (strictly) from NumPy
 * references of packed codes, scales and biases (scripts/gen_nn_refs.py); nn.quantize(model)
 * against the dequantized model; freezing; gradients through QuantizedLinear. */
#include <unistd.h>

#include "nn_testutil.h"
#include "test_grad_check.h"

#define TOL 2e-5
/* an int-returning call that must fail with an error containing needle */
#define CHECK_FAILS(e, needle) CHECK_ERROR((e) < 0 ? NULL : (void *)&lzt_checks, needle)

/* Loads the "<prefix>:p:*" references with the packed "weight" as uint32. */
static int load_quantized(lz_module *m, const char *prefix) {
  lz_dict *d = nn_params(prefix);
  char name[64];
  snprintf(name, sizeof name, "%s:p:weight", prefix);
  lz_array *w = nn_ref_as(name, LZ_UINT32);
  lz_dict_set(d, "weight", w);
  lz_free(w);
  int rc = lz_module_load_weights_dict(m, d, true);
  lz_dict_free(d);
  return rc;
}

static void test_quantized_linear(void) {
  lz_module *q = lz_nn_quantized_linear_new(64, 5, true, 32, 4);
  CHECK(strcmp(lz_module_type(q), "QuantizedLinear") == 0);
  CHECK_SHAPE(lz_module_param(q, "weight"), 5, 8); /* 64 4-bit codes in 8 words */
  CHECK(lz_array_dtype(lz_module_param(q, "weight")) == LZ_UINT32);
  CHECK_SHAPE(lz_module_param(q, "scales"), 5, 2);
  CHECK_SHAPE(lz_module_param(q, "biases"), 5, 2);
  CHECK_VALUES(lz_module_param(q, "bias"), ((double[]){0, 0, 0, 0, 0}), 5, 0);
  lz_dict *names = lz_module_parameters(q);
  CHECK(lz_dict_size(names) == 4 && strcmp(lz_dict_key(names, 0), "weight") == 0 &&
        strcmp(lz_dict_key(names, 2), "biases") == 0);
  lz_dict_free(names);
  /* always frozen, as MLX keeps them */
  lz_dict *t = lz_module_trainable_parameters(q);
  CHECK(lz_dict_size(t) == 0);
  lz_dict_free(t);
  lz_module_unfreeze(q, NULL);
  CHECK(lz_module_is_frozen(q, "weight") && lz_module_is_frozen(q, "bias"));
  CHECK(load_quantized(q, "qlinear") == 0);
  lz_array *x = nn_ref("qlinear:in:x");
  CHECK_REF(lz_module_forward(q, x), "qlinear:out:y", 1e-4);
  /* float16 activations */
  lz_array *y16 = lz_module_forward(q, lz_astype(x, LZ_FLOAT16));
  CHECK_REF(y16, "qlinear:out:y", 3e-2);
  /* strict loading: a missing scale, a wrong packed shape, an unquantized weight */
  lz_dict *d = nn_params("qlinear");
  lz_dict_remove(d, "scales");
  CHECK_FAILS(lz_module_load_weights_dict(q, d, true), "missing 'scales'");
  lz_dict_set(d, "scales", nn_ref("qlinear:p:scales"));
  lz_dict_set(d, "weight", lz_zeros((int[]){5, 64}, 2, LZ_FLOAT32));
  CHECK_FAILS(lz_module_load_weights_dict(q, d, true),
              "shape of 'weight' is (5,64), expected (5,8)");
  lz_dict_free(d);
  CHECK_ERROR(lz_module_forward(q, lz_ones((int[]){2, 32}, 2, LZ_FLOAT32)),
              "[lz_quantized_matmul]");
  CHECK_ERROR(lz_nn_quantized_linear_new(64, 5, true, 48, 4), "group_size 48");
  CHECK_ERROR(lz_nn_quantized_linear_new(40, 5, true, 32, 4), "not divisible by the group size");
  lz_module_free(q);
}

static void test_quantized_embedding(void) {
  lz_module *e = lz_nn_quantized_embedding_new(6, 64, 32, 3);
  CHECK_SHAPE(lz_module_param(e, "weight"), 6, 6); /* 64 3-bit codes in 6 words */
  CHECK(!lz_module_has_param(e, "bias"));
  CHECK(load_quantized(e, "qembedding") == 0);
  lz_array *idx = nn_ref_i("qembedding:in:idx");
  CHECK_REF(lz_module_forward(e, idx), "qembedding:out:y", 1e-5);
  CHECK_REF(lz_nn_embedding_as_linear(e, nn_ref("qembedding:in:h")), "qembedding:out:as_linear",
            1e-4);
  /* 0-d and 1-d indices */
  lz_array *one = lz_module_forward(e, lz_array_from_data((int32_t[]){5}, NULL, 0, LZ_INT32));
  CHECK_SHAPE(one, 64);
  lz_array *row =
      lz_slice(nn_ref("qembedding:out:y"), (int[]){0, 1, 0}, (int[]){1, 2, 64}, NULL, 3);
  CHECK(lz_item_bool(lz_allclose(one, lz_reshape(row, (int[]){64}, 1), 1e-5, 1e-5, false)));
  CHECK_SHAPE(lz_module_forward(e, lz_arange(0, 4, 1, LZ_INT32)), 4, 64);
  lz_module_free(e);
}

/* ---- nn.quantize(model) ---- */

static lz_module *make_model(void) {
  lz_module *m = lz_module_new("Model", NULL, NULL, NULL);
  lz_module_add_child(m, "embed", lz_nn_embedding_new(10, 64));
  lz_module_add_child(
      m, "mlp",
      lz_nn_sequential_new(3, (lz_module *[]){lz_nn_linear_new(64, 32, true), lz_nn_relu_new(),
                                              lz_nn_linear_new(32, 8, false)}));
  lz_module_add_child(m, "odd", lz_nn_linear_new(8, 4, true)); /* 8 is below every group size */
  return m;
}

static bool skip_odd(void *ctx, const char *path, lz_module *m) {
  (void)m;
  ++*(int *)ctx;
  return strcmp(path, "odd") != 0;
}

/* Replaces each quantized layer's weight of a float model by the dequantized one. */
static void dequantized_like(lz_module *fm, lz_module *qm, const char *path, int gs, int bits) {
  char n[3][64];
  const char *suffix[3] = {"weight", "scales", "biases"};
  lz_array *p[3];
  for (int i = 0; i < 3; i++) {
    snprintf(n[i], sizeof n[i], "%s.%s", path, suffix[i]);
    p[i] = lz_module_param(qm, n[i]);
  }
  lz_dict *d = lz_dict_new();
  lz_dict_set(d, n[0], lz_dequantize(p[0], p[1], p[2], gs, bits));
  CHECK(lz_module_update(fm, d) == 0);
  lz_dict_free(d);
}

static void check_same_forward(lz_module *a, lz_module *b, lz_array *idx) {
  lz_array *ha = lz_module_forward(lz_module_child(a, "embed"), idx);
  lz_array *hb = lz_module_forward(lz_module_child(b, "embed"), idx);
  CHECK_SHAPE(ha, 2, 3, 64);
  CHECK(lz_item_bool(lz_allclose(ha, hb, 1e-5, 1e-5, false)));
  lz_array *ya = lz_module_forward(lz_module_child(a, "mlp"), ha);
  lz_array *yb = lz_module_forward(lz_module_child(b, "mlp"), hb);
  CHECK(lz_item_bool(lz_allclose(ya, yb, 1e-4, 1e-4, false)));
  lz_array *za = lz_module_forward(lz_module_child(a, "odd"), ya);
  lz_array *zb = lz_module_forward(lz_module_child(b, "odd"), yb);
  CHECK_SHAPE(za, 2, 3, 4);
  CHECK(lz_item_bool(lz_allclose(za, zb, 1e-4, 1e-4, false)));
  /* tied output projection */
  lz_array *ta = lz_nn_embedding_as_linear(lz_module_child(a, "embed"), ha);
  lz_array *tb = lz_nn_embedding_as_linear(lz_module_child(b, "embed"), hb);
  CHECK_SHAPE(ta, 2, 3, 10);
  CHECK(lz_item_bool(lz_allclose(ta, tb, 1e-4, 1e-4, false)));
}

static void test_quantize_model(void) {
  lz_random_seed(11);
  lz_module *m = make_model();
  lz_dict *fp = lz_module_parameters(m);
  lz_module *ref = make_model();
  CHECK(lz_module_update(ref, fp) == 0); /* the same float weights */
  lz_dict_free(fp);
  /* every Linear: 'odd' cannot be quantized, so nothing changes */
  CHECK_FAILS(lz_nn_quantize(m, 32, 4, NULL, NULL), "cannot quantize 'odd'");
  CHECK(strcmp(lz_module_type(lz_module_child(m, "mlp.layers.0")), "Linear") == 0);
  CHECK_FAILS(lz_nn_quantize(m, 32, 7, NULL, NULL), "bits 7");
  int seen = 0;
  CHECK(lz_nn_quantize(m, 32, 4, skip_odd, &seen) == 3);
  CHECK(seen == 4);
  CHECK(strcmp(lz_module_type(lz_module_child(m, "embed")), "QuantizedEmbedding") == 0);
  CHECK(strcmp(lz_module_type(lz_module_child(m, "mlp.layers.0")), "QuantizedLinear") == 0);
  CHECK(strcmp(lz_module_type(lz_module_child(m, "mlp.layers.1")), "ReLU") == 0);
  CHECK(strcmp(lz_module_type(lz_module_child(m, "odd")), "Linear") == 0);
  CHECK(lz_module_has_param(m, "mlp.layers.0.scales") &&
        lz_module_has_param(m, "mlp.layers.0.bias"));
  CHECK(!lz_module_has_param(m, "mlp.layers.2.bias"));
  CHECK_SHAPE(lz_module_param(m, "mlp.layers.2.weight"), 8, 4);
  /* only 'odd' stays trainable */
  lz_dict *t = lz_module_trainable_parameters(m);
  CHECK(lz_dict_size(t) == 2);
  lz_dict_free(t);
  /* the quantized model computes what the float model does with dequantized weights */
  dequantized_like(ref, m, "embed", 32, 4);
  dequantized_like(ref, m, "mlp.layers.0", 32, 4);
  dequantized_like(ref, m, "mlp.layers.2", 32, 4);
  lz_array *idx = lz_array_from_data((int32_t[]){1, 9, 0, 4, 4, 7}, (int[]){2, 3}, 2, LZ_INT32);
  check_same_forward(m, ref, idx);
  CHECK_FAILS(lz_nn_quantize(NULL, 32, 4, NULL, NULL), "NULL model");
  lz_module_free(m);
  lz_module_free(ref);
}

/* A quantized checkpoint: quantize a fresh model with the file's settings, then load strictly. */
static void test_load_quantized(void) {
  char dir[] = "/tmp/lz_nn_quant_XXXXXX", path[64];
  CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/q.safetensors", dir);
  lz_random_seed(5);
  lz_module *a = make_model();
  CHECK(lz_nn_quantize(a, 32, 8, skip_odd, &(int){0}) == 3);
  CHECK(lz_module_save_weights(a, path) == 0);
  lz_module *b = make_model();
  /* unquantized, the file does not fit */
  CHECK_FAILS(lz_module_load_weights(b, path, true), "unexpected 'embed.scales'");
  CHECK(lz_nn_quantize(b, 32, 8, skip_odd, &(int){0}) == 3);
  CHECK(lz_module_load_weights(b, path, true) == 0);
  CHECK(lz_array_dtype(lz_module_param(b, "mlp.layers.0.weight")) == LZ_UINT32);
  lz_array *idx = lz_array_from_data((int32_t[]){3, 2, 1, 0, 8, 9}, (int[]){2, 3}, 2, LZ_INT32);
  check_same_forward(a, b, idx);
  /* quantized with other settings: the shapes differ */
  lz_module *c = make_model();
  CHECK(lz_nn_quantize(c, 32, 4, skip_odd, &(int){0}) == 3);
  CHECK_FAILS(lz_module_load_weights(c, path, true), "shape of 'embed.weight' is (10,16)");
  unlink(path);
  rmdir(dir);
  lz_module_free(a), lz_module_free(b), lz_module_free(c);
}

/* ---- gradients through QuantizedLinear (to its input) ---- */

static lz_module *g_q;

static lz_array *f_qlinear(lz_array *const *x) {
  lz_array *y = lz_module_forward(g_q, lz_astype(x[0], LZ_FLOAT32));
  return lz_multiply(lz_astype(y, LZ_FLOAT64), lz_sin(lz_arange(1, 1 + 5, 1, LZ_FLOAT64)));
}

static lz_array *qloss(void *ctx, lz_module *m, lz_array *const *in, int n) {
  (void)ctx, (void)n;
  lz_array *h = lz_module_forward(lz_module_child(m, "layers.0"), in[0]);
  return lz_sum(lz_square(lz_module_forward(lz_module_child(m, "layers.1"), h)), false);
}

static void test_grad(void) {
  g_q = lz_nn_quantized_linear_new(32, 5, true, 32, 4);
  lz_module_set_param(g_q, "bias", lz_linspace(-1, 1, 5, LZ_FLOAT32));
  gc_check_h("QuantizedLinear", f_qlinear, (gc_input[]){{2, {3, 32}, -1, 1}}, 1, 2e-3, 1e-2);
  /* a trainable layer after a quantized one gets its gradients (LoRA-style fine-tuning) */
  lz_module *seq =
      lz_nn_sequential_new(2, (lz_module *[]){lz_module_retain(g_q), lz_nn_linear_new(5, 2, true)});
  lz_nn_grad_fn *g = lz_nn_value_and_grad(seq, qloss, NULL);
  lz_array *x = lz_random_normal((int[]){4, 32}, 2, LZ_FLOAT32, 0, 1, lz_random_key(1)), *loss;
  lz_dict *grads;
  CHECK(lz_nn_grad_fn_call(g, &x, 1, &loss, &grads) == 0);
  CHECK(lz_dict_size(grads) == 2 && lz_dict_contains(grads, "layers.1.weight"));
  CHECK(lz_dict_eval(grads) == 0 && lz_item_f64(loss) > 0);
  lz_dict_free(grads);
  lz_nn_grad_fn_free(g);
  lz_module_free(seq);
  lz_module_free(g_q);
}

int main(void) {
  RUN(test_quantized_linear);
  RUN(test_quantized_embedding);
  RUN(test_quantize_model);
  RUN(test_load_quantized);
  RUN(test_grad);
  return lzt_summary();
}
