/* Unary elementwise kernels: casts, the kernel of every table-driven unary op, same-dtype
 * arithmetic (abs, negative, sign, square, rounding), float predicates, nan_to_num, logical
 * and bitwise not, complex parts, and the two identity-like kernels (stop_gradient, view).
 * Integers wrap (computed unsigned: no UB); half types compute in float32. */
#include "unary.h"

#include <float.h>
#include <math.h>

#include "binary_impl.h" /* ID, TO_BOOL, dtype lists, entry macros, complex helpers */

/* ---- casts ---- */

typedef struct cast_ctx {
  lz_dtype to, from;
} cast_ctx;

/* Converts one run; strided runs go through a small contiguous staging block. */
static void cast_inner(void *ctx, int64_t n, char **p, const int64_t *s) {
  const cast_ctx *c = ctx;
  size_t os = lz_dtype_size(c->to), is = lz_dtype_size(c->from);
  if (s[0] == (int64_t)os && s[1] == (int64_t)is) {
    lz__convert(p[0], c->to, p[1], c->from, n);
    return;
  }
  enum { BLOCK = 256 };
  unsigned char in[BLOCK * 8], out[BLOCK * 8];
  for (int64_t i = 0; i < n; i += BLOCK) {
    int64_t m = n - i < BLOCK ? n - i : BLOCK;
    for (int64_t j = 0; j < m; j++) memcpy(in + j * (int64_t)is, p[1] + (i + j) * s[1], is);
    lz__convert(out, c->to, in, c->from, m);
    for (int64_t j = 0; j < m; j++) memcpy(p[0] + (i + j) * s[0], out + j * (int64_t)os, os);
  }
}

static int run_unary(lz_node *node, lz_array **outs, lz_cpu_inner_fn fn, void *ctx) {
  lz_array *in = node->inputs[0], *out = outs[0];
  /* Elementwise: the output may take over the input's buffer (loops read x[i] before
   * writing o[i]). */
  if (lz__alloc_output_donate(out, node, lz__op(node->op)->name) != 0) return -1;
  if (out->size == 0) return 0;
  char *base[2] = {lz__data_ptr(out), lz__data_ptr(in)};
  const int64_t *strides[2] = {out->strides, in->strides};
  size_t sizes[2] = {lz_dtype_size(out->dtype), lz_dtype_size(in->dtype)};
  lz_cpu_iter it;
  lz_cpu_iter_init(&it, out->ndim, out->shape, 2, base, strides, sizes);
  lz_cpu_iter_for(&it, fn, ctx);
  return 0;
}

int lz_cpu_astype(lz_node *node, lz_array **outs) {
  cast_ctx c = {outs[0]->dtype, node->inputs[0]->dtype};
  return run_unary(node, outs, cast_inner, &c);
}

int lz_cpu_unary(lz_node *node, lz_array **outs) {
  const lz_cpu_inner_fn *loops = lz__op(node->op)->impl;
  lz_dtype dt = node->inputs[0]->dtype;
  if (!loops[dt]) {
    return lz__error(LZ_ERROR_DTYPE, "lz_eval", "%s has no kernel for %s",
                     lz__op(node->op)->name, lz_dtype_name(dt));
  }
  return run_unary(node, outs, loops[dt], node->params);
}

/* ---- the typed loop: o = STORE(EXPR(x)), x = LOAD(input) ---- */
#define UN_LOOP(NAME, T, OT, LOAD, STORE, EXPR)                                                  \
  static void NAME(void *ctx, int64_t n, char **p, const int64_t *s) {                           \
    (void)ctx;                                                                                   \
    if (s[0] == sizeof(OT) && s[1] == sizeof(T)) {                                               \
      OT *o = (OT *)p[0];                                                                        \
      const T *a = (const T *)p[1];                                                              \
      for (int64_t i = 0; i < n; i++) {                                                          \
        __typeof__(LOAD(a[0])) x = LOAD(a[i]);                                                   \
        o[i] = STORE(EXPR);                                                                      \
      }                                                                                          \
    } else {                                                                                     \
      char *po = p[0];                                                                           \
      const char *pa = p[1];                                                                     \
      for (int64_t i = 0; i < n; i++, po += s[0], pa += s[1]) {                                  \
        __typeof__(LOAD(*(const T *)pa)) x = LOAD(*(const T *)pa);                               \
        *(OT *)po = STORE(EXPR);                                                                 \
      }                                                                                          \
    }                                                                                            \
  }
/* Loops for the float dtypes of one op: EF computes in float (also for the half types: per
 * element on the scalar path, in blocks through the float32 loop otherwise), ED in double;
 * SAME keeps the dtype, PRED gives bool. */
#define UN_SAME_FLOATS(OP, EF, ED)                                                               \
  UN_LOOP(OP##_float, float, float, ID, ID, EF)                                                  \
  UN_LOOP(OP##_double, double, double, ID, ID, ED)                                               \
  UN_LOOP(OP##_f16_ref, uint16_t, uint16_t, lz_h2f, lz_f2h, EF)                                  \
  UN_LOOP(OP##_bf16_ref, uint16_t, uint16_t, lz_b2f, lz_f2b, EF)                                 \
  LZ_HALF_VIA_F32(OP, OP##_float, 1, true)
#define UN_PRED_FLOATS(OP, EXPR)                                                                 \
  UN_LOOP(OP##_float, float, uint8_t, ID, TO_BOOL, EXPR)                                         \
  UN_LOOP(OP##_double, double, uint8_t, ID, TO_BOOL, EXPR)                                       \
  UN_LOOP(OP##_f16_ref, uint16_t, uint8_t, lz_h2f, TO_BOOL, EXPR)                                \
  UN_LOOP(OP##_bf16_ref, uint16_t, uint8_t, lz_b2f, TO_BOOL, EXPR)                               \
  LZ_HALF_VIA_F32(OP, OP##_float, 1, false)
#define CPLX_LOOP(NAME, OT, STORE, EXPR) UN_LOOP(NAME, lz_complex64, OT, ID, STORE, EXPR)
#define NEG_U(T, v) ((T)(0 - (uint64_t)(v))) /* wrapping negation */

/* ---- abs: unsigned and bool inputs never reach the kernel (returned as is) ---- */
#define ABS_S(OP, DT, T) UN_LOOP(OP##_##T, T, T, ID, ID, (x < 0 ? NEG_U(T, x) : x))
FOR_SINTS(ABS_S, abs)
UN_LOOP(abs_float, float, float, ID, ID, fabsf(x))
UN_LOOP(abs_double, double, double, ID, ID, fabs(x))
UN_LOOP(abs_f16, uint16_t, uint16_t, ID, ID, (uint16_t)(x & 0x7fff)) /* exact: clear the sign */
UN_LOOP(abs_bf16, uint16_t, uint16_t, ID, ID, (uint16_t)(x & 0x7fff))
CPLX_LOOP(abs_c64, float, ID, hypotf(x.re, x.im))
const lz_cpu_inner_fn lz_cpu_abs_loops[LZ_DTYPE_COUNT] = {
    ENTRIES_SINTS(abs), ENTRIES_FLOATS(abs), [LZ_COMPLEX64] = abs_c64};

/* ---- negative ---- */
#define NEG_I(OP, DT, T) UN_LOOP(OP##_##T, T, T, ID, ID, NEG_U(T, x))
FOR_INTS(NEG_I, negative)
UN_LOOP(negative_float, float, float, ID, ID, -x)
UN_LOOP(negative_double, double, double, ID, ID, -x)
UN_LOOP(negative_f16, uint16_t, uint16_t, ID, ID, (uint16_t)(x ^ 0x8000))
UN_LOOP(negative_bf16, uint16_t, uint16_t, ID, ID, (uint16_t)(x ^ 0x8000))
static inline lz_complex64 cneg(lz_complex64 c) {
  lz_complex64 r = {-c.re, -c.im};
  return r;
}
CPLX_LOOP(negative_c64, lz_complex64, ID, cneg(x))
const lz_cpu_inner_fn lz_cpu_negative_loops[LZ_DTYPE_COUNT] = {
    ENTRIES_UINTS(negative), ENTRIES_SINTS(negative), ENTRIES_FLOATS(negative),
    [LZ_COMPLEX64] = negative_c64};

/* ---- sign: -1, 0, 1; NaN and zeros are returned as they are ---- */
#define SIGN_S(OP, DT, T) UN_LOOP(OP##_##T, T, T, ID, ID, (T)((x > 0) - (x < 0)))
#define SIGN_U(OP, DT, T) UN_LOOP(OP##_##T, T, T, ID, ID, (T)(x > 0))
FOR_SINTS(SIGN_S, sign)
FOR_UINTS(SIGN_U, sign)
UN_LOOP(sign_bool, uint8_t, uint8_t, ID, ID, x)
UN_SAME_FLOATS(sign, (x > 0 ? 1.0f : x < 0 ? -1.0f : x), (x > 0 ? 1.0 : x < 0 ? -1.0 : x))
const lz_cpu_inner_fn lz_cpu_sign_loops[LZ_DTYPE_COUNT] = {
    [LZ_BOOL] = sign_bool, ENTRIES_UINTS(sign), ENTRIES_SINTS(sign), ENTRIES_FLOATS(sign)};

/* ---- square ---- */
#define SQ_I(OP, DT, T) UN_LOOP(OP##_##T, T, T, ID, ID, (T)((uint64_t)x * (uint64_t)x))
FOR_INTS(SQ_I, square)
UN_LOOP(square_bool, uint8_t, uint8_t, ID, ID, x)
UN_SAME_FLOATS(square, x * x, x * x)
CPLX_LOOP(square_c64, lz_complex64, lz_z2c, lz_c2z(x) * lz_c2z(x))
const lz_cpu_inner_fn lz_cpu_square_loops[LZ_DTYPE_COUNT] = {
    [LZ_BOOL] = square_bool, ENTRIES_UINTS(square), ENTRIES_SINTS(square),
    ENTRIES_FLOATS(square), [LZ_COMPLEX64] = square_c64};

/* ---- floor, ceil, round: integer inputs never reach the kernel unless round has negative
 * decimals ---- */
UN_SAME_FLOATS(floor, floorf(x), floor(x))
UN_SAME_FLOATS(ceil, ceilf(x), ceil(x))
UN_SAME_FLOATS(trunc, truncf(x), trunc(x))
const lz_cpu_inner_fn lz_cpu_floor_loops[LZ_DTYPE_COUNT] = {ENTRIES_FLOATS(floor)};
const lz_cpu_inner_fn lz_cpu_ceil_loops[LZ_DTYPE_COUNT] = {ENTRIES_FLOATS(ceil)};
const lz_cpu_inner_fn lz_cpu_trunc_loops[LZ_DTYPE_COUNT] = {ENTRIES_FLOATS(trunc)};

/* Rounds half to even at `d` decimals in the dtype's precision, as NumPy: rint(x * 10^d) /
 * 10^d, or rint(x / 10^-d) * 10^-d for negative d. */
static inline float round_f(float x, int d) {
  if (d == 0) return rintf(x);
  if (d > 0) {
    float s = (float)pow(10.0, d);
    return rintf(x * s) / s;
  }
  float s = (float)pow(10.0, -(double)d); /* -d overflows for INT_MIN (op fuzz test) */
  return rintf(x / s) * s;
}
static inline double round_d(double x, int d) {
  if (d == 0) return rint(x);
  if (d > 0) {
    double s = pow(10.0, d);
    return rint(x * s) / s;
  }
  double s = pow(10.0, -(double)d);
  return rint(x / s) * s;
}
/* Integers (only negative d reach here): the nearest multiple of 10^-d, ties to even, exact
 * and wrapping like the rest of integer arithmetic. */
static inline uint64_t pow10_u(int e) {
  uint64_t q = 1;
  for (int i = 0; i < e; i++) q *= 10;
  return q;
}
static inline int64_t round_i(int64_t x, int d) {
  if (d >= 0) return x;
  if (d < -18) return 0; /* every int64 is nearer 0 than 10^19 (and -d may overflow) */
  int64_t q = (int64_t)pow10_u(-d), k = x / q, r = x % q;
  if (r < 0) k -= 1, r += q; /* k = floor(x / q), r in [0, q) */
  if (2 * r > q || (2 * r == q && (k & 1))) k++;
  return (int64_t)((uint64_t)k * (uint64_t)q);
}
static inline uint64_t round_u(uint64_t x, int d) {
  if (d >= 0) return x;
  if (d < -19) return 0;
  uint64_t q = pow10_u(-d), k = x / q, r = x % q;
  if (r > q - r || (r == q - r && (k & 1))) k++;
  return k * q;
}
#define DEC (((const lz_round_params *)ctx)->decimals)
#define ROUND_S(OP, DT, T) UN_LOOP(OP##_##T, T, T, ID, ID, (T)round_i(x, DEC))
#define ROUND_U(OP, DT, T) UN_LOOP(OP##_##T, T, T, ID, ID, (T)round_u(x, DEC))
FOR_SINTS(ROUND_S, round)
FOR_UINTS(ROUND_U, round)
UN_SAME_FLOATS(round, round_f(x, DEC), round_d(x, DEC))
const lz_cpu_inner_fn lz_cpu_round_loops[LZ_DTYPE_COUNT] = {
    ENTRIES_UINTS(round), ENTRIES_SINTS(round), ENTRIES_FLOATS(round)};

/* ---- float classes (integer inputs are answered by the constructor) ---- */
UN_PRED_FLOATS(isnan, x != x)
UN_PRED_FLOATS(isinf, isinf(x))
UN_PRED_FLOATS(isfinite, isfinite(x))
UN_PRED_FLOATS(isposinf, x == INFINITY)
UN_PRED_FLOATS(isneginf, x == -INFINITY)
const lz_cpu_inner_fn lz_cpu_isnan_loops[LZ_DTYPE_COUNT] = {ENTRIES_FLOATS(isnan)};
const lz_cpu_inner_fn lz_cpu_isinf_loops[LZ_DTYPE_COUNT] = {ENTRIES_FLOATS(isinf)};
const lz_cpu_inner_fn lz_cpu_isfinite_loops[LZ_DTYPE_COUNT] = {ENTRIES_FLOATS(isfinite)};
const lz_cpu_inner_fn lz_cpu_isposinf_loops[LZ_DTYPE_COUNT] = {ENTRIES_FLOATS(isposinf)};
const lz_cpu_inner_fn lz_cpu_isneginf_loops[LZ_DTYPE_COUNT] = {ENTRIES_FLOATS(isneginf)};

/* ---- nan_to_num: the replacement values are resolved by the constructor ---- */
#define N2N ((const lz_nan_to_num_params *)ctx)
#define N2N_EXPR(T) (x != x ? (T)N2N->nan : x == INFINITY ? (T)N2N->posinf : x == -INFINITY ? (T)N2N->neginf : x)
UN_SAME_FLOATS(nan_to_num, N2N_EXPR(float), N2N_EXPR(double))
const lz_cpu_inner_fn lz_cpu_nan_to_num_loops[LZ_DTYPE_COUNT] = {ENTRIES_FLOATS(nan_to_num)};

/* ---- logical_not (input converted to bool by the constructor), bitwise_invert ---- */
UN_LOOP(logical_not_bool, uint8_t, uint8_t, ID, ID, (uint8_t)!x)
const lz_cpu_inner_fn lz_cpu_logical_not_loops[LZ_DTYPE_COUNT] = {[LZ_BOOL] = logical_not_bool};
#define INV_I(OP, DT, T) UN_LOOP(OP##_##T, T, T, ID, ID, (T)~x)
FOR_INTS(INV_I, bitwise_invert)
const lz_cpu_inner_fn lz_cpu_bitwise_invert_loops[LZ_DTYPE_COUNT] = {
    ENTRIES_UINTS(bitwise_invert), ENTRIES_SINTS(bitwise_invert)};

/* ---- complex parts (real inputs are answered by the constructor) ---- */
static inline lz_complex64 cconj(lz_complex64 c) {
  lz_complex64 r = {c.re, -c.im};
  return r;
}
CPLX_LOOP(conjugate_c64, lz_complex64, ID, cconj(x))
CPLX_LOOP(real_c64, float, ID, x.re)
CPLX_LOOP(imag_c64, float, ID, x.im)
const lz_cpu_inner_fn lz_cpu_conjugate_loops[LZ_DTYPE_COUNT] = {[LZ_COMPLEX64] = conjugate_c64};
const lz_cpu_inner_fn lz_cpu_real_loops[LZ_DTYPE_COUNT] = {[LZ_COMPLEX64] = real_c64};
const lz_cpu_inner_fn lz_cpu_imag_loops[LZ_DTYPE_COUNT] = {[LZ_COMPLEX64] = imag_c64};

/* ---- identity-like kernels ---- */

int lz_cpu_stop_gradient(lz_node *node, lz_array **outs) {
  lz_array *in = node->inputs[0];
  lz__set_view(outs[0], in, 0, in->strides);
  return 0;
}

/* view: shares the input's buffer when the input is contiguous and its byte offset is a
 * multiple of the new item size; otherwise copies the bytes into a new contiguous buffer. */
int lz_cpu_view(lz_node *node, lz_array **outs) {
  lz_array *in = node->inputs[0], *out = outs[0];
  int64_t isz = (int64_t)lz_dtype_size(in->dtype), osz = (int64_t)lz_dtype_size(out->dtype);
  int64_t byte_off = in->offset * isz;
  if (lz__is_contiguous(in) && byte_off % osz == 0) {
    int64_t strides[LZ_MAX_NDIM], st = 1;
    for (int d = out->ndim - 1; d >= 0; d--) {
      strides[d] = st;
      st *= out->shape[d] ? out->shape[d] : 1;
    }
    lz__set_view(out, in, byte_off / osz - in->offset, strides);
    return 0;
  }
  if (lz__alloc_output(out, "lz_view") != 0) return -1;
  lz__copy_to_contiguous(lz__data_ptr(out), in);
  return 0;
}
