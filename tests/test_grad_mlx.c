/* Derivatives that must come out exactly as MLX's: cumprod through zeros (MLX's
 * test_cumprod_grad values, and the full Jacobian against central differences), cummax and
 * cummin (MLX's test_cummax_grad / test_cummin_grad values) with infinite cotangents in an
 * exclusive scan's identity slot, the float32 zero tangent of ops without a derivative, and
 * MLX's convention for complex gradients (dL/dRe + i dL/dIm, MLX's test_complex_vjps) through
 * every path: lz_grad, lz_vjp, a custom vjp, a compiled function. */
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


/* ---- complex gradients: MLX's convention ---- */

static lz_array *cplx(const float *v, int n) { return lz_array_from_data(v, &n, 1, LZ_COMPLEX64); }
static const float zv[8] = {0, 1, 1, 0, 0.5f, 0.5f, -0.75f, 0.25f}; /* 4 complex numbers */
static const float av[8] = {0.5f, -1, 2, 0.25f, -0.5f, 0.75f, 1, 1};

typedef lz_array *(*cbody)(lz_array *z);
static int cbody_call(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)n;
  out[0] = ((cbody)ctx)(in[0]);
  return out[0] ? 1 : -1;
}

/* Central differences of the real scalar f(z) along the real and imaginary part of each of
 * z's 4 elements, as the complex gradient dL/dRe + i dL/dIm. */
static void fd_complex_grad(lz_closure *f, const float *z, float *g) {
  const float h = 1e-2f;
  for (int k = 0; k < 8; k++) {
    float zp[8], zm[8];
    memcpy(zp, z, sizeof zp), memcpy(zm, z, sizeof zm);
    zp[k] += h, zm[k] -= h;
    lz_array *ap = cplx(zp, 4), *am = cplx(zm, 4), *op[1], *om[1];
    double lp = NAN, lm = NAN;
    if (lz_closure_call(f, &ap, 1, op) == 1 && lz_closure_call(f, &am, 1, om) == 1) {
      lz_array_read(op[0], LZ_FLOAT64, &lp, sizeof lp);
      lz_array_read(om[0], LZ_FLOAT64, &lm, sizeof lm);
      lz_free(op[0]), lz_free(om[0]);
    }
    g[k] = (float)((lp - lm) / (2 * h));
    lz_free(ap), lz_free(am);
  }
}

/* a (n complex64 values) against want (n pairs). */
static void check_complex_pairs(lz_array *a, const float *want, int n, double tol) {
  float got[8] = {0};
  CHECK(a && lz_array_dtype(a) == LZ_COMPLEX64 && (int)lz_array_size(a) == n);
  CHECK(lz_array_read(a, LZ_COMPLEX64, got, (size_t)n * 2 * sizeof(float)) == 0);
  for (int k = 0; k < 2 * n; k++) CHECK_CLOSE(got[k], want[k], tol);
}

/* grad of the real loss `body` at zv against central differences. */
static void check_complex_loss(cbody body) {
  lz_closure *f = lz_closure_new(cbody_call, (void *)body, NULL), *g = lz_grad(f, NULL, 0);
  lz_array *z = cplx(zv, 4), *out[1];
  float want[8];
  fd_complex_grad(f, zv, want);
  CHECK(lz_closure_call(g, &z, 1, out) == 1);
  check_complex_pairs(out[0], want, 4, 2e-3);
  lz_free(out[0]), lz_free(z);
  lz_closure_free(g), lz_closure_free(f);
}

static lz_array *two_real(lz_array *z) { return lz_sum(lz_multiply(lz_float(2), lz_real(z)), false); }
static lz_array *two_imag(lz_array *z) { return lz_sum(lz_multiply(lz_float(2), lz_imag(z)), false); }

/* MLX's python/tests/test_autograd.py, test_complex_vjps. */
static void test_complex_mlx_values(void) {
  lz_closure *fr = lz_closure_new(cbody_call, (void *)two_real, NULL), *gr = lz_grad(fr, NULL, 0);
  lz_closure *fi = lz_closure_new(cbody_call, (void *)two_imag, NULL), *gi = lz_grad(fi, NULL, 0);
  lz_array *z = cplx(zv, 3), *out[1];
  CHECK(lz_closure_call(gr, &z, 1, out) == 1);
  check_complex_pairs(out[0], (float[]){2, 0, 2, 0, 2, 0}, 3, 0);
  lz_free(out[0]);
  CHECK(lz_closure_call(gi, &z, 1, out) == 1);
  check_complex_pairs(out[0], (float[]){0, 2, 0, 2, 0, 2}, 3, 0); /* +2i, not JAX's -2i */
  lz_free(out[0]), lz_free(z);
  lz_closure_free(gr), lz_closure_free(fr), lz_closure_free(gi), lz_closure_free(fi);
}

static lz_array *wsum(lz_array *v) { /* a real loss with distinct weights per element */
  lz_array *w = lz_arange(1, 1 + (double)lz_array_size(v), 1, LZ_FLOAT32);
  return lz_sum(lz_multiply(v, lz_reshape(w, lz_array_shape(v), lz_array_ndim(v))), false);
}
static lz_array *a_const(void) { return cplx(av, 4); }
static lz_array *l_abs(lz_array *z) { return wsum(lz_abs(z)); }
static lz_array *l_mul(lz_array *z) { return wsum(lz_imag(lz_multiply(z, a_const()))); }
static lz_array *l_div(lz_array *z) { return wsum(lz_real(lz_divide(a_const(), lz_add(z, lz_float(2))))); }
static lz_array *l_poly(lz_array *z) {
  return wsum(lz_add(lz_real(lz_multiply(lz_square(z), z)), lz_imag(lz_multiply(z, z))));
}
static lz_array *l_square(lz_array *z) { return wsum(lz_abs(lz_square(lz_subtract(z, a_const())))); }
static lz_array *l_conj(lz_array *z) { return wsum(lz_imag(lz_multiply(lz_conj(z), a_const()))); }
static lz_array *l_fft(lz_array *z) { return wsum(lz_imag(lz_fft(lz_multiply(z, a_const()), 4, 0))); }

static void test_complex_grad_finite_differences(void) {
  cbody bodies[] = {two_imag, l_abs, l_mul, l_div, l_poly, l_square, l_conj, l_fft};
  for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) check_complex_loss(bodies[i]);
}

/* |z| at 0: gradient 0, no NaN; elsewhere z / |z|. */
static lz_array *l_abs_plain(lz_array *z) { return lz_sum(lz_abs(z), false); }
static void test_complex_abs_grad(void) {
  float v[8] = {3, 4, 0, 0, -1, 0, 0, -2};
  lz_closure *f = lz_closure_new(cbody_call, (void *)l_abs_plain, NULL), *g = lz_grad(f, NULL, 0);
  lz_array *z = cplx(v, 4), *out[1];
  CHECK(lz_closure_call(g, &z, 1, out) == 1);
  check_complex_pairs(out[0], (float[]){0.6f, 0.8f, 0, 0, -1, 0, 0, -1}, 4, 1e-6);
  lz_free(out[0]);
  lz_array *t = cplx((float[]){1, 0, 1, 1, 0, 1, 1, 1}, 4), *jv[1];
  lz_closure *fa = lz_closure_new(cbody_call, (void *)lz_abs, NULL);
  CHECK(lz_jvp(fa, &z, 1, &t, NULL, jv) == 1); /* Re(conj(z) t) / |z| */
  CHECK(lz_array_dtype(jv[0]) == LZ_FLOAT32);
  CHECK_VALUES(jv[0], ((double[]){0.6, 0, 0, -1}), 4, 1e-6);
  lz_free(jv[0]), lz_free(t), lz_free(z);
  lz_closure_free(fa), lz_closure_free(g), lz_closure_free(f);
}

/* lz_vjp with a complex cotangent c is the gradient of Re(sum(conj(c) f(z))): MLX's product
 * rule c conj(f'(z)). */
static lz_array *f_holo(lz_array *z) { return lz_multiply(lz_square(z), a_const()); }
static const float cv_[8] = {1, 2, -0.5f, 0.25f, 0, -1, 0.75f, 0.5f};
static lz_array *l_holo_paired(lz_array *z) {
  return lz_sum(lz_real(lz_multiply(lz_conj(cplx(cv_, 4)), f_holo(z))), false);
}
static void test_complex_vjp_cotangent(void) {
  lz_closure *f = lz_closure_new(cbody_call, (void *)f_holo, NULL);
  lz_closure *l = lz_closure_new(cbody_call, (void *)l_holo_paired, NULL);
  lz_array *z = cplx(zv, 4), *c = cplx(cv_, 4), *g[1];
  float want[8];
  fd_complex_grad(l, zv, want);
  CHECK(lz_vjp(f, &z, 1, &c, 1, NULL, g) == 0);
  check_complex_pairs(g[0], want, 4, 2e-3);
  lz_free(g[0]), lz_free(z), lz_free(c);
  lz_closure_free(l), lz_closure_free(f);
}

/* A custom vjp gets and returns MLX-convention cotangents: the rule of z -> a z written as
 * a user would (c conj(a)) gives the true gradient; so does a compiled function. */
static int times_a(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_multiply(in[0], a_const());
  return out[0] ? 1 : -1;
}
static int times_a_vjp(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n; /* (z, cotangent, output) */
  out[0] = lz_multiply(in[1], lz_conj(a_const()));
  return out[0] ? 1 : -1;
}
static lz_closure *cur_inner;
static lz_array *l_inner(lz_array *z) {
  lz_array *o[1];
  if (lz_closure_call(cur_inner, &z, 1, o) != 1) return NULL;
  lz_array *r = wsum(lz_add(lz_imag(o[0]), lz_real(lz_square(o[0]))));
  lz_free(o[0]);
  return r;
}
static void test_complex_custom_and_compiled(void) {
  lz_closure *f = lz_closure_new(times_a, NULL, NULL), *fv = lz_closure_new(times_a_vjp, NULL, NULL);
  lz_closure *inner[2] = {lz_custom_function(f, fv, NULL, NULL), lz_compile(f, 0)};
  for (int i = 0; i < 2; i++) {
    cur_inner = inner[i];
    check_complex_loss(l_inner);
    lz_closure_free(inner[i]);
  }
  lz_closure_free(fv), lz_closure_free(f);
}

int main(void) {
  RUN(test_cumprod_mlx_values);
  RUN(test_cumprod_jacobian_with_zeros);
  RUN(test_cumprod_second_derivative);
  RUN(test_cummax_cummin_mlx_values);
  RUN(test_exclusive_extreme_infinite_slot);
  RUN(test_nondifferentiable_tangent_dtype);
  RUN(test_complex_mlx_values);
  RUN(test_complex_grad_finite_differences);
  RUN(test_complex_abs_grad);
  RUN(test_complex_vjp_cotangent);
  RUN(test_complex_custom_and_compiled);
  return lzt_summary();
}
