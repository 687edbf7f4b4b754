/* Float32 reduction kernels over contiguous memory: a portable version and an AVX2 one (exp on
 * 8 lanes from cpu/vmath.h, as the elementwise exp), picked per call by the kernel path
 * (core/isa.h); the AVX-512 paths take the 16-lane ones of cpu/simd16_kernels.h. */
#include <math.h>

#include "reduce_simd.h"
#include "simd16_table.h"
#include "unary.h"
#include "vmath.h"

/* ---- portable --------------------------------------------------------------------------- */

/* 8 independent lanes per block (the compiler vectorises them), block sums in double. */
#define BLOCKED_SUM(EXPR)                                                                        \
  double total = 0;                                                                              \
  for (int64_t b = 0; b < n; b += LZ_RED_BLOCK) {                                                \
    int64_t e = n - b < LZ_RED_BLOCK ? n : b + LZ_RED_BLOCK, i = b;                              \
    float l[8] = {0};                                                                            \
    for (; i + 8 <= e; i += 8)                                                                   \
      for (int k = 0; k < 8; k++) {                                                              \
        float v = x[i + k];                                                                      \
        l[k] += EXPR;                                                                            \
      }                                                                                          \
    float r = 0;                                                                                 \
    for (; i < e; i++) {                                                                         \
      float v = x[i];                                                                            \
      r += EXPR;                                                                                 \
    }                                                                                            \
    total += (double)(((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))) +      \
             (double)r;                                                                          \
  }                                                                                              \
  return total;

static double p_row_sum(const float *x, int64_t n) { BLOCKED_SUM(v) }
static double p_row_ssd(const float *x, int64_t n, float c) { BLOCKED_SUM((v - c) * (v - c)) }
static double p_row_sexp(const float *x, int64_t n, float c) { BLOCKED_SUM(expf(v - c)) }

static float p_row_ext(const float *x, int64_t n, bool is_max, bool *nan) {
  float m = x[0];
  bool seen = false;
  for (int64_t i = 0; i < n; i++) {
    float v = x[i];
    seen |= v != v;
    if (m != m || (is_max ? v > m : v < m)) m = v;
  }
  *nan = seen;
  return m;
}

static int64_t p_row_argext(const float *x, int64_t n, bool is_max) {
  float best = x[0];
  int64_t bi = 0;
  if (best != best) return 0;
  for (int64_t i = 1; i < n; i++) {
    float v = x[i];
    if (v != v) return i;
    if (is_max ? v > best : v < best) best = v, bi = i;
  }
  return bi;
}

/* The shift of a softmax: NaN if any input is NaN; 0 if the max is -inf (all -inf then gives
 * 0/0 = NaN, as MLX); the max otherwise. */
static float softmax_shift(float m, bool nan) {
  if (nan) return NAN;
  if (isinf(m)) return m > 0 ? m : 0;
  return m;
}

static void p_row_softmax(float *y, const float *x, int64_t n) {
  if (n <= 0) return;
  bool nan = false;
  float m = softmax_shift(p_row_ext(x, n, true, &nan), nan), s = 0;
  for (int64_t i = 0; i < n; i++) {
    y[i] = expf(x[i] - m);
    s += y[i];
  }
  float r = 1.0f / s;
  for (int64_t i = 0; i < n; i++) y[i] *= r;
}

static void p_col_sum(float *a, const float *x, int64_t n) {
  for (int64_t j = 0; j < n; j++) a[j] += x[j];
}
static void p_col_ssd(float *a, const float *x, const float *c, int64_t n) {
  for (int64_t j = 0; j < n; j++) a[j] += (x[j] - c[j]) * (x[j] - c[j]);
}
static void p_col_sexp(float *a, const float *x, const float *c, int64_t n) {
  for (int64_t j = 0; j < n; j++) a[j] += expf(x[j] - c[j]);
}
static void p_col_ext(float *a, const float *x, int64_t n, bool is_max) {
  if (is_max) {
    for (int64_t j = 0; j < n; j++) a[j] = x[j] > a[j] || x[j] != x[j] ? x[j] : a[j];
  } else {
    for (int64_t j = 0; j < n; j++) a[j] = x[j] < a[j] || x[j] != x[j] ? x[j] : a[j];
  }
}
static void p_col_argext(float *best, uint32_t *idx, const float *x, int64_t n, uint32_t r,
                         bool is_max) {
  for (int64_t j = 0; j < n; j++) {
    float v = x[j], b = best[j];
    bool take = (is_max ? v > b : v < b) || (v != v && b == b);
    if (take) best[j] = v, idx[j] = r;
  }
}
static void p_col_expsum(float *y, float *s, const float *x, const float *m, int64_t n) {
  for (int64_t j = 0; j < n; j++) {
    y[j] = expf(x[j] - m[j]);
    s[j] += y[j];
  }
}
static void p_col_scale(float *y, const float *r, int64_t n) {
  for (int64_t j = 0; j < n; j++) y[j] *= r[j];
}

static void p_cols_sum(float *a, const float *x, int64_t rs, int rows, int64_t n) {
  for (int r = 0; r < rows; r++) p_col_sum(a, x + r * rs, n);
}
static void p_cols_ext(float *a, const float *x, int64_t rs, int rows, int64_t n, bool is_max) {
  for (int r = 0; r < rows; r++) p_col_ext(a, x + r * rs, n, is_max);
}

static const lz_red_kernels portable = {
    p_row_sum,  p_row_ssd,  p_row_sexp,   p_row_ext,   p_row_argext,
    p_row_softmax, p_col_sum, p_col_ssd, p_col_sexp, p_col_ext, p_col_argext, p_col_expsum,
    p_col_scale, p_cols_sum, p_cols_ext,
};

/* ---- AVX2 ------------------------------------------------------------------------------- */

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) /* clang: portable path */
#define LZ_HAVE_AVX2_RED 1
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#include <immintrin.h>
#include <sleef.h>

/* The first k (< 8) lanes set. */
static inline __m256i tail_mask(int64_t k) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline double hsum_d(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  __m256d d = _mm256_add_pd(_mm256_cvtps_pd(lo), _mm256_cvtps_pd(hi));
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(d), _mm256_extractf128_pd(d, 1));
  return _mm_cvtsd_f64(s) + _mm_cvtsd_f64(_mm_unpackhi_pd(s, s));
}

/* Four 8-lane accumulators per block of LZ_RED_BLOCK elements; the tail is masked. */
#define AVX_BLOCKED_SUM(F)                                                                       \
  double total = 0;                                                                              \
  for (int64_t b = 0; b < n; b += LZ_RED_BLOCK) {                                                \
    int64_t e = n - b < LZ_RED_BLOCK ? n : b + LZ_RED_BLOCK, i = b;                              \
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                                  \
    for (; i + 32 <= e; i += 32) {                                                               \
      a0 = _mm256_add_ps(a0, F(_mm256_loadu_ps(x + i)));                                         \
      a1 = _mm256_add_ps(a1, F(_mm256_loadu_ps(x + i + 8)));                                     \
      a2 = _mm256_add_ps(a2, F(_mm256_loadu_ps(x + i + 16)));                                    \
      a3 = _mm256_add_ps(a3, F(_mm256_loadu_ps(x + i + 24)));                                    \
    }                                                                                            \
    for (; i + 8 <= e; i += 8) a0 = _mm256_add_ps(a0, F(_mm256_loadu_ps(x + i)));                \
    if (i < e) {                                                                                 \
      __m256i mk = tail_mask(e - i);                                                             \
      __m256 t = F(_mm256_maskload_ps(x + i, mk));                                               \
      a1 = _mm256_add_ps(a1, _mm256_and_ps(t, _mm256_castsi256_ps(mk)));                         \
    }                                                                                            \
    total += hsum_d(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));                \
  }                                                                                              \
  return total;

#define F_ID(v) (v)
static double v_row_sum(const float *x, int64_t n) { AVX_BLOCKED_SUM(F_ID) }
static double v_row_ssd(const float *x, int64_t n, float c) {
  __m256 cv = _mm256_set1_ps(c);
#define F_SSD(v) _mm256_mul_ps(_mm256_sub_ps(v, cv), _mm256_sub_ps(v, cv))
  AVX_BLOCKED_SUM(F_SSD)
#undef F_SSD
}
static double v_row_sexp(const float *x, int64_t n, float c) {
  __m256 cv = _mm256_set1_ps(c);
#define F_SEXP(v) LZ_VEXPF8(_mm256_sub_ps(v, cv))
  AVX_BLOCKED_SUM(F_SEXP)
#undef F_SEXP
}

static inline float hext(__m256 v, bool is_max) {
  float t[8];
  _mm256_storeu_ps(t, v);
  float m = t[0];
  for (int k = 1; k < 8; k++) m = is_max ? (t[k] > m ? t[k] : m) : (t[k] < m ? t[k] : m);
  return m;
}

/* max/min ignoring NaN: _mm256_max_ps(x, m) returns m when x is NaN, and m starts as a
 * non-NaN value when there is one. */
static float v_row_ext(const float *x, int64_t n, bool is_max, bool *nan) {
  int64_t i = 0;
  float first = x[0];
  for (; first != first && i + 1 < n; first = x[++i]) {
  }
  __m256 m0 = _mm256_set1_ps(first), m1 = m0, un = _mm256_setzero_ps();
  un = _mm256_cmp_ps(m0, m0, _CMP_UNORD_Q);
  int64_t j = 0;
  if (is_max) {
    for (; j + 16 <= n; j += 16) {
      __m256 a = _mm256_loadu_ps(x + j), b = _mm256_loadu_ps(x + j + 8);
      un = _mm256_or_ps(un, _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
      m0 = _mm256_max_ps(a, m0), m1 = _mm256_max_ps(b, m1);
    }
  } else {
    for (; j + 16 <= n; j += 16) {
      __m256 a = _mm256_loadu_ps(x + j), b = _mm256_loadu_ps(x + j + 8);
      un = _mm256_or_ps(un, _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
      m0 = _mm256_min_ps(a, m0), m1 = _mm256_min_ps(b, m1);
    }
  }
  float m = hext(is_max ? _mm256_max_ps(m0, m1) : _mm256_min_ps(m0, m1), is_max);
  bool seen = i > 0 || _mm256_movemask_ps(un) != 0;
  for (; j < n; j++) {
    float v = x[j];
    seen |= v != v;
    if (is_max ? v > m : v < m) m = v;
  }
  *nan = seen;
  return m;
}

static int64_t v_row_argext(const float *x, int64_t n, bool is_max) {
  bool nan = false;
  float m = v_row_ext(x, n, is_max, &nan);
  int64_t j = 0;
  __m256 mv = _mm256_set1_ps(m);
  for (; j + 8 <= n; j += 8) {
    __m256 v = _mm256_loadu_ps(x + j);
    __m256 hit = nan ? _mm256_cmp_ps(v, v, _CMP_UNORD_Q) : _mm256_cmp_ps(v, mv, _CMP_EQ_OQ);
    int bits = _mm256_movemask_ps(hit);
    if (bits) return j + __builtin_ctz((unsigned)bits);
  }
  for (; j < n; j++)
    if (nan ? x[j] != x[j] : x[j] == m) return j;
  return 0;
}

static void v_row_softmax(float *y, const float *x, int64_t n) {
  if (n <= 0) return;
  bool nan = false;
  float m = softmax_shift(v_row_ext(x, n, true, &nan), nan);
  __m256 mv = _mm256_set1_ps(m), s0 = _mm256_setzero_ps(), s1 = s0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 a = LZ_VEXPF8(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv));
    __m256 b = LZ_VEXPF8(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), mv));
    _mm256_storeu_ps(y + i, a), _mm256_storeu_ps(y + i + 8, b);
    s0 = _mm256_add_ps(s0, a), s1 = _mm256_add_ps(s1, b);
  }
  for (; i < n; i += 8) {
    __m256i mk = tail_mask(n - i < 8 ? n - i : 8);
    __m256 a = LZ_VEXPF8(_mm256_sub_ps(_mm256_maskload_ps(x + i, mk), mv));
    a = _mm256_and_ps(a, _mm256_castsi256_ps(mk));
    _mm256_maskstore_ps(y + i, mk, a);
    s0 = _mm256_add_ps(s0, a);
  }
  float r = 1.0f / (float)hsum_d(_mm256_add_ps(s0, s1));
  __m256 rv = _mm256_set1_ps(r);
  for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), rv));
  for (; i < n; i++) y[i] *= r;
}

/* Column kernels: 8 columns per vector, the scalar tail as the portable code. */
static void v_col_sum(float *a, const float *x, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    _mm256_storeu_ps(a + j, _mm256_add_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(x + j)));
  p_col_sum(a + j, x + j, n - j);
}
static void v_col_ssd(float *a, const float *x, const float *c, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(c + j));
    _mm256_storeu_ps(a + j, _mm256_fmadd_ps(d, d, _mm256_loadu_ps(a + j)));
  }
  p_col_ssd(a + j, x + j, c + j, n - j);
}
static void v_col_sexp(float *a, const float *x, const float *c, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 e = LZ_VEXPF8(_mm256_sub_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(c + j)));
    _mm256_storeu_ps(a + j, _mm256_add_ps(_mm256_loadu_ps(a + j), e));
  }
  p_col_sexp(a + j, x + j, c + j, n - j);
}
static void v_col_ext(float *a, const float *x, int64_t n, bool is_max) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 v = _mm256_loadu_ps(x + j), b = _mm256_loadu_ps(a + j);
    __m256 better = is_max ? _mm256_cmp_ps(v, b, _CMP_GT_OQ) : _mm256_cmp_ps(b, v, _CMP_GT_OQ);
    __m256 take = _mm256_or_ps(better, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    _mm256_storeu_ps(a + j, _mm256_blendv_ps(b, v, take));
  }
  p_col_ext(a + j, x + j, n - j, is_max);
}
static void v_col_argext(float *best, uint32_t *idx, const float *x, int64_t n, uint32_t r,
                         bool is_max) {
  int64_t j = 0;
  __m256 rv = _mm256_castsi256_ps(_mm256_set1_epi32((int)r));
  for (; j + 8 <= n; j += 8) {
    __m256 v = _mm256_loadu_ps(x + j), b = _mm256_loadu_ps(best + j);
    __m256 better = is_max ? _mm256_cmp_ps(v, b, _CMP_GT_OQ) : _mm256_cmp_ps(b, v, _CMP_GT_OQ);
    __m256 first_nan = _mm256_andnot_ps(_mm256_cmp_ps(b, b, _CMP_UNORD_Q),
                                        _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    __m256 take = _mm256_or_ps(better, first_nan);
    _mm256_storeu_ps(best + j, _mm256_blendv_ps(b, v, take));
    __m256 iv = _mm256_loadu_ps((const float *)(idx + j));
    _mm256_storeu_ps((float *)(idx + j), _mm256_blendv_ps(iv, rv, take));
  }
  p_col_argext(best + j, idx + j, x + j, n - j, r, is_max);
}
static void v_col_expsum(float *y, float *s, const float *x, const float *m, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 e = LZ_VEXPF8(_mm256_sub_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(m + j)));
    _mm256_storeu_ps(y + j, e);
    _mm256_storeu_ps(s + j, _mm256_add_ps(_mm256_loadu_ps(s + j), e));
  }
  p_col_expsum(y + j, s + j, x + j, m + j, n - j);
}
static void v_col_scale(float *y, const float *r, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    _mm256_storeu_ps(y + j, _mm256_mul_ps(_mm256_loadu_ps(y + j), _mm256_loadu_ps(r + j)));
  p_col_scale(y + j, r + j, n - j);
}

static void v_cols_sum(float *a, const float *x, int64_t rs, int rows, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 s0 = _mm256_loadu_ps(a + j), s1 = _mm256_setzero_ps();
    int r = 0;
    for (; r + 2 <= rows; r += 2) {
      s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + r * rs + j));
      s1 = _mm256_add_ps(s1, _mm256_loadu_ps(x + (r + 1) * rs + j));
    }
    if (r < rows) s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + r * rs + j));
    _mm256_storeu_ps(a + j, _mm256_add_ps(s0, s1));
  }
  if (j < n) p_cols_sum(a + j, x + j, rs, rows, n - j);
}
static void v_cols_ext(float *a, const float *x, int64_t rs, int rows, int64_t n, bool is_max) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 b = _mm256_loadu_ps(a + j);
    for (int r = 0; r < rows; r++) {
      __m256 v = _mm256_loadu_ps(x + r * rs + j);
      __m256 better = is_max ? _mm256_cmp_ps(v, b, _CMP_GT_OQ) : _mm256_cmp_ps(b, v, _CMP_GT_OQ);
      b = _mm256_blendv_ps(b, v, _mm256_or_ps(better, _mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
    }
    _mm256_storeu_ps(a + j, b);
  }
  if (j < n) p_cols_ext(a + j, x + j, rs, rows, n - j, is_max);
}

#pragma GCC pop_options

static const lz_red_kernels avx2 = {
    v_row_sum,  v_row_ssd,  v_row_sexp,   v_row_ext,   v_row_argext,
    v_row_softmax, v_col_sum, v_col_ssd, v_col_sexp, v_col_ext, v_col_argext, v_col_expsum,
    v_col_scale, v_cols_sum, v_cols_ext,
};
#endif

const lz_red_kernels *lz_cpu_red_kernels(void) {
  lz_isa path = lz_isa_path();
  const lz_s16_kernels *t = lz_s16_for(path);
  if (t) return &t->red;
#ifdef LZ_HAVE_AVX2_RED
  if (path >= LZ_ISA_AVX2) return &avx2;
#endif
  return &portable;
}
