/* The machine's float32 FMA peak, the limit printed beside the GEMM and convolution figures:
 * a register-blocked loop of independent FMAs on every thread at once, best of several short
 * runs (on a shared machine the best run is the one that had the cores). */
#include <pthread.h>

#include "bench.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BENCH_X86 1
#endif

enum { PEAK_ITERS = 4000000, PEAK_RUNS = 15 };

#ifdef BENCH_X86
/* 12 independent accumulators cover FMA latency (4-5 cycles) x 2 pipes. */
__attribute__((target("avx2,fma"))) static float fma_loop_avx2(long iters) {
  __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  /* distinct starting values: equal ones let the compiler merge the 12 chains into one */
  __m256 a0 = _mm256_set1_ps(1), a1 = _mm256_set1_ps(2), a2 = _mm256_set1_ps(3),
         a3 = _mm256_set1_ps(4), a4 = _mm256_set1_ps(5), a5 = _mm256_set1_ps(6),
         a6 = _mm256_set1_ps(7), a7 = _mm256_set1_ps(8), a8 = _mm256_set1_ps(9),
         a9 = _mm256_set1_ps(10), a10 = _mm256_set1_ps(11), a11 = _mm256_set1_ps(12);
  for (long i = 0; i < iters; i++) {
#define F(x) x = _mm256_fmadd_ps(x, m, c)
    F(a0), F(a1), F(a2), F(a3), F(a4), F(a5), F(a6), F(a7), F(a8), F(a9), F(a10), F(a11);
#undef F
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                           _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
  s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}

__attribute__((target("avx512f"))) static float fma_loop_avx512(long iters) {
  __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  __m512 a0 = _mm512_set1_ps(1), a1 = _mm512_set1_ps(2), a2 = _mm512_set1_ps(3),
         a3 = _mm512_set1_ps(4), a4 = _mm512_set1_ps(5), a5 = _mm512_set1_ps(6),
         a6 = _mm512_set1_ps(7), a7 = _mm512_set1_ps(8), a8 = _mm512_set1_ps(9),
         a9 = _mm512_set1_ps(10), a10 = _mm512_set1_ps(11), a11 = _mm512_set1_ps(12);
  for (long i = 0; i < iters; i++) {
#define F(x) x = _mm512_fmadd_ps(x, m, c)
    F(a0), F(a1), F(a2), F(a3), F(a4), F(a5), F(a6), F(a7), F(a8), F(a9), F(a10), F(a11);
#undef F
  }
  __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                           _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
  s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
  return _mm512_reduce_add_ps(s);
}
#endif

typedef struct peak_job {
  int wide; /* 1: AVX-512 */
  volatile float sink;
} peak_job;

static void *peak_main(void *arg) {
  peak_job *j = arg;
#ifdef BENCH_X86
  j->sink = j->wide ? fma_loop_avx512(PEAK_ITERS) : fma_loop_avx2(PEAK_ITERS);
#endif
  return NULL;
}

double bench_fma_peak_gflops(int wide, int threads) {
#ifdef BENCH_X86
  __builtin_cpu_init();
  if (wide ? !__builtin_cpu_supports("avx512f")
           : !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))
    return 0;
#else
  return 0;
#endif
  double best = 0;
  for (int r = 0; r < PEAK_RUNS; r++) {
    pthread_t th[256];
    peak_job jobs[256];
    int n = threads < 256 ? threads : 256, started = 0;
    double t0 = bench_now();
    for (int i = 0; i < n; i++) {
      jobs[i].wide = wide;
      if (pthread_create(&th[i], NULL, peak_main, &jobs[i]) == 0)
        started++;
      else
        break;
    }
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    double t = bench_now() - t0;
    double flops = (double)started * PEAK_ITERS * 12 * (wide ? 16 : 8) * 2;
    if (flops / t / 1e9 > best) best = flops / t / 1e9;
  }
  return best;
}

