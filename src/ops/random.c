/* Random ops: keys and the global key sequence, bits, split, and the continuous samplers
 * (uniform, normal, truncated normal, gumbel, laplace). Constructors validate and record one
 * node whose input 0 is the key; kernels are in cpu/random.c. */
#include "random_impl.h"

#include <pthread.h>
#include <time.h>

/* ---- shared checks ---- */

int lz__random_check_shape(const char *op, const int *shape, int ndim) {
  if (ndim < 0 || ndim > LZ_MAX_NDIM)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "ndim %d is outside [0, %d]", ndim,
                     LZ_MAX_NDIM);
  if (ndim > 0 && !shape)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "shape is NULL with ndim %d", ndim);
  for (int d = 0; d < ndim; d++) {
    if (shape[d] < 0) {
      char s[256];
      return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "negative dimension in shape %s",
                       lz__fmt_shape(s, sizeof s, shape, ndim));
    }
  }
  return 0;
}

int lz__random_check_broadcast(const char *op, const int *shape, int ndim, const int *pshape,
                               int pndim) {
  int b[LZ_MAX_NDIM];
  int nb = lz__broadcast_shapes(op, shape, ndim, pshape, pndim, b);
  if (nb < 0) return -1;
  bool same = nb == ndim;
  for (int d = 0; same && d < nb; d++) same = b[d] == shape[d];
  if (!same) {
    char s[256], t[256];
    return lz__error(LZ_ERROR_SHAPE, op,
                     "cannot generate random values of shape %s from broadcast shape %s",
                     lz__fmt_shape(s, sizeof s, shape, ndim), lz__fmt_shape(t, sizeof t, b, nb));
  }
  return 0;
}

int lz__random_check_key(const char *op, lz_array *key) {
  if (!key) return 0; /* no key: the global key sequence */
  if (key->dtype != LZ_UINT32)
    return lz__error(LZ_ERROR_DTYPE, op, "expected a key of dtype uint32, got %s",
                     lz_dtype_name(key->dtype));
  if (key->ndim != 1 || key->shape[0] != 2) {
    char s[256];
    return lz__error(LZ_ERROR_SHAPE, op, "expected a key of shape (2), got %s",
                     lz__fmt_shape(s, sizeof s, key->shape, key->ndim));
  }
  return 0;
}

/* ---- the global key sequence ---- */

static struct {
  pthread_mutex_t mu;
  bool seeded;
  uint32_t key[2];
} global = {PTHREAD_MUTEX_INITIALIZER, false, {0, 0}};

static void key_words(uint64_t seed, uint32_t out[2]) {
  out[0] = (uint32_t)(seed >> 32);
  out[1] = (uint32_t)seed;
}

void lz_random_seed(uint64_t seed) {
  pthread_mutex_lock(&global.mu);
  key_words(seed, global.key);
  global.seeded = true;
  pthread_mutex_unlock(&global.mu);
}

/* Advances the sequence: (state, next) = split(state). */
static void global_next(uint32_t out[2]) {
  pthread_mutex_lock(&global.mu);
  if (!global.seeded) { /* like MLX, an unseeded sequence starts from the clock */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    key_words((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec, global.key);
    global.seeded = true;
  }
  uint32_t w[4];
  lz_cpu_random_split2(global.key[0], global.key[1], w);
  global.key[0] = w[0], global.key[1] = w[1];
  out[0] = w[2], out[1] = w[3];
  pthread_mutex_unlock(&global.mu);
}

lz_array *lz__random_take_key(const char *op, lz_array *key) {
  if (key) {
    lz__array_incref(key);
    return key;
  }
  int shape[1] = {2};
  lz_array *k = lz__array_new_data(LZ_UINT32, shape, 1, op);
  if (!k) return NULL;
  global_next((uint32_t *)k->buf->data);
  return k;
}

lz_array *lz__random_make(const char *name, int op, const lz_random_params *p, lz_array *key,
                          lz_array *const *params, int nparams, lz_dtype dtype, const int *shape,
                          int ndim) {
  lz_array *in[5];
  if (!LZ_ASSERT(nparams <= 4)) return NULL;
  in[0] = lz__random_take_key(name, key);
  if (!in[0]) return NULL;
  for (int k = 0; k < nparams; k++) in[k + 1] = params[k];
  lz_array *out = lz__make(op, p, in, nparams + 1, dtype, shape, ndim);
  lz__array_decref(in[0]);
  return out;
}

/* ---- keys, bits, split ---- */

lz_array *lz_random_key(uint64_t seed) {
  uint32_t w[2];
  key_words(seed, w);
  int shape[1] = {2};
  return lz_array_from_data(w, shape, 1, LZ_UINT32);
}

static lz_array *bits(const char *name, const int *shape, int ndim, int width, lz_array *key) {
  if (lz__random_check_shape(name, shape, ndim) != 0) return NULL;
  if (width != 1 && width != 2 && width != 4) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, name, "bit width must be 1, 2 or 4 bytes, got %d", width);
    return NULL;
  }
  if (lz__random_check_key(name, key) != 0) return NULL;
  lz_random_params p = {.width = width};
  lz_dtype dt = width == 4 ? LZ_UINT32 : width == 2 ? LZ_UINT16 : LZ_UINT8;
  return lz__random_make(name, LZ_OP_RANDOM_BITS, &p, key, NULL, 0, dt, shape, ndim);
}

lz_array *lz_random_bits(const int *shape, int ndim, int width, lz_array *key) {
  if (key && !lz__check_inputs("lz_random_bits", &key, 1)) return NULL;
  return bits("lz_random_bits", shape, ndim, width, key);
}

lz_array *lz_random_split(lz_array *key, int num) {
  if (!lz__check_inputs("lz_random_split", &key, 1)) return NULL;
  if (num < 0) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_random_split", "num must be >= 0, got %d", num);
    return NULL;
  }
  int shape[2] = {num, 2};
  return bits("lz_random_split", shape, 2, 4, key);
}

int lz_random_split_pair(lz_array *key, lz_array **first, lz_array **second) {
  const char *name = "lz_random_split_pair";
  lz_array *outs[2] = {NULL, NULL};
  if (first) *first = NULL;
  if (second) *second = NULL;
  if (!first || !second)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, name, "first and second must not be NULL");
  if (!lz__check_inputs(name, &key, 1) || lz__random_check_key(name, key) != 0) return -1;
  int shape[1] = {2}, nd[2] = {1, 1};
  const int *shapes[2] = {shape, shape};
  lz_dtype dts[2] = {LZ_UINT32, LZ_UINT32};
  if (lz__make_multi(LZ_OP_RANDOM_SPLIT, NULL, &key, 1, 2, dts, shapes, nd, outs) != 0) return -1;
  *first = outs[0];
  *second = outs[1];
  return 0;
}

/* ---- continuous samplers ---- */

/* float16, bfloat16, float32, and float64 where `f64` allows it. */
static int check_float_dtype(const char *op, lz_dtype dtype, bool f64) {
  if (dtype == LZ_FLOAT16 || dtype == LZ_BFLOAT16 || dtype == LZ_FLOAT32 ||
      (f64 && dtype == LZ_FLOAT64))
    return 0;
  return lz__error(LZ_ERROR_DTYPE, op, "dtype must be float16, bfloat16%s, got %s",
                   f64 ? ", float32 or float64" : " or float32", lz_dtype_name(dtype));
}

static int check_real(const char *op, lz_array *a, const char *what) {
  if (a->dtype != LZ_COMPLEX64) return 0;
  return lz__error(LZ_ERROR_DTYPE, op, "%s must be real, got complex64", what);
}

/* The bounds of uniform and truncated_normal: both real, broadcast together and against
 * `shape` (a NULL shape takes their broadcast shape, written to *shape_out). */
static int check_bounds(const char *op, lz_array *lo, lz_array *hi, const char *what,
                        const int **shape, int *ndim, int *bshape) {
  lz_array *in[2] = {lo, hi};
  if (!lz__check_inputs(op, in, 2)) return -1;
  if (check_real(op, lo, what) != 0 || check_real(op, hi, what) != 0) return -1;
  int nb = lz__broadcast_shapes(op, lo->shape, lo->ndim, hi->shape, hi->ndim, bshape);
  if (nb < 0) return -1;
  if (!*shape) {
    *shape = bshape;
    *ndim = nb;
    return 0;
  }
  if (lz__random_check_shape(op, *shape, *ndim) != 0) return -1;
  return lz__random_check_broadcast(op, *shape, *ndim, bshape, nb);
}

/* Records a sampler whose two bound arrays are converted to `cast`. */
static lz_array *bounded(const char *op, int id, const lz_random_params *p, lz_array *lo,
                         lz_array *hi, lz_dtype cast, lz_dtype dtype, const int *shape, int ndim,
                         lz_array *key) {
  lz_array *clo = lz__cast(op, lo, cast), *chi = clo ? lz__cast(op, hi, cast) : NULL, *out = NULL;
  if (clo && chi) {
    lz_array *params[2] = {clo, chi};
    out = lz__random_make(op, id, p, key, params, 2, dtype, shape, ndim);
  }
  if (clo) lz__uncast(clo, lo);
  if (chi) lz__uncast(chi, hi);
  return out;
}

lz_array *lz_random_uniform(lz_array *low, lz_array *high, const int *shape, int ndim,
                            lz_dtype dtype, lz_array *key) {
  const char *op = "lz_random_uniform";
  int bshape[LZ_MAX_NDIM];
  if (key && !lz__check_inputs(op, &key, 1)) return NULL;
  if (check_float_dtype(op, dtype, false) != 0) return NULL;
  if (lz__random_check_shape(op, shape, ndim) != 0) return NULL;
  static const int scalar[1] = {0};
  if (!shape) shape = scalar; /* ndim == 0 here: a scalar */
  if (check_bounds(op, low, high, "low and high", &shape, &ndim, bshape) != 0) return NULL;
  if (lz__random_check_key(op, key) != 0) return NULL;
  lz_random_params p = {.dtype = dtype};
  return bounded(op, LZ_OP_RANDOM_UNIFORM, &p, low, high, dtype, dtype, shape, ndim, key);
}

lz_array *lz_random_truncated_normal(lz_array *lower, lz_array *upper, const int *shape, int ndim,
                                     lz_dtype dtype, lz_array *key) {
  const char *op = "lz_random_truncated_normal";
  int bshape[LZ_MAX_NDIM];
  if (key && !lz__check_inputs(op, &key, 1)) return NULL;
  if (check_float_dtype(op, dtype, false) != 0) return NULL;
  if (check_bounds(op, lower, upper, "lower and upper", &shape, &ndim, bshape) != 0) return NULL;
  if (lz__random_check_key(op, key) != 0) return NULL;
  lz_random_params p = {.dtype = dtype};
  return bounded(op, LZ_OP_RANDOM_TRUNCATED_NORMAL, &p, lower, upper, dtype, dtype, shape, ndim,
                 key);
}

/* A sampler with no parameter arrays. */
static lz_array *plain(const char *op, int id, const int *shape, int ndim, lz_dtype dtype, bool f64,
                       double loc, double scale, lz_array *key) {
  if (key && !lz__check_inputs(op, &key, 1)) return NULL;
  if (check_float_dtype(op, dtype, f64) != 0) return NULL;
  if (lz__random_check_shape(op, shape, ndim) != 0) return NULL;
  if (lz__random_check_key(op, key) != 0) return NULL;
  lz_random_params p = {.dtype = dtype, .loc = loc, .scale = scale};
  return lz__random_make(op, id, &p, key, NULL, 0, dtype, shape, ndim);
}

lz_array *lz_random_normal(const int *shape, int ndim, lz_dtype dtype, double loc, double scale,
                           lz_array *key) {
  return plain("lz_random_normal", LZ_OP_RANDOM_NORMAL, shape, ndim, dtype, true, loc, scale, key);
}

lz_array *lz_random_gumbel(const int *shape, int ndim, lz_dtype dtype, lz_array *key) {
  return plain("lz_random_gumbel", LZ_OP_RANDOM_GUMBEL, shape, ndim, dtype, false, 0, 1, key);
}

lz_array *lz_random_laplace(const int *shape, int ndim, lz_dtype dtype, double loc, double scale,
                            lz_array *key) {
  return plain("lz_random_laplace", LZ_OP_RANDOM_LAPLACE, shape, ndim, dtype, true, loc, scale,
               key);
}

/* ---- registry entries ---- */

#define RANDOM_OP(NAME, KERNEL, FLAGS)                                                             \
  const lz_op_def lz_opdef_##NAME = {                                                              \
      .name = #NAME,                                                                               \
      .flags = LZ_OPF_RANDOM | (FLAGS),                                                            \
      .params_size = sizeof(lz_random_params),                                                     \
      .cpu = KERNEL,                                                                               \
  };

RANDOM_OP(random_bits, lz_cpu_random_bits, 0)
RANDOM_OP(random_split, lz_cpu_random_split, 0)
RANDOM_OP(random_uniform, lz_cpu_random_uniform, LZ_OPF_DIFFERENTIABLE)
RANDOM_OP(random_normal, lz_cpu_random_normal, 0)
RANDOM_OP(random_truncated_normal, lz_cpu_random_truncated_normal, LZ_OPF_DIFFERENTIABLE)
RANDOM_OP(random_gumbel, lz_cpu_random_gumbel, 0)
RANDOM_OP(random_laplace, lz_cpu_random_laplace, 0)
