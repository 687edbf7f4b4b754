/* Loading float16 weights over a lazily created float32 model of about 100M parameters never
 * materialises the float32 initial values: peak memory is that of the float16 weights alone.
 * Prints both peaks and their ratio; the optional argument is a folder for the weights file. */
#include "lazy_load.h"

int main(int argc, char **argv) {
  char path[512];
  snprintf(path, sizeof path, "%s/lazy_load_weights.safetensors", argc > 1 ? argv[1] : "/tmp");
  int layers = 10, dims = 3200; /* 10 x (3200 x 3200 + 3200) = 102.4M parameters */
  ll_result lazy, eager;
  int rc = ll_run(path, layers, dims, &lazy, &eager);
  unlink(path);
  if (rc != 0) {
    fprintf(stderr, "lazy_load: a run failed\n");
    return 1;
  }
  printf("parameters %zu\n", lazy.num_params);
  printf("lazy:  lazuli peak %.1f MiB, peak RSS increase %.1f MiB\n", lazy.lz_peak_mb,
         lazy.rss_peak_mb);
  printf("eager: lazuli peak %.1f MiB, peak RSS increase %.1f MiB\n", eager.lz_peak_mb,
         eager.rss_peak_mb);
  printf("lazy_load_rss_ratio %.3f\n", lazy.rss_peak_mb / eager.rss_peak_mb);
  printf("lazy_load_peak_ratio %.3f\n", lazy.lz_peak_mb / eager.lz_peak_mb);
  return 0;
}
