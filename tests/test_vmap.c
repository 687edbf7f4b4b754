/* lz_vmap: in_axes/out_axes combinations, unmapped inputs and outputs, errors, composition
 * with lz_grad (per-example gradients, grad of vmap) and with itself, custom functions, empty
 * batches, and that ops with a rule record no per-example nodes. */
#include "test_vmap_check.h"
#include "transforms/vmap_impl.h"

#define NONE LZ_VMAP_NONE
#define TOL 1e-5
#define BODY(NAME, EXPR)                                                                           \
  static int NAME(lz_array *const *x, lz_array **o) {                                              \
    (void)x;                                                                                       \
    o[0] = (EXPR);                                                                                 \
    return o[0] ? 1 : -1;                                                                          \
  }

/* The checker itself: a wrong result is reported. */
static void test_checker_catches_mismatch(void) {
  int before = lzt_failures, checks = lzt_checks;
  lz_array *a = lz_arange(0, 6, 1, LZ_FLOAT32), *b = lz_add(a, lz_float(1e-3));
  vt_quiet = true;
  bool same = vt_same("self-test", a, b, 1e-6);
  bool shape = vt_same("self-test", a, lz_reshape(a, (int[]){2, 3}, 2), 0);
  vt_quiet = false;
  lzt_failures = before, lzt_checks = checks; /* those failures were the point */
  CHECK(!same && !shape);
  CHECK(vt_same("self-test", a, lz_add(a, lz_float(0)), 0));
}

/* ---- axes ---- */

static int f_two(lz_array *const *x, lz_array **o) { /* (3,4) and (4) per example */
  o[0] = lz_add(lz_matmul(x[0], lz_exp(x[1])), lz_float(1));
  o[1] = lz_sum_axis(lz_multiply(x[0], x[1]), 0, false);
  return o[0] && o[1] ? 2 : -1;
}

static void test_axes(void) {
  int in_axes[][2] = {{0, 0}, {1, NONE}, {-1, 0}, {NONE, -1}, {2, 0}};
  int out_axes[][2] = {{0, 0}, {1, -1}, {-1, 0}, {1, 1}};
  for (int i = 0; i < 5; i++) {
    for (int j = 0; j < 4; j++) {
      vt_in in[2] = {VT_F32(in_axes[i][0], 3, 4), VT_F32(in_axes[i][1], 4)};
      char nm[96];
      snprintf(nm, sizeof nm, "in_axes (%d,%d) out_axes (%d,%d)", in_axes[i][0], in_axes[i][1],
               out_axes[j][0], out_axes[j][1]);
      vt_check_axes(nm, f_two, in, 2, 4, out_axes[j], 2, TOL);
    }
  }
  vt_in in[2] = {VT_F32(1, 3, 4), VT_F32(0, 4)};
  vt_check_axes("one out axis for all outputs", f_two, in, 2, 2, (int[]){-1}, 1, TOL);
  vt_check_axes("batch of one", f_two, in, 2, 1, NULL, 0, TOL);
}

/* Outputs that do not depend on a mapped input are broadcast; an input returned as it is. */
static int f_unmapped_out(lz_array *const *x, lz_array **o) {
  o[0] = lz_exp(x[1]);    /* x[1] is not mapped */
  o[1] = lz_retain(x[0]); /* the mapped input itself */
  o[2] = lz_ones((int[]){2}, 1, LZ_INT32);
  o[3] = lz_multiply(x[0], x[1]);
  return 4;
}

static void test_unmapped_outputs(void) {
  vt_in in[2] = {VT_F32(1, 2, 3), VT_F32(NONE, 3)};
  vt_check_axes("unmapped outputs, out axis 0", f_unmapped_out, in, 2, 3, NULL, 0, TOL);
  vt_check_axes("unmapped outputs, out axis -1", f_unmapped_out, in, 2, 3, (int[]){-1}, 1, TOL);
}

/* An empty batch: shapes come out right, for a rule and for the loop. */
BODY(f_empty_ops, lz_add(lz_exp(x[0]), lz_as_strided(x[0], (int[]){3}, 1, (int64_t[]){1}, 0)))
static void test_empty_batch(void) {
  vt_in in[1] = {VT_F32(0, 3)};
  vt_check_axes("empty batch", f_empty_ops, in, 1, 0, NULL, 0, TOL);
  lz_array *x = lz_zeros((int[]){0, 3}, 2, LZ_FLOAT32), *r[LZ_MAX_OUTPUTS] = {NULL};
  vt_ctx ctx = {f_empty_ops};
  lz_closure *f = vt_closure(&ctx), *vf = lz_vmap(f, NULL, 1, (int[]){1}, 1);
  CHECK(lz_closure_call(vf, &x, 1, r) == 1);
  CHECK_SHAPE(r[0], 3, 0);
  lz_closure_free(vf), lz_closure_free(f);
}

/* ---- errors ---- */

static int f_fail(lz_array *const *x, lz_array **o) {
  (void)x, (void)o;
  return -1;
}
BODY(f_mask, lz_mask_select(x[0], lz_greater(x[0], lz_float(0))))
static int f_evals(lz_array *const *x, lz_array **o) {
  lz_array *y = lz_exp(x[0]);
  if (lz_eval(y) != 0) return -1;
  o[0] = y;
  return 1;
}

/* Calls vmap(body) with in_axes on xs; expects an error containing `needle`. */
static void expect_error(vt_body body, const int *axes, int n, lz_array *const *xs,
                         const int *out_axes, int n_out, const char *needle) {
  vt_ctx ctx = {body};
  int n_axes = n < 0 ? 1 : n; /* n < 0: one in_axes entry, a call with -n inputs */
  n = n < 0 ? -n : n;
  lz_closure *f = vt_closure(&ctx), *vf = lz_vmap(f, axes, n_axes, out_axes, n_out);
  lz_array *r[LZ_MAX_OUTPUTS];
  size_t mem = lz_get_active_memory();
  lz_clear_error();
  int k = lz_closure_call(vf, xs, n, r);
  lzt_checks++;
  if (k != -1 || !strstr(lz_last_error(), needle)) {
    lzt_failures++;
    fprintf(stderr, "%s: expected an error with \"%s\", got %d \"%s\"\n", lzt_current, needle, k,
            lz_last_error());
  }
  lz_clear_error();
  CHECK(lz_get_active_memory() == mem); /* nothing left behind */
  lz_closure_free(vf), lz_closure_free(f);
}

BODY(f_add2, lz_add(x[0], x[1]))
static void test_errors(void) {
  lz_array *a = lz_ones((int[]){3, 4}, 2, LZ_FLOAT32), *b = lz_ones((int[]){5, 4}, 2, LZ_FLOAT32);
  lz_array *ab[2] = {a, b};
  expect_error(f_add2, (int[]){2, 0}, 2, ab, NULL, 0,
               "[lz_vmap] in_axes[0] = 2 is out of range for input 0 of shape (3,4)");
  expect_error(f_add2, (int[]){0, -3}, 2, ab, NULL, 0, "in_axes[1] = -3 is out of range");
  expect_error(f_add2, (int[]){0, 0}, 2, ab, NULL, 0,
               "[lz_vmap] mapped inputs have different sizes: input 0 has size 3 along axis 0, "
               "input 1 has size 5 along axis 0");
  expect_error(f_add2, (int[]){NONE, NONE}, 2, ab, NULL, 0, "[lz_vmap] no input is mapped");
  expect_error(f_add2, (int[]){0}, -2, ab, NULL, 0, "mapped with 1 in_axes but called with 2");
  lz_array *aa[2] = {a, a};
  expect_error(f_add2, (int[]){0, 0}, 2, aa, (int[]){2}, 1,
               "[lz_vmap] out_axes[0] = 2 is out of range for output 0 of per-example shape (4,)");
  expect_error(f_add2, (int[]){0, 0}, 2, aa, (int[]){0, 0, 0}, 3,
               "3 out_axes for a function "
               "with 1 outputs");
  expect_error(f_fail, (int[]){0}, 1, &a, NULL, 0, "[lz_vmap] the function returned an error");
  expect_error(f_mask, (int[]){0}, 1, &a, NULL, 0, "[lz_vmap]");
  expect_error(f_evals, (int[]){0}, 1, &a, NULL, 0, "[lz_vmap] a mapped input was evaluated");
  lz_array *b3 = lz_ones((int[]){3, 5}, 2, LZ_FLOAT32); /* f's own error, per example */
  expect_error(f_add2, (int[]){0, 0}, 2, (lz_array *[]){a, b3}, NULL, 0,
               "[lz_add] shapes (4,) and (5,) cannot be broadcast");
  /* a NULL input passes a pending error through */
  expect_error(f_add2, (int[]){0, 0}, 2, (lz_array *[]){a, NULL}, NULL, 0, "argument 1 is NULL");
  CHECK_ERROR(lz_vmap(NULL, NULL, 0, NULL, 0), "[lz_vmap] the closure is NULL");
  vt_ctx ctx = {f_add2};
  lz_closure *f = vt_closure(&ctx);
  CHECK_ERROR(lz_vmap(f, NULL, -1, NULL, 0), "[lz_vmap] invalid counts");
  lz_closure_free(f);
}

/* ---- composition ---- */

/* loss(w, x, y) = sum((x @ w - y)^2) for one example: w (4,2), x (4), y (2). */
static int loss(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *r = lz_subtract(lz_matmul(in[1], in[0]), in[2]);
  out[0] = lz_sum(lz_multiply(r, r), false);
  return out[0] ? 1 : -1;
}

static void test_per_example_grad(void) {
  int B = 5;
  lz_array *w = vt_random((int[]){4, 2}, 2, LZ_FLOAT32, -1, 1);
  lz_array *xs = vt_random((int[]){B, 4}, 2, LZ_FLOAT32, -1, 1);
  lz_array *ys = vt_random((int[]){2, B}, 2, LZ_FLOAT32, -1, 1); /* mapped along axis 1 */
  lz_closure *f = lz_closure_new(loss, NULL, NULL);
  lz_closure *g = lz_grad(f, NULL, 0);
  lz_closure *pg = lz_vmap(g, (int[]){NONE, 0, 1}, 3, NULL, 0);
  lz_array *res[LZ_MAX_OUTPUTS];
  CHECK(lz_closure_call(pg, (lz_array *[]){w, xs, ys}, 3, res) == 1);
  CHECK_SHAPE(res[0], 5, 4, 2);
  /* the loop of lz_grad, and the closed form 2 outer(x, x @ w - y) */
  lz_array *loop[8], *exact[8];
  for (int b = 0; b < B; b++) {
    lz_array *x = lz_take(xs, lz_int(b), 0), *y = lz_take(ys, lz_int(b), 1), *gr[LZ_MAX_OUTPUTS];
    CHECK(lz_closure_call(g, (lz_array *[]){w, x, y}, 3, gr) == 1);
    loop[b] = gr[0];
    exact[b] = lz_multiply(lz_float(2), lz_outer(x, lz_subtract(lz_matmul(x, w), y)));
  }
  vt_same("per-example grads vs loop", res[0], lz_stack(loop, B, 0), TOL);
  vt_same("per-example grads vs closed form", res[0], lz_stack(exact, B, 0), 1e-4);
  lz_closure_free(pg), lz_closure_free(g), lz_closure_free(f);
}

/* grad of vmap: d/dw of the summed per-example losses is the sum of per-example grads. */
typedef struct batch_loss_ctx {
  lz_closure *vloss;
} batch_loss_ctx;
static int batch_loss(void *ctx, lz_array *const *in, int n, lz_array **out) {
  lz_array *l[LZ_MAX_OUTPUTS];
  if (lz_closure_call(((batch_loss_ctx *)ctx)->vloss, in, n, l) != 1) return -1;
  out[0] = lz_sum(l[0], false);
  return out[0] ? 1 : -1;
}

static void test_grad_of_vmap(void) {
  int B = 4;
  lz_array *w = vt_random((int[]){4, 2}, 2, LZ_FLOAT32, -1, 1);
  lz_array *xs = vt_random((int[]){B, 4}, 2, LZ_FLOAT32, -1, 1);
  lz_array *ys = vt_random((int[]){2, B}, 2, LZ_FLOAT32, -1, 1);
  lz_closure *f = lz_closure_new(loss, NULL, NULL);
  batch_loss_ctx bc = {lz_vmap(f, (int[]){NONE, 0, 1}, 3, NULL, 0)};
  lz_closure *bl = lz_closure_new(batch_loss, &bc, NULL);
  lz_closure *g = lz_grad(bl, NULL, 0), *gx = lz_grad(bl, (int[]){1}, 1);
  lz_closure *g1 = lz_grad(f, NULL, 0), *g2 = lz_grad(f, (int[]){1}, 1);
  lz_closure *pg = lz_vmap(g1, (int[]){NONE, 0, 1}, 3, NULL, 0);
  lz_closure *pgx = lz_vmap(g2, (int[]){NONE, 0, 1}, 3, NULL, 0);
  lz_closure_free(f), lz_closure_free(g1), lz_closure_free(g2); /* each holder has its own */
  lz_array *in[3] = {w, xs, ys}, *gw[LZ_MAX_OUTPUTS], *per[LZ_MAX_OUTPUTS];
  lz_array *gxs[LZ_MAX_OUTPUTS], *perx[LZ_MAX_OUTPUTS];
  CHECK(lz_closure_call(g, in, 3, gw) == 1);
  CHECK(lz_closure_call(pg, in, 3, per) == 1);
  vt_same("grad of vmap = sum of per-example grads", gw[0], lz_sum_axis(per[0], 0, false), 1e-4);
  /* with respect to the mapped input: each row of x gets its own example's gradient */
  CHECK(lz_closure_call(gx, in, 3, gxs) == 1);
  CHECK(lz_closure_call(pgx, in, 3, perx) == 1);
  vt_same("grad of vmap wrt mapped input", gxs[0], perx[0], 1e-4);
  lz_closure_free(pg), lz_closure_free(pgx), lz_closure_free(g), lz_closure_free(gx);
  lz_closure_free(bl), lz_closure_free(bc.vloss);
}

/* vmap of vmap: the inner closure is itself checked against the loop, and then mapped. */
static lz_closure *inner;
static int f_inner(lz_array *const *x, lz_array **o) { /* x (3) with y (3,2): (2) */
  o[0] = lz_softmax_axis(lz_matmul(x[0], x[1]), 0, false);
  return o[0] ? 1 : -1;
}
static int f_nested(lz_array *const *x, lz_array **o) { return lz_closure_call(inner, x, 2, o); }

static void test_vmap_of_vmap(void) {
  static vt_ctx ctx = {f_inner};
  lz_closure *f = vt_closure(&ctx);
  inner = lz_vmap(f, (int[]){1, NONE}, 2, (int[]){-1}, 1); /* x (3,B1), y: (2,B1) */
  vt_in in[2] = {VT_F32(0, 3, 4), VT_F32(NONE, 3, 2)};
  vt_check_axes("inner vmap", f_inner, (vt_in[]){VT_F32(1, 3), VT_F32(NONE, 3, 2)}, 2, 4,
                (int[]){-1}, 1, TOL);
  vt_check_axes("vmap of vmap", f_nested, in, 2, 3, NULL, 0, TOL);
  vt_in in2[2] = {VT_F32(2, 3, 4), VT_F32(0, 3, 2)};
  vt_check_axes("vmap of vmap, both mapped", f_nested, in2, 2, 2, (int[]){1}, 1, TOL);
  lz_closure_free(inner), lz_closure_free(f);
  inner = NULL;
}

/* ---- custom functions ---- */

static int c_fn(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_multiply(lz_sin(in[0]), in[1]);
  return out[0] ? 1 : -1;
}
static int c_vmap(void *ctx, lz_array *const *in, int n, lz_array **out) { /* deliberately 2x */
  (void)ctx, (void)n;
  out[0] = lz_multiply(lz_float(2), lz_multiply(lz_sin(in[0]), in[1]));
  return out[0] ? 1 : -1;
}
static lz_closure *custom_plain, *custom_ruled;
static int f_custom(lz_array *const *x, lz_array **o) {
  return lz_closure_call(custom_plain, x, 2, o);
}
static int f_custom_half(lz_array *const *x, lz_array **o) { /* what the custom rule gives */
  lz_array *r[LZ_MAX_OUTPUTS];
  if (lz_closure_call(custom_ruled, x, 2, r) != 1) return -1;
  o[0] = lz_multiply(lz_float(0.5), r[0]);
  return 1;
}
static int f_custom_ref(lz_array *const *x, lz_array **o) { return c_fn(NULL, x, 2, o); }

static void test_custom_function(void) {
  lz_closure *fn = lz_closure_new(c_fn, NULL, NULL), *vf = lz_closure_new(c_vmap, NULL, NULL);
  custom_plain = lz_custom_function(fn, NULL, NULL, NULL);
  custom_ruled = lz_custom_function(fn, NULL, NULL, vf);
  vt_in in[2] = {VT_F32(1, 3, 2), VT_F32(NONE, 2)};
  vt_check("custom function without a vmap rule", f_custom, in, 2, TOL);
  /* with the rule: vmap gives 2 sin(x) y, so half of it matches the plain loop */
  vt_ctx c1 = {f_custom_half}, c2 = {f_custom_ref};
  lz_closure *h1 = vt_closure(&c1), *r1 = vt_closure(&c2);
  lz_closure *h = lz_vmap(h1, (int[]){0, NONE}, 2, NULL, 0);
  lz_closure *r = lz_vmap(r1, (int[]){0, NONE}, 2, NULL, 0);
  lz_closure_free(h1), lz_closure_free(r1);
  lz_array *x = vt_random((int[]){3, 2}, 2, LZ_FLOAT32, -1, 1),
           *y = lz_ones((int[]){2}, 1, LZ_FLOAT32);
  lz_array *a[LZ_MAX_OUTPUTS], *b[LZ_MAX_OUTPUTS];
  CHECK(lz_closure_call(h, (lz_array *[]){x, y}, 2, a) == 1);
  CHECK(lz_closure_call(r, (lz_array *[]){x, y}, 2, b) == 1);
  vt_same("custom vmap rule is used", a[0], b[0], TOL);
  lz_closure_free(h), lz_closure_free(r);
  lz_closure_free(custom_plain), lz_closure_free(custom_ruled);
  lz_closure_free(fn), lz_closure_free(vf);
}

/* ---- cost: ops with a rule record a fixed number of nodes, whatever the batch size ---- */

static int f_model(lz_array *const *x, lz_array **o) {
  lz_array *h = lz_maximum(lz_matmul(x[0], x[1]), lz_float(0));
  o[0] = lz_logsumexp_axis(lz_transpose(lz_reshape(h, (int[]){2, 2}, 2), NULL, 0), 0, false);
  return o[0] ? 1 : -1;
}

static void test_rules_are_batched(void) {
  uint64_t nodes[2];
  for (int t = 0; t < 2; t++) {
    int B = t ? 200 : 2;
    lz_scope_begin();
    lz_array *xs = vt_random((int[]){B, 3}, 2, LZ_FLOAT32, -1, 1);
    lz_array *w = vt_random((int[]){3, 4}, 2, LZ_FLOAT32, -1, 1);
    vt_ctx ctx = {f_model};
    lz_closure *f = vt_closure(&ctx), *vf = lz_vmap(f, (int[]){0, NONE}, 2, NULL, 0);
    lz_array *r[LZ_MAX_OUTPUTS];
    uint64_t before = lz_get_node_count();
    CHECK(lz_closure_call(vf, (lz_array *[]){xs, w}, 2, r) == 1);
    nodes[t] = lz_get_node_count() - before;
    CHECK_SHAPE(r[0], B, 2);
    lz_closure_free(vf), lz_closure_free(f);
    lz_scope_end();
  }
  CHECK(nodes[0] == nodes[1]);
  CHECK(lz__vmap_has_rule(LZ_OP_EXP) && lz__vmap_has_rule(LZ_OP_MATMUL));
  CHECK(!lz__vmap_has_rule(LZ_OP_AS_STRIDED));
}

int main(void) {
  RUN(test_checker_catches_mismatch);
  RUN(test_axes);
  RUN(test_unmapped_outputs);
  RUN(test_empty_batch);
  RUN(test_errors);
  RUN(test_per_example_grad);
  RUN(test_grad_of_vmap);
  RUN(test_vmap_of_vmap);
  RUN(test_custom_function);
  RUN(test_rules_are_batched);
  return lzt_summary();
}
