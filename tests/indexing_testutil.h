/* Helpers shared by the indexing and scatter tests: arrays from NumPy reference data, checks
 * against it, and eval-time error checks. */
#ifndef LZ_INDEXING_TESTUTIL_H
#define LZ_INDEXING_TESTUTIL_H

#include "lz_test.h"

static lz_array *ref(const double *d, const int *shape, int ndim, lz_dtype dt) {
  lz_array *x = lz_array_from_data(d, shape, ndim, LZ_FLOAT64);
  return dt == LZ_FLOAT64 ? x : lz_astype(x, dt);
}
#define REF(name, dt) ref(name, name##_shape, name##_ndim, dt)

static void check_ref(const char *file, int line, lz_array *a, const double *want, const int *shape,
                      int ndim, size_t n, double tol) {
  lzt_check_shape(file, line, a, shape, ndim);
  lzt_check_values(file, line, a, want, n, tol);
}
#define CHECK_REF(a, name, tol)                                                                    \
  check_ref(__FILE__, __LINE__, a, name, name##_shape, name##_ndim, name##_size, tol)

/* Checks that evaluating `x` fails with a message containing `needle`. */
static void check_eval_error(const char *file, int line, lz_array *x, const char *needle) {
  lzt_checks++;
  int rc = x ? lz_eval(x) : -1;
  if (rc == 0 || !strstr(lz_last_error(), needle)) {
    lzt_failures++;
    fprintf(stderr, "%s:%d: %s: expected an eval error containing \"%s\", got rc %d \"%s\"\n", file,
            line, lzt_current, needle, rc, lz_last_error());
  }
  lz_clear_error();
}
#define CHECK_EVAL_ERROR(x, needle) check_eval_error(__FILE__, __LINE__, x, needle)

static lz_array *i32(const int *v, const int *shape, int ndim) {
  return lz_array_from_data(v, shape, ndim, LZ_INT32);
}

#endif /* LZ_INDEXING_TESTUTIL_H */
