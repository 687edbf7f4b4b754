/* vjp and jvp rules of the scans, diff and the sorts (ops/scan.c, ops/sort.c). A scan's
 * cotangent runs the scan the other way; cummax/cummin and the sorts route derivatives through
 * the index each output element was read from. Index outputs (argsort, argpartition,
 * searchsorted) carry no derivative. */
#include "cpu/reduce.h"
#include "transforms/rules_util.h"

#define X (a->inputs[0])
#define C (a->cotans[0])
#define T (a->tangents[0])
#define P ((const lz_axis_params *)a->node->params)
#define OUT (a->node->outputs[0]) /* shape and dtype only: it may be a dropped zombie */

static int done(lz_array **slot, lz_array *v, lz_dtype dt) {
  return (*slot = lz_astype(v, dt)) ? 0 : -1;
}

/* The scan's output: the recorded one, or the scan recomputed when the user dropped it. */
static lz_array *scan_out(lz_node *node,
                          lz_array *(*f)(lz_array *, int, bool, bool)) {
  const lz_axis_params *p = node->params;
  lz_array *y = lz__node_output(node, 0);
  return y ? y : f(node->inputs[0], p->axis, p->reverse, p->inclusive);
}

/* ---- cumsum, cumprod, logcumsumexp ---------------------------------------------------------- */

static int vjp_cumsum(const lz_vjp_args *a, lz_array **g) {
  return done(&g[0], lz_cumsum(C, P->axis, !P->reverse, P->inclusive), X->dtype);
}
static int jvp_cumsum(const lz_jvp_args *a, lz_array **t) {
  return done(&t[0], lz_cumsum(T, P->axis, P->reverse, P->inclusive), OUT->dtype);
}

/* y_i = prod of x_j over the scanned j. Before the lane's first zero dy_i/dx_j = y_i / x_j;
 * every product past it holds that zero, so only the first zero itself still has a derivative:
 * the products with it replaced by one (MLX's rule, exact where the input has zeros). The
 * divisions read one where they are masked out, so no 0/0 reaches a higher derivative; as in
 * MLX, the positions past the first zero get a constant zero, so no second derivative. */
typedef struct prod_masks {
  lz_array *y;        /* the scan's output */
  lz_array *seen;     /* the inclusive product is zero: the lane's first zero is at or before */
  lz_array *first;    /* the lane's first zero */
  lz_array *y_one;    /* the scan with the first zero replaced by one */
  lz_array *x_safe;   /* x, with one where `seen` */
} prod_masks;

static prod_masks cumprod_masks(lz_node *node) {
  const lz_axis_params *p = node->params;
  lz_array *x = node->inputs[0];
  prod_masks m;
  m.y = scan_out(node, lz_cumprod);
  lz_array *other = lz_cumprod(x, p->axis, p->reverse, !p->inclusive);
  lz_array *incl = p->inclusive ? m.y : other, *excl = p->inclusive ? other : m.y;
  m.seen = lz_equal(incl, lz_float(0));
  m.first = lz_logical_and(m.seen, lz_not_equal(excl, lz_float(0)));
  m.y_one = lz_cumprod(lz_where(m.first, lz_float(1), x), p->axis, p->reverse, p->inclusive);
  m.x_safe = lz_where(m.seen, lz_float(1), x);
  return m;
}

static int vjp_cumprod(const lz_vjp_args *a, lz_array **g) {
  prod_masks m = cumprod_masks(a->node);
  lz_array *with_one = lz_cumsum(lz_multiply(m.y_one, C), P->axis, !P->reverse, P->inclusive);
  lz_array *plain = lz_divide(lz_cumsum(lz_multiply(m.y, C), P->axis, !P->reverse, P->inclusive),
                              m.x_safe);
  lz_array *r = lz_where(m.first, with_one, lz_where(m.seen, lz_float(0), plain));
  return done(&g[0], r, X->dtype);
}
/* The tangent of y_i is y_i * sum t_j / x_j over its range while that holds no zero, and
 * t_z times the product of the others once it holds the first zero z. */
static int jvp_cumprod(const lz_jvp_args *a, lz_array **t) {
  prod_masks m = cumprod_masks(a->node);
  lz_array *zero = lz_float(0);
  lz_array *before = lz_cumsum(lz_where(m.seen, zero, lz_divide(T, m.x_safe)), P->axis,
                               P->reverse, P->inclusive);
  lz_array *at = lz_cumsum(lz_where(m.first, T, zero), P->axis, P->reverse, P->inclusive);
  lz_array *s = lz_where(lz_equal(m.y, zero), at, before);
  return done(&t[0], lz_multiply(m.y_one, s), OUT->dtype);
}

/* y_i = log sum exp(x_j): dy_i/dx_j = exp(x_j - y_i), computed around the lane's maximum m.
 * An exclusive scan's first element (-inf) has no derivative. */
static int vjp_logcumsumexp(const lz_vjp_args *a, lz_array **g) {
  lz_array *y = scan_out(a->node, lz_logcumsumexp), *m = lz_max_axis(X, P->axis, true);
  lz_array *w = lz_multiply(C, lz_exp(lz_subtract(m, y)));
  w = lz_where(lz_isneginf(y), lz_float(0), w);
  lz_array *s = lz_cumsum(w, P->axis, !P->reverse, P->inclusive);
  return done(&g[0], lz_multiply(lz_exp(lz_subtract(X, m)), s), X->dtype);
}
static int jvp_logcumsumexp(const lz_jvp_args *a, lz_array **t) {
  lz_array *y = scan_out(a->node, lz_logcumsumexp), *m = lz_max_axis(X, P->axis, true);
  lz_array *s = lz_cumsum(lz_multiply(T, lz_exp(lz_subtract(X, m))), P->axis, P->reverse,
                          P->inclusive);
  lz_array *r = lz_multiply(s, lz_exp(lz_subtract(m, y)));
  return done(&t[0], lz_where(lz_isneginf(y), lz_float(0), r), OUT->dtype);
}

/* ---- cummax, cummin ------------------------------------------------------------------------- */

/* Where each output element of cummax/cummin was read from: the last place (in scan order) the
 * running extreme was reached. `valid` (bool; NULL: everywhere) is false where an exclusive
 * scan's first element reads nothing: a select, not a product, so an infinite cotangent there
 * gives no NaN. */
static lz_array *extreme_source(lz_node *node, lz_array **valid) {
  const lz_axis_params *p = node->params;
  lz_array *x = node->inputs[0];
  bool is_max = node->op == LZ_OP_CUMMAX;
  int ax = p->axis, len = x->shape[ax];
  lz_array *y = (is_max ? lz_cummax : lz_cummin)(x, ax, p->reverse, true);
  lz_array *io = lz__axis_iota(len, ax, x->ndim), *hit = lz_equal(x, y);
  lz_array *src = p->reverse ? lz_cummin(lz_where(hit, io, lz_int(len)), ax, true, true)
                             : lz_cummax(lz_where(hit, io, lz_int(-1)), ax, false, true);
  *valid = NULL;
  if (!p->inclusive) { /* element i reads what the inclusive scan had one step earlier */
    int shift = p->reverse ? -1 : 1;
    src = lz_roll(src, &shift, &ax, 1);
    *valid = p->reverse ? lz_less(io, lz_int(len - 1)) : lz_greater(io, lz_int(0));
  }
  return src;
}
static int vjp_cumextreme(const lz_vjp_args *a, lz_array **g) {
  if (X->size == 0) return done(&g[0], lz_zeros_like(X), X->dtype);
  lz_array *valid, *src = extreme_source(a->node, &valid), *coords[LZ_MAX_NDIM];
  lz__along_axis_coords(X, src, P->axis, X->shape, coords);
  lz_array *c = valid ? lz_where(valid, C, lz_float(0)) : C;
  return done(&g[0], lz__coord_scatter_add(lz_zeros_like(X), coords, X->ndim, c), X->dtype);
}
static int jvp_cumextreme(const lz_jvp_args *a, lz_array **t) {
  if (X->size == 0) return done(&t[0], lz_zeros_like(X), OUT->dtype);
  lz_array *valid, *src = extreme_source(a->node, &valid);
  lz_array *r = lz_take_along_axis(T, src, P->axis);
  return done(&t[0], valid ? lz_where(valid, r, lz_float(0)) : r, OUT->dtype);
}

/* ---- diff ----------------------------------------------------------------------------------- */

/* y_i = x_{i+1} - x_i, n times: the transpose of one step is g_j = c_{j-1} - c_j. */
static int vjp_diff(const lz_vjp_args *a, lz_array **g) {
  int ax = P->axis, zero = 0, one = 1;
  if (OUT->shape[ax] == 0) return done(&g[0], lz_zeros_like(X), X->dtype);
  lz_array *c = C;
  for (int i = 0; i < P->k && c; i++)
    c = lz_subtract(lz_pad(c, &ax, 1, &one, &zero, "constant", 0),
                    lz_pad(c, &ax, 1, &zero, &one, "constant", 0));
  return done(&g[0], c, X->dtype);
}
static int jvp_diff(const lz_jvp_args *a, lz_array **t) {
  return done(&t[0], lz_diff(T, P->k, P->axis), OUT->dtype);
}

/* ---- sort, partition, topk ------------------------------------------------------------------ */

/* The sorts read their input (flattened when axis < 0) at a stable argsort: partition is a full
 * sort here and topk the last k sorted elements. Returns the indices along `*ax` of `*xf`. */
static lz_array *sort_source(lz_node *node, lz_array *x, lz_array **xf, int *ax) {
  const lz_axis_params *p = node->params;
  *ax = p->axis < 0 ? 0 : p->axis;
  int n = (int)x->size;
  *xf = p->axis < 0 ? lz_reshape(x, &n, 1) : x;
  lz_array *idx = lz_argsort_axis(*xf, *ax);
  if (node->op == LZ_OP_TOPK && idx) {
    int len = (*xf)->shape[*ax], s[LZ_MAX_NDIM], e[LZ_MAX_NDIM];
    for (int d = 0; d < idx->ndim; d++) s[d] = 0, e[d] = idx->shape[d];
    s[*ax] = len - p->k;
    idx = lz_slice(idx, s, e, NULL, idx->ndim);
  }
  return idx;
}
static int vjp_sort(const lz_vjp_args *a, lz_array **g) {
  lz_array *xf;
  int ax;
  lz_array *idx = sort_source(a->node, X, &xf, &ax), *coords[LZ_MAX_NDIM];
  if (!idx || !xf) return -1;
  lz__along_axis_coords(xf, idx, ax, idx->shape, coords);
  lz_array *c = lz_reshape(C, idx->shape, idx->ndim);
  lz_array *gf = lz__coord_scatter_add(lz_zeros_like(xf), coords, xf->ndim, c);
  return done(&g[0], lz_reshape(gf, X->shape, X->ndim), X->dtype);
}
static int jvp_sort(const lz_jvp_args *a, lz_array **t) {
  lz_array *xf;
  int ax, n = (int)X->size;
  lz_array *idx = sort_source(a->node, X, &xf, &ax);
  lz_array *tf = P->axis < 0 ? lz_reshape(T, &n, 1) : T;
  lz_array *r = lz_take_along_axis(tf, idx, ax);
  return done(&t[0], lz_reshape(r, OUT->shape, OUT->ndim), OUT->dtype);
}

#define ZERO {lz__vjp_zero, lz__jvp_zero, NULL}
const lz_rule lz__rules_scan[LZ_OP_COUNT] = {
    [LZ_OP_CUMSUM] = {vjp_cumsum, jvp_cumsum, NULL},
    [LZ_OP_CUMPROD] = {vjp_cumprod, jvp_cumprod, NULL},
    [LZ_OP_CUMMAX] = {vjp_cumextreme, jvp_cumextreme, NULL},
    [LZ_OP_CUMMIN] = {vjp_cumextreme, jvp_cumextreme, NULL},
    [LZ_OP_LOGCUMSUMEXP] = {vjp_logcumsumexp, jvp_logcumsumexp, NULL},
    [LZ_OP_DIFF] = {vjp_diff, jvp_diff, NULL},
    [LZ_OP_SORT] = {vjp_sort, jvp_sort, NULL},
    [LZ_OP_PARTITION] = {vjp_sort, jvp_sort, NULL},
    [LZ_OP_TOPK] = {vjp_sort, jvp_sort, NULL},
    [LZ_OP_ARGSORT] = ZERO,
    [LZ_OP_ARGPARTITION] = ZERO,
    [LZ_OP_SEARCHSORTED] = ZERO,
};
