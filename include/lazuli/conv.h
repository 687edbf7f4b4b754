/* Convolutions, with MLX's API and layout: channels last. An input is (N, spatial..., C_in)
 * (NLC, NHWC, NDHWC) and a weight is (C_out, kernel..., C_in / groups) (OLI, OHWI, ODHWI); the
 * result is (N, out_spatial..., C_out) of the promoted floating dtype (float16, bfloat16 or
 * float32). With `groups` g, the input channels and the output channels split into g equal
 * groups; output group j sees input group j only.
 *
 * Along each spatial dim the output has (in + pad_lo + pad_hi - dil * (k - 1) - 1) / stride + 1
 * elements (rounded down). Transposed convolutions are the gradient of the plain ones with
 * respect to their input, computed as in MLX: a convolution of the input dilated by `stride`
 * with the flipped kernel, giving (in - 1) * stride - 2 * padding + dil * (k - 1) + 1 +
 * output_padding elements. Their weight is laid out like a plain one: (C_out, kernel...,
 * C_in / groups).
 *
 * Every function returns a new reference; inputs are borrowed. Errors (wrong ranks, channels
 * that do not match the weight or the groups, a kernel larger than the padded input, a
 * non-positive stride or dilation, negative padding outside conv_general, a dtype other than
 * float16/bfloat16/float32) name the shapes:
 * "[lz_conv2d] input channels 6 != groups 2 * weight channels 4: input (1,5,5,6), weight
 * (4,3,3,4)". */
#ifndef LAZULI_CONV_H
#define LAZULI_CONV_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1-D convolution: input (N, L, C_in), weight (C_out, K, C_in / groups) -> (N, L_out, C_out). */
LZ_API lz_array *lz_conv1d(lz_array *input, lz_array *weight, int stride, int padding, int dilation,
                           int groups);
/* 2-D convolution: input (N, H, W, C_in), weight (C_out, KH, KW, C_in / groups). Per-dim stride,
 * padding (both sides) and kernel dilation. */
LZ_API lz_array *lz_conv2d(lz_array *input, lz_array *weight, int stride_0, int stride_1,
                           int padding_0, int padding_1, int dilation_0, int dilation_1,
                           int groups);
/* 3-D convolution: input (N, D, H, W, C_in), weight (C_out, KD, KH, KW, C_in / groups). */
LZ_API lz_array *lz_conv3d(lz_array *input, lz_array *weight, int stride_0, int stride_1,
                           int stride_2, int padding_0, int padding_1, int padding_2,
                           int dilation_0, int dilation_1, int dilation_2, int groups);

/* 1-D transposed convolution: input (N, L, C_in), weight (C_out, K, C_in / groups). */
LZ_API lz_array *lz_conv_transpose1d(lz_array *input, lz_array *weight, int stride, int padding,
                                     int dilation, int output_padding, int groups);
/* 2-D transposed convolution: input (N, H, W, C_in), weight (C_out, KH, KW, C_in / groups). */
LZ_API lz_array *lz_conv_transpose2d(lz_array *input, lz_array *weight, int stride_0, int stride_1,
                                     int padding_0, int padding_1, int dilation_0, int dilation_1,
                                     int output_padding_0, int output_padding_1, int groups);
/* 3-D transposed convolution: input (N, D, H, W, C_in), weight (C_out, KD, KH, KW, C_in/groups). */
LZ_API lz_array *lz_conv_transpose3d(lz_array *input, lz_array *weight, int stride_0, int stride_1,
                                     int stride_2, int padding_0, int padding_1, int padding_2,
                                     int dilation_0, int dilation_1, int dilation_2,
                                     int output_padding_0, int output_padding_1,
                                     int output_padding_2, int groups);

/* The same convolutions with their per-dim parameters in one struct, so that they cannot be
 * misordered: a field left 0 takes MLX's default (stride 1, padding 0, dilation 1,
 * output_padding 0, groups 1); a NULL `opts` means all defaults. Entries past the number of
 * spatial dims are ignored. For example:
 *   lz_conv2d_v2(x, w, &(lz_conv_opts){.stride = {2, 2}, .padding = {1, 1}});  */
typedef struct lz_conv_opts {
  int stride[3];
  int padding[3];        /* both sides of each dim */
  int dilation[3];       /* of the kernel */
  int output_padding[3]; /* transposed forms only */
  int groups;
} lz_conv_opts;
LZ_API lz_array *lz_conv2d_v2(lz_array *input, lz_array *weight, const lz_conv_opts *opts);
LZ_API lz_array *lz_conv3d_v2(lz_array *input, lz_array *weight, const lz_conv_opts *opts);
LZ_API lz_array *lz_conv_transpose2d_v2(lz_array *input, lz_array *weight,
                                        const lz_conv_opts *opts);
LZ_API lz_array *lz_conv_transpose3d_v2(lz_array *input, lz_array *weight,
                                        const lz_conv_opts *opts);

/* The general convolution the others are made of, for 1 to 3 spatial dims (S = input ndim - 2).
 * Each array argument holds S values, or is NULL for the default: stride 1, padding_lo and
 * padding_hi 0 (they pad the start and the end of each spatial dim and may differ; a negative
 * padding crops the input, counted in elements of the dilated input), kernel_dilation 1 (spacing of
 * the kernel taps), input_dilation 1 (spacing inserted between input elements, as a transposed
 * convolution does). `flip` reverses the kernel along its spatial dims (a true convolution instead
 * of a cross-correlation). */
LZ_API lz_array *lz_conv_general(lz_array *input, lz_array *weight, const int *stride,
                                 const int *padding_lo, const int *padding_hi,
                                 const int *kernel_dilation, const int *input_dilation, int groups,
                                 bool flip);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_CONV_H */
