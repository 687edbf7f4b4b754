/* Float math kernels: the constructor casts integer inputs to float32, so every op has loops
 * for float16, bfloat16, float32 and float64. float32 runs go through one contiguous-array
 * function per op (SLEEF's vector version when the CPU has one, else libm); strided float32
 * and the half types are staged through a small float32 block (widened and rounded back with
 * the vector conversions, cpu/half_block.h), so they take the same path.
 * float64 uses libm. */
#include <math.h>

#include "half_block.h"
#include "unary.h"

enum { BLOCK = LZ_HALF_BLOCK };
typedef void (*f32_array_fn)(float *o, const float *x, int64_t n);

/* Runs f over one run of input dtype `dt` (float32, float16 or bfloat16; output alike). */
static void run_f32(f32_array_fn f, lz_dtype dt, int64_t n, char **p, const int64_t *s) {
  if (dt == LZ_FLOAT32 && s[0] == 4 && s[1] == 4) {
    f((float *)p[0], (const float *)p[1], n);
    return;
  }
  _Alignas(64) float buf[BLOCK];
  for (int64_t i = 0; i < n; i += BLOCK) {
    int64_t m = n - i < BLOCK ? n - i : BLOCK;
    const char *src = p[1] + i * s[1];
    char *dst = p[0] + i * s[0];
    if (dt == LZ_FLOAT32) {
      for (int64_t j = 0; j < m; j++) buf[j] = *(const float *)(src + j * s[1]);
    } else {
      lz_cpu_half_load(buf, dt, src, s[1], m);
    }
    f(buf, buf, m);
    if (dt == LZ_FLOAT32) {
      for (int64_t j = 0; j < m; j++) *(float *)(dst + j * s[0]) = buf[j];
    } else {
      lz_cpu_half_store(dst, s[0], dt, buf, m);
    }
  }
}

/* One op: EF is the float32 expression of `v`, ED the float64 one, VEC its vector op. */
#define FMATH(NAME, VEC, EF, ED)                                                                 \
  static void NAME##_array(float *o, const float *x, int64_t n) {                                \
    lz_cpu_vec_fn vf = lz_cpu_vec_unary(VEC);                                                    \
    if (vf) {                                                                                    \
      vf(o, x, n);                                                                               \
      return;                                                                                    \
    }                                                                                            \
    for (int64_t i = 0; i < n; i++) {                                                            \
      float v = x[i];                                                                            \
      o[i] = (EF);                                                                               \
    }                                                                                            \
  }                                                                                              \
  static void NAME##_f32(void *ctx, int64_t n, char **p, const int64_t *s) {                     \
    (void)ctx;                                                                                   \
    run_f32(NAME##_array, LZ_FLOAT32, n, p, s);                                                  \
  }                                                                                              \
  static void NAME##_f16(void *ctx, int64_t n, char **p, const int64_t *s) {                     \
    (void)ctx;                                                                                   \
    run_f32(NAME##_array, LZ_FLOAT16, n, p, s);                                                  \
  }                                                                                              \
  static void NAME##_bf16(void *ctx, int64_t n, char **p, const int64_t *s) {                    \
    (void)ctx;                                                                                   \
    run_f32(NAME##_array, LZ_BFLOAT16, n, p, s);                                                 \
  }                                                                                              \
  static void NAME##_f64(void *ctx, int64_t n, char **p, const int64_t *s) {                     \
    (void)ctx;                                                                                   \
    char *po = p[0];                                                                             \
    const char *pi = p[1];                                                                       \
    for (int64_t i = 0; i < n; i++, po += s[0], pi += s[1]) {                                    \
      double v = *(const double *)pi;                                                            \
      *(double *)po = (ED);                                                                      \
    }                                                                                            \
  }                                                                                              \
  const lz_cpu_inner_fn lz_cpu_##NAME##_loops[LZ_DTYPE_COUNT] = {                                \
      [LZ_FLOAT16] = NAME##_f16, [LZ_BFLOAT16] = NAME##_bf16, [LZ_FLOAT32] = NAME##_f32,         \
      [LZ_FLOAT64] = NAME##_f64};

FMATH(sqrt, LZ_VEC_SQRT, sqrtf(v), sqrt(v))
FMATH(rsqrt, LZ_VEC_RSQRT, 1.0f / sqrtf(v), 1.0 / sqrt(v))
FMATH(reciprocal, LZ_VEC_RECIPROCAL, 1.0f / v, 1.0 / v)
FMATH(exp, LZ_VEC_EXP, expf(v), exp(v))
FMATH(expm1, LZ_VEC_EXPM1, expm1f(v), expm1(v))
FMATH(log, LZ_VEC_LOG, logf(v), log(v))
FMATH(log2, LZ_VEC_LOG2, log2f(v), log2(v))
FMATH(log10, LZ_VEC_LOG10, log10f(v), log10(v))
FMATH(log1p, LZ_VEC_LOG1P, log1pf(v), log1p(v))
FMATH(sin, LZ_VEC_SIN, sinf(v), sin(v))
FMATH(cos, LZ_VEC_COS, cosf(v), cos(v))
FMATH(tan, LZ_VEC_TAN, tanf(v), tan(v))
FMATH(arcsin, LZ_VEC_ASIN, asinf(v), asin(v))
FMATH(arccos, LZ_VEC_ACOS, acosf(v), acos(v))
FMATH(arctan, LZ_VEC_ATAN, atanf(v), atan(v))
FMATH(sinh, LZ_VEC_SINH, sinhf(v), sinh(v))
FMATH(cosh, LZ_VEC_COSH, coshf(v), cosh(v))
FMATH(tanh, LZ_VEC_TANH, tanhf(v), tanh(v))
FMATH(arcsinh, LZ_VEC_ASINH, asinhf(v), asinh(v))
FMATH(arccosh, LZ_VEC_ACOSH, acoshf(v), acosh(v))
FMATH(arctanh, LZ_VEC_ATANH, atanhf(v), atanh(v))
FMATH(sigmoid, LZ_VEC_SIGMOID, 1.0f / (1.0f + expf(-v)), 1.0 / (1.0 + exp(-v)))
FMATH(erf, LZ_VEC_ERF, erff(v), erf(v))
FMATH(erfinv, LZ_VEC_NONE, (float)lz_cpu_erfinv(v), lz_cpu_erfinv(v))

/* erfinv: Giles' single-precision approximation ("Approximating the erfinv function", 2010)
 * as a start, then two Newton steps on erf (or on erfc for |y| > 0.5, where 1 - |y| is exact)
 * in double, which brings it to double accuracy. */
double lz_cpu_erfinv(double y) {
  if (y != y || y < -1 || y > 1) return NAN;
  if (y == 1) return INFINITY;
  if (y == -1) return -INFINITY;
  double a = fabs(y);
  double w = -log((1.0 - a) * (1.0 + a)), x;
  if (w < 5.0) {
    w -= 2.5;
    x = 2.81022636e-08;
    x = 3.43273939e-07 + x * w;
    x = -3.5233877e-06 + x * w;
    x = -4.39150654e-06 + x * w;
    x = 0.00021858087 + x * w;
    x = -0.00125372503 + x * w;
    x = -0.00417768164 + x * w;
    x = 0.246640727 + x * w;
    x = 1.50140941 + x * w;
  } else {
    w = sqrt(w) - 3.0;
    x = -0.000200214257;
    x = 0.000100950558 + x * w;
    x = 0.00134934322 + x * w;
    x = -0.00367342844 + x * w;
    x = 0.00573950773 + x * w;
    x = -0.0076224613 + x * w;
    x = 0.00943887047 + x * w;
    x = 1.00167406 + x * w;
    x = 2.83297682 + x * w;
  }
  x *= a;
  const double two_over_sqrt_pi = 1.1283791670955126;
  for (int it = 0; it < 2; it++) {
    double err = a > 0.5 ? -(erfc(x) - (1.0 - a)) : erf(x) - a;
    double d = two_over_sqrt_pi * exp(-x * x);
    if (d == 0) break;
    x -= err / d;
  }
  return y < 0 ? -x : x;
}
