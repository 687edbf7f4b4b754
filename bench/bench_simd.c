/* Per kernel path (LZ_CPU=scalar, avx2, avx512): ns per element of the main vector kernels on
 * one thread, on 64K float32 (in L2, so the kernel and not memory is timed), and µs per call of
 * the blocked kernels with 16-lane paths (cpu/simd16_blocks.h): quantized matmul decoding one
 * token (4-bit and 3-bit weights, 2048x1024), attention forward and its fused gradient (one
 * head of 256 queries and keys, dim 64) and a depthwise 3x3 convolution on the reference path. Each path runs
 * in a child process started with LZ_CPU set, since the library reads the path once. The
 * emulated AVX-512 path is for tests and is not timed; on a CPU without AVX-512 the avx512
 * figures print "skip". */
#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

enum { N = 1 << 16 };

typedef struct {
  lz_array *x, *h, *w, *w2;
  int kind;
} simd_ctx;

enum { K_MUL, K_ADD_SCALAR, K_MAXIMUM, K_EXP, K_LOG, K_TANH, K_SIGMOID, K_ERF, K_SUM, K_MAX, K_ARGMAX, K_SOFTMAX, K_LAYERNORM,
       K_TO_BF16, K_FROM_F16, K_COUNT };
static const char *const kernel_names[K_COUNT] = {
    "multiply", "add_scalar", "maximum", "exp", "log", "tanh", "sigmoid", "erf", "sum_rows", "max_rows", "argmax_rows", "softmax_rows",
    "layer_norm_rows", "astype_f32_bf16", "astype_f16_f32"};

static int run_kernel(void *vctx) {
  simd_ctx *c = vctx;
  lz_scope_begin();
  int rs[2] = {N / 512, 512};
  lz_array *rows = lz_reshape(c->x, rs, 2), *y = NULL;
  switch (c->kind) {
  case K_MUL: y = lz_multiply(c->x, c->x); break;
  case K_ADD_SCALAR: y = lz_add(c->x, lz_float(1.0f)); break;
  case K_MAXIMUM: y = lz_maximum(c->x, c->w2); break;
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

/* ---- the blocked kernels, µs per call ---- */

enum { B_QMM4, B_QMM3, B_SDPA, B_SDPA_GRAD, B_DEPTHWISE, B_COUNT };
static const char *const block_names[B_COUNT] = {"qmm_4bit_m1_2048x1024", "qmm_3bit_m1_2048x1024",
                                                 "sdpa_256x64", "sdpa_grad_256x64",
                                                 "depthwise3x3_32x32x64"};

typedef struct {
  lz_array *x, *wq[2][3], *q, *k, *v, *cot, *img, *dw;
  int kind;
} block_ctx;

static int f_attn(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_fast_scaled_dot_product_attention(in[0], in[1], in[2], 0.125, NULL, NULL);
  return out[0] ? 1 : -1;
}

static int run_block(void *vctx) {
  block_ctx *c = vctx;
  lz_scope_begin();
  lz_array *y = NULL, *g[3] = {0};
  int rc = -1;
  switch (c->kind) {
  case B_QMM4:
  case B_QMM3: {
    lz_array **w = c->wq[c->kind == B_QMM3];
    y = lz_quantized_matmul(c->x, w[0], w[1], w[2], true, 64, c->kind == B_QMM3 ? 3 : 4);
    break;
  }
  case B_SDPA: y = lz_fast_scaled_dot_product_attention(c->q, c->k, c->v, 0.125, NULL, NULL); break;
  case B_SDPA_GRAD: {
    lz_closure *f = lz_closure_new(f_attn, NULL, NULL);
    lz_array *in[3] = {c->q, c->k, c->v};
    if (f && lz_vjp(f, in, 3, &c->cot, 1, NULL, g) == 0) rc = lz_eval(g[0]) || lz_eval(g[1]) || lz_eval(g[2]) ? -1 : 0;
    lz_closure_free(f);
    lz_scope_end();
    return rc;
  }
  case B_DEPTHWISE: y = lz_conv2d(c->img, c->dw, 1, 1, 1, 1, 1, 1, 64); break;
  default: break;
  }
  rc = y ? lz_eval(y) : -1;
  lz_scope_end();
  return rc;
}

static void bench_blocks_child(const char *path) {
  int old = lz_set_num_threads(1);
  block_ctx c = {0};
  c.x = bench_rand((int[]){1, 1024}, 2, -1, 1, 21);
  lz_array *w = bench_rand((int[]){2048, 1024}, 2, -1, 1, 22);
  for (int b = 0; b < 2; b++) lz_quantize(w, 64, b ? 3 : 4, c.wq[b]);
  c.q = bench_rand((int[]){1, 1, 256, 64}, 4, -1, 1, 23);
  c.k = bench_rand((int[]){1, 1, 256, 64}, 4, -1, 1, 24);
  c.v = bench_rand((int[]){1, 1, 256, 64}, 4, -1, 1, 25);
  c.cot = bench_rand((int[]){1, 1, 256, 64}, 4, -1, 1, 26);
  c.img = bench_rand((int[]){1, 32, 32, 64}, 4, -1, 1, 27);
  c.dw = bench_rand((int[]){64, 3, 3, 1}, 4, -1, 1, 28);
  lz_array *all[] = {c.x, c.q, c.k, c.v, c.cot, c.img, c.dw};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) lz_eval(all[i]);
  for (int b = 0; b < 2; b++)
    for (int i = 0; i < 3; i++) lz_eval(c.wq[b][i]);
  const char *conv = getenv("LZ_CONV");
  char *saved = conv ? strdup(conv) : NULL;
  char name[96];
  for (int k = 0; k < B_COUNT; k++) {
    c.kind = k;
    if (k == B_DEPTHWISE) setenv("LZ_CONV", "ref", 1); /* the direct loop, not oneDNN */
    double t = bench_time(run_block, &c, 21);
    snprintf(name, sizeof name, "simd_%s_%s_us", block_names[k], path);
    if (t < 0) bench_skip(name, "evaluation failed");
    else bench_print(name, t * 1e6, "us");
  }
  if (saved) setenv("LZ_CONV", saved, 1);
  else unsetenv("LZ_CONV");
  free(saved);
  lz_free(w);
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) lz_free(all[i]);
  for (int b = 0; b < 2; b++)
    for (int i = 0; i < 3; i++) lz_free(c.wq[b][i]);
  lz_set_num_threads(old);
}

/* The child: times every kernel on the path LZ_CPU names. */
static void bench_simd_child(const char *path) {
  int old = lz_set_num_threads(1), shape[1] = {N}, ws[1] = {512};
  simd_ctx c = {bench_rand(shape, 1, -4, 4, 11), NULL, bench_rand(ws, 1, 0.5f, 1.5f, 12),
                bench_rand(shape, 1, -4, 4, 13), 0};
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
  lz_free(c.x), lz_free(c.h), lz_free(c.w), lz_free(c.w2);
  lz_set_num_threads(old);
  bench_blocks_child(path);
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
      for (int k = 0; k < B_COUNT; k++) {
        snprintf(name, sizeof name, "simd_%s_%s_us", block_names[k], paths[p]);
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
