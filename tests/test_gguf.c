/* GGUF: a file written by hand by scripts/gen_gguf_refs.py (every metadata type; f32, f16,
 * bf16 and the q4_0, q4_1, q5_0, q5_1, q8_0 block formats) loaded and compared to the values
 * GGML's formulas give; save -> load round trips; and malformed files, each an error that names
 * the file. */
#define _GNU_SOURCE
#include <unistd.h>

#include "lz_test.h"

static const char *data_path(const char *name) {
  static char buf[1024];
  snprintf(buf, sizeof buf, "%s/gguf/%s", LZ_TEST_DATA_DIR, name);
  return buf;
}

static char tmp_path[256];
static const char *tmp(const char *tag) {
  snprintf(tmp_path, sizeof tmp_path, "/tmp/lz_test_gguf_%d_%s.gguf", (int)getpid(), tag);
  return tmp_path;
}

static void check_same(lz_array *a, lz_array *b, double tol) {
  CHECK(a && b);
  if (!a || !b) return;
  CHECK(lz_array_ndim(a) == lz_array_ndim(b));
  CHECK(lz_item_bool(lz_allclose(lz_astype(a, LZ_FLOAT32), lz_astype(b, LZ_FLOAT32), tol, tol, false)));
}

static void test_blocks(void) {
  lz_dict *meta = NULL;
  lz_dict *d = lz_load_gguf(data_path("blocks.gguf"), &meta);
  lz_dict *e = lz_load_npz(data_path("blocks_expected.npz"));
  CHECK(d && meta && e);
  if (!d || !meta || !e) {
    lz_dict_free(d), lz_dict_free(meta), lz_dict_free(e);
    return;
  }
  CHECK(lz_dict_size(d) == 3 + 5 * 3);
  /* plain tensors, exactly */
  const char *plain[] = {"f32", "f16", "bf16"};
  const lz_dtype pdt[] = {LZ_FLOAT32, LZ_FLOAT16, LZ_BFLOAT16};
  for (int i = 0; i < 3; i++) {
    lz_array *a = lz_dict_get(d, plain[i]);
    CHECK(a && lz_array_dtype(a) == pdt[i]);
    check_same(a, lz_dict_get(e, plain[i]), 0);
  }
  CHECK_SHAPE(lz_dict_get(d, "f32"), 2, 3);
  CHECK_SHAPE(lz_dict_get(d, "bf16"), 3, 2);
  /* quantized tensors: NAME, PREFIX.scales, PREFIX.biases; dequantized == GGML's values */
  struct { const char *name, *prefix; int bits, rows, cols; } q[] = {
      {"blk.0.attn_q.weight", "blk.0.attn_q", 4, 3, 64}, {"q41", "q41", 4, 2, 64},
      {"q50.weight", "q50", 5, 2, 32}, {"q51.weight", "q51", 5, 2, 64},
      {"blk.1.ffn.weight", "blk.1.ffn", 8, 4, 32}};
  for (int i = 0; i < 5; i++) {
    char ks[128], kb[128];
    snprintf(ks, sizeof ks, "%s.scales", q[i].prefix);
    snprintf(kb, sizeof kb, "%s.biases", q[i].prefix);
    lz_array *w = lz_dict_get(d, q[i].name), *s = lz_dict_get(d, ks), *b = lz_dict_get(d, kb);
    CHECK(w && s && b);
    if (!w || !s || !b) continue;
    CHECK(lz_array_dtype(w) == LZ_UINT32 && lz_array_dtype(s) == LZ_FLOAT16);
    CHECK_SHAPE(w, q[i].rows, q[i].cols * q[i].bits / 32);
    CHECK_SHAPE(s, q[i].rows, q[i].cols / 32);
    lz_array *deq = lz_dequantize(w, s, b, 32, q[i].bits);
    CHECK_SHAPE(deq, q[i].rows, q[i].cols);
    check_same(deq, lz_dict_get(e, q[i].name), 1e-3);
    /* within float16 rounding of the values themselves */
    CHECK(lz_item_bool(lz_allclose(lz_astype(deq, LZ_FLOAT32), lz_dict_get(e, q[i].name), 1e-3, 1e-4, false)));
  }
  /* The q4_0 weights work in a quantized matmul. */
  lz_array *x = lz_ones((int[]){1, 64}, 2, LZ_FLOAT32);
  lz_array *y = lz_quantized_matmul(x, lz_dict_get(d, "blk.0.attn_q.weight"),
                                    lz_dict_get(d, "blk.0.attn_q.scales"),
                                    lz_dict_get(d, "blk.0.attn_q.biases"), true, 32, 4);
  lz_array *ref = lz_matmul(x, lz_transpose(lz_dict_get(e, "blk.0.attn_q.weight"), NULL, 0));
  CHECK(lz_item_bool(lz_allclose(y, ref, 1e-3, 1e-3, false)));
  /* metadata, rendered as text */
  struct { const char *k, *v; } m[] = {
      {"general.architecture", "llama"}, {"general.alignment", "32"}, {"u8", "200"}, {"i8", "-5"},
      {"u16", "60000"}, {"i16", "-30000"}, {"i32", "-123456"}, {"f32", "0.5"}, {"bool", "true"},
      {"u64", "9223372036854775813"}, {"i64", "-1099511627776"}, {"f64", "0.10000000000000001"},
      {"ints", "[1, -2, 3]"}, {"strs", "[\"a\", \"b\\\"c\"]"}, {"nested", "[[1, 2], []]"}};
  CHECK(lz_dict_size(meta) == sizeof m / sizeof *m);
  for (size_t i = 0; i < sizeof m / sizeof *m; i++) {
    const char *v = lz_dict_get_string(meta, m[i].k);
    CHECK(v && strcmp(v, m[i].v) == 0);
    if (v && strcmp(v, m[i].v)) fprintf(stderr, "%s = '%s', expected '%s'\n", m[i].k, v, m[i].v);
  }
  lz_dict_free(d);
  lz_dict_free(meta);
  lz_dict_free(e);
  /* Without a metadata pointer; loading is lazy (nothing is evaluated until asked). */
  d = lz_load_gguf(data_path("blocks.gguf"), NULL);
  lz_array *f = d ? lz_dict_get(d, "f32") : NULL;
  CHECK(f && !lz_array_is_evaluated(f));
  lz_dict_free(d);
}

static void test_roundtrip(void) {
  lz_dict *d = lz_dict_new(), *meta = lz_dict_new();
  lz_array *a = lz_reshape(lz_arange(0, 6, 1, LZ_FLOAT32), (int[]){2, 3}, 2);
  lz_dict_set(d, "a", a);
  lz_dict_set(d, "a_t", lz_transpose(a, NULL, 0)); /* strided: saved contiguously */
  lz_dict_set(d, "h", lz_astype(lz_linspace(-1, 1, 5, LZ_FLOAT32), LZ_FLOAT16));
  lz_dict_set(d, "b", lz_astype(lz_arange(0, 4, 1, LZ_FLOAT32), LZ_BFLOAT16));
  lz_dict_set(d, "i", lz_arange(-3, 4, 1, LZ_INT32));
  lz_dict_set(d, "d", lz_scalar(0.1, LZ_FLOAT64));
  lz_dict_set(d, "empty", lz_zeros((int[]){0, 4}, 2, LZ_FLOAT32));
  lz_dict_set(d, "big", lz_ones((int[]){3, 5, 7, 2}, 4, LZ_FLOAT32));
  lz_dict_set_string(meta, "general.name", "round \"trip\"");
  lz_dict_set_string(meta, "x", "");
  const char *p = tmp("rt");
  CHECK(lz_save_gguf(p, d, meta) == 0);
  lz_dict *m2 = NULL, *d2 = lz_load_gguf(p, &m2);
  CHECK(d2 && m2);
  if (d2 && m2) {
    CHECK(lz_dict_size(d2) == lz_dict_size(d));
    for (size_t i = 0; i < lz_dict_size(d); i++) {
      const char *k = lz_dict_key(d, i);
      lz_array *x = lz_dict_get(d, k), *y = lz_dict_get(d2, k);
      CHECK(y && lz_array_dtype(y) == lz_array_dtype(x) && lz_array_size(y) == lz_array_size(x));
      if (y && lz_array_ndim(x) > 0) CHECK(lz_item_bool(lz_array_equal(x, y, false)));
    }
    CHECK_SHAPE(lz_dict_get(d2, "a_t"), 3, 2);
    CHECK_SHAPE(lz_dict_get(d2, "big"), 3, 5, 7, 2);
    CHECK_SHAPE(lz_dict_get(d2, "d"), 1); /* 0-d is stored as (1) */
    CHECK_CLOSE(lz_item_f64(lz_dict_get(d2, "d")), 0.1, 0);
    CHECK(strcmp(lz_dict_get_string(m2, "general.name"), "round \"trip\"") == 0);
    CHECK(strcmp(lz_dict_get_string(m2, "x"), "") == 0);
  }
  lz_dict_free(d2);
  lz_dict_free(m2);
  /* An empty dict, no metadata. */
  lz_dict *none = lz_dict_new();
  CHECK(lz_save_gguf(p, none, NULL) == 0);
  d2 = lz_load_gguf(p, NULL);
  CHECK(d2 && lz_dict_size(d2) == 0);
  lz_dict_free(d2);
  /* Errors */
  lz_dict_set(none, "flag", lz_zeros((int[]){2}, 1, LZ_BOOL));
  CHECK(lz_save_gguf(p, none, NULL) == -1 && strstr(lz_last_error(), "[lz_save_gguf] entry 'flag' has dtype bool"));
  lz_clear_error();
  lz_dict_set(meta, "arr", a);
  CHECK(lz_save_gguf(p, d, meta) == -1 && strstr(lz_last_error(), "metadata entry 'arr' is a 2-d float32 array"));
  lz_clear_error();
  CHECK(lz_save_gguf("/nonexistent/dir/x.gguf", d, NULL) == -1 && strstr(lz_last_error(), "cannot create"));
  lz_clear_error();
  unlink(p);
  lz_dict_free(none);
  lz_dict_free(d);
  lz_dict_free(meta);
}

/* ---- malformed files ---------------------------------------------------------------------- */

typedef struct buf {
  unsigned char b[4096];
  size_t n;
} buf;
static void put(buf *f, const void *p, size_t n) {
  memcpy(f->b + f->n, p, n);
  f->n += n;
}
static void u32(buf *f, uint32_t v) { put(f, &v, 4); }
static void u64(buf *f, uint64_t v) { put(f, &v, 8); }
static void str(buf *f, const char *s) {
  u64(f, strlen(s));
  put(f, s, strlen(s));
}
static void pad(buf *f) {
  while (f->n % 32) f->b[f->n++] = 0;
}
/* Header with nt tensors and nkv key/values. */
static void header(buf *f, uint64_t nt, uint64_t nkv) {
  f->n = 0;
  u32(f, 0x46554747);
  u32(f, 3);
  u64(f, nt);
  u64(f, nkv);
}
/* A tensor description (1-D of ne elements). */
static void tensor(buf *f, const char *name, uint64_t ne, uint32_t type, uint64_t off) {
  str(f, name);
  u32(f, 1);
  u64(f, ne);
  u32(f, type);
  u64(f, off);
}

static void expect_error(const buf *f, const char *needle, int line) {
  const char *p = tmp("bad");
  FILE *fp = fopen(p, "wb");
  fwrite(f->b, 1, f->n, fp);
  fclose(fp);
  lz_clear_error();
  lz_dict *meta = NULL, *d = lz_load_gguf(p, &meta);
  lzt_checks++;
  if (d || meta || !strstr(lz_last_error(), needle) || !strstr(lz_last_error(), p) ||
      !strstr(lz_last_error(), "[lz_load_gguf]")) {
    lzt_failures++;
    fprintf(stderr, "%s:%d: expected an error with '%s', got '%s'\n", __FILE__, line, needle,
            lz_last_error());
  }
  lz_dict_free(d);
  lz_dict_free(meta);
  lz_clear_error();
  unlink(p);
}
#define EXPECT_ERROR(f, needle) expect_error(f, needle, __LINE__)

static void test_malformed(void) {
  static buf f;
  float data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  /* a valid file first */
  header(&f, 1, 0);
  tensor(&f, "t", 4, 0, 0);
  pad(&f);
  put(&f, data, 16);
  const char *p = tmp("ok");
  FILE *fp = fopen(p, "wb");
  fwrite(f.b, 1, f.n, fp);
  fclose(fp);
  lz_dict *d = lz_load_gguf(p, NULL);
  CHECK(d && lz_dict_size(d) == 1);
  double e[4] = {1, 2, 3, 4};
  CHECK_VALUES(d ? lz_dict_get(d, "t") : NULL, e, 4, 0);
  lz_dict_free(d);
  unlink(p);

  f.n = 0;
  EXPECT_ERROR(&f, "truncated");
  header(&f, 0, 0);
  f.n = 7;
  EXPECT_ERROR(&f, "truncated");
  f.n = 20;
  EXPECT_ERROR(&f, "truncated");
  header(&f, 0, 0);
  f.b[0] = 'X';
  EXPECT_ERROR(&f, "not a GGUF file");
  header(&f, 0, 0);
  f.b[4] = 1;
  EXPECT_ERROR(&f, "version 1 is not supported");
  header(&f, 0, 0);
  memcpy(f.b + 4, "\0\0\0\3", 4); /* big-endian version 3 */
  EXPECT_ERROR(&f, "big-endian");
  header(&f, (uint64_t)1 << 60, 0);
  EXPECT_ERROR(&f, "cannot fit in the file");
  header(&f, 0, (uint64_t)1 << 40);
  EXPECT_ERROR(&f, "cannot fit in the file");
  /* metadata */
  header(&f, 0, 1);
  u64(&f, (uint64_t)1 << 62); /* key length */
  for (int i = 0; i < 16; i++) u32(&f, 0);
  EXPECT_ERROR(&f, "runs past the end of the file");
  header(&f, 0, 1);
  str(&f, "k");
  u32(&f, 8); /* string value, truncated */
  u64(&f, 100);
  put(&f, "abc", 3);
  EXPECT_ERROR(&f, "runs past the end");
  header(&f, 0, 1);
  str(&f, "k");
  u32(&f, 13);
  u64(&f, 0);
  EXPECT_ERROR(&f, "unknown metadata value type 13");
  header(&f, 0, 1);
  str(&f, "k");
  u32(&f, 9);
  u32(&f, 4);
  u64(&f, (uint64_t)1 << 40); /* array of 2^40 uint32 */
  u64(&f, 0);
  EXPECT_ERROR(&f, "exceeds the file");
  header(&f, 0, 1);
  str(&f, "k");
  u32(&f, 9);
  u32(&f, 20);
  u64(&f, 1);
  u64(&f, 0);
  EXPECT_ERROR(&f, "unknown metadata array type 20");
  header(&f, 0, 1);
  str(&f, "k");
  u32(&f, 9);
  for (int i = 0; i < 6; i++) u32(&f, 9), u64(&f, 1); /* arrays of arrays of ... */
  u64(&f, 0);
  EXPECT_ERROR(&f, "nested deeper");
  header(&f, 0, 2);
  str(&f, "k");
  u32(&f, 0);
  put(&f, "\1", 1);
  str(&f, "k");
  u32(&f, 0);
  put(&f, "\1", 1);
  EXPECT_ERROR(&f, "metadata key 'k' appears twice");
  header(&f, 0, 1);
  u64(&f, 3);
  put(&f, "a\0b", 3);
  u32(&f, 0);
  put(&f, "\1", 1);
  EXPECT_ERROR(&f, "NUL byte");
  header(&f, 0, 1);
  str(&f, "general.alignment");
  u32(&f, 4);
  u32(&f, 24);
  EXPECT_ERROR(&f, "power of two");
  header(&f, 0, 1);
  str(&f, "general.alignment");
  u32(&f, 0); /* u8: wrong type */
  put(&f, "\40", 1);
  EXPECT_ERROR(&f, "general.alignment must be a uint32");
  /* tensors */
  header(&f, 1, 0);
  tensor(&f, "t", 4, 0, 32);
  pad(&f);
  put(&f, data, 16);
  EXPECT_ERROR(&f, "outside the 16 data bytes");
  header(&f, 1, 0);
  tensor(&f, "t", 4, 0, 4);
  pad(&f);
  put(&f, data, 32);
  EXPECT_ERROR(&f, "not a multiple of the alignment 32");
  header(&f, 1, 0);
  tensor(&f, "t", 4, 0, 0);
  pad(&f);
  put(&f, data, 12); /* 4 bytes short */
  EXPECT_ERROR(&f, "outside the 12 data bytes");
  header(&f, 1, 0);
  tensor(&f, "t", 4, 0, (uint64_t)-32); /* offset + size wraps */
  pad(&f);
  put(&f, data, 16);
  EXPECT_ERROR(&f, "outside the");
  header(&f, 1, 0);
  tensor(&f, "t", 4, 99, 0);
  pad(&f);
  put(&f, data, 16);
  EXPECT_ERROR(&f, "has type 99, which is not supported");
  header(&f, 1, 0);
  tensor(&f, "t", 4, 12, 0); /* q4_K */
  pad(&f);
  put(&f, data, 16);
  EXPECT_ERROR(&f, "has type 12");
  header(&f, 1, 0);
  tensor(&f, "t", 30, 2, 0); /* q4_0 with 30 values */
  pad(&f);
  put(&f, data, 32);
  EXPECT_ERROR(&f, "32-value blocks");
  header(&f, 1, 0);
  tensor(&f, "t", (uint64_t)1 << 40, 0, 0);
  pad(&f);
  EXPECT_ERROR(&f, "too large");
  header(&f, 1, 0);
  str(&f, "t");
  u32(&f, 4);
  for (int i = 0; i < 4; i++) u64(&f, (uint64_t)1 << 30); /* 2^120 elements */
  u32(&f, 0);
  u64(&f, 0);
  pad(&f);
  EXPECT_ERROR(&f, "too many elements");
  header(&f, 1, 0);
  str(&f, "t");
  u32(&f, 17);
  for (int i = 0; i < 17; i++) u64(&f, 1);
  EXPECT_ERROR(&f, "has 17 dimensions");
  header(&f, 2, 0);
  tensor(&f, "t", 4, 0, 0);
  tensor(&f, "t", 4, 0, 0);
  pad(&f);
  put(&f, data, 16);
  EXPECT_ERROR(&f, "entry 't' appears twice");
  header(&f, 2, 0); /* a quantized tensor whose scales name collides with another tensor */
  tensor(&f, "w.scales", 4, 0, 0);
  tensor(&f, "w.weight", 32, 8, 32);
  pad(&f);
  put(&f, data, 32);
  memset(f.b + f.n, 0, 34);
  f.n += 34;
  EXPECT_ERROR(&f, "entry 'w.scales' appears twice");
  header(&f, 1, 0);
  tensor(&f, "t", 4, 0, 0);
  f.n -= 3; /* cut inside the description */
  EXPECT_ERROR(&f, "truncated");
  CHECK(lz_load_gguf("/nonexistent.gguf", NULL) == NULL && strstr(lz_last_error(), "cannot open"));
  lz_clear_error();
  CHECK(lz_load_gguf(NULL, NULL) == NULL);
  lz_clear_error();
}

int main(void) {
  RUN(test_blocks);
  RUN(test_roundtrip);
  RUN(test_malformed);
  return lzt_summary();
}
