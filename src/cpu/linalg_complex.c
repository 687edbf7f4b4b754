/* complex64 decompositions over LAPACKE's single precision complex routines, as MLX accepts
 * them: SVD (cgesdd: U and Vt complex64, S float32), Hermitian eigendecomposition (cheevd:
 * eigenvalues float32 ascending, eigenvectors complex64) and the general one (cgeev). One
 * matrix of the batch at a time, copied row-major (LAPACK overwrites it). lz_complex64 has the
 * layout of lapack_complex_float (real, imaginary). */
#include <lapacke.h>
#include <math.h>

#include "linalg.h"
#include "linalg_pack.h"

static int64_t batch(const lz_array *a, int *bshape, int *nb) {
  *nb = a->ndim - 2;
  int64_t n = 1;
  for (int d = 0; d < *nb; d++) n *= (bshape[d] = a->shape[d]);
  return n;
}

static int alloc_all(lz_node *node, lz_array **outs, const char *op) {
  for (int k = 0; k < node->noutputs; k++)
    if (lz__alloc_output(outs[k], op) != 0) return -1;
  return 0;
}

/* LAPACKE rejects NaN (and the iterations fail on inf): refuse non-finite input cleanly. */
static bool finite_c(const lz_complex64 *m, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    if (!isfinite(m[i].re) || !isfinite(m[i].im)) return false;
  return true;
}

static int fail(const char *op, int64_t t, lapack_int info, const char *what) {
  if (info == 0)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "matrix %lld of the batch is not finite",
                     (long long)t);
  return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%s (matrix %lld of the batch, info %d)", what,
                   (long long)t, (int)info);
}

/* outs: S (..., K) float32; with compute_uv U (..., M, M), S, Vt (..., N, N) complex64. */
int lz_cpu_svd_c64(lz_node *node, lz_array **outs) {
  const char *op = "lz_linalg_svd";
  lz_array *a = node->inputs[0];
  if (alloc_all(node, outs, op) != 0) return -1;
  bool uv = node->noutputs == 3;
  lz_array *S = uv ? outs[1] : outs[0];
  int bshape[LZ_MAX_NDIM], nb;
  int64_t count = batch(a, bshape, &nb);
  int M = a->shape[a->ndim - 2], N = a->shape[a->ndim - 1], K = M < N ? M : N;
  if (M == 0 || N == 0) { /* U and Vt are identities, S is empty */
    for (int k = 0; uv && k < 3; k += 2) {
      int n = k == 0 ? M : N;
      lz_complex64 *d = (lz_complex64 *)lz__data_ptr(outs[k]);
      for (int64_t i = 0; i < count * n * n; i++) d[i].re = (i % ((int64_t)n * n)) % (n + 1) == 0, d[i].im = 0;
    }
    return 0;
  }
  size_t cap = 0;
  lz_complex64 *m = lz_cpu_scratch((size_t)M * N * sizeof *m, &cap, op);
  if (!m) return -1;
  int rc = 0;
  for (int64_t t = 0; t < count && rc == 0; t++) {
    lz_cpu_load_matrix(m, LZ_COMPLEX64, a, 2, bshape, nb, t);
    if (!finite_c(m, (int64_t)M * N)) {
      rc = fail(op, t, 0, NULL);
      break;
    }
    float *s = (float *)lz__data_ptr(S) + t * K;
    lz_complex64 *u = uv ? (lz_complex64 *)lz__data_ptr(outs[0]) + t * (int64_t)M * M : NULL;
    lz_complex64 *vt = uv ? (lz_complex64 *)lz__data_ptr(outs[2]) + t * (int64_t)N * N : NULL;
    int th = lz_cpu_lapack_begin((uv ? 56.0 : 16.0) * M * N * K); /* 4x the real flops */
    lapack_int info = LAPACKE_cgesdd(LAPACK_ROW_MAJOR, uv ? 'A' : 'N', M, N,
                                     (lapack_complex_float *)m, N, s, (lapack_complex_float *)u, M,
                                     (lapack_complex_float *)vt, N);
    lz_cpu_lapack_end(th);
    if (info != 0) rc = fail(op, t, info, "the SVD did not converge");
  }
  lz_cpu_scratch_free(m, cap);
  return rc;
}

/* outs: eigenvalues (..., N) float32 ascending; with two outputs eigenvectors (..., N, N)
 * complex64 as columns. The flag is the triangle read ('L' or 'U'); the diagonal's imaginary
 * parts are ignored, as LAPACK does. */
int lz_cpu_eigh_c64(lz_node *node, lz_array **outs) {
  const char *op = node->noutputs == 2 ? "lz_linalg_eigh" : "lz_linalg_eigvalsh";
  lz_array *a = node->inputs[0];
  const lz_linalg_flag_params *p = node->params;
  if (alloc_all(node, outs, op) != 0) return -1;
  bool vecs = node->noutputs == 2;
  int bshape[LZ_MAX_NDIM], nb;
  int64_t count = batch(a, bshape, &nb);
  int n = a->shape[a->ndim - 1];
  if (n == 0) return 0;
  size_t cap = 0;
  lz_complex64 *scratch = vecs ? NULL : lz_cpu_scratch((size_t)n * n * sizeof *scratch, &cap, op);
  if (!vecs && !scratch) return -1;
  int rc = 0;
  for (int64_t t = 0; t < count && rc == 0; t++) {
    lz_complex64 *m = vecs ? (lz_complex64 *)lz__data_ptr(outs[1]) + t * (int64_t)n * n : scratch;
    lz_cpu_load_matrix(m, LZ_COMPLEX64, a, 2, bshape, nb, t);
    if (!finite_c(m, (int64_t)n * n)) {
      rc = fail(op, t, 0, NULL);
      break;
    }
    int th = lz_cpu_lapack_begin((vecs ? 36.0 : 16.0 / 3) * n * n * n);
    lapack_int info = LAPACKE_cheevd(LAPACK_ROW_MAJOR, vecs ? 'V' : 'N', (char)p->flag, n,
                                     (lapack_complex_float *)m, n,
                                     (float *)lz__data_ptr(outs[0]) + t * n);
    lz_cpu_lapack_end(th);
    if (info != 0) rc = fail(op, t, info, "the eigensolver did not converge");
  }
  if (scratch) lz_cpu_scratch_free(scratch, cap);
  return rc;
}

/* outs: eigenvalues (..., N) and, with two outputs, right eigenvectors (..., N, N) as columns,
 * both complex64. */
int lz_cpu_eig_c64(lz_node *node, lz_array **outs) {
  const char *op = node->noutputs == 2 ? "lz_linalg_eig" : "lz_linalg_eigvals";
  lz_array *a = node->inputs[0];
  if (alloc_all(node, outs, op) != 0) return -1;
  bool vecs = node->noutputs == 2;
  int bshape[LZ_MAX_NDIM], nb;
  int64_t count = batch(a, bshape, &nb);
  int n = a->shape[a->ndim - 1];
  if (n == 0) return 0;
  size_t cap = 0;
  lz_complex64 *m = lz_cpu_scratch((size_t)n * n * sizeof *m, &cap, op);
  if (!m) return -1;
  int rc = 0;
  for (int64_t t = 0; t < count && rc == 0; t++) {
    lz_cpu_load_matrix(m, LZ_COMPLEX64, a, 2, bshape, nb, t);
    if (!finite_c(m, (int64_t)n * n)) {
      rc = fail(op, t, 0, NULL);
      break;
    }
    lz_complex64 *w = (lz_complex64 *)lz__data_ptr(outs[0]) + t * n;
    lz_complex64 *vr = vecs ? (lz_complex64 *)lz__data_ptr(outs[1]) + t * (int64_t)n * n : NULL;
    int th = lz_cpu_lapack_begin((vecs ? 100.0 : 40.0) * n * n * n);
    lapack_int info = LAPACKE_cgeev(LAPACK_ROW_MAJOR, 'N', vecs ? 'V' : 'N', n,
                                    (lapack_complex_float *)m, n, (lapack_complex_float *)w, NULL,
                                    1, (lapack_complex_float *)vr, n);
    lz_cpu_lapack_end(th);
    if (info != 0) rc = fail(op, t, info, "the eigensolver did not converge");
  }
  lz_cpu_scratch_free(m, cap);
  return rc;
}
