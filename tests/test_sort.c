/* Sorting against NumPy: sort/argsort on every axis and flattened, partition and argpartition
 * (checked by their defining property), topk, searchsorted, several dtypes, NaN order,
 * strided inputs, empty arrays and errors. */
#include "core/internal.h"
#include "data/reduce_refs.h"
#include "lz_test.h"

static lz_array *ref_input(const double *src, lz_dtype dtype) {
  int shape[3] = {3, 4, 5};
  return lz_astype(lz_array_from_data(src, shape, 3, LZ_FLOAT64), dtype);
}

static void test_sort_axes(void) {
  const double *sf[3] = {ref_sort_a0, ref_sort_a1, ref_sort_a2};
  const double *si[3] = {ref_sorti_a0, ref_sorti_a1, ref_sorti_a2};
  const double *as[3] = {ref_argsort_a0, ref_argsort_a1, ref_argsort_a2};
  lz_dtype fd[4] = {LZ_FLOAT32, LZ_FLOAT64, LZ_FLOAT16, LZ_BFLOAT16};
  lz_dtype id[4] = {LZ_INT32, LZ_INT8, LZ_INT64, LZ_INT16};
  for (int t = 0; t < 4; t++) {
    lz_array *x = ref_input(ref_xf, fd[t]), *xi = ref_input(ref_xi, id[t]);
    for (int ax = 0; ax < 3; ax++) {
      lz_array *s = lz_sort_axis(x, ax - 3 * (t % 2));
      CHECK(s && lz_array_dtype(s) == fd[t]);
      CHECK_VALUES(s, sf[ax], 60, 0);
      lz_array *a = lz_argsort_axis(x, ax);
      CHECK(a && lz_array_dtype(a) == LZ_UINT32);
      CHECK_VALUES(a, as[ax], 60, 0); /* stable, as NumPy's kind="stable" */
      CHECK_VALUES(lz_sort_axis(xi, ax), si[ax], 60, 0);
    }
    CHECK_VALUES(lz_sort(x), ref_sort_all, 60, 0);
    CHECK_SHAPE(lz_sort(x), 60);
  }
  uint64_t u[4] = {UINT64_MAX, 3, 1ull << 63, 0};
  lz_array *ua = lz_sort(lz_array_from_data(u, (int[]){4}, 1, LZ_UINT64));
  uint64_t got[4];
  CHECK(lz_array_read(ua, LZ_UINT64, got, sizeof got) == 0 && got[0] == 0 && got[1] == 3 &&
        got[2] == 1ull << 63 && got[3] == UINT64_MAX);
}

static void test_sort_nan_and_long(void) {
  float v[6] = {3, NAN, -1, INFINITY, NAN, -INFINITY};
  lz_array *x = lz_array_from_data(v, (int[]){6}, 1, LZ_FLOAT32);
  double w[6] = {-INFINITY, -1, 3, INFINITY, NAN, NAN}, wi[6] = {5, 2, 0, 3, 1, 4};
  CHECK_VALUES(lz_sort(x), w, 6, 0);
  CHECK_VALUES(lz_argsort(x), wi, 6, 0);
  /* A long lane exercises the merges: a permutation sorts back to 0..n-1. */
  enum { N = 5003 };
  int32_t *p = malloc(sizeof(int32_t) * N);
  double *want = malloc(sizeof(double) * N), *wperm = malloc(sizeof(double) * N);
  for (int i = 0; i < N; i++) p[i] = (int32_t)((i * 2999LL) % N), want[i] = i;
  for (int i = 0; i < N; i++) wperm[p[i]] = i;
  lz_array *a = lz_array_from_data(p, (int[]){N}, 1, LZ_INT32);
  CHECK_VALUES(lz_sort(a), want, N, 0);
  CHECK_VALUES(lz_argsort(a), wperm, N, 0);
  free(p), free(want), free(wperm);
}

/* Checks the partition property along the last axis of a (rows, n) result. */
static void check_partition(lz_array *part, lz_array *sorted, int rows, int n, int kth) {
  double *pv = malloc(sizeof(double) * rows * n), *sv = malloc(sizeof(double) * rows * n);
  CHECK(lz_array_read(part, LZ_FLOAT64, pv, sizeof(double) * rows * n) == 0);
  CHECK(lz_array_read(sorted, LZ_FLOAT64, sv, sizeof(double) * rows * n) == 0);
  int k = kth < 0 ? kth + n : kth;
  for (int r = 0; r < rows; r++) {
    const double *row = pv + r * n;
    CHECK(row[k] == sv[r * n + k]);
    for (int i = 0; i < n; i++) CHECK(i < k ? row[i] <= row[k] : row[i] >= row[k]);
  }
  free(pv), free(sv);
}

static void test_partition_and_topk(void) {
  lz_array *x = ref_input(ref_xf, LZ_FLOAT32);
  lz_array *x2 = lz_astype(ref_input(ref_xf, LZ_FLOAT32), LZ_FLOAT32);
  for (int kth = -5; kth < 5; kth++)
    check_partition(lz_partition_axis(x, kth, -1), lz_sort_axis(x, -1), 12, 5, kth);
  check_partition(lz_partition(x2, 17), lz_sort(x2), 1, 60, 17);
  /* argpartition indices gather the partition values. */
  lz_array *ap = lz_argpartition_axis(x, 2, 2);
  CHECK(lz_array_dtype(ap) == LZ_UINT32);
  uint32_t idx[60];
  float xv[60], pv[60];
  CHECK(lz_array_read(ap, LZ_UINT32, idx, sizeof idx) == 0);
  CHECK(lz_array_read(x, LZ_FLOAT32, xv, sizeof xv) == 0);
  CHECK(lz_array_read(lz_partition_axis(x, 2, 2), LZ_FLOAT32, pv, sizeof pv) == 0);
  bool same = true;
  for (int r = 0; r < 12; r++)
    for (int i = 0; i < 5; i++) same &= xv[r * 5 + idx[r * 5 + i]] == pv[r * 5 + i];
  CHECK(same);
  CHECK_SHAPE(lz_argpartition(x, 0), 60);
  /* topk: the k largest, ascending. */
  lz_array *t = lz_topk_axis(x, 2, 1);
  CHECK_SHAPE(t, 3, 2, 5);
  double want[30];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 2; j++)
      for (int k = 0; k < 5; k++) want[i * 10 + j * 5 + k] = ref_sort_a1[i * 20 + (j + 2) * 5 + k];
  CHECK_VALUES(t, want, 30, 0);
  CHECK_VALUES(lz_topk(x, 3), ref_sort_all + 57, 3, 0);
  CHECK_SHAPE(lz_topk_axis(x, 0, -1), 3, 4, 0);
  CHECK(lz_eval(lz_topk_axis(x, 0, -1)) == 0);
  CHECK_ERROR(lz_partition_axis(x, 5, -1), "kth 5 is out of range");
  CHECK_ERROR(lz_argpartition_axis(x, -6, 2), "kth -6");
  CHECK_ERROR(lz_topk_axis(x, 6, 2), "k 6 is out of range");
  CHECK_ERROR(lz_topk(x, -1), "out of range");
}

static void test_strided_and_empty(void) {
  lz_array *base = ref_input(ref_xf, LZ_FLOAT64);
  lz_eval(base);
  /* Transposed view (5,4,3): sorting view axis 0 = sorting axis 2, transposed. */
  lz_array *tv = lz__array_alloc(LZ_FLOAT64, (int[]){5, 4, 3}, 3);
  lz__set_view(tv, base, 0, (int64_t[]){1, 5, 20});
  tv = lz__track(tv);
  double want[60];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++)
      for (int k = 0; k < 5; k++) want[k * 12 + j * 3 + i] = ref_sort_a2[i * 20 + j * 5 + k];
  CHECK_VALUES(lz_sort_axis(tv, 0), want, 60, 0);
  lz_array *f = lz_full((int[]){3, 4}, 2, 2.0, LZ_FLOAT32);
  double twos[12] = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, ar[12] = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3};
  CHECK_VALUES(lz_sort_axis(f, 0), twos, 12, 0);
  CHECK_VALUES(lz_argsort_axis(f, 1), ar, 12, 0);
  lz_array *e = lz_zeros((int[]){0, 4}, 2, LZ_FLOAT32);
  CHECK_SHAPE(lz_sort_axis(e, 1), 0, 4);
  CHECK(lz_eval(lz_sort_axis(e, 0)) == 0);
  CHECK(lz_eval(lz_argsort(e)) == 0);
  CHECK_ERROR(lz_sort_axis(lz_scalar(1, LZ_FLOAT32), 0), "out of bounds");
  CHECK_ERROR(lz_argsort_axis(e, 2), "[lz_argsort] axis 2");
  CHECK_ERROR(lz_partition(e, 0), "kth 0");
  CHECK_VALUES(lz_sort(lz_scalar(4, LZ_INT32)), (double[]){4}, 1, 0);
}

static void test_searchsorted(void) {
  lz_array *a = lz_array_from_data(ref_ss_a, (int[]){8}, 1, LZ_FLOAT64);
  lz_array *v = lz_array_from_data(ref_ss_v, (int[]){2, 4}, 2, LZ_FLOAT64);
  lz_array *l = lz_searchsorted(a, v, false), *r = lz_searchsorted(a, v, true);
  CHECK(lz_array_dtype(l) == LZ_UINT32);
  CHECK_SHAPE(l, 2, 4);
  CHECK_VALUES(l, ref_ss_left, 8, 0);
  CHECK_VALUES(r, ref_ss_right, 8, 0);
  lz_array *af = lz_astype(a, LZ_FLOAT32), *vh = lz_astype(v, LZ_FLOAT16);
  CHECK_VALUES(lz_searchsorted(af, vh, true), ref_ss_right, 8, 0); /* promoted to float32 */
  int32_t ai[5] = {1, 3, 3, 7, 9};
  lz_array *ia = lz_array_from_data(ai, (int[]){5}, 1, LZ_INT32);
  CHECK(lz_item_i64(lz_searchsorted(ia, lz_int(3), false)) == 1);
  CHECK(lz_item_i64(lz_searchsorted(ia, lz_int(3), true)) == 3);
  CHECK(lz_item_i64(lz_searchsorted(ia, lz_int(100), true)) == 5);
  CHECK(lz_item_i64(lz_searchsorted(ia, lz_float(2.5), true)) == 1);
  float nv[3] = {1, 2, NAN};
  lz_array *na = lz_array_from_data(nv, (int[]){3}, 1, LZ_FLOAT32);
  CHECK(lz_item_i64(lz_searchsorted(na, lz_float(NAN), false)) == 2);
  CHECK(lz_item_i64(lz_searchsorted(na, lz_float(5), false)) == 2);
  CHECK_ERROR(lz_searchsorted(v, a, false), "must be 1-d");
  CHECK_ERROR(lz_searchsorted(a, NULL, false), "NULL");
}

int main(void) {
  RUN(test_sort_axes);
  RUN(test_sort_nan_and_long);
  RUN(test_partition_and_topk);
  RUN(test_strided_and_empty);
  RUN(test_searchsorted);
  return lzt_summary();
}
