/* vjp and jvp rules of the collectives (src/distributed/), as MLX's: all_sum passes its
 * cotangent through (each rank differentiates its own copy of the sum) and sums tangents;
 * all_gather's cotangent is this rank's rows of the output's, and it gathers tangents. */
#include "distributed/distributed_impl.h"
#include "transforms/transforms_impl.h"

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

const lz_rule lz__rules_distributed[LZ_OP_COUNT] = {
    [LZ_OP_ALL_SUM] = {vjp_all_sum, jvp_all_sum, NULL},
    [LZ_OP_ALL_GATHER] = {vjp_all_gather, jvp_all_gather, NULL},
};
