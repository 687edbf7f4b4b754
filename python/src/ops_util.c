/* lazuli.core: argument helpers and registration shared by the module-level function files,
 * and the two init hooks (pylz_init_ops, pylz_init_ops_more) that register them. */
#include "ops_impl.h"

#include <math.h>

const char *pyops_name = "lazuli.core";

int pylz_init_ops(PyObject *m) {
  if (pyops_init_elementwise(m) < 0 || pyops_init_reduce(m) < 0 || pyops_init_shape(m) < 0 ||
      pyops_init_join(m) < 0 || pyops_init_creation(m) < 0)
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
  if (pyops_init_index(m) < 0 || pyops_init_matmul(m) < 0 || pyops_init_einsum(m) < 0 ||
      pyops_init_quantize(m) < 0 || pyops_init_dlpack(m) < 0 || add_constants(m) < 0)
    return -1;
  return 0;
}

int pyops_add_functions(PyObject *m, PyMethodDef *defs) { return PyModule_AddFunctions(m, defs); }

int pyops_add_aliases(PyObject *m, const char *const (*aliases)[2], size_t n) {
  for (size_t i = 0; i < n; i++) {
    PyObject *f = PyObject_GetAttrString(m, aliases[i][1]);
    if (!f) return -1;
    int rc = PyModule_AddObjectRef(m, aliases[i][0], f);
    Py_DECREF(f);
    if (rc < 0) return -1;
  }
  return 0;
}

int pyops_only_stream_kw(PyObject *kw, const char *fn) {
  if (!kw) return 0;
  Py_ssize_t pos = 0;
  PyObject *k, *v;
  while (PyDict_Next(kw, &pos, &k, &v)) {
    if (!PyUnicode_Check(k) || PyUnicode_CompareWithASCIIString(k, "stream") != 0) {
      PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%S'", fn, k);
      return -1;
    }
  }
  return 0;
}

int pyops_type_error(const char *what, const char *expected, PyObject *got) {
  PyErr_Format(PyExc_TypeError, "[%s] %s must be %s, not %.100s", pyops_name, what, expected,
               got ? Py_TYPE(got)->tp_name : "nothing");
  return -1;
}

int pyops_int(PyObject *o, int *out, const char *what) {
  if (!o || PyFloat_Check(o) || !PyIndex_Check(o)) return pyops_type_error(what, "an int", o);
  Py_ssize_t v = PyNumber_AsSsize_t(o, NULL);
  if (v == -1 && PyErr_Occurred()) return -1;
  if (v > INT32_MAX || v < INT32_MIN) {
    PyErr_Format(PyExc_ValueError, "[%s] %s = %zd does not fit in 32 bits", pyops_name, what, v);
    return -1;
  }
  *out = (int)v;
  return 0;
}

int pyops_opt_int(PyObject *o, int *out, int *set, const char *what) {
  *set = 0;
  if (!o || o == Py_None) return 0;
  if (pyops_int(o, out, what) < 0) return -1;
  *set = 1;
  return 0;
}

int pyops_bool(PyObject *o, bool *out, const char *what) {
  if (!o) return 0;
  if (!PyBool_Check(o)) return pyops_type_error(what, "a bool", o);
  *out = o == Py_True;
  return 0;
}

int pyops_double(PyObject *o, double *out, const char *what) {
  /* Python and NumPy numbers, or anything with __float__/__index__ (as nanobind converts), but
   * never a string (PyFloat_AsDouble would not parse it, float() would). */
  PyNumberMethods *nb = o ? Py_TYPE(o)->tp_as_number : NULL;
  if (!o || PyUnicode_Check(o) || PyBytes_Check(o) || !nb || !(nb->nb_float || nb->nb_index))
    return pyops_type_error(what, "a float", o);
  double v = PyFloat_AsDouble(o);
  if (v == -1.0 && PyErr_Occurred()) return -1;
  *out = v;
  return 0;
}

int pyops_int_list(PyObject *o, pyops_ints *out, int allow_int, const char *what) {
  out->n = 0;
  if (o && allow_int && !PyFloat_Check(o) && PyIndex_Check(o) && !PySequence_Check(o)) {
    out->n = 1;
    return pyops_int(o, &out->v[0], what);
  }
  /* Any sequence (list, tuple, range, a NumPy array) but a string or an array of ours. */
  if (!o || PyUnicode_Check(o) || PyBytes_Check(o) || PyLzArray_Check(o) || PyDict_Check(o) ||
      !PySequence_Check(o))
    return pyops_type_error(what, allow_int ? "an int or a sequence of ints" : "a sequence of ints",
                            o);
  PyObject *seq = PySequence_Fast(o, "");
  if (!seq) {
    PyErr_Clear();
    return pyops_type_error(what, "a sequence of ints", o);
  }
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  int rc = 0;
  if (n > PYOPS_MAX_INTS) {
    PyErr_Format(PyExc_ValueError, "[%s] %s has %zd entries, more than %d", pyops_name, what, n,
                 PYOPS_MAX_INTS);
    rc = -1;
  }
  for (Py_ssize_t i = 0; i < n && rc == 0; i++)
    rc = pyops_int(PySequence_Fast_GET_ITEM(seq, i), &out->v[i], what);
  Py_DECREF(seq);
  if (rc == 0) out->n = (int)n;
  return rc;
}

int pyops_shape(PyObject *o, pyops_ints *out, const char *what) {
  if (pyops_int_list(o, out, 1, what) < 0) return -1;
  if (out->n > LZ_MAX_NDIM) {
    PyErr_Format(PyExc_ValueError, "[%s] %s has %d dimensions, more than %d", pyops_name, what,
                 out->n, LZ_MAX_NDIM);
    return -1;
  }
  for (int i = 0; i < out->n; i++) {
    if (out->v[i] < 0) {
      PyErr_Format(PyExc_ValueError, "[%s] %s has a negative dimension %d", pyops_name, what,
                   out->v[i]);
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
  if (!o || o == Py_None) return 0;
  if (pylz_dtype_from_py(o, out) < 0) {
    PyErr_Clear();
    return pyops_type_error(what, "a Dtype", o);
  }
  return 0;
}

int pyops_str(PyObject *o, const char **out, const char *what) {
  if (!o || !PyUnicode_Check(o)) return pyops_type_error(what, "a str", o);
  *out = PyUnicode_AsUTF8(o);
  return *out ? 0 : -1;
}

void pyops_free_arrays(lz_array **arrays, int n) {
  if (!arrays) return;
  for (int i = 0; i < n; i++) lz_free(arrays[i]);
  PyMem_Free(arrays);
}

int pyops_array_seq(PyObject *seq, lz_array ***out, int *n, const char *what) {
  *out = NULL;
  *n = 0;
  if (!seq || !(PyList_Check(seq) || PyTuple_Check(seq)))
    return pyops_type_error(what, "a list or tuple of arrays", seq);
  Py_ssize_t len = PySequence_Fast_GET_SIZE(seq);
  if (len > INT32_MAX) {
    PyErr_Format(PyExc_ValueError, "[%s] %s has too many arrays", pyops_name, what);
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
  if (!o || o == Py_None) return 0;
  *out = pylz_to_array(o);
  return *out ? 0 : -1;
}

int pyops_convert(const pyops_arg *args, int n) {
  for (int i = 0; i < n; i++) *args[i].out = NULL;
  for (int i = 0; i < n; i++) {
    int rc = args[i].optional ? pyops_opt_array(args[i].obj, args[i].out)
                              : ((*args[i].out = pylz_to_array(args[i].obj)) ? 0 : -1);
    if (rc < 0) {
      for (int j = 0; j < i; j++) {
        lz_free(*args[j].out);
        *args[j].out = NULL;
      }
      return -1;
    }
  }
  return 0;
}

void pyops_free_list(lz_array *const *arrays, int n) {
  for (int i = 0; i < n; i++) lz_free(arrays[i]);
}

PyObject *pyops_wrap_many(lz_array **arrays, int n, int as_list) {
  PyObject *res = NULL;
  for (int i = 0; i < n; i++) {
    if (!arrays[i]) {
      for (int j = 0; j < n; j++) lz_free(arrays[j]);
      if (lz_last_error_code() == LZ_ERROR_NONE && !PyErr_Occurred())
        lz_set_error(LZ_ERROR_INTERNAL, "lazuli.core", "an op returned no result");
      return pylz_raise();
    }
  }
  res = as_list ? PyList_New(n) : PyTuple_New(n);
  if (!res) {
    for (int j = 0; j < n; j++) lz_free(arrays[j]);
    return NULL;
  }
  for (int i = 0; i < n; i++) {
    PyObject *w = pylz_wrap(arrays[i]);
    arrays[i] = NULL;
    if (!w) {
      for (int j = i + 1; j < n; j++) lz_free(arrays[j]);
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
