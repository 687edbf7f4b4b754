/* The worker pool. Kernels split work with lz__parallel_for; small work stays on the caller. */
#ifndef LZ_THREADS_H
#define LZ_THREADS_H

#include "internal.h"

/* Calls fn(ctx, begin, end) over disjoint ranges covering [0, n), possibly on several threads
 * at once, and returns when all are done. `grain` is the smallest range worth a thread (in the
 * same units as n); n <= grain runs inline on the caller. fn must be thread-safe. */
LZ_HIDDEN void lz__parallel_for(int64_t n, int64_t grain,
                                void (*fn)(void *ctx, int64_t begin, int64_t end), void *ctx);
/* Number of threads kernels may use (LZ_NUM_THREADS, or one per core). */
LZ_HIDDEN int lz__num_threads(void);
/* True on a pool worker, and on a caller while it runs its share of a job: work started here
 * must not start threads of its own (the pool already uses every core). */
LZ_HIDDEN bool lz__in_parallel(void);

/* Runs fn(ctx) on every thread of the calling thread's OpenMP team (nthreads of them, the caller
 * included) if a oneDNN call here just used that team, and returns true; false (nothing run)
 * otherwise. Defined in cpu/onednn.c. Why: after a parallel region libgomp's workers spin for
 * ~300,000 rounds (4-8 ms of a core each here) unless OMP_WAIT_POLICY/GOMP_SPINCOUNT were set
 * before it loaded; a pool job started then would fight them for the cores, and ending the team
 * (omp_pause_resource_all) cost 0.2 ms per GEMM idle and tens of ms on a loaded machine. So
 * while the team is warm, the job runs on it: one set of threads works at a time. */
LZ_HIDDEN bool lz__omp_run(void (*fn)(void *), void *ctx, int nthreads);

/* Lends the pool's cores to another library's threads for one call made on this thread (a big
 * LAPACK call on OpenBLAS's threads): returns how many threads that call may use, the caller
 * included: every core when the pool is idle (it is then held busy, so any pool job another
 * thread starts meanwhile runs inline on that thread: the two sets of threads never run
 * together), 1 (nothing held) when the pool is busy, inside a job, or has one thread. Give
 * them back with lz__pool_unlend(the count returned). */
LZ_HIDDEN int lz__pool_lend(void);
LZ_HIDDEN void lz__pool_unlend(int n);

/* Calls fn() when the calling thread exits (once per fn and thread, at most 8 fns), so that
 * thread-local buffers do not leak when user threads come and go. */
LZ_HIDDEN void lz__at_thread_exit(void (*fn)(void));

#endif /* LZ_THREADS_H */
