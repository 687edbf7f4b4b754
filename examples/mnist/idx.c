/* IDX reader: a big-endian header (magic 0x0000080N, N dims), then unsigned bytes. */
#include "idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int read_exact(gzFile g, void *dst, size_t n) {
  unsigned char *p = dst;
  while (n) {
    unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
    int r = gzread(g, p, chunk);
    if (r <= 0) return -1;
    p += r, n -= (size_t)r;
  }
  return 0;
}

int idx_read(const char *path, idx_file *out, char *err, size_t errcap) {
  memset(out, 0, sizeof *out);
  gzFile g = gzopen(path, "rb");
  if (!g) {
    snprintf(err, errcap, "cannot open '%s': %s", path, strerror(errno));
    return -1;
  }
  unsigned char head[4];
  if (read_exact(g, head, 4) != 0 || head[0] || head[1] || head[2] != 0x08 || head[3] < 1 ||
      head[3] > 4) {
    snprintf(err, errcap, "'%s' is not an unsigned-byte IDX file (bad magic)", path);
    gzclose(g);
    return -1;
  }
  out->ndim = head[3];
  size_t count = 1;
  for (int i = 0; i < out->ndim; i++) {
    unsigned char d[4];
    if (read_exact(g, d, 4) != 0) {
      snprintf(err, errcap, "'%s' is truncated (in the header)", path);
      gzclose(g);
      return -1;
    }
    uint32_t v = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
    if (v == 0 || v > 10000000u || count > ((size_t)1 << 32) / v) {
      snprintf(err, errcap, "'%s' has an implausible dimension %u", path, v);
      gzclose(g);
      return -1;
    }
    out->dims[i] = (int)v;
    count *= v;
  }
  out->data = malloc(count);
  if (!out->data) {
    snprintf(err, errcap, "out of memory reading '%s'", path);
    gzclose(g);
    return -1;
  }
  if (read_exact(g, out->data, count) != 0) {
    snprintf(err, errcap, "'%s' is truncated: expected %zu bytes of data", path, count);
    idx_free(out);
    gzclose(g);
    return -1;
  }
  out->count = count;
  gzclose(g);
  return 0;
}

void idx_free(idx_file *f) {
  free(f->data);
  f->data = NULL;
}
