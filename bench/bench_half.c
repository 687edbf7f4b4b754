/* float16 and bfloat16 on 16M elements: add, exp and sum, as GB/s of the half-typed data they
 * move, each beside the STREAM copy bandwidth timed interleaved with it (run by run, so the
 * load of a shared machine hits every figure alike). add and sum are memory-bound: their
 * limit is STREAM; exp also does the vector math on every element. */
#include "bench.h"

enum { N16M = 1 << 24, R = 7 };

typedef struct half_ctx {
  lz_array *x, *y;
} half_ctx;

static int eval_free(lz_array *y) {
  int rc = y ? lz_eval(y) : -1;
  lz_scope_end();
  return rc;
}
static int run_add(void *c) {
  lz_scope_begin();
  return eval_free(lz_add(((half_ctx *)c)->x, ((half_ctx *)c)->y));
}
static int run_exp(void *c) {
  lz_scope_begin();
  return eval_free(lz_exp(((half_ctx *)c)->x));
}
static int run_sum(void *c) {
  lz_scope_begin();
  return eval_free(lz_sum(((half_ctx *)c)->x, false));
}

static double once(int (*fn)(void *), void *ctx) {
  double t0 = bench_now();
  return fn(ctx) == 0 ? bench_now() - t0 : -1;
}

static void bench_half_dtype(lz_dtype dt, const char *dn, bench_stream *st) {
  static const struct {
    const char *name;
    int (*fn)(void *);
    double arrays; /* half arrays read + written */
  } ops[3] = {{"add", run_add, 3}, {"exp", run_exp, 2}, {"sum", run_sum, 1}};
  int shape[1] = {N16M}, nth = lz_get_num_threads();
  lz_array *fx = bench_rand(shape, 1, -4, 4, 21), *fy = bench_rand(shape, 1, -4, 4, 22);
  half_ctx c = {lz_astype(fx, dt), lz_astype(fy, dt)};
  lz_free(fx), lz_free(fy);
  char name[96];
  bool ok = lz_eval(c.x) == 0 && lz_eval(c.y) == 0;
  double ts[R], t[3][R];
  for (int k = 0; k < 3 && ok; k++) ok = ops[k].fn(&c) == 0; /* warm-up */
  for (int r = 0; r < R && ok; r++) {
    ts[r] = bench_stream_copy(st, nth);
    for (int k = 0; k < 3; k++) ok &= (t[k][r] = once(ops[k].fn, &c)) > 0;
  }
  for (int k = 0; k < 3; k++) {
    snprintf(name, sizeof name, "%s_%s_16M_GBps", ops[k].name, dn);
    if (!ok) {
      bench_skip(name, "evaluation failed");
      continue;
    }
    double bytes = ops[k].arrays * N16M * 2;
    bench_print(name, bytes / bench_median(t[k], R) / 1e9, "GB/s");
    snprintf(name, sizeof name, "%s_%s_16M_fraction_of_stream", ops[k].name, dn);
    bench_print(name, bytes * bench_min(ts, R) / bench_stream_bytes(st) / bench_min(t[k], R),
                "ratio");
  }
  if (ok) {
    snprintf(name, sizeof name, "stream_copy_beside_%s_GBps", dn);
    bench_print(name, bench_stream_bytes(st) / bench_median(ts, R) / 1e9, "GB/s");
  }
  lz_free(c.x), lz_free(c.y);
}

void bench_half(void) {
  bench_stream *st = bench_stream_new();
  if (!st) {
    bench_skip("add_f16_16M_GBps", "out of memory");
    return;
  }
  bench_half_dtype(LZ_FLOAT16, "f16", st);
  bench_half_dtype(LZ_BFLOAT16, "bf16", st);
  bench_stream_free(st);
}
