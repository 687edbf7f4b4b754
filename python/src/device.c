/* Devices and streams: Device, DeviceType (cpu, gpu), Stream, default_device,
 * set_default_device, default_stream, set_default_stream, new_stream, stream(...) (a context
 * manager), synchronize, is_available.
 *
 * Lazuli computes on the CPU only, so these mirror MLX on a machine without a GPU backend: the
 * objects exist and compare as MLX's do, every op accepts `stream=` and ignores it, and asking
 * to run on the GPU raises MLX's ValueError. */
#include "pylz.h"
#include "ops_impl.h"

#include <structmember.h>

enum { DEV_CPU, DEV_GPU };

static PyObject *device_type_enum; /* DeviceType */

typedef struct {
  PyObject_HEAD int type, index;
} PyLzDevice;

typedef struct {
  PyObject_HEAD int index;
  PyObject *device; /* a Device */
} PyLzStream;

static PyTypeObject PyLzDevice_Type, PyLzStream_Type;

static PyObject *default_device_obj; /* Device(cpu, 0) */
static PyObject *default_stream_obj; /* Stream(Device(cpu, 0), 0) */
static int next_stream_index = 1;

/* DeviceType member -> 0/1, a Device -> its type; -1 with TypeError otherwise. */
static int device_type_of(PyObject *o, int *index) {
  if (index) *index = 0;
  if (PyObject_TypeCheck(o, &PyLzDevice_Type)) {
    if (index) *index = ((PyLzDevice *)o)->index;
    return ((PyLzDevice *)o)->type;
  }
  int r = PyObject_IsInstance(o, device_type_enum);
  if (r < 0) return -1;
  if (r) {
    PyObject *v = PyObject_GetAttrString(o, "value");
    if (!v) return -1;
    long t = PyLong_AsLong(v);
    Py_DECREF(v);
    return (int)t;
  }
  PyErr_Format(PyExc_TypeError, "expected a Device or DeviceType, not %.100s", Py_TYPE(o)->tp_name);
  return -1;
}

static int no_gpu(const char *who, const char *what) {
  PyErr_Format(PyExc_ValueError, "[%s] Cannot %s without gpu backend.", who, what);
  return -1;
}

static PyObject *make_device(int type, int index) {
  PyLzDevice *d = PyObject_New(PyLzDevice, &PyLzDevice_Type);
  if (d) {
    d->type = type;
    d->index = index;
  }
  return (PyObject *)d;
}

static PyObject *device_new(PyTypeObject *t, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"type", "index", NULL};
  PyObject *type;
  int index = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|i:Device", kwlist, &type, &index)) return NULL;
  int ty = device_type_of(type, NULL);
  return ty < 0 ? NULL : make_device(ty, index);
}

static PyObject *device_repr(PyObject *self) {
  PyLzDevice *d = (PyLzDevice *)self;
  return PyUnicode_FromFormat("Device(%s, %d)", d->type == DEV_CPU ? "cpu" : "gpu", d->index);
}

static PyObject *device_richcompare(PyObject *a, PyObject *b, int op) {
  if (op != Py_EQ && op != Py_NE) Py_RETURN_NOTIMPLEMENTED;
  int eq = 0;
  if (PyObject_TypeCheck(b, &PyLzDevice_Type)) {
    eq = ((PyLzDevice *)a)->type == ((PyLzDevice *)b)->type &&
         ((PyLzDevice *)a)->index == ((PyLzDevice *)b)->index;
  } else {
    int r = PyObject_IsInstance(b, device_type_enum);
    if (r < 0) return NULL;
    if (r) {
      int bi;
      int bt = device_type_of(b, &bi);
      if (bt < 0) return NULL;
      eq = bt == ((PyLzDevice *)a)->type && ((PyLzDevice *)a)->index == 0;
    }
  }
  return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static Py_hash_t device_hash(PyObject *self) {
  return ((PyLzDevice *)self)->type * 1000003 + ((PyLzDevice *)self)->index + 1;
}

static PyObject *device_get_type(PyObject *self, void *c) {
  return PyObject_CallFunction(device_type_enum, "i", ((PyLzDevice *)self)->type);
}

static PyGetSetDef device_getset[] = {
    {"type", device_get_type, NULL, "The DeviceType (cpu or gpu).", NULL},
    {NULL},
};

static PyMemberDef device_members[] = {
    {"index", T_INT, offsetof(PyLzDevice, index), READONLY, "The device's index."},
    {NULL},
};

static PyTypeObject PyLzDevice_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core.Device",
    .tp_basicsize = sizeof(PyLzDevice),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Device(type: DeviceType, index: int = 0)\n\nA device to run operations on.",
    .tp_new = device_new,
    .tp_repr = device_repr,
    .tp_richcompare = device_richcompare,
    .tp_hash = device_hash,
    .tp_getset = device_getset,
    .tp_members = device_members,
};

/* ---- streams ----------------------------------------------------------------------------------
 */

static PyObject *make_stream(int index, PyObject *device) {
  PyLzStream *s = PyObject_New(PyLzStream, &PyLzStream_Type);
  if (s) {
    s->index = index;
    s->device = device;
    Py_INCREF(device);
  }
  return (PyObject *)s;
}

static void stream_dealloc(PyObject *o) {
  Py_XDECREF(((PyLzStream *)o)->device);
  PyObject_Free(o);
}

static PyObject *stream_new(PyTypeObject *t, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"index", "device", NULL};
  int index;
  PyObject *device;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "iO:Stream", kwlist, &index, &device)) return NULL;
  int di, ty = device_type_of(device, &di);
  if (ty < 0) return NULL;
  PyObject *d = make_device(ty, di);
  if (!d) return NULL;
  PyObject *s = make_stream(index, d);
  Py_DECREF(d);
  return s;
}

static PyObject *stream_repr(PyObject *self) {
  PyLzStream *s = (PyLzStream *)self;
  return PyUnicode_FromFormat("Stream(%R, %d)", s->device, s->index);
}

static PyObject *stream_richcompare(PyObject *a, PyObject *b, int op) {
  if (op != Py_EQ && op != Py_NE) Py_RETURN_NOTIMPLEMENTED;
  int eq = 0;
  if (PyObject_TypeCheck(b, &PyLzStream_Type)) {
    PyLzStream *x = (PyLzStream *)a, *y = (PyLzStream *)b;
    int r = PyObject_RichCompareBool(x->device, y->device, Py_EQ);
    if (r < 0) return NULL;
    eq = r && x->index == y->index;
  }
  return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static Py_hash_t stream_hash(PyObject *self) {
  PyLzStream *s = (PyLzStream *)self;
  return device_hash(s->device) * 31 + s->index;
}

static PyMemberDef stream_members[] = {
    {"device", T_OBJECT, offsetof(PyLzStream, device), READONLY, "The stream's Device."},
    {"index", T_INT, offsetof(PyLzStream, index), READONLY, "The stream's index."},
    {NULL},
};

static PyTypeObject PyLzStream_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core.Stream",
    .tp_basicsize = sizeof(PyLzStream),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Stream(index: int, device: Device)\n\nA stream for running operations on a given "
              "device (Lazuli runs every stream on the CPU).",
    .tp_new = stream_new,
    .tp_dealloc = stream_dealloc,
    .tp_repr = stream_repr,
    .tp_richcompare = stream_richcompare,
    .tp_hash = stream_hash,
    .tp_members = stream_members,
};

/* ---- the stream(...) context ---------------------------------------------------------------- */

typedef struct {
  PyObject_HEAD PyObject *target; /* a Stream or Device */
  PyObject *saved_device, *saved_stream;
} PyLzStreamContext;

static void ctx_dealloc(PyObject *o) {
  PyLzStreamContext *c = (PyLzStreamContext *)o;
  Py_XDECREF(c->target);
  Py_XDECREF(c->saved_device);
  Py_XDECREF(c->saved_stream);
  PyObject_Free(o);
}

/* Makes `target` (Stream, Device or DeviceType) the default; ValueError for the GPU. */
static int set_defaults(PyObject *target, const char *who) {
  PyObject *dev, *st;
  if (PyObject_TypeCheck(target, &PyLzStream_Type)) {
    st = target;
    dev = ((PyLzStream *)target)->device;
    if (((PyLzDevice *)dev)->type == DEV_GPU) return no_gpu(who, "set gpu device");
    Py_INCREF(st);
    Py_INCREF(dev);
  } else {
    int idx, ty = device_type_of(target, &idx);
    if (ty < 0) return -1;
    if (ty == DEV_GPU) return no_gpu(who, "set gpu device");
    dev = make_device(ty, idx);
    st = dev ? make_stream(0, dev) : NULL;
    if (!st) {
      Py_XDECREF(dev);
      return -1;
    }
  }
  Py_SETREF(default_device_obj, dev);
  Py_SETREF(default_stream_obj, st);
  return 0;
}

static PyObject *ctx_enter(PyObject *self, PyObject *unused) {
  PyLzStreamContext *c = (PyLzStreamContext *)self;
  Py_XSETREF(c->saved_device, default_device_obj);
  Py_INCREF(c->saved_device);
  Py_XSETREF(c->saved_stream, default_stream_obj);
  Py_INCREF(c->saved_stream);
  if (set_defaults(c->target, "StreamContext") < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *ctx_exit(PyObject *self, PyObject *args) {
  PyLzStreamContext *c = (PyLzStreamContext *)self;
  if (c->saved_device) {
    Py_SETREF(default_device_obj, c->saved_device);
    Py_SETREF(default_stream_obj, c->saved_stream);
    c->saved_device = c->saved_stream = NULL;
  }
  Py_RETURN_FALSE;
}

static PyMethodDef ctx_methods[] = {
    {"__enter__", ctx_enter, METH_NOARGS, NULL},
    {"__exit__", ctx_exit, METH_VARARGS, NULL},
    {NULL},
};

static PyTypeObject PyLzStreamContext_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core.StreamContext",
    .tp_basicsize = sizeof(PyLzStreamContext),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A context manager for setting the current device and stream. See stream().",
    .tp_dealloc = ctx_dealloc,
    .tp_methods = ctx_methods,
};

/* ---- module functions -------------------------------------------------------------------------
 */

static PyObject *f_default_device(PyObject *m, PyObject *unused) {
  Py_INCREF(default_device_obj);
  return default_device_obj;
}

static PyObject *f_set_default_device(PyObject *m, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"device", NULL};
  PyObject *d;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:set_default_device", kwlist, &d)) return NULL;
  if (PyObject_TypeCheck(d, &PyLzStream_Type)) {
    PyErr_SetString(PyExc_TypeError, "set_default_device expects a Device, not a Stream");
    return NULL;
  }
  if (set_defaults(d, "set_default_device") < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *f_default_stream(PyObject *m, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"device", NULL};
  PyObject *d;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:default_stream", kwlist, &d)) return NULL;
  int idx, ty = device_type_of(d, &idx);
  if (ty < 0) return NULL;
  if (ty == DEV_GPU) return no_gpu("default_stream", "get gpu stream"), NULL;
  PyLzStream *cur = (PyLzStream *)default_stream_obj;
  PyLzDevice *cd = (PyLzDevice *)cur->device;
  if (cd->type == ty && cd->index == idx) {
    Py_INCREF(default_stream_obj);
    return default_stream_obj;
  }
  PyObject *dev = make_device(ty, idx);
  PyObject *s = dev ? make_stream(0, dev) : NULL;
  Py_XDECREF(dev);
  return s;
}

static PyObject *f_set_default_stream(PyObject *m, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"stream", NULL};
  PyObject *s;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!:set_default_stream", kwlist, &PyLzStream_Type,
                                   &s))
    return NULL;
  if (((PyLzDevice *)((PyLzStream *)s)->device)->type == DEV_GPU)
    return no_gpu("set_default_stream", "set gpu stream"), NULL;
  Py_INCREF(s);
  Py_SETREF(default_stream_obj, s);
  Py_RETURN_NONE;
}

static PyObject *f_new_stream(PyObject *m, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"device", NULL};
  PyObject *d;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:new_stream", kwlist, &d)) return NULL;
  int idx, ty = device_type_of(d, &idx);
  if (ty < 0) return NULL;
  if (ty == DEV_GPU) return no_gpu("new_stream", "make gpu stream"), NULL;
  PyObject *dev = make_device(ty, idx);
  PyObject *s = dev ? make_stream(next_stream_index++, dev) : NULL;
  Py_XDECREF(dev);
  return s;
}

static PyObject *f_stream(PyObject *m, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"s", NULL};
  PyObject *s;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:stream", kwlist, &s)) return NULL;
  if (s == Py_None) {
    PyErr_SetString(PyExc_RuntimeError,
                    "[StreamContext] Invalid argument, please specify a stream or device.");
    return NULL;
  }
  if (!PyObject_TypeCheck(s, &PyLzStream_Type) && device_type_of(s, NULL) < 0) return NULL;
  PyLzStreamContext *c = PyObject_New(PyLzStreamContext, &PyLzStreamContext_Type);
  if (!c) return NULL;
  c->target = s;
  Py_INCREF(s);
  c->saved_device = c->saved_stream = NULL;
  return (PyObject *)c;
}

/* Waits for this thread's asynchronous evaluation (async_eval), GIL released. */
static PyObject *f_synchronize(PyObject *m, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"stream", NULL};
  PyObject *s = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:synchronize", kwlist, &s)) return NULL;
  if (s != Py_None && !PyObject_TypeCheck(s, &PyLzStream_Type)) {
    PyErr_Format(PyExc_TypeError, "synchronize expects a Stream or None, not %.100s",
                 Py_TYPE(s)->tp_name);
    return NULL;
  }
  if (pylz_eval_many(NULL, 0) < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *f_is_available(PyObject *m, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"device", NULL};
  PyObject *d;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:is_available", kwlist, &d)) return NULL;
  int ty = device_type_of(d, NULL);
  return ty < 0 ? NULL : PyBool_FromLong(ty == DEV_CPU);
}

static PyMethodDef device_functions[] = {
    {"default_device", f_default_device, METH_NOARGS,
     "default_device() -> Device\n\nGet the default device."},
    PYOPS_F("set_default_device", f_set_default_device,
            "set_default_device(device: Device) -> None\n\nSet the default device (the GPU raises "
            "ValueError: Lazuli has no GPU backend)."),
    PYOPS_F("default_stream", f_default_stream,
            "default_stream(device: Device) -> Stream\n\nGet the device's default stream."),
    PYOPS_F("set_default_stream", f_set_default_stream,
            "set_default_stream(stream: Stream) -> None\n\nSet the default stream."),
    PYOPS_F("new_stream", f_new_stream,
            "new_stream(device: Device) -> Stream\n\nMake a new stream on the given device."),
    PYOPS_F("stream", f_stream,
            "stream(s: Stream | Device) -> StreamContext\n\nCreate a context manager to set the "
            "default device and stream:\n\n    with mx.stream(mx.cpu):\n        ..."),
    PYOPS_F(
        "synchronize", f_synchronize,
        "synchronize(stream: Stream | None = None) -> None\n\nWait until the work scheduled with "
        "async_eval on this thread has finished."),
    PYOPS_F(
        "is_available", f_is_available,
        "is_available(device: Device) -> bool\n\nWhether the device can run operations (only the "
        "CPU can)."),
    {NULL},
};

int pylz_init_devices(PyObject *m) {
  if (PyType_Ready(&PyLzDevice_Type) < 0 || PyType_Ready(&PyLzStream_Type) < 0 ||
      PyType_Ready(&PyLzStreamContext_Type) < 0)
    return -1;
  PyObject *enum_mod = PyImport_ImportModule("enum");
  if (!enum_mod) return -1;
  PyObject *members = Py_BuildValue("[(si)(si)]", "cpu", DEV_CPU, "gpu", DEV_GPU);
  PyObject *kw = Py_BuildValue("{ss}", "module", "lazuli.core");
  PyObject *fn = PyObject_GetAttrString(enum_mod, "Enum");
  PyObject *args = members ? Py_BuildValue("(sO)", "DeviceType", members) : NULL;
  device_type_enum = fn && args && kw ? PyObject_Call(fn, args, kw) : NULL;
  Py_XDECREF(fn);
  Py_XDECREF(args);
  Py_XDECREF(kw);
  Py_XDECREF(members);
  Py_DECREF(enum_mod);
  if (!device_type_enum) return -1;
  default_device_obj = make_device(DEV_CPU, 0);
  default_stream_obj = default_device_obj ? make_stream(0, default_device_obj) : NULL;
  if (!default_stream_obj) return -1;
  Py_INCREF(device_type_enum);
  if (PyModule_AddObject(m, "DeviceType", device_type_enum) < 0) return -1;
  static const char *names[2] = {"cpu", "gpu"};
  for (int i = 0; i < 2; i++) {
    PyObject *v = PyObject_GetAttrString(device_type_enum, names[i]);
    if (!v || PyModule_AddObject(m, names[i], v) < 0) {
      Py_XDECREF(v);
      return -1;
    }
  }
  PyTypeObject *types[] = {&PyLzDevice_Type, &PyLzStream_Type, &PyLzStreamContext_Type};
  const char *tnames[] = {"Device", "Stream", "StreamContext"};
  for (int i = 0; i < 3; i++) {
    Py_INCREF(types[i]);
    if (PyModule_AddObject(m, tnames[i], (PyObject *)types[i]) < 0) {
      Py_DECREF(types[i]);
      return -1;
    }
  }
  return PyModule_AddFunctions(m, device_functions);
}
