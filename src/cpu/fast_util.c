/* Row access and per-thread scratch shared by the fused-op kernels. */
#include "fast.h"

#include "../core/threads.h"
#include "half_block.h"
#include "linalg_pack.h"

int64_t lz_fast_row_offset(const lz_array *a, int64_t r) {
  int64_t off = a->offset;
  for (int d = a->ndim - 2; d >= 0 && r > 0; d--) {
    int64_t n = a->shape[d];
    off += (r % n) * a->strides[d];
    r /= n;
  }
  return off;
}

void lz_fast_load(float *dst, const char *src, lz_dtype dt, int64_t stride, int64_t n) {
  if (stride == 1) {
    lz__convert(dst, LZ_FLOAT32, src, dt, n);
    return;
  }
  switch (dt) {
  case LZ_BOOL:
    for (int64_t i = 0; i < n; i++) dst[i] = ((const uint8_t *)src)[i * stride] ? 1.0f : 0.0f;
    break;
  case LZ_FLOAT32:
    for (int64_t i = 0; i < n; i++) dst[i] = ((const float *)src)[i * stride];
    break;
  case LZ_FLOAT16:
  case LZ_BFLOAT16: lz_cpu_half_load(dst, dt, src, stride * 2, n); break;
  default: {
    size_t es = lz_dtype_size(dt);
    for (int64_t i = 0; i < n; i++)
      dst[i] = (float)lz__load_f64(src + i * stride * (int64_t)es, dt);
  }
  }
}

void lz_fast_store(char *dst, lz_dtype dt, const float *src, int64_t n) {
  lz__convert(dst, dt, src, LZ_FLOAT32, n);
}

const float *lz_fast_row(const lz_array *a, int64_t r, float *buf) {
  int64_t D = a->shape[a->ndim - 1], st = a->strides[a->ndim - 1];
  size_t es = lz_dtype_size(a->dtype);
  const char *p = (const char *)a->buf->data + lz_fast_row_offset(a, r) * (int64_t)es;
  if (a->dtype == LZ_FLOAT32 && (st == 1 || D <= 1)) return (const float *)p;
  lz_fast_load(buf, p, a->dtype, st, D);
  return buf;
}

int lz_fast_slots_init(lz_fast_slots *s, size_t bytes, const char *op) {
  int n = lz__num_threads() + 1;
  if (n > LZ_FAST_MAX_SLOTS) n = LZ_FAST_MAX_SLOTS;
  s->per = (bytes + 63) & ~(size_t)63;
  if (s->per == 0) s->per = 64;
  s->n = n;
  for (int i = 0; i < n; i++) atomic_init(&s->busy[i], 0);
  s->base = lz_cpu_scratch(s->per * (size_t)n, &s->cap, op);
  return s->base ? 0 : -1;
}

void lz_fast_slots_free(lz_fast_slots *s) {
  if (s->base) lz_cpu_scratch_free(s->base, s->cap);
  s->base = NULL;
}

int lz_fast_slot_claim(lz_fast_slots *s, void **mem) {
  for (;;) {
    for (int i = 0; i < s->n; i++) {
      int expect = 0;
      if (atomic_compare_exchange_strong(&s->busy[i], &expect, 1)) {
        *mem = s->base + s->per * (size_t)i;
        return i;
      }
    }
  }
}

void lz_fast_slot_release(lz_fast_slots *s, int i) { atomic_store(&s->busy[i], 0); }
