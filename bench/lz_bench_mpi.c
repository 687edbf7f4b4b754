/* The distributed figures, a program of its own because it runs on the ranks of an MPI job:
 * bench_distributed.c (part of lz_bench) starts it alone and under `mpirun -np 2`.
 *
 * Under mpirun (2 ranks), rank 0 prints
 *   all_sum_f32_64MB_GBps    algorithm bandwidth of lz_all_sum on 64 MB of float32: bytes of
 *                            the array / time of the collective, median of 7
 *   all_sum_4B_us            latency of an lz_all_sum of one float32 (median of 201)
 *   all_sum_check_us         what the shape/dtype agreement check adds to it (the same with
 *                            LZ_DISTRIBUTED_CHECK=0, subtracted)
 *   mnist_step_ms_2proc_dp   a data-parallel training step of examples/mnist's MLP on a global
 *                            batch of 256 (128 per rank; gradients averaged)
 * Alone, it prints mnist_step_ms_1proc: the same step with the whole batch on one process. */
#include <lazuli.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../examples/mnist/data.h"
#include "../examples/mnist/model.h"

enum { GLOBAL_BATCH = 256 };

static lz_group *world;
static int rank, nranks;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return v[n / 2];
}

static void fail(void) {
  fprintf(stderr, "lz_bench_mpi: %s\n", lz_last_error());
  exit(1); /* the job ends (a failing rank aborts it) */
}

/* Every rank leaves together: a tiny all_sum. */
static void barrier(void) {
  lz_scope_begin();
  if (lz_eval(lz_all_sum(lz_float(1), world)) != 0) fail();
  lz_scope_end();
}

/* Seconds of one evaluated all_sum of x, median of reps (after one warm-up). */
static double time_all_sum(lz_array *x, int reps) {
  double *t = malloc(sizeof(double) * (size_t)reps);
  for (int r = -1; r < reps; r++) {
    barrier();
    double t0 = now();
    lz_array *y = lz_all_sum(x, world);
    if (!y || lz_eval(y) != 0) fail();
    lz_free(y);
    if (r >= 0) t[r] = now() - t0;
  }
  double m = median(t, reps);
  free(t);
  return m;
}

static void bench_all_sum(void) {
  int n = 16 << 20; /* 64 MB of float32 */
  lz_array *x = lz_ones((int[]){n}, 1, LZ_FLOAT32);
  if (!x || lz_eval(x) != 0) fail();
  double t = time_all_sum(x, 7);
  lz_free(x);
  lz_array *s = lz_ones((int[]){1}, 1, LZ_FLOAT32);
  double checked = time_all_sum(s, 201);
  setenv("LZ_DISTRIBUTED_CHECK", "0", 1);
  double unchecked = time_all_sum(s, 201);
  unsetenv("LZ_DISTRIBUTED_CHECK");
  lz_free(s);
  if (rank == 0) {
    printf("all_sum_f32_64MB_GBps %.4g GB/s\n", (double)n * 4 / t / 1e9);
    printf("all_sum_4B_us %.4g us\n", checked * 1e6);
    printf("all_sum_check_us %.4g us\n", (checked - unchecked) * 1e6);
  }
}

/* The mean cross-entropy of the MLP on (x, y): the closure of (params..., x, y). */
static int loss_fn(void *ctx, lz_array *const *in, int n, lz_array **out) {
  const model *m = ctx;
  (void)n;
  lz_array *logits = model_forward(m->kind, in, in[m->nparams]);
  lz_array *y = lz_expand_dims(in[m->nparams + 1], (int[]){1}, 1);
  lz_array *onehot = lz_equal(lz_arange(0, NUM_CLASSES, 1, LZ_INT32), y);
  lz_array *picked = lz_sum_axis(lz_multiply(logits, onehot), 1, false);
  out[0] = lz_mean(lz_subtract(lz_logsumexp_axis(logits, 1, false), picked), false);
  return out[0] ? 1 : -1;
}

/* One SGD step on this rank's slice of the global batch, gradients averaged over the ranks:
 * examples/mnist --distributed's loop (plain SGD). Milliseconds, median of 9 after 2 warm-ups. */
static double bench_step(void) {
  model m;
  if (model_init(&m, MODEL_MLP, 0) != 0) fail();
  int local = GLOBAL_BATCH / nranks, np = m.nparams, argnums[MODEL_MAX_PARAMS];
  for (int i = 0; i < np; i++) argnums[i] = i;
  float *xb = malloc(sizeof(float) * (size_t)local * IMAGE_SIZE);
  int32_t *yb = malloc(sizeof(int32_t) * (size_t)local);
  unsigned seed = 7 + (unsigned)rank;
  for (int i = 0; i < local * IMAGE_SIZE; i++) xb[i] = (float)(rand_r(&seed) % 256) / 255.0f;
  for (int i = 0; i < local; i++) yb[i] = rand_r(&seed) % NUM_CLASSES;
  lz_closure *loss = lz_closure_new(loss_fn, &m, NULL);
  lz_closure *vg = lz_value_and_grad(loss, argnums, np, false);
  double t[9];
  for (int r = -2; r < 9; r++) {
    if (nranks > 1) barrier();
    double t0 = now();
    lz_scope_begin();
    lz_array *in[MODEL_MAX_PARAMS + 2], *res[1 + MODEL_MAX_PARAMS], *todo[1 + MODEL_MAX_PARAMS];
    for (int i = 0; i < np; i++) in[i] = m.params[i];
    in[np] = lz_array_from_data(xb, (int[]){local, IMAGE_SIZE}, 2, LZ_FLOAT32);
    in[np + 1] = lz_array_from_data(yb, (int[]){local}, 1, LZ_INT32);
    if (lz_closure_call(vg, in, np + 2, res) < 0) fail();
    lz_dict *grads = lz_dict_new(), *avg = NULL;
    char key[16];
    for (int i = 0; i < np; i++) {
      snprintf(key, sizeof key, "p%d", i);
      lz_dict_set(grads, key, res[1 + i]);
    }
    if (nranks > 1) {
      if (!(avg = lz_nn_average_gradients(grads, world, LZ_NN_ALL_REDUCE_SIZE))) fail();
      res[0] = lz_divide(lz_all_sum(res[0], world), lz_float((float)nranks));
    }
    todo[0] = res[0];
    for (int i = 0; i < np; i++) {
      lz_array *g = lz_dict_value(avg ? avg : grads, (size_t)i);
      lz_array *p = lz_subtract(m.params[i], lz_multiply(g, lz_float(0.01f)));
      lz_free(m.params[i]);
      m.params[i] = lz_keep(p), todo[1 + i] = p;
    }
    if (lz_eval_many(todo, 1 + np) != 0) fail();
    lz_dict_free(avg), lz_dict_free(grads);
    lz_scope_end();
    if (r >= 0) t[r] = now() - t0;
  }
  lz_closure_free(vg), lz_closure_free(loss);
  model_free(&m);
  free(xb), free(yb);
  return median(t, 9) * 1e3;
}

int main(void) {
  if (!(world = lz_distributed_init("any", false))) fail();
  rank = lz_group_rank(world), nranks = lz_group_size(world);
  if (nranks > 1) bench_all_sum();
  double ms = bench_step();
  if (rank == 0)
    printf("%s %.4g ms\n", nranks > 1 ? "mnist_step_ms_2proc_dp" : "mnist_step_ms_1proc", ms);
  lz_group_free(world);
  return 0;
}
