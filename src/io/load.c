/* lz_load: pick the format of a file by its extension. */
#include "io.h"

lz_dict *lz_load(const char *path) {
  size_t n = path ? strlen(path) : 0;
  if (n >= 4 && strcmp(path + n - 4, ".npz") == 0) return lz_load_npz(path);
  if (n >= 12 && strcmp(path + n - 12, ".safetensors") == 0) return lz_load_safetensors(path, NULL);
  if (n >= 5 && strcmp(path + n - 5, ".gguf") == 0) return lz_load_gguf(path, NULL);
  if (n >= 4 && strcmp(path + n - 4, ".npy") == 0) {
    lz_array *a = lz_load_npy(path);
    lz_dict *d = a ? lz_dict_new() : NULL;
    if (d && lz_dict_set(d, "arr_0", a) != 0) lz_dict_free(d), d = NULL;
    lz_free(a);
    return d;
  }
  lz__error(LZ_ERROR_IO, "lz_load", "cannot tell the format of '%s' (expected .npy, .npz, .safetensors or .gguf)",
            path ? path : "(null)");
  return NULL;
}
