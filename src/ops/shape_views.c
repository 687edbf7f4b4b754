/* View ops: reshape and its relatives (flatten, unflatten, squeeze, expand_dims, atleast_nd),
 * transpose and its relatives (swapaxes, moveaxis), broadcast_to, slice, flip, diagonal,
 * as_strided and contiguous. Constructors validate and infer the shape; the kernels
 * (cpu/view.c) share the input's buffer. */
#include "shape_impl.h"

#define VIEW_OP(NAME, KERNEL, PARAMS)                                                              \
  const lz_op_def lz_opdef_##NAME = {                                                              \
      .name = #NAME,                                                                               \
      .flags = LZ_OPF_VIEW | LZ_OPF_DIFFERENTIABLE,                                                \
      .params_size = PARAMS,                                                                       \
      .cpu = KERNEL,                                                                               \
  };
/* reshape (and as_strided on a non-contiguous input) copy when the strides rule a view out. */
VIEW_OP(reshape, lz_cpu_reshape, 0)
VIEW_OP(transpose, lz_cpu_transpose, sizeof(lz_transpose_params))
VIEW_OP(broadcast_to, lz_cpu_broadcast_to, 0)
VIEW_OP(slice, lz_cpu_slice, sizeof(lz_slice_params))
VIEW_OP(diagonal, lz_cpu_diagonal, sizeof(lz_diagonal_params))
VIEW_OP(as_strided, lz_cpu_as_strided, sizeof(lz_as_strided_params))

/* contiguous copies unless its input already is contiguous. */
const lz_op_def lz_opdef_contiguous = {
    .name = "contiguous",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .cpu = lz_cpu_contiguous,
};

int lz__check_shape_arg(const char *op, const int *shape, int ndim) {
  if (ndim < 0 || ndim > LZ_MAX_NDIM)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "ndim %d is outside [0, %d]", ndim,
                     LZ_MAX_NDIM);
  if (ndim > 0 && !shape)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "shape is NULL with ndim %d", ndim);
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0) {
      char s[256];
      return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "negative dimension in shape %s",
                       lz__fmt_shape(s, sizeof s, shape, ndim));
    }
  }
  return 0;
}

static bool same_shape(const lz_array *a, const int *shape, int ndim) {
  return a->ndim == ndim && (ndim == 0 || memcmp(a->shape, shape, (size_t)ndim * sizeof(int)) == 0);
}

static lz_array *view(int op, const void *params, lz_array *a, const int *shape, int ndim) {
  return lz__make(op, params, &a, 1, a->dtype, shape, ndim);
}

/* ---- reshape and relatives ---- */

/* Copies `shape` into out, replacing one -1 by what makes the product `size`. Returns 0, -1
 * with an error for a malformed shape, or -2 (no error recorded) when the sizes differ. */
static int infer_shape(const char *op, int64_t size, const int *shape, int ndim, int *out) {
  if (ndim < 0 || ndim > LZ_MAX_NDIM || (ndim > 0 && !shape))
    return lz__check_shape_arg(op, shape, ndim);
  int infer = -1;
  int64_t known = 1;
  char s[256];
  for (int i = 0; i < ndim; i++) {
    out[i] = shape[i];
    if (shape[i] == -1 && infer < 0) {
      infer = i;
    } else if (shape[i] < 0) {
      return lz__error(LZ_ERROR_INVALID_ARGUMENT, op,
                       shape[i] == -1 ? "can only infer one dimension in shape %s"
                                      : "invalid dimension in shape %s",
                       lz__fmt_shape(s, sizeof s, shape, ndim));
    } else if (__builtin_mul_overflow(known, (int64_t)shape[i], &known)) {
      return -2;
    }
  }
  if (infer >= 0 && known == 0) {
    return lz__error(LZ_ERROR_SHAPE, op, "cannot infer the -1 in shape %s for an empty array",
                     lz__fmt_shape(s, sizeof s, shape, ndim));
  }
  if (infer >= 0 && size % known == 0 && size / known <= 2147483647)
    out[infer] = (int)(size / known), known = size;
  return known == size ? 0 : -2;
}

lz_array *lz_reshape(lz_array *a, const int *shape, int ndim) {
  if (!lz__check_inputs("lz_reshape", &a, 1)) return NULL;
  int s[LZ_MAX_NDIM];
  int rc = infer_shape("lz_reshape", a->size, shape, ndim, s);
  if (rc == -2) {
    char t[256], u[256];
    lz__error(LZ_ERROR_SHAPE, "lz_reshape", "cannot reshape array of shape %s into shape %s",
              lz__fmt_shape(t, sizeof t, a->shape, a->ndim),
              lz__fmt_shape(u, sizeof u, shape, ndim));
  }
  if (rc != 0) return NULL;
  if (same_shape(a, s, ndim)) return lz_retain(a);
  return view(LZ_OP_RESHAPE, NULL, a, s, ndim);
}

lz_array *lz_flatten(lz_array *a, int start_axis, int end_axis) {
  const char *op = "lz_flatten";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  int one[1] = {1};
  if (a->ndim == 0) return view(LZ_OP_RESHAPE, NULL, a, one, 1);
  int st = lz__norm_axis(op, start_axis, a->ndim);
  int en = st < 0 ? -1 : lz__norm_axis(op, end_axis, a->ndim);
  if (en < 0) return NULL;
  if (st > en) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "start_axis %d is after end_axis %d", start_axis,
              end_axis);
    return NULL;
  }
  int s[LZ_MAX_NDIM], n = 0;
  for (int d = 0; d < st; d++) s[n++] = a->shape[d];
  int64_t m = 1;
  for (int d = st; d <= en; d++) m *= a->shape[d];
  s[n++] = (int)m;
  for (int d = en + 1; d < a->ndim; d++) s[n++] = a->shape[d];
  return lz_reshape(a, s, n);
}

lz_array *lz_unflatten(lz_array *a, int axis, const int *shape, int ndim) {
  const char *op = "lz_unflatten";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  int ax = lz__norm_axis(op, axis, a->ndim);
  if (ax < 0) return NULL;
  if (ndim < 1 || a->ndim - 1 + ndim > LZ_MAX_NDIM || !shape) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "cannot unflatten axis %d into %d dims", axis, ndim);
    return NULL;
  }
  int part[LZ_MAX_NDIM];
  int dim = a->shape[ax];
  int rc = infer_shape(op, dim, shape, ndim, part);
  if (rc == -2) {
    char s[256];
    lz__error(LZ_ERROR_SHAPE, op, "cannot unflatten axis %d of size %d into shape %s", axis, dim,
              lz__fmt_shape(s, sizeof s, shape, ndim));
  }
  if (rc != 0) return NULL;
  int s[LZ_MAX_NDIM], n = 0;
  for (int d = 0; d < ax; d++) s[n++] = a->shape[d];
  for (int i = 0; i < ndim; i++) s[n++] = part[i];
  for (int d = ax + 1; d < a->ndim; d++) s[n++] = a->shape[d];
  return lz_reshape(a, s, n);
}

lz_array *lz_squeeze(lz_array *a, const int *axes, int naxes) {
  const char *op = "lz_squeeze";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  bool drop[LZ_MAX_NDIM] = {false};
  if (!axes) {
    for (int d = 0; d < a->ndim; d++) drop[d] = a->shape[d] == 1;
  } else {
    int ax[LZ_MAX_NDIM];
    if (lz__norm_axes(op, axes, naxes, a->ndim, ax) != 0) return NULL;
    for (int i = 0; i < naxes; i++) {
      if (a->shape[ax[i]] != 1) {
        char s[256];
        lz__error(LZ_ERROR_SHAPE, op, "cannot squeeze axis %d of size %d in shape %s", axes[i],
                  a->shape[ax[i]], lz__fmt_shape(s, sizeof s, a->shape, a->ndim));
        return NULL;
      }
      drop[ax[i]] = true;
    }
  }
  int s[LZ_MAX_NDIM], n = 0;
  for (int d = 0; d < a->ndim; d++) {
    if (!drop[d]) s[n++] = a->shape[d];
  }
  return lz_reshape(a, s, n);
}

lz_array *lz_expand_dims(lz_array *a, const int *axes, int naxes) {
  const char *op = "lz_expand_dims";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  int nd = a->ndim + naxes;
  if (naxes < 0 || nd > LZ_MAX_NDIM) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%d new axes on %d dims exceed %d dims", naxes,
              a->ndim, LZ_MAX_NDIM);
    return NULL;
  }
  int ax[LZ_MAX_NDIM];
  if (lz__norm_axes(op, axes, naxes, nd, ax) != 0) return NULL;
  bool added[LZ_MAX_NDIM] = {false};
  for (int i = 0; i < naxes; i++) added[ax[i]] = true;
  int s[LZ_MAX_NDIM];
  for (int d = 0, k = 0; d < nd; d++) s[d] = added[d] ? 1 : a->shape[k++];
  return lz_reshape(a, s, nd);
}

static lz_array *atleast(lz_array *a, int n, const char *op) {
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  if (a->ndim >= n) return lz_retain(a);
  int s[3] = {1, 1, 1};
  if (a->ndim == 1) s[n == 3 ? 1 : n - 1] = a->shape[0];
  if (a->ndim == 2) s[0] = a->shape[0], s[1] = a->shape[1];
  return lz_reshape(a, s, n);
}
lz_array *lz_atleast_1d(lz_array *a) { return atleast(a, 1, "lz_atleast_1d"); }
lz_array *lz_atleast_2d(lz_array *a) { return atleast(a, 2, "lz_atleast_2d"); }
lz_array *lz_atleast_3d(lz_array *a) { return atleast(a, 3, "lz_atleast_3d"); }

/* ---- transpose and relatives ---- */

lz_array *lz__transpose_perm(lz_array *a, const int *perm) {
  lz_transpose_params p = {{0}};
  int s[LZ_MAX_NDIM];
  for (int d = 0; d < a->ndim; d++) p.perm[d] = perm[d], s[d] = a->shape[perm[d]];
  return view(LZ_OP_TRANSPOSE, &p, a, s, a->ndim);
}

lz_array *lz_transpose(lz_array *a, const int *axes, int naxes) {
  const char *op = "lz_transpose";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  int perm[LZ_MAX_NDIM];
  if (!axes) {
    for (int d = 0; d < a->ndim; d++) perm[d] = a->ndim - 1 - d;
  } else {
    if (naxes != a->ndim) {
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%d axes given for an array of dimension %d", naxes,
                a->ndim);
      return NULL;
    }
    if (lz__norm_axes(op, axes, naxes, a->ndim, perm) != 0) return NULL;
  }
  return lz__transpose_perm(a, perm);
}

lz_array *lz_swapaxes(lz_array *a, int axis1, int axis2) {
  const char *op = "lz_swapaxes";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  int a1 = lz__norm_axis(op, axis1, a->ndim);
  int a2 = a1 < 0 ? -1 : lz__norm_axis(op, axis2, a->ndim);
  if (a2 < 0) return NULL;
  int perm[LZ_MAX_NDIM];
  for (int d = 0; d < a->ndim; d++) perm[d] = d;
  perm[a1] = a2, perm[a2] = a1;
  return lz__transpose_perm(a, perm);
}

lz_array *lz_moveaxis(lz_array *a, int source, int destination) {
  const char *op = "lz_moveaxis";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  int src = lz__norm_axis(op, source, a->ndim);
  int dst = src < 0 ? -1 : lz__norm_axis(op, destination, a->ndim);
  if (dst < 0) return NULL;
  int rest[LZ_MAX_NDIM], perm[LZ_MAX_NDIM], n = 0;
  for (int d = 0; d < a->ndim; d++) {
    if (d != src) rest[n++] = d;
  }
  for (int d = 0, k = 0; d < a->ndim; d++) perm[d] = d == dst ? src : rest[k++];
  return lz__transpose_perm(a, perm);
}

/* ---- broadcast_to ---- */

lz_array *lz_broadcast_to(lz_array *a, const int *shape, int ndim) {
  const char *op = "lz_broadcast_to";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  if (lz__check_shape_arg(op, shape, ndim) != 0) return NULL;
  bool ok = ndim >= a->ndim;
  for (int d = 0; ok && d < a->ndim; d++) {
    int ad = a->shape[d], od = shape[ndim - a->ndim + d];
    ok = ad == od || ad == 1;
  }
  if (!ok) {
    char s[256], t[256];
    lz__error(LZ_ERROR_SHAPE, op, "cannot broadcast shape %s to %s",
              lz__fmt_shape(s, sizeof s, a->shape, a->ndim),
              lz__fmt_shape(t, sizeof t, shape, ndim));
    return NULL;
  }
  if (same_shape(a, shape, ndim)) return lz_retain(a);
  return view(LZ_OP_BROADCAST_TO, NULL, a, shape, ndim);
}

/* ---- slice and flip ---- */

void lz__norm_slice(int64_t n, int64_t start, int64_t stop, int64_t step, int64_t *first,
                    int64_t *len) {
  if (start < 0) start += n;
  if (stop < 0) stop += n;
  if (step > 0) {
    start = start < 0 ? 0 : start > n ? n : start;
    stop = stop < 0 ? 0 : stop > n ? n : stop;
    *len = stop > start ? (stop - start + step - 1) / step : 0;
  } else {
    start = start < 0 ? -1 : start >= n ? n - 1 : start;
    stop = stop < 0 ? -1 : stop >= n ? n - 1 : stop;
    *len = start > stop ? (start - stop - step - 1) / -step : 0;
  }
  *first = *len ? start : 0;
}

static lz_array *slice_make(lz_array *a, const lz_slice_params *p, const int *shape) {
  return view(LZ_OP_SLICE, p, a, shape, a->ndim);
}

lz_array *lz_slice(lz_array *a, const int *start, const int *stop, const int *strides, int n) {
  const char *op = "lz_slice";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  if (n != a->ndim || (n > 0 && (!start || !stop))) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%d start/stop entries for an array of dimension %d",
              n, a->ndim);
    return NULL;
  }
  lz_slice_params p = {{0}, {0}};
  int s[LZ_MAX_NDIM];
  for (int d = 0; d < n; d++) {
    int64_t step = strides ? strides[d] : 1, len;
    if (step == 0) {
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "slice stride of axis %d is zero", d);
      return NULL;
    }
    lz__norm_slice(a->shape[d], start[d], stop[d], step, &p.start[d], &len);
    p.step[d] = step;
    s[d] = (int)len;
  }
  return slice_make(a, &p, s);
}

lz_array *lz__slice_axis(const char *op, lz_array *a, int axis, int64_t start, int64_t stop,
                         int64_t step) {
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  lz_slice_params p = {{0}, {0}};
  int s[LZ_MAX_NDIM];
  for (int d = 0; d < a->ndim; d++) {
    p.step[d] = 1, s[d] = a->shape[d];
  }
  int64_t len;
  lz__norm_slice(a->shape[axis], start, stop, step, &p.start[axis], &len);
  p.step[axis] = step;
  s[axis] = (int)len;
  return slice_make(a, &p, s);
}

lz_array *lz_flip(lz_array *a, const int *axes, int naxes) {
  const char *op = "lz_flip";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  int ax[LZ_MAX_NDIM];
  if (!axes) {
    naxes = a->ndim;
    for (int d = 0; d < a->ndim; d++) ax[d] = d;
  } else if (lz__norm_axes(op, axes, naxes, a->ndim, ax) != 0) {
    return NULL;
  }
  lz_slice_params p = {{0}, {0}};
  for (int d = 0; d < a->ndim; d++) p.step[d] = 1;
  for (int i = 0; i < naxes; i++) {
    int d = ax[i];
    p.step[d] = -1;
    p.start[d] = a->shape[d] ? a->shape[d] - 1 : 0;
  }
  return slice_make(a, &p, a->shape);
}

/* ---- diagonal ---- */

lz_array *lz_diagonal(lz_array *a, int offset, int axis1, int axis2) {
  const char *op = "lz_diagonal";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  if (a->ndim < 2) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "needs an array of at least 2 dims, got %d", a->ndim);
    return NULL;
  }
  int a1 = lz__norm_axis(op, axis1, a->ndim);
  int a2 = a1 < 0 ? -1 : lz__norm_axis(op, axis2, a->ndim);
  if (a2 < 0) return NULL;
  if (a1 == a2) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "axis1 and axis2 are the same axis (%d)", a1);
    return NULL;
  }
  int64_t d1 = a->shape[a1], d2 = a->shape[a2], len;
  len = offset >= 0 ? (d1 < d2 - offset ? d1 : d2 - offset) : (d1 + offset < d2 ? d1 + offset : d2);
  if (len < 0) len = 0;
  int s[LZ_MAX_NDIM], n = 0;
  for (int d = 0; d < a->ndim; d++) {
    if (d != a1 && d != a2) s[n++] = a->shape[d];
  }
  s[n++] = (int)len;
  lz_diagonal_params p = {offset, a1, a2};
  return view(LZ_OP_DIAGONAL, &p, a, s, n);
}

/* ---- as_strided and contiguous ---- */

lz_array *lz_as_strided(lz_array *a, const int *shape, int ndim, const int64_t *strides,
                        int64_t offset) {
  const char *op = "lz_as_strided";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  if (lz__check_shape_arg(op, shape, ndim) != 0) return NULL;
  if (ndim > 0 && !strides) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "strides is NULL with ndim %d", ndim);
    return NULL;
  }
  lz_as_strided_params p = {{0}, offset};
  int64_t lo = offset, hi = offset, size = 1;
  bool overflow = false;
  for (int d = 0; d < ndim; d++) {
    int64_t ext;
    p.strides[d] = strides[d];
    size *= shape[d];
    if (shape[d] == 0) continue;
    overflow |= __builtin_mul_overflow(strides[d], (int64_t)shape[d] - 1, &ext);
    overflow |= __builtin_add_overflow(ext < 0 ? lo : hi, ext, ext < 0 ? &lo : &hi);
  }
  if (size > 0 && (overflow || lo < 0 || hi >= a->size)) {
    char s[256];
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op,
              "shape %s with these strides and offset %lld reaches outside the %lld elements "
              "of the input",
              lz__fmt_shape(s, sizeof s, shape, ndim), (long long)offset, (long long)a->size);
    return NULL;
  }
  if (size == 0) p.offset = 0;
  return view(LZ_OP_AS_STRIDED, &p, a, shape, ndim);
}

lz_array *lz_contiguous(lz_array *a) {
  if (!lz__check_inputs("lz_contiguous", &a, 1)) return NULL;
  return view(LZ_OP_CONTIGUOUS, NULL, a, a->shape, a->ndim);
}
