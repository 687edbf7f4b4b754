/* vjp and jvp rules of the indexing ops (ops/indexing.c, ops/scatter.c, ops/indexing_data.c).
 * A gather's cotangent is scatter-added back (repeated indices accumulate); a scatter's is
 * split between the array (where nothing landed, or scaled) and the updates (gathered at the
 * places they landed). Index arrays carry no derivative. Every scatter is handled in the form of
 * MLX's scatter: index arrays per axis and an update block, so at_* and put_along_axis share
 * the rules of scatter. */
#include "cpu/gather.h"
#include "transforms/rules_util.h"

#define X (a->inputs[0])
#define C (a->cotans[0])
#define T (a->tangents[0])
#define P ((const lz_index_params *)a->node->params)
#define OUT (a->node->outputs[0]) /* shape only: it may be a dropped zombie */

static int done(lz_array **slot, lz_array *v) { return (*slot = v) ? 0 : -1; }
static void clear(lz_array **slots, int n) {
  for (int i = 0; i < n; i++) slots[i] = NULL;
}

/* ---- gathers -------------------------------------------------------------------------------- */

static int vjp_take(const lz_vjp_args *a, lz_array **g) {
  clear(g, 2);
  if (!a->need[0]) return 0;
  lz_array *idx = a->inputs[1];
  if (P->flat) {
    int n = (int)X->size;
    lz_array *z = lz_zeros(&n, 1, X->dtype);
    return done(&g[0], lz_reshape(lz_at_add(z, idx, C, 0), X->shape, X->ndim));
  }
  return done(&g[0], lz_at_add(lz_zeros_like(X), idx, C, P->axis));
}
static int jvp_take(const lz_jvp_args *a, lz_array **t) {
  lz_array *idx = a->inputs[1];
  return done(&t[0], P->flat ? lz_take_flat(T, idx) : lz_take(T, idx, P->axis));
}

static int vjp_take_along_axis(const lz_vjp_args *a, lz_array **g) {
  clear(g, 2);
  if (!a->need[0]) return 0;
  lz_array *coords[LZ_MAX_NDIM];
  lz__along_axis_coords(X, a->inputs[1], P->axis, OUT->shape, coords);
  return done(&g[0], lz__coord_scatter_add(lz_zeros_like(X), coords, X->ndim, C));
}
static int jvp_take_along_axis(const lz_jvp_args *a, lz_array **t) {
  return done(&t[0], lz_take_along_axis(T, a->inputs[1], P->axis));
}

static int vjp_gather(const lz_vjp_args *a, lz_array **g) {
  clear(g, a->node->ninputs);
  if (!a->need[0]) return 0;
  return done(&g[0], lz_scatter_add(lz_zeros_like(X), a->inputs + 1, P->axes, P->naxes, C));
}
static int jvp_gather(const lz_jvp_args *a, lz_array **t) {
  return done(&t[0], lz_gather(T, a->inputs + 1, P->axes, P->naxes, P->sizes));
}

static int vjp_slice_dynamic(const lz_vjp_args *a, lz_array **g) {
  clear(g, 2);
  if (!a->need[0]) return 0;
  lz_array *z = lz_zeros_like(X);
  return done(&g[0], lz_slice_update_dynamic(z, C, a->inputs[1], P->axes, P->naxes));
}
static int jvp_slice_dynamic(const lz_jvp_args *a, lz_array **t) {
  return done(&t[0], lz_slice_dynamic(T, a->inputs[1], P->axes, P->naxes, P->sizes));
}

/* mask_select: the selected rows are the coordinates of the mask's true elements. */
static int vjp_mask_select(const lz_vjp_args *a, lz_array **g) {
  clear(g, 2);
  if (!a->need[0]) return 0;
  lz_array *mask = a->inputs[1], *nz = lz_nonzero(mask);
  if (!nz) return -1;
  int m = mask->ndim, n = nz->shape[0], axes[LZ_MAX_NDIM], shape[2 * LZ_MAX_NDIM], nd = 0;
  lz_array *idx[LZ_MAX_NDIM];
  for (int k = 0; k < m; k++) {
    int s[2] = {0, k}, e[2] = {n, k + 1};
    idx[k] = lz_reshape(lz_slice(nz, s, e, NULL, 2), &n, 1);
    axes[k] = k;
  }
  shape[nd++] = n;
  for (int d = 0; d < X->ndim; d++) shape[nd++] = d < m ? 1 : X->shape[d];
  lz_array *upd = lz_reshape(C, shape, nd);
  return done(&g[0], lz_scatter_add(lz_zeros_like(X), idx, axes, m, upd));
}
static int jvp_mask_select(const lz_jvp_args *a, lz_array **t) {
  return done(&t[0], lz_mask_select(T, a->inputs[1]));
}

/* ---- scatters ------------------------------------------------------------------------------ */

/* Where a scatter node's updates land, in MLX's scatter form: index arrays on `axes` and an
 * update array of shape vshape = I + block. `natural` is the shape the node's values broadcast
 * to (the take shape for at_* and put_along_axis, vshape for scatter). */
typedef struct upd_pos {
  lz_array *idx[LZ_MAX_NDIM];
  int axes[LZ_MAX_NDIM], nidx, sizes[LZ_MAX_NDIM];
  int vshape[2 * LZ_MAX_NDIM], vnd;
  int natural[2 * LZ_MAX_NDIM], nnd;
  lz_array *v; /* the node's values input */
} upd_pos;

static void pos_init(lz_node *node, upd_pos *q) {
  const lz_index_params *p = node->params;
  lz_array *a = node->inputs[0], *idx = node->inputs[1];
  q->v = node->inputs[node->ninputs - 1];
  if (node->op == LZ_OP_SCATTER) {
    q->nidx = p->naxes;
    for (int k = 0; k < q->nidx; k++) q->idx[k] = node->inputs[1 + k], q->axes[k] = p->axes[k];
    int m = q->v->ndim - a->ndim;
    for (int d = 0; d < a->ndim; d++) q->sizes[d] = q->v->shape[m + d];
    q->vnd = q->nnd = q->v->ndim;
    memcpy(q->vshape, q->v->shape, (size_t)q->vnd * sizeof(int));
    memcpy(q->natural, q->v->shape, (size_t)q->vnd * sizeof(int));
    return;
  }
  int ax = p->axis;
  if (node->op == LZ_OP_SCATTER_AXIS) {
    q->nnd = a->ndim - 1 + idx->ndim;
    for (int d = 0; d < q->nnd; d++) {
      q->natural[d] = d < ax                ? a->shape[d]
                      : d < ax + idx->ndim ? idx->shape[d - ax]
                                           : a->shape[d - idx->ndim + 1];
    }
    lz__take_coords(a, idx, ax, q->idx);
  } else { /* put_along_axis */
    q->nnd = a->ndim;
    for (int d = 0; d < a->ndim; d++)
      q->natural[d] = d == ax || a->shape[d] == 1 ? idx->shape[d] : a->shape[d];
    lz__along_axis_coords(a, idx, ax, q->natural, q->idx);
  }
  q->nidx = a->ndim;
  memcpy(q->vshape, q->natural, (size_t)q->nnd * sizeof(int));
  for (int d = 0; d < a->ndim; d++) q->axes[d] = d, q->sizes[d] = 1, q->vshape[q->nnd + d] = 1;
  q->vnd = q->nnd + a->ndim;
}

/* values (broadcasting to the natural shape) in the scatter form, and back (summing the
 * broadcast, converting to `like`'s dtype). */
static lz_array *to_form(const upd_pos *q, lz_array *v) {
  return lz_reshape(lz_broadcast_to(v, q->natural, q->nnd), q->vshape, q->vnd);
}
static lz_array *from_form(const char *who, const upd_pos *q, lz_array *g, const lz_array *like) {
  return lz__unbroadcast(who, lz_reshape(g, q->natural, q->nnd), like);
}
static lz_array *gather_at(const upd_pos *q, lz_array *x) {
  return lz_gather(x, q->idx, q->axes, q->nidx, q->sizes);
}
static lz_array *scatter_at(const upd_pos *q, int mode, lz_array *base, lz_array *u) {
  switch (mode) {
  case LZ_SCATTER_SET: return lz_scatter(base, q->idx, q->axes, q->nidx, u);
  case LZ_SCATTER_MULTIPLY: return lz_scatter_prod(base, q->idx, q->axes, q->nidx, u);
  case LZ_SCATTER_MAXIMUM: return lz_scatter_max(base, q->idx, q->axes, q->nidx, u);
  case LZ_SCATTER_MINIMUM: return lz_scatter_min(base, q->idx, q->axes, q->nidx, u);
  default: return lz_scatter_add(base, q->idx, q->axes, q->nidx, u);
  }
}

/* The pieces a scatter's rules share, for mode: the values V in scatter form and, by mode,
 * P (the product of the updates per element), the output, and the max/min winner masks. */
typedef struct scatter_terms {
  lz_array *V, *prod, *out, *mask_a, *mask_v, *count;
} scatter_terms;

static void terms(lz_node *node, const upd_pos *q, int mode, scatter_terms *s) {
  lz_array *a = node->inputs[0];
  memset(s, 0, sizeof *s);
  s->V = to_form(q, q->v);
  if (mode == LZ_SCATTER_MULTIPLY || mode == LZ_SCATTER_DIVIDE) {
    s->prod = scatter_at(q, LZ_SCATTER_MULTIPLY, lz_ones_like(a), s->V);
    s->out = mode == LZ_SCATTER_MULTIPLY ? lz_multiply(a, s->prod) : lz_divide(a, s->prod);
  } else if (mode == LZ_SCATTER_MAXIMUM || mode == LZ_SCATTER_MINIMUM) {
    lz_array *out = lz__node_output(node, 0);
    s->out = out ? out : scatter_at(q, mode, a, s->V);
    /* every element equal to the result shares its cotangent equally */
    s->mask_a = lz_astype(lz_equal(a, s->out), a->dtype);
    s->mask_v = lz_astype(lz_equal(s->V, gather_at(q, s->out)), a->dtype);
    s->count = lz_add(s->mask_a, scatter_at(q, LZ_SCATTER_ADD, lz_zeros_like(a), s->mask_v));
  }
}

/* For "set": 1 where an update is the one that stayed (the last one at its place). */
static lz_array *set_winners(const upd_pos *q, const lz_array *a) {
  int64_t n = 1;
  for (int d = 0; d < q->vnd; d++) n *= q->vshape[d];
  lz_array *ids = lz_reshape(lz_arange(0, (double)n, 1, LZ_INT32), q->vshape, q->vnd);
  lz_array *none = lz_full(a->shape, a->ndim, -1, LZ_INT32);
  lz_array *kept = gather_at(q, scatter_at(q, LZ_SCATTER_SET, none, ids));
  return lz_astype(lz_equal(kept, ids), a->dtype);
}

static int vjp_scatter(const lz_vjp_args *a, lz_array **g) {
  int nin = a->node->ninputs, vi = nin - 1, mode = P->mode;
  clear(g, nin);
  upd_pos q;
  pos_init(a->node, &q);
  scatter_terms s;
  terms(a->node, &q, mode, &s);
  lz_array *ga = NULL, *gv = NULL; /* gv in scatter form */
  switch (mode) {
  case LZ_SCATTER_SET: {
    lz_array *z = lz_scalar(0, X->dtype);
    if (a->need[0]) ga = scatter_at(&q, LZ_SCATTER_SET, C, lz_broadcast_to(z, q.vshape, q.vnd));
    if (a->need[vi]) gv = lz_multiply(gather_at(&q, C), set_winners(&q, X));
    break;
  }
  case LZ_SCATTER_ADD:
  case LZ_SCATTER_SUBTRACT:
    ga = C;
    gv = gather_at(&q, C);
    if (mode == LZ_SCATTER_SUBTRACT) gv = lz_negative(gv);
    break;
  case LZ_SCATTER_MULTIPLY:
  case LZ_SCATTER_DIVIDE:
    ga = mode == LZ_SCATTER_MULTIPLY ? lz_multiply(C, s.prod) : lz_divide(C, s.prod);
    gv = lz_divide(gather_at(&q, lz_multiply(C, s.out)), s.V);
    if (mode == LZ_SCATTER_DIVIDE) gv = lz_negative(gv);
    break;
  default: { /* maximum, minimum */
    lz_array *share = lz_divide(C, s.count);
    ga = lz_multiply(share, s.mask_a);
    gv = lz_multiply(gather_at(&q, share), s.mask_v);
  }
  }
  if (a->need[0] && !(g[0] = lz_astype(ga, X->dtype))) return -1;
  if (a->need[vi] && !(g[vi] = from_form(a->who, &q, gv, q.v))) return -1;
  return 0;
}

static int jvp_scatter(const lz_jvp_args *a, lz_array **t) {
  int vi = a->node->ninputs - 1, mode = P->mode;
  upd_pos q;
  pos_init(a->node, &q);
  lz_array *ta = a->tangents[0], *tv = a->tangents[vi] ? to_form(&q, a->tangents[vi]) : NULL;
  scatter_terms s;
  terms(a->node, &q, mode, &s);
  lz_array *r = NULL, *zero_a = lz_zeros_like(X);
  switch (mode) {
  case LZ_SCATTER_SET:
    r = scatter_at(&q, LZ_SCATTER_SET, lz__or_zeros(ta, X), lz__or_zeros(tv, s.V));
    break;
  case LZ_SCATTER_ADD:
  case LZ_SCATTER_SUBTRACT:
    if (tv && mode == LZ_SCATTER_SUBTRACT) tv = lz_negative(tv);
    r = scatter_at(&q, LZ_SCATTER_ADD, lz__or_zeros(ta, X), lz__or_zeros(tv, s.V));
    break;
  case LZ_SCATTER_MULTIPLY:
  case LZ_SCATTER_DIVIDE: {
    lz_array *p = ta ? (mode == LZ_SCATTER_MULTIPLY ? lz_multiply(ta, s.prod)
                                                    : lz_divide(ta, s.prod))
                     : NULL;
    lz_array *rel = tv ? lz_multiply(s.out, scatter_at(&q, LZ_SCATTER_ADD, zero_a,
                                                       lz_divide(tv, s.V)))
                       : NULL;
    if (rel && mode == LZ_SCATTER_DIVIDE) rel = lz_negative(rel);
    r = lz__sum_tangents(p, rel, X);
    break;
  }
  default: {
    lz_array *p = ta ? lz_multiply(ta, s.mask_a) : NULL;
    lz_array *u = tv ? scatter_at(&q, LZ_SCATTER_ADD, zero_a, lz_multiply(tv, s.mask_v)) : NULL;
    r = lz_divide(lz__sum_tangents(p, u, X), s.count);
  }
  }
  return done(&t[0], r);
}

/* slice_update: the array keeps the cotangent outside the slice, the update gets the slice. */
static int vjp_slice_update(const lz_vjp_args *a, lz_array **g) {
  clear(g, 2);
  lz_array *u = a->inputs[1];
  if (a->need[0]) {
    lz_array *z = lz_scalar(0, X->dtype);
    if (!(g[0] = lz__slice_update_norm(C, z, P->start, P->step, P->sizes))) return -1;
  }
  if (a->need[1]) {
    lz_array *s = lz__slice_norm(C, P->start, P->step, P->sizes);
    if (!(g[1] = lz__unbroadcast(a->who, s, u))) return -1;
  }
  return 0;
}
static int jvp_slice_update(const lz_jvp_args *a, lz_array **t) {
  lz_array *ts = lz__or_zeros(a->tangents[0], X), *tu = lz__or_zeros(a->tangents[1], a->inputs[1]);
  return done(&t[0], lz__slice_update_norm(ts, tu, P->start, P->step, P->sizes));
}

static int vjp_slice_update_dynamic(const lz_vjp_args *a, lz_array **g) {
  clear(g, 3);
  lz_array *u = a->inputs[1], *start = a->inputs[2];
  if (a->need[0]) {
    lz_array *z = lz_zeros_like(u);
    if (!(g[0] = lz_slice_update_dynamic(C, z, start, P->axes, P->naxes))) return -1;
  }
  if (a->need[1]) {
    lz_array *s = lz_slice_dynamic(C, start, P->axes, P->naxes, P->sizes);
    if (!(g[1] = lz__unbroadcast(a->who, s, u))) return -1;
  }
  return 0;
}
static int jvp_slice_update_dynamic(const lz_jvp_args *a, lz_array **t) {
  lz_array *ts = lz__or_zeros(a->tangents[0], X), *tu = lz__or_zeros(a->tangents[1], a->inputs[1]);
  return done(&t[0], lz_slice_update_dynamic(ts, tu, a->inputs[2], P->axes, P->naxes));
}

const lz_rule lz__rules_indexing[LZ_OP_COUNT] = {
    [LZ_OP_TAKE] = {vjp_take, jvp_take, NULL},
    [LZ_OP_TAKE_ALONG_AXIS] = {vjp_take_along_axis, jvp_take_along_axis, NULL},
    [LZ_OP_GATHER] = {vjp_gather, jvp_gather, NULL},
    [LZ_OP_SLICE_DYNAMIC] = {vjp_slice_dynamic, jvp_slice_dynamic, NULL},
    [LZ_OP_MASK_SELECT] = {vjp_mask_select, jvp_mask_select, NULL},
    [LZ_OP_SCATTER] = {vjp_scatter, jvp_scatter, NULL},
    [LZ_OP_SCATTER_AXIS] = {vjp_scatter, jvp_scatter, NULL},
    [LZ_OP_PUT_ALONG_AXIS] = {vjp_scatter, jvp_scatter, NULL},
    [LZ_OP_SLICE_UPDATE] = {vjp_slice_update, jvp_slice_update, NULL},
    [LZ_OP_SLICE_UPDATE_DYNAMIC] = {vjp_slice_update_dynamic, jvp_slice_update_dynamic, NULL},
};
