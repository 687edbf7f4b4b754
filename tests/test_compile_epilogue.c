/* lz_compile's GEMM epilogue: a matmul whose only consumers are one elementwise group runs as
 * that group's prologue, block by block (compile/fuse.c, compile/fused.c). Each case compares
 * the compiled function (fused) with the same function called directly and compiled without
 * fusion, on odd shapes, broadcast biases, transposed, strided and reversed operands, batches
 * whose rows do not fold, float16/bfloat16, products with K = 0 and N = 1, and gradients
 * through compiled functions; kernel counts show that the product and its consumers ran as one
 * kernel. Also fusion's rule for values read outside their group (fuse.c). */
#include "lz_test.h"

/* max |a - b| / (1 + |b|) over the elements, read as float64 (a large value on a mismatch) */
static double rel_err(lz_array *a, lz_array *b) {
  size_t n = lz_array_size(a);
  if (!a || !b || n != lz_array_size(b) || lz_array_ndim(a) != lz_array_ndim(b)) return 1e9;
  double *x = malloc((n ? n : 1) * 8), *y = malloc((n ? n : 1) * 8), worst = 0;
  if (lz_array_read(a, LZ_FLOAT64, x, n * 8) != 0 || lz_array_read(b, LZ_FLOAT64, y, n * 8) != 0)
    worst = 1e9;
  for (size_t i = 0; worst < 1e9 && i < n; i++) {
    double e = fabs(x[i] - y[i]) / (1 + fabs(y[i]));
    if (!(e <= worst)) worst = isnan(e) ? 1e9 : e;
  }
  free(x), free(y);
  return worst;
}

/* Calls f directly, compiled and compiled without fusion on `in`; checks that every output
 * agrees within tol and returns the kernels the fused call's evaluation ran. */
static int check_fused(lz_fn fn, void *ctx, lz_array **in, int nin, int nout, double tol) {
  lz_closure *f = lz_closure_new(fn, ctx, NULL), *cf = lz_compile(f, 0),
             *nf = lz_compile(f, LZ_COMPILE_NO_FUSE), *ef = lz_compile(f, LZ_COMPILE_NO_EPILOGUE);
  lz_array *want[4] = {0}, *got[4] = {0}, *plain[4] = {0}, *noepi[4] = {0};
  CHECK(lz_closure_call(f, in, nin, want) == nout);
  CHECK(lz_closure_call(nf, in, nin, plain) == nout);
  CHECK(lz_closure_call(ef, in, nin, noepi) == nout);
  CHECK(lz_eval_many(want, (size_t)nout) == 0 && lz_eval_many(plain, (size_t)nout) == 0);
  uint64_t e0 = lz_get_kernel_count();
  CHECK(lz_eval_many(noepi, (size_t)nout) == 0);
  CHECK(lz_get_kernel_count() - e0 >= 2); /* without the epilogue the product is its own kernel */
  for (int i = 0; i < nin; i++) lz_eval(in[i]);
  CHECK(lz_closure_call(cf, in, nin, got) == nout); /* traces */
  for (int i = 0; i < nout; i++) lz_free(got[i]);
  CHECK(lz_closure_call(cf, in, nin, got) == nout); /* replays */
  uint64_t k0 = lz_get_kernel_count();
  CHECK(lz_eval_many(got, (size_t)nout) == 0);
  int kernels = (int)(lz_get_kernel_count() - k0);
  for (int i = 0; i < nout; i++) {
    double e1 = rel_err(got[i], want[i]), e2 = rel_err(got[i], plain[i]),
           e3 = rel_err(got[i], noepi[i]);
    CHECK(e1 <= tol);
    CHECK(e2 <= tol);
    CHECK(e3 <= tol);
    if (!(e1 <= tol) || !(e2 <= tol) || !(e3 <= tol))
      fprintf(stderr, "  output %d: %g from the direct call, %g unfused, %g without epilogue\n", i,
              e1, e2, e3);
    lz_free(want[i]), lz_free(got[i]), lz_free(plain[i]), lz_free(noepi[i]);
  }
  lz_closure_free(cf), lz_closure_free(nf), lz_closure_free(ef), lz_closure_free(f);
  return kernels;
}

enum { ACT_NONE, ACT_GELU, ACT_RELU, ACT_SILU };

static lz_array *act(lz_array *y, int kind) {
  switch (kind) {
  case ACT_GELU: /* x/2 (1 + erf(x / sqrt 2)) */
    return lz_multiply(lz_multiply(y, lz_float(0.5f)),
                       lz_add(lz_float(1), lz_erf(lz_divide(y, lz_float(1.41421356f)))));
  case ACT_RELU:
    return lz_maximum(y, lz_float(0));
  case ACT_SILU:
    return lz_multiply(y, lz_sigmoid(y));
  default:
    return y;
  }
}

/* in = (x, w, b): act(x @ w + b) */
static int linear_act(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)n;
  out[0] = act(lz_add(lz_matmul(in[0], in[1]), in[2]), *(int *)ctx);
  return out[0] ? 1 : -1;
}

static void test_bias_and_activations(void) {
  lz_array *x = lzt_uniform((int[]){3, 37, 29}, 3, 1), *w = lzt_uniform((int[]){29, 53}, 2, 2),
           *b = lzt_uniform((int[]){53}, 1, 3);
  lz_array *in[3] = {x, w, b};
  for (int kind = ACT_NONE; kind <= ACT_SILU; kind++) {
    int k = check_fused(linear_act, &kind, in, 3, 1, 1e-5);
    CHECK(k == 1); /* product, bias and activation: one kernel */
  }
  /* many blocks over both threads: 1200 rows */
  lz_array *xl = lzt_uniform((int[]){4, 300, 64}, 3, 4), *wl = lzt_uniform((int[]){64, 96}, 2, 5),
           *bl = lzt_uniform((int[]){96}, 1, 6);
  lz_array *inl[3] = {xl, wl, bl};
  int kind = ACT_GELU;
  CHECK(check_fused(linear_act, &kind, inl, 3, 1, 1e-5) == 1);
  /* a wide product (more columns than rows) runs by blocks of columns; B transposed too */
  lz_array *xw = lzt_uniform((int[]){6, 7}, 2, 60), *ww = lzt_uniform((int[]){7, 301}, 2, 61),
           *bw = lzt_uniform((int[]){301}, 1, 62), *wwt = lzt_uniform((int[]){301, 7}, 2, 63);
  lz_array *inw[3] = {xw, ww, bw}, *wtv = lz_swapaxes(wwt, 0, 1), *inwt[3] = {xw, wtv, bw};
  for (kind = ACT_NONE; kind <= ACT_SILU; kind++) {
    CHECK(check_fused(linear_act, &kind, inw, 3, 1, 1e-5) == 1);
    CHECK(check_fused(linear_act, &kind, inwt, 3, 1, 1e-5) == 1);
  }
  lz_array *inwh[3] = {lz_astype(xw, LZ_BFLOAT16), lz_astype(ww, LZ_BFLOAT16),
                       lz_astype(bw, LZ_BFLOAT16)};
  CHECK(check_fused(linear_act, &kind, inwh, 3, 1, 2e-2) == 1);
  for (int i = 0; i < 3; i++) lz_free(inwh[i]);
  lz_free(xw), lz_free(ww), lz_free(bw), lz_free(wwt), lz_free(wtv);
  lz_free(x), lz_free(w), lz_free(b), lz_free(xl), lz_free(wl), lz_free(bl);
}

/* in = (x, w, r): r + 0.5 * (x @ w) and (x @ w) * r as two outputs of one group */
static int residual(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *y = lz_matmul(in[0], in[1]);
  lz_array *s = lz_add(in[2], lz_multiply(y, lz_float(0.5f)));
  out[0] = s;
  out[1] = lz_multiply(s, in[2]);
  return out[0] && out[1] ? 2 : -1;
}

static void test_residual_and_scaling(void) {
  lz_array *x = lzt_uniform((int[]){2, 45, 31}, 3, 7), *w = lzt_uniform((int[]){31, 17}, 2, 8),
           *r = lzt_uniform((int[]){2, 45, 17}, 3, 9);
  lz_array *in[3] = {x, w, r};
  CHECK(check_fused(residual, NULL, in, 3, 2, 1e-5) == 1);
  /* a residual broadcast over the batch: (45, 17) */
  lz_array *r2 = lzt_uniform((int[]){45, 17}, 2, 10);
  in[2] = r2;
  CHECK(check_fused(residual, NULL, in, 3, 2, 1e-5) == 1);
  lz_free(x), lz_free(w), lz_free(r), lz_free(r2);
}

/* Operands in every layout: given as views from outside (in place or copied by the kernel) and
 * made inside the function. in = (a, w, b) with a (rows, K) and w (K, N) in any layout. */
static int linear_relu_t(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)n;
  int mode = *(int *)ctx;
  lz_array *a = in[0], *w = in[1];
  if (mode == 1) a = lz_swapaxes(a, -1, -2), w = lz_swapaxes(w, -1, -2); /* transposed inside */
  out[0] = lz_maximum(lz_add(lz_matmul(a, w), in[2]), lz_float(0));
  return out[0] ? 1 : -1;
}

static void test_transposed_strided_reversed(void) {
  int mode = 0;
  lz_array *b = lzt_uniform((int[]){41}, 1, 11);
  /* transposed views from outside: a (70, 23)^T, w (41, 23)^T */
  lz_array *at = lzt_uniform((int[]){23, 70}, 2, 12), *wt = lzt_uniform((int[]){41, 23}, 2, 13);
  lz_array *a = lz_swapaxes(at, 0, 1), *w = lz_swapaxes(wt, 0, 1);
  lz_array *in[3] = {a, w, b};
  CHECK(check_fused(linear_relu_t, &mode, in, 3, 1, 1e-5) == 1);
  mode = 1; /* the same transposes made inside the function: two view kernels + the group */
  lz_array *in1[3] = {at, wt, b};
  CHECK(check_fused(linear_relu_t, &mode, in1, 3, 1, 1e-5) == 3);
  mode = 0;
  /* every other row and column (strides 2 and 2: copied for BLAS), reversed rows */
  lz_array *big = lzt_uniform((int[]){140, 46}, 2, 14);
  lz_array *strided = lz_slice(big, (int[]){0, 0}, (int[]){140, 46}, (int[]){2, 2}, 2);
  lz_array *flipped = lz_flip(big, (int[]){0}, 1);
  lz_array *w2 = lzt_uniform((int[]){23, 41}, 2, 15), *w3 = lzt_uniform((int[]){46, 41}, 2, 16);
  lz_array *in2[3] = {strided, w2, b}, *in3[3] = {flipped, w3, b};
  CHECK(check_fused(linear_relu_t, &mode, in2, 3, 1, 1e-5) == 1);
  CHECK(check_fused(linear_relu_t, &mode, in3, 3, 1, 1e-5) == 1);
  /* a batch whose rows do not fold: (5, 3, 23) seen as (3, 5, 23) */
  lz_array *base = lzt_uniform((int[]){5, 3, 23}, 3, 17);
  lz_array *nofold = lz_swapaxes(base, 0, 1);
  lz_array *in4[3] = {nofold, w2, b};
  CHECK(check_fused(linear_relu_t, &mode, in4, 3, 1, 1e-5) == 1);
  /* N = 1 (a matrix-vector product) and K = 0 (the product is zeros) */
  lz_array *w5 = lzt_uniform((int[]){23, 1}, 2, 18), *b5 = lzt_uniform((int[]){1}, 1, 19);
  lz_array *in5[3] = {a, w5, b5};
  CHECK(check_fused(linear_relu_t, &mode, in5, 3, 1, 1e-5) == 1);
  lz_array *a0 = lz_zeros((int[]){9, 0}, 2, LZ_FLOAT32),
           *w0 = lz_zeros((int[]){0, 41}, 2, LZ_FLOAT32);
  lz_array *in6[3] = {a0, w0, b};
  CHECK(check_fused(linear_relu_t, &mode, in6, 3, 1, 0) == 1);
  lz_free(b), lz_free(at), lz_free(wt), lz_free(a), lz_free(w), lz_free(big), lz_free(strided);
  lz_free(flipped), lz_free(w2), lz_free(w3), lz_free(base), lz_free(nofold), lz_free(w5);
  lz_free(b5), lz_free(a0), lz_free(w0);
}

static void test_half_precision(void) {
  const lz_dtype dts[2] = {LZ_FLOAT16, LZ_BFLOAT16};
  for (int i = 0; i < 2; i++) {
    lz_array *x = lzt_uniform((int[]){2, 67, 40}, 3, 20), *w = lzt_uniform((int[]){40, 33}, 2, 21),
             *b = lzt_uniform((int[]){33}, 1, 22);
    lz_array *in[3] = {lz_astype(x, dts[i]), lz_astype(w, dts[i]), lz_astype(b, dts[i])};
    for (int kind = ACT_NONE; kind <= ACT_SILU; kind++) {
      /* a product rounded to 8 bits of mantissa may differ by an ulp: 1 part in 128 */
      int k = check_fused(linear_act, &kind, in, 3, 1, dts[i] == LZ_BFLOAT16 ? 2e-2 : 2e-3);
      CHECK(k == 1);
    }
    /* transposed half operands */
    lz_array *wt = lz_swapaxes(lz_astype(lzt_uniform((int[]){33, 40}, 2, 23), dts[i]), 0, 1);
    lz_array *in2[3] = {in[0], wt, in[2]};
    int kind = ACT_RELU;
    CHECK(check_fused(linear_act, &kind, in2, 3, 1, dts[i] == LZ_BFLOAT16 ? 2e-2 : 2e-3) == 1);
    for (int j = 0; j < 3; j++) lz_free(in[j]);
    lz_free(x), lz_free(w), lz_free(b), lz_free(wt);
  }
}

/* The product has another reader after the group (a reduction, as a bias gradient's sum): the
 * epilogue stores it as one more output. */
static int shared_product(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *y = lz_matmul(in[0], in[1]);
  out[0] = lz_maximum(lz_add(y, in[2]), lz_float(0));
  out[1] = lz_sum(y, false);
  return 2;
}

/* The product is also a result of the function. */
static int product_as_output(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[1] = lz_matmul(in[0], in[1]);
  out[0] = lz_maximum(lz_add(out[1], in[2]), lz_float(0));
  return 2;
}

/* An optimizer step on a weight gradient x^T dy (A transposed, 2-d): p - lr (x^T dy), and the
 * new momentum 0.9 m + x^T dy, from one kernel. in = (x, dy, p, m) */
static int sgd_momentum(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *g = lz_matmul(lz_swapaxes(in[0], 0, 1), in[1]);
  out[1] = lz_add(lz_multiply(in[3], lz_float(0.9f)), g);
  out[0] = lz_subtract(in[2], lz_multiply(out[1], lz_float(0.01f)));
  return 2;
}

static void test_shared_product_and_optimizer(void) {
  lz_array *x = lzt_uniform((int[]){19, 27}, 2, 24), *w = lzt_uniform((int[]){27, 35}, 2, 25),
           *b = lzt_uniform((int[]){35}, 1, 26);
  lz_array *in[3] = {x, w, b};
  CHECK(check_fused(shared_product, NULL, in, 3, 2, 1e-5) == 2); /* the group + the sum */
  CHECK(check_fused(product_as_output, NULL, in, 3, 2, 1e-5) == 1);
  lz_array *xs = lzt_uniform((int[]){300, 48}, 2, 27), *dy = lzt_uniform((int[]){300, 72}, 2, 28),
           *p = lzt_uniform((int[]){48, 72}, 2, 29), *m = lzt_uniform((int[]){48, 72}, 2, 30);
  lz_array *in2[4] = {xs, dy, p, m};
  CHECK(check_fused(sgd_momentum, NULL, in2, 4, 2, 1e-5) == 2); /* the transpose + the group */
  lz_free(x), lz_free(w), lz_free(b), lz_free(xs), lz_free(dy), lz_free(p), lz_free(m);
}

/* loss = sum(gelu(x @ w + b) * t): its gradients hold the GELU derivative times the incoming
 * gradient right after a product (dh = dy w^T). in = (x, w, b, t) */
static int gelu_loss(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  int kind = ACT_GELU;
  lz_array *h = act(lz_add(lz_matmul(in[0], in[1]), in[2]), kind);
  lz_array *h2 = lz_matmul(h, lz_swapaxes(in[1], 0, 1)); /* back to K columns: a second layer */
  out[0] = lz_sum(lz_multiply(act(h2, ACT_SILU), in[3]), false);
  return out[0] ? 1 : -1;
}

static int grads_of(void *ctx, lz_array *const *in, int n, lz_array **out) {
  return lz_closure_call((lz_closure *)ctx, in, n, out);
}

static void test_gradients(void) {
  lz_array *x = lzt_uniform((int[]){3, 21, 26}, 3, 31), *w = lzt_uniform((int[]){26, 39}, 2, 32),
           *b = lzt_uniform((int[]){39}, 1, 33), *t = lzt_uniform((int[]){3, 21, 26}, 3, 34);
  lz_array *in[4] = {x, w, b, t};
  lz_closure *f = lz_closure_new(gelu_loss, NULL, NULL);
  int argnums[3] = {0, 1, 2};
  /* grad of the compiled function (its vjp differentiates f) */
  lz_closure *cf = lz_compile(f, 0), *g = lz_grad(f, argnums, 3), *gc = lz_grad(cf, argnums, 3);
  lz_array *want[3], *got[3];
  CHECK(lz_closure_call(g, in, 4, want) == 3);
  CHECK(lz_closure_call(gc, in, 4, got) == 3);
  for (int i = 0; i < 3; i++) {
    CHECK(rel_err(got[i], want[i]) <= 1e-5);
    lz_free(got[i]);
  }
  /* the compiled gradient: the backward's products with their elementwise consumers fused */
  int k = check_fused(grads_of, g, in, 4, 3, 1e-5);
  CHECK(k > 0);
  lz_closure *cg = lz_compile(g, 0);
  CHECK(lz_closure_call(cg, in, 4, got) == 3);
  for (int i = 0; i < 3; i++) {
    CHECK(rel_err(got[i], want[i]) <= 1e-5);
    lz_free(got[i]), lz_free(want[i]);
  }
  /* finite differences of the loss along w[0][0], against the compiled gradient */
  CHECK(lz_closure_call(cg, in, 4, got) == 3);
  float dw00 = 0;
  lz_array *row = lz_slice(got[1], (int[]){0, 0}, (int[]){1, 1}, NULL, 2);
  dw00 = lz_item_f32(row);
  lz_free(row);
  const float h = 1e-2f;
  lz_array *e = lz_multiply(
      lz_astype(lz_equal(lz_arange(0, 26 * 39, 1, LZ_INT32), lz_int(0)), LZ_FLOAT32), lz_float(h));
  lz_array *er = lz_reshape(e, (int[]){26, 39}, 2);
  lz_array *wp = lz_add(w, er), *wm = lz_subtract(w, er), *lp = NULL, *lm = NULL;
  lz_array *inp[4] = {x, wp, b, t}, *inm[4] = {x, wm, b, t};
  CHECK(lz_closure_call(f, inp, 4, &lp) == 1 && lz_closure_call(f, inm, 4, &lm) == 1);
  CHECK_CLOSE(dw00, (lz_item_f32(lp) - lz_item_f32(lm)) / (2 * h), 2e-2);
  for (int i = 0; i < 3; i++) lz_free(got[i]);
  lz_free(e), lz_free(er), lz_free(wp), lz_free(wm), lz_free(lp), lz_free(lm);
  lz_closure_free(cg), lz_closure_free(gc), lz_closure_free(g), lz_closure_free(cf);
  lz_closure_free(f);
  lz_free(x), lz_free(w), lz_free(b), lz_free(t);
}

/* A value read outside its group joins it (stored as one more output) only when every outside
 * reader comes after the group's root. in = (x, w) */
static int late_reader(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *y = lz_multiply(in[0], lz_float(2));
  lz_array *z = lz_add(lz_exp(y), lz_float(1)); /* group root: y joins, stored */
  lz_array *m = lz_matmul(z, in[1]);
  out[0] = lz_add(m, lz_mean(y, false)); /* y read after the root */
  return 1;
}

static int early_reader(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *y = lz_multiply(in[0], lz_float(2));
  lz_array *a = lz_sum_axis(y, -1, true); /* y read before the root: y stays out */
  out[0] = lz_matmul(lz_add(lz_exp(y), a), in[1]);
  return 1;
}

static void test_values_read_outside_the_group(void) {
  lz_array *x = lzt_uniform((int[]){40, 24}, 2, 50), *w = lzt_uniform((int[]){24, 30}, 2, 51);
  lz_array *in[2] = {x, w};
  /* y * 2, exp, + 1 with y stored; mean(y); the product + mean as its epilogue */
  CHECK(check_fused(late_reader, NULL, in, 2, 1, 1e-5) == 3);
  CHECK(check_fused(early_reader, NULL, in, 2, 1, 1e-5) >= 3);
  lz_free(x), lz_free(w);
}

/* A product read by row groups (layer norm and softmax written with ops, rows of 96, row
 * fusion's range): a row group takes no prologue, so the product stays its own kernel and each
 * row group one more; the late reader of y * 2 joins its row group and is stored. */
static int linear_rows(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *y = lz_matmul(in[0], in[1]);
  lz_array *c = lz_subtract(y, lz_mean_axis(y, -1, true));
  lz_array *v = lz_mean_axis(lz_square(c), -1, true);
  out[0] = lz_multiply(c, lz_rsqrt(lz_add(v, lz_float(1e-5f))));
  lz_array *d = lz_multiply(y, lz_float(2));
  lz_array *e = lz_exp(lz_subtract(d, lz_max_axis(d, -1, true)));
  out[1] = lz_add(lz_divide(e, lz_sum_axis(e, -1, true)), lz_mean(d, false));
  return 2;
}

static void test_products_feeding_row_groups(void) {
  lz_array *x = lzt_uniform((int[]){2, 33, 40}, 3, 60), *w = lzt_uniform((int[]){40, 96}, 2, 61);
  lz_array *in[2] = {x, w};
  int k = check_fused(linear_rows, NULL, in, 2, 2, 1e-5);
  CHECK(k >= 3 && k <= 6);
  lz_free(x), lz_free(w);
}

/* Shapeless compile: a tape with a matmul prologue is traced again for new shapes. */
static void test_shapeless(void) {
  int kind = ACT_RELU;
  lz_closure *f = lz_closure_new(linear_act, &kind, NULL),
             *cf = lz_compile(f, LZ_COMPILE_SHAPELESS);
  const int rows[2] = {13, 50};
  for (int r = 0; r < 2; r++) {
    lz_array *x = lzt_uniform((int[]){rows[r], 24}, 2, 40 + r),
             *w = lzt_uniform((int[]){24, 18}, 2, 42), *b = lzt_uniform((int[]){18}, 1, 43);
    lz_array *in[3] = {x, w, b}, *want = NULL, *got = NULL;
    CHECK(lz_closure_call(f, in, 3, &want) == 1 && lz_closure_call(cf, in, 3, &got) == 1);
    CHECK(rel_err(got, want) <= 1e-5);
    lz_free(x), lz_free(w), lz_free(b), lz_free(want), lz_free(got);
  }
  lz_closure_free(cf), lz_closure_free(f);
}

int main(void) {
  RUN(test_bias_and_activations);
  RUN(test_residual_and_scaling);
  RUN(test_transposed_strided_reversed);
  RUN(test_half_precision);
  RUN(test_shared_product_and_optimizer);
  RUN(test_gradients);
  RUN(test_values_read_outside_the_group);
  RUN(test_products_feeding_row_groups);
  RUN(test_shapeless);
  return lzt_summary();
}
