/* GEMM backends. float32 products run on oneDNN (dnnl_sgemm) or OpenBLAS (cblas_sgemm), chosen
 * once per process or, under the auto backend, per product by its shape; float64 always on OpenBLAS. float16/bfloat16 products run on oneDNN's
 * matmul primitive where the CPU has native instructions for them, otherwise through the
 * float32 GEMM on cache-sized blocks converted on the fly (no full-size float32 copies).
 * lz_cpu_gemm (linalg_pack.h) is the float32/float64 entry point every kernel calls. */
#ifndef LZ_CPU_GEMM_H
#define LZ_CPU_GEMM_H

#include "cpu.h"

typedef enum lz_gemm_backend {
  LZ_GEMM_OPENBLAS,      /* cblas_sgemm / cblas_sgemv */
  LZ_GEMM_ONEDNN,        /* dnnl_sgemm */
  LZ_GEMM_ONEDNN_MATMUL, /* oneDNN's matmul primitive for every float32 product (tests) */
  LZ_GEMM_AUTO,          /* per product, whichever of the two wins at its shape (AVX2 CPUs) */
  LZ_GEMM_BACKEND_COUNT
} lz_gemm_backend;

/* The process's float32 backend: LZ_GEMM=openblas|onednn|onednn_matmul|auto when set, else
 * oneDNN where the CPU has AVX-512 (there its kernels run at about twice OpenBLAS's AVX2 ones),
 * else auto: on AVX2-only CPUs neither library wins everywhere, so each product goes to the one
 * that wins at its shape (lz_cpu_gemm_auto_onednn). OpenBLAS runs single-threaded, big products
 * shared out on our pool by lz_cpu_gemm_split. Products made inside a pool job run on oneDNN
 * with one thread under every backend (see lz_cpu_gemm). */
LZ_HIDDEN lz_gemm_backend lz_cpu_gemm_backend(void);
LZ_HIDDEN const char *lz_cpu_gemm_backend_name(lz_gemm_backend b);
/* Under the auto backend, whether a float32 product of this shape made outside a pool job runs
 * on oneDNN (true) or OpenBLAS (false). */
LZ_HIDDEN bool lz_cpu_gemm_auto_onednn(int64_t M, int64_t N, int64_t K);
/* How many float32 products made outside a pool job ran on `lib` (LZ_GEMM_OPENBLAS or
 * LZ_GEMM_ONEDNN) so far: tests check which way the auto backend sent each shape. */
LZ_HIDDEN long long lz_cpu_gemm_runs(lz_gemm_backend lib);

/* True when `dt` (float16 or bfloat16) products run natively on oneDNN on this CPU (bfloat16
 * where it has AVX512_BF16 or AMX, float16 where it has AVX512_FP16). */
LZ_HIDDEN bool lz_cpu_gemm_half_native(lz_dtype dt);

/* C(M,N) = alpha * A @ B for `dt` float16 or bfloat16: A (M,K) with element (i,k) at
 * A[i*ars + k*acs], B (K,N) with element (k,j) at B[k*brs + j*bcs] (any strides, negative
 * included), C row-major with leading dimension ldc, all of dtype dt; the sum is kept in float32
 * and rounded once. Returns 0, or -1 when scratch memory runs out (no error is recorded: the
 * caller records it, on its own thread). */
LZ_HIDDEN int lz_cpu_gemm_half(lz_dtype dt, int64_t M, int64_t N, int64_t K, float alpha,
                               const void *A, int64_t ars, int64_t acs, const void *B, int64_t brs,
                               int64_t bcs, void *C, int64_t ldc);

/* C(M,N) (dtype dc, leading dimension ldc) = alpha * A @ B + beta * C on oneDNN's matmul
 * primitive (cached per shape, strides, dtypes and thread count), A and B of dtype dab with
 * element strides as above. Returns 0, or -1 with C untouched when oneDNN has no fast kernel for
 * it or fails (nothing is recorded: the caller falls back to another path). */
LZ_HIDDEN int lz_cpu_onednn_matmul(lz_dtype dab, lz_dtype dc, int64_t M, int64_t N, int64_t K,
                                   float alpha, float beta, const void *A, int64_t ars, int64_t acs,
                                   const void *B, int64_t brs, int64_t bcs, void *C, int64_t ldc);
/* float32 C = alpha * op(A) op(B) + beta * C (as lz_cpu_gemm) on the calling thread alone, for
 * kernels that split work over the pool themselves: oneDNN with a one-thread team whatever the
 * backend (OpenBLAS has no per-call thread count), OpenBLAS only if oneDNN declines. */
LZ_HIDDEN void lz_cpu_gemm_serial(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                                  const float *A, int64_t lda, const float *B, int64_t ldb,
                                  float beta, float *C, int64_t ldc);
/* float32 C = op(A) op(B) (K > 0, as lz_cpu_gemm) on the calling thread, as one block of a
 * product that the caller shares out itself (compile's GEMM epilogue): one OpenBLAS call under
 * the OpenBLAS backend (as lz_cpu_gemm_split's blocks), else lz_cpu_gemm_serial. */
LZ_HIDDEN void lz_cpu_gemm_block(bool ta, bool tb, int64_t M, int64_t N, int64_t K,
                                 const float *A, int64_t lda, const float *B, int64_t ldb,
                                 float *C, int64_t ldc);
/* float32/float64 C = alpha * op(A) op(B) + beta * C (K > 0, as lz_cpu_gemm) in one OpenBLAS
 * call on the calling thread (OpenBLAS is single-threaded: core/threads.c). */
LZ_HIDDEN void lz_cpu_gemm_blas(lz_dtype dt, bool ta, bool tb, int64_t M, int64_t N, int64_t K,
                                double alpha, const void *A, int64_t lda, const void *B,
                                int64_t ldb, double beta, void *C, int64_t ldc);
/* The same product cut into blocks of rows (or columns) of C, one call each on the pool's
 * threads (cpu/gemm_split.c): lz_cpu_gemm_blas when lib is LZ_GEMM_OPENBLAS, or for float32
 * with LZ_GEMM_ONEDNN lz_cpu_gemm_serial (oneDNN with a one-thread team); false, having done
 * nothing, when it is too small to share or there is one thread. Inside a pool job the blocks
 * run on the calling thread. */
LZ_HIDDEN bool lz_cpu_gemm_split(lz_gemm_backend lib, lz_dtype dt, bool ta, bool tb, int64_t M,
                                 int64_t N, int64_t K, double alpha, const void *A, int64_t lda,
                                 const void *B, int64_t ldb, double beta, void *C, int64_t ldc);
/* How many products ran on the matmul primitive so far (tests check the path was taken). */
LZ_HIDDEN long long lz_cpu_gemm_primitive_runs(void);
/* Destroys the cached matmul primitives (lz_clear_cache); one running on another thread is
 * destroyed by its last user. Safe while other threads run products. */
LZ_HIDDEN void lz_cpu_gemm_cache_clear(void);
/* Matmul primitives (and shapes oneDNN declined) in the cache now (tests). */
LZ_HIDDEN int lz_cpu_gemm_cache_count(void);

#endif /* LZ_CPU_GEMM_H */
