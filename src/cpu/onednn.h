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

/* Sets the calling thread's OpenMP team size, which oneDNN primitives run on, to Lazuli's
 * thread count (lz_get_num_threads), so that oneDNN and Lazuli's pool never use more threads
 * than the cores; returns that count. Call it before creating or running a primitive (a
 * primitive's blocking depends on the thread count it was created for). */
LZ_HIDDEN int lz__dnnl_threads(void);

/* Records "[op] oneDNN <what>: <status>" and returns -1 when `st` is not success, else 0. */
LZ_HIDDEN int lz__dnnl_check(dnnl_status_t st, const char *op, const char *what);

#endif
