/* Fused operations, as MLX's mx.fast: each is one op computed by one kernel (a pass per row, or
 * per (batch, head) for attention) instead of a chain of basic ops. Results match the composed
 * ops up to rounding; float16/bfloat16 inputs are computed with float32 accumulation. Every
 * function returns a new reference; inputs are borrowed; optional arrays may be NULL. */
#ifndef LAZULI_FAST_H
#define LAZULI_FAST_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* x * rsqrt(mean(x^2 over the last axis) + eps) * weight. `weight` (D,) with D = x's last dim,
 * or NULL. The result has x's shape and the promoted dtype of x and weight (a float type). */
LZ_API lz_array *lz_fast_rms_norm(lz_array *x, lz_array *weight, double eps);

/* (x - mean) * rsqrt(var + eps) * weight + bias over the last axis (var without correction).
 * `weight` and `bias` are (D,) or NULL. Dtype: the promotion of x and the given weight/bias. */
LZ_API lz_array *lz_fast_layer_norm(lz_array *x, lz_array *weight, lz_array *bias, double eps);

/* Rotary positional encoding of x (..., L, D), ndim >= 3, on its first `dims` features (even,
 * <= D; the rest are copied). Row l of the second-to-last axis is at position offset + l; pair i
 * rotates by angle position * scale * inv_freq_i with inv_freq_i = base^(-2i / dims), or
 * 1 / freqs[i] when `freqs` (dims / 2,) is given (then `base` is ignored). `traditional`
 * rotates consecutive pairs (x[2i], x[2i+1]); otherwise pairs are (x[i], x[i + dims / 2]).
 * Same shape and dtype as x. */
LZ_API lz_array *lz_fast_rope(lz_array *x, int dims, bool traditional, double base, double scale,
                              int offset, lz_array *freqs);
/* lz_fast_rope with MLX's array offset: an integer array, 0-d or of one element (every row
 * starts there), or of shape (B,) with B = x's first dim (entry b of x starts at offset[b], as
 * for a batch of sequences decoded at different positions). NULL means offset 0. The offsets
 * are read when the result is evaluated. */
LZ_API lz_array *lz_fast_rope_v2(lz_array *x, int dims, bool traditional, double base,
                                 double scale, lz_array *offset, lz_array *freqs);

/* softmax(scale * q @ k^T + mask) @ v for q (B, Hq, Lq, D), k (B, Hkv, Lk, D), v (B, Hkv, Lk, Dv)
 * with Hq a multiple of Hkv (grouped-query attention: query head h reads kv head
 * h / (Hq / Hkv)); the result is (B, Hq, Lq, Dv) of the promoted dtype of q, k, v.
 * `mask_mode`: NULL or "" (no mask, or `mask` if given), "causal" (query i sees keys
 * j <= i + Lk - Lq; `mask` must be NULL), or "array" (`mask` required). An array mask
 * broadcasts to (B, Hq, Lq, Lk): a bool mask keeps the true entries (false ones get the lowest
 * float), any other mask is added to the scores and its dtype must promote to the result's. */
LZ_API lz_array *lz_fast_scaled_dot_product_attention(lz_array *q, lz_array *k, lz_array *v,
                                                      double scale, const char *mask_mode,
                                                      lz_array *mask);
/* The same with MLX's attention sinks: `sinks` (Hq,) (or NULL) is one extra logit per query
 * head, a key with no value that joins every row's softmax: weights are
 * exp(s_j) / (exp(sinks[h]) + sum_j exp(s_j)), so the output is scaled down by the mass the
 * sink takes. Its dtype must promote to the output's. */
LZ_API lz_array *lz_fast_scaled_dot_product_attention_v2(lz_array *q, lz_array *k, lz_array *v,
                                                         double scale, const char *mask_mode,
                                                         lz_array *mask, lz_array *sinks);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_FAST_H */
