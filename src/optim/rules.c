/* The per-parameter update of each optimizer (MLX's apply_single), built lazily. Scalars are
 * weak (lz_float), so they take the gradient's dtype as MLX's Python floats do. */
#include "optim/optim_impl.h"

#define F(v) lz_float(v)
#define STATE(key, like) lz_optim__state(o, name, key, like)
#define SET(key, a) (lz_optim__set_state(o, name, key, a) == 0)

static lz_array *rms(lz_array *x) { return lz_sqrt(lz_mean(lz_square(x), false)); }

static lz_array *sgd(lz_optimizer *o, const char *name, lz_array *g, lz_array *p) {
  const optim_cfg *c = &o->cfg;
  lz_array *lr = F(o->lr);
  if (c->weight_decay != 0) g = lz_add(g, lz_multiply(F(c->weight_decay), p));
  if (c->momentum <= 0) return lz_subtract(p, lz_multiply(lr, g));
  lz_array *v = lz_multiply(F(c->momentum), STATE("v", p));
  v = lz_add(v, c->dampening > 0 ? lz_multiply(F(1 - c->dampening), g) : g);
  lz_array *update = c->nesterov ? lz_add(g, lz_multiply(F(c->momentum), v)) : v;
  if (!SET("v", v)) return NULL;
  return lz_subtract(p, lz_multiply(lr, update));
}

static lz_array *rmsprop(lz_optimizer *o, const char *name, lz_array *g, lz_array *p) {
  const optim_cfg *c = &o->cfg;
  lz_array *v =
      lz_add(lz_multiply(F(c->alpha), STATE("v", p)), lz_multiply(F(1 - c->alpha), lz_square(g)));
  if (!SET("v", v)) return NULL;
  return lz_subtract(p, lz_divide(lz_multiply(F(o->lr), g), lz_add(lz_sqrt(v), F(c->eps))));
}

static lz_array *adagrad(lz_optimizer *o, const char *name, lz_array *g, lz_array *p) {
  lz_array *v = lz_add(STATE("v", p), lz_square(g));
  if (!SET("v", v)) return NULL;
  return lz_subtract(p, lz_divide(lz_multiply(F(o->lr), g), lz_add(lz_sqrt(v), F(o->cfg.eps))));
}

static lz_array *adadelta(lz_optimizer *o, const char *name, lz_array *g, lz_array *p) {
  const optim_cfg *c = &o->cfg;
  lz_array *rho = F(c->rho), *rho1 = F(1 - c->rho), *eps = F(c->eps);
  lz_array *v = lz_add(lz_multiply(rho, STATE("v", p)), lz_multiply(rho1, lz_square(g)));
  lz_array *u = STATE("u", p);
  lz_array *d = lz_multiply(lz_divide(lz_sqrt(lz_add(u, eps)), lz_sqrt(lz_add(v, eps))), g);
  u = lz_add(lz_multiply(rho, u), lz_multiply(rho1, lz_square(d)));
  if (!SET("v", v) || !SET("u", u)) return NULL;
  return lz_subtract(p, lz_multiply(F(o->lr), d));
}

static lz_array *adam(lz_optimizer *o, const char *name, lz_array *g, lz_array *p) {
  const optim_cfg *c = &o->cfg;
  double b1 = c->beta1, b2 = c->beta2, lr = o->lr, t = (double)o->step;
  if (c->kind == OPT_ADAMW) p = lz_multiply(p, F(1 - lr * c->weight_decay));
  lz_array *m = lz_add(lz_multiply(F(b1), STATE("m", p)), lz_multiply(F(1 - b1), g));
  lz_array *v = lz_add(lz_multiply(F(b2), STATE("v", p)), lz_multiply(F(1 - b2), lz_square(g)));
  if (!SET("m", m) || !SET("v", v)) return NULL;
  if (c->bias_correction) {
    lz_array *num = lz_multiply(F(lr / (1 - pow(b1, t))), m);
    lz_array *den = lz_add(lz_divide(lz_sqrt(v), F(sqrt(1 - pow(b2, t)))), F(c->eps));
    return lz_subtract(p, lz_divide(num, den));
  }
  return lz_subtract(p, lz_divide(lz_multiply(F(lr), m), lz_add(lz_sqrt(v), F(c->eps))));
}

static lz_array *adamax(lz_optimizer *o, const char *name, lz_array *g, lz_array *p) {
  const optim_cfg *c = &o->cfg;
  lz_array *m = lz_add(lz_multiply(F(c->beta1), STATE("m", p)), lz_multiply(F(1 - c->beta1), g));
  lz_array *v = lz_maximum(lz_multiply(F(c->beta2), STATE("v", p)), lz_abs(g));
  if (!SET("m", m) || !SET("v", v)) return NULL;
  return lz_subtract(p, lz_divide(lz_multiply(F(o->lr), m), lz_add(v, F(c->eps))));
}

static lz_array *lion(lz_optimizer *o, const char *name, lz_array *g, lz_array *p) {
  const optim_cfg *c = &o->cfg;
  lz_array *m = STATE("m", p);
  lz_array *upd = lz_add(lz_multiply(F(c->beta1), m), lz_multiply(F(1 - c->beta1), g));
  if (!SET("m", lz_add(lz_multiply(F(c->beta2), m), lz_multiply(F(1 - c->beta2), g)))) return NULL;
  if (c->weight_decay > 0) p = lz_multiply(F(1 - o->lr * c->weight_decay), p);
  return lz_subtract(p, lz_multiply(F(o->lr), lz_sign(upd)));
}

static lz_array *adafactor(lz_optimizer *o, const char *name, lz_array *g, lz_array *p) {
  const optim_cfg *c = &o->cfg;
  double t = (double)o->step;
  int nd = lz_array_ndim(g);
  lz_array *prms = rms(p);
  lz_dtype dt = lz_array_dtype(p);
  /* learning rate of this step */
  double rel = c->relative_step ? fmin(c->warmup_init ? 1e-6 * t : 1e-2, 1.0 / sqrt(t)) : o->lr;
  lz_array *lr = lz_astype(lz_scalar(rel, LZ_FLOAT32), lz_array_dtype(prms));
  if (c->scale_parameter) lr = lz_multiply(lz_maximum(F(c->eps2), prms), lr);
  double beta2 = 1.0 - pow(t, c->decay_rate);
  lz_array *update = lz_add(lz_square(g), F(c->eps));
  if (nd >= 2) {
    int row_shape[LZ_MAX_NDIM], col_shape[LZ_MAX_NDIM];
    for (int d = 0; d < nd - 1; d++) row_shape[d] = lz_array_shape(p)[d];
    for (int d = 0; d < nd - 2; d++) col_shape[d] = lz_array_shape(p)[d];
    col_shape[nd - 2] = lz_array_dim(p, -1);
    lz_array *zr = lz_zeros(row_shape, nd - 1, dt), *zc = lz_zeros(col_shape, nd - 1, dt);
    lz_array *row = STATE("exp_avg_sq_row", zr), *col = STATE("exp_avg_sq_col", zc);
    row = lz_add(lz_multiply(F(beta2), row),
                 lz_multiply(F(1 - beta2), lz_mean_axis(update, -1, false)));
    col = lz_add(lz_multiply(F(beta2), col),
                 lz_multiply(F(1 - beta2), lz_mean_axis(update, -2, false)));
    if (!SET("exp_avg_sq_row", row) || !SET("exp_avg_sq_col", col)) return NULL;
    lz_array *rf = lz_rsqrt(lz_divide(row, lz_mean_axis(row, -1, true)));
    lz_array *cf = lz_rsqrt(col);
    update = lz_matmul(lz_expand_dims(rf, (int[]){-1}, 1), lz_expand_dims(cf, (int[]){0}, 1));
    update = lz_multiply(update, g);
  } else {
    lz_array *v =
        lz_add(lz_multiply(F(beta2), STATE("exp_avg_sq", p)), lz_multiply(F(1 - beta2), update));
    if (!SET("exp_avg_sq", v)) return NULL;
    update = lz_multiply(lz_rsqrt(v), g);
  }
  update = lz_divide(update, lz_maximum(F(1.0), lz_divide(rms(update), F(c->clip_threshold))));
  update = lz_multiply(lr, update);
  if (c->has_beta1) {
    lz_array *ea =
        lz_add(lz_multiply(F(c->beta1), STATE("exp_avg", p)), lz_multiply(F(1 - c->beta1), update));
    if (!SET("exp_avg", ea)) return NULL;
    update = ea;
  }
  if (c->weight_decay != 0) p = lz_add(p, lz_multiply(p, lz_multiply(F(-c->weight_decay), lr)));
  return lz_subtract(p, update);
}

lz_array *lz_optim__apply_single(lz_optimizer *o, const char *name, lz_array *g, lz_array *p) {
  lz_array *r = NULL;
  uint64_t errors = lz_error_count();
  lz_scope_begin();
  switch (o->cfg.kind) {
  case OPT_SGD:
    r = sgd(o, name, g, p);
    break;
  case OPT_RMSPROP:
    r = rmsprop(o, name, g, p);
    break;
  case OPT_ADAGRAD:
    r = adagrad(o, name, g, p);
    break;
  case OPT_ADADELTA:
    r = adadelta(o, name, g, p);
    break;
  case OPT_ADAM:
  case OPT_ADAMW:
    r = adam(o, name, g, p);
    break;
  case OPT_ADAMAX:
    r = adamax(o, name, g, p);
    break;
  case OPT_LION:
    r = lion(o, name, g, p);
    break;
  case OPT_ADAFACTOR:
    r = adafactor(o, name, g, p);
    break;
  }
  if (lz_error_count() != errors) r = NULL; /* a step on the way failed */
  r = lz_keep(r);
  lz_scope_end();
  return r;
}
