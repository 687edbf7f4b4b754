/* Helpers shared by the rule files: see rules_util.h. */
#include "transforms/rules_util.h"

lz_array *lz__or_zeros(lz_array *t, lz_array *like) { return t ? t : lz_zeros_like(like); }

void lz__slice_bounds(const int *shape, int n, const int64_t *start, const int64_t *step,
                      const int *len, int *b_start, int *b_stop, int *b_stride) {
  for (int d = 0; d < n; d++) {
    if (len[d] == 0) {
      b_start[d] = 0, b_stop[d] = 0, b_stride[d] = 1;
      continue;
    }
    int64_t stop = start[d] + (int64_t)len[d] * step[d];
    /* a negative stop would count from the end: "before element 0" is written -(n + 1) */
    if (stop < 0) stop = -(int64_t)shape[d] - 1;
    b_start[d] = (int)start[d], b_stop[d] = (int)stop, b_stride[d] = (int)step[d];
  }
}

lz_array *lz__slice_norm(lz_array *x, const int64_t *start, const int64_t *step, const int *len) {
  if (!x) return NULL;
  int s[LZ_MAX_NDIM], e[LZ_MAX_NDIM], st[LZ_MAX_NDIM];
  lz__slice_bounds(x->shape, x->ndim, start, step, len, s, e, st);
  return lz_slice(x, s, e, st, x->ndim);
}

lz_array *lz__slice_update_norm(lz_array *dst, lz_array *upd, const int64_t *start,
                                const int64_t *step, const int *len) {
  if (!dst) return NULL;
  int s[LZ_MAX_NDIM], e[LZ_MAX_NDIM], st[LZ_MAX_NDIM];
  lz__slice_bounds(dst->shape, dst->ndim, start, step, len, s, e, st);
  return lz_slice_update(dst, upd, s, e, st);
}

/* The broadcast shape of the coordinate arrays; returns its ndim. */
static int coords_shape(lz_array *const *coords, int n, int *shape) {
  int nd = 0;
  for (int i = 0; i < n; i++) nd = coords[i]->ndim > nd ? coords[i]->ndim : nd;
  for (int d = 0; d < nd; d++) shape[d] = 1;
  for (int i = 0; i < n; i++) {
    const lz_array *c = coords[i];
    for (int d = 0; d < c->ndim; d++) {
      int o = nd - c->ndim + d;
      if (c->shape[d] != 1) shape[o] = c->shape[d];
    }
  }
  return nd;
}

/* I + (1,...,1) for n indexed axes. */
static int block_shape(lz_array *const *coords, int n, int *shape) {
  int nd = coords_shape(coords, n, shape);
  for (int i = 0; i < n; i++) shape[nd + i] = 1;
  return nd;
}

lz_array *lz__coord_gather(lz_array *x, lz_array *const *coords, int n) {
  if (!x || !lz__check_inputs("lz_vjp", coords, n)) return NULL;
  int axes[LZ_MAX_NDIM], sizes[LZ_MAX_NDIM], shape[2 * LZ_MAX_NDIM];
  for (int i = 0; i < n; i++) axes[i] = i, sizes[i] = 1;
  int nd = block_shape(coords, n, shape);
  return lz_reshape(lz_gather(x, coords, axes, n, sizes), shape, nd);
}

lz_array *lz__coord_scatter_add(lz_array *base, lz_array *const *coords, int n, lz_array *vals) {
  if (!base || !vals || !lz__check_inputs("lz_vjp", coords, n)) return NULL;
  int axes[LZ_MAX_NDIM], shape[2 * LZ_MAX_NDIM];
  for (int i = 0; i < n; i++) axes[i] = i;
  int nd = block_shape(coords, n, shape);
  lz_array *v = lz_reshape(lz_broadcast_to(vals, shape, nd), shape, nd + n);
  return lz_scatter_add(base, coords, axes, n, v);
}

lz_array *lz__axis_iota(int len, int d, int nd) {
  int shape[LZ_MAX_NDIM];
  for (int i = 0; i < nd; i++) shape[i] = i == d ? len : 1;
  return lz_reshape(lz_arange(0, len, 1, LZ_INT32), shape, nd);
}

static lz_array *zero_index(int nd) {
  int shape[LZ_MAX_NDIM];
  for (int i = 0; i < nd; i++) shape[i] = 1;
  return lz_zeros(shape, nd, LZ_INT32);
}

void lz__along_axis_coords(const lz_array *a, lz_array *idx, int ax, const int *oshape,
                           lz_array **coords) {
  int nd = a->ndim;
  for (int d = 0; d < nd; d++) {
    if (d == ax) coords[d] = lz_retain(idx);
    else if (a->shape[d] == 1) coords[d] = zero_index(nd);
    else coords[d] = lz__axis_iota(oshape[d], d, nd);
  }
}

void lz__take_coords(const lz_array *a, lz_array *idx, int ax, lz_array **coords) {
  int ni = idx->ndim, nd = a->ndim - 1 + ni, shape[LZ_MAX_NDIM];
  for (int d = 0; d < nd; d++) shape[d] = 1;
  for (int k = 0; k < ni; k++) shape[ax + k] = idx->shape[k];
  for (int d = 0; d < a->ndim; d++) {
    if (d < ax) coords[d] = lz__axis_iota(a->shape[d], d, nd);
    else if (d == ax) coords[d] = lz_reshape(idx, shape, nd);
    else coords[d] = lz__axis_iota(a->shape[d], d - 1 + ni, nd);
  }
}

lz_array *lz__merge_axes_last(lz_array *x, const int *axes, int naxes, int *perm) {
  if (!x) return NULL;
  bool red[LZ_MAX_NDIM] = {false};
  for (int i = 0; i < naxes; i++) red[axes[i]] = true;
  int n = 0, shape[LZ_MAX_NDIM], ns = 0;
  int64_t r = 1;
  for (int d = 0; d < x->ndim; d++)
    if (!red[d]) perm[n++] = d, shape[ns++] = x->shape[d];
  for (int i = 0; i < naxes; i++) perm[n++] = axes[i], r *= x->shape[axes[i]];
  shape[ns++] = (int)r;
  return lz_reshape(lz_transpose(x, perm, x->ndim), shape, ns);
}

lz_array *lz__split_axes_last(lz_array *y, const lz_array *x, const int *perm) {
  if (!y) return NULL;
  int shape[LZ_MAX_NDIM], inv[LZ_MAX_NDIM];
  for (int d = 0; d < x->ndim; d++) shape[d] = x->shape[perm[d]], inv[perm[d]] = d;
  return lz_transpose(lz_reshape(y, shape, x->ndim), inv, x->ndim);
}
