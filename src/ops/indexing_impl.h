/* Helpers shared by the indexing op files (ops/indexing.c, ops/scatter.c,
 * ops/indexing_data.c). */
#ifndef LZ_OPS_INDEXING_IMPL_H
#define LZ_OPS_INDEXING_IMPL_H

#include "../cpu/gather.h"
#include "ops.h"

/* Checks that `idx` has an integer dtype: "[op] indices must be integers, got float32". */
LZ_HIDDEN bool lz__index_dtype_ok(const char *op, const lz_array *idx, const char *what);
/* Validates a dynamic start array (0-d or 1-d, integer, `naxes` elements) and normalises the
 * axes into out (distinct). Returns 0 or -1. */
LZ_HIDDEN int lz__dynamic_start_ok(const char *op, const lz_array *a, const lz_array *start,
                                   const int *axes, int naxes, int *out);
/* Broadcasts the n shapes together into out (LZ_MAX_NDIM dims); returns its ndim or -1. */
LZ_HIDDEN int lz__broadcast_many(const char *op, lz_array *const *arrays, int n, int *out);
/* The shape take/put_along_axis walk: a and idx (of a's ndim) broadcast outside `ax`, idx's
 * dim at `ax`. Returns 0 or -1. */
LZ_HIDDEN int lz__along_axis_shape(const char *op, const lz_array *a, const lz_array *idx, int ax,
                                   int *shape);

#endif /* LZ_OPS_INDEXING_IMPL_H */
