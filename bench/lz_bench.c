/* `make bench`: one line per figure, "name value unit" (or "name skip reason"), each the median
 * of several runs. Inputs are made and evaluated before timing; each timed run builds the
 * graph, evaluates it and frees it, as a user's loop would. */
#include "bench.h"

enum { N16M = 1 << 24 };

lz_array *bench_rand(const int *shape, int ndim, float lo, float hi, unsigned seed) {
  size_t n = 1;
  for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
  float *d = malloc((n ? n : 1) * sizeof *d);
  unsigned s = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    d[i] = lo + (hi - lo) * (float)(s >> 8) * (1.0f / 16777216.0f);
  }
  lz_array *a = lz_array_from_data(d, shape, ndim, LZ_FLOAT32);
  free(d);
  return a;
}

double bench_time(int (*fn)(void *ctx), void *ctx, int reps) {
  double t[64];
  if (reps > 64) reps = 64;
  if (fn(ctx) != 0) return -1;
  for (int r = 0; r < reps; r++) {
    double t0 = bench_now();
    if (fn(ctx) != 0) return -1;
    t[r] = bench_now() - t0;
  }
  return bench_median(t, reps);
}

/* Evaluates `y` (built by the caller inside a scope), closes the scope; 0 or -1. */
static int eval_end(lz_array *y) {
  int rc = lz_eval(y);
  if (rc) fprintf(stderr, "lz_bench: %s\n", lz_last_error());
  lz_scope_end();
  return rc;
}

/* ---- per-node overhead ---- */

static void bench_overhead(void) {
  int shape[1] = {16};
  lz_array *x = bench_rand(shape, 1, 0, 1, 1), *one = lz_float(1);
  double t[9];
  /* building a chain of 100,000 adds (no eval) */
  for (int r = 0; r < 9; r++) {
    lz_scope_begin();
    double t0 = bench_now();
    lz_array *y = x;
    for (int i = 0; i < 100000; i++) y = lz_add(y, one);
    t[r] = bench_now() - t0;
    lz_scope_end();
  }
  bench_print("graph_build_ns_per_op", bench_median(t, 9) * 1e9 / 1e5, "ns");
  /* evaluating chains of 1e3 and 1e6 nodes (built outside the timing) */
  const int sizes[2] = {1000, 1000000};
  const char *names[2] = {"eval_ns_per_node", "eval_ns_per_node_1e6"};
  for (int k = 0; k < 2; k++) {
    int reps = k ? 3 : 9;
    for (int r = 0; r < reps; r++) {
      lz_array *y = lz_retain(x);
      for (int i = 0; i < sizes[k]; i++) {
        lz_array *next = lz_add(y, one);
        lz_free(y);
        y = next;
      }
      double t0 = bench_now();
      lz_eval(y);
      t[r] = bench_now() - t0;
      lz_free(y);
    }
    bench_print(names[k], bench_median(t, reps) * 1e9 / sizes[k], "ns");
  }
  /* fixed cost of building and evaluating x + 1 on one element */
  int one_shape[1] = {1};
  lz_array *x1 = bench_rand(one_shape, 1, 0, 1, 2);
  for (int r = 0; r < 9; r++) {
    double t0 = bench_now();
    for (int i = 0; i < 10000; i++) {
      lz_array *y = lz_add(x1, one);
      lz_eval(y);
      lz_free(y);
    }
    t[r] = (bench_now() - t0) / 10000;
  }
  bench_print("eval_fixed_overhead_us", bench_median(t, 9) * 1e6, "us");
  lz_free(x1);
  lz_free(x);
  lz_free(one);
}

/* ---- memory-bound kernels and the machine's bandwidth ---- */

typedef struct pair {
  lz_array *x, *y;
} pair;

static int run_add(void *ctx) {
  pair *p = ctx;
  lz_scope_begin();
  return eval_end(lz_add(p->x, p->y));
}

static int run_sum(void *ctx) {
  pair *p = ctx;
  lz_scope_begin();
  return eval_end(lz_sum(p->x, false));
}

/* y = exp(x)*2 + sin(x) - x*x + tanh(x)/3 */
static int run_chain8(void *ctx) {
  lz_array *x = ((pair *)ctx)->x;
  lz_scope_begin();
  lz_array *y = lz_add(lz_subtract(lz_add(lz_multiply(lz_exp(x), lz_float(2)), lz_sin(x)),
                                   lz_multiply(x, x)),
                       lz_divide(lz_tanh(x), lz_float(3)));
  return eval_end(y);
}

static int run_softmax(void *ctx) {
  lz_scope_begin();
  return eval_end(lz_softmax_axis(((pair *)ctx)->x, -1, false));
}

static int run_layer_norm(void *ctx) {
  pair *p = ctx;
  lz_scope_begin();
  lz_array *x = p->x, *mu = lz_mean_axis(x, -1, true), *var = lz_var_axis(x, -1, true, 0);
  lz_array *y = lz_multiply(lz_subtract(x, mu), lz_rsqrt(lz_add(var, lz_float(1e-5))));
  return eval_end(lz_add(lz_multiply(y, p->y), lz_float(0.1))); /* weight, bias */
}

/* Seconds of one run of fn (-1 if it failed). */
static double once(int (*fn)(void *), void *ctx) {
  double t0 = bench_now();
  return fn(ctx) == 0 ? bench_now() - t0 : -1;
}

/* STREAM copy (persistent threads, bench_limits.c), add and sum on 16M floats, each at
 * Lazuli's thread count and on one thread, interleaved run by run so that the load of a shared
 * machine hits every figure alike; add and sum print their fraction of STREAM's bandwidth. */
static void bench_bandwidth(pair *p) {
  enum { R = 7 };
  int nth = lz_get_num_threads();
  bench_stream *st = bench_stream_new();
  bool have_sum = lz_sum != NULL;
  double ts[R], ts1[R], ta[R], ta1[R], tsum[R], tsum1[R];
  bool ok = st && run_add(p) == 0 && (!have_sum || run_sum(p) == 0);
  for (int r = 0; r < R && ok; r++) {
    ts[r] = bench_stream_copy(st, nth), ts1[r] = bench_stream_copy(st, 1);
    ta[r] = once(run_add, p);
    tsum[r] = have_sum ? once(run_sum, p) : 1;
    lz_set_num_threads(1);
    ta1[r] = once(run_add, p);
    tsum1[r] = have_sum ? once(run_sum, p) : 1;
    lz_set_num_threads(nth);
    ok = ta[r] > 0 && ta1[r] > 0 && tsum[r] > 0 && tsum1[r] > 0;
  }
  if (!ok) {
    bench_skip("stream_copy_GBps", st ? "evaluation failed" : "out of memory");
    bench_stream_free(st);
    return;
  }
  /* figures: medians; fractions and speedups: ratios of the best interleaved runs */
  double bytes = bench_stream_bytes(st);
  double s = bytes / bench_median(ts, R) / 1e9, s1 = bytes / bench_median(ts1, R) / 1e9;
  bench_print("stream_copy_GBps", s, "GB/s");
  bench_print("stream_copy_1_thread_GBps", s1, "GB/s");
  bench_print("stream_copy_speedup_2_vs_1_threads", bench_min(ts1, R) / bench_min(ts, R), "x");
  double add = 3.0 * N16M * 4 / bench_median(ta, R) / 1e9;
  bench_print("add_f32_16M_GBps", add, "GB/s");
  bench_print("add_f32_16M_fraction_of_stream",
              3.0 * N16M * 4 * bench_min(ts, R) / bytes / bench_min(ta, R), "ratio");
  bench_print("add_f32_16M_speedup_2_vs_1_threads", bench_min(ta1, R) / bench_min(ta, R), "x");
  if (!have_sum) {
    bench_skip("sum_f32_16M_GBps", "lz_sum not in the library yet");
  } else {
    double sum = (double)N16M * 4 / bench_median(tsum, R) / 1e9;
    bench_print("sum_f32_16M_GBps", sum, "GB/s");
    bench_print("sum_f32_16M_fraction_of_stream",
                (double)N16M * 4 * bench_min(ts, R) / bytes / bench_min(tsum, R), "ratio");
    bench_print("sum_f32_16M_speedup_2_vs_1_threads", bench_min(tsum1, R) / bench_min(tsum, R),
                "x");
  }
  bench_stream_free(st);
}

static void bench_elementwise(void) {
  int shape[1] = {N16M};
  pair p = {bench_rand(shape, 1, -1, 1, 3), bench_rand(shape, 1, -1, 1, 4)};
  bench_bandwidth(&p);
  if (!lz_exp || !lz_sin || !lz_tanh) {
    bench_skip("chain8_f32_16M_ms", "lz_exp/lz_sin/lz_tanh not in the library yet");
  } else {
    double t = bench_time(run_chain8, &p, 5);
    if (t < 0) bench_skip("chain8_f32_16M_ms", "evaluation failed");
    else bench_print("chain8_f32_16M_ms", t * 1e3, "ms");
  }
  lz_free(p.x), lz_free(p.y);

  int sq[2] = {4096, 4096}, row[1] = {4096};
  pair s = {bench_rand(sq, 2, -4, 4, 5), bench_rand(row, 1, 0.5f, 1.5f, 6)};
  if (!lz_softmax_axis) {
    bench_skip("softmax_f32_4096x4096_ms", "lz_softmax_axis not in the library yet");
  } else {
    double t = bench_time(run_softmax, &s, 5);
    if (t < 0) bench_skip("softmax_f32_4096x4096_ms", "evaluation failed");
    else bench_print("softmax_f32_4096x4096_ms", t * 1e3, "ms");
  }
  /* layer norm written with ops (mean, var, rsqrt) until a fused lz_layer_norm exists */
  if (!lz_mean_axis || !lz_var_axis || !lz_rsqrt) {
    bench_skip("layer_norm_f32_4096x4096_ms", "lz_mean_axis/lz_var_axis/lz_rsqrt not built yet");
  } else {
    double t = bench_time(run_layer_norm, &s, 5);
    if (t < 0) bench_skip("layer_norm_f32_4096x4096_ms", "evaluation failed");
    else bench_print("layer_norm_f32_4096x4096_ms", t * 1e3, "ms");
  }
  lz_free(s.x), lz_free(s.y);
}

/* `lz_bench [section...]` runs only the named sections (overhead, elementwise, reduce, matmul,
 * conv2d, mlp, transformer, transformer_block, grad, compile, lazy_load, fast, distributed,
 * gemm, simd, attn, half, linalg,
 * epilogue); no argument runs them all. */
int main(int argc, char **argv) {
  static const struct {
    const char *name;
    void (*fn)(void);
  } sections[] = {
      {"overhead", bench_overhead},       {"elementwise", bench_elementwise},
      {"reduce", bench_reduce},           {"matmul", bench_matmul},
      {"conv2d", bench_conv2d},           {"mlp", bench_mlp},
      {"transformer", bench_transformer}, {"transformer_block", bench_transformer_block},
      {"grad", bench_grad_scalar},        {"compile", bench_compile},
      {"lazy_load", bench_lazy_load},     {"fast", bench_fast},
      {"distributed", bench_distributed}, {"gemm", bench_gemm},
      {"simd", bench_simd},               {"attn", bench_attn},
      {"half", bench_half},               {"linalg", bench_linalg},
      {"epilogue", bench_epilogue},
  };
  double t0 = bench_now();
  if (!getenv("LZ_BENCH_SIMD_CHILD")) /* bench_simd's per-path child prints only its figures */
    bench_print("threads", lz_get_num_threads(), "count");
  for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
    bool run = argc < 2;
    for (int a = 1; a < argc && !run; a++) run = strcmp(argv[a], sections[i].name) == 0;
    if (run) sections[i].fn();
  }
  lz_clear_error();
  fprintf(stderr, "lz_bench: %.1f s in all\n", bench_now() - t0);
  return 0;
}
