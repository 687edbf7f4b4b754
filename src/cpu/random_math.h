/* Scalar math for the random kernels, written to give the same bits as MLX's CPU backend:
 * the same erfinv and erf approximations (fma chains in float32), the same order of
 * operations, and a rounding to the sampling dtype after every step that MLX runs as a
 * separate op in that dtype. Include only from cpu/random*.c. */
#ifndef LZ_CPU_RANDOM_MATH_H
#define LZ_CPU_RANDOM_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../core/internal.h"
#include "half.h"

/* Every a * b + c below must round twice, as MLX's separate multiply and add kernels do:
 * forbid contraction into fused multiply-adds (GCC contracts by default in GNU C mode). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

/* Rounds a float32 value to the sampling dtype and back (f16, bf16; identity for f32). */
typedef enum rnd_fmt { RND_F32, RND_F16, RND_BF16 } rnd_fmt;

static inline float rnd_round(rnd_fmt f, float x) {
  switch (f) {
  case RND_F16:
    return lz_h2f(lz_f2h(x));
  case RND_BF16:
    return lz_b2f(lz_f2b(x));
  default:
    return x;
  }
}

/* The largest value below 1 in the format, as float32: the cap MLX puts on uniform draws so
 * that samples stay below `high`. */
static inline float rnd_below_one(rnd_fmt f) {
  switch (f) {
  case RND_F16:
    return 1.0f - 0x1p-11f;
  case RND_BF16:
    return 1.0f - 0x1p-8f;
  default:
    return 1.0f - 0x1p-24f;
  }
}

/* A word mapped to [0, 1) in the format: float32(w) / 2^32 (exact scaling), capped below 1,
 * then converted to the format. */
static inline float rnd_unit(rnd_fmt f, uint32_t w) {
  float x = (float)w * 0x1p-32f;
  float cap = rnd_below_one(f);
  return rnd_round(f, x < cap ? x : cap);
}

/* MLX's minimum/maximum: NaN in either operand propagates (the second one first). */
static inline float rnd_minimum(float a, float b) {
  if (isnan(b)) return b;
  if (isnan(a)) return a;
  return a < b ? a : b;
}
static inline float rnd_maximum(float a, float b) {
  if (isnan(b)) return b;
  if (isnan(a)) return a;
  return a > b ? a : b;
}

/* The functions below are defined twice on x86-64: plainly, and compiled for the FMA
 * instruction set (fmaf becomes one instruction instead of a library call, ~3.5x faster for
 * erfinv). fmaf is exactly rounded either way, so both give the same bits. */

/* Inverse error function (M. Giles' single-precision approximation, as in MLX). */
#define RND_DEFINE_ERFINV(NAME, ATTR)                                                              \
  ATTR static inline float NAME(float a) {                                                         \
    float t = logf(fmaf(a, 0.0f - a, 1.0f)), p;                                                    \
    if (fabsf(t) > 6.125f) {                                                                       \
      p = 3.03697567e-10f;                                                                         \
      p = fmaf(p, t, 2.93243101e-8f);                                                              \
      p = fmaf(p, t, 1.22150334e-6f);                                                              \
      p = fmaf(p, t, 2.84108955e-5f);                                                              \
      p = fmaf(p, t, 3.93552968e-4f);                                                              \
      p = fmaf(p, t, 3.02698812e-3f);                                                              \
      p = fmaf(p, t, 4.83185798e-3f);                                                              \
      p = fmaf(p, t, -2.64646143e-1f);                                                             \
      p = fmaf(p, t, 8.40016484e-1f);                                                              \
    } else {                                                                                       \
      p = 5.43877832e-9f;                                                                          \
      p = fmaf(p, t, 1.43285448e-7f);                                                              \
      p = fmaf(p, t, 1.22774793e-6f);                                                              \
      p = fmaf(p, t, 1.12963626e-7f);                                                              \
      p = fmaf(p, t, -5.61530760e-5f);                                                             \
      p = fmaf(p, t, -1.47697632e-4f);                                                             \
      p = fmaf(p, t, 2.31468678e-3f);                                                              \
      p = fmaf(p, t, 1.15392581e-2f);                                                              \
      p = fmaf(p, t, -2.32015476e-1f);                                                             \
      p = fmaf(p, t, 8.86226892e-1f);                                                              \
    }                                                                                              \
    return a * p;                                                                                  \
  }

/* exp(x) by 2^ipart * poly(fpart) (the Cephes-style exp of MLX's CPU backend), and erf(x) by
 * the Abramowitz-Stegun style approximation MLX's CPU backend builds on it. */
#define RND_DEFINE_ERF(EXP, ERF, ATTR)                                                             \
  ATTR static inline float EXP(float x0) {                                                         \
    if (isnan(x0)) return x0;                                                                      \
    if (x0 > 88.0f) return INFINITY;                                                               \
    if (x0 < -88.0f) return 0.0f;                                                                  \
    float x = x0 * 1.442695f;                                                                      \
    float ipart = (float)floor((double)x + 0.5);                                                   \
    float fpart = x - ipart;                                                                       \
    float p = 1.535336188319500e-4f;                                                               \
    p = fmaf(p, fpart, 1.339887440266574e-3f);                                                     \
    p = fmaf(p, fpart, 9.618437357674640e-3f);                                                     \
    p = fmaf(p, fpart, 5.550332471162809e-2f);                                                     \
    p = fmaf(p, fpart, 2.402264791363012e-1f);                                                     \
    p = fmaf(p, fpart, 6.931472028550421e-1f);                                                     \
    p = fmaf(p, fpart, 1.000000000000000f);                                                        \
    uint32_t bits = (uint32_t)((int)ipart + 127) << 23;                                            \
    float scale;                                                                                   \
    memcpy(&scale, &bits, sizeof scale);                                                           \
    return scale * p;                                                                              \
  }                                                                                                \
  ATTR static inline float ERF(float x) {                                                          \
    float t = 1.0f / fmaf(0.3275911f, fabsf(x), 1.0f);                                             \
    float r = fmaf(1.061405429f, t, -1.453152027f);                                                \
    r = fmaf(r, t, 1.421413741f);                                                                  \
    r = fmaf(r, t, -0.284496736f);                                                                 \
    r = fmaf(r, t, 0.254829592f);                                                                  \
    float e = -EXP(-x * x);                                                                        \
    float y = fmaf(e * t, r, 1.0f);                                                                \
    return x > 0 ? y : -y;                                                                         \
  }

RND_DEFINE_ERFINV(rnd_erfinv, )
RND_DEFINE_ERF(rnd_exp, rnd_erf, )

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RND_FMA_ATTR __attribute__((target("fma")))
RND_DEFINE_ERFINV(rnd_erfinv_fma, RND_FMA_ATTR)
RND_DEFINE_ERF(rnd_exp_fma, rnd_erf_fma, RND_FMA_ATTR)
/* Whether this CPU has FMA and the FMA path is allowed (tests can turn it off). */
LZ_HIDDEN bool lz_cpu_random_use_fma(void);
#endif

#endif /* LZ_CPU_RANDOM_MATH_H */
