/* lazuli.core: functions that split, join, repeat, pad or roll arrays (split, unstack,
 * concatenate, stack, repeat, tile, pad, roll, kron), with MLX's names and signatures. */
#include "ops_impl.h"

#include <string.h>

static PyObject *py_unstack(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "unstack";
  static char *kws[] = {"", "axis", "stream", NULL};
  PyObject *x, *oaxis = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$OO:unstack", kws, &x, &oaxis, &stream))
    return NULL;
  int axis = 0;
  if (oaxis && pyops_int(oaxis, &axis, "axis") < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
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

static PyObject *py_split(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "split";
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
    PyErr_Format(PyExc_ValueError, "[split] number of sections must be positive, got %d", sections);
    return NULL;
  }
  int n = by_count ? sections : idx.n + 1;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array **outs = PyMem_Calloc((size_t)n, sizeof(lz_array *));
  if (!outs) {
    lz_free(a);
    return PyErr_NoMemory();
  }
  int rc =
      by_count ? lz_split(a, sections, axis, outs) : lz_split_indices(a, idx.v, idx.n, axis, outs);
  lz_free(a);
  PyObject *res = rc < 0 ? pylz_raise() : pyops_wrap_many(outs, n, 1);
  PyMem_Free(outs);
  return res;
}

/* concatenate / concat (axis None flattens every input) and stack. */
static PyObject *join_impl(PyObject *args, PyObject *kw, int stack) {
  static char *kws[] = {"", "axis", "stream", NULL};
  PyObject *oseq, *oaxis = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O", kws, &oseq, &oaxis, &stream)) return NULL;
  int axis = 0, has_axis = 1;
  if (oaxis && pyops_opt_int(oaxis, &axis, &has_axis, "axis") < 0) return NULL;
  lz_array **arrays;
  int n;
  if (pyops_array_seq(oseq, &arrays, &n, "arrays") < 0) return NULL;
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
  pyops_name = "concatenate";
  return join_impl(args, kw, 0);
}

static PyObject *py_stack(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "stack";
  return join_impl(args, kw, 1);
}

static PyObject *py_repeat(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "repeat";
  static char *kws[] = {"", "repeats", "axis", "stream", NULL};
  PyObject *x, *orep, *oaxis = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O$O:repeat", kws, &x, &orep, &oaxis, &stream))
    return NULL;
  int repeats, axis = 0, has_axis;
  if (pyops_int(orep, &repeats, "repeats") < 0 ||
      pyops_opt_int(oaxis, &axis, &has_axis, "axis") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = has_axis ? lz_repeat(a, repeats, axis) : lz_repeat_flat(a, repeats);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_tile(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "tile";
  static char *kws[] = {"", "", "stream", NULL};
  PyObject *x, *oreps, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$O:tile", kws, &x, &oreps, &stream)) return NULL;
  pyops_ints reps;
  if (pyops_int_list(oreps, &reps, 1, "reps") < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = lz_tile(a, reps.v, reps.n);
  lz_free(a);
  return pylz_wrap(r);
}

/* Reads pad_width (int, (int,), (lo, hi) or a list of pairs) into lo/hi for `ndim` axes. */
static int parse_pad_width(PyObject *o, int ndim, int *lo, int *hi) {
  if (!PyFloat_Check(o) && PyIndex_Check(o)) {
    int v;
    if (pyops_int(o, &v, "pad_width") < 0) return -1;
    for (int i = 0; i < ndim; i++) lo[i] = hi[i] = v;
    return 0;
  }
  if (!PyList_Check(o) && !PyTuple_Check(o))
    return pyops_type_error("pad_width", "an int, a pair of ints or a list of pairs", o);
  Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
  int all_ints = n > 0;
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *it = PySequence_Fast_GET_ITEM(o, i);
    if (PyFloat_Check(it) || !PyIndex_Check(it)) all_ints = 0;
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
    PyErr_Format(PyExc_ValueError, "[pad] pad_width has %zd pairs but the array has %d dimensions",
                 n, ndim);
    return -1;
  }
  for (int i = 0; i < ndim; i++) {
    PyObject *p = PySequence_Fast_GET_ITEM(o, n == 1 ? 0 : i);
    pyops_ints pair;
    if (pyops_int_list(p, &pair, 0, "pad_width") < 0) return -1;
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
  pyops_name = "pad";
  static char *kws[] = {"", "pad_width", "mode", "constant_values", "stream", NULL};
  PyObject *x, *opw, *omode = NULL, *oval = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|OO$O:pad", kws, &x, &opw, &omode, &oval, &stream))
    return NULL;
  const char *mode = "constant";
  if (omode && pyops_str(omode, &mode, "mode") < 0) return NULL;
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
      if (pyops_double(oval, &value, "constant_values") < 0) return NULL;
    } else {
      lz_array *v = pylz_to_array(oval);
      if (!v) return NULL;
      if (lz_array_size(v) != 1) {
        lz_free(v);
        PyErr_SetString(PyExc_ValueError, "[pad] constant_values must be a scalar");
        return NULL;
      }
      int rc = pylz_eval_array(v); /* then reading the one value cannot fail */
      if (rc == 0) value = lz_item_f64(v);
      lz_free(v);
      if (rc < 0) return NULL;
    }
  }
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
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
      if (lo[d] || hi[d]) cur = pad_reflect(cur, d, lo[d], hi[d], mode[0] == 's');
    r = lz_keep(cur == a ? lz_retain(a) : cur);
    lz_scope_end();
  } else {
    r = lz_pad(a, NULL, nd, lo, hi, mode, value);
  }
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_roll(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "roll";
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
    for (int i = 0; i < axes.n; i++) sh[i] = shift.v[0];
  } else if (shift.n != axes.n) {
    PyErr_Format(PyExc_ValueError, "[roll] %d shifts for %d axes", shift.n, axes.n);
    return NULL;
  }
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r =
      all ? lz_roll(a, shift.v, NULL, 1) : lz_roll(a, shift.n == 1 ? sh : shift.v, axes.v, axes.n);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_kron(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "kron";
  static char *kws[] = {"a", "b", "stream", NULL};
  PyObject *x, *y, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$O:kron", kws, &x, &y, &stream)) return NULL;
  lz_array *a, *b;
  if (PYOPS_CONVERT(PYOPS_ARRAY(x, &a), PYOPS_ARRAY(y, &b)) < 0) return NULL;
  lz_array *r = lz_kron(a, b);
  PYOPS_FREE(a, b);
  return pylz_wrap(r);
}

static PyMethodDef methods[] = {
    PYOPS_F("unstack", py_unstack,
            "unstack(x: array, /, *, axis: int = 0, stream: StreamOrDevice = None) -> tuple[array, "
            "...]\n\nThe slices of ``x`` along ``axis``, each without that axis."),
    PYOPS_F(
        "split", py_split,
        "split(a: array, /, indices_or_sections: int | Sequence[int], axis: int = 0, *, stream: "
        "StreamOrDevice = None) -> list[array]\n\nSplits ``a`` along ``axis`` into that many equal "
        "sections, or before each of the given indices."),
    PYOPS_F(
        "concatenate", py_concatenate,
        "concatenate(arrays: list[array], axis: int | None = 0, *, stream: StreamOrDevice = None) "
        "-> array\n\nJoins the arrays along ``axis`` (flattened first when ``None``)."),
    PYOPS_F(
        "concat", py_concatenate,
        "concat(arrays: list[array], axis: int | None = 0, *, stream: StreamOrDevice = None) -> "
        "array\n\nSee :func:`concatenate`."),
    PYOPS_F("stack", py_stack,
            "stack(arrays: list[array], axis: int | None = 0, *, stream: StreamOrDevice = None) -> "
            "array\n\nJoins arrays of one shape along a new axis."),
    PYOPS_F(
        "repeat", py_repeat,
        "repeat(array: array, repeats: int, axis: int | None = None, *, stream: StreamOrDevice = "
        "None) -> array\n\nRepeats each element ``repeats`` times along ``axis`` (of the "
        "flattened array when ``None``)."),
    PYOPS_F("tile", py_tile,
            "tile(a: array, reps: int | Sequence[int], /, *, stream: StreamOrDevice = None) -> "
            "array\n\nRepeats the whole of ``a`` ``reps`` times along each axis."),
    PYOPS_F(
        "pad", py_pad,
        "pad(a: array, pad_width: int | tuple[int] | tuple[int, int] | list[tuple[int, int]], "
        "mode: Literal['constant', 'edge', 'reflect', 'symmetric'] = 'constant', constant_values: "
        "scalar | array = 0, *, stream: StreamOrDevice = None) -> array\n\nPads every axis by "
        "``(before, after)`` elements: a constant, the edge value, or the reflection of ``a`` "
        "without (reflect) or with (symmetric) the edge."),
    PYOPS_F("roll", py_roll,
            "roll(a: array, shift: int | tuple[int], axis: None | int | tuple[int] = None, /, *, "
            "stream: StreamOrDevice = None) -> array\n\nShifts elements along the axes, wrapping "
            "around (the flattened array when ``axis`` is ``None``)."),
    PYOPS_F("kron", py_kron,
            "kron(a: array, b: array, *, stream: StreamOrDevice = None) -> array\n\nThe Kronecker "
            "product of ``a`` and ``b``."),
    {NULL, NULL, 0, NULL},
};

int pyops_init_join(PyObject *m) { return pyops_add_functions(m, methods); }
