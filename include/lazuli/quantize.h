/* Affine quantization, MLX's scheme: weights stored with `bits` bits per value and one scale
 * and one bias per group of `group_size` consecutive values along the last axis.
 *
 * A group's values w are stored as codes q = round((w - bias) / scale) clamped to
 * [0, 2^bits - 1] and read back as scale * q + bias. The scale and bias follow MLX exactly:
 * the group's edge (its min or max, whichever is larger in magnitude) is represented exactly.
 * Codes are packed as one little-endian bit stream per row: code j of a row occupies bits
 * [j * bits, (j + 1) * bits) of the row's uint32 words, so a row of K values takes
 * K * bits / 32 words (with 3, 5 and 6 bits a code may straddle two words). Group sizes are
 * 32, 64 and 128; bits are 2, 3, 4, 5, 6 and 8. Scales and biases have the weights' dtype.
 * Since the edge and zero are exact, the codes span [bias, bias + (2^bits - 1) * scale], which
 * can stop short of the group's far edge by less than one scale: a value inside the span comes
 * back within |scale| / 2, one beyond it is clipped to the span's end (within |scale|).
 *
 * The _v2 forms add MLX's other modes (lz_quant_mode). They code each value as a small float
 * with one uint8 scale per group and no bias: mxfp4 (FP4 E2M1 codes, groups of 32, E8M0
 * scales: 2^(s - 127)), mxfp8 (FP8 E4M3 codes, groups of 32, E8M0 scales) and nvfp4 (FP4 E2M1
 * codes, groups of 16, E4M3 scales). A group's scale is max|w| / 6 (FP4) or / 448 (FP8)
 * rounded to the scale format (E8M0: the nearest power of two), and each value is the code
 * nearest to w / scale. Codes are packed little-endian, 8 FP4 codes or 4 FP8 bytes per uint32.
 * In the _v2 forms a group size or bits of 0 means the mode's default (affine 64 and 4, mxfp4 32
 * and 4, mxfp8 32 and 8, nvfp4 16 and 4); the float modes accept only their defaults.
 *
 * Results are new references, inputs are borrowed (see core.h); every op is lazy. */
#ifndef LAZULI_QUANTIZE_H
#define LAZULI_QUANTIZE_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* MLX's quantization modes ("affine", "mxfp4", "mxfp8", "nvfp4"). */
typedef enum lz_quant_mode {
  LZ_QUANT_AFFINE,
  LZ_QUANT_MXFP4,
  LZ_QUANT_MXFP8,
  LZ_QUANT_NVFP4,
  LZ_QUANT_MODE_COUNT
} lz_quant_mode;

/* Quantizes `w` (float32, float16 or bfloat16, at least 2-D, last dim divisible by
 * group_size) and writes three new arrays to out: out[0] the packed codes, uint32 of shape
 * (..., K * bits / 32); out[1] the scales and out[2] the biases, of w's dtype and shape
 * (..., K / group_size). Returns 0, or -1 with out[] all NULL. */
LZ_API int lz_quantize(lz_array *w, int group_size, int bits, lz_array *out[3]);

/* The weights that lz_quantize's (w_q, scales, biases) stand for: scale * q + bias, of the
 * scales' dtype and shape (..., w_q's last dim * 32 / bits). */
LZ_API lz_array *lz_dequantize(lz_array *w_q, lz_array *scales, lz_array *biases, int group_size,
                               int bits);

/* x @ W.T when `transpose` (W quantized as (N, K): the usual layout of a linear layer's
 * weight), else x @ W (W quantized as (K, N)), where W is what lz_dequantize would return.
 * x is (..., K) of a floating dtype; w_q, scales and biases are 2-D. The result is (..., N),
 * of the dtype x, scales and biases promote to; it accumulates in float32. */
LZ_API lz_array *lz_quantized_matmul(lz_array *x, lz_array *w_q, lz_array *scales,
                                     lz_array *biases, bool transpose, int group_size, int bits);

/* lz_quantize in any mode. Affine writes (codes, scales, biases); the float modes write
 * out[0] the codes (uint32) and out[1] the scales (uint8), and set out[2] to NULL. */
LZ_API int lz_quantize_v2(lz_array *w, int group_size, int bits, lz_quant_mode mode,
                          lz_array *out[3]);
/* lz_dequantize in any mode, to `dtype` (LZ_DTYPE_COUNT: MLX's default, the promoted type of
 * the scales and biases for affine, bfloat16 for the float modes). biases is NULL for the
 * float modes. Affine values are computed in the scales' type and then converted, as MLX. */
LZ_API lz_array *lz_dequantize_v2(lz_array *w_q, lz_array *scales, lz_array *biases,
                                  int group_size, int bits, lz_quant_mode mode, lz_dtype dtype);
/* lz_quantized_matmul in any mode (biases NULL for the float modes; the result then has x's
 * dtype), with batched weights: W may have batch dims (w_q, scales and biases (..., rows,
 * cols)); they broadcast with x's (x at least 2-D, (..., M, K)) and the result is
 * (batch..., M, N). */
LZ_API lz_array *lz_quantized_matmul_v2(lz_array *x, lz_array *w_q, lz_array *scales,
                                        lz_array *biases, bool transpose, int group_size, int bits,
                                        lz_quant_mode mode);
/* MLX's gather_qmm: lz_quantized_matmul_v2 of the matrices of x picked by lhs_indices (x is
 * (..., M, K), its batch flattened in row-major order) with the quantized matrices picked by
 * rhs_indices (w_q, scales and biases (..., rows, cols)). Indices are integer arrays that
 * broadcast together; NULL means every matrix in order; both NULL is lz_quantized_matmul_v2.
 * The result is (broadcast index shape..., M, N); sorted_indices is a hint only. */
LZ_API lz_array *lz_gather_qmm(lz_array *x, lz_array *w_q, lz_array *scales, lz_array *biases,
                               lz_array *lhs_indices, lz_array *rhs_indices, bool transpose,
                               int group_size, int bits, lz_quant_mode mode,
                               bool sorted_indices);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_QUANTIZE_H */
