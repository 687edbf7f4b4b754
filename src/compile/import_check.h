/* The importer's per-op checks (import_check*.c). A node read from an exported file runs only
 * after its op's constructor has accepted it: the check calls the constructor (public or
 * internal) on placeholders with the recorded input signatures and arguments taken from the
 * file's parameters and output signatures. The constructor validates everything it validates
 * for a user (axes, permutations, slice bounds, strides, dtypes, group sizes, ...) and records
 * a node; the importer then requires that node to be the recorded one (same op, the
 * placeholders as its inputs in order, the recorded output dtypes and shapes) and keeps the
 * constructor's parameters, not the file's. So the kernels only ever see parameters a
 * constructor made, and checks cannot drift from the constructors: they are the constructors.
 *
 * An op without a check is refused by name, on export and on import. Ops made only inside
 * composites (no public constructor) check their parameters here directly, then call lz__make
 * with the output signature they computed. */
#ifndef LZ_IMPORT_CHECK_H
#define LZ_IMPORT_CHECK_H

#include "compile/compile_impl.h"
#include "ops/ops.h"

typedef struct cz_check_args {
  int op;
  const void *params;        /* the file's parameters (params_size bytes, name pointer restored) */
  lz_array *const *in;       /* placeholders with the recorded input signatures */
  int nin;
  const cz_value *const *out; /* the recorded output signatures */
  int nout;
} cz_check_args;

/* Makes the node again with the op's constructor: returns any output of the new node (owned by
 * the current scope), or NULL with the constructor's error. */
typedef lz_array *(*cz_check_fn)(const cz_check_args *a);

/* One table per group of families, indexed by op id; NULL: no check (the op is refused). */
LZ_HIDDEN extern const cz_check_fn cz_checks_elementwise[LZ_OP_COUNT]; /* unary, binary, where */
LZ_HIDDEN extern const cz_check_fn cz_checks_reduce[LZ_OP_COUNT];      /* reductions, scans, sorts */
LZ_HIDDEN extern const cz_check_fn cz_checks_shape[LZ_OP_COUNT];       /* shape, indexing, creation */
LZ_HIDDEN extern const cz_check_fn cz_checks_nn[LZ_OP_COUNT]; /* matmul, conv, fast, quantize,
                                                                 random, linalg, fft */
LZ_HIDDEN extern const cz_check_fn cz_checks_more[LZ_OP_COUNT]; /* contract, gather_qmm, ... */

/* The op's check, or NULL. */
LZ_HIDDEN cz_check_fn cz_check_of(int op);

/* Runs the check of node `n` of `t` (inputs and outputs already in the tape) and replaces its
 * parameters by the constructor's. 0, or -1 with an error naming the op and, when the
 * constructor refused, the constructor's message. */
LZ_HIDDEN int cz_check_node(const char *who, const char *path, cz_tape *t, int32_t node);

/* Helpers for checks. */
/* Fails with an error naming the op (returns NULL). */
LZ_HIDDEN lz_array *cz_check_fail(const cz_check_args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Whether the arity is n (else an error). */
LZ_HIDDEN bool cz_check_arity(const cz_check_args *a, int nin, int nout);

#endif /* LZ_IMPORT_CHECK_H */
