/* The vmap engine: batches a recorded per-example graph node by node, the rule lookup, the
 * shared elementwise rule and the generic loop that every op without a rule falls back to.
 *
 * The walk (walk.c) lists the nodes between the traced inputs and the outputs in topological
 * order. Each walk slot holds a node output's batched value; a parallel array holds its batch
 * axis. A node none of whose inputs is batched keeps its traced outputs (slots stay NULL). */
#include "transforms/vmap_impl.h"

#include <stdlib.h>

/* ---- rule lookup ------------------------------------------------------------------------- */

static const lz_vmap_rule *const families[] = {
    lz__vmap_rules_misc,
    lz__vmap_rules_reduce,
    lz__vmap_rules_shape,
    lz__vmap_rules_linalg,
    lz__vmap_rules_fast,
    lz__vmap_rules_distributed,
};

static lz_vmap_rule table_rule(int op) {
  for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
    if (families[f][op]) return families[f][op];
  return NULL;
}

lz_vmap_rule lz__vmap_rule(int op) {
  if (op < 0 || op >= LZ_OP_COUNT) return lz__vmap_fallback;
  lz_vmap_rule r = table_rule(op);
  if (r) return r;
  if (lz__op(op)->flags & LZ_OPF_ELEMENTWISE) return lz__vmap_elementwise;
  return lz__vmap_fallback;
}

bool lz__vmap_has_rule(int op) { return lz__vmap_rule(op) != lz__vmap_fallback; }

/* ---- helpers ----------------------------------------------------------------------------- */

lz_array *lz__vmap_front(lz_array *x, int axis) {
  if (!x) return NULL;
  if (axis == 0) return lz_retain(x);
  return lz_moveaxis(x, axis, 0);
}

lz_array *lz__vmap_front_rank(lz_array *x, int axis, int rank) {
  if (!x || axis == LZ__VMAP_NB) return x ? lz_retain(x) : NULL;
  lz_array *f = lz__vmap_front(x, axis);
  if (!f || f->ndim >= rank + 1) return f;
  int shape[LZ_MAX_NDIM], pad = rank + 1 - f->ndim;
  shape[0] = f->shape[0];
  for (int d = 0; d < pad; d++) shape[1 + d] = 1;
  for (int d = 1; d < f->ndim; d++) shape[pad + d] = f->shape[d];
  return lz_reshape(f, shape, rank + 1);
}

lz_array *lz__vmap_batched(lz_array *x, int axis, int size) {
  if (!x) return NULL;
  if (axis != LZ__VMAP_NB) return lz__vmap_front(x, axis);
  if (x->ndim + 1 > LZ_MAX_NDIM) {
    lz__error(LZ_ERROR_SHAPE, "lz_vmap", "batching an array of %d dims exceeds %d dims", x->ndim,
              LZ_MAX_NDIM);
    return NULL;
  }
  int shape[LZ_MAX_NDIM];
  shape[0] = size;
  memcpy(shape + 1, x->shape, (size_t)x->ndim * sizeof(int));
  lz_array *e = lz_expand_dims(x, (int[]){0}, 1);
  return lz_broadcast_to(e, shape, x->ndim + 1);
}

int lz__vmap_remake(const lz_vmap_args *a, const void *params, lz_array *const *ins, int nin,
                    lz_array **outs, int *out_axes) {
  lz_node *n = a->node;
  int m = n->noutputs;
  for (int i = 0; i < nin; i++)
    if (!ins[i]) return -1;
  if (!params) params = n->params;
  lz_dtype *dt = calloc((size_t)m, sizeof *dt); /* zeroed: quiets -Wmaybe-uninitialized */
  int *nd = calloc((size_t)m, sizeof *nd);
  const int **shapes = calloc((size_t)m, sizeof *shapes);
  int *dims = malloc((size_t)m * LZ_MAX_NDIM * sizeof *dims);
  int rc = 0;
  if (!dt || !nd || !shapes || !dims)
    rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, a->who, "out of memory");
  for (int k = 0; k < m && rc == 0; k++) {
    const lz_array *o = n->outputs[k]; /* shape only: it may be a dropped zombie */
    if (o->ndim + 1 > LZ_MAX_NDIM) {
      rc = lz__error(LZ_ERROR_SHAPE, a->who, "batching '%s' gives more than %d dims",
                     lz__op(n->op)->name, LZ_MAX_NDIM);
      break;
    }
    int *s = dims + (size_t)k * LZ_MAX_NDIM;
    s[0] = a->size;
    memcpy(s + 1, o->shape, (size_t)o->ndim * sizeof(int));
    dt[k] = o->dtype, nd[k] = o->ndim + 1, shapes[k] = s;
  }
  if (rc == 0) rc = lz__make_multi(n->op, params, ins, nin, m, dt, shapes, nd, outs);
  for (int k = 0; k < m && rc == 0; k++) out_axes[k] = 0;
  free(dt), free(nd), free(shapes), free(dims);
  return rc;
}

int lz__vmap_done(lz_array *x, int axis, lz_array **outs, int *out_axes) {
  outs[0] = x;
  out_axes[0] = axis;
  return x ? 0 : -1;
}

/* ---- the shared rules -------------------------------------------------------------------- */

int lz__vmap_elementwise(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  lz_node *n = a->node;
  if (n->ninputs == 1) { /* same shape in and out: the batch stays where it is */
    int ax = a->axes[0];
    lz_dtype dt[LZ_MAX_OUTPUTS];
    const int *shapes[LZ_MAX_OUTPUTS];
    int nd[LZ_MAX_OUTPUTS];
    if (n->noutputs > LZ_MAX_OUTPUTS) return lz__vmap_fallback(a, outs, out_axes);
    for (int k = 0; k < n->noutputs; k++) {
      dt[k] = n->outputs[k]->dtype, shapes[k] = a->inputs[0]->shape, nd[k] = a->inputs[0]->ndim;
      out_axes[k] = ax;
    }
    return lz__make_multi(n->op, n->params, a->inputs, 1, n->noutputs, dt, shapes, nd, outs);
  }
  int rank = n->outputs[0]->ndim;
  lz_array **ins = malloc((size_t)n->ninputs * sizeof *ins);
  if (!ins) return lz__error(LZ_ERROR_OUT_OF_MEMORY, a->who, "out of memory");
  for (int i = 0; i < n->ninputs; i++) ins[i] = lz__vmap_front_rank(a->inputs[i], a->axes[i], rank);
  int rc = lz__vmap_remake(a, NULL, ins, n->ninputs, outs, out_axes);
  free(ins);
  return rc;
}

int lz__vmap_fallback(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  lz_node *n = a->node;
  const lz_op_def *def = lz__op(n->op);
  int B = a->size, nin = n->ninputs, m = n->noutputs;
  if (def->params_free)
    return lz__error(LZ_ERROR_NOT_IMPLEMENTED, a->who, "op '%s' cannot be vmapped", def->name);
  if (B > 65535)
    return lz__error(LZ_ERROR_NOT_IMPLEMENTED, a->who,
                     "op '%s' has no vmap rule and its "
                     "per-example loop supports at most 65535 examples, got %d",
                     def->name, B);
  if (B == 0) { /* nothing to loop over: empty batched outputs of the traced shapes */
    for (int k = 0; k < m; k++) {
      const lz_array *o = n->outputs[k];
      int shape[LZ_MAX_NDIM];
      if (o->ndim + 1 > LZ_MAX_NDIM)
        return lz__error(LZ_ERROR_SHAPE, a->who, "batching '%s' gives more than %d dims", def->name,
                         LZ_MAX_NDIM);
      shape[0] = 0;
      memcpy(shape + 1, o->shape, (size_t)o->ndim * sizeof(int));
      if (!(outs[k] = lz_zeros(shape, o->ndim + 1, o->dtype))) return -1;
      out_axes[k] = 0;
    }
    return 0;
  }
  /* slices[i][b]: example b of input i (the input itself when it is not batched);
   * res[k][b]: output k of example b. */
  lz_array **slices = malloc((size_t)nin * (size_t)B * sizeof *slices);
  lz_array **res = malloc((size_t)m * (size_t)B * sizeof *res);
  lz_array **ins = malloc((size_t)(nin ? nin : 1) * sizeof *ins);
  lz_array **one = malloc((size_t)m * sizeof *one);
  int rc = 0;
  if (!slices || !res || !ins || !one)
    rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, a->who, "out of memory");
  for (int i = 0; i < nin && rc == 0; i++) {
    lz_array **s = slices + (size_t)i * (size_t)B;
    if (a->axes[i] == LZ__VMAP_NB) {
      for (int b = 0; b < B; b++) s[b] = a->inputs[i];
    } else if (lz_unstack(a->inputs[i], a->axes[i], s) != 0) {
      rc = -1;
    }
  }
  for (int b = 0; b < B && rc == 0; b++) {
    lz_dtype dt[LZ_MAX_OUTPUTS];
    const int *shapes[LZ_MAX_OUTPUTS];
    int nd[LZ_MAX_OUTPUTS];
    if (m > LZ_MAX_OUTPUTS) {
      rc = lz__error(LZ_ERROR_NOT_IMPLEMENTED, a->who,
                     "op '%s' has %d outputs, too many to "
                     "vmap",
                     def->name, m);
      break;
    }
    for (int i = 0; i < nin; i++) ins[i] = slices[(size_t)i * (size_t)B + (size_t)b];
    for (int k = 0; k < m; k++) {
      const lz_array *o = n->outputs[k];
      dt[k] = o->dtype, shapes[k] = o->shape, nd[k] = o->ndim;
    }
    if (lz__make_multi(n->op, n->params, ins, nin, m, dt, shapes, nd, one) != 0) rc = -1;
    for (int k = 0; k < m && rc == 0; k++) res[(size_t)k * (size_t)B + (size_t)b] = one[k];
  }
  for (int k = 0; k < m && rc == 0; k++) {
    if (!(outs[k] = lz_stack(res + (size_t)k * (size_t)B, B, 0))) rc = -1;
    out_axes[k] = 0;
  }
  free(slices), free(res), free(ins), free(one);
  return rc;
}

/* ---- the engine -------------------------------------------------------------------------- */

static bool check_result(const char *who, const lz_node *n, int k, const lz_array *r, int ax,
                         int size) {
  const lz_array *o = n->outputs[k];
  bool ok = r->dtype == o->dtype;
  if (ax == LZ__VMAP_NB) {
    ok = ok && r->ndim == o->ndim;
    for (int d = 0; ok && d < o->ndim; d++) ok = r->shape[d] == o->shape[d];
  } else {
    ok = ok && r->ndim == o->ndim + 1 && ax >= 0 && ax < r->ndim && r->shape[ax] == size;
    for (int d = 0, e = 0; ok && d < r->ndim; d++)
      if (d != ax) ok = r->shape[d] == o->shape[e++];
  }
  if (!ok) {
    char s1[128], s2[128];
    lz__error(LZ_ERROR_INTERNAL, who,
              "the vmap rule of '%s' gave %s %s with batch axis %d "
              "for output %d of per-example shape %s (%s) and batch size %d",
              lz__op(n->op)->name, lz_dtype_name(r->dtype),
              lz__fmt_shape(s1, sizeof s1, r->shape, r->ndim), ax, k,
              lz__fmt_shape(s2, sizeof s2, o->shape, o->ndim), lz_dtype_name(o->dtype), size);
  }
  return ok;
}

int lz__vmap_graph(const char *who, lz_array *const *leaves, lz_array *const *vals, const int *axes,
                   int n, lz_array *const *outs, int nout, int size, lz_array **res,
                   int *res_axes) {
  lz_walk w;
  if (lz__walk_build(&w, who, leaves, n, outs, nout) != 0) return -1;
  size_t total = 0;
  for (size_t i = 0; i < w.len; i++) total += w.nodes[i].node->noutputs;
  int *pax = malloc((total ? total : 1) * sizeof *pax); /* batch axis of each slot */
  size_t cap = 0;
  lz_array **vin = NULL, **vout = NULL;
  int *ain = NULL, *aout = NULL;
  int rc = pax ? 0 : lz__error(LZ_ERROR_OUT_OF_MEMORY, who, "out of memory");
  for (size_t i = 0; i < total && rc == 0; i++) pax[i] = LZ__VMAP_NB;
  for (int i = 0; i < n && rc == 0; i++) {
    lz_walk_node *wn = lz__walk_find(&w, leaves[i]);
    if (!wn || wn->leaf < 0) continue;
    int k = leaves[i]->out_index;
    wn->slots[k] = vals[i];
    pax[(size_t)(wn->slots - w.pool) + (size_t)k] = axes[i];
  }
  for (size_t idx = 0; idx < w.len && rc == 0; idx++) {
    lz_walk_node *wn = &w.nodes[idx];
    lz_node *node = wn->node;
    if (wn->leaf >= 0) continue;
    size_t want = (size_t)(node->ninputs > node->noutputs ? node->ninputs : node->noutputs);
    if (want > cap) {
      cap = want * 2;
      free(vin), free(vout), free(ain), free(aout);
      vin = malloc(cap * sizeof *vin), vout = malloc(cap * sizeof *vout);
      ain = malloc(cap * sizeof *ain), aout = malloc(cap * sizeof *aout);
      if (!vin || !vout || !ain || !aout) {
        rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, who, "out of memory");
        break;
      }
    }
    bool any = false;
    for (int i = 0; i < node->ninputs; i++) {
      lz_array *in = node->inputs[i];
      lz_walk_node *src = lz__walk_find(&w, in);
      lz_array *v = src ? src->slots[in->out_index] : NULL;
      vin[i] = v ? v : in;
      ain[i] = v ? pax[(size_t)(src->slots - w.pool) + in->out_index] : LZ__VMAP_NB;
      any |= ain[i] != LZ__VMAP_NB;
    }
    if (!any) continue; /* the traced outputs serve every example */
    for (int k = 0; k < node->noutputs; k++) vout[k] = NULL, aout[k] = LZ__VMAP_NB;
    lz_vmap_args args = {who, node, vin, ain, size};
    if (lz__vmap_rule(node->op)(&args, vout, aout) != 0) {
      if (!lz__has_error())
        lz__error(LZ_ERROR_INTERNAL, who, "the vmap rule of '%s' failed", lz__op(node->op)->name);
      rc = -1;
      break;
    }
    for (int k = 0; k < node->noutputs && rc == 0; k++) {
      if (!vout[k] || !check_result(who, node, k, vout[k], aout[k], size)) {
        if (!lz__has_error())
          lz__error(LZ_ERROR_INTERNAL, who, "the vmap rule of '%s' gave no output %d",
                    lz__op(node->op)->name, k);
        rc = -1;
        break;
      }
      wn->slots[k] = vout[k];
      pax[(size_t)(wn->slots - w.pool) + (size_t)k] = aout[k];
    }
  }
  for (int j = 0; j < nout && rc == 0; j++) {
    lz_walk_node *wn = lz__walk_find(&w, outs[j]);
    lz_array *v = wn ? wn->slots[outs[j]->out_index] : NULL;
    res[j] = v ? v : outs[j];
    res_axes[j] = v ? pax[(size_t)(wn->slots - w.pool) + outs[j]->out_index] : LZ__VMAP_NB;
  }
  free(vin), free(vout), free(ain), free(aout), free(pax);
  lz__walk_free(&w);
  return rc;
}
