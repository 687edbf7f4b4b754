/* lz_compile: the compiled closure, the cache of traced tapes (global, LRU, locked), replay,
 * captured state, the switches, and composition with the transforms.
 *
 * A call looks its signature (input dtypes and shapes, and state keys) up in the cache; on a
 * miss it traces f, simplifies and fuses the tape and caches it; then it replays the tape on the
 * call's arrays: one lz__make per tape node, nothing computed. Under a transform (an input that
 * depends on a transform's own leaves) the replay is wrapped as a custom function whose
 * derivative rules differentiate f itself, so the forward pass stays fused. */
#include <pthread.h>
#include <stdlib.h>

#include "compile/compile_impl.h"
#include "transforms/transforms_impl.h"

typedef struct cz_sig {
  lz_dtype dtype;
  int ndim;
  int shape[LZ_MAX_NDIM];
} cz_sig;

typedef struct cz_compiled cz_compiled;

typedef struct cz_entry {
  struct cz_entry *prev, *next; /* the global LRU list, most recent first */
  struct cz_entry *own_next;    /* the owner's list */
  cz_compiled *owner;
  atomic_long refs;
  int nsig, nstate;
  cz_sig *sig;
  char **state_keys;            /* state_in keys when traced (inputs nexplicit..) */
  char **out_keys;              /* state_out keys the state outputs go to */
  int n_out_keys;
  bool shapeless;
  bool direct;                  /* f uses ops the tape cannot hold: call it directly */
  cz_tape tape;
} cz_entry;

struct cz_compiled {
  atomic_long refs;
  lz_closure *f;
  unsigned flags;
  lz_dict *state_in, *state_out;
  cz_entry *entries;            /* guarded by mu */
  int n_user_outs;              /* guarded by mu; -1 before the first trace */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static cz_entry *lru_head, *lru_tail;
static size_t n_entries, capacity = 64;
static uint64_t n_hits, n_misses, n_evictions;
static atomic_bool disabled;
static FILE *debug_out;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static void read_env(void) {
  const char *e = getenv("LZ_COMPILE_DEBUG");
  if (e && e[0] && e[0] != '0') debug_out = stderr;
}

/* ---- entries and the cache (callers hold mu where noted) ---- */

static void entry_release(cz_entry *e) {
  if (!e || atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1) return;
  cz_tape_free(&e->tape);
  for (int i = 0; i < e->nstate; i++) free(e->state_keys[i]);
  for (int i = 0; i < e->n_out_keys; i++) free(e->out_keys[i]);
  free(e->state_keys), free(e->out_keys), free(e->sig), free(e);
}

/* Takes e out of the LRU list and its owner's list; mu held. */
static void unlink_entry(cz_entry *e) {
  if (e->prev) e->prev->next = e->next;
  else lru_head = e->next;
  if (e->next) e->next->prev = e->prev;
  else lru_tail = e->prev;
  cz_entry **pp = &e->owner->entries;
  while (*pp && *pp != e) pp = &(*pp)->own_next;
  if (*pp) *pp = e->own_next;
  n_entries--;
}

static void push_front(cz_entry *e) {
  e->prev = NULL, e->next = lru_head;
  if (lru_head) lru_head->prev = e;
  lru_head = e;
  if (!lru_tail) lru_tail = e;
}

/* Drops least recently used entries beyond the capacity; mu held. Returns the dropped ones
 * chained by own_next, to be released without the lock. */
static cz_entry *evict(void) {
  cz_entry *dropped = NULL;
  while (n_entries > capacity && lru_tail) {
    cz_entry *e = lru_tail;
    unlink_entry(e);
    e->own_next = dropped, dropped = e;
    n_evictions++;
  }
  return dropped;
}

static void release_chain(cz_entry *e) {
  while (e) {
    cz_entry *next = e->own_next;
    entry_release(e);
    e = next;
  }
}

size_t lz_set_compile_cache_size(size_t entries) {
  pthread_mutex_lock(&mu);
  size_t old = capacity;
  capacity = entries;
  cz_entry *dropped = evict();
  pthread_mutex_unlock(&mu);
  release_chain(dropped);
  return old;
}

lz_compile_stats lz_get_compile_stats(void) {
  pthread_mutex_lock(&mu);
  lz_compile_stats s = {n_hits, n_misses, n_evictions, n_entries, capacity};
  pthread_mutex_unlock(&mu);
  return s;
}

void lz_clear_compile_cache(void) {
  pthread_mutex_lock(&mu);
  cz_entry *dropped = NULL;
  while (lru_head) {
    cz_entry *e = lru_head;
    unlink_entry(e);
    e->own_next = dropped, dropped = e;
  }
  n_hits = n_misses = n_evictions = 0;
  pthread_mutex_unlock(&mu);
  release_chain(dropped);
}

void lz_disable_compile(void) { atomic_store(&disabled, true); }
void lz_enable_compile(void) { atomic_store(&disabled, false); }

void lz_set_compile_debug(FILE *f) {
  pthread_once(&env_once, read_env);
  pthread_mutex_lock(&mu);
  debug_out = f;
  pthread_mutex_unlock(&mu);
}

/* ---- signatures ---- */

static bool sig_match(const cz_sig *s, const lz_array *a, bool shapeless) {
  if (s->ndim != a->ndim) return false;
  for (int d = 0; d < s->ndim; d++) {
    bool ok = shapeless ? (s->shape[d] == 1) == (a->shape[d] == 1) : s->shape[d] == a->shape[d];
    if (!ok) return false;
  }
  return true;
}

/* The cached entry for these inputs (a new reference), NULL on a miss, or sets an error for a
 * shapeless entry called with other dtypes. mu held. */
static cz_entry *lookup(cz_compiled *c, lz_array *const *in, int n, char *const *keys, int nstate,
                        int *err) {
  for (cz_entry *e = c->entries; e; e = e->own_next) {
    if (e->nsig != n || e->nstate != nstate) continue;
    bool ok = true, dtypes = true;
    for (int i = 0; i < n && ok; i++) {
      ok = sig_match(&e->sig[i], in[i], e->shapeless);
      dtypes = dtypes && e->sig[i].dtype == in[i]->dtype;
    }
    for (int i = 0; i < nstate && ok; i++) ok = strcmp(e->state_keys[i], keys[i]) == 0;
    if (!ok) continue;
    if (!dtypes) {
      if (!e->shapeless) continue;
      for (int i = 0; i < n; i++)
        if (e->sig[i].dtype != in[i]->dtype) {
          *err = lz__error(LZ_ERROR_DTYPE, "lz_compile", "%s %d has dtype %s, but the shapeless "
                           "function was traced with %s", i < n - nstate ? "input" : "state entry",
                           i < n - nstate ? i : i - (n - nstate), lz_dtype_name(in[i]->dtype),
                           lz_dtype_name(e->sig[i].dtype));
          return NULL;
        }
    }
    if (e != lru_head) { /* most recently used first */
      if (e->prev) e->prev->next = e->next;
      if (e->next) e->next->prev = e->prev;
      else lru_tail = e->prev;
      push_front(e);
    }
    atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
    n_hits++;
    return e;
  }
  return NULL;
}

/* ---- tracing ---- */

typedef struct call_ctx {
  cz_compiled *c;
  int nexplicit, nstate;
  char *const *keys;
  char **out_keys;
  int n_out_keys;
} call_ctx;

/* Puts d back to the entries of snap (same keys, same arrays). */
static void dict_restore(lz_dict *d, const lz_dict *snap) {
  for (size_t i = lz_dict_size(d); i-- > 0;) {
    const char *k = lz_dict_key(d, i);
    if (!lz_dict_contains(snap, k)) lz_dict_remove(d, k);
  }
  for (size_t i = 0; i < lz_dict_size(snap); i++) {
    lz_array *a = lz_dict_value(snap, i);
    if (a) lz_dict_set(d, lz_dict_key(snap, i), a), lz_free(a);
  }
}

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static int trace_call(void *ctx, lz_array *const *ph, int nin, lz_array **outs, int cap,
                      int *n_user) {
  call_ctx *cc = ctx;
  cz_compiled *c = cc->c;
  lz_dict *snap_in = c->state_in ? lz_dict_copy(c->state_in) : NULL;
  lz_dict *snap_out = c->state_out ? lz_dict_copy(c->state_out) : NULL;
  if ((c->state_in && !snap_in) || (c->state_out && !snap_out)) {
    lz_dict_free(snap_in), lz_dict_free(snap_out);
    return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory");
  }
  int rc = 0;
  for (int j = 0; j < cc->nstate && rc == 0; j++)
    rc = lz_dict_set(c->state_in, cc->keys[j], ph[cc->nexplicit + j]);
  int k = rc ? -1 : lz_closure_call(c->f, ph, cc->nexplicit, outs);
  int total = k;
  if (k > 0 && c->state_out) {
    size_t m = lz_dict_size(c->state_out);
    cc->out_keys = calloc(m + 1, sizeof *cc->out_keys);
    if (!cc->out_keys || k + (int)m > cap) total = lz__error(LZ_ERROR_INVALID_ARGUMENT,
                                                             "lz_compile", "too much state");
    for (size_t i = 0; i < m && total > 0; i++) {
      lz_array *a = lz_dict_value(c->state_out, i); /* owned by the trace's scope */
      if (!a) continue;                            /* a string entry */
      if (!(cc->out_keys[cc->n_out_keys] = dup_str(lz_dict_key(c->state_out, i)))) {
        total = lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory");
        break;
      }
      cc->n_out_keys++;
      outs[total++] = a;
    }
  }
  if (snap_in) dict_restore(c->state_in, snap_in);
  if (snap_out) dict_restore(c->state_out, snap_out);
  lz_dict_free(snap_in), lz_dict_free(snap_out);
  *n_user = k;
  return total;
}

/* Traces f for these inputs into a new entry (a reference for the caller, and one for the
 * cache when it is inserted). NULL with an error. */
static cz_entry *trace_entry(cz_compiled *c, lz_array *const *in, int n, char **keys,
                             int nstate) {
  cz_entry *e = calloc(1, sizeof *e);
  if (!e) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory");
    return NULL;
  }
  atomic_init(&e->refs, 1);
  e->owner = c;
  e->nsig = n, e->nstate = nstate;
  e->sig = malloc((size_t)(n ? n : 1) * sizeof *e->sig);
  e->state_keys = calloc((size_t)nstate + 1, sizeof *e->state_keys);
  bool ok = e->sig && e->state_keys;
  for (int i = 0; ok && i < n; i++) {
    e->sig[i].dtype = in[i]->dtype, e->sig[i].ndim = in[i]->ndim;
    memcpy(e->sig[i].shape, in[i]->shape, (size_t)in[i]->ndim * sizeof(int));
  }
  for (int j = 0; ok && j < nstate; j++) ok = (e->state_keys[j] = dup_str(keys[j])) != NULL;
  if (!ok) {
    entry_release(e);
    lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory");
    return NULL;
  }
  call_ctx cc = {c, n - nstate, nstate, keys, NULL, 0};
  int n_user = -1;
  cz_tape raw;
  cz_trace_result r = cz_trace(&raw, in, n, n - nstate, trace_call, &cc, &n_user);
  e->out_keys = cc.out_keys, e->n_out_keys = cc.n_out_keys;
  if (r == CZ_TRACE_UNSUPPORTED) {
    e->direct = true;
    return e;
  }
  if (r != CZ_TRACE_OK) {
    entry_release(e);
    return NULL;
  }
  cz_tape simple;
  int rc = cz_simplify(&raw, &simple);
  cz_tape_free(&raw);
  if (rc == 0 && !(c->flags & LZ_COMPILE_NO_FUSE)) {
    rc = cz_fuse(&simple, &e->tape, !(c->flags & LZ_COMPILE_NO_EPILOGUE));
    cz_tape_free(&simple);
  } else if (rc == 0) {
    e->tape = simple;
  }
  if (rc) {
    entry_release(e);
    return NULL;
  }
  cz_check_shapeless(&e->tape);
  e->shapeless = (c->flags & LZ_COMPILE_SHAPELESS) && e->tape.shapeless_ok;
  return e;
}

/* ---- replay ---- */

int cz_replay(const cz_tape *t, bool shapeless, lz_array *const *in, lz_array **v) {
  for (int32_t i = 0; i < t->nvals; i++) {
    const cz_value *cv = &t->vals[i];
    v[i] = cv->kind == CZ_INPUT ? in[cv->ref] : cv->kind == CZ_CONST ? t->consts[cv->ref] : NULL;
  }
  int rc = 0;
  lz_array *ins[64], **inp = ins, *outs[LZ_MAX_OUTPUTS + FZ_MAX_OPERANDS];
  size_t cap_in = 64;
  for (int32_t i = 0; i < t->nnodes && rc == 0; i++) {
    const cz_node *n = &t->nodes[i];
    if (n->nin > cap_in) {
      lz_array **d = malloc(n->nin * sizeof *d);
      if (!d) {
        rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory");
        break;
      }
      if (inp != ins) free(inp);
      inp = d, cap_in = n->nin;
    }
    for (int j = 0; j < n->nin; j++) inp[j] = v[n->in[j]];
    lz_dtype dts[LZ_MAX_OUTPUTS + FZ_MAX_OPERANDS];
    const int *shapes[LZ_MAX_OUTPUTS + FZ_MAX_OPERANDS];
    int nds[LZ_MAX_OUTPUTS + FZ_MAX_OPERANDS];
    int inferred[LZ_MAX_OUTPUTS + FZ_MAX_OPERANDS][LZ_MAX_NDIM];
    const cz_value *traced[LZ_MAX_OUTPUTS + FZ_MAX_OPERANDS];
    for (int k = 0; k < n->nout; k++) {
      traced[k] = &t->vals[n->out[k]];
      dts[k] = traced[k]->dtype, shapes[k] = traced[k]->shape, nds[k] = traced[k]->ndim;
    }
    if (shapeless) {
      if (cz_infer_shapes(n, traced, inp, inferred, nds) != 0) {
        rc = -1;
        break;
      }
      for (int k = 0; k < n->nout; k++) shapes[k] = inferred[k];
    }
    if (n->op == LZ_OP_FUSED) fz_prog_retain(((lz_fused_params *)n->params)->prog);
    if (lz__make_multi(n->op, n->params, inp, n->nin, n->nout, dts, shapes, nds, outs) != 0) {
      if (n->op == LZ_OP_FUSED) fz_prog_release(((lz_fused_params *)n->params)->prog);
      rc = -1;
      break;
    }
    for (int k = 0; k < n->nout; k++) v[n->out[k]] = outs[k]; /* owned by the call's scope */
  }
  if (inp != ins) free(inp);
  return rc;
}

static int replay(cz_entry *e, cz_compiled *c, lz_array *const *in, lz_array **out) {
  const cz_tape *t = &e->tape;
  lz_array **v = malloc((size_t)(t->nvals ? t->nvals : 1) * sizeof *v);
  if (!v) return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory");
  int rc = cz_replay(t, e->shapeless, in, v);
  int nuser = t->n_user_outs;
  for (int i = 0; i < nuser && rc == 0; i++) out[i] = lz_retain(v[t->outs[i]]);
  for (int j = 0; j < e->n_out_keys && rc == 0; j++)
    if (lz_dict_set(c->state_out, e->out_keys[j], v[t->outs[nuser + j]]) != 0) rc = -1;
  free(v);
  return rc ? -1 : nuser;
}

/* ---- the closures ---- */

static void compiled_release(void *p) {
  cz_compiled *c = p;
  if (!c || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1) return;
  pthread_mutex_lock(&mu);
  cz_entry *dropped = NULL;
  while (c->entries) {
    cz_entry *e = c->entries;
    unlink_entry(e);
    e->own_next = dropped, dropped = e;
  }
  pthread_mutex_unlock(&mu);
  release_chain(dropped);
  lz_closure_free(c->f);
  free(c);
}

/* Whether the arrays depend on a transform's leaves (or a trace's placeholders): a tracer
 * while a transform traces (even one evaluated inside it), or a bounded search of their
 * pending graph; a graph too large to search counts as yes. */
static bool under_transform(lz_array *const *in, int n) {
  enum { BUDGET = 4096 };
  lz_node *stack[BUDGET];
  int sp = 0, visited = 0;
  cz_map seen = {0};
  bool found = false;
  if (lz__tracing())
    for (int i = 0; i < n; i++)
      if (in[i]->flags & LZ_AF_TRACER) return true;
  for (int i = 0; i < n && !found; i++) {
    if (!in[i]->node || cz_map_get(&seen, in[i]->node->id) >= 0) continue;
    if (sp >= BUDGET || cz_map_put(&seen, in[i]->node->id, 1)) found = true;
    else stack[sp++] = in[i]->node;
    while (sp && !found) {
      lz_node *nd = stack[--sp];
      int op = nd->op;
      if (op == LZ_OP_IDENTITY || op == LZ_OP_DEPENDS || op == LZ_OP_CUSTOM_TRANSFORMS ||
          op == LZ_OP_PLACEHOLDER || ++visited > BUDGET) {
        found = true;
        break;
      }
      for (int j = 0; j < nd->ninputs && !found; j++) {
        lz_node *m = nd->inputs[j]->node;
        if (!m || cz_map_get(&seen, m->id) >= 0) continue;
        if (sp >= BUDGET || cz_map_put(&seen, m->id, 1)) found = true;
        else stack[sp++] = m;
      }
    }
  }
  cz_map_free(&seen);
  return found;
}

/* Looks up or traces, then replays. `all` holds the explicit inputs then the state values. */
static int run_compiled(cz_compiled *c, lz_array *const *all, int n, int nexplicit, char **keys,
                        int nstate, lz_array **out) {
  int err = 0;
  pthread_mutex_lock(&mu);
  cz_entry *e = lookup(c, all, n, keys, nstate, &err);
  if (!e && !err) n_misses++;
  pthread_mutex_unlock(&mu);
  if (err) return -1;
  if (!e) {
    if (!(e = trace_entry(c, all, n, keys, nstate))) return -1;
    pthread_mutex_lock(&mu);
    int nu = e->direct ? -1 : e->tape.n_user_outs;
    if (nu >= 0 && c->n_user_outs >= 0 && nu != c->n_user_outs) {
      int was = c->n_user_outs;
      pthread_mutex_unlock(&mu);
      entry_release(e);
      return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_compile", "the function returned %d "
                       "outputs, but %d when it was traced before", nu, was);
    }
    if (nu >= 0) c->n_user_outs = nu;
    if (debug_out && !e->direct) {
      fprintf(debug_out, "[lz_compile] traced %d inputs (%d state)%s\n", n, nstate,
              e->shapeless ? ", shapeless" : "");
      cz_tape_print(debug_out, &e->tape);
    }
    cz_entry *dropped = NULL;
    if (capacity > 0) {
      atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed); /* the cache's reference */
      e->own_next = c->entries, c->entries = e;
      push_front(e);
      n_entries++;
      dropped = evict();
    }
    pthread_mutex_unlock(&mu);
    release_chain(dropped);
  }
  int k;
  if (e->direct) k = lz_closure_call(c->f, all, nexplicit, out);
  else k = replay(e, c, all, out);
  entry_release(e);
  return k;
}

static void free_keys(char **keys, int n) {
  for (int i = 0; i < n; i++) free(keys[i]);
  free(keys);
}

/* The current state values (new references owned by the call's scope) and their keys. */
static int gather(cz_compiled *c, lz_array *const *in, int n, lz_array ***all, char ***keys,
                  int *nstate) {
  size_t m = c->state_in ? lz_dict_size(c->state_in) : 0;
  *all = malloc((n + m + 1) * sizeof **all);
  *keys = malloc((m + 1) * sizeof **keys);
  if (!*all || !*keys) {
    free(*all), free(*keys);
    return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory");
  }
  for (int i = 0; i < n; i++) (*all)[i] = in[i];
  int k = 0;
  for (size_t j = 0; j < m; j++) {
    lz_array *a = lz_dict_value(c->state_in, j);
    if (!a) continue; /* string entries are not state */
    (*all)[n + k] = a;
    if (!((*keys)[k++] = dup_str(lz_dict_key(c->state_in, j)))) {
      *nstate = k - 1;
      free_keys(*keys, *nstate), free(*all);
      return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory");
    }
  }
  *nstate = k;
  return 0;
}

static int replay_only(void *ctx, lz_array *const *in, int n, lz_array **out) {
  return run_compiled(ctx, in, n, n, NULL, 0, out);
}

/* (primals..., cotangents..., outputs...) -> a cotangent per primal, by f's own derivative. */
static int vjp_of_f(void *ctx, lz_array *const *args, int nargs, lz_array **out) {
  cz_compiled *c = ctx;
  int m = c->n_user_outs, n = nargs - 2 * m;
  if (m <= 0 || n < 0) return lz__error(LZ_ERROR_INTERNAL, "lz_compile", "vjp arguments");
  return lz_vjp(c->f, args, n, args + n, m, NULL, out) == 0 ? n : -1;
}

/* (primals..., tangents...) -> a tangent per output, by f's own derivative. */
static int jvp_of_f(void *ctx, lz_array *const *args, int nargs, lz_array **out) {
  cz_compiled *c = ctx;
  return lz_jvp(c->f, args, nargs / 2, args + nargs / 2, NULL, out);
}

static lz_closure *closure_of(cz_compiled *c, lz_fn fn) {
  atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
  lz_closure *f = lz_closure_new(fn, c, compiled_release);
  if (!f) compiled_release(c);
  return f;
}

/* Under a transform: the replay as a custom function differentiated (and vmapped) through f. */
static int call_wrapped(cz_compiled *c, lz_array *const *in, int n, lz_array **out) {
  lz_closure *rp = closure_of(c, replay_only), *vj = closure_of(c, vjp_of_f),
             *jv = closure_of(c, jvp_of_f);
  lz_closure *cf = rp && vj && jv ? lz__custom_function_traced(rp, vj, jv, c->f) : NULL;
  lz_closure_free(rp), lz_closure_free(vj), lz_closure_free(jv);
  if (!cf) return -1;
  int k = lz_closure_call(cf, in, n, out);
  lz_closure_free(cf);
  return k;
}

static int compiled_call(void *ctx, lz_array *const *in, int n, lz_array **out) {
  cz_compiled *c = ctx;
  if (atomic_load(&disabled)) return lz_closure_call(c->f, in, n, out);
  for (int i = 0; i < n; i++)
    if (!in[i]) return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_compile", "input %d is NULL", i);
  lz_array **all;
  char **keys;
  int nstate = 0;
  if (gather(c, in, n, &all, &keys, &nstate) != 0) return -1;
  int k;
  if (under_transform(all, n + nstate)) {
    /* with state, the derivative cannot be separated from the dict's updates: call f */
    k = nstate || c->state_out ? lz_closure_call(c->f, in, n, out) : call_wrapped(c, in, n, out);
  } else {
    k = run_compiled(c, all, n + nstate, n, keys, nstate, out);
  }
  free(all), free_keys(keys, nstate);
  return k;
}

lz_closure *lz_compile_with_state(lz_closure *f, unsigned flags, lz_dict *state_in,
                                  lz_dict *state_out) {
  pthread_once(&env_once, read_env);
  if (!f) {
    if (!lz__has_error()) lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_compile", "f is NULL");
    return NULL;
  }
  cz_compiled *c = lz__malloc(sizeof *c);
  if (!c) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory");
    return NULL;
  }
  atomic_init(&c->refs, 1);
  c->f = lz_closure_retain(f);
  c->flags = flags;
  c->state_in = state_in, c->state_out = state_out;
  c->entries = NULL;
  c->n_user_outs = -1;
  lz_closure *res = lz_closure_new(compiled_call, c, compiled_release);
  if (!res) compiled_release(c);
  return res;
}

lz_closure *lz_compile(lz_closure *f, unsigned flags) {
  return lz_compile_with_state(f, flags, NULL, NULL);
}
