/* Gather ops: take, take_flat, take_along_axis, gather and slice_dynamic (validation, shapes,
 * registry entries; kernels in cpu/gather.c), and the helpers the indexing files share. */
#include "indexing_impl.h"

/* ---- shared helpers ---------------------------------------------------------------------- */

bool lz__index_dtype_ok(const char *op, const lz_array *idx, const char *what) {
  if (lz_dtype_is_integer(idx->dtype)) return true;
  lz__error(LZ_ERROR_DTYPE, op, "%s must be integers, got %s", what, lz_dtype_name(idx->dtype));
  return false;
}

int lz__dynamic_start_ok(const char *op, const lz_array *a, const lz_array *start, const int *axes,
                         int naxes, int *out) {
  if (!lz__index_dtype_ok(op, start, "start indices")) return -1;
  if (start->ndim > 1) {
    return lz__error(LZ_ERROR_SHAPE, op, "start indices must be 0-d or 1-d, got %d dims",
                     start->ndim);
  }
  if (start->size != naxes) {
    return lz__error(LZ_ERROR_SHAPE, op, "%lld start indices for %d axes", (long long)start->size,
                     naxes);
  }
  return lz__norm_axes(op, axes, naxes, a->ndim, out);
}

int lz__broadcast_many(const char *op, lz_array *const *arrays, int n, int *out) {
  int nd = 0;
  for (int i = 0; i < n; i++) {
    int tmp[LZ_MAX_NDIM];
    nd = lz__broadcast_shapes(op, out, nd, arrays[i]->shape, arrays[i]->ndim, tmp);
    if (nd < 0) return -1;
    memcpy(out, tmp, (size_t)nd * sizeof(int));
  }
  return nd;
}

static bool ndim_fits(const char *op, int ndim) {
  if (ndim <= LZ_MAX_NDIM) return true;
  lz__error(LZ_ERROR_SHAPE, op, "the result would have %d dims (at most %d)", ndim, LZ_MAX_NDIM);
  return false;
}

/* ---- take --------------------------------------------------------------------------------- */

const lz_op_def lz_opdef_take = {
    .name = "take",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_index_params),
    .cpu = lz_cpu_take,
};

lz_array *lz_take(lz_array *a, lz_array *indices, int axis) {
  const char *op = "lz_take";
  lz_array *in[2] = {a, indices};
  if (!lz__check_inputs(op, in, 2) || !lz__index_dtype_ok(op, indices, "indices")) return NULL;
  int ax = lz__norm_axis(op, axis, a->ndim);
  if (ax < 0) return NULL;
  int nd = a->ndim - 1 + indices->ndim;
  if (!ndim_fits(op, nd)) return NULL;
  int shape[LZ_MAX_NDIM];
  for (int d = 0; d < nd; d++) {
    shape[d] = d < ax                   ? a->shape[d]
               : d < ax + indices->ndim ? indices->shape[d - ax]
                                        : a->shape[d - indices->ndim + 1];
  }
  lz_index_params p = {.name = op, .axis = ax};
  return lz__make(LZ_OP_TAKE, &p, in, 2, a->dtype, shape, nd);
}

lz_array *lz_take_flat(lz_array *a, lz_array *indices) {
  const char *op = "lz_take_flat";
  lz_array *in[2] = {a, indices};
  if (!lz__check_inputs(op, in, 2) || !lz__index_dtype_ok(op, indices, "indices")) return NULL;
  lz_index_params p = {.name = op, .flat = 1};
  return lz__make(LZ_OP_TAKE, &p, in, 2, a->dtype, indices->shape, indices->ndim);
}

/* ---- take_along_axis ---------------------------------------------------------------------- */

const lz_op_def lz_opdef_take_along_axis = {
    .name = "take_along_axis",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_index_params),
    .cpu = lz_cpu_take_along_axis,
};

int lz__along_axis_shape(const char *op, const lz_array *a, const lz_array *idx, int ax,
                         int *shape) {
  if (idx->ndim != a->ndim) {
    return lz__error(LZ_ERROR_SHAPE, op, "indices have %d dims for an array of %d dims", idx->ndim,
                     a->ndim);
  }
  for (int d = 0; d < a->ndim; d++) {
    int x = a->shape[d], y = idx->shape[d];
    if (d != ax && x != y && x != 1 && y != 1) {
      char sa[256], si[256];
      return lz__error(LZ_ERROR_SHAPE, op,
                       "indices of shape %s do not broadcast with the array's shape %s outside "
                       "axis %d",
                       lz__fmt_shape(si, sizeof si, idx->shape, idx->ndim),
                       lz__fmt_shape(sa, sizeof sa, a->shape, a->ndim), ax);
    }
    shape[d] = d == ax ? y : (x == 1 ? y : x);
  }
  return 0;
}

lz_array *lz_take_along_axis(lz_array *a, lz_array *indices, int axis) {
  const char *op = "lz_take_along_axis";
  lz_array *in[2] = {a, indices};
  if (!lz__check_inputs(op, in, 2) || !lz__index_dtype_ok(op, indices, "indices")) return NULL;
  int ax = lz__norm_axis(op, axis, a->ndim);
  int shape[LZ_MAX_NDIM];
  if (ax < 0 || lz__along_axis_shape(op, a, indices, ax, shape) != 0) return NULL;
  lz_index_params p = {.name = op, .axis = ax};
  return lz__make(LZ_OP_TAKE_ALONG_AXIS, &p, in, 2, a->dtype, shape, a->ndim);
}

/* ---- gather ------------------------------------------------------------------------------- */

const lz_op_def lz_opdef_gather = {
    .name = "gather",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_index_params),
    .cpu = lz_cpu_gather,
};

lz_array *lz_gather(lz_array *a, lz_array *const *indices, const int *axes, int nidx,
                    const int *slice_sizes) {
  const char *op = "lz_gather";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  if (nidx < 0 || nidx > a->ndim || (nidx > 0 && (!indices || !axes))) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%d index arrays for an array of %d dims", nidx,
              a->ndim);
    return NULL;
  }
  if (!lz__check_inputs(op, indices, nidx)) return NULL;
  if (a->ndim > 0 && !slice_sizes) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "slice_sizes is NULL");
    return NULL;
  }
  lz_index_params p = {.name = op, .naxes = nidx};
  if (lz__norm_axes(op, axes, nidx, a->ndim, p.axes) != 0) return NULL;
  for (int j = 0; j < nidx; j++)
    if (!lz__index_dtype_ok(op, indices[j], "indices")) return NULL;
  for (int d = 0; d < a->ndim; d++) {
    if (slice_sizes[d] < 0 || slice_sizes[d] > a->shape[d]) {
      char s[256], sa[256];
      lz__error(LZ_ERROR_SHAPE, op, "slice sizes %s do not fit in an array of shape %s",
                lz__fmt_shape(s, sizeof s, slice_sizes, a->ndim),
                lz__fmt_shape(sa, sizeof sa, a->shape, a->ndim));
      return NULL;
    }
    p.sizes[d] = slice_sizes[d];
  }
  int shape[LZ_MAX_NDIM];
  int m = lz__broadcast_many(op, indices, nidx, shape);
  if (m < 0 || !ndim_fits(op, m + a->ndim)) return NULL;
  for (int d = 0; d < a->ndim; d++) shape[m + d] = slice_sizes[d];
  lz_array *in[LZ_MAX_NDIM + 1];
  in[0] = a;
  for (int j = 0; j < nidx; j++) in[1 + j] = indices[j];
  return lz__make(LZ_OP_GATHER, &p, in, 1 + nidx, a->dtype, shape, m + a->ndim);
}

/* ---- slice_dynamic ------------------------------------------------------------------------ */

const lz_op_def lz_opdef_slice_dynamic = {
    .name = "slice_dynamic",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_index_params),
    .cpu = lz_cpu_slice_dynamic,
};

lz_array *lz_slice_dynamic(lz_array *a, lz_array *start, const int *axes, int naxes,
                           const int *slice_size) {
  const char *op = "lz_slice_dynamic";
  lz_array *in[2] = {a, start};
  if (!lz__check_inputs(op, in, 2)) return NULL;
  lz_index_params p = {.name = op, .naxes = naxes};
  if (lz__dynamic_start_ok(op, a, start, axes, naxes, p.axes) != 0) return NULL;
  if (a->ndim > 0 && !slice_size) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "slice_size is NULL");
    return NULL;
  }
  for (int d = 0; d < a->ndim; d++) {
    if (slice_size[d] < 0 || slice_size[d] > a->shape[d]) {
      char s[256], sa[256];
      lz__error(LZ_ERROR_SHAPE, op, "slice size %s does not fit in an array of shape %s",
                lz__fmt_shape(s, sizeof s, slice_size, a->ndim),
                lz__fmt_shape(sa, sizeof sa, a->shape, a->ndim));
      return NULL;
    }
    p.sizes[d] = slice_size[d];
  }
  return lz__make(LZ_OP_SLICE_DYNAMIC, &p, in, 2, a->dtype, slice_size, a->ndim);
}
