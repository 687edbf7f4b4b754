/* Shared op-constructor helpers: broadcasting, promotion with weak scalars, casts, axes. */
#include "ops.h"

int lz__broadcast_shapes(const char *op, const int *a, int na, const int *b, int nb, int *out) {
  int n = na > nb ? na : nb;
  for (int i = 0; i < n; i++) {
    int da = i < n - na ? 1 : a[i - (n - na)];
    int db = i < n - nb ? 1 : b[i - (n - nb)];
    if (da != db && da != 1 && db != 1) {
      char sa[256], sb[256];
      lz__error(LZ_ERROR_SHAPE, op, "shapes %s and %s cannot be broadcast",
                lz__fmt_shape(sa, sizeof sa, a, na), lz__fmt_shape(sb, sizeof sb, b, nb));
      return -1;
    }
    out[i] = da == 1 ? db : da;
  }
  return n;
}

lz_dtype lz__result_type(const lz_array *a, const lz_array *b) {
  bool aw = a->flags & LZ_AF_WEAK, bw = b->flags & LZ_AF_WEAK;
  if (aw == bw) return lz_promote_types(a->dtype, b->dtype);
  const lz_array *strong = aw ? b : a, *weak = aw ? a : b;
  lz_dtype s = strong->dtype, w = weak->dtype;
  if (w == LZ_COMPLEX64) return LZ_COMPLEX64;
  if (lz_dtype_is_float(w) && !lz_dtype_is_float(s) && s != LZ_COMPLEX64) return LZ_FLOAT32;
  if (w != LZ_BOOL && s == LZ_BOOL) return w;
  return s;
}

/* The range of the integer dtypes a weak int must fit (MLX checks those narrower than 64 bits;
 * int64 and uint64 take any int64 value, wrapping negative ones as C does). */
static bool int_range(lz_dtype d, int64_t *lo, int64_t *hi) {
  switch (d) {
  case LZ_INT8:
    *lo = INT8_MIN, *hi = INT8_MAX;
    return true;
  case LZ_INT16:
    *lo = INT16_MIN, *hi = INT16_MAX;
    return true;
  case LZ_INT32:
    *lo = INT32_MIN, *hi = INT32_MAX;
    return true;
  case LZ_UINT8:
    *lo = 0, *hi = UINT8_MAX;
    return true;
  case LZ_UINT16:
    *lo = 0, *hi = UINT16_MAX;
    return true;
  case LZ_UINT32:
    *lo = 0, *hi = UINT32_MAX;
    return true;
  default:
    return false;
  }
}

/* 0 when `w` is not a weak int or fits `dtype`; else -1 with MLX's overflow error. */
static int weak_int_fits(const char *op, const lz_array *w, lz_dtype dtype) {
  int64_t lo, hi;
  if (!(w->flags & LZ_AF_WEAK) || w->node || !w->buf || w->ndim != 0) return 0;
  if ((w->dtype != LZ_INT32 && w->dtype != LZ_INT64) || !int_range(dtype, &lo, &hi)) return 0;
  int64_t v = lz__load_i64(lz__data_ptr(w), w->dtype);
  if (v >= lo && v <= hi) return 0;
  return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "Converting %lld to %s would result in overflow",
                   (long long)v, lz_dtype_name(dtype));
}

int lz__weak_check(const char *op, const lz_array *a, const lz_array *b) {
  bool aw = a->flags & LZ_AF_WEAK, bw = b->flags & LZ_AF_WEAK;
  if (aw == bw) return 0;
  return aw ? weak_int_fits(op, a, b->dtype) : weak_int_fits(op, b, a->dtype);
}

/* A weak scalar converted straight from its exact value: a weak float becomes float64 from its
 * double and any other dtype from its float32 (MLX rounds a Python float to float32 unless the
 * other operand is float64); a weak int must fit an integer target. */
static lz_array *weak_cast(const char *opname, lz_array *a, lz_dtype dtype) {
  /* Kernels' registry names lack the public prefix; the public ops' names (the hot path, e.g.
   * `x + 1`) have it and are used as they are, with no formatting per call. */
  char buf[64];
  const char *op = opname;
  if (strncmp(opname, "lz_", 3) != 0) {
    snprintf(buf, sizeof buf, "lz_%s", opname);
    op = buf;
  }
  lz_array *c = lz__array_new_data(dtype, NULL, 0, op);
  if (!c) return NULL;
  if (a->dtype == LZ_FLOAT32 && dtype == LZ_FLOAT64) {
    memcpy(c->buf->data, a->buf->inline_data + LZ_WEAK_EXACT_OFFSET, sizeof(double));
    return c;
  }
  if (weak_int_fits(op, a, dtype) != 0) {
    lz__array_decref(c);
    return NULL;
  }
  lz__convert(c->buf->data, dtype, lz__data_ptr(a), a->dtype, 1);
  return c;
}

lz_array *lz__cast(const char *op, lz_array *a, lz_dtype dtype) {
  if (a->dtype == dtype) return a;
  if (!a->node && a->ndim == 0 && a->buf) { /* a constant: convert now, no node */
    lz_array *c = (a->flags & LZ_AF_WEAK) ? weak_cast(op, a, dtype) : lz__constant_cast(a, dtype);
    return c ? lz__track(c) : NULL;
  }
  return lz_astype(a, dtype);
}

int lz__norm_axis(const char *op, int axis, int ndim) {
  int ax = axis < 0 ? axis + ndim : axis;
  if (ax < 0 || ax >= ndim) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "axis %d is out of bounds for array of dimension %d",
              axis, ndim);
    return -1;
  }
  return ax;
}

int lz__norm_axes(const char *op, const int *axes, int naxes, int ndim, int *out) {
  if (naxes < 0 || naxes > ndim || (naxes > 0 && !axes)) {
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%d axes given for an array of dimension %d",
                     naxes, ndim);
  }
  bool seen[LZ_MAX_NDIM] = {false};
  for (int i = 0; i < naxes; i++) {
    int ax = lz__norm_axis(op, axes[i], ndim);
    if (ax < 0) return -1;
    if (seen[ax]) return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "repeated axis %d", axes[i]);
    seen[ax] = true;
    out[i] = ax;
  }
  return 0;
}
