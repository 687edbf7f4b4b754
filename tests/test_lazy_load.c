/* The memory claim of lazy initialisation, on a smaller model than examples/lazy_load (same
 * code): loading float16 weights over a lazily created float32 model peaks at no more than 55%
 * of evaluating the model first and then loading, by Lazuli's own count and by peak RSS. */
#include "../examples/lazy_load/lazy_load.h"
#include "lz_test.h"

static void test_lazy_load_peak(void) {
  char dir[] = "/tmp/lz_lazy_load_XXXXXX", path[64];
  if (!mkdtemp(dir)) return;
  snprintf(path, sizeof path, "%s/w.safetensors", dir);
  ll_result lazy, eager;
  CHECK(ll_run(path, 8, 1024, &lazy, &eager) == 0);
  unlink(path);
  rmdir(dir);
  CHECK(lazy.num_params == 8 * (1024 * 1024 + 1024));
  double fp16_mb = lazy.num_params * 2 / (1024.0 * 1024.0);
  fprintf(stderr, "lazy peak %.1f MiB (RSS +%.1f), eager peak %.1f MiB (RSS +%.1f)\n",
          lazy.lz_peak_mb, lazy.rss_peak_mb, eager.lz_peak_mb, eager.rss_peak_mb);
  CHECK(lazy.lz_peak_mb < fp16_mb * 1.05);      /* only the float16 weights */
  CHECK(eager.lz_peak_mb > fp16_mb * 2 * 0.99); /* the float32 initial values */
  CHECK(lazy.lz_peak_mb <= 0.55 * eager.lz_peak_mb);
  CHECK(lazy.rss_peak_mb <= 0.55 * eager.rss_peak_mb);
}

int main(void) {
  RUN(test_lazy_load_peak);
  return lzt_summary();
}
