/* lz_cpu_gemm_split shares big GEMMs out on the pool (cpu/gemm_split.c) in blocks of
 * rows or columns of C: against one single-threaded BLAS call (lz_cpu_gemm_blas) on odd sizes,
 * every transpose, leading dimensions wider than the operands, beta != 0, float32 and float64, and
 * on one thread; and inside a pool job (a batched matmul) against NumPy-free float64 sums. */
#include "lz_test.h"

#include <math.h>

#include "cpu/gemm.h"
#include "cpu/linalg_pack.h"

static uint32_t seed = 12345;
static double next(void) {
  seed = seed * 1664525u + 1013904223u;
  return (double)(seed >> 8) / 8388608.0 - 1.0;
}

static int splits; /* products lz_cpu_gemm_split took */

/* C = alpha op(A) op(B) + beta C both ways; largest difference relative to 1 + |C|. */
static double compare(lz_gemm_backend lib, lz_dtype dt, bool ta, bool tb, int M, int N, int K, int pad) {
  size_t es = dt == LZ_FLOAT64 ? 8 : 4;
  int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
  int64_t ra = ta ? K : M, rb = tb ? N : K;
  char *A = malloc((size_t)(ra * lda) * es), *B = malloc((size_t)(rb * ldb) * es);
  char *C1 = malloc((size_t)(M * ldc) * es), *C2 = malloc((size_t)(M * ldc) * es);
  for (int64_t i = 0; i < ra * lda; i++)
    if (es == 8)
      ((double *)A)[i] = next();
    else
      ((float *)A)[i] = (float)next();
  for (int64_t i = 0; i < rb * ldb; i++)
    if (es == 8)
      ((double *)B)[i] = next();
    else
      ((float *)B)[i] = (float)next();
  for (int64_t i = 0; i < M * ldc; i++) {
    double v = next();
    if (es == 8)
      ((double *)C1)[i] = ((double *)C2)[i] = v;
    else
      ((float *)C1)[i] = ((float *)C2)[i] = (float)v;
  }
  if (lz_cpu_gemm_split(lib, dt, ta, tb, M, N, K, 0.75, A, lda, B, ldb, 0.5, C1, ldc))
    splits++;
  else
    lz_cpu_gemm_blas(dt, ta, tb, M, N, K, 0.75, A, lda, B, ldb, 0.5, C1, ldc);
  lz_cpu_gemm_blas(dt, ta, tb, M, N, K, 0.75, A, lda, B, ldb, 0.5, C2, ldc);
  double worst = 0;
  for (int64_t i = 0; i < M * ldc; i++) {
    double a = es == 8 ? ((double *)C1)[i] : ((float *)C1)[i];
    double b = es == 8 ? ((double *)C2)[i] : ((float *)C2)[i];
    double d = fabs(a - b) / (1 + fabs(b));
    if (!(d <= worst)) worst = d; /* NaN counts as worst */
  }
  free(A), free(B), free(C1), free(C2);
  return worst;
}

static void test_against_serial(void) {
  const int shapes[][3] = {
      {301, 77, 129}, {40, 517, 65}, {1000, 33, 64}, {33, 1000, 41}, {64, 64, 300}};
  for (int t = 0; t < 2; t++) {
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
      for (int tr = 0; tr < 4; tr++)
        for (int l = 0; l < 2; l++) { /* blocks on OpenBLAS, then (float32) on oneDNN */
          lz_gemm_backend lib = l ? LZ_GEMM_ONEDNN : LZ_GEMM_OPENBLAS;
          int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
          double d32 = compare(lib, LZ_FLOAT32, tr & 1, tr & 2, M, N, K, s % 2 ? 3 : 0);
          double d64 = compare(lib, LZ_FLOAT64, tr & 1, tr & 2, M, N, K, 5);
          CHECK(d32 <= 1e-5);
          CHECK(d64 <= 1e-12);
        }
    /* every shape here is big enough to share, on more than one thread; none on one */
    CHECK(splits == (t == 0 && lz_get_num_threads() > 1 ? 80 : 0));
    splits = 0;
    lz_set_num_threads(t == 0 ? 1 : 0); /* then on one thread (0: back to one per core) */
  }
  lz_set_num_threads(0);
}

/* A batched matmul runs its GEMMs inside pool jobs (each whole on its thread). */
static void test_batched(void) {
  lz_scope_begin();
  int sa[3] = {6, 150, 70}, sb[3] = {6, 70, 90};
  lz_array *a = lz_random_normal(sa, 3, LZ_FLOAT64, 0, 1, lz_random_key(1));
  lz_array *b = lz_random_normal(sb, 3, LZ_FLOAT64, 0, 1, lz_random_key(2));
  lz_array *c = lz_matmul(a, b);
  /* the same through broadcasting and a sum: no GEMM */
  lz_array *ref = lz_sum_axis(
      lz_multiply(lz_expand_dims(a, (int[]){3}, 1), lz_expand_dims(b, (int[]){1}, 1)), 2, false);
  CHECK(lz_item_bool(lz_allclose(c, ref, 1e-10, 1e-10, false)));
  lz_scope_end();
}

int main(void) {
  RUN(test_against_serial);
  RUN(test_batched);
  return lzt_summary();
}
