/* File formats: .npy, .npz, .safetensors. Reference files come from NumPy
 * (scripts/gen_io_refs.py); element i of each is (i % 7) - 2 ((i % 7) for unsigned, even-ness
 * for bool), recomputed here. Malformed files must give errors naming the file, never crashes. */
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

static double expected(size_t i, lz_dtype d) {
  if (d == LZ_BOOL) return i % 2 == 0;
  if (d == LZ_UINT8 || d == LZ_UINT16 || d == LZ_UINT32 || d == LZ_UINT64) return (double)(i % 7);
  return (double)(i % 7) - 2;
}

static void check_formula(lz_array *a, size_t n, lz_dtype d) {
  double want[64];
  for (size_t i = 0; i < n && i < 64; i++) want[i] = expected(i, d);
  CHECK(lz_array_dtype(a) == d);
  CHECK_VALUES(a, want, n, 0);
}

static void test_npy_every_dtype(void) {
  const char *names[] = {"bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16",
                         "int32", "int64", "float16", "float32", "float64", "complex64"};
  for (int d = 0; d < LZ_DTYPE_COUNT; d++) {
    if (d == LZ_BFLOAT16) continue;
    char path[256];
    snprintf(path, sizeof path, DATA "%s.npy", names[d < LZ_BFLOAT16 ? d : d - 1]);
    uint64_t k0 = lz_get_kernel_count();
    size_t m0 = lz_get_active_memory();
    lz_array *a = lz_load_npy(path);
    CHECK(a != NULL);
    CHECK(lz_get_kernel_count() == k0 && lz_get_active_memory() == m0); /* lazy */
    CHECK_SHAPE(a, 3, 4);
    check_formula(a, 12, (lz_dtype)d);
    if (d == LZ_COMPLEX64) { /* imaginary parts are i % 3 */
      const float *c = lz_array_data(a);
      CHECK(c && c[1] == 0 && c[3] == 1 && c[5] == 2);
    }
  }
}

static void test_npy_layouts(void) {
  lz_array *f = lz_load_npy(DATA "fortran.npy");
  CHECK_SHAPE(f, 3, 4);
  check_formula(f, 12, LZ_FLOAT32); /* values in C order despite column-major storage */
  lz_array *b = lz_load_npy(DATA "bigendian.npy");
  check_formula(b, 12, LZ_INT32);
  lz_array *s = lz_load_npy(DATA "scalar.npy");
  CHECK(lz_array_ndim(s) == 0);
  CHECK_CLOSE(lz_item_f64(s), 5.5, 0);
  lz_array *e = lz_load_npy(DATA "empty.npy");
  CHECK_SHAPE(e, 0, 3);
  CHECK(lz_eval(e) == 0);
}

static void check_npz(const char *path) {
  lz_dict *d = lz_load_npz(path);
  CHECK(d && lz_dict_size(d) == 3);
  if (!d) return;
  lz_array *a = lz_dict_get(d, "a"), *b = lz_dict_get(d, "b"), *c = lz_dict_get(d, "c");
  CHECK_SHAPE(a, 2, 3);
  check_formula(a, 6, LZ_FLOAT32);
  check_formula(b, 5, LZ_INT64);
  CHECK_SHAPE(c, 2, 2, 2);
  check_formula(c, 8, LZ_FLOAT16);
  lz_dict_free(d);
}

static void test_npz(void) {
  check_npz(DATA "stored.npz");
  check_npz(DATA "compressed.npz");
}

static void test_safetensors(void) {
  lz_dict *meta = NULL;
  lz_dict *d = lz_load_safetensors(DATA "model.safetensors", &meta);
  CHECK(d && lz_dict_size(d) == 4);
  if (!d) return;
  check_formula(lz_dict_get(d, "w"), 12, LZ_FLOAT32);
  CHECK_SHAPE(lz_dict_get(d, "w"), 4, 3);
  check_formula(lz_dict_get(d, "b"), 3, LZ_INT32);
  check_formula(lz_dict_get(d, "h"), 4, LZ_FLOAT16);
  check_formula(lz_dict_get(d, "m"), 5, LZ_BOOL);
  CHECK(meta && lz_dict_get_string(meta, "format") && strcmp(lz_dict_get_string(meta, "format"), "pt") == 0);
  CHECK(meta && strcmp(lz_dict_get_string(meta, "note"), "quote \" and backslash \\") == 0);
  lz_dict_free(meta);
  lz_dict_free(d);
}

/* Every format round-trips every dtype it can store. */
static void test_round_trips(void) {
  lz_dict *all = lz_dict_new();
  lz_array *src[LZ_DTYPE_COUNT];
  for (int d = 0; d < LZ_DTYPE_COUNT; d++) {
    double v[6] = {0, 1, 2, 3, 4, 5};
    lz_array *base = lz_array_from_data(v, (int[]){2, 3}, 2, LZ_FLOAT64);
    src[d] = lz_astype(base, (lz_dtype)d);
    lz_dict_set(all, lz_dtype_name((lz_dtype)d), src[d]);
    if (d != LZ_BFLOAT16) {
      CHECK(lz_save_npy(tmp_path("x.npy"), src[d]) == 0);
      lz_array *back = lz_load_npy(tmp_path("x.npy"));
      CHECK(back && lz_item_bool(lz_array_equal(back, src[d], false)));
    }
  }
  (void)src;
  lz_dict *meta = lz_dict_new();
  lz_dict_set_string(meta, "k", "v");
  CHECK(lz_save_safetensors(tmp_path("all.safetensors"), all, meta) == 0);
  lz_dict *back = lz_load_safetensors(tmp_path("all.safetensors"), NULL);
  CHECK(back && lz_dict_size(back) == LZ_DTYPE_COUNT);
  for (size_t i = 0; back && i < lz_dict_size(back); i++) {
    lz_array *x = lz_dict_value(back, i), *y = lz_dict_get(all, lz_dict_key(back, i));
    CHECK(lz_array_dtype(x) == lz_array_dtype(y));
    CHECK(lz_array_nbytes(x) == lz_array_nbytes(y) &&
          memcmp(lz_array_data(x), lz_array_data(y), lz_array_nbytes(x)) == 0);
  }
  lz_dict_free(back);
  lz_dict_remove(all, "bfloat16");
  for (int comp = 0; comp < 2; comp++) {
    CHECK(lz_save_npz(tmp_path("all.npz"), all, comp) == 0);
    lz_dict *z = lz_load_npz(tmp_path("all.npz"));
    CHECK(z && lz_dict_size(z) == LZ_DTYPE_COUNT - 1);
    for (size_t i = 0; z && i < lz_dict_size(z); i++) {
      lz_array *x = lz_dict_value(z, i), *y = lz_dict_get(all, lz_dict_key(z, i));
      CHECK(y && lz_array_dtype(x) == lz_array_dtype(y));
      CHECK(y && memcmp(lz_array_data(x), lz_array_data(y), lz_array_nbytes(x)) == 0);
    }
    lz_dict_free(z);
  }
  lz_dict_free(meta);
  lz_dict_free(all);
}

static void write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fwrite(data, 1, n, f);
  fclose(f);
}

static size_t read_file(const char *path, unsigned char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

/* A safetensors file from a header string and n data bytes. */
static void write_st(const char *path, const char *header, size_t data_bytes) {
  unsigned char buf[4096] = {0};
  size_t hl = strlen(header);
  for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(hl >> (8 * i));
  memcpy(buf + 8, header, hl);
  write_file(path, buf, 8 + hl + data_bytes);
}

static void test_malformed_files(void) {
  CHECK_ERROR(lz_load_npy(tmp_path("missing.npy")), "cannot open");
  unsigned char buf[8192];
  size_t n = read_file(DATA "float32.npy", buf, sizeof buf);
  CHECK(n > 100);
  const char *p = tmp_path("bad.npy");
  for (size_t cut = 0; cut < n; cut += 7) { /* every truncation is a clean error */
    write_file(p, buf, cut);
    lz_clear_error();
    lz_array *a = lz_load_npy(p);
    CHECK(a == NULL || lz_eval(a) != 0 || cut >= n);
    CHECK(a != NULL || strstr(lz_last_error(), "bad.npy") != NULL);
    lz_clear_error();
  }
  buf[0] = 'X';
  write_file(p, buf, n);
  CHECK_ERROR(lz_load_npy(p), "bad magic");
  n = read_file(DATA "float32.npy", buf, sizeof buf);
  char *shape = strstr((char *)buf + 10, "(3, 4)");
  if (shape) memcpy(shape, "(9, 4)", 6); /* a header that lies about the size */
  write_file(p, buf, n);
  CHECK_ERROR(lz_load_npy(p), "truncated");
  char *descr = strstr((char *)buf + 10, "<f4");
  if (descr) memcpy(descr, "<V4", 3);
  write_file(p, buf, n);
  CHECK_ERROR(lz_load_npy(p), "unsupported .npy dtype");

  const char *s = tmp_path("bad.safetensors");
  write_st(s, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4);
  CHECK_ERROR(lz_load_safetensors(s, NULL), "outside the");
  write_st(s, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 16);
  CHECK_ERROR(lz_load_safetensors(s, NULL), "overlap");
  write_st(s, "{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
  CHECK_ERROR(lz_load_safetensors(s, NULL), "unknown dtype");
  write_st(s, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],"
              "\"data_offsets\":[0,8]}}", 8);
  CHECK_ERROR(lz_load_safetensors(s, NULL), "too many elements");
  write_st(s, "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
  CHECK_ERROR(lz_load_safetensors(s, NULL), "need 12");
  write_st(s, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]", 8);
  CHECK_ERROR(lz_load_safetensors(s, NULL), "malformed header");
  unsigned char huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
  write_file(s, huge, sizeof huge);
  CHECK_ERROR(lz_load_safetensors(s, NULL), "exceeds the file");

  const char *z = tmp_path("bad.npz");
  n = read_file(DATA "compressed.npz", buf, sizeof buf);
  for (size_t i = 60; i < 200 && i < n; i++) buf[i] ^= 0x5a; /* corrupt deflate data */
  write_file(z, buf, n);
  lz_clear_error();
  lz_dict *d = lz_load_npz(z);
  int ok = d ? lz_dict_eval(d) : -1;
  CHECK(ok != 0);
  CHECK(strstr(lz_last_error(), "bad.npz") != NULL);
  lz_clear_error();
  lz_dict_free(d);
  write_file(z, buf, 10);
  CHECK_ERROR(lz_load_npz(z), "not a zip file");
  CHECK_ERROR(lz_load(tmp_path("x.bin")), "cannot tell the format");
}

/* A file truncated after loading fails at eval with an error, not a crash. */
static void test_truncated_after_load(void) {
  unsigned char buf[8192];
  size_t n = read_file(DATA "float64.npy", buf, sizeof buf);
  const char *p = tmp_path("shrinks.npy");
  write_file(p, buf, n);
  lz_array *a = lz_load_npy(p);
  CHECK(a != NULL);
  CHECK(truncate(p, 100) == 0);
  lz_clear_error();
  CHECK(lz_eval(a) == -1);
  CHECK(strstr(lz_last_error(), "truncated") != NULL);
  lz_clear_error();
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/lz_test_io_XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  RUN(test_npy_every_dtype);
  RUN(test_npy_layouts);
  RUN(test_npz);
  RUN(test_safetensors);
  RUN(test_round_trips);
  RUN(test_malformed_files);
  RUN(test_truncated_after_load);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) return 1;
  return lzt_summary();
}
