/* Creation ops: full (a broadcast view of one constant) and arange. */
#include "ops.h"

#include <math.h>

/* full: input 0 is a 0-d constant; the output views it with all strides 0. */
static int full_cpu(lz_node *node, lz_array **outs) {
  int64_t zeros[LZ_MAX_NDIM] = {0};
  lz__set_view(outs[0], node->inputs[0], 0, zeros);
  return 0;
}

const lz_op_def lz_opdef_full = {
    .name = "full",
    .flags = LZ_OPF_VIEW,
    .cpu = full_cpu,
};

lz_array *lz_full(const int *shape, int ndim, double value, lz_dtype dtype) {
  if (!lz__dtype_valid(dtype)) {
    lz__error(LZ_ERROR_DTYPE, "lz_full", "invalid dtype %d", (int)dtype);
    return NULL;
  }
  lz_array *c = lz__constant(value, dtype, false);
  if (!c) return NULL;
  lz_array *out = lz__make(LZ_OP_FULL, NULL, &c, 1, dtype, shape, ndim);
  lz__array_decref(c);
  return out;
}

/* full with an array of values (MLX's full(shape, vals, dtype)): vals cast to dtype and
 * broadcast to shape, materialised. Built from astype, broadcast_to and contiguous, so the
 * gradient with respect to vals is the cotangent summed over the broadcast axes. */
lz_array *lz_full_array(const int *shape, int ndim, lz_array *vals, lz_dtype dtype) {
  if (!lz__check_inputs("lz_full_array", &vals, 1)) return NULL;
  if (!lz__dtype_valid(dtype)) {
    lz__error(LZ_ERROR_DTYPE, "lz_full_array", "invalid dtype %d", (int)dtype);
    return NULL;
  }
  char sb[128], vb[128];
  bool ok = ndim >= 0 && ndim <= LZ_MAX_NDIM && ndim >= vals->ndim && (shape || ndim == 0);
  for (int i = 0; ok && i < ndim; i++) ok = shape[i] >= 0;
  for (int i = 1; ok && i <= vals->ndim; i++) {
    int s = shape[ndim - i], v = vals->shape[vals->ndim - i];
    ok = v == s || v == 1;
  }
  if (!ok) {
    lz__error(LZ_ERROR_SHAPE, "lz_full_array", "values of shape %s cannot fill shape %s",
              lz__fmt_shape(vb, sizeof vb, vals->shape, vals->ndim),
              ndim >= 0 && ndim <= LZ_MAX_NDIM && (shape || ndim == 0)
                  ? lz__fmt_shape(sb, sizeof sb, shape, ndim) : "(invalid)");
    return NULL;
  }
  lz_array *c = lz__cast("lz_full_array", vals, dtype);
  if (!c) return NULL;
  lz_array *b = lz_broadcast_to(c, shape, ndim);
  lz__uncast(c, vals);
  lz_array *out = b ? lz_contiguous(b) : NULL;
  lz_free(b);
  return out;
}

lz_array *lz_zeros(const int *shape, int ndim, lz_dtype dtype) {
  return lz_full(shape, ndim, 0.0, dtype);
}
lz_array *lz_ones(const int *shape, int ndim, lz_dtype dtype) {
  return lz_full(shape, ndim, 1.0, dtype);
}

lz_array *lz_full_like(lz_array *a, double value) {
  if (!lz__check_inputs("lz_full_like", &a, 1)) return NULL;
  return lz_full(a->shape, a->ndim, value, a->dtype);
}
lz_array *lz_zeros_like(lz_array *a) { return lz_full_like(a, 0.0); }
lz_array *lz_ones_like(lz_array *a) { return lz_full_like(a, 1.0); }

/* ---- arange ---- */

typedef struct arange_params {
  double start, step;
} arange_params;

/* NumPy's fill (MLX's arange agrees for integers): the first two values are start and
 * start + step converted to the dtype, and every value steps by their difference in the
 * dtype's arithmetic: integers wrap, float32/float64 compute start + i * delta in their own
 * precision, float16/bfloat16 in float32 (the first value is start itself, also for an infinite
 * step). */
static int arange_cpu(lz_node *node, lz_array **outs) {
  const arange_params *p = node->params;
  lz_array *out = outs[0];
  if (lz__alloc_output(out, "lz_arange") != 0) return -1;
  char *d = lz__data_ptr(out);
  int64_t n = out->size;
  lz_dtype dt = out->dtype;
  if (dt == LZ_FLOAT64) {
    double s = p->start, delta = (p->start + p->step) - s;
    for (int64_t i = 0; i < n; i++)
      ((double *)d)[i] = i == 0 ? s : i == 1 ? p->start + p->step : s + (double)i * delta;
  } else if (dt == LZ_FLOAT32) {
    float s = (float)p->start, next = (float)(p->start + p->step), delta = next - s;
    for (int64_t i = 0; i < n; i++)
      ((float *)d)[i] = i == 0 ? s : i == 1 ? next : s + (float)i * delta;
  } else if (dt == LZ_FLOAT16 || dt == LZ_BFLOAT16) {
    unsigned char t0[2], t1[2];
    lz__store_f64(t0, dt, p->start);
    lz__store_f64(t1, dt, p->start + p->step);
    float s = (float)lz__load_f64(t0, dt), delta = (float)lz__load_f64(t1, dt) - s;
    for (int64_t i = 0; i < n; i++) {
      float v = i == 0 ? s : i == 1 ? s + delta : s + (float)i * delta;
      lz__store_f64(d + 2 * i, dt, v);
    }
  } else { /* integers: two's complement arithmetic, stored in the dtype's width */
    unsigned char t0[8], t1[8];
    lz__store_f64(t0, dt, p->start);
    lz__store_f64(t1, dt, p->start + p->step);
    uint64_t s = (uint64_t)lz__load_i64(t0, dt), delta = (uint64_t)lz__load_i64(t1, dt) - s;
    size_t sz = lz_dtype_size(dt);
    for (int64_t i = 0; i < n; i++) {
      uint64_t v = s + (uint64_t)i * delta;
      switch (sz) {
      case 1: ((uint8_t *)d)[i] = (uint8_t)v; break;
      case 2: ((uint16_t *)d)[i] = (uint16_t)v; break;
      case 4: ((uint32_t *)d)[i] = (uint32_t)v; break;
      default: ((uint64_t *)d)[i] = v; break;
      }
    }
  }
  return 0;
}

const lz_op_def lz_opdef_arange = {
    .name = "arange",
    .params_size = sizeof(arange_params),
    .cpu = arange_cpu,
};

lz_array *lz_arange(double start, double stop, double step, lz_dtype dtype) {
  if (!lz__dtype_valid(dtype) || dtype == LZ_BOOL || dtype == LZ_COMPLEX64) {
    lz__error(LZ_ERROR_DTYPE, "lz_arange", "dtype %s is not supported", lz_dtype_name(dtype));
    return NULL;
  }
  if (step == 0 || isnan(step) || !isfinite(start) || !isfinite(stop)) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_arange",
              "cannot compute the length: needs finite start and stop and a nonzero step (got "
              "%g, %g, %g)",
              start, stop, step);
    return NULL;
  }
  /* An infinite step gives start alone when it points from start towards stop, else nothing
   * (NumPy and MLX). */
  double n = isinf(step) ? ((step > 0 && start < stop) || (step < 0 && start > stop) ? 1 : 0)
                         : ceil((stop - start) / step);
  if (n < 0) n = 0;
  if (n > 2147483647.0) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_arange", "%g elements is too many", n);
    return NULL;
  }
  int shape[1] = {(int)n};
  arange_params p = {start, step};
  return lz__make(LZ_OP_ARANGE, &p, NULL, 0, dtype, shape, 1);
}
