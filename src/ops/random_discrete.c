/* Random ops with discrete results: randint (a composite of bits and integer ops), bernoulli,
 * categorical and permutation. Kernels are in cpu/random.c (bernoulli) and
 * cpu/random_select.c. */
#include "random_impl.h"

/* MLX's randint, exact at any magnitude: raw random bits (two 32-bit draws for 64-bit dtypes,
 * from the two halves of a split key, or two keys of the global sequence) reduced modulo the
 * width high - low computed in uint64, added to low in uint64 and converted to dtype. */
static lz_array *randint_draw(lz_array *low, lz_array *high, const int *shape, int ndim,
                              lz_dtype dtype, lz_array *key) {
  const lz_dtype u64 = LZ_UINT64;
  bool wide = dtype == LZ_INT64 || dtype == LZ_UINT64;
  lz_dtype cmp = lz_dtype_is_integer(dtype) && !lz_dtype_is_signed(dtype) ? u64 : LZ_INT64;
  lz_array *lo = lz_astype(lz_astype(low, LZ_INT64), u64);
  lz_array *width = lz_subtract(lz_astype(lz_astype(high, LZ_INT64), u64), lo);
  lz_array *empty = lz_less_equal(lz_astype(high, cmp), lz_astype(low, cmp));
  lz_array *range = lz_where(empty, lz_scalar(1, u64), width); /* an empty range gives low */
  lz_array *raw;
  if (wide) {
    lz_array *k1 = NULL, *k2 = NULL;
    if (key && lz_random_split_pair(key, &k1, &k2) != 0) return NULL;
    lz_array *b1 = lz_random_bits(shape, ndim, 4, k1);
    lz_array *b2 = b1 ? lz_random_bits(shape, ndim, 4, k2) : NULL;
    raw = lz_bitwise_or(lz_left_shift(lz_astype(b2, u64), lz_scalar(32, u64)), lz_astype(b1, u64));
  } else {
    raw = lz_astype(lz_random_bits(shape, ndim, 4, key), u64);
  }
  return lz_astype(lz_add(lo, lz_remainder(raw, range)), dtype);
}

lz_array *lz_random_randint(lz_array *low, lz_array *high, const int *shape, int ndim,
                            lz_dtype dtype, lz_array *key) {
  const char *op = "lz_random_randint";
  lz_array *in[2] = {low, high};
  if (!lz__check_inputs(op, in, 2) || (key && !lz__check_inputs(op, &key, 1))) return NULL;
  if (!lz__dtype_valid(dtype) || !(dtype == LZ_BOOL || lz_dtype_is_integer(dtype))) {
    lz__error(LZ_ERROR_DTYPE, op, "dtype must be an integer type or bool, got %s",
              lz_dtype_name(dtype));
    return NULL;
  }
  if (low->dtype == LZ_COMPLEX64 || high->dtype == LZ_COMPLEX64) {
    lz__error(LZ_ERROR_DTYPE, op, "low and high must be real, got %s and %s",
              lz_dtype_name(low->dtype), lz_dtype_name(high->dtype));
    return NULL;
  }
  if (lz__random_check_shape(op, shape, ndim) != 0) return NULL;
  int b[LZ_MAX_NDIM];
  int nb = lz__broadcast_shapes(op, low->shape, low->ndim, high->shape, high->ndim, b);
  if (nb < 0 || lz__random_check_broadcast(op, shape, ndim, b, nb) != 0) return NULL;
  if (lz__random_check_key(op, key) != 0) return NULL;
  lz_scope_begin();
  lz_array *out = lz_keep(randint_draw(low, high, shape, ndim, dtype, key));
  lz_scope_end();
  return out;
}

lz_array *lz_random_bernoulli(lz_array *prob, const int *shape, int ndim, lz_array *key) {
  const char *op = "lz_random_bernoulli";
  if (!lz__check_inputs(op, &prob, 1) || (key && !lz__check_inputs(op, &key, 1))) return NULL;
  if (!lz_dtype_is_float(prob->dtype)) {
    lz__error(LZ_ERROR_DTYPE, op, "p must have a float dtype, got %s", lz_dtype_name(prob->dtype));
    return NULL;
  }
  if (!shape && ndim == 0) {
    shape = prob->shape;
    ndim = prob->ndim;
  }
  if (lz__random_check_shape(op, shape, ndim) != 0) return NULL;
  if (lz__random_check_broadcast(op, shape, ndim, prob->shape, prob->ndim) != 0) return NULL;
  if (lz__random_check_key(op, key) != 0) return NULL;
  lz_random_params p = {.dtype = prob->dtype};
  return lz__random_make(op, LZ_OP_RANDOM_BERNOULLI, &p, key, &prob, 1, LZ_BOOL, shape, ndim);
}

/* ---- categorical ---- */

/* Records a categorical draw once the gumbel noise's shape is known: `p` holds gshape and the
 * category axis, `shape` is the result's shape. */
static lz_array *categorical(const char *op, lz_array *logits, lz_random_params *p,
                             const int *shape, int ndim, lz_array *key) {
  int64_t size = 1;
  for (int d = 0; d < ndim; d++) size *= shape[d];
  if (p->gshape[p->gaxis] == 0 && size > 0) {
    lz__error(LZ_ERROR_SHAPE, op, "cannot sample from zero categories along axis %d", p->axis);
    return NULL;
  }
  if (lz__random_check_key(op, key) != 0) return NULL;
  /* The noise is float32; logits add to it in float32, or in float64 for float64 logits. */
  lz_array *l = lz__cast(op, logits, logits->dtype == LZ_FLOAT64 ? LZ_FLOAT64 : LZ_FLOAT32);
  if (!l) return NULL;
  lz_array *out =
      lz__random_make(op, LZ_OP_RANDOM_CATEGORICAL, p, key, &l, 1, LZ_UINT32, shape, ndim);
  lz__uncast(l, logits);
  return out;
}

/* Checks logits and the axis; fills p->axis. */
static int check_logits(const char *op, lz_array *logits, int axis, lz_array *key,
                        lz_random_params *p) {
  if (!lz__check_inputs(op, &logits, 1) || (key && !lz__check_inputs(op, &key, 1))) return -1;
  if (logits->dtype == LZ_COMPLEX64)
    return lz__error(LZ_ERROR_DTYPE, op, "logits must be real, got complex64");
  p->axis = lz__norm_axis(op, axis, logits->ndim);
  return p->axis < 0 ? -1 : 0;
}

lz_array *lz_random_categorical(lz_array *logits, int axis, int num_samples, lz_array *key) {
  const char *op = "lz_random_categorical";
  lz_random_params p = {.dtype = LZ_FLOAT32};
  if (check_logits(op, logits, axis, key, &p) != 0) return NULL;
  if (num_samples < 0) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "num_samples must be >= 0, got %d", num_samples);
    return NULL;
  }
  /* The noise has logits' shape (plus a samples axis); the result drops the category axis. */
  int shape[LZ_MAX_NDIM], nd = 0;
  for (int d = 0; d < logits->ndim; d++) {
    p.gshape[p.gndim++] = logits->shape[d];
    if (d != p.axis) shape[nd++] = logits->shape[d];
  }
  if (num_samples > 0) {
    p.gshape[p.gndim++] = num_samples;
    shape[nd++] = num_samples;
    p.logits_expanded = true;
  }
  p.gaxis = p.axis;
  return categorical(op, logits, &p, shape, nd, key);
}

lz_array *lz_random_categorical_shape(lz_array *logits, int axis, const int *shape, int ndim,
                                      lz_array *key) {
  const char *op = "lz_random_categorical_shape";
  lz_random_params p = {.dtype = LZ_FLOAT32};
  if (check_logits(op, logits, axis, key, &p) != 0) return NULL;
  if (lz__random_check_shape(op, shape, ndim) != 0) return NULL;
  int reduced[LZ_MAX_NDIM], nr = 0;
  for (int d = 0; d < logits->ndim; d++)
    if (d != p.axis) reduced[nr++] = logits->shape[d];
  if (lz__random_check_broadcast(op, shape, ndim, reduced, nr) != 0) return NULL;
  /* ndim >= nr here, so the category axis lands at axis + (ndim - nr) of the noise. */
  p.gaxis = p.axis + ndim - nr;
  for (int d = 0, s = 0; d <= ndim; d++)
    p.gshape[p.gndim++] = d == p.gaxis ? logits->shape[p.axis] : shape[s++];
  return categorical(op, logits, &p, shape, ndim, key);
}

/* ---- permutation ---- */

lz_array *lz_random_permutation(int n, lz_array *key) {
  const char *op = "lz_random_permutation";
  if (key && !lz__check_inputs(op, &key, 1)) return NULL;
  if (n < 0) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "n must be >= 0, got %d", n);
    return NULL;
  }
  if (lz__random_check_key(op, key) != 0) return NULL;
  int shape[1] = {n};
  lz_random_params p = {.dtype = LZ_UINT32};
  return lz__random_make(op, LZ_OP_RANDOM_PERMUTATION, &p, key, NULL, 0, LZ_UINT32, shape, 1);
}

lz_array *lz_random_permutation_array(lz_array *x, int axis, lz_array *key) {
  const char *op = "lz_random_permutation_array";
  if (!lz__check_inputs(op, &x, 1) || (key && !lz__check_inputs(op, &key, 1))) return NULL;
  lz_random_params p = {.dtype = x->dtype};
  p.axis = lz__norm_axis(op, axis, x->ndim);
  if (p.axis < 0 || lz__random_check_key(op, key) != 0) return NULL;
  return lz__random_make(op, LZ_OP_RANDOM_PERMUTATION, &p, key, &x, 1, x->dtype, x->shape, x->ndim);
}

/* ---- registry entries ---- */

#define RANDOM_OP(NAME, KERNEL, FLAGS)                                                             \
  const lz_op_def lz_opdef_##NAME = {                                                              \
      .name = #NAME,                                                                               \
      .flags = LZ_OPF_RANDOM | (FLAGS),                                                            \
      .params_size = sizeof(lz_random_params),                                                     \
      .cpu = KERNEL,                                                                               \
  };

RANDOM_OP(random_bernoulli, lz_cpu_random_bernoulli, 0)
RANDOM_OP(random_categorical, lz_cpu_random_categorical, 0)
RANDOM_OP(random_permutation, lz_cpu_random_permutation, LZ_OPF_DIFFERENTIABLE)
