/* lazuli.core.fft: MLX's Fourier transforms over the lz_fft*_v2 forms, which take MLX's `norm`
 * ("backward", "ortho", "forward"). */
#include "ops_impl.h"

#include <string.h>

typedef lz_array *(*fft1_fn)(lz_array *, int, int, lz_fft_norm);
typedef lz_array *(*fftn_fn)(lz_array *, const int *, const int *, int, lz_fft_norm);

static int parse_norm(PyObject *o, lz_fft_norm *norm) {
  *norm = LZ_FFT_NORM_BACKWARD;
  if (!o || o == Py_None) return 0;
  const char *s;
  if (pyops_str(o, &s, "norm") < 0) return -1;
  if (!strcmp(s, "backward"))
    *norm = LZ_FFT_NORM_BACKWARD;
  else if (!strcmp(s, "ortho"))
    *norm = LZ_FFT_NORM_ORTHO;
  else if (!strcmp(s, "forward"))
    *norm = LZ_FFT_NORM_FORWARD;
  else {
    PyErr_Format(PyExc_ValueError,
                 "[fft] Invalid norm '%s': expected 'backward', 'ortho' or 'forward'", s);
    return -1;
  }
  return 0;
}

/* fft, ifft, rfft, irfft: fn(a, n, axis, norm). */
static PyObject *fft1_call(PyObject *args, PyObject *kw, fft1_fn fn) {
  static char *kws[] = {"a", "n", "axis", "norm", "stream", NULL};
  PyObject *x, *on = Py_None, *oaxis = NULL, *onorm = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOOO", kws, &x, &on, &oaxis, &onorm, &stream))
    return NULL;
  int n = -1, has_n, axis = -1;
  lz_fft_norm norm;
  if (pyops_opt_int(on, &n, &has_n, "n") < 0 || (oaxis && pyops_int(oaxis, &axis, "axis") < 0) ||
      parse_norm(onorm, &norm) < 0)
    return NULL;
  if (has_n && n <= 0) {
    PyErr_Format(PyExc_ValueError, "[fft] Invalid FFT output size n=%d.", n);
    return NULL;
  }
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = fn(a, has_n ? n : -1, axis, norm);
  lz_free(a);
  return pylz_wrap(r);
}

/* fft2/fftn and friends: fn(a, s, axes, naxes, norm); the 2-d forms (`two_d`) default `axes`
 * to (-2, -1). */
static PyObject *fftn_call(PyObject *args, PyObject *kw, fftn_fn fn, int two_d) {
  static char *kws[] = {"a", "s", "axes", "norm", "stream", NULL};
  PyObject *x, *os = Py_None, *oaxes = NULL, *onorm = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOOO", kws, &x, &os, &oaxes, &onorm, &stream))
    return NULL;
  pyops_ints s = {0}, axes = {0};
  int has_axes = 0;
  lz_fft_norm norm;
  if (os != Py_None && pyops_int_list(os, &s, 0, "s") < 0) return NULL;
  if (oaxes && oaxes != Py_None) {
    if (pyops_int_list(oaxes, &axes, 0, "axes") < 0) return NULL;
    has_axes = 1;
  } else if (two_d && !oaxes) {
    axes.n = 2;
    axes.v[0] = -2;
    axes.v[1] = -1;
    has_axes = 1;
  }
  if (parse_norm(onorm, &norm) < 0) return NULL;
  if (os != Py_None && has_axes && s.n != axes.n) {
    PyErr_Format(PyExc_ValueError, "[fftn] Shape and axes have different sizes: %d and %d", s.n,
                 axes.n);
    return NULL;
  }
  for (int i = 0; i < s.n; i++) {
    if (s.v[i] <= 0) {
      PyErr_Format(PyExc_ValueError, "[fftn] Invalid FFT output size s=%d.", s.v[i]);
      return NULL;
    }
  }
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  int naxes = has_axes ? axes.n : (os != Py_None ? s.n : lz_array_ndim(a));
  lz_array *r = fn(a, os != Py_None ? s.v : NULL, has_axes ? axes.v : NULL, naxes, norm);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *freq_impl(PyObject *args, PyObject *kw, lz_array *(*fn)(int, double)) {
  static char *kws[] = {"n", "d", "stream", NULL};
  PyObject *on, *od = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OO", kws, &on, &od, &stream)) return NULL;
  int n;
  double d = 1.0;
  if (pyops_int(on, &n, "n") < 0 || (od && pyops_double(od, &d, "d") < 0)) return NULL;
  return pylz_wrap(fn(n, d));
}

static PyObject *py_fftfreq(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "fftfreq";
  return freq_impl(args, kw, lz_fftfreq);
}

static PyObject *py_rfftfreq(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "rfftfreq";
  return freq_impl(args, kw, lz_rfftfreq);
}

static PyObject *shift_impl(PyObject *args, PyObject *kw,
                            lz_array *(*fn)(lz_array *, const int *, int)) {
  static char *kws[] = {"a", "axes", "stream", NULL};
  PyObject *x, *oaxes = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OO", kws, &x, &oaxes, &stream)) return NULL;
  pyops_ints axes = {0};
  if (oaxes != Py_None && pyops_int_list(oaxes, &axes, 1, "axes") < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = fn(a, oaxes == Py_None ? NULL : axes.v, axes.n);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_fftshift(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "fftshift";
  return shift_impl(args, kw, lz_fftshift);
}

static PyObject *py_ifftshift(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "ifftshift";
  return shift_impl(args, kw, lz_ifftshift);
}

#define SIG1(NAME)                                                                                 \
  NAME "(a: array, n: int | None = None, axis: int = -1, norm: str = 'backward', stream: "         \
       "StreamOrDevice = None) -> array\n\n"
#define SIG2(NAME)                                                                                 \
  NAME "(a: array, s: Sequence[int] | None = None, axes: Sequence[int] | None = [-2, -1], "        \
       "norm: str = 'backward', stream: StreamOrDevice = None) -> array\n\n"
#define SIGN(NAME)                                                                                 \
  NAME "(a: array, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: "      \
       "str = 'backward', stream: StreamOrDevice = None) -> array\n\n"
/* One row per transform: X(name, lz function, description). */
#define FFT1(X)                                                                                    \
  X(fft, lz_fft_v2, "The discrete Fourier transform along ``axis``.")                              \
  X(ifft, lz_ifft_v2, "The inverse discrete Fourier transform along ``axis``.")                    \
  X(rfft, lz_rfft_v2, "The transform of a real input: ``n // 2 + 1`` frequencies.")                \
  X(irfft, lz_irfft_v2, "The inverse of :func:`rfft` (a real result).")
#define FFT2(X)                                                                                    \
  X(fft2, lz_fftn_v2, "The 2-D discrete Fourier transform.")                                       \
  X(ifft2, lz_ifftn_v2, "The inverse 2-D discrete Fourier transform.")                             \
  X(rfft2, lz_rfftn_v2, "The 2-D transform of a real input (the last axis halved).")               \
  X(irfft2, lz_irfftn_v2, "The inverse of :func:`rfft2`.")
#define FFTN(X)                                                                                    \
  X(fftn, lz_fftn_v2, "The n-D discrete Fourier transform.")                                       \
  X(ifftn, lz_ifftn_v2, "The inverse n-D discrete Fourier transform.")                             \
  X(rfftn, lz_rfftn_v2, "The n-D transform of a real input (the last axis halved).")               \
  X(irfftn, lz_irfftn_v2, "The inverse of :func:`rfftn`.")

#define DEFINE_FFT1(NAME, FN, TEXT)                                                                \
  static PyObject *py_##NAME(PyObject *self, PyObject *args, PyObject *kw) {                       \
    pyops_name = #NAME;                                                                            \
    return fft1_call(args, kw, FN);                                                                \
  }
#define DEFINE_FFT2(NAME, FN, TEXT)                                                                \
  static PyObject *py_##NAME(PyObject *self, PyObject *args, PyObject *kw) {                       \
    pyops_name = #NAME;                                                                            \
    return fftn_call(args, kw, FN, 1);                                                             \
  }
#define DEFINE_FFTN(NAME, FN, TEXT)                                                                \
  static PyObject *py_##NAME(PyObject *self, PyObject *args, PyObject *kw) {                       \
    pyops_name = #NAME;                                                                            \
    return fftn_call(args, kw, FN, 0);                                                             \
  }
FFT1(DEFINE_FFT1)
FFT2(DEFINE_FFT2)
FFTN(DEFINE_FFTN)

#define ARGS_NORM                                                                                  \
  "\n    norm (str, optional): ``'backward'`` (the inverse divides by the number of points), "     \
  "``'ortho'`` (both divide by its square root) or ``'forward'`` (the forward divides)."
#define ARGS_1                                                                                     \
  "\n\nArgs:\n    a (array): Input array.\n    n (int, optional): Points along ``axis``: the "     \
  "input is cropped or zero-padded to it. Default: its length.\n    axis (int, optional): The "    \
  "axis to transform. Default: ``-1``." ARGS_NORM
#define ARGS_N                                                                                     \
  "\n\nArgs:\n    a (array): Input array.\n    s (list(int), optional): Points along each axis "   \
  "(crop or zero-pad). Default: the input's sizes.\n    axes (list(int), optional): The axes to "  \
  "transform." ARGS_NORM
#define ROW_FFT1(NAME, FN, TEXT) PYOPS_F(#NAME, py_##NAME, SIG1(#NAME) TEXT ARGS_1),
#define ROW_FFT2(NAME, FN, TEXT) PYOPS_F(#NAME, py_##NAME, SIG2(#NAME) TEXT ARGS_N),
#define ROW_FFTN(NAME, FN, TEXT) PYOPS_F(#NAME, py_##NAME, SIGN(#NAME) TEXT ARGS_N),

static PyMethodDef methods[] = {
    FFT1(ROW_FFT1) FFT2(ROW_FFT2) FFTN(ROW_FFTN) PYOPS_F(
        "fftfreq", py_fftfreq,
        "fftfreq(n: int, d: float = 1.0, stream: StreamOrDevice = None) -> array\n\nThe sample "
        "frequencies of an ``n``-point transform with sample spacing ``d``."),
    PYOPS_F("rfftfreq", py_rfftfreq,
            "rfftfreq(n: int, d: float = 1.0, stream: StreamOrDevice = None) -> array\n\nThe "
            "non-negative sample frequencies of :func:`rfft`."),
    PYOPS_F(
        "fftshift", py_fftshift,
        "fftshift(a: array, axes: int | Sequence[int] | None = None, stream: StreamOrDevice = "
        "None) -> array\n\nMoves the zero frequency to the centre of the axes (all by default)."),
    PYOPS_F("ifftshift", py_ifftshift,
            "ifftshift(a: array, axes: int | Sequence[int] | None = None, stream: StreamOrDevice = "
            "None) -> array\n\nThe inverse of :func:`fftshift`."),
    {NULL, NULL, 0, NULL},
};

int pylz_init_fft(PyObject *m) {
  PyObject *sub = pylz_add_submodule(m, "fft", methods,
                                     "lazuli.core.fft: discrete Fourier transforms, as "
                                     "mlx.core.fft.");
  return sub ? 0 : -1;
}
