/* Decompositions over LAPACKE: QR (geqrf + orgqr, reduced), SVD (gesdd, full U and Vt),
 * pseudo-inverse (thin SVD), symmetric eigendecomposition (syevd) and the general one (geev,
 * complex64 results). Each matrix of the batch is copied into scratch in the compute dtype
 * (LAPACK overwrites it) and the results are written into the outputs' row-major slots. */
#include <lapacke.h>
#include <math.h>
#include <float.h>

#include "linalg.h"
#include "linalg_pack.h"

#define LAPACK(f64, fn, ...) ((f64) ? LAPACKE_d##fn(__VA_ARGS__) : LAPACKE_s##fn(__VA_ARGS__))

static int64_t batch_count(const lz_array *a, int *bshape, int *nb) {
  *nb = a->ndim - 2;
  int64_t n = 1;
  for (int d = 0; d < *nb; d++) n *= (bshape[d] = a->shape[d]);
  return n;
}

static int alloc_outputs(lz_node *node, lz_array **outs, const char *op) {
  for (int k = 0; k < node->noutputs; k++)
    if (lz__alloc_output(outs[k], op) != 0) return -1;
  return 0;
}

static int lapack_failed(const char *op, lapack_int info, int64_t t, const char *what) {
  /* Shapes are validated when the op is built, so a negative info comes from LAPACKE's
   * default NaN check of the matrix: a clean, data-dependent error, not an internal one. */
  if (info < 0)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op,
                     "matrix %lld of the batch holds NaN (LAPACK rejected argument %d)",
                     (long long)t, (int)-info);
  return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%s for matrix %lld of the batch", what,
                   (long long)t);
}

static double get(const void *m, bool f64, int64_t i) {
  return f64 ? ((const double *)m)[i] : ((const float *)m)[i];
}
static void set(void *m, bool f64, int64_t i, double v) {
  if (f64)
    ((double *)m)[i] = v;
  else
    ((float *)m)[i] = (float)v;
}

/* Whether the (R, C) row-major matrix is finite (only its lower or upper triangle for uplo 'L'
 * or 'U'). The iterative routines (gesdd's bdsqr, syevd, geev) may loop forever on infinity
 * and LAPACKE rejects NaN, so non-finite inputs are refused with a clean error first (found by
 * the op fuzz test: an SVD of a matrix holding inf never returned). */
static bool finite_matrix(const void *m, bool f64, int R, int C, char uplo) {
  for (int i = 0; i < R; i++)
    for (int j = 0; j < C; j++) {
      if ((uplo == 'L' && j > i) || (uplo == 'U' && j < i)) continue;
      if (!isfinite(get(m, f64, (int64_t)i * C + j))) return false;
    }
  return true;
}
static int not_finite(const char *op, int64_t t) {
  return lz__error(LZ_ERROR_INVALID_ARGUMENT, op,
                   "matrix %lld of the batch holds NaN or infinity", (long long)t);
}

/* outs: Q (..., M, K), R (..., K, N), K = min(M, N). */
int lz_cpu_qr(lz_node *node, lz_array **outs) {
  const char *op = "lz_linalg_qr";
  lz_array *a = node->inputs[0];
  if (alloc_outputs(node, outs, op) != 0) return -1;
  int bshape[LZ_MAX_NDIM], nb;
  int64_t count = batch_count(a, bshape, &nb);
  int M = a->shape[a->ndim - 2], N = a->shape[a->ndim - 1], K = M < N ? M : N;
  lz_dtype dt = outs[0]->dtype;
  bool f64 = dt == LZ_FLOAT64;
  size_t esz = lz_dtype_size(dt), mcap = 0, tcap = 0;
  if (K == 0) return 0; /* both outputs empty */
  void *m = lz_cpu_scratch((size_t)M * N * esz, &mcap, op);
  void *tau = m ? lz_cpu_scratch((size_t)K * esz, &tcap, op) : NULL;
  int rc = tau ? 0 : -1;
  for (int64_t t = 0; t < count && rc == 0; t++) {
    lz_cpu_load_matrix(m, dt, a, 2, bshape, nb, t);
    double qr_flops = 2.0 * M * N * K; /* each of geqrf and orgqr, about */
    int th = lz_cpu_lapack_begin(qr_flops);
    lapack_int info = LAPACK(f64, geqrf, LAPACK_ROW_MAJOR, M, N, m, N, tau);
    lz_cpu_lapack_end(th);
    if (info != 0) {
      rc = lapack_failed(op, info, t, "QR failed");
      break;
    }
    char *Q = lz__data_ptr(outs[0]) + t * (int64_t)M * K * (int64_t)esz;
    char *R = lz__data_ptr(outs[1]) + t * (int64_t)K * N * (int64_t)esz;
    for (int i = 0; i < K; i++)
      for (int j = 0; j < N; j++)
        set(R, f64, (int64_t)i * N + j, j >= i ? get(m, f64, (int64_t)i * N + j) : 0);
    for (int i = 0; i < M; i++)
      for (int j = 0; j < K; j++) set(Q, f64, (int64_t)i * K + j, get(m, f64, (int64_t)i * N + j));
    th = lz_cpu_lapack_begin(qr_flops);
    info = LAPACK(f64, orgqr, LAPACK_ROW_MAJOR, M, K, K, (void *)Q, K, tau);
    lz_cpu_lapack_end(th);
    if (info != 0) rc = lapack_failed(op, info, t, "QR failed");
  }
  if (m) lz_cpu_scratch_free(m, mcap);
  if (tau) lz_cpu_scratch_free(tau, tcap);
  return rc;
}

/* outs: S (..., K) when compute_uv is off; else U (..., M, M), S (..., K), Vt (..., N, N). */
int lz_cpu_svd(lz_node *node, lz_array **outs) {
  const char *op = "lz_linalg_svd";
  lz_array *a = node->inputs[0];
  if (a->dtype == LZ_COMPLEX64) return lz_cpu_svd_c64(node, outs);
  if (alloc_outputs(node, outs, op) != 0) return -1;
  bool uv = node->noutputs == 3;
  lz_array *S = uv ? outs[1] : outs[0];
  int bshape[LZ_MAX_NDIM], nb;
  int64_t count = batch_count(a, bshape, &nb);
  int M = a->shape[a->ndim - 2], N = a->shape[a->ndim - 1], K = M < N ? M : N;
  lz_dtype dt = S->dtype;
  bool f64 = dt == LZ_FLOAT64;
  int64_t esz = (int64_t)lz_dtype_size(dt);
  if (M == 0 || N == 0) { /* U and Vt are identities, S is empty */
    for (int k = 0; uv && k < 3; k += 2) {
      int n = k == 0 ? M : N;
      for (int64_t t = 0; t < count; t++)
        for (int64_t i = 0; i < (int64_t)n * n; i++)
          set(lz__data_ptr(outs[k]), f64, t * n * n + i, i / n == i % n);
    }
    return 0;
  }
  size_t mcap = 0;
  void *m = lz_cpu_scratch((size_t)M * N * (size_t)esz, &mcap, op);
  if (!m) return -1;
  int rc = 0;
  for (int64_t t = 0; t < count && rc == 0; t++) {
    lz_cpu_load_matrix(m, dt, a, 2, bshape, nb, t);
    if (!finite_matrix(m, f64, M, N, 0)) {
      rc = not_finite(op, t);
      break;
    }
    char *s = lz__data_ptr(S) + t * K * esz;
    char *u = uv ? lz__data_ptr(outs[0]) + t * (int64_t)M * M * esz : NULL;
    char *vt = uv ? lz__data_ptr(outs[2]) + t * (int64_t)N * N * esz : NULL;
    int th = lz_cpu_lapack_begin((uv ? 14.0 : 4.0) * M * N * K);
    lapack_int info = LAPACK(f64, gesdd, LAPACK_ROW_MAJOR, uv ? 'A' : 'N', M, N, m, N, (void *)s,
                             (void *)u, M, (void *)vt, N);
    lz_cpu_lapack_end(th);
    if (info != 0) rc = lapack_failed(op, info, t, "the SVD did not converge");
  }
  lz_cpu_scratch_free(m, mcap);
  return rc;
}

/* out (..., N, M) = V diag(1/s) U^T over the singular values above max(M,N) * eps * s_max. */
int lz_cpu_pinv(lz_node *node, lz_array **outs) {
  const char *op = "lz_linalg_pinv";
  lz_array *a = node->inputs[0], *out = outs[0];
  if (lz__alloc_output(out, op) != 0) return -1;
  int bshape[LZ_MAX_NDIM], nb;
  int64_t count = batch_count(a, bshape, &nb);
  int M = a->shape[a->ndim - 2], N = a->shape[a->ndim - 1], K = M < N ? M : N;
  lz_dtype dt = out->dtype;
  bool f64 = dt == LZ_FLOAT64;
  size_t esz = lz_dtype_size(dt), cap = 0;
  if (out->size == 0) return 0;
  if (K == 0) { /* the pseudo-inverse of an empty matrix is zero */
    memset(lz__data_ptr(out), 0, (size_t)out->size * esz);
    return 0;
  }
  /* one scratch block: the matrix, U (M,K), s (K), Vt (K,N) */
  size_t total = ((size_t)M * N + (size_t)M * K + K + (size_t)K * N) * esz;
  char *buf = lz_cpu_scratch(total, &cap, op);
  if (!buf) return -1;
  char *m = buf, *u = m + (size_t)M * N * esz, *s = u + (size_t)M * K * esz,
       *vt = s + (size_t)K * esz;
  int rc = 0;
  double eps = f64 ? DBL_EPSILON : FLT_EPSILON;
  for (int64_t t = 0; t < count && rc == 0; t++) {
    lz_cpu_load_matrix(m, dt, a, 2, bshape, nb, t);
    if (!finite_matrix(m, f64, M, N, 0)) {
      rc = not_finite(op, t);
      break;
    }
    int th = lz_cpu_lapack_begin(14.0 * M * N * K);
    lapack_int info = LAPACK(f64, gesdd, LAPACK_ROW_MAJOR, 'S', M, N, (void *)m, N, (void *)s,
                             (void *)u, K, (void *)vt, N);
    lz_cpu_lapack_end(th);
    if (info != 0) {
      rc = lapack_failed(op, info, t, "the SVD did not converge");
      break;
    }
    double cut = (M > N ? M : N) * eps * get(s, f64, 0);
    for (int k = 0; k < K; k++) {
      double sk = get(s, f64, k), inv = sk > cut ? 1.0 / sk : 0.0;
      for (int j = 0; j < N; j++)
        set(vt, f64, (int64_t)k * N + j, get(vt, f64, (int64_t)k * N + j) * inv);
    }
    /* out (N,M) = Vt^T (N,K) @ U^T (K,M) */
    lz_cpu_gemm(dt, true, true, N, M, K, 1.0, vt, N, u, K, 0.0,
                lz__data_ptr(out) + t * (int64_t)N * M * (int64_t)esz, M);
  }
  lz_cpu_scratch_free(buf, cap);
  return rc;
}

/* outs: eigenvalues (..., N) ascending, and with two outputs eigenvectors (..., N, N) as
 * columns. The flag is the triangle read, 'L' or 'U'. */
int lz_cpu_eigh(lz_node *node, lz_array **outs) {
  const char *op = node->noutputs == 2 ? "lz_linalg_eigh" : "lz_linalg_eigvalsh";
  lz_array *a = node->inputs[0];
  const lz_linalg_flag_params *p = node->params;
  if (a->dtype == LZ_COMPLEX64) return lz_cpu_eigh_c64(node, outs);
  if (alloc_outputs(node, outs, op) != 0) return -1;
  bool vecs = node->noutputs == 2;
  int bshape[LZ_MAX_NDIM], nb;
  int64_t count = batch_count(a, bshape, &nb);
  int n = a->shape[a->ndim - 1];
  lz_dtype dt = outs[0]->dtype;
  bool f64 = dt == LZ_FLOAT64;
  int64_t esz = (int64_t)lz_dtype_size(dt);
  if (n == 0) return 0;
  size_t cap = 0;
  void *scratch = vecs ? NULL : lz_cpu_scratch((size_t)n * n * (size_t)esz, &cap, op);
  if (!vecs && !scratch) return -1;
  int rc = 0;
  for (int64_t t = 0; t < count && rc == 0; t++) {
    char *m = vecs ? lz__data_ptr(outs[1]) + t * (int64_t)n * n * esz : scratch;
    lz_cpu_load_matrix(m, dt, a, 2, bshape, nb, t);
    if (!finite_matrix(m, f64, n, n, (char)p->flag)) {
      rc = not_finite(op, t);
      break;
    }
    int th = lz_cpu_lapack_begin((vecs ? 9.0 : 4.0 / 3) * n * n * n);
    lapack_int info = LAPACK(f64, syevd, LAPACK_ROW_MAJOR, vecs ? 'V' : 'N', (char)p->flag, n,
                             (void *)m, n, (void *)(lz__data_ptr(outs[0]) + t * n * esz));
    lz_cpu_lapack_end(th);
    if (info != 0) rc = lapack_failed(op, info, t, "the eigensolver did not converge");
  }
  if (scratch) lz_cpu_scratch_free(scratch, cap);
  return rc;
}

/* outs: eigenvalues (..., N) complex64 and, with two outputs, eigenvectors (..., N, N) complex64
 * as columns. A conjugate pair (wr ± i wi) has vectors vr[:,j] ± i vr[:,j+1]. */
int lz_cpu_eig(lz_node *node, lz_array **outs) {
  const char *op = node->noutputs == 2 ? "lz_linalg_eig" : "lz_linalg_eigvals";
  lz_array *a = node->inputs[0];
  if (a->dtype == LZ_COMPLEX64) return lz_cpu_eig_c64(node, outs);
  if (alloc_outputs(node, outs, op) != 0) return -1;
  bool vecs = node->noutputs == 2;
  int bshape[LZ_MAX_NDIM], nb;
  int64_t count = batch_count(a, bshape, &nb);
  int n = a->shape[a->ndim - 1];
  lz_dtype dt = lz_cpu_compute_dtype(a->dtype);
  bool f64 = dt == LZ_FLOAT64;
  size_t esz = lz_dtype_size(dt), cap = 0;
  if (n == 0) return 0;
  char *buf = lz_cpu_scratch(((size_t)n * n * 2 + 2 * (size_t)n) * esz, &cap, op);
  if (!buf) return -1;
  char *m = buf, *vr = m + (size_t)n * n * esz, *wr = vr + (size_t)n * n * esz, *wi = wr + n * esz;
  int rc = 0;
  for (int64_t t = 0; t < count && rc == 0; t++) {
    lz_cpu_load_matrix(m, dt, a, 2, bshape, nb, t);
    if (!finite_matrix(m, f64, n, n, 0)) {
      rc = not_finite(op, t);
      break;
    }
    int th = lz_cpu_lapack_begin((vecs ? 25.0 : 10.0) * n * n * n);
    lapack_int info = LAPACK(f64, geev, LAPACK_ROW_MAJOR, 'N', vecs ? 'V' : 'N', n, (void *)m, n,
                             (void *)wr, (void *)wi, NULL, 1, (void *)vr, n);
    lz_cpu_lapack_end(th);
    if (info != 0) {
      rc = lapack_failed(op, info, t, "the eigensolver did not converge");
      break;
    }
    lz_complex64 *w = (lz_complex64 *)lz__data_ptr(outs[0]) + t * n;
    for (int j = 0; j < n; j++) w[j].re = (float)get(wr, f64, j), w[j].im = (float)get(wi, f64, j);
    if (!vecs) continue;
    lz_complex64 *v = (lz_complex64 *)lz__data_ptr(outs[1]) + t * (int64_t)n * n;
    for (int j = 0; j < n; j++) {
      bool pair = get(wi, f64, j) != 0 && j + 1 < n;
      for (int i = 0; i < n; i++) {
        double re = get(vr, f64, (int64_t)i * n + j);
        double im = pair ? get(vr, f64, (int64_t)i * n + j + 1) : 0;
        v[(int64_t)i * n + j].re = (float)re, v[(int64_t)i * n + j].im = (float)im;
        if (pair)
          v[(int64_t)i * n + j + 1].re = (float)re, v[(int64_t)i * n + j + 1].im = (float)-im;
      }
      if (pair) j++;
    }
  }
  lz_cpu_scratch_free(buf, cap);
  return rc;
}
