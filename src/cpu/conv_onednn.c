/* Convolutions on oneDNN primitives (see conv.h). A convolution node is mapped onto one of
 * three primitives, all reading and writing the operands where they lie (oneDNN memory
 * descriptors carry the arrays' element strides, so transposed views such as the vjp's
 * batch/channel swaps cost no copy):
 * - FWD, a forward convolution: no input dilation (padding may be negative: the input is
 *   cropped by narrowing its descriptor). A flipped kernel is reversed into scratch first.
 * - DECONV, a deconvolution (the transposed convolution, i.e. the input-gradient of a strided
 *   convolution): input dilation with unit stride; the flipped kernel is its natural weight.
 * - BWD_W, convolution backward-weights: the weight-gradient of a convolution is recorded by the
 *   vjp as a convolution of the input with the cotangent, batch and channels swapped, whose
 *   "kernel" (the cotangent's spatial extent) is larger than its output (the weight's extent).
 *   That shape is exactly oneDNN's backward-weights problem, which runs it as a reduction over
 *   the batch instead of a convolution with a huge kernel. The depthwise weight gradient is
 *   recorded as a grouped convolution of batch 1 whose channels are group-major (group, image):
 *   the grouped backward-weights problem with the images as its batch.
 * Activations stay channels-last in place, or go through oneDNN's blocked layout when there are
 * 8 or more channels per group (see entry_create); weights are reordered to the layout oneDNN
 * prefers (small). Operands in another dtype or layout than the primitive wants go through a
 * oneDNN reorder into scratch; float16 and bfloat16 are computed in float32 and rounded once,
 * as on the reference path. Batches are cut into slices run on Lazuli's pool (see run()).
 * Whatever oneDNN cannot do (a primitive it does not implement, or only as a reference loop)
 * returns 1 and runs on the reference path; nothing is recorded in the error slot.
 *
 * Primitives live in a bounded cache keyed on the whole problem (kind, dims, strides of every
 * operand, geometry, thread count): 64 entries, least recently used evicted, one mutex; an entry
 * in use by a thread is destroyed only once that thread is done with it. */
#include "conv.h"
#include "linalg_pack.h"
#include "onednn.h"

#include <pthread.h>

#include "../core/threads.h"
#include <stdlib.h>

enum { KIND_FWD, KIND_DECONV, KIND_BWD_W };
enum { ARG_SRC, ARG_WEI, ARG_DST, NARGS }; /* the primitive's roles, in that order */
enum { CACHE_CAP = 64 };

/* One operand as oneDNN sees it: logical dims (batch/out-channels, channels, spatial...) or for
 * weights (groups, out, in, spatial...), element strides, dtype. */
typedef struct operand {
  int ndims;
  dnnl_dims_t dims, strides;
  int dt; /* dnnl_data_type_t */
} operand;

typedef struct prim_key {
  int kind, nsp, groups, nthreads;
  dnnl_dims_t stride, dil, pl, pr;
  operand arg[NARGS];
} prim_key;

typedef struct entry {
  prim_key key;
  dnnl_primitive_t prim;
  dnnl_primitive_t reorder[NARGS]; /* user layout <-> primitive layout, NULL when they agree */
  size_t inner_bytes[NARGS];       /* size of the primitive-layout copy when reordered */
  size_t scratch_bytes;
  uint64_t used; /* LRU tick */
  int refs;      /* the cache's own reference + running users */
  bool cached;
} entry;

static struct {
  pthread_mutex_t mu;
  entry *slot[CACHE_CAP];
  int n;
  uint64_t tick;
} cache = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0};

static _Atomic long runs_onednn, runs_ref, created;

/* ---- path selection ---- */

static _Atomic int path_forced = -1; /* lz_cpu_conv_set_path; -1: from the environment */

/* LZ_CONV is read at every convolution (a getenv is nothing next to one), so that a program
 * such as the bench can compare both paths in one run. */
lz_conv_path lz_cpu_conv_path(void) {
  int f = atomic_load(&path_forced);
  if (f >= 0) return (lz_conv_path)f;
  const char *e = getenv("LZ_CONV");
  return e && !strcmp(e, "ref") ? LZ_CONV_PATH_REF : LZ_CONV_PATH_ONEDNN;
}

void lz_cpu_conv_set_path(int path) { atomic_store(&path_forced, path); }

void lz_cpu_conv_counts(long *onednn, long *ref) {
  if (onednn) *onednn = atomic_load(&runs_onednn);
  if (ref) *ref = atomic_load(&runs_ref);
}

void lz_cpu_conv_count_ref(void) { atomic_fetch_add(&runs_ref, 1); }

long lz_cpu_conv_created(void) { return atomic_load(&created); }

/* ---- operands ---- */

static int dnnl_dt(lz_dtype dt) {
  return dt == LZ_FLOAT16 ? dnnl_f16 : dt == LZ_BFLOAT16 ? dnnl_bf16 : dnnl_f32;
}

/* The operand of array a seen with axis `ab` as oneDNN's first dim and `ac` as its second,
 * spatial axes 1..nsp after them, each spatial dim narrowed to [lo[d], lo[d] + len[d]) (lo and
 * len NULL: whole). Returns the element offset of the first element. */
static int64_t operand_of(operand *op, const lz_array *a, int ab, int ac, int nsp, const int64_t *lo,
                          const int64_t *len) {
  int64_t off = 0;
  op->ndims = nsp + 2;
  op->dt = dnnl_dt(a->dtype);
  op->dims[0] = a->shape[ab], op->strides[0] = a->strides[ab];
  op->dims[1] = a->shape[ac], op->strides[1] = a->strides[ac];
  for (int d = 0; d < nsp; d++) {
    op->dims[2 + d] = len ? len[d] : a->shape[1 + d];
    op->strides[2 + d] = a->strides[1 + d];
    if (lo) off += lo[d] * a->strides[1 + d];
  }
  for (int d = op->ndims; d < DNNL_MAX_NDIMS; d++) op->dims[d] = op->strides[d] = 0;
  return off;
}

/* Weights (O, K..., Cg) as oneDNN's (G, O/G, Cg, K...) (or (O, Cg, K...) when G == 1). */
static void weight_operand(operand *op, const int64_t *shape, const int64_t *strides, int nsp,
                           int groups, int dt) {
  int i = 0;
  op->dt = dt;
  if (groups > 1) op->dims[i] = groups, op->strides[i++] = shape[0] / groups * strides[0];
  op->dims[i] = shape[0] / groups, op->strides[i++] = strides[0];
  op->dims[i] = shape[nsp + 1], op->strides[i++] = strides[nsp + 1];
  for (int d = 0; d < nsp; d++) op->dims[i] = shape[1 + d], op->strides[i++] = strides[1 + d];
  op->ndims = i;
  for (; i < DNNL_MAX_NDIMS; i++) op->dims[i] = op->strides[i] = 0;
}

static bool operand_ok(const operand *op) {
  for (int d = 0; d < op->ndims; d++)
    if (op->dims[d] <= 0 || (op->strides[d] <= 0 && op->dims[d] > 1)) return false;
  return true;
}

static dnnl_status_t md_of(dnnl_memory_desc_t *md, const operand *op) {
  dnnl_dims_t st = {0};
  for (int d = 0; d < op->ndims; d++) st[d] = op->dims[d] == 1 && op->strides[d] <= 0 ? 1 : op->strides[d];
  return dnnl_memory_desc_init_by_strides(md, op->ndims, op->dims, (dnnl_data_type_t)op->dt, st);
}

/* ---- primitive creation ---- */

static void entry_destroy(entry *e) {
  if (!e) return;
  if (e->prim) dnnl_primitive_destroy(e->prim);
  for (int i = 0; i < NARGS; i++)
    if (e->reorder[i]) dnnl_primitive_destroy(e->reorder[i]);
  free(e);
}

/* A reorder from `from` to `to`; NULL prim when they are equal. */
static dnnl_status_t make_reorder(dnnl_engine_t eng, const dnnl_memory_desc_t *from,
                                  const dnnl_memory_desc_t *to, dnnl_primitive_t *prim) {
  *prim = NULL;
  if (dnnl_memory_desc_equal(from, to)) return dnnl_success;
  dnnl_primitive_desc_t pd;
  dnnl_status_t st = dnnl_reorder_primitive_desc_create(&pd, from, eng, to, eng, NULL);
  if (st != dnnl_success) return st;
  st = dnnl_primitive_create(prim, pd);
  dnnl_primitive_desc_destroy(pd);
  return st;
}

static dnnl_format_tag_t channels_last(int nsp) {
  return nsp == 1 ? dnnl_nwc : nsp == 2 ? dnnl_nhwc : dnnl_ndhwc;
}

/* The primitive descriptor of key k on the descriptors `want` (float32 activations in their
 * chosen layout, weights "any"). */
static dnnl_status_t pd_create(const prim_key *k, dnnl_engine_t eng, const dnnl_memory_desc_t *want,
                               dnnl_primitive_desc_t *pd) {
  dnnl_primitive_desc_t hint = NULL;
  const dnnl_memory_desc_t *src = &want[ARG_SRC], *wei = &want[ARG_WEI], *dst = &want[ARG_DST];
  dnnl_primitive_attr_t attr = NULL;
  dnnl_status_t st = dnnl_primitive_attr_create(&attr);
  *pd = NULL;
  if (st == dnnl_success) st = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
  if (st == dnnl_success && k->kind == KIND_FWD) {
    dnnl_convolution_desc_t cd;
    st = dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference,
                                                    dnnl_convolution_direct, src, wei, NULL, dst,
                                                    k->stride, k->dil, k->pl, k->pr);
    if (st == dnnl_success) st = dnnl_primitive_desc_create(pd, &cd, attr, eng, NULL);
  } else if (st == dnnl_success && k->kind == KIND_DECONV) {
    dnnl_deconvolution_desc_t dd;
    st = dnnl_dilated_deconvolution_forward_desc_init(&dd, dnnl_forward_inference,
                                                      dnnl_deconvolution_direct, src, wei, NULL,
                                                      dst, k->stride, k->dil, k->pl, k->pr);
    if (st == dnnl_success) st = dnnl_primitive_desc_create(pd, &dd, attr, eng, NULL);
  } else if (st == dnnl_success) { /* BWD_W: src, diff_dst (ARG_WEI), diff_weights (ARG_DST) */
    dnnl_convolution_desc_t fd, bd;
    const dnnl_memory_desc_t *ddst = &want[ARG_WEI], *dw = &want[ARG_DST];
    st = dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training,
                                                    dnnl_convolution_direct, src, dw, NULL, ddst,
                                                    k->stride, k->dil, k->pl, k->pr);
    if (st == dnnl_success) st = dnnl_primitive_desc_create(&hint, &fd, NULL, eng, NULL);
    if (st == dnnl_success)
      st = dnnl_dilated_convolution_backward_weights_desc_init(&bd, dnnl_convolution_direct, src, dw,
                                                               NULL, ddst, k->stride, k->dil, k->pl,
                                                               k->pr);
    if (st == dnnl_success) st = dnnl_primitive_desc_create(pd, &bd, attr, eng, hint);
  }
  if (attr) dnnl_primitive_attr_destroy(attr);
  if (hint) dnnl_primitive_desc_destroy(hint);
  if (st == dnnl_success) {
    /* oneDNN's reference implementations are plain loops, slower than our im2col path */
    const char *impl = NULL;
    dnnl_primitive_desc_query(*pd, dnnl_query_impl_info_str, 0, &impl);
    if (impl && !strncmp(impl, "ref", 3)) st = dnnl_unimplemented;
  }
  if (st != dnnl_success && *pd) {
    dnnl_primitive_desc_destroy(*pd);
    *pd = NULL;
  }
  return st;
}

/* Creates the primitive of key k: *out set, or NULL with the status. */
static dnnl_status_t entry_create(const prim_key *k, dnnl_engine_t eng, entry **out) {
  *out = NULL;
  entry *e = calloc(1, sizeof *e);
  if (!e) return dnnl_out_of_memory;
  memcpy(&e->key, k, sizeof *k); /* padding bytes too: keys compare with memcmp */
  dnnl_memory_desc_t user[NARGS], want[NARGS];
  dnnl_status_t st = dnnl_success;
  for (int i = 0; i < NARGS && st == dnnl_success; i++) st = md_of(&user[i], &k->arg[i]);
  /* Activations: with 8 or more channels per group on both sides, the layout oneDNN prefers
   * (blocked by the vector width: its fastest kernels, worth the reorders of the activations:
   * the ResNet layer 21.6 ms against 27-32 channels-last, thread CPU time on one AVX2 core);
   * with fewer (the first layer of a CNN) channels-last in place (C = 3: 0.75 ms against 1.04
   * blocked, its backward-weights 0.8 against 4.4). Weights always as oneDNN prefers. */
  int w_arg = k->kind == KIND_BWD_W ? ARG_DST : ARG_WEI, o_arg = k->kind == KIND_BWD_W ? ARG_WEI : ARG_DST;
  bool blocked = k->arg[ARG_SRC].dims[1] / k->groups >= 8 && k->arg[o_arg].dims[1] / k->groups >= 8;
  dnnl_primitive_desc_t pd = NULL;
  for (int attempt = 0; attempt < 2 && !pd; attempt++) { /* then the other layout */
    bool any = blocked != (attempt == 1);
    for (int i = 0; i < NARGS && st == dnnl_success; i++) {
      const operand *a = &k->arg[i];
      st = dnnl_memory_desc_init_by_tag(&want[i], a->ndims, a->dims, dnnl_f32,
                                        i == w_arg || any ? dnnl_format_tag_any
                                                          : channels_last(k->nsp));
    }
    if (st == dnnl_success) st = pd_create(k, eng, want, &pd);
    if (st == dnnl_unimplemented || st == dnnl_invalid_arguments) st = dnnl_success;
    else if (st != dnnl_success) break;
  }
  if (st == dnnl_success && !pd) st = dnnl_unimplemented;
  if (st == dnnl_success) {
    static const dnnl_query_t fwd_q[NARGS] = {dnnl_query_src_md, dnnl_query_weights_md,
                                              dnnl_query_dst_md};
    static const dnnl_query_t bww_q[NARGS] = {dnnl_query_src_md, dnnl_query_diff_dst_md,
                                              dnnl_query_diff_weights_md};
    for (int i = 0; i < NARGS && st == dnnl_success; i++) {
      const dnnl_memory_desc_t *md =
          dnnl_primitive_desc_query_md(pd, k->kind == KIND_BWD_W ? bww_q[i] : fwd_q[i], 0);
      e->inner_bytes[i] = dnnl_memory_desc_get_size(md);
      /* inputs are reordered user -> primitive, the output primitive -> user */
      st = i == ARG_DST ? make_reorder(eng, md, &user[i], &e->reorder[i])
                        : make_reorder(eng, &user[i], md, &e->reorder[i]);
    }
    const dnnl_memory_desc_t *sp = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    e->scratch_bytes = sp ? dnnl_memory_desc_get_size(sp) : 0;
  }
  if (st == dnnl_success) st = dnnl_primitive_create(&e->prim, pd);
  if (pd) dnnl_primitive_desc_destroy(pd);
  if (st != dnnl_success) {
    entry_destroy(e);
    return st;
  }
  *out = e;
  return dnnl_success;
}

/* The cached entry for k with one reference for the caller (release with entry_release), or
 * NULL: *st says why (dnnl_unimplemented: oneDNN has no primitive for it). */
static entry *entry_get(const prim_key *k, dnnl_engine_t eng, dnnl_status_t *st) {
  pthread_mutex_lock(&cache.mu);
  for (int i = 0; i < cache.n; i++)
    if (!memcmp(&cache.slot[i]->key, k, sizeof *k)) {
      entry *e = cache.slot[i];
      e->refs++;
      e->used = ++cache.tick;
      pthread_mutex_unlock(&cache.mu);
      *st = dnnl_success;
      return e;
    }
  pthread_mutex_unlock(&cache.mu);
  entry *e;
  *st = entry_create(k, eng, &e); /* outside the lock: creation may take milliseconds */
  if (!e) return NULL;
  atomic_fetch_add(&created, 1);
  entry *victim = NULL;
  pthread_mutex_lock(&cache.mu);
  e->refs = 2;
  e->cached = true;
  e->used = ++cache.tick;
  if (cache.n == CACHE_CAP) {
    int lru = 0;
    for (int i = 1; i < cache.n; i++)
      if (cache.slot[i]->used < cache.slot[lru]->used) lru = i;
    victim = cache.slot[lru];
    cache.slot[lru] = cache.slot[--cache.n];
    victim->cached = false;
    if (--victim->refs > 0) victim = NULL; /* its user destroys it */
  }
  cache.slot[cache.n++] = e;
  pthread_mutex_unlock(&cache.mu);
  entry_destroy(victim);
  return e;
}

static void entry_release(entry *e) {
  pthread_mutex_lock(&cache.mu);
  bool last = --e->refs == 0;
  pthread_mutex_unlock(&cache.mu);
  if (last) entry_destroy(e);
}

void lz_cpu_conv_cache_clear(void) {
  pthread_mutex_lock(&cache.mu);
  entry *gone[CACHE_CAP];
  int n = 0;
  for (int i = 0; i < cache.n; i++) {
    cache.slot[i]->cached = false;
    if (--cache.slot[i]->refs == 0) gone[n++] = cache.slot[i];
  }
  cache.n = 0;
  pthread_mutex_unlock(&cache.mu);
  for (int i = 0; i < n; i++) entry_destroy(gone[i]);
}

int lz_cpu_conv_cache_count(void) {
  pthread_mutex_lock(&cache.mu);
  int n = cache.n;
  pthread_mutex_unlock(&cache.mu);
  return n;
}

/* ---- execution ---- */

static size_t round64(size_t n) { return (n + 63) & ~(size_t)63; }

/* Bytes of work memory one run of e needs: its reordered operands and its scratchpad. */
static size_t work_bytes(const entry *e) {
  size_t n = round64(e->scratch_bytes);
  for (int i = 0; i < NARGS; i++)
    if (e->reorder[i]) n += round64(e->inner_bytes[i]);
  return n;
}

/* Runs e on the user pointers (src, wei inputs; dst output) with `work` (work_bytes(e)) as its
 * memory. Records nothing: may run on a pool worker. */
static dnnl_status_t entry_exec(const entry *e, dnnl_engine_t eng, dnnl_stream_t s,
                                void *const ptr[NARGS], char *work) {
  static const int fwd_arg[NARGS] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST};
  static const int bww_arg[NARGS] = {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS};
  const int *role = e->key.kind == KIND_BWD_W ? bww_arg : fwd_arg;
  dnnl_memory_t user[NARGS] = {0}, inner[NARGS] = {0}, pad = NULL;
  dnnl_status_t st = dnnl_success;
  for (int i = 0; i < NARGS && st == dnnl_success; i++) {
    dnnl_memory_desc_t md;
    if ((st = md_of(&md, &e->key.arg[i])) != dnnl_success) break;
    if ((st = dnnl_memory_create(&user[i], &md, eng, ptr[i])) != dnnl_success) break;
    if (!e->reorder[i]) continue;
    const_dnnl_primitive_desc_t rpd;
    dnnl_primitive_get_primitive_desc(e->reorder[i], &rpd);
    const dnnl_memory_desc_t *imd =
        dnnl_primitive_desc_query_md(rpd, i == ARG_DST ? dnnl_query_src_md : dnnl_query_dst_md, 0);
    if ((st = dnnl_memory_create(&inner[i], imd, eng, work)) != dnnl_success) break;
    work += round64(e->inner_bytes[i]);
    if (i != ARG_DST) {
      dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, user[i]}, {DNNL_ARG_TO, inner[i]}};
      st = dnnl_primitive_execute(e->reorder[i], s, 2, ra);
    }
  }
  if (st == dnnl_success && e->scratch_bytes) {
    const_dnnl_primitive_desc_t ppd;
    dnnl_primitive_get_primitive_desc(e->prim, &ppd);
    st = dnnl_memory_create(&pad, dnnl_primitive_desc_query_md(ppd, dnnl_query_scratchpad_md, 0),
                            eng, work);
  }
  if (st == dnnl_success) {
    dnnl_exec_arg_t a[NARGS + 1];
    int na = 0;
    for (int i = 0; i < NARGS; i++) a[na++] = (dnnl_exec_arg_t){role[i], inner[i] ? inner[i] : user[i]};
    if (pad) a[na++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, pad};
    st = dnnl_primitive_execute(e->prim, s, na, a);
  }
  if (st == dnnl_success && e->reorder[ARG_DST]) {
    dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, inner[ARG_DST]}, {DNNL_ARG_TO, user[ARG_DST]}};
    st = dnnl_primitive_execute(e->reorder[ARG_DST], s, 2, ra);
  }
  if (st == dnnl_success) st = dnnl_stream_wait(s);
  for (int i = 0; i < NARGS; i++) {
    if (user[i]) dnnl_memory_destroy(user[i]);
    if (inner[i]) dnnl_memory_destroy(inner[i]);
  }
  if (pad) dnnl_memory_destroy(pad);
  return st;
}

/* ---- batch slices on Lazuli's pool ----
 * With at least one image per thread, the batch is cut into slices (up to 4 per thread) that
 * Lazuli's pool runs, each on a one-thread primitive (OpenMP team of 1); fewer images (one
 * large image) run on the OpenMP team, which splits the image too. Threads that are running take
 * the slices, so a thread the OS has descheduled delays nothing (an OpenMP team waits for it at
 * every join, spinning: on this shared 2-core machine the ResNet block took 627 ms that way
 * against 190 on the im2col path), and oneDNN's OpenMP threads never spin beside the pool.
 * Backward-weights sums over the batch: each slice writes its own partial gradient (float32,
 * contiguous), added up at the end. */

typedef struct slice_job {
  const entry *e[2]; /* full slices, the last (shorter) one */
  dnnl_engine_t eng;
  int64_t per, nslices;
  char *ptr[NARGS];         /* operands at batch element 0 */
  int64_t bstride[NARGS];   /* bytes per batch element; 0: not cut */
  size_t out_bytes;         /* BWD_W: bytes of one partial gradient (partials at ptr[ARG_DST]) */
  char *work;
  size_t work_stride;
  _Atomic int status;
} slice_job;

static void run_slices(void *ctx, int64_t begin, int64_t end) {
  slice_job *j = ctx;
  lz__dnnl_threads(1); /* this thread's team: itself */
  dnnl_stream_t s = lz__dnnl_stream("lz_conv");
  for (int64_t i = begin; i < end; i++) {
    const entry *e = j->e[i == j->nslices - 1];
    void *ptr[NARGS];
    for (int a = 0; a < NARGS; a++)
      ptr[a] = j->ptr[a] + (j->bstride[a] ? i * j->per * j->bstride[a] : (int64_t)(i * j->out_bytes));
    dnnl_status_t st = s ? entry_exec(e, j->eng, s, ptr, j->work + (size_t)i * j->work_stride)
                         : dnnl_out_of_memory;
    if (st != dnnl_success) atomic_store(&j->status, (int)st);
  }
}

typedef struct sum_job {
  float *dst;
  const float *parts;
  int64_t n, nparts;
} sum_job;

static void sum_parts(void *ctx, int64_t begin, int64_t end) {
  const sum_job *j = ctx;
  for (int64_t i = begin; i < end; i++) {
    float acc = j->parts[i];
    for (int64_t p = 1; p < j->nparts; p++) acc += j->parts[p * j->n + i];
    j->dst[i] = acc;
  }
}

/* ---- mapping a convolution node onto a primitive ---- */

/* Fills k (all but the weight operand of FWD/DECONV) for the node; returns the kind or -1 when
 * no primitive fits. lo/len: the crop of the input's spatial dims (FWD, BWD_W). */
static int plan(const lz_conv_params *p, const lz_array *x, const lz_array *w, const lz_array *y,
                prim_key *k, int64_t *xoff) {
  int nsp = p->nsp;
  bool idil = false, strided = false;
  int64_t kvol = 1, ovol = 1;
  for (int d = 0; d < nsp; d++) {
    idil = idil || p->idil[d] > 1;
    strided = strided || p->stride[d] > 1;
    kvol *= w->shape[1 + d];
    ovol *= y->shape[1 + d];
  }
  memset(k, 0, sizeof *k);
  k->nsp = nsp;
  k->groups = p->groups;
  *xoff = 0;
  /* DECONV for input dilation, and for a flipped kernel with few output channels per group
   * (the input gradient of a CNN's first layer: 4.9 ms against 6.5 as FWD for 1 channel, 3.0
   * against 4.3 for 3; thread CPU time, one AVX2 core) */
  bool deconv = idil || (p->flip && !strided && w->shape[0] / p->groups < 8);
  for (int d = 0; d < nsp && deconv; d++) {
    int64_t span = (int64_t)(w->shape[1 + d] - 1) * p->kdil[d];
    k->stride[d] = p->idil[d];
    k->dil[d] = p->kdil[d] - 1;
    k->pl[d] = span - p->pad_lo[d];
    k->pr[d] = span - p->pad_hi[d];
    deconv = k->pl[d] >= 0 && k->pr[d] >= 0; /* else the output starts past the kernel's reach */
  }
  if (idil && (strided || !deconv)) return -1;
  if (deconv) {
    k->kind = KIND_DECONV;
    operand_of(&k->arg[ARG_SRC], x, 0, nsp + 1, nsp, NULL, NULL);
    operand_of(&k->arg[ARG_DST], y, 0, nsp + 1, nsp, NULL, NULL);
    return k->kind;
  }
  /* crop negative padding off the input; the high side only as far as outputs read */
  int64_t lo[3], len[3];
  /* grouped: only with batch 1, whose channels of group j are then group j's batch (the
   * depthwise weight gradient, see transforms/rules_fast.c) */
  bool bww = (p->groups == 1 || x->shape[0] == 1) && !p->flip && kvol > ovol;
  for (int d = 0; d < nsp; d++) {
    int64_t in = x->shape[1 + d], kd = p->kdil[d], sd = p->stride[d];
    int64_t pl = p->pad_lo[d];
    lo[d] = pl < 0 ? -pl : 0;
    pl = pl < 0 ? 0 : pl;
    int64_t need = (y->shape[1 + d] - 1) * sd + (w->shape[1 + d] - 1) * kd + 1; /* padded span read */
    len[d] = need - pl < in - lo[d] ? need - pl : in - lo[d];
    if (len[d] < 1) return -1;
    int64_t pr = need - pl - len[d]; /* >= 0 */
    /* BWD_W: the roles of stride and kernel dilation swap (see the file's comment) */
    k->stride[d] = bww ? kd : sd;
    k->dil[d] = (bww ? sd : kd) - 1;
    k->pl[d] = pl;
    k->pr[d] = pr;
  }
  if (bww) {
    k->kind = KIND_BWD_W;
    operand *src = &k->arg[ARG_SRC];
    *xoff = operand_of(src, x, nsp + 1, 0, nsp, lo, len);
    if (p->groups > 1) { /* (G N, 1, S...) as (N, G, S...): channel j at j N */
      src->dims[0] /= p->groups;
      src->dims[1] = p->groups, src->strides[1] = src->dims[0] * src->strides[0];
    }
    operand_of(&k->arg[ARG_WEI], w, nsp + 1, 0, nsp, NULL, NULL); /* diff_dst */
    int64_t ys[6], yst[6];
    for (int d = 0; d < y->ndim; d++) ys[d] = y->shape[d], yst[d] = y->strides[d];
    /* diff_weights (O', C', K...) from y (C', K..., O'): swap the ends */
    int64_t t = ys[0];
    ys[0] = ys[nsp + 1], ys[nsp + 1] = t;
    t = yst[0], yst[0] = yst[nsp + 1], yst[nsp + 1] = t;
    weight_operand(&k->arg[ARG_DST], ys, yst, nsp, p->groups, dnnl_dt(y->dtype));
    return k->kind;
  }
  k->kind = KIND_FWD;
  *xoff = operand_of(&k->arg[ARG_SRC], x, 0, nsp + 1, nsp, lo, len);
  operand_of(&k->arg[ARG_DST], y, 0, nsp + 1, nsp, NULL, NULL);
  return k->kind;
}

/* Runs key k (mb = its batch) on the data: serially on the OpenMP team, or in batch slices on
 * the pool. Returns 0, -1 (error recorded) or 1 (no primitive). */
static int run(prim_key *k, void *const data[NARGS], lz_array *y, double flops) {
  dnnl_engine_t eng = lz__dnnl_engine("lz_conv");
  if (!eng) return -1;
  int bw = k->kind == KIND_BWD_W, nt = lz__num_threads();
  int mb_arg[2] = {ARG_SRC, bw ? ARG_WEI : ARG_DST}; /* the operands with a batch dim */
  int64_t mb = k->arg[ARG_SRC].dims[0];
  dnnl_status_t st = dnnl_success;
  entry *e[2] = {NULL, NULL};
  char *work = NULL, *parts = NULL;
  size_t wcap = 0, pcap = 0;
  int rc = -1;
  if (nt == 1 || mb < nt || flops < LZ_DNNL_SERIAL_FLOPS) { /* the OpenMP team */
    k->nthreads = lz__dnnl_threads(flops < LZ_DNNL_SERIAL_FLOPS ? 1 : nt);
    dnnl_stream_t s = lz__dnnl_stream("lz_conv");
    if (!s) return -1;
    if (!(e[0] = entry_get(k, eng, &st))) goto nofit;
    size_t wb = work_bytes(e[0]);
    if (wb && !(work = lz_cpu_scratch(wb, &wcap, "lz_conv"))) goto out;
    if ((st = entry_exec(e[0], eng, s, data, work)) != dnnl_success) goto fail;
    rc = 0;
    goto out;
  }
  slice_job j = {.eng = eng};
  int64_t want = mb < 4 * (int64_t)nt ? mb : 4 * (int64_t)nt;
  j.per = (mb + want - 1) / want;
  j.nslices = (mb + j.per - 1) / j.per;
  int64_t last = mb - (j.nslices - 1) * j.per;
  prim_key ks, kl; /* memcpy, padding included: keys compare with memcmp */
  memcpy(&ks, k, sizeof ks);
  ks.nthreads = 1;
  for (int a = 0; a < NARGS; a++) j.ptr[a] = data[a], j.bstride[a] = 0;
  /* the cut operands are the node's inputs and output, all of y's dtype (the op casts) */
  for (int a = 0; a < 2; a++)
    j.bstride[mb_arg[a]] = k->arg[mb_arg[a]].strides[0] * (int64_t)lz_dtype_size(y->dtype);
  if (bw) { /* partials: contiguous float32 in y's (C', K..., O') order */
    operand *o = &ks.arg[ARG_DST];
    int64_t n = (int64_t)y->size, ys[6], yst[6], m = 1;
    for (int d = y->ndim - 1; d >= 0; m *= y->shape[d], d--) ys[d] = y->shape[d], yst[d] = m;
    int64_t t = ys[0];
    ys[0] = ys[y->ndim - 1], ys[y->ndim - 1] = t;
    t = yst[0], yst[0] = yst[y->ndim - 1], yst[y->ndim - 1] = t;
    weight_operand(o, ys, yst, k->nsp, k->groups, dnnl_f32);
    j.out_bytes = (size_t)n * sizeof(float);
    if (!(parts = lz_cpu_scratch(j.out_bytes * (size_t)j.nslices, &pcap, "lz_conv"))) goto out;
    j.ptr[ARG_DST] = parts;
  }
  memcpy(&kl, &ks, sizeof kl);
  for (int a = 0; a < 2; a++) ks.arg[mb_arg[a]].dims[0] = j.per, kl.arg[mb_arg[a]].dims[0] = last;
  if (!(e[0] = entry_get(&ks, eng, &st))) goto nofit;
  e[1] = e[0];
  if (last != j.per) {
    e[1] = NULL;
    if (!(e[1] = entry_get(&kl, eng, &st))) goto nofit;
  }
  j.e[0] = e[0], j.e[1] = e[1];
  j.work_stride = work_bytes(e[0]) > work_bytes(e[1]) ? work_bytes(e[0]) : work_bytes(e[1]);
  if (j.work_stride &&
      !(work = lz_cpu_scratch(j.work_stride * (size_t)j.nslices, &wcap, "lz_conv")))
    goto out;
  j.work = work;
  atomic_init(&j.status, dnnl_success);
  lz__parallel_for(j.nslices, 1, run_slices, &j);
  if ((st = (dnnl_status_t)atomic_load(&j.status)) != dnnl_success) goto fail;
  if (bw) {
    float *dst = y->dtype == LZ_FLOAT32 ? (float *)lz__data_ptr(y) : (float *)parts;
    sum_job sj = {dst, (const float *)parts, (int64_t)y->size, j.nslices};
    lz__parallel_for(sj.n, 16384, sum_parts, &sj);
    if (y->dtype != LZ_FLOAT32) lz_cpu_unpack(y, parts, LZ_FLOAT32);
  }
  rc = 0;
  goto out;
nofit: /* no primitive: the reference path runs it, unless memory ran out */
  if (st != dnnl_out_of_memory) {
    rc = 1;
    goto out;
  }
fail:
  lz__dnnl_check(st, "lz_conv", "convolution");
out:
  for (int i = 0; i < 2; i++)
    if (e[i] && (i == 0 || e[1] != e[0])) entry_release(e[i]);
  if (work) lz_cpu_scratch_free(work, wcap);
  if (parts) lz_cpu_scratch_free(parts, pcap);
  return rc;
}

static int conv_onednn(const lz_conv_params *p, lz_array *x, lz_array *w, lz_array *y) {
  prim_key k;
  int64_t xoff;
  if (y->dtype == LZ_FLOAT64 || w->size == 0 || plan(p, x, w, y, &k, &xoff) < 0) return 1;
  /* the weight: in place unless it must be reversed (FWD of a flipped kernel, DECONV of an
   * unflipped one) or its strides do not suit a descriptor */
  int nsp = p->nsp;
  int64_t wshape[6], wstr[6];
  for (int d = 0; d < w->ndim; d++) wshape[d] = w->shape[d], wstr[d] = w->strides[d];
  bool reverse = (k.kind == KIND_FWD && p->flip) || (k.kind == KIND_DECONV && !p->flip);
  void *wdata = lz__data_ptr(w);
  float *wbuf = NULL;
  size_t wcap = 0;
  if (k.kind != KIND_BWD_W) {
    weight_operand(&k.arg[ARG_WEI], wshape, wstr, nsp, p->groups, dnnl_dt(w->dtype));
    if (reverse || !operand_ok(&k.arg[ARG_WEI])) {
      if (!(wbuf = lz_cpu_scratch((size_t)w->size * sizeof(float), &wcap, "lz_conv"))) return -1;
      lz_cpu_conv_pack_weight(w, reverse, wbuf);
      int64_t m = 1;
      for (int d = w->ndim - 1; d >= 0; m *= w->shape[d], d--) wstr[d] = m;
      weight_operand(&k.arg[ARG_WEI], wshape, wstr, nsp, p->groups, dnnl_f32);
      wdata = wbuf;
    }
  }
  void *data[NARGS] = {(char *)lz__data_ptr(x) + xoff * (int64_t)lz_dtype_size(x->dtype),
                       k.kind == KIND_BWD_W ? lz__data_ptr(w) : wdata, lz__data_ptr(y)};
  int rc = 1; /* (zero or negative strides were packed by lz_cpu_conv_onednn) */
  if (operand_ok(&k.arg[ARG_SRC]) && operand_ok(&k.arg[ARG_WEI]) && operand_ok(&k.arg[ARG_DST])) {
    double flops = 2.0 * (double)y->size * (double)(w->size / w->shape[0]);
    if (k.kind == KIND_DECONV) /* each input element meets every tap */
      flops = 2.0 * (double)x->size * (double)(w->size / (x->shape[nsp + 1] / p->groups) / p->groups);
    rc = run(&k, data, y, flops);
  }
  if (rc == 0) atomic_fetch_add(&runs_onednn, 1);
  if (wbuf) lz_cpu_scratch_free(wbuf, wcap);
  return rc;
}

/* ---- operands without a descriptor ----
 * A zero (broadcast) or negative stride has no oneDNN descriptor. Such an input (the cotangent
 * of a sum or mean taken right after a convolution is a broadcast: both its gradients read it)
 * is packed into contiguous scratch, dtype kept, and described by a temporary header, so the
 * convolution still runs on its primitive rather than on the reference path. */

typedef struct dense_copy {
  lz_array *a; /* the header (malloc'd), NULL when the input is used as it is */
  lz_buffer buf;
  size_t cap;
} dense_copy;

static bool has_descriptor(const lz_array *a) {
  for (int d = 0; d < a->ndim; d++)
    if (a->shape[d] > 1 && a->strides[d] <= 0) return false;
  return true;
}

/* `a` itself, or its packed copy in d; NULL when out of memory (recorded). */
static lz_array *dense_of(lz_array *a, dense_copy *d) {
  if (has_descriptor(a)) return a;
  size_t es = lz_dtype_size(a->dtype);
  d->a = calloc(1, sizeof(lz_array) + 2 * (size_t)a->ndim * sizeof(int64_t));
  void *data = d->a ? lz_cpu_scratch((size_t)a->size * es, &d->cap, "lz_conv") : NULL;
  if (!data) {
    if (d->a) free(d->a), d->a = NULL;
    else lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_conv", "out of memory");
    return NULL;
  }
  lz_array *h = d->a;
  h->dtype = a->dtype, h->ndim = a->ndim, h->size = a->size;
  h->strides = h->tail, h->shape = (int *)(h->tail + a->ndim);
  int64_t m = 1;
  for (int k = a->ndim - 1; k >= 0; m *= a->shape[k], k--) h->shape[k] = a->shape[k], h->strides[k] = m;
  d->buf.data = data, d->buf.nbytes = (size_t)a->size * es;
  h->buf = &d->buf;
  lz__copy_to_contiguous(data, a);
  return h;
}

static void dense_free(dense_copy *d) {
  if (!d->a) return;
  lz_cpu_scratch_free(d->buf.data, d->cap);
  free(d->a);
}

int lz_cpu_conv_onednn(const lz_conv_params *p, lz_array *x, lz_array *w, lz_array *y) {
  if (has_descriptor(x) && has_descriptor(w)) return conv_onednn(p, x, w, y);
  if (y->dtype == LZ_FLOAT64 || w->size == 0) return 1;
  dense_copy dx = {0}, dw = {0};
  lz_array *xd = dense_of(x, &dx), *wd = xd ? dense_of(w, &dw) : NULL;
  int rc = wd ? conv_onednn(p, xd, wd, y) : -1;
  dense_free(&dx), dense_free(&dw);
  return rc;
}
