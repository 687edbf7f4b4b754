/* Unary elementwise kernels: casts, typed loop tables per op, the kernels that run them, the
 * parameter structs shared with the op constructors, and the SIMD layer (cpu/unary_simd.c). */
#ifndef LZ_CPU_UNARY_H
#define LZ_CPU_UNARY_H

#include "cpu.h"

LZ_HIDDEN int lz_cpu_astype(lz_node *node, lz_array **outs);
/* The kernel of every table-driven unary op: impl is a table of inner loops indexed by the
 * input dtype; each loop gets node->params as its ctx. */
LZ_HIDDEN int lz_cpu_unary(lz_node *node, lz_array **outs);
/* stop_gradient: the output shares the input's buffer. */
LZ_HIDDEN int lz_cpu_stop_gradient(lz_node *node, lz_array **outs);
/* view: the input's bytes as another dtype (shared when the layout allows, else copied). */
LZ_HIDDEN int lz_cpu_view(lz_node *node, lz_array **outs);

typedef struct lz_round_params {
  int decimals;
} lz_round_params;

typedef struct lz_nan_to_num_params {
  double nan, posinf, neginf; /* already resolved to the dtype's defaults */
} lz_nan_to_num_params;

#define LZ_UNARY_TABLE(OP) LZ_HIDDEN extern const lz_cpu_inner_fn lz_cpu_##OP##_loops[LZ_DTYPE_COUNT];
/* cpu/unary.c: same-dtype arithmetic, predicates, complex parts */
LZ_UNARY_TABLE(abs)
LZ_UNARY_TABLE(negative)
LZ_UNARY_TABLE(sign)
LZ_UNARY_TABLE(square)
LZ_UNARY_TABLE(floor)
LZ_UNARY_TABLE(ceil)
LZ_UNARY_TABLE(trunc)
LZ_UNARY_TABLE(round)
LZ_UNARY_TABLE(isnan)
LZ_UNARY_TABLE(isinf)
LZ_UNARY_TABLE(isfinite)
LZ_UNARY_TABLE(isposinf)
LZ_UNARY_TABLE(isneginf)
LZ_UNARY_TABLE(nan_to_num)
LZ_UNARY_TABLE(logical_not)
LZ_UNARY_TABLE(bitwise_invert)
LZ_UNARY_TABLE(conjugate)
LZ_UNARY_TABLE(real)
LZ_UNARY_TABLE(imag)
/* cpu/unary_math.c: float math (float16/bfloat16/float32/float64 inputs) */
LZ_UNARY_TABLE(sqrt)
LZ_UNARY_TABLE(rsqrt)
LZ_UNARY_TABLE(reciprocal)
LZ_UNARY_TABLE(exp)
LZ_UNARY_TABLE(expm1)
LZ_UNARY_TABLE(log)
LZ_UNARY_TABLE(log2)
LZ_UNARY_TABLE(log10)
LZ_UNARY_TABLE(log1p)
LZ_UNARY_TABLE(sin)
LZ_UNARY_TABLE(cos)
LZ_UNARY_TABLE(tan)
LZ_UNARY_TABLE(arcsin)
LZ_UNARY_TABLE(arccos)
LZ_UNARY_TABLE(arctan)
LZ_UNARY_TABLE(sinh)
LZ_UNARY_TABLE(cosh)
LZ_UNARY_TABLE(tanh)
LZ_UNARY_TABLE(arcsinh)
LZ_UNARY_TABLE(arccosh)
LZ_UNARY_TABLE(arctanh)
LZ_UNARY_TABLE(sigmoid)
LZ_UNARY_TABLE(erf)
LZ_UNARY_TABLE(erfinv)

/* erfinv in double precision (NaN outside [-1, 1]). */
LZ_HIDDEN double lz_cpu_erfinv(double y);

/* ---- SIMD (cpu/unary_simd.c) ---------------------------------------------------------- */

/* Vector float32 functions over contiguous arrays of any length and alignment (o may equal x).
 * The u10 functions are within 1 ulp of the exact result. */
typedef enum lz_cpu_vec_op {
  LZ_VEC_SQRT, LZ_VEC_RSQRT, LZ_VEC_RECIPROCAL, LZ_VEC_EXP, LZ_VEC_EXPM1, LZ_VEC_LOG,
  LZ_VEC_LOG2, LZ_VEC_LOG10, LZ_VEC_LOG1P, LZ_VEC_SIN, LZ_VEC_COS, LZ_VEC_TAN, LZ_VEC_ASIN,
  LZ_VEC_ACOS, LZ_VEC_ATAN, LZ_VEC_SINH, LZ_VEC_COSH, LZ_VEC_TANH, LZ_VEC_ASINH, LZ_VEC_ACOSH,
  LZ_VEC_ATANH, LZ_VEC_SIGMOID, LZ_VEC_ERF,
  LZ_VEC_COUNT,
  LZ_VEC_NONE = -1
} lz_cpu_vec_op;
typedef enum lz_cpu_vec2_op { LZ_VEC_POW, LZ_VEC_ATAN2, LZ_VEC2_COUNT } lz_cpu_vec2_op;
typedef void (*lz_cpu_vec_fn)(float *o, const float *x, int64_t n);
typedef void (*lz_cpu_vec2_fn)(float *o, const float *x, const float *y, int64_t n);

/* The vector version of `op` for this CPU, or NULL (no SIMD, or turned off): use scalar code. */
LZ_HIDDEN lz_cpu_vec_fn lz_cpu_vec_unary(int op);
LZ_HIDDEN lz_cpu_vec2_fn lz_cpu_vec_binary(int op);
/* Whether this CPU has the SIMD paths (AVX2 and FMA). */
LZ_HIDDEN bool lz_cpu_simd_available(void);
/* Turns the SIMD paths on (the path LZ_CPU allows, core/isa.h) or off (scalar) for every
 * kernel; tests compare them with the scalar paths. Returns whether they were on. */
LZ_HIDDEN bool lz_cpu_set_simd(bool on);

#endif /* LZ_CPU_UNARY_H */
