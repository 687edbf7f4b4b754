/* The AVX-512 kernels, written once against the 16-lane layer (cpu/simd16.h) and compiled
 * twice: natively (cpu/simd16_avx512.c) and on the AVX2 emulation of the layer
 * (cpu/simd16_emu.c), which is what the tests run on CPUs without AVX-512. Tails are masked
 * loads and stores, so every element of an array goes through the same vector code.
 *
 * The including file defines S16_TABLE (the table's name), S16_SLEEF1(name, v) and
 * S16_SLEEF2(name, a, b) (SLEEF's u10 function on 16 lanes), and includes this inside its
 * target pragma. */
#include <math.h>
#include <string.h>

#include "simd16.h"
#include "simd16_table.h"
#include "simd16_vmath.h"

/* ---- elementwise: o[i] = F(x[i]) ---- */

#define S16_UNARY(NAME, F)                                                                       \
  static void NAME(float *o, const float *x, int64_t n) {                                        \
    int64_t i = 0;                                                                               \
    for (; i + 16 <= n; i += 16) STORE(o + i, F(LOAD(x + i)));                                   \
    if (i < n) {                                                                                 \
      M m = TAIL(n - i);                                                                         \
      STOREM(o + i, m, F(LOADZ(m, x + i)));                                                      \
    }                                                                                            \
  }
#define S16_BINARY(NAME, F)                                                                      \
  static void NAME(float *o, const float *x, const float *y, int64_t n) {                        \
    int64_t i = 0;                                                                               \
    for (; i + 16 <= n; i += 16) STORE(o + i, F(LOAD(x + i), LOAD(y + i)));                     \
    if (i < n) {                                                                                 \
      M m = TAIL(n - i);                                                                         \
      STOREM(o + i, m, F(LOADZ(m, x + i), LOADZ(m, y + i)));                                     \
    }                                                                                            \
  }

static inline V f_rsqrt(V v) { return DIV(K(1.0f), SQRT(v)); } /* exact, not rsqrt14 */
static inline V f_recip(V v) { return DIV(K(1.0f), v); }
#define SL1(NAME)                                                                                \
  static inline V f_##NAME(V v) { return S16_SLEEF1(NAME, v); }
#define SL2(NAME)                                                                                \
  static inline V f_##NAME(V a, V b) { return S16_SLEEF2(NAME, a, b); }
SL1(log2)
SL1(log10)
SL1(tan)
SL1(asin)
SL1(acos)
SL1(atan)
SL1(sinh)
SL1(cosh)
SL1(asinh)
SL1(acosh)
SL1(atanh)
SL2(pow)
SL2(atan2)

S16_UNARY(u_sqrt, SQRT)
S16_UNARY(u_rsqrt, f_rsqrt)
S16_UNARY(u_recip, f_recip)
S16_UNARY(u_exp, vexp)
S16_UNARY(u_expm1, vexpm1)
S16_UNARY(u_log, vlog)
S16_UNARY(u_log1p, vlog1p)
S16_UNARY(u_sin, vsin)
S16_UNARY(u_cos, vcos)
S16_UNARY(u_tanh, vtanh)
S16_UNARY(u_sigmoid, vsigmoid)
S16_UNARY(u_erf, verf)
S16_UNARY(u_log2, f_log2)
S16_UNARY(u_log10, f_log10)
S16_UNARY(u_tan, f_tan)
S16_UNARY(u_asin, f_asin)
S16_UNARY(u_acos, f_acos)
S16_UNARY(u_atan, f_atan)
S16_UNARY(u_sinh, f_sinh)
S16_UNARY(u_cosh, f_cosh)
S16_UNARY(u_asinh, f_asinh)
S16_UNARY(u_acosh, f_acosh)
S16_UNARY(u_atanh, f_atanh)
S16_BINARY(b_pow, f_pow)
S16_BINARY(b_atan2, f_atan2)

/* float32 arithmetic, both operands arrays (vv), x one value (sv), y one value (vs) */
#define S16_ARITH(NAME, F)                                                                       \
  static void NAME##_vv(float *o, const float *x, const float *y, int64_t n) {                   \
    int64_t i = 0;                                                                               \
    for (; i + 16 <= n; i += 16) STORE(o + i, F(LOAD(x + i), LOAD(y + i)));                      \
    if (i < n) {                                                                                 \
      M m = TAIL(n - i);                                                                         \
      STOREM(o + i, m, F(LOADZ(m, x + i), LOADZ(m, y + i)));                                     \
    }                                                                                            \
  }                                                                                              \
  static void NAME##_sv(float *o, const float *x, const float *y, int64_t n) {                   \
    V xv = K(*x);                                                                                \
    int64_t i = 0;                                                                               \
    for (; i + 16 <= n; i += 16) STORE(o + i, F(xv, LOAD(y + i)));                               \
    if (i < n) {                                                                                 \
      M m = TAIL(n - i);                                                                         \
      STOREM(o + i, m, F(xv, LOADZ(m, y + i)));                                                  \
    }                                                                                            \
  }                                                                                              \
  static void NAME##_vs(float *o, const float *x, const float *y, int64_t n) {                   \
    V yv = K(*y);                                                                                \
    int64_t i = 0;                                                                               \
    for (; i + 16 <= n; i += 16) STORE(o + i, F(LOAD(x + i), yv));                               \
    if (i < n) {                                                                                 \
      M m = TAIL(n - i);                                                                         \
      STOREM(o + i, m, F(LOADZ(m, x + i), yv));                                                  \
    }                                                                                            \
  }
/* NaN propagating, x's NaN first; otherwise x > y ? x : y (x86's MAX(x, y)) */
static inline V f_fmax(V x, V y) { return BLEND(ISNAN(x), BLEND(ISNAN(y), MAX(x, y), y), x); }
static inline V f_fmin(V x, V y) { return BLEND(ISNAN(x), BLEND(ISNAN(y), MIN(x, y), y), x); }
S16_ARITH(a_add, ADD)
S16_ARITH(a_sub, SUB)
S16_ARITH(a_mul, MUL)
S16_ARITH(a_div, DIV)
S16_ARITH(a_max, f_fmax)
S16_ARITH(a_min, f_fmin)
#define ARITH_ENTRY(NAME) {NAME##_vv, NAME##_sv, NAME##_vs}

/* ---- row reductions: n contiguous floats to one value ---- */

/* Four 16-lane accumulators per block of LZ_RED_BLOCK elements, the tail masked (F of a
 * masked-off lane is cleared: exp(0) is not 0), block sums in double. */
#define S16_BLOCKED_SUM(F)                                                                       \
  double total = 0;                                                                              \
  for (int64_t b = 0; b < n; b += LZ_RED_BLOCK) {                                                \
    int64_t e = n - b < LZ_RED_BLOCK ? n : b + LZ_RED_BLOCK, i = b;                              \
    V a0 = ZERO(), a1 = a0, a2 = a0, a3 = a0;                                                    \
    for (; i + 64 <= e; i += 64) {                                                               \
      a0 = ADD(a0, F(LOAD(x + i)));                                                              \
      a1 = ADD(a1, F(LOAD(x + i + 16)));                                                         \
      a2 = ADD(a2, F(LOAD(x + i + 32)));                                                         \
      a3 = ADD(a3, F(LOAD(x + i + 48)));                                                         \
    }                                                                                            \
    for (; i + 16 <= e; i += 16) a0 = ADD(a0, F(LOAD(x + i)));                                   \
    if (i < e) {                                                                                 \
      M m = TAIL(e - i);                                                                         \
      a1 = ADD(a1, MASKZ(m, F(LOADZ(m, x + i))));                                                \
    }                                                                                            \
    total += s16_hsum_d(ADD(ADD(a0, a1), ADD(a2, a3)));                                          \
  }                                                                                              \
  return total;

#define F_ID(v) (v)
static double r_row_sum(const float *x, int64_t n) { S16_BLOCKED_SUM(F_ID) }
static double r_row_ssd(const float *x, int64_t n, float c) {
  V cv = K(c);
#define F_SSD(v) MUL(SUB(v, cv), SUB(v, cv))
  S16_BLOCKED_SUM(F_SSD)
#undef F_SSD
}
static double r_row_sexp(const float *x, int64_t n, float c) {
  V cv = K(c);
#define F_SEXP(v) vexp(SUB(v, cv))
  S16_BLOCKED_SUM(F_SEXP)
#undef F_SEXP
}

static inline float hext(V v, bool is_max) {
  float t[16];
  STORE(t, v);
  float m = t[0];
  for (int k = 1; k < 16; k++) m = is_max ? (t[k] > m ? t[k] : m) : (t[k] < m ? t[k] : m);
  return m;
}

/* max/min ignoring NaN: MAX(x, m) returns m when x is NaN, and m starts as a non-NaN value
 * when there is one; masked-off tail lanes are m itself. */
static float r_row_ext(const float *x, int64_t n, bool is_max, bool *nan) {
  int64_t i = 0;
  float first = x[0];
  for (; first != first && i + 1 < n; first = x[++i]) {
  }
  V m0 = K(first), m1 = m0;
  M un = ISNAN(m0);
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    V a = LOAD(x + j), b = LOAD(x + j + 16);
    un |= CMP(a, b, _CMP_UNORD_Q);
    m0 = is_max ? MAX(a, m0) : MIN(a, m0);
    m1 = is_max ? MAX(b, m1) : MIN(b, m1);
  }
  for (; j < n; j += 16) {
    M t = TAIL(n - j);
    V a = BLEND(t, m0, LOADZ(t, x + j));
    un |= ISNAN(a);
    m0 = is_max ? MAX(a, m0) : MIN(a, m0);
  }
  *nan = i > 0 || un != 0;
  return hext(is_max ? MAX(m0, m1) : MIN(m0, m1), is_max);
}

static int64_t r_row_argext(const float *x, int64_t n, bool is_max) {
  bool nan = false;
  float m = r_row_ext(x, n, is_max, &nan);
  V mv = K(m);
  for (int64_t j = 0; j < n; j += 16) {
    M t = TAIL(n - j);
    V v = LOADZ(t, x + j);
    M hit = t & (nan ? ISNAN(v) : CMP(v, mv, _CMP_EQ_OQ));
    if (hit) return j + __builtin_ctz((unsigned)hit);
  }
  return 0;
}

/* The shift of a softmax, as the portable kernel: NaN if any input is NaN, 0 for a max of
 * -inf (all -inf gives 0/0 = NaN), the max otherwise. */
static void r_row_softmax(float *y, const float *x, int64_t n) {
  if (n <= 0) return;
  bool nan = false;
  float m = r_row_ext(x, n, true, &nan);
  if (nan) m = NAN;
  else if (isinf(m)) m = m > 0 ? m : 0;
  V mv = K(m), s0 = ZERO(), s1 = s0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    V a = vexp(SUB(LOAD(x + i), mv)), b = vexp(SUB(LOAD(x + i + 16), mv));
    STORE(y + i, a), STORE(y + i + 16, b);
    s0 = ADD(s0, a), s1 = ADD(s1, b);
  }
  for (; i < n; i += 16) {
    M t = TAIL(n - i);
    V a = MASKZ(t, vexp(SUB(LOADZ(t, x + i), mv)));
    STOREM(y + i, t, a);
    s0 = ADD(s0, a);
  }
  V rv = K(1.0f / (float)s16_hsum_d(ADD(s0, s1)));
  for (i = 0; i + 16 <= n; i += 16) STORE(y + i, MUL(LOAD(y + i), rv));
  if (i < n) {
    M t = TAIL(n - i);
    STOREM(y + i, t, MUL(LOADZ(t, y + i), rv));
  }
}

/* ---- column reductions: one row of n floats into n accumulators, 16 columns a vector ---- */

/* BODY runs on j, the column, and t, the lanes that exist (all but in the tail). */
#define S16_COLS(BODY)                                                                           \
  for (int64_t j = 0; j < n; j += 16) {                                                          \
    M t = TAIL(n - j);                                                                           \
    BODY;                                                                                        \
  }

static void r_col_sum(float *a, const float *x, int64_t n) {
  S16_COLS(STOREM(a + j, t, ADD(LOADZ(t, a + j), LOADZ(t, x + j))))
}
static void r_col_ssd(float *a, const float *x, const float *c, int64_t n) {
  S16_COLS(V d = SUB(LOADZ(t, x + j), LOADZ(t, c + j)); STOREM(a + j, t, FMA(d, d, LOADZ(t, a + j))))
}
static void r_col_sexp(float *a, const float *x, const float *c, int64_t n) {
  S16_COLS(V e = vexp(SUB(LOADZ(t, x + j), LOADZ(t, c + j)));
           STOREM(a + j, t, ADD(LOADZ(t, a + j), e)))
}
/* the new value where it is better, or NaN (NaN sticks) */
static inline V take_ext(V b, V v, bool is_max) {
  M better = is_max ? CMP(v, b, _CMP_GT_OQ) : CMP(b, v, _CMP_GT_OQ);
  return BLEND(better | ISNAN(v), b, v);
}
static void r_col_ext(float *a, const float *x, int64_t n, bool is_max) {
  S16_COLS(STOREM(a + j, t, take_ext(LOADZ(t, a + j), LOADZ(t, x + j), is_max)))
}
static void r_col_argext(float *best, uint32_t *idx, const float *x, int64_t n, uint32_t r,
                         bool is_max) {
  VI rv = KI((int)r);
  S16_COLS(V v = LOADZ(t, x + j); V b = LOADZ(t, best + j);
           M better = is_max ? CMP(v, b, _CMP_GT_OQ) : CMP(b, v, _CMP_GT_OQ);
           M take = t & (better | (ISNAN(v) & (M)~ISNAN(b)));
           STOREM(best + j, take, v);
           STOREM((float *)(idx + j), take, AS_F(rv)))
}
static void r_col_expsum(float *y, float *s, const float *x, const float *m, int64_t n) {
  S16_COLS(V e = vexp(SUB(LOADZ(t, x + j), LOADZ(t, m + j))); STOREM(y + j, t, e);
           STOREM(s + j, t, ADD(LOADZ(t, s + j), e)))
}
static void r_col_scale(float *y, const float *r, int64_t n) {
  S16_COLS(STOREM(y + j, t, MUL(LOADZ(t, y + j), LOADZ(t, r + j))))
}

static void r_cols_sum(float *a, const float *x, int64_t rs, int rows, int64_t n) {
  S16_COLS(V s0 = LOADZ(t, a + j); V s1 = ZERO(); int r = 0;
           for (; r + 2 <= rows; r += 2) {
             s0 = ADD(s0, LOADZ(t, x + r * rs + j));
             s1 = ADD(s1, LOADZ(t, x + (r + 1) * rs + j));
           } if (r < rows) s0 = ADD(s0, LOADZ(t, x + r * rs + j));
           STOREM(a + j, t, ADD(s0, s1)))
}
static void r_cols_ext(float *a, const float *x, int64_t rs, int rows, int64_t n, bool is_max) {
  S16_COLS(V b = LOADZ(t, a + j);
           for (int r = 0; r < rows; r++) b = take_ext(b, LOADZ(t, x + r * rs + j), is_max);
           STOREM(a + j, t, b))
}

/* ---- layer_norm / rms_norm rows (cpu/fast_norm.c) ---- */

/* sum of x (sq false) or of (x - mu)^2, 16 float lanes combined in double */
static double n_sum(const float *x, int64_t n, float mu, bool sq) {
  V acc = ZERO(), mv = K(mu);
  for (int64_t i = 0; i < n; i += 16) {
    M t = TAIL(n - i);
    V v = LOADZ(t, x + i);
    if (sq) {
      V d = MASKZ(t, SUB(v, mv));
      acc = FMA(d, d, acc);
    } else {
      acc = ADD(acc, v);
    }
  }
  return s16_hsum_d(acc);
}

/* y = (x - mu) * inv * w + b; w, b may be NULL (1, 0): the scalar kernel's operation order */
static void n_apply(float *y, const float *x, float mu, float inv, const float *w, const float *b,
                    int64_t n) {
  V mv = K(mu), iv = K(inv);
  for (int64_t i = 0; i < n; i += 16) {
    M t = TAIL(n - i);
    V v = MUL(SUB(LOADZ(t, x + i), mv), iv);
    if (w) v = MUL(v, LOADZ(t, w + i));
    if (b) v = ADD(v, LOADZ(t, b + i));
    STOREM(y + i, t, v);
  }
}

/* ---- float16 / bfloat16 <-> float32 ---- */

static void c_f16_f32(float *d, const uint16_t *s, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) STORE(d + i, LOADH(0xffff, s + i));
  if (i < n) {
    M t = TAIL(n - i);
    STOREM(d + i, t, LOADH(t, s + i));
  }
}

/* The hardware keeps a NaN's payload; the scalar path (and MLX) give the canonical quiet NaN. */
static void c_f32_f16(uint16_t *d, const float *s, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    M t = TAIL(n - i);
    V v = LOADZ(t, s + i);
    STOREH(d + i, t, v);
    M nan = t & ISNAN(v);
    if (LZ_UNLIKELY(nan))
      for (int k = 0; k < 16; k++)
        if (nan >> k & 1) d[i + k] = lz__f32_to_f16(s[i + k]);
  }
}

static void c_bf16_f32(float *d, const uint16_t *s, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    M t = TAIL(n - i);
    STOREM(d + i, t, AS_F(SLLI(LOADU16(t, s + i), 16)));
  }
}

/* Round to nearest even on the bits; a NaN keeps its top bits, quieted (lz__f32_to_bf16). */
static inline VI bf16_round(V v) {
  VI u = AS_I(v);
  VI r = SRLI(ADDI(u, ADDI(KI(0x7fff), ANDI(SRLI(u, 16), KI(1)))), 16);
  return BLENDI(ISNAN(v), r, ORI(SRLI(u, 16), KI(0x40)));
}

static void c_f32_bf16(uint16_t *d, const float *s, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    M t = TAIL(n - i);
    STOREU16(d + i, t, bf16_round(LOADZ(t, s + i)));
  }
}

#ifdef S16_CVTBF16
/* With AVX512_BF16: the conversion instruction (round to nearest even) for vectors of normal
 * numbers, zeros and infinities; a vector holding a subnormal (which the instruction flushes
 * to zero) or a NaN takes the integer rounding above. */
S16_BF16_ATTR static void c_f32_bf16_hw(uint16_t *d, const float *s, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    M t = TAIL(n - i);
    V v = LOADZ(t, s + i), a = VABS(v);
    M odd = ISNAN(v) | (CMP(a, K(0x1p-126f), _CMP_LT_OQ) & CMP(a, ZERO(), _CMP_NEQ_UQ));
    STOREU16(d + i, t, LZ_UNLIKELY(odd) ? bf16_round(v) : S16_CVTBF16(v));
  }
}
#endif

#include "simd16_blocks.h"

const lz_s16_kernels S16_TABLE = {
    .unary =
        {
            [LZ_VEC_SQRT] = u_sqrt,   [LZ_VEC_RSQRT] = u_rsqrt, [LZ_VEC_RECIPROCAL] = u_recip,
            [LZ_VEC_EXP] = u_exp,     [LZ_VEC_EXPM1] = u_expm1, [LZ_VEC_LOG] = u_log,
            [LZ_VEC_LOG2] = u_log2,   [LZ_VEC_LOG10] = u_log10, [LZ_VEC_LOG1P] = u_log1p,
            [LZ_VEC_SIN] = u_sin,     [LZ_VEC_COS] = u_cos,     [LZ_VEC_TAN] = u_tan,
            [LZ_VEC_ASIN] = u_asin,   [LZ_VEC_ACOS] = u_acos,   [LZ_VEC_ATAN] = u_atan,
            [LZ_VEC_SINH] = u_sinh,   [LZ_VEC_COSH] = u_cosh,   [LZ_VEC_TANH] = u_tanh,
            [LZ_VEC_ASINH] = u_asinh, [LZ_VEC_ACOSH] = u_acosh, [LZ_VEC_ATANH] = u_atanh,
            [LZ_VEC_SIGMOID] = u_sigmoid, [LZ_VEC_ERF] = u_erf,
        },
    .binary = {[LZ_VEC_POW] = b_pow, [LZ_VEC_ATAN2] = b_atan2},
    .arith = {[LZ_ARITH_ADD] = ARITH_ENTRY(a_add), [LZ_ARITH_SUB] = ARITH_ENTRY(a_sub),
              [LZ_ARITH_MUL] = ARITH_ENTRY(a_mul), [LZ_ARITH_DIV] = ARITH_ENTRY(a_div),
              [LZ_ARITH_MAX] = ARITH_ENTRY(a_max), [LZ_ARITH_MIN] = ARITH_ENTRY(a_min)},
    .red = {r_row_sum, r_row_ssd, r_row_sexp, r_row_ext, r_row_argext, r_row_softmax, r_col_sum,
            r_col_ssd, r_col_sexp, r_col_ext, r_col_argext, r_col_expsum, r_col_scale, r_cols_sum,
            r_cols_ext},
    .norm_sum = n_sum,
    .norm_apply = n_apply,
    .f16_to_f32 = c_f16_f32,
    .f32_to_f16 = c_f32_f16,
    .bf16_to_f32 = c_bf16_f32,
    .f32_to_bf16 = c_f32_bf16,
#ifdef S16_CVTBF16
    .f32_to_bf16_hw = c_f32_bf16_hw,
#endif
    .sd_row_max = sd_row_max,
    .sd_exp_sum = sd_exp_sum,
    .sd_scale = sd_scale,
    .sd_grad_row = sd_grad_row,
    .conv_fma_row = cv_fma_row,
    .qmm_t = q_t,
    .qmm_n = q_n,
    .qmm_tile_t = q_tile_t,
    .qmm_tile_n = q_tile_n,
    .qmm_tw = q_tw,
};
