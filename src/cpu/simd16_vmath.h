/* Our float32 vector math on 16 lanes (exp, expm1, log, log1p, sin, cos, tanh, sigmoid, erf):
 * the algorithms of cpu/vmath_avx2.c (described there, bounds in vmath.h) written against the
 * 16-lane layer (cpu/simd16.h), with masks for compare results. Two differences: log1p's
 * small correction and sigmoid's quotient correction divide instead of multiplying by an
 * approximate reciprocal (rcp14 and rcp differ between ISAs, a division does not), so results
 * may differ from the AVX2 build's in the last bit but stay within the same bounds
 * (tests/test_vmath.c checks both). Included by cpu/simd16_kernels.h only. */
#ifndef LZ_CPU_SIMD16_VMATH_H
#define LZ_CPU_SIMD16_VMATH_H

#include <math.h>

#include "vmath_coeffs.h"

/* Lanes set in `m` are recomputed with the scalar function f. */
static V scalar_lanes(V y, V x, M m, float (*f)(float)) {
  float xs[16], ys[16];
  STORE(xs, x);
  STORE(ys, y);
  for (int k = 0; k < 16; k++)
    if (m >> k & 1) ys[k] = f(xs[k]);
  return LOAD(ys);
}

/* ---- exp ---- */

static inline V exp_reduce(V x, V *s, V *n, V *plo) {
  V z = FMA(x, K(1.44269502162933349609375f), K(EXP_SHIFT));
  *n = SUB(z, K(EXP_SHIFT));
  *s = AS_F(SLLI(AS_I(z), 23));
  V r1 = FNMA(*n, K(LN2_HI), x);
  V r = FNMA(*n, K(LN2_LO), r1), r2 = MUL(r, r);
  V a = FMA(K(EXPM1_C[2]), r, K(EXPM1_C[1]));
  V b = FMA(K(EXPM1_C[4]), r, K(EXPM1_C[3]));
  V q = FMA(FMA(K(EXPM1_C[5]), r2, b), r2, a);
  V small;
  if (plo) {
    V rlo = FNMA(*n, K(LN2_LO), SUB(r1, r)), r2lo = FMS(r, r, r2);
    small = FNMA(*n, K(LN2_LO), FMA(r, rlo, MUL(r2lo, K(0.5f))));
  } else {
    small = MUL(*n, K(-LN2_LO));
  }
  V t = FMA(MUL(r2, r), q, FMA(r2, K(0.5f), small));
  V p = ADD(r1, t);
  if (plo) *plo = ADD(SUB(r1, p), t);
  return p;
}

static inline V exp_fast(V x, V *lo, int precise) {
  V s, n, plo;
  V p = exp_reduce(x, &s, &n, precise ? &plo : NULL);
  V e = FMA(s, p, s);
  if (lo) *lo = FMA(s, p, SUB(s, e));
  if (lo && precise) *lo = FMA(s, plo, *lo);
  return e;
}

static __attribute__((noinline)) V exp_any(V x) {
  V xc = MIN(MAX(x, K(-104.0f)), K(89.0f));
  V s, n;
  V p = exp_reduce(xc, &s, &n, NULL);
  VI ni = CVT(n);
  VI n1 = SRAI(ni, 1), n2 = SUBI(ni, n1);
  V s1 = AS_F(SLLI(ADDI(n1, KI(127)), 23));
  V s2 = AS_F(SLLI(ADDI(n2, KI(127)), 23));
  V e = MUL(FMA(s2, p, s2), s1);
  return BLEND(ISNAN(x), e, ADD(x, x));
}

static inline V vexp(V x) {
  if (LZ_UNLIKELY(CMP(VABS(x), K(87.0f), _CMP_NLE_UQ))) return exp_any(x);
  return exp_fast(x, NULL, 0);
}

static inline V vexpm1(V x) {
  V elo, e = exp_fast(MAX(x, K(-30.0f)), &elo, 1);
  V h = SUB(e, K(1.0f)), bb = SUB(h, e);
  V l = ADD(SUB(e, SUB(h, bb)), SUB(K(-1.0f), bb));
  V y = BLEND(CMP(x, ZERO(), _CMP_EQ_OQ), ADD(h, ADD(l, elo)), x); /* -0 */
  M m = CMP(x, K(88.0f), _CMP_NLE_UQ);
  if (LZ_UNLIKELY(m)) y = scalar_lanes(y, x, m, expm1f);
  return y;
}

/* ---- log ---- */

static inline V log_split(V x, VI *e) {
  VI t = SUBI(AS_I(x), KI(0x3f2aaaab));
  *e = SRAI(t, 23);
  VI m = ADDI(ANDI(t, KI(0x007fffff)), KI(0x3f2aaaab));
  return SUB(AS_F(m), K(1.0f));
}

static inline V log_join(V ef, V f, V corr) {
  V f2 = MUL(f, f), f4 = MUL(f2, f2), f2lo = FMS(f, f, f2);
  V p01 = FMA(K(LOG1P_C[1]), f, K(LOG1P_C[0]));
  V p23 = FMA(K(LOG1P_C[3]), f, K(LOG1P_C[2]));
  V p45 = FMA(K(LOG1P_C[5]), f, K(LOG1P_C[4]));
  V p67 = FMA(K(LOG1P_C[7]), f, K(LOG1P_C[6]));
  V p = FMA(FMA(p67, f2, p45), f4, FMA(p23, f2, p01));
  V a = MUL(ef, K(LOG_LN2_HI));
  V hi = ADD(a, f), lo = ADD(SUB(a, hi), f);
  V small = FMA(ef, K(LOG_LN2_LO), FNMA(f2lo, K(0.5f), ADD(lo, corr)));
  return ADD(hi, FMA(MUL(f2, f), p, FMA(f2, K(-0.5f), small)));
}

static __attribute__((noinline)) V log_any(V x) {
  M sub = CMP(x, K(0x1p-126f), _CMP_LT_OQ);
  V xs = BLEND(sub, x, MUL(x, K(0x1p23f)));
  VI e;
  V f = log_split(xs, &e);
  V ef = SUB(CVTIF(e), MASKZ(sub, K(23.0f)));
  V y = log_join(ef, f, ZERO());
  y = BLEND(CMP(x, ZERO(), _CMP_EQ_OQ), y, K(-INFINITY));
  y = BLEND(CMP(x, ZERO(), _CMP_LT_OQ), y, K(NAN));
  M pass = CMP(x, K(INFINITY), _CMP_EQ_OQ) | ISNAN(x);
  return BLEND(pass, y, ADD(x, x));
}

static inline V vlog(V x) {
  M ok = CMP(x, K(0x1p-126f), _CMP_GE_OQ) & CMP(x, K(INFINITY), _CMP_LT_OQ);
  if (LZ_UNLIKELY(ok != 0xffff)) return log_any(x);
  VI e;
  V f = log_split(x, &e);
  return log_join(CVTIF(e), f, ZERO());
}

static inline V vlog1p(V x) {
  V one = K(1.0f);
  V s = ADD(one, x), bb = SUB(s, one);
  V err = ADD(SUB(one, SUB(s, bb)), SUB(x, bb));
  VI e;
  V f = log_split(s, &e);
  M e0 = CMPEQI(e, KI(0));
  f = BLEND(e0, f, x);
  V corr = MASKZ((M)~e0, DIV(err, s));
  V y = log_join(CVTIF(e), f, corr);
  y = BLEND(CMP(x, ZERO(), _CMP_EQ_OQ), y, x); /* -0 */
  M ok = CMP(x, K(-1.0f), _CMP_GT_OQ) & CMP(x, K(INFINITY), _CMP_LT_OQ);
  if (LZ_UNLIKELY(ok != 0xffff)) {
    y = BLEND(CMP(x, K(-1.0f), _CMP_EQ_OQ), y, K(-INFINITY));
    y = BLEND(CMP(x, K(-1.0f), _CMP_LT_OQ), y, K(NAN));
    M pass = CMP(x, K(INFINITY), _CMP_EQ_OQ) | ISNAN(x);
    y = BLEND(pass, y, ADD(x, x));
  }
  return y;
}

/* ---- sin, cos ---- */

static inline V sincos_fast(V x, int odd) {
  V a = VABS(x);
  V z = FMA(a, K(0.636619746685028076171875f), K(0x1.8p23f));
  V n = SUB(z, K(0x1.8p23f));
  VI q = ADDI(AS_I(z), KI(odd)); /* the quadrant in the low bits */
  V r1 = FNMA(n, K(PIO2_1), a);
  V p = MUL(n, K(PIO2_2)), pe = FMS(n, K(PIO2_2), p);
  V hi = SUB(r1, p), bb = SUB(hi, r1);
  V lo = ADD(SUB(r1, SUB(hi, bb)), SUB(ZERO(), ADD(p, bb)));
  lo = FNMA(n, K(PIO2_3), SUB(lo, pe));
  V r2 = MUL(hi, hi), r4 = MUL(r2, r2);
  V s = FMA(FMA(K(SIN_C[3]), r2, K(SIN_C[2])), r4, FMA(K(SIN_C[1]), r2, K(SIN_C[0])));
  V r2lo = FMS(hi, hi, r2), h3 = MUL(hi, r2), h3lo = FMA(hi, r2lo, FMS(hi, r2, h3));
  V sn = ADD(hi, FMA(h3, s, FMA(h3lo, K(SIN_C[0]), FMA(MUL(lo, K(-0.5f)), r2, lo))));
  V c = FMA(K(COS_C[2]), r4, FMA(K(COS_C[1]), r2, K(COS_C[0])));
  V hr = MUL(r2, K(0.5f)), w = SUB(K(1.0f), hr);
  V ct = FNMA(hi, lo, FNMA(r2lo, K(0.5f), MUL(r4, c)));
  V cs = ADD(w, ADD(SUB(SUB(K(1.0f), w), hr), ct));
  M use_cos = (M)~CMPEQI(ANDI(q, KI(1)), KI(0));
  V y = BLEND(use_cos, sn, cs);
  V neg = AS_F(SLLI(SRLI(q, 1), 31));
  if (!odd) neg = XOR(neg, SIGN_OF(x));
  return XOR(y, neg);
}

static inline V vsin(V x) {
  V y = sincos_fast(x, 0);
  M m = CMP(VABS(x), K(SC_MAX), _CMP_NLE_UQ);
  return LZ_UNLIKELY(m) ? scalar_lanes(y, x, m, sinf) : y;
}

static inline V vcos(V x) {
  V y = sincos_fast(x, 1);
  M m = CMP(VABS(x), K(SC_MAX), _CMP_NLE_UQ);
  return LZ_UNLIKELY(m) ? scalar_lanes(y, x, m, cosf) : y;
}

/* ---- tanh, sigmoid ---- */

static inline V vtanh(V x) {
  V a = VABS(x);
  V a2 = MUL(a, a), a4 = MUL(a2, a2);
  V p = FMA(K(TANH_C[4]), a4, FMA(K(TANH_C[3]), a2, K(TANH_C[2])));
  p = FMA(p, a4, FMA(K(TANH_C[1]), a2, K(TANH_C[0])));
  V ys = FMA(MUL(a, a2), p, a);
  V elo, e = exp_fast(ADD(MIN(K(9.1f), a), MIN(K(9.1f), a)), &elo, 1);
  V d = ADD(e, K(1.0f)), dlo = ADD(ADD(SUB(e, d), K(1.0f)), elo);
  V q = DIV(K(2.0f), d);
  V rem = FNMA(q, dlo, FNMA(q, d, K(2.0f)));
  V yl = SUB(K(1.0f), FMA(rem, MUL(q, K(0.5f)), q));
  V y = BLEND(CMP(a, K(TANH_SMALL), _CMP_LT_OQ), yl, ys);
  return OR(y, SIGN_OF(x));
}

static inline V vsigmoid(V x) {
  V z = OR(x, K(-0.0f)); /* -|x| */
  V elo, e = exp_fast(MAX(z, K(-87.0f)), &elo, 0);
  M tiny = CMP(z, K(-87.0f), _CMP_NGE_UQ);
  if (LZ_UNLIKELY(tiny)) {
    e = BLEND(tiny, e, exp_any(z));
    elo = MASKZ((M)~tiny, elo);
  }
  V d = ADD(K(1.0f), e), dlo = ADD(ADD(SUB(K(1.0f), d), e), elo);
  M pos = CMP(x, ZERO(), _CMP_GE_OQ);
  V num = BLEND(pos, e, K(1.0f)), numlo = MASKZ((M)~pos, elo);
  V q = DIV(num, d);
  return FMA(FNMA(q, dlo, ADD(FNMA(q, d, num), numlo)), DIV(K(1.0f), d), q);
}

/* ---- erf ---- */

static inline V verf(V x) {
  V a = MIN(K(3.9375f), VABS(x)); /* NaN stays NaN: min returns its 2nd operand */
  VI idx = CVTT(ADD(a, a));
  M first = CMPEQI(idx, KI(0));
  V v = BLEND(first, SUB(a, PERM8(ERF_CTR, idx)), MUL(a, a));
  V p = PERM8(ERF_C[7], idx);
  for (int k = 6; k >= 0; k--) p = FMA(p, v, PERM8(ERF_C[k], idx));
  V y = FMA(BLEND(first, K(1.0f), a), p, MASKZ(first, a));
  return OR(y, SIGN_OF(x));
}

#endif /* LZ_CPU_SIMD16_VMATH_H */
