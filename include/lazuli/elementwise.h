/* Elementwise ops: unary math, binary arithmetic, comparisons, logical and bitwise ops with
 * NumPy broadcasting and MLX's type promotion, selection (where, clip) and casts. Every
 * function returns a new array (see core.h for ownership and errors) and records a lazy node:
 * nothing is computed until evaluation.
 *
 * Type rules, as in MLX: math that needs a float (exp, sin, sqrt, divide, arctan2, ...) gives
 * float32 for integer and bool inputs and keeps a float input's dtype; comparisons, logical ops
 * and predicates (isnan, ...) give bool; everything else keeps the (promoted) input dtype.
 * Integer arithmetic wraps on overflow. float16/bfloat16 compute in float32. complex64 is
 * supported by add, subtract, multiply, divide, equal, not_equal, negative, square, abs, conj,
 * real, imag, degrees, radians, logical_not/and/or/xor (nonzero is true), stop_gradient and
 * where; other ops report "[lz_<op>] not supported for complex64". */
#ifndef LAZULI_ELEMENTWISE_H
#define LAZULI_ELEMENTWISE_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- binary arithmetic: a and b broadcast together; the dtype follows lz_promote_types,
 * with weak scalars (lz_float, lz_int) taking the other operand's dtype. ---- */
LZ_API lz_array *lz_add(lz_array *a, lz_array *b);
/* `a op s` for a C number s, with nothing to free (core.h: scalars outside a scope): s acts as a
 * Python number in MLX, a weak int when integral (lz_int), else a weak float (lz_float), so
 * lz_multiply_scalar(int_array, 2) stays integer and lz_multiply_scalar(int_array, 0.5) is
 * float32. For `s op a` with a non-commutative op, use a scope. */
LZ_API lz_array *lz_add_scalar(lz_array *a, double s);
LZ_API lz_array *lz_subtract_scalar(lz_array *a, double s);
LZ_API lz_array *lz_multiply_scalar(lz_array *a, double s);
LZ_API lz_array *lz_divide_scalar(lz_array *a, double s);
LZ_API lz_array *lz_power_scalar(lz_array *a, double s);
LZ_API lz_array *lz_maximum_scalar(lz_array *a, double s);
LZ_API lz_array *lz_minimum_scalar(lz_array *a, double s);
LZ_API lz_array *lz_floor_divide_scalar(lz_array *a, double s);
LZ_API lz_array *lz_remainder_scalar(lz_array *a, double s);
LZ_API lz_array *lz_equal_scalar(lz_array *a, double s);
LZ_API lz_array *lz_not_equal_scalar(lz_array *a, double s);
LZ_API lz_array *lz_less_scalar(lz_array *a, double s);
LZ_API lz_array *lz_less_equal_scalar(lz_array *a, double s);
LZ_API lz_array *lz_greater_scalar(lz_array *a, double s);
LZ_API lz_array *lz_greater_equal_scalar(lz_array *a, double s);
LZ_API lz_array *lz_subtract(lz_array *a, lz_array *b);
LZ_API lz_array *lz_multiply(lz_array *a, lz_array *b);
/* True division: integer inputs give float32, as in MLX. */
LZ_API lz_array *lz_divide(lz_array *a, lz_array *b);
/* NaN-propagating, as in MLX. */
LZ_API lz_array *lz_maximum(lz_array *a, lz_array *b);
LZ_API lz_array *lz_minimum(lz_array *a, lz_array *b);
/* Division rounded toward negative infinity (Python's //). Floats: floor(a / b). Integers:
 * exact floor division; x // 0 is 0 and INT_MIN // -1 wraps to INT_MIN (no trap). */
LZ_API lz_array *lz_floor_divide(lz_array *a, lz_array *b);
/* Remainder with the sign of the divisor (Python's %), so a == b * (a // b) + a % b. Integers:
 * x % 0 is 0. Floats: x % 0 is NaN. */
LZ_API lz_array *lz_remainder(lz_array *a, lz_array *b);
/* Both lz_floor_divide(a, b) and lz_remainder(a, b) from one node: out[0] the quotient, out[1]
 * the remainder (two new references). Returns 0, or -1 with out[0] = out[1] = NULL. */
LZ_API int lz_divmod(lz_array *a, lz_array *b, lz_array *out[2]);
/* a raised to b. Integers use exact (wrapping) integer powers; a negative integer exponent
 * gives 0 unless |a| == 1 (1 / a**-b truncated toward zero). */
LZ_API lz_array *lz_power(lz_array *a, lz_array *b);
/* The angle of the point (b, a): atan2(a, b), in the float dtype of the inputs. */
LZ_API lz_array *lz_arctan2(lz_array *a, lz_array *b);
/* log(exp(a) + exp(b)) without overflow. */
LZ_API lz_array *lz_logaddexp(lz_array *a, lz_array *b);

/* ---- comparisons: bool results ---- */
LZ_API lz_array *lz_equal(lz_array *a, lz_array *b);
LZ_API lz_array *lz_not_equal(lz_array *a, lz_array *b);
LZ_API lz_array *lz_less(lz_array *a, lz_array *b);
LZ_API lz_array *lz_less_equal(lz_array *a, lz_array *b);
LZ_API lz_array *lz_greater(lz_array *a, lz_array *b);
LZ_API lz_array *lz_greater_equal(lz_array *a, lz_array *b);
/* |a - b| <= atol + rtol * |b| elementwise (bool); infinities are close only to the same
 * infinity; NaNs are close to each other only when equal_nan. MLX defaults: rtol 1e-5,
 * atol 1e-8, equal_nan false. */
LZ_API lz_array *lz_isclose(lz_array *a, lz_array *b, double rtol, double atol, bool equal_nan);
/* A 0-d bool: whether lz_isclose(a, b, ...) holds everywhere. */
LZ_API lz_array *lz_allclose(lz_array *a, lz_array *b, double rtol, double atol, bool equal_nan);
/* A 0-d bool: a and b have the same shape and equal values (after promotion); NaNs count as
 * equal when equal_nan. Different shapes give false, not an error. */
LZ_API lz_array *lz_array_equal(lz_array *a, lz_array *b, bool equal_nan);

/* ---- logical ops: inputs are converted to bool (nonzero is true); bool results ---- */
LZ_API lz_array *lz_logical_not(lz_array *a);
LZ_API lz_array *lz_logical_and(lz_array *a, lz_array *b);
LZ_API lz_array *lz_logical_or(lz_array *a, lz_array *b);
LZ_API lz_array *lz_logical_xor(lz_array *a, lz_array *b);

/* ---- bitwise ops: integer and bool inputs only ---- */
LZ_API lz_array *lz_bitwise_and(lz_array *a, lz_array *b);
LZ_API lz_array *lz_bitwise_or(lz_array *a, lz_array *b);
LZ_API lz_array *lz_bitwise_xor(lz_array *a, lz_array *b);
/* ~a; for bool inputs this is lz_logical_not, as in MLX. */
LZ_API lz_array *lz_bitwise_invert(lz_array *a);
/* a << b and a >> b (arithmetic for signed a). The dtype is MLX's: the promoted dtype of a and
 * b, bool becoming uint8 (int8 << int8 is int8 and wraps). A shift count that is
 * negative or not below the bit width gives 0 (or -1 for a right shift of a negative a). */
LZ_API lz_array *lz_left_shift(lz_array *a, lz_array *b);
LZ_API lz_array *lz_right_shift(lz_array *a, lz_array *b);

/* ---- selection ---- */
/* x where cond is true, else y; cond (converted to bool), x and y broadcast together and the
 * dtype is that of x and y promoted. */
LZ_API lz_array *lz_where(lz_array *cond, lz_array *x, lz_array *y);
/* a limited to [a_min, a_max] (lz_maximum then lz_minimum, so NaN propagates and dtypes
 * promote). Either bound may be NULL, meaning none (whatever error is pending), but not both. */
LZ_API lz_array *lz_clip(lz_array *a, lz_array *a_min, lz_array *a_max);

/* ---- unary arithmetic: same dtype as the input ---- */
/* |a|; integers wrap (abs(INT_MIN) == INT_MIN); unsigned and bool inputs are returned as is;
 * complex64 gives float32. */
LZ_API lz_array *lz_abs(lz_array *a);
/* -a; unsigned integers wrap; bool is an error (use lz_logical_not). */
LZ_API lz_array *lz_negative(lz_array *a);
/* -1, 0 or 1 by the sign of a (NaN stays NaN; -0.0 gives 0). */
LZ_API lz_array *lz_sign(lz_array *a);
LZ_API lz_array *lz_square(lz_array *a);
/* Rounding: integer and bool inputs are returned as is. */
LZ_API lz_array *lz_floor(lz_array *a);
LZ_API lz_array *lz_ceil(lz_array *a);
/* Rounds toward zero (NumPy's trunc): -2.7 gives -2, -0.5 gives -0. */
LZ_API lz_array *lz_trunc(lz_array *a);
/* Rounds to `decimals` decimal places (negative: to tens, hundreds...), halves to even, as
 * NumPy/MLX. Integers: as is for decimals >= 0, else rounded exactly to a multiple of 10^-d. */
LZ_API lz_array *lz_round(lz_array *a, int decimals);

/* ---- unary math: integer and bool inputs give float32; float inputs keep their dtype ---- */
LZ_API lz_array *lz_sqrt(lz_array *a);
LZ_API lz_array *lz_rsqrt(lz_array *a);      /* 1 / sqrt(a) */
LZ_API lz_array *lz_reciprocal(lz_array *a); /* 1 / a */
LZ_API lz_array *lz_exp(lz_array *a);
LZ_API lz_array *lz_expm1(lz_array *a);      /* exp(a) - 1, accurate near 0 */
LZ_API lz_array *lz_log(lz_array *a);
LZ_API lz_array *lz_log2(lz_array *a);
LZ_API lz_array *lz_log10(lz_array *a);
LZ_API lz_array *lz_log1p(lz_array *a);      /* log(1 + a), accurate near 0 */
LZ_API lz_array *lz_sin(lz_array *a);
LZ_API lz_array *lz_cos(lz_array *a);
LZ_API lz_array *lz_tan(lz_array *a);
LZ_API lz_array *lz_arcsin(lz_array *a);
LZ_API lz_array *lz_arccos(lz_array *a);
LZ_API lz_array *lz_arctan(lz_array *a);
LZ_API lz_array *lz_sinh(lz_array *a);
LZ_API lz_array *lz_cosh(lz_array *a);
LZ_API lz_array *lz_tanh(lz_array *a);
LZ_API lz_array *lz_arcsinh(lz_array *a);
LZ_API lz_array *lz_arccosh(lz_array *a);
LZ_API lz_array *lz_arctanh(lz_array *a);
LZ_API lz_array *lz_sigmoid(lz_array *a);    /* 1 / (1 + exp(-a)) */
LZ_API lz_array *lz_erf(lz_array *a);
LZ_API lz_array *lz_erfinv(lz_array *a);     /* inverse of erf on [-1, 1]; NaN outside */
LZ_API lz_array *lz_degrees(lz_array *a);    /* radians to degrees */
LZ_API lz_array *lz_radians(lz_array *a);    /* degrees to radians */

/* ---- floating-point classes: bool results (all false, or all true for isfinite, for
 * integer and bool inputs) ---- */
LZ_API lz_array *lz_isnan(lz_array *a);
LZ_API lz_array *lz_isinf(lz_array *a);
LZ_API lz_array *lz_isfinite(lz_array *a);
LZ_API lz_array *lz_isposinf(lz_array *a);
LZ_API lz_array *lz_isneginf(lz_array *a);
/* a with NaN replaced by `nan`, +inf by *posinf and -inf by *neginf; a NULL posinf/neginf
 * means the dtype's largest/lowest finite value. Integer and bool inputs are returned as is. */
LZ_API lz_array *lz_nan_to_num(lz_array *a, double nan, const double *posinf,
                               const double *neginf);

/* ---- complex parts: real inputs give a itself (conj, real) or zeros (imag) ---- */
LZ_API lz_array *lz_conj(lz_array *a);
LZ_API lz_array *lz_conjugate(lz_array *a); /* same as lz_conj */
LZ_API lz_array *lz_real(lz_array *a);      /* complex64 gives float32 */
LZ_API lz_array *lz_imag(lz_array *a);

/* ---- identity-like ---- */
/* a itself, as a node that transforms treat as a constant (no gradient flows through it). */
LZ_API lz_array *lz_stop_gradient(lz_array *a);
/* The bits of a reinterpreted as `dtype` (no conversion). When the item sizes differ the last
 * axis scales by their ratio, as in MLX: it must divide evenly when viewing as a larger dtype,
 * and a 0-d array may only be viewed as a dtype of the same size. */
LZ_API lz_array *lz_view(lz_array *a, lz_dtype dtype);

/* ---- casts ---- */
/* `a` converted to `dtype`. Float to integer truncates toward zero and saturates; NaN gives 0.
 * Converting to the same dtype returns a new reference to `a` itself. */
LZ_API lz_array *lz_astype(lz_array *a, lz_dtype dtype);
/* fp8 (OCP E4M3, the "FN" variant: no infinities, bytes 0x7F/0xFF are NaN) held as uint8 bytes,
 * as MLX holds them (safetensors F8_E4M3 tensors load as such bytes). lz_from_fp8 converts the
 * bytes `x` (uint8) to the floating-point `dtype` (MLX's default: LZ_BFLOAT16). lz_to_fp8
 * converts any real array (through float32) to E4M3 bytes, rounding to nearest even; as in MLX,
 * |x| >= 448, infinities and NaN saturate to +-448 (no input gives a NaN byte). */
LZ_API lz_array *lz_from_fp8(lz_array *x, lz_dtype dtype);
LZ_API lz_array *lz_to_fp8(lz_array *x);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_ELEMENTWISE_H */
