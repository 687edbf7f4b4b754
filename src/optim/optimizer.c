/* The optimizer object: state dict, steps, schedules, update, evaluation, save/load, clipping. */
#include "optim/optim_impl.h"

#define KEY_MAX 1100

static lz_optimizer *make(const char *name, const optim_cfg *cfg, double lr) {
  lz_optimizer *o = calloc(1, sizeof *o);
  if (o) o->state = lz_dict_new();
  if (!o || !o->state) {
    free(o);
    lz_set_error(LZ_ERROR_OUT_OF_MEMORY, name, "out of memory");
    return NULL;
  }
  o->cfg = *cfg, o->name = name, o->lr = lr;
  return o;
}

static lz_optimizer *bad(const char *who, const char *what, double v) {
  lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "%s is invalid: %g", what, v);
  return NULL;
}

lz_optimizer *lz_optim_sgd(double lr, double momentum, double weight_decay, double dampening,
                           bool nesterov) {
  if (nesterov && (momentum <= 0 || dampening != 0)) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_optim_sgd",
                 "Nesterov momentum requires a "
                 "momentum and zero dampening");
    return NULL;
  }
  optim_cfg c = {.kind = OPT_SGD,
                 .momentum = momentum,
                 .weight_decay = weight_decay,
                 .dampening = dampening,
                 .nesterov = nesterov,
                 .has_lr = true};
  return make("SGD", &c, lr);
}

lz_optimizer *lz_optim_rmsprop(double lr, double alpha, double eps) {
  if (!(alpha >= 0)) return bad("lz_optim_rmsprop", "alpha", alpha);
  if (!(eps >= 0)) return bad("lz_optim_rmsprop", "eps", eps);
  optim_cfg c = {.kind = OPT_RMSPROP, .alpha = alpha, .eps = eps, .has_lr = true};
  return make("RMSprop", &c, lr);
}

lz_optimizer *lz_optim_adagrad(double lr, double eps) {
  if (!(eps >= 0)) return bad("lz_optim_adagrad", "eps", eps);
  optim_cfg c = {.kind = OPT_ADAGRAD, .eps = eps, .has_lr = true};
  return make("Adagrad", &c, lr);
}

lz_optimizer *lz_optim_adadelta(double lr, double rho, double eps) {
  if (!(rho >= 0)) return bad("lz_optim_adadelta", "rho", rho);
  if (!(eps >= 0)) return bad("lz_optim_adadelta", "eps", eps);
  optim_cfg c = {.kind = OPT_ADADELTA, .rho = rho, .eps = eps, .has_lr = true};
  return make("AdaDelta", &c, lr);
}

lz_optimizer *lz_optim_adam(double lr, double beta1, double beta2, double eps,
                            bool bias_correction) {
  optim_cfg c = {.kind = OPT_ADAM,
                 .beta1 = beta1,
                 .beta2 = beta2,
                 .eps = eps,
                 .bias_correction = bias_correction,
                 .has_lr = true};
  return make("Adam", &c, lr);
}

lz_optimizer *lz_optim_adamw(double lr, double beta1, double beta2, double eps, double weight_decay,
                             bool bias_correction) {
  optim_cfg c = {.kind = OPT_ADAMW,
                 .beta1 = beta1,
                 .beta2 = beta2,
                 .eps = eps,
                 .weight_decay = weight_decay,
                 .bias_correction = bias_correction,
                 .has_lr = true};
  return make("AdamW", &c, lr);
}

lz_optimizer *lz_optim_adamax(double lr, double beta1, double beta2, double eps) {
  if (!(eps >= 0)) return bad("lz_optim_adamax", "eps", eps);
  optim_cfg c = {.kind = OPT_ADAMAX, .beta1 = beta1, .beta2 = beta2, .eps = eps, .has_lr = true};
  return make("Adamax", &c, lr);
}

lz_optimizer *lz_optim_lion(double lr, double beta1, double beta2, double weight_decay) {
  optim_cfg c = {.kind = OPT_LION,
                 .beta1 = beta1,
                 .beta2 = beta2,
                 .weight_decay = weight_decay,
                 .has_lr = true};
  return make("Lion", &c, lr);
}

lz_optimizer *lz_optim_adafactor(double lr, double eps1, double eps2, double clip_threshold,
                                 double decay_rate, double beta_1, double weight_decay,
                                 bool scale_parameter, bool relative_step, bool warmup_init) {
  bool has_lr = lr >= 0;
  if (!has_lr && !relative_step) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_optim_adafactor",
                 "without a learning rate, "
                 "relative_step must be true");
    return NULL;
  }
  optim_cfg c = {.kind = OPT_ADAFACTOR,
                 .eps = eps1,
                 .eps2 = eps2,
                 .clip_threshold = clip_threshold,
                 .decay_rate = decay_rate,
                 .beta1 = beta_1 >= 0 ? beta_1 : 0,
                 .has_beta1 = beta_1 >= 0,
                 .weight_decay = weight_decay,
                 .scale_parameter = scale_parameter,
                 .relative_step = relative_step,
                 .warmup_init = warmup_init,
                 .has_lr = has_lr};
  return make("Adafactor", &c, has_lr ? lr : 0);
}

void lz_optim_free(lz_optimizer *o) {
  if (!o) return;
  lz_dict_free(o->state);
  lz_schedule_free(o->schedule);
  free(o);
}

/* ---- state ---------------------------------------------------------------------------------- */

static int state_key(char *buf, const char *name, const char *key) {
  int n = snprintf(buf, KEY_MAX, "%s.%s", name, key);
  if (n < 0 || n >= KEY_MAX)
    return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_optim", "parameter name too long");
  return 0;
}

lz_array *lz_optim__state(lz_optimizer *o, const char *name, const char *key, lz_array *like) {
  char k[KEY_MAX];
  if (state_key(k, name, key) != 0) return NULL;
  lz_array *a = lz_dict_get(o->state, k);
  return a ? a : lz_zeros_like(like);
}

int lz_optim__set_state(lz_optimizer *o, const char *name, const char *key, lz_array *a) {
  char k[KEY_MAX];
  if (!a || state_key(k, name, key) != 0) return -1;
  return lz_dict_set(o->state, k, a);
}

lz_dict *lz_optim_state(const lz_optimizer *o) { return o ? lz_dict_copy(o->state) : NULL; }
int64_t lz_optim_step(const lz_optimizer *o) { return o ? o->step : 0; }
double lz_optim_learning_rate(const lz_optimizer *o) { return o ? o->lr : NAN; }

void lz_optim_set_learning_rate(lz_optimizer *o, double lr) {
  if (!o) return;
  lz_schedule_free(o->schedule);
  o->schedule = NULL;
  o->lr = lr, o->cfg.has_lr = true;
}

int lz_optim_set_schedule(lz_optimizer *o, lz_schedule *s) {
  if (!o || !s) {
    lz_schedule_free(s);
    if (lz_last_error_code() == LZ_ERROR_NONE)
      lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_optim_set_schedule", "NULL %s",
                   o ? "schedule" : "optimizer");
    return -1;
  }
  lz_schedule_free(o->schedule);
  o->schedule = s, o->cfg.has_lr = true;
  o->lr = lz_schedule_value(s, o->step);
  return 0;
}

/* ---- updating ----------------------------------------------------------------------------- */

lz_dict *lz_optim_apply_gradients(lz_optimizer *o, const lz_dict *grads, const lz_dict *params) {
  const char *who = "lz_optim_apply_gradients";
  if (!o || !grads || !params) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "NULL argument");
    return NULL;
  }
  size_t n = lz_dict_size(grads);
  for (size_t i = 0; i < n; i++) {
    const char *k = lz_dict_key(grads, i);
    if (!lz_dict_contains(params, k)) {
      lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "gradient '%s' has no parameter", k);
      return NULL;
    }
  }
  lz_dict *out = lz_dict_new(), *saved = lz_dict_copy(o->state);
  if (!out || !saved) {
    lz_dict_free(out), lz_dict_free(saved);
    return NULL;
  }
  double lr0 = o->lr;
  int64_t step0 = o->step;
  if (o->schedule) o->lr = lz_schedule_value(o->schedule, o->step);
  o->step++;
  int rc = 0;
  lz_scope_begin();
  rc |= lz_dict_set(o->state, "step", lz_scalar((double)o->step, LZ_UINT64));
  if (o->cfg.has_lr) rc |= lz_dict_set(o->state, "learning_rate", lz_scalar(o->lr, LZ_FLOAT64));
  for (size_t i = 0; i < n && rc == 0; i++) {
    const char *k = lz_dict_key(grads, i);
    lz_array *g = lz_dict_value(grads, i), *p = lz_dict_get(params, k);
    lz_array *np = g && p ? lz_optim__apply_single(o, k, g, p) : NULL;
    rc = np ? lz_dict_set(out, k, np) : -1;
  }
  lz_scope_end();
  if (rc != 0) { /* leave the optimizer as it was */
    lz_dict_free(o->state);
    o->state = saved, o->lr = lr0, o->step = step0;
    lz_dict_free(out);
    if (lz_last_error_code() == LZ_ERROR_NONE)
      lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "%s update failed", o->name);
    return NULL;
  }
  lz_dict_free(saved);
  return out;
}

int lz_optim_update(lz_optimizer *o, lz_module *model, const lz_dict *grads) {
  lz_dict *params = lz_module_parameters(model);
  lz_dict *np = params ? lz_optim_apply_gradients(o, grads, params) : NULL;
  int rc = np ? lz_module_update(model, np) : -1;
  lz_dict_free(params), lz_dict_free(np);
  return rc;
}

static int push_all(lz_array ***arr, size_t *n, size_t *cap, const lz_dict *d) {
  size_t k = lz_dict_size(d);
  for (size_t i = 0; i < k; i++) {
    lz_array *a = lz_dict_value(d, i);
    if (!a) continue;
    if (*n == *cap) {
      size_t c = *cap ? *cap * 2 : 64;
      lz_array **p = realloc(*arr, c * sizeof *p);
      if (!p) return lz_set_error(LZ_ERROR_OUT_OF_MEMORY, "lz_optim_eval", "out of memory");
      *arr = p, *cap = c;
    }
    (*arr)[(*n)++] = a;
  }
  return 0;
}

int lz_optim_eval(lz_optimizer *o, lz_module *model, lz_array *loss) {
  lz_array **all = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  lz_scope_begin();
  lz_dict *params = model ? lz_module_parameters(model) : NULL;
  if (model && !params) rc = -1;
  if (rc == 0 && params) rc = push_all(&all, &n, &cap, params);
  if (rc == 0 && o) rc = push_all(&all, &n, &cap, o->state);
  if (rc == 0 && loss) {
    lz_dict *one = lz_dict_new();
    rc = one && lz_dict_set(one, "loss", loss) == 0 ? push_all(&all, &n, &cap, one) : -1;
    lz_dict_free(one);
  }
  if (rc == 0 && n) rc = lz_eval_many(all, n);
  lz_scope_end();
  lz_dict_free(params);
  free(all);
  return rc;
}

/* ---- saving and loading the state ---------------------------------------------------------- */

int lz_optim_save_state(lz_optimizer *o, const char *path) {
  if (!o || !path)
    return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_optim_save_state", "NULL argument");
  lz_scope_begin();
  int rc = lz_dict_set(o->state, "step", lz_scalar((double)o->step, LZ_UINT64));
  if (rc == 0 && o->cfg.has_lr)
    rc = lz_dict_set(o->state, "learning_rate", lz_scalar(o->lr, LZ_FLOAT64));
  lz_scope_end();
  return rc == 0 ? lz_save_safetensors(path, o->state, NULL) : -1;
}

int lz_optim_load_state(lz_optimizer *o, const char *path) {
  const char *who = "lz_optim_load_state";
  if (!o || !path) return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "NULL argument");
  lz_dict *d = lz_load_safetensors(path, NULL);
  if (!d) return -1;
  lz_scope_begin();
  lz_array *step = lz_dict_get(d, "step"), *lr = lz_dict_get(d, "learning_rate");
  int rc = 0;
  if (!step || lz_array_size(step) != 1)
    rc = lz_set_error(LZ_ERROR_IO, who, "'%s' has no scalar \"step\"", path);
  int64_t s = 0;
  double l = o->lr;
  if (rc == 0) rc = lz_array_read(step, LZ_INT64, &s, sizeof s);
  if (rc == 0 && lr)
    rc = lz_array_size(lr) == 1 ? lz_array_read(lr, LZ_FLOAT64, &l, sizeof l)
                                : lz_set_error(LZ_ERROR_IO, who, "'%s' has no scalar \"learning_rate\"", path);
  lz_scope_end();
  if (rc != 0) {
    lz_dict_free(d);
    return -1;
  }
  lz_dict_free(o->state);
  o->state = d, o->step = s;
  if (lr) o->lr = l; /* the rate of the last update (a schedule gives the next one) */
  return 0;
}

/* ---- clipping ----------------------------------------------------------------------------- */

lz_dict *lz_optim_clip_grad_norm(const lz_dict *grads, double max_norm, lz_array **total_norm) {
  if (total_norm) *total_norm = NULL;
  if (!grads) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_optim_clip_grad_norm", "NULL gradients");
    return NULL;
  }
  lz_dict *out = lz_dict_new();
  if (!out) return NULL;
  lz_scope_begin();
  size_t n = lz_dict_size(grads);
  lz_array *sq = lz_float(0.0);
  for (size_t i = 0; i < n; i++) sq = lz_add(sq, lz_sum(lz_square(lz_dict_value(grads, i)), false));
  lz_array *norm = lz_sqrt(sq);
  lz_array *scale = lz_divide(lz_float(max_norm), lz_add(norm, lz_float(1e-6)));
  lz_array *keep = lz_less(norm, lz_float(max_norm));
  int rc = norm ? 0 : -1;
  for (size_t i = 0; i < n && rc == 0; i++) {
    lz_array *g = lz_dict_value(grads, i);
    lz_array *c = lz_where(keep, g, lz_multiply(g, scale));
    rc = c ? lz_dict_set(out, lz_dict_key(grads, i), c) : -1;
  }
  if (rc == 0 && total_norm) *total_norm = lz_keep(norm);
  lz_scope_end();
  if (rc != 0) {
    lz_dict_free(out);
    return NULL;
  }
  return out;
}
