/* Learning-rate schedules: exponential, step and cosine decay, linear warmup, joins. */
#include "optim/optim_impl.h"

typedef enum sched_kind { S_EXP, S_STEP, S_COSINE, S_LINEAR, S_JOIN, S_USER } sched_kind;

struct lz_schedule {
  sched_kind kind;
  double init, rate, end;
  int64_t steps;
  int n; /* S_JOIN: parts and boundaries */
  lz_schedule **parts;
  int64_t *bounds;
  double (*fn)(void *ctx, int64_t step);
  void *ctx;
  void (*ctx_free)(void *ctx);
};

static lz_schedule *make(sched_kind kind, const char *who) {
  lz_schedule *s = calloc(1, sizeof *s);
  if (!s)
    lz_set_error(LZ_ERROR_OUT_OF_MEMORY, who, "out of memory");
  else
    s->kind = kind;
  return s;
}

/* make() for a schedule over `steps` steps, which must be positive (`what` names them). */
static lz_schedule *make_steps(sched_kind kind, const char *who, const char *what, int64_t steps) {
  if (steps < 1) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "%s must be positive, got %lld", what,
                 (long long)steps);
    return NULL;
  }
  lz_schedule *s = make(kind, who);
  if (s) s->steps = steps;
  return s;
}

lz_schedule *lz_optim_exponential_decay(double init, double decay_rate) {
  lz_schedule *s = make(S_EXP, "lz_optim_exponential_decay");
  if (s) s->init = init, s->rate = decay_rate;
  return s;
}

lz_schedule *lz_optim_step_decay(double init, double decay_rate, int64_t step_size) {
  lz_schedule *s = make_steps(S_STEP, "lz_optim_step_decay", "step_size", step_size);
  if (s) s->init = init, s->rate = decay_rate;
  return s;
}

lz_schedule *lz_optim_cosine_decay(double init, int64_t decay_steps, double end) {
  lz_schedule *s = make_steps(S_COSINE, "lz_optim_cosine_decay", "decay_steps", decay_steps);
  if (s) s->init = init, s->end = end;
  return s;
}

lz_schedule *lz_optim_linear_schedule(double init, double end, int64_t steps) {
  lz_schedule *s = make_steps(S_LINEAR, "lz_optim_linear_schedule", "steps", steps);
  if (s) s->init = init, s->end = end;
  return s;
}

lz_schedule *lz_optim_join_schedules(int n, lz_schedule *const *schedules,
                                     const int64_t *boundaries) {
  const char *who = "lz_optim_join_schedules";
  bool ok = n >= 1 && schedules && (n == 1 || boundaries);
  for (int i = 0; ok && i < n; i++) ok = schedules[i] != NULL;
  lz_schedule *s = ok ? make(S_JOIN, who) : NULL;
  if (s) {
    s->parts = malloc((size_t)n * sizeof *s->parts);
    s->bounds = malloc((size_t)n * sizeof *s->bounds);
    if (!s->parts || !s->bounds) {
      free(s->parts), free(s->bounds), free(s), s = NULL;
      lz_set_error(LZ_ERROR_OUT_OF_MEMORY, who, "out of memory");
    }
  }
  if (!s) {
    for (int i = 0; schedules && i < n; i++) lz_schedule_free(schedules[i]);
    if (!ok && lz_last_error_code() == LZ_ERROR_NONE)
      lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who,
                   "need n >= 1 schedules (none NULL) and n - 1 "
                   "boundaries");
    return NULL;
  }
  s->n = n;
  for (int i = 0; i < n; i++) s->parts[i] = schedules[i];
  for (int i = 0; i + 1 < n; i++) s->bounds[i] = boundaries[i];
  return s;
}

lz_schedule *lz_schedule_new(double (*fn)(void *ctx, int64_t step), void *ctx,
                             void (*ctx_free)(void *ctx)) {
  if (!fn) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_schedule_new", "NULL function");
    return NULL;
  }
  lz_schedule *s = make(S_USER, "lz_schedule_new");
  if (s) s->fn = fn, s->ctx = ctx, s->ctx_free = ctx_free;
  return s;
}

double lz_schedule_value(const lz_schedule *s, int64_t step) {
  if (!s) return NAN;
  switch (s->kind) {
  case S_EXP:
    return s->init * pow(s->rate, (double)step);
  case S_STEP:
    return s->init * pow(s->rate, (double)(step / s->steps));
  case S_COSINE: {
    double t = (double)(step < s->steps ? step : s->steps);
    return s->end + 0.5 * (1.0 + cos(M_PI / (double)s->steps * t)) * (s->init - s->end);
  }
  case S_LINEAR: {
    double t = (double)(step < s->steps ? step : s->steps);
    return t * ((s->end - s->init) / (double)s->steps) + s->init;
  }
  case S_JOIN: {
    double v = lz_schedule_value(s->parts[0], step);
    for (int i = 1; i < s->n; i++)
      if (step >= s->bounds[i - 1]) v = lz_schedule_value(s->parts[i], step - s->bounds[i - 1]);
    return v;
  }
  case S_USER:
    return s->fn(s->ctx, step);
  }
  return NAN;
}

void lz_schedule_free(lz_schedule *s) {
  if (!s) return;
  for (int i = 0; i < s->n; i++) lz_schedule_free(s->parts[i]);
  free(s->parts), free(s->bounds);
  if (s->ctx_free) s->ctx_free(s->ctx);
  free(s);
}
