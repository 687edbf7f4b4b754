/* Saving is atomic in every format: arrays are evaluated first, the file is written beside the
 * target and renamed over it. Saving over the file the arrays are lazily loaded from works, and
 * a failed save (out of memory, a bad entry) leaves the old file byte for byte, with no
 * temporary file behind. */
#include <dirent.h>
#include <sys/stat.h>
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

/* Entries of tmpdir other than "." and "..". */
static int dir_entries(void) {
  DIR *d = opendir(tmpdir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
  if (d) closedir(d);
  return n;
}

enum { F_NPY, F_NPZ, F_NPZ_DEFLATE, F_SAFETENSORS, F_GGUF, F_COUNT };
static const char *const ext[F_COUNT] = {"npy", "npz", "npz", "safetensors", "gguf"};

static int save(int f, const char *path, lz_dict *d) {
  switch (f) {
  case F_NPY: {
    lz_array *a = lz_dict_get(d, "w");
    int rc = lz_save_npy(path, a);
    lz_free(a);
    return rc;
  }
  case F_NPZ: return lz_save_npz(path, d, false);
  case F_NPZ_DEFLATE: return lz_save_npz(path, d, true);
  case F_SAFETENSORS: return lz_save_safetensors(path, d, NULL);
  default: return lz_save_gguf(path, d, NULL);
  }
}

static lz_array *get(lz_dict *d, const char *key) {
  lz_array *a = lz_dict_get(d, key);
  return a ? a : lz_dict_get(d, "arr_0"); /* .npy: one array */
}

/* w = 0..11 as (3,4) float32 times `scale`, b = ones(4). Lazy. */
static lz_dict *weights(double scale) {
  lz_dict *d = lz_dict_new();
  lz_scope_begin();
  lz_array *w = lz_multiply(lz_reshape(lz_arange(0, 12, 1, LZ_FLOAT32), (int[]){3, 4}, 2),
                            lz_float(scale));
  lz_dict_set(d, "w", w);
  lz_dict_set(d, "b", lz_ones((int[]){4}, 1, LZ_FLOAT32));
  lz_scope_end();
  return d;
}

static void check_w(lz_dict *d, double scale) {
  double want[12];
  for (int i = 0; i < 12; i++) want[i] = i * scale;
  lz_array *w = get(d, "w");
  CHECK_VALUES(w, want, 12, 0);
  lz_free(w);
}

/* Loading lazily from a file, then saving arrays built on it over that same file. */
static void test_save_over_lazy_source(void) {
  for (int f = 0; f < F_COUNT; f++) {
    char name[32];
    snprintf(name, sizeof name, "src%d.%s", f, ext[f]);
    const char *path = tmp_path(name);
    lz_dict *a = weights(1);
    CHECK(save(f, path, a) == 0);
    lz_dict_free(a);
    lz_dict *loaded = lz_load(path);
    CHECK(loaded != NULL);
    lz_array *w = get(loaded, "w");
    CHECK(w && !lz_array_is_evaluated(w)); /* still lazy: its bytes are read at eval */
    lz_dict *next = lz_dict_new();
    lz_scope_begin();
    lz_dict_set(next, "w", lz_multiply(w, lz_float(3)));
    lz_dict_set(next, "old", w); /* the loaded array itself, unchanged */
    lz_scope_end();
    lz_free(w);
    CHECK(save(f, path, next) == 0);
    lz_dict_free(next);
    lz_dict_free(loaded);
    lz_dict *back = lz_load(path);
    CHECK(back != NULL);
    check_w(back, 3);
    if (f != F_NPY) {
      lz_array *old = lz_dict_get(back, "old");
      double want[12];
      for (int i = 0; i < 12; i++) want[i] = i;
      CHECK_VALUES(old, want, 12, 0);
      lz_free(old);
    }
    lz_dict_free(back);
    unlink(path);
  }
  CHECK(dir_entries() == 0);
}

/* Every allocation of a save fails in turn: each failure leaves the old bytes and no temporary
 * file; in the end the save succeeds. */
static void test_failed_save_keeps_old_file(void) {
  for (int f = 0; f < F_COUNT; f++) {
    char name[32];
    snprintf(name, sizeof name, "keep%d.%s", f, ext[f]);
    const char *path = tmp_path(name);
    lz_dict *a = weights(1);
    CHECK(save(f, path, a) == 0);
    lz_dict_free(a);
    CHECK(chmod(path, 0640) == 0);
    unsigned char *old;
    size_t old_n = slurp(path, &old);
    CHECK(old_n > 0);
    int failures = 0, rc = -1;
    for (int k = 1; k < 400 && rc != 0; k++) {
      lz_dict *b = weights(2); /* lazy: evaluating it allocates */
      lz_set_alloc_failure(k);
      rc = save(f, path, b);
      lz_set_alloc_failure(0);
      lz_dict_free(b);
      if (rc == 0) break;
      failures++;
      CHECK(lz_last_error_code() == LZ_ERROR_OUT_OF_MEMORY);
      lz_clear_error();
      unsigned char *now;
      size_t now_n = slurp(path, &now);
      CHECK(now_n == old_n && memcmp(now, old, old_n) == 0);
      free(now);
      CHECK(dir_entries() == 1);
    }
    CHECK(rc == 0 && failures > 0);
    lz_dict *back = lz_load(path);
    check_w(back, 2);
    lz_dict_free(back);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640); /* permissions kept */
    /* a bad entry: a string where an array must be, or a dtype the format cannot hold */
    lz_dict *bad = weights(5);
    if (f == F_NPY) {
      lz_dict_set(bad, "w", lz_array_from_data((float[]){1}, NULL, 0, LZ_FLOAT32));
      lz_array *w = lz_dict_get(bad, "w");
      lz_array *bf = lz_astype(w, LZ_BFLOAT16);
      CHECK(lz_save_npy(path, bf) == -1);
      lz_free(bf), lz_free(w);
    } else {
      lz_dict_set_string(bad, "zz", "not an array");
      CHECK(save(f, path, bad) == -1);
    }
    lz_clear_error();
    lz_dict_free(bad);
    unsigned char *now;
    size_t now_n = slurp(path, &now);
    CHECK(now_n != old_n || memcmp(now, old, old_n) != 0); /* the successful save above */
    lz_dict *again = lz_load(path);
    check_w(again, 2);
    lz_dict_free(again);
    free(now);
    free(old);
    CHECK(dir_entries() == 1);
    unlink(path);
  }
}

/* A save into a directory that does not exist fails without creating anything. */
static void test_save_into_missing_directory(void) {
  lz_dict *a = weights(1);
  for (int f = 0; f < F_COUNT; f++) {
    lz_clear_error();
    CHECK(save(f, tmp_path("no/such/dir/x.bin"), a) == -1);
    CHECK(strstr(lz_last_error(), "cannot create") != NULL);
    lz_clear_error();
  }
  lz_dict_free(a);
  CHECK(dir_entries() == 0);
}

/* lz_module_save_weights and lz_optim_save_state over the files they were loaded from. */
static void test_module_and_optimizer_resave(void) {
  const char *names[2] = {"m.safetensors", "m.npz"};
  for (int k = 0; k < 2; k++) {
    const char *path = tmp_path(names[k]);
    lz_module *m = lz_nn_linear_new(3, 2, true);
    CHECK(lz_module_save_weights(m, path) == 0);
    lz_dict *p0 = lz_module_parameters(m);
    lz_module *m2 = lz_nn_linear_new(3, 2, true);
    CHECK(lz_module_load_weights(m2, path, true) == 0); /* lazy parameters from path */
    CHECK(lz_module_save_weights(m2, path) == 0);
    lz_module *m3 = lz_nn_linear_new(3, 2, true);
    CHECK(lz_module_load_weights(m3, path, true) == 0);
    lz_dict *p3 = lz_module_parameters(m3);
    for (size_t i = 0; i < lz_dict_size(p0); i++) {
      lz_array *x = lz_dict_value(p0, i), *y = lz_dict_get(p3, lz_dict_key(p0, i));
      float xs[6] = {0}, ys[6] = {0};
      CHECK(lz_array_read(x, LZ_FLOAT32, xs, sizeof xs) == 0);
      CHECK(lz_array_read(y, LZ_FLOAT32, ys, sizeof ys) == 0);
      CHECK(memcmp(xs, ys, sizeof xs) == 0);
      lz_free(x), lz_free(y);
    }
    lz_dict_free(p0), lz_dict_free(p3);
    lz_module_free(m), lz_module_free(m2), lz_module_free(m3);
    unlink(path);
  }
  const char *sp = tmp_path("opt.safetensors");
  lz_optimizer *o = lz_optim_adam(0.1, 0.9, 0.999, 1e-8, false);
  lz_module *m = lz_nn_linear_new(3, 2, true);
  lz_dict *g = lz_module_parameters(m); /* any gradient of the right shapes */
  CHECK(lz_optim_update(o, m, g) == 0);
  CHECK(lz_optim_save_state(o, sp) == 0);
  lz_optimizer *o2 = lz_optim_adam(0.1, 0.9, 0.999, 1e-8, false);
  CHECK(lz_optim_load_state(o2, sp) == 0);
  CHECK(lz_optim_save_state(o2, sp) == 0);
  lz_optimizer *o3 = lz_optim_adam(0.1, 0.9, 0.999, 1e-8, false);
  CHECK(lz_optim_load_state(o3, sp) == 0);
  CHECK(lz_optim_step(o3) == 1);
  lz_dict *s1 = lz_optim_state(o), *s3 = lz_optim_state(o3);
  CHECK(lz_dict_size(s1) == lz_dict_size(s3));
  lz_dict_free(s1), lz_dict_free(s3);
  lz_dict_free(g);
  lz_module_free(m);
  lz_optim_free(o), lz_optim_free(o2), lz_optim_free(o3);
  unlink(sp);
  CHECK(dir_entries() == 0);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/lz_test_save_XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  RUN(test_save_over_lazy_source);
  RUN(test_failed_save_keeps_old_file);
  RUN(test_save_into_missing_directory);
  RUN(test_module_and_optimizer_resave);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) return 1;
  return lzt_summary();
}
