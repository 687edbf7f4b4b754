/* Helpers shared by op constructors: validation, broadcasting, type promotion, casts. */
#ifndef LZ_OPS_H
#define LZ_OPS_H

#include "../core/internal.h"

/* Broadcasts two shapes NumPy-style into out (LZ_MAX_NDIM dims); returns its ndim or -1 with
 * "[op] shapes (2,3) and (4,3) cannot be broadcast". */
LZ_HIDDEN int lz__broadcast_shapes(const char *op, const int *a, int na, const int *b, int nb,
                                   int *out);
/* The dtype of `a op b` by MLX's rules, weak scalars (lz_float/lz_int) included. */
LZ_HIDDEN lz_dtype lz__result_type(const lz_array *a, const lz_array *b);
/* `a` converted to `dtype` for op `op`: `a` itself when it already has it (no new reference),
 * else a new reference the caller frees with lz_free. Constants convert at once, without a
 * node; weak scalars convert from their exact value, and a weak int that does not fit an
 * integer dtype narrower than 64 bits is an error, "[op] Converting 300 to uint8 would result
 * in overflow" (LZ_ERROR_INVALID_ARGUMENT), as MLX raises for a Python int. */
LZ_HIDDEN lz_array *lz__cast(const char *op, lz_array *a, lz_dtype dtype);
/* MLX converts a Python int to the other operand's dtype before any op: 0, or -1 with the
 * overflow error of lz__cast when one of a, b is a weak int that does not fit the other's
 * integer dtype (even where the op then computes in float, as divide does). */
LZ_HIDDEN int lz__weak_check(const char *op, const lz_array *a, const lz_array *b);
/* Releases `x` unless it is `orig` (pairs with lz__cast). */
static inline void lz__uncast(lz_array *x, lz_array *orig) {
  if (x != orig) lz_free(x);
}
/* Normalises a possibly negative axis; returns -1 with "[op] axis 3 is out of bounds for
 * array of dimension 2". */
LZ_HIDDEN int lz__norm_axis(const char *op, int axis, int ndim);
/* Normalises and validates a list of axes into out (no repeats); returns 0 or -1. */
LZ_HIDDEN int lz__norm_axes(const char *op, const int *axes, int naxes, int ndim, int *out);

#endif /* LZ_OPS_H */
