/* Scatter ops: the at_* family, put_along_axis, MLX's scatter family and the slice updates
 * (validation, shapes, registry entries; kernels in cpu/scatter.c). Each returns a new array of
 * the input's shape and dtype; updates are converted to that dtype. */
#include "indexing_impl.h"

static const char *const mode_names[LZ_SCATTER_MODE_COUNT] = {
    "set", "add", "subtract", "multiply", "divide", "maximum", "minimum"};

/* Checks that `mode` has a kernel for `dtype`. */
static bool mode_ok(const char *op, int mode, lz_dtype dtype) {
  if (mode == LZ_SCATTER_DIVIDE && !lz_dtype_is_float(dtype)) {
    lz__error(LZ_ERROR_DTYPE, op, "needs a floating dtype, got %s", lz_dtype_name(dtype));
    return false;
  }
  if (lz_cpu_scatter_fn(mode, dtype)) return true;
  lz__error(LZ_ERROR_DTYPE, op, "%s is not supported for %s", mode_names[mode],
            lz_dtype_name(dtype));
  return false;
}

/* Checks that `v` broadcasts to exactly `shape` (nd dims); `what` names it in the message. */
static bool broadcasts_to(const char *op, const lz_array *v, const int *shape, int nd,
                          const char *what) {
  bool ok = v->ndim <= nd;
  for (int d = 0; ok && d < v->ndim; d++) {
    int x = v->shape[d], y = shape[nd - v->ndim + d];
    ok = x == y || x == 1;
  }
  if (!ok) {
    char sv[256], st[256];
    lz__error(LZ_ERROR_SHAPE, op, "%s of shape %s do not broadcast to the updated shape %s", what,
              lz__fmt_shape(sv, sizeof sv, v->shape, v->ndim),
              lz__fmt_shape(st, sizeof st, shape, nd));
  }
  return ok;
}

/* Records op `id` on (a, middle inputs..., v converted to a's dtype). */
static lz_array *make_update(int id, const lz_index_params *p, lz_array *a, lz_array *const *mid,
                             int nmid, lz_array *v) {
  lz_array *cv = lz__cast(lz__op(id)->name, v, a->dtype);
  if (!cv) return NULL;
  lz_array *in[LZ_MAX_NDIM + 2];
  in[0] = a;
  for (int j = 0; j < nmid; j++) in[1 + j] = mid[j];
  in[1 + nmid] = cv;
  lz_array *out = lz__make(id, p, in, nmid + 2, a->dtype, a->shape, a->ndim);
  lz__uncast(cv, v);
  return out;
}

/* ---- at_* --------------------------------------------------------------------------------- */

const lz_op_def lz_opdef_scatter_axis = {
    .name = "scatter_axis",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_index_params),
    .cpu = lz_cpu_scatter_axis,
};

static lz_array *at_op(const char *op, int mode, lz_array *a, lz_array *indices, lz_array *values,
                       int axis) {
  lz_array *in[3] = {a, indices, values};
  if (!lz__check_inputs(op, in, 3) || !lz__index_dtype_ok(op, indices, "indices")) return NULL;
  if (!mode_ok(op, mode, a->dtype)) return NULL;
  int ax = lz__norm_axis(op, axis, a->ndim);
  if (ax < 0) return NULL;
  int nd = a->ndim - 1 + indices->ndim, shape[LZ_MAX_NDIM];
  if (nd > LZ_MAX_NDIM) {
    lz__error(LZ_ERROR_SHAPE, op, "the indexed shape would have %d dims (at most %d)", nd,
              LZ_MAX_NDIM);
    return NULL;
  }
  for (int d = 0; d < nd; d++) {
    shape[d] = d < ax                   ? a->shape[d]
               : d < ax + indices->ndim ? indices->shape[d - ax]
                                        : a->shape[d - indices->ndim + 1];
  }
  if (!broadcasts_to(op, values, shape, nd, "values")) return NULL;
  lz_index_params p = {.name = op, .mode = mode, .axis = ax};
  return make_update(LZ_OP_SCATTER_AXIS, &p, a, &indices, 1, values);
}

#define AT_OP(NAME, MODE)                                                                          \
  lz_array *lz_at_##NAME(lz_array *a, lz_array *indices, lz_array *values, int axis) {             \
    return at_op("lz_at_" #NAME, MODE, a, indices, values, axis);                                  \
  }
AT_OP(set, LZ_SCATTER_SET)
AT_OP(add, LZ_SCATTER_ADD)
AT_OP(subtract, LZ_SCATTER_SUBTRACT)
AT_OP(multiply, LZ_SCATTER_MULTIPLY)
AT_OP(divide, LZ_SCATTER_DIVIDE)
AT_OP(maximum, LZ_SCATTER_MAXIMUM)
AT_OP(minimum, LZ_SCATTER_MINIMUM)

/* ---- put_along_axis ----------------------------------------------------------------------- */

const lz_op_def lz_opdef_put_along_axis = {
    .name = "put_along_axis",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_index_params),
    .cpu = lz_cpu_put_along_axis,
};

lz_array *lz_put_along_axis(lz_array *a, lz_array *indices, lz_array *values, int axis) {
  const char *op = "lz_put_along_axis";
  lz_array *in[3] = {a, indices, values};
  if (!lz__check_inputs(op, in, 3) || !lz__index_dtype_ok(op, indices, "indices")) return NULL;
  int ax = lz__norm_axis(op, axis, a->ndim), shape[LZ_MAX_NDIM];
  if (ax < 0 || lz__along_axis_shape(op, a, indices, ax, shape) != 0) return NULL;
  if (!broadcasts_to(op, values, shape, a->ndim, "values")) return NULL;
  lz_index_params p = {.name = op, .mode = LZ_SCATTER_SET, .axis = ax};
  return make_update(LZ_OP_PUT_ALONG_AXIS, &p, a, &indices, 1, values);
}

/* ---- MLX's scatter family ----------------------------------------------------------------- */

const lz_op_def lz_opdef_scatter = {
    .name = "scatter",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_index_params),
    .cpu = lz_cpu_scatter,
};

static lz_array *scatter_op(const char *op, int mode, lz_array *a, lz_array *const *indices,
                            const int *axes, int nidx, lz_array *updates) {
  lz_array *in[2] = {a, updates};
  if (!lz__check_inputs(op, in, 2)) return NULL;
  if (nidx < 0 || nidx > a->ndim || (nidx > 0 && (!indices || !axes))) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%d index arrays for an array of %d dims", nidx,
              a->ndim);
    return NULL;
  }
  if (!lz__check_inputs(op, indices, nidx) || !mode_ok(op, mode, a->dtype)) return NULL;
  lz_index_params p = {.name = op, .mode = mode, .naxes = nidx};
  if (lz__norm_axes(op, axes, nidx, a->ndim, p.axes) != 0) return NULL;
  for (int j = 0; j < nidx; j++)
    if (!lz__index_dtype_ok(op, indices[j], "indices")) return NULL;
  int ishape[LZ_MAX_NDIM];
  int m = lz__broadcast_many(op, indices, nidx, ishape);
  if (m < 0) return NULL;
  bool ok = updates->ndim == m + a->ndim;
  for (int d = 0; ok && d < m; d++) ok = updates->shape[d] == ishape[d];
  for (int d = 0; ok && d < a->ndim; d++) ok = updates->shape[m + d] <= a->shape[d];
  if (!ok) {
    char su[256], si[256], sa[256];
    lz__error(LZ_ERROR_SHAPE, op,
              "updates of shape %s do not fit indices of shape %s and an array of shape %s "
              "(expected the index shape followed by a block no larger than the array)",
              lz__fmt_shape(su, sizeof su, updates->shape, updates->ndim),
              lz__fmt_shape(si, sizeof si, ishape, m),
              lz__fmt_shape(sa, sizeof sa, a->shape, a->ndim));
    return NULL;
  }
  return make_update(LZ_OP_SCATTER, &p, a, indices, nidx, updates);
}

#define SCATTER_OP(NAME, MODE)                                                                     \
  lz_array *lz_##NAME(lz_array *a, lz_array *const *indices, const int *axes, int nidx,            \
                      lz_array *updates) {                                                         \
    return scatter_op("lz_" #NAME, MODE, a, indices, axes, nidx, updates);                         \
  }
SCATTER_OP(scatter, LZ_SCATTER_SET)
SCATTER_OP(scatter_add, LZ_SCATTER_ADD)
SCATTER_OP(scatter_prod, LZ_SCATTER_MULTIPLY)
SCATTER_OP(scatter_max, LZ_SCATTER_MAXIMUM)
SCATTER_OP(scatter_min, LZ_SCATTER_MINIMUM)

/* ---- slice_update ------------------------------------------------------------------------- */

const lz_op_def lz_opdef_slice_update = {
    .name = "slice_update",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_index_params),
    .cpu = lz_cpu_slice_update,
};

lz_array *lz_slice_update(lz_array *src, lz_array *update, const int *start, const int *stop,
                          const int *strides) {
  const char *op = "lz_slice_update";
  lz_array *in[2] = {src, update};
  if (!lz__check_inputs(op, in, 2)) return NULL;
  if (src->ndim > 0 && (!start || !stop)) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "start or stop is NULL");
    return NULL;
  }
  lz_index_params p = {.name = op, .mode = LZ_SCATTER_SET};
  int shape[LZ_MAX_NDIM];
  for (int d = 0; d < src->ndim; d++) {
    int64_t n = src->shape[d], step = strides ? strides[d] : 1, size;
    int64_t s = start[d] < 0 ? (int64_t)start[d] + n : start[d];
    int64_t e = stop[d] < 0 ? (int64_t)stop[d] + n : stop[d];
    if (step == 0) {
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "slice step cannot be zero (axis %d)", d);
      return NULL;
    }
    if (step < 0) { /* walk down from min(s, n-1) to just above max(e, -1) */
      s = s < n - 1 ? s : n - 1;
      e = e > -1 ? e : -1;
      size = s > e ? (s - e + (-step) - 1) / (-step) : 0;
    } else {
      s = s < 0 ? 0 : s > n ? n : s;
      e = e < 0 ? 0 : e > n ? n : e;
      size = e > s ? (e - s + step - 1) / step : 0;
    }
    if (size == 0) s = 0, step = 1;
    p.start[d] = s;
    p.step[d] = step;
    p.sizes[d] = (int)size;
    shape[d] = (int)size;
  }
  if (!broadcasts_to(op, update, shape, src->ndim, "update")) return NULL;
  return make_update(LZ_OP_SLICE_UPDATE, &p, src, NULL, 0, update);
}

/* ---- slice_update_dynamic ----------------------------------------------------------------- */

const lz_op_def lz_opdef_slice_update_dynamic = {
    .name = "slice_update_dynamic",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_index_params),
    .cpu = lz_cpu_slice_update_dynamic,
};

lz_array *lz_slice_update_dynamic(lz_array *src, lz_array *update, lz_array *start, const int *axes,
                                  int naxes) {
  const char *op = "lz_slice_update_dynamic";
  lz_array *in[3] = {src, update, start};
  if (!lz__check_inputs(op, in, 3)) return NULL;
  lz_index_params p = {.name = op, .mode = LZ_SCATTER_SET, .naxes = naxes};
  if (lz__dynamic_start_ok(op, src, start, axes, naxes, p.axes) != 0) return NULL;
  int diff = src->ndim - update->ndim;
  bool ok = diff >= 0;
  for (int d = 0; ok && d < src->ndim; d++) {
    if (d < diff) {
      p.sizes[d] = src->shape[d];
      for (int j = 0; j < naxes; j++)
        if (p.axes[j] == d) p.sizes[d] = 1;
    } else {
      p.sizes[d] = update->shape[d - diff];
      ok = p.sizes[d] <= src->shape[d];
    }
  }
  if (!ok) {
    char su[256], ss[256];
    lz__error(LZ_ERROR_SHAPE, op, "update of shape %s does not fit in an array of shape %s",
              lz__fmt_shape(su, sizeof su, update->shape, update->ndim),
              lz__fmt_shape(ss, sizeof ss, src->shape, src->ndim));
    return NULL;
  }
  lz_array *cv = lz__cast(op, update, src->dtype);
  if (!cv) return NULL;
  lz_array *rin[3] = {src, cv, start};
  lz_array *out =
      lz__make(LZ_OP_SLICE_UPDATE_DYNAMIC, &p, rin, 3, src->dtype, src->shape, src->ndim);
  lz__uncast(cv, update);
  return out;
}
