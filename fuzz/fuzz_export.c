/* The exported-function importer (lz_import_function) on arbitrary bytes: parsing and
 * validation of the header, op table, constants, traces and graph edges. Any crash, leak,
 * over-read or sanitizer report is a bug; errors are expected. */
#include "fuzz_load.h"

static lz_dict *import_fn(const char *path) {
  lz_closure_free(lz_import_function(path));
  return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_one(data, size, ".lzfn", import_fn);
}
