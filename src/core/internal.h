/* Private declarations shared by Lazuli's own files. Nothing here is part of the public API.
 * Internal names: lz__<verb> for core helpers, lz_cpu_ for kernels, LZ_OP_* for op ids. */
#ifndef LZ_INTERNAL_H
#define LZ_INTERNAL_H

#include "lazuli.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>

#define LZ_HIDDEN __attribute__((visibility("hidden")))
#define LZ_UNUSED(x) ((void)(x))
#define LZ_LIKELY(x) __builtin_expect(!!(x), 1)
#define LZ_UNLIKELY(x) __builtin_expect(!!(x), 0)
/* For small, hot thread-locals of the core: no __tls_get_addr call per access from the shared
 * library (uses a few hundred bytes of static TLS in all). */
#define LZ_TLS_FAST __attribute__((tls_model("initial-exec")))

/* ---- errors (error.c) ------------------------------------------------------------------ */

/* Records an error unless one is pending; `op` is the public name ("lz_add"). Returns -1. */
LZ_HIDDEN int lz__error(lz_error code, const char *op, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
LZ_HIDDEN bool lz__has_error(void);
/* Checks `n` inputs for NULL. With an error pending, a NULL input is passed through silently;
 * without one, it is reported as "[op] argument i is NULL". Returns false if any is NULL. */
LZ_HIDDEN bool lz__check_inputs(const char *op, lz_array *const *in, int n);
/* Writes "(3,4)" into buf; returns buf. */
LZ_HIDDEN char *lz__fmt_shape(char *buf, size_t cap, const int *shape, int ndim);
/* Internal invariant check: reports LZ_ERROR_INTERNAL, never aborts. */
#define LZ_ASSERT(cond)                                                                          \
  ((cond) ? 1 : (lz__error(LZ_ERROR_INTERNAL, __func__, "assertion failed: %s (%s:%d)", #cond,   \
                           __FILE__, __LINE__),                                                  \
                 0))

/* ---- dtypes (dtype.c) ------------------------------------------------------------------ */

typedef struct lz_complex64 {
  float re, im;
} lz_complex64;

LZ_HIDDEN bool lz__dtype_valid(lz_dtype d);
LZ_HIDDEN float lz__f16_to_f32(uint16_t h);
LZ_HIDDEN uint16_t lz__f32_to_f16(float f);
LZ_HIDDEN float lz__bf16_to_f32(uint16_t h);
LZ_HIDDEN uint16_t lz__f32_to_bf16(float f);
/* Reads element `p` of dtype `d` as double / writes a double as dtype `d`. Slow; for scalars. */
LZ_HIDDEN double lz__load_f64(const void *p, lz_dtype d);
LZ_HIDDEN void lz__store_f64(void *p, lz_dtype d, double v);
LZ_HIDDEN int64_t lz__load_i64(const void *p, lz_dtype d);
/* Converts n contiguous elements from dtype `sd` to dtype `dd`. */
LZ_HIDDEN void lz__convert(void *dst, lz_dtype dd, const void *src, lz_dtype sd, int64_t n);
/* Testing hook: false makes lz__convert use its scalar paths only (not thread-safe). */
LZ_HIDDEN void lz__convert_use_simd(bool on);

/* ---- memory (alloc.c) ------------------------------------------------------------------ */

/* A reference-counted block of array data. Views share one buffer. */
typedef struct lz_buffer {
  atomic_long refs;
  void *data;
  size_t nbytes;                       /* bytes requested */
  size_t capacity;                     /* bytes counted in active memory (0: not ours) */
  void (*release)(void *data, void *ctx); /* for wrapped user memory */
  void *ctx;
  unsigned char inline_data[16] __attribute__((aligned(16))); /* small constants live here */
} lz_buffer;

/* A new buffer of `nbytes` (64-byte aligned data); NULL with an OOM error naming `op`. */
LZ_HIDDEN lz_buffer *lz__buffer_new(size_t nbytes, const char *op);
/* A buffer that wraps user memory (no copy). */
LZ_HIDDEN lz_buffer *lz__buffer_wrap(void *data, size_t nbytes, void (*release)(void *, void *),
                                     void *ctx);
LZ_HIDDEN void lz__buffer_retain(lz_buffer *b);
LZ_HIDDEN void lz__buffer_release(lz_buffer *b);
/* Raw data allocation with statistics, cache, limit and the failure hook. */
LZ_HIDDEN void *lz__data_alloc(size_t nbytes, size_t *capacity);
LZ_HIDDEN void lz__data_free(void *p, size_t capacity);
/* Empties the CPU kernels' per-shape caches (oneDNN primitives, FFTW plans; cpu/caches.c), as
 * lz_clear_cache does; safe while other threads run ops. */
LZ_HIDDEN void lz__clear_kernel_caches(void);
LZ_HIDDEN void lz__count_kernel(void);
/* malloc for metadata (arrays, nodes), subject to the failure hook. */
LZ_HIDDEN void *lz__malloc(size_t n);
/* Arrays, nodes and buffer headers: per-thread free lists by size class (failure hook
 * honoured). lz__obj_free takes the size given to lz__obj_alloc; any thread may free. */
LZ_HIDDEN void *lz__obj_alloc(size_t n);
LZ_HIDDEN void lz__obj_free(void *p, size_t n);
/* True when the failure hook says this allocation must fail. */
LZ_HIDDEN bool lz__should_fail(void);
LZ_HIDDEN void lz__count_node(void);

/* ---- arrays and nodes (array.c) -------------------------------------------------------- */

enum {
  LZ_AF_WEAK = 1u << 0,       /* a weakly typed scalar (lz_float/lz_int/lz_bool) */
  LZ_AF_CONTIGUOUS = 1u << 1, /* row-major contiguous data (valid once evaluated) */
  LZ_AF_TRACER = 1u << 2,     /* a transform's input, or computed from one while it traces */
};

/* A weak float (lz_float) is a 0-d float32 constant whose buffer is always inline; the exact
 * double it was made from sits at this byte offset of `inline_data`, after the float32 value,
 * so that using it with a float64 operand loses nothing. Weak ints are exact in their dtype
 * (int32, or int64 beyond int32's range). Read both through lz__weak_f64 / lz__weak_i64. */
#define LZ_WEAK_EXACT_OFFSET 8

typedef struct lz_node lz_node;

struct lz_array {
  atomic_long refs;
  lz_dtype dtype;
  uint16_t flags;
  uint16_t out_index;  /* which output of `node` this is */
  int ndim;
  int scope_refs;      /* entries for this array in the thread's scope list */
  int64_t size;        /* number of elements */
  uint64_t id;
  lz_node *node;       /* pending computation; NULL once evaluated (or for constants) */
  lz_node *tape;       /* a tracer evaluated while a transform traces: the node that computed
                          it, kept (with its inputs) for the transform's walk until the
                          outermost trace ends; NULL otherwise */
  lz_buffer *buf;      /* data, once evaluated */
  int64_t offset;      /* element offset of element 0 into buf */
  /* A row-major copy of a strided view's data made by lz_array_data: published once with a
   * compare-and-swap and freed with the array, so buf, offset and strides never change once
   * the array is evaluated (threads may read a shared evaluated array at once). */
  _Atomic(lz_buffer *) dense;
  int *shape;          /* points into tail */
  int64_t *strides;    /* element strides; points into tail */
  int64_t tail[];      /* strides[ndim] then shape[ndim] */
};

/* A recorded computation: op, parameters, inputs, and its outputs (siblings). */
struct lz_node {
  atomic_long refs;     /* one per output array that still points here */
  uint16_t op;          /* lz_op_id */
  uint16_t ninputs;
  uint16_t noutputs;
  uint32_t mark;        /* eval epoch, for graph walks */
  uint64_t id;
  lz_array **inputs;    /* strong references */
  lz_array **outputs;   /* every output; one whose refs fell to 0 is a zombie the node frees */
  void *params;         /* typed parameter struct of the op, or NULL */
  int64_t tail[];       /* inputs, outputs, params */
};

/* A new unevaluated array description (no node, no data) with a copy of `shape`. */
LZ_HIDDEN lz_array *lz__array_alloc(lz_dtype dtype, const int *shape, int ndim);
/* Sets row-major contiguous strides on `a`. */
LZ_HIDDEN void lz__set_contiguous_strides(lz_array *a);
/* A new evaluated array with a fresh contiguous buffer. */
LZ_HIDDEN lz_array *lz__array_new_data(lz_dtype dtype, const int *shape, int ndim, const char *op);
/* A 0-d evaluated constant holding `value`, stored inline (no data allocation). */
LZ_HIDDEN lz_array *lz__constant(double value, lz_dtype dtype, bool weak);
/* Converts an evaluated 0-d constant to another dtype at once. */
LZ_HIDDEN lz_array *lz__constant_cast(lz_array *c, lz_dtype dtype);

/* Records an op with one output of (dtype, shape). `params` (params_size bytes of the op's
 * registry entry) is copied. Inputs are retained. Returns the tracked output, or NULL. */
LZ_HIDDEN lz_array *lz__make(int op, const void *params, lz_array *const *inputs, int ninputs,
                             lz_dtype dtype, const int *shape, int ndim);
/* Same with `noutputs` outputs; fills outs[]. Returns 0 or -1 (outs all NULL). */
LZ_HIDDEN int lz__make_multi(int op, const void *params, lz_array *const *inputs, int ninputs,
                             int noutputs, const lz_dtype *dtypes, const int *const *shapes,
                             const int *ndims, lz_array **outs);

LZ_HIDDEN void lz__array_incref(lz_array *a);
/* Drops a reference without touching scopes (the scope code's own release). Never recurses. */
LZ_HIDDEN void lz__array_decref(lz_array *a);

/* After a node ran: outputs forget it, zombies and the node are freed, inputs released.
 * While a transform traces (lz__trace_begin) a node with a live tracer output is kept
 * instead: its live outputs hold it as their `tape`, so the transform still sees the graph
 * through data computed inside it (MLX's rule: evaluating a tracer does not detach it). */
LZ_HIDDEN void lz__node_detach(lz_node *n);
/* The graph node of `a` for a transform's walk: pending, or kept by a trace. */
static inline lz_node *lz__graph_node(const lz_array *a) { return a->node ? a->node : a->tape; }

/* Tracing (a transform calling and walking its function): nests per thread. Outputs of ops
 * with a tracer input made while tracing are tracers. When the outermost trace ends, every
 * tape it kept is released, so evaluated intermediates are freed as without a transform. */
LZ_HIDDEN void lz__trace_begin(void);
LZ_HIDDEN void lz__trace_end(void);
LZ_HIDDEN bool lz__tracing(void);
/* Calls the op's params_free on the node's parameters, if it has one. */
LZ_HIDDEN void lz__node_free_params(lz_node *n);
/* For kernels: allocate `out`'s own contiguous buffer. Returns 0 or -1. */
LZ_HIDDEN int lz__alloc_output(lz_array *out, const char *op);
/* For elementwise kernels (inputs broadcast to `out`'s shape, output element i computed from
 * input elements i only): reuse an input's buffer for `out` when only `node` references that
 * input and its buffer (same byte size, contiguous, same element size), else lz__alloc_output.
 * The input's data is overwritten: the kernel must not fail after this call. Never while a
 * transform traces (its kept nodes' inputs must keep their values). */
LZ_HIDDEN int lz__alloc_output_donate(lz_array *out, lz_node *node, const char *op);
/* Number of donated buffers since start (for tests). */
LZ_HIDDEN uint64_t lz__donation_count(void);
/* For kernels: make `out` a view of `in`'s buffer with the given element offset and strides. */
LZ_HIDDEN void lz__set_view(lz_array *out, lz_array *in, int64_t offset, const int64_t *strides);
/* Whether the evaluated array's strides are row-major contiguous. */
LZ_HIDDEN bool lz__is_contiguous(const lz_array *a);
/* Pointer to the first element (evaluated arrays). */
static inline char *lz__data_ptr(const lz_array *a) {
  return (char *)a->buf->data + a->offset * (int64_t)lz_dtype_size(a->dtype);
}
/* Copies the evaluated array `src` into the contiguous buffer `dst` (same dtype). */
LZ_HIDDEN void lz__copy_to_contiguous(void *dst, const lz_array *src);
/* Returns a new handle to `a` ensuring it is registered with the current scope. */
LZ_HIDDEN lz_array *lz__track(lz_array *a);

/* ---- scopes (scope.c) ------------------------------------------------------------------ */

/* Removes one scope entry of `a` if it has any; returns true if one was removed. */
LZ_HIDDEN bool lz__scope_forget(lz_array *a);

/* ---- op registry (registry.c, ops/ops.def) --------------------------------------------- */

typedef enum lz_op_id {
#define LZ_OP(ID, name) LZ_OP_##ID,
#include "../ops/ops.def"
#undef LZ_OP
  LZ_OP_COUNT
} lz_op_id;

enum {
  LZ_OPF_ELEMENTWISE = 1u << 0,  /* output[i] depends on inputs[i] only (after broadcasting) */
  LZ_OPF_VIEW = 1u << 1,         /* the kernel shares the input's buffer, copies nothing */
  LZ_OPF_DIFFERENTIABLE = 1u << 2,
  LZ_OPF_COMMUTATIVE = 1u << 3,
  LZ_OPF_REDUCTION = 1u << 4,
  LZ_OPF_RANDOM = 1u << 5,
  LZ_OPF_NO_CSE = 1u << 6,       /* never merge two nodes of this op (e.g. loads) */
};

/* The vtable of one op. Every op is declared once in ops/ops.def and defined once, as
 * `const lz_op_def lz_opdef_<name>`, in the file of its family. */
typedef struct lz_op_def {
  const char *name;        /* MLX's name, e.g. "add" */
  uint32_t flags;          /* LZ_OPF_* */
  size_t params_size;      /* size of the op's parameter struct, 0 if none */
  /* Computes every output of `node` (outs[k] may be a temporary if the user dropped it). */
  int (*cpu)(lz_node *node, lz_array **outs);
  /* Writes the parameters for printing (graph dumps); may be NULL. */
  void (*params_print)(const void *params, char *buf, size_t cap);
  /* Releases what the parameters own (e.g. a mapped file), when the node goes; may be NULL. */
  void (*params_free)(void *params);
  /* Family-specific data for the kernel, e.g. a table of typed inner loops. */
  const void *impl;
  /* Later slots (compile) are added here; NULL means "not supported". The transform rules
   * (vjp, jvp, vmap) are not slots here: src/transforms/ keeps one table per op family indexed
   * by op id (rules_<family>.c), so rule files never edit op files. See transforms_impl.h. */
} lz_op_def;

LZ_HIDDEN const lz_op_def *lz__op(int op);

/* ---- eval (eval.c) --------------------------------------------------------------------- */

LZ_HIDDEN int lz__eval_one(lz_array *a);

#endif /* LZ_INTERNAL_H */
