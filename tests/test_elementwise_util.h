/* Helpers shared by the elementwise tests: building inputs of any dtype from doubles, strided
 * views made the internal way (so kernels see strided, offset and reversed inputs), and ulp
 * distances. */
#ifndef LZ_TEST_ELEMENTWISE_UTIL_H
#define LZ_TEST_ELEMENTWISE_UTIL_H

#include <float.h>
#include <stdint.h>

#include "core/internal.h"
#include "lz_test.h"

/* An evaluated array of `dtype` holding `vals` (converted) in `shape`. */
static inline lz_array *lzt_make(const double *vals, const int *shape, int ndim, lz_dtype dtype) {
  lz_array *f = lz_array_from_data(vals, shape, ndim, LZ_FLOAT64);
  lz_array *a = lz_astype(f, dtype);
  lz_free(f);
  if (a && lz_eval(a) != 0) return NULL;
  return a;
}

/* A view of the evaluated `base` with the given shape, element strides and element offset
 * (relative to base's own offset). The scope owns it. */
static inline lz_array *lzt_view(lz_array *base, const int *shape, int ndim,
                                 const int64_t *strides, int64_t offset) {
  if (!base || lz_eval(base) != 0) return NULL;
  lz_array *v = lz__array_alloc(base->dtype, shape, ndim);
  if (!v) return NULL;
  lz__set_view(v, base, offset, strides);
  return lz__track(v);
}

/* The 1-D values `vals` (n of them) as a stride-2 view into a buffer of 2n + 1 elements that
 * starts one element in (odd strides, an offset, an unaligned first element). */
static inline lz_array *lzt_make_strided(const double *vals, int n, lz_dtype dtype) {
  double *buf = calloc((size_t)(2 * n + 1), sizeof(double));
  for (int i = 0; i < n; i++) buf[1 + 2 * i] = vals[i], buf[2 * i] = -7; /* junk between */
  int bs[1] = {2 * n + 1};
  lz_array *base = lzt_make(buf, bs, 1, dtype);
  free(buf);
  int shape[1] = {n};
  int64_t st[1] = {2};
  return lzt_view(base, shape, 1, st, 1);
}

/* `vals` in `shape` as a view whose strides are twice the contiguous ones, starting one element
 * into its buffer: every dimension is strided. */
static inline lz_array *lzt_make_strided_shape(const double *vals, const int *shape, int ndim,
                                               lz_dtype dtype) {
  int n = 1;
  for (int d = 0; d < ndim; d++) n *= shape[d];
  double *buf = calloc((size_t)(2 * n + 1), sizeof(double));
  for (int i = 0; i < n; i++) buf[1 + 2 * i] = vals[i], buf[2 * i] = -7;
  int bs[1] = {2 * n + 1};
  lz_array *base = lzt_make(buf, bs, 1, dtype);
  free(buf);
  int64_t st[LZ_MAX_NDIM], s = 2;
  for (int d = ndim - 1; d >= 0; d--) st[d] = s, s *= shape[d];
  return lzt_view(base, shape, ndim, st, 1);
}

/* `vals` in `shape` stored backwards: every stride negative. */
static inline lz_array *lzt_make_reversed_shape(const double *vals, const int *shape, int ndim,
                                                lz_dtype dtype) {
  int n = 1;
  for (int d = 0; d < ndim; d++) n *= shape[d];
  double *buf = malloc((size_t)(n ? n : 1) * sizeof(double));
  for (int i = 0; i < n; i++) buf[n - 1 - i] = vals[i];
  int bs[1] = {n};
  lz_array *base = lzt_make(buf, bs, 1, dtype);
  free(buf);
  int64_t st[LZ_MAX_NDIM], s = -1;
  for (int d = ndim - 1; d >= 0; d--) st[d] = s, s *= shape[d];
  return lzt_view(base, shape, ndim, st, n - 1);
}

/* The 1-D values as a reversed (negative-stride) view. */
static inline lz_array *lzt_make_reversed(const double *vals, int n, lz_dtype dtype) {
  double *buf = malloc((size_t)(n ? n : 1) * sizeof(double));
  for (int i = 0; i < n; i++) buf[n - 1 - i] = vals[i];
  int bs[1] = {n};
  lz_array *base = lzt_make(buf, bs, 1, dtype);
  free(buf);
  int shape[1] = {n};
  int64_t st[1] = {-1};
  return lzt_view(base, shape, 1, st, n - 1);
}

/* Distance in float32 ulps between a float result and the exact value `ref`. */
static inline double lzt_ulps(float got, double ref) {
  if (isnan(got) && isnan(ref)) return 0;
  if ((double)got == ref) return 0;
  if (isinf(ref) || isnan(ref) || isnan(got) || isinf(got)) return INFINITY;
  float r = (float)ref;
  float a = fabsf(r) < FLT_MIN ? FLT_MIN : fabsf(r);
  double ulp = (double)nextafterf(a, INFINITY) - (double)a;
  return fabs((double)got - ref) / ulp;
}

#endif /* LZ_TEST_ELEMENTWISE_UTIL_H */
