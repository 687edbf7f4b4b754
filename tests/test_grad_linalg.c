/* Derivative rules of the matmul family beyond matmul (addmm, the contraction behind einsum,
 * tensordot, inner and outer) and of linalg: inv, tri_inv, solve, solve_triangular, cholesky,
 * cholesky_inv, det, slogdet, qr, svd (values), eigh (values and vectors), norm, cross. vjp and
 * jvp against central differences in float64, and vjp against jvp. Decompositions of
 * symmetric matrices are differentiated through a symmetric function of the input. */
#include "test_grad_check.h"

#define IN(lo, hi, ...) {(int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), {__VA_ARGS__}, lo, hi}

static lz_array *weight(lz_array *x) {
  int n = (int)lz_array_size(x);
  lz_array *r = lz_arange(1, 1 + n, 1, LZ_FLOAT64);
  return lz_reshape(lz_sin(r), lz_array_shape(x), lz_array_ndim(x));
}
static lz_array *weighted(lz_array *y) { return lz_multiply(y, weight(y)); }
static lz_array *mT(lz_array *x) { return lz_swapaxes(x, -1, -2); }
/* A well-conditioned matrix from x (..., n, n): x + n I. */
static lz_array *well(lz_array *x) {
  int n = lz_array_shape(x)[lz_array_ndim(x) - 1];
  return lz_add(x, lz_multiply(lz_eye(n, n, 0, LZ_FLOAT64), lz_float(n)));
}
/* A symmetric positive definite matrix from x: x x^T + n I. */
static lz_array *spd(lz_array *x) {
  int n = lz_array_shape(x)[lz_array_ndim(x) - 1];
  return lz_add(lz_matmul(x, mT(x)), lz_multiply(lz_eye(n, n, 0, LZ_FLOAT64), lz_float(n)));
}

/* ---- the matmul family ---- */

static lz_array *f_addmm(lz_array *const *x) { return lz_addmm(x[2], x[0], x[1], 1.5, -0.5); }
static lz_array *f_einsum(lz_array *const *x) {
  lz_array *ops[2] = {x[0], x[1]};
  return weighted(lz_einsum("bij,bjk->bik", ops, 2));
}
static lz_array *f_einsum_diag(lz_array *const *x) { /* repeated and summed-away labels */
  lz_array *ops[2] = {x[0], x[1]};
  return weighted(lz_einsum("iij,jk->ik", ops, 2));
}
static lz_array *f_einsum_one(lz_array *const *x) {
  lz_array *ops[1] = {x[0]};
  return weighted(lz_einsum("iji->j", ops, 1));
}
static lz_array *f_tensordot(lz_array *const *x) {
  return weighted(lz_tensordot_axes(x[0], x[1], (int[]){0, 2}, (int[]){1, 0}, 2));
}
static lz_array *f_inner(lz_array *const *x) { return weighted(lz_inner(x[0], x[1])); }
static lz_array *f_outer(lz_array *const *x) { return weighted(lz_outer(x[0], mT(x[1]))); }

static void test_matmul_family(void) {
  gc_check("addmm", f_addmm, (gc_input[]){IN(-1, 1, 3, 4), IN(-1, 1, 4, 2), IN(-1, 1, 2)}, 3,
           1e-6);
  gc_check("addmm batch", f_addmm,
           (gc_input[]){IN(-1, 1, 2, 3, 4), IN(-1, 1, 4, 2), IN(-1, 1, 3, 1)}, 3, 1e-6);
  gc_check("einsum batch", f_einsum, (gc_input[]){IN(-1, 1, 2, 2, 3), IN(-1, 1, 2, 3, 2)}, 2,
           1e-6);
  gc_check("einsum diagonal", f_einsum_diag, (gc_input[]){IN(-1, 1, 3, 3, 2), IN(-1, 1, 2, 4)},
           2, 1e-6);
  gc_check("einsum one operand", f_einsum_one, (gc_input[]){IN(-1, 1, 3, 2, 3)}, 1, 1e-6);
  gc_check("tensordot", f_tensordot, (gc_input[]){IN(-1, 1, 2, 3, 4), IN(-1, 1, 4, 2, 3)}, 2,
           1e-6);
  gc_check("inner", f_inner, (gc_input[]){IN(-1, 1, 2, 3), IN(-1, 1, 4, 3)}, 2, 1e-6);
  gc_check("outer", f_outer, (gc_input[]){IN(-1, 1, 3), IN(-1, 1, 2, 2)}, 2, 1e-6);
}

/* ---- inverses, solves, determinants ---- */

static lz_array *f_inv(lz_array *const *x) { return weighted(lz_linalg_inv(well(x[0]))); }
static lz_array *f_tri_inv(lz_array *const *x) {
  return weighted(lz_linalg_tri_inv(well(x[0]), true));
}
static lz_array *f_solve(lz_array *const *x) { return weighted(lz_linalg_solve(well(x[0]), x[1])); }
static lz_array *f_solve_tri(lz_array *const *x) {
  return weighted(lz_linalg_solve_triangular(well(x[0]), x[1], false));
}
static lz_array *f_det(lz_array *const *x) { return weighted(lz_linalg_det(well(x[0]))); }
static lz_array *f_slogdet(lz_array *const *x) {
  lz_array *o[2];
  if (lz_linalg_slogdet(well(x[0]), o) != 0) return NULL;
  return lz_add(weighted(o[1]), o[0]);
}

static void test_inverses(void) {
  gc_check("inv", f_inv, (gc_input[]){IN(-1, 1, 2, 3, 3)}, 1, 1e-6);
  gc_check("tri_inv", f_tri_inv, (gc_input[]){IN(-1, 1, 3, 3)}, 1, 1e-6);
  gc_check("solve matrix", f_solve, (gc_input[]){IN(-1, 1, 3, 3), IN(-1, 1, 3, 2)}, 2, 1e-6);
  gc_check("solve vector", f_solve, (gc_input[]){IN(-1, 1, 3, 3), IN(-1, 1, 3)}, 2, 1e-6);
  gc_check("solve batch vector", f_solve, (gc_input[]){IN(-1, 1, 2, 3, 3), IN(-1, 1, 3)}, 2,
           1e-6);
  gc_check("solve broadcast b", f_solve, (gc_input[]){IN(-1, 1, 3, 3), IN(-1, 1, 2, 3, 2)}, 2,
           1e-6);
  gc_check("solve_triangular", f_solve_tri, (gc_input[]){IN(-1, 1, 3, 3), IN(-1, 1, 3, 2)}, 2,
           1e-6);
  gc_check("det", f_det, (gc_input[]){IN(-1, 1, 2, 3, 3)}, 1, 1e-6);
  gc_check("slogdet", f_slogdet, (gc_input[]){IN(-1, 1, 2, 3, 3)}, 1, 1e-6);
}

/* ---- decompositions ---- */

static lz_array *f_cholesky(lz_array *const *x) {
  return weighted(lz_linalg_cholesky(spd(x[0]), false));
}
static lz_array *f_cholesky_up(lz_array *const *x) {
  return weighted(lz_linalg_cholesky(spd(x[0]), true));
}
static lz_array *f_cholesky_inv(lz_array *const *x) {
  return weighted(lz_linalg_cholesky_inv(well(x[0]), false));
}
static lz_array *f_cholesky_inv_up(lz_array *const *x) {
  return weighted(lz_linalg_cholesky_inv(well(x[0]), true));
}
static lz_array *f_qr(lz_array *const *x) {
  lz_array *o[2];
  if (lz_linalg_qr(x[0], o) != 0) return NULL;
  /* Q R = x is invariant; weigh Q and R separately so both cotangents matter */
  return lz_add(lz_sum(weighted(o[0]), false), lz_sum(lz_square(weighted(o[1])), false));
}
static lz_array *f_svdvals(lz_array *const *x) {
  lz_array *s;
  if (lz_linalg_svd(x[0], false, &s) != 0) return NULL;
  return weighted(s);
}
static lz_array *f_svd_s(lz_array *const *x) { /* the values output of the full SVD */
  lz_array *o[3];
  if (lz_linalg_svd(x[0], true, o) != 0) return NULL;
  lz_free(o[0]), lz_free(o[2]);
  return weighted(o[1]);
}
static lz_array *f_eigh(lz_array *const *x) {
  lz_array *o[2], *a = lz_add(x[0], mT(x[0]));
  if (lz_linalg_eigh(a, "L", o) != 0) return NULL;
  /* V * V is invariant to each eigenvector's sign */
  return lz_add(lz_sum(weighted(o[0]), false), lz_sum(weighted(lz_square(o[1])), false));
}
static lz_array *f_eigvalsh(lz_array *const *x) {
  return weighted(lz_linalg_eigvalsh(lz_add(x[0], mT(x[0])), "U"));
}

static void test_decompositions(void) {
  gc_check("cholesky", f_cholesky, (gc_input[]){IN(-1, 1, 2, 3, 3)}, 1, 1e-6);
  gc_check("cholesky upper", f_cholesky_up, (gc_input[]){IN(-1, 1, 3, 3)}, 1, 1e-6);
  gc_check("cholesky_inv", f_cholesky_inv, (gc_input[]){IN(-1, 1, 3, 3)}, 1, 1e-6);
  gc_check("cholesky_inv upper", f_cholesky_inv_up, (gc_input[]){IN(-1, 1, 3, 3)}, 1, 1e-6);
  gc_check("qr square", f_qr, (gc_input[]){IN(-1, 1, 3, 3)}, 1, 1e-5);
  gc_check("qr tall batch", f_qr, (gc_input[]){IN(-1, 1, 2, 4, 3)}, 1, 1e-5);
  gc_check("svd values", f_svdvals, (gc_input[]){IN(-1, 1, 2, 3, 4)}, 1, 1e-5);
  gc_check("svd values (full)", f_svd_s, (gc_input[]){IN(-1, 1, 4, 3)}, 1, 1e-5);
  gc_check("eigh", f_eigh, (gc_input[]){IN(-1, 1, 2, 3, 3)}, 1, 1e-5);
  gc_check("eigvalsh", f_eigvalsh, (gc_input[]){IN(-1, 1, 4, 4)}, 1, 1e-5);
}

/* qr of a wide matrix and svd's vectors report that they are not differentiable. */
static lz_array *f_qr_wide(lz_array *const *x) {
  lz_array *o[2];
  if (lz_linalg_qr(x[0], o) != 0) return NULL;
  return lz_sum(o[1], false);
}
static lz_array *f_svd_u(lz_array *const *x) {
  lz_array *o[3];
  if (lz_linalg_svd(x[0], true, o) != 0) return NULL;
  return lz_sum(o[0], false);
}
static void expect_error(lz_closure *g, lz_array *x, const char *needle) {
  lz_array *out[1];
  lz_clear_error();
  CHECK(lz_closure_call(g, &x, 1, out) < 0);
  CHECK(strstr(lz_last_error(), needle) != NULL);
  lz_clear_error();
}
static void test_unsupported(void) {
  double v[6] = {1, 2, 3, 4, 5, 7};
  lz_array *x = lz_array_from_data(v, (int[]){2, 3}, 2, LZ_FLOAT64);
  lz_closure *f = gc_closure(f_qr_wide), *g = lz_grad(f, NULL, 0);
  expect_error(g, x, "M >= N");
  lz_closure_free(g), lz_closure_free(f);
  f = gc_closure(f_svd_u), g = lz_grad(f, NULL, 0);
  expect_error(g, x, "singular vectors");
  lz_closure_free(g), lz_closure_free(f);
}

/* ---- norms and cross ---- */

static double cur_ord;
static lz_array *f_norm_vec(lz_array *const *x) {
  return weighted(lz_linalg_norm_ord(x[0], cur_ord, (int[]){1}, 1, false));
}
static lz_array *f_norm_mat(lz_array *const *x) {
  return weighted(lz_linalg_norm_ord(x[0], cur_ord, (int[]){2, 0}, 2, true));
}
static lz_array *f_norm_default(lz_array *const *x) { return lz_linalg_norm(x[0], NULL, 0, false); }
static lz_array *f_norm_fro(lz_array *const *x) {
  return weighted(lz_linalg_norm_str(x[0], "fro", (int[]){0, 1}, 2, false));
}
static lz_array *f_norm_nuc(lz_array *const *x) {
  return weighted(lz_linalg_norm_str(x[0], "nuc", (int[]){1, 2}, 2, false));
}
static lz_array *f_cross(lz_array *const *x) { return weighted(lz_linalg_cross(x[0], x[1], 1)); }

static void test_norms(void) {
  double vec_ords[] = {2, 1, 3, 0.5, INFINITY, -INFINITY, 0};
  for (size_t k = 0; k < sizeof vec_ords / sizeof vec_ords[0]; k++) {
    cur_ord = vec_ords[k];
    char name[64];
    snprintf(name, sizeof name, "vector norm ord %g", cur_ord);
    gc_check(name, f_norm_vec, (gc_input[]){IN(-1, 1, 3, 4)}, 1, 1e-6);
  }
  double mat_ords[] = {1, -1, INFINITY, -INFINITY, 2, -2};
  for (size_t k = 0; k < sizeof mat_ords / sizeof mat_ords[0]; k++) {
    cur_ord = mat_ords[k];
    char name[64];
    snprintf(name, sizeof name, "matrix norm ord %g", cur_ord);
    gc_check(name, f_norm_mat, (gc_input[]){IN(-1, 1, 3, 2, 4)}, 1, 1e-5);
  }
  gc_check("norm default", f_norm_default, (gc_input[]){IN(-1, 1, 2, 3)}, 1, 1e-6);
  gc_check("norm fro", f_norm_fro, (gc_input[]){IN(-1, 1, 3, 2, 2)}, 1, 1e-6);
  gc_check("norm nuc", f_norm_nuc, (gc_input[]){IN(-1, 1, 2, 3, 2)}, 1, 1e-5);
  gc_check("cross", f_cross, (gc_input[]){IN(-1, 1, 2, 3), IN(-1, 1, 1, 3)}, 2, 1e-6);
}

int main(void) {
  RUN(test_matmul_family);
  RUN(test_inverses);
  RUN(test_decompositions);
  RUN(test_unsupported);
  RUN(test_norms);
  return lzt_summary();
}
