/* Reduction ops: axes, result dtypes and shapes, and registry entries (kernels in
 * cpu/reduce.c and cpu/reduce_lane.c). */
#include "../cpu/reduce.h"
#include "ops.h"

#include <stdlib.h>

static lz_dtype at_least_float(lz_dtype d) { return lz_dtype_is_float(d) ? d : LZ_FLOAT32; }

/* Sums and products accumulate small integers as MLX does: signed ones (and bool) in int32,
 * unsigned ones in uint32; 64-bit integers and floats keep their dtype. */
static lz_dtype accumulate_dtype(lz_dtype d) {
  if (d == LZ_BOOL) return LZ_INT32;
  if (!lz_dtype_is_integer(d) || lz_dtype_size(d) == 8) return d;
  return lz_dtype_is_signed(d) ? LZ_INT32 : LZ_UINT32;
}

static lz_dtype reduce_dtype(lz_reduce_kind kind, lz_dtype d) {
  switch (kind) {
  case LZ_RK_SUM:
  case LZ_RK_PROD:
    return accumulate_dtype(d);
  case LZ_RK_ALL:
  case LZ_RK_ANY: return LZ_BOOL;
  case LZ_RK_COUNT: return LZ_INT32;
  case LZ_RK_MEAN:
  case LZ_RK_VAR:
  case LZ_RK_STD:
  case LZ_RK_LSE: return at_least_float(d);
  default: return d;
  }
}

static int cmp_int(const void *a, const void *b) {
  return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* Validates the input and axes; fills params (sorted axes) and the output shape. Returns the
 * output ndim or -1. all: every axis. */
static int reduce_setup(const char *name, lz_array *a, const int *axes, int naxes, bool all,
                        bool keepdims, lz_reduce_params *p, int *shape) {
  if (!lz__check_inputs(name, &a, 1)) return -1;
  if (a->dtype == LZ_COMPLEX64) {
    return lz__error(LZ_ERROR_DTYPE, name, "complex64 is not supported");
  }
  memset(p, 0, sizeof *p);
  if (all) {
    p->naxes = a->ndim;
    for (int i = 0; i < a->ndim; i++) p->axes[i] = i;
  } else {
    if (lz__norm_axes(name, axes, naxes, a->ndim, p->axes) != 0) return -1;
    p->naxes = naxes;
    qsort(p->axes, (size_t)naxes, sizeof(int), cmp_int);
  }
  bool red[LZ_MAX_NDIM] = {false};
  for (int i = 0; i < p->naxes; i++) red[p->axes[i]] = true;
  int nd = 0;
  for (int d = 0; d < a->ndim; d++) {
    if (!red[d]) shape[nd++] = a->shape[d];
    else if (keepdims) shape[nd++] = 1;
  }
  return nd;
}

static bool reduces_empty_axis(const lz_array *a, const lz_reduce_params *p) {
  for (int i = 0; i < p->naxes; i++)
    if (a->shape[p->axes[i]] == 0) return true;
  return false;
}

static lz_array *reduce(const char *name, int op, lz_reduce_kind kind, lz_array *a,
                        const int *axes, int naxes, bool all, bool keepdims, int ddof) {
  lz_reduce_params p;
  int shape[LZ_MAX_NDIM];
  int nd = reduce_setup(name, a, axes, naxes, all, keepdims, &p, shape);
  if (nd < 0) return NULL;
  if ((kind == LZ_RK_MAX || kind == LZ_RK_MIN || kind == LZ_RK_LSE) && reduces_empty_axis(a, &p)) {
    char s[256];
    lz__error(LZ_ERROR_INVALID_ARGUMENT, name, "cannot reduce a zero-size axis of shape %s",
              lz__fmt_shape(s, sizeof s, a->shape, a->ndim));
    return NULL;
  }
  p.ddof = ddof;
  lz_dtype dt = reduce_dtype(kind, a->dtype);
  /* MLX returns the input itself, dtype included, for a sum or product over no axes (a 0-d
   * input), and for a product whose reduced axes all have size 1. */
  bool noop = true;
  for (int i = 0; i < p.naxes; i++) noop = noop && a->shape[p.axes[i]] == 1;
  if ((kind == LZ_RK_SUM && p.naxes == 0) || (kind == LZ_RK_PROD && noop)) dt = a->dtype;
  return lz__make(op, &p, &a, 1, dt, shape, nd);
}

#define REDUCE_OP(NAME, ID, KIND, FLAGS)                                                         \
  static const lz_reduce_kind NAME##_kind = KIND;                                                \
  const lz_op_def lz_opdef_##NAME = {                                                            \
      .name = #NAME,                                                                             \
      .flags = LZ_OPF_REDUCTION | (FLAGS),                                                       \
      .params_size = sizeof(lz_reduce_params),                                                   \
      .cpu = lz_cpu_reduce,                                                                      \
      .impl = &NAME##_kind,                                                                      \
  };
#define REDUCE_API(NAME, ID, KIND)                                                               \
  lz_array *lz_##NAME(lz_array *a, bool keepdims) {                                              \
    return reduce("lz_" #NAME, LZ_OP_##ID, KIND, a, NULL, 0, true, keepdims, 0);                 \
  }                                                                                              \
  lz_array *lz_##NAME##_axis(lz_array *a, int axis, bool keepdims) {                             \
    return reduce("lz_" #NAME, LZ_OP_##ID, KIND, a, &axis, 1, false, keepdims, 0);               \
  }                                                                                              \
  lz_array *lz_##NAME##_axes(lz_array *a, const int *axes, int naxes, bool keepdims) {           \
    return reduce("lz_" #NAME, LZ_OP_##ID, KIND, a, axes, naxes, false, keepdims, 0);            \
  }

#define D LZ_OPF_DIFFERENTIABLE
REDUCE_OP(sum, SUM, LZ_RK_SUM, D)
REDUCE_API(sum, SUM, LZ_RK_SUM)
REDUCE_OP(prod, PROD, LZ_RK_PROD, D)
REDUCE_API(prod, PROD, LZ_RK_PROD)
REDUCE_OP(max, MAX, LZ_RK_MAX, D)
REDUCE_API(max, MAX, LZ_RK_MAX)
REDUCE_OP(min, MIN, LZ_RK_MIN, D)
REDUCE_API(min, MIN, LZ_RK_MIN)
REDUCE_OP(all, ALL, LZ_RK_ALL, 0)
REDUCE_API(all, ALL, LZ_RK_ALL)
REDUCE_OP(any, ANY, LZ_RK_ANY, 0)
REDUCE_API(any, ANY, LZ_RK_ANY)
REDUCE_OP(count_nonzero, COUNT_NONZERO, LZ_RK_COUNT, 0)
REDUCE_API(count_nonzero, COUNT_NONZERO, LZ_RK_COUNT)
REDUCE_OP(mean, MEAN, LZ_RK_MEAN, D)
REDUCE_API(mean, MEAN, LZ_RK_MEAN)
REDUCE_OP(logsumexp, LOGSUMEXP, LZ_RK_LSE, D)
REDUCE_API(logsumexp, LOGSUMEXP, LZ_RK_LSE)
REDUCE_OP(var, VAR, LZ_RK_VAR, D)
REDUCE_OP(std, STD, LZ_RK_STD, D)

#define VAR_API(NAME, ID, KIND)                                                                  \
  lz_array *lz_##NAME(lz_array *a, bool keepdims, int ddof) {                                    \
    return reduce("lz_" #NAME, LZ_OP_##ID, KIND, a, NULL, 0, true, keepdims, ddof);              \
  }                                                                                              \
  lz_array *lz_##NAME##_axis(lz_array *a, int axis, bool keepdims, int ddof) {                   \
    return reduce("lz_" #NAME, LZ_OP_##ID, KIND, a, &axis, 1, false, keepdims, ddof);            \
  }                                                                                              \
  lz_array *lz_##NAME##_axes(lz_array *a, const int *axes, int naxes, bool keepdims, int ddof) { \
    return reduce("lz_" #NAME, LZ_OP_##ID, KIND, a, axes, naxes, false, keepdims, ddof);         \
  }
VAR_API(var, VAR, LZ_RK_VAR)
VAR_API(std, STD, LZ_RK_STD)

/* ---- median: the reduced axes form one lane per output ---- */

const lz_op_def lz_opdef_median = {
    .name = "median",
    .flags = LZ_OPF_REDUCTION | LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_reduce_params),
    .cpu = lz_cpu_median,
};

static lz_array *median(lz_array *a, const int *axes, int naxes, bool all, bool keepdims) {
  lz_reduce_params p;
  int shape[LZ_MAX_NDIM];
  int nd = reduce_setup("lz_median", a, axes, naxes, all, keepdims, &p, shape);
  if (nd < 0) return NULL;
  return lz__make(LZ_OP_MEDIAN, &p, &a, 1, at_least_float(a->dtype), shape, nd);
}
lz_array *lz_median(lz_array *a, bool keepdims) { return median(a, NULL, 0, true, keepdims); }
lz_array *lz_median_axis(lz_array *a, int axis, bool keepdims) {
  return median(a, &axis, 1, false, keepdims);
}
lz_array *lz_median_axes(lz_array *a, const int *axes, int naxes, bool keepdims) {
  return median(a, axes, naxes, false, keepdims);
}

/* ---- softmax: same shape; the axes form one lane ---- */

const lz_op_def lz_opdef_softmax = {
    .name = "softmax",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_reduce_params),
    .cpu = lz_cpu_softmax,
};

static lz_array *softmax(lz_array *a, const int *axes, int naxes, bool all) {
  lz_reduce_params p;
  int shape[LZ_MAX_NDIM];
  if (reduce_setup("lz_softmax", a, axes, naxes, all, true, &p, shape) < 0) return NULL;
  return lz__make(LZ_OP_SOFTMAX, &p, &a, 1, at_least_float(a->dtype), a->shape, a->ndim);
}
lz_array *lz_softmax(lz_array *a, bool precise) {
  (void)precise;
  return softmax(a, NULL, 0, true);
}
lz_array *lz_softmax_axis(lz_array *a, int axis, bool precise) {
  (void)precise;
  return softmax(a, &axis, 1, false);
}
lz_array *lz_softmax_axes(lz_array *a, const int *axes, int naxes, bool precise) {
  (void)precise;
  return softmax(a, axes, naxes, false);
}

/* ---- argmax / argmin over one axis, or the flattened array (axis = -1 in params, the lane
 * then being every dim) ---- */

static const int argmax_which = 1, argmin_which = 0;
const lz_op_def lz_opdef_argmax = {
    .name = "argmax",
    .flags = LZ_OPF_REDUCTION,
    .params_size = sizeof(lz_axis_params),
    .cpu = lz_cpu_argreduce,
    .impl = &argmax_which,
};
const lz_op_def lz_opdef_argmin = {
    .name = "argmin",
    .flags = LZ_OPF_REDUCTION,
    .params_size = sizeof(lz_axis_params),
    .cpu = lz_cpu_argreduce,
    .impl = &argmin_which,
};

static lz_array *argreduce(const char *name, int op, lz_array *a, int axis, bool all,
                           bool keepdims) {
  if (!lz__check_inputs(name, &a, 1)) return NULL;
  if (a->dtype == LZ_COMPLEX64) {
    lz__error(LZ_ERROR_DTYPE, name, "complex64 is not supported");
    return NULL;
  }
  lz_axis_params p;
  memset(&p, 0, sizeof p);
  p.axis = -1;
  if (!all && (p.axis = lz__norm_axis(name, axis, a->ndim)) < 0) return NULL;
  if (a->size == 0) {
    char s[256];
    lz__error(LZ_ERROR_INVALID_ARGUMENT, name, "cannot reduce a zero-size array of shape %s",
              lz__fmt_shape(s, sizeof s, a->shape, a->ndim));
    return NULL;
  }
  int shape[LZ_MAX_NDIM], nd = 0;
  for (int d = 0; d < a->ndim; d++) {
    bool red = all || d == p.axis;
    if (!red) shape[nd++] = a->shape[d];
    else if (keepdims) shape[nd++] = 1;
  }
  return lz__make(op, &p, &a, 1, LZ_UINT32, shape, nd);
}
lz_array *lz_argmax(lz_array *a, bool keepdims) {
  return argreduce("lz_argmax", LZ_OP_ARGMAX, a, 0, true, keepdims);
}
lz_array *lz_argmax_axis(lz_array *a, int axis, bool keepdims) {
  return argreduce("lz_argmax", LZ_OP_ARGMAX, a, axis, false, keepdims);
}
lz_array *lz_argmin(lz_array *a, bool keepdims) {
  return argreduce("lz_argmin", LZ_OP_ARGMIN, a, 0, true, keepdims);
}
lz_array *lz_argmin_axis(lz_array *a, int axis, bool keepdims) {
  return argreduce("lz_argmin", LZ_OP_ARGMIN, a, axis, false, keepdims);
}

/* ---- trace ---- */

const lz_op_def lz_opdef_trace = {
    .name = "trace",
    .flags = LZ_OPF_REDUCTION | LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_trace_params),
    .cpu = lz_cpu_trace,
};

lz_array *lz_trace(lz_array *a, int offset, int axis1, int axis2) {
  if (!lz__check_inputs("lz_trace", &a, 1)) return NULL;
  if (a->dtype == LZ_COMPLEX64) {
    lz__error(LZ_ERROR_DTYPE, "lz_trace", "complex64 is not supported");
    return NULL;
  }
  if (a->ndim < 2) {
    lz__error(LZ_ERROR_SHAPE, "lz_trace", "needs at least 2 dimensions, got %d", a->ndim);
    return NULL;
  }
  lz_trace_params p = {offset, lz__norm_axis("lz_trace", axis1, a->ndim), 0};
  if (p.axis1 < 0 || (p.axis2 = lz__norm_axis("lz_trace", axis2, a->ndim)) < 0) return NULL;
  if (p.axis1 == p.axis2) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_trace", "axis1 and axis2 are the same axis %d",
              p.axis1);
    return NULL;
  }
  int shape[LZ_MAX_NDIM], nd = 0;
  for (int d = 0; d < a->ndim; d++)
    if (d != p.axis1 && d != p.axis2) shape[nd++] = a->shape[d];
  return lz__make(LZ_OP_TRACE, &p, &a, 1, reduce_dtype(LZ_RK_SUM, a->dtype), shape, nd);
}
