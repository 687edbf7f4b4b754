/* A minimal PNG writer: 8-bit RGB, no interlacing, every row filtered with "none", the image
 * data deflated by zlib in one IDAT chunk. */
#ifndef MNIST_PNG_H
#define MNIST_PNG_H

#include <stddef.h>
#include <stdint.h>

/* Encodes the width x height RGB image `rgb` (3 bytes a pixel, rows top to bottom) as a PNG file
 * in memory. Returns 0 and a malloc'ed buffer in *out (size *size; the caller frees it), or -1
 * when out of memory or the size is not positive. */
int png_encode_rgb(const uint8_t *rgb, int width, int height, uint8_t **out, size_t *size);

/* Writes the image to `path`. Returns 0, or -1 when it cannot be encoded or written. */
int png_write_rgb(const char *path, const uint8_t *rgb, int width, int height);

#endif
