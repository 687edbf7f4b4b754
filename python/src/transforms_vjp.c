/* lazuli.core: vjp and jvp of a Python function of arrays, over lz_vjp and lz_jvp. */
#include "xform.h"
#include "ops_impl.h"

#include <stdlib.h>
#include <string.h>

/* ---- vjp and jvp ----------------------------------------------------------------------- */

/* A list of arrays from a list/tuple argument (MLX: list[array]). */
static PyObject *array_list(PyObject *o, const char *tag, const char *what) {
  PyObject *seq = PyList_Check(o) || PyTuple_Check(o) ? PySequence_List(o) : NULL;
  if (!seq) {
    if (!PyErr_Occurred())
      PyErr_Format(PyExc_TypeError, "%s %s must be a list of arrays, got %s", tag, what,
                   pylz_type_name(o));
    return NULL;
  }
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(seq); i++) {
    PyObject *x = PyList_GET_ITEM(seq, i);
    if (PyLzArray_Check(x)) continue;
    lz_array *a = pylz_to_array(x);
    PyObject *w = a ? pylz_wrap(a) : NULL;
    if (!w) {
      PyErr_Clear();
      PyErr_Format(PyExc_TypeError, "%s %s must be a list of arrays; item %zd is %s", tag, what, i,
                   pylz_type_name(x));
      Py_DECREF(seq);
      return NULL;
    }
    PyList_SetItem(seq, i, w);
  }
  return seq;
}

static PyObject *vjp_jvp(PyObject *args, PyObject *kwargs, int forward) {
  static char *kwlist_v[] = {"fun", "primals", "cotangents", NULL};
  static char *kwlist_j[] = {"fun", "primals", "tangents", NULL};
  const char *tag = forward ? "[jvp]" : "[vjp]";
  PyObject *fun, *po, *co;
  pylz_release_pending();
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, forward ? "OOO:jvp" : "OOO:vjp",
                                   forward ? kwlist_j : kwlist_v, &fun, &po, &co))
    return NULL;
  if (!PyCallable_Check(fun)) {
    PyErr_Format(PyExc_TypeError, "%s fun must be callable, got %s", tag, pylz_type_name(fun));
    return NULL;
  }
  PyObject *prim = array_list(po, tag, "primals");
  PyObject *cot = prim ? array_list(co, tag, forward ? "tangents" : "cotangents") : NULL;
  PyObject *result = NULL;
  lz_array **pv = NULL, **cv = NULL, *outs[LZ_MAX_OUTPUTS], **res = NULL;
  lz_closure *c = NULL;
  pylz_fn *p;
  if (!cot) goto done;
  Py_ssize_t n = PyList_GET_SIZE(prim), m = PyList_GET_SIZE(cot);
  if (forward && m != n) {
    PyErr_Format(PyExc_ValueError,
                 "[jvp] Number of tangents (%zd) does not match the number of "
                 "primals (%zd).",
                 m, n);
    goto done;
  }
  if (!(pv = pylz_c_arrays(prim)) || !(cv = pylz_c_arrays(cot))) goto done;
  if (!(c = pylz_fn_closure(fun, PYLZ_OUT_ARRAYS, tag, &p))) goto done;
  p->args = PyTuple_New(n); /* fun(*primals) */
  if (!p->args) goto done;
  for (Py_ssize_t i = 0; i < n; i++)
    PyTuple_SET_ITEM(p->args, i, Py_NewRef(PyList_GET_ITEM(prim, i)));
  if (forward) {
    lz_array *tans[LZ_MAX_OUTPUTS];
    p->pack_ok = 1;
    int k = lz_jvp(c, pv, (int)n, cv, outs, tans);
    if (k < 0) {
      pylz_xform_raise();
      goto done;
    }
    PyObject *o, *t;
    if (p->layout) { /* many outputs came packed (with their tangents) */
      o = pylz_unpack(p->layout, outs, k, 0);
      t = pylz_unpack(p->layout, tans, k, 0);
      for (int j = 0; j < k; j++) lz_free(outs[j]), lz_free(tans[j]);
    } else {
      o = pylz_wrap_list(outs, k), t = pylz_wrap_list(tans, k);
    }
    if (o && t) result = PyTuple_Pack(2, o, t);
    Py_XDECREF(o), Py_XDECREF(t);
  } else {
    if (!(res = PyMem_Calloc((size_t)n + 1, sizeof *res))) {
      PyErr_NoMemory();
      goto done;
    }
    for (int j = 0; j < LZ_MAX_OUTPUTS; j++) outs[j] = NULL;
    /* many outputs travel packed per dtype: so do their cotangents (same dtypes, same order) */
    lz_array *packed[LZ_MAX_OUTPUTS];
    PyObject *clayout = NULL;
    int nc = (int)m;
    if (m > LZ_MAX_OUTPUTS) {
      p->pack_ok = 1;
      if ((nc = pylz_pack(cv, m, packed, &clayout)) < 0) goto done;
    }
    int rc = lz_vjp(c, pv, (int)n, clayout ? packed : cv, nc, outs, res);
    for (int j = 0; clayout && j < nc; j++) lz_free(packed[j]);
    Py_XDECREF(clayout);
    if (rc < 0) {
      pylz_xform_raise();
      goto done;
    }
    PyObject *o, *t = pylz_wrap_list(res, n);
    if (p->layout) {
      o = pylz_unpack(p->layout, outs, nc, 0);
      for (int j = 0; j < nc; j++) lz_free(outs[j]);
    } else {
      o = pylz_wrap_list(outs, nc);
    }
    if (o && t) result = PyTuple_Pack(2, o, t);
    Py_XDECREF(o), Py_XDECREF(t);
  }
done:
  lz_closure_free(c);
  PyMem_Free(pv), PyMem_Free(cv), PyMem_Free(res);
  Py_XDECREF(prim), Py_XDECREF(cot);
  return result;
}

static PyObject *py_vjp(PyObject *self, PyObject *args, PyObject *kwargs) {
  (void)self;
  return vjp_jvp(args, kwargs, 0);
}

static PyObject *py_jvp(PyObject *self, PyObject *args, PyObject *kwargs) {
  (void)self;
  return vjp_jvp(args, kwargs, 1);
}

static PyMethodDef methods[] = {
    PYOPS_F(
        "vjp", py_vjp,
        "vjp(fun: Callable, primals: list[array], cotangents: list[array]) -> tuple[list[array], "
        "list[array]]\n\n"
        "Compute the vector-Jacobian product.\n\n"
        "Computes the product of the ``cotangents`` with the Jacobian of a function ``fun`` "
        "evaluated\nat ``primals``.\n\n"
        "Args:\n    fun (Callable): A function which takes a variable number of :class:`array` and "
        "returns\n      a single :class:`array` or list of :class:`array`.\n"
        "    primals (list(array)): A list of :class:`array` at which to evaluate the Jacobian.\n"
        "    cotangents (list(array)): A list of :class:`array` which are the \"vector\" in the\n"
        "      vector-Jacobian product, the same in number, shape and type as the outputs of "
        "``fun``.\n\n"
        "Returns:\n    tuple(list(array), list(array)): The outputs of ``fun`` and the "
        "vector-Jacobian\n    products, one per primal."),
    PYOPS_F(
        "jvp", py_jvp,
        "jvp(fun: Callable, primals: list[array], tangents: list[array]) -> tuple[list[array], "
        "list[array]]\n\n"
        "Compute the Jacobian-vector product.\n\n"
        "This computes the product of the Jacobian of a function ``fun`` evaluated at "
        "``primals``\nwith the ``tangents``.\n\n"
        "Args:\n    fun (Callable): A function which takes a variable number of :class:`array` and "
        "returns\n      a single :class:`array` or list of :class:`array`.\n"
        "    primals (list(array)): A list of :class:`array` at which to evaluate the Jacobian.\n"
        "    tangents (list(array)): A list of :class:`array` which are the \"vector\" in the\n"
        "      Jacobian-vector product, the same in number, shape and type as the primals.\n\n"
        "Returns:\n    tuple(list(array), list(array)): The outputs of ``fun`` and the "
        "Jacobian-vector\n    products, one per output."),
    {NULL, NULL, 0, NULL},
};

int pylz_init_vjp(PyObject *m) { return PyModule_AddFunctions(m, methods); }
