/* vjp and jvp rules of the shape ops (ops/shape_*.c): views whose derivatives are the inverse
 * view of the cotangent, or the same view of the tangent. */
#include "cpu/shape.h"
#include "transforms/transforms_impl.h"

#define X (a->inputs[0])
#define C (a->cotans[0])
#define T (a->tangents[0])
#define OUT (a->node->outputs[0]) /* shape only: it may be a dropped zombie */

static int done(lz_array **slot, lz_array *v) { return (*slot = v) ? 0 : -1; }

static int vjp_reshape(const lz_vjp_args *a, lz_array **g) {
  return done(&g[0], lz_reshape(C, X->shape, X->ndim));
}
static int jvp_reshape(const lz_jvp_args *a, lz_array **t) {
  return done(&t[0], lz_reshape(T, OUT->shape, OUT->ndim));
}

static int vjp_transpose(const lz_vjp_args *a, lz_array **g) {
  const lz_transpose_params *p = a->node->params;
  int inv[LZ_MAX_NDIM];
  for (int d = 0; d < X->ndim; d++) inv[p->perm[d]] = d;
  return done(&g[0], lz_transpose(C, inv, X->ndim));
}
static int jvp_transpose(const lz_jvp_args *a, lz_array **t) {
  const lz_transpose_params *p = a->node->params;
  return done(&t[0], lz_transpose(T, p->perm, X->ndim));
}

static int vjp_broadcast_to(const lz_vjp_args *a, lz_array **g) {
  return done(&g[0], lz__unbroadcast(a->who, C, X));
}
static int jvp_broadcast_to(const lz_jvp_args *a, lz_array **t) {
  return done(&t[0], lz_broadcast_to(T, OUT->shape, OUT->ndim));
}

static int vjp_contiguous(const lz_vjp_args *a, lz_array **g) { return done(&g[0], lz_retain(C)); }
static int jvp_contiguous(const lz_jvp_args *a, lz_array **t) { return done(&t[0], lz_retain(T)); }

const lz_rule lz__rules_shape[LZ_OP_COUNT] = {
    [LZ_OP_RESHAPE] = {vjp_reshape, jvp_reshape, NULL},
    [LZ_OP_TRANSPOSE] = {vjp_transpose, jvp_transpose, NULL},
    [LZ_OP_BROADCAST_TO] = {vjp_broadcast_to, jvp_broadcast_to, NULL},
    [LZ_OP_CONTIGUOUS] = {vjp_contiguous, jvp_contiguous, NULL},
};
