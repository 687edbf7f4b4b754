/* oneDNN for the CPU kernels: one engine for the process, one stream per thread, and statuses
 * turned into Lazuli errors. GEMM (matmul.c) and convolution (conv*.c) primitives run on them. */
#ifndef LZ_CPU_ONEDNN_H
#define LZ_CPU_ONEDNN_H

#include <oneapi/dnnl/dnnl.h>

#include "core/internal.h"

/* The process's CPU engine, made on first use; NULL (error recorded under `op`) if oneDNN
 * cannot make one. */
LZ_HIDDEN dnnl_engine_t lz__dnnl_engine(const char *op);

/* The calling thread's stream on that engine, made on first use and destroyed when the thread
 * ends; NULL (error recorded under `op`) on failure. */
LZ_HIDDEN dnnl_stream_t lz__dnnl_stream(const char *op);

/* Below this much work a primitive runs on one thread (lz__dnnl_threads(1)): a fork/join of the OpenMP team costs more than it saves,
 * and on a loaded machine much more (threads spin at the join while their partner is
 * descheduled: test_nn_conv took 35 s on 2 threads against 1.1 s on one at load 20). */
#define LZ_DNNL_SERIAL_FLOPS 4e6

/* Records "[op] oneDNN <what>: <status>" and returns -1 when `st` is not success, else 0. */
LZ_HIDDEN int lz__dnnl_check(dnnl_status_t st, const char *op, const char *what);

/* Sets how many OpenMP threads the calling thread's next oneDNN calls use: `n`, but 1 inside
 * a pool job (Lazuli's workers already hold every core; a nested team would oversubscribe them).
 * OpenMP keeps this count per thread, so it is set before every call (a no-op when unchanged).
 * Returns the count set. */
LZ_HIDDEN int lz__dnnl_threads(int n);

/* lz__dnnl_quiesce (core/threads.h) ends the calling thread's OpenMP team, if a oneDNN call
 * here used one, before the pool starts a job. */

#endif
