/* oneDNN's engine and streams (see onednn.h). */
#include "onednn.h"

#include <dlfcn.h>
#include <pthread.h>

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

/* omp_set_num_threads from the OpenMP runtime oneDNN loaded (found at run time, so Lazuli itself
 * is not built with -fopenmp and any OpenMP runtime works). */
static void (*omp_set_threads)(int);
static int (*omp_pause_all)(int);
static pthread_once_t omp_once = PTHREAD_ONCE_INIT;
static _Thread_local int omp_threads_now; /* 0: not set on this thread yet */
static _Thread_local bool omp_team_warm;  /* this thread's OpenMP team may be spinning */

static void omp_init(void) {
  omp_set_threads = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
  omp_pause_all = (int (*)(int))dlsym(RTLD_DEFAULT, "omp_pause_resource_all");
}

int lz__dnnl_threads(int n) {
  if (n < 1 || lz__in_parallel()) n = 1;
  if (n > 1) omp_team_warm = true;
  if (n == omp_threads_now) return n;
  pthread_once(&omp_once, omp_init);
  if (omp_set_threads) omp_set_threads(n);
  omp_threads_now = n;
  return n;
}

void lz__dnnl_quiesce(void) {
  if (!omp_team_warm) return;
  omp_team_warm = false;
  pthread_once(&omp_once, omp_init);
  if (omp_pause_all) omp_pause_all(1 /* omp_pause_soft */);
  omp_threads_now = 0; /* libgomp drops the thread's settings with its team */
}
