/* C ergonomics: scalar operands with nothing to free outside a scope (the leak check of the
 * ASan build fails if a form leaks), lz_item telling an error from a 0, and the conv forms with
 * one options struct giving exactly what the bare-int forms give. */
#include "lz_test.h"

static void test_scalar_forms_outside_a_scope(void) {
  CHECK(lz_scope_depth() == 0);
  lz_array *i = lz_array_from_data((int32_t[]){1, 2, 3}, (int[]){3}, 1, LZ_INT32);
  lz_array *f = lz_array_from_data((float[]){1, 2, 3}, (int[]){3}, 1, LZ_FLOAT32);
  struct {
    lz_array *r;
    lz_dtype dtype;
    double want[3];
  } c[] = {
      {lz_multiply_scalar(i, 2), LZ_INT32, {2, 4, 6}},
      {lz_multiply_scalar(i, 0.5), LZ_FLOAT32, {0.5, 1, 1.5}},
      {lz_add_scalar(f, 1), LZ_FLOAT32, {2, 3, 4}},
      {lz_subtract_scalar(i, 1), LZ_INT32, {0, 1, 2}},
      {lz_divide_scalar(i, 2), LZ_FLOAT32, {0.5, 1, 1.5}},
      {lz_power_scalar(f, 2), LZ_FLOAT32, {1, 4, 9}},
      {lz_maximum_scalar(i, 2), LZ_INT32, {2, 2, 3}},
      {lz_minimum_scalar(f, 2.5), LZ_FLOAT32, {1, 2, 2.5}},
      {lz_floor_divide_scalar(i, 2), LZ_INT32, {0, 1, 1}},
      {lz_remainder_scalar(i, 2), LZ_INT32, {1, 0, 1}},
      {lz_equal_scalar(i, 2), LZ_BOOL, {0, 1, 0}},
      {lz_not_equal_scalar(i, 2), LZ_BOOL, {1, 0, 1}},
      {lz_less_scalar(f, 2), LZ_BOOL, {1, 0, 0}},
      {lz_less_equal_scalar(f, 2), LZ_BOOL, {1, 1, 0}},
      {lz_greater_scalar(f, 2), LZ_BOOL, {0, 0, 1}},
      {lz_greater_equal_scalar(f, 2), LZ_BOOL, {0, 1, 1}},
  };
  for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
    CHECK(c[k].r && lz_array_dtype(c[k].r) == c[k].dtype);
    CHECK_VALUES(c[k].r, c[k].want, 3, 0);
    lz_free(c[k].r);
  }
  /* inside a scope they behave the same */
  lz_scope_begin();
  CHECK_VALUES(lz_multiply_scalar(f, 3), ((double[]){3, 6, 9}), 3, 0);
  lz_scope_end();
  CHECK_ERROR(lz_add_scalar(NULL, 1), "[lz_add_scalar]");
  lz_free(i), lz_free(f);
}

static void test_item_status(void) {
  lz_array *z = lz_scalar(0, LZ_FLOAT32), *two = lz_scalar(2.75, LZ_FLOAT64);
  lz_array *v = lz_array_from_data((float[]){1, 2}, (int[]){2}, 1, LZ_FLOAT32);
  float f = -1;
  CHECK(lz_item(z, LZ_FLOAT32, &f) == 0 && f == 0);
  int32_t n = -1;
  CHECK(lz_item(two, LZ_INT32, &n) == 0 && n == 2); /* converted as lz_astype does */
  double d = 0;
  CHECK(lz_item(two, LZ_FLOAT64, &d) == 0 && d == 2.75);
  f = 42;
  lz_clear_error();
  CHECK(lz_item(v, LZ_FLOAT32, &f) == -1 && f == 42); /* an error, told apart from a 0 */
  CHECK(strstr(lz_last_error(), "[lz_item] item needs a one-element array, got shape (2,)") != NULL);
  lz_clear_error();
  CHECK(lz_item(NULL, LZ_FLOAT32, &f) == -1);
  lz_clear_error();
  CHECK(lz_item(z, LZ_FLOAT32, NULL) == -1);
  lz_clear_error();
  lz_free(z), lz_free(two), lz_free(v);
}

static bool same(lz_array *a, lz_array *b) {
  bool ok = a && b && lz_array_size(a) == lz_array_size(b) && lz_array_ndim(a) == lz_array_ndim(b);
  if (!ok) return false;
  size_t n = lz_array_size(a);
  float *x = malloc(n * 4), *y = malloc(n * 4);
  ok = lz_array_read(a, LZ_FLOAT32, x, n * 4) == 0 && lz_array_read(b, LZ_FLOAT32, y, n * 4) == 0 &&
       memcmp(x, y, n * 4) == 0;
  free(x), free(y);
  return ok;
}

static void test_conv_option_forms(void) {
  lz_scope_begin();
  lz_array *x2 = lz_random_normal((int[]){2, 9, 8, 4}, 4, LZ_FLOAT32, 0, 1, lz_random_key(1));
  lz_array *w2 = lz_random_normal((int[]){6, 3, 2, 2}, 4, LZ_FLOAT32, 0, 1, lz_random_key(2));
  CHECK(same(lz_conv2d_v2(x2, w2, &(lz_conv_opts){.stride = {2, 1}, .padding = {1, 2},
                                                   .dilation = {1, 2}, .groups = 2}),
             lz_conv2d(x2, w2, 2, 1, 1, 2, 1, 2, 2)));
  lz_array *w2g1 = lz_random_normal((int[]){6, 3, 2, 4}, 4, LZ_FLOAT32, 0, 1, lz_random_key(3));
  CHECK(same(lz_conv2d_v2(x2, w2g1, NULL), lz_conv2d(x2, w2g1, 1, 1, 0, 0, 1, 1, 1)));
  lz_array *x3 = lz_random_normal((int[]){1, 5, 6, 7, 2}, 5, LZ_FLOAT32, 0, 1, lz_random_key(4));
  lz_array *w3 = lz_random_normal((int[]){3, 2, 3, 2, 2}, 5, LZ_FLOAT32, 0, 1, lz_random_key(5));
  CHECK(same(lz_conv3d_v2(x3, w3, &(lz_conv_opts){.stride = {1, 2, 3}, .padding = {1, 0, 1},
                                                   .dilation = {2, 1, 1}}),
             lz_conv3d(x3, w3, 1, 2, 3, 1, 0, 1, 2, 1, 1, 1)));
  CHECK(same(lz_conv_transpose2d_v2(x2, w2g1, &(lz_conv_opts){.stride = {2, 2}, .padding = {1, 0},
                                                               .output_padding = {1, 0}}),
             lz_conv_transpose2d(x2, w2g1, 2, 2, 1, 0, 1, 1, 1, 0, 1)));
  CHECK(same(lz_conv_transpose3d_v2(x3, w3, &(lz_conv_opts){.stride = {2, 1, 1}}),
             lz_conv_transpose3d(x3, w3, 2, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1)));
  /* errors name the op and shapes as the bare forms do */
  CHECK_ERROR(lz_conv2d_v2(x2, w3, NULL), "[lz_conv2d]");
  lz_scope_end();
}

int main(void) {
  /* run outside the harness's scope: what a C user without scopes writes */
  lzt_current = "test_scalar_forms_outside_a_scope";
  test_scalar_forms_outside_a_scope();
  CHECK(lz_get_active_memory() == 0);
  RUN(test_item_status);
  RUN(test_conv_option_forms);
  return lzt_summary();
}
