/* lazuli.core: shape functions (reshape, transpose, broadcast, split, join, pad, ...), with
 * MLX's names and signatures. */
#include "ops_impl.h"

#include <string.h>

#define KW METH_VARARGS | METH_KEYWORDS
#define F(NAME, FN, DOC) {NAME, (PyCFunction)(void (*)(void))FN, KW, DOC}

static PyObject *py_reshape(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "shape", "stream", NULL};
  PyObject *x, *oshape, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$O:reshape", kws, &x, &oshape, &stream))
    return NULL;
  pyops_ints shape;
  if (pyops_int_list(oshape, &shape, 1, "shape") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *r = lz_reshape(a, shape.v, shape.n);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_flatten(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "start_axis", "end_axis", "stream", NULL};
  PyObject *x, *os = NULL, *oe = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OO$O:flatten", kws, &x, &os, &oe, &stream))
    return NULL;
  int s = 0, e = -1;
  if ((os && pyops_int(os, &s, "start_axis") < 0) || (oe && pyops_int(oe, &e, "end_axis") < 0))
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *r = lz_flatten(a, s, e);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_unflatten(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "axis", "shape", "stream", NULL};
  PyObject *x, *oaxis, *oshape, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|$O:unflatten", kws, &x, &oaxis, &oshape,
                                   &stream))
    return NULL;
  int axis;
  pyops_ints shape;
  if (pyops_int(oaxis, &axis, "axis") < 0 || pyops_int_list(oshape, &shape, 0, "shape") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *r = lz_unflatten(a, axis, shape.v, shape.n);
  lz_free(a);
  return pylz_wrap(r);
}

/* squeeze(a, axis=None) and flip(a, axis=None): `which` picks. */
static PyObject *axes_opt_impl(PyObject *args, PyObject *kw, int which) {
  static char *kws[] = {"", "axis", "stream", NULL};
  PyObject *x, *oaxis = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O", kws, &x, &oaxis, &stream))
    return NULL;
  pyops_ints axes;
  int all;
  if (pyops_axes(oaxis, &axes, &all, "axis") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *r = which == 0 ? lz_squeeze(a, all ? NULL : axes.v, axes.n)
                           : lz_flip(a, all ? NULL : axes.v, axes.n);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_squeeze(PyObject *self, PyObject *args, PyObject *kw) {
  return axes_opt_impl(args, kw, 0);
}

static PyObject *py_flip(PyObject *self, PyObject *args, PyObject *kw) {
  return axes_opt_impl(args, kw, 1);
}

static PyObject *py_expand_dims(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "axis", "stream", NULL};
  PyObject *x, *oaxis, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$O:expand_dims", kws, &x, &oaxis, &stream))
    return NULL;
  pyops_ints axes;
  if (pyops_int_list(oaxis, &axes, 1, "axis") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *r = lz_expand_dims(a, axes.v, axes.n);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_unstack(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "axis", "stream", NULL};
  PyObject *x, *oaxis = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$OO:unstack", kws, &x, &oaxis, &stream))
    return NULL;
  int axis = 0;
  if (oaxis && pyops_int(oaxis, &axis, "axis") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  int n = lz_array_dim(a, axis);
  if (n < 0) {
    int nd = lz_array_ndim(a);
    lz_free(a);
    PyErr_Format(PyExc_ValueError, "[unstack] axis %d is out of bounds for an array with %d dims",
                 axis, nd);
    return NULL;
  }
  lz_array **outs = PyMem_Calloc(n ? (size_t)n : 1, sizeof(lz_array *));
  if (!outs) {
    lz_free(a);
    return PyErr_NoMemory();
  }
  int rc = n ? lz_unstack(a, axis, outs) : 0;
  lz_free(a);
  PyObject *res = rc < 0 ? pylz_raise() : pyops_wrap_many(outs, n, 0);
  PyMem_Free(outs);
  return res;
}

/* moveaxis(a, source, destination) and swapaxes(a, axis1, axis2). */
static PyObject *two_axes_impl(PyObject *args, PyObject *kw, int swap) {
  static char *kws_move[] = {"", "source", "destination", "stream", NULL};
  static char *kws_swap[] = {"", "axis1", "axis2", "stream", NULL};
  PyObject *x, *o1, *o2, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|$O", swap ? kws_swap : kws_move, &x, &o1, &o2,
                                   &stream))
    return NULL;
  int i1, i2;
  if (pyops_int(o1, &i1, swap ? "axis1" : "source") < 0 ||
      pyops_int(o2, &i2, swap ? "axis2" : "destination") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *r = swap ? lz_swapaxes(a, i1, i2) : lz_moveaxis(a, i1, i2);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_moveaxis(PyObject *self, PyObject *args, PyObject *kw) {
  return two_axes_impl(args, kw, 0);
}

static PyObject *py_swapaxes(PyObject *self, PyObject *args, PyObject *kw) {
  return two_axes_impl(args, kw, 1);
}

static PyObject *py_transpose(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "axes", "stream", NULL};
  PyObject *x, *oaxes = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O:transpose", kws, &x, &oaxes, &stream))
    return NULL;
  pyops_ints axes = {0};
  if (oaxes != Py_None && pyops_int_list(oaxes, &axes, 0, "axes") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *r = lz_transpose(a, oaxes == Py_None ? NULL : axes.v, axes.n);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_matrix_transpose(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "stream", NULL};
  PyObject *x, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$O:matrix_transpose", kws, &x, &stream))
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *r = lz_swapaxes(a, -1, -2);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_broadcast_to(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "shape", "stream", NULL};
  PyObject *x, *oshape, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$O:broadcast_to", kws, &x, &oshape, &stream))
    return NULL;
  pyops_ints shape;
  if (pyops_shape(oshape, &shape, "shape") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *r = lz_broadcast_to(a, shape.v, shape.n);
  lz_free(a);
  return pylz_wrap(r);
}

/* Only `stream` is accepted as a keyword by the *args functions. */
static int only_stream_kw(PyObject *kw, const char *fn) {
  if (!kw)
    return 0;
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

static PyObject *py_broadcast_arrays(PyObject *self, PyObject *args, PyObject *kw) {
  if (only_stream_kw(kw, "broadcast_arrays") < 0)
    return NULL;
  lz_array **arrays;
  int n;
  if (pyops_array_seq(args, &arrays, &n, "arrays") < 0)
    return NULL;
  lz_array **outs = PyMem_Calloc(n ? (size_t)n : 1, sizeof(lz_array *));
  if (!outs) {
    pyops_free_arrays(arrays, n);
    return PyErr_NoMemory();
  }
  int rc = n ? lz_broadcast_arrays(arrays, n, outs) : 0;
  pyops_free_arrays(arrays, n);
  PyObject *res = rc < 0 ? pylz_raise() : pyops_wrap_many(outs, n, 0);
  PyMem_Free(outs);
  return res;
}

static PyObject *py_broadcast_shapes(PyObject *self, PyObject *args) {
  Py_ssize_t n = PyTuple_GET_SIZE(args);
  if (n == 0) {
    PyErr_SetString(PyExc_ValueError, "[broadcast_shapes] Must provide at least one shape.");
    return NULL;
  }
  int out[LZ_MAX_NDIM], nd = 0;
  for (Py_ssize_t i = 0; i < n; i++) {
    pyops_ints s;
    if (pyops_shape(PyTuple_GET_ITEM(args, i), &s, "shape") < 0)
      return NULL;
    int m = s.n > nd ? s.n : nd;
    int res[LZ_MAX_NDIM];
    for (int d = 0; d < m; d++) {
      int a = d < nd ? out[nd - 1 - d] : 1, b = d < s.n ? s.v[s.n - 1 - d] : 1;
      if (a != b && a != 1 && b != 1) {
        PyErr_Format(PyExc_ValueError,
                     "[broadcast_shapes] Shapes cannot be broadcast: dims %d and %d", a, b);
        return NULL;
      }
      res[m - 1 - d] = a == 1 ? b : a;
    }
    memcpy(out, res, sizeof(int) * (size_t)m);
    nd = m;
  }
  PyObject *t = PyTuple_New(nd);
  if (!t)
    return NULL;
  for (int d = 0; d < nd; d++) {
    PyObject *v = PyLong_FromLong(out[d]);
    if (!v) {
      Py_DECREF(t);
      return NULL;
    }
    PyTuple_SET_ITEM(t, d, v);
  }
  return t;
}

static PyObject *py_split(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "indices_or_sections", "axis", "stream", NULL};
  PyObject *x, *oios, *oaxis = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O$O:split", kws, &x, &oios, &oaxis, &stream))
    return NULL;
  int axis = 0, sections = 0;
  int by_count = !PyFloat_Check(oios) && PyIndex_Check(oios);
  pyops_ints idx;
  if ((oaxis && pyops_int(oaxis, &axis, "axis") < 0) ||
      (by_count ? pyops_int(oios, &sections, "indices_or_sections")
                : pyops_int_list(oios, &idx, 0, "indices_or_sections")) < 0)
    return NULL;
  if (by_count && sections <= 0) {
    PyErr_Format(PyExc_ValueError, "[split] number of sections must be positive, got %d",
                 sections);
    return NULL;
  }
  int n = by_count ? sections : idx.n + 1;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array **outs = PyMem_Calloc((size_t)n, sizeof(lz_array *));
  if (!outs) {
    lz_free(a);
    return PyErr_NoMemory();
  }
  int rc = by_count ? lz_split(a, sections, axis, outs)
                    : lz_split_indices(a, idx.v, idx.n, axis, outs);
  lz_free(a);
  PyObject *res = rc < 0 ? pylz_raise() : pyops_wrap_many(outs, n, 1);
  PyMem_Free(outs);
  return res;
}

/* concatenate / concat (axis None flattens every input) and stack. */
static PyObject *join_impl(PyObject *args, PyObject *kw, int stack) {
  static char *kws[] = {"", "axis", "stream", NULL};
  PyObject *oseq, *oaxis = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O", kws, &oseq, &oaxis, &stream))
    return NULL;
  int axis = 0, has_axis = 1;
  if (oaxis && pyops_opt_int(oaxis, &axis, &has_axis, "axis") < 0)
    return NULL;
  lz_array **arrays;
  int n;
  if (pyops_array_seq(oseq, &arrays, &n, "arrays") < 0)
    return NULL;
  if (n == 0) {
    pyops_free_arrays(arrays, n);
    PyErr_Format(PyExc_ValueError, "[%s] No arrays provided", stack ? "stack" : "concatenate");
    return NULL;
  }
  if (!has_axis && stack)
    axis = 0;
  else if (!has_axis) {
    for (int i = 0; i < n; i++) {
      int m1 = -1;
      lz_array *f = lz_reshape(arrays[i], &m1, 1);
      lz_free(arrays[i]);
      arrays[i] = f;
      if (!f) {
        pyops_free_arrays(arrays, n);
        return pylz_raise();
      }
    }
    axis = 0;
  }
  lz_array *r = stack ? lz_stack(arrays, n, axis) : lz_concatenate(arrays, n, axis);
  pyops_free_arrays(arrays, n);
  return pylz_wrap(r);
}

static PyObject *py_concatenate(PyObject *self, PyObject *args, PyObject *kw) {
  return join_impl(args, kw, 0);
}

static PyObject *py_stack(PyObject *self, PyObject *args, PyObject *kw) {
  return join_impl(args, kw, 1);
}

static PyObject *py_repeat(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "repeats", "axis", "stream", NULL};
  PyObject *x, *orep, *oaxis = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O$O:repeat", kws, &x, &orep, &oaxis, &stream))
    return NULL;
  int repeats, axis = 0, has_axis;
  if (pyops_int(orep, &repeats, "repeats") < 0 ||
      pyops_opt_int(oaxis, &axis, &has_axis, "axis") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *r = has_axis ? lz_repeat(a, repeats, axis) : lz_repeat_flat(a, repeats);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_tile(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "", "stream", NULL};
  PyObject *x, *oreps, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$O:tile", kws, &x, &oreps, &stream))
    return NULL;
  pyops_ints reps;
  if (pyops_int_list(oreps, &reps, 1, "reps") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *r = lz_tile(a, reps.v, reps.n);
  lz_free(a);
  return pylz_wrap(r);
}

/* Reads pad_width (int, (int,), (lo, hi) or a list of pairs) into lo/hi for `ndim` axes. */
static int parse_pad_width(PyObject *o, int ndim, int *lo, int *hi) {
  if (!PyFloat_Check(o) && PyIndex_Check(o)) {
    int v;
    if (pyops_int(o, &v, "pad_width") < 0)
      return -1;
    for (int i = 0; i < ndim; i++)
      lo[i] = hi[i] = v;
    return 0;
  }
  if (!PyList_Check(o) && !PyTuple_Check(o))
    return pyops_type_error("pad_width", "an int, a pair of ints or a list of pairs", o);
  Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
  int all_ints = n > 0;
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *it = PySequence_Fast_GET_ITEM(o, i);
    if (PyFloat_Check(it) || !PyIndex_Check(it))
      all_ints = 0;
  }
  if (all_ints && (n == 1 || n == 2)) {
    int v0, v1;
    if (pyops_int(PySequence_Fast_GET_ITEM(o, 0), &v0, "pad_width") < 0 ||
        pyops_int(PySequence_Fast_GET_ITEM(o, n - 1), &v1, "pad_width") < 0)
      return -1;
    for (int i = 0; i < ndim; i++) {
      lo[i] = v0;
      hi[i] = v1;
    }
    return 0;
  }
  if (n != 1 && n != ndim) {
    PyErr_Format(PyExc_ValueError,
                 "[pad] pad_width has %zd pairs but the array has %d dimensions", n, ndim);
    return -1;
  }
  for (int i = 0; i < ndim; i++) {
    PyObject *p = PySequence_Fast_GET_ITEM(o, n == 1 ? 0 : i);
    pyops_ints pair;
    if (pyops_int_list(p, &pair, 0, "pad_width") < 0)
      return -1;
    if (pair.n != 2) {
      PyErr_SetString(PyExc_ValueError, "[pad] each pad_width entry must be a (low, high) pair");
      return -1;
    }
    lo[i] = pair.v[0];
    hi[i] = pair.v[1];
  }
  return 0;
}

/* One step of reflect/symmetric padding along `axis`: lo and hi elements (each at most what one
 * reflection of the axis of `n` elements gives), made of slices, flips and a concatenation. */
static lz_array *reflect_step(lz_array *a, int axis, int lo, int hi, int symmetric) {
  int nd = lz_array_ndim(a), n = lz_array_dim(a, axis);
  int start[LZ_MAX_NDIM], stop[LZ_MAX_NDIM];
  for (int d = 0; d < nd; d++) {
    start[d] = 0;
    stop[d] = INT32_MAX;
  }
  lz_array *parts[3];
  int k = 0, off = symmetric ? 0 : 1;
  if (lo > 0) {
    start[axis] = off;
    stop[axis] = off + lo;
    parts[k++] = lz_flip(lz_slice(a, start, stop, NULL, nd), &axis, 1);
  }
  parts[k++] = a;
  if (hi > 0) {
    start[axis] = n - off - hi;
    stop[axis] = n - off;
    parts[k++] = lz_flip(lz_slice(a, start, stop, NULL, nd), &axis, 1);
  }
  return lz_concatenate(parts, k, axis);
}

/* NumPy's reflect/symmetric padding of any width: repeated reflections of at most the original
 * length (minus the edge for reflect) per step, each about the current edge. A 1-element axis
 * reflects to its edge value. Call inside a scope. */
static lz_array *pad_reflect(lz_array *a, int axis, int lo, int hi, int symmetric) {
  int n = lz_array_dim(a, axis), limit = symmetric ? n : n - 1;
  if (limit <= 0) {
    if (n == 0 && (lo || hi)) {
      lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_pad", "can't pad an empty axis %d", axis);
      return NULL;
    }
    return lz_pad(a, &axis, 1, &lo, &hi, "edge", 0);
  }
  lz_array *cur = a;
  while (cur && (lo > 0 || hi > 0)) {
    int cl = lo < limit ? lo : limit, ch = hi < limit ? hi : limit;
    cur = reflect_step(cur, axis, cl, ch, symmetric);
    lo -= cl;
    hi -= ch;
  }
  return cur;
}

static PyObject *py_pad(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "pad_width", "mode", "constant_values", "stream", NULL};
  PyObject *x, *opw, *omode = NULL, *oval = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|OO$O:pad", kws, &x, &opw, &omode, &oval, &stream))
    return NULL;
  const char *mode = "constant";
  if (omode && pyops_str(omode, &mode, "mode") < 0)
    return NULL;
  if (strcmp(mode, "constant") && strcmp(mode, "edge") && strcmp(mode, "reflect") &&
      strcmp(mode, "symmetric")) {
    PyErr_Format(PyExc_ValueError,
                 "[pad] Invalid padding mode '%s': expected constant, edge, reflect or symmetric",
                 mode);
    return NULL;
  }
  double value = 0;
  if (oval) {
    if (PyFloat_Check(oval) || PyLong_Check(oval)) {
      if (pyops_double(oval, &value, "constant_values") < 0)
        return NULL;
    } else {
      lz_array *v = pylz_to_array(oval);
      if (!v)
        return NULL;
      if (lz_array_size(v) != 1) {
        lz_free(v);
        PyErr_SetString(PyExc_ValueError, "[pad] constant_values must be a scalar");
        return NULL;
      }
      value = lz_item_f64(v);
      int bad = lz_last_error_code() != LZ_ERROR_NONE;
      lz_free(v);
      if (bad)
        return pylz_raise();
    }
  }
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  int nd = lz_array_ndim(a), lo[LZ_MAX_NDIM], hi[LZ_MAX_NDIM];
  if (parse_pad_width(opw, nd, lo, hi) < 0) {
    lz_free(a);
    return NULL;
  }
  lz_array *r;
  if (!strcmp(mode, "reflect") || !strcmp(mode, "symmetric")) {
    for (int d = 0; d < nd; d++) {
      if (lo[d] < 0 || hi[d] < 0) {
        lz_free(a);
        PyErr_SetString(PyExc_ValueError, "[pad] padding must be non-negative");
        return NULL;
      }
    }
    lz_scope_begin();
    lz_array *cur = a;
    for (int d = 0; d < nd && cur; d++)
      if (lo[d] || hi[d])
        cur = pad_reflect(cur, d, lo[d], hi[d], mode[0] == 's');
    r = lz_keep(cur == a ? lz_retain(a) : cur);
    lz_scope_end();
  } else {
    r = lz_pad(a, NULL, nd, lo, hi, mode, value);
  }
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_as_strided(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "shape", "strides", "offset", "stream", NULL};
  PyObject *x, *oshape = Py_None, *ostr = Py_None, *ooff = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOO$O:as_strided", kws, &x, &oshape, &ostr, &ooff,
                                   &stream))
    return NULL;
  pyops_ints shape, strides;
  int offset = 0;
  if ((oshape != Py_None && pyops_shape(oshape, &shape, "shape") < 0) ||
      (ostr != Py_None && pyops_int_list(ostr, &strides, 0, "strides") < 0) ||
      (ooff && pyops_int(ooff, &offset, "offset") < 0))
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  if (oshape == Py_None) {
    shape.n = lz_array_ndim(a);
    memcpy(shape.v, lz_array_shape(a), sizeof(int) * (size_t)shape.n);
  }
  int64_t st[LZ_MAX_NDIM];
  if (ostr == Py_None) {
    int64_t s = 1;
    for (int d = shape.n - 1; d >= 0; d--) {
      st[d] = s;
      s *= shape.v[d];
    }
  } else {
    if (strides.n != shape.n) {
      lz_free(a);
      PyErr_Format(PyExc_ValueError, "[as_strided] %d strides for a shape of %d dims", strides.n,
                   shape.n);
      return NULL;
    }
    for (int d = 0; d < shape.n; d++)
      st[d] = strides.v[d];
  }
  lz_array *r = lz_as_strided(a, shape.v, shape.n, st, offset);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_roll(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "shift", "axis", "stream", NULL};
  PyObject *x, *oshift, *oaxis = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O$O:roll", kws, &x, &oshift, &oaxis, &stream))
    return NULL;
  pyops_ints shift, axes;
  int all;
  if (pyops_int_list(oshift, &shift, 1, "shift") < 0 || pyops_axes(oaxis, &axes, &all, "axis") < 0)
    return NULL;
  int sh[PYOPS_MAX_INTS];
  if (all) {
    if (shift.n != 1) {
      PyErr_SetString(PyExc_ValueError, "[roll] a shift per axis needs the axes");
      return NULL;
    }
  } else if (shift.n == 1) {
    for (int i = 0; i < axes.n; i++)
      sh[i] = shift.v[0];
  } else if (shift.n != axes.n) {
    PyErr_Format(PyExc_ValueError, "[roll] %d shifts for %d axes", shift.n, axes.n);
    return NULL;
  }
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *r = all ? lz_roll(a, shift.v, NULL, 1)
                    : lz_roll(a, shift.n == 1 ? sh : shift.v, axes.v, axes.n);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_diagonal(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"a", "offset", "axis1", "axis2", "stream", NULL};
  PyObject *x, *ooff = NULL, *o1 = NULL, *o2 = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOOO:diagonal", kws, &x, &ooff, &o1, &o2, &stream))
    return NULL;
  int off = 0, a1 = 0, a2 = 1;
  if ((ooff && pyops_int(ooff, &off, "offset") < 0) || (o1 && pyops_int(o1, &a1, "axis1") < 0) ||
      (o2 && pyops_int(o2, &a2, "axis2") < 0))
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *r = lz_diagonal(a, off, a1, a2);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_diag(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "k", "stream", NULL};
  PyObject *x, *ok = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O:diag", kws, &x, &ok, &stream))
    return NULL;
  int k = 0;
  if (ok && pyops_int(ok, &k, "k") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *r = lz_diag(a, k);
  lz_free(a);
  return pylz_wrap(r);
}

/* atleast_1d/2d/3d(*arys): one input gives an array, several a list. */
static PyObject *atleast_impl(PyObject *args, PyObject *kw, lz_array *(*fn)(lz_array *),
                              const char *name) {
  if (only_stream_kw(kw, name) < 0)
    return NULL;
  lz_array **arrays;
  int n;
  if (pyops_array_seq(args, &arrays, &n, "arys") < 0)
    return NULL;
  if (n == 0) {
    pyops_free_arrays(arrays, n);
    PyErr_Format(PyExc_TypeError, "%s() takes at least one array", name);
    return NULL;
  }
  for (int i = 0; i < n; i++) {
    lz_array *r = fn(arrays[i]);
    lz_free(arrays[i]);
    arrays[i] = r;
  }
  PyObject *res;
  if (n == 1) {
    res = pylz_wrap(arrays[0]);
    arrays[0] = NULL;
  } else {
    res = pyops_wrap_many(arrays, n, 1);
    for (int i = 0; i < n; i++)
      arrays[i] = NULL;
  }
  pyops_free_arrays(arrays, 0);
  return res;
}

static PyObject *py_atleast_1d(PyObject *self, PyObject *args, PyObject *kw) {
  return atleast_impl(args, kw, lz_atleast_1d, "atleast_1d");
}
static PyObject *py_atleast_2d(PyObject *self, PyObject *args, PyObject *kw) {
  return atleast_impl(args, kw, lz_atleast_2d, "atleast_2d");
}
static PyObject *py_atleast_3d(PyObject *self, PyObject *args, PyObject *kw) {
  return atleast_impl(args, kw, lz_atleast_3d, "atleast_3d");
}

static PyObject *py_contiguous(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "allow_col_major", "stream", NULL};
  PyObject *x, *ocol = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O:contiguous", kws, &x, &ocol, &stream))
    return NULL;
  bool col = false;
  if (pyops_bool(ocol, &col, "allow_col_major") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *r = lz_contiguous(a);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_kron(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"a", "b", "stream", NULL};
  PyObject *x, *y, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$O:kron", kws, &x, &y, &stream))
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *b = pylz_to_array(y);
  if (!b) {
    lz_free(a);
    return NULL;
  }
  lz_array *r = lz_kron(a, b);
  lz_free(a);
  lz_free(b);
  return pylz_wrap(r);
}

/* slice(a, start_indices, axes, slice_size) and slice_update(a, update, start_indices, axes):
 * MLX's slices with a start read from an array at evaluation. */
static PyObject *py_slice(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "start_indices", "axes", "slice_size", "stream", NULL};
  PyObject *x, *ostart, *oaxes, *osize, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOO|$O:slice", kws, &x, &ostart, &oaxes, &osize,
                                   &stream))
    return NULL;
  pyops_ints axes, size;
  if (pyops_int_list(oaxes, &axes, 0, "axes") < 0 || pyops_shape(osize, &size, "slice_size") < 0)
    return NULL;
  lz_array *a = NULL, *start = NULL;
  PyObject *res = NULL;
  if (!(a = pylz_to_array(x)) || !(start = pylz_to_array(ostart)))
    goto done;
  if (size.n != lz_array_ndim(a)) {
    PyErr_Format(PyExc_ValueError, "[slice] slice_size has %d dims, the array %d", size.n,
                 lz_array_ndim(a));
    goto done;
  }
  res = pylz_wrap(lz_slice_dynamic(a, start, axes.v, axes.n, size.v));
done:
  lz_free(a);
  lz_free(start);
  return res;
}

static PyObject *py_slice_update(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "update", "start_indices", "axes", "stream", NULL};
  PyObject *x, *oupd, *ostart, *oaxes, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOO|$O:slice_update", kws, &x, &oupd, &ostart,
                                   &oaxes, &stream))
    return NULL;
  pyops_ints axes;
  if (pyops_int_list(oaxes, &axes, 0, "axes") < 0)
    return NULL;
  lz_array *a = NULL, *upd = NULL, *start = NULL;
  PyObject *res = NULL;
  if (!(a = pylz_to_array(x)) || !(upd = pylz_to_array(oupd)) || !(start = pylz_to_array(ostart)))
    goto done;
  res = pylz_wrap(lz_slice_update_dynamic(a, upd, start, axes.v, axes.n));
done:
  lz_free(a);
  lz_free(upd);
  lz_free(start);
  return res;
}

#define SIG_AXES_OPT(NAME)                                                                       \
  NAME "(a: array, /, axis: None | int | Sequence[int] = None, *, stream: StreamOrDevice = "    \
       "None) -> array\n\n"

static PyMethodDef methods[] = {
    F("reshape", py_reshape,
      "reshape(a: array, /, shape: Sequence[int], *, stream: StreamOrDevice = None) -> "
      "array\n\n``a`` with a new shape of the same size (one entry may be -1)."),
    F("flatten", py_flatten,
      "flatten(a: array, /, start_axis: int = 0, end_axis: int = -1, *, stream: StreamOrDevice "
      "= None) -> array\n\nMerges the axes ``start_axis`` to ``end_axis`` (inclusive) into one."),
    F("unflatten", py_unflatten,
      "unflatten(a: array, /, axis: int, shape: Sequence[int], *, stream: StreamOrDevice = "
      "None) -> array\n\nSplits ``axis`` into ``shape`` (one entry may be -1)."),
    F("squeeze", py_squeeze,
      SIG_AXES_OPT("squeeze") "Removes the given size-one axes (all of them by default)."),
    F("flip", py_flip, SIG_AXES_OPT("flip") "Reverses the order of elements along the axes."),
    F("unstack", py_unstack,
      "unstack(x: array, /, *, axis: int = 0, stream: StreamOrDevice = None) -> tuple[array, "
      "...]\n\nThe slices of ``x`` along ``axis``, each without that axis."),
    F("expand_dims", py_expand_dims,
      "expand_dims(a: array, /, axis: int | Sequence[int], *, stream: StreamOrDevice = None) -> "
      "array\n\nInserts size-one axes at the given positions."),
    F("moveaxis", py_moveaxis,
      "moveaxis(a: array, /, source: int, destination: int, *, stream: StreamOrDevice = None) "
      "-> array\n\nMoves axis ``source`` to position ``destination``."),
    F("swapaxes", py_swapaxes,
      "swapaxes(a: array, /, axis1: int, axis2: int, *, stream: StreamOrDevice = None) -> "
      "array\n\nSwaps two axes."),
    F("transpose", py_transpose,
      "transpose(a: array, /, axes: Sequence[int] | None = None, *, stream: StreamOrDevice = "
      "None) -> array\n\nPermutes the axes (reverses them by default)."),
    F("permute_dims", py_transpose,
      "permute_dims(a: array, /, axes: Sequence[int] | None = None, *, stream: StreamOrDevice = "
      "None) -> array\n\nSee :func:`transpose`."),
    F("matrix_transpose", py_matrix_transpose,
      "matrix_transpose(a: array, /, *, stream: StreamOrDevice = None) -> array\n\nSwaps the "
      "last two axes."),
    F("broadcast_to", py_broadcast_to,
      "broadcast_to(a: scalar | array, /, shape: Sequence[int], *, stream: StreamOrDevice = "
      "None) -> array\n\n``a`` broadcast to ``shape`` with NumPy's rules."),
    F("broadcast_arrays", py_broadcast_arrays,
      "broadcast_arrays(*arrays: array, stream: StreamOrDevice = None) -> tuple[array, "
      "...]\n\nThe arrays broadcast against one another."),
    {"broadcast_shapes", (PyCFunction)py_broadcast_shapes, METH_VARARGS,
     "broadcast_shapes(*shapes: Sequence[int]) -> tuple[int]\n\nThe shape the given shapes "
     "broadcast to; ValueError if they do not."},
    F("split", py_split,
      "split(a: array, /, indices_or_sections: int | Sequence[int], axis: int = 0, *, stream: "
      "StreamOrDevice = None) -> list[array]\n\nSplits ``a`` along ``axis`` into that many equal "
      "sections, or before each of the given indices."),
    F("concatenate", py_concatenate,
      "concatenate(arrays: list[array], axis: int | None = 0, *, stream: StreamOrDevice = None) "
      "-> array\n\nJoins the arrays along ``axis`` (flattened first when ``None``)."),
    F("concat", py_concatenate,
      "concat(arrays: list[array], axis: int | None = 0, *, stream: StreamOrDevice = None) -> "
      "array\n\nSee :func:`concatenate`."),
    F("stack", py_stack,
      "stack(arrays: list[array], axis: int | None = 0, *, stream: StreamOrDevice = None) -> "
      "array\n\nJoins arrays of one shape along a new axis."),
    F("repeat", py_repeat,
      "repeat(array: array, repeats: int, axis: int | None = None, *, stream: StreamOrDevice = "
      "None) -> array\n\nRepeats each element ``repeats`` times along ``axis`` (of the "
      "flattened array when ``None``)."),
    F("tile", py_tile,
      "tile(a: array, reps: int | Sequence[int], /, *, stream: StreamOrDevice = None) -> "
      "array\n\nRepeats the whole of ``a`` ``reps`` times along each axis."),
    F("pad", py_pad,
      "pad(a: array, pad_width: int | tuple[int] | tuple[int, int] | list[tuple[int, int]], "
      "mode: Literal['constant', 'edge', 'reflect', 'symmetric'] = 'constant', constant_values: "
      "scalar | array = 0, *, stream: StreamOrDevice = None) -> array\n\nPads every axis by "
      "``(before, after)`` elements: a constant, the edge value, or the reflection of ``a`` "
      "without (reflect) or with (symmetric) the edge."),
    F("as_strided", py_as_strided,
      "as_strided(a: array, /, shape: Sequence[int] | None = None, strides: Sequence[int] | "
      "None = None, offset: int = 0, *, stream: StreamOrDevice = None) -> array\n\nA view of "
      "the row-major data of ``a`` with the given shape, element strides and offset; every "
      "element it reaches must lie inside ``a``."),
    F("roll", py_roll,
      "roll(a: array, shift: int | tuple[int], axis: None | int | tuple[int] = None, /, *, "
      "stream: StreamOrDevice = None) -> array\n\nShifts elements along the axes, wrapping "
      "around (the flattened array when ``axis`` is ``None``)."),
    F("diagonal", py_diagonal,
      "diagonal(a: array, offset: int = 0, axis1: int = 0, axis2: int = 1, stream: "
      "StreamOrDevice = None) -> array\n\nThe diagonal ``offset`` of the planes (axis1, axis2), "
      "as the last axis."),
    F("diag", py_diag,
      "diag(a: array, /, k: int = 0, *, stream: StreamOrDevice = None) -> array\n\nA 2-D array "
      "with the 1-D ``a`` on diagonal ``k``, or diagonal ``k`` of a 2-D ``a``."),
    F("atleast_1d", py_atleast_1d,
      "atleast_1d(*arys: array, stream: StreamOrDevice = None) -> array | list[array]\n\nThe "
      "inputs with at least one dimension."),
    F("atleast_2d", py_atleast_2d,
      "atleast_2d(*arys: array, stream: StreamOrDevice = None) -> array | list[array]\n\nThe "
      "inputs with at least two dimensions."),
    F("atleast_3d", py_atleast_3d,
      "atleast_3d(*arys: array, stream: StreamOrDevice = None) -> array | list[array]\n\nThe "
      "inputs with at least three dimensions."),
    F("contiguous", py_contiguous,
      "contiguous(a: array, /, allow_col_major: bool = False, *, stream: StreamOrDevice = None) "
      "-> array\n\n``a`` in row-major contiguous layout (copied only when needed)."),
    F("kron", py_kron,
      "kron(a: array, b: array, *, stream: StreamOrDevice = None) -> array\n\nThe Kronecker "
      "product of ``a`` and ``b``."),
    F("slice", py_slice,
      "slice(a: array, start_indices: array, axes: Sequence[int], slice_size: Sequence[int], *, "
      "stream: StreamOrDevice = None) -> array\n\nThe block of shape ``slice_size`` starting at "
      "``start_indices`` on ``axes`` (read at evaluation)."),
    F("slice_update", py_slice_update,
      "slice_update(a: array, update: array, start_indices: array, axes: Sequence[int], *, "
      "stream: StreamOrDevice = None) -> array\n\nA copy of ``a`` with ``update`` written at "
      "``start_indices`` on ``axes``."),
    {NULL, NULL, 0, NULL},
};

int pyops_init_shape(PyObject *m) { return pyops_add_functions(m, methods); }
