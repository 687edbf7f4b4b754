/* Binary elementwise ops: promotion, broadcasting and the registry entries of arithmetic,
 * comparisons, logical, bitwise and shift ops. */
#include "binary_impl.h"

static lz_dtype compute_dtype(enum lz_bin_kind kind, const lz_array *a, const lz_array *b) {
  lz_dtype ct = lz__result_type(a, b);
  switch (kind) {
  case LZ_BIN_FLOAT:
    return lz_dtype_is_float(ct) || ct == LZ_COMPLEX64 ? ct : LZ_FLOAT32;
  case LZ_BIN_LOGICAL: return LZ_BOOL;
  case LZ_BIN_SHIFT: return ct == LZ_BOOL ? LZ_UINT8 : ct; /* MLX: bool shifts as uint8 */
  default: return ct;
  }
}

int lz__binary_make(const char *name, int op, enum lz_bin_kind kind, lz_array *a, lz_array *b,
                    const void *params, int nout, lz_array **outs) {
  for (int k = 0; k < nout; k++) outs[k] = NULL;
  lz_array *in[2] = {a, b};
  if (!lz__check_inputs(name, in, 2) || lz__weak_check(name, a, b) != 0) return -1;
  lz_dtype ct = compute_dtype(kind, a, b);
  if (!((const lz_cpu_inner_fn *)lz__op(op)->impl)[ct]) {
    return lz__error(LZ_ERROR_DTYPE, name, "not supported for %s (inputs %s and %s)",
                     lz_dtype_name(ct), lz_dtype_name(a->dtype), lz_dtype_name(b->dtype));
  }
  int shape[LZ_MAX_NDIM];
  int nd = lz__broadcast_shapes(name, a->shape, a->ndim, b->shape, b->ndim, shape);
  if (nd < 0) return -1;
  lz_array *ca = lz__cast(name, a, ct), *cb = ca ? lz__cast(name, b, ct) : NULL;
  int rc = -1;
  if (ca && cb) {
    lz_array *cin[2] = {ca, cb};
    lz_dtype od = kind == LZ_BIN_COMPARE || kind == LZ_BIN_LOGICAL ? LZ_BOOL : ct;
    lz_dtype dts[2] = {od, od};
    const int *shapes[2] = {shape, shape};
    int nds[2] = {nd, nd};
    rc = lz__make_multi(op, params, cin, 2, nout, dts, shapes, nds, outs);
  }
  if (ca) lz__uncast(ca, a);
  if (cb) lz__uncast(cb, b);
  return rc;
}

lz_array *lz__binary(const char *name, int op, enum lz_bin_kind kind, lz_array *a, lz_array *b,
                     const void *params) {
  lz_array *out;
  return lz__binary_make(name, op, kind, a, b, params, 1, &out) == 0 ? out : NULL;
}

#define BINARY_OP(NAME, ID, KIND, FLAGS)                                                         \
  LZ_BINARY_OPDEF(NAME, FLAGS, 0)                                                                \
  lz_array *lz_##NAME(lz_array *a, lz_array *b) {                                                \
    return lz__binary("lz_" #NAME, LZ_OP_##ID, KIND, a, b, NULL);                                \
  }

#define D LZ_OPF_DIFFERENTIABLE
#define C LZ_OPF_COMMUTATIVE
BINARY_OP(add, ADD, LZ_BIN_ARITH, D | C)
BINARY_OP(subtract, SUBTRACT, LZ_BIN_ARITH, D)
BINARY_OP(multiply, MULTIPLY, LZ_BIN_ARITH, D | C)
BINARY_OP(divide, DIVIDE, LZ_BIN_FLOAT, D)
BINARY_OP(maximum, MAXIMUM, LZ_BIN_ARITH, D | C)
BINARY_OP(minimum, MINIMUM, LZ_BIN_ARITH, D | C)
BINARY_OP(floor_divide, FLOOR_DIVIDE, LZ_BIN_ARITH, 0)
BINARY_OP(remainder, REMAINDER, LZ_BIN_ARITH, D)
BINARY_OP(power, POWER, LZ_BIN_ARITH, D)
BINARY_OP(arctan2, ARCTAN2, LZ_BIN_FLOAT, D)
BINARY_OP(logaddexp, LOGADDEXP, LZ_BIN_FLOAT, D | C)

BINARY_OP(equal, EQUAL, LZ_BIN_COMPARE, C)
BINARY_OP(not_equal, NOT_EQUAL, LZ_BIN_COMPARE, C)
BINARY_OP(less, LESS, LZ_BIN_COMPARE, 0)
BINARY_OP(less_equal, LESS_EQUAL, LZ_BIN_COMPARE, 0)
BINARY_OP(greater, GREATER, LZ_BIN_COMPARE, 0)
BINARY_OP(greater_equal, GREATER_EQUAL, LZ_BIN_COMPARE, 0)

BINARY_OP(logical_and, LOGICAL_AND, LZ_BIN_LOGICAL, C)
BINARY_OP(logical_or, LOGICAL_OR, LZ_BIN_LOGICAL, C)
BINARY_OP(logical_xor, LOGICAL_XOR, LZ_BIN_LOGICAL, C)
BINARY_OP(bitwise_and, BITWISE_AND, LZ_BIN_ARITH, C)
BINARY_OP(bitwise_or, BITWISE_OR, LZ_BIN_ARITH, C)
BINARY_OP(bitwise_xor, BITWISE_XOR, LZ_BIN_ARITH, C)
BINARY_OP(left_shift, LEFT_SHIFT, LZ_BIN_SHIFT, 0)
BINARY_OP(right_shift, RIGHT_SHIFT, LZ_BIN_SHIFT, 0)
