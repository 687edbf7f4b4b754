/* lazuli.core: module initialisation, error translation, argument helpers and submodules.
 *
 * PyInit_core creates the module and calls every init hook of pylz.h that is linked in (each
 * file of python/src registers its own names), in a fixed order: types first (dtypes, devices,
 * the array type), then the functions that use them. */
#include "pylz.h"

#include <limits.h>

#ifndef LZ_VERSION_STRING
#define LZ_VERSION_STRING "0.0.0"
#endif

/* ---- errors ---------------------------------------------------------------------------- */

/* MLX raises std::invalid_argument (ValueError) for bad shapes, dtypes, axes and arguments,
 * std::bad_alloc (MemoryError) when memory runs out, and std::runtime_error (RuntimeError) for
 * what fails while computing or reading files ("[load] Failed to open ..."). Lazuli's codes
 * map onto those. */
static PyObject *exception_for(lz_error code) {
  switch (code) {
  case LZ_ERROR_INVALID_ARGUMENT:
  case LZ_ERROR_SHAPE:
  case LZ_ERROR_DTYPE:
    return PyExc_ValueError;
  case LZ_ERROR_OUT_OF_MEMORY:
    return PyExc_MemoryError;
  default:
    return PyExc_RuntimeError;
  }
}

PyObject *pylz_raise(void) {
  lz_error code = lz_last_error_code();
  if (code == LZ_ERROR_NONE) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_RuntimeError, "[lazuli] operation failed without a message");
    return NULL;
  }
  /* A Python exception raised inside a callback (a transformed function, say) wins: Lazuli's
   * error only says that the callback failed. */
  if (!PyErr_Occurred()) PyErr_SetString(exception_for(code), lz_last_error());
  lz_clear_error();
  return NULL;
}

int pylz_raise_int(void) {
  pylz_raise();
  return -1;
}

/* ---- argument helpers ------------------------------------------------------------------- */

/* An int that fits in C int, from a Python int or anything with __index__ (not bool-typed
 * floats: MLX rejects 1.0 as an axis). */
int pylz_as_int(PyObject *o, int *out, const char *what) {
  if (PyFloat_Check(o) || !PyIndex_Check(o)) {
    PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", what, Py_TYPE(o)->tp_name);
    return -1;
  }
  long v = PyLong_AsLong(o);
  if (v == -1 && PyErr_Occurred()) {
    if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
      PyErr_Clear();
      PyErr_Format(PyExc_ValueError, "%s is out of range", what);
    }
    return -1;
  }
  if (v < INT_MIN || v > INT_MAX) {
    PyErr_Format(PyExc_ValueError, "%s %ld is out of range", what, v);
    return -1;
  }
  *out = (int)v;
  return 0;
}

/* Reads a sequence of at most LZ_MAX_NDIM ints (or one int) into out; `what` names it. */
static int parse_int_list(PyObject *o, int *out, int *n, const char *what) {
  if (PyLong_Check(o) || (!PySequence_Check(o) && PyIndex_Check(o))) {
    *n = 1;
    return pylz_as_int(o, out, what);
  }
  if (!PyList_Check(o) && !PyTuple_Check(o)) {
    PyErr_Format(PyExc_TypeError, "%s must be an int or a sequence of ints, not %.100s", what,
                 Py_TYPE(o)->tp_name);
    return -1;
  }
  Py_ssize_t len = PySequence_Fast_GET_SIZE(o);
  if (len > LZ_MAX_NDIM) {
    PyErr_Format(PyExc_ValueError, "%s has %zd entries, at most %d are supported", what, len,
                 LZ_MAX_NDIM);
    return -1;
  }
  for (Py_ssize_t i = 0; i < len; i++)
    if (pylz_as_int(PySequence_Fast_GET_ITEM(o, i), &out[i], what) < 0) return -1;
  *n = (int)len;
  return 0;
}

int pylz_parse_shape(PyObject *o, int *shape, int *ndim) {
  if (parse_int_list(o, shape, ndim, "shape") < 0) return -1;
  for (int i = 0; i < *ndim; i++)
    if (shape[i] < 0 && shape[i] != -1) {
      PyErr_Format(PyExc_ValueError, "shape has a negative dimension %d", shape[i]);
      return -1;
    }
  return 0;
}

/* ---- submodules ------------------------------------------------------------------------- */

PyObject *pylz_add_submodule(PyObject *m, const char *name, PyMethodDef *methods, const char *doc) {
  const char *parent = PyModule_GetName(m);
  if (!parent) return NULL;
  PyObject *full = PyUnicode_FromFormat("%s.%s", parent, name);
  if (!full) return NULL;
  PyObject *sub = PyImport_AddModuleObject(full); /* borrowed, registered in sys.modules */
  Py_DECREF(full);
  if (!sub) return NULL;
  if (doc) {
    PyObject *d = PyUnicode_FromString(doc);
    if (!d || PyObject_SetAttrString(sub, "__doc__", d) < 0) {
      Py_XDECREF(d);
      return NULL;
    }
    Py_DECREF(d);
  }
  if (methods && PyModule_AddFunctions(sub, methods) < 0) return NULL;
  Py_INCREF(sub);
  if (PyModule_AddObject(m, name, sub) < 0) {
    Py_DECREF(sub);
    return NULL;
  }
  return sub;
}

/* ---- the module -------------------------------------------------------------------------- */

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "lazuli.core",
    .m_doc = "Lazuli's core: lazy arrays, ops and function transformations with the API of "
             "MLX's mlx.core, computed on the CPU by liblazuli.",
    .m_size = -1,
};

typedef int (*init_hook)(PyObject *);

PyMODINIT_FUNC PyInit_core(void) {
  PyObject *m = PyModule_Create(&core_module);
  if (!m) return NULL;
  /* Types first: later hooks use dtypes, devices and the array type. */
  init_hook hooks[] = {
      pylz_init_dtypes,   pylz_init_memory,     pylz_init_devices,     pylz_init_array,
      pylz_init_indexing, pylz_init_ops,        pylz_init_ops_more,    pylz_init_random,
      pylz_init_linalg,   pylz_init_fft,        pylz_init_fast,        pylz_init_io,
      pylz_init_trees,    pylz_init_transforms, pylz_init_distributed, pylz_init_export,
  };
  if (PyModule_AddStringConstant(m, "__version__", LZ_VERSION_STRING) < 0) goto fail;
  for (size_t i = 0; i < sizeof hooks / sizeof hooks[0]; i++)
    if (hooks[i] && hooks[i](m) < 0) goto fail;
  return m;
fail:
  Py_DECREF(m);
  return NULL;
}
