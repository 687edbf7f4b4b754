#include "fuzz_load.h"

static lz_dict *load_gguf(const char *path) {
  lz_dict *meta = NULL;
  lz_dict *d = lz_load_gguf(path, &meta);
  lz_dict_free(meta);
  return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_one(data, size, ".gguf", load_gguf);
}
