/* Patterned creation ops: linspace, eye, identity, tri, tril, triu, meshgrid and the NumPy
 * window functions. Kernels in cpu/creation.c. */
#include "../cpu/creation.h"
#include "shape_impl.h"

#include <math.h>

#define CREATION_OP(NAME, KERNEL, PARAMS, FLAGS, IMPL)                                             \
  const lz_op_def lz_opdef_##NAME = {                                                              \
      .name = #NAME,                                                                               \
      .flags = FLAGS,                                                                              \
      .params_size = PARAMS,                                                                       \
      .cpu = KERNEL,                                                                               \
      .impl = IMPL,                                                                                \
  };
static const lz_window_fn bartlett_fn = lz_cpu_bartlett, blackman_fn = lz_cpu_blackman,
                          hamming_fn = lz_cpu_hamming, hanning_fn = lz_cpu_hanning;
CREATION_OP(linspace, lz_cpu_linspace, sizeof(lz_linspace_params), 0, NULL)
CREATION_OP(eye, lz_cpu_eye, sizeof(lz_k_params), 0, NULL)
CREATION_OP(tri, lz_cpu_tri, sizeof(lz_k_params), 0, NULL)
CREATION_OP(tril, lz_cpu_tril, sizeof(lz_k_params), LZ_OPF_DIFFERENTIABLE, NULL)
CREATION_OP(triu, lz_cpu_triu, sizeof(lz_k_params), LZ_OPF_DIFFERENTIABLE, NULL)
CREATION_OP(bartlett, lz_cpu_window, 0, 0, &bartlett_fn)
CREATION_OP(blackman, lz_cpu_window, 0, 0, &blackman_fn)
CREATION_OP(hamming, lz_cpu_window, 0, 0, &hamming_fn)
CREATION_OP(hanning, lz_cpu_window, 0, 0, &hanning_fn)

static int check_dtype(const char *op, lz_dtype dtype) {
  if (!lz__dtype_valid(dtype)) return lz__error(LZ_ERROR_DTYPE, op, "invalid dtype %d", (int)dtype);
  return 0;
}

lz_array *lz_linspace(double start, double stop, int num, lz_dtype dtype) {
  const char *op = "lz_linspace";
  if (check_dtype(op, dtype) != 0) return NULL;
  /* Infinite or NaN start/stop are accepted: the kernel's NumPy formula then gives inf/NaN
   * values exactly as numpy.linspace does. */
  if (num < 0) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "needs num >= 0 (got %d)", num);
    return NULL;
  }
  lz_linspace_params p = {start, stop};
  return lz__make(LZ_OP_LINSPACE, &p, NULL, 0, dtype, &num, 1);
}

static lz_array *matrix(int op_id, const char *op, int n, int m, int k, lz_dtype dtype) {
  if (check_dtype(op, dtype) != 0) return NULL;
  if (m < 0) m = n;
  if (n < 0) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "negative size n = %d", n);
    return NULL;
  }
  int shape[2] = {n, m};
  lz_k_params p = {k};
  return lz__make(op_id, &p, NULL, 0, dtype, shape, 2);
}

lz_array *lz_eye(int n, int m, int k, lz_dtype dtype) {
  return matrix(LZ_OP_EYE, "lz_eye", n, m, k, dtype);
}
lz_array *lz_identity(int n, lz_dtype dtype) {
  return matrix(LZ_OP_EYE, "lz_identity", n, n, 0, dtype);
}
lz_array *lz_tri(int n, int m, int k, lz_dtype dtype) {
  return matrix(LZ_OP_TRI, "lz_tri", n, m, k, dtype);
}

static lz_array *tri_mask(int op_id, const char *op, lz_array *x, int k) {
  if (!lz__check_inputs(op, &x, 1)) return NULL;
  if (x->ndim < 2) {
    char s[256];
    lz__error(LZ_ERROR_SHAPE, op, "needs an array of at least 2 dims, got shape %s",
              lz__fmt_shape(s, sizeof s, x->shape, x->ndim));
    return NULL;
  }
  lz_k_params p = {k};
  return lz__make(op_id, &p, &x, 1, x->dtype, x->shape, x->ndim);
}
lz_array *lz_tril(lz_array *x, int k) { return tri_mask(LZ_OP_TRIL, "lz_tril", x, k); }
lz_array *lz_triu(lz_array *x, int k) { return tri_mask(LZ_OP_TRIU, "lz_triu", x, k); }

int lz_meshgrid(lz_array *const *arrays, int n, bool sparse, const char *indexing,
                lz_array **outs) {
  const char *op = "lz_meshgrid";
  if (n < 0 || n > LZ_MAX_NDIM || (n > 0 && (!arrays || !outs)))
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "needs 0 to %d arrays and outs (n = %d)",
                     LZ_MAX_NDIM, n);
  for (int i = 0; i < n; i++) outs[i] = NULL;
  bool xy;
  if (!indexing || strcmp(indexing, "xy") == 0)
    xy = true;
  else if (strcmp(indexing, "ij") == 0)
    xy = false;
  else
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "indexing must be \"xy\" or \"ij\", got \"%s\"",
                     indexing);
  if (!lz__check_inputs(op, arrays, n)) return -1;
  /* Input i, flattened, runs along axis i (axes 0 and 1 swap places for "xy"). */
  lz_array *r[LZ_MAX_NDIM];
  lz_scope_begin();
  int rc = 0;
  for (int i = 0; i < n && rc == 0; i++) {
    int s[LZ_MAX_NDIM];
    for (int d = 0; d < n; d++) s[d] = 1;
    s[xy && n > 1 && i < 2 ? 1 - i : i] = -1;
    r[i] = lz_reshape(lz_flatten(arrays[i], 0, -1), s, n);
    if (!r[i]) rc = -1;
  }
  if (rc == 0 && !sparse) rc = lz_broadcast_arrays(r, n, outs);
  for (int i = 0; i < n && rc == 0; i++) {
    if (sparse) outs[i] = r[i];
    lz_keep(outs[i]);
  }
  lz_scope_end();
  if (rc != 0) {
    for (int i = 0; i < n; i++) outs[i] = NULL;
  }
  return rc;
}

static lz_array *window(int op_id, const char *op, int m, lz_dtype dtype) {
  if (!lz_dtype_is_float(dtype)) {
    lz__error(LZ_ERROR_DTYPE, op, "needs a floating dtype, got %s", lz_dtype_name(dtype));
    return NULL;
  }
  int shape[1] = {m < 0 ? 0 : m}; /* NumPy: fewer than one sample is an empty window */
  return lz__make(op_id, NULL, NULL, 0, dtype, shape, 1);
}
lz_array *lz_bartlett(int m, lz_dtype dtype) {
  return window(LZ_OP_BARTLETT, "lz_bartlett", m, dtype);
}
lz_array *lz_blackman(int m, lz_dtype dtype) {
  return window(LZ_OP_BLACKMAN, "lz_blackman", m, dtype);
}
lz_array *lz_hamming(int m, lz_dtype dtype) {
  return window(LZ_OP_HAMMING, "lz_hamming", m, dtype);
}
lz_array *lz_hanning(int m, lz_dtype dtype) {
  return window(LZ_OP_HANNING, "lz_hanning", m, dtype);
}
