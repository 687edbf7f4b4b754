/* Training: random windows of the text, one evaluation per step, progress lines. */
#include "train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lm.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* splitmix64: the window positions of step s come from (seed, s), so a resumed run draws
 * what the uninterrupted one would have. */
static uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* Copies window b of a batch: x = text[start, start + seq), y = the next characters. */
static void window(const int32_t *text, size_t start, int seq, int b, int32_t *x, int32_t *y) {
  memcpy(x + (size_t)b * seq, text + start, (size_t)seq * sizeof *x);
  memcpy(y + (size_t)b * seq, text + start + 1, (size_t)seq * sizeof *y);
}

/* Mean loss over o->eval_batches fixed batches of the validation text, with the fused ops. */
static double validation_loss(const options *o, lz_module *model, const corpus *d, int32_t *x,
                              int32_t *y) {
  int n = o->eval_batches * o->batch, seq = o->cfg.seq;
  size_t span = d->nval - (size_t)seq - 1;
  double sum = 0;
  for (int j = 0; j < o->eval_batches; j++) {
    for (int b = 0; b < o->batch; b++)
      window(d->val, span * (size_t)(j * o->batch + b) / (size_t)n, seq, b, x, y);
    lz_scope_begin();
    lz_array *xa = lz_array_from_data(x, (int[]){o->batch, seq}, 2, LZ_INT32);
    lz_array *ya = lz_array_from_data(y, (int[]){o->batch, seq}, 2, LZ_INT32);
    lz_array *loss = lm_eval_loss(model, xa, ya);
    sum += loss && lz_eval(loss) == 0 ? lz_item_f64(loss) : NAN;
    lz_scope_end();
  }
  return o->eval_batches ? sum / o->eval_batches : NAN;
}

/* Linear warmup from 0 to lr over `warmup` steps, then a cosine decay to min_lr. */
static lz_schedule *make_schedule(const options *o) {
  int64_t decay = o->steps > o->warmup ? o->steps - o->warmup : 1;
  lz_schedule *cosine = lz_optim_cosine_decay(o->lr, decay, o->min_lr);
  if (o->warmup == 0) return cosine;
  lz_schedule *parts[2] = {lz_optim_linear_schedule(0.0, o->lr, o->warmup), cosine};
  return lz_optim_join_schedules(2, parts, (int64_t[]){o->warmup});
}

/* The forward and backward pass as a function of (x, y) for lz_compile: the parameters are
 * compile state (read from `params`, refreshed before each call) and the gradients go to
 * `grads` under the parameters' names. The optimizer's update stays outside: its state and
 * learning rate change at every step and are not visible to lz_compile as state. */
typedef struct grad_step {
  lz_module *model;
  lz_nn_grad_fn *loss_and_grad;
  lz_dict *params, *grads;
  lz_closure *compiled; /* NULL: not compiling */
} grad_step;

static int traced_grad_step(void *ctx, lz_array *const *in, int n, lz_array **out) {
  grad_step *g = ctx;
  lz_dict *real = lz_module_parameters(g->model), *grads = NULL;
  lz_array *loss = NULL;
  /* Run the model on the placeholders lz_compile put in g->params, then put the real
   * parameters back (the placeholders must not outlive the trace). */
  int rc = real && lz_module_update(g->model, g->params) == 0 &&
                   lz_nn_grad_fn_call(g->loss_and_grad, in, n, &loss, &grads) == 0
               ? 0
               : -1;
  for (size_t i = 0; rc == 0 && i < lz_dict_size(grads); i++)
    rc = lz_dict_set(g->grads, lz_dict_key(grads, i), lz_dict_value(grads, i));
  if (real && lz_module_update(g->model, real) != 0) rc = -1;
  lz_dict_free(real), lz_dict_free(grads);
  out[0] = loss;
  return rc == 0 ? 1 : -1;
}

/* Loss and gradients of one batch, through the compiled function or directly. */
static int loss_and_grads(grad_step *g, lz_array *const *in, lz_array **loss, lz_dict **grads) {
  if (!g->compiled) return lz_nn_grad_fn_call(g->loss_and_grad, in, 2, loss, grads);
  lz_dict *params = lz_module_parameters(g->model);
  int rc = params ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < lz_dict_size(params); i++)
    rc = lz_dict_set(g->params, lz_dict_key(params, i), lz_dict_value(params, i));
  lz_dict_free(params);
  lz_array *out[LZ_MAX_OUTPUTS];
  *grads = NULL;
  if (rc != 0 || lz_closure_call(g->compiled, in, 2, out) != 1) return -1;
  *loss = out[0];
  return (*grads = lz_dict_copy(g->grads)) ? 0 : -1;
}

/* One training step: loss and gradients, clipping, the AdamW update, one evaluation. Returns
 * the loss, or NAN after printing the error. */
static double step(const options *o, grad_step *g, lz_optimizer *opt, const int32_t *x,
                   const int32_t *y) {
  double value = NAN;
  lz_scope_begin();
  lz_array *in[2] = {lz_array_from_data(x, (int[]){o->batch, o->cfg.seq}, 2, LZ_INT32),
                     lz_array_from_data(y, (int[]){o->batch, o->cfg.seq}, 2, LZ_INT32)};
  lz_array *loss = NULL;
  lz_dict *grads = NULL, *clipped = NULL;
  if (loss_and_grads(g, in, &loss, &grads) == 0 &&
      (o->clip <= 0 || (clipped = lz_optim_clip_grad_norm(grads, o->clip, NULL))) &&
      lz_optim_update(opt, g->model, clipped ? clipped : grads) == 0 &&
      lz_optim_eval(opt, g->model, loss) == 0) /* loss, parameters, state: one lz_eval */
    value = lz_item_f64(loss);
  else
    fprintf(stderr, "transformer_lm: training step failed: %s\n", lz_last_error());
  lz_dict_free(grads), lz_dict_free(clipped);
  lz_scope_end();
  return value;
}

int train(const options *o, lz_module *model, lz_optimizer *opt, const vocab *v, const corpus *d) {
  const lm_config *c = lm_config_of(model);
  int start = (int)lz_optim_step(opt), rc = 0;
  if (d->ntrain == 0) return 0; /* generation only */
  printf("fortunes: %d files, %zu training and %zu validation characters, vocabulary %d\n",
         d->nfiles, d->ntrain, d->nval, v->size);
  printf("model: %d layers, dims %d, %d heads, mlp %d, context %d: %zu parameters\n", c->layers,
         c->dims, c->heads, c->mlp, c->seq, lz_module_num_parameters(model));
  int fused = o->composed ? 0 : lm_use_fast_ops(model, stdout);
  printf("training: %d steps of %d x %d characters, AdamW lr %g (warmup %d, cosine to %g), "
         "weight decay %g, clip %g; fused ops in the training graph: %d of 3\n",
         o->steps, o->batch, c->seq, o->lr, o->warmup, o->min_lr, o->weight_decay, o->clip, fused);
  fflush(stdout);
  if (lz_optim_set_schedule(opt, make_schedule(o)) != 0 || lz_module_eval(model) != 0) {
    fprintf(stderr, "transformer_lm: %s\n", lz_last_error());
    return -1;
  }
  size_t bytes = (size_t)o->batch * (size_t)c->seq * sizeof(int32_t);
  int32_t *x = malloc(bytes), *y = malloc(bytes);
  grad_step g = {model, lz_nn_value_and_grad(model, lm_loss, NULL), lz_dict_new(), lz_dict_new(),
                 NULL};
  lz_closure *traced = o->compile ? lz_closure_new(traced_grad_step, &g, NULL) : NULL;
  if (traced) g.compiled = lz_compile_with_state(traced, 0, g.params, g.grads);
  if (!x || !y || !g.loss_and_grad || !g.params || !g.grads || (o->compile && !g.compiled)) {
    fprintf(stderr, "transformer_lm: %s\n", lz_last_error());
    rc = -1;
  }
  double val = NAN, first = NAN, last = NAN, sum = 0;
  if (rc == 0 && o->resume) {
    val = validation_loss(o, model, d, x, y);
    printf("resumed from %s at step %d: validation loss %.4f\n", o->resume, start, val);
  }
  double t0 = now(), ttrain = 0;
  int count = 0, nlogs = 0;
  for (int s = start; s < o->steps && rc == 0; s++) {
    for (int b = 0; b < o->batch; b++) {
      uint64_t r = mix(mix((uint64_t)o->seed) ^ ((uint64_t)s << 20 | (uint64_t)b));
      window(d->train, (size_t)(r % (d->ntrain - (size_t)c->seq)), c->seq, b, x, y);
    }
    double ts = now();
    double loss = step(o, &g, opt, x, y);
    ttrain += now() - ts;
    if (isnan(loss)) {
      rc = -1;
      break;
    }
    sum += loss, count++;
    if ((s + 1) % o->log_every == 0 || s + 1 == o->steps) {
      double tokens = (double)count * o->batch * c->seq;
      double lr = lz_optim_learning_rate(opt);
      val = validation_loss(o, model, d, x, y);
      double el = now() - t0, eta = el / (s + 1 - start) * (o->steps - s - 1);
      if (isnan(first)) first = sum / count;
      last = sum / count, nlogs++;
      char vs[32] = "   -  "; /* no validation with --eval-batches 0 */
      if (o->eval_batches) snprintf(vs, sizeof vs, "%.4f", val);
      printf("step %5d/%d  loss %.4f  val %s  lr %.2e  %6.0f tok/s  elapsed %5.1fs  eta %4.0fs\n",
             s + 1, o->steps, last, vs, lr, tokens / ttrain, el, eta);
      fflush(stdout);
      sum = 0, count = 0, ttrain = 0;
    }
    if (o->save && o->save_every > 0 && (s + 1) % o->save_every == 0 && s + 1 < o->steps)
      rc = checkpoint_save(o->save, model, opt, v);
  }
  if (rc == 0 && o->save && o->steps > start) {
    rc = checkpoint_save(o->save, model, opt, v);
    if (rc == 0) printf("saved %s (step %d)\n", o->save, (int)lz_optim_step(opt));
  }
  if (rc == 0 && o->max_loss > 0) {
    if (isnan(val)) val = validation_loss(o, model, d, x, y);
    if (o->eval_batches == 0) val = last; /* no validation: the training loss */
    if (!(val < o->max_loss)) {
      fprintf(stderr, "transformer_lm: the loss %.4f is not below %g\n", val, o->max_loss);
      rc = -1;
    }
    if (!o->resume && nlogs > 1 && !(last < first)) {
      fprintf(stderr, "transformer_lm: the training loss did not fall (%.4f -> %.4f)\n", first,
              last);
      rc = -1;
    }
  }
  lz_closure_free(g.compiled), lz_closure_free(traced);
  lz_nn_grad_fn_free(g.loss_and_grad), lz_dict_free(g.params), lz_dict_free(g.grads);
  free(x), free(y);
  return rc;
}
