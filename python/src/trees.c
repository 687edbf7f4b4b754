/* lazuli.core: pytrees as MLX treats them. A tree is a nested structure of lists, tuples and
 * dicts (subclasses included, so an nn.Module, a dict, is one); everything else is a leaf.
 * Leaves are visited depth first, lists and tuples in order, dicts in insertion order, which is
 * the order every transform uses to match arrays with their gradients, axes and outputs. */
#include "xform.h"

static int is_node(PyObject *o) { return PyList_Check(o) || PyTuple_Check(o) || PyDict_Check(o); }

/* ---- flatten -------------------------------------------------------------------------- */

static int collect(PyObject *tree, PyObject *leaves, int strict) {
  if (PyLzArray_Check(tree)) return PyList_Append(leaves, tree);
  if (PyList_Check(tree) || PyTuple_Check(tree)) {
    if (Py_EnterRecursiveCall(" in a pytree")) return -1;
    int rc = 0;
    /* a list may change under us if an item's __eq__ runs code; index each time */
    for (Py_ssize_t i = 0; rc == 0 && i < PySequence_Fast_GET_SIZE(tree); i++)
      rc = collect(PySequence_Fast_GET_ITEM(tree, i), leaves, strict);
    Py_LeaveRecursiveCall();
    return rc;
  }
  if (PyDict_Check(tree)) {
    if (Py_EnterRecursiveCall(" in a pytree")) return -1;
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    int rc = 0;
    while (rc == 0 && PyDict_Next(tree, &pos, &k, &v)) {
      Py_INCREF(v);
      rc = collect(v, leaves, strict);
      Py_DECREF(v);
    }
    Py_LeaveRecursiveCall();
    return rc;
  }
  if (strict) {
    PyErr_SetString(PyExc_ValueError, "[tree_flatten] The argument should contain only arrays");
    return -1;
  }
  return 0;
}

int pylz_tree_collect(PyObject *tree, PyObject *leaves, int strict) {
  if (!tree || !leaves || !PyList_Check(leaves)) {
    PyErr_SetString(PyExc_SystemError, "pylz_tree_collect: bad arguments");
    return -1;
  }
  return collect(tree, leaves, strict);
}

PyObject *pylz_tree_flatten(PyObject *tree, int strict) {
  PyObject *l = PyList_New(0);
  if (l && collect(tree, l, strict) < 0) Py_CLEAR(l);
  return l;
}

/* ---- unflatten ------------------------------------------------------------------------ */

static PyObject *next_leaf(PyObject *leaves, Py_ssize_t *pos) {
  if (*pos >= PyList_GET_SIZE(leaves)) {
    PyErr_SetString(PyExc_ValueError, "[tree_unflatten] Not enough leaves to fill the tree");
    return NULL;
  }
  PyObject *v = PyList_GET_ITEM(leaves, *pos);
  (*pos)++;
  Py_INCREF(v);
  return v;
}

PyObject *pylz_tree_unflatten(PyObject *tree, PyObject *leaves, Py_ssize_t *pos) {
  if (PyLzArray_Check(tree)) return next_leaf(leaves, pos);
  if (PyList_Check(tree) || PyTuple_Check(tree)) {
    int is_list = PyList_Check(tree);
    Py_ssize_t n = PySequence_Fast_GET_SIZE(tree);
    PyObject *r = is_list ? PyList_New(n) : PyTuple_New(n);
    if (!r || Py_EnterRecursiveCall(" in a pytree")) {
      Py_XDECREF(r);
      return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
      PyObject *c = pylz_tree_unflatten(PySequence_Fast_GET_ITEM(tree, i), leaves, pos);
      if (!c) {
        Py_LeaveRecursiveCall();
        Py_DECREF(r);
        return NULL;
      }
      if (is_list)
        PyList_SET_ITEM(r, i, c);
      else
        PyTuple_SET_ITEM(r, i, c);
    }
    Py_LeaveRecursiveCall();
    return r;
  }
  if (PyDict_Check(tree)) {
    PyObject *r = PyDict_New();
    if (!r || Py_EnterRecursiveCall(" in a pytree")) {
      Py_XDECREF(r);
      return NULL;
    }
    PyObject *k, *v;
    Py_ssize_t p = 0;
    while (PyDict_Next(tree, &p, &k, &v)) {
      PyObject *c = pylz_tree_unflatten(v, leaves, pos);
      if (!c || PyDict_SetItem(r, k, c) < 0) {
        Py_XDECREF(c);
        Py_LeaveRecursiveCall();
        Py_DECREF(r);
        return NULL;
      }
      Py_DECREF(c);
    }
    Py_LeaveRecursiveCall();
    return r;
  }
  Py_INCREF(tree);
  return tree;
}

/* ---- in-place fill ---------------------------------------------------------------------- */

/* Fills the array leaves of the lists and dicts below `tree`: with `map` NULL, by position
 * from news[*pos]; otherwise a leaf found in `map` (id -> replacement) is replaced and the
 * others stay. */
static int fill(PyObject *tree, PyObject *map, PyObject *news, Py_ssize_t *pos);

static int fill_child(PyObject *child, PyObject *map, PyObject *news, Py_ssize_t *pos,
                      PyObject **replacement) {
  *replacement = NULL;
  if (PyLzArray_Check(child)) {
    if (map) {
      PyObject *id = PyLong_FromVoidPtr(child);
      if (!id) return -1;
      PyObject *n = PyDict_GetItemWithError(map, id);
      Py_DECREF(id);
      if (!n) return PyErr_Occurred() ? -1 : 0;
      *replacement = n;
      return 0;
    }
    if (*pos >= PyList_GET_SIZE(news)) {
      PyErr_SetString(PyExc_ValueError, "[tree_fill] Not enough leaves to fill the tree");
      return -1;
    }
    PyObject *n = PyList_GET_ITEM(news, *pos);
    (*pos)++;
    if (n != child) *replacement = n;
    return 0;
  }
  if (is_node(child)) return fill(child, map, news, pos);
  return 0;
}

static int fill(PyObject *tree, PyObject *map, PyObject *news, Py_ssize_t *pos) {
  if (Py_EnterRecursiveCall(" in a pytree")) return -1;
  int rc = 0;
  if (PyList_Check(tree)) {
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(tree); i++) {
      PyObject *r;
      rc = fill_child(PyList_GET_ITEM(tree, i), map, news, pos, &r);
      if (rc == 0 && r) rc = PyList_SetItem(tree, i, Py_NewRef(r));
    }
  } else if (PyTuple_Check(tree)) {
    for (Py_ssize_t i = 0; rc == 0 && i < PyTuple_GET_SIZE(tree); i++) {
      PyObject *r;
      rc = fill_child(PyTuple_GET_ITEM(tree, i), map, news, pos, &r);
      if (rc == 0 && r) {
        PyErr_SetString(PyExc_ValueError,
                        "[compile] Captured state cannot hold an array directly in a tuple "
                        "(a tuple cannot be updated in place); use a list or a dict");
        rc = -1;
      }
    }
  } else if (PyDict_Check(tree)) {
    PyObject *keys = PyDict_Keys(tree);
    if (!keys) rc = -1;
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(keys); i++) {
      PyObject *k = PyList_GET_ITEM(keys, i), *v = PyDict_GetItemWithError(tree, k), *r;
      if (!v) {
        if (!PyErr_Occurred()) continue; /* removed meanwhile */
        rc = -1;
        break;
      }
      Py_INCREF(v);
      rc = fill_child(v, map, news, pos, &r);
      Py_DECREF(v);
      if (rc == 0 && r) rc = PyObject_SetItem(tree, k, r);
    }
    Py_XDECREF(keys);
  }
  Py_LeaveRecursiveCall();
  return rc;
}

int pylz_tree_fill(PyObject *tree, PyObject *leaves, Py_ssize_t *pos) {
  if (PyLzArray_Check(tree)) {
    PyErr_SetString(PyExc_ValueError,
                    "[compile] Captured state must be a list or a dict, not a single array");
    return -1;
  }
  return fill(tree, NULL, leaves, pos);
}

int pylz_tree_replace(PyObject *tree, PyObject *olds, PyObject *news) {
  if (PyLzArray_Check(tree)) return 0;
  PyObject *map = PyDict_New();
  int rc = map ? 0 : -1;
  for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(olds); i++) {
    PyObject *id = PyLong_FromVoidPtr(PyList_GET_ITEM(olds, i));
    rc = id ? PyDict_SetItem(map, id, PyList_GET_ITEM(news, i)) : -1;
    Py_XDECREF(id);
  }
  Py_ssize_t pos = 0;
  if (rc == 0) rc = fill(tree, map, NULL, &pos);
  Py_XDECREF(map);
  return rc;
}

/* ---- vmap axes -------------------------------------------------------------------------- */

int pylz_ints_push(pylz_ints *l, int x) {
  if (l->n == l->cap) {
    Py_ssize_t cap = l->cap ? 2 * l->cap : 16;
    int *v = PyMem_Realloc(l->v, (size_t)cap * sizeof *v);
    if (!v) {
      PyErr_NoMemory();
      return -1;
    }
    l->v = v, l->cap = cap;
  }
  l->v[l->n++] = x;
  return 0;
}

void pylz_ints_free(pylz_ints *l) {
  PyMem_Free(l->v);
  l->v = NULL, l->n = l->cap = 0;
}

static int axis_leaf(PyObject *x, PyObject *axis, int output, pylz_ints *out) {
  if (!PyLzArray_Check(x)) {
    PyErr_SetString(PyExc_ValueError, "[vmap] The arguments should contain only arrays");
    return -1;
  }
  if (axis == Py_None) return pylz_ints_push(out, LZ_VMAP_NONE);
  if (PyTuple_Check(axis) && PyTuple_GET_SIZE(axis) == 1) axis = PyTuple_GET_ITEM(axis, 0);
  if (axis == Py_None) return pylz_ints_push(out, LZ_VMAP_NONE);
  if (!PyLong_Check(axis)) {
    PyErr_SetString(PyExc_ValueError, "[vmap] axis must be int or None.");
    return -1;
  }
  int overflow = 0;
  long ax = PyLong_AsLongAndOverflow(axis, &overflow);
  if (ax == -1 && PyErr_Occurred()) return -1;
  int nd = lz_array_ndim(((PyLzArray *)x)->a); /* output: a batched output */
  if (!overflow && ax < 0) ax += nd;
  if (overflow || ax < 0 || ax >= nd) {
    PyObject *shape = pylz_shape_tuple(((PyLzArray *)x)->a);
    if (shape) {
      PyErr_Format(PyExc_ValueError,
                   "[vmap] Invalid%svectorization axis %S for array with "
                   "shape %S",
                   output ? " output " : " ", axis, shape);
      Py_DECREF(shape);
    }
    return -1;
  }
  return pylz_ints_push(out, (int)ax);
}

static int axes_rec(PyObject *tree, PyObject *axes, int output, pylz_ints *out) {
  if (PyLzArray_Check(tree)) return axis_leaf(tree, axes, output, out);
  if (!is_node(tree)) return axis_leaf(tree, axes, output, out); /* the error */
  if (axes == Py_None || PyLong_Check(axes)) { /* one axis for the whole subtree */
    PyObject *leaves = pylz_tree_flatten(tree, 1);
    if (!leaves) return -1;
    int rc = 0;
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(leaves); i++)
      rc = axis_leaf(PyList_GET_ITEM(leaves, i), axes, output, out);
    Py_DECREF(leaves);
    return rc;
  }
  if (Py_EnterRecursiveCall(" in a pytree")) return -1;
  int rc = 0;
  if (PyList_Check(tree) || PyTuple_Check(tree)) {
    Py_ssize_t n = PySequence_Fast_GET_SIZE(tree);
    if (!(PyList_Check(axes) || PyTuple_Check(axes)) || PySequence_Fast_GET_SIZE(axes) != n) {
      PyErr_Format(PyExc_ValueError,
                   "[vmap] The %s axes must be an int, None, or a tree with "
                   "the structure of the %s (a %s of %zd items), got %R",
                   output ? "output" : "input", output ? "outputs" : "arguments",
                   PyList_Check(tree) ? "list" : "tuple", n, axes);
      rc = -1;
    }
    for (Py_ssize_t i = 0; rc == 0 && i < n; i++)
      rc = axes_rec(PySequence_Fast_GET_ITEM(tree, i), PySequence_Fast_GET_ITEM(axes, i), output,
                    out);
  } else {
    if (!PyDict_Check(axes)) {
      PyErr_Format(PyExc_ValueError,
                   "[vmap] The %s axes must be an int, None, or a tree with "
                   "the structure of the %s (a dict), got %R",
                   output ? "output" : "input", output ? "outputs" : "arguments", axes);
      rc = -1;
    }
    PyObject *k, *v;
    Py_ssize_t p = 0;
    while (rc == 0 && PyDict_Next(tree, &p, &k, &v)) {
      PyObject *a = PyDict_GetItemWithError(axes, k);
      if (!a) {
        if (!PyErr_Occurred())
          PyErr_Format(PyExc_ValueError, "[vmap] The axes tree has no entry for key %R", k);
        rc = -1;
        break;
      }
      rc = axes_rec(v, a, output, out);
    }
  }
  Py_LeaveRecursiveCall();
  return rc;
}

int pylz_tree_axes(PyObject *tree, PyObject *axes, int output, pylz_ints *out) {
  return axes_rec(tree, axes, output, out);
}
