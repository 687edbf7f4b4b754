/* GGML quantized blocks to Lazuli's affine layout (group size 32, float16 scales and biases).
 * Each block is 32 values with a float16 scale d:
 *   q4_0: w = d * (q - 8), q in [0, 16)      -> scale d, bias -8 d
 *   q4_1: w = d * q + m                      -> scale d, bias m
 *   q5_0: w = d * (q - 16), q in [0, 32)     -> scale d, bias -16 d
 *   q5_1: w = d * q + m                      -> scale d, bias m
 *   q8_0: w = d * q, q int8                  -> code q + 128, scale d, bias -128 d
 * The biases -8 d, -16 d and -128 d are exact in float16 (powers of two), except that a scale
 * above 65504/128 overflows; such scales do not occur in practice. Blocks split across
 * threads. */
#include <stdlib.h>

#include "../core/threads.h"
#include "half.h"
#include "quantize.h"

typedef struct ggml_ctx {
  const unsigned char *in;
  uint32_t *q;
  uint16_t *scales, *biases;
  int type, block_bytes, bits;
} ggml_ctx;

static void unpack_blocks(void *ctx, int64_t begin, int64_t end) {
  const ggml_ctx *c = ctx;
  for (int64_t i = begin; i < end; i++) {
    const unsigned char *b = c->in + i * c->block_bytes;
    uint16_t d = (uint16_t)(b[0] | b[1] << 8);
    uint8_t code[32];
    float bias;
    const unsigned char *qs;
    uint32_t qh = 0;
    switch (c->type) {
    case LZ_GGML_Q8_0:
      for (int j = 0; j < 32; j++) code[j] = (uint8_t)((int)(int8_t)b[2 + j] + 128);
      bias = -128.0f * lz_h2f(d);
      break;
    case LZ_GGML_Q4_0:
    case LZ_GGML_Q4_1:
      qs = b + (c->type == LZ_GGML_Q4_0 ? 2 : 4);
      for (int j = 0; j < 16; j++) code[j] = qs[j] & 15, code[j + 16] = qs[j] >> 4;
      bias = c->type == LZ_GGML_Q4_0 ? -8.0f * lz_h2f(d) : lz_h2f((uint16_t)(b[2] | b[3] << 8));
      break;
    default: /* q5_0, q5_1: 4 bytes of fifth bits, then nibbles like q4 */
      qs = b + (c->type == LZ_GGML_Q5_0 ? 2 : 4);
      qh = (uint32_t)qs[0] | (uint32_t)qs[1] << 8 | (uint32_t)qs[2] << 16 | (uint32_t)qs[3] << 24;
      qs += 4;
      for (int j = 0; j < 16; j++) {
        code[j] = (uint8_t)((qs[j] & 15) | ((qh >> j) & 1) << 4);
        code[j + 16] = (uint8_t)((qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4);
      }
      bias = c->type == LZ_GGML_Q5_0 ? -16.0f * lz_h2f(d) : lz_h2f((uint16_t)(b[2] | b[3] << 8));
      break;
    }
    int bits = c->bits;
    uint32_t *q = c->q + i * bits; /* 32 codes of `bits` bits are `bits` words */
    for (int k = 0; k < bits; k++) q[k] = 0;
    for (int j = 0; j < 32; j++) {
      int bit = j * bits, k = bit >> 5, sh = bit & 31;
      q[k] |= (uint32_t)code[j] << sh;
      if (sh + bits > 32) q[k + 1] |= (uint32_t)code[j] >> (32 - sh);
    }
    c->scales[i] = d;
    c->biases[i] = lz_f2h(bias);
  }
}

int lz_cpu_ggml_unpack(lz_node *node, lz_array **outs) {
  const char *op = "lz_load_gguf";
  const lz_ggml_params *p = node->params;
  const lz_array *in = node->inputs[0];
  for (int k = 0; k < 3; k++)
    if (lz__alloc_output(outs[k], op) != 0) return -1;
  void *owned = NULL;
  const unsigned char *data = (const unsigned char *)lz__data_ptr(in);
  if (!lz__is_contiguous(in)) {
    if (!(owned = malloc((size_t)in->size ? (size_t)in->size : 1)))
      return lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
    lz__copy_to_contiguous(owned, in);
    data = owned;
  }
  ggml_ctx c = {data, (uint32_t *)lz__data_ptr(outs[0]), (uint16_t *)lz__data_ptr(outs[1]),
                (uint16_t *)lz__data_ptr(outs[2]), p->type, in->shape[1], p->bits};
  lz__parallel_for(in->shape[0], 256, unpack_blocks, &c);
  free(owned);
  return 0;
}
