/* The FFT kernel (cpu/fft.c) and its parameters (ops/fft.c builds them). */
#ifndef LZ_CPU_FFT_H
#define LZ_CPU_FFT_H

#include "../core/internal.h"

#include <math.h>

/* One node transforms over `naxes` distinct axes. The input is already cropped or padded:
 * complex64 for complex transforms and irfftn, float32 for rfftn. For the real transforms the
 * last listed axis is the halved one; its full length is the input's (rfftn) or the output's
 * (irfftn) length. */
typedef struct lz_fft_params {
  int naxes;
  int axes[LZ_MAX_NDIM];
  bool inverse, real;
  int norm; /* lz_fft_norm: which direction divides by N (or both by sqrt(N)) */
} lz_fft_params;

/* The factor the transform of N points multiplies by under `norm` (lz_fft_norm). */
static inline double lz__fft_scale(int norm, bool inverse, double npoints) {
  if (norm == LZ_FFT_NORM_ORTHO) return 1.0 / sqrt(npoints);
  return (norm == LZ_FFT_NORM_FORWARD) != inverse ? 1.0 / npoints : 1.0;
}

LZ_HIDDEN int lz_cpu_fft(lz_node *node, lz_array **outs);
/* Destroys the cached FFTW plans (lz_clear_cache), after the transforms running now finish. */
LZ_HIDDEN void lz_cpu_fft_cache_clear(void);
/* FFTW plans in the cache now (tests). */
LZ_HIDDEN int lz_cpu_fft_plan_count(void);

#endif /* LZ_CPU_FFT_H */
