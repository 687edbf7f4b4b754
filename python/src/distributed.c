/* lazuli.core.distributed: MLX's mlx.core.distributed over Lazuli's MPI groups (Group,
 * is_available, init, and the collectives, each with group= and stream= keywords). */
#include "pylz.h"
#include "ops_impl.h"

typedef struct {
  PyObject_HEAD
  lz_group *g; /* owned reference */
} PyLzGroup;

static PyTypeObject PyLzGroup_Type;

static PyObject *group_wrap(lz_group *g) {
  if (!g) return pylz_raise();
  PyLzGroup *o = PyObject_New(PyLzGroup, &PyLzGroup_Type);
  if (!o) {
    lz_group_free(g);
    return NULL;
  }
  o->g = g;
  return (PyObject *)o;
}

static void group_dealloc(PyObject *self) {
  lz_group_free(((PyLzGroup *)self)->g);
  PyObject_Free(self);
}

static PyObject *group_rank(PyObject *self, PyObject *unused) {
  return PyLong_FromLong(lz_group_rank(((PyLzGroup *)self)->g));
}

static PyObject *group_size(PyObject *self, PyObject *unused) {
  return PyLong_FromLong(lz_group_size(((PyLzGroup *)self)->g));
}

static PyObject *group_split(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"color", "key", NULL};
  int color, key = -1;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "i|i:split", kwlist, &color, &key)) return NULL;
  return group_wrap(lz_group_split(((PyLzGroup *)self)->g, color, key));
}

static PyObject *group_repr(PyObject *self) {
  lz_group *g = ((PyLzGroup *)self)->g;
  return PyUnicode_FromFormat("Group(rank=%d, size=%d)", lz_group_rank(g), lz_group_size(g));
}

static PyMethodDef group_methods[] = {
    {"rank", group_rank, METH_NOARGS, "This process's rank in the group."},
    {"size", group_size, METH_NOARGS, "The number of processes in the group."},
    PYOPS_F(
        "split", group_split,
        "split(color, key=-1): the group of the ranks that pass the same color, ordered by key."),
    {NULL, NULL, 0, NULL},
};

static PyTypeObject PyLzGroup_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core.distributed.Group",
    .tp_basicsize = sizeof(PyLzGroup),
    .tp_dealloc = group_dealloc,
    .tp_repr = group_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A group of processes that communicate (an MPI communicator).",
    .tp_methods = group_methods,
};

/* group= : None (the world group) or a Group. 0 or -1 with TypeError. */
static int group_arg(PyObject *o, lz_group **g) {
  if (!o || o == Py_None) {
    *g = NULL;
    return 0;
  }
  if (!PyObject_TypeCheck(o, &PyLzGroup_Type)) {
    PyErr_Format(PyExc_TypeError, "group must be a distributed.Group or None, got %s",
                 Py_TYPE(o)->tp_name);
    return -1;
  }
  *g = ((PyLzGroup *)o)->g;
  return 0;
}

static PyObject *d_is_available(PyObject *m, PyObject *unused) {
  return PyBool_FromLong(lz_distributed_is_available());
}

static PyObject *d_init(PyObject *m, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"strict", "backend", NULL};
  int strict = 0;
  const char *backend = "any";
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|ps:init", kwlist, &strict, &backend)) return NULL;
  return group_wrap(lz_distributed_init(backend, strict));
}

/* The collectives of one array: all_sum(x, *, group=None, stream=None) ... */
typedef lz_array *(*coll_fn)(lz_array *, lz_group *);

static PyObject *collective(PyObject *args, PyObject *kw, const char *fmt, coll_fn fn) {
  static char *kwlist[] = {"x", "group", "stream", NULL};
  PyObject *xo, *go = NULL, *so = NULL;
  lz_group *g;
  if (!PyArg_ParseTupleAndKeywords(args, kw, fmt, kwlist, &xo, &go, &so) || group_arg(go, &g))
    return NULL;
  lz_array *x = pylz_to_array(xo);
  if (!x) return NULL;
  lz_array *y = fn(x, g);
  lz_free(x);
  return pylz_wrap(y);
}

#define COLLECTIVE(NAME)                                                                         \
  static PyObject *d_##NAME(PyObject *m, PyObject *args, PyObject *kw) {                         \
    return collective(args, kw, "O|$OO:" #NAME, lz_##NAME);                                      \
  }
COLLECTIVE(all_sum)
COLLECTIVE(all_max)
COLLECTIVE(all_min)
COLLECTIVE(all_gather)
COLLECTIVE(sum_scatter)

static PyObject *d_send(PyObject *m, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"x", "dst", "group", "stream", NULL};
  PyObject *xo, *go = NULL, *so = NULL;
  int dst;
  lz_group *g;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "Oi|$OO:send", kwlist, &xo, &dst, &go, &so) ||
      group_arg(go, &g))
    return NULL;
  lz_array *x = pylz_to_array(xo);
  if (!x) return NULL;
  lz_array *y = lz_send(x, dst, g);
  lz_free(x);
  return pylz_wrap(y);
}

static PyObject *d_recv(PyObject *m, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"shape", "dtype", "src", "group", "stream", NULL};
  PyObject *shape_o, *dt_o, *go = NULL, *so = NULL;
  int src, shape[LZ_MAX_NDIM], nd;
  lz_dtype dt;
  lz_group *g;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOi|$OO:recv", kwlist, &shape_o, &dt_o, &src, &go,
                                   &so) ||
      group_arg(go, &g) || pylz_parse_shape(shape_o, shape, &nd) || pylz_dtype_from_py(dt_o, &dt))
    return NULL;
  return pylz_wrap(lz_recv(shape, nd, dt, src, g));
}

static PyObject *d_recv_like(PyObject *m, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"x", "src", "group", "stream", NULL};
  PyObject *xo, *go = NULL, *so = NULL;
  int src;
  lz_group *g;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "Oi|$OO:recv_like", kwlist, &xo, &src, &go, &so) ||
      group_arg(go, &g))
    return NULL;
  lz_array *x = pylz_to_array(xo);
  if (!x) return NULL;
  lz_array *y = lz_recv_like(x, src, g);
  lz_free(x);
  return pylz_wrap(y);
}

static PyMethodDef methods[] = {
    {"is_available", d_is_available, METH_NOARGS,
     "Whether a distributed backend (MPI) is available."},
    PYOPS_F("init", d_init,
            "init(strict=False, backend='any'): the world group (size 1 without a launcher)."),
    PYOPS_F("all_sum", d_all_sum,
            "all_sum(x, *, group=None, stream=None): the sum of x over the group."),
    PYOPS_F("all_max", d_all_max,
            "all_max(x, *, group=None, stream=None): the maximum of x over the group."),
    PYOPS_F("all_min", d_all_min,
            "all_min(x, *, group=None, stream=None): the minimum of x over the group."),
    PYOPS_F("all_gather", d_all_gather,
            "all_gather(x, *, group=None, stream=None): every rank's x concatenated on axis 0."),
    PYOPS_F(
        "sum_scatter", d_sum_scatter,
        "sum_scatter(x, *, group=None, stream=None): this rank's block of the sum over the group."),
    PYOPS_F("send", d_send,
            "send(x, dst, *, group=None, stream=None): sends x to rank dst; returns x."),
    PYOPS_F(
        "recv", d_recv,
        "recv(shape, dtype, src, *, group=None, stream=None): an array received from rank src."),
    PYOPS_F("recv_like", d_recv_like,
            "recv_like(x, src, *, group=None, stream=None): recv with x's shape and dtype."),
    {NULL, NULL, 0, NULL},
};

int pylz_init_distributed(PyObject *m) {
  PyObject *sub = pylz_add_submodule(m, "distributed", methods,
                                     "lazuli.core.distributed: groups and collectives over MPI, "
                                     "as mlx.core.distributed.");
  if (!sub || PyType_Ready(&PyLzGroup_Type) < 0) return -1;
  Py_INCREF(&PyLzGroup_Type);
  if (PyModule_AddObject(sub, "Group", (PyObject *)&PyLzGroup_Type) < 0) {
    Py_DECREF(&PyLzGroup_Type);
    return -1;
  }
  return 0;
}
