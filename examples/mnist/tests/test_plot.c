/* Checks the chart writer of the mnist example: the PNG it writes has the signature, an IHDR
 * with the requested size, chunks whose CRCs match, and an IDAT that inflates to exactly one
 * filter byte plus 3 bytes a pixel per row; the decoded image shows the curves' colours, and
 * bad sizes are errors.
 *
 *   test_plot [OUT.png]   (default: test_plot.png in the current directory) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../plot.h"
#include "../png.h"

static int failures;
#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                     \
      failures++;                                                                                  \
    }                                                                                              \
  } while (0)

static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint8_t *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = size > 0 ? malloc((size_t)size) : NULL;
  *n = buf && fread(buf, 1, (size_t)size, f) == (size_t)size ? (size_t)size : 0;
  fclose(f);
  return buf;
}

/* Parses a PNG of our writer's form; returns the raw (filtered) image bytes, or NULL. */
static uint8_t *decode(const uint8_t *png, size_t n, int *w, int *h, size_t *raw_n) {
  static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  CHECK(n > 8 && memcmp(png, signature, 8) == 0);
  uint8_t *idat = NULL;
  size_t idat_n = 0, pos = 8;
  int saw_ihdr = 0, saw_iend = 0;
  while (pos + 12 <= n && !saw_iend) {
    uint32_t len = get_u32(png + pos);
    if (pos + 12 + len > n) break;
    const uint8_t *type = png + pos + 4, *data = png + pos + 8;
    uLong crc = crc32(crc32(0L, Z_NULL, 0), type, len + 4);
    CHECK(crc == get_u32(data + len));
    if (memcmp(type, "IHDR", 4) == 0) {
      CHECK(pos == 8 && len == 13);
      *w = (int)get_u32(data), *h = (int)get_u32(data + 4);
      CHECK(data[8] == 8 && data[9] == 2 && data[10] == 0 && data[11] == 0 && data[12] == 0);
      saw_ihdr = 1;
    } else if (memcmp(type, "IDAT", 4) == 0) {
      uint8_t *more = realloc(idat, idat_n + len);
      if (!more) break;
      idat = more;
      memcpy(idat + idat_n, data, len);
      idat_n += len;
    } else if (memcmp(type, "IEND", 4) == 0) {
      CHECK(len == 0);
      saw_iend = 1;
    }
    pos += 12 + len;
  }
  CHECK(saw_ihdr && saw_iend && pos == n);
  uint8_t *raw = NULL;
  *raw_n = 0;
  if (saw_ihdr && idat && *w > 0 && *h > 0) {
    uLongf cap = (uLongf)(*h) * (1 + 3 * (uLongf)(*w)) + 1; /* one spare byte catches excess */
    raw = malloc(cap);
    if (raw && uncompress(raw, &cap, idat, (uLong)idat_n) == Z_OK) *raw_n = cap;
  }
  free(idat);
  return raw;
}

/* Whether some pixel is within `tol` of the colour in every channel. */
static int has_colour(const uint8_t *raw, int w, int h, uint32_t rgb, int tol) {
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      const uint8_t *p = raw + (size_t)y * (1 + 3 * (size_t)w) + 1 + 3 * (size_t)x;
      int ok = 1;
      for (int k = 0; k < 3; k++) ok &= abs(p[k] - (int)((rgb >> (16 - 8 * k)) & 0xff)) <= tol;
      if (ok) return 1;
    }
  return 0;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "test_plot.png";
  enum { N = 12, W = 900, H = 360 };
  double loss[N], train[N], test[N];
  for (int i = 0; i < N; i++) {
    loss[i] = 0.3 + 0.5 * exp(-0.4 * i);
    train[i] = 80 + 12 * (1 - exp(-0.3 * i));
    test[i] = i == 5 ? NAN : 79 + 9 * (1 - exp(-0.3 * i)); /* a gap in the line */
  }
  plot_series ls[] = {{"train loss", loss, 0x1f77b4}};
  plot_series as[] = {{"train", train, 0x1f77b4}, {"test", test, 0xd62728}};
  plot_panel panels[] = {{"loss", "epoch", N, ls, 1}, {"accuracy (%)", "epoch", N, as, 2}};
  CHECK(plot_write_png(path, W, H, panels, 2) == 0);

  size_t n = 0, raw_n = 0;
  int w = 0, h = 0;
  uint8_t *png = read_file(path, &n);
  CHECK(png != NULL);
  uint8_t *raw = png ? decode(png, n, &w, &h, &raw_n) : NULL;
  CHECK(w == W && h == H);
  CHECK(raw != NULL && raw_n == (size_t)H * (1 + 3 * (size_t)W));
  if (raw && raw_n == (size_t)H * (1 + 3 * (size_t)W)) {
    int filters_ok = 1;
    for (int y = 0; y < H; y++) filters_ok &= raw[(size_t)y * (1 + 3 * W)] == 0;
    CHECK(filters_ok);
    CHECK(has_colour(raw, W, H, 0xffffff, 0)); /* background */
    CHECK(has_colour(raw, W, H, 0x1f77b4, 0)); /* both curves' solid centres */
    CHECK(has_colour(raw, W, H, 0xd62728, 0));
    CHECK(has_colour(raw, W, H, 0x202020, 0)); /* text */
  }
  free(raw), free(png);

  /* An in-memory image round-trips byte for byte, and bad sizes are errors. */
  uint8_t px[2 * 3 * 3];
  for (int i = 0; i < (int)sizeof px; i++) px[i] = (uint8_t)(i * 13);
  uint8_t *mem = NULL;
  CHECK(png_encode_rgb(px, 3, 2, &mem, &n) == 0);
  raw = mem ? decode(mem, n, &w, &h, &raw_n) : NULL;
  CHECK(w == 3 && h == 2 && raw_n == 2 * (1 + 9));
  if (raw && raw_n == 20) CHECK(memcmp(raw + 1, px, 9) == 0 && memcmp(raw + 11, px + 9, 9) == 0);
  free(raw), free(mem);
  CHECK(png_encode_rgb(px, 0, 2, &mem, &n) == -1 && mem == NULL);
  CHECK(plot_write_png(path, 60, 40, panels, 2) == -1); /* too small for the text */
  CHECK(plot_write_png("/nonexistent-dir/x.png", W, H, panels, 2) == -1);

  if (failures) fprintf(stderr, "test_plot: %d check(s) failed\n", failures);
  else printf("test_plot: ok (%s)\n", path);
  return failures ? 1 : 0;
}
