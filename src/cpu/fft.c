/* The FFT kernel over FFTW (single precision). An n-d transform is a sequence of 1-d passes,
 * one per axis, over a contiguous buffer: complex passes run in place on the output (or on a
 * scratch copy of the input for irfftn), the real-to-complex pass (rfftn: first) and the
 * complex-to-real pass (irfftn: last) go from one buffer to the other.
 *
 * A pass along axis `ax` of a contiguous (outer, len, inner) block is a set of outer * inner
 * lanes. FFTW's "many" plans transform up to LANES lanes at once: with inner == 1 the lanes
 * are consecutive rows (stride 1, distance len), otherwise neighbouring columns (stride inner,
 * distance 1), which FFTW vectorises across. Lanes split across threads; each range executes
 * cached plans with new arrays (fftwf_execute_dft & co. are thread-safe).
 *
 * Plans are made with FFTW_ESTIMATE | FFTW_UNALIGNED (so one plan serves any address and the
 * planner never touches the data) under a mutex, since FFTW's planner is not thread-safe, and
 * cached by (kind, n, lanes, strides, distances) until lz_clear_cache: every execution holds a
 * read lock on the table, so a clear (the write lock) never destroys a plan in use. */
#include <fftw3.h>
#include <pthread.h>
#include <stdlib.h>

#include "../core/threads.h"
#include "fft.h"
#include "linalg_pack.h"

enum { LANES = 8, BUCKETS = 256 };
enum plan_kind { C2C_FORWARD, C2C_BACKWARD, R2C, C2R };

typedef struct plan_key {
  int kind, n, howmany, istride, idist, ostride, odist;
  bool inplace;
} plan_key;

typedef struct plan_entry {
  plan_key key;
  fftwf_plan plan;
  struct plan_entry *next;
} plan_entry;

static pthread_mutex_t plan_mu = PTHREAD_MUTEX_INITIALIZER; /* makes plans, links entries */
static pthread_rwlock_t plan_rw = PTHREAD_RWLOCK_INITIALIZER; /* read: using plans; write: clear */
static plan_entry *plan_table[BUCKETS];
static int plan_count; /* guarded by plan_mu */

static unsigned key_hash(const plan_key *k) {
  uint64_t h = 1469598103934665603ull;
  const int v[8] = {k->kind, k->n, k->howmany, k->istride, k->idist, k->ostride, k->odist, k->inplace};
  for (int i = 0; i < 8; i++) h = (h ^ (uint64_t)(uint32_t)v[i]) * 1099511628211ull;
  return (unsigned)(h % BUCKETS);
}

static bool key_eq(const plan_key *a, const plan_key *b) {
  return a->kind == b->kind && a->n == b->n && a->howmany == b->howmany &&
         a->istride == b->istride && a->idist == b->idist && a->ostride == b->ostride &&
         a->odist == b->odist && a->inplace == b->inplace;
}

/* The cached plan for `k`, made for (in, out) if new; NULL if FFTW cannot plan it. */
static fftwf_plan get_plan(const plan_key *k, void *in, void *out) {
  unsigned h = key_hash(k);
  pthread_mutex_lock(&plan_mu);
  fftwf_plan plan = NULL;
  for (plan_entry *e = plan_table[h]; e; e = e->next)
    if (key_eq(&e->key, k)) {
      plan = e->plan;
      break;
    }
  if (!plan) {
    const unsigned flags = FFTW_ESTIMATE | FFTW_UNALIGNED;
    int n = k->n;
    switch (k->kind) {
    case C2C_FORWARD:
    case C2C_BACKWARD:
      plan = fftwf_plan_many_dft(1, &n, k->howmany, in, NULL, k->istride, k->idist, out, NULL,
                                 k->ostride, k->odist,
                                 k->kind == C2C_FORWARD ? FFTW_FORWARD : FFTW_BACKWARD, flags);
      break;
    case R2C:
      plan = fftwf_plan_many_dft_r2c(1, &n, k->howmany, in, NULL, k->istride, k->idist, out, NULL,
                                     k->ostride, k->odist, flags);
      break;
    default:
      plan = fftwf_plan_many_dft_c2r(1, &n, k->howmany, in, NULL, k->istride, k->idist, out, NULL,
                                     k->ostride, k->odist, flags);
      break;
    }
    plan_entry *e = plan ? malloc(sizeof *e) : NULL;
    if (e) {
      e->key = *k, e->plan = plan, e->next = plan_table[h];
      plan_table[h] = e;
      plan_count++;
    } else if (plan) {
      fftwf_destroy_plan(plan);
      plan = NULL;
    }
  }
  pthread_mutex_unlock(&plan_mu);
  return plan;
}

void lz_cpu_fft_cache_clear(void) {
  pthread_rwlock_wrlock(&plan_rw); /* waits for the transforms running now */
  pthread_mutex_lock(&plan_mu);
  for (int h = 0; h < BUCKETS; h++) {
    while (plan_table[h]) {
      plan_entry *e = plan_table[h];
      plan_table[h] = e->next;
      fftwf_destroy_plan(e->plan);
      free(e);
    }
  }
  plan_count = 0;
  pthread_mutex_unlock(&plan_mu);
  pthread_rwlock_unlock(&plan_rw);
}

int lz_cpu_fft_plan_count(void) {
  pthread_mutex_lock(&plan_mu);
  int n = plan_count;
  pthread_mutex_unlock(&plan_mu);
  return n;
}

/* One pass: `kind` along an axis of logical length n, over the lanes of a contiguous
 * (outer, len_in, inner) input and (outer, len_out, inner) output. */
typedef struct pass_ctx {
  int kind, n;
  int64_t len_in, len_out, inner;
  char *in, *out;
  size_t isz, osz; /* element sizes */
  atomic_bool failed;
} pass_ctx;

static void exec(pass_ctx *c, int howmany, char *in, char *out) {
  bool rows = c->inner == 1;
  plan_key k = {c->kind, c->n, howmany, rows ? 1 : (int)c->inner, rows ? (int)c->len_in : 1,
                rows ? 1 : (int)c->inner, rows ? (int)c->len_out : 1, in == out};
  pthread_rwlock_rdlock(&plan_rw);
  fftwf_plan p = get_plan(&k, in, out);
  if (!p) {
    pthread_rwlock_unlock(&plan_rw);
    atomic_store(&c->failed, true);
    return;
  }
  switch (c->kind) {
  case C2C_FORWARD:
  case C2C_BACKWARD: fftwf_execute_dft(p, (fftwf_complex *)in, (fftwf_complex *)out); break;
  case R2C: fftwf_execute_dft_r2c(p, (float *)in, (fftwf_complex *)out); break;
  default: fftwf_execute_dft_c2r(p, (fftwf_complex *)in, (float *)out); break;
  }
  pthread_rwlock_unlock(&plan_rw);
}

/* Lanes [begin, end): lane L is (o, i) = (L / inner, L % inner). */
static void pass_range(void *ctx, int64_t begin, int64_t end) {
  pass_ctx *c = ctx;
  int64_t L = begin;
  while (L < end) {
    int64_t o = L / c->inner, i = L % c->inner;
    /* Lanes that one plan can reach from here: consecutive rows, or columns of one block. */
    int64_t seg = c->inner == 1 ? end - L : (c->inner - i < end - L ? c->inner - i : end - L);
    char *in = c->in + ((o * c->len_in) * c->inner + i) * (int64_t)c->isz;
    char *out = c->out + ((o * c->len_out) * c->inner + i) * (int64_t)c->osz;
    int64_t step_in = (c->inner == 1 ? c->len_in : 1) * (int64_t)c->isz;
    int64_t step_out = (c->inner == 1 ? c->len_out : 1) * (int64_t)c->osz;
    for (int64_t done = 0; done < seg;) {
      int h = seg - done >= LANES ? LANES : (int)(seg - done);
      exec(c, h, in + done * step_in, out + done * step_out);
      done += h;
    }
    L += seg;
  }
}

/* Runs one pass along `ax` of `shape_in` (the output's shape differs only along ax). */
static int run_pass(int kind, int n, const int *shape_in, int ndim, int ax, int len_out,
                    void *in, void *out, size_t isz, size_t osz) {
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < ax; d++) outer *= shape_in[d];
  for (int d = ax + 1; d < ndim; d++) inner *= shape_in[d];
  int64_t len_in = shape_in[ax];
  if (outer * inner == 0) return 0;
  if (inner > INT32_MAX || len_in * inner > INT32_MAX || (int64_t)len_out * inner > INT32_MAX)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_fft", "the transform is too large for FFTW's int strides");
  pass_ctx c = {kind, n, len_in, len_out, inner, in, out, isz, osz, false};
  int64_t grain = 1 + 32768 / (len_in > 0 ? len_in : 1);
  lz__parallel_for(outer * inner, grain, pass_range, &c);
  if (atomic_load(&c.failed))
    return lz__error(LZ_ERROR_INTERNAL, "lz_fft", "FFTW could not plan a transform of size %d", n);
  return 0;
}

typedef struct scale_ctx {
  float *v;
  float s;
} scale_ctx;

static void scale_range(void *ctx, int64_t b, int64_t e) {
  scale_ctx *c = ctx;
  for (int64_t i = b; i < e; i++) c->v[i] *= c->s;
}

int lz_cpu_fft(lz_node *node, lz_array **outs) {
  const char *op = "lz_fft";
  const lz_fft_params *p = node->params;
  const lz_array *in = node->inputs[0];
  lz_array *out = outs[0];
  if (lz__alloc_output(out, op) != 0) return -1;
  if (out->size == 0) return 0;
  int nd = out->ndim, last = p->axes[p->naxes - 1];
  const size_t C = sizeof(lz_complex64), R = sizeof(float);
  double npoints = 1; /* rfftn's halved axis has its full length in the input */
  for (int i = 0; i < p->naxes; i++)
    npoints *= (double)(p->real && !p->inverse ? in : out)->shape[p->axes[i]];
  double scale = lz__fft_scale(p->norm, p->inverse, npoints);
  char *dst = lz__data_ptr(out);
  void *scratch = NULL; /* from the allocator's cache (lz_cpu_scratch): no fresh pages per call */
  size_t scap = 0;
  int rc = 0;
  if (!p->real) {
    lz__copy_to_contiguous(dst, in);
    int kind = p->inverse ? C2C_BACKWARD : C2C_FORWARD;
    for (int i = 0; rc == 0 && i < p->naxes; i++) {
      int ax = p->axes[i];
      rc = run_pass(kind, out->shape[ax], out->shape, nd, ax, out->shape[ax], dst, dst, C, C);
    }
  } else if (!p->inverse) { /* rfftn: real pass on the last axis, then complex passes */
    const char *src = lz__data_ptr(in);
    if (!lz__is_contiguous(in)) {
      if (!(scratch = lz_cpu_scratch((size_t)in->size * R, &scap, op))) return -1;
      lz__copy_to_contiguous(scratch, in);
      src = scratch;
    }
    rc = run_pass(R2C, in->shape[last], in->shape, nd, last, out->shape[last], (void *)src, dst, R, C);
    for (int i = 0; rc == 0 && i < p->naxes - 1; i++) {
      int ax = p->axes[i];
      rc = run_pass(C2C_FORWARD, out->shape[ax], out->shape, nd, ax, out->shape[ax], dst, dst, C, C);
    }
  } else { /* irfftn: complex passes on a scratch copy, then the real pass (which destroys it) */
    if (!(scratch = lz_cpu_scratch((size_t)in->size * C, &scap, op))) return -1;
    lz__copy_to_contiguous(scratch, in);
    for (int i = 0; rc == 0 && i < p->naxes - 1; i++) {
      int ax = p->axes[i];
      rc = run_pass(C2C_BACKWARD, in->shape[ax], in->shape, nd, ax, in->shape[ax], scratch, scratch, C, C);
    }
    if (rc == 0)
      rc = run_pass(C2R, out->shape[last], in->shape, nd, last, out->shape[last], scratch, dst, C, R);
  }
  if (scratch) lz_cpu_scratch_free(scratch, scap);
  if (rc == 0 && scale != 1.0) {
    scale_ctx s = {(float *)dst, (float)scale};
    int64_t nfloats = out->size * (out->dtype == LZ_COMPLEX64 ? 2 : 1);
    lz__parallel_for(nfloats, 65536, scale_range, &s);
  }
  return rc;
}
