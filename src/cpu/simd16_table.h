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
