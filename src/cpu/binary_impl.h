/* Private to the binary kernel files: the typed loop macro every (op, dtype) pair expands, the
 * dtype lists and complex helpers. */
#ifndef LZ_CPU_BINARY_IMPL_H
#define LZ_CPU_BINARY_IMPL_H

#include <complex.h>
#include <math.h>

#include "binary.h"
#include "half.h"
#include "half_block.h"

/* The loop body shared by every (op, dtype): o = EXPR(x, y) with LOAD/STORE conversions, with
 * fast paths for contiguous, scalar-left and scalar-right operands. `ctx` is the node's
 * parameters (EXPR may read it). */
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

/* The dtype lists: X(OP, dtype id, C type). */
#define FOR_SINTS(X, OP)                                                                         \
  X(OP, LZ_INT8, int8_t) X(OP, LZ_INT16, int16_t) X(OP, LZ_INT32, int32_t) X(OP, LZ_INT64, int64_t)
#define FOR_UINTS(X, OP)                                                                         \
  X(OP, LZ_UINT8, uint8_t) X(OP, LZ_UINT16, uint16_t) X(OP, LZ_UINT32, uint32_t)                 \
  X(OP, LZ_UINT64, uint64_t)
#define FOR_INTS(X, OP) FOR_UINTS(X, OP) FOR_SINTS(X, OP)
#define FOR_FLOATS(X, OP) X(OP, LZ_FLOAT32, float) X(OP, LZ_FLOAT64, double)

/* Designated initialisers of a loop table, for functions named OP##_<C type>, OP##_f16 ... */
#define ENTRIES_UINTS(OP)                                                                        \
  [LZ_UINT8] = OP##_uint8_t, [LZ_UINT16] = OP##_uint16_t, [LZ_UINT32] = OP##_uint32_t,           \
  [LZ_UINT64] = OP##_uint64_t
#define ENTRIES_SINTS(OP)                                                                        \
  [LZ_INT8] = OP##_int8_t, [LZ_INT16] = OP##_int16_t, [LZ_INT32] = OP##_int32_t,                 \
  [LZ_INT64] = OP##_int64_t
#define ENTRIES_FLOATS(OP)                                                                       \
  [LZ_FLOAT16] = OP##_f16, [LZ_BFLOAT16] = OP##_bf16, [LZ_FLOAT32] = OP##_float,                 \
  [LZ_FLOAT64] = OP##_double

#ifndef CMPLXF /* glibc defines it only for gcc */
#define CMPLXF(x, y) __builtin_complex((float)(x), (float)(y))
#endif

/* complex64 storage <-> C's float complex (CMPLXF keeps infinities and NaNs intact). */
static inline float complex lz_c2z(lz_complex64 c) { return CMPLXF(c.re, c.im); }
static inline lz_complex64 lz_z2c(float complex z) {
  lz_complex64 c = {crealf(z), cimagf(z)};
  return c;
}

#endif /* LZ_CPU_BINARY_IMPL_H */
