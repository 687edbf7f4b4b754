/* LAPACK calls on OpenBLAS's threads (cpu/linalg_pack.c): a big call outside pool jobs gets the
 * pool's cores that no other process keeps busy, the pool is held meanwhile (so its workers and
 * OpenBLAS's never run together), and every op computes the same results threaded as on one
 * thread. */
#include "lz_test.h"

#include "core/threads.h"
#include "cpu/linalg_pack.h"

int openblas_get_num_threads(void); /* from OpenBLAS */

static void lend_in_job(void *ctx, int64_t b, int64_t e) {
  int *got = ctx;
  for (int64_t i = b; i < e; i++) got[i] = lz_cpu_lapack_begin(1e15), lz_cpu_lapack_end(got[i]);
}

static void test_lapack_threads_never_overlap_the_pool(void) {
  int before = lz_set_num_threads(2);
  double old = lz_cpu_lapack_set_threaded_flops(LZ_LAPACK_THREADED_FLOPS, false); /* idle or not */
  CHECK(lz_cpu_lapack_begin(1e6) == 1); /* small: single-threaded */
  CHECK(openblas_get_num_threads() == 1);
  int n = lz_cpu_lapack_begin(1e15);
  CHECK(n == 2 && openblas_get_num_threads() == 2);
  CHECK(lz__pool_lend() == 1);               /* the pool is held while OpenBLAS has the cores */
  CHECK(lz_cpu_lapack_begin(1e15) == 1);     /* and a second big call stays on one thread */
  lz_cpu_lapack_end(n);
  CHECK(openblas_get_num_threads() == 1);
  int k = lz__pool_lend(); /* the pool is free again */
  CHECK(k == 2);
  CHECK(lz_cpu_lapack_begin(1e15) == 1); /* lent elsewhere: one thread */
  lz__pool_unlend(k);
  int got[64];
  for (int i = 0; i < 64; i++) got[i] = -1;
  lz__parallel_for(64, 1, lend_in_job, got); /* inside pool jobs: one thread */
  for (int i = 0; i < 64; i++) CHECK(got[i] == 1);
  CHECK(openblas_get_num_threads() == 1);
  lz_set_num_threads(1); /* one thread configured: nothing to lend */
  CHECK(lz_cpu_lapack_begin(1e15) == 1);
  lz_set_num_threads(before);
  lz_cpu_lapack_set_threaded_flops(old, true);
}

/* Cores other processes keep busy are not taken (/proc/loadavg's running count). */
static void test_idle_cores_from_loadavg(void) {
  CHECK(lz_cpu_idle_cores("0.52 0.58 0.59 1/613 12345\n", 1, 2) == 2); /* only the caller runs */
  CHECK(lz_cpu_idle_cores("15.48 16.47 11.47 14/230 25988\n", 1, 2) == 0);
  CHECK(lz_cpu_idle_cores("1.00 1.00 1.00 3/230 25988\n", 1, 16) == 14);
  CHECK(lz_cpu_idle_cores("1.00 1.00 1.00 3/230 25988\n", 3, 16) == 16); /* all three ours */
  CHECK(lz_cpu_idle_cores("1.00 1.00 1.00 2/230 25988\n", 4, 16) == 16); /* a stale count */
  CHECK(lz_cpu_idle_cores("", 1, 4) == 4);
  CHECK(lz_cpu_idle_cores("garbage", 1, 4) == 4);
  /* the check itself, on this machine as it is now: at most the pool's count, OpenBLAS set to it */
  int before = lz_set_num_threads(2);
  int n = lz_cpu_lapack_begin(1e15);
  CHECK(n >= 1 && n <= 2 && openblas_get_num_threads() == n);
  lz_cpu_lapack_end(n);
  CHECK(openblas_get_num_threads() == 1 && lz__pool_lend() == 2);
  lz__pool_unlend(2);
  lz_set_num_threads(before);
}

/* ---- the ops' results, threaded and on one thread ---- */

enum { N = 200, NOPS = 10 };

static lz_array *matrix(lz_dtype dt, unsigned seed, bool spd) {
  double *v = malloc((size_t)N * N * sizeof *v);
  unsigned s = seed;
  for (int i = 0; i < N * N; i++) {
    s = s * 1664525u + 1013904223u;
    v[i] = (double)(s >> 8) / (double)(1u << 24) - 0.5;
  }
  if (spd) { /* v v^T / N + I */
    double *w = malloc((size_t)N * N * sizeof *w);
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++) {
        double d = i == j;
        for (int k = 0; k < N; k++) d += v[i * N + k] * v[j * N + k] / N;
        w[i * N + j] = d;
      }
    free(v);
    v = w;
  }
  lz_array *a = lz_astype(lz_array_from_data(v, (int[]){N, N}, 2, LZ_FLOAT64), dt);
  free(v);
  return a;
}

/* Op k's outputs (up to 3) as float64, concatenated into out (N*N*3 doubles); how many. */
static size_t run_op(int k, lz_array *a, lz_array *spd, double *out) {
  lz_array *o[3] = {NULL, NULL, NULL};
  int n = 1;
  switch (k) {
  case 0: o[0] = lz_linalg_cholesky(spd, false); break;
  case 1: n = lz_linalg_qr(a, o) == 0 ? 2 : 0; break;
  case 2: n = lz_linalg_svd(a, false, o) == 0 ? 1 : 0; break; /* values: no sign freedom */
  case 3: o[0] = lz_linalg_inv(a); break;
  case 4: o[0] = lz_linalg_solve(a, spd); break;
  case 5: n = lz_linalg_lu(a, o) == 0 ? 3 : 0; break;
  case 6: o[0] = lz_linalg_eigvalsh(spd, "L"); break;
  case 7: o[0] = lz_linalg_det(spd); break;
  case 8: o[0] = lz_linalg_pinv(a); break;
  default: o[0] = lz_linalg_cholesky_inv(lz_linalg_cholesky(spd, false), false); break;
  }
  size_t total = 0;
  for (int i = 0; i < n; i++) {
    size_t m = o[i] ? lz_array_size(o[i]) : 0;
    if (!o[i] || lz_array_read(o[i], LZ_FLOAT64, out + total, m * sizeof *out) != 0) {
      total = 0;
      break;
    }
    total += m;
  }
  for (int i = 0; i < 3; i++) lz_free(o[i]);
  return total;
}

static void test_threaded_lapack_matches_one_thread(void) {
  static double one[3 * N * N], many[3 * N * N];
  double old = lz_cpu_lapack_set_threaded_flops(0, false); /* every call threaded */
  int before = lz_set_num_threads(2);
  for (int d = 0; d < 2; d++) {
    lz_dtype dt = d ? LZ_FLOAT64 : LZ_FLOAT32;
    double tol = d ? 1e-9 : 2e-3;
    lz_scope_begin();
    lz_array *a = matrix(dt, 7, false), *spd = matrix(dt, 11, true);
    for (int k = 0; k < NOPS; k++) {
      long calls = lz_cpu_lapack_threaded_calls();
      size_t n2 = run_op(k, a, spd, many);
      CHECK(lz_cpu_lapack_threaded_calls() > calls);
      lz_set_num_threads(1);
      size_t n1 = run_op(k, a, spd, one);
      lz_set_num_threads(2);
      CHECK(n1 > 0 && n1 == n2);
      double scale = 0, err = 0;
      for (size_t i = 0; i < n1; i++) scale = fmax(scale, fabs(one[i]));
      for (size_t i = 0; i < n1; i++) err = fmax(err, fabs(many[i] - one[i]));
      if (!(err <= tol * (1 + scale))) {
        fprintf(stderr, "  op %d (%s): threaded differs by %g (scale %g)\n", k, d ? "f64" : "f32",
                err, scale);
        CHECK(err <= tol * (1 + scale));
      }
    }
    lz_scope_end();
  }
  lz_set_num_threads(before);
  lz_cpu_lapack_set_threaded_flops(old, true);
  CHECK(openblas_get_num_threads() == 1);
}

int main(void) {
  RUN(test_lapack_threads_never_overlap_the_pool);
  RUN(test_idle_cores_from_loadavg);
  RUN(test_threaded_lapack_matches_one_thread);
  return lzt_summary();
}
