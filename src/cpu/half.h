/* Inline float16/bfloat16 conversions for kernels (round to nearest even). */
#ifndef LZ_CPU_HALF_H
#define LZ_CPU_HALF_H

#include <stdint.h>
#include <string.h>

static inline float lz_h2f(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
  if (exp == 0x1f) {
    u = sign | 0x7f800000u | (man << 13) | (man ? 0x400000u : 0); /* a NaN quieted, as F16C */
  } else if (exp == 0) {
    float v = (float)man * 0x1p-24f;
    return sign ? -v : v;
  } else {
    u = sign | ((exp + 112) << 23) | (man << 13);
  }
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static inline uint16_t lz_f2h(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  uint32_t sign = (u >> 16) & 0x8000, au = u & 0x7fffffffu;
  if (au >= 0x7f800000u) return (uint16_t)(sign | 0x7c00 | (au > 0x7f800000u ? 0x200 : 0));
  if (au >= 0x477ff000u) return (uint16_t)(sign | 0x7c00);
  if (au < 0x38800000u) {
    float a;
    memcpy(&a, &au, 4);
    float v = a * 0x1p24f + 0x1p23f; /* adding 2^23 rounds to nearest even integer */
    uint32_t m;
    memcpy(&m, &v, 4);
    return (uint16_t)(sign | (m & 0x7ff));
  }
  uint32_t r = (((au >> 23) - 112) << 10) | ((au & 0x7fffff) >> 13), rest = au & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (r & 1))) r++;
  return (uint16_t)(sign | r);
}

static inline float lz_b2f(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static inline uint16_t lz_f2b(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
  u += 0x7fff + ((u >> 16) & 1);
  return (uint16_t)(u >> 16);
}

#endif /* LZ_CPU_HALF_H */
