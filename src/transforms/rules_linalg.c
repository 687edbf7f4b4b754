/* vjp and jvp rules of matmul (ops/matmul.c). 1-d operands are treated as (1,K) and (K,1)
 * matrices; batch axes that broadcasting added are summed out of the cotangents. */
#include "transforms/transforms_impl.h"

#define A (a->inputs[0])
#define B (a->inputs[1])
#define C (a->cotans[0])

static lz_array *as_matrix(lz_array *x, bool is_left) {
  if (x->ndim != 1) return lz_retain(x);
  int s[2] = {is_left ? 1 : x->shape[0], is_left ? x->shape[0] : 1};
  return lz_reshape(x, s, 2);
}

static int vjp_matmul(const lz_vjp_args *a, lz_array **g) {
  lz_array *a2 = as_matrix(A, true), *b2 = as_matrix(B, false);
  if (!a2 || !b2) return -1;
  int s[LZ_MAX_NDIM], nd = C->ndim;
  memcpy(s, C->shape, (size_t)nd * sizeof(int));
  if (A->ndim == 1 && B->ndim == 1) s[0] = 1, s[1] = 1, nd = 2;
  else if (A->ndim == 1) s[nd] = s[nd - 1], s[nd - 1] = 1, nd++;
  else if (B->ndim == 1) s[nd++] = 1;
  lz_array *c2 = lz_reshape(C, s, nd);
  g[0] = g[1] = NULL;
  if (a->need[0]) {
    lz_array *d = lz_matmul(c2, lz_swapaxes(b2, -1, -2));
    if (!(g[0] = lz_reshape(lz__unbroadcast(a->who, d, a2), A->shape, A->ndim))) return -1;
  }
  if (a->need[1]) {
    lz_array *d = lz_matmul(lz_swapaxes(a2, -1, -2), c2);
    if (!(g[1] = lz_reshape(lz__unbroadcast(a->who, d, b2), B->shape, B->ndim))) return -1;
  }
  return 0;
}

static int jvp_matmul(const lz_jvp_args *a, lz_array **t) {
  lz_array *ta = a->tangents[0], *tb = a->tangents[1];
  lz_array *p = ta ? lz_matmul(ta, B) : NULL, *q = tb ? lz_matmul(A, tb) : NULL;
  t[0] = lz__sum_tangents(p, q, a->node->outputs[0]);
  return t[0] ? 0 : -1;
}

const lz_rule lz__rules_linalg[LZ_OP_COUNT] = {
    [LZ_OP_MATMUL] = {vjp_matmul, jvp_matmul, NULL},
};
