/* Helpers shared by the rule files (rules_util.c): zero tangents, slices from normalised
 * parameters, and "coordinate" gathers and scatters, the form every indexing rule reduces to.
 * Like the rules, they build lazy arrays with public ops inside the walker's scope. */
#ifndef LZ_RULES_UTIL_H
#define LZ_RULES_UTIL_H

#include "transforms/transforms_impl.h"

/* `t`, or zeros shaped and typed like `like` when t is NULL (a zero tangent made explicit). */
LZ_HIDDEN lz_array *lz__or_zeros(lz_array *t, lz_array *like);

/* Slice bounds from a normalised start, step (any sign) and length per axis, in the form
 * lz_slice and lz_slice_update take (Python's rules): fills start/stop/stride of n axes. */
LZ_HIDDEN void lz__slice_bounds(const int *shape, int n, const int64_t *start, const int64_t *step,
                                const int *len, int *b_start, int *b_stop, int *b_stride);
/* x[start : start + len*step : step] on every axis. */
LZ_HIDDEN lz_array *lz__slice_norm(lz_array *x, const int64_t *start, const int64_t *step,
                                   const int *len);
/* dst with that slice replaced by `upd` (which broadcasts to it). */
LZ_HIDDEN lz_array *lz__slice_update_norm(lz_array *dst, lz_array *upd, const int64_t *start,
                                          const int64_t *step, const int *len);

/* Coordinates: `n` integer arrays (one per axis of the indexed array, in axis order) that
 * broadcast together to a shape I; point i addresses element (coords[0][i], coords[1][i], ...).
 * A gather at them has shape I; a scatter-add adds vals (of shape I) there, accumulating where
 * points repeat. */
LZ_HIDDEN lz_array *lz__coord_gather(lz_array *x, lz_array *const *coords, int n);
LZ_HIDDEN lz_array *lz__coord_scatter_add(lz_array *base, lz_array *const *coords, int n,
                                          lz_array *vals);
/* arange(len) shaped (1,..,len,..,1) with `len` at dim d of nd dims (int32). */
LZ_HIDDEN lz_array *lz__axis_iota(int len, int d, int nd);
/* The coordinates that take_along_axis(a, idx, ax) reads (of a's ndim, broadcasting to the
 * output shape of that take). */
LZ_HIDDEN void lz__along_axis_coords(const lz_array *a, lz_array *idx, int ax, const int *oshape,
                                     lz_array **coords);
/* The coordinates that take(a, idx, ax) reads (broadcasting to that take's shape). */
LZ_HIDDEN void lz__take_coords(const lz_array *a, lz_array *idx, int ax, lz_array **coords);

/* x with the `naxes` (sorted, distinct) axes moved last and merged into one: shape
 * (other dims..., R). perm receives the transpose used. */
LZ_HIDDEN lz_array *lz__merge_axes_last(lz_array *x, const int *axes, int naxes, int *perm);
/* The inverse of lz__merge_axes_last: y of shape (other dims..., R) back to x's shape. */
LZ_HIDDEN lz_array *lz__split_axes_last(lz_array *y, const lz_array *x, const int *perm);

#endif /* LZ_RULES_UTIL_H */
