/* Private to the unary op constructors (ops/unary.c, ops/unary_misc.c). */
#ifndef LZ_OPS_UNARY_IMPL_H
#define LZ_OPS_UNARY_IMPL_H

#include "../cpu/unary.h"
#include "ops.h"

/* Records unary op `op` on `a` (already of the dtype its kernel wants) with output dtype `out`,
 * or reports "[name] not supported for <dtype>" when the op has no loop for a's dtype. */
LZ_HIDDEN lz_array *lz__unary_make(const char *name, int op, lz_array *a, lz_dtype out,
                                   const void *params);

/* The vtable of a table-driven unary op whose loops are lz_cpu_<NAME>_loops. */
#define LZ_UNARY_OPDEF(NAME, FLAGS, PARAMS_SIZE)                                                 \
  const lz_op_def lz_opdef_##NAME = {                                                            \
      .name = #NAME,                                                                             \
      .flags = LZ_OPF_ELEMENTWISE | (FLAGS),                                                     \
      .params_size = (PARAMS_SIZE),                                                              \
      .cpu = lz_cpu_unary,                                                                       \
      .impl = lz_cpu_##NAME##_loops,                                                             \
  };

#endif /* LZ_OPS_UNARY_IMPL_H */
