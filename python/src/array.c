/* The `array` type: lifetime (a free list of objects, since every op makes one), construction,
 * attributes, conversion to Python values, printing, the buffer protocol and pickling.
 * Operators are in number.c, the method forms of ops in methods.c, indexing in indexing.c. */
#include "pylz.h"
#include "ops_impl.h"

#include "dlpack.h"

#include <string.h>
#include <stdlib.h>

/* ---- lifetime --------------------------------------------------------------------------- */

/* Freed array objects are kept for reuse: `y = y + 1` then costs no allocator call for the
 * Python object (the interpreter's own allocator is fast, but not free). */
#define FREE_LIST_MAX 256
static PyLzArray *free_list[FREE_LIST_MAX];
static int free_count;

PyObject *pylz_wrap(lz_array *a) {
  if (!a) return pylz_raise();
  PyLzArray *self;
  if (free_count > 0) {
    self = free_list[--free_count];
    _Py_NewReference((PyObject *)self);
  } else {
    self = PyObject_New(PyLzArray, &PyLzArray_Type);
    if (!self) {
      lz_free(a);
      return NULL;
    }
  }
  self->a = a;
  self->weakreflist = NULL;
  return (PyObject *)self;
}

static void array_dealloc(PyObject *o) {
  PyLzArray *self = (PyLzArray *)o;
  if (self->weakreflist) PyObject_ClearWeakRefs(o);
  lz_free(self->a);
  self->a = NULL;
  if (Py_TYPE(o) == &PyLzArray_Type && free_count < FREE_LIST_MAX)
    free_list[free_count++] = self;
  else
    Py_TYPE(o)->tp_free(o);
}

/* Replaces the array an object holds (MLX's in-place operators rebind the same object). */
void pylz_array_set(PyLzArray *self, lz_array *a) {
  lz_array *old = self->a;
  self->a = a;
  lz_free(old);
}

/* Lazuli may not evaluate one graph from two threads at once, and with the GIL released two
 * Python threads could (print(x) in both): evaluations from Python take turns on this lock,
 * taken with the GIL released so that waiting never blocks other Python threads. */
static PyThread_type_lock eval_lock;

int pylz_eval_many(lz_array *const *arrays, size_t n) {
  if (!eval_lock && !(eval_lock = PyThread_allocate_lock())) {
    PyErr_NoMemory();
    return -1;
  }
  /* Keep the arrays alive while the GIL is released: another thread may rebind the Python
   * objects that hold them (x += 1). */
  for (size_t i = 0; i < n; i++) lz_retain(arrays[i]);
  int rc;
  Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock(eval_lock, WAIT_LOCK);
  rc = lz_eval_many(arrays, n);
  PyThread_release_lock(eval_lock);
  Py_END_ALLOW_THREADS for (size_t i = 0; i < n; i++) lz_free(arrays[i]);
  return rc < 0 ? pylz_raise_int() : 0;
}

int pylz_eval_array(lz_array *a) {
  if (lz_array_is_evaluated(a)) return 0;
  return pylz_eval_many(&a, 1);
}

/* array(val, dtype=None) */
static PyObject *array_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"val", "dtype", NULL};
  PyObject *val, *dtype = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:array", kwlist, &val, &dtype)) return NULL;
  lz_array *a = pylz_array_from_value(val, dtype);
  if (!a) return NULL;
  if (type == &PyLzArray_Type) return pylz_wrap(a);
  PyLzArray *self = (PyLzArray *)type->tp_alloc(type, 0); /* a Python subclass */
  if (!self) {
    lz_free(a);
    return NULL;
  }
  self->a = a;
  return (PyObject *)self;
}

/* asarray(a, dtype=None, *, copy=None): MLX's Array API constructor. An array comes back as a
 * new array object holding the same (immutable) data, cast when `dtype` differs; anything else
 * converts as array(a, dtype). copy=False is refused as MLX does: an in-place update of the
 * source (x += 1 rebinds x) would never show through the result. */
static PyObject *py_asarray(PyObject *self, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"a", "dtype", "copy", NULL};
  PyObject *val, *dtype = Py_None, *copy = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O$O:asarray", kwlist, &val, &dtype, &copy))
    return NULL;
  if (copy != Py_None && !PyBool_Check(copy)) {
    PyErr_Format(PyExc_TypeError, "[asarray] copy must be a bool or None, not %.100s",
                 Py_TYPE(copy)->tp_name);
    return NULL;
  }
  if (copy == Py_False) {
    PyErr_SetString(PyExc_ValueError,
                    "[asarray] copy=False is not supported: arrays are values, an in-place "
                    "update of the input would not show through the result");
    return NULL;
  }
  if (PyLzArray_Check(val)) {
    lz_dtype dt = lz_array_dtype(((PyLzArray *)val)->a);
    if (dtype != Py_None && pylz_dtype_from_py(dtype, &dt) < 0) return NULL;
    lz_array *a = ((PyLzArray *)val)->a;
    return pylz_wrap(dt == lz_array_dtype(a) ? lz_retain(a) : lz_astype(a, dt));
  }
  return pylz_wrap(pylz_array_from_value(val, dtype));
}

static PyMethodDef array_functions[] = {
    PYOPS_F(
        "asarray", py_asarray,
        "asarray(a: scalar | array | Sequence, dtype: Dtype | None = None, *, copy: bool | None = "
        "None) -> array\n\nConverts the input to an array (an array input gives a new array "
        "object with the same values, cast to ``dtype`` when given). ``copy=False`` raises "
        "ValueError."),
    {NULL, NULL, 0, NULL},
};

/* ---- attributes ------------------------------------------------------------------------- */

#define A(o) (((PyLzArray *)(o))->a)

PyObject *pylz_shape_tuple(lz_array *a) {
  int nd = lz_array_ndim(a);
  const int *sh = lz_array_shape(a);
  PyObject *t = PyTuple_New(nd);
  for (int i = 0; t && i < nd; i++) {
    PyObject *d = PyLong_FromLong(sh[i]);
    if (!d) {
      Py_DECREF(t);
      return NULL;
    }
    PyTuple_SET_ITEM(t, i, d);
  }
  return t;
}

static PyObject *get_shape(PyObject *self, void *c) { return pylz_shape_tuple(A(self)); }
static PyObject *get_dtype(PyObject *self, void *c) {
  return pylz_dtype_to_py(lz_array_dtype(A(self)));
}
static PyObject *get_ndim(PyObject *self, void *c) {
  return PyLong_FromLong(lz_array_ndim(A(self)));
}
static PyObject *get_size(PyObject *self, void *c) {
  return PyLong_FromSize_t(lz_array_size(A(self)));
}
static PyObject *get_itemsize(PyObject *self, void *c) {
  return PyLong_FromSize_t(lz_dtype_size(lz_array_dtype(A(self))));
}
static PyObject *get_nbytes(PyObject *self, void *c) {
  return PyLong_FromSize_t(lz_array_nbytes(A(self)));
}
static PyObject *get_T(PyObject *self, void *c) {
  return pylz_wrap(lz_transpose(A(self), NULL, 0));
}

/* ---- Python values ---------------------------------------------------------------------- */

/* The Python scalar for element `i` of contiguous data of `dt` (float16/bfloat16 data must be
 * read as float32 first: see host_dtype). */
static lz_dtype host_dtype(lz_dtype dt) {
  return (dt == LZ_FLOAT16 || dt == LZ_BFLOAT16) ? LZ_FLOAT32 : dt;
}

static PyObject *scalar_at(const void *data, size_t i, lz_dtype dt) {
  switch (dt) {
  case LZ_BOOL:
    return PyBool_FromLong(((const bool *)data)[i]);
  case LZ_UINT8:
    return PyLong_FromLong(((const uint8_t *)data)[i]);
  case LZ_UINT16:
    return PyLong_FromLong(((const uint16_t *)data)[i]);
  case LZ_UINT32:
    return PyLong_FromUnsignedLong(((const uint32_t *)data)[i]);
  case LZ_UINT64:
    return PyLong_FromUnsignedLongLong(((const uint64_t *)data)[i]);
  case LZ_INT8:
    return PyLong_FromLong(((const int8_t *)data)[i]);
  case LZ_INT16:
    return PyLong_FromLong(((const int16_t *)data)[i]);
  case LZ_INT32:
    return PyLong_FromLong(((const int32_t *)data)[i]);
  case LZ_INT64:
    return PyLong_FromLongLong(((const int64_t *)data)[i]);
  case LZ_FLOAT32:
    return PyFloat_FromDouble(((const float *)data)[i]);
  case LZ_FLOAT64:
    return PyFloat_FromDouble(((const double *)data)[i]);
  case LZ_COMPLEX64: {
    const float *c = (const float *)data + 2 * i;
    return PyComplex_FromDoubles(c[0], c[1]);
  }
  default:
    PyErr_SetString(PyExc_TypeError, "type cannot be converted to Python scalar.");
    return NULL;
  }
}

/* Evaluates `a` (GIL released) and returns its row-major data in host_dtype(dtype): either the
 * array's own buffer or `*tmp`, a PyMem buffer the caller frees. */
static const void *host_data(lz_array *a, void **tmp) {
  *tmp = NULL;
  if (pylz_eval_array(a) < 0) return NULL;
  lz_dtype dt = lz_array_dtype(a);
  if (host_dtype(dt) == dt) {
    const void *p = lz_array_data(a);
    if (!p && lz_array_size(a) > 0) return pylz_raise();
    return p ? p : (const void *)"";
  }
  size_t bytes = lz_array_size(a) * sizeof(float);
  *tmp = PyMem_Malloc(bytes ? bytes : 1);
  if (!*tmp) return PyErr_NoMemory();
  if (lz_array_read(a, LZ_FLOAT32, *tmp, bytes) < 0) {
    PyMem_Free(*tmp);
    *tmp = NULL;
    return pylz_raise();
  }
  return *tmp;
}

/* The value of a one-element array (any ndim, as MLX's item()). */
PyObject *pylz_item(lz_array *a) {
  if (lz_array_size(a) != 1) {
    PyErr_SetString(PyExc_ValueError, "item can only be called on arrays of size 1.");
    return NULL;
  }
  void *tmp;
  lz_retain(a); /* the caller's reference may go while the GIL is released */
  const void *p = host_data(a, &tmp);
  PyObject *r = p ? scalar_at(p, 0, host_dtype(lz_array_dtype(a))) : NULL;
  PyMem_Free(tmp);
  lz_free(a);
  return r;
}

static PyObject *array_item(PyObject *self, PyObject *unused) { return pylz_item(A(self)); }

static PyObject *build_list(const void *p, lz_dtype dt, const int *shape, int ndim, size_t *pos) {
  PyObject *l = PyList_New(shape[0]);
  for (int i = 0; l && i < shape[0]; i++) {
    PyObject *e =
        ndim == 1 ? scalar_at(p, (*pos)++, dt) : build_list(p, dt, shape + 1, ndim - 1, pos);
    if (!e) {
      Py_DECREF(l);
      return NULL;
    }
    PyList_SET_ITEM(l, i, e);
  }
  return l;
}

static PyObject *array_tolist(PyObject *self, PyObject *unused) {
  lz_array *a = A(self);
  if (lz_array_ndim(a) == 0) return pylz_item(a);
  void *tmp;
  lz_retain(a); /* building objects can run other threads, which may rebind self */
  const void *p = host_data(a, &tmp);
  PyObject *r = NULL;
  if (p) {
    size_t pos = 0;
    r = build_list(p, host_dtype(lz_array_dtype(a)), lz_array_shape(a), lz_array_ndim(a), &pos);
  }
  PyMem_Free(tmp);
  lz_free(a);
  return r;
}

static PyObject *array_float(PyObject *self) {
  PyObject *v = pylz_item(A(self));
  if (!v || PyFloat_CheckExact(v)) return v;
  PyObject *f = PyNumber_Float(v);
  Py_DECREF(v);
  return f;
}

static PyObject *array_int(PyObject *self) {
  PyObject *v = pylz_item(A(self));
  if (!v || PyLong_CheckExact(v)) return v;
  PyObject *i = PyNumber_Long(v);
  Py_DECREF(v);
  return i;
}

static int array_bool(PyObject *self) {
  lz_array *a = A(self);
  if (lz_array_size(a) != 1) {
    PyErr_SetString(PyExc_ValueError, "The truth value of an array with more than one element "
                                      "is ambiguous. Use .any() or .all()");
    return -1;
  }
  PyObject *v = pylz_item(a);
  if (!v) return -1;
  int r = PyObject_IsTrue(v);
  Py_DECREF(v);
  return r;
}

/* Integer arrays of one element can index Python sequences (scalar control flow). */
static PyObject *array_index(PyObject *self) {
  lz_dtype dt = lz_array_dtype(A(self));
  if (!lz_dtype_is_integer(dt) && dt != LZ_BOOL) {
    PyErr_Format(PyExc_TypeError, "only integer arrays can be used as an index, not %s",
                 lz_dtype_name(dt));
    return NULL;
  }
  return array_int(self);
}

/* By identity, as MLX's arrays hash (== is elementwise, so dict lookups go by object). */
static Py_hash_t array_hash(PyObject *self) { return _Py_HashPointer(self); }

static PyObject *array_repr(PyObject *self) {
  lz_array *a = lz_retain(A(self)); /* another thread may rebind self during evaluation */
  if (pylz_eval_array(a) < 0) {
    lz_free(a);
    return NULL;
  }
  char *s = lz_array_tostring(a);
  lz_free(a);
  if (!s) return pylz_raise();
  PyObject *r = PyUnicode_FromString(s);
  free(s);
  return r;
}

static PyObject *array_format(PyObject *self, PyObject *spec) {
  if (!PyUnicode_Check(spec)) {
    PyErr_SetString(PyExc_TypeError, "format spec must be a str");
    return NULL;
  }
  if (lz_array_ndim(A(self)) == 0) {
    PyObject *v = pylz_item(A(self));
    if (!v) return NULL;
    PyObject *r = PyObject_Format(v, spec);
    Py_DECREF(v);
    return r;
  }
  if (PyUnicode_GET_LENGTH(spec) > 0) {
    PyErr_SetString(PyExc_TypeError, "unsupported format string passed to array.__format__");
    return NULL;
  }
  return array_repr(self);
}

static Py_ssize_t array_len(PyObject *self) {
  lz_array *a = A(self);
  if (lz_array_ndim(a) == 0) {
    PyErr_SetString(PyExc_TypeError, "len() 0-dimensional array.");
    return -1;
  }
  return lz_array_shape(a)[0];
}

/* ---- iteration over axis 0 -------------------------------------------------------------- */

typedef struct {
  PyObject_HEAD lz_array *a;
  int i, n;
} PyLzArrayIter;

static void iter_dealloc(PyObject *o) {
  lz_free(((PyLzArrayIter *)o)->a);
  PyObject_Free(o);
}

static PyObject *iter_next(PyObject *o) {
  PyLzArrayIter *it = (PyLzArrayIter *)o;
  if (it->i >= it->n) return NULL;
  int nd = lz_array_ndim(it->a);
  int start[LZ_MAX_NDIM] = {0}, stop[LZ_MAX_NDIM];
  memcpy(stop, lz_array_shape(it->a), sizeof(int) * (size_t)nd);
  start[0] = it->i;
  stop[0] = it->i + 1;
  it->i++;
  lz_array *row = lz_slice(it->a, start, stop, NULL, nd);
  int ax = 0;
  lz_array *sq = lz_squeeze(row, &ax, 1);
  lz_free(row);
  return pylz_wrap(sq);
}

static PyTypeObject PyLzArrayIter_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core.ArrayIterator",
    .tp_basicsize = sizeof(PyLzArrayIter),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A helper object to iterate over the first dimension of an array.",
    .tp_dealloc = iter_dealloc,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = iter_next,
};

static PyObject *array_iter(PyObject *self) {
  if (lz_array_ndim(A(self)) == 0) {
    PyErr_SetString(PyExc_TypeError, "iteration over a 0-d array");
    return NULL;
  }
  PyLzArrayIter *it = PyObject_New(PyLzArrayIter, &PyLzArrayIter_Type);
  if (!it) return NULL;
  it->a = lz_retain(A(self));
  it->i = 0;
  it->n = lz_array_shape(it->a)[0];
  return (PyObject *)it;
}

/* ---- buffer protocol -------------------------------------------------------------------- */

typedef struct {
  lz_array *a; /* keeps the data alive even if the object is rebound in place */
  Py_ssize_t shape[LZ_MAX_NDIM], strides[LZ_MAX_NDIM];
} buffer_info;

/* MLX's struct codes; bfloat16 has none and is exported as bytes ("B", itemsize 2), which
 * NumPy rejects just as it does for MLX: convert with astype first. */
static const char *buffer_format(lz_dtype dt) {
  static const char *codes[LZ_DTYPE_COUNT] = {
      [LZ_BOOL] = "?",    [LZ_UINT8] = "B",     [LZ_UINT16] = "H",   [LZ_UINT32] = "I",
      [LZ_UINT64] = "Q",  [LZ_INT8] = "b",      [LZ_INT16] = "h",    [LZ_INT32] = "i",
      [LZ_INT64] = "q",   [LZ_FLOAT16] = "e",   [LZ_BFLOAT16] = "B", [LZ_FLOAT32] = "f",
      [LZ_FLOAT64] = "d", [LZ_COMPLEX64] = "Zf"};
  return codes[dt];
}

static int array_getbuffer(PyObject *self, Py_buffer *view, int flags) {
  lz_array *a = lz_retain(A(self)); /* becomes info->a: held until the buffer is released */
  memset(view, 0, sizeof *view);
  void *p = NULL;
  buffer_info *info = NULL;
  if (pylz_eval_array(a) < 0) goto fail;
  p = (void *)lz_array_data(a); /* contiguous: a strided view is made contiguous once */
  if (!p && lz_array_size(a) > 0) {
    pylz_raise();
    goto fail;
  }
  info = PyMem_Malloc(sizeof *info);
  if (!info) {
    PyErr_NoMemory();
    goto fail;
  }
  info->a = a;
  int nd = lz_array_ndim(a);
  Py_ssize_t item = (Py_ssize_t)lz_dtype_size(lz_array_dtype(a));
  Py_ssize_t stride = item;
  for (int i = nd - 1; i >= 0; i--) {
    info->shape[i] = lz_array_shape(a)[i];
    info->strides[i] = stride;
    stride *= info->shape[i];
  }
  static char empty[16];
  view->buf = p ? p : empty;
  view->obj = self;
  Py_INCREF(self);
  view->len = (Py_ssize_t)lz_array_nbytes(a);
  view->itemsize = item;
  view->readonly = 0; /* as MLX: NumPy views of an array are writable */
  view->ndim = nd;
  view->internal = info;
  if (flags & PyBUF_FORMAT) view->format = (char *)buffer_format(lz_array_dtype(a));
  if ((flags & PyBUF_ND) == PyBUF_ND) view->shape = info->shape;
  if ((flags & PyBUF_STRIDES) == PyBUF_STRIDES) view->strides = info->strides;
  return 0;
fail:
  lz_free(a);
  return -1;
}

static void array_releasebuffer(PyObject *self, Py_buffer *view) {
  buffer_info *info = view->internal;
  if (info) {
    lz_free(info->a);
    PyMem_Free(info);
  }
}

static PyBufferProcs array_as_buffer = {array_getbuffer, array_releasebuffer};

/* ---- DLPack (np.from_dlpack, torch.from_dlpack): the same memory as the buffer protocol -- */

/* A capsule "dltensor" holding a dl_managed (dlpack.h) whose deleter releases our reference to
 * the array. The import side, from_dlpack, is in dlpack.c. */

typedef struct {
  dl_managed m;
  lz_array *a;
  int64_t shape[LZ_MAX_NDIM];
} dl_holder;

static void dl_delete(dl_managed *m) {
  dl_holder *h = (dl_holder *)m;
  lz_free(h->a);
  free(h);
}

static void dl_capsule_destructor(PyObject *cap) {
  if (PyCapsule_IsValid(cap, "dltensor")) { /* never consumed: we still own it */
    dl_managed *m = PyCapsule_GetPointer(cap, "dltensor");
    if (m && m->deleter) m->deleter(m);
  }
}

static PyObject *array_dlpack(PyObject *self, PyObject *args, PyObject *kwargs) {
  static const uint8_t codes[LZ_DTYPE_COUNT] = {
      [LZ_BOOL] = DL_BOOL,     [LZ_UINT8] = DL_UINT,       [LZ_UINT16] = DL_UINT,
      [LZ_UINT32] = DL_UINT,   [LZ_UINT64] = DL_UINT,      [LZ_INT8] = DL_INT,
      [LZ_INT16] = DL_INT,     [LZ_INT32] = DL_INT,        [LZ_INT64] = DL_INT,
      [LZ_FLOAT16] = DL_FLOAT, [LZ_BFLOAT16] = DL_BFLOAT,  [LZ_FLOAT32] = DL_FLOAT,
      [LZ_FLOAT64] = DL_FLOAT, [LZ_COMPLEX64] = DL_COMPLEX};
  /* stream, max_version, dl_device, copy: accepted; the data is on the CPU either way. */
  (void)args;
  (void)kwargs;
  lz_array *a = lz_retain(A(self)); /* becomes h->a, released by the deleter */
  if (pylz_eval_array(a) < 0) {
    lz_free(a);
    return NULL;
  }
  void *p = (void *)lz_array_data(a);
  dl_holder *h = p || lz_array_size(a) == 0 ? calloc(1, sizeof *h) : NULL;
  if (!h) {
    lz_free(a);
    return p || lz_array_size(a) == 0 ? PyErr_NoMemory() : pylz_raise();
  }
  static char empty[16];
  h->a = a;
  lz_dtype dt = lz_array_dtype(a);
  h->m.t.data = p ? p : empty;
  h->m.t.device = (dl_device){DL_CPU, 0};
  h->m.t.ndim = lz_array_ndim(a);
  h->m.t.dtype = (dl_dtype){codes[dt], (uint8_t)(lz_dtype_size(dt) * 8), 1};
  for (int i = 0; i < h->m.t.ndim; i++) h->shape[i] = lz_array_shape(a)[i];
  h->m.t.shape = h->shape;
  h->m.t.strides = NULL; /* row-major contiguous */
  h->m.deleter = dl_delete;
  PyObject *cap = PyCapsule_New(&h->m, "dltensor", dl_capsule_destructor);
  if (!cap) dl_delete(&h->m);
  return cap;
}

static PyObject *array_dlpack_device(PyObject *self, PyObject *unused) {
  return Py_BuildValue("(ii)", 1, 0);
}

/* __array__(dtype=None, copy=None): NumPy's view of the buffer (cast if a dtype is given). */
static PyObject *array_array(PyObject *self, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"dtype", "copy", NULL};
  PyObject *dtype = Py_None, *copy = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OO:__array__", kwlist, &dtype, &copy))
    return NULL;
  PyObject *np = PyImport_ImportModule("numpy");
  if (!np) return NULL;
  PyObject *mv = PyMemoryView_FromObject(self);
  PyObject *r = mv ? PyObject_CallMethod(np, "asarray", "O", mv) : NULL;
  Py_XDECREF(mv);
  if (r && (dtype != Py_None || copy == Py_True)) {
    PyObject *c = PyObject_CallMethod(np, "array", "OO", r, dtype);
    Py_SETREF(r, c);
  }
  Py_DECREF(np);
  return r;
}

/* ---- copying and pickling --------------------------------------------------------------- */

static PyObject *array_copy(PyObject *self, PyObject *unused) {
  return pylz_wrap(lz_retain(A(self)));
}

static PyObject *array_deepcopy(PyObject *self, PyObject *memo) {
  return pylz_wrap(lz_retain(A(self)));
}

/* __getstate__: a NumPy array of the data (MLX's pickled form). */
static PyObject *array_getstate(PyObject *self, PyObject *unused) {
  PyObject *np = PyImport_ImportModule("numpy");
  if (!np) return NULL;
  PyObject *r = NULL;
  lz_array *a = A(self);
  if (lz_array_dtype(a) == LZ_BFLOAT16) {
    /* NumPy has no bfloat16: keep the bits as uint16 with a marker. */
    lz_array *bits = lz_view(a, LZ_UINT16);
    PyObject *w = pylz_wrap(bits);
    PyObject *arr = w ? PyObject_CallMethod(np, "array", "O", w) : NULL;
    r = arr ? Py_BuildValue("(Ns)", arr, "bfloat16") : NULL;
    Py_XDECREF(w);
  } else {
    r = PyObject_CallMethod(np, "array", "O", self);
  }
  Py_DECREF(np);
  return r;
}

static PyObject *array_setstate(PyObject *self, PyObject *state) {
  lz_array *a;
  if (PyTuple_Check(state) && PyTuple_GET_SIZE(state) == 2) {
    lz_array *bits = pylz_to_array(PyTuple_GET_ITEM(state, 0));
    a = bits ? lz_view(bits, LZ_BFLOAT16) : NULL;
    lz_free(bits);
  } else {
    a = pylz_to_array(state);
    /* The pickled data has the array's own dtype (float64 stays float64). */
  }
  if (!a) return PyErr_Occurred() ? NULL : pylz_raise();
  if (PyObject_CheckBuffer(state)) {
    Py_buffer v;
    if (PyObject_GetBuffer(state, &v, PyBUF_FORMAT) == 0) {
      int f64 = v.format && (strcmp(v.format, "d") == 0 || strcmp(v.format, "<d") == 0);
      PyBuffer_Release(&v);
      if (f64 && lz_array_dtype(a) != LZ_FLOAT64) {
        lz_array *c = lz_astype(a, LZ_FLOAT64);
        lz_free(a);
        if (!(a = c)) return pylz_raise();
      }
    } else {
      PyErr_Clear();
    }
  }
  pylz_array_set((PyLzArray *)self, a);
  Py_RETURN_NONE;
}

static PyObject *array_reduce(PyObject *self, PyObject *unused) {
  PyObject *state = array_getstate(self, NULL);
  if (!state) return NULL;
  /* array(0) rebuilt, then __setstate__ with the data. */
  return Py_BuildValue("(O(i)N)", (PyObject *)Py_TYPE(self), 0, state);
}

/* ---- the type --------------------------------------------------------------------------- */

static PyGetSetDef array_getset[] = {
    {"shape", get_shape, NULL, "The shape of the array as a Python tuple.", NULL},
    {"dtype", get_dtype, NULL, "The array's :class:`Dtype`.", NULL},
    {"ndim", get_ndim, NULL, "The array's dimension.", NULL},
    {"size", get_size, NULL, "Number of elements in the array.", NULL},
    {"itemsize", get_itemsize, NULL, "The size of the array's datatype in bytes.", NULL},
    {"nbytes", get_nbytes, NULL, "The number of bytes in the array.", NULL},
    {"T", get_T, NULL, "Equivalent to calling ``self.transpose()`` with no arguments.", NULL},
    {"at", pylz_array_get_at, NULL,
     "Used to apply updates at the given indices: ``x.at[idx].add(y)`` (also subtract, "
     "multiply, divide, maximum, minimum) applies every update, repeated indices included, "
     "where ``x[idx] += y`` keeps one update per index.",
     NULL},
    {NULL},
};

static PyMethodDef array_base_methods[] = {
    {"item", array_item, METH_NOARGS,
     "item(self) -> scalar\n\nAccess the value of a scalar array.\n\nReturns:\n    Standard "
     "Python scalar."},
    {"tolist", array_tolist, METH_NOARGS,
     "tolist(self) -> list | scalar\n\nConvert the array to a Python :class:`list` (nested for "
     "more than one dimension; a scalar for a 0-d array)."},
    {"__copy__", array_copy, METH_NOARGS, NULL},
    {"__deepcopy__", array_deepcopy, METH_O, NULL},
    {"__getstate__", array_getstate, METH_NOARGS, NULL},
    {"__setstate__", array_setstate, METH_O, NULL},
    {"__reduce__", array_reduce, METH_NOARGS, NULL},
    {"__format__", array_format, METH_O, NULL},
    PYOPS_F("__dlpack__", array_dlpack,
            "__dlpack__(self, stream=None) -> PyCapsule\n\nThe array's data as a DLPack capsule "
            "(no copy for evaluated contiguous arrays)."),
    {"__dlpack_device__", array_dlpack_device, METH_NOARGS,
     "__dlpack_device__(self) -> tuple[int, int]\n\n(1, 0): the CPU."},
    PYOPS_F("__array__", array_array,
            "__array__(self, dtype=None, copy=None) -> numpy.ndarray\n\nA NumPy array sharing the "
            "data (cast when dtype is given)."),
    {NULL},
};

PyTypeObject PyLzArray_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core.array",
    .tp_basicsize = sizeof(PyLzArray),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "array(val: scalar | list | tuple | numpy.ndarray | array, dtype: Dtype | None = "
              "None)\n\nAn N-dimensional array object.",
    .tp_new = array_new,
    .tp_dealloc = array_dealloc,
    .tp_repr = array_repr,
    .tp_str = array_repr,
    .tp_iter = array_iter,
    .tp_getset = array_getset,
    .tp_as_buffer = &array_as_buffer,
    .tp_weaklistoffset = offsetof(PyLzArray, weakreflist),
};

static PySequenceMethods array_as_sequence = {.sq_length = array_len};

int pylz_init_array(PyObject *m) {
  /* Operators (number.c) and indexing (indexing.c) are slots of this one type. */
  PyLzArray_Type.tp_as_sequence = &array_as_sequence;
  PyLzArray_Type.tp_as_number = &pylz_array_as_number;
  PyLzArray_Type.tp_richcompare = pylz_array_richcompare;
  PyLzArray_Type.tp_hash = array_hash;
  pylz_array_as_number.nb_bool = array_bool;
  pylz_array_as_number.nb_int = array_int;
  pylz_array_as_number.nb_float = array_float;
  pylz_array_as_number.nb_index = array_index;
  PyLzArray_Type.tp_as_mapping = &pylz_array_as_mapping;
  PyLzArray_Type.tp_methods = array_base_methods;
  if (PyType_Ready(&PyLzArray_Type) < 0 || PyType_Ready(&PyLzArrayIter_Type) < 0) return -1;
  if (pylz_array_add_methods(&PyLzArray_Type, m) < 0) return -1;
  Py_INCREF(&PyLzArray_Type);
  if (PyModule_AddObject(m, "array", (PyObject *)&PyLzArray_Type) < 0) {
    Py_DECREF(&PyLzArray_Type);
    return -1;
  }
  Py_INCREF(&PyLzArrayIter_Type);
  if (PyModule_AddObject(m, "ArrayIterator", (PyObject *)&PyLzArrayIter_Type) < 0) {
    Py_DECREF(&PyLzArrayIter_Type);
    return -1;
  }
  return PyModule_AddFunctions(m, array_functions);
}
