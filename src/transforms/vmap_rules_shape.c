/* vmap rules of the shape ops (reshape, transpose, broadcast_to, slice, diagonal, contiguous,
 * split, concatenate, pad), of the gathers (take, take_along_axis, gather, slice_dynamic) and
 * of slice_update. as_strided, diag and the scatters use the fallback loop; mask_select (a
 * data-dependent shape) is an error. */
#include "cpu/gather.h"
#include "cpu/shape.h"
#include "transforms/vmap_impl.h"

#include <stdlib.h>

#define X (a->inputs[0])
#define AX (a->axes[0])
#define OUT (a->node->outputs[0]) /* shape only */

/* (size, shape...) into dst; returns its ndim. */
static int batched_shape(int *dst, int size, const int *shape, int ndim) {
  dst[0] = size;
  memcpy(dst + 1, shape, (size_t)ndim * sizeof(int));
  return ndim + 1;
}

static int vmap_reshape(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  int shape[LZ_MAX_NDIM + 1];
  int nd = batched_shape(shape, a->size, OUT->shape, OUT->ndim);
  return lz__vmap_done(lz_reshape(lz__vmap_front(X, AX), shape, nd), 0, outs, out_axes);
}

static int vmap_transpose(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  const lz_transpose_params *p = a->node->params;
  int perm[LZ_MAX_NDIM];
  perm[0] = 0;
  for (int d = 0; d < OUT->ndim; d++) perm[d + 1] = p->perm[d] + 1;
  return lz__vmap_done(lz_transpose(lz__vmap_front(X, AX), perm, OUT->ndim + 1), 0, outs, out_axes);
}

static int vmap_broadcast_to(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  int shape[LZ_MAX_NDIM + 1];
  int nd = batched_shape(shape, a->size, OUT->shape, OUT->ndim);
  lz_array *x = lz__vmap_front_rank(X, AX, OUT->ndim);
  return lz__vmap_done(lz_broadcast_to(x, shape, nd), 0, outs, out_axes);
}

static int vmap_slice(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  const lz_slice_params *p = a->node->params;
  lz_slice_params q;
  memset(&q, 0, sizeof q);
  q.start[0] = 0, q.step[0] = 1;
  for (int d = 0; d + 1 < LZ_MAX_NDIM && d < OUT->ndim; d++)
    q.start[d + 1] = p->start[d], q.step[d + 1] = p->step[d];
  lz_array *x = lz__vmap_front(X, AX);
  return lz__vmap_remake(a, &q, &x, 1, outs, out_axes);
}

static int vmap_diagonal(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  lz_diagonal_params p = *(const lz_diagonal_params *)a->node->params;
  p.axis1 += 1, p.axis2 += 1;
  lz_array *x = lz__vmap_front(X, AX);
  return lz__vmap_remake(a, &p, &x, 1, outs, out_axes);
}

static int vmap_contiguous(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  return lz__vmap_done(lz_contiguous(X), AX, outs, out_axes);
}

static int vmap_split(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  lz_split_params p = *(const lz_split_params *)a->node->params;
  p.axis += 1;
  lz_array *x = lz__vmap_front(X, AX);
  return lz__vmap_remake(a, &p, &x, 1, outs, out_axes);
}

static int vmap_pad(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  const lz_pad_params *p = a->node->params;
  lz_pad_params q = *p;
  q.low[0] = 0;
  for (int d = 0; d + 1 < LZ_MAX_NDIM && d < OUT->ndim; d++) q.low[d + 1] = p->low[d];
  lz_array *x = lz__vmap_front(X, AX);
  return lz__vmap_remake(a, &q, &x, 1, outs, out_axes);
}

/* Every input batched along axis 0 (unmapped ones broadcast), the op recorded again with
 * params (NULL: the node's). */
static int remake_all_batched(const lz_vmap_args *a, const void *params, lz_array **outs,
                              int *out_axes) {
  int n = a->node->ninputs;
  lz_array **ins = malloc((size_t)n * sizeof *ins);
  if (!ins) return lz__error(LZ_ERROR_OUT_OF_MEMORY, a->who, "out of memory");
  for (int i = 0; i < n; i++) ins[i] = lz__vmap_batched(a->inputs[i], a->axes[i], a->size);
  int rc = lz__vmap_remake(a, params, ins, n, outs, out_axes);
  free(ins);
  return rc;
}

static int vmap_concatenate(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  lz_concatenate_params p = *(const lz_concatenate_params *)a->node->params;
  p.axis += 1;
  return remake_all_batched(a, &p, outs, out_axes);
}

/* ---- gathers ------------------------------------------------------------------------------ */

/* arange(size) shaped (size, 1, ..., 1) with 1 + rank dims: the example index of each row. */
static lz_array *example_index(int size, int rank) {
  int shape[LZ_MAX_NDIM];
  shape[0] = size;
  for (int d = 1; d <= rank; d++) shape[d] = 1;
  return lz_reshape(lz_arange(0, size, 1, LZ_INT32), shape, rank + 1);
}

/* take_along_axis: indices and array have one rank; the other axes broadcast, so an unmapped
 * operand gets a unit batch axis. */
static lz_array *front_or_unit(lz_array *x, int axis) {
  if (axis != LZ__VMAP_NB) return lz__vmap_front(x, axis);
  return lz_expand_dims(x, (int[]){0}, 1);
}

static int vmap_take_along_axis(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  const lz_index_params *p = a->node->params;
  lz_array *x = front_or_unit(a->inputs[0], a->axes[0]);
  lz_array *i = front_or_unit(a->inputs[1], a->axes[1]);
  return lz__vmap_done(lz_take_along_axis(x, i, p->axis + 1), 0, outs, out_axes);
}

/* take(x, idx, axis) (or over the flattened x): an unmapped idx indexes axis + 1 of the batched
 * x; an unmapped x is indexed by the batched idx, whose batch lands at `axis`; when both are
 * batched, x is grouped as (B, before, axis, after) and idx as (B, 1, I, 1) for
 * take_along_axis. */
static int vmap_take(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  const lz_index_params *p = a->node->params;
  lz_array *x = a->inputs[0], *idx = a->inputs[1];
  int ax = a->axes[0], ai = a->axes[1];
  int tshape[LZ_MAX_NDIM + 1];
  int tnd = batched_shape(tshape, a->size, OUT->shape, OUT->ndim);
  if (ai == LZ__VMAP_NB) {
    lz_array *xb = lz__vmap_front(x, ax);
    if (p->flat) {
      int shape[2] = {a->size, (int)lz_array_size(a->node->inputs[0])};
      return lz__vmap_done(lz_take(lz_reshape(xb, shape, 2), idx, 1), 0, outs, out_axes);
    }
    return lz__vmap_done(lz_take(xb, idx, p->axis + 1), 0, outs, out_axes);
  }
  if (ax == LZ__VMAP_NB) {
    if (p->flat) return lz__vmap_done(lz_take_flat(x, idx), ai, outs, out_axes);
    lz_array *r = lz_take(x, lz__vmap_front(idx, ai), p->axis);
    return lz__vmap_done(r, p->axis, outs, out_axes);
  }
  const lz_array *tx = a->node->inputs[0], *ti = a->node->inputs[1];
  int before = 1, len = 1, after = 1;
  if (p->flat) {
    len = (int)lz_array_size(tx);
  } else {
    for (int d = 0; d < tx->ndim; d++) {
      if (d < p->axis)
        before *= tx->shape[d];
      else if (d == p->axis)
        len = tx->shape[d];
      else
        after *= tx->shape[d];
    }
  }
  int xs[4] = {a->size, before, len, after}, is[4] = {a->size, 1, (int)lz_array_size(ti), 1};
  lz_array *xg = lz_reshape(lz__vmap_front(x, ax), xs, 4);
  lz_array *ig = lz_reshape(lz__vmap_front(idx, ai), is, 4);
  lz_array *r = lz_take_along_axis(xg, ig, 2);
  return lz__vmap_done(lz_reshape(r, tshape, tnd), 0, outs, out_axes);
}

/* gather(x, idx..., axes, sizes): result (I, sizes). A batched x adds a batch axis to the
 * slices (moved to the front after); batched indices carry the batch in I; when both are, the
 * batch axis of x is indexed by the example number. */
static int vmap_gather(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  const lz_index_params *p = a->node->params;
  int nidx = a->node->ninputs - 1, rx = a->node->inputs[0]->ndim;
  int m = OUT->ndim - rx; /* rank of the broadcast indices */
  bool idx_batched = false;
  for (int k = 0; k < nidx; k++) idx_batched |= a->axes[1 + k] != LZ__VMAP_NB;
  bool x_batched = a->axes[0] != LZ__VMAP_NB;
  if (OUT->ndim + 2 > LZ_MAX_NDIM || nidx + 1 > LZ_MAX_NDIM)
    return lz__vmap_fallback(a, outs, out_axes);
  lz_array *idx[LZ_MAX_NDIM + 1];
  int axes[LZ_MAX_NDIM + 1], sizes[LZ_MAX_NDIM + 1], n = 0;
  lz_array *x = x_batched ? lz__vmap_front(a->inputs[0], a->axes[0]) : a->inputs[0];
  int shift = x_batched ? 1 : 0;
  if (x_batched && idx_batched) { /* the example number indexes x's batch axis */
    idx[n] = example_index(a->size, m);
    axes[n++] = 0;
  }
  for (int k = 0; k < nidx; k++) {
    idx[n] =
        idx_batched ? lz__vmap_front_rank(a->inputs[1 + k], a->axes[1 + k], m) : a->inputs[1 + k];
    axes[n++] = p->axes[k] + shift;
  }
  if (x_batched) sizes[0] = idx_batched ? 1 : a->size;
  for (int d = 0; d < rx; d++) sizes[shift + d] = p->sizes[d];
  lz_array *r = lz_gather(x, idx, axes, n, sizes);
  if (!r) return -1;
  /* r is (B?, I, [B or 1], sizes): bring it to (B, I, sizes). */
  int tshape[LZ_MAX_NDIM + 1];
  int tnd = batched_shape(tshape, a->size, OUT->shape, OUT->ndim);
  if (x_batched && !idx_batched) r = lz_moveaxis(r, m, 0);
  return lz__vmap_done(lz_reshape(r, tshape, tnd), 0, outs, out_axes);
}

/* slice_dynamic(x, start): a batched start needs the loop. */
static int vmap_slice_dynamic(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  if (a->axes[1] != LZ__VMAP_NB) return lz__vmap_fallback(a, outs, out_axes);
  const lz_index_params *p = a->node->params;
  int axes[LZ_MAX_NDIM], sizes[LZ_MAX_NDIM + 1];
  for (int k = 0; k < p->naxes; k++) axes[k] = p->axes[k] + 1;
  int nd = batched_shape(sizes, a->size, p->sizes, OUT->ndim);
  (void)nd;
  lz_array *x = lz__vmap_front(X, AX);
  return lz__vmap_done(lz_slice_dynamic(x, a->inputs[1], axes, p->naxes, sizes), 0, outs, out_axes);
}

/* slice_update(src, update): src batched (an unmapped one is broadcast: each example updates
 * its own copy), update lined up against the batched slice, the slice extended over the batch. */
static int vmap_slice_update(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  const lz_index_params *p = a->node->params;
  lz_index_params q = *p;
  int r = OUT->ndim;
  if (r + 1 > LZ_MAX_NDIM) return lz__vmap_fallback(a, outs, out_axes);
  q.start[0] = 0, q.step[0] = 1, q.sizes[0] = a->size;
  for (int d = 0; d < r; d++)
    q.start[d + 1] = p->start[d], q.step[d + 1] = p->step[d], q.sizes[d + 1] = p->sizes[d];
  lz_array *ins[2] = {lz__vmap_batched(a->inputs[0], a->axes[0], a->size),
                      lz__vmap_front_rank(a->inputs[1], a->axes[1], r)};
  return lz__vmap_remake(a, &q, ins, 2, outs, out_axes);
}

static int vmap_mask_select(const lz_vmap_args *a, lz_array **outs, int *out_axes) {
  (void)outs, (void)out_axes;
  return lz__error(LZ_ERROR_NOT_IMPLEMENTED, a->who,
                   "op 'mask_select' has a data-dependent "
                   "shape and cannot be vmapped");
}

const lz_vmap_rule lz__vmap_rules_shape[LZ_OP_COUNT] = {
    [LZ_OP_RESHAPE] = vmap_reshape,
    [LZ_OP_TRANSPOSE] = vmap_transpose,
    [LZ_OP_BROADCAST_TO] = vmap_broadcast_to,
    [LZ_OP_SLICE] = vmap_slice,
    [LZ_OP_DIAGONAL] = vmap_diagonal,
    [LZ_OP_CONTIGUOUS] = vmap_contiguous,
    [LZ_OP_SPLIT] = vmap_split,
    [LZ_OP_CONCATENATE] = vmap_concatenate,
    [LZ_OP_PAD] = vmap_pad,
    [LZ_OP_TAKE] = vmap_take,
    [LZ_OP_TAKE_ALONG_AXIS] = vmap_take_along_axis,
    [LZ_OP_GATHER] = vmap_gather,
    [LZ_OP_SLICE_DYNAMIC] = vmap_slice_dynamic,
    [LZ_OP_SLICE_UPDATE] = vmap_slice_update,
    [LZ_OP_MASK_SELECT] = vmap_mask_select,
};
