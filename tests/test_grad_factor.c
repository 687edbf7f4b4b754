/* Derivative rules of the pseudo-inverse, the LU factorisations (lu and lu_factor, square
 * matrices) and the eigenvalues of the general eigendecomposition: vjp and jvp against central
 * differences in float64, and vjp against jvp; the unsupported cases (eigenvectors, LU of a
 * non-square matrix) are errors. */
#include "test_grad_check.h"

#include <math.h>

#define IN(lo, hi, ...) {(int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), {__VA_ARGS__}, lo, hi}

static lz_array *weight(lz_array *x, double phase) {
  int n = (int)lz_array_size(x);
  lz_array *r = lz_arange(1, 1 + n, 1, LZ_FLOAT64);
  return lz_reshape(lz_sin(lz_add(r, lz_float(phase))), lz_array_shape(x), lz_array_ndim(x));
}
static lz_array *weighted(lz_array *y) {
  y = lz_astype(y, LZ_FLOAT64);
  return lz_multiply(y, weight(y, 0));
}
/* A well-conditioned square matrix from x: x + n I. */
static lz_array *well(lz_array *x) {
  int n = lz_array_shape(x)[lz_array_ndim(x) - 1];
  return lz_add(x, lz_multiply(lz_eye(n, n, 0, LZ_FLOAT64), lz_float(n)));
}

static lz_array *f_pinv(lz_array *const *x) { return weighted(lz_linalg_pinv(x[0])); }

static void test_pinv(void) {
  gc_check("pinv wide", f_pinv, (gc_input[]){IN(-1, 1, 3, 4)}, 1, 1e-6);
  gc_check("pinv tall", f_pinv, (gc_input[]){IN(-1, 1, 4, 2)}, 1, 1e-6);
  gc_check("pinv square batch", f_pinv, (gc_input[]){IN(-1, 1, 2, 3, 3)}, 1, 1e-6);
}

static lz_array *f_lu(lz_array *const *x) {
  lz_array *o[3];
  if (lz_linalg_lu(x[0], o) != 0) return NULL;
  return lz_add(weighted(o[1]), lz_multiply(o[2], weight(o[2], 1)));
}
static lz_array *f_lu_u(lz_array *const *x) { /* only U flows back */
  lz_array *o[3];
  if (lz_linalg_lu(well(x[0]), o) != 0) return NULL;
  return weighted(o[2]);
}
static lz_array *f_lu_factor(lz_array *const *x) {
  lz_array *o[2];
  if (lz_linalg_lu_factor(x[0], o) != 0) return NULL;
  return weighted(o[0]);
}

static void test_lu(void) {
  gc_check("lu", f_lu, (gc_input[]){IN(-1, 1, 4, 4)}, 1, 1e-6);
  gc_check("lu batch", f_lu, (gc_input[]){IN(-1, 1, 2, 3, 3)}, 1, 1e-6);
  gc_check("lu U only", f_lu_u, (gc_input[]){IN(-1, 1, 3, 3)}, 1, 1e-6);
  gc_check("lu_factor", f_lu_factor, (gc_input[]){IN(-1, 1, 4, 4)}, 1, 1e-6);
}

/* Eigenvalues through their real and imaginary parts. The decomposition runs in single
 * precision: a larger step and a looser tolerance. */
static lz_array *f_eigvals(lz_array *const *x) {
  lz_array *w = lz_linalg_eigvals(x[0]);
  lz_array *re = lz_astype(lz_real(w), LZ_FLOAT64), *im = lz_astype(lz_imag(w), LZ_FLOAT64);
  return lz_add(lz_multiply(re, weight(re, 0)), lz_multiply(im, weight(im, 2)));
}
static lz_array *f_eig_values(lz_array *const *x) {
  lz_array *o[2];
  if (lz_linalg_eig(x[0], o) != 0) return NULL;
  return lz_multiply(lz_astype(lz_real(o[0]), LZ_FLOAT64), weight(lz_real(o[0]), 0));
}
static lz_array *f_eig_vectors(lz_array *const *x) {
  lz_array *o[2];
  if (lz_linalg_eig(x[0], o) != 0) return NULL;
  return lz_sum(lz_real(o[1]), false);
}
static lz_array *f_lu_wide(lz_array *const *x) {
  lz_array *o[3];
  if (lz_linalg_lu(x[0], o) != 0) return NULL;
  return lz_sum(o[2], false);
}

static void test_eig(void) {
  gc_check_h("eigvals", f_eigvals, (gc_input[]){IN(-1, 1, 4, 4)}, 1, 1e-2, 1e-3);
  gc_check_h("eigvals batch", f_eigvals, (gc_input[]){IN(-1, 1, 2, 3, 3)}, 1, 1e-2, 1e-3);
  gc_check_h("eig values only", f_eig_values, (gc_input[]){IN(-1, 1, 3, 3)}, 1, 1e-2, 1e-3);
}

/* lz_grad(f) at x, or NULL on error. */
static lz_array *grad_at(gc_body body, lz_array *x) {
  lz_closure *f = gc_closure(body), *gf = lz_grad(f, NULL, 0);
  lz_array *g = NULL;
  if (!gf || lz_closure_call(gf, &x, 1, &g) != 1) g = NULL;
  lz_closure_free(gf), lz_closure_free(f);
  return g;
}

static void test_unsupported(void) {
  lz_array *x = gc_random((int[]){3, 3}, 2, -1, 1), *w = gc_random((int[]){2, 3}, 2, -1, 1);
  CHECK_ERROR(grad_at(f_eig_vectors, x), "eigenvectors");
  CHECK_ERROR(grad_at(f_lu_wide, w), "square");
}

int main(void) {
  RUN(test_pinv);
  RUN(test_lu);
  RUN(test_eig);
  RUN(test_unsupported);
  return lzt_summary();
}
