/* float16/bfloat16 GEMM (see gemm.h). Natively on oneDNN where the CPU has the instructions;
 * otherwise the float32 GEMM runs on blocks of A and B converted on the fly into a small
 * scratch: C is computed MB x NB at a time, summed over K in KB slices, and rounded once. Each
 * element of A is converted N/NB times and each of B M/MB times, about 1/200 of the multiply-
 * adds, with AVX2/F16C rows where the source is contiguous. */
#include <stdint.h>

#include "../core/threads.h"
#include "gemm.h"
#include "half.h"
#include "linalg_pack.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

enum { MB = 256, NB = 1024, KB = 512 };

#ifdef HAVE_X86
__attribute__((target("avx2,f16c"))) static void row_f16_avx2(float *d, const uint16_t *s,
                                                               int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(d + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + i))));
  for (; i < n; i++) d[i] = lz_h2f(s[i]);
}

__attribute__((target("avx2"))) static void row_bf16_avx2(float *d, const uint16_t *s,
                                                          int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(s + i)));
    _mm256_storeu_ps(d + i, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)));
  }
  for (; i < n; i++) d[i] = lz_b2f(s[i]);
}

/* d[0..n) = s[0..n) rounded to nearest even, NaN kept quiet (as lz_f2h / lz_f2b). */
__attribute__((target("avx2,f16c"))) static void row_to_f16_avx2(uint16_t *d, const float *s,
                                                                  int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128((__m128i *)(d + i), _mm256_cvtps_ph(_mm256_loadu_ps(s + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; i++) d[i] = lz_f2h(s[i]);
}

__attribute__((target("avx2"))) static void row_to_bf16_avx2(uint16_t *d, const float *s,
                                                             int64_t n) {
  const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
  const __m256i one = _mm256_set1_epi32(1), half = _mm256_set1_epi32(0x7fff);
  const __m256i quiet = _mm256_set1_epi32(0x40);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i u = _mm256_castps_si256(_mm256_loadu_ps(s + i));
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), one);
    __m256i r = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(half, lsb)), 16);
    __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, abs_mask), inf);
    r = _mm256_blendv_epi8(r, _mm256_or_si256(_mm256_srli_epi32(u, 16), quiet), nan);
    __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
    _mm_storeu_si128((__m128i *)(d + i), _mm256_castsi256_si128(packed));
  }
  for (; i < n; i++) d[i] = lz_f2b(s[i]);
}

static bool have_avx2_f16c(void) {
  static int have = -1; /* benign race: every thread computes the same value */
  if (have < 0) {
    __builtin_cpu_init();
    have = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
  }
  return have;
}
#endif

/* d[0..n) = s[0..n) (contiguous) widened to float32. */
static void row_to_f32(float *d, const uint16_t *s, int64_t n, bool bf16) {
#ifdef HAVE_X86
  if (have_avx2_f16c()) {
    if (bf16)
      row_bf16_avx2(d, s, n);
    else
      row_f16_avx2(d, s, n);
    return;
  }
#endif
  for (int64_t i = 0; i < n; i++) d[i] = bf16 ? lz_b2f(s[i]) : lz_h2f(s[i]);
}

/* d[0..n) = s[0..n) narrowed to float16 or bfloat16. */
static void row_from_f32(uint16_t *d, const float *s, int64_t n, bool bf16) {
#ifdef HAVE_X86
  if (have_avx2_f16c()) {
    if (bf16)
      row_to_bf16_avx2(d, s, n);
    else
      row_to_f16_avx2(d, s, n);
    return;
  }
#endif
  for (int64_t i = 0; i < n; i++) d[i] = bf16 ? lz_f2b(s[i]) : lz_f2h(s[i]);
}

/* Widens the (rows, cols) block at s (element strides rs, cs) into d. Returns false when d holds
 * it row-major (leading dimension cols), true when d holds its transpose (leading dimension rows),
 * whichever keeps the source reads contiguous. */
static bool load_block(float *d, const uint16_t *s, int64_t rows, int64_t cols, int64_t rs,
                       int64_t cs, bool bf16) {
  if (cs == 1 || cols == 1) {
    for (int64_t i = 0; i < rows; i++) row_to_f32(d + i * cols, s + i * rs, cols, bf16);
    return false;
  }
  if (rs == 1 || rows == 1) {
    for (int64_t j = 0; j < cols; j++) row_to_f32(d + j * rows, s + j * cs, rows, bf16);
    return true;
  }
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) {
      uint16_t v = s[i * rs + j * cs];
      d[i * cols + j] = bf16 ? lz_b2f(v) : lz_h2f(v);
    }
  return false;
}

typedef struct half_job {
  bool bf16;
  int64_t M, N, K, mb, nb, kb, ntn; /* ntn: tiles along N */
  float alpha;
  int64_t ars, acs, brs, bcs, ldc;
  const uint16_t *a, *b;
  uint16_t *c;
  atomic_bool failed;
} half_job;

/* Tiles [begin, end) of C, each mb x nb, summed over K in kb slices with one thread's GEMM. */
static void half_tiles(void *ctx, int64_t begin, int64_t end) {
  half_job *j = ctx;
  int64_t mb = j->mb, nb = j->nb, kb = j->kb;
  size_t cap;
  float *fa = lz__data_alloc((size_t)(mb * kb + kb * nb + mb * nb) * sizeof(float), &cap);
  if (!fa) {
    atomic_store(&j->failed, true);
    return;
  }
  float *fb = fa + mb * kb, *fc = fb + kb * nb;
  for (int64_t t = begin; t < end; t++) {
    int64_t m0 = t / j->ntn * mb, n0 = t % j->ntn * nb;
    int64_t m = j->M - m0 < mb ? j->M - m0 : mb, n = j->N - n0 < nb ? j->N - n0 : nb;
    for (int64_t k0 = 0; k0 < j->K; k0 += kb) {
      int64_t k = j->K - k0 < kb ? j->K - k0 : kb;
      bool ta = load_block(fa, j->a + m0 * j->ars + k0 * j->acs, m, k, j->ars, j->acs, j->bf16);
      bool tb = load_block(fb, j->b + k0 * j->brs + n0 * j->bcs, k, n, j->brs, j->bcs, j->bf16);
      lz_cpu_gemm_serial(ta, tb, m, n, k, j->alpha, fa, ta ? m : k, fb, tb ? k : n,
                         k0 ? 1.0f : 0.0f, fc, n);
    }
    for (int64_t i = 0; i < m; i++) row_from_f32(j->c + (m0 + i) * j->ldc + n0, fc + i * n, n, j->bf16);
  }
  lz__data_free(fa, cap);
}

static int64_t tiles(int64_t M, int64_t N, int64_t mb, int64_t nb) {
  return ((M + mb - 1) / mb) * ((N + nb - 1) / nb);
}

int lz_cpu_gemm_half(lz_dtype dt, int64_t M, int64_t N, int64_t K, float alpha, const void *A,
                     int64_t ars, int64_t acs, const void *B, int64_t brs, int64_t bcs, void *C,
                     int64_t ldc) {
  if (M <= 0 || N <= 0) return 0;
  uint16_t *c = C;
  if (K <= 0) {
    for (int64_t i = 0; i < M; i++) memset(c + i * ldc, 0, (size_t)N * sizeof *c);
    return 0;
  }
  if (lz_cpu_gemm_half_native(dt) &&
      lz_cpu_onednn_matmul(dt, dt, M, N, K, alpha, 0, A, ars, acs, B, brs, bcs, C, ldc) == 0)
    return 0;
  half_job j = {.bf16 = dt == LZ_BFLOAT16, .M = M, .N = N, .K = K, .alpha = alpha, .ars = ars,
                .acs = acs, .brs = brs, .bcs = bcs, .ldc = ldc, .a = A, .b = B, .c = C};
  /* Why tiles on our pool, each with a one-thread GEMM: the conversions then run in parallel
   * too, and no BLAS or OpenMP team sits spinning while one thread converts. Smaller tiles
   * (down to 64 x 256) only where the threads would otherwise lack work. */
  int64_t want = 2 * (int64_t)lz__num_threads();
  j.mb = M < MB ? M : MB, j.nb = N < NB ? N : NB, j.kb = K < KB ? K : KB;
  while (tiles(M, N, j.mb, j.nb) < want && j.mb > 64) j.mb = (j.mb + 1) / 2;
  while (tiles(M, N, j.mb, j.nb) < want && j.nb > 256) j.nb = (j.nb + 1) / 2;
  j.ntn = (N + j.nb - 1) / j.nb;
  atomic_init(&j.failed, false);
  lz__parallel_for(tiles(M, N, j.mb, j.nb), 1, half_tiles, &j);
  return atomic_load(&j.failed) ? -1 : 0;
}
