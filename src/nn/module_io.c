/* Saving and loading a module's parameters (safetensors, npz), with strict name/shape checks. */
#include "nn/nn_impl.h"

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

int lz_module_save_weights(lz_module *m, const char *path) {
  const char *who = "lz_module_save_weights";
  if (!m || !path) return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "NULL argument");
  bool st = ends_with(path, ".safetensors");
  if (!st && !ends_with(path, ".npz"))
    return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who,
                        "'%s': the name must end in .safetensors or .npz", path);
  lz_dict *p = lz_module_parameters(m);
  if (!p) return -1;
  int rc = st ? lz_save_safetensors(path, p, NULL) : lz_save_npz(path, p, false);
  lz_dict_free(p);
  return rc;
}

/* Appends one mismatch to the message (it stops growing when full; the count stays exact). */
static void note(char *msg, size_t cap, size_t *len, int *count, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void note(char *msg, size_t cap, size_t *len, int *count, const char *fmt, ...) {
  if (*len + 8 < cap) {
    if (*count) *len += (size_t)snprintf(msg + *len, cap - *len, "; ");
    if (*len < cap) {
      va_list ap;
      va_start(ap, fmt);
      int w = vsnprintf(msg + *len, cap - *len, fmt, ap);
      va_end(ap);
      if (w > 0) *len += (size_t)w;
      if (*len > cap) *len = cap;
    }
  }
  (*count)++;
}

int lz_module_load_weights_dict(lz_module *m, const lz_dict *w, bool strict) {
  const char *who = "lz_module_load_weights";
  if (!m || !w) {
    if (!lz_nn__failed()) lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "NULL argument");
    return -1;
  }
  lz_dict *params = lz_module_parameters(m);
  lz_dict *update = lz_dict_new();
  if (!params || !update) {
    lz_dict_free(params), lz_dict_free(update);
    return -1;
  }
  char msg[900];
  size_t len = 0;
  int bad = 0, rc = 0;
  msg[0] = '\0';
  lz_scope_begin();
  size_t np = lz_dict_size(params), nw = lz_dict_size(w);
  for (size_t i = 0; i < np; i++) {
    const char *k = lz_dict_key(params, i);
    if (strict && !lz_dict_contains(w, k)) note(msg, sizeof msg, &len, &bad, "missing '%s'", k);
  }
  for (size_t i = 0; i < nw && rc == 0; i++) {
    const char *k = lz_dict_key(w, i);
    lz_array *v = lz_dict_value(w, i);
    if (!v) continue; /* string metadata */
    lz_array *p = lz_dict_get(params, k);
    if (!p) {
      if (strict) note(msg, sizeof msg, &len, &bad, "unexpected '%s'", k);
      continue;
    }
    if (!lz_nn__same_shape(p, v)) {
      char s1[128], s2[128];
      note(msg, sizeof msg, &len, &bad, "shape of '%s' is %s, expected %s", k,
           lz_nn__fmt_shape(s1, sizeof s1, lz_array_shape(v), lz_array_ndim(v)),
           lz_nn__fmt_shape(s2, sizeof s2, lz_array_shape(p), lz_array_ndim(p)));
      continue;
    }
    rc = lz_dict_set(update, k, v);
  }
  lz_scope_end();
  if (rc == 0 && bad)
    rc = lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "%d mismatch%s: %s", bad, bad > 1 ? "es" : "",
                      msg);
  if (rc == 0) rc = lz_module_update(m, update);
  lz_dict_free(params);
  lz_dict_free(update);
  return rc;
}

int lz_module_load_weights(lz_module *m, const char *path, bool strict) {
  const char *who = "lz_module_load_weights";
  if (!m || !path) return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "NULL argument");
  lz_dict *w;
  if (ends_with(path, ".safetensors"))
    w = lz_load_safetensors(path, NULL);
  else if (ends_with(path, ".npz"))
    w = lz_load_npz(path);
  else
    return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who,
                        "'%s': the name must end in .safetensors or .npz", path);
  if (!w) return -1;
  int rc = lz_module_load_weights_dict(m, w, strict);
  lz_dict_free(w);
  return rc;
}
