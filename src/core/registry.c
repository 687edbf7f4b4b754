/* The op registry: one table, built from ops/ops.def, of every op's vtable. */
#include "internal.h"

#define LZ_OP(ID, name) extern const lz_op_def lz_opdef_##name;
#include "../ops/ops.def"
#undef LZ_OP

static const lz_op_def *const op_table[LZ_OP_COUNT] = {
#define LZ_OP(ID, name) [LZ_OP_##ID] = &lz_opdef_##name,
#include "../ops/ops.def"
#undef LZ_OP
};

const lz_op_def *lz__op(int op) { return op_table[op]; }
