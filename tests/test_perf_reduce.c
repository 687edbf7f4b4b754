/* The fast paths of the reductions and of the core: SIMD float32 reduction kernels against the
 * portable ones and against double-precision references, the column and split paths at several
 * thread counts, NaN/inf handling, float32 sum accuracy, and the metadata object pool (deep
 * graphs, objects freed on another thread). */
#include <math.h>
#include <pthread.h>

#include "core/internal.h"
#include "cpu/unary.h" /* lz_cpu_set_simd */
#include "lz_test.h"

static float *rand_data(int64_t n, unsigned seed, float lo, float hi) {
  float *d = malloc((size_t)(n ? n : 1) * sizeof *d);
  unsigned s = seed * 2654435761u + 7;
  for (int64_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    d[i] = lo + (hi - lo) * (float)(s >> 8) * (1.0f / 16777216.0f);
  }
  return d;
}

enum { K_SUM, K_MAX, K_MIN, K_ARGMAX, K_ARGMIN, K_SOFTMAX, K_LSE, K_MEAN, K_VAR, K_COUNT };

/* Double-precision reference of kind k over `axis` of the row-major (r, c) matrix d. */
static double *reference(int k, const float *d, int r, int c, int axis) {
  int nout = axis == 0 ? c : r, len = axis == 0 ? r : c;
  int64_t step = axis == 0 ? c : 1, ostep = axis == 0 ? 1 : c;
  double *ref = malloc(sizeof(double) * (size_t)r * c);
  for (int o = 0; o < nout; o++) {
    const float *x = d + o * ostep;
    double s = 0, m = k == K_MIN || k == K_ARGMIN ? INFINITY : -INFINITY, sq = 0;
    int64_t bi = 0;
    bool nan = false;
    for (int i = 0; i < len; i++) {
      double v = x[i * step];
      if (v != v && !nan) nan = true, bi = i;
      s += v;
      if (!nan && ((k == K_MIN || k == K_ARGMIN) ? v < m : v > m)) m = v, bi = i;
    }
    if (nan) m = NAN;
    double mean = s / len;
    for (int i = 0; i < len; i++) sq += (x[i * step] - mean) * (x[i * step] - mean);
    double se = 0, sh = m == -INFINITY ? 0 : m; /* +inf: inf - inf gives NaN, as MLX */
    for (int i = 0; i < len; i++) se += exp(x[i * step] - sh);
    switch (k) {
    case K_SUM: ref[o] = s; break;
    case K_MEAN: ref[o] = mean; break;
    case K_VAR: ref[o] = sq / len; break;
    case K_MAX:
    case K_MIN: ref[o] = m; break;
    case K_ARGMAX:
    case K_ARGMIN: ref[o] = (double)bi; break;
    case K_LSE: ref[o] = isinf(m) ? m : sh + log(se); break;
    case K_SOFTMAX:
      for (int i = 0; i < len; i++) ref[(int64_t)o * ostep + i * step] = exp(x[i * step] - sh) / se;
      break;
    }
  }
  return ref;
}

static lz_array *apply(int k, lz_array *x, int axis) {
  switch (k) {
  case K_SUM: return lz_sum_axis(x, axis, false);
  case K_MAX: return lz_max_axis(x, axis, false);
  case K_MIN: return lz_min_axis(x, axis, false);
  case K_ARGMAX: return lz_argmax_axis(x, axis, false);
  case K_ARGMIN: return lz_argmin_axis(x, axis, false);
  case K_SOFTMAX: return lz_softmax_axis(x, axis, false);
  case K_LSE: return lz_logsumexp_axis(x, axis, false);
  case K_MEAN: return lz_mean_axis(x, axis, false);
  default: return lz_var_axis(x, axis, false, 0);
  }
}

/* Every kind over both axes of (r, c) float32 data (optionally viewed transposed, or cast to
 * float16 first), SIMD on and off, at 1, 2 and 3 threads. */
static void check_matrix(int r, int c, unsigned seed, const float *special, int nspecial) {
  float *d = rand_data((int64_t)r * c, seed, -3, 3);
  for (int i = 0; i < nspecial; i++) d[((int64_t)(i + 1) * 7919) % ((int64_t)r * c)] = special[i];
  int shape[2] = {r, c};
  lz_array *x = lz_array_from_data(d, shape, 2, LZ_FLOAT32);
  int old_threads = lz_get_num_threads();
  bool old_simd = lz_cpu_set_simd(true);
  for (int k = 0; k < K_COUNT; k++) {
    for (int axis = 0; axis < 2; axis++) {
      double *ref = reference(k, d, r, c, axis);
      size_t n = k == K_SOFTMAX ? (size_t)r * c : (size_t)(axis == 0 ? c : r);
      double tol = k == K_ARGMAX || k == K_ARGMIN || k == K_MAX || k == K_MIN ? 0 : 2e-5;
      for (int simd = 0; simd < 2; simd++) {
        for (int th = 1; th <= 3; th++) {
          lz_cpu_set_simd(simd);
          lz_set_num_threads(th);
          lz_array *y = apply(k, x, axis);
          CHECK_VALUES(y, ref, n, tol);
          lz_free(y);
        }
      }
      lz_free(NULL);
      free(ref);
    }
  }
  lz_cpu_set_simd(old_simd);
  lz_set_num_threads(old_threads);
  lz_free(x);
  free(d);
}

static void test_reduce_shapes(void) {
  check_matrix(37, 1029, 1, NULL, 0);  /* tails everywhere */
  check_matrix(1029, 37, 2, NULL, 0);
  check_matrix(600, 64, 3, NULL, 0);   /* column groups, whole vectors */
  check_matrix(5, 9, 4, NULL, 0);
  check_matrix(1, 300, 5, NULL, 0);
  check_matrix(300, 1, 6, NULL, 0);
}

static void test_reduce_special_values(void) {
  const float nan_inf[] = {NAN, INFINITY, -INFINITY, NAN};
  check_matrix(67, 45, 7, nan_inf, 4);
  const float infs[] = {INFINITY, -INFINITY, INFINITY};
  check_matrix(45, 67, 8, infs, 3);
  /* rows of -inf: softmax NaN, logsumexp -inf, max -inf */
  float d[2 * 20];
  for (int i = 0; i < 40; i++) d[i] = i < 20 ? -INFINITY : (float)i;
  int shape[2] = {2, 20};
  lz_array *x = lz_array_from_data(d, shape, 2, LZ_FLOAT32);
  for (int simd = 0; simd < 2; simd++) {
    bool old = lz_cpu_set_simd(simd);
    lz_array *sm = lz_softmax_axis(x, 1, false), *lse = lz_logsumexp_axis(x, 1, false);
    lz_array *mx = lz_max_axis(x, 1, false), *am = lz_argmax_axis(x, 1, false);
    double e_lse[2] = {-INFINITY, 39 + log(1 / (1 - exp(-1.0)) - exp(-20.0) / (1 - exp(-1.0)))};
    double e_mx[2] = {-INFINITY, 39}, e_am[2] = {0, 19};
    CHECK_VALUES(lse, e_lse, 2, 1e-6);
    CHECK_VALUES(mx, e_mx, 2, 0);
    CHECK_VALUES(am, e_am, 2, 0);
    double got[40];
    CHECK(lz_array_read(sm, LZ_FLOAT64, got, sizeof got) == 0);
    CHECK(isnan(got[0]) && isnan(got[19]) && fabs(got[39] - (1 - exp(-1.0))) < 1e-5);
    lz_free(sm), lz_free(lse), lz_free(mx), lz_free(am);
    lz_cpu_set_simd(old);
  }
  lz_free(x);
}

/* float16 input and a transposed view: the kernels run on loaded rows. */
static void test_reduce_loaded_inputs(void) {
  int r = 70, c = 33, shape[2] = {r, c}, perm[2] = {1, 0};
  float *d = rand_data(r * c, 9, -2, 2);
  lz_array *x = lz_array_from_data(d, shape, 2, LZ_FLOAT32);
  lz_array *h = lz_astype(lz_astype(x, LZ_FLOAT16), LZ_FLOAT32); /* the values float16 holds */
  lz_array *hx = lz_astype(x, LZ_FLOAT16), *t = lz_transpose(x, perm, 2);
  for (int axis = 0; axis < 2; axis++) {
    for (int simd = 0; simd < 2; simd++) {
      bool old = lz_cpu_set_simd(simd);
      lz_array *a = lz_sum_axis(hx, axis, false), *b = lz_sum_axis(h, axis, false);
      lz_array *same = lz_all(lz_less_equal(lz_abs(lz_subtract(lz_astype(a, LZ_FLOAT32), b)),
                                            lz_multiply(lz_abs(b), lz_float(2e-3))),
                              false);
      CHECK(lz_item_bool(same));
      lz_array *tm = lz_max_axis(t, axis, false), *xm = lz_max_axis(x, 1 - axis, false);
      CHECK(lz_item_bool(lz_array_equal(tm, xm, false)));
      lz_array *ts = lz_softmax_axis(t, axis, false), *xs = lz_softmax_axis(x, 1 - axis, false);
      CHECK(lz_item_bool(lz_allclose(ts, lz_transpose(xs, perm, 2), 1e-6, 1e-7, false)));
      lz_array *ta = lz_argmax_axis(t, axis, false), *xa = lz_argmax_axis(x, 1 - axis, false);
      CHECK(lz_item_bool(lz_array_equal(ta, xa, false)));
      lz_cpu_set_simd(old);
    }
  }
  free(d);
}

/* A million 0.1f summed in float32 stays within a few float32 ulps of the exact sum. */
static void test_sum_accuracy(void) {
  int n = 1000000, shape[1] = {n}, shape2[2] = {n / 1000, 1000};
  float *d = malloc(sizeof(float) * (size_t)n);
  for (int i = 0; i < n; i++) d[i] = 0.1f;
  double exact = 1e6 * (double)0.1f;
  lz_array *x = lz_array_from_data(d, shape, 1, LZ_FLOAT32);
  lz_array *x2 = lz_reshape(x, shape2, 2);
  for (int simd = 0; simd < 2; simd++) {
    for (int th = 1; th <= 2; th++) {
      bool old = lz_cpu_set_simd(simd);
      int oldt = lz_set_num_threads(th);
      CHECK(fabs(lz_item_f32(lz_sum(x, false)) - exact) <= 1e-6 * exact);
      /* column sums of 1000 rows of 0.1f each */
      lz_array *cs = lz_sum_axis(x2, 0, false);
      double got[1000];
      CHECK(lz_array_read(cs, LZ_FLOAT64, got, sizeof got) == 0);
      double worst = 0;
      for (int i = 0; i < 1000; i++) worst = fmax(worst, fabs(got[i] - 1000 * (double)0.1f));
      CHECK(worst <= 1e-5 * 100);
      lz_cpu_set_simd(old);
      lz_set_num_threads(oldt);
    }
  }
  free(d);
}

/* Full reductions of long arrays split over threads: same result as one thread. */
static void test_split_full_reductions(void) {
  int n = 300007, shape[1] = {n};
  float *d = rand_data(n, 11, -1, 1);
  d[123456] = 7.5f, d[200000] = -9.25f;
  lz_array *x = lz_array_from_data(d, shape, 1, LZ_FLOAT32);
  double s = 0;
  for (int i = 0; i < n; i++) s += d[i];
  for (int th = 1; th <= 4; th++) {
    int old = lz_set_num_threads(th);
    CHECK(fabs(lz_item_f64(lz_sum(x, false)) - s) <= 1e-5 * (1 + fabs(s)));
    CHECK(lz_item_f32(lz_max(x, false)) == 7.5f);
    CHECK(lz_item_f32(lz_min(x, false)) == -9.25f);
    CHECK(lz_item_i64(lz_argmax(x, false)) == 123456);
    lz_set_num_threads(old);
  }
  d[5] = NAN;
  lz_array *xn = lz_array_from_data(d, shape, 1, LZ_FLOAT32);
  lz_set_num_threads(3);
  CHECK(isnan(lz_item_f32(lz_max(xn, false))) && isnan(lz_item_f32(lz_sum(xn, false))));
  CHECK(lz_item_i64(lz_argmin(xn, false)) == 5);
  lz_set_num_threads(0);
  free(d);
}

/* ---- the core's object pool and eval walk ---- */

/* A chain of 200,000 nodes: evaluated without recursion, every node and array given back. */
static void test_deep_chain(void) {
  int n = getenv("LZ_TEST_SMALL") ? 20000 : 200000, shape[1] = {4};
  lz_array *one = lz_float(1), *y = lz_zeros(shape, 1, LZ_FLOAT32);
  y = lz_retain(y);
  lz_scope_begin();
  for (int i = 0; i < n; i++) {
    lz_array *nx = lz_keep(lz_add(y, one));
    lz_free(y);
    y = nx;
  }
  lz_scope_end();
  CHECK(lz_eval(y) == 0);
  CHECK(lz_item_f32(lz_sum(y, false)) == 4.0f * (float)n);
  lz_free(y);
}

typedef struct hand_off {
  lz_array **arrays;
  int n;
} hand_off;

static void *free_all(void *arg) {
  hand_off *h = arg;
  for (int i = 0; i < h->n; i++) lz_free(h->arrays[i]);
  return NULL;
}

static void *make_and_eval(void *arg) {
  hand_off *h = arg;
  lz_array *one = lz_float(1);
  for (int i = 0; i < h->n; i++) {
    lz_array *x = lz_full((int[]){3}, 1, (double)i, LZ_FLOAT32);
    h->arrays[i] = lz_add(x, one);
    lz_free(x);
  }
  lz_free(one);
  return NULL;
}

/* Arrays and nodes made on one thread and freed (or evaluated) on another come back into use;
 * threads that end give their cached objects back. */
static void test_objects_across_threads(void) {
  enum { N = 3000 };
  lz_array *arrays[N];
  hand_off h = {arrays, N};
  for (int round = 0; round < 3; round++) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, make_and_eval, &h) == 0);
    pthread_join(t, NULL);
    CHECK(lz_eval_many(arrays, N / 2) == 0); /* evaluated here, freed on yet another thread */
    float v[3] = {0};
    CHECK(lz_array_read(arrays[7], LZ_FLOAT32, v, sizeof v) == 0 && v[2] == 8.0f);
    CHECK(pthread_create(&t, NULL, free_all, &h) == 0);
    pthread_join(t, NULL);
  }
  /* the allocation failure hook still reaches metadata */
  lz_set_alloc_failure(1);
  CHECK(lz_add(lz_float(1), lz_float(2)) == NULL || lz_last_error()[0]);
  lz_set_alloc_failure(0);
  lz_clear_error();
  lz_clear_cache();
}

int main(void) {
  RUN(test_reduce_shapes);
  RUN(test_reduce_special_values);
  RUN(test_reduce_loaded_inputs);
  RUN(test_sum_accuracy);
  RUN(test_split_full_reductions);
  RUN(test_deep_chain);
  RUN(test_objects_across_threads);
  return lzt_summary();
}
