/* Reductions against NumPy: every op over several axis sets and dtypes, result dtypes and
 * shapes, keepdims, negative axes, NaN, empty and 0-d arrays, strided (broadcast, transposed,
 * reversed) inputs, row- and column-mode kernels, accuracy of long float32 sums, and errors. */
#include "core/internal.h"
#include "data/reduce_refs.h"
#include "lz_test.h"

/* Input `which` ("xf", "xi", "xp") of the reference script as an array of `dtype`. */
static lz_array *ref_input(const char *which, lz_dtype dtype) {
  const double *src = strcmp(which, "xf") == 0 ? ref_xf : strcmp(which, "xi") == 0 ? ref_xi : ref_xp;
  int shape[3] = {3, 4, 5};
  lz_array *x = lz_array_from_data(src, shape, 3, LZ_FLOAT64);
  return lz_astype(x, dtype);
}

/* A view of the evaluated `base` with the given shape, element offset and strides. */
static lz_array *make_view(lz_array *base, const int *shape, int ndim, int64_t offset,
                           const int64_t *strides) {
  if (lz_eval(base) != 0) return NULL;
  lz_array *v = lz__array_alloc(base->dtype, shape, ndim);
  lz__set_view(v, base, offset, strides);
  return lz__track(v);
}

static int axes_of(const char *key, int *axes) {
  if (!strcmp(key, "a0")) return axes[0] = 0, 1;
  if (!strcmp(key, "a1")) return axes[0] = 1, 1;
  if (!strcmp(key, "a2")) return axes[0] = 2, 1;
  if (!strcmp(key, "am1")) return axes[0] = -1, 1;
  if (!strcmp(key, "a02")) return axes[0] = 0, axes[1] = 2, 2;
  if (!strcmp(key, "a12")) return axes[0] = 2, axes[1] = 1, 2; /* order does not matter */
  return 0;
}

static lz_array *run_op(const char *op, lz_array *x, const char *key, int ddof) {
  int axes[3];
  int n = axes_of(key, axes);
  bool all = !strcmp(key, "all");
#define R(NAME)                                                                                  \
  if (!strcmp(op, #NAME)) return all ? lz_##NAME(x, false) : lz_##NAME##_axes(x, axes, n, false);
  R(sum) R(prod) R(max) R(min) R(mean) R(logsumexp) R(median) R(count_nonzero) R(all) R(any)
#undef R
  if (!strcmp(op, "var")) return all ? lz_var(x, false, ddof) : lz_var_axes(x, axes, n, false, ddof);
  if (!strcmp(op, "std")) return all ? lz_std(x, false, ddof) : lz_std_axes(x, axes, n, false, ddof);
  return NULL;
}

static double tol_of(lz_dtype d) {
  return d == LZ_FLOAT16 ? 2e-3 : d == LZ_BFLOAT16 ? 1e-2 : d == LZ_FLOAT32 ? 1e-5 : 1e-12;
}

/* Every reference case for one input dtype. */
static void check_cases(lz_dtype dtype, bool ints) {
  for (size_t i = 0; i < sizeof ref_cases / sizeof ref_cases[0]; i++) {
    const ref_case *c = &ref_cases[i];
    if (ints != (strcmp(c->input, "xi") == 0)) continue;
    lz_scope_begin();
    lz_array *x = ref_input(c->input, dtype);
    lz_array *y = run_op(c->op, x, c->axes, c->ddof);
    lz_dtype od = y ? lz_array_dtype(y) : LZ_FLOAT64;
    double tol = tol_of(od);
    if (!strcmp(c->op, "logsumexp") || !strcmp(c->op, "std") || !strcmp(c->op, "var"))
      tol = tol < 1e-6 && od == LZ_FLOAT64 ? 1e-12 : tol * 2;
    if (!strcmp(c->op, "prod") && od != LZ_FLOAT64 && !ints) tol *= 4;
    /* Results overflow like the dtype does: float16 to inf, integers wrap. */
    double want[64];
    for (int k = 0; k < c->n; k++) {
      double e = c->expected[k];
      if (od == LZ_FLOAT16 && fabs(e) > 65504) e = e > 0 ? INFINITY : -INFINITY;
      if (od == LZ_INT8) e = (int8_t)(uint8_t)(int64_t)e;
      if (od == LZ_INT32) e = (int32_t)(uint32_t)(int64_t)e;
      want[k] = e;
    }
    lzt_check_values(c->op, (int)i, y, want, (size_t)c->n, tol);
    lz_scope_end();
  }
}

static void test_refs_float32(void) { check_cases(LZ_FLOAT32, false); }
static void test_refs_float64(void) { check_cases(LZ_FLOAT64, false); }
static void test_refs_float16(void) { check_cases(LZ_FLOAT16, false); }
static void test_refs_bfloat16(void) { check_cases(LZ_BFLOAT16, false); }
static void test_refs_int32(void) { check_cases(LZ_INT32, true); }
static void test_refs_int64(void) { check_cases(LZ_INT64, true); }
static void test_refs_int8(void) { check_cases(LZ_INT8, true); }

/* Result dtypes follow MLX. */
static void test_dtypes(void) {
  int s[1] = {4};
  lz_array *b = lz_ones(s, 1, LZ_BOOL), *i8 = lz_ones(s, 1, LZ_INT8), *u16 = lz_ones(s, 1, LZ_UINT16);
  lz_array *h = lz_ones(s, 1, LZ_FLOAT16), *i32 = lz_ones(s, 1, LZ_INT32);
  CHECK(lz_array_dtype(lz_sum(b, false)) == LZ_INT32);
  /* Sums and products accumulate small integers in int32 / uint32 (MLX's ops.cpp). */
  CHECK(lz_array_dtype(lz_sum(i8, false)) == LZ_INT32);
  CHECK(lz_array_dtype(lz_sum_axis(lz_ones((int[]){3, 2}, 2, LZ_INT16), 1, true)) == LZ_INT32);
  CHECK(lz_array_dtype(lz_sum(u16, false)) == LZ_UINT32);
  CHECK(lz_array_dtype(lz_sum(lz_ones(s, 1, LZ_UINT8), false)) == LZ_UINT32);
  CHECK(lz_array_dtype(lz_sum(lz_ones(s, 1, LZ_UINT32), false)) == LZ_UINT32);
  CHECK(lz_array_dtype(lz_sum(lz_ones(s, 1, LZ_INT64), false)) == LZ_INT64);
  CHECK(lz_array_dtype(lz_sum(lz_ones(s, 1, LZ_UINT64), false)) == LZ_UINT64);
  CHECK(lz_array_dtype(lz_sum(h, false)) == LZ_FLOAT16);
  CHECK(lz_array_dtype(lz_prod(b, false)) == LZ_INT32);
  CHECK(lz_array_dtype(lz_prod(i8, false)) == LZ_INT32);
  CHECK(lz_array_dtype(lz_prod(u16, false)) == LZ_UINT32);
  /* MLX returns the input itself for no axes (0-d) and for a product over size-1 axes only. */
  lz_array *i8s = lz_scalar(5, LZ_INT8), *col = lz_ones((int[]){4, 1}, 2, LZ_INT8);
  CHECK(lz_array_dtype(lz_sum(i8s, false)) == LZ_INT8);
  CHECK(lz_array_dtype(lz_prod(i8s, false)) == LZ_INT8);
  CHECK(lz_array_dtype(lz_prod_axis(col, 1, false)) == LZ_INT8);
  CHECK(lz_array_dtype(lz_sum_axis(col, 1, false)) == LZ_INT32);
  CHECK(lz_array_dtype(lz_prod_axis(col, 0, false)) == LZ_INT32);
  /* Scans: bool cumsum gives int32, everything else keeps its dtype (MLX's Scan). */
  CHECK(lz_array_dtype(lz_cumsum(b, 0, false, true)) == LZ_INT32);
  CHECK(lz_array_dtype(lz_cumsum(i8, 0, false, true)) == LZ_INT8);
  CHECK(lz_array_dtype(lz_cumprod(b, 0, false, true)) == LZ_BOOL);
  CHECK(lz_array_dtype(lz_cumprod(u16, 0, false, true)) == LZ_UINT16);
  CHECK(lz_array_dtype(lz_max(i8, false)) == LZ_INT8);
  CHECK(lz_array_dtype(lz_mean(i32, false)) == LZ_FLOAT32);
  CHECK(lz_array_dtype(lz_mean(h, false)) == LZ_FLOAT16);
  CHECK(lz_array_dtype(lz_var(b, false, 0)) == LZ_FLOAT32);
  CHECK(lz_array_dtype(lz_logsumexp(i32, false)) == LZ_FLOAT32);
  CHECK(lz_array_dtype(lz_median(u16, false)) == LZ_FLOAT32);
  CHECK(lz_array_dtype(lz_all(i32, false)) == LZ_BOOL);
  CHECK(lz_array_dtype(lz_count_nonzero(h, false)) == LZ_INT32);
  CHECK(lz_array_dtype(lz_argmax(h, false)) == LZ_UINT32);
  CHECK(lz_array_dtype(lz_trace(lz_ones((int[]){2, 2}, 2, LZ_BOOL), 0, 0, 1)) == LZ_INT32);
  CHECK_CLOSE(lz_item_f64(lz_sum(b, false)), 4, 0);
  CHECK_CLOSE(lz_item_f64(lz_prod(b, false)), 1, 0);
}

/* Small integers accumulate in int32 / uint32 (as MLX), which wrap; int64 and uint64 are
 * exact. */
static void test_integer_wrap_and_range(void) {
  int8_t v8[3] = {100, 100, 100};
  lz_array *a = lz_array_from_data(v8, (int[]){3}, 1, LZ_INT8);
  CHECK(lz_item_i64(lz_sum(a, false)) == 300);
  CHECK(lz_item_i64(lz_prod(a, false)) == 1000000);
  CHECK(lz_item_i64(lz_trace(lz_full((int[]){3, 3}, 2, 100, LZ_INT8), 0, 0, 1)) == 300);
  uint8_t u8[3] = {200, 200, 7};
  lz_array *au = lz_array_from_data(u8, (int[]){3}, 1, LZ_UINT8);
  CHECK(lz_item_i64(lz_sum(au, false)) == 407);
  CHECK(lz_item_i64(lz_prod(au, false)) == 280000);
  int16_t v16[3] = {-30000, -30000, 2};
  lz_array *a16 = lz_array_from_data(v16, (int[]){3}, 1, LZ_INT16);
  CHECK(lz_item_i64(lz_sum(a16, false)) == -59998);
  CHECK(lz_item_i64(lz_prod(a16, false)) == 1800000000);
  int32_t v32[2] = {65536, 65537};
  CHECK(lz_item_i64(lz_prod(lz_array_from_data(v32, (int[]){2}, 1, LZ_INT32), false)) == 65536);
  uint8_t bools[5] = {1, 1, 0, 1, 1};
  CHECK(lz_item_i64(lz_sum(lz_array_from_data(bools, (int[]){5}, 1, LZ_BOOL), false)) == 4);
  int64_t big[2] = {INT64_MAX - 5, 3};
  lz_array *b = lz_array_from_data(big, (int[]){2}, 1, LZ_INT64);
  CHECK(lz_item_i64(lz_sum(b, false)) == INT64_MAX - 2);
  CHECK(lz_item_i64(lz_max(b, false)) == INT64_MAX - 5);
  uint64_t ub[3] = {UINT64_MAX, 7, 1};
  lz_array *u = lz_array_from_data(ub, (int[]){3}, 1, LZ_UINT64);
  uint64_t got = 0;
  CHECK(lz_array_read(lz_max(u, false), LZ_UINT64, &got, 8) == 0 && got == UINT64_MAX);
  CHECK(lz_array_read(lz_min(u, false), LZ_UINT64, &got, 8) == 0 && got == 1);
  CHECK(lz_array_read(lz_sum(u, false), LZ_UINT64, &got, 8) == 0 && got == 7);
}

static void test_keepdims_and_negative_axes(void) {
  lz_array *x = ref_input("xf", LZ_FLOAT32);
  CHECK_SHAPE(lz_sum_axis(x, -1, true), 3, 4, 1);
  CHECK_SHAPE(lz_sum_axis(x, -3, false), 4, 5);
  CHECK_SHAPE(lz_max_axes(x, (int[]){0, -1}, 2, true), 1, 4, 1);
  CHECK_SHAPE(lz_mean(x, true), 1, 1, 1);
  lz_array *s = lz_sum(x, false);
  CHECK(lz_array_ndim(s) == 0);
  CHECK_SHAPE(lz_argmax_axis(x, 1, true), 3, 1, 5);
  CHECK_SHAPE(lz_argmin(x, true), 1, 1, 1);
  CHECK(lz_array_ndim(lz_argmin(x, false)) == 0);
  CHECK_SHAPE(lz_sum_axes(x, NULL, 0, false), 3, 4, 5);
  CHECK_VALUES(lz_sum_axis(x, -1, true), ref_xf_sum_a2, 12, 1e-6);
  CHECK_VALUES(lz_var_axes(x, (int[]){-3, 2}, 2, true, 0), ref_xf_var_a02, 4, 1e-5);
}

static void test_argmax_argmin(void) {
  lz_dtype dts[3] = {LZ_FLOAT32, LZ_FLOAT16, LZ_FLOAT64};
  for (int t = 0; t < 3; t++) {
    lz_array *x = ref_input("xf", dts[t]);
    CHECK_VALUES(lz_argmax_axis(x, 0, false), ref_argmax_a0, 20, 0);
    CHECK_VALUES(lz_argmax_axis(x, 1, false), ref_argmax_a1, 15, 0);
    CHECK_VALUES(lz_argmax_axis(x, -1, false), ref_argmax_a2, 12, 0);
    CHECK_VALUES(lz_argmin_axis(x, 0, false), ref_argmin_a0, 20, 0);
    CHECK_VALUES(lz_argmin_axis(x, 1, false), ref_argmin_a1, 15, 0);
    CHECK_VALUES(lz_argmin_axis(x, 2, true), ref_argmin_a2, 12, 0);
    CHECK_VALUES(lz_argmax(x, false), ref_argmax_all, 1, 0);
    CHECK_VALUES(lz_argmin(x, true), ref_argmin_all, 1, 0);
  }
  int32_t iv[6] = {3, 9, 9, -4, 9, -4}; /* first of equal extremes */
  lz_array *a = lz_array_from_data(iv, (int[]){6}, 1, LZ_INT32);
  CHECK(lz_item_i64(lz_argmax(a, false)) == 1);
  CHECK(lz_item_i64(lz_argmin(a, false)) == 3);
  uint8_t bv[4] = {0, 0, 1, 1};
  CHECK(lz_item_i64(lz_argmax(lz_array_from_data(bv, (int[]){4}, 1, LZ_BOOL), false)) == 2);
}

static void test_nan(void) {
  float v[6] = {1, NAN, 3, -2, 5, 0};
  lz_array *x = lz_array_from_data(v, (int[]){2, 3}, 2, LZ_FLOAT32);
  double mx1[2] = {NAN, 5}, mn0[3] = {-2, NAN, 0};
  CHECK_VALUES(lz_max_axis(x, 1, false), mx1, 2, 0);
  CHECK_VALUES(lz_min_axis(x, 0, false), mn0, 3, 0); /* column mode */
  CHECK(isnan(lz_item_f64(lz_max(x, false))));
  CHECK(isnan(lz_item_f64(lz_sum(x, false))));
  CHECK(isnan(lz_item_f64(lz_median(x, false))));
  CHECK(isnan(lz_item_f64(lz_logsumexp(x, false))));
  CHECK(lz_item_i64(lz_argmax(x, false)) == 1);
  CHECK(lz_item_i64(lz_argmin(x, false)) == 1);
  CHECK(lz_item_bool(lz_all(x, false)) == false);
  CHECK(lz_item_i64(lz_count_nonzero(x, false)) == 5); /* NaN is nonzero */
  lz_array *h = lz_astype(x, LZ_BFLOAT16);
  CHECK_VALUES(lz_max_axis(h, 1, false), mx1, 2, 0);
  /* Long rows take the 8-lane path: NaN inside it still propagates. */
  float lv[40];
  for (int i = 0; i < 40; i++) lv[i] = (float)(i % 13) - 6;
  lv[5] = NAN;
  lz_array *lr = lz_array_from_data(lv, (int[]){2, 20}, 2, LZ_FLOAT32);
  double lmax[2] = {NAN, 6}, lmin[2] = {NAN, -6};
  CHECK_VALUES(lz_max_axis(lr, 1, false), lmax, 2, 0);
  CHECK_VALUES(lz_min_axis(lr, 1, false), lmin, 2, 0);
  CHECK_VALUES(lz_max_axis(lz_astype(lr, LZ_FLOAT64), -1, false), lmax, 2, 0);
  /* logsumexp with infinities: the max wins. */
  float w[4] = {INFINITY, 1, -INFINITY, -INFINITY};
  lz_array *y = lz_array_from_data(w, (int[]){2, 2}, 2, LZ_FLOAT32);
  double lse[2] = {INFINITY, -INFINITY};
  CHECK_VALUES(lz_logsumexp_axis(y, 1, false), lse, 2, 0);
}

/* Sums of empty axes are the identity; max/min of them are errors. */
static void test_empty_and_scalar(void) {
  lz_array *e = lz_zeros((int[]){0, 3}, 2, LZ_FLOAT32);
  double z3[3] = {0, 0, 0}, o3[3] = {1, 1, 1};
  CHECK_VALUES(lz_sum_axis(e, 0, false), z3, 3, 0);
  CHECK_VALUES(lz_prod_axis(e, 0, false), o3, 3, 0);
  CHECK_VALUES(lz_all_axis(e, 0, false), o3, 3, 0);
  CHECK_VALUES(lz_any_axis(e, 0, false), z3, 3, 0);
  CHECK(isnan(lz_item_f64(lz_mean(e, false))));
  CHECK_SHAPE(lz_max_axis(e, 1, false), 0);
  CHECK(lz_eval(lz_max_axis(e, 1, false)) == 0);
  CHECK_CLOSE(lz_item_f64(lz_sum(e, false)), 0, 0);
  CHECK_ERROR(lz_max(e, false), "zero-size");
  CHECK_ERROR(lz_min_axis(e, 0, false), "zero-size");
  CHECK_ERROR(lz_logsumexp(e, false), "zero-size");
  CHECK_ERROR(lz_argmax(e, false), "zero-size");
  CHECK_ERROR(lz_argmin_axis(e, 1, false), "zero-size");
  lz_array *s = lz_scalar(2.5, LZ_FLOAT32);
  CHECK_CLOSE(lz_item_f64(lz_sum(s, false)), 2.5, 0);
  CHECK_CLOSE(lz_item_f64(lz_max(s, true)), 2.5, 0);
  CHECK_CLOSE(lz_item_f64(lz_var(s, false, 0)), 0, 0);
  CHECK(lz_array_ndim(lz_mean(s, true)) == 0);
  CHECK(lz_item_i64(lz_argmax(s, false)) == 0);
  CHECK_CLOSE(lz_item_f64(lz_logsumexp(s, false)), 2.5, 1e-7);
  CHECK_ERROR(lz_sum_axis(s, 0, false), "dimension 0");
  CHECK_ERROR(lz_argmax_axis(s, 0, false), "out of bounds");
  CHECK(isinf(lz_item_f64(lz_var(lz_arange(0, 2, 1, LZ_FLOAT32), false, 2)))); /* N - ddof = 0 */
}

static void test_errors(void) {
  lz_array *x = ref_input("xf", LZ_FLOAT32);
  CHECK_ERROR(lz_sum_axis(x, 3, false), "[lz_sum] axis 3 is out of bounds");
  CHECK_ERROR(lz_mean_axis(x, -4, false), "[lz_mean] axis -4");
  CHECK_ERROR(lz_max_axes(x, (int[]){1, -2}, 2, false), "repeated axis");
  CHECK_ERROR(lz_var_axes(x, (int[]){0, 1, 2, 0}, 4, false, 0), "4 axes");
  CHECK_ERROR(lz_trace(x, 0, 1, -2), "same axis");
  CHECK_ERROR(lz_trace(lz_arange(0, 3, 1, LZ_FLOAT32), 0, 0, 1), "at least 2");
  CHECK_ERROR(lz_softmax_axis(x, 5, false), "out of bounds");
  CHECK_ERROR(lz_median_axes(x, (int[]){2, 2}, 2, false), "repeated");
  CHECK_ERROR(lz_sum(NULL, false), "NULL");
  /* A NULL input with an error pending passes through silently. */
  lz_array *bad = lz_sum_axis(x, 9, false);
  CHECK(bad == NULL && lz_sum(bad, false) == NULL && strstr(lz_last_error(), "axis 9"));
  lz_clear_error();
}

/* Broadcast (stride 0), transposed and reversed inputs give the same values as contiguous. */
static void test_strided_inputs(void) {
  lz_array *f = lz_full((int[]){6, 7}, 2, 1.5, LZ_FLOAT32);
  double r0[7], r1[6];
  for (int i = 0; i < 7; i++) r0[i] = 9;
  for (int i = 0; i < 6; i++) r1[i] = 10.5;
  CHECK_VALUES(lz_sum_axis(f, 0, false), r0, 7, 0);
  CHECK_VALUES(lz_sum_axis(f, 1, false), r1, 6, 0);
  CHECK_CLOSE(lz_item_f64(lz_var(f, false, 0)), 0, 0);
  CHECK_CLOSE(lz_item_f64(lz_std(f, false, 1)), 0, 0);
  lz_array *xs[4] = {ref_input("xf", LZ_FLOAT32), ref_input("xf", LZ_FLOAT64),
                     ref_input("xf", LZ_FLOAT16), ref_input("xi", LZ_INT32)};
  for (int t = 0; t < 4; t++) {
    lz_array *x = xs[t];
    /* Transposed view (5,4,3) of the (3,4,5) array: axis k of the view is axis 2-k. */
    lz_array *tv = make_view(x, (int[]){5, 4, 3}, 3, 0, (int64_t[]){1, 5, 20});
    const double *sum_a2 = t == 3 ? ref_xi_sum_a2 : ref_xf_sum_a2;
    const double *max_a0 = t == 3 ? ref_xi_max_a0 : ref_xf_max_a0;
    const double *var_a12 = t == 3 ? ref_xi_var_a12 : ref_xf_var_a12;
    double tol = t == 2 ? 2e-3 : 1e-5;
    /* sum over view axis 0 = sum over axis 2, output (4,3) = transpose of ref (3,4). */
    lz_array *s = lz_sum_axis(tv, 0, false);
    double want[12];
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 4; j++) want[j * 3 + i] = sum_a2[i * 4 + j];
    CHECK_VALUES(s, want, 12, tol);
    /* max over view axis 2 = max over axis 0, output (5,4) = transpose of ref (4,5). */
    double want20[20];
    for (int j = 0; j < 4; j++)
      for (int k = 0; k < 5; k++) want20[k * 4 + j] = max_a0[j * 5 + k];
    CHECK_VALUES(lz_max_axis(tv, 2, false), want20, 20, tol);
    CHECK_VALUES(lz_var_axes(tv, (int[]){0, 1}, 2, false, 0), var_a12, 3, tol * 4);
    /* Reversed along axis 2 (negative stride): sums are unchanged. */
    lz_array *rv = make_view(x, (int[]){3, 4, 5}, 3, 4, (int64_t[]){20, 5, -1});
    CHECK_VALUES(lz_sum_axis(rv, 2, false), sum_a2, 12, tol);
    const double *sum_a0 = t == 3 ? ref_xi_sum_a0 : ref_xf_sum_a0;
    for (int j = 0; j < 4; j++)
      for (int k = 0; k < 5; k++) want20[j * 5 + k] = sum_a0[j * 5 + 4 - k];
    CHECK_VALUES(lz_sum_axis(rv, 0, false), want20, 20, tol);
  }
}

/* Large shapes exercise row and column modes, blocking and merging of dims. */
static void test_row_and_column_modes(void) {
  enum { R = 37, C = 1000 };
  float *v = malloc(sizeof(float) * R * C);
  double *col = calloc(C, sizeof(double)), *row = calloc(R, sizeof(double));
  double *cmax = malloc(sizeof(double) * C);
  for (int i = 0; i < R; i++)
    for (int j = 0; j < C; j++) {
      float x = (float)((i * 7 + j * 3) % 11 - 5);
      v[i * C + j] = x;
      col[j] += x;
      row[i] += x;
      cmax[j] = i == 0 || x > cmax[j] ? x : cmax[j];
    }
  lz_array *x = lz_array_from_data(v, (int[]){R, C}, 2, LZ_FLOAT32);
  CHECK_VALUES(lz_sum_axis(x, 0, false), col, C, 0);
  CHECK_VALUES(lz_sum_axis(x, 1, false), row, R, 0);
  CHECK_VALUES(lz_max_axis(x, 0, false), cmax, C, 0);
  lz_array *xi = lz_astype(x, LZ_INT16);
  CHECK_VALUES(lz_sum_axis(xi, 0, false), col, C, 0);
  CHECK_VALUES(lz_max_axis(xi, 0, false), cmax, C, 0);
  lz_array *xh = lz_astype(x, LZ_BFLOAT16);
  CHECK_VALUES(lz_sum_axis(xh, 1, false), row, R, 1e-2);
  /* (R, C) viewed as (R, 10, 100) reduced over the middle axis: kept dims both sides. */
  lz_array *x3 = make_view(x, (int[]){R, 10, 100}, 3, 0, (int64_t[]){C, 100, 1});
  lz_array *m = lz_mean_axis(x3, 1, false);
  double *want = calloc(R * 100, sizeof(double));
  for (int i = 0; i < R; i++)
    for (int j = 0; j < C; j++) want[i * 100 + j % 100] += v[i * C + j] / 10.0;
  CHECK_VALUES(m, want, R * 100, 1e-6);
  free(v), free(col), free(row), free(cmax), free(want);
}

/* float32 sums are blocked: a million 0.1f add up to 1e5 far better than a naive loop. */
static void test_float32_sum_accuracy(void) {
  lz_array *x = lz_full((int[]){1000000}, 1, 0.1, LZ_FLOAT32);
  float *v = malloc(sizeof(float) * 1000000);
  for (int i = 0; i < 1000000; i++) v[i] = 0.1f;
  lz_array *c = lz_array_from_data(v, (int[]){1000000}, 1, LZ_FLOAT32);
  free(v);
  double want = 1e6 * (double)0.1f;
  CHECK_CLOSE(lz_item_f64(lz_sum(c, false)), want, 1e-6);
  CHECK_CLOSE(lz_item_f64(lz_mean(c, false)), (double)0.1f, 1e-6);
  CHECK_CLOSE(lz_item_f64(lz_sum(x, false)), want, 1e-6);
  lz_array *h = lz_astype(c, LZ_FLOAT16);
  CHECK_CLOSE(lz_item_f64(lz_astype(lz_mean(h, false), LZ_FLOAT32)), 0.0999755859375, 1e-3);
}

static void test_trace(void) {
  lz_array *x = ref_input("xf", LZ_FLOAT32);
  const double *r01[6] = {ref_trace_o0_01, ref_trace_o1_01, ref_trace_o2_01,
                          ref_trace_o3_01, ref_trace_o5_01, ref_trace_o7_01};
  const double *r21[6] = {ref_trace_o0_21, ref_trace_o1_21, ref_trace_o2_21,
                          ref_trace_o3_21, ref_trace_o5_21, ref_trace_o7_21};
  int offs[6] = {-2, -1, 0, 1, 3, 5};
  for (int i = 0; i < 6; i++) {
    CHECK_VALUES(lz_trace(x, offs[i], 0, 1), r01[i], 5, 1e-6);
    CHECK_VALUES(lz_trace(x, offs[i], -1, 1), r21[i], 3, 1e-6);
  }
  lz_array *xi = ref_input("xi", LZ_INT32);
  lz_array *t = lz_trace(xi, 0, 0, 2);
  CHECK(lz_array_dtype(t) == LZ_INT32);
  CHECK_VALUES(t, ref_tracei_02, 4, 0);
}

static void test_softmax(void) {
  lz_dtype dts[3] = {LZ_FLOAT32, LZ_FLOAT64, LZ_FLOAT16};
  for (int t = 0; t < 3; t++) {
    lz_array *x = ref_input("xf", dts[t]);
    double tol = t == 2 ? 2e-3 : 1e-6;
    CHECK_VALUES(lz_softmax_axis(x, 0, false), ref_softmax_a0, 60, tol);
    CHECK_VALUES(lz_softmax_axis(x, 1, true), ref_softmax_a1, 60, tol);
    CHECK_VALUES(lz_softmax_axis(x, -1, true), ref_softmax_a2, 60, tol);
    CHECK_VALUES(lz_softmax_axes(x, (int[]){2, 0}, 2, true), ref_softmax_a02, 60, tol);
    CHECK_VALUES(lz_softmax(x, true), ref_softmax_all, 60, tol);
    CHECK(lz_array_dtype(lz_softmax(x, false)) == dts[t]);
  }
  /* Integers give float32; a transposed view; huge values do not overflow. */
  lz_array *xi = ref_input("xf", LZ_INT32);
  CHECK(lz_array_dtype(lz_softmax_axis(xi, 0, false)) == LZ_FLOAT32);
  lz_array *x = ref_input("xf", LZ_FLOAT32);
  lz_array *tv = make_view(x, (int[]){5, 4, 3}, 3, 0, (int64_t[]){1, 5, 20});
  lz_array *st = lz_softmax_axis(tv, 0, false); /* = softmax over axis 2, transposed */
  double want[60];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++)
      for (int k = 0; k < 5; k++) want[k * 12 + j * 3 + i] = ref_softmax_a2[i * 20 + j * 5 + k];
  CHECK_VALUES(st, want, 60, 1e-6);
  float big[3] = {1000, 1000, -INFINITY};
  double half[3] = {0.5, 0.5, 0};
  CHECK_VALUES(lz_softmax(lz_array_from_data(big, (int[]){3}, 1, LZ_FLOAT32), false), half, 3, 1e-7);
  CHECK_SHAPE(lz_softmax(lz_zeros((int[]){0, 4}, 2, LZ_FLOAT32), false), 0, 4);
}

int main(void) {
  RUN(test_refs_float32);
  RUN(test_refs_float64);
  RUN(test_refs_float16);
  RUN(test_refs_bfloat16);
  RUN(test_refs_int32);
  RUN(test_refs_int64);
  RUN(test_refs_int8);
  RUN(test_dtypes);
  RUN(test_integer_wrap_and_range);
  RUN(test_keepdims_and_negative_axes);
  RUN(test_argmax_argmin);
  RUN(test_nan);
  RUN(test_empty_and_scalar);
  RUN(test_errors);
  RUN(test_strided_inputs);
  RUN(test_row_and_column_modes);
  RUN(test_float32_sum_accuracy);
  RUN(test_trace);
  RUN(test_softmax);
  return lzt_summary();
}
