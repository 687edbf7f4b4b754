/* Unary ops around float classes, logic, complex parts and identity-like nodes: isnan & co,
 * nan_to_num, logical_not, bitwise_invert, conj/real/imag, stop_gradient, view. */
#include <float.h>

#include "unary_impl.h"

/* ---- float classes: integer and bool inputs give a constant (a stride-0 lz_full) ---- */

LZ_UNARY_OPDEF(isnan, 0, 0)
LZ_UNARY_OPDEF(isinf, 0, 0)
LZ_UNARY_OPDEF(isfinite, 0, 0)
LZ_UNARY_OPDEF(isposinf, 0, 0)
LZ_UNARY_OPDEF(isneginf, 0, 0)

static lz_array *float_class(const char *name, int op, lz_array *a, bool int_answer) {
  if (!lz__check_inputs(name, &a, 1)) return NULL;
  if (a->dtype == LZ_BOOL || lz_dtype_is_integer(a->dtype))
    return lz_full(a->shape, a->ndim, int_answer ? 1.0 : 0.0, LZ_BOOL);
  return lz__unary_make(name, op, a, LZ_BOOL, NULL);
}
lz_array *lz_isnan(lz_array *a) { return float_class("lz_isnan", LZ_OP_ISNAN, a, false); }
lz_array *lz_isinf(lz_array *a) { return float_class("lz_isinf", LZ_OP_ISINF, a, false); }
lz_array *lz_isfinite(lz_array *a) { return float_class("lz_isfinite", LZ_OP_ISFINITE, a, true); }
lz_array *lz_isposinf(lz_array *a) { return float_class("lz_isposinf", LZ_OP_ISPOSINF, a, false); }
lz_array *lz_isneginf(lz_array *a) { return float_class("lz_isneginf", LZ_OP_ISNEGINF, a, false); }

/* ---- nan_to_num ---- */

LZ_UNARY_OPDEF(nan_to_num, LZ_OPF_DIFFERENTIABLE, sizeof(lz_nan_to_num_params))

static double dtype_max(lz_dtype d) {
  switch (d) {
  case LZ_FLOAT16: return 65504.0;
  case LZ_BFLOAT16: return 3.3895313892515355e38;
  case LZ_FLOAT32: return FLT_MAX;
  default: return DBL_MAX;
  }
}

lz_array *lz_nan_to_num(lz_array *a, double nan, const double *posinf, const double *neginf) {
  if (!lz__check_inputs("lz_nan_to_num", &a, 1)) return NULL;
  if (a->dtype == LZ_BOOL || lz_dtype_is_integer(a->dtype)) return lz_retain(a);
  double big = dtype_max(a->dtype);
  lz_nan_to_num_params p = {nan, posinf ? *posinf : big, neginf ? *neginf : -big};
  return lz__unary_make("lz_nan_to_num", LZ_OP_NAN_TO_NUM, a, a->dtype, &p);
}

/* ---- logic ---- */

LZ_UNARY_OPDEF(logical_not, 0, 0)
LZ_UNARY_OPDEF(bitwise_invert, 0, 0)

lz_array *lz_logical_not(lz_array *a) {
  if (!lz__check_inputs("lz_logical_not", &a, 1)) return NULL;
  lz_array *b = lz__cast("lz_logical_not", a, LZ_BOOL);
  if (!b) return NULL;
  lz_array *out = lz__unary_make("lz_logical_not", LZ_OP_LOGICAL_NOT, b, LZ_BOOL, NULL);
  lz__uncast(b, a);
  return out;
}

lz_array *lz_bitwise_invert(lz_array *a) {
  if (!lz__check_inputs("lz_bitwise_invert", &a, 1)) return NULL;
  if (a->dtype == LZ_BOOL) return lz_logical_not(a);
  return lz__unary_make("lz_bitwise_invert", LZ_OP_BITWISE_INVERT, a, a->dtype, NULL);
}

/* ---- complex parts ---- */

LZ_UNARY_OPDEF(conjugate, LZ_OPF_DIFFERENTIABLE, 0)
LZ_UNARY_OPDEF(real, LZ_OPF_DIFFERENTIABLE, 0)
LZ_UNARY_OPDEF(imag, LZ_OPF_DIFFERENTIABLE, 0)

lz_array *lz_conj(lz_array *a) {
  if (!lz__check_inputs("lz_conj", &a, 1)) return NULL;
  if (a->dtype != LZ_COMPLEX64) return lz_retain(a);
  return lz__unary_make("lz_conj", LZ_OP_CONJUGATE, a, LZ_COMPLEX64, NULL);
}
lz_array *lz_conjugate(lz_array *a) { return lz_conj(a); }

lz_array *lz_real(lz_array *a) {
  if (!lz__check_inputs("lz_real", &a, 1)) return NULL;
  if (a->dtype != LZ_COMPLEX64) return lz_retain(a);
  return lz__unary_make("lz_real", LZ_OP_REAL, a, LZ_FLOAT32, NULL);
}

lz_array *lz_imag(lz_array *a) {
  if (!lz__check_inputs("lz_imag", &a, 1)) return NULL;
  if (a->dtype != LZ_COMPLEX64) return lz_zeros_like(a);
  return lz__unary_make("lz_imag", LZ_OP_IMAG, a, LZ_FLOAT32, NULL);
}

/* ---- identity-like ---- */

/* Not differentiable on purpose: the transforms treat it as a constant. */
const lz_op_def lz_opdef_stop_gradient = {
    .name = "stop_gradient",
    .flags = LZ_OPF_ELEMENTWISE | LZ_OPF_VIEW,
    .cpu = lz_cpu_stop_gradient,
};

lz_array *lz_stop_gradient(lz_array *a) {
  if (!lz__check_inputs("lz_stop_gradient", &a, 1)) return NULL;
  return lz__make(LZ_OP_STOP_GRADIENT, NULL, &a, 1, a->dtype, a->shape, a->ndim);
}

const lz_op_def lz_opdef_view = {
    .name = "view",
    .cpu = lz_cpu_view,
};

lz_array *lz_view(lz_array *a, lz_dtype dtype) {
  if (!lz__check_inputs("lz_view", &a, 1)) return NULL;
  if (!lz__dtype_valid(dtype)) {
    lz__error(LZ_ERROR_DTYPE, "lz_view", "invalid dtype %d", (int)dtype);
    return NULL;
  }
  if (a->dtype == dtype) return lz_retain(a);
  int shape[LZ_MAX_NDIM];
  memcpy(shape, a->shape, (size_t)a->ndim * sizeof(int));
  int ib = (int)lz_dtype_size(a->dtype), ob = (int)lz_dtype_size(dtype);
  if (ib != ob) {
    char s[256];
    if (a->ndim == 0) {
      lz__error(LZ_ERROR_SHAPE, "lz_view",
                "a 0-d %s cannot be viewed as %s: the item sizes differ (%d and %d bytes)",
                lz_dtype_name(a->dtype), lz_dtype_name(dtype), ib, ob);
      return NULL;
    }
    int *last = &shape[a->ndim - 1];
    if (ib < ob && (int64_t)*last * ib % ob != 0) {
      lz__error(LZ_ERROR_SHAPE, "lz_view",
                "cannot view shape %s of %s as %s: the last axis holds %lld bytes, not a "
                "multiple of %d",
                lz__fmt_shape(s, sizeof s, a->shape, a->ndim), lz_dtype_name(a->dtype),
                lz_dtype_name(dtype), (long long)*last * ib, ob);
      return NULL;
    }
    int64_t grown = ib < ob ? *last / (ob / ib) : (int64_t)*last * (ib / ob);
    if (grown > INT32_MAX) {
      lz__error(LZ_ERROR_SHAPE, "lz_view", "the last axis of %s would have %lld elements",
                lz__fmt_shape(s, sizeof s, a->shape, a->ndim), (long long)grown);
      return NULL;
    }
    *last = (int)grown;
  }
  return lz__make(LZ_OP_VIEW, NULL, &a, 1, dtype, shape, a->ndim);
}
