/* Linear algebra kernels over LAPACKE, one matrix of the batch at a time: inverse, triangular
 * inverse, Cholesky, LU, determinants and solves. Each matrix is copied into the output's
 * row-major slot (or scratch) in the compute dtype, then factored in place. A numerical failure
 * (a singular matrix where an inverse is asked for, a matrix that is not positive definite)
 * makes the kernel fail with an error naming the op and the matrix. */
#include "linalg.h"

#include <lapacke.h>
#include <math.h>

#include "linalg_pack.h"

/* Calls the float32 or float64 LAPACKE routine; pointer arguments are void *. */
#define LAPACK(f64, fn, ...) ((f64) ? LAPACKE_d##fn(__VA_ARGS__) : LAPACKE_s##fn(__VA_ARGS__))

/* A negative LAPACKE info. Shapes are validated when the op is built, so the one way to get
 * here is LAPACKE's default NaN check of its matrix arguments: a NaN input is a clean,
 * data-dependent error (found by the op fuzz test; it used to be reported as internal). */
static int lapack_rejected(const char *op, lapack_int info, int64_t t) {
  return lz__error(LZ_ERROR_INVALID_ARGUMENT, op,
                   "matrix %lld of the batch holds NaN (LAPACK rejected argument %d)",
                   (long long)t, (int)-info);
}

int64_t lz_cpu_batch_offset(const lz_array *in, int core, const int *bshape, int nb, int64_t t) {
  int inb = in->ndim - core;
  int64_t off = 0;
  for (int d = nb - 1; d >= 0; d--) {
    int64_t i = t % bshape[d];
    t /= bshape[d];
    int di = d - (nb - inb);
    if (di >= 0 && in->shape[di] != 1) off += i * in->strides[di];
  }
  return off;
}

void lz_cpu_load_matrix(void *dst, lz_dtype dt, const lz_array *in, int core, const int *bshape,
                        int nb, int64_t t) {
  int nd = in->ndim;
  int shape[2] = {core == 2 ? in->shape[nd - 2] : in->shape[nd - 1],
                  core == 2 ? in->shape[nd - 1] : 1};
  int64_t ss[2] = {core == 2 ? in->strides[nd - 2] : in->strides[nd - 1],
                   core == 2 ? in->strides[nd - 1] : 1};
  int64_t ds[2] = {shape[1], 1};
  const char *src = lz__data_ptr(in) + lz_cpu_batch_offset(in, core, bshape, nb, t) *
                                           (int64_t)lz_dtype_size(in->dtype);
  lz_cpu_copy_cast(dst, dt, ds, src, in->dtype, ss, 2, shape);
}

/* The batch of `in` (its dims before the last `core`) as (count, shape). */
static int64_t batch_of(const lz_array *in, int core, int *bshape, int *nb) {
  *nb = in->ndim - core;
  int64_t n = 1;
  for (int d = 0; d < *nb; d++) n *= (bshape[d] = in->shape[d]);
  return n;
}

static void zero_triangle(bool f64, void *m, int n, bool upper_part) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      if (upper_part ? j > i : j < i) {
        if (f64)
          ((double *)m)[i * n + j] = 0;
        else
          ((float *)m)[i * n + j] = 0;
      }
}

static void mirror_triangle(bool f64, void *m, int n, bool from_upper) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < i; j++) { /* (i,j) is in the lower triangle */
      int64_t lo = (int64_t)i * n + j, up = (int64_t)j * n + i;
      if (f64) {
        double *d = m;
        if (from_upper)
          d[lo] = d[up];
        else
          d[up] = d[lo];
      } else {
        float *f = m;
        if (from_upper)
          f[lo] = f[up];
        else
          f[up] = f[lo];
      }
    }
}

enum sq_kind { SQ_INV, SQ_TRI_INV, SQ_CHOLESKY, SQ_CHOLESKY_INV };

/* The square ops whose output has the input's shape, computed in the output's slot. */
static int square_op(lz_node *node, lz_array **outs, enum sq_kind kind, const char *op) {
  lz_array *a = node->inputs[0], *out = outs[0];
  const lz_linalg_flag_params *p = node->params;
  bool upper = p && p->flag;
  char ul = upper ? 'U' : 'L';
  if (lz__alloc_output(out, op) != 0) return -1;
  int bshape[LZ_MAX_NDIM], nb;
  int64_t count = batch_of(a, 2, bshape, &nb);
  int n = a->shape[a->ndim - 1], ld = n > 1 ? n : 1;
  bool f64 = out->dtype == LZ_FLOAT64;
  size_t esz = lz_dtype_size(out->dtype), cap = 0;
  lapack_int *ipiv = NULL;
  if (kind == SQ_INV) {
    ipiv = lz_cpu_scratch((size_t)ld * sizeof *ipiv, &cap, op);
    if (!ipiv) return -1;
  }
  int rc = 0;
  for (int64_t t = 0; t < count && rc == 0 && n > 0; t++) {
    char *m = lz__data_ptr(out) + t * (int64_t)n * n * (int64_t)esz;
    lz_cpu_load_matrix(m, out->dtype, a, 2, bshape, nb, t);
    lapack_int info = 0;
    double nn = (double)n * n * n; /* flops: inv 2 n^3, tri_inv and cholesky n^3/3, potri 2n^3/3 */
    int th = lz_cpu_lapack_begin(kind == SQ_INV ? 2 * nn : kind == SQ_CHOLESKY_INV ? nn * 2 / 3 : nn / 3);
    switch (kind) {
    case SQ_INV:
      info = LAPACK(f64, getrf, LAPACK_ROW_MAJOR, n, n, (void *)m, ld, ipiv);
      if (info == 0) info = LAPACK(f64, getri, LAPACK_ROW_MAJOR, n, (void *)m, ld, ipiv);
      if (info > 0)
        rc = lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "matrix %lld of the batch is singular",
                       (long long)t);
      break;
    case SQ_TRI_INV:
      zero_triangle(f64, m, n, !upper);
      info = LAPACK(f64, trtri, LAPACK_ROW_MAJOR, ul, 'N', n, (void *)m, ld);
      if (info > 0)
        rc = lz__error(LZ_ERROR_INVALID_ARGUMENT, op,
                       "matrix %lld of the batch is singular (zero diagonal element %d)",
                       (long long)t, (int)info);
      break;
    case SQ_CHOLESKY:
      info = LAPACK(f64, potrf, LAPACK_ROW_MAJOR, ul, n, (void *)m, ld);
      if (info > 0)
        rc = lz__error(LZ_ERROR_INVALID_ARGUMENT, op,
                       "matrix %lld of the batch is not positive definite (leading minor %d)",
                       (long long)t, (int)info);
      zero_triangle(f64, m, n, !upper);
      break;
    case SQ_CHOLESKY_INV:
      zero_triangle(f64, m, n, !upper);
      info = LAPACK(f64, potri, LAPACK_ROW_MAJOR, ul, n, (void *)m, ld);
      if (info > 0)
        rc = lz__error(LZ_ERROR_INVALID_ARGUMENT, op,
                       "matrix %lld of the batch is a singular factor (zero diagonal element %d)",
                       (long long)t, (int)info);
      mirror_triangle(f64, m, n, upper);
      break;
    }
    lz_cpu_lapack_end(th);
    if (info < 0 && rc == 0)
      rc = lapack_rejected(op, info, t);
  }
  if (ipiv) lz_cpu_scratch_free(ipiv, cap);
  return rc;
}

int lz_cpu_inv(lz_node *node, lz_array **outs) {
  return square_op(node, outs, SQ_INV, "lz_linalg_inv");
}
int lz_cpu_tri_inv(lz_node *node, lz_array **outs) {
  return square_op(node, outs, SQ_TRI_INV, "lz_linalg_tri_inv");
}
int lz_cpu_cholesky(lz_node *node, lz_array **outs) {
  return square_op(node, outs, SQ_CHOLESKY, "lz_linalg_cholesky");
}
int lz_cpu_cholesky_inv(lz_node *node, lz_array **outs) {
  return square_op(node, outs, SQ_CHOLESKY_INV, "lz_linalg_cholesky_inv");
}

/* ---- LU: getrf per matrix into scratch, then split into the outputs ---- */

typedef struct lu_work {
  void *m;
  lapack_int *ipiv;
  size_t mcap, pcap;
} lu_work;

static int lu_begin(lu_work *w, const lz_array *a, lz_dtype dt, const char *op) {
  int M = a->shape[a->ndim - 2], N = a->shape[a->ndim - 1], K = M < N ? M : N;
  w->ipiv = NULL;
  w->m = lz_cpu_scratch((size_t)M * N * lz_dtype_size(dt), &w->mcap, op);
  if (w->m) w->ipiv = lz_cpu_scratch((size_t)(K > 0 ? K : 1) * sizeof *w->ipiv, &w->pcap, op);
  if (!w->ipiv) {
    if (w->m) lz_cpu_scratch_free(w->m, w->mcap);
    return -1;
  }
  return 0;
}

static void lu_end(lu_work *w) {
  lz_cpu_scratch_free(w->m, w->mcap);
  lz_cpu_scratch_free(w->ipiv, w->pcap);
}

/* Factors matrix t of a into w; returns LAPACK's info (> 0: exactly singular, still valid). */
static lapack_int lu_factor_one(lu_work *w, const lz_array *a, lz_dtype dt, const int *bshape,
                                int nb, int64_t t) {
  int M = a->shape[a->ndim - 2], N = a->shape[a->ndim - 1];
  lz_cpu_load_matrix(w->m, dt, a, 2, bshape, nb, t);
  if (M == 0 || N == 0) return 0;
  double k = M < N ? M : N;
  int th = lz_cpu_lapack_begin((double)M * N * k - ((double)M + N) * k * k / 2 + k * k * k / 3);
  lapack_int info = LAPACK(dt == LZ_FLOAT64, getrf, LAPACK_ROW_MAJOR, M, N, w->m, N, w->ipiv);
  lz_cpu_lapack_end(th);
  return info;
}

static double mat_get(const void *m, bool f64, int64_t i) {
  return f64 ? ((const double *)m)[i] : ((const float *)m)[i];
}
static void mat_set(void *m, bool f64, int64_t i, double v) {
  if (f64)
    ((double *)m)[i] = v;
  else
    ((float *)m)[i] = (float)v;
}

/* outs: pivots (..., M) uint32 with A = L[P] @ U, L (..., M, K), U (..., K, N). */
int lz_cpu_lu(lz_node *node, lz_array **outs) {
  lz_array *a = node->inputs[0];
  const char *op = "lz_linalg_lu";
  for (int k = 0; k < 3; k++)
    if (lz__alloc_output(outs[k], op) != 0) return -1;
  int bshape[LZ_MAX_NDIM], nb;
  int64_t count = batch_of(a, 2, bshape, &nb);
  int M = a->shape[a->ndim - 2], N = a->shape[a->ndim - 1], K = M < N ? M : N;
  lz_dtype dt = outs[1]->dtype;
  bool f64 = dt == LZ_FLOAT64;
  lu_work w;
  if (lu_begin(&w, a, dt, op) != 0) return -1;
  size_t cap = 0;
  int *perm = lz_cpu_scratch((size_t)(M > 0 ? M : 1) * sizeof *perm, &cap, op);
  if (!perm) {
    lu_end(&w);
    return -1;
  }
  for (int64_t t = 0; t < count; t++) {
    lapack_int info = lu_factor_one(&w, a, dt, bshape, nb, t);
    if (info < 0) {
      lz_cpu_scratch_free(perm, cap);
      lu_end(&w);
      return lapack_rejected(op, info, t);
    }
    /* perm: row i of L@U is row perm[i] of A; P is its inverse */
    for (int i = 0; i < M; i++) perm[i] = i;
    for (int i = 0; i < K; i++) {
      int j = (int)w.ipiv[i] - 1, tmp = perm[i];
      perm[i] = perm[j], perm[j] = tmp;
    }
    uint32_t *P = (uint32_t *)lz__data_ptr(outs[0]) + t * M;
    for (int i = 0; i < M; i++) P[perm[i]] = (uint32_t)i;
    char *L = lz__data_ptr(outs[1]) + t * (int64_t)M * K * (int64_t)lz_dtype_size(dt);
    char *U = lz__data_ptr(outs[2]) + t * (int64_t)K * N * (int64_t)lz_dtype_size(dt);
    for (int i = 0; i < M; i++)
      for (int j = 0; j < K; j++)
        mat_set(L, f64, (int64_t)i * K + j, j < i ? mat_get(w.m, f64, (int64_t)i * N + j) : j == i);
    for (int i = 0; i < K; i++)
      for (int j = 0; j < N; j++)
        mat_set(U, f64, (int64_t)i * N + j, j >= i ? mat_get(w.m, f64, (int64_t)i * N + j) : 0);
  }
  lz_cpu_scratch_free(perm, cap);
  lu_end(&w);
  return 0;
}

/* outs: LU (..., M, N) packed factors, pivots (..., K) uint32 0-based row swaps. */
int lz_cpu_lu_factor(lz_node *node, lz_array **outs) {
  lz_array *a = node->inputs[0];
  const char *op = "lz_linalg_lu_factor";
  for (int k = 0; k < 2; k++)
    if (lz__alloc_output(outs[k], op) != 0) return -1;
  int bshape[LZ_MAX_NDIM], nb;
  int64_t count = batch_of(a, 2, bshape, &nb);
  int M = a->shape[a->ndim - 2], N = a->shape[a->ndim - 1], K = M < N ? M : N;
  lz_dtype dt = outs[0]->dtype;
  lu_work w;
  if (lu_begin(&w, a, dt, op) != 0) return -1;
  size_t msz = (size_t)M * N * lz_dtype_size(dt);
  for (int64_t t = 0; t < count; t++) {
    lapack_int info = lu_factor_one(&w, a, dt, bshape, nb, t);
    if (info < 0) {
      lu_end(&w);
      return lapack_rejected(op, info, t);
    }
    memcpy(lz__data_ptr(outs[0]) + (size_t)t * msz, w.m, msz);
    uint32_t *piv = (uint32_t *)lz__data_ptr(outs[1]) + t * K;
    for (int i = 0; i < K; i++) piv[i] = (uint32_t)(w.ipiv[i] - 1);
  }
  lu_end(&w);
  return 0;
}

/* det and slogdet from the LU factors: a singular matrix gives 0 (sign 0, log -inf). */
static int determinant(lz_node *node, lz_array **outs, bool logdet) {
  lz_array *a = node->inputs[0];
  const char *op = logdet ? "lz_linalg_slogdet" : "lz_linalg_det";
  for (int k = 0; k < (logdet ? 2 : 1); k++)
    if (lz__alloc_output(outs[k], op) != 0) return -1;
  int bshape[LZ_MAX_NDIM], nb;
  int64_t count = batch_of(a, 2, bshape, &nb);
  int n = a->shape[a->ndim - 1];
  lz_dtype dt = outs[0]->dtype;
  bool f64 = dt == LZ_FLOAT64;
  lu_work w;
  if (lu_begin(&w, a, dt, op) != 0) return -1;
  for (int64_t t = 0; t < count; t++) {
    lapack_int info = lu_factor_one(&w, a, dt, bshape, nb, t);
    if (info < 0) {
      lu_end(&w);
      return lapack_rejected(op, info, t);
    }
    double sign = 1, logabs = 0, prod = 1;
    for (int i = 0; i < n; i++) {
      double d = mat_get(w.m, f64, (int64_t)i * n + i);
      if (w.ipiv[i] != i + 1) sign = -sign;
      if (d < 0) sign = -sign;
      logabs += log(fabs(d));
      prod *= d;
    }
    if (info > 0) sign = 0, logabs = -INFINITY, prod = 0;
    if (logdet) {
      mat_set(lz__data_ptr(outs[0]), f64, t, sign);
      mat_set(lz__data_ptr(outs[1]), f64, t, logabs);
    } else {
      double det = 1;
      for (int i = 0; i < n; i++) det *= w.ipiv[i] != i + 1 ? -1 : 1;
      mat_set(lz__data_ptr(outs[0]), f64, t, info > 0 ? 0 : det * prod);
    }
  }
  lu_end(&w);
  return 0;
}

int lz_cpu_det(lz_node *node, lz_array **outs) { return determinant(node, outs, false); }
int lz_cpu_slogdet(lz_node *node, lz_array **outs) { return determinant(node, outs, true); }

/* ---- solves: a (..., N, N), b (..., N, K) or a vector (..., N) ---- */

static int solve_common(lz_node *node, lz_array **outs, bool triangular) {
  lz_array *a = node->inputs[0], *b = node->inputs[1], *out = outs[0];
  const lz_linalg_flag_params *p = node->params;
  const char *op = triangular ? "lz_linalg_solve_triangular" : "lz_linalg_solve";
  if (lz__alloc_output(out, op) != 0) return -1;
  int n = a->shape[a->ndim - 1], ld = n > 1 ? n : 1;
  bool vec = p && (p->flag & 2); /* b of shape (..., N) */
  int core = vec ? 1 : 2;
  int k = vec ? 1 : out->shape[out->ndim - 1], ldb = k > 1 ? k : 1;
  int nb = out->ndim - core, bshape[LZ_MAX_NDIM];
  int64_t count = 1;
  for (int d = 0; d < nb; d++) count *= (bshape[d] = out->shape[d]);
  lz_dtype dt = out->dtype;
  bool f64 = dt == LZ_FLOAT64;
  size_t esz = lz_dtype_size(dt), mcap = 0, pcap = 0;
  void *m = lz_cpu_scratch((size_t)n * n * esz, &mcap, op);
  if (!m) return -1;
  lapack_int *ipiv = lz_cpu_scratch((size_t)ld * sizeof *ipiv, &pcap, op);
  if (!ipiv) {
    lz_cpu_scratch_free(m, mcap);
    return -1;
  }
  int rc = 0;
  for (int64_t t = 0; t < count && rc == 0 && n > 0 && k > 0; t++) {
    char *x = lz__data_ptr(out) + t * (int64_t)n * k * (int64_t)esz;
    lz_cpu_load_matrix(m, dt, a, 2, bshape, nb, t);
    lz_cpu_load_matrix(x, dt, b, core, bshape, nb, t);
    lapack_int info;
    int th = lz_cpu_lapack_begin(triangular ? (double)n * n * k
                                            : (double)n * n * n * 2 / 3 + 2.0 * n * n * k);
    if (triangular) {
      info = LAPACK(f64, trtrs, LAPACK_ROW_MAJOR, p && (p->flag & 1) ? 'U' : 'L', 'N', 'N', n, k, m,
                    ld, (void *)x, ldb);
    } else {
      info = LAPACK(f64, gesv, LAPACK_ROW_MAJOR, n, k, m, ld, ipiv, (void *)x, ldb);
    }
    lz_cpu_lapack_end(th);
    if (info > 0)
      rc = lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "matrix %lld of the batch is singular",
                     (long long)t);
    else if (info < 0)
      rc = lapack_rejected(op, info, t);
  }
  lz_cpu_scratch_free(m, mcap);
  lz_cpu_scratch_free(ipiv, pcap);
  return rc;
}

int lz_cpu_solve(lz_node *node, lz_array **outs) { return solve_common(node, outs, false); }
int lz_cpu_solve_triangular(lz_node *node, lz_array **outs) {
  return solve_common(node, outs, true);
}
