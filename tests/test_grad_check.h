/* A generic derivative checker for the transform tests: for a function of float64 inputs it
 * compares lz_vjp with central finite differences of <cotangent, f(x)>, lz_jvp with central
 * differences of f along the tangent, and the two with each other by the dot-product identity
 * <vjp(c), t> = <c, jvp(t)>. Inputs are random, in a range the caller picks. */
#ifndef LZ_TEST_GRAD_CHECK_H
#define LZ_TEST_GRAD_CHECK_H

#include "lz_test.h"

/* The function under test: builds its one output from the inputs. */
typedef lz_array *(*gc_body)(lz_array *const *in);

static int gc_call(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)n;
  out[0] = ((gc_body)ctx)(in);
  return out[0] ? 1 : -1;
}

static lz_closure *gc_closure(gc_body body) { return lz_closure_new(gc_call, (void *)body, NULL); }

static uint64_t gc_state = 0x9e3779b97f4a7c15ull;
static double gc_uniform(double lo, double hi) {
  gc_state = gc_state * 6364136223846793005ull + 1442695040888963407ull;
  return lo + (hi - lo) * (double)(gc_state >> 11) / 9007199254740992.0;
}

static lz_array *gc_random(const int *shape, int ndim, double lo, double hi) {
  size_t n = 1;
  for (int d = 0; d < ndim; d++) n *= (size_t)shape[d];
  double *v = malloc((n ? n : 1) * sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = gc_uniform(lo, hi);
  lz_array *a = lz_array_from_data(v, shape, ndim, LZ_FLOAT64);
  free(v);
  return a;
}

static double *gc_read(lz_array *a) {
  size_t n = lz_array_size(a);
  double *v = malloc((n ? n : 1) * sizeof *v);
  if (lz_array_read(a, LZ_FLOAT64, v, n * sizeof *v) != 0) memset(v, 0, n * sizeof *v);
  return v;
}

/* f at inputs (in[i] replaced by the data `x` when x is not NULL), read back as float64. */
static double *gc_eval(lz_closure *f, lz_array *const *in, int n, int i, const double *x) {
  lz_array *args[8], *out[LZ_MAX_OUTPUTS];
  for (int j = 0; j < n; j++) args[j] = in[j];
  if (x) args[i] = lz_array_from_data(x, lz_array_shape(in[i]), lz_array_ndim(in[i]),
                                      LZ_FLOAT64);
  int k = lz_closure_call(f, args, n, out);
  double *v = k > 0 ? gc_read(out[0]) : NULL;
  for (int j = 0; j < k; j++) lz_free(out[j]);
  if (x) lz_free(args[i]);
  return v;
}

typedef struct gc_input {
  int ndim;
  int shape[4];
  double lo, hi; /* random values in [lo, hi) */
} gc_input;

/* Checks the derivatives of `body` at random inputs with step h; `tol` is relative. */
static inline void gc_check_h(const char *what, gc_body body, const gc_input *spec, int n, double tol,
                       double h) {
  lz_scope_begin();
  lz_closure *f = gc_closure(body);
  lz_array *in[8], *tan[8], *grads[8], *outs[LZ_MAX_OUTPUTS], *jv[LZ_MAX_OUTPUTS];
  for (int i = 0; i < n; i++) {
    in[i] = gc_random(spec[i].shape, spec[i].ndim, spec[i].lo, spec[i].hi);
    tan[i] = gc_random(spec[i].shape, spec[i].ndim, -1, 1);
  }
  double *y = gc_eval(f, in, n, 0, NULL);
  lz_array *probe[1];
  CHECK(lz_closure_call(f, in, n, probe) == 1);
  lz_array *cot = gc_random(lz_array_shape(probe[0]), lz_array_ndim(probe[0]), -1, 1);
  size_t ny = lz_array_size(probe[0]);
  double *c = gc_read(cot);
  int failures = lzt_failures;
  bool ok = lz_vjp(f, in, n, &cot, 1, outs, grads) == 0;
  CHECK(ok);
  ok = ok && lz_jvp(f, in, n, tan, NULL, jv) == 1;
  CHECK(ok);
  if (!ok) {
    fprintf(stderr, "  (in %s)\n", what);
    lz_clear_error();
    free(c), free(y);
    lz_closure_free(f);
    lz_scope_end();
    return;
  }
  double lhs = 0, rhs = 0; /* the dot-product identity */
  for (int i = 0; i < n && failures == lzt_failures; i++) {
    size_t nx = lz_array_size(in[i]);
    double *x = gc_read(in[i]), *g = gc_read(grads[i]), *t = gc_read(tan[i]);
    CHECK(lz_array_dtype(grads[i]) == LZ_FLOAT64);
    for (size_t e = 0; e < nx; e++) {
      double x0 = x[e];
      x[e] = x0 + h;
      double *yp = gc_eval(f, in, n, i, x);
      x[e] = x0 - h;
      double *ym = gc_eval(f, in, n, i, x);
      x[e] = x0;
      double fd = 0;
      for (size_t k = 0; k < ny; k++) fd += c[k] * (yp[k] - ym[k]) / (2 * h);
      free(yp), free(ym);
      if (!(fabs(fd - g[e]) <= tol * (1 + fabs(fd)))) {
        CHECK_CLOSE(g[e], fd, tol);
        fprintf(stderr, "  %s: vjp of input %d, element %zu\n", what, i, e);
        break;
      }
      lhs += g[e] * t[e];
    }
    free(x), free(g), free(t);
  }
  /* jvp against central differences along all tangents at once */
  lz_array *xp[8], *xm[8], *out[LZ_MAX_OUTPUTS];
  for (int i = 0; i < n; i++) {
    xp[i] = lz_add(in[i], lz_multiply(tan[i], lz_float(h)));
    xm[i] = lz_subtract(in[i], lz_multiply(tan[i], lz_float(h)));
  }
  CHECK(lz_closure_call(f, xp, n, out) == 1);
  double *yp = gc_read(out[0]);
  CHECK(lz_closure_call(f, xm, n, out) == 1);
  double *ym = gc_read(out[0]), *j = gc_read(jv[0]);
  for (size_t k = 0; k < ny; k++) {
    double fd = (yp[k] - ym[k]) / (2 * h);
    if (!(fabs(fd - j[k]) <= tol * (1 + fabs(fd)))) {
      CHECK_CLOSE(j[k], fd, tol);
      fprintf(stderr, "  %s: jvp, element %zu\n", what, k);
      break;
    }
    rhs += c[k] * j[k];
  }
  if (failures == lzt_failures) {
    CHECK_CLOSE(lhs, rhs, tol * 1e-2);
    double *o = gc_read(outs[0]); /* lz_vjp's outputs are f's values */
    for (size_t k = 0; k < ny; k++) CHECK_CLOSE(o[k], y[k], 1e-12);
    free(o);
  }
  if (failures != lzt_failures) fprintf(stderr, "  (in %s)\n", what);
  free(yp), free(ym), free(j), free(c), free(y);
  lz_closure_free(f);
  lz_scope_end();
}

static inline void gc_check(const char *what, gc_body body, const gc_input *spec, int n, double tol) {
  gc_check_h(what, body, spec, n, tol, 1e-6);
}

#endif /* LZ_TEST_GRAD_CHECK_H */
