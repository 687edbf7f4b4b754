/* lazuli.core: private argument helpers and the method-table row macro (PYOPS_F), written once
 * for every file of the extension: the module-level function files (ops_*.c, random.c,
 * linalg.c, fft.c, fast.c, io.c) use all of them, the others (operators, devices, transforms,
 * ...) the array conversions and PYOPS_F. Not part of pylz.h, which is the extension's core
 * contract.
 *
 * Functions that share a Python signature (every unary op, every binary op, the reductions,
 * scans, sorts, transforms) share one parser, `<family>_call(args, kw, lz function...)`; each
 * file lists its rows once in an X-macro (X(name, lz function, description)) that defines the
 * thin py_<name> entry points and their PyMethodDef rows, so every function is a plain module
 * function (help() shows it as such) with MLX's signature at the top of its docstring.
 *
 * Argument conventions (MLX's): array arguments accept anything pylz_to_array accepts; ints are
 * Python ints (or objects with __index__), never floats; bools are True/False; `stream=` is
 * accepted and ignored. Every helper returns 0, or -1 with a Python exception set. */
#ifndef LAZULI_PY_OPS_IMPL_H
#define LAZULI_PY_OPS_IMPL_H

#include "pylz.h"

#define PYOPS_MAX_INTS 1024

/* The Python name of the function being called, set first thing by each entry point (under the
 * GIL), so the helpers' errors start with it as Lazuli's do: "[sum] axis must be ...". */
extern const char *pyops_name;

/* Adds plain functions (NULL-terminated, static storage) to `m`. */
int pyops_add_functions(PyObject *m, PyMethodDef *defs);
/* Binds each aliases[i][0] in `m` to the function already there as aliases[i][1]. */
int pyops_add_aliases(PyObject *m, const char *const (*aliases)[2], size_t n);

/* ---- argument conversions ---- */

typedef struct {
  int n;
  int v[PYOPS_MAX_INTS];
} pyops_ints;

/* A Python int into *out (C int range), naming the argument `what` in errors. */
int pyops_int(PyObject *o, int *out, const char *what);
/* An int or None (*set = 0). */
int pyops_opt_int(PyObject *o, int *out, int *set, const char *what);
/* A Python bool (True/False only, as MLX). NULL (argument not given) leaves *out. */
int pyops_bool(PyObject *o, bool *out, const char *what);
/* A float (Python, NumPy, or anything with __float__ or __index__; not str) into *out. */
int pyops_double(PyObject *o, double *out, const char *what);
/* An int (when allow_int: one entry) or a sequence of ints. */
int pyops_int_list(PyObject *o, pyops_ints *out, int allow_int, const char *what);
/* A shape: an int or a sequence of non-negative ints, at most LZ_MAX_NDIM. */
int pyops_shape(PyObject *o, pyops_ints *out, const char *what);
/* Axes: None (*all = 1), an int or a sequence of ints. */
int pyops_axes(PyObject *o, pyops_ints *out, int *all, const char *what);
/* A dtype, or None (leaves *out). */
int pyops_dtype(PyObject *o, lz_dtype *out, const char *what);
/* A str into a pointer valid while `o` lives. */
int pyops_str(PyObject *o, const char **out, const char *what);

/* A list/tuple of array-likes into a new malloc'd array of new references (*n entries; the
 * caller releases them with pyops_free_arrays). */
int pyops_array_seq(PyObject *seq, lz_array ***out, int *n, const char *what);
void pyops_free_arrays(lz_array **arrays, int n);

/* An optional array argument: NULL or None gives *out = NULL. */
int pyops_opt_array(PyObject *o, lz_array **out);

/* Several array arguments at once, in the order given:
 *   lz_array *x, *w, *b;
 *   if (PYOPS_CONVERT(PYOPS_ARRAY(ox, &x), PYOPS_ARRAY(ow, &w), PYOPS_OPT_ARRAY(ob, &b)) < 0)
 *     return NULL;
 *   PyObject *res = pylz_wrap(lz_op(x, w, b));
 *   PYOPS_FREE(x, w, b);
 * PYOPS_ARRAY converts anything pylz_to_array accepts; PYOPS_OPT_ARRAY gives NULL for None
 * (or an argument not given). On failure every destination is NULL (the ones converted are
 * released) and a Python exception is set. */
typedef struct {
  PyObject *obj;
  lz_array **out;
  bool optional;
} pyops_arg;
#define PYOPS_ARRAY(o, out) ((pyops_arg){(o), (out), false})
#define PYOPS_OPT_ARRAY(o, out) ((pyops_arg){(o), (out), true})
int pyops_convert(const pyops_arg *args, int n);
#define PYOPS_CONVERT(...)                                                                         \
  pyops_convert((const pyops_arg[]){__VA_ARGS__},                                                  \
                (int)(sizeof((pyops_arg[]){__VA_ARGS__}) / sizeof(pyops_arg)))
/* lz_free()s each of the arrays given (NULL entries too). */
void pyops_free_list(lz_array *const *arrays, int n);
#define PYOPS_FREE(...)                                                                            \
  pyops_free_list((lz_array *const[]){__VA_ARGS__},                                                \
                  (int)(sizeof((lz_array *[]){__VA_ARGS__}) / sizeof(lz_array *)))

/* A row of a PyMethodDef table for a function taking (args, kwargs). */
#define PYOPS_F(NAME, FN, DOC)                                                                     \
  { NAME, (PyCFunction)(void (*)(void))FN, METH_VARARGS | METH_KEYWORDS, DOC }

/* A Python tuple (or list when `as_list`) wrapping n new lz references (taken over, also on
 * failure). Any NULL entry raises the pending Lazuli error. */
PyObject *pyops_wrap_many(lz_array **arrays, int n, int as_list);

/* For functions taking *args: TypeError unless every keyword in `kw` is `stream`. */
int pyops_only_stream_kw(PyObject *kw, const char *fn);

/* Raises TypeError "[<function>] <what> must be <expected>, not <type>". Returns -1. */
int pyops_type_error(const char *what, const char *expected, PyObject *got);

/* Parses `f(a, b, /, *, stream=None)` and returns fn(a, b) (ops_elementwise.c). */
PyObject *pyops_binary_call(PyObject *args, PyObject *kw, lz_array *(*fn)(lz_array *, lz_array *));

/* ---- file init functions, called from the hooks in ops_util.c ---- */
int pyops_init_elementwise(PyObject *m);
int pyops_init_reduce(PyObject *m);
int pyops_init_shape(PyObject *m);
int pyops_init_join(PyObject *m);
int pyops_init_creation(PyObject *m);
int pyops_init_index(PyObject *m);
int pyops_init_matmul(PyObject *m);
int pyops_init_quantize(PyObject *m);
int pyops_init_einsum(PyObject *m);
int pyops_init_dlpack(PyObject *m); /* dlpack.c: from_dlpack */

#endif
