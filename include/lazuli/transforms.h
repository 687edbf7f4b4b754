/* Function transformations: vjp, jvp, grad, value_and_grad, vmap, custom rules, checkpoint.
 *
 * A function to transform is an lz_closure: a C function that reads input arrays and writes
 * output arrays, plus a user pointer. Transforms take closures and return closures, so they
 * compose to any depth (grad of grad, vmap of grad). Results are ordinary lazy arrays. */
#ifndef LAZULI_TRANSFORMS_H
#define LAZULI_TRANSFORMS_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most outputs a closure may return. */
#define LZ_MAX_OUTPUTS 32

/* The C function behind a closure. It reads `n_inputs` borrowed arrays and stores new
 * references to its outputs in out[0..k), returning k (1 <= k <= LZ_MAX_OUTPUTS), or -1 on error
 * (after storing nothing it still owns). Example, a loss of (w, x, y):
 *
 *   static int loss(void *ctx, lz_array *const *in, int n, lz_array **out) {
 *     out[0] = lz_mean(lz_square(lz_subtract(lz_matmul(in[1], in[0]), in[2])), false);
 *     return out[0] ? 1 : -1;
 *   }
 */
typedef int (*lz_fn)(void *ctx, lz_array *const *inputs, int n_inputs, lz_array **out);

/* A reference-counted function object. */
typedef struct lz_closure lz_closure;

/* A new closure calling fn with ctx. ctx_free (may be NULL) is called on ctx when the closure is
 * released for the last time. The caller owns the result (release with lz_closure_free). */
LZ_API lz_closure *lz_closure_new(lz_fn fn, void *ctx, void (*ctx_free)(void *ctx));
/* Releases a reference; NULL is a no-op. */
LZ_API void lz_closure_free(lz_closure *f);
/* Adds a reference and returns f. */
LZ_API lz_closure *lz_closure_retain(lz_closure *f);
/* Calls f: new references to its outputs go to out[] (owned as op results are, see core.h).
 * Returns the number of outputs, or -1 with lz_last_error() set. */
LZ_API int lz_closure_call(lz_closure *f, lz_array *const *inputs, int n_inputs, lz_array **out);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_TRANSFORMS_H */
