/* GEMM figures: the machine's FMA peak (AVX2, and AVX-512 where the CPU has it; bench_peak.c),
 * then lz_matmul per backend (LZ_GEMM=openblas, onednn and auto, each in a child process since
 * the backend is fixed per process), run twice in alternation so that load drift hits all
 * alike; each figure is the best of its runs.
 * Printed per shape class, each float32 rate with its fraction of the peak: n=1024 (plain, A
 * transposed, B transposed) and 4096; the MLP's layers 256x784 @ 784x512 and 256x512 @ 512x512
 * with the first one's weight gradient (784x256 @ 256x512, A transposed); its head 256x512 @
 * 512x10 and the head's input gradient (256x10 @ 10x512, B transposed); attention's batched
 * 64 x (128x64 @ 64x128) and 64 x (128x128 @ 128x64); bf16 and f16 at 1024 with their ratio to
 * f32; the system-time share of a GEMM loop and the CPU time idle threads burn in the 100 ms
 * after a GEMM (spinning); and each backend's ratio to OpenBLAS. */
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BENCH_X86 1
#endif

/* ---- one backend's figures (in a child process) ---- */

typedef struct mm_ctx {
  lz_array *a, *b;
} mm_ctx;

static int run_mm(void *ctx) {
  mm_ctx *m = ctx;
  lz_scope_begin();
  int rc = lz_eval(lz_matmul(m->a, m->b));
  lz_scope_end();
  return rc;
}

/* Best seconds of `reps` runs after one warm-up; -1 on failure. */
static double best_time(mm_ctx *m, int reps) {
  if (run_mm(m) != 0) return -1;
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    double t0 = bench_now();
    if (run_mm(m) != 0) return -1;
    double t = bench_now() - t0;
    if (t < best) best = t;
  }
  return best;
}

static double cpu_seconds(double *sys) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  if (sys) *sys = (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
  return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
         (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

/* (rows, cols) random values, or a transposed view of a (cols, rows) array when `t`. */
static lz_array *operand(const int *shape, int nd, bool t, unsigned seed) {
  int s[3];
  for (int d = 0; d < nd; d++) s[d] = shape[d];
  if (t) s[nd - 2] = shape[nd - 1], s[nd - 1] = shape[nd - 2];
  lz_array *x = bench_rand(s, nd, -1, 1, seed);
  if (!t) return x;
  lz_array *y = lz_swapaxes(x, -1, -2);
  lz_free(x);
  return y;
}

/* Prints "gemm_<backend>_<name> GFLOP/s" for a (batch..., M, K) @ (batch..., K, N) of dtype dt,
 * A or B stored transposed when ta or tb; returns the rate (0 on failure). */
static double figure_t(const char *be, const char *name, const int *sa, const int *sb, int nd,
                       lz_dtype dt, int reps, bool ta, bool tb) {
  lz_array *a = operand(sa, nd, ta, 11), *b = operand(sb, nd, tb, 12);
  mm_ctx m = {dt == LZ_FLOAT32 ? a : lz_astype(a, dt), dt == LZ_FLOAT32 ? b : lz_astype(b, dt)};
  if (dt != LZ_FLOAT32) lz_free(a), lz_free(b);
  lz_eval(m.a), lz_eval(m.b);
  double flops = 2.0 * sb[nd - 1];
  for (int d = 0; d < nd; d++) flops *= sa[d];
  double t = best_time(&m, reps);
  char full[96];
  snprintf(full, sizeof full, "gemm_%s_%s", be, name);
  double rate = t > 0 ? flops / t / 1e9 : 0;
  if (t > 0)
    bench_print(full, rate, "GFLOP/s");
  else
    bench_skip(full, "evaluation failed"), lz_clear_error();
  lz_free(m.a), lz_free(m.b);
  return rate;
}

static double figure(const char *be, const char *name, const int *sa, const int *sb, int nd,
                     lz_dtype dt, int reps) {
  return figure_t(be, name, sa, sb, nd, dt, reps, false, false);
}

static void backend_figures(const char *be) {
  int s1024[2] = {1024, 1024}, s4096[2] = {4096, 4096};
  figure(be, "f32_1024", s1024, s1024, 2, LZ_FLOAT32, 5);
  figure_t(be, "f32_1024_ta", s1024, s1024, 2, LZ_FLOAT32, 5, true, false);
  figure_t(be, "f32_1024_tb", s1024, s1024, 2, LZ_FLOAT32, 5, false, true);
  figure(be, "f32_4096", s4096, s4096, 2, LZ_FLOAT32, 1);
  figure(be, "f32_256x784x512", (int[]){256, 784}, (int[]){784, 512}, 2, LZ_FLOAT32, 10);
  figure_t(be, "f32_784x256x512_ta", (int[]){784, 256}, (int[]){256, 512}, 2, LZ_FLOAT32, 10, true,
           false);
  figure(be, "f32_256x512x512", (int[]){256, 512}, (int[]){512, 512}, 2, LZ_FLOAT32, 10);
  figure(be, "f32_head_256x512x10", (int[]){256, 512}, (int[]){512, 10}, 2, LZ_FLOAT32, 20);
  figure_t(be, "f32_head_256x10x512_tb", (int[]){256, 10}, (int[]){10, 512}, 2, LZ_FLOAT32, 20,
           false, true);
  figure(be, "f32_attn_64x128x64x128", (int[]){64, 128, 64}, (int[]){64, 64, 128}, 3, LZ_FLOAT32,
         10);
  figure(be, "f32_attn_64x128x128x64", (int[]){64, 128, 128}, (int[]){64, 128, 64}, 3,
         LZ_FLOAT32, 10);
  figure(be, "bf16_1024", s1024, s1024, 2, LZ_BFLOAT16, 5);
  figure(be, "f16_1024", s1024, s1024, 2, LZ_FLOAT16, 5);
  /* system time over a loop of training-shape GEMMs, and CPU burnt while idle right after */
  int sa[2] = {256, 784}, sb[2] = {784, 512};
  mm_ctx m = {bench_rand(sa, 2, -1, 1, 13), bench_rand(sb, 2, -1, 1, 14)};
  double sys0, sys1, w0 = bench_now();
  cpu_seconds(&sys0);
  for (int i = 0; i < 20; i++) run_mm(&m);
  cpu_seconds(&sys1);
  char name[96];
  snprintf(name, sizeof name, "gemm_%s_sys_time_share", be);
  bench_print(name, (sys1 - sys0) / (bench_now() - w0) / lz_get_num_threads(), "fraction");
  double c0 = cpu_seconds(NULL);
  usleep(100000);
  snprintf(name, sizeof name, "gemm_%s_idle_cpu_ms_per_100ms", be);
  bench_print(name, (cpu_seconds(NULL) - c0) * 1e3, "ms");
  /* the same after a GEMM followed by one pool job (an add over 1M floats), as in training */
  int sx[1] = {1 << 20};
  lz_array *x = bench_rand(sx, 1, -1, 1, 15);
  run_mm(&m);
  lz_scope_begin();
  lz_eval(lz_add(x, x));
  lz_scope_end();
  c0 = cpu_seconds(NULL);
  usleep(100000);
  snprintf(name, sizeof name, "gemm_%s_then_add_idle_cpu_ms_per_100ms", be);
  bench_print(name, (cpu_seconds(NULL) - c0) * 1e3, "ms");
  lz_free(x), lz_free(m.a), lz_free(m.b);
}

/* ---- the parent: peaks, children, ratios ---- */

enum { MAX_FIGS = 48, NBE = 3 };
typedef struct fig {
  char name[64]; /* without the backend */
  double best[NBE];
} fig;

static fig *fig_get(fig *figs, int *n, const char *name) {
  for (int i = 0; i < *n; i++)
    if (strcmp(figs[i].name, name) == 0) return &figs[i];
  if (*n == MAX_FIGS) return NULL;
  fig *f = &figs[(*n)++];
  snprintf(f->name, sizeof f->name, "%s", name);
  for (int b = 0; b < NBE; b++) f->best[b] = -1;
  return f;
}

void bench_gemm(void) {
  const char *child = getenv("LZ_BENCH_GEMM_CHILD");
  if (child) {
    backend_figures(child);
    return;
  }
  int threads = lz_get_num_threads();
  bool avx512 = false;
  double peak2 = 0, peak5 = 0;
#ifdef BENCH_X86
  __builtin_cpu_init();
  avx512 = __builtin_cpu_supports("avx512f");
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    peak2 = bench_fma_peak_gflops(0, threads);
    bench_print("fma_peak_avx2_gflops", peak2, "GFLOP/s");
  }
  if (avx512) {
    peak5 = bench_fma_peak_gflops(1, threads);
    bench_print("fma_peak_avx512_gflops", peak5, "GFLOP/s");
  }
#endif
  double peak = peak5 > 0 ? peak5 : peak2;
  printf("gemm_default_backend %s\n", avx512 ? "onednn" : "auto");
  char self[4096];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) {
    bench_skip("gemm_backends", "cannot find this program to run the backends");
    return;
  }
  self[len] = '\0';
  static const char *const backends[NBE] = {"openblas", "onednn", "auto"};
  fig figs[MAX_FIGS];
  int nfigs = 0;
  for (int round = 0; round < 2; round++) {
    for (int b = 0; b < NBE; b++) {
      char cmd[4400];
      snprintf(cmd, sizeof cmd, "LZ_GEMM=%s LZ_BENCH_GEMM_CHILD=%s '%s' gemm 2>/dev/null",
               backends[b], backends[b], self);
      FILE *p = popen(cmd, "r");
      if (!p) continue;
      char line[256], name[128], unit[64];
      double v;
      size_t plen = strlen(backends[b]) + 6; /* "gemm_<backend>_" */
      while (fgets(line, sizeof line, p)) {
        if (sscanf(line, "%127s %lf %63s", name, &v, unit) != 3) continue;
        if (strncmp(name, "gemm_", 5) != 0 || strlen(name) <= plen) continue;
        fig *f = fig_get(figs, &nfigs, name + plen);
        if (!f) continue;
        bool lower_better = strstr(name, "_ms") || strstr(name, "share");
        if (f->best[b] < 0 || (lower_better ? v < f->best[b] : v > f->best[b])) f->best[b] = v;
      }
      pclose(p);
    }
  }
  for (int b = 0; b < NBE; b++) {
    double f32 = -1;
    for (int i = 0; i < nfigs; i++) {
      fig *f = &figs[i];
      if (f->best[b] < 0) continue;
      char name[128];
      bool rate = !strstr(f->name, "_ms") && !strstr(f->name, "share");
      snprintf(name, sizeof name, "gemm_%s_%.60s", backends[b], f->name);
      bench_print(name, f->best[b],
                  rate                       ? "GFLOP/s"
                  : strstr(f->name, "share") ? "fraction"
                                             : "ms");
      if (strcmp(f->name, "f32_1024") == 0) f32 = f->best[b];
      if (rate && peak > 0 && strncmp(f->name, "f32_", 4) == 0) {
        snprintf(name, sizeof name, "gemm_%s_%.60s_of_peak", backends[b], f->name);
        bench_print(name, f->best[b] / peak, "fraction");
      }
      if (f32 > 0 && (strcmp(f->name, "bf16_1024") == 0 || strcmp(f->name, "f16_1024") == 0)) {
        snprintf(name, sizeof name, "gemm_%s_%.60s_vs_f32", backends[b], f->name);
        bench_print(name, f->best[b] / f32, "ratio");
      }
    }
  }
  for (int b = 1; b < NBE; b++) { /* oneDNN and auto over OpenBLAS, rates only */
    for (int i = 0; i < nfigs; i++) {
      fig *f = &figs[i];
      if (strstr(f->name, "_ms") || strstr(f->name, "share") || f->best[0] <= 0 ||
          f->best[b] <= 0)
        continue;
      char name[128];
      snprintf(name, sizeof name, "gemm_%s_vs_openblas_%.60s", backends[b], f->name);
      bench_print(name, f->best[b] / f->best[0], "ratio");
    }
  }
}
