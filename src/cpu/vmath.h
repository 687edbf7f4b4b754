/* Our float32 vector math for AVX2+FMA (cpu/vmath_avx2.c): polynomial kernels that beat
 * SLEEF's u10 functions on the functions listed here (bench figures in the file's header).
 *
 * Error bounds, measured over every float32 input (ulps as tests/test_vmath.c counts them:
 * |got - exact| over the spacing of floats at the exact result, 2^-149 for subnormals):
 *   exp 0.52, expm1 0.81, log 0.51, log1p 0.80, sin 0.53, cos 0.53, tanh 0.72,
 *   sigmoid 0.74, erf 0.84 ulps.
 * Every function handles the whole float range: ±0, subnormal inputs and outputs, ±inf,
 * NaN, the overflow and underflow thresholds. sin and cos reduce by a three-part pi/2 kept
 * as a double-float; |x| > 65536 (and inf/NaN) go through libm's sinf/cosf lane by lane.
 *
 * These need a CPU with AVX2 and FMA: call them only after lz_cpu_simd_available(). They
 * exist only where the AVX2 code is compiled (LZ_HAVE_VMATH: GCC on x86-64; the clang build
 * takes the scalar paths). */
#ifndef LZ_CPU_VMATH_H
#define LZ_CPU_VMATH_H

#include "cpu.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LZ_HAVE_VMATH 1
#include <immintrin.h>

/* o[i] = f(x[i]) for i < n: any length and alignment, o may equal x. */
LZ_HIDDEN void lz__vexpf(float *o, const float *x, int64_t n);
LZ_HIDDEN void lz__vexpm1f(float *o, const float *x, int64_t n);
LZ_HIDDEN void lz__vlogf(float *o, const float *x, int64_t n);
LZ_HIDDEN void lz__vlog1pf(float *o, const float *x, int64_t n);
LZ_HIDDEN void lz__vsinf(float *o, const float *x, int64_t n);
LZ_HIDDEN void lz__vcosf(float *o, const float *x, int64_t n);
LZ_HIDDEN void lz__vtanhf(float *o, const float *x, int64_t n);
LZ_HIDDEN void lz__vsigmoidf(float *o, const float *x, int64_t n); /* 1 / (1 + exp(-x)) */
LZ_HIDDEN void lz__verff(float *o, const float *x, int64_t n);

/* The same functions on 8 lanes, for kernels that fuse them into their own loops (softmax,
 * logsumexp, attention, GELU): call them from code compiled for AVX2+FMA. */
#define LZ_VMATH_FN8 __attribute__((visibility("hidden"), target("avx2,fma")))
LZ_VMATH_FN8 __m256 lz__vexpf8(__m256 x);
LZ_VMATH_FN8 __m256 lz__vexpm1f8(__m256 x);
LZ_VMATH_FN8 __m256 lz__vlogf8(__m256 x);
LZ_VMATH_FN8 __m256 lz__vlog1pf8(__m256 x);
LZ_VMATH_FN8 __m256 lz__vsinf8(__m256 x);
LZ_VMATH_FN8 __m256 lz__vcosf8(__m256 x);
LZ_VMATH_FN8 __m256 lz__vtanhf8(__m256 x);
LZ_VMATH_FN8 __m256 lz__vsigmoidf8(__m256 x);
LZ_VMATH_FN8 __m256 lz__verff8(__m256 x);
#endif

#endif /* LZ_CPU_VMATH_H */
