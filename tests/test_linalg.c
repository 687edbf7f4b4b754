/* Linear algebra: lz_linalg_* against NumPy references (tests/data/linalg_refs.h) and through
 * identities (Q R = A, U S Vt = A, A inv(A) = I, L L^T = A, V diag(w) V^T = A, L[P] U = A,
 * A v = w v), batched, in float32 and float64, with strided inputs, empty matrices and the
 * errors (bad dtypes and shapes at construction, singular or indefinite input at evaluation). */
#include "data/linalg_refs.h"
#include "lz_test.h"

enum { CAP = 1024 };

static lz_array *input(const lzr_case *c, int k, lz_dtype dt) {
  return lz_astype(lz_array_from_data(c->in[k], c->shape[k], c->ndim[k], LZ_FLOAT64), dt);
}

static double tol_of(lz_dtype dt) { return dt == LZ_FLOAT64 ? 1e-9 : 2e-4; }

static void check_ref(const lzr_case *c, lz_array *y, lz_dtype dt, int line) {
  lzt_check_shape(__FILE__, line, y, c->oshape, c->ondim);
  size_t n = 1;
  for (int d = 0; d < c->ondim; d++) n *= (size_t)c->oshape[d];
  lzt_check_values(__FILE__, line, y, c->out, n, tol_of(dt));
}

/* Reads a (at most CAP elements) as float64. */
static void read(lz_array *a, double *out) {
  CHECK(a && lz_array_size(a) <= CAP);
  if (a && lz_array_read(a, LZ_FLOAT64, out, CAP * sizeof(double)) != 0) CHECK(0);
}

/* max |x - y| over n elements */
static double maxdiff(const double *x, const double *y, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i] - y[i]));
  return m;
}

static const lz_dtype types[2] = {LZ_FLOAT32, LZ_FLOAT64};

static void test_refs(void) {
  for (int t = 0; t < 2; t++) {
    lz_dtype dt = types[t];
    for (size_t i = 0; i < LZR_COUNT(lzr_inv); i++) {
      check_ref(&lzr_inv[i], lz_linalg_inv(input(&lzr_inv[i], 0, dt)), dt, __LINE__);
      check_ref(&lzr_det[i], lz_linalg_det(input(&lzr_det[i], 0, dt)), dt, __LINE__);
      lz_array *sl[2];
      CHECK(lz_linalg_slogdet(input(&lzr_slogdet[i], 0, dt), sl) == 0);
      lz_array *both = lz_stack(sl, 2, 0);
      check_ref(&lzr_slogdet[i], both, dt, __LINE__);
    }
    for (size_t i = 0; i < LZR_COUNT(lzr_cholesky); i++) {
      check_ref(&lzr_cholesky[i], lz_linalg_cholesky(input(&lzr_cholesky[i], 0, dt), false), dt,
                __LINE__);
      check_ref(&lzr_eigvalsh[i], lz_linalg_eigvalsh(input(&lzr_eigvalsh[i], 0, dt), NULL), dt,
                __LINE__);
    }
    for (size_t i = 0; i < LZR_COUNT(lzr_svdvals); i++) {
      lz_array *s;
      CHECK(lz_linalg_svd(input(&lzr_svdvals[i], 0, dt), false, &s) == 0);
      check_ref(&lzr_svdvals[i], s, dt, __LINE__);
      check_ref(&lzr_pinv[i], lz_linalg_pinv(input(&lzr_pinv[i], 0, dt)), dt, __LINE__);
    }
    for (size_t i = 0; i < LZR_COUNT(lzr_solve); i++) {
      const lzr_case *c = &lzr_solve[i];
      check_ref(c, lz_linalg_solve(input(c, 0, dt), input(c, 1, dt)), dt, __LINE__);
    }
    for (size_t i = 0; i < LZR_COUNT(lzr_norm); i++) {
      const lzr_case *c = &lzr_norm[i];
      lz_array *a = input(c, 0, dt), *y;
      if (c->p0 == 100)
        y = lz_linalg_norm_str(a, "fro", c->axes, c->naxes, false);
      else if (c->p0 == 101)
        y = lz_linalg_norm_str(a, "nuc", c->axes, c->naxes, false);
      else if (c->p0 == 102)
        y = lz_linalg_norm(a, c->axes, c->naxes, false);
      else
        y = lz_linalg_norm_ord(a, c->p0, c->axes, c->naxes, false);
      check_ref(c, y, dt, __LINE__);
    }
  }
}

static void test_norm_options(void) {
  lz_array *a = lz_reshape(lz_arange(-6, 6, 1, LZ_FLOAT32), (int[]){2, 2, 3}, 3);
  lz_array *k = lz_linalg_norm(a, (int[]){1, 2}, 2, true);
  CHECK_SHAPE(k, 2, 1, 1);
  lz_array *all = lz_linalg_norm(a, NULL, 0, true);
  CHECK_SHAPE(all, 1, 1, 1);
  CHECK_CLOSE(lz_item_f64(all), sqrt(146.0), 1e-6);
  lz_array *h = lz_linalg_norm_ord(lz_astype(a, LZ_FLOAT16), 1, (int[]){-1}, 1, false);
  CHECK(lz_array_dtype(h) == LZ_FLOAT16);
  double hv[4] = {15, 6, 3, 12};
  CHECK_VALUES(h, hv, 4, 1e-3);
  CHECK_ERROR(lz_linalg_norm_ord(a, 3, NULL, 0, false), "needs a 1-D or 2-D array");
  CHECK_ERROR(lz_linalg_norm_ord(a, 3, (int[]){0, 1}, 2, false), "invalid order 3");
  CHECK_ERROR(lz_linalg_norm_str(a, "max", NULL, 0, false), "unknown order \"max\"");
  CHECK_ERROR(lz_linalg_norm_str(a, "fro", (int[]){0}, 1, false), "needs 2 axes");
  CHECK_ERROR(lz_linalg_norm(a, (int[]){0, 0}, 2, false), "repeated axis");
  CHECK_ERROR(lz_linalg_norm(a, (int[]){3}, 1, false), "out of bounds");
  CHECK_ERROR(lz_linalg_norm(lz_arange(0, 3, 1, LZ_INT32), NULL, 0, false), "only floating point");
}

/* A well-conditioned (b, n, n) test matrix: pseudo-random entries plus n on the diagonal. */
static lz_array *test_matrix(int b, int m, int n, lz_dtype dt, bool spd) {
  double v[CAP];
  for (int i = 0; i < b * m * n; i++) v[i] = sin(1.7 * i + 0.3) + (i % n == (i / n) % m ? n : 0);
  if (spd) /* symmetrise */
    for (int t = 0; t < b; t++)
      for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++) v[t * n * n + j * n + i] = v[t * n * n + i * n + j];
  return lz_astype(lz_array_from_data(v, (int[]){b, m, n}, 3, LZ_FLOAT64), dt);
}

/* C = A (m,k) @ B (k,n) in float64 */
static void mm(const double *A, const double *B, double *C, int m, int k, int n) {
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double s = 0;
      for (int l = 0; l < k; l++) s += A[i * k + l] * B[l * n + j];
      C[i * n + j] = s;
    }
}

static void test_qr_svd(void) {
  int shapes[3][2] = {{4, 3}, {3, 5}, {4, 4}};
  for (int t = 0; t < 2; t++)
    for (int s = 0; s < 3; s++) {
      int M = shapes[s][0], N = shapes[s][1], K = M < N ? M : N;
      lz_array *a = test_matrix(2, M, N, types[t], false), *qr[2], *usv[3];
      double A[CAP], Q[CAP], R[CAP], P[CAP], U[CAP], S[CAP], V[CAP], T[CAP];
      CHECK(lz_linalg_qr(a, qr) == 0);
      CHECK_SHAPE(qr[0], 2, M, K);
      CHECK_SHAPE(qr[1], 2, K, N);
      read(a, A), read(qr[0], Q), read(qr[1], R);
      for (int b = 0; b < 2; b++) {
        mm(Q + b * M * K, R + b * K * N, P, M, K, N);
        CHECK(maxdiff(P, A + b * M * N, (size_t)M * N) < 50 * tol_of(types[t]));
        for (int i = 0; i < K; i++) /* R is upper triangular */
          for (int j = 0; j < i; j++) CHECK(R[b * K * N + i * N + j] == 0);
      }
      CHECK(lz_linalg_svd(a, true, usv) == 0);
      CHECK_SHAPE(usv[0], 2, M, M);
      CHECK_SHAPE(usv[1], 2, K);
      CHECK_SHAPE(usv[2], 2, N, N);
      read(usv[0], U), read(usv[1], S), read(usv[2], V);
      for (int b = 0; b < 2; b++) { /* U[:, :K] diag(S) Vt[:K] */
        for (int i = 0; i < M; i++)
          for (int k = 0; k < K; k++) T[i * K + k] = U[b * M * M + i * M + k] * S[b * K + k];
        mm(T, V + b * N * N, P, M, K, N);
        CHECK(maxdiff(P, A + b * M * N, (size_t)M * N) < 50 * tol_of(types[t]));
        for (int k = 1; k < K; k++) CHECK(S[b * K + k] <= S[b * K + k - 1]);
      }
    }
}

static void test_inverses(void) {
  for (int t = 0; t < 2; t++) {
    lz_dtype dt = types[t];
    double tol = 50 * tol_of(dt), A[CAP], X[CAP], P[CAP], I[16];
    for (int i = 0; i < 16; i++) I[i] = i % 5 == 0;
    lz_array *a = test_matrix(3, 4, 4, dt, false);
    /* A inv(A) = I through lz_matmul, and inv of a transposed view is the transposed inverse */
    lz_array *ai = lz_matmul(a, lz_linalg_inv(a));
    read(ai, X);
    for (int b = 0; b < 3; b++) CHECK(maxdiff(X + 16 * b, I, 16) < tol);
    lz_array *at = lz_swapaxes(a, -1, -2);
    lz_array *d = lz_subtract(lz_linalg_inv(at), lz_swapaxes(lz_linalg_inv(a), -1, -2));
    read(d, X);
    for (int i = 0; i < 48; i++) CHECK(fabs(X[i]) < tol);
    /* triangular inverse: only the chosen triangle is read */
    for (int up = 0; up < 2; up++) {
      lz_array *ti = lz_linalg_tri_inv(a, up);
      read(a, A), read(ti, X);
      for (int b = 0; b < 3; b++) {
        double Tm[16];
        for (int i = 0; i < 16; i++)
          Tm[i] = (up ? i % 4 >= i / 4 : i % 4 <= i / 4) ? A[16 * b + i] : 0;
        mm(Tm, X + 16 * b, P, 4, 4, 4);
        CHECK(maxdiff(P, I, 16) < tol);
        for (int i = 0; i < 16; i++)
          if (up ? i % 4 < i / 4 : i % 4 > i / 4) CHECK(X[16 * b + i] == 0);
      }
    }
    /* Cholesky, both triangles, and the inverse from the factor */
    lz_array *s = test_matrix(2, 4, 4, dt, true);
    read(s, A);
    for (int up = 0; up < 2; up++) {
      lz_array *l = lz_linalg_cholesky(s, up);
      read(l, X);
      for (int b = 0; b < 2; b++) {
        double Lt[16], *L = X + 16 * b;
        for (int i = 0; i < 16; i++) Lt[i] = L[(i % 4) * 4 + i / 4];
        if (up)
          mm(Lt, L, P, 4, 4, 4);
        else
          mm(L, Lt, P, 4, 4, 4);
        CHECK(maxdiff(P, A + 16 * b, 16) < tol);
      }
      lz_array *ci = lz_linalg_cholesky_inv(l, up);
      lz_array *diff = lz_subtract(ci, lz_linalg_inv(s));
      read(diff, X);
      for (int i = 0; i < 32; i++) CHECK(fabs(X[i]) < tol);
    }
  }
}

static void test_eigen(void) {
  for (int t = 0; t < 2; t++) {
    lz_dtype dt = types[t];
    double tol = 50 * tol_of(dt), A[CAP], W[CAP], V[CAP], P[CAP], T[CAP];
    lz_array *s = test_matrix(2, 4, 4, dt, true), *wv[2];
    for (int u = 0; u < 2; u++) {
      CHECK(lz_linalg_eigh(s, u ? "U" : "L", wv) == 0);
      read(s, A), read(wv[0], W), read(wv[1], V);
      for (int b = 0; b < 2; b++) { /* V diag(w) V^T */
        double Vt[16];
        for (int i = 0; i < 16; i++) T[i] = V[16 * b + i] * W[4 * b + i % 4];
        for (int i = 0; i < 16; i++) Vt[i] = V[16 * b + (i % 4) * 4 + i / 4];
        mm(T, Vt, P, 4, 4, 4);
        CHECK(maxdiff(P, A + 16 * b, 16) < tol);
        for (int k = 1; k < 4; k++) CHECK(W[4 * b + k] >= W[4 * b + k - 1]);
      }
    }
    CHECK_ERROR(lz_linalg_eigvalsh(s, "X"), "UPLO must be \"L\" or \"U\"");
    /* a rotation-like matrix has complex eigenvalues: check A v = w v in complex arithmetic */
    double g[9] = {0, -2, 0, 2, 0, 0, 0, 0, 3};
    lz_array *ga = lz_astype(lz_array_from_data(g, (int[]){3, 3}, 2, LZ_FLOAT64), dt), *ev[2];
    CHECK(lz_linalg_eig(ga, ev) == 0);
    CHECK(lz_array_dtype(ev[0]) == LZ_COMPLEX64 && lz_array_dtype(ev[1]) == LZ_COMPLEX64);
    float w[6], v[18];
    CHECK(lz_array_read(ev[0], LZ_COMPLEX64, w, sizeof w) == 0);
    CHECK(lz_array_read(ev[1], LZ_COMPLEX64, v, sizeof v) == 0);
    for (int j = 0; j < 3; j++)
      for (int i = 0; i < 3; i++) {
        double re = 0, im = 0;
        for (int k = 0; k < 3; k++)
          re += g[i * 3 + k] * v[2 * (k * 3 + j)], im += g[i * 3 + k] * v[2 * (k * 3 + j) + 1];
        double vr = v[2 * (i * 3 + j)], vi = v[2 * (i * 3 + j) + 1];
        CHECK_CLOSE(re, w[2 * j] * vr - w[2 * j + 1] * vi, 1e-5);
        CHECK_CLOSE(im, w[2 * j] * vi + w[2 * j + 1] * vr, 1e-5);
      }
    lz_array *ws = lz_linalg_eigvals(ga);
    float w2[6];
    CHECK(lz_array_read(ws, LZ_COMPLEX64, w2, sizeof w2) == 0);
    CHECK(memcmp(w, w2, sizeof w) == 0);
    CHECK(fabs(w[0]) < 1e-6 && fabs(fabs(w[1]) - 2) < 1e-6);
  }
}

static void test_lu_solve(void) {
  for (int t = 0; t < 2; t++) {
    lz_dtype dt = types[t];
    double tol = 50 * tol_of(dt), A[CAP], L[CAP], U[CAP], P[CAP], F[CAP], X[CAP];
    int M = 4, N = 3, K = 3;
    lz_array *a = test_matrix(2, M, N, dt, false), *plu[3], *f[2];
    /* make row 3 the largest in column 0 so pivoting happens */
    a = lz_add(a, lz_array_from_data((double[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0}, (int[]){4, 3},
                                     2, LZ_FLOAT64));
    a = lz_astype(a, dt);
    CHECK(lz_linalg_lu(a, plu) == 0);
    CHECK(lz_array_dtype(plu[0]) == LZ_UINT32);
    CHECK_SHAPE(plu[0], 2, M);
    CHECK_SHAPE(plu[1], 2, M, K);
    CHECK_SHAPE(plu[2], 2, K, N);
    read(a, A), read(plu[0], P), read(plu[1], L), read(plu[2], U);
    for (int b = 0; b < 2; b++) {
      double LU[12], rows[12];
      mm(L + b * M * K, U + b * K * N, LU, M, K, N);
      for (int i = 0; i < M; i++) /* A = (L @ U)[P] */
        for (int j = 0; j < N; j++) rows[i * N + j] = LU[(int)P[b * M + i] * N + j];
      CHECK(maxdiff(rows, A + b * M * N, 12) < tol);
      for (int i = 0; i < K; i++) CHECK(L[b * M * K + i * K + i] == 1);
    }
    CHECK(P[0] != 0); /* row 0 was not the pivot */
    CHECK(lz_linalg_lu_factor(a, f) == 0);
    read(f[0], F), read(f[1], X);
    CHECK(lz_array_dtype(f[1]) == LZ_UINT32);
    CHECK_SHAPE(f[1], 2, K);
    CHECK(X[0] == 3); /* the first swap takes row 3 */
    for (int b = 0; b < 2; b++)
      for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++)
          CHECK_CLOSE(F[b * 12 + i * N + j],
                      j < i ? L[b * M * K + i * K + j] : U[b * K * N + i * N + j], 1e-12);

    /* solve with broadcast batch dims and a vector b; solve_triangular matches solve */
    lz_array *sq = test_matrix(2, 3, 3, dt, false);
    lz_array *rhs =
        lz_astype(lz_array_from_data((double[]){1, 2, 3}, (int[]){3}, 1, LZ_FLOAT64), dt);
    lz_array *x = lz_linalg_solve(sq, rhs);
    CHECK_SHAPE(x, 2, 3);
    lz_array *back = lz_matmul(sq, lz_expand_dims(x, (int[]){-1}, 1));
    double want[6] = {1, 2, 3, 1, 2, 3};
    CHECK_VALUES(back, want, 6, tol);
    lz_array *m2 = lz_broadcast_to(lz_reshape(rhs, (int[]){3, 1}, 2), (int[]){2, 3, 1}, 3);
    CHECK_VALUES(lz_linalg_solve(sq, m2), (read(x, X), X), 6, tol);
    for (int up = 0; up < 2; up++) {
      lz_array *tri = lz_linalg_cholesky(test_matrix(1, 3, 3, dt, true), up);
      lz_array *x1 = lz_linalg_solve_triangular(tri, rhs, up);
      lz_array *x2 = lz_linalg_solve(tri, rhs);
      read(x2, X);
      CHECK_VALUES(x1, X, 3, tol);
    }
  }
}

static void test_cross(void) {
  lz_array *a = lz_array_from_data((double[]){1, 0, 0, 0, 1, 0}, (int[]){2, 3}, 2, LZ_FLOAT64);
  lz_array *b = lz_array_from_data((float[]){0, 1, 0}, (int[]){3}, 1, LZ_FLOAT32);
  lz_array *c = lz_linalg_cross(a, b, -1);
  CHECK(lz_array_dtype(c) == LZ_FLOAT64);
  double want[6] = {0, 0, 1, 0, 0, 0};
  CHECK_VALUES(c, want, 6, 0);
  /* along axis 0 of a transposed view, integers */
  lz_array *ai = lz_swapaxes(
      lz_array_from_data((int32_t[]){1, 2, 3, 4, 5, 6}, (int[]){2, 3}, 2, LZ_INT32), 0, 1);
  lz_array *bi = lz_array_from_data((int32_t[]){7, 8, 9}, (int[]){3, 1}, 2, LZ_INT32);
  lz_array *ci = lz_linalg_cross(ai, bi, 0);
  CHECK_SHAPE(ci, 3, 2);
  double wi[6] = {2 * 9 - 3 * 8, 5 * 9 - 6 * 8, 3 * 7 - 1 * 9,
                  6 * 7 - 4 * 9, 1 * 8 - 2 * 7, 4 * 8 - 5 * 7};
  CHECK_VALUES(ci, wi, 6, 0);
  CHECK_ERROR(lz_linalg_cross(a, lz_ones((int[]){1}, 1, LZ_FLOAT32), -1), "must have size 3");
}

static void test_errors_and_empty(void) {
  lz_array *sing = lz_array_from_data((double[]){1, 2, 2, 4}, (int[]){2, 2}, 2, LZ_FLOAT64);
  lz_array *inv = lz_linalg_inv(sing);
  CHECK(inv != NULL);
  CHECK(lz_eval(inv) == -1);
  CHECK(strstr(lz_last_error(), "[lz_linalg_inv] matrix 0 of the batch is singular") != NULL);
  lz_clear_error();
  lz_array *notpd = lz_array_from_data((double[]){1, 2, 2, 1}, (int[]){2, 2}, 2, LZ_FLOAT64);
  CHECK(lz_eval(lz_linalg_cholesky(notpd, false)) == -1);
  CHECK(strstr(lz_last_error(),
               "[lz_linalg_cholesky] matrix 0 of the batch is not positive definite") != NULL);
  lz_clear_error();
  CHECK(lz_eval(lz_linalg_solve(sing, lz_ones((int[]){2}, 1, LZ_FLOAT64))) == -1);
  CHECK(strstr(lz_last_error(), "[lz_linalg_solve]") != NULL);
  lz_clear_error();
  /* singular matrices are fine for det and slogdet */
  CHECK_CLOSE(lz_item_f64(lz_linalg_det(sing)), 0, 0);
  lz_array *sl[2];
  CHECK(lz_linalg_slogdet(sing, sl) == 0);
  CHECK(lz_item_f64(sl[0]) == 0 && isinf(lz_item_f64(sl[1])) && lz_item_f64(sl[1]) < 0);

  CHECK_ERROR(lz_linalg_inv(lz_ones((int[]){2, 2}, 2, LZ_INT32)),
              "[lz_linalg_inv] only float32 and float64 are supported, got int32");
  CHECK_ERROR(lz_linalg_qr(lz_ones((int[]){2, 2}, 2, LZ_FLOAT16), sl) == 0 ? (void *)1 : NULL,
              "got float16");
  CHECK(sl[0] == NULL && sl[1] == NULL);
  CHECK_ERROR(lz_linalg_inv(lz_ones((int[]){2, 3}, 2, LZ_FLOAT32)),
              "expects square matrices, got shape (2,3)");
  CHECK_ERROR(lz_linalg_det(lz_ones((int[]){3}, 1, LZ_FLOAT32)),
              "at least 2 dimensions, got shape (3,)");
  CHECK_ERROR(
      lz_linalg_solve(lz_ones((int[]){3, 3}, 2, LZ_FLOAT32), lz_ones((int[]){4}, 1, LZ_FLOAT32)),
      "do not fit together");
  CHECK_ERROR(
      lz_linalg_solve(lz_ones((int[]){3, 3}, 2, LZ_FLOAT32), lz_ones((int[]){3}, 1, LZ_FLOAT64)),
      "same dtype");
  CHECK_ERROR(lz_linalg_cholesky(NULL, false), "argument 0 is NULL");

  /* empty matrices and batches */
  lz_array *e = lz_zeros((int[]){2, 0, 0}, 3, LZ_FLOAT32);
  CHECK_SHAPE(lz_linalg_inv(e), 2, 0, 0);
  CHECK(lz_eval(lz_linalg_inv(e)) == 0);
  double ones[2] = {1, 1};
  CHECK_VALUES(lz_linalg_det(e), ones, 2, 0);
  lz_array *eb = lz_zeros((int[]){0, 3, 3}, 3, LZ_FLOAT64), *usv[3];
  CHECK(lz_linalg_svd(eb, true, usv) == 0);
  CHECK_SHAPE(usv[0], 0, 3, 3);
  CHECK(lz_eval(usv[2]) == 0);
  CHECK(lz_eval(lz_linalg_pinv(lz_zeros((int[]){0, 3}, 2, LZ_FLOAT32))) == 0);
}

int main(void) {
  RUN(test_refs);
  RUN(test_norm_options);
  RUN(test_qr_svd);
  RUN(test_inverses);
  RUN(test_eigen);
  RUN(test_lu_solve);
  RUN(test_cross);
  RUN(test_errors_and_empty);
  return lzt_summary();
}
