/* Private to the optimizers: the optimizer object and the per-parameter update rules. */
#ifndef LZ_OPTIM_IMPL_H
#define LZ_OPTIM_IMPL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazuli.h"
#include "lazuli/nn.h"
#include "lazuli/optim.h"

typedef enum optim_kind {
  OPT_SGD,
  OPT_RMSPROP,
  OPT_ADAGRAD,
  OPT_ADADELTA,
  OPT_ADAM,
  OPT_ADAMW,
  OPT_ADAMAX,
  OPT_LION,
  OPT_ADAFACTOR
} optim_kind;

typedef struct optim_cfg {
  optim_kind kind;
  double momentum, weight_decay, dampening, alpha, eps, eps2, rho, beta1, beta2;
  double clip_threshold, decay_rate;
  bool nesterov, bias_correction, has_beta1, scale_parameter, relative_step, warmup_init;
  bool has_lr;
} optim_cfg;

struct lz_optimizer {
  optim_cfg cfg;
  const char *name; /* "SGD", for messages */
  double lr;        /* learning rate of the current step */
  int64_t step;     /* updates so far */
  lz_schedule *schedule;
  lz_dict *state;
};

/* The state array `name`.`key`, or zeros like `like` when there is none yet (new reference). */
lz_array *lz_optim__state(lz_optimizer *o, const char *name, const char *key, lz_array *like);
/* Sets the state array `name`.`key` (0 or -1). */
int lz_optim__set_state(lz_optimizer *o, const char *name, const char *key, lz_array *a);
/* The updated parameter for gradient g of parameter p named `name` (new reference; NULL on
 * error). o->lr and o->step are those of this update. */
lz_array *lz_optim__apply_single(lz_optimizer *o, const char *name, lz_array *g, lz_array *p);

#endif /* LZ_OPTIM_IMPL_H */
