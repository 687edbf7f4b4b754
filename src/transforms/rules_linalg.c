/* vjp and jvp rules of the matmul family (ops/matmul.c, ops/einsum.c): matmul and addmm (1-d
 * operands are treated as (1,K) and (K,1) matrices; batch axes that broadcasting added are
 * summed out of the cotangents) and the labelled contraction behind einsum, tensordot, inner
 * and outer. */
#include "cpu/matmul.h"
#include "ops/matmul_impl.h"
#include "transforms/rules_util.h"

#define A (a->inputs[0])
#define B (a->inputs[1])
#define C (a->cotans[0])

static lz_array *as_matrix(lz_array *x, bool is_left) {
  if (x->ndim != 1) return lz_retain(x);
  int s[2] = {is_left ? 1 : x->shape[0], is_left ? x->shape[0] : 1};
  return lz_reshape(x, s, 2);
}

/* The cotangents of a @ b for the cotangent C of the product (g[0], g[1] when needed). */
static int matmul_grads(const lz_vjp_args *a, lz_array *C_, lz_array **g) {
#undef C
#define C C_
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
  if (a->need[1] && B->ndim == 2 && a2->ndim > 2 && A->shape[A->ndim - 1] > 0) {
    /* a weight shared by every batch (x (..., M, K) @ w (K, N), as in a linear layer): one
     * (K, rows) @ (rows, N) product over all rows instead of a batched product and a sum over
     * the batch (the same FLOPs as one large GEMM, no batch-sized intermediate) */
    int k = a2->shape[a2->ndim - 1], n = c2->shape[c2->ndim - 1];
    lz_array *af = lz_reshape(a2, (int[]){-1, k}, 2), *cf = lz_reshape(c2, (int[]){-1, n}, 2);
    if (!(g[1] = lz_matmul(lz_swapaxes(af, -1, -2), cf))) return -1;
  } else if (a->need[1]) {
    lz_array *d = lz_matmul(lz_swapaxes(a2, -1, -2), c2);
    if (!(g[1] = lz_reshape(lz__unbroadcast(a->who, d, b2), B->shape, B->ndim))) return -1;
  }
  return 0;
#undef C
#define C (a->cotans[0])
}

static int vjp_matmul(const lz_vjp_args *a, lz_array **g) { return matmul_grads(a, C, g); }

static int jvp_matmul(const lz_jvp_args *a, lz_array **t) {
  lz_array *ta = a->tangents[0], *tb = a->tangents[1];
  lz_array *p = ta ? lz_matmul(ta, B) : NULL, *q = tb ? lz_matmul(A, tb) : NULL;
  t[0] = lz__sum_tangents(p, q, a->node->outputs[0]);
  return t[0] ? 0 : -1;
}

/* addmm: alpha (a @ b) + beta c. */
static int vjp_addmm(const lz_vjp_args *a, lz_array **g) {
  const lz_addmm_params *p = a->node->params;
  lz_array *c = a->inputs[2];
  g[2] = NULL;
  if (matmul_grads(a, lz_multiply(C, lz_scalar(p->alpha, C->dtype)), g) != 0) return -1;
  if (a->need[2]) {
    lz_array *s = lz_multiply(C, lz_scalar(p->beta, C->dtype));
    if (!(g[2] = lz__unbroadcast(a->who, s, c))) return -1;
  }
  return 0;
}
static int jvp_addmm(const lz_jvp_args *a, lz_array **t) {
  const lz_addmm_params *p = a->node->params;
  lz_array *ta = a->tangents[0], *tb = a->tangents[1], *tc = a->tangents[2];
  lz_array *out = a->node->outputs[0];
  lz_array *m = lz__sum_tangents(ta ? lz_matmul(ta, B) : NULL, tb ? lz_matmul(A, tb) : NULL, out);
  if (m) m = lz_multiply(m, lz_scalar(p->alpha, out->dtype));
  if (tc) tc = lz_multiply(tc, lz_scalar(p->beta, out->dtype));
  t[0] = lz__sum_tangents(m, tc, out);
  return t[0] ? 0 : -1;
}

/* ---- contract: einsum's pairwise step, tensordot, inner, outer ----------------------------- */

/* The size of every label of a contraction node. */
static void label_sizes(const lz_node *n, const lz_contract_params *p, int64_t *size) {
  for (int l = 0; l < 64; l++) size[l] = 1;
  for (int d = 0; d < n->inputs[0]->ndim; d++) size[p->la[d]] = n->inputs[0]->shape[d];
  if (n->ninputs > 1)
    for (int d = 0; d < n->inputs[1]->ndim; d++) size[p->lb[d]] = n->inputs[1]->shape[d];
}

static bool has_label(const int8_t *labels, int n, int8_t l) {
  for (int i = 0; i < n; i++)
    if (labels[i] == l) return true;
  return false;
}

/* The cotangent of operand `x` (labels lx) of a contraction whose output (labels lo, nout) has
 * cotangent c, the other operand being `y` (labels ly; NULL for one operand): c contracted with
 * y onto x's distinct labels, broadcast over labels only x has, and placed on the diagonal of
 * x's repeated labels. */
static lz_array *contract_grad(const lz_node *node, lz_array *c, lz_array *x, const int8_t *lx,
                               lz_array *y, const int8_t *ly) {
  const lz_contract_params *p = node->params;
  int64_t size[64];
  label_sizes(node, p, size);
  int nout = p->nout, ny = y ? y->ndim : 0;
  int cs[LZ_MAX_NDIM];
  for (int i = 0; i < nout; i++) cs[i] = (int)size[p->lo[i]];
  lz_array *cr = lz_reshape(c, cs, nout);
  /* x's distinct labels in first-occurrence order; those the others know are kept */
  int8_t dl[LZ_MAX_NDIM], kept[LZ_MAX_NDIM];
  int nd = 0, nk = 0, ks[LZ_MAX_NDIM], full[LZ_MAX_NDIM], part[LZ_MAX_NDIM];
  for (int d = 0; d < x->ndim; d++)
    if (!has_label(dl, nd, lx[d])) dl[nd++] = lx[d];
  for (int i = 0; i < nd; i++) {
    bool known = has_label(p->lo, nout, dl[i]) || (y && has_label(ly, ny, dl[i]));
    full[i] = (int)size[dl[i]];
    part[i] = known ? full[i] : 1;
    if (known) kept[nk] = dl[i], ks[nk++] = full[i];
  }
  lz_array *gk = lz__contract(cr, y, p->lo, ly, kept, nk, node->outputs[0]->dtype, ks, nk);
  lz_array *gd = lz_broadcast_to(lz_reshape(gk, part, nd), full, nd);
  /* repeated labels: gd's axes, in first-occurrence order, become x's axes; a repeat is a new
   * axis holding the same index (an identity mask) */
  int shape[LZ_MAX_NDIM], first[LZ_MAX_NDIM];
  for (int d = 0; d < x->ndim; d++) {
    first[d] = -1;
    for (int e = 0; e < d && first[d] < 0; e++)
      if (lx[e] == lx[d]) first[d] = e;
    shape[d] = first[d] < 0 ? x->shape[d] : 1;
  }
  lz_array *g = lz_reshape(gd, shape, x->ndim);
  for (int d = 0; d < x->ndim; d++) {
    if (first[d] < 0) continue;
    int ms[LZ_MAX_NDIM], n = x->shape[d];
    for (int e = 0; e < x->ndim; e++) ms[e] = e == d || e == first[d] ? n : 1;
    g = lz_multiply(g, lz_reshape(lz_eye(n, n, 0, g ? g->dtype : LZ_FLOAT32), ms, x->ndim));
  }
  return lz_astype(lz_broadcast_to(g, x->shape, x->ndim), x->dtype);
}

static int vjp_contract(const lz_vjp_args *a, lz_array **g) {
  const lz_contract_params *p = a->node->params;
  bool two = a->node->ninputs > 1;
  g[0] = NULL;
  if (two) g[1] = NULL;
  if (a->need[0] && !(g[0] = contract_grad(a->node, C, A, p->la, two ? B : NULL, p->lb)))
    return -1;
  if (two && a->need[1] && !(g[1] = contract_grad(a->node, C, B, p->lb, A, p->la))) return -1;
  return 0;
}
static int jvp_contract(const lz_jvp_args *a, lz_array **t) {
  const lz_contract_params *p = a->node->params;
  lz_array *out = a->node->outputs[0], *ta = a->tangents[0], *r = NULL, *q = NULL;
  bool two = a->node->ninputs > 1;
  lz_array *tb = two ? a->tangents[1] : NULL;
  if (ta) {
    r = lz__contract(lz_astype(ta, A->dtype), two ? B : NULL, p->la, p->lb, p->lo, p->nout,
                     out->dtype, out->shape, out->ndim);
  }
  if (tb) {
    q = lz__contract(A, lz_astype(tb, B->dtype), p->la, p->lb, p->lo, p->nout, out->dtype,
                     out->shape, out->ndim);
  }
  t[0] = lz__sum_tangents(r, q, out);
  return t[0] ? 0 : -1;
}

const lz_rule lz__rules_linalg[LZ_OP_COUNT] = {
    [LZ_OP_MATMUL] = {vjp_matmul, jvp_matmul, NULL},
    [LZ_OP_ADDMM] = {vjp_addmm, jvp_addmm, NULL},
    [LZ_OP_CONTRACT] = {vjp_contract, jvp_contract, NULL},
};
