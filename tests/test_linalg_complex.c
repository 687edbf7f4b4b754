/* complex64 linear algebra as MLX accepts it: SVD, Hermitian and general eigendecompositions
 * and norms against NumPy (tests/data/linalg_complex_refs.h, scripts/gen_linalg_complex_refs.py),
 * with the decompositions checked by reconstruction (U diag(S) Vt = A, A V = V diag(w),
 * unitary U, V); integer det and slogdet promoted to float32; the errors. */
#include "data/linalg_complex_refs.h"
#include "lz_test.h"

static lz_array *cx(const double *v, const int *shape, int nd) {
  size_t n = 1;
  for (int d = 0; d < nd; d++) n *= (size_t)shape[d];
  float *f = malloc(2 * n * sizeof(float));
  for (size_t i = 0; i < 2 * n; i++) f[i] = (float)v[i];
  lz_array *a = lz_array_from_data(f, shape, nd, LZ_COMPLEX64);
  free(f);
  return a;
}

/* max |x - y| over real and imaginary parts */
static double cdiff(lz_array *x, lz_array *y) {
  lz_array *d = lz_abs(lz_subtract(x, y));
  return lz_item_f64(lz_max(d, false));
}

typedef struct cf {
  float re, im;
} cf;

static lz_array *ct(lz_array *x) { return lz_conj(lz_swapaxes(x, -1, -2)); }

/* x @ y for complex64 (matmul is real only): (A + iB)(C + iD) from four real products */
static lz_array *cmm(lz_array *x, lz_array *y) {
  lz_array *a = lz_real(x), *b = lz_imag(x), *c = lz_real(y), *d = lz_imag(y);
  lz_array *re = lz_subtract(lz_matmul(a, c), lz_matmul(b, d));
  lz_array *im = lz_add(lz_matmul(a, d), lz_matmul(b, c));
  lz_array *i = lz_array_from_data((float[]){0, 1}, NULL, 0, LZ_COMPLEX64);
  return lz_add(lz_astype(re, LZ_COMPLEX64), lz_multiply(i, lz_astype(im, LZ_COMPLEX64)));
}

static void test_svd(void) {
  lz_scope_begin();
  lz_array *a = cx(lzc_svd_a, (int[]){2, 3, 4}, 3), *outs[3];
  CHECK(lz_linalg_svd(a, true, outs) == 0);
  CHECK(lz_array_dtype(outs[0]) == LZ_COMPLEX64 && lz_array_dtype(outs[1]) == LZ_FLOAT32 &&
        lz_array_dtype(outs[2]) == LZ_COMPLEX64);
  CHECK_SHAPE(outs[0], 2, 3, 3);
  CHECK_SHAPE(outs[2], 2, 4, 4);
  CHECK_VALUES(outs[1], lzc_svd_s, 6, 1e-5);
  /* U[:, :, :3] diag(S) Vt[:, :3, :] = A */
  lz_array *s = lz_astype(lz_expand_dims(outs[1], (int[]){-2}, 1), LZ_COMPLEX64);
  lz_array *vt3 = lz_slice(outs[2], (int[]){0, 0, 0}, (int[]){2, 3, 4}, NULL, 3);
  CHECK(cdiff(cmm(lz_multiply(outs[0], s), vt3), a) < 1e-5);
  lz_array *eye4 = lz_astype(lz_eye(4, 4, 0, LZ_FLOAT32), LZ_COMPLEX64);
  CHECK(cdiff(cmm(outs[2], ct(outs[2])), eye4) < 1e-5);
  lz_array *sv = NULL;
  CHECK(lz_linalg_svd(a, false, &sv) == 0);
  CHECK_VALUES(sv, lzc_svd_s, 6, 1e-5);
  lz_scope_end();
}

static void test_eigh(void) {
  lz_scope_begin();
  lz_array *h = cx(lzc_herm, (int[]){4, 4}, 2), *outs[2];
  CHECK(lz_linalg_eigh(h, NULL, outs) == 0);
  CHECK(lz_array_dtype(outs[0]) == LZ_FLOAT32 && lz_array_dtype(outs[1]) == LZ_COMPLEX64);
  CHECK_VALUES(outs[0], lzc_herm_w, 4, 1e-5);
  lz_array *w = lz_astype(lz_expand_dims(outs[0], (int[]){-2}, 1), LZ_COMPLEX64);
  CHECK(cdiff(cmm(h, outs[1]), lz_multiply(outs[1], w)) < 1e-5);
  CHECK_VALUES(lz_linalg_eigvalsh(h, "U"), lzc_herm_w, 4, 1e-5);
  lz_scope_end();
}

static void test_eig(void) {
  lz_scope_begin();
  lz_array *g = cx(lzc_gen, (int[]){3, 3}, 2), *outs[2];
  CHECK(lz_linalg_eig(g, outs) == 0);
  CHECK(lz_array_dtype(outs[0]) == LZ_COMPLEX64 && lz_array_dtype(outs[1]) == LZ_COMPLEX64);
  lz_array *w = lz_expand_dims(outs[0], (int[]){-2}, 1);
  CHECK(cdiff(cmm(g, outs[1]), lz_multiply(outs[1], w)) < 1e-5);
  /* eigenvalues sorted by (real, imaginary) as the reference */
  cf ev[3];
  CHECK(lz_array_read(lz_linalg_eigvals(g), LZ_COMPLEX64, ev, sizeof ev) == 0);
  for (int i = 0; i < 3; i++)
    for (int j = i + 1; j < 3; j++)
      if (ev[j].re < ev[i].re || (ev[j].re == ev[i].re && ev[j].im < ev[i].im)) {
        cf t = ev[i];
        ev[i] = ev[j], ev[j] = t;
      }
  for (int i = 0; i < 3; i++) {
    CHECK_CLOSE(ev[i].re, lzc_gen_w[2 * i], 1e-5);
    CHECK_CLOSE(ev[i].im, lzc_gen_w[2 * i + 1], 1e-5);
  }
  lz_scope_end();
}

static void test_norms(void) {
  lz_scope_begin();
  lz_array *v = cx(lzc_vec, (int[]){7}, 1), *a = cx(lzc_svd_a, (int[]){2, 3, 4}, 3);
  lz_array *m = lz_take(a, lz_int(0), 0);
  lz_array *got[10] = {
      lz_linalg_norm(v, NULL, 0, false),          lz_linalg_norm_ord(v, 1, NULL, 0, false),
      lz_linalg_norm_ord(v, INFINITY, NULL, 0, false), lz_linalg_norm_ord(v, 3, NULL, 0, false),
      lz_linalg_norm_str(m, "fro", NULL, 0, false), lz_linalg_norm_ord(m, 2, NULL, 0, false),
      lz_linalg_norm_ord(m, -2, NULL, 0, false),  lz_linalg_norm_str(m, "nuc", NULL, 0, false),
      lz_linalg_norm_ord(m, 1, NULL, 0, false),   lz_linalg_norm_ord(m, INFINITY, NULL, 0, false)};
  for (int i = 0; i < 10; i++) {
    CHECK(got[i] && lz_array_dtype(got[i]) == LZ_FLOAT32);
    CHECK_VALUES(got[i], &lzc_norms[i], 1, 1e-5 * (1 + fabs(lzc_norms[i])));
  }
  lz_array *b = lz_linalg_norm_ord(a, 2, (int[]){1, 2}, 2, true);
  CHECK_SHAPE(b, 2, 1, 1);
  CHECK_VALUES(b, lzc_batch_norm2, 2, 1e-5);
  /* the axes in either order give the same 2-norm (of the matrix or its transpose) */
  CHECK_VALUES(lz_linalg_norm_ord(a, 2, (int[]){2, 1}, 2, false), lzc_batch_norm2, 2, 1e-5);
  lz_scope_end();
}

static void test_int_det(void) {
  lz_scope_begin();
  lz_array *k = lz_astype(lz_array_from_data(lzc_int_a, (int[]){4, 4}, 2, LZ_FLOAT64), LZ_INT32);
  lz_array *d = lz_linalg_det(k);
  CHECK(lz_array_dtype(d) == LZ_FLOAT32);
  CHECK_VALUES(d, &lzc_int_det[0], 1, 1e-4 * fabs(lzc_int_det[0]));
  lz_array *so[2];
  CHECK(lz_linalg_slogdet(k, so) == 0);
  CHECK(lz_array_dtype(so[0]) == LZ_FLOAT32);
  CHECK_VALUES(so[0], &lzc_int_det[1], 1, 0);
  CHECK_VALUES(so[1], &lzc_int_det[2], 1, 1e-5);
  lz_array *bm = lz_array_from_data((bool[]){true, false, true, true}, (int[]){2, 2}, 2, LZ_BOOL);
  CHECK_VALUES(lz_linalg_det(bm), ((double[]){1}), 1, 1e-6);
  CHECK_ERROR(lz_linalg_det(lz_zeros((int[]){2, 3}, 2, LZ_INT32)),
              "[lz_linalg_det] expects square matrices, got shape (2,3)");
  /* complex64 stays an error where MLX has no complex kernel */
  CHECK_ERROR(lz_linalg_inv(cx(lzc_herm, (int[]){4, 4}, 2)),
              "[lz_linalg_inv] only float32 and float64 are supported, got complex64");
  lz_scope_end();
}

static lz_closure *g_svd_closure;
static int f_svals(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  return lz_linalg_svd(in[0], false, out) == 0 ? 1 : -1;
}

static void test_no_complex_grad(void) {
  lz_scope_begin();
  g_svd_closure = lz_closure_new(f_svals, NULL, NULL);
  lz_array *a = cx(lzc_herm, (int[]){4, 4}, 2), *c = lz_ones((int[]){4}, 1, LZ_FLOAT32), *g;
  CHECK(lz_vjp(g_svd_closure, &a, 1, &c, 1, NULL, &g) != 0);
  CHECK(strstr(lz_last_error(), "has no derivative for complex64 input") != NULL);
  lz_clear_error();
  lz_closure_free(g_svd_closure);
  lz_scope_end();
}

int main(void) {
  RUN(test_svd);
  RUN(test_eigh);
  RUN(test_eig);
  RUN(test_norms);
  RUN(test_int_det);
  RUN(test_no_complex_grad);
  return lzt_summary();
}
