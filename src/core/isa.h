/* The CPU's vector features, detected once, and the kernel path every SIMD dispatch site
 * reads: scalar, AVX2 (with FMA), AVX-512 (F, BW, DQ, VL), or the AVX-512 kernels built on an
 * emulation of 16-lane vectors over AVX2 (tests only: it runs the AVX-512 kernel source on a
 * CPU without AVX-512). LZ_CPU=scalar|avx2|avx512|avx512emu caps the path (LZ_NO_SIMD=1 is
 * LZ_CPU=scalar); unset, the best the CPU has is used. */
#ifndef LZ_CORE_ISA_H
#define LZ_CORE_ISA_H

#include <stdbool.h>

#include "internal.h"

typedef enum lz_isa {
  LZ_ISA_SCALAR,
  LZ_ISA_AVX2,      /* AVX2 + FMA + F16C */
  LZ_ISA_AVX512EMU, /* the AVX-512 kernels on emulated 16-lane vectors (needs AVX2) */
  LZ_ISA_AVX512,    /* AVX-512 F, BW, DQ, VL (+ AVX2, FMA, F16C) */
  LZ_ISA_COUNT
} lz_isa;

/* Detected features (LZ_ISA_F_*), whatever the path. */
enum {
  LZ_ISA_F_AVX2 = 1 << 0,
  LZ_ISA_F_FMA = 1 << 1,
  LZ_ISA_F_F16C = 1 << 2,
  LZ_ISA_F_AVX512F = 1 << 3,
  LZ_ISA_F_AVX512BW = 1 << 4,
  LZ_ISA_F_AVX512DQ = 1 << 5,
  LZ_ISA_F_AVX512VL = 1 << 6,
  LZ_ISA_F_AVX512BF16 = 1 << 7,
};
LZ_HIDDEN unsigned lz_isa_features(void);

/* The path kernels take now (one relaxed atomic load after the first call). Code built only
 * for AVX2 runs when this is >= LZ_ISA_AVX2 (the emulated path implies AVX2). */
LZ_HIDDEN lz_isa lz_isa_path(void);
/* The path LZ_CPU (or LZ_NO_SIMD) and the CPU allow: lz_isa_path() until lz_isa_set. */
LZ_HIDDEN lz_isa lz_isa_default(void);
/* Whether this CPU (and build) can run `path`. */
LZ_HIDDEN bool lz_isa_supported(lz_isa path);
/* Sets the path (tests compare paths), lowered to one the CPU supports; returns the previous. */
LZ_HIDDEN lz_isa lz_isa_set(lz_isa path);
/* "scalar", "avx2", "avx512emu", "avx512". */
LZ_HIDDEN const char *lz_isa_name(lz_isa path);

#endif /* LZ_CORE_ISA_H */
