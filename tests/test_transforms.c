/* Transforms: closures, composition (grad of grad, jvp of grad for Hessian-vector products),
 * value_and_grad with aux, custom rules, checkpointing, a 100,000-op chain, laziness of a
 * training step, and errors. */
#include "test_grad_check.h"

/* ---- closures ---- */

static int n_ctx_freed;
static void count_free(void *ctx) { (void)ctx, n_ctx_freed++; }
static int fn_double(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_add(in[0], in[0]);
  return 1;
}
static int fn_fails(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)in, (void)n, (void)out;
  return -1;
}
static int fn_no_outputs(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)in, (void)n, (void)out;
  return 0;
}
static int fn_null_output(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_retain(in[0]);
  out[1] = NULL;
  return 2;
}

static lz_array *call1(lz_closure *f, lz_array *const *in, int n) {
  lz_array *out[LZ_MAX_OUTPUTS];
  int k = lz_closure_call(f, in, n, out);
  for (int j = 1; j < k; j++) lz_free(out[j]);
  return k > 0 ? out[0] : NULL;
}

static void test_closure(void) {
  n_ctx_freed = 0;
  lz_closure *f = lz_closure_new(fn_double, NULL, count_free);
  CHECK(lz_closure_retain(f) == f);
  lz_closure_free(f);
  CHECK(n_ctx_freed == 0);
  lz_array *x = lz_scalar(3, LZ_FLOAT32);
  CHECK_CLOSE(lz_item_f64(call1(f, &x, 1)), 6, 0);
  lz_closure_free(f);
  CHECK(n_ctx_freed == 1);
  lz_closure_free(NULL);
  CHECK_ERROR(lz_closure_new(NULL, NULL, NULL), "[lz_closure_new]");
  lz_closure *bad = lz_closure_new(fn_fails, NULL, NULL);
  CHECK_ERROR(call1(bad, &x, 1), "returned an error");
  lz_closure_free(bad);
  bad = lz_closure_new(fn_no_outputs, NULL, NULL);
  CHECK_ERROR(call1(bad, &x, 1), "returned 0 outputs");
  lz_closure_free(bad);
  bad = lz_closure_new(fn_null_output, NULL, NULL);
  CHECK_ERROR(call1(bad, &x, 1), "NULL as output 1");
  lz_closure_free(bad);
}

/* ---- composition ---- */

static lz_array *f_cube(lz_array *const *x) { return lz_multiply(lz_multiply(x[0], x[0]), x[0]); }
static lz_array *f_sum_cube(lz_array *const *x) { return lz_sum(f_cube(x), false); }

static void test_grad_of_grad(void) {
  lz_closure *f = gc_closure(f_cube);
  lz_closure *g1 = lz_grad(f, NULL, 0), *g2 = lz_grad(g1, NULL, 0), *g3 = lz_grad(g2, NULL, 0);
  lz_array *x = lz_scalar(2, LZ_FLOAT64);
  CHECK_CLOSE(lz_item_f64(call1(g1, &x, 1)), 12, 1e-12); /* 3x^2 */
  CHECK_CLOSE(lz_item_f64(call1(g2, &x, 1)), 12, 1e-12); /* 6x */
  CHECK_CLOSE(lz_item_f64(call1(g3, &x, 1)), 6, 1e-12);  /* 6 */
  lz_closure *g4 = lz_grad(g3, NULL, 0);                  /* a constant: zero */
  CHECK_CLOSE(lz_item_f64(call1(g4, &x, 1)), 0, 0);
  lz_closure_free(g4), lz_closure_free(g3), lz_closure_free(g2), lz_closure_free(g1);
  lz_closure_free(f);
}

/* jvp of grad: the Hessian-vector product; for sum(x^3) it is 6 x v. */
static void test_hessian_vector_product(void) {
  lz_closure *f = gc_closure(f_sum_cube);
  lz_closure *g = lz_grad(f, NULL, 0);
  double xv[4] = {1, -2, 0.5, 3}, vv[4] = {0.5, 1, -1, 2}, want[4];
  for (int i = 0; i < 4; i++) want[i] = 6 * xv[i] * vv[i];
  int s[1] = {4};
  lz_array *x = lz_array_from_data(xv, s, 1, LZ_FLOAT64), *v = lz_array_from_data(vv, s, 1,
                                                                                   LZ_FLOAT64);
  lz_array *gx[LZ_MAX_OUTPUTS], *hv[LZ_MAX_OUTPUTS];
  CHECK(lz_jvp(g, &x, 1, &v, gx, hv) == 1);
  CHECK_VALUES(hv[0], want, 4, 1e-12);
  double g_want[4];
  for (int i = 0; i < 4; i++) g_want[i] = 3 * xv[i] * xv[i];
  CHECK_VALUES(gx[0], g_want, 4, 1e-12);
  /* vjp of grad gives the same (the Hessian is symmetric) */
  lz_array *hv2;
  CHECK(lz_vjp(g, &x, 1, &v, 1, NULL, &hv2) == 0);
  CHECK_VALUES(hv2, want, 4, 1e-12);
  lz_closure_free(g), lz_closure_free(f);
}

/* ---- value_and_grad ---- */

/* loss(w, x) = sum((w * x - 1)^2), aux = w * x */
static int fn_loss_aux(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *p = lz_multiply(in[0], in[1]);
  lz_array *r = lz_subtract(p, lz_float(1));
  out[0] = lz_sum(lz_multiply(r, r), false);
  out[1] = lz_retain(p);
  return 2;
}

static void test_value_and_grad_aux(void) {
  lz_closure *f = lz_closure_new(fn_loss_aux, NULL, NULL);
  int argnums[2] = {1, 0};
  lz_closure *vg = lz_value_and_grad(f, argnums, 2, true);
  double wv[3] = {1, 2, 3}, xv[3] = {0.5, -1, 2};
  int s[1] = {3};
  lz_array *in[2] = {lz_array_from_data(wv, s, 1, LZ_FLOAT64),
                     lz_array_from_data(xv, s, 1, LZ_FLOAT64)};
  lz_array *out[LZ_MAX_OUTPUTS];
  CHECK(lz_closure_call(vg, in, 2, out) == 4); /* loss, aux, d/dx, d/dw */
  double loss = 0, aux[3], gx[3], gw[3];
  for (int i = 0; i < 3; i++) {
    double r = wv[i] * xv[i] - 1;
    loss += r * r, aux[i] = wv[i] * xv[i], gx[i] = 2 * r * wv[i], gw[i] = 2 * r * xv[i];
  }
  CHECK_CLOSE(lz_item_f64(out[0]), loss, 1e-12);
  CHECK_VALUES(out[1], aux, 3, 1e-12);
  CHECK_VALUES(out[2], gx, 3, 1e-12);
  CHECK_VALUES(out[3], gw, 3, 1e-12);
  for (int j = 0; j < 4; j++) lz_free(out[j]);
  /* without has_aux, two outputs are an error; so is lz_grad of it */
  lz_closure *vg2 = lz_value_and_grad(f, argnums, 2, false), *g = lz_grad(f, NULL, 0);
  CHECK(lz_closure_call(vg2, in, 2, out) < 0);
  CHECK(strstr(lz_last_error(), "[lz_value_and_grad]") && strstr(lz_last_error(), "has_aux"));
  lz_clear_error();
  CHECK_ERROR(call1(g, in, 2), "[lz_grad] the function returned 2 outputs");
  lz_closure_free(vg2), lz_closure_free(g), lz_closure_free(vg), lz_closure_free(f);
}

/* The same array passed twice is two inputs with their own gradients. */
static lz_array *f_product(lz_array *const *x) { return lz_multiply(x[0], x[1]); }
static void test_repeated_and_lazy_inputs(void) {
  lz_closure *f = gc_closure(f_product);
  int both[2] = {0, 1};
  lz_closure *g = lz_grad(f, both, 2);
  lz_array *x = lz_add(lz_scalar(2, LZ_FLOAT64), lz_float(1)); /* unevaluated */
  lz_array *in[2] = {x, x}, *out[LZ_MAX_OUTPUTS];
  CHECK(lz_closure_call(g, in, 2, out) == 2);
  CHECK_CLOSE(lz_item_f64(out[0]), 3, 0);
  CHECK_CLOSE(lz_item_f64(out[1]), 3, 0);
  lz_closure_free(g), lz_closure_free(f);
}

/* ---- custom functions ---- */

static int fn_square(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_multiply(in[0], in[0]);
  return 1;
}
/* (x, cotangent, output) -> 10 * cotangent */
static int vjp_times10(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx;
  CHECK(n == 3);
  out[0] = lz_multiply(in[1], lz_float(10));
  return 1;
}
/* (x, tangent) -> 7 * tangent */
static int jvp_times7(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx;
  CHECK(n == 2);
  out[0] = lz_multiply(in[1], lz_float(7));
  return 1;
}
static int vjp_two_results(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_retain(in[1]), out[1] = lz_retain(in[1]);
  return 2;
}

static void test_custom_function(void) {
  lz_closure *sq = lz_closure_new(fn_square, NULL, NULL);
  lz_closure *vjp = lz_closure_new(vjp_times10, NULL, NULL);
  lz_closure *jvp = lz_closure_new(jvp_times7, NULL, NULL);
  lz_closure *cf = lz_custom_function(sq, vjp, jvp, NULL);
  lz_closure *plain = lz_custom_function(sq, NULL, NULL, NULL);
  lz_closure_free(vjp), lz_closure_free(jvp); /* the custom function holds its own */
  lz_array *x = lz_scalar(3, LZ_FLOAT64), *one = lz_scalar(1, LZ_FLOAT64);
  CHECK_CLOSE(lz_item_f64(call1(cf, &x, 1)), 9, 0); /* the forward value is f's */
  lz_closure *g = lz_grad(cf, NULL, 0), *gp = lz_grad(plain, NULL, 0);
  CHECK_CLOSE(lz_item_f64(call1(g, &x, 1)), 10, 0);
  CHECK_CLOSE(lz_item_f64(call1(gp, &x, 1)), 6, 0); /* no rule: f's own derivative */
  lz_array *t[LZ_MAX_OUTPUTS];
  CHECK(lz_jvp(cf, &x, 1, &one, NULL, t) == 1);
  CHECK_CLOSE(lz_item_f64(t[0]), 7, 0);
  CHECK(lz_jvp(plain, &x, 1, &one, NULL, t) == 1);
  CHECK_CLOSE(lz_item_f64(t[0]), 6, 0);
  /* grad of grad through a custom function without rules */
  lz_closure *gg = lz_grad(gp, NULL, 0);
  CHECK_CLOSE(lz_item_f64(call1(gg, &x, 1)), 2, 0);
  /* a user rule returning the wrong number of arrays */
  lz_closure *bad_vjp = lz_closure_new(vjp_two_results, NULL, NULL);
  lz_closure *bad = lz_custom_function(sq, bad_vjp, NULL, NULL), *gb = lz_grad(bad, NULL, 0);
  CHECK_ERROR(call1(gb, &x, 1), "custom vjp returned 2 arrays, expected 1");
  lz_closure_free(gb), lz_closure_free(bad), lz_closure_free(bad_vjp);
  lz_closure_free(gg), lz_closure_free(g), lz_closure_free(gp);
  lz_closure_free(cf), lz_closure_free(plain), lz_closure_free(sq);
}

/* ---- checkpoint ---- */

/* A block of elementwise ops whose backward pass needs its intermediates. */
static int fn_block(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *h = in[0];
  for (int i = 0; i < 4; i++) h = lz_add(lz_multiply(h, h), lz_multiply(h, lz_float(0.5)));
  out[0] = lz_multiply(h, lz_float(0.25));
  return 1;
}

typedef struct model_ctx {
  lz_closure *block;
} model_ctx;

static int fn_model(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)n;
  lz_closure *block = ((model_ctx *)ctx)->block;
  lz_array *h = in[0];
  for (int l = 0; l < 6; l++) h = call1(block, &h, 1);
  out[0] = lz_sum(h, false);
  return out[0] ? 1 : -1;
}

/* Peak memory of evaluating the gradient of the 6-block model, block plain or checkpointed. */
static size_t grad_peak(bool checkpoint, lz_array *x, lz_array **grad) {
  lz_closure *block = lz_closure_new(fn_block, NULL, NULL);
  model_ctx m = {checkpoint ? lz_checkpoint(block) : lz_closure_retain(block)};
  lz_closure *model = lz_closure_new(fn_model, &m, NULL), *g = lz_grad(model, NULL, 0);
  *grad = call1(g, &x, 1);
  size_t base = lz_get_active_memory();
  lz_reset_peak_memory();
  CHECK(lz_eval(*grad) == 0);
  size_t peak = lz_get_peak_memory() - base;
  lz_closure_free(g), lz_closure_free(model), lz_closure_free(m.block), lz_closure_free(block);
  return peak;
}

static void test_checkpoint(void) {
  int s[1] = {1 << 15};
  lz_array *x = lz_multiply(lz_arange(0, s[0], 1, LZ_FLOAT32), lz_float(1.0 / s[0]));
  CHECK(lz_eval(x) == 0);
  lz_array *g_plain, *g_ckpt;
  size_t plain = grad_peak(false, x, &g_plain), ckpt = grad_peak(true, x, &g_ckpt);
  CHECK(ckpt < plain);
  fprintf(stderr, "  checkpoint: peak %zu KiB with, %zu KiB without\n", ckpt >> 10, plain >> 10);
  size_t n = (size_t)s[0];
  float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  CHECK(lz_array_read(g_plain, LZ_FLOAT32, a, n * 4) == 0);
  CHECK(lz_array_read(g_ckpt, LZ_FLOAT32, b, n * 4) == 0);
  bool same = true;
  for (size_t i = 0; i < n; i++) same &= a[i] == b[i];
  CHECK(same);
  free(a), free(b);
}

/* ---- a very long chain ---- */

enum { CHAIN = 100000 };
static int fn_chain_plain(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *h = in[0];
  for (int i = 0; i < CHAIN; i++) h = lz_multiply(h, lz_float(1.000001));
  out[0] = h;
  return 1;
}

static void test_grad_long_chain(void) {
  lz_closure *f = lz_closure_new(fn_chain_plain, NULL, NULL), *g = lz_grad(f, NULL, 0);
  lz_array *x = lz_scalar(2, LZ_FLOAT64);
  lz_array *gx = call1(g, &x, 1);
  double rate = 1.000001; /* a weak float is exact against a float64 operand */
  CHECK_CLOSE(lz_item_f64(gx), pow(rate, CHAIN), 1e-9);
  lz_array *t[LZ_MAX_OUTPUTS], *one = lz_scalar(1, LZ_FLOAT64);
  CHECK(lz_jvp(f, &x, 1, &one, NULL, t) == 1);
  CHECK_CLOSE(lz_item_f64(t[0]), pow(rate, CHAIN), 1e-9);
  lz_closure_free(g), lz_closure_free(f);
}

/* ---- a training step is one lazy graph ---- */

/* loss(w, x, y) = mean((w * x - y)^2), written as one expression */
static int fn_mse(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *r = lz_subtract(lz_multiply(in[0], in[1]), in[2]);
  out[0] = lz_mean(lz_multiply(r, r), false);
  return out[0] ? 1 : -1;
}

static void test_sgd_step_is_lazy(void) {
  double wv[4] = {1, -1, 0.5, 2}, xv[4] = {2, 1, -3, 0.5}, yv[4] = {1, 1, 1, 1};
  int s[1] = {4};
  lz_array *in[3] = {lz_array_from_data(wv, s, 1, LZ_FLOAT64),
                     lz_array_from_data(xv, s, 1, LZ_FLOAT64),
                     lz_array_from_data(yv, s, 1, LZ_FLOAT64)};
  lz_closure *loss = lz_closure_new(fn_mse, NULL, NULL);
  lz_closure *vg = lz_value_and_grad(loss, NULL, 0, false);
  uint64_t k0 = lz_get_kernel_count();
  lz_array *res[LZ_MAX_OUTPUTS];
  CHECK(lz_closure_call(vg, in, 3, res) == 2);
  lz_array *w2 = lz_subtract(in[0], lz_multiply(lz_float(0.1), res[1]));
  CHECK(lz_get_kernel_count() == k0); /* nothing computed yet */
  CHECK(!lz_array_is_evaluated(res[0]) && !lz_array_is_evaluated(w2));
  lz_array *both[2] = {w2, res[0]};
  CHECK(lz_eval_many(both, 2) == 0); /* forward, backward and update in one pass */
  CHECK(lz_array_is_evaluated(res[0]) && lz_array_is_evaluated(res[1]));
  double l = 0, want[4];
  for (int i = 0; i < 4; i++) {
    double r = wv[i] * xv[i] - yv[i];
    l += r * r / 4, want[i] = wv[i] - 0.1 * (2 * r * xv[i] / 4);
  }
  CHECK_CLOSE(lz_item_f64(res[0]), l, 1e-6);
  CHECK_VALUES(w2, want, 4, 1e-6);
  lz_closure_free(vg), lz_closure_free(loss);
}

/* The training step of transforms.h's header comment, with a matmul loss. */
static int loss(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *r = lz_subtract(lz_matmul(in[1], in[0]), in[2]);
  out[0] = lz_mean(lz_multiply(r, r), false);
  return out[0] ? 1 : -1;
}

static int header_example(lz_array *w, lz_array *x, lz_array *y, lz_array **w_out) {
  lz_closure *f = lz_closure_new(loss, NULL, NULL);
  lz_closure *step = lz_value_and_grad(f, NULL, 0, false); // d loss / d input 0
  lz_array *in[3] = {w, x, y}, *res[LZ_MAX_OUTPUTS];       // res: loss, d loss / d w
  if (lz_closure_call(step, in, 3, res) < 0) return -1;
  lz_array *w2 = lz_subtract(w, lz_multiply(lz_float(0.1), res[1])); // SGD: still lazy
  lz_eval(w2);                        // forward, backward and update in one pass
  lz_closure_free(step), lz_closure_free(f);
  *w_out = w2;
  return 0;
}

static void test_header_example(void) {
  double wv[2] = {0.5, -1}, xv[6] = {1, 2, 3, 4, 5, 6}, yv[3] = {1, 0, -1};
  lz_array *w = lz_array_from_data(wv, (int[]){2, 1}, 2, LZ_FLOAT64);
  lz_array *x = lz_array_from_data(xv, (int[]){3, 2}, 2, LZ_FLOAT64);
  lz_array *y = lz_array_from_data(yv, (int[]){3, 1}, 2, LZ_FLOAT64);
  lz_array *w2 = NULL;
  CHECK(header_example(w, x, y, &w2) == 0);
  double g[2] = {0, 0}; /* d/dw mean((x w - y)^2) = 2/3 x^T (x w - y) */
  for (int i = 0; i < 3; i++) {
    double r = xv[2 * i] * wv[0] + xv[2 * i + 1] * wv[1] - yv[i];
    g[0] += 2.0 / 3 * r * xv[2 * i], g[1] += 2.0 / 3 * r * xv[2 * i + 1];
  }
  CHECK(lz_array_is_evaluated(w2));
  CHECK_VALUES(w2, ((double[]){wv[0] - 0.1 * g[0], wv[1] - 0.1 * g[1]}), 2, 1e-7);
}

/* ---- errors ---- */

static lz_array *f_identity(lz_array *const *x) { return lz_retain(x[0]); }

static void test_errors(void) {
  int s[1] = {3};
  lz_array *x = lz_ones(s, 1, LZ_FLOAT64), *x0 = lz_scalar(1, LZ_FLOAT64);
  lz_closure *f = gc_closure(f_cube), *g = lz_grad(f, NULL, 0);
  CHECK_ERROR(call1(g, &x, 1), "[lz_grad] the function must return a scalar (0-d array) to "
                               "differentiate, got shape (3,)");
  lz_array *outs[LZ_MAX_OUTPUTS], *v[2], *c2[2] = {x, x};
  lz_clear_error();
  CHECK(lz_vjp(f, &x, 1, c2, 2, outs, v) < 0);
  CHECK(strstr(lz_last_error(), "[lz_vjp] 2 cotangents for a function with 1 outputs"));
  lz_clear_error();
  CHECK(lz_vjp(f, &x, 1, &x0, 1, outs, v) < 0);
  CHECK(strstr(lz_last_error(), "[lz_vjp] cotangent 0 has shape () but output 0 has shape (3,)"));
  lz_clear_error();
  CHECK(lz_jvp(f, &x, 1, &x0, outs, v) < 0);
  CHECK(strstr(lz_last_error(), "[lz_jvp] tangent 0 has shape () but primal 0 has shape (3,)"));
  lz_clear_error();
  lz_closure *bad = lz_closure_new(fn_fails, NULL, NULL), *gb = lz_grad(bad, NULL, 0);
  CHECK_ERROR(call1(gb, &x0, 1), "[lz_grad] the function returned an error");
  int far[1] = {2};
  lz_closure *gfar = lz_grad(f, far, 1);
  CHECK_ERROR(call1(gfar, &x0, 1), "[lz_grad] argnum 2 is out of range");
  CHECK_ERROR(lz_grad(f, (int[]){-1}, 1), "[lz_grad] argnum -1 is negative");
  CHECK_ERROR(lz_grad(f, (int[]){0, 0}, 2), "[lz_grad] argnum 0 is repeated");
  CHECK_ERROR(lz_grad(NULL, NULL, 0), "[lz_grad] the closure is NULL");
  /* the graph stays usable after a failed transform */
  lz_array *y = call1(f, &x, 1);
  CHECK_VALUES(y, ((double[]){1, 1, 1}), 3, 0);
  /* f(x) = x: the output is the input itself */
  lz_closure *id = gc_closure(f_identity), *gid = lz_grad(id, NULL, 0);
  CHECK_CLOSE(lz_item_f64(call1(gid, &x0, 1)), 1, 0);
  lz_closure_free(gid), lz_closure_free(id);
  lz_closure_free(gfar), lz_closure_free(gb), lz_closure_free(bad), lz_closure_free(g);
  lz_closure_free(f);
}

/* An op without a vjp rule is a clear error, never a crash. quantize has none (MLX does not
 * differentiate it either); the gradient of the scales it returns needs one. */
static lz_array *f_no_rule(lz_array *const *x) {
  lz_array *q[3];
  if (lz_quantize(lz_multiply(x[0], x[0]), 32, 4, q) != 0) return NULL;
  return lz_sum(q[1], false);
}
static void test_missing_rule(void) {
  int s[2] = {2, 64};
  lz_array *x = lz_ones(s, 2, LZ_FLOAT32);
  lz_closure *f = gc_closure(f_no_rule), *g = lz_grad(f, NULL, 0);
  CHECK_ERROR(call1(g, &x, 1), "[lz_grad] op 'quantize' has no vjp rule");
  lz_array *t[LZ_MAX_OUTPUTS];
  lz_clear_error();
  CHECK(lz_jvp(f, &x, 1, &x, NULL, t) < 0);
  CHECK(strstr(lz_last_error(), "[lz_jvp] op 'quantize' has no jvp rule"));
  lz_clear_error();
  lz_closure_free(g), lz_closure_free(f);
}

int main(void) {
  RUN(test_closure);
  RUN(test_grad_of_grad);
  RUN(test_hessian_vector_product);
  RUN(test_value_and_grad_aux);
  RUN(test_repeated_and_lazy_inputs);
  RUN(test_custom_function);
  RUN(test_checkpoint);
  RUN(test_grad_long_chain);
  RUN(test_sgd_step_is_lazy);
  RUN(test_header_example);
  RUN(test_errors);
  RUN(test_missing_rule);
  return lzt_summary();
}
