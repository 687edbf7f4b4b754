/* Import checks of the shape, indexing and creation ops: each one is the op's public
 * constructor on the recorded inputs, its arguments taken from the file's parameters and the
 * recorded output shapes (see import_check.h). */
#include "compile/import_check.h"
#include "cpu/creation.h" /* lz_linspace_params */
#include "cpu/gather.h"   /* lz_index_params */
#include "cpu/shape.h"

#include <limits.h>
#include <math.h>

#define X (a->in[0])
#define Y (a->in[1])
#define OUT (a->out[0])

static bool count_ok(const cz_check_args *a, int n, int max, const char *what) {
  if (n >= 0 && n <= max) return true;
  cz_check_fail(a, "has %d %s", n, what);
  return false;
}

/* ---- views ---- */

static lz_array *check_reshape(const cz_check_args *a) {
  return cz_check_arity(a, 1, 1) ? lz_reshape(X, OUT->shape, OUT->ndim) : NULL;
}
static lz_array *check_broadcast_to(const cz_check_args *a) {
  return cz_check_arity(a, 1, 1) ? lz_broadcast_to(X, OUT->shape, OUT->ndim) : NULL;
}
static lz_array *check_transpose(const cz_check_args *a) {
  const lz_transpose_params *p = a->params;
  if (!cz_check_arity(a, 1, 1)) return NULL;
  for (int d = 0; d < X->ndim; d++)
    if (p->perm[d] < 0) return cz_check_fail(a, "has axis %d in its permutation", p->perm[d]);
  return lz_transpose(X, p->perm, X->ndim);
}
static lz_array *check_contiguous(const cz_check_args *a) {
  return cz_check_arity(a, 1, 1) ? lz_contiguous(X) : NULL;
}

/* One axis of a normalised slice (first index `start`, `step`, `len` elements) as the start and
 * stop lz_slice and lz_slice_update take; false when they cannot say it. */
static bool slice_args(const cz_check_args *a, int d, int64_t start, int64_t step, int64_t len,
                       int *s, int *e, int *st) {
  if (step == 0 || step < INT_MIN || step > INT_MAX || start < 0 || start > INT_MAX) {
    cz_check_fail(a, "has start %lld and step %lld on axis %d", (long long)start,
                  (long long)step, d);
    return false;
  }
  int64_t end = start + len * step; /* |len * step| < 2^62: no overflow */
  *s = (int)start, *st = (int)step;
  if (len == 0) *s = 0, *e = 0, *st = 1;
  else if (step > 0) *e = end > INT_MAX ? INT_MAX : (int)end;
  else *e = end < 0 ? INT_MIN : (int)end; /* below every index: lz_slice clamps it to -1 */
  return true;
}

static lz_array *check_slice(const cz_check_args *a) {
  const lz_slice_params *p = a->params;
  if (!cz_check_arity(a, 1, 1)) return NULL;
  if (OUT->ndim != X->ndim) return cz_check_fail(a, "declares %d dims for %d", OUT->ndim, X->ndim);
  int s[LZ_MAX_NDIM], e[LZ_MAX_NDIM], st[LZ_MAX_NDIM];
  for (int d = 0; d < X->ndim; d++)
    if (!slice_args(a, d, p->start[d], p->step[d], OUT->shape[d], &s[d], &e[d], &st[d])) return NULL;
  return lz_slice(X, s, e, st, X->ndim);
}

static lz_array *check_diagonal(const cz_check_args *a) {
  const lz_diagonal_params *p = a->params;
  if (!cz_check_arity(a, 1, 1)) return NULL;
  if (p->axis1 < 0 || p->axis2 < 0) return cz_check_fail(a, "has axes %d and %d", p->axis1, p->axis2);
  return lz_diagonal(X, p->offset, p->axis1, p->axis2);
}

static lz_array *check_as_strided(const cz_check_args *a) {
  const lz_as_strided_params *p = a->params;
  if (!cz_check_arity(a, 1, 1)) return NULL;
  return lz_as_strided(X, OUT->shape, OUT->ndim, p->strides, p->offset);
}

/* split: the recorded outputs give the sections; squeeze is unstack. */
static lz_array *check_split(const cz_check_args *a) {
  const lz_split_params *p = a->params;
  if (a->nin != 1 || a->nout < 1) return cz_check_fail(a, "has %d inputs and %d outputs", a->nin, a->nout);
  if (p->axis < 0 || p->axis >= X->ndim) return cz_check_fail(a, "has axis %d", p->axis);
  lz_array *outs[LZ_MAX_OUTPUTS];
  int rc;
  if (p->squeeze) {
    if (X->shape[p->axis] != a->nout)
      return cz_check_fail(a, "unstacks %d outputs from an axis of %d", a->nout, X->shape[p->axis]);
    rc = lz_unstack(X, p->axis, outs);
  } else {
    int idx[LZ_MAX_OUTPUTS];
    int64_t at = 0;
    for (int k = 0; k + 1 < a->nout; k++) {
      const cz_value *o = a->out[k];
      if (o->ndim != X->ndim) return cz_check_fail(a, "declares an output of %d dims", o->ndim);
      at += o->shape[p->axis];
      if (at > X->shape[p->axis]) return cz_check_fail(a, "splits more than its input holds");
      idx[k] = (int)at;
    }
    rc = lz_split_indices(X, idx, a->nout - 1, p->axis, outs);
  }
  return rc == 0 ? outs[0] : NULL;
}

static lz_array *check_concatenate(const cz_check_args *a) {
  const lz_concatenate_params *p = a->params;
  if (a->nout != 1 || a->nin < 1) return cz_check_fail(a, "has %d inputs and %d outputs", a->nin, a->nout);
  if (p->axis < 0) return cz_check_fail(a, "has axis %d", p->axis);
  return lz_concatenate(a->in, a->nin, p->axis);
}

static lz_array *check_pad(const cz_check_args *a) {
  const lz_pad_params *p = a->params;
  if (!cz_check_arity(a, 1, 1)) return NULL;
  if (OUT->ndim != X->ndim) return cz_check_fail(a, "declares %d dims for %d", OUT->ndim, X->ndim);
  if (p->mode != LZ_PAD_CONSTANT && p->mode != LZ_PAD_EDGE) return cz_check_fail(a, "has mode %d", p->mode);
  int hi[LZ_MAX_NDIM];
  for (int d = 0; d < X->ndim; d++) {
    int64_t h = (int64_t)OUT->shape[d] - X->shape[d] - p->low[d];
    if (h < INT_MIN || h > INT_MAX) return cz_check_fail(a, "pads axis %d by %lld", d, (long long)h);
    hi[d] = (int)h;
  }
  return lz_pad(X, NULL, X->ndim, p->low, hi, p->mode == LZ_PAD_EDGE ? "edge" : "constant",
                p->value);
}

/* diag of a 1-d array (a 2-d one is diagonal). */
static lz_array *check_diag(const cz_check_args *a) {
  const lz_k_params *p = a->params;
  if (!cz_check_arity(a, 1, 1)) return NULL;
  if (X->ndim != 1) return cz_check_fail(a, "needs a 1-d input, got %d dims", X->ndim);
  return lz_diag(X, p->k);
}

/* ---- gathers ---- */

static lz_array *check_take(const cz_check_args *a) {
  const lz_index_params *p = a->params;
  if (!cz_check_arity(a, 2, 1)) return NULL;
  if (p->flat) return lz_take_flat(X, Y);
  if (p->axis < 0) return cz_check_fail(a, "has axis %d", p->axis);
  return lz_take(X, Y, p->axis);
}
static lz_array *check_take_along_axis(const cz_check_args *a) {
  const lz_index_params *p = a->params;
  if (!cz_check_arity(a, 2, 1)) return NULL;
  if (p->axis < 0) return cz_check_fail(a, "has axis %d", p->axis);
  return lz_take_along_axis(X, Y, p->axis);
}
static lz_array *check_gather(const cz_check_args *a) {
  const lz_index_params *p = a->params;
  if (a->nin < 1 || a->nout != 1) return cz_check_fail(a, "has %d inputs and %d outputs", a->nin, a->nout);
  if (!count_ok(a, p->naxes, LZ_MAX_NDIM, "axes")) return NULL;
  if (p->naxes != a->nin - 1) return cz_check_fail(a, "has %d axes for %d indices", p->naxes, a->nin - 1);
  return lz_gather(X, a->in + 1, p->axes, p->naxes, p->sizes);
}
static lz_array *check_slice_dynamic(const cz_check_args *a) {
  const lz_index_params *p = a->params;
  if (!cz_check_arity(a, 2, 1) || !count_ok(a, p->naxes, LZ_MAX_NDIM, "axes")) return NULL;
  return lz_slice_dynamic(X, Y, p->axes, p->naxes, p->sizes);
}

/* ---- scatters ---- */

static lz_array *check_scatter_axis(const cz_check_args *a) {
  typedef lz_array *(*at_fn)(lz_array *, lz_array *, lz_array *, int);
  static const at_fn at[LZ_SCATTER_MODE_COUNT] = {lz_at_set, lz_at_add, lz_at_subtract,
                                                   lz_at_multiply, lz_at_divide, lz_at_maximum,
                                                   lz_at_minimum};
  const lz_index_params *p = a->params;
  if (!cz_check_arity(a, 3, 1)) return NULL;
  if (p->mode < 0 || p->mode >= LZ_SCATTER_MODE_COUNT) return cz_check_fail(a, "has mode %d", p->mode);
  if (p->axis < 0) return cz_check_fail(a, "has axis %d", p->axis);
  return at[p->mode](X, Y, a->in[2], p->axis);
}
static lz_array *check_put_along_axis(const cz_check_args *a) {
  const lz_index_params *p = a->params;
  if (!cz_check_arity(a, 3, 1)) return NULL;
  if (p->axis < 0) return cz_check_fail(a, "has axis %d", p->axis);
  return lz_put_along_axis(X, Y, a->in[2], p->axis);
}
static lz_array *check_scatter(const cz_check_args *a) {
  typedef lz_array *(*sc_fn)(lz_array *, lz_array *const *, const int *, int, lz_array *);
  const lz_index_params *p = a->params;
  if (a->nin < 2 || a->nout != 1) return cz_check_fail(a, "has %d inputs and %d outputs", a->nin, a->nout);
  if (!count_ok(a, p->naxes, LZ_MAX_NDIM, "axes")) return NULL;
  if (p->naxes != a->nin - 2) return cz_check_fail(a, "has %d axes for %d indices", p->naxes, a->nin - 2);
  sc_fn f = p->mode == LZ_SCATTER_SET        ? lz_scatter
            : p->mode == LZ_SCATTER_ADD      ? lz_scatter_add
            : p->mode == LZ_SCATTER_MULTIPLY ? lz_scatter_prod
            : p->mode == LZ_SCATTER_MAXIMUM  ? lz_scatter_max
            : p->mode == LZ_SCATTER_MINIMUM  ? lz_scatter_min
                                             : NULL;
  if (!f) return cz_check_fail(a, "has mode %d", p->mode);
  return f(X, a->in + 1, p->axes, p->naxes, a->in[a->nin - 1]);
}
static lz_array *check_slice_update(const cz_check_args *a) {
  const lz_index_params *p = a->params;
  if (!cz_check_arity(a, 2, 1)) return NULL;
  int s[LZ_MAX_NDIM], e[LZ_MAX_NDIM], st[LZ_MAX_NDIM];
  for (int d = 0; d < X->ndim; d++) {
    if (p->sizes[d] < 0 || p->sizes[d] > X->shape[d])
      return cz_check_fail(a, "updates %d elements of axis %d", p->sizes[d], d);
    if (!slice_args(a, d, p->start[d], p->step[d], p->sizes[d], &s[d], &e[d], &st[d])) return NULL;
  }
  return lz_slice_update(X, Y, s, e, st);
}
static lz_array *check_slice_update_dynamic(const cz_check_args *a) {
  const lz_index_params *p = a->params;
  if (!cz_check_arity(a, 3, 1) || !count_ok(a, p->naxes, LZ_MAX_NDIM, "axes")) return NULL;
  return lz_slice_update_dynamic(X, Y, a->in[2], p->axes, p->naxes);
}

/* ---- creation ---- */

/* full: a 0-d input (the constant) viewed with the recorded shape; no public constructor
 * takes the constant as an array. */
static lz_array *check_full(const cz_check_args *a) {
  if (!cz_check_arity(a, 1, 1)) return NULL;
  if (X->ndim != 0 || OUT->dtype != X->dtype)
    return cz_check_fail(a, "needs a 0-d %s input, got %d dims of %s", lz_dtype_name(OUT->dtype),
                         X->ndim, lz_dtype_name(X->dtype));
  return lz__make(LZ_OP_FULL, NULL, &X, 1, OUT->dtype, OUT->shape, OUT->ndim);
}

/* arange's parameters are its start and step (two doubles); the stop half a step before the
 * recorded length's end gives that length. */
static lz_array *check_arange(const cz_check_args *a) {
  const double *p = a->params;
  if (!cz_check_arity(a, 0, 1)) return NULL;
  if (OUT->ndim != 1) return cz_check_fail(a, "declares %d dims", OUT->ndim);
  return lz_arange(p[0], p[0] + (OUT->shape[0] - 0.5) * p[1], p[1], OUT->dtype);
}
static lz_array *check_linspace(const cz_check_args *a) {
  const lz_linspace_params *p = a->params;
  if (!cz_check_arity(a, 0, 1)) return NULL;
  if (OUT->ndim != 1) return cz_check_fail(a, "declares %d dims", OUT->ndim);
  return lz_linspace(p->start, p->stop, OUT->shape[0], OUT->dtype);
}
static lz_array *check_eye_tri(const cz_check_args *a) {
  const lz_k_params *p = a->params;
  if (!cz_check_arity(a, 0, 1)) return NULL;
  if (OUT->ndim != 2) return cz_check_fail(a, "declares %d dims", OUT->ndim);
  return (a->op == LZ_OP_EYE ? lz_eye : lz_tri)(OUT->shape[0], OUT->shape[1], p->k, OUT->dtype);
}
static lz_array *check_tril_triu(const cz_check_args *a) {
  const lz_k_params *p = a->params;
  if (!cz_check_arity(a, 1, 1)) return NULL;
  return (a->op == LZ_OP_TRIL ? lz_tril : lz_triu)(X, p->k);
}
static lz_array *check_window(const cz_check_args *a) {
  typedef lz_array *(*win_fn)(int, lz_dtype);
  if (!cz_check_arity(a, 0, 1)) return NULL;
  if (OUT->ndim != 1) return cz_check_fail(a, "declares %d dims", OUT->ndim);
  win_fn f = a->op == LZ_OP_BARTLETT ? lz_bartlett
             : a->op == LZ_OP_BLACKMAN ? lz_blackman
             : a->op == LZ_OP_HAMMING  ? lz_hamming
                                       : lz_hanning;
  return f(OUT->shape[0], OUT->dtype);
}

const cz_check_fn cz_checks_shape[LZ_OP_COUNT] = {
    [LZ_OP_RESHAPE] = check_reshape,
    [LZ_OP_TRANSPOSE] = check_transpose,
    [LZ_OP_BROADCAST_TO] = check_broadcast_to,
    [LZ_OP_SLICE] = check_slice,
    [LZ_OP_DIAGONAL] = check_diagonal,
    [LZ_OP_AS_STRIDED] = check_as_strided,
    [LZ_OP_CONTIGUOUS] = check_contiguous,
    [LZ_OP_SPLIT] = check_split,
    [LZ_OP_CONCATENATE] = check_concatenate,
    [LZ_OP_PAD] = check_pad,
    [LZ_OP_DIAG] = check_diag,
    [LZ_OP_TAKE] = check_take,
    [LZ_OP_TAKE_ALONG_AXIS] = check_take_along_axis,
    [LZ_OP_GATHER] = check_gather,
    [LZ_OP_SLICE_DYNAMIC] = check_slice_dynamic,
    [LZ_OP_SCATTER] = check_scatter,
    [LZ_OP_SCATTER_AXIS] = check_scatter_axis,
    [LZ_OP_PUT_ALONG_AXIS] = check_put_along_axis,
    [LZ_OP_SLICE_UPDATE] = check_slice_update,
    [LZ_OP_SLICE_UPDATE_DYNAMIC] = check_slice_update_dynamic,
    [LZ_OP_FULL] = check_full,
    [LZ_OP_ARANGE] = check_arange,
    [LZ_OP_LINSPACE] = check_linspace,
    [LZ_OP_EYE] = check_eye_tri,
    [LZ_OP_TRI] = check_eye_tri,
    [LZ_OP_TRIL] = check_tril_triu,
    [LZ_OP_TRIU] = check_tril_triu,
    [LZ_OP_BARTLETT] = check_window,
    [LZ_OP_BLACKMAN] = check_window,
    [LZ_OP_HAMMING] = check_window,
    [LZ_OP_HANNING] = check_window,
};
