/* The tape: growable arrays of values, nodes and constants, and the small hash map every pass
 * uses. */
#include "compile/compile_impl.h"

#include <stdlib.h>

static int grow(void **p, int32_t *cap, int32_t need, size_t elem) {
  if (need <= *cap) return 0;
  int32_t c = *cap ? *cap : 16;
  while (c < need) c *= 2;
  void *q = realloc(*p, (size_t)c * elem);
  if (!q) return -1;
  *p = q, *cap = c;
  return 0;
}

void *cz_params_dup(int op, const void *params) {
  size_t sz = lz__op(op)->params_size;
  if (!sz) return NULL;
  void *p = malloc(sz);
  if (!p) return NULL;
  if (params) memcpy(p, params, sz);
  else memset(p, 0, sz);
  if (op == LZ_OP_FUSED) fz_prog_retain(((lz_fused_params *)p)->prog);
  return p;
}

void cz_params_release(int op, void *params) {
  if (!params) return;
  if (op == LZ_OP_FUSED) fz_prog_release(((lz_fused_params *)params)->prog);
  free(params);
}

void cz_tape_free(cz_tape *t) {
  if (!t) return;
  for (int32_t i = 0; i < t->nnodes; i++) {
    cz_node *n = &t->nodes[i];
    free(n->in);
    cz_params_release(n->op, n->params);
  }
  for (int32_t i = 0; i < t->nconsts; i++) lz__array_decref(t->consts[i]);
  free(t->nodes), free(t->vals), free(t->consts), free(t->outs);
  memset(t, 0, sizeof *t);
}

int32_t cz_tape_value(cz_tape *t, int kind, int32_t ref, lz_dtype dt, const int *shape, int ndim) {
  if (grow((void **)&t->vals, &t->cap_vals, t->nvals + 1, sizeof *t->vals)) return -1;
  cz_value *v = &t->vals[t->nvals];
  v->kind = (uint8_t)kind;
  v->ref = ref;
  v->dtype = dt;
  v->ndim = ndim;
  if (ndim) memcpy(v->shape, shape, (size_t)ndim * sizeof(int));
  return t->nvals++;
}

int32_t cz_tape_const(cz_tape *t, lz_array *a) {
  if (grow((void **)&t->consts, &t->cap_consts, t->nconsts + 1, sizeof *t->consts)) return -1;
  int32_t id = cz_tape_value(t, CZ_CONST, t->nconsts, a->dtype, a->shape, a->ndim);
  if (id < 0) return -1;
  lz__array_incref(a);
  t->consts[t->nconsts++] = a;
  return id;
}

int32_t cz_tape_node(cz_tape *t, int op, const void *params, const int32_t *in, int nin, int nout,
                     const lz_dtype *dts, const int *const *shapes, const int *ndims) {
  if (grow((void **)&t->nodes, &t->cap_nodes, t->nnodes + 1, sizeof *t->nodes)) return -1;
  cz_node *n = &t->nodes[t->nnodes];
  memset(n, 0, sizeof *n);
  n->in = malloc((size_t)(nin + nout + 1) * sizeof(int32_t));
  if (!n->in) return -1;
  n->out = n->in + nin;
  if (lz__op(op)->params_size && !(n->params = cz_params_dup(op, params))) {
    free(n->in);
    return -1;
  }
  n->op = (uint16_t)op;
  n->nin = (uint16_t)nin;
  n->nout = (uint16_t)nout;
  if (nin) memcpy(n->in, in, (size_t)nin * sizeof(int32_t));
  int32_t idx = t->nnodes++; /* counted now so that cz_tape_free releases it on failure */
  for (int k = 0; k < nout; k++) {
    int32_t v = cz_tape_value(t, CZ_NODE, idx, dts[k], shapes[k], ndims[k]);
    if (v < 0) {
      n->nout = (uint16_t)k;
      return -1;
    }
    t->nodes[idx].out[k] = v;
  }
  return idx;
}

/* ---- the map ---- */

static size_t slot_of(uint64_t key, size_t cap) {
  uint64_t x = key;
  x ^= x >> 33, x *= 0xff51afd7ed558ccdull, x ^= x >> 33;
  return (size_t)x & (cap - 1);
}

int cz_map_put(cz_map *m, uint64_t key, int32_t val) {
  if ((m->count + 1) * 2 > m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    uint64_t *keys = calloc(cap, sizeof *keys);
    int32_t *vals = malloc(cap * sizeof *vals);
    if (!keys || !vals) {
      free(keys), free(vals);
      return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
      if (!m->keys[i]) continue;
      size_t j = slot_of(m->keys[i], cap);
      while (keys[j]) j = (j + 1) & (cap - 1);
      keys[j] = m->keys[i], vals[j] = m->vals[i];
    }
    free(m->keys), free(m->vals);
    m->keys = keys, m->vals = vals, m->cap = cap;
  }
  size_t i = slot_of(key, m->cap);
  while (m->keys[i] && m->keys[i] != key) i = (i + 1) & (m->cap - 1);
  if (!m->keys[i]) m->count++;
  m->keys[i] = key, m->vals[i] = val;
  return 0;
}

int32_t cz_map_get(const cz_map *m, uint64_t key) {
  if (!m->cap) return -1;
  size_t i = slot_of(key, m->cap);
  while (m->keys[i]) {
    if (m->keys[i] == key) return m->vals[i];
    i = (i + 1) & (m->cap - 1);
  }
  return -1;
}

void cz_map_free(cz_map *m) {
  free(m->keys), free(m->vals);
  memset(m, 0, sizeof *m);
}

uint64_t cz_hash_bytes(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}
