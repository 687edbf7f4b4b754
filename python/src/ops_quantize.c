/* lazuli.core: quantization (quantize, dequantize, quantized_matmul, gather_qmm in MLX's four
 * modes: affine, mxfp4, mxfp8, nvfp4) over lz_quantize_v2 and friends, and the E4M3 float8
 * conversions (to_fp8, from_fp8), with MLX's names and signatures. The float8 conversions are
 * lz_to_fp8 and lz_from_fp8 (E4M3FN: bytes 0x7F and 0xFF decode to NaN, as in MLX). */
#include "ops_impl.h"

#include <math.h>
#include <string.h>

static const char *const mode_names[LZ_QUANT_MODE_COUNT] = {"affine", "mxfp4", "mxfp8", "nvfp4"};

/* group_size and bits (None: 0, the mode's default in the C library), the mode (a str, MLX's
 * default "affine" when not given) and global_scale (only None: the C library has no global
 * scale for nvfp4). */
static int quant_params(PyObject *og, PyObject *ob, PyObject *omode, PyObject *oglobal, int *gs,
                        int *bits, lz_quant_mode *mode) {
  int set;
  *mode = LZ_QUANT_AFFINE;
  if (pyops_opt_int(og, gs, &set, "group_size") < 0) return -1;
  if (!set) *gs = 0;
  if (pyops_opt_int(ob, bits, &set, "bits") < 0) return -1;
  if (!set) *bits = 0;
  if (omode) {
    const char *s;
    if (pyops_str(omode, &s, "mode") < 0) return -1;
    int m = 0;
    while (m < LZ_QUANT_MODE_COUNT && strcmp(s, mode_names[m])) m++;
    if (m == LZ_QUANT_MODE_COUNT) {
      PyErr_Format(PyExc_ValueError, "[%s] Invalid quantization mode '%s'.", pyops_name, s);
      return -1;
    }
    *mode = (lz_quant_mode)m;
  }
  if (oglobal && oglobal != Py_None) {
    PyErr_Format(PyExc_ValueError,
                 *mode == LZ_QUANT_NVFP4 ? "[%s] global_scale is not supported"
                                         : "[%s] global_scale is only used by mode 'nvfp4'",
                 pyops_name);
    return -1;
  }
  return 0;
}

static PyObject *py_quantize(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "quantize";
  static char *kws[] = {"", "group_size", "bits", "mode", "global_scale", "stream", NULL};
  PyObject *ow, *og = Py_None, *ob = Py_None, *omode = NULL, *oglobal = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOO$OO:quantize", kws, &ow, &og, &ob, &omode,
                                   &oglobal, &stream))
    return NULL;
  int gs, bits;
  lz_quant_mode mode;
  if (quant_params(og, ob, omode, oglobal, &gs, &bits, &mode) < 0) return NULL;
  lz_array *w = pylz_to_array(ow);
  if (!w) return NULL;
  lz_array *out[3] = {NULL, NULL, NULL};
  int rc = lz_quantize_v2(w, gs, bits, mode, out);
  lz_free(w);
  if (rc < 0) return pylz_raise();
  /* affine: (codes, scales, biases); the float modes: (codes, scales), as MLX */
  return pyops_wrap_many(out, mode == LZ_QUANT_AFFINE ? 3 : 2, 0);
}

static PyObject *py_dequantize(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "dequantize";
  static char *kws[] = {"",     "scales",       "biases", "group_size", "bits",
                        "mode", "global_scale", "dtype",  "stream",     NULL};
  PyObject *ow, *os, *obias = Py_None, *og = Py_None, *ob = Py_None, *omode = NULL,
                     *oglobal = Py_None, *odt = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|OOOOOO$O:dequantize", kws, &ow, &os, &obias, &og,
                                   &ob, &omode, &oglobal, &odt, &stream))
    return NULL;
  int gs, bits;
  lz_quant_mode mode;
  lz_dtype dt = LZ_DTYPE_COUNT;
  if (quant_params(og, ob, omode, oglobal, &gs, &bits, &mode) < 0 ||
      pyops_dtype(odt, &dt, "dtype") < 0)
    return NULL;
  lz_array *w, *s, *b;
  if (PYOPS_CONVERT(PYOPS_ARRAY(ow, &w), PYOPS_ARRAY(os, &s), PYOPS_OPT_ARRAY(obias, &b)) < 0)
    return NULL;
  PyObject *res = pylz_wrap(lz_dequantize_v2(w, s, b, gs, bits, mode, dt));
  PYOPS_FREE(w, s, b);
  return res;
}

static PyObject *py_quantized_matmul(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "quantized_matmul";
  static char *kws[] = {"",           "",     "scales", "biases", "transpose",
                        "group_size", "bits", "mode",   "stream", NULL};
  PyObject *ox, *ow, *os, *obias = Py_None, *otr = NULL, *og = Py_None, *ob = Py_None,
                          *omode = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|OOOOO$O:quantized_matmul", kws, &ox, &ow, &os,
                                   &obias, &otr, &og, &ob, &omode, &stream))
    return NULL;
  int gs, bits;
  lz_quant_mode mode;
  bool transpose = true;
  if (quant_params(og, ob, omode, NULL, &gs, &bits, &mode) < 0 ||
      pyops_bool(otr, &transpose, "transpose") < 0)
    return NULL;
  lz_array *x, *w, *s, *b;
  if (PYOPS_CONVERT(PYOPS_ARRAY(ox, &x), PYOPS_ARRAY(ow, &w), PYOPS_ARRAY(os, &s),
                    PYOPS_OPT_ARRAY(obias, &b)) < 0)
    return NULL;
  PyObject *res = pylz_wrap(lz_quantized_matmul_v2(x, w, s, b, transpose, gs, bits, mode));
  PYOPS_FREE(x, w, s, b);
  return res;
}

static PyObject *py_gather_qmm(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "gather_qmm";
  static char *kws[] = {
      "",           "",     "scales", "biases",         "lhs_indices", "rhs_indices", "transpose",
      "group_size", "bits", "mode",   "sorted_indices", "stream",      NULL};
  PyObject *ox, *ow, *os, *obias = Py_None, *olhs = Py_None, *orhs = Py_None, *otr = NULL,
                          *og = Py_None, *ob = Py_None, *omode = NULL, *osorted = NULL,
                          *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|OOOOOOO$OO:gather_qmm", kws, &ox, &ow, &os,
                                   &obias, &olhs, &orhs, &otr, &og, &ob, &omode, &osorted, &stream))
    return NULL;
  int gs, bits;
  lz_quant_mode mode;
  bool transpose = true, sorted_indices = false;
  if (quant_params(og, ob, omode, NULL, &gs, &bits, &mode) < 0 ||
      pyops_bool(otr, &transpose, "transpose") < 0 ||
      pyops_bool(osorted, &sorted_indices, "sorted_indices") < 0)
    return NULL;
  lz_array *x, *w, *s, *b, *li, *ri;
  if (PYOPS_CONVERT(PYOPS_ARRAY(ox, &x), PYOPS_ARRAY(ow, &w), PYOPS_ARRAY(os, &s),
                    PYOPS_OPT_ARRAY(obias, &b), PYOPS_OPT_ARRAY(olhs, &li),
                    PYOPS_OPT_ARRAY(orhs, &ri)) < 0)
    return NULL;
  PyObject *res =
      pylz_wrap(lz_gather_qmm(x, w, s, b, li, ri, transpose, gs, bits, mode, sorted_indices));
  PYOPS_FREE(x, w, s, b, li, ri);
  return res;
}

/* ---- fp8 (E4M3) conversions, as MLX's: uint8 codes, no fp8 dtype ---- */

/* The arguments are checked here (MLX's messages); lz_from_fp8 and lz_to_fp8 convert. */
static PyObject *py_from_fp8(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "from_fp8";
  static char *kws[] = {"", "dtype", "stream", NULL};
  PyObject *ox, *odt = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O:from_fp8", kws, &ox, &odt, &stream))
    return NULL;
  lz_dtype dt = LZ_BFLOAT16;
  if (odt && pyops_dtype(odt, &dt, "dtype") < 0) return NULL;
  if (!lz_dtype_is_float(dt)) {
    PyErr_Format(PyExc_ValueError, "[from_fp8] dtype must be a floating type, got %s",
                 lz_dtype_name(dt));
    return NULL;
  }
  lz_array *x = pylz_to_array(ox);
  if (!x) return NULL;
  PyObject *res = NULL;
  if (lz_array_dtype(x) != LZ_UINT8)
    PyErr_Format(PyExc_ValueError, "[from_fp8] input must be uint8 E4M3 codes, got %s",
                 lz_dtype_name(lz_array_dtype(x)));
  else
    res = pylz_wrap(lz_from_fp8(x, dt));
  lz_free(x);
  return res;
}

static PyObject *py_to_fp8(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "to_fp8";
  static char *kws[] = {"", "stream", NULL};
  PyObject *ox, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$O:to_fp8", kws, &ox, &stream)) return NULL;
  lz_array *x = pylz_to_array(ox);
  if (!x) return NULL;
  PyObject *res = NULL;
  if (!lz_dtype_is_float(lz_array_dtype(x)))
    PyErr_Format(PyExc_ValueError, "[to_fp8] input must be floating point, got %s",
                 lz_dtype_name(lz_array_dtype(x)));
  else
    res = pylz_wrap(lz_to_fp8(x));
  lz_free(x);
  return res;
}

static PyMethodDef methods[] = {
    PYOPS_F(
        "quantize", py_quantize,
        "quantize(w: array, /, group_size: int | None = None, bits: int | None = None, mode: str "
        "= 'affine', *, global_scale: array | None = None, stream: StreamOrDevice = None) -> "
        "tuple[array, array, array]\n\nQuantizes each group of ``group_size`` values of the last "
        "axis to ``bits`` bits. ``mode`` 'affine' (groups 32, 64 (default) or 128; 2, 3, 4 "
        "(default), 5, 6 or 8 bits) returns the packed uint32 codes, the scales and the biases; "
        "'mxfp4' (32, 4), 'mxfp8' (32, 8) and 'nvfp4' (16, 4) return the codes and the uint8 "
        "scales."),
    PYOPS_F(
        "dequantize", py_dequantize,
        "dequantize(w: array, /, scales: array, biases: array | None = None, group_size: int | "
        "None = None, bits: int | None = None, mode: str = 'affine', global_scale: array | None = "
        "None, dtype: Dtype | None = None, *, stream: StreamOrDevice = None) -> array\n\nThe "
        "values that :func:`quantize`'s output stands for (``scale * q + bias`` for 'affine'), of "
        "``dtype`` (default: the scales' type for 'affine', bfloat16 for the float modes)."),
    PYOPS_F(
        "quantized_matmul", py_quantized_matmul,
        "quantized_matmul(x: array, w: array, /, scales: array, biases: array | None = None, "
        "transpose: bool = True, group_size: int | None = None, bits: int | None = None, mode: str "
        "= 'affine', *, stream: StreamOrDevice = None) -> array\n\n``x @ w.T`` (or ``x @ w``) "
        "with the quantized matrix ``w`` in any of :func:`quantize`'s modes."),
    PYOPS_F(
        "gather_qmm", py_gather_qmm,
        "gather_qmm(x: array, w: array, /, scales: array, biases: array | None = None, "
        "lhs_indices: array | None = None, rhs_indices: array | None = None, transpose: bool = "
        "True, group_size: int | None = None, bits: int | None = None, mode: str = 'affine', *, "
        "sorted_indices: bool = False, stream: StreamOrDevice = None) -> "
        "array\n\n:func:`quantized_matmul` of the matrices of ``x`` and "
        "of the quantized ``w`` picked by flat batch indices, as :func:`gather_mm`."),
    PYOPS_F(
        "from_fp8", py_from_fp8,
        "from_fp8(x: array, dtype: Dtype = bfloat16, *, stream: StreamOrDevice = None) -> "
        "array\n\nDecodes E4M3 float8 codes (a uint8 array) to the floating ``dtype`` (0x7F and "
        "0xFF are NaN)."),
    PYOPS_F("to_fp8", py_to_fp8,
            "to_fp8(x: array, *, stream: StreamOrDevice = None) -> array\n\nEncodes floats as E4M3 "
            "float8 codes (uint8), rounding to nearest even and saturating at 448."),
    {NULL, NULL, 0, NULL},
};

int pyops_init_quantize(PyObject *m) { return pyops_add_functions(m, methods); }
