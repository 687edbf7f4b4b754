/* Our float32 vector math against float64 libm, on the kernel path LZ_CPU selects (the AVX2
 * build, cpu/vmath_avx2.c, or the 16-lane AVX-512 one, cpu/simd16_vmath.h, native or
 * emulated; nothing on the scalar path): a strided sweep over every float32 bit pattern, every float in the ranges where each function's reduction changes
 * regime, and random floats, with the max ulp error asserted per function; special values
 * (±0, subnormals, ±inf, NaN, overflow/underflow thresholds, large sin/cos arguments); odd
 * lengths, unaligned and in-place arrays; the 8-lane entry points; and the dispatch of the
 * lz_ ops to these kernels. LZ_VMATH_FULL=1 checks every float32 (minutes; for development). */
#include <float.h>
#include <stdint.h>

#include "core/isa.h"
#include "cpu/unary.h"
#include "cpu/vmath.h"
#include "lz_test.h"
#include "test_elementwise_util.h"

#ifdef LZ_HAVE_VMATH

typedef void (*vm_fn)(float *o, const float *x, int64_t n);
typedef __m256 (*vm_fn8)(__m256 x);

static double sigmoid_ref(double x) { return 1 / (1 + exp(-x)); }

/* bound: the asserted max ulp error (measured over all floats, rounded up); dense: the first
 * of 2^20 consecutive floats checked one by one, across a point where the reduction changes
 * regime (a new n, an interval edge, subnormal results). */
typedef struct {
  const char *name;
  vm_fn f8_array; /* the AVX2 build's array function, beside its 8-lane one */
  vm_fn8 f8;
  int vop; /* LZ_VEC_*: the function under test is the current path's */
  double (*ref)(double);
  double bound;
  float dense;
  lz_array *(*op)(lz_array *);
} vm_case;

static const vm_case cases_init[] = {
    {"exp", lz__vexpf, lz__vexpf8, LZ_VEC_EXP, exp, 0.9, 0.33f, lz_exp},
    {"expm1", lz__vexpm1f, lz__vexpm1f8, LZ_VEC_EXPM1, expm1, 0.85, -0.33f, lz_expm1},
    {"log", lz__vlogf, lz__vlogf8, LZ_VEC_LOG, log, 0.9, 1.3f, lz_log},
    {"log1p", lz__vlog1pf, lz__vlog1pf8, LZ_VEC_LOG1P, log1p, 0.9, 0.32f, lz_log1p},
    {"sin", lz__vsinf, lz__vsinf8, LZ_VEC_SIN, sin, 0.75, 0.75f, lz_sin},
    {"cos", lz__vcosf, lz__vcosf8, LZ_VEC_COS, cos, 0.75, -0.75f, lz_cos},
    {"tanh", lz__vtanhf, lz__vtanhf8, LZ_VEC_TANH, tanh, 0.85, -0.54f, lz_tanh},
    {"sigmoid", lz__vsigmoidf, lz__vsigmoidf8, LZ_VEC_SIGMOID, sigmoid_ref, 0.95, -87.5f, lz_sigmoid},
    {"erf", lz__verff, lz__verff8, LZ_VEC_ERF, erf, 0.7, 0.48f, lz_erf},
};
enum { NCASES = sizeof cases_init / sizeof cases_init[0], BLK = 4096 };

/* The cases with f set to the current path's function (NULL on the scalar path). */
typedef struct {
  vm_case c;
  vm_fn f;
} vm_cur;
static vm_cur cases[NCASES];
static bool path_has_vmath(void) {
  for (int k = 0; k < NCASES; k++) {
    cases[k].c = cases_init[k];
    cases[k].f = lz_cpu_vec_unary(cases_init[k].vop);
  }
  return cases[0].f != NULL;
}

/* Ulps as lzt_ulps counts them, and 0 where float64's result overflows float32 and we give
 * the same infinity. */
static double vm_ulps(float got, double ref) {
  if (isinf((float)ref) && !isinf(ref)) return got == (float)ref ? 0 : INFINITY;
  return lzt_ulps(got, ref);
}

static float from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

typedef struct {
  double worst;
  float at;
} vm_err;

static void vm_block(const vm_cur *c, const float *x, float *y, int n, vm_err *e) {
  c->f(y, x, n);
  for (int i = 0; i < n; i++) {
    double u = vm_ulps(y[i], c->c.ref((double)x[i]));
    if (!(u <= e->worst)) e->worst = u, e->at = x[i];
  }
}

static void vm_report(const vm_case *c, const char *what, vm_err e) {
  if (!(e.worst <= c->bound)) fprintf(stderr, "[%s path] ", lz_isa_name(lz_isa_path()));
  lzt_checks++;
  if (!(e.worst <= c->bound)) {
    lzt_failures++;
    fprintf(stderr, "%s (%s): %.3f ulps at x = %a, bound %.2f\n", c->name, what, e.worst,
            (double)e.at, c->bound);
  }
}

/* Every 4093rd bit pattern (all signs, exponents, subnormals, inf and NaN), 2^20 consecutive
 * floats, and 2^20 random bit patterns. */
static void test_vmath_sweeps(void) {
  if (!path_has_vmath()) return;
  const char *full = getenv("LZ_VMATH_FULL");
  uint64_t stride = full && full[0] == '1' ? 1 : 4093;
  float *x = malloc(BLK * sizeof(float)), *y = malloc(BLK * sizeof(float));
  for (int k = 0; k < NCASES; k++) {
    const vm_cur *cur = &cases[k];
    const vm_case *c = &cur->c;
    vm_err all = {0, 0}, dense = {0, 0}, rnd = {0, 0};
    for (uint64_t b = 0; b < (1ull << 32);) {
      int m = 0;
      for (; m < BLK && b < (1ull << 32); m++, b += stride) x[m] = from_bits((uint32_t)b);
      vm_block(cur, x, y, m, &all);
    }
    uint32_t u;
    memcpy(&u, &c->dense, 4);
    for (int blk = 0; blk < (1 << 20) / BLK; blk++) {
      for (int i = 0; i < BLK; i++) x[i] = from_bits(u++);
      vm_block(cur, x, y, BLK, &dense);
    }
    uint64_t s = 0x9e3779b97f4a7c15ull ^ (uint64_t)k;
    for (int blk = 0; blk < (1 << 20) / BLK; blk++) {
      for (int i = 0; i < BLK; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        x[i] = from_bits((uint32_t)(s >> 16));
      }
      vm_block(cur, x, y, BLK, &rnd);
    }
    vm_report(c, stride == 1 ? "every float" : "strided sweep", all);
    vm_report(c, "dense range", dense);
    vm_report(c, "random", rnd);
    printf("  %-8s max ulps: sweep %.3f, range %.3f, random %.3f (bound %.2f)\n", c->name,
           all.worst, dense.worst, rnd.worst, c->bound);
  }
  free(x);
  free(y);
}

/* Exact results at the edges: ±0 (sign kept where the function is odd), ±inf, NaN, and the
 * overflow/underflow thresholds; the rest within the bound. */
static void test_vmath_special_values(void) {
  if (!path_has_vmath()) return;
  static const float xs[] = {
      0.0f, -0.0f, 0x1p-149f, -0x1p-149f, 0x1.fffffcp-127f, -0x1p-126f, 0x1p-126f, 1e-30f,
      -1e-30f, 1.0f, -1.0f, 0.5f, -0.5f, INFINITY, -INFINITY, NAN, -NAN, FLT_MAX, -FLT_MAX,
      88.72283f, 88.722839f, 88.7228394f, 89.0f, -87.33654f, -87.336548f, -103.972076f,
      -103.972084f, -104.0f, -150.0f, 88.0f, 88.5f, -17.3287f, -17.5f, -30.0f, 9.01f, -9.1f,
      3.9192f, -3.9375f, 4.0f, 65536.0f, 65536.01f, -65537.0f, 1e5f, 1e10f, 3e38f, -3e38f,
      0x1.921fb6p0f, 0x1.921fb6p1f, 1.0e-7f, -0.999999f, -0.99999994f, 1e-20f, 0x1p-24f,
      0.5625f, -0.5624999f, 0.34657359f, -0.34657359f};
  enum { NX = sizeof xs / sizeof xs[0] };
  float y[NX], y1[1];
  for (int k = 0; k < NCASES; k++) {
    const vm_case *c = &cases[k].c;
    vm_fn f = cases[k].f;
    f(y, xs, NX);
    for (int i = 0; i < NX; i++) {
      double ref = c->ref((double)xs[i]);
      double u = vm_ulps(y[i], ref);
      bool sign_ok = !(ref == 0 && y[i] == 0) || !signbit(ref) == !signbit(y[i]);
      f(y1, xs + i, 1); /* alone in a tail vector: the same result */
      bool same = memcmp(y1, y + i, 4) == 0 || (isnan(y1[0]) && isnan(y[i]));
      CHECK(u <= c->bound && sign_ok && same);
      if (!(u <= c->bound && sign_ok && same))
        fprintf(stderr, "  %s(%a) = %a, want %a\n", c->name, (double)xs[i], (double)y[i], ref);
    }
  }
  /* the values that must be exact */
  float v;
#define EXACT(FN, X, WANT)                                                                       \
  do {                                                                                           \
    float xv = (X);                                                                              \
    FN(&v, &xv, 1);                                                                              \
    CHECK(memcmp(&v, &(float){WANT}, 4) == 0 || (isnan(v) && isnan(WANT)));                      \
  } while (0)
  vm_fn f_exp = cases[0].f, f_expm1 = cases[1].f, f_log = cases[2].f, f_log1p = cases[3].f;
  vm_fn f_sin = cases[4].f, f_cos = cases[5].f, f_tanh = cases[6].f, f_sigmoid = cases[7].f;
  vm_fn f_erf = cases[8].f;
  EXACT(f_exp, 0.0f, 1.0f);
  EXACT(f_exp, -INFINITY, 0.0f);
  EXACT(f_exp, INFINITY, INFINITY);
  EXACT(f_exp, 100.0f, INFINITY);
  EXACT(f_exp, -200.0f, 0.0f);
  EXACT(f_exp, NAN, NAN);
  EXACT(f_expm1, -0.0f, -0.0f);
  EXACT(f_expm1, -INFINITY, -1.0f);
  EXACT(f_expm1, INFINITY, INFINITY);
  EXACT(f_expm1, 0x1p-149f, 0x1p-149f);
  EXACT(f_log, 1.0f, 0.0f);
  EXACT(f_log, 0.0f, -INFINITY);
  EXACT(f_log, -0.0f, -INFINITY);
  EXACT(f_log, -1.0f, NAN);
  EXACT(f_log, -INFINITY, NAN);
  EXACT(f_log, INFINITY, INFINITY);
  EXACT(f_log1p, -1.0f, -INFINITY);
  EXACT(f_log1p, -2.0f, NAN);
  EXACT(f_log1p, -0.0f, -0.0f);
  EXACT(f_log1p, 0x1p-149f, 0x1p-149f);
  EXACT(f_log1p, INFINITY, INFINITY);
  EXACT(f_sin, -0.0f, -0.0f);
  EXACT(f_sin, -0x1p-149f, -0x1p-149f);
  EXACT(f_sin, INFINITY, NAN);
  EXACT(f_cos, 0.0f, 1.0f);
  EXACT(f_cos, -INFINITY, NAN);
  EXACT(f_tanh, -0.0f, -0.0f);
  EXACT(f_tanh, 0x1p-149f, 0x1p-149f);
  EXACT(f_tanh, INFINITY, 1.0f);
  EXACT(f_tanh, -20.0f, -1.0f);
  EXACT(f_sigmoid, 0.0f, 0.5f);
  EXACT(f_sigmoid, INFINITY, 1.0f);
  EXACT(f_sigmoid, -INFINITY, 0.0f);
  EXACT(f_sigmoid, -200.0f, 0.0f);
  EXACT(f_sigmoid, 20.0f, 1.0f);
  EXACT(f_erf, -0.0f, -0.0f);
  EXACT(f_erf, 0x1p-149f, 0x1p-149f);
  EXACT(f_erf, 5.0f, 1.0f);
  EXACT(f_erf, -INFINITY, -1.0f);
  EXACT(f_erf, NAN, NAN);
#undef EXACT
}

/* Any length, any alignment, in place: every element gets what a whole vector gives it (the
 * lanes are independent, so a 16-element block computes the reference). */
static void test_vmath_lengths_alignment(void) {
  if (!path_has_vmath()) return;
  enum { N = 67 };
  float buf[N + 8], x[N], y[N + 8], want[N];
  for (int i = 0; i < N; i++) x[i] = -5.5f + 0.173f * (float)i;
  for (int k = 0; k < NCASES; k++) {
    const vm_case *c = &cases[k].c;
    vm_fn f = cases[k].f;
    for (int i = 0; i < N; i += 16) {
      float in[16] = {0}, out[16];
      for (int j = 0; j < 16 && i + j < N; j++) in[j] = x[i + j];
      f(out, in, 16);
      for (int j = 0; j < 16 && i + j < N; j++) want[i + j] = out[j];
    }
    bool ok = true;
    for (int off = 0; off < 8; off++)
      for (int n = 0; n <= N; n += (n < 17 ? 1 : 25)) {
        memcpy(buf + off, x, sizeof x);
        for (int i = 0; i < N + 8; i++) y[i] = 12345.0f;
        f(y + off, buf + off, n); /* unaligned */
        for (int i = 0; i < n; i++) ok &= memcmp(&y[off + i], &want[i], 4) == 0;
        ok &= n + off >= N + 8 || y[off + n] == 12345.0f; /* nothing written past n */
        f(buf + off, buf + off, n);                       /* in place */
        for (int i = 0; i < n; i++) ok &= memcmp(&buf[off + i], &want[i], 4) == 0;
      }
    CHECK(ok);
    if (!ok) fprintf(stderr, "  %s: lengths/alignment differ\n", c->name);
  }
}

__attribute__((target("avx2,fma"))) static void call8(vm_fn8 f, float *o, const float *x) {
  _mm256_storeu_ps(o, f(_mm256_loadu_ps(x)));
}

/* The AVX2 build's 8-lane entry points (other kernels fuse them) give what its array
 * functions give. */
static void test_vmath_8_lanes(void) {
  if (!lz_cpu_simd_available()) return;
  enum { N = 64 };
  float x[N], y[N], z[8];
  for (int i = 0; i < N; i++) x[i] = -9.7f + 0.31f * (float)i;
  for (int k = 0; k < NCASES; k++) {
    const vm_case *c = &cases_init[k];
    c->f8_array(y, x, N);
    bool ok = true;
    for (int i = 0; i < N; i += 8) {
      call8(c->f8, z, x + i);
      ok &= memcmp(z, y + i, sizeof z) == 0;
    }
    CHECK(ok);
  }
}

/* The lz_ ops run these kernels on float32 when SIMD is on. */
static void test_vmath_dispatch(void) {
  if (!path_has_vmath()) return;
  enum { N = 1003 };
  double xd[N];
  float xf[N], want[N];
  for (int i = 0; i < N; i++) xd[i] = xf[i] = (float)(-3.0 + 6.0 * i / (N - 1));
  int shape[1] = {N};
  lz_array *a = lzt_make(xd, shape, 1, LZ_FLOAT32);
  bool prev = lz_cpu_set_simd(true);
  for (int k = 0; k < NCASES; k++) {
    const vm_case *c = &cases[k].c;
    lz_array *y = c->op(a);
    const float *got = y && lz_eval(y) == 0 ? lz_array_data(y) : NULL;
    cases[k].f(want, xf, N);
    CHECK(got && memcmp(got, want, sizeof want) == 0);
  }
  lz_cpu_set_simd(prev);
}

#else /* no AVX2 path in this build: the scalar paths are tested by test_unary */
static void test_vmath_sweeps(void) {}
static void test_vmath_special_values(void) {}
static void test_vmath_lengths_alignment(void) {}
static void test_vmath_8_lanes(void) {}
static void test_vmath_dispatch(void) {}
#endif

int main(void) {
  RUN(test_vmath_sweeps);
  RUN(test_vmath_special_values);
  RUN(test_vmath_lengths_alignment);
  RUN(test_vmath_8_lanes);
  RUN(test_vmath_dispatch);
  printf("kernel path: %s\n", lz_isa_name(lz_isa_path()));
  return lzt_summary();
}
