/* The AVX-512 kernels (cpu/simd16_kernels.h) built for AVX-512 F, BW, DQ and VL, chosen at run
 * time (core/isa.c) on CPUs that have them. The same source runs on the AVX2 emulation of the
 * layer in the tests (cpu/simd16_emu.c); built with -ffp-contract=off (CMakeLists.txt), so
 * the compiler fuses no multiply-add the source does not write and both builds round alike. */
#include "simd16_table.h"

#ifdef LZ_HAVE_S16
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c")
#include <immintrin.h>
#include <sleef.h> /* after the pragma: it declares what the target has */

#define S16_TABLE lz_s16_avx512
#define S16_SLEEF1(NAME, v) Sleef_##NAME##f16_u10avx512f(v)
#define S16_SLEEF2(NAME, a, b) Sleef_##NAME##f16_u10avx512f(a, b)
/* bf16 of each lane in its low 16 bits */
#define S16_CVTBF16(v) _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(v))
#define S16_BF16_ATTR __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,avx2,fma,f16c")))
#include "simd16_kernels.h"

#pragma GCC pop_options
#endif
