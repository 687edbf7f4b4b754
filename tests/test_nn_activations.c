/* nn activations (functions and modules) against NumPy references, and the initializers. */
#include "nn_testutil.h"

#define TOL 2e-5

static void test_activation_functions(void) {
  lz_array *x = nn_ref("act:in:x");
  CHECK_REF(lz_nn_relu(x), "act:out:relu", TOL);
  CHECK_REF(lz_nn_relu6(x), "act:out:relu6", TOL);
  CHECK_REF(lz_nn_leaky_relu(x, 0.1), "act:out:leaky_relu", TOL);
  CHECK_REF(lz_nn_elu(x, 0.5), "act:out:elu", TOL);
  CHECK_REF(lz_nn_celu(x, 0.7), "act:out:celu", TOL);
  CHECK_REF(lz_nn_selu(x), "act:out:selu", TOL);
  CHECK_REF(lz_nn_gelu(x), "act:out:gelu", TOL);
  CHECK_REF(lz_nn_gelu_approx(x), "act:out:gelu_approx", TOL);
  CHECK_REF(lz_nn_gelu_fast_approx(x), "act:out:gelu_fast", TOL);
  CHECK_REF(lz_nn_silu(x), "act:out:silu", TOL);
  CHECK_REF(lz_nn_mish(x), "act:out:mish", TOL);
  CHECK_REF(lz_nn_softplus(x), "act:out:softplus", TOL);
  CHECK_REF(lz_nn_softsign(x), "act:out:softsign", TOL);
  CHECK_REF(lz_nn_hardswish(x), "act:out:hardswish", TOL);
  CHECK_REF(lz_nn_hard_tanh(x, -1, 1), "act:out:hard_tanh", TOL);
  CHECK_REF(lz_nn_log_sigmoid(x), "act:out:log_sigmoid", TOL);
  CHECK_REF(lz_nn_log_softmax(x, -1), "act:out:log_softmax", TOL);
  CHECK_REF(lz_nn_glu(x, -1), "act:out:glu", TOL);
  CHECK_REF(lz_nn_step(x, 0.5), "act:out:step", 0);
  lz_array *alpha = lz_array_from_data((float[]){0.25f, -0.5f, 1, 2}, (int[]){4}, 1, LZ_FLOAT32);
  CHECK_REF(lz_nn_prelu(x, alpha), "act:out:prelu", TOL);
  /* dtypes: float16 stays float16; a NULL input passes the error through */
  lz_array *h = lz_nn_silu(lz_astype(x, LZ_FLOAT16));
  CHECK(lz_array_dtype(h) == LZ_FLOAT16);
  CHECK_REF(h, "act:out:silu", 1e-2);
  CHECK_ERROR(lz_nn_glu(lz_zeros((int[]){3}, 1, LZ_FLOAT32), -1), "[lz_split]");
  CHECK_ERROR(lz_nn_relu(NULL), "NULL");
  /* empty and 0-d inputs */
  CHECK_SHAPE(lz_nn_gelu(lz_zeros((int[]){0, 3}, 2, LZ_FLOAT32)), 0, 3);
  CHECK_VALUES(lz_nn_relu(lz_float(-2)), ((double[]){0}), 1, 0);
}

static void test_activation_modules(void) {
  lz_array *x = nn_ref("act:in:x");
  struct {
    lz_module *m;
    const char *ref;
  } cases[] = {{lz_nn_relu_new(), "act:out:relu"},
               {lz_nn_relu6_new(), "act:out:relu6"},
               {lz_nn_leaky_relu_new(0.1), "act:out:leaky_relu"},
               {lz_nn_elu_new(0.5), "act:out:elu"},
               {lz_nn_celu_new(0.7), "act:out:celu"},
               {lz_nn_selu_new(), "act:out:selu"},
               {lz_nn_gelu_new(NULL), "act:out:gelu"},
               {lz_nn_gelu_new("precise"), "act:out:gelu_approx"},
               {lz_nn_gelu_new("fast"), "act:out:gelu_fast"},
               {lz_nn_silu_new(), "act:out:silu"},
               {lz_nn_mish_new(), "act:out:mish"},
               {lz_nn_softplus_new(), "act:out:softplus"},
               {lz_nn_softsign_new(), "act:out:softsign"},
               {lz_nn_hardswish_new(), "act:out:hardswish"},
               {lz_nn_hard_tanh_new(), "act:out:hard_tanh"},
               {lz_nn_log_sigmoid_new(), "act:out:log_sigmoid"},
               {lz_nn_log_softmax_new(), "act:out:log_softmax"},
               {lz_nn_glu_new(-1), "act:out:glu"},
               {lz_nn_step_new(0.5), "act:out:step"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CHECK(lz_module_num_parameters(cases[i].m) == 0);
    CHECK_REF(lz_module_forward(cases[i].m, x), cases[i].ref, TOL);
    lz_module_free(cases[i].m);
  }
  lz_module *p = lz_nn_prelu_new(4, 0.25);
  CHECK_VALUES(lz_module_param(p, "weight"), ((double[]){0.25, 0.25, 0.25, 0.25}), 4, 0);
  lz_dict *w = lz_dict_new();
  lz_dict_set(w, "weight",
              lz_array_from_data((float[]){0.25f, -0.5f, 1, 2}, (int[]){4}, 1, LZ_FLOAT32));
  CHECK(lz_module_load_weights_dict(p, w, true) == 0);
  CHECK_REF(lz_module_forward(p, x), "act:out:prelu", TOL);
  lz_dict_free(w);
  lz_module_free(p);
  lz_module *s = lz_nn_sigmoid_new(), *t = lz_nn_tanh_new();
  CHECK_VALUES(lz_module_forward(s, lz_float(0)), ((double[]){0.5}), 1, 1e-7);
  CHECK_VALUES(lz_module_forward(t, lz_float(0)), ((double[]){0}), 1, 1e-7);
  lz_module_free(s), lz_module_free(t);
  CHECK_ERROR(lz_nn_gelu_new("exact"), "approx must be");
}

static double moment(lz_array *a, int k) {
  return lz_item_f64(lz_mean(lz_power(a, lz_float(k)), false));
}

static void test_initializers(void) {
  lz_array *key = lz_random_key(3);
  lz_array *t = lz_zeros((int[]){200, 300}, 2, LZ_FLOAT32);
  lz_array *c = lz_nn_init_constant(t, 0.5);
  CHECK_SHAPE(c, 200, 300);
  CHECK_CLOSE(lz_item_f64(lz_mean(c, false)), 0.5, 0);
  lz_array *n = lz_nn_init_normal(t, 1.0, 2.0, key);
  CHECK_CLOSE(moment(n, 1), 1.0, 0.02);
  CHECK_CLOSE(lz_item_f64(lz_std(n, false, 0)), 2.0, 0.02);
  /* the same key gives the same values */
  CHECK(lz_item_bool(lz_array_equal(n, lz_nn_init_normal(t, 1.0, 2.0, key), false)));
  lz_array *u = lz_nn_init_uniform(t, -2, 1, key);
  CHECK(lz_item_f64(lz_min(u, false)) >= -2 && lz_item_f64(lz_max(u, false)) < 1);
  CHECK_CLOSE(moment(u, 1), -0.5, 0.02);
  lz_array *i3 = lz_nn_init_identity(lz_zeros((int[]){3, 3}, 2, LZ_FLOAT16));
  CHECK(lz_array_dtype(i3) == LZ_FLOAT16);
  CHECK_VALUES(i3, ((double[]){1, 0, 0, 0, 1, 0, 0, 0, 1}), 9, 0);
  /* glorot / he: variances from fan_in 300, fan_out 200 */
  CHECK_CLOSE(moment(lz_nn_init_glorot_normal(t, 1.0, key), 2), 2.0 / 500, 0.03);
  lz_array *gu = lz_nn_init_glorot_uniform(t, 2.0, key);
  double lim = 2.0 * sqrt(6.0 / 500);
  CHECK(lz_item_f64(lz_max(lz_abs(gu), false)) <= lim);
  CHECK_CLOSE(moment(gu, 2), lim * lim / 3, 0.03);
  CHECK_CLOSE(moment(lz_nn_init_he_normal(t, false, 1.0, key), 2), 1.0 / 300, 0.03);
  CHECK_CLOSE(moment(lz_nn_init_he_normal(t, true, 1.0, key), 2), 1.0 / 200, 0.03);
  CHECK_CLOSE(moment(lz_nn_init_he_uniform(t, false, 1.0, key), 2), 1.0 / 300, 0.03);
  /* conv-shaped weights multiply the fans by the receptive field */
  lz_array *cw = lz_zeros((int[]){64, 3, 3, 32}, 4, LZ_FLOAT32);
  CHECK_CLOSE(moment(lz_nn_init_he_normal(cw, false, 1.0, key), 2), 1.0 / (32 * 9), 0.05);
  /* orthogonal: Q^T Q = gain^2 I for a tall matrix */
  lz_array *q = lz_nn_init_orthogonal(lz_zeros((int[]){6, 4}, 2, LZ_FLOAT32), 2.0, key);
  CHECK_SHAPE(q, 6, 4);
  lz_array *qtq = lz_matmul(lz_transpose(q, NULL, 0), q);
  CHECK(lz_item_bool(
      lz_allclose(qtq, lz_multiply(lz_identity(4, LZ_FLOAT32), lz_float(4)), 1e-4, 1e-4, false)));
  lz_array *qw = lz_nn_init_orthogonal(lz_zeros((int[]){3, 5}, 2, LZ_FLOAT32), 1.0, key);
  CHECK(lz_item_bool(lz_allclose(lz_matmul(qw, lz_transpose(qw, NULL, 0)),
                                 lz_identity(3, LZ_FLOAT32), 1e-4, 1e-4, false)));
  CHECK_ERROR(lz_nn_init_glorot_normal(lz_zeros((int[]){3}, 1, LZ_FLOAT32), 1, key), "at least 2");
  CHECK_ERROR(lz_nn_init_identity(lz_zeros((int[]){2, 3}, 2, LZ_FLOAT32)), "square");
  CHECK_ERROR(lz_nn_init_orthogonal(lz_zeros((int[]){2, 3, 4}, 3, LZ_FLOAT32), 1, key), "2-d");
}

int main(void) {
  RUN(test_activation_functions);
  RUN(test_activation_modules);
  RUN(test_initializers);
  return lzt_summary();
}
