/* The array's Python operators: arithmetic (with reflected and in-place forms), comparisons,
 * bitwise ops, shifts, `@`, unary ops.
 *
 * These go straight to the C ops: `y + 1` is one type check, one weak scalar (lz_int), one
 * lz_add and one object from the free list, with no Python-level dispatch, because a training
 * loop builds thousands of nodes this way. The in-place forms rebind the same Python object to
 * the new array, as MLX's do (`b = a; a += 1` changes what b shows too). */
#include "ops_impl.h"

typedef lz_array *(*binary_fn)(lz_array *, lz_array *);

/* MLX accepts arrays, Python scalars and objects with __mlx_array__ as operands; so do these,
 * plus NumPy scalars and buffers. Anything else (lists included) is a ValueError naming the
 * operation. */
static lz_array *operand_with(PyObject *o, const char *what, PyObject *other) {
  if (PyLzArray_Check(o)) return lz_retain(((PyLzArray *)o)->a);
  if (PyLong_CheckExact(o)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    /* Beside a floating array a small int is the same number as a weak float (both convert
     * exactly: |v| <= 2^24 fits float32, hence float16/bfloat16 rounding is the same too), and
     * a weak float of the array's float32 dtype needs no cast node: `y + 1` costs what
     * `y + 1.0` does. */
    if (!overflow && other && PyLzArray_Check(other) && v >= -(1LL << 24) && v <= (1LL << 24) &&
        lz_dtype_is_float(lz_array_dtype(((PyLzArray *)other)->a)))
      return lz_float((double)v);
    if (!overflow && !(v == -1 && PyErr_Occurred())) return pylz_int_scalar(v);
    if (v == -1 && PyErr_Occurred()) return NULL;
  }
  if (PyFloat_CheckExact(o)) return lz_float(PyFloat_AS_DOUBLE(o));
  if (PyBool_Check(o) || PyLong_Check(o) || PyFloat_Check(o) || PyComplex_Check(o))
    return pylz_to_array(o);
  if (PyIndex_Check(o) && !PyObject_CheckBuffer(o)) { /* integer-like objects: weak ints */
    PyObject *i = PyNumber_Index(o);
    lz_array *a = i ? pylz_to_array(i) : NULL;
    Py_XDECREF(i);
    return a;
  }
  /* NumPy arrays and scalars, other buffers, objects with __mlx_array__. */
  if (PyObject_CheckBuffer(o) || PyObject_HasAttrString(o, "__mlx_array__"))
    return pylz_to_array(o);
  PyErr_Format(PyExc_ValueError, "Cannot perform %s on an lazuli.core.array and %.100s", what,
               Py_TYPE(o)->tp_name);
  return NULL;
}

/* Both operands of a OP b converted (new references), in order: 0, or -1 with both NULL. */
static int operands(PyObject *a, PyObject *b, const char *what, lz_array **x, lz_array **y) {
  *y = NULL;
  if (!(*x = operand_with(a, what, NULL))) return -1;
  if (!(*y = operand_with(b, what, NULL))) {
    lz_free(*x);
    *x = NULL;
    return -1;
  }
  return 0;
}

static int comparable(PyObject *o) {
  return PyLzArray_Check(o) || PyBool_Check(o) || PyLong_Check(o) || PyFloat_Check(o) ||
         PyComplex_Check(o) || PyIndex_Check(o) || PyObject_CheckBuffer(o) ||
         PyObject_HasAttrString(o, "__mlx_array__");
}

/* a OP b where either side is the array. Array operands are borrowed (no reference count
 * traffic on the hot path); other operands are converted and released after the op. */
static PyObject *binary(PyObject *a, PyObject *b, binary_fn fn, const char *what) {
  int own_x = !PyLzArray_Check(a), own_y = !PyLzArray_Check(b);
  /* Convert first (that may run Python code), then read the borrowed array pointers. */
  lz_array *x = own_x ? operand_with(a, what, b) : NULL;
  if (own_x && !x) return NULL;
  lz_array *y = own_y ? operand_with(b, what, a) : NULL;
  if (own_y && !y) {
    lz_free(x);
    return NULL;
  }
  if (!own_x) x = ((PyLzArray *)a)->a;
  if (!own_y) y = ((PyLzArray *)b)->a;
  lz_array *r = fn(x, y);
  if (own_x) lz_free(x);
  if (own_y) lz_free(y);
  return pylz_wrap(r);
}

/* self OP= b: the object now holds the result. */
static PyObject *inplace(PyObject *self, PyObject *b, binary_fn fn, const char *what) {
  if (!PyLzArray_Check(self)) Py_RETURN_NOTIMPLEMENTED;
  lz_array *y = operand_with(b, what, self);
  if (!y) return NULL;
  lz_array *r = fn(((PyLzArray *)self)->a, y);
  lz_free(y);
  if (!r) return pylz_raise();
  pylz_array_set((PyLzArray *)self, r);
  Py_INCREF(self);
  return self;
}

/* Bitwise ops and shifts reject floating operands (MLX's check, before the op's own). */
static int check_not_float(lz_array *x, lz_array *y, const char *what) {
  lz_dtype dx = lz_array_dtype(x), dy = lz_array_dtype(y);
  if (lz_dtype_is_float(dx) || lz_dtype_is_float(dy) || dx == LZ_COMPLEX64 || dy == LZ_COMPLEX64) {
    PyErr_Format(PyExc_ValueError, "Floating point types not allowed with %s.", what);
    return -1;
  }
  return 0;
}

static PyObject *bitwise(PyObject *a, PyObject *b, binary_fn fn, const char *what, int in_place) {
  if (in_place && !PyLzArray_Check(a)) Py_RETURN_NOTIMPLEMENTED;
  lz_array *x, *y;
  if (operands(a, b, what, &x, &y) < 0) return NULL;
  lz_array *r = check_not_float(x, y, what) < 0 ? NULL : fn(x, y);
  PYOPS_FREE(x, y);
  if (!r) return PyErr_Occurred() ? NULL : pylz_raise();
  if (!in_place) return pylz_wrap(r);
  pylz_array_set((PyLzArray *)a, r);
  Py_INCREF(a);
  return a;
}

#define BINARY(name, fn, what)                                                                     \
  static PyObject *nb_##name(PyObject *a, PyObject *b) { return binary(a, b, fn, what); }          \
  static PyObject *nb_inplace_##name(PyObject *a, PyObject *b) {                                   \
    return inplace(a, b, fn, "inplace " what);                                                     \
  }
BINARY(add, lz_add, "addition")
BINARY(subtract, lz_subtract, "subtraction")
BINARY(multiply, lz_multiply, "multiplication")
BINARY(floor_divide, lz_floor_divide, "floor division")
BINARY(remainder, lz_remainder, "modulus")
#undef BINARY

static PyObject *nb_true_divide(PyObject *a, PyObject *b) {
  return binary(a, b, lz_divide, "division");
}

static PyObject *nb_inplace_true_divide(PyObject *a, PyObject *b) {
  if (PyLzArray_Check(a)) {
    lz_dtype dt = lz_array_dtype(((PyLzArray *)a)->a);
    if (!lz_dtype_is_float(dt) && dt != LZ_COMPLEX64) {
      PyErr_SetString(PyExc_ValueError,
                      "In place division cannot cast to non-floating point type.");
      return NULL;
    }
  }
  return inplace(a, b, lz_divide, "inplace division");
}

static PyObject *nb_power(PyObject *a, PyObject *b, PyObject *mod) {
  if (mod != Py_None) {
    PyErr_SetString(PyExc_TypeError, "pow() with a modulus is not supported for arrays");
    return NULL;
  }
  return binary(a, b, lz_power, "power");
}

static PyObject *nb_inplace_power(PyObject *a, PyObject *b, PyObject *mod) {
  if (mod != Py_None) {
    PyErr_SetString(PyExc_TypeError, "pow() with a modulus is not supported for arrays");
    return NULL;
  }
  return inplace(a, b, lz_power, "inplace power");
}

static PyObject *nb_divmod(PyObject *a, PyObject *b) {
  lz_array *x, *y;
  if (operands(a, b, "divmod", &x, &y) < 0) return NULL;
  lz_array *out[2];
  int rc = lz_divmod(x, y, out);
  PYOPS_FREE(x, y);
  if (rc < 0) return pylz_raise();
  PyObject *q = pylz_wrap(out[0]);
  PyObject *r = q ? pylz_wrap(out[1]) : (lz_free(out[1]), NULL);
  if (!r) {
    Py_XDECREF(q);
    return NULL;
  }
  return Py_BuildValue("(NN)", q, r);
}

/* `@` takes arrays (and array-likes: lists too, as MLX converts them for matmul). */
static PyObject *nb_matmul(PyObject *a, PyObject *b) {
  lz_array *x, *y;
  if (PYOPS_CONVERT(PYOPS_ARRAY(a, &x), PYOPS_ARRAY(b, &y)) < 0) return NULL;
  lz_array *r = lz_matmul(x, y);
  PYOPS_FREE(x, y);
  return pylz_wrap(r);
}

static PyObject *nb_inplace_matmul(PyObject *a, PyObject *b) {
  if (!PyLzArray_Check(a)) Py_RETURN_NOTIMPLEMENTED;
  lz_array *y = pylz_to_array(b);
  if (!y) return NULL;
  lz_array *r = lz_matmul(((PyLzArray *)a)->a, y);
  lz_free(y);
  if (!r) return pylz_raise();
  pylz_array_set((PyLzArray *)a, r);
  Py_INCREF(a);
  return a;
}

#define BITWISE(name, fn, what)                                                                    \
  static PyObject *nb_##name(PyObject *a, PyObject *b) { return bitwise(a, b, fn, what, 0); }      \
  static PyObject *nb_inplace_##name(PyObject *a, PyObject *b) {                                   \
    return bitwise(a, b, fn, what, 1);                                                             \
  }
BITWISE(and, lz_bitwise_and, "bitwise and")
BITWISE(or, lz_bitwise_or, "bitwise or")
BITWISE(xor, lz_bitwise_xor, "bitwise xor")
BITWISE(lshift, lz_left_shift, "left shift")
BITWISE(rshift, lz_right_shift, "right shift")
#undef BITWISE

static PyObject *nb_negative(PyObject *a) { return pylz_wrap(lz_negative(((PyLzArray *)a)->a)); }
static PyObject *nb_positive(PyObject *a) {
  Py_INCREF(a);
  return a;
}
static PyObject *nb_absolute(PyObject *a) { return pylz_wrap(lz_abs(((PyLzArray *)a)->a)); }

static PyObject *nb_invert(PyObject *a) {
  lz_array *x = ((PyLzArray *)a)->a;
  lz_dtype dt = lz_array_dtype(x);
  if (lz_dtype_is_float(dt) || dt == LZ_COMPLEX64) {
    PyErr_SetString(PyExc_ValueError, "Floating point types not allowed with bitwise inversion.");
    return NULL;
  }
  return pylz_wrap(dt == LZ_BOOL ? lz_logical_not(x) : lz_bitwise_invert(x));
}

PyNumberMethods pylz_array_as_number = {
    .nb_add = nb_add,
    .nb_subtract = nb_subtract,
    .nb_multiply = nb_multiply,
    .nb_remainder = nb_remainder,
    .nb_divmod = nb_divmod,
    .nb_power = nb_power,
    .nb_negative = nb_negative,
    .nb_positive = nb_positive,
    .nb_absolute = nb_absolute,
    .nb_invert = nb_invert,
    .nb_lshift = nb_lshift,
    .nb_rshift = nb_rshift,
    .nb_and = nb_and,
    .nb_xor = nb_xor,
    .nb_or = nb_or,
    .nb_inplace_add = nb_inplace_add,
    .nb_inplace_subtract = nb_inplace_subtract,
    .nb_inplace_multiply = nb_inplace_multiply,
    .nb_inplace_remainder = nb_inplace_remainder,
    .nb_inplace_power = nb_inplace_power,
    .nb_inplace_lshift = nb_inplace_lshift,
    .nb_inplace_rshift = nb_inplace_rshift,
    .nb_inplace_and = nb_inplace_and,
    .nb_inplace_xor = nb_inplace_xor,
    .nb_inplace_or = nb_inplace_or,
    .nb_floor_divide = nb_floor_divide,
    .nb_true_divide = nb_true_divide,
    .nb_inplace_floor_divide = nb_inplace_floor_divide,
    .nb_inplace_true_divide = nb_inplace_true_divide,
    .nb_matrix_multiply = nb_matmul,
    .nb_inplace_matrix_multiply = nb_inplace_matmul,
    /* nb_bool, nb_int, nb_float, nb_index: array.c */
};

/* ==, != with something that is not array-like give False/True (MLX); the ordering
 * comparisons raise ValueError. Python passes the array first (it swaps reflected ops). */
PyObject *pylz_array_richcompare(PyObject *a, PyObject *b, int op) {
  static const char *names[] = {"less than", "less than or equal", "equal",
                                "not equal", "greater than",       "greater than or equal"};
  static const binary_fn fns[] = {lz_less,      lz_less_equal, lz_equal,
                                  lz_not_equal, lz_greater,    lz_greater_equal};
  if ((op == Py_EQ || op == Py_NE) && !comparable(b)) {
    if (op == Py_EQ) Py_RETURN_FALSE;
    Py_RETURN_TRUE;
  }
  return binary(a, b, fns[op], names[op]);
}
