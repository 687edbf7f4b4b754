/* Soak: many small training steps (an MLP, Adam, value_and_grad, one evaluation per step) and
 * many create/eval/free cycles of mixed ops, with the process's RSS and Lazuli's active memory
 * sampled: after a warm-up, both must stay flat (an RSS drift above 1% fails, unless under
 * 256 KiB: a one-time step of a small process; active memory must return to the same value
 * exactly). Short here (LZ_TEST_SMALL: shorter still); `make stress` runs 10^5 steps and 10^6
 * cycles (LZ_SOAK_STEPS, LZ_SOAK_CYCLES). The RSS check is skipped under AddressSanitizer,
 * whose quarantine grows RSS by design. */
#include <unistd.h>

#include "lz_test.h"

#if defined(__SANITIZE_ADDRESS__)
#define LZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LZ_ASAN 1
#endif
#endif

static long steps = 2000, cycles = 20000;

static size_t rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
  }
  return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static lz_array *mlp_loss(void *ctx, lz_module *model, lz_array *const *in, int n) {
  (void)ctx, (void)n;
  lz_array *y = lz_module_forward(model, in[0]);
  lz_array *loss = lz_nn_mse_loss(y, in[1], LZ_NN_REDUCTION_MEAN);
  lz_free(y);
  return loss;
}

/* Samples RSS and active memory 50 times over a run, after the first fifth (warm-up); reports the
 * largest drift relative to the first sample. */
typedef struct sampler {
  size_t rss0, active0, rss_max;
  long samples;
  bool active_moved;
} sampler;

static void sample(sampler *s, long i, long n) {
  if (i < n / 5 || i % (n / 50 > 0 ? n / 50 : 1)) return;
  size_t rss = rss_bytes(), active = lz_get_active_memory();
  if (!s->samples++) s->rss0 = s->rss_max = rss, s->active0 = active;
  if (rss > s->rss_max) s->rss_max = rss;
  if (active != s->active0) s->active_moved = true;
}

static void report(const char *what, const sampler *s, long n) {
  double drift = s->rss0 ? ((double)s->rss_max - (double)s->rss0) / (double)s->rss0 : 0;
  printf("%s: %ld iterations, %ld samples, RSS %.1f MiB, drift %+.3f%%, active memory %s\n", what,
         n, s->samples, (double)s->rss0 / 1048576.0, 100 * drift,
         s->active_moved ? "MOVED" : "flat");
  CHECK(s->samples > 0);
  CHECK(!s->active_moved);
#ifndef LZ_ASAN
  /* A small process sees one-time steps of a few pages (a kernel thread's first malloc arena is
   * 64 KiB and more, at some point of the run): growth under 256 KiB is not drift. */
  CHECK(drift <= 0.01 || s->rss_max - s->rss0 < (size_t)256 << 10);
#endif
}

static void test_training_steps(void) {
  lz_random_seed(3);
  lz_module *model = lz_nn_sequential_new(
      3, (lz_module *[]){lz_nn_linear_new(8, 16, true), lz_nn_relu_new(),
                         lz_nn_linear_new(16, 4, true)});
  lz_optimizer *opt = lz_optim_adam(1e-3, 0.9, 0.999, 1e-8, false);
  lz_nn_grad_fn *lg = lz_nn_value_and_grad(model, mlp_loss, NULL);
  lz_array *x = lz_random_normal((int[]){16, 8}, 2, LZ_FLOAT32, 0, 1, NULL);
  lz_array *y = lz_random_normal((int[]){16, 4}, 2, LZ_FLOAT32, 0, 1, NULL);
  CHECK(model && opt && lg && x && y && lz_eval(x) == 0 && lz_eval(y) == 0);
  sampler s = {0};
  double first = 0, last = 0;
  for (long i = 0; i < steps && lzt_failures == 0; i++) {
    lz_scope_begin();
    lz_array *loss = NULL;
    lz_dict *grads = NULL;
    int rc = lz_nn_grad_fn_call(lg, (lz_array *[]){x, y}, 2, &loss, &grads) == 0 &&
                     lz_optim_update(opt, model, grads) == 0 && lz_optim_eval(opt, model, loss) == 0
                 ? 0
                 : -1;
    CHECK(rc == 0);
    if (rc == 0) last = lz_item_f64(loss);
    if (i == 0) first = last;
    lz_dict_free(grads);
    lz_scope_end();
    sample(&s, i, steps);
  }
  CHECK(last < first); /* it trains */
  report("training steps", &s, steps);
  lz_free(x), lz_free(y);
  lz_nn_grad_fn_free(lg), lz_optim_free(opt), lz_module_free(model);
}

/* Mixed ops: elementwise, matmul, reductions, views, a transform and a compiled call. */
static int f_elem(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_scope_begin();
  out[0] = lz_keep(lz_add(lz_exp(in[0]), lz_multiply(in[0], in[0])));
  lz_scope_end();
  return out[0] ? 1 : -1;
}

static void test_op_cycles(void) {
  lz_closure *f = lz_closure_new(f_elem, NULL, NULL), *c = lz_compile(f, 0);
  sampler s = {0};
  for (long i = 0; i < cycles && lzt_failures == 0; i++) {
    lz_scope_begin();
    int k = (int)(i % 5) + 1;
    lz_array *a = lz_arange(0, 6 * k, 1, LZ_FLOAT32);
    lz_array *m = lz_reshape(a, (int[]){k, 6}, 2);
    lz_array *t = lz_transpose(m, NULL, 0);
    lz_array *p = lz_matmul(m, t);
    lz_array *r = lz_sum_axis(lz_sin(p), 1, false);
    lz_array *out[LZ_MAX_OUTPUTS];
    lz_array *sl = lz_slice(t, (int[]){1, 0}, (int[]){4, k}, NULL, 2);
    int n = lz_closure_call(c, (lz_array *[]){sl}, 1, out);
    lz_array *total = n == 1 ? lz_add(lz_sum(r, false), lz_sum(out[0], false)) : NULL;
    CHECK(total && lz_eval(total) == 0);
    lz_scope_end();
    sample(&s, i, cycles);
  }
  report("op cycles", &s, cycles);
  lz_closure_free(c), lz_closure_free(f);
  lz_clear_compile_cache();
}

int main(void) {
  const char *small = getenv("LZ_TEST_SMALL"), *e1 = getenv("LZ_SOAK_STEPS"),
             *e2 = getenv("LZ_SOAK_CYCLES");
  if (small && *small) steps = 500, cycles = 5000;
  if (e1 && atol(e1) > 0) steps = atol(e1);
  if (e2 && atol(e2) > 0) cycles = atol(e2);
  RUN(test_training_steps);
  RUN(test_op_cycles);
  return lzt_summary();
}
