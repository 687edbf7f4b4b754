/* lazuli.core.fft: MLX's Fourier transforms over lz_fft*. `norm` ("backward", "ortho",
 * "forward", NumPy's meaning) scales the library's backward-normalised result by a constant. */
#include "ops_impl.h"

#include <math.h>
#include <string.h>

#define KW METH_VARARGS | METH_KEYWORDS
#define F(NAME, FN, DOC) {NAME, (PyCFunction)(void (*)(void))FN, KW, DOC}

typedef lz_array *(*fft1_fn)(lz_array *, int, int);
typedef lz_array *(*fftn_fn)(lz_array *, const int *, const int *, int);

/* 0 backward, 1 ortho, 2 forward. */
static int parse_norm(PyObject *o, int *norm) {
  *norm = 0;
  if (!o || o == Py_None)
    return 0;
  const char *s;
  if (pyops_str(o, &s, "norm") < 0)
    return -1;
  if (!strcmp(s, "backward"))
    *norm = 0;
  else if (!strcmp(s, "ortho"))
    *norm = 1;
  else if (!strcmp(s, "forward"))
    *norm = 2;
  else {
    PyErr_Format(PyExc_ValueError,
                 "[fft] Invalid norm '%s': expected 'backward', 'ortho' or 'forward'", s);
    return -1;
  }
  return 0;
}

/* Rescales `r` (consumed) of a transform over `npoints` points: the library divides inverse
 * transforms by n (backward); ortho divides both directions by sqrt(n), forward only the
 * forward one by n. */
static lz_array *apply_norm(lz_array *r, int norm, int inverse, double npoints) {
  if (!r || norm == 0)
    return r;
  double f;
  if (norm == 1)
    f = inverse ? sqrt(npoints) : 1.0 / sqrt(npoints);
  else
    f = inverse ? npoints : 1.0 / npoints;
  lz_array *c = lz_float(f);
  lz_array *s = lz_multiply(r, c);
  lz_free(c);
  lz_free(r);
  return s;
}

/* fft, ifft, rfft, irfft: fn[0](a, n, axis); fn[1] non-NULL marks an inverse, fn[2] the real
 * (halved) side: rfft's input or irfft's output. */
static PyObject *fft1_impl(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"a", "n", "axis", "norm", "stream", NULL};
  PyObject *x, *on = Py_None, *oaxis = NULL, *onorm = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOOO", kws, &x, &on, &oaxis, &onorm, &stream))
    return NULL;
  int n = -1, has_n, axis = -1, norm;
  if (pyops_opt_int(on, &n, &has_n, "n") < 0 || (oaxis && pyops_int(oaxis, &axis, "axis") < 0) ||
      parse_norm(onorm, &norm) < 0)
    return NULL;
  if (has_n && n <= 0) {
    PyErr_Format(PyExc_ValueError, "[fft] Invalid FFT output size n=%d.", n);
    return NULL;
  }
  const pyops_fn *e = pyops_self(self);
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  int inverse = e->fn[1] != NULL;
  lz_array *r = ((fft1_fn)e->fn[0])(a, has_n ? n : -1, axis);
  double npoints = 1;
  if (r && norm) {
    /* the real-signal length: the input's (or n) for rfft, the output's for the others */
    int real_in = e->fn[2] != NULL && !inverse;
    npoints = real_in ? (has_n ? n : lz_array_dim(a, axis)) : lz_array_dim(r, axis);
  }
  lz_free(a);
  return pylz_wrap(apply_norm(r, norm, inverse, npoints));
}

/* fft2/fftn and friends: fn[0](a, s, axes, naxes); the row's flags as for fft1_impl; the
 * 2-d forms default `axes` to (-2, -1). */
static PyObject *fftn_impl(PyObject *self, PyObject *args, PyObject *kw) {
  static char *kws[] = {"a", "s", "axes", "norm", "stream", NULL};
  const pyops_fn *e = pyops_self(self);
  int two_d = strchr(e->def.ml_name, '2') != NULL;
  PyObject *x, *os = Py_None, *oaxes = NULL, *onorm = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOOO", kws, &x, &os, &oaxes, &onorm, &stream))
    return NULL;
  pyops_ints s = {0}, axes = {0};
  int has_axes = 0, norm;
  if (os != Py_None && pyops_int_list(os, &s, 0, "s") < 0)
    return NULL;
  if (oaxes && oaxes != Py_None) {
    if (pyops_int_list(oaxes, &axes, 0, "axes") < 0)
      return NULL;
    has_axes = 1;
  } else if (two_d && !oaxes) {
    axes.n = 2;
    axes.v[0] = -2;
    axes.v[1] = -1;
    has_axes = 1;
  }
  if (parse_norm(onorm, &norm) < 0)
    return NULL;
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
  if (!a)
    return NULL;
  int naxes = has_axes ? axes.n : (os != Py_None ? s.n : lz_array_ndim(a));
  lz_array *r = ((fftn_fn)e->fn[0])(a, os != Py_None ? s.v : NULL, has_axes ? axes.v : NULL,
                                     naxes);
  int inverse = e->fn[1] != NULL;
  double npoints = 1;
  if (r && norm) {
    int real_in = e->fn[2] != NULL && !inverse, nd = lz_array_ndim(r);
    for (int i = 0; i < naxes; i++) {
      int ax = has_axes ? axes.v[i] : (os != Py_None ? nd - naxes + i : i);
      if (real_in && os != Py_None)
        npoints *= s.v[i];
      else if (real_in)
        npoints *= lz_array_dim(a, ax);
      else
        npoints *= lz_array_dim(r, ax);
    }
  }
  lz_free(a);
  return pylz_wrap(apply_norm(r, norm, inverse, npoints));
}

static PyObject *freq_impl(PyObject *args, PyObject *kw, lz_array *(*fn)(int, double)) {
  static char *kws[] = {"n", "d", "stream", NULL};
  PyObject *on, *od = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OO", kws, &on, &od, &stream))
    return NULL;
  int n;
  double d = 1.0;
  if (pyops_int(on, &n, "n") < 0 || (od && pyops_double(od, &d, "d") < 0))
    return NULL;
  return pylz_wrap(fn(n, d));
}

static PyObject *py_fftfreq(PyObject *self, PyObject *args, PyObject *kw) {
  return freq_impl(args, kw, lz_fftfreq);
}

static PyObject *py_rfftfreq(PyObject *self, PyObject *args, PyObject *kw) {
  return freq_impl(args, kw, lz_rfftfreq);
}

static PyObject *shift_impl(PyObject *args, PyObject *kw,
                            lz_array *(*fn)(lz_array *, const int *, int)) {
  static char *kws[] = {"a", "axes", "stream", NULL};
  PyObject *x, *oaxes = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OO", kws, &x, &oaxes, &stream))
    return NULL;
  pyops_ints axes = {0};
  if (oaxes != Py_None && pyops_int_list(oaxes, &axes, 1, "axes") < 0)
    return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a)
    return NULL;
  lz_array *r = fn(a, oaxes == Py_None ? NULL : axes.v, axes.n);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_fftshift(PyObject *self, PyObject *args, PyObject *kw) {
  return shift_impl(args, kw, lz_fftshift);
}

static PyObject *py_ifftshift(PyObject *self, PyObject *args, PyObject *kw) {
  return shift_impl(args, kw, lz_ifftshift);
}

#define INV PYOPS_FN(lz_ifft) /* any non-NULL marker */
#define REAL PYOPS_FN(lz_rfft)
#define SIG1(NAME)                                                                               \
  NAME "(a: array, n: int | None = None, axis: int = -1, norm: str | None = None, stream: "      \
       "StreamOrDevice = None) -> array\n\n"
#define SIG2(NAME)                                                                               \
  NAME "(a: array, s: Sequence[int] | None = None, axes: Sequence[int] | None = [-2, -1], "      \
       "norm: str | None = None, stream: StreamOrDevice = None) -> array\n\n"
#define SIGN(NAME)                                                                               \
  NAME "(a: array, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: "    \
       "str | None = None, stream: StreamOrDevice = None) -> array\n\n"
#define ROW(NAME, IMPL, DOC, FN, I, R)                                                           \
  {{NAME, (PyCFunction)(void (*)(void))(IMPL), KW, DOC}, {PYOPS_FN(FN), I, R}}

static pyops_fn table[] = {
    ROW("fft", fft1_impl, SIG1("fft") "The discrete Fourier transform along ``axis``.", lz_fft,
        NULL, NULL),
    ROW("ifft", fft1_impl, SIG1("ifft") "The inverse discrete Fourier transform along ``axis``.",
        lz_ifft, INV, NULL),
    ROW("rfft", fft1_impl,
        SIG1("rfft") "The transform of a real input: ``n // 2 + 1`` frequencies along ``axis``.",
        lz_rfft, NULL, REAL),
    ROW("irfft", fft1_impl, SIG1("irfft") "The inverse of :func:`rfft` (a real result).",
        lz_irfft, INV, REAL),
    ROW("fft2", fftn_impl, SIG2("fft2") "The 2-D discrete Fourier transform.", lz_fftn, NULL,
        NULL),
    ROW("ifft2", fftn_impl, SIG2("ifft2") "The inverse 2-D discrete Fourier transform.", lz_ifftn,
        INV, NULL),
    ROW("rfft2", fftn_impl, SIG2("rfft2") "The 2-D transform of a real input (the last axis "
                                          "halved).",
        lz_rfftn, NULL, REAL),
    ROW("irfft2", fftn_impl, SIG2("irfft2") "The inverse of :func:`rfft2`.", lz_irfftn, INV, REAL),
    ROW("fftn", fftn_impl, SIGN("fftn") "The n-D discrete Fourier transform.", lz_fftn, NULL,
        NULL),
    ROW("ifftn", fftn_impl, SIGN("ifftn") "The inverse n-D discrete Fourier transform.", lz_ifftn,
        INV, NULL),
    ROW("rfftn", fftn_impl, SIGN("rfftn") "The n-D transform of a real input (the last axis "
                                          "halved).",
        lz_rfftn, NULL, REAL),
    ROW("irfftn", fftn_impl, SIGN("irfftn") "The inverse of :func:`rfftn`.", lz_irfftn, INV, REAL),
};

static PyMethodDef methods[] = {
    F("fftfreq", py_fftfreq,
      "fftfreq(n: int, d: float = 1.0, stream: StreamOrDevice = None) -> array\n\nThe sample "
      "frequencies of an ``n``-point transform with sample spacing ``d``."),
    F("rfftfreq", py_rfftfreq,
      "rfftfreq(n: int, d: float = 1.0, stream: StreamOrDevice = None) -> array\n\nThe "
      "non-negative sample frequencies of :func:`rfft`."),
    F("fftshift", py_fftshift,
      "fftshift(a: array, axes: int | Sequence[int] | None = None, stream: StreamOrDevice = "
      "None) -> array\n\nMoves the zero frequency to the centre of the axes (all by default)."),
    F("ifftshift", py_ifftshift,
      "ifftshift(a: array, axes: int | Sequence[int] | None = None, stream: StreamOrDevice = "
      "None) -> array\n\nThe inverse of :func:`fftshift`."),
    {NULL, NULL, 0, NULL},
};

int pylz_init_fft(PyObject *m) {
  PyObject *sub = pylz_add_submodule(m, "fft", methods,
                                     "lazuli.core.fft: discrete Fourier transforms, as "
                                     "mlx.core.fft.");
  if (!sub)
    return -1;
  return pyops_register(sub, table, (int)(sizeof table / sizeof table[0]), "lazuli.core.fft");
}
