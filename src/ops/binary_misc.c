/* Binary ops beyond one loop per dtype: divmod (one node, two outputs), isclose, allclose and
 * array_equal (a bool reduction to 0-d; complex NaNs compared part by part), and clip (a
 * composition, as in MLX). */
#include "binary_impl.h"

/* ---- divmod ---- */

const lz_op_def lz_opdef_divmod = {
    .name = "divmod",
    .flags = LZ_OPF_ELEMENTWISE | LZ_OPF_DIFFERENTIABLE,
    .cpu = lz_cpu_binary,
    .impl = lz_cpu_divmod_loops,
};

int lz_divmod(lz_array *a, lz_array *b, lz_array *out[2]) {
  if (!out) {
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_divmod", "out is NULL");
  }
  return lz__binary_make("lz_divmod", LZ_OP_DIVMOD, LZ_BIN_ARITH, a, b, NULL, 2, out);
}

/* ---- closeness and equality ---- */

LZ_BINARY_OPDEF(isclose, 0, sizeof(lz_isclose_params))

lz_array *lz_isclose(lz_array *a, lz_array *b, double rtol, double atol, bool equal_nan) {
  lz_isclose_params p = {rtol, atol, equal_nan};
  return lz__binary("lz_isclose", LZ_OP_ISCLOSE, LZ_BIN_COMPARE, a, b, &p);
}

/* all_true: internal, a 0-d bool saying whether every element of a bool array is true. */
const lz_op_def lz_opdef_all_true = {
    .name = "all_true",
    .flags = LZ_OPF_REDUCTION,
    .cpu = lz_cpu_all_true,
};

/* Reduces (and releases) the bool array `x`. */
static lz_array *all_true(lz_array *x) {
  if (!x) return NULL;
  lz_array *out = lz__make(LZ_OP_ALL_TRUE, NULL, &x, 1, LZ_BOOL, NULL, 0);
  lz_free(x);
  return out;
}

lz_array *lz_allclose(lz_array *a, lz_array *b, double rtol, double atol, bool equal_nan) {
  return all_true(lz_isclose(a, b, rtol, atol, equal_nan));
}

lz_array *lz_array_equal(lz_array *a, lz_array *b, bool equal_nan) {
  lz_array *in[2] = {a, b};
  if (!lz__check_inputs("lz_array_equal", in, 2)) return NULL;
  bool same = a->ndim == b->ndim;
  for (int d = 0; same && d < a->ndim; d++) same = a->shape[d] == b->shape[d];
  if (!same) return lz_scalar(0, LZ_BOOL);
  lz_dtype ct = lz__result_type(a, b);
  lz_isclose_params p = {0, 0, true}; /* |a - b| <= 0, NaN equal to NaN */
  if (equal_nan && lz_dtype_is_float(ct))
    return all_true(lz__binary("lz_array_equal", LZ_OP_ISCLOSE, LZ_BIN_COMPARE, a, b, &p));
  if (equal_nan && ct == LZ_COMPLEX64) { /* as MLX: each part equal or NaN in both */
    lz_scope_begin();
    lz_array *ac = lz_astype(a, ct), *bc = lz_astype(b, ct);
    lz_array *re = lz__binary("lz_array_equal", LZ_OP_ISCLOSE, LZ_BIN_COMPARE, lz_real(ac),
                              lz_real(bc), &p);
    lz_array *im = lz__binary("lz_array_equal", LZ_OP_ISCLOSE, LZ_BIN_COMPARE, lz_imag(ac),
                              lz_imag(bc), &p);
    lz_array *out = lz_keep(all_true(lz_logical_and(re, im)));
    lz_scope_end();
    return out;
  }
  return all_true(lz__binary("lz_array_equal", LZ_OP_EQUAL, LZ_BIN_COMPARE, a, b, NULL));
}

/* ---- clip ---- */

lz_array *lz_clip(lz_array *a, lz_array *a_min, lz_array *a_max) {
  if (!lz__check_inputs("lz_clip", &a, 1)) return NULL;
  if (!a_min && !a_max) {
    if (!lz__has_error())
      lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_clip", "a_min and a_max are both NULL");
    return NULL;
  }
  if (!a_max) return lz_maximum(a, a_min);
  if (!a_min) return lz_minimum(a, a_max);
  lz_array *lo = lz_maximum(a, a_min);
  lz_array *out = lz_minimum(lo, a_max);
  lz_free(lo);
  return out;
}
