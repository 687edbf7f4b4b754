/* Initializers (mlx.nn.init): new arrays with the shape of a template array. */
#include <math.h>

#include "nn/nn_impl.h"

static lz_dtype float_dtype(lz_array *a) {
  lz_dtype d = lz_array_dtype(a);
  return lz_dtype_is_float(d) ? d : LZ_FLOAT32;
}

static bool have(const char *who, lz_array *a) {
  if (a) return true;
  if (!lz_nn__failed()) lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "NULL array");
  return false;
}

/* fan_in and fan_out of a weight of at least 2 dims, as MLX computes them. */
static int fans(const char *who, lz_array *a, double *fan_in, double *fan_out) {
  int nd = lz_array_ndim(a);
  if (nd < 2)
    return lz_set_error(LZ_ERROR_SHAPE, who, "needs an array of at least 2 dims, got %d-d", nd);
  double rf = 1;
  for (int d = 1; d < nd - 1; d++) rf *= lz_array_shape(a)[d];
  *fan_in = lz_array_dim(a, -1) * rf, *fan_out = lz_array_dim(a, 0) * rf;
  return 0;
}

lz_array *lz_nn_init_constant(lz_array *a, double value) {
  if (!have("lz_nn_init_constant", a)) return NULL;
  return lz_full(lz_array_shape(a), lz_array_ndim(a), value, float_dtype(a));
}

lz_array *lz_nn_init_normal(lz_array *a, double mean, double std, lz_array *key) {
  if (!have("lz_nn_init_normal", a)) return NULL;
  return lz_random_normal(lz_array_shape(a), lz_array_ndim(a), float_dtype(a), mean, std, key);
}

lz_array *lz_nn_init_uniform(lz_array *a, double low, double high, lz_array *key) {
  if (!have("lz_nn_init_uniform", a)) return NULL;
  NN_BEGIN();
  lz_dtype dt = float_dtype(a);
  return NN_END(lz_random_uniform(lz_scalar(low, dt), lz_scalar(high, dt), lz_array_shape(a),
                                  lz_array_ndim(a), dt, key));
}

lz_array *lz_nn_init_identity(lz_array *a) {
  if (!have("lz_nn_init_identity", a)) return NULL;
  if (lz_array_ndim(a) != 2 || lz_array_dim(a, 0) != lz_array_dim(a, 1)) {
    lz_set_error(LZ_ERROR_SHAPE, "lz_nn_init_identity", "needs a square 2-d array");
    return NULL;
  }
  return lz_identity(lz_array_dim(a, 0), float_dtype(a));
}

lz_array *lz_nn_init_glorot_normal(lz_array *a, double gain, lz_array *key) {
  double fi, fo;
  if (!have("lz_nn_init_glorot_normal", a) || fans("lz_nn_init_glorot_normal", a, &fi, &fo))
    return NULL;
  return lz_nn_init_normal(a, 0.0, gain * sqrt(2.0 / (fi + fo)), key);
}

lz_array *lz_nn_init_glorot_uniform(lz_array *a, double gain, lz_array *key) {
  double fi, fo;
  if (!have("lz_nn_init_glorot_uniform", a) || fans("lz_nn_init_glorot_uniform", a, &fi, &fo))
    return NULL;
  double limit = gain * sqrt(6.0 / (fi + fo));
  return lz_nn_init_uniform(a, -limit, limit, key);
}

lz_array *lz_nn_init_he_normal(lz_array *a, bool fan_out, double gain, lz_array *key) {
  double fi, fo;
  if (!have("lz_nn_init_he_normal", a) || fans("lz_nn_init_he_normal", a, &fi, &fo)) return NULL;
  return lz_nn_init_normal(a, 0.0, gain / sqrt(fan_out ? fo : fi), key);
}

lz_array *lz_nn_init_he_uniform(lz_array *a, bool fan_out, double gain, lz_array *key) {
  double fi, fo;
  if (!have("lz_nn_init_he_uniform", a) || fans("lz_nn_init_he_uniform", a, &fi, &fo)) return NULL;
  double limit = gain * sqrt(3.0 / (fan_out ? fo : fi));
  return lz_nn_init_uniform(a, -limit, limit, key);
}

lz_array *lz_nn_init_orthogonal(lz_array *a, double gain, lz_array *key) {
  if (!have("lz_nn_init_orthogonal", a)) return NULL;
  if (lz_array_ndim(a) != 2) {
    lz_set_error(LZ_ERROR_SHAPE, "lz_nn_init_orthogonal", "needs a 2-d array, got %d-d",
                 lz_array_ndim(a));
    return NULL;
  }
  int rows = lz_array_dim(a, 0), cols = lz_array_dim(a, 1), n = rows > cols ? rows : cols;
  lz_array *qr[2];
  NN_BEGIN();
  lz_array *r = lz_random_normal((int[]){n, n}, 2, LZ_FLOAT32, 0.0, 1.0, key);
  if (!r || lz_linalg_qr(r, qr) != 0) return NN_END(NULL);
  lz_array *q = lz_multiply(qr[0], lz_sign(lz_diag(qr[1], 0)));
  q = lz_slice(q, (int[]){0, 0}, (int[]){rows, cols}, NULL, 2);
  return NN_END(lz_astype(lz_multiply(q, lz_float(gain)), float_dtype(a)));
}
