/* Convolution figures: a ResNet basic block (x (8,56,56,64) NHWC, two 3x3 convs, relu,
 * residual), the first layer of an ImageNet CNN (3 channels, 7x7 stride 2) forward and
 * backward, the backward pass of one ResNet layer (input and weight gradients) and the weight
 * gradient of a depthwise 3x3 layer. Each runs on the default path (oneDNN)
 * and on the reference path (LZ_CONV=ref: im2col + GEMM), interleaved run by run, medians;
 * beside each, its floor: its FLOPs at this machine's f32 FMA peak, measured here
 * (bench_peak.c: AVX-512 where the CPU has it, else AVX2). */
#include <math.h>

#include "bench.h"

typedef struct conv_ctx {
  lz_array *x, *w1, *w2, *ct;
  lz_closure *layer;
} conv_ctx;

static int run_block(void *ctx) {
  conv_ctx *c = ctx;
  lz_scope_begin();
  lz_array *h = lz_maximum(lz_conv2d(c->x, c->w1, 1, 1, 1, 1, 1, 1, 1), lz_float(0));
  lz_array *y = lz_maximum(lz_add(lz_conv2d(h, c->w2, 1, 1, 1, 1, 1, 1, 1), c->x), lz_float(0));
  int rc = lz_eval(y);
  lz_scope_end();
  return rc;
}

static int run_first(void *ctx) {
  conv_ctx *c = ctx;
  lz_scope_begin();
  int rc = lz_eval(lz_conv2d(c->x, c->w1, 2, 2, 3, 3, 1, 1, 1));
  lz_scope_end();
  return rc;
}

static int layer_fn(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_conv2d(in[0], in[1], 1, 1, 1, 1, 1, 1, 1);
  return out[0] ? 1 : -1;
}
static int first_fn(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_conv2d(in[0], in[1], 2, 2, 3, 3, 1, 1, 1);
  return out[0] ? 1 : -1;
}
static int depthwise_fn(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_conv2d(in[0], in[1], 1, 1, 1, 1, 1, 1, lz_array_dim(in[0], 3));
  return out[0] ? 1 : -1;
}

/* The weight gradient alone (a depthwise layer's: one grouped convolution). */
static int run_weight_grad(void *ctx) {
  conv_ctx *c = ctx;
  lz_scope_begin();
  lz_array *prim[2] = {c->x, c->w1}, *g[2] = {NULL, NULL};
  int rc = lz_vjp(c->layer, prim, 2, &c->ct, 1, NULL, g);
  if (rc == 0) rc = lz_eval(g[1]);
  lz_free(g[0]), lz_free(g[1]);
  lz_scope_end();
  return rc;
}

/* Input and weight gradients of one 3x3 layer for a given cotangent. */
static int run_backward(void *ctx) {
  conv_ctx *c = ctx;
  lz_scope_begin();
  lz_array *prim[2] = {c->x, c->w1}, *out = NULL, *g[2] = {NULL, NULL};
  int rc = lz_vjp(c->layer, prim, 2, &c->ct, 1, &out, g);
  if (rc == 0) rc = lz_eval(g[0]) || lz_eval(g[1]);
  lz_free(out), lz_free(g[0]), lz_free(g[1]);
  lz_scope_end();
  return rc;
}

/* Median of `reps` runs of fn on each path, alternating (medians, as the rest of the suite
 * and compare.py's peers); -1 on failure. */
static void median_both(int (*fn)(void *), void *ctx, int reps, double *fast, double *ref) {
  double t[2][16];
  if (reps > 16) reps = 16;
  for (int r = 0; r <= reps; r++)
    for (int path = 0; path < 2; path++) {
      if (path) setenv("LZ_CONV", "ref", 1);
      double t0 = bench_now();
      int rc = fn(ctx);
      double dt = bench_now() - t0;
      if (path) unsetenv("LZ_CONV");
      if (rc != 0) {
        *fast = *ref = -1;
        return;
      }
      if (r > 0) t[path][r - 1] = dt; /* run 0 warms up (creates the primitives) */
    }
  *fast = bench_median(t[0], reps);
  *ref = bench_median(t[1], reps);
}

/* Prints <name>_ms (default path), <name>_ref_path_ms, <name>_gflops and <name>_floor_ms. */
static void print_both(const char *name, double fast, double ref, double flops, double peak) {
  char buf[128];
  snprintf(buf, sizeof buf, "%s_ms", name);
  if (fast < 0) {
    bench_skip(buf, "evaluation failed");
    return;
  }
  bench_print(buf, fast * 1e3, "ms");
  snprintf(buf, sizeof buf, "%s_ref_path_ms", name);
  bench_print(buf, ref * 1e3, "ms");
  snprintf(buf, sizeof buf, "%s_gflops", name);
  bench_print(buf, flops / fast / 1e9, "GFLOP/s");
  snprintf(buf, sizeof buf, "%s_floor_ms", name);
  if (peak > 0) bench_print(buf, flops / peak * 1e3, "ms");
}

void bench_conv2d(void) {
  int nt = lz_get_num_threads();
  double rate = bench_fma_peak_gflops(1, nt); /* AVX-512 where the CPU has it, else AVX2 */
  if (rate == 0) rate = bench_fma_peak_gflops(0, nt);
  if (rate > 0) bench_print("conv_floor_fma_peak_gflops", rate, "GFLOP/s");
  rate *= 1e9;

  int xs[4] = {8, 56, 56, 64}, ws[4] = {64, 3, 3, 64};
  conv_ctx c = {bench_rand(xs, 4, -1, 1, 21), bench_rand(ws, 4, -0.05f, 0.05f, 22),
                bench_rand(ws, 4, -0.05f, 0.05f, 23), bench_rand(xs, 4, -1, 1, 24),
                lz_closure_new(layer_fn, NULL, NULL)};
  double layer_flops = 2.0 * 8 * 56 * 56 * 64 * 64 * 9, fast, ref;
  median_both(run_block, &c, 5, &fast, &ref);
  print_both("conv2d_f32_resnet_block", fast, ref, 2 * layer_flops, rate);
  median_both(run_backward, &c, 3, &fast, &ref);
  print_both("conv2d_f32_resnet_layer_backward", fast, ref, 2 * layer_flops, rate);
  lz_free(c.x), lz_free(c.w1), lz_free(c.w2), lz_free(c.ct);
  lz_closure_free(c.layer);

  int fx[4] = {8, 224, 224, 3}, fw[4] = {64, 7, 7, 3};
  conv_ctx f = {bench_rand(fx, 4, -1, 1, 25), bench_rand(fw, 4, -0.1f, 0.1f, 26), NULL, NULL, NULL};
  double first_flops = 2.0 * 8 * 112 * 112 * 64 * 49 * 3;
  median_both(run_first, &f, 5, &fast, &ref);
  print_both("conv2d_f32_first_layer_7x7s2", fast, ref, first_flops, rate);
  /* its input and weight gradients (a deconvolution and a backward-weights primitive) */
  int fy[4] = {8, 112, 112, 64};
  f.ct = bench_rand(fy, 4, -1, 1, 27);
  f.layer = lz_closure_new(first_fn, NULL, NULL);
  median_both(run_backward, &f, 3, &fast, &ref);
  print_both("conv2d_f32_first_layer_7x7s2_backward", fast, ref, 2 * first_flops, rate);
  lz_free(f.x), lz_free(f.w1), lz_free(f.ct);
  lz_closure_free(f.layer);

  /* a depthwise 3x3 layer's weight gradient, (8,56,56,128) */
  int dx[4] = {8, 56, 56, 128}, dw[4] = {128, 3, 3, 1};
  conv_ctx d = {bench_rand(dx, 4, -1, 1, 28), bench_rand(dw, 4, -0.3f, 0.3f, 29), NULL,
                bench_rand(dx, 4, -1, 1, 30), lz_closure_new(depthwise_fn, NULL, NULL)};
  median_both(run_weight_grad, &d, 5, &fast, &ref);
  print_both("conv2d_f32_depthwise_weight_grad", fast, ref, 2.0 * 8 * 56 * 56 * 128 * 9, rate);
  lz_free(d.x), lz_free(d.w1), lz_free(d.ct);
  lz_closure_free(d.layer);
  lz_clear_error();
}
