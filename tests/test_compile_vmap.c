/* vmap and compile nested both ways, with grad: vmap of a compiled function batches the
 * original function (its fused replay has no vmap rule), as MLX traces the original under
 * vmap. Every combination is compared with the plain vmap of the plain function and with the
 * closed form, for a fused elementwise chain and for a fused chain ending in a reduction. */
#include "lz_test.h"

/* f(x, w) = sum_last(exp(x * w + 1) * 0.5) + x * w: elementwise ops fuse, then a reduction. */
static int f_body(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *xw = lz_multiply(in[0], in[1]);
  lz_array *e = lz_multiply(lz_exp(lz_add(xw, lz_float(1))), lz_float(0.5));
  out[0] = lz_add(lz_sum_axis(e, -1, true), xw);
  return out[0] ? 1 : -1;
}
/* A scalar loss of f, for grad. */
static int loss_body(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx;
  lz_array *o[1];
  if (f_body(NULL, in, n, o) != 1) return -1;
  out[0] = lz_sum(lz_square(o[0]), false);
  return out[0] ? 1 : -1;
}

enum { B = 3, R = 2, C = 4 };
static double xs[B][R][C], ws[R][C];

static void fill(void) {
  for (int b = 0; b < B; b++)
    for (int r = 0; r < R; r++)
      for (int c = 0; c < C; c++) xs[b][r][c] = 0.1 * (b + 1) - 0.05 * r + 0.03 * c;
  for (int r = 0; r < R; r++)
    for (int c = 0; c < C; c++) ws[r][c] = 0.5 + 0.25 * r - 0.1 * c;
}

/* f for example b, in closed form. */
static void f_ref(int b, double out[R][C]) {
  for (int r = 0; r < R; r++) {
    double s = 0;
    for (int c = 0; c < C; c++) s += 0.5 * exp(xs[b][r][c] * ws[r][c] + 1);
    for (int c = 0; c < C; c++) out[r][c] = s + xs[b][r][c] * ws[r][c];
  }
}
/* d loss / d x for example b: loss = sum o^2, o_rc = s_r + x_rc w_rc. */
static void grad_ref(int b, double g[R][C]) {
  double o[R][C];
  f_ref(b, o);
  for (int r = 0; r < R; r++) {
    double so = 0;
    for (int c = 0; c < C; c++) so += 2 * o[r][c];
    for (int c = 0; c < C; c++) {
      double x = xs[b][r][c], w = ws[r][c];
      g[r][c] = so * 0.5 * exp(x * w + 1) * w + 2 * o[r][c] * w;
    }
  }
}

/* Calls the batched closure on (xs with the batch at `axis`, ws unmapped) and checks output 0
 * against ref (per example) with the batch at axis 0. */
static void check(lz_closure *vf, int axis, void (*ref)(int, double[R][C]), double tol) {
  lz_array *x = lz_array_from_data(xs, (int[]){B, R, C}, 3, LZ_FLOAT64);
  if (axis) x = lz_moveaxis(x, 0, axis);
  lz_array *w = lz_array_from_data(ws, (int[]){R, C}, 2, LZ_FLOAT64), *in[2] = {x, w}, *out[2];
  CHECK(lz_closure_call(vf, in, 2, out) == 1);
  double want[B][R][C];
  for (int b = 0; b < B; b++) ref(b, want[b]);
  CHECK_SHAPE(out[0], B, R, C);
  CHECK_VALUES(out[0], &want[0][0][0], B * R * C, tol);
  lz_free(out[0]), lz_free(x), lz_free(w);
}

static lz_closure *vmapped(lz_closure *f, int axis) {
  return lz_vmap(f, (int[]){axis, LZ_VMAP_NONE}, 2, NULL, 0);
}

static void test_vmap_of_compiled(void) {
  fill();
  lz_closure *f = lz_closure_new(f_body, NULL, NULL), *cf = lz_compile(f, 0);
  for (int axis = 0; axis < 2; axis++) {
    lz_closure *plain = vmapped(f, axis), *vc = vmapped(cf, axis);
    check(plain, axis, f_ref, 1e-12);
    check(vc, axis, f_ref, 1e-12);
    lz_closure *cvc = lz_compile(vc, 0); /* compile of vmap of compile */
    check(cvc, axis, f_ref, 1e-12);
    lz_closure_free(cvc), lz_closure_free(vc), lz_closure_free(plain);
  }
  lz_closure_free(cf), lz_closure_free(f);
}

static void test_compile_of_vmap(void) {
  fill();
  lz_closure *f = lz_closure_new(f_body, NULL, NULL), *vf = vmapped(f, 0);
  lz_closure *cvf = lz_compile(vf, 0);
  check(cvf, 0, f_ref, 1e-12);
  check(cvf, 0, f_ref, 1e-12); /* the cached tape */
  lz_closure_free(cvf), lz_closure_free(vf), lz_closure_free(f);
}

/* Per-example gradients with compile anywhere in the stack. */
static void test_compile_grad_vmap(void) {
  fill();
  lz_closure *l = lz_closure_new(loss_body, NULL, NULL), *cl = lz_compile(l, 0);
  lz_closure *g = lz_grad(l, NULL, 0), *gc = lz_grad(cl, NULL, 0), *cg = lz_compile(g, 0);
  lz_closure *vg = vmapped(g, 0);
  lz_closure *stacks[4] = {vmapped(gc, 0), vmapped(cg, 0), lz_compile(vg, 0), vmapped(gc, 1)};
  check(vg, 0, grad_ref, 1e-11);
  for (int i = 0; i < 4; i++) {
    check(stacks[i], i == 3 ? 1 : 0, grad_ref, 1e-11);
    lz_closure_free(stacks[i]);
  }
  lz_closure_free(vg), lz_closure_free(cg), lz_closure_free(gc), lz_closure_free(g);
  lz_closure_free(cl), lz_closure_free(l);
}

/* grad of a sum over a vmapped compiled function: the per-example gradients, summed. */
static int sum_vmapped(void *ctx, lz_array *const *in, int n, lz_array **out) {
  lz_array *o[1];
  if (lz_closure_call(ctx, in, n, o) != 1) return -1;
  out[0] = lz_sum(lz_square(o[0]), false);
  lz_free(o[0]);
  return out[0] ? 1 : -1;
}
static void test_grad_of_vmap_of_compiled(void) {
  fill();
  lz_closure *f = lz_closure_new(f_body, NULL, NULL), *cf = lz_compile(f, 0);
  lz_closure *vc = vmapped(cf, 0), *s = lz_closure_new(sum_vmapped, vc, NULL);
  lz_closure *gs = lz_grad(s, NULL, 0);
  check(gs, 0, grad_ref, 1e-11);
  lz_closure_free(gs), lz_closure_free(s), lz_closure_free(vc);
  lz_closure_free(cf), lz_closure_free(f);
}

int main(void) {
  RUN(test_vmap_of_compiled);
  RUN(test_compile_of_vmap);
  RUN(test_compile_grad_vmap);
  RUN(test_grad_of_vmap_of_compiled);
  return lzt_summary();
}
