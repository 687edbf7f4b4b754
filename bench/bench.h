/* The benchmark harness shared by the lz_bench files: timing, medians, output lines, and weak
 * references to ops other engineers are still writing (NULL until the library defines them). */
#ifndef LZ_BENCH_H
#define LZ_BENCH_H

#include <lazuli.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Ops referenced weakly: lz_bench links the shared library, so a missing op is a NULL pointer
 * at run time (its figure prints "skip") instead of a link error. */
#pragma weak lz_exp
#pragma weak lz_sin
#pragma weak lz_tanh
#pragma weak lz_sum
#pragma weak lz_sum_axis
#pragma weak lz_mean_axis
#pragma weak lz_var_axis
#pragma weak lz_rsqrt
#pragma weak lz_softmax_axis
#pragma weak lz_logsumexp_axis
#pragma weak lz_matmul
#pragma weak lz_transpose
#pragma weak lz_reshape
#pragma weak lz_swapaxes
#pragma weak lz_mean
#pragma weak lz_square
#pragma weak lz_maximum
#pragma weak lz_closure_new
#pragma weak lz_closure_free
#pragma weak lz_closure_call
#pragma weak lz_value_and_grad
#pragma weak lz_grad

static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int bench_cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static inline double bench_median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, bench_cmp);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The smallest of v[0..n): the run least disturbed by other work on a shared machine. Ratios
 * between figures timed interleaved (a figure and its limit, compiled and uncompiled) use
 * it; the figures themselves are medians. */
static inline double bench_min(const double *v, int n) {
  double m = v[0];
  for (int i = 1; i < n; i++) m = v[i] < m ? v[i] : m;
  return m;
}

static inline void bench_print(const char *name, double value, const char *unit) {
  printf("%s %.4g %s\n", name, value, unit);
  fflush(stdout);
}

static inline void bench_skip(const char *name, const char *reason) {
  printf("%s skip %s\n", name, reason);
  fflush(stdout);
}

/* A float32 array of `shape` with values from a fixed LCG in [lo, hi), evaluated. */
lz_array *bench_rand(const int *shape, int ndim, float lo, float hi, unsigned seed);
/* Seconds of one call of fn(ctx) (which builds, evaluates and frees), median of `reps` after
 * one warm-up call; -1 if fn returned nonzero. */
double bench_time(int (*fn)(void *ctx), void *ctx, int reps);

/* The hand-written limits (bench_limits.c), each timed one run at a time so that callers
 * interleave them with the figures they bound. STREAM copy of 16M floats on a persistent team
 * of nth threads (bench_stream_bytes: bytes read + written per run); chain8 fused into one pass
 * over x with the library's vector math; layer norm of the 2-d x with weight w (bias 0.1,
 * eps 1e-5) in one pass over memory; softmax over the rows of x and rms norm (eps 1e-6,
 * weight w) likewise. _new returns NULL on failure; runs return seconds. */
typedef struct bench_stream bench_stream;
bench_stream *bench_stream_new(void);
double bench_stream_bytes(const bench_stream *s);
double bench_stream_copy(bench_stream *s, int nth);
void bench_stream_free(bench_stream *s);
typedef struct bench_limit bench_limit;
bench_limit *bench_chain8_limit_new(lz_array *x);
bench_limit *bench_layer_norm_limit_new(lz_array *x, lz_array *w);
bench_limit *bench_softmax_limit_new(lz_array *x);
bench_limit *bench_rms_norm_limit_new(lz_array *x, lz_array *w);
double bench_limit_run(bench_limit *l);
void bench_limit_free(bench_limit *l);

/* The model-level figures (bench_models.c). */
void bench_matmul(void);
void bench_transformer_block(void);
void bench_grad_scalar(void);
/* Convolutions on both paths with their floors (bench_conv.c). */
void bench_conv2d(void);
/* The compile figures (bench_compile.c). */
void bench_compile(void);
/* Reductions over each axis of a 4096x4096 matrix (bench_reduce.c). */
void bench_reduce(void);
/* float16/bfloat16 add, exp and sum on 16M elements beside STREAM (bench_half.c). */
void bench_half(void);
/* ns per element of the vector kernels on each kernel path, LZ_CPU=scalar|avx2|avx512
 * (bench_simd.c). */
void bench_simd(void);
/* Peak memory of examples/lazy_load, run as a subprocess (bench_lazy_load.c). */
void bench_lazy_load(void);
/* The named whole training steps, uncompiled and compiled, with faults per step and the GEMM
 * floor (bench_train.c). */
void bench_mlp(void);
void bench_transformer(void);
/* fused fast.* ops and the 4-bit quantized matmul (bench_fast.c) */
void bench_fast(void);
/* all_sum bandwidth and the data-parallel MNIST step on 2 MPI ranks (bench_distributed.c). */
void bench_distributed(void);
/* GFLOP/s of float32 FMAs on `threads` threads at once (wide: AVX-512, else AVX2+FMA); 0 when
 * the CPU lacks that path (bench_peak.c). */
double bench_fma_peak_gflops(int wide, int threads);
/* FMA peaks and matmul per GEMM backend, bf16/f16 included (bench_gemm.c). */
void bench_gemm(void);
/* matmul + elementwise consumers compiled with and without the GEMM epilogue
 * (bench_epilogue.c) */
void bench_epilogue(void);
/* attention forward + backward, fused and composed; elementwise kernels on 1 and 2 threads
 * (bench_attn.c) */
void bench_attn(void);
/* Cholesky, QR and SVD of 2048x2048 on OpenBLAS's threads against one thread (bench_linalg.c). */
void bench_linalg(void);

#endif /* LZ_BENCH_H */
