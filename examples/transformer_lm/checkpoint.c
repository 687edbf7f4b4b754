/* Checkpoints: one .safetensors file with the weights, the optimizer's state, the vocabulary
 * and the model's shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lm.h"

#define FORMAT "lazuli-transformer-lm-1"

static int set_int(lz_dict *meta, const char *key, long long value) {
  char s[32];
  snprintf(s, sizeof s, "%lld", value);
  return lz_dict_set_string(meta, key, s);
}

int checkpoint_save(const char *path, lz_module *model, lz_optimizer *opt, const vocab *v) {
  const lm_config *c = lm_config_of(model);
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  lz_dict *all = lz_optim_state(opt), *params = lz_module_parameters(model);
  lz_dict *meta = lz_dict_new();
  int rc = all && params && meta ? 0 : -1;
  lz_scope_begin();
  rc |= lz_dict_set(all, "step", lz_scalar((double)lz_optim_step(opt), LZ_UINT64));
  for (size_t i = 0; rc == 0 && i < lz_dict_size(params); i++)
    rc = lz_dict_set(all, lz_dict_key(params, i), lz_dict_value(params, i));
  if (rc == 0)
    rc = lz_dict_set(all, "vocab", lz_array_from_data(v->chars, (int[]){v->size}, 1, LZ_UINT8));
  lz_scope_end();
  if (rc == 0) {
    rc |= lz_dict_set_string(meta, "format", FORMAT);
    rc |= set_int(meta, "vocab", c->vocab), rc |= set_int(meta, "dims", c->dims);
    rc |= set_int(meta, "heads", c->heads), rc |= set_int(meta, "layers", c->layers);
    rc |= set_int(meta, "mlp", c->mlp), rc |= set_int(meta, "seq", c->seq);
    rc |= set_int(meta, "step", lz_optim_step(opt));
  }
  if (rc == 0) rc = lz_save_safetensors(tmp, all, meta);
  if (rc == 0 && rename(tmp, path) != 0) {
    perror(path);
    rc = -1;
  } else if (rc != 0) {
    fprintf(stderr, "transformer_lm: cannot save '%s': %s\n", path, lz_last_error());
    remove(tmp);
  }
  lz_dict_free(all), lz_dict_free(params), lz_dict_free(meta);
  return rc;
}

static int get_int(const lz_dict *meta, const char *key, int *out) {
  const char *s = lz_dict_get_string(meta, key);
  char *end;
  long x = s ? strtol(s, &end, 10) : 0;
  if (!s || *end || x < 1 || x > 1 << 20) return -1;
  *out = (int)x;
  return 0;
}

lz_module *checkpoint_load(const char *path, lz_optimizer *opt, vocab *v) {
  lz_dict *meta = NULL, *file = lz_load_safetensors(path, &meta);
  if (!file) {
    fprintf(stderr, "transformer_lm: %s\n", lz_last_error());
    return NULL;
  }
  lz_scope_begin(); /* for the arrays lz_dict_get returns */
  lm_config c;
  const char *format = lz_dict_get_string(meta, "format");
  lz_array *chars = lz_dict_get(file, "vocab");
  uint8_t buf[256];
  int bad = !format || strcmp(format, FORMAT) != 0 || get_int(meta, "vocab", &c.vocab) ||
            get_int(meta, "dims", &c.dims) || get_int(meta, "heads", &c.heads) ||
            get_int(meta, "layers", &c.layers) || get_int(meta, "mlp", &c.mlp) ||
            get_int(meta, "seq", &c.seq) || !chars || lz_array_size(chars) != (size_t)c.vocab ||
            c.vocab > 256 || lz_array_read(chars, LZ_UINT8, buf, sizeof buf) != 0 ||
            vocab_set(v, buf, c.vocab) != 0;
  lz_module *m = bad ? NULL : lm_new(&c);
  lz_dict *params = m ? lz_module_parameters(m) : NULL, *weights = lz_dict_new();
  int rc = m && params && weights ? 0 : -1;
  /* The file holds more than the weights: pick the model's own names (strict: all present). */
  for (size_t i = 0; rc == 0 && i < lz_dict_size(params); i++) {
    lz_array *w = lz_dict_get(file, lz_dict_key(params, i));
    if (w) rc = lz_dict_set(weights, lz_dict_key(params, i), w);
  }
  if (rc == 0) rc = lz_module_load_weights_dict(m, weights, true);
  /* The optimizer reads its entries from the same file ("step", "<name>.m", ...); it keeps
   * the other entries too, unused (optim.h has no way to set the state from a dict). */
  if (rc == 0 && opt) rc = lz_optim_load_state(opt, path);
  if (bad)
    fprintf(stderr, "transformer_lm: '%s' is not a transformer_lm checkpoint\n", path);
  else if (rc != 0)
    fprintf(stderr, "transformer_lm: cannot load '%s': %s\n", path, lz_last_error());
  lz_scope_end();
  lz_dict_free(params), lz_dict_free(weights), lz_dict_free(file), lz_dict_free(meta);
  if (rc != 0) {
    lz_module_free(m);
    return NULL;
  }
  return m;
}
