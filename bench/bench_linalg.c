/* LAPACK on OpenBLAS's threads: Cholesky, QR and SVD (values and vectors) of one 2048x2048
 * float32 matrix with every core lent to OpenBLAS for the call (the default since LAPACK calls
 * above ~1 GFLOP take the pool's cores) against one thread (lz_set_num_threads(1): what every
 * LAPACK call ran on before), timed interleaved, one run of each per round. Prints each op's
 * median time threaded and the speedup of the best runs. */
#include "bench.h"

#pragma weak lz_linalg_cholesky
#pragma weak lz_linalg_qr
#pragma weak lz_linalg_svd

enum { LA_N = 2048, LA_ROUNDS = 3 };

typedef struct la_ctx {
  lz_array *a, *spd; /* a general matrix, and a symmetric positive definite one */
  int which;         /* 0 cholesky, 1 qr, 2 svd */
} la_ctx;

static int la_run(void *vctx) {
  la_ctx *c = vctx;
  lz_array *outs[3] = {NULL, NULL, NULL};
  int n = 0, rc = -1;
  if (c->which == 0) outs[0] = lz_linalg_cholesky(c->spd, false), n = 1;
  else if (c->which == 1) n = lz_linalg_qr(c->a, outs) == 0 ? 2 : 0;
  else n = lz_linalg_svd(c->a, true, outs) == 0 ? 3 : 0;
  if (n > 0 && outs[0]) rc = lz_eval_many(outs, n);
  for (int i = 0; i < 3; i++) lz_free(outs[i]);
  return rc;
}

void bench_linalg(void) {
  static const char *names[] = {"cholesky", "qr", "svd"};
  if (!lz_linalg_cholesky || !lz_linalg_qr || !lz_linalg_svd) {
    bench_skip("linalg_cholesky_f32_2048_ms", "linalg ops missing");
    return;
  }
  la_ctx c = {bench_rand((int[]){LA_N, LA_N}, 2, -1, 1, 41), NULL, 0};
  /* a a^T + n I: symmetric positive definite */
  lz_array *at = lz_transpose(c.a, NULL, 0), *g = lz_matmul(c.a, at);
  c.spd = lz_add(g, lz_multiply(lz_eye(LA_N, LA_N, 0, LZ_FLOAT32), lz_float((float)LA_N)));
  lz_free(at), lz_free(g);
  if (!c.a || !c.spd || lz_eval(c.spd) != 0) {
    bench_skip("linalg_cholesky_f32_2048_ms", "setup failed");
    lz_free(c.a), lz_free(c.spd);
    return;
  }
  int nth = lz_get_num_threads();
  for (int k = 0; k < 3; k++) {
    c.which = k;
    double tn[LA_ROUNDS], t1[LA_ROUNDS];
    bool ok = la_run(&c) == 0; /* warm-up */
    for (int r = 0; r < LA_ROUNDS && ok; r++) {
      double t0 = bench_now();
      ok = la_run(&c) == 0;
      tn[r] = bench_now() - t0;
      lz_set_num_threads(1);
      t0 = bench_now();
      ok = ok && la_run(&c) == 0;
      t1[r] = bench_now() - t0;
      lz_set_num_threads(nth);
    }
    char name[64];
    snprintf(name, sizeof name, "linalg_%s_f32_2048_ms", names[k]);
    if (!ok) {
      bench_skip(name, "evaluation failed");
      lz_clear_error();
      continue;
    }
    bench_print(name, bench_median(tn, LA_ROUNDS) * 1e3, "ms");
    snprintf(name, sizeof name, "linalg_%s_f32_2048_1_thread_ms", names[k]);
    bench_print(name, bench_median(t1, LA_ROUNDS) * 1e3, "ms");
    snprintf(name, sizeof name, "linalg_%s_speedup_threads_vs_1", names[k]);
    bench_print(name, bench_min(t1, LA_ROUNDS) / bench_min(tn, LA_ROUNDS), "x");
  }
  lz_free(c.a), lz_free(c.spd);
}
