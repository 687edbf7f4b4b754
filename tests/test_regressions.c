/* Regression tests for reported issues, one test per issue: complex64 degrees/radians (the
 * header's list of complex ops), roll with an empty axis list, linspace with infinite ends,
 * cross along a positive axis of inputs of different ndims (and its derivatives), and the two
 * private headers that both defined lz_norm_params. References: scripts/gen_regression_refs.py. */
#include "lz_test.h"

#include "cpu/fast.h"   /* rms/layer norm parameters: lz_norm_params */
#include "cpu/linalg.h" /* linalg norm parameters: lz_linalg_norm_params (both fit in one file) */
#include "data/regression_refs.h"

/* Compares shape and values (NaN equals NaN, infinities exactly). */
#define CHECK_REF(arr, name)                                                                     \
  do {                                                                                           \
    lz_array *lzr_a = (arr);                                                                     \
    lzt_check_shape(__FILE__, __LINE__, lzr_a, ref_##name##_shape, ref_##name##_ndim);           \
    lzt_check_values(__FILE__, __LINE__, lzr_a, ref_##name, ref_##name##_size, 1e-6);           \
  } while (0)

static lz_array *iota(double start, double stop, double step, const int *shape, int ndim) {
  return lz_reshape(lz_arange(start, stop, step, LZ_FLOAT64), shape, ndim);
}

/* Issue: degrees/radians accept complex64 (a scale by a real constant); the header now says so. */
static void test_degrees_radians_complex(void) {
  lz_array *z = lz_array_from_data((float[]){1, 2, -3, 0.5f}, (int[]){2}, 1, LZ_COMPLEX64);
  lz_array *d = lz_degrees(z), *r = lz_radians(z);
  CHECK(lz_array_dtype(d) == LZ_COMPLEX64 && lz_array_dtype(r) == LZ_COMPLEX64);
  CHECK_VALUES(lz_real(d), ((double[]){57.29577951, -171.88733854}), 2, 1e-6);
  CHECK_VALUES(lz_imag(d), ((double[]){114.59155903, 28.64788976}), 2, 1e-6);
  CHECK_VALUES(lz_real(r), ((double[]){0.01745329, -0.05235988}), 2, 1e-6);
  CHECK_VALUES(lz_imag(r), ((double[]){0.03490659, 0.00872665}), 2, 1e-6);
}

/* Issue: an empty axis list rolls nothing (MLX returns the input; numpy.roll(x, (), axis=())). */
static void test_roll_empty_axes(void) {
  lz_array *x = iota(0, 12, 1, (int[]){3, 4}, 2);
  CHECK_REF(lz_roll(x, (int[]){5}, (int[]){0}, 0), roll_empty_axes);
  CHECK_REF(lz_roll(x, NULL, (int[]){1}, 0), roll_empty_axes); /* no shifts needed then */
  lz_array *s = lz_scalar(4, LZ_INT32);
  CHECK(lz_item_i64(lz_roll(s, NULL, (int[]){0}, 0)) == 4);
  lz_array *e = lz_zeros((int[]){0, 2}, 2, LZ_INT8);
  CHECK_SHAPE(lz_roll(e, NULL, (int[]){0}, 0), 0, 2);
  /* still errors: a negative count, and no shifts where some are needed */
  CHECK_ERROR(lz_roll(x, (int[]){1}, (int[]){0}, -1), "[lz_roll] needs shifts and");
  CHECK_ERROR(lz_roll(x, NULL, (int[]){0}, 1), "[lz_roll] needs shifts");
  CHECK_ERROR(lz_roll(x, NULL, NULL, 0), "[lz_roll] needs shifts");
}

/* Issue: linspace with an infinite (or NaN) end gives NumPy's inf/NaN values, not an error. */
static void test_linspace_infinite(void) {
  CHECK_REF(lz_linspace(0, INFINITY, 3, LZ_FLOAT32), linspace_0_inf_3);
  CHECK_REF(lz_linspace(-INFINITY, INFINITY, 3, LZ_FLOAT64), linspace_ninf_inf_3);
  CHECK_REF(lz_linspace(INFINITY, INFINITY, 4, LZ_FLOAT32), linspace_inf_inf_4);
  CHECK_REF(lz_linspace(0, INFINITY, 1, LZ_FLOAT64), linspace_0_inf_1);
  CHECK_REF(lz_linspace(1, NAN, 3, LZ_FLOAT32), linspace_1_nan_3);
  CHECK_REF(lz_linspace(-INFINITY, 0, 2, LZ_FLOAT64), linspace_ninf_0_2);
  CHECK_REF(lz_linspace(0, -INFINITY, 5, LZ_FLOAT16), linspace_0_ninf_5);
  CHECK_REF(lz_linspace(INFINITY, 1, 3, LZ_BFLOAT16), linspace_inf_1_3);
  CHECK_SHAPE(lz_linspace(INFINITY, 1, 0, LZ_FLOAT32), 0);
  CHECK_ERROR(lz_linspace(0, 1, -2, LZ_FLOAT32), "[lz_linspace] needs num >= 0 (got -2)");
}

/* Issue: a positive axis is counted in each input (MLX, NumPy), not in the broadcast shape. */
static void test_cross_positive_axis(void) {
  lz_array *a3 = lz_arange(1, 4, 1, LZ_FLOAT64);
  lz_array *b34 = iota(-5, 7, 1, (int[]){3, 4}, 2);
  lz_array *a324 = lz_remainder(iota(0, 24, 1, (int[]){3, 2, 4}, 3), lz_float(7));
  lz_array *b33 = iota(-7, 11, 2, (int[]){3, 3}, 2);
  lz_array *b233 = iota(-8, 10, 1, (int[]){2, 3, 3}, 3);
  CHECK_REF(lz_linalg_cross(a3, b34, 0), cross_a3_b34_ax0);
  CHECK_REF(lz_linalg_cross(b34, a3, 0), cross_b34_a3_ax0);
  CHECK_REF(lz_linalg_cross(a324, b34, 0), cross_a324_b34_ax0);
  CHECK_REF(lz_linalg_cross(b33, b233, 1), cross_b33_b233_ax1); /* was b33's axis 0 before */
  CHECK_REF(lz_linalg_cross(b33, b233, -1), cross_b33_b233_axm1);
  CHECK_REF(lz_linalg_cross(b33, b233, -2), cross_b33_b233_axm2);
  /* float32 inputs keep their dtype through the moved axes; a transposed view works too */
  lz_array *c32 = lz_linalg_cross(lz_astype(a3, LZ_FLOAT32),
                                  lz_transpose(lz_astype(lz_transpose(b34, NULL, 0), LZ_FLOAT32),
                                               NULL, 0),
                                  0);
  CHECK(lz_array_dtype(c32) == LZ_FLOAT32);
  CHECK_REF(c32, cross_a3_b34_ax0);
  /* the axis must exist with size 3 in each input */
  CHECK_ERROR(lz_linalg_cross(iota(0, 24, 1, (int[]){2, 3, 4}, 3), b34, 0),
              "[lz_linalg_cross] axis 0 must have size 3 in both inputs, got (2,3,4) and (3,4)");
  CHECK_ERROR(lz_linalg_cross(b233, a3, 1), "axis 1 must have size 3 in both inputs");
  CHECK_ERROR(lz_linalg_cross(b34, a3, 1), "got (3,4) and (3,)");
}

static int cross_loss(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)n;
  lz_array *w = ctx;
  out[0] = lz_sum(lz_multiply(w, lz_linalg_cross(in[0], in[1], 0)), false);
  return out[0] ? 1 : -1;
}
static int cross_fn(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_linalg_cross(in[0], in[1], 0);
  return out[0] ? 1 : -1;
}

/* The derivative rules pass the node's axis on counted from the end, so they stay right when
 * the inputs' ndims differ. */
static void test_cross_derivatives(void) {
  lz_array *a3 = lz_arange(1, 4, 1, LZ_FLOAT64);
  lz_array *b34 = iota(-5, 7, 1, (int[]){3, 4}, 2);
  lz_array *w = iota(0, 3, 0.25, (int[]){3, 4}, 2);
  lz_closure *f = lz_closure_new(cross_loss, w, NULL);
  lz_closure *g = lz_grad(f, (int[]){0, 1}, 2);
  lz_array *in[2] = {a3, b34}, *res[LZ_MAX_OUTPUTS];
  CHECK(lz_closure_call(g, in, 2, res) == 2);
  CHECK_REF(res[0], cross_grad_a);
  CHECK_REF(res[1], cross_grad_b);
  /* jvp: d cross(a, b) along (1, 0) is cross(1, b) */
  lz_closure *h = lz_closure_new(cross_fn, NULL, NULL);
  lz_array *ones3 = lz_ones((int[]){3}, 1, LZ_FLOAT64), *zeros34 = lz_zeros_like(b34);
  lz_array *tan[2] = {ones3, zeros34}, *outs[LZ_MAX_OUTPUTS], *jv[LZ_MAX_OUTPUTS];
  CHECK(lz_jvp(h, in, 2, tan, outs, jv) == 1);
  CHECK_REF(outs[0], cross_a3_b34_ax0);
  lz_array *want = lz_linalg_cross(ones3, b34, 0);
  double wv[12];
  CHECK(lz_array_read(want, LZ_FLOAT64, wv, sizeof wv) == 0);
  CHECK_VALUES(jv[0], wv, 12, 1e-12);
  lz_closure_free(h);
  lz_closure_free(g);
  lz_closure_free(f);
}

/* Issue: src/cpu/fast.h and src/cpu/linalg.h both defined lz_norm_params; this file includes
 * both, so it compiles only while their names stay apart. */
static void test_private_headers_together(void) {
  lz_norm_params fastp = {.eps = 1e-5f, .has_weight = true};
  lz_linalg_norm_params normp = {.kind = LZ_NORM_FRO, .ord = 2, .naxes = 2, .axes = {0, 1}};
  CHECK(fastp.has_weight && !fastp.has_bias && normp.axes[1] == 1);
  CHECK(lz_linalg_norm(lz_ones((int[]){2, 2}, 2, LZ_FLOAT32), NULL, 0, false) != NULL);
}

int main(void) {
  RUN(test_degrees_radians_complex);
  RUN(test_roll_empty_axes);
  RUN(test_linspace_infinite);
  RUN(test_cross_positive_axis);
  RUN(test_cross_derivatives);
  RUN(test_private_headers_together);
  return lzt_summary();
}
