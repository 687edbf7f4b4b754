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
/* An array of `shape` filled with `vals` converted to `dtype` and broadcast (MLX's full with an
 * array; pass lz_array_dtype(vals) for MLX's default dtype). The result owns its data; the
 * gradient with respect to vals sums over the broadcast axes. vals is borrowed. */
LZ_API lz_array *lz_full_array(const int *shape, int ndim, lz_array *vals, lz_dtype dtype);
LZ_API lz_array *lz_zeros(const int *shape, int ndim, lz_dtype dtype);
LZ_API lz_array *lz_ones(const int *shape, int ndim, lz_dtype dtype);
/* Same shape and dtype as `a`. */
LZ_API lz_array *lz_full_like(lz_array *a, double value);
LZ_API lz_array *lz_zeros_like(lz_array *a);
LZ_API lz_array *lz_ones_like(lz_array *a);
/* Values start, start+step, ... below stop (above it for a negative step), as numpy.arange and
 * MLX: the length is ceil((stop - start) / step); the values step by T(start + step) - T(start)
 * in the dtype T (so an integer dtype with a fractional step repeats: arange(0, 3, 0.2, int32)
 * is 15 zeros) and integers wrap. An infinite step gives [start] when it points from start
 * towards stop, else an empty array. NaN or infinite start/stop, a NaN or zero step, bool and
 * complex64 are errors. */
LZ_API lz_array *lz_arange(double start, double stop, double step, lz_dtype dtype);

/* `num` evenly spaced values from start to stop, both included (NumPy's formula, computed in
 * double and converted to `dtype`). An infinite or NaN start/stop gives NumPy's inf/NaN values. */
LZ_API lz_array *lz_linspace(double start, double stop, int num, lz_dtype dtype);
/* An (n, m) matrix with ones on diagonal k (k > 0 above the main one) and zeros elsewhere;
 * m < 0 means m = n. */
LZ_API lz_array *lz_eye(int n, int m, int k, lz_dtype dtype);
/* The (n, n) identity matrix. */
LZ_API lz_array *lz_identity(int n, lz_dtype dtype);
/* An (n, m) matrix with ones at and below diagonal k, zeros above; m < 0 means m = n. */
LZ_API lz_array *lz_tri(int n, int m, int k, lz_dtype dtype);
/* `x` (at least 2-D) with the elements above diagonal k of its last two axes set to zero. */
LZ_API lz_array *lz_tril(lz_array *x, int k);
/* `x` (at least 2-D) with the elements below diagonal k of its last two axes set to zero. */
LZ_API lz_array *lz_triu(lz_array *x, int k);
/* Coordinate grids from n arrays (each flattened), as MLX/NumPy meshgrid: indexing "xy" (or
 * NULL: Cartesian, the first two axes swapped) or "ij" (matrix). Writes n arrays to outs: views
 * broadcast to the full grid, or, when sparse, shaped to broadcast against each other.
 * Returns 0, or -1 with every outs[i] NULL. */
LZ_API int lz_meshgrid(lz_array *const *arrays, int n, bool sparse, const char *indexing,
                       lz_array **outs);
/* NumPy's window functions of m samples (m <= 0: empty, m == 1: [1]) in a floating dtype. */
LZ_API lz_array *lz_bartlett(int m, lz_dtype dtype);
LZ_API lz_array *lz_blackman(int m, lz_dtype dtype);
LZ_API lz_array *lz_hamming(int m, lz_dtype dtype);
LZ_API lz_array *lz_hanning(int m, lz_dtype dtype);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_CREATION_H */
