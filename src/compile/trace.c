/* Tracing: call the function on placeholder inputs, then walk the recorded graph from its
 * outputs (explicit stack, post-order) into a tape. A node is "live" when it depends on a
 * placeholder; the others are constants of the function and are captured by reference (small
 * ones are evaluated at once: constant folding). Ops that only matter to the transforms
 * (identity, depends, stop_gradient, custom_transforms) are forward-identities and are
 * replaced by their input, so compiling lz_grad(f) records only the arithmetic. */
#include "compile/compile_impl.h"
#include "transforms/transforms_impl.h" /* lz_custom_params */

#include <stdlib.h>

enum { ST_PENDING, ST_INPUT, ST_LIVE, ST_ALIAS, ST_CONST };

typedef struct entry {
  uint8_t state;
  bool live;
  int32_t base; /* input index, tape node index, or offset into the alias ids */
} entry;

typedef struct walker {
  cz_tape *t;
  uint64_t trace;
  cz_map nodes;   /* lz_node* -> entry index */
  cz_map arrays;  /* constant lz_array* -> value id */
  entry *ents;
  int32_t nents, cap_ents;
  int32_t *alias;
  int32_t nalias, cap_alias;
  bool unsupported;
  int unsupported_op;
} walker;

static int push_entry(walker *w, lz_node *n, entry e) {
  if (w->nents == w->cap_ents) {
    int32_t cap = w->cap_ents ? w->cap_ents * 2 : 64;
    entry *d = realloc(w->ents, (size_t)cap * sizeof *d);
    if (!d) return -1;
    w->ents = d, w->cap_ents = cap;
  }
  w->ents[w->nents] = e;
  return cz_map_put(&w->nodes, (uint64_t)(uintptr_t)n, w->nents++);
}

static entry *entry_of(walker *w, const lz_node *n) {
  int32_t i = cz_map_get(&w->nodes, (uint64_t)(uintptr_t)n);
  return i < 0 ? NULL : &w->ents[i];
}

static bool is_live(walker *w, const lz_array *a) {
  if (!a->node) return false;
  entry *e = entry_of(w, a->node);
  return e && e->live;
}

/* The value id of a captured constant; small pending ones are computed now (folding). */
static int32_t const_of(walker *w, lz_array *a) {
  int32_t v = cz_map_get(&w->arrays, (uint64_t)(uintptr_t)a);
  if (v >= 0) return v;
  if (a->node && a->size <= 1 && lz_eval(a) != 0) return -1;
  v = cz_tape_const(w->t, a);
  if (v < 0 || cz_map_put(&w->arrays, (uint64_t)(uintptr_t)a, v)) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory tracing");
    return -1;
  }
  return v;
}

static int32_t value_of(walker *w, lz_array *a) {
  if (!a->node) return const_of(w, a);
  entry *e = entry_of(w, a->node);
  if (!e || e->state == ST_CONST) return const_of(w, a);
  switch (e->state) {
  case ST_INPUT: return e->base;
  case ST_LIVE: return w->t->nodes[e->base].out[a->out_index];
  case ST_ALIAS: return w->alias[e->base + a->out_index];
  default: return LZ_ASSERT(0) ? -1 : -1;
  }
}

static bool is_our_placeholder(const walker *w, const lz_node *n) {
  return n->op == LZ_OP_PLACEHOLDER &&
         ((const lz_placeholder_params *)n->params)->trace == w->trace;
}

/* Records a finished node (all inputs done). */
static int finish_node(walker *w, lz_node *n) {
  bool live = false;
  for (int i = 0; i < n->ninputs && !live; i++) live = is_live(w, n->inputs[i]);
  entry *e = entry_of(w, n);
  if (!live) {
    e->state = ST_CONST;
    return 0;
  }
  e->live = true;
  int op = n->op;
  if (op == LZ_OP_IDENTITY || op == LZ_OP_DEPENDS || op == LZ_OP_STOP_GRADIENT ||
      op == LZ_OP_CUSTOM_TRANSFORMS) {
    int first = op == LZ_OP_CUSTOM_TRANSFORMS
                    ? ((const lz_custom_params *)n->params)->n_primals
                    : 0;
    if (w->nalias + n->noutputs > w->cap_alias) {
      int32_t cap = (w->cap_alias ? w->cap_alias * 2 : 64) + n->noutputs;
      int32_t *d = realloc(w->alias, (size_t)cap * sizeof *d);
      if (!d) return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory tracing");
      w->alias = d, w->cap_alias = cap;
    }
    int32_t base = w->nalias;
    for (int k = 0; k < n->noutputs; k++) {
      int32_t v = value_of(w, n->inputs[first + k]);
      if (v < 0) return -1;
      w->alias[base + k] = v;
    }
    w->nalias += n->noutputs;
    e = entry_of(w, n);
    e->state = ST_ALIAS, e->base = base;
    return 0;
  }
  const lz_op_def *def = lz__op(op);
  if ((def->params_free && op != LZ_OP_FUSED) || op == LZ_OP_PLACEHOLDER) {
    w->unsupported = true; /* parameters the tape cannot copy: call f directly */
    w->unsupported_op = op;
    return -1;
  }
  int32_t ins[64], *in = n->ninputs <= 64 ? ins : malloc((size_t)n->ninputs * sizeof *in);
  lz_dtype dts[LZ_MAX_OUTPUTS], *dt = n->noutputs <= LZ_MAX_OUTPUTS ? dts : malloc(n->noutputs * sizeof *dt);
  const int *shp[LZ_MAX_OUTPUTS], **shapes = n->noutputs <= LZ_MAX_OUTPUTS ? shp : malloc(n->noutputs * sizeof *shapes);
  int nds[LZ_MAX_OUTPUTS], *nd = n->noutputs <= LZ_MAX_OUTPUTS ? nds : malloc(n->noutputs * sizeof *nd);
  int rc = (in && dt && shapes && nd) ? 0
                                      : lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory");
  for (int i = 0; i < n->ninputs && rc == 0; i++)
    if ((in[i] = value_of(w, n->inputs[i])) < 0) rc = -1;
  for (int k = 0; k < n->noutputs && rc == 0; k++) {
    lz_array *o = n->outputs[k];
    dt[k] = o->dtype, shapes[k] = o->shape, nd[k] = o->ndim;
  }
  int32_t idx = -1;
  if (rc == 0) {
    idx = cz_tape_node(w->t, op, n->params, in, n->ninputs, n->noutputs, dt, shapes, nd);
    if (idx < 0) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory tracing");
  }
  if (in != ins) free(in);
  if (dt != dts) free(dt);
  if (shapes != shp) free(shapes);
  if (nd != nds) free(nd);
  if (rc) return -1;
  e = entry_of(w, n);
  e->state = ST_LIVE, e->base = idx;
  return 0;
}

typedef struct frame {
  lz_node *node;
  int next;
} frame;

/* Marks `n` seen: placeholders become inputs at once, other nodes go on the stack. Returns 1
 * when pushed, 0 when nothing to do, -1 on error. */
static int visit(walker *w, lz_node *n, frame **stack, size_t *sp, size_t *scap) {
  if (entry_of(w, n)) return 0;
  if (is_our_placeholder(w, n)) {
    entry e = {ST_INPUT, true, ((const lz_placeholder_params *)n->params)->index};
    return push_entry(w, n, e) ? -1 : 0;
  }
  entry e = {ST_PENDING, false, -1};
  if (push_entry(w, n, e)) return -1;
  if (*sp == *scap) {
    size_t cap = *scap ? *scap * 2 : 256;
    frame *s = realloc(*stack, cap * sizeof *s);
    if (!s) return -1;
    *stack = s, *scap = cap;
  }
  (*stack)[(*sp)++] = (frame){n, 0};
  return 1;
}

static int walk(walker *w, lz_array *const *outs, int nouts) {
  frame *stack = NULL;
  size_t sp = 0, scap = 0;
  int rc = 0;
  for (int r = 0; r < nouts && rc == 0; r++) {
    if (!outs[r]->node) continue;
    if (visit(w, outs[r]->node, &stack, &sp, &scap) < 0) rc = -2;
    while (sp && rc == 0) {
      frame *top = &stack[sp - 1];
      if (top->next < top->node->ninputs) {
        lz_array *a = top->node->inputs[top->next++];
        if (a->node && visit(w, a->node, &stack, &sp, &scap) < 0) rc = -2;
        continue;
      }
      lz_node *done = top->node;
      sp--;
      if (finish_node(w, done)) rc = -1;
    }
  }
  free(stack);
  if (rc == -2) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory tracing");
  return rc;
}

static atomic_ullong next_trace = 1;

cz_trace_result cz_trace(cz_tape *t, lz_array *const *like, int nin, int nexplicit,
                         cz_call_fn call, void *ctx, int *n_user_outs) {
  memset(t, 0, sizeof *t);
  walker w;
  memset(&w, 0, sizeof w);
  w.t = t;
  w.trace = atomic_fetch_add(&next_trace, 1);
  t->nin = nin;
  cz_trace_result res = CZ_TRACE_ERROR;
  lz_scope_begin();
  lz_array **ph = malloc((size_t)(nin ? nin : 1) * sizeof *ph);
  /* room for the outputs and the state written back: as much state as is read, or more */
  int cap = 2 * LZ_MAX_OUTPUTS + 64 + nin;
  lz_array **outs = malloc((size_t)cap * sizeof *outs);
  int nouts = -1;
  bool ok = ph != NULL && outs != NULL;
  if (!ok) lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory");
  for (int i = 0; i < nin && ok; i++) {
    lz_placeholder_params p = {i, nexplicit, w.trace};
    ph[i] = lz__make(LZ_OP_PLACEHOLDER, &p, NULL, 0, like[i]->dtype, like[i]->shape, like[i]->ndim);
    ok = ph[i] && cz_tape_value(t, CZ_INPUT, i, like[i]->dtype, like[i]->shape, like[i]->ndim) == i;
    if (!ok && ph[i]) lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory");
  }
  if (ok) nouts = call(ctx, ph, nin, outs, cap, n_user_outs);
  if (nouts > 0) {
    t->outs = malloc((size_t)nouts * sizeof *t->outs);
    t->nouts = nouts;
    t->n_user_outs = *n_user_outs;
    if (!t->outs) lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory");
    else if (walk(&w, outs, nouts) == 0) {
      res = CZ_TRACE_OK;
      for (int i = 0; i < nouts && res == CZ_TRACE_OK; i++)
        if ((t->outs[i] = value_of(&w, outs[i])) < 0) res = CZ_TRACE_ERROR;
    } else if (w.unsupported) {
      res = CZ_TRACE_UNSUPPORTED;
    }
  }
  free(ph), free(outs);
  free(w.ents), free(w.alias);
  cz_map_free(&w.nodes), cz_map_free(&w.arrays);
  lz_scope_end(); /* placeholders, outputs and the traced graph go (constants are held) */
  if (res != CZ_TRACE_OK) cz_tape_free(t);
  if (res == CZ_TRACE_UNSUPPORTED) t->unsupported_op = w.unsupported_op;
  return res;
}
