/* OpenBLAS GEMMs shared out on the library's pool. OpenBLAS is kept single-threaded
 * (core/threads.c):
 * its pthread workers would otherwise spin for ~0.1 s after every threaded call (its thread
 * timeout, read from the environment only when OpenBLAS loads), taking a core from our pool's
 * elementwise kernels for most of a training step. Instead a GEMM big enough to share is cut
 * here into blocks of rows (or columns) of C, each one single-threaded BLAS call on a pool
 * thread: no thread but ours ever waits for work, and ours sleep after a short spin. A GEMM
 * called inside a pool job (a batched matmul, attention's tasks) runs whole on that thread.
 * The auto backend shares its oneDNN products out the same way, one-threaded oneDNN calls per
 * block: oneDNN's OpenMP team spins at its barriers, and on a loaded machine (a team thread
 * descheduled) routing the MLP step's products to it made the step 5x slower in CPU time. */
#include "../core/threads.h"
#include "gemm.h"

/* Below ~2 MFLOP a GEMM takes tens of microseconds: waking a thread would cost more than it
 * saves. Blocks are whole multiples of 16 rows or columns (the micro-kernels' tiles). */
enum { SPLIT_MIN_MNK = 1 << 20, SPLIT_ALIGN = 16 };

typedef struct gs_job {
  lz_dtype dt;
  bool ta, tb, by_rows, onednn;
  int64_t M, N, K, lda, ldb, ldc, blk;
  double alpha, beta;
  const char *A, *B;
  char *C;
} gs_job;

/* One block's product on the job's library, on the calling thread. */
static void gs_gemm(const gs_job *g, int64_t M, int64_t N, const char *A, const char *B,
                    char *C) {
  if (g->onednn && g->dt == LZ_FLOAT32)
    lz_cpu_gemm_serial(g->ta, g->tb, M, N, g->K, (float)g->alpha, (const float *)A, g->lda,
                       (const float *)B, g->ldb, (float)g->beta, (float *)C, g->ldc);
  else
    lz_cpu_gemm_blas(g->dt, g->ta, g->tb, M, N, g->K, g->alpha, A, g->lda, B, g->ldb, g->beta, C,
                     g->ldc);
}

static void gs_blocks(void *ctx, int64_t b, int64_t e) {
  const gs_job *g = ctx;
  size_t es = g->dt == LZ_FLOAT64 ? 8 : 4;
  int64_t total = g->by_rows ? g->M : g->N;
  int64_t i0 = b * g->blk, i1 = e * g->blk < total ? e * g->blk : total;
  if (g->by_rows) { /* rows i0..i1 of C: rows of op(A) */
    const char *A = g->A + (size_t)(g->ta ? i0 : i0 * g->lda) * es;
    gs_gemm(g, i1 - i0, g->N, A, g->B, g->C + (size_t)(i0 * g->ldc) * es);
  } else { /* columns i0..i1 of C: columns of op(B) */
    const char *B = g->B + (size_t)(g->tb ? i0 * g->ldb : i0) * es;
    gs_gemm(g, g->M, i1 - i0, g->A, B, g->C + (size_t)i0 * es);
  }
}

bool lz_cpu_gemm_split(lz_gemm_backend lib, lz_dtype dt, bool ta, bool tb, int64_t M, int64_t N,
                       int64_t K, double alpha, const void *A, int64_t lda, const void *B,
                       int64_t ldb, double beta, void *C, int64_t ldc) {
  int nth = lz__num_threads();
  int64_t big = M > N ? M : N;
  if (nth < 2 || K <= 0 || N == 1 || (double)M * (double)N * (double)K < SPLIT_MIN_MNK ||
      big < 2 * SPLIT_ALIGN)
    return false;
  gs_job g = {dt, ta, tb, M >= N, lib == LZ_GEMM_ONEDNN, M, N, K, lda, ldb, ldc, 0,
              alpha, beta, A, B, C};
  /* about two blocks per thread, so that a thread the system delays costs half its share */
  int64_t blk = (big + 2 * nth - 1) / (2 * nth);
  g.blk = (blk + SPLIT_ALIGN - 1) / SPLIT_ALIGN * SPLIT_ALIGN;
  lz__parallel_for((big + g.blk - 1) / g.blk, 1, gs_blocks, &g);
  return true;
}
