/* GEMM dispatch (see gemm.h): the backend choice, the float32/float64 entry point lz_cpu_gemm,
 * and oneDNN's matmul primitive, cached per shape and layout. */
#include "../core/isa.h"
#include "gemm.h"

#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../core/threads.h"
#include "linalg_pack.h"
#include "onednn.h"

/* ---- the backend ---- */

static pthread_once_t backend_once = PTHREAD_ONCE_INIT;
static lz_gemm_backend backend;
static const char *const backend_names[LZ_GEMM_BACKEND_COUNT] = {"openblas", "onednn",
                                                                 "onednn_matmul", "auto"};
static atomic_llong lib_runs[2]; /* float32 products outside pool jobs: [0] OpenBLAS, [1] oneDNN */

static bool cpu_has_avx512(void) {
  if (lz_isa_path() != LZ_ISA_AVX512) return false; /* core/isa.h: the CPU, capped by LZ_CPU */
  /* oneDNN's own view (it honours ONEDNN_MAX_CPU_ISA) must agree */
  dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
  return (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core;
}

static void backend_init(void) {
  const char *s = getenv("LZ_GEMM");
  for (int b = 0; s && b < LZ_GEMM_BACKEND_COUNT; b++) {
    if (strcmp(s, backend_names[b]) == 0) {
      backend = (lz_gemm_backend)b;
      return;
    }
  }
  backend = cpu_has_avx512() ? LZ_GEMM_ONEDNN : LZ_GEMM_AUTO;
}

lz_gemm_backend lz_cpu_gemm_backend(void) {
  pthread_once(&backend_once, backend_init);
  return backend;
}

const char *lz_cpu_gemm_backend_name(lz_gemm_backend b) {
  return b >= 0 && b < LZ_GEMM_BACKEND_COUNT ? backend_names[b] : "unknown";
}

long long lz_cpu_gemm_runs(lz_gemm_backend lib) {
  return lib == LZ_GEMM_OPENBLAS ? atomic_load(&lib_runs[0])
         : lib == LZ_GEMM_ONEDNN ? atomic_load(&lib_runs[1])
                                 : 0;
}

/* The auto backend's choice, from products timed against each other in one process on a 2-core
 * AVX2 EPYC shared with other work (`lz_bench gemm` prints the classes). Wall time there moves
 * by +-30% from run to run, so the choice rests on CPU seconds per product, one thread each
 * (GFLOP per CPU-second, OpenBLAS vs oneDNN), which the load moves much less:
 * - up to 2^16 multiply-adds OpenBLAS: oneDNN's sgemm costs ~0.3 us more per call (wall: 1.8
 *   vs 0.6 GFLOP/s at 3x5x7, 18 vs 13 at 16^3);
 * - small products, up to 2^21, oneDNN: 32^3 29 vs 35, 64^3 57 vs 72, 96x80x100 69 vs 87,
 *   128x128 @ (128x64)^T 72 vs 81;
 * - thin ones (a dimension <= 16) up to 2^22, oneDNN: a classifier head 256x512 @ 512x10
 *   38 vs 50, its input gradient 256x10 @ (512x10)^T 38 vs 47 (shared on the pool: 20 vs 37);
 * - everything bigger OpenBLAS: its one-thread kernels run 1.4-1.9x faster per CPU-second at
 *   the MLP's 256x784 @ 784x512, 256x512 @ 512x512 and their gradients, and at 1024^3 plain and
 *   transposed. (oneDNN's OpenMP team beat OpenBLAS on the pool by 1.1-1.3x in wall time at the
 *   MLP's shapes on a quiet machine, but on a loaded one its spinning barriers made the MLP
 *   step 5x slower in CPU time: not taken.)
 * - matrix-vector products stay on OpenBLAS's gemv (memory-bound either way).
 * Products of oneDNN's classes big enough to share (lz_cpu_gemm_split) run in blocks on the
 * pool, one-threaded oneDNN calls each. */
enum { AUTO_MIN_WORK_LOG2 = 16, AUTO_MAX_WORK_LOG2 = 21, AUTO_THIN = 16, AUTO_THIN_LOG2 = 22 };

bool lz_cpu_gemm_auto_onednn(int64_t M, int64_t N, int64_t K) {
  if (M <= 1 || N <= 1) return false;
  double work = (double)M * (double)N * (double)K;
  bool thin = M <= AUTO_THIN || N <= AUTO_THIN || K <= AUTO_THIN;
  return work > (double)(1 << AUTO_MIN_WORK_LOG2) &&
         work <= (double)(1 << (thin ? AUTO_THIN_LOG2 : AUTO_MAX_WORK_LOG2));
}

/* OpenMP threads for a product of M*N*K = work: about 2^20 multiply-adds per thread at least.
 * Why: oneDNN wakes its whole team for any size, and a team of sleeping (or, on a loaded
 * machine, descheduled) threads costs more than a small product itself. */
static int gemm_threads(int64_t work) {
  int n = lz__num_threads();
  int64_t useful = work >> 20;
  return useful < 1 ? 1 : useful < n ? (int)useful : n;
}

/* ---- oneDNN's matmul primitive, cached per shape, layout, dtypes and thread count ---- */

typedef struct mm_key {
  int32_t dab, dc, nthr, pad;
  int64_t M, N, K, ars, acs, brs, bcs, ldc;
  float alpha, beta;
} mm_key;

enum { SLOT_EMPTY, SLOT_READY, SLOT_NONE /* oneDNN has no fast kernel for this key */ };

typedef struct mm_entry {
  mm_key key;
  int state;
  int busy;   /* executions in flight (guarded by cache_mu): a busy entry is never evicted */
  bool stale; /* cleared while busy: no longer found, emptied by its last user */
  uint64_t used;
  dnnl_primitive_t prim;
  dnnl_memory_desc_t ma, mb, mc, ms;
  size_t scratch;
} mm_entry;

enum { CACHE_SLOTS = 64 };
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static mm_entry cache[CACHE_SLOTS];
static uint64_t cache_clock;
static atomic_llong primitive_runs;

static dnnl_data_type_t dnnl_dt(lz_dtype dt) {
  return dt == LZ_FLOAT16 ? dnnl_f16 : dt == LZ_BFLOAT16 ? dnnl_bf16 : dnnl_f32;
}

/* A (rows, cols) matrix with element strides (rs, cs); strides of a size-1 dim are free, so
 * they are made plain for oneDNN's layout checks. */
static bool matrix_md(dnnl_memory_desc_t *md, dnnl_data_type_t dt, int64_t rows, int64_t cols,
                      int64_t rs, int64_t cs) {
  if (rows == 1) rs = cs == 1 ? cols : 1;
  if (cols == 1) cs = rs == 1 ? rows : 1;
  if (rows == 1 && cols == 1) rs = cs = 1;
  dnnl_dims_t dims = {rows, cols}, strides = {rs, cs};
  return dnnl_memory_desc_init_by_strides(md, 2, dims, dt, strides) == dnnl_success;
}

/* Makes the entry's primitive; on any failure or a reference (slow) kernel the state is NONE. */
static void entry_build(mm_entry *e, dnnl_engine_t eng) {
  const mm_key *k = &e->key;
  e->state = SLOT_NONE;
  dnnl_primitive_attr_t attr = NULL;
  dnnl_post_ops_t po = NULL;
  dnnl_primitive_desc_t pd = NULL;
  dnnl_matmul_desc_t md;
  if (!matrix_md(&e->ma, k->dab, k->M, k->K, k->ars, k->acs) ||
      !matrix_md(&e->mb, k->dab, k->K, k->N, k->brs, k->bcs) ||
      !matrix_md(&e->mc, k->dc, k->M, k->N, k->ldc, 1))
    return;
  if (dnnl_matmul_desc_init(&md, &e->ma, &e->mb, NULL, &e->mc) != dnnl_success) return;
  if (dnnl_primitive_attr_create(&attr) != dnnl_success) return;
  bool ok = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) == 0;
  if (ok && k->alpha != 1.0f)
    ok = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &k->alpha) == dnnl_success;
  if (ok && k->beta != 0.0f) {
    ok = dnnl_post_ops_create(&po) == dnnl_success &&
         dnnl_post_ops_append_sum(po, k->beta) == dnnl_success &&
         dnnl_primitive_attr_set_post_ops(attr, po) == dnnl_success;
  }
  if (ok) ok = dnnl_primitive_desc_create(&pd, &md, attr, eng, NULL) == dnnl_success;
  const char *impl = NULL;
  if (ok) ok = dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == 0 && impl;
  if (ok && strncmp(impl, "ref", 3) != 0) {
    const dnnl_memory_desc_t *ms = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (ms) e->ms = *ms;
    e->scratch = ms ? dnnl_memory_desc_get_size(ms) : 0;
    if (dnnl_primitive_create(&e->prim, pd) == dnnl_success) e->state = SLOT_READY;
  }
  if (pd) dnnl_primitive_desc_destroy(pd);
  if (po) dnnl_post_ops_destroy(po);
  dnnl_primitive_attr_destroy(attr);
}

static void entry_clear(mm_entry *e) {
  if (e->prim) dnnl_primitive_destroy(e->prim);
  memset(e, 0, sizeof *e);
}

/* The ready entry for `k` with busy raised, or NULL when oneDNN has no fast kernel for it.
 * When every slot is busy the entry is a private copy (*owned set): destroy it after use. */
static mm_entry *entry_get(const mm_key *k, dnnl_engine_t eng, bool *owned) {
  *owned = false;
  pthread_mutex_lock(&cache_mu);
  mm_entry *e = NULL, *victim = NULL;
  for (int i = 0; i < CACHE_SLOTS; i++) {
    mm_entry *s = &cache[i];
    if (s->state != SLOT_EMPTY && !s->stale && memcmp(&s->key, k, sizeof *k) == 0) {
      e = s;
      break;
    }
    if (s->busy == 0 && (!victim || s->state == SLOT_EMPTY ||
                         (victim->state != SLOT_EMPTY && s->used < victim->used)))
      victim = s;
  }
  if (!e) {
    if (victim) {
      entry_clear(victim);
      e = victim;
    } else if ((e = calloc(1, sizeof *e)) != NULL) {
      *owned = true;
    }
    if (e) {
      e->key = *k;
      entry_build(e, eng); /* under the lock: concurrent callers of one shape build it once */
    }
  }
  if (e && e->state == SLOT_READY) {
    e->used = ++cache_clock;
    e->busy++;
  } else {
    if (e && *owned) free(e);
    e = NULL;
    *owned = false;
  }
  pthread_mutex_unlock(&cache_mu);
  return e;
}

static void entry_put(mm_entry *e, bool owned) {
  if (owned) {
    entry_clear(e);
    free(e);
    return;
  }
  dnnl_primitive_t gone = NULL;
  pthread_mutex_lock(&cache_mu);
  if (--e->busy == 0 && e->stale) { /* cleared while it ran: this was its last user */
    gone = e->prim;
    memset(e, 0, sizeof *e);
  }
  pthread_mutex_unlock(&cache_mu);
  if (gone) dnnl_primitive_destroy(gone);
}

void lz_cpu_gemm_cache_clear(void) {
  dnnl_primitive_t gone[CACHE_SLOTS];
  int n = 0;
  pthread_mutex_lock(&cache_mu);
  for (int i = 0; i < CACHE_SLOTS; i++) {
    mm_entry *s = &cache[i];
    if (s->state == SLOT_EMPTY) continue;
    if (s->busy > 0) { /* running on another thread: its last user empties it */
      s->stale = true;
      continue;
    }
    if (s->prim) gone[n++] = s->prim;
    memset(s, 0, sizeof *s);
  }
  pthread_mutex_unlock(&cache_mu);
  for (int i = 0; i < n; i++) dnnl_primitive_destroy(gone[i]); /* outside the lock */
}

int lz_cpu_gemm_cache_count(void) {
  int n = 0;
  pthread_mutex_lock(&cache_mu);
  for (int i = 0; i < CACHE_SLOTS; i++) n += cache[i].state != SLOT_EMPTY && !cache[i].stale;
  pthread_mutex_unlock(&cache_mu);
  return n;
}

long long lz_cpu_gemm_primitive_runs(void) { return atomic_load(&primitive_runs); }

int lz_cpu_onednn_matmul(lz_dtype dab, lz_dtype dc, int64_t M, int64_t N, int64_t K, float alpha,
                         float beta, const void *A, int64_t ars, int64_t acs, const void *B,
                         int64_t brs, int64_t bcs, void *C, int64_t ldc) {
  dnnl_engine_t eng = lz__dnnl_engine("lz_matmul");
  dnnl_stream_t stream = eng ? lz__dnnl_stream("lz_matmul") : NULL;
  if (!stream) return -1;
  mm_key k;
  memset(&k, 0, sizeof k);
  k.dab = dnnl_dt(dab), k.dc = dnnl_dt(dc);
  k.nthr = lz__dnnl_threads(gemm_threads(M * N * K));
  k.M = M, k.N = N, k.K = K, k.ars = ars, k.acs = acs, k.brs = brs, k.bcs = bcs, k.ldc = ldc;
  k.alpha = alpha, k.beta = beta;
  bool owned;
  mm_entry *e = entry_get(&k, eng, &owned);
  if (!e) return -1;
  int rc = -1;
  size_t cap = 0;
  void *scratch = e->scratch ? lz__data_alloc(e->scratch, &cap) : NULL;
  dnnl_memory_t mem[4] = {NULL, NULL, NULL, NULL};
  if (e->scratch && !scratch) goto done;
  if (dnnl_memory_create(&mem[0], &e->ma, eng, (void *)A) != dnnl_success ||
      dnnl_memory_create(&mem[1], &e->mb, eng, (void *)B) != dnnl_success ||
      dnnl_memory_create(&mem[2], &e->mc, eng, C) != dnnl_success ||
      (scratch && dnnl_memory_create(&mem[3], &e->ms, eng, scratch) != dnnl_success))
    goto done;
  dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, mem[0]},
                             {DNNL_ARG_WEIGHTS, mem[1]},
                             {DNNL_ARG_DST, mem[2]},
                             {DNNL_ARG_SCRATCHPAD, mem[3]}};
  if (dnnl_primitive_execute(e->prim, stream, scratch ? 4 : 3, args) == dnnl_success &&
      dnnl_stream_wait(stream) == dnnl_success) {
    atomic_fetch_add(&primitive_runs, 1);
    rc = 0;
  }
  lz__dnnl_ran();
done:
  for (int i = 0; i < 4; i++)
    if (mem[i]) dnnl_memory_destroy(mem[i]);
  if (scratch) lz__data_free(scratch, cap);
  entry_put(e, owned);
  return rc;
}

/* ---- native float16/bfloat16 ---- */

static pthread_once_t half_once = PTHREAD_ONCE_INIT;
static bool half_native[2]; /* [0] float16, [1] bfloat16 */

static void half_probe(void) {
  if (lz_cpu_gemm_backend() == LZ_GEMM_OPENBLAS) return;
  dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
  /* bfloat16 only with the instructions: emulated on plain AVX-512 it is slower than float32 */
  bool bf16_isa = (isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16;
  dnnl_engine_t eng = lz__dnnl_engine("lz_matmul");
  if (!eng) {
    lz_clear_error();
    return;
  }
  for (int h = 0; h < 2; h++) {
    if (h == 1 && !bf16_isa) continue;
    mm_entry e;
    memset(&e, 0, sizeof e);
    e.key.dab = e.key.dc = h ? dnnl_bf16 : dnnl_f16;
    e.key.M = e.key.N = e.key.K = 64;
    e.key.ars = e.key.brs = e.key.ldc = 64, e.key.acs = e.key.bcs = 1;
    e.key.alpha = 1, e.key.nthr = 1;
    entry_build(&e, eng);
    half_native[h] = e.state == SLOT_READY;
    entry_clear(&e);
  }
}

bool lz_cpu_gemm_half_native(lz_dtype dt) {
  pthread_once(&half_once, half_probe);
  return dt == LZ_BFLOAT16 ? half_native[1] : dt == LZ_FLOAT16 ? half_native[0] : false;
}

/* ---- float32 and float64 ---- */

/* float32 on oneDNN; false when it declined (the caller then runs OpenBLAS). */
static bool onednn_sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                         const float *A, int64_t lda, const float *B, int64_t ldb, double beta,
                         float *C, int64_t ldc) {
  if (backend == LZ_GEMM_ONEDNN_MATMUL &&
      lz_cpu_onednn_matmul(LZ_FLOAT32, LZ_FLOAT32, M, N, K, (float)alpha, (float)beta, A,
                           ta ? 1 : lda, ta ? lda : 1, B, tb ? 1 : ldb, tb ? ldb : 1, C, ldc) == 0)
    return true;
  lz__dnnl_threads(gemm_threads(M * N * K));
  bool ok = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, (float)alpha, A, lda, B, ldb,
                       (float)beta, C, ldc) == dnnl_success;
  lz__dnnl_ran();
  return ok;
}

/* float32 on oneDNN with a one-thread team on the calling thread; false when it declined. */
static bool onednn_sgemm1(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                          const float *A, int64_t lda, const float *B, int64_t ldb, double beta,
                          float *C, int64_t ldc) {
  lz__dnnl_threads(1);
  return dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, (float)alpha, A, lda, B, ldb,
                    (float)beta, C, ldc) == dnnl_success;
}

void lz_cpu_gemm_serial(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                        const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                        float *C, int64_t ldc) {
  lz__dnnl_threads(1);
  if (dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) ==
      dnnl_success)
    return;
  lz_cpu_gemm(LZ_FLOAT32, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void lz_cpu_gemm_block(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float *A,
                       int64_t lda, const float *B, int64_t ldb, float *C, int64_t ldc) {
  lz_gemm_backend be = lz_cpu_gemm_backend();
  if (be == LZ_GEMM_OPENBLAS || (be == LZ_GEMM_AUTO && !lz_cpu_gemm_auto_onednn(M, N, K)))
    lz_cpu_gemm_blas(LZ_FLOAT32, ta, tb, M, N, K, 1.0, A, lda, B, ldb, 0.0, C, ldc);
  else
    lz_cpu_gemm_serial(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
}

void lz_cpu_gemm(lz_dtype dt, bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                 const void *A, int64_t lda, const void *B, int64_t ldb, double beta, void *C,
                 int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  bool f64 = dt == LZ_FLOAT64;
  if (K <= 0) { /* C = beta * C; BLAS may skip this case */
    for (int64_t i = 0; i < M; i++) {
      for (int64_t j = 0; j < N; j++) {
        if (f64) {
          double *c = (double *)C + i * ldc + j;
          *c = beta == 0 ? 0 : beta * *c;
        } else {
          float *c = (float *)C + i * ldc + j;
          *c = beta == 0 ? 0.0f : (float)beta * *c;
        }
      }
    }
    return;
  }
  /* Inside a pool job a float32 product runs on oneDNN with one thread (oneDNN's small-matrix
   * kernels beat OpenBLAS's single-threaded ones there, ~1.5x at attention's 128x64x128), except
   * under auto for the bigger shapes auto gives OpenBLAS, whose single-threaded kernels are
   * 1.4-1.9x faster per CPU-second there (a GEMM epilogue's blocks, float16 tiles). OpenBLAS
   * runs one thread (core/threads.c), so a worker's call starts no team. */
  bool nested = lz__in_parallel();
  if (!f64) {
    lz_gemm_backend be = lz_cpu_gemm_backend();
    /* ... except under auto for the shapes it gives OpenBLAS (single-threaded: no team) */
    bool dnnl = (nested && !(be == LZ_GEMM_AUTO && !lz_cpu_gemm_auto_onednn(M, N, K))) ||
                be == LZ_GEMM_ONEDNN || be == LZ_GEMM_ONEDNN_MATMUL;
    /* auto: oneDNN one-threaded, in blocks on our pool (gemm_split.c says why not its team) */
    if (!dnnl && be == LZ_GEMM_AUTO && lz_cpu_gemm_auto_onednn(M, N, K) &&
        (lz_cpu_gemm_split(LZ_GEMM_ONEDNN, dt, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C,
                           ldc) ||
         onednn_sgemm1(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc))) {
      atomic_fetch_add_explicit(&lib_runs[1], 1, memory_order_relaxed);
      return;
    }
    if (dnnl && onednn_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)) {
      if (!nested) atomic_fetch_add_explicit(&lib_runs[1], 1, memory_order_relaxed);
      return;
    }
    if (!nested) atomic_fetch_add_explicit(&lib_runs[0], 1, memory_order_relaxed);
  }
  /* OpenBLAS runs single-threaded (core/threads.c): big products go to the pool in blocks
   * (inside a pool job, whole on this thread) */
  if (!nested &&
      lz_cpu_gemm_split(LZ_GEMM_OPENBLAS, dt, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc))
    return;
  lz_cpu_gemm_blas(dt, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void lz_cpu_gemm_blas(lz_dtype dt, bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                      const void *A, int64_t lda, const void *B, int64_t ldb, double beta, void *C,
                      int64_t ldc) {
  bool f64 = dt == LZ_FLOAT64;
  if (N == 1) { /* matrix-vector: y(M) = op(A) x with x = column 0 of op(B) */
    enum CBLAS_TRANSPOSE t = ta ? CblasTrans : CblasNoTrans;
    int rows = (int)(ta ? K : M), cols = (int)(ta ? M : K);
    int incx = (int)(tb ? 1 : ldb);
    if (beta == 0) { /* some BLAS versions compute 0 * y, turning stale NaN into NaN */
      for (int64_t i = 0; i < M; i++) {
        if (f64)
          ((double *)C)[i * ldc] = 0;
        else
          ((float *)C)[i * ldc] = 0;
      }
    }
    if (f64) {
      cblas_dgemv(CblasRowMajor, t, rows, cols, alpha, A, (int)lda, B, incx, beta, C, (int)ldc);
    } else {
      cblas_sgemv(CblasRowMajor, t, rows, cols, (float)alpha, A, (int)lda, B, incx, (float)beta, C,
                  (int)ldc);
    }
    return;
  }
  enum CBLAS_TRANSPOSE tA = ta ? CblasTrans : CblasNoTrans, tB = tb ? CblasTrans : CblasNoTrans;
  if (f64) {
    cblas_dgemm(CblasRowMajor, tA, tB, (int)M, (int)N, (int)K, alpha, A, (int)lda, B, (int)ldb,
                beta, C, (int)ldc);
  } else {
    cblas_sgemm(CblasRowMajor, tA, tB, (int)M, (int)N, (int)K, (float)alpha, A, (int)lda, B,
                (int)ldb, (float)beta, C, (int)ldc);
  }
}
