/* lazuli.core: elementwise functions (unary math, binary arithmetic, comparisons, logical and
 * bitwise ops, selection, casts), with MLX's names and signatures. */
#include "ops_impl.h"

typedef lz_array *(*unary_fn)(lz_array *);
typedef lz_array *(*binary_fn)(lz_array *, lz_array *);

#define SIG_U(NAME) NAME "(a: array, /, *, stream: StreamOrDevice = None) -> array\n\n"
#define SIG_B(NAME)                                                                              \
  NAME "(a: scalar | array, b: scalar | array, /, *, stream: StreamOrDevice = None) -> array\n\n"

/* ---- table-driven unary and binary functions ---- */

static PyObject *unary_impl(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "stream", NULL};
  PyObject *x, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$O", kws, &x, &stream))
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *r = ((unary_fn)pyops_self(self)->fn[0])(a);
  lz_free(a);
  return pylz_wrap(r);
}

PyObject *pyops_binary_impl(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "", "stream", NULL};
  PyObject *x, *y, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$O", kws, &x, &y, &stream))
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *b = pylz_to_array(y);
  if (!b) {
    lz_free(a);
    return NULL;
  }
  lz_array *r = ((binary_fn)pyops_self(self)->fn[0])(a, b);
  lz_free(a);
  lz_free(b);
  return pylz_wrap(r);
}

/* Ops MLX has that are one or two public lz_ calls. */
static lz_array *op_positive(lz_array *a) { return lz_retain(a); }

/* Truncation toward zero: ceil below zero, floor elsewhere (exact; integers pass through). */
static lz_array *op_trunc(lz_array *a) {
  if (!lz_dtype_is_float(lz_array_dtype(a)))
    return lz_retain(a);
  lz_scope_begin();
  lz_array *r = lz_keep(lz_where(lz_less(a, lz_float(0)), lz_ceil(a), lz_floor(a)));
  lz_scope_end();
  return r;
}

#define U(NAME, FN, TEXT) PYOPS_ROW(NAME, unary_impl, SIG_U(NAME) TEXT, FN, NULL, NULL)
#define B(NAME, FN, TEXT) PYOPS_ROW(NAME, pyops_binary_impl, SIG_B(NAME) TEXT, FN, NULL, NULL)

static pyops_fn table[] = {
    U("abs", lz_abs, "Element-wise absolute value."),
    U("sign", lz_sign, "Element-wise sign: -1, 0 or 1."),
    U("positive", op_positive, "Element-wise unary plus: returns ``a``."),
    U("negative", lz_negative, "Element-wise negation."),
    U("trunc", op_trunc, "Element-wise rounding toward zero."),
    U("square", lz_square, "Element-wise square."),
    U("sqrt", lz_sqrt, "Element-wise square root."),
    U("rsqrt", lz_rsqrt, "Element-wise reciprocal of the square root."),
    U("reciprocal", lz_reciprocal, "Element-wise reciprocal ``1 / a``."),
    U("logical_not", lz_logical_not, "Element-wise logical not (bool result)."),
    U("exp", lz_exp, "Element-wise exponential."),
    U("expm1", lz_expm1, "Element-wise ``exp(a) - 1``, accurate for small ``a``."),
    U("erf", lz_erf, "Element-wise error function."),
    U("erfinv", lz_erfinv, "Element-wise inverse error function."),
    U("sin", lz_sin, "Element-wise sine."),
    U("cos", lz_cos, "Element-wise cosine."),
    U("tan", lz_tan, "Element-wise tangent."),
    U("arcsin", lz_arcsin, "Element-wise inverse sine."),
    U("arccos", lz_arccos, "Element-wise inverse cosine."),
    U("arctan", lz_arctan, "Element-wise inverse tangent."),
    U("sinh", lz_sinh, "Element-wise hyperbolic sine."),
    U("cosh", lz_cosh, "Element-wise hyperbolic cosine."),
    U("tanh", lz_tanh, "Element-wise hyperbolic tangent."),
    U("arcsinh", lz_arcsinh, "Element-wise inverse hyperbolic sine."),
    U("arccosh", lz_arccosh, "Element-wise inverse hyperbolic cosine."),
    U("arctanh", lz_arctanh, "Element-wise inverse hyperbolic tangent."),
    U("degrees", lz_degrees, "Converts angles from radians to degrees."),
    U("radians", lz_radians, "Converts angles from degrees to radians."),
    U("log", lz_log, "Element-wise natural logarithm."),
    U("log2", lz_log2, "Element-wise base-2 logarithm."),
    U("log10", lz_log10, "Element-wise base-10 logarithm."),
    U("log1p", lz_log1p, "Element-wise ``log(1 + a)``, accurate for small ``a``."),
    U("stop_gradient", lz_stop_gradient,
      "The identity, through which no gradient flows (a constant for transforms)."),
    U("sigmoid", lz_sigmoid, "Element-wise logistic sigmoid ``1 / (1 + exp(-a))``."),
    U("floor", lz_floor, "Element-wise floor."),
    U("ceil", lz_ceil, "Element-wise ceiling."),
    U("isnan", lz_isnan, "Bool array: which elements are NaN."),
    U("isinf", lz_isinf, "Bool array: which elements are +inf or -inf."),
    U("isfinite", lz_isfinite, "Bool array: which elements are neither infinite nor NaN."),
    U("isposinf", lz_isposinf, "Bool array: which elements are +inf."),
    U("isneginf", lz_isneginf, "Bool array: which elements are -inf."),
    U("conj", lz_conj, "Element-wise complex conjugate (same as ``conjugate``)."),
    U("conjugate", lz_conjugate, "Element-wise complex conjugate (same as ``conj``)."),
    U("real", lz_real, "The real part of a complex array."),
    U("imag", lz_imag, "The imaginary part of a complex array."),
    U("bitwise_invert", lz_bitwise_invert, "Element-wise bitwise complement ``~a``."),
    B("add", lz_add, "Element-wise ``a + b`` with NumPy broadcasting."),
    B("subtract", lz_subtract, "Element-wise ``a - b`` with NumPy broadcasting."),
    B("multiply", lz_multiply, "Element-wise ``a * b`` with NumPy broadcasting."),
    B("divide", lz_divide, "Element-wise true division ``a / b``."),
    B("floor_divide", lz_floor_divide, "Element-wise ``a // b`` (rounded toward -inf)."),
    B("remainder", lz_remainder, "Element-wise ``a % b`` with the sign of ``b``."),
    B("power", lz_power, "Element-wise ``a ** b``."),
    B("maximum", lz_maximum, "Element-wise maximum (NaN propagates)."),
    B("minimum", lz_minimum, "Element-wise minimum (NaN propagates)."),
    B("equal", lz_equal, "Element-wise ``a == b``."),
    B("not_equal", lz_not_equal, "Element-wise ``a != b``."),
    B("less", lz_less, "Element-wise ``a < b``."),
    B("less_equal", lz_less_equal, "Element-wise ``a <= b``."),
    B("greater", lz_greater, "Element-wise ``a > b``."),
    B("greater_equal", lz_greater_equal, "Element-wise ``a >= b``."),
    B("logaddexp", lz_logaddexp, "Element-wise ``log(exp(a) + exp(b))``, computed stably."),
    B("arctan2", lz_arctan2, "Element-wise inverse tangent of ``a / b`` in the right quadrant."),
    B("logical_and", lz_logical_and, "Element-wise logical and (bool result)."),
    B("logical_or", lz_logical_or, "Element-wise logical or (bool result)."),
    B("logical_xor", lz_logical_xor, "Element-wise logical exclusive or (bool result)."),
    B("bitwise_and", lz_bitwise_and, "Element-wise bitwise ``a & b``."),
    B("bitwise_or", lz_bitwise_or, "Element-wise bitwise ``a | b``."),
    B("bitwise_xor", lz_bitwise_xor, "Element-wise bitwise ``a ^ b``."),
    B("left_shift", lz_left_shift, "Element-wise ``a << b``."),
    B("right_shift", lz_right_shift, "Element-wise ``a >> b``."),
};

/* ---- functions with their own signature ---- */

static PyObject *py_where(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "", "", "stream", NULL};
  PyObject *c, *x, *y, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|$O:where", kws, &c, &x, &y, &stream))
    return NULL;
  lz_array *ac = NULL, *ax = NULL, *ay = NULL, *r = NULL;
  PyObject *res = NULL;
  if (!(ac = pylz_to_array(c)) || !(ax = pylz_to_array(x)) || !(ay = pylz_to_array(y)))
    goto done;
  r = lz_where(ac, ax, ay);
  res = pylz_wrap(r);
done:
  lz_free(ac);
  lz_free(ax);
  lz_free(ay);
  return res;
}

static PyObject *py_clip(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "a_min", "a_max", "stream", NULL};
  PyObject *x, *lo, *hi, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|$O:clip", kws, &x, &lo, &hi, &stream))
    return NULL;
  lz_array *a = NULL, *alo = NULL, *ahi = NULL;
  PyObject *res = NULL;
  if (!(a = pylz_to_array(x)) || pyops_opt_array(lo, &alo) < 0 || pyops_opt_array(hi, &ahi) < 0)
    goto done;
  if (!alo && !ahi) {
    PyErr_SetString(PyExc_ValueError, "[clip] at least one of a_min and a_max must be given");
    goto done;
  }
  res = pylz_wrap(lz_clip(a, alo, ahi));
done:
  lz_free(a);
  lz_free(alo);
  lz_free(ahi);
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
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *b = pylz_to_array(y);
  if (!b) {
    lz_free(a);
    return NULL;
  }
  lz_array *r = all ? lz_allclose(a, b, rtol, atol, equal_nan) : lz_isclose(a, b, rtol, atol, equal_nan);
  lz_free(a);
  lz_free(b);
  return pylz_wrap(r);
}

static PyObject *py_isclose(PyObject *self, PyObject *args, PyObject *kw) {
  return close_impl(args, kw, 0);
}

static PyObject *py_allclose(PyObject *self, PyObject *args, PyObject *kw) {
  return close_impl(args, kw, 1);
}

static PyObject *py_array_equal(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "", "equal_nan", "stream", NULL};
  PyObject *x, *y, *onan = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$OO:array_equal", kws, &x, &y, &onan, &stream))
    return NULL;
  bool equal_nan = false;
  if (pyops_bool(onan, &equal_nan, "equal_nan") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *b = pylz_to_array(y);
  if (!b) {
    lz_free(a);
    return NULL;
  }
  lz_array *r = lz_array_equal(a, b, equal_nan);
  lz_free(a);
  lz_free(b);
  return pylz_wrap(r);
}

static PyObject *py_nan_to_num(PyObject *self, PyObject *args, PyObject *kw) {
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
  if (!a)
    return NULL;
  lz_array *r = lz_nan_to_num(a, nan, opos != Py_None ? &pos : NULL, oneg != Py_None ? &neg : NULL);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_round(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "decimals", "stream", NULL};
  PyObject *x, *odec = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O:round", kws, &x, &odec, &stream))
    return NULL;
  int decimals = 0;
  if (odec && pyops_int(odec, &decimals, "decimals") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *r = lz_round(a, decimals);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_divmod(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "", "stream", NULL};
  PyObject *x, *y, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$O:divmod", kws, &x, &y, &stream))
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *b = pylz_to_array(y);
  if (!b) {
    lz_free(a);
    return NULL;
  }
  lz_array *out[2] = {NULL, NULL};
  lz_divmod(a, b, out);
  lz_free(a);
  lz_free(b);
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
  if (odt == Py_None)
    return pyops_type_error("dtype", "a Dtype", odt), NULL;
  if (pyops_dtype(odt, &dt, "dtype") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *r = cast ? lz_astype(a, dt) : lz_view(a, dt);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_view(PyObject *self, PyObject *args, PyObject *kw) {
  return dtype_impl(args, kw, 0);
}

static PyObject *py_astype(PyObject *self, PyObject *args, PyObject *kw) {
  return dtype_impl(args, kw, 1);
}

#define KW METH_VARARGS | METH_KEYWORDS
#define F(NAME, FN, DOC) {NAME, (PyCFunction)(void (*)(void))FN, KW, DOC}

static PyMethodDef methods[] = {
    F("where", py_where,
      "where(condition: scalar | array, x: scalar | array, y: scalar | array, /, *, stream: "
      "StreamOrDevice = None) -> array\n\nElements of ``x`` where ``condition`` is true, of ``y`` "
      "elsewhere; the three broadcast together."),
    F("clip", py_clip,
      "clip(a: array, /, a_min: scalar | array | None, a_max: scalar | array | None, *, stream: "
      "StreamOrDevice = None) -> array\n\nLimits ``a`` to ``[a_min, a_max]``; a ``None`` bound is "
      "not applied, but one bound must be given."),
    F("isclose", py_isclose,
      "isclose(a: array, b: array, /, rtol: float = 1e-05, atol: float = 1e-08, *, equal_nan: "
      "bool = False, stream: StreamOrDevice = None) -> array\n\nBool array: where ``abs(a - b) <= "
      "atol + rtol * abs(b)``; infinities match the same infinity, NaNs match only with "
      "``equal_nan``."),
    F("allclose", py_allclose,
      "allclose(a: array, b: array, /, rtol: float = 1e-05, atol: float = 1e-08, *, equal_nan: "
      "bool = False, stream: StreamOrDevice = None) -> array\n\nA scalar bool array: whether "
      ":func:`isclose` holds for every element (inputs broadcast)."),
    F("array_equal", py_array_equal,
      "array_equal(a: scalar | array, b: scalar | array, *, equal_nan: bool = False, stream: "
      "StreamOrDevice = None) -> array\n\nA scalar bool array: ``a`` and ``b`` have the same "
      "shape and equal values (dtypes may differ)."),
    F("nan_to_num", py_nan_to_num,
      "nan_to_num(a: scalar | array, nan: float = 0, posinf: float | None = None, neginf: float "
      "| None = None, *, stream: StreamOrDevice = None) -> array\n\nReplaces NaN by ``nan`` and "
      "infinities by ``posinf``/``neginf`` (default: the dtype's largest/lowest finite value)."),
    F("round", py_round,
      "round(a: array, /, decimals: int = 0, stream: StreamOrDevice = None) -> array\n\nRounds "
      "to ``decimals`` decimal places, halves to even."),
    F("divmod", py_divmod,
      "divmod(a: scalar | array, b: scalar | array, /, *, stream: StreamOrDevice = None) -> "
      "tuple[array, array]\n\nThe quotient ``a // b`` and the remainder ``a % b``, from one op."),
    F("view", py_view,
      "view(a: scalar | array, dtype: Dtype, stream: StreamOrDevice = None) -> array\n\nThe "
      "bits of ``a`` read as ``dtype``; the last axis scales by the ratio of the item sizes."),
    F("astype", py_astype,
      "astype(a: array, dtype: Dtype, /, *, stream: StreamOrDevice = None) -> array\n\n``a`` "
      "converted to ``dtype``."),
    {NULL, NULL, 0, NULL},
};

/* MLX's Array API aliases of elementwise functions. */
static const char *const aliases[][2] = {
    {"acos", "arccos"},   {"acosh", "arccosh"}, {"asin", "arcsin"},
    {"asinh", "arcsinh"}, {"atan", "arctan"},   {"atanh", "arctanh"},
    {"atan2", "arctan2"}, {"pow", "power"},     {"bitwise_left_shift", "left_shift"},
    {"bitwise_right_shift", "right_shift"},
};

int pyops_init_elementwise(PyObject *m) {
  if (pyops_register(m, table, (int)(sizeof table / sizeof table[0]), "lazuli.core") < 0 ||
      pyops_add_functions(m, methods) < 0)
    return -1;
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
    PyObject *f = PyObject_GetAttrString(m, aliases[i][1]);
    if (!f)
      return -1;
    int rc = PyModule_AddObjectRef(m, aliases[i][0], f);
    Py_DECREF(f);
    if (rc < 0)
      return -1;
  }
  return 0;
}
