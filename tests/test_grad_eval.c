/* Evaluating inside a transformed function (lz_eval, lz_item_*, reading data) does not cut the
 * gradient: MLX's test_eval_in_grad values, the same through jvp, nested grads and
 * value_and_grad, and memory: what a trace kept is released when the transform ends, and a
 * chain evaluated after the transform frees its intermediates as usual. */
#include "lz_test.h"

static lz_array *vec(const double *v, int n) { return lz_array_from_data(v, &n, 1, LZ_FLOAT64); }

/* MLX: x = x + y; cond = x < 1; cond.tolist(); return x**2 */
static int f_read_cond(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *x = lz_add(in[0], vec((double[]){2, 2}, 2));
  bool c[2];
  if (lz_array_read(lz_less(x, lz_float(1)), LZ_BOOL, c, sizeof c) != 0) return -1;
  out[0] = lz_square(x);
  return out[0] ? 1 : -1;
}
/* MLX: x = x + [1, 1]; mx.eval(x); return x**2 */
static int f_eval_mid(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *x = lz_add(in[0], vec((double[]){1, 1}, 2));
  if (lz_eval(x) != 0) return -1;
  out[0] = lz_square(x);
  return out[0] ? 1 : -1;
}

static void test_mlx_eval_in_grad(void) {
  lz_array *x = vec((double[]){1}, 1), *cot = vec((double[]){1, 1}, 2), *g[1];
  lz_closure *f1 = lz_closure_new(f_read_cond, NULL, NULL);
  lz_closure *f2 = lz_closure_new(f_eval_mid, NULL, NULL);
  CHECK(lz_vjp(f1, &x, 1, &cot, 1, NULL, g) == 0);
  CHECK_VALUES(g[0], ((double[]){12}), 1, 0);
  lz_free(g[0]);
  CHECK(lz_vjp(f2, &x, 1, &cot, 1, NULL, g) == 0);
  CHECK_VALUES(g[0], ((double[]){8}), 1, 0);
  lz_free(g[0]);
  /* the same through jvp: d/dx (x + 1)^2 = 2 (x + 1) per element */
  lz_array *t = vec((double[]){1}, 1), *jv[1];
  CHECK(lz_jvp(f2, &x, 1, &t, NULL, jv) == 1);
  CHECK_VALUES(jv[0], ((double[]){4, 4}), 2, 0);
  lz_free(jv[0]), lz_free(t);
  lz_closure_free(f1), lz_closure_free(f2);
  lz_free(x), lz_free(cot);
}

/* Every way of reading data inside: the input handle itself, lz_item_*, lz_array_data. */
static int f_reads(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  if (lz_eval(in[0]) != 0) return -1;
  lz_array *s = lz_sin(in[0]);
  if (!lz_array_data(s)) return -1;
  lz_array *c = lz_multiply(s, in[0]);
  double v = lz_item_f64(lz_sum(c, false)); /* a plain number: no derivative through it */
  out[0] = lz_add(lz_sum(c, false), lz_multiply(lz_scalar(v, LZ_FLOAT64), lz_sum(in[0], false)));
  return out[0] ? 1 : -1;
}
static void test_reads_inside_grad(void) {
  double xv[3] = {0.5, -1, 2};
  lz_array *x = vec(xv, 3), *g[1];
  lz_closure *f = lz_closure_new(f_reads, NULL, NULL), *gf = lz_grad(f, NULL, 0);
  CHECK(lz_closure_call(gf, &x, 1, g) == 1);
  double v = 0, want[3];
  for (int i = 0; i < 3; i++) v += sin(xv[i]) * xv[i];
  for (int i = 0; i < 3; i++) want[i] = sin(xv[i]) + xv[i] * cos(xv[i]) + v;
  CHECK_VALUES(g[0], want, 3, 1e-12);
  lz_free(g[0]), lz_free(x);
  lz_closure_free(gf), lz_closure_free(f);
}

/* grad of grad, each level evaluating inside: y = x^3 evaluated, then 3x^2 evaluated. */
static int f_cube(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *y = lz_multiply(lz_multiply(in[0], in[0]), in[0]);
  if (lz_eval(y) != 0) return -1;
  out[0] = lz_sum(y, false);
  return out[0] ? 1 : -1;
}
static int f_grad_eval(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)n;
  lz_array *g[1];
  if (lz_closure_call(ctx, in, 1, g) != 1) return -1;
  if (lz_eval(g[0]) != 0) return -1;
  out[0] = lz_sum(g[0], false);
  lz_free(g[0]);
  return out[0] ? 1 : -1;
}
static void test_nested_grad_eval(void) {
  lz_array *x = vec((double[]){1.5, -2}, 2), *g[1];
  lz_closure *f = lz_closure_new(f_cube, NULL, NULL), *g1 = lz_grad(f, NULL, 0);
  lz_closure *h = lz_closure_new(f_grad_eval, g1, NULL), *g2 = lz_grad(h, NULL, 0);
  CHECK(lz_closure_call(g1, &x, 1, g) == 1);
  CHECK_VALUES(g[0], ((double[]){6.75, 12}), 2, 1e-6);
  lz_free(g[0]);
  CHECK(lz_closure_call(g2, &x, 1, g) == 1);
  CHECK_VALUES(g[0], ((double[]){9, -12}), 2, 1e-6);
  lz_free(g[0]), lz_free(x);
  lz_closure_free(g2), lz_closure_free(h), lz_closure_free(g1), lz_closure_free(f);
}

/* value_and_grad of a loss evaluated inside (the value returned is one the trace kept). */
static int f_loss_eval(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_sum(lz_square(lz_subtract(in[0], in[1])), false);
  return out[0] && lz_eval(out[0]) == 0 ? 1 : -1;
}
static void test_value_and_grad_eval(void) {
  lz_array *in[2] = {vec((double[]){1, 2, 3}, 3), vec((double[]){0, 4, 1}, 3)}, *r[3];
  lz_closure *f = lz_closure_new(f_loss_eval, NULL, NULL);
  lz_closure *vg = lz_value_and_grad(f, (int[]){0, 1}, 2, false);
  CHECK(lz_closure_call(vg, in, 2, r) == 3);
  CHECK_VALUES(r[0], ((double[]){9}), 1, 0);
  CHECK_VALUES(r[1], ((double[]){2, -4, 4}), 3, 0);
  CHECK_VALUES(r[2], ((double[]){-2, 4, -4}), 3, 0);
  for (int k = 0; k < 3; k++) lz_free(r[k]);
  lz_free(in[0]), lz_free(in[1]);
  lz_closure_free(vg), lz_closure_free(f);
}

/* A compiled function called on a value evaluated inside grad is still differentiated. */
static int g_fused(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_exp(lz_multiply(lz_add(in[0], lz_float(1)), lz_float(0.5)));
  return out[0] ? 1 : -1;
}
static int f_compiled_after_eval(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)n;
  lz_array *y = lz_square(in[0]), *o[1];
  if (lz_eval(y) != 0 || lz_closure_call(ctx, &y, 1, o) != 1) return -1;
  out[0] = lz_sum(o[0], false);
  lz_free(o[0]);
  return out[0] ? 1 : -1;
}
static void test_compiled_after_eval(void) {
  double xv[3] = {0.5, -1, 1.5}, want[3];
  lz_array *x = vec(xv, 3), *g[1];
  lz_closure *inner = lz_closure_new(g_fused, NULL, NULL), *c = lz_compile(inner, 0);
  lz_closure *f = lz_closure_new(f_compiled_after_eval, c, NULL), *gf = lz_grad(f, NULL, 0);
  CHECK(lz_closure_call(gf, &x, 1, g) == 1);
  for (int i = 0; i < 3; i++) want[i] = exp((xv[i] * xv[i] + 1) * 0.5) * xv[i];
  CHECK_VALUES(g[0], want, 3, 1e-12);
  lz_free(g[0]), lz_free(x);
  lz_closure_free(gf), lz_closure_free(f), lz_closure_free(c), lz_closure_free(inner);
}

/* Memory. A 60-step chain over 1 MiB evaluated inside grad, by steps: the trace keeps what it
 * needs, and once the transform returned and its results went, nothing is left (the harness
 * checks no array memory stays live). A chain recorded under a transform but evaluated after
 * it frees its intermediates as it goes: peak about two buffers. */
enum { BIG = 1 << 18, STEPS = 60 };
static int f_chain(void *ctx, lz_array *const *in, int n, lz_array **out) {
  bool eval_inside = ctx != NULL;
  (void)n;
  lz_array *y = in[0];
  for (int i = 0; i < STEPS; i++) {
    y = lz_add(lz_multiply(y, lz_float(0.5)), lz_float(1));
    if (eval_inside && i % 10 == 9 && lz_eval(y) != 0) return -1;
  }
  out[0] = lz_sum(y, false);
  return out[0] ? 1 : -1;
}
static void test_memory(void) {
  lz_array *x = lz_add(lz_zeros((int[]){BIG}, 1, LZ_FLOAT32), lz_float(2));
  CHECK(lz_eval(x) == 0);
  size_t base = lz_get_active_memory(), buf = (size_t)BIG * 4;
  for (int inside = 0; inside < 2; inside++) {
    lz_closure *f = lz_closure_new(f_chain, inside ? (void *)1 : NULL, NULL);
    lz_closure *vg = lz_value_and_grad(f, NULL, 0, false);
    lz_array *r[2];
    CHECK(lz_closure_call(vg, &x, 1, r) == 2);
    lz_reset_peak_memory();
    size_t before = lz_get_active_memory();
    CHECK(lz_eval(r[0]) == 0);
    if (!inside) CHECK(lz_get_peak_memory() - before < 4 * buf);
    lz_scope_begin(); /* every element of the gradient is 2^-STEPS */
    CHECK_CLOSE(lz_item_f64(lz_sum(r[1], false)), ldexp(1, 18 - STEPS), 0);
    lz_scope_end();
    lz_free(r[0]), lz_free(r[1]);
    CHECK(lz_get_active_memory() == base); /* whatever a trace kept is gone */
    lz_closure_free(vg), lz_closure_free(f);
  }
  lz_free(x);
}

int main(void) {
  RUN(test_mlx_eval_in_grad);
  RUN(test_reads_inside_grad);
  RUN(test_nested_grad_eval);
  RUN(test_value_and_grad_eval);
  RUN(test_compiled_after_eval);
  RUN(test_memory);
  return lzt_summary();
}
