/* Kernels of the quantization family (cpu/quantize.c, quantize_mm.c, quantize_ggml.c) and the
 * helpers they share: unpacking a group of codes from MLX's little-endian bit stream. */
#ifndef LZ_CPU_QUANTIZE_H
#define LZ_CPU_QUANTIZE_H

#include "../core/internal.h"

/* Parameters of quantize, dequantize and quantized_matmul. */
typedef struct lz_quant_params {
  int group_size, bits;
  bool transpose; /* quantized_matmul only */
  int mode;       /* lz_quant_mode */
} lz_quant_params;

/* GGML block formats that ggml_unpack converts (the GGUF tensor type ids). */
enum { LZ_GGML_Q4_0 = 2, LZ_GGML_Q4_1 = 3, LZ_GGML_Q5_0 = 6, LZ_GGML_Q5_1 = 7, LZ_GGML_Q8_0 = 8 };

/* Parameters of ggml_unpack: input 0 is the raw blocks, uint8 of shape (rows, row_bytes). */
typedef struct lz_ggml_params {
  int type; /* LZ_GGML_* */
  int bits; /* of the codes in the affine layout */
} lz_ggml_params;

LZ_HIDDEN int lz_cpu_quantize(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_dequantize(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_quantized_matmul(lz_node *node, lz_array **outs);
/* gather_qmm: inputs x (Bx, M, K), w_q, scales[, biases] (Bw, rows, cols), lhs and rhs indices
 * (int32, one shape); output (index shape..., M, N): product i is x[lhs[i]] with W[rhs[i]]. */
LZ_HIDDEN int lz_cpu_gather_qmm(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_ggml_unpack(lz_node *node, lz_array **outs);
/* quantize for mxfp4, mxfp8 and nvfp4 (cpu/quantize_fp.c): outputs the codes and uint8 scales. */
LZ_HIDDEN int lz_cpu_fp_quantize(lz_node *node, lz_array **outs);
/* FP8 E4M3 to and from float32, as MLX's FromFP8 and ToFP8. */
LZ_HIDDEN float lz_cpu_fp8_to_f32(uint8_t x);
LZ_HIDDEN uint8_t lz_cpu_f32_to_fp8(float f);
/* The value of each code of a floating point mode: 16 FP4 values, or 256 FP8 ones (mxfp8). */
LZ_HIDDEN void lz_cpu_q_fp_table(int mode, float *table);
/* A group's scales as float32: affine ones converted, uint8 E8M0/E4M3 ones decoded. Same
 * contract as lz_cpu_q_as_f32. */
LZ_HIDDEN const float *lz_cpu_q_scales(const lz_array *scales, int mode, void **owned,
                                       const char *op);
/* Testing hook: false makes quantized_matmul use its portable path only (not thread-safe). */
LZ_HIDDEN void lz_cpu_qmm_use_simd(bool on);

/* One quantized product (cpu/quantize_mm.c), as its kernels see it: x (M, K) times W. The
 * kernels run on column (or column-group, or tile-row) ranges [begin, end) of it. */
typedef struct lz_qmm_ctx {
  const float *x;      /* (M, K) */
  const float *xsum;   /* (M, K / gs): sums of x over each group (transpose only) */
  const float *xp;     /* (M, K): x permuted for the whole-word kernels (see quantize_mm.c) */
  const uint32_t *w;   /* transpose: (N, K * bits / 32); else (K, N * bits / 32) */
  const float *scales; /* transpose: (N, K / gs); else (K, N / gs) */
  const float *biases;
  const float *lut;    /* the value of each code (float modes; biases are then zeros) */
  float *out;          /* (M, N) */
  float *tile;         /* dequantized tile for the BLAS path */
  int64_t M, N, K, n0, tn;
  int gs, bits;
} lz_qmm_ctx;

/* Rows of x at most: more go through a dequantized tile and BLAS. */
enum { LZ_QMM_DIRECT_ROWS = 16, LZ_QMM_MAX_GS = 128 };

/* `a`'s elements in row-major order as float32: a's own data when it already is contiguous
 * float32 (*owned = NULL), else a malloc'd copy that the caller frees (*owned). NULL with an
 * out-of-memory error naming `op`. */
LZ_HIDDEN const float *lz_cpu_q_as_f32(const lz_array *a, void **owned, const char *op);
/* Same for the packed codes (uint32). */
LZ_HIDDEN const uint32_t *lz_cpu_q_as_u32(const lz_array *a, void **owned, const char *op);

/* Codes of one group (n values, n * bits a multiple of 32) as floats: code j is bits
 * [j * bits, (j + 1) * bits) of the words, least significant first. */
static inline void lz_cpu_q_unpack(const uint32_t *w, int bits, int n, float *out) {
  if (bits == 4) {
    for (int i = 0; i < n / 8; i++)
      for (int j = 0; j < 8; j++) out[8 * i + j] = (float)((w[i] >> (4 * j)) & 15u);
  } else if (bits == 8) {
    for (int i = 0; i < n / 4; i++)
      for (int j = 0; j < 4; j++) out[4 * i + j] = (float)((w[i] >> (8 * j)) & 255u);
  } else if (bits == 2) {
    for (int i = 0; i < n / 16; i++)
      for (int j = 0; j < 16; j++) out[16 * i + j] = (float)((w[i] >> (2 * j)) & 3u);
  } else {
    uint32_t mask = (1u << bits) - 1;
    for (int j = 0; j < n; j++) {
      int bit = j * bits, k = bit >> 5, sh = bit & 31;
      uint64_t v = w[k] >> sh;
      if (sh + bits > 32) v |= (uint64_t)w[k + 1] << (32 - sh);
      out[j] = (float)((uint32_t)v & mask);
    }
  }
}

#endif /* LZ_CPU_QUANTIZE_H */
