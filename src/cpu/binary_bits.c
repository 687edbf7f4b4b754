/* Logical, bitwise and shift kernels, isclose, and the all_true reduction behind allclose and
 * array_equal. */
#include <stdatomic.h>

#include "binary_impl.h"

/* ---- logical: the constructor converts both inputs to bool ---- */
BIN_LOOP(logical_and_bool, uint8_t, uint8_t, ID, ID, (uint8_t)(x & y))
BIN_LOOP(logical_or_bool, uint8_t, uint8_t, ID, ID, (uint8_t)(x | y))
BIN_LOOP(logical_xor_bool, uint8_t, uint8_t, ID, ID, (uint8_t)(x ^ y))
const lz_cpu_inner_fn lz_cpu_logical_and_loops[LZ_DTYPE_COUNT] = {[LZ_BOOL] = logical_and_bool};
const lz_cpu_inner_fn lz_cpu_logical_or_loops[LZ_DTYPE_COUNT] = {[LZ_BOOL] = logical_or_bool};
const lz_cpu_inner_fn lz_cpu_logical_xor_loops[LZ_DTYPE_COUNT] = {[LZ_BOOL] = logical_xor_bool};

/* ---- bitwise: integers and bool ---- */
#define INT_TABLE(OP)                                                                            \
  const lz_cpu_inner_fn lz_cpu_##OP##_loops[LZ_DTYPE_COUNT] = {                                  \
      [LZ_BOOL] = OP##_bool, ENTRIES_UINTS(OP), ENTRIES_SINTS(OP)};
#define AND_T(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, (T)(x & y))
#define OR_T(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, (T)(x | y))
#define XOR_T(OP, DT, T) BIN_LOOP(OP##_##T, T, T, ID, ID, (T)(x ^ y))
FOR_INTS(AND_T, bitwise_and)
FOR_INTS(OR_T, bitwise_or)
FOR_INTS(XOR_T, bitwise_xor)
BIN_LOOP(bitwise_and_bool, uint8_t, uint8_t, ID, ID, (uint8_t)(x & y))
BIN_LOOP(bitwise_or_bool, uint8_t, uint8_t, ID, ID, (uint8_t)(x | y))
BIN_LOOP(bitwise_xor_bool, uint8_t, uint8_t, ID, ID, (uint8_t)(x ^ y))
INT_TABLE(bitwise_and)
INT_TABLE(bitwise_or)
INT_TABLE(bitwise_xor)

/* ---- shifts: counts outside [0, bits) give 0, or -1 for a right shift of a negative x ---- */
#define NBITS(T) ((int64_t)(sizeof(T) * 8))
#define SHL_S(OP, DT, T)                                                                         \
  BIN_LOOP(OP##_##T, T, T, ID, ID,                                                               \
           (T)(y < 0 || y >= NBITS(T) ? 0 : (uint64_t)x << y))
#define SHL_U(OP, DT, T)                                                                         \
  BIN_LOOP(OP##_##T, T, T, ID, ID, (T)((uint64_t)y >= (uint64_t)NBITS(T) ? 0 : (uint64_t)x << y))
#define SHR_S(OP, DT, T)                                                                         \
  BIN_LOOP(OP##_##T, T, T, ID, ID, (T)(y < 0 || y >= NBITS(T) ? (x < 0 ? -1 : 0) : x >> y))
#define SHR_U(OP, DT, T)                                                                         \
  BIN_LOOP(OP##_##T, T, T, ID, ID, (T)((uint64_t)y >= (uint64_t)NBITS(T) ? 0 : x >> y))
FOR_SINTS(SHL_S, left_shift)
FOR_UINTS(SHL_U, left_shift)
FOR_SINTS(SHR_S, right_shift)
FOR_UINTS(SHR_U, right_shift)
const lz_cpu_inner_fn lz_cpu_left_shift_loops[LZ_DTYPE_COUNT] = {ENTRIES_UINTS(left_shift),
                                                                 ENTRIES_SINTS(left_shift)};
const lz_cpu_inner_fn lz_cpu_right_shift_loops[LZ_DTYPE_COUNT] = {ENTRIES_UINTS(right_shift),
                                                                  ENTRIES_SINTS(right_shift)};

/* ---- isclose: |x - y| <= atol + rtol * |y|; infinities only match themselves ---- */
static inline bool close_d(double x, double y, const lz_isclose_params *c) {
  if (x != x || y != y) return c->equal_nan && x != x && y != y;
  if (isinf(x) || isinf(y)) return x == y;
  return fabs(x - y) <= c->atol + c->rtol * fabs(y);
}
/* float32 and the half types compare in float32, as MLX does. */
static inline bool close_f(float x, float y, const lz_isclose_params *c) {
  if (x != x || y != y) return c->equal_nan && x != x && y != y;
  if (isinf(x) || isinf(y)) return x == y;
  return fabsf(x - y) <= (float)c->atol + (float)c->rtol * fabsf(y);
}
#define CLOSE_I(OP, DT, T) BIN_LOOP(OP##_##T, T, uint8_t, ID, TO_BOOL, close_d((double)x, (double)y, ctx))
FOR_INTS(CLOSE_I, isclose)
BIN_LOOP(isclose_bool, uint8_t, uint8_t, ID, TO_BOOL, x == y)
BIN_LOOP(isclose_float, float, uint8_t, ID, TO_BOOL, close_f(x, y, ctx))
BIN_LOOP(isclose_double, double, uint8_t, ID, TO_BOOL, close_d(x, y, ctx))
BIN_LOOP(isclose_f16_ref, uint16_t, uint8_t, lz_h2f, TO_BOOL, close_f(x, y, ctx))
BIN_LOOP(isclose_bf16_ref, uint16_t, uint8_t, lz_b2f, TO_BOOL, close_f(x, y, ctx))
LZ_HALF_VIA_F32(isclose, isclose_float, 2, false)
const lz_cpu_inner_fn lz_cpu_isclose_loops[LZ_DTYPE_COUNT] = {
    [LZ_BOOL] = isclose_bool, ENTRIES_UINTS(isclose), ENTRIES_SINTS(isclose),
    ENTRIES_FLOATS(isclose)};

/* ---- all_true: runs may go to several threads; any false element clears the flag ---- */
typedef struct all_ctx {
  atomic_int all;
} all_ctx;

static void all_inner(void *ctx, int64_t n, char **p, const int64_t *s) {
  all_ctx *c = ctx;
  if (!atomic_load_explicit(&c->all, memory_order_relaxed)) return;
  const char *x = p[0];
  for (int64_t i = 0; i < n; i++, x += s[0]) {
    if (!*(const uint8_t *)x) {
      atomic_store_explicit(&c->all, 0, memory_order_relaxed);
      return;
    }
  }
}

int lz_cpu_all_true(lz_node *node, lz_array **outs) {
  lz_array *in = node->inputs[0], *out = outs[0];
  if (lz__alloc_output(out, "lz_all_true") != 0) return -1;
  all_ctx c;
  atomic_init(&c.all, 1);
  if (in->size > 0) {
    char *base[1] = {lz__data_ptr(in)};
    const int64_t *strides[1] = {in->strides};
    size_t sizes[1] = {1};
    lz_cpu_iter it;
    lz_cpu_iter_init(&it, in->ndim, in->shape, 1, base, strides, sizes);
    lz_cpu_iter_for(&it, all_inner, &c);
  }
  *(uint8_t *)lz__data_ptr(out) = (uint8_t)atomic_load(&c.all);
  return 0;
}
