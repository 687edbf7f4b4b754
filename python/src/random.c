/* lazuli.core.random: MLX's random module over lz_random_*. Every sampler takes `key=`; without
 * one it takes the next key of the global sequence, which lives, as in MLX, in the Python list
 * `random.state` ([key]): each implicit draw splits state[0] into (new state, subkey). `seed`
 * replaces state[0] with key(seed); the first key comes from the time in milliseconds. Keeping
 * the state in Python makes it visible to compile's captured state, as MLX's is. */
#include "ops_impl.h"

#include <string.h>
#include <time.h>

static PyObject *state; /* the list `random.state`, owned by the module */

/* The key to sample with: `okey` when given (a new reference), else the next global key. */
static lz_array *take_key(PyObject *okey) {
  if (okey && okey != Py_None) return pylz_to_array(okey);
  if (!state || !PyList_Check(state) || PyList_GET_SIZE(state) < 1 ||
      !PyLzArray_Check(PyList_GET_ITEM(state, 0))) {
    PyErr_SetString(PyExc_TypeError, "[random] random.state[0] must be a key array");
    return NULL;
  }
  lz_array *k = ((PyLzArray *)PyList_GET_ITEM(state, 0))->a, *first = NULL, *second = NULL;
  if (lz_random_split_pair(k, &first, &second) < 0) {
    pylz_raise();
    return NULL;
  }
  PyObject *next = pylz_wrap(first);
  if (!next) {
    lz_free(second);
    return NULL;
  }
  if (PyList_SetItem(state, 0, next) < 0) {
    lz_free(second);
    return NULL;
  }
  return second;
}

static int parse_u64(PyObject *o, uint64_t *out, const char *what) {
  if (!o || PyFloat_Check(o) || !PyLong_Check(o)) return pyops_type_error(what, "an int", o);
  unsigned long long v = PyLong_AsUnsignedLongLong(o);
  if (v == (unsigned long long)-1 && PyErr_Occurred()) {
    PyErr_Clear();
    long long s = PyLong_AsLongLong(o);
    if (s == -1 && PyErr_Occurred()) return -1;
    v = (unsigned long long)s; /* a negative seed wraps, as a C++ uint64_t conversion does */
  }
  *out = v;
  return 0;
}

static PyObject *py_seed(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "seed";
  static char *kws[] = {"seed", NULL};
  PyObject *oseed;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O:seed", kws, &oseed)) return NULL;
  uint64_t s = 0;
  if (parse_u64(oseed, &s, "seed") < 0) return NULL;
  PyObject *k = pylz_wrap(lz_random_key(s));
  if (!k) return NULL;
  if (PyList_GET_SIZE(state) < 1) {
    int rc = PyList_Append(state, k);
    Py_DECREF(k);
    if (rc < 0) return NULL;
  } else if (PyList_SetItem(state, 0, k) < 0) { /* steals k */
    return NULL;
  }
  Py_RETURN_NONE;
}

static PyObject *py_key(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "key";
  static char *kws[] = {"seed", NULL};
  PyObject *oseed;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O:key", kws, &oseed)) return NULL;
  uint64_t s = 0;
  if (parse_u64(oseed, &s, "seed") < 0) return NULL;
  return pylz_wrap(lz_random_key(s));
}

static PyObject *py_split(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "split";
  static char *kws[] = {"key", "num", "stream", NULL};
  PyObject *okey, *onum = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OO:split", kws, &okey, &onum, &stream)) return NULL;
  int num = 2;
  if (onum && pyops_int(onum, &num, "num") < 0) return NULL;
  lz_array *k = pylz_to_array(okey);
  if (!k) return NULL;
  lz_array *r = lz_random_split(k, num);
  lz_free(k);
  return pylz_wrap(r);
}

/* Shape arguments: missing is [] (a scalar), None is *given = 0. */
static int parse_shape(PyObject *o, pyops_ints *shape, int *given) {
  *given = 1;
  shape->n = 0;
  if (!o) return 0;
  if (o == Py_None) {
    *given = 0;
    return 0;
  }
  return pyops_shape(o, shape, "shape");
}

static PyObject *py_uniform(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "uniform";
  static char *kws[] = {"low", "high", "shape", "dtype", "key", "stream", NULL};
  PyObject *olow = NULL, *ohigh = NULL, *oshape = NULL, *odt = Py_None, *okey = Py_None,
           *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOOOOO:uniform", kws, &olow, &ohigh, &oshape, &odt,
                                   &okey, &stream))
    return NULL;
  pyops_ints shape;
  int given;
  lz_dtype dt = LZ_FLOAT32;
  if (parse_shape(oshape, &shape, &given) < 0 || pyops_dtype(odt, &dt, "dtype") < 0) return NULL;
  lz_array *lo = NULL, *hi = NULL, *k = NULL;
  PyObject *res = NULL;
  if (!(lo = olow ? pylz_to_array(olow) : lz_float(0)) ||
      !(hi = ohigh ? pylz_to_array(ohigh) : lz_float(1)) || !(k = take_key(okey)))
    goto done;
  res = pylz_wrap(lz_random_uniform(lo, hi, shape.v, shape.n, dt, k));
done:
  PYOPS_FREE(lo, hi, k);
  return res;
}

/* A float, or an array (*arr set) for loc/scale. */
static int float_or_array(PyObject *o, double *v, lz_array **arr, const char *what) {
  *arr = NULL;
  if (!o || o == Py_None) return 0;
  if (PyFloat_Check(o) || PyLong_Check(o)) return pyops_double(o, v, what);
  *arr = pylz_to_array(o);
  return *arr ? 0 : -1;
}

/* normal and laplace: fn(shape, ndim, dtype, loc, scale, key); array loc/scale apply after a
 * standard draw (samples * scale + loc), as MLX does. */
static PyObject *loc_scale_impl(PyObject *args, PyObject *kw,
                                lz_array *(*fn)(const int *, int, lz_dtype, double, double,
                                                lz_array *)) {
  static char *kws[] = {"shape", "dtype", "loc", "scale", "key", "stream", NULL};
  PyObject *oshape = NULL, *odt = Py_None, *oloc = NULL, *oscale = NULL, *okey = Py_None,
           *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOOOOO", kws, &oshape, &odt, &oloc, &oscale, &okey,
                                   &stream))
    return NULL;
  pyops_ints shape;
  int given;
  lz_dtype dt = LZ_FLOAT32;
  double loc = 0, scale = 1;
  lz_array *aloc = NULL, *ascale = NULL, *k = NULL;
  PyObject *res = NULL;
  if (parse_shape(oshape, &shape, &given) < 0 || pyops_dtype(odt, &dt, "dtype") < 0 ||
      float_or_array(oloc, &loc, &aloc, "loc") < 0 ||
      float_or_array(oscale, &scale, &ascale, "scale") < 0 || !(k = take_key(okey)))
    goto done;
  if (!aloc && !ascale) {
    res = pylz_wrap(fn(shape.v, shape.n, dt, loc, scale, k));
  } else {
    lz_scope_begin();
    lz_array *r = fn(shape.v, shape.n, dt, 0, 1, k);
    r = lz_multiply(r, ascale ? ascale : lz_float(scale));
    r = lz_keep(lz_add(r, aloc ? aloc : lz_float(loc)));
    lz_scope_end();
    res = pylz_wrap(r);
  }
done:
  PYOPS_FREE(aloc, ascale, k);
  return res;
}

static PyObject *py_normal(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "normal";
  return loc_scale_impl(args, kw, lz_random_normal);
}

static PyObject *py_laplace(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "laplace";
  return loc_scale_impl(args, kw, lz_random_laplace);
}

typedef lz_array *(*pair_fn)(lz_array *, lz_array *, const int *, int, lz_dtype, lz_array *);

/* f(a, b, /, shape, dtype, key): multivariate_normal, randint and truncated_normal, whose
 * samplers take two arrays, a shape, a dtype (default `dt`) and a key. `none_broadcasts`: the
 * shape defaults to None, which passes NULL (the broadcast shape of a and b); otherwise a
 * missing or None shape is (). */
static PyObject *pair_impl(PyObject *args, PyObject *kw, char **kws, const char *format,
                           lz_dtype dt, int none_broadcasts, pair_fn fn) {
  PyObject *oa, *ob, *oshape = none_broadcasts ? Py_None : NULL, *odt = Py_None, *okey = Py_None,
                     *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, format, kws, &oa, &ob, &oshape, &odt, &okey, &stream))
    return NULL;
  pyops_ints shape;
  int given;
  if (parse_shape(oshape, &shape, &given) < 0 || pyops_dtype(odt, &dt, "dtype") < 0) return NULL;
  lz_array *a, *b, *k;
  if (PYOPS_CONVERT(PYOPS_ARRAY(oa, &a), PYOPS_ARRAY(ob, &b)) < 0) return NULL;
  PyObject *res = NULL;
  if ((k = take_key(okey)))
    res = pylz_wrap(fn(a, b, given || !none_broadcasts ? shape.v : NULL, shape.n, dt, k));
  PYOPS_FREE(a, b, k);
  return res;
}

static PyObject *py_multivariate_normal(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "multivariate_normal";
  static char *kws[] = {"mean", "cov", "shape", "dtype", "key", "stream", NULL};
  return pair_impl(args, kw, kws, "OO|OOOO:multivariate_normal", LZ_FLOAT32, 0,
                   lz_random_multivariate_normal);
}

static PyObject *py_randint(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "randint";
  static char *kws[] = {"low", "high", "shape", "dtype", "key", "stream", NULL};
  return pair_impl(args, kw, kws, "OO|OOOO:randint", LZ_INT32, 0, lz_random_randint);
}

static PyObject *py_bernoulli(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "bernoulli";
  static char *kws[] = {"p", "shape", "key", "stream", NULL};
  PyObject *op = NULL, *oshape = Py_None, *okey = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOOO:bernoulli", kws, &op, &oshape, &okey, &stream))
    return NULL;
  pyops_ints shape;
  int given;
  if (parse_shape(oshape, &shape, &given) < 0) return NULL;
  lz_array *p = NULL, *k = NULL;
  PyObject *res = NULL;
  if ((p = op ? pylz_to_array(op) : lz_float(0.5)) && (k = take_key(okey)))
    res = pylz_wrap(lz_random_bernoulli(p, given ? shape.v : NULL, shape.n, k));
  PYOPS_FREE(p, k);
  return res;
}

static PyObject *py_truncated_normal(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "truncated_normal";
  static char *kws[] = {"lower", "upper", "shape", "dtype", "key", "stream", NULL};
  return pair_impl(args, kw, kws, "OO|OOOO:truncated_normal", LZ_FLOAT32, 1,
                   lz_random_truncated_normal);
}

static PyObject *py_gumbel(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "gumbel";
  static char *kws[] = {"shape", "dtype", "key", "stream", NULL};
  PyObject *oshape = NULL, *odt = Py_None, *okey = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOOO:gumbel", kws, &oshape, &odt, &okey, &stream))
    return NULL;
  pyops_ints shape;
  int given;
  lz_dtype dt = LZ_FLOAT32;
  if (parse_shape(oshape, &shape, &given) < 0 || pyops_dtype(odt, &dt, "dtype") < 0) return NULL;
  lz_array *k = take_key(okey);
  if (!k) return NULL;
  lz_array *r = lz_random_gumbel(shape.v, shape.n, dt, k);
  lz_free(k);
  return pylz_wrap(r);
}

static PyObject *py_categorical(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "categorical";
  static char *kws[] = {"logits", "axis", "shape", "num_samples", "key", "stream", NULL};
  PyObject *ologits, *oaxis = NULL, *oshape = Py_None, *onum = Py_None, *okey = Py_None,
                     *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOOOO:categorical", kws, &ologits, &oaxis, &oshape,
                                   &onum, &okey, &stream))
    return NULL;
  int axis = -1, num = 0, has_num, given;
  pyops_ints shape;
  if ((oaxis && pyops_int(oaxis, &axis, "axis") < 0) || parse_shape(oshape, &shape, &given) < 0 ||
      pyops_opt_int(onum, &num, &has_num, "num_samples") < 0)
    return NULL;
  if (given && has_num) {
    PyErr_SetString(PyExc_ValueError,
                    "[categorical] At most one of shape or num_samples can be specified.");
    return NULL;
  }
  if (has_num && num <= 0) {
    PyErr_Format(PyExc_ValueError, "[categorical] num_samples must be positive, got %d", num);
    return NULL;
  }
  lz_array *logits = NULL, *k = NULL;
  PyObject *res = NULL;
  if ((logits = pylz_to_array(ologits)) && (k = take_key(okey)))
    res = pylz_wrap(given ? lz_random_categorical_shape(logits, axis, shape.v, shape.n, k)
                          : lz_random_categorical(logits, axis, has_num ? num : 0, k));
  PYOPS_FREE(logits, k);
  return res;
}

static PyObject *py_permutation(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "permutation";
  static char *kws[] = {"x", "axis", "key", "stream", NULL};
  PyObject *ox, *oaxis = NULL, *okey = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOO:permutation", kws, &ox, &oaxis, &okey, &stream))
    return NULL;
  int axis = 0, n = 0, is_int = PyLong_Check(ox) && !PyBool_Check(ox);
  if ((oaxis && pyops_int(oaxis, &axis, "axis") < 0) || (is_int && pyops_int(ox, &n, "x") < 0))
    return NULL;
  if (is_int && n < 0) {
    PyErr_Format(PyExc_ValueError, "[permutation] x must be non-negative, got %d", n);
    return NULL;
  }
  lz_array *x = NULL, *k = NULL;
  PyObject *res = NULL;
  if ((is_int || (x = pylz_to_array(ox))) && (k = take_key(okey)))
    res = pylz_wrap(is_int ? lz_random_permutation(n, k) : lz_random_permutation_array(x, axis, k));
  PYOPS_FREE(x, k);
  return res;
}

static PyObject *py_bits(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "bits";
  static char *kws[] = {"shape", "width", "key", "stream", NULL};
  PyObject *oshape = NULL, *owidth = NULL, *okey = Py_None, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOOO:bits", kws, &oshape, &owidth, &okey, &stream))
    return NULL;
  pyops_ints shape;
  int given, width = 4;
  if (parse_shape(oshape, &shape, &given) < 0 || (owidth && pyops_int(owidth, &width, "width") < 0))
    return NULL;
  lz_array *k = take_key(okey);
  if (!k) return NULL;
  lz_array *r = lz_random_bits(shape.v, shape.n, width, k);
  lz_free(k);
  return pylz_wrap(r);
}

#define SK "key: array | None = None, stream: StreamOrDevice = None) -> array\n\n"

static PyMethodDef methods[] = {
    PYOPS_F("seed", py_seed,
            "seed(seed: int) -> None\n\nSeeds the global key sequence: ``state[0] = key(seed)``."),
    PYOPS_F("key", py_key,
            "key(seed: int) -> array\n\nThe key (a uint32 array of shape (2,)) of a seed."),
    PYOPS_F(
        "split", py_split,
        "split(key: array, num: int = 2, stream: StreamOrDevice = None) -> array\n\n``num`` new "
        "keys derived from ``key``, as a (num, 2) array."),
    PYOPS_F("uniform", py_uniform,
            "uniform(low: scalar | array = 0, high: scalar | array = 1, shape: Sequence[int] = [], "
            "dtype: Dtype | None = float32, " SK "Uniform samples in ``[low, high)``."),
    PYOPS_F(
        "normal", py_normal,
        "normal(shape: Sequence[int] = [], dtype: Dtype | None = float32, loc: scalar | array | "
        "None = None, scale: scalar | array | None = None, " SK
        "Normal samples with mean ``loc`` (0) and standard deviation ``scale`` (1)."),
    PYOPS_F(
        "multivariate_normal", py_multivariate_normal,
        "multivariate_normal(mean: array, cov: array, shape: Sequence[int] = [], dtype: Dtype | "
        "None = float32, " SK "Samples of the normal distribution with mean ``mean`` (..., n) and "
        "positive semi-definite covariance ``cov`` (..., n, n); float32 only."),
    PYOPS_F("randint", py_randint,
            "randint(low: scalar | array, high: scalar | array, shape: Sequence[int] = [], dtype: "
            "Dtype | None = int32, " SK "Random integers in ``[low, high)``."),
    PYOPS_F("bernoulli", py_bernoulli,
            "bernoulli(p: scalar | array = 0.5, shape: Sequence[int] | None = None, " SK
            "Bool samples that are true with probability ``p`` (shape: that of ``p`` by default)."),
    PYOPS_F("truncated_normal", py_truncated_normal,
            "truncated_normal(lower: scalar | array, upper: scalar | array, shape: Sequence[int] | "
            "None = None, dtype: Dtype | None = float32, " SK
            "Standard normal samples truncated to ``[lower, upper]``."),
    PYOPS_F("gumbel", py_gumbel,
            "gumbel(shape: Sequence[int] = [], dtype: Dtype | None = float32, " SK
            "Samples of the standard Gumbel distribution."),
    PYOPS_F("categorical", py_categorical,
            "categorical(logits: array, axis: int = -1, shape: Sequence[int] | None = None, "
            "num_samples: int | None = None, " SK
            "Category indices (uint32) drawn from the unnormalised log-probabilities ``logits`` "
            "along ``axis``; at most one of ``shape`` and ``num_samples``."),
    PYOPS_F("laplace", py_laplace,
            "laplace(shape: Sequence[int] = [], dtype: Dtype | None = float32, loc: float = 0.0, "
            "scale: float = 1.0, " SK "Samples of the Laplace distribution."),
    PYOPS_F("permutation", py_permutation,
            "permutation(x: int | array, axis: int = 0, " SK
            "A random permutation of ``range(x)``, or of ``x`` along ``axis``."),
    PYOPS_F("bits", py_bits,
            "bits(shape: Sequence[int] = [], width: int = 4, " SK
            "Random bits: uint32, uint16 or uint8 for a ``width`` of 4, 2 or 1 bytes."),
    {NULL, NULL, 0, NULL},
};

int pylz_init_random(PyObject *m) {
  PyObject *sub = pylz_add_submodule(m, "random", methods,
                                     "lazuli.core.random: random sampling with explicit or global "
                                     "keys, as mlx.core.random.");
  if (!sub) return -1;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)(ts.tv_nsec / 1000000);
  PyObject *k = pylz_wrap(lz_random_key(ms));
  if (!k) return -1;
  state = PyList_New(1);
  if (!state) {
    Py_DECREF(k);
    return -1;
  }
  PyList_SET_ITEM(state, 0, k);
  return PyModule_AddObjectRef(sub, "state", state); /* `state` keeps its own reference */
}
