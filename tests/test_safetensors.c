/* safetensors headers as Python writes them: json.dumps escapes every non-ASCII character as
 * \uXXXX (surrogate pairs above U+FFFF), which must decode to UTF-8; an empty tensor may sit at
 * the offset where another starts; a metadata value that is not a string is an error, on load
 * and on save; F8_E4M3 and F8_E8M0 tensors load as their uint8 bytes, as in MLX. */
#include <unistd.h>

#include "lz_test.h"

static char tmpdir[64];

static const char *tmp_path(const char *name) {
  static char buf[4][256];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
  return buf[k];
}

/* Writes a safetensors file: the JSON header (padded to 8 bytes) then `data`. */
static const char *write_st(const char *name, const char *json, const void *data, size_t n) {
  const char *path = tmp_path(name);
  FILE *f = fopen(path, "wb");
  if (!f) return path;
  size_t hl = strlen(json), pad = (8 - hl % 8) % 8;
  unsigned char len8[8];
  for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)(hl + pad) >> (8 * i));
  fwrite(len8, 1, 8, f);
  fwrite(json, 1, hl, f);
  for (size_t i = 0; i < pad; i++) fputc(' ', f);
  if (n) fwrite(data, 1, n, f);
  fclose(f);
  return path;
}

static void test_unicode_escapes(void) {
  /* what json.dumps({"café": ..., "😀": ..., "__metadata__": {"kü": "v中"}}) writes */
  const char *json = "{\"__metadata__\": {\"k\\u00fc\": \"v\\u4e2d\"}, "
                     "\"caf\\u00e9\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, "
                     "\"\\ud83d\\ude00\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}";
  float v[2] = {1.5f, -2};
  const char *p = write_st("u.safetensors", json, v, sizeof v);
  lz_dict *meta = NULL;
  lz_dict *d = lz_load_safetensors(p, &meta);
  CHECK(d && lz_dict_size(d) == 2);
  lz_array *a = lz_dict_get(d, "caf\xc3\xa9"), *b = lz_dict_get(d, "\xf0\x9f\x98\x80");
  CHECK_VALUES(a, ((double[]){1.5}), 1, 0);
  CHECK_VALUES(b, ((double[]){-2}), 1, 0);
  const char *mv = meta ? lz_dict_get_string(meta, "k\xc3\xbc") : NULL;
  CHECK(mv && strcmp(mv, "v\xe4\xb8\xad") == 0);
  /* saved back (raw UTF-8 in the JSON) and loaded again: the same names */
  const char *q = tmp_path("u2.safetensors");
  CHECK(lz_save_safetensors(q, d, meta) == 0);
  lz_dict *meta2 = NULL, *d2 = lz_load_safetensors(q, &meta2);
  lz_array *b2 = d2 ? lz_dict_get(d2, "\xf0\x9f\x98\x80") : NULL;
  CHECK_VALUES(b2, ((double[]){-2}), 1, 0);
  CHECK(meta2 && lz_dict_get_string(meta2, "k\xc3\xbc") != NULL);
  lz_free(a), lz_free(b), lz_free(b2);
  lz_dict_free(d), lz_dict_free(meta), lz_dict_free(d2), lz_dict_free(meta2);
  /* malformed escapes are errors naming the file */
  const char *bad[] = {"{\"\\ud83d\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0, 4]}}",
                       "{\"\\ude00x\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0, 4]}}",
                       "{\"\\ud83d\\u0041\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0, 4]}}",
                       "{\"\\u00g1\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0, 4]}}"};
  for (int i = 0; i < 4; i++) {
    const char *bp = write_st("bad.safetensors", bad[i], v, 4);
    lz_clear_error();
    CHECK(lz_load_safetensors(bp, NULL) == NULL);
    CHECK(strstr(lz_last_error(), "bad.safetensors") != NULL);
    CHECK(strstr(lz_last_error(), i < 3 ? "surrogate" : "escape") != NULL);
    lz_clear_error();
  }
}

static void test_empty_tensor_at_shared_offset(void) {
  const char *json = "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, "
                     "\"e\": {\"dtype\": \"F32\", \"shape\": [0, 3], \"data_offsets\": [0, 0]}, "
                     "\"f\": {\"dtype\": \"I8\", \"shape\": [0], \"data_offsets\": [8, 8]}}";
  float v[2] = {3, 4};
  lz_dict *d = lz_load_safetensors(write_st("e.safetensors", json, v, sizeof v), NULL);
  CHECK(d && lz_dict_size(d) == 3);
  lz_array *a = d ? lz_dict_get(d, "a") : NULL, *e = d ? lz_dict_get(d, "e") : NULL;
  CHECK_VALUES(a, ((double[]){3, 4}), 2, 0);
  CHECK_SHAPE(e, 0, 3);
  lz_free(a), lz_free(e);
  lz_dict_free(d);
  /* real overlaps still fail */
  const char *over = "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, "
                     "\"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}";
  CHECK_ERROR(lz_load_safetensors(write_st("o.safetensors", over, v, sizeof v), NULL), "overlap");
}

static void test_metadata_must_be_strings(void) {
  const char *json = "{\"__metadata__\": {\"format\": \"pt\", \"n\": 5}, "
                     "\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}";
  float v = 1;
  CHECK_ERROR(lz_load_safetensors(write_st("m.safetensors", json, &v, 4), NULL), "'n' is not a string");
  lz_dict *arrays = lz_dict_new(), *meta = lz_dict_new();
  lz_array *x = lz_array_from_data(&v, (int[]){1}, 1, LZ_FLOAT32);
  lz_dict_set(arrays, "x", x);
  lz_dict_set_string(meta, "format", "mlx");
  lz_dict_set(meta, "oops", x); /* an array where a string must be */
  const char *p = tmp_path("never.safetensors");
  lz_clear_error();
  CHECK(lz_save_safetensors(p, arrays, meta) == -1);
  CHECK(strstr(lz_last_error(), "metadata entry 'oops' is not a string") != NULL);
  lz_clear_error();
  CHECK(access(p, F_OK) != 0);
  lz_free(x);
  lz_dict_free(arrays), lz_dict_free(meta);
}

static void test_fp8_tensors(void) {
  const char *json = "{\"w\": {\"dtype\": \"F8_E4M3\", \"shape\": [2, 2], \"data_offsets\": [0, 4]}, "
                     "\"s\": {\"dtype\": \"F8_E8M0\", \"shape\": [2], \"data_offsets\": [4, 6]}}";
  unsigned char bytes[6] = {0x38, 0xC0, 0x7E, 0x01, 127, 130}; /* 1, -2, 448, 2^-9; 2^0, 2^3 */
  lz_dict *d = lz_load_safetensors(write_st("f8.safetensors", json, bytes, 6), NULL);
  CHECK(d != NULL);
  lz_array *w = d ? lz_dict_get(d, "w") : NULL, *s = d ? lz_dict_get(d, "s") : NULL;
  CHECK(w && lz_array_dtype(w) == LZ_UINT8 && s && lz_array_dtype(s) == LZ_UINT8);
  CHECK_VALUES(w, ((double[]){0x38, 0xC0, 0x7E, 0x01}), 4, 0);
  CHECK_VALUES(s, ((double[]){127, 130}), 2, 0);
  lz_array *f = lz_from_fp8(w, LZ_FLOAT32);
  CHECK_VALUES(f, ((double[]){1, -2, 448, 0x1p-9}), 4, 0);
  lz_free(f), lz_free(w), lz_free(s);
  lz_dict_free(d);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/lz_test_st_XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  RUN(test_unicode_escapes);
  RUN(test_empty_tensor_at_shared_offset);
  RUN(test_metadata_must_be_strings);
  RUN(test_fp8_tensors);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) return 1;
  return lzt_summary();
}
