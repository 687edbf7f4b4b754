/* Pooling (MaxPool/AvgPool 1d and 2d) and Upsample, over channels-last inputs (N, spatial.., C). */
#include <math.h>

#include "nn/nn_impl.h"

typedef struct pool_cfg {
  int nsp; /* spatial dims: 1 or 2 */
  int kernel[2], stride[2], padding[2];
  bool is_max;
} pool_cfg;

static int pool_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  const pool_cfg *c = lz_module_ctx(m);
  const char *who = lz_module_type(m);
  if (lz_nn__check_call(who, in, n, 1, 1) != 0) return -1;
  lz_array *x = in[0];
  int nd = lz_array_ndim(x);
  if (nd != c->nsp + 2) {
    char s[128];
    return lz_set_error(LZ_ERROR_SHAPE, who, "expects a %d-d (N, ..., C) input, got shape %s",
                        c->nsp + 2, lz_nn__fmt_shape(s, sizeof s, lz_array_shape(x), nd));
  }
  int outlen[2], axes[2];
  for (int d = 0; d < c->nsp; d++) {
    int len = lz_array_dim(x, 1 + d) + 2 * c->padding[d];
    axes[d] = 1 + d;
    if (len < c->kernel[d])
      return lz_set_error(LZ_ERROR_SHAPE, who,
                          "padded size %d of axis %d is below the kernel "
                          "size %d",
                          len, 1 + d, c->kernel[d]);
    outlen[d] = (len - c->kernel[d]) / c->stride[d] + 1;
  }
  NN_BEGIN();
  bool pad = c->padding[0] || (c->nsp > 1 && c->padding[1]);
  if (pad)
    x = lz_pad(x, axes, c->nsp, c->padding, c->padding, "constant", c->is_max ? -INFINITY : 0.0);
  const int *shape = x ? lz_array_shape(x) : NULL;
  lz_array *acc = NULL;
  int kh = c->kernel[0], kw = c->nsp > 1 ? c->kernel[1] : 1;
  for (int i = 0; x && i < kh; i++) {
    for (int j = 0; j < kw; j++) {
      int start[4] = {0}, stop[4], step[4] = {1, 1, 1, 1};
      for (int d = 0; d < nd; d++) stop[d] = shape[d];
      int off[2] = {i, j};
      for (int d = 0; d < c->nsp; d++) {
        start[1 + d] = off[d];
        stop[1 + d] = off[d] + c->stride[d] * (outlen[d] - 1) + 1;
        step[1 + d] = c->stride[d];
      }
      lz_array *s = lz_slice(x, start, stop, step, nd);
      acc = !acc ? s : c->is_max ? lz_maximum(acc, s) : lz_add(acc, s);
    }
  }
  if (!c->is_max) acc = lz_divide(acc, lz_float((double)(kh * kw)));
  return lz_nn__out1(out, NN_END(acc));
}

static lz_module *pool(const char *type, int nsp, const int *kernel, const int *stride,
                       const int *padding, bool is_max) {
  pool_cfg c = {.nsp = nsp, .is_max = is_max};
  for (int d = 0; d < nsp; d++) {
    c.kernel[d] = kernel ? kernel[d] : 0;
    c.stride[d] = stride && stride[d] > 0 ? stride[d] : c.kernel[d];
    c.padding[d] = padding ? padding[d] : 0;
    if (c.kernel[d] < 1 || c.padding[d] < 0 || 2 * c.padding[d] > c.kernel[d]) {
      lz_set_error(LZ_ERROR_INVALID_ARGUMENT, type,
                   "invalid kernel size %d or padding %d "
                   "(padding must be at most half the kernel)",
                   c.kernel[d], c.padding[d]);
      return NULL;
    }
  }
  return lz_nn__module(type, pool_forward, &c, sizeof c);
}

lz_module *lz_nn_max_pool1d_new(int kernel_size, int stride, int padding) {
  return pool("MaxPool1d", 1, &kernel_size, &stride, &padding, true);
}
lz_module *lz_nn_avg_pool1d_new(int kernel_size, int stride, int padding) {
  return pool("AvgPool1d", 1, &kernel_size, &stride, &padding, false);
}
lz_module *lz_nn_max_pool2d_new(const int kernel_size[2], const int stride[2],
                                const int padding[2]) {
  return pool("MaxPool2d", 2, kernel_size, stride, padding, true);
}
lz_module *lz_nn_avg_pool2d_new(const int kernel_size[2], const int stride[2],
                                const int padding[2]) {
  return pool("AvgPool2d", 2, kernel_size, stride, padding, false);
}

/* ---- Upsample ---- */

#define UP_MAX 8

typedef enum { UP_NEAREST, UP_LINEAR, UP_CUBIC } up_mode;

typedef struct upsample_cfg {
  int nsp;
  double scale[UP_MAX];
  up_mode mode;
  bool align_corners;
} upsample_cfg;

/* A weight vector of length m, shaped to broadcast along `axis` of an nd-d array. */
static lz_array *along(const float *data, int m, int axis, int nd) {
  int shape[LZ_MAX_NDIM];
  for (int d = 0; d < nd; d++) shape[d] = d == axis ? m : 1;
  return lz_array_from_data(data, shape, nd, LZ_FLOAT32);
}

/* The cubic convolution kernel (a = -0.75) at distance t from a tap, 0 <= t < 2. */
static double cubic_weight(double t) {
  const double a = -0.75;
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  return (((t - 5) * t + 8) * t - 4) * a;
}

#define UP_TAPS 4

/* Resamples one spatial axis of x from n to m samples: out = sum over taps of
 * x[idx[t]] * w[t] (nearest: one tap, weight 1). */
static lz_array *resample(lz_array *x, int axis, int n, int m, double scale,
                          const upsample_cfg *c) {
  int nd = lz_array_ndim(x), taps = c->mode == UP_NEAREST ? 1 : c->mode == UP_LINEAR ? 2 : 4;
  size_t cnt = m > 0 ? (size_t)m : 1;
  int32_t *idx = malloc(cnt * UP_TAPS * sizeof *idx);
  float *w = malloc(cnt * UP_TAPS * sizeof *w);
  lz_array *r = NULL;
  if (!idx || !w) {
    lz_set_error(LZ_ERROR_OUT_OF_MEMORY, "Upsample", "out of memory");
    goto done;
  }
  for (int i = 0; i < m; i++) {
    int32_t *id = idx + (size_t)i * UP_TAPS;
    float *wt = w + (size_t)i * UP_TAPS;
    if (c->mode == UP_NEAREST) { /* as MLX computes it */
      double f = m > n ? nearbyint((i + 0.5) * ((double)n / m) - 0.5) : i * ((double)n / m);
      int k = (int)f;
      id[0] = k < 0 ? 0 : k >= n ? n - 1 : k;
      continue;
    }
    double f;
    if (c->align_corners)
      f = m > 1 ? i * ((double)(n - 1) / (m - 1)) : 0;
    else {
      double step = 1.0 / scale, start = ((m - 1) * step - n + 1) / 2;
      f = i * step - start;
    }
    if (c->mode == UP_LINEAR) {
      f = f < 0 ? 0 : f > n - 1 ? n - 1 : f;
      id[0] = (int32_t)floor(f), id[1] = (int32_t)ceil(f);
      wt[1] = (float)(f - floor(f)), wt[0] = 1.0f - wt[1];
      continue;
    }
    /* cubic: taps floor(f) - 1 .. floor(f) + 2, weighted by their distance to the unclipped
     * position; taps past the border read the border sample */
    double fl = floor(f);
    for (int t = 0; t < 4; t++) {
      double g = fl - 1 + t;
      wt[t] = (float)cubic_weight(fabs(f - g));
      id[t] = (int32_t)(g < 0 ? 0 : g > n - 1 ? n - 1 : g);
    }
  }
  lz_dtype dt = lz_dtype_is_float(lz_array_dtype(x)) ? lz_array_dtype(x) : LZ_FLOAT32;
  for (int t = 0; t < taps; t++) {
    int32_t *ti = malloc(cnt * sizeof *ti);
    float *tw = malloc(cnt * sizeof *tw);
    if (!ti || !tw) {
      free(ti), free(tw);
      lz_set_error(LZ_ERROR_OUT_OF_MEMORY, "Upsample", "out of memory");
      r = NULL;
      goto done;
    }
    for (int i = 0; i < m; i++)
      ti[i] = idx[(size_t)i * UP_TAPS + t], tw[i] = w[(size_t)i * UP_TAPS + t];
    lz_array *sample = lz_take(x, lz_array_from_data(ti, &m, 1, LZ_INT32), axis);
    if (taps > 1) sample = lz_multiply(sample, lz_astype(along(tw, m, axis, nd), dt));
    r = t == 0 ? sample : lz_add(r, sample);
    free(ti), free(tw);
  }
done:
  free(idx), free(w);
  return r;
}

static int upsample_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  const upsample_cfg *c = lz_module_ctx(m);
  if (lz_nn__check_call("Upsample", in, n, 1, 1) != 0) return -1;
  lz_array *x = in[0];
  if (lz_array_ndim(x) != c->nsp + 2)
    return lz_set_error(LZ_ERROR_SHAPE, "Upsample",
                        "expects a %d-d (N, ..., C) input for %d "
                        "scale factors, got %d-d",
                        c->nsp + 2, c->nsp, lz_array_ndim(x));
  NN_BEGIN();
  for (int d = 0; d < c->nsp && x; d++) {
    int len = lz_array_dim(x, 1 + d), mlen = (int)(c->scale[d] * len);
    x = resample(x, 1 + d, len, mlen, c->scale[d], c);
  }
  return lz_nn__out1(out, NN_END(x));
}

lz_module *lz_nn_upsample_new(const double *scale_factor, int nspatial, const char *mode,
                              bool align_corners) {
  upsample_cfg c = {.nsp = nspatial, .align_corners = align_corners};
  if (nspatial < 1 || nspatial > UP_MAX || !scale_factor) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_upsample_new", "need 1 to %d scale factors",
                 UP_MAX);
    return NULL;
  }
  if (mode && strcmp(mode, "linear") == 0)
    c.mode = UP_LINEAR;
  else if (mode && strcmp(mode, "cubic") == 0)
    c.mode = UP_CUBIC;
  else if (mode && strcmp(mode, "nearest") != 0) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_upsample_new",
                 "mode must be \"nearest\", \"linear\" or \"cubic\", got \"%s\"", mode);
    return NULL;
  }
  for (int d = 0; d < nspatial; d++) {
    if (!(scale_factor[d] > 0)) {
      lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_upsample_new", "scale factor %g",
                   scale_factor[d]);
      return NULL;
    }
    c.scale[d] = scale_factor[d];
  }
  return lz_nn__module("Upsample", upsample_forward, &c, sizeof c);
}
