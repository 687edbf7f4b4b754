/* Private to the binary op constructors (ops/binary.c, ops/binary_misc.c). */
#ifndef LZ_OPS_BINARY_IMPL_H
#define LZ_OPS_BINARY_IMPL_H

#include "../cpu/binary.h"
#include "ops.h"

/* How an op's computation dtype and output dtype follow from its inputs. */
enum lz_bin_kind {
  LZ_BIN_ARITH,   /* computes in and returns the promoted dtype */
  LZ_BIN_FLOAT,   /* the promoted dtype, integers and bool promoted to float32 */
  LZ_BIN_COMPARE, /* computes in the promoted dtype, returns bool */
  LZ_BIN_LOGICAL, /* both inputs converted to bool, returns bool */
  LZ_BIN_SHIFT,   /* the promoted dtype promoted again with uint8 (MLX's shifts) */
};

/* Validates, promotes, broadcasts and records binary op `op` (one output, or two for divmod,
 * written to outs). Reports "[name] not supported for <dtype>" when the op has no loop for the
 * computation dtype. Returns 0 or -1. */
LZ_HIDDEN int lz__binary_make(const char *name, int op, enum lz_bin_kind kind, lz_array *a,
                              lz_array *b, const void *params, int nout, lz_array **outs);
/* The one-output form: the new array or NULL. */
LZ_HIDDEN lz_array *lz__binary(const char *name, int op, enum lz_bin_kind kind, lz_array *a,
                               lz_array *b, const void *params);

/* The vtable of a table-driven binary op whose loops are lz_cpu_<NAME>_loops. */
#define LZ_BINARY_OPDEF(NAME, FLAGS, PARAMS_SIZE)                                                \
  const lz_op_def lz_opdef_##NAME = {                                                            \
      .name = #NAME,                                                                             \
      .flags = LZ_OPF_ELEMENTWISE | (FLAGS),                                                     \
      .params_size = (PARAMS_SIZE),                                                              \
      .cpu = lz_cpu_binary,                                                                      \
      .impl = lz_cpu_##NAME##_loops,                                                             \
  };

#endif /* LZ_OPS_BINARY_IMPL_H */
