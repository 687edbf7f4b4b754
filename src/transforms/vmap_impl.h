/* Private declarations of vmap: the engine that batches a recorded graph (vmap_engine.c), the
 * per-op rule tables (vmap_rules_<family>.c) and the helpers rules share.
 *
 * A rule sees one recorded node of the traced (per-example) function and its inputs as batched
 * values: each input either carries the batch (size `size` along axis axes[i]) or is not batched
 * (axes[i] == LZ__VMAP_NB: the node's own input, or a rule result without a batch axis). It
 * writes the node's outputs batched, each with the axis that holds the batch, such that removing
 * that axis leaves the traced output's shape. Rules build with public ops (or re-record the same
 * op with shifted parameters), so the graphs they build can be transformed again. They run in a
 * scope opened by the engine: intermediates need no frees. */
#ifndef LZ_VMAP_IMPL_H
#define LZ_VMAP_IMPL_H

#include "transforms/transforms_impl.h"

/* The batch axis of a value that has none. */
#define LZ__VMAP_NB (-1)

typedef struct lz_vmap_args {
  const char *who;         /* "lz_vmap": for error messages */
  lz_node *node;           /* the traced node: op, params, per-example output shapes */
  lz_array *const *inputs; /* node->ninputs values, batched or not */
  const int *axes;         /* batch axis of each value, or LZ__VMAP_NB */
  int size;                /* the batch size */
} lz_vmap_args;

/* Writes outs[k] (new references, scope-owned) and out_axes[k] for each output of the node.
 * Returns 0 or -1 with an error. */
typedef int (*lz_vmap_rule)(const lz_vmap_args *a, lz_array **outs, int *out_axes);

/* One table per family, indexed by op id; a NULL entry falls back (see lz__vmap_rule). */
LZ_HIDDEN extern const lz_vmap_rule lz__vmap_rules_misc[LZ_OP_COUNT];
LZ_HIDDEN extern const lz_vmap_rule lz__vmap_rules_reduce[LZ_OP_COUNT];
LZ_HIDDEN extern const lz_vmap_rule lz__vmap_rules_shape[LZ_OP_COUNT];
LZ_HIDDEN extern const lz_vmap_rule lz__vmap_rules_linalg[LZ_OP_COUNT];
LZ_HIDDEN extern const lz_vmap_rule lz__vmap_rules_fast[LZ_OP_COUNT]; /* fused, conv, fft, qmm */
LZ_HIDDEN extern const lz_vmap_rule lz__vmap_rules_distributed[LZ_OP_COUNT]; /* collectives */

/* The rule of `op`: its table entry, else the elementwise rule for ops flagged
 * LZ_OPF_ELEMENTWISE, else lz__vmap_fallback. Never NULL. */
LZ_HIDDEN lz_vmap_rule lz__vmap_rule(int op);
/* Whether `op` has a rule of its own (not the fallback loop). For tests and reports. */
LZ_HIDDEN bool lz__vmap_has_rule(int op);

/* Shared rules. Elementwise: batched inputs move their batch to the front and get unit axes
 * so that they broadcast like the traced inputs; the op is re-recorded on them. */
LZ_HIDDEN int lz__vmap_elementwise(const lz_vmap_args *a, lz_array **outs, int *out_axes);
/* The loop every op without a rule uses: for each example, slice the batched inputs, record the
 * op again with the node's parameters (the traced node's shapes apply), then stack the results
 * along axis 0. */
LZ_HIDDEN int lz__vmap_fallback(const lz_vmap_args *a, lz_array **outs, int *out_axes);

/* ---- the engine (vmap_engine.c) ---------------------------------------------------------- */

/* Batches the graph recorded between `leaves` (n arrays; the arrays whose values vals[i] with
 * batch axes axes[i] replace) and outs[0..nout): walks the nodes in topological order (an
 * explicit worklist, never recursion) applying each node's rule. Writes res[j] (borrowed: a
 * value owned by the current scope, one of vals[], or outs[j] itself) and res_axes[j]
 * (LZ__VMAP_NB when output j does not depend on a batched value: then res[j] is outs[j]).
 * Returns 0 or -1. */
LZ_HIDDEN int lz__vmap_graph(const char *who, lz_array *const *leaves, lz_array *const *vals,
                             const int *axes, int n, lz_array *const *outs, int nout, int size,
                             lz_array **res, int *res_axes);

/* ---- helpers for rules (results are new references owned by the current scope) ----------- */

/* x with its batch axis moved to 0. */
LZ_HIDDEN lz_array *lz__vmap_front(lz_array *x, int axis);
/* x with its batch axis moved to 0 and unit axes inserted after it so that x has 1 + rank
 * dims (for broadcasting against a per-example rank `rank`); unbatched x is returned as is. */
LZ_HIDDEN lz_array *lz__vmap_front_rank(lz_array *x, int axis, int rank);
/* x batched along axis 0: moved there, or (unbatched) broadcast to (size, x.shape...). */
LZ_HIDDEN lz_array *lz__vmap_batched(lz_array *x, int axis, int size);
/* Records the node's op again on `ins` with `params` (NULL: the node's), each output k shaped
 * (size, traced shape k) with the traced dtype; sets out_axes to 0. Returns 0 or -1. */
LZ_HIDDEN int lz__vmap_remake(const lz_vmap_args *a, const void *params, lz_array *const *ins,
                              int nin, lz_array **outs, int *out_axes);
/* outs[0] = x, out_axes[0] = axis; 0, or -1 when x is NULL. */
LZ_HIDDEN int lz__vmap_done(lz_array *x, int axis, lz_array **outs, int *out_axes);

#endif /* LZ_VMAP_IMPL_H */
