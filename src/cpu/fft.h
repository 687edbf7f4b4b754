/* The FFT kernel (cpu/fft.c) and its parameters (ops/fft.c builds them). */
#ifndef LZ_CPU_FFT_H
#define LZ_CPU_FFT_H

#include "../core/internal.h"

/* One node transforms over `naxes` distinct axes. The input is already cropped or padded:
 * complex64 for complex transforms and irfftn, float32 for rfftn. For the real transforms the
 * last listed axis is the halved one; its full length is the input's (rfftn) or the output's
 * (irfftn) length. */
typedef struct lz_fft_params {
  int naxes;
  int axes[LZ_MAX_NDIM];
  bool inverse, real;
} lz_fft_params;

LZ_HIDDEN int lz_cpu_fft(lz_node *node, lz_array **outs);

#endif /* LZ_CPU_FFT_H */
