/* .npz integrity and names: every member's CRC-32 is checked when its data is read (a flipped
 * bit is an IO error naming the file and the member, never a silently wrong value), and member
 * names that are not ASCII are UTF-8 with the zip UTF-8 flag, as NumPy (Python's zipfile)
 * writes them. Reference files: scripts/gen_io_refs.py, scripts/gen_npz_refs.py. */
#include <unistd.h>

#include "lz_test.h"

#define DATA LZ_TEST_DATA_DIR "/io/"

static char tmpdir[64];

static const char *tmp_path(const char *name) {
  static char buf[4][256];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
  return buf[k];
}

static size_t slurp(const char *path, unsigned char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

static void spit(const char *path, const unsigned char *buf, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fwrite(buf, 1, n, f);
  fclose(f);
}

static uint32_t rd32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Offset of the central directory entry of member `name` ("a.npy"), or -1. */
static long central_entry(const unsigned char *z, size_t n, const char *name) {
  size_t nl = strlen(name);
  for (size_t i = 0; i + 46 <= n; i++)
    if (rd32(z + i) == 0x02014b50u && rd16(z + i + 28) == nl && i + 46 + nl <= n &&
        memcmp(z + i + 46, name, nl) == 0)
      return (long)i;
  return -1;
}

/* A member whose bytes changed: eval fails with an IO error naming file and member; the other
 * members still load. */
static void check_corrupt(const char *path, const char *bad, const char *good) {
  lz_dict *d = lz_load_npz(path);
  CHECK(d != NULL);
  if (!d) return;
  lz_array *b = lz_dict_get(d, bad), *g = lz_dict_get(d, good);
  lz_clear_error();
  CHECK(lz_eval(b) == -1);
  CHECK(lz_last_error_code() == LZ_ERROR_IO);
  char member[16];
  snprintf(member, sizeof member, "member '%s'", bad);
  CHECK(strstr(lz_last_error(), path) != NULL);
  CHECK(strstr(lz_last_error(), member) != NULL);
  CHECK(strstr(lz_last_error(), "CRC-32") != NULL);
  lz_clear_error();
  CHECK(lz_eval(g) == 0);
  lz_free(b), lz_free(g);
  lz_dict_free(d);
}

static void test_crc_flipped_data_bit(void) {
  unsigned char z[8192];
  size_t n = slurp(DATA "stored.npz", z, sizeof z);
  CHECK(n > 0);
  /* member "a" is stored first: its last data byte lies just before member "b"'s header */
  CHECK(rd32(z) == 0x04034b50u);
  size_t data = 30 + rd16(z + 26) + rd16(z + 28), size = rd32(z + 18);
  z[data + size - 1] ^= 0x10; /* float32 (2,3): one bit of the last element */
  const char *p = tmp_path("flipped.npz");
  spit(p, z, n);
  check_corrupt(p, "a", "b");
  /* the same bit in a npy header byte that the loader skips */
  n = slurp(DATA "stored.npz", z, sizeof z);
  z[data + 20] ^= 0x01;
  spit(p, z, n);
  lz_dict *d = lz_load_npz(p); /* the header may now fail to parse: then that is the error */
  if (d)
    check_corrupt(p, "a", "b");
  else
    lz_clear_error();
  lz_dict_free(d);
}

static void test_crc_deflated_member(void) {
  unsigned char z[8192];
  size_t n = slurp(DATA "compressed.npz", z, sizeof z);
  long c = central_entry(z, n, "c.npy");
  CHECK(c >= 0);
  if (c < 0) return;
  z[c + 16] ^= 0x01; /* the stored CRC of "c" no longer matches its (intact) data */
  const char *p = tmp_path("badcrc.npz");
  spit(p, z, n);
  check_corrupt(p, "c", "a");
}

static void test_unicode_names(void) {
  lz_dict *d = lz_load_npz(DATA "unicode.npz");
  CHECK(d && lz_dict_size(d) == 3);
  lz_array *cafe = lz_dict_get(d, "caf\xc3\xa9"),
           *shuju = lz_dict_get(d, "\xe6\x95\xb0\xe6\x8d\xae");
  CHECK_VALUES(cafe, ((double[]){-2, -1, 0, 1, 2, 3}), 6, 0);
  CHECK_VALUES(shuju, ((double[]){-2, -1, 0, 1}), 4, 0);
  CHECK(lz_array_dtype(shuju) == LZ_INT32);
  /* written back: the flag is set for exactly the non-ASCII names, as in NumPy's file */
  const char *p = tmp_path("names.npz");
  CHECK(lz_save_npz(p, d, false) == 0);
  unsigned char z[8192];
  size_t n = slurp(p, z, sizeof z);
  const char *names[3] = {"caf\xc3\xa9.npy", "\xe6\x95\xb0\xe6\x8d\xae.npy", "plain.npy"};
  for (int i = 0; i < 3; i++) {
    long c = central_entry(z, n, names[i]);
    CHECK(c >= 0);
    if (c < 0) continue;
    uint16_t want = i < 2 ? 0x800 : 0;
    CHECK((rd16(z + c + 8) & 0x800) == want);
    uint32_t local = rd32(z + c + 42);
    CHECK(local + 30 <= n && rd32(z + local) == 0x04034b50u);
    CHECK((rd16(z + local + 6) & 0x800) == want);
  }
  lz_dict *back = lz_load_npz(p);
  lz_array *again = lz_dict_get(back, "caf\xc3\xa9");
  CHECK_VALUES(again, ((double[]){-2, -1, 0, 1, 2, 3}), 6, 0);
  lz_free(again), lz_free(cafe), lz_free(shuju);
  lz_dict_free(back);
  lz_dict_free(d);
}

/* Empty arrays in a deflated archive: their member is only the .npy header, which is inflated
 * and checked against the CRC too (a regression: an empty member read no bytes, so its CRC was
 * 0 and every load failed as corrupt). */
static void test_deflated_empty_arrays(void) {
  const char *p = tmp_path("empty.npz");
  for (int compressed = 0; compressed < 2; compressed++) {
    lz_dict *d = lz_dict_new();
    lz_array *a = lz_zeros((int[]){0}, 1, LZ_FLOAT64), *b = lz_zeros((int[]){2, 0, 3}, 3, LZ_INT8);
    lz_array *c = lz_arange(0, 5, 1, LZ_INT32);
    lz_dict_set(d, "a", a), lz_dict_set(d, "b", b), lz_dict_set(d, "c", c);
    CHECK(lz_save_npz(p, d, compressed) == 0);
    lz_dict *back = lz_load_npz(p);
    CHECK(back && lz_dict_size(back) == 3);
    for (int i = 0; back && i < 3; i++) {
      lz_array *want = lz_dict_value(d, (size_t)i),
               *got = lz_dict_get(back, lz_dict_key(d, (size_t)i));
      lz_array *eq = got ? lz_array_equal(want, got, false) : NULL;
      CHECK(eq && lz_eval(eq) == 0 && lz_item_bool(eq));
      CHECK(got && lz_array_dtype(got) == lz_array_dtype(want));
      lz_free(eq), lz_free(got), lz_free(want);
    }
    lz_free(a), lz_free(b), lz_free(c);
    lz_dict_free(back), lz_dict_free(d);
  }
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/lz_test_npz_XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  RUN(test_crc_flipped_data_bit);
  RUN(test_crc_deflated_member);
  RUN(test_unicode_names);
  RUN(test_deflated_empty_arrays);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) return 1;
  return lzt_summary();
}
