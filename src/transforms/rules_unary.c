/* vjp and jvp rules of the unary elementwise ops and casts (ops/unary.c). Most are one
 * derivative f'(x), shared by both rules: vjp = c * f'(x), jvp = t * f'(x). */
#include "transforms/transforms_impl.h"

#include <math.h>

/* A cast passes the derivative through, converted back; to or from an integer dtype it carries
 * none (as in MLX, integers have no gradient). */
static bool cast_differentiable(lz_dtype from, lz_dtype to) {
  return (lz_dtype_is_float(from) || from == LZ_COMPLEX64) &&
         (lz_dtype_is_float(to) || to == LZ_COMPLEX64);
}

static int vjp_astype(const lz_vjp_args *a, lz_array **g) {
  lz_array *x = a->inputs[0];
  g[0] = NULL;
  if (!a->need[0] || !cast_differentiable(x->dtype, a->node->outputs[0]->dtype)) return 0;
  return (g[0] = lz_astype(a->cotans[0], x->dtype)) ? 0 : -1;
}
static int jvp_astype(const lz_jvp_args *a, lz_array **t) {
  lz_dtype to = a->node->outputs[0]->dtype;
  t[0] = NULL;
  if (!a->tangents[0] || !cast_differentiable(a->inputs[0]->dtype, to)) return 0;
  return (t[0] = lz_astype(a->tangents[0], to)) ? 0 : -1;
}

/* The op's output if the user still holds it, else `f(x)` computed again. */
static lz_array *out_or(lz_node *n, lz_array *(*f)(lz_array *)) {
  lz_array *y = lz__node_output(n, 0);
  return y ? y : f(n->inputs[0]);
}
/* An irrational constant in x's own dtype (a weak scalar would hold only float32 digits). */
static lz_array *cst(const lz_array *x, double v) { return lz_scalar(v, x->dtype); }
static lz_array *one_minus_sq(lz_array *v) {
  return lz_subtract(lz_float(1), lz_multiply(v, v));
}

/* |z| of a complex z: conj(z) / |z| (0 at 0), so that the tangent is Re(conj(z) t) / |z| and,
 * in the walk's convention, the cotangent c conj(z) / |z| (MLX's c z / |z| once conjugated). */
static lz_array *abs_complex_derivative(lz_array *z) {
  lz_array *r = lz_abs(z), *zero = lz_equal(r, lz_float(0));
  lz_array *q = lz_divide(lz_conj(z), lz_where(zero, lz_float(1), r));
  return lz_where(zero, lz_float(0), q);
}

/* f'(x) for each op with a derivative, written with differentiable ops. */
static lz_array *derivative(lz_node *n) {
  lz_array *x = n->inputs[0];
  switch (n->op) {
  case LZ_OP_ABS: return x->dtype == LZ_COMPLEX64 ? abs_complex_derivative(x) : lz_sign(x);
  case LZ_OP_NEGATIVE: return lz_full_like(x, -1);
  case LZ_OP_SQUARE: return lz_multiply(x, lz_float(2));
  case LZ_OP_SQRT: return lz_divide(lz_float(0.5), out_or(n, lz_sqrt));
  case LZ_OP_RSQRT: return lz_multiply(lz_divide(out_or(n, lz_rsqrt), x), lz_float(-0.5));
  case LZ_OP_RECIPROCAL: return lz_negative(lz_square(out_or(n, lz_reciprocal)));
  case LZ_OP_EXP: return out_or(n, lz_exp);
  case LZ_OP_EXPM1: return lz_exp(x);
  case LZ_OP_LOG: return lz_reciprocal(x);
  case LZ_OP_LOG2: return lz_reciprocal(lz_multiply(x, cst(x, M_LN2)));
  case LZ_OP_LOG10: return lz_reciprocal(lz_multiply(x, cst(x, M_LN10)));
  case LZ_OP_LOG1P: return lz_reciprocal(lz_add(x, lz_float(1)));
  case LZ_OP_SIN: return lz_cos(x);
  case LZ_OP_COS: return lz_negative(lz_sin(x));
  case LZ_OP_TAN: return lz_reciprocal(lz_square(lz_cos(x)));
  case LZ_OP_ARCSIN: return lz_rsqrt(one_minus_sq(x));
  case LZ_OP_ARCCOS: return lz_negative(lz_rsqrt(one_minus_sq(x)));
  case LZ_OP_ARCTAN: return lz_reciprocal(lz_add(lz_square(x), lz_float(1)));
  case LZ_OP_SINH: return lz_cosh(x);
  case LZ_OP_COSH: return lz_sinh(x);
  case LZ_OP_TANH: return one_minus_sq(out_or(n, lz_tanh));
  case LZ_OP_ARCSINH: return lz_rsqrt(lz_add(lz_square(x), lz_float(1)));
  case LZ_OP_ARCCOSH: return lz_rsqrt(lz_subtract(lz_square(x), lz_float(1)));
  case LZ_OP_ARCTANH: return lz_reciprocal(one_minus_sq(x));
  case LZ_OP_SIGMOID: {
    lz_array *s = out_or(n, lz_sigmoid);
    return lz_multiply(s, lz_subtract(lz_float(1), s));
  }
  case LZ_OP_ERF: /* 2 / sqrt(pi) exp(-x^2) */
    return lz_multiply(lz_exp(lz_negative(lz_square(x))), cst(x, M_2_SQRTPI));
  case LZ_OP_NAN_TO_NUM: /* 1 where x is finite; replaced values are constants */
    return lz_astype(lz_isfinite(x), x->dtype);
  case LZ_OP_ERFINV: /* sqrt(pi) / 2 exp(erfinv(x)^2) */
    return lz_multiply(lz_exp(lz_square(out_or(n, lz_erfinv))), cst(x, 1.0 / M_2_SQRTPI));
  default: return NULL;
  }
}

static int vjp_unary(const lz_vjp_args *a, lz_array **g) {
  g[0] = NULL;
  if (!a->need[0]) return 0;
  lz_array *d = derivative(a->node);
  return (g[0] = lz_astype(lz_multiply(a->cotans[0], d), a->inputs[0]->dtype)) ? 0 : -1;
}
static int jvp_unary(const lz_jvp_args *a, lz_array **t) {
  lz_array *d = derivative(a->node);
  return (t[0] = lz__expand_to(lz_multiply(a->tangents[0], d), a->node->outputs[0])) ? 0 : -1;
}

/* Complex parts, in the walk's convention (transforms_impl.h: a complex cotangent is
 * dL/dRe - i dL/dIm): real's cotangent c comes back as c + 0i, imag's as -c i (MLX's +c i once
 * lz_vjp conjugates it); conjugate conjugates. */
static int vjp_complex_part(const lz_vjp_args *a, lz_array **g) {
  lz_array *c = a->cotans[0];
  g[0] = NULL;
  if (!a->need[0]) return 0;
  switch (a->node->op) {
  case LZ_OP_CONJUGATE: g[0] = lz_conj(c); break;
  case LZ_OP_REAL: g[0] = lz_astype(c, LZ_COMPLEX64); break;
  default: {
    lz_complex64 i = {0, -1};
    g[0] = lz_multiply(lz_array_from_data(&i, NULL, 0, LZ_COMPLEX64), c);
  }
  }
  return g[0] ? 0 : -1;
}
static int jvp_complex_part(const lz_jvp_args *a, lz_array **t) {
  lz_array *x = a->tangents[0];
  switch (a->node->op) {
  case LZ_OP_CONJUGATE: t[0] = lz_conj(x); break;
  case LZ_OP_REAL: t[0] = lz_real(x); break;
  default: t[0] = lz_imag(x);
  }
  return t[0] ? 0 : -1;
}

#define UNARY {vjp_unary, jvp_unary, NULL}
#define ZERO {lz__vjp_zero, lz__jvp_zero, NULL}
const lz_rule lz__rules_unary[LZ_OP_COUNT] = {
    [LZ_OP_ASTYPE] = {vjp_astype, jvp_astype, NULL},
    [LZ_OP_ABS] = UNARY, [LZ_OP_NEGATIVE] = UNARY, [LZ_OP_SQUARE] = UNARY,
    [LZ_OP_SQRT] = UNARY, [LZ_OP_RSQRT] = UNARY, [LZ_OP_RECIPROCAL] = UNARY,
    [LZ_OP_EXP] = UNARY, [LZ_OP_EXPM1] = UNARY, [LZ_OP_LOG] = UNARY,
    [LZ_OP_LOG2] = UNARY, [LZ_OP_LOG10] = UNARY, [LZ_OP_LOG1P] = UNARY,
    [LZ_OP_SIN] = UNARY, [LZ_OP_COS] = UNARY, [LZ_OP_TAN] = UNARY,
    [LZ_OP_ARCSIN] = UNARY, [LZ_OP_ARCCOS] = UNARY, [LZ_OP_ARCTAN] = UNARY,
    [LZ_OP_SINH] = UNARY, [LZ_OP_COSH] = UNARY, [LZ_OP_TANH] = UNARY,
    [LZ_OP_ARCSINH] = UNARY, [LZ_OP_ARCCOSH] = UNARY, [LZ_OP_ARCTANH] = UNARY,
    [LZ_OP_SIGMOID] = UNARY, [LZ_OP_ERF] = UNARY, [LZ_OP_ERFINV] = UNARY,
    [LZ_OP_NAN_TO_NUM] = UNARY,
    [LZ_OP_CONJUGATE] = {vjp_complex_part, jvp_complex_part, NULL},
    [LZ_OP_REAL] = {vjp_complex_part, jvp_complex_part, NULL},
    [LZ_OP_IMAG] = {vjp_complex_part, jvp_complex_part, NULL},
    /* piecewise constant or boolean: zero derivative, as in MLX */
    [LZ_OP_SIGN] = ZERO, [LZ_OP_FLOOR] = ZERO, [LZ_OP_CEIL] = ZERO, [LZ_OP_ROUND] = ZERO,
    [LZ_OP_TRUNC] = ZERO,
    [LZ_OP_ISNAN] = ZERO, [LZ_OP_ISINF] = ZERO, [LZ_OP_ISFINITE] = ZERO,
    [LZ_OP_ISPOSINF] = ZERO, [LZ_OP_ISNEGINF] = ZERO, [LZ_OP_LOGICAL_NOT] = ZERO,
    [LZ_OP_BITWISE_INVERT] = ZERO,
    /* blocks the derivative by definition */
    [LZ_OP_STOP_GRADIENT] = ZERO,
};
