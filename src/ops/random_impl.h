/* Shared by the random op constructors (ops/random.c, ops/random_discrete.c). */
#ifndef LZ_OPS_RANDOM_IMPL_H
#define LZ_OPS_RANDOM_IMPL_H

#include "../cpu/random.h"
#include "ops.h"

/* Checks a requested shape (ndim in range, no negative dims). Returns 0 or -1 with an error. */
LZ_HIDDEN int lz__random_check_shape(const char *op, const int *shape, int ndim);
/* Checks that `shape` is the broadcast of itself with (pshape, pndim). Returns 0 or -1. */
LZ_HIDDEN int lz__random_check_broadcast(const char *op, const int *shape, int ndim,
                                         const int *pshape, int pndim);
/* Checks a user key (uint32, shape (2,)); a NULL key passes unless an error is pending (then
 * the NULL is a failed key expression, passed through). Returns 0 or -1. */
LZ_HIDDEN int lz__random_check_key(const char *op, lz_array *key);
/* The key to record as input 0: a new reference to `key`, or for NULL the next key of the
 * global sequence (an evaluated array). Release it with lz__array_decref. NULL on error. */
LZ_HIDDEN lz_array *lz__random_take_key(const char *op, lz_array *key);
/* Records random op `op` with input 0 the key (taken by lz__random_take_key) and `nparams`
 * parameter arrays after it. */
LZ_HIDDEN lz_array *lz__random_make(const char *name, int op, const lz_random_params *p,
                                    lz_array *key, lz_array *const *params, int nparams,
                                    lz_dtype dtype, const int *shape, int ndim);

#endif /* LZ_OPS_RANDOM_IMPL_H */
