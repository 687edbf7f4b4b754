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

/* ---- the oneDNN path (cpu/conv_onednn.c) ---- */

/* Which implementation runs convolutions: ONEDNN (the default) uses a oneDNN primitive wherever
 * one fits and the reference path (im2col + GEMM, direct depthwise) for the rest; REF forces the
 * reference path. The environment variable LZ_CONV=ref|onednn sets it (read at each convolution).
 * Measured (thread CPU time, one AVX2 core) oneDNN wins on every shape of the bench (the
 * ResNet layer forward 21.6 ms against 26.1, its weight gradient 29 against 89, the first
 * layer 7x7/2 on 3 channels 20 against 51), so there is no per-shape choice. */
typedef enum lz_conv_path { LZ_CONV_PATH_ONEDNN, LZ_CONV_PATH_REF } lz_conv_path;
LZ_HIDDEN lz_conv_path lz_cpu_conv_path(void);
/* Overrides the path for every thread (tests); -1 returns to the environment's choice. */
LZ_HIDDEN void lz_cpu_conv_set_path(int path);
/* Convolutions run so far on oneDNN and on the reference path (tests check the path taken). */
LZ_HIDDEN void lz_cpu_conv_counts(long *onednn, long *ref);
LZ_HIDDEN void lz_cpu_conv_count_ref(void);
/* oneDNN primitives created so far (tests check that the cache hits). */
LZ_HIDDEN long lz_cpu_conv_created(void);
/* Destroys the cached oneDNN primitives (those in use are destroyed when their run ends). */
LZ_HIDDEN void lz_cpu_conv_cache_clear(void);
/* Primitives in the cache now (tests). */
LZ_HIDDEN int lz_cpu_conv_cache_count(void);

/* Computes the convolution y = conv(x, w) on oneDNN: 0 done, -1 error recorded, 1 no
 * primitive fits (nothing recorded; run the reference path). y is allocated. */
LZ_HIDDEN int lz_cpu_conv_onednn(const lz_conv_params *p, lz_array *x, lz_array *w, lz_array *y);

/* w (O, kernel..., Cg) of any dtype and layout as contiguous float32 in wp, every spatial dim
 * reversed when `reverse`. */
LZ_HIDDEN void lz_cpu_conv_pack_weight(const lz_array *w, bool reverse, float *wp);

#endif /* LZ_CPU_CONV_H */
