/* Derivative rules of the indexing ops: take, take_flat, take_along_axis, gather,
 * slice_dynamic, mask_select, the at_* family, put_along_axis, MLX's scatter family,
 * slice_update and slice_update_dynamic. Index arrays repeat entries (cotangents accumulate;
 * for "set" only the update that stays gets one) and include negative indices. Checked against
 * central differences in float64 and vjp against jvp (tests/test_grad_check.h). */
#include "test_grad_check.h"

#define IN(lo, hi, ...) {(int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), {__VA_ARGS__}, lo, hi}

static lz_array *ints(const int32_t *v, const int *shape, int ndim) {
  return lz_array_from_data(v, shape, ndim, LZ_INT32);
}
static lz_array *weight(lz_array *x) {
  int n = (int)lz_array_size(x);
  lz_array *r = lz_arange(1, 1 + n, 1, LZ_FLOAT64);
  return lz_reshape(lz_sin(r), lz_array_shape(x), lz_array_ndim(x));
}
static lz_array *weighted(lz_array *y) { return lz_multiply(y, weight(y)); }
static lz_array *tr(lz_array *x) { return lz_transpose(x, NULL, 0); }

/* ---- gathers ---- */

static lz_array *f_take(lz_array *const *x) {
  lz_array *i = ints((int32_t[]){2, 0, 2, -1, 1, 2}, (int[]){2, 3}, 2);
  return weighted(lz_take(x[0], i, 1));
}
static lz_array *f_take_flat(lz_array *const *x) {
  lz_array *i = ints((int32_t[]){5, 0, 5, -2}, (int[]){4}, 1);
  return weighted(lz_take_flat(tr(x[0]), i));
}
static lz_array *f_take_along(lz_array *const *x) { /* indices broadcast along axis 0 */
  lz_array *i = ints((int32_t[]){1, 1, 0, 3, -1, 1}, (int[]){1, 2, 3}, 3);
  return weighted(lz_take_along_axis(x[0], i, 2));
}
static lz_array *f_take_along_b(lz_array *const *x) { /* x broadcasts against the indices */
  lz_array *i = ints((int32_t[]){0, 2, 2, 1, 0, 0}, (int[]){3, 2}, 2);
  return weighted(lz_take_along_axis(x[0], i, 1));
}
static lz_array *f_gather(lz_array *const *x) {
  lz_array *i0 = ints((int32_t[]){0, 2, 0}, (int[]){3}, 1);
  lz_array *i1 = ints((int32_t[]){1, 0, 1}, (int[]){3}, 1);
  lz_array *idx[2] = {i0, i1};
  return weighted(lz_gather(x[0], idx, (int[]){0, 2}, 2, (int[]){1, 2, 2}));
}
static lz_array *f_slice_dynamic(lz_array *const *x) {
  lz_array *st = ints((int32_t[]){1, -3}, (int[]){2}, 1);
  return weighted(lz_slice_dynamic(tr(x[0]), st, (int[]){0, 1}, 2, (int[]){2, 2}));
}
static lz_array *f_mask_select(lz_array *const *x) {
  bool m[6] = {true, false, true, true, false, true};
  lz_array *mask = lz_array_from_data(m, (int[]){2, 3}, 2, LZ_BOOL);
  return weighted(lz_mask_select(x[0], mask));
}

static void test_gathers(void) {
  gc_check("take", f_take, (gc_input[]){IN(-1, 1, 2, 3, 2)}, 1, 1e-6);
  gc_check("take_flat", f_take_flat, (gc_input[]){IN(-1, 1, 2, 3)}, 1, 1e-6);
  gc_check("take_along_axis", f_take_along, (gc_input[]){IN(-1, 1, 2, 2, 4)}, 1, 1e-6);
  gc_check("take_along_axis, broadcast input", f_take_along_b, (gc_input[]){IN(-1, 1, 1, 3)}, 1,
           1e-6);
  gc_check("gather", f_gather, (gc_input[]){IN(-1, 1, 3, 2, 3)}, 1, 1e-6);
  gc_check("slice_dynamic", f_slice_dynamic, (gc_input[]){IN(-1, 1, 4, 3)}, 1, 1e-6);
  gc_check("mask_select", f_mask_select, (gc_input[]){IN(-1, 1, 2, 3, 2)}, 1, 1e-6);
}

/* ---- scatters: x[0] is the array, x[1] the values ---- */

static lz_array *at_idx(void) { return ints((int32_t[]){1, -1, 1, 0}, (int[]){4}, 1); }
#define AT_BODY(NAME)                                                                            \
  static lz_array *f_at_##NAME(lz_array *const *x) {                                             \
    return weighted(lz_at_##NAME(x[0], at_idx(), x[1], 1));                                      \
  }
AT_BODY(set) AT_BODY(add) AT_BODY(subtract) AT_BODY(multiply) AT_BODY(divide) AT_BODY(maximum)
AT_BODY(minimum)

static lz_array *f_put_along(lz_array *const *x) {
  lz_array *i = ints((int32_t[]){2, 0, 2, 1, 1, 1}, (int[]){2, 3}, 2);
  return weighted(lz_put_along_axis(x[0], i, x[1], 1));
}
static lz_array *scatter_idx(int k) {
  static const int32_t v[2][3] = {{0, 2, 0}, {1, 0, 1}};
  return ints(v[k], (int[]){3}, 1);
}
#define SCATTER_BODY(NAME)                                                                       \
  static lz_array *f_##NAME(lz_array *const *x) {                                                \
    lz_array *idx[2] = {scatter_idx(0), scatter_idx(1)};                                         \
    return weighted(lz_##NAME(x[0], idx, (int[]){0, 1}, 2, x[1]));                               \
  }
SCATTER_BODY(scatter) SCATTER_BODY(scatter_add) SCATTER_BODY(scatter_prod)
SCATTER_BODY(scatter_max) SCATTER_BODY(scatter_min)

static lz_array *f_slice_update(lz_array *const *x) { /* negative step, broadcast update */
  return weighted(lz_slice_update(x[0], x[1], (int[]){3, 0}, (int[]){-5, 4}, (int[]){-2, 2}));
}
static lz_array *f_slice_update_dyn(lz_array *const *x) {
  lz_array *st = ints((int32_t[]){-2}, (int[]){1}, 1);
  return weighted(lz_slice_update_dynamic(tr(x[0]), x[1], st, (int[]){1}, 1));
}

static void test_at(void) {
  gc_input in[2] = {IN(-1, 1, 2, 3), IN(-1, 1, 2, 4)};
  gc_input pos[2] = {IN(0.5, 2, 2, 3), IN(0.5, 2, 2, 4)};
  gc_check("at_set", f_at_set, in, 2, 1e-6);
  gc_check("at_add", f_at_add, in, 2, 1e-6);
  gc_check("at_subtract", f_at_subtract, in, 2, 1e-6);
  gc_check("at_multiply", f_at_multiply, in, 2, 1e-6);
  gc_check("at_divide", f_at_divide, pos, 2, 1e-6);
  gc_check("at_maximum", f_at_maximum, in, 2, 1e-6);
  gc_check("at_minimum", f_at_minimum, in, 2, 1e-6);
  gc_input bc[2] = {IN(-1, 1, 2, 3), IN(-1, 1, 4)}; /* values broadcast */
  gc_check("at_add, broadcast values", f_at_add, bc, 2, 1e-6);
  gc_check("at_set, broadcast values", f_at_set, bc, 2, 1e-6);
  gc_check("at_multiply, broadcast values", f_at_multiply, bc, 2, 1e-6);
  gc_check("put_along_axis", f_put_along, (gc_input[]){IN(-1, 1, 2, 4), IN(-1, 1, 2, 3)}, 2, 1e-6);
  gc_check("put_along_axis, broadcast values", f_put_along,
           (gc_input[]){IN(-1, 1, 2, 4), IN(-1, 1, 1, 3)}, 2, 1e-6);
}

static void test_scatter(void) {
  gc_input in[2] = {IN(-1, 1, 3, 2, 2), IN(-1, 1, 3, 1, 1, 2)};
  gc_check("scatter", f_scatter, in, 2, 1e-6);
  gc_check("scatter_add", f_scatter_add, in, 2, 1e-6);
  gc_check("scatter_prod", f_scatter_prod, in, 2, 1e-6);
  gc_check("scatter_max", f_scatter_max, in, 2, 1e-6);
  gc_check("scatter_min", f_scatter_min, in, 2, 1e-6);
  gc_check("slice_update", f_slice_update, (gc_input[]){IN(-1, 1, 5, 4), IN(-1, 1, 2)}, 2, 1e-6);
  gc_check("slice_update_dynamic", f_slice_update_dyn,
           (gc_input[]){IN(-1, 1, 3, 4), IN(-1, 1, 4, 1)}, 2, 1e-6);
}

/* at_set with a repeated index: only the last update at a place gets its cotangent. */
static lz_array *f_set_sum(lz_array *const *x) {
  lz_array *i = ints((int32_t[]){1, 1, 0}, (int[]){3}, 1);
  return lz_sum(lz_at_set(x[0], i, x[1], 0), false);
}
static void test_set_winner(void) {
  double a[3] = {1, 2, 3}, v[3] = {4, 5, 6};
  lz_array *in[2] = {lz_array_from_data(a, (int[]){3}, 1, LZ_FLOAT64),
                     lz_array_from_data(v, (int[]){3}, 1, LZ_FLOAT64)};
  lz_closure *f = gc_closure(f_set_sum), *g = lz_grad(f, (int[]){0, 1}, 2);
  lz_array *out[2];
  CHECK(lz_closure_call(g, in, 2, out) == 2);
  CHECK_VALUES(out[0], ((double[]){0, 0, 1}), 3, 0);
  CHECK_VALUES(out[1], ((double[]){0, 1, 1}), 3, 0);
  lz_closure_free(g), lz_closure_free(f);
}

/* at_add with a repeated index accumulates: d/dx sum(w * x[i]) adds the weights. */
static lz_array *f_take_rep(lz_array *const *x) {
  lz_array *i = ints((int32_t[]){2, 2, 2, 0}, (int[]){4}, 1);
  return lz_sum(lz_take(x[0], i, 0), false);
}
static void test_take_accumulates(void) {
  double a[3] = {1, 2, 3};
  lz_array *x = lz_array_from_data(a, (int[]){3}, 1, LZ_FLOAT64), *out[1];
  lz_closure *f = gc_closure(f_take_rep), *g = lz_grad(f, NULL, 0);
  CHECK(lz_closure_call(g, &x, 1, out) == 1);
  CHECK_VALUES(out[0], ((double[]){1, 0, 3}), 3, 0);
  lz_closure_free(g), lz_closure_free(f);
}

int main(void) {
  RUN(test_gathers);
  RUN(test_at);
  RUN(test_scatter);
  RUN(test_set_winner);
  RUN(test_take_accumulates);
  return lzt_summary();
}
