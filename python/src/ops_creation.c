/* lazuli.core: array creation (zeros, ones, full, arange, linspace, eye, tri, meshgrid, window
 * functions), with MLX's names and signatures. */
#include "ops_impl.h"

#include <string.h>

/* The dtype MLX gives a Python scalar: bool, int32 (int64 beyond 32 bits) or float32. */
static int scalar_dtype(PyObject *o, lz_dtype *dt, double *value, const char *what) {
  if (PyBool_Check(o)) {
    *dt = LZ_BOOL;
    *value = o == Py_True;
    return 0;
  }
  if (PyLong_Check(o)) {
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow) {
      PyErr_Format(PyExc_ValueError, "[%s] %s does not fit in 64 bits", pyops_name, what);
      return -1;
    }
    if (v == -1 && PyErr_Occurred()) return -1;
    *dt = (v > INT32_MAX || v < INT32_MIN) ? LZ_INT64 : LZ_INT32;
    *value = (double)v;
    return 0;
  }
  if (PyFloat_Check(o)) {
    *dt = LZ_FLOAT32;
    *value = PyFloat_AS_DOUBLE(o);
    return 0;
  }
  return pyops_type_error(what, "an int or a float", o);
}

/* zeros(shape, dtype=float32) and ones(...). */
static PyObject *fill_impl(PyObject *args, PyObject *kw, double value) {
  static char *kws[] = {"shape", "dtype", "stream", NULL};
  PyObject *oshape, *odt = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O", kws, &oshape, &odt, &stream)) return NULL;
  pyops_ints shape;
  lz_dtype dt = LZ_FLOAT32;
  if (pyops_shape(oshape, &shape, "shape") < 0 || pyops_dtype(odt, &dt, "dtype") < 0) return NULL;
  return pylz_wrap(lz_full(shape.v, shape.n, value, dt));
}

static PyObject *py_zeros(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "zeros";
  return fill_impl(args, kw, 0);
}

static PyObject *py_ones(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "ones";
  return fill_impl(args, kw, 1);
}

/* `vals` (scalar or array) as an array of `shape`; dtype LZ_DTYPE_COUNT means inferred. */
static lz_array *full_of(const int *shape, int ndim, PyObject *ovals, lz_dtype dt) {
  if (PyBool_Check(ovals) || PyLong_Check(ovals) || PyFloat_Check(ovals)) {
    lz_dtype sdt = LZ_FLOAT32;
    double v = 0;
    if (scalar_dtype(ovals, &sdt, &v, "vals") < 0) return NULL;
    lz_array *r = lz_full(shape, ndim, v, dt == LZ_DTYPE_COUNT ? sdt : dt);
    if (!r) pylz_raise();
    return r;
  }
  lz_array *v = pylz_to_array(ovals);
  if (!v) return NULL;
  lz_array *r = lz_full_array(shape, ndim, v, dt == LZ_DTYPE_COUNT ? lz_array_dtype(v) : dt);
  lz_free(v);
  if (!r) pylz_raise();
  return r;
}

static PyObject *py_full(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "full";
  static char *kws[] = {"shape", "vals", "dtype", "stream", NULL};
  PyObject *oshape, *ovals, *odt = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O$O:full", kws, &oshape, &ovals, &odt, &stream))
    return NULL;
  pyops_ints shape;
  lz_dtype dt = LZ_DTYPE_COUNT;
  if (pyops_shape(oshape, &shape, "shape") < 0 || pyops_dtype(odt, &dt, "dtype") < 0) return NULL;
  lz_array *r = full_of(shape.v, shape.n, ovals, dt);
  return r ? pylz_wrap(r) : NULL;
}

/* zeros_like(a, dtype=None), ones_like(...). */
static PyObject *like_impl(PyObject *args, PyObject *kw, double value) {
  static char *kws[] = {"", "dtype", "stream", NULL};
  PyObject *x, *odt = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O", kws, &x, &odt, &stream)) return NULL;
  lz_dtype dt = LZ_DTYPE_COUNT;
  if (pyops_dtype(odt, &dt, "dtype") < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = lz_full(lz_array_shape(a), lz_array_ndim(a), value,
                        dt == LZ_DTYPE_COUNT ? lz_array_dtype(a) : dt);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_zeros_like(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "zeros_like";
  return like_impl(args, kw, 0);
}

static PyObject *py_ones_like(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "ones_like";
  return like_impl(args, kw, 1);
}

static PyObject *py_full_like(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "full_like";
  static char *kws[] = {"", "vals", "dtype", "stream", NULL};
  PyObject *x, *ovals, *odt = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O$O:full_like", kws, &x, &ovals, &odt, &stream))
    return NULL;
  lz_dtype dt = LZ_DTYPE_COUNT;
  if (pyops_dtype(odt, &dt, "dtype") < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = full_of(lz_array_shape(a), lz_array_ndim(a), ovals,
                        dt == LZ_DTYPE_COUNT ? lz_array_dtype(a) : dt);
  lz_free(a);
  return r ? pylz_wrap(r) : NULL;
}

/* arange(stop, step=None, dtype=None) and arange(start, stop, step=None, dtype=None). */
static PyObject *py_arange(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "arange";
  PyObject *o[3] = {NULL, NULL, NULL}; /* start, stop, step as given */
  PyObject *odt = Py_None;
  Py_ssize_t npos = PyTuple_GET_SIZE(args);
  if (npos > 4) {
    PyErr_Format(PyExc_TypeError, "arange() takes at most 4 positional arguments (%zd given)",
                 npos);
    return NULL;
  }
  PyObject *kstart = NULL, *kstop = NULL, *kstep = NULL, *kdt = NULL;
  if (kw) {
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(kw, &pos, &k, &v)) {
      const char *name = PyUnicode_Check(k) ? PyUnicode_AsUTF8(k) : NULL;
      if (!name) return NULL;
      if (!strcmp(name, "start"))
        kstart = v;
      else if (!strcmp(name, "stop"))
        kstop = v;
      else if (!strcmp(name, "step"))
        kstep = v;
      else if (!strcmp(name, "dtype"))
        kdt = v;
      else if (strcmp(name, "stream")) {
        PyErr_Format(PyExc_TypeError, "arange() got an unexpected keyword argument '%s'", name);
        return NULL;
      }
    }
  }
  PyObject *pos[4] = {NULL, NULL, NULL, NULL};
  for (Py_ssize_t i = 0; i < npos; i++) pos[i] = PyTuple_GET_ITEM(args, i);
  if (npos >= 2 || kstart || (npos == 1 && kstop)) {
    /* (start, stop, step, dtype) */
    o[0] = pos[0] ? pos[0] : kstart;
    o[1] = pos[1] ? pos[1] : kstop;
    o[2] = pos[2] ? pos[2] : kstep;
    odt = pos[3] ? pos[3] : (kdt ? kdt : Py_None);
    if ((pos[0] && kstart) || (pos[1] && kstop) || (pos[2] && kstep) || (pos[3] && kdt)) {
      PyErr_SetString(PyExc_TypeError, "arange() got multiple values for an argument");
      return NULL;
    }
    if (!o[0]) {
      PyErr_SetString(PyExc_TypeError, "arange() missing required argument 'start'");
      return NULL;
    }
    if (!o[1] || o[1] == Py_None) {
      o[1] = o[0];
      o[0] = NULL;
    }
  } else {
    /* (stop, step, dtype) */
    if (npos > 3) {
      PyErr_SetString(PyExc_TypeError, "arange() got too many positional arguments");
      return NULL;
    }
    o[1] = pos[0] ? pos[0] : kstop;
    o[2] = pos[1] ? pos[1] : kstep;
    odt = pos[2] ? pos[2] : (kdt ? kdt : Py_None);
    if (!o[1]) {
      PyErr_SetString(PyExc_TypeError, "arange() missing required argument 'stop'");
      return NULL;
    }
  }
  if (o[2] == Py_None) o[2] = NULL;
  double v[3] = {0, 0, 1};
  lz_dtype dt = LZ_DTYPE_COUNT;
  static const char *const names[3] = {"start", "stop", "step"};
  for (int i = 0; i < 3; i++) {
    if (!o[i]) continue;
    lz_dtype sdt;
    if (scalar_dtype(o[i], &sdt, &v[i], names[i]) < 0) return NULL;
    dt = dt == LZ_DTYPE_COUNT ? sdt : lz_promote_types(dt, sdt);
  }
  if (pyops_dtype(odt, &dt, "dtype") < 0) return NULL;
  return pylz_wrap(lz_arange(v[0], v[1], v[2], dt));
}

static PyObject *py_linspace(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "linspace";
  static char *kws[] = {"start", "stop", "num", "endpoint", "dtype", "stream", NULL};
  PyObject *ostart, *ostop, *onum = NULL, *oend = NULL, *odt = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|OOOO:linspace", kws, &ostart, &ostop, &onum, &oend,
                                   &odt, &stream))
    return NULL;
  double start, stop;
  lz_dtype sdt, dt = LZ_FLOAT32;
  int num = 50;
  bool endpoint = true;
  if (scalar_dtype(ostart, &sdt, &start, "start") < 0 ||
      scalar_dtype(ostop, &sdt, &stop, "stop") < 0 ||
      (onum && onum != Py_None && pyops_int(onum, &num, "num") < 0) ||
      pyops_bool(oend, &endpoint, "endpoint") < 0 || pyops_dtype(odt, &dt, "dtype") < 0)
    return NULL;
  if (num < 0) {
    PyErr_Format(PyExc_ValueError, "[linspace] number of samples, %d, must be non-negative", num);
    return NULL;
  }
  if (endpoint || num == 0) return pylz_wrap(lz_linspace(start, stop, num, dt));
  /* Without the endpoint the samples are the first num of num + 1 with it (same formula). */
  lz_array *all = lz_linspace(start, stop, num + 1, dt);
  int b = 0, e = num;
  lz_array *r = lz_slice(all, &b, &e, NULL, 1);
  lz_free(all);
  return pylz_wrap(r);
}

/* eye(n, m=None, k=0, dtype=float32) and tri(...). */
static PyObject *nmk_impl(PyObject *args, PyObject *kw, int tri) {
  static char *kws[] = {"n", "m", "k", "dtype", "stream", NULL};
  PyObject *on, *om = Py_None, *ok = NULL, *odt = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOO$O", kws, &on, &om, &ok, &odt, &stream))
    return NULL;
  int n, m = -1, has_m, k = 0;
  lz_dtype dt = LZ_FLOAT32;
  if (pyops_int(on, &n, "n") < 0 || pyops_opt_int(om, &m, &has_m, "m") < 0 ||
      (ok && pyops_int(ok, &k, "k") < 0) || pyops_dtype(odt, &dt, "dtype") < 0)
    return NULL;
  if (n < 0 || (has_m && m < 0)) {
    PyErr_Format(PyExc_ValueError, "[%s] n and m must be non-negative", tri ? "tri" : "eye");
    return NULL;
  }
  if (!has_m) m = n;
  return pylz_wrap(tri ? lz_tri(n, m, k, dt) : lz_eye(n, m, k, dt));
}

static PyObject *py_eye(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "eye";
  return nmk_impl(args, kw, 0);
}

static PyObject *py_tri(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "tri";
  return nmk_impl(args, kw, 1);
}

static PyObject *py_identity(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "identity";
  static char *kws[] = {"n", "dtype", "stream", NULL};
  PyObject *on, *odt = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O:identity", kws, &on, &odt, &stream))
    return NULL;
  int n;
  lz_dtype dt = LZ_FLOAT32;
  if (pyops_int(on, &n, "n") < 0 || pyops_dtype(odt, &dt, "dtype") < 0) return NULL;
  if (n < 0) {
    PyErr_SetString(PyExc_ValueError, "[identity] n must be non-negative");
    return NULL;
  }
  return pylz_wrap(lz_identity(n, dt));
}

/* tril(x, k=0) and triu(x, k=0). */
static PyObject *triangle_impl(PyObject *args, PyObject *kw, int upper) {
  static char *kws[] = {"x", "k", "stream", NULL};
  PyObject *x, *ok = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O", kws, &x, &ok, &stream)) return NULL;
  int k = 0;
  if (ok && pyops_int(ok, &k, "k") < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = upper ? lz_triu(a, k) : lz_tril(a, k);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_tril(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "tril";
  return triangle_impl(args, kw, 0);
}

static PyObject *py_triu(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "triu";
  return triangle_impl(args, kw, 1);
}

static PyObject *py_meshgrid(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "meshgrid";
  bool sparse = false;
  const char *indexing = "xy";
  if (kw) {
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(kw, &pos, &k, &v)) {
      const char *name = PyUnicode_Check(k) ? PyUnicode_AsUTF8(k) : NULL;
      if (!name) return NULL;
      if (!strcmp(name, "sparse")) {
        if (v != Py_None && pyops_bool(v, &sparse, "sparse") < 0) return NULL;
      } else if (!strcmp(name, "indexing")) {
        if (v != Py_None && pyops_str(v, &indexing, "indexing") < 0) return NULL;
      } else if (strcmp(name, "stream")) {
        PyErr_Format(PyExc_TypeError, "meshgrid() got an unexpected keyword argument '%s'", name);
        return NULL;
      }
    }
  }
  if (strcmp(indexing, "xy") && strcmp(indexing, "ij")) {
    PyErr_Format(PyExc_ValueError, "[meshgrid] Invalid indexing value '%s': expected 'xy' or 'ij'",
                 indexing);
    return NULL;
  }
  lz_array **arrays;
  int n;
  if (pyops_array_seq(args, &arrays, &n, "arrays") < 0) return NULL;
  lz_array **outs = PyMem_Calloc(n ? (size_t)n : 1, sizeof(lz_array *));
  if (!outs) {
    pyops_free_arrays(arrays, n);
    return PyErr_NoMemory();
  }
  int rc = n ? lz_meshgrid(arrays, n, sparse, indexing, outs) : 0;
  pyops_free_arrays(arrays, n);
  PyObject *res = rc < 0 ? pylz_raise() : pyops_wrap_many(outs, n, 0);
  PyMem_Free(outs);
  return res;
}

/* bartlett, blackman, hamming, hanning: (M, *, stream). */
static PyObject *window_impl(PyObject *args, PyObject *kw, lz_array *(*fn)(int, lz_dtype)) {
  static char *kws[] = {"M", "stream", NULL};
  PyObject *om, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$O", kws, &om, &stream)) return NULL;
  int m;
  if (pyops_int(om, &m, "M") < 0) return NULL;
  return pylz_wrap(fn(m, LZ_FLOAT32));
}

static PyObject *py_bartlett(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "bartlett";
  return window_impl(args, kw, lz_bartlett);
}
static PyObject *py_blackman(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "blackman";
  return window_impl(args, kw, lz_blackman);
}
static PyObject *py_hamming(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "hamming";
  return window_impl(args, kw, lz_hamming);
}
static PyObject *py_hanning(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "hanning";
  return window_impl(args, kw, lz_hanning);
}

#define SIG_WIN(NAME) NAME "(M: int, *, stream: StreamOrDevice = None) -> array\n\n"

static PyMethodDef methods[] = {
    PYOPS_F("zeros", py_zeros,
            "zeros(shape: int | Sequence[int], dtype: Dtype | None = float32, *, stream: "
            "StreamOrDevice = None) -> array\n\nAn array of zeros."),
    PYOPS_F("ones", py_ones,
            "ones(shape: int | Sequence[int], dtype: Dtype | None = float32, *, stream: "
            "StreamOrDevice = None) -> array\n\nAn array of ones."),
    PYOPS_F("empty", py_zeros,
            "empty(shape: int | Sequence[int], dtype: Dtype | None = float32, *, stream: "
            "StreamOrDevice = None) -> array\n\nSee :func:`zeros`."),
    PYOPS_F("full", py_full,
            "full(shape: int | Sequence[int], vals: scalar | array, dtype: Dtype | None = None, *, "
            "stream: StreamOrDevice = None) -> array\n\nAn array of ``shape`` filled with ``vals`` "
            "(broadcast); the dtype defaults to that of ``vals``."),
    PYOPS_F(
        "zeros_like", py_zeros_like,
        "zeros_like(a: array, /, dtype: Dtype | None = None, *, stream: StreamOrDevice = None) -> "
        "array\n\nZeros of the shape (and by default the dtype) of ``a``."),
    PYOPS_F(
        "empty_like", py_zeros_like,
        "empty_like(a: array, /, dtype: Dtype | None = None, *, stream: StreamOrDevice = None) -> "
        "array\n\nSee :func:`zeros_like`."),
    PYOPS_F(
        "ones_like", py_ones_like,
        "ones_like(a: array, /, dtype: Dtype | None = None, *, stream: StreamOrDevice = None) -> "
        "array\n\nOnes of the shape (and by default the dtype) of ``a``."),
    PYOPS_F(
        "full_like", py_full_like,
        "full_like(a: array, vals: scalar | array, dtype: Dtype | None = None, *, stream: "
        "StreamOrDevice = None) -> array\n\n``vals`` broadcast to the shape of ``a``, in the dtype "
        "of ``a`` by default."),
    PYOPS_F(
        "arange", py_arange,
        "arange(start: int | float, stop: None | int | float, step: None | int | float, dtype: "
        "Dtype | None = None, *, stream: StreamOrDevice = None) -> array\n"
        "arange(stop: int | float, step: None | int | float = None, dtype: Dtype | None = None, *, "
        "stream: StreamOrDevice = None) -> array\n\nValues from ``start`` (default 0) up to, not "
        "including, ``stop`` by ``step`` (default 1). The dtype is float32 if any bound is a "
        "float, else int32 (int64 for values beyond 32 bits)."),
    PYOPS_F(
        "linspace", py_linspace,
        "linspace(start: scalar, stop: scalar, num: int | None = 50, endpoint: bool = True, dtype: "
        "Dtype | None = float32, stream: StreamOrDevice = None) -> array\n\n``num`` evenly spaced "
        "values from ``start`` to ``stop`` (included unless ``endpoint`` is false)."),
    PYOPS_F(
        "eye", py_eye,
        "eye(n: int, m: int | None = None, k: int = 0, dtype: Dtype | None = float32, *, stream: "
        "StreamOrDevice = None) -> array\n\nAn (n, m) matrix with ones on diagonal ``k``."),
    PYOPS_F("identity", py_identity,
            "identity(n: int, dtype: Dtype | None = float32, *, stream: StreamOrDevice = None) -> "
            "array\n\nThe (n, n) identity matrix."),
    PYOPS_F("tri", py_tri,
            "tri(n: int, m: int | None = None, k: int = 0, dtype: Dtype | None = None, *, stream: "
            "StreamOrDevice = None) -> array\n\nAn (n, m) matrix with ones at and below diagonal "
            "``k``."),
    PYOPS_F(
        "tril", py_tril,
        "tril(x: array, k: int = 0, *, stream: StreamOrDevice = None) -> array\n\n``x`` with the "
        "elements above diagonal ``k`` set to zero."),
    PYOPS_F(
        "triu", py_triu,
        "triu(x: array, k: int = 0, *, stream: StreamOrDevice = None) -> array\n\n``x`` with the "
        "elements below diagonal ``k`` set to zero."),
    PYOPS_F("meshgrid", py_meshgrid,
            "meshgrid(*arrays: array, sparse: bool | None = False, indexing: str | None = 'xy', "
            "stream: StreamOrDevice = None) -> tuple[array, ...]\n\nCoordinate grids from 1-D "
            "arrays: Cartesian ('xy') or matrix ('ij') indexing, dense or sparse."),
    PYOPS_F("bartlett", py_bartlett, SIG_WIN("bartlett") "The Bartlett (triangular) window."),
    PYOPS_F("blackman", py_blackman, SIG_WIN("blackman") "The Blackman window."),
    PYOPS_F("hamming", py_hamming, SIG_WIN("hamming") "The Hamming window."),
    PYOPS_F("hanning", py_hanning, SIG_WIN("hanning") "The Hann window."),
    {NULL, NULL, 0, NULL},
};

int pyops_init_creation(PyObject *m) { return pyops_add_functions(m, methods); }
