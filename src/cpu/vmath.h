/* Our float32 vector math for AVX2+FMA (cpu/vmath_avx2.c): polynomial kernels used instead
 * of SLEEF's u10 functions where they measured faster (all of these: 1.2x-7x on one core).
 *
 * Max error in ulps (|got - exact| over the spacing of floats at the exact result, 2^-149
 * for subnormal results; measured on every 7th float32 bit pattern, 613M inputs, and asserted
 * with a small margin by tests/test_vmath.c): exp 0.83, expm1 0.78, log 0.83, log1p 0.83,
 * sin 0.68, cos 0.68, tanh 0.77, sigmoid 0.88, erf 0.64. So every function is within 1 ulp,
 * ulps stay meaningful near 0 (tanh, sigmoid, erf keep full relative accuracy for tiny and
 * subnormal x), and the whole float range is handled: ±0 (sign kept by the odd functions),
 * subnormal inputs and outputs, ±inf, NaN, the overflow and underflow thresholds. sin and cos
 * reduce by a three-part pi/2 carried as a double-float; |x| > 65536, inf and NaN lanes go
 * through libm's sinf/cosf. A lane's result never depends on the other lanes.
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

/* exp on 8 lanes for AVX2 code that the clang build compiles too (it includes <sleef.h>):
 * ours with GCC, SLEEF's u10 otherwise. */
#ifdef LZ_HAVE_VMATH
#define LZ_VEXPF8(v) lz__vexpf8(v)
#else
#define LZ_VEXPF8(v) Sleef_expf8_u10avx2(v)
#endif

#endif /* LZ_CPU_VMATH_H */
