/* The AVX-512 kernels (cpu/simd16_kernels.h) on the AVX2 emulation of the 16-lane layer
 * (cpu/simd16.h, LZ_S16_EMU): LZ_CPU=avx512emu runs them, so the tests check the AVX-512
 * kernel source on CPUs without AVX-512. Not a production path. */
#include "simd16_table.h"

#ifdef LZ_HAVE_S16
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#include <immintrin.h>
#include <sleef.h> /* after the pragma: it declares what the target has */

#define LZ_S16_EMU 1
#define S16_TABLE lz_s16_emu
/* SLEEF's AVX2 u10 functions on each half (the AVX-512 ones are within the same bound) */
#define S16_SLEEF1(NAME, v) ((V){Sleef_##NAME##f8_u10avx2((v).lo), Sleef_##NAME##f8_u10avx2((v).hi)})
#define S16_SLEEF2(NAME, a, b)                                                                   \
  ((V){Sleef_##NAME##f8_u10avx2((a).lo, (b).lo), Sleef_##NAME##f8_u10avx2((a).hi, (b).hi)})
#define S16_CVTBF16(v) e_cvtbf16(v)
#define S16_BF16_ATTR
#include "simd16.h"

/* VCVTNEPS2BF16 as the ISA defines it, in the low 16 bits of each lane: a NaN keeps its top
 * bits, quieted; a subnormal becomes a zero of its sign; the rest rounds to nearest even. */
static inline VI e_cvtbf16(V v) {
  VI u = AS_I(v), top = SRLI(u, 16);
  VI r = SRLI(ADDI(u, ADDI(KI(0x7fff), ANDI(top, KI(1)))), 16);
  V a = VABS(v);
  M sub = CMP(a, K(0x1p-126f), _CMP_LT_OQ);
  r = BLENDI(sub, r, ANDI(top, KI(0x8000)));
  return BLENDI(ISNAN(v), r, ORI(top, KI(0x40)));
}

#include "simd16_kernels.h"

#pragma GCC pop_options
#endif
