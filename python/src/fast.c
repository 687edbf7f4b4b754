/* lazuli.core.fast: MLX's fused ops (rms_norm, fused_rms_silu, layer_norm, rope,
 * scaled_dot_product_attention) over lz_fast_*. */
#include "ops_impl.h"

#include <string.h>

static PyObject *py_rms_norm(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "rms_norm";
  static char *kws[] = {"x", "weight", "eps", "stream", NULL};
  PyObject *ox, *ow, *oeps, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|$O:rms_norm", kws, &ox, &ow, &oeps, &stream))
    return NULL;
  double eps;
  if (pyops_double(oeps, &eps, "eps") < 0) return NULL;
  lz_array *x, *w;
  if (PYOPS_CONVERT(PYOPS_ARRAY(ox, &x), PYOPS_OPT_ARRAY(ow, &w)) < 0) return NULL;
  PyObject *res = pylz_wrap(lz_fast_rms_norm(x, w, eps));
  PYOPS_FREE(x, w);
  return res;
}

/* MLX's fused_rms_silu: silu(rms_norm(x, weight, eps)), here rms_norm's fused op followed by
 * x * sigmoid(x). */
static PyObject *py_fused_rms_silu(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "fused_rms_silu";
  static char *kws[] = {"x", "weight", "eps", "stream", NULL};
  PyObject *ox, *ow, *oeps, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|$O:fused_rms_silu", kws, &ox, &ow, &oeps,
                                   &stream))
    return NULL;
  double eps;
  if (pyops_double(oeps, &eps, "eps") < 0) return NULL;
  lz_array *x, *w;
  if (PYOPS_CONVERT(PYOPS_ARRAY(ox, &x), PYOPS_OPT_ARRAY(ow, &w)) < 0) return NULL;
  lz_scope_begin();
  lz_array *n = lz_fast_rms_norm(x, w, eps);
  lz_array *r = lz_keep(n ? lz_multiply(n, lz_sigmoid(n)) : NULL);
  lz_scope_end();
  PYOPS_FREE(x, w);
  return pylz_wrap(r);
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
  lz_array *x, *w, *b;
  if (PYOPS_CONVERT(PYOPS_ARRAY(ox, &x), PYOPS_OPT_ARRAY(ow, &w), PYOPS_OPT_ARRAY(ob, &b)) < 0)
    return NULL;
  PyObject *res = pylz_wrap(lz_fast_layer_norm(x, w, b, eps));
  PYOPS_FREE(x, w, b);
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
  int dims;
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
  /* An int offset, or MLX's array offset (a scalar, or one per entry of the batch: any
   * array-like but a Python int), read when the result is evaluated. */
  int offset = 0, by_array = !PyLong_Check(ooff);
  if (!by_array && pyops_int(ooff, &offset, "offset") < 0) return NULL;
  lz_array *a, *off, *freqs;
  if (PYOPS_CONVERT(PYOPS_ARRAY(oa, &a), PYOPS_OPT_ARRAY(by_array ? ooff : NULL, &off),
                    PYOPS_OPT_ARRAY(ofreqs, &freqs)) < 0)
    return NULL;
  PyObject *res = pylz_wrap(by_array ? lz_fast_rope_v2(a, dims, trad, base, scale, off, freqs)
                                     : lz_fast_rope(a, dims, trad, base, scale, offset, freqs));
  PYOPS_FREE(a, off, freqs);
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
  const char *mode = NULL;
  if (PyUnicode_Check(omask)) {
    if (pyops_str(omask, &mode, "mask") < 0) return NULL;
    if (strcmp(mode, "causal")) {
      PyErr_Format(PyExc_ValueError,
                   "[scaled_dot_product_attention] invalid mask option '%s'. Must be 'causal', "
                   "or an array.",
                   mode);
      return NULL;
    }
  }
  lz_array *q, *k, *v, *mask, *sinks;
  if (PYOPS_CONVERT(PYOPS_ARRAY(oq, &q), PYOPS_ARRAY(ok, &k), PYOPS_ARRAY(ov, &v),
                    PYOPS_OPT_ARRAY(mode ? NULL : omask, &mask),
                    PYOPS_OPT_ARRAY(osinks, &sinks)) < 0)
    return NULL;
  PyObject *res = pylz_wrap(lz_fast_scaled_dot_product_attention_v2(
      q, k, v, scale, mode ? mode : (mask ? "array" : NULL), mask, sinks));
  PYOPS_FREE(q, k, v, mask, sinks);
  return res;
}

static PyMethodDef methods[] = {
    PYOPS_F(
        "rms_norm", py_rms_norm,
        "rms_norm(x: array, weight: array | None, eps: float, *, stream: StreamOrDevice = None) -> "
        "array\n\nRoot-mean-square normalization over the last axis, times ``weight``."),
    PYOPS_F(
        "fused_rms_silu", py_fused_rms_silu,
        "fused_rms_silu(x: array, weight: array | None, eps: float, *, stream: StreamOrDevice = "
        "None) -> array\n\n``silu(rms_norm(x, weight, eps))``: root-mean-square normalization "
        "over the last axis, times ``weight``, then the SiLU activation."),
    PYOPS_F("layer_norm", py_layer_norm,
            "layer_norm(x: array, weight: array | None, bias: array | None, eps: float, *, stream: "
            "StreamOrDevice = None) -> array\n\nLayer normalization over the last axis, then "
            "``* weight + bias``."),
    PYOPS_F(
        "rope", py_rope,
        "rope(a: array, dims: int, *, traditional: bool, base: float | None, scale: float, offset: "
        "int | array, freqs: array | None = None, stream: StreamOrDevice = None) -> "
        "array\n\nRotary positional encoding of the first ``dims`` features of ``a`` (..., L, D); "
        "exactly one of ``base`` and ``freqs``. ``offset`` is an int, or an integer array: a "
        "scalar, or one offset per entry of the batch (``a``'s first dim)."),
    PYOPS_F(
        "scaled_dot_product_attention", py_sdpa,
        "scaled_dot_product_attention(q: array, k: array, v: array, *, scale: float, mask: None | "
        "str | array = None, sinks: array | None = None, stream: StreamOrDevice = None) -> "
        "array\n\n``softmax(scale * q @ k.T + mask) @ v`` with grouped-query heads; ``mask`` is "
        "None, 'causal', a bool mask or an additive one; ``sinks`` (one logit per query head) "
        "joins every row's softmax."),
    {NULL, NULL, 0, NULL},
};

int pylz_init_fast(PyObject *m) {
  return pylz_add_submodule(m, "fast", methods,
                            "lazuli.core.fast: fused operations, as mlx.core.fast.")
             ? 0
             : -1;
}
