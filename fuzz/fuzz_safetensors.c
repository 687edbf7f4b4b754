#include "fuzz_load.h"

static lz_dict *load_st(const char *path) {
  lz_dict *meta = NULL;
  lz_dict *d = lz_load_safetensors(path, &meta);
  lz_dict_free(meta);
  return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_one(data, size, ".safetensors", load_st);
}
