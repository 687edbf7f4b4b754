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

typedef struct upsample_cfg {
  int nsp;
  double scale[UP_MAX];
  bool linear, align_corners;
} upsample_cfg;

/* An index or weight vector of length m, shaped to broadcast along `axis` of an nd-d array. */
static lz_array *along(const void *data, int m, lz_dtype dt, int axis, int nd) {
  int shape[LZ_MAX_NDIM];
  for (int d = 0; d < nd; d++) shape[d] = d == axis ? m : 1;
  return lz_array_from_data(data, shape, nd, dt);
}

/* Resamples one spatial axis of x from n to m samples. */
static lz_array *resample(lz_array *x, int axis, int n, int m, double scale,
                          const upsample_cfg *c) {
  int nd = lz_array_ndim(x);
  int32_t *lo = malloc((size_t)m * sizeof *lo), *hi = malloc((size_t)m * sizeof *hi);
  float *w = malloc((size_t)m * sizeof *w), *w1 = malloc((size_t)m * sizeof *w1);
  lz_array *r = NULL;
  if (!lo || !hi || !w || !w1) {
    lz_set_error(LZ_ERROR_OUT_OF_MEMORY, "Upsample", "out of memory");
    goto done;
  }
  for (int i = 0; i < m; i++) {
    if (!c->linear) { /* nearest, as MLX computes it */
      double f = m > n ? nearbyint((i + 0.5) * ((double)n / m) - 0.5) : i * ((double)n / m);
      int k = (int)f;
      lo[i] = k < 0 ? 0 : k >= n ? n - 1 : k;
      continue;
    }
    double f;
    if (c->align_corners)
      f = m > 1 ? i * ((double)(n - 1) / (m - 1)) : 0;
    else {
      double step = 1.0 / scale, start = ((m - 1) * step - n + 1) / 2;
      f = i * step - start;
    }
    f = f < 0 ? 0 : f > n - 1 ? n - 1 : f;
    lo[i] = (int32_t)floor(f), hi[i] = (int32_t)ceil(f);
    w[i] = (float)(f - floor(f)), w1[i] = 1.0f - w[i];
  }
  lz_array *il = lz_array_from_data(lo, &m, 1, LZ_INT32);
  if (!c->linear) {
    r = lz_take(x, il, axis);
  } else {
    lz_dtype dt = lz_dtype_is_float(lz_array_dtype(x)) ? lz_array_dtype(x) : LZ_FLOAT32;
    lz_array *ih = lz_array_from_data(hi, &m, 1, LZ_INT32);
    lz_array *wl = lz_astype(along(w1, m, LZ_FLOAT32, axis, nd), dt);
    lz_array *wh = lz_astype(along(w, m, LZ_FLOAT32, axis, nd), dt);
    r = lz_add(lz_multiply(lz_take(x, il, axis), wl), lz_multiply(lz_take(x, ih, axis), wh));
  }
done:
  free(lo), free(hi), free(w), free(w1);
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
    c.linear = true;
  else if (mode && strcmp(mode, "nearest") != 0) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_upsample_new",
                 "mode must be \"nearest\" or "
                 "\"linear\", got \"%s\"",
                 mode);
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
