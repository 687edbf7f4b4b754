/* vjp and jvp rules of the reductions and softmax (ops/reduce.c). A reduction's cotangent is
 * reshaped to the kept-dims shape and broadcast back over the reduced axes. */
#include "cpu/reduce.h"
#include "transforms/rules_util.h"

#define X (a->inputs[0])
#define C (a->cotans[0])
#define T (a->tangents[0])
#define P ((const lz_reduce_params *)a->node->params)

/* `c` (the reduction's output shape) reshaped to keep the reduced axes as 1, then broadcast to
 * x's shape. */
static lz_array *expand_back(lz_array *c, const lz_array *x, const lz_reduce_params *p) {
  int kd[LZ_MAX_NDIM];
  memcpy(kd, x->shape, (size_t)x->ndim * sizeof(int));
  for (int i = 0; i < p->naxes; i++) kd[p->axes[i]] = 1;
  return lz_broadcast_to(lz_reshape(c, kd, x->ndim), x->shape, x->ndim);
}
/* The reduction's output with the reduced axes kept (for broadcasting against x). */
static lz_array *keep_dims(lz_array *y, const lz_array *x, const lz_reduce_params *p) {
  int kd[LZ_MAX_NDIM];
  memcpy(kd, x->shape, (size_t)x->ndim * sizeof(int));
  for (int i = 0; i < p->naxes; i++) kd[p->axes[i]] = 1;
  return lz_reshape(y, kd, x->ndim);
}
/* Whether the reduction kept the reduced axes (the params do not say; the shapes do). */
#define KEEP (a->node->outputs[0]->ndim == X->ndim)
static lz_array *sum_kd(lz_array *t, const lz_reduce_params *p, bool keepdims) {
  return lz_sum_axes(t, p->axes, p->naxes, keepdims);
}
#define sum_p(t, p) sum_kd(t, p, KEEP)
static double count(const lz_array *x, const lz_reduce_params *p) {
  double n = 1;
  for (int i = 0; i < p->naxes; i++) n *= x->shape[p->axes[i]];
  return n;
}
static int done(lz_array **slot, lz_array *v, lz_dtype dt) {
  return (*slot = lz_astype(v, dt)) ? 0 : -1;
}
/* The recorded output, or the same reduction recomputed when the user dropped it. */
static lz_array *output(lz_node *node, lz_array *x, lz_array *(*f)(lz_array *, const int *, int,
                                                                    bool)) {
  lz_array *y = lz__node_output(node, 0);
  const lz_reduce_params *p = node->params;
  return y ? y : f(x, p->axes, p->naxes, false);
}

static int vjp_sum(const lz_vjp_args *a, lz_array **g) {
  return done(&g[0], expand_back(C, X, P), X->dtype);
}
static int jvp_sum(const lz_jvp_args *a, lz_array **t) {
  return done(&t[0], sum_p(T, P), a->node->outputs[0]->dtype);
}

static int vjp_mean(const lz_vjp_args *a, lz_array **g) {
  return done(&g[0], lz_divide(expand_back(C, X, P), lz_float(count(X, P))), X->dtype);
}
static int jvp_mean(const lz_jvp_args *a, lz_array **t) {
  return done(&t[0], lz_mean_axes(T, P->axes, P->naxes, KEEP), a->node->outputs[0]->dtype);
}

/* max/min: the cotangent is shared equally by the elements equal to the extreme (as MLX). */
static lz_array *extreme_mask(lz_node *node, lz_array *x, bool is_max) {
  const lz_reduce_params *p = node->params;
  lz_array *y = output(node, x, is_max ? lz_max_axes : lz_min_axes);
  lz_array *mask = lz_astype(lz_equal(x, keep_dims(y, x, p)), x->dtype);
  return lz_divide(mask, lz_sum_axes(mask, p->axes, p->naxes, true));
}
static int vjp_max(const lz_vjp_args *a, lz_array **g) {
  return done(&g[0], lz_multiply(expand_back(C, X, P), extreme_mask(a->node, X, true)), X->dtype);
}
static int jvp_max(const lz_jvp_args *a, lz_array **t) {
  return done(&t[0], sum_p(lz_multiply(T, extreme_mask(a->node, X, true)), P), X->dtype);
}
static int vjp_min(const lz_vjp_args *a, lz_array **g) {
  return done(&g[0], lz_multiply(expand_back(C, X, P), extreme_mask(a->node, X, false)),
              X->dtype);
}
static int jvp_min(const lz_jvp_args *a, lz_array **t) {
  return done(&t[0], sum_p(lz_multiply(T, extreme_mask(a->node, X, false)), P), X->dtype);
}

/* logsumexp: d/dx = exp(x - lse), the softmax over the reduced axes. */
static lz_array *lse_softmax(lz_node *node, lz_array *x) {
  const lz_reduce_params *p = node->params;
  return lz_softmax_axes(x, p->axes, p->naxes, true);
}
static int vjp_logsumexp(const lz_vjp_args *a, lz_array **g) {
  return done(&g[0], lz_multiply(expand_back(C, X, P), lse_softmax(a->node, X)), X->dtype);
}
static int jvp_logsumexp(const lz_jvp_args *a, lz_array **t) {
  return done(&t[0], sum_p(lz_multiply(T, lse_softmax(a->node, X)), P),
              a->node->outputs[0]->dtype);
}

/* var = sum((x - mean)^2) / (N - ddof): d/dx = 2 (x - mean) / (N - ddof); std = sqrt(var). */
static lz_array *var_grad(const lz_reduce_params *p, lz_array *x) {
  lz_array *centred = lz_subtract(x, lz_mean_axes(x, p->axes, p->naxes, true));
  return lz_multiply(centred, lz_float(2.0 / (count(x, p) - p->ddof)));
}
static lz_array *std_scale(lz_node *node, lz_array *x) { /* 1 / (2 std), kept dims */
  const lz_reduce_params *p = node->params;
  lz_array *y = lz__node_output(node, 0);
  if (!y) y = lz_std_axes(x, p->axes, p->naxes, false, p->ddof);
  return lz_divide(lz_float(0.5), keep_dims(y, x, p));
}
static int vjp_var(const lz_vjp_args *a, lz_array **g) {
  return done(&g[0], lz_multiply(expand_back(C, X, P), var_grad(P, X)), X->dtype);
}
static int jvp_var(const lz_jvp_args *a, lz_array **t) {
  return done(&t[0], sum_p(lz_multiply(T, var_grad(P, X)), P), a->node->outputs[0]->dtype);
}
static int vjp_std(const lz_vjp_args *a, lz_array **g) {
  lz_array *d = lz_multiply(var_grad(P, X), std_scale(a->node, X));
  return done(&g[0], lz_multiply(expand_back(C, X, P), d), X->dtype);
}
static int jvp_std(const lz_jvp_args *a, lz_array **t) {
  lz_array *d = lz_multiply(var_grad(P, X), std_scale(a->node, X));
  return done(&t[0], sum_p(lz_multiply(T, d), P), a->node->outputs[0]->dtype);
}

/* softmax y: vjp = y * (c - sum(c * y)), jvp = y * (t - sum(t * y)) over the axes. */
static lz_array *softmax_out(lz_node *node, lz_array *x) {
  const lz_reduce_params *p = node->params;
  lz_array *y = lz__node_output(node, 0);
  return y ? y : lz_softmax_axes(x, p->axes, p->naxes, true);
}
static lz_array *softmax_rule(lz_node *node, lz_array *x, lz_array *v) {
  const lz_reduce_params *p = node->params;
  lz_array *y = softmax_out(node, x);
  lz_array *s = lz_sum_axes(lz_multiply(v, y), p->axes, p->naxes, true);
  return lz_multiply(y, lz_subtract(v, s));
}
static int vjp_softmax(const lz_vjp_args *a, lz_array **g) {
  return done(&g[0], softmax_rule(a->node, X, C), X->dtype);
}
static int jvp_softmax(const lz_jvp_args *a, lz_array **t) {
  return done(&t[0], softmax_rule(a->node, X, T), a->node->outputs[0]->dtype);
}

/* prod: d/dx_j = the product of the other elements, as an exclusive product from each side
 * of the reduced elements (merged into one last axis), so zeros need no division. */
static lz_array *prod_others(lz_node *node, lz_array *x) {
  const lz_reduce_params *p = node->params;
  int perm[LZ_MAX_NDIM];
  lz_array *m = lz__merge_axes_last(x, p->axes, p->naxes, perm);
  lz_array *o = lz_multiply(lz_cumprod(m, -1, false, false), lz_cumprod(m, -1, true, false));
  return lz__split_axes_last(o, x, perm);
}
static int vjp_prod(const lz_vjp_args *a, lz_array **g) {
  return done(&g[0], lz_multiply(expand_back(C, X, P), prod_others(a->node, X)), X->dtype);
}
static int jvp_prod(const lz_jvp_args *a, lz_array **t) {
  return done(&t[0], sum_p(lz_multiply(T, prod_others(a->node, X)), P),
              a->node->outputs[0]->dtype);
}

/* median: the mean of the middle one or two elements of the sorted reduced elements (merged
 * into one last axis); derivatives go to those elements. Returns their indices in the merged
 * x (*xm) and the merge permutation. */
static lz_array *median_source(lz_node *node, lz_array *x, lz_array **xm, int *perm) {
  const lz_reduce_params *p = node->params;
  *xm = lz__merge_axes_last(x, p->axes, p->naxes, perm);
  if (!*xm) return NULL;
  int nd = (*xm)->ndim, r = (*xm)->shape[nd - 1], s[LZ_MAX_NDIM], e[LZ_MAX_NDIM];
  lz_array *idx = lz_argsort_axis(*xm, -1);
  for (int d = 0; d < nd; d++) s[d] = 0, e[d] = (*xm)->shape[d];
  s[nd - 1] = r % 2 ? r / 2 : r / 2 - 1, e[nd - 1] = r / 2 + 1;
  return lz_slice(idx, s, e, NULL, nd);
}
static int vjp_median(const lz_vjp_args *a, lz_array **g) {
  int perm[LZ_MAX_NDIM], shape[LZ_MAX_NDIM];
  lz_array *xm, *sel = median_source(a->node, X, &xm, perm), *coords[LZ_MAX_NDIM];
  if (!sel) return -1;
  int nd = xm->ndim, k = sel->shape[nd - 1];
  memcpy(shape, xm->shape, (size_t)nd * sizeof(int));
  shape[nd - 1] = 1;
  lz_array *c = lz_divide(lz_reshape(C, shape, nd), lz_float(k));
  lz__along_axis_coords(xm, sel, nd - 1, sel->shape, coords);
  lz_array *gm = lz__coord_scatter_add(lz_zeros_like(xm), coords, nd, lz_astype(c, X->dtype));
  return done(&g[0], lz__split_axes_last(gm, X, perm), X->dtype);
}
static int jvp_median(const lz_jvp_args *a, lz_array **t) {
  int perm[LZ_MAX_NDIM];
  lz_array *xm, *sel = median_source(a->node, X, &xm, perm);
  lz_array *tm = lz__merge_axes_last(T, P->axes, P->naxes, perm);
  lz_array *r = lz_mean_axis(lz_take_along_axis(tm, sel, -1), -1, false);
  lz_array *out = a->node->outputs[0];
  return done(&t[0], lz_reshape(r, out->shape, out->ndim), out->dtype);
}

/* trace: the cotangent lands on the diagonal of (axis1, axis2). */
static int vjp_trace(const lz_vjp_args *a, lz_array **g) {
  const lz_trace_params *p = a->node->params;
  int a1 = p->axis1, a2 = p->axis2, nd = X->ndim, cs[LZ_MAX_NDIM], ms[LZ_MAX_NDIM];
  lz_array *eye = lz_eye(X->shape[a1], X->shape[a2], p->offset, X->dtype);
  if (a1 > a2) eye = lz_transpose(eye, NULL, 0);
  for (int d = 0; d < nd; d++) {
    bool diag = d == a1 || d == a2;
    cs[d] = diag ? 1 : X->shape[d];
    ms[d] = diag ? X->shape[d] : 1;
  }
  lz_array *m = lz_multiply(lz_reshape(C, cs, nd), lz_reshape(eye, ms, nd));
  return done(&g[0], lz_broadcast_to(m, X->shape, nd), X->dtype);
}
static int jvp_trace(const lz_jvp_args *a, lz_array **t) {
  const lz_trace_params *p = a->node->params;
  return done(&t[0], lz_trace(T, p->offset, p->axis1, p->axis2), a->node->outputs[0]->dtype);
}

#define ZERO {lz__vjp_zero, lz__jvp_zero, NULL}
const lz_rule lz__rules_reduce[LZ_OP_COUNT] = {
    [LZ_OP_SUM] = {vjp_sum, jvp_sum, NULL},
    [LZ_OP_MEAN] = {vjp_mean, jvp_mean, NULL},
    [LZ_OP_MAX] = {vjp_max, jvp_max, NULL},
    [LZ_OP_MIN] = {vjp_min, jvp_min, NULL},
    [LZ_OP_LOGSUMEXP] = {vjp_logsumexp, jvp_logsumexp, NULL},
    [LZ_OP_VAR] = {vjp_var, jvp_var, NULL},
    [LZ_OP_STD] = {vjp_std, jvp_std, NULL},
    [LZ_OP_SOFTMAX] = {vjp_softmax, jvp_softmax, NULL},
    [LZ_OP_PROD] = {vjp_prod, jvp_prod, NULL},
    [LZ_OP_MEDIAN] = {vjp_median, jvp_median, NULL},
    [LZ_OP_TRACE] = {vjp_trace, jvp_trace, NULL},
    [LZ_OP_ALL] = ZERO,
    [LZ_OP_ANY] = ZERO,
    [LZ_OP_COUNT_NONZERO] = ZERO,
    [LZ_OP_ARGMAX] = ZERO,
    [LZ_OP_ARGMIN] = ZERO,
};
