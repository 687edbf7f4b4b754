/* The exported-function importer (lz_import_function) on arbitrary bytes: parsing and
 * validation of the header, op table, constants, traces, graph edges and every node's
 * parameters; then each trace that imported is RUN on small inputs of its recorded signature
 * (values 0..6 cycled, so keys, indices and masks take several values) and its outputs are
 * evaluated and freed. Any crash, leak, over-read or sanitizer report is a bug; errors are
 * expected. Traces with a value of more than 2^14 elements are not run (time, not safety:
 * the memory limit bounds what they may allocate). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "compile/export_impl.h" /* lz__import_trace */

enum { MAX_IN = 16, MAX_TRACES = 4, MAX_ELEMS = 1 << 14 };

/* UBSan's reports are recoverable in the fuzz build: stop at the first one, so that the input
 * is kept as a crash (undefined behaviour on a hostile file is a bug like any other). */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static lz_array *input_of(lz_dtype dt, const int *shape, int nd) {
  int64_t n = 1;
  for (int d = 0; d < nd; d++) n *= shape[d];
  lz_array *r = lz_arange(0, (double)n, 1, LZ_FLOAT32);
  r = lz_remainder(r, lz_float(7));
  if (dt != LZ_BOOL && !lz_dtype_is_integer(dt)) r = lz_subtract(r, lz_float(3));
  return lz_astype(lz_reshape(r, shape, nd), dt);
}

static void run_trace(lz_closure *g, int i) {
  lz_dtype dts[MAX_IN];
  int shapes[MAX_IN][LZ_MAX_NDIM], nds[MAX_IN];
  int64_t most = 0;
  int n = lz__import_trace(g, i, dts, shapes, nds, MAX_IN, &most);
  if (n < 0 || most > MAX_ELEMS) return;
  lz_scope_begin();
  lz_array *in[MAX_IN], *out[LZ_MAX_OUTPUTS];
  for (int k = 0; k < n; k++) in[k] = input_of(dts[k], shapes[k], nds[k]);
  int nout = lz_closure_call(g, in, n, out);
  if (nout > 0) lz_eval_many(out, nout);
  lz_scope_end();
  lz_clear_error();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("lz_fuzz", 0);
  if (fd < 0) return 0;
  if (size && write(fd, data, size) != (ssize_t)size) {
    close(fd);
    return 0;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  lz_set_memory_limit((size_t)256 << 20); /* absurd shapes must fail, not exhaust memory */
  lz_scope_begin();
  lz_closure *g = lz_import_function(path);
  lz_clear_error();
  for (int i = 0; g && i < MAX_TRACES; i++) run_trace(g, i);
  lz_closure_free(g);
  lz_scope_end();
  lz_clear_error();
  close(fd);
  return 0;
}
