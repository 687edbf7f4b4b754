/* Attention's forward + backward at the GPT-style LM's shapes (q, k, v (16, 4, 128, 64), causal):
 * the fused op with its fused gradient next to the same attention composed of basic ops and
 * differentiated op by op, in the same run. */
#include <math.h>

#include "bench.h"

#pragma weak lz_vjp

typedef struct attn_ctx {
  lz_array *in[3], *cot;
} attn_ctx;

static int fused(void *ctx, lz_array *const *x, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_fast_scaled_dot_product_attention(x[0], x[1], x[2], 1.0 / 8.0, "causal", NULL);
  return out[0] ? 1 : -1;
}

static int composed(void *ctx, lz_array *const *x, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *s = lz_multiply(lz_matmul(x[0], lz_swapaxes(x[1], -1, -2)), lz_float(1.0 / 8.0));
  lz_array *keep = lz_tril(lz_ones((int[]){128, 128}, 2, LZ_BOOL), 0);
  s = lz_where(keep, s, lz_float(-INFINITY));
  out[0] = lz_matmul(lz_softmax_axis(s, -1, true), x[2]);
  return out[0] ? 1 : -1;
}

static int run_vjp(attn_ctx *c, int (*fn)(void *, lz_array *const *, int, lz_array **)) {
  lz_scope_begin();
  lz_closure *f = lz_closure_new(fn, NULL, NULL);
  lz_array *y, *g[3];
  int rc = lz_vjp(f, c->in, 3, &c->cot, 1, &y, g);
  lz_closure_free(f);
  if (rc == 0) rc = lz_eval_many((lz_array *[]){y, g[0], g[1], g[2]}, 4);
  if (rc) fprintf(stderr, "lz_bench: %s\n", lz_last_error());
  lz_scope_end();
  return rc;
}
static int run_fused(void *ctx) { return run_vjp(ctx, fused); }
static int run_composed(void *ctx) { return run_vjp(ctx, composed); }

void bench_attn(void) {
  if (!lz_vjp || !lz_closure_new || !lz_matmul || !lz_softmax_axis) {
    bench_skip("sdpa_fwd_bwd_f32_b16_h4_t128_d64_ms", "lz_vjp/lz_matmul not in the library yet");
    return;
  }
  attn_ctx c;
  lz_scope_begin();
  int qs[4] = {16, 4, 128, 64};
  for (int i = 0; i < 3; i++) c.in[i] = bench_rand(qs, 4, -1, 1, 21 + (unsigned)i);
  c.cot = bench_rand(qs, 4, -1, 1, 24);
  /* interleaved, best of the medians: the machine may be shared */
  double tf = INFINITY, tc = INFINITY;
  for (int r = 0; r < 3; r++) {
    double a = bench_time(run_fused, &c, 5), b = bench_time(run_composed, &c, 5);
    if (a < 0 || b < 0) {
      bench_skip("sdpa_fwd_bwd_f32_b16_h4_t128_d64_ms", "evaluation failed");
      lz_scope_end();
      return;
    }
    tf = a < tf ? a : tf, tc = b < tc ? b : tc;
  }
  bench_print("sdpa_fwd_bwd_f32_b16_h4_t128_d64_ms", tf * 1e3, "ms");
  bench_print("sdpa_fwd_bwd_f32_b16_h4_t128_d64_composed_ms", tc * 1e3, "ms");
  int old = lz_set_num_threads(1);
  double t1 = bench_time(run_fused, &c, 5);
  lz_set_num_threads(old);
  if (t1 > 0 && old > 1) bench_print("sdpa_fwd_bwd_speedup_2_vs_1_threads", t1 / tf, "x");
  lz_scope_end();
}
