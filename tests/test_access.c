/* Reading data back (lz_array_data, lz_array_read, lz_item_*, printing) from arrays whose
 * evaluation fails: every reader returns its error value with a message, nothing crashes or
 * leaks, and the array stays pending so that a later read, once the cause is gone, succeeds. */
#include "lz_test.h"

/* A singular matrix: its inverse fails at evaluation (a data-dependent kernel error). */
static lz_array *singular_inverse(void) {
  lz_array *s = lz_array_from_data((double[]){1, 2, 2, 4}, (int[]){2, 2}, 2, LZ_FLOAT64);
  return lz_linalg_inv(s);
}

/* Every reader on `a` fails with a message containing `needle`. */
static void check_readers_fail(lz_array *a, const char *needle) {
  CHECK_ERROR(lz_array_data(a), needle);
  double buf[16];
  lz_clear_error();
  CHECK(lz_array_read(a, LZ_FLOAT64, buf, sizeof buf) == -1);
  CHECK(strstr(lz_last_error(), needle) != NULL);
  CHECK_ERROR(lz_array_tostring(a), needle);
  CHECK(lz_array_print(a, stderr) == -1);
  CHECK(strstr(lz_last_error(), needle) != NULL);
  lz_clear_error();
  CHECK(!lz_array_is_evaluated(a));
}

/* Items of a failed one-element array are 0 / false with the error set. */
static void check_items_fail(lz_array *a, const char *needle) {
  lz_clear_error();
  CHECK(lz_item_f64(a) == 0.0 && strstr(lz_last_error(), needle));
  lz_clear_error();
  CHECK(lz_item_f32(a) == 0.0f && strstr(lz_last_error(), needle));
  lz_clear_error();
  CHECK(lz_item_i64(a) == 0 && strstr(lz_last_error(), needle));
  lz_clear_error();
  CHECK(!lz_item_bool(a) && strstr(lz_last_error(), needle));
  lz_clear_error();
}

static void test_kernel_failure(void) {
  lz_array *inv = singular_inverse();
  CHECK(inv != NULL);
  check_readers_fail(inv, "[lz_linalg_inv] matrix 0 of the batch is singular");
  /* the same again: the failed node stays pending and fails the same way */
  check_readers_fail(inv, "singular");
  /* consumers of the failed array fail too, as items and as data */
  lz_array *total = lz_sum(lz_add(inv, lz_float(1)), false);
  check_items_fail(total, "singular");
  check_readers_fail(lz_multiply(inv, inv), "singular");
  /* a NOT failed sibling graph is unaffected */
  CHECK(lz_item_f64(lz_sum(lz_arange(0, 4, 1, LZ_FLOAT32), false)) == 6);
}

static void test_eval_many_failure(void) {
  lz_array *ok = lz_multiply(lz_arange(0, 3, 1, LZ_FLOAT32), lz_float(2));
  lz_array *bad = singular_inverse();
  lz_array *both[2] = {ok, bad};
  lz_clear_error();
  CHECK(lz_eval_many(both, 2) == -1);
  CHECK(strstr(lz_last_error(), "singular") != NULL);
  lz_clear_error();
  /* whatever ran before the failure is valid; the rest is readable or fails again cleanly */
  CHECK_VALUES(ok, ((double[]){0, 2, 4}), 3, 0);
  check_readers_fail(bad, "singular");
}

static void test_async_failure(void) {
  lz_array *bad = singular_inverse();
  CHECK(lz_async_eval(bad) == 0);
  CHECK_ERROR(lz_array_data(bad), "singular"); /* the background error is reported here */
  check_readers_fail(bad, "singular");         /* and again on a new evaluation */
  lz_array *s = lz_sum(bad, false);
  CHECK(lz_async_eval(s) == 0);
  check_items_fail(s, "singular");
}

/* Out of memory during evaluation: a clean error, and the array evaluates once memory is back. */
static void test_alloc_failure_then_retry(void) {
  lz_array *x = lz_exp(lz_arange(0, 64, 1, LZ_FLOAT32));
  lz_array *y = lz_sum(lz_multiply(x, lz_float(0)), false);
  lz_set_alloc_failure(1);
  lz_clear_error();
  CHECK(lz_item_f64(y) == 0);
  CHECK(lz_last_error_code() == LZ_ERROR_OUT_OF_MEMORY);
  lz_set_alloc_failure(0);
  lz_clear_error();
  CHECK(lz_item_f64(y) == 0 && lz_last_error()[0] == 0);
  CHECK(lz_array_is_evaluated(y));

  /* the memory limit: data of a fresh array fails, then succeeds without the limit */
  lz_array *big = lz_add(lz_zeros((int[]){1 << 14}, 1, LZ_FLOAT32), lz_float(3));
  size_t old = lz_set_memory_limit(lz_get_active_memory() + 1024);
  CHECK_ERROR(lz_array_data(big), "");
  CHECK(!lz_array_is_evaluated(big));
  float v = 0;
  lz_clear_error();
  CHECK(lz_array_read(big, LZ_FLOAT32, &v, sizeof v) == -1); /* too small a buffer or no memory */
  lz_clear_error();
  lz_set_memory_limit(old);
  const float *p = lz_array_data(big);
  CHECK(p && p[0] == 3 && p[(1 << 14) - 1] == 3);

  /* a strided view needs a contiguous copy for lz_array_data: that allocation may fail too */
  lz_array *t = lz_transpose(lz_reshape(lz_arange(0, 6, 1, LZ_INT32), (int[]){2, 3}, 2), NULL, 0);
  CHECK(lz_eval(t) == 0);
  lz_set_alloc_failure(1);
  CHECK_ERROR(lz_array_data(t), "out of memory");
  lz_set_alloc_failure(0);
  const int32_t *d = lz_array_data(t);
  CHECK(d && d[0] == 0 && d[1] == 3 && d[2] == 1 && d[5] == 5);
}

static void test_null_and_pending(void) {
  CHECK_ERROR(lz_array_data(NULL), "[lz_array_data] array is NULL");
  CHECK_ERROR(lz_array_tostring(NULL), "[lz_array_tostring] array is NULL");
  lz_clear_error();
  CHECK(lz_item_f64(NULL) == 0 && strstr(lz_last_error(), "[lz_item_f64] array is NULL"));
  lz_clear_error();
  CHECK(lz_array_read(NULL, LZ_FLOAT32, NULL, 0) == -1);
  CHECK(strstr(lz_last_error(), "[lz_array_read] array is NULL") != NULL);
  /* a NULL from a failed op passes its first error through every reader */
  lz_clear_error();
  lz_array *bad = lz_add(lz_zeros((int[]){2}, 1, LZ_FLOAT32), lz_zeros((int[]){3}, 1, LZ_FLOAT32));
  CHECK(bad == NULL);
  CHECK(lz_item_i64(lz_sum(bad, false)) == 0);
  CHECK(lz_array_data(bad) == NULL);
  CHECK(strstr(lz_last_error(), "[lz_add]") != NULL);
  lz_clear_error();
}

static void test_reader_argument_errors(void) {
  lz_array *x = lz_arange(0, 6, 1, LZ_INT32);
  CHECK_ERROR(lz_array_data(lz_reshape(x, (int[]){4}, 1)), "[lz_reshape]");
  lz_clear_error();
  CHECK(lz_item_f64(x) == 0);
  CHECK(strstr(lz_last_error(), "[lz_item_f64] item needs a one-element array, got shape (6,)"));
  lz_clear_error();
  CHECK(lz_item_i64(lz_zeros((int[]){0}, 1, LZ_INT32)) == 0);
  CHECK(strstr(lz_last_error(), "got shape (0,)") != NULL);
  lz_clear_error();
  int32_t small[2];
  CHECK(lz_array_read(x, LZ_INT32, small, sizeof small) == -1);
  CHECK(strstr(lz_last_error(), "destination holds 8 bytes, 24 needed for 6 int32 elements"));
  lz_clear_error();
  CHECK(lz_array_read(x, (lz_dtype)77, small, sizeof small) == -1);
  CHECK(strstr(lz_last_error(), "[lz_array_read] invalid dtype 77") != NULL);
  lz_clear_error();
  /* reading converts, and reads strided views in row-major order */
  double got[6];
  lz_array *t = lz_transpose(lz_reshape(x, (int[]){2, 3}, 2), NULL, 0);
  CHECK(lz_array_read(t, LZ_FLOAT64, got, sizeof got) == 0);
  CHECK(got[0] == 0 && got[1] == 3 && got[2] == 1 && got[3] == 4 && got[4] == 2 && got[5] == 5);
  /* items of every kind of one-element array */
  CHECK(lz_item_bool(lz_array_from_data((float[]){0, 1}, (int[]){1}, 1, LZ_COMPLEX64)));
  CHECK(!lz_item_bool(lz_scalar(0, LZ_FLOAT16)));
  CHECK(lz_item_i64(lz_scalar(-7, LZ_INT8)) == -7);
  CHECK(lz_item_f32(lz_reshape(lz_scalar(2.5, LZ_BFLOAT16), (int[]){1, 1}, 2)) == 2.5f);
}

int main(void) {
  RUN(test_kernel_failure);
  RUN(test_eval_many_failure);
  RUN(test_async_failure);
  RUN(test_alloc_failure_then_retry);
  RUN(test_null_and_pending);
  RUN(test_reader_argument_errors);
  return lzt_summary();
}
