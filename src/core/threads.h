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

/* Calls fn() when the calling thread exits (once per fn and thread, at most 8 fns), so that
 * thread-local buffers do not leak when user threads come and go. */
LZ_HIDDEN void lz__at_thread_exit(void (*fn)(void));

#endif /* LZ_THREADS_H */
