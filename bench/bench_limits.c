/* The limits the figures are measured against, hand-written outside the library:
 *
 *   - STREAM copy on a persistent team of threads (created once, woken per run, as Lazuli's
 *     pool is), so that the bandwidth figure does not include creating threads;
 *   - chain8's fused limit: one pass over the 16M floats computing exp(x)*2 + sin(x) - x*x +
 *     tanh(x)/3 per 8-lane vector with the library's own vector math (src/cpu/vmath_avx2.c is
 *     compiled into lz_bench), each thread on its own slice;
 *   - layer norm's one-pass limit: per row of 4096 (16 KiB, L1-resident), mean, variance and
 *     the normalised, scaled and shifted row, so memory is read once and written once;
 *   - softmax's and rms norm's one-pass limits the same way: softmax's row max, then exp(x - m)
 *     stored while summed, then scaled; rms norm's sum of squares, then x * rsqrt * w.
 *
 * On a CPU without AVX2+FMA (or a clang build) the limits use the scalar libm functions. */
#include <math.h>
#include <pthread.h>

#include "../src/cpu/vmath.h"
#include "bench.h"

/* ---- a persistent team ---- */

typedef void (*team_fn)(void *ctx, int tid, int nth);

enum { TEAM_MAX = 64 };

static struct {
  pthread_mutex_t mu;
  pthread_cond_t go, done;
  unsigned gen;
  int size, nth, pending;
  team_fn fn;
  void *ctx;
  pthread_t th[TEAM_MAX];
} team = {.mu = PTHREAD_MUTEX_INITIALIZER,
          .go = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

static void *team_worker(void *arg) {
  int tid = (int)(intptr_t)arg;
  unsigned seen = 0;
  pthread_mutex_lock(&team.mu);
  for (;;) {
    while (team.gen == seen) pthread_cond_wait(&team.go, &team.mu);
    seen = team.gen;
    if (tid < team.nth) {
      team_fn fn = team.fn;
      void *ctx = team.ctx;
      int nth = team.nth;
      pthread_mutex_unlock(&team.mu);
      fn(ctx, tid, nth);
      pthread_mutex_lock(&team.mu);
    }
    if (--team.pending == 0) pthread_cond_signal(&team.done);
  }
  return NULL;
}

/* Runs fn(ctx, tid, nth) for tid < nth, the caller being thread 0; the team's threads are
 * created on first use and live until the process ends. */
static void team_run(team_fn fn, void *ctx, int nth) {
  if (nth < 1) nth = 1;
  if (nth > TEAM_MAX) nth = TEAM_MAX;
  pthread_mutex_lock(&team.mu);
  while (team.size < nth - 1) { /* workers are tids 1..size */
    if (pthread_create(&team.th[team.size], NULL, team_worker, (void *)(intptr_t)(team.size + 1)))
      break;
    pthread_detach(team.th[team.size]);
    team.size++;
  }
  if (nth > team.size + 1) nth = team.size + 1;
  team.fn = fn, team.ctx = ctx, team.nth = nth, team.pending = team.size;
  team.gen++;
  pthread_cond_broadcast(&team.go);
  pthread_mutex_unlock(&team.mu);
  fn(ctx, 0, nth);
  pthread_mutex_lock(&team.mu);
  while (team.pending > 0) pthread_cond_wait(&team.done, &team.mu);
  pthread_mutex_unlock(&team.mu);
}

/* [lo, hi) of tid's share of n, in multiples of 16 */
static void slice(size_t n, int tid, int nth, size_t *lo, size_t *hi) {
  size_t per = (n / (size_t)nth + 15) & ~(size_t)15;
  *lo = (size_t)tid * per < n ? (size_t)tid * per : n;
  *hi = *lo + per < n ? *lo + per : n;
}

/* ---- STREAM copy ---- */

typedef struct copy_ctx {
  const float *src;
  float *dst;
  size_t n;
} copy_ctx;

static void copy_part(void *arg, int tid, int nth) {
  copy_ctx *c = arg;
  size_t lo, hi;
  slice(c->n, tid, nth, &lo, &hi);
  for (size_t i = lo; i < hi; i++) c->dst[i] = c->src[i];
}

struct bench_stream {
  copy_ctx c;
};

bench_stream *bench_stream_new(void) {
  enum { N = 1 << 24 };
  bench_stream *s = malloc(sizeof *s);
  float *a = aligned_alloc(64, (size_t)N * 4), *b = aligned_alloc(64, (size_t)N * 4);
  if (!s || !a || !b) {
    free(s), free(a), free(b);
    return NULL;
  }
  for (size_t i = 0; i < N; i++) a[i] = (float)i, b[i] = 0;
  s->c = (copy_ctx){a, b, N};
  team_run(copy_part, &s->c, lz_get_num_threads()); /* creates and wakes the team */
  return s;
}

double bench_stream_bytes(const bench_stream *s) { return 2.0 * (double)s->c.n * 4; }

double bench_stream_copy(bench_stream *s, int nth) {
  double t0 = bench_now();
  team_run(copy_part, &s->c, nth);
  return bench_now() - t0;
}

void bench_stream_free(bench_stream *s) {
  if (!s) return;
  free((void *)s->c.src), free(s->c.dst);
  free(s);
}

/* ---- chain8's fused limit ---- */

typedef struct map_ctx {
  const float *x;
  float *y;
  size_t n;
  int rows, cols; /* layer norm */
  const float *w;
} map_ctx;

#ifdef LZ_HAVE_VMATH
__attribute__((target("avx2,fma"))) static void chain8_avx2(const float *x, float *y, size_t n) {
  const __m256 two = _mm256_set1_ps(2), three = _mm256_set1_ps(3);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    __m256 r = _mm256_add_ps(_mm256_mul_ps(lz__vexpf8(v), two), lz__vsinf8(v));
    r = _mm256_sub_ps(r, _mm256_mul_ps(v, v));
    r = _mm256_add_ps(r, _mm256_div_ps(lz__vtanhf8(v), three));
    _mm256_storeu_ps(y + i, r);
  }
  for (; i < n; i++) y[i] = expf(x[i]) * 2 + sinf(x[i]) - x[i] * x[i] + tanhf(x[i]) / 3;
}
#endif

static bool have_avx2(void) {
#ifdef LZ_HAVE_VMATH
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

static void chain8_part(void *arg, int tid, int nth) {
  map_ctx *c = arg;
  size_t lo, hi;
  slice(c->n, tid, nth, &lo, &hi);
#ifdef LZ_HAVE_VMATH
  if (have_avx2()) {
    chain8_avx2(c->x + lo, c->y + lo, hi - lo);
    return;
  }
#endif
  for (size_t i = lo; i < hi; i++) {
    float v = c->x[i];
    c->y[i] = expf(v) * 2 + sinf(v) - v * v + tanhf(v) / 3;
  }
}

/* ---- layer norm in one pass over memory ---- */

#ifdef LZ_HAVE_VMATH
__attribute__((target("avx2,fma"))) static float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

/* one row; cols a multiple of 32 */
__attribute__((target("avx2,fma"))) static void ln_row_avx2(const float *x, const float *w,
                                                            float *y, int cols) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (int j = 0; j < cols; j += 32) {
    s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + j));
    s1 = _mm256_add_ps(s1, _mm256_loadu_ps(x + j + 8));
    s2 = _mm256_add_ps(s2, _mm256_loadu_ps(x + j + 16));
    s3 = _mm256_add_ps(s3, _mm256_loadu_ps(x + j + 24));
  }
  __m256 mu = _mm256_set1_ps(hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3))) /
                             (float)cols);
  s0 = s1 = s2 = s3 = _mm256_setzero_ps();
  for (int j = 0; j < cols; j += 32) {
    __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + j), mu);
    __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + j + 8), mu);
    __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(x + j + 16), mu);
    __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(x + j + 24), mu);
    s0 = _mm256_fmadd_ps(d0, d0, s0), s1 = _mm256_fmadd_ps(d1, d1, s1);
    s2 = _mm256_fmadd_ps(d2, d2, s2), s3 = _mm256_fmadd_ps(d3, d3, s3);
  }
  float var = hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3))) / (float)cols;
  __m256 rs = _mm256_set1_ps(1.0f / sqrtf(var + 1e-5f)), b = _mm256_set1_ps(0.1f);
  for (int j = 0; j < cols; j += 8) {
    __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), mu), rs);
    _mm256_storeu_ps(y + j, _mm256_fmadd_ps(d, _mm256_loadu_ps(w + j), b));
  }
}
#endif

/* Thread tid's share of rows rows: [lo, hi). */
static void row_range(int rows, int tid, int nth, int *lo, int *hi) {
  int per = (rows + nth - 1) / nth;
  *lo = tid * per, *hi = *lo + per < rows ? *lo + per : rows;
}

static void ln_part(void *arg, int tid, int nth) {
  map_ctx *c = arg;
  int lo, hi;
  row_range(c->rows, tid, nth, &lo, &hi);
  for (int r = lo; r < hi; r++) {
    const float *x = c->x + (size_t)r * c->cols;
    float *y = c->y + (size_t)r * c->cols;
#ifdef LZ_HAVE_VMATH
    if (have_avx2() && c->cols % 32 == 0) {
      ln_row_avx2(x, c->w, y, c->cols);
      continue;
    }
#endif
    double s = 0, q = 0;
    for (int j = 0; j < c->cols; j++) s += x[j];
    float mu = (float)(s / c->cols);
    for (int j = 0; j < c->cols; j++) q += (double)(x[j] - mu) * (x[j] - mu);
    float rs = 1.0f / sqrtf((float)(q / c->cols) + 1e-5f);
    for (int j = 0; j < c->cols; j++) y[j] = (x[j] - mu) * rs * c->w[j] + 0.1f;
  }
}

/* ---- softmax and rms norm in one pass over memory ---- */

#ifdef LZ_HAVE_VMATH
/* one row; cols a multiple of 16 */
__attribute__((target("avx2,fma"))) static void softmax_row_avx2(const float *x, float *y,
                                                                 int cols) {
  __m256 m0 = _mm256_loadu_ps(x), m1 = m0;
  for (int j = 0; j < cols; j += 16)
    m0 = _mm256_max_ps(m0, _mm256_loadu_ps(x + j)),
    m1 = _mm256_max_ps(m1, _mm256_loadu_ps(x + j + 8));
  float t[8], m;
  _mm256_storeu_ps(t, _mm256_max_ps(m0, m1));
  m = t[0];
  for (int k = 1; k < 8; k++) m = t[k] > m ? t[k] : m;
  __m256 mv = _mm256_set1_ps(m), s0 = _mm256_setzero_ps(), s1 = s0;
  for (int j = 0; j < cols; j += 16) {
    __m256 a = lz__vexpf8(_mm256_sub_ps(_mm256_loadu_ps(x + j), mv));
    __m256 b = lz__vexpf8(_mm256_sub_ps(_mm256_loadu_ps(x + j + 8), mv));
    _mm256_storeu_ps(y + j, a), _mm256_storeu_ps(y + j + 8, b);
    s0 = _mm256_add_ps(s0, a), s1 = _mm256_add_ps(s1, b);
  }
  __m256 r = _mm256_set1_ps(1.0f / hsum8(_mm256_add_ps(s0, s1)));
  for (int j = 0; j < cols; j += 8)
    _mm256_storeu_ps(y + j, _mm256_mul_ps(_mm256_loadu_ps(y + j), r));
}

/* one row; cols a multiple of 32 */
__attribute__((target("avx2,fma"))) static void rms_row_avx2(const float *x, const float *w,
                                                             float *y, int cols) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (int j = 0; j < cols; j += 32) {
    __m256 a = _mm256_loadu_ps(x + j), b = _mm256_loadu_ps(x + j + 8);
    __m256 c = _mm256_loadu_ps(x + j + 16), d = _mm256_loadu_ps(x + j + 24);
    s0 = _mm256_fmadd_ps(a, a, s0), s1 = _mm256_fmadd_ps(b, b, s1);
    s2 = _mm256_fmadd_ps(c, c, s2), s3 = _mm256_fmadd_ps(d, d, s3);
  }
  float ms = hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3))) / (float)cols;
  __m256 rs = _mm256_set1_ps(1.0f / sqrtf(ms + 1e-6f));
  for (int j = 0; j < cols; j += 8)
    _mm256_storeu_ps(
        y + j, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + j), rs), _mm256_loadu_ps(w + j)));
}
#endif

static void softmax_part(void *arg, int tid, int nth) {
  map_ctx *c = arg;
  int lo, hi;
  row_range(c->rows, tid, nth, &lo, &hi);
  for (int r = lo; r < hi; r++) {
    const float *x = c->x + (size_t)r * c->cols;
    float *y = c->y + (size_t)r * c->cols;
#ifdef LZ_HAVE_VMATH
    if (have_avx2() && c->cols % 16 == 0) {
      softmax_row_avx2(x, y, c->cols);
      continue;
    }
#endif
    float m = x[0], s = 0;
    for (int j = 0; j < c->cols; j++) m = x[j] > m ? x[j] : m;
    for (int j = 0; j < c->cols; j++) s += y[j] = expf(x[j] - m);
    for (int j = 0; j < c->cols; j++) y[j] /= s;
  }
}

static void rms_part(void *arg, int tid, int nth) {
  map_ctx *c = arg;
  int lo, hi;
  row_range(c->rows, tid, nth, &lo, &hi);
  for (int r = lo; r < hi; r++) {
    const float *x = c->x + (size_t)r * c->cols;
    float *y = c->y + (size_t)r * c->cols;
#ifdef LZ_HAVE_VMATH
    if (have_avx2() && c->cols % 32 == 0) {
      rms_row_avx2(x, c->w, y, c->cols);
      continue;
    }
#endif
    double q = 0;
    for (int j = 0; j < c->cols; j++) q += (double)x[j] * x[j];
    float rs = 1.0f / sqrtf((float)(q / c->cols) + 1e-6f);
    for (int j = 0; j < c->cols; j++) y[j] = x[j] * rs * c->w[j];
  }
}

struct bench_limit {
  team_fn fn;
  map_ctx c;
};

static bench_limit *limit_new(team_fn fn, map_ctx c) {
  bench_limit *l = malloc(sizeof *l);
  if (!l || !c.x || !c.y) {
    free(l), free(c.y);
    return NULL;
  }
  l->fn = fn, l->c = c;
  team_run(fn, &l->c, lz_get_num_threads()); /* output pages touched once, as the cache's are */
  return l;
}

bench_limit *bench_chain8_limit_new(lz_array *x) {
  size_t n = lz_array_size(x);
  return limit_new(chain8_part,
                   (map_ctx){lz_array_data(x), aligned_alloc(64, n * 4), n, 0, 0, NULL});
}

bench_limit *bench_layer_norm_limit_new(lz_array *x, lz_array *w) {
  int rows = lz_array_dim(x, 0), cols = lz_array_dim(x, 1);
  const float *wd = lz_array_data(w);
  if (!wd) return NULL;
  return limit_new(ln_part, (map_ctx){lz_array_data(x), aligned_alloc(64, (size_t)rows * cols * 4),
                                      0, rows, cols, wd});
}

bench_limit *bench_softmax_limit_new(lz_array *x) {
  int rows = lz_array_dim(x, 0), cols = lz_array_dim(x, 1);
  return limit_new(
      softmax_part,
      (map_ctx){lz_array_data(x), aligned_alloc(64, (size_t)rows * cols * 4), 0, rows, cols, NULL});
}

bench_limit *bench_rms_norm_limit_new(lz_array *x, lz_array *w) {
  int rows = lz_array_dim(x, 0), cols = lz_array_dim(x, 1);
  const float *wd = lz_array_data(w);
  if (!wd) return NULL;
  return limit_new(rms_part, (map_ctx){lz_array_data(x), aligned_alloc(64, (size_t)rows * cols * 4),
                                       0, rows, cols, wd});
}

double bench_limit_run(bench_limit *l) {
  double t0 = bench_now();
  team_run(l->fn, &l->c, lz_get_num_threads());
  return bench_now() - t0;
}

void bench_limit_free(bench_limit *l) {
  if (!l) return;
  free(l->c.y);
  free(l);
}
