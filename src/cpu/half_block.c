/* float16/bfloat16 blocks through the float32 kernels (cpu/half_block.h). */
#include "half_block.h"

void lz_cpu_half_load(float *dst, lz_dtype dt, const char *src, int64_t stride, int64_t n) {
  if (stride == 2) {
    lz__convert(dst, LZ_FLOAT32, src, dt, n);
    return;
  }
  uint16_t t[LZ_HALF_BLOCK]; /* gathered, then widened as one contiguous block */
  for (int64_t i = 0; i < n; i += LZ_HALF_BLOCK) {
    int64_t m = n - i < LZ_HALF_BLOCK ? n - i : LZ_HALF_BLOCK;
    const char *q = src + i * stride;
    for (int64_t j = 0; j < m; j++) t[j] = *(const uint16_t *)(q + j * stride);
    lz__convert(dst + i, LZ_FLOAT32, t, dt, m);
  }
}

void lz_cpu_half_store(char *dst, int64_t stride, lz_dtype dt, const float *src, int64_t n) {
  if (stride == 2) {
    lz__convert(dst, dt, src, LZ_FLOAT32, n);
    return;
  }
  uint16_t t[LZ_HALF_BLOCK];
  for (int64_t i = 0; i < n; i += LZ_HALF_BLOCK) {
    int64_t m = n - i < LZ_HALF_BLOCK ? n - i : LZ_HALF_BLOCK;
    lz__convert(t, dt, src + i, LZ_FLOAT32, m);
    char *q = dst + i * stride;
    for (int64_t j = 0; j < m; j++) *(uint16_t *)(q + j * stride) = t[j];
  }
}

void lz_cpu_half_run(lz_cpu_inner_fn f32, lz_dtype dt, int nin, bool out_half, void *ctx, int64_t n,
                     char **p, const int64_t *s) {
  _Alignas(64) float in[2][LZ_HALF_BLOCK], out[LZ_HALF_BLOCK];
  float one[2] = {0, 0};
  char *q[3];
  int64_t qs[3];
  for (int k = 1; k <= nin; k++) {
    if (s[k] == 0) {
      lz_cpu_half_load(&one[k - 1], dt, p[k], 2, 1);
      q[k] = (char *)&one[k - 1], qs[k] = 0;
    } else {
      q[k] = (char *)in[k - 1], qs[k] = (int64_t)sizeof(float);
    }
  }
  qs[0] = out_half ? (int64_t)sizeof(float) : s[0];
  for (int64_t i = 0; i < n; i += LZ_HALF_BLOCK) {
    int64_t m = n - i < LZ_HALF_BLOCK ? n - i : LZ_HALF_BLOCK;
    for (int k = 1; k <= nin; k++)
      if (s[k] != 0) lz_cpu_half_load(in[k - 1], dt, p[k] + i * s[k], s[k], m);
    q[0] = out_half ? (char *)out : p[0] + i * s[0];
    f32(ctx, m, q, qs);
    if (out_half) lz_cpu_half_store(p[0] + i * s[0], s[0], dt, out, m);
  }
}
