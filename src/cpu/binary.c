/* Binary elementwise kernels: arithmetic and comparisons, and the kernel every table-driven
 * binary op runs. One typed inner loop per (op, dtype), each with fast paths for contiguous,
 * scalar-left and scalar-right operands, chosen per run by the strides. Half types compute in
 * float32: per element on the scalar path, in blocks through the float32 loops on the SIMD
 * paths (cpu/half_block.h). Integer arithmetic wraps (computed unsigned: no UB on overflow). */
#include "binary_impl.h"
#include "unary.h"

/* float32 with a vector loop (cpu/unary_simd.c, simd16_kernels.h) for contiguous runs with
 * both operands arrays or one of them a single value; the scalar loop otherwise. */
#define ARITH_F32(NAME, AOP, EXPR)                                                               \
  BIN_LOOP(NAME##_scalar, float, float, ID, ID, EXPR)                                            \
  static void NAME(void *ctx, int64_t n, char **p, const int64_t *s) {                           \
    if (s[0] == 4 && (s[1] == 4 || s[1] == 0) && (s[2] == 4 || s[2] == 0) && s[1] + s[2]) {      \
      lz_cpu_arith_fn v = lz_cpu_vec_arith(AOP, s[1] == 0 ? 1 : s[2] == 0 ? 2 : 0);             \
      if (v) {                                                                                   \
        v((float *)p[0], (const float *)p[1], (const float *)p[2], n);                           \
        return;                                                                                  \
      }                                                                                          \
    }                                                                                            \
    NAME##_scalar(ctx, n, p, s);                                                                 \
  }

/* ---- arithmetic: integers wrap, floats and halves compute natively / in float32 ---- */
#define ARITH(OP, EXPR_INT, EXPR_F)                                                              \
  FOR_INTS(ARITH_INT_##OP, OP)                                                                   \
  FOR_FLOATS(ARITH_F_##OP, OP)                                                                   \
  BIN_LOOP(OP##_f16_ref, uint16_t, uint16_t, lz_h2f, lz_f2h, EXPR_F)                             \
  BIN_LOOP(OP##_bf16_ref, uint16_t, uint16_t, lz_b2f, lz_f2b, EXPR_F)                            \
  LZ_HALF_VIA_F32(OP, OP##_float, 2, true)

#define DEF_TABLE(OP, BOOLFN, CPLXFN)                                                            \
  const lz_cpu_inner_fn lz_cpu_##OP##_loops[LZ_DTYPE_COUNT] = {                                  \
      [LZ_BOOL] = BOOLFN, ENTRIES_UINTS(OP), ENTRIES_SINTS(OP), ENTRIES_FLOATS(OP),              \
      [LZ_COMPLEX64] = CPLXFN,                                                                   \
  };

#define CPLX_LOOP(NAME, OT, STORE, EXPR) BIN_LOOP(NAME, lz_complex64, OT, lz_c2z, STORE, EXPR)

#define ARITH_INT_add(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, WRAP(T, +))
#define ARITH_F_add(OP, DT, T) ARITH_F_##T(OP, LZ_ARITH_ADD, x + y)
#define ARITH_F_float(OP, AOP, EXPR) ARITH_F32(OP##_float, AOP, EXPR)
#define ARITH_F_double(OP, AOP, EXPR) BIN_LOOP(OP##_double, double, double, ID, ID, EXPR)
ARITH(add, WRAP(T, +), x + y)
BIN_LOOP(add_bool, uint8_t, uint8_t, ID, ID, (uint8_t)(x | y))
CPLX_LOOP(add_c64, lz_complex64, lz_z2c, x + y)
DEF_TABLE(add, add_bool, add_c64)

#define ARITH_INT_subtract(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, WRAP(T, -))
#define ARITH_F_subtract(OP, DT, T) ARITH_F_##T(OP, LZ_ARITH_SUB, x - y)
ARITH(subtract, WRAP(T, -), x - y)
CPLX_LOOP(subtract_c64, lz_complex64, lz_z2c, x - y)
DEF_TABLE(subtract, NULL, subtract_c64)

#define ARITH_INT_multiply(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, WRAP(T, *))
#define ARITH_F_multiply(OP, DT, T) ARITH_F_##T(OP, LZ_ARITH_MUL, x * y)
ARITH(multiply, WRAP(T, *), x * y)
BIN_LOOP(multiply_bool, uint8_t, uint8_t, ID, ID, (uint8_t)(x & y))
CPLX_LOOP(multiply_c64, lz_complex64, lz_z2c, x * y)
DEF_TABLE(multiply, multiply_bool, multiply_c64)

/* divide: the constructor casts integers to float first, so only float loops exist. */
ARITH_F32(divide_float, LZ_ARITH_DIV, x / y)
BIN_LOOP(divide_double, double, double, ID, ID, x / y)
BIN_LOOP(divide_f16_ref, uint16_t, uint16_t, lz_h2f, lz_f2h, x / y)
BIN_LOOP(divide_bf16_ref, uint16_t, uint16_t, lz_b2f, lz_f2b, x / y)
LZ_HALF_VIA_F32(divide, divide_float, 2, true)
CPLX_LOOP(divide_c64, lz_complex64, lz_z2c, x / y)
const lz_cpu_inner_fn lz_cpu_divide_loops[LZ_DTYPE_COUNT] = {ENTRIES_FLOATS(divide),
                                                             [LZ_COMPLEX64] = divide_c64};

/* maximum/minimum propagate NaN like MLX: if either is NaN the result is NaN. */
#define FMAX(x, y) ((x) != (x) ? (x) : ((y) != (y) ? (y) : ((x) > (y) ? (x) : (y))))
#define FMIN(x, y) ((x) != (x) ? (x) : ((y) != (y) ? (y) : ((x) < (y) ? (x) : (y))))
#define ARITH_INT_maximum(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, (x > y ? x : y))
#define ARITH_F_maximum(OP, DT, T) ARITH_F_##T(OP, LZ_ARITH_MAX, FMAX(x, y))
ARITH(maximum, _, FMAX(x, y))
BIN_LOOP(maximum_bool, uint8_t, uint8_t, ID, ID, (uint8_t)(x | y))
DEF_TABLE(maximum, maximum_bool, NULL)
#define ARITH_INT_minimum(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, (x < y ? x : y))
#define ARITH_F_minimum(OP, DT, T) ARITH_F_##T(OP, LZ_ARITH_MIN, FMIN(x, y))
ARITH(minimum, _, FMIN(x, y))
BIN_LOOP(minimum_bool, uint8_t, uint8_t, ID, ID, (uint8_t)(x & y))
DEF_TABLE(minimum, minimum_bool, NULL)

/* ---- comparisons: bool output; complex64 only for (not_)equal ---- */
#define CMP(OP, OPR, CPLXFN)                                                                     \
  FOR_INTS(CMP_T_##OP, OP)                                                                       \
  FOR_FLOATS(CMP_T_##OP, OP)                                                                     \
  BIN_LOOP(OP##_f16_ref, uint16_t, uint8_t, lz_h2f, TO_BOOL, x OPR y)                            \
  BIN_LOOP(OP##_bf16_ref, uint16_t, uint8_t, lz_b2f, TO_BOOL, x OPR y)                           \
  LZ_HALF_VIA_F32(OP, OP##_float, 2, false)                                                      \
  BIN_LOOP(OP##_bool, uint8_t, uint8_t, ID, TO_BOOL, x OPR y)                                    \
  DEF_TABLE(OP, OP##_bool, CPLXFN)
#define CMP_T_equal(OP, DT, T) BIN_LOOP(OP##_##T, T, uint8_t, ID, TO_BOOL, x == y)
#define CMP_T_not_equal(OP, DT, T) BIN_LOOP(OP##_##T, T, uint8_t, ID, TO_BOOL, x != y)
#define CMP_T_less(OP, DT, T) BIN_LOOP(OP##_##T, T, uint8_t, ID, TO_BOOL, x < y)
#define CMP_T_less_equal(OP, DT, T) BIN_LOOP(OP##_##T, T, uint8_t, ID, TO_BOOL, x <= y)
#define CMP_T_greater(OP, DT, T) BIN_LOOP(OP##_##T, T, uint8_t, ID, TO_BOOL, x > y)
#define CMP_T_greater_equal(OP, DT, T) BIN_LOOP(OP##_##T, T, uint8_t, ID, TO_BOOL, x >= y)
CPLX_LOOP(equal_c64, uint8_t, TO_BOOL, x == y)
CPLX_LOOP(not_equal_c64, uint8_t, TO_BOOL, x != y)
CMP(equal, ==, equal_c64)
CMP(not_equal, !=, not_equal_c64)
CMP(less, <, NULL)
CMP(less_equal, <=, NULL)
CMP(greater, >, NULL)
CMP(greater_equal, >=, NULL)

/* ---- the kernels ---- */

/* Fills base pointers and broadcast strides of `n` inputs and `nout` outputs (outputs first)
 * and runs fn over the output shape. Outputs are allocated here. */
int lz_cpu_run_elementwise(lz_node *node, lz_array **outs, int nout, lz_cpu_inner_fn fn) {
  /* Every loop reads element i of each input before writing element i of the outputs, so
   * outs[0] may take over an input's buffer; the others are allocated first, so nothing can
   * fail after that. */
  const char *name = lz__op(node->op)->name;
  for (int k = 1; k < nout; k++)
    if (lz__alloc_output(outs[k], name) != 0) return -1;
  if (lz__alloc_output_donate(outs[0], node, name) != 0) return -1;
  lz_array *out = outs[0];
  if (out->size == 0) return 0;
  int nops = nout + node->ninputs;
  int64_t bstr[LZ_CPU_MAX_OPS][LZ_MAX_NDIM];
  char *base[LZ_CPU_MAX_OPS];
  const int64_t *strides[LZ_CPU_MAX_OPS];
  size_t sizes[LZ_CPU_MAX_OPS];
  for (int o = 0; o < nops; o++) {
    lz_array *x = o < nout ? outs[o] : node->inputs[o - nout];
    lz_cpu_broadcast_strides(x, out, bstr[o]);
    base[o] = lz__data_ptr(x);
    strides[o] = bstr[o];
    sizes[o] = lz_dtype_size(x->dtype);
  }
  lz_cpu_iter it;
  lz_cpu_iter_init(&it, out->ndim, out->shape, nops, base, strides, sizes);
  lz_cpu_iter_for(&it, fn, node->params);
  return 0;
}

/* The kernel of every table-driven binary op: the loop is chosen by the inputs' dtype. */
int lz_cpu_binary(lz_node *node, lz_array **outs) {
  const lz_cpu_inner_fn *loops = lz__op(node->op)->impl;
  lz_cpu_inner_fn fn = loops[node->inputs[0]->dtype];
  if (!fn) {
    return lz__error(LZ_ERROR_DTYPE, "lz_eval", "%s has no kernel for %s",
                     lz__op(node->op)->name, lz_dtype_name(node->inputs[0]->dtype));
  }
  return lz_cpu_run_elementwise(node, outs, node->noutputs, fn);
}
