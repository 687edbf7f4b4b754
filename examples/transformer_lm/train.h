/* The training loop of the transformer_lm example. */
#ifndef TRANSFORMER_LM_TRAIN_H
#define TRANSFORMER_LM_TRAIN_H

#include "data.h"
#include "model.h"

typedef struct options {
  lm_config cfg;
  int steps, batch, warmup, seed, subset, log_every, eval_batches, save_every, tokens, top_k;
  double lr, min_lr, weight_decay, clip, temperature, max_loss;
  bool compile, composed; /* --compile, --composed */
  const char *data, *save, *resume, *prompt;
} options;

/* Trains `model` with `opt` (AdamW; its step says where a resumed run starts) up to o->steps,
 * printing progress, saving checkpoints as asked and checking o->max_loss. Returns 0 or -1
 * (after printing why). */
int train(const options *o, lz_module *model, lz_optimizer *opt, const vocab *v,
          const corpus *data);

#endif
