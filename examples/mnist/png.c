/* PNG encoding (see png.h): the signature, then IHDR, IDAT and IEND chunks, each stored as a
 * big-endian length, a 4-letter type, the data and a CRC-32 of type and data. */
#include "png.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* Appends one chunk at *pos of `buf` (which has room for it) and advances *pos. */
static void put_chunk(uint8_t *buf, size_t *pos, const char type[4], const uint8_t *data,
                      size_t n) {
  uint8_t *p = buf + *pos;
  put_u32(p, (uint32_t)n);
  memcpy(p + 4, type, 4);
  if (n) memcpy(p + 8, data, n);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, p + 4, (uInt)(n + 4));
  put_u32(p + 8 + n, (uint32_t)crc);
  *pos += n + 12;
}

int png_encode_rgb(const uint8_t *rgb, int width, int height, uint8_t **out, size_t *size) {
  *out = NULL, *size = 0;
  if (width <= 0 || height <= 0 || width > (1 << 20) || height > (1 << 20)) return -1;
  size_t stride = 1 + 3 * (size_t)width, raw_size = stride * (size_t)height;
  if (raw_size > 0x7fffffffu) return -1; /* one IDAT chunk and one compress2 call */
  uint8_t *raw = malloc(raw_size);
  uLongf zsize = compressBound((uLong)raw_size);
  uint8_t *z = malloc(zsize);
  uint8_t *buf = malloc(8 + 25 + 12 + zsize + 12);
  if (!raw || !z || !buf) goto fail;
  for (int y = 0; y < height; y++) { /* filter byte 0 ("none"), then the row's pixels */
    raw[y * stride] = 0;
    memcpy(raw + y * stride + 1, rgb + (size_t)y * 3 * (size_t)width, 3 * (size_t)width);
  }
  if (compress2(z, &zsize, raw, (uLong)raw_size, Z_BEST_COMPRESSION) != Z_OK) goto fail;

  static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  uint8_t ihdr[13];
  put_u32(ihdr, (uint32_t)width);
  put_u32(ihdr + 4, (uint32_t)height);
  ihdr[8] = 8;  /* bits per channel */
  ihdr[9] = 2;  /* colour type: RGB */
  ihdr[10] = 0; /* deflate */
  ihdr[11] = 0; /* adaptive filtering (each row says its filter) */
  ihdr[12] = 0; /* no interlacing */
  size_t pos = 8;
  memcpy(buf, signature, 8);
  put_chunk(buf, &pos, "IHDR", ihdr, sizeof ihdr);
  put_chunk(buf, &pos, "IDAT", z, zsize);
  put_chunk(buf, &pos, "IEND", NULL, 0);
  free(raw), free(z);
  *out = buf, *size = pos;
  return 0;
fail:
  free(raw), free(z), free(buf);
  return -1;
}

int png_write_rgb(const char *path, const uint8_t *rgb, int width, int height) {
  uint8_t *png;
  size_t n;
  if (png_encode_rgb(rgb, width, height, &png, &n) != 0) return -1;
  FILE *f = fopen(path, "wb");
  int ok = f && fwrite(png, 1, n, f) == n;
  if (f && fclose(f) != 0) ok = 0;
  free(png);
  return ok ? 0 : -1;
}
