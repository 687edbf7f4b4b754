/* The part of a recorded graph a transform works on: the nodes on a path from the transform's
 * inputs (identity leaves) to the function's outputs, in topological order. One depth-first
 * pass with an explicit stack (never recursion) visits every node below the outputs once, and
 * a node is on a path ("active") when it is a leaf or one of its inputs comes from an active
 * node. A hash map from node to its state replaces marks on the nodes, so walks never disturb
 * evaluation or each other (transforms nest). Nodes are found with lz__graph_node: an array
 * the function evaluated keeps its node (its tape) while the transform traces. */
#include "transforms/transforms_impl.h"

#include <stdint.h>
#include <stdlib.h>

enum { PENDING = SIZE_MAX - 1, INACTIVE = SIZE_MAX };

static size_t hash_ptr(const void *p, size_t cap) {
  uint64_t x = (uint64_t)(uintptr_t)p;
  x ^= x >> 33, x *= 0xff51afd7ed558ccdull, x ^= x >> 33;
  return (size_t)x & (cap - 1);
}

/* Slot of `key` in the map: where it is, or the empty slot where it would go. */
static size_t map_slot(const lz_walk *w, const void *key) {
  size_t i = hash_ptr(key, w->map_cap);
  while (w->keys[i] && w->keys[i] != key) i = (i + 1) & (w->map_cap - 1);
  return i;
}

static size_t map_get(const lz_walk *w, const void *key) {
  if (!w->map_cap) return 0;
  size_t i = map_slot(w, key);
  return w->keys[i] ? w->vals[i] : 0;
}

static int map_put(lz_walk *w, void *key, size_t val, size_t *count) {
  if ((*count + 1) * 2 > w->map_cap) {
    size_t cap = w->map_cap ? w->map_cap * 2 : 256;
    void **keys = calloc(cap, sizeof *keys);
    size_t *vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) {
      free(keys), free(vals);
      return -1;
    }
    lz_walk old = *w;
    w->keys = keys, w->vals = vals, w->map_cap = cap;
    for (size_t i = 0; i < old.map_cap; i++) {
      if (!old.keys[i]) continue;
      size_t j = map_slot(w, old.keys[i]);
      w->keys[j] = old.keys[i], w->vals[j] = old.vals[i];
    }
    free(old.keys), free(old.vals);
  }
  size_t i = map_slot(w, key);
  if (!w->keys[i]) (*count)++;
  w->keys[i] = key, w->vals[i] = val;
  return 0;
}

static int push_node(lz_walk *w, lz_node *n, int leaf) {
  if (w->len == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 64;
    lz_walk_node *d = realloc(w->nodes, cap * sizeof *d);
    if (!d) return -1;
    w->nodes = d, w->cap = cap;
  }
  w->nodes[w->len++] = (lz_walk_node){n, NULL, leaf};
  return 0;
}

/* Inputs a transform follows: a custom function's node hides the function's own graph. */
static int walked_inputs(const lz_node *n) {
  if (n->op == LZ_OP_CUSTOM_TRANSFORMS) return ((const lz_custom_params *)n->params)->n_primals;
  return n->ninputs;
}

typedef struct frame {
  lz_node *node;
  int next;
} frame;

int lz__walk_build(lz_walk *w, const char *who, lz_array *const *leaves, int n,
                   lz_array *const *outputs, int nout) {
  memset(w, 0, sizeof *w);
  size_t count = 0;
  frame *stack = NULL;
  size_t sp = 0, scap = 0;
  int rc = 0;
  for (int i = 0; i < n && rc == 0; i++) {
    lz_node *ln = lz__graph_node(leaves[i]); /* kept by the trace if evaluated inside f */
    if (!ln) continue;
    if (push_node(w, ln, i) || map_put(w, ln, w->len, &count)) rc = -1;
  }
  for (int r = 0; r < nout && rc == 0; r++) {
    lz_node *root = lz__graph_node(outputs[r]);
    if (!root || map_get(w, root)) continue;
    if (map_put(w, root, PENDING, &count)) rc = -1;
    else if (sp == scap) {
      scap = scap ? scap * 2 : 256;
      frame *s = realloc(stack, scap * sizeof *s);
      if (!s) rc = -1;
      else stack = s;
    }
    if (rc) break;
    stack[sp++] = (frame){root, 0};
    while (sp && rc == 0) {
      frame *top = &stack[sp - 1];
      if (top->next < walked_inputs(top->node)) {
        lz_node *in = lz__graph_node(top->node->inputs[top->next++]);
        if (!in || map_get(w, in)) continue;
        if (map_put(w, in, PENDING, &count)) {
          rc = -1;
          break;
        }
        if (sp == scap) {
          scap *= 2;
          frame *s = realloc(stack, scap * sizeof *s);
          if (!s) {
            rc = -1;
            break;
          }
          stack = s;
        }
        stack[sp++] = (frame){in, 0};
        continue;
      }
      lz_node *done = top->node;
      sp--;
      bool active = false;
      for (int i = 0; i < walked_inputs(done) && !active; i++) {
        lz_node *in = lz__graph_node(done->inputs[i]);
        size_t v = in ? map_get(w, in) : 0;
        active = v && v != PENDING && v != INACTIVE;
      }
      if (active) {
        if (push_node(w, done, -1) || map_put(w, done, w->len, &count)) rc = -1;
      } else if (map_put(w, done, INACTIVE, &count)) {
        rc = -1;
      }
    }
  }
  free(stack);
  if (rc == 0) { /* one cotangent/tangent slot per output of each active node */
    size_t total = 0;
    for (size_t i = 0; i < w->len; i++) total += w->nodes[i].node->noutputs;
    lz_array **pool = w->pool = calloc(total ? total : 1, sizeof *pool);
    if (!pool) rc = -1;
    for (size_t i = 0, off = 0; pool && i < w->len; i++) {
      w->nodes[i].slots = pool + off;
      off += w->nodes[i].node->noutputs;
    }
  }
  if (rc) {
    lz__walk_free(w);
    return lz__error(LZ_ERROR_OUT_OF_MEMORY, who, "out of memory walking the graph");
  }
  return 0;
}

lz_walk_node *lz__walk_find(const lz_walk *w, const lz_array *a) {
  lz_node *n = a ? lz__graph_node(a) : NULL;
  if (!n) return NULL;
  size_t v = map_get(w, n);
  if (!v || v == PENDING || v == INACTIVE) return NULL;
  return &w->nodes[v - 1];
}

void lz__walk_free(lz_walk *w) {
  free(w->pool);
  free(w->nodes);
  free(w->keys);
  free(w->vals);
  memset(w, 0, sizeof *w);
}
