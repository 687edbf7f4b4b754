/* Derivative rules of the reductions and scans added after the first set (prod, median, trace,
 * cumsum, cumprod, cummax, cummin, logcumsumexp, diff), the sorts (sort, partition, topk),
 * the remaining binary and unary ops (power, arctan2, logaddexp, remainder, divmod,
 * floor_divide, where, clip, nan_to_num, complex parts) and the random samplers' bounds.
 * vjp and jvp against central differences in float64, and vjp against jvp. */
#include "test_grad_check.h"

#include <math.h>

#define IN(lo, hi, ...) {(int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), {__VA_ARGS__}, lo, hi}

static lz_array *weight(lz_array *x) {
  int n = (int)lz_array_size(x);
  lz_array *r = lz_arange(1, 1 + n, 1, LZ_FLOAT64);
  return lz_reshape(lz_sin(r), lz_array_shape(x), lz_array_ndim(x));
}
static lz_array *weighted(lz_array *y) { return lz_multiply(y, weight(y)); }
static lz_array *tr(lz_array *x) { return lz_transpose(x, NULL, 0); }

/* ---- reductions ---- */

static lz_array *f_prod(lz_array *const *x) { return weighted(lz_prod_axes(x[0], (int[]){0, 2}, 2, false)); }
static lz_array *f_prod_all(lz_array *const *x) { return lz_prod(tr(x[0]), true); }
static lz_array *f_median(lz_array *const *x) { return weighted(lz_median_axis(x[0], 1, false)); }
static lz_array *f_median_even(lz_array *const *x) {
  return weighted(lz_median_axes(x[0], (int[]){0, 2}, 2, true));
}
static lz_array *f_trace(lz_array *const *x) { return weighted(lz_trace(x[0], 1, 2, 0)); }

static void test_reductions(void) {
  gc_check("prod", f_prod, (gc_input[]){IN(-2, 2, 2, 3, 2)}, 1, 1e-6);
  gc_check("prod all", f_prod_all, (gc_input[]){IN(0.5, 1.5, 2, 3)}, 1, 1e-6);
  gc_check("median odd", f_median, (gc_input[]){IN(-1, 1, 2, 5)}, 1, 1e-6);
  gc_check("median even", f_median_even, (gc_input[]){IN(-1, 1, 2, 3, 2)}, 1, 1e-6);
  gc_check("trace", f_trace, (gc_input[]){IN(-1, 1, 3, 2, 4)}, 1, 1e-6);
}

/* prod with a zero: the derivative is the product of the others, no division. */
static lz_array *f_prod_sum(lz_array *const *x) { return lz_prod(x[0], false); }
static void test_prod_zero(void) {
  double v[4] = {2, 0, 3, 5};
  lz_array *x = lz_array_from_data(v, (int[]){4}, 1, LZ_FLOAT64), *out[1];
  lz_closure *f = gc_closure(f_prod_sum), *g = lz_grad(f, NULL, 0);
  CHECK(lz_closure_call(g, &x, 1, out) == 1);
  CHECK_VALUES(out[0], ((double[]){0, 30, 0, 0}), 4, 0);
  lz_closure_free(g), lz_closure_free(f);
}

/* ---- scans: every (reverse, inclusive) combination ---- */

typedef lz_array *(*scan_fn)(lz_array *, int, bool, bool);
static scan_fn cur_scan;
static bool cur_rev, cur_incl;
/* An exclusive max/min/logsumexp scan starts from an infinite constant: kept out of the sum. */
static lz_array *f_scan(lz_array *const *x) {
  lz_array *y = cur_scan(tr(x[0]), 0, cur_rev, cur_incl);
  return weighted(lz_where(lz_isfinite(y), y, lz_float(0)));
}
static lz_array *f_diff(lz_array *const *x) { return weighted(lz_diff(x[0], 2, 1)); }
static lz_array *f_diff0(lz_array *const *x) { return lz_add(lz_diff(x[0], 0, 0), x[0]); }
static lz_array *f_diff_long(lz_array *const *x) { /* n >= length: empty, then summed */
  return lz_add(lz_sum(lz_diff(x[0], 5, 1), false), lz_sum(lz_square(x[0]), false));
}

static void test_scans(void) {
  struct {
    const char *name;
    scan_fn f;
    double lo, hi;
  } scans[] = {
      {"cumsum", lz_cumsum, -1, 1},   {"cumprod", lz_cumprod, 0.5, 1.5},
      {"cummax", lz_cummax, -1, 1},   {"cummin", lz_cummin, -1, 1},
      {"logcumsumexp", lz_logcumsumexp, -2, 2},
  };
  for (size_t k = 0; k < sizeof scans / sizeof scans[0]; k++) {
    for (int mode = 0; mode < 4; mode++) {
      cur_scan = scans[k].f, cur_rev = mode & 1, cur_incl = !(mode & 2);
      char name[64];
      snprintf(name, sizeof name, "%s reverse=%d inclusive=%d", scans[k].name, cur_rev, cur_incl);
      gc_check(name, f_scan, (gc_input[]){IN(scans[k].lo, scans[k].hi, 3, 5)}, 1, 1e-6);
    }
  }
  gc_check("diff", f_diff, (gc_input[]){IN(-1, 1, 2, 5)}, 1, 1e-6);
  gc_check("diff n=0", f_diff0, (gc_input[]){IN(-1, 1, 3)}, 1, 1e-6);
  gc_check("diff n>=len", f_diff_long, (gc_input[]){IN(-1, 1, 2, 3)}, 1, 1e-6);
}

/* ---- sorts ---- */

static lz_array *f_sort(lz_array *const *x) { return weighted(lz_sort_axis(tr(x[0]), 0)); }
static lz_array *f_sort_flat(lz_array *const *x) { return weighted(lz_sort(x[0])); }
static lz_array *f_partition(lz_array *const *x) { return weighted(lz_partition_axis(x[0], 2, 1)); }
static lz_array *f_topk(lz_array *const *x) { return weighted(lz_topk_axis(x[0], 2, -1)); }
static lz_array *f_topk_flat(lz_array *const *x) { return weighted(lz_topk(x[0], 3)); }
static lz_array *f_argsort(lz_array *const *x) { /* indices carry no derivative */
  return lz_multiply(lz_astype(lz_argsort_axis(x[0], 1), LZ_FLOAT64), x[0]);
}

static void test_sorts(void) {
  gc_check("sort", f_sort, (gc_input[]){IN(-1, 1, 3, 4)}, 1, 1e-6);
  gc_check("sort flat", f_sort_flat, (gc_input[]){IN(-1, 1, 2, 3)}, 1, 1e-6);
  gc_check("partition", f_partition, (gc_input[]){IN(-1, 1, 2, 5)}, 1, 1e-6);
  gc_check("topk", f_topk, (gc_input[]){IN(-1, 1, 3, 4)}, 1, 1e-6);
  gc_check("topk flat", f_topk_flat, (gc_input[]){IN(-1, 1, 2, 3)}, 1, 1e-6);
  gc_check("argsort", f_argsort, (gc_input[]){IN(-1, 1, 2, 3)}, 1, 1e-6);
}

/* ---- binary, ternary and unary ops ---- */

static lz_array *f_power(lz_array *const *x) { return lz_power(x[0], x[1]); }
static lz_array *f_cube(lz_array *const *x) { return lz_power(x[0], lz_float(3)); }
static lz_array *f_arctan2(lz_array *const *x) { return lz_arctan2(x[0], x[1]); }
static lz_array *f_logaddexp(lz_array *const *x) { return lz_logaddexp(x[0], x[1]); }
static lz_array *f_remainder(lz_array *const *x) { return lz_remainder(x[0], x[1]); }
static lz_array *f_divmod(lz_array *const *x) {
  lz_array *o[2];
  if (lz_divmod(x[0], x[1], o) != 0) return NULL;
  return lz_add(lz_multiply(o[0], x[0]), weighted(o[1]));
}
static lz_array *f_floor_divide(lz_array *const *x) { /* zero derivative: only the product */
  return lz_multiply(lz_floor_divide(x[0], x[1]), x[1]);
}
static lz_array *f_where(lz_array *const *x) {
  return weighted(lz_where(lz_greater(x[0], lz_float(0)), x[0], lz_square(x[1])));
}
static lz_array *f_clip(lz_array *const *x) {
  return weighted(lz_clip(x[0], lz_float(-0.5), x[1]));
}
static lz_array *f_nan_to_num(lz_array *const *x) {
  lz_array *y = lz_where(lz_greater(x[0], lz_float(0.5)), lz_float(INFINITY), x[0]);
  return weighted(lz_nan_to_num(y, 0, NULL, NULL));
}
/* real and imag of a complex value built from x: computed in complex64 (float32 parts). */
static lz_array *f_complex(lz_array *const *x) {
  lz_array *z = lz_astype(x[0], LZ_COMPLEX64);
  lz_array *w = lz_multiply(z, lz_conj(z));
  return lz_astype(lz_add(lz_real(w), lz_imag(z)), LZ_FLOAT64);
}

static void test_elementwise(void) {
  gc_check("power", f_power, (gc_input[]){IN(0.5, 2, 2, 3), IN(-1.5, 1.5, 3)}, 2, 1e-6);
  gc_check("power, negative base", f_cube, (gc_input[]){IN(-2, -0.5, 2, 3)}, 1, 1e-6);
  gc_check("arctan2", f_arctan2, (gc_input[]){IN(-1, 1, 2, 3), IN(0.5, 1, 2, 1)}, 2, 1e-6);
  gc_check("logaddexp", f_logaddexp, (gc_input[]){IN(-2, 2, 3), IN(-2, 2, 2, 3)}, 2, 1e-6);
  gc_check("remainder", f_remainder, (gc_input[]){IN(-3, 3, 2, 3), IN(0.7, 1.3, 3)}, 2, 1e-6);
  gc_check("divmod", f_divmod, (gc_input[]){IN(-3, 3, 2, 3), IN(0.7, 1.3, 2, 3)}, 2, 1e-6);
  gc_check("floor_divide", f_floor_divide, (gc_input[]){IN(-3, 3, 4), IN(0.7, 1.3, 4)}, 2, 1e-6);
  gc_check("where", f_where, (gc_input[]){IN(-1, 1, 2, 3), IN(-1, 1, 3)}, 2, 1e-6);
  gc_check("clip", f_clip, (gc_input[]){IN(-1, 1, 2, 4), IN(0, 0.6, 4)}, 2, 1e-6);
  gc_check("nan_to_num", f_nan_to_num, (gc_input[]){IN(-1, 1, 2, 4)}, 1, 1e-6);
  gc_check_h("complex parts", f_complex, (gc_input[]){IN(-1, 1, 5)}, 1, 1e-3, 1e-2);
}

/* ---- random samplers: derivatives follow the bounds at a fixed key ---- */

static lz_array *f_uniform(lz_array *const *x) {
  lz_array *u = lz_random_uniform(x[0], x[1], (int[]){2, 3}, 2, LZ_FLOAT32, lz_random_key(7));
  return weighted(lz_astype(u, LZ_FLOAT64));
}
static lz_array *f_truncated(lz_array *const *x) {
  lz_array *u = lz_random_truncated_normal(x[0], x[1], (int[]){4}, 1, LZ_FLOAT32,
                                           lz_random_key(3));
  return weighted(lz_astype(u, LZ_FLOAT64));
}
static lz_array *f_permute(lz_array *const *x) {
  return weighted(lz_random_permutation_array(x[0], 1, lz_random_key(11)));
}
static lz_array *f_normal(lz_array *const *x) { /* no array parameter: only the product */
  lz_array *n = lz_random_normal((int[]){3}, 1, LZ_FLOAT64, 0, 1, lz_random_key(5));
  return lz_multiply(n, x[0]);
}

static void test_random(void) {
  gc_check_h("uniform bounds", f_uniform, (gc_input[]){IN(-1, 0, 3), IN(1, 2, 2, 1)}, 2, 1e-3,
             1e-2);
  gc_check_h("truncated_normal bounds", f_truncated, (gc_input[]){IN(-1, -0.5, 4), IN(0.5, 1, 4)},
             2, 2e-3, 1e-3);
  gc_check("permutation_array", f_permute, (gc_input[]){IN(-1, 1, 2, 4)}, 1, 1e-6);
  gc_check("normal", f_normal, (gc_input[]){IN(-1, 1, 3)}, 1, 1e-6);
}

int main(void) {
  RUN(test_reductions);
  RUN(test_prod_zero);
  RUN(test_scans);
  RUN(test_sorts);
  RUN(test_elementwise);
  RUN(test_random);
  return lzt_summary();
}
