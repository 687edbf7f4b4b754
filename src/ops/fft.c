/* FFT constructors (lz_fft*, lz_ifft*, lz_rfft*, lz_irfft*) and helpers (fftfreq, fftshift):
 * argument defaults as MLX, validation, cropping or zero-padding of the input along the
 * transformed axes, and the registry entry of the one FFT op (kernel in cpu/fft.c). */
#include "../cpu/fft.h"
#include "ops.h"

#include <stdlib.h>

const lz_op_def lz_opdef_fft = {
    .name = "fft",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_fft_params),
    .cpu = lz_cpu_fft,
};

/* The core of every transform: n[i] points along axes[i] (all validated here). */
static lz_array *fft_make(const char *op, lz_array *a, const int *n, const int *axes, int naxes,
                          bool real, bool inverse, lz_fft_norm norm) {
  char s[256];
  if ((unsigned)norm >= LZ_FFT_NORM_COUNT) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "invalid norm %d (use backward, ortho or forward)",
              (int)norm);
    return NULL;
  }
  if (a->ndim < 1) {
    lz__error(LZ_ERROR_SHAPE, op, "needs an array with at least one dimension, got a 0-d array");
    return NULL;
  }
  if (naxes < 0 || naxes > a->ndim) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%d axes given for an array of dimension %d", naxes,
              a->ndim);
    return NULL;
  }
  if (naxes == 0) return lz_retain(a);
  lz_fft_params p;
  memset(&p, 0, sizeof p);
  p.naxes = naxes, p.real = real, p.inverse = inverse, p.norm = (int)norm;
  for (int i = 0; i < naxes; i++) {
    int ax = axes[i] < 0 ? axes[i] + a->ndim : axes[i];
    if (ax < 0 || ax >= a->ndim) {
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "axis %d is out of bounds for array of dimension %d",
                axes[i], a->ndim);
      return NULL;
    }
    for (int j = 0; j < i; j++)
      if (p.axes[j] == ax) {
        lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "axis %d is repeated", axes[i]);
        return NULL;
      }
    if (n[i] <= 0) {
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "invalid FFT size %d along axis %d (input %s)", n[i],
                axes[i], lz__fmt_shape(s, sizeof s, a->shape, a->ndim));
      return NULL;
    }
    p.axes[i] = ax;
  }
  /* The input's shape after cropping/padding, and the output's. */
  int in_shape[LZ_MAX_NDIM], out_shape[LZ_MAX_NDIM];
  memcpy(in_shape, a->shape, sizeof(int) * (size_t)a->ndim);
  for (int i = 0; i < naxes; i++) in_shape[p.axes[i]] = n[i];
  int last = p.axes[naxes - 1];
  if (real && inverse) in_shape[last] = n[naxes - 1] / 2 + 1;
  memcpy(out_shape, in_shape, sizeof(int) * (size_t)a->ndim);
  if (real) out_shape[last] = inverse ? n[naxes - 1] : in_shape[last] / 2 + 1;

  lz_scope_begin();
  lz_array *x = a;
  bool crop = false, pad = false;
  int start[LZ_MAX_NDIM] = {0}, lo[LZ_MAX_NDIM] = {0}, hi[LZ_MAX_NDIM];
  for (int d = 0; d < a->ndim; d++) {
    crop |= in_shape[d] < a->shape[d];
    pad |= in_shape[d] > a->shape[d];
    hi[d] = in_shape[d] > a->shape[d] ? in_shape[d] - a->shape[d] : 0;
  }
  if (crop) {
    int stop[LZ_MAX_NDIM];
    for (int d = 0; d < a->ndim; d++) stop[d] = in_shape[d] < a->shape[d] ? in_shape[d] : a->shape[d];
    x = lz_slice(x, start, stop, NULL, a->ndim);
  }
  if (pad && x) x = lz_pad(x, NULL, a->ndim, lo, hi, "constant", 0);
  lz_dtype in_dt = real && !inverse ? LZ_FLOAT32 : LZ_COMPLEX64;
  lz_dtype out_dt = real && inverse ? LZ_FLOAT32 : LZ_COMPLEX64;
  if (x) x = lz_astype(x, in_dt);
  lz_array *out = x ? lz__make(LZ_OP_FFT, &p, &x, 1, out_dt, out_shape, a->ndim) : NULL;
  lz_keep(out);
  lz_scope_end();
  return out;
}

/* Resolves MLX's defaults for (s, axes, naxes) and runs the transform. */
static lz_array *fftn_impl(const char *op, lz_array *a, const int *s, const int *axes, int naxes,
                           bool real, bool inverse, lz_fft_norm norm) {
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  int ax[LZ_MAX_NDIM], n[LZ_MAX_NDIM];
  if (!axes) {
    if (!s) naxes = a->ndim;
    if (naxes < 0 || naxes > a->ndim) {
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%d sizes given for an array of dimension %d",
                naxes, a->ndim);
      return NULL;
    }
    for (int i = 0; i < naxes; i++) ax[i] = a->ndim - naxes + i;
    axes = ax;
  }
  if (naxes < 0 || naxes > LZ_MAX_NDIM) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "invalid number of axes %d", naxes);
    return NULL;
  }
  if (s) {
    memcpy(n, s, sizeof(int) * (size_t)naxes);
  } else {
    for (int i = 0; i < naxes; i++) {
      int d = axes[i] < 0 ? axes[i] + a->ndim : axes[i];
      n[i] = d >= 0 && d < a->ndim ? a->shape[d] : 1; /* a bad axis is reported below */
    }
    if (real && inverse && naxes > 0) n[naxes - 1] = 2 * (n[naxes - 1] - 1);
  }
  return fft_make(op, a, n, axes, naxes, real, inverse, norm);
}

static lz_array *fft1_impl(const char *op, lz_array *a, int n, int axis, bool real, bool inverse,
                           lz_fft_norm norm) {
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  if (n < -1 || n == 0) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "invalid FFT size %d (use a positive size, or -1)", n);
    return NULL;
  }
  return fftn_impl(op, a, n == -1 ? NULL : &n, &axis, 1, real, inverse, norm);
}

static lz_array *fft2_impl(const char *op, lz_array *a, const int *s, const int *axes, bool real,
                           bool inverse, lz_fft_norm norm) {
  static const int last2[2] = {-2, -1};
  return fftn_impl(op, a, s, axes ? axes : last2, 2, real, inverse, norm);
}

/* Each transform with and without a norm (BACKWARD: the unnormalised forward transform). */
#define FFT1(NAME, REAL, INV)                                                                    \
  lz_array *lz_##NAME##_v2(lz_array *a, int n, int axis, lz_fft_norm norm) {                     \
    return fft1_impl("lz_" #NAME, a, n, axis, REAL, INV, norm);                                  \
  }                                                                                              \
  lz_array *lz_##NAME(lz_array *a, int n, int axis) {                                            \
    return fft1_impl("lz_" #NAME, a, n, axis, REAL, INV, LZ_FFT_NORM_BACKWARD);                  \
  }
#define FFTN(NAME, REAL, INV)                                                                    \
  lz_array *lz_##NAME##_v2(lz_array *a, const int *s, const int *axes, int naxes,                \
                           lz_fft_norm norm) {                                                   \
    return fftn_impl("lz_" #NAME, a, s, axes, naxes, REAL, INV, norm);                           \
  }                                                                                              \
  lz_array *lz_##NAME(lz_array *a, const int *s, const int *axes, int naxes) {                   \
    return fftn_impl("lz_" #NAME, a, s, axes, naxes, REAL, INV, LZ_FFT_NORM_BACKWARD);           \
  }
#define FFT2(NAME, REAL, INV)                                                                    \
  lz_array *lz_##NAME##_v2(lz_array *a, const int *s, const int *axes, lz_fft_norm norm) {       \
    return fft2_impl("lz_" #NAME, a, s, axes, REAL, INV, norm);                                  \
  }                                                                                              \
  lz_array *lz_##NAME(lz_array *a, const int *s, const int *axes) {                              \
    return fft2_impl("lz_" #NAME, a, s, axes, REAL, INV, LZ_FFT_NORM_BACKWARD);                  \
  }
FFT1(fft, false, false)
FFT1(ifft, false, true)
FFT1(rfft, true, false)
FFT1(irfft, true, true)
FFTN(fftn, false, false)
FFTN(ifftn, false, true)
FFTN(rfftn, true, false)
FFTN(irfftn, true, true)
FFT2(fft2, false, false)
FFT2(ifft2, false, true)
FFT2(rfft2, true, false)
FFT2(irfft2, true, true)

/* ---- helpers ------------------------------------------------------------------------------ */

static lz_array *freq(const char *op, int n, double d, bool rfft) {
  if (n <= 0) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "n must be positive, got %d", n);
    return NULL;
  }
  int m = rfft ? n / 2 + 1 : n;
  float *v = malloc(sizeof(float) * (size_t)m);
  if (!v) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
    return NULL;
  }
  double scale = 1.0 / ((double)n * d);
  for (int i = 0; i < m; i++) v[i] = (float)((i <= (n - 1) / 2 || rfft ? i : i - n) * scale);
  lz_array *out = lz_array_from_data(v, &m, 1, LZ_FLOAT32);
  free(v);
  return out;
}

lz_array *lz_fftfreq(int n, double d) { return freq("lz_fftfreq", n, d, false); }
lz_array *lz_rfftfreq(int n, double d) { return freq("lz_rfftfreq", n, d, true); }

static lz_array *shift(const char *op, lz_array *a, const int *axes, int naxes, bool inverse) {
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  int ax[LZ_MAX_NDIM], shifts[LZ_MAX_NDIM];
  if (!axes) naxes = a->ndim;
  if (naxes < 0 || naxes > a->ndim) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%d axes given for an array of dimension %d", naxes,
              a->ndim);
    return NULL;
  }
  if (axes) {
    if (lz__norm_axes(op, axes, naxes, a->ndim, ax) != 0) return NULL;
  } else {
    for (int i = 0; i < naxes; i++) ax[i] = i;
  }
  if (naxes == 0) return lz_retain(a);
  for (int i = 0; i < naxes; i++) {
    int len = a->shape[ax[i]];
    shifts[i] = inverse ? -(len / 2) : len / 2;
  }
  return lz_roll(a, shifts, ax, naxes);
}

lz_array *lz_fftshift(lz_array *a, const int *axes, int naxes) {
  return shift("lz_fftshift", a, axes, naxes, false);
}
lz_array *lz_ifftshift(lz_array *a, const int *axes, int naxes) {
  return shift("lz_ifftshift", a, axes, naxes, true);
}
