/* Convolution layers: Conv1d/2d/3d and ConvTranspose1d/2d/3d over channels-last inputs. */
#include <math.h>

#include "nn/nn_impl.h"

typedef struct conv_cfg {
  int nsp; /* spatial dims: 1 to 3 */
  int stride[3], padding[3], dilation[3], output_padding[3];
  int groups;
  bool transpose;
} conv_cfg;

/* x is (N, spatial..., C_in), w is (C_out, kernel..., C_in / groups) */
static lz_array *conv(const conv_cfg *c, lz_array *x, lz_array *w) {
  const int *s = c->stride, *p = c->padding, *d = c->dilation, *o = c->output_padding;
  if (!c->transpose) {
    switch (c->nsp) {
    case 1:
      return lz_conv1d(x, w, s[0], p[0], d[0], c->groups);
    case 2:
      return lz_conv2d(x, w, s[0], s[1], p[0], p[1], d[0], d[1], c->groups);
    default:
      return lz_conv3d(x, w, s[0], s[1], s[2], p[0], p[1], p[2], d[0], d[1], d[2], c->groups);
    }
  }
  switch (c->nsp) {
  case 1:
    return lz_conv_transpose1d(x, w, s[0], p[0], d[0], o[0], c->groups);
  case 2:
    return lz_conv_transpose2d(x, w, s[0], s[1], p[0], p[1], d[0], d[1], o[0], o[1], c->groups);
  default:
    return lz_conv_transpose3d(x, w, s[0], s[1], s[2], p[0], p[1], p[2], d[0], d[1], d[2], o[0],
                               o[1], o[2], c->groups);
  }
}

static int conv_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  const conv_cfg *c = lz_module_ctx(m);
  const char *who = lz_module_type(m);
  if (lz_nn__check_call(who, in, n, 1, 1) != 0) return -1;
  lz_array *x = in[0];
  if (lz_array_ndim(x) != c->nsp + 2) {
    char s[128];
    return lz_set_error(LZ_ERROR_SHAPE, who, "expects a %d-d (N, ..., C) input, got shape %s",
                        c->nsp + 2,
                        lz_nn__fmt_shape(s, sizeof s, lz_array_shape(x), lz_array_ndim(x)));
  }
  NN_BEGIN();
  lz_array *y = conv(c, x, lz_nn__get(m, "weight"));
  lz_array *b = lz_nn__get(m, "bias");
  return lz_nn__out1(out, NN_END(y && b ? lz_add(y, b) : y));
}

/* Reads a per-dim argument: v[d], or `dflt` when v is NULL. */
static int arg(const int *v, int d, int dflt) { return v ? v[d] : dflt; }

static lz_module *conv_layer(const char *type, int nsp, bool transpose, int in_channels,
                             int out_channels, const int *kernel, const int *stride,
                             const int *padding, const int *dilation, const int *output_padding,
                             int groups, bool bias) {
  conv_cfg c = {.nsp = nsp, .groups = groups, .transpose = transpose};
  int wshape[5] = {out_channels};
  double fan = in_channels;
  if (in_channels < 1 || out_channels < 1 || groups < 1 || in_channels % groups != 0) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, type,
                 "channels must be positive and in_channels divisible by groups (in %d, out %d, "
                 "groups %d)",
                 in_channels, out_channels, groups);
    return NULL;
  }
  for (int d = 0; d < nsp; d++) {
    int k = kernel ? kernel[d] : 0;
    c.stride[d] = arg(stride, d, 1), c.padding[d] = arg(padding, d, 0);
    c.dilation[d] = arg(dilation, d, 1), c.output_padding[d] = arg(output_padding, d, 0);
    if (k < 1 || c.stride[d] < 1 || c.dilation[d] < 1 || c.padding[d] < 0 ||
        c.output_padding[d] < 0) {
      lz_set_error(LZ_ERROR_INVALID_ARGUMENT, type,
                   "invalid kernel size %d, stride %d, padding %d, dilation %d or output padding "
                   "%d along spatial dim %d",
                   k, c.stride[d], c.padding[d], c.dilation[d], c.output_padding[d], d);
      return NULL;
    }
    wshape[1 + d] = k;
    fan *= k;
  }
  wshape[nsp + 1] = in_channels / groups;
  lz_module *m = lz_nn__module(type, conv_forward, &c, sizeof c);
  if (!m) return NULL;
  NN_BEGIN();
  lz_array *w = lz_nn__uniform(wshape, nsp + 2, sqrt(1.0 / fan));
  int rc = w ? lz_module_set_param(m, "weight", w) : -1;
  if (rc == 0 && bias) rc = lz_module_set_param(m, "bias", lz_zeros(&out_channels, 1, LZ_FLOAT32));
  lz_scope_end();
  if (rc != 0) lz_module_free(m), m = NULL;
  return m;
}

lz_module *lz_nn_conv1d_new(int in_channels, int out_channels, int kernel_size, int stride,
                            int padding, int dilation, int groups, bool bias) {
  return conv_layer("Conv1d", 1, false, in_channels, out_channels, &kernel_size, &stride, &padding,
                    &dilation, NULL, groups, bias);
}

lz_module *lz_nn_conv2d_new(int in_channels, int out_channels, const int kernel_size[2],
                            const int stride[2], const int padding[2], const int dilation[2],
                            int groups, bool bias) {
  return conv_layer("Conv2d", 2, false, in_channels, out_channels, kernel_size, stride, padding,
                    dilation, NULL, groups, bias);
}

lz_module *lz_nn_conv3d_new(int in_channels, int out_channels, const int kernel_size[3],
                            const int stride[3], const int padding[3], const int dilation[3],
                            bool bias) {
  return conv_layer("Conv3d", 3, false, in_channels, out_channels, kernel_size, stride, padding,
                    dilation, NULL, 1, bias);
}

lz_module *lz_nn_conv_transpose1d_new(int in_channels, int out_channels, int kernel_size,
                                      int stride, int padding, int dilation, int output_padding,
                                      bool bias) {
  return conv_layer("ConvTranspose1d", 1, true, in_channels, out_channels, &kernel_size, &stride,
                    &padding, &dilation, &output_padding, 1, bias);
}

lz_module *lz_nn_conv_transpose2d_new(int in_channels, int out_channels, const int kernel_size[2],
                                      const int stride[2], const int padding[2],
                                      const int dilation[2], const int output_padding[2],
                                      bool bias) {
  return conv_layer("ConvTranspose2d", 2, true, in_channels, out_channels, kernel_size, stride,
                    padding, dilation, output_padding, 1, bias);
}

lz_module *lz_nn_conv_transpose3d_new(int in_channels, int out_channels, const int kernel_size[3],
                                      const int stride[3], const int padding[3],
                                      const int dilation[3], const int output_padding[3],
                                      bool bias) {
  return conv_layer("ConvTranspose3d", 3, true, in_channels, out_channels, kernel_size, stride,
                    padding, dilation, output_padding, 1, bias);
}
