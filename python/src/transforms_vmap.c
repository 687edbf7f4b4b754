/* lazuli.core: vmap. It returns a VmapFn, a callable that reads the vmapped axis of every array
 * leaf from in_axes (MLX's prefix trees), runs lz_vmap over the Python function (a pylz_fn
 * closure) and puts the outputs, batched along out_axes, back into the function's trees. */
#include "xform.h"
#include "ops_impl.h"

#include <stdlib.h>
#include <string.h>

/* ---- vmap ------------------------------------------------------------------------------ */

typedef struct {
  PyObject_HEAD PyObject *fun, *in_axes, *out_axes;
  PyObject *dict;
} VmapFn;

static PyTypeObject VmapFn_Type;

static PyObject *vmap_call(PyObject *self, PyObject *args, PyObject *kwargs) {
  VmapFn *v = (VmapFn *)self;
  pylz_release_pending();
  if (kwargs && PyDict_GET_SIZE(kwargs)) {
    PyErr_SetString(PyExc_TypeError, "[vmap] The vectorized function takes positional "
                                     "arguments only");
    return NULL;
  }
  PyObject *flat = pylz_tree_flatten(args, 1), *result = NULL, *outs = NULL;
  pylz_ints in_axes = {0}, out_axes = {0};
  lz_closure *c = NULL, *vm = NULL;
  lz_array **iv = NULL, *res[LZ_MAX_OUTPUTS];
  int k = 0;
  if (!flat) goto done;
  PyObject *axes_tree = PyTuple_GET_SIZE(args) == 1 ? PyTuple_GET_ITEM(args, 0) : args;
  if (pylz_tree_axes(axes_tree, v->in_axes, 0, &in_axes) < 0) goto done;
  int mapped = 0;
  for (Py_ssize_t i = 0; i < in_axes.n; i++) mapped |= in_axes.v[i] != LZ_VMAP_NONE;
  if (!mapped) {
    PyErr_SetString(PyExc_ValueError, "[vmap] At least one of the inputs must be vmapped.");
    goto done;
  }
  pylz_fn *p;
  if (!(c = pylz_fn_closure(v->fun, PYLZ_OUT_STRICT, "[vmap]", &p))) goto done;
  p->args = Py_NewRef(args);
  p->pack_ok = 1;
  if (!(iv = pylz_c_arrays(flat))) goto done;
  if (!(vm = lz_vmap(c, in_axes.v, (int)in_axes.n, NULL, 0))) {
    pylz_xform_raise();
    goto done;
  }
  k = lz_closure_call(vm, iv, (int)PyList_GET_SIZE(flat), res);
  if (k < 0) {
    k = 0;
    pylz_xform_raise();
    goto done;
  }
  if (p->layout) { /* many outputs came packed: slice them apart behind the batch axis */
    outs = pylz_unpack(p->layout, res, k, 1);
    for (int j = 0; j < k; j++) lz_free(res[j]);
  } else {
    outs = pylz_wrap_list(res, k);
  }
  k = 0;
  if (!outs) goto done;
  /* the outputs are batched along axis 0: move each to its out axis */
  PyObject *structure = p->result;
  Py_ssize_t pos = 0;
  PyObject *batched = pylz_tree_unflatten(structure, outs, &pos);
  if (!batched) goto done;
  /* out axes count in the batched outputs' dims (an example's ndim + 1) */
  if (pylz_tree_axes(batched, v->out_axes, 1, &out_axes) < 0) {
    Py_DECREF(batched);
    goto done;
  }
  PyObject *moved = PyList_New(PyList_GET_SIZE(outs));
  for (Py_ssize_t i = 0; moved && i < PyList_GET_SIZE(outs); i++) {
    lz_array *a = ((PyLzArray *)PyList_GET_ITEM(outs, i))->a, *b;
    int ax = out_axes.v[i];
    if (ax == LZ_VMAP_NONE) {
      /* not mapped: every example's value is the same; the first stands for all */
      lz_array *i0 = lz_int(0);
      b = lz_take(a, i0, 0);
      lz_free(i0);
    } else {
      b = ax == 0 ? lz_retain(a) : lz_moveaxis(a, 0, ax);
    }
    PyObject *w = pylz_wrap(b);
    if (!w)
      Py_CLEAR(moved);
    else
      PyList_SET_ITEM(moved, i, w);
  }
  Py_DECREF(batched);
  if (moved) {
    pos = 0;
    result = pylz_tree_unflatten(structure, moved, &pos);
    Py_DECREF(moved);
  }
done:
  lz_closure_free(vm), lz_closure_free(c);
  PyMem_Free(iv);
  pylz_ints_free(&in_axes), pylz_ints_free(&out_axes);
  Py_XDECREF(flat), Py_XDECREF(outs);
  return result;
}

static int vmap_clear(PyObject *self);

static void vmap_dealloc(PyObject *self) {
  PyObject_GC_UnTrack(self);
  vmap_clear(self);
  Py_TYPE(self)->tp_free(self);
}

static int vmap_traverse(PyObject *self, visitproc visit, void *arg) {
  VmapFn *v = (VmapFn *)self;
  Py_VISIT(v->fun);
  Py_VISIT(v->in_axes);
  Py_VISIT(v->out_axes);
  Py_VISIT(v->dict);
  return 0;
}

static int vmap_clear(PyObject *self) {
  VmapFn *v = (VmapFn *)self;
  Py_CLEAR(v->fun);
  Py_CLEAR(v->in_axes);
  Py_CLEAR(v->out_axes);
  Py_CLEAR(v->dict);
  return 0;
}

static PyTypeObject VmapFn_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core._VectorizedFunction",
    .tp_basicsize = sizeof(VmapFn),
    .tp_dealloc = vmap_dealloc,
    .tp_call = vmap_call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = vmap_traverse,
    .tp_clear = vmap_clear,
    .tp_descr_get = pylz_bind_method,
    .tp_dictoffset = offsetof(VmapFn, dict),
    .tp_doc = "A function vectorized by vmap.",
};

static PyObject *py_vmap(PyObject *self, PyObject *args, PyObject *kwargs) {
  (void)self;
  static char *kwlist[] = {"fun", "in_axes", "out_axes", NULL};
  PyObject *fun, *in_axes = NULL, *out_axes = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OO:vmap", kwlist, &fun, &in_axes, &out_axes))
    return NULL;
  if (!PyCallable_Check(fun)) {
    PyErr_Format(PyExc_TypeError, "[vmap] fun must be callable, got %s", pylz_type_name(fun));
    return NULL;
  }
  VmapFn *v = PyObject_GC_New(VmapFn, &VmapFn_Type);
  if (!v) return NULL;
  v->fun = Py_NewRef(fun);
  v->in_axes = in_axes ? Py_NewRef(in_axes) : PyLong_FromLong(0);
  v->out_axes = out_axes ? Py_NewRef(out_axes) : PyLong_FromLong(0);
  v->dict = NULL;
  PyObject_GC_Track(v);
  if (!v->in_axes || !v->out_axes || pylz_copy_wraps(&v->dict, fun) < 0) {
    Py_DECREF(v);
    return NULL;
  }
  return (PyObject *)v;
}

static PyMethodDef methods[] = {
    PYOPS_F(
        "vmap", py_vmap,
        "vmap(fun: Callable, in_axes: object = 0, out_axes: object = 0) -> Callable\n\n"
        "Returns a vectorized version of ``fun``.\n\n"
        "Args:\n    fun (Callable): A function which takes a variable number of :class:`array` or "
        "a tree\n      of :class:`array` and returns a variable number of :class:`array` or a tree "
        "of :class:`array`.\n"
        "    in_axes (int, optional): An integer or a valid prefix tree of the inputs to ``fun``\n"
        "      where each node specifies the vmapped axis. If the value is ``None`` then the\n"
        "      corresponding input(s) are not vmapped. Defaults to ``0``.\n"
        "    out_axes (int, optional): An integer or a valid prefix tree of the outputs of "
        "``fun``\n      where each node specifies the vmapped axis. If the value is ``None`` then "
        "the\n      corresponding outputs(s) are not vmapped. Defaults to ``0``.\n\n"
        "Returns:\n    Callable: The vectorized function."),
    {NULL, NULL, 0, NULL},
};

int pylz_init_vmap(PyObject *m) {
  if (PyType_Ready(&VmapFn_Type) < 0) return -1;
  return PyModule_AddFunctions(m, methods);
}
