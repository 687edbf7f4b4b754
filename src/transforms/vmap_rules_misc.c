/* vmap rules of the ops the transforms record (identity, depends, custom functions) and of
 * full. Random ops have no entry: the fallback loop records the sampler once per example with
 * the node's key, so an unmapped key gives every example the same draw and a mapped key gives
 * each example the draw of its own key, as MLX. */
#include "transforms/vmap_impl.h"

#include <stdlib.h>

static int vmap_pass0(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  return lz__vmap_done(lz_retain(a->inputs[0]), a->axes[0], outs, out_axes);
}

/* depends(x, deps...): x, computed after the (batched) deps. */
static int vmap_depends(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  return lz__vmap_done(lz__depends(a->inputs[0], a->inputs + 1, a->node->ninputs - 1), a->axes[0],
                       outs, out_axes);
}

/* full(shape, c): c (0-d) converted and broadcast; a batched c gives one value per example. */
static int vmap_full(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  const lz_array *o = a->node->outputs[0];
  int shape[LZ_MAX_NDIM];
  if (o->ndim + 1 > LZ_MAX_NDIM) return lz__vmap_fallback(a, outs, out_axes);
  lz_array *c = lz__vmap_front_rank(lz_astype(a->inputs[0], o->dtype), a->axes[0], o->ndim);
  shape[0] = a->size;
  memcpy(shape + 1, o->shape, (size_t)o->ndim * sizeof(int));
  return lz__vmap_done(lz_broadcast_to(c, shape, o->ndim + 1), 0, outs, out_axes);
}

/* The graph of `tf` traced again on the node's per-example primal inputs, batched. */
static int vmap_traced(const lz_vmap_args *a, lz_closure *tf, int n, int m, lz_array **outs,
                       int *out_axes) {
  lz_array **leaves = malloc((size_t)(n ? n : 1) * sizeof *leaves), *touts[LZ_MAX_OUTPUTS];
  if (!leaves) return lz__error(LZ_ERROR_OUT_OF_MEMORY, a->who, "out of memory");
  int rc = 0;
  for (int i = 0; i < n && rc == 0; i++)
    if (!(leaves[i] = lz__identity(a->node->inputs[i]))) rc = -1;
  int got = rc == 0 ? lz__closure_call_named(a->who, tf, leaves, n, touts) : -1;
  if (got >= 0 && got != m)
    rc = lz__error(LZ_ERROR_INTERNAL, a->who, "the traced function returned %d outputs, the "
                   "custom function %d", got, m);
  else if (got < 0)
    rc = -1;
  if (rc == 0)
    rc = lz__vmap_graph(a->who, leaves, a->inputs, a->axes, n, touts, m, a->size, outs, out_axes);
  free(leaves);
  return rc;
}

/* A custom function: its user vmap rule when it has one (every input batched along axis 0, an
 * unmapped one broadcast; it returns every output batched along axis 0); else the function it
 * asks vmap to trace (a compiled function: the original, not its fused replay); else the
 * function's own graph (between the node's primal inputs and the function's outputs, which the
 * node holds as its later inputs) is batched like any other. */
static int vmap_custom(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  const lz_custom_params *p = a->node->params;
  int n = p->n_primals, m = a->node->noutputs;
  lz_closure *vf = lz__custom_vmap_fn(p), *tf = lz__custom_trace_fn(p);
  if (!vf && tf) return vmap_traced(a, tf, n, m, outs, out_axes);
  if (!vf) {
    return lz__vmap_graph(a->who, a->node->inputs, a->inputs, a->axes, n, a->node->inputs + n, m,
                          a->size, outs, out_axes);
  }
  lz_array **args = malloc((size_t)(n ? n : 1) * sizeof *args);
  if (!args) return lz__error(LZ_ERROR_OUT_OF_MEMORY, a->who, "out of memory");
  int rc = 0;
  for (int i = 0; i < n && rc == 0; i++)
    if (!(args[i] = lz__vmap_batched(a->inputs[i], a->axes[i], a->size))) rc = -1;
  lz_array *res[LZ_MAX_OUTPUTS];
  int got = rc == 0 ? lz__closure_call_named(a->who, vf, args, n, res) : -1;
  free(args);
  if (got < 0) return -1;
  /* res[] belong to the current (the engine's) scope, like every rule result */
  if (got != m) {
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, a->who,
                     "the custom vmap rule returned %d "
                     "arrays for a function with %d outputs",
                     got, m);
  }
  for (int k = 0; k < m; k++) outs[k] = res[k], out_axes[k] = 0;
  return 0;
}

const lz_vmap_rule lz__vmap_rules_misc[LZ_OP_COUNT] = {
    [LZ_OP_IDENTITY] = vmap_pass0,
    [LZ_OP_DEPENDS] = vmap_depends,
    [LZ_OP_CUSTOM_TRANSFORMS] = vmap_custom,
    [LZ_OP_FULL] = vmap_full,
};
