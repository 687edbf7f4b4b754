/* Ops whose result shape depends on data: nonzero, unique and mask_select. Each evaluates what
 * decides the shape when it is called (an implicit evaluation, like lz_item_*). nonzero and
 * unique then compute their result at once; mask_select records a lazy node that reads `a`. */
#include <math.h>
#include <stdlib.h>

#include "indexing_impl.h"

/* Evaluates `a` and returns its row-major data, or NULL with the error set. */
static const char *eval_data(lz_array *a) { return lz_array_data(a); }

static bool is_nonzero(const char *p, lz_dtype d) {
  switch (d) {
  case LZ_FLOAT16:
  case LZ_BFLOAT16:
  case LZ_FLOAT32:
  case LZ_FLOAT64:
    return lz__load_f64(p, d) != 0;
  case LZ_COMPLEX64: {
    lz_complex64 c;
    memcpy(&c, p, sizeof c);
    return c.re != 0 || c.im != 0;
  }
  default: /* bool and integers: any set bit */
    for (size_t i = 0; i < lz_dtype_size(d); i++)
      if (p[i]) return true;
    return false;
  }
}

/* ---- nonzero ------------------------------------------------------------------------------ */

lz_array *lz_nonzero(lz_array *a) {
  const char *op = "lz_nonzero";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  const char *data = eval_data(a);
  if (!data) return NULL;
  size_t sz = lz_dtype_size(a->dtype);
  int n = 0;
  for (int64_t i = 0; i < a->size; i++) n += is_nonzero(data + i * (int64_t)sz, a->dtype);
  int shape[2] = {n, a->ndim};
  lz_array *out = lz__array_new_data(LZ_INT32, shape, 2, op);
  if (!out) return NULL;
  int32_t *o = (int32_t *)lz__data_ptr(out);
  int c[LZ_MAX_NDIM] = {0};
  for (int64_t i = 0; i < a->size; i++) {
    if (is_nonzero(data + i * (int64_t)sz, a->dtype)) {
      memcpy(o, c, (size_t)a->ndim * sizeof(int32_t));
      o += a->ndim;
    }
    for (int d = a->ndim - 1; d >= 0 && ++c[d] == a->shape[d]; d--) c[d] = 0;
  }
  return lz__track(out);
}

/* ---- unique ------------------------------------------------------------------------------- */

typedef struct keyed {
  union {
    int64_t i;
    uint64_t u;
    double f;
  } k;
  int64_t pos; /* element of the flattened input */
} keyed;

static int cmp_i(const void *x, const void *y) {
  int64_t a = ((const keyed *)x)->k.i, b = ((const keyed *)y)->k.i;
  return (a > b) - (a < b);
}
static int cmp_u(const void *x, const void *y) {
  uint64_t a = ((const keyed *)x)->k.u, b = ((const keyed *)y)->k.u;
  return (a > b) - (a < b);
}
static int cmp_f(const void *x, const void *y) { /* NaN sorts after everything */
  double a = ((const keyed *)x)->k.f, b = ((const keyed *)y)->k.f;
  if (isnan(a) || isnan(b)) return isnan(a) - isnan(b);
  return (a > b) - (a < b);
}

static bool same_key(const keyed *x, const keyed *y, int kind) {
  if (kind == 2) return x->k.f == y->k.f || (isnan(x->k.f) && isnan(y->k.f));
  return kind == 1 ? x->k.u == y->k.u : x->k.i == y->k.i;
}

lz_array *lz_unique(lz_array *a, lz_array **inverse, lz_array **counts) {
  const char *op = "lz_unique";
  if (inverse) *inverse = NULL;
  if (counts) *counts = NULL;
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  if (a->dtype == LZ_COMPLEX64) {
    lz__error(LZ_ERROR_DTYPE, op, "not supported for complex64");
    return NULL;
  }
  if (a->size > INT32_MAX) {
    lz__error(LZ_ERROR_SHAPE, op, "%lld elements is too many", (long long)a->size);
    return NULL;
  }
  const char *data = eval_data(a);
  if (!data) return NULL;
  int kind = lz_dtype_is_float(a->dtype) ? 2 : lz_dtype_is_signed(a->dtype) ? 0 : 1;
  size_t sz = lz_dtype_size(a->dtype);
  int64_t n = a->size;
  keyed *ks = lz__malloc((size_t)(n ? n : 1) * sizeof *ks);
  if (!ks) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory sorting %lld elements", (long long)n);
    return NULL;
  }
  for (int64_t i = 0; i < n; i++) {
    const char *p = data + i * (int64_t)sz;
    if (kind == 2)
      ks[i].k.f = lz__load_f64(p, a->dtype);
    else if (kind == 0)
      ks[i].k.i = lz__load_i64(p, a->dtype);
    else
      ks[i].k.u =
          a->dtype == LZ_UINT64 ? *(const uint64_t *)p : (uint64_t)lz__load_i64(p, a->dtype);
    ks[i].pos = i;
  }
  qsort(ks, (size_t)n, sizeof *ks, kind == 2 ? cmp_f : kind == 1 ? cmp_u : cmp_i);
  int nu = 0;
  for (int64_t i = 0; i < n; i++) nu += i == 0 || !same_key(&ks[i], &ks[i - 1], kind);
  int ishape[1] = {(int)n}, ushape[1] = {nu};
  lz_array *out = lz__array_new_data(a->dtype, ushape, 1, op);
  lz_array *inv = out && inverse ? lz__array_new_data(LZ_INT32, ishape, 1, op) : NULL;
  lz_array *cnt = out && counts ? lz__array_new_data(LZ_INT32, ushape, 1, op) : NULL;
  if (!out || (inverse && !inv) || (counts && !cnt)) {
    free(ks);
    if (out) lz__array_decref(out);
    if (inv) lz__array_decref(inv);
    return NULL;
  }
  char *o = lz__data_ptr(out);
  int32_t *iv = inv ? (int32_t *)lz__data_ptr(inv) : NULL;
  int32_t *cv = cnt ? (int32_t *)lz__data_ptr(cnt) : NULL;
  int u = -1;
  for (int64_t i = 0; i < n; i++) {
    if (i == 0 || !same_key(&ks[i], &ks[i - 1], kind)) {
      u++;
      memcpy(o + (int64_t)u * (int64_t)sz, data + ks[i].pos * (int64_t)sz, sz);
      if (cv) cv[u] = 0;
    }
    if (iv) iv[ks[i].pos] = u;
    if (cv) cv[u]++;
  }
  free(ks);
  if (inverse) *inverse = lz__track(inv);
  if (counts) *counts = lz__track(cnt);
  return lz__track(out);
}

/* ---- mask_select -------------------------------------------------------------------------- */

const lz_op_def lz_opdef_mask_select = {
    .name = "mask_select",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .cpu = lz_cpu_mask_select,
};

lz_array *lz_mask_select(lz_array *a, lz_array *mask) {
  const char *op = "lz_mask_select";
  lz_array *in[2] = {a, mask};
  if (!lz__check_inputs(op, in, 2)) return NULL;
  if (mask->dtype != LZ_BOOL) {
    lz__error(LZ_ERROR_DTYPE, op, "the mask must be bool, got %s", lz_dtype_name(mask->dtype));
    return NULL;
  }
  bool ok = mask->ndim <= a->ndim;
  for (int d = 0; ok && d < mask->ndim; d++) ok = mask->shape[d] == a->shape[d];
  if (!ok) {
    char sm[256], sa[256];
    lz__error(LZ_ERROR_SHAPE, op, "mask of shape %s does not match the leading dims of %s",
              lz__fmt_shape(sm, sizeof sm, mask->shape, mask->ndim),
              lz__fmt_shape(sa, sizeof sa, a->shape, a->ndim));
    return NULL;
  }
  int nd = 1 + a->ndim - mask->ndim;
  if (nd > LZ_MAX_NDIM) {
    lz__error(LZ_ERROR_SHAPE, op, "the result would have %d dims (at most %d)", nd, LZ_MAX_NDIM);
    return NULL;
  }
  const char *m = eval_data(mask);
  if (!m) return NULL;
  int count = 0;
  for (int64_t i = 0; i < mask->size; i++) count += m[i] != 0;
  int shape[LZ_MAX_NDIM];
  shape[0] = count;
  for (int d = mask->ndim; d < a->ndim; d++) shape[1 + d - mask->ndim] = a->shape[d];
  return lz__make(LZ_OP_MASK_SELECT, NULL, in, 2, a->dtype, shape, nd);
}
