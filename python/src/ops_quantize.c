/* lazuli.core: affine quantization (quantize, dequantize, quantized_matmul), with MLX's names
 * and signatures. Only mode="affine" exists in the C library. */
#include "ops_impl.h"

#include <string.h>

#define KW METH_VARARGS | METH_KEYWORDS
#define F(NAME, FN, DOC) {NAME, (PyCFunction)(void (*)(void))FN, KW, DOC}

/* group_size / bits (None: MLX's affine defaults 64 and 4) and the mode. */
static int quant_params(PyObject *og, PyObject *ob, PyObject *omode, int *gs, int *bits,
                        const char *fn) {
  int set;
  *gs = 64;
  *bits = 4;
  if (pyops_opt_int(og, gs, &set, "group_size") < 0)
    return -1;
  if (!set)
    *gs = 64;
  if (pyops_opt_int(ob, bits, &set, "bits") < 0)
    return -1;
  if (!set)
    *bits = 4;
  if (omode) {
    const char *mode;
    if (pyops_str(omode, &mode, "mode") < 0)
      return -1;
    if (strcmp(mode, "affine")) {
      PyErr_Format(PyExc_ValueError, "[%s] quantization mode '%s' is not supported (only 'affine')",
                   fn, mode);
      return -1;
    }
  }
  return 0;
}

static PyObject *py_quantize(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"", "group_size", "bits", "mode", "global_scale", "stream", NULL};
  PyObject *ow, *og = Py_None, *ob = Py_None, *omode = NULL, *ogs = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOO$OO:quantize", kws, &ow, &og, &ob, &omode, &ogs,
                                   &stream))
    return NULL;
  int gs, bits;
  if (quant_params(og, ob, omode, &gs, &bits, "quantize") < 0)
    return NULL;
  if (ogs != Py_None) {
    PyErr_SetString(PyExc_ValueError, "[quantize] global_scale is only used by mode 'nvfp4'");
    return NULL;
  }
  lz_array *w = pylz_to_array(ow);
  if (!w)
    return NULL;
  lz_array *out[3] = {NULL, NULL, NULL};
  lz_quantize(w, gs, bits, out);
  lz_free(w);
  return pyops_wrap_many(out, 3, 0);
}

static PyObject *py_dequantize(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"",     "scales",       "biases", "group_size", "bits",
                        "mode", "global_scale", "dtype",  "stream",     NULL};
  PyObject *ow, *os, *obias = Py_None, *og = Py_None, *ob = Py_None, *omode = NULL, *ogs = Py_None,
                     *odt = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|OOOOOO$O:dequantize", kws, &ow, &os, &obias, &og,
                                   &ob, &omode, &ogs, &odt, &stream))
    return NULL;
  int gs, bits;
  lz_dtype dt = LZ_DTYPE_COUNT;
  if (quant_params(og, ob, omode, &gs, &bits, "dequantize") < 0 ||
      pyops_dtype(odt, &dt, "dtype") < 0)
    return NULL;
  if (obias == Py_None) {
    PyErr_SetString(PyExc_ValueError, "[dequantize] mode 'affine' needs biases");
    return NULL;
  }
  lz_array *w = NULL, *s = NULL, *b = NULL, *r = NULL;
  PyObject *res = NULL;
  if ((w = pylz_to_array(ow)) && (s = pylz_to_array(os)) && (b = pylz_to_array(obias))) {
    r = lz_dequantize(w, s, b, gs, bits);
    if (r && dt != LZ_DTYPE_COUNT) {
      lz_array *c = lz_astype(r, dt);
      lz_free(r);
      r = c;
    }
    res = pylz_wrap(r);
  }
  lz_free(w);
  lz_free(s);
  lz_free(b);
  return res;
}

static PyObject *py_quantized_matmul(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"",           "",     "scales", "biases", "transpose",
                        "group_size", "bits", "mode",   "stream", NULL};
  PyObject *ox, *ow, *os, *obias = Py_None, *otr = NULL, *og = Py_None, *ob = Py_None,
                          *omode = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|OOOOO$O:quantized_matmul", kws, &ox, &ow, &os,
                                   &obias, &otr, &og, &ob, &omode, &stream))
    return NULL;
  int gs, bits;
  bool transpose = true;
  if (quant_params(og, ob, omode, &gs, &bits, "quantized_matmul") < 0 ||
      pyops_bool(otr, &transpose, "transpose") < 0)
    return NULL;
  if (obias == Py_None) {
    PyErr_SetString(PyExc_ValueError, "[quantized_matmul] mode 'affine' needs biases");
    return NULL;
  }
  lz_array *x = NULL, *w = NULL, *s = NULL, *b = NULL;
  PyObject *res = NULL;
  if ((x = pylz_to_array(ox)) && (w = pylz_to_array(ow)) && (s = pylz_to_array(os)) &&
      (b = pylz_to_array(obias)))
    res = pylz_wrap(lz_quantized_matmul(x, w, s, b, transpose, gs, bits));
  lz_free(x);
  lz_free(w);
  lz_free(s);
  lz_free(b);
  return res;
}

static PyMethodDef methods[] = {
    F("quantize", py_quantize,
      "quantize(w: array, /, group_size: int | None = None, bits: int | None = None, mode: str "
      "= 'affine', *, global_scale: array | None = None, stream: StreamOrDevice = None) -> "
      "tuple[array, array, array]\n\nQuantizes each group of ``group_size`` (default 64) values "
      "of the last axis to ``bits`` (default 4) bits: returns the packed uint32 codes, the "
      "scales and the biases."),
    F("dequantize", py_dequantize,
      "dequantize(w: array, /, scales: array, biases: array | None = None, group_size: int | "
      "None = None, bits: int | None = None, mode: str = 'affine', global_scale: array | None = "
      "None, dtype: Dtype | None = None, *, stream: StreamOrDevice = None) -> array\n\nThe "
      "values ``scale * q + bias`` that :func:`quantize`'s output stands for."),
    F("quantized_matmul", py_quantized_matmul,
      "quantized_matmul(x: array, w: array, /, scales: array, biases: array | None = None, "
      "transpose: bool = True, group_size: int | None = None, bits: int | None = None, mode: str "
      "= 'affine', *, stream: StreamOrDevice = None) -> array\n\n``x @ w.T`` (or ``x @ w``) "
      "with the quantized matrix ``w``."),
    {NULL, NULL, 0, NULL},
};

int pyops_init_quantize(PyObject *m) { return pyops_add_functions(m, methods); }
