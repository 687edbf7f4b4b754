/* Evaluation: walk the graph below the requested arrays with an explicit stack (never
 * recursion), order the pending nodes so each runs after its inputs, run each node's CPU
 * kernel, and detach it at once so intermediates are freed as soon as nothing needs them. */
#include "internal.h"

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

static bool vec_push(vec *v, const void *x) {
  if (v->len == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 64;
    void *d = realloc(v->data, cap * v->elem);
    if (!d) return false;
    v->data = d, v->cap = cap;
  }
  memcpy((char *)v->data + v->len * v->elem, x, v->elem);
  v->len++;
  return true;
}

/* Topological order of the pending nodes that `roots` need. */
static int schedule(lz_array *const *roots, size_t n, vec *order) {
  unsigned ep = atomic_fetch_add(&eval_epoch, 1) + 1;
  if (ep == 0) ep = atomic_fetch_add(&eval_epoch, 1) + 1; /* 0 means "never visited" */
  vec stack = {.elem = sizeof(frame)};
  int rc = 0;
  for (size_t r = 0; r < n && rc == 0; r++) {
    lz_node *root = roots[r]->node;
    if (!root || root->mark == ep) continue;
    root->mark = ep;
    frame f0 = {root, 0};
    if (!vec_push(&stack, &f0)) rc = -1;
    while (rc == 0 && stack.len) {
      frame *top = (frame *)stack.data + stack.len - 1;
      if (top->next_input < top->node->ninputs) {
        lz_node *in = top->node->inputs[top->next_input++]->node;
        if (in && in->mark != ep) {
          in->mark = ep;
          frame f = {in, 0};
          if (!vec_push(&stack, &f)) rc = -1;
        }
      } else {
        lz_node *done = top->node;
        stack.len--;
        if (!vec_push(order, &done)) rc = -1;
      }
    }
  }
  free(stack.data);
  if (rc) lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_eval", "out of memory scheduling the graph");
  return rc;
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

int lz_eval_many(lz_array *const *arrays, size_t n) {
  if (n && !arrays) return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_eval", "arrays is NULL");
  for (size_t i = 0; i < n; i++) {
    if (!arrays[i]) {
      if (!lz__has_error())
        lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_eval", "array %zu is NULL", i);
      return -1;
    }
  }
  vec order = {.elem = sizeof(lz_node *)};
  int rc = schedule(arrays, n, &order);
  lz_node **nodes = order.data;
  for (size_t i = 0; rc == 0 && i < order.len; i++) rc = run_node(nodes[i]);
  free(order.data);
  return rc;
}

int lz_eval(lz_array *a) {
  if (a && !a->node) return 0; /* already evaluated: no work, no allocation */
  return lz_eval_many(&a, 1);
}
