/* Creating arrays. From user memory see core.h (lz_array_from_data, lz_array_wrap, scalars).
 * All of these are lazy: they record a node and allocate nothing until evaluated. */
#ifndef LAZULI_CREATION_H
#define LAZULI_CREATION_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An array of `shape` filled with `value` converted to `dtype`. Until something forces a copy it
 * is a broadcast view of one element, so it costs no memory proportional to its size. */
LZ_API lz_array *lz_full(const int *shape, int ndim, double value, lz_dtype dtype);
LZ_API lz_array *lz_zeros(const int *shape, int ndim, lz_dtype dtype);
LZ_API lz_array *lz_ones(const int *shape, int ndim, lz_dtype dtype);
/* Same shape and dtype as `a`. */
LZ_API lz_array *lz_full_like(lz_array *a, double value);
LZ_API lz_array *lz_zeros_like(lz_array *a);
LZ_API lz_array *lz_ones_like(lz_array *a);
/* Values start, start+step, ... below stop (above it for a negative step), as numpy.arange. */
LZ_API lz_array *lz_arange(double start, double stop, double step, lz_dtype dtype);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_CREATION_H */
