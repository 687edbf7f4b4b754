/* Gather and scatter kernels: the parameter struct the indexing ops share with their
 * constructors, and the "index plan" engine both kernel families run on.
 *
 * A plan describes a walk over an iteration space (the shape of the gathered output, or of the
 * updates). At each point the engine reads every index array at its own strides, checks and
 * normalises the index, and turns it into an element offset along its target axis; then it
 * copies one element (gather: dst[p] = src[base + index offsets]) or combines one
 * (scatter: dst[base + index offsets] op= src[p]). */
#ifndef LZ_CPU_GATHER_H
#define LZ_CPU_GATHER_H

#include "cpu.h"

/* How a scatter combines an update with the element already there. */
typedef enum lz_scatter_mode {
  LZ_SCATTER_SET,
  LZ_SCATTER_ADD,
  LZ_SCATTER_SUBTRACT,
  LZ_SCATTER_MULTIPLY,
  LZ_SCATTER_DIVIDE,
  LZ_SCATTER_MAXIMUM,
  LZ_SCATTER_MINIMUM,
  LZ_SCATTER_MODE_COUNT
} lz_scatter_mode;

/* Parameters of every op of the family (each uses the fields it needs). */
typedef struct lz_index_params {
  const char *name; /* public name for kernel errors, e.g. "lz_at_add" */
  int mode;         /* lz_scatter_mode */
  int axis;         /* take, take_along_axis, put_along_axis, at_* */
  int flat;         /* take over the flattened array */
  int naxes;        /* gather, scatter, dynamic slices */
  int axes[LZ_MAX_NDIM];
  int sizes[LZ_MAX_NDIM];     /* gather/slice_dynamic: slice sizes; update_dynamic: block */
  int64_t start[LZ_MAX_NDIM]; /* slice_update: normalised start and step per axis */
  int64_t step[LZ_MAX_NDIM];
} lz_index_params;

/* One index array read during the walk. */
typedef struct lz_index_ref {
  const char *ptr; /* its element read at the origin of the walk */
  lz_dtype dtype;
  int64_t strides[LZ_MAX_NDIM]; /* element strides over the iteration space */
  int64_t dim;                  /* size of the target axis (of everything when flat) */
  int64_t extent;               /* elements from the index on that must exist (slice size) */
  int64_t tstride;              /* element stride of the target axis in the indexed array */
  int axis;                     /* target axis, for messages */
  bool flat;                    /* index into the indexed array flattened row-major */
  int tndim;                    /* flat: the indexed array's shape and strides */
  int64_t tshape[LZ_MAX_NDIM], tstrides[LZ_MAX_NDIM];
} lz_index_ref;

/* One walk. Strides are in elements; dst and src point at element 0. */
typedef struct lz_index_plan {
  const char *name;
  int ndim;
  int64_t shape[LZ_MAX_NDIM];
  char *dst;
  int64_t dst_strides[LZ_MAX_NDIM];
  const char *src;
  int64_t src_strides[LZ_MAX_NDIM];
  size_t itemsize;
  bool indexes_dst; /* scatter: indices address dst; gather: they address src */
  int split;        /* a dim whose slices never touch the same dst element, or -1 */
  int nidx;
  lz_index_ref idx[LZ_MAX_NDIM];
} lz_index_plan;

/* Combines n elements: dst[i*ds] op= src[i*ss] (strides in bytes). */
typedef void (*lz_cpu_combine_fn)(char *dst, int64_t ds, const char *src, int64_t ss, int64_t n);

/* Sets up `r` to read `idx` (already evaluated) at element strides `strides` over the walk. */
LZ_HIDDEN void lz_cpu_index_ref(lz_index_ref *r, const lz_array *idx, int64_t elem_offset,
                                const int64_t *strides, int axis, int64_t dim, int64_t extent,
                                int64_t tstride);
/* Runs the plan with `fn` (NULL: copy). Returns 0, or -1 with "[name] index 7 is out of bounds
 * for axis 0 with size 5" when an index is out of range (nothing is written past it). */
LZ_HIDDEN int lz_cpu_index_run(lz_index_plan *p, lz_cpu_combine_fn fn);
/* The combine loop of `mode` for `dtype`, or NULL when the pair is not supported. */
LZ_HIDDEN lz_cpu_combine_fn lz_cpu_scatter_fn(int mode, lz_dtype dtype);

/* Kernels (registry entries in ops/indexing.c and ops/scatter.c). */
LZ_HIDDEN int lz_cpu_take(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_take_along_axis(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_gather(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_slice_dynamic(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_mask_select(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_scatter(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_scatter_axis(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_put_along_axis(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_slice_update(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_slice_update_dynamic(lz_node *node, lz_array **outs);

#endif /* LZ_CPU_GATHER_H */
