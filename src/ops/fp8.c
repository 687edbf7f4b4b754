/* 8-bit floats kept as uint8 bytes, as MLX keeps them: lz_from_fp8 decodes OCP E4M3 (the "FN"
 * variant: no infinities, S.1111.111 is NaN), lz_to_fp8 encodes it. Composites of public ops
 * (a 256-entry table; integer operations on the float32 bits), so every transform and compile
 * handle them like any other graph. */
#include "ops.h"

#include <math.h>

/* The value of each E4M3 byte. */
static const float *e4m3_table(void) {
  static float table[256];
  static atomic_bool ready;
  if (atomic_load_explicit(&ready, memory_order_acquire)) return table;
  float t[256];
  for (int b = 0; b < 256; b++) {
    int e = (b >> 3) & 15, m = b & 7;
    float v = e == 15 && m == 7 ? NAN : e == 0 ? ldexpf((float)m, -9) : ldexpf(8.0f + (float)m, e - 10);
    t[b] = b & 0x80 ? -v : v;
  }
  memcpy(table, t, sizeof t); /* every thread writes the same bytes */
  atomic_store_explicit(&ready, true, memory_order_release);
  return table;
}

lz_array *lz_from_fp8(lz_array *x, lz_dtype dtype) {
  const char *op = "lz_from_fp8";
  if (!lz__check_inputs(op, &x, 1)) return NULL;
  if (x->dtype != LZ_UINT8) {
    lz__error(LZ_ERROR_DTYPE, op, "expected the uint8 bytes of fp8 values, got %s",
              lz_dtype_name(x->dtype));
    return NULL;
  }
  if (!lz__dtype_valid(dtype) || !lz_dtype_is_float(dtype)) {
    lz__error(LZ_ERROR_DTYPE, op, "can convert only to a floating-point dtype, not %s",
              lz__dtype_valid(dtype) ? lz_dtype_name(dtype) : "an invalid dtype");
    return NULL;
  }
  lz_scope_begin();
  lz_array *table = lz_array_from_data(e4m3_table(), (int[]){256}, 1, LZ_FLOAT32);
  lz_array *r = lz_astype(lz_take(table, lz_astype(x, LZ_INT32), 0), dtype);
  r = lz_keep(r);
  lz_scope_end();
  return r;
}

static lz_array *u32(uint32_t v) { return lz_scalar((double)v, LZ_UINT32); }

/* Round to nearest even; |x| >= 448 (and NaN, infinities) saturate to +-448, as MLX's conversion
 * does (its threshold is the float32 bits 543 << 21, 448.0): no input encodes to the NaN byte. */
lz_array *lz_to_fp8(lz_array *x) {
  const char *op = "lz_to_fp8";
  if (!lz__check_inputs(op, &x, 1)) return NULL;
  if (x->dtype == LZ_COMPLEX64) {
    lz__error(LZ_ERROR_DTYPE, op, "cannot convert complex64 to fp8");
    return NULL;
  }
  lz_scope_begin();
  lz_array *bits = lz_view(lz_astype(x, LZ_FLOAT32), LZ_UINT32);
  lz_array *sign = lz_bitwise_and(bits, u32(0x80000000u));
  lz_array *mag = lz_bitwise_and(bits, u32(0x7FFFFFFFu));
  /* subnormal results: adding 2^14 leaves the rounded byte in the low bits */
  lz_array *sub = lz_subtract(
      lz_view(lz_add(lz_view(mag, LZ_FLOAT32), lz_scalar(16384.0, LZ_FLOAT32)), LZ_UINT32),
      u32(141u << 23));
  /* normal results: rebias the exponent (127 -> 7), round the 20 dropped bits to even */
  lz_array *odd = lz_bitwise_and(lz_astype(lz_right_shift(mag, u32(20)), LZ_UINT32), u32(1));
  lz_array *nrm = lz_add(lz_subtract(mag, u32(120u << 23)), lz_add(odd, u32(0x7FFFF)));
  nrm = lz_astype(lz_right_shift(nrm, u32(20)), LZ_UINT32);
  lz_array *r = lz_where(lz_less(mag, u32(121u << 23)), sub, nrm);
  r = lz_where(lz_greater_equal(mag, u32(543u << 21)), u32(0x7E), r);
  r = lz_bitwise_or(r, lz_astype(lz_right_shift(sign, u32(24)), LZ_UINT32));
  r = lz_keep(lz_astype(r, LZ_UINT8));
  lz_scope_end();
  return r;
}
