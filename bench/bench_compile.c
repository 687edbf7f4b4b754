/* The compile figures: fused elementwise chains, softmax, layer norm and rms norm compiled
 * against the same functions uncompiled (same run, same machine) and against hand-written
 * one-pass limits, and the cost of tracing long graphs. */
#include "bench.h"

enum { N16M = 1 << 24 };

typedef struct cbench {
  lz_closure *f;
  lz_array *in[2];
  int nin;
} cbench;

/* One call of the closure (compiled: a replay) and its evaluation, as a user's loop would. */
static int run_closure(void *ctx) {
  cbench *b = ctx;
  lz_scope_begin();
  lz_array *out[LZ_MAX_OUTPUTS];
  int k = lz_closure_call(b->f, b->in, b->nin, out);
  int rc = k == 1 ? lz_eval(out[0]) : -1;
  if (rc) fprintf(stderr, "lz_bench: %s\n", lz_last_error());
  lz_scope_end();
  return rc;
}

static int chain8(void *ctx, lz_array *const *in, int n, lz_array **out) {
  lz_array *x = in[0];
  out[0] = lz_add(lz_subtract(lz_add(lz_multiply(lz_exp(x), lz_float(2)), lz_sin(x)),
                              lz_multiply(x, x)),
                  lz_divide(lz_tanh(x), lz_float(3)));
  return out[0] ? 1 : -1;
}

static int softmax(void *ctx, lz_array *const *in, int n, lz_array **out) {
  out[0] = lz_softmax_axis(in[0], -1, false);
  return out[0] ? 1 : -1;
}

/* softmax and rms norm written with plain ops, as a user writes them: compile runs each as one
 * row kernel */
static int softmax_ops(void *ctx, lz_array *const *in, int n, lz_array **out) {
  lz_array *x = in[0], *e = lz_exp(lz_subtract(x, lz_max_axis(x, -1, true)));
  out[0] = lz_divide(e, lz_sum_axis(e, -1, true));
  return out[0] ? 1 : -1;
}

static int rms_norm(void *ctx, lz_array *const *in, int n, lz_array **out) {
  lz_array *x = in[0], *ms = lz_mean_axis(lz_square(x), -1, true);
  out[0] = lz_multiply(lz_multiply(x, lz_rsqrt(lz_add(ms, lz_float(1e-6)))), in[1]);
  return out[0] ? 1 : -1;
}

static int layer_norm(void *ctx, lz_array *const *in, int n, lz_array **out) {
  lz_array *x = in[0], *mu = lz_mean_axis(x, -1, true), *var = lz_var_axis(x, -1, true, 0);
  lz_array *y = lz_multiply(lz_subtract(x, mu), lz_rsqrt(lz_add(var, lz_float(1e-5))));
  out[0] = lz_add(lz_multiply(y, in[1]), lz_float(0.1));
  return out[0] ? 1 : -1;
}

/* Times fn uncompiled and compiled, interleaved run by run (and the hand-written limit `lim`,
 * if given, between them); prints both, the speedup and the compiled time over the limit.
 * Returns the compiled time. */
static double pair_bench(const char *name, lz_fn fn, lz_array *const *in, int nin, bench_limit *lim,
                         const char *lim_name) {
  enum { R = 9 }; /* runs of each, alternated; the best of 9 steadies the ratios on a busy machine */
  lz_closure *f = lz_closure_new(fn, NULL, NULL), *cf = lz_compile(f, 0);
  cbench bu = {f, {in[0], nin > 1 ? in[1] : NULL}, nin}, bc = bu;
  bc.f = cf;
  double tu[R], tc[R], tl[R];
  bool ok = run_closure(&bu) == 0 && run_closure(&bc) == 0; /* warm-up, and the trace */
  for (int r = 0; r < R && ok; r++) {
    double t0 = bench_now();
    ok = run_closure(&bu) == 0;
    double t1 = bench_now();
    ok = ok && run_closure(&bc) == 0;
    tu[r] = t1 - t0, tc[r] = bench_now() - t1;
    if (lim) tl[r] = bench_limit_run(lim);
  }
  char buf[128];
  double t = -1;
  if (!ok) {
    snprintf(buf, sizeof buf, "%s_compiled_ms", name);
    bench_skip(buf, "evaluation failed");
  } else {
    double u = bench_median(tu, R);
    t = bench_median(tc, R); /* bench_median sorts: the best run stays at [0] */
    snprintf(buf, sizeof buf, "%s_uncompiled_ms", name);
    bench_print(buf, u * 1e3, "ms");
    snprintf(buf, sizeof buf, "%s_compiled_ms", name);
    bench_print(buf, t * 1e3, "ms");
    snprintf(buf, sizeof buf, "%s_compiled_speedup", name); /* of the best runs */
    bench_print(buf, bench_min(tu, R) / bench_min(tc, R), "x");
    if (lim) {
      double l = bench_median(tl, R);
      snprintf(buf, sizeof buf, "%s_%s_ms", name, lim_name);
      bench_print(buf, l * 1e3, "ms");
      snprintf(buf, sizeof buf, "%s_compiled_over_limit", name);
      bench_print(buf, bench_min(tc, R) / bench_min(tl, R), "ratio");
    }
  }
  lz_closure_free(cf), lz_closure_free(f);
  return t;
}

/* ---- tracing cost ---- */

static int long_chain(void *ctx, lz_array *const *in, int n, lz_array **out) {
  int len = *(const int *)ctx;
  lz_array *y = in[0];
  for (int i = 0; i < len; i++) {
    lz_array *next = i % 2 ? lz_multiply(y, in[1]) : lz_add(y, in[1]);
    if (i) lz_free(y);
    y = next;
  }
  out[0] = y;
  return 1;
}

/* Seconds to trace, simplify, fuse and replay once a chain of `len` ops (median of reps). */
static double trace_time(int len, int reps) {
  int shape[1] = {16};
  lz_array *x = lz_ones(shape, 1, LZ_FLOAT32), *a = lz_full(shape, 1, 0.5, LZ_FLOAT32);
  lz_eval(x), lz_eval(a);
  lz_closure *f = lz_closure_new(long_chain, &len, NULL);
  double t[16];
  for (int r = 0; r < reps; r++) {
    lz_closure *cf = lz_compile(f, 0);
    lz_array *in[2] = {x, a}, *y;
    lz_scope_begin();
    double t0 = bench_now();
    int k = lz_closure_call(cf, in, 2, &y);
    t[r] = bench_now() - t0;
    lz_scope_end();
    lz_closure_free(cf);
    if (k != 1) return -1;
  }
  lz_closure_free(f);
  lz_free(x), lz_free(a);
  return bench_median(t, reps);
}

void bench_compile(void) {
  if (!lz_exp || !lz_sin || !lz_tanh || !lz_softmax_axis || !lz_mean_axis || !lz_var_axis ||
      !lz_rsqrt) {
    bench_skip("chain8_f32_16M_compiled_ms", "ops or lz_compile not in the library yet");
    return;
  }
  int shape[1] = {N16M};
  lz_array *x = bench_rand(shape, 1, -1, 1, 3);
  /* the limit: one hand-written pass with the same vector math (bench_limits.c) */
  bench_limit *lim = bench_chain8_limit_new(x);
  double t = pair_bench("chain8_f32_16M", chain8, &x, 1, lim, "fused_limit");
  bench_limit_free(lim);
  if (t > 0) bench_print("chain8_f32_16M_compiled_GBps", 2.0 * N16M * 4 / t / 1e9, "GB/s");
  lz_free(x);

  int sq[2] = {4096, 4096}, row[1] = {4096};
  lz_array *in[2] = {bench_rand(sq, 2, -4, 4, 5), bench_rand(row, 1, 0.5f, 1.5f, 6)};
  pair_bench("softmax_f32_4096x4096", softmax, in, 1, NULL, NULL);
  lim = bench_layer_norm_limit_new(in[0], in[1]); /* one pass over memory */
  pair_bench("layer_norm_f32_4096x4096", layer_norm, in, 2, lim, "limit");
  bench_limit_free(lim);
  lim = bench_softmax_limit_new(in[0]);
  pair_bench("softmax_ops_f32_4096x4096", softmax_ops, in, 1, lim, "limit");
  bench_limit_free(lim);
  lim = bench_rms_norm_limit_new(in[0], in[1]);
  pair_bench("rms_norm_f32_4096x4096", rms_norm, in, 2, lim, "limit");
  bench_limit_free(lim);
  lz_free(in[0]), lz_free(in[1]);

  double t10k = trace_time(10000, 7), t100k = trace_time(100000, 3);
  if (t10k < 0 || t100k < 0) {
    bench_skip("compile_trace_ms_10k_ops", "tracing failed");
    return;
  }
  bench_print("compile_trace_ms_10k_ops", t10k * 1e3, "ms");
  bench_print("compile_trace_ms_100k_ops", t100k * 1e3, "ms");
  bench_print("compile_trace_per_op_ratio_100k_vs_10k", (t100k / 1e5) / (t10k / 1e4), "x");
}
