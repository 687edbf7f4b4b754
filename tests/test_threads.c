/* The worker pool, threaded elementwise loops, graphs built on several threads, async eval. */
#include <pthread.h>
#include <stdatomic.h>

#include "core/internal.h"
#include "core/threads.h"
#include "lz_test.h"

/* ---- lz__parallel_for ---- */

typedef struct cover_ctx {
  unsigned char *hits;
  atomic_long calls;
} cover_ctx;

static void cover_fn(void *arg, int64_t b, int64_t e) {
  cover_ctx *c = arg;
  atomic_fetch_add(&c->calls, 1);
  for (int64_t i = b; i < e; i++) c->hits[i]++;
}

/* Every index in [0, n) is visited exactly once, for any n and grain. */
static void test_parallel_for_covers_range(void) {
  const int64_t ns[] = {0, 1, 7, 100, 4096, 100003, 1 << 20};
  const int64_t grains[] = {1, 64, 4096, 1 << 30};
  for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++) {
    for (size_t g = 0; g < sizeof grains / sizeof grains[0]; g++) {
      int64_t n = ns[a];
      cover_ctx c = {calloc((size_t)n + 1, 1), 0};
      lz__parallel_for(n, grains[g], cover_fn, &c);
      int64_t bad = 0;
      for (int64_t i = 0; i < n; i++) bad += c.hits[i] != 1;
      CHECK(bad == 0);
      if (n <= grains[g]) CHECK(atomic_load(&c.calls) == (n > 0)); /* inline, one call */
      free(c.hits);
    }
  }
}

typedef struct nest_ctx {
  double *sums;
} nest_ctx;

static void inner_fn(void *arg, int64_t b, int64_t e) {
  double *slot = arg;
  double s = 0;
  for (int64_t i = b; i < e; i++) s += (double)i;
  /* runs inline (nested), so no other thread adds to this slot concurrently */
  *slot += s;
}

static void outer_fn(void *arg, int64_t b, int64_t e) {
  nest_ctx *c = arg;
  for (int64_t i = b; i < e; i++) lz__parallel_for(10000, 16, inner_fn, &c->sums[i]);
}

/* A parallel_for inside a parallel_for runs inline and gives the right answer. */
static void test_parallel_for_nested(void) {
  nest_ctx c = {calloc(64, sizeof(double))};
  lz__parallel_for(64, 1, outer_fn, &c);
  int bad = 0;
  for (int i = 0; i < 64; i++) bad += c.sums[i] != 10000.0 * 9999 / 2;
  CHECK(bad == 0);
  free(c.sums);
}

static void sum_fn(void *arg, int64_t b, int64_t e) {
  atomic_llong *acc = arg;
  long long s = 0;
  for (int64_t i = b; i < e; i++) s += i;
  atomic_fetch_add(acc, s);
}

static void *caller_main(void *arg) {
  int *bad = arg;
  for (int r = 0; r < 200; r++) {
    atomic_llong acc = 0;
    lz__parallel_for(100000, 1000, sum_fn, &acc);
    if (atomic_load(&acc) != 100000LL * 99999 / 2) (*bad)++;
  }
  return NULL;
}

/* Several user threads may dispatch at once. */
static void test_parallel_for_concurrent_callers(void) {
  pthread_t t[4];
  int bad[4] = {0};
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, caller_main, &bad[i]);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  CHECK(bad[0] + bad[1] + bad[2] + bad[3] == 0);
}

/* LZ_NUM_THREADS (set in main before the pool starts) and lz_set_num_threads. */
static void test_num_threads(void) {
  CHECK(lz_get_num_threads() == 3);
  CHECK(lz__num_threads() == 3);
  CHECK(lz_set_num_threads(5) == 3);
  CHECK(lz_get_num_threads() == 5);
  lz_set_num_threads(0); /* one per core */
  CHECK(lz_get_num_threads() >= 1);
  lz_set_num_threads(4);
}

/* ---- threaded elementwise loops give the same bits as one thread ---- */

/* A strided view of `base`'s buffer (shape, element strides, offset), built by hand. */
static lz_array *view_of(lz_array *base, const int *shape, int ndim, const int64_t *strides,
                         int64_t offset) {
  lz_eval(base);
  lz_array *v = lz__array_alloc(lz_array_dtype(base), shape, ndim);
  lz__buffer_retain(base->buf);
  v->buf = base->buf;
  v->offset = base->offset + offset;
  memcpy(v->strides, strides, (size_t)ndim * sizeof(int64_t));
  v->flags = lz__is_contiguous(v) ? LZ_AF_CONTIGUOUS : 0;
  return lz__track(v);
}

static lz_array *iota(int64_t n, lz_dtype dt) {
  return lz_astype(lz_arange(0, (double)n, 1, LZ_FLOAT32), dt);
}

static bool same_bits(lz_array *a, lz_array *b) {
  if (!a || !b || lz_array_nbytes(a) != lz_array_nbytes(b)) return false;
  const void *pa = lz_array_data(a), *pb = lz_array_data(b);
  return pa && pb && memcmp(pa, pb, lz_array_nbytes(a)) == 0;
}

typedef lz_array *(*make_fn)(void);

static lz_array *case_long_run(void) { /* one run of 1M: split into chunks */
  return lz_multiply(lz_add(iota(1 << 20, LZ_FLOAT32), lz_float(0.5)), lz_float(3));
}
static lz_array *case_many_runs(void) { /* (1000, 301) + (1, 301): many runs */
  lz_array *a = iota(1000 * 301, LZ_FLOAT32), *b = iota(301, LZ_FLOAT32);
  int sa[2] = {1000, 301}, sb[2] = {1, 301};
  int64_t ta[2] = {301, 1}, tb[2] = {0, 1};
  return lz_subtract(view_of(a, sa, 2, ta, 0), view_of(b, sb, 2, tb, 0));
}
static lz_array *case_transposed(void) { /* (700, 500) read transposed, runs of 500 */
  lz_array *a = iota(700 * 500, LZ_FLOAT64);
  int s[2] = {500, 700};
  int64_t t[2] = {1, 500};
  return lz_add(view_of(a, s, 2, t, 0), lz_float(1));
}
static lz_array *case_negative_stride(void) { /* reversed rows, odd sizes */
  lz_array *a = iota(333 * 257, LZ_INT32);
  int s[2] = {333, 257};
  int64_t t[2] = {257, -1};
  return lz_multiply(view_of(a, s, 2, t, 256), lz_int(7));
}
static lz_array *case_to_half(void) { /* astype float32 -> float16 in chunks */
  return lz_astype(lz_multiply(iota(300007, LZ_FLOAT32), lz_float(0.001)), LZ_FLOAT16);
}
static lz_array *case_contiguous_copy(void) { /* lz_array_data of a strided view */
  lz_array *a = iota(600 * 400, LZ_FLOAT32);
  int s[2] = {400, 600};
  int64_t t[2] = {1, 400};
  lz_array *v = view_of(a, s, 2, t, 0);
  return lz_array_from_data(lz_array_data(v), s, 2, LZ_FLOAT32);
}

static void test_threads_match_one_thread(void) {
  make_fn cases[] = {case_long_run,        case_many_runs, case_transposed,
                     case_negative_stride, case_to_half,   case_contiguous_copy};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int old = lz_set_num_threads(1);
    lz_array *one = cases[i]();
    lz_eval(one);
    lz_set_num_threads(4);
    lz_array *four = cases[i]();
    lz_eval(four);
    lz_set_num_threads(old);
    CHECK(same_bits(one, four));
  }
  /* and a value check, so both are not wrong the same way */
  lz_array *y = case_many_runs();
  const float *p = lz_array_data(y);
  CHECK(p && p[0] == 0 && p[301 * 999 + 300] == 301 * 999);
}

/* ---- graphs built and evaluated on several threads ---- */

static void *graph_main(void *arg) {
  int id = *(int *)arg, bad = 0;
  for (int r = 0; r < 20; r++) {
    lz_scope_begin();
    int n = 1000 + 37 * id;
    lz_array *x = lz_arange(0, n, 1, LZ_FLOAT32);
    lz_array *y = x;
    for (int k = 0; k < 50; k++) y = lz_add(lz_multiply(y, lz_float(1)), lz_float(1));
    lz_array *big = lz_add(iota(100000, LZ_FLOAT32), lz_float(id)); /* threaded kernel */
    lz_array *both[2] = {y, big};
    if (lz_eval_many(both, 2) != 0) bad++;
    const float *py = lz_array_data(y), *pb = lz_array_data(big);
    if (!py || py[n - 1] != (float)(n - 1 + 50) || !pb || pb[99999] != 99999.0f + id) bad++;
    lz_scope_end();
  }
  *(int *)arg = bad;
  return NULL;
}

static void test_graphs_on_four_threads(void) {
  pthread_t t[4];
  int arg[4] = {0, 1, 2, 3};
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, graph_main, &arg[i]);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  CHECK(arg[0] + arg[1] + arg[2] + arg[3] == 0);
}

/* Evaluated arrays may be shared: threads build on one evaluated input at once. */
static lz_array *shared_input;
static void *shared_main(void *arg) {
  int bad = 0;
  for (int r = 0; r < 50; r++) {
    lz_scope_begin();
    lz_array *y = lz_multiply(shared_input, lz_float(2));
    const float *p = lz_array_data(y);
    if (!p || p[999] != 1998) bad++;
    lz_scope_end();
  }
  *(int *)arg = bad;
  return NULL;
}

static void test_shared_evaluated_input(void) {
  shared_input = lz_arange(0, 1000, 1, LZ_FLOAT32);
  lz_eval(shared_input);
  pthread_t t[4];
  int bad[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, shared_main, &bad[i]);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  CHECK(bad[0] + bad[1] + bad[2] + bad[3] == 0);
}

/* Threads reading one evaluated strided view at once: lz_array_data, lz_array_read and printing
 * race on the first contiguous copy. Each gets the right values, all get the same pointer, and
 * the view itself (buffer, strides) is never rewritten under them. */
enum { SV_N = 128, SV_THREADS = 4 };
typedef struct view_reader {
  lz_array *view;
  pthread_barrier_t *go;
  const float *ptr;
  int bad;
} view_reader;

static void *view_reader_main(void *arg) {
  view_reader *r = arg;
  pthread_barrier_wait(r->go);
  const float *p = lz_array_data(r->view);
  r->ptr = p;
  if (!p) r->bad++;
  else
    for (int i = 0; i < SV_N; i++)
      for (int j = 0; j < SV_N; j++) r->bad += p[i * SV_N + j] != (float)(j * SV_N + i);
  double *d = malloc(sizeof(double) * SV_N * SV_N);
  if (lz_array_read(r->view, LZ_FLOAT64, d, sizeof(double) * SV_N * SV_N) != 0) r->bad++;
  else
    for (int i = 0; i < SV_N; i++) r->bad += d[i * SV_N + 3] != (double)(3 * SV_N + i);
  free(d);
  char *s = lz_array_tostring(r->view);
  r->bad += !s || strncmp(s, "array([[0, 128, 256,", 20) != 0;
  free(s);
  return NULL;
}

static void test_shared_strided_view_reads(void) {
  lz_array *flat = lz_arange(0, SV_N * SV_N, 1, LZ_FLOAT32);
  lz_array *x = lz_reshape(flat, (int[]){SV_N, SV_N}, 2);
  lz_free(flat);
  for (int round = 0; round < 20; round++) {
    lz_array *t = lz_transpose(x, NULL, 0);
    CHECK(lz_eval(t) == 0);
    lz_buffer *buf = t->buf;
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, SV_THREADS);
    pthread_t th[SV_THREADS];
    view_reader r[SV_THREADS];
    for (int i = 0; i < SV_THREADS; i++) {
      r[i] = (view_reader){t, &go, NULL, 0};
      pthread_create(&th[i], NULL, view_reader_main, &r[i]);
    }
    int bad = 0;
    for (int i = 0; i < SV_THREADS; i++) {
      pthread_join(th[i], NULL);
      bad += r[i].bad + (r[i].ptr != r[0].ptr);
    }
    pthread_barrier_destroy(&go);
    CHECK(bad == 0);
    /* the view still shares x's buffer with transposed strides */
    CHECK(t->buf == buf && t->strides[0] == 1 && t->strides[1] == SV_N);
    lz_free(t);
  }
  lz_free(x);
}

/* ---- asynchronous evaluation ---- */

static void test_async_eval(void) {
  lz_array *x = iota(1 << 18, LZ_FLOAT32);
  lz_array *h = lz_add(x, lz_float(1)); /* an intermediate we free while it runs */
  lz_array *y = h;
  for (int k = 0; k < 30; k++) y = lz_multiply(lz_add(y, lz_float(1)), lz_float(1));
  CHECK(lz_async_eval(y) == 0);
  lz_free(h);
  lz_array *z = lz_add(y, lz_float(1)); /* built while y may be running */
  CHECK(lz_eval(z) == 0);
  CHECK(lz_array_is_evaluated(y));
  const float *p = lz_array_data(z);
  CHECK(p && p[1000] == 1000 + 1 + 30 + 1);
  CHECK(lz_async_eval(z) == 0); /* already evaluated: nothing to do */
  CHECK(lz_async_eval(NULL) == -1);
  CHECK(strstr(lz_last_error(), "lz_async_eval") != NULL);
  lz_clear_error();
  /* two at once, then a data access waits */
  lz_array *a = lz_add(x, lz_float(2)), *b = lz_multiply(x, lz_float(3));
  lz_array *ab[2] = {a, b};
  CHECK(lz_async_eval_many(ab, 2) == 0);
  const float *pa = lz_array_data(a), *pb = lz_array_data(b);
  CHECK(pa && pb && pa[7] == 9 && pb[7] == 21);
  /* a second async call waits for the first */
  lz_array *c = lz_add(x, lz_float(4)), *d = lz_add(c, lz_float(5));
  CHECK(lz_async_eval(c) == 0);
  CHECK(lz_async_eval(d) == 0);
  const float *pd = lz_array_data(d);
  CHECK(pd && pd[10] == 19);
}

/* An error on the background thread is reported by the call that waits; the graph stays
 * usable and a retry succeeds. */
static void test_async_eval_error(void) {
  int shape[1] = {1 << 20};
  lz_array *x = lz_add(lz_ones(shape, 1, LZ_FLOAT32), lz_float(1));
  lz_array *y = lz_multiply(x, lz_float(3));
  lz_clear_cache();
  size_t old = lz_set_memory_limit(1 << 16);
  CHECK(lz_async_eval(y) == 0);
  CHECK(lz_eval(y) == -1);
  lz_set_memory_limit(old);
  CHECK(lz_last_error_code() == LZ_ERROR_OUT_OF_MEMORY);
  CHECK(strstr(lz_last_error(), "[lz_async_eval]") != NULL);
  CHECK(strstr(lz_last_error(), "memory limit") != NULL);
  lz_clear_error();
  CHECK(!lz_array_is_evaluated(y));
  CHECK(lz_eval(y) == 0);
  CHECK_CLOSE(((const float *)lz_array_data(y))[12345], 6, 0);
  /* an abandoned async graph is freed by the background thread, then lz_eval settles it */
  lz_array *z = lz_add(x, lz_float(1));
  CHECK(lz_async_eval(z) == 0);
  lz_free(z);
  CHECK(lz_eval(x) == 0);
}

int main(void) {
  setenv("LZ_NUM_THREADS", "3", 1); /* read once, when the pool first starts */
  RUN(test_num_threads);
  RUN(test_parallel_for_covers_range);
  RUN(test_parallel_for_nested);
  RUN(test_parallel_for_concurrent_callers);
  RUN(test_threads_match_one_thread);
  RUN(test_graphs_on_four_threads);
  RUN(test_shared_evaluated_input);
  RUN(test_shared_strided_view_reads);
  RUN(test_async_eval);
  RUN(test_async_eval_error);
  return lzt_summary();
}
