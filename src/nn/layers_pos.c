/* Positional encodings: RoPE, SinusoidalPositionalEncoding and ALiBi. */
#include <math.h>

#include "nn/nn_impl.h"

/* ---- RoPE ---- */

typedef struct rope_cfg {
  int dims;
  bool traditional;
  double base, scale;
} rope_cfg;

/* The fused lz_fast_rope, which wants (..., L, D) with at least one leading axis: a (L, D)
 * input gets a unit axis for the call. Integer inputs rotate in float32. */
static lz_array *rope(const rope_cfg *c, lz_array *x, int offset) {
  int nd = lz_array_ndim(x);
  if (nd < 2 || lz_array_dim(x, -1) < c->dims) {
    char s[128];
    lz_set_error(LZ_ERROR_SHAPE, "RoPE", "expects (..., L, D) input with D >= %d, got %s", c->dims,
                 lz_nn__fmt_shape(s, sizeof s, lz_array_shape(x), nd));
    return NULL;
  }
  NN_BEGIN();
  if (!lz_dtype_is_float(lz_array_dtype(x))) x = lz_astype(x, LZ_FLOAT32);
  lz_array *x3 = nd == 2 ? lz_expand_dims(x, (int[]){0}, 1) : x;
  lz_array *y = lz_fast_rope(x3, c->dims, c->traditional, c->base, c->scale, offset, NULL);
  return NN_END(nd == 2 ? lz_squeeze(y, (int[]){0}, 1) : y);
}

static int rope_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  if (lz_nn__check_call("RoPE", in, n, 1, 1) != 0) return -1;
  return lz_nn__out1(out, rope(lz_module_ctx(m), in[0], 0));
}

lz_module *lz_nn_rope_new(int dims, bool traditional, double base, double scale) {
  if (dims < 2 || dims % 2) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_rope_new",
                 "dims must be even and positive, "
                 "got %d",
                 dims);
    return NULL;
  }
  rope_cfg c = {dims, traditional, base, scale};
  return lz_nn__module("RoPE", rope_forward, &c, sizeof c);
}

lz_array *lz_nn_rope_forward(lz_module *m, lz_array *x, int offset) {
  if (!m || strcmp(lz_module_type(m), "RoPE") != 0) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_rope_forward", "not a RoPE module");
    return NULL;
  }
  if (!x) {
    if (!lz_nn__failed()) lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "RoPE", "NULL input");
    return NULL;
  }
  return rope(lz_module_ctx(m), x, offset);
}

/* ---- SinusoidalPositionalEncoding ---- */

typedef struct sinusoid_cfg {
  int dims;
  double min_freq, max_freq, scale;
  bool cos_first, full_turns;
} sinusoid_cfg;

static int sinusoid_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  const sinusoid_cfg *c = lz_module_ctx(m);
  if (lz_nn__check_call("SinusoidalPositionalEncoding", in, n, 1, 1) != 0) return -1;
  int half = c->dims / 2;
  float *sig = malloc((size_t)half * sizeof *sig);
  if (!sig) return lz_set_error(LZ_ERROR_OUT_OF_MEMORY, "SinusoidalPositionalEncoding", "oom");
  double lo = log(c->min_freq), hi = log(c->max_freq);
  for (int j = 0; j < half; j++) {
    double one_zero = half > 1 ? 1.0 - (double)j / (half - 1) : 1.0;
    double s = exp(one_zero * (hi - lo) + lo);
    sig[j] = (float)(c->full_turns ? s * 2 * M_PI : s);
  }
  NN_BEGIN();
  lz_array *sigmas = lz_array_from_data(sig, &half, 1, LZ_FLOAT32);
  free(sig);
  lz_array *y = lz_multiply(lz_expand_dims(in[0], (int[]){-1}, 1), sigmas);
  lz_array *cy = lz_cos(y), *sy = lz_sin(y);
  y = lz_concatenate(c->cos_first ? (lz_array *[]){cy, sy} : (lz_array *[]){sy, cy}, 2, -1);
  if (c->scale != 1) y = lz_multiply(y, lz_float(c->scale));
  return lz_nn__out1(out, NN_END(y));
}

lz_module *lz_nn_sinusoidal_positional_encoding_new(int dims, double min_freq, double max_freq,
                                                    double scale, bool cos_first, bool full_turns) {
  if (dims < 2 || dims % 2 || !(min_freq > 0) || !(max_freq > 0)) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_sinusoidal_positional_encoding_new",
                 "dims must be even and positive and frequencies positive (dims %d)", dims);
    return NULL;
  }
  sinusoid_cfg c = {dims,      min_freq,  max_freq, scale > 0 ? scale : sqrt(2.0 / dims),
                    cos_first, full_turns};
  return lz_nn__module("SinusoidalPositionalEncoding", sinusoid_forward, &c, sizeof c);
}

/* ---- ALiBi ---- */

static lz_array *alibi(lz_array *scores, int offset, lz_array *mask) {
  int nd = lz_array_ndim(scores);
  if (nd != 4) {
    lz_set_error(LZ_ERROR_SHAPE, "ALiBi", "expects (B, heads, L, S) scores, got %d-d", nd);
    return NULL;
  }
  int h = lz_array_dim(scores, 1), l = lz_array_dim(scores, 2), s = lz_array_dim(scores, 3);
  size_t cnt = (size_t)h * l * s;
  float *v = malloc((cnt ? cnt : 1) * sizeof *v);
  if (!v) {
    lz_set_error(LZ_ERROR_OUT_OF_MEMORY, "ALiBi", "out of memory");
    return NULL;
  }
  double base = pow(256.0, 1.0 / h);
  for (int k = 0; k < h; k++) {
    double slope = pow(base, -(k + 1));
    for (int i = 0; i < l; i++)
      for (int j = 0; j < s; j++)
        v[((size_t)k * l + i) * s + j] = (float)(-fabs((double)(offset + i - j)) * slope);
  }
  NN_BEGIN();
  lz_array *bias = lz_array_from_data(v, (int[]){1, h, l, s}, 4, LZ_FLOAT32);
  free(v);
  bias = lz_astype(bias, lz_array_dtype(scores));
  if (mask) bias = lz_add(bias, mask);
  return NN_END(lz_add(scores, bias));
}

static int alibi_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  if (lz_nn__check_call("ALiBi", in, n, 1, 2) != 0) return -1;
  return lz_nn__out1(out, alibi(in[0], 0, lz_nn__opt(in, n, 1)));
}

lz_module *lz_nn_alibi_new(void) { return lz_module_new("ALiBi", alibi_forward, NULL, NULL); }

lz_array *lz_nn_alibi_forward(lz_module *m, lz_array *scores, int offset, lz_array *mask) {
  if (!scores) {
    if (!lz_nn__failed()) lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "ALiBi", "NULL scores");
    return NULL;
  }
  return alibi(scores, offset, mask);
}
