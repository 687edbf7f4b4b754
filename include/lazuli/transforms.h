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
/* Calls f: new references to its outputs go to out[] (room for LZ_MAX_OUTPUTS; owned as op
 * results are, see core.h). f runs in a scope of its own, so the temporaries of a nested
 * expression are released at once. Returns the number of outputs, or -1 with lz_last_error()
 * set (f returning -1, no outputs, or a NULL output). */
LZ_API int lz_closure_call(lz_closure *f, lz_array *const *inputs, int n_inputs, lz_array **out);

/* ---- differentiation ---------------------------------------------------------------------
 * The transforms call the function on their own handles of the inputs, which records its graph
 * (nothing is computed), then build the derivative graph from it with each op's rule. Results
 * are lazy arrays: one lz_eval computes the function and its derivative together. Rules are
 * written with differentiable ops, so transforms nest: lz_grad(lz_grad(f)), lz_jvp of lz_vjp.
 * Errors start with "[lz_grad]" (or "[lz_vjp]", ...), e.g. "[lz_grad] op 'sort' has no vjp
 * rule"; a failed transform leaves nothing allocated and the graph usable.
 * Do not lz_eval inside a function being transformed: evaluating an array cuts its gradient
 * (it becomes a constant), as it does for lz_stop_gradient.
 * Ops without a derivative (comparisons, argmax, integer results) contribute zero gradient.
 *
 * A training step, in full (inside a scope, so the temporaries need no frees; `loss` is the
 * lz_fn example above):
 *
 *   lz_closure *f = lz_closure_new(loss, NULL, NULL);
 *   lz_closure *step = lz_value_and_grad(f, NULL, 0, false); // d loss / d input 0
 *   lz_array *in[3] = {w, x, y}, *res[LZ_MAX_OUTPUTS];       // res: loss, d loss / d w
 *   if (lz_closure_call(step, in, 3, res) < 0) return -1;
 *   lz_array *w2 = lz_subtract(w, lz_multiply(lz_float(0.1), res[1])); // SGD: still lazy
 *   lz_eval(w2);                        // forward, backward and update in one pass
 *   lz_closure_free(step), lz_closure_free(f);
 *
 * vmap slots into the same machinery (its rules sit next to vjp and jvp in the rule tables). */

/* Vector-Jacobian product of f at primals[0..n): calls f, then stores its outputs in
 * out_outputs[0..m) and the cotangents of the n inputs in out_vjps[0..n) (each shaped like its
 * primal; zeros where an input does not matter). cotangents[j] has the shape of output j; m must
 * equal f's number of outputs. out_outputs may be NULL (then the outputs are released). All
 * results are new references. Returns 0 or -1 (nothing stored). */
LZ_API int lz_vjp(lz_closure *f, lz_array *const *primals, int n, lz_array *const *cotangents,
                  int m, lz_array **out_outputs, lz_array **out_vjps);

/* Jacobian-vector product of f at primals[0..n) along tangents[0..n) (each shaped like its
 * primal): stores f's outputs in out_outputs (may be NULL) and one tangent per output in
 * out_jvps. Returns the number of outputs k (out arrays need LZ_MAX_OUTPUTS room) or -1. */
LZ_API int lz_jvp(lz_closure *f, lz_array *const *primals, int n, lz_array *const *tangents,
                  lz_array **out_outputs, lz_array **out_jvps);

/* A closure computing the gradient of f's scalar (0-d) first output with respect to the inputs
 * listed in argnums (nargnums of them; argnums NULL or nargnums 0 means input 0). Calling it
 * returns nargnums arrays, each shaped like its input. f must return exactly one output. The
 * new closure holds its own reference to f. Caller frees it with lz_closure_free. */
LZ_API lz_closure *lz_grad(lz_closure *f, const int *argnums, int nargnums);

/* Like lz_grad, but the closure returns f's value too: (loss, grads...) or, when has_aux, f may
 * return auxiliary outputs after the loss (not differentiated): (loss, aux..., grads...). */
LZ_API lz_closure *lz_value_and_grad(lz_closure *f, const int *argnums, int nargnums,
                                     bool has_aux);

/* A closure that computes f but is differentiated with the given rules (each may be NULL: then
 * f's own derivative is used). vjp_fn is called with (primals..., cotangents..., outputs...) and
 * returns one cotangent per primal; jvp_fn with (primals..., tangents...) returns one tangent per
 * output; vmap_fn is kept for lz_vmap. The closure holds references to the closures given. */
LZ_API lz_closure *lz_custom_function(lz_closure *f, lz_closure *vjp_fn, lz_closure *jvp_fn,
                                      lz_closure *vmap_fn);

/* A closure computing f whose intermediate values are not kept for the backward pass: the vjp
 * recomputes them from the inputs, when the cotangents are ready. Trades compute for memory. */
LZ_API lz_closure *lz_checkpoint(lz_closure *f);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_TRANSFORMS_H */
