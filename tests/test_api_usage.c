/* The public API used the way a program (an MNIST-style training script) uses it: nested
 * expressions in nested scopes, lz_keep across scopes, lz_free and lz_retain inside scopes,
 * lz_eval_many over shared subgraphs, lz_dict round trips through files, a training loop whose
 * memory stays flat, and printing every dtype. Printed text is checked against NumPy's layout
 * (tests/data/print_refs.h, from scripts/gen_print_refs.py). */
#include "lz_test.h"

#include <stdint.h>
#include <unistd.h>

#include "data/print_refs.h"

static lz_array *iota_f32(int n) { return lz_arange(0, n, 1, LZ_FLOAT32); }

/* ---- scopes ------------------------------------------------------------------------------- */

static void test_nested_scopes_keep(void) {
  int depth = lz_scope_depth();
  lz_array *x = iota_f32(1000); /* belongs to the test's scope */
  CHECK(lz_eval(x) == 0);
  size_t base = lz_get_active_memory();
  lz_array *kept_far, *kept_near;
  lz_scope_begin();
  {
    lz_array *mid;
    lz_scope_begin();
    {
      CHECK(lz_scope_depth() == depth + 2);
      lz_array *t = lz_multiply(x, x); /* temporaries: released by the inner scope's end */
      mid = lz_keep(lz_add(lz_sqrt(t), lz_float(1)));
      kept_far = lz_keep(lz_subtract(t, x)); /* kept again below to reach the test's scope */
      CHECK(lz_eval_many((lz_array *[]){mid, kept_far}, 2) == 0);
    }
    lz_scope_end();
    CHECK(lz_scope_depth() == depth + 1);
    CHECK(lz_array_is_evaluated(mid) && lz_item_f64(lz_sum(mid, false)) == 999 * 1000 / 2 + 1000);
    kept_near = lz_keep(lz_mean(lz_multiply(mid, lz_float(2)), false));
    lz_keep(kept_far);
    /* lz_keep twice in one scope: two references survive that scope (the second keep takes a
     * new one) and both go at the next scope's end */
    size_t before = lz_get_active_memory();
    lz_scope_begin();
    lz_scope_begin();
    lz_array *twice = lz_keep(lz_keep(lz_exp(x)));
    CHECK(lz_eval(twice) == 0);
    lz_scope_end();
    CHECK(lz_array_is_evaluated(twice) && lz_get_active_memory() > before);
    lz_scope_end();
    CHECK(lz_get_active_memory() == before);
  }
  lz_scope_end();
  CHECK(lz_scope_depth() == depth);
  CHECK_CLOSE(lz_item_f64(kept_near), 1001, 1e-6);
  double last = 0;
  CHECK(lz_item_f64(lz_sum(kept_far, false)) > 0);
  CHECK(lz_array_read(lz_slice(kept_far, (int[]){999}, (int[]){1000}, NULL, 1), LZ_FLOAT64, &last,
                      sizeof last) == 0);
  CHECK(last == 999.0 * 999 - 999);
  /* only what was kept is still held; freeing it gives everything back */
  CHECK(lz_get_active_memory() > base);
  lz_free(kept_far);
  lz_free(kept_near);
}

static void test_free_and_retain_in_scopes(void) {
  size_t base = lz_get_active_memory();
  lz_array *outer = iota_f32(512);
  CHECK(lz_eval(outer) == 0);
  size_t with_outer = lz_get_active_memory();
  lz_scope_begin();
  {
    lz_array *a = lz_exp(outer);
    CHECK(lz_eval(a) == 0);
    CHECK(lz_get_active_memory() > with_outer);
    lz_free(a); /* early release of a scope-owned array: freed now, not again at scope end */
    CHECK(lz_get_active_memory() == with_outer);
    lz_array *b = lz_keep(lz_negative(outer));
    lz_free(b); /* kept, then freed: the enclosing scope must not release it again */
    lz_array *r = lz_retain(outer); /* a second handle, owned by this scope */
    CHECK(r == outer);
    lz_array *kr = lz_keep(lz_retain(outer)); /* a handle that outlives the scope */
    CHECK(kr == outer);
    lz_array *c = lz_add(r, r);
    CHECK(lz_eval(c) == 0);
  }
  lz_scope_end();
  CHECK(lz_get_active_memory() == with_outer); /* c, r released; outer still alive */
  CHECK(lz_item_f64(lz_sum(outer, false)) == 511 * 512 / 2);
  lz_free(outer); /* the kept retain's reference */
  CHECK(lz_array_size(outer) == 512); /* the test scope still holds the first one */
  lz_scope_begin();
  lz_free(lz_retain(outer)); /* a retain freed at once inside a scope */
  lz_scope_end();
  CHECK(lz_get_active_memory() == with_outer);
  (void)base;
}

/* A suspended scope stack: arrays made meanwhile belong to the caller (as a binding's objects
 * do) and survive the hidden scopes' end; scopes opened meanwhile work on their own; resuming
 * shows the hidden scopes again, with their entries intact. */
static void test_scope_suspend(void) {
  size_t base = lz_get_active_memory();
  lz_array *x = iota_f32(256);
  CHECK(lz_eval(x) == 0);
  size_t with_x = lz_get_active_memory();
  lz_array *held, *inner_kept;
  lz_scope_begin();
  {
    lz_array *t = lz_exp(x); /* owned by the hidden scope */
    CHECK(lz_eval(t) == 0);
    int depth = lz_scope_depth();
    CHECK(lz_scope_suspend() == 0);
    CHECK(lz_scope_depth() == 0);
    held = lz_add(x, x); /* the caller's: survives the scope below */
    lz_array *r = lz_retain(t);   /* a caller-owned handle on a hidden scope's array */
    CHECK(lz_keep(held) == held); /* nothing to keep at visible depth 0 */
    lz_scope_begin();
    inner_kept = lz_keep(lz_multiply(x, lz_float(3)));
    lz_array *tmp = lz_negative(x);
    CHECK(lz_eval(tmp) == 0);
    lz_scope_end(); /* back at visible depth 0: inner_kept is the caller's */
    lz_array *r2 = lz_retain(t);
    lz_free(r);     /* releases only the caller's handle: t's entry stays with its scope */
    lz_scope_resume();
    /* visible again: lz_release drops the unscoped handle and leaves the scope's entry */
    lz_release(r2);
    CHECK(lz_scope_suspend() == 0);
    lz_scope_begin(); /* left open: resume closes it */
    lz_array *dropped = lz_exp(held);
    (void)dropped;
    lz_scope_resume();
    CHECK(lz_scope_depth() == depth);
    CHECK(lz_item_f64(lz_sum(t, false)) > 0); /* t still alive, owned by its scope */
  }
  lz_scope_end();
  CHECK(lz_item_f64(lz_sum(held, false)) == 255 * 256);
  CHECK(lz_item_f64(lz_sum(inner_kept, false)) == 3 * 255 * 256 / 2);
  lz_free(held);
  lz_free(inner_kept);
  CHECK(lz_get_active_memory() == with_x);
  /* nested suspensions */
  int d0 = lz_scope_depth();
  lz_scope_begin();
  CHECK(lz_scope_suspend() == 0);
  lz_scope_begin();
  CHECK(lz_scope_suspend() == 0);
  lz_array *deep = lz_sqrt(x);
  lz_scope_resume();
  CHECK(lz_scope_depth() == 1);
  lz_scope_end();
  lz_scope_resume();
  CHECK(lz_scope_depth() == d0 + 1);
  lz_scope_end();
  CHECK(lz_item_f64(lz_max(deep, false)) > 15.9);
  lz_free(deep);
  lz_scope_resume(); /* unmatched: nothing to do */
  CHECK(lz_scope_depth() == d0);
  CHECK(lz_get_active_memory() == with_x);
  (void)base;
}

/* Outside every scope (called directly from main): results belong to the caller, lz_keep does
 * nothing, and lz_free releases. */
static void no_scope_usage(void) {
  CHECK(lz_scope_depth() == 0);
  size_t base = lz_get_active_memory();
  lz_array *x = iota_f32(300);
  lz_array *y = lz_keep(lz_multiply(x, x));
  lz_array *z = lz_retain(y);
  lz_array *m = lz_max(z, false);
  CHECK(lz_item_f64(m) == 299.0 * 299);
  lz_free(m);
  lz_free(z);
  lz_free(y);
  lz_free(x);
  lz_free(NULL);
  CHECK(lz_get_active_memory() == base);
}

/* ---- evaluation ---------------------------------------------------------------------------- */

static void test_eval_many_shared(void) {
  lz_array *x = iota_f32(100);
  CHECK(lz_eval(x) == 0);
  lz_array *s = lz_multiply(x, lz_float(2)); /* shared by b and c */
  lz_array *b = lz_add(s, lz_float(1)), *c = lz_subtract(s, lz_float(1));
  uint64_t k0 = lz_get_kernel_count();
  lz_array *list[5] = {b, c, b, s, x}; /* duplicates and an evaluated entry */
  CHECK(lz_eval_many(list, 5) == 0);
  CHECK(lz_get_kernel_count() - k0 == 3); /* s once, b, c: nothing twice */
  CHECK(lz_eval_many(list, 5) == 0);
  CHECK(lz_get_kernel_count() - k0 == 3);
  CHECK(lz_item_f64(lz_sum(lz_subtract(b, c), false)) == 200);
  CHECK(lz_eval_many(NULL, 0) == 0);
  lz_clear_error();
  CHECK(lz_eval_many((lz_array *[]){b, NULL}, 2) == -1);
  CHECK(strstr(lz_last_error(), "array 1 is NULL") != NULL);
  lz_clear_error();
  /* a diamond evaluated through one root computes the shared node once */
  lz_array *d = lz_add(lz_exp(s), lz_log(lz_exp(s)));
  uint64_t k1 = lz_get_kernel_count();
  CHECK(lz_eval(d) == 0);
  CHECK(lz_get_kernel_count() - k1 <= 5);
}

/* ---- dicts ----------------------------------------------------------------------------------- */

static void check_same(lz_array *a, lz_array *b) {
  CHECK(a && b && lz_array_dtype(a) == lz_array_dtype(b) && lz_array_ndim(a) == lz_array_ndim(b));
  if (!a || !b) return;
  CHECK(lz_item_bool(lz_all(lz_equal(a, b), false)));
}

static void test_dict_round_trips(void) {
  lz_dict *d = lz_dict_new();
  lz_array *w = lz_reshape(iota_f32(12), (int[]){3, 4}, 2);
  lz_array *bias = lz_zeros((int[]){4}, 1, LZ_FLOAT16);
  lz_array *steps = lz_scalar(7, LZ_INT64);
  CHECK(lz_dict_set(d, "layer.weight", w) == 0 && lz_dict_set(d, "layer.bias", bias) == 0);
  CHECK(lz_dict_set(d, "step", steps) == 0 && lz_dict_set_string(d, "note", "hello") == 0);
  CHECK(lz_dict_size(d) == 4 && strcmp(lz_dict_key(d, 2), "step") == 0);
  /* replacing keeps the position; the old array stays the caller's */
  lz_array *w2 = lz_multiply(w, lz_float(2));
  CHECK(lz_dict_set(d, "layer.weight", w2) == 0);
  CHECK(lz_dict_size(d) == 4 && strcmp(lz_dict_key(d, 0), "layer.weight") == 0);
  CHECK(lz_dict_get(d, "layer.weight") == w2 && lz_dict_value(d, 3) == NULL);
  CHECK(strcmp(lz_dict_get_string(d, "note"), "hello") == 0);
  CHECK(lz_dict_get(d, "missing") == NULL && lz_last_error()[0] == 0);
  CHECK(lz_dict_set(d, NULL, w) == -1);
  lz_clear_error();
  CHECK(lz_dict_set(d, "x", NULL) == -1);
  lz_clear_error();
  /* a copy shares the arrays; changing it leaves the original alone */
  lz_dict *c = lz_dict_copy(d);
  CHECK(lz_dict_remove(c, "step") == 0 && lz_dict_remove(c, "step") == -1);
  lz_clear_error();
  CHECK(lz_dict_size(c) == 3 && lz_dict_size(d) == 4 && lz_dict_contains(d, "step"));
  CHECK(lz_dict_get(c, "layer.bias") == bias);
  lz_dict_free(c);
  CHECK(lz_dict_eval(d) == 0 && lz_array_is_evaluated(w2));

  /* files: safetensors keeps names, order, dtypes and metadata; npz names and values */
  char path[128], npz[128];
  snprintf(path, sizeof path, "/tmp/lz_api_usage_%d.safetensors", (int)getpid());
  snprintf(npz, sizeof npz, "/tmp/lz_api_usage_%d.npz", (int)getpid());
  lz_dict *arrays = lz_dict_new(), *meta = lz_dict_new();
  for (size_t i = 0; i < lz_dict_size(d); i++) {
    lz_array *v = lz_dict_value(d, i);
    if (v) lz_dict_set(arrays, lz_dict_key(d, i), v);
    else lz_dict_set_string(meta, lz_dict_key(d, i), lz_dict_get_string(d, lz_dict_key(d, i)));
  }
  CHECK(lz_save_safetensors(path, arrays, meta) == 0);
  lz_dict *back_meta = NULL, *back = lz_load_safetensors(path, &back_meta);
  CHECK(back && back_meta && lz_dict_size(back) == 3);
  for (size_t i = 0; back && i < lz_dict_size(back); i++) {
    const char *k = lz_dict_key(back, i);
    check_same(lz_dict_get(back, k), lz_dict_get(arrays, k));
  }
  CHECK(back_meta && strcmp(lz_dict_get_string(back_meta, "note"), "hello") == 0);
  CHECK(lz_save_npz(npz, arrays, true) == 0);
  lz_dict *back2 = lz_load_npz(npz);
  CHECK(back2 && lz_dict_size(back2) == 3);
  if (back2) check_same(lz_dict_get(back2, "layer.weight"), w2);
  if (back2) check_same(lz_dict_get(back2, "step"), steps);
  lz_dict_free(back2);
  lz_dict_free(back);
  lz_dict_free(back_meta);
  lz_dict_free(arrays);
  lz_dict_free(meta);
  lz_dict_free(d);
  unlink(path);
  unlink(npz);
}

/* ---- training loop ------------------------------------------------------------------------- */

typedef struct batch {
  lz_array *x, *onehot; /* (64, 8) float32, (64, 4) float32 */
} batch;

/* Softmax regression: mean over the batch of logsumexp(logits) - logits[label]. */
static int loss_fn(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)n;
  const batch *bt = ctx;
  lz_array *logits = lz_add(lz_matmul(bt->x, in[0]), in[1]);
  lz_array *picked = lz_sum_axis(lz_multiply(logits, bt->onehot), -1, false);
  out[0] = lz_mean(lz_subtract(lz_logsumexp_axis(logits, -1, false), picked), false);
  return out[0] ? 1 : -1;
}

static void test_training_loop(void) {
  batch bt;
  bt.x = lz_reshape(lz_sin(lz_multiply(iota_f32(64 * 8), lz_float(0.37))), (int[]){64, 8}, 2);
  lz_array *wt = lz_reshape(lz_cos(lz_multiply(iota_f32(32), lz_float(0.91))), (int[]){8, 4}, 2);
  lz_array *labels = lz_expand_dims(lz_argmax_axis(lz_matmul(bt.x, wt), -1, false), (int[]){1}, 1);
  bt.onehot = lz_astype(lz_equal(labels, lz_arange(0, 4, 1, LZ_UINT32)), LZ_FLOAT32);
  CHECK(lz_eval_many((lz_array *[]){bt.x, bt.onehot}, 2) == 0);

  lz_closure *f = lz_closure_new(loss_fn, &bt, NULL);
  lz_closure *step = lz_value_and_grad(f, (int[]){0, 1}, 2, false);
  lz_array *w = lz_keep(lz_zeros((int[]){8, 4}, 2, LZ_FLOAT32)); /* the test scope's */
  lz_array *b = lz_keep(lz_zeros((int[]){4}, 1, LZ_FLOAT32));
  double first = 0, last = 0;
  size_t mem_after_first = 0;
  for (int it = 0; it < 30; it++) {
    lz_scope_begin();
    lz_array *in[2] = {w, b}, *res[LZ_MAX_OUTPUTS];
    CHECK(lz_closure_call(step, in, 2, res) == 3);
    lz_array *nw = lz_keep(lz_subtract(w, lz_multiply(lz_float(0.5), res[1])));
    lz_array *nb = lz_keep(lz_subtract(b, lz_multiply(lz_float(0.5), res[2])));
    CHECK(lz_eval_many((lz_array *[]){nw, nb, res[0]}, 3) == 0);
    last = lz_item_f64(res[0]);
    if (it == 0) first = last;
    lz_scope_end();
    lz_free(w), lz_free(b); /* the old parameters: the kept new ones replace them */
    w = nw, b = nb;
    if (it == 0) mem_after_first = lz_get_active_memory();
    CHECK(lz_get_active_memory() == mem_after_first); /* nothing accumulates per step */
  }
  CHECK_CLOSE(first, log(4.0), 1e-6); /* zero weights: uniform predictions */
  CHECK(last < 0.5 * first);
  lz_free(w), lz_free(b);
  lz_closure_free(step);
  lz_closure_free(f);
}

/* ---- printing -------------------------------------------------------------------------------- */

static void check_print(lz_array *a, const char *want, const char *name) {
  char *s = lz_array_tostring(a);
  lzt_checks++;
  if (!s || strcmp(s, want) != 0) {
    lzt_failures++;
    fprintf(stderr, "%s: print of %s:\n%s\nexpected:\n%s\n", lzt_current, name,
            s ? s : lz_last_error(), want);
  }
  free(s);
}
#define CHECK_PRINT(a, name) check_print(a, print_ref_##name, #name)

static lz_array *iota_i32(int n, const int *shape, int ndim) {
  return lz_reshape(lz_arange(0, n, 1, LZ_INT32), shape, ndim);
}

static void test_print_dtypes(void) {
  CHECK_PRINT(lz_array_from_data((uint8_t[]){1, 0, 0, 1}, (int[]){2, 2}, 2, LZ_BOOL), bool_2x2);
  CHECK_PRINT(iota_i32(6, (int[]){2, 3}, 2), int32_2x3);
  CHECK_PRINT(lz_array_from_data((int8_t[]){-128, -1, 0, 127}, (int[]){4}, 1, LZ_INT8), int8);
  CHECK_PRINT(lz_array_from_data((uint8_t[]){0, 255}, (int[]){2}, 1, LZ_UINT8), uint8);
  CHECK_PRINT(lz_array_from_data((uint64_t[]){0, UINT64_MAX}, (int[]){2}, 1, LZ_UINT64), uint64);
  CHECK_PRINT(lz_array_from_data((int64_t[]){INT64_MIN, INT64_MAX}, (int[]){2}, 1, LZ_INT64),
              int64);
  float f32[] = {0.5f, -1.25f, 3, 1e-7f, NAN, INFINITY};
  CHECK_PRINT(lz_array_from_data(f32, (int[]){6}, 1, LZ_FLOAT32), float32);
  float f32b[] = {-INFINITY, 1e15f, 16777215, 1234567, 1e6f, -0.0f};
  CHECK_PRINT(lz_array_from_data(f32b, (int[]){6}, 1, LZ_FLOAT32), float32_big);
  float f32s[] = {1e-4f, 1e-5f, 0.1f, 2.5e-38f, 123456, 0.333333343f};
  CHECK_PRINT(lz_array_from_data(f32s, (int[]){6}, 1, LZ_FLOAT32), float32_small);
  double f64[] = {0.1, 1.0 / 3, 123456789, 1e300, -2.5, 9007199254740992.0};
  CHECK_PRINT(lz_array_from_data(f64, (int[]){6}, 1, LZ_FLOAT64), float64);
  lz_array *h =
      lz_array_from_data((float[]){0.5f, 65504, -0.1f, 1, 1.2f}, (int[]){5}, 1, LZ_FLOAT32);
  CHECK_PRINT(lz_astype(h, LZ_FLOAT16), float16);
  lz_array *bf = lz_array_from_data((float[]){1, 0.5f, -3, 256, 3.140625f}, (int[]){5}, 1,
                                    LZ_FLOAT32);
  CHECK_PRINT(lz_astype(bf, LZ_BFLOAT16), bfloat16);
  float c64[] = {1, 2, 3, -1, 0.5f, 0, -1.5f, -2.25f};
  CHECK_PRINT(lz_array_from_data(c64, (int[]){4}, 1, LZ_COMPLEX64), complex64);
  float c64e[] = {1, -0.0f, NAN, NAN, 0, INFINITY, 1e6f, -1e-5f};
  CHECK_PRINT(lz_array_from_data(c64e, (int[]){4}, 1, LZ_COMPLEX64), complex64_edges);
  CHECK_PRINT(lz_array_from_data((float[]){-0.0f, -1}, NULL, 0, LZ_COMPLEX64), scalar_complex);
}

static void test_print_shapes(void) {
  CHECK_PRINT(lz_scalar(7, LZ_INT32), scalar_int32);
  CHECK_PRINT(lz_scalar(2.5, LZ_FLOAT32), scalar_float32);
  CHECK_PRINT(lz_scalar(1, LZ_BOOL), scalar_bool);
  CHECK_PRINT(lz_zeros((int[]){0}, 1, LZ_FLOAT32), empty_1d);
  CHECK_PRINT(lz_zeros((int[]){2, 0}, 2, LZ_FLOAT32), empty_2d);
  CHECK_PRINT(lz_zeros((int[]){0, 3, 1}, 3, LZ_INT32), empty_3d);
  CHECK_PRINT(lz_zeros((int[]){2, 0, 3}, 3, LZ_INT32), empty_3d_inner);
  CHECK_PRINT(iota_i32(24, (int[]){2, 3, 4}, 3), int32_3d);
  CHECK_PRINT(iota_i32(16, (int[]){2, 2, 2, 2}, 4), int32_4d);
  CHECK_PRINT(lz_transpose(iota_i32(6, (int[]){2, 3}, 2), NULL, 0), transposed);
  CHECK_PRINT(lz_broadcast_to(lz_arange(0, 3, 1, LZ_INT32), (int[]){2, 3}, 2), broadcast);
  /* every axis longer than 6 is summarised, whatever the size */
  CHECK_PRINT(lz_arange(0, 6, 1, LZ_INT32), six);
  CHECK_PRINT(lz_arange(0, 7, 1, LZ_INT32), seven);
  CHECK_PRINT(lz_arange(0, 1000, 1, LZ_INT32), full_1000);
  CHECK_PRINT(iota_i32(1200, (int[]){400, 3}, 2), summary_2d);
  CHECK_PRINT(iota_i32(14, (int[]){2, 7}, 2), summary_cols);
  CHECK_PRINT(iota_i32(1100, (int[]){11, 10, 10}, 3), summary_3d);
  CHECK_PRINT(lz_remainder(iota_i32(1120, (int[]){7, 2, 8, 10}, 4), lz_int(7)), summary_4d);
  /* lz_array_print writes the same text and a newline */
  FILE *f = tmpfile();
  CHECK(f && lz_array_print(iota_i32(24, (int[]){2, 3, 4}, 3), f) == 0);
  if (f) {
    char got[512] = {0};
    rewind(f);
    size_t n = fread(got, 1, sizeof got - 1, f);
    CHECK(n == strlen(print_ref_int32_3d) + 1 && got[n - 1] == '\n');
    CHECK(strncmp(got, print_ref_int32_3d, n - 1) == 0);
    fclose(f);
  }
}

/* The outputs MLX's own tests publish (python/tests/test_array.py, test_array_repr), quoted. */
static void test_print_mlx_published(void) {
  static const struct {
    int n, ndim, shape[3];
    lz_dtype dtype;
    double v[8];
    const char *want;
  } cases[] = {
      {1, 0, {0}, LZ_BOOL, {1}, "array(True, dtype=bool)"},
      {1, 0, {0}, LZ_INT32, {1}, "array(1, dtype=int32)"},
      {1, 0, {0}, LZ_FLOAT32, {1}, "array(1, dtype=float32)"},
      {3, 1, {3}, LZ_INT32, {1, 0, 1}, "array([1, 0, 1], dtype=int32)"},
      {6, 1, {6}, LZ_INT32, {1, 1, 1, 1, 1, 1}, "array([1, 1, 1, 1, 1, 1], dtype=int32)"},
      {6, 2, {3, 2}, LZ_INT32, {1, 2, 1, 2, 1, 2},
       "array([[1, 2],\n       [1, 2],\n       [1, 2]], dtype=int32)"},
      {8, 3, {2, 2, 2}, LZ_INT32, {1, 2, 1, 2, 1, 2, 1, 2},
       "array([[[1, 2],\n        [1, 2]],\n       [[1, 2],\n        [1, 2]]], dtype=int32)"},
      {1, 1, {1}, LZ_INT8, {1}, "array([1], dtype=int8)"},
      {1, 1, {1}, LZ_INT16, {1}, "array([1], dtype=int16)"},
      {1, 1, {1}, LZ_UINT8, {1}, "array([1], dtype=uint8)"},
      {1, 1, {1}, LZ_FLOAT16, {1.2}, "array([1.2002], dtype=float16)"},
      {1, 1, {1}, LZ_FLOAT32, {1.123456789}, "array([1.12346], dtype=float32)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    lz_array *x = lz_array_from_data(cases[i].v, cases[i].shape, cases[i].ndim, LZ_FLOAT64);
    check_print(lz_astype(x, cases[i].dtype), cases[i].want, cases[i].want);
  }
  check_print(lz_ones((int[]){7}, 1, LZ_INT32), "array([1, 1, 1, ..., 1, 1, 1], dtype=int32)",
              "[1] * 7");
  check_print(lz_tile(lz_array_from_data((int32_t[]){1, 2}, (int[]){1, 2}, 2, LZ_INT32),
                      (int[]){7, 1}, 2),
              "array([[1, 2],\n       [1, 2],\n       [1, 2],\n       ...,\n       [1, 2],\n"
              "       [1, 2],\n       [1, 2]], dtype=int32)",
              "[[1, 2]] * 7");
  float c[4] = {1, 1, 1, -1};
  check_print(lz_array_from_data(c, (int[]){1}, 1, LZ_COMPLEX64), "array([1+1j], dtype=complex64)",
              "1+1j");
  check_print(lz_array_from_data(c + 2, (int[]){1}, 1, LZ_COMPLEX64),
              "array([1-1j], dtype=complex64)", "1-1j");
}

int main(void) {
  no_scope_usage();
  RUN(test_nested_scopes_keep);
  RUN(test_free_and_retain_in_scopes);
  RUN(test_scope_suspend);
  RUN(test_eval_many_shared);
  RUN(test_dict_round_trips);
  RUN(test_training_loop);
  RUN(test_print_dtypes);
  RUN(test_print_shapes);
  RUN(test_print_mlx_published);
  no_scope_usage();
  return lzt_summary();
}
