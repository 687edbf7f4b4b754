/* Helpers shared by the matmul and linear algebra kernels: strided copies with dtype
 * conversion (packing operands for BLAS/LAPACK), scratch memory, and one GEMM entry point. */
#ifndef LZ_CPU_LINALG_PACK_H
#define LZ_CPU_LINALG_PACK_H

#include "cpu.h"

/* Copies the `ndim`-d block of `shape` from `src` (dtype sdt, element strides sstrides) to `dst`
 * (dtype ddt, element strides dstrides), converting each element. Real dtypes only; float
 * conversions between f16/bf16/f32/f64 have fast paths, the rest go through double. */
LZ_HIDDEN void lz_cpu_copy_cast(char *dst, lz_dtype ddt, const int64_t *dstrides, const char *src,
                                lz_dtype sdt, const int64_t *sstrides, int ndim, const int *shape);
/* Copies the evaluated array `src` (any strides) into the contiguous buffer `dst` of dtype ddt. */
LZ_HIDDEN void lz_cpu_pack(void *dst, lz_dtype ddt, const lz_array *src);
/* Copies the contiguous buffer `src` of dtype sdt into `dst`'s own contiguous buffer. */
LZ_HIDDEN void lz_cpu_unpack(lz_array *dst, const void *src, lz_dtype sdt);

/* Scratch memory counted like array data (honours the memory limit and the failure hook).
 * Returns NULL with an out-of-memory error naming `op`. Free with lz_cpu_scratch_free. */
LZ_HIDDEN void *lz_cpu_scratch(size_t nbytes, size_t *cap, const char *op);
LZ_HIDDEN void lz_cpu_scratch_free(void *p, size_t cap);

/* The dtype kernels compute in: float64 for float64, float32 for the other floats. */
static inline lz_dtype lz_cpu_compute_dtype(lz_dtype d) {
  return d == LZ_FLOAT64 ? LZ_FLOAT64 : LZ_FLOAT32;
}

/* Row-major C(M,N) = alpha * op(A) op(B) + beta * C for float32 or float64 (`dt`). op(A) is
 * (M,K): A is stored (M,K) with leading dimension lda, or (K,M) when ta (transposed); likewise
 * B. Handles K == 0 (C = beta * C) and uses GEMV when N == 1. */
LZ_HIDDEN void lz_cpu_gemm(lz_dtype dt, bool ta, bool tb, int64_t M, int64_t N, int64_t K,
                           double alpha, const void *A, int64_t lda, const void *B, int64_t ldb,
                           double beta, void *C, int64_t ldc);

/* A LAPACK call of about `flops` floating-point operations on OpenBLAS's threads: from
 * LZ_LAPACK_THREADED_FLOPS up, outside pool jobs and while the pool is idle, OpenBLAS gets every
 * core for the call (the pool is held meanwhile); otherwise it stays single-threaded. Returns
 * the thread count given; pass it to lz_cpu_lapack_end after the call. */
#define LZ_LAPACK_THREADED_FLOPS 1e9
LZ_HIDDEN int lz_cpu_lapack_begin(double flops);
LZ_HIDDEN void lz_cpu_lapack_end(int n);
/* LAPACK calls run on several threads so far (tests). */
LZ_HIDDEN long lz_cpu_lapack_threaded_calls(void);
/* Sets the threshold (LZ_LAPACK_THREADED_FLOPS by default) and whether busy cores are left out
 * (true by default; tests lower the threshold and turn the check off); returns the old
 * threshold. */
LZ_HIDDEN double lz_cpu_lapack_set_threaded_flops(double flops, bool check_load);
/* How many of `cores` no other process keeps busy per a /proc/loadavg line, whose running count
 * includes `own_running` threads of this process (the caller at least; theirs do not count);
 * `cores` when the line cannot be read. */
LZ_HIDDEN int lz_cpu_idle_cores(const char *loadavg, int own_running, int cores);

#endif /* LZ_CPU_LINALG_PACK_H */
