/* lazuli.core: custom_function (a decorator with .vjp, .jvp and .vmap rules) and checkpoint,
 * over lz_custom_function and lz_checkpoint.
 *
 * Each call flattens the arguments, wraps the function in a closure (pylz_fn) and the rules in
 * closures of their own that rebuild MLX's calling convention from flat arrays: the vjp rule
 * gets (primals, cotangents, outputs, **kwargs) as trees, the jvp rule (primals, tangents), the
 * vmap rule (inputs, axes) and returns (outputs, out_axes). The rules hold the function's
 * closure, whose last result gives the outputs' tree structure. */
#include "xform.h"
#include "ops_impl.h"

enum { RULE_VJP, RULE_JVP, RULE_VMAP };

typedef struct rule_ctx {
  lz_closure *f; /* the function's closure (for its templates and output structure) */
  pylz_fn *fp;
  PyObject *rule;
  Py_ssize_t n;     /* array leaves of (args, kwargs) */
  Py_ssize_t n_pos; /* of args alone */
  int kind;
} rule_ctx;

static void rule_drop(void *ctx) {
  rule_ctx *r = ctx;
  Py_XDECREF(r->rule);
  lz_closure_free(r->f); /* may drop the function's closure too: the GIL is held here */
  PyMem_RawFree(r);
}

static void rule_free(void *ctx) { pylz_release_py(rule_drop, ctx); }

static PyObject *wrap_range(lz_array *const *in, Py_ssize_t n) {
  PyObject *l = PyList_New(n);
  for (Py_ssize_t i = 0; l && i < n; i++) {
    PyObject *w = pylz_wrap_borrowed(in[i]);
    if (!w)
      Py_CLEAR(l);
    else
      PyList_SET_ITEM(l, i, w);
  }
  return l;
}

/* The positional arguments as MLX hands them to a rule: the only one, or the tuple. */
static PyObject *primals_arg(PyObject *args) {
  if (PyTuple_GET_SIZE(args) == 1) return Py_NewRef(PyTuple_GET_ITEM(args, 0));
  return Py_NewRef(args);
}

/* `tree` with 0 for every array leaf and None for every other leaf. */
static PyObject *axes_like(PyObject *tree) {
  if (PyLzArray_Check(tree)) return PyLong_FromLong(0);
  int is_list = PyList_Check(tree);
  if (is_list || PyTuple_Check(tree)) {
    Py_ssize_t n = PySequence_Fast_GET_SIZE(tree);
    PyObject *r = is_list ? PyList_New(n) : PyTuple_New(n);
    for (Py_ssize_t i = 0; r && i < n; i++) {
      PyObject *c = axes_like(PySequence_Fast_GET_ITEM(tree, i));
      if (!c)
        Py_CLEAR(r);
      else if (is_list)
        PyList_SET_ITEM(r, i, c);
      else
        PyTuple_SET_ITEM(r, i, c);
    }
    return r;
  }
  if (PyDict_Check(tree)) {
    PyObject *r = PyDict_New(), *k, *v;
    Py_ssize_t p = 0;
    while (r && PyDict_Next(tree, &p, &k, &v)) {
      PyObject *c = axes_like(v);
      if (!c || PyDict_SetItem(r, k, c) < 0) Py_CLEAR(r);
      Py_XDECREF(c);
    }
    return r;
  }
  return Py_NewRef(Py_None);
}

static int rule_call(void *ctx, lz_array *const *in, int nin, lz_array **out) {
  rule_ctx *r = ctx;
  pylz_fn *fp = r->fp;
  PyGILState_STATE g = PyGILState_Ensure();
  if (lz_scope_suspend() < 0) {
    PyGILState_Release(g);
    return -1;
  }
  lz_array *tmp[LZ_MAX_OUTPUTS > 64 ? LZ_MAX_OUTPUTS : 64];
  int k = -1;
  int cap = (int)(sizeof tmp / sizeof *tmp);
  PyObject *prim = NULL, *args = NULL, *kwargs = NULL, *res = NULL, *flat = NULL, *a1 = NULL,
           *a2 = NULL, *a3 = NULL, *t1 = NULL, *t2 = NULL;
  pylz_ints axes = {0};
  Py_ssize_t pos = 0, n = r->n;
  const char *tag = r->kind == RULE_VJP   ? "[custom vjp]"
                    : r->kind == RULE_JVP ? "[custom jvp]"
                                          : "[custom vmap]";
  if (!(prim = wrap_range(in, n))) goto done;
  if (!(args = pylz_tree_unflatten(fp->args, prim, &pos))) goto done;
  if (fp->kwargs && !(kwargs = pylz_tree_unflatten(fp->kwargs, prim, &pos))) goto done;
  if (r->kind != RULE_VJP && kwargs && PyDict_GET_SIZE(kwargs)) {
    PyErr_Format(PyExc_ValueError, "%s Function should only accept positional arguments", tag);
    goto done;
  }
  if (!(a1 = primals_arg(args))) goto done;
  int want; /* arrays the rule must give back */
  if (r->kind == RULE_VJP) {
    Py_ssize_t m = (nin - n) / 2;
    PyObject *cot = wrap_range(in + n, m), *outs = cot ? wrap_range(in + n + m, m) : NULL;
    Py_ssize_t p1 = 0, p2 = 0;
    if (outs) {
      a2 = pylz_tree_unflatten(fp->result, cot, &p1);
      a3 = a2 ? pylz_tree_unflatten(fp->result, outs, &p2) : NULL;
    }
    Py_XDECREF(cot), Py_XDECREF(outs);
    if (!a3) goto done;
    PyObject *call = PyTuple_Pack(3, a1, a2, a3);
    if (!call) goto done;
    res = PyObject_Call(r->rule, call, kwargs);
    Py_DECREF(call);
    want = (int)r->n_pos;
  } else if (r->kind == RULE_JVP) {
    PyObject *tans = wrap_range(in + n, n);
    Py_ssize_t p1 = 0;
    if (!tans) goto done;
    t1 = pylz_tree_unflatten(fp->args, tans, &p1);
    Py_DECREF(tans);
    if (!t1 || !(a2 = primals_arg(t1))) goto done;
    res = PyObject_CallFunctionObjArgs(r->rule, a1, a2, NULL);
    want = fp->nout_arrays;
  } else {
    /* every array input comes batched along axis 0 (unmapped ones broadcast); other leaves
     * get None */
    if (!(t1 = axes_like(args)) || !(a2 = primals_arg(t1))) goto done;
    res = PyObject_CallFunctionObjArgs(r->rule, a1, a2, NULL);
    want = fp->nout_arrays;
  }
  if (!res) goto done;
  PyObject *values = res;
  if (r->kind == RULE_VMAP) {
    if (!PyTuple_Check(res) || PyTuple_GET_SIZE(res) != 2) {
      PyErr_SetString(PyExc_ValueError,
                      "[custom vmap] Vmap function should return a tuple with 2 items.");
      goto done;
    }
    values = PyTuple_GET_ITEM(res, 0);
    if (pylz_tree_axes(values, PyTuple_GET_ITEM(res, 1), 1, &axes) < 0) goto done;
  }
  if (!(flat = pylz_tree_flatten(values, 0))) goto done;
  Py_ssize_t got = PyList_GET_SIZE(flat);
  if (got != want || got > cap) {
    PyErr_Format(PyExc_ValueError,
                 "%s The function returned %zd arrays where %d were expected "
                 "(%s).",
                 tag, got, want, r->kind == RULE_VJP ? "one per array argument" : "one per output");
    goto done;
  }
  int batch = r->kind == RULE_VMAP && n > 0 ? lz_array_shape(in[0])[0] : 0;
  for (Py_ssize_t j = 0; j < got; j++) {
    lz_array *a = ((PyLzArray *)PyList_GET_ITEM(flat, j))->a, *b;
    if (r->kind != RULE_VMAP) {
      b = lz_retain(a);
    } else if (axes.v[j] == LZ_VMAP_NONE) { /* not batched: every example shares it */
      int shape[LZ_MAX_NDIM + 1], nd = lz_array_ndim(a);
      shape[0] = batch;
      for (int d = 0; d < nd; d++) shape[d + 1] = lz_array_shape(a)[d];
      lz_array *e = lz_expand_dims(a, (int[]){0}, 1);
      b = lz_broadcast_to(e, shape, nd + 1);
      lz_free(e);
    } else {
      b = axes.v[j] == 0 ? lz_retain(a) : lz_moveaxis(a, axes.v[j], 0);
    }
    if (!b) {
      for (Py_ssize_t q = 0; q < j; q++) lz_release(tmp[q]);
      pylz_raise();
      goto done;
    }
    tmp[j] = b;
  }
  /* cotangents of keyword arrays: zero */
  for (Py_ssize_t j = got; r->kind == RULE_VJP && j < n; j++) {
    if (j >= cap || !(tmp[j] = lz_zeros_like(in[j]))) {
      for (Py_ssize_t q = 0; q < j; q++) lz_release(tmp[q]);
      if (j >= cap)
        PyErr_SetString(PyExc_ValueError, "[custom vjp] too many arguments");
      else
        pylz_raise();
      goto done;
    }
    got++;
  }
  k = (int)got;
done:
  if (k < 0) pylz_xform_stash();
  Py_XDECREF(prim), Py_XDECREF(args), Py_XDECREF(kwargs), Py_XDECREF(res), Py_XDECREF(flat);
  Py_XDECREF(a1), Py_XDECREF(a2), Py_XDECREF(a3), Py_XDECREF(t1), Py_XDECREF(t2);
  pylz_ints_free(&axes);
  lz_scope_resume();
  for (int j = 0; j < k; j++) {
    out[j] = lz_retain(tmp[j]);
    lz_release(tmp[j]);
  }
  PyGILState_Release(g);
  return k;
}

static lz_closure *rule_closure(lz_closure *f, pylz_fn *fp, PyObject *rule, Py_ssize_t n,
                                Py_ssize_t n_pos, int kind) {
  if (!rule) return NULL;
  rule_ctx *r = PyMem_RawCalloc(1, sizeof *r);
  if (!r) return (lz_closure *)PyErr_NoMemory();
  r->f = lz_closure_retain(f), r->fp = fp, r->rule = Py_NewRef(rule);
  r->n = n, r->n_pos = n_pos, r->kind = kind;
  lz_closure *c = lz_closure_new(rule_call, r, rule_free);
  if (!c) {
    rule_free(r);
    pylz_raise();
    return NULL;
  }
  return c;
}

/* ---- custom_function --------------------------------------------------------------------- */

typedef struct {
  PyObject_HEAD PyObject *fun, *vjp, *jvp, *vmap;
  PyObject *dict;
} CustomFn;

/* Calls fun through closure `c` (made from fun's pylz_fn fp) on the arguments' arrays. */
static PyObject *call_closure(lz_closure *c, pylz_fn *fp, PyObject *flat) {
  Py_ssize_t n = PyList_GET_SIZE(flat);
  lz_array **in = PyMem_Malloc((size_t)(n + 1) * sizeof *in), *outs[LZ_MAX_OUTPUTS];
  if (!in) return PyErr_NoMemory();
  for (Py_ssize_t i = 0; i < n; i++) in[i] = ((PyLzArray *)PyList_GET_ITEM(flat, i))->a;
  int k = lz_closure_call(c, in, (int)n, outs);
  PyMem_Free(in);
  if (k < 0) return pylz_xform_raise();
  PyObject *l;
  if (fp->layout) { /* many outputs, packed (checkpoint) */
    l = pylz_unpack(fp->layout, outs, k, 0);
    for (int j = 0; j < k; j++) lz_free(outs[j]);
  } else {
    l = pylz_wrap_list(outs, k);
  }
  if (!l) return NULL;
  Py_ssize_t pos = 0;
  PyObject *r = pylz_tree_unflatten(fp->result, l, &pos);
  Py_DECREF(l);
  return r;
}

static PyObject *custom_call(PyObject *self, PyObject *args, PyObject *kwargs) {
  CustomFn *cf = (CustomFn *)self;
  pylz_release_pending();
  if (!cf->vjp && !cf->jvp && !cf->vmap) return PyObject_Call(cf->fun, args, kwargs);
  PyObject *flat = pylz_tree_flatten(args, 0), *result = NULL;
  if (!flat) return NULL;
  Py_ssize_t n_pos = PyList_GET_SIZE(flat);
  if (kwargs && pylz_tree_collect(kwargs, flat, 0) < 0) {
    Py_DECREF(flat);
    return NULL;
  }
  Py_ssize_t n = PyList_GET_SIZE(flat);
  pylz_fn *fp;
  lz_closure *f = pylz_fn_closure(cf->fun, PYLZ_OUT_ANY, "[custom_function]", &fp);
  lz_closure *v = NULL, *j = NULL, *m = NULL, *c = NULL;
  if (!f) goto done;
  fp->args = Py_NewRef(args);
  fp->kwargs = kwargs ? Py_NewRef(kwargs) : NULL;
  if (cf->vjp && !(v = rule_closure(f, fp, cf->vjp, n, n_pos, RULE_VJP))) goto done;
  if (cf->jvp && !(j = rule_closure(f, fp, cf->jvp, n, n_pos, RULE_JVP))) goto done;
  if (cf->vmap && !(m = rule_closure(f, fp, cf->vmap, n, n_pos, RULE_VMAP))) goto done;
  if (!(c = lz_custom_function(f, v, j, m))) {
    pylz_raise();
    goto done;
  }
  result = call_closure(c, fp, flat);
done:
  lz_closure_free(c), lz_closure_free(v), lz_closure_free(j), lz_closure_free(m);
  lz_closure_free(f);
  Py_DECREF(flat);
  return result;
}

static int custom_init(PyObject *self, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"f", NULL};
  CustomFn *cf = (CustomFn *)self;
  PyObject *fun;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:custom_function", kwlist, &fun)) return -1;
  if (!PyCallable_Check(fun)) {
    PyErr_Format(PyExc_TypeError, "custom_function: f must be callable, got %s",
                 pylz_type_name(fun));
    return -1;
  }
  Py_XSETREF(cf->fun, Py_NewRef(fun));
  return pylz_copy_wraps(&cf->dict, fun);
}

static PyObject *set_rule(PyObject *self, PyObject *f, PyObject **slot, const char *name) {
  if (!PyCallable_Check(f)) {
    PyErr_Format(PyExc_TypeError, "custom_function.%s: f must be callable, got %s", name,
                 pylz_type_name(f));
    return NULL;
  }
  Py_XSETREF(*slot, Py_NewRef(f));
  return Py_NewRef(self);
}

static PyObject *custom_vjp(PyObject *self, PyObject *f) {
  return set_rule(self, f, &((CustomFn *)self)->vjp, "vjp");
}
static PyObject *custom_jvp(PyObject *self, PyObject *f) {
  return set_rule(self, f, &((CustomFn *)self)->jvp, "jvp");
}
static PyObject *custom_vmap(PyObject *self, PyObject *f) {
  return set_rule(self, f, &((CustomFn *)self)->vmap, "vmap");
}

static int custom_traverse(PyObject *self, visitproc visit, void *arg) {
  CustomFn *cf = (CustomFn *)self;
  Py_VISIT(cf->fun);
  Py_VISIT(cf->vjp);
  Py_VISIT(cf->jvp);
  Py_VISIT(cf->vmap);
  Py_VISIT(cf->dict);
  return 0;
}

static int custom_clear(PyObject *self) {
  CustomFn *cf = (CustomFn *)self;
  Py_CLEAR(cf->fun);
  Py_CLEAR(cf->vjp);
  Py_CLEAR(cf->jvp);
  Py_CLEAR(cf->vmap);
  Py_CLEAR(cf->dict);
  return 0;
}

static void custom_dealloc(PyObject *self) {
  PyObject_GC_UnTrack(self);
  custom_clear(self);
  Py_TYPE(self)->tp_free(self);
}

static PyMethodDef custom_methods[] = {
    {"vjp", custom_vjp, METH_O,
     "vjp(self, f: Callable)\n\n"
     "Define a custom vjp for the wrapped function.\n\n"
     "The vjp function takes three arguments:\n\n"
     "- *primals*: A pytree that contains all the positional arguments to the function "
     "(the only\n  one, or a tuple of them).\n"
     "- *cotangents*: A pytree that matches the structure of the output but contains the\n"
     "  cotangents (usually the gradients of the loss function with respect to the outputs).\n"
     "- *outputs*: The outputs of the function, to avoid recomputing them.\n\n"
     "It returns the same pytree structure as the primals with the computed cotangents.\n"
     "Returns the custom_function itself, so it is used as a decorator."},
    {"jvp", custom_jvp, METH_O,
     "jvp(self, f: Callable)\n\n"
     "Define a custom jvp for the wrapped function.\n\n"
     "The jvp function takes two arguments: *primals* (a pytree of the positional arguments)\n"
     "and *tangents* (a pytree of the same structure with the tangent of each input). It "
     "returns\nthe tangents of the outputs, in the outputs' structure."},
    {"vmap", custom_vmap, METH_O,
     "vmap(self, f: Callable)\n\n"
     "Define a custom vectorization transformation for the wrapped function.\n\n"
     "The vmap function takes two arguments: *inputs* (a pytree of the positional arguments)\n"
     "and *axes* (the same structure with each input's vectorization axis, or ``None`` when "
     "it is\nnot vectorized). It returns the vectorized outputs and a pytree with each "
     "output's\nvectorization axis (``None`` for an output that is not vectorized)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject CustomFn_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core.custom_function",
    .tp_basicsize = sizeof(CustomFn),
    .tp_dealloc = custom_dealloc,
    .tp_call = custom_call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = custom_traverse,
    .tp_clear = custom_clear,
    .tp_descr_get = pylz_bind_method,
    .tp_dictoffset = offsetof(CustomFn, dict),
    .tp_methods = custom_methods,
    .tp_init = custom_init,
    .tp_new = PyType_GenericNew,
    .tp_doc =
        "custom_function(f: Callable)\n\n"
        "Set up a function for custom gradient and vmap definitions.\n\n"
        "This class is meant to be used as a function decorator. Instances are callables that "
        "behave\nidentically to the wrapped function. However, when a function transformation "
        "is used (e.g.\ncomputing gradients using :func:`value_and_grad`) then the functions "
        "defined via\n:meth:`custom_function.vjp`, :meth:`custom_function.jvp` and "
        ":meth:`custom_function.vmap`\nare used instead of the default transformation. All "
        "custom transformations are optional.\n\n"
        "Example::\n\n"
        "    @mx.custom_function\n"
        "    def f(x, y):\n"
        "        return mx.sin(x) * y\n\n"
        "    @f.vjp\n"
        "    def f_vjp(primals, cotangent, output):\n"
        "        x, y = primals\n"
        "        return cotangent * mx.cos(x) * y, cotangent * mx.sin(x)\n\n"
        "Arrays the function captures (not arguments) are constants: no gradient flows to "
        "them.",
};

/* ---- checkpoint ----------------------------------------------------------------------- */

typedef struct {
  PyObject_HEAD PyObject *fun, *dict;
} CheckpointFn;

static PyObject *checkpoint_call(PyObject *self, PyObject *args, PyObject *kwargs) {
  CheckpointFn *cp = (CheckpointFn *)self;
  pylz_release_pending();
  PyObject *flat = pylz_tree_flatten(args, 0), *result = NULL;
  if (!flat) return NULL;
  if (kwargs && pylz_tree_collect(kwargs, flat, 0) < 0) {
    Py_DECREF(flat);
    return NULL;
  }
  pylz_fn *fp;
  lz_closure *f = pylz_fn_closure(cp->fun, PYLZ_OUT_ANY, "[checkpoint]", &fp), *c = NULL;
  if (f) {
    fp->args = Py_NewRef(args);
    fp->kwargs = kwargs ? Py_NewRef(kwargs) : NULL;
    fp->pack_ok = 1; /* the recomputation packs the same way: same inputs */
    if (!(c = lz_checkpoint(f)))
      pylz_raise();
    else
      result = call_closure(c, fp, flat);
  }
  lz_closure_free(c), lz_closure_free(f);
  Py_DECREF(flat);
  return result;
}

static int checkpoint_traverse(PyObject *self, visitproc visit, void *arg) {
  Py_VISIT(((CheckpointFn *)self)->fun);
  Py_VISIT(((CheckpointFn *)self)->dict);
  return 0;
}

static int checkpoint_clear(PyObject *self) {
  Py_CLEAR(((CheckpointFn *)self)->fun);
  Py_CLEAR(((CheckpointFn *)self)->dict);
  return 0;
}

static void checkpoint_dealloc(PyObject *self) {
  PyObject_GC_UnTrack(self);
  checkpoint_clear(self);
  Py_TYPE(self)->tp_free(self);
}

static PyTypeObject CheckpointFn_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core._CheckpointedFunction",
    .tp_basicsize = sizeof(CheckpointFn),
    .tp_dealloc = checkpoint_dealloc,
    .tp_call = checkpoint_call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = checkpoint_traverse,
    .tp_clear = checkpoint_clear,
    .tp_descr_get = pylz_bind_method,
    .tp_dictoffset = offsetof(CheckpointFn, dict),
    .tp_doc = "A function whose intermediate values are recomputed for its gradient.",
};

static PyObject *py_checkpoint(PyObject *self, PyObject *args, PyObject *kwargs) {
  (void)self;
  static char *kwlist[] = {"fun", NULL};
  PyObject *fun;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:checkpoint", kwlist, &fun)) return NULL;
  if (!PyCallable_Check(fun)) {
    PyErr_Format(PyExc_TypeError, "[checkpoint] fun must be callable, got %s", pylz_type_name(fun));
    return NULL;
  }
  CheckpointFn *cp = PyObject_GC_New(CheckpointFn, &CheckpointFn_Type);
  if (!cp) return NULL;
  cp->fun = Py_NewRef(fun), cp->dict = NULL;
  PyObject_GC_Track(cp);
  if (pylz_copy_wraps(&cp->dict, fun) < 0) {
    Py_DECREF(cp);
    return NULL;
  }
  return (PyObject *)cp;
}

static PyMethodDef methods[] = {
    PYOPS_F(
        "checkpoint", py_checkpoint,
        "checkpoint(fun: Callable) -> Callable\n\n"
        "Returns a gradient checkpointed version of ``fun``: its intermediate values are not kept "
        "for\nthe backward pass but recomputed from the inputs when the gradient needs them, "
        "trading\ncompute for memory.\n\n"
        "Args:\n    fun (Callable): A function which takes a variable number of :class:`array` or "
        "trees of\n      :class:`array` and returns a variable number of :class:`array` or trees "
        "of :class:`array`.\n\n"
        "Returns:\n    Callable: A function computing the same values as ``fun``."),
    {NULL, NULL, 0, NULL},
};

int pylz_init_custom(PyObject *m) {
  if (PyType_Ready(&CustomFn_Type) < 0 || PyType_Ready(&CheckpointFn_Type) < 0) return -1;
  if (PyModule_AddObjectRef(m, "custom_function", (PyObject *)&CustomFn_Type) < 0) return -1;
  return PyModule_AddFunctions(m, methods);
}
