/* Reading the IDX files of (Fashion-)MNIST, gzip-compressed or not. */
#ifndef MNIST_IDX_H
#define MNIST_IDX_H

#include <stddef.h>
#include <stdint.h>

typedef struct idx_file {
  int ndim;
  int dims[4];
  size_t count; /* number of bytes of data */
  uint8_t *data;
} idx_file;

/* Reads an unsigned-byte IDX file (images or labels). Returns 0, or -1 after writing a message
 * that names the file and the problem into err (capacity errcap). */
int idx_read(const char *path, idx_file *out, char *err, size_t errcap);
void idx_free(idx_file *f);

#endif
