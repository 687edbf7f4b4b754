/* Kernels of the reduction family (reductions, arg-reductions, scans, sorting, softmax) and the
 * helpers they share: strided load/store between any dtype and a compute type, and "lanes" (the
 * 1-d or n-d runs along the reduced axes that an op processes one at a time). */
#ifndef LZ_CPU_REDUCE_H
#define LZ_CPU_REDUCE_H

#include "cpu.h"

/* ---- conversions (reduce_util.c) -------------------------------------------------------- */

/* Compute types are LZ_FLOAT32 (float16, bfloat16, float32), LZ_FLOAT64, LZ_INT64 (bool and
 * signed integers) and LZ_UINT64 (unsigned integers): the exact home of each dtype. */
LZ_HIDDEN lz_dtype lz_cpu_compute_type(lz_dtype d);
/* Loads n elements of `src` (stride in bytes) converted to the compute type into dst[0..n). */
typedef void (*lz_cpu_load_fn)(void *dst, const char *src, int64_t stride, int64_t n);
/* Stores n compute-type values src[0..n) converted to the destination dtype at dst (stride in
 * bytes). Float to integer stores are only used for values known to be in range. */
typedef void (*lz_cpu_store_fn)(char *dst, int64_t stride, const void *src, int64_t n);
LZ_HIDDEN lz_cpu_load_fn lz_cpu_loader(lz_dtype src, lz_dtype compute);
LZ_HIDDEN lz_cpu_store_fn lz_cpu_storer(lz_dtype dst, lz_dtype compute);

/* ---- lanes (reduce_util.c) -------------------------------------------------------------- */

/* An array split into lanes: the dims flagged `lane` form one lane; the other ("outer") dims
 * enumerate lanes in row-major order. Strides are in elements, for an input and an output. */
typedef struct lz_cpu_lanes {
  int nouter, nlane;
  int64_t oshape[LZ_MAX_NDIM], oin[LZ_MAX_NDIM], oout[LZ_MAX_NDIM];
  int64_t lshape[LZ_MAX_NDIM], lin[LZ_MAX_NDIM], lout[LZ_MAX_NDIM];
  int64_t nlanes, len; /* number of lanes, elements per lane */
} lz_cpu_lanes;

/* `in_strides` and `out_strides` are element strides over `shape` (out_strides may be NULL). */
LZ_HIDDEN void lz_cpu_lanes_init(lz_cpu_lanes *L, int ndim, const int *shape,
                                 const int64_t *in_strides, const int64_t *out_strides,
                                 const bool *lane);
/* Element offsets of lane `i`'s first element in the input and the output. */
LZ_HIDDEN void lz_cpu_lanes_offsets(const lz_cpu_lanes *L, int64_t i, int64_t *in_off,
                                    int64_t *out_off);
/* Copies lane elements (row-major over the lane dims) from `src` into the contiguous `buf`. */
LZ_HIDDEN void lz_cpu_lane_load(const lz_cpu_lanes *L, lz_cpu_load_fn ld, const char *src,
                                size_t itemsize, void *buf, size_t csize);
/* Copies the contiguous `buf` back to a lane of the output at `dst`. */
LZ_HIDDEN void lz_cpu_lane_store(const lz_cpu_lanes *L, lz_cpu_store_fn st, char *dst,
                                 size_t itemsize, const void *buf, size_t csize);

/* ---- reductions (reduce.c) -------------------------------------------------------------- */

typedef enum lz_reduce_kind {
  LZ_RK_SUM,
  LZ_RK_PROD,
  LZ_RK_MAX,
  LZ_RK_MIN,
  LZ_RK_ALL,
  LZ_RK_ANY,
  LZ_RK_COUNT, /* count_nonzero */
  LZ_RK_MEAN,
  LZ_RK_VAR,
  LZ_RK_STD,
  LZ_RK_LSE, /* logsumexp */
} lz_reduce_kind;

/* Parameters of every reduction op: the normalised, sorted axes and var/std's ddof. */
typedef struct lz_reduce_params {
  int naxes;
  int axes[LZ_MAX_NDIM];
  int ddof;
} lz_reduce_params;

/* Reduces the strided input (base, dtype, shape, element strides) over the dims flagged in
 * `reduced`, writing the contiguous output (row-major over the kept dims) of dtype `odt`.
 * Returns 0, or -1 with an error. */
LZ_HIDDEN int lz_cpu_reduce_run(lz_reduce_kind kind, int ddof, const char *base, lz_dtype dt,
                                int ndim, const int64_t *shape, const int64_t *strides,
                                const bool *reduced, char *out, lz_dtype odt);

/* Parameters of trace (axes normalised). */
typedef struct lz_trace_params {
  int offset, axis1, axis2;
} lz_trace_params;

/* Node kernels; `impl` of the reductions points to their lz_reduce_kind. */
LZ_HIDDEN int lz_cpu_reduce(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_trace(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_argreduce(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_median(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_softmax(lz_node *node, lz_array **outs);

/* Parameters of single-axis ops (arg-reductions, scans, sorts, diff). */
typedef struct lz_axis_params {
  int axis;
  int k;          /* partition's kth, topk's k, diff's n */
  bool reverse;   /* scans */
  bool inclusive; /* scans */
  bool is_max;    /* argmax (vs argmin) */
  bool precise;   /* softmax */
} lz_axis_params;

/* Scans (scan.c): impl points to the lz_reduce_kind (SUM, PROD, MAX, MIN, LSE). */
LZ_HIDDEN int lz_cpu_scan(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_diff(lz_node *node, lz_array **outs);

/* Sorting (sort.c): impl points to an int: 0 sort/partition, 1 argsort/argpartition, 2 topk. */
LZ_HIDDEN int lz_cpu_sort(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_searchsorted(lz_node *node, lz_array **outs);
/* Sorts n values of compute type `ct` ascending, NaN last, stably; idx (may be NULL) moves with
 * them. tmp holds n values and, when idx is given, n more uint32 (scratch). */
LZ_HIDDEN void lz_cpu_sort_values(lz_dtype ct, void *v, uint32_t *idx, int64_t n, void *tmp);

#endif /* LZ_CPU_REDUCE_H */
