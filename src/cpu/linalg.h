/* Kernels of the linear algebra ops (cpu/linalg.c, linalg_decomp.c, linalg_norm.c) and their
 * parameter structs. Inputs are float32 or float64 (norm also takes half types); batch dims
 * are every dim before the matrix dims. */
#ifndef LZ_CPU_LINALG_H
#define LZ_CPU_LINALG_H

#include "cpu.h"

/* One flag: `upper` (tri_inv, cholesky, cholesky_inv), `compute_uv` (svd), the triangle to
 * read, 'L' or 'U' (eigh, eigvalsh), or for the solves bit 0 `upper` and bit 1 "b is a vector
 * (..., N)". */
typedef struct lz_linalg_flag_params {
  int flag;
} lz_linalg_flag_params;

/* Norm kinds: a vector p-norm over one axis (or all elements), or a matrix norm over two. */
enum lz_norm_kind {
  LZ_NORM_VECTOR,  /* sum(|x|^ord)^(1/ord), with ord 0, +-inf, 1, 2 special-cased */
  LZ_NORM_FRO,     /* sqrt(sum(x^2)) over two axes */
  LZ_NORM_NUC,     /* sum of singular values */
  LZ_NORM_MAT_ABS, /* ord +-1 (column sums) or +-inf (row sums): max or min */
  LZ_NORM_MAT_SVD, /* ord +-2: largest or smallest singular value */
};
/* Named apart from fast.h's lz_norm_params (rms/layer norm) so both headers fit in one file. */
typedef struct lz_linalg_norm_params {
  int kind;
  double ord;
  int naxes;   /* 0: every element (kind VECTOR), 1 or 2 */
  int axes[2]; /* normalised */
  bool keepdims;
} lz_linalg_norm_params;

typedef struct lz_cross_params {
  int axis; /* normalised against the broadcast shape */
} lz_cross_params;

LZ_HIDDEN int lz_cpu_inv(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_tri_inv(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_cholesky(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_cholesky_inv(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_lu(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_lu_factor(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_det(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_slogdet(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_solve(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_solve_triangular(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_qr(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_svd(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_pinv(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_eigh(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_eig(lz_node *node, lz_array **outs);
/* The complex64 forms (cpu/linalg_complex.c), called by the kernels above. */
LZ_HIDDEN int lz_cpu_svd_c64(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_eigh_c64(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_eig_c64(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_norm(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_cross(lz_node *node, lz_array **outs);

/* ---- helpers shared by the linalg kernels (cpu/linalg.c) ---- */

/* Element offset of matrix `t` of `in`, whose last `core` dims are the matrix, with its batch
 * dims broadcast against the `nb` dims of `bshape` (size-1 dims repeat). */
LZ_HIDDEN int64_t lz_cpu_batch_offset(const lz_array *in, int core, const int *bshape, int nb,
                                      int64_t t);
/* Copies matrix `t` (rows x cols, the last two dims; or a vector, core 1) of `in` into the
 * contiguous row-major `dst` of dtype `dt`. */
LZ_HIDDEN void lz_cpu_load_matrix(void *dst, lz_dtype dt, const lz_array *in, int core,
                                  const int *bshape, int nb, int64_t t);

#endif /* LZ_CPU_LINALG_H */
