/* Evaluation: walk the graph below the requested arrays with an explicit stack (never
 * recursion), order the pending nodes so each runs after its inputs, run each node's CPU
 * kernel, and detach it at once so intermediates are freed as soon as nothing needs them.
 * lz_async_eval does the walk on the caller and runs the kernels on a background thread. */
#include "internal.h"
#include "threads.h"

#include <pthread.h>
#include <stdlib.h>

static atomic_uint eval_epoch;

typedef struct frame {
  lz_node *node;
  int next_input;
} frame;

typedef struct vec {
  void *data;
  size_t len, cap, elem;
} vec;

static bool vec_grow(vec *v) {
  size_t cap = v->cap ? v->cap * 2 : 64;
  void *d = realloc(v->data, cap * v->elem);
  if (!d) return false;
  v->data = d, v->cap = cap;
  return true;
}

static inline bool push_frame(vec *v, lz_node *n) {
  if (LZ_UNLIKELY(v->len == v->cap) && !vec_grow(v)) return false;
  ((frame *)v->data)[v->len++] = (frame){n, 0};
  return true;
}

static inline bool push_node(vec *v, lz_node *n) {
  if (LZ_UNLIKELY(v->len == v->cap) && !vec_grow(v)) return false;
  ((lz_node **)v->data)[v->len++] = n;
  return true;
}

/* The walk's stack lives in a thread-local vector reused from one eval to the next, so a small
 * eval allocates nothing; a nested eval (from inside a kernel) uses its own. A vector grown past
 * KEEP_CAP by a huge graph is given back. */
enum { KEEP_CAP = 1 << 16 };
static _Thread_local vec tl_stack LZ_TLS_FAST = {.elem = sizeof(frame)};
static _Thread_local bool tl_busy LZ_TLS_FAST;

static void free_tl_vecs(void) {
  free(tl_stack.data);
  tl_stack.data = NULL;
  tl_stack.cap = tl_stack.len = 0;
}

static void vec_trim(vec *v) {
  v->len = 0;
  if (v->cap > KEEP_CAP) {
    free(v->data);
    v->data = NULL, v->cap = 0;
  }
}

static int run_node(lz_node *n);

/* The pending nodes that `roots` need, in topological order (post-order of a depth-first walk).
 * With `order`, they are appended to it; without, each node runs as soon as the walk finishes
 * it, while it is still in cache (a second pass over a big graph would miss on every node).
 * Running a node never frees a node still on the stack: those are pending, and each one's
 * output is held by the consumer above it. A finished node's outputs forget it, so a later
 * visit through another consumer sees an evaluated input. */
static int schedule(lz_array *const *roots, size_t n, vec *order, vec *stack) {
  unsigned ep = atomic_fetch_add(&eval_epoch, 1) + 1;
  if (ep == 0) ep = atomic_fetch_add(&eval_epoch, 1) + 1; /* 0 means "never visited" */
  stack->len = 0;
  for (size_t r = 0; r < n; r++) {
    lz_node *root = roots[r]->node;
    if (!root || root->mark == ep) continue;
    root->mark = ep;
    if (!push_frame(stack, root)) goto oom;
    while (stack->len) {
      frame *top = (frame *)stack->data + stack->len - 1;
      lz_node *nd = top->node;
      int k = top->next_input;
      while (k < nd->ninputs) { /* the first input still pending and not yet visited */
        lz_node *in = nd->inputs[k++]->node;
        if (in && in->mark != ep) {
          __builtin_prefetch(in->inputs);
          top->next_input = k;
          in->mark = ep;
          if (!push_frame(stack, in)) goto oom;
          goto next;
        }
      }
      stack->len--;
      /* Unwinding runs nodes in stack order: fetch the ones a few frames down now (a deep
       * graph has left cache since the walk passed them). */
      if (stack->len >= 16) {
        const frame *f = (const frame *)stack->data + stack->len;
        __builtin_prefetch(f[-16].node);
        const lz_node *q = f[-8].node;
        for (int i = 0; i < q->noutputs && i < 2; i++) __builtin_prefetch(q->outputs[i]);
        for (int i = 0; i < q->ninputs && i < 3; i++) __builtin_prefetch(q->inputs[i]);
        q = f[-4].node;
        for (int i = 0; i < q->ninputs && i < 3; i++)
          if (q->inputs[i]->buf) __builtin_prefetch(q->inputs[i]->buf);
      }
      if (order) {
        if (!push_node(order, nd)) goto oom;
      } else if (run_node(nd) != 0) {
        return -1;
      }
    next:;
    }
  }
  return 0;
oom:
  return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_eval", "out of memory scheduling the graph");
}

static int run_node(lz_node *n) {
  const lz_op_def *def = lz__op(n->op);
  if (!def->cpu) {
    return lz__error(LZ_ERROR_NOT_IMPLEMENTED, "lz_eval", "op '%s' has no CPU kernel",
                     def->name);
  }
  int rc = def->cpu(n, n->outputs);
  lz__count_kernel();
  if (rc != 0) {
    if (!lz__has_error())
      lz__error(LZ_ERROR_INTERNAL, "lz_eval", "kernel of '%s' failed", def->name);
    for (int k = 0; k < n->noutputs; k++) { /* a pending array owns no data */
      lz__buffer_release(n->outputs[k]->buf);
      n->outputs[k]->buf = NULL;
    }
    return -1;
  }
  lz__node_detach(n);
  return 0;
}

static int check_args(lz_array *const *arrays, size_t n, const char *op) {
  if (n && !arrays) return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "arrays is NULL");
  for (size_t i = 0; i < n; i++) {
    if (!arrays[i]) {
      if (!lz__has_error()) lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "array %zu is NULL", i);
      return -1;
    }
  }
  return 0;
}

/* ---- asynchronous evaluation ---------------------------------------------------------- */

/* One background evaluation: the scheduled nodes, and one extra reference on every live
 * output of them, so that nothing the user frees meanwhile can destroy a node the background
 * thread is about to run. Each extra reference is dropped right after its node ran. */
typedef struct async_task {
  struct async_task *next;   /* queue link */
  lz_node **nodes;
  size_t nnodes;
  lz_array **held;           /* held[held_start[i] .. held_start[i+1]) belong to nodes[i] */
  size_t *held_start;
  int rc;
  lz_error code;
  char msg[1024];
  bool done;                 /* guarded by amu */
} async_task;

static pthread_mutex_t amu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t acv_work = PTHREAD_COND_INITIALIZER, acv_done = PTHREAD_COND_INITIALIZER;
static async_task *aq_head, *aq_tail; /* guarded by amu */
static bool aworker_started;          /* guarded by amu */
static _Thread_local async_task *tl_pending LZ_TLS_FAST; /* this thread's evaluation in flight */
static _Thread_local bool tl_is_aworker;

static void async_run(async_task *t) {
  size_t i = 0;
  t->rc = 0;
  for (; i < t->nnodes && t->rc == 0; i++) {
    t->rc = run_node(t->nodes[i]);
    if (t->rc == 0)
      for (size_t k = t->held_start[i]; k < t->held_start[i + 1]; k++) lz__array_decref(t->held[k]);
  }
  if (t->rc) { /* nodes i-1 (failed) .. end stay pending; drop what we held on them */
    t->code = lz_last_error_code();
    snprintf(t->msg, sizeof t->msg, "%s", lz_last_error());
    lz_clear_error();
    for (size_t k = t->held_start[i - 1]; k < t->held_start[t->nnodes]; k++)
      lz__array_decref(t->held[k]);
  }
}

static void *async_main(void *arg) {
  (void)arg;
  tl_is_aworker = true;
  pthread_mutex_lock(&amu);
  for (;;) {
    while (!aq_head) pthread_cond_wait(&acv_work, &amu);
    async_task *t = aq_head;
    aq_head = t->next;
    if (!aq_head) aq_tail = NULL;
    pthread_mutex_unlock(&amu);
    async_run(t);
    pthread_mutex_lock(&amu);
    t->done = true;
    pthread_cond_broadcast(&acv_done);
  }
  return NULL;
}

static void task_free(async_task *t) {
  if (!t) return;
  free(t->nodes);
  free(t->held);
  free(t->held_start);
  free(t);
}

/* Waits for this thread's background evaluation, if any; reports its error. */
static int wait_pending(void) {
  async_task *t = tl_pending;
  if (LZ_LIKELY(!t)) return 0;
  pthread_mutex_lock(&amu);
  while (!t->done) pthread_cond_wait(&acv_done, &amu);
  pthread_mutex_unlock(&amu);
  tl_pending = NULL;
  int rc = t->rc;
  if (rc) lz__error(t->code, "lz_async_eval", "%s", t->msg);
  task_free(t);
  return rc;
}

static int eval_now(lz_array *const *arrays, size_t n);

int lz_async_eval_many(lz_array *const *arrays, size_t n) {
  if (check_args(arrays, n, "lz_async_eval") != 0) return -1;
  if (wait_pending() != 0) return -1;
  /* from inside an eval, or under a transform (which must see the nodes it runs): no queue */
  if (tl_is_aworker || tl_busy || lz__tracing()) return eval_now(arrays, n);
  vec order = {.elem = sizeof(lz_node *)};
  if (!tl_stack.cap) lz__at_thread_exit(free_tl_vecs);
  tl_busy = true;
  int rc = schedule(arrays, n, &order, &tl_stack);
  vec_trim(&tl_stack);
  tl_busy = false;
  if (rc || order.len == 0) {
    free(order.data);
    return rc;
  }
  lz_node **nodes = order.data;
  size_t nheld = 0;
  for (size_t i = 0; i < order.len; i++) nheld += nodes[i]->noutputs;
  async_task *t = calloc(1, sizeof *t);
  lz_array **held = malloc(nheld * sizeof *held);
  size_t *start = malloc((order.len + 1) * sizeof *start);
  bool start_thread = false;
  if (t && held && start) {
    pthread_mutex_lock(&amu);
    if (!aworker_started) {
      pthread_t th;
      pthread_attr_t attr;
      pthread_attr_init(&attr);
      pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
      aworker_started = start_thread = pthread_create(&th, &attr, async_main, NULL) == 0;
      pthread_attr_destroy(&attr);
    } else {
      start_thread = true;
    }
    pthread_mutex_unlock(&amu);
  }
  if (!start_thread) { /* no memory or no thread: evaluate here instead */
    free(order.data), free(held), free(start), free(t);
    return eval_now(arrays, n);
  }
  size_t h = 0;
  for (size_t i = 0; i < order.len; i++) {
    start[i] = h;
    for (int k = 0; k < nodes[i]->noutputs; k++) {
      lz_array *o = nodes[i]->outputs[k];
      if (atomic_load_explicit(&o->refs, memory_order_relaxed) > 0) { /* not a zombie */
        lz__array_incref(o);
        held[h++] = o;
      }
    }
  }
  start[order.len] = h;
  t->nodes = nodes, t->nnodes = order.len, t->held = held, t->held_start = start;
  pthread_mutex_lock(&amu);
  if (aq_tail) aq_tail->next = t;
  else aq_head = t;
  aq_tail = t;
  pthread_cond_signal(&acv_work);
  pthread_mutex_unlock(&amu);
  tl_pending = t;
  return 0;
}

int lz_async_eval(lz_array *a) { return lz_async_eval_many(&a, 1); }

/* ---- synchronous evaluation ----------------------------------------------------------- */

static int eval_now(lz_array *const *arrays, size_t n) {
  vec own_stack = {.elem = sizeof(frame)};
  bool nested = tl_busy;
  vec *stack = nested ? &own_stack : &tl_stack;
  if (!nested && !tl_stack.cap) lz__at_thread_exit(free_tl_vecs);
  tl_busy = true;
  int rc = schedule(arrays, n, NULL, stack);
  if (nested) {
    free(own_stack.data);
  } else {
    vec_trim(stack);
    tl_busy = false;
  }
  return rc;
}

int lz_eval_many(lz_array *const *arrays, size_t n) {
  if (wait_pending() != 0) return -1;
  if (check_args(arrays, n, "lz_eval") != 0) return -1;
  return eval_now(arrays, n);
}

int lz_eval(lz_array *a) {
  if (wait_pending() != 0) return -1;
  if (a && !a->node) return 0; /* already evaluated: no work, no allocation */
  return lz_eval_many(&a, 1);
}
