/* The floating point quantization modes of MLX (mxfp4, mxfp8, nvfp4): codes are FP4 E2M1 or
 * FP8 E4M3 values, one uint8 scale per group, no bias. mxfp4 and mxfp8 use groups of 32 with an
 * E8M0 scale (a power of two, 2^(s - 127)); nvfp4 uses groups of 16 with an E4M3 scale.
 *
 * Quantizing follows MLX's CPU path step by step, in the weights' dtype: the group's scale is
 * max|w| / 6 (FP4) or / 448 (FP8); E8M0 stores round(log2(scale)) (0 for a zero scale), E4M3
 * stores the scale converted to FP8; the values are divided by the stored scale and coded as the
 * nearest of the 16 FP4 values (the first in MLX's table on a tie) or converted to FP8. FP8
 * conversion rounds to nearest even and saturates at 448 (NaN included), as MLX's ToFP8. Codes
 * pack little-endian: 8 FP4 codes or 4 FP8 bytes per uint32. */
#include <math.h>
#include <stdlib.h>

#include "../core/threads.h"
#include "half.h"
#include "quantize.h"

/* MLX's table of FP4 E2M1 values by code: sign bit 3, magnitude 0..7. */
static const float FP4[16] = {0.0f,  0.5f,  1.0f,  1.5f,  2.0f,  3.0f,  4.0f,  6.0f,
                              -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

float lz_cpu_fp8_to_f32(uint8_t x) {
  int sign = x >> 7, e = (x >> 3) & 15, m = x & 7;
  float v;
  if (e == 15 && m == 7) v = NAN;
  else if (e == 0) v = ldexpf((float)m, -9); /* subnormal: m/8 * 2^-6 */
  else v = ldexpf((float)(8 + m), e - 10);   /* (1 + m/8) * 2^(e-7) */
  return sign ? -v : v;
}

uint8_t lz_cpu_f32_to_fp8(float f) {
  uint32_t bits;
  memcpy(&bits, &f, 4);
  uint32_t sign = bits & 0x80000000u;
  bits ^= sign;
  uint8_t r;
  if (bits >= 543u << 21) { /* 464 and above, inf and NaN: saturate to 448 */
    r = 0x7E;
  } else if (bits < 121u << 23) { /* below 2^-6: subnormal, rounded by an add */
    float a, d;
    uint32_t dm = 141u << 23;
    memcpy(&a, &bits, 4);
    memcpy(&d, &dm, 4);
    a += d;
    uint32_t ab;
    memcpy(&ab, &a, 4);
    r = (uint8_t)(ab - dm);
  } else { /* normal: rebias the exponent, round the mantissa to nearest even */
    uint32_t odd = (bits >> 20) & 1;
    r = (uint8_t)((bits + ((uint32_t)(7 - 127) << 23) + 0x7FFFF + odd) >> 20);
  }
  return r | (uint8_t)(sign >> 24);
}

void lz_cpu_q_fp_table(int mode, float *table) {
  if (mode == LZ_QUANT_MXFP8) {
    for (int i = 0; i < 256; i++) table[i] = lz_cpu_fp8_to_f32((uint8_t)i);
  } else {
    memcpy(table, FP4, sizeof FP4);
  }
}

float lz_cpu_q_fp_scale(int mode, uint8_t s) {
  return mode == LZ_QUANT_NVFP4 ? lz_cpu_fp8_to_f32(s) : ldexpf(1.0f, (int)s - 127);
}

/* x rounded to the dtype the computation runs in (MLX computes in the weights' dtype). */
static inline float rt(float x, lz_dtype dt) {
  if (dt == LZ_FLOAT16) return lz_h2f(lz_f2h(x));
  if (dt == LZ_BFLOAT16) return lz_b2f(lz_f2b(x));
  return x;
}

typedef struct fpq_ctx {
  const float *w;
  uint32_t *q;
  uint8_t *scales;
  lz_dtype dt;
  int gs, mode;
} fpq_ctx;

static void fp_quantize_groups(void *ctx, int64_t begin, int64_t end) {
  const fpq_ctx *c = ctx;
  int gs = c->gs, fp8 = c->mode == LZ_QUANT_MXFP8;
  float lut[16];
  for (int k = 0; k < 16; k++) lut[k] = rt(FP4[k], c->dt);
  for (int64_t g = begin; g < end; g++) {
    const float *w = c->w + g * gs;
    float amax = 0;
    for (int j = 0; j < gs; j++) amax = fmaxf(amax, fabsf(w[j]));
    float s = rt(amax / (fp8 ? 448.0f : 6.0f), c->dt), div;
    if (c->mode == LZ_QUANT_NVFP4) {
      c->scales[g] = lz_cpu_f32_to_fp8(s);
      div = rt(lz_cpu_fp8_to_f32(c->scales[g]), c->dt);
    } else {
      int e = s == 0 ? 0 : (int)rintf(rt(log2f(s), c->dt));
      c->scales[g] = (uint8_t)(e + 127);
      div = rt(ldexpf(1.0f, e), c->dt);
    }
    uint32_t *q = c->q + g * (gs * (fp8 ? 8 : 4) / 32);
    for (int k = 0; k < gs * (fp8 ? 8 : 4) / 32; k++) q[k] = 0;
    for (int j = 0; j < gs; j++) {
      float v = rt(w[j] / div, c->dt);
      uint32_t code = 0;
      if (fp8) {
        code = lz_cpu_f32_to_fp8(v);
        q[j / 4] |= code << (8 * (j % 4));
      } else {
        float best = INFINITY;
        for (uint32_t k = 0; k < 16; k++) {
          float d = fabsf(rt(v - lut[k], c->dt));
          if (d < best) best = d, code = k;
        }
        q[j / 8] |= code << (4 * (j % 8));
      }
    }
  }
}

int lz_cpu_fp_quantize(lz_node *node, lz_array **outs) {
  const char *op = "lz_quantize";
  const lz_quant_params *p = node->params;
  const lz_array *w = node->inputs[0];
  for (int k = 0; k < 2; k++)
    if (lz__alloc_output(outs[k], op) != 0) return -1;
  void *owned = NULL;
  const float *wf = lz_cpu_q_as_f32(w, &owned, op);
  if (!wf) return -1;
  fpq_ctx c = {wf, (uint32_t *)lz__data_ptr(outs[0]), (uint8_t *)lz__data_ptr(outs[1]), w->dtype,
               p->group_size, p->mode};
  lz__parallel_for(w->size / p->group_size, 1 + 4096 / p->group_size, fp_quantize_groups, &c);
  free(owned);
  return 0;
}

const float *lz_cpu_q_scales(const lz_array *scales, int mode, void **owned, const char *op) {
  if (mode == LZ_QUANT_AFFINE) return lz_cpu_q_as_f32(scales, owned, op);
  *owned = NULL;
  size_t n = (size_t)scales->size;
  uint8_t *raw = malloc(n ? n : 1);
  float *f = malloc((n ? n : 1) * sizeof(float));
  if (!raw || !f) {
    free(raw);
    free(f);
    lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
    return NULL;
  }
  lz__copy_to_contiguous(raw, scales);
  for (size_t i = 0; i < n; i++) f[i] = lz_cpu_q_fp_scale(mode, raw[i]);
  free(raw);
  *owned = f;
  return f;
}
