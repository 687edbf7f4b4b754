/* Binary elementwise kernels. One typed inner loop per (op, dtype), each with fast paths for
 * contiguous, scalar-left and scalar-right operands, chosen per run by the strides. Half types
 * compute in float32. Integer arithmetic wraps (computed unsigned: no UB on overflow). */
#include "binary.h"

#include <math.h>

#include "half.h"

/* The loop body shared by every (op, dtype): o = EXPR(x, y) with LOAD/STORE conversions. */
#define BIN_LOOP(NAME, T, OT, LOAD, STORE, EXPR)                                                 \
  static void NAME(void *ctx, int64_t n, char **p, const int64_t *s) {                           \
    (void)ctx;                                                                                   \
    OT *o = (OT *)p[0];                                                                          \
    const T *a = (const T *)p[1], *b = (const T *)p[2];                                          \
    if (s[0] == sizeof(OT) && s[1] == sizeof(T) && s[2] == sizeof(T)) {                          \
      for (int64_t i = 0; i < n; i++) {                                                          \
        __typeof__(LOAD(a[0])) x = LOAD(a[i]), y = LOAD(b[i]);                                   \
        o[i] = STORE(EXPR);                                                                      \
      }                                                                                          \
    } else if (s[0] == sizeof(OT) && s[1] == 0 && s[2] == sizeof(T)) {                           \
      __typeof__(LOAD(a[0])) x = LOAD(a[0]);                                                     \
      for (int64_t i = 0; i < n; i++) {                                                          \
        __typeof__(LOAD(a[0])) y = LOAD(b[i]);                                                   \
        o[i] = STORE(EXPR);                                                                      \
      }                                                                                          \
    } else if (s[0] == sizeof(OT) && s[1] == sizeof(T) && s[2] == 0) {                           \
      __typeof__(LOAD(a[0])) y = LOAD(b[0]);                                                     \
      for (int64_t i = 0; i < n; i++) {                                                          \
        __typeof__(LOAD(a[0])) x = LOAD(a[i]);                                                   \
        o[i] = STORE(EXPR);                                                                      \
      }                                                                                          \
    } else {                                                                                     \
      char *po = p[0];                                                                           \
      const char *pa = p[1], *pb = p[2];                                                         \
      for (int64_t i = 0; i < n; i++, po += s[0], pa += s[1], pb += s[2]) {                      \
        __typeof__(LOAD(a[0])) x = LOAD(*(const T *)pa), y = LOAD(*(const T *)pb);               \
        *(OT *)po = STORE(EXPR);                                                                 \
      }                                                                                          \
    }                                                                                            \
  }

#define ID(v) (v)
#define TO_BOOL(v) ((uint8_t)((v) ? 1 : 0))

/* Wrapping integer arithmetic without signed-overflow UB. */
#define WRAP(T, OPR) ((T)((uint64_t)(x)OPR(uint64_t)(y)))

/* The dtype lists. INTS are (dtype id, C type); FLOATS likewise; HALFS use float math. */
#define FOR_INTS(X, OP)                                                                          \
  X(OP, LZ_UINT8, uint8_t) X(OP, LZ_UINT16, uint16_t) X(OP, LZ_UINT32, uint32_t)                 \
  X(OP, LZ_UINT64, uint64_t) X(OP, LZ_INT8, int8_t) X(OP, LZ_INT16, int16_t)                     \
  X(OP, LZ_INT32, int32_t) X(OP, LZ_INT64, int64_t)
#define FOR_FLOATS(X, OP) X(OP, LZ_FLOAT32, float) X(OP, LZ_FLOAT64, double)

/* ---- arithmetic: EXPR_INT for integers and bool, EXPR_F for floats ---- */
#define ARITH(OP, EXPR_INT, EXPR_F)                                                              \
  FOR_INTS(ARITH_INT_##OP, OP)                                                                   \
  FOR_FLOATS(ARITH_F_##OP, OP)                                                                   \
  BIN_LOOP(OP##_f16, uint16_t, uint16_t, lz_h2f, lz_f2h, EXPR_F)                                 \
  BIN_LOOP(OP##_bf16, uint16_t, uint16_t, lz_b2f, lz_f2b, EXPR_F)

#define DEF_TABLE(OP, BOOLFN)                                                                    \
  const lz_cpu_inner_fn lz_cpu_##OP##_loops[LZ_DTYPE_COUNT] = {                                  \
      [LZ_BOOL] = BOOLFN,           [LZ_UINT8] = OP##_uint8_t,   [LZ_UINT16] = OP##_uint16_t,    \
      [LZ_UINT32] = OP##_uint32_t,  [LZ_UINT64] = OP##_uint64_t, [LZ_INT8] = OP##_int8_t,        \
      [LZ_INT16] = OP##_int16_t,    [LZ_INT32] = OP##_int32_t,   [LZ_INT64] = OP##_int64_t,      \
      [LZ_FLOAT16] = OP##_f16,      [LZ_BFLOAT16] = OP##_bf16,   [LZ_FLOAT32] = OP##_float,      \
      [LZ_FLOAT64] = OP##_double,                                                                \
  };

#define INT_LOOP(OP, EXPR) BIN_LOOP(OP, T, T, ID, ID, EXPR)

#define ARITH_INT_add(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, WRAP(T, +))
#define ARITH_F_add(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, x + y)
ARITH(add, WRAP(T, +), x + y)
BIN_LOOP(add_bool, uint8_t, uint8_t, ID, ID, (uint8_t)(x | y))
DEF_TABLE(add, add_bool)

#define ARITH_INT_subtract(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, WRAP(T, -))
#define ARITH_F_subtract(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, x - y)
ARITH(subtract, WRAP(T, -), x - y)
DEF_TABLE(subtract, NULL)

#define ARITH_INT_multiply(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, WRAP(T, *))
#define ARITH_F_multiply(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, x * y)
ARITH(multiply, WRAP(T, *), x * y)
BIN_LOOP(multiply_bool, uint8_t, uint8_t, ID, ID, (uint8_t)(x & y))
DEF_TABLE(multiply, multiply_bool)

/* divide: the constructor casts integers to float first, so only float loops exist. */
BIN_LOOP(divide_float, float, float, ID, ID, x / y)
BIN_LOOP(divide_double, double, double, ID, ID, x / y)
BIN_LOOP(divide_f16, uint16_t, uint16_t, lz_h2f, lz_f2h, x / y)
BIN_LOOP(divide_bf16, uint16_t, uint16_t, lz_b2f, lz_f2b, x / y)
const lz_cpu_inner_fn lz_cpu_divide_loops[LZ_DTYPE_COUNT] = {
    [LZ_FLOAT16] = divide_f16, [LZ_BFLOAT16] = divide_bf16, [LZ_FLOAT32] = divide_float,
    [LZ_FLOAT64] = divide_double};

/* maximum/minimum propagate NaN like MLX: if either is NaN the result is NaN. */
#define FMAX(x, y) ((x) != (x) ? (x) : ((y) != (y) ? (y) : ((x) > (y) ? (x) : (y))))
#define FMIN(x, y) ((x) != (x) ? (x) : ((y) != (y) ? (y) : ((x) < (y) ? (x) : (y))))
#define ARITH_INT_maximum(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, (x > y ? x : y))
#define ARITH_F_maximum(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, FMAX(x, y))
ARITH(maximum, _, FMAX(x, y))
BIN_LOOP(maximum_bool, uint8_t, uint8_t, ID, ID, (uint8_t)(x | y))
DEF_TABLE(maximum, maximum_bool)
#define ARITH_INT_minimum(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, (x < y ? x : y))
#define ARITH_F_minimum(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, FMIN(x, y))
ARITH(minimum, _, FMIN(x, y))
BIN_LOOP(minimum_bool, uint8_t, uint8_t, ID, ID, (uint8_t)(x & y))
DEF_TABLE(minimum, minimum_bool)

/* ---- comparisons: bool output ---- */
#define CMP(OP, OPR)                                                                             \
  FOR_INTS(CMP_T_##OP, OP)                                                                       \
  FOR_FLOATS(CMP_T_##OP, OP)                                                                     \
  BIN_LOOP(OP##_f16, uint16_t, uint8_t, lz_h2f, TO_BOOL, x OPR y)                                \
  BIN_LOOP(OP##_bf16, uint16_t, uint8_t, lz_b2f, TO_BOOL, x OPR y)                               \
  BIN_LOOP(OP##_bool, uint8_t, uint8_t, ID, TO_BOOL, x OPR y)                                    \
  DEF_TABLE(OP, OP##_bool)
#define CMP_T_equal(OP, DT, T) BIN_LOOP(OP##_##T, T, uint8_t, ID, TO_BOOL, x == y)
#define CMP_T_not_equal(OP, DT, T) BIN_LOOP(OP##_##T, T, uint8_t, ID, TO_BOOL, x != y)
#define CMP_T_less(OP, DT, T) BIN_LOOP(OP##_##T, T, uint8_t, ID, TO_BOOL, x < y)
#define CMP_T_less_equal(OP, DT, T) BIN_LOOP(OP##_##T, T, uint8_t, ID, TO_BOOL, x <= y)
#define CMP_T_greater(OP, DT, T) BIN_LOOP(OP##_##T, T, uint8_t, ID, TO_BOOL, x > y)
#define CMP_T_greater_equal(OP, DT, T) BIN_LOOP(OP##_##T, T, uint8_t, ID, TO_BOOL, x >= y)
CMP(equal, ==)
CMP(not_equal, !=)
CMP(less, <)
CMP(less_equal, <=)
CMP(greater, >)
CMP(greater_equal, >=)

/* The kernel of every binary op: output contiguous, inputs broadcast by zero strides. */
int lz_cpu_binary(lz_node *node, lz_array **outs) {
  const lz_cpu_inner_fn *loops = lz__op(node->op)->impl;
  lz_array *a = node->inputs[0], *b = node->inputs[1], *out = outs[0];
  lz_cpu_inner_fn fn = loops[a->dtype];
  if (!fn) {
    return lz__error(LZ_ERROR_DTYPE, "lz_eval", "%s has no kernel for %s",
                     lz__op(node->op)->name, lz_dtype_name(a->dtype));
  }
  if (lz__alloc_output(out, lz__op(node->op)->name) != 0) return -1;
  if (out->size == 0) return 0;
  int64_t sa[LZ_MAX_NDIM], sb[LZ_MAX_NDIM];
  lz_cpu_broadcast_strides(a, out, sa);
  lz_cpu_broadcast_strides(b, out, sb);
  char *base[3] = {lz__data_ptr(out), lz__data_ptr(a), lz__data_ptr(b)};
  const int64_t *strides[3] = {out->strides, sa, sb};
  size_t sizes[3] = {lz_dtype_size(out->dtype), lz_dtype_size(a->dtype), lz_dtype_size(b->dtype)};
  lz_cpu_iter it;
  lz_cpu_iter_init(&it, out->ndim, out->shape, 3, base, strides, sizes);
  lz_cpu_iter_for(&it, fn, NULL);
  return 0;
}
