/* Import checks of the elementwise ops (unary, binary, where): each one is the op's public
 * constructor on the recorded inputs (see import_check.h). */
#include "compile/import_check.h"
#include "cpu/binary.h" /* lz_isclose_params */
#include "cpu/unary.h"  /* lz_round_params, lz_nan_to_num_params */

#define X (a->in[0])
#define Y (a->in[1])

/* ---- unary: the constructor takes the array alone ---- */

typedef lz_array *(*unary_fn)(lz_array *);
static const unary_fn unary_ctor[LZ_OP_COUNT] = {
    [LZ_OP_ABS] = lz_abs,           [LZ_OP_NEGATIVE] = lz_negative,
    [LZ_OP_SIGN] = lz_sign,         [LZ_OP_SQUARE] = lz_square,
    [LZ_OP_FLOOR] = lz_floor,       [LZ_OP_CEIL] = lz_ceil,
    [LZ_OP_TRUNC] = lz_trunc,       [LZ_OP_SQRT] = lz_sqrt,
    [LZ_OP_RSQRT] = lz_rsqrt,       [LZ_OP_RECIPROCAL] = lz_reciprocal,
    [LZ_OP_EXP] = lz_exp,           [LZ_OP_EXPM1] = lz_expm1,
    [LZ_OP_LOG] = lz_log,           [LZ_OP_LOG2] = lz_log2,
    [LZ_OP_LOG10] = lz_log10,       [LZ_OP_LOG1P] = lz_log1p,
    [LZ_OP_SIN] = lz_sin,           [LZ_OP_COS] = lz_cos,
    [LZ_OP_TAN] = lz_tan,           [LZ_OP_ARCSIN] = lz_arcsin,
    [LZ_OP_ARCCOS] = lz_arccos,     [LZ_OP_ARCTAN] = lz_arctan,
    [LZ_OP_SINH] = lz_sinh,         [LZ_OP_COSH] = lz_cosh,
    [LZ_OP_TANH] = lz_tanh,         [LZ_OP_ARCSINH] = lz_arcsinh,
    [LZ_OP_ARCCOSH] = lz_arccosh,   [LZ_OP_ARCTANH] = lz_arctanh,
    [LZ_OP_SIGMOID] = lz_sigmoid,   [LZ_OP_ERF] = lz_erf,
    [LZ_OP_ERFINV] = lz_erfinv,     [LZ_OP_ISNAN] = lz_isnan,
    [LZ_OP_ISINF] = lz_isinf,       [LZ_OP_ISFINITE] = lz_isfinite,
    [LZ_OP_ISPOSINF] = lz_isposinf, [LZ_OP_ISNEGINF] = lz_isneginf,
    [LZ_OP_LOGICAL_NOT] = lz_logical_not, [LZ_OP_BITWISE_INVERT] = lz_bitwise_invert,
    [LZ_OP_CONJUGATE] = lz_conj,    [LZ_OP_REAL] = lz_real,
    [LZ_OP_IMAG] = lz_imag,         [LZ_OP_STOP_GRADIENT] = lz_stop_gradient,
};

static lz_array *check_unary(const cz_check_args *a) {
  return cz_check_arity(a, 1, 1) ? unary_ctor[a->op](X) : NULL;
}

/* astype and view: the recorded output dtype is the argument. */
static lz_array *check_astype(const cz_check_args *a) {
  return cz_check_arity(a, 1, 1) ? lz_astype(X, a->out[0]->dtype) : NULL;
}
static lz_array *check_view(const cz_check_args *a) {
  return cz_check_arity(a, 1, 1) ? lz_view(X, a->out[0]->dtype) : NULL;
}
static lz_array *check_round(const cz_check_args *a) {
  const lz_round_params *p = a->params;
  return cz_check_arity(a, 1, 1) ? lz_round(X, p->decimals) : NULL;
}
static lz_array *check_nan_to_num(const cz_check_args *a) {
  const lz_nan_to_num_params *p = a->params;
  return cz_check_arity(a, 1, 1) ? lz_nan_to_num(X, p->nan, &p->posinf, &p->neginf) : NULL;
}

/* ---- binary ---- */

typedef lz_array *(*binary_fn)(lz_array *, lz_array *);
static const binary_fn binary_ctor[LZ_OP_COUNT] = {
    [LZ_OP_ADD] = lz_add,                     [LZ_OP_SUBTRACT] = lz_subtract,
    [LZ_OP_MULTIPLY] = lz_multiply,           [LZ_OP_DIVIDE] = lz_divide,
    [LZ_OP_MAXIMUM] = lz_maximum,             [LZ_OP_MINIMUM] = lz_minimum,
    [LZ_OP_EQUAL] = lz_equal,                 [LZ_OP_NOT_EQUAL] = lz_not_equal,
    [LZ_OP_LESS] = lz_less,                   [LZ_OP_LESS_EQUAL] = lz_less_equal,
    [LZ_OP_GREATER] = lz_greater,             [LZ_OP_GREATER_EQUAL] = lz_greater_equal,
    [LZ_OP_FLOOR_DIVIDE] = lz_floor_divide,   [LZ_OP_REMAINDER] = lz_remainder,
    [LZ_OP_POWER] = lz_power,                 [LZ_OP_ARCTAN2] = lz_arctan2,
    [LZ_OP_LOGADDEXP] = lz_logaddexp,         [LZ_OP_LOGICAL_AND] = lz_logical_and,
    [LZ_OP_LOGICAL_OR] = lz_logical_or,       [LZ_OP_LOGICAL_XOR] = lz_logical_xor,
    [LZ_OP_BITWISE_AND] = lz_bitwise_and,     [LZ_OP_BITWISE_OR] = lz_bitwise_or,
    [LZ_OP_BITWISE_XOR] = lz_bitwise_xor,     [LZ_OP_LEFT_SHIFT] = lz_left_shift,
    [LZ_OP_RIGHT_SHIFT] = lz_right_shift,
};

static lz_array *check_binary(const cz_check_args *a) {
  return cz_check_arity(a, 2, 1) ? binary_ctor[a->op](X, Y) : NULL;
}

static lz_array *check_divmod(const cz_check_args *a) {
  lz_array *out[2];
  if (!cz_check_arity(a, 2, 2) || lz_divmod(X, Y, out) != 0) return NULL;
  return out[0]; /* both are the scope's */
}

static lz_array *check_isclose(const cz_check_args *a) {
  const lz_isclose_params *p = a->params;
  return cz_check_arity(a, 2, 1) ? lz_isclose(X, Y, p->rtol, p->atol, p->equal_nan) : NULL;
}

/* all_true has no public constructor (allclose and array_equal end with it): a bool array
 * reduced to a 0-d bool. */
static lz_array *check_all_true(const cz_check_args *a) {
  if (!cz_check_arity(a, 1, 1)) return NULL;
  if (X->dtype != LZ_BOOL) return cz_check_fail(a, "needs a bool input, got %s", lz_dtype_name(X->dtype));
  return lz__make(LZ_OP_ALL_TRUE, NULL, &X, 1, LZ_BOOL, NULL, 0);
}

static lz_array *check_where(const cz_check_args *a) {
  return cz_check_arity(a, 3, 1) ? lz_where(a->in[0], a->in[1], a->in[2]) : NULL;
}

#define U(ID) [LZ_OP_##ID] = check_unary
#define B(ID) [LZ_OP_##ID] = check_binary
const cz_check_fn cz_checks_elementwise[LZ_OP_COUNT] = {
    U(ABS), U(NEGATIVE), U(SIGN), U(SQUARE), U(FLOOR), U(CEIL), U(TRUNC), U(SQRT), U(RSQRT),
    U(RECIPROCAL), U(EXP), U(EXPM1), U(LOG), U(LOG2), U(LOG10), U(LOG1P), U(SIN), U(COS),
    U(TAN), U(ARCSIN), U(ARCCOS), U(ARCTAN), U(SINH), U(COSH), U(TANH), U(ARCSINH),
    U(ARCCOSH), U(ARCTANH), U(SIGMOID), U(ERF), U(ERFINV), U(ISNAN), U(ISINF), U(ISFINITE),
    U(ISPOSINF), U(ISNEGINF), U(LOGICAL_NOT), U(BITWISE_INVERT), U(CONJUGATE), U(REAL), U(IMAG),
    U(STOP_GRADIENT),
    [LZ_OP_ASTYPE] = check_astype, [LZ_OP_VIEW] = check_view, [LZ_OP_ROUND] = check_round,
    [LZ_OP_NAN_TO_NUM] = check_nan_to_num,
    B(ADD), B(SUBTRACT), B(MULTIPLY), B(DIVIDE), B(MAXIMUM), B(MINIMUM), B(EQUAL), B(NOT_EQUAL),
    B(LESS), B(LESS_EQUAL), B(GREATER), B(GREATER_EQUAL), B(FLOOR_DIVIDE), B(REMAINDER),
    B(POWER), B(ARCTAN2), B(LOGADDEXP), B(LOGICAL_AND), B(LOGICAL_OR), B(LOGICAL_XOR),
    B(BITWISE_AND), B(BITWISE_OR), B(BITWISE_XOR), B(LEFT_SHIFT), B(RIGHT_SHIFT),
    [LZ_OP_DIVMOD] = check_divmod, [LZ_OP_ISCLOSE] = check_isclose,
    [LZ_OP_ALL_TRUE] = check_all_true, [LZ_OP_WHERE] = check_where,
};
