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

/* The model-level figures (bench_models.c). */
void bench_matmul(void);
void bench_conv2d(void);
void bench_mlp(void);
void bench_transformer(void);
void bench_grad_scalar(void);
/* The compile figures (bench_compile.c). */
void bench_compile(void);
/* Reductions over each axis of a 4096x4096 matrix (bench_reduce.c). */
void bench_reduce(void);
/* Peak memory of examples/lazy_load, run as a subprocess (bench_lazy_load.c). */
void bench_lazy_load(void);
/* fused fast.* ops and the 4-bit quantized matmul (bench_fast.c) */
void bench_fast(void);
/* attention forward + backward, fused and composed; elementwise kernels on 1 and 2 threads
 * (bench_attn.c) */
void bench_attn(void);

#endif /* LZ_BENCH_H */
