/* Python values to Lazuli arrays: scalars (weak, as MLX treats Python numbers), nested lists
 * and tuples (MLX's inference: bool < int < float < complex; int32 for ints, float32 for
 * floats), arrays inside lists (stacked), NumPy arrays and every buffer-protocol object, and
 * objects with an `__mlx_array__` method. */
#include "pylz.h"

#include <complex.h>
#include <string.h>

enum { K_BOOL, K_INT, K_FLOAT, K_COMPLEX };

static lz_array *complex_scalar(PyObject *o) {
  Py_complex c = PyComplex_AsCComplex(o);
  if (c.real == -1.0 && PyErr_Occurred()) return NULL;
  float v[2] = {(float)c.real, (float)c.imag};
  lz_array *a = lz_array_from_data(v, NULL, 0, LZ_COMPLEX64);
  return a ? a : (pylz_raise(), NULL);
}

/* ---- buffers (NumPy arrays, memoryviews, array.array, bytes...) --------------------------- */

/* The dtype of a struct-module format (as PEP 3118 buffers give it), or -1. */
static int format_dtype(const char *f, Py_ssize_t itemsize) {
  if (!f) return LZ_UINT8;
  if (*f == '<' || *f == '=' || *f == '@' || *f == '|') f++;
  if (f[0] == 'Z') {
    if (f[1] == 'f' && f[2] == 0) return LZ_COMPLEX64;
    if (f[1] == 'd' && f[2] == 0)
      return LZ_COMPLEX64 + 100; /* complex128: converted to complex64 */
    return -1;
  }
  if (f[0] == 0 || f[1] != 0) return -1;
  switch (f[0]) {
  case '?':
    return LZ_BOOL;
  case 'b':
    return LZ_INT8;
  case 'B':
    return LZ_UINT8;
  case 'e':
    return LZ_FLOAT16;
  case 'f':
    return LZ_FLOAT32;
  case 'd':
    return LZ_FLOAT64;
  default:
    break;
  }
  /* Native integer codes: their size decides. */
  int is_signed = f[0] == 'h' || f[0] == 'i' || f[0] == 'l' || f[0] == 'q' || f[0] == 'n';
  int is_unsigned = f[0] == 'H' || f[0] == 'I' || f[0] == 'L' || f[0] == 'Q' || f[0] == 'N';
  if (!is_signed && !is_unsigned) return -1;
  switch (itemsize) {
  case 1:
    return is_signed ? LZ_INT8 : LZ_UINT8;
  case 2:
    return is_signed ? LZ_INT16 : LZ_UINT16;
  case 4:
    return is_signed ? LZ_INT32 : LZ_UINT32;
  case 8:
    return is_signed ? LZ_INT64 : LZ_UINT64;
  default:
    return -1;
  }
}

/* Copies a buffer into a new array. NumPy's float64 becomes float32 and complex128 complex64,
 * as MLX converts them, unless `dtype` asks otherwise (then the cast follows the copy). */
static lz_array *from_buffer(PyObject *o, int has_dtype, lz_dtype dtype) {
  Py_buffer view;
  if (PyObject_GetBuffer(o, &view, PyBUF_RECORDS_RO) < 0) return NULL;
  lz_array *out = NULL;
  void *copy = NULL;
  int dt = format_dtype(view.format, view.itemsize);
  int shape[LZ_MAX_NDIM];
  if (dt < 0) {
    PyErr_Format(PyExc_ValueError, "Cannot convert a buffer of format '%s' to an array.",
                 view.format ? view.format : "B");
    goto done;
  }
  if (view.ndim > LZ_MAX_NDIM) {
    PyErr_Format(PyExc_ValueError, "buffer has %d dimensions, at most %d are supported", view.ndim,
                 LZ_MAX_NDIM);
    goto done;
  }
  for (int i = 0; i < view.ndim; i++) {
    if (view.shape[i] > 0x7fffffff) {
      PyErr_SetString(PyExc_ValueError, "buffer dimension does not fit in an int");
      goto done;
    }
    shape[i] = (int)view.shape[i];
  }
  const void *data = view.buf;
  if (!PyBuffer_IsContiguous(&view, 'C')) {
    copy = PyMem_Malloc(view.len ? (size_t)view.len : 1);
    if (!copy) {
      PyErr_NoMemory();
      goto done;
    }
    if (PyBuffer_ToContiguous(copy, &view, view.len, 'C') < 0) goto done;
    data = copy;
  }
  if (dt == LZ_COMPLEX64 + 100) {
    /* complex128 -> complex64, element by element (Lazuli has no complex128). */
    Py_ssize_t n = view.len / 16;
    float *c = PyMem_Malloc((size_t)(n ? n : 1) * 2 * sizeof(float));
    if (!c) {
      PyErr_NoMemory();
      goto done;
    }
    const double *d = data;
    for (Py_ssize_t i = 0; i < 2 * n; i++) c[i] = (float)d[i];
    out = lz_array_from_data(c, shape, view.ndim, LZ_COMPLEX64);
    PyMem_Free(c);
  } else {
    out = lz_array_from_data(data, shape, view.ndim, (lz_dtype)dt);
  }
  if (!out) {
    pylz_raise();
    goto done;
  }
  lz_dtype want = has_dtype ? dtype : (dt == LZ_FLOAT64 ? LZ_FLOAT32 : lz_array_dtype(out));
  if (want != lz_array_dtype(out)) {
    lz_array *cast = lz_astype(out, want);
    lz_free(out);
    out = cast;
    if (!out) pylz_raise();
  }
done:
  PyMem_Free(copy);
  PyBuffer_Release(&view);
  return out;
}

/* ---- nested lists and tuples --------------------------------------------------------------- */

typedef struct {
  int shape[LZ_MAX_NDIM];
  int ndim;
  int kind;       /* highest scalar kind seen */
  int has_arrays; /* some leaves are lazuli arrays */
} list_info;

static int is_seq(PyObject *o) { return PyList_Check(o) || PyTuple_Check(o); }

static int nonuniform(void) {
  PyErr_SetString(PyExc_ValueError, "Initialization encountered non-uniform length.");
  return -1;
}

/* The shape follows the first element at every level (arrays contribute their shape). */
static int list_shape(PyObject *o, list_info *info) {
  info->ndim = 0;
  while (1) {
    if (info->ndim >= LZ_MAX_NDIM) {
      PyErr_Format(PyExc_ValueError, "nested list has more than %d dimensions", LZ_MAX_NDIM);
      return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
    if (n > 0x7fffffff) {
      PyErr_SetString(PyExc_ValueError, "list too long for an array dimension");
      return -1;
    }
    info->shape[info->ndim++] = (int)n;
    if (n == 0) return 0;
    PyObject *first = PySequence_Fast_GET_ITEM(o, 0);
    if (PyLzArray_Check(first)) {
      lz_array *a = ((PyLzArray *)first)->a;
      if (info->ndim + lz_array_ndim(a) > LZ_MAX_NDIM) {
        PyErr_Format(PyExc_ValueError, "nested list has more than %d dimensions", LZ_MAX_NDIM);
        return -1;
      }
      for (int i = 0; i < lz_array_ndim(a); i++) info->shape[info->ndim++] = lz_array_shape(a)[i];
      return 0;
    }
    if (!is_seq(first)) return 0;
    o = first;
  }
}

/* Checks that every level matches the shape and finds the scalar kind (recursion depth is
 * bounded by LZ_MAX_NDIM). */
static int list_validate(PyObject *o, list_info *info, int depth) {
  if (depth >= info->ndim) return nonuniform();
  Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
  if (n != info->shape[depth]) return nonuniform();
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *e = PySequence_Fast_GET_ITEM(o, i);
    if (is_seq(e)) {
      if (list_validate(e, info, depth + 1) < 0) return -1;
      continue;
    }
    if (PyLzArray_Check(e)) {
      lz_array *a = ((PyLzArray *)e)->a;
      if (depth + 1 + lz_array_ndim(a) != info->ndim ||
          memcmp(lz_array_shape(a), info->shape + depth + 1,
                 sizeof(int) * (size_t)lz_array_ndim(a)) != 0)
        return nonuniform();
      info->has_arrays = 1;
      continue;
    }
    int k;
    if (PyBool_Check(e))
      k = K_BOOL;
    else if (PyLong_Check(e))
      k = K_INT;
    else if (PyFloat_Check(e))
      k = K_FLOAT;
    else if (PyComplex_Check(e))
      k = K_COMPLEX;
    else {
      PyErr_Format(PyExc_ValueError, "Invalid type %.100s received in array initialization.",
                   Py_TYPE(e)->tp_name);
      return -1;
    }
    if (depth + 1 != info->ndim) return nonuniform();
    if (k > info->kind) info->kind = k;
  }
  return 0;
}

/* Writes the leaves in row-major order: int64 for bool/int lists, double for floats, pairs of
 * doubles for complex. */
static int list_fill(PyObject *o, int kind, void *out, size_t *pos) {
  Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *e = PySequence_Fast_GET_ITEM(o, i);
    if (is_seq(e)) {
      if (list_fill(e, kind, out, pos) < 0) return -1;
      continue;
    }
    if (kind == K_COMPLEX) {
      Py_complex c = PyComplex_AsCComplex(e);
      if (c.real == -1.0 && PyErr_Occurred()) return -1;
      ((double *)out)[2 * *pos] = c.real;
      ((double *)out)[2 * *pos + 1] = c.imag;
    } else if (kind == K_FLOAT) {
      double v = PyFloat_AsDouble(e);
      if (v == -1.0 && PyErr_Occurred()) return -1;
      ((double *)out)[*pos] = v;
    } else {
      int overflow = 0;
      long long v = PyLong_AsLongLongAndOverflow(e, &overflow);
      if (v == -1 && PyErr_Occurred()) return -1;
      if (overflow) {
        /* Beyond int64: keep the low 64 bits, as an unsigned value would (uint64 inputs). */
        PyErr_Clear();
        unsigned long long u = PyLong_AsUnsignedLongLongMask(e);
        if (u == (unsigned long long)-1 && PyErr_Occurred()) return -1;
        v = (long long)u;
      }
      ((int64_t *)out)[*pos] = v;
    }
    (*pos)++;
  }
  return 0;
}

static lz_array *from_list(PyObject *o, int has_dtype, lz_dtype dtype);

/* A list holding arrays: every element converted, then stacked (MLX does the same). */
static lz_array *stack_elements(PyObject *o, int has_dtype, lz_dtype dtype) {
  Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
  lz_array **parts = PyMem_Calloc((size_t)n, sizeof(lz_array *));
  lz_array *out = NULL;
  if (!parts) return (lz_array *)PyErr_NoMemory();
  Py_ssize_t i;
  for (i = 0; i < n; i++) {
    PyObject *e = PySequence_Fast_GET_ITEM(o, i);
    parts[i] = is_seq(e) ? from_list(e, has_dtype, dtype)
                         : (has_dtype ? pylz_to_array_dtype(e, dtype) : pylz_to_array(e));
    if (!parts[i]) goto done;
  }
  out = lz_stack(parts, (int)n, 0);
  if (!out) pylz_raise();
done:
  for (Py_ssize_t j = 0; j < n; j++) lz_free(parts[j]);
  PyMem_Free(parts);
  return out;
}

static lz_array *from_list(PyObject *o, int has_dtype, lz_dtype dtype) {
  list_info info = {.kind = K_BOOL};
  if (list_shape(o, &info) < 0 || list_validate(o, &info, 0) < 0) return NULL;
  if (info.has_arrays) return stack_elements(o, has_dtype, dtype);
  size_t size = 1;
  for (int i = 0; i < info.ndim; i++) size *= (size_t)info.shape[i];
  if (size == 0) info.kind = K_FLOAT; /* an empty list is float32, as in MLX */
  size_t elem = info.kind == K_COMPLEX ? 16 : 8;
  void *buf = PyMem_Malloc(size ? size * elem : 1);
  if (!buf) return (lz_array *)PyErr_NoMemory();
  size_t pos = 0;
  lz_array *out = NULL;
  if (list_fill(o, info.kind, buf, &pos) < 0) goto done;
  lz_dtype src, def;
  switch (info.kind) {
  case K_BOOL:
    src = LZ_INT64;
    def = LZ_BOOL;
    break;
  case K_INT:
    src = LZ_INT64;
    def = LZ_INT32;
    break;
  case K_FLOAT:
    src = LZ_FLOAT64;
    def = LZ_FLOAT32;
    break;
  default: {
    float *c = buf; /* narrow the pairs of doubles in place */
    for (size_t i = 0; i < 2 * size; i++) c[i] = (float)((double *)buf)[i];
    src = def = LZ_COMPLEX64;
  }
  }
  lz_dtype want = has_dtype ? dtype : def;
  lz_array *raw = lz_array_from_data(buf, info.shape, info.ndim, src);
  out = raw ? lz_astype(raw, want) : NULL;
  lz_free(raw);
  if (out && want != src && lz_eval(out) < 0) {
    lz_free(out);
    out = NULL;
  }
  if (!out) pylz_raise();
done:
  PyMem_Free(buf);
  return out;
}

/* ---- the entry points ------------------------------------------------------------------- */

lz_array *pylz_int_scalar(long long v) {
  if (v >= -2147483648LL && v <= 2147483647LL) return lz_int(v);
  /* Beyond int32 a weak int would lose bits: an int64 scalar, as MLX makes one. */
  int64_t w = v;
  lz_array *a = lz_array_from_data(&w, NULL, 0, LZ_INT64);
  if (!a) pylz_raise();
  return a;
}

static lz_array *convert(PyObject *o, int has_dtype, lz_dtype dtype) {
  if (PyLzArray_Check(o)) return lz_retain(((PyLzArray *)o)->a);
  if (PyBool_Check(o)) return lz_bool(o == Py_True);
  if (PyLong_Check(o)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (v == -1 && PyErr_Occurred()) return NULL;
    if (overflow) {
      PyErr_SetString(PyExc_OverflowError, "Python int too large to convert to an array");
      return NULL;
    }
    return pylz_int_scalar(v);
  }
  if (PyFloat_Check(o)) return lz_float(PyFloat_AS_DOUBLE(o));
  if (PyComplex_Check(o)) return complex_scalar(o);
  if (is_seq(o)) {
    PyObject *fast = o; /* lists and tuples are already "fast" sequences */
    return from_list(fast, has_dtype, dtype);
  }
  if (PyObject_CheckBuffer(o)) return from_buffer(o, has_dtype, dtype);
  PyObject *meth = PyObject_GetAttrString(o, "__mlx_array__");
  if (meth) {
    PyObject *r = PyObject_CallNoArgs(meth);
    Py_DECREF(meth);
    if (!r) return NULL;
    if (!PyLzArray_Check(r)) {
      PyErr_Format(PyExc_TypeError, "__mlx_array__ returned %.100s, not an array",
                   Py_TYPE(r)->tp_name);
      Py_DECREF(r);
      return NULL;
    }
    lz_array *a = lz_retain(((PyLzArray *)r)->a);
    Py_DECREF(r);
    return a;
  }
  PyErr_Clear();
  /* Objects exposing only __array__ (some array libraries): go through NumPy's buffer. */
  meth = PyObject_GetAttrString(o, "__array__");
  if (meth) {
    PyObject *r = PyObject_CallNoArgs(meth);
    Py_DECREF(meth);
    if (!r) return NULL;
    lz_array *a = PyObject_CheckBuffer(r) ? from_buffer(r, has_dtype, dtype) : NULL;
    if (!a && !PyErr_Occurred())
      PyErr_Format(PyExc_TypeError, "Cannot convert %.100s to an array.", Py_TYPE(o)->tp_name);
    Py_DECREF(r);
    return a;
  }
  PyErr_Clear();
  PyErr_Format(PyExc_TypeError, "Cannot convert %.100s to an array.", Py_TYPE(o)->tp_name);
  return NULL;
}

lz_array *pylz_to_array(PyObject *o) {
  lz_array *a = convert(o, 0, LZ_FLOAT32);
  if (!a && !PyErr_Occurred()) pylz_raise();
  return a;
}

lz_array *pylz_to_array_dtype(PyObject *o, lz_dtype dtype) {
  lz_array *a = convert(o, 1, dtype);
  if (!a) {
    if (!PyErr_Occurred()) pylz_raise();
    return NULL;
  }
  if (lz_array_dtype(a) == dtype) return a;
  lz_array *c = lz_astype(a, dtype);
  lz_free(a);
  if (!c) pylz_raise();
  return c;
}

/* The array MLX builds for `array(val, dtype)`: like pylz_to_array, but Python scalars are
 * strong (bool -> bool, int -> int32 or int64 beyond int32's range, float -> float32). */
lz_array *pylz_array_from_value(PyObject *o, PyObject *dtype_obj) {
  lz_dtype dt = LZ_FLOAT32;
  int has_dtype = dtype_obj && dtype_obj != Py_None;
  if (has_dtype && pylz_dtype_from_py(dtype_obj, &dt) < 0) return NULL;
  if (PyBool_Check(o) || PyLong_Check(o) || PyFloat_Check(o)) {
    lz_dtype def;
    double v;
    if (PyBool_Check(o)) {
      def = LZ_BOOL;
      v = o == Py_True;
    } else if (PyFloat_Check(o)) {
      def = LZ_FLOAT32;
      v = PyFloat_AS_DOUBLE(o);
    } else {
      int overflow = 0;
      long long i = PyLong_AsLongLongAndOverflow(o, &overflow);
      if (i == -1 && PyErr_Occurred()) return NULL;
      if (overflow) {
        PyErr_SetString(PyExc_OverflowError, "Python int too large to convert to an array");
        return NULL;
      }
      def = (i > 2147483647LL || i < -2147483648LL) ? LZ_INT64 : LZ_INT32;
      lz_dtype want = has_dtype ? dt : def;
      /* Exact for 64-bit integers: go through an int64 array. */
      lz_array *raw = lz_array_from_data(&i, NULL, 0, LZ_INT64);
      lz_array *out = raw && want != LZ_INT64 ? lz_astype(raw, want) : lz_retain(raw);
      lz_free(raw);
      if (out && want != LZ_INT64 && lz_eval(out) < 0) {
        lz_free(out);
        out = NULL;
      }
      return out ? out : (pylz_raise(), NULL);
    }
    lz_array *out = lz_scalar(v, has_dtype ? dt : def);
    return out ? out : (pylz_raise(), NULL);
  }
  return has_dtype ? pylz_to_array_dtype(o, dt) : pylz_to_array(o);
}
