/* vmap rules of matmul, addmm, contractions (einsum, tensordot, outer), tril/triu and the
 * linalg ops. Batch dims are natural for all of them: the batch moves to axis 0 (with unit
 * axes where operands must line up) and the op runs on the batched operands. */
#include "cpu/linalg.h"
#include "cpu/matmul.h"
#include "transforms/vmap_impl.h"

#define OUT (a->node->outputs[0]) /* shape only */

/* (size, shape...) of output k into dst; returns its ndim. */
static int batched_out_shape(const lz_vmap_args *a, int k, int *dst) {
  const lz_array *o = a->node->outputs[k];
  dst[0] = a->size;
  memcpy(dst + 1, o->shape, (size_t)o->ndim * sizeof(int));
  return o->ndim + 1;
}

/* The operands of a batched a @ b: a vector example becomes a (1,K) row or a (K,1) column
 * and batch dims are padded so that the batch axes line up. The product, reshaped to
 * (B, traced shape), is the batched result. */
static void matmul_operands(const lz_vmap_args *a, lz_array **pa, lz_array **pb) {
  lz_array *x = a->inputs[0], *y = a->inputs[1];
  int ax = a->axes[0], ay = a->axes[1];
  int ra = a->node->inputs[0]->ndim, rb = a->node->inputs[1]->ndim;
  if (ax != LZ__VMAP_NB) {
    x = lz__vmap_front(x, ax);
    if (ra == 1) x = lz_expand_dims(x, (int[]){1}, 1), ra = 2;
  }
  if (ay != LZ__VMAP_NB) {
    y = lz__vmap_front(y, ay);
    if (rb == 1) y = lz_expand_dims(y, (int[]){2}, 1), rb = 2;
  }
  int nb = ra > rb ? ra : rb;
  if (ax != LZ__VMAP_NB) x = lz__vmap_front_rank(x, 0, nb);
  if (ay != LZ__VMAP_NB) y = lz__vmap_front_rank(y, 0, nb);
  *pa = x, *pb = y;
}

static int vmap_matmul(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  lz_array *x, *y;
  matmul_operands(a, &x, &y);
  int shape[LZ_MAX_NDIM + 1];
  int nd = batched_out_shape(a, 0, shape);
  return lz__vmap_done(lz_reshape(lz_matmul(x, y), shape, nd), 0, outs, out_axes);
}

/* addmm(c, a, b) = alpha a @ b + beta c: c is broadcast to the traced output, batched, and
 * reshaped like the batched product. */
static int vmap_addmm(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  const lz_addmm_params *p = a->node->params;
  lz_array *x, *y;
  matmul_operands(a, &x, &y);
  lz_array *mm = lz_matmul(x, y); /* for its shape only: it is never evaluated */
  if (!mm) return -1;
  int shape[LZ_MAX_NDIM + 1];
  int nd = batched_out_shape(a, 0, shape);
  lz_array *c = a->inputs[2];
  int ac = a->axes[2];
  if (ac == LZ__VMAP_NB) {
    c = lz_reshape(lz_broadcast_to(c, shape + 1, nd - 1), mm->shape + 1, mm->ndim - 1);
  } else {
    c = lz_broadcast_to(lz__vmap_front_rank(c, ac, nd - 1), shape, nd);
    c = lz_reshape(c, mm->shape, mm->ndim);
  }
  lz_array *r = lz_addmm(c, x, y, p->alpha, p->beta);
  return lz__vmap_done(lz_reshape(r, shape, nd), 0, outs, out_axes);
}

/* contract: the batch gets a label of its own, first in the output. */
static int vmap_contract(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  lz_contract_params p = *(const lz_contract_params *)a->node->params;
  int nin = a->node->ninputs;
  bool used[64] = {false};
  const int8_t *labels[2] = {p.la, p.lb};
  for (int i = 0; i < nin; i++)
    for (int d = 0; d < a->node->inputs[i]->ndim; d++) used[labels[i][d] & 63] = true;
  for (int d = 0; d < p.nout; d++) used[p.lo[d] & 63] = true;
  int L = 0;
  while (L < 64 && used[L]) L++;
  if (L == 64 || p.nout + 1 > LZ_MAX_NDIM) return lz__vmap_fallback(a, outs, out_axes);
  lz_contract_params q = p;
  int8_t *ql[2] = {q.la, q.lb};
  lz_array *ins[2];
  for (int i = 0; i < nin; i++) {
    int r = a->node->inputs[i]->ndim;
    if (a->axes[i] == LZ__VMAP_NB) {
      ins[i] = a->inputs[i];
      continue;
    }
    if (r + 1 > LZ_MAX_NDIM) return lz__vmap_fallback(a, outs, out_axes);
    ins[i] = lz__vmap_front(a->inputs[i], a->axes[i]);
    ql[i][0] = (int8_t)L;
    memcpy(ql[i] + 1, labels[i], (size_t)r);
  }
  q.lo[0] = (int8_t)L;
  memcpy(q.lo + 1, p.lo, (size_t)p.nout);
  q.nout = (int8_t)(p.nout + 1);
  return lz__vmap_remake(a, &q, ins, nin, outs, out_axes);
}

/* Ops on the last one or two dims with any batch dims before them. */
static int vmap_leading(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  lz_array *x = lz__vmap_front(a->inputs[0], a->axes[0]);
  return lz__vmap_remake(a, NULL, &x, 1, outs, out_axes);
}

/* solve(a, b): both batched with equal batch ranks, so the vector/matrix reading of b holds. */
static int vmap_solve(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  const lz_linalg_flag_params *p = a->node->params;
  int core = (p->flag & 2) ? 1 : 2, nb = OUT->ndim - core;
  lz_array *ins[2];
  ins[0] = lz__vmap_front_rank(lz__vmap_batched(a->inputs[0], a->axes[0], a->size), 0, nb + 2);
  ins[1] = lz__vmap_front_rank(lz__vmap_batched(a->inputs[1], a->axes[1], a->size), 0, nb + core);
  return lz__vmap_remake(a, NULL, ins, 2, outs, out_axes);
}

/* cross: broadcasting like an elementwise op, the axis shifted by one. */
static int vmap_cross(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  lz_cross_params p = *(const lz_cross_params *)a->node->params;
  p.axis += 1;
  lz_array *ins[2];
  for (int i = 0; i < 2; i++) ins[i] = lz__vmap_front_rank(a->inputs[i], a->axes[i], OUT->ndim);
  return lz__vmap_remake(a, &p, ins, 2, outs, out_axes);
}

/* norm over listed axes; over every element (naxes 0) the loop is used. */
static int vmap_norm(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  lz_linalg_norm_params p = *(const lz_linalg_norm_params *)a->node->params;
  if (p.naxes == 0) return lz__vmap_fallback(a, outs, out_axes);
  for (int i = 0; i < p.naxes; i++) p.axes[i] += 1;
  lz_array *x = lz__vmap_front(a->inputs[0], a->axes[0]);
  return lz__vmap_remake(a, &p, &x, 1, outs, out_axes);
}

const lz_vmap_rule lz__vmap_rules_linalg[LZ_OP_COUNT] = {
    [LZ_OP_MATMUL] = vmap_matmul,
    [LZ_OP_ADDMM] = vmap_addmm,
    [LZ_OP_CONTRACT] = vmap_contract,
    [LZ_OP_TRIL] = vmap_leading,
    [LZ_OP_TRIU] = vmap_leading,
    [LZ_OP_LINALG_QR] = vmap_leading,
    [LZ_OP_LINALG_SVD] = vmap_leading,
    [LZ_OP_LINALG_INV] = vmap_leading,
    [LZ_OP_LINALG_PINV] = vmap_leading,
    [LZ_OP_LINALG_TRI_INV] = vmap_leading,
    [LZ_OP_LINALG_CHOLESKY] = vmap_leading,
    [LZ_OP_LINALG_CHOLESKY_INV] = vmap_leading,
    [LZ_OP_LINALG_LU] = vmap_leading,
    [LZ_OP_LINALG_LU_FACTOR] = vmap_leading,
    [LZ_OP_LINALG_EIGH] = vmap_leading,
    [LZ_OP_LINALG_EIG] = vmap_leading,
    [LZ_OP_LINALG_DET] = vmap_leading,
    [LZ_OP_LINALG_SLOGDET] = vmap_leading,
    [LZ_OP_LINALG_SOLVE] = vmap_solve,
    [LZ_OP_LINALG_SOLVE_TRIANGULAR] = vmap_solve,
    [LZ_OP_LINALG_CROSS] = vmap_cross,
    [LZ_OP_LINALG_NORM] = vmap_norm,
};
