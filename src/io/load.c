/* lz_load and lz_load_with_metadata: pick the format of a file by its extension. */
#include "io.h"

static bool has_ext(const char *path, const char *ext) {
  size_t n = strlen(path), k = strlen(ext);
  return n >= k && strcmp(path + n - k, ext) == 0;
}

static lz_dict *load(const char *path, lz_dict **metadata, const char *op) {
  if (metadata) *metadata = NULL;
  lz_dict *d = NULL;
  if (path && has_ext(path, ".safetensors")) return lz_load_safetensors(path, metadata);
  if (path && has_ext(path, ".gguf"))
    return metadata ? lz__load_gguf_typed(path, metadata) : lz_load_gguf(path, NULL);
  if (path && has_ext(path, ".npz")) {
    d = lz_load_npz(path);
  } else if (path && has_ext(path, ".npy")) {
    lz_array *a = lz_load_npy(path);
    d = a ? lz_dict_new() : NULL;
    if (d && lz_dict_set(d, "arr_0", a) != 0) lz_dict_free(d), d = NULL;
    lz_free(a);
  } else {
    lz__error(LZ_ERROR_IO, op, "cannot tell the format of '%s' (expected .npy, .npz, .safetensors or .gguf)",
              path ? path : "(null)");
    return NULL;
  }
  if (d && metadata && !(*metadata = lz_dict_new())) lz_dict_free(d), d = NULL; /* none */
  return d;
}

lz_dict *lz_load(const char *path) { return load(path, NULL, "lz_load"); }

lz_dict *lz_load_with_metadata(const char *path, lz_dict **metadata) {
  if (!metadata) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_load_with_metadata", "metadata is NULL");
    return NULL;
  }
  return load(path, metadata, "lz_load_with_metadata");
}
