/* lazuli.core: the transforms' module part: eval and async_eval here, and the init of the
 * others, one file per concern: closure.c (Python callables as closures, shared),
 * transforms_grad.c (grad, value_and_grad), transforms_vjp.c (vjp, jvp), transforms_vmap.c
 * (vmap), custom.c (custom_function, checkpoint) and compile.c, all built on liblazuli's
 * closures (include/lazuli/transforms.h).
 *
 * Each call of a transformed function flattens its arguments into arrays, wraps the Python
 * function in a closure (pylz_fn) that rebuilds the arguments around the closure's inputs, runs
 * the C transform, and puts the results back into the trees the function used. The C library
 * calls the closure inside scopes of its own; the closure suspends them while Python runs, so
 * arrays Python holds are never owned by a scope. */
#include "xform.h"

/* ---- eval ------------------------------------------------------------------------------ */

static int eval_args(PyObject *args, int async) {
  pylz_release_pending();
  PyObject *leaves = pylz_tree_flatten(args, 0);
  if (!leaves) return -1;
  Py_ssize_t n = PyList_GET_SIZE(leaves);
  lz_array **arr = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *arr);
  if (!arr) {
    Py_DECREF(leaves);
    PyErr_NoMemory();
    return -1;
  }
  for (Py_ssize_t i = 0; i < n; i++) arr[i] = ((PyLzArray *)PyList_GET_ITEM(leaves, i))->a;
  int rc = 0;
  if (!async) {
    rc = pylz_eval_many(arr, (size_t)n); /* GIL released, one evaluation at a time */
  } else {
    /* the worker holds what it computes; `leaves` keeps the arrays alive meanwhile */
    Py_BEGIN_ALLOW_THREADS;
    rc = lz_async_eval_many(arr, (size_t)n);
    Py_END_ALLOW_THREADS;
    if (rc < 0) pylz_raise();
  }
  PyMem_Free(arr);
  Py_DECREF(leaves);
  return rc < 0 ? -1 : 0;
}

static PyObject *py_eval(PyObject *self, PyObject *args) {
  (void)self;
  if (eval_args(args, 0) < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *py_async_eval(PyObject *self, PyObject *args) {
  (void)self;
  if (eval_args(args, 1) < 0) return NULL;
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"eval", py_eval, METH_VARARGS,
     "eval(*args) -> None\n\n"
     "Evaluate an :class:`array` or tree of :class:`array`.\n\n"
     "Args:\n    *args (arrays or trees of arrays): Each argument can be a single array or a "
     "tree of\n      arrays (nested lists, tuples and dicts). Leaves which are not arrays are "
     "ignored.\n\nThe kernels run with the GIL released, so other Python threads go on."},
    {"async_eval", py_async_eval, METH_VARARGS,
     "async_eval(*args) -> None\n\n"
     "Asynchronously evaluate an :class:`array` or tree of :class:`array`: the computation "
     "starts on\na background thread and the call returns at once; reading a result waits for "
     "it.\n\nArgs:\n    *args (arrays or trees of arrays): as for :func:`eval`; leaves which are "
     "not arrays are ignored."},
    {NULL, NULL, 0, NULL},
};

int pylz_init_transforms(PyObject *m) {
  if (PyModule_AddFunctions(m, methods) < 0 || pylz_init_grad(m) < 0 || pylz_init_vjp(m) < 0 ||
      pylz_init_vmap(m) < 0 || pylz_init_custom(m) < 0 || pylz_init_compile(m) < 0)
    return -1;
  return 0;
}
