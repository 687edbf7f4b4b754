/* Private declarations of the transforms module: closures, the graph walk shared by vjp and
 * jvp, the per-op rule tables and the ops the transforms record. */
#ifndef LZ_TRANSFORMS_IMPL_H
#define LZ_TRANSFORMS_IMPL_H

#include "core/internal.h"

/* ---- closures (closure.c) -------------------------------------------------------------- */

/* lz_closure_call with `who` ("lz_grad") naming the caller in error messages. The function
 * runs in its own scope; only its outputs survive. */
LZ_HIDDEN int lz__closure_call_named(const char *who, lz_closure *f, lz_array *const *inputs,
                                     int n_inputs, lz_array **out);
/* The ctx a closure was made with. */
LZ_HIDDEN void *lz__closure_ctx(const lz_closure *f);
/* The C function a closure was made with (to recognise closures of one kind). */
LZ_HIDDEN lz_fn lz__closure_fn(const lz_closure *f);

/* ---- rules (rules.c, rules_<family>.c) --------------------------------------------------
 * Rules are written with public ops, so the graphs they build are differentiable in turn
 * (grad of grad, jvp of vjp). They run inside a scope opened by the walker: intermediates need
 * no frees, and the walker keeps what a rule stores. A NULL cotangent or tangent means zero.
 *
 * Complex cotangents. Inside the walk a rule is the plain transpose of the op's derivative
 * (no conjugation: the vjp of a * b is c * b), so a complex cotangent there stands for
 * dL/dRe - i dL/dIm. What users see (lz_vjp, lz_grad, and the cotangents a custom vjp gets and
 * returns) is MLX's convention, its conjugate dL/dRe + i dL/dIm: the grad of sum(2 imag(z)) is
 * +2i. lz__conj_cotangent converts at those boundaries; conjugation composes, so converting
 * there is the same as conjugating every rule. */

/* The conjugate of a complex cotangent; any other passes through (a new reference). */
LZ_HIDDEN lz_array *lz__conj_cotangent(lz_array *c);

/* What a vjp rule sees. */
typedef struct lz_vjp_args {
  const char *who;          /* "lz_grad", "lz_vjp": the transform, for error messages */
  lz_node *node;            /* op, params */
  lz_array *const *inputs;  /* node->inputs (primal inputs) */
  lz_array *const *outputs; /* the node's outputs; NULL for a sibling the user dropped */
  lz_array *const *cotans;  /* one per output; NULL where none flowed (zero) */
  const bool *need;         /* need[i]: input i wants a cotangent */
} lz_vjp_args;

/* Writes in_cotans[i] (shape and dtype of inputs[i], or NULL for zero) for each needed input.
 * Returns 0 or -1 with an error. */
typedef int (*lz_vjp_rule)(const lz_vjp_args *a, lz_array **in_cotans);

/* What a jvp rule sees. */
typedef struct lz_jvp_args {
  const char *who;
  lz_node *node;
  lz_array *const *inputs;
  lz_array *const *outputs;  /* NULL for a dropped sibling */
  lz_array *const *tangents; /* one per input; NULL = zero */
} lz_jvp_args;

/* Writes out_tangents[k] for each output (NULL = zero). Returns 0 or -1. */
typedef int (*lz_jvp_rule)(const lz_jvp_args *a, lz_array **out_tangents);

/* The vmap slot is filled by the vmap module; its signature is that module's. */
typedef struct lz_rule {
  lz_vjp_rule vjp;
  lz_jvp_rule jvp;
  const void *vmap;
} lz_rule;

/* One table per op family, LZ_OP_COUNT entries, indexed by op id; unset entries are NULL. */
LZ_HIDDEN extern const lz_rule lz__rules_binary[LZ_OP_COUNT];
LZ_HIDDEN extern const lz_rule lz__rules_unary[LZ_OP_COUNT];
LZ_HIDDEN extern const lz_rule lz__rules_misc[LZ_OP_COUNT];
LZ_HIDDEN extern const lz_rule lz__rules_reduce[LZ_OP_COUNT];
LZ_HIDDEN extern const lz_rule lz__rules_shape[LZ_OP_COUNT];
LZ_HIDDEN extern const lz_rule lz__rules_linalg[LZ_OP_COUNT];
LZ_HIDDEN extern const lz_rule lz__rules_scan[LZ_OP_COUNT];        /* scans, sorts, diff */
LZ_HIDDEN extern const lz_rule lz__rules_indexing[LZ_OP_COUNT];    /* gathers, scatters */
LZ_HIDDEN extern const lz_rule lz__rules_linalg_more[LZ_OP_COUNT]; /* decompositions, solves */
LZ_HIDDEN extern const lz_rule lz__rules_random[LZ_OP_COUNT];
LZ_HIDDEN extern const lz_rule lz__rules_fast[LZ_OP_COUNT];        /* conv, fused ops */
LZ_HIDDEN extern const lz_rule lz__rules_fft[LZ_OP_COUNT];
LZ_HIDDEN extern const lz_rule lz__rules_quantize[LZ_OP_COUNT];
LZ_HIDDEN extern const lz_rule lz__rules_distributed[LZ_OP_COUNT]; /* collectives */

/* The rules of `op` (never NULL; its slots may be): each slot from the first family table
 * that sets it. */
LZ_HIDDEN const lz_rule *lz__rule(int op);

/* Rules of ops that carry no derivative (comparisons, integer results, creation): zero. */
LZ_HIDDEN int lz__vjp_zero(const lz_vjp_args *a, lz_array **in_cotans);
LZ_HIDDEN int lz__jvp_zero(const lz_jvp_args *a, lz_array **out_tangents);

/* `c` summed down to `like`'s shape (over the axes broadcasting added or stretched) and cast to
 * its dtype: the cotangent of a broadcast input. A new reference (scope-owned in rules). */
LZ_HIDDEN lz_array *lz__unbroadcast(const char *who, lz_array *c, const lz_array *like);
/* `t` broadcast to `like`'s shape and converted to its dtype (a tangent of an output). NULL
 * passes through (zero stays zero). */
LZ_HIDDEN lz_array *lz__expand_to(lz_array *t, const lz_array *like);
/* a + b as a tangent shaped like `like`; either may be NULL (zero); NULL when both are. */
LZ_HIDDEN lz_array *lz__sum_tangents(lz_array *a, lz_array *b, const lz_array *like);
/* Output k of a node if the user still holds it, else NULL (a zombie must not be revived). */
LZ_HIDDEN lz_array *lz__node_output(lz_node *n, int k);

/* ---- the ops the transforms record (trace_ops.c, custom.c) ----------------------------- */

/* A new handle on `a` (a view); a transform's inputs are these, so each is a distinct leaf. */
LZ_HIDDEN lz_array *lz__identity(lz_array *a);
/* `a` (a view) that is computed only after every deps[i]. */
LZ_HIDDEN lz_array *lz__depends(lz_array *a, lz_array *const *deps, int ndeps);

/* Parameters of a custom_transforms node: inputs are the function's n_primals inputs followed
 * by its outputs; the node's outputs are views of the latter. */
typedef struct lz_custom_rec lz_custom_rec;
typedef struct lz_custom_params {
  lz_custom_rec *rec; /* a reference: the function and its user rules */
  int n_primals;
} lz_custom_params;
/* The vmap rule given to lz_custom_function (may be NULL), for the vmap module. */
LZ_HIDDEN lz_closure *lz__custom_vmap_fn(const lz_custom_params *p);
/* lz_custom_function(f, vjp_fn, jvp_fn, NULL) whose vmap traces `trace_fn` (same inputs and
 * outputs as f) instead of batching f's recorded graph: compile's wrapper under a transform
 * runs its fused replay forward, but vmap must batch the original function (MLX). */
LZ_HIDDEN lz_closure *lz__custom_function_traced(lz_closure *f, lz_closure *vjp_fn,
                                                 lz_closure *jvp_fn, lz_closure *trace_fn);
/* The trace_fn of a custom function, or NULL. */
LZ_HIDDEN lz_closure *lz__custom_trace_fn(const lz_custom_params *p);
/* Rules of custom_transforms: the user's, or those of the function itself. */
LZ_HIDDEN int lz__vjp_custom(const lz_vjp_args *a, lz_array **in_cotans);
LZ_HIDDEN int lz__jvp_custom(const lz_jvp_args *a, lz_array **out_tangents);

/* ---- the walk (walk.c) ----------------------------------------------------------------- */

/* A transform's view of the recorded graph between its inputs (the identity nodes in `leaves`)
 * and its outputs: every node on a path, in topological order, each with one slot per output
 * for the cotangent or tangent being built. Built with explicit stacks, never recursion. */
typedef struct lz_walk_node {
  lz_node *node;
  lz_array **slots; /* noutputs entries, NULL = zero */
  int leaf;         /* index of the transform's input this identity node is, or -1 */
} lz_walk_node;

typedef struct lz_walk {
  lz_walk_node *nodes; /* active nodes, topological order (inputs first); leaves included */
  size_t len, cap;
  void **keys; /* open-addressing map node -> index + 1 */
  size_t *vals;
  size_t map_cap;
  lz_array **pool; /* every node's slots */
} lz_walk;

/* Builds the walk from `outputs` down to the identity nodes of `leaves` (n of them). */
LZ_HIDDEN int lz__walk_build(lz_walk *w, const char *who, lz_array *const *leaves, int n,
                             lz_array *const *outputs, int nout);
/* The walk entry of `a`'s node if `a` is on a path from a leaf, else NULL. */
LZ_HIDDEN lz_walk_node *lz__walk_find(const lz_walk *w, const lz_array *a);
LZ_HIDDEN void lz__walk_free(lz_walk *w);

/* ---- the transforms, for each other ---------------------------------------------------- */

/* vjp of f at inputs, differentiating the inputs listed in argnums (all when argnums is NULL).
 * cotans has one entry per output the caller seeds; `ncot` of them (-1: must equal the number
 * of outputs). Outputs beyond ncot get no cotangent. With scalar_seed, ncot is ignored and
 * output 0 must be a scalar seeded with one. Cotangents in and out are in the walk's
 * convention (see "Complex cotangents" above); lz_vjp and lz_grad convert. Fills outputs[]
 * (returns their number) and grads[nargs]. All results are new references. Returns -1 on
 * error, with nothing left. */
LZ_HIDDEN int lz__vjp_core(const char *who, lz_closure *f, lz_array *const *inputs, int n,
                           const int *argnums, int nargs, lz_array *const *cotans, int ncot,
                           bool scalar_seed, lz_array **outputs, lz_array **grads);
/* Replaces each complex array of a[n] (new references) by its conjugate. On failure frees all
 * of them, sets them to NULL and returns -1. */
LZ_HIDDEN int lz__conj_results(const char *who, lz_array **a, int n);
/* jvp of f; tangents has n entries (NULL = zero). Fills outputs[] and jvps[] (one per output).
 * Returns the number of outputs or -1. */
LZ_HIDDEN int lz__jvp_core(const char *who, lz_closure *f, lz_array *const *inputs, int n,
                           lz_array *const *tangents, lz_array **outputs, lz_array **jvps);

#endif /* LZ_TRANSFORMS_IMPL_H */
