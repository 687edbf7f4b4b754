/* lazuli.core: compile (with captured state, shapeless), disable_compile/enable_compile and
 * export_to_dot, over lz_compile_with_state (include/lazuli/compile.h).
 *
 * A compiled function keeps one compiled closure per argument structure: the trees' shapes
 * and their non-array leaves (ints, floats, strings) form the key, as MLX's compile keys on
 * them; liblazuli's cache then keys each closure's tapes on the arrays' shapes and dtypes.
 * Captured state goes through two lz_dicts keyed by leaf position: before a call the arrays of
 * `inputs` are put in one, the function reads them back (as traced values) into the trees, and
 * the arrays it leaves in `outputs` are written to the other, whose values after the call go
 * back into the `outputs` trees. */
#include "xform.h"
#include "ops_impl.h"

#include <stdio.h>
#include <stdlib.h>

static PyObject *array_mark; /* stands for an array in a structure key */

typedef struct {
  PyObject_HEAD PyObject *fun, *inputs, *outputs, *cache, *dict;
  lz_dict *state_in, *state_out;
  int shapeless;
} CompiledFn;

typedef struct entry {
  lz_closure *compiled, *f;
  pylz_fn *fp;
} entry;

static void entry_free(PyObject *capsule) {
  entry *e = PyCapsule_GetPointer(capsule, "lazuli.compiled");
  if (!e) return;
  lz_closure_free(e->compiled), lz_closure_free(e->f);
  PyMem_Free(e);
}

/* ---- the structure key ------------------------------------------------------------------ */

static PyObject *key_of(PyObject *o) {
  if (PyLzArray_Check(o)) return Py_NewRef(array_mark);
  if (PyList_Check(o) || PyTuple_Check(o) || PyDict_Check(o)) {
    if (Py_EnterRecursiveCall(" in a pytree")) return NULL;
    PyObject *l = PyList_New(0), *r = NULL;
    int ok = l && PyList_Append(l, PyList_Check(o)    ? (PyObject *)&PyList_Type
                                   : PyTuple_Check(o) ? (PyObject *)&PyTuple_Type
                                                      : (PyObject *)&PyDict_Type) == 0;
    if (ok && PyDict_Check(o)) {
      PyObject *k, *v;
      Py_ssize_t p = 0;
      while (ok && PyDict_Next(o, &p, &k, &v)) {
        PyObject *kv = key_of(v);
        ok = kv && PyList_Append(l, k) == 0 && PyList_Append(l, kv) == 0;
        Py_XDECREF(kv);
      }
    } else {
      for (Py_ssize_t i = 0; ok && i < PySequence_Fast_GET_SIZE(o); i++) {
        PyObject *kv = key_of(PySequence_Fast_GET_ITEM(o, i));
        ok = kv && PyList_Append(l, kv) == 0;
        Py_XDECREF(kv);
      }
    }
    Py_LeaveRecursiveCall();
    if (ok) r = PyList_AsTuple(l);
    Py_XDECREF(l);
    return r;
  }
  if (PyLong_Check(o) || PyFloat_Check(o) || PyUnicode_Check(o))
    return PyTuple_Pack(2, (PyObject *)Py_TYPE(o), o); /* 1, 1.0 and True differ */
  PyErr_Format(PyExc_ValueError,
               "[compile] Function arguments must be trees of arrays or "
               "constants (floats, ints, or strings), but received type %s.",
               pylz_type_name(o));
  return NULL;
}

/* ---- state -------------------------------------------------------------------------------- */

/* Puts the arrays of `tree` in d under "0", "1", ... (and removes any other key). */
static int dict_load(lz_dict *d, PyObject *tree, Py_ssize_t *count) {
  PyObject *leaves = pylz_tree_flatten(tree, 0);
  if (!leaves) return -1;
  Py_ssize_t n = PyList_GET_SIZE(leaves);
  *count = n;
  for (size_t i = lz_dict_size(d); i-- > 0;) {
    const char *k = lz_dict_key(d, i);
    char *end;
    long v = strtol(k, &end, 10);
    if (*end || v < 0 || v >= n) lz_dict_remove(d, k);
  }
  int rc = 0;
  for (Py_ssize_t i = 0; rc == 0 && i < n; i++) {
    char key[32];
    snprintf(key, sizeof key, "%zd", i);
    if (lz_dict_set(d, key, ((PyLzArray *)PyList_GET_ITEM(leaves, i))->a) < 0)
      rc = pylz_raise_int();
  }
  Py_DECREF(leaves);
  return rc;
}

/* Empties d (last first: removing shifts the later entries). */
static void dict_clear(lz_dict *d) {
  for (size_t i = d ? lz_dict_size(d) : 0; i-- > 0;) lz_dict_remove(d, lz_dict_key(d, i));
}

/* Writes the values compile left in state_out back into the `outputs` trees. */
static int state_store(CompiledFn *c) {
  PyObject *leaves = pylz_tree_flatten(c->outputs, 0);
  if (!leaves) return -1;
  int rc = 0;
  PyObject *news = PyList_New(0);
  if (!news) rc = -1;
  for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(leaves); i++) {
    char key[32];
    snprintf(key, sizeof key, "%zd", i);
    lz_array *a = lz_dict_get(c->state_out, key);
    PyObject *w = a ? pylz_wrap(a) : Py_NewRef(PyList_GET_ITEM(leaves, i));
    if (!w || PyList_Append(news, w) < 0) rc = -1;
    Py_XDECREF(w);
  }
  Py_ssize_t pos = 0;
  if (rc == 0) rc = pylz_tree_fill(c->outputs, news, &pos);
  Py_XDECREF(news);
  Py_DECREF(leaves);
  return rc;
}

/* ---- calls ------------------------------------------------------------------------------ */

static entry *entry_for(CompiledFn *c, PyObject *key) {
  PyObject *cap = PyDict_GetItemWithError(c->cache, key);
  if (cap) return PyCapsule_GetPointer(cap, "lazuli.compiled");
  if (PyErr_Occurred()) return NULL;
  entry *e = PyMem_Calloc(1, sizeof *e);
  if (!e) return (entry *)PyErr_NoMemory();
  if (!(e->f = pylz_fn_closure(c->fun, PYLZ_OUT_ANY, "[compile]", &e->fp))) {
    PyMem_Free(e);
    return NULL;
  }
  e->fp->state_in = c->state_in, e->fp->state_out = c->state_out;
  e->fp->cap_in = c->inputs != Py_None ? Py_NewRef(c->inputs) : NULL;
  e->fp->cap_out = c->outputs != Py_None ? Py_NewRef(c->outputs) : NULL;
  /* many outputs are packed, with a layout per input signature (not when shapeless: one trace
   * serves many shapes) */
  e->fp->pack_ok = !c->shapeless;
  if (e->fp->pack_ok && !(e->fp->layouts = PyDict_New())) {
    lz_closure_free(e->f);
    PyMem_Free(e);
    return NULL;
  }
  e->compiled = lz_compile_with_state(e->f, c->shapeless ? LZ_COMPILE_SHAPELESS : 0, c->state_in,
                                      c->state_out);
  cap = e->compiled ? PyCapsule_New(e, "lazuli.compiled", entry_free) : NULL;
  if (!cap) {
    if (!e->compiled) pylz_raise();
    lz_closure_free(e->compiled), lz_closure_free(e->f);
    PyMem_Free(e);
    return NULL;
  }
  int rc = PyDict_SetItem(c->cache, key, cap);
  Py_DECREF(cap); /* the cache holds it */
  return rc < 0 ? NULL : e;
}

static PyObject *compiled_call(PyObject *self, PyObject *args, PyObject *kwargs) {
  CompiledFn *c = (CompiledFn *)self;
  pylz_release_pending();
  PyObject *ka = key_of(args), *kk = ka && kwargs ? key_of(kwargs) : NULL, *key = NULL;
  if (!ka || (kwargs && !kk)) {
    Py_XDECREF(ka);
    return NULL;
  }
  key = PyTuple_Pack(2, ka, kk ? kk : Py_None);
  Py_DECREF(ka), Py_XDECREF(kk);
  if (!key) return NULL;
  entry *e = entry_for(c, key);
  Py_DECREF(key);
  if (!e) return NULL;
  Py_XSETREF(e->fp->args, Py_NewRef(args));
  Py_XSETREF(e->fp->kwargs, kwargs ? Py_NewRef(kwargs) : NULL);
  e->fp->flat = NULL, e->fp->slots = NULL;
  PyObject *flat = pylz_tree_flatten(args, 0), *result = NULL, *outs = NULL;
  lz_array **in = NULL, *res[LZ_MAX_OUTPUTS];
  if (!flat || (kwargs && pylz_tree_collect(kwargs, flat, 0) < 0)) goto done;
  if (c->state_in && dict_load(c->state_in, c->inputs, &e->fp->n_state_in) < 0) goto done;
  Py_ssize_t n = PyList_GET_SIZE(flat);
  if (!(in = PyMem_Malloc((size_t)(n + 1) * sizeof *in))) {
    PyErr_NoMemory();
    goto done;
  }
  for (Py_ssize_t i = 0; i < n; i++) in[i] = ((PyLzArray *)PyList_GET_ITEM(flat, i))->a;
  int k = lz_closure_call(e->compiled, in, (int)n, res);
  if (k < 0) {
    pylz_xform_raise();
    goto done;
  }
  PyObject *layout = NULL;
  if (e->fp->layouts && PyDict_GET_SIZE(e->fp->layouts)) {
    PyObject *sig = pylz_signature(in, (int)n, c->state_in);
    layout = sig ? PyDict_GetItemWithError(e->fp->layouts, sig) : NULL;
    Py_XDECREF(sig);
    if (!layout && PyErr_Occurred()) {
      for (int j = 0; j < k; j++) lz_free(res[j]);
      goto done;
    }
  }
  if (layout) {
    outs = pylz_unpack(layout, res, k, 0);
    for (int j = 0; j < k; j++) lz_free(res[j]);
  } else {
    outs = PyList_New(k);
    for (int j = 0; j < k; j++) {
      if (!outs) {
        lz_free(res[j]);
        continue;
      }
      PyObject *w = pylz_wrap(res[j]);
      if (!w)
        Py_CLEAR(outs);
      else
        PyList_SET_ITEM(outs, j, w);
    }
  }
  if (!outs) goto done;
  if (c->state_out && state_store(c) < 0) goto done;
  if (!e->fp->result) {
    PyErr_SetString(PyExc_RuntimeError, "[compile] the function's output structure is unknown");
    goto done;
  }
  Py_ssize_t pos = 0;
  result = pylz_tree_unflatten(e->fp->result, outs, &pos);
done:
  /* the dicts hold the state only during the call: the old parameters, say, must not stay
   * alive until the next one */
  dict_clear(c->state_in), dict_clear(c->state_out);
  PyMem_Free(in);
  Py_XDECREF(flat), Py_XDECREF(outs);
  return result;
}

static int compiled_traverse(PyObject *self, visitproc visit, void *arg) {
  CompiledFn *c = (CompiledFn *)self;
  Py_VISIT(c->fun);
  Py_VISIT(c->inputs);
  Py_VISIT(c->outputs);
  Py_VISIT(c->dict);
  return 0;
}

static int compiled_clear(PyObject *self) {
  CompiledFn *c = (CompiledFn *)self;
  Py_CLEAR(c->cache); /* the closures go first: they use the dicts */
  Py_CLEAR(c->fun);
  Py_CLEAR(c->inputs);
  Py_CLEAR(c->outputs);
  Py_CLEAR(c->dict);
  return 0;
}

static void compiled_dealloc(PyObject *self) {
  CompiledFn *c = (CompiledFn *)self;
  PyObject_GC_UnTrack(self);
  compiled_clear(self);
  lz_dict_free(c->state_in), lz_dict_free(c->state_out);
  Py_TYPE(self)->tp_free(self);
}

static PyTypeObject CompiledFn_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core._CompiledFunction",
    .tp_basicsize = sizeof(CompiledFn),
    .tp_dealloc = compiled_dealloc,
    .tp_call = compiled_call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = compiled_traverse,
    .tp_clear = compiled_clear,
    .tp_descr_get = pylz_bind_method,
    .tp_dictoffset = offsetof(CompiledFn, dict),
    .tp_doc = "A function compiled by compile.",
};

static PyObject *py_compile(PyObject *self, PyObject *args, PyObject *kwargs) {
  (void)self;
  static char *kwlist[] = {"fun", "inputs", "outputs", "shapeless", NULL};
  PyObject *fun, *inputs = Py_None, *outputs = Py_None;
  int shapeless = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OOp:compile", kwlist, &fun, &inputs, &outputs,
                                   &shapeless))
    return NULL;
  if (!PyCallable_Check(fun)) {
    PyErr_Format(PyExc_TypeError, "[compile] fun must be callable, got %s", pylz_type_name(fun));
    return NULL;
  }
  CompiledFn *c = PyObject_GC_New(CompiledFn, &CompiledFn_Type);
  if (!c) return NULL;
  c->fun = Py_NewRef(fun), c->inputs = Py_NewRef(inputs), c->outputs = Py_NewRef(outputs);
  c->cache = PyDict_New(), c->dict = NULL, c->shapeless = shapeless;
  c->state_in = inputs != Py_None ? lz_dict_new() : NULL;
  c->state_out = outputs != Py_None ? lz_dict_new() : NULL;
  PyObject_GC_Track(c);
  if (!c->cache || (inputs != Py_None && !c->state_in) || (outputs != Py_None && !c->state_out)) {
    Py_DECREF(c);
    return PyErr_NoMemory();
  }
  if (pylz_copy_wraps(&c->dict, fun) < 0) {
    Py_DECREF(c);
    return NULL;
  }
  return (PyObject *)c;
}

static PyObject *py_disable_compile(PyObject *self, PyObject *unused) {
  (void)self, (void)unused;
  lz_disable_compile();
  Py_RETURN_NONE;
}

static PyObject *py_enable_compile(PyObject *self, PyObject *unused) {
  (void)self, (void)unused;
  lz_enable_compile();
  Py_RETURN_NONE;
}

/* ---- export_to_dot ----------------------------------------------------------------------- */

static PyObject *py_export_to_dot(PyObject *self, PyObject *args, PyObject *kwargs) {
  (void)self;
  if (PyTuple_GET_SIZE(args) < 1) {
    PyErr_SetString(PyExc_TypeError, "export_to_dot() missing required argument 'file'");
    return NULL;
  }
  PyObject *file = PyTuple_GET_ITEM(args, 0);
  int is_path = PyUnicode_Check(file) || PyObject_HasAttrString(file, "__fspath__");
  if (!is_path && !PyObject_HasAttrString(file, "write")) {
    PyErr_Format(PyExc_TypeError,
                 "[export_to_dot] file must be a path or an object with a "
                 "write method, got %s",
                 pylz_type_name(file));
    return NULL;
  }
  PyObject *rest = PyTuple_GetSlice(args, 1, PY_SSIZE_T_MAX);
  PyObject *leaves = rest ? pylz_tree_flatten(rest, 0) : NULL, *result = NULL;
  Py_XDECREF(rest);
  if (!leaves || (kwargs && pylz_tree_collect(kwargs, leaves, 0) < 0)) {
    Py_XDECREF(leaves);
    return NULL;
  }
  Py_ssize_t n = PyList_GET_SIZE(leaves);
  lz_array **arr = PyMem_Malloc((size_t)(n + 1) * sizeof *arr);
  char *text = NULL;
  size_t len = 0;
  FILE *f = arr ? open_memstream(&text, &len) : NULL;
  if (!f) {
    PyErr_NoMemory();
    goto done;
  }
  for (Py_ssize_t i = 0; i < n; i++) arr[i] = ((PyLzArray *)PyList_GET_ITEM(leaves, i))->a;
  int rc = lz_export_to_dot(f, arr, (size_t)n);
  fclose(f);
  if (rc < 0) {
    pylz_raise();
    goto done;
  }
  PyObject *s = PyUnicode_DecodeUTF8(text ? text : "", (Py_ssize_t)len, "replace");
  if (!s) goto done;
  PyObject *r;
  if (is_path) {
    PyObject *io = PyImport_ImportModule("io");
    PyObject *fh = io ? PyObject_CallMethod(io, "open", "Os", file, "w") : NULL;
    r = fh ? PyObject_CallMethod(fh, "write", "O", s) : NULL;
    PyObject *cl = fh ? PyObject_CallMethod(fh, "close", NULL) : NULL;
    if (r && !cl) Py_CLEAR(r);
    Py_XDECREF(cl), Py_XDECREF(fh), Py_XDECREF(io);
  } else {
    r = PyObject_CallMethod(file, "write", "O", s);
  }
  Py_DECREF(s);
  if (r) {
    Py_DECREF(r);
    result = Py_NewRef(Py_None);
  }
done:
  free(text);
  PyMem_Free(arr);
  Py_DECREF(leaves);
  return result;
}

static PyMethodDef methods[] = {
    PYOPS_F(
        "compile", py_compile,
        "compile(fun: Callable, inputs: Optional[object] = None, outputs: Optional[object] = None, "
        "shapeless: bool = False) -> Callable\n\n"
        "Returns a compiled function which produces the same output as ``fun``.\n\n"
        "The function is traced once per structure of its arguments (and non-array arguments, "
        "which\nmust be ints, floats or strings) and per input shapes and dtypes; its graph is "
        "simplified and\nfused, and later calls replay it.\n\n"
        "Args:\n    fun (Callable): A function which takes a variable number of :class:`array` or "
        "trees of\n      :class:`array` and returns a variable number of :class:`array` or trees "
        "of :class:`array`.\n"
        "    inputs (list or dict, optional): These inputs will be captured during the function\n"
        "      compilation along with the inputs to ``fun``: arbitrarily nested lists, dicts or "
        "arrays\n      (e.g. ``[model.state, optimizer.state]``). Leaves that are not arrays are "
        "ignored.\n"
        "    outputs (list or dict, optional): These outputs will be captured and updated in a\n"
        "      compiled function, with the same kind of trees. Default: ``None``\n"
        "    shapeless (bool, optional): A function compiled with ``shapeless`` enabled is not\n"
        "      recompiled when the input shapes change (same number of dimensions and dtypes).\n"
        "      Default: ``False``\n\n"
        "Returns:\n    Callable: A compiled function which has the same input arguments as ``fun`` "
        "and returns\n    the same output(s)."),
    {"disable_compile", py_disable_compile, METH_NOARGS,
     "disable_compile() -> None\n\n"
     "Globally disable compilation: compiled functions call the original function. Setting "
     "the\nenvironment variable ``MLX_DISABLE_COMPILE`` also disables compilation."},
    {"enable_compile", py_enable_compile, METH_NOARGS,
     "enable_compile() -> None\n\n"
     "Globally enable compilation. This overrides the environment variable "
     "``MLX_DISABLE_COMPILE``."},
    PYOPS_F("export_to_dot", py_export_to_dot,
            "export_to_dot(file: object, *args, **kwargs) -> None\n\n"
            "Write the computation graph of the given arrays (trees of arrays) as Graphviz DOT.\n\n"
            "Nothing is evaluated; evaluated arrays appear as leaves, and fused nodes list the ops "
            "they run.\n\n"
            "Args:\n    file (str or file): A path, or an object with a ``write`` method taking a "
            "str.\n"
            "    *args, **kwargs: The arrays or trees of arrays whose graph is written."),
    {NULL, NULL, 0, NULL},
};

int pylz_init_compile(PyObject *m) {
  if (PyType_Ready(&CompiledFn_Type) < 0) return -1;
  if (!array_mark && !(array_mark = PyObject_CallNoArgs((PyObject *)&PyBaseObject_Type))) return -1;
  const char *env = getenv("MLX_DISABLE_COMPILE");
  if (env && *env && *env != '0') lz_disable_compile();
  return PyModule_AddFunctions(m, methods);
}
