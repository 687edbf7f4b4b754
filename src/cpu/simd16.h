/* The 16-lane float32 vector layer the AVX-512 kernels (cpu/simd16_kernels.h) are written
 * against, in two builds of identical semantics:
 *   - native (cpu/simd16_avx512.c): one __m512 / __m512i / __mmask16 per value;
 *   - emulated (cpu/simd16_emu.c, LZ_S16_EMU): two AVX2 halves (lanes 0-7, 8-15) and the mask
 *     as a 16-bit integer, so the same kernel source runs, and is tested, on AVX2 CPUs.
 * Every operation is one AVX-512 instruction whose result is fully specified by IEEE 754 or
 * by the ISA (add, mul, div, sqrt, fused multiply-add, min/max with x86's NaN rule: the second
 * operand when either is NaN, compares, conversions in the current rounding mode, integer
 * ops), and its emulation is the same instruction on each half, so both builds give the same
 * bits. Approximations whose tables differ between ISAs (rcp14 vs rcp, rsqrt) are left out.
 * Horizontal folds go through memory in a fixed order (s16_hsum_d), never the shuffles of
 * either ISA. tests/test_simd16.c checks each operation of the emulated build against its
 * scalar definition. Include once per translation unit, inside its target pragma. */
#ifndef LZ_CPU_SIMD16_H
#define LZ_CPU_SIMD16_H

#include <immintrin.h>
#include <stdint.h>

#ifdef LZ_S16_EMU
typedef struct {
  __m256 lo, hi;
} V;
typedef struct {
  __m256i lo, hi;
} VI;
#else
typedef __m512 V;
typedef __m512i VI;
#endif
typedef uint16_t M; /* bit k: lane k */

#ifdef LZ_S16_EMU
/* The emulation: f applied to each half. */
#define E1(T, f, a) ((T){f((a).lo), f((a).hi)})
#define E2(T, f, a, b) ((T){f((a).lo, (b).lo), f((a).hi, (b).hi)})
#define E3(T, f, a, b, c) ((T){f((a).lo, (b).lo, (c).lo), f((a).hi, (b).hi, (c).hi)})
/* 8 mask bits as an all-ones/all-zeros vector per lane */
static inline __m256i e_m2v(unsigned m8) {
  const __m256i sel = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)m8), sel), sel);
}
static inline M e_v2m(__m256 lo, __m256 hi) {
  return (M)((unsigned)_mm256_movemask_ps(lo) | (unsigned)_mm256_movemask_ps(hi) << 8);
}
#endif

/* ---- constants, memory ---- */
#ifdef LZ_S16_EMU
static inline V K(float c) { return (V){_mm256_set1_ps(c), _mm256_set1_ps(c)}; }
static inline VI KI(int c) { return (VI){_mm256_set1_epi32(c), _mm256_set1_epi32(c)}; }
static inline V LOAD(const float *p) { return (V){_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
static inline void STORE(float *p, V v) { _mm256_storeu_ps(p, v.lo), _mm256_storeu_ps(p + 8, v.hi); }
/* lanes outside m are 0 and their memory is not touched (no fault past an array's end) */
static inline V LOADZ(M m, const float *p) {
  return (V){_mm256_maskload_ps(p, e_m2v(m & 0xff)), _mm256_maskload_ps(p + 8, e_m2v(m >> 8))};
}
/* 16 int32 (or uint32) lanes */
static inline VI LOADI(const void *p) {
  return (VI){_mm256_loadu_si256((const __m256i *)p), _mm256_loadu_si256((const __m256i *)p + 1)};
}
static inline void STOREM(float *p, M m, V v) {
  _mm256_maskstore_ps(p, e_m2v(m & 0xff), v.lo);
  _mm256_maskstore_ps(p + 8, e_m2v(m >> 8), v.hi);
}
#else
static inline V K(float c) { return _mm512_set1_ps(c); }
static inline VI KI(int c) { return _mm512_set1_epi32(c); }
static inline V LOAD(const float *p) { return _mm512_loadu_ps(p); }
static inline void STORE(float *p, V v) { _mm512_storeu_ps(p, v); }
static inline V LOADZ(M m, const float *p) { return _mm512_maskz_loadu_ps(m, p); }
static inline VI LOADI(const void *p) { return _mm512_loadu_si512(p); }
static inline void STOREM(float *p, M m, V v) { _mm512_mask_storeu_ps(p, m, v); }
#endif
/* the first k lanes, 0 <= k <= 16 */
static inline M TAIL(int64_t k) { return (M)(k >= 16 ? 0xffffu : (1u << k) - 1u); }

/* ---- float arithmetic ---- */
#ifdef LZ_S16_EMU
static inline V ADD(V a, V b) { return E2(V, _mm256_add_ps, a, b); }
static inline V SUB(V a, V b) { return E2(V, _mm256_sub_ps, a, b); }
static inline V MUL(V a, V b) { return E2(V, _mm256_mul_ps, a, b); }
static inline V DIV(V a, V b) { return E2(V, _mm256_div_ps, a, b); }
static inline V MIN(V a, V b) { return E2(V, _mm256_min_ps, a, b); }
static inline V MAX(V a, V b) { return E2(V, _mm256_max_ps, a, b); }
static inline V SQRT(V a) { return E1(V, _mm256_sqrt_ps, a); }
static inline V FMA(V a, V b, V c) { return E3(V, _mm256_fmadd_ps, a, b, c); }   /* a*b + c */
static inline V FNMA(V a, V b, V c) { return E3(V, _mm256_fnmadd_ps, a, b, c); } /* c - a*b */
static inline V FMS(V a, V b, V c) { return E3(V, _mm256_fmsub_ps, a, b, c); }   /* a*b - c */
static inline V AND(V a, V b) { return E2(V, _mm256_and_ps, a, b); }
static inline V OR(V a, V b) { return E2(V, _mm256_or_ps, a, b); }
static inline V XOR(V a, V b) { return E2(V, _mm256_xor_ps, a, b); }
static inline V ANDNOT(V a, V b) { return E2(V, _mm256_andnot_ps, a, b); } /* ~a & b */
#else
static inline V ADD(V a, V b) { return _mm512_add_ps(a, b); }
static inline V SUB(V a, V b) { return _mm512_sub_ps(a, b); }
static inline V MUL(V a, V b) { return _mm512_mul_ps(a, b); }
static inline V DIV(V a, V b) { return _mm512_div_ps(a, b); }
static inline V MIN(V a, V b) { return _mm512_min_ps(a, b); }
static inline V MAX(V a, V b) { return _mm512_max_ps(a, b); }
static inline V SQRT(V a) { return _mm512_sqrt_ps(a); }
static inline V FMA(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
static inline V FNMA(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }
static inline V FMS(V a, V b, V c) { return _mm512_fmsub_ps(a, b, c); }
static inline V AND(V a, V b) { return _mm512_and_ps(a, b); }
static inline V OR(V a, V b) { return _mm512_or_ps(a, b); }
static inline V XOR(V a, V b) { return _mm512_xor_ps(a, b); }
static inline V ANDNOT(V a, V b) { return _mm512_andnot_ps(a, b); }
#endif

/* ---- integers, casts, conversions ---- */
#ifdef LZ_S16_EMU
static inline V AS_F(VI a) { return E1(V, _mm256_castsi256_ps, a); }
static inline VI AS_I(V a) { return E1(VI, _mm256_castps_si256, a); }
static inline VI ADDI(VI a, VI b) { return E2(VI, _mm256_add_epi32, a, b); }
static inline VI SUBI(VI a, VI b) { return E2(VI, _mm256_sub_epi32, a, b); }
static inline VI ANDI(VI a, VI b) { return E2(VI, _mm256_and_si256, a, b); }
static inline VI ORI(VI a, VI b) { return E2(VI, _mm256_or_si256, a, b); }
static inline VI SLLI(VI a, int n) {
  __m128i c = _mm_cvtsi32_si128(n);
  return (VI){_mm256_sll_epi32(a.lo, c), _mm256_sll_epi32(a.hi, c)};
}
static inline VI SRLI(VI a, int n) {
  __m128i c = _mm_cvtsi32_si128(n);
  return (VI){_mm256_srl_epi32(a.lo, c), _mm256_srl_epi32(a.hi, c)};
}
static inline VI SRAI(VI a, int n) {
  __m128i c = _mm_cvtsi32_si128(n);
  return (VI){_mm256_sra_epi32(a.lo, c), _mm256_sra_epi32(a.hi, c)};
}
/* per-lane shift counts; a count of 32 or more gives 0 */
static inline VI SRLV(VI a, VI n) { return E2(VI, _mm256_srlv_epi32, a, n); }
static inline VI SLLV(VI a, VI n) { return E2(VI, _mm256_sllv_epi32, a, n); }
static inline VI CVT(V a) { return E1(VI, _mm256_cvtps_epi32, a); }   /* current rounding */
static inline VI CVTT(V a) { return E1(VI, _mm256_cvttps_epi32, a); } /* truncating */
static inline V CVTIF(VI a) { return E1(V, _mm256_cvtepi32_ps, a); }
#else
static inline V AS_F(VI a) { return _mm512_castsi512_ps(a); }
static inline VI AS_I(V a) { return _mm512_castps_si512(a); }
static inline VI ADDI(VI a, VI b) { return _mm512_add_epi32(a, b); }
static inline VI SUBI(VI a, VI b) { return _mm512_sub_epi32(a, b); }
static inline VI ANDI(VI a, VI b) { return _mm512_and_si512(a, b); }
static inline VI ORI(VI a, VI b) { return _mm512_or_si512(a, b); }
static inline VI SLLI(VI a, int n) { return _mm512_sll_epi32(a, _mm_cvtsi32_si128(n)); }
static inline VI SRLI(VI a, int n) { return _mm512_srl_epi32(a, _mm_cvtsi32_si128(n)); }
static inline VI SRAI(VI a, int n) { return _mm512_sra_epi32(a, _mm_cvtsi32_si128(n)); }
static inline VI SRLV(VI a, VI n) { return _mm512_srlv_epi32(a, n); }
static inline VI SLLV(VI a, VI n) { return _mm512_sllv_epi32(a, n); }
static inline VI CVT(V a) { return _mm512_cvtps_epi32(a); }
static inline VI CVTT(V a) { return _mm512_cvttps_epi32(a); }
static inline V CVTIF(VI a) { return _mm512_cvtepi32_ps(a); }
#endif

/* ---- compares (to masks) and selection ---- */
#ifdef LZ_S16_EMU
/* P is a _CMP_* predicate constant */
#define CMP(a, b, P) e_v2m(_mm256_cmp_ps((a).lo, (b).lo, P), _mm256_cmp_ps((a).hi, (b).hi, P))
static inline M CMPEQI(VI a, VI b) {
  return e_v2m(_mm256_castsi256_ps(_mm256_cmpeq_epi32(a.lo, b.lo)),
               _mm256_castsi256_ps(_mm256_cmpeq_epi32(a.hi, b.hi)));
}
/* m ? b : a per lane */
static inline V BLEND(M m, V a, V b) {
  return (V){_mm256_blendv_ps(a.lo, b.lo, _mm256_castsi256_ps(e_m2v(m & 0xff))),
             _mm256_blendv_ps(a.hi, b.hi, _mm256_castsi256_ps(e_m2v(m >> 8)))};
}
static inline VI BLENDI(M m, VI a, VI b) { return AS_I(BLEND(m, AS_F(a), AS_F(b))); }
/* table[idx & 7] per lane, table 8 floats */
static inline V PERM8(const float *table, VI idx) {
  __m256 t = _mm256_loadu_ps(table);
  return (V){_mm256_permutevar8x32_ps(t, idx.lo), _mm256_permutevar8x32_ps(t, idx.hi)};
}
/* t's lane idx & 15 per lane */
static inline VI PERMI(VI t, VI idx) {
  VI lo = {_mm256_permutevar8x32_epi32(t.lo, idx.lo), _mm256_permutevar8x32_epi32(t.lo, idx.hi)};
  VI hi = {_mm256_permutevar8x32_epi32(t.hi, idx.lo), _mm256_permutevar8x32_epi32(t.hi, idx.hi)};
  return BLENDI(CMPEQI(ANDI(idx, KI(8)), KI(8)), lo, hi);
}
#else
#define CMP(a, b, P) ((M)_mm512_cmp_ps_mask(a, b, P))
static inline M CMPEQI(VI a, VI b) { return (M)_mm512_cmpeq_epi32_mask(a, b); }
static inline V BLEND(M m, V a, V b) { return _mm512_mask_blend_ps(m, a, b); }
static inline VI BLENDI(M m, VI a, VI b) { return _mm512_mask_blend_epi32(m, a, b); }
static inline VI PERMI(VI t, VI idx) { return _mm512_permutexvar_epi32(idx, t); }
static inline V PERM8(const float *table, VI idx) {
  /* the table in both halves: lanes idx and idx + 8 agree, so this is table[idx & 7] */
  return _mm512_permutexvar_ps(idx, _mm512_broadcast_f32x8(_mm256_loadu_ps(table)));
}
#endif
/* v where m, 0 elsewhere */
static inline V MASKZ(M m, V v) { return BLEND(m, K(0.0f), v); }

/* ---- 16-bit data: float16 and the low halves of integer lanes ---- */
#ifdef LZ_S16_EMU
/* 16 uint16 at p (lanes outside m read as 0, their memory untouched) as a 256-bit vector */
static inline __m256i e_load16(M m, const uint16_t *p) {
  if (m == 0xffff) return _mm256_loadu_si256((const __m256i *)p);
  uint16_t t[16] = {0};
  for (int k = 0; k < 16; k++)
    if (m >> k & 1) t[k] = p[k];
  return _mm256_loadu_si256((const __m256i *)t);
}
static inline void e_store16(uint16_t *p, M m, __m256i v) {
  if (m == 0xffff) {
    _mm256_storeu_si256((__m256i *)p, v);
    return;
  }
  uint16_t t[16];
  _mm256_storeu_si256((__m256i *)t, v);
  for (int k = 0; k < 16; k++)
    if (m >> k & 1) p[k] = t[k];
}
/* uint16 lanes zero-extended */
static inline VI LOADU16(M m, const uint16_t *p) {
  __m256i h = e_load16(m, p);
  return (VI){_mm256_cvtepu16_epi32(_mm256_castsi256_si128(h)),
              _mm256_cvtepu16_epi32(_mm256_extracti128_si256(h, 1))};
}
/* the low 16 bits of each lane (lanes hold 0..0xffff) */
static inline void STOREU16(uint16_t *p, M m, VI v) {
  __m256i h = _mm256_permute4x64_epi64(_mm256_packus_epi32(v.lo, v.hi), 0xd8);
  e_store16(p, m, h);
}
/* float16 <-> float32 (IEEE, round to nearest even; a NaN keeps its payload, quieted) */
static inline V LOADH(M m, const uint16_t *p) {
  __m256i h = e_load16(m, p);
  return (V){_mm256_cvtph_ps(_mm256_castsi256_si128(h)),
             _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1))};
}
static inline void STOREH(uint16_t *p, M m, V v) {
  __m256i h = _mm256_set_m128i(_mm256_cvtps_ph(v.hi, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC),
                               _mm256_cvtps_ph(v.lo, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  e_store16(p, m, h);
}
#else
static inline VI LOADU16(M m, const uint16_t *p) {
  return _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p));
}
static inline void STOREU16(uint16_t *p, M m, VI v) { _mm512_mask_cvtepi32_storeu_epi16(p, m, v); }
static inline V LOADH(M m, const uint16_t *p) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); }
static inline void STOREH(uint16_t *p, M m, V v) {
  _mm256_mask_storeu_epi16(p, m, _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
#endif

/* ---- helpers on top ---- */
static inline V ZERO(void) { return K(0.0f); }
static inline V VABS(V x) { return ANDNOT(K(-0.0f), x); }
static inline V SIGN_OF(V x) { return AND(K(-0.0f), x); }
static inline M ISNAN(V x) { return CMP(x, x, _CMP_UNORD_Q); }

/* The sum of the lanes in double, in lane order (both builds alike). */
static inline double s16_hsum_d(V v) {
  float t[16];
  STORE(t, v);
  double s = 0;
  for (int k = 0; k < 16; k++) s += t[k];
  return s;
}

#endif /* LZ_CPU_SIMD16_H */
