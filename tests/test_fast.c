/* Tests of the fused ops (lz_fast_*): against NumPy references (tests/data/conv_refs.h, made by
 * scripts/gen_conv_refs.py) and against the same computation composed of basic ops, over
 * masks, grouped-query heads, half types, strided inputs, empty arrays and error cases. */
#include "lz_test.h"

#include <stdint.h>

#include "cpu/unary.h" /* lz_cpu_set_simd: the scalar paths against the SIMD ones */
#include "data/conv_refs.h"

/* The sequence of scripts/gen_conv_refs.py, rounded to float32: values in [-1, 1). */
static double gen(int64_t i, int64_t seed) {
  uint64_t h = ((uint64_t)(i + seed) * 2654435761u) % 1000u;
  return (double)(float)((double)h / 500.0 - 1.0);
}

static lz_array *gen_array(const int *shape, int ndim, int seed, lz_dtype dt) {
  size_t n = 1;
  for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
  double *d = malloc((n ? n : 1) * sizeof(double));
  for (size_t i = 0; i < n; i++) d[i] = gen((int64_t)i, seed);
  lz_array *a = lz_array_from_data(d, shape, ndim, LZ_FLOAT64);
  free(d);
  lz_array *b = lz_astype(a, dt);
  lz_free(a);
  return b;
}

/* Checks that a and b (same shape) agree elementwise within tol (relative to 1 + |b|). */
static void check_same(const char *file, int line, lz_array *a, lz_array *b, double tol) {
  size_t n = b ? lz_array_size(b) : 0;
  double *e = malloc((n ? n : 1) * sizeof(double));
  if (!b || lz_array_read(b, LZ_FLOAT64, e, n * sizeof(double)) != 0) {
    lzt_checks++, lzt_failures++;
    fprintf(stderr, "%s:%d: reference failed: %s\n", file, line, lz_last_error());
  } else {
    lzt_check_values(file, line, a, e, n, tol);
  }
  free(e);
}
#define CHECK_SAME(a, b, tol) check_same(__FILE__, __LINE__, a, b, tol)

/* ---- composed references ---- */

static lz_array *composed_rms(lz_array *x, lz_array *w, double eps) {
  lz_array *ms = lz_mean_axis(lz_square(x), -1, true);
  lz_array *y = lz_multiply(x, lz_rsqrt(lz_add(ms, lz_float(eps))));
  return w ? lz_multiply(y, w) : y;
}

static lz_array *composed_ln(lz_array *x, lz_array *w, lz_array *b, double eps) {
  lz_array *mu = lz_mean_axis(x, -1, true), *var = lz_var_axis(x, -1, true, 0);
  lz_array *y = lz_multiply(lz_subtract(x, mu), lz_rsqrt(lz_add(var, lz_float(eps))));
  if (w) y = lz_multiply(y, w);
  if (b) y = lz_add(y, b);
  return y;
}

/* softmax(scale q k^T + mask) v with k, v repeated over the query heads. */
static lz_array *composed_sdpa(lz_array *q, lz_array *k, lz_array *v, double scale,
                               lz_array *mask) {
  int rep = lz_array_dim(q, 1) / lz_array_dim(k, 1);
  if (rep > 1) k = lz_repeat(k, rep, 1), v = lz_repeat(v, rep, 1);
  lz_array *s = lz_multiply(lz_matmul(q, lz_swapaxes(k, -1, -2)), lz_float(scale));
  if (mask && lz_array_dtype(mask) == LZ_BOOL)
    s = lz_where(mask, s, lz_float(-3.4028234663852886e38));
  else if (mask)
    s = lz_add(s, mask);
  return lz_matmul(lz_softmax_axis(s, -1, true), v);
}

/* The causal mask of MLX: query i sees keys j <= i + Lk - Lq. */
static lz_array *causal_mask(int lq, int lk) {
  lz_array *qi = lz_reshape(lz_arange(lk - lq, lk, 1, LZ_INT32), (int[]){lq, 1}, 2);
  return lz_greater_equal(qi, lz_arange(0, lk, 1, LZ_INT32));
}

/* ---- rms_norm / layer_norm ---- */

static void test_norm_refs(void) {
  int xs[3] = {2, 3, 16}, ws[1] = {16};
  lz_array *x = gen_array(xs, 3, 1, LZ_FLOAT32), *w = gen_array(ws, 1, 2, LZ_FLOAT32);
  lz_array *b = gen_array(ws, 1, 3, LZ_FLOAT32);
  lz_array *y = lz_fast_rms_norm(x, w, 1e-5);
  CHECK_SHAPE(y, 2, 3, 16);
  CHECK_VALUES(y, fast_ref_rms_norm, 96, 1e-5);
  CHECK_VALUES(lz_fast_layer_norm(x, w, b, 1e-5), fast_ref_layer_norm, 96, 1e-5);
}

static void test_norm_composed(void) {
  int xs[3] = {3, 7, 37}, ws[1] = {37};
  lz_array *x = gen_array(xs, 3, 11, LZ_FLOAT32);
  x = lz_add(lz_multiply(x, lz_float(3)), lz_float(0.5)); /* a non-zero mean */
  lz_array *w = gen_array(ws, 1, 12, LZ_FLOAT32), *b = gen_array(ws, 1, 13, LZ_FLOAT32);
  CHECK_SAME(lz_fast_rms_norm(x, w, 1e-5), composed_rms(x, w, 1e-5), 1e-5);
  CHECK_SAME(lz_fast_rms_norm(x, NULL, 1e-2), composed_rms(x, NULL, 1e-2), 1e-5);
  CHECK_SAME(lz_fast_layer_norm(x, w, b, 1e-5), composed_ln(x, w, b, 1e-5), 1e-5);
  CHECK_SAME(lz_fast_layer_norm(x, NULL, b, 1e-5), composed_ln(x, NULL, b, 1e-5), 1e-5);
  CHECK_SAME(lz_fast_layer_norm(x, w, NULL, 1e-5), composed_ln(x, w, NULL, 1e-5), 1e-5);
  CHECK_SAME(lz_fast_layer_norm(x, NULL, NULL, 0.1), composed_ln(x, NULL, NULL, 0.1), 1e-5);
  /* strided: x transposed so rows are not contiguous; weight a reversed view */
  int perm[3] = {1, 0, 2}, ax[1] = {0};
  lz_array *xt = lz_transpose(x, perm, 3), *wr = lz_flip(w, ax, 1);
  CHECK_SAME(lz_fast_layer_norm(xt, wr, b, 1e-5), composed_ln(xt, wr, b, 1e-5), 1e-5);
  lz_array *xc = lz_swapaxes(x, 1, 2); /* the normalised axis itself is strided */
  CHECK_SAME(lz_fast_rms_norm(xc, NULL, 1e-5), composed_rms(xc, NULL, 1e-5), 1e-5);
  /* a long row (several SIMD blocks and a tail) */
  int ls[2] = {5, 4099};
  lz_array *xl = gen_array(ls, 2, 14, LZ_FLOAT32);
  CHECK_SAME(lz_fast_layer_norm(xl, NULL, NULL, 1e-5), composed_ln(xl, NULL, NULL, 1e-5), 1e-5);
}

static void test_norm_half(void) {
  int xs[2] = {6, 40}, ws[1] = {40};
  lz_array *x = gen_array(xs, 2, 21, LZ_FLOAT16), *w = gen_array(ws, 1, 22, LZ_FLOAT16);
  lz_array *y = lz_fast_rms_norm(x, w, 1e-5);
  CHECK(y && lz_array_dtype(y) == LZ_FLOAT16);
  lz_array *x32 = lz_astype(x, LZ_FLOAT32), *w32 = lz_astype(w, LZ_FLOAT32);
  CHECK_SAME(y, composed_rms(x32, w32, 1e-5), 2e-3);
  lz_array *xb = gen_array(xs, 2, 23, LZ_BFLOAT16);
  lz_array *yb = lz_fast_layer_norm(xb, NULL, NULL, 1e-5);
  CHECK(yb && lz_array_dtype(yb) == LZ_BFLOAT16);
  CHECK_SAME(yb, composed_ln(lz_astype(xb, LZ_FLOAT32), NULL, NULL, 1e-5), 1e-2);
  /* float16 x with a float32 weight promotes to float32 */
  lz_array *yp = lz_fast_layer_norm(x, w32, NULL, 1e-5);
  CHECK(yp && lz_array_dtype(yp) == LZ_FLOAT32);
  CHECK_SAME(yp, composed_ln(x32, w32, NULL, 1e-5), 1e-5);
}

static void test_norm_edge(void) {
  int es[2] = {0, 8}, ws[1] = {8};
  lz_array *y =
      lz_fast_layer_norm(lz_zeros(es, 2, LZ_FLOAT32), lz_ones(ws, 1, LZ_FLOAT32), NULL, 1e-5);
  CHECK_SHAPE(y, 0, 8);
  CHECK(lz_eval(y) == 0);
  int one[1] = {5};
  double v[5] = {1, 2, 3, 4, 5}, e[5];
  lz_array *x1 = lz_array_from_data(v, one, 1, LZ_FLOAT64); /* 1-d, float64 */
  double ms = (1 + 4 + 9 + 16 + 25) / 5.0;
  for (int i = 0; i < 5; i++) e[i] = v[i] / sqrt(ms + 1e-5);
  lz_array *r = lz_fast_rms_norm(x1, NULL, 1e-5);
  CHECK(r && lz_array_dtype(r) == LZ_FLOAT64);
  CHECK_VALUES(r, e, 5, 1e-6);
}

static void test_norm_errors(void) {
  int xs[2] = {3, 4}, ws[1] = {5}, w2[2] = {1, 4};
  lz_array *x = lz_ones(xs, 2, LZ_FLOAT32);
  CHECK_ERROR(lz_fast_rms_norm(lz_float(1), NULL, 1e-5),
              "[lz_fast_rms_norm] x must have at least 1 dimension, got shape ()");
  CHECK_ERROR(lz_fast_rms_norm(x, lz_ones(ws, 1, LZ_FLOAT32), 1e-5),
              "[lz_fast_rms_norm] weight must have shape (4,) (the last dim of x (3,4)), got (5,)");
  CHECK_ERROR(lz_fast_layer_norm(x, NULL, lz_ones(w2, 2, LZ_FLOAT32), 1e-5),
              "[lz_fast_layer_norm] bias must have shape (4,)");
  CHECK_ERROR(lz_fast_layer_norm(lz_ones(xs, 2, LZ_INT32), NULL, NULL, 1e-5),
              "[lz_fast_layer_norm] only floating point types are supported, got int32");
  CHECK_ERROR(lz_fast_rms_norm(NULL, NULL, 1e-5), "[lz_fast_rms_norm] argument 0 is NULL");
}

/* ---- rope ---- */

static void test_rope_refs(void) {
  int xs[4] = {1, 2, 5, 8};
  lz_array *x = gen_array(xs, 4, 4, LZ_FLOAT32);
  lz_array *y = lz_fast_rope(x, 6, false, 10000, 0.5, 3, NULL);
  CHECK_SHAPE(y, 1, 2, 5, 8);
  CHECK_VALUES(y, fast_ref_rope, 80, 2e-6);
  CHECK_VALUES(lz_fast_rope(x, 8, true, 10000, 1, 0, NULL), fast_ref_rope_trad, 80, 2e-6);
  double f[3] = {1.0, 2.5, 7.0};
  int fs[1] = {3};
  lz_array *freqs = lz_array_from_data(f, fs, 1, LZ_FLOAT64);
  CHECK_VALUES(lz_fast_rope(x, 6, true, 0, 1, 2, freqs), fast_ref_rope_freqs, 80, 2e-6);
}

static void test_rope_layouts(void) {
  /* (B, L, H, D) transposed to (B, H, L, D): strided rows; same result as a copy */
  int xs[4] = {2, 9, 3, 16}, perm[4] = {0, 2, 1, 3};
  lz_array *x = lz_transpose(gen_array(xs, 4, 31, LZ_FLOAT32), perm, 4);
  lz_array *xc = lz_contiguous(x);
  CHECK_SAME(lz_fast_rope(x, 16, false, 500, 1, 4, NULL),
             lz_fast_rope(xc, 16, false, 500, 1, 4, NULL), 1e-6);
  /* float16 goes through float32 and rounds once */
  lz_array *xh = lz_astype(xc, LZ_FLOAT16);
  lz_array *yh = lz_fast_rope(xh, 12, true, 10000, 1, 0, NULL);
  CHECK(yh && lz_array_dtype(yh) == LZ_FLOAT16);
  CHECK_SAME(yh, lz_fast_rope(lz_astype(xh, LZ_FLOAT32), 12, true, 10000, 1, 0, NULL), 2e-3);
  /* 3-d input: positions along axis -2 */
  int x3[3] = {2, 4, 6};
  lz_array *a3 = gen_array(x3, 3, 32, LZ_FLOAT32);
  lz_array *a4 = lz_reshape(a3, (int[]){2, 1, 4, 6}, 4);
  CHECK_SAME(lz_reshape(lz_fast_rope(a3, 4, false, 10000, 1, 1, NULL), (int[]){2, 1, 4, 6}, 4),
             lz_fast_rope(a4, 4, false, 10000, 1, 1, NULL), 1e-6);
  int es[3] = {2, 0, 8};
  lz_array *ye = lz_fast_rope(lz_zeros(es, 3, LZ_FLOAT32), 8, false, 10000, 1, 0, NULL);
  CHECK_SHAPE(ye, 2, 0, 8);
  CHECK(lz_eval(ye) == 0);
}

static void test_rope_errors(void) {
  int xs[3] = {1, 4, 8}, x2[2] = {4, 8}, fs[1] = {3};
  lz_array *x = lz_ones(xs, 3, LZ_FLOAT32);
  CHECK_ERROR(lz_fast_rope(lz_ones(x2, 2, LZ_FLOAT32), 8, false, 1e4, 1, 0, NULL),
              "[lz_fast_rope] x must have at least 3 dimensions, got shape (4,8)");
  CHECK_ERROR(lz_fast_rope(x, 5, false, 1e4, 1, 0, NULL),
              "[lz_fast_rope] dims must be positive, even and at most the last dim of x (8), "
              "got 5");
  CHECK_ERROR(lz_fast_rope(x, 10, false, 1e4, 1, 0, NULL), "got 10");
  CHECK_ERROR(lz_fast_rope(x, 8, false, 1e4, 1, 0, lz_ones(fs, 1, LZ_FLOAT32)),
              "[lz_fast_rope] freqs must have shape (4,), got (3,)");
  CHECK_ERROR(lz_fast_rope(lz_ones(xs, 3, LZ_INT32), 8, false, 1e4, 1, 0, NULL),
              "[lz_fast_rope] only floating point types");
  CHECK_ERROR(lz_fast_rope(x, 8, false, 0, 1, 0, NULL), "[lz_fast_rope] base must be positive");
}

/* ---- attention ---- */

static void test_sdpa_refs(void) {
  int qs[4] = {1, 4, 5, 8}, ks[4] = {1, 2, 7, 8}, vs[4] = {1, 2, 7, 6}, ms[2] = {5, 7};
  lz_array *q = gen_array(qs, 4, 5, LZ_FLOAT32), *k = gen_array(ks, 4, 6, LZ_FLOAT32);
  lz_array *v = gen_array(vs, 4, 7, LZ_FLOAT32);
  lz_array *y = lz_fast_scaled_dot_product_attention(q, k, v, 0.35, "causal", NULL);
  CHECK_SHAPE(y, 1, 4, 5, 6);
  CHECK_VALUES(y, fast_ref_sdpa_causal, 120, 1e-5);
  lz_array *m = gen_array(ms, 2, 8, LZ_FLOAT32);
  CHECK_VALUES(lz_fast_scaled_dot_product_attention(q, k, v, 0.35, NULL, m), fast_ref_sdpa_additive,
               120, 1e-5);
  CHECK_VALUES(lz_fast_scaled_dot_product_attention(q, k, v, 0.35, "array", m),
               fast_ref_sdpa_additive, 120, 1e-5);
  /* boolean: head 3 sees no key at all and averages v uniformly, as MLX does */
  int bs[3] = {4, 1, 7};
  lz_array *bm = lz_greater(gen_array(bs, 3, 9, LZ_FLOAT32), lz_float(-0.3));
  int st[3] = {0, 0, 0}, sp[3] = {3, 1, 7}; /* heads 0..2 as they are, head 3 all false */
  lz_array *bm2 = lz_concatenate(
      (lz_array *[]){lz_slice(bm, st, sp, NULL, 3), lz_zeros((int[]){1, 1, 7}, 3, LZ_BOOL)}, 2, 0);
  CHECK_VALUES(lz_fast_scaled_dot_product_attention(q, k, v, 0.35, "", bm2), fast_ref_sdpa_bool,
               120, 1e-5);
}

/* Larger shapes than one block (keys and queries), GQA, all mask kinds, vs composed ops. */
static void test_sdpa_composed(void) {
  int qs[4] = {2, 6, 70, 16}, ks[4] = {2, 2, 600, 16}, vs[4] = {2, 2, 600, 24};
  lz_array *q = gen_array(qs, 4, 41, LZ_FLOAT32), *k = gen_array(ks, 4, 42, LZ_FLOAT32);
  lz_array *v = gen_array(vs, 4, 43, LZ_FLOAT32);
  double sc = 0.6;
  CHECK_SAME(lz_fast_scaled_dot_product_attention(q, k, v, sc, NULL, NULL),
             composed_sdpa(q, k, v, sc, NULL), 1e-5);
  CHECK_SAME(lz_fast_scaled_dot_product_attention(q, k, v, sc, "causal", NULL),
             composed_sdpa(q, k, v, sc, causal_mask(70, 600)), 1e-5);
  int ms[4] = {2, 1, 70, 600};
  lz_array *add = lz_multiply(gen_array(ms, 4, 44, LZ_FLOAT32), lz_float(4));
  CHECK_SAME(lz_fast_scaled_dot_product_attention(q, k, v, sc, "array", add),
             composed_sdpa(q, k, v, sc, add), 1e-5);
  lz_array *bm = lz_greater(gen_array(ms, 4, 45, LZ_FLOAT32), lz_float(0.5));
  CHECK_SAME(lz_fast_scaled_dot_product_attention(q, k, v, sc, "array", bm),
             composed_sdpa(q, k, v, sc, bm), 1e-5);
  /* causal with more queries than keys: the first rows see no key and average v */
  int q2s[4] = {1, 2, 9, 16}, k2s[4] = {1, 2, 4, 16}, v2s[4] = {1, 2, 4, 24};
  lz_array *q2 = gen_array(q2s, 4, 46, LZ_FLOAT32), *k2 = gen_array(k2s, 4, 47, LZ_FLOAT32);
  lz_array *v2 = gen_array(v2s, 4, 48, LZ_FLOAT32);
  CHECK_SAME(lz_fast_scaled_dot_product_attention(q2, k2, v2, sc, "causal", NULL),
             composed_sdpa(q2, k2, v2, sc, causal_mask(9, 4)), 1e-5);
  /* decoding: one query against many keys */
  int q1s[4] = {2, 6, 1, 16};
  lz_array *q1 = gen_array(q1s, 4, 49, LZ_FLOAT32);
  CHECK_SAME(lz_fast_scaled_dot_product_attention(q1, k, v, sc, "causal", NULL),
             composed_sdpa(q1, k, v, sc, NULL), 1e-5);
}

static void test_sdpa_layouts(void) {
  /* q, k, v as (B, L, H, D) views transposed to (B, H, L, D) */
  int qs[4] = {2, 33, 4, 8}, ks[4] = {2, 40, 2, 8}, perm[4] = {0, 2, 1, 3};
  lz_array *q = lz_transpose(gen_array(qs, 4, 51, LZ_FLOAT32), perm, 4);
  lz_array *k = lz_transpose(gen_array(ks, 4, 52, LZ_FLOAT32), perm, 4);
  lz_array *v = lz_transpose(gen_array(ks, 4, 53, LZ_FLOAT32), perm, 4);
  CHECK_SAME(lz_fast_scaled_dot_product_attention(q, k, v, 0.3, "causal", NULL),
             composed_sdpa(q, k, v, 0.3, causal_mask(33, 40)), 1e-5);
  /* float16 and bfloat16 inputs, float32 accumulation */
  lz_array *qh = lz_astype(q, LZ_FLOAT16), *kh = lz_astype(k, LZ_FLOAT16);
  lz_array *vh = lz_astype(v, LZ_FLOAT16);
  lz_array *yh = lz_fast_scaled_dot_product_attention(qh, kh, vh, 0.3, "causal", NULL);
  CHECK(yh && lz_array_dtype(yh) == LZ_FLOAT16);
  lz_array *ref = composed_sdpa(lz_astype(qh, LZ_FLOAT32), lz_astype(kh, LZ_FLOAT32),
                                lz_astype(vh, LZ_FLOAT32), 0.3, causal_mask(33, 40));
  CHECK_SAME(yh, ref, 2e-3);
  lz_array *yb =
      lz_fast_scaled_dot_product_attention(lz_astype(q, LZ_BFLOAT16), lz_astype(k, LZ_BFLOAT16),
                                           lz_astype(v, LZ_BFLOAT16), 0.3, NULL, NULL);
  CHECK(yb && lz_array_dtype(yb) == LZ_BFLOAT16);
  CHECK_SAME(yb, composed_sdpa(q, k, v, 0.3, NULL), 3e-2);
  /* a float16 additive mask with float16 inputs */
  int ms[2] = {33, 40};
  lz_array *mh = lz_astype(gen_array(ms, 2, 54, LZ_FLOAT32), LZ_FLOAT16);
  CHECK_SAME(lz_fast_scaled_dot_product_attention(qh, kh, vh, 0.3, NULL, mh),
             composed_sdpa(lz_astype(qh, LZ_FLOAT32), lz_astype(kh, LZ_FLOAT32),
                           lz_astype(vh, LZ_FLOAT32), 0.3, lz_astype(mh, LZ_FLOAT32)),
             2e-3);
}

static void test_sdpa_edge(void) {
  /* an additive mask of -inf everywhere on a row gives NaN there; -inf elsewhere weight 0 */
  int qs[4] = {1, 1, 2, 4}, ks[4] = {1, 1, 3, 4};
  lz_array *q = gen_array(qs, 4, 61, LZ_FLOAT32), *k = gen_array(ks, 4, 62, LZ_FLOAT32);
  lz_array *v = gen_array(ks, 4, 63, LZ_FLOAT32);
  double md[6] = {-INFINITY, -INFINITY, -INFINITY, 0, -INFINITY, 0};
  lz_array *m = lz_astype(lz_array_from_data(md, (int[]){2, 3}, 2, LZ_FLOAT64), LZ_FLOAT32);
  lz_array *y = lz_fast_scaled_dot_product_attention(q, k, v, 1.0, NULL, m);
  double out[8];
  CHECK(lz_array_read(y, LZ_FLOAT64, out, sizeof out) == 0);
  CHECK(isnan(out[0]) && isnan(out[3]));
  CHECK_SAME(
      lz_slice(y, (int[]){0, 0, 1, 0}, (int[]){1, 1, 2, 4}, NULL, 4),
      lz_slice(composed_sdpa(q, k, v, 1.0, m), (int[]){0, 0, 1, 0}, (int[]){1, 1, 2, 4}, NULL, 4),
      1e-6);
  int es[4] = {0, 2, 3, 4};
  lz_array *ye =
      lz_fast_scaled_dot_product_attention(lz_zeros(es, 4, LZ_FLOAT32), lz_zeros(es, 4, LZ_FLOAT32),
                                           lz_zeros(es, 4, LZ_FLOAT32), 1, NULL, NULL);
  CHECK_SHAPE(ye, 0, 2, 3, 4);
  CHECK(lz_eval(ye) == 0);
  int k0[4] = {1, 1, 0, 4};
  lz_array *y0 = lz_fast_scaled_dot_product_attention(q, lz_zeros(k0, 4, LZ_FLOAT32),
                                                      lz_zeros(k0, 4, LZ_FLOAT32), 1, NULL, NULL);
  double z[8] = {0};
  CHECK_VALUES(y0, z, 8, 0);
}

static void test_sdpa_errors(void) {
  int qs[4] = {1, 4, 5, 8}, ks[4] = {1, 3, 7, 8}, k2[4] = {1, 2, 7, 8}, q3[3] = {4, 5, 8};
  lz_array *q = lz_ones(qs, 4, LZ_FLOAT32), *k = lz_ones(k2, 4, LZ_FLOAT32);
  const char *op = "[lz_fast_scaled_dot_product_attention]";
  char msg[256];
  snprintf(msg, sizeof msg,
           "%s the query heads are not a multiple of the key/value heads: "
           "q (1,4,5,8), k (1,3,7,8), v (1,3,7,8)",
           op);
  lz_array *k3 = lz_ones(ks, 4, LZ_FLOAT32);
  CHECK_ERROR(lz_fast_scaled_dot_product_attention(q, k3, k3, 1, NULL, NULL), msg);
  snprintf(msg, sizeof msg, "%s q, k and v must have 4 dimensions", op);
  CHECK_ERROR(lz_fast_scaled_dot_product_attention(lz_ones(q3, 3, LZ_FLOAT32), k, k, 1, 0, 0), msg);
  int kd[4] = {1, 2, 7, 6};
  CHECK_ERROR(lz_fast_scaled_dot_product_attention(q, lz_ones(kd, 4, LZ_FLOAT32), k, 1, 0, 0),
              "q and k have different head dims");
  lz_array *ok = lz_fast_scaled_dot_product_attention(q, k, lz_ones(kd, 4, LZ_FLOAT32), 1, 0, 0);
  CHECK_SHAPE(ok, 1, 4, 5, 6); /* v may have another head dim */
  int ms[2] = {5, 7}, bad[2] = {5, 6};
  CHECK_ERROR(lz_fast_scaled_dot_product_attention(q, k, k, 1, "causal", lz_ones(ms, 2, LZ_BOOL)),
              "mask_mode \"causal\" takes no mask array");
  CHECK_ERROR(lz_fast_scaled_dot_product_attention(q, k, k, 1, "array", NULL),
              "mask_mode \"array\" needs a mask array");
  CHECK_ERROR(lz_fast_scaled_dot_product_attention(q, k, k, 1, "sliding", NULL),
              "mask_mode must be \"causal\", \"array\" or \"\", got \"sliding\"");
  CHECK_ERROR(lz_fast_scaled_dot_product_attention(q, k, k, 1, NULL, lz_ones(bad, 2, LZ_BOOL)),
              "cannot be broadcast");
  lz_array *qh = lz_ones(qs, 4, LZ_FLOAT16), *kh = lz_ones(k2, 4, LZ_FLOAT16);
  CHECK_ERROR(lz_fast_scaled_dot_product_attention(qh, kh, kh, 1, NULL, lz_ones(ms, 2, LZ_FLOAT32)),
              "the mask's dtype float32 must promote to the output dtype float16");
  lz_array *ki = lz_ones(k2, 4, LZ_INT32);
  CHECK_ERROR(lz_fast_scaled_dot_product_attention(lz_ones(qs, 4, LZ_INT32), ki, ki, 1, 0, 0),
              "only floating point types");
}

/* Running out of memory in any kernel is an error, never a crash or a leak. */
static void test_fast_out_of_memory(void) {
  int xs[3] = {2, 5, 8}, ws[1] = {8}, qs[4] = {1, 2, 5, 8};
  lz_array *x = gen_array(xs, 3, 81, LZ_FLOAT16), *w = gen_array(ws, 1, 82, LZ_FLOAT32);
  lz_array *q = gen_array(qs, 4, 83, LZ_BFLOAT16);
  int failures = 0;
  for (int n = 1; n <= 10; n++) {
    lz_scope_begin();
    lz_array *y[4] = {lz_fast_layer_norm(x, w, w, 1e-5), lz_fast_rms_norm(x, w, 1e-5),
                      lz_fast_rope(x, 8, false, 1e4, 1, 0, NULL),
                      lz_fast_scaled_dot_product_attention(q, q, q, 1, "causal", NULL)};
    lz_set_alloc_failure(n);
    int rc = lz_eval_many(y, 4);
    lz_set_alloc_failure(0);
    if (rc != 0) {
      failures++;
      CHECK(lz_last_error_code() == LZ_ERROR_OUT_OF_MEMORY);
      lz_clear_error();
    }
    lz_scope_end();
  }
  CHECK(failures > 0);
}

/* The scalar row helpers give what the SIMD ones give. */
static void test_simd_vs_scalar(void) {
  int xs[2] = {9, 203}, qs[4] = {1, 3, 20, 16}, ks[4] = {1, 3, 150, 16};
  lz_array *x = gen_array(xs, 2, 71, LZ_FLOAT32), *w = gen_array(xs + 1, 1, 72, LZ_FLOAT32);
  lz_array *q = gen_array(qs, 4, 73, LZ_FLOAT32), *k = gen_array(ks, 4, 74, LZ_FLOAT32);
  lz_array *v = gen_array(ks, 4, 75, LZ_FLOAT32);
  lz_array *r[3] = {lz_fast_layer_norm(x, w, w, 1e-5), lz_fast_rms_norm(x, w, 1e-5),
                    lz_fast_scaled_dot_product_attention(q, k, v, 0.5, "causal", NULL)};
  lz_eval_many(r, 3);
  bool was = lz_cpu_set_simd(false);
  CHECK_SAME(lz_fast_layer_norm(x, w, w, 1e-5), r[0], 1e-6);
  CHECK_SAME(lz_fast_rms_norm(x, w, 1e-5), r[1], 1e-6);
  CHECK_SAME(lz_fast_scaled_dot_product_attention(q, k, v, 0.5, "causal", NULL), r[2], 1e-6);
  lz_cpu_set_simd(was);
}

int main(void) {
  RUN(test_norm_refs);
  RUN(test_norm_composed);
  RUN(test_norm_half);
  RUN(test_norm_edge);
  RUN(test_norm_errors);
  RUN(test_rope_refs);
  RUN(test_rope_layouts);
  RUN(test_rope_errors);
  RUN(test_sdpa_refs);
  RUN(test_sdpa_composed);
  RUN(test_sdpa_layouts);
  RUN(test_sdpa_edge);
  RUN(test_sdpa_errors);
  RUN(test_simd_vs_scalar);
  RUN(test_fast_out_of_memory);
  return lzt_summary();
}
