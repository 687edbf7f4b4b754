/* Derivative rules of the convolution (conv1d/2d/3d, transposed, grouped, strided, dilated,
 * padded, flipped) and of the fused ops (rms_norm, layer_norm, rope, scaled_dot_product_attention)
 * against central differences and vjp against jvp. These ops compute in float32 at most, so the
 * bodies convert from and to float64 and the checks use a larger step and tolerance. */
#include "test_grad_check.h"

#define IN(lo, hi, ...) {(int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), {__VA_ARGS__}, lo, hi}

static lz_array *f32(lz_array *x) { return lz_astype(x, LZ_FLOAT32); }
static lz_array *weight(lz_array *x) {
  int n = (int)lz_array_size(x);
  lz_array *r = lz_arange(1, 1 + n, 1, LZ_FLOAT64);
  return lz_reshape(lz_sin(r), lz_array_shape(x), lz_array_ndim(x));
}
/* y (float32) back to float64, times a fixed weight. */
static lz_array *out64(lz_array *y) {
  lz_array *z = lz_astype(y, LZ_FLOAT64);
  return lz_multiply(z, weight(z));
}
static void check32(const char *what, gc_body f, const gc_input *in, int n) {
  gc_check_h(what, f, in, n, 2e-3, 1e-2);
}

/* ---- convolutions ---- */

/* depthwise (one input channel per group), multiplier 2, strided; and 1-D, flipped, dilated */
static lz_array *f_conv2d_depthwise(lz_array *const *x) {
  return out64(lz_conv2d(f32(x[0]), f32(x[1]), 2, 1, 1, 1, 1, 1, 3));
}
static lz_array *f_conv_general_depthwise(lz_array *const *x) {
  return out64(lz_conv_general(f32(x[0]), f32(x[1]), (int[]){1}, (int[]){2}, (int[]){1},
                               (int[]){2}, (int[]){1}, 4, true));
}
static lz_array *f_conv1d(lz_array *const *x) {
  return out64(lz_conv1d(f32(x[0]), f32(x[1]), 2, 1, 1, 1));
}
static lz_array *f_conv1d_groups(lz_array *const *x) {
  return out64(lz_conv1d(f32(x[0]), f32(x[1]), 1, 2, 2, 2));
}
static lz_array *f_conv2d(lz_array *const *x) {
  return out64(lz_conv2d(f32(x[0]), f32(x[1]), 2, 1, 1, 0, 1, 2, 1));
}
static lz_array *f_conv3d(lz_array *const *x) { /* 5-d operands from 3-d and 4-d inputs */
  lz_array *in = lz_reshape(f32(x[0]), (int[]){1, 3, 3, 4, 1}, 5);
  lz_array *w = lz_reshape(f32(x[1]), (int[]){2, 2, 1, 2, 1}, 5);
  return out64(lz_conv3d(in, w, 1, 1, 2, 0, 1, 0, 1, 1, 1, 1));
}
static lz_array *f_conv_t1d(lz_array *const *x) {
  return out64(lz_conv_transpose1d(f32(x[0]), f32(x[1]), 2, 1, 1, 1, 1));
}
static lz_array *f_conv_t2d(lz_array *const *x) {
  return out64(lz_conv_transpose2d(f32(x[0]), f32(x[1]), 2, 1, 0, 1, 1, 1, 0, 0, 2));
}
static lz_array *f_conv_general(lz_array *const *x) { /* uneven and negative padding, flip */
  return out64(lz_conv_general(f32(x[0]), f32(x[1]), (int[]){2}, (int[]){-1}, (int[]){3},
                               (int[]){2}, (int[]){2}, 1, true));
}
static lz_array *f_conv_t_input(lz_array *const *x) { /* a non-contiguous input */
  lz_array *in = lz_swapaxes(f32(x[0]), 1, 2);
  return out64(lz_conv2d(in, f32(x[1]), 1, 1, 1, 1, 1, 1, 1));
}

static void test_conv(void) {
  check32("conv1d", f_conv1d, (gc_input[]){IN(-1, 1, 2, 7, 3), IN(-1, 1, 4, 3, 3)}, 2);
  check32("conv1d groups", f_conv1d_groups, (gc_input[]){IN(-1, 1, 1, 6, 4), IN(-1, 1, 6, 2, 2)},
          2);
  check32("conv2d", f_conv2d, (gc_input[]){IN(-1, 1, 1, 5, 4, 2), IN(-1, 1, 3, 2, 2, 2)}, 2);
  check32("conv3d", f_conv3d, (gc_input[]){IN(-1, 1, 3, 3, 4), IN(-1, 1, 2, 2, 1, 2)},
          2);
  check32("conv_transpose1d", f_conv_t1d, (gc_input[]){IN(-1, 1, 1, 4, 2), IN(-1, 1, 3, 3, 2)},
          2);
  check32("conv_transpose2d groups", f_conv_t2d,
          (gc_input[]){IN(-1, 1, 1, 3, 3, 4), IN(-1, 1, 2, 2, 2, 2)}, 2);
  check32("conv_general", f_conv_general, (gc_input[]){IN(-1, 1, 2, 6, 2), IN(-1, 1, 3, 2, 2)}, 2);
  check32("conv2d depthwise", f_conv2d_depthwise,
          (gc_input[]){IN(-1, 1, 2, 5, 4, 3), IN(-1, 1, 6, 3, 2, 1)}, 2);
  check32("conv_general depthwise flip", f_conv_general_depthwise,
          (gc_input[]){IN(-1, 1, 2, 7, 4), IN(-1, 1, 4, 3, 1)}, 2);
  check32("conv2d transposed input", f_conv_t_input,
          (gc_input[]){IN(-1, 1, 1, 4, 3, 2), IN(-1, 1, 2, 3, 3, 2)}, 2);
}

/* ---- fused ops ---- */

static lz_array *f_rms(lz_array *const *x) { return out64(lz_fast_rms_norm(f32(x[0]), f32(x[1]), 1e-5)); }
static lz_array *f_rms_nw(lz_array *const *x) { return out64(lz_fast_rms_norm(f32(x[0]), NULL, 1e-5)); }
static lz_array *f_layer(lz_array *const *x) {
  return out64(lz_fast_layer_norm(f32(x[0]), f32(x[1]), f32(x[2]), 1e-5));
}
static lz_array *f_layer_nb(lz_array *const *x) {
  return out64(lz_fast_layer_norm(f32(x[0]), NULL, NULL, 1e-5));
}
static lz_array *f_rope(lz_array *const *x) {
  return out64(lz_fast_rope(f32(x[0]), 4, false, 10000, 1.0, 2, NULL));
}
static lz_array *f_rope_trad(lz_array *const *x) {
  lz_array *freqs = lz_array_from_data((float[]){1, 3}, (int[]){2}, 1, LZ_FLOAT32);
  return out64(lz_fast_rope(f32(x[0]), 4, true, 1, 0.5, 0, freqs));
}
static lz_array *f_sdpa(lz_array *const *x) {
  return out64(lz_fast_scaled_dot_product_attention(f32(x[0]), f32(x[1]), f32(x[2]), 0.7, NULL,
                                                    NULL));
}
static lz_array *f_sdpa_causal(lz_array *const *x) {
  return out64(lz_fast_scaled_dot_product_attention(f32(x[0]), f32(x[1]), f32(x[2]), 0.5, "causal",
                                                    NULL));
}
static lz_array *f_sdpa_mask(lz_array *const *x) {
  bool m[6] = {true, false, true, true, true, false};
  lz_array *mask = lz_array_from_data(m, (int[]){2, 3}, 2, LZ_BOOL);
  return out64(lz_fast_scaled_dot_product_attention(f32(x[0]), f32(x[1]), f32(x[2]), 0.5, "array",
                                                    mask));
}
static lz_array *f_sdpa_add(lz_array *const *x) { /* an additive mask is differentiable too */
  return out64(lz_fast_scaled_dot_product_attention(f32(x[0]), f32(x[1]), f32(x[2]), 0.5, "array",
                                                    f32(x[3])));
}

static void test_fast(void) {
  check32("rms_norm", f_rms, (gc_input[]){IN(-1, 1, 2, 5), IN(0.5, 1.5, 5)}, 2);
  check32("rms_norm no weight", f_rms_nw, (gc_input[]){IN(-1, 1, 3, 4)}, 1);
  check32("layer_norm", f_layer, (gc_input[]){IN(-1, 1, 2, 5), IN(0.5, 1.5, 5), IN(-1, 1, 5)}, 3);
  check32("layer_norm no weight", f_layer_nb, (gc_input[]){IN(-1, 1, 3, 4)}, 1);
  check32("rope", f_rope, (gc_input[]){IN(-1, 1, 1, 3, 6)}, 1);
  check32("rope traditional, freqs", f_rope_trad, (gc_input[]){IN(-1, 1, 2, 2, 4)}, 1);
  gc_input qkv[3] = {IN(-1, 1, 1, 2, 2, 3), IN(-1, 1, 1, 1, 3, 3), IN(-1, 1, 1, 1, 3, 2)};
  check32("sdpa (grouped heads)", f_sdpa, qkv, 3);
  check32("sdpa causal", f_sdpa_causal, qkv, 3);
  check32("sdpa bool mask", f_sdpa_mask, qkv, 3);
  gc_input qkvm[4] = {qkv[0], qkv[1], qkv[2], IN(-1, 1, 2, 3)};
  check32("sdpa additive mask", f_sdpa_add, qkvm, 4);
}

int main(void) {
  RUN(test_conv);
  RUN(test_fast);
  return lzt_summary();
}
