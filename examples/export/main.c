/* Classifies the Fashion-MNIST test set with a model exported by `mnist --export FILE`: the
 * forward pass and its weights come from the file alone (lz_import_function), not from the
 * code that defined and trained it.
 *
 *   export FILE.lzfn [--data DIR] [--subset N]
 *
 * --subset N uses the first N test images (as mnist --subset 6(N-1) does). Prints the file
 * size, the import time and the test accuracy in mnist's format. */
#include <lazuli.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../mnist/data.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  const char *path = NULL, *data = "/usr/share/datasets/fashion-mnist";
  int subset = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) data = argv[++i];
    else if (strcmp(argv[i], "--subset") == 0 && i + 1 < argc) subset = atoi(argv[++i]);
    else if (argv[i][0] != '-' && !path) path = argv[i];
    else path = NULL, i = argc;
  }
  if (!path) {
    fprintf(stderr, "usage: %s FILE.lzfn [--data DIR] [--subset N]\n", argv[0]);
    return 2;
  }
  double t0 = now();
  lz_closure *f = lz_import_function(path);
  double t_import = now() - t0;
  if (!f) {
    fprintf(stderr, "export: %s\n", lz_last_error());
    return 1;
  }
  struct stat st;
  printf("%s: %lld bytes, imported in %.2f ms\n", path,
         stat(path, &st) == 0 ? (long long)st.st_size : -1LL, 1e3 * t_import);
  dataset test = {0};
  if (dataset_load(data, "t10k", subset, &test) != 0) {
    lz_closure_free(f);
    return 1;
  }
  long correct = 0;
  int rc = 0;
  for (int i = 0; i < test.n && rc == 0; i += 500) {
    int k = test.n - i < 500 ? test.n - i : 500;
    lz_scope_begin();
    lz_array *x = lz_array_from_data(test.images + (size_t)i * IMAGE_SIZE,
                                     (int[]){k, IMAGE_SIZE}, 2, LZ_FLOAT32);
    lz_array *y = lz_array_from_data(test.labels + i, (int[]){k}, 1, LZ_INT32), *logits;
    if (lz_closure_call(f, &x, 1, &logits) != 1) rc = 1;
    lz_array *hits = rc ? NULL : lz_sum(lz_equal(lz_argmax_axis(logits, 1, false), y), false);
    if (!hits || lz_eval(hits) != 0) rc = 1;
    else correct += lz_item_i64(hits);
    lz_scope_end();
  }
  if (rc) fprintf(stderr, "export: %s\n", lz_last_error());
  else printf("test accuracy: %.2f%%\n", 100.0 * (double)correct / test.n);
  dataset_free(&test);
  lz_closure_free(f);
  return rc;
}
