/* Arrays and graph nodes: creation, reference counting, non-recursive release, and the
 * record-an-op entry point (lz__make) that every op constructor goes through. */
#include "internal.h"
#include "threads.h"

#include <stdlib.h>

static atomic_ullong next_id = 1;

/* Ids come from the shared counter in blocks, so recording a node costs no atomic add. */
enum { ID_BLOCK = 1024 };
static _Thread_local uint64_t tl_id_next LZ_TLS_FAST, tl_id_end LZ_TLS_FAST;

static inline uint64_t new_id(void) {
  if (LZ_UNLIKELY(tl_id_next == tl_id_end)) {
    tl_id_next = atomic_fetch_add_explicit(&next_id, ID_BLOCK, memory_order_relaxed);
    tl_id_end = tl_id_next + ID_BLOCK;
  }
  return tl_id_next++;
}

/* Bytes of an array with `ndim` dims and of a node (lz__obj_free needs the allocated size). */
static inline size_t array_bytes(int ndim) {
  return sizeof(lz_array) + (size_t)ndim * (sizeof(int64_t) + sizeof(int));
}
static inline size_t node_bytes(int ninputs, int noutputs, size_t psize) {
  return sizeof(lz_node) + (size_t)(ninputs + noutputs) * sizeof(lz_array *) + psize + 8;
}
static inline void array_free(lz_array *a) {
  lz_buffer *d = atomic_load_explicit(&a->dense, memory_order_acquire);
  if (d) lz__buffer_release(d);
  lz__obj_free(a, array_bytes(a->ndim));
}
static inline void node_free(lz_node *n) {
  lz__obj_free(n, node_bytes(n->ninputs, n->noutputs, lz__op(n->op)->params_size));
}

/* The element count of a valid shape; false if it needs shape_size's checks and messages.
 * The bound applies to the product of the nonzero dims too: an empty array's strides are that
 * product (lz__set_contiguous_strides), so (0, 2^30, 2^30, 2^30) must not pass. */
static inline bool shape_size_fast(const int *shape, int ndim, int64_t *size) {
  if (ndim < 0 || ndim > LZ_MAX_NDIM || (ndim > 0 && !shape)) return false;
  int64_t n = 1, nz = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0 || shape[i] > (1 << 28)) return false;
    n *= shape[i];
    nz *= shape[i] ? shape[i] : 1;
    if (nz > ((int64_t)1 << 56) / (1 << 28)) return false;
  }
  *size = n;
  return true;
}

static bool shape_size(const char *op, const int *shape, int ndim, int64_t *size) {
  if (ndim < 0 || ndim > LZ_MAX_NDIM) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "ndim %d is outside [0, %d]", ndim, LZ_MAX_NDIM);
    return false;
  }
  if (ndim > 0 && !shape) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "shape is NULL with ndim %d", ndim);
    return false;
  }
  int64_t n = 1, nz = 1; /* nz: the nonzero dims' product, which the strides reach */
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0) {
      char s[256];
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "negative dimension in shape %s",
                lz__fmt_shape(s, sizeof s, shape, ndim));
      return false;
    }
    if (shape[i] && nz > ((int64_t)1 << 56) / shape[i]) {
      char s[256];
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "shape %s has too many elements",
                lz__fmt_shape(s, sizeof s, shape, ndim));
      return false;
    }
    n *= shape[i];
    nz *= shape[i] ? shape[i] : 1;
  }
  *size = n;
  return true;
}

/* The public name of an op for its error messages ("lz_" + registry name); `prefix` NULL means
 * `op` is that name already. Only error paths call this (formatting costs more than a node). */
static const char *full_name(const char *prefix, const char *op, char *buf, size_t cap) {
  if (!prefix) return op;
  snprintf(buf, cap, "%s%s", prefix, op);
  return buf;
}

static lz_array *array_alloc_named(const char *prefix, const char *op, lz_dtype dtype,
                                   const int *shape, int ndim) {
  int64_t size;
  char nbuf[64];
  if (!lz__dtype_valid(dtype)) {
    lz__error(LZ_ERROR_DTYPE, full_name(prefix, op, nbuf, sizeof nbuf), "invalid dtype %d",
              (int)dtype);
    return NULL;
  }
  if (!shape_size_fast(shape, ndim, &size) &&
      !shape_size(full_name(prefix, op, nbuf, sizeof nbuf), shape, ndim, &size))
    return NULL;
  lz_array *a = lz__obj_alloc(array_bytes(ndim));
  if (!a) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, full_name(prefix, op, nbuf, sizeof nbuf),
              "out of memory allocating an array");
    return NULL;
  }
  atomic_init(&a->refs, 1);
  a->dtype = dtype;
  a->flags = 0;
  a->out_index = 0;
  a->ndim = ndim;
  a->scope_refs = 0;
  a->size = size;
  a->id = new_id();
  a->node = NULL;
  a->tape = NULL;
  a->buf = NULL;
  a->offset = 0;
  atomic_init(&a->dense, NULL);
  a->strides = a->tail;
  a->shape = (int *)(a->tail + ndim);
  if (ndim) memcpy(a->shape, shape, (size_t)ndim * sizeof(int));
  lz__set_contiguous_strides(a);
  return a;
}

static lz_array *array_alloc_checked(const char *op, lz_dtype dtype, const int *shape, int ndim) {
  return array_alloc_named(NULL, op, dtype, shape, ndim);
}

lz_array *lz__array_alloc(lz_dtype dtype, const int *shape, int ndim) {
  return array_alloc_checked("lz_array", dtype, shape, ndim);
}

void lz__set_contiguous_strides(lz_array *a) {
  int64_t s = 1;
  for (int i = a->ndim - 1; i >= 0; i--) {
    a->strides[i] = s;
    s *= a->shape[i] ? a->shape[i] : 1;
  }
  a->flags |= LZ_AF_CONTIGUOUS;
}

bool lz__is_contiguous(const lz_array *a) {
  int64_t s = 1;
  for (int i = a->ndim - 1; i >= 0; i--) {
    if (a->shape[i] != 1 && a->strides[i] != s) return false;
    s *= a->shape[i];
  }
  return true;
}

/* ---- release without recursion: a thread-local worklist of arrays whose count hit zero ---- */

static _Thread_local lz_array **rel_stack LZ_TLS_FAST;
static _Thread_local size_t rel_len LZ_TLS_FAST, rel_cap LZ_TLS_FAST;
static _Thread_local bool releasing LZ_TLS_FAST;

static void free_rel_stack(void) {
  free(rel_stack);
  rel_stack = NULL, rel_len = rel_cap = 0;
}

void lz__node_free_params(lz_node *n) {
  const lz_op_def *def = lz__op(n->op);
  if (def->params_free && n->params) def->params_free(n->params);
}

/* Frees a node no output points to any more: its zombie outputs (those other than `keep` that
 * still point here: an output a trace let go of lives on by itself), then its inputs. */
static void node_destroy(lz_node *n, const lz_array *keep) {
  for (int k = 0; k < n->noutputs; k++) {
    lz_array *o = n->outputs[k];
    if (o != keep && lz__graph_node(o) == n) lz__buffer_release(o->buf), array_free(o);
  }
  for (int i = 0; i < n->ninputs; i++) lz__array_decref(n->inputs[i]);
  lz__node_free_params(n);
  node_free(n);
}

/* An output freed while its node is pending (or kept by a trace) stays allocated as a "zombie"
 * (refs 0) so the node still knows every output's shape; the node frees its zombies. */
static void destroy_array(lz_array *a) {
  lz_node *n = lz__graph_node(a);
  if (n) {
    if (atomic_fetch_sub_explicit(&n->refs, 1, memory_order_acq_rel) != 1) {
      lz__buffer_release(a->buf);
      a->buf = NULL;
      return; /* a zombie until the node goes */
    }
    node_destroy(n, a);
  }
  lz__buffer_release(a->buf);
  array_free(a);
}

/* ---- tracing: tapes kept through an eval inside a transform ---- */

/* One pointer of thread-local storage (NULL when not tracing): a dlopened library's static TLS
 * is a scarce budget shared with others (e.g. libgomp loaded later by the same process). */
typedef struct trace_state {
  int depth;
  size_t ntaped, cap;
  lz_array **taped; /* strong references, one per kept output */
} trace_state;
static _Thread_local trace_state *tl_trace LZ_TLS_FAST;

bool lz__tracing(void) { return tl_trace != NULL; }

void lz__trace_begin(void) {
  if (!tl_trace) {
    tl_trace = calloc(1, sizeof *tl_trace);
    if (!tl_trace) return; /* no memory: evaluating inside cuts the graph, as before */
  }
  tl_trace->depth++;
}

void lz__trace_end(void) {
  trace_state *t = tl_trace;
  if (!t || --t->depth > 0) return;
  tl_trace = NULL; /* releasing below records nothing new */
  for (size_t i = 0; i < t->ntaped; i++) { /* the array forgets its tape, then is released */
    lz_array *a = t->taped[i];
    lz_node *n = a->tape;
    a->tape = NULL;
    if (n && atomic_fetch_sub_explicit(&n->refs, 1, memory_order_acq_rel) == 1)
      node_destroy(n, a);
    lz__array_decref(a);
  }
  free(t->taped);
  free(t);
}

/* Keeps a node that ran while tracing; false (detach as usual) when it computed no live tracer
 * or the list cannot grow (the transform then sees that value as a constant). */
static bool keep_tape(lz_node *n) {
  int live = 0;
  bool tracer = false;
  for (int k = 0; k < n->noutputs; k++) {
    lz_array *o = n->outputs[k];
    if (atomic_load_explicit(&o->refs, memory_order_acquire) == 0) continue;
    live++;
    tracer |= (o->flags & LZ_AF_TRACER) != 0;
  }
  if (!tracer) return false;
  trace_state *t = tl_trace;
  if (t->ntaped + (size_t)live > t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    while (cap < t->ntaped + (size_t)live) cap *= 2;
    lz_array **d = realloc(t->taped, cap * sizeof *d);
    if (!d) return false;
    t->taped = d, t->cap = cap;
  }
  for (int k = 0; k < n->noutputs; k++) {
    lz_array *o = n->outputs[k];
    if (atomic_load_explicit(&o->refs, memory_order_acquire) == 0) {
      lz__buffer_release(o->buf); /* a zombie keeps only its shape */
      o->buf = NULL;
      continue;
    }
    o->node = NULL, o->tape = n;
    lz__array_incref(o);
    t->taped[t->ntaped++] = o;
  }
  return true;
}

void lz__node_detach(lz_node *n) {
  if (LZ_UNLIKELY(tl_trace != NULL) && keep_tape(n)) return;
  for (int k = 0; k < n->noutputs; k++) {
    lz_array *o = n->outputs[k];
    if (atomic_load_explicit(&o->refs, memory_order_acquire) == 0) {
      lz__buffer_release(o->buf);
      array_free(o);
    } else {
      o->node = NULL;
    }
  }
  for (int i = 0; i < n->ninputs; i++) lz__array_decref(n->inputs[i]);
  lz__node_free_params(n);
  node_free(n);
}

void lz__array_incref(lz_array *a) { atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed); }

void lz__array_decref(lz_array *a) {
  if (!a || atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) != 1) return;
  if (rel_len == rel_cap) {
    size_t cap = rel_cap ? rel_cap * 2 : 256;
    lz_array **s = realloc(rel_stack, cap * sizeof *s);
    if (!s) { /* no memory for the worklist: release this one directly */
      destroy_array(a);
      return;
    }
    if (!rel_stack) lz__at_thread_exit(free_rel_stack); /* no leak when a user thread ends */
    rel_stack = s, rel_cap = cap;
  }
  rel_stack[rel_len++] = a;
  if (releasing) return;
  releasing = true;
  while (rel_len) destroy_array(rel_stack[--rel_len]);
  releasing = false;
  if (rel_cap > 4096) { /* give back a worklist grown by a huge graph */
    free(rel_stack);
    rel_stack = NULL, rel_cap = 0;
  }
}

void lz_free(lz_array *a) {
  if (!a) return;
  if (a->scope_refs > 0) lz__scope_forget(a);
  lz__array_decref(a);
}

lz_array *lz_retain(lz_array *a) {
  if (!a) return NULL;
  lz__array_incref(a);
  return lz__track(a);
}

/* ---- recording ops ---- */

int lz__make_multi(int op, const void *params, lz_array *const *inputs, int ninputs, int noutputs,
                   const lz_dtype *dtypes, const int *const *shapes, const int *ndims,
                   lz_array **outs) {
  const lz_op_def *def = lz__op(op);
  char name[64];
  for (int k = 0; k < noutputs; k++) outs[k] = NULL;
  size_t psize = def->params_size;
  lz_node *n = lz__obj_alloc(node_bytes(ninputs, noutputs, psize));
  if (!n) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, full_name("lz_", def->name, name, sizeof name),
              "out of memory recording a node");
    return -1;
  }
  for (int k = 0; k < noutputs; k++) {
    outs[k] = array_alloc_named("lz_", def->name, dtypes[k], shapes[k], ndims[k]);
    if (!outs[k]) {
      for (int j = 0; j < k; j++) array_free(outs[j]), outs[j] = NULL;
      lz__obj_free(n, node_bytes(ninputs, noutputs, psize));
      return -1;
    }
  }
  atomic_init(&n->refs, noutputs);
  n->op = (uint16_t)op;
  n->ninputs = (uint16_t)ninputs;
  n->noutputs = (uint16_t)noutputs;
  n->mark = 0;
  n->id = new_id();
  n->inputs = (lz_array **)n->tail;
  n->outputs = n->inputs + ninputs;
  n->params = NULL;
  if (psize) {
    uintptr_t p = (uintptr_t)(n->outputs + noutputs);
    p = (p + 7) & ~(uintptr_t)7;
    n->params = (void *)p;
    if (params) memcpy(n->params, params, psize);
    else memset(n->params, 0, psize);
  }
  for (int i = 0; i < ninputs; i++) {
    n->inputs[i] = inputs[i];
    lz__array_incref(inputs[i]);
  }
  uint16_t tracer = 0;
  if (LZ_UNLIKELY(tl_trace != NULL))
    for (int i = 0; i < ninputs; i++) tracer |= inputs[i]->flags & LZ_AF_TRACER;
  for (int k = 0; k < noutputs; k++) {
    n->outputs[k] = outs[k];
    outs[k]->node = n;
    outs[k]->out_index = (uint16_t)k;
    outs[k]->flags |= tracer;
    lz__track(outs[k]);
  }
  lz__count_node();
  return 0;
}

lz_array *lz__make(int op, const void *params, lz_array *const *inputs, int ninputs,
                   lz_dtype dtype, const int *shape, int ndim) {
  lz_array *out;
  const int *shapes[1] = {shape};
  if (lz__make_multi(op, params, inputs, ninputs, 1, &dtype, shapes, &ndim, &out) != 0)
    return NULL;
  return out;
}

/* ---- evaluated arrays ---- */

int lz__alloc_output(lz_array *out, const char *op) {
  lz_buffer *b = lz__buffer_new((size_t)out->size * lz_dtype_size(out->dtype), op);
  if (!b) return -1;
  lz__buffer_release(out->buf);
  out->buf = b;
  out->offset = 0;
  lz__set_contiguous_strides(out);
  return 0;
}

void lz__set_view(lz_array *out, lz_array *in, int64_t offset, const int64_t *strides) {
  lz__buffer_retain(in->buf);
  lz__buffer_release(out->buf);
  out->buf = in->buf;
  out->offset = in->offset + offset;
  memcpy(out->strides, strides, (size_t)out->ndim * sizeof(int64_t));
  if (lz__is_contiguous(out)) out->flags |= LZ_AF_CONTIGUOUS;
  else out->flags &= (uint16_t)~LZ_AF_CONTIGUOUS;
}

lz_array *lz__array_new_data(lz_dtype dtype, const int *shape, int ndim, const char *op) {
  lz_array *a = array_alloc_checked(op, dtype, shape, ndim);
  if (!a) return NULL;
  if (lz__alloc_output(a, op) != 0) {
    array_free(a);
    return NULL;
  }
  return a;
}

lz_array *lz_array_from_data(const void *data, const int *shape, int ndim, lz_dtype dtype) {
  if (!data) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_array_from_data", "data is NULL");
    return NULL;
  }
  lz_array *a = lz__array_new_data(dtype, shape, ndim, "lz_array_from_data");
  if (!a) return NULL;
  memcpy(a->buf->data, data, (size_t)a->size * lz_dtype_size(dtype));
  return lz__track(a);
}

lz_array *lz_array_wrap(void *data, const int *shape, int ndim, lz_dtype dtype,
                        void (*release)(void *, void *), void *ctx) {
  if (!data) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_array_wrap", "data is NULL");
    return NULL;
  }
  lz_array *a = array_alloc_checked("lz_array_wrap", dtype, shape, ndim);
  if (!a) return NULL;
  a->buf = lz__buffer_wrap(data, (size_t)a->size * lz_dtype_size(dtype), release, ctx);
  if (!a->buf) {
    array_free(a);
    lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_array_wrap", "out of memory");
    return NULL;
  }
  return lz__track(a);
}

lz_array *lz__constant(double value, lz_dtype dtype, bool weak) {
  lz_array *a = lz__array_new_data(dtype, NULL, 0, "lz_scalar");
  if (!a) return NULL;
  lz__store_f64(a->buf->data, dtype, value);
  if (weak) a->flags |= LZ_AF_WEAK;
  return a;
}

lz_array *lz__constant_cast(lz_array *c, lz_dtype dtype) {
  lz_array *a = lz__array_new_data(dtype, NULL, 0, "lz_astype");
  if (!a) return NULL;
  lz__convert(a->buf->data, dtype, lz__data_ptr(c), c->dtype, 1);
  return a;
}

lz_array *lz_scalar(double value, lz_dtype dtype) {
  lz_array *a = lz__constant(value, dtype, false);
  return a ? lz__track(a) : NULL;
}
lz_array *lz_float(double value) {
  lz_array *a = lz__constant(value, LZ_FLOAT32, true);
  if (!a) return NULL;
  memcpy(a->buf->inline_data + LZ_WEAK_EXACT_OFFSET, &value, sizeof value);
  return lz__track(a);
}
lz_array *lz_int(int64_t value) {
  bool small = value >= INT32_MIN && value <= INT32_MAX; /* as MLX: int32 unless it does not fit */
  lz_array *a = lz__array_new_data(small ? LZ_INT32 : LZ_INT64, NULL, 0, "lz_int");
  if (!a) return NULL;
  if (small)
    *(int32_t *)a->buf->data = (int32_t)value;
  else
    *(int64_t *)a->buf->data = value;
  a->flags |= LZ_AF_WEAK;
  return lz__track(a);
}
lz_array *lz_bool(bool value) {
  lz_array *a = lz__constant(value, LZ_BOOL, true);
  return a ? lz__track(a) : NULL;
}

/* ---- properties ---- */

int lz_array_ndim(const lz_array *a) { return a ? a->ndim : 0; }
const int *lz_array_shape(const lz_array *a) { return a ? a->shape : NULL; }
int lz_array_dim(const lz_array *a, int axis) {
  if (!a) return -1;
  if (axis < 0) axis += a->ndim;
  if (axis < 0 || axis >= a->ndim) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_array_dim", "axis %d is out of range for ndim %d",
              axis, a->ndim);
    return -1;
  }
  return a->shape[axis];
}
size_t lz_array_size(const lz_array *a) { return a ? (size_t)a->size : 0; }
size_t lz_array_nbytes(const lz_array *a) {
  return a ? (size_t)a->size * lz_dtype_size(a->dtype) : 0;
}
lz_dtype lz_array_dtype(const lz_array *a) { return a ? a->dtype : LZ_DTYPE_COUNT; }
bool lz_array_is_evaluated(const lz_array *a) { return a && a->node == NULL && a->buf != NULL; }
uint64_t lz_array_id(const lz_array *a) { return a ? a->id : 0; }
