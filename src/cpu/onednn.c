/* oneDNN's engine and streams (see onednn.h). */
#include "onednn.h"

#include <dlfcn.h>
#include <pthread.h>
#include <math.h>
#include <time.h>

#include "../core/threads.h"

static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static dnnl_engine_t engine;
static dnnl_status_t engine_status = dnnl_success;
static pthread_key_t stream_key;

static void stream_destroy(void *s) { dnnl_stream_destroy((dnnl_stream_t)s); }

static void engine_init(void) {
  engine_status = dnnl_engine_create(&engine, dnnl_cpu, 0);
  if (engine_status != dnnl_success) engine = NULL;
  if (pthread_key_create(&stream_key, stream_destroy) != 0 && engine) {
    dnnl_engine_destroy(engine);
    engine = NULL;
    engine_status = dnnl_out_of_memory;
  }
}

static const char *status_text(dnnl_status_t st) {
  switch (st) {
  case dnnl_success: return "success";
  case dnnl_out_of_memory: return "out of memory";
  case dnnl_invalid_arguments: return "invalid arguments";
  case dnnl_unimplemented: return "unimplemented";
  case dnnl_iterator_ends: return "iterator ends";
  case dnnl_runtime_error: return "runtime error";
  case dnnl_not_required: return "not required";
  default: return "unknown status";
  }
}

int lz__dnnl_check(dnnl_status_t st, const char *op, const char *what) {
  if (st == dnnl_success) return 0;
  lz__error(st == dnnl_out_of_memory ? LZ_ERROR_OUT_OF_MEMORY : LZ_ERROR_INTERNAL, op,
            "oneDNN %s: %s", what, status_text(st));
  return -1;
}

dnnl_engine_t lz__dnnl_engine(const char *op) {
  pthread_once(&engine_once, engine_init);
  if (!engine) lz__dnnl_check(engine_status, op, "engine");
  return engine;
}

dnnl_stream_t lz__dnnl_stream(const char *op) {
  dnnl_engine_t e = lz__dnnl_engine(op);
  if (!e) return NULL;
  dnnl_stream_t s = pthread_getspecific(stream_key);
  if (s) return s;
  if (lz__dnnl_check(dnnl_stream_create(&s, e, dnnl_stream_default_flags), op, "stream")) return NULL;
  if (pthread_setspecific(stream_key, s) != 0) {
    dnnl_stream_destroy(s);
    lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "oneDNN stream: no thread slot");
    return NULL;
  }
  return s;
}

/* omp_set_num_threads and GOMP_parallel from the OpenMP runtime oneDNN loaded (found at run
 * time, so Lazuli itself is not built with -fopenmp). */
static void (*omp_set_threads)(int);
static void (*omp_parallel)(void (*fn)(void *), void *data, unsigned nthreads, unsigned flags);
static pthread_once_t omp_once = PTHREAD_ONCE_INIT;
static _Thread_local int omp_threads_now; /* 0: not set on this thread yet */
static _Thread_local double omp_warm_until; /* this thread's team spins until then (seconds) */

/* How long libgomp's idle workers keep spinning after a region, kept short of its default
 * (~300,000 rounds, 4-8 ms measured here) so that a job never waits for sleeping workers. */
enum { OMP_WARM_US = 2000 };

static void omp_init(void) {
  omp_set_threads = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
  omp_parallel = (void (*)(void (*)(void *), void *, unsigned, unsigned))dlsym(RTLD_DEFAULT,
                                                                              "GOMP_parallel");
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int lz__dnnl_threads(int n) {
  if (n < 1 || lz__in_parallel()) n = 1;
  if (n > 1) omp_warm_until = HUGE_VAL; /* a team call follows; lz__dnnl_ran dates its end */
  if (n == omp_threads_now) return n;
  pthread_once(&omp_once, omp_init);
  if (omp_set_threads) omp_set_threads(n);
  omp_threads_now = n;
  return n;
}

void lz__dnnl_ran(void) {
  if (omp_threads_now > 1 && !lz__in_parallel())
    omp_warm_until = now_seconds() + OMP_WARM_US * 1e-6;
}

bool lz__omp_run(void (*fn)(void *), void *ctx, int nthreads) {
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LZ_UNDER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) || defined(LZ_UNDER_TSAN)
  (void)fn, (void)ctx, (void)nthreads;
  return false; /* ThreadSanitizer cannot see libgomp's barriers: the pool stays ours there */
#else
  if (omp_warm_until == 0 || now_seconds() > omp_warm_until) return false;
  pthread_once(&omp_once, omp_init);
  if (!omp_parallel) return false;
  omp_parallel(fn, ctx, (unsigned)nthreads, 0);
  omp_warm_until = now_seconds() + OMP_WARM_US * 1e-6;
  return true;
#endif
}
