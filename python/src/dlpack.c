/* lazuli.core: from_dlpack, MLX's import of any object with __dlpack__ and __dlpack_device__
 * (NumPy arrays, PyTorch tensors, ...). CPU data is shared when the layout allows it: a
 * row-major tensor is wrapped as it is (lz_array_wrap), one with other non-negative strides
 * becomes a strided view of the memory it spans (lz_as_strided), so the DLPack strides are
 * kept; the producer's deleter runs when the last array using the memory is released. A copy
 * is made when asked (copy=True) or needed (negative strides, empty tensors); copy=False then
 * raises ValueError. The export side (array.__dlpack__) is in array.c. */
#include "dlpack.h"
#include "ops_impl.h"
#include "xform.h"

#include <stdlib.h>
#include <string.h>

static int dtype_of(dl_dtype t, lz_dtype *out) {
  static const struct {
    uint8_t code, bits;
    lz_dtype dt;
  } map[] = {
      {DL_BOOL, 8, LZ_BOOL},        {DL_UINT, 8, LZ_UINT8},        {DL_UINT, 16, LZ_UINT16},
      {DL_UINT, 32, LZ_UINT32},     {DL_UINT, 64, LZ_UINT64},      {DL_INT, 8, LZ_INT8},
      {DL_INT, 16, LZ_INT16},       {DL_INT, 32, LZ_INT32},        {DL_INT, 64, LZ_INT64},
      {DL_FLOAT, 16, LZ_FLOAT16},   {DL_FLOAT, 32, LZ_FLOAT32},    {DL_FLOAT, 64, LZ_FLOAT64},
      {DL_BFLOAT, 16, LZ_BFLOAT16}, {DL_COMPLEX, 64, LZ_COMPLEX64}};
  for (size_t i = 0; t.lanes == 1 && i < sizeof map / sizeof map[0]; i++) {
    if (map[i].code == t.code && map[i].bits == t.bits) {
      *out = map[i].dt;
      return 0;
    }
  }
  PyErr_Format(PyExc_ValueError,
               "[from_dlpack] unsupported DLPack dtype (code %d, %d bits, %d lanes)", t.code,
               t.bits, t.lanes);
  return -1;
}

/* Calls the producer's deleter (with the GIL: producers release Python objects there). */
static void managed_drop(void *ctx) {
  dl_managed *m = ctx;
  if (m->deleter) m->deleter(m);
}

/* lz_array_wrap's release: may run on any thread. */
static void managed_release(void *data, void *ctx) {
  (void)data;
  pylz_release_py(managed_drop, ctx);
}

/* A row-major copy of the tensor's elements (strides in elements, any sign). */
static lz_array *copy_tensor(const dl_tensor *t, const char *base, const int *shape, lz_dtype dt) {
  size_t item = lz_dtype_size(dt), n = 1;
  for (int d = 0; d < t->ndim; d++) n *= (size_t)shape[d];
  char *buf = malloc(n ? n * item : 1);
  if (!buf) return (lz_array *)PyErr_NoMemory();
  int64_t idx[LZ_MAX_NDIM] = {0};
  for (size_t k = 0; k < n; k++) {
    int64_t off = 0, stride = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
      off += idx[d] * (t->strides ? t->strides[d] : stride);
      stride *= shape[d];
    }
    memcpy(buf + k * item, base + off * (int64_t)item, item);
    for (int d = t->ndim - 1; d >= 0 && ++idx[d] == shape[d]; d--) idx[d] = 0;
  }
  lz_array *a = lz_array_from_data(buf, shape, t->ndim, dt);
  free(buf);
  return a ? a : (lz_array *)pylz_raise();
}

/* The array for the tensor of `m` (taken over: its deleter runs now or when the array goes). */
static PyObject *import_managed(dl_managed *m, int copy) {
  const dl_tensor *t = &m->t;
  lz_dtype dt;
  int shape[LZ_MAX_NDIM];
  if (t->device.device_type != DL_CPU && t->device.device_type != DL_CUDA_HOST) {
    PyErr_Format(PyExc_ValueError,
                 "[from_dlpack] only CPU memory can be imported, not device "
                 "type %d",
                 t->device.device_type);
    goto fail;
  }
  if (t->ndim < 0 || t->ndim > LZ_MAX_NDIM) {
    PyErr_Format(PyExc_ValueError, "[from_dlpack] %d dimensions, at most %d", t->ndim, LZ_MAX_NDIM);
    goto fail;
  }
  if (dtype_of(t->dtype, &dt) < 0) goto fail;
  int64_t size = 1, extent = 1, expect = 1;
  bool contiguous = true, nonneg = true;
  for (int d = t->ndim - 1; d >= 0; d--) {
    if (t->shape[d] < 0 || t->shape[d] > INT32_MAX) {
      PyErr_Format(PyExc_ValueError, "[from_dlpack] dimension %d has size %lld", d,
                   (long long)t->shape[d]);
      goto fail;
    }
    shape[d] = (int)t->shape[d];
    size *= shape[d];
    if (t->strides && shape[d] > 1) {
      contiguous = contiguous && t->strides[d] == expect;
      nonneg = nonneg && t->strides[d] >= 0;
      extent += (shape[d] - 1) * t->strides[d];
    }
    expect *= shape[d];
  }
  const char *base = (const char *)t->data + t->byte_offset;
  bool share = size > 0 && nonneg && copy != 1 && extent <= INT32_MAX;
  if (!share && copy == 0) {
    PyErr_SetString(PyExc_ValueError, "[from_dlpack] copy=False, but this tensor's layout "
                                      "(negative strides, or no data) needs a copy");
    goto fail;
  }
  lz_array *a;
  if (!share) {
    a = copy_tensor(t, base, shape, dt);
    managed_drop(m);
    return a ? pylz_wrap(a) : NULL;
  }
  int n = contiguous ? (int)size : (int)extent;
  lz_array *flat = lz_array_wrap((void *)base, contiguous ? shape : &n, contiguous ? t->ndim : 1,
                                 dt, managed_release, m);
  if (!flat) {
    pylz_raise();
    goto fail; /* not taken over: the deleter is ours to call */
  }
  if (contiguous) return pylz_wrap(flat);
  a = lz_as_strided(flat, shape, t->ndim, t->strides, 0);
  lz_free(flat);
  return pylz_wrap(a);
fail:
  managed_drop(m);
  return NULL;
}

static PyObject *py_from_dlpack(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "from_dlpack";
  pylz_release_pending(); /* deleters queued by releases on threads without the GIL */
  static char *kws[] = {"", "copy", NULL};
  PyObject *x, *ocopy = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$O:from_dlpack", kws, &x, &ocopy)) return NULL;
  if (ocopy != Py_None && !PyBool_Check(ocopy))
    return pyops_type_error("copy", "a bool or None", ocopy), NULL;
  int copy = ocopy == Py_None ? -1 : ocopy == Py_True;
  if (!PyObject_HasAttrString(x, "__dlpack__") || !PyObject_HasAttrString(x, "__dlpack_device__"))
    return pyops_type_error("x", "an object with __dlpack__ and __dlpack_device__", x), NULL;
  PyObject *dev = PyObject_CallMethod(x, "__dlpack_device__", NULL);
  if (!dev) return NULL;
  long type = PyTuple_Check(dev) && PyTuple_GET_SIZE(dev) == 2
                  ? PyLong_AsLong(PyTuple_GET_ITEM(dev, 0))
                  : -1;
  Py_DECREF(dev);
  if (type == -1 && PyErr_Occurred()) return NULL;
  if (type != DL_CPU && type != DL_CUDA_HOST) {
    PyErr_Format(PyExc_ValueError,
                 "[from_dlpack] only CPU memory can be imported, not device "
                 "type %ld",
                 type);
    return NULL;
  }
  PyObject *cap = PyObject_CallMethod(x, "__dlpack__", NULL);
  if (!cap) return NULL;
  if (!PyCapsule_IsValid(cap, "dltensor")) {
    Py_DECREF(cap);
    PyErr_SetString(PyExc_ValueError, "[from_dlpack] __dlpack__ did not return a DLPack "
                                      "capsule (or one already used)");
    return NULL;
  }
  dl_managed *m = PyCapsule_GetPointer(cap, "dltensor");
  /* Ours from now on: the renamed capsule no longer runs the deleter. */
  int rc = m ? PyCapsule_SetName(cap, "used_dltensor") : -1;
  Py_DECREF(cap);
  if (rc < 0) return NULL;
  return import_managed(m, copy);
}

static PyMethodDef methods[] = {
    PYOPS_F("from_dlpack", py_from_dlpack,
            "from_dlpack(x: DLPackCompatible, /, *, copy: bool | None = None) -> "
            "array\n\nAn array of the data of ``x``, any object with ``__dlpack__`` and "
            "``__dlpack_device__`` on the CPU. The memory is shared when the layout allows "
            "(the DLPack strides are kept), copied otherwise; ``copy=True`` always copies, "
            "``copy=False`` raises ValueError when a copy would be needed."),
    {NULL, NULL, 0, NULL},
};

int pyops_init_dlpack(PyObject *m) { return pyops_add_functions(m, methods); }
