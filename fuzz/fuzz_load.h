/* Shared body of the file-format fuzz targets: the input becomes an in-memory file that the
 * public loader reads; every array loaded is evaluated and freed. Any crash, leak, over-read or
 * sanitizer report is a bug; errors are expected. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lazuli.h"

typedef lz_dict *(*load_fn)(const char *path);

static int fuzz_one(const uint8_t *data, size_t size, const char *suffix, load_fn load) {
  int fd = memfd_create("lz_fuzz", 0);
  if (fd < 0) return 0;
  if (size && write(fd, data, size) != (ssize_t)size) {
    close(fd);
    return 0;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  (void)suffix;
  lz_set_memory_limit((size_t)256 << 20); /* absurd shapes must fail, not exhaust memory */
  lz_scope_begin();
  lz_dict *d = load(path);
  if (d) lz_dict_eval(d);
  lz_dict_free(d);
  lz_scope_end();
  lz_clear_error();
  close(fd);
  return 0;
}
