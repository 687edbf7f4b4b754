/* vjp and jvp rules of the linear algebra ops (ops/linalg.c): inverses, solves, Cholesky,
 * determinants, QR, singular and symmetric eigenvalue decompositions, norms and cross, the
 * pseudo-inverse, LU (square) and the eigenvalues of the general eigendecomposition. Matrices
 * are the last two axes; batch axes that broadcasting added are summed out of cotangents.
 * Decompositions of symmetric matrices (cholesky, eigh) treat the input as symmetric: their
 * cotangent is symmetric and their tangent is symmetrised first. */
#include "cpu/linalg.h"
#include "transforms/rules_util.h"

#include <math.h>

#define X (a->inputs[0])
#define C (a->cotans[0])
#define T (a->tangents[0])
#define FLAG (((const lz_linalg_flag_params *)a->node->params)->flag)

static int done(lz_array **slot, lz_array *v) { return (*slot = v) ? 0 : -1; }
static lz_array *mT(lz_array *x) { return lz_swapaxes(x, -1, -2); }
static lz_array *mm(lz_array *x, lz_array *y) { return lz_matmul(x, y); }
static lz_array *sym(lz_array *x) { return lz_multiply(lz_add(x, mT(x)), lz_float(0.5)); }
static lz_array *tri(lz_array *x, bool upper) { return upper ? lz_triu(x, 0) : lz_tril(x, 0); }
/* The trace of the last two axes. */
static lz_array *mtrace(lz_array *x) { return lz_trace(x, 0, -2, -1); }
/* x's output k, or `fallback` recomputed. */
static lz_array *output(lz_node *n, int k, lz_array *fallback) {
  lz_array *y = lz__node_output(n, k);
  return y ? y : fallback;
}
static lz_array *output_or_null(lz_node *n, int k) { return lz__node_output(n, k); }

/* ---- inverses ------------------------------------------------------------------------------- */

/* Y = inv(A): vjp -Y^T C Y^T, jvp -Y T Y. tri_inv reads one triangle of A. */
static lz_array *inv_out(lz_node *n) {
  lz_array *x = n->inputs[0];
  if (lz__node_output(n, 0)) return lz__node_output(n, 0);
  if (n->op == LZ_OP_LINALG_INV) return lz_linalg_inv(x);
  return lz_linalg_tri_inv(x, ((const lz_linalg_flag_params *)n->params)->flag);
}
static int vjp_inv(const lz_vjp_args *a, lz_array **g) {
  lz_array *y = mT(inv_out(a->node)), *r = lz_negative(mm(mm(y, C), y));
  if (a->node->op == LZ_OP_LINALG_TRI_INV) r = tri(r, FLAG);
  return done(&g[0], r);
}
static int jvp_inv(const lz_jvp_args *a, lz_array **t) {
  lz_array *y = inv_out(a->node), *tt = a->node->op == LZ_OP_LINALG_TRI_INV ? tri(T, FLAG) : T;
  return done(&t[0], lz_negative(mm(mm(y, tt), y)));
}

/* ---- solves --------------------------------------------------------------------------------- */

/* X = A^-1 B: gB = A^-T C, gA = -gB X^T; jvp A^-1 (tB - tA X). The triangular solve reads one
 * triangle of A, so its derivatives keep that triangle. A vector b is a one-column matrix. */
static lz_array *solve_with(lz_node *n, lz_array *m, lz_array *b, bool transpose) {
  bool upper = ((const lz_linalg_flag_params *)n->params)->flag & 1;
  if (transpose) m = mT(m);
  if (n->op == LZ_OP_LINALG_SOLVE) return lz_linalg_solve(m, b);
  return lz_linalg_solve_triangular(m, b, transpose ? !upper : upper);
}
static lz_array *as_col(lz_array *x, bool vec) { return vec ? lz_expand_dims(x, (int[]){-1}, 1) : x; }

static int vjp_solve(const lz_vjp_args *a, lz_array **g) {
  lz_node *n = a->node;
  lz_array *A = X, *B = a->inputs[1];
  bool vec = FLAG & 2, upper = FLAG & 1;
  g[0] = g[1] = NULL;
  lz_array *xs = output(n, 0, n->op == LZ_OP_LINALG_SOLVE ? lz_linalg_solve(A, B)
                                                          : lz_linalg_solve_triangular(A, B, upper));
  lz_array *gb = solve_with(n, A, as_col(C, vec), true); /* matrix form */
  if (a->need[1]) {
    lz_array *gbv = vec ? lz_squeeze(gb, (int[]){-1}, 1) : gb;
    if (!(g[1] = lz__unbroadcast(a->who, gbv, B))) return -1;
  }
  if (a->need[0]) {
    lz_array *ga = lz_negative(mm(gb, mT(as_col(xs, vec))));
    if (n->op == LZ_OP_LINALG_SOLVE_TRIANGULAR) ga = tri(ga, upper);
    if (!(g[0] = lz__unbroadcast(a->who, ga, A))) return -1;
  }
  return 0;
}
static int jvp_solve(const lz_jvp_args *a, lz_array **t) {
  lz_node *n = a->node;
  lz_array *A = X, *B = a->inputs[1], *ta = a->tangents[0], *tb = a->tangents[1];
  bool vec = FLAG & 2, upper = FLAG & 1;
  lz_array *rhs = tb ? as_col(tb, vec) : NULL;
  if (ta) {
    lz_array *xs = output(n, 0, n->op == LZ_OP_LINALG_SOLVE ? lz_linalg_solve(A, B)
                                                            : lz_linalg_solve_triangular(A, B, upper));
    if (n->op == LZ_OP_LINALG_SOLVE_TRIANGULAR) ta = tri(ta, upper);
    lz_array *p = lz_negative(mm(ta, as_col(xs, vec)));
    rhs = rhs ? lz_add(rhs, p) : p;
  }
  /* rhs may have gained batch axes: broadcast A against it */
  lz_array *r = solve_with(n, A, rhs, false);
  if (vec) r = lz_squeeze(r, (int[]){-1}, 1);
  return done(&t[0], lz__expand_to(r, n->outputs[0]));
}

/* ---- Cholesky ------------------------------------------------------------------------------- */

/* L lower with A = L L^T (upper: U = L^T). With phi(M) = tril(M) - diag(M)/2:
 * vjp sym(L^-T phi(L^T Cl) L^-1), jvp L phi(L^-1 sym(T) L^-T). */
static lz_array *phi(lz_array *m) {
  int n = m->shape[m->ndim - 1];
  lz_array *diag = lz_multiply(m, lz_eye(n, n, 0, m->dtype));
  return lz_subtract(lz_tril(m, 0), lz_multiply(diag, lz_float(0.5)));
}
static lz_array *chol_lower(lz_node *n) {
  bool upper = ((const lz_linalg_flag_params *)n->params)->flag;
  lz_array *y = output(n, 0, lz_linalg_cholesky(n->inputs[0], upper));
  return upper ? mT(y) : y;
}
static int vjp_cholesky(const lz_vjp_args *a, lz_array **g) {
  lz_array *l = chol_lower(a->node), *cl = FLAG ? mT(C) : C;
  lz_array *li = lz_linalg_tri_inv(l, false);
  lz_array *s = mm(mm(mT(li), phi(mm(mT(l), cl))), li);
  return done(&g[0], sym(s));
}
static int jvp_cholesky(const lz_jvp_args *a, lz_array **t) {
  lz_array *l = chol_lower(a->node), *li = lz_linalg_tri_inv(l, false);
  lz_array *dl = mm(l, phi(mm(mm(li, sym(T)), mT(li))));
  return done(&t[0], FLAG ? mT(dl) : dl);
}

/* cholesky_inv: Y = (L L^T)^-1 from the factor's triangle L (upper: A = U^T U). With dS = dL L^T + L dL^T,
 * dY = -Y dS Y; the vjp keeps the factor's triangle. */
static int vjp_cholesky_inv(const lz_vjp_args *a, lz_array **g) {
  bool upper = FLAG;
  lz_array *f = X, *l = upper ? mT(lz_triu(f, 0)) : lz_tril(f, 0);
  lz_array *y = output(a->node, 0, lz_linalg_cholesky_inv(f, upper));
  lz_array *gl = lz_negative(mm(mm(mm(y, lz_add(C, mT(C))), y), l));
  return done(&g[0], upper ? lz_triu(mT(gl), 0) : lz_tril(gl, 0));
}
static int jvp_cholesky_inv(const lz_jvp_args *a, lz_array **t) {
  bool upper = FLAG;
  lz_array *f = X, *l = upper ? mT(lz_triu(f, 0)) : lz_tril(f, 0);
  lz_array *dl = upper ? mT(lz_triu(T, 0)) : lz_tril(T, 0);
  lz_array *y = output(a->node, 0, lz_linalg_cholesky_inv(f, upper));
  lz_array *ds = lz_add(mm(dl, mT(l)), mm(l, mT(dl)));
  return done(&t[0], lz_negative(mm(mm(y, ds), y)));
}

/* ---- determinants --------------------------------------------------------------------------- */

/* d det(A) = det(A) tr(A^-1 dA); d log|det(A)| = tr(A^-1 dA). */
static lz_array *bcast_mat(lz_array *c) { /* (...,) -> (..., 1, 1) */
  return lz_expand_dims(c, (int[]){-1, -2}, 2);
}
static int vjp_det(const lz_vjp_args *a, lz_array **g) {
  lz_array *d = output(a->node, 0, lz_linalg_det(X));
  lz_array *s = bcast_mat(lz_multiply(C, d));
  return done(&g[0], lz_multiply(s, mT(lz_linalg_inv(X))));
}
static int jvp_det(const lz_jvp_args *a, lz_array **t) {
  lz_array *d = output(a->node, 0, lz_linalg_det(X));
  return done(&t[0], lz_multiply(d, mtrace(mm(lz_linalg_inv(X), T))));
}
static int vjp_slogdet(const lz_vjp_args *a, lz_array **g) {
  lz_array *c = a->cotans[1];
  g[0] = NULL;
  if (!c) return 0; /* the sign is piecewise constant */
  return done(&g[0], lz_multiply(bcast_mat(c), mT(lz_linalg_inv(X))));
}
static int jvp_slogdet(const lz_jvp_args *a, lz_array **t) {
  t[0] = NULL;
  return done(&t[1], mtrace(mm(lz_linalg_inv(X), T)));
}

/* ---- QR (M >= N) ---------------------------------------------------------------------------- */

static int qr_outputs(lz_node *n, lz_array **q, lz_array **r) {
  *q = output_or_null(n, 0), *r = output_or_null(n, 1);
  if (!*q || !*r) {
    lz_array *o[2];
    if (lz_linalg_qr(n->inputs[0], o) != 0) return -1;
    *q = *q ? *q : o[0], *r = *r ? *r : o[1];
  }
  int m = n->inputs[0]->shape[n->inputs[0]->ndim - 2], k = n->inputs[0]->shape[n->inputs[0]->ndim - 1];
  if (m < k)
    return lz__error(LZ_ERROR_NOT_IMPLEMENTED, "lz_linalg_qr",
                     "derivatives need M >= N (got a %d x %d matrix)", m, k);
  return 0;
}
/* copyltu(M): the symmetric matrix with M's lower triangle. */
static lz_array *copyltu(lz_array *m) {
  lz_array *lo = lz_tril(m, -1);
  return lz_add(lz_add(lo, mT(lo)), lz_subtract(lz_tril(m, 0), lo));
}
/* x R^-1 = (R^-T x^T)^T and x R^-T = (R^-1 x^T)^T, R upper triangular. */
static lz_array *right_rinv(lz_array *x, lz_array *r) {
  return mT(lz_linalg_solve_triangular(mT(r), mT(x), false));
}
static lz_array *right_rinvt(lz_array *x, lz_array *r) {
  return mT(lz_linalg_solve_triangular(r, mT(x), true));
}
static int vjp_qr(const lz_vjp_args *a, lz_array **g) {
  lz_array *q, *r;
  if (qr_outputs(a->node, &q, &r) != 0) return -1;
  lz_array *cq = lz__or_zeros(a->cotans[0], q), *cr = lz__or_zeros(a->cotans[1], r);
  lz_array *m = lz_subtract(mm(r, mT(cr)), mm(mT(cq), q));
  lz_array *b = lz_add(cq, mm(q, copyltu(m)));
  return done(&g[0], right_rinvt(b, r));
}
static int jvp_qr(const lz_jvp_args *a, lz_array **t) {
  lz_array *q, *r;
  if (qr_outputs(a->node, &q, &r) != 0) return -1;
  lz_array *dar = right_rinv(T, r), *x = mm(mT(q), dar);
  lz_array *lo = lz_tril(x, -1), *omega = lz_subtract(lo, mT(lo)), *xo = lz_subtract(x, omega);
  t[0] = lz_subtract(dar, mm(q, xo));
  t[1] = mm(xo, r);
  return t[0] && t[1] ? 0 : -1;
}

/* ---- SVD: singular values ------------------------------------------------------------------- */

/* Thin U (..., M, K) and Vt (..., K, N) of x. */
static int thin_svd(lz_array *x, lz_array **u, lz_array **s, lz_array **vt) {
  lz_array *o[3];
  if (lz_linalg_svd(x, true, o) != 0) return -1;
  int nd = x->ndim, m = x->shape[nd - 2], n = x->shape[nd - 1], k = m < n ? m : n;
  int s0[LZ_MAX_NDIM] = {0}, e[LZ_MAX_NDIM];
  for (int d = 0; d < nd; d++) e[d] = o[0]->shape[d];
  e[nd - 1] = k;
  *u = lz_slice(o[0], s0, e, NULL, nd);
  for (int d = 0; d < nd; d++) e[d] = o[2]->shape[d];
  e[nd - 2] = k;
  *vt = lz_slice(o[2], s0, e, NULL, nd);
  *s = o[1];
  return *u && *vt ? 0 : -1;
}
/* The rules below are for real inputs; complex64 decompositions have none yet. */
static int complex_input(const lz_node *n, const char *who) {
  if (n->inputs[0]->dtype != LZ_COMPLEX64) return 0;
  return lz__error(LZ_ERROR_NOT_IMPLEMENTED, who, "op '%s' has no derivative for complex64 input",
                   lz__op(n->op)->name);
}

static int svd_vectors_unsupported(void) {
  return lz__error(LZ_ERROR_NOT_IMPLEMENTED, "lz_linalg_svd",
                   "derivatives of the singular vectors are not supported (only of the values)");
}
/* dS = diag(U^T dA V): vjp U diag(c) V^T. */
static int vjp_svd(const lz_vjp_args *a, lz_array **g) {
  if (complex_input(a->node, a->who)) return -1;
  bool uv = a->node->noutputs == 3;
  if (uv && (a->cotans[0] || a->cotans[2])) return svd_vectors_unsupported();
  lz_array *c = a->cotans[uv ? 1 : 0], *u, *s, *vt;
  g[0] = NULL;
  if (!c) return 0;
  if (thin_svd(X, &u, &s, &vt) != 0) return -1;
  return done(&g[0], mm(lz_multiply(u, lz_expand_dims(c, (int[]){-2}, 1)), vt));
}
static int jvp_svd(const lz_jvp_args *a, lz_array **t) {
  if (complex_input(a->node, a->who)) return -1;
  bool uv = a->node->noutputs == 3;
  if (uv && (a->outputs[0] || a->outputs[2])) return svd_vectors_unsupported();
  lz_array *u, *s, *vt;
  if (thin_svd(X, &u, &s, &vt) != 0) return -1;
  lz_array *ds = lz_sum_axis(lz_multiply(u, mm(T, mT(vt))), -2, false);
  for (int k = 0; k < a->node->noutputs; k++) t[k] = NULL;
  return done(&t[uv ? 1 : 0], ds);
}

/* ---- eigh ----------------------------------------------------------------------------------- */

/* A = V diag(w) V^T: with F_ij = 1 / (w_j - w_i) off the diagonal, dw = diag(V^T dA V),
 * dV = V (F * (V^T dA V)); vjp sym(V (diag(cw) + F * (V^T cV)) V^T). */
static int eigh_parts(lz_node *n, lz_array **w, lz_array **v, lz_array **f) {
  lz_array *x = n->inputs[0], *o[2];
  const char *uplo = ((const lz_linalg_flag_params *)n->params)->flag == 'U' ? "U" : "L";
  if (lz_linalg_eigh(x, uplo, o) != 0) return -1;
  *w = output(n, 0, o[0]);
  *v = n->noutputs > 1 ? output(n, 1, o[1]) : o[1];
  int k = x->shape[x->ndim - 1];
  lz_array *diff = lz_subtract(lz_expand_dims(*w, (int[]){-2}, 1), lz_expand_dims(*w, (int[]){-1}, 1));
  *f = lz_where(lz_eye(k, k, 0, LZ_BOOL), lz_float(0), lz_reciprocal(diff));
  return *f ? 0 : -1;
}
static int vjp_eigh(const lz_vjp_args *a, lz_array **g) {
  if (complex_input(a->node, a->who)) return -1;
  lz_array *w, *v, *f;
  if (eigh_parts(a->node, &w, &v, &f) != 0) return -1;
  int k = X->shape[X->ndim - 1];
  lz_array *inner = lz_zeros_like(X);
  if (a->cotans[0])
    inner = lz_multiply(lz_expand_dims(a->cotans[0], (int[]){-2}, 1), lz_eye(k, k, 0, X->dtype));
  if (a->node->noutputs > 1 && a->cotans[1])
    inner = lz_add(inner, lz_multiply(f, mm(mT(v), a->cotans[1])));
  return done(&g[0], sym(mm(mm(v, inner), mT(v))));
}
static int jvp_eigh(const lz_jvp_args *a, lz_array **t) {
  if (complex_input(a->node, a->who)) return -1;
  lz_array *w, *v, *f;
  if (eigh_parts(a->node, &w, &v, &f) != 0) return -1;
  lz_array *m = mm(mm(mT(v), sym(T)), v);
  t[0] = lz_diagonal(m, 0, -2, -1);
  if (a->node->noutputs > 1) t[1] = mm(v, lz_multiply(f, m));
  return t[0] && (a->node->noutputs == 1 || t[1]) ? 0 : -1;
}

/* ---- norms ---------------------------------------------------------------------------------- */

/* Every norm is y = f(group of x), so both rules use D = dy/dx (x's shape): vjp c * D (c
 * broadcast over the group), jvp sum(t * D) over the group. */
typedef struct norm_geom {
  int naxes, axes[LZ_MAX_NDIM];
  int kd[LZ_MAX_NDIM]; /* x's shape with the group's axes 1 */
} norm_geom;

static void norm_geom_init(const lz_linalg_norm_params *p, const lz_array *x, norm_geom *ng) {
  ng->naxes = p->naxes ? p->naxes : x->ndim;
  for (int i = 0; i < ng->naxes; i++) ng->axes[i] = p->naxes ? p->axes[i] : i;
  memcpy(ng->kd, x->shape, (size_t)x->ndim * sizeof(int));
  for (int i = 0; i < ng->naxes; i++) ng->kd[ng->axes[i]] = 1;
}

/* mask of the elements of v (kept-dims extreme over `axis`) equal to the extreme, shared. */
static lz_array *extreme_share(lz_array *v, int axis, bool is_max) {
  lz_array *e = is_max ? lz_max_axis(v, axis, true) : lz_min_axis(v, axis, true);
  lz_array *m = lz_astype(lz_equal(v, e), v->dtype);
  return lz_divide(m, lz_sum_axis(m, axis, true));
}

/* x with the matrix axes (a0, a1) moved last, and back. */
static lz_array *to_matrix(lz_array *x, const int *ax, int *perm) {
  int n = 0;
  for (int d = 0; d < x->ndim; d++)
    if (d != ax[0] && d != ax[1]) perm[n++] = d;
  perm[n++] = ax[0], perm[n++] = ax[1];
  return lz_transpose(x, perm, x->ndim);
}
static lz_array *from_matrix(lz_array *y, const int *perm) {
  int inv[LZ_MAX_NDIM];
  for (int d = 0; d < y->ndim; d++) inv[perm[d]] = d;
  return lz_transpose(y, inv, y->ndim);
}

static lz_array *norm_derivative(lz_node *n, const norm_geom *ng) {
  const lz_linalg_norm_params *p = n->params;
  lz_array *x = n->inputs[0];
  lz_array *y = lz__node_output(n, 0);
  if (!y) {
    const int *axes = p->naxes ? p->axes : NULL;
    if (p->kind == LZ_NORM_FRO) y = lz_linalg_norm_str(x, "fro", axes, p->naxes, false);
    else if (p->kind == LZ_NORM_NUC) y = lz_linalg_norm_str(x, "nuc", axes, p->naxes, false);
    else y = lz_linalg_norm_ord(x, p->ord, axes, p->naxes, false);
  }
  y = lz_reshape(y, ng->kd, x->ndim);
  switch (p->kind) {
  case LZ_NORM_FRO: {
    lz_array *zero = lz_equal(y, lz_float(0));
    return lz_where(zero, lz_float(0), lz_divide(x, lz_where(zero, lz_float(1), y)));
  }
  case LZ_NORM_VECTOR: {
    double o = p->ord;
    lz_array *ax = lz_abs(x), *sg = lz_sign(x);
    if (o == 0) return lz_zeros_like(x);
    if (o == 1) return sg;
    if (isinf(o)) {
      int perm[LZ_MAX_NDIM];
      lz_array *flat = lz__merge_axes_last(ax, ng->axes, ng->naxes, perm);
      lz_array *share = lz__split_axes_last(extreme_share(flat, -1, o > 0), x, perm);
      return lz_multiply(sg, share);
    }
    lz_array *zero = lz_equal(y, lz_float(0)), *ys = lz_where(zero, lz_float(1), y);
    lz_array *num = lz_multiply(sg, lz_power(ax, lz_scalar(o - 1, x->dtype)));
    lz_array *d = lz_divide(num, lz_power(ys, lz_scalar(o - 1, x->dtype)));
    return lz_where(zero, lz_float(0), d);
  }
  case LZ_NORM_MAT_ABS: { /* ord +-1: column sums (over axes[0]); +-inf: row sums */
    bool cols = fabs(p->ord) == 1;
    int sum_ax = cols ? ng->axes[0] : ng->axes[1], ext_ax = cols ? ng->axes[1] : ng->axes[0];
    lz_array *sums = lz_sum_axis(lz_abs(x), sum_ax, true);
    return lz_multiply(lz_sign(x), extreme_share(sums, ext_ax, p->ord > 0));
  }
  default: { /* singular values: nuc sums them, +-2 takes the largest or smallest */
    int perm[LZ_MAX_NDIM];
    lz_array *u, *s, *vt, *xm = to_matrix(x, ng->axes, perm);
    if (thin_svd(xm, &u, &s, &vt) != 0) return NULL;
    if (p->kind == LZ_NORM_NUC) return from_matrix(mm(u, vt), perm);
    int k = s->shape[s->ndim - 1], i = p->ord > 0 ? 0 : k - 1, nd = xm->ndim;
    int s0[LZ_MAX_NDIM] = {0}, e[LZ_MAX_NDIM];
    for (int d = 0; d < nd; d++) e[d] = u->shape[d];
    s0[nd - 1] = i, e[nd - 1] = i + 1;
    lz_array *ui = lz_slice(u, s0, e, NULL, nd);
    for (int d = 0; d < nd; d++) s0[d] = 0, e[d] = vt->shape[d];
    s0[nd - 2] = i, e[nd - 2] = i + 1;
    return from_matrix(mm(ui, lz_slice(vt, s0, e, NULL, nd)), perm);
  }
  }
}
static int vjp_norm(const lz_vjp_args *a, lz_array **g) {
  norm_geom ng;
  norm_geom_init(a->node->params, X, &ng);
  lz_array *d = norm_derivative(a->node, &ng);
  lz_array *c = lz_broadcast_to(lz_reshape(C, ng.kd, X->ndim), X->shape, X->ndim);
  return done(&g[0], lz_multiply(c, d));
}
static int jvp_norm(const lz_jvp_args *a, lz_array **t) {
  norm_geom ng;
  norm_geom_init(a->node->params, X, &ng);
  lz_array *d = norm_derivative(a->node, &ng), *out = a->node->outputs[0];
  lz_array *s = lz_sum_axes(lz_multiply(T, d), ng.axes, ng.naxes, false);
  return done(&t[0], lz_reshape(s, out->shape, out->ndim));
}

/* ---- cross ---------------------------------------------------------------------------------- */

/* a x b is bilinear: d = ta x b + a x tb; vjp: ga = b x c, gb = c x a. The node's axis counts
 * in the broadcast shape while lz_linalg_cross counts a positive axis in each input, so the
 * rules pass it counted from the end (the same dim for inputs of any ndim). */
static int vjp_cross(const lz_vjp_args *a, lz_array **g) {
  int ax = ((const lz_cross_params *)a->node->params)->axis - a->node->outputs[0]->ndim;
  lz_array *x = a->inputs[0], *y = a->inputs[1];
  g[0] = g[1] = NULL;
  if (a->need[0] && !(g[0] = lz__unbroadcast(a->who, lz_linalg_cross(y, C, ax), x))) return -1;
  if (a->need[1] && !(g[1] = lz__unbroadcast(a->who, lz_linalg_cross(C, x, ax), y))) return -1;
  return 0;
}
static int jvp_cross(const lz_jvp_args *a, lz_array **t) {
  int ax = ((const lz_cross_params *)a->node->params)->axis - a->node->outputs[0]->ndim;
  lz_array *x = a->inputs[0], *y = a->inputs[1], *tx = a->tangents[0], *ty = a->tangents[1];
  lz_array *p = tx ? lz_linalg_cross(tx, y, ax) : NULL, *q = ty ? lz_linalg_cross(x, ty, ax) : NULL;
  t[0] = lz__sum_tangents(p, q, a->node->outputs[0]);
  return t[0] ? 0 : -1;
}

/* ---- pseudo-inverse ------------------------------------------------------------------------- */

/* P = pinv(A) (A of full rank, so that P is differentiable): with Q = I - A P, R = I - P A,
 * dP = -P dA P + P P^T dA^T Q + R dA^T P^T P; vjp -P^T C P^T + Q C^T P P^T + P^T P C^T R. */
static lz_array *pinv_out(lz_node *n) {
  lz_array *p = lz__node_output(n, 0);
  return p ? p : lz_linalg_pinv(n->inputs[0]);
}
static lz_array *eye_like(const lz_array *x, int axis) {
  int k = x->shape[x->ndim + axis];
  return lz_eye(k, k, 0, x->dtype);
}
static int vjp_pinv(const lz_vjp_args *a, lz_array **g) {
  lz_array *p = pinv_out(a->node), *pt = mT(p), *ct = mT(C);
  lz_array *q = lz_subtract(eye_like(X, -2), mm(X, p)), *r = lz_subtract(eye_like(X, -1), mm(p, X));
  lz_array *t1 = lz_negative(mm(mm(pt, C), pt));
  lz_array *t2 = mm(mm(q, ct), mm(p, pt)), *t3 = mm(mm(pt, p), mm(ct, r));
  return done(&g[0], lz__unbroadcast(a->who, lz_add(lz_add(t1, t2), t3), X));
}
static int jvp_pinv(const lz_jvp_args *a, lz_array **t) {
  lz_array *p = pinv_out(a->node), *pt = mT(p), *tt = mT(T);
  lz_array *q = lz_subtract(eye_like(X, -2), mm(X, p)), *r = lz_subtract(eye_like(X, -1), mm(p, X));
  lz_array *d = lz_negative(mm(mm(p, T), p));
  d = lz_add(d, mm(mm(p, pt), mm(tt, q)));
  return done(&t[0], lz_add(d, mm(mm(r, tt), mm(pt, p))));
}

/* ---- LU (square) ---------------------------------------------------------------------------- */

/* A = L[P] U: B = L U is A with its rows put back in pivot order (B = A[argsort(P)]). With
 * F = L^-1 dB U^-1: dL = L strict_tril(F), dU = triu(F) U; so gB = L^-T (strict_tril(L^T gL)
 * + triu(gU U^T)) U^-T and gA = gB[P]. lu_factor packs strict_tril(L) + U and gives pivots as
 * swaps: its rules take P, L, U from lu (the same pivoting). */
typedef struct lu_parts {
  lz_array *p, *l, *u;
} lu_parts;

static int lu_parts_of(lz_node *n, const char *who, lu_parts *f) {
  lz_array *x = n->inputs[0];
  int m = x->shape[x->ndim - 2], k = x->shape[x->ndim - 1];
  if (m != k)
    return lz__error(LZ_ERROR_NOT_IMPLEMENTED, who,
                     "derivatives of the LU factorisation need square matrices (got %d x %d)", m,
                     k);
  lz_array *o[3] = {NULL, NULL, NULL};
  if (n->op == LZ_OP_LINALG_LU) {
    for (int i = 0; i < 3; i++) o[i] = lz__node_output(n, i);
  }
  if (!o[0] || !o[1] || !o[2]) {
    lz_array *r[3];
    if (lz_linalg_lu(x, r) != 0) return -1;
    for (int i = 0; i < 3; i++) o[i] = o[i] ? o[i] : r[i];
  }
  f->p = o[0], f->l = o[1], f->u = o[2];
  return 0;
}
/* L^-1 v U^-1, and its transpose map L^-T v U^-T. */
static lz_array *lu_inner(const lu_parts *f, lz_array *v) {
  lz_array *y = lz_linalg_solve_triangular(f->l, v, false);
  return mT(lz_linalg_solve_triangular(mT(f->u), mT(y), false));
}
static lz_array *lu_inner_t(const lu_parts *f, lz_array *v) {
  lz_array *y = lz_linalg_solve_triangular(mT(f->l), v, true);
  return mT(lz_linalg_solve_triangular(f->u, mT(y), true));
}
static lz_array *row_take(lz_array *x, lz_array *idx) {
  return lz_take_along_axis(x, lz_expand_dims(lz_astype(idx, LZ_INT32), (int[]){-1}, 1), -2);
}
static int lu_vjp_core(const lu_parts *f, lz_array *gl, lz_array *gu, lz_array **g) {
  lz_array *m = NULL;
  if (gl) m = lz_tril(mm(mT(f->l), gl), -1);
  if (gu) m = m ? lz_add(m, lz_triu(mm(gu, mT(f->u)), 0)) : lz_triu(mm(gu, mT(f->u)), 0);
  if (!m) return 0;
  return done(&g[0], row_take(lu_inner_t(f, m), f->p));
}
static int lu_jvp_core(const lu_parts *f, lz_array *t, lz_array **dl, lz_array **du) {
  lz_array *perm = lz_argsort_axis(lz_astype(f->p, LZ_INT32), -1);
  lz_array *fm = lu_inner(f, row_take(t, perm));
  *dl = mm(f->l, lz_tril(fm, -1));
  *du = mm(lz_triu(fm, 0), f->u);
  return *dl && *du ? 0 : -1;
}
static int vjp_lu(const lz_vjp_args *a, lz_array **g) {
  lu_parts f;
  g[0] = NULL;
  if (!a->need[0]) return 0;
  if (lu_parts_of(a->node, a->who, &f) != 0) return -1;
  if (a->node->op == LZ_OP_LINALG_LU) return lu_vjp_core(&f, a->cotans[1], a->cotans[2], g);
  lz_array *c = a->cotans[0]; /* the packed factors; pivots are integers */
  if (!c) return 0;
  return lu_vjp_core(&f, lz_tril(c, -1), lz_triu(c, 0), g);
}
static int jvp_lu(const lz_jvp_args *a, lz_array **t) {
  lu_parts f;
  lz_array *dl, *du;
  for (int k = 0; k < a->node->noutputs; k++) t[k] = NULL;
  if (!T) return 0;
  if (lu_parts_of(a->node, a->who, &f) != 0 || lu_jvp_core(&f, T, &dl, &du) != 0) return -1;
  if (a->node->op == LZ_OP_LINALG_LU) {
    t[1] = dl, t[2] = du;
    return 0;
  }
  return done(&t[0], lz_add(lz_tril(dl, -1), du));
}

/* ---- eig: the eigenvalues ------------------------------------------------------------------- */

/* A = V diag(w) V^-1 (real A, complex w and V): dw = diag(W dA V) with W = V^-1, so with a
 * complex cotangent g (dL/dRe - i dL/dIm, the walk's convention) the vjp is
 * Re(W^T diag(g) V^T). Complex products are written in real and imaginary parts; W comes from
 * the real form [[Vr, -Vi], [Vi, Vr]] of V, whose inverse is [[Wr, -Wi], [Wi, Wr]]. The
 * eigenvectors' derivatives are not supported. */
typedef struct eig_parts {
  lz_array *vr, *vi, *wr, *wi;
} eig_parts;

static int eig_vectors_unsupported(const char *who) {
  return lz__error(LZ_ERROR_NOT_IMPLEMENTED, who,
                   "derivatives of the eigenvectors of lz_linalg_eig are not supported (only of "
                   "the eigenvalues)");
}
static int eig_parts_of(lz_node *n, eig_parts *e) {
  lz_array *x = n->inputs[0], *v = n->noutputs == 2 ? lz__node_output(n, 1) : NULL;
  if (!v) {
    lz_array *o[2];
    if (lz_linalg_eig(x, o) != 0) return -1;
    v = o[1];
  }
  int k = x->shape[x->ndim - 1], nd = x->ndim;
  lz_dtype dt = x->dtype == LZ_FLOAT64 ? LZ_FLOAT64 : LZ_FLOAT32;
  e->vr = lz_astype(lz_real(v), dt), e->vi = lz_astype(lz_imag(v), dt);
  lz_array *top[2] = {e->vr, lz_negative(e->vi)}, *bot[2] = {e->vi, e->vr};
  lz_array *rows2[2] = {lz_concatenate(top, 2, -1), lz_concatenate(bot, 2, -1)};
  lz_array *w = lz_linalg_inv(lz_concatenate(rows2, 2, -2));
  if (!w) return -1;
  int s0[LZ_MAX_NDIM] = {0}, e0[LZ_MAX_NDIM];
  for (int d = 0; d < nd; d++) e0[d] = w->shape[d];
  e0[nd - 2] = k, e0[nd - 1] = k;
  e->wr = lz_slice(w, s0, e0, NULL, nd);
  s0[nd - 2] = k, e0[nd - 2] = 2 * k;
  e->wi = lz_slice(w, s0, e0, NULL, nd);
  return e->wr && e->wi ? 0 : -1;
}
/* x^T diag(d) y^T for the last two axes. */
static lz_array *tdiag(lz_array *x, lz_array *d, lz_array *y) {
  return mm(lz_multiply(mT(x), lz_expand_dims(d, (int[]){-2}, 1)), mT(y));
}
static int vjp_eig(const lz_vjp_args *a, lz_array **g) {
  if (complex_input(a->node, a->who)) return -1;
  g[0] = NULL;
  if (a->node->noutputs == 2 && a->cotans[1]) return eig_vectors_unsupported(a->who);
  if (!a->need[0] || !C) return 0;
  eig_parts e;
  if (eig_parts_of(a->node, &e) != 0) return -1;
  lz_array *gr = lz_real(C), *gi = lz_imag(C);
  lz_array *r = lz_subtract(tdiag(e.wr, gr, e.vr), tdiag(e.wi, gr, e.vi));
  r = lz_subtract(r, lz_add(tdiag(e.wr, gi, e.vi), tdiag(e.wi, gi, e.vr)));
  return done(&g[0], lz_astype(r, X->dtype));
}
static int jvp_eig(const lz_jvp_args *a, lz_array **t) {
  if (complex_input(a->node, a->who)) return -1;
  for (int k = 0; k < a->node->noutputs; k++) t[k] = NULL;
  if (!T) return 0;
  if (a->node->noutputs == 2 && a->outputs[1]) return eig_vectors_unsupported(a->who);
  eig_parts e;
  if (eig_parts_of(a->node, &e) != 0) return -1;
  /* diag(x T y) = sum_j (x T)_ij y_ji */
  lz_array *wt_r = mm(e.wr, T), *wt_i = mm(e.wi, T);
  lz_array *re = lz_subtract(lz_multiply(wt_r, mT(e.vr)), lz_multiply(wt_i, mT(e.vi)));
  lz_array *im = lz_add(lz_multiply(wt_r, mT(e.vi)), lz_multiply(wt_i, mT(e.vr)));
  lz_complex64 i = {0, 1};
  lz_array *iu = lz_array_from_data(&i, NULL, 0, LZ_COMPLEX64);
  lz_array *dw = lz_add(lz_astype(lz_sum_axis(re, -1, false), LZ_COMPLEX64),
                        lz_multiply(iu, lz_astype(lz_sum_axis(im, -1, false), LZ_COMPLEX64)));
  return done(&t[0], dw);
}

const lz_rule lz__rules_linalg_more[LZ_OP_COUNT] = {
    [LZ_OP_LINALG_INV] = {vjp_inv, jvp_inv, NULL},
    [LZ_OP_LINALG_TRI_INV] = {vjp_inv, jvp_inv, NULL},
    [LZ_OP_LINALG_SOLVE] = {vjp_solve, jvp_solve, NULL},
    [LZ_OP_LINALG_SOLVE_TRIANGULAR] = {vjp_solve, jvp_solve, NULL},
    [LZ_OP_LINALG_CHOLESKY] = {vjp_cholesky, jvp_cholesky, NULL},
    [LZ_OP_LINALG_CHOLESKY_INV] = {vjp_cholesky_inv, jvp_cholesky_inv, NULL},
    [LZ_OP_LINALG_DET] = {vjp_det, jvp_det, NULL},
    [LZ_OP_LINALG_SLOGDET] = {vjp_slogdet, jvp_slogdet, NULL},
    [LZ_OP_LINALG_QR] = {vjp_qr, jvp_qr, NULL},
    [LZ_OP_LINALG_SVD] = {vjp_svd, jvp_svd, NULL},
    [LZ_OP_LINALG_EIGH] = {vjp_eigh, jvp_eigh, NULL},
    [LZ_OP_LINALG_NORM] = {vjp_norm, jvp_norm, NULL},
    [LZ_OP_LINALG_CROSS] = {vjp_cross, jvp_cross, NULL},
    [LZ_OP_LINALG_PINV] = {vjp_pinv, jvp_pinv, NULL},
    [LZ_OP_LINALG_LU] = {vjp_lu, jvp_lu, NULL},
    [LZ_OP_LINALG_LU_FACTOR] = {vjp_lu, jvp_lu, NULL},
    [LZ_OP_LINALG_EIG] = {vjp_eig, jvp_eig, NULL},
};
