/* lazuli.core: elementwise functions (unary math, binary arithmetic, comparisons, logical and
 * bitwise ops, selection, casts), with MLX's names and signatures. */
#include "ops_impl.h"

typedef lz_array *(*unary_fn)(lz_array *);
typedef lz_array *(*binary_fn)(lz_array *, lz_array *);

#define SIG_U(NAME) NAME "(a: array, /, *, stream: StreamOrDevice = None) -> array\n\n"
#define SIG_B(NAME)                                                                                \
  NAME "(a: scalar | array, b: scalar | array, /, *, stream: StreamOrDevice = None) -> array\n\n"

/* ---- unary and binary functions: one shared parser each ---- */

static PyObject *unary_call(PyObject *args, PyObject *kw, unary_fn fn) {
  static char *kws[] = {"", "stream", NULL};
  PyObject *x, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$O", kws, &x, &stream)) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = fn(a);
  lz_free(a);
  return pylz_wrap(r);
}

PyObject *pyops_binary_call(PyObject *args, PyObject *kw, binary_fn fn) {
  static char *kws[] = {"", "", "stream", NULL};
  PyObject *x, *y, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$O", kws, &x, &y, &stream)) return NULL;
  lz_array *a, *b;
  if (PYOPS_CONVERT(PYOPS_ARRAY(x, &a), PYOPS_ARRAY(y, &b)) < 0) return NULL;
  lz_array *r = fn(a, b);
  PYOPS_FREE(a, b);
  return pylz_wrap(r);
}

/* positive: MLX returns its input. */
static lz_array *op_positive(lz_array *a) { return lz_retain(a); }

/* The unary and binary functions, one row each: X(name, lz function, description). Each
 * row defines py_<name> (a call of unary_call or pyops_binary_call) and its method entry. */
#define UNARY_OPS(X)                                                                               \
  X(abs, lz_abs, "Element-wise absolute value.")                                                   \
  X(sign, lz_sign, "Element-wise sign: -1, 0 or 1.")                                               \
  X(positive, op_positive, "Element-wise unary plus: returns ``a``.")                              \
  X(negative, lz_negative, "Element-wise negation.")                                               \
  X(trunc, lz_trunc, "Element-wise rounding toward zero.")                                         \
  X(square, lz_square, "Element-wise square.")                                                     \
  X(sqrt, lz_sqrt, "Element-wise square root.")                                                    \
  X(rsqrt, lz_rsqrt, "Element-wise reciprocal of the square root.")                                \
  X(reciprocal, lz_reciprocal, "Element-wise reciprocal ``1 / a``.")                               \
  X(logical_not, lz_logical_not, "Element-wise logical not (bool result).")                        \
  X(exp, lz_exp, "Element-wise exponential.")                                                      \
  X(expm1, lz_expm1, "Element-wise ``exp(a) - 1``, accurate for small ``a``.")                     \
  X(erf, lz_erf, "Element-wise error function.")                                                   \
  X(erfinv, lz_erfinv, "Element-wise inverse error function.")                                     \
  X(sin, lz_sin, "Element-wise sine.")                                                             \
  X(cos, lz_cos, "Element-wise cosine.")                                                           \
  X(tan, lz_tan, "Element-wise tangent.")                                                          \
  X(arcsin, lz_arcsin, "Element-wise inverse sine.")                                               \
  X(arccos, lz_arccos, "Element-wise inverse cosine.")                                             \
  X(arctan, lz_arctan, "Element-wise inverse tangent.")                                            \
  X(sinh, lz_sinh, "Element-wise hyperbolic sine.")                                                \
  X(cosh, lz_cosh, "Element-wise hyperbolic cosine.")                                              \
  X(tanh, lz_tanh, "Element-wise hyperbolic tangent.")                                             \
  X(arcsinh, lz_arcsinh, "Element-wise inverse hyperbolic sine.")                                  \
  X(arccosh, lz_arccosh, "Element-wise inverse hyperbolic cosine.")                                \
  X(arctanh, lz_arctanh, "Element-wise inverse hyperbolic tangent.")                               \
  X(degrees, lz_degrees, "Converts angles from radians to degrees.")                               \
  X(radians, lz_radians, "Converts angles from degrees to radians.")                               \
  X(log, lz_log, "Element-wise natural logarithm.")                                                \
  X(log2, lz_log2, "Element-wise base-2 logarithm.")                                               \
  X(log10, lz_log10, "Element-wise base-10 logarithm.")                                            \
  X(log1p, lz_log1p, "Element-wise ``log(1 + a)``, accurate for small ``a``.")                     \
  X(stop_gradient, lz_stop_gradient,                                                               \
    "The identity, through which no gradient flows (a constant for transforms).")                  \
  X(sigmoid, lz_sigmoid, "Element-wise logistic sigmoid ``1 / (1 + exp(-a))``.")                   \
  X(floor, lz_floor, "Element-wise floor.")                                                        \
  X(ceil, lz_ceil, "Element-wise ceiling.")                                                        \
  X(isnan, lz_isnan, "Bool array: which elements are NaN.")                                        \
  X(isinf, lz_isinf, "Bool array: which elements are +inf or -inf.")                               \
  X(isfinite, lz_isfinite, "Bool array: which elements are neither infinite nor NaN.")             \
  X(isposinf, lz_isposinf, "Bool array: which elements are +inf.")                                 \
  X(isneginf, lz_isneginf, "Bool array: which elements are -inf.")                                 \
  X(conj, lz_conj, "Element-wise complex conjugate (same as ``conjugate``).")                      \
  X(conjugate, lz_conjugate, "Element-wise complex conjugate (same as ``conj``).")                 \
  X(real, lz_real, "The real part of a complex array.")                                            \
  X(imag, lz_imag, "The imaginary part of a complex array.")                                       \
  X(bitwise_invert, lz_bitwise_invert, "Element-wise bitwise complement ``~a``.")

#define BINARY_OPS(X)                                                                              \
  X(add, lz_add, "Element-wise ``a + b`` with NumPy broadcasting.")                                \
  X(subtract, lz_subtract, "Element-wise ``a - b`` with NumPy broadcasting.")                      \
  X(multiply, lz_multiply, "Element-wise ``a * b`` with NumPy broadcasting.")                      \
  X(divide, lz_divide, "Element-wise true division ``a / b``.")                                    \
  X(floor_divide, lz_floor_divide, "Element-wise ``a // b`` (rounded toward -inf).")               \
  X(remainder, lz_remainder, "Element-wise ``a % b`` with the sign of ``b``.")                     \
  X(power, lz_power, "Element-wise ``a ** b``.")                                                   \
  X(maximum, lz_maximum, "Element-wise maximum (NaN propagates).")                                 \
  X(minimum, lz_minimum, "Element-wise minimum (NaN propagates).")                                 \
  X(equal, lz_equal, "Element-wise ``a == b``.")                                                   \
  X(not_equal, lz_not_equal, "Element-wise ``a != b``.")                                           \
  X(less, lz_less, "Element-wise ``a < b``.")                                                      \
  X(less_equal, lz_less_equal, "Element-wise ``a <= b``.")                                         \
  X(greater, lz_greater, "Element-wise ``a > b``.")                                                \
  X(greater_equal, lz_greater_equal, "Element-wise ``a >= b``.")                                   \
  X(logaddexp, lz_logaddexp, "Element-wise ``log(exp(a) + exp(b))``, computed stably.")            \
  X(arctan2, lz_arctan2, "Element-wise inverse tangent of ``a / b`` in the right quadrant.")       \
  X(logical_and, lz_logical_and, "Element-wise logical and (bool result).")                        \
  X(logical_or, lz_logical_or, "Element-wise logical or (bool result).")                           \
  X(logical_xor, lz_logical_xor, "Element-wise logical exclusive or (bool result).")               \
  X(bitwise_and, lz_bitwise_and, "Element-wise bitwise ``a & b``.")                                \
  X(bitwise_or, lz_bitwise_or, "Element-wise bitwise ``a | b``.")                                  \
  X(bitwise_xor, lz_bitwise_xor, "Element-wise bitwise ``a ^ b``.")                                \
  X(left_shift, lz_left_shift, "Element-wise ``a << b``.")                                         \
  X(right_shift, lz_right_shift, "Element-wise ``a >> b``.")

#define DEFINE_UNARY(NAME, FN, TEXT)                                                               \
  static PyObject *py_##NAME(PyObject *self, PyObject *args, PyObject *kw) {                       \
    pyops_name = #NAME;                                                                            \
    return unary_call(args, kw, FN);                                                               \
  }
#define DEFINE_BINARY(NAME, FN, TEXT)                                                              \
  static PyObject *py_##NAME(PyObject *self, PyObject *args, PyObject *kw) {                       \
    pyops_name = #NAME;                                                                            \
    return pyops_binary_call(args, kw, FN);                                                        \
  }
UNARY_OPS(DEFINE_UNARY)
BINARY_OPS(DEFINE_BINARY)

/* ---- functions with their own signature ---- */

static PyObject *py_where(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "where";
  static char *kws[] = {"", "", "", "stream", NULL};
  PyObject *c, *x, *y, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|$O:where", kws, &c, &x, &y, &stream)) return NULL;
  lz_array *ac, *ax, *ay;
  if (PYOPS_CONVERT(PYOPS_ARRAY(c, &ac), PYOPS_ARRAY(x, &ax), PYOPS_ARRAY(y, &ay)) < 0) return NULL;
  PyObject *res = pylz_wrap(lz_where(ac, ax, ay));
  PYOPS_FREE(ac, ax, ay);
  return res;
}

static PyObject *py_clip(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "clip";
  static char *kws[] = {"", "a_min", "a_max", "stream", NULL};
  PyObject *x, *lo, *hi, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|$O:clip", kws, &x, &lo, &hi, &stream))
    return NULL;
  lz_array *a, *alo, *ahi;
  if (PYOPS_CONVERT(PYOPS_ARRAY(x, &a), PYOPS_OPT_ARRAY(lo, &alo), PYOPS_OPT_ARRAY(hi, &ahi)) < 0)
    return NULL;
  PyObject *res = NULL;
  if (!alo && !ahi)
    PyErr_SetString(PyExc_ValueError, "[clip] at least one of a_min and a_max must be given");
  else
    res = pylz_wrap(lz_clip(a, alo, ahi));
  PYOPS_FREE(a, alo, ahi);
  return res;
}

/* isclose and allclose share a signature; `all` picks which. */
static PyObject *close_impl(PyObject *args, PyObject *kw, int all) {
  static char *kws[] = {"", "", "rtol", "atol", "equal_nan", "stream", NULL};
  PyObject *x, *y, *ortol = NULL, *oatol = NULL, *onan = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|OO$OO", kws, &x, &y, &ortol, &oatol, &onan,
                                   &stream))
    return NULL;
  double rtol = 1e-5, atol = 1e-8;
  bool equal_nan = false;
  if ((ortol && pyops_double(ortol, &rtol, "rtol") < 0) ||
      (oatol && pyops_double(oatol, &atol, "atol") < 0) ||
      pyops_bool(onan, &equal_nan, "equal_nan") < 0)
    return NULL;
  lz_array *a, *b;
  if (PYOPS_CONVERT(PYOPS_ARRAY(x, &a), PYOPS_ARRAY(y, &b)) < 0) return NULL;
  lz_array *r =
      all ? lz_allclose(a, b, rtol, atol, equal_nan) : lz_isclose(a, b, rtol, atol, equal_nan);
  PYOPS_FREE(a, b);
  return pylz_wrap(r);
}

static PyObject *py_isclose(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "isclose";
  return close_impl(args, kw, 0);
}

static PyObject *py_allclose(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "allclose";
  return close_impl(args, kw, 1);
}

static PyObject *py_array_equal(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "array_equal";
  static char *kws[] = {"", "", "equal_nan", "stream", NULL};
  PyObject *x, *y, *onan = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$OO:array_equal", kws, &x, &y, &onan, &stream))
    return NULL;
  bool equal_nan = false;
  if (pyops_bool(onan, &equal_nan, "equal_nan") < 0) return NULL;
  lz_array *a, *b;
  if (PYOPS_CONVERT(PYOPS_ARRAY(x, &a), PYOPS_ARRAY(y, &b)) < 0) return NULL;
  lz_array *r = lz_array_equal(a, b, equal_nan);
  PYOPS_FREE(a, b);
  return pylz_wrap(r);
}

static PyObject *py_nan_to_num(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "nan_to_num";
  static char *kws[] = {"", "nan", "posinf", "neginf", "stream", NULL};
  PyObject *x, *onan = NULL, *opos = Py_None, *oneg = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOO$O:nan_to_num", kws, &x, &onan, &opos, &oneg,
                                   &stream))
    return NULL;
  double nan = 0, pos = 0, neg = 0;
  if ((onan && pyops_double(onan, &nan, "nan") < 0) ||
      (opos != Py_None && pyops_double(opos, &pos, "posinf") < 0) ||
      (oneg != Py_None && pyops_double(oneg, &neg, "neginf") < 0))
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = lz_nan_to_num(a, nan, opos != Py_None ? &pos : NULL, oneg != Py_None ? &neg : NULL);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_round(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "round";
  static char *kws[] = {"", "decimals", "stream", NULL};
  PyObject *x, *odec = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O:round", kws, &x, &odec, &stream)) return NULL;
  int decimals = 0;
  if (odec && pyops_int(odec, &decimals, "decimals") < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = lz_round(a, decimals);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_divmod(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "divmod";
  static char *kws[] = {"", "", "stream", NULL};
  PyObject *x, *y, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$O:divmod", kws, &x, &y, &stream)) return NULL;
  lz_array *a, *b;
  if (PYOPS_CONVERT(PYOPS_ARRAY(x, &a), PYOPS_ARRAY(y, &b)) < 0) return NULL;
  lz_array *out[2] = {NULL, NULL};
  lz_divmod(a, b, out);
  PYOPS_FREE(a, b);
  return pyops_wrap_many(out, 2, 0);
}

/* view(a, dtype) and astype(a, dtype): `cast` picks which. */
static PyObject *dtype_impl(PyObject *args, PyObject *kw, int cast) {
  static char *kws_view[] = {"", "dtype", "stream", NULL};
  static char *kws_cast[] = {"", "", "stream", NULL};
  PyObject *x, *odt, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$O", cast ? kws_cast : kws_view, &x, &odt,
                                   &stream))
    return NULL;
  lz_dtype dt;
  if (odt == Py_None) return pyops_type_error("dtype", "a Dtype", odt), NULL;
  if (pyops_dtype(odt, &dt, "dtype") < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = cast ? lz_astype(a, dt) : lz_view(a, dt);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_view(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "view";
  return dtype_impl(args, kw, 0);
}

static PyObject *py_astype(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "astype";
  return dtype_impl(args, kw, 1);
}

#define ARGS_U                                                                                     \
  "\n\nArgs:\n    a (array): Input array or scalar.\n\nReturns:\n    array: The result, "          \
  "element by element."
#define ARGS_B                                                                                     \
  "\n\nArgs:\n    a (array): Input array or scalar.\n    b (array): Input array or scalar; the "   \
  "two broadcast together (a Python scalar takes the other operand's dtype).\n\nReturns:\n    "    \
  "array: The result, element by element."
#define ROW_UNARY(NAME, FN, TEXT) PYOPS_F(#NAME, py_##NAME, SIG_U(#NAME) TEXT ARGS_U),
#define ROW_BINARY(NAME, FN, TEXT) PYOPS_F(#NAME, py_##NAME, SIG_B(#NAME) TEXT ARGS_B),

static PyMethodDef methods[] = {
    UNARY_OPS(ROW_UNARY) BINARY_OPS(ROW_BINARY) PYOPS_F(
        "where", py_where,
        "where(condition: scalar | array, x: scalar | array, y: scalar | array, /, *, stream: "
        "StreamOrDevice = None) -> array\n\nElements of ``x`` where ``condition`` is true, of "
        "``y`` "
        "elsewhere; the three broadcast together."),
    PYOPS_F(
        "clip", py_clip,
        "clip(a: array, /, a_min: scalar | array | None, a_max: scalar | array | None, *, stream: "
        "StreamOrDevice = None) -> array\n\nLimits ``a`` to ``[a_min, a_max]``; a ``None`` bound "
        "is "
        "not applied, but one bound must be given."),
    PYOPS_F(
        "isclose", py_isclose,
        "isclose(a: array, b: array, /, rtol: float = 1e-05, atol: float = 1e-08, *, equal_nan: "
        "bool = False, stream: StreamOrDevice = None) -> array\n\nBool array: where ``abs(a - b) "
        "<= "
        "atol + rtol * abs(b)``; infinities match the same infinity, NaNs match only with "
        "``equal_nan``."),
    PYOPS_F(
        "allclose", py_allclose,
        "allclose(a: array, b: array, /, rtol: float = 1e-05, atol: float = 1e-08, *, equal_nan: "
        "bool = False, stream: StreamOrDevice = None) -> array\n\nA scalar bool array: whether "
        ":func:`isclose` holds for every element (inputs broadcast)."),
    PYOPS_F("array_equal", py_array_equal,
            "array_equal(a: scalar | array, b: scalar | array, *, equal_nan: bool = False, stream: "
            "StreamOrDevice = None) -> array\n\nA scalar bool array: ``a`` and ``b`` have the same "
            "shape and equal values (dtypes may differ)."),
    PYOPS_F(
        "nan_to_num", py_nan_to_num,
        "nan_to_num(a: scalar | array, nan: float = 0, posinf: float | None = None, neginf: float "
        "| None = None, *, stream: StreamOrDevice = None) -> array\n\nReplaces NaN by ``nan`` and "
        "infinities by ``posinf``/``neginf`` (default: the dtype's largest/lowest finite value)."),
    PYOPS_F(
        "round", py_round,
        "round(a: array, /, decimals: int = 0, stream: StreamOrDevice = None) -> array\n\nRounds "
        "to ``decimals`` decimal places, halves to even."),
    PYOPS_F(
        "divmod", py_divmod,
        "divmod(a: scalar | array, b: scalar | array, /, *, stream: StreamOrDevice = None) -> "
        "tuple[array, array]\n\nThe quotient ``a // b`` and the remainder ``a % b``, from one op."),
    PYOPS_F(
        "view", py_view,
        "view(a: scalar | array, dtype: Dtype, stream: StreamOrDevice = None) -> array\n\nThe "
        "bits of ``a`` read as ``dtype``; the last axis scales by the ratio of the item sizes."),
    PYOPS_F("astype", py_astype,
            "astype(a: array, dtype: Dtype, /, *, stream: StreamOrDevice = None) -> array\n\n``a`` "
            "converted to ``dtype``."),
    {NULL, NULL, 0, NULL},
};

/* MLX's Array API aliases of elementwise functions. */
static const char *const aliases[][2] = {
    {"acos", "arccos"},
    {"acosh", "arccosh"},
    {"asin", "arcsin"},
    {"asinh", "arcsinh"},
    {"atan", "arctan"},
    {"atanh", "arctanh"},
    {"atan2", "arctan2"},
    {"pow", "power"},
    {"bitwise_left_shift", "left_shift"},
    {"bitwise_right_shift", "right_shift"},
};

int pyops_init_elementwise(PyObject *m) {
  if (pyops_add_functions(m, methods) < 0) return -1;
  return pyops_add_aliases(m, aliases, sizeof aliases / sizeof aliases[0]);
}
