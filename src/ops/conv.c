/* The convolution constructors: conv1d/2d/3d, conv_transpose1d/2d/3d and conv_general, all
 * recorded as one `convolution` op (MLX's layout: channels last, weight (O, kernel..., C/groups)).
 * Negative padding (conv_general, or a transposed convolution with padding > dil * (k - 1))
 * crops the dilated input; the kernel handles it like any padding. */
#include "../cpu/conv.h"
#include "ops.h"

#include <stdio.h>

static void conv_print(const void *params, char *buf, size_t cap) {
  const lz_conv_params *p = params;
  int n = snprintf(buf, cap, "nsp=%d groups=%d flip=%d stride=", p->nsp, p->groups, p->flip);
  for (int d = 0; d < p->nsp && n > 0 && (size_t)n < cap; d++)
    n += snprintf(buf + n, cap - (size_t)n, "%s%d", d ? "," : "", p->stride[d]);
}

const lz_op_def lz_opdef_convolution = {
    .name = "convolution",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_conv_params),
    .cpu = lz_cpu_conv,
    .params_print = conv_print,
};

/* Formats "input (1,5,5,6), weight (4,3,3,4)" into buf. */
static const char *both_shapes(char *buf, size_t cap, const lz_array *x, const lz_array *w) {
  char sx[256], sw[256];
  snprintf(buf, cap, "input %s, weight %s", lz__fmt_shape(sx, sizeof sx, x->shape, x->ndim),
           lz__fmt_shape(sw, sizeof sw, w->shape, w->ndim));
  return buf;
}

/* Validates and records a convolution with `nsp` spatial dims. Padding may be negative (it
 * crops the dilated input). Every array holds nsp values. */
static lz_array *conv_make(const char *op, lz_array *x, lz_array *w, int nsp, const int *stride,
                           const int *lo, const int *hi, const int *kdil, const int *idil,
                           int groups, bool flip) {
  char sh[600];
  const char *layout = nsp == 1 ? "(N,L,C)" : nsp == 2 ? "(N,H,W,C)" : "(N,D,H,W,C)";
  if (x->ndim != nsp + 2) {
    char s[256];
    lz__error(LZ_ERROR_SHAPE, op, "input must have %d dimensions %s, got shape %s", nsp + 2, layout,
              lz__fmt_shape(s, sizeof s, x->shape, x->ndim));
    return NULL;
  }
  if (w->ndim != nsp + 2) {
    char s[256];
    lz__error(LZ_ERROR_SHAPE, op,
              "weight must have %d dimensions (C_out,kernel...,C_in/groups), got shape %s", nsp + 2,
              lz__fmt_shape(s, sizeof s, w->shape, w->ndim));
    return NULL;
  }
  int C = x->shape[nsp + 1], O = w->shape[0], Cw = w->shape[nsp + 1];
  if (groups < 1) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "groups must be positive, got %d", groups);
    return NULL;
  }
  if (C % groups != 0 || O % groups != 0) {
    lz__error(LZ_ERROR_SHAPE, op, "%s channels %d are not divisible by groups %d: %s",
              C % groups ? "input" : "output", C % groups ? C : O, groups,
              both_shapes(sh, sizeof sh, x, w));
    return NULL;
  }
  if (C != groups * Cw) {
    lz__error(LZ_ERROR_SHAPE, op, "input channels %d != groups %d * weight channels %d: %s", C,
              groups, Cw, both_shapes(sh, sizeof sh, x, w));
    return NULL;
  }
  lz_dtype dt = lz_promote_types(x->dtype, w->dtype);
  if (!lz_dtype_is_float(dt) || dt == LZ_FLOAT64) {
    lz__error(LZ_ERROR_DTYPE, op,
              "only float16, bfloat16 and float32 are supported, got %s and %s (promoted to %s)",
              lz_dtype_name(x->dtype), lz_dtype_name(w->dtype), lz_dtype_name(dt));
    return NULL;
  }
  lz_conv_params p;
  memset(&p, 0, sizeof p);
  p.nsp = nsp;
  p.groups = groups;
  p.flip = flip;
  int shape[LZ_MAX_NDIM];
  shape[0] = x->shape[0];
  shape[nsp + 1] = O;
  for (int d = 0; d < nsp; d++) {
    const char *bad = stride[d] < 1 ? "stride"
                      : kdil[d] < 1 ? "kernel dilation"
                      : idil[d] < 1 ? "input dilation"
                                    : NULL;
    if (bad) {
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%s must be positive, got %d along spatial dim %d",
                bad,
                stride[d] < 1 ? stride[d]
                : kdil[d] < 1 ? kdil[d]
                              : idil[d],
                d);
      return NULL;
    }
    int in = x->shape[d + 1], k = w->shape[d + 1];
    p.stride[d] = stride[d], p.kdil[d] = kdil[d], p.idil[d] = idil[d];
    p.pad_lo[d] = lo[d], p.pad_hi[d] = hi[d];
    int64_t span = (in > 0 ? (int64_t)(in - 1) * idil[d] + 1 : 0) + lo[d] + hi[d];
    int64_t wk = (int64_t)(k - 1) * kdil[d] + 1;
    if (k < 1 || span < wk) {
      lz__error(LZ_ERROR_SHAPE, op,
                "along spatial dim %d the padded input (size %lld) is smaller than the dilated "
                "kernel (size %lld): %s",
                d, (long long)span, (long long)(k < 1 ? 1 : wk), both_shapes(sh, sizeof sh, x, w));
      return NULL;
    }
    shape[d + 1] = (int)((span - wk) / stride[d] + 1);
  }
  lz_array *in[2] = {lz__cast(op, x, dt), NULL};
  lz_array *out = NULL;
  if (in[0] && (in[1] = lz__cast(op, w, dt)))
    out = lz__make(LZ_OP_CONVOLUTION, &p, in, 2, dt, shape, nsp + 2);
  if (in[1]) lz__uncast(in[1], w);
  if (in[0]) lz__uncast(in[0], x);
  return out;
}

/* Checks the padding of the named convolutions (only conv_general may crop). */
static bool pads_ok(const char *op, const int *pad, const int *opad, int n) {
  for (int d = 0; d < n; d++) {
    if (pad[d] < 0) {
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "padding must be >= 0, got %d along spatial dim %d",
                pad[d], d);
      return false;
    }
    if (opad && opad[d] < 0) {
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op,
                "output_padding must be >= 0, got %d along spatial dim %d", opad[d], d);
      return false;
    }
  }
  return true;
}

static lz_array *conv_nd(const char *op, lz_array *x, lz_array *w, int nsp, const int *stride,
                         const int *pad, const int *dil, int groups) {
  lz_array *in[2] = {x, w};
  if (!lz__check_inputs(op, in, 2) || !pads_ok(op, pad, NULL, nsp)) return NULL;
  const int ones[3] = {1, 1, 1};
  return conv_make(op, x, w, nsp, stride, pad, pad, dil, ones, groups, false);
}

/* A transposed convolution is the flipped-kernel convolution of the input dilated by stride,
 * padded by dil * (k - 1) - padding at the start and that + output_padding at the end. */
static lz_array *conv_transpose_nd(const char *op, lz_array *x, lz_array *w, int nsp,
                                   const int *stride, const int *pad, const int *dil,
                                   const int *opad, int groups) {
  lz_array *in[2] = {x, w};
  if (!lz__check_inputs(op, in, 2) || !pads_ok(op, pad, opad, nsp)) return NULL;
  for (int d = 0; d < nsp; d++)
    if (stride[d] < 1 || dil[d] < 1) {
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%s must be positive, got %d along spatial dim %d",
                stride[d] < 1 ? "stride" : "dilation", stride[d] < 1 ? stride[d] : dil[d], d);
      return NULL;
    }
  int lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0}, ones[3] = {1, 1, 1};
  for (int d = 0; d < nsp && w->ndim == nsp + 2; d++) { /* conv_make reports a bad rank */
    int wk = dil[d] * (w->shape[d + 1] - 1);
    lo[d] = wk - pad[d];
    hi[d] = wk - pad[d] + opad[d];
  }
  return conv_make(op, x, w, nsp, ones, lo, hi, dil, stride, groups, true);
}

lz_array *lz_conv1d(lz_array *input, lz_array *weight, int stride, int padding, int dilation,
                    int groups) {
  return conv_nd("lz_conv1d", input, weight, 1, &stride, &padding, &dilation, groups);
}

lz_array *lz_conv2d(lz_array *input, lz_array *weight, int stride_0, int stride_1, int padding_0,
                    int padding_1, int dilation_0, int dilation_1, int groups) {
  int s[2] = {stride_0, stride_1}, p[2] = {padding_0, padding_1}, d[2] = {dilation_0, dilation_1};
  return conv_nd("lz_conv2d", input, weight, 2, s, p, d, groups);
}

lz_array *lz_conv3d(lz_array *input, lz_array *weight, int stride_0, int stride_1, int stride_2,
                    int padding_0, int padding_1, int padding_2, int dilation_0, int dilation_1,
                    int dilation_2, int groups) {
  int s[3] = {stride_0, stride_1, stride_2}, p[3] = {padding_0, padding_1, padding_2};
  int d[3] = {dilation_0, dilation_1, dilation_2};
  return conv_nd("lz_conv3d", input, weight, 3, s, p, d, groups);
}

lz_array *lz_conv_transpose1d(lz_array *input, lz_array *weight, int stride, int padding,
                              int dilation, int output_padding, int groups) {
  return conv_transpose_nd("lz_conv_transpose1d", input, weight, 1, &stride, &padding, &dilation,
                           &output_padding, groups);
}

lz_array *lz_conv_transpose2d(lz_array *input, lz_array *weight, int stride_0, int stride_1,
                              int padding_0, int padding_1, int dilation_0, int dilation_1,
                              int output_padding_0, int output_padding_1, int groups) {
  int s[2] = {stride_0, stride_1}, p[2] = {padding_0, padding_1}, d[2] = {dilation_0, dilation_1};
  int o[2] = {output_padding_0, output_padding_1};
  return conv_transpose_nd("lz_conv_transpose2d", input, weight, 2, s, p, d, o, groups);
}

lz_array *lz_conv_transpose3d(lz_array *input, lz_array *weight, int stride_0, int stride_1,
                              int stride_2, int padding_0, int padding_1, int padding_2,
                              int dilation_0, int dilation_1, int dilation_2, int output_padding_0,
                              int output_padding_1, int output_padding_2, int groups) {
  int s[3] = {stride_0, stride_1, stride_2}, p[3] = {padding_0, padding_1, padding_2};
  int d[3] = {dilation_0, dilation_1, dilation_2};
  int o[3] = {output_padding_0, output_padding_1, output_padding_2};
  return conv_transpose_nd("lz_conv_transpose3d", input, weight, 3, s, p, d, o, groups);
}

lz_array *lz_conv_general(lz_array *input, lz_array *weight, const int *stride,
                          const int *padding_lo, const int *padding_hi, const int *kernel_dilation,
                          const int *input_dilation, int groups, bool flip) {
  lz_array *in[2] = {input, weight};
  if (!lz__check_inputs("lz_conv_general", in, 2)) return NULL;
  int nsp = input->ndim - 2;
  if (nsp < 1 || nsp > LZ_CONV_MAX_SPATIAL) {
    char s[256];
    lz__error(LZ_ERROR_SHAPE, "lz_conv_general",
              "input must have 3 to 5 dimensions (N, 1 to 3 spatial dims, C), got shape %s",
              lz__fmt_shape(s, sizeof s, input->shape, input->ndim));
    return NULL;
  }
  int one[3] = {1, 1, 1}, zero[3] = {0, 0, 0};
  return conv_make("lz_conv_general", input, weight, nsp, stride ? stride : one,
                   padding_lo ? padding_lo : zero, padding_hi ? padding_hi : zero,
                   kernel_dilation ? kernel_dilation : one, input_dilation ? input_dilation : one,
                   groups, flip);
}
