/* Derivative rules of the shape ops and the composites built on them (slice, flip, diagonal,
 * as_strided, split, unstack, concatenate, stack, pad, tile, repeat, roll, diag, tril/triu,
 * kron, squeeze/expand_dims, moveaxis/swapaxes): vjp and jvp against central differences in
 * float64, and vjp against jvp (tests/test_grad_check.h). Each body multiplies by a second
 * input or a fixed weight so that the cotangent reaching the op is not uniform. */
#include "test_grad_check.h"

#define IN(lo, hi, ...) {(int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), {__VA_ARGS__}, lo, hi}

/* A fixed, non-uniform weight of x's shape: sin(1 + index). */
static lz_array *weight(lz_array *x) {
  int n = (int)lz_array_size(x);
  lz_array *r = lz_arange(1, 1 + n, 1, LZ_FLOAT64);
  return lz_reshape(lz_sin(r), lz_array_shape(x), lz_array_ndim(x));
}
static lz_array *weighted(lz_array *y) { return lz_multiply(y, weight(y)); }
/* x transposed (a non-contiguous view) for ops to read. */
static lz_array *tr(lz_array *x) { return lz_transpose(x, NULL, 0); }

/* full with an array: the cotangent sums over the broadcast axes */
static lz_array *f_full_array(lz_array *const *x) {
  return weighted(lz_full_array((int[]){2, 3, 4}, 3, x[0], LZ_FLOAT64));
}
static lz_array *f_slice(lz_array *const *x) {
  return weighted(lz_slice(x[0], (int[]){1, 0}, (int[]){3, 5}, (int[]){1, 2}, 2));
}
static lz_array *f_slice_neg(lz_array *const *x) { /* negative steps on a transposed view */
  return weighted(lz_slice(tr(x[0]), (int[]){4, 2}, (int[]){-6, 0}, (int[]){-2, -1}, 2));
}
static lz_array *f_flip(lz_array *const *x) {
  return weighted(lz_flip(x[0], (int[]){1}, 1));
}
static lz_array *f_diagonal(lz_array *const *x) {
  return weighted(lz_diagonal(x[0], 1, 0, 2));
}
static lz_array *f_diagonal_neg(lz_array *const *x) {
  return weighted(lz_diagonal(tr(x[0]), -1, 2, 1));
}
/* overlapping windows: elements read twice accumulate */
static lz_array *f_as_strided(lz_array *const *x) {
  int64_t st[2] = {2, 1};
  return weighted(lz_as_strided(x[0], (int[]){3, 3}, 2, st, 1));
}
static lz_array *f_as_strided_t(lz_array *const *x) { /* on a non-contiguous input */
  int64_t st[2] = {1, 3};
  return weighted(lz_as_strided(tr(x[0]), (int[]){4, 2}, 2, st, 0));
}
static lz_array *f_split(lz_array *const *x) {
  lz_array *p[3];
  if (lz_split(x[0], 3, 1, p) != 0) return NULL;
  /* the middle part is dropped: its cotangent is zero */
  return lz_subtract(lz_multiply(p[0], lz_float(2)), lz_square(p[2]));
}
static lz_array *f_split_indices(lz_array *const *x) {
  lz_array *p[3];
  if (lz_split_indices(tr(x[0]), (int[]){1, 3}, 2, 0, p) != 0) return NULL;
  return lz_add(weighted(p[1]), lz_sum_axis(lz_square(p[2]), 0, true));
}
static lz_array *f_unstack(lz_array *const *x) {
  lz_array *p[4];
  if (lz_unstack(x[0], 0, p) != 0) return NULL;
  return lz_add(lz_multiply(p[0], p[3]), weighted(p[1]));
}
static lz_array *f_concatenate(lz_array *const *x) {
  lz_array *parts[3] = {x[0], tr(x[1]), x[0]};
  return weighted(lz_concatenate(parts, 3, 0));
}
static lz_array *f_stack(lz_array *const *x) {
  lz_array *parts[2] = {x[0], lz_square(x[1])};
  return weighted(lz_stack(parts, 2, 1));
}
static lz_array *f_pad(lz_array *const *x) {
  return weighted(lz_pad(x[0], NULL, 2, (int[]){1, 0}, (int[]){2, 3}, "constant", 1.5));
}
static lz_array *f_pad_edge(lz_array *const *x) {
  return weighted(lz_pad(tr(x[0]), (int[]){1, 0}, 2, (int[]){2, 1}, (int[]){3, 0}, "edge", 0));
}
static lz_array *f_tile(lz_array *const *x) { return weighted(lz_tile(x[0], (int[]){2, 1, 3}, 3)); }
static lz_array *f_repeat(lz_array *const *x) { return weighted(lz_repeat(tr(x[0]), 3, 1)); }
static lz_array *f_roll(lz_array *const *x) {
  return weighted(lz_roll(x[0], (int[]){1, -3}, (int[]){0, 1}, 2));
}
static lz_array *f_roll_flat(lz_array *const *x) { return weighted(lz_roll(x[0], (int[]){4}, NULL, 0)); }
static lz_array *f_diag(lz_array *const *x) { return weighted(lz_diag(x[0], -1)); }
static lz_array *f_diag2(lz_array *const *x) { return weighted(lz_diag(x[0], 2)); }
static lz_array *f_tril(lz_array *const *x) { return weighted(lz_tril(x[0], -1)); }
static lz_array *f_triu(lz_array *const *x) { return weighted(lz_triu(tr(x[0]), 1)); }
static lz_array *f_kron(lz_array *const *x) { return weighted(lz_kron(x[0], x[1])); }
static lz_array *f_squeeze(lz_array *const *x) {
  lz_array *s = lz_squeeze(x[0], (int[]){1}, 1);
  return weighted(lz_expand_dims(lz_multiply(s, s), (int[]){0, 3}, 2));
}
static lz_array *f_moveaxis(lz_array *const *x) {
  return weighted(lz_swapaxes(lz_moveaxis(x[0], 0, -1), 0, 1));
}

static void test_views(void) {
  gc_check("slice", f_slice, (gc_input[]){IN(-1, 1, 4, 5)}, 1, 1e-6);
  gc_check("slice, negative steps", f_slice_neg, (gc_input[]){IN(-1, 1, 3, 6)}, 1, 1e-6);
  gc_check("flip", f_flip, (gc_input[]){IN(-1, 1, 2, 3, 2)}, 1, 1e-6);
  gc_check("diagonal", f_diagonal, (gc_input[]){IN(-1, 1, 3, 2, 4)}, 1, 1e-6);
  gc_check("diagonal, negative offset", f_diagonal_neg, (gc_input[]){IN(-1, 1, 3, 4, 2)}, 1,
           1e-6);
  gc_check("as_strided", f_as_strided, (gc_input[]){IN(-1, 1, 3, 3)}, 1, 1e-6);
  gc_check("as_strided transposed", f_as_strided_t, (gc_input[]){IN(-1, 1, 3, 4)}, 1, 1e-6);
  gc_check("squeeze/expand_dims", f_squeeze, (gc_input[]){IN(-1, 1, 2, 1, 3)}, 1, 1e-6);
  gc_check("moveaxis/swapaxes", f_moveaxis, (gc_input[]){IN(-1, 1, 2, 3, 4)}, 1, 1e-6);
}

static void test_split_join(void) {
  gc_check("split", f_split, (gc_input[]){IN(-1, 1, 2, 6)}, 1, 1e-6);
  gc_check("split_indices", f_split_indices, (gc_input[]){IN(-1, 1, 3, 5)}, 1, 1e-6);
  gc_check("unstack", f_unstack, (gc_input[]){IN(-1, 1, 4, 3)}, 1, 1e-6);
  gc_check("concatenate", f_concatenate, (gc_input[]){IN(-1, 1, 2, 3), IN(-1, 1, 3, 4)}, 2,
           1e-6);
  gc_check("stack", f_stack, (gc_input[]){IN(-1, 1, 2, 3), IN(-1, 1, 2, 3)}, 2, 1e-6);
  gc_check("kron", f_kron, (gc_input[]){IN(-1, 1, 2, 3), IN(-1, 1, 3, 2)}, 2, 1e-6);
  gc_check("kron, broadcast ranks", f_kron, (gc_input[]){IN(-1, 1, 3), IN(-1, 1, 2, 2)}, 2, 1e-6);
}

static void test_copies(void) {
  gc_check("pad constant", f_pad, (gc_input[]){IN(-1, 1, 2, 3)}, 1, 1e-6);
  gc_check("pad edge", f_pad_edge, (gc_input[]){IN(-1, 1, 3, 2)}, 1, 1e-6);
  gc_check("tile", f_tile, (gc_input[]){IN(-1, 1, 2, 3)}, 1, 1e-6);
  gc_check("repeat", f_repeat, (gc_input[]){IN(-1, 1, 3, 2)}, 1, 1e-6);
  gc_check("roll", f_roll, (gc_input[]){IN(-1, 1, 3, 4)}, 1, 1e-6);
  gc_check("roll flat", f_roll_flat, (gc_input[]){IN(-1, 1, 2, 3)}, 1, 1e-6);
  gc_check("diag vector", f_diag, (gc_input[]){IN(-1, 1, 3)}, 1, 1e-6);
  gc_check("diag matrix", f_diag2, (gc_input[]){IN(-1, 1, 3, 4)}, 1, 1e-6);
  gc_check("full_array", f_full_array, (gc_input[]){IN(-1, 1, 3, 1)}, 1, 1e-6);
  gc_check("tril", f_tril, (gc_input[]){IN(-1, 1, 2, 3, 3)}, 1, 1e-6);
  gc_check("triu", f_triu, (gc_input[]){IN(-1, 1, 4, 3)}, 1, 1e-6);
}

/* The cotangent of a dropped split output is zero, exactly. */
static void test_split_zero_cotangent(void) {
  lz_closure *f = gc_closure(f_split);
  double v[12];
  for (int i = 0; i < 12; i++) v[i] = i;
  lz_array *x = lz_array_from_data(v, (int[]){2, 6}, 2, LZ_FLOAT64), *cot, *gr;
  lz_array *out[1];
  CHECK(lz_closure_call(f, &x, 1, out) == 1);
  cot = lz_ones_like(out[0]);
  CHECK(lz_vjp(f, &x, 1, &cot, 1, NULL, &gr) == 0);
  /* d/dx of 2 p0 - p2^2: 2 on the first part, 0 on the middle, -2 x on the last */
  CHECK_VALUES(gr, ((double[]){2, 2, 0, 0, -8, -10, 2, 2, 0, 0, -20, -22}), 12, 1e-12);
  lz_closure_free(f);
}

int main(void) {
  RUN(test_views);
  RUN(test_split_join);
  RUN(test_copies);
  RUN(test_split_zero_cotangent);
  return lzt_summary();
}
