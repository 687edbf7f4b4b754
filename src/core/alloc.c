/* The data allocator: 64-byte aligned blocks, a size-bucketed cache of freed blocks for reuse,
 * memory statistics, an optional memory limit, and a failure hook for tests.
 * Size classes are 2^k, 1.25*2^k, 1.5*2^k and 1.75*2^k bytes, so a reused block wastes < 25%. */
#include "internal.h"
#include "threads.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

enum { NUM_CLASSES = 4 * 64 };

typedef struct free_block {
  struct free_block *next;
} free_block;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static free_block *cache_lists[NUM_CLASSES];
static size_t active_bytes, peak_bytes, cache_bytes;
static size_t cache_limit = (size_t)8 << 30;
static size_t memory_limit; /* 0: none */
static atomic_llong fail_countdown;
static atomic_ullong kernel_count, node_count, donation_count;

/* Size class index and its capacity for a request of n bytes. */
static int size_class(size_t n, size_t *cap) {
  if (n < 64) n = 64;
  int k = 63 - __builtin_clzll((unsigned long long)n); /* 2^k <= n */
  size_t base = (size_t)1 << k;
  int q = 0;
  size_t c = base;
  if (n > base) {
    size_t step = base >> 2;
    q = (int)((n - base + step - 1) / step); /* 1..4 */
    c = base + (size_t)q * step;
    if (q == 4) k += 1, q = 0, c = (size_t)1 << k;
  }
  *cap = c;
  return k * 4 + q;
}

/* Blocks of 2 MiB and more are 2 MiB aligned and asked to use transparent huge pages (where
 * the kernel's setting is "madvise" or "always"): touching a fresh 64 MiB array then costs 32
 * page faults instead of 16384, and a 2 MiB one 1 instead of 512 (a page fault costs ~11 us on
 * nested VMs). A block's tail past its last whole huge page stays in 4 KiB pages: nothing is
 * reserved beyond the block's capacity. The cache keeps blocks for reuse, so a training loop
 * takes no faults once its first step has run (tests/test_perf_paths.c; `make bench` prints
 * faults per step).
 * Blocks from 64 KiB up to 2 MiB (an MLP's weights and activations) are carved from huge-page
 * chunks: a fresh block takes a new 2 MiB chunk (mmap, 2 MiB aligned, MADV_HUGEPAGE) and the
 * rest of the chunk is cut into blocks of the size classes that fill it exactly, which go into
 * the cache (counted in lz_get_cache_memory), so the first step of a training loop takes one
 * fault per chunk instead of one per 4 KiB. Each carved block is its own page range, so it goes
 * back to the system alone (munmap). Not under AddressSanitizer: its heap blocks have redzones
 * that catch overflows, carved blocks would not. */
enum { HUGE_MIN = 2 << 20, HUGE_ALIGN = 2 << 20, CARVE_MIN = 64 << 10 };

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LZ_ALLOC_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(LZ_ALLOC_ASAN)
enum { CARVE = 0 };
#else
enum { CARVE = 1 };
#endif

static bool carved(size_t cap) { return CARVE && cap >= CARVE_MIN && cap < HUGE_MIN; }

/* The capacity of size class `cls` (the inverse of size_class). */
static size_t class_cap(int cls) {
  int k = cls / 4, q = cls % 4;
  return ((size_t)1 << k) + (k >= 2 ? (size_t)q << (k - 2) : 0);
}

static void release_cached(void);

/* A 2 MiB chunk, 2 MiB aligned, asked for huge pages; NULL when the system has none. */
static char *huge_chunk(void) {
  size_t len = 2 * (size_t)HUGE_ALIGN;
  char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return NULL;
  char *c = (char *)(((uintptr_t)m + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1));
  if (c > m) munmap(m, (size_t)(c - m));
  if (c + HUGE_ALIGN < m + len) munmap(c + HUGE_ALIGN, (size_t)(m + len - (c + HUGE_ALIGN)));
#ifdef MADV_HUGEPAGE
  madvise(c, HUGE_ALIGN, MADV_HUGEPAGE);
#endif
  return c;
}

/* A block of `cap` carved from a new chunk; the chunk's rest goes into the cache as blocks of
 * the largest classes that leave 0 or at least CARVE_MIN (every capacity here is a multiple of
 * 16 KiB and the classes of 64, 80, 96 and 112 KiB cover any such rest, so nothing is left). */
static void *carve(size_t cap) {
  char *c = huge_chunk();
  if (!c) return NULL;
  size_t off = cap;
  pthread_mutex_lock(&mu);
  while (off < HUGE_ALIGN) {
    size_t rest = HUGE_ALIGN - off, bcap;
    int cls = size_class(rest, &bcap);
    if (bcap > rest) cls--; /* the class below rest */
    while (cls > 0 && class_cap(cls) != rest && rest - class_cap(cls) < CARVE_MIN) cls--;
    bcap = class_cap(cls);
    if (bcap < CARVE_MIN || cache_bytes + bcap > cache_limit) break;
    free_block *b = (free_block *)(c + off);
    b->next = cache_lists[cls];
    cache_lists[cls] = b;
    cache_bytes += bcap;
    off += bcap;
  }
  pthread_mutex_unlock(&mu);
  if (off < HUGE_ALIGN) munmap(c + off, HUGE_ALIGN - off); /* over the cache limit */
  return c;
}

static void *system_alloc(size_t cap) {
  if (carved(cap)) return carve(cap);
  void *p = NULL;
  if (posix_memalign(&p, cap >= HUGE_MIN ? HUGE_ALIGN : 64, cap) != 0) return NULL;
#ifdef MADV_HUGEPAGE
  if (cap >= HUGE_MIN) madvise(p, cap, MADV_HUGEPAGE);
#endif
  return p;
}

static void system_free(void *p, size_t cap) {
  if (carved(cap)) munmap(p, cap);
  else free(p);
}

void *lz__data_alloc(size_t nbytes, size_t *capacity) {
  size_t cap;
  int cls = size_class(nbytes, &cap);
  void *p = NULL;
  if (lz__should_fail()) return NULL;
  pthread_mutex_lock(&mu);
  if (memory_limit && active_bytes + cap > memory_limit) {
    pthread_mutex_unlock(&mu);
    return NULL;
  }
  if (cache_lists[cls]) {
    free_block *b = cache_lists[cls];
    cache_lists[cls] = b->next;
    cache_bytes -= cap;
    p = b;
  }
  active_bytes += cap;
  if (active_bytes > peak_bytes) peak_bytes = active_bytes;
  pthread_mutex_unlock(&mu);
  if (!p) {
    p = system_alloc(cap);
    if (!p) { /* give the cache back to the system and try once more */
      release_cached();
      p = system_alloc(cap);
    }
    if (!p) {
      pthread_mutex_lock(&mu);
      active_bytes -= cap;
      pthread_mutex_unlock(&mu);
      return NULL;
    }
  }
  *capacity = cap;
  return p;
}

void lz__data_free(void *p, size_t capacity) {
  if (!p) return;
  size_t cap;
  int cls = size_class(capacity, &cap);
  pthread_mutex_lock(&mu);
  active_bytes -= capacity;
  if (cap == capacity && cache_bytes + cap <= cache_limit) {
    free_block *b = p;
    b->next = cache_lists[cls];
    cache_lists[cls] = b;
    cache_bytes += cap;
    p = NULL;
  }
  pthread_mutex_unlock(&mu);
  if (p) system_free(p, capacity);
}

/* The public name of an op for an error message: kernels pass their registry name ("add") and
 * messages must name the public op ("lz_add"), so every one starts with "[lz_" (the op fuzz
 * test's allocation-failure run checks it). Only error paths format it. */
static const char *public_name(const char *op, char *buf, size_t cap) {
  if (!op || strncmp(op, "lz_", 3) == 0) return op;
  snprintf(buf, cap, "lz_%s", op);
  return buf;
}

lz_buffer *lz__buffer_new(size_t nbytes, const char *op) {
  char pub[64];
  lz_buffer *b = lz__obj_alloc(sizeof *b);
  if (!b) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, public_name(op, pub, sizeof pub),
              "out of memory allocating a buffer header");
    return NULL;
  }
  memset(b, 0, sizeof *b);
  atomic_init(&b->refs, 1);
  b->nbytes = nbytes;
  if (nbytes <= sizeof b->inline_data) {
    b->data = b->inline_data;
    return b;
  }
  b->data = lz__data_alloc(nbytes, &b->capacity);
  if (!b->data) {
    lz__obj_free(b, sizeof *b);
    char lim[64] = "";
    if (memory_limit) snprintf(lim, sizeof lim, " (memory limit %zu bytes)", memory_limit);
    lz__error(LZ_ERROR_OUT_OF_MEMORY, public_name(op, pub, sizeof pub),
              "out of memory allocating %zu bytes%s", nbytes, lim);
    return NULL;
  }
  return b;
}

/* Donation: an elementwise kernel may write its output into an input's buffer when nothing else
 * can see that input: the node holds its only reference, the buffer has no other user (no view),
 * and it has the output's size, layout and element size. Saves an allocation and keeps the
 * working set in cache for chains like exp(x) * 2 + 1. */
int lz__alloc_output_donate(lz_array *out, lz_node *node, const char *op) {
  /* under a transform the node may be kept (a tape) and its inputs read by the backward pass */
  if (LZ_UNLIKELY(lz__tracing())) return lz__alloc_output(out, op);
  size_t isz = lz_dtype_size(out->dtype), nbytes = (size_t)out->size * isz;
  for (int i = 0; i < node->ninputs; i++) {
    lz_array *in = node->inputs[i];
    lz_buffer *b = in->buf;
    if (!b || b->release || !b->capacity || b->nbytes != nbytes || in->offset != 0 ||
        in->size != out->size || lz_dtype_size(in->dtype) != isz)
      continue;
    if (atomic_load_explicit(&in->refs, memory_order_acquire) != 1 ||
        atomic_load_explicit(&b->refs, memory_order_acquire) != 1 || !lz__is_contiguous(in))
      continue;
    lz__buffer_retain(b);
    lz__buffer_release(out->buf);
    out->buf = b;
    out->offset = 0;
    lz__set_contiguous_strides(out);
    atomic_fetch_add_explicit(&donation_count, 1, memory_order_relaxed);
    return 0;
  }
  return lz__alloc_output(out, op);
}

uint64_t lz__donation_count(void) { return atomic_load(&donation_count); }

lz_buffer *lz__buffer_wrap(void *data, size_t nbytes, void (*release)(void *, void *), void *ctx) {
  lz_buffer *b = lz__obj_alloc(sizeof *b);
  if (!b) return NULL;
  memset(b, 0, sizeof *b);
  atomic_init(&b->refs, 1);
  b->data = data;
  b->nbytes = nbytes;
  b->release = release;
  b->ctx = ctx;
  return b;
}

void lz__buffer_retain(lz_buffer *b) { atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed); }

void lz__buffer_release(lz_buffer *b) {
  if (!b || atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1) return;
  if (b->release) b->release(b->data, b->ctx);
  else if (b->capacity) lz__data_free(b->data, b->capacity);
  lz__obj_free(b, sizeof *b);
}

void lz__count_kernel(void) { atomic_fetch_add_explicit(&kernel_count, 1, memory_order_relaxed); }
void lz__count_node(void) { atomic_fetch_add_explicit(&node_count, 1, memory_order_relaxed); }
uint64_t lz_get_kernel_count(void) { return atomic_load(&kernel_count); }
uint64_t lz_get_node_count(void) { return atomic_load(&node_count); }

#define LOCKED(expr)                                                                             \
  do {                                                                                           \
    pthread_mutex_lock(&mu);                                                                     \
    expr;                                                                                        \
    pthread_mutex_unlock(&mu);                                                                   \
  } while (0)

size_t lz_get_active_memory(void) {
  size_t v;
  LOCKED(v = active_bytes);
  return v;
}
size_t lz_get_peak_memory(void) {
  size_t v;
  LOCKED(v = peak_bytes);
  return v;
}
void lz_reset_peak_memory(void) { LOCKED(peak_bytes = active_bytes); }
size_t lz_get_cache_memory(void) {
  size_t v;
  LOCKED(v = cache_bytes);
  return v;
}
size_t lz_set_memory_limit(size_t bytes) {
  size_t old;
  LOCKED(old = memory_limit; memory_limit = bytes);
  return old;
}
void lz_set_alloc_failure(int64_t n) { atomic_store(&fail_countdown, n > 0 ? n : 0); }

/* Allocations left before the failure hook fires: 0 once it fired (or when it is off). Tests
 * (declaring it themselves) read it to know that a program ran past its last allocation. */
LZ_HIDDEN int64_t lz__alloc_failure_pending(void);
int64_t lz__alloc_failure_pending(void) { return atomic_load(&fail_countdown); }

bool lz__should_fail(void) {
  if (LZ_LIKELY(atomic_load_explicit(&fail_countdown, memory_order_relaxed) <= 0)) return false;
  return atomic_fetch_sub(&fail_countdown, 1) == 1;
}

void *lz__malloc(size_t n) { return lz__should_fail() ? NULL : malloc(n); }

/* ---- metadata objects: arrays, nodes and buffer headers ---------------------------------
 * A graph of a million nodes allocates and frees two million small objects; malloc's
 * consolidation and the heap trimmed and grown again (page faults) cost more than the node's
 * work. Freed objects are kept by size class (32-byte steps up to 512) in "magazines": arrays
 * of pointers, two per class and thread, so allocation and release are a few instructions and
 * never read the freed object itself (an intrusive free list would take one dependent cache
 * miss per allocation once a big graph has pushed the objects out of cache). A thread with
 * both magazines full hands one to a global list that every thread refills from, so objects
 * freed on another thread (async eval, workers) come back into circulation. The global list
 * is bounded; lz_clear_cache and thread exit give objects back to the system. Under ASan a
 * cached object stays poisoned, so a use after release is still reported. */

enum { OBJ_STEP = 32, OBJ_CLASSES = 16, MAG_SIZE = 254 };

typedef struct magazine {
  struct magazine *next; /* on a global list */
  int n;
  void *p[MAG_SIZE];
} magazine;

typedef struct mag_pair {
  magazine *cur, *prev;
} mag_pair;

/* Touched several times per recorded node: LZ_TLS_FAST. */
static _Thread_local mag_pair tl_mags[OBJ_CLASSES] LZ_TLS_FAST;
static _Thread_local bool tl_mags_hooked LZ_TLS_FAST;
static pthread_mutex_t obj_mu = PTHREAD_MUTEX_INITIALIZER;
static magazine *gl_full[OBJ_CLASSES]; /* guarded by obj_mu */
static magazine *gl_empty;             /* guarded by obj_mu */
static size_t gl_obj_bytes, gl_nempty; /* guarded by obj_mu */
static const size_t gl_obj_limit = (size_t)512 << 20, gl_empty_limit = 64;

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define OBJ_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define OBJ_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define OBJ_POISON(p, n) ((void)(p), (void)(n))
#define OBJ_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

static size_t class_bytes(int cls) { return (size_t)(cls + 1) * OBJ_STEP; }

/* Frees a magazine's objects and, unless keep_mag, the magazine. */
static void mag_drain(magazine *m, int cls, bool keep_mag) {
  if (!m) return;
  for (int i = 0; i < m->n; i++) {
    OBJ_UNPOISON(m->p[i], class_bytes(cls));
    free(m->p[i]);
  }
  m->n = 0;
  if (!keep_mag) free(m);
}

/* Trades a full magazine for an empty one (NULL if none can be had). */
static magazine *mag_swap_full(magazine *full, int cls) {
  size_t bytes = (size_t)MAG_SIZE * class_bytes(cls);
  magazine *e = NULL;
  pthread_mutex_lock(&obj_mu);
  bool keep = gl_obj_bytes + bytes <= gl_obj_limit;
  if (keep) {
    full->next = gl_full[cls];
    gl_full[cls] = full;
    gl_obj_bytes += bytes;
    if (gl_empty) e = gl_empty, gl_empty = e->next, gl_nempty--;
  }
  pthread_mutex_unlock(&obj_mu);
  if (!keep) { /* the cache is at its bound: give these objects back, reuse the magazine */
    mag_drain(full, cls, true);
    return full;
  }
  if (!e) e = malloc(sizeof *e);
  if (e) e->n = 0;
  return e;
}

/* Trades an empty magazine (may be NULL) for a full one from the global list, or NULL. */
static magazine *mag_swap_empty(magazine *empty, int cls) {
  size_t bytes = (size_t)MAG_SIZE * class_bytes(cls);
  pthread_mutex_lock(&obj_mu);
  magazine *f = gl_full[cls];
  if (f) {
    gl_full[cls] = f->next;
    gl_obj_bytes -= bytes;
    if (empty && gl_nempty < gl_empty_limit) {
      empty->next = gl_empty, gl_empty = empty, gl_nempty++;
      empty = NULL;
    }
  }
  pthread_mutex_unlock(&obj_mu);
  if (f) free(empty);
  return f;
}

/* Gives the calling thread's objects and magazines back (thread exit, lz_clear_cache). */
static void objs_flush_local(void) {
  for (int c = 0; c < OBJ_CLASSES; c++) {
    mag_drain(tl_mags[c].cur, c, false);
    mag_drain(tl_mags[c].prev, c, false);
    tl_mags[c].cur = tl_mags[c].prev = NULL;
  }
}

/* Once per thread, before it first holds a magazine: a thread that ends gives them back. */
static void hook_thread(void) {
  if (!tl_mags_hooked) {
    tl_mags_hooked = true;
    lz__at_thread_exit(objs_flush_local);
  }
}

static inline int obj_class(size_t n) {
  return n <= OBJ_STEP ? 0 : (int)((n - 1) / OBJ_STEP);
}

void *lz__obj_alloc(size_t n) {
  if (lz__should_fail()) return NULL;
  int cls = obj_class(n);
  if (cls >= OBJ_CLASSES) return malloc(n);
  mag_pair *mp = &tl_mags[cls];
  magazine *m = mp->cur;
  if (LZ_UNLIKELY(!m || m->n == 0)) {
    hook_thread();
    if (mp->prev && mp->prev->n > 0) {
      mp->cur = mp->prev, mp->prev = m;
    } else {
      magazine *f = mag_swap_empty(m, cls); /* on success m went to the global list */
      if (!f) return malloc(class_bytes(cls));
      mp->cur = f;
    }
    m = mp->cur;
  }
  void *p = m->p[--m->n];
  OBJ_UNPOISON(p, class_bytes(cls));
  return p;
}

void lz__obj_free(void *p, size_t n) {
  if (!p) return;
  int cls = obj_class(n);
  if (cls >= OBJ_CLASSES) {
    free(p);
    return;
  }
  mag_pair *mp = &tl_mags[cls];
  magazine *m = mp->cur;
  if (LZ_UNLIKELY(!m || m->n == MAG_SIZE)) {
    hook_thread();
    if (mp->prev && mp->prev->n < MAG_SIZE) {
      mp->cur = mp->prev, mp->prev = m;
    } else {
      magazine *e;
      if (m && mp->prev) { /* both full: the older one goes to the global list */
        e = mag_swap_full(mp->prev, cls);
        mp->prev = m;
      } else {
        e = malloc(sizeof *e);
        if (e) e->n = 0;
        if (m) mp->prev = m;
      }
      mp->cur = e;
      if (!e) {
        free(p);
        return;
      }
    }
    m = mp->cur;
  }
  m->p[m->n++] = p;
  OBJ_POISON(p, class_bytes(cls));
}

static void objs_clear_global(void) {
  magazine *full[OBJ_CLASSES], *empty;
  pthread_mutex_lock(&obj_mu);
  for (int c = 0; c < OBJ_CLASSES; c++) full[c] = gl_full[c], gl_full[c] = NULL;
  empty = gl_empty, gl_empty = NULL;
  gl_obj_bytes = gl_nempty = 0;
  pthread_mutex_unlock(&obj_mu);
  for (int c = 0; c < OBJ_CLASSES; c++) {
    while (full[c]) {
      magazine *nx = full[c]->next;
      mag_drain(full[c], c, false);
      full[c] = nx;
    }
  }
  while (empty) {
    magazine *nx = empty->next;
    free(empty);
    empty = nx;
  }
}

/* Gives every cached data block back to the system. */
static void release_cached(void) {
  free_block *all[NUM_CLASSES];
  pthread_mutex_lock(&mu);
  for (int i = 0; i < NUM_CLASSES; i++) all[i] = cache_lists[i], cache_lists[i] = NULL;
  cache_bytes = 0;
  pthread_mutex_unlock(&mu);
  for (int i = 0; i < NUM_CLASSES; i++) {
    while (all[i]) {
      free_block *n = all[i]->next;
      system_free(all[i], class_cap(i));
      all[i] = n;
    }
  }
}

void lz_clear_cache(void) {
  objs_flush_local();
  objs_clear_global();
  release_cached();
  lz__clear_kernel_caches();
}

size_t lz_set_cache_limit(size_t bytes) {
  size_t old;
  LOCKED(old = cache_limit; cache_limit = bytes);
  if (lz_get_cache_memory() > bytes) release_cached();
  return old;
}
