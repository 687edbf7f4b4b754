/* lazuli.core: reductions, arg-reductions, scans and softmax, with MLX's signatures. */
#include "ops_impl.h"

typedef lz_array *(*red_all_fn)(lz_array *, bool);
typedef lz_array *(*red_axes_fn)(lz_array *, const int *, int, bool);
typedef lz_array *(*scan_fn)(lz_array *, int, bool, bool);

#define SIG_RED(NAME)                                                                              \
  NAME "(a: array, /, axis: None | int | Sequence[int] = None, keepdims: bool = False, *, "        \
       "stream: StreamOrDevice = None) -> array\n\n"

/* f(a, axis=None, <flag>=False, *, stream=None): all_fn over all axes, axes_fn over a list of
 * axes. `format` places the flag: positional for the reductions, keyword-only for count_nonzero
 * (keepdims) and softmax (precise), as in MLX. */
static PyObject *axes_flag_call(PyObject *args, PyObject *kw, const char *format, char *flag,
                                red_all_fn all_fn, red_axes_fn axes_fn) {
  char *kws[] = {"", "axis", flag, "stream", NULL};
  PyObject *x, *oaxis = Py_None, *oflag = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, format, kws, &x, &oaxis, &oflag, &stream)) return NULL;
  pyops_ints axes;
  int all;
  bool on = false;
  if (pyops_axes(oaxis, &axes, &all, "axis") < 0 || pyops_bool(oflag, &on, flag) < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = all ? all_fn(a, on) : axes_fn(a, axes.v, axes.n, on);
  lz_free(a);
  return pylz_wrap(r);
}

/* sum, prod, max, min, all, any, mean, logsumexp, median. */
static PyObject *reduce_call(PyObject *args, PyObject *kw, red_all_fn all_fn, red_axes_fn axes_fn) {
  return axes_flag_call(args, kw, "O|OO$O", "keepdims", all_fn, axes_fn);
}

static PyObject *py_count_nonzero(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "count_nonzero";
  return axes_flag_call(args, kw, "O|O$OO:count_nonzero", "keepdims", lz_count_nonzero,
                        lz_count_nonzero_axes);
}

/* var and std: all_fn(a, keepdims, ddof), axes_fn(a, axes, n, keepdims, ddof). */
static PyObject *moment_call(PyObject *args, PyObject *kw,
                             lz_array *(*all_fn)(lz_array *, bool, int),
                             lz_array *(*axes_fn)(lz_array *, const int *, int, bool, int)) {
  static char *kws[] = {"", "axis", "keepdims", "ddof", "correction", "stream", NULL};
  PyObject *x, *oaxis = Py_None, *okeep = NULL, *oddof = NULL, *ocorr = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOO$OO", kws, &x, &oaxis, &okeep, &oddof, &ocorr,
                                   &stream))
    return NULL;
  pyops_ints axes;
  int all, ddof = 0, corr = 0, has_corr;
  bool keepdims = false;
  if (pyops_axes(oaxis, &axes, &all, "axis") < 0 || pyops_bool(okeep, &keepdims, "keepdims") < 0 ||
      (oddof && pyops_int(oddof, &ddof, "ddof") < 0) ||
      pyops_opt_int(ocorr, &corr, &has_corr, "correction") < 0)
    return NULL;
  if (has_corr) ddof = corr;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = all ? all_fn(a, keepdims, ddof) : axes_fn(a, axes.v, axes.n, keepdims, ddof);
  lz_free(a);
  return pylz_wrap(r);
}

/* argmax and argmin: all_fn(a, keepdims), axis_fn(a, axis, keepdims). */
static PyObject *arg_call(PyObject *args, PyObject *kw, red_all_fn all_fn,
                          lz_array *(*axis_fn)(lz_array *, int, bool)) {
  static char *kws[] = {"", "axis", "keepdims", "stream", NULL};
  PyObject *x, *oaxis = Py_None, *okeep = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OO$O", kws, &x, &oaxis, &okeep, &stream))
    return NULL;
  int axis = 0, has_axis;
  bool keepdims = false;
  if (pyops_opt_int(oaxis, &axis, &has_axis, "axis") < 0 ||
      pyops_bool(okeep, &keepdims, "keepdims") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = has_axis ? axis_fn(a, axis, keepdims) : all_fn(a, keepdims);
  lz_free(a);
  return pylz_wrap(r);
}

/* cumsum, cumprod (with dtype=), cummax, cummin, logcumsumexp: axis None scans the flattened
 * array. */
static PyObject *scan_call(PyObject *args, PyObject *kw, scan_fn fn, int has_dtype,
                           const char *name) {
  static char *kws[] = {"", "axis", "reverse", "inclusive", "dtype", "stream", NULL};
  PyObject *x, *oaxis = Py_None, *orev = NULL, *oinc = NULL, *odt = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$OOOO", kws, &x, &oaxis, &orev, &oinc, &odt,
                                   &stream))
    return NULL;
  if (odt != Py_None && !has_dtype) {
    PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument 'dtype'", name);
    return NULL;
  }
  int axis = 0, has_axis;
  bool reverse = false, inclusive = true;
  lz_dtype dt = LZ_DTYPE_COUNT;
  if (pyops_opt_int(oaxis, &axis, &has_axis, "axis") < 0 ||
      pyops_bool(orev, &reverse, "reverse") < 0 || pyops_bool(oinc, &inclusive, "inclusive") < 0 ||
      pyops_dtype(odt, &dt, "dtype") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_scope_begin();
  lz_array *in = a;
  if (dt != LZ_DTYPE_COUNT) in = lz_astype(in, dt);
  if (!has_axis) {
    int flat = -1;
    in = lz_reshape(in, &flat, 1);
  }
  lz_array *r = lz_keep(in ? fn(in, has_axis ? axis : 0, reverse, inclusive) : NULL);
  lz_scope_end();
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_softmax(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "softmax";
  return axes_flag_call(args, kw, "O|O$OO:softmax", "precise", lz_softmax, lz_softmax_axes);
}

static PyObject *py_trace(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "trace";
  static char *kws[] = {"", "offset", "axis1", "axis2", "dtype", "stream", NULL};
  PyObject *x, *ooff = NULL, *oa1 = NULL, *oa2 = NULL, *odt = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOOO$O:trace", kws, &x, &ooff, &oa1, &oa2, &odt,
                                   &stream))
    return NULL;
  int offset = 0, a1 = 0, a2 = 1;
  lz_dtype dt = LZ_DTYPE_COUNT;
  if ((ooff && pyops_int(ooff, &offset, "offset") < 0) ||
      (oa1 && pyops_int(oa1, &a1, "axis1") < 0) || (oa2 && pyops_int(oa2, &a2, "axis2") < 0) ||
      pyops_dtype(odt, &dt, "dtype") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = lz_trace(a, offset, a1, a2);
  if (r && dt != LZ_DTYPE_COUNT) {
    lz_array *c = lz_astype(r, dt);
    lz_free(r);
    r = c;
  }
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_diff(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "diff";
  static char *kws[] = {"", "n", "axis", "stream", NULL};
  PyObject *x, *on = NULL, *oaxis = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OO$O:diff", kws, &x, &on, &oaxis, &stream))
    return NULL;
  int n = 1, axis = -1;
  if ((on && pyops_int(on, &n, "n") < 0) || (oaxis && pyops_int(oaxis, &axis, "axis") < 0))
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = lz_diff(a, n, axis);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_minmax(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "minmax";
  static char *kws[] = {"", "stream", NULL};
  PyObject *x, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$O:minmax", kws, &x, &stream)) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *out[2] = {lz_min(a, false), lz_max(a, false)};
  lz_free(a);
  return pyops_wrap_many(out, 2, 0);
}

/* One row per function: X(name, description). Each row defines py_<name>, a call of the
 * family's parser with the lz_ functions of that name, and its method entry. */
#define REDUCTIONS(X)                                                                              \
  X(sum, "Sum over the given axes (all axes by default).")                                         \
  X(prod, "Product over the given axes (all axes by default).")                                    \
  X(max, "Maximum over the given axes (all axes by default).")                                     \
  X(min, "Minimum over the given axes (all axes by default).")                                     \
  X(all, "Logical and over the given axes (all axes by default).")                                 \
  X(any, "Logical or over the given axes (all axes by default).")                                  \
  X(mean, "Mean over the given axes (all axes by default).")                                       \
  X(logsumexp, "``log(sum(exp(a)))`` over the given axes, computed stably (all by default).")      \
  X(median, "Median over the given axes (all axes by default).")
#define MOMENTS(X)                                                                                 \
  X(var, "Variance over the given axes with divisor ``N - ddof``.")                                \
  X(std, "Standard deviation over the given axes with divisor ``N - ddof``.")
#define ARGS(X)                                                                                    \
  X(argmax, "Indices (uint32) of the maxima along ``axis`` (of the flattened array when "          \
            "``None``).")                                                                          \
  X(argmin, "Indices (uint32) of the minima along ``axis`` (of the flattened array when "          \
            "``None``).")
/* X(name, takes dtype=, the dtype part of the signature, description) */
#define SCANS(X)                                                                                   \
  X(cumsum, 1, "dtype: Dtype | None = None, ", "Cumulative sum along ``axis``.")                   \
  X(cumprod, 1, "dtype: Dtype | None = None, ", "Cumulative product along ``axis``.")              \
  X(cummax, 0, "", "Cumulative maximum along ``axis``.")                                           \
  X(cummin, 0, "", "Cumulative minimum along ``axis``.")                                           \
  X(logcumsumexp, 0, "", "Cumulative log-sum-exp along ``axis``.")

#define DEFINE_RED(NAME, TEXT)                                                                     \
  static PyObject *py_##NAME(PyObject *self, PyObject *args, PyObject *kw) {                       \
    pyops_name = #NAME;                                                                            \
    return reduce_call(args, kw, lz_##NAME, lz_##NAME##_axes);                                     \
  }
#define DEFINE_MOMENT(NAME, TEXT)                                                                  \
  static PyObject *py_##NAME(PyObject *self, PyObject *args, PyObject *kw) {                       \
    pyops_name = #NAME;                                                                            \
    return moment_call(args, kw, lz_##NAME, lz_##NAME##_axes);                                     \
  }
#define DEFINE_ARG(NAME, TEXT)                                                                     \
  static PyObject *py_##NAME(PyObject *self, PyObject *args, PyObject *kw) {                       \
    pyops_name = #NAME;                                                                            \
    return arg_call(args, kw, lz_##NAME, lz_##NAME##_axis);                                        \
  }
#define DEFINE_SCAN(NAME, DTYPE, DTSIG, TEXT)                                                      \
  static PyObject *py_##NAME(PyObject *self, PyObject *args, PyObject *kw) {                       \
    pyops_name = #NAME;                                                                            \
    return scan_call(args, kw, lz_##NAME, DTYPE, #NAME);                                           \
  }
REDUCTIONS(DEFINE_RED)
MOMENTS(DEFINE_MOMENT)
ARGS(DEFINE_ARG)
SCANS(DEFINE_SCAN)

#define SIG_SCAN(NAME, DT)                                                                         \
  NAME "(a: array, /, axis: int | None = None, *, reverse: bool = False, inclusive: bool = "       \
       "True, " DT "stream: StreamOrDevice = None) -> array\n\n"
#define SIG_MOM(NAME)                                                                              \
  NAME "(a: array, /, axis: None | int | Sequence[int] = None, keepdims: bool = False, ddof: "     \
       "int = 0, *, stream: StreamOrDevice = None) -> array\n\n"
#define SIG_ARG(NAME)                                                                              \
  NAME "(a: array, /, axis: None | int = None, keepdims: bool = False, *, stream: "                \
       "StreamOrDevice = None) -> array\n\n"

#define ARGS_AXES                                                                                  \
  "\n\nArgs:\n    a (array): Input array.\n    axis (int or list(int), optional): The axis or "    \
  "axes to reduce; every axis when ``None`` (the default).\n    keepdims (bool, optional): "       \
  "Keep the reduced axes as size one. Default: ``False``."
#define ARGS_DDOF "\n    ddof (int, optional): The divisor is ``N - ddof``. Default: ``0``."
#define ARGS_ARG                                                                                   \
  "\n\nArgs:\n    a (array): Input array.\n    axis (int, optional): The axis to search; the "     \
  "flattened array when ``None`` (the default).\n    keepdims (bool, optional): Keep the reduced " \
  "axis as size one. Default: ``False``."
#define ROW_RED(NAME, TEXT) PYOPS_F(#NAME, py_##NAME, SIG_RED(#NAME) TEXT ARGS_AXES),
#define ROW_MOMENT(NAME, TEXT) PYOPS_F(#NAME, py_##NAME, SIG_MOM(#NAME) TEXT ARGS_AXES ARGS_DDOF),
#define ROW_ARG(NAME, TEXT) PYOPS_F(#NAME, py_##NAME, SIG_ARG(#NAME) TEXT ARGS_ARG),
#define ROW_SCAN(NAME, DTYPE, DTSIG, TEXT)                                                         \
  PYOPS_F(#NAME, py_##NAME,                                                                        \
          SIG_SCAN(#NAME, DTSIG) TEXT                                                              \
          " The flattened array when ``axis`` is ``None``; ``reverse`` "                           \
          "scans from the end, ``inclusive=False`` shifts by one."),

static PyMethodDef methods[] = {
    REDUCTIONS(ROW_RED) MOMENTS(ROW_MOMENT) ARGS(ROW_ARG) SCANS(ROW_SCAN) PYOPS_F(
        "count_nonzero", py_count_nonzero,
        "count_nonzero(a: array, /, *, axis: None | int | Sequence[int] = None, keepdims: bool = "
        "False, stream: StreamOrDevice = None) -> array\n\nNumber of nonzero elements (int32) over "
        "the given axes."),
    PYOPS_F(
        "softmax", py_softmax,
        "softmax(a: array, /, axis: None | int | Sequence[int] = None, *, precise: bool = False, "
        "stream: StreamOrDevice = None) -> array\n\n``exp(a) / sum(exp(a))`` over the given axes "
        "(all by default), computed stably."),
    PYOPS_F(
        "trace", py_trace,
        "trace(a: array, /, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Dtype | None "
        "= None, *, stream: StreamOrDevice = None) -> array\n\nSum of the diagonal ``offset`` of "
        "the planes spanned by ``axis1`` and ``axis2``."),
    PYOPS_F("diff", py_diff,
            "diff(a: array, /, n: int = 1, axis: int = -1, *, stream: StreamOrDevice = None) -> "
            "array\n\nThe ``n``-th discrete difference along ``axis``."),
    PYOPS_F("minmax", py_minmax,
            "minmax(a: array, /, *, stream: StreamOrDevice = None) -> tuple[array, array]\n\nThe "
            "minimum and the maximum of all elements, as two scalar arrays."),
    {NULL, NULL, 0, NULL},
};

int pyops_init_reduce(PyObject *m) {
  if (pyops_add_functions(m, methods) < 0) return -1;
  static const char *const aliases[][2] = {{"cumulative_sum", "cumsum"},
                                           {"cumulative_prod", "cumprod"}};
  return pyops_add_aliases(m, aliases, 2);
}
