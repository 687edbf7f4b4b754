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

lz_array *lz__cast(lz_array *a, lz_dtype dtype) {
  if (a->dtype == dtype) return a;
  if (!a->node && a->ndim == 0 && a->buf) { /* a constant: convert now, no node */
    lz_array *c = lz__constant_cast(a, dtype);
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
