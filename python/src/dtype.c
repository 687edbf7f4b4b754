/* Dtypes: the 14 `Dtype` objects, `DtypeCategory`, `issubdtype`, `finfo` and `iinfo`, and MLX's
 * Array API dtype functions (result_type, can_cast, isdtype).
 *
 * Each Dtype is a singleton (lazuli.core.float32 is lazuli.core.array(1.).dtype), so `is` and
 * `==` both work, and they hash by their code as MLX's do. */
#include "pylz.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <structmember.h>

typedef struct {
  PyObject_HEAD lz_dtype dt;
} PyLzDtype;

static PyTypeObject PyLzDtype_Type;
static PyLzDtype dtype_objects[LZ_DTYPE_COUNT];
static PyObject *category_type; /* the DtypeCategory enum class */

/* MLX's attribute names: bool is `bool_` (the dtype still prints as "bool"). */
static const char *attr_name(lz_dtype dt) { return dt == LZ_BOOL ? "bool_" : lz_dtype_name(dt); }

PyObject *pylz_dtype_to_py(lz_dtype dt) {
  if ((unsigned)dt >= LZ_DTYPE_COUNT) {
    PyErr_Format(PyExc_ValueError, "invalid dtype code %d", (int)dt);
    return NULL;
  }
  PyObject *o = (PyObject *)&dtype_objects[dt];
  Py_INCREF(o);
  return o;
}

int pylz_dtype_from_py(PyObject *o, lz_dtype *out) {
  if (!PyObject_TypeCheck(o, &PyLzDtype_Type)) {
    PyErr_Format(PyExc_TypeError, "expected a Dtype (e.g. lazuli.core.float32), not %.100s",
                 Py_TYPE(o)->tp_name);
    return -1;
  }
  *out = ((PyLzDtype *)o)->dt;
  return 0;
}

static PyObject *dtype_repr(PyObject *self) {
  return PyUnicode_FromFormat("lazuli.core.%s", lz_dtype_name(((PyLzDtype *)self)->dt));
}

static Py_hash_t dtype_hash(PyObject *self) { return (Py_hash_t)((PyLzDtype *)self)->dt + 1; }

static PyObject *dtype_richcompare(PyObject *a, PyObject *b, int op) {
  if (op != Py_EQ && op != Py_NE) Py_RETURN_NOTIMPLEMENTED;
  int eq = PyObject_TypeCheck(b, &PyLzDtype_Type) && ((PyLzDtype *)a)->dt == ((PyLzDtype *)b)->dt;
  return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static PyObject *dtype_size(PyObject *self, void *closure) {
  return PyLong_FromSize_t(lz_dtype_size(((PyLzDtype *)self)->dt));
}

static PyObject *dtype_reduce(PyObject *self, PyObject *unused) {
  /* Pickles as a reference to the module attribute, so it unpickles to the singleton. */
  return PyUnicode_FromString(attr_name(((PyLzDtype *)self)->dt));
}

static PyGetSetDef dtype_getset[] = {
    {"size", dtype_size, NULL, "Size of the type in bytes.", NULL},
    {NULL},
};

static PyMethodDef dtype_methods[] = {
    {"__reduce__", dtype_reduce, METH_NOARGS, NULL},
    {NULL},
};

static PyTypeObject PyLzDtype_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core.Dtype",
    .tp_basicsize = sizeof(PyLzDtype),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "An object to hold the type of an :class:`array`.\n\n"
              "The 14 types are module attributes: bool_, uint8, uint16, uint32, uint64, int8, "
              "int16, int32, int64, float16, bfloat16, float32, float64, complex64.",
    .tp_repr = dtype_repr,
    .tp_hash = dtype_hash,
    .tp_richcompare = dtype_richcompare,
    .tp_getset = dtype_getset,
    .tp_methods = dtype_methods,
};

/* ---- categories ------------------------------------------------------------------------- */

/* MLX's Dtype::Category, in its order (the enum values). */
enum {
  CAT_COMPLEX,
  CAT_FLOATING,
  CAT_INEXACT,
  CAT_SIGNED,
  CAT_UNSIGNED,
  CAT_INTEGER,
  CAT_NUMBER,
  CAT_GENERIC,
  CAT_COUNT
};
static const char *category_names[CAT_COUNT] = {"complexfloating", "floating",        "inexact",
                                                "signedinteger",   "unsignedinteger", "integer",
                                                "number",          "generic"};

static int category_of(lz_dtype dt) {
  if (dt == LZ_BOOL) return CAT_GENERIC;
  if (dt == LZ_COMPLEX64) return CAT_COMPLEX;
  if (lz_dtype_is_float(dt)) return CAT_FLOATING;
  return lz_dtype_is_signed(dt) ? CAT_SIGNED : CAT_UNSIGNED;
}

/* Whether category `a` lies under category `b` in MLX's tree. */
static int category_under(int a, int b) {
  while (1) {
    if (a == b) return 1;
    switch (a) {
    case CAT_COMPLEX:
    case CAT_FLOATING:
      a = CAT_INEXACT;
      break;
    case CAT_SIGNED:
    case CAT_UNSIGNED:
      a = CAT_INTEGER;
      break;
    case CAT_INTEGER:
    case CAT_INEXACT:
      a = CAT_NUMBER;
      break;
    case CAT_NUMBER:
      a = CAT_GENERIC;
      break;
    default:
      return 0;
    }
  }
}

/* Reads a DtypeCategory member: 0, 1 when `o` is not one, -1 on error. */
static int category_from_py(PyObject *o, int *out) {
  int r = PyObject_IsInstance(o, category_type);
  if (r <= 0) return r < 0 ? -1 : 1;
  PyObject *v = PyObject_GetAttrString(o, "value");
  if (!v) return -1;
  long c = PyLong_AsLong(v);
  Py_DECREF(v);
  if (c == -1 && PyErr_Occurred()) return -1;
  *out = (int)c;
  return 0;
}

static PyObject *issubdtype(PyObject *self, PyObject *args) {
  PyObject *a, *b;
  if (!PyArg_ParseTuple(args, "OO:issubdtype", &a, &b)) return NULL;
  int ca, cb, ra, rb;
  lz_dtype da = LZ_BOOL, db;
  int a_is_dtype = PyObject_TypeCheck(a, &PyLzDtype_Type);
  int b_is_dtype = PyObject_TypeCheck(b, &PyLzDtype_Type);
  if (a_is_dtype) {
    da = ((PyLzDtype *)a)->dt;
    ca = category_of(da);
  } else if ((ra = category_from_py(a, &ca)) != 0) {
    if (ra > 0)
      PyErr_Format(PyExc_TypeError,
                   "issubdtype: arguments must be Dtype or DtypeCategory, not %.100s",
                   Py_TYPE(a)->tp_name);
    return NULL;
  }
  if (b_is_dtype) {
    db = ((PyLzDtype *)b)->dt;
    /* A category is never under a single dtype; a dtype only under itself. */
    return PyBool_FromLong(a_is_dtype && da == db);
  }
  if ((rb = category_from_py(b, &cb)) != 0) {
    if (rb > 0)
      PyErr_Format(PyExc_TypeError,
                   "issubdtype: arguments must be Dtype or DtypeCategory, not %.100s",
                   Py_TYPE(b)->tp_name);
    return NULL;
  }
  return PyBool_FromLong(category_under(ca, cb));
}

/* ---- MLX's Array API dtype functions: result_type, can_cast, isdtype ---- */

/* The dtype of a Dtype or an array argument: 0, or -1 with TypeError. */
static int dtype_of_arg(PyObject *o, lz_dtype *out, const char *fn, const char *what) {
  if (PyObject_TypeCheck(o, &PyLzDtype_Type)) {
    *out = ((PyLzDtype *)o)->dt;
    return 0;
  }
  if (PyLzArray_Check(o)) {
    *out = lz_array_dtype(((PyLzArray *)o)->a);
    return 0;
  }
  PyErr_Format(PyExc_TypeError, "[%s] %s must be an array or a Dtype, not %.100s", fn, what,
               Py_TYPE(o)->tp_name);
  return -1;
}

static PyObject *result_type(PyObject *self, PyObject *args) {
  Py_ssize_t n = PyTuple_GET_SIZE(args);
  if (n == 0) {
    PyErr_SetString(PyExc_ValueError, "[result_type] at least one array or dtype is required");
    return NULL;
  }
  lz_dtype r = LZ_BOOL;
  for (Py_ssize_t i = 0; i < n; i++) {
    lz_dtype d;
    if (dtype_of_arg(PyTuple_GET_ITEM(args, i), &d, "result_type", "each argument") < 0)
      return NULL;
    r = i ? lz_promote_types(r, d) : d;
  }
  return pylz_dtype_to_py(r);
}

static PyObject *can_cast(PyObject *self, PyObject *args) {
  PyObject *from, *to;
  if (!PyArg_ParseTuple(args, "OO:can_cast", &from, &to)) return NULL;
  lz_dtype f, t;
  if (dtype_of_arg(from, &f, "can_cast", "from_") < 0) return NULL;
  if (!PyObject_TypeCheck(to, &PyLzDtype_Type)) {
    PyErr_Format(PyExc_TypeError, "[can_cast] to must be a Dtype, not %.100s",
                 Py_TYPE(to)->tp_name);
    return NULL;
  }
  t = ((PyLzDtype *)to)->dt;
  return PyBool_FromLong(lz_promote_types(f, t) == t);
}

/* Whether dtype `dt` is of `kind`: a Dtype (that one) or one of the Array API kind names. */
static int of_kind(lz_dtype dt, PyObject *kind) {
  if (PyObject_TypeCheck(kind, &PyLzDtype_Type)) return dt == ((PyLzDtype *)kind)->dt;
  if (!PyUnicode_Check(kind)) {
    PyErr_Format(PyExc_TypeError,
                 "[isdtype] kind must be a Dtype, a str or a tuple of them, "
                 "not %.100s",
                 Py_TYPE(kind)->tp_name);
    return -1;
  }
  const char *k = PyUnicode_AsUTF8(kind);
  if (!k) return -1;
  bool is_int = lz_dtype_is_integer(dt), is_float = lz_dtype_is_float(dt);
  if (!strcmp(k, "bool")) return dt == LZ_BOOL;
  if (!strcmp(k, "signed integer")) return is_int && lz_dtype_is_signed(dt);
  if (!strcmp(k, "unsigned integer")) return is_int && !lz_dtype_is_signed(dt);
  if (!strcmp(k, "integral")) return is_int;
  if (!strcmp(k, "real floating")) return is_float;
  if (!strcmp(k, "complex floating")) return dt == LZ_COMPLEX64;
  if (!strcmp(k, "numeric")) return dt != LZ_BOOL;
  PyErr_Format(PyExc_ValueError,
               "[isdtype] unknown kind '%s': expected 'bool', 'signed integer', 'unsigned "
               "integer', 'integral', 'real floating', 'complex floating' or 'numeric'",
               k);
  return -1;
}

static PyObject *isdtype(PyObject *self, PyObject *args) {
  PyObject *odt, *kind;
  if (!PyArg_ParseTuple(args, "OO:isdtype", &odt, &kind)) return NULL;
  if (!PyObject_TypeCheck(odt, &PyLzDtype_Type)) {
    PyErr_Format(PyExc_TypeError, "[isdtype] dtype must be a Dtype, not %.100s",
                 Py_TYPE(odt)->tp_name);
    return NULL;
  }
  lz_dtype dt = ((PyLzDtype *)odt)->dt;
  if (!PyTuple_Check(kind)) {
    int r = of_kind(dt, kind);
    return r < 0 ? NULL : PyBool_FromLong(r);
  }
  int any = 0;
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kind); i++) {
    int r = of_kind(dt, PyTuple_GET_ITEM(kind, i));
    if (r < 0) return NULL;
    any |= r;
  }
  return PyBool_FromLong(any);
}

/* ---- finfo / iinfo ---------------------------------------------------------------------- */

typedef struct {
  PyObject_HEAD PyObject *min, *max, *eps, *dtype;
} PyLzTypeInfo;

static void typeinfo_dealloc(PyObject *self) {
  PyLzTypeInfo *t = (PyLzTypeInfo *)self;
  Py_XDECREF(t->min);
  Py_XDECREF(t->max);
  Py_XDECREF(t->eps);
  Py_XDECREF(t->dtype);
  Py_TYPE(self)->tp_free(self);
}

static PyObject *finfo_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"dtype", NULL};
  PyObject *d;
  lz_dtype dt;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:finfo", kwlist, &d) ||
      pylz_dtype_from_py(d, &dt) < 0)
    return NULL;
  double mx, eps;
  switch (dt) {
  case LZ_FLOAT16:
    mx = 65504.0;
    eps = 0.0009765625;
    break;
  case LZ_BFLOAT16:
    mx = 3.3895313892515355e38;
    eps = 0.0078125;
    break;
  case LZ_FLOAT32:
  case LZ_COMPLEX64:
    mx = FLT_MAX;
    eps = FLT_EPSILON;
    break;
  case LZ_FLOAT64:
    mx = DBL_MAX;
    eps = DBL_EPSILON;
    break;
  default:
    PyErr_Format(PyExc_ValueError, "[finfo] dtype %s is not inexact.", lz_dtype_name(dt));
    return NULL;
  }
  PyLzTypeInfo *t = (PyLzTypeInfo *)type->tp_alloc(type, 0);
  if (!t) return NULL;
  t->min = PyFloat_FromDouble(-mx);
  t->max = PyFloat_FromDouble(mx);
  t->eps = PyFloat_FromDouble(eps);
  t->dtype = pylz_dtype_to_py(dt == LZ_COMPLEX64 ? LZ_FLOAT32 : dt);
  if (!t->min || !t->max || !t->eps || !t->dtype) {
    Py_DECREF(t);
    return NULL;
  }
  return (PyObject *)t;
}

static PyObject *iinfo_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"dtype", NULL};
  PyObject *d;
  lz_dtype dt;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:iinfo", kwlist, &d) ||
      pylz_dtype_from_py(d, &dt) < 0)
    return NULL;
  if (!lz_dtype_is_integer(dt)) {
    PyErr_Format(PyExc_ValueError, "[iinfo] dtype %s is not integral.", lz_dtype_name(dt));
    return NULL;
  }
  int bits = (int)lz_dtype_size(dt) * 8;
  PyLzTypeInfo *t = (PyLzTypeInfo *)type->tp_alloc(type, 0);
  if (!t) return NULL;
  if (lz_dtype_is_signed(dt)) {
    int64_t hi = (int64_t)(((uint64_t)1 << (bits - 1)) - 1);
    t->min = PyLong_FromLongLong(-hi - 1);
    t->max = PyLong_FromLongLong(hi);
  } else {
    t->min = PyLong_FromLong(0);
    t->max = PyLong_FromUnsignedLongLong(bits == 64 ? UINT64_MAX : (((uint64_t)1 << bits) - 1));
  }
  t->dtype = pylz_dtype_to_py(dt);
  if (!t->min || !t->max || !t->dtype) {
    Py_DECREF(t);
    return NULL;
  }
  return (PyObject *)t;
}

/* MLX prints the limits with C++ stream defaults: 6 significant digits. */
static PyObject *typeinfo_repr(PyObject *self) {
  PyLzTypeInfo *t = (PyLzTypeInfo *)self;
  lz_dtype dt;
  if (pylz_dtype_from_py(t->dtype, &dt) < 0) return NULL;
  if (PyFloat_Check(t->min)) {
    char lo[32], hi[32];
    snprintf(lo, sizeof lo, "%g", PyFloat_AS_DOUBLE(t->min));
    snprintf(hi, sizeof hi, "%g", PyFloat_AS_DOUBLE(t->max));
    return PyUnicode_FromFormat("finfo(min=%s, max=%s, dtype=%s)", lo, hi, lz_dtype_name(dt));
  }
  return PyUnicode_FromFormat("iinfo(min=%S, max=%S, dtype=%s)", t->min, t->max, lz_dtype_name(dt));
}

static PyMemberDef finfo_members[] = {
    {"min", T_OBJECT, offsetof(PyLzTypeInfo, min), READONLY, "The smallest representable number."},
    {"max", T_OBJECT, offsetof(PyLzTypeInfo, max), READONLY, "The largest representable number."},
    {"eps", T_OBJECT, offsetof(PyLzTypeInfo, eps), READONLY,
     "The difference between 1.0 and the next representable number."},
    {"dtype", T_OBJECT, offsetof(PyLzTypeInfo, dtype), READONLY, "The :obj:`Dtype`."},
    {NULL},
};
static PyMemberDef iinfo_members[] = {
    {"min", T_OBJECT, offsetof(PyLzTypeInfo, min), READONLY, "The smallest representable number."},
    {"max", T_OBJECT, offsetof(PyLzTypeInfo, max), READONLY, "The largest representable number."},
    {"dtype", T_OBJECT, offsetof(PyLzTypeInfo, dtype), READONLY, "The :obj:`Dtype`."},
    {NULL},
};

static PyTypeObject finfo_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core.finfo",
    .tp_basicsize = sizeof(PyLzTypeInfo),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "finfo(dtype: Dtype)\n\nGet information on floating-point types: min, max, eps, "
              "dtype.",
    .tp_new = finfo_new,
    .tp_dealloc = typeinfo_dealloc,
    .tp_repr = typeinfo_repr,
    .tp_members = finfo_members,
};
static PyTypeObject iinfo_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core.iinfo",
    .tp_basicsize = sizeof(PyLzTypeInfo),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "iinfo(dtype: Dtype)\n\nGet information on integer types: min, max, dtype.",
    .tp_new = iinfo_new,
    .tp_dealloc = typeinfo_dealloc,
    .tp_repr = typeinfo_repr,
    .tp_members = iinfo_members,
};

static PyMethodDef dtype_functions[] = {
    {"issubdtype", issubdtype, METH_VARARGS,
     "issubdtype(arg1: Dtype | DtypeCategory, arg2: Dtype | DtypeCategory) -> bool\n\n"
     "Check if a :obj:`Dtype` or :obj:`DtypeCategory` is a subtype of another.\n\n"
     ">>> mx.issubdtype(mx.float32, mx.floating)\nTrue"},
    {"result_type", result_type, METH_VARARGS,
     "result_type(*arrays_and_dtypes: array | Dtype) -> Dtype\n\nThe type that results from "
     "applying type promotion to the inputs."},
    {"can_cast", can_cast, METH_VARARGS,
     "can_cast(from_: array | Dtype, to: Dtype) -> bool\n\nWhether ``from_`` can be cast to "
     "``to`` by type promotion: promoting the two gives back ``to``."},
    {"isdtype", isdtype, METH_VARARGS,
     "isdtype(dtype: Dtype, kind: Dtype | str | tuple[Dtype | str, ...]) -> bool\n\nWhether "
     "``dtype`` is of one of the kinds: a Dtype, or 'bool', 'signed integer', 'unsigned "
     "integer', 'integral', 'real floating', 'complex floating', 'numeric'."},
    {NULL},
};

/* DtypeCategory is a Python enum (as MLX's), created through the enum module. */
static int make_categories(PyObject *m) {
  PyObject *enum_mod = PyImport_ImportModule("enum");
  if (!enum_mod) return -1;
  PyObject *members = PyList_New(0);
  int rc = -1;
  for (int c = 0; members && c < CAT_COUNT; c++) {
    PyObject *pair = Py_BuildValue("(si)", category_names[c], c);
    if (!pair || PyList_Append(members, pair) < 0) {
      Py_XDECREF(pair);
      goto out;
    }
    Py_DECREF(pair);
  }
  PyObject *kwargs = Py_BuildValue("{ss}", "module", "lazuli.core");
  if (!members || !kwargs) {
    Py_XDECREF(kwargs);
    goto out;
  }
  PyObject *fn = PyObject_GetAttrString(enum_mod, "Enum");
  PyObject *args = fn ? Py_BuildValue("(sO)", "DtypeCategory", members) : NULL;
  category_type = args ? PyObject_Call(fn, args, kwargs) : NULL;
  Py_XDECREF(fn);
  Py_XDECREF(args);
  Py_DECREF(kwargs);
  if (!category_type) goto out;
  PyObject *doc = PyUnicode_FromString(
      "Type to hold categories of dtypes: generic > number > (integer > signedinteger, "
      "unsignedinteger), (inexact > floating, complexfloating). See issubdtype.");
  if (!doc || PyObject_SetAttrString(category_type, "__doc__", doc) < 0) {
    Py_XDECREF(doc);
    goto out;
  }
  Py_DECREF(doc);
  Py_INCREF(category_type);
  if (PyModule_AddObject(m, "DtypeCategory", category_type) < 0) {
    Py_DECREF(category_type);
    goto out;
  }
  for (int c = 0; c < CAT_COUNT; c++) {
    PyObject *v = PyObject_GetAttrString(category_type, category_names[c]);
    if (!v || PyModule_AddObject(m, category_names[c], v) < 0) {
      Py_XDECREF(v);
      goto out;
    }
  }
  rc = 0;
out:
  Py_XDECREF(members);
  Py_DECREF(enum_mod);
  return rc;
}

int pylz_init_dtypes(PyObject *m) {
  if (PyType_Ready(&PyLzDtype_Type) < 0 || PyType_Ready(&finfo_type) < 0 ||
      PyType_Ready(&iinfo_type) < 0)
    return -1;
  for (int i = 0; i < LZ_DTYPE_COUNT; i++) {
    PyObject *o = (PyObject *)&dtype_objects[i];
    /* Statically allocated and immortal in practice: the module holds them for ever. */
    Py_SET_TYPE(o, &PyLzDtype_Type);
    Py_SET_REFCNT(o, 1);
    dtype_objects[i].dt = (lz_dtype)i;
    Py_INCREF(o);
    if (PyModule_AddObject(m, attr_name((lz_dtype)i), o) < 0) {
      Py_DECREF(o);
      return -1;
    }
  }
  Py_INCREF(&PyLzDtype_Type);
  Py_INCREF(&finfo_type);
  Py_INCREF(&iinfo_type);
  if (PyModule_AddObject(m, "Dtype", (PyObject *)&PyLzDtype_Type) < 0 ||
      PyModule_AddObject(m, "finfo", (PyObject *)&finfo_type) < 0 ||
      PyModule_AddObject(m, "iinfo", (PyObject *)&iinfo_type) < 0)
    return -1;
  if (make_categories(m) < 0) return -1;
  return PyModule_AddFunctions(m, dtype_functions);
}
