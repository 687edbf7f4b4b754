/* lazuli.core: what trees.c, closure.c, the transforms_*.c, custom.c and compile.c share
 * (private to them).
 *
 * A Python callable becomes an lz_closure through pylz_fn: its C function rebuilds the call's
 * arguments from a template (array leaves replaced by the closure's inputs), calls Python with
 * Lazuli's scopes suspended (so every array Python sees is Python's own), and hands the array
 * leaves of the result back as the closure's outputs. A Python exception raised there is kept
 * on the thread and re-raised unchanged by pylz_xform_raise once the transform returns. */
#ifndef LAZULI_XFORM_H
#define LAZULI_XFORM_H

#include "pylz.h"

/* ---- pytrees (trees.c) ---------------------------------------------------------------- */

/* A new list of the array leaves of `tree` (pylz_tree_collect). */
PyObject *pylz_tree_flatten(PyObject *tree, int strict);
/* A copy of `tree` whose array leaves are replaced, in order, by leaves[*pos], leaves[*pos+1]...
 * Lists, tuples and dicts are rebuilt (as list, tuple, dict); other leaves are shared. */
PyObject *pylz_tree_unflatten(PyObject *tree, PyObject *leaves, Py_ssize_t *pos);
/* Replaces, in place, the array leaves of lists and dicts in `tree` by leaves[*pos]...; an array
 * directly inside a tuple is an error (a tuple cannot change). */
int pylz_tree_fill(PyObject *tree, PyObject *leaves, Py_ssize_t *pos);
/* In the lists and dicts of `tree`, replaces each leaf that is olds[i] (the same object, wherever
 * it now is) by news[i]; other leaves stay. */
int pylz_tree_replace(PyObject *tree, PyObject *olds, PyObject *news);

/* A growing list of ints (axes). */
typedef struct pylz_ints {
  int *v;
  Py_ssize_t n, cap;
} pylz_ints;
int pylz_ints_push(pylz_ints *l, int x);
void pylz_ints_free(pylz_ints *l);

/* The vmap axis of every array leaf of `tree`, from `axes`: an int or None for the whole
 * subtree, or a list/tuple/dict of the same structure (MLX's prefix trees). None becomes
 * LZ_VMAP_NONE. Axes are checked against ndim (outputs: the batched outputs' ndim) and made
 * non-negative.
 * Non-array leaves are an error. */
int pylz_tree_axes(PyObject *tree, PyObject *axes, int output, pylz_ints *out);

/* ---- Python callables as closures (closure.c) ------------------------------------------ */

enum {
  PYLZ_OUT_ANY = 0,    /* any tree; non-array leaves kept in the structure */
  PYLZ_OUT_STRICT = 1, /* a tree of arrays only (vmap) */
  PYLZ_OUT_ARRAYS = 2, /* an array or a list/tuple of arrays (vjp, jvp) */
  PYLZ_OUT_LOSS = 3,   /* a scalar array, or a tuple whose first item is one (value_and_grad) */
  PYLZ_OUT_SCALAR = 4, /* a scalar array (grad) */
};

typedef struct pylz_fn {
  PyObject *fun;
  PyObject *args;    /* template positional arguments (tuple) */
  PyObject *kwargs;  /* template keyword arguments (dict) or NULL */
  PyObject *flat;    /* every array leaf of (args, kwargs), or NULL: the inputs are all of them */
  Py_ssize_t *slots; /* input i replaces flat[slots[i]] (NULL: input i replaces leaf i) */
  Py_ssize_t nslots;
  char *keep;       /* per argument (positional, then keyword): passed as is (no leaves) */
  PyObject *result; /* what fun returned the last time (a new reference) or NULL */
  int out_mode;
  int nout_arrays; /* array leaves returned (1 for LOSS/SCALAR: the loss only) */
  const char *tag; /* "[grad]" ... for messages */
  /* compile's captured state (compile.c) */
  lz_dict *state_in, *state_out;
  PyObject *cap_in, *cap_out;
  Py_ssize_t n_state_in;
  /* more than LZ_MAX_OUTPUTS arrays (pack.c) */
  int pack_ok;       /* the caller unpacks: vmap, compile, jvp, vjp, checkpoint */
  PyObject *layout;  /* the last call's packing (NULL: not packed) */
  PyObject *layouts; /* compile: input signature -> layout, or NULL */
} pylz_fn;

/* A closure over a new pylz_fn (all fields zero but fun, retained); the caller fills the rest
 * through *out (borrowed, owned by the closure). NULL with a Python exception. */
lz_closure *pylz_fn_closure(PyObject *fun, int out_mode, const char *tag, pylz_fn **out);

/* After a Lazuli transform failed: re-raises the Python exception a callback raised, or turns
 * Lazuli's error into MLX's exception. Always NULL. */
PyObject *pylz_xform_raise(void);
/* Keeps the pending Python exception on the thread (a callback failing) and records a Lazuli
 * error so the transform stops. Returns -1. */
int pylz_xform_stash(void);

/* Runs drop(ctx) (which releases Python objects) now if this thread holds the GIL, else queues
 * it for pylz_release_pending, which every transform's entry point calls. */
void pylz_release_py(void (*drop)(void *), void *ctx);
void pylz_release_pending(void);

/* Wraps a borrowed lz_array taking a new reference (call with scopes suspended or at depth 0). */
PyObject *pylz_wrap_borrowed(lz_array *a);
/* A new PyMem array (room for one more) of the arrays of a list of arrays (borrowed), or NULL
 * with MemoryError; the caller PyMem_Free()s it. */
lz_array **pylz_c_arrays(PyObject *list);
/* A list of n arrays, taking over the references (also on failure). */
PyObject *pylz_wrap_list(lz_array **v, Py_ssize_t n);
/* The Python type name of o, for messages. */
const char *pylz_type_name(PyObject *o);

/* Sets __name__, __qualname__, __doc__, __module__ and __wrapped__ in *dict from fun. */
int pylz_copy_wraps(PyObject **dict, PyObject *fun);
/* tp_descr_get of the transformed-function types: a method binds its instance. */
PyObject *pylz_bind_method(PyObject *self, PyObject *obj, PyObject *type);

/* ---- packing many outputs (pack.c) ------------------------------------------------------ */

/* Packs leaves[0..m) into one flat array per dtype: new references in packed[] (room for
 * LZ_MAX_OUTPUTS), a new layout in *layout. Returns the number of packed arrays or -1. */
int pylz_pack(lz_array *const *leaves, Py_ssize_t m, lz_array **packed, PyObject **layout);
/* The leaves again (a new list of arrays), from packed arrays with `lead` batch axes first. */
PyObject *pylz_unpack(PyObject *layout, lz_array *const *packed, int npacked, int lead);
/* A hashable signature of arrays' dtypes and shapes, and of the arrays in `state` (or NULL). */
PyObject *pylz_signature(lz_array *const *in, int n, lz_dict *state);

/* ---- module parts, registered by pylz_init_transforms (transforms.c) ------------------------ */
int pylz_init_grad(PyObject *m); /* transforms_grad.c */
int pylz_init_vjp(PyObject *m);  /* transforms_vjp.c */
int pylz_init_vmap(PyObject *m); /* transforms_vmap.c */
int pylz_init_custom(PyObject *m);
int pylz_init_compile(PyObject *m);

#endif
