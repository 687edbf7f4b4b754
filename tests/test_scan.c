/* Scans and diff against NumPy: every axis, reverse and exclusive forms, several dtypes,
 * strided inputs, integer identities, NaN, empty and 0-d arrays, and errors. */
#include "core/internal.h"
#include "data/reduce_refs.h"
#include "lz_test.h"

static lz_array *ref_input(const double *src, lz_dtype dtype) {
  int shape[3] = {3, 4, 5};
  return lz_astype(lz_array_from_data(src, shape, 3, LZ_FLOAT64), dtype);
}

static lz_array *scan_by_name(const char *op, lz_array *x, int axis, bool rev, bool inc) {
  if (!strcmp(op, "cumsum")) return lz_cumsum(x, axis, rev, inc);
  if (!strcmp(op, "cumprod")) return lz_cumprod(x, axis, rev, inc);
  if (!strcmp(op, "cummax")) return lz_cummax(x, axis, rev, inc);
  if (!strcmp(op, "cummin")) return lz_cummin(x, axis, rev, inc);
  return lz_logcumsumexp(x, axis, rev, inc);
}

static void check_scans(lz_dtype dtype, double tol) {
  for (size_t i = 0; i < sizeof scan_cases / sizeof scan_cases[0]; i++) {
    const scan_case *c = &scan_cases[i];
    lz_scope_begin();
    lz_array *x = ref_input(!strcmp(c->op, "cumprod") ? ref_xp : ref_xf, dtype);
    /* Negative axes on odd cases. */
    int axis = i % 2 ? c->axis - 3 : c->axis;
    lz_array *y = scan_by_name(c->op, x, axis, c->reverse, c->inclusive);
    CHECK_SHAPE(y, 3, 4, 5);
    CHECK(y && lz_array_dtype(y) == dtype);
    lzt_check_values(c->op, (int)i, y, c->expected, 60, tol);
    lz_scope_end();
  }
}

static void test_scans_float32(void) { check_scans(LZ_FLOAT32, 1e-5); }
static void test_scans_float64(void) { check_scans(LZ_FLOAT64, 1e-12); }
static void test_scans_bfloat16(void) { check_scans(LZ_BFLOAT16, 3e-2); }

static void test_scan_dtypes_and_ints(void) {
  uint8_t bv[4] = {1, 0, 1, 1};
  lz_array *b = lz_array_from_data(bv, (int[]){4}, 1, LZ_BOOL);
  lz_array *cs = lz_cumsum(b, 0, false, true);
  double w1[4] = {1, 1, 2, 3};
  CHECK(lz_array_dtype(cs) == LZ_INT32);
  CHECK_VALUES(cs, w1, 4, 0);
  CHECK(lz_array_dtype(lz_cumprod(b, 0, false, true)) == LZ_BOOL);
  CHECK(lz_array_dtype(lz_logcumsumexp(b, 0, false, true)) == LZ_FLOAT32);
  int8_t iv[4] = {100, 100, -7, 3};
  lz_array *a = lz_array_from_data(iv, (int[]){4}, 1, LZ_INT8);
  double w2[4] = {100, -56, -63, -60}; /* wraps like int8 */
  CHECK_VALUES(lz_cumsum(a, 0, false, true), w2, 4, 0);
  double w3[4] = {-128, 100, 100, 100}; /* exclusive cummax starts at the dtype's lowest */
  CHECK_VALUES(lz_cummax(a, 0, false, false), w3, 4, 0);
  double w4[4] = {-7, -7, -7, 3}; /* reverse inclusive cummin */
  CHECK_VALUES(lz_cummin(a, 0, true, true), w4, 4, 0);
  uint16_t uv[3] = {5, 2, 9};
  lz_array *u = lz_array_from_data(uv, (int[]){3}, 1, LZ_UINT16);
  double w5[3] = {65535, 5, 2};
  CHECK_VALUES(lz_cummin(u, 0, false, false), w5, 3, 0);
  lz_array *xi = ref_input(ref_xi, LZ_INT32);
  lz_array *xf = ref_input(ref_xi, LZ_FLOAT64);
  /* int32 scans equal float64 scans of the same small integers. */
  double want[60];
  lz_array *ref = lz_cumsum(xf, 1, true, false);
  CHECK(lz_array_read(ref, LZ_FLOAT64, want, sizeof want) == 0);
  CHECK_VALUES(lz_cumsum(xi, 1, true, false), want, 60, 0);
}

static void test_scan_nan_strided_empty(void) {
  float v[5] = {1, 3, NAN, 2, 5};
  lz_array *x = lz_array_from_data(v, (int[]){5}, 1, LZ_FLOAT32);
  double m[5] = {1, 3, NAN, NAN, NAN};
  CHECK_VALUES(lz_cummax(x, 0, false, true), m, 5, 0);
  double s[5] = {1, 4, NAN, NAN, NAN};
  CHECK_VALUES(lz_cumsum(x, 0, false, true), s, 5, 0);
  /* Broadcast input: cumsum of ones along each axis. */
  lz_array *f = lz_ones((int[]){2, 3}, 2, LZ_FLOAT32);
  double c0[6] = {1, 1, 1, 2, 2, 2}, c1[6] = {1, 2, 3, 1, 2, 3};
  CHECK_VALUES(lz_cumsum(f, 0, false, true), c0, 6, 0);
  CHECK_VALUES(lz_cumsum(f, -1, false, true), c1, 6, 0);
  /* Transposed view: cumsum over view axis 0 = cumsum of ref over axis 2, transposed. */
  lz_array *base = ref_input(ref_xf, LZ_FLOAT32);
  lz_eval(base);
  lz_array *tv = lz__array_alloc(LZ_FLOAT32, (int[]){5, 4, 3}, 3);
  lz__set_view(tv, base, 0, (int64_t[]){1, 5, 20});
  tv = lz__track(tv);
  double want[60];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++)
      for (int k = 0; k < 5; k++) want[k * 12 + j * 3 + i] = ref_cumsum_a2_r0_i1[i * 20 + j * 5 + k];
  CHECK_VALUES(lz_cumsum(tv, 0, false, true), want, 60, 1e-6);
  CHECK_SHAPE(lz_cumsum(lz_zeros((int[]){0, 3}, 2, LZ_FLOAT32), 0, false, true), 0, 3);
  CHECK(lz_eval(lz_cumprod(lz_zeros((int[]){4, 0}, 2, LZ_INT32), 1, true, true)) == 0);
  CHECK_ERROR(lz_cumsum(lz_scalar(1, LZ_FLOAT32), 0, false, true), "out of bounds");
  CHECK_ERROR(lz_cummax(x, 1, false, true), "[lz_cummax] axis 1 is out of bounds");
  CHECK_ERROR(lz_cumsum(NULL, 0, false, true), "NULL");
}

static void test_diff(void) {
  const double *refs[3][2] = {{ref_diff_a0_n1, ref_diff_a0_n2},
                              {ref_diff_a1_n1, ref_diff_a1_n2},
                              {ref_diff_a2_n1, ref_diff_a2_n2}};
  int dims[3] = {3, 4, 5};
  lz_dtype dts[2] = {LZ_FLOAT32, LZ_FLOAT64};
  for (int t = 0; t < 2; t++) {
    lz_array *x = ref_input(ref_xf, dts[t]);
    for (int ax = 0; ax < 3; ax++)
      for (int n = 1; n <= 2; n++) {
        lz_array *d = lz_diff(x, n, ax - (n == 2 ? 3 : 0));
        int64_t size = 60 / dims[ax] * (dims[ax] - n);
        CHECK(d && lz_array_shape(d)[ax] == dims[ax] - n && lz_array_dtype(d) == dts[t]);
        lzt_check_values("diff", ax * 10 + n, d, refs[ax][n - 1], (size_t)size, 1e-6);
      }
  }
  uint8_t bv[4] = {1, 1, 0, 1};
  double bw[3] = {0, 1, 1};
  lz_array *b = lz_diff(lz_array_from_data(bv, (int[]){4}, 1, LZ_BOOL), 1, 0);
  CHECK(lz_array_dtype(b) == LZ_BOOL);
  CHECK_VALUES(b, bw, 3, 0);
  uint8_t uv[3] = {1, 5, 2};
  double uw[2] = {4, 253}; /* wraps in uint8 */
  CHECK_VALUES(lz_diff(lz_array_from_data(uv, (int[]){3}, 1, LZ_UINT8), 1, 0), uw, 2, 0);
  lz_array *x = ref_input(ref_xf, LZ_FLOAT32);
  CHECK_SHAPE(lz_diff(x, 7, 1), 3, 0, 5);
  CHECK(lz_eval(lz_diff(x, 7, 1)) == 0);
  CHECK_VALUES(lz_diff(x, 0, 2), ref_xf, 60, 0);
  CHECK_ERROR(lz_diff(x, -1, 0), "n must be >= 0");
  CHECK_ERROR(lz_diff(lz_scalar(1, LZ_FLOAT32), 1, 0), "0-d");
  CHECK_ERROR(lz_diff(x, 1, 3), "out of bounds");
}

int main(void) {
  RUN(test_scans_float32);
  RUN(test_scans_float64);
  RUN(test_scans_bfloat16);
  RUN(test_scan_dtypes_and_ints);
  RUN(test_scan_nan_strided_empty);
  RUN(test_diff);
  return lzt_summary();
}
