/* lazuli.core: gathers and scatters along an axis, sorting, partitions, top-k, searchsorted
 * and unique, with MLX's names and signatures. */
#include "ops_impl.h"

#include <string.h>

static lz_array *flat(lz_array *a) {
  int m1 = -1;
  return lz_reshape(a, &m1, 1);
}

static PyObject *py_take(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "take";
  static char *kws[] = {"", "indices", "axis", "stream", NULL};
  PyObject *x, *oidx, *oaxis = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O$O:take", kws, &x, &oidx, &oaxis, &stream))
    return NULL;
  int axis = 0, has_axis;
  if (pyops_opt_int(oaxis, &axis, &has_axis, "axis") < 0) return NULL;
  if (PyFloat_Check(oidx) || PyBool_Check(oidx) || !(PyLong_Check(oidx) || PyLzArray_Check(oidx)))
    return pyops_type_error("indices", "an int or an array", oidx), NULL;
  lz_array *a = NULL, *idx = NULL;
  PyObject *res = NULL;
  if (PyLong_Check(oidx)) {
    int i;
    if (pyops_int(oidx, &i, "indices") < 0) return NULL;
    idx = lz_scalar(i, LZ_INT32);
  } else {
    idx = pylz_to_array(oidx);
  }
  if (!idx || !(a = pylz_to_array(x))) goto done;
  res = pylz_wrap(has_axis ? lz_take(a, idx, axis) : lz_take_flat(a, idx));
done:
  if (!idx && !PyErr_Occurred()) pylz_raise();
  PYOPS_FREE(a, idx);
  return res;
}

static PyObject *py_take_along_axis(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "take_along_axis";
  static char *kws[] = {"", "indices", "axis", "stream", NULL};
  PyObject *x, *oidx, *oaxis = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O$O:take_along_axis", kws, &x, &oidx, &oaxis,
                                   &stream))
    return NULL;
  int axis = -1, has_axis = 1;
  if (oaxis && pyops_opt_int(oaxis, &axis, &has_axis, "axis") < 0) return NULL;
  lz_array *a, *idx;
  if (PYOPS_CONVERT(PYOPS_ARRAY(x, &a), PYOPS_ARRAY(oidx, &idx)) < 0) return NULL;
  PyObject *res;
  if (has_axis) {
    res = pylz_wrap(lz_take_along_axis(a, idx, axis));
  } else {
    lz_array *f = flat(a);
    res = pylz_wrap(lz_take_along_axis(f, idx, 0));
    lz_free(f);
  }
  PYOPS_FREE(a, idx);
  return res;
}

static PyObject *py_put_along_axis(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "put_along_axis";
  static char *kws[] = {"", "indices", "values", "axis", "stream", NULL};
  PyObject *x, *oidx, *oval, *oaxis = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|O$O:put_along_axis", kws, &x, &oidx, &oval,
                                   &oaxis, &stream))
    return NULL;
  int axis = 0, has_axis;
  if (pyops_opt_int(oaxis, &axis, &has_axis, "axis") < 0) return NULL;
  lz_array *a, *idx, *val;
  if (PYOPS_CONVERT(PYOPS_ARRAY(x, &a), PYOPS_ARRAY(oidx, &idx), PYOPS_ARRAY(oval, &val)) < 0)
    return NULL;
  PyObject *res;
  if (has_axis) {
    res = pylz_wrap(lz_put_along_axis(a, idx, val, axis));
  } else {
    lz_scope_begin();
    lz_array *r = lz_keep(
        lz_reshape(lz_put_along_axis(flat(a), idx, val, 0), lz_array_shape(a), lz_array_ndim(a)));
    lz_scope_end();
    res = pylz_wrap(r);
  }
  PYOPS_FREE(a, idx, val);
  return res;
}

/* sort and argsort: flat_fn(a) over the flattened array (axis None), axis_fn(a, axis). */
static PyObject *sort_call(PyObject *args, PyObject *kw, lz_array *(*flat_fn)(lz_array *),
                           lz_array *(*axis_fn)(lz_array *, int)) {
  static char *kws[] = {"", "axis", "stream", NULL};
  PyObject *x, *oaxis = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O", kws, &x, &oaxis, &stream)) return NULL;
  int axis = -1, has_axis = 1;
  if (oaxis && pyops_opt_int(oaxis, &axis, &has_axis, "axis") < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = has_axis ? axis_fn(a, axis) : flat_fn(a);
  lz_free(a);
  return pylz_wrap(r);
}

/* partition, argpartition, topk: flat_fn(a, k) flattened, axis_fn(a, k, axis). topk names
 * its count `k`, the others `kth`. */
static PyObject *kth_call(PyObject *args, PyObject *kw, lz_array *(*flat_fn)(lz_array *, int),
                          lz_array *(*axis_fn)(lz_array *, int, int), int is_topk) {
  static char *kws_kth[] = {"", "kth", "axis", "stream", NULL};
  static char *kws_k[] = {"", "k", "axis", "stream", NULL};
  PyObject *x, *ok, *oaxis = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O$O", is_topk ? kws_k : kws_kth, &x, &ok, &oaxis,
                                   &stream))
    return NULL;
  int k, axis = -1, has_axis = 1;
  if (pyops_int(ok, &k, is_topk ? "k" : "kth") < 0 ||
      (oaxis && pyops_opt_int(oaxis, &axis, &has_axis, "axis") < 0))
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = has_axis ? axis_fn(a, k, axis) : flat_fn(a, k);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_searchsorted(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "searchsorted";
  static char *kws[] = {"", "", "side", "stream", NULL};
  PyObject *x, *y, *oside = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O$O:searchsorted", kws, &x, &y, &oside, &stream))
    return NULL;
  const char *side = "left";
  if (oside && pyops_str(oside, &side, "side") < 0) return NULL;
  if (strcmp(side, "left") && strcmp(side, "right")) {
    PyErr_Format(PyExc_ValueError, "[searchsorted] side must be 'left' or 'right', not '%s'", side);
    return NULL;
  }
  lz_array *a, *v;
  if (PYOPS_CONVERT(PYOPS_ARRAY(x, &a), PYOPS_ARRAY(y, &v)) < 0) return NULL;
  lz_array *r = lz_searchsorted(a, v, side[0] == 'r');
  PYOPS_FREE(a, v);
  return pylz_wrap(r);
}

/* `x` (1-d) cut or padded with `fill` to `size` entries. */
static lz_array *fit_to(lz_array *x, int size, lz_array *fill) {
  int n = lz_array_dim(x, 0);
  if (n >= size) {
    int b = 0;
    return lz_slice(x, &b, &size, NULL, 1);
  }
  int rest = size - n;
  lz_array *parts[2] = {x, lz_broadcast_to(lz_astype(fill, lz_array_dtype(x)), &rest, 1)};
  return lz_concatenate(parts, 2, 0);
}

static PyObject *py_unique(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "unique";
  static char *kws[] = {
      "", "size", "return_index", "return_inverse", "return_counts", "fill_value", "stream", NULL};
  PyObject *x, *osize, *oidx = NULL, *oinv = NULL, *ocnt = NULL, *ofill = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|OOOO$O:unique", kws, &x, &osize, &oidx, &oinv,
                                   &ocnt, &ofill, &stream))
    return NULL;
  int size;
  bool want_idx = false, want_inv = false, want_cnt = false;
  if (pyops_int(osize, &size, "size") < 0 || pyops_bool(oidx, &want_idx, "return_index") < 0 ||
      pyops_bool(oinv, &want_inv, "return_inverse") < 0 ||
      pyops_bool(ocnt, &want_cnt, "return_counts") < 0)
    return NULL;
  if (size < 0) {
    PyErr_Format(PyExc_ValueError, "[unique] size must be non-negative, got %d", size);
    return NULL;
  }
  lz_array *a, *fill;
  if (PYOPS_CONVERT(PYOPS_ARRAY(x, &a), PYOPS_OPT_ARRAY(ofill, &fill)) < 0) return NULL;
  lz_array *out[4] = {NULL, NULL, NULL, NULL};
  int nout = 0;
  lz_scope_begin();
  lz_array *inv = NULL, *cnt = NULL;
  lz_array *vals = lz_unique(a, &inv, &cnt);
  if (vals) {
    int k = lz_array_dim(vals, 0);
    lz_array *fv =
        fill ? fill : (k > 0 ? lz_slice(vals, (int[]){0}, (int[]){1}, NULL, 1) : lz_int(0));
    out[nout++] = lz_keep(fit_to(vals, size, fv));
    if (want_idx) {
      /* First occurrence: the smallest flat index of each value, scattered by the inverse. */
      int n = (int)lz_array_size(a);
      lz_array *first = lz_full(&k, 1, (double)n, LZ_UINT32);
      lz_array *pos = lz_arange(0, n, 1, LZ_UINT32);
      lz_array *idx = lz_at_minimum(first, inv, pos, 0);
      /* Padding repeats the first entry's index, as the padding value defaults to it. */
      lz_array *ipad =
          k > 0 ? lz_slice(idx, (int[]){0}, (int[]){1}, NULL, 1) : lz_scalar(0, LZ_UINT32);
      out[nout++] = lz_keep(fit_to(idx, size, ipad));
    }
    if (want_inv) {
      lz_array *iv = lz_astype(inv, LZ_UINT32);
      if (k > size && size > 0) iv = lz_minimum(iv, lz_scalar(size - 1, LZ_UINT32));
      out[nout++] = lz_keep(lz_reshape(iv, lz_array_shape(a), lz_array_ndim(a)));
    }
    if (want_cnt) out[nout++] = lz_keep(fit_to(cnt, size, lz_scalar(0, LZ_INT32)));
  }
  lz_scope_end(); /* also releases inv and cnt, which the scope owns */
  PYOPS_FREE(a, fill);
  if (!vals) return pylz_raise();
  if (nout == 1) return pylz_wrap(out[0]);
  return pyops_wrap_many(out, nout, 0);
}

#define SIG_SORT(NAME)                                                                             \
  NAME "(a: array, /, axis: None | int = -1, *, stream: StreamOrDevice = None) -> array\n\n"
#define SIG_KTH(NAME, K)                                                                           \
  NAME "(a: array, /, " K ": int, axis: None | int = -1, *, stream: StreamOrDevice = None) -> "    \
       "array\n\n"

static PyObject *py_sort(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "sort";
  return sort_call(args, kw, lz_sort, lz_sort_axis);
}
static PyObject *py_argsort(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "argsort";
  return sort_call(args, kw, lz_argsort, lz_argsort_axis);
}
static PyObject *py_partition(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "partition";
  return kth_call(args, kw, lz_partition, lz_partition_axis, 0);
}
static PyObject *py_argpartition(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "argpartition";
  return kth_call(args, kw, lz_argpartition, lz_argpartition_axis, 0);
}
static PyObject *py_topk(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "topk";
  return kth_call(args, kw, lz_topk, lz_topk_axis, 1);
}

static PyMethodDef methods[] = {
    PYOPS_F("sort", py_sort,
            SIG_SORT("sort") "A sorted copy along ``axis`` (of the flattened array when ``None``); "
                             "stable, NaN last."),
    PYOPS_F("argsort", py_argsort,
            SIG_SORT("argsort") "The uint32 indices that sort along ``axis`` (stable)."),
    PYOPS_F("partition", py_partition,
            SIG_KTH("partition", "kth") "A copy where the ``kth`` element is in its sorted place, "
                                        "smaller ones before, the rest after."),
    PYOPS_F("argpartition", py_argpartition,
            SIG_KTH("argpartition", "kth") "The uint32 indices of such a partition."),
    PYOPS_F(
        "topk", py_topk,
        SIG_KTH("topk", "k") "The ``k`` largest elements along ``axis`` (in no promised order)."),
    PYOPS_F("take", py_take,
            "take(a: array, /, indices: int | array, axis: int | None = None, *, stream: "
            "StreamOrDevice = None) -> array\n\nElements at ``indices`` along ``axis`` (of the "
            "flattened array when ``None``)."),
    PYOPS_F(
        "take_along_axis", py_take_along_axis,
        "take_along_axis(a: array, /, indices: array, axis: int | None = -1, *, stream: "
        "StreamOrDevice = None) -> array\n\nValues at ``indices`` along ``axis``; the other axes "
        "broadcast (flattened first when ``None``)."),
    PYOPS_F(
        "put_along_axis", py_put_along_axis,
        "put_along_axis(a: array, /, indices: array, values: array, axis: int | None = None, *, "
        "stream: StreamOrDevice = None) -> array\n\nA copy of ``a`` with ``values`` written where "
        ":func:`take_along_axis` reads."),
    PYOPS_F(
        "searchsorted", py_searchsorted,
        "searchsorted(sorted_sequence: array, values: array, /, side: str = 'left', *, stream: "
        "StreamOrDevice = None) -> array\n\nThe uint32 indices where ``values`` would be inserted "
        "to keep the 1-D ``sorted_sequence`` sorted."),
    PYOPS_F(
        "unique", py_unique,
        "unique(a: array, /, size: int, return_index: bool = False, return_inverse: bool = False, "
        "return_counts: bool = False, fill_value: scalar | array | None = None, *, stream: "
        "StreamOrDevice = None) -> array | tuple[array, ...]\n\nThe sorted distinct values of the "
        "flattened ``a``, cut or padded with ``fill_value`` to ``size`` entries; optionally the "
        "first index of each, the inverse and the counts (0 for padding)."),
    {NULL, NULL, 0, NULL},
};

int pyops_init_index(PyObject *m) { return pyops_add_functions(m, methods); }
