/* lazuli.core: more outputs than a closure has (LZ_MAX_OUTPUTS), packed into one array per
 * dtype.
 *
 * A Python function under vmap or compile may return a tree of many arrays (the gradients of
 * a whole model, say). Its closure then returns, for each dtype among the leaves, the leaves
 * flattened and concatenated; a layout records where each leaf lies, and the caller slices the
 * results apart again (after vmap, behind a leading batch axis). Concatenate, slice and reshape
 * have every transform rule, so packed outputs differentiate and batch like the leaves. */
#include "xform.h"

/* layout: (ngroups, ((group, offset, size, shape), ...)) */

int pylz_pack(lz_array *const *leaves, Py_ssize_t m, lz_array **packed, PyObject **layout) {
  lz_dtype dts[LZ_MAX_OUTPUTS];
  long long offsets[LZ_MAX_OUTPUTS] = {0};
  int ng = 0, made = 0, rc = 0;
  int *group = PyMem_Malloc((size_t)m * sizeof *group);
  lz_array **fl = PyMem_Malloc((size_t)m * sizeof *fl);
  PyObject *entries = PyTuple_New(m);
  if (!group || !fl || !entries) {
    if (!PyErr_Occurred()) PyErr_NoMemory();
    rc = -1;
  }
  /* where each leaf goes: its dtype's group, at the running offset */
  for (Py_ssize_t j = 0; rc == 0 && j < m; j++) {
    lz_dtype dt = lz_array_dtype(leaves[j]);
    int g = 0;
    while (g < ng && dts[g] != dt) g++;
    if (g == ng) dts[ng++] = dt;
    group[j] = g;
    size_t size = lz_array_size(leaves[j]);
    if (offsets[g] + (long long)size > INT32_MAX) {
      PyErr_SetString(PyExc_ValueError, "[transforms] outputs too large to pack");
      rc = -1;
      break;
    }
    PyObject *shape = pylz_shape_tuple(leaves[j]);
    PyObject *e = shape ? Py_BuildValue("(iLnN)", g, offsets[g], (Py_ssize_t)size, shape) : NULL;
    if (!e)
      rc = -1;
    else
      PyTuple_SET_ITEM(entries, j, e);
    offsets[g] += (long long)size;
  }
  /* one concatenation of the flattened leaves per group, in leaf order */
  for (int g = 0; rc == 0 && g < ng; g++) {
    int n = 0, ok = 1;
    for (Py_ssize_t j = 0; j < m; j++) {
      if (group[j] != g) continue;
      int sz = (int)lz_array_size(leaves[j]);
      fl[n] = lz_reshape(leaves[j], &sz, 1);
      ok &= fl[n++] != NULL;
    }
    packed[g] = ok ? lz_concatenate(fl, n, 0) : NULL;
    for (int i = 0; i < n; i++) lz_free(fl[i]);
    if (!packed[g])
      rc = pylz_raise_int();
    else
      made++;
  }
  PyMem_Free(group), PyMem_Free(fl);
  if (rc == 0 && !(*layout = Py_BuildValue("(iO)", ng, entries))) rc = -1;
  Py_XDECREF(entries);
  if (rc < 0) {
    for (int g = 0; g < made; g++) lz_free(packed[g]);
    return -1;
  }
  return ng;
}

PyObject *pylz_unpack(PyObject *layout, lz_array *const *packed, int npacked, int lead) {
  int ng = (int)PyLong_AsLong(PyTuple_GET_ITEM(layout, 0));
  PyObject *entries = PyTuple_GET_ITEM(layout, 1);
  if (ng != npacked) {
    PyErr_Format(PyExc_RuntimeError, "[transforms] %d packed outputs where %d were expected",
                 npacked, ng);
    return NULL;
  }
  Py_ssize_t m = PyTuple_GET_SIZE(entries);
  PyObject *out = PyList_New(m);
  for (Py_ssize_t j = 0; out && j < m; j++) {
    PyObject *e = PyTuple_GET_ITEM(entries, j), *shape = PyTuple_GET_ITEM(e, 3);
    int g = (int)PyLong_AsLong(PyTuple_GET_ITEM(e, 0));
    long long off = PyLong_AsLongLong(PyTuple_GET_ITEM(e, 1));
    long long size = PyLong_AsLongLong(PyTuple_GET_ITEM(e, 2));
    lz_array *p = packed[g];
    int nd = lz_array_ndim(p), start[LZ_MAX_NDIM], stop[LZ_MAX_NDIM], dims[LZ_MAX_NDIM + 1];
    for (int d = 0; d < nd; d++) start[d] = 0, stop[d] = lz_array_shape(p)[d];
    start[lead] = (int)off, stop[lead] = (int)(off + size);
    int k = 0;
    for (int d = 0; d < lead; d++) dims[k++] = lz_array_shape(p)[d];
    Py_ssize_t sn = PyTuple_GET_SIZE(shape);
    for (Py_ssize_t d = 0; d < sn && k <= LZ_MAX_NDIM; d++)
      dims[k++] = (int)PyLong_AsLong(PyTuple_GET_ITEM(shape, d));
    lz_array *s = lz_slice(p, start, stop, NULL, nd);
    lz_array *r = s ? lz_reshape(s, dims, k) : NULL;
    lz_free(s);
    PyObject *w = pylz_wrap(r);
    if (!w)
      Py_CLEAR(out);
    else
      PyList_SET_ITEM(out, j, w);
  }
  return out;
}

static PyObject *sig_item(lz_array *a) {
  PyObject *shape = pylz_shape_tuple(a);
  return shape ? Py_BuildValue("(iN)", (int)lz_array_dtype(a), shape) : NULL;
}

PyObject *pylz_signature(lz_array *const *in, int n, lz_dict *state) {
  size_t ns = state ? lz_dict_size(state) : 0;
  PyObject *l = PyList_New(0);
  for (int i = 0; l && i < n; i++) {
    PyObject *it = sig_item(in[i]);
    if (!it || PyList_Append(l, it) < 0) Py_CLEAR(l);
    Py_XDECREF(it);
  }
  for (size_t i = 0; l && i < ns; i++) {
    lz_array *a = lz_dict_value(state, i);
    if (!a) continue;
    PyObject *it = sig_item(a);
    lz_release(a);
    if (!it || PyList_Append(l, it) < 0) Py_CLEAR(l);
    Py_XDECREF(it);
  }
  PyObject *t = l ? PyList_AsTuple(l) : NULL;
  Py_XDECREF(l);
  return t;
}
