/* Discrete Fourier transforms (MLX's mlx.core.fft, NumPy's numpy.fft conventions): the forward
 * transforms are unnormalised, the inverse ones divide by the number of points, and
 * X[k] = sum_j x[j] exp(-2 pi i j k / n).
 *
 * Every transform computes in single precision, as MLX does: complex and real inputs of any
 * other dtype (float64 included) are converted to complex64 (or float32 for the real-input
 * transforms rfft*, which take the real part of a complex input). Results are complex64, or
 * float32 for irfft*. Inputs are cropped or zero-padded to the requested sizes along the
 * transformed axes first, like NumPy. A size of 0 (or below -1), an axis out of range or a
 * repeated axis is an error; so is a 0-d input.
 *
 * The _v2 forms take MLX's `norm`: LZ_FFT_NORM_BACKWARD (the default above),
 * LZ_FFT_NORM_ORTHO (both directions multiply by 1/sqrt(N)) or LZ_FFT_NORM_FORWARD (the forward
 * transforms divide by N, the inverse ones do not), N the number of points transformed (for the
 * real transforms, the length of the real signal); the forms without _v2 are norm BACKWARD.
 *
 * Results are new references, inputs are borrowed (see core.h); every transform is lazy. */
#ifndef LAZULI_FFT_H
#define LAZULI_FFT_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* MLX's fft `norm` argument ("backward", "ortho", "forward"), as mlx-c's mlx_fft_norm. */
typedef enum lz_fft_norm {
  LZ_FFT_NORM_BACKWARD,
  LZ_FFT_NORM_ORTHO,
  LZ_FFT_NORM_FORWARD,
  LZ_FFT_NORM_COUNT
} lz_fft_norm;

/* ---- one axis: `n` is the number of points (the input along `axis` is cropped or
 * zero-padded to it), or -1 for the input's length along `axis` ---- */

LZ_API lz_array *lz_fft(lz_array *a, int n, int axis);
LZ_API lz_array *lz_ifft(lz_array *a, int n, int axis);
/* The n/2 + 1 non-negative frequencies of the transform of a real input. */
LZ_API lz_array *lz_rfft(lz_array *a, int n, int axis);
/* The real signal of n points (default -1: 2 * (m - 1) for an input of length m along `axis`)
 * whose rfft is `a`; the input is cropped or zero-padded to n/2 + 1 first. */
LZ_API lz_array *lz_irfft(lz_array *a, int n, int axis);

/* ---- several axes: transforms over axes[0..naxes) with sizes s[0..naxes). s NULL: the
 * input's sizes (for irfftn, the last one is 2 * (m - 1)). axes NULL: the last naxes axes when
 * s is given, else every axis (naxes is then ignored). naxes == 0 with axes given returns `a`
 * unchanged. The real transforms (rfftn, irfftn) halve the last of the axes. ---- */

LZ_API lz_array *lz_fftn(lz_array *a, const int *s, const int *axes, int naxes);
LZ_API lz_array *lz_ifftn(lz_array *a, const int *s, const int *axes, int naxes);
LZ_API lz_array *lz_rfftn(lz_array *a, const int *s, const int *axes, int naxes);
LZ_API lz_array *lz_irfftn(lz_array *a, const int *s, const int *axes, int naxes);

/* ---- two axes: s (2 sizes) may be NULL; axes (2 axes) NULL means {-2, -1} ---- */

LZ_API lz_array *lz_fft2(lz_array *a, const int *s, const int *axes);
LZ_API lz_array *lz_ifft2(lz_array *a, const int *s, const int *axes);
LZ_API lz_array *lz_rfft2(lz_array *a, const int *s, const int *axes);
LZ_API lz_array *lz_irfft2(lz_array *a, const int *s, const int *axes);

/* ---- the same transforms with a norm ---- */

LZ_API lz_array *lz_fft_v2(lz_array *a, int n, int axis, lz_fft_norm norm);
LZ_API lz_array *lz_ifft_v2(lz_array *a, int n, int axis, lz_fft_norm norm);
LZ_API lz_array *lz_rfft_v2(lz_array *a, int n, int axis, lz_fft_norm norm);
LZ_API lz_array *lz_irfft_v2(lz_array *a, int n, int axis, lz_fft_norm norm);
LZ_API lz_array *lz_fftn_v2(lz_array *a, const int *s, const int *axes, int naxes,
                            lz_fft_norm norm);
LZ_API lz_array *lz_ifftn_v2(lz_array *a, const int *s, const int *axes, int naxes,
                             lz_fft_norm norm);
LZ_API lz_array *lz_rfftn_v2(lz_array *a, const int *s, const int *axes, int naxes,
                             lz_fft_norm norm);
LZ_API lz_array *lz_irfftn_v2(lz_array *a, const int *s, const int *axes, int naxes,
                              lz_fft_norm norm);
LZ_API lz_array *lz_fft2_v2(lz_array *a, const int *s, const int *axes, lz_fft_norm norm);
LZ_API lz_array *lz_ifft2_v2(lz_array *a, const int *s, const int *axes, lz_fft_norm norm);
LZ_API lz_array *lz_rfft2_v2(lz_array *a, const int *s, const int *axes, lz_fft_norm norm);
LZ_API lz_array *lz_irfft2_v2(lz_array *a, const int *s, const int *axes, lz_fft_norm norm);

/* ---- helpers ---- */

/* The n sample frequencies of an n-point transform with sample spacing d, float32:
 * [0, 1, ..., (n - 1) / 2, -(n / 2), ..., -1] / (n * d). n must be positive. */
LZ_API lz_array *lz_fftfreq(int n, double d);
/* The n/2 + 1 non-negative frequencies of rfft: [0, 1, ..., n / 2] / (n * d), float32. */
LZ_API lz_array *lz_rfftfreq(int n, double d);
/* Rolls each axis of `axes` (NULL: every axis; naxes ignored) by half its length so that the
 * zero frequency moves to the centre; ifftshift undoes it (they differ for odd lengths). */
LZ_API lz_array *lz_fftshift(lz_array *a, const int *axes, int naxes);
LZ_API lz_array *lz_ifftshift(lz_array *a, const int *axes, int naxes);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_FFT_H */
