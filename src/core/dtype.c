/* Dtypes: sizes, names, MLX's type promotion lattice, and conversions between dtypes. */
#include "internal.h"
#include "isa.h"
#include "../cpu/simd16_table.h"

#include <math.h>

static const size_t dtype_sizes[LZ_DTYPE_COUNT] = {1, 1, 2, 4, 8, 1, 2, 4, 8, 2, 2, 4, 8, 8};
static const char *const dtype_names[LZ_DTYPE_COUNT] = {
    "bool",  "uint8",   "uint16",   "uint32",  "uint64",  "int8",    "int16",
    "int32", "int64",   "float16",  "bfloat16", "float32", "float64", "complex64"};

bool lz__dtype_valid(lz_dtype d) { return (unsigned)d < LZ_DTYPE_COUNT; }
size_t lz_dtype_size(lz_dtype d) { return lz__dtype_valid(d) ? dtype_sizes[d] : 0; }
const char *lz_dtype_name(lz_dtype d) { return lz__dtype_valid(d) ? dtype_names[d] : "invalid"; }

bool lz_dtype_is_float(lz_dtype d) {
  return d == LZ_FLOAT16 || d == LZ_BFLOAT16 || d == LZ_FLOAT32 || d == LZ_FLOAT64;
}
static bool is_unsigned(lz_dtype d) { return d >= LZ_UINT8 && d <= LZ_UINT64; }
static bool is_signed_int(lz_dtype d) { return d >= LZ_INT8 && d <= LZ_INT64; }
bool lz_dtype_is_integer(lz_dtype d) { return is_unsigned(d) || is_signed_int(d); }
bool lz_dtype_is_signed(lz_dtype d) {
  return is_signed_int(d) || lz_dtype_is_float(d) || d == LZ_COMPLEX64;
}

/* Rank of a float type in the lattice: f16 and bf16 are incomparable below f32. */
static int float_rank(lz_dtype d) { return d == LZ_FLOAT64 ? 3 : d == LZ_FLOAT32 ? 2 : 1; }

lz_dtype lz_promote_types(lz_dtype a, lz_dtype b) {
  if (a == b) return a;
  if (a == LZ_COMPLEX64 || b == LZ_COMPLEX64) return LZ_COMPLEX64;
  if (a == LZ_BOOL) return b;
  if (b == LZ_BOOL) return a;
  bool fa = lz_dtype_is_float(a), fb = lz_dtype_is_float(b);
  if (fa && fb) {
    int ra = float_rank(a), rb = float_rank(b);
    if (ra == 1 && rb == 1) return LZ_FLOAT32; /* float16 with bfloat16 */
    return ra >= rb ? a : b;
  }
  if (fa) return a; /* integer with float: the float */
  if (fb) return b;
  if (is_unsigned(a) == is_unsigned(b)) return a > b ? a : b; /* same kind: the wider */
  lz_dtype u = is_unsigned(a) ? a : b, s = is_unsigned(a) ? b : a;
  size_t ub = lz_dtype_size(u), sb = lz_dtype_size(s);
  if (sb > ub) return s;
  switch (u) { /* the next signed type that holds both */
  case LZ_UINT8: return LZ_INT16;
  case LZ_UINT16: return LZ_INT32;
  case LZ_UINT32: return LZ_INT64;
  default: return LZ_FLOAT32; /* uint64 with a signed integer, as MLX does */
  }
}

/* ---- float16 and bfloat16, round to nearest even ---- */

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

float lz__f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  if (exp == 0x1f) /* inf, or a NaN: quieted, as F16C and AVX-512 widen it */
    return u2f(sign | 0x7f800000u | (man << 13) | (man ? 0x400000u : 0));
  if (exp == 0) {
    if (man == 0) return u2f(sign);
    float v = (float)man * 0x1p-24f; /* subnormal */
    return sign ? -v : v;
  }
  return u2f(sign | ((exp + 112) << 23) | (man << 13));
}

uint16_t lz__f32_to_f16(float f) {
  uint32_t u = f2u(f), sign = (u >> 16) & 0x8000;
  uint32_t au = u & 0x7fffffffu;
  if (au >= 0x7f800000u) return (uint16_t)(sign | 0x7c00 | (au > 0x7f800000u ? 0x200 : 0));
  if (au >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); /* rounds to inf */
  if (au < 0x38800000u) {                                     /* subnormal or zero in f16 */
    float v = u2f(au) * 0x1p24f;                              /* exact scaling */
    uint32_t m = (uint32_t)lrintf(v);                         /* round to nearest even */
    return (uint16_t)(sign | m);
  }
  uint32_t exp = (au >> 23) - 112, man = au & 0x7fffff;
  uint32_t r = (exp << 10) | (man >> 13);
  uint32_t rest = man & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (r & 1))) r++;
  return (uint16_t)(sign | r);
}

float lz__bf16_to_f32(uint16_t h) { return u2f((uint32_t)h << 16); }
uint16_t lz__f32_to_bf16(float f) {
  uint32_t u = f2u(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet nan */
  u += 0x7fff + ((u >> 16) & 1);
  return (uint16_t)(u >> 16);
}

/* ---- scalar load/store ---- */

double lz__load_f64(const void *p, lz_dtype d) {
  switch (d) {
  case LZ_BOOL: return *(const uint8_t *)p ? 1.0 : 0.0;
  case LZ_UINT8: return *(const uint8_t *)p;
  case LZ_UINT16: return *(const uint16_t *)p;
  case LZ_UINT32: return *(const uint32_t *)p;
  case LZ_UINT64: return (double)*(const uint64_t *)p;
  case LZ_INT8: return *(const int8_t *)p;
  case LZ_INT16: return *(const int16_t *)p;
  case LZ_INT32: return *(const int32_t *)p;
  case LZ_INT64: return (double)*(const int64_t *)p;
  case LZ_FLOAT16: return lz__f16_to_f32(*(const uint16_t *)p);
  case LZ_BFLOAT16: return lz__bf16_to_f32(*(const uint16_t *)p);
  case LZ_FLOAT32: return *(const float *)p;
  case LZ_FLOAT64: return *(const double *)p;
  case LZ_COMPLEX64: return ((const lz_complex64 *)p)->re;
  default: return 0;
  }
}

int64_t lz__load_i64(const void *p, lz_dtype d) {
  switch (d) {
  case LZ_BOOL: return *(const uint8_t *)p != 0;
  case LZ_UINT8: return *(const uint8_t *)p;
  case LZ_UINT16: return *(const uint16_t *)p;
  case LZ_UINT32: return *(const uint32_t *)p;
  case LZ_UINT64: return (int64_t)*(const uint64_t *)p;
  case LZ_INT8: return *(const int8_t *)p;
  case LZ_INT16: return *(const int16_t *)p;
  case LZ_INT32: return *(const int32_t *)p;
  case LZ_INT64: return *(const int64_t *)p;
  default: {
    double v = lz__load_f64(p, d);
    if (v != v) return 0;
    if (v >= 9223372036854775807.0) return INT64_MAX;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)v;
  }
  }
}

/* Float to integer conversions saturate and send NaN to 0: defined behaviour everywhere. */
#define SAT(T, lo, hi)                                                                           \
  static inline T sat_##T(double v) {                                                            \
    if (v != v) return 0;                                                                        \
    if (v <= (double)(lo)) return (T)(lo);                                                       \
    if (v >= (double)(hi)) return (T)(hi);                                                       \
    return (T)v;                                                                                 \
  }
SAT(uint8_t, 0, UINT8_MAX)
SAT(uint16_t, 0, UINT16_MAX)
SAT(uint32_t, 0, UINT32_MAX)
SAT(int8_t, INT8_MIN, INT8_MAX)
SAT(int16_t, INT16_MIN, INT16_MAX)
SAT(int32_t, INT32_MIN, INT32_MAX)
static inline int64_t sat_int64_t(double v) {
  if (v != v) return 0;
  if (v >= 9223372036854775807.0) return INT64_MAX;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  return (int64_t)v;
}
static inline uint64_t sat_uint64_t(double v) {
  if (v != v || v <= 0) return 0;
  if (v >= 18446744073709551615.0) return UINT64_MAX;
  return (uint64_t)v;
}

void lz__store_f64(void *p, lz_dtype d, double v) {
  switch (d) {
  case LZ_BOOL: *(uint8_t *)p = v != 0; break;
  case LZ_UINT8: *(uint8_t *)p = sat_uint8_t(v); break;
  case LZ_UINT16: *(uint16_t *)p = sat_uint16_t(v); break;
  case LZ_UINT32: *(uint32_t *)p = sat_uint32_t(v); break;
  case LZ_UINT64: *(uint64_t *)p = sat_uint64_t(v); break;
  case LZ_INT8: *(int8_t *)p = sat_int8_t(v); break;
  case LZ_INT16: *(int16_t *)p = sat_int16_t(v); break;
  case LZ_INT32: *(int32_t *)p = sat_int32_t(v); break;
  case LZ_INT64: *(int64_t *)p = sat_int64_t(v); break;
  case LZ_FLOAT16: *(uint16_t *)p = lz__f32_to_f16((float)v); break;
  case LZ_BFLOAT16: *(uint16_t *)p = lz__f32_to_bf16((float)v); break;
  case LZ_FLOAT32: *(float *)p = (float)v; break;
  case LZ_FLOAT64: *(double *)p = v; break;
  case LZ_COMPLEX64: ((lz_complex64 *)p)->re = (float)v, ((lz_complex64 *)p)->im = 0; break;
  default: break;
  }
}

/* ---- bulk conversion: chunks through an int64 or double staging array ---- */

enum { CHUNK = 256 };

static void load_chunk_i64(int64_t *t, const void *s, lz_dtype d, int64_t n) {
  switch (d) {
#define L(DT, T)                                                                                 \
  case DT:                                                                                       \
    for (int64_t i = 0; i < n; i++) t[i] = (int64_t)((const T *)s)[i];                           \
    break;
    L(LZ_UINT8, uint8_t) L(LZ_UINT16, uint16_t) L(LZ_UINT32, uint32_t) L(LZ_UINT64, uint64_t)
    L(LZ_INT8, int8_t) L(LZ_INT16, int16_t) L(LZ_INT32, int32_t) L(LZ_INT64, int64_t)
#undef L
  case LZ_BOOL:
    for (int64_t i = 0; i < n; i++) t[i] = ((const uint8_t *)s)[i] != 0;
    break;
  default: break;
  }
}

static void store_chunk_i64(void *o, lz_dtype d, const int64_t *t, int64_t n) {
  switch (d) {
#define S(DT, T)                                                                                 \
  case DT:                                                                                       \
    for (int64_t i = 0; i < n; i++) ((T *)o)[i] = (T)t[i];                                       \
    break;
    S(LZ_UINT8, uint8_t) S(LZ_UINT16, uint16_t) S(LZ_UINT32, uint32_t) S(LZ_UINT64, uint64_t)
    S(LZ_INT8, int8_t) S(LZ_INT16, int16_t) S(LZ_INT32, int32_t) S(LZ_INT64, int64_t)
#undef S
  case LZ_BOOL:
    for (int64_t i = 0; i < n; i++) ((uint8_t *)o)[i] = t[i] != 0;
    break;
  default: break;
  }
}

static void load_chunk_f64(double *t, const void *s, lz_dtype d, int64_t n) {
  switch (d) {
#define L(DT, T)                                                                                 \
  case DT:                                                                                       \
    for (int64_t i = 0; i < n; i++) t[i] = (double)((const T *)s)[i];                            \
    break;
    L(LZ_UINT8, uint8_t) L(LZ_UINT16, uint16_t) L(LZ_UINT32, uint32_t) L(LZ_UINT64, uint64_t)
    L(LZ_INT8, int8_t) L(LZ_INT16, int16_t) L(LZ_INT32, int32_t) L(LZ_INT64, int64_t)
    L(LZ_FLOAT32, float) L(LZ_FLOAT64, double)
#undef L
  case LZ_BOOL:
    for (int64_t i = 0; i < n; i++) t[i] = ((const uint8_t *)s)[i] != 0;
    break;
  case LZ_FLOAT16:
    for (int64_t i = 0; i < n; i++) t[i] = lz__f16_to_f32(((const uint16_t *)s)[i]);
    break;
  case LZ_BFLOAT16:
    for (int64_t i = 0; i < n; i++) t[i] = lz__bf16_to_f32(((const uint16_t *)s)[i]);
    break;
  case LZ_COMPLEX64:
    for (int64_t i = 0; i < n; i++) t[i] = ((const lz_complex64 *)s)[i].re;
    break;
  default: break;
  }
}

static void store_chunk_f64(void *o, lz_dtype d, const double *t, int64_t n) {
  switch (d) {
#define S(DT, T)                                                                                 \
  case DT:                                                                                       \
    for (int64_t i = 0; i < n; i++) ((T *)o)[i] = sat_##T(t[i]);                                 \
    break;
    S(LZ_UINT8, uint8_t) S(LZ_UINT16, uint16_t) S(LZ_UINT32, uint32_t) S(LZ_UINT64, uint64_t)
    S(LZ_INT8, int8_t) S(LZ_INT16, int16_t) S(LZ_INT32, int32_t) S(LZ_INT64, int64_t)
#undef S
  case LZ_BOOL:
    for (int64_t i = 0; i < n; i++) ((uint8_t *)o)[i] = t[i] != 0;
    break;
  case LZ_FLOAT16:
    for (int64_t i = 0; i < n; i++) ((uint16_t *)o)[i] = lz__f32_to_f16((float)t[i]);
    break;
  case LZ_BFLOAT16:
    for (int64_t i = 0; i < n; i++) ((uint16_t *)o)[i] = lz__f32_to_bf16((float)t[i]);
    break;
  case LZ_FLOAT32:
    for (int64_t i = 0; i < n; i++) ((float *)o)[i] = (float)t[i];
    break;
  case LZ_FLOAT64:
    for (int64_t i = 0; i < n; i++) ((double *)o)[i] = t[i];
    break;
  case LZ_COMPLEX64:
    for (int64_t i = 0; i < n; i++) ((lz_complex64 *)o)[i] = (lz_complex64){(float)t[i], 0};
    break;
  default: break;
  }
}

/* ---- float16 <-> float32 with F16C, bfloat16 <-> float32 with AVX2 (8 lanes at a time),
 * chosen at run time; the AVX-512 paths take cpu/simd16_kernels.h's (16 lanes) ---- */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LZ_F16C 1

__attribute__((target("f16c,avx2"))) static void f16_to_f32_f16c(float *d, const uint16_t *s,
                                                                 int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(d + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + i))));
  for (; i < n; i++) d[i] = lz__f16_to_f32(s[i]);
}

__attribute__((target("f16c,avx2"))) static void f32_to_f16_f16c(uint16_t *d, const float *s,
                                                                 int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(s + i);
    __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    /* The hardware keeps a NaN's payload; the scalar path (and MLX) give the canonical quiet NaN. */
    _mm_storeu_si128((__m128i *)(d + i), h);
    __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
    if (LZ_UNLIKELY(!_mm256_testz_ps(nan, nan)))
      for (int k = 0; k < 8; k++)
        if (s[i + k] != s[i + k]) d[i + k] = lz__f32_to_f16(s[i + k]);
  }
  for (; i < n; i++) d[i] = lz__f32_to_f16(s[i]);
}

/* bfloat16 is the top half of a float32: widening is a shift, narrowing rounds to nearest even
 * on the bits (a NaN keeps its top bits, quieted), as lz__f32_to_bf16. */
__attribute__((target("avx2"))) static void bf16_to_f32_avx2(float *d, const uint16_t *s,
                                                            int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(s + i)));
    _mm256_storeu_si256((__m256i *)(d + i), _mm256_slli_epi32(w, 16));
  }
  for (; i < n; i++) d[i] = lz__bf16_to_f32(s[i]);
}

__attribute__((target("avx2"))) static void f32_to_bf16_avx2(uint16_t *d, const float *s,
                                                            int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(s + i);
    __m256i u = _mm256_castps_si256(v), top = _mm256_srli_epi32(u, 16);
    __m256i bias = _mm256_add_epi32(_mm256_set1_epi32(0x7fff),
                                    _mm256_and_si256(top, _mm256_set1_epi32(1)));
    __m256i r = _mm256_srli_epi32(_mm256_add_epi32(u, bias), 16);
    __m256i q = _mm256_or_si256(top, _mm256_set1_epi32(0x40));
    r = _mm256_blendv_epi8(r, q, _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
    __m128i h = _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    _mm_storeu_si128((__m128i *)(d + i), h);
  }
  for (; i < n; i++) d[i] = lz__f32_to_bf16(s[i]);
}

static bool have_f16c(void) { return lz_isa_path() >= LZ_ISA_AVX2; /* F16C included */ }
#endif

static bool use_simd = true;
void lz__convert_use_simd(bool on) { use_simd = on; }

void lz__convert(void *dst, lz_dtype dd, const void *src, lz_dtype sd, int64_t n) {
  size_t ds = lz_dtype_size(dd), ss = lz_dtype_size(sd);
  if (dd == sd) {
    memcpy(dst, src, (size_t)n * ds);
    return;
  }
  /* Fast paths for the conversions models use most: AVX-512 (16 lanes), F16C (8 lanes). */
  const lz_s16_kernels *k16 = use_simd ? lz_s16_current() : NULL;
  if (k16 && dd == LZ_FLOAT32 && (sd == LZ_FLOAT16 || sd == LZ_BFLOAT16)) {
    (sd == LZ_FLOAT16 ? k16->f16_to_f32 : k16->bf16_to_f32)(dst, src, n);
    return;
  }
  if (k16 && sd == LZ_FLOAT32 && (dd == LZ_FLOAT16 || dd == LZ_BFLOAT16)) {
    if (dd == LZ_FLOAT16) k16->f32_to_f16(dst, src, n);
    else if (k16->f32_to_bf16_hw && (lz_isa_features() & LZ_ISA_F_AVX512BF16 ||
                                      lz_isa_path() == LZ_ISA_AVX512EMU)) /* its model: tests */
      k16->f32_to_bf16_hw(dst, src, n);
    else k16->f32_to_bf16(dst, src, n);
    return;
  }
#ifdef LZ_F16C
  if (use_simd && sd == LZ_FLOAT16 && dd == LZ_FLOAT32 && have_f16c()) {
    f16_to_f32_f16c(dst, src, n);
    return;
  }
  if (use_simd && sd == LZ_FLOAT32 && dd == LZ_FLOAT16 && have_f16c()) {
    f32_to_f16_f16c(dst, src, n);
    return;
  }
  if (use_simd && sd == LZ_BFLOAT16 && dd == LZ_FLOAT32 && have_f16c()) {
    bf16_to_f32_avx2(dst, src, n);
    return;
  }
  if (use_simd && sd == LZ_FLOAT32 && dd == LZ_BFLOAT16 && have_f16c()) {
    f32_to_bf16_avx2(dst, src, n);
    return;
  }
#endif
  if (sd == LZ_FLOAT16 && dd == LZ_FLOAT32) {
    for (int64_t i = 0; i < n; i++) ((float *)dst)[i] = lz__f16_to_f32(((const uint16_t *)src)[i]);
    return;
  }
  if (sd == LZ_FLOAT32 && dd == LZ_FLOAT16) {
    for (int64_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = lz__f32_to_f16(((const float *)src)[i]);
    return;
  }
  if (sd == LZ_BFLOAT16 && dd == LZ_FLOAT32) {
    for (int64_t i = 0; i < n; i++) ((float *)dst)[i] = lz__bf16_to_f32(((const uint16_t *)src)[i]);
    return;
  }
  if (sd == LZ_FLOAT32 && dd == LZ_BFLOAT16) {
    for (int64_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = lz__f32_to_bf16(((const float *)src)[i]);
    return;
  }
  if ((sd == LZ_FLOAT16 || sd == LZ_BFLOAT16) && (dd == LZ_FLOAT16 || dd == LZ_BFLOAT16)) {
    /* float16 <-> bfloat16: both widen exactly to float32, so blocks through float32 round
     * once, as the float64 path below, on the vector conversions */
    float t[CHUNK];
    for (int64_t i = 0; i < n; i += CHUNK) {
      int64_t m = n - i < CHUNK ? n - i : CHUNK;
      lz__convert(t, LZ_FLOAT32, (const uint16_t *)src + i, sd, m);
      lz__convert((uint16_t *)dst + i, dd, t, LZ_FLOAT32, m);
    }
    return;
  }
  bool int_path = !lz_dtype_is_float(sd) && sd != LZ_COMPLEX64 && !lz_dtype_is_float(dd) &&
                  dd != LZ_COMPLEX64;
  const char *s = src;
  char *o = dst;
  for (int64_t i = 0; i < n; i += CHUNK) {
    int64_t m = n - i < CHUNK ? n - i : CHUNK;
    if (int_path) {
      int64_t t[CHUNK];
      load_chunk_i64(t, s + i * (int64_t)ss, sd, m);
      store_chunk_i64(o + i * (int64_t)ds, dd, t, m);
    } else {
      double t[CHUNK];
      load_chunk_f64(t, s + i * (int64_t)ss, sd, m);
      store_chunk_f64(o + i * (int64_t)ds, dd, t, m);
    }
  }
}
