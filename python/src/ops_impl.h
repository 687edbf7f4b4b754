/* lazuli.core: private helpers shared by the module-level function files (ops_*.c, random.c,
 * linalg.c, fft.c, fast.c, io.c). Not part of pylz.h: only these files use them.
 *
 * Many functions have the same Python signature and differ only in the lz_ function they call
 * (every unary op, every binary op, every reduction). Those are described by one table row,
 * `pyops_fn`, and share one C implementation that finds its row through the function's `self`
 * (a capsule made by pyops_register). Functions with their own signature are plain PyMethodDefs.
 *
 * Argument conventions (MLX's): array arguments accept anything pylz_to_array accepts; ints are
 * Python ints (or objects with __index__), never floats; bools are True/False; `stream=` is
 * accepted and ignored. Every helper returns 0, or -1 with a Python exception set. */
#ifndef LAZULI_PY_OPS_IMPL_H
#define LAZULI_PY_OPS_IMPL_H

#include "pylz.h"

#define PYOPS_MAX_INTS 1024

/* Any lz_ function, stored untyped; each implementation casts it back to its real type. */
typedef void (*pyops_anyfn)(void);
#define PYOPS_FN(f) ((pyops_anyfn)(f))

/* One table-driven function: its PyMethodDef (the shared implementation, METH_VARARGS |
 * METH_KEYWORDS, the docstring starting with the MLX signature) and up to three lz_ functions. */
typedef struct pyops_fn {
  PyMethodDef def;
  pyops_anyfn fn[3];
} pyops_fn;

#define PYOPS_ROW(NAME, IMPL, DOC, F0, F1, F2)                                                    \
  {{NAME, (PyCFunction)(void (*)(void))(IMPL), METH_VARARGS | METH_KEYWORDS, DOC},              \
   {PYOPS_FN(F0), PYOPS_FN(F1), PYOPS_FN(F2)}}

/* Adds the `n` rows of `fns` (static storage) to module `m` as functions of module `modname`. */
int pyops_register(PyObject *m, pyops_fn *fns, int n, const char *modname);
/* The row of a table-driven function, from its `self`. */
const pyops_fn *pyops_self(PyObject *self);

/* Adds plain functions (NULL-terminated, static storage) to `m`. */
int pyops_add_functions(PyObject *m, PyMethodDef *defs);

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
/* A Python float or int into *out. */
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

/* A Python tuple (or list when `as_list`) wrapping n new lz references (taken over, also on
 * failure). Any NULL entry raises the pending Lazuli error. */
PyObject *pyops_wrap_many(lz_array **arrays, int n, int as_list);

/* Raises TypeError "<fn>() <what> must be <expected>, not <type>". Returns -1. */
int pyops_type_error(const char *what, const char *expected, PyObject *got);

/* The implementation of table rows `f(a, b, /, *, stream=None)` calling fn[0](a, b). */
PyObject *pyops_binary_impl(PyObject *self, PyObject *args, PyObject *kw);

/* ---- file init functions, called from the hooks in ops_util.c ---- */
int pyops_init_elementwise(PyObject *m);
int pyops_init_reduce(PyObject *m);
int pyops_init_shape(PyObject *m);
int pyops_init_creation(PyObject *m);
int pyops_init_index(PyObject *m);
int pyops_init_matmul(PyObject *m);
int pyops_init_quantize(PyObject *m);

#endif
