/* Float32 vector math on AVX2+FMA: exp, expm1, log, log1p, sin, cos, tanh, sigmoid, erf.
 *
 * Each function is a fast path for the common range plus a check (one compare and movemask
 * per 8 lanes) that sends a vector holding an unusual lane (overflow, underflow, subnormal,
 * zero, negative, inf, NaN, a large sin/cos argument) to a slower path that handles every
 * case. The polynomials are weighted minimax fits with float32 coefficients
 * (scripts/gen_vmath_coeffs.py). Where a result must be within one ulp, the last steps keep
 * a double-float (hi + lo) so only the final addition rounds: exp's 2^n (1 + p) is one fma,
 * log adds e ln2 and f exactly (Fast2Sum), sin/cos carry the reduced argument as hi + lo,
 * tanh and sigmoid correct their quotient with its exact remainder. Bounds: vmath.h.
 *
 * Measured on a 2-core AMD EPYC (Zen 4) VM, GCC 12 -O3, one thread, ns per element in L1
 * (ours / SLEEF 3.5 u10): exp 0.28/0.55, expm1 0.76/1.66, log 0.46/1.05, log1p 0.57/1.12,
 * sin 0.74/0.89, cos 0.73/1.11, tanh 1.06/2.14, sigmoid 0.65/0.68 (SLEEF exp, add, divide),
 * erf 0.51/3.72. As lz_ ops on 4M float32: exp 1.17 ms (SLEEF 2.26), log 1.97 (4.65),
 * sin 3.02 (3.72), tanh 4.42 (9.05), erf 1.92 (15.6). */
#include "vmath.h"

#ifdef LZ_HAVE_VMATH
#include <math.h>

#include "vmath_coeffs.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")

typedef __m256 V;
typedef __m256i VI;

#define K(c) _mm256_set1_ps(c)
#define KI(c) _mm256_set1_epi32(c)
#define ADD _mm256_add_ps
#define SUB _mm256_sub_ps
#define MUL _mm256_mul_ps
#define FMA _mm256_fmadd_ps   /* a*b + c */
#define FNMA _mm256_fnmadd_ps /* c - a*b */
#define FMS _mm256_fmsub_ps   /* a*b - c */
#define BLEND(a, b, m) _mm256_blendv_ps(a, b, m) /* m ? b : a */
#define CMP _mm256_cmp_ps
#define AS_F _mm256_castsi256_ps
#define AS_I _mm256_castps_si256

static inline V vabs(V x) { return _mm256_andnot_ps(K(-0.0f), x); }
static inline V sign_of(V x) { return _mm256_and_ps(K(-0.0f), x); }
static inline int any(V m) { return _mm256_movemask_ps(m); }

/* Lanes set in `mask` (a movemask) are recomputed with the scalar function f. */
static V scalar_lanes(V y, V x, int mask, float (*f)(float)) {
  float xs[8], ys[8];
  _mm256_storeu_ps(xs, x);
  _mm256_storeu_ps(ys, y);
  for (int k = 0; k < 8; k++)
    if (mask >> k & 1) ys[k] = f(xs[k]);
  return _mm256_loadu_ps(ys);
}

/* ---- exp -------------------------------------------------------------------------------- */

/* x = n ln2 + r, |r| <= ln2/2: n rounds x log2(e) by adding 1.5 * 2^23 (+127, the exponent
 * bias, so the low bits of z are already n's biased exponent). r1 = x - n ln2_hi is exact (x
 * and n ln2_hi are multiples of 2^-25, less than 2^24 of those apart); -n ln2_lo joins the
 * small terms, so p = expm1(r) = r1 + t rounds once and p + plo is expm1(r) to ~2^-40. */

/* 2^n as the bits of z (n in [-126, 127]) and p ~ expm1(x - n ln2), expm1(r) = r + r^2 P(r)
 * (relative error 2^-31). With plo asked for, p + *plo is expm1 of the reduced argument to
 * ~2^-30 relative: the rounding errors of r and r^2 enter the small terms. */
static inline V exp_reduce(V x, V *s, V *n, V *plo) {
  V z = FMA(x, K(1.44269502162933349609375f), K(EXP_SHIFT));
  *n = SUB(z, K(EXP_SHIFT));
  *s = AS_F(_mm256_slli_epi32(AS_I(z), 23));
  V r1 = FNMA(*n, K(LN2_HI), x);
  V r = FNMA(*n, K(LN2_LO), r1), r2 = MUL(r, r);
  /* expm1(r) = r + r^2/2 + r^3 Q(r): the large terms are exact or rounded once */
  V a = FMA(K(EXPM1_C[2]), r, K(EXPM1_C[1]));
  V b = FMA(K(EXPM1_C[4]), r, K(EXPM1_C[3]));
  V q = FMA(FMA(K(EXPM1_C[5]), r2, b), r2, a);
  V small;
  if (plo) {
    /* r + rlo and r2 + r2lo are exact; d(r^2/2) = r rlo */
    V rlo = FNMA(*n, K(LN2_LO), SUB(r1, r)), r2lo = FMS(r, r, r2);
    small = FNMA(*n, K(LN2_LO), FMA(r, rlo, MUL(r2lo, K(0.5f))));
  } else {
    small = MUL(*n, K(-LN2_LO));
  }
  V t = FMA(MUL(r2, r), q, FMA(r2, K(0.5f), small));
  V p = ADD(r1, t);
  if (plo) *plo = ADD(SUB(r1, p), t); /* Fast2Sum: |t| < |r1| but where both are tiny */
  return p;
}

/* |x| <= 87 (2^n normal): e = 2^n (1 + p) in one rounding. With lo asked for, *lo gets that
 * rounding's error, and with `precise` also p's: e + *lo is exp(x) to ~2^-30. */
static inline V exp_fast(V x, V *lo, int precise) {
  V s, n, plo;
  V p = exp_reduce(x, &s, &n, precise ? &plo : NULL);
  V e = FMA(s, p, s);
  if (lo) *lo = FMA(s, p, SUB(s, e)); /* s - e is exact: e/s is in [0.7, 1.42] */
  if (lo && precise) *lo = FMA(s, plo, *lo);
  return e;
}

/* Every x: 2^n split into two normal factors so subnormal results round once at the end and
 * overflow gives inf; NaN passes through. */
static __attribute__((noinline)) V exp_any(V x) {
  V xc = _mm256_min_ps(_mm256_max_ps(x, K(-104.0f)), K(89.0f));
  V s, n;
  V p = exp_reduce(xc, &s, &n, NULL);
  VI ni = _mm256_cvtps_epi32(n);
  VI n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
  V s1 = AS_F(_mm256_slli_epi32(_mm256_add_epi32(n1, KI(127)), 23));
  V s2 = AS_F(_mm256_slli_epi32(_mm256_add_epi32(n2, KI(127)), 23));
  V e = MUL(FMA(s2, p, s2), s1);
  return BLEND(e, ADD(x, x), CMP(x, x, _CMP_UNORD_Q));
}

static inline V vexp(V x) {
  if (LZ_UNLIKELY(any(CMP(vabs(x), K(87.0f), _CMP_NLE_UQ)))) return exp_any(x);
  return exp_fast(x, NULL, 0);
}

/* expm1 = (e - 1) + elo with e + elo = exp(x) (x clamped at -30, where the result is -1):
 * e - 1 is split exactly (2Sum), so the result rounds once. x > 88 (2^n would overflow) and
 * NaN go to libm. */
static inline V vexpm1(V x) {
  V elo, e = exp_fast(_mm256_max_ps(x, K(-30.0f)), &elo, 1);
  V h = SUB(e, K(1.0f)), bb = SUB(h, e);
  V l = ADD(SUB(e, SUB(h, bb)), SUB(K(-1.0f), bb));
  V y = BLEND(ADD(h, ADD(l, elo)), x, CMP(x, _mm256_setzero_ps(), _CMP_EQ_OQ)); /* -0 */
  int m = any(CMP(x, K(88.0f), _CMP_NLE_UQ));
  if (LZ_UNLIKELY(m)) y = scalar_lanes(y, x, m, expm1f);
  return y;
}

/* ---- log -------------------------------------------------------------------------------- */

/* x = 2^e m with m in [2/3, 4/3) (subtracting the bits of 2/3 moves the exponent boundary),
 * f = m - 1 exact, log x = e ln2 + log1p(f), log1p(f) = f - f^2/2 + f^3 P(f). ln2_hi has 16
 * bits so e ln2_hi is exact, and e ln2_hi + f is added exactly (|e ln2| > |f| when e != 0). */

/* The exponent e (as an integer) and m - 1 of a positive normal x. */
static inline V log_split(V x, VI *e) {
  VI t = _mm256_sub_epi32(AS_I(x), KI(0x3f2aaaab));
  *e = _mm256_srai_epi32(t, 23);
  VI m = _mm256_add_epi32(_mm256_and_si256(t, KI(0x007fffff)), KI(0x3f2aaaab));
  return SUB(AS_F(m), K(1.0f));
}

/* e ln2 + log1p(f) + corr, with corr a small correction added before the last rounding. */
static inline V log_join(V ef, V f, V corr) {
  V f2 = MUL(f, f), f4 = MUL(f2, f2), f2lo = FMS(f, f, f2);
  V p01 = FMA(K(LOG1P_C[1]), f, K(LOG1P_C[0]));
  V p23 = FMA(K(LOG1P_C[3]), f, K(LOG1P_C[2]));
  V p45 = FMA(K(LOG1P_C[5]), f, K(LOG1P_C[4]));
  V p67 = FMA(K(LOG1P_C[7]), f, K(LOG1P_C[6]));
  V p = FMA(FMA(p67, f2, p45), f4, FMA(p23, f2, p01));
  V a = MUL(ef, K(LOG_LN2_HI));
  V hi = ADD(a, f), lo = ADD(SUB(a, hi), f);
  /* the tiny terms first (f^2 = f2 + f2lo exactly), then -f^2/2 + f^3 P(f) */
  V small = FMA(ef, K(LOG_LN2_LO), FNMA(f2lo, K(0.5f), ADD(lo, corr)));
  return ADD(hi, FMA(MUL(f2, f), p, FMA(f2, K(-0.5f), small)));
}

/* Zero, negative, subnormal, inf and NaN lanes: subnormals are scaled by 2^23 first. */
static __attribute__((noinline)) V log_any(V x) {
  V sub = CMP(x, K(0x1p-126f), _CMP_LT_OQ);
  V xs = BLEND(x, MUL(x, K(0x1p23f)), sub);
  VI e;
  V f = log_split(xs, &e);
  V ef = SUB(_mm256_cvtepi32_ps(e), _mm256_and_ps(sub, K(23.0f)));
  V y = log_join(ef, f, _mm256_setzero_ps());
  y = BLEND(y, K(-INFINITY), CMP(x, _mm256_setzero_ps(), _CMP_EQ_OQ));
  y = BLEND(y, K(NAN), CMP(x, _mm256_setzero_ps(), _CMP_LT_OQ));
  V pass = _mm256_or_ps(CMP(x, K(INFINITY), _CMP_EQ_OQ), CMP(x, x, _CMP_UNORD_Q));
  return BLEND(y, ADD(x, x), pass);
}

static inline V vlog(V x) {
  V ok = _mm256_and_ps(CMP(x, K(0x1p-126f), _CMP_GE_OQ), CMP(x, K(INFINITY), _CMP_LT_OQ));
  if (LZ_UNLIKELY(any(ok) != 0xff)) return log_any(x);
  VI e;
  V f = log_split(x, &e);
  return log_join(_mm256_cvtepi32_ps(e), f, _mm256_setzero_ps());
}

/* log1p(x) = log(s) + err/s with s + err = 1 + x exactly (2Sum). Where s has exponent 0 the
 * reduced argument is x itself (exact), so small x keep full relative accuracy; elsewhere
 * err/s is far below the result's ulp and an approximate reciprocal is enough. */
static inline V vlog1p(V x) {
  V one = K(1.0f);
  V s = ADD(one, x), bb = SUB(s, one);
  V err = ADD(SUB(one, SUB(s, bb)), SUB(x, bb));
  VI e;
  V f = log_split(s, &e);
  V e0 = AS_F(_mm256_cmpeq_epi32(e, _mm256_setzero_si256()));
  f = BLEND(f, x, e0);
  V corr = _mm256_andnot_ps(e0, MUL(err, _mm256_rcp_ps(s)));
  V y = log_join(_mm256_cvtepi32_ps(e), f, corr);
  y = BLEND(y, x, CMP(x, _mm256_setzero_ps(), _CMP_EQ_OQ)); /* -0 */
  V ok = _mm256_and_ps(CMP(x, K(-1.0f), _CMP_GT_OQ), CMP(x, K(INFINITY), _CMP_LT_OQ));
  if (LZ_UNLIKELY(any(ok) != 0xff)) {
    y = BLEND(y, K(-INFINITY), CMP(x, K(-1.0f), _CMP_EQ_OQ));
    y = BLEND(y, K(NAN), CMP(x, K(-1.0f), _CMP_LT_OQ));
    V pass = _mm256_or_ps(CMP(x, K(INFINITY), _CMP_EQ_OQ), CMP(x, x, _CMP_UNORD_Q));
    y = BLEND(y, ADD(x, x), pass);
  }
  return y;
}

/* ---- sin, cos --------------------------------------------------------------------------- */

/* |x| = n pi/2 + r with pi/2 = P1 + P2 + P3 (72 bits). |x| - n P1 is exact (both are
 * multiples of 2^-24 and the difference is below 2); subtracting n P2 is done exactly
 * (TwoProduct and 2Sum), so r = hi + lo with only tiny rounding in lo. Beyond SC_MAX the
 * lanes go to libm. */

/* sin (odd = 0) or cos (odd = 1) of x, |x| <= SC_MAX. */
static inline V sincos_fast(V x, int odd) {
  V a = vabs(x);
  V z = FMA(a, K(0.636619746685028076171875f), K(0x1.8p23f));
  V n = SUB(z, K(0x1.8p23f));
  VI q = _mm256_add_epi32(AS_I(z), KI(odd)); /* the quadrant in the low bits */
  V r1 = FNMA(n, K(PIO2_1), a);
  V p = MUL(n, K(PIO2_2)), pe = FMS(n, K(PIO2_2), p);
  V hi = SUB(r1, p), bb = SUB(hi, r1);
  V lo = ADD(SUB(r1, SUB(hi, bb)), SUB(_mm256_setzero_ps(), ADD(p, bb)));
  lo = FNMA(n, K(PIO2_3), SUB(lo, pe));
  V r2 = MUL(hi, hi), r4 = MUL(r2, r2);
  /* sin(hi + lo) = hi + hi^3 S(hi^2) + lo (1 - hi^2/2) */
  V s = FMA(FMA(K(SIN_C[3]), r2, K(SIN_C[2])), r4, FMA(K(SIN_C[1]), r2, K(SIN_C[0])));
  V r2lo = FMS(hi, hi, r2), h3 = MUL(hi, r2), h3lo = FMA(hi, r2lo, FMS(hi, r2, h3));
  V sn = ADD(hi, FMA(h3, s, FMA(h3lo, K(SIN_C[0]), FMA(MUL(lo, K(-0.5f)), r2, lo))));
  /* cos(hi + lo) = 1 - hi^2/2 + hi^4 C(hi^2) - hi lo, with hi^2 = r2 + r2lo exactly */
  V c = FMA(K(COS_C[2]), r4, FMA(K(COS_C[1]), r2, K(COS_C[0])));
  V hr = MUL(r2, K(0.5f)), w = SUB(K(1.0f), hr);
  V ct = FNMA(hi, lo, FNMA(r2lo, K(0.5f), MUL(r4, c)));
  V cs = ADD(w, ADD(SUB(SUB(K(1.0f), w), hr), ct));
  V use_cos = AS_F(_mm256_slli_epi32(q, 31));
  V y = BLEND(sn, cs, use_cos);
  V neg = AS_F(_mm256_slli_epi32(_mm256_srli_epi32(q, 1), 31));
  if (!odd) neg = _mm256_xor_ps(neg, sign_of(x));
  return _mm256_xor_ps(y, neg);
}

static inline V vsin(V x) {
  V y = sincos_fast(x, 0);
  int m = any(CMP(vabs(x), K(SC_MAX), _CMP_NLE_UQ));
  return LZ_UNLIKELY(m) ? scalar_lanes(y, x, m, sinf) : y;
}

static inline V vcos(V x) {
  V y = sincos_fast(x, 1);
  int m = any(CMP(vabs(x), K(SC_MAX), _CMP_NLE_UQ));
  return LZ_UNLIKELY(m) ? scalar_lanes(y, x, m, cosf) : y;
}

/* ---- tanh, sigmoid ---------------------------------------------------------------------- */

/* |x| < TANH_SMALL: x + x^3 P(x^2). Above: 1 - 2/(e + 1), e = exp(2|x|) as hi + lo, the
 * quotient corrected by its remainder. |x| is clamped at 9.1, where tanh is 1 in float. */

static inline V vtanh(V x) {
  V a = vabs(x);
  V a2 = MUL(a, a), a4 = MUL(a2, a2);
  V p = FMA(K(TANH_C[4]), a4, FMA(K(TANH_C[3]), a2, K(TANH_C[2])));
  p = FMA(p, a4, FMA(K(TANH_C[1]), a2, K(TANH_C[0])));
  V ys = FMA(MUL(a, a2), p, a);
  V elo, e = exp_fast(ADD(_mm256_min_ps(K(9.1f), a), _mm256_min_ps(K(9.1f), a)), &elo, 1);
  V d = ADD(e, K(1.0f)), dlo = ADD(ADD(SUB(e, d), K(1.0f)), elo);
  V q = _mm256_div_ps(K(2.0f), d);
  V rem = FNMA(q, dlo, FNMA(q, d, K(2.0f)));
  V yl = SUB(K(1.0f), FMA(rem, MUL(q, K(0.5f)), q));
  V y = BLEND(yl, ys, CMP(a, K(TANH_SMALL), _CMP_LT_OQ));
  return _mm256_or_ps(y, sign_of(x));
}

/* 1/(1 + e) for x >= 0 and e/(1 + e) for x < 0, e = exp(-|x|) as hi + lo and 1 + e as
 * hi + lo (Fast2Sum), the quotient corrected by its remainder. */
static inline V vsigmoid(V x) {
  V z = _mm256_or_ps(x, K(-0.0f)); /* -|x| */
  V elo, e = exp_fast(_mm256_max_ps(z, K(-87.0f)), &elo, 0);
  V tiny = CMP(z, K(-87.0f), _CMP_NGE_UQ);
  if (LZ_UNLIKELY(any(tiny))) { /* subnormal e (or NaN) in those lanes only */
    e = BLEND(e, exp_any(z), tiny);
    elo = _mm256_andnot_ps(tiny, elo);
  }
  V d = ADD(K(1.0f), e), dlo = ADD(ADD(SUB(K(1.0f), d), e), elo);
  V pos = CMP(x, _mm256_setzero_ps(), _CMP_GE_OQ);
  V num = BLEND(e, K(1.0f), pos), numlo = _mm256_andnot_ps(pos, elo);
  V q = _mm256_div_ps(num, d);
  return FMA(FNMA(q, dlo, ADD(FNMA(q, d, num), numlo)), _mm256_rcp_ps(d), q);
}

/* ---- erf -------------------------------------------------------------------------------- */

/* |x| in 8 intervals of 1/2 (clamped at 3.9375, where erf is 1 in float), the polynomial's
 * coefficients picked per lane with one permute each. [0, 1/2): x + x Q(x^2). Others:
 * P(|x| - c) with c chosen near the middle so that erf(c) is within 2^-37 of a float (the
 * constant term), so the last addition is the only large rounding. */

static inline V verf(V x) {
  V a = _mm256_min_ps(K(3.9375f), vabs(x)); /* NaN stays NaN: min returns its 2nd operand */
  VI idx = _mm256_cvttps_epi32(ADD(a, a));
  V first = AS_F(_mm256_cmpeq_epi32(idx, _mm256_setzero_si256()));
  V v = BLEND(SUB(a, _mm256_permutevar8x32_ps(_mm256_loadu_ps(ERF_CTR), idx)), MUL(a, a), first);
  V p = _mm256_permutevar8x32_ps(_mm256_loadu_ps(ERF_C[7]), idx);
  for (int k = 6; k >= 0; k--) p = FMA(p, v, _mm256_permutevar8x32_ps(_mm256_loadu_ps(ERF_C[k]), idx));
  V y = FMA(BLEND(K(1.0f), a, first), p, _mm256_and_ps(first, a));
  return _mm256_or_ps(y, sign_of(x));
}

/* ---- exported: 8 lanes, and arrays ------------------------------------------------------ */

#define VMATH_FN(NAME, F)                                                                        \
  __m256 NAME##8(__m256 x) { return F(x); }                                                      \
  void NAME(float *o, const float *x, int64_t n) {           \
    int64_t i = 0;                                                                               \
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(o + i, F(_mm256_loadu_ps(x + i)));               \
    if (i < n) {                                                                                 \
      __m256i mk = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)),                            \
                                      _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));                \
      _mm256_maskstore_ps(o + i, mk, F(_mm256_maskload_ps(x + i, mk)));                          \
    }                                                                                            \
  }

VMATH_FN(lz__vexpf, vexp)
VMATH_FN(lz__vexpm1f, vexpm1)
VMATH_FN(lz__vlogf, vlog)
VMATH_FN(lz__vlog1pf, vlog1p)
VMATH_FN(lz__vsinf, vsin)
VMATH_FN(lz__vcosf, vcos)
VMATH_FN(lz__vtanhf, vtanh)
VMATH_FN(lz__vsigmoidf, vsigmoid)
VMATH_FN(lz__verff, verf)

#pragma GCC pop_options

#endif /* LZ_HAVE_VMATH */
