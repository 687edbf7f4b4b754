#include "fuzz_load.h"

static lz_dict *load_npy(const char *path) {
  lz_array *a = lz_load_npy(path);
  if (a) lz_eval(a);
  lz_free(a);
  return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_one(data, size, ".npy", load_npy);
}
