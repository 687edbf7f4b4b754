/* lazuli.core: the private contract between the C files of the Python extension.
 *
 * The extension is one module, `lazuli.core`, built from every .c file in python/src. Each file
 * owns one concern and registers its functions from an init hook listed below; module.c calls
 * every hook that is linked in (they are weak, so a file can be added without touching the
 * others). Everything here is private to the extension; the public API is MLX's `mlx.core`.
 *
 * Conventions, in one paragraph: functions returning PyObject* return a new reference or NULL
 * with a Python exception set. Functions returning lz_array* return a new Lazuli reference (the
 * caller lz_free()s it) or NULL with a Python exception set. A Lazuli failure (NULL / -1 from the
 * C library) is turned into MLX's Python exception by pylz_raise(), which also clears Lazuli's
 * thread-local error slot. Keyword `stream=` is accepted and ignored by every op (CPU only). */
#ifndef LAZULI_PYLZ_H
#define LAZULI_PYLZ_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "lazuli.h"

/* ---- the array object (array.c) ------------------------------------------------------- */

typedef struct {
  PyObject_HEAD
  lz_array *a;          /* owned reference, never NULL for a live object */
  PyObject *weakreflist;
} PyLzArray;

extern PyTypeObject PyLzArray_Type;
#define PyLzArray_Check(o) PyObject_TypeCheck((o), &PyLzArray_Type)

/* Wraps `a` in a Python array, taking over its reference. A NULL `a` raises the pending Lazuli
 * error (pylz_raise) and returns NULL. */
PyObject *pylz_wrap(lz_array *a);

/* Converts any array-like Python value to a new lz_array reference: a lazuli array (retained),
 * a Python bool/int/float (weak scalars lz_bool/lz_int/lz_float, as MLX treats Python numbers),
 * complex (complex64), nested lists/tuples, NumPy arrays and buffer-protocol objects.
 * NULL with a Python exception (TypeError/ValueError as MLX) on failure. */
lz_array *pylz_to_array(PyObject *o);
/* The array for a Python int: a weak lz_int (int32 alone, int64 beyond int32's range, exact;
 * with an array it takes the array's dtype or raises MLX's overflow ValueError), NULL with an
 * exception on failure. */
lz_array *pylz_int_scalar(long long v);
/* Same as pylz_to_array, then cast to `dtype` (used for `dtype=` arguments). */
lz_array *pylz_to_array_dtype(PyObject *o, lz_dtype dtype);

/* The array `array(val, dtype=...)` builds: like pylz_to_array, but a Python scalar is strongly
 * typed (bool, int32 (int64 beyond int32's range), float32, complex64) and `dtype_obj` (a Dtype
 * or None/NULL) casts the result. */
lz_array *pylz_array_from_value(PyObject *o, PyObject *dtype_obj);
/* Makes `self` hold `a` (taking over the reference) and releases what it held: MLX's in-place
 * operators rebind the same Python object. */
void pylz_array_set(PyLzArray *self, lz_array *a);
/* The shape of `a` as a Python tuple of ints. */
PyObject *pylz_shape_tuple(lz_array *a);
/* The value of a one-element array as a Python scalar (evaluates). */
PyObject *pylz_item(lz_array *a);

/* Evaluates `a` with the GIL released (other Python threads run meanwhile). 0 or -1 with a
 * Python exception set. */
int pylz_eval_array(lz_array *a);
/* Same for n arrays in one pass. Every evaluation from Python goes through these two: they
 * hold the arrays and take turns on one lock, since Lazuli must not evaluate one graph from
 * two threads at once. */
int pylz_eval_many(lz_array *const *arrays, size_t n);

/* ---- errors (module.c) --------------------------------------------------------------- */

/* Raises the Python exception MLX raises for the pending Lazuli error (ValueError for shapes,
 * dtypes and arguments, MemoryError for out of memory, RuntimeError otherwise, ...), with
 * Lazuli's message, and clears the Lazuli error. If no Lazuli error is pending but a Python
 * exception is, leaves that one. Always returns NULL. */
PyObject *pylz_raise(void);
/* Same, returning -1, for int-returning helpers. */
int pylz_raise_int(void);

/* ---- dtypes (module.c) --------------------------------------------------------------- */

/* The module's Dtype object for `dt` (new reference). */
PyObject *pylz_dtype_to_py(lz_dtype dt);
/* Reads a Dtype object into *out: 0, or -1 with TypeError. */
int pylz_dtype_from_py(PyObject *o, lz_dtype *out);

/* ---- argument helpers (module.c; the function files use ops_impl.h's) ------------------ */

/* Shapes: an int or a sequence of ints. 0 or -1 with an exception. */
int pylz_parse_shape(PyObject *o, int *shape, int *ndim);
/* An int argument that fits a C int (TypeError for non-integers, ValueError when out of range);
 * `what` names it in the message. */
int pylz_as_int(PyObject *o, int *out, const char *what);

/* ---- pytrees (trees.c) --------------------------------------------------------------- */

/* Appends every lazuli array leaf of `tree` (nested lists, tuples and dicts, MLX's order) to
 * `leaves` (a Python list). Non-array leaves are skipped when `strict` is 0, an error otherwise. */
int pylz_tree_collect(PyObject *tree, PyObject *leaves, int strict);

/* ---- the array type's parts (number.c, indexing.c, methods.c) ------------------------- */

extern PyNumberMethods pylz_array_as_number;
extern PyMappingMethods pylz_array_as_mapping;
PyObject *pylz_array_get_at(PyObject *self, void *closure); /* the `at` property */
PyObject *pylz_array_richcompare(PyObject *a, PyObject *b, int op);
/* Adds the method forms of ops (x.sum(...)) to the ready type; they call the functions of
 * module `m`. */
int pylz_array_add_methods(PyTypeObject *type, PyObject *m);

/* ---- init hooks (one per file; weak, so each file is optional) ------------------------- */

#define PYLZ_HOOK __attribute__((weak))
PYLZ_HOOK int pylz_init_dtypes(PyObject *m);     /* dtype.c: Dtype, categories, finfo/iinfo */
PYLZ_HOOK int pylz_init_memory(PyObject *m);     /* memory.c: memory statistics and limits */
PYLZ_HOOK int pylz_init_devices(PyObject *m);    /* device.c: Device, Stream, stream(...) */
PYLZ_HOOK int pylz_init_array(PyObject *m);      /* array.c: the array type, constructors */
PYLZ_HOOK int pylz_init_indexing(PyObject *m);   /* indexing.c: __getitem__, __setitem__, .at */
PYLZ_HOOK int pylz_init_ops(PyObject *m);        /* ops_*.c: module-level functions */
PYLZ_HOOK int pylz_init_ops_more(PyObject *m);
PYLZ_HOOK int pylz_init_random(PyObject *m);     /* random.c: lazuli.core.random */
PYLZ_HOOK int pylz_init_linalg(PyObject *m);     /* linalg.c: lazuli.core.linalg */
PYLZ_HOOK int pylz_init_fft(PyObject *m);        /* fft.c: lazuli.core.fft */
PYLZ_HOOK int pylz_init_fast(PyObject *m);       /* fast.c: lazuli.core.fast */
PYLZ_HOOK int pylz_init_io(PyObject *m);         /* io.c: save/load */
PYLZ_HOOK int pylz_init_transforms(PyObject *m); /* transforms*.c: eval, grad, vmap, compile ... */
PYLZ_HOOK int pylz_init_trees(PyObject *m);
PYLZ_HOOK int pylz_init_distributed(PyObject *m); /* distributed.c: lazuli.core.distributed */
PYLZ_HOOK int pylz_init_export(PyObject *m);      /* export.c: export_function ... */

/* Creates the submodule `lazuli.core.<name>` (registered in sys.modules and as an attribute of
 * `m`) with `methods`; returns a borrowed reference or NULL. */
PyObject *pylz_add_submodule(PyObject *m, const char *name, PyMethodDef *methods, const char *doc);

#endif
