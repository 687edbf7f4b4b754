/* A function decides that it failed from its own results, never from the thread's pending error
 * slot: with an old error left pending (handled by the caller, never cleared), every valid call
 * below still succeeds, gives the same values as without it, and the old message is kept. A
 * failure inside a call is still a failure. */
#include <unistd.h>

#include "lz_test.h"

static const char *const OLD = "[user] an old, handled error";

static void leave_pending_error(void) {
  lz_clear_error();
  lz_set_error(LZ_ERROR_IO, "user", "an old, handled error");
}

static int square_sum(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_sum(lz_square(in[0]), false);
  return 1;
}

static int fails(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_matmul(in[0], in[0]); /* (3,) @ (3,) is fine; (2,3) @ (2,3) is not */
  return 1;
}

static void test_transforms_with_pending_error(void) {
  lz_array *x = lz_array_from_data((float[]){1, 2, 3}, (int[]){3}, 1, LZ_FLOAT32);
  lz_closure *f = lz_closure_new(square_sum, NULL, NULL);
  lz_closure *g = lz_grad(f, NULL, 0);
  leave_pending_error();
  lz_array *out[2] = {0};
  CHECK(lz_closure_call(g, &x, 1, out) == 1);
  CHECK_VALUES(out[0], ((double[]){2, 4, 6}), 3, 0);
  lz_free(out[0]);
  CHECK(strcmp(lz_last_error(), OLD) == 0);
  /* a real failure inside is still one */
  lz_closure *h = lz_closure_new(fails, NULL, NULL);
  lz_array *m = lz_ones((int[]){2, 3}, 2, LZ_FLOAT32);
  CHECK(lz_closure_call(h, &m, 1, out) == -1);
  lz_clear_error();
  CHECK(lz_closure_call(h, &m, 1, out) == -1);
  CHECK(strstr(lz_last_error(), "lz_matmul") != NULL);
  lz_clear_error();
  lz_free(m);
  lz_closure_free(h), lz_closure_free(g), lz_closure_free(f);
  lz_free(x);
}

static void test_ops_with_pending_error(void) {
  lz_array *x = lz_array_from_data((float[]){-2, 0.5f, 3}, (int[]){3}, 1, LZ_FLOAT32);
  lz_array *hi = lz_float(1);
  leave_pending_error();
  lz_array *c = lz_clip(x, NULL, hi); /* a NULL bound is "no bound" */
  CHECK_VALUES(c, ((double[]){-2, 0.5, 1}), 3, 0);
  lz_free(c);
  lz_array *r = lz_random_normal((int[]){4}, 1, LZ_FLOAT32, 0, 1, NULL); /* global key */
  CHECK(r != NULL && lz_eval(r) == 0);
  lz_free(r);
  lz_array *gl = lz_nn_gelu(x);
  CHECK(gl != NULL && lz_eval(gl) == 0);
  lz_free(gl);
  CHECK(strcmp(lz_last_error(), OLD) == 0);
  lz_clear_error();
  lz_free(hi), lz_free(x);
}

static void test_nn_and_optim_with_pending_error(void) {
  char dir[] = "/tmp/lz_test_slot_XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[64];
  snprintf(path, sizeof path, "%s/opt.safetensors", dir);
  lz_module *m = lz_nn_linear_new(3, 2, true);
  lz_module *gru = lz_nn_gru_new(3, 2, true);
  lz_optimizer *o = lz_optim_adam(0.01, 0.9, 0.999, 1e-8, false);
  lz_array *x = lz_ones((int[]){4, 3}, 2, LZ_FLOAT32);
  leave_pending_error();
  lz_array *y = NULL;
  CHECK(lz_module_call(m, &x, 1, &y) == 1);
  CHECK(y && lz_eval(y) == 0);
  lz_free(y);
  lz_array *seq = lz_ones((int[]){1, 5, 3}, 3, LZ_FLOAT32), *hs = NULL;
  CHECK(lz_module_call(gru, &seq, 1, &hs) == 1);
  CHECK(hs && lz_eval(hs) == 0);
  lz_free(hs), lz_free(seq);
  lz_dict *grads = lz_module_parameters(m);
  CHECK(lz_optim_update(o, m, grads) == 0);
  CHECK(lz_optim_save_state(o, path) == 0);
  lz_optimizer *o2 = lz_optim_adam(0.5, 0.9, 0.999, 1e-8, false);
  CHECK(lz_optim_load_state(o2, path) == 0); /* failed on a pending error before */
  CHECK(lz_optim_step(o2) == 1);
  CHECK(lz_optim_learning_rate(o2) == lz_optim_learning_rate(o));
  CHECK(strcmp(lz_last_error(), OLD) == 0);
  lz_clear_error();
  lz_dict_free(grads);
  lz_optim_free(o), lz_optim_free(o2);
  lz_module_free(m), lz_module_free(gru);
  lz_free(x);
  unlink(path);
  rmdir(dir);
}

int main(void) {
  RUN(test_transforms_with_pending_error);
  RUN(test_ops_with_pending_error);
  RUN(test_nn_and_optim_with_pending_error);
  return lzt_summary();
}
