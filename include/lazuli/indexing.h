/* Indexing: take, gather, scatter, dynamic slices and data-dependent selections.
 *
 * Index arrays may have any integer dtype (bool and floats are rejected when the op is built).
 * A negative index counts from the end of its axis, as in MLX's take. An index that is still out
 * of range is found when the op is evaluated: lz_eval fails with e.g.
 * "[lz_take] index 7 is out of bounds for axis 0 with size 5", and nothing outside the arrays
 * is ever read or written.
 *
 * Scatter ops are functional: they return a new array and never change their inputs. Where
 * several updates land on the same element, add/subtract/multiply/divide/maximum/minimum apply
 * every one of them (like NumPy's np.add.at), in row-major order of the update positions; for
 * the plain "set" ops the last update in that order wins.
 *
 * Every function returns a new reference (see core.h); all but the data-dependent ones at the
 * end are lazy. */
#ifndef LAZULI_INDEXING_H
#define LAZULI_INDEXING_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- gathers ---------------------------------------------------------------------------- */

/* Elements of `a` at `indices` along `axis` (negative counts from the end), as np.take: the
 * result's shape is a.shape[:axis] + indices.shape + a.shape[axis+1:]. */
LZ_API lz_array *lz_take(lz_array *a, lz_array *indices, int axis);
/* Elements of `a` flattened in row-major order at `indices` (MLX's take without an axis);
 * the result has indices' shape. */
LZ_API lz_array *lz_take_flat(lz_array *a, lz_array *indices);
/* out[..., j, ...] = a[..., indices[..., j, ...], ...] along `axis`, as np.take_along_axis.
 * `indices` has a's ndim; the other axes broadcast, so the result's shape is the broadcast of
 * indices.shape and a.shape, with indices.shape[axis] at `axis`. */
LZ_API lz_array *lz_take_along_axis(lz_array *a, lz_array *indices, int axis);
/* MLX's gather: the `nidx` index arrays broadcast together to a shape I; index array k
 * indexes axis axes[k] of `a`. The result has shape I + slice_sizes (a.ndim sizes): the
 * element at (i, s) is a[start + s], where start is indices[k][i] on axes[k] and 0 on the
 * other axes. Each slice must fit: 0 <= slice_sizes[d] <= a.shape[d], and at evaluation
 * start + slice_sizes <= a.shape on the indexed axes. */
LZ_API lz_array *lz_gather(lz_array *a, lz_array *const *indices, const int *axes, int nidx,
                           const int *slice_sizes);
/* MLX's slice with a dynamic start: the block of shape `slice_size` (a.ndim sizes) of `a` that
 * starts at start[k] on axis axes[k] (k < naxes) and at 0 on the other axes. `start` is a 0-d
 * or 1-d integer array of naxes elements, read at evaluation; a negative start counts from the
 * end, and a block that does not fit is an evaluation error. */
LZ_API lz_array *lz_slice_dynamic(lz_array *a, lz_array *start, const int *axes, int naxes,
                                  const int *slice_size);

/* ---- scatters: functional updates ------------------------------------------------------- */

/* MLX's x.at[...] along one axis, NumPy's np.<ufunc>.at(x, (:,..., indices), values): a copy of
 * `a` with the elements that lz_take(a, indices, axis) would read combined with `values`.
 * `values` broadcasts to that take's shape and converts to a's dtype. */
LZ_API lz_array *lz_at_set(lz_array *a, lz_array *indices, lz_array *values, int axis);
LZ_API lz_array *lz_at_add(lz_array *a, lz_array *indices, lz_array *values, int axis);
LZ_API lz_array *lz_at_subtract(lz_array *a, lz_array *indices, lz_array *values, int axis);
LZ_API lz_array *lz_at_multiply(lz_array *a, lz_array *indices, lz_array *values, int axis);
/* Floating dtypes only (integer division has no exact in-place form). */
LZ_API lz_array *lz_at_divide(lz_array *a, lz_array *indices, lz_array *values, int axis);
/* NaN-propagating, like lz_maximum and lz_minimum. */
LZ_API lz_array *lz_at_maximum(lz_array *a, lz_array *indices, lz_array *values, int axis);
LZ_API lz_array *lz_at_minimum(lz_array *a, lz_array *indices, lz_array *values, int axis);

/* A copy of `a` with `values` written where lz_take_along_axis(a, indices, axis) reads, as
 * np.put_along_axis. `values` broadcasts to that shape and converts to a's dtype. */
LZ_API lz_array *lz_put_along_axis(lz_array *a, lz_array *indices, lz_array *values, int axis);

/* MLX's scatter family, the inverse of lz_gather: the `nidx` index arrays broadcast to a shape
 * I; `updates` has shape I + U with U of a.ndim sizes (U[d] <= a.shape[d]); the update block at
 * i lands at indices[k][i] on axes[k] and at 0 on the other axes. Updates convert to a's dtype.
 * lz_scatter writes (last wins), the others combine with what is there. */
LZ_API lz_array *lz_scatter(lz_array *a, lz_array *const *indices, const int *axes, int nidx,
                            lz_array *updates);
LZ_API lz_array *lz_scatter_add(lz_array *a, lz_array *const *indices, const int *axes, int nidx,
                                lz_array *updates);
LZ_API lz_array *lz_scatter_prod(lz_array *a, lz_array *const *indices, const int *axes, int nidx,
                                 lz_array *updates);
LZ_API lz_array *lz_scatter_max(lz_array *a, lz_array *const *indices, const int *axes, int nidx,
                                lz_array *updates);
LZ_API lz_array *lz_scatter_min(lz_array *a, lz_array *const *indices, const int *axes, int nidx,
                                lz_array *updates);

/* A copy of `src` with src[start:stop:strides] (one entry per axis, NumPy's rules for negative
 * and out-of-range bounds) replaced by `update`, which broadcasts to the slice's shape and
 * converts to src's dtype. `strides` may be NULL for all ones; a zero stride is an error. */
LZ_API lz_array *lz_slice_update(lz_array *src, lz_array *update, const int *start, const int *stop,
                                 const int *strides);
/* MLX's slice_update with a dynamic start: a copy of `src` with `update` written at start[k] on
 * axis axes[k] and at 0 on the other axes (`start` as in lz_slice_dynamic). `update` has at
 * most src.ndim dims, each no larger than src's; missing leading dims cover all of src's axis
 * (or one element on a listed axis). A block that does not fit is an evaluation error. */
LZ_API lz_array *lz_slice_update_dynamic(lz_array *src, lz_array *update, lz_array *start,
                                         const int *axes, int naxes);

/* ---- data-dependent shapes: these evaluate their input at once -------------------------- */

/* The coordinates of the nonzero (true) elements of `a`, as an (n, a.ndim) int32 array in
 * row-major order: row i holds the index of the i-th nonzero element on each axis (NumPy's
 * np.argwhere; column k is np.nonzero(a)[k]). A 0-d `a` gives shape (0 or 1, 0). Evaluates `a`. */
LZ_API lz_array *lz_nonzero(lz_array *a);
/* The sorted distinct values of `a` flattened, as np.unique (NaNs sort last and count as one
 * value). When not NULL, *inverse receives an int32 array of a.size with the position of each
 * element of `a` in the result, and *counts an int32 array with how often each value occurs;
 * both are new references. Evaluates `a`. */
LZ_API lz_array *lz_unique(lz_array *a, lz_array **inverse, lz_array **counts);
/* NumPy's a[mask] for a bool `mask` whose shape is a's leading dims: the selected sub-arrays
 * stacked in row-major order, shape (count,) + a.shape[mask.ndim:]. Evaluates `mask` only;
 * reading `a` stays lazy. */
LZ_API lz_array *lz_mask_select(lz_array *a, lz_array *mask);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_INDEXING_H */
