/* The worker pool: persistent pthreads (one per core by default, LZ_NUM_THREADS overrides) that
 * share a range of work with the calling thread. Dispatch creates no thread: the caller publishes
 * one job, wakes the workers (they spin briefly before sleeping, so back-to-back kernels are
 * cheap), takes chunks itself, and waits until every worker that joined has left the job: it spins
 * briefly, then sleeps on a condition variable that the last worker to leave signals (a preempted
 * worker then costs the caller no CPU).
 * One job runs at a time: a second user thread that calls while the pool is busy, and any
 * nested call (from inside a job), runs its range inline. OpenBLAS runs single-threaded: its
 * workers would spin for ~0.1 s after each call beside ours (cpu/gemm_split.c shares big GEMMs
 * out on this pool instead). */
#include "threads.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

void openblas_set_num_threads(int num_threads); /* from OpenBLAS (cblas.h is not needed) */

enum { MAX_THREADS = 256, SPIN_ROUNDS = 4000 };

typedef struct job {
  void (*fn)(void *ctx, int64_t begin, int64_t end);
  void *ctx;
  int64_t n, chunk, nchunks;
  atomic_llong next;  /* next chunk to take */
  atomic_int inside;  /* workers currently working on this job */
  int max_workers;    /* how many workers may join */
} job;

static struct {
  pthread_mutex_t mu;
  pthread_cond_t wake;
  pthread_cond_t done; /* signalled by the last worker leaving a job while the caller sleeps */
  job *current;       /* guarded by mu */
  atomic_uint gen;    /* bumped for every job; workers wait for a change */
  int sleepers;       /* guarded by mu */
  int nworkers;       /* guarded by mu; workers started so far */
  atomic_int nthreads; /* threads a job may use, caller included */
  atomic_flag busy;   /* set while a job runs */
  atomic_bool waiting; /* the caller is about to sleep on `done`, or sleeps on it */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0,
          0, 0, ATOMIC_FLAG_INIT, false};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static _Thread_local bool in_job; /* a worker, or a caller while it runs its job */

static int cpu_count(void) {
#ifdef CPU_COUNT
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
#endif
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

static void run_chunks(job *j) {
  for (;;) {
    int64_t c = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
    if (c >= j->nchunks) return;
    int64_t b = c * j->chunk, e = b + j->chunk < j->n ? b + j->chunk : j->n;
    j->fn(j->ctx, b, e);
  }
}

static void *worker_main(void *arg) {
  (void)arg;
  in_job = true; /* a kernel running here never dispatches again: nested calls are inline */
  unsigned seen = atomic_load(&pool.gen);
  for (;;) {
    int spins = 0;
    while (atomic_load_explicit(&pool.gen, memory_order_acquire) == seen && spins < SPIN_ROUNDS) {
      CPU_RELAX();
      spins++;
    }
    pthread_mutex_lock(&pool.mu);
    while (atomic_load_explicit(&pool.gen, memory_order_relaxed) == seen) {
      pool.sleepers++;
      pthread_cond_wait(&pool.wake, &pool.mu);
      pool.sleepers--;
    }
    seen = atomic_load_explicit(&pool.gen, memory_order_relaxed);
    job *j = pool.current;
    if (j && atomic_load_explicit(&j->inside, memory_order_relaxed) < j->max_workers)
      atomic_fetch_add_explicit(&j->inside, 1, memory_order_relaxed);
    else
      j = NULL;
    pthread_mutex_unlock(&pool.mu);
    if (j) {
      run_chunks(j);
      /* Last touch of j (it lives on the caller's stack). Sequentially consistent with the
       * caller's store to pool.waiting: either it sees inside == 0 or this sees waiting. */
      if (atomic_fetch_sub(&j->inside, 1) == 1 && atomic_load(&pool.waiting)) {
        pthread_mutex_lock(&pool.mu);
        pthread_cond_signal(&pool.done);
        pthread_mutex_unlock(&pool.mu);
      }
    }
  }
  return NULL;
}

/* The job's body on each thread of an OpenMP team (see lz__omp_run). */
static void omp_job_main(void *arg) {
  bool was = in_job;
  in_job = true;
  run_chunks(arg);
  in_job = was;
}

/* Starts workers until `want` exist (pool.mu held). Failure to start one just means fewer. */
static void ensure_workers(int want) {
  while (pool.nworkers < want) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &attr, worker_main, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) break;
    pool.nworkers++;
  }
}

static int parse_env_threads(void) {
  const char *s = getenv("LZ_NUM_THREADS");
  if (!s || !*s) return 0;
  char *end;
  long v = strtol(s, &end, 10);
  if (*end || v < 1) return 0;
  return v > MAX_THREADS ? MAX_THREADS : (int)v;
}

static void pool_init(void) {
  int n = parse_env_threads();
  if (n == 0) n = cpu_count();
  if (n > MAX_THREADS) n = MAX_THREADS;
  atomic_store(&pool.nthreads, n);
  openblas_set_num_threads(1);
}

int lz__num_threads(void) {
  pthread_once(&init_once, pool_init);
  return atomic_load_explicit(&pool.nthreads, memory_order_relaxed);
}

bool lz__in_parallel(void) { return in_job; }

int lz_get_num_threads(void) { return lz__num_threads(); }

int lz_set_num_threads(int n) {
  pthread_once(&init_once, pool_init);
  if (n <= 0) n = cpu_count();
  if (n > MAX_THREADS) n = MAX_THREADS;
  return atomic_exchange(&pool.nthreads, n);
}

void lz__parallel_for(int64_t n, int64_t grain, void (*fn)(void *ctx, int64_t begin, int64_t end),
                      void *ctx) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  int nth = lz__num_threads();
  if (n <= grain || nth <= 1 || in_job || atomic_flag_test_and_set(&pool.busy)) {
    fn(ctx, 0, n); /* small, nested, or the pool is busy with another caller's job */
    return;
  }
  /* About 4 chunks per thread for balance, none smaller than the grain. */
  int64_t chunks = (int64_t)nth * 4, max_chunks = n / grain;
  if (chunks > max_chunks) chunks = max_chunks;
  if (chunks < 2) chunks = 2;
  job j = {.fn = fn, .ctx = ctx, .n = n, .chunk = (n + chunks - 1) / chunks};
  j.nchunks = (n + j.chunk - 1) / j.chunk;
  j.max_workers = (int)(j.nchunks - 1 < nth - 1 ? j.nchunks - 1 : nth - 1);
  atomic_init(&j.next, 0);
  atomic_init(&j.inside, 0);
  if (lz__omp_run(omp_job_main, &j, nth)) { /* oneDNN's team is spinning: it runs the job */
    atomic_flag_clear(&pool.busy);
    return;
  }

  pthread_mutex_lock(&pool.mu);
  ensure_workers(nth - 1);
  pool.current = &j;
  atomic_fetch_add_explicit(&pool.gen, 1, memory_order_release);
  if (pool.sleepers) pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.mu);

  in_job = true;
  run_chunks(&j);
  in_job = false;

  pthread_mutex_lock(&pool.mu);
  pool.current = NULL; /* no worker joins from now on: only those inside are waited for */
  pthread_mutex_unlock(&pool.mu);
  for (int spins = 0; spins < SPIN_ROUNDS; spins++) {
    if (atomic_load_explicit(&j.inside, memory_order_acquire) == 0) break;
    CPU_RELAX();
  }
  if (atomic_load(&j.inside) > 0) {
    /* A worker is still inside (likely preempted): sleep until the last one leaves. The check of
     * `inside` and the worker's signal both happen under pool.mu, so the wake-up is not lost. */
    atomic_store(&pool.waiting, true);
    pthread_mutex_lock(&pool.mu);
    while (atomic_load(&j.inside) > 0) pthread_cond_wait(&pool.done, &pool.mu);
    atomic_store(&pool.waiting, false);
    pthread_mutex_unlock(&pool.mu);
  }
  atomic_flag_clear(&pool.busy);
}

int lz__pool_lend(void) {
  int n = lz__num_threads();
  if (n <= 1 || in_job || atomic_flag_test_and_set(&pool.busy)) return 1;
  return n;
}

void lz__pool_unlend(int n) {
  if (n > 1) atomic_flag_clear(&pool.busy);
}

/* ---- thread-exit hooks ---- */

enum { MAX_EXIT_FNS = 8 };
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static _Thread_local void (*exit_fns[MAX_EXIT_FNS])(void);
static _Thread_local int n_exit_fns;

static void run_exit_fns(void *arg) {
  (void)arg;
  while (n_exit_fns > 0) exit_fns[--n_exit_fns]();
}

static void make_exit_key(void) { pthread_key_create(&exit_key, run_exit_fns); }

void lz__at_thread_exit(void (*fn)(void)) {
  for (int i = 0; i < n_exit_fns; i++)
    if (exit_fns[i] == fn) return;
  if (n_exit_fns == MAX_EXIT_FNS) return;
  pthread_once(&exit_once, make_exit_key);
  exit_fns[n_exit_fns++] = fn;
  pthread_setspecific(exit_key, (void *)1); /* non-NULL: the destructor runs at exit */
}
