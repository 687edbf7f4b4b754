/* lazuli.core: matrix products (matmul, addmm, inner, outer, tensordot, vecdot,
 * gather_mm, block_masked_mm, segmented_mm), the Hadamard transform and convolutions, with MLX's
 * names and signatures. segmented_mm is composed of where/matmul;
 * gather_qmm is with the other quantized ops (ops_quantize.c), einsum in ops_einsum.c. */
#include "ops_impl.h"

#include <math.h>
#include <string.h>

#define SIG_AB(NAME) NAME "(a: array, b: array, /, *, stream: StreamOrDevice = None) -> array\n\n"

static PyObject *py_matmul(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "matmul";
  return pyops_binary_call(args, kw, lz_matmul);
}

static PyObject *py_inner(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "inner";
  return pyops_binary_call(args, kw, lz_inner);
}

static PyObject *py_outer(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "outer";
  return pyops_binary_call(args, kw, lz_outer);
}

static PyObject *py_addmm(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "addmm";
  static char *kws[] = {"", "", "", "alpha", "beta", "stream", NULL};
  PyObject *oc, *oa, *ob, *oalpha = NULL, *obeta = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|OO$O:addmm", kws, &oc, &oa, &ob, &oalpha, &obeta,
                                   &stream))
    return NULL;
  double alpha = 1, beta = 1;
  if ((oalpha && pyops_double(oalpha, &alpha, "alpha") < 0) ||
      (obeta && pyops_double(obeta, &beta, "beta") < 0))
    return NULL;
  lz_array *c, *a, *b;
  if (PYOPS_CONVERT(PYOPS_ARRAY(oc, &c), PYOPS_ARRAY(oa, &a), PYOPS_ARRAY(ob, &b)) < 0) return NULL;
  PyObject *res = pylz_wrap(lz_addmm(c, a, b, alpha, beta));
  PYOPS_FREE(c, a, b);
  return res;
}

static PyObject *py_tensordot(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "tensordot";
  static char *kws[] = {"", "", "axes", "stream", NULL};
  PyObject *oa, *ob, *oaxes = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O$O:tensordot", kws, &oa, &ob, &oaxes, &stream))
    return NULL;
  int n = 2, by_count = 1;
  pyops_ints ax_a, ax_b;
  if (oaxes) {
    if (!PyFloat_Check(oaxes) && PyIndex_Check(oaxes)) {
      if (pyops_int(oaxes, &n, "axes") < 0) return NULL;
    } else {
      by_count = 0;
      if (!(PyList_Check(oaxes) || PyTuple_Check(oaxes)) || PySequence_Fast_GET_SIZE(oaxes) != 2) {
        PyErr_SetString(PyExc_ValueError, "[tensordot] axes must be a list of two lists.");
        return NULL;
      }
      if (pyops_int_list(PySequence_Fast_GET_ITEM(oaxes, 0), &ax_a, 1, "axes") < 0 ||
          pyops_int_list(PySequence_Fast_GET_ITEM(oaxes, 1), &ax_b, 1, "axes") < 0)
        return NULL;
      if (ax_a.n != ax_b.n) {
        PyErr_Format(PyExc_ValueError, "[tensordot] %d axes of a against %d axes of b", ax_a.n,
                     ax_b.n);
        return NULL;
      }
    }
  }
  lz_array *a, *b;
  if (PYOPS_CONVERT(PYOPS_ARRAY(oa, &a), PYOPS_ARRAY(ob, &b)) < 0) return NULL;
  PyObject *res =
      pylz_wrap(by_count ? lz_tensordot(a, b, n) : lz_tensordot_axes(a, b, ax_a.v, ax_b.v, ax_a.n));
  PYOPS_FREE(a, b);
  return res;
}

static PyObject *py_vecdot(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "vecdot";
  static char *kws[] = {"", "", "axis", "stream", NULL};
  PyObject *oa, *ob, *oaxis = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$OO:vecdot", kws, &oa, &ob, &oaxis, &stream))
    return NULL;
  int axis = -1;
  if (oaxis && pyops_int(oaxis, &axis, "axis") < 0) return NULL;
  lz_array *a, *b;
  if (PYOPS_CONVERT(PYOPS_ARRAY(oa, &a), PYOPS_ARRAY(ob, &b)) < 0) return NULL;
  lz_scope_begin();
  lz_array *r = lz_keep(lz_sum_axis(lz_multiply(lz_conj(a), b), axis, false));
  lz_scope_end();
  PYOPS_FREE(a, b);
  return pylz_wrap(r);
}

static PyObject *py_gather_mm(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "gather_mm";
  static char *kws[] = {"", "", "lhs_indices", "rhs_indices", "sorted_indices", "stream", NULL};
  PyObject *oa, *ob, *olhs = Py_None, *orhs = Py_None, *osorted = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|OO$OO:gather_mm", kws, &oa, &ob, &olhs, &orhs,
                                   &osorted, &stream))
    return NULL;
  bool sorted_indices = false;
  if (pyops_bool(osorted, &sorted_indices, "sorted_indices") < 0) return NULL;
  lz_array *a, *b, *li, *ri;
  if (PYOPS_CONVERT(PYOPS_ARRAY(oa, &a), PYOPS_ARRAY(ob, &b), PYOPS_OPT_ARRAY(olhs, &li),
                    PYOPS_OPT_ARRAY(orhs, &ri)) < 0)
    return NULL;
  PyObject *res = pylz_wrap(lz_gather_mm(a, b, li, ri, sorted_indices));
  PYOPS_FREE(a, b, li, ri);
  return res;
}

static PyObject *py_block_masked_mm(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "block_masked_mm";
  static char *kws[] = {"", "", "block_size", "mask_out", "mask_lhs", "mask_rhs", "stream", NULL};
  PyObject *oa, *ob, *obs = NULL, *oout = Py_None, *olhs = Py_None, *orhs = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|OOOO$O:block_masked_mm", kws, &oa, &ob, &obs,
                                   &oout, &olhs, &orhs, &stream))
    return NULL;
  int bs = 64;
  if (obs && pyops_int(obs, &bs, "block_size") < 0) return NULL;
  if (bs <= 0) {
    PyErr_Format(PyExc_ValueError, "[block_masked_mm] block_size must be positive, got %d", bs);
    return NULL;
  }
  lz_array *a, *b, *mo, *ml, *mr;
  if (PYOPS_CONVERT(PYOPS_ARRAY(oa, &a), PYOPS_ARRAY(ob, &b), PYOPS_OPT_ARRAY(oout, &mo),
                    PYOPS_OPT_ARRAY(olhs, &ml), PYOPS_OPT_ARRAY(orhs, &mr)) < 0)
    return NULL;
  PyObject *res = pylz_wrap(lz_block_masked_mm(a, b, bs, mo, ml, mr));
  PYOPS_FREE(a, b, mo, ml, mr);
  return res;
}

/* segmented_mm: out[s] = a[:, k0:k1] @ b[k0:k1, :] for each segment (k0, k1) of `segments`
 * (..., 2). Both operands are zeroed outside the segment (where, not a multiply, so an inf or
 * NaN outside it stays out) and multiplied once per segment. */
static PyObject *py_segmented_mm(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "segmented_mm";
  static char *kws[] = {"", "", "segments", "stream", NULL};
  PyObject *oa, *ob, *oseg, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|$O:segmented_mm", kws, &oa, &ob, &oseg, &stream))
    return NULL;
  lz_array *a, *b, *seg;
  if (PYOPS_CONVERT(PYOPS_ARRAY(oa, &a), PYOPS_ARRAY(ob, &b), PYOPS_ARRAY(oseg, &seg)) < 0)
    return NULL;
  PyObject *res = NULL;
  int sn = lz_array_ndim(seg);
  if (lz_array_ndim(a) != 2 || lz_array_ndim(b) != 2 || sn < 1 || lz_array_dim(seg, -1) != 2 ||
      lz_dtype_is_float(lz_array_dtype(seg))) {
    PyErr_SetString(PyExc_ValueError, "[segmented_mm] a must be (M, K), b (K, N) and segments "
                                      "(..., 2) integers");
    goto done;
  }
  int K = lz_array_dim(a, 1);
  lz_scope_begin();
  lz_array *halves[2] = {NULL, NULL};
  lz_array *r = NULL;
  if (lz_split(seg, 2, -1, halves) == 0) {
    /* k (K,) against each segment's bounds (..., 1) -> mask (..., K) */
    lz_array *k = lz_arange(0, K, 1, LZ_INT32);
    lz_array *mask = lz_logical_and(lz_greater_equal(k, halves[0]), lz_less(k, halves[1]));
    int ax_a = sn - 1, ax_b = sn;
    lz_array *am = lz_where(lz_expand_dims(mask, &ax_a, 1), a, lz_float(0)); /* (..., M, K) */
    lz_array *bm = lz_where(lz_expand_dims(mask, &ax_b, 1), b, lz_float(0)); /* (..., K, N) */
    r = lz_keep(lz_matmul(am, bm));
  }
  lz_scope_end();
  res = pylz_wrap(r);
done:
  PYOPS_FREE(a, b, seg);
  return res;
}

/* The Walsh-Hadamard transform of the last axis (a power of two), as log2(n) butterfly steps
 * of public ops: each step pairs the halves of blocks of 2h and writes (a + b, a - b). */
static lz_array *hadamard(lz_array *x, double scale, int has_scale) {
  int nd = lz_array_ndim(x), n = nd ? lz_array_dim(x, -1) : 0;
  if (nd == 0 || n <= 0 || (n & (n - 1))) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_hadamard_transform",
                 "the last axis must have a power-of-two size, got %d", nd ? n : 0);
    return NULL;
  }
  lz_dtype dt = lz_array_dtype(x);
  lz_dtype work = dt == LZ_FLOAT64 ? LZ_FLOAT64 : LZ_FLOAT32;
  lz_dtype out_dt = lz_dtype_is_float(dt) ? dt : LZ_FLOAT32;
  lz_scope_begin();
  lz_array *cur = lz_astype(x, work);
  const int *shape = lz_array_shape(x);
  int sh[LZ_MAX_NDIM + 2];
  memcpy(sh, shape, sizeof(int) * (size_t)(nd - 1));
  for (int h = 1; h < n && cur; h *= 2) {
    sh[nd - 1] = n / (2 * h);
    sh[nd] = 2;
    sh[nd + 1] = h;
    lz_array *blocks = lz_reshape(cur, sh, nd + 2);
    lz_array *halves[2] = {NULL, NULL};
    if (lz_split(blocks, 2, -2, halves) < 0) {
      cur = NULL;
      break;
    }
    lz_array *parts[2] = {lz_add(halves[0], halves[1]), lz_subtract(halves[0], halves[1])};
    cur = lz_reshape(lz_concatenate(parts, 2, -2), shape, nd);
  }
  if (!has_scale) scale = 1.0 / sqrt((double)n);
  lz_array *r = lz_keep(lz_astype(lz_multiply(cur, lz_float(scale)), out_dt));
  lz_scope_end();
  return r;
}

static PyObject *py_hadamard_transform(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "hadamard_transform";
  static char *kws[] = {"", "scale", "stream", NULL};
  PyObject *x, *oscale = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O:hadamard_transform", kws, &x, &oscale, &stream))
    return NULL;
  double scale = 1;
  if (oscale != Py_None && pyops_double(oscale, &scale, "scale") < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = hadamard(a, scale, oscale != Py_None);
  lz_free(a);
  return pylz_wrap(r);
}

/* An int (the same for all n dims) or a sequence of exactly n ints. */
static int int_or_tuple(PyObject *o, int n, int *out, int dflt, const char *what) {
  if (!o) {
    for (int i = 0; i < n; i++) out[i] = dflt;
    return 0;
  }
  pyops_ints v;
  if (pyops_int_list(o, &v, 1, what) < 0) return -1;
  if (v.n == 1 && !PyList_Check(o) && !PyTuple_Check(o)) {
    for (int i = 0; i < n; i++) out[i] = v.v[0];
    return 0;
  }
  if (v.n != n) {
    PyErr_Format(PyExc_ValueError, "[%s] %s must be an int or a tuple of %d ints", pyops_name, what,
                 n);
    return -1;
  }
  memcpy(out, v.v, sizeof(int) * (size_t)n);
  return 0;
}

/* conv1d/2d/3d and conv_transpose1d/2d/3d: `dims` spatial dims, `transpose` picks the op. */
static PyObject *conv_impl(PyObject *args, PyObject *kw, int dims, int transpose) {
  static char *kws_c[] = {"", "", "stride", "padding", "dilation", "groups", "stream", NULL};
  static char *kws_t[] = {"",       "",       "stride", "padding", "dilation", "output_padding",
                          "groups", "stream", NULL};
  PyObject *ox, *ow, *os = NULL, *op = NULL, *od = NULL, *oop = NULL, *og = NULL, *stream = NULL;
  int ok = transpose ? PyArg_ParseTupleAndKeywords(args, kw, "OO|OOOOO$O", kws_t, &ox, &ow, &os,
                                                   &op, &od, &oop, &og, &stream)
                     : PyArg_ParseTupleAndKeywords(args, kw, "OO|OOOO$O", kws_c, &ox, &ow, &os, &op,
                                                   &od, &og, &stream);
  if (!ok) return NULL;
  int s[3], p[3], d[3], o[3] = {0, 0, 0}, groups = 1;
  if (int_or_tuple(os, dims, s, 1, "stride") < 0 || int_or_tuple(op, dims, p, 0, "padding") < 0 ||
      int_or_tuple(od, dims, d, 1, "dilation") < 0 ||
      (transpose && int_or_tuple(oop, dims, o, 0, "output_padding") < 0) ||
      (og && pyops_int(og, &groups, "groups") < 0))
    return NULL;
  lz_array *x, *w, *r;
  if (PYOPS_CONVERT(PYOPS_ARRAY(ox, &x), PYOPS_ARRAY(ow, &w)) < 0) return NULL;
  if (!transpose) {
    r = dims == 1   ? lz_conv1d(x, w, s[0], p[0], d[0], groups)
        : dims == 2 ? lz_conv2d(x, w, s[0], s[1], p[0], p[1], d[0], d[1], groups)
                    : lz_conv3d(x, w, s[0], s[1], s[2], p[0], p[1], p[2], d[0], d[1], d[2], groups);
  } else {
    r = dims == 1 ? lz_conv_transpose1d(x, w, s[0], p[0], d[0], o[0], groups)
        : dims == 2
            ? lz_conv_transpose2d(x, w, s[0], s[1], p[0], p[1], d[0], d[1], o[0], o[1], groups)
            : lz_conv_transpose3d(x, w, s[0], s[1], s[2], p[0], p[1], p[2], d[0], d[1], d[2], o[0],
                                  o[1], o[2], groups);
  }
  PYOPS_FREE(x, w);
  return pylz_wrap(r);
}

#define CONV(NAME, D, T)                                                                           \
  static PyObject *py_##NAME(PyObject *self, PyObject *args, PyObject *kw) {                       \
    pyops_name = #NAME;                                                                            \
    return conv_impl(args, kw, D, T);                                                              \
  }
CONV(conv1d, 1, 0)
CONV(conv2d, 2, 0)
CONV(conv3d, 3, 0)
CONV(conv_transpose1d, 1, 1)
CONV(conv_transpose2d, 2, 1)
CONV(conv_transpose3d, 3, 1)

static PyObject *py_conv_general(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "conv_general";
  static char *kws[] = {"",       "",     "stride", "padding", "kernel_dilation", "input_dilation",
                        "groups", "flip", "stream", NULL};
  PyObject *ox, *ow, *os = NULL, *op = NULL, *okd = NULL, *oid = NULL, *og = NULL, *of = NULL,
                     *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|OOOOOO$O:conv_general", kws, &ox, &ow, &os, &op,
                                   &okd, &oid, &og, &of, &stream))
    return NULL;
  int groups = 1;
  bool flip = false;
  if ((og && pyops_int(og, &groups, "groups") < 0) || pyops_bool(of, &flip, "flip") < 0)
    return NULL;
  lz_array *x, *w;
  if (PYOPS_CONVERT(PYOPS_ARRAY(ox, &x), PYOPS_ARRAY(ow, &w)) < 0) return NULL;
  PyObject *res = NULL;
  int S = lz_array_ndim(x) - 2;
  if (S < 1 || S > 3) {
    PyErr_Format(PyExc_ValueError, "[conv_general] input must have 3 to 5 dims, got %d", S + 2);
    goto done;
  }
  int s[3], lo[3], hi[3], kd[3], id[3];
  if (int_or_tuple(os, S, s, 1, "stride") < 0 ||
      int_or_tuple(okd, S, kd, 1, "kernel_dilation") < 0 ||
      int_or_tuple(oid, S, id, 1, "input_dilation") < 0)
    goto done;
  /* padding: int, a sequence of S ints, or a pair (low sequence, high sequence). */
  if (op && (PyList_Check(op) || PyTuple_Check(op)) && PySequence_Fast_GET_SIZE(op) == 2 &&
      (PyList_Check(PySequence_Fast_GET_ITEM(op, 0)) ||
       PyTuple_Check(PySequence_Fast_GET_ITEM(op, 0)))) {
    if (int_or_tuple(PySequence_Fast_GET_ITEM(op, 0), S, lo, 0, "padding") < 0 ||
        int_or_tuple(PySequence_Fast_GET_ITEM(op, 1), S, hi, 0, "padding") < 0)
      goto done;
  } else {
    if (int_or_tuple(op, S, lo, 0, "padding") < 0) goto done;
    memcpy(hi, lo, sizeof lo);
  }
  res = pylz_wrap(lz_conv_general(x, w, s, lo, hi, kd, id, groups, flip));
done:
  PYOPS_FREE(x, w);
  return res;
}

/* NumPy's convolve of two 1-D arrays, as one conv1d of the longer input with the flipped
 * shorter one (MLX's construction). */
static PyObject *py_convolve(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "convolve";
  static char *kws[] = {"", "", "mode", "stream", NULL};
  PyObject *oa, *ov, *omode = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O$O:convolve", kws, &oa, &ov, &omode, &stream))
    return NULL;
  const char *mode = "full";
  if (omode && pyops_str(omode, &mode, "mode") < 0) return NULL;
  if (strcmp(mode, "full") && strcmp(mode, "valid") && strcmp(mode, "same")) {
    PyErr_SetString(PyExc_ValueError, "[convolve] Invalid mode.");
    return NULL;
  }
  lz_array *a, *v;
  if (PYOPS_CONVERT(PYOPS_ARRAY(oa, &a), PYOPS_ARRAY(ov, &v)) < 0) return NULL;
  PyObject *res = NULL;
  if (lz_array_ndim(a) != 1 || lz_array_ndim(v) != 1) {
    PyErr_SetString(PyExc_ValueError, "[convolve] Inputs must be 1D.");
    goto done;
  }
  if (lz_array_size(a) == 0 || lz_array_size(v) == 0) {
    PyErr_SetString(PyExc_ValueError, "[convolve] Inputs cannot be empty.");
    goto done;
  }
  lz_array *in = lz_array_size(a) < lz_array_size(v) ? v : a;
  lz_array *wt = in == a ? v : a;
  int k = (int)lz_array_size(wt), shape3[3] = {1, -1, 1}, axis0 = 0, padding = 0;
  lz_scope_begin();
  lz_array *x = lz_reshape(in, shape3, 3);
  lz_array *w = lz_reshape(lz_flip(wt, &axis0, 1), shape3, 3);
  if (!strcmp(mode, "full")) {
    padding = k - 1;
  } else if (!strcmp(mode, "same")) {
    if (k % 2) {
      padding = k / 2;
    } else {
      int ax1 = 1, lo = k / 2, hi = k / 2 - 1;
      x = lz_pad(x, &ax1, 1, &lo, &hi, "constant", 0);
    }
  }
  int m1 = -1;
  lz_array *r = lz_keep(lz_reshape(lz_conv1d(x, w, 1, padding, 1, 1), &m1, 1));
  lz_scope_end();
  res = pylz_wrap(r);
done:
  PYOPS_FREE(a, v);
  return res;
}

#define SIG_CONV(NAME, T, EXTRA)                                                                   \
  NAME "(input: array, weight: array, /, stride: " T " = 1, padding: " T " = 0, dilation: " T      \
       " = 1, " EXTRA "groups: int = 1, *, stream: StreamOrDevice = None) -> array\n\n"

static PyMethodDef methods[] = {
    PYOPS_F(
        "matmul", py_matmul,
        SIG_AB("matmul") "Matrix product with NumPy's rules for 1-D operands and broadcast batch "
                         "dims; floating dtypes only."),
    PYOPS_F("inner", py_inner,
            SIG_AB("inner") "Sum product over the last axes of ``a`` and ``b``."),
    PYOPS_F("outer", py_outer,
            SIG_AB("outer") "Outer product of ``a`` and ``b`` (flattened first)."),
    PYOPS_F(
        "addmm", py_addmm,
        "addmm(c: array, a: array, b: array, /, alpha: float = 1.0, beta: float = 1.0, *, stream: "
        "StreamOrDevice = None) -> array\n\n``alpha * (a @ b) + beta * c``."),
    PYOPS_F("tensordot", py_tensordot,
            "tensordot(a: array, b: array, /, axes: int | list[Sequence[int]] = 2, *, stream: "
            "StreamOrDevice = None) -> array\n\nContracts the last ``axes`` axes of ``a`` with the "
            "first of ``b``, or the two given lists of axes."),
    PYOPS_F("vecdot", py_vecdot,
            "vecdot(a: array, b: array, /, *, axis: int = -1, stream: StreamOrDevice = None) -> "
            "array\n\nThe dot product of vectors along ``axis`` (``sum(conj(a) * b, axis)``)."),
    PYOPS_F(
        "gather_mm", py_gather_mm,
        "gather_mm(a: array, b: array, /, lhs_indices: array | None = None, rhs_indices: array | "
        "None = None, *, sorted_indices: bool = False, stream: StreamOrDevice = None) -> "
        "array\n\nMatrix products of the matrices of ``a`` and ``b`` picked by flat batch "
        "indices (all of them, broadcast, when ``None``)."),
    PYOPS_F("block_masked_mm", py_block_masked_mm,
            "block_masked_mm(a: array, b: array, /, block_size: int = 64, mask_out: array | None = "
            "None, mask_lhs: array | None = None, mask_rhs: array | None = None, *, stream: "
            "StreamOrDevice = None) -> array\n\nMatrix product with ``block_size`` blocks of the "
            "inputs and the output masked out (bool masks) or scaled (numeric masks)."),
    PYOPS_F(
        "segmented_mm", py_segmented_mm,
        "segmented_mm(a: array, b: array, /, segments: array, *, stream: StreamOrDevice = None) "
        "-> array\n\nThe product ``a[:, k0:k1] @ b[k0:k1, :]`` for each segment ``(k0, k1)`` of "
        "``segments`` (..., 2): shape ``segments.shape[:-1] + (M, N)``."),
    PYOPS_F(
        "hadamard_transform", py_hadamard_transform,
        "hadamard_transform(a: array, scale: float | None = None, stream: StreamOrDevice = None) "
        "-> array\n\nThe Walsh-Hadamard transform of the last axis (a power-of-two size), times "
        "``scale`` (default ``1/sqrt(n)``)."),
    PYOPS_F("conv1d", py_conv1d,
            SIG_CONV("conv1d", "int", "") "1-D convolution: input (N, L, C_in), weight (C_out, K, "
                                          "C_in / groups)."),
    PYOPS_F(
        "conv2d", py_conv2d,
        SIG_CONV("conv2d", "int | tuple[int, int]", "") "2-D convolution: input (N, H, W, C_in), "
                                                        "weight (C_out, KH, KW, C_in / groups)."),
    PYOPS_F(
        "conv3d", py_conv3d,
        SIG_CONV("conv3d", "int | tuple[int, int, int]", "") "3-D convolution: input (N, D, H, W, "
                                                             "C_in), weight (C_out, KD, KH, KW, "
                                                             "C_in / groups)."),
    PYOPS_F("conv_transpose1d", py_conv_transpose1d,
            SIG_CONV("conv_transpose1d", "int", "output_padding: int = 0, ") "1-D transposed "
                                                                             "convolution."),
    PYOPS_F("conv_transpose2d", py_conv_transpose2d,
            SIG_CONV("conv_transpose2d", "int | tuple[int, int]",
                     "output_padding: int | tuple[int, int] = 0, ") "2-D transposed convolution."),
    PYOPS_F("conv_transpose3d", py_conv_transpose3d,
            SIG_CONV("conv_transpose3d", "int | tuple[int, int, int]",
                     "output_padding: int | tuple[int, int, int] = 0, ") "3-D transposed "
                                                                         "convolution."),
    PYOPS_F(
        "conv_general", py_conv_general,
        "conv_general(input: array, weight: array, /, stride: int | Sequence[int] = 1, padding: "
        "int | Sequence[int] | tuple[Sequence[int], Sequence[int]] = 0, kernel_dilation: int | "
        "Sequence[int] = 1, input_dilation: int | Sequence[int] = 1, groups: int = 1, flip: bool = "
        "False, *, stream: StreamOrDevice = None) -> array\n\nThe general convolution over 1 to 3 "
        "spatial dims, with low/high padding, kernel and input dilation and an optional kernel "
        "flip."),
    PYOPS_F(
        "convolve", py_convolve,
        "convolve(a: array, v: array, /, mode: str = \"full\", *, stream: StreamOrDevice = None) "
        "-> array\n\nThe discrete convolution of two 1-D arrays ('full', 'valid' or 'same')."),
    {NULL, NULL, 0, NULL},
};

int pyops_init_matmul(PyObject *m) { return pyops_add_functions(m, methods); }
