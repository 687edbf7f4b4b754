/* vjp, jvp and vmap rules of the collectives (src/distributed/), as MLX's: all_sum passes its
 * cotangent through (each rank differentiates its own copy of the sum) and sums tangents;
 * all_gather's cotangent is this rank's rows of the output's, and it gathers tangents.
 * Under vmap, all_sum/max/min and send run once on the whole batch (one message, not one per
 * example), keeping the batch axis. all_gather and sum_scatter work on axis 0 of each example,
 * so the batch axis is moved to axis 1 first and stays there; MLX keeps the batch axis where
 * it is, which gathers along the batch when it is axis 0. */
#include "distributed/distributed_impl.h"
#include "transforms/vmap_impl.h"

static lz_group *group_of(const lz_node *n) { return ((const lz_dist_params *)n->params)->group; }

static int vjp_all_sum(const lz_vjp_args *a, lz_array **in_cotans) {
  in_cotans[0] = a->need[0] && a->cotans[0] ? lz_retain(a->cotans[0]) : NULL;
  return 0;
}

static int jvp_all_sum(const lz_jvp_args *a, lz_array **out_tangents) {
  out_tangents[0] = NULL;
  if (!a->tangents[0]) return 0;
  return (out_tangents[0] = lz_all_sum(a->tangents[0], group_of(a->node))) ? 0 : -1;
}

static int vjp_all_gather(const lz_vjp_args *a, lz_array **in_cotans) {
  in_cotans[0] = NULL;
  if (!a->need[0] || !a->cotans[0]) return 0;
  const lz_array *x = a->inputs[0];
  lz_array *c = a->cotans[0];
  int rows = x->ndim ? x->shape[0] : 1, rank = group_of(a->node)->rank;
  int start[LZ_MAX_NDIM] = {0}, stop[LZ_MAX_NDIM];
  for (int d = 0; d < c->ndim; d++) stop[d] = c->shape[d];
  start[0] = rank * rows, stop[0] = start[0] + rows;
  lz_array *s = lz_slice(c, start, stop, NULL, c->ndim);
  if (s && x->ndim == 0) s = lz_reshape(s, NULL, 0);
  return (in_cotans[0] = s) ? 0 : -1;
}

static int jvp_all_gather(const lz_jvp_args *a, lz_array **out_tangents) {
  out_tangents[0] = NULL;
  if (!a->tangents[0]) return 0;
  return (out_tangents[0] = lz_all_gather(a->tangents[0], group_of(a->node))) ? 0 : -1;
}

static int vmap_same_axes(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  const lz_dist_params *p = a->node->params;
  lz_array *x = a->inputs[0], *y = NULL;
  switch (a->node->op) {
  case LZ_OP_ALL_SUM: y = lz_all_sum(x, p->group); break;
  case LZ_OP_ALL_MAX: y = lz_all_max(x, p->group); break;
  case LZ_OP_ALL_MIN: y = lz_all_min(x, p->group); break;
  case LZ_OP_SEND: y = lz_send(x, p->peer, p->group); break;
  default: return lz__vmap_fallback(a, outs, out_axes);
  }
  return lz__vmap_done(y, a->axes[0], outs, out_axes);
}

/* all_gather / sum_scatter on (example axis 0, batch, rest...): the batch at axis 1. */
static int vmap_axis0(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  lz_group *g = group_of(a->node);
  lz_array *x = a->inputs[0];
  if (a->axes[0] == LZ__VMAP_NB || x->ndim + 1 > LZ_MAX_NDIM)
    return lz__vmap_fallback(a, outs, out_axes);
  x = x->ndim == 1 ? lz_expand_dims(x, (int[]){0}, 1) /* a batch of 0-d examples */
                   : lz_moveaxis(x, a->axes[0], 1);
  lz_array *y = a->node->op == LZ_OP_ALL_GATHER ? lz_all_gather(x, g) : lz_sum_scatter(x, g);
  return lz__vmap_done(y, 1, outs, out_axes);
}

const lz_vmap_rule lz__vmap_rules_distributed[LZ_OP_COUNT] = {
    [LZ_OP_ALL_SUM] = vmap_same_axes,   [LZ_OP_ALL_MAX] = vmap_same_axes,
    [LZ_OP_ALL_MIN] = vmap_same_axes,   [LZ_OP_SEND] = vmap_same_axes,
    [LZ_OP_ALL_GATHER] = vmap_axis0,    [LZ_OP_SUM_SCATTER] = vmap_axis0,
};

const lz_rule lz__rules_distributed[LZ_OP_COUNT] = {
    [LZ_OP_ALL_SUM] = {vjp_all_sum, jvp_all_sum, NULL},
    [LZ_OP_ALL_GATHER] = {vjp_all_gather, jvp_all_gather, NULL},
};
