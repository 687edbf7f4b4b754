/* Scans along one axis (cumsum, cumprod, cummax, cummin, logcumsumexp) and diff: validation,
 * result dtypes and registry entries (kernels in cpu/scan.c). */
#include "../cpu/reduce.h"
#include "ops.h"

static lz_array *scan(const char *name, int op, lz_reduce_kind kind, lz_array *a, int axis,
                      bool reverse, bool inclusive) {
  if (!lz__check_inputs(name, &a, 1)) return NULL;
  if (a->dtype == LZ_COMPLEX64) {
    lz__error(LZ_ERROR_DTYPE, name, "complex64 is not supported");
    return NULL;
  }
  lz_axis_params p;
  memset(&p, 0, sizeof p);
  if ((p.axis = lz__norm_axis(name, axis, a->ndim)) < 0) return NULL;
  p.reverse = reverse;
  p.inclusive = inclusive;
  lz_dtype dt = a->dtype;
  if (kind == LZ_RK_SUM && dt == LZ_BOOL) dt = LZ_INT32;
  if (kind == LZ_RK_LSE && !lz_dtype_is_float(dt)) dt = LZ_FLOAT32;
  return lz__make(op, &p, &a, 1, dt, a->shape, a->ndim);
}

#define SCAN_OP(NAME, ID, KIND)                                                                  \
  static const lz_reduce_kind NAME##_kind = KIND;                                                \
  const lz_op_def lz_opdef_##NAME = {                                                            \
      .name = #NAME,                                                                             \
      .flags = LZ_OPF_DIFFERENTIABLE,                                                            \
      .params_size = sizeof(lz_axis_params),                                                     \
      .cpu = lz_cpu_scan,                                                                        \
      .impl = &NAME##_kind,                                                                      \
  };                                                                                             \
  lz_array *lz_##NAME(lz_array *a, int axis, bool reverse, bool inclusive) {                     \
    return scan("lz_" #NAME, LZ_OP_##ID, KIND, a, axis, reverse, inclusive);                     \
  }
SCAN_OP(cumsum, CUMSUM, LZ_RK_SUM)
SCAN_OP(cumprod, CUMPROD, LZ_RK_PROD)
SCAN_OP(cummax, CUMMAX, LZ_RK_MAX)
SCAN_OP(cummin, CUMMIN, LZ_RK_MIN)
SCAN_OP(logcumsumexp, LOGCUMSUMEXP, LZ_RK_LSE)

const lz_op_def lz_opdef_diff = {
    .name = "diff",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_axis_params),
    .cpu = lz_cpu_diff,
};

lz_array *lz_diff(lz_array *a, int n, int axis) {
  if (!lz__check_inputs("lz_diff", &a, 1)) return NULL;
  if (a->dtype == LZ_COMPLEX64) {
    lz__error(LZ_ERROR_DTYPE, "lz_diff", "complex64 is not supported");
    return NULL;
  }
  if (n < 0) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_diff", "order n must be >= 0, got %d", n);
    return NULL;
  }
  if (a->ndim == 0) {
    lz__error(LZ_ERROR_SHAPE, "lz_diff", "needs at least 1 dimension, got a 0-d array");
    return NULL;
  }
  lz_axis_params p;
  memset(&p, 0, sizeof p);
  if ((p.axis = lz__norm_axis("lz_diff", axis, a->ndim)) < 0) return NULL;
  int shape[LZ_MAX_NDIM];
  memcpy(shape, a->shape, sizeof(int) * (size_t)a->ndim);
  shape[p.axis] = shape[p.axis] > n ? shape[p.axis] - n : 0;
  p.k = n;
  return lz__make(LZ_OP_DIFF, &p, &a, 1, a->dtype, shape, a->ndim);
}
