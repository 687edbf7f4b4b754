/* A decoder-only transformer over characters, as an lz_module tree (MLX's parameter names):
 *
 *   embedding.weight                          (vocab, dims)
 *   layers.N.attention_norm.weight            RMSNorm before attention
 *   layers.N.attention.{query,key,value,out}_proj.weight    (dims, dims), no bias
 *   layers.N.mlp_norm.weight                  RMSNorm before the MLP
 *   layers.N.mlp.linear1.weight / linear2.weight            dims -> mlp -> dims, GELU
 *   norm.weight, head.weight                  final RMSNorm and the output projection
 *
 * Attention is causal with rotary position embeddings (RoPE) on queries and keys. */
#ifndef TRANSFORMER_LM_MODEL_H
#define TRANSFORMER_LM_MODEL_H

#include <lazuli.h>

#define LM_MAX_LAYERS 64

typedef struct lm_config {
  int vocab, dims, heads, layers, mlp, seq; /* seq: the context length trained on */
} lm_config;

/* Keys and values of the positions seen so far, per layer: (1, heads, len, head_dims). The
 * arrays are owned by whoever holds the cache (see lm_forward). */
typedef struct lm_cache {
  int len;
  lz_array *k[LM_MAX_LAYERS], *v[LM_MAX_LAYERS];
} lm_cache;

/* A new model with lazily initialised parameters, or NULL with lz_last_error() set. */
lz_module *lm_new(const lm_config *c);
/* The configuration the model was built with. */
const lm_config *lm_config_of(lz_module *m);

/* Logits (B, L, vocab) for integer tokens (B, L). With a cache, the tokens follow the cache's
 * positions, and cache->k/v are replaced by new arrays (results of this call, owned as op
 * results) that include them; the old ones are not freed. `training` selects the ops that can be
 * differentiated (see lm_use_fast_ops); otherwise the fused lz_fast_* ops are used. */
lz_array *lm_forward(lz_module *m, lz_array *tokens, lm_cache *cache, bool training);

/* Mean cross entropy of the next-token predictions: inputs (x, y), both (B, L) tokens. An
 * lz_nn_loss_fn for lz_nn_value_and_grad. */
lz_array *lm_loss(void *ctx, lz_module *m, lz_array *const *inputs, int n);
/* The same loss computed with the fused ops, for evaluation. */
lz_array *lm_eval_loss(lz_module *m, lz_array *x, lz_array *y);

/* Lets the training graph use each fused op (RMSNorm, RoPE, attention) that can be
 * differentiated and whose gradient matches the composed ops' on a small input; until then
 * training uses the composed ops. Prints a note to `log` (may be NULL) for each op left out.
 * Returns how many of the three are used. */
int lm_use_fast_ops(lz_module *m, FILE *log);

#endif
