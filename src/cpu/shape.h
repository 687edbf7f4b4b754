/* Kernels of the shape ops: views (cpu/view.c) and copies (cpu/copy.c), and the parameter
 * structs they share with the op constructors (ops/shape_*.c). */
#ifndef LZ_CPU_SHAPE_H
#define LZ_CPU_SHAPE_H

#include "cpu.h"

/* transpose: output axis i is input axis perm[i]. */
typedef struct lz_transpose_params {
  int perm[LZ_MAX_NDIM];
} lz_transpose_params;

/* slice: output element i along axis d is input element start[d] + i * step[d]. */
typedef struct lz_slice_params {
  int64_t start[LZ_MAX_NDIM];
  int64_t step[LZ_MAX_NDIM];
} lz_slice_params;

typedef struct lz_diagonal_params {
  int offset, axis1, axis2;
} lz_diagonal_params;

/* as_strided: element strides and offset into the input's row-major data. */
typedef struct lz_as_strided_params {
  int64_t strides[LZ_MAX_NDIM];
  int64_t offset;
} lz_as_strided_params;

/* split: output k starts where output k-1 ends along `axis` (their dims give the sizes);
 * with `squeeze` each output drops `axis` (unstack) and has length 1 along it. */
typedef struct lz_split_params {
  int axis;
  int squeeze;
} lz_split_params;

typedef struct lz_concatenate_params {
  int axis;
} lz_concatenate_params;

enum { LZ_PAD_CONSTANT, LZ_PAD_EDGE };
/* pad: low[d] elements before axis d (the output's dims give the rest). */
typedef struct lz_pad_params {
  int low[LZ_MAX_NDIM];
  int mode;
  double value;
} lz_pad_params;

/* diag (1-D input to 2-D), and tril, triu, eye, tri (cpu/creation.c): diagonal offset k. */
typedef struct lz_k_params {
  int k;
} lz_k_params;

/* View kernels (cpu/view.c): each output shares its input's buffer. */
LZ_HIDDEN int lz_cpu_reshape(lz_node *node, lz_array **outs); /* a view, or a copy */
LZ_HIDDEN int lz_cpu_transpose(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_broadcast_to(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_slice(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_diagonal(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_as_strided(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_contiguous(lz_node *node, lz_array **outs); /* a view, or a copy */
LZ_HIDDEN int lz_cpu_split(lz_node *node, lz_array **outs);

/* Copy kernels (cpu/copy.c). */
LZ_HIDDEN int lz_cpu_concatenate(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_pad(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_diag(lz_node *node, lz_array **outs);

/* Copies `shape` elements of `itemsize` bytes from src to dst, each walked with its own element
 * strides (any sign, zero included). dst must not overlap what it reads. */
LZ_HIDDEN void lz_cpu_copy_strided(int ndim, const int *shape, size_t itemsize, char *dst,
                                   const int64_t *dst_strides, const char *src,
                                   const int64_t *src_strides);
/* Fills n contiguous elements of `itemsize` bytes at dst with the element at `value`. */
LZ_HIDDEN void lz_cpu_fill(char *dst, int64_t n, size_t itemsize, const void *value);

#endif /* LZ_CPU_SHAPE_H */
