/* nn.average_gradients: the mean of each gradient over a group, in few large messages. */
#include "nn/nn_impl.h"

/* all_sum(x) / size in x's dtype. */
static lz_array *average(lz_array *x, lz_group *g, int size) {
  return lz_astype(lz_divide(lz_all_sum(x, g), lz_int(size)), lz_array_dtype(x));
}

/* Averages grads[first, last) (values vals) as one message into out. */
static int average_bucket(lz_dict *out, const lz_dict *grads, lz_array **vals, size_t first,
                          size_t last, lz_group *g, int size) {
  size_t n = last - first;
  int rc = 0;
  lz_scope_begin();
  lz_array **flat = malloc(n * sizeof *flat), **parts = malloc(n * sizeof *parts);
  int *cuts = malloc((n ? n : 1) * sizeof *cuts), at = 0;
  if (!flat || !parts || !cuts) rc = -1;
  for (size_t i = 0; i < n && rc == 0; i++) {
    flat[i] = lz_reshape(vals[first + i], (int[]){-1}, 1);
    at += (int)lz_array_size(vals[first + i]);
    cuts[i] = at;
  }
  lz_array *big = rc == 0 ? average(lz_concatenate(flat, (int)n, 0), g, size) : NULL;
  if (!big || lz_split_indices(big, cuts, (int)n - 1, 0, parts) != 0) rc = -1;
  for (size_t i = 0; i < n && rc == 0; i++) {
    lz_array *v = vals[first + i];
    lz_array *p = lz_reshape(parts[i], lz_array_shape(v), lz_array_ndim(v));
    rc = p ? lz_dict_set(out, lz_dict_key(grads, first + i), p) : -1;
  }
  free(flat), free(parts), free(cuts);
  lz_scope_end();
  return rc;
}

lz_dict *lz_nn_average_gradients(const lz_dict *grads, lz_group *group, int64_t all_reduce_size) {
  const char *op = "lz_nn_average_gradients";
  if (!grads) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, op, "grads is NULL");
    return NULL;
  }
  lz_group *g = group ? group : lz_distributed_init("any", false);
  if (!g) return NULL;
  int size = lz_group_size(g);
  size_t n = lz_dict_size(grads);
  lz_dict *out = size == 1 ? lz_dict_copy(grads) : lz_dict_new();
  lz_array **vals = size == 1 ? NULL : malloc((n ? n : 1) * sizeof *vals);
  if (size > 1 && !vals) lz_dict_free(out), out = NULL;
  bool same_dtype = true;
  lz_scope_begin(); /* owns the values read from grads */
  size_t got = 0;
  for (; out && size > 1 && got < n; got++) {
    if (!(vals[got] = lz_dict_value(grads, got))) break; /* a string entry */
    same_dtype &= lz_array_dtype(vals[got]) == lz_array_dtype(vals[0]);
  }
  if (out && size > 1 && got < n) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, op, "entry '%s' is not an array",
                 lz_dict_key(grads, got));
    lz_dict_free(out), out = NULL;
  }
  /* Buckets of at least all_reduce_size bytes, in order (MLX's grouping). */
  int64_t limit = same_dtype ? all_reduce_size : 0;
  for (size_t first = 0, i = 0, bytes = 0; out && size > 1 && i < n; i++) {
    bytes += lz_array_size(vals[i]) * lz_dtype_size(lz_array_dtype(vals[i]));
    if (i + 1 < n && limit > 0 && (int64_t)bytes < limit) continue;
    if (average_bucket(out, grads, vals, first, i + 1, g, size) != 0)
      lz_dict_free(out), out = NULL;
    first = i + 1, bytes = 0;
  }
  lz_scope_end();
  free(vals);
  if (!group) lz_group_free(g);
  return out;
}
