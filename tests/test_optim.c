/* Optimizers: two steps of every optimizer against its formula computed here in double, the
 * lazy update of a module, frozen parameters, state save/load, schedules, clip_grad_norm and a
 * short training loop. */
#include <unistd.h>

#include "lz_test.h"

#define N 6
static const double P0[N] = {0.5, -1.0, 0.25, 2.0, -0.75, 1.5};
static const double G[2][N] = {{0.1, -0.3, 0.8, -1.2, 0.05, 0.4}, {-0.2, 0.6, 0.3, 0.9, -0.4, 0.1}};

static lz_array *arr(const double *v) {
  lz_array *a = lz_array_from_data(v, (int[]){2, 3}, 2, LZ_FLOAT64);
  lz_array *b = lz_astype(a, LZ_FLOAT32);
  lz_free(a);
  return b;
}

static double sgn(double v) { return (v > 0) - (v < 0); }

typedef struct sim {
  double p[N], m[N], v[N], u[N], row[2], col[3];
} sim;

enum {
  SGD,
  SGD_NESTEROV,
  SGD_DAMP,
  RMSPROP,
  ADAGRAD,
  ADADELTA,
  ADAM,
  ADAM_BC,
  ADAMW,
  ADAMAX,
  LION,
  ADAFACTOR,
  ADAFACTOR_LR,
  KINDS
};

static lz_optimizer *make(int kind) {
  switch (kind) {
  case SGD:
    return lz_optim_sgd(0.1, 0.0, 0.01, 0.0, false);
  case SGD_NESTEROV:
    return lz_optim_sgd(0.1, 0.9, 0.0, 0.0, true);
  case SGD_DAMP:
    return lz_optim_sgd(0.1, 0.9, 0.05, 0.3, false);
  case RMSPROP:
    return lz_optim_rmsprop(0.01, 0.99, 1e-8);
  case ADAGRAD:
    return lz_optim_adagrad(0.1, 1e-8);
  case ADADELTA:
    return lz_optim_adadelta(1.0, 0.9, 1e-6);
  case ADAM:
    return lz_optim_adam(0.01, 0.9, 0.999, 1e-8, false);
  case ADAM_BC:
    return lz_optim_adam(0.01, 0.9, 0.999, 1e-8, true);
  case ADAMW:
    return lz_optim_adamw(0.01, 0.9, 0.999, 1e-8, 0.1, false);
  case ADAMAX:
    return lz_optim_adamax(0.01, 0.9, 0.999, 1e-8);
  case LION:
    return lz_optim_lion(0.01, 0.9, 0.99, 0.1);
  case ADAFACTOR:
    return lz_optim_adafactor(NAN, 1e-30, 1e-3, 1.0, -0.8, NAN, 0.0, true, true, false);
  default:
    return lz_optim_adafactor(0.05, 1e-30, 1e-3, 1.0, -0.8, 0.9, 0.1, false, false, false);
  }
}

static double rms(const double *a, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += a[i] * a[i];
  return sqrt(s / n);
}

/* One step of `kind` on the simulated state; t is the step count after the update. */
static void step(int kind, sim *s, const double *g0, int t) {
  double g[N], upd[N];
  for (int i = 0; i < N; i++) g[i] = g0[i];
  if (kind == ADAFACTOR || kind == ADAFACTOR_LR) {
    bool rel = kind == ADAFACTOR;
    double lr = rel ? fmin(1e-2, 1 / sqrt(t)) : 0.05;
    if (rel) lr *= fmax(1e-3, rms(s->p, N)); /* scale_parameter */
    double b2 = 1 - pow(t, -0.8), sq[N];
    for (int i = 0; i < N; i++) sq[i] = g[i] * g[i] + 1e-30;
    for (int r = 0; r < 2; r++)
      s->row[r] = b2 * s->row[r] + (1 - b2) * (sq[r * 3] + sq[r * 3 + 1] + sq[r * 3 + 2]) / 3;
    for (int c = 0; c < 3; c++) s->col[c] = b2 * s->col[c] + (1 - b2) * (sq[c] + sq[3 + c]) / 2;
    double rmean = (s->row[0] + s->row[1]) / 2;
    for (int r = 0; r < 2; r++)
      for (int c = 0; c < 3; c++)
        upd[r * 3 + c] = 1 / sqrt(s->row[r] / rmean) / sqrt(s->col[c]) * g[r * 3 + c];
    double scale = fmax(1.0, rms(upd, N) / 1.0);
    for (int i = 0; i < N; i++) upd[i] = lr * upd[i] / scale;
    if (!rel)
      for (int i = 0; i < N; i++) upd[i] = s->m[i] = 0.9 * s->m[i] + 0.1 * upd[i];
    for (int i = 0; i < N; i++) {
      double p = s->p[i];
      if (!rel) p += p * (-0.1 * lr);
      s->p[i] = p - upd[i];
    }
    return;
  }
  for (int i = 0; i < N; i++) {
    double *p = &s->p[i], *m = &s->m[i], *v = &s->v[i], *u = &s->u[i], gi = g[i];
    switch (kind) {
    case SGD:
      *p -= 0.1 * (gi + 0.01 * *p);
      break;
    case SGD_NESTEROV:
      *v = 0.9 * *v + gi;
      *p -= 0.1 * (gi + 0.9 * *v);
      break;
    case SGD_DAMP:
      gi += 0.05 * *p;
      *v = 0.9 * *v + 0.7 * gi;
      *p -= 0.1 * *v;
      break;
    case RMSPROP:
      *v = 0.99 * *v + 0.01 * gi * gi;
      *p -= 0.01 * gi / (sqrt(*v) + 1e-8);
      break;
    case ADAGRAD:
      *v += gi * gi;
      *p -= 0.1 * gi / (sqrt(*v) + 1e-8);
      break;
    case ADADELTA: {
      *v = 0.9 * *v + 0.1 * gi * gi;
      double d = sqrt(*u + 1e-6) / sqrt(*v + 1e-6) * gi;
      *u = 0.9 * *u + 0.1 * d * d;
      *p -= d;
      break;
    }
    case ADAM:
    case ADAM_BC:
    case ADAMW:
      if (kind == ADAMW) *p *= 1 - 0.01 * 0.1;
      *m = 0.9 * *m + 0.1 * gi, *v = 0.999 * *v + 0.001 * gi * gi;
      if (kind == ADAM_BC)
        *p -= 0.01 / (1 - pow(0.9, t)) * *m / (sqrt(*v) / sqrt(1 - pow(0.999, t)) + 1e-8);
      else
        *p -= 0.01 * *m / (sqrt(*v) + 1e-8);
      break;
    case ADAMAX:
      *m = 0.9 * *m + 0.1 * gi, *v = fmax(0.999 * *v, fabs(gi));
      *p -= 0.01 * *m / (*v + 1e-8);
      break;
    case LION: {
      double c = 0.9 * *m + 0.1 * gi;
      *m = 0.99 * *m + 0.01 * gi;
      *p = *p * (1 - 0.01 * 0.1) - 0.01 * sgn(c);
      break;
    }
    }
  }
}

static void test_every_optimizer(void) {
  const char *names[KINDS] = {"sgd",      "sgd_nesterov", "sgd_damp",    "rmsprop", "adagrad",
                              "adadelta", "adam",         "adam_bc",     "adamw",   "adamax",
                              "lion",     "adafactor",    "adafactor_lr"};
  for (int kind = 0; kind < KINDS; kind++) {
    lz_optimizer *o = make(kind);
    sim s;
    memset(&s, 0, sizeof s);
    memcpy(s.p, P0, sizeof P0);
    lz_dict *params = lz_dict_new();
    lz_dict_set(params, "w", arr(P0));
    for (int t = 1; t <= 2; t++) {
      lz_dict *grads = lz_dict_new();
      lz_dict_set(grads, "w", arr(G[t - 1]));
      uint64_t k0 = lz_get_kernel_count();
      lz_dict *np = lz_optim_apply_gradients(o, grads, params);
      CHECK(np && lz_get_kernel_count() == k0); /* lazy */
      step(kind, &s, G[t - 1], t);
      lz_dict_free(params);
      params = np;
      lz_dict_free(grads);
      if (!np) break;
      CHECK(lz_dict_eval(np) == 0);
      lz_array *w = lz_dict_get(np, "w");
      double got[N];
      lz_array_read(w, LZ_FLOAT64, got, sizeof got);
      for (int i = 0; i < N; i++) {
        if (fabs(got[i] - s.p[i]) > 1e-5 * (1 + fabs(s.p[i]))) {
          fprintf(stderr, "%s step %d element %d: %.9g, expected %.9g\n", names[kind], t, i, got[i],
                  s.p[i]);
          CHECK(false);
          break;
        }
      }
      lz_free(w);
    }
    CHECK(lz_optim_step(o) == 2);
    lz_dict_free(params);
    lz_optim_free(o);
  }
}

static void test_state_and_errors(void) {
  lz_optimizer *o = lz_optim_adam(0.01, 0.9, 0.999, 1e-8, false);
  lz_dict *p = lz_dict_new(), *g = lz_dict_new();
  lz_dict_set(p, "a.weight", arr(P0));
  lz_dict_set(g, "a.weight", arr(G[0]));
  lz_dict *np = lz_optim_apply_gradients(o, g, p);
  lz_dict *st = lz_optim_state(o);
  CHECK(st && lz_dict_size(st) == 4);
  CHECK(lz_dict_contains(st, "step") && lz_dict_contains(st, "learning_rate"));
  CHECK(lz_dict_contains(st, "a.weight.m") && lz_dict_contains(st, "a.weight.v"));
  CHECK(lz_array_dtype(lz_dict_get(st, "step")) == LZ_UINT64);
  CHECK(lz_item_i64(lz_dict_get(st, "step")) == 1);
  lz_dict_free(st), lz_dict_free(np);
  lz_dict_set(g, "b", arr(G[0]));
  CHECK_ERROR(lz_optim_apply_gradients(o, g, p), "gradient 'b' has no parameter");
  CHECK(lz_optim_step(o) == 1); /* unchanged by the failure */
  lz_dict_free(p), lz_dict_free(g);
  lz_optim_free(o);
  CHECK_ERROR(lz_optim_sgd(0.1, 0, 0, 0, true), "Nesterov");
  CHECK_ERROR(lz_optim_rmsprop(0.1, -1, 1e-8), "alpha");
  CHECK_ERROR(lz_optim_adafactor(NAN, 1e-30, 1e-3, 1, -0.8, NAN, 0, true, false, false),
              "relative_step");
}

static void test_schedules(void) {
  lz_schedule *e = lz_optim_exponential_decay(0.1, 0.9);
  CHECK_CLOSE(lz_schedule_value(e, 3), 0.1 * 0.729, 1e-12);
  lz_schedule *s = lz_optim_step_decay(0.1, 0.5, 10);
  CHECK_CLOSE(lz_schedule_value(s, 9), 0.1, 1e-12);
  CHECK_CLOSE(lz_schedule_value(s, 25), 0.025, 1e-12);
  lz_schedule *c = lz_optim_cosine_decay(0.1, 100, 0.01);
  CHECK_CLOSE(lz_schedule_value(c, 0), 0.1, 1e-12);
  CHECK_CLOSE(lz_schedule_value(c, 50), 0.055, 1e-12);
  CHECK_CLOSE(lz_schedule_value(c, 1000), 0.01, 1e-12);
  lz_schedule *l = lz_optim_linear_schedule(0, 0.1, 10);
  CHECK_CLOSE(lz_schedule_value(l, 5), 0.05, 1e-12);
  CHECK_CLOSE(lz_schedule_value(l, 20), 0.1, 1e-12);
  lz_schedule_free(e), lz_schedule_free(s), lz_schedule_free(c), lz_schedule_free(l);
  /* warmup for 10 steps, then cosine decay over 100 */
  lz_schedule *j = lz_optim_join_schedules(
      2,
      (lz_schedule *[]){lz_optim_linear_schedule(0, 0.1, 10), lz_optim_cosine_decay(0.1, 100, 0)},
      (int64_t[]){10});
  CHECK_CLOSE(lz_schedule_value(j, 4), 0.04, 1e-12);
  CHECK_CLOSE(lz_schedule_value(j, 10), 0.1, 1e-12);
  CHECK_CLOSE(lz_schedule_value(j, 60), 0.05, 1e-12);
  /* an optimizer on the schedule uses schedule(step) before the step's increment */
  lz_optimizer *o = lz_optim_sgd(1.0, 0, 0, 0, false);
  CHECK(lz_optim_set_schedule(o, j) == 0);
  lz_dict *p = lz_dict_new(), *g = lz_dict_new();
  lz_dict_set(p, "w", lz_zeros((int[]){1}, 1, LZ_FLOAT32));
  lz_dict_set(g, "w", lz_ones((int[]){1}, 1, LZ_FLOAT32));
  double want = 0;
  for (int t = 0; t < 5; t++) {
    lz_dict *np = lz_optim_apply_gradients(o, g, p);
    want -= 0.01 * t;
    lz_dict_free(p);
    p = np;
  }
  CHECK_VALUES(lz_dict_get(p, "w"), &want, 1, 1e-6);
  CHECK_CLOSE(lz_optim_learning_rate(o), 0.04, 1e-12);
  lz_dict_free(p), lz_dict_free(g);
  lz_optim_free(o);
  CHECK_ERROR(lz_optim_join_schedules(2, (lz_schedule *[]){lz_optim_exponential_decay(1, 1), NULL},
                                      (int64_t[]){3}),
              "join_schedules");
}

static void test_clip_grad_norm(void) {
  lz_dict *g = lz_dict_new();
  lz_dict_set(g, "w1", lz_array_from_data((float[]){3, 0}, (int[]){2}, 1, LZ_FLOAT32));
  lz_dict_set(g, "w2", lz_array_from_data((float[]){4}, (int[]){1}, 1, LZ_FLOAT32));
  lz_array *norm;
  lz_dict *c = lz_optim_clip_grad_norm(g, 1.0, &norm);
  CHECK_VALUES(norm, ((double[]){5}), 1, 1e-6);
  CHECK_VALUES(lz_dict_get(c, "w1"), ((double[]){0.6, 0}), 2, 1e-5);
  CHECK_VALUES(lz_dict_get(c, "w2"), ((double[]){0.8}), 1, 1e-5);
  lz_dict_free(c);
  c = lz_optim_clip_grad_norm(g, 10.0, NULL);
  CHECK_VALUES(lz_dict_get(c, "w2"), ((double[]){4}), 1, 0); /* below max_norm: unchanged */
  lz_dict_free(c), lz_dict_free(g);
}

/* loss = mean((model(x) - y)^2) */
static lz_array *mse(void *ctx, lz_module *model, lz_array *const *in, int n) {
  return lz_nn_mse_loss(lz_module_forward(model, in[0]), in[1], LZ_NN_REDUCTION_MEAN);
}

static lz_module *regression(lz_array **x, lz_array **y) {
  lz_random_seed(11);
  lz_module *m = lz_nn_linear_new(4, 1, true);
  *x = lz_random_normal((int[]){32, 4}, 2, LZ_FLOAT32, 0, 1, lz_random_key(1));
  lz_array *wt = lz_array_from_data((float[]){1, -2, 0.5f, 3}, (int[]){4, 1}, 2, LZ_FLOAT32);
  *y = lz_add(lz_matmul(*x, wt), lz_float(0.7));
  return m;
}

static double train(lz_module *m, lz_optimizer *opt, lz_array *x, lz_array *y, int steps) {
  lz_nn_grad_fn *loss_and_grad = lz_nn_value_and_grad(m, mse, NULL);
  double last = NAN;
  for (int s = 0; s < steps; s++) {
    lz_scope_begin();
    lz_array *loss;
    lz_dict *grads;
    if (lz_nn_grad_fn_call(loss_and_grad, (lz_array *[]){x, y}, 2, &loss, &grads) == 0) {
      lz_optim_update(opt, m, grads);
      lz_optim_eval(opt, m, loss);
      last = lz_item_f64(loss);
      lz_dict_free(grads);
    }
    lz_scope_end();
  }
  lz_nn_grad_fn_free(loss_and_grad);
  return last;
}

static void test_training_loop(void) {
  lz_array *x, *y;
  lz_module *m = regression(&x, &y);
  lz_optimizer *opt = lz_optim_adam(0.1, 0.9, 0.999, 1e-8, false);
  double first = train(m, opt, x, y, 1);
  double last = train(m, opt, x, y, 60);
  CHECK(last < first * 0.05);
  CHECK(lz_optim_step(opt) == 61);
  /* frozen parameters are not updated */
  lz_module_freeze(m, "bias");
  lz_array *b0 = lz_module_param(m, "bias");
  train(m, opt, x, y, 2);
  CHECK(lz_array_id(lz_module_param(m, "bias")) == lz_array_id(b0));
  lz_optim_free(opt);
  lz_module_free(m);
}

static lz_optimizer *resumable(int k) {
  switch (k) {
  case 0: return lz_optim_adamw(0.05, 0.9, 0.999, 1e-8, 0.01, true);
  case 1: return lz_optim_sgd(0.1 / 3, 0.9, 1e-3, 0.1, false);
  case 2: return lz_optim_adam(1e-3 / 7, 0.8, 0.95, 1e-7, true);
  case 3: return lz_optim_lion(0.3 / 7, 0.9, 0.99, 0.01);
  default: {
    lz_optimizer *o = lz_optim_adagrad(0.1, 1e-8);
    lz_optim_set_schedule(o, lz_optim_cosine_decay(0.1 / 3, 10, 1e-4 / 3));
    return o;
  }
  }
}

/* An optimizer resumed from its saved state continues bitwise as the uninterrupted run: the
 * learning rate and step come back exactly (float64, uint64), the moments unrounded. */
static void test_state_save_load(void) {
  char dir[] = "/tmp/lz_optim_XXXXXX", path[64];
  if (!mkdtemp(dir)) return;
  snprintf(path, sizeof path, "%s/opt.safetensors", dir);
  for (int k = 0; k < 5; k++) {
    lz_array *x, *y;
    /* 6 uninterrupted steps ... */
    lz_module *a = regression(&x, &y);
    lz_optimizer *oa = resumable(k);
    train(a, oa, x, y, 6);
    /* ... equal 3 steps, a save and a load into a fresh optimizer, then 3 more */
    lz_module *b = regression(&x, &y);
    lz_optimizer *ob = resumable(k);
    train(b, ob, x, y, 3);
    double lr3 = lz_optim_learning_rate(ob);
    CHECK(lz_optim_save_state(ob, path) == 0);
    lz_optim_free(ob);
    ob = resumable(k);
    CHECK(lz_optim_load_state(ob, path) == 0);
    CHECK(lz_optim_step(ob) == 3);
    CHECK(lz_optim_learning_rate(ob) == lr3);
    train(b, ob, x, y, 3);
    CHECK(lz_optim_learning_rate(ob) == lz_optim_learning_rate(oa));
    const char *names[2] = {"weight", "bias"};
    for (int p = 0; p < 2; p++) {
      lz_array *wa = lz_module_param(a, names[p]), *wb = lz_module_param(b, names[p]);
      float va[16], vb[16];
      size_t n = lz_array_size(wa);
      CHECK(n <= 16 && n == lz_array_size(wb));
      CHECK(lz_array_read(wa, LZ_FLOAT32, va, sizeof va) == 0);
      CHECK(lz_array_read(wb, LZ_FLOAT32, vb, sizeof vb) == 0);
      CHECK(memcmp(va, vb, n * sizeof(float)) == 0);
    }
    if (k == 0) {
      CHECK_ERROR(lz_optim_load_state(ob, "/nonexistent/x.safetensors") == 0 ? ob : NULL,
                  "nonexistent");
      CHECK(lz_optim_step(ob) == 6);
    }
    lz_optim_free(oa), lz_optim_free(ob);
    lz_module_free(a), lz_module_free(b);
    unlink(path);
  }
  rmdir(dir);
}

int main(void) {
  RUN(test_every_optimizer);
  RUN(test_state_and_errors);
  RUN(test_schedules);
  RUN(test_clip_grad_norm);
  RUN(test_training_loop);
  RUN(test_state_save_load);
  return lzt_summary();
}
