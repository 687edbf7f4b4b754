/* The classifiers: an MLP 784-512-512-10 and a small convolutional network, as parameter arrays
 * and a forward function built from lazuli ops. */
#ifndef MNIST_MODEL_H
#define MNIST_MODEL_H

#include <lazuli.h>

enum { MODEL_MAX_PARAMS = 8 };

typedef enum model_kind { MODEL_MLP, MODEL_CNN } model_kind;

typedef struct model {
  model_kind kind;
  char description[64]; /* e.g. "MLP 784-512-512-10" */
  int nparams;
  lz_array *params[MODEL_MAX_PARAMS]; /* owned, evaluated */
} model;

/* Parses "mlp" or "cnn". Returns 0, or -1 for another name. */
int model_kind_parse(const char *name, model_kind *kind);

/* Creates the model's parameters, initialised as MLX's layers do from a random key made from
 * `seed`, and evaluates them. Returns 0, or -1 with lazuli's error pending. */
int model_init(model *m, model_kind kind, uint64_t seed);
void model_free(model *m);

/* The logits (B, 10) of the images x (B, 784) under the parameters `params` (the model's own or
 * the ones a transform passes in, in the same order). A new lazy array; NULL on error. */
lz_array *model_forward(model_kind kind, lz_array *const *params, lz_array *x);

#endif
