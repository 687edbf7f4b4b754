/* The method forms of ops: `x.sum(axis=1)` is `lazuli.core.sum(x, axis=1)`.
 *
 * Most methods forward to the module-level function of the same name with the array as first
 * argument, so both forms share one argument parser and one behaviour. The function is looked
 * up at each call (a dict lookup), so the method works whichever file of the extension defines
 * the function. Methods whose signature differs from the function's (reshape and transpose
 * take varargs, astype and view take a dtype) are written here. */
#include "pylz.h"
#include "ops_impl.h"

#include <string.h>

static PyObject *core_module; /* a strong reference: methods look functions up in it */

/* ---- forwarding descriptors -------------------------------------------------------------- */

typedef struct {
  PyObject_HEAD const char *name;
  const char *doc;
} PyLzForward;

static PyObject *forward_call(PyObject *self, PyObject *args, PyObject *kwargs) {
  const char *name = ((PyLzForward *)self)->name;
  PyObject *fn = core_module ? PyObject_GetAttrString(core_module, name) : NULL;
  if (!fn) {
    PyErr_Clear();
    PyErr_Format(PyExc_AttributeError,
                 "array.%s needs the function lazuli.core.%s, which this build does not have", name,
                 name);
    return NULL;
  }
  PyObject *r = PyObject_Call(fn, args, kwargs);
  Py_DECREF(fn);
  return r;
}

static PyObject *forward_get(PyObject *self, PyObject *obj, PyObject *type) {
  if (!obj || obj == Py_None) {
    Py_INCREF(self);
    return self;
  }
  return PyMethod_New(self, obj);
}

static PyObject *forward_doc(PyObject *self, void *c) {
  return PyUnicode_FromString(((PyLzForward *)self)->doc);
}
static PyObject *forward_name(PyObject *self, void *c) {
  return PyUnicode_FromString(((PyLzForward *)self)->name);
}

static PyGetSetDef forward_getset[] = {
    {"__doc__", forward_doc, NULL, NULL, NULL},
    {"__name__", forward_name, NULL, NULL, NULL},
    {NULL},
};

static PyTypeObject PyLzForward_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core._array_method",
    .tp_basicsize = sizeof(PyLzForward),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_call = forward_call,
    .tp_descr_get = forward_get,
    .tp_getset = forward_getset,
};

/* name, signature for the docstring. Each forwards to lazuli.core.<name>(self, ...). */
static const char *const forwarded[][2] = {
    {"abs", "abs(self, *, stream=None) -> array"},
    {"square", "square(self, *, stream=None) -> array"},
    {"sqrt", "sqrt(self, *, stream=None) -> array"},
    {"rsqrt", "rsqrt(self, *, stream=None) -> array"},
    {"reciprocal", "reciprocal(self, *, stream=None) -> array"},
    {"exp", "exp(self, *, stream=None) -> array"},
    {"log", "log(self, *, stream=None) -> array"},
    {"log2", "log2(self, *, stream=None) -> array"},
    {"log10", "log10(self, *, stream=None) -> array"},
    {"log1p", "log1p(self, *, stream=None) -> array"},
    {"sin", "sin(self, *, stream=None) -> array"},
    {"cos", "cos(self, *, stream=None) -> array"},
    {"all", "all(self, axis=None, keepdims=False, *, stream=None) -> array"},
    {"any", "any(self, axis=None, keepdims=False, *, stream=None) -> array"},
    {"sum", "sum(self, axis=None, keepdims=False, *, stream=None) -> array"},
    {"prod", "prod(self, axis=None, keepdims=False, *, stream=None) -> array"},
    {"min", "min(self, axis=None, keepdims=False, *, stream=None) -> array"},
    {"max", "max(self, axis=None, keepdims=False, *, stream=None) -> array"},
    {"mean", "mean(self, axis=None, keepdims=False, *, stream=None) -> array"},
    {"logsumexp", "logsumexp(self, axis=None, keepdims=False, *, stream=None) -> array"},
    {"std", "std(self, axis=None, keepdims=False, ddof=0, *, stream=None) -> array"},
    {"var", "var(self, axis=None, keepdims=False, ddof=0, *, stream=None) -> array"},
    {"argmin", "argmin(self, axis=None, keepdims=False, *, stream=None) -> array"},
    {"argmax", "argmax(self, axis=None, keepdims=False, *, stream=None) -> array"},
    {"cumsum", "cumsum(self, axis=None, *, reverse=False, inclusive=True, stream=None) -> array"},
    {"cumprod", "cumprod(self, axis=None, *, reverse=False, inclusive=True, stream=None) -> array"},
    {"cummax", "cummax(self, axis=None, *, reverse=False, inclusive=True, stream=None) -> array"},
    {"cummin", "cummin(self, axis=None, *, reverse=False, inclusive=True, stream=None) -> array"},
    {"logcumsumexp",
     "logcumsumexp(self, axis=None, *, reverse=False, inclusive=True, stream=None) -> array"},
    {"split", "split(self, indices_or_sections, axis=0, *, stream=None) -> list[array]"},
    {"flatten", "flatten(self, start_axis=0, end_axis=-1, *, stream=None) -> array"},
    {"squeeze", "squeeze(self, axis=None, *, stream=None) -> array"},
    {"moveaxis", "moveaxis(self, source, destination, *, stream=None) -> array"},
    {"swapaxes", "swapaxes(self, axis1, axis2, *, stream=None) -> array"},
    {"round", "round(self, decimals=0, *, stream=None) -> array"},
    {"diagonal", "diagonal(self, offset=0, axis1=0, axis2=1, stream=None) -> array"},
    {"diag", "diag(self, k=0, *, stream=None) -> array"},
    {"conj", "conj(self, *, stream=None) -> array"},
};
#define NFORWARDED (sizeof forwarded / sizeof forwarded[0])
static PyLzForward forward_objects[NFORWARDED];
static char forward_docs[NFORWARDED][160];

/* ---- methods with their own signature ----------------------------------------------------- */

#define A(o) (((PyLzArray *)(o))->a)

/* Accepts `stream=` (ignored: one CPU stream) and nothing else as keywords. */
static int only_stream_kw(PyObject *kwargs, const char *fname) {
  if (!kwargs) return 0;
  Py_ssize_t pos = 0;
  PyObject *k, *v;
  while (PyDict_Next(kwargs, &pos, &k, &v))
    if (!PyUnicode_Check(k) || PyUnicode_CompareWithASCIIString(k, "stream") != 0) {
      PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%S'", fname, k);
      return -1;
    }
  return 0;
}

/* Ints given either as one sequence or as separate arguments. */
static int varargs_ints(PyObject *args, int *out, int *n, const char *what) {
  Py_ssize_t na = PyTuple_GET_SIZE(args);
  if (na == 1 &&
      (PyList_Check(PyTuple_GET_ITEM(args, 0)) || PyTuple_Check(PyTuple_GET_ITEM(args, 0))))
    args = PyTuple_GET_ITEM(args, 0);
  if (PySequence_Fast_GET_SIZE(args) > LZ_MAX_NDIM) {
    PyErr_Format(PyExc_ValueError, "%s has more than %d entries", what, LZ_MAX_NDIM);
    return -1;
  }
  *n = (int)PySequence_Fast_GET_SIZE(args);
  for (int i = 0; i < *n; i++)
    if (pylz_as_int(PySequence_Fast_GET_ITEM(args, i), &out[i], what) < 0) return -1;
  return 0;
}

static PyObject *m_reshape(PyObject *self, PyObject *args, PyObject *kwargs) {
  int shape[LZ_MAX_NDIM], n;
  if (only_stream_kw(kwargs, "reshape") < 0) return NULL;
  if (PyTuple_GET_SIZE(args) == 0) {
    PyErr_SetString(PyExc_TypeError, "reshape() missing the shape");
    return NULL;
  }
  if (varargs_ints(args, shape, &n, "shape") < 0) return NULL;
  return pylz_wrap(lz_reshape(A(self), shape, n));
}

static PyObject *m_transpose(PyObject *self, PyObject *args, PyObject *kwargs) {
  int axes[LZ_MAX_NDIM], n;
  if (only_stream_kw(kwargs, "transpose") < 0) return NULL;
  if (PyTuple_GET_SIZE(args) == 0) return pylz_wrap(lz_transpose(A(self), NULL, 0));
  if (varargs_ints(args, axes, &n, "axes") < 0) return NULL;
  return pylz_wrap(lz_transpose(A(self), axes, n));
}

static PyObject *m_astype(PyObject *self, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"dtype", "stream", NULL};
  PyObject *d, *stream = Py_None;
  lz_dtype dt;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:astype", kwlist, &d, &stream) ||
      pylz_dtype_from_py(d, &dt) < 0)
    return NULL;
  return pylz_wrap(lz_astype(A(self), dt));
}

static PyObject *m_view(PyObject *self, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"dtype", "stream", NULL};
  PyObject *d, *stream = Py_None;
  lz_dtype dt;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$O:view", kwlist, &d, &stream) ||
      pylz_dtype_from_py(d, &dt) < 0)
    return NULL;
  return pylz_wrap(lz_view(A(self), dt));
}

static PyObject *m_array_namespace(PyObject *self, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"api_version", NULL};
  PyObject *v = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:__array_namespace__", kwlist, &v)) return NULL;
  if (v != Py_None) {
    PyErr_SetString(PyExc_ValueError, "Explicitly specifying api_version is not yet implemented.");
    return NULL;
  }
  return PyImport_ImportModule("lazuli.core");
}

static PyMethodDef own_methods[] = {
    PYOPS_F("reshape", m_reshape,
            "reshape(self, *shape, stream=None) -> array\n\nEquivalent to :func:`reshape` but the "
            "shape can be passed either as a tuple or as separate arguments."),
    PYOPS_F(
        "transpose", m_transpose,
        "transpose(self, *axes, stream=None) -> array\n\nEquivalent to :func:`transpose` but the "
        "axes can be passed either as a tuple or as separate arguments."),
    PYOPS_F(
        "astype", m_astype,
        "astype(self, dtype: Dtype, stream=None) -> array\n\nCast the array to a specified type."),
    PYOPS_F("view", m_view,
            "view(self, dtype: Dtype, *, stream=None) -> array\n\nThe same bits seen as another "
            "dtype. See :func:`view`."),
    PYOPS_F("__array_namespace__", m_array_namespace,
            "__array_namespace__(self, api_version=None)\n\nThe module holding the array API "
            "functions (lazuli.core)."),
    {NULL},
};

static PyObject *get_real(PyObject *self, void *c) { return pylz_wrap(lz_real(A(self))); }
static PyObject *get_imag(PyObject *self, void *c) { return pylz_wrap(lz_imag(A(self))); }

static PyGetSetDef own_getset[] = {
    {"real", get_real, NULL, "The real part of a complex array.", NULL},
    {"imag", get_imag, NULL, "The imaginary part of a complex array.", NULL},
    {NULL},
};

static int add_descr(PyTypeObject *type, const char *name, PyObject *descr) {
  if (!descr) return -1;
  int rc = PyDict_SetItemString(type->tp_dict, name, descr);
  Py_DECREF(descr);
  return rc;
}

int pylz_array_add_methods(PyTypeObject *type, PyObject *m) {
  Py_XDECREF(core_module);
  core_module = m;
  Py_INCREF(m);
  if (PyType_Ready(&PyLzForward_Type) < 0) return -1;
  for (size_t i = 0; i < NFORWARDED; i++) {
    PyLzForward *f = &forward_objects[i];
    PyObject *o = (PyObject *)f;
    Py_SET_TYPE(o, &PyLzForward_Type);
    Py_SET_REFCNT(o, 1); /* static, held by the type's dict for ever */
    f->name = forwarded[i][0];
    snprintf(forward_docs[i], sizeof forward_docs[i], "%s\n\nSee :func:`%s`.", forwarded[i][1],
             forwarded[i][0]);
    f->doc = forward_docs[i];
    Py_INCREF(o);
    if (add_descr(type, f->name, o) < 0) return -1;
  }
  for (PyMethodDef *d = own_methods; d->ml_name; d++)
    if (add_descr(type, d->ml_name, PyDescr_NewMethod(type, d)) < 0) return -1;
  for (PyGetSetDef *g = own_getset; g->name; g++)
    if (add_descr(type, g->name, PyDescr_NewGetSet(type, g)) < 0) return -1;
  PyType_Modified(type);
  return 0;
}
