/* Affine quantize and dequantize kernels (MLX's scheme, see include/lazuli/quantize.h); the
 * dequantize kernel also reads the float modes' codes (cpu/quantize_fp.c). Groups
 * are independent, so both split their groups across threads. Scales and biases are computed
 * in float32, as MLX does, and stored in the weights' dtype. */
#include "quantize.h"

#include <math.h>
#include <stdlib.h>

#include "../core/threads.h"

static void *scratch(size_t n, const char *op) {
  void *p = malloc(n ? n : 1);
  if (!p) lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory (%zu bytes of scratch)", n);
  return p;
}

const float *lz_cpu_q_as_f32(const lz_array *a, void **owned, const char *op) {
  *owned = NULL;
  if (a->dtype == LZ_FLOAT32 && lz__is_contiguous(a)) return (const float *)lz__data_ptr(a);
  size_t n = (size_t)a->size, isz = lz_dtype_size(a->dtype);
  float *f = scratch(n * sizeof(float), op);
  if (!f) return NULL;
  if (lz__is_contiguous(a)) {
    lz__convert(f, LZ_FLOAT32, lz__data_ptr(a), a->dtype, (int64_t)n);
  } else {
    void *tmp = scratch(n * isz, op);
    if (!tmp) {
      free(f);
      return NULL;
    }
    lz__copy_to_contiguous(tmp, a);
    lz__convert(f, LZ_FLOAT32, tmp, a->dtype, (int64_t)n);
    free(tmp);
  }
  *owned = f;
  return f;
}

const uint32_t *lz_cpu_q_as_u32(const lz_array *a, void **owned, const char *op) {
  *owned = NULL;
  if (lz__is_contiguous(a)) return (const uint32_t *)lz__data_ptr(a);
  uint32_t *w = scratch((size_t)a->size * sizeof(uint32_t), op);
  if (w) lz__copy_to_contiguous(w, a);
  *owned = w;
  return w;
}

/* ---- quantize ----------------------------------------------------------------------------- */

typedef struct quant_ctx {
  const float *w;
  uint32_t *q;
  float *scales, *biases;
  int gs, bits;
} quant_ctx;

static void quantize_groups(void *ctx, int64_t begin, int64_t end) {
  const quant_ctx *c = ctx;
  int gs = c->gs, bits = c->bits, words = gs * bits / 32;
  float n_bins = (float)((1 << bits) - 1), eps = 1e-7f;
  for (int64_t g = begin; g < end; g++) {
    const float *w = c->w + g * gs;
    float w_min = INFINITY, w_max = -INFINITY;
    for (int j = 0; j < gs; j++) {
      w_max = fmaxf(w_max, w[j]);
      w_min = fminf(w_min, w[j]);
    }
    /* The edge of larger magnitude is represented exactly (code 0 or n_bins). */
    bool mask = fabsf(w_min) > fabsf(w_max);
    float scale = fmaxf((w_max - w_min) / n_bins, eps);
    scale = mask ? scale : -scale;
    float edge = mask ? w_min : w_max;
    float q0 = rintf(edge / scale), bias = 0;
    if (q0 != 0) {
      scale = edge / q0;
      bias = edge;
    }
    uint32_t *q = c->q + g * words;
    for (int k = 0; k < words; k++) q[k] = 0;
    for (int j = 0; j < gs; j++) {
      float v = fminf(fmaxf(rintf((w[j] - bias) / scale), 0.0f), n_bins);
      uint32_t code = (uint32_t)v;
      int bit = j * bits, k = bit >> 5, sh = bit & 31;
      q[k] |= code << sh;
      if (sh + bits > 32) q[k + 1] |= code >> (32 - sh);
    }
    c->scales[g] = scale;
    c->biases[g] = bias;
  }
}

int lz_cpu_quantize(lz_node *node, lz_array **outs) {
  const char *op = "lz_quantize";
  const lz_quant_params *p = node->params;
  const lz_array *w = node->inputs[0];
  if (p->mode != LZ_QUANT_AFFINE) return lz_cpu_fp_quantize(node, outs);
  for (int k = 0; k < 3; k++)
    if (lz__alloc_output(outs[k], op) != 0) return -1;
  int64_t ngroups = w->size / p->group_size;
  void *owned = NULL;
  const float *wf = lz_cpu_q_as_f32(w, &owned, op);
  bool direct = outs[1]->dtype == LZ_FLOAT32;
  float *sb = direct ? NULL : scratch((size_t)ngroups * 2 * sizeof(float), op);
  if (!wf || (!direct && !sb)) {
    free(owned);
    free(sb);
    return -1;
  }
  quant_ctx c = {wf, (uint32_t *)lz__data_ptr(outs[0]),
                 direct ? (float *)lz__data_ptr(outs[1]) : sb,
                 direct ? (float *)lz__data_ptr(outs[2]) : sb + ngroups, p->group_size, p->bits};
  lz__parallel_for(ngroups, 1 + 4096 / p->group_size, quantize_groups, &c);
  if (!direct) {
    lz__convert(lz__data_ptr(outs[1]), outs[1]->dtype, c.scales, LZ_FLOAT32, ngroups);
    lz__convert(lz__data_ptr(outs[2]), outs[2]->dtype, c.biases, LZ_FLOAT32, ngroups);
  }
  free(sb);
  free(owned);
  return 0;
}

/* ---- dequantize --------------------------------------------------------------------------- */

typedef struct dequant_ctx {
  const uint32_t *q;
  const float *scales, *biases; /* biases NULL: none (the float modes) */
  const float *lut;             /* the value of each code (float modes), else NULL */
  char *out;
  lz_dtype dt;
  int gs, bits;
} dequant_ctx;

static void dequantize_groups(void *ctx, int64_t begin, int64_t end) {
  const dequant_ctx *c = ctx;
  int gs = c->gs, words = gs * c->bits / 32;
  size_t osz = lz_dtype_size(c->dt);
  float buf[128];
  for (int64_t g = begin; g < end; g++) {
    float *dst = c->dt == LZ_FLOAT32 ? (float *)c->out + g * gs : buf;
    lz_cpu_q_unpack(c->q + g * words, c->bits, gs, dst);
    float s = c->scales[g], b = c->biases ? c->biases[g] : 0.0f;
    if (c->lut)
      for (int j = 0; j < gs; j++) dst[j] = c->lut[(int)dst[j]];
    for (int j = 0; j < gs; j++) dst[j] = s * dst[j] + b;
    if (dst == buf) lz__convert(c->out + (size_t)g * gs * osz, c->dt, buf, LZ_FLOAT32, gs);
  }
}

int lz_cpu_dequantize(lz_node *node, lz_array **outs) {
  const char *op = "lz_dequantize";
  const lz_quant_params *p = node->params;
  lz_array *out = outs[0];
  if (lz__alloc_output(out, op) != 0) return -1;
  void *o0 = NULL, *o1 = NULL, *o2 = NULL;
  bool affine = p->mode == LZ_QUANT_AFFINE;
  float lut[256];
  if (!affine) lz_cpu_q_fp_table(p->mode, lut);
  const uint32_t *q = lz_cpu_q_as_u32(node->inputs[0], &o0, op);
  const float *s = q ? lz_cpu_q_scales(node->inputs[1], p->mode, &o1, op) : NULL;
  const float *b = s && affine ? lz_cpu_q_as_f32(node->inputs[2], &o2, op) : NULL;
  int rc = -1;
  if (s && (b || !affine)) {
    dequant_ctx c = {q, s, b, affine ? NULL : lut, lz__data_ptr(out), out->dtype, p->group_size,
                     p->bits};
    lz__parallel_for(out->size / p->group_size, 1 + 8192 / p->group_size, dequantize_groups, &c);
    rc = 0;
  }
  free(o0);
  free(o1);
  free(o2);
  return rc;
}
