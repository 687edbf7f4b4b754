/* Derivative rules of the FFT family (fft, ifft, rfft, irfft and their n-d forms, with cropping
 * and padding) and of the quantized ops (dequantize and quantized_matmul with respect to x,
 * the scales and the biases). vjp and jvp against central differences in float64 inputs, and
 * vjp against jvp. Complex values are checked through their real and imaginary parts; a
 * complex input is built from two real ones.
 *
 * The transforms and quantized products compute in single precision, but they are linear (or
 * bilinear) in what is differentiated, so central differences with a large step are exact up
 * to rounding: steps of 0.5 and tolerances of float32 accuracy. */
#include "test_grad_check.h"

#include <math.h>

#define IN(lo, hi, ...) {(int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), {__VA_ARGS__}, lo, hi}

static lz_array *weight(lz_array *x, double phase) {
  int n = (int)lz_array_size(x);
  lz_array *r = lz_arange(1, 1 + n, 1, LZ_FLOAT64);
  return lz_reshape(lz_sin(lz_add(r, lz_float(phase))), lz_array_shape(x), lz_array_ndim(x));
}
/* A real projection of a complex (or real) result: re * w1 + im * w2, elementwise. */
static lz_array *proj(lz_array *y) {
  if (lz_array_dtype(y) != LZ_COMPLEX64) return lz_multiply(lz_astype(y, LZ_FLOAT64), weight(y, 0));
  lz_array *re = lz_astype(lz_real(y), LZ_FLOAT64), *im = lz_astype(lz_imag(y), LZ_FLOAT64);
  return lz_add(lz_multiply(re, weight(re, 0)), lz_multiply(im, weight(im, 0.5)));
}
/* x + i y from two real inputs. */
static lz_array *cplx(lz_array *x, lz_array *y) {
  const float i[2] = {0, 1}; /* complex64 data: real, imaginary */
  lz_array *iu = lz_array_from_data(i, NULL, 0, LZ_COMPLEX64);
  return lz_add(lz_astype(x, LZ_COMPLEX64), lz_multiply(iu, lz_astype(y, LZ_COMPLEX64)));
}

static void check(const char *what, gc_body f, const gc_input *in, int n) {
  gc_check_h(what, f, in, n, 2e-3, 0.5);
}

/* ---- complex transforms ---- */

static lz_array *f_fft(lz_array *const *x) { return proj(lz_fft(cplx(x[0], x[1]), -1, -1)); }
static lz_array *f_fft_pad(lz_array *const *x) { return proj(lz_fft(cplx(x[0], x[1]), 7, 0)); }
static lz_array *f_fft_crop(lz_array *const *x) { return proj(lz_fft(cplx(x[0], x[1]), 3, 1)); }
static lz_array *f_ifft(lz_array *const *x) { return proj(lz_ifft(cplx(x[0], x[1]), -1, 0)); }
static lz_array *f_fft_real(lz_array *const *x) { return proj(lz_fft(x[0], -1, -1)); }
static lz_array *f_fftn(lz_array *const *x) {
  return proj(lz_fftn(cplx(x[0], x[1]), NULL, (int[]){0, 2}, 2));
}
static lz_array *f_ifft2(lz_array *const *x) {
  return proj(lz_ifft2(cplx(x[0], x[1]), (int[]){4, 2}, NULL));
}

/* ---- the norms: each scales a transform and its transpose alike ---- */
#define O LZ_FFT_NORM_ORTHO
#define F LZ_FFT_NORM_FORWARD
static lz_array *f_fft_o(lz_array *const *x) { return proj(lz_fft_v2(cplx(x[0], x[1]), 5, 1, O)); }
static lz_array *f_ifft_f(lz_array *const *x) {
  return proj(lz_ifft_v2(cplx(x[0], x[1]), -1, 0, F));
}
static lz_array *f_rfft_f(lz_array *const *x) { return proj(lz_rfft_v2(x[0], -1, -1, F)); }
static lz_array *f_rfft2_o(lz_array *const *x) { return proj(lz_rfft2_v2(x[0], NULL, NULL, O)); }
static lz_array *f_irfft_o(lz_array *const *x) {
  return proj(lz_irfft_v2(cplx(x[0], x[1]), 7, -1, O));
}
static lz_array *f_irfftn_f(lz_array *const *x) {
  return proj(lz_irfftn_v2(cplx(x[0], x[1]), (int[]){3, 4}, NULL, 2, F));
}

static void test_norms(void) {
  check("fft ortho", f_fft_o, (gc_input[]){IN(-1, 1, 2, 6), IN(-1, 1, 2, 6)}, 2);
  check("ifft forward", f_ifft_f, (gc_input[]){IN(-1, 1, 4, 3), IN(-1, 1, 4, 3)}, 2);
  check("rfft forward", f_rfft_f, (gc_input[]){IN(-1, 1, 3, 6)}, 1);
  check("rfft2 ortho", f_rfft2_o, (gc_input[]){IN(-1, 1, 3, 5)}, 1);
  check("irfft ortho", f_irfft_o, (gc_input[]){IN(-1, 1, 2, 4), IN(-1, 1, 2, 4)}, 2);
  check("irfftn forward", f_irfftn_f, (gc_input[]){IN(-1, 1, 3, 3), IN(-1, 1, 3, 3)}, 2);
}
#undef O
#undef F

static void test_complex(void) {
  check("fft", f_fft, (gc_input[]){IN(-1, 1, 2, 6), IN(-1, 1, 2, 6)}, 2);
  check("fft padded", f_fft_pad, (gc_input[]){IN(-1, 1, 5, 2), IN(-1, 1, 5, 2)}, 2);
  check("fft cropped", f_fft_crop, (gc_input[]){IN(-1, 1, 2, 5), IN(-1, 1, 2, 5)}, 2);
  check("ifft", f_ifft, (gc_input[]){IN(-1, 1, 4, 3), IN(-1, 1, 4, 3)}, 2);
  check("fft of a real input", f_fft_real, (gc_input[]){IN(-1, 1, 3, 5)}, 1);
  check("fftn", f_fftn, (gc_input[]){IN(-1, 1, 2, 3, 4), IN(-1, 1, 2, 3, 4)}, 2);
  check("ifft2 padded and cropped", f_ifft2, (gc_input[]){IN(-1, 1, 3, 3), IN(-1, 1, 3, 3)}, 2);
}

/* ---- real transforms: the Hermitian halves ---- */

static lz_array *f_rfft(lz_array *const *x) { return proj(lz_rfft(x[0], -1, -1)); }
static lz_array *f_rfft_pad(lz_array *const *x) { return proj(lz_rfft(x[0], 8, 0)); }
static lz_array *f_irfft(lz_array *const *x) { return proj(lz_irfft(cplx(x[0], x[1]), -1, -1)); }
static lz_array *f_irfft_odd(lz_array *const *x) { return proj(lz_irfft(cplx(x[0], x[1]), 7, 1)); }
static lz_array *f_rfftn(lz_array *const *x) { return proj(lz_rfftn(x[0], NULL, (int[]){0, 2}, 2)); }
static lz_array *f_irfft2(lz_array *const *x) { return proj(lz_irfft2(cplx(x[0], x[1]), NULL, NULL)); }
static lz_array *f_irfftn_s(lz_array *const *x) {
  return proj(lz_irfftn(cplx(x[0], x[1]), (int[]){3, 5}, (int[]){1, 0}, 2));
}
static lz_array *f_roundtrip(lz_array *const *x) { return proj(lz_irfft(lz_rfft(x[0], -1, 0), 6, 0)); }

static void test_real(void) {
  check("rfft even", f_rfft, (gc_input[]){IN(-1, 1, 3, 6)}, 1);
  check("rfft odd", f_rfft, (gc_input[]){IN(-1, 1, 2, 5)}, 1);
  check("rfft padded", f_rfft_pad, (gc_input[]){IN(-1, 1, 5, 2)}, 1);
  check("irfft even", f_irfft, (gc_input[]){IN(-1, 1, 2, 4), IN(-1, 1, 2, 4)}, 2);
  check("irfft odd", f_irfft_odd, (gc_input[]){IN(-1, 1, 2, 4), IN(-1, 1, 2, 4)}, 2);
  check("rfftn", f_rfftn, (gc_input[]){IN(-1, 1, 3, 2, 4)}, 1);
  check("irfft2", f_irfft2, (gc_input[]){IN(-1, 1, 2, 3, 4), IN(-1, 1, 2, 3, 4)}, 2);
  check("irfftn sizes", f_irfftn_s, (gc_input[]){IN(-1, 1, 2, 3), IN(-1, 1, 2, 3)}, 2);
  check("irfft(rfft)", f_roundtrip, (gc_input[]){IN(-1, 1, 6, 2)}, 1);
}

/* The gradient of sum(irfft(rfft(x))) is ones: the two Hermitian scalings cancel. */
static lz_array *f_roundtrip_sum(lz_array *const *x) { return lz_sum(f_roundtrip(x), false); }
static void test_roundtrip_grad(void) {
  lz_closure *f = gc_closure(f_roundtrip_sum);
  lz_array *x = gc_random((int[]){6, 2}, 2, -1, 1), *g;
  lz_closure *gf = lz_grad(f, NULL, 0);
  lz_array *c[1] = {x};
  CHECK(gf && lz_closure_call(gf, c, 1, &g) == 1);
  lz_array *w = weight(x, 0);
  CHECK_VALUES(lz_allclose(g, w, 1e-5, 1e-5, false), ((double[]){1}), 1, 0);
  lz_closure_free(gf);
  lz_closure_free(f);
}

/* ---- quantized ops ---- */

static lz_array *g_wq, *g_wq_kn; /* codes of a (4, 64) and of an (8, 32) weight, 4 bits */

static lz_array *f_qmm_t(lz_array *const *x) {
  return proj(lz_quantized_matmul(x[0], g_wq, lz_astype(x[1], LZ_FLOAT32),
                                  lz_astype(x[2], LZ_FLOAT32), true, 32, 4));
}
static lz_array *f_qmm(lz_array *const *x) {
  return proj(lz_quantized_matmul(x[0], g_wq_kn, lz_astype(x[1], LZ_FLOAT32),
                                  lz_astype(x[2], LZ_FLOAT32), false, 32, 4));
}
static lz_array *f_deq(lz_array *const *x) {
  return proj(lz_dequantize(g_wq, lz_astype(x[0], LZ_FLOAT32), lz_astype(x[1], LZ_FLOAT32), 32, 4));
}

static lz_array *f_qmm_t_sum(lz_array *const *x) { return lz_sum(f_qmm_t(x), false); }

static void test_quantized(void) {
  lz_array *q[3], *q2[3];
  lz_array *w = lz_astype(gc_random((int[]){4, 64}, 2, -1, 1), LZ_FLOAT32);
  lz_array *w2 = lz_astype(gc_random((int[]){8, 32}, 2, -1, 1), LZ_FLOAT32);
  CHECK(lz_quantize(w, 32, 4, q) == 0 && lz_quantize(w2, 32, 4, q2) == 0);
  g_wq = q[0], g_wq_kn = q2[0];
  check("quantized_matmul transposed", f_qmm_t,
        (gc_input[]){IN(-1, 1, 2, 3, 64), IN(0.05, 0.2, 4, 2), IN(-1, 1, 4, 2)}, 3);
  check("quantized_matmul", f_qmm, (gc_input[]){IN(-1, 1, 3, 8), IN(0.05, 0.2, 8, 1), IN(-1, 1, 8, 1)},
        3);
  check("dequantize", f_deq, (gc_input[]){IN(0.05, 0.2, 4, 2), IN(-1, 1, 4, 2)}, 2);
  /* the packed codes get no derivative */
  lz_closure *f = gc_closure(f_qmm_t_sum);
  lz_array *x = gc_random((int[]){2, 64}, 2, -1, 1), *in[3] = {x, q[1], q[2]}, *g;
  lz_closure *gf = lz_grad(f, (int[]){0}, 1);
  CHECK(gf && lz_closure_call(gf, in, 3, &g) == 1);
  CHECK_SHAPE(g, 2, 64);
  lz_closure_free(gf);
  lz_closure_free(f);
  for (int i = 0; i < 3; i++) lz_free(q[i]), lz_free(q2[i]);
  lz_free(w), lz_free(w2);
}

int main(void) {
  RUN(test_complex);
  RUN(test_norms);
  RUN(test_real);
  RUN(test_roundtrip_grad);
  RUN(test_quantized);
  return lzt_summary();
}
