/* The training-step harness shared by the out-of-memory program tests (test_oom_programs.c,
 * test_oom_transformer.c): a model, its optimizer and loss-and-gradient function, the
 * compiled step (parameters and gradients as compile state) and its inputs; the tests build
 * their own model and data. */
#ifndef LZ_TEST_OOM_WORLD_H
#define LZ_TEST_OOM_WORLD_H

#include "lz_test.h"

typedef struct world {
  lz_module *model;
  lz_optimizer *opt;
  lz_nn_grad_fn *loss_and_grad;
  lz_dict *params, *grads; /* compile state (compiled programs) */
  lz_closure *traced, *compiled;
  lz_array *x, *y, *xtest;
} world;

/* Forward and backward as a function of (x, y), the parameters as compile state (as
 * examples/transformer_lm does it). */
static int traced_grad_step(void *ctx, lz_array *const *in, int n, lz_array **out) {
  world *w = ctx;
  lz_dict *real = lz_module_parameters(w->model), *grads = NULL;
  lz_array *loss = NULL;
  int rc = real && lz_module_update(w->model, w->params) == 0 &&
                   lz_nn_grad_fn_call(w->loss_and_grad, in, n, &loss, &grads) == 0
               ? 0
               : -1;
  for (size_t i = 0; rc == 0 && i < lz_dict_size(grads); i++) {
    lz_array *g = lz_dict_value(grads, i);
    rc = lz_dict_set(w->grads, lz_dict_key(grads, i), g);
    lz_free(g);
  }
  if (real && lz_module_update(w->model, real) != 0) rc = -1;
  lz_dict_free(real), lz_dict_free(grads);
  if (rc != 0) lz_free(loss), loss = NULL;
  out[0] = loss;
  return rc == 0 ? 1 : -1;
}

static void world_free(world *w) {
  lz_closure_free(w->compiled), lz_closure_free(w->traced);
  lz_nn_grad_fn_free(w->loss_and_grad);
  lz_optim_free(w->opt), lz_module_free(w->model);
  lz_dict_free(w->params), lz_dict_free(w->grads);
  lz_free(w->x), lz_free(w->y), lz_free(w->xtest);
  memset(w, 0, sizeof *w);
}

/* Loss and gradients, through the compiled closure or directly. */
static int loss_and_grads(world *w, lz_array **loss, lz_dict **grads) {
  lz_array *in[2] = {w->x, w->y};
  *loss = NULL, *grads = NULL;
  if (!w->compiled) return lz_nn_grad_fn_call(w->loss_and_grad, in, 2, loss, grads);
  lz_dict *params = lz_module_parameters(w->model);
  int rc = params ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < lz_dict_size(params); i++) {
    lz_array *p = lz_dict_value(params, i);
    rc = lz_dict_set(w->params, lz_dict_key(params, i), p);
    lz_free(p);
  }
  lz_dict_free(params);
  lz_array *out[LZ_MAX_OUTPUTS];
  if (rc != 0 || lz_closure_call(w->compiled, in, 2, out) != 1) return -1;
  *loss = out[0];
  return (*grads = lz_dict_copy(w->grads)) ? 0 : -1;
}

/* Which of two snapshots v equals exactly: 1 (a), 2 (b), 0 (neither: a mix or garbage). */
static int which(const float *v, const float *a, const float *b, size_t n) {
  if (!memcmp(v, a, n * sizeof *v)) return 1;
  if (!memcmp(v, b, n * sizeof *v)) return 2;
  return 0;
}

/* ---- parameters from a fixed sequence --------------------------------------------------- */

/* n values in [-scale, scale] from a linear congruential sequence. */
static void oom_fill(float *v, size_t n, uint32_t seed, float scale) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = ((float)((seed >> 8) % 2001) / 1000.0f - 1.0f) * scale;
  }
}

/* Sets every parameter of m from the sequence (so every trial starts from the same values);
 * parameters whose name contains "norm" are shifted by +1 (norm weights near 1). */
static int oom_init_params(lz_module *m, uint32_t seed, float scale) {
  lz_dict *p = lz_module_parameters(m);
  int rc = p ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < lz_dict_size(p); i++) {
    lz_array *a = lz_dict_value(p, i);
    size_t n = lz_array_size(a);
    float *v = malloc(n * sizeof *v);
    oom_fill(v, n, seed + (uint32_t)i * 7919u, scale);
    if (strstr(lz_dict_key(p, i), "norm"))
      for (size_t k = 0; k < n; k++) v[k] += 1.0f;
    lz_array *b = lz_array_from_data(v, lz_array_shape(a), lz_array_ndim(a), LZ_FLOAT32);
    rc = b ? lz_dict_set(p, lz_dict_key(p, i), b) : -1;
    lz_free(a), lz_free(b), free(v);
  }
  if (rc == 0) rc = lz_module_update(m, p);
  lz_dict_free(p);
  return rc == 0 ? lz_module_eval(m) : -1;
}

/* The parameters of m as float32 in the dict's order (at most cap values); their count in *n.
 * Returns 0 or -1. */
static int oom_snapshot(lz_module *m, float *out, size_t cap, size_t *n) {
  lz_dict *p = lz_module_parameters(m);
  size_t at = 0;
  int rc = p && lz_dict_eval(p) == 0 ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < lz_dict_size(p); i++) {
    lz_array *a = lz_dict_value(p, i);
    size_t k = lz_array_size(a);
    rc = at + k <= cap ? lz_array_read(a, LZ_FLOAT32, out + at, k * sizeof(float)) : -1;
    at += k;
    lz_free(a);
  }
  lz_dict_free(p);
  *n = at;
  return rc;
}

/* ---- the sweeps --------------------------------------------------------------------------- */

/* One run of a test's program with the n-th allocation failing (n = 0: none) under a memory
 * limit above the active memory (0: none); checks the outcome, counts it in oom_outcome and
 * returns whether the failure point lay past the run's end. */
typedef int (*oom_trial_fn)(int program, int64_t n, size_t limit, const void *expected);
static long oom_outcome[2]; /* runs that ended in an error, in the result */

/* Fails allocation first, first + stride, ... until the failure point lies past the run's
 * end; a clean run first. Returns the number of points that ran. */
static long oom_sweep(const char *name, oom_trial_fn trial, int program, const void *expected,
                      int64_t first, int stride) {
  lz_clear_compile_cache();
  trial(program, 0, 0, expected); /* a clean run agrees with the reference */
  long survived = 0;
  int64_t n = first;
  for (; n < 1000000; n += stride) {
    int before = lzt_failures;
    if (trial(program, n, 0, expected)) break;
    survived++;
    if (lzt_failures != before) {
      fprintf(stderr, "%s: failure injected at allocation %lld\n", name, (long long)n);
      break;
    }
  }
  printf("%s: %ld injection points (of about %lld allocations, stride %d)\n", name, survived,
         (long long)n - 1, stride);
  CHECK(survived > 10);
  return survived;
}

/* Memory limits from lo up to hi, each 1/growth more plus step bytes: an error or the right
 * result, never a mix; the range must span both outcomes (a checkpoint that maps its file has
 * no data to allocate: may_not_fail). */
static void oom_limits(const char *name, oom_trial_fn trial, int program, const void *expected,
                       size_t lo, size_t hi, size_t growth, size_t step, int may_not_fail) {
  oom_outcome[0] = oom_outcome[1] = 0;
  long runs = 0;
  for (size_t limit = lo; limit <= hi; limit += limit / growth + step, runs++)
    trial(program, 0, limit, expected);
  printf("%s: %ld memory limits, %ld errors, %ld results\n", name, runs, oom_outcome[0],
         oom_outcome[1]);
  CHECK((oom_outcome[0] > 0 || may_not_fail) && oom_outcome[1] > 0);
}

#endif
