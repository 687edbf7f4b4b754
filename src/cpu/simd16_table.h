/* The table of AVX-512 kernels (cpu/simd16_kernels.h) and its two builds: native AVX-512
 * (lz_s16_avx512) and the AVX2 emulation of 16-lane vectors (lz_s16_emu) that tests run on
 * CPUs without AVX-512. Dispatch sites take lz_s16_current() when it is not NULL. */
#ifndef LZ_CPU_SIMD16_TABLE_H
#define LZ_CPU_SIMD16_TABLE_H

#include "../core/isa.h"
#include "reduce_simd.h"
#include "unary.h"

typedef struct lz_s16_kernels {
  lz_cpu_vec_fn unary[LZ_VEC_COUNT]; /* every entry set */
  lz_cpu_vec2_fn binary[LZ_VEC2_COUNT];
  lz_cpu_arith_fn arith[LZ_ARITH_COUNT][3]; /* [op][mode], lz_cpu_vec_arith */
  lz_red_kernels red;
  /* layer_norm/rms_norm rows: sum of x, or of (x - mu)^2 (sq); y = (x - mu) * inv * w + b */
  double (*norm_sum)(const float *x, int64_t n, float mu, bool sq);
  void (*norm_apply)(float *y, const float *x, float mu, float inv, const float *w,
                     const float *b, int64_t n);
  /* conversions, exactly as lz__f16_to_f32 & co. element by element */
  void (*f16_to_f32)(float *d, const uint16_t *s, int64_t n);
  void (*f32_to_f16)(uint16_t *d, const float *s, int64_t n);
  void (*bf16_to_f32)(float *d, const uint16_t *s, int64_t n);
  void (*f32_to_bf16)(uint16_t *d, const float *s, int64_t n);
  /* the same with the AVX512_BF16 instruction (only where the CPU has it) */
  void (*f32_to_bf16_hw)(uint16_t *d, const float *s, int64_t n);
  /* attention's rows (cpu/fast_sdpa.c): max; s = exp(s - m) returning the sum; o *= c; the
   * gradient's p *= inv, delta = sum(p * ds), ds = p * (ds - delta) returning delta */
  float (*sd_row_max)(const float *s, int64_t n);
  float (*sd_exp_sum)(float *s, int64_t n, float m);
  void (*sd_scale)(float *o, int64_t n, float c);
  float (*sd_grad_row)(float *p, float *ds, int64_t n, float inv);
  /* the depthwise convolution's acc[i] += x[i] * w[i] (cpu/conv_direct.c) */
  void (*conv_fma_row)(float *acc, const float *x, const float *w, int64_t n);
  /* quantized matmul's parallel-for bodies on an lz_qmm_ctx (cpu/quantize_mm.c): W (N, K) any
   * bits; W (K, N); the BLAS path's tiles of each; W (N, K) whole words (bits 2, 4, 8) */
  void (*qmm_t)(void *ctx, int64_t begin, int64_t end);
  void (*qmm_n)(void *ctx, int64_t begin, int64_t end);
  void (*qmm_tile_t)(void *ctx, int64_t begin, int64_t end);
  void (*qmm_tile_n)(void *ctx, int64_t begin, int64_t end);
  void (*qmm_tw)(void *ctx, int64_t begin, int64_t end);
} lz_s16_kernels;

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LZ_HAVE_S16 1
LZ_HIDDEN extern const lz_s16_kernels lz_s16_avx512, lz_s16_emu;
#endif

/* The table for `path`, or NULL when it is not an AVX-512 path (or not built). */
static inline const lz_s16_kernels *lz_s16_for(lz_isa path) {
#ifdef LZ_HAVE_S16
  if (path == LZ_ISA_AVX512) return &lz_s16_avx512;
  if (path == LZ_ISA_AVX512EMU) return &lz_s16_emu;
#endif
  (void)path;
  return NULL;
}
static inline const lz_s16_kernels *lz_s16_current(void) { return lz_s16_for(lz_isa_path()); }

#endif /* LZ_CPU_SIMD16_TABLE_H */
