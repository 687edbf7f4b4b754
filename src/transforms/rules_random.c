/* vjp and jvp rules of the random ops (ops/random.c, ops/random_discrete.c). Keys carry no
 * derivative, nor do discrete samples; a sample does depend smoothly on the bounds of uniform
 * and truncated_normal (at a fixed key), and a permuted array on the array. */
#include "cpu/random.h"
#include "transforms/rules_util.h"

#include <math.h>

#define OUT (a->node->outputs[0]) /* shape and dtype only: it may be a dropped zombie */
#define RP ((const lz_random_params *)a->node->params)

/* The node's sample: the recorded one, or drawn again with the same key. */
static lz_array *sample(lz_node *n) {
  lz_array *y = lz__node_output(n, 0), *o = n->outputs[0];
  if (y) return y;
  const lz_random_params *p = n->params;
  lz_array *key = n->inputs[0], *lo = n->inputs[1], *hi = n->inputs[2];
  if (n->op == LZ_OP_RANDOM_UNIFORM)
    return lz_random_uniform(lo, hi, o->shape, o->ndim, p->dtype, key);
  return lz_random_truncated_normal(lo, hi, o->shape, o->ndim, p->dtype, key);
}

/* d sample / d low and d sample / d high (broadcast to the sample's shape).
 * uniform: lo + (hi - lo) u, so 1 - u and u.
 * truncated normal: sqrt(2) erfinv(e(lo) + (e(hi) - e(lo)) u) with e(v) = erf(v / sqrt(2)), so
 * (1 - u) exp((x^2 - lo^2) / 2) and u exp((x^2 - hi^2) / 2). */
static void bound_partials(lz_node *n, lz_array **dlo, lz_array **dhi) {
  lz_array *x = sample(n), *lo = n->inputs[1], *hi = n->inputs[2];
  lz_array *u;
  if (n->op == LZ_OP_RANDOM_UNIFORM) {
    u = lz_divide(lz_subtract(x, lo), lz_subtract(hi, lo));
    *dlo = lz_subtract(lz_float(1), u);
    *dhi = u;
    return;
  }
  lz_array *r = lz_scalar(M_SQRT1_2, x->dtype);
  lz_array *el = lz_erf(lz_multiply(lo, r)), *eh = lz_erf(lz_multiply(hi, r));
  u = lz_divide(lz_subtract(lz_erf(lz_multiply(x, r)), el), lz_subtract(eh, el));
  lz_array *x2 = lz_square(x), *half = lz_float(0.5);
  *dlo = lz_multiply(lz_subtract(lz_float(1), u),
                     lz_exp(lz_multiply(lz_subtract(x2, lz_square(lo)), half)));
  *dhi = lz_multiply(u, lz_exp(lz_multiply(lz_subtract(x2, lz_square(hi)), half)));
}

static int vjp_bounded(const lz_vjp_args *a, lz_array **g) {
  lz_array *c = a->cotans[0], *dlo, *dhi;
  g[0] = g[1] = g[2] = NULL;
  bound_partials(a->node, &dlo, &dhi);
  if (a->need[1] && !(g[1] = lz__unbroadcast(a->who, lz_multiply(c, dlo), a->inputs[1])))
    return -1;
  if (a->need[2] && !(g[2] = lz__unbroadcast(a->who, lz_multiply(c, dhi), a->inputs[2])))
    return -1;
  return 0;
}
static int jvp_bounded(const lz_jvp_args *a, lz_array **t) {
  lz_array *tl = a->tangents[1], *th = a->tangents[2], *dlo, *dhi;
  t[0] = NULL;
  if (!tl && !th) return 0;
  bound_partials(a->node, &dlo, &dhi);
  lz_array *p = tl ? lz_multiply(tl, dlo) : NULL, *q = th ? lz_multiply(th, dhi) : NULL;
  t[0] = lz__sum_tangents(p, q, OUT);
  return t[0] ? 0 : -1;
}

/* permutation of an array along an axis: a gather at the positions the same key permutes an
 * index ramp to. The permutation alone (no array input) has no derivative. */
static lz_array *perm_source(lz_node *n) {
  const lz_random_params *p = n->params;
  lz_array *x = n->inputs[1];
  lz_array *ramp = lz__axis_iota(x->shape[p->axis], p->axis, x->ndim);
  ramp = lz_broadcast_to(ramp, x->shape, x->ndim);
  return lz_random_permutation_array(ramp, p->axis, n->inputs[0]);
}
static int vjp_permutation(const lz_vjp_args *a, lz_array **g) {
  int nin = a->node->ninputs;
  for (int i = 0; i < nin; i++) g[i] = NULL;
  if (nin < 2 || !a->need[1]) return 0;
  lz_array *x = a->inputs[1], *coords[LZ_MAX_NDIM];
  lz__along_axis_coords(x, perm_source(a->node), RP->axis, x->shape, coords);
  g[1] = lz__coord_scatter_add(lz_zeros_like(x), coords, x->ndim, a->cotans[0]);
  return g[1] ? 0 : -1;
}
static int jvp_permutation(const lz_jvp_args *a, lz_array **t) {
  t[0] = NULL;
  if (a->node->ninputs < 2 || !a->tangents[1]) return 0;
  t[0] = lz_random_permutation_array(a->tangents[1], RP->axis, a->inputs[0]);
  return t[0] ? 0 : -1;
}

#define ZERO {lz__vjp_zero, lz__jvp_zero, NULL}
const lz_rule lz__rules_random[LZ_OP_COUNT] = {
    [LZ_OP_RANDOM_BITS] = ZERO,
    [LZ_OP_RANDOM_SPLIT] = ZERO,
    [LZ_OP_RANDOM_NORMAL] = ZERO,
    [LZ_OP_RANDOM_GUMBEL] = ZERO,
    [LZ_OP_RANDOM_LAPLACE] = ZERO,
    [LZ_OP_RANDOM_BERNOULLI] = ZERO,
    [LZ_OP_RANDOM_CATEGORICAL] = ZERO,
    [LZ_OP_RANDOM_UNIFORM] = {vjp_bounded, jvp_bounded, NULL},
    [LZ_OP_RANDOM_TRUNCATED_NORMAL] = {vjp_bounded, jvp_bounded, NULL},
    [LZ_OP_RANDOM_PERMUTATION] = {vjp_permutation, jvp_permutation, NULL},
};
