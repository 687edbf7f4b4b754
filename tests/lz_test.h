/* A small test harness: TEST functions, CHECK macros that record and continue, and a main
 * that runs them, checks that each leaves no error pending and no array memory behind, and
 * prints "N passed, N failed". */
#ifndef LZ_TEST_H
#define LZ_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazuli.h"

static int lzt_failures, lzt_checks;
static const char *lzt_current;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    lzt_checks++;                                                                                  \
    if (!(cond)) {                                                                                 \
      lzt_failures++;                                                                              \
      fprintf(stderr, "%s:%d: %s: CHECK(%s) failed (last error: %s)\n", __FILE__, __LINE__,        \
              lzt_current, #cond, lz_last_error());                                                \
    }                                                                                              \
  } while (0)

#define CHECK_CLOSE(a, b, tol)                                                                     \
  do {                                                                                             \
    double lzt_a = (double)(a), lzt_b = (double)(b);                                               \
    lzt_checks++;                                                                                  \
    if (!(fabs(lzt_a - lzt_b) <= (tol) * (1 + fabs(lzt_b))) && !(isnan(lzt_a) && isnan(lzt_b)) &&  \
        !(lzt_a == lzt_b)) {                                                                       \
      lzt_failures++;                                                                              \
      fprintf(stderr, "%s:%d: %s: %s = %.9g, expected %s = %.9g\n", __FILE__, __LINE__,            \
              lzt_current, #a, lzt_a, #b, lzt_b);                                                  \
    }                                                                                              \
  } while (0)

/* Checks that an op failed with a message containing `needle`, then clears the error. */
#define CHECK_ERROR(expr, needle)                                                                  \
  do {                                                                                             \
    lz_clear_error();                                                                              \
    lzt_checks++;                                                                                  \
    void *lzt_r = (void *)(expr);                                                                  \
    if (lzt_r != NULL || strstr(lz_last_error(), (needle)) == NULL) {                              \
      lzt_failures++;                                                                              \
      fprintf(stderr, "%s:%d: %s: expected an error containing \"%s\", got %s \"%s\"\n", __FILE__, \
              __LINE__, lzt_current, (needle), lzt_r ? "a result and" : "", lz_last_error());      \
    }                                                                                              \
    lz_clear_error();                                                                              \
  } while (0)

/* Compares an array's values (read as float64) to `expected` within tol. */
static inline void lzt_check_values(const char *file, int line, lz_array *a, const double *expected,
                                    size_t n, double tol) {
  lzt_checks++;
  if (!a || lz_array_size(a) != n) {
    lzt_failures++;
    fprintf(stderr, "%s:%d: %s: array %s, size %zu, expected size %zu (%s)\n", file, line,
            lzt_current, a ? "present" : "NULL", a ? lz_array_size(a) : 0, n, lz_last_error());
    return;
  }
  double *got = malloc((n ? n : 1) * sizeof(double));
  if (lz_array_read(a, LZ_FLOAT64, got, n * sizeof(double)) != 0) {
    lzt_failures++;
    fprintf(stderr, "%s:%d: %s: read failed: %s\n", file, line, lzt_current, lz_last_error());
    free(got);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    double g = got[i], e = expected[i];
    bool ok = (isnan(g) && isnan(e)) || g == e || fabs(g - e) <= tol * (1 + fabs(e));
    if (!ok) {
      lzt_failures++;
      fprintf(stderr, "%s:%d: %s: element %zu = %.9g, expected %.9g\n", file, line, lzt_current, i,
              g, e);
      break;
    }
  }
  free(got);
}
#define CHECK_VALUES(a, expected, n, tol) lzt_check_values(__FILE__, __LINE__, a, expected, n, tol)

static inline void lzt_check_shape(const char *file, int line, lz_array *a, const int *shape,
                                   int ndim) {
  lzt_checks++;
  bool ok = a && lz_array_ndim(a) == ndim;
  for (int i = 0; ok && i < ndim; i++) ok = lz_array_shape(a)[i] == shape[i];
  if (!ok) {
    lzt_failures++;
    fprintf(stderr, "%s:%d: %s: unexpected shape (ndim %d) %s\n", file, line, lzt_current,
            a ? lz_array_ndim(a) : -1, lz_last_error());
  }
}
#define CHECK_SHAPE(a, ...)                                                                        \
  do {                                                                                             \
    const int lzt_s[] = {__VA_ARGS__};                                                             \
    lzt_check_shape(__FILE__, __LINE__, a, lzt_s, (int)(sizeof lzt_s / sizeof lzt_s[0]));          \
  } while (0)

/* Runs one test inside a scope; afterwards no error may be pending and no array memory live. */
/* A float32 array of the given shape, uniform in [-1, 1) from a linear congruential sequence. */
static inline lz_array *lzt_uniform(const int *shape, int nd, unsigned seed) {
  size_t n = 1;
  for (int i = 0; i < nd; i++) n *= (size_t)shape[i];
  float *v = malloc((n ? n : 1) * sizeof *v);
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = (float)(seed >> 8) / 16777216.0f * 2 - 1;
  }
  lz_array *a = lz_array_from_data(v, shape, nd, LZ_FLOAT32);
  free(v);
  return a;
}

static inline void lzt_run(const char *name, void (*fn)(void)) {
  int before = lzt_failures;
  lzt_current = name;
  lz_clear_error();
  lz_scope_begin();
  fn();
  lz_scope_end();
  if (lz_last_error()[0]) {
    lzt_failures++;
    fprintf(stderr, "%s: error left pending: %s\n", name, lz_last_error());
    lz_clear_error();
  }
  if (lz_get_active_memory() != 0) {
    lzt_failures++;
    fprintf(stderr, "%s: %zu bytes of array memory still live (a leak)\n", name,
            lz_get_active_memory());
  }
  fprintf(stderr, "%s %s\n", lzt_failures == before ? "ok  " : "FAIL", name);
}
#define RUN(fn) lzt_run(#fn, fn)

static inline int lzt_summary(void) {
  printf("%d checks: %d passed, %d failed\n", lzt_checks, lzt_checks - lzt_failures, lzt_failures);
  return lzt_failures ? 1 : 0;
}

#endif /* LZ_TEST_H */
