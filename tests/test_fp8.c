/* lz_from_fp8 / lz_to_fp8 against an independent reference (scripts/gen_fp8_refs.py: the OCP
 * E4M3 formula for every byte, and a nearest-code search with ties to even), plus MLX's
 * saturation of large values, infinities and NaN. */
#include <math.h>

#include "lz_test.h"

#define DATA LZ_TEST_DATA_DIR "/fp8/"

static void test_decode_every_byte(void) {
  lz_array *want = lz_load_npy(DATA "e4m3_decode.npy");
  uint8_t b[256];
  for (int i = 0; i < 256; i++) b[i] = (uint8_t)i;
  lz_array *x = lz_array_from_data(b, (int[]){256}, 1, LZ_UINT8);
  lz_array *got = lz_from_fp8(x, LZ_FLOAT32);
  float g[256], w[256];
  CHECK(lz_array_read(got, LZ_FLOAT32, g, sizeof g) == 0);
  CHECK(lz_array_read(want, LZ_FLOAT32, w, sizeof w) == 0);
  int bad = 0;
  for (int i = 0; i < 256; i++)
    bad += isnan(w[i]) ? !isnan(g[i]) : memcmp(&g[i], &w[i], 4) != 0; /* -0 stays -0 */
  CHECK(bad == 0);
  /* MLX's default output dtype is bfloat16; others convert from the float32 value */
  lz_array *bf = lz_from_fp8(x, LZ_BFLOAT16), *f64 = lz_from_fp8(x, LZ_FLOAT64);
  CHECK(lz_array_dtype(bf) == LZ_BFLOAT16 && lz_array_dtype(f64) == LZ_FLOAT64);
  double d[256];
  CHECK(lz_array_read(f64, LZ_FLOAT64, d, sizeof d) == 0);
  CHECK(d[0x38] == 1 && d[0x7E] == 448 && d[0xFE] == -448 && isnan(d[0x7F]));
  CHECK_ERROR(lz_from_fp8(got, LZ_FLOAT32), "uint8");
  CHECK_ERROR(lz_from_fp8(x, LZ_INT32), "floating-point");
}

static void test_encode_against_reference(void) {
  lz_array *in = lz_load_npy(DATA "e4m3_in.npy"), *want = lz_load_npy(DATA "e4m3_out.npy");
  lz_array *got = lz_to_fp8(in);
  CHECK(got && lz_array_dtype(got) == LZ_UINT8);
  size_t n = lz_array_size(in);
  uint8_t *g = malloc(n), *w = malloc(n);
  CHECK(lz_array_read(got, LZ_UINT8, g, n) == 0);
  CHECK(lz_array_read(want, LZ_UINT8, w, n) == 0);
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) bad += g[i] != w[i];
  CHECK(bad == 0);
  /* encode then decode is the identity on every finite byte */
  lz_array *back = lz_to_fp8(lz_from_fp8(got, LZ_FLOAT32));
  uint8_t *r = malloc(n);
  CHECK(lz_array_read(back, LZ_UINT8, r, n) == 0);
  CHECK(memcmp(r, g, n) == 0);
  free(g), free(w), free(r);
}

static void test_encode_saturates_as_mlx(void) {
  /* MLX saturates from 448 up: (464, 480), which rounding alone would take to the NaN byte
   * 0x7F, gives 448 too */
  float x[10] = {480, -1000, INFINITY, -INFINITY, NAN, 464, 470, -479.5f, 1e-9f, 456};
  double want[10] = {0x7E, 0xFE, 0x7E, 0xFE, 0x7E, 0x7E, 0x7E, 0xFE, 0, 0x7E};
  lz_array *a = lz_array_from_data(x, (int[]){10}, 1, LZ_FLOAT32);
  lz_array *b = lz_to_fp8(a);
  CHECK_VALUES(b, want, 10, 0);
  lz_array *h = lz_to_fp8(lz_astype(a, LZ_FLOAT16)); /* any real dtype goes through float32 */
  CHECK_VALUES(h, want, 10, 0);
}

int main(void) {
  lz_scope_begin();
  RUN(test_decode_every_byte);
  RUN(test_encode_against_reference);
  RUN(test_encode_saturates_as_mlx);
  lz_scope_end();
  return lzt_summary();
}
