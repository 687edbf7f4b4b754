/* Helpers shared by the shape-op constructors (ops/shape_*.c). */
#ifndef LZ_SHAPE_IMPL_H
#define LZ_SHAPE_IMPL_H

#include "../cpu/shape.h"
#include "ops.h"

/* Validates a user's (shape, ndim) argument: 0 <= ndim <= LZ_MAX_NDIM, shape non-NULL when
 * ndim > 0, no negative dim. Returns 0 or -1 with an error naming `op`. */
LZ_HIDDEN int lz__check_shape_arg(const char *op, const int *shape, int ndim);
/* Python's slice rules on an axis of length n: the normalised start and the result length. */
LZ_HIDDEN void lz__norm_slice(int64_t n, int64_t start, int64_t stop, int64_t step, int64_t *first,
                              int64_t *len);
/* One axis of `a` sliced [start:stop:step] (Python rules), the other axes whole. `op` names
 * the public caller in errors. */
LZ_HIDDEN lz_array *lz__slice_axis(const char *op, lz_array *a, int axis, int64_t start,
                                   int64_t stop, int64_t step);
/* A record of the transpose op with a validated permutation. */
LZ_HIDDEN lz_array *lz__transpose_perm(lz_array *a, const int *perm);

#endif /* LZ_SHAPE_IMPL_H */
