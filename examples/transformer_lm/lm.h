/* Checkpoints and text generation of the transformer_lm example. */
#ifndef TRANSFORMER_LM_LM_H
#define TRANSFORMER_LM_LM_H

#include <stdio.h>

#include "data.h"
#include "model.h"

/* Writes one .safetensors file holding the model's parameters under their names, the
 * optimizer's state under its names ("step", "learning_rate", "<parameter>.m", ".v"), the
 * vocabulary ("vocab", uint8) and the model's shape as metadata. Writes PATH.tmp and renames
 * it, so an interrupted save keeps the previous checkpoint. Returns 0 or -1 (error printed). */
int checkpoint_save(const char *path, lz_module *model, lz_optimizer *opt, const vocab *v);

/* A model rebuilt from a checkpoint, with its weights (and, if opt is not NULL, the optimizer's
 * state and step) restored; *v receives its vocabulary. NULL on error (printed). */
lz_module *checkpoint_load(const char *path, lz_optimizer *opt, vocab *v);

/* Prints `prompt` then `ntokens` characters sampled from the model to `out`: temperature 0 is
 * greedy; top_k > 0 samples among the k likeliest characters only. Bytes of the prompt that are
 * not in the vocabulary are skipped. Returns 0 or -1 (error printed). */
int generate(lz_module *model, const vocab *v, const char *prompt, int ntokens, double temperature,
             int top_k, FILE *out);

#endif
