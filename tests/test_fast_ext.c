/* MLX's newer mx.fast arguments: rope with an array offset (one per batch entry) against rope
 * with the matching int offset on each entry (that form is checked against NumPy in
 * test_fast.c), and attention sinks against the composition softmax([sink, scores]) @ v built
 * from basic ops; derivatives against finite differences; vmap against the loop; errors. */
#include <float.h>
#include <math.h>

#include "test_grad_check.h"
#include "test_vmap_check.h"

static lz_array *rnd(const int *shape, int nd, uint32_t seed) {
  size_t n = 1;
  for (int d = 0; d < nd; d++) n *= (size_t)shape[d];
  float *v = malloc(n * sizeof(float) + 4);
  uint32_t s = seed * 2654435761u + 3;
  for (size_t i = 0; i < n; i++) s = s * 1664525u + 1013904223u, v[i] = (float)((s >> 8) / 8388608.0 - 1.0);
  lz_array *a = lz_array_from_data(v, shape, nd, LZ_FLOAT32);
  free(v);
  return a;
}

static bool same(lz_array *a, lz_array *b, double tol) {
  return a && b && lz_item_bool(lz_allclose(a, b, tol, tol, false));
}

static void test_rope_offsets(void) {
  lz_scope_begin();
  lz_array *x = rnd((int[]){3, 2, 5, 8}, 4, 1);
  const int32_t offs[3] = {0, 7, 1000};
  lz_array *o = lz_array_from_data(offs, (int[]){3}, 1, LZ_INT32);
  for (int trad = 0; trad < 2; trad++) {
    lz_array *y = lz_fast_rope_v2(x, 6, trad, 10000, 0.5, o, NULL);
    CHECK_SHAPE(y, 3, 2, 5, 8);
    for (int b = 0; b < 3; b++) {
      lz_array *xb = lz_take(x, lz_int(b), 0), *yb = lz_take(y, lz_int(b), 0);
      lz_array *want = lz_fast_rope(lz_expand_dims(xb, (int[]){0}, 1), 6, trad, 10000, 0.5, offs[b], NULL);
      CHECK(same(lz_expand_dims(yb, (int[]){0}, 1), want, 1e-6));
    }
  }
  /* a scalar array (any integer dtype) is the int offset; NULL is 0; freqs work with it */
  lz_array *o64 = lz_array_from_data((int64_t[]){5}, NULL, 0, LZ_INT64);
  CHECK(same(lz_fast_rope_v2(x, 8, false, 500, 1, o64, NULL), lz_fast_rope(x, 8, false, 500, 1, 5, NULL), 0));
  CHECK(same(lz_fast_rope_v2(x, 8, false, 500, 1, NULL, NULL), lz_fast_rope(x, 8, false, 500, 1, 0, NULL), 0));
  lz_array *fr = lz_array_from_data((float[]){1, 3, 9}, (int[]){3}, 1, LZ_FLOAT32);
  lz_array *yf = lz_fast_rope_v2(x, 6, true, 0, 1, o, fr);
  CHECK(same(lz_take(yf, lz_int(1), 0),
             lz_squeeze(lz_fast_rope(lz_take(x, lz_array_from_data((int32_t[]){1}, (int[]){1}, 1, LZ_INT32), 0),
                                     6, true, 0, 1, 7, fr), (int[]){0}, 1), 1e-6));
  /* float16 keeps its dtype */
  CHECK(lz_array_dtype(lz_fast_rope_v2(lz_astype(x, LZ_FLOAT16), 8, false, 1e4, 1, o, NULL)) == LZ_FLOAT16);
  CHECK_ERROR(lz_fast_rope_v2(x, 8, false, 1e4, 1, lz_arange(0, 2, 1, LZ_INT32), NULL),
              "[lz_fast_rope] offset must be a scalar or a vector of one offset per batch entry, got (2,) for x (3,2,5,8)");
  CHECK_ERROR(lz_fast_rope_v2(x, 8, false, 1e4, 1, lz_float(1), NULL),
              "[lz_fast_rope] offset must be an integer array, got float32");
  lz_scope_end();
}

/* softmax([sink, scale * q k^T]) @ v from basic ops (no mask, Hq = Hkv) */
static lz_array *sink_ref(lz_array *q, lz_array *k, lz_array *v, double scale, lz_array *sinks) {
  int B = lz_array_shape(q)[0], H = lz_array_shape(q)[1], Lq = lz_array_shape(q)[2];
  int Lk = lz_array_shape(k)[2];
  lz_array *s = lz_multiply(lz_matmul(q, lz_swapaxes(k, -1, -2)), lz_float(scale));
  lz_array *sk = lz_broadcast_to(lz_reshape(sinks, (int[]){1, H, 1, 1}, 4), (int[]){B, H, Lq, 1}, 4);
  lz_array *p = lz_softmax_axis(lz_concatenate((lz_array *[]){sk, s}, 2, -1), -1, false);
  p = lz_slice(p, (int[]){0, 0, 0, 1}, (int[]){B, H, Lq, Lk + 1}, NULL, 4);
  return lz_matmul(p, v);
}

static void test_sinks(void) {
  lz_scope_begin();
  lz_array *q = rnd((int[]){2, 3, 4, 8}, 4, 2), *k = rnd((int[]){2, 3, 6, 8}, 4, 3);
  lz_array *v = rnd((int[]){2, 3, 6, 5}, 4, 4);
  lz_array *sinks = lz_array_from_data((float[]){-1.0f, 0.5f, 3.0f}, (int[]){3}, 1, LZ_FLOAT32);
  lz_array *y = lz_fast_scaled_dot_product_attention_v2(q, k, v, 0.7, NULL, NULL, sinks);
  CHECK(same(y, sink_ref(q, k, v, 0.7, sinks), 1e-5));
  /* a very negative sink changes nothing; a large one takes almost all the mass */
  lz_array *plain = lz_fast_scaled_dot_product_attention(q, k, v, 0.7, NULL, NULL);
  lz_array *far = lz_full((int[]){3}, 1, -1e30, LZ_FLOAT32);
  CHECK(same(lz_fast_scaled_dot_product_attention_v2(q, k, v, 0.7, NULL, NULL, far), plain, 1e-6));
  lz_array *ninf = lz_full((int[]){3}, 1, -INFINITY, LZ_FLOAT32);
  CHECK(same(lz_fast_scaled_dot_product_attention_v2(q, k, v, 0.7, NULL, NULL, ninf), plain, 1e-6));
  lz_array *big = lz_full((int[]){3}, 1, 60, LZ_FLOAT32);
  CHECK(lz_item_f64(lz_max(lz_abs(lz_fast_scaled_dot_product_attention_v2(q, k, v, 0.7, NULL, NULL, big)), false)) < 1e-20);
  /* with a causal mask and grouped-query heads: against the masked composition */
  lz_array *q6 = rnd((int[]){1, 6, 4, 8}, 4, 5);
  lz_array *s6 = lz_array_from_data((float[]){0, 1, -2, 0.25f, 2, -0.5f}, (int[]){6}, 1, LZ_FLOAT32);
  lz_array *k1 = lz_expand_dims(lz_take(k, lz_int(0), 0), (int[]){0}, 1);
  lz_array *v1 = lz_expand_dims(lz_take(v, lz_int(0), 0), (int[]){0}, 1);
  lz_array *yc = lz_fast_scaled_dot_product_attention_v2(q6, k1, v1, 0.3, "causal", NULL, s6);
  lz_array *k6 = lz_repeat(k1, 2, 1), *v6 = lz_repeat(v1, 2, 1); /* head h reads kv head h / 2 */
  lz_array *mask = lz_tri(4, 6, 2, LZ_BOOL);
  lz_array *sc = lz_multiply(lz_matmul(q6, lz_swapaxes(k6, -1, -2)), lz_float(0.3));
  sc = lz_where(mask, sc, lz_float(-FLT_MAX));
  lz_array *sk = lz_broadcast_to(lz_reshape(s6, (int[]){1, 6, 1, 1}, 4), (int[]){1, 6, 4, 1}, 4);
  lz_array *p = lz_softmax_axis(lz_concatenate((lz_array *[]){sk, sc}, 2, -1), -1, false);
  p = lz_slice(p, (int[]){0, 0, 0, 1}, (int[]){1, 6, 4, 7}, NULL, 4);
  CHECK(same(yc, lz_matmul(p, v6), 1e-5));
  /* float16 sinks promote to a float32 output; float32 sinks do not fit float16 attention */
  CHECK(same(lz_fast_scaled_dot_product_attention_v2(q, k, v, 0.7, NULL, NULL, lz_astype(sinks, LZ_FLOAT16)), y, 1e-6));
  lz_array *qh = lz_astype(q, LZ_FLOAT16), *kh = lz_astype(k, LZ_FLOAT16), *vh = lz_astype(v, LZ_FLOAT16);
  CHECK_ERROR(lz_fast_scaled_dot_product_attention_v2(qh, kh, vh, 0.7, NULL, NULL, sinks),
              "[lz_fast_scaled_dot_product_attention] the sinks' dtype float32 must promote to the output dtype float16");
  CHECK_ERROR(lz_fast_scaled_dot_product_attention_v2(q, k, v, 0.7, NULL, NULL, lz_zeros((int[]){2}, 1, LZ_FLOAT32)),
              "[lz_fast_scaled_dot_product_attention] sinks must have shape (3,) (one per query head), got (2,)");
  lz_scope_end();
}

/* ---- derivatives and vmap ---- */
#define IN(lo, hi, ...) {(int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), {__VA_ARGS__}, lo, hi}

static lz_array *f32(lz_array *x) { return lz_astype(x, LZ_FLOAT32); }
static lz_array *f_rope(lz_array *const *x) {
  lz_array *o = lz_array_from_data((int32_t[]){3, 11}, (int[]){2}, 1, LZ_INT32);
  return lz_astype(lz_fast_rope_v2(f32(x[0]), 4, false, 100, 1, o, NULL), LZ_FLOAT64);
}
static lz_array *f_sinks(lz_array *const *x) {
  return lz_astype(lz_fast_scaled_dot_product_attention_v2(f32(x[0]), f32(x[1]), f32(x[2]), 0.5,
                                                           "causal", NULL, f32(x[3])),
                   LZ_FLOAT64);
}

static int v_sinks(lz_array *const *x, lz_array **out) {
  out[0] = lz_fast_scaled_dot_product_attention_v2(x[0], x[1], x[2], 0.5, NULL, NULL, x[3]);
  return out[0] ? 1 : -1;
}
static int v_rope(lz_array *const *x, lz_array **out) {
  out[0] = lz_fast_rope_v2(x[0], 4, true, 100, 1, x[1], NULL);
  return out[0] ? 1 : -1;
}

static void test_transforms(void) {
  /* the kernels compute in float32: larger steps and float32 tolerances */
  gc_check_h("rope offsets", f_rope, (gc_input[]){IN(-1, 1, 2, 3, 6)}, 1, 2e-3, 0.5);
  gc_check_h("sdpa sinks", f_sinks,
             (gc_input[]){IN(-1, 1, 1, 2, 3, 4), IN(-1, 1, 1, 2, 5, 4), IN(-1, 1, 1, 2, 5, 3),
                          IN(-1, 1, 2)},
             4, 2e-3, 1e-2);
  vt_check("sdpa sinks", v_sinks,
           (vt_in[]){VT_F32(0, 1, 2, 3, 4), VT_F32(0, 1, 2, 5, 4), VT_F32(0, 1, 2, 5, 3),
                     VT_F32(LZ_VMAP_NONE, 2)},
           4, 1e-5);
  vt_check("sdpa batched sinks", v_sinks,
           (vt_in[]){VT_F32(0, 1, 2, 3, 4), VT_F32(LZ_VMAP_NONE, 1, 2, 5, 4), VT_F32(0, 1, 2, 5, 3),
                     VT_F32(0, 2)},
           4, 1e-5);
  vt_check("rope offsets", v_rope,
           (vt_in[]){VT_F32(0, 2, 3, 4), VT_IN(LZ_INT32, 0, 50, 0, 2)}, 2, 1e-5);
}

int main(void) {
  RUN(test_rope_offsets);
  RUN(test_sinks);
  RUN(test_transforms);
  return lzt_summary();
}
