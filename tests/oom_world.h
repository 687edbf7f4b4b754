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

#endif
