/* The fused fast.* ops and the 4-bit quantized matmul: each fused op next to the same
 * computation composed from basic ops, in the same run. */
#include <math.h>

#include "bench.h"

typedef struct fast_ctx {
  lz_array *q, *k, *v, *x, *w, *b, *wq[3];
} fast_ctx;

static int eval_scope_end(lz_array *y) {
  int rc = lz_eval(y);
  if (rc) fprintf(stderr, "lz_bench: %s\n", lz_last_error());
  lz_scope_end();
  return rc;
}

/* q, k, v: (16, 4, 128, 64), causal. */
static int run_sdpa(void *ctx) {
  fast_ctx *c = ctx;
  lz_scope_begin();
  return eval_scope_end(
      lz_fast_scaled_dot_product_attention(c->q, c->k, c->v, 1.0 / 8.0, "causal", NULL));
}

static int run_sdpa_composed(void *ctx) {
  fast_ctx *c = ctx;
  lz_scope_begin();
  lz_array *s = lz_multiply(lz_matmul(c->q, lz_swapaxes(c->k, -1, -2)), lz_float(1.0 / 8.0));
  lz_array *keep = lz_tril(lz_ones((int[]){128, 128}, 2, LZ_BOOL), 0);
  s = lz_where(keep, s, lz_float(-INFINITY));
  return eval_scope_end(lz_matmul(lz_softmax_axis(s, -1, true), c->v));
}

static int run_layer_norm(void *ctx) {
  fast_ctx *c = ctx;
  lz_scope_begin();
  return eval_scope_end(lz_fast_layer_norm(c->x, c->w, c->b, 1e-5));
}

static int run_rms_norm(void *ctx) {
  fast_ctx *c = ctx;
  lz_scope_begin();
  return eval_scope_end(lz_fast_rms_norm(c->x, c->w, 1e-5));
}

static int run_rms_norm_composed(void *ctx) {
  fast_ctx *c = ctx;
  lz_scope_begin();
  lz_array *ms = lz_mean_axis(lz_square(c->x), -1, true);
  return eval_scope_end(lz_multiply(lz_multiply(c->x, lz_rsqrt(lz_add(ms, lz_float(1e-5)))), c->w));
}

/* x (1, 4096) @ w^T, w (4096, 4096) in 4 bits, groups of 64. */
static int run_qmm(void *ctx) {
  fast_ctx *c = ctx;
  lz_scope_begin();
  return eval_scope_end(lz_quantized_matmul(c->x, c->wq[0], c->wq[1], c->wq[2], true, 64, 4));
}

static void print_pair(const char *name, const char *composed_name, double fused,
                       double composed) {
  if (fused < 0 || composed < 0) {
    bench_skip(name, "evaluation failed");
    return;
  }
  bench_print(name, fused * 1e3, "ms");
  bench_print(composed_name, composed * 1e3, "ms");
}

void bench_fast(void) {
  fast_ctx c = {0};
  lz_scope_begin();
  int qs[4] = {16, 4, 128, 64};
  c.q = bench_rand(qs, 4, -1, 1, 11), c.k = bench_rand(qs, 4, -1, 1, 12);
  c.v = bench_rand(qs, 4, -1, 1, 13);
  double t = bench_time(run_sdpa, &c, 7), tc = bench_time(run_sdpa_composed, &c, 7);
  print_pair("sdpa_f32_b16_h4_t128_d64_ms", "sdpa_f32_b16_h4_t128_d64_composed_ms", t, tc);

  int xs[2] = {4096, 4096}, ws[1] = {4096};
  c.x = bench_rand(xs, 2, -1, 1, 14), c.w = bench_rand(ws, 1, 0.5f, 1.5f, 15);
  c.b = bench_rand(ws, 1, -0.1f, 0.1f, 16);
  t = bench_time(run_layer_norm, &c, 5);
  bench_print("layer_norm_f32_4096x4096_fused_ms", t * 1e3, "ms");
  t = bench_time(run_rms_norm, &c, 5), tc = bench_time(run_rms_norm_composed, &c, 5);
  print_pair("rms_norm_f32_4096x4096_fused_ms", "rms_norm_f32_4096x4096_composed_ms", t, tc);

  lz_array *w = bench_rand(xs, 2, -1, 1, 17);
  if (lz_quantize(w, 64, 4, c.wq) != 0 || lz_eval_many(c.wq, 3) != 0) {
    bench_skip("qmm_q4_4096x4096_b1_ms", "quantize failed");
  } else {
    c.x = bench_rand((int[]){1, 4096}, 2, -1, 1, 18);
    t = bench_time(run_qmm, &c, 21);
    if (t < 0) bench_skip("qmm_q4_4096x4096_b1_ms", "evaluation failed");
    else bench_print("qmm_q4_4096x4096_b1_ms", t * 1e3, "ms");
  }
  lz_scope_end();
  lz_clear_error();
}
