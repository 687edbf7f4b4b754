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
 * Evaluating inside a function being transformed (lz_eval, lz_item_*, lz_array_data on an
 * intermediate or an input) computes the value and keeps the gradient, as in MLX: while a
 * transform traces its function, an array that depends on the transform's inputs keeps the
 * node that computed it when it is evaluated, so the transform still differentiates through
 * it. What was kept is released when the outermost transform returns; outside transforms
 * eval frees a chain's intermediates as it goes. Only lz_stop_gradient (or a value copied out
 * as a plain C number) cuts a derivative.
 * Ops without a derivative (comparisons, argmax, integer results) contribute zero gradient;
 * their tangent (lz_jvp) is float32 zeros, as in MLX.
 * Complex inputs follow MLX's convention: the gradient (and every cotangent lz_vjp takes and
 * returns, and a custom vjp_fn receives and returns) of a real loss L at z = x + iy is
 * dL/dx + i dL/dy, so the gradient of sum(2 * imag(z)) is 2i and that of |z| is z / |z|
 * (0 at 0).
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

/* ---- vectorising map ---------------------------------------------------------------------
 * lz_vmap(f, ...) is a closure that applies f to each example of a batch at once: input i is
 * mapped along axis in_axes[i] (all mapped inputs must have the same size there: the batch
 * size B), or passed whole to every example when in_axes[i] is LZ_VMAP_NONE. Output j gets the
 * batch at axis out_axes[j] (an output that does not depend on a mapped input is broadcast).
 * Axes may be negative (an out axis counts in the batched output's dims). f is traced once on
 * per-example placeholders and the recorded graph is batched op by op with each op's vmap rule;
 * ops without a rule run once per example and are stacked. Results are lazy arrays; vmap
 * composes with itself and with lz_grad (per-example gradients: lz_vmap(lz_grad(f), ...)).
 * Random ops see an unmapped key as the same key for each example; a mapped key gives each
 * example its own. Do not evaluate mapped values inside f (an error), and f must not pick
 * shapes from data (lz_mask_select is an error). A custom function's vmap_fn
 * (lz_custom_function) is called with every input batched along axis 0 (unmapped ones
 * broadcast) and returns every output batched along axis 0.
 * Errors start with "[lz_vmap]": an in_axes entry out of range, mapped sizes that differ, no
 * mapped input, a count of inputs or outputs that does not match the axes given, or f's own
 * error. Example, per-example gradients of `loss` (lz_fn above) over a batch of (x, y):
 *
 *   lz_closure *f = lz_closure_new(loss, NULL, NULL), *g = lz_grad(f, NULL, 0); // d loss/d w
 *   int in_axes[3] = {LZ_VMAP_NONE, 0, 0};                 // w shared, x and y mapped
 *   lz_closure *pg = lz_vmap(g, in_axes, 3, NULL, 0);
 *   lz_array *in[3] = {w, xs, ys}, *res[LZ_MAX_OUTPUTS];
 *   if (lz_closure_call(pg, in, 3, res) < 0) return -1;   // res[0]: (B, w's shape...)
 *   lz_closure_free(pg), lz_closure_free(g), lz_closure_free(f);
 */

/* The in_axes value of an input that is not mapped. */
#define LZ_VMAP_NONE (-0x7fffffff - 1)

/* A closure mapping f over the batch axis of its inputs. in_axes has n_in entries (NULL: every
 * input mapped along axis 0; the closure must then be called with n_in inputs all the same).
 * out_axes has n_out entries, one per output of f or a single one for all (NULL: axis 0).
 * The new closure holds its own reference to f. Caller frees it with lz_closure_free. */
LZ_API lz_closure *lz_vmap(lz_closure *f, const int *in_axes, int n_in, const int *out_axes,
                           int n_out);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_TRANSFORMS_H */
