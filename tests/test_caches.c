/* lz_clear_cache empties every cache: the allocator's buffers and the kernels' per-shape caches
 * (oneDNN convolution and matmul primitives, oneDNN's own primitive cache, FFTW plans), and the
 * ops of cleared shapes still compute the same values afterwards. (Clearing while other threads
 * run those ops: test_concurrency, under ThreadSanitizer.) */
#include "lz_test.h"

#include <oneapi/dnnl/dnnl.h>

#include "cpu/conv.h"
#include "cpu/fft.h"
#include "cpu/gemm.h"

static lz_array *ramp(const int *shape, int ndim, float scale) {
  size_t n = 1;
  for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
  float *v = malloc(n * sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = (float)((i * 29) % 53) * scale - 0.5f;
  lz_array *a = lz_array_from_data(v, shape, ndim, LZ_FLOAT32);
  free(v);
  return a;
}

/* A convolution (on oneDNN's path), an FFT and a matmul on oneDNN's matmul primitive; their
 * results in out (conv: 2*6*6*8 floats, fft: 2*64, matmul: 24*40). */
enum { CONV_N = 2 * 6 * 6 * 8, FFT_N = 2 * 64, MM_M = 24, MM_N = 40, MM_K = 32 };
static void run_ops(float *conv, float *fft, float *mm) {
  lz_scope_begin();
  lz_array *x = ramp((int[]){2, 8, 8, 3}, 4, 0.02f), *w = ramp((int[]){8, 3, 3, 3}, 4, 0.03f);
  lz_array *y = lz_conv2d(x, w, 1, 1, 0, 0, 1, 1, 1);
  CHECK(y && lz_array_read(y, LZ_FLOAT32, conv, CONV_N * sizeof *conv) == 0);
  lz_array *f = lz_fft(ramp((int[]){64}, 1, 0.01f), 64, 0);
  CHECK(f && lz_array_read(f, LZ_COMPLEX64, fft, FFT_N * sizeof *fft) == 0);
  lz_scope_end();
  float A[MM_M * MM_K], B[MM_K * MM_N];
  for (int i = 0; i < MM_M * MM_K; i++) A[i] = (float)(i % 7) - 3;
  for (int i = 0; i < MM_K * MM_N; i++) B[i] = (float)(i % 5) * 0.5f;
  CHECK(lz_cpu_onednn_matmul(LZ_FLOAT32, LZ_FLOAT32, MM_M, MM_N, MM_K, 1.0f, 0.0f, A, MM_K, 1, B,
                             MM_N, 1, mm, MM_N) == 0);
  for (int i = 0; i < MM_M; i++) /* small integers and halves: exact */
    for (int j = 0; j < MM_N; j++) {
      float s = 0;
      for (int k = 0; k < MM_K; k++) s += A[i * MM_K + k] * B[k * MM_N + j];
      if (mm[i * MM_N + j] != s) {
        CHECK(mm[i * MM_N + j] == s);
        return;
      }
    }
}

static void test_clear_cache_empties_kernel_caches(void) {
  static float c0[CONV_N], f0[FFT_N], m0[MM_M * MM_N], c1[CONV_N], f1[FFT_N], m1[MM_M * MM_N];
  run_ops(c0, f0, m0);
  CHECK(lz_cpu_conv_cache_count() > 0);
  CHECK(lz_cpu_fft_plan_count() > 0);
  CHECK(lz_cpu_gemm_cache_count() > 0);
  int cap0 = -1, cap1 = -2;
  CHECK(dnnl_get_primitive_cache_capacity(&cap0) == dnnl_success);
  long created = lz_cpu_conv_created();
  lz_clear_cache();
  CHECK(lz_cpu_conv_cache_count() == 0);
  CHECK(lz_cpu_fft_plan_count() == 0);
  CHECK(lz_cpu_gemm_cache_count() == 0);
  CHECK(lz_get_cache_memory() == 0);
  /* oneDNN's own cache was emptied by setting its capacity to 0: the capacity is restored */
  CHECK(dnnl_get_primitive_cache_capacity(&cap1) == dnnl_success && cap1 == cap0);
  run_ops(c1, f1, m1); /* every cache is filled again, with the same results */
  CHECK(lz_cpu_conv_created() == created + 1);
  CHECK(lz_cpu_conv_cache_count() > 0 && lz_cpu_fft_plan_count() > 0);
  CHECK(lz_cpu_gemm_cache_count() > 0);
  CHECK(memcmp(c0, c1, sizeof c0) == 0);
  CHECK(memcmp(f0, f1, sizeof f0) == 0);
  CHECK(memcmp(m0, m1, sizeof m0) == 0);
  /* the values themselves: the convolution against the reference path, the FFT's DC term */
  lz_cpu_conv_set_path(LZ_CONV_PATH_REF);
  float r[CONV_N];
  lz_scope_begin();
  lz_array *x = ramp((int[]){2, 8, 8, 3}, 4, 0.02f), *w = ramp((int[]){8, 3, 3, 3}, 4, 0.03f);
  CHECK(lz_array_read(lz_conv2d(x, w, 1, 1, 0, 0, 1, 1, 1), LZ_FLOAT32, r, sizeof r) == 0);
  lz_scope_end();
  lz_cpu_conv_set_path(-1);
  for (int i = 0; i < CONV_N; i++) CHECK_CLOSE(c1[i], r[i], 1e-5);
  double dc = 0;
  for (int i = 0; i < 64; i++) dc += (double)((i * 29) % 53) * 0.01 - 0.5;
  CHECK_CLOSE(f1[0], dc, 1e-5);
  lz_clear_cache();
}

int main(void) {
  RUN(test_clear_cache_empties_kernel_caches);
  return lzt_summary();
}
