/* Elementwise ops: binary arithmetic and comparisons with NumPy broadcasting and MLX's type
 * promotion, unary math, and casts. Every function returns a new array (see core.h for
 * ownership and errors) and records a lazy node: nothing is computed until evaluation. */
#ifndef LAZULI_ELEMENTWISE_H
#define LAZULI_ELEMENTWISE_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- binary arithmetic: a and b broadcast together; the dtype follows lz_promote_types,
 * with weak scalars (lz_float, lz_int) taking the other operand's dtype. ---- */
LZ_API lz_array *lz_add(lz_array *a, lz_array *b);
LZ_API lz_array *lz_subtract(lz_array *a, lz_array *b);
LZ_API lz_array *lz_multiply(lz_array *a, lz_array *b);
/* True division: integer inputs give float32, as in MLX. */
LZ_API lz_array *lz_divide(lz_array *a, lz_array *b);
/* NaN-propagating, as in MLX. */
LZ_API lz_array *lz_maximum(lz_array *a, lz_array *b);
LZ_API lz_array *lz_minimum(lz_array *a, lz_array *b);

/* ---- comparisons: bool results ---- */
LZ_API lz_array *lz_equal(lz_array *a, lz_array *b);
LZ_API lz_array *lz_not_equal(lz_array *a, lz_array *b);
LZ_API lz_array *lz_less(lz_array *a, lz_array *b);
LZ_API lz_array *lz_less_equal(lz_array *a, lz_array *b);
LZ_API lz_array *lz_greater(lz_array *a, lz_array *b);
LZ_API lz_array *lz_greater_equal(lz_array *a, lz_array *b);

/* ---- casts ---- */
/* `a` converted to `dtype`. Float to integer truncates toward zero and saturates; NaN gives 0.
 * Converting to the same dtype returns a new reference to `a` itself. */
LZ_API lz_array *lz_astype(lz_array *a, lz_dtype dtype);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_ELEMENTWISE_H */
