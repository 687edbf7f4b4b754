/* vmap rules of reductions, softmax, arg-reductions, trace, scans, diff and sorting: the batch
 * moves to axis 0 and the op is recorded again with its axes shifted by one. Ops over the
 * flattened array (axis -1 in their parameters) flatten each example instead. */
#include "cpu/reduce.h"
#include "transforms/vmap_impl.h"

#define X (a->inputs[0])
#define AX (a->axes[0])

/* Reductions and softmax: axes listed in lz_reduce_params (sorted; stays sorted shifted). */
static int vmap_reduce(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  lz_reduce_params p = *(const lz_reduce_params *)a->node->params;
  for (int i = 0; i < p.naxes; i++) p.axes[i] += 1;
  lz_array *x = lz__vmap_front(X, AX);
  return lz__vmap_remake(a, &p, &x, 1, outs, out_axes);
}

/* x with each example flattened: (B, N). */
static lz_array *flat_examples(const lz_vmap_args *a) {
  lz_array *x = lz__vmap_front(X, AX);
  if (!x) return NULL;
  int shape[2] = {a->size, (int)(a->size ? x->size / a->size : 0)};
  if (a->size == 0) { /* reshape cannot infer the row length of an empty batch */
    shape[1] = 1;
    for (int d = 1; d < x->ndim; d++) shape[1] *= x->shape[d];
  }
  return lz_reshape(x, shape, 2);
}

/* Ops with one axis in lz_axis_params (axis -1: over the flattened example). */
static int vmap_axis(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  lz_axis_params p = *(const lz_axis_params *)a->node->params;
  lz_array *x;
  if (p.axis < 0) {
    x = flat_examples(a);
    p.axis = 1;
  } else {
    x = lz__vmap_front(X, AX);
    p.axis += 1;
  }
  return lz__vmap_remake(a, &p, &x, 1, outs, out_axes);
}

/* argmax / argmin over the flattened example: the result (all ones with keepdims) is one index
 * per example, reshaped back to the traced shape. */
static int vmap_argreduce(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  const lz_axis_params *p = a->node->params;
  if (p->axis >= 0) return vmap_axis(a, outs, out_axes);
  lz_array *x = flat_examples(a);
  lz_array *r =
      a->node->op == LZ_OP_ARGMAX ? lz_argmax_axis(x, 1, false) : lz_argmin_axis(x, 1, false);
  const lz_array *o = a->node->outputs[0];
  int shape[LZ_MAX_NDIM];
  shape[0] = a->size;
  memcpy(shape + 1, o->shape, (size_t)o->ndim * sizeof(int));
  return lz__vmap_done(lz_reshape(r, shape, o->ndim + 1), 0, outs, out_axes);
}

static int vmap_trace(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  lz_trace_params p = *(const lz_trace_params *)a->node->params;
  p.axis1 += 1, p.axis2 += 1;
  lz_array *x = lz__vmap_front(X, AX);
  return lz__vmap_remake(a, &p, &x, 1, outs, out_axes);
}

/* searchsorted(a, v): per value of v; a batched sorted array needs the loop. */
static int vmap_searchsorted(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  if (a->axes[0] != LZ__VMAP_NB) return lz__vmap_fallback(a, outs, out_axes);
  lz_array *v = a->inputs[1];
  lz_array *in[2] = {a->inputs[0], v};
  const int *shapes[1] = {v->shape};
  int nd = v->ndim;
  lz_dtype dt = a->node->outputs[0]->dtype;
  out_axes[0] = a->axes[1];
  return lz__make_multi(a->node->op, a->node->params, in, 2, 1, &dt, shapes, &nd, outs);
}

const lz_vmap_rule lz__vmap_rules_reduce[LZ_OP_COUNT] = {
    [LZ_OP_SUM] = vmap_reduce,
    [LZ_OP_PROD] = vmap_reduce,
    [LZ_OP_MAX] = vmap_reduce,
    [LZ_OP_MIN] = vmap_reduce,
    [LZ_OP_ALL] = vmap_reduce,
    [LZ_OP_ANY] = vmap_reduce,
    [LZ_OP_COUNT_NONZERO] = vmap_reduce,
    [LZ_OP_MEAN] = vmap_reduce,
    [LZ_OP_VAR] = vmap_reduce,
    [LZ_OP_STD] = vmap_reduce,
    [LZ_OP_LOGSUMEXP] = vmap_reduce,
    [LZ_OP_MEDIAN] = vmap_reduce,
    [LZ_OP_SOFTMAX] = vmap_reduce,
    [LZ_OP_ARGMAX] = vmap_argreduce,
    [LZ_OP_ARGMIN] = vmap_argreduce,
    [LZ_OP_TRACE] = vmap_trace,
    [LZ_OP_CUMSUM] = vmap_axis,
    [LZ_OP_CUMPROD] = vmap_axis,
    [LZ_OP_CUMMAX] = vmap_axis,
    [LZ_OP_CUMMIN] = vmap_axis,
    [LZ_OP_LOGCUMSUMEXP] = vmap_axis,
    [LZ_OP_DIFF] = vmap_axis,
    [LZ_OP_SORT] = vmap_axis,
    [LZ_OP_ARGSORT] = vmap_axis,
    [LZ_OP_PARTITION] = vmap_axis,
    [LZ_OP_ARGPARTITION] = vmap_axis,
    [LZ_OP_TOPK] = vmap_axis,
    [LZ_OP_SEARCHSORTED] = vmap_searchsorted,
};
