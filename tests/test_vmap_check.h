/* The vmap checker shared by tests/test_vmap*.c: for a function body and per-example input
 * specs, vmap(body) over random batched inputs must equal stacking body's results on each
 * example (x[i] taken along each mapped axis) along the out axis. */
#ifndef TEST_VMAP_CHECK_H
#define TEST_VMAP_CHECK_H

#include "lz_test.h"

/* A function of n inputs: writes its outputs, returns their number (or -1). */
typedef int (*vt_body)(lz_array *const *x, lz_array **out);

/* One input: the per-example shape, dtype and value range (integers: [lo, hi)), and the mapped
 * axis (LZ_VMAP_NONE: not mapped). `given`, when set, is used as the (batched) input instead. */
typedef struct vt_in {
  int ndim;
  int shape[6];
  lz_dtype dtype;
  double lo, hi;
  int axis;
  lz_array *given;
} vt_in;

/* Per-example shape `...` of dtype DT, values in [LO, HI), mapped along AXIS. */
#define VT_IN(DT, LO, HI, AXIS, ...)                                                               \
  { (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), {__VA_ARGS__}, DT, LO, HI, AXIS, NULL }
#define VT_IN0(DT, LO, HI, AXIS)                                                                   \
  { 0, {0}, DT, LO, HI, AXIS, NULL }
#define VT_F32(AXIS, ...) VT_IN(LZ_FLOAT32, -2, 2, AXIS, __VA_ARGS__)

static bool vt_quiet; /* the checker's self-test silences its reports */
static uint64_t vt_state = 0x9e3779b97f4a7c15ull;
static double vt_uniform(void) {
  vt_state = vt_state * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(vt_state >> 11) / 9007199254740992.0;
}

/* A new array of `shape` with values drawn uniformly from [lo, hi) (integers: floored). */
static lz_array *vt_random(const int *shape, int nd, lz_dtype dt, double lo, double hi) {
  size_t n = 1;
  for (int d = 0; d < nd; d++) n *= (size_t)shape[d];
  double *v = malloc((n ? n : 1) * sizeof *v);
  for (size_t i = 0; i < n; i++) {
    double u = lo + (hi - lo) * vt_uniform();
    v[i] = lz_dtype_is_float(dt) ? u : floor(u);
  }
  lz_array *f = lz_array_from_data(v, shape, nd, LZ_FLOAT64);
  free(v);
  lz_array *r = lz_astype(f, dt);
  lz_free(f);
  return r;
}

/* Whether a and b have one shape and close values (read as float64). Reports on failure. */
static bool vt_same(const char *what, lz_array *a, lz_array *b, double tol) {
  lzt_checks++;
  bool ok = a && b && lz_array_ndim(a) == lz_array_ndim(b);
  for (int d = 0; ok && d < lz_array_ndim(a); d++)
    ok = lz_array_shape(a)[d] == lz_array_shape(b)[d];
  if (!ok) {
    lzt_failures++;
    if (!vt_quiet)
      fprintf(stderr, "%s: %s: shapes differ or result missing (%s)\n", lzt_current, what,
              lz_last_error());
    lz_clear_error();
    return false;
  }
  size_t n = lz_array_size(a);
  double *x = malloc((n ? n : 1) * sizeof *x), *y = malloc((n ? n : 1) * sizeof *y);
  ok = lz_array_read(a, LZ_FLOAT64, x, n * sizeof *x) == 0 &&
       lz_array_read(b, LZ_FLOAT64, y, n * sizeof *y) == 0;
  for (size_t i = 0; ok && i < n; i++) {
    bool close =
        (isnan(x[i]) && isnan(y[i])) || x[i] == y[i] || fabs(x[i] - y[i]) <= tol * (1 + fabs(y[i]));
    if (!close) {
      if (!vt_quiet)
        fprintf(stderr, "%s: %s: element %zu = %.9g, loop gives %.9g\n", lzt_current, what, i, x[i],
                y[i]);
      ok = false;
    }
  }
  if (!ok) {
    lzt_failures++;
    if (lz_last_error()[0]) fprintf(stderr, "%s: %s: %s\n", lzt_current, what, lz_last_error());
    lz_clear_error();
  }
  free(x), free(y);
  return ok;
}

typedef struct vt_ctx {
  vt_body body;
} vt_ctx;

static int vt_call(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)n;
  return ((vt_ctx *)ctx)->body(in, out);
}

/* A closure running body (ctx must outlive it). */
static lz_closure *vt_closure(vt_ctx *ctx) { return lz_closure_new(vt_call, ctx, NULL); }

/* Checks vmap(body) against the loop for batch size B. out_axes may be NULL (0). */
static void vt_check_axes(const char *name, vt_body body, const vt_in *ins, int n, int B,
                          const int *out_axes, int n_out, double tol) {
  lz_scope_begin();
  lz_array *xs[8];
  int axes[8];
  for (int i = 0; i < n; i++) {
    const vt_in *s = &ins[i];
    axes[i] = s->axis;
    if (s->given) {
      xs[i] = s->given;
      continue;
    }
    int shape[8], nd = s->ndim;
    if (s->axis == LZ_VMAP_NONE) {
      memcpy(shape, s->shape, (size_t)nd * sizeof(int));
    } else {
      int ax = s->axis < 0 ? s->axis + nd + 1 : s->axis;
      for (int d = 0, e = 0; d <= nd; d++) shape[d] = d == ax ? B : s->shape[e++];
      nd++;
    }
    xs[i] = vt_random(shape, nd, s->dtype, s->lo, s->hi);
  }
  vt_ctx ctx = {body};
  lz_closure *f = vt_closure(&ctx);
  lz_closure *vf = lz_vmap(f, axes, n, out_axes, n_out);
  lz_array *res[LZ_MAX_OUTPUTS];
  int k = lz_closure_call(vf, xs, n, res);
  lzt_checks++;
  if (k < 0) {
    lzt_failures++;
    fprintf(stderr, "%s: %s: vmap failed: %s\n", lzt_current, name, lz_last_error());
    lz_clear_error();
  }
  /* the loop: outs[j][b] for each example b */
  lz_array *loop[LZ_MAX_OUTPUTS][64];
  for (int b = 0; b < B && k > 0; b++) {
    lz_array *ex[8];
    for (int i = 0; i < n; i++) {
      if (axes[i] == LZ_VMAP_NONE) {
        ex[i] = xs[i];
      } else {
        int nd = lz_array_ndim(xs[i]);
        int ax = axes[i] < 0 ? axes[i] + nd : axes[i];
        ex[i] = lz_take(xs[i], lz_int(b), ax);
      }
    }
    lz_array *o[LZ_MAX_OUTPUTS];
    int kk = body(ex, o);
    CHECK(kk == k);
    for (int j = 0; j < k && j < kk; j++) loop[j][b] = o[j];
  }
  for (int j = 0; j < k; j++) {
    int oa = out_axes ? out_axes[n_out == 1 ? 0 : j] : 0;
    char what[160];
    snprintf(what, sizeof what, "%s output %d", name, j);
    if (B == 0) {
      lzt_checks++;
      if (lz_array_shape(res[j])[oa < 0 ? oa + lz_array_ndim(res[j]) : oa] != 0) {
        lzt_failures++;
        fprintf(stderr, "%s: %s: batch axis is not empty\n", lzt_current, what);
      }
      continue;
    }
    lz_array *ref = lz_stack(loop[j], B, oa);
    vt_same(what, res[j], ref, tol);
  }
  lz_closure_free(vf);
  lz_closure_free(f);
  lz_scope_end();
}

static void vt_check(const char *name, vt_body body, const vt_in *ins, int n, double tol) {
  vt_check_axes(name, body, ins, n, 3, NULL, 0, tol);
}

#endif /* TEST_VMAP_CHECK_H */
