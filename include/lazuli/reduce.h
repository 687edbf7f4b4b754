/* Reductions, arg-reductions, scans, sorting and softmax, with MLX's names and semantics.
 *
 * Reductions come in three forms, as in mlx-c: `lz_sum(a, keepdims)` reduces every axis,
 * `lz_sum_axis(a, axis, keepdims)` one axis and `lz_sum_axes(a, axes, naxes, keepdims)` a list
 * of distinct axes (naxes may be 0: nothing is reduced). Axes may be negative (counted from the
 * end); an out-of-range or repeated axis is an error. With keepdims the reduced axes stay as
 * size 1. Every function returns a new array (see core.h for ownership and errors) and records
 * a lazy node. float16/bfloat16 inputs accumulate in float32; float32 sums are blocked (error
 * grows slowly with the length); integer sums and products wrap in their result dtype. Complex
 * inputs are an error. */
#ifndef LAZULI_REDUCE_H
#define LAZULI_REDUCE_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LZ_REDUCE_DECL(NAME)                                                                     \
  LZ_API lz_array *lz_##NAME(lz_array *a, bool keepdims);                                        \
  LZ_API lz_array *lz_##NAME##_axis(lz_array *a, int axis, bool keepdims);                       \
  LZ_API lz_array *lz_##NAME##_axes(lz_array *a, const int *axes, int naxes, bool keepdims);

/* Sum. Small integers accumulate as MLX: bool, int8, int16 and int32 give int32; uint8, uint16
 * and uint32 give uint32; 64-bit integers and floats keep their dtype. A 0-d input (no axis to
 * reduce) keeps its dtype, as MLX returns it unchanged. Empty sums are 0. */
LZ_REDUCE_DECL(sum)
/* Product; result dtype as lz_sum, except that a product whose reduced axes all have size 1 (or
 * a 0-d input) keeps the input's dtype, as MLX returns the input unchanged. Empty products are
 * 1. */
LZ_REDUCE_DECL(prod)
/* Maximum / minimum; keep the dtype; NaN propagates. Reducing a zero-size axis is an error. */
LZ_REDUCE_DECL(max)
LZ_REDUCE_DECL(min)
/* Whether all / any elements are nonzero (NaN counts as nonzero); bool results. Empty: all is
 * true, any is false. */
LZ_REDUCE_DECL(all)
LZ_REDUCE_DECL(any)
/* Number of nonzero elements, as int32. */
LZ_REDUCE_DECL(count_nonzero)
/* Arithmetic mean; integer and bool inputs give float32, floats keep their dtype. Empty: NaN. */
LZ_REDUCE_DECL(mean)
/* log(sum(exp(a))) computed stably (shifted by the max); integers give float32. If the max is
 * +-inf the result is that max. Reducing a zero-size axis is an error. */
LZ_REDUCE_DECL(logsumexp)
/* Median (mean of the two middle values for an even count); NaN if any element is NaN; integers
 * give float32. Empty: NaN. */
LZ_REDUCE_DECL(median)

/* Variance sum((a - mean)^2) / (N - ddof) and its square root, computed in two passes;
 * integers give float32. N - ddof <= 0 gives inf (or NaN when the deviations are all 0). */
LZ_API lz_array *lz_var(lz_array *a, bool keepdims, int ddof);
LZ_API lz_array *lz_var_axis(lz_array *a, int axis, bool keepdims, int ddof);
LZ_API lz_array *lz_var_axes(lz_array *a, const int *axes, int naxes, bool keepdims, int ddof);
LZ_API lz_array *lz_std(lz_array *a, bool keepdims, int ddof);
LZ_API lz_array *lz_std_axis(lz_array *a, int axis, bool keepdims, int ddof);
LZ_API lz_array *lz_std_axes(lz_array *a, const int *axes, int naxes, bool keepdims, int ddof);

/* Index (uint32) of the first maximum / minimum along `axis`, or in the flattened array (then
 * the result is 0-d, or all ones with keepdims). A NaN counts as the extreme (its first index is
 * returned, as NumPy). A zero-size array is an error. */
LZ_API lz_array *lz_argmax(lz_array *a, bool keepdims);
LZ_API lz_array *lz_argmax_axis(lz_array *a, int axis, bool keepdims);
LZ_API lz_array *lz_argmin(lz_array *a, bool keepdims);
LZ_API lz_array *lz_argmin_axis(lz_array *a, int axis, bool keepdims);

/* Sum of the diagonal `offset` (above the main one when positive) of the 2-d planes spanned by
 * axis1 and axis2 (distinct); the result drops both axes. dtype as lz_sum. */
LZ_API lz_array *lz_trace(lz_array *a, int offset, int axis1, int axis2);

/* softmax: exp(a - max) / sum(exp(a - max)) over the given axes (all axes for lz_softmax).
 * Integers give float32. Always computed in float32 (float64 for float64 inputs), so `precise`
 * (MLX's flag for half types) only documents intent. */
LZ_API lz_array *lz_softmax(lz_array *a, bool precise);
LZ_API lz_array *lz_softmax_axis(lz_array *a, int axis, bool precise);
LZ_API lz_array *lz_softmax_axes(lz_array *a, const int *axes, int naxes, bool precise);

/* ---- scans along one axis: the result has a's shape. `reverse` scans from the end;
 * `inclusive` false shifts by one (the first result is the identity: 0, 1, -inf...). ---- */
/* Cumulative sum; bool gives int32, other dtypes keep theirs (integers wrap). */
LZ_API lz_array *lz_cumsum(lz_array *a, int axis, bool reverse, bool inclusive);
/* Cumulative product; keeps the dtype. */
LZ_API lz_array *lz_cumprod(lz_array *a, int axis, bool reverse, bool inclusive);
/* Running maximum / minimum; keeps the dtype; NaN propagates. */
LZ_API lz_array *lz_cummax(lz_array *a, int axis, bool reverse, bool inclusive);
LZ_API lz_array *lz_cummin(lz_array *a, int axis, bool reverse, bool inclusive);
/* log(cumsum(exp(a))) computed stably; integers give float32. */
LZ_API lz_array *lz_logcumsumexp(lz_array *a, int axis, bool reverse, bool inclusive);

/* n-th discrete difference along `axis` (NumPy's diff): out[i] = a[i+1] - a[i], n times; the
 * axis shrinks by n (to 0 at least). Keeps the dtype (integers wrap; bool gives a != b). n = 0
 * returns a copy. n < 0 or a 0-d input is an error. */
LZ_API lz_array *lz_diff(lz_array *a, int n, int axis);

/* ---- sorting. Without _axis the array is flattened first (1-d result). NaN sorts last. ---- */
/* Sorted copy along `axis` (stable). */
LZ_API lz_array *lz_sort(lz_array *a);
LZ_API lz_array *lz_sort_axis(lz_array *a, int axis);
/* Indices (uint32) that sort along `axis`; stable: equal elements keep their order. */
LZ_API lz_array *lz_argsort(lz_array *a);
LZ_API lz_array *lz_argsort_axis(lz_array *a, int axis);
/* A copy where element `kth` (negative counts from the end) is the one a full sort puts there,
 * smaller ones before it, the others after (in no promised order). kth out of range is an
 * error. */
LZ_API lz_array *lz_partition(lz_array *a, int kth);
LZ_API lz_array *lz_partition_axis(lz_array *a, int kth, int axis);
/* Indices (uint32) of such a partition. */
LZ_API lz_array *lz_argpartition(lz_array *a, int kth);
LZ_API lz_array *lz_argpartition_axis(lz_array *a, int kth, int axis);
/* The k largest elements along `axis` (the axis becomes k). MLX promises no order; Lazuli
 * returns them ascending. 0 <= k <= axis size, else an error. */
LZ_API lz_array *lz_topk(lz_array *a, int k);
LZ_API lz_array *lz_topk_axis(lz_array *a, int k, int axis);

/* For each value of v, the index (uint32) where it would be inserted into the sorted 1-d `a`
 * to keep it sorted: before equal elements (right = false, NumPy's side="left") or after them
 * (right = true). a and v are compared in their promoted dtype; NaN sorts last. */
LZ_API lz_array *lz_searchsorted(lz_array *a, lz_array *v, bool right);

#undef LZ_REDUCE_DECL

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_REDUCE_H */
