/* Binary elementwise ops: promotion, broadcasting and the registry entries. */
#include "../cpu/binary.h"
#include "ops.h"

enum bin_kind {
  BIN_ARITH,   /* output dtype = promoted dtype */
  BIN_DIVIDE,  /* integers promote to float32 */
  BIN_COMPARE, /* output bool */
};

static lz_array *binary(const char *name, int op, enum bin_kind kind, lz_array *a, lz_array *b) {
  lz_array *in[2] = {a, b};
  if (!lz__check_inputs(name, in, 2)) return NULL;
  lz_dtype ct = lz__result_type(a, b);
  if (kind == BIN_DIVIDE && !lz_dtype_is_float(ct)) ct = LZ_FLOAT32;
  if (ct == LZ_COMPLEX64 || !lz__op(op)->impl ||
      !((const lz_cpu_inner_fn *)lz__op(op)->impl)[ct]) {
    lz__error(LZ_ERROR_DTYPE, name, "not supported for %s (inputs %s and %s)", lz_dtype_name(ct),
              lz_dtype_name(a->dtype), lz_dtype_name(b->dtype));
    return NULL;
  }
  int shape[LZ_MAX_NDIM];
  int nd = lz__broadcast_shapes(name, a->shape, a->ndim, b->shape, b->ndim, shape);
  if (nd < 0) return NULL;
  lz_array *ca = lz__cast(a, ct), *cb = ca ? lz__cast(b, ct) : NULL;
  lz_array *out = NULL;
  if (ca && cb) {
    lz_array *cin[2] = {ca, cb};
    out = lz__make(op, NULL, cin, 2, kind == BIN_COMPARE ? LZ_BOOL : ct, shape, nd);
  }
  if (ca) lz__uncast(ca, a);
  if (cb) lz__uncast(cb, b);
  return out;
}

#define BINARY_OP(NAME, ID, KIND, FLAGS)                                                         \
  const lz_op_def lz_opdef_##NAME = {                                                            \
      .name = #NAME,                                                                             \
      .flags = LZ_OPF_ELEMENTWISE | (FLAGS),                                                     \
      .cpu = lz_cpu_binary,                                                                      \
      .impl = lz_cpu_##NAME##_loops,                                                             \
  };                                                                                             \
  lz_array *lz_##NAME(lz_array *a, lz_array *b) {                                                \
    return binary("lz_" #NAME, LZ_OP_##ID, KIND, a, b);                                          \
  }

#define D LZ_OPF_DIFFERENTIABLE
#define C LZ_OPF_COMMUTATIVE
BINARY_OP(add, ADD, BIN_ARITH, D | C)
BINARY_OP(subtract, SUBTRACT, BIN_ARITH, D)
BINARY_OP(multiply, MULTIPLY, BIN_ARITH, D | C)
BINARY_OP(divide, DIVIDE, BIN_DIVIDE, D)
BINARY_OP(maximum, MAXIMUM, BIN_ARITH, D | C)
BINARY_OP(minimum, MINIMUM, BIN_ARITH, D | C)
BINARY_OP(equal, EQUAL, BIN_COMPARE, C)
BINARY_OP(not_equal, NOT_EQUAL, BIN_COMPARE, C)
BINARY_OP(less, LESS, BIN_COMPARE, 0)
BINARY_OP(less_equal, LESS_EQUAL, BIN_COMPARE, 0)
BINARY_OP(greater, GREATER, BIN_COMPARE, 0)
BINARY_OP(greater_equal, GREATER_EQUAL, BIN_COMPARE, 0)
