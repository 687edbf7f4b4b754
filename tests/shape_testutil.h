/* Helpers shared by the shape tests: inputs built like the NumPy script's (arange reshaped),
 * in any dtype, and comparisons against tests/data/shape_refs.h. */
#ifndef LZ_SHAPE_TESTUTIL_H
#define LZ_SHAPE_TESTUTIL_H

#include "data/shape_refs.h"
#include "lz_test.h"

/* start, start+1, ... in row-major order, shaped `shape`, of dtype dt. bool holds v != 0;
 * complex64 holds v - v*i, so both parts are checked. */
static lz_array *iota_shape(lz_dtype dt, double start, const int *shape, int nd) {
  int64_t n = 1;
  for (int d = 0; d < nd; d++) n *= shape[d];
  if (dt != LZ_BOOL && dt != LZ_COMPLEX64)
    return lz_reshape(lz_arange(start, start + (double)n, 1, dt), shape, nd);
  float *buf = malloc((size_t)(n ? n : 1) * 2 * sizeof(float));
  for (int64_t i = 0; i < n; i++) {
    float v = (float)(start + (double)i);
    if (dt == LZ_BOOL)
      ((unsigned char *)buf)[i] = v != 0;
    else
      buf[2 * i] = v, buf[2 * i + 1] = -v;
  }
  lz_array *a = lz_array_from_data(buf, shape, nd, dt);
  free(buf);
  return a;
}
#define IOTA(dt, start, ...)                                                                       \
  iota_shape(dt, start, (const int[]){__VA_ARGS__},                                                \
             (int)(sizeof((const int[]){__VA_ARGS__}) / sizeof(int)))

/* Checks shape and values of `a` against a reference, mapped into the dtype of `a` the way
 * iota_shape maps values (bool: v != 0; complex64: v - v*i, read from the raw data). */
static void lzt_check_ref(const char *file, int line, lz_array *a, const int *shape, int ndim,
                          const double *ref, int size, double tol) {
  lzt_check_shape(file, line, a, shape, ndim);
  if (!a || lz_array_size(a) != (size_t)size) return;
  lz_dtype dt = lz_array_dtype(a);
  double *want = malloc((size_t)(size ? size : 1) * sizeof(double));
  for (int i = 0; i < size; i++) want[i] = dt == LZ_BOOL ? (ref[i] != 0) : ref[i];
  if (dt == LZ_COMPLEX64) {
    const float *d = lz_array_data(a);
    lzt_checks++;
    for (int i = 0; d && i < size; i++) {
      if (d[2 * i] != (float)want[i] || d[2 * i + 1] != -(float)want[i]) {
        lzt_failures++;
        fprintf(stderr, "%s:%d: %s: complex element %d = %g%+gi, expected %g%+gi\n", file, line,
                lzt_current, i, d[2 * i], d[2 * i + 1], want[i], -want[i]);
        break;
      }
    }
    if (!d) lzt_failures++;
  } else {
    lzt_check_values(file, line, a, want, (size_t)size, tol);
  }
  free(want);
}
#define CHECK_REF(a, NAME, tol)                                                                    \
  lzt_check_ref(__FILE__, __LINE__, a, ref_##NAME##_shape, ref_##NAME##_ndim, ref_##NAME,          \
                ref_##NAME##_size, tol)

#endif /* LZ_SHAPE_TESTUTIL_H */
