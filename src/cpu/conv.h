/* The convolution kernel (cpu/conv.c, cpu/conv_direct.c) and its parameter struct. */
#ifndef LZ_CPU_CONV_H
#define LZ_CPU_CONV_H

#include "cpu.h"

enum { LZ_CONV_MAX_SPATIAL = 3 };

/* A convolution of input (N, spatial..., C) with weight (O, kernel..., C / groups), both of the
 * output's dtype. A negative padding crops the (dilated) input. */
typedef struct lz_conv_params {
  int nsp; /* spatial dims, 1 to 3 */
  int stride[LZ_CONV_MAX_SPATIAL];
  int pad_lo[LZ_CONV_MAX_SPATIAL], pad_hi[LZ_CONV_MAX_SPATIAL];
  int kdil[LZ_CONV_MAX_SPATIAL]; /* kernel dilation */
  int idil[LZ_CONV_MAX_SPATIAL]; /* input dilation */
  int groups;
  bool flip;
} lz_conv_params;

/* The geometry of one convolution with its spatial dims padded to three (leading dims of size
 * 1), as the kernels see it. */
typedef struct lz_conv_geom {
  int64_t N, C, O, G, Cg, Og;  /* batch, channels in/out, groups, per group */
  int64_t in[3], k[3], out[3]; /* spatial sizes of input, kernel, output */
  int64_t stride[3], pad[3], kdil[3], idil[3];
  int64_t kvol, M; /* taps per kernel; output rows N * prod(out) */
} lz_conv_geom;

/* inputs: x, w; params: lz_conv_params. */
LZ_HIDDEN int lz_cpu_conv(lz_node *node, lz_array **outs);

/* Direct depthwise convolution (C_in / groups == 1): y (M, O) from x (N, in..., C) and the
 * packed weight wt (kvol, O) (tap-major), all float32 and contiguous. */
LZ_HIDDEN void lz_cpu_conv_depthwise(const lz_conv_geom *g, const float *x, const float *wt,
                                     float *y);

#endif /* LZ_CPU_CONV_H */
