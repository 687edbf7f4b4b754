/* Affine quantization: bit layout against hand-computed packings, quantize -> dequantize error
 * bounds for every bit width and group size, quantized_matmul against matmul of the dequantized
 * weights (both kernels paths, both layouts, the SIMD and portable paths), strided inputs,
 * float16, empty arrays and the errors. */
#include "cpu/quantize.h"
#include "lz_test.h"

static const int bit_widths[] = {2, 3, 4, 5, 6, 8};
static const int group_sizes[] = {32, 64, 128};

/* Deterministic pseudo-random floats in [-1, 1). */
static void fill(float *v, size_t n, uint32_t seed) {
  uint32_t s = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    v[i] = (float)((s >> 8) / 8388608.0 - 1.0);
  }
}

static lz_array *rand_array(const int *shape, int ndim, uint32_t seed) {
  size_t n = 1;
  for (int d = 0; d < ndim; d++) n *= (size_t)shape[d];
  float *v = malloc(n * sizeof(float));
  fill(v, n, seed);
  lz_array *a = lz_array_from_data(v, shape, ndim, LZ_FLOAT32);
  free(v);
  return a;
}

static double *read_f64(lz_array *a) {
  size_t n = a ? lz_array_size(a) : 0;
  double *v = calloc(n ? n : 1, sizeof(double));
  if (!a || lz_array_read(a, LZ_FLOAT64, v, n * sizeof(double)) != 0) CHECK(0);
  return v;
}

/* w = [0, 1, ..., 15] twice: w_max 15 is the edge, scale -1, bias 15, codes 15 - w. */
static void test_layout_4bit(void) {
  float w[32];
  for (int i = 0; i < 32; i++) w[i] = (float)(i % 16);
  lz_array *out[3];
  CHECK(lz_quantize(lz_array_from_data(w, (int[]){1, 32}, 2, LZ_FLOAT32), 32, 4, out) == 0);
  CHECK_SHAPE(out[0], 1, 4);
  CHECK_SHAPE(out[1], 1, 1);
  CHECK(lz_array_dtype(out[0]) == LZ_UINT32);
  uint32_t q[4];
  CHECK(lz_array_read(out[0], LZ_UINT32, q, sizeof q) == 0);
  /* codes 15,14,...,8 then 7,...,0, four bits each, least significant first */
  CHECK(q[0] == 0x89ABCDEFu && q[1] == 0x01234567u && q[2] == 0x89ABCDEFu && q[3] == 0x01234567u);
  CHECK_CLOSE(lz_item_f64(out[1]), -1.0, 0);
  CHECK_CLOSE(lz_item_f64(out[2]), 15.0, 0);
  /* Negative edge: w = -i: scale 1, bias -15, codes i... reversed: w + 15. */
  for (int i = 0; i < 32; i++) w[i] = -(float)(i % 16);
  CHECK(lz_quantize(lz_array_from_data(w, (int[]){1, 32}, 2, LZ_FLOAT32), 32, 4, out) == 0);
  CHECK(lz_array_read(out[0], LZ_UINT32, q, sizeof q) == 0);
  CHECK(q[0] == 0x89ABCDEFu && q[1] == 0x01234567u);
  CHECK_CLOSE(lz_item_f64(out[1]), 1.0, 0);
  CHECK_CLOSE(lz_item_f64(out[2]), -15.0, 0);
}

/* 3 bits: w = i % 8 gives codes 7 - i % 8 = 7,6,5,4,3,2,1,0,...; code 10 (= 5 = 0b101)
 * straddles words 0 and 1 at bit 30. 96 bits in three words. */
static void test_layout_3bit(void) {
  float w[32];
  for (int i = 0; i < 32; i++) w[i] = (float)(i % 8);
  lz_array *out[3];
  CHECK(lz_quantize(lz_array_from_data(w, (int[]){1, 32}, 2, LZ_FLOAT32), 32, 3, out) == 0);
  CHECK_SHAPE(out[0], 1, 3);
  uint32_t q[3];
  CHECK(lz_array_read(out[0], LZ_UINT32, q, sizeof q) == 0);
  /* The 24-bit pattern of 7..0 is 0x053977 (0b000 001 010 011 100 101 110 111 read low first);
   * it repeats every 24 bits: word0 = pattern | pattern << 24, and so on. */
  uint64_t pat = 0;
  for (int j = 0; j < 8; j++) pat |= (uint64_t)(7 - j) << (3 * j);
  CHECK(pat == 0x053977);
  uint32_t e0 = (uint32_t)(pat | pat << 24), e1 = (uint32_t)(pat >> 8 | pat << 16),
           e2 = (uint32_t)(pat >> 16 | pat << 8);
  CHECK(q[0] == e0 && q[1] == e1 && q[2] == e2);
  CHECK(q[0] == 0x77053977u && q[1] == 0x39770539u && q[2] == 0x05397705u);
}

/* Every bit width and group size. MLX's scheme represents the group's edge of larger magnitude
 * and zero exactly, so the codes span [bias, bias + (2^bits - 1) * scale], which may stop short
 * of the far edge by less than one scale. Inside that span every element is within |scale| / 2;
 * outside it, an element is clipped to the nearest end, less than |scale| away. */
static void test_roundtrip_bounds(void) {
  for (size_t bi = 0; bi < sizeof bit_widths / sizeof *bit_widths; bi++)
    for (size_t gi = 0; gi < 3; gi++) {
      int bits = bit_widths[bi], gs = group_sizes[gi], R = 3, K = 256;
      lz_scope_begin();
      lz_array *w = rand_array((int[]){R, K}, 2, (uint32_t)(bits * 100 + gs));
      lz_array *out[3];
      CHECK(lz_quantize(w, gs, bits, out) == 0);
      CHECK_SHAPE(out[0], R, K * bits / 32);
      CHECK_SHAPE(out[1], R, K / gs);
      lz_array *d = lz_dequantize(out[0], out[1], out[2], gs, bits);
      CHECK_SHAPE(d, R, K);
      double *wv = read_f64(w), *dv = read_f64(d), *sv = read_f64(out[1]), *bv = read_f64(out[2]);
      int bad = 0, clipped = 0;
      for (int r = 0; r < R; r++)
        for (int k = 0; k < K; k++) {
          int g = r * (K / gs) + k / gs;
          double s = sv[g], b = bv[g], e = b + ((1 << bits) - 1) * s;
          double lo = fmin(b, e), hi = fmax(b, e), x = wv[r * K + k], y = dv[r * K + k];
          double slack = 1e-5 * (1 + fabs(x));
          if (x >= lo - slack && x <= hi + slack) {
            if (fabs(y - x) > fabs(s) / 2 + slack) bad++;
          } else {
            clipped++;
            if (fabs(y - (x < lo ? lo : hi)) > slack || fabs(y - x) > fabs(s)) bad++;
          }
        }
      if (bad) fprintf(stderr, "bits %d gs %d: %d elements off\n", bits, gs, bad);
      CHECK(bad == 0);
      if (bits >= 4) CHECK(clipped < R * K / 8); /* a thin band at the far edge */
      free(wv), free(dv), free(sv), free(bv);
      lz_scope_end();
    }
}

/* float16 and bfloat16 weights keep their dtype in scales and biases; a constant group has a
 * zero range (scale eps) and comes back exactly. */
static void test_half_and_constant(void) {
  lz_array *w = lz_astype(rand_array((int[]){2, 64}, 2, 7), LZ_FLOAT16);
  lz_array *out[3];
  CHECK(lz_quantize(w, 64, 8, out) == 0);
  CHECK(lz_array_dtype(out[1]) == LZ_FLOAT16 && lz_array_dtype(out[2]) == LZ_FLOAT16);
  lz_array *d = lz_dequantize(out[0], out[1], out[2], 64, 8);
  CHECK(lz_array_dtype(d) == LZ_FLOAT16);
  CHECK(lz_item_bool(lz_allclose(d, w, 0, 0.01, false)));
  lz_array *wb = lz_astype(w, LZ_BFLOAT16);
  CHECK(lz_quantize(wb, 32, 4, out) == 0);
  CHECK(lz_array_dtype(out[2]) == LZ_BFLOAT16);
  lz_array *c = lz_full((int[]){1, 32}, 2, 0.75, LZ_FLOAT32);
  CHECK(lz_quantize(c, 32, 4, out) == 0);
  double e[32];
  for (int i = 0; i < 32; i++) e[i] = 0.75;
  CHECK_VALUES(lz_dequantize(out[0], out[1], out[2], 32, 4), e, 32, 1e-6);
  lz_array *z = lz_zeros((int[]){1, 32}, 2, LZ_FLOAT32);
  CHECK(lz_quantize(z, 32, 2, out) == 0);
  for (int i = 0; i < 32; i++) e[i] = 0;
  CHECK_VALUES(lz_dequantize(out[0], out[1], out[2], 32, 2), e, 32, 0);
}

/* A transposed (strided) weight and a 3-D weight quantize like their contiguous copies. */
static void test_strided_and_batched(void) {
  lz_array *w = rand_array((int[]){64, 6}, 2, 11);
  lz_array *wt = lz_transpose(w, NULL, 0), *wc = lz_contiguous(wt);
  lz_array *a[3], *b[3];
  CHECK(lz_quantize(wt, 32, 4, a) == 0);
  CHECK(lz_quantize(wc, 32, 4, b) == 0);
  for (int k = 0; k < 3; k++) CHECK(lz_item_bool(lz_array_equal(a[k], b[k], false)));
  lz_array *w3 = rand_array((int[]){2, 3, 64}, 3, 12);
  CHECK(lz_quantize(w3, 64, 6, a) == 0);
  CHECK_SHAPE(a[0], 2, 3, 12);
  CHECK_SHAPE(a[1], 2, 3, 1);
  lz_array *d = lz_dequantize(lz_transpose(lz_transpose(a[0], NULL, 0), NULL, 0), a[1], a[2], 64, 6);
  CHECK_SHAPE(d, 2, 3, 64);
  CHECK(lz_item_bool(lz_allclose(d, w3, 0, 0.04, false)));
  /* empty */
  CHECK(lz_quantize(lz_zeros((int[]){0, 64}, 2, LZ_FLOAT32), 64, 4, a) == 0);
  CHECK_SHAPE(a[0], 0, 8);
  CHECK_SHAPE(lz_dequantize(a[0], a[1], a[2], 64, 4), 0, 64);
}

/* quantized_matmul == matmul with the dequantized weights, within float32 rounding. */
static void check_qmm(int M, int N, int K, int gs, int bits, bool transpose, lz_dtype xdt) {
  lz_scope_begin();
  int wshape[2] = {transpose ? N : K, transpose ? K : N};
  lz_array *w = rand_array(wshape, 2, (uint32_t)(M * 7 + N + bits));
  lz_array *x = lz_astype(rand_array((int[]){M, K}, 2, (uint32_t)(K + bits)), xdt);
  lz_array *q[3];
  CHECK(lz_quantize(w, gs, bits, q) == 0);
  lz_array *wd = lz_dequantize(q[0], q[1], q[2], gs, bits);
  lz_array *ref = lz_matmul(lz_astype(x, LZ_FLOAT32), transpose ? lz_transpose(wd, NULL, 0) : wd);
  lz_array *y = lz_quantized_matmul(x, q[0], q[1], q[2], transpose, gs, bits);
  CHECK_SHAPE(y, M, N);
  CHECK(lz_array_dtype(y) == lz_promote_types(xdt, LZ_FLOAT32));
  double tol = xdt == LZ_FLOAT32 ? 1e-4 : 1e-2;
  if (!lz_item_bool(lz_allclose(lz_astype(y, LZ_FLOAT32), ref, tol, tol * sqrt(K), false))) {
    fprintf(stderr, "qmm M=%d N=%d K=%d gs=%d bits=%d transpose=%d: max diff %g\n", M, N, K, gs,
            bits, transpose,
            lz_item_f64(lz_max(lz_abs(lz_subtract(lz_astype(y, LZ_FLOAT32), ref)), false)));
    CHECK(0);
  }
  lz_scope_end();
}

static void test_qmm(void) {
  for (int simd = 1; simd >= 0; simd--) {
    lz_cpu_qmm_use_simd(simd);
    for (int t = 0; t < 2; t++) {
      check_qmm(1, 64, 256, 64, 4, t, LZ_FLOAT32);
      check_qmm(3, 64, 128, 32, 4, t, LZ_FLOAT32);
      check_qmm(15, 128, 256, 128, 4, t, LZ_FLOAT32);
      check_qmm(2, 32, 96, 32, 4, t, LZ_FLOAT32); /* K % 64 != 0 */
      check_qmm(3, 96, 128, 32, 3, t, LZ_FLOAT32);
      check_qmm(2, 128, 128, 128, 8, t, LZ_FLOAT32);
      check_qmm(5, 64, 64, 32, 2, t, LZ_FLOAT32);
      check_qmm(1, 64, 192, 64, 6, t, LZ_FLOAT32);
      check_qmm(4, 32, 96, 32, 5, t, LZ_FLOAT32);
      check_qmm(20, 96, 128, 32, 4, t, LZ_FLOAT32); /* the BLAS path */
      check_qmm(33, 64, 64, 64, 3, t, LZ_FLOAT32);
      check_qmm(2, 64, 128, 64, 4, t, LZ_FLOAT16);
    }
  }
  lz_cpu_qmm_use_simd(true);
}

/* x with batch dims, a strided x, a 1-D x, and an empty one. */
static void test_qmm_shapes(void) {
  lz_array *w = rand_array((int[]){32, 64}, 2, 5), *q[3];
  CHECK(lz_quantize(w, 64, 4, q) == 0);
  lz_array *wd = lz_transpose(lz_dequantize(q[0], q[1], q[2], 64, 4), NULL, 0);
  lz_array *x = rand_array((int[]){2, 3, 64}, 3, 6);
  lz_array *y = lz_quantized_matmul(x, q[0], q[1], q[2], true, 64, 4);
  CHECK_SHAPE(y, 2, 3, 32);
  CHECK(lz_item_bool(lz_allclose(y, lz_matmul(x, wd), 1e-4, 1e-4, false)));
  lz_array *xt = lz_transpose(rand_array((int[]){64, 3}, 2, 8), NULL, 0);
  CHECK(lz_item_bool(lz_allclose(lz_quantized_matmul(xt, q[0], q[1], q[2], true, 64, 4),
                                 lz_matmul(xt, wd), 1e-4, 1e-4, false)));
  lz_array *x1 = rand_array((int[]){64}, 1, 9);
  lz_array *y1 = lz_quantized_matmul(x1, q[0], q[1], q[2], true, 64, 4);
  CHECK_SHAPE(y1, 32);
  CHECK(lz_item_bool(lz_allclose(y1, lz_matmul(x1, wd), 1e-4, 1e-4, false)));
  CHECK_SHAPE(lz_quantized_matmul(lz_zeros((int[]){0, 64}, 2, LZ_FLOAT32), q[0], q[1], q[2], true, 64, 4), 0, 32);
}

static void test_errors(void) {
  lz_array *w = rand_array((int[]){4, 64}, 2, 1), *out[3];
  CHECK(lz_quantize(w, 48, 4, out) == -1 && !out[0] && strstr(lz_last_error(), "group size 48"));
  lz_clear_error();
  CHECK(lz_quantize(w, 64, 7, out) == -1 && strstr(lz_last_error(), "7 bits"));
  lz_clear_error();
  CHECK(lz_quantize(w, 64, 1, out) == -1 && strstr(lz_last_error(), "[lz_quantize]"));
  lz_clear_error();
  CHECK(lz_quantize(rand_array((int[]){64}, 1, 1), 64, 4, out) == -1 &&
        strstr(lz_last_error(), "at least 2 dimensions"));
  lz_clear_error();
  CHECK(lz_quantize(rand_array((int[]){2, 96}, 2, 1), 64, 4, out) == -1 &&
        strstr(lz_last_error(), "not divisible by the group size 64"));
  lz_clear_error();
  CHECK(lz_quantize(lz_zeros((int[]){2, 64}, 2, LZ_INT32), 64, 4, out) == -1 &&
        strstr(lz_last_error(), "int32"));
  lz_clear_error();
  CHECK(lz_quantize(NULL, 64, 4, out) == -1);
  lz_clear_error();
  CHECK(lz_quantize(w, 64, 4, out) == 0);
  CHECK_ERROR(lz_dequantize(out[0], out[1], out[2], 32, 4), "do not fit");
  CHECK_ERROR(lz_dequantize(out[0], out[1], out[2], 64, 8), "do not fit");
  CHECK_ERROR(lz_dequantize(out[1], out[1], out[2], 64, 4), "must be uint32");
  CHECK_ERROR(lz_dequantize(out[0], out[1], out[2], 64, 9), "9 bits");
  lz_array *x = rand_array((int[]){2, 32}, 2, 2);
  CHECK_ERROR(lz_quantized_matmul(x, out[0], out[1], out[2], true, 64, 4), "(2,32)");
  CHECK_ERROR(lz_quantized_matmul(lz_zeros((int[]){2, 64}, 2, LZ_INT32), out[0],
                                  lz_astype(out[1], LZ_INT32), out[2], true, 64, 4),
              "floating point");
  CHECK_ERROR(lz_quantized_matmul(x, out[0], out[1], out[2], true, 100, 4), "group size 100");
}

int main(void) {
  RUN(test_layout_4bit);
  RUN(test_layout_3bit);
  RUN(test_roundtrip_bounds);
  RUN(test_half_and_constant);
  RUN(test_strided_and_batched);
  RUN(test_qmm);
  RUN(test_qmm_shapes);
  RUN(test_errors);
  return lzt_summary();
}
