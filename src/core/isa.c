/* CPU feature detection (cpuid and the OS's saved vector state, XCR0) and the kernel path.
 * Detection runs once; the path is one atomic so tests may switch it between calls. */
#include "isa.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif

/* Whether the 16-lane kernels (cpu/simd16_*.c) are built: GCC on x86-64, as cpu/vmath.h. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HAVE_S16 1
#else
#define HAVE_S16 0
#endif

static unsigned detect(void) {
  unsigned f = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  bool osxsave = c >> 27 & 1, avx = c >> 28 & 1;
  if (!osxsave || !avx) return 0;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  bool ymm = (lo & 0x6) == 0x6, zmm = (lo & 0xe6) == 0xe6; /* SSE+AVX; + opmask, ZMM state */
  if (!ymm) return 0;
  if (c >> 12 & 1) f |= LZ_ISA_F_FMA;
  if (c >> 29 & 1) f |= LZ_ISA_F_F16C;
  if (__get_cpuid_max(0, NULL) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  if (b >> 5 & 1) f |= LZ_ISA_F_AVX2;
  if (zmm) {
    if (b >> 16 & 1) f |= LZ_ISA_F_AVX512F;
    if (b >> 17 & 1) f |= LZ_ISA_F_AVX512DQ;
    if (b >> 30 & 1) f |= LZ_ISA_F_AVX512BW;
    if (b >> 31 & 1) f |= LZ_ISA_F_AVX512VL;
    unsigned max7 = a;
    if (max7 >= 1) {
      __cpuid_count(7, 1, a, b, c, d);
      if ((a >> 5 & 1) && (f & LZ_ISA_F_AVX512F)) f |= LZ_ISA_F_AVX512BF16;
    }
  }
#endif
  return f;
}

static atomic_uint features = 0x80000000u; /* high bit: not detected yet */

unsigned lz_isa_features(void) {
  unsigned f = atomic_load_explicit(&features, memory_order_relaxed);
  if (LZ_UNLIKELY(f & 0x80000000u)) {
    f = detect();
    atomic_store_explicit(&features, f, memory_order_relaxed);
  }
  return f;
}

bool lz_isa_supported(lz_isa path) {
  unsigned f = lz_isa_features();
  const unsigned avx2 = LZ_ISA_F_AVX2 | LZ_ISA_F_FMA | LZ_ISA_F_F16C;
  const unsigned avx512 = avx2 | LZ_ISA_F_AVX512F | LZ_ISA_F_AVX512BW | LZ_ISA_F_AVX512DQ |
                          LZ_ISA_F_AVX512VL;
  switch (path) {
  case LZ_ISA_SCALAR: return true;
  case LZ_ISA_AVX2: return (f & avx2) == avx2;
  case LZ_ISA_AVX512EMU: return HAVE_S16 && (f & avx2) == avx2;
  case LZ_ISA_AVX512: return HAVE_S16 && (f & avx512) == avx512;
  default: return false;
  }
}

/* The best supported path at or below `want` (the emulated one falls to AVX2). */
static lz_isa lower(lz_isa want) {
  if (want >= LZ_ISA_COUNT) want = LZ_ISA_AVX512;
  if (want == LZ_ISA_AVX512 && !lz_isa_supported(LZ_ISA_AVX512)) want = LZ_ISA_AVX2;
  if (want == LZ_ISA_AVX512EMU && !lz_isa_supported(want)) want = LZ_ISA_AVX2;
  if (want == LZ_ISA_AVX2 && !lz_isa_supported(want)) want = LZ_ISA_SCALAR;
  return want;
}

static const char *const names[LZ_ISA_COUNT] = {"scalar", "avx2", "avx512emu", "avx512"};

const char *lz_isa_name(lz_isa path) {
  return (unsigned)path < LZ_ISA_COUNT ? names[path] : "?";
}

lz_isa lz_isa_default(void) {
  static atomic_int cached = -1;
  int v = atomic_load_explicit(&cached, memory_order_relaxed);
  if (v < 0) {
    lz_isa want = LZ_ISA_AVX512; /* unset or unknown: the best there is */
    const char *env = getenv("LZ_CPU"), *off = getenv("LZ_NO_SIMD");
    for (int k = 0; env && k < LZ_ISA_COUNT; k++)
      if (strcmp(env, names[k]) == 0) want = (lz_isa)k;
    if (off && off[0] && off[0] != '0') want = LZ_ISA_SCALAR;
    v = (int)lower(want);
    atomic_store_explicit(&cached, v, memory_order_relaxed);
  }
  return (lz_isa)v;
}

static atomic_int current = -1;

lz_isa lz_isa_path(void) {
  int v = atomic_load_explicit(&current, memory_order_relaxed);
  if (LZ_UNLIKELY(v < 0)) {
    v = (int)lz_isa_default();
    atomic_store_explicit(&current, v, memory_order_relaxed);
  }
  return (lz_isa)v;
}

lz_isa lz_isa_set(lz_isa path) {
  lz_isa prev = lz_isa_path();
  atomic_store_explicit(&current, (int)lower(path), memory_order_relaxed);
  return prev;
}
