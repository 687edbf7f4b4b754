/* lz_load_with_metadata for every format, and GGUF metadata written and read with its types,
 * as llama.cpp writes them: a file's metadata round-trips byte for byte. */
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

static size_t slurp(const char *path, unsigned char **out) {
  FILE *f = fopen(path, "rb");
  *out = NULL;
  if (!f) return 0;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  *out = malloc(n > 0 ? (size_t)n : 1);
  size_t got = fread(*out, 1, (size_t)n, f);
  fclose(f);
  return got;
}

/* Whether `key` is followed in the file by the GGUF value type `type` (u32 after the string). */
static bool stored_as(const unsigned char *z, size_t n, const char *key, uint32_t type) {
  size_t kl = strlen(key);
  for (size_t i = 8; i + kl + 4 <= n; i++)
    if (memcmp(z + i, key, kl) == 0 && z[i - 8] == kl) {
      const unsigned char *t = z + i + kl;
      return (uint32_t)(t[0] | t[1] << 8 | t[2] << 16 | (uint32_t)t[3] << 24) == type;
    }
  return false;
}

static lz_dict *llama_metadata(void) {
  lz_dict *m = lz_dict_new();
  lz_scope_begin();
  lz_dict_set_string(m, "general.architecture", "llama");
  lz_dict_set(m, "general.alignment", lz_scalar(32, LZ_UINT32));
  lz_dict_set(m, "llama.context_length", lz_scalar(4096, LZ_UINT32));
  lz_dict_set(m, "llama.rope.freq_base", lz_scalar(10000.5, LZ_FLOAT32));
  lz_dict_set(m, "llama.attention.layer_norm_rms_epsilon", lz_scalar(1e-5, LZ_FLOAT32));
  lz_dict_set(m, "tokenizer.ggml.add_bos_token", lz_scalar(1, LZ_BOOL));
  lz_dict_set(m, "general.file_type", lz_scalar(-7, LZ_INT64));
  lz_dict_set(m, "general.score", lz_scalar(0.1, LZ_FLOAT64));
  const char *tokens[4] = {"<s>", "</s>", "\xe2\x96\x81the", ""};
  lz_dict_set_strings(m, "tokenizer.ggml.tokens", tokens, 4);
  lz_dict_set_strings(m, "tokenizer.ggml.merges", NULL, 0);
  lz_dict_set(m, "tokenizer.ggml.scores",
              lz_array_from_data((float[]){0, -1.5f, -2.25f, 3}, (int[]){4}, 1, LZ_FLOAT32));
  lz_dict_set(m, "tokenizer.ggml.token_type",
              lz_array_from_data((int32_t[]){3, 3, 1, 2}, (int[]){4}, 1, LZ_INT32));
  lz_dict_set(m, "flags", lz_array_from_data((bool[]){true, false}, (int[]){2}, 1, LZ_BOOL));
  lz_scope_end();
  return m;
}

static void check_scalar(lz_dict *m, const char *key, lz_dtype d, double v) {
  lz_array *a = lz_dict_get(m, key);
  CHECK(a && lz_array_dtype(a) == d && lz_array_ndim(a) == 0);
  if (a) CHECK_VALUES(a, ((double[]){v}), 1, 0);
  lz_free(a);
}

static void test_gguf_typed_round_trip(void) {
  lz_dict *m = llama_metadata(), *arrays = lz_dict_new();
  lz_array *w = lz_array_from_data((float[]){1, 2, 3, 4, 5, 6}, (int[]){2, 3}, 2, LZ_FLOAT32);
  lz_dict_set(arrays, "tok_embd.weight", w);
  const char *p = tmp_path("llama.gguf"), *q = tmp_path("again.gguf");
  CHECK(lz_save_gguf(p, arrays, m) == 0);
  unsigned char *z;
  size_t n = slurp(p, &z);
  /* GGUF type codes: 4 uint32, 6 float32, 7 bool, 8 string, 9 array, 11 int64, 12 float64 */
  CHECK(stored_as(z, n, "llama.context_length", 4));
  CHECK(stored_as(z, n, "llama.rope.freq_base", 6));
  CHECK(stored_as(z, n, "tokenizer.ggml.add_bos_token", 7));
  CHECK(stored_as(z, n, "general.architecture", 8));
  CHECK(stored_as(z, n, "tokenizer.ggml.tokens", 9));
  CHECK(stored_as(z, n, "general.file_type", 11));
  CHECK(stored_as(z, n, "general.score", 12));
  lz_dict *meta = NULL, *d = lz_load_with_metadata(p, &meta);
  CHECK(d && meta && lz_dict_size(meta) == lz_dict_size(m));
  if (!meta) return;
  CHECK(strcmp(lz_dict_get_string(meta, "general.architecture"), "llama") == 0);
  check_scalar(meta, "general.alignment", LZ_UINT32, 32);
  check_scalar(meta, "llama.context_length", LZ_UINT32, 4096);
  check_scalar(meta, "llama.rope.freq_base", LZ_FLOAT32, 10000.5);
  check_scalar(meta, "llama.attention.layer_norm_rms_epsilon", LZ_FLOAT32, (float)1e-5);
  check_scalar(meta, "tokenizer.ggml.add_bos_token", LZ_BOOL, 1);
  check_scalar(meta, "general.file_type", LZ_INT64, -7);
  check_scalar(meta, "general.score", LZ_FLOAT64, 0.1);
  const char *const *toks;
  CHECK(lz_dict_get_strings(meta, "tokenizer.ggml.tokens", &toks) == 4);
  CHECK(toks && strcmp(toks[2], "\xe2\x96\x81the") == 0 && strcmp(toks[3], "") == 0);
  CHECK(lz_dict_get_strings(meta, "tokenizer.ggml.merges", NULL) == 0);
  CHECK(lz_dict_get_strings(meta, "general.architecture", NULL) == -1);
  lz_array *sc = lz_dict_get(meta, "tokenizer.ggml.scores");
  CHECK(sc && lz_array_dtype(sc) == LZ_FLOAT32);
  CHECK_VALUES(sc, ((double[]){0, -1.5, -2.25, 3}), 4, 0);
  lz_array *tt = lz_dict_get(meta, "tokenizer.ggml.token_type");
  CHECK(tt && lz_array_dtype(tt) == LZ_INT32);
  CHECK_VALUES(tt, ((double[]){3, 3, 1, 2}), 4, 0);
  lz_array *fl = lz_dict_get(meta, "flags");
  CHECK(fl && lz_array_dtype(fl) == LZ_BOOL);
  lz_free(sc), lz_free(tt), lz_free(fl);
  /* saving what was loaded gives the same bytes */
  CHECK(lz_save_gguf(q, d, meta) == 0);
  unsigned char *z2;
  size_t n2 = slurp(q, &z2);
  CHECK(n2 == n && memcmp(z, z2, n) == 0);
  free(z), free(z2);
  /* lz_load_gguf keeps its text form */
  lz_dict *tmeta = NULL, *t = lz_load_gguf(p, &tmeta);
  CHECK(t && tmeta && strcmp(lz_dict_get_string(tmeta, "llama.context_length"), "4096") == 0);
  CHECK(tmeta && strcmp(lz_dict_get_string(tmeta, "tokenizer.ggml.add_bos_token"), "true") == 0);
  lz_dict_free(t), lz_dict_free(tmeta);
  /* metadata GGUF cannot hold is an error, and the file is not created */
  lz_dict *bad = lz_dict_new();
  lz_scope_begin();
  lz_dict_set(bad, "m", lz_ones((int[]){2, 2}, 2, LZ_FLOAT32));
  lz_scope_end();
  const char *never = tmp_path("never.gguf");
  lz_clear_error();
  CHECK(lz_save_gguf(never, arrays, bad) == -1);
  CHECK(strstr(lz_last_error(), "metadata entry 'm'") != NULL);
  lz_clear_error();
  CHECK(access(never, F_OK) != 0);
  lz_dict_free(bad);
  lz_free(w);
  lz_dict_free(d), lz_dict_free(meta), lz_dict_free(m), lz_dict_free(arrays);
}

static void test_every_format(void) {
  lz_dict *arrays = lz_dict_new(), *sm = lz_dict_new();
  lz_array *x = lz_array_from_data((float[]){1, 2}, (int[]){2}, 1, LZ_FLOAT32);
  lz_dict_set(arrays, "x", x);
  lz_dict_set_string(sm, "format", "mlx");
  CHECK(lz_save_safetensors(tmp_path("a.safetensors"), arrays, sm) == 0);
  CHECK(lz_save_npz(tmp_path("a.npz"), arrays, false) == 0);
  CHECK(lz_save_npy(tmp_path("a.npy"), x) == 0);
  const char *names[3] = {"a.safetensors", "a.npz", "a.npy"};
  for (int i = 0; i < 3; i++) {
    lz_dict *meta = NULL, *d = lz_load_with_metadata(tmp_path(names[i]), &meta);
    CHECK(d && lz_dict_size(d) == 1 && meta);
    CHECK(lz_dict_size(meta) == (i == 0 ? 1u : 0u));
    if (i == 0) CHECK(strcmp(lz_dict_get_string(meta, "format"), "mlx") == 0);
    lz_dict_free(d), lz_dict_free(meta);
  }
  lz_dict *meta = (lz_dict *)1;
  CHECK_ERROR(lz_load_with_metadata(tmp_path("missing.npz"), &meta), "missing.npz");
  CHECK(meta == NULL);
  CHECK_ERROR(lz_load_with_metadata(tmp_path("a.bin"), &meta), "cannot tell the format");
  CHECK_ERROR(lz_load_with_metadata(tmp_path("a.npy"), NULL), "metadata is NULL");
  lz_free(x);
  lz_dict_free(arrays), lz_dict_free(sm);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/lz_test_meta_XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  RUN(test_gguf_typed_round_trip);
  RUN(test_every_format);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) return 1;
  return lzt_summary();
}
