/* lazy_load_peak_ratio: examples/lazy_load's measurement (a float32 model of 102M parameters
 * created lazily, float16 weights loaded over it, each way in a child process), run here through
 * the example's own header so the figure is the one the example prints. */
#include "bench.h"

#if __has_include("../examples/lazy_load/lazy_load.h")
#include "../examples/lazy_load/lazy_load.h"

void bench_lazy_load(void) {
  const char *dir = getenv("TMPDIR");
  char path[512];
  snprintf(path, sizeof path, "%s/lz_bench_lazy_load_%d.safetensors", dir && *dir ? dir : "/tmp",
           (int)getpid());
  ll_result lazy, eager;
  int rc = ll_run(path, 10, 3200, &lazy, &eager); /* the example's model */
  unlink(path);
  if (rc != 0 || eager.lz_peak_mb <= 0) {
    bench_skip("lazy_load_peak_ratio", "a lazy_load run failed");
    bench_skip("lazy_load_rss_ratio", "a lazy_load run failed");
    return;
  }
  bench_print("lazy_load_peak_ratio", lazy.lz_peak_mb / eager.lz_peak_mb, "ratio");
  if (lazy.rss_peak_mb > 0 && eager.rss_peak_mb > 0)
    bench_print("lazy_load_rss_ratio", lazy.rss_peak_mb / eager.rss_peak_mb, "ratio");
  else
    bench_skip("lazy_load_rss_ratio", "/proc/self/status has no VmHWM");
}
#else
void bench_lazy_load(void) {
  bench_skip("lazy_load_peak_ratio", "examples/lazy_load is not in the tree");
  bench_skip("lazy_load_rss_ratio", "examples/lazy_load is not in the tree");
}
#endif
