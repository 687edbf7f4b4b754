/* Simplification in linear time: one forward sweep merges equal scalar constants and common
 * subexpressions (hash of op, parameter bytes and canonical input ids) and drops no-ops
 * (reshape or broadcast to the same shape, astype to the same dtype, x * 1, x / 1, x + 0,
 * x - 0); one backward sweep keeps only what the outputs need; a last sweep writes the new tape.
 * Note: x + 0 -> x turns -0.0 + 0 (= +0.0) into -0.0, as other compilers' simplifiers do. */
#include "compile/compile_impl.h"

#include <stdlib.h>

typedef struct simp {
  const cz_tape *t;
  int32_t *rep;  /* canonical value of each value */
  bool *drop;    /* node merged or removed */
} simp;

/* The value of a captured size-1 constant, if v is one. */
static bool scalar_const(const cz_tape *t, int32_t v, double *val) {
  const cz_value *cv = &t->vals[v];
  if (cv->kind != CZ_CONST || cv->dtype == LZ_COMPLEX64) return false;
  lz_array *a = t->consts[cv->ref];
  if (a->node || !a->buf || a->size != 1) return false;
  *val = lz__load_f64(lz__data_ptr(a), a->dtype);
  return true;
}

static bool same_meta(const cz_value *a, const cz_value *b) {
  if (a->dtype != b->dtype || a->ndim != b->ndim) return false;
  return a->ndim == 0 || memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof(int)) == 0;
}

/* If node n computes one of its inputs unchanged, that input's canonical id, else -1. */
static int32_t noop_input(const simp *s, const cz_node *n) {
  const cz_tape *t = s->t;
  if (n->nout != 1) return -1;
  const cz_value *o = &t->vals[n->out[0]];
  int32_t a = n->nin > 0 ? s->rep[n->in[0]] : -1, b = n->nin > 1 ? s->rep[n->in[1]] : -1;
  double c;
  switch (n->op) {
  case LZ_OP_RESHAPE:
  case LZ_OP_BROADCAST_TO:
  case LZ_OP_ASTYPE: return same_meta(&t->vals[a], o) ? a : -1;
  case LZ_OP_MULTIPLY:
    if (scalar_const(t, b, &c) && c == 1 && same_meta(&t->vals[a], o)) return a;
    if (scalar_const(t, a, &c) && c == 1 && same_meta(&t->vals[b], o)) return b;
    return -1;
  case LZ_OP_ADD:
    if (scalar_const(t, b, &c) && c == 0 && same_meta(&t->vals[a], o)) return a;
    if (scalar_const(t, a, &c) && c == 0 && same_meta(&t->vals[b], o)) return b;
    return -1;
  case LZ_OP_SUBTRACT:
    return scalar_const(t, b, &c) && c == 0 && same_meta(&t->vals[a], o) ? a : -1;
  case LZ_OP_DIVIDE:
    return scalar_const(t, b, &c) && c == 1 && same_meta(&t->vals[a], o) ? a : -1;
  default: return -1;
  }
}

static uint64_t node_hash(const simp *s, const cz_node *n) {
  uint64_t h = 0xcbf29ce484222325ull;
  h = cz_hash_bytes(h, &n->op, sizeof n->op);
  for (int i = 0; i < n->nin; i++) h = cz_hash_bytes(h, &s->rep[n->in[i]], sizeof(int32_t));
  size_t ps = lz__op(n->op)->params_size;
  if (ps) h = cz_hash_bytes(h, n->params, ps);
  for (int k = 0; k < n->nout; k++) h = cz_hash_bytes(h, &s->t->vals[n->out[k]].dtype, sizeof(lz_dtype));
  return h ? h : 1;
}

static bool same_node(const simp *s, const cz_node *a, const cz_node *b) {
  if (a->op != b->op || a->nin != b->nin || a->nout != b->nout) return false;
  for (int i = 0; i < a->nin; i++)
    if (s->rep[a->in[i]] != s->rep[b->in[i]]) return false;
  size_t ps = lz__op(a->op)->params_size;
  if (ps && memcmp(a->params, b->params, ps) != 0) return false;
  for (int k = 0; k < a->nout; k++)
    if (!same_meta(&s->t->vals[a->out[k]], &s->t->vals[b->out[k]])) return false;
  return true;
}

/* Equal size-1 constants become one value. */
static int intern_scalars(simp *s, cz_map *m) {
  const cz_tape *t = s->t;
  for (int32_t v = 0; v < t->nvals; v++) {
    const cz_value *cv = &t->vals[v];
    double c;
    if (!scalar_const(t, v, &c)) continue;
    lz_array *a = t->consts[cv->ref];
    uint64_t h = cz_hash_bytes(0x9e3779b97f4a7c15ull, &cv->dtype, sizeof cv->dtype);
    h = cz_hash_bytes(h, &cv->ndim, sizeof cv->ndim);
    h = cz_hash_bytes(h, lz__data_ptr(a), lz_dtype_size(a->dtype));
    h = h ? h : 1;
    int32_t prev = cz_map_get(m, h);
    if (prev >= 0) {
      lz_array *b = t->consts[t->vals[prev].ref];
      if (same_meta(&t->vals[prev], cv) &&
          memcmp(lz__data_ptr(a), lz__data_ptr(b), lz_dtype_size(a->dtype)) == 0) {
        s->rep[v] = prev;
        continue;
      }
    } else if (cz_map_put(m, h, v)) {
      return -1;
    }
  }
  return 0;
}

int cz_simplify(const cz_tape *t, cz_tape *out) {
  memset(out, 0, sizeof *out);
  simp s = {t, malloc((size_t)(t->nvals + 1) * sizeof(int32_t)),
            calloc((size_t)t->nnodes + 1, sizeof(bool))};
  bool *need = calloc((size_t)t->nvals + 1, sizeof(bool));
  int32_t *map = malloc((size_t)(t->nvals + 1) * sizeof(int32_t));
  cz_map consts = {0}, cse = {0};
  int rc = (s.rep && s.drop && need && map) ? 0 : -1;
  for (int32_t v = 0; rc == 0 && v < t->nvals; v++) s.rep[v] = v, map[v] = -1;
  if (rc == 0) rc = intern_scalars(&s, &consts);
  /* forward: no-ops and common subexpressions */
  for (int32_t i = 0; rc == 0 && i < t->nnodes; i++) {
    const cz_node *n = &t->nodes[i];
    int32_t same = noop_input(&s, n);
    if (same >= 0) {
      s.rep[n->out[0]] = same;
      s.drop[i] = true;
      continue;
    }
    uint32_t flags = lz__op(n->op)->flags;
    if (flags & (LZ_OPF_NO_CSE | LZ_OPF_RANDOM)) continue;
    uint64_t h = node_hash(&s, n);
    int32_t prev = cz_map_get(&cse, h);
    if (prev >= 0 && same_node(&s, &t->nodes[prev], n)) {
      for (int k = 0; k < n->nout; k++) s.rep[n->out[k]] = s.rep[t->nodes[prev].out[k]];
      s.drop[i] = true;
    } else if (prev < 0 && cz_map_put(&cse, h, i)) {
      rc = -1;
    }
  }
  /* backward: what the outputs need */
  for (int i = 0; rc == 0 && i < t->nouts; i++) need[s.rep[t->outs[i]]] = true;
  for (int32_t i = t->nnodes - 1; rc == 0 && i >= 0; i--) {
    const cz_node *n = &t->nodes[i];
    bool used = false;
    for (int k = 0; k < n->nout && !s.drop[i] && !used; k++) used = need[n->out[k]];
    if (!used) {
      s.drop[i] = true;
      continue;
    }
    for (int j = 0; j < n->nin; j++) need[s.rep[n->in[j]]] = true;
  }
  /* emit */
  out->nin = t->nin;
  for (int32_t v = 0; rc == 0 && v < t->nin; v++) {
    const cz_value *cv = &t->vals[v];
    if (cz_tape_value(out, CZ_INPUT, v, cv->dtype, cv->shape, cv->ndim) != v) rc = -1;
    map[v] = v;
  }
  int32_t ins[64];
  for (int32_t i = 0; rc == 0 && i < t->nnodes; i++) {
    const cz_node *n = &t->nodes[i];
    if (s.drop[i]) continue;
    int32_t *in = n->nin <= 64 ? ins : malloc((size_t)n->nin * sizeof *in);
    if (!in) {
      rc = -1;
      break;
    }
    for (int j = 0; j < n->nin && rc == 0; j++) {
      int32_t r = s.rep[n->in[j]];
      if (map[r] < 0) map[r] = cz_tape_const(out, t->consts[t->vals[r].ref]); /* a constant */
      if ((in[j] = map[r]) < 0) rc = -1;
    }
    lz_dtype dts[LZ_MAX_OUTPUTS + 1];
    const int *shapes[LZ_MAX_OUTPUTS + 1];
    int nds[LZ_MAX_OUTPUTS + 1];
    if (n->nout > LZ_MAX_OUTPUTS + 1) rc = -1; /* multi-output ops have few outputs */
    for (int k = 0; rc == 0 && k < n->nout; k++) {
      const cz_value *cv = &t->vals[n->out[k]];
      dts[k] = cv->dtype, shapes[k] = cv->shape, nds[k] = cv->ndim;
    }
    int32_t idx = rc ? -1 : cz_tape_node(out, n->op, n->params, in, n->nin, n->nout, dts, shapes, nds);
    if (in != ins) free(in);
    if (idx < 0) {
      rc = -1;
      break;
    }
    for (int k = 0; k < n->nout; k++) map[n->out[k]] = out->nodes[idx].out[k];
  }
  if (rc == 0 && !(out->outs = malloc((size_t)(t->nouts ? t->nouts : 1) * sizeof(int32_t)))) rc = -1;
  for (int i = 0; rc == 0 && i < t->nouts; i++) {
    int32_t r = s.rep[t->outs[i]];
    if (map[r] < 0) map[r] = cz_tape_const(out, t->consts[t->vals[r].ref]);
    if ((out->outs[i] = map[r]) < 0) rc = -1;
  }
  out->nouts = t->nouts;
  out->n_user_outs = t->n_user_outs;
  free(s.rep), free(s.drop), free(need), free(map);
  cz_map_free(&consts), cz_map_free(&cse);
  if (rc) {
    cz_tape_free(out);
    return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory simplifying");
  }
  return 0;
}
