/* float16/bfloat16 runs through the float32 kernels: a block of a run is widened with the
 * vector conversions (core/dtype.c: F16C or AVX-512, bfloat16 by shifts and integer
 * rounding), the float32 loop runs on it in L1, and its results are rounded to the half type
 * once. The blocks live on the stack: no full-size temporaries. The float32 math is that of
 * the float32 kernels, so a half result equals the float32 kernel's result on the widened
 * inputs, rounded once (what the per-element half loops compute). */
#ifndef LZ_CPU_HALF_BLOCK_H
#define LZ_CPU_HALF_BLOCK_H

#include "../core/isa.h"
#include "cpu.h"

/* Elements per block: three float32 blocks (12 KB) stay in L1; 256 measured 20% slower. */
enum { LZ_HALF_BLOCK = 1024 };

/* n float16/bfloat16 (dtype dt) values at src, `stride` bytes apart, widened into dst. */
LZ_HIDDEN void lz_cpu_half_load(float *dst, lz_dtype dt, const char *src, int64_t stride,
                                int64_t n);
/* n float32 values rounded to float16/bfloat16 (dtype dt) at dst, `stride` bytes apart. */
LZ_HIDDEN void lz_cpu_half_store(char *dst, int64_t stride, lz_dtype dt, const float *src,
                                 int64_t n);

/* Runs the float32 inner loop f32 on one run of an op with `nin` (1 or 2) inputs of dtype dt
 * and one output: of dtype dt when out_half, else whatever f32 writes (bool), written in
 * place. An input of stride 0 is widened once and passed with stride 0, so f32's one-value
 * fast paths apply. The output may share an input's buffer. */
LZ_HIDDEN void lz_cpu_half_run(lz_cpu_inner_fn f32, lz_dtype dt, int nin, bool out_half, void *ctx,
                               int64_t n, char **p, const int64_t *s);

/* The float16/bfloat16 loops OP##_f16, OP##_bf16 of an op: on the scalar path (LZ_CPU=scalar)
 * the per-element reference loops OP##_f16_ref, OP##_bf16_ref; on a SIMD path blocks through
 * the float32 loop F32. */
#define LZ_HALF_VIA_F32(OP, F32, NIN, OUT_HALF)                                                    \
  static void OP##_f16(void *ctx, int64_t n, char **p, const int64_t *s) {                         \
    if (lz_isa_path() == LZ_ISA_SCALAR)                                                            \
      OP##_f16_ref(ctx, n, p, s);                                                                  \
    else                                                                                           \
      lz_cpu_half_run(F32, LZ_FLOAT16, NIN, OUT_HALF, ctx, n, p, s);                               \
  }                                                                                                \
  static void OP##_bf16(void *ctx, int64_t n, char **p, const int64_t *s) {                        \
    if (lz_isa_path() == LZ_ISA_SCALAR)                                                            \
      OP##_bf16_ref(ctx, n, p, s);                                                                 \
    else                                                                                           \
      lz_cpu_half_run(F32, LZ_BFLOAT16, NIN, OUT_HALF, ctx, n, p, s);                              \
  }

#endif /* LZ_CPU_HALF_BLOCK_H */
