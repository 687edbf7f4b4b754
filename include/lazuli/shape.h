/* Shape ops: views that share their input's data (reshape, transpose, slice, broadcast_to, ...)
 * and ops that copy into a new layout (concatenate, pad, tile, ...), with MLX's names and
 * semantics. Every function returns a new array (see core.h for ownership and errors) and
 * records a lazy node; nothing is computed until evaluation.
 *
 * Views: the result of a view op uses the input's buffer with other strides and an offset, so it
 * allocates no data when evaluated. lz_array_data() on a strided view still returns row-major
 * data (it makes the view contiguous first).
 *
 * Axes are `const int *axes, int naxes`; a negative axis counts from the end. Ops that return
 * several arrays write them to `outs` (the caller owns each one) and return 0, or -1 with every
 * outs[k] set to NULL. */
#ifndef LAZULI_SHAPE_H
#define LAZULI_SHAPE_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- reshaping (views when the data allows, else a copy) ---------------------------------- */

/* `a` with the same elements in row-major order and a new shape. One entry may be -1 and is
 * inferred. A view when the input's strides allow it (always for contiguous inputs). */
LZ_API lz_array *lz_reshape(lz_array *a, const int *shape, int ndim);
/* Merges axes start_axis..end_axis (inclusive) into one. A 0-d array becomes shape (1,). */
LZ_API lz_array *lz_flatten(lz_array *a, int start_axis, int end_axis);
/* Splits `axis` into `shape` (whose product must equal that dim; one entry may be -1). */
LZ_API lz_array *lz_unflatten(lz_array *a, int axis, const int *shape, int ndim);
/* Removes the size-1 axes listed, or every size-1 axis when axes is NULL. */
LZ_API lz_array *lz_squeeze(lz_array *a, const int *axes, int naxes);
/* Inserts size-1 axes at the given positions of the result (which has ndim + naxes dims). */
LZ_API lz_array *lz_expand_dims(lz_array *a, const int *axes, int naxes);
/* `a` with at least 1, 2 or 3 dims, as numpy: (n) -> (1,n) -> (1,n,1); (m,n) -> (m,n,1). */
LZ_API lz_array *lz_atleast_1d(lz_array *a);
LZ_API lz_array *lz_atleast_2d(lz_array *a);
LZ_API lz_array *lz_atleast_3d(lz_array *a);

/* ---- views ------------------------------------------------------------------------------- */

/* Permutes the axes: result axis i is input axis axes[i]; axes NULL reverses them all. */
LZ_API lz_array *lz_transpose(lz_array *a, const int *axes, int naxes);
LZ_API lz_array *lz_swapaxes(lz_array *a, int axis1, int axis2);
/* Moves axis `source` to position `destination`, keeping the others in order. */
LZ_API lz_array *lz_moveaxis(lz_array *a, int source, int destination);
/* `a` broadcast NumPy-style to `shape` (stride-0 view). */
LZ_API lz_array *lz_broadcast_to(lz_array *a, const int *shape, int ndim);
/* The n arrays broadcast to their common shape; writes n new arrays to outs. */
LZ_API int lz_broadcast_arrays(lz_array *const *arrays, int n, lz_array **outs);
/* a[start[0]:stop[0]:strides[0], ...] over all `n` == ndim axes, with Python's rules: negative
 * indices count from the end, out-of-range bounds clamp (INT_MAX / INT_MIN reach the ends), a
 * negative stride walks backwards. strides NULL means all 1; a zero stride is an error. */
LZ_API lz_array *lz_slice(lz_array *a, const int *start, const int *stop, const int *strides,
                          int n);
/* Reverses the order of elements along the axes (all axes when axes is NULL). A view. */
LZ_API lz_array *lz_flip(lz_array *a, const int *axes, int naxes);
/* The diagonal `offset` of the 2-D planes (axis1, axis2); it becomes the last axis. A view. */
LZ_API lz_array *lz_diagonal(lz_array *a, int offset, int axis1, int axis2);
/* A view of a's row-major data with the given shape, element strides and element offset.
 * Every element it reaches must lie inside `a`; a non-contiguous `a` is copied first. */
LZ_API lz_array *lz_as_strided(lz_array *a, const int *shape, int ndim, const int64_t *strides,
                               int64_t offset);
/* `a` in row-major contiguous layout: shares the data if it already is, else copies. */
LZ_API lz_array *lz_contiguous(lz_array *a);

/* ---- splitting (one node, several outputs that view the input) ---------------------------- */

/* Splits `axis` into `sections` equal parts (an error if it does not divide); writes `sections`
 * arrays to outs. */
LZ_API int lz_split(lz_array *a, int sections, int axis, lz_array **outs);
/* Splits `axis` before each of the `n` indices (Python slice rules, so out-of-range indices
 * clamp and a decreasing index gives an empty part); writes n + 1 arrays to outs. */
LZ_API int lz_split_indices(lz_array *a, const int *indices, int n, int axis, lz_array **outs);
/* The dim(axis) slices of `a` along `axis`, each without that axis; writes them to outs. */
LZ_API int lz_unstack(lz_array *a, int axis, lz_array **outs);

/* ---- joining and copying ----------------------------------------------------------------- */

/* Joins n arrays along an existing axis; other dims must match; dtypes promote. */
LZ_API lz_array *lz_concatenate(lz_array *const *arrays, int n, int axis);
/* Joins n arrays of one shape along a new axis. */
LZ_API lz_array *lz_stack(lz_array *const *arrays, int n, int axis);
/* Repeats `a` reps[i] times along each axis, as numpy.tile (shorter reps or a are padded with
 * leading ones). */
LZ_API lz_array *lz_tile(lz_array *a, const int *reps, int nreps);
/* Repeats each element `repeats` times along `axis`. */
LZ_API lz_array *lz_repeat(lz_array *a, int repeats, int axis);
/* Repeats each element of the flattened array `repeats` times (a 1-D result). */
LZ_API lz_array *lz_repeat_flat(lz_array *a, int repeats);
/* Pads `a`: low_pad[i] elements before and high_pad[i] after axis axes[i] (axes NULL: every
 * axis, naxes == ndim). mode "constant" (or NULL) fills with `value`, "edge" repeats the edge. */
LZ_API lz_array *lz_pad(lz_array *a, const int *axes, int naxes, const int *low_pad,
                        const int *high_pad, const char *mode, double value);
/* Shifts elements by shifts[i] along axes[i], wrapping around. With axes NULL the array is
 * rolled as if flattened, by shifts[0], and keeps its shape. Non-NULL axes with naxes == 0
 * roll nothing (`a` itself, as MLX/NumPy with an empty axis tuple). */
LZ_API lz_array *lz_roll(lz_array *a, const int *shifts, const int *axes, int naxes);
/* 1-D input: a 2-D array with `a` on diagonal k. 2-D input: its diagonal k (1-D). */
LZ_API lz_array *lz_diag(lz_array *a, int k);
/* Kronecker product (numpy.kron): blocks a[i...] * b; shapes are padded with leading ones. */
LZ_API lz_array *lz_kron(lz_array *a, lz_array *b);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_SHAPE_H */
