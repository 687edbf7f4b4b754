/* MLX's float quantization modes (mxfp4, mxfp8, nvfp4) against NumPy references
 * (tests/data/quant_refs.h, scripts/gen_quant_refs.py): codes, scales and dequantized values;
 * FP8 E4M3 conversion both ways; dequantize's output dtype; quantized_matmul in every mode and
 * with batched weights (against matmul of the dequantized weights, on both kernel paths);
 * gather_qmm against quantized_matmul of gathered matrices; derivatives; the errors. */
#include "cpu/quantize.h"
#include "data/quant_refs.h"
#include "test_grad_check.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static lz_array *f32(const double *v, int rows, int cols) {
  return lz_astype(lz_array_from_data(v, (int[]){rows, cols}, 2, LZ_FLOAT64), LZ_FLOAT32);
}

static void check_mode(lz_quant_mode mode, const double *w, int rows, int cols, const uint32_t *q,
                       size_t nq, const uint8_t *s, size_t ns, const double *deq) {
  lz_scope_begin();
  lz_array *out[3];
  CHECK(lz_quantize_v2(f32(w, rows, cols), 0, 0, mode, out) == 0);
  CHECK(out[2] == NULL);
  CHECK(lz_array_dtype(out[0]) == LZ_UINT32 && lz_array_dtype(out[1]) == LZ_UINT8);
  uint32_t gq[512];
  uint8_t gs[64];
  CHECK(lz_array_read(out[0], LZ_UINT32, gq, nq * 4) == 0);
  CHECK(lz_array_read(out[1], LZ_UINT8, gs, ns) == 0);
  CHECK(memcmp(gq, q, nq * 4) == 0);
  CHECK(memcmp(gs, s, ns) == 0);
  /* dequantize the reference codes: bfloat16 by default, any real float on request */
  lz_array *rq = lz_array_from_data(q, lz_array_shape(out[0]), 2, LZ_UINT32);
  lz_array *rs = lz_array_from_data(s, lz_array_shape(out[1]), 2, LZ_UINT8);
  lz_array *d = lz_dequantize_v2(rq, rs, NULL, 0, 0, mode, LZ_DTYPE_COUNT);
  CHECK(lz_array_dtype(d) == LZ_BFLOAT16);
  CHECK_VALUES(d, deq, (size_t)rows * cols, 8e-3);
  CHECK_VALUES(lz_dequantize_v2(rq, rs, NULL, 0, 0, mode, LZ_FLOAT32), deq, (size_t)rows * cols, 0);
  lz_scope_end();
}

static void test_modes(void) {
  check_mode(LZ_QUANT_MXFP4, lzq_mxfp4_w, 4, 64, lzq_mxfp4_q, N_OF(lzq_mxfp4_q), lzq_mxfp4_s,
             N_OF(lzq_mxfp4_s), lzq_mxfp4_deq);
  check_mode(LZ_QUANT_MXFP8, lzq_mxfp8_w, 3, 64, lzq_mxfp8_q, N_OF(lzq_mxfp8_q), lzq_mxfp8_s,
             N_OF(lzq_mxfp8_s), lzq_mxfp8_deq);
  check_mode(LZ_QUANT_NVFP4, lzq_nvfp4_w, 5, 32, lzq_nvfp4_q, N_OF(lzq_nvfp4_q), lzq_nvfp4_s,
             N_OF(lzq_nvfp4_s), lzq_nvfp4_deq);
}

static void test_fp8(void) {
  for (int c = 0; c < 256; c++) {
    float v = lz_cpu_fp8_to_f32((uint8_t)c);
    if (isnan(v)) CHECK(lzq_fp8_values[c] == 12345.0);
    else CHECK(v == lzq_fp8_values[c]);
  }
  for (size_t i = 0; i < N_OF(lzq_fp8_in); i++) CHECK(lz_cpu_f32_to_fp8((float)lzq_fp8_in[i]) == lzq_fp8_out[i]);
  for (int c = 0; c < 256; c++) { /* every finite value converts back to its own code */
    float v = lz_cpu_fp8_to_f32((uint8_t)c);
    if (!isnan(v) && v != 0) CHECK(lz_cpu_f32_to_fp8(v) == c);
  }
}

static void test_dequantize_dtype(void) {
  lz_scope_begin();
  lz_array *q = lz_array_from_data(lzq_aff_q, (int[]){2, 8}, 2, LZ_UINT32);
  lz_array *s = lz_astype(lz_array_from_data(lzq_aff_s, (int[]){2, 2}, 2, LZ_FLOAT64), LZ_FLOAT16);
  lz_array *b = lz_astype(lz_array_from_data(lzq_aff_b, (int[]){2, 2}, 2, LZ_FLOAT64), LZ_FLOAT16);
  lz_array *d = lz_dequantize_v2(q, s, b, 32, 4, LZ_QUANT_AFFINE, LZ_DTYPE_COUNT);
  CHECK(lz_array_dtype(d) == LZ_FLOAT16);
  CHECK_VALUES(d, lzq_aff_deq, 128, 1e-3);
  lz_array *d32 = lz_dequantize_v2(q, s, b, 32, 4, LZ_QUANT_AFFINE, LZ_FLOAT32);
  CHECK(lz_array_dtype(d32) == LZ_FLOAT32);
  CHECK(lz_item_bool(lz_array_equal(d32, lz_astype(d, LZ_FLOAT32), false))); /* float16 values */
  /* float32 biases promote the default output */
  CHECK(lz_array_dtype(lz_dequantize_v2(q, s, lz_astype(b, LZ_FLOAT32), 32, 4, LZ_QUANT_AFFINE,
                                        LZ_DTYPE_COUNT)) == LZ_FLOAT32);
  /* group size 0 means affine's 64: these codes then do not fit their scales */
  CHECK_ERROR(lz_dequantize_v2(q, s, b, 0, 0, LZ_QUANT_AFFINE, LZ_BFLOAT16),
              "[lz_dequantize] shapes do not fit 4-bit codes in groups of 64");
  CHECK_ERROR(lz_dequantize_v2(q, s, b, 32, 4, LZ_QUANT_AFFINE, LZ_INT32),
              "[lz_dequantize] the output must be real floating point, got int32");
  CHECK_ERROR(lz_dequantize_v2(q, s, NULL, 32, 4, LZ_QUANT_AFFINE, LZ_DTYPE_COUNT),
              "[lz_dequantize] affine quantization needs biases");
  CHECK_ERROR(lz_dequantize_v2(q, s, b, 32, 4, LZ_QUANT_MXFP4, LZ_DTYPE_COUNT),
              "[lz_dequantize] mxfp4 quantization takes no biases");
  CHECK_ERROR(lz_dequantize_v2(q, s, NULL, 32, 4, LZ_QUANT_MXFP4, LZ_DTYPE_COUNT),
              "[lz_dequantize] mxfp4 scales must be uint8, got float16");
  CHECK_ERROR(lz_dequantize_v2(q, s, NULL, 32, 4, LZ_QUANT_NVFP4, LZ_DTYPE_COUNT),
              "[lz_dequantize] nvfp4 quantization requires group size 16, got 32");
  CHECK_ERROR(lz_dequantize_v2(q, s, NULL, 32, 8, LZ_QUANT_MXFP4, LZ_DTYPE_COUNT),
              "[lz_dequantize] mxfp4 quantization requires 4 bits, got 8");
  CHECK_ERROR(lz_dequantize_v2(q, s, b, 32, 4, (lz_quant_mode)9, LZ_DTYPE_COUNT),
              "[lz_dequantize] invalid quantization mode 9");
  lz_scope_end();
}

/* Deterministic values in [-1, 1). */
static lz_array *rnd(const int *shape, int nd, uint32_t seed) {
  size_t n = 1;
  for (int d = 0; d < nd; d++) n *= (size_t)shape[d];
  float *v = malloc(n * sizeof(float) + 4);
  uint32_t s = seed * 2654435761u + 7;
  for (size_t i = 0; i < n; i++) s = s * 1664525u + 1013904223u, v[i] = (float)((s >> 8) / 8388608.0 - 1.0);
  lz_array *a = lz_array_from_data(v, shape, nd, LZ_FLOAT32);
  free(v);
  return a;
}

/* quantized_matmul_v2 against matmul of the dequantized weights. */
static void check_qmm(lz_quant_mode mode, const int *xs, int xnd, const int *ws, int wnd,
                      bool transpose) {
  lz_scope_begin();
  lz_array *q[3];
  CHECK(lz_quantize_v2(rnd(ws, wnd, 3), 0, 0, mode, q) == 0);
  lz_array *x = rnd(xs, xnd, 5);
  lz_array *w = lz_dequantize_v2(q[0], q[1], q[2], 0, 0, mode, LZ_FLOAT32);
  lz_array *want = lz_matmul(x, transpose ? lz_swapaxes(w, -1, -2) : w);
  lz_array *got = lz_quantized_matmul_v2(x, q[0], q[1], q[2], transpose, 0, 0, mode);
  CHECK(got && lz_item_bool(lz_allclose(got, want, 1e-4, 1e-4, false)));
  CHECK(lz_array_ndim(got) == lz_array_ndim(want));
  lz_scope_end();
}

static void test_qmm_modes(void) {
  for (int mode = 0; mode < LZ_QUANT_MODE_COUNT; mode++) {
    lz_quant_mode m = (lz_quant_mode)mode;
    check_qmm(m, (int[]){3, 64}, 2, (int[]){16, 64}, 2, true);  /* few rows: direct path */
    check_qmm(m, (int[]){20, 64}, 2, (int[]){16, 64}, 2, true); /* many rows: BLAS tiles */
    check_qmm(m, (int[]){2, 3, 32}, 3, (int[]){32, 64}, 2, false);
    check_qmm(m, (int[]){17, 32}, 2, (int[]){32, 64}, 2, false);
    /* batched weights, broadcast against x's batch */
    check_qmm(m, (int[]){2, 3, 64}, 3, (int[]){2, 16, 64}, 3, true);
    check_qmm(m, (int[]){4, 1, 18, 64}, 4, (int[]){3, 32, 64}, 3, true);
    check_qmm(m, (int[]){3, 32}, 2, (int[]){2, 32, 64}, 3, false);
  }
  /* float modes keep x's dtype */
  lz_array *q[3];
  CHECK(lz_quantize_v2(rnd((int[]){8, 32}, 2, 1), 0, 0, LZ_QUANT_MXFP8, q) == 0);
  lz_array *xh = lz_astype(rnd((int[]){2, 32}, 2, 2), LZ_FLOAT16);
  lz_array *y = lz_quantized_matmul_v2(xh, q[0], q[1], NULL, true, 0, 0, LZ_QUANT_MXFP8);
  CHECK(lz_array_dtype(y) == LZ_FLOAT16);
  CHECK_ERROR(lz_quantized_matmul_v2(rnd((int[]){2, 3, 32}, 3, 1), lz_broadcast_to(q[0], (int[]){4, 8, 8}, 3),
                                     lz_broadcast_to(q[1], (int[]){4, 8, 1}, 3), NULL, true, 0, 0,
                                     LZ_QUANT_MXFP8),
              "[lz_quantized_matmul] shapes (2,) and (4,) cannot be broadcast");
  CHECK_ERROR(lz_quantized_matmul_v2(rnd((int[]){32}, 1, 1), lz_broadcast_to(q[0], (int[]){4, 8, 8}, 3),
                                     lz_broadcast_to(q[1], (int[]){4, 8, 1}, 3), NULL, true, 0, 0,
                                     LZ_QUANT_MXFP8),
              "[lz_quantized_matmul] x of shape (32,) has too few dimensions");
  for (int i = 0; i < 2; i++) lz_free(q[i]);
  lz_free(xh), lz_free(y);
}

static void test_gather_qmm(void) {
  lz_scope_begin();
  for (int mode = 0; mode < LZ_QUANT_MODE_COUNT; mode++) {
    lz_quant_mode m = (lz_quant_mode)mode;
    lz_array *q[3];
    CHECK(lz_quantize_v2(rnd((int[]){4, 16, 64}, 3, 9), 0, 0, m, q) == 0); /* 4 experts */
    lz_array *x = rnd((int[]){3, 2, 64}, 3, 4);
    lz_array *li = lz_array_from_data((int32_t[]){2, 0, 2, 1}, (int[]){4}, 1, LZ_INT32);
    lz_array *ri = lz_array_from_data((int32_t[]){3, 3, 0, 1}, (int[]){4}, 1, LZ_INT32);
    lz_array *y = lz_gather_qmm(x, q[0], q[1], q[2], li, ri, true, 0, 0, m, false);
    CHECK_SHAPE(y, 4, 2, 16);
    for (int i = 0; i < 4; i++) {
      int a = ((int[]){2, 0, 2, 1})[i], b = ((int[]){3, 3, 0, 1})[i];
      lz_array *qa = lz_take(q[0], lz_int(b), 0), *sa = lz_take(q[1], lz_int(b), 0);
      lz_array *ba = q[2] ? lz_take(q[2], lz_int(b), 0) : NULL;
      lz_array *want = lz_quantized_matmul_v2(lz_take(x, lz_int(a), 0), qa, sa, ba, true, 0, 0, m);
      CHECK(lz_item_bool(lz_array_equal(lz_take(y, lz_int(i), 0), want, false)));
    }
    /* default lhs indices: every x matrix in order, broadcast against the rhs ones */
    lz_array *y2 = lz_gather_qmm(x, q[0], q[1], q[2], NULL, lz_array_from_data((int32_t[]){1}, NULL, 0, LZ_INT32),
                                 true, 0, 0, m, true);
    CHECK_SHAPE(y2, 3, 2, 16);
    lz_array *qa = lz_take(q[0], lz_int(1), 0), *sa = lz_take(q[1], lz_int(1), 0);
    lz_array *ba = q[2] ? lz_take(q[2], lz_int(1), 0) : NULL;
    CHECK(lz_item_bool(lz_allclose(y2, lz_quantized_matmul_v2(x, qa, sa, ba, true, 0, 0, m), 1e-6, 1e-6, false)));
    for (int i = 0; i < 3; i++) lz_free(q[i]);
  }
  lz_array *q[3];
  CHECK(lz_quantize_v2(rnd((int[]){4, 16, 64}, 3, 9), 0, 0, LZ_QUANT_AFFINE, q) == 0);
  CHECK_ERROR(lz_gather_qmm(rnd((int[]){64}, 1, 1), q[0], q[1], q[2], lz_int(0), NULL, true, 0, 0,
                            LZ_QUANT_AFFINE, false),
              "[lz_gather_qmm] x (64,) and the quantized weights (4,16,8) must both be at least 2-D");
  CHECK_ERROR(lz_gather_qmm(rnd((int[]){2, 64}, 2, 1), q[0], q[1], q[2], lz_float(0), NULL, true, 0,
                            0, LZ_QUANT_AFFINE, false),
              "[lz_gather_qmm] lhs_indices must be integral, got float32");
  for (int i = 0; i < 3; i++) lz_free(q[i]);
  lz_scope_end();
}

/* ---- derivatives: x (every mode), the affine scales and biases of batched weights ---- */
#define IN(lo, hi, ...) {(int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), {__VA_ARGS__}, lo, hi}
static lz_array *g_q[3], *g_fq[3];

static lz_array *f_batched(lz_array *const *x) {
  lz_array *s = lz_astype(x[1], LZ_FLOAT32), *b = lz_astype(x[2], LZ_FLOAT32);
  return lz_quantized_matmul_v2(x[0], g_q[0], s, b, true, 32, 4, LZ_QUANT_AFFINE);
}
static lz_array *f_fp(lz_array *const *x) {
  return lz_quantized_matmul_v2(x[0], g_fq[0], g_fq[1], NULL, false, 0, 0, LZ_QUANT_NVFP4);
}
static lz_array *f_gather(lz_array *const *x) {
  lz_array *ri = lz_array_from_data((int32_t[]){1, 1, 0}, (int[]){3}, 1, LZ_INT32);
  lz_array *s = lz_astype(x[1], LZ_FLOAT32), *b = lz_astype(x[2], LZ_FLOAT32);
  return lz_gather_qmm(x[0], g_q[0], s, b, lz_array_from_data((int32_t[]){0, 1, 0}, (int[]){3}, 1, LZ_INT32),
                       ri, true, 32, 4, LZ_QUANT_AFFINE, false);
}

static void test_grads(void) {
  CHECK(lz_quantize_v2(rnd((int[]){2, 4, 64}, 3, 11), 32, 4, LZ_QUANT_AFFINE, g_q) == 0);
  CHECK(lz_quantize_v2(rnd((int[]){32, 16}, 2, 12), 0, 0, LZ_QUANT_NVFP4, g_fq) == 0);
  gc_check_h("batched quantized_matmul", f_batched,
             (gc_input[]){IN(-1, 1, 3, 2, 2, 64), IN(0.05, 0.2, 2, 4, 2), IN(-1, 1, 2, 4, 2)}, 3, 2e-3, 0.5);
  gc_check_h("nvfp4 quantized_matmul", f_fp, (gc_input[]){IN(-1, 1, 3, 32)}, 1, 2e-3, 0.5);
  gc_check_h("gather_qmm", f_gather,
             (gc_input[]){IN(-1, 1, 2, 2, 64), IN(0.05, 0.2, 2, 4, 2), IN(-1, 1, 2, 4, 2)}, 3, 2e-3, 0.5);
  for (int i = 0; i < 3; i++) lz_free(g_q[i]), lz_free(g_fq[i]);
}

int main(void) {
  RUN(test_modes);
  RUN(test_fp8);
  RUN(test_dequantize_dtype);
  RUN(test_qmm_modes);
  RUN(test_gather_qmm);
  RUN(test_grads);
  return lzt_summary();
}
