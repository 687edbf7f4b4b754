/* Float32 kernels of the reductions over contiguous memory, with AVX2 and AVX-512 versions
 * chosen at run time and a portable version always built: the kernel path (core/isa.h,
 * LZ_CPU, lz_cpu_set_simd) selects them, so tests compare them. */
#ifndef LZ_CPU_REDUCE_SIMD_H
#define LZ_CPU_REDUCE_SIMD_H

#include "cpu.h"

/* "Row" kernels fold n contiguous floats into one value; "column" kernels fold one row of n
 * contiguous floats into n accumulators (a[j] op= x[j]). Sums add blocks of at most
 * LZ_RED_BLOCK elements in float (several independent lanes) and the block sums in double, so
 * a float32 sum of any length stays accurate. Max/min propagate NaN. */
enum { LZ_RED_BLOCK = 256 };

typedef struct lz_red_kernels {
  double (*row_sum)(const float *x, int64_t n);
  double (*row_ssd)(const float *x, int64_t n, float c);  /* sum of (x - c)^2 */
  double (*row_sexp)(const float *x, int64_t n, float c); /* sum of exp(x - c) */
  /* max (is_max) or min of n >= 1 values, ignoring NaN; *nan set when one is NaN */
  float (*row_ext)(const float *x, int64_t n, bool is_max, bool *nan);
  /* index of the first max (min); of the first NaN if there is one; n >= 1 */
  int64_t (*row_argext)(const float *x, int64_t n, bool is_max);
  /* y = softmax(x) (y may be x); all -inf gives NaN, a NaN gives NaN, +inf as MLX */
  void (*row_softmax)(float *y, const float *x, int64_t n);

  void (*col_sum)(float *a, const float *x, int64_t n);
  void (*col_ssd)(float *a, const float *x, const float *c, int64_t n);
  void (*col_sexp)(float *a, const float *x, const float *c, int64_t n);
  void (*col_ext)(float *a, const float *x, int64_t n, bool is_max); /* NaN sticks */
  /* best/idx of n columns updated with row number r of x (strictly better, or a first NaN) */
  void (*col_argext)(float *best, uint32_t *idx, const float *x, int64_t n, uint32_t r,
                     bool is_max);
  /* y = exp(x - m), s += y */
  void (*col_expsum)(float *y, float *s, const float *x, const float *m, int64_t n);
  void (*col_scale)(float *y, const float *r, int64_t n); /* y *= r */
  /* a[j] += x[j] + x[rs + j] + ... over `rows` rows rs elements apart (max/min: NaN sticks);
   * folding several rows per pass over `a` is what makes column sums run at memory speed */
  void (*cols_sum)(float *a, const float *x, int64_t rs, int rows, int64_t n);
  void (*cols_ext)(float *a, const float *x, int64_t rs, int rows, int64_t n, bool is_max);
} lz_red_kernels;

/* The kernels for this CPU and the current SIMD setting. */
LZ_HIDDEN const lz_red_kernels *lz_cpu_red_kernels(void);

#endif /* LZ_CPU_REDUCE_SIMD_H */
