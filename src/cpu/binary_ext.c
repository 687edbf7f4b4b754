/* Binary kernels beyond plain arithmetic: floor division, remainder (both as divmod too),
 * power, arctan2 and logaddexp. Integer division never traps: x // 0 and x % 0 are 0, and
 * INT_MIN // -1 wraps to INT_MIN. */
#include "binary_impl.h"
#include "unary.h"

/* ---- integer floor division and remainder (Python's sign rules) ---- */
static inline int64_t floor_divide_i(int64_t x, int64_t y) {
  if (y == 0) return 0;
  if (y == -1) return (int64_t)(0 - (uint64_t)x); /* INT64_MIN / -1 would trap */
  int64_t q = x / y;
  if (x % y != 0 && ((x < 0) != (y < 0))) q--;
  return q;
}
static inline int64_t remainder_i(int64_t x, int64_t y) {
  if (y == 0 || y == -1) return 0;
  int64_t r = x % y;
  if (r != 0 && ((r < 0) != (y < 0))) r += y;
  return r;
}
static inline uint64_t floor_divide_u(uint64_t x, uint64_t y) { return y ? x / y : 0; }
static inline uint64_t remainder_u(uint64_t x, uint64_t y) { return y ? x % y : 0; }

/* ---- float floor division (floor(x / y), as MLX) and remainder (NumPy's npy_divmod) ---- */
static inline double fmod_d(double x, double y) {
  double m = fmod(x, y);
  if (y == 0) return m; /* NaN */
  if (m != 0) {
    if ((y < 0) != (m < 0)) m += y;
  } else {
    m = copysign(0.0, y);
  }
  return m;
}
static inline float fmod_f(float x, float y) {
  float m = fmodf(x, y);
  if (y == 0) return m;
  if (m != 0) {
    if ((y < 0) != (m < 0)) m += y;
  } else {
    m = copysignf(0.0f, y);
  }
  return m;
}

#define SI(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, (T)OP##_i(x, y))
#define UI(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, (T)OP##_u(x, y))
#define FL(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, OP##_##T##_(x, y))
/* Half loops: per element on the scalar path, else blocks through OP##_float. */
#define HALF(OP, F)                                                                              \
  BIN_LOOP(OP##_f16_ref, uint16_t, uint16_t, lz_h2f, lz_f2h, F(x, y))                            \
  BIN_LOOP(OP##_bf16_ref, uint16_t, uint16_t, lz_b2f, lz_f2b, F(x, y))                           \
  LZ_HALF_VIA_F32(OP, OP##_float, 2, true)
#define TABLE_NUM(OP)                                                                            \
  const lz_cpu_inner_fn lz_cpu_##OP##_loops[LZ_DTYPE_COUNT] = {                                  \
      ENTRIES_UINTS(OP), ENTRIES_SINTS(OP), ENTRIES_FLOATS(OP)};

static inline float floor_divide_float_(float x, float y) { return floorf(x / y); }
static inline double floor_divide_double_(double x, double y) { return floor(x / y); }
static inline float remainder_float_(float x, float y) { return fmod_f(x, y); }
static inline double remainder_double_(double x, double y) { return fmod_d(x, y); }

FOR_SINTS(SI, floor_divide)
FOR_UINTS(UI, floor_divide)
FOR_FLOATS(FL, floor_divide)
HALF(floor_divide, floor_divide_float_)
TABLE_NUM(floor_divide)

FOR_SINTS(SI, remainder)
FOR_UINTS(UI, remainder)
FOR_FLOATS(FL, remainder)
HALF(remainder, fmod_f)
TABLE_NUM(remainder)

/* ---- divmod: operands (quotient, remainder, a, b) ---- */
#define DIVMOD_LOOP(NAME, T, LOAD, STORE, QF, RF)                                                \
  static void NAME(void *ctx, int64_t n, char **p, const int64_t *s) {                           \
    (void)ctx;                                                                                   \
    char *pq = p[0], *pr = p[1];                                                                 \
    const char *pa = p[2], *pb = p[3];                                                           \
    for (int64_t i = 0; i < n; i++, pq += s[0], pr += s[1], pa += s[2], pb += s[3]) {            \
      __typeof__(LOAD(*(const T *)pa)) x = LOAD(*(const T *)pa), y = LOAD(*(const T *)pb);       \
      *(T *)pq = STORE(QF(x, y));                                                                \
      *(T *)pr = STORE(RF(x, y));                                                                \
    }                                                                                            \
  }
#define DM_SI(OP, DT, T) DIVMOD_LOOP(OP##_##T, T, ID, (T), floor_divide_i, remainder_i)
#define DM_UI(OP, DT, T) DIVMOD_LOOP(OP##_##T, T, ID, (T), floor_divide_u, remainder_u)
FOR_SINTS(DM_SI, divmod)
FOR_UINTS(DM_UI, divmod)
DIVMOD_LOOP(divmod_float, float, ID, ID, floor_divide_float_, fmod_f)
DIVMOD_LOOP(divmod_double, double, ID, ID, floor_divide_double_, fmod_d)
DIVMOD_LOOP(divmod_f16, uint16_t, lz_h2f, lz_f2h, floor_divide_float_, fmod_f)
DIVMOD_LOOP(divmod_bf16, uint16_t, lz_b2f, lz_f2b, floor_divide_float_, fmod_f)
TABLE_NUM(divmod)

/* ---- power: exact wrapping integer powers; a negative exponent truncates 1/a**-b ---- */
static inline uint64_t ipow_u(uint64_t b, uint64_t e) {
  uint64_t r = 1;
  while (e) {
    if (e & 1) r *= b;
    e >>= 1;
    b *= b;
  }
  return r;
}
static inline int64_t ipow_i(int64_t b, int64_t e) {
  if (e < 0) return b == 1 ? 1 : b == -1 ? ((e & 1) ? -1 : 1) : 0;
  return (int64_t)ipow_u((uint64_t)b, (uint64_t)e);
}
#define PW_SI(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, (T)ipow_i(x, y))
#define PW_UI(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, (T)ipow_u(x, y))
FOR_SINTS(PW_SI, power)
FOR_UINTS(PW_UI, power)
BIN_LOOP(power_double, double, double, ID, ID, pow(x, y))

/* float32 loops with a vector path for runs where all three operands are contiguous. */
#define VEC2_F32(NAME, VOP, EXPR)                                                                \
  BIN_LOOP(NAME##_scalar, float, float, ID, ID, EXPR)                                            \
  static void NAME(void *ctx, int64_t n, char **p, const int64_t *s) {                           \
    lz_cpu_vec2_fn v = lz_cpu_vec_binary(VOP);                                                   \
    if (v && s[0] == 4 && s[1] == 4 && s[2] == 4) {                                              \
      v((float *)p[0], (const float *)p[1], (const float *)p[2], n);                             \
      return;                                                                                    \
    }                                                                                            \
    NAME##_scalar(ctx, n, p, s);                                                                 \
  }
VEC2_F32(power_float, LZ_VEC_POW, powf(x, y))
HALF(power, powf)
TABLE_NUM(power)

VEC2_F32(arctan2_float, LZ_VEC_ATAN2, atan2f(x, y))
BIN_LOOP(arctan2_double, double, double, ID, ID, atan2(x, y))
HALF(arctan2, atan2f)
const lz_cpu_inner_fn lz_cpu_arctan2_loops[LZ_DTYPE_COUNT] = {ENTRIES_FLOATS(arctan2)};

/* ---- logaddexp: max + log1p(exp(min - max)), exact at infinities, NaN-propagating ---- */
static inline double lae_d(double x, double y) {
  if (x != x || y != y) return x + y;
  double hi = x > y ? x : y, lo = x > y ? y : x;
  if (lo == -INFINITY || hi == INFINITY) return hi;
  return hi + log1p(exp(lo - hi));
}
static inline float lae_f(float x, float y) {
  if (x != x || y != y) return x + y;
  float hi = x > y ? x : y, lo = x > y ? y : x;
  if (lo == -INFINITY || hi == INFINITY) return hi;
  return hi + log1pf(expf(lo - hi));
}
BIN_LOOP(logaddexp_float, float, float, ID, ID, lae_f(x, y))
BIN_LOOP(logaddexp_double, double, double, ID, ID, lae_d(x, y))
HALF(logaddexp, lae_f)
const lz_cpu_inner_fn lz_cpu_logaddexp_loops[LZ_DTYPE_COUNT] = {ENTRIES_FLOATS(logaddexp)};
