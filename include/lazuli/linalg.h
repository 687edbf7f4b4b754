/* Matrix products and linear algebra. Results are new references and inputs are borrowed (see
 * core.h); every op records a lazy node and computes at evaluation.
 *
 * Products follow MLX: a 1-D operand is a vector ((K) is (1,K) on the left and (K,1) on the
 * right, and that dim is dropped from the result), batch dims (all but the last two)
 * broadcast, and the GEMM-based ops (matmul, addmm, inner, tensordot, einsum) accept only real
 * floating point dtypes: float16 and bfloat16 compute in float32. */
#ifndef LAZULI_LINALG_H
#define LAZULI_LINALG_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- products ---- */

/* Matrix product a @ b with NumPy/MLX broadcasting, e.g. (2,1,3,4) @ (5,4,6) -> (2,5,3,6).
 * A 0-d input, or a last dim of a differing from the second-to-last of b, is an error:
 * "[lz_matmul] inner dimensions differ: (3,4) @ (5,6)". */
LZ_API lz_array *lz_matmul(lz_array *a, lz_array *b);
/* alpha * (a @ b) + beta * c, where c broadcasts to the shape of a @ b (MLX's addmm). */
LZ_API lz_array *lz_addmm(lz_array *c, lz_array *a, lz_array *b, double alpha, double beta);
/* MLX's gather_mm: a @ b for the matrices picked by lhs_indices from a's batch (a's dims but
 * the last two, flattened in row-major order) and by rhs_indices from b's. Indices are
 * integer arrays that broadcast together; the result is (broadcast index shape..., M, N). A
 * NULL index array means every matrix in order (arange over the batch in its shape); both NULL
 * is lz_matmul. Real floating point results only; sorted_indices is a hint and changes no
 * value. Indices out of range are an error at evaluation (as lz_take). */
LZ_API lz_array *lz_gather_mm(lz_array *a, lz_array *b, lz_array *lhs_indices,
                              lz_array *rhs_indices, bool sorted_indices);
/* MLX's block_masked_mm: a @ b where the product is split into block_size x block_size
 * blocks (32 or 64; edge blocks are partial) and masked per block. mask_lhs (..., ceil(M/bs),
 * ceil(K/bs)) and mask_rhs (..., ceil(K/bs), ceil(N/bs)) mask the operands' blocks, mask_out
 * (..., ceil(M/bs), ceil(N/bs)) the result's; each may be NULL and broadcasts over the batch.
 * A bool mask zeroes its false blocks; a numeric mask multiplies (when one operand mask is
 * numeric both act as numbers, as MLX). All masks NULL is lz_matmul. */
LZ_API lz_array *lz_block_masked_mm(lz_array *a, lz_array *b, int block_size, lz_array *mask_out,
                                    lz_array *mask_lhs, lz_array *mask_rhs);
/* The outer product of a and b flattened: shape (size(a), size(b)). Any real dtype. */
LZ_API lz_array *lz_outer(lz_array *a, lz_array *b);
/* Sum over the last axes of a and b (a product when either is 0-d): shape
 * a.shape[:-1] + b.shape[:-1]. */
LZ_API lz_array *lz_inner(lz_array *a, lz_array *b);
/* Contracts the last `axes` axes of a with the first `axes` axes of b (MLX's default is 2). */
LZ_API lz_array *lz_tensordot(lz_array *a, lz_array *b, int axes);
/* Contracts axes_a[i] of a with axes_b[i] of b, i < naxes; the result has a's remaining axes
 * then b's, in order. */
LZ_API lz_array *lz_tensordot_axes(lz_array *a, lz_array *b, const int *axes_a, const int *axes_b,
                                   int naxes);
/* Einstein summation, e.g. lz_einsum("ij,jk->ik", ops, 2). Subscripts are letters, one per
 * axis; a letter repeated within an operand takes the diagonal; without "->" the output is
 * the letters that appear once, sorted; "..." stands for the leading broadcast axes. Several
 * operands are contracted pairwise in a greedy order (the pair giving the smallest
 * intermediate first), each pair one GEMM. */
LZ_API lz_array *lz_einsum(const char *subscripts, lz_array *const *operands, int n);

/* ---- linear algebra (mlx.core.linalg) ----
 * Inputs are float32 or float64 (other dtypes are an error, as in MLX's CPU linalg), with the
 * matrix in the last two dims and any number of batch dims before them. Ops with several
 * results fill `outs` with new references and return 0, or return -1 with every outs[k] NULL.
 * Numerical failures are found at evaluation: lz_eval (or reading the data) returns -1 with
 * an error that names the op and the matrix of the batch. inv, solve and solve_triangular of a
 * singular matrix, tri_inv with a zero on the diagonal, cholesky of a matrix that is not
 * positive definite and cholesky_inv of a singular factor fail this way (MLX raises). det,
 * slogdet, lu and lu_factor accept singular matrices (det 0, slogdet sign 0 and -inf). */

/* Vector 2-norm over `axes` (1 axis), Frobenius norm (2 axes), or the 2-norm of every element
 * (axes NULL, naxes 0): MLX's norm(a, ord=None, axis, keepdims). Any float dtype. */
LZ_API lz_array *lz_linalg_norm(lz_array *a, const int *axes, int naxes, bool keepdims);
/* Numeric order: over one axis a vector norm (inf: max |x|, -inf: min |x|, 0: count of
 * nonzeros, else sum(|x|^ord)^(1/ord)); over two axes a matrix norm (1/-1: max/min column
 * sum of |x|, inf/-inf: max/min row sum, 2/-2: largest/smallest singular value; other orders
 * are an error). With naxes 0, a must be 1-D or 2-D. */
LZ_API lz_array *lz_linalg_norm_ord(lz_array *a, double ord, const int *axes, int naxes,
                                    bool keepdims);
/* "fro" (Frobenius) or "nuc" (sum of singular values) over two axes (naxes 0: a is 2-D). */
LZ_API lz_array *lz_linalg_norm_str(lz_array *a, const char *ord, const int *axes, int naxes,
                                    bool keepdims);
/* Reduced QR: outs[0] = Q (..., M, K) with orthonormal columns, outs[1] = R (..., K, N) upper
 * triangular, K = min(M, N), A = Q @ R. */
LZ_API int lz_linalg_qr(lz_array *a, lz_array **outs);
/* SVD. compute_uv: outs[0] = U (..., M, M), outs[1] = S (..., K) descending, outs[2] = Vt
 * (..., N, N), A = U[:, :K] @ diag(S) @ Vt[:K]. Otherwise only outs[0] = S. */
LZ_API int lz_linalg_svd(lz_array *a, bool compute_uv, lz_array **outs);
/* Inverse of square matrices; singular: an error at evaluation. */
LZ_API lz_array *lz_linalg_inv(lz_array *a);
/* Moore-Penrose pseudo-inverse (..., N, M) through the SVD; singular values at or below
 * max(M, N) * eps * max(S) count as zero. */
LZ_API lz_array *lz_linalg_pinv(lz_array *a);
/* Inverse of a triangular matrix (the lower triangle, or the upper when `upper`); the other
 * triangle of the input is ignored and zero in the result. */
LZ_API lz_array *lz_linalg_tri_inv(lz_array *a, bool upper);
/* Cholesky factor L (A = L @ L^T) of symmetric positive definite matrices, or U (A = U^T @ U)
 * when `upper`; only that triangle of A is read and the other of the result is zero. A matrix
 * that is not positive definite is an error at evaluation. */
LZ_API lz_array *lz_linalg_cholesky(lz_array *a, bool upper);
/* Inverse of A from its Cholesky factor `l` (lower, or upper when `upper`): symmetric. */
LZ_API lz_array *lz_linalg_cholesky_inv(lz_array *l, bool upper);
/* LU with partial pivoting: outs[0] = P (..., M) uint32 row indices, outs[1] = L (..., M, K)
 * unit lower triangular, outs[2] = U (..., K, N), with A = L[P, :] @ U (MLX's convention). */
LZ_API int lz_linalg_lu(lz_array *a, lz_array **outs);
/* LAPACK-style LU: outs[0] = the factors (..., M, N) (L below the diagonal, unit diagonal not
 * stored, U on and above), outs[1] = pivots (..., K) uint32: row i was swapped with row
 * pivots[i], in order. */
LZ_API int lz_linalg_lu_factor(lz_array *a, lz_array **outs);
/* Solves a @ x = b. b is a vector (..., N) when it is 1-D or has one dim fewer than a, else
 * matrices (..., N, K); batch dims broadcast. Singular a: an error at evaluation. */
LZ_API lz_array *lz_linalg_solve(lz_array *a, lz_array *b);
/* Same for triangular a (lower, or upper when `upper`; the other triangle is ignored). */
LZ_API lz_array *lz_linalg_solve_triangular(lz_array *a, lz_array *b, bool upper);
/* Cross product of 3-vectors along `axis` (size 3 in both inputs; like MLX, a positive axis
 * counts in each input, a negative one from each end). The other dims broadcast; the result's
 * vector dim is at `axis` of the result. */
LZ_API lz_array *lz_linalg_cross(lz_array *a, lz_array *b, int axis);
/* Symmetric eigendecomposition reading the "L" (default, uplo NULL) or "U" triangle:
 * outs[0] = eigenvalues (..., N) ascending, outs[1] = eigenvectors (..., N, N) as columns. */
LZ_API int lz_linalg_eigh(lz_array *a, const char *uplo, lz_array **outs);
/* The eigenvalues of lz_linalg_eigh alone. */
LZ_API lz_array *lz_linalg_eigvalsh(lz_array *a, const char *uplo);
/* General eigendecomposition: outs[0] = eigenvalues (..., N), outs[1] = eigenvectors
 * (..., N, N) as unit columns, both complex64 (as in MLX), in LAPACK's order. */
LZ_API int lz_linalg_eig(lz_array *a, lz_array **outs);
/* The eigenvalues of lz_linalg_eig alone (complex64). */
LZ_API lz_array *lz_linalg_eigvals(lz_array *a);
/* Determinant (...) of square matrices; 0 for a singular one. */
LZ_API lz_array *lz_linalg_det(lz_array *a);
/* outs[0] = sign (-1, 0 or 1) and outs[1] = log|det|, each of shape (...), so det =
 * sign * exp(logabsdet) without overflow; a singular matrix gives 0 and -inf. */
LZ_API int lz_linalg_slogdet(lz_array *a, lz_array **outs);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_LINALG_H */
