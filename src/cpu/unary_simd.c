/* The SIMD layer of the float32 math, chosen at run time so the library still runs on CPUs
 * without AVX2 (the scalar libm paths in cpu/unary_math.c are always built): our own kernels
 * (cpu/vmath_avx2.c) for exp, expm1, log, log1p, sin, cos, tanh, sigmoid and erf, where they
 * measured faster than SLEEF at below 1 ulp; SLEEF's AVX2 u10 functions (within 1 ulp) for
 * the rest. Tails shorter than a vector go through a padded block, so any length and
 * alignment work and every element sees the same function. On the AVX-512 paths (core/isa.h)
 * the 16-lane table of cpu/simd16_kernels.h is used instead. */
#include "simd16_table.h"
#include "unary.h"
#include "vmath.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) /* clang: scalar path */
#define LZ_HAVE_AVX2_PATH 1

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#include <immintrin.h>
#include <sleef.h>

/* o[i] = EXPR(v) over 8-lane vectors v. */
#define VEC1(NAME, EXPR)                                                                         \
  static void NAME(float *o, const float *x, int64_t n) {                                        \
    int64_t i = 0;                                                                               \
    for (; i + 8 <= n; i += 8) {                                                                 \
      __m256 v = _mm256_loadu_ps(x + i);                                                         \
      _mm256_storeu_ps(o + i, EXPR);                                                             \
    }                                                                                            \
    if (i < n) {                                                                                 \
      float buf[8] = {0};                                                                        \
      memcpy(buf, x + i, (size_t)(n - i) * sizeof(float));                                       \
      __m256 v = _mm256_loadu_ps(buf);                                                           \
      _mm256_storeu_ps(buf, EXPR);                                                               \
      memcpy(o + i, buf, (size_t)(n - i) * sizeof(float));                                       \
    }                                                                                            \
  }
#define VEC2(NAME, EXPR)                                                                         \
  static void NAME(float *o, const float *x, const float *y, int64_t n) {                        \
    int64_t i = 0;                                                                               \
    for (; i + 8 <= n; i += 8) {                                                                 \
      __m256 v = _mm256_loadu_ps(x + i), w = _mm256_loadu_ps(y + i);                             \
      _mm256_storeu_ps(o + i, EXPR);                                                             \
    }                                                                                            \
    if (i < n) {                                                                                 \
      float bx[8] = {0}, by[8] = {0};                                                            \
      memcpy(bx, x + i, (size_t)(n - i) * sizeof(float));                                        \
      memcpy(by, y + i, (size_t)(n - i) * sizeof(float));                                        \
      __m256 v = _mm256_loadu_ps(bx), w = _mm256_loadu_ps(by);                                   \
      _mm256_storeu_ps(bx, EXPR);                                                                \
      memcpy(o + i, bx, (size_t)(n - i) * sizeof(float));                                        \
    }                                                                                            \
  }

#define ONE _mm256_set1_ps(1.0f)
VEC1(v_sqrt, _mm256_sqrt_ps(v))
VEC1(v_rsqrt, _mm256_div_ps(ONE, _mm256_sqrt_ps(v))) /* exact division, not rsqrt_ps */
VEC1(v_reciprocal, _mm256_div_ps(ONE, v))
VEC1(v_log2, Sleef_log2f8_u10avx2(v))
VEC1(v_log10, Sleef_log10f8_u10avx2(v))
VEC1(v_tan, Sleef_tanf8_u10avx2(v))
VEC1(v_asin, Sleef_asinf8_u10avx2(v))
VEC1(v_acos, Sleef_acosf8_u10avx2(v))
VEC1(v_atan, Sleef_atanf8_u10avx2(v))
VEC1(v_sinh, Sleef_sinhf8_u10avx2(v))
VEC1(v_cosh, Sleef_coshf8_u10avx2(v))
VEC1(v_asinh, Sleef_asinhf8_u10avx2(v))
VEC1(v_acosh, Sleef_acoshf8_u10avx2(v))
VEC1(v_atanh, Sleef_atanhf8_u10avx2(v))
VEC2(v_pow, Sleef_powf8_u10avx2(v, w))
VEC2(v_atan2, Sleef_atan2f8_u10avx2(v, w))

#pragma GCC pop_options

static const lz_cpu_vec_fn avx2_unary[LZ_VEC_COUNT] = {
    [LZ_VEC_SQRT] = v_sqrt,   [LZ_VEC_RSQRT] = v_rsqrt, [LZ_VEC_RECIPROCAL] = v_reciprocal,
    [LZ_VEC_EXP] = lz__vexpf, [LZ_VEC_EXPM1] = lz__vexpm1f, [LZ_VEC_LOG] = lz__vlogf,
    [LZ_VEC_LOG2] = v_log2,   [LZ_VEC_LOG10] = v_log10, [LZ_VEC_LOG1P] = lz__vlog1pf,
    [LZ_VEC_SIN] = lz__vsinf, [LZ_VEC_COS] = lz__vcosf, [LZ_VEC_TAN] = v_tan,
    [LZ_VEC_ASIN] = v_asin,   [LZ_VEC_ACOS] = v_acos,   [LZ_VEC_ATAN] = v_atan,
    [LZ_VEC_SINH] = v_sinh,   [LZ_VEC_COSH] = v_cosh,   [LZ_VEC_TANH] = lz__vtanhf,
    [LZ_VEC_ASINH] = v_asinh, [LZ_VEC_ACOSH] = v_acosh, [LZ_VEC_ATANH] = v_atanh,
    [LZ_VEC_SIGMOID] = lz__vsigmoidf, [LZ_VEC_ERF] = lz__verff,
};
static const lz_cpu_vec2_fn avx2_binary[LZ_VEC2_COUNT] = {[LZ_VEC_POW] = v_pow,
                                                          [LZ_VEC_ATAN2] = v_atan2};
#endif

bool lz_cpu_simd_available(void) { return lz_isa_supported(LZ_ISA_AVX2); }

bool lz_cpu_set_simd(bool on) {
  return lz_isa_set(on ? lz_isa_default() : LZ_ISA_SCALAR) != LZ_ISA_SCALAR;
}

lz_cpu_vec_fn lz_cpu_vec_unary(int op) {
  if (op < 0 || op >= LZ_VEC_COUNT) return NULL;
  lz_isa path = lz_isa_path();
  const lz_s16_kernels *t = lz_s16_for(path);
  if (t) return t->unary[op];
#ifdef LZ_HAVE_AVX2_PATH
  if (path >= LZ_ISA_AVX2) return avx2_unary[op];
#endif
  return NULL;
}

lz_cpu_vec2_fn lz_cpu_vec_binary(int op) {
  if (op < 0 || op >= LZ_VEC2_COUNT) return NULL;
  lz_isa path = lz_isa_path();
  const lz_s16_kernels *t = lz_s16_for(path);
  if (t) return t->binary[op];
#ifdef LZ_HAVE_AVX2_PATH
  if (path >= LZ_ISA_AVX2) return avx2_binary[op];
#endif
  return NULL;
}
