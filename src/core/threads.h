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

/* Ends the calling thread's OpenMP team if one of its oneDNN calls started it (defined in
 * cpu/onednn.c). Why: after a parallel region libgomp's workers spin for ~300,000 rounds (about
 * 5 ms of a core each) unless OMP_WAIT_POLICY/GOMP_SPINCOUNT were set before it loaded, and
 * they would fight the pool's workers for the cores; a pool job calls this first, so a GEMM
 * followed by a GEMM keeps its warm team and a GEMM followed by our work hands the cores over. */
LZ_HIDDEN void lz__dnnl_quiesce(void);

/* Calls fn() when the calling thread exits (once per fn and thread, at most 8 fns), so that
 * thread-local buffers do not leak when user threads come and go. */
LZ_HIDDEN void lz__at_thread_exit(void (*fn)(void));

#endif /* LZ_THREADS_H */
