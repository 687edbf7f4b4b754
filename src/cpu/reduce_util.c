/* Helpers of the reduction family: strided conversions to and from compute types, and lanes. */
#include "reduce.h"

#include "half.h"
#include "half_block.h"

lz_dtype lz_cpu_compute_type(lz_dtype d) {
  switch (d) {
  case LZ_FLOAT16:
  case LZ_BFLOAT16:
  case LZ_FLOAT32: return LZ_FLOAT32;
  case LZ_FLOAT64: return LZ_FLOAT64;
  case LZ_UINT8:
  case LZ_UINT16:
  case LZ_UINT32:
  case LZ_UINT64: return LZ_UINT64;
  default: return LZ_INT64;
  }
}

/* ---- typed loaders and storers ---- */

#define ID(v) (v)
#define TO_BOOL(v) ((uint8_t)((v) != 0))
#define TO_F16(v) lz_f2h((float)(v))
#define TO_BF16(v) lz_f2b((float)(v))

#define LOADER(SN, ST, CONV, CN, CT)                                                             \
  static void ld_##SN##_##CN(void *dst, const char *src, int64_t s, int64_t n) {                 \
    CT *d = (CT *)dst;                                                                           \
    if (s == (int64_t)sizeof(ST)) {                                                              \
      const ST *p = (const ST *)src;                                                             \
      for (int64_t i = 0; i < n; i++) d[i] = (CT)CONV(p[i]);                                     \
    } else {                                                                                     \
      for (int64_t i = 0; i < n; i++) d[i] = (CT)CONV(*(const ST *)(src + i * s));               \
    }                                                                                            \
  }
#define STORER(DN, DT, CONV, CN, CT)                                                             \
  static void st_##DN##_##CN(char *dst, int64_t s, const void *src, int64_t n) {                 \
    const CT *p = (const CT *)src;                                                               \
    if (s == (int64_t)sizeof(DT)) {                                                              \
      DT *d = (DT *)dst;                                                                         \
      for (int64_t i = 0; i < n; i++) d[i] = (DT)CONV(p[i]);                                     \
    } else {                                                                                     \
      for (int64_t i = 0; i < n; i++) *(DT *)(dst + i * s) = (DT)CONV(p[i]);                     \
    }                                                                                            \
  }

/* (name, C type, load conversion, store conversion) of every dtype. */
#define FOR_INT_DTYPES(X, CN, CT)                                                                \
  X(b8, uint8_t, ID, TO_BOOL, CN, CT) X(u8, uint8_t, ID, ID, CN, CT)                           \
  X(u16, uint16_t, ID, ID, CN, CT) X(u32, uint32_t, ID, ID, CN, CT)                              \
  X(u64, uint64_t, ID, ID, CN, CT) X(i8, int8_t, ID, ID, CN, CT)                                 \
  X(i16, int16_t, ID, ID, CN, CT) X(i32, int32_t, ID, ID, CN, CT) X(i64, int64_t, ID, ID, CN, CT)
#define FOR_FLOAT_DTYPES(X, CN, CT)                                                              \
  X(f16, uint16_t, lz_h2f, TO_F16, CN, CT) X(bf16, uint16_t, lz_b2f, TO_BF16, CN, CT)            \
  X(f32, float, ID, ID, CN, CT) X(f64, double, ID, ID, CN, CT)
#define FOR_DTYPES(X, CN, CT) FOR_INT_DTYPES(X, CN, CT) FOR_FLOAT_DTYPES(X, CN, CT)

#define MK_LOADER(SN, ST, LC, SC, CN, CT) LOADER(SN, ST, LC, CN, CT)
#define MK_STORER(SN, ST, LC, SC, CN, CT) STORER(SN, ST, SC, CN, CT)
FOR_INT_DTYPES(MK_LOADER, f32, float)
MK_LOADER(f32, float, ID, ID, f32, float)
MK_LOADER(f64, double, ID, ID, f32, float)
FOR_DTYPES(MK_LOADER, f64, double)
FOR_INT_DTYPES(MK_LOADER, i64, int64_t)
FOR_INT_DTYPES(MK_LOADER, u64, uint64_t)
FOR_INT_DTYPES(MK_STORER, f32, float)
MK_STORER(f32, float, ID, ID, f32, float)
MK_STORER(f64, double, ID, ID, f32, float)
FOR_DTYPES(MK_STORER, f64, double)
FOR_DTYPES(MK_STORER, i64, int64_t)
FOR_DTYPES(MK_STORER, u64, uint64_t)

/* The half types to and from float32 (the compute type of their reductions, softmax and
 * lane kernels): per element on the scalar path, else the vector conversions in blocks. */
#define HALF_LS(SN, DT, LC, SC)                                                                  \
  static void ld_##SN##_f32(void *dst, const char *src, int64_t s, int64_t n) {                  \
    if (lz_isa_path() != LZ_ISA_SCALAR) {                                                        \
      lz_cpu_half_load(dst, DT, src, s, n);                                                      \
      return;                                                                                    \
    }                                                                                            \
    float *d = dst;                                                                              \
    for (int64_t i = 0; i < n; i++) d[i] = LC(*(const uint16_t *)(src + i * s));                 \
  }                                                                                              \
  static void st_##SN##_f32(char *dst, int64_t s, const void *src, int64_t n) {                  \
    if (lz_isa_path() != LZ_ISA_SCALAR) {                                                        \
      lz_cpu_half_store(dst, s, DT, src, n);                                                     \
      return;                                                                                    \
    }                                                                                            \
    const float *p = src;                                                                        \
    for (int64_t i = 0; i < n; i++) *(uint16_t *)(dst + i * s) = SC(p[i]);                       \
  }
HALF_LS(f16, LZ_FLOAT16, lz_h2f, TO_F16)
HALF_LS(bf16, LZ_BFLOAT16, lz_b2f, TO_BF16)

#define TABLE(P, CN)                                                                             \
  {                                                                                              \
    [LZ_BOOL] = P##b8_##CN, [LZ_UINT8] = P##u8_##CN, [LZ_UINT16] = P##u16_##CN,                \
    [LZ_UINT32] = P##u32_##CN, [LZ_UINT64] = P##u64_##CN, [LZ_INT8] = P##i8_##CN,                \
    [LZ_INT16] = P##i16_##CN, [LZ_INT32] = P##i32_##CN, [LZ_INT64] = P##i64_##CN,                \
    [LZ_FLOAT16] = P##f16_##CN, [LZ_BFLOAT16] = P##bf16_##CN, [LZ_FLOAT32] = P##f32_##CN,        \
    [LZ_FLOAT64] = P##f64_##CN,                                                                  \
  }
#define INT_TABLE(P, CN)                                                                         \
  {                                                                                              \
    [LZ_BOOL] = P##b8_##CN, [LZ_UINT8] = P##u8_##CN, [LZ_UINT16] = P##u16_##CN,                \
    [LZ_UINT32] = P##u32_##CN, [LZ_UINT64] = P##u64_##CN, [LZ_INT8] = P##i8_##CN,                \
    [LZ_INT16] = P##i16_##CN, [LZ_INT32] = P##i32_##CN, [LZ_INT64] = P##i64_##CN,                \
  }

static const lz_cpu_load_fn load_f32[LZ_DTYPE_COUNT] = TABLE(ld_, f32);
static const lz_cpu_load_fn load_f64[LZ_DTYPE_COUNT] = TABLE(ld_, f64);
static const lz_cpu_load_fn load_i64[LZ_DTYPE_COUNT] = INT_TABLE(ld_, i64);
static const lz_cpu_load_fn load_u64[LZ_DTYPE_COUNT] = INT_TABLE(ld_, u64);
static const lz_cpu_store_fn store_f32[LZ_DTYPE_COUNT] = TABLE(st_, f32);
static const lz_cpu_store_fn store_f64[LZ_DTYPE_COUNT] = TABLE(st_, f64);
static const lz_cpu_store_fn store_i64[LZ_DTYPE_COUNT] = TABLE(st_, i64);
static const lz_cpu_store_fn store_u64[LZ_DTYPE_COUNT] = TABLE(st_, u64);

lz_cpu_load_fn lz_cpu_loader(lz_dtype src, lz_dtype compute) {
  if (!lz__dtype_valid(src) || src == LZ_COMPLEX64) return NULL;
  switch (compute) {
  case LZ_FLOAT32: return load_f32[src];
  case LZ_FLOAT64: return load_f64[src];
  case LZ_INT64: return load_i64[src];
  case LZ_UINT64: return load_u64[src];
  default: return NULL;
  }
}

lz_cpu_store_fn lz_cpu_storer(lz_dtype dst, lz_dtype compute) {
  if (!lz__dtype_valid(dst) || dst == LZ_COMPLEX64) return NULL;
  switch (compute) {
  case LZ_FLOAT32: return store_f32[dst];
  case LZ_FLOAT64: return store_f64[dst];
  case LZ_INT64: return store_i64[dst];
  case LZ_UINT64: return store_u64[dst];
  default: return NULL;
  }
}

/* ---- lanes ---- */

void lz_cpu_lanes_init(lz_cpu_lanes *L, int ndim, const int *shape, const int64_t *in_strides,
                       const int64_t *out_strides, const bool *lane) {
  L->nouter = L->nlane = 0;
  L->nlanes = L->len = 1;
  for (int d = 0; d < ndim; d++) {
    int64_t os = out_strides ? out_strides[d] : 0;
    if (lane[d]) {
      L->lshape[L->nlane] = shape[d];
      L->lin[L->nlane] = in_strides[d];
      L->lout[L->nlane] = os;
      L->nlane++;
      L->len *= shape[d];
    } else {
      L->oshape[L->nouter] = shape[d];
      L->oin[L->nouter] = in_strides[d];
      L->oout[L->nouter] = os;
      L->nouter++;
      L->nlanes *= shape[d];
    }
  }
  if (L->nlane == 0) { /* a lane of one element */
    L->lshape[0] = 1;
    L->lin[0] = L->lout[0] = 0;
    L->nlane = 1;
  }
}

void lz_cpu_lanes_offsets(const lz_cpu_lanes *L, int64_t i, int64_t *in_off, int64_t *out_off) {
  int64_t a = 0, b = 0;
  for (int d = L->nouter - 1; d >= 0; d--) {
    int64_t k = i % L->oshape[d];
    i /= L->oshape[d];
    a += k * L->oin[d];
    b += k * L->oout[d];
  }
  *in_off = a;
  *out_off = b;
}

/* Walks the lane dims: calls ld/st on each innermost run. */
static void lane_walk(const lz_cpu_lanes *L, const int64_t *strides, char *p, size_t itemsize,
                      char *buf, size_t csize, lz_cpu_load_fn ld, lz_cpu_store_fn st) {
  int nl = L->nlane;
  int64_t inner = L->lshape[nl - 1], s = strides[nl - 1] * (int64_t)itemsize;
  if (L->len == 0) return;
  int64_t idx[LZ_MAX_NDIM] = {0};
  int64_t runs = L->len / inner;
  for (int64_t r = 0; r < runs; r++) {
    if (ld) ld(buf, p, s, inner);
    else st(p, s, buf, inner);
    buf += inner * (int64_t)csize;
    for (int d = nl - 2; d >= 0; d--) {
      idx[d]++;
      p += strides[d] * (int64_t)itemsize;
      if (idx[d] < L->lshape[d]) break;
      p -= strides[d] * (int64_t)itemsize * L->lshape[d];
      idx[d] = 0;
    }
  }
}

void lz_cpu_lane_load(const lz_cpu_lanes *L, lz_cpu_load_fn ld, const char *src, size_t itemsize,
                      void *buf, size_t csize) {
  lane_walk(L, L->lin, (char *)src, itemsize, buf, csize, ld, NULL);
}

void lz_cpu_lane_store(const lz_cpu_lanes *L, lz_cpu_store_fn st, char *dst, size_t itemsize,
                       const void *buf, size_t csize) {
  lane_walk(L, L->lout, dst, itemsize, (char *)buf, csize, NULL, st);
}
