/* lazuli.core: grad and value_and_grad. Each returns a GradFn, a callable that flattens its
 * arguments into arrays, differentiates the Python function (a pylz_fn closure) with
 * lz_value_and_grad with respect to the leaves of the chosen arguments (argnums, argnames), and
 * puts the gradients back into trees of the arguments' structure. */
#include "xform.h"
#include "ops_impl.h"

#include <stdlib.h>
#include <string.h>

/* ---- grad and value_and_grad --------------------------------------------------------------- */

typedef struct {
  PyObject_HEAD PyObject *fun;
  PyObject *argnames; /* tuple of str */
  PyObject *weakreflist;
  int *argnums;
  int nargnums;
  int with_value;
  PyObject *dict; /* __wrapped__, __name__, __doc__ as functools.wraps sets them */
} GradFn;

static PyTypeObject GradFn_Type;

/* argnums: None, an int or a sequence of ints (sorted, checked); argnames: a str or a sequence
 * of str. */
static int parse_argnums(const char *tag, PyObject *argnums, PyObject *argnames, GradFn *g) {
  PyObject *names = NULL;
  if (PyUnicode_Check(argnames)) {
    names = PyTuple_Pack(1, argnames);
  } else {
    names = PySequence_Tuple(argnames);
    if (!names) {
      PyErr_Format(PyExc_TypeError, "%s argnames must be a str or a list of str", tag);
      return -1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names); i++)
      if (!PyUnicode_Check(PyTuple_GET_ITEM(names, i))) {
        PyErr_Format(PyExc_TypeError, "%s argnames must be a str or a list of str", tag);
        Py_DECREF(names);
        return -1;
      }
  }
  if (!names) return -1;
  g->argnames = names;
  int *nums = NULL, n = 0;
  if (argnums == Py_None) {
    if (PyTuple_GET_SIZE(names) == 0) {
      nums = PyMem_Malloc(sizeof *nums);
      if (!nums) return PyErr_NoMemory(), -1;
      nums[0] = 0, n = 1;
    }
  } else if (PyLong_Check(argnums)) {
    nums = PyMem_Malloc(sizeof *nums);
    if (!nums) return PyErr_NoMemory(), -1;
    if (pylz_as_int(argnums, &nums[0], "argnums") < 0) return PyMem_Free(nums), -1;
    n = 1;
  } else {
    PyObject *seq = PySequence_Fast(argnums, "argnums must be an int or a sequence of ints");
    if (!seq) return -1;
    n = (int)PySequence_Fast_GET_SIZE(seq);
    nums = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *nums);
    if (!nums) return Py_DECREF(seq), PyErr_NoMemory(), -1;
    for (int i = 0; i < n; i++)
      if (pylz_as_int(PySequence_Fast_GET_ITEM(seq, i), &nums[i], "argnums") < 0) {
        Py_DECREF(seq), PyMem_Free(nums);
        return -1;
      }
    Py_DECREF(seq);
  }
  g->argnums = nums, g->nargnums = n;
  if (n == 0 && PyTuple_GET_SIZE(names) == 0) {
    PyErr_Format(PyExc_ValueError, "%s Gradient wrt no argument requested", tag);
    return -1;
  }
  for (int i = 1; i < n; i++) /* insertion sort: few entries */
    for (int j = i; j > 0 && nums[j - 1] > nums[j]; j--) {
      int t = nums[j];
      nums[j] = nums[j - 1], nums[j - 1] = t;
    }
  if (n && nums[0] < 0) {
    PyErr_Format(PyExc_ValueError, "%s Can't compute the gradient of negative argument index %d",
                 tag, nums[0]);
    return -1;
  }
  for (int i = 1; i < n; i++)
    if (nums[i] == nums[i - 1]) {
      PyErr_Format(PyExc_ValueError, "%s Duplicate argument index %d is not allowed.", tag,
                   nums[i]);
      return -1;
    }
  return 0;
}

static PyObject *grad_call(PyObject *self, PyObject *args, PyObject *kwargs) {
  GradFn *g = (GradFn *)self;
  const char *tag = g->with_value ? "[value_and_grad]" : "[grad]";
  pylz_release_pending();
  Py_ssize_t nargs = PyTuple_GET_SIZE(args);
  if (g->nargnums > 0 && g->argnums[g->nargnums - 1] >= nargs) {
    PyErr_Format(PyExc_ValueError,
                 "%s Can't compute the gradient of argument index %d because "
                 "the function is called with only %zd positional arguments.",
                 tag, g->argnums[g->nargnums - 1], nargs);
    return NULL;
  }
  Py_ssize_t nnames = PyTuple_GET_SIZE(g->argnames);
  for (Py_ssize_t i = 0; i < nnames; i++) {
    PyObject *k = PyTuple_GET_ITEM(g->argnames, i);
    int has = kwargs ? PyDict_Contains(kwargs, k) : 0;
    if (has < 0) return NULL;
    if (!has) {
      PyObject *keys = kwargs ? PyDict_Keys(kwargs) : PyList_New(0);
      if (keys)
        PyErr_Format(PyExc_ValueError,
                     "%s Can't compute the gradient of keyword argument '%U' "
                     "because the function is called with the following keyword arguments %R",
                     tag, k, keys);
      Py_XDECREF(keys);
      return NULL;
    }
  }
  /* The array leaves of the differentiated arguments are the closure's inputs; the other
   * arguments are passed as they are (an nn.Module stays one). */
  Py_ssize_t nitems = nargs + (kwargs ? PyDict_GET_SIZE(kwargs) : 0);
  PyObject *flat = PyList_New(0), *result = NULL;
  Py_ssize_t nslots = 0;
  char *keep = PyMem_RawCalloc((size_t)nitems + 1, 1);
  lz_closure *c = NULL;
  lz_array **prim = NULL, **vjps = NULL;
  if (!flat || !keep) {
    if (!PyErr_Occurred()) PyErr_NoMemory();
    PyMem_RawFree(keep);
    goto fail;
  }
  int j = 0;
  for (Py_ssize_t i = 0; i < nargs + (kwargs ? PyDict_GET_SIZE(kwargs) : 0); i++) {
    PyObject *item, *key = NULL;
    int needs;
    if (i < nargs) {
      item = PyTuple_GET_ITEM(args, i);
      needs = j < g->nargnums && g->argnums[j] == i;
      if (needs) j++;
    } else {
      Py_ssize_t p = 0, want = i - nargs, at = 0;
      PyObject *v;
      item = NULL;
      while (PyDict_Next(kwargs, &p, &key, &v))
        if (at++ == want) {
          item = v;
          break;
        }
      needs = 0;
      for (Py_ssize_t q = 0; q < nnames && !needs; q++) {
        int eq = PyUnicode_Compare(key, PyTuple_GET_ITEM(g->argnames, q)) == 0;
        needs = eq;
      }
    }
    keep[i] = !needs;
    if (needs && pylz_tree_collect(item, flat, 1) < 0) {
      PyMem_RawFree(keep);
      goto fail;
    }
  }
  nslots = PyList_GET_SIZE(flat);
  pylz_fn *p;
  if (!(c = pylz_fn_closure(g->fun, g->with_value ? PYLZ_OUT_LOSS : PYLZ_OUT_SCALAR, tag, &p))) {
    PyMem_RawFree(keep);
    goto fail;
  }
  p->args = Py_NewRef(args);
  p->kwargs = kwargs ? Py_NewRef(kwargs) : NULL;
  p->keep = keep;
  prim = PyMem_Malloc((size_t)(nslots + 1) * sizeof *prim);
  vjps = PyMem_Calloc((size_t)nslots + 1, sizeof *vjps);
  if (!prim || !vjps) {
    PyErr_NoMemory();
    goto fail;
  }
  for (Py_ssize_t i = 0; i < nslots; i++) prim[i] = ((PyLzArray *)PyList_GET_ITEM(flat, i))->a;
  /* A weak 1.0 seeds the loss's cotangent in the loss's own dtype. */
  lz_array *seed = lz_float(1.0), *loss = NULL;
  int rc = seed ? lz_vjp(c, prim, (int)nslots, &seed, 1, &loss, vjps) : -1;
  lz_free(seed);
  if (rc < 0) {
    pylz_xform_raise();
    goto fail;
  }
  lz_free(loss); /* the same array as the loss inside p->result */
  PyObject *grads = PyList_New(nslots);
  if (!grads) goto fail_vjps;
  for (Py_ssize_t i = 0; i < nslots; i++) {
    PyObject *w = pylz_wrap(vjps[i]);
    vjps[i] = NULL;
    if (!w) {
      Py_DECREF(grads);
      goto fail_vjps;
    }
    PyList_SET_ITEM(grads, i, w);
  }
  /* Put the gradients in the shape of their arguments. */
  PyObject *pos_grads = NULL, *res_grads = NULL;
  Py_ssize_t at = 0;
  if (g->nargnums == 1) {
    pos_grads = pylz_tree_unflatten(PyTuple_GET_ITEM(args, g->argnums[0]), grads, &at);
  } else if (g->nargnums > 1) {
    pos_grads = PyTuple_New(g->nargnums);
    for (int i = 0; pos_grads && i < g->nargnums; i++) {
      PyObject *t = pylz_tree_unflatten(PyTuple_GET_ITEM(args, g->argnums[i]), grads, &at);
      if (!t)
        Py_CLEAR(pos_grads);
      else
        PyTuple_SET_ITEM(pos_grads, i, t);
    }
  } else {
    pos_grads = Py_NewRef(Py_None);
  }
  if (pos_grads && nnames == 0) {
    res_grads = Py_NewRef(pos_grads);
  } else if (pos_grads) {
    PyObject *kw = PyDict_New(), *k, *v;
    Py_ssize_t p2 = 0;
    while (kw && PyDict_Next(kwargs, &p2, &k, &v)) {
      int needs = 0;
      for (Py_ssize_t q = 0; q < nnames && !needs; q++)
        needs = PyUnicode_Compare(k, PyTuple_GET_ITEM(g->argnames, q)) == 0;
      if (!needs) continue;
      PyObject *t = pylz_tree_unflatten(v, grads, &at);
      if (!t || PyDict_SetItem(kw, k, t) < 0) Py_CLEAR(kw);
      Py_XDECREF(t);
    }
    if (kw) res_grads = PyTuple_Pack(2, pos_grads, kw);
    Py_XDECREF(kw);
  }
  Py_XDECREF(pos_grads);
  Py_DECREF(grads);
  if (!res_grads) goto fail;
  if (g->with_value) {
    result = PyTuple_Pack(2, p->result, res_grads);
    Py_DECREF(res_grads);
  } else {
    result = res_grads;
  }
  goto fail; /* shared clean-up */
fail_vjps:
  for (Py_ssize_t i = 0; i < nslots; i++) lz_free(vjps[i]);
fail:
  lz_closure_free(c);
  PyMem_Free(prim), PyMem_Free(vjps);
  Py_XDECREF(flat);
  return result;
}

static int grad_traverse(PyObject *self, visitproc visit, void *arg) {
  GradFn *g = (GradFn *)self;
  Py_VISIT(g->fun);
  Py_VISIT(g->dict);
  return 0;
}

static int grad_clear(PyObject *self) {
  GradFn *g = (GradFn *)self;
  Py_CLEAR(g->fun);
  Py_CLEAR(g->dict);
  return 0;
}

static void grad_dealloc(PyObject *self) {
  GradFn *g = (GradFn *)self;
  PyObject_GC_UnTrack(self);
  if (g->weakreflist) PyObject_ClearWeakRefs(self);
  grad_clear(self);
  Py_CLEAR(g->argnames); /* strings only: no cycle, so not part of clear/traverse */
  PyMem_Free(g->argnums);
  Py_TYPE(self)->tp_free(self);
}

static PyTypeObject GradFn_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core._TransformedFunction",
    .tp_basicsize = sizeof(GradFn),
    .tp_dealloc = grad_dealloc,
    .tp_call = grad_call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = grad_traverse,
    .tp_clear = grad_clear,
    .tp_descr_get = pylz_bind_method,
    .tp_weaklistoffset = offsetof(GradFn, weakreflist),
    .tp_dictoffset = offsetof(GradFn, dict),
    .tp_doc = "A function transformed by grad or value_and_grad.",
};

static PyObject *make_grad(PyObject *args, PyObject *kwargs, int with_value) {
  static char *kwlist[] = {"fun", "argnums", "argnames", NULL};
  PyObject *fun, *argnums = Py_None, *argnames = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, with_value ? "O|OO:value_and_grad" : "O|OO:grad",
                                   kwlist, &fun, &argnums, &argnames))
    return NULL;
  if (!PyCallable_Check(fun)) {
    PyErr_Format(PyExc_TypeError, "%s fun must be callable, got %s",
                 with_value ? "[value_and_grad]" : "[grad]", pylz_type_name(fun));
    return NULL;
  }
  GradFn *g = PyObject_GC_New(GradFn, &GradFn_Type);
  if (!g) return NULL;
  g->fun = Py_NewRef(fun);
  g->argnames = NULL, g->argnums = NULL, g->nargnums = 0, g->dict = NULL, g->weakreflist = NULL;
  g->with_value = with_value;
  PyObject_GC_Track(g);
  PyObject *empty = NULL;
  if (!argnames) argnames = empty = PyTuple_New(0);
  int rc = argnames
               ? parse_argnums(with_value ? "[value_and_grad]" : "[grad]", argnums, argnames, g)
               : -1;
  Py_XDECREF(empty);
  if (rc < 0 || pylz_copy_wraps(&g->dict, fun) < 0) {
    Py_DECREF(g);
    return NULL;
  }
  return (PyObject *)g;
}

static PyObject *py_grad(PyObject *self, PyObject *args, PyObject *kwargs) {
  (void)self;
  return make_grad(args, kwargs, 0);
}

static PyObject *py_value_and_grad(PyObject *self, PyObject *args, PyObject *kwargs) {
  (void)self;
  return make_grad(args, kwargs, 1);
}

static PyMethodDef methods[] = {
    PYOPS_F(
        "grad", py_grad,
        "grad(fun: Callable, argnums: Optional[Union[int, Sequence[int]]] = None, argnames: "
        "Union[str, Sequence[str]] = []) -> Callable\n\n"
        "Returns a function which computes the gradient of ``fun``.\n\n"
        "Args:\n    fun (Callable): A function which takes a variable number of :class:`array` or "
        "trees\n      of :class:`array` and returns a scalar output :class:`array`.\n"
        "    argnums (int or list(int), optional): Specify the index (or indices) of the "
        "positional\n      arguments of ``fun`` to compute the gradient with respect to. If "
        "neither "
        "``argnums``\n      nor ``argnames`` are provided ``argnums`` defaults to ``0``.\n"
        "    argnames (str or list(str), optional): Specify keyword arguments of ``fun`` to "
        "compute\n      gradients with respect to. Defaults to [].\n\n"
        "Returns:\n    Callable: A function which has the same input arguments as ``fun`` and "
        "returns the\n    gradient(s): one tree per argnum (a tuple for several), and with "
        "``argnames`` a pair\n    (positional gradients, dict of keyword gradients)."),
    PYOPS_F(
        "value_and_grad", py_value_and_grad,
        "value_and_grad(fun: Callable, argnums: Optional[Union[int, Sequence[int]]] = None, "
        "argnames: Union[str, Sequence[str]] = []) -> Callable\n\n"
        "Returns a function which computes the value and gradient of ``fun``.\n\n"
        "The function passed to :func:`value_and_grad` should return either a scalar loss or a "
        "tuple\nin which the first element is a scalar loss and the remaining elements can be "
        "anything.\n\n"
        "Args:\n    fun (Callable): A function which takes a variable number of :class:`array` or "
        "trees\n      of :class:`array` and returns a scalar output :class:`array` or a tuple the "
        "first\n      element of which should be a scalar :class:`array`.\n"
        "    argnums (int or list(int), optional): the positional arguments to differentiate "
        "(default 0).\n"
        "    argnames (str or list(str), optional): the keyword arguments to differentiate.\n\n"
        "Returns:\n    Callable: A function which returns a tuple where the first element is the "
        "output of\n    ``fun`` and the second element is the gradients w.r.t. the loss."),
    {NULL, NULL, 0, NULL},
};

int pylz_init_grad(PyObject *m) {
  if (PyType_Ready(&GradFn_Type) < 0) return -1;
  return PyModule_AddFunctions(m, methods);
}
