/* Shared by ops/matmul.c and ops/einsum.c: recording one contraction node. */
#ifndef LZ_OPS_MATMUL_IMPL_H
#define LZ_OPS_MATMUL_IMPL_H

#include "../cpu/matmul.h"
#include "ops.h"

/* Records a contraction of a (and b, which may be NULL) with the given axis labels into an
 * output of `dtype` and `shape` (whose size must equal the product of the output labels'
 * sizes). Labels were validated by the caller. */
LZ_HIDDEN lz_array *lz__contract(lz_array *a, lz_array *b, const int8_t *la, const int8_t *lb,
                                 const int8_t *lo, int nout, lz_dtype dtype, const int *shape,
                                 int ndim);

#endif /* LZ_OPS_MATMUL_IMPL_H */
