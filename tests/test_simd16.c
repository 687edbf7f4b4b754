/* The 16-lane layer under the AVX-512 kernels (cpu/simd16.h) and the kernels only it reaches.
 * Built twice (tests/CMakeLists.txt): test_simd16 checks the AVX2 emulation of the layer,
 * test_simd16_native (LZ_TEST_S16_NATIVE) the real AVX-512 one and exits 77 (skipped) on a
 * CPU without AVX-512. Each layer operation is compared lane by lane, bit for bit, with its
 * scalar definition on random and special values (NaN, ±inf, ±0, subnormals, integer-range
 * edges); masked loads and stores with every tail; the float16/bfloat16 conversions of the
 * AVX-512 table against the scalar conversions over a sweep of all bit patterns; and (emulated
 * build) the 16-lane vector math against the AVX2 build's, bit for bit where they run the
 * same operations. */
#include <float.h>
#include <limits.h>
#include <stdint.h>

#include "core/isa.h"
#include "cpu/simd16_table.h"
#include "cpu/vmath.h"
#include "lz_test.h"

#ifdef LZ_HAVE_S16

bool lz_cpu_random_use_fma(void); /* cpu/random.c: its FMA variant */

#ifdef LZ_TEST_S16_NATIVE
#define S16_ATTR __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c")))
#define S16_PATH LZ_ISA_AVX512
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c")
#else
#define LZ_S16_EMU 1
#define S16_PATH LZ_ISA_AVX512EMU
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif
#include "cpu/simd16.h"

static uint32_t f2u(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
static float u2f(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint32_t rnd32(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (uint32_t)(rng >> 20);
}

/* Special values half the time, random bit patterns or moderate numbers otherwise. */
static float rnd_float(void) {
  static const float sp[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 1.5f, 2.5f, -2.5f, INFINITY,
                             -INFINITY, NAN, -NAN, 0x1p-149f, -0x1p-149f, 0x1p-126f,
                             0x1.fffffcp-127f, FLT_MAX, -FLT_MAX, 2147483520.0f,
                             2147483648.0f, -2147483648.0f, -2147483904.0f, 16777217.0f, 3.0f};
  uint32_t r = rnd32();
  switch (r & 3) {
  case 0:
  case 1: return sp[(r >> 2) % (sizeof sp / sizeof sp[0])];
  case 2: return u2f(rnd32() ^ (rnd32() << 12));
  default: return ((float)(int)(rnd32() % 20001) - 10000.0f) / 64.0f;
  }
}

static bool same_f(float a, float b) { return f2u(a) == f2u(b) || (a != a && b != b); }

/* x86 min/max: the second operand when either is NaN or both are zero */
static float x86_min(float a, float b) { return a < b ? a : b; }
static float x86_max(float a, float b) { return a > b ? a : b; }
static int32_t x86_cvt(float x) {
  return fabsf(x) < 2147483648.0f ? (int32_t)nearbyintf(x) : INT32_MIN;
}
static int32_t x86_cvtt(float x) {
  return x >= -2147483648.0f && x < 2147483648.0f ? (int32_t)x : INT32_MIN;
}

typedef struct {
  float a[16], b[16], c[16];
  int32_t i[16], j[16];
  M m;
} inputs;

static void fill(inputs *in) {
  for (int k = 0; k < 16; k++) {
    in->a[k] = rnd_float(), in->b[k] = rnd_float(), in->c[k] = rnd_float();
    in->i[k] = (int32_t)(rnd32() ^ (rnd32() << 12)), in->j[k] = (int32_t)rnd32() % 40 - 20;
  }
  in->m = (M)rnd32();
}

static int bad; /* failing lanes, reported once per operation */
static void report(const char *what, int lane, double got, double want) {
  if (bad++ < 5) fprintf(stderr, "  %s lane %d: got %a, want %a\n", what, lane, got, want);
}

#define CHECK_F(NAME, EXPR, REF)                                                                 \
  do {                                                                                           \
    float o[16];                                                                                 \
    STORE(o, EXPR);                                                                              \
    for (int k = 0; k < 16; k++) {                                                               \
      float a = in.a[k], b = in.b[k], c = in.c[k];                                               \
      (void)a, (void)b, (void)c;                                                                 \
      float want = (REF);                                                                        \
      if (!same_f(o[k], want)) report(NAME, k, o[k], want);                                      \
    }                                                                                            \
  } while (0)
#define CHECK_I(NAME, EXPR, REF)                                                                 \
  do {                                                                                           \
    int32_t o[16];                                                                               \
    STORE((float *)o, AS_F(EXPR));                                                               \
    for (int k = 0; k < 16; k++) {                                                               \
      float a = in.a[k];                                                                         \
      int32_t i = in.i[k], j = in.j[k];                                                          \
      (void)a, (void)i, (void)j;                                                                 \
      int32_t want = (REF);                                                                      \
      if (o[k] != want) report(NAME, k, o[k], want);                                             \
    }                                                                                            \
  } while (0)
#define CHECK_M(NAME, EXPR, REF)                                                                 \
  do {                                                                                           \
    M got = (EXPR);                                                                              \
    for (int k = 0; k < 16; k++) {                                                               \
      float a = in.a[k], b = in.b[k];                                                            \
      int32_t i = in.i[k], j = in.j[k];                                                          \
      (void)a, (void)b, (void)i, (void)j;                                                        \
      bool want = (REF);                                                                         \
      if ((got >> k & 1) != want) report(NAME, k, got >> k & 1, want);                           \
    }                                                                                            \
  } while (0)

static const float table8[8] = {10, 11, 12, 13, 14, 15, 16, 17};

/* Every operation of the layer on `rounds` random inputs. */
static void layer_ops(int rounds) {
  bad = 0;
  for (int r = 0; r < rounds; r++) {
    inputs in;
    fill(&in);
    V A = LOAD(in.a), B = LOAD(in.b), C = LOAD(in.c);
    VI I = AS_I(LOAD((const float *)in.i)), J = AS_I(LOAD((const float *)in.j));
    M m = in.m;
    CHECK_F("K", K(in.a[0]), in.a[0]);
    CHECK_F("ADD", ADD(A, B), a + b);
    CHECK_F("SUB", SUB(A, B), a - b);
    CHECK_F("MUL", MUL(A, B), a * b);
    CHECK_F("DIV", DIV(A, B), a / b);
    CHECK_F("MIN", MIN(A, B), x86_min(a, b));
    CHECK_F("MAX", MAX(A, B), x86_max(a, b));
    CHECK_F("SQRT", SQRT(A), sqrtf(a));
    CHECK_F("FMA", FMA(A, B, C), fmaf(a, b, c));
    CHECK_F("FNMA", FNMA(A, B, C), fmaf(-a, b, c));
    CHECK_F("FMS", FMS(A, B, C), fmaf(a, b, -c));
    CHECK_F("AND", AND(A, B), u2f(f2u(a) & f2u(b)));
    CHECK_F("OR", OR(A, B), u2f(f2u(a) | f2u(b)));
    CHECK_F("XOR", XOR(A, B), u2f(f2u(a) ^ f2u(b)));
    CHECK_F("ANDNOT", ANDNOT(A, B), u2f(~f2u(a) & f2u(b)));
    CHECK_F("VABS", VABS(A), fabsf(a));
    CHECK_F("SIGN_OF", SIGN_OF(A), u2f(f2u(a) & 0x80000000u));
    CHECK_I("KI", KI(in.i[0]), in.i[0]);
    CHECK_I("ADDI", ADDI(I, J), (int32_t)((uint32_t)i + (uint32_t)j));
    CHECK_I("SUBI", SUBI(I, J), (int32_t)((uint32_t)i - (uint32_t)j));
    CHECK_I("ANDI", ANDI(I, J), i & j);
    CHECK_I("ORI", ORI(I, J), i | j);
    static const int shifts[] = {0, 1, 16, 23, 31};
    for (int s = 0; s < 5; s++) {
      int n = shifts[s];
      CHECK_I("SLLI", SLLI(I, n), (int32_t)((uint32_t)i << n));
      CHECK_I("SRLI", SRLI(I, n), (int32_t)((uint32_t)i >> n));
      CHECK_I("SRAI", SRAI(I, n), i >> n);
    }
    /* per-lane counts 0..63 (j & 63), 32 and more shift everything out */
    CHECK_I("SRLV", SRLV(I, ANDI(J, KI(63))), (j & 63) > 31 ? 0 : (int32_t)((uint32_t)i >> (j & 63)));
    CHECK_I("SLLV", SLLV(I, ANDI(J, KI(63))), (j & 63) > 31 ? 0 : (int32_t)((uint32_t)i << (j & 63)));
    CHECK_I("PERMI", PERMI(I, J), in.i[in.j[k] & 15]);
    CHECK_I("CVT", CVT(A), x86_cvt(a));
    CHECK_I("CVTT", CVTT(A), x86_cvtt(a));
    CHECK_F("CVTIF", CVTIF(I), (float)in.i[k]);
    CHECK_M("CMP EQ_OQ", CMP(A, B, _CMP_EQ_OQ), a == b);
    CHECK_M("CMP NEQ_UQ", CMP(A, B, _CMP_NEQ_UQ), !(a == b));
    CHECK_M("CMP LT_OQ", CMP(A, B, _CMP_LT_OQ), a < b);
    CHECK_M("CMP GE_OQ", CMP(A, B, _CMP_GE_OQ), a >= b);
    CHECK_M("CMP GT_OQ", CMP(A, B, _CMP_GT_OQ), a > b);
    CHECK_M("CMP NLE_UQ", CMP(A, B, _CMP_NLE_UQ), !(a <= b));
    CHECK_M("CMP NGE_UQ", CMP(A, B, _CMP_NGE_UQ), !(a >= b));
    CHECK_M("CMP UNORD_Q", CMP(A, B, _CMP_UNORD_Q), a != a || b != b);
    CHECK_M("ISNAN", ISNAN(A), a != a);
    CHECK_M("CMPEQI", CMPEQI(ANDI(I, KI(3)), ANDI(J, KI(3))), (i & 3) == (j & 3));
    CHECK_F("BLEND", BLEND(m, A, B), m >> k & 1 ? b : a);
    CHECK_F("MASKZ", MASKZ(m, A), m >> k & 1 ? a : 0.0f);
    CHECK_I("BLENDI", BLENDI(m, I, J), m >> k & 1 ? j : i);
    CHECK_F("PERM8", PERM8(table8, I), table8[in.i[k] & 7]);
    /* the sum in lane order, in double */
    double want = 0;
    for (int k = 0; k < 16; k++) want += in.a[k];
    double got = s16_hsum_d(A);
    if (!(got == want || (got != got && want != want))) report("hsum_d", 0, got, want);
  }
  CHECK(bad == 0);
}

/* Masked loads and stores: lanes outside the mask read 0 and leave memory alone; TAIL. */
static void layer_memory(void) {
  bad = 0;
  float src[16], dst[16];
  uint16_t h[16], hd[16];
  for (int k = 0; k < 16; k++) src[k] = (float)(k + 1), h[k] = (uint16_t)(0x3c00 + 37 * k);
  for (int t = 0; t <= 20; t++) {
    M tm = TAIL(t);
    if (tm != (t >= 16 ? 0xffff : (1u << t) - 1)) report("TAIL", t, tm, t);
  }
  for (int r = 0; r < 600; r++) {
    M m = (M)(r < 17 ? TAIL(r) : rnd32());
    float o[16];
    STORE(o, LOADZ(m, src));
    for (int k = 0; k < 16; k++)
      if (o[k] != (m >> k & 1 ? src[k] : 0.0f)) report("LOADZ", k, o[k], src[k]);
    for (int k = 0; k < 16; k++) dst[k] = -1.0f;
    STOREM(dst, m, LOAD(src));
    for (int k = 0; k < 16; k++)
      if (dst[k] != (m >> k & 1 ? src[k] : -1.0f)) report("STOREM", k, dst[k], src[k]);
    uint32_t wi[17], wo[16];
    for (int k = 0; k < 17; k++) wi[k] = rnd32();
    STORE((float *)wo, AS_F(LOADI(wi + (r & 1)))); /* unaligned too */
    for (int k = 0; k < 16; k++)
      if (wo[k] != wi[k + (r & 1)]) report("LOADI", k, wo[k], wi[k + (r & 1)]);
    int32_t w[16];
    STORE((float *)w, AS_F(LOADU16(m, h)));
    for (int k = 0; k < 16; k++)
      if (w[k] != (m >> k & 1 ? h[k] : 0)) report("LOADU16", k, w[k], h[k]);
    for (int k = 0; k < 16; k++) hd[k] = 0xdead;
    STOREU16(hd, m, AS_I(LOAD((const float *)w)));
    for (int k = 0; k < 16; k++)
      if (hd[k] != (m >> k & 1 ? h[k] : 0xdead)) report("STOREU16", k, hd[k], h[k]);
    /* float16: every lane converts as the scalar conversion (a NaN stays a NaN) */
    uint16_t hr[16];
    float fr[16];
    for (int k = 0; k < 16; k++) hr[k] = (uint16_t)rnd32(), fr[k] = rnd_float() * 1e-3f;
    STORE(o, LOADH(m, hr));
    for (int k = 0; k < 16; k++) {
      float want = m >> k & 1 ? lz__f16_to_f32(hr[k]) : 0.0f;
      if (!same_f(o[k], want)) report("LOADH", k, o[k], want);
    }
    for (int k = 0; k < 16; k++) hd[k] = 0xdead;
    STOREH(hd, m, LOAD(fr));
    for (int k = 0; k < 16; k++) {
      uint16_t want = m >> k & 1 ? lz__f32_to_f16(fr[k]) : 0xdead;
      bool nan = (want & 0x7c00) == 0x7c00 && (want & 0x3ff) && (hd[k] & 0x7c00) == 0x7c00 &&
                 (hd[k] & 0x3ff);
      if (hd[k] != want && !nan) report("STOREH", k, hd[k], want);
    }
  }
  CHECK(bad == 0);
}

#pragma GCC pop_options

/* The table's conversions against the scalar ones: every float16/bfloat16 pattern, and every
 * 997th float32 pattern, at lengths that leave every tail. */
static void conversions(const lz_s16_kernels *t) {
  enum { B = 4099 };
  uint16_t *h = malloc(B * 2), *hd = malloc(B * 2);
  float *f = malloc(B * 4);
  bool ok = true;
  for (uint32_t base = 0; base < 65536; base += B) {
    int n = (int)(65536 - base < B ? 65536 - base : B);
    for (int k = 0; k < n; k++) h[k] = (uint16_t)(base + (uint32_t)k);
    t->f16_to_f32(f, h, n);
    for (int k = 0; k < n; k++) ok &= same_f(f[k], lz__f16_to_f32(h[k]));
    t->bf16_to_f32(f, h, n);
    for (int k = 0; k < n; k++) ok &= f2u(f[k]) == f2u(lz__bf16_to_f32(h[k]));
  }
  CHECK(ok);
  void (*to_bf16[2])(uint16_t *, const float *, int64_t) = {t->f32_to_bf16, t->f32_to_bf16_hw};
  bool hw_ok = !!(lz_isa_features() & LZ_ISA_F_AVX512BF16) || t == &lz_s16_emu;
  bool okh = true, okb[2] = {true, true};
  for (uint64_t u = 0; u < (1ull << 32);) {
    int n = 1 + (int)(rnd32() % B);
    for (int k = 0; k < n; k++, u += 997) f[k] = u2f((uint32_t)u);
    t->f32_to_f16(hd, f, n);
    for (int k = 0; k < n; k++) okh &= hd[k] == lz__f32_to_f16(f[k]);
    for (int v = 0; v < 2; v++) {
      if (!to_bf16[v] || (v == 1 && !hw_ok)) continue;
      for (int k = 0; k < n + 1 && k < B; k++) hd[k] = 0xbeef;
      to_bf16[v](hd, f, n);
      for (int k = 0; k < n; k++) okb[v] &= hd[k] == lz__f32_to_bf16(f[k]);
      okb[v] &= n >= B || hd[n] == 0xbeef;
    }
  }
  CHECK(okh);
  CHECK(okb[0]);
  CHECK(okb[1]);
  free(h), free(hd), free(f);
}

/* lz__convert on `path` (AVX2's 8 lanes, or the 16-lane table) against the scalar conversions:
 * every float16/bfloat16 pattern, and a sweep of float32 patterns at every tail length. */
static void convert_on_path(lz_isa path) {
  lz_isa prev = lz_isa_set(path);
  enum { B = 4099 };
  uint16_t *h = malloc(B * 2);
  float *f = malloc(B * 4);
  bool ok[4] = {true, true, true, true};
  for (uint32_t base = 0; base < 65536; base += B) {
    int n = (int)(65536 - base < B ? 65536 - base : B);
    for (int k = 0; k < n; k++) h[k] = (uint16_t)(base + (uint32_t)k);
    lz__convert(f, LZ_FLOAT32, h, LZ_FLOAT16, n);
    for (int k = 0; k < n; k++) ok[0] &= same_f(f[k], lz__f16_to_f32(h[k]));
    lz__convert(f, LZ_FLOAT32, h, LZ_BFLOAT16, n);
    for (int k = 0; k < n; k++) ok[1] &= f2u(f[k]) == f2u(lz__bf16_to_f32(h[k]));
  }
  for (uint64_t u = 0; u < (1ull << 32);) {
    int n = 1 + (int)(rnd32() % 40);
    for (int k = 0; k < n; k++, u += 65537) f[k] = u2f((uint32_t)u);
    lz__convert(h, LZ_FLOAT16, f, LZ_FLOAT32, n);
    for (int k = 0; k < n; k++) ok[2] &= h[k] == lz__f32_to_f16(f[k]);
    lz__convert(h, LZ_BFLOAT16, f, LZ_FLOAT32, n);
    for (int k = 0; k < n; k++) ok[3] &= h[k] == lz__f32_to_bf16(f[k]);
  }
  for (int c = 0; c < 4; c++) {
    CHECK(ok[c]);
    if (!ok[c]) fprintf(stderr, "  %s path: conversion %d differs\n", lz_isa_name(path), c);
  }
  free(h), free(f);
  lz_isa_set(prev);
}

static void test_convert_paths(void) {
  convert_on_path(LZ_ISA_AVX2);
  convert_on_path(S16_PATH);
}

#ifndef LZ_TEST_S16_NATIVE
/* The emulated 16-lane vector math gives the AVX2 build's bits (log1p and sigmoid divide
 * where AVX2 multiplies by an approximate reciprocal: within one ulp of it there). */
static void vmath_matches_avx2(void) {
  static const int ops[] = {LZ_VEC_EXP, LZ_VEC_EXPM1, LZ_VEC_LOG, LZ_VEC_LOG1P, LZ_VEC_SIN,
                            LZ_VEC_COS, LZ_VEC_TANH, LZ_VEC_SIGMOID, LZ_VEC_ERF};
  lz_isa prev = lz_isa_set(LZ_ISA_AVX2);
  lz_cpu_vec_fn avx2[9];
  for (int k = 0; k < 9; k++) avx2[k] = lz_cpu_vec_unary(ops[k]);
  lz_isa_set(prev);
  enum { B = 4096 };
  float *x = malloc(B * 4), *y = malloc(B * 4), *z = malloc(B * 4);
  for (int k = 0; k < 9; k++) {
    int op = ops[k], differ = 0;
    bool exact = op != LZ_VEC_LOG1P && op != LZ_VEC_SIGMOID, ok = avx2[k] != NULL;
    for (uint64_t u = 0; ok && u < (1ull << 32);) {
      int n = 0;
      for (; n < B && u < (1ull << 32); n++, u += 8191) x[n] = u2f((uint32_t)u);
      avx2[k](y, x, n);
      lz_s16_emu.unary[op](z, x, n);
      for (int i = 0; i < n; i++) {
        if (same_f(y[i], z[i])) continue;
        differ++;
        uint32_t a = f2u(y[i]), b = f2u(z[i]);
        ok &= !exact && (a - b + 1u) <= 2u; /* adjacent floats */
      }
    }
    CHECK(ok);
    if (!ok || differ) printf("  vec op %d: %d of 524289 differ from AVX2\n", op, differ);
  }
  free(x), free(y), free(z);
}
#endif

static void test_layer(void) {
  layer_ops(3000);
  layer_memory();
}

static void test_conversions(void) { conversions(lz_s16_for(S16_PATH)); }

/* The path switch: each path gives its own table; LZ_CPU's choice is the default, and on the
 * scalar path no kernel family takes a vector path. */
static void test_dispatch(void) {
  const char *env = getenv("LZ_CPU");
  if (env && strcmp(env, "scalar") == 0) {
    CHECK(lz_isa_default() == LZ_ISA_SCALAR && lz_isa_path() == LZ_ISA_SCALAR);
    CHECK(lz_cpu_vec_unary(LZ_VEC_EXP) == NULL && lz_cpu_vec_binary(LZ_VEC_POW) == NULL);
    CHECK(!lz_cpu_random_use_fma() && lz_s16_current() == NULL);
  } else if (env && strcmp(env, "avx2") == 0) {
    CHECK(lz_isa_default() == LZ_ISA_AVX2 && lz_s16_current() == NULL);
  } else if (env && strcmp(env, "avx512emu") == 0) {
    CHECK(lz_isa_default() == LZ_ISA_AVX512EMU && lz_s16_current() == &lz_s16_emu);
    CHECK(lz_cpu_red_kernels() == &lz_s16_emu.red);
  } else if (!env) {
    CHECK(lz_isa_default() ==
          (lz_isa_supported(LZ_ISA_AVX512) ? LZ_ISA_AVX512 : LZ_ISA_AVX2));
  }
  lz_isa prev = lz_isa_set(S16_PATH);
  CHECK(lz_isa_path() == S16_PATH);
  CHECK(lz_cpu_vec_unary(LZ_VEC_EXP) == lz_s16_for(S16_PATH)->unary[LZ_VEC_EXP]);
  lz_isa_set(LZ_ISA_SCALAR);
  CHECK(lz_cpu_vec_unary(LZ_VEC_EXP) == NULL && lz_s16_current() == NULL);
  lz_isa_set(LZ_ISA_AVX512);
  CHECK(lz_isa_path() == (lz_isa_supported(LZ_ISA_AVX512) ? LZ_ISA_AVX512 : LZ_ISA_AVX2));
  CHECK(lz_cpu_set_simd(false) && lz_isa_path() == LZ_ISA_SCALAR);
  lz_cpu_set_simd(true);
  CHECK(lz_isa_path() == lz_isa_default());
  lz_isa_set(prev);
}

int main(void) {
  if (!lz_isa_supported(S16_PATH)) {
    printf("skipped: this CPU cannot run the %s path\n", lz_isa_name(S16_PATH));
    return 77;
  }
  /* LZ_CPU runs check the choice of path; the rest does not depend on it */
  if (getenv("LZ_CPU")) {
    RUN(test_dispatch);
    return lzt_summary();
  }
  RUN(test_layer);
  RUN(test_conversions);
  RUN(test_convert_paths);
#ifndef LZ_TEST_S16_NATIVE
  RUN(vmath_matches_avx2);
#endif
  RUN(test_dispatch);
  return lzt_summary();
}

#else
int main(void) {
  printf("skipped: no 16-lane kernels in this build\n");
  return 77;
}
#endif
