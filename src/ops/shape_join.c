/* Joining and copying ops: concatenate and pad (nodes of their own), diag (vector to matrix),
 * and the composites built from views and those: stack, tile, repeat, roll, kron. */
#include "shape_impl.h"

#include <stdlib.h>

const lz_op_def lz_opdef_concatenate = {
    .name = "concatenate",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_concatenate_params),
    .cpu = lz_cpu_concatenate,
};
const lz_op_def lz_opdef_pad = {
    .name = "pad",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_pad_params),
    .cpu = lz_cpu_pad,
};
const lz_op_def lz_opdef_diag = {
    .name = "diag",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_k_params),
    .cpu = lz_cpu_diag,
};

enum { MAX_INPUTS = 65535 }; /* a node counts its inputs in 16 bits */

/* Composites build their result from other ops inside a scope of their own and keep only it. */
static lz_array *composite_end(lz_array *result) {
  lz_keep(result);
  lz_scope_end();
  return result;
}

static int check_dim(const char *op, int64_t d) {
  if (d > 2147483647)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "a result dimension of %lld is too large",
                     (long long)d);
  return 0;
}

/* ---- concatenate and stack ---- */

lz_array *lz_concatenate(lz_array *const *arrays, int n, int axis) {
  const char *op = "lz_concatenate";
  if (n <= 0 || n > MAX_INPUTS || !arrays) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "needs 1 to %d arrays, got %d", MAX_INPUTS, n);
    return NULL;
  }
  if (!lz__check_inputs(op, arrays, n)) return NULL;
  const lz_array *a0 = arrays[0];
  if (a0->ndim == 0) {
    lz__error(LZ_ERROR_SHAPE, op, "cannot concatenate 0-d arrays");
    return NULL;
  }
  int ax = lz__norm_axis(op, axis, a0->ndim);
  if (ax < 0) return NULL;
  int shape[LZ_MAX_NDIM];
  memcpy(shape, a0->shape, (size_t)a0->ndim * sizeof(int));
  int64_t total = 0;
  lz_dtype dt = a0->dtype;
  for (int i = 0; i < n; i++) {
    const lz_array *x = arrays[i];
    bool ok = x->ndim == a0->ndim;
    for (int d = 0; ok && d < x->ndim; d++) ok = d == ax || x->shape[d] == a0->shape[d];
    if (!ok) {
      char s[256], t[256];
      lz__error(LZ_ERROR_SHAPE, op, "shapes %s and %s differ outside axis %d",
                lz__fmt_shape(s, sizeof s, a0->shape, a0->ndim),
                lz__fmt_shape(t, sizeof t, x->shape, x->ndim), axis);
      return NULL;
    }
    total += x->shape[ax];
    dt = lz_promote_types(dt, x->dtype);
  }
  if (check_dim(op, total) != 0) return NULL;
  shape[ax] = (int)total;
  lz_array **cast = lz__malloc((size_t)n * sizeof *cast);
  if (!cast) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
    return NULL;
  }
  int nc = 0;
  for (; nc < n; nc++) {
    cast[nc] = lz__cast(op, arrays[nc], dt);
    if (!cast[nc]) break;
  }
  lz_array *out = NULL;
  if (nc == n) {
    lz_concatenate_params p = {ax};
    out = lz__make(LZ_OP_CONCATENATE, &p, cast, n, dt, shape, a0->ndim);
  }
  for (int i = 0; i < nc; i++) lz__uncast(cast[i], arrays[i]);
  free(cast);
  return out;
}

lz_array *lz_stack(lz_array *const *arrays, int n, int axis) {
  const char *op = "lz_stack";
  if (n <= 0 || n > MAX_INPUTS || !arrays) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "needs 1 to %d arrays, got %d", MAX_INPUTS, n);
    return NULL;
  }
  if (!lz__check_inputs(op, arrays, n)) return NULL;
  const lz_array *a0 = arrays[0];
  for (int i = 1; i < n; i++) {
    const lz_array *x = arrays[i];
    if (x->ndim != a0->ndim ||
        (x->ndim && memcmp(x->shape, a0->shape, (size_t)x->ndim * sizeof(int)) != 0)) {
      char s[256], t[256];
      lz__error(LZ_ERROR_SHAPE, op, "all arrays must have the same shape, got %s and %s",
                lz__fmt_shape(s, sizeof s, a0->shape, a0->ndim),
                lz__fmt_shape(t, sizeof t, x->shape, x->ndim));
      return NULL;
    }
  }
  int ax = lz__norm_axis(op, axis, a0->ndim + 1);
  if (ax < 0) return NULL;
  lz_array **ex = lz__malloc((size_t)n * sizeof *ex);
  if (!ex) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
    return NULL;
  }
  lz_scope_begin();
  for (int i = 0; i < n; i++) ex[i] = lz_expand_dims(arrays[i], &ax, 1);
  lz_array *out = lz_concatenate(ex, n, ax);
  free(ex);
  return composite_end(out);
}

/* ---- tile and repeat ---- */

lz_array *lz_tile(lz_array *a, const int *reps, int nreps) {
  const char *op = "lz_tile";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  if (nreps < 0 || nreps > LZ_MAX_NDIM || (nreps > 0 && !reps)) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "bad reps list (nreps = %d)", nreps);
    return NULL;
  }
  int nd = a->ndim > nreps ? a->ndim : nreps;
  int dims[LZ_MAX_NDIM], r[LZ_MAX_NDIM];
  for (int d = 0; d < nd; d++) {
    int ia = d - (nd - a->ndim), ir = d - (nd - nreps);
    dims[d] = ia >= 0 ? a->shape[ia] : 1;
    r[d] = ir >= 0 ? reps[ir] : 1;
    if (r[d] < 0) {
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "negative repetition %d", r[d]);
      return NULL;
    }
  }
  /* (d0, d1, ...) -> (r0, d0, r1, d1, ...) as a stride-0 view, then merged (a copy); only
   * axes with r != 1 get a repetition axis. */
  int ex[LZ_MAX_NDIM], big[LZ_MAX_NDIM], res[LZ_MAX_NDIM], ne = 0;
  for (int d = 0; d < nd; d++) {
    if (r[d] != 1) {
      if (ne == LZ_MAX_NDIM) {
        lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "tiling needs more than %d dims", LZ_MAX_NDIM);
        return NULL;
      }
      ex[ne] = 1, big[ne++] = r[d];
    }
    if (ne == LZ_MAX_NDIM) {
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "tiling needs more than %d dims", LZ_MAX_NDIM);
      return NULL;
    }
    ex[ne] = dims[d], big[ne++] = dims[d];
    if (check_dim(op, (int64_t)r[d] * dims[d]) != 0) return NULL;
    res[d] = r[d] * dims[d];
  }
  lz_scope_begin();
  lz_array *x = lz_reshape(a, ex, ne);
  x = lz_broadcast_to(x, big, ne);
  return composite_end(lz_reshape(x, res, nd));
}

lz_array *lz_repeat(lz_array *a, int repeats, int axis) {
  const char *op = "lz_repeat";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  if (repeats < 0) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "negative repeats %d", repeats);
    return NULL;
  }
  int ax = lz__norm_axis(op, axis, a->ndim);
  if (ax < 0) return NULL;
  if (a->ndim == LZ_MAX_NDIM) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "needs fewer than %d dims", LZ_MAX_NDIM);
    return NULL;
  }
  if (check_dim(op, (int64_t)a->shape[ax] * repeats) != 0) return NULL;
  int big[LZ_MAX_NDIM], res[LZ_MAX_NDIM];
  for (int d = 0, k = 0; d < a->ndim; d++) {
    res[d] = a->shape[d];
    big[k++] = a->shape[d];
    if (d == ax) big[k++] = repeats;
  }
  res[ax] = a->shape[ax] * repeats;
  int after = ax + 1;
  lz_scope_begin();
  lz_array *x = lz_expand_dims(a, &after, 1);
  x = lz_broadcast_to(x, big, a->ndim + 1);
  return composite_end(lz_reshape(x, res, a->ndim));
}

lz_array *lz_repeat_flat(lz_array *a, int repeats) {
  if (!lz__check_inputs("lz_repeat_flat", &a, 1)) return NULL;
  lz_scope_begin();
  lz_array *x = lz_flatten(a, 0, -1);
  return composite_end(x ? lz_repeat(x, repeats, 0) : NULL);
}

/* ---- pad ---- */

lz_array *lz_pad(lz_array *a, const int *axes, int naxes, const int *low_pad, const int *high_pad,
                 const char *mode, double value) {
  const char *op = "lz_pad";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  int m;
  if (!mode || strcmp(mode, "constant") == 0)
    m = LZ_PAD_CONSTANT;
  else if (strcmp(mode, "edge") == 0)
    m = LZ_PAD_EDGE;
  else {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "unknown mode \"%s\" (use \"constant\" or \"edge\")",
              mode);
    return NULL;
  }
  int ax[LZ_MAX_NDIM];
  if (!axes) {
    if (naxes != a->ndim) {
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%d pad widths for an array of dimension %d", naxes,
                a->ndim);
      return NULL;
    }
    for (int d = 0; d < naxes; d++) ax[d] = d;
  } else if (lz__norm_axes(op, axes, naxes, a->ndim, ax) != 0) {
    return NULL;
  }
  if (naxes > 0 && (!low_pad || !high_pad)) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "low_pad or high_pad is NULL");
    return NULL;
  }
  lz_pad_params p = {{0}, m, value};
  int shape[LZ_MAX_NDIM];
  memcpy(shape, a->shape, (size_t)a->ndim * sizeof(int));
  for (int i = 0; i < naxes; i++) {
    int d = ax[i], lo = low_pad[i], hi = high_pad[i];
    if (lo < 0 || hi < 0) {
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "negative pad width (%d, %d) on axis %d", lo, hi, d);
      return NULL;
    }
    if (m == LZ_PAD_EDGE && a->shape[d] == 0 && lo + hi > 0) {
      lz__error(LZ_ERROR_SHAPE, op, "edge padding cannot extend the empty axis %d", d);
      return NULL;
    }
    if (check_dim(op, (int64_t)a->shape[d] + lo + hi) != 0) return NULL;
    p.low[d] = lo;
    shape[d] = a->shape[d] + lo + hi;
  }
  return lz__make(LZ_OP_PAD, &p, &a, 1, a->dtype, shape, a->ndim);
}

/* ---- roll ---- */

/* x rolled by `shift` along axis ax: the last `shift` elements come first. */
static lz_array *roll_axis(lz_array *x, int64_t shift, int ax) {
  if (!x) return NULL;
  int64_t n = x->shape[ax];
  if (n == 0) return x;
  int64_t s = ((shift % n) + n) % n;
  if (s == 0) return x;
  lz_array *parts[2] = {lz__slice_axis("lz_roll", x, ax, n - s, n, 1),
                        lz__slice_axis("lz_roll", x, ax, 0, n - s, 1)};
  return lz_concatenate(parts, 2, ax);
}

lz_array *lz_roll(lz_array *a, const int *shifts, const int *axes, int naxes) {
  const char *op = "lz_roll";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  /* An empty list of axes rolls nothing, as in MLX and NumPy (shifts may then be NULL). */
  if (axes && naxes == 0) return lz_retain(a);
  if (!shifts || (axes && naxes < 0)) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "needs shifts and, with axes, naxes >= 0");
    return NULL;
  }
  int64_t total[LZ_MAX_NDIM] = {0};
  for (int i = 0; axes && i < naxes; i++) { /* a repeated axis adds its shifts, as numpy */
    int ax = lz__norm_axis(op, axes[i], a->ndim);
    if (ax < 0) return NULL;
    total[ax] += shifts[i];
  }
  lz_scope_begin();
  lz_array *x = a;
  if (!axes) {
    x = roll_axis(lz_flatten(a, 0, -1), shifts[0], 0);
    x = lz_reshape(x, a->shape, a->ndim);
  } else {
    for (int d = 0; d < a->ndim && x; d++) x = roll_axis(x, total[d], d);
  }
  return composite_end(x == a ? lz_retain(a) : x);
}

/* ---- diag and kron ---- */

lz_array *lz_diag(lz_array *a, int k) {
  const char *op = "lz_diag";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  if (a->ndim == 2) return lz_diagonal(a, k, 0, 1);
  if (a->ndim != 1) {
    char s[256];
    lz__error(LZ_ERROR_SHAPE, op, "needs a 1-D or 2-D array, got shape %s",
              lz__fmt_shape(s, sizeof s, a->shape, a->ndim));
    return NULL;
  }
  int64_t n = (int64_t)a->shape[0] + (k < 0 ? -(int64_t)k : k);
  if (check_dim(op, n) != 0) return NULL;
  int shape[2] = {(int)n, (int)n};
  lz_k_params p = {k};
  return lz__make(LZ_OP_DIAG, &p, &a, 1, a->dtype, shape, 2);
}

lz_array *lz_kron(lz_array *a, lz_array *b) {
  const char *op = "lz_kron";
  lz_array *in[2] = {a, b};
  if (!lz__check_inputs(op, in, 2)) return NULL;
  int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
  if (2 * nd > LZ_MAX_NDIM) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "inputs of %d dims need more than %d dims", nd,
              LZ_MAX_NDIM);
    return NULL;
  }
  /* a as (a0,1,a1,1,...) times b as (1,b0,1,b1,...) is (a0,b0,a1,b1,...); merge the pairs. */
  int sa[LZ_MAX_NDIM], sb[LZ_MAX_NDIM], res[LZ_MAX_NDIM];
  for (int d = 0; d < nd; d++) {
    int ia = d - (nd - a->ndim), ib = d - (nd - b->ndim);
    int da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
    sa[2 * d] = da, sa[2 * d + 1] = 1;
    sb[2 * d] = 1, sb[2 * d + 1] = db;
    if (check_dim(op, (int64_t)da * db) != 0) return NULL;
    res[d] = da * db;
  }
  lz_scope_begin();
  lz_array *x = lz_multiply(lz_reshape(a, sa, 2 * nd), lz_reshape(b, sb, 2 * nd));
  return composite_end(lz_reshape(x, res, nd));
}
