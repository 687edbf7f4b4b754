/* nn convolution layers (Conv1d/2d/3d, ConvTranspose1d/2d/3d): forward against NumPy references
 * (scripts/gen_nn_refs.py) with the parameters loaded from them, initialisation, errors, and
 * gradients through each layer (input, weight and bias) against central differences. */
#include "nn_testutil.h"
#include "test_grad_check.h"

#define TOL 2e-5
#define IN(lo, hi, ...)                                                                            \
  { (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), {__VA_ARGS__}, lo, hi }

/* The six layers with the configurations of the references "conv1d" ... "conv_t3d". */
static lz_module *make_layer(int i) {
  switch (i) {
  case 0:
    return lz_nn_conv1d_new(4, 6, 3, 2, 1, 1, 2, true);
  case 1:
    return lz_nn_conv2d_new(3, 4, (int[]){3, 2}, (int[]){2, 1}, (int[]){1, 0}, (int[]){1, 2}, 1,
                            true);
  case 2:
    return lz_nn_conv3d_new(2, 3, (int[]){2, 2, 3}, (int[]){1, 2, 1}, (int[]){0, 1, 1},
                            (int[]){2, 1, 1}, true);
  case 3:
    return lz_nn_conv_transpose1d_new(3, 2, 3, 2, 1, 1, 1, true);
  case 4:
    return lz_nn_conv_transpose2d_new(2, 3, (int[]){2, 3}, (int[]){2, 1}, (int[]){0, 1},
                                      (int[]){1, 2}, (int[]){1, 0}, true);
  default:
    return lz_nn_conv_transpose3d_new(2, 2, (int[]){2, 2, 2}, (int[]){1, 2, 2}, (int[]){0, 1, 0},
                                      (int[]){1, 1, 2}, (int[]){0, 1, 1}, true);
  }
}
static const char *const NAMES[6] = {"conv1d",   "conv2d",   "conv3d",
                                     "conv_t1d", "conv_t2d", "conv_t3d"};

static void test_forward(void) {
  for (int i = 0; i < 6; i++) {
    char in[64], out[64];
    lz_module *m = make_layer(i);
    CHECK(m != NULL);
    CHECK(nn_load(m, NAMES[i]) == 0);
    snprintf(in, sizeof in, "%s:in:x", NAMES[i]);
    snprintf(out, sizeof out, "%s:out:y", NAMES[i]);
    lz_array *x = nn_ref(in);
    CHECK_REF(lz_module_forward(m, x), out, TOL);
    /* a non-contiguous input (spatial axes swapped twice) gives the same result */
    int nd = lz_array_ndim(x);
    lz_array *xt = lz_swapaxes(lz_contiguous(lz_swapaxes(x, 1, nd - 1)), 1, nd - 1);
    CHECK_REF(lz_module_forward(m, xt), out, TOL);
    /* float16 parameters and input */
    lz_module_set_dtype(m, LZ_FLOAT16);
    lz_array *y16 = lz_module_forward(m, lz_astype(x, LZ_FLOAT16));
    CHECK(lz_array_dtype(y16) == LZ_FLOAT16);
    CHECK_REF(y16, out, 2e-2);
    lz_module_free(m);
  }
}

static void test_init_and_errors(void) {
  lz_module *c = lz_nn_conv2d_new(4, 6, (int[]){3, 5}, NULL, NULL, NULL, 2, true);
  lz_array *w = lz_module_param(c, "weight");
  CHECK_SHAPE(w, 6, 3, 5, 2);
  CHECK(lz_array_dtype(w) == LZ_FLOAT32);
  double lim = sqrt(1.0 / (4 * 3 * 5));
  CHECK(lz_item_f64(lz_max(lz_abs(w), false)) <= lim);
  CHECK(lz_item_f64(lz_max(lz_abs(w), false)) > lim / 2); /* uniform, not all tiny */
  CHECK_VALUES(lz_module_param(c, "bias"), ((double[]){0, 0, 0, 0, 0, 0}), 6, 0);
  /* defaults: stride 1, no padding: (1, 7, 9, 4) -> (1, 5, 5, 6) */
  CHECK_SHAPE(lz_module_forward(c, lz_ones((int[]){1, 7, 9, 4}, 4, LZ_FLOAT32)), 1, 5, 5, 6);
  CHECK_ERROR(lz_module_forward(c, lz_ones((int[]){7, 9, 4}, 3, LZ_FLOAT32)), "Conv2d");
  CHECK_ERROR(lz_module_forward(c, lz_ones((int[]){1, 7, 9, 3}, 4, LZ_FLOAT32)), "[lz_conv2d]");
  CHECK_ERROR(lz_module_forward(c, lz_ones((int[]){1, 2, 9, 4}, 4, LZ_FLOAT32)), "[lz_conv2d]");
  lz_module_free(c);
  lz_module *nb = lz_nn_conv1d_new(2, 3, 1, 1, 0, 1, 1, false);
  CHECK(!lz_module_has_param(nb, "bias") && lz_module_num_parameters(nb) == 6);
  lz_module_free(nb);
  lz_module *t = lz_nn_conv_transpose1d_new(3, 5, 4, 1, 0, 1, 0, true);
  CHECK_SHAPE(lz_module_param(t, "weight"), 5, 4, 3);
  /* (L - 1) stride - 2 padding + dilation (k - 1) + 1 + output_padding = 6 + 3 + 1 */
  CHECK_SHAPE(lz_module_forward(t, lz_ones((int[]){2, 7, 3}, 3, LZ_FLOAT32)), 2, 10, 5);
  lz_module_free(t);
  CHECK_ERROR(lz_nn_conv1d_new(3, 4, 2, 1, 0, 1, 2, true), "divisible by groups");
  CHECK_ERROR(lz_nn_conv2d_new(3, 4, NULL, NULL, NULL, NULL, 1, true), "kernel size");
  CHECK_ERROR(lz_nn_conv2d_new(3, 4, (int[]){2, 2}, (int[]){1, 0}, NULL, NULL, 1, true), "stride");
  CHECK_ERROR(lz_nn_conv_transpose1d_new(3, 4, 2, 1, -1, 1, 0, true), "padding");
  CHECK_ERROR(lz_nn_conv3d_new(0, 4, (int[]){1, 1, 1}, NULL, NULL, NULL, true), "Conv3d");
}

/* ---- gradients: the layer computes in float32, the checker works in float64 ---- */

static lz_module *g_layer;

static lz_array *f32(lz_array *x) { return lz_astype(x, LZ_FLOAT32); }
/* forward with the weight and bias taken from inputs 1 and 2, times a fixed weight */
static lz_array *f_layer(lz_array *const *x) {
  if (lz_module_set_param(g_layer, "weight", f32(x[1])) != 0 ||
      lz_module_set_param(g_layer, "bias", f32(x[2])) != 0)
    return NULL;
  lz_array *y = lz_astype(lz_module_forward(g_layer, f32(x[0])), LZ_FLOAT64);
  int n = (int)lz_array_size(y);
  lz_array *r =
      lz_reshape(lz_sin(lz_arange(1, 1 + n, 1, LZ_FLOAT64)), lz_array_shape(y), lz_array_ndim(y));
  return lz_multiply(y, r);
}

static void check_layer(int i, const gc_input *in) {
  g_layer = make_layer(i);
  gc_check_h(NAMES[i], f_layer, in, 3, 2e-3, 1e-2);
  lz_module_free(g_layer);
}

static void test_grad(void) {
  check_layer(0, (gc_input[]){IN(-1, 1, 1, 5, 4), IN(-1, 1, 6, 3, 2), IN(-1, 1, 6)});
  check_layer(1, (gc_input[]){IN(-1, 1, 1, 4, 4, 3), IN(-1, 1, 4, 3, 2, 3), IN(-1, 1, 4)});
  check_layer(3, (gc_input[]){IN(-1, 1, 1, 3, 3), IN(-1, 1, 2, 3, 3), IN(-1, 1, 2)});
  check_layer(4, (gc_input[]){IN(-1, 1, 1, 2, 2, 2), IN(-1, 1, 3, 2, 3, 2), IN(-1, 1, 3)});
}

/* The 3-d layers with 5-d operands built from 4-d checker inputs. */
static lz_array *f_conv3d(lz_array *const *x) {
  lz_array *in[3] = {lz_reshape(x[0], (int[]){1, 3, 3, 4, 2}, 5),
                     lz_reshape(x[1], (int[]){3, 2, 2, 3, 2}, 5), x[2]};
  return f_layer(in);
}
static lz_array *f_conv_t3d(lz_array *const *x) {
  lz_array *in[3] = {lz_reshape(x[0], (int[]){1, 2, 2, 2, 2}, 5),
                     lz_reshape(x[1], (int[]){2, 2, 2, 2, 2}, 5), x[2]};
  return f_layer(in);
}

static void test_grad_3d(void) {
  g_layer = make_layer(2);
  gc_check_h("conv3d", f_conv3d,
             (gc_input[]){IN(-1, 1, 3, 3, 4, 2), IN(-1, 1, 3, 2, 2, 6), IN(-1, 1, 3)}, 3, 2e-3,
             1e-2);
  lz_module_free(g_layer);
  g_layer = make_layer(5);
  gc_check_h("conv_t3d", f_conv_t3d,
             (gc_input[]){IN(-1, 1, 2, 2, 2, 2), IN(-1, 1, 4, 2, 2, 2), IN(-1, 1, 2)}, 3, 2e-3,
             1e-2);
  lz_module_free(g_layer);
}

/* value_and_grad over a module: one gradient per parameter, under its name */
static lz_array *conv_loss(void *ctx, lz_module *m, lz_array *const *in, int n) {
  (void)ctx, (void)n;
  return lz_sum(lz_square(lz_module_forward(m, in[0])), false);
}

static void test_module_grad(void) {
  lz_module *seq = lz_nn_sequential_new(
      2, (lz_module *[]){lz_nn_conv2d_new(2, 3, (int[]){2, 2}, NULL, (int[]){1, 1}, NULL, 1, true),
                         lz_nn_conv_transpose2d_new(3, 2, (int[]){2, 2}, (int[]){2, 2}, NULL, NULL,
                                                    NULL, false)});
  lz_nn_grad_fn *g = lz_nn_value_and_grad(seq, conv_loss, NULL);
  lz_array *x = lz_random_normal((int[]){2, 3, 3, 2}, 4, LZ_FLOAT32, 0, 1, lz_random_key(3));
  lz_array *loss;
  lz_dict *grads;
  CHECK(lz_nn_grad_fn_call(g, &x, 1, &loss, &grads) == 0);
  CHECK(lz_dict_size(grads) == 3);
  CHECK_SHAPE(lz_dict_get(grads, "layers.0.weight"), 3, 2, 2, 2);
  CHECK_SHAPE(lz_dict_get(grads, "layers.0.bias"), 3);
  CHECK_SHAPE(lz_dict_get(grads, "layers.1.weight"), 2, 2, 2, 3);
  CHECK(lz_item_f64(loss) > 0);
  /* (2,3,3,2) -> conv, padding 1: (2,4,4,3) -> transposed, stride 2: (2,8,8,2) */
  CHECK_SHAPE(lz_module_forward(seq, x), 2, 8, 8, 2);
  lz_dict_free(grads);
  lz_nn_grad_fn_free(g);
  lz_module_free(seq);
}

int main(void) {
  RUN(test_forward);
  RUN(test_init_and_errors);
  RUN(test_grad);
  RUN(test_grad_3d);
  RUN(test_module_grad);
  return lzt_summary();
}
