/* Attention's forward + backward at the GPT-style LM's shapes (q, k, v (16, 4, 128, 64), causal):
 * the fused op with its fused gradient next to the same attention composed of basic ops and
 * differentiated op by op, in the same run; then the elementwise and row kernels of the LM's
 * step (batch 16 x 128 tokens = 2048 rows, d_model 256, MLP 1024) on 1 and on all threads. */
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

/* ---- the step's elementwise kernels, 1 thread against all ---- */

typedef struct ew_ctx {
  lz_array *x, *b, *h, *s, *mask, *wt, *p, *g, *m, *v;
  int which;
} ew_ctx;

enum {
  EW_BIAS,
  EW_COLSUM,
  EW_WHERE,
  EW_MUL_T,
  EW_SOFTMAX,
  EW_LAYER_NORM,
  EW_GELU,
  EW_ADAMW,
  EW_COUNT
};
static const char *ew_names[EW_COUNT] = {
    "ew_bias_add_2048x256",       "ew_colsum_2048x1024",     "ew_where_causal_16x4x128x128",
    "ew_mul_transposed_2048x256", "ew_softmax_16x4x128x128", "ew_layer_norm_2048x256",
    "ew_gelu_2048x1024",          "ew_adamw_update_1024x256"};

static lz_array *ew_build(ew_ctx *c) {
  switch (c->which) {
  case EW_BIAS:
    return lz_add(c->x, c->b);
  case EW_COLSUM:
    return lz_sum_axis(c->h, 0, false);
  case EW_WHERE:
    return lz_where(c->mask, c->s, lz_float(-INFINITY));
  case EW_MUL_T:
    return lz_multiply(c->x, lz_transpose(c->wt, (int[]){1, 0}, 2));
  case EW_SOFTMAX:
    return lz_softmax_axis(c->s, -1, true);
  case EW_LAYER_NORM:
    return lz_fast_layer_norm(c->x, c->b, c->b, 1e-5);
  case EW_GELU: {
    lz_array *f = c->h, *in = lz_multiply(lz_add(f, lz_multiply(lz_multiply(lz_square(f), f),
                                                                lz_float(0.044715))),
                                          lz_float(0.7978845608));
    return lz_multiply(lz_multiply(f, lz_float(0.5)), lz_add(lz_tanh(in), lz_float(1)));
  }
  default: { /* AdamW: m, v, then the parameter (MLX's order of operations) */
    lz_array *m = lz_add(lz_multiply(c->m, lz_float(0.9)), lz_multiply(c->g, lz_float(0.1)));
    lz_array *v =
        lz_add(lz_multiply(c->v, lz_float(0.999)), lz_multiply(lz_square(c->g), lz_float(0.001)));
    lz_array *p = lz_multiply(c->p, lz_float(1 - 1e-3 * 0.01));
    return lz_subtract(
        p, lz_multiply(lz_divide(m, lz_add(lz_sqrt(v), lz_float(1e-8))), lz_float(1e-3)));
  }
  }
}

static int run_ew(void *ctx) {
  lz_scope_begin();
  int rc = lz_eval(ew_build(ctx));
  if (rc) fprintf(stderr, "lz_bench: %s\n", lz_last_error());
  lz_scope_end();
  return rc;
}

static void bench_elementwise_threads(void) {
  int nth = lz_get_num_threads();
  if (!lz_sum_axis || !lz_softmax_axis || !lz_tanh || !lz_square || !lz_transpose) {
    bench_skip("ew_speedup", "an op it needs is not in the library yet");
    return;
  }
  lz_scope_begin();
  ew_ctx c = {.x = bench_rand((int[]){2048, 256}, 2, -1, 1, 31),
              .b = bench_rand((int[]){256}, 1, -1, 1, 32),
              .h = bench_rand((int[]){2048, 1024}, 2, -1, 1, 33),
              .s = bench_rand((int[]){16, 4, 128, 128}, 4, -4, 4, 34),
              .mask = lz_tril(lz_ones((int[]){128, 128}, 2, LZ_BOOL), 0),
              .wt = bench_rand((int[]){256, 2048}, 2, -1, 1, 35),
              .p = bench_rand((int[]){1024, 256}, 2, -1, 1, 36),
              .g = bench_rand((int[]){1024, 256}, 2, -1, 1, 37),
              .m = bench_rand((int[]){1024, 256}, 2, -1, 1, 38),
              .v = bench_rand((int[]){1024, 256}, 2, 0, 1, 39)};
  lz_eval(c.mask);
  for (c.which = 0; c.which < EW_COUNT; c.which++) {
    double t1 = INFINITY, tn = INFINITY;
    for (int r = 0; r < 3; r++) { /* interleaved, best of the medians */
      lz_set_num_threads(1);
      double a = bench_time(run_ew, &c, 7);
      lz_set_num_threads(nth);
      double b = bench_time(run_ew, &c, 7);
      if (a < 0 || b < 0) t1 = tn = -1;
      if (t1 < 0) break;
      t1 = a < t1 ? a : t1, tn = b < tn ? b : tn;
    }
    char name[96];
    snprintf(name, sizeof name, "%s_ms", ew_names[c.which]);
    if (t1 < 0) {
      bench_skip(name, "evaluation failed");
      continue;
    }
    bench_print(name, tn * 1e3, "ms");
    snprintf(name, sizeof name, "%s_speedup_%d_vs_1_threads", ew_names[c.which], nth);
    bench_print(name, t1 / tn, "x");
  }
  lz_scope_end();
}

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
  if (t1 > 0 && old > 1) {
    char name[64];
    snprintf(name, sizeof name, "sdpa_fwd_bwd_speedup_%d_vs_1_threads", old);
    bench_print(name, t1 / tf, "x");
  }
  lz_scope_end();
  bench_elementwise_threads();
}
