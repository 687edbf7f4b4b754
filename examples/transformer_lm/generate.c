/* Sampling text from the model, one character per evaluation, with a key/value cache. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lm.h"

/* One token id from logits (1, vocab): argmax at temperature 0, else a draw from
 * softmax(logits / temperature) restricted to the top_k largest logits (top_k <= 0: all). */
static lz_array *sample(lz_array *logits, double temperature, int top_k) {
  if (temperature <= 0) return lz_argmax_axis(logits, -1, false);
  lz_array *s = lz_multiply(logits, lz_float(1.0 / temperature));
  if (top_k > 0 && top_k < lz_array_dim(s, -1)) {
    lz_array *kth = lz_min_axis(lz_topk_axis(s, top_k, -1), -1, true);
    s = lz_where(lz_less(s, kth), lz_float(-INFINITY), s);
  }
  return lz_random_categorical(s, -1, 0, NULL);
}

static void cache_free(lm_cache *c, int layers) {
  for (int i = 0; i < layers; i++) lz_free(c->k[i]), lz_free(c->v[i]);
  memset(c, 0, sizeof *c);
}

int generate(lz_module *model, const vocab *v, const char *prompt, int ntokens, double temperature,
             int top_k, FILE *out) {
  const lm_config *cfg = lm_config_of(model);
  size_t plen = strlen(prompt);
  int32_t *hist = malloc((plen + (size_t)ntokens + 1) * sizeof *hist);
  if (!hist) return -1;
  int n = 0;
  for (size_t i = 0; i < plen; i++)
    if (v->ids[(uint8_t)prompt[i]] >= 0) hist[n++] = v->ids[(uint8_t)prompt[i]];
  if (n == 0) hist[n++] = v->ids['\n'] >= 0 ? v->ids['\n'] : 0; /* start of a new line */
  fputs(prompt, out);
  lm_cache cache = {0};
  int pending = n, rc = 0; /* hist[n - pending, n) is not in the cache yet */
  for (int t = 0; t < ntokens && rc == 0; t++) {
    if (cache.len + pending > cfg->seq) { /* the context is full: start again from its end */
      cache_free(&cache, cfg->layers);
      pending = n < cfg->seq / 2 ? n : cfg->seq / 2;
    }
    lm_cache old = cache;
    lz_scope_begin();
    lz_array *x = lz_array_from_data(hist + n - pending, (int[]){1, pending}, 2, LZ_INT32);
    lz_array *logits = lm_forward(model, x, &cache, false); /* (1, pending, vocab) */
    lz_array *next = sample(lz_take(logits, lz_int(pending - 1), 1), temperature, top_k);
    lz_array *todo[1 + 2 * LM_MAX_LAYERS];
    int ntodo = 0;
    todo[ntodo++] = next;
    for (int i = 0; i < cfg->layers; i++) todo[ntodo++] = cache.k[i], todo[ntodo++] = cache.v[i];
    rc = next && lz_eval_many(todo, (size_t)ntodo) == 0 ? 0 : -1;
    if (rc == 0) {
      hist[n++] = (int32_t)lz_item_i64(next);
      fputc(v->chars[hist[n - 1]], out);
      fflush(out);
    }
    /* Keep the new keys and values past the scope; drop the old ones. */
    for (int i = 0; i < cfg->layers; i++) {
      if (rc == 0) {
        lz_keep(cache.k[i]), lz_keep(cache.v[i]);
        lz_free(old.k[i]), lz_free(old.v[i]);
      } else {
        cache.k[i] = old.k[i], cache.v[i] = old.v[i];
      }
    }
    lz_scope_end();
    pending = 1;
  }
  fputc('\n', out);
  cache_free(&cache, cfg->layers);
  free(hist);
  if (rc != 0) fprintf(stderr, "transformer_lm: generation failed: %s\n", lz_last_error());
  return rc;
}
