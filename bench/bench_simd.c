/* Per kernel path (LZ_CPU=scalar, avx2, avx512): ns per element of the main vector kernels on
 * one thread, on 64K float32 (in L2, so the kernel and not memory is timed). Each path runs
 * in a child process started with LZ_CPU set, since the library reads the path once. The
 * emulated AVX-512 path is for tests and is not timed; on a CPU without AVX-512 the avx512
 * figures print "skip". */
#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

enum { N = 1 << 16 };

typedef struct {
  lz_array *x, *h, *w;
  int kind;
} simd_ctx;

enum { K_EXP, K_LOG, K_TANH, K_SIGMOID, K_ERF, K_SUM, K_MAX, K_ARGMAX, K_SOFTMAX, K_LAYERNORM,
       K_TO_BF16, K_FROM_F16, K_COUNT };
static const char *const kernel_names[K_COUNT] = {
    "exp", "log", "tanh", "sigmoid", "erf", "sum_rows", "max_rows", "argmax_rows", "softmax_rows",
    "layer_norm_rows", "astype_f32_bf16", "astype_f16_f32"};

static int run_kernel(void *vctx) {
  simd_ctx *c = vctx;
  lz_scope_begin();
  int rs[2] = {N / 512, 512};
  lz_array *rows = lz_reshape(c->x, rs, 2), *y = NULL;
  switch (c->kind) {
  case K_EXP: y = lz_exp(c->x); break;
  case K_LOG: y = lz_log(lz_abs(c->x)); break;
  case K_TANH: y = lz_tanh(c->x); break;
  case K_SIGMOID: y = lz_sigmoid(c->x); break;
  case K_ERF: y = lz_erf(c->x); break;
  case K_SUM: y = lz_sum_axis(rows, 1, false); break;
  case K_MAX: y = lz_max_axis(rows, 1, false); break;
  case K_ARGMAX: y = lz_argmax_axis(rows, 1, false); break;
  case K_SOFTMAX: y = lz_softmax_axis(rows, 1, false); break;
  case K_LAYERNORM: y = lz_fast_layer_norm(rows, c->w, c->w, 1e-5); break;
  case K_TO_BF16: y = lz_astype(c->x, LZ_BFLOAT16); break;
  case K_FROM_F16: y = lz_astype(c->h, LZ_FLOAT32); break;
  default: break;
  }
  int rc = y ? lz_eval(y) : -1;
  lz_scope_end();
  return rc;
}

/* The child: times every kernel on the path LZ_CPU names. */
static void bench_simd_child(const char *path) {
  int old = lz_set_num_threads(1), shape[1] = {N}, ws[1] = {512};
  simd_ctx c = {bench_rand(shape, 1, -4, 4, 11), NULL, bench_rand(ws, 1, 0.5f, 1.5f, 12), 0};
  c.h = lz_astype(c.x, LZ_FLOAT16);
  lz_eval(c.h);
  char name[96];
  for (int k = 0; k < K_COUNT; k++) {
    c.kind = k;
    double t = bench_time(run_kernel, &c, 31);
    snprintf(name, sizeof name, "simd_%s_%s_ns_per_elem", kernel_names[k], path);
    if (t < 0) bench_skip(name, "evaluation failed");
    else bench_print(name, t * 1e9 / N, "ns");
  }
  lz_free(c.x), lz_free(c.h), lz_free(c.w);
  lz_set_num_threads(old);
}

void bench_simd(void) {
  const char *child = getenv("LZ_BENCH_SIMD_CHILD");
  if (child) { /* we are the child: time this path and stop */
    bench_simd_child(child);
    return;
  }
  static const char *const paths[] = {"scalar", "avx2", "avx512"};
  __builtin_cpu_init();
  for (int p = 0; p < 3; p++) {
    bool have = p == 0 || (p == 1 ? __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
                                  : __builtin_cpu_supports("avx512f") &&
                                        __builtin_cpu_supports("avx512bw") &&
                                        __builtin_cpu_supports("avx512dq") &&
                                        __builtin_cpu_supports("avx512vl"));
    if (!have) {
      char name[96];
      for (int k = 0; k < K_COUNT; k++) {
        snprintf(name, sizeof name, "simd_%s_%s_ns_per_elem", kernel_names[k], paths[p]);
        bench_skip(name, "CPU without this path");
      }
      continue;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      setenv("LZ_CPU", paths[p], 1);
      setenv("LZ_BENCH_SIMD_CHILD", paths[p], 1);
      execl("/proc/self/exe", "lz_bench", "simd", (char *)NULL);
      _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
      fprintf(stderr, "lz_bench: the %s child failed\n", paths[p]);
  }
}
