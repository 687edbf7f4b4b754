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
 * Results are new references, inputs are borrowed (see core.h); every op is lazy. */
#ifndef LAZULI_QUANTIZE_H
#define LAZULI_QUANTIZE_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

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

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_QUANTIZE_H */
