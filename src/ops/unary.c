/* Unary elementwise ops: casts, same-dtype arithmetic and rounding, and float math. Type rules
 * follow MLX: float math on integer or bool inputs computes in float32 (at_least_float). */
#include "unary_impl.h"

lz_array *lz__unary_make(const char *name, int op, lz_array *a, lz_dtype out,
                         const void *params) {
  const lz_cpu_inner_fn *loops = lz__op(op)->impl;
  if (!loops[a->dtype]) {
    lz__error(LZ_ERROR_DTYPE, name, "not supported for %s", lz_dtype_name(a->dtype));
    return NULL;
  }
  return lz__make(op, params, &a, 1, out, a->shape, a->ndim);
}

/* ---- casts ---- */

const lz_op_def lz_opdef_astype = {
    .name = "astype",
    .flags = LZ_OPF_ELEMENTWISE | LZ_OPF_DIFFERENTIABLE,
    .cpu = lz_cpu_astype,
};

lz_array *lz_astype(lz_array *a, lz_dtype dtype) {
  if (!lz__check_inputs("lz_astype", &a, 1)) return NULL;
  if (!lz__dtype_valid(dtype)) {
    lz__error(LZ_ERROR_DTYPE, "lz_astype", "invalid dtype %d", (int)dtype);
    return NULL;
  }
  if (a->dtype == dtype) return lz_retain(a);
  /* A weak float keeps its exact double for float64 (lz_float). */
  if ((a->flags & LZ_AF_WEAK) && a->dtype == LZ_FLOAT32 && dtype == LZ_FLOAT64) {
    return lz__cast("lz_astype", a, dtype);
  }
  return lz__make(LZ_OP_ASTYPE, NULL, &a, 1, dtype, a->shape, a->ndim);
}

/* ---- same dtype: abs, negative, sign, square, floor, ceil, trunc ---- */

#define D LZ_OPF_DIFFERENTIABLE
LZ_UNARY_OPDEF(abs, D, 0)
LZ_UNARY_OPDEF(negative, D, 0)
LZ_UNARY_OPDEF(sign, D, 0)
LZ_UNARY_OPDEF(square, D, 0)
LZ_UNARY_OPDEF(floor, D, 0)
LZ_UNARY_OPDEF(ceil, D, 0)
LZ_UNARY_OPDEF(round, D, sizeof(lz_round_params))
LZ_UNARY_OPDEF(trunc, D, 0)

static bool is_unsigned_or_bool(lz_dtype d) {
  return d == LZ_BOOL || (lz_dtype_is_integer(d) && !lz_dtype_is_signed(d));
}

lz_array *lz_abs(lz_array *a) {
  if (!lz__check_inputs("lz_abs", &a, 1)) return NULL;
  if (is_unsigned_or_bool(a->dtype)) return lz_retain(a);
  return lz__unary_make("lz_abs", LZ_OP_ABS, a, a->dtype == LZ_COMPLEX64 ? LZ_FLOAT32 : a->dtype,
                        NULL);
}

lz_array *lz_negative(lz_array *a) {
  if (!lz__check_inputs("lz_negative", &a, 1)) return NULL;
  if (a->dtype == LZ_BOOL) {
    lz__error(LZ_ERROR_DTYPE, "lz_negative", "not supported for bool, use lz_logical_not");
    return NULL;
  }
  return lz__unary_make("lz_negative", LZ_OP_NEGATIVE, a, a->dtype, NULL);
}

#define SAME_DTYPE(NAME, ID)                                                                     \
  lz_array *lz_##NAME(lz_array *a) {                                                             \
    if (!lz__check_inputs("lz_" #NAME, &a, 1)) return NULL;                                      \
    return lz__unary_make("lz_" #NAME, LZ_OP_##ID, a, a->dtype, NULL);                            \
  }
SAME_DTYPE(sign, SIGN)
SAME_DTYPE(square, SQUARE)

/* Rounding leaves integers and bools as they are. */
#define ROUNDING(NAME, ID)                                                                       \
  lz_array *lz_##NAME(lz_array *a) {                                                             \
    if (!lz__check_inputs("lz_" #NAME, &a, 1)) return NULL;                                      \
    if (a->dtype == LZ_BOOL || lz_dtype_is_integer(a->dtype)) return lz_retain(a);               \
    return lz__unary_make("lz_" #NAME, LZ_OP_##ID, a, a->dtype, NULL);                            \
  }
ROUNDING(floor, FLOOR)
ROUNDING(ceil, CEIL)
ROUNDING(trunc, TRUNC)

lz_array *lz_round(lz_array *a, int decimals) {
  if (!lz__check_inputs("lz_round", &a, 1)) return NULL;
  bool integral = a->dtype == LZ_BOOL || lz_dtype_is_integer(a->dtype);
  if (integral && (decimals >= 0 || a->dtype == LZ_BOOL)) return lz_retain(a);
  lz_round_params p = {decimals};
  return lz__unary_make("lz_round", LZ_OP_ROUND, a, a->dtype, &p);
}

/* ---- float math ---- */

LZ_UNARY_OPDEF(sqrt, D, 0)
LZ_UNARY_OPDEF(rsqrt, D, 0)
LZ_UNARY_OPDEF(reciprocal, D, 0)
LZ_UNARY_OPDEF(exp, D, 0)
LZ_UNARY_OPDEF(expm1, D, 0)
LZ_UNARY_OPDEF(log, D, 0)
LZ_UNARY_OPDEF(log2, D, 0)
LZ_UNARY_OPDEF(log10, D, 0)
LZ_UNARY_OPDEF(log1p, D, 0)
LZ_UNARY_OPDEF(sin, D, 0)
LZ_UNARY_OPDEF(cos, D, 0)
LZ_UNARY_OPDEF(tan, D, 0)
LZ_UNARY_OPDEF(arcsin, D, 0)
LZ_UNARY_OPDEF(arccos, D, 0)
LZ_UNARY_OPDEF(arctan, D, 0)
LZ_UNARY_OPDEF(sinh, D, 0)
LZ_UNARY_OPDEF(cosh, D, 0)
LZ_UNARY_OPDEF(tanh, D, 0)
LZ_UNARY_OPDEF(arcsinh, D, 0)
LZ_UNARY_OPDEF(arccosh, D, 0)
LZ_UNARY_OPDEF(arctanh, D, 0)
LZ_UNARY_OPDEF(sigmoid, D, 0)
LZ_UNARY_OPDEF(erf, D, 0)
LZ_UNARY_OPDEF(erfinv, D, 0)

/* Casts integer and bool inputs to float32 first (MLX's at_least_float). */
static lz_array *unary_float(const char *name, int op, lz_array *a) {
  if (!lz__check_inputs(name, &a, 1)) return NULL;
  lz_dtype ct = a->dtype;
  if (!lz_dtype_is_float(ct) && ct != LZ_COMPLEX64) ct = LZ_FLOAT32;
  if (!((const lz_cpu_inner_fn *)lz__op(op)->impl)[ct]) {
    lz__error(LZ_ERROR_DTYPE, name, "not supported for %s", lz_dtype_name(ct));
    return NULL;
  }
  lz_array *c = lz__cast(name, a, ct);
  if (!c) return NULL;
  lz_array *out = lz__make(op, NULL, &c, 1, ct, a->shape, a->ndim);
  lz__uncast(c, a);
  return out;
}

#define FLOAT_MATH(NAME, ID)                                                                     \
  lz_array *lz_##NAME(lz_array *a) { return unary_float("lz_" #NAME, LZ_OP_##ID, a); }
FLOAT_MATH(sqrt, SQRT)
FLOAT_MATH(rsqrt, RSQRT)
FLOAT_MATH(reciprocal, RECIPROCAL)
FLOAT_MATH(exp, EXP)
FLOAT_MATH(expm1, EXPM1)
FLOAT_MATH(log, LOG)
FLOAT_MATH(log2, LOG2)
FLOAT_MATH(log10, LOG10)
FLOAT_MATH(log1p, LOG1P)
FLOAT_MATH(sin, SIN)
FLOAT_MATH(cos, COS)
FLOAT_MATH(tan, TAN)
FLOAT_MATH(arcsin, ARCSIN)
FLOAT_MATH(arccos, ARCCOS)
FLOAT_MATH(arctan, ARCTAN)
FLOAT_MATH(sinh, SINH)
FLOAT_MATH(cosh, COSH)
FLOAT_MATH(tanh, TANH)
FLOAT_MATH(arcsinh, ARCSINH)
FLOAT_MATH(arccosh, ARCCOSH)
FLOAT_MATH(arctanh, ARCTANH)
FLOAT_MATH(sigmoid, SIGMOID)
FLOAT_MATH(erf, ERF)
FLOAT_MATH(erfinv, ERFINV)

/* Scaling by a weak float constant: integers give float32, floats keep their dtype. */
static lz_array *scale(const char *name, lz_array *a, double k) {
  if (!lz__check_inputs(name, &a, 1)) return NULL;
  lz_array *c = lz_float(k);
  lz_array *out = c ? lz_multiply(a, c) : NULL;
  lz_free(c);
  return out;
}
lz_array *lz_degrees(lz_array *a) { return scale("lz_degrees", a, 57.295779513082320876798); }
lz_array *lz_radians(lz_array *a) { return scale("lz_radians", a, 0.017453292519943295769237); }
