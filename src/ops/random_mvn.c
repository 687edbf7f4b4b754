/* Multivariate normal samples, composed from public ops the way MLX composes them: the square
 * root of the covariance from its SVD (U * sqrt(S) @ Vt, so positive semi-definite matrices
 * work), applied to standard normal draws. */
#include "random_impl.h"

lz_array *lz_random_multivariate_normal(lz_array *mean, lz_array *cov, const int *shape, int ndim,
                                        lz_dtype dtype, lz_array *key) {
  const char *op = "lz_random_multivariate_normal";
  lz_array *in[2] = {mean, cov};
  if (!lz__check_inputs(op, in, 2) || (key && !lz__check_inputs(op, &key, 1))) return NULL;
  if (dtype != LZ_FLOAT32) {
    lz__error(LZ_ERROR_DTYPE, op, "dtype must be float32, got %s", lz_dtype_name(dtype));
    return NULL;
  }
  if (mean->ndim < 1 || cov->ndim < 2) {
    lz__error(LZ_ERROR_SHAPE, op, "mean needs at least 1 dim and cov 2, got %d and %d", mean->ndim,
              cov->ndim);
    return NULL;
  }
  int n = mean->shape[mean->ndim - 1];
  if (cov->shape[cov->ndim - 1] != cov->shape[cov->ndim - 2] || cov->shape[cov->ndim - 1] != n) {
    char sm[256], sc[256];
    lz__error(LZ_ERROR_SHAPE, op, "cov must be (..., %d, %d) for mean %s, got %s", n, n,
              lz__fmt_shape(sm, sizeof sm, mean->shape, mean->ndim),
              lz__fmt_shape(sc, sizeof sc, cov->shape, cov->ndim));
    return NULL;
  }
  if (lz__random_check_shape(op, shape, ndim) != 0) return NULL;
  /* Batch shape: cov's and mean's batch dims and `shape`, broadcast together. */
  int b1[LZ_MAX_NDIM], out[LZ_MAX_NDIM + 1];
  int n1 = lz__broadcast_shapes(op, cov->shape, cov->ndim - 2, mean->shape, mean->ndim - 1, b1);
  int no = n1 < 0 ? -1 : lz__broadcast_shapes(op, b1, n1, shape, ndim, out);
  if (no < 0) return NULL;
  if (no + 1 > LZ_MAX_NDIM) {
    lz__error(LZ_ERROR_SHAPE, op, "the result would have more than %d dims", LZ_MAX_NDIM);
    return NULL;
  }
  out[no++] = n;
  if (lz__random_check_key(op, key) != 0) return NULL;

  lz_scope_begin();
  lz_array *usv[3] = {NULL, NULL, NULL}, *result = NULL;
  int second_last = -2;
  if (lz_linalg_svd(lz_astype(cov, LZ_FLOAT32), true, usv) == 0) {
    lz_array *root = lz_sqrt(usv[1]);
    lz_array *std = lz_matmul(lz_multiply(usv[0], lz_expand_dims(root, &second_last, 1)), usv[2]);
    lz_array *z = lz_random_normal(out, no, dtype, 0.0, 1.0, key);
    lz_array *scaled =
        lz_squeeze(lz_matmul(lz_expand_dims(z, &second_last, 1), std), &second_last, 1);
    result = lz_keep(lz_add(mean, scaled));
  }
  lz_scope_end();
  return result;
}
