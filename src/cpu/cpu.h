/* Shared infrastructure of the CPU kernels: the one strided n-d loop that every elementwise
 * kernel runs on, and helpers to describe operands. */
#ifndef LZ_CPU_H
#define LZ_CPU_H

#include "../core/internal.h"

/* Inner loop over one run of `n` elements. ptrs[i] is operand i's first element, strides[i]
 * its stride in bytes along the run. Operand 0 is conventionally the output. */
typedef void (*lz_cpu_inner_fn)(void *ctx, int64_t n, char **ptrs, const int64_t *strides);

/* An n-d iteration space shared by up to LZ_CPU_MAX_OPS operands. */
enum { LZ_CPU_MAX_OPS = 8 };
typedef struct lz_cpu_iter {
  int ndim;                                 /* after collapsing dims */
  int nops;
  int64_t shape[LZ_MAX_NDIM];
  int64_t strides[LZ_CPU_MAX_OPS][LZ_MAX_NDIM]; /* bytes */
  char *base[LZ_CPU_MAX_OPS];
} lz_cpu_iter;

/* Describes iterating `shape` with operands of the given element strides and byte sizes;
 * removes size-1 dims and merges dims that are contiguous for every operand. */
LZ_HIDDEN void lz_cpu_iter_init(lz_cpu_iter *it, int ndim, const int *shape, int nops,
                                char *const *base, const int64_t *const *elem_strides,
                                const size_t *itemsizes);
/* Number of inner runs (product of all dims but the last) and the length of each run. */
LZ_HIDDEN int64_t lz_cpu_iter_outer(const lz_cpu_iter *it);
LZ_HIDDEN int64_t lz_cpu_iter_inner(const lz_cpu_iter *it);
/* Calls fn on runs [begin, end) of the iteration. Thread-safe: `it` is only read. */
LZ_HIDDEN void lz_cpu_iter_run(const lz_cpu_iter *it, int64_t begin, int64_t end,
                               lz_cpu_inner_fn fn, void *ctx);

/* Runs every run of the iteration, split across the worker threads when the work is large
 * enough. `fn` must only touch the elements of its run. Every elementwise kernel calls this. */
LZ_HIDDEN void lz_cpu_iter_for(const lz_cpu_iter *it, lz_cpu_inner_fn fn, void *ctx);

/* Operand i of `node` as (base pointer, element strides broadcast to `out`'s shape). */
LZ_HIDDEN void lz_cpu_broadcast_strides(const lz_array *in, const lz_array *out, int64_t *strides);

#endif /* LZ_CPU_H */
