/* lazuli.core: shape functions that view or reshape one array (reshape, flatten, squeeze,
 * transpose, broadcast, diagonal, as_strided, dynamic slices, ...), with MLX's names and
 * signatures. Splitting, joining, repeating and padding are in ops_join.c. */
#include "ops_impl.h"

#include <string.h>

static PyObject *py_reshape(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "reshape";
  static char *kws[] = {"", "shape", "stream", NULL};
  PyObject *x, *oshape, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$O:reshape", kws, &x, &oshape, &stream))
    return NULL;
  pyops_ints shape;
  if (pyops_int_list(oshape, &shape, 1, "shape") < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = lz_reshape(a, shape.v, shape.n);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_flatten(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "flatten";
  static char *kws[] = {"", "start_axis", "end_axis", "stream", NULL};
  PyObject *x, *os = NULL, *oe = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OO$O:flatten", kws, &x, &os, &oe, &stream))
    return NULL;
  int s = 0, e = -1;
  if ((os && pyops_int(os, &s, "start_axis") < 0) || (oe && pyops_int(oe, &e, "end_axis") < 0))
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = lz_flatten(a, s, e);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_unflatten(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "unflatten";
  static char *kws[] = {"", "axis", "shape", "stream", NULL};
  PyObject *x, *oaxis, *oshape, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|$O:unflatten", kws, &x, &oaxis, &oshape, &stream))
    return NULL;
  int axis;
  pyops_ints shape;
  if (pyops_int(oaxis, &axis, "axis") < 0 || pyops_int_list(oshape, &shape, 0, "shape") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = lz_unflatten(a, axis, shape.v, shape.n);
  lz_free(a);
  return pylz_wrap(r);
}

/* squeeze(a, axis=None) and flip(a, axis=None): `which` picks. */
static PyObject *axes_opt_impl(PyObject *args, PyObject *kw, int which) {
  static char *kws[] = {"", "axis", "stream", NULL};
  PyObject *x, *oaxis = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O", kws, &x, &oaxis, &stream)) return NULL;
  pyops_ints axes;
  int all;
  if (pyops_axes(oaxis, &axes, &all, "axis") < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = which == 0 ? lz_squeeze(a, all ? NULL : axes.v, axes.n)
                           : lz_flip(a, all ? NULL : axes.v, axes.n);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_squeeze(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "squeeze";
  return axes_opt_impl(args, kw, 0);
}

static PyObject *py_flip(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "flip";
  return axes_opt_impl(args, kw, 1);
}

static PyObject *py_expand_dims(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "expand_dims";
  static char *kws[] = {"", "axis", "stream", NULL};
  PyObject *x, *oaxis, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$O:expand_dims", kws, &x, &oaxis, &stream))
    return NULL;
  pyops_ints axes;
  if (pyops_int_list(oaxis, &axes, 1, "axis") < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = lz_expand_dims(a, axes.v, axes.n);
  lz_free(a);
  return pylz_wrap(r);
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
  if (!a) return NULL;
  lz_array *r = swap ? lz_swapaxes(a, i1, i2) : lz_moveaxis(a, i1, i2);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_moveaxis(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "moveaxis";
  return two_axes_impl(args, kw, 0);
}

static PyObject *py_swapaxes(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "swapaxes";
  return two_axes_impl(args, kw, 1);
}

static PyObject *py_transpose(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "transpose";
  static char *kws[] = {"", "axes", "stream", NULL};
  PyObject *x, *oaxes = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O:transpose", kws, &x, &oaxes, &stream))
    return NULL;
  pyops_ints axes = {0};
  if (oaxes != Py_None && pyops_int_list(oaxes, &axes, 0, "axes") < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = lz_transpose(a, oaxes == Py_None ? NULL : axes.v, axes.n);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_matrix_transpose(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "matrix_transpose";
  static char *kws[] = {"", "stream", NULL};
  PyObject *x, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$O:matrix_transpose", kws, &x, &stream))
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = lz_swapaxes(a, -1, -2);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_broadcast_to(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "broadcast_to";
  static char *kws[] = {"", "shape", "stream", NULL};
  PyObject *x, *oshape, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$O:broadcast_to", kws, &x, &oshape, &stream))
    return NULL;
  pyops_ints shape;
  if (pyops_shape(oshape, &shape, "shape") < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = lz_broadcast_to(a, shape.v, shape.n);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_broadcast_arrays(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "broadcast_arrays";
  if (pyops_only_stream_kw(kw, "broadcast_arrays") < 0) return NULL;
  lz_array **arrays;
  int n;
  if (pyops_array_seq(args, &arrays, &n, "arrays") < 0) return NULL;
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
  pyops_name = "broadcast_shapes";
  Py_ssize_t n = PyTuple_GET_SIZE(args);
  if (n == 0) {
    PyErr_SetString(PyExc_ValueError, "[broadcast_shapes] Must provide at least one shape.");
    return NULL;
  }
  int out[LZ_MAX_NDIM], nd = 0;
  for (Py_ssize_t i = 0; i < n; i++) {
    pyops_ints s;
    if (pyops_shape(PyTuple_GET_ITEM(args, i), &s, "shape") < 0) return NULL;
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
  if (!t) return NULL;
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

static PyObject *py_as_strided(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "as_strided";
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
  if (!a) return NULL;
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
    for (int d = 0; d < shape.n; d++) st[d] = strides.v[d];
  }
  lz_array *r = lz_as_strided(a, shape.v, shape.n, st, offset);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_diagonal(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "diagonal";
  static char *kws[] = {"a", "offset", "axis1", "axis2", "stream", NULL};
  PyObject *x, *ooff = NULL, *o1 = NULL, *o2 = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOOO:diagonal", kws, &x, &ooff, &o1, &o2, &stream))
    return NULL;
  int off = 0, a1 = 0, a2 = 1;
  if ((ooff && pyops_int(ooff, &off, "offset") < 0) || (o1 && pyops_int(o1, &a1, "axis1") < 0) ||
      (o2 && pyops_int(o2, &a2, "axis2") < 0))
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = lz_diagonal(a, off, a1, a2);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_diag(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "diag";
  static char *kws[] = {"", "k", "stream", NULL};
  PyObject *x, *ok = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O:diag", kws, &x, &ok, &stream)) return NULL;
  int k = 0;
  if (ok && pyops_int(ok, &k, "k") < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = lz_diag(a, k);
  lz_free(a);
  return pylz_wrap(r);
}

/* atleast_1d/2d/3d(*arys): one input gives an array, several a list. */
static PyObject *atleast_impl(PyObject *args, PyObject *kw, lz_array *(*fn)(lz_array *),
                              const char *name) {
  if (pyops_only_stream_kw(kw, name) < 0) return NULL;
  lz_array **arrays;
  int n;
  if (pyops_array_seq(args, &arrays, &n, "arys") < 0) return NULL;
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
    for (int i = 0; i < n; i++) arrays[i] = NULL;
  }
  pyops_free_arrays(arrays, 0);
  return res;
}

static PyObject *py_atleast_1d(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "atleast_1d";
  return atleast_impl(args, kw, lz_atleast_1d, "atleast_1d");
}
static PyObject *py_atleast_2d(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "atleast_2d";
  return atleast_impl(args, kw, lz_atleast_2d, "atleast_2d");
}
static PyObject *py_atleast_3d(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "atleast_3d";
  return atleast_impl(args, kw, lz_atleast_3d, "atleast_3d");
}

static PyObject *py_contiguous(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "contiguous";
  static char *kws[] = {"", "allow_col_major", "stream", NULL};
  PyObject *x, *ocol = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O:contiguous", kws, &x, &ocol, &stream))
    return NULL;
  bool col = false;
  if (pyops_bool(ocol, &col, "allow_col_major") < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = lz_contiguous(a);
  lz_free(a);
  return pylz_wrap(r);
}

/* slice(a, start_indices, axes, slice_size) and slice_update(a, update, start_indices, axes):
 * MLX's slices with a start read from an array at evaluation. */
static PyObject *py_slice(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "slice";
  static char *kws[] = {"", "start_indices", "axes", "slice_size", "stream", NULL};
  PyObject *x, *ostart, *oaxes, *osize, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOO|$O:slice", kws, &x, &ostart, &oaxes, &osize,
                                   &stream))
    return NULL;
  pyops_ints axes, size;
  if (pyops_int_list(oaxes, &axes, 0, "axes") < 0 || pyops_shape(osize, &size, "slice_size") < 0)
    return NULL;
  lz_array *a, *start;
  if (PYOPS_CONVERT(PYOPS_ARRAY(x, &a), PYOPS_ARRAY(ostart, &start)) < 0) return NULL;
  PyObject *res = NULL;
  if (size.n != lz_array_ndim(a))
    PyErr_Format(PyExc_ValueError, "[slice] slice_size has %d dims, the array %d", size.n,
                 lz_array_ndim(a));
  else
    res = pylz_wrap(lz_slice_dynamic(a, start, axes.v, axes.n, size.v));
  PYOPS_FREE(a, start);
  return res;
}

static PyObject *py_slice_update(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "slice_update";
  static char *kws[] = {"", "update", "start_indices", "axes", "stream", NULL};
  PyObject *x, *oupd, *ostart, *oaxes, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOO|$O:slice_update", kws, &x, &oupd, &ostart,
                                   &oaxes, &stream))
    return NULL;
  pyops_ints axes;
  if (pyops_int_list(oaxes, &axes, 0, "axes") < 0) return NULL;
  lz_array *a, *upd, *start;
  if (PYOPS_CONVERT(PYOPS_ARRAY(x, &a), PYOPS_ARRAY(oupd, &upd), PYOPS_ARRAY(ostart, &start)) < 0)
    return NULL;
  PyObject *res = pylz_wrap(lz_slice_update_dynamic(a, upd, start, axes.v, axes.n));
  PYOPS_FREE(a, upd, start);
  return res;
}

#define SIG_AXES_OPT(NAME)                                                                         \
  NAME "(a: array, /, axis: None | int | Sequence[int] = None, *, stream: StreamOrDevice = "       \
       "None) -> array\n\n"

static PyMethodDef methods[] = {
    PYOPS_F("reshape", py_reshape,
            "reshape(a: array, /, shape: Sequence[int], *, stream: StreamOrDevice = None) -> "
            "array\n\n``a`` with a new shape of the same size (one entry may be -1)."),
    PYOPS_F(
        "flatten", py_flatten,
        "flatten(a: array, /, start_axis: int = 0, end_axis: int = -1, *, stream: StreamOrDevice "
        "= None) -> array\n\nMerges the axes ``start_axis`` to ``end_axis`` (inclusive) into one."),
    PYOPS_F("unflatten", py_unflatten,
            "unflatten(a: array, /, axis: int, shape: Sequence[int], *, stream: StreamOrDevice = "
            "None) -> array\n\nSplits ``axis`` into ``shape`` (one entry may be -1)."),
    PYOPS_F("squeeze", py_squeeze,
            SIG_AXES_OPT("squeeze") "Removes the given size-one axes (all of them by default)."),
    PYOPS_F("flip", py_flip, SIG_AXES_OPT("flip") "Reverses the order of elements along the axes."),
    PYOPS_F(
        "expand_dims", py_expand_dims,
        "expand_dims(a: array, /, axis: int | Sequence[int], *, stream: StreamOrDevice = None) -> "
        "array\n\nInserts size-one axes at the given positions."),
    PYOPS_F(
        "moveaxis", py_moveaxis,
        "moveaxis(a: array, /, source: int, destination: int, *, stream: StreamOrDevice = None) "
        "-> array\n\nMoves axis ``source`` to position ``destination``."),
    PYOPS_F("swapaxes", py_swapaxes,
            "swapaxes(a: array, /, axis1: int, axis2: int, *, stream: StreamOrDevice = None) -> "
            "array\n\nSwaps two axes."),
    PYOPS_F("transpose", py_transpose,
            "transpose(a: array, /, axes: Sequence[int] | None = None, *, stream: StreamOrDevice = "
            "None) -> array\n\nPermutes the axes (reverses them by default)."),
    PYOPS_F(
        "permute_dims", py_transpose,
        "permute_dims(a: array, /, axes: Sequence[int] | None = None, *, stream: StreamOrDevice = "
        "None) -> array\n\nSee :func:`transpose`."),
    PYOPS_F("matrix_transpose", py_matrix_transpose,
            "matrix_transpose(a: array, /, *, stream: StreamOrDevice = None) -> array\n\nSwaps the "
            "last two axes."),
    PYOPS_F("broadcast_to", py_broadcast_to,
            "broadcast_to(a: scalar | array, /, shape: Sequence[int], *, stream: StreamOrDevice = "
            "None) -> array\n\n``a`` broadcast to ``shape`` with NumPy's rules."),
    PYOPS_F("broadcast_arrays", py_broadcast_arrays,
            "broadcast_arrays(*arrays: array, stream: StreamOrDevice = None) -> tuple[array, "
            "...]\n\nThe arrays broadcast against one another."),
    {"broadcast_shapes", (PyCFunction)py_broadcast_shapes, METH_VARARGS,
     "broadcast_shapes(*shapes: Sequence[int]) -> tuple[int]\n\nThe shape the given shapes "
     "broadcast to; ValueError if they do not."},
    PYOPS_F("as_strided", py_as_strided,
            "as_strided(a: array, /, shape: Sequence[int] | None = None, strides: Sequence[int] | "
            "None = None, offset: int = 0, *, stream: StreamOrDevice = None) -> array\n\nA view of "
            "the row-major data of ``a`` with the given shape, element strides and offset; every "
            "element it reaches must lie inside ``a``."),
    PYOPS_F(
        "diagonal", py_diagonal,
        "diagonal(a: array, offset: int = 0, axis1: int = 0, axis2: int = 1, stream: "
        "StreamOrDevice = None) -> array\n\nThe diagonal ``offset`` of the planes (axis1, axis2), "
        "as the last axis."),
    PYOPS_F(
        "diag", py_diag,
        "diag(a: array, /, k: int = 0, *, stream: StreamOrDevice = None) -> array\n\nA 2-D array "
        "with the 1-D ``a`` on diagonal ``k``, or diagonal ``k`` of a 2-D ``a``."),
    PYOPS_F("atleast_1d", py_atleast_1d,
            "atleast_1d(*arys: array, stream: StreamOrDevice = None) -> array | list[array]\n\nThe "
            "inputs with at least one dimension."),
    PYOPS_F("atleast_2d", py_atleast_2d,
            "atleast_2d(*arys: array, stream: StreamOrDevice = None) -> array | list[array]\n\nThe "
            "inputs with at least two dimensions."),
    PYOPS_F("atleast_3d", py_atleast_3d,
            "atleast_3d(*arys: array, stream: StreamOrDevice = None) -> array | list[array]\n\nThe "
            "inputs with at least three dimensions."),
    PYOPS_F(
        "contiguous", py_contiguous,
        "contiguous(a: array, /, allow_col_major: bool = False, *, stream: StreamOrDevice = None) "
        "-> array\n\n``a`` in row-major contiguous layout (copied only when needed)."),
    PYOPS_F(
        "slice", py_slice,
        "slice(a: array, start_indices: array, axes: Sequence[int], slice_size: Sequence[int], *, "
        "stream: StreamOrDevice = None) -> array\n\nThe block of shape ``slice_size`` starting at "
        "``start_indices`` on ``axes`` (read at evaluation)."),
    PYOPS_F("slice_update", py_slice_update,
            "slice_update(a: array, update: array, start_indices: array, axes: Sequence[int], *, "
            "stream: StreamOrDevice = None) -> array\n\nA copy of ``a`` with ``update`` written at "
            "``start_indices`` on ``axes``."),
    {NULL, NULL, 0, NULL},
};

int pyops_init_shape(PyObject *m) { return pyops_add_functions(m, methods); }
