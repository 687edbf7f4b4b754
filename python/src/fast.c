/* lazuli.core.fast: MLX's fused ops (rms_norm, layer_norm, rope, scaled_dot_product_attention)
 * over lz_fast_*. */
#include "ops_impl.h"

#include <string.h>

#define KW METH_VARARGS | METH_KEYWORDS
#define F(NAME, FN, DOC)                                                                           \
  { NAME, (PyCFunction)(void (*)(void))FN, KW, DOC }

static PyObject *py_rms_norm(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "rms_norm";
  static char *kws[] = {"x", "weight", "eps", "stream", NULL};
  PyObject *ox, *ow, *oeps, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|$O:rms_norm", kws, &ox, &ow, &oeps, &stream))
    return NULL;
  double eps;
  if (pyops_double(oeps, &eps, "eps") < 0) return NULL;
  lz_array *x = NULL, *w = NULL;
  PyObject *res = NULL;
  if ((x = pylz_to_array(ox)) && pyops_opt_array(ow, &w) == 0)
    res = pylz_wrap(lz_fast_rms_norm(x, w, eps));
  lz_free(x);
  lz_free(w);
  return res;
}

static PyObject *py_layer_norm(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "layer_norm";
  static char *kws[] = {"x", "weight", "bias", "eps", "stream", NULL};
  PyObject *ox, *ow, *ob, *oeps, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOO|$O:layer_norm", kws, &ox, &ow, &ob, &oeps,
                                   &stream))
    return NULL;
  double eps;
  if (pyops_double(oeps, &eps, "eps") < 0) return NULL;
  lz_array *x = NULL, *w = NULL, *b = NULL;
  PyObject *res = NULL;
  if ((x = pylz_to_array(ox)) && pyops_opt_array(ow, &w) == 0 && pyops_opt_array(ob, &b) == 0)
    res = pylz_wrap(lz_fast_layer_norm(x, w, b, eps));
  lz_free(x);
  lz_free(w);
  lz_free(b);
  return res;
}

static PyObject *py_rope(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "rope";
  static char *kws[] = {"a",      "dims",  "traditional", "base", "scale",
                        "offset", "freqs", "stream",      NULL};
  PyObject *oa, *odims, *otrad = NULL, *obase = NULL, *oscale = NULL, *ooff = NULL,
                        *ofreqs = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$OOOOOO:rope", kws, &oa, &odims, &otrad, &obase,
                                   &oscale, &ooff, &ofreqs, &stream))
    return NULL;
  if (!otrad || !obase || !oscale || !ooff) {
    PyErr_Format(PyExc_TypeError, "rope() missing required keyword argument '%s'",
                 !otrad    ? "traditional"
                 : !obase  ? "base"
                 : !oscale ? "scale"
                           : "offset");
    return NULL;
  }
  int dims, offset = 0;
  bool trad = false;
  double base = 10000, scale;
  if (pyops_int(odims, &dims, "dims") < 0 || pyops_bool(otrad, &trad, "traditional") < 0 ||
      (obase != Py_None && pyops_double(obase, &base, "base") < 0) ||
      pyops_double(oscale, &scale, "scale") < 0)
    return NULL;
  if (obase == Py_None && ofreqs == Py_None) {
    PyErr_SetString(PyExc_ValueError, "[rope] Only one of base or freqs can be None.");
    return NULL;
  }
  if (obase != Py_None && ofreqs != Py_None) {
    PyErr_SetString(PyExc_ValueError, "[rope] Only one of base or freqs can have a value.");
    return NULL;
  }
  if (PyLzArray_Check(ooff)) {
    /* An array offset (a scalar) is read now: the C op takes the position as a number. */
    lz_array *o = ((PyLzArray *)ooff)->a;
    if (lz_array_size(o) != 1 || !lz_dtype_is_integer(lz_array_dtype(o))) {
      PyErr_SetString(PyExc_ValueError, "[rope] offset must be an int or an integer scalar array");
      return NULL;
    }
    if (pylz_eval_array(o) < 0) return NULL;
    int64_t v = lz_item_i64(o);
    if (v > INT32_MAX || v < INT32_MIN) {
      PyErr_SetString(PyExc_ValueError, "[rope] offset does not fit in 32 bits");
      return NULL;
    }
    offset = (int)v;
  } else if (pyops_int(ooff, &offset, "offset") < 0) {
    return NULL;
  }
  lz_array *a = NULL, *freqs = NULL;
  PyObject *res = NULL;
  if ((a = pylz_to_array(oa)) && pyops_opt_array(ofreqs, &freqs) == 0)
    res = pylz_wrap(lz_fast_rope(a, dims, trad, base, scale, offset, freqs));
  lz_free(a);
  lz_free(freqs);
  return res;
}

static PyObject *py_sdpa(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "scaled_dot_product_attention";
  static char *kws[] = {"q", "k", "v", "scale", "mask", "sinks", "stream", NULL};
  PyObject *oq, *ok, *ov, *oscale = NULL, *omask = Py_None, *osinks = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|$OOOO:scaled_dot_product_attention", kws, &oq,
                                   &ok, &ov, &oscale, &omask, &osinks, &stream))
    return NULL;
  if (!oscale) {
    PyErr_SetString(PyExc_TypeError,
                    "scaled_dot_product_attention() missing required keyword argument 'scale'");
    return NULL;
  }
  double scale;
  if (pyops_double(oscale, &scale, "scale") < 0) return NULL;
  if (osinks != Py_None) {
    PyErr_SetString(PyExc_ValueError,
                    "[scaled_dot_product_attention] attention sinks are not supported");
    return NULL;
  }
  const char *mode = NULL;
  if (PyUnicode_Check(omask)) {
    if (pyops_str(omask, &mode, "mask") < 0) return NULL;
    if (strcmp(mode, "causal")) {
      PyErr_Format(PyExc_ValueError,
                   "[scaled_dot_product_attention] invalid mask '%s': expected 'causal', an "
                   "array or None",
                   mode);
      return NULL;
    }
  }
  lz_array *q = NULL, *k = NULL, *v = NULL, *mask = NULL;
  PyObject *res = NULL;
  if ((q = pylz_to_array(oq)) && (k = pylz_to_array(ok)) && (v = pylz_to_array(ov)) &&
      (mode || pyops_opt_array(omask, &mask) == 0))
    res = pylz_wrap(lz_fast_scaled_dot_product_attention(
        q, k, v, scale, mode ? mode : (mask ? "array" : NULL), mask));
  lz_free(q);
  lz_free(k);
  lz_free(v);
  lz_free(mask);
  return res;
}

static PyMethodDef methods[] = {
    F("rms_norm", py_rms_norm,
      "rms_norm(x: array, weight: array | None, eps: float, *, stream: StreamOrDevice = None) -> "
      "array\n\nRoot-mean-square normalization over the last axis, times ``weight``."),
    F("layer_norm", py_layer_norm,
      "layer_norm(x: array, weight: array | None, bias: array | None, eps: float, *, stream: "
      "StreamOrDevice = None) -> array\n\nLayer normalization over the last axis, then "
      "``* weight + bias``."),
    F("rope", py_rope,
      "rope(a: array, dims: int, *, traditional: bool, base: float | None, scale: float, offset: "
      "int | array, freqs: array | None = None, stream: StreamOrDevice = None) -> "
      "array\n\nRotary positional encoding of the first ``dims`` features of ``a`` (..., L, D); "
      "exactly one of ``base`` and ``freqs``."),
    F("scaled_dot_product_attention", py_sdpa,
      "scaled_dot_product_attention(q: array, k: array, v: array, *, scale: float, mask: None | "
      "str | array = None, sinks: array | None = None, stream: StreamOrDevice = None) -> "
      "array\n\n``softmax(scale * q @ k.T + mask) @ v`` with grouped-query heads; ``mask`` is "
      "None, 'causal', a bool mask or an additive one."),
    {NULL, NULL, 0, NULL},
};

int pylz_init_fast(PyObject *m) {
  return pylz_add_submodule(m, "fast", methods,
                            "lazuli.core.fast: fused operations, as mlx.core.fast.")
             ? 0
             : -1;
}
