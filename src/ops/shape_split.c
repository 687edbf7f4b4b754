/* Ops with several outputs: split and unstack (one node whose outputs view the input) and
 * broadcast_arrays. */
#include "shape_impl.h"

#include <stdlib.h>

const lz_op_def lz_opdef_split = {
    .name = "split",
    .flags = LZ_OPF_VIEW | LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_split_params),
    .cpu = lz_cpu_split,
};

enum { MAX_OUTPUTS = 65535 }; /* a node counts its outputs in 16 bits */

/* One split node with n outputs of lens[k] elements along `axis` (dropped when squeeze). */
static int split_make(const char *op, lz_array *a, int axis, bool squeeze, const int64_t *lens,
                      int n, lz_array **outs) {
  if (n == 0) return 0;
  if (n > MAX_OUTPUTS)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%d outputs is more than %d", n, MAX_OUTPUTS);
  int nd = squeeze ? a->ndim - 1 : a->ndim;
  size_t bytes = (size_t)n * (sizeof(int *) + sizeof(int) + sizeof(lz_dtype)) +
                 (size_t)n * (size_t)(nd ? nd : 1) * sizeof(int);
  char *mem = lz__malloc(bytes);
  if (!mem) return lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
  const int **shapes = (const int **)mem;
  int *ndims = (int *)(shapes + n);
  lz_dtype *dtypes = (lz_dtype *)(ndims + n);
  int *dims = (int *)(dtypes + n);
  for (int k = 0; k < n; k++) {
    int *s = dims + (size_t)k * (size_t)(nd ? nd : 1);
    for (int d = 0, j = 0; d < a->ndim; d++) {
      if (d == axis && squeeze) continue;
      s[j++] = d == axis ? (int)lens[k] : a->shape[d];
    }
    shapes[k] = s, ndims[k] = nd, dtypes[k] = a->dtype;
  }
  lz_split_params p = {axis, squeeze};
  int rc = lz__make_multi(LZ_OP_SPLIT, &p, &a, 1, n, dtypes, shapes, ndims, outs);
  free(mem);
  return rc;
}

/* Validates outs and sets its n entries to NULL, so every error path leaves them NULL. */
static int prepare_outs(const char *op, lz_array **outs, int n) {
  if (n > 0 && !outs) return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "outs is NULL");
  for (int k = 0; k < n; k++) outs[k] = NULL;
  return 0;
}

int lz_split(lz_array *a, int sections, int axis, lz_array **outs) {
  const char *op = "lz_split";
  if (sections <= 0)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "sections must be positive, got %d", sections);
  if (prepare_outs(op, outs, sections) != 0) return -1;
  if (!lz__check_inputs(op, &a, 1)) return -1;
  int ax = lz__norm_axis(op, axis, a->ndim);
  if (ax < 0) return -1;
  if (a->shape[ax] % sections != 0) {
    char s[256];
    return lz__error(LZ_ERROR_SHAPE, op,
                     "axis %d of shape %s cannot be split into %d sections of equal size", axis,
                     lz__fmt_shape(s, sizeof s, a->shape, a->ndim), sections);
  }
  if (sections > MAX_OUTPUTS)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%d outputs is more than %d", sections,
                     MAX_OUTPUTS);
  int64_t *l = lz__malloc((size_t)sections * sizeof(int64_t));
  if (!l) return lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
  for (int k = 0; k < sections; k++) l[k] = a->shape[ax] / sections;
  int rc = split_make(op, a, ax, false, l, sections, outs);
  free(l);
  return rc;
}

int lz_split_indices(lz_array *a, const int *indices, int n, int axis, lz_array **outs) {
  const char *op = "lz_split_indices";
  if (n < 0 || (n > 0 && !indices))
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "bad index list (n = %d)", n);
  if (n >= MAX_OUTPUTS)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%d outputs is more than %d", n + 1,
                     MAX_OUTPUTS);
  if (prepare_outs(op, outs, n + 1) != 0) return -1;
  if (!lz__check_inputs(op, &a, 1)) return -1;
  int ax = lz__norm_axis(op, axis, a->ndim);
  if (ax < 0) return -1;
  int64_t *first = lz__malloc((size_t)(n + 1) * 2 * sizeof(int64_t));
  if (!first) return lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
  int64_t *lens = first + n + 1, dim = a->shape[ax], pos = 0;
  bool adjacent = true; /* every part starts where the previous ones end: one split node */
  for (int k = 0; k <= n; k++) {
    int64_t start = k > 0 ? indices[k - 1] : 0, stop = k < n ? indices[k] : dim;
    lz__norm_slice(dim, start, stop, 1, &first[k], &lens[k]);
    if (lens[k] > 0 && first[k] != pos) adjacent = false;
    pos += lens[k];
  }
  int rc = 0;
  if (adjacent) {
    rc = split_make(op, a, ax, false, lens, n + 1, outs);
  } else { /* overlapping or reordered parts: one slice each */
    for (int k = 0; k <= n && rc == 0; k++) {
      int64_t start = k > 0 ? indices[k - 1] : 0, stop = k < n ? indices[k] : dim;
      outs[k] = lz__slice_axis(op, a, ax, start, stop, 1);
      if (!outs[k]) rc = -1;
    }
    for (int k = 0; rc != 0 && k <= n; k++) lz_free(outs[k]), outs[k] = NULL;
  }
  free(first);
  return rc;
}

int lz_unstack(lz_array *a, int axis, lz_array **outs) {
  const char *op = "lz_unstack";
  if (!lz__check_inputs(op, &a, 1)) return -1;
  if (a->ndim == 0) return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "cannot unstack a 0-d array");
  int ax = lz__norm_axis(op, axis, a->ndim);
  if (ax < 0) return -1;
  int n = a->shape[ax];
  if (prepare_outs(op, outs, n) != 0) return -1;
  if (n > MAX_OUTPUTS)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%d outputs is more than %d", n, MAX_OUTPUTS);
  int64_t *l = lz__malloc((size_t)(n ? n : 1) * sizeof(int64_t));
  if (!l) return lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
  for (int k = 0; k < n; k++) l[k] = 1;
  int rc = split_make(op, a, ax, true, l, n, outs);
  free(l);
  return rc;
}

int lz_broadcast_arrays(lz_array *const *arrays, int n, lz_array **outs) {
  const char *op = "lz_broadcast_arrays";
  if (n < 0 || (n > 0 && !arrays))
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "bad array list (n = %d)", n);
  if (prepare_outs(op, outs, n) != 0) return -1;
  if (!lz__check_inputs(op, arrays, n)) return -1;
  int shape[LZ_MAX_NDIM], nd = 0;
  for (int i = 0; i < n; i++) {
    int next[LZ_MAX_NDIM];
    nd = lz__broadcast_shapes(op, shape, nd, arrays[i]->shape, arrays[i]->ndim, next);
    if (nd < 0) return -1;
    memcpy(shape, next, (size_t)nd * sizeof(int));
  }
  for (int i = 0; i < n; i++) {
    outs[i] = lz_broadcast_to(arrays[i], shape, nd);
    if (!outs[i]) {
      for (int k = 0; k < i; k++) lz_free(outs[k]), outs[k] = NULL;
      return -1;
    }
  }
  return 0;
}
