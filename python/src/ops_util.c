/* lazuli.core: argument helpers and registration shared by the module-level function files,
 * and the two init hooks (pylz_init_ops, pylz_init_ops_more) that register them. */
#include "ops_impl.h"

#include <math.h>

#define PYOPS_CAPSULE "lazuli.core.fn"

int pylz_init_ops(PyObject *m) {
  if (pyops_init_elementwise(m) < 0 || pyops_init_reduce(m) < 0 || pyops_init_shape(m) < 0 ||
      pyops_init_creation(m) < 0)
    return -1;
  return 0;
}

/* MLX's constants (constants.cpp): pi, e, euler_gamma, inf, nan and newaxis (None). */
static int add_constants(PyObject *m) {
  static const struct {
    const char *name;
    double value;
  } consts[] = {{"pi", 3.14159265358979323846},
                {"e", 2.71828182845904523536},
                {"euler_gamma", 0.57721566490153286061},
                {"inf", HUGE_VAL},
                {"nan", NAN}};
  for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++) {
    PyObject *v = PyFloat_FromDouble(consts[i].value);
    if (!v || PyModule_AddObjectRef(m, consts[i].name, v) < 0) {
      Py_XDECREF(v);
      return -1;
    }
    Py_DECREF(v);
  }
  return PyModule_AddObjectRef(m, "newaxis", Py_None);
}

int pylz_init_ops_more(PyObject *m) {
  if (pyops_init_index(m) < 0 || pyops_init_matmul(m) < 0 || pyops_init_quantize(m) < 0 ||
      add_constants(m) < 0)
    return -1;
  return 0;
}

int pyops_register(PyObject *m, pyops_fn *fns, int n, const char *modname) {
  PyObject *name = PyUnicode_FromString(modname);
  if (!name)
    return -1;
  for (int i = 0; i < n; i++) {
    PyObject *cap = PyCapsule_New(&fns[i], PYOPS_CAPSULE, NULL);
    if (!cap)
      goto fail;
    PyObject *f = PyCFunction_NewEx(&fns[i].def, cap, name);
    Py_DECREF(cap);
    if (!f)
      goto fail;
    int rc = PyModule_AddObjectRef(m, fns[i].def.ml_name, f);
    Py_DECREF(f);
    if (rc < 0)
      goto fail;
  }
  Py_DECREF(name);
  return 0;
fail:
  Py_DECREF(name);
  return -1;
}

const pyops_fn *pyops_self(PyObject *self) {
  return (const pyops_fn *)PyCapsule_GetPointer(self, PYOPS_CAPSULE);
}

int pyops_add_functions(PyObject *m, PyMethodDef *defs) { return PyModule_AddFunctions(m, defs); }

int pyops_type_error(const char *what, const char *expected, PyObject *got) {
  PyErr_Format(PyExc_TypeError, "%s must be %s, not %.100s", what, expected,
               got ? Py_TYPE(got)->tp_name : "nothing");
  return -1;
}

int pyops_int(PyObject *o, int *out, const char *what) {
  if (!o || PyFloat_Check(o) || !PyIndex_Check(o))
    return pyops_type_error(what, "an int", o);
  Py_ssize_t v = PyNumber_AsSsize_t(o, NULL);
  if (v == -1 && PyErr_Occurred())
    return -1;
  if (v > INT32_MAX || v < INT32_MIN) {
    PyErr_Format(PyExc_ValueError, "%s = %zd does not fit in 32 bits", what, v);
    return -1;
  }
  *out = (int)v;
  return 0;
}

int pyops_opt_int(PyObject *o, int *out, int *set, const char *what) {
  *set = 0;
  if (!o || o == Py_None)
    return 0;
  if (pyops_int(o, out, what) < 0)
    return -1;
  *set = 1;
  return 0;
}

int pyops_bool(PyObject *o, bool *out, const char *what) {
  if (!o)
    return 0;
  if (!PyBool_Check(o))
    return pyops_type_error(what, "a bool", o);
  *out = o == Py_True;
  return 0;
}

int pyops_double(PyObject *o, double *out, const char *what) {
  if (!o || !(PyFloat_Check(o) || PyLong_Check(o)))
    return pyops_type_error(what, "a float", o);
  double v = PyFloat_AsDouble(o);
  if (v == -1.0 && PyErr_Occurred())
    return -1;
  *out = v;
  return 0;
}

int pyops_int_list(PyObject *o, pyops_ints *out, int allow_int, const char *what) {
  out->n = 0;
  if (o && allow_int && !PyFloat_Check(o) && PyIndex_Check(o)) {
    out->n = 1;
    return pyops_int(o, &out->v[0], what);
  }
  if (!o || !(PyList_Check(o) || PyTuple_Check(o)))
    return pyops_type_error(what, allow_int ? "an int or a sequence of ints" : "a sequence of ints",
                            o);
  Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
  if (n > PYOPS_MAX_INTS) {
    PyErr_Format(PyExc_ValueError, "%s has %zd entries, more than %d", what, n, PYOPS_MAX_INTS);
    return -1;
  }
  for (Py_ssize_t i = 0; i < n; i++) {
    if (pyops_int(PySequence_Fast_GET_ITEM(o, i), &out->v[i], what) < 0)
      return -1;
  }
  out->n = (int)n;
  return 0;
}

int pyops_shape(PyObject *o, pyops_ints *out, const char *what) {
  if (pyops_int_list(o, out, 1, what) < 0)
    return -1;
  if (out->n > LZ_MAX_NDIM) {
    PyErr_Format(PyExc_ValueError, "%s has %d dimensions, more than %d", what, out->n,
                 LZ_MAX_NDIM);
    return -1;
  }
  for (int i = 0; i < out->n; i++) {
    if (out->v[i] < 0) {
      PyErr_Format(PyExc_ValueError, "%s has a negative dimension %d", what, out->v[i]);
      return -1;
    }
  }
  return 0;
}

int pyops_axes(PyObject *o, pyops_ints *out, int *all, const char *what) {
  *all = 0;
  out->n = 0;
  if (!o || o == Py_None) {
    *all = 1;
    return 0;
  }
  return pyops_int_list(o, out, 1, what);
}

int pyops_dtype(PyObject *o, lz_dtype *out, const char *what) {
  if (!o || o == Py_None)
    return 0;
  if (pylz_dtype_from_py(o, out) < 0) {
    PyErr_Clear();
    return pyops_type_error(what, "a Dtype", o);
  }
  return 0;
}

int pyops_str(PyObject *o, const char **out, const char *what) {
  if (!o || !PyUnicode_Check(o))
    return pyops_type_error(what, "a str", o);
  *out = PyUnicode_AsUTF8(o);
  return *out ? 0 : -1;
}

void pyops_free_arrays(lz_array **arrays, int n) {
  if (!arrays)
    return;
  for (int i = 0; i < n; i++)
    lz_free(arrays[i]);
  PyMem_Free(arrays);
}

int pyops_array_seq(PyObject *seq, lz_array ***out, int *n, const char *what) {
  *out = NULL;
  *n = 0;
  if (!seq || !(PyList_Check(seq) || PyTuple_Check(seq)))
    return pyops_type_error(what, "a list or tuple of arrays", seq);
  Py_ssize_t len = PySequence_Fast_GET_SIZE(seq);
  if (len > INT32_MAX) {
    PyErr_Format(PyExc_ValueError, "%s has too many arrays", what);
    return -1;
  }
  lz_array **arrays = PyMem_Calloc(len ? (size_t)len : 1, sizeof(lz_array *));
  if (!arrays) {
    PyErr_NoMemory();
    return -1;
  }
  for (Py_ssize_t i = 0; i < len; i++) {
    arrays[i] = pylz_to_array(PySequence_Fast_GET_ITEM(seq, i));
    if (!arrays[i]) {
      pyops_free_arrays(arrays, (int)i);
      return -1;
    }
  }
  *out = arrays;
  *n = (int)len;
  return 0;
}

int pyops_opt_array(PyObject *o, lz_array **out) {
  *out = NULL;
  if (!o || o == Py_None)
    return 0;
  *out = pylz_to_array(o);
  return *out ? 0 : -1;
}

PyObject *pyops_wrap_many(lz_array **arrays, int n, int as_list) {
  PyObject *res = NULL;
  for (int i = 0; i < n; i++) {
    if (!arrays[i]) {
      for (int j = 0; j < n; j++)
        lz_free(arrays[j]);
      if (lz_last_error_code() == LZ_ERROR_NONE && !PyErr_Occurred())
        lz_set_error(LZ_ERROR_INTERNAL, "lazuli.core", "an op returned no result");
      return pylz_raise();
    }
  }
  res = as_list ? PyList_New(n) : PyTuple_New(n);
  if (!res) {
    for (int j = 0; j < n; j++)
      lz_free(arrays[j]);
    return NULL;
  }
  for (int i = 0; i < n; i++) {
    PyObject *w = pylz_wrap(arrays[i]);
    arrays[i] = NULL;
    if (!w) {
      for (int j = i + 1; j < n; j++)
        lz_free(arrays[j]);
      Py_DECREF(res);
      return NULL;
    }
    if (as_list)
      PyList_SET_ITEM(res, i, w);
    else
      PyTuple_SET_ITEM(res, i, w);
  }
  return res;
}
