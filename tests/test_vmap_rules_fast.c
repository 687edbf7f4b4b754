/* vmap rules of the fused ops (rms_norm, layer_norm, rope, attention), the convolution, the
 * FFT family and quantized_matmul: each against the loop over the mapped axis, with mapped and
 * unmapped inputs on several axes (tests/test_vmap_check.h), and each op has a rule of its own
 * (it no longer takes the per-example loop). */
#include "test_vmap_check.h"
#include "transforms/vmap_impl.h"

#define NONE LZ_VMAP_NONE
#define TOL 1e-5
#define BODY(NAME, EXPR)                                                                           \
  static int NAME(lz_array *const *x, lz_array **o) {                                              \
    (void)x;                                                                                       \
    o[0] = (EXPR);                                                                                 \
    return o[0] ? 1 : -1;                                                                          \
  }

static void test_has_rules(void) {
  int ops[] = {LZ_OP_RMS_NORM,    LZ_OP_LAYER_NORM, LZ_OP_ROPE, LZ_OP_SCALED_DOT_PRODUCT_ATTENTION,
               LZ_OP_CONVOLUTION, LZ_OP_FFT,        LZ_OP_QUANTIZED_MATMUL};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) CHECK(lz__vmap_has_rule(ops[i]));
}

/* ---- norms and rope ---- */

BODY(f_rms, lz_fast_rms_norm(x[0], x[1], 1e-5))
BODY(f_rms_nw, lz_fast_rms_norm(x[0], NULL, 1e-5))
BODY(f_ln, lz_fast_layer_norm(x[0], x[1], x[2], 1e-5))
BODY(f_ln_b, lz_fast_layer_norm(x[0], NULL, x[1], 1e-5))
BODY(f_rope, lz_fast_rope(x[0], 4, false, 10000, 1, 2, NULL))
BODY(f_rope_trad, lz_fast_rope(x[0], 6, true, 100, 0.5, 0, NULL))
BODY(f_rope_freqs, lz_fast_rope(x[0], 4, false, 1, 1, 1, x[1]))

static void test_norms(void) {
  vt_check("rms_norm x mapped", f_rms, (vt_in[]){VT_F32(1, 3, 8), VT_F32(NONE, 8)}, 2, TOL);
  vt_check("rms_norm weight mapped", f_rms, (vt_in[]){VT_F32(NONE, 3, 8), VT_F32(0, 8)}, 2, TOL);
  vt_check("rms_norm both mapped", f_rms, (vt_in[]){VT_F32(-1, 2, 8), VT_F32(1, 8)}, 2, TOL);
  vt_check("rms_norm no weight", f_rms_nw, (vt_in[]){VT_F32(2, 2, 8)}, 1, TOL);
  vt_check("layer_norm x mapped", f_ln,
           (vt_in[]){VT_F32(0, 3, 8), VT_F32(NONE, 8), VT_F32(NONE, 8)}, 3, TOL);
  vt_check("layer_norm bias mapped", f_ln,
           (vt_in[]){VT_F32(NONE, 3, 8), VT_F32(NONE, 8), VT_F32(0, 8)}, 3, TOL);
  vt_check("layer_norm all mapped", f_ln, (vt_in[]){VT_F32(1, 3, 8), VT_F32(0, 8), VT_F32(1, 8)},
           3, TOL);
  vt_check("layer_norm bias only", f_ln_b, (vt_in[]){VT_F32(0, 2, 8), VT_F32(0, 8)}, 2, TOL);
  vt_check("rope", f_rope, (vt_in[]){VT_F32(0, 2, 3, 6)}, 1, TOL);
  vt_check("rope mapped last", f_rope_trad, (vt_in[]){VT_F32(-1, 1, 3, 6)}, 1, TOL);
  vt_in fr[2] = {VT_F32(1, 1, 3, 4), VT_IN(LZ_FLOAT32, 1, 5, NONE, 2)};
  vt_check("rope freqs", f_rope_freqs, fr, 2, TOL);
  vt_in frm[2] = {VT_F32(NONE, 1, 3, 4), VT_IN(LZ_FLOAT32, 1, 5, 0, 2)};
  vt_check("rope freqs mapped (loop)", f_rope_freqs, frm, 2, TOL);
}

/* ---- attention ---- */

BODY(f_sdpa, lz_fast_scaled_dot_product_attention(x[0], x[1], x[2], 0.5, NULL, NULL))
BODY(f_sdpa_causal, lz_fast_scaled_dot_product_attention(x[0], x[1], x[2], 0.5, "causal", NULL))
BODY(f_sdpa_mask, lz_fast_scaled_dot_product_attention(x[0], x[1], x[2], 0.5, "array", x[3]))
BODY(f_sdpa_bmask,
     lz_fast_scaled_dot_product_attention(x[0], x[1], x[2], 0.5, "array",
                                          lz_greater(x[3], lz_float(-1))))

static void test_sdpa(void) {
  vt_check("sdpa q mapped", f_sdpa,
           (vt_in[]){VT_F32(0, 2, 2, 3, 4), VT_F32(NONE, 2, 1, 5, 4), VT_F32(NONE, 2, 1, 5, 3)}, 3,
           TOL);
  vt_check("sdpa all mapped", f_sdpa,
           (vt_in[]){VT_F32(2, 1, 2, 3, 4), VT_F32(0, 1, 2, 5, 4), VT_F32(-1, 1, 2, 5, 3)}, 3, TOL);
  vt_check("sdpa causal kv mapped", f_sdpa_causal,
           (vt_in[]){VT_F32(NONE, 1, 2, 3, 4), VT_F32(1, 1, 2, 4, 4), VT_F32(0, 1, 2, 4, 2)}, 3,
           TOL);
  vt_check("sdpa additive mask mapped", f_sdpa_mask,
           (vt_in[]){VT_F32(NONE, 1, 2, 3, 4), VT_F32(NONE, 1, 2, 5, 4), VT_F32(NONE, 1, 2, 5, 3),
                     VT_F32(0, 3, 5)},
           4, TOL);
  vt_check("sdpa bool mask, q mapped", f_sdpa_bmask,
           (vt_in[]){VT_F32(1, 2, 2, 3, 4), VT_F32(NONE, 2, 2, 5, 4), VT_F32(NONE, 2, 2, 5, 3),
                     VT_F32(NONE, 1, 1, 3, 5)},
           4, TOL);
}

/* ---- convolution ---- */

BODY(f_conv1d, lz_conv1d(x[0], x[1], 1, 1, 1, 1))
BODY(f_conv1d_g, lz_conv1d(x[0], x[1], 2, 0, 1, 2))
BODY(f_conv2d, lz_conv2d(x[0], x[1], 1, 2, 1, 0, 1, 1, 1))
BODY(f_convt1d, lz_conv_transpose1d(x[0], x[1], 2, 1, 1, 0, 1))

static void test_conv(void) {
  vt_check("conv1d x mapped", f_conv1d, (vt_in[]){VT_F32(0, 2, 6, 3), VT_F32(NONE, 4, 3, 3)}, 2,
           TOL);
  vt_check("conv1d w mapped", f_conv1d, (vt_in[]){VT_F32(NONE, 2, 6, 3), VT_F32(1, 4, 3, 3)}, 2,
           TOL);
  vt_check("conv1d both mapped", f_conv1d, (vt_in[]){VT_F32(-1, 2, 6, 3), VT_F32(0, 4, 3, 3)}, 2,
           TOL);
  vt_check("conv1d groups, both mapped", f_conv1d_g,
           (vt_in[]){VT_F32(1, 1, 7, 4), VT_F32(0, 6, 2, 2)}, 2, TOL);
  vt_check("conv2d x mapped", f_conv2d, (vt_in[]){VT_F32(1, 1, 4, 5, 2), VT_F32(NONE, 3, 2, 2, 2)},
           2, TOL);
  vt_check("conv2d w mapped", f_conv2d, (vt_in[]){VT_F32(NONE, 2, 4, 5, 2), VT_F32(0, 3, 2, 2, 2)},
           2, TOL);
  vt_check("conv_transpose1d both mapped", f_convt1d,
           (vt_in[]){VT_F32(0, 1, 4, 2), VT_F32(2, 3, 3, 2)}, 2, TOL);
}

/* ---- FFT and quantized_matmul ---- */

/* A complex result as its real and imaginary parts. */
#define BODY_C(NAME, EXPR)                                                                         \
  static int NAME(lz_array *const *x, lz_array **o) {                                              \
    lz_array *y = (EXPR);                                                                          \
    o[0] = lz_real(y), o[1] = lz_imag(y);                                                          \
    return o[0] && o[1] ? 2 : -1;                                                                  \
  }
BODY_C(f_fft, lz_fft(x[0], -1, -1))
BODY_C(f_ifft_pad, lz_ifft(x[0], 6, 0))
BODY_C(f_rfft, lz_rfft(x[0], -1, 1))
BODY(f_irfft2, lz_irfft2(x[0], NULL, NULL))
BODY_C(f_fftn, lz_fftn(x[0], (int[]){3, 4}, (int[]){0, 2}, 2))

static lz_array *g_q[3]; /* a (6, 64) weight quantized to 4 bits in groups of 32 */
BODY(f_qmm, lz_quantized_matmul(x[0], g_q[0], g_q[1], g_q[2], true, 32, 4))

static void test_fft_qmm(void) {
  vt_check("fft", f_fft, (vt_in[]){VT_F32(1, 3, 4)}, 1, 1e-4);
  vt_check("ifft padded", f_ifft_pad, (vt_in[]){VT_F32(-1, 4, 2)}, 1, 1e-4);
  vt_check("rfft", f_rfft, (vt_in[]){VT_F32(0, 2, 6)}, 1, 1e-4);
  vt_check("irfft2", f_irfft2, (vt_in[]){VT_F32(2, 2, 3, 4)}, 1, 1e-4);
  vt_check("fftn", f_fftn, (vt_in[]){VT_F32(1, 2, 2, 5)}, 1, 1e-4);
  lz_array *w = vt_random((int[]){6, 64}, 2, LZ_FLOAT32, -1, 1);
  CHECK(lz_quantize(w, 32, 4, g_q) == 0);
  vt_check("quantized_matmul x mapped", f_qmm, (vt_in[]){VT_F32(1, 2, 64)}, 1, 1e-4);
  vt_check("quantized_matmul vector x", f_qmm, (vt_in[]){VT_F32(0, 64)}, 1, 1e-4);
  for (int i = 0; i < 3; i++) lz_free(g_q[i]);
  lz_free(w);
}

int main(void) {
  RUN(test_has_rules);
  RUN(test_norms);
  RUN(test_sdpa);
  RUN(test_conv);
  RUN(test_fft_qmm);
  return lzt_summary();
}
