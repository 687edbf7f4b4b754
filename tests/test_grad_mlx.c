/* Derivatives that must come out exactly as MLX's: cumprod through zeros (MLX's
 * test_cumprod_grad values, and the full Jacobian against central differences), cummax and
 * cummin (MLX's test_cummax_grad / test_cummin_grad values) with infinite cotangents in an
 * exclusive scan's identity slot, and the float32 zero tangent of ops without a derivative. */
#include "lz_test.h"

typedef lz_array *(*scan_fn)(lz_array *, int, bool, bool);
static scan_fn cur_scan;
static bool cur_rev, cur_incl;

static int scan_call(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = cur_scan(in[0], 0, cur_rev, cur_incl);
  return out[0] ? 1 : -1;
}
static int scan_sum_call(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_sum(cur_scan(in[0], 0, cur_rev, cur_incl), false);
  return out[0] ? 1 : -1;
}

/* grad of sum(scan(y)) for a 5-vector. */
static void check_grad(const double *y, bool rev, bool incl, const double *want) {
  cur_rev = rev, cur_incl = incl;
  lz_array *x = lz_array_from_data(y, (int[]){5}, 1, LZ_FLOAT64), *out[1];
  lz_closure *f = lz_closure_new(scan_sum_call, NULL, NULL), *g = lz_grad(f, NULL, 0);
  CHECK(lz_closure_call(g, &x, 1, out) == 1);
  CHECK_VALUES(out[0], want, 5, 1e-6);
  lz_free(out[0]);
  lz_closure_free(g), lz_closure_free(f);
}

/* MLX's python/tests/test_autograd.py, test_cumprod_grad. */
static void test_cumprod_mlx_values(void) {
  cur_scan = lz_cumprod;
  const double a[5] = {2, 1, 2, 2, 3}, b[5] = {2, 0, 2, 2, 3}, c[5] = {2, 0, 2, 0, 3};
  check_grad(a, false, true, (double[]){20, 38, 18, 16, 8});
  check_grad(b, false, true, (double[]){1, 38, 0, 0, 0});
  check_grad(c, false, true, (double[]){1, 6, 0, 0, 0});
  check_grad(a, false, false, (double[]){8, 14, 6, 4, 0});
  check_grad(b, false, false, (double[]){1, 14, 0, 0, 0});
  check_grad(c, false, false, (double[]){1, 6, 0, 0, 0});
  check_grad(a, true, false, (double[]){0, 12, 12, 15, 11});
  check_grad(b, true, false, (double[]){0, 12, 6, 9, 7});
  check_grad(c, true, false, (double[]){0, 0, 0, 9, 1});
  check_grad(a, true, true, (double[]){12, 36, 24, 27, 19});
  check_grad(b, true, true, (double[]){0, 36, 6, 9, 7});
  check_grad(c, true, true, (double[]){0, 0, 0, 9, 1});
}

/* The full Jacobian of cumprod by vjp (rows) and jvp (columns) against central differences,
 * in float64, for inputs with zeros at every kind of place; no NaN anywhere. cumprod is
 * multilinear, so central differences are exact up to rounding. */
static void check_jacobian(const double *x, int n) {
  lz_closure *f = lz_closure_new(scan_call, NULL, NULL);
  lz_array *xa = lz_array_from_data(x, &n, 1, LZ_FLOAT64);
  double fd[8][8], h = 1e-3; /* fd[i][j] = d y_i / d x_j */
  for (int j = 0; j < n; j++) {
    double xp[8], xm[8], yp[8], ym[8];
    memcpy(xp, x, (size_t)n * sizeof *x), memcpy(xm, x, (size_t)n * sizeof *x);
    xp[j] += h, xm[j] -= h;
    lz_array *ap = lz_array_from_data(xp, &n, 1, LZ_FLOAT64);
    lz_array *am = lz_array_from_data(xm, &n, 1, LZ_FLOAT64), *op[1], *om[1];
    CHECK(lz_closure_call(f, &ap, 1, op) == 1 && lz_closure_call(f, &am, 1, om) == 1);
    CHECK(lz_array_read(op[0], LZ_FLOAT64, yp, (size_t)n * 8) == 0);
    CHECK(lz_array_read(om[0], LZ_FLOAT64, ym, (size_t)n * 8) == 0);
    for (int i = 0; i < n; i++) fd[i][j] = (yp[i] - ym[i]) / (2 * h);
    lz_free(op[0]), lz_free(om[0]), lz_free(ap), lz_free(am);
  }
  for (int k = 0; k < n; k++) {
    double e[8] = {0}, row[8], col[8];
    e[k] = 1;
    lz_array *ek = lz_array_from_data(e, &n, 1, LZ_FLOAT64), *g[1], *t[1];
    CHECK(lz_vjp(f, &xa, 1, &ek, 1, NULL, g) == 0);
    CHECK(lz_jvp(f, &xa, 1, &ek, NULL, t) == 1);
    CHECK(lz_array_read(g[0], LZ_FLOAT64, row, (size_t)n * 8) == 0);
    CHECK(lz_array_read(t[0], LZ_FLOAT64, col, (size_t)n * 8) == 0);
    for (int j = 0; j < n; j++) {
      CHECK_CLOSE(row[j], fd[k][j], 1e-9);
      CHECK_CLOSE(col[j], fd[j][k], 1e-9);
    }
    lz_free(g[0]), lz_free(t[0]), lz_free(ek);
  }
  lz_free(xa);
  lz_closure_free(f);
}

static void test_cumprod_jacobian_with_zeros(void) {
  cur_scan = lz_cumprod;
  const double cases[][6] = {
      {2, 3, 4, 1.5, 0.5, 3}, {2, 0, 3, 4, 1, 2},   {2, 0, 3, 0, 5, 1},
      {0, 0, 3, 2, 1, 1},     {1.5, 2, 3, 4, 5, 0}, {0, 0, 0, 0, 0, 0},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    for (int r = 0; r < 2; r++)
      for (int i = 0; i < 2; i++) {
        cur_rev = r, cur_incl = i;
        check_jacobian(cases[c], 6);
      }
}

/* The second derivative through zeros is finite (MLX's rule gives the positions past the
 * lane's first zero a constant zero first derivative, so there it carries no second one);
 * without zeros it matches central differences of the first derivative. */
static int grad_dot_call(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)n;
  lz_closure *g = ctx;
  lz_array *gr[1];
  if (lz_closure_call(g, in, 1, gr) != 1) return -1;
  lz_array *w = lz_arange(1, 6, 1, LZ_FLOAT64);
  out[0] = lz_sum(lz_multiply(gr[0], w), false);
  lz_free(gr[0]), lz_free(w);
  return out[0] ? 1 : -1;
}
static void test_cumprod_second_derivative(void) {
  cur_scan = lz_cumprod, cur_rev = false, cur_incl = true;
  lz_closure *f = lz_closure_new(scan_sum_call, NULL, NULL), *g = lz_grad(f, NULL, 0);
  lz_closure *h = lz_closure_new(grad_dot_call, g, NULL), *gh = lz_grad(h, NULL, 0);
  double z[5] = {2, 0, 3, 0, 5}, v[5] = {2, 0.5, 3, 1.5, 5}, got[5];
  lz_array *x = lz_array_from_data(z, (int[]){5}, 1, LZ_FLOAT64), *out[1];
  CHECK(lz_closure_call(gh, &x, 1, out) == 1);
  CHECK(lz_array_read(out[0], LZ_FLOAT64, got, sizeof got) == 0);
  for (int i = 0; i < 5; i++) CHECK(isfinite(got[i]));
  lz_free(out[0]), lz_free(x);
  x = lz_array_from_data(v, (int[]){5}, 1, LZ_FLOAT64);
  CHECK(lz_closure_call(gh, &x, 1, out) == 1);
  double want[5]; /* w . H by central differences of the first derivative */
  for (int j = 0; j < 5; j++) {
    double xp[5], xm[5], gp[5], gm[5], hh = 1e-4;
    memcpy(xp, v, sizeof v), memcpy(xm, v, sizeof v);
    xp[j] += hh, xm[j] -= hh;
    lz_array *ap = lz_array_from_data(xp, (int[]){5}, 1, LZ_FLOAT64);
    lz_array *am = lz_array_from_data(xm, (int[]){5}, 1, LZ_FLOAT64), *op[1], *om[1];
    CHECK(lz_closure_call(g, &ap, 1, op) == 1 && lz_closure_call(g, &am, 1, om) == 1);
    CHECK(lz_array_read(op[0], LZ_FLOAT64, gp, sizeof gp) == 0);
    CHECK(lz_array_read(om[0], LZ_FLOAT64, gm, sizeof gm) == 0);
    want[j] = 0;
    for (int i = 0; i < 5; i++) want[j] += (i + 1) * (gp[i] - gm[i]) / (2 * hh);
    lz_free(op[0]), lz_free(om[0]), lz_free(ap), lz_free(am);
  }
  CHECK_VALUES(out[0], want, 5, 1e-6);
  lz_free(out[0]), lz_free(x);
  lz_closure_free(gh), lz_closure_free(h), lz_closure_free(g), lz_closure_free(f);
}

/* MLX's test_cummax_grad / test_cummin_grad: ties go to the latest occurrence. */
static void test_cummax_cummin_mlx_values(void) {
  const double a[5] = {3, 3, 1, 5, 5};
  cur_scan = lz_cummax;
  check_grad(a, false, true, (double[]){1, 2, 0, 1, 1});
  check_grad(a, false, false, (double[]){1, 2, 0, 1, 0});
  check_grad(a, true, true, (double[]){0, 0, 0, 4, 1});
  check_grad(a, true, false, (double[]){0, 0, 0, 3, 1});
  cur_scan = lz_cummin;
  check_grad(a, false, true, (double[]){1, 1, 3, 0, 0});
  check_grad(a, false, false, (double[]){1, 1, 2, 0, 0});
  check_grad(a, true, true, (double[]){0, 0, 3, 1, 1});
  check_grad(a, true, false, (double[]){0, 0, 2, 1, 1});
}

/* The identity slot of an exclusive cummax/cummin reads no input: an infinite cotangent or
 * tangent there must not turn into NaN elsewhere. */
static void test_exclusive_extreme_infinite_slot(void) {
  const double inf = INFINITY;
  lz_closure *f = lz_closure_new(scan_call, NULL, NULL);
  for (int r = 0; r < 2; r++) {
    cur_scan = lz_cummax, cur_rev = r, cur_incl = false;
    /* forward on (1, 2, 3): outputs (id, x0, x1), the slot reads x2's tangent;
     * reverse on (3, 2, 1): outputs (x1, x2, id), the slot reads x0's tangent */
    double xv[3] = {r ? 3 : 1, 2, r ? 1 : 3};
    double cv[3] = {r ? 1 : inf, 1, r ? inf : 1}, tv[3] = {r ? inf : 1, 1, r ? 1 : inf};
    lz_array *xa = lz_array_from_data(xv, (int[]){3}, 1, LZ_FLOAT64);
    lz_array *c = lz_array_from_data(cv, (int[]){3}, 1, LZ_FLOAT64);
    lz_array *t = lz_array_from_data(tv, (int[]){3}, 1, LZ_FLOAT64), *g[1], *jt[1];
    CHECK(lz_vjp(f, &xa, 1, &c, 1, NULL, g) == 0);
    CHECK(lz_jvp(f, &xa, 1, &t, NULL, jt) == 1);
    if (r) {
      CHECK_VALUES(g[0], ((double[]){0, 1, 1}), 3, 0);
      CHECK_VALUES(jt[0], ((double[]){1, 1, 0}), 3, 0);
    } else {
      CHECK_VALUES(g[0], ((double[]){1, 1, 0}), 3, 0);
      CHECK_VALUES(jt[0], ((double[]){0, 1, 1}), 3, 0);
    }
    lz_free(g[0]), lz_free(jt[0]), lz_free(c), lz_free(t), lz_free(xa);
  }
  lz_closure_free(f);
}

/* The tangent of an output without a derivative by its dtype is float32 zeros (MLX). */
static int less_call(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_less(in[0], lz_float(1));
  out[1] = lz_argmax(in[0], false);
  out[2] = lz_floor(in[0]);
  return out[0] && out[1] && out[2] ? 3 : -1;
}
static void test_nondifferentiable_tangent_dtype(void) {
  double v[3] = {0.5, 2, -1};
  lz_array *x = lz_array_from_data(v, (int[]){3}, 1, LZ_FLOAT64), *t = lz_ones_like(x);
  lz_closure *f = lz_closure_new(less_call, NULL, NULL);
  lz_array *jv[3];
  CHECK(lz_jvp(f, &x, 1, &t, NULL, jv) == 3);
  CHECK(lz_array_dtype(jv[0]) == LZ_FLOAT32);
  CHECK_SHAPE(jv[0], 3);
  CHECK_VALUES(jv[0], ((double[]){0, 0, 0}), 3, 0);
  CHECK(lz_array_dtype(jv[1]) == LZ_FLOAT32 && lz_array_ndim(jv[1]) == 0);
  CHECK(lz_array_dtype(jv[2]) == LZ_FLOAT64); /* a float output keeps its dtype */
  CHECK_VALUES(jv[2], ((double[]){0, 0, 0}), 3, 0);
  for (int k = 0; k < 3; k++) lz_free(jv[k]);
  lz_free(x), lz_free(t);
  lz_closure_free(f);
}

int main(void) {
  RUN(test_cumprod_mlx_values);
  RUN(test_cumprod_jacobian_with_zeros);
  RUN(test_cumprod_second_derivative);
  RUN(test_cummax_cummin_mlx_values);
  RUN(test_exclusive_extreme_infinite_slot);
  RUN(test_nondifferentiable_tangent_dtype);
  return lzt_summary();
}
