/* lazuli.core: export_function, import_function and exporter (MLX's names and arguments).
 *
 * Inputs are given as MLX takes them: positional arrays and keyword arrays, or one tuple (or
 * list) of arrays and/or one dict of arrays (export_function(f, (x,), {"y": y}) is
 * export_function(f, x, y=y)). The Python function becomes a closure through pylz_fn
 * (closure.c) with the example arguments as its template; the trace's inputs are the
 * positional array leaves, then the keyword arrays in the order of their sorted names (MLX's),
 * and the file records those names (format version 2). An imported function matches a call's
 * keyword arguments by name, in any order (lz_imported_call_kw), and returns a tuple of
 * arrays. */
#include "xform.h"
#include "ops_impl.h"

#define BAD_INPUTS                                                                               \
  "inputs are positional and keyword arrays, or one tuple of arrays and/or one dict of arrays"

/* MLX's input forms as (positional tuple, keyword dict): new references, or -1 with an
 * exception. Keyword values must be arrays and their keys strings. */
static int split_inputs(const char *who, PyObject *args, PyObject *kwargs, PyObject **pos,
                        PyObject **kw) {
  Py_ssize_t n = PyTuple_GET_SIZE(args);
  bool nokw = !kwargs || PyDict_GET_SIZE(kwargs) == 0;
  PyObject *a0 = n ? PyTuple_GET_ITEM(args, 0) : NULL, *p = args, *k = kwargs;
  if (a0 && !PyLzArray_Check(a0) && nokw && n == 1 && (PyTuple_Check(a0) || PyList_Check(a0)))
    p = a0, k = NULL;
  else if (a0 && nokw && n == 1 && PyDict_Check(a0))
    p = NULL, k = a0;
  else if (a0 && nokw && n == 2 && (PyTuple_Check(a0) || PyList_Check(a0)) &&
           PyDict_Check(PyTuple_GET_ITEM(args, 1)))
    p = a0, k = PyTuple_GET_ITEM(args, 1);
  *pos = p ? PySequence_Tuple(p) : PyTuple_New(0);
  *kw = PyDict_New();
  if (!*pos || !*kw) goto fail;
  PyObject *key, *val;
  Py_ssize_t at = 0;
  while (k && PyDict_Next(k, &at, &key, &val)) {
    if (!PyUnicode_Check(key) || !PyLzArray_Check(val)) {
      PyErr_Format(PyExc_ValueError, "%s " BAD_INPUTS "; keyword %R is %s", who, key,
                   pylz_type_name(val));
      goto fail;
    }
    if (PyDict_SetItem(*kw, key, val) < 0) goto fail;
  }
  return 0;
fail:
  Py_CLEAR(*pos);
  Py_CLEAR(*kw);
  return -1;
}

/* The keyword arrays of kw in the order of their sorted names: a new dict (sorted) and the
 * names' UTF-8 (pointers into the dict's keys; PyMem_Free the array). */
typedef struct kw_args {
  PyObject *dict;
  const char **names;
  lz_array **arrays;
  int n;
} kw_args;

static void kw_args_free(kw_args *k) {
  Py_CLEAR(k->dict);
  PyMem_Free(k->names), PyMem_Free(k->arrays);
  k->names = NULL, k->arrays = NULL;
}

static int sorted_kw(PyObject *kw, kw_args *k) {
  k->dict = NULL, k->names = NULL, k->arrays = NULL, k->n = (int)PyDict_GET_SIZE(kw);
  PyObject *keys = PyDict_Keys(kw);
  if (!keys || PyList_Sort(keys) < 0 || !(k->dict = PyDict_New())) goto fail;
  k->names = PyMem_Malloc((size_t)(k->n ? k->n : 1) * sizeof *k->names);
  k->arrays = PyMem_Malloc((size_t)(k->n ? k->n : 1) * sizeof *k->arrays);
  if (!k->names || !k->arrays) {
    PyErr_NoMemory();
    goto fail;
  }
  for (int i = 0; i < k->n; i++) {
    PyObject *key = PyList_GET_ITEM(keys, i), *val = PyDict_GetItemWithError(kw, key);
    if (!val || PyDict_SetItem(k->dict, key, val) < 0 || !(k->names[i] = PyUnicode_AsUTF8(key)))
      goto fail;
    k->arrays[i] = ((PyLzArray *)val)->a;
  }
  Py_DECREF(keys);
  return 0;
fail:
  Py_XDECREF(keys);
  kw_args_free(k);
  return -1;
}

/* Borrowed handles of the leaves (PyMem_Free the array). */
static lz_array **handles(PyObject *flat) {
  Py_ssize_t n = PyList_GET_SIZE(flat);
  lz_array **v = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *v);
  if (!v) return (lz_array **)PyErr_NoMemory();
  for (Py_ssize_t i = 0; i < n; i++) v[i] = ((PyLzArray *)PyList_GET_ITEM(flat, i))->a;
  return v;
}

static int path_of(PyObject *file, PyObject **bytes) { return PyUnicode_FSConverter(file, bytes); }

/* ---- the exporter ---------------------------------------------------------------------- */

typedef struct {
  PyObject_HEAD lz_exporter *e;
  lz_closure *c;
  pylz_fn *p; /* owned by c */
} Exporter;

static PyTypeObject Exporter_Type;

/* Traces the function on (args, kwargs) into e. 0 or -1 with an exception. */
static int add_trace(Exporter *x, PyObject *args, PyObject *kwargs) {
  if (!x->e) {
    PyErr_SetString(PyExc_RuntimeError, "[export_function] the exporter is closed");
    return -1;
  }
  PyObject *pos, *kw;
  if (split_inputs("[export_function]", args, kwargs, &pos, &kw) < 0) return -1;
  kw_args k;
  int rc = sorted_kw(kw, &k);
  PyObject *flat = rc == 0 ? pylz_tree_flatten(pos, 0) : NULL;
  lz_array **in = flat ? handles(flat) : NULL;
  rc = -1;
  if (in) {
    Py_XSETREF(x->p->args, Py_NewRef(pos));
    Py_XSETREF(x->p->kwargs, k.n ? Py_NewRef(k.dict) : NULL); /* leaves in sorted-name order */
    x->p->flat = NULL, x->p->slots = NULL;
    rc = lz_exporter_add_kw(x->e, in, (int)PyList_GET_SIZE(flat), k.names, k.arrays, k.n);
    if (rc != 0) pylz_xform_raise();
  }
  PyMem_Free(in);
  Py_XDECREF(flat);
  kw_args_free(&k);
  Py_DECREF(pos), Py_DECREF(kw);
  return rc;
}

static int exporter_close_c(Exporter *x) {
  if (!x->e) return 0;
  lz_exporter *e = x->e;
  x->e = NULL;
  return lz_exporter_close(e) == 0 ? 0 : pylz_raise_int();
}

static PyObject *new_exporter(PyObject *file, PyObject *fun, int shapeless) {
  if (!PyCallable_Check(fun)) {
    PyErr_Format(PyExc_TypeError, "[export_function] fun must be callable, got %s",
                 pylz_type_name(fun));
    return NULL;
  }
  PyObject *path = NULL;
  if (!path_of(file, &path)) return NULL;
  Exporter *x = PyObject_New(Exporter, &Exporter_Type);
  if (!x) {
    Py_DECREF(path);
    return NULL;
  }
  x->e = NULL, x->p = NULL;
  x->c = pylz_fn_closure(fun, PYLZ_OUT_ARRAYS, "[export_function]", &x->p);
  lz_export_options o = {.shapeless = shapeless};
  if (x->c && !(x->e = lz_exporter_new(PyBytes_AS_STRING(path), x->c, &o))) pylz_raise();
  Py_DECREF(path);
  if (!x->e) {
    Py_DECREF(x);
    return NULL;
  }
  return (PyObject *)x;
}

static void exporter_dealloc(PyObject *self) {
  Exporter *x = (Exporter *)self;
  if (x->e) { /* never closed: the traces are written now, as MLX's exporter does */
    lz_exporter_close(x->e);
    lz_clear_error();
  }
  lz_closure_free(x->c);
  Py_TYPE(self)->tp_free(self);
}

static PyObject *exporter_call(PyObject *self, PyObject *args, PyObject *kwargs) {
  pylz_release_pending();
  return add_trace((Exporter *)self, args, kwargs) == 0 ? Py_NewRef(Py_None) : NULL;
}

static PyObject *exporter_close(PyObject *self, PyObject *unused) {
  (void)unused;
  return exporter_close_c((Exporter *)self) == 0 ? Py_NewRef(Py_None) : NULL;
}

static PyObject *exporter_enter(PyObject *self, PyObject *unused) {
  (void)unused;
  return Py_NewRef(self);
}

static PyObject *exporter_exit(PyObject *self, PyObject *args) {
  (void)args;
  return exporter_close_c((Exporter *)self) == 0 ? Py_NewRef(Py_False) : NULL;
}

static PyMethodDef exporter_methods[] = {
    {"close", exporter_close, METH_NOARGS, "Writes the file with every trace added."},
    {"__enter__", exporter_enter, METH_NOARGS, NULL},
    {"__exit__", exporter_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Exporter_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core.FunctionExporter",
    .tp_basicsize = sizeof(Exporter),
    .tp_dealloc = exporter_dealloc,
    .tp_call = exporter_call,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = exporter_methods,
    .tp_doc = "Adds a trace of the function for each call's arguments; close() (or the end of a "
              "with block) writes the file.",
};

/* ---- imported functions ------------------------------------------------------------------ */

typedef struct {
  PyObject_HEAD lz_closure *c;
} Imported;

static PyTypeObject Imported_Type;

static PyObject *imported_call(PyObject *self, PyObject *args, PyObject *kwargs) {
  pylz_release_pending();
  PyObject *pos, *kw, *flat = NULL, *res = NULL;
  if (split_inputs("[import_function]", args, kwargs, &pos, &kw) < 0) return NULL;
  kw_args ka = {NULL, NULL, NULL, 0};
  if (sorted_kw(kw, &ka) == 0) flat = pylz_tree_flatten(pos, 1);
  lz_array **in = flat ? handles(flat) : NULL, *out[LZ_MAX_OUTPUTS];
  int k = -2;
  if (in)
    k = lz_imported_call_kw(((Imported *)self)->c, in, (int)PyList_GET_SIZE(flat), ka.names,
                            ka.arrays, ka.n, out);
  kw_args_free(&ka);
  Py_DECREF(pos), Py_DECREF(kw);
  if (k == -1) pylz_raise();
  if (k >= 0 && (res = PyTuple_New(k))) {
    for (int i = 0; i < k; i++) {
      PyObject *w = pylz_wrap(out[i]);
      if (!w) {
        for (int j = i + 1; j < k; j++) lz_free(out[j]);
        Py_CLEAR(res);
        break;
      }
      PyTuple_SET_ITEM(res, i, w);
    }
  } else if (k >= 0) {
    for (int i = 0; i < k; i++) lz_free(out[i]);
  }
  PyMem_Free(in);
  Py_XDECREF(flat);
  return res;
}

static void imported_dealloc(PyObject *self) {
  lz_closure_free(((Imported *)self)->c);
  Py_TYPE(self)->tp_free(self);
}

static PyTypeObject Imported_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core.ImportedFunction",
    .tp_basicsize = sizeof(Imported),
    .tp_dealloc = imported_dealloc,
    .tp_call = imported_call,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A function read by import_function: called with arrays, returns a tuple of arrays.",
};

/* ---- module functions ---------------------------------------------------------------------- */

static PyObject *py_export_function(PyObject *self, PyObject *args, PyObject *kwargs) {
  (void)self;
  pylz_release_pending();
  if (PyTuple_GET_SIZE(args) < 2) {
    PyErr_SetString(PyExc_TypeError, "export_function() takes a file and a function");
    return NULL;
  }
  int shapeless = 0;
  PyObject *kw = kwargs ? PyDict_Copy(kwargs) : NULL, *s;
  if (kwargs && !kw) return NULL;
  if (kw && (s = PyDict_GetItemString(kw, "shapeless"))) {
    if ((shapeless = PyObject_IsTrue(s)) < 0 || PyDict_DelItemString(kw, "shapeless") < 0) {
      Py_DECREF(kw);
      return NULL;
    }
  }
  PyObject *x = new_exporter(PyTuple_GET_ITEM(args, 0), PyTuple_GET_ITEM(args, 1), shapeless);
  PyObject *rest = x ? PyTuple_GetSlice(args, 2, PyTuple_GET_SIZE(args)) : NULL;
  int rc = rest ? add_trace((Exporter *)x, rest, kw) : -1;
  if (rc == 0) rc = exporter_close_c((Exporter *)x);
  else if (x) { /* a failed trace: nothing is written */
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    lz_exporter_close(((Exporter *)x)->e); /* no trace: writes nothing, frees */
    ((Exporter *)x)->e = NULL;
    lz_clear_error();
    PyErr_Restore(type, value, tb);
  }
  Py_XDECREF(rest), Py_XDECREF(kw), Py_XDECREF(x);
  return rc == 0 ? Py_NewRef(Py_None) : NULL;
}

static PyObject *py_exporter(PyObject *self, PyObject *args, PyObject *kwargs) {
  (void)self;
  static char *kwlist[] = {"file", "fun", "shapeless", NULL};
  PyObject *file, *fun;
  int shapeless = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|$p:exporter", kwlist, &file, &fun,
                                   &shapeless))
    return NULL;
  return new_exporter(file, fun, shapeless);
}

static PyObject *py_import_function(PyObject *self, PyObject *args, PyObject *kwargs) {
  (void)self;
  static char *kwlist[] = {"file", NULL};
  PyObject *file, *path;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:import_function", kwlist, &file)) return NULL;
  if (!path_of(file, &path)) return NULL;
  lz_closure *c = lz_import_function(PyBytes_AS_STRING(path));
  Py_DECREF(path);
  if (!c) return pylz_raise();
  Imported *f = PyObject_New(Imported, &Imported_Type);
  if (!f) {
    lz_closure_free(c);
    return NULL;
  }
  f->c = c;
  return (PyObject *)f;
}

static PyMethodDef methods[] = {
    PYOPS_F("export_function", py_export_function,
            "export_function(file: str, fun: Callable, *args, shapeless: bool = False, **kwargs) "
            "-> None"
            "\n--\n\nTraces fun on the example arguments and writes the function (ops, parameters, "
            "captured arrays) to file."),
    PYOPS_F("import_function", py_import_function,
            "import_function(file: str) -> Callable\n--\n\nReads a function written by "
            "export_function; calling it with arrays returns a tuple of arrays."),
    PYOPS_F(
        "exporter", py_exporter,
        "exporter(file: str, fun: Callable, *, shapeless: bool = False) -> FunctionExporter\n--\n\n"
        "An object that adds a trace of fun per call and writes them all to file on close()."),
    {NULL, NULL, 0, NULL},
};

int pylz_init_export(PyObject *m) {
  if (PyType_Ready(&Exporter_Type) < 0 || PyType_Ready(&Imported_Type) < 0) return -1;
  return PyModule_AddFunctions(m, methods);
}
