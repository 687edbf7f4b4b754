/* Random: Threefry known answers, bit-exactness with MLX (its published values and an
 * independent reference of its algorithms), determinism, the global key sequence across
 * threads, statistics of every distribution, dtypes, strided and broadcast parameters, empty
 * and 0-d shapes, errors and allocation failures. */
#include <pthread.h>
#include <stdint.h>

#include "cpu/random.h"
#include "data/random_refs.h"
#include "lz_test.h"

/* ---- helpers ---- */

static bool read_u32(lz_array *a, uint32_t *dst, size_t n) {
  return a && lz_array_size(a) == n && lz_array_read(a, LZ_UINT32, dst, n * 4) == 0;
}
static bool read_f32(lz_array *a, float *dst, size_t n) {
  return a && lz_array_size(a) == n && lz_array_read(a, LZ_FLOAT32, dst, n * 4) == 0;
}
static bool read_f64(lz_array *a, double *dst, size_t n) {
  return a && lz_array_size(a) == n && lz_array_read(a, LZ_FLOAT64, dst, n * 8) == 0;
}

/* Exact equality of n unsigned values. */
static void check_u32(const char *what, lz_array *a, const uint32_t *want, size_t n) {
  uint32_t got[64];
  lzt_checks++;
  if (n > 64 || !read_u32(a, got, n)) {
    lzt_failures++;
    fprintf(stderr, "%s: %s: could not read %zu values (%s)\n", lzt_current, what, n,
            lz_last_error());
    return;
  }
  for (size_t i = 0; i < n; i++) {
    if (got[i] != want[i]) {
      lzt_failures++;
      fprintf(stderr, "%s: %s: element %zu = %u, expected %u\n", lzt_current, what, i, got[i],
              want[i]);
      return;
    }
  }
}

/* Float values equal to `want` within `ulps` units in the last place of float32. */
static void check_f32(const char *what, lz_array *a, const float *want, size_t n, int ulps) {
  float got[64];
  lzt_checks++;
  if (n > 64 || !read_f32(a, got, n)) {
    lzt_failures++;
    fprintf(stderr, "%s: %s: could not read %zu values (%s)\n", lzt_current, what, n,
            lz_last_error());
    return;
  }
  for (size_t i = 0; i < n; i++) {
    float tol = ulps * (nextafterf(fabsf(want[i]), INFINITY) - fabsf(want[i]));
    if (!(got[i] == want[i] || fabsf(got[i] - want[i]) <= tol)) {
      lzt_failures++;
      fprintf(stderr, "%s: %s: element %zu = %a, expected %a\n", lzt_current, what, i, got[i],
              want[i]);
      return;
    }
  }
}

static double mean_of(const double *x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += x[i];
  return s / (double)n;
}
static double var_of(const double *x, size_t n) {
  double m = mean_of(x, n), s = 0;
  for (size_t i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
  return s / (double)n;
}

enum { N = 100000 };
static double samples[N];

/* ---- the generator itself ---- */

/* Random123's known-answer vectors for Threefry-2x32-20 (also in JAX's tests). */
static void test_threefry_known_answers(void) {
  uint32_t a, b;
  lz_threefry2x32(0, 0, 0, 0, &a, &b);
  CHECK(a == 0x6b200159u && b == 0x99ba4efeu);
  lz_threefry2x32(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, &a, &b);
  CHECK(a == 0x1cb996fcu && b == 0xbb002be7u);
  lz_threefry2x32(0x13198a2eu, 0x03707344u, 0x243f6a88u, 0x85a308d3u, &a, &b);
  CHECK(a == 0xc4923a9cu && b == 0x483df7a0u);
}

/* Values published in MLX's own tests (tests/random_tests.cpp). */
static void test_mlx_published_values(void) {
  uint32_t k00[2] = {0, 0}, k01[2] = {0, 1}, k10[2] = {1, 0}, k11[2] = {1, 1};
  check_u32("key(0)", lz_random_key(0), k00, 2);
  check_u32("key(1)", lz_random_key(1), k01, 2);
  check_u32("key(2^32)", lz_random_key(1ull << 32), k10, 2);
  check_u32("key(2^32+1)", lz_random_key((1ull << 32) + 1), k11, 2);

  lz_array *key0 = lz_random_key(0), *key1 = lz_random_key(1), *a = NULL, *b = NULL;
  CHECK(lz_random_split_pair(key0, &a, &b) == 0);
  uint32_t w_a[2] = {4146024105u, 967050713u}, w_b[2] = {2718843009u, 1272950319u};
  check_u32("split first", a, w_a, 2);
  check_u32("split second", b, w_b, 2);
  uint32_t w3[6] = {2467461003u, 428148500u, 3186719485u, 3840466878u, 2562233961u, 1946702221u};
  lz_array *keys = lz_random_split(key0, 3);
  CHECK_SHAPE(keys, 3, 2);
  check_u32("split 3", keys, w3, 6);

  uint32_t s0 = 1797259609u, s0_16 = 345, s0_8 = 89, s1 = 507451445u, s1_16 = 6197, s1_8 = 53;
  check_u32("bits key0", lz_random_bits(NULL, 0, 4, key0), &s0, 1);
  check_u32("bits16 key0", lz_random_bits(NULL, 0, 2, key0), &s0_16, 1);
  check_u32("bits8 key0", lz_random_bits(NULL, 0, 1, key0), &s0_8, 1);
  check_u32("bits key1", lz_random_bits(NULL, 0, 4, key1), &s1, 1);
  check_u32("bits16 key1", lz_random_bits(NULL, 0, 2, key1), &s1_16, 1);
  check_u32("bits8 key1", lz_random_bits(NULL, 0, 1, key1), &s1_8, 1);

  int s31[2] = {3, 1};
  uint32_t w31[3] = {4146024105u, 1351547692u, 2718843009u};
  lz_array *x = lz_random_bits(s31, 2, 4, key0);
  CHECK_SHAPE(x, 3, 1);
  CHECK(lz_array_dtype(x) == LZ_UINT32);
  check_u32("bits (3,1)", x, w31, 3);
  uint32_t w16[8] = {20137, 63263, 64300, 20622, 16513, 41486, 44591, 19423};
  uint32_t w16_7[7] = {20137, 63263, 1497, 14756, 16513, 41486, 44591};
  uint32_t w16_8[8] = {20137, 63263, 1497, 14756, 16513, 41486, 44591, 19423};
  int n5 = 5, n6 = 6, n7 = 7, n8 = 8;
  check_u32("bits16 n5", lz_random_bits(&n5, 1, 2, key0), w16, 5);
  check_u32("bits16 n6", lz_random_bits(&n6, 1, 2, key0), w16, 6);
  check_u32("bits16 n7", lz_random_bits(&n7, 1, 2, key0), w16_7, 7);
  check_u32("bits16 n8", lz_random_bits(&n8, 1, 2, key0), w16_8, 8);

  int n3 = 3, n2 = 2;
  uint32_t w_11[3] = {3725146706u, 1802982961u, 1349634643u};
  uint32_t w_01[3] = {2441914641u, 1110694964u, 3819641963u};
  check_u32("bits key(1,1)", lz_random_bits(&n3, 1, 4, lz_random_key((1ull << 32) + 1)), w_11, 3);
  check_u32("bits key(0,1)", lz_random_bits(&n3, 1, 4, key1), w_01, 3);
  /* keys (k, k) for k = 0..5 and (k, k+1) for k = 0, 2, 4 */
  uint32_t w_kk[6][2] = {{928981903u, 3453687069u},  {3606183818u, 460005496u},
                         {2799733733u, 856293553u},  {4081856343u, 3445925136u},
                         {2775548010u, 1430281703u}, {305173070u, 2615843348u}};
  uint32_t w_kk1[3][2] = {
      {1948878966u, 4237131848u}, {2531170506u, 1858648356u}, {740561898u, 4234094099u}};
  for (uint64_t k = 0; k < 6; k++) {
    check_u32("bits key(k,k)", lz_random_bits(&n2, 1, 4, lz_random_key(k << 32 | k)), w_kk[k], 2);
    if (k % 2 == 0)
      check_u32("bits key(k,k+1)", lz_random_bits(&n2, 1, 4, lz_random_key(k << 32 | (k + 1))),
                w_kk1[k / 2], 2);
  }

  /* uniform is bits / UINT32_MAX in float32 */
  float u0 = (float)1797259609u / (float)UINT32_MAX, u1 = (float)507451445u / (float)UINT32_MAX;
  lz_array *lo = lz_float(0), *hi = lz_float(1);
  check_f32("uniform key0", lz_random_uniform(lo, hi, NULL, 0, LZ_FLOAT32, key0), &u0, 1, 0);
  check_f32("uniform key1", lz_random_uniform(lo, hi, NULL, 0, LZ_FLOAT32, key1), &u1, 1, 0);
  float u31[3];
  for (int i = 0; i < 3; i++) u31[i] = (float)w31[i] / (float)UINT32_MAX;
  check_f32("uniform (3,1)", lz_random_uniform(lo, hi, s31, 2, LZ_FLOAT32, key0), u31, 3, 0);
}

/* Bits, split and the global sequence against the reference implementation. */
static void test_bits_reference(void) {
  uint32_t w[16];
  int n7 = 7, n10 = 10, n13 = 13, n3 = 3, n4 = 4;
  check_u32("bits s42", lz_random_bits(&n7, 1, 4, lz_random_key(42)), ref_bits_s42_n7, 7);
  check_u32("bits big seed", lz_random_bits(&n10, 1, 4, lz_random_key(0x0123456789ABCDEFull)),
            ref_bits_big_n10, 10);
  for (int i = 0; i < 7; i++) w[i] = ref_bits16_s7_n7[i];
  check_u32("bits16 s7", lz_random_bits(&n7, 1, 2, lz_random_key(7)), w, 7);
  for (int i = 0; i < 13; i++) w[i] = ref_bits8_s7_n13[i];
  check_u32("bits8 s7 n13", lz_random_bits(&n13, 1, 1, lz_random_key(7)), w, 13);
  for (int i = 0; i < 3; i++) w[i] = ref_bits8_s7_n3[i];
  check_u32("bits8 s7 n3", lz_random_bits(&n3, 1, 1, lz_random_key(7)), w, 3);
  check_u32("split s42", lz_random_split(lz_random_key(42), 5), ref_split_s42_5, 10);

  lz_random_seed(5);
  check_u32("global 1", lz_random_bits(&n4, 1, 4, NULL), ref_global_s5, 4);
  check_u32("global 2", lz_random_bits(&n4, 1, 4, NULL), ref_global_s5 + 4, 4);
}

/* Large draws split across threads: word i must be the stream's word i. */
static void test_parallel_layout(void) {
  int n = 100001; /* odd: exercises the middle word */
  lz_array *x = lz_random_bits(&n, 1, 4, lz_random_key(99));
  const uint32_t *d = lz_array_data(x);
  CHECK(d != NULL);
  if (!d) return;
  int64_t h = (n + 1) / 2, half = n / 2;
  bool ok = true;
  for (int64_t i = 0; i < n && ok; i += 997) {
    uint32_t a, b;
    int64_t j = i < h ? i : i - h;
    lz_threefry2x32(0, 99, (uint32_t)j, j < half ? (uint32_t)(j + h) : 0, &a, &b);
    ok = d[i] == (i < h ? a : b);
  }
  uint32_t a, b;
  lz_threefry2x32(0, 99, (uint32_t)half, 0, &a, &b);
  CHECK(ok && d[half] == a);
}

/* ---- distributions against the reference ---- */

static void test_distributions_reference(void) {
  int n6 = 6, n8 = 8, n10 = 10, n16 = 16;
  check_f32("uniform f32",
            lz_random_uniform(lz_float(-2), lz_float(5), &n6, 1, LZ_FLOAT32, lz_random_key(3)),
            ref_uniform_f32_s3, 6, 0);
  lz_array *u16 =
      lz_random_uniform(lz_float(-1), lz_float(3), &n6, 1, LZ_FLOAT16, lz_random_key(3));
  CHECK(lz_array_dtype(u16) == LZ_FLOAT16);
  check_f32("uniform f16", u16, ref_uniform_f16_s3, 6, 0);
  lz_array *ub =
      lz_random_uniform(lz_float(-1), lz_float(3), &n6, 1, LZ_BFLOAT16, lz_random_key(3));
  CHECK(lz_array_dtype(ub) == LZ_BFLOAT16);
  check_f32("uniform bf16", ub, ref_uniform_bf16_s3, 6, 0);

  /* log-based steps may differ from the reference by the C library's last-bit rounding */
  check_f32("normal f32", lz_random_normal(&n8, 1, LZ_FLOAT32, 0, 1, lz_random_key(11)),
            ref_normal_f32_s11, 8, 2);
  check_f32("normal f16", lz_random_normal(&n8, 1, LZ_FLOAT16, 1, 2, lz_random_key(11)),
            ref_normal_f16_s11, 8, 1 << 13);
  check_f32(
      "truncated normal",
      lz_random_truncated_normal(lz_float(-1), lz_float(2), &n8, 1, LZ_FLOAT32, lz_random_key(13)),
      ref_truncnorm_f32_s13, 8, 4);
  check_f32("gumbel", lz_random_gumbel(&n6, 1, LZ_FLOAT32, lz_random_key(17)), ref_gumbel_f32_s17,
            6, 2);
  check_f32("laplace", lz_random_laplace(&n6, 1, LZ_FLOAT32, 0.5, 2, lz_random_key(19)),
            ref_laplace_f32_s19, 6, 2);

  int32_t ri[10];
  lz_array *r = lz_random_randint(lz_int(-5), lz_int(17), &n10, 1, LZ_INT32, lz_random_key(23));
  CHECK(lz_array_dtype(r) == LZ_INT32);
  CHECK(r && lz_array_read(r, LZ_INT32, ri, sizeof ri) == 0);
  CHECK(memcmp(ri, ref_randint_s23, sizeof ri) == 0);
  int64_t r64[8];
  int eight = 8, twelve = 12;
  lz_array *r2 = lz_random_randint(lz_int(-(1LL << 62)), lz_int(1LL << 62), &eight, 1, LZ_INT64,
                                   lz_random_key(24));
  CHECK(r2 && lz_array_read(r2, LZ_INT64, r64, sizeof r64) == 0);
  CHECK(memcmp(r64, ref_randint_i64_s24, sizeof r64) == 0);
  uint8_t r8[12];
  lz_array *r3 = lz_random_randint(lz_int(3), lz_int(250), &twelve, 1, LZ_UINT8, lz_random_key(25));
  CHECK(r3 && lz_array_read(r3, LZ_UINT8, r8, sizeof r8) == 0);
  CHECK(memcmp(r8, ref_randint_u8_s25, sizeof r8) == 0);

  uint8_t bern[16];
  lz_array *bs = lz_random_bernoulli(lz_float(0.3), &n16, 1, lz_random_key(29));
  CHECK(lz_array_dtype(bs) == LZ_BOOL);
  CHECK(bs && lz_array_read(bs, LZ_UINT8, bern, sizeof bern) == 0);
  CHECK(memcmp(bern, ref_bernoulli_s29, sizeof bern) == 0);

  check_u32("permutation", lz_random_permutation(10, lz_random_key(31)), ref_permutation_s31, 10);

  float lg[8] = {0, 1, 2, 3, 3, 2, 1, 0};
  int s24[2] = {2, 4};
  lz_array *logits = lz_array_from_data(lg, s24, 2, LZ_FLOAT32);
  lz_array *c = lz_random_categorical(logits, -1, 5, lz_random_key(37));
  CHECK_SHAPE(c, 2, 5);
  CHECK(lz_array_dtype(c) == LZ_UINT32);
  check_u32("categorical", c, ref_categorical_s37, 10);
}

/* The portable path and the FMA path (where the CPU has it) give the same bits. */
static void test_fma_and_portable_paths_agree(void) {
  int n = 4096;
  float a[4096], b[4096];
  lz_array *k = lz_random_key(314);
  for (int which = 0; which < 2; which++) {
    lz_cpu_random_allow_fma(false);
    lz_array *x =
        which ? lz_random_truncated_normal(lz_float(-3), lz_float(0.5), &n, 1, LZ_FLOAT32, k)
              : lz_random_normal(&n, 1, LZ_FLOAT32, 0, 1, k);
    CHECK(read_f32(x, a, 4096));
    lz_cpu_random_allow_fma(true);
    lz_array *y =
        which ? lz_random_truncated_normal(lz_float(-3), lz_float(0.5), &n, 1, LZ_FLOAT32, k)
              : lz_random_normal(&n, 1, LZ_FLOAT32, 0, 1, k);
    CHECK(read_f32(y, b, 4096));
    CHECK(memcmp(a, b, sizeof a) == 0);
  }
}

/* ---- determinism and keys ---- */

static void test_determinism(void) {
  int n = 64;
  lz_array *k = lz_random_key(1234), *a, *b;
  float x[64], y[64];
  CHECK(read_f32(lz_random_normal(&n, 1, LZ_FLOAT32, 0, 1, k), x, 64));
  CHECK(read_f32(lz_random_normal(&n, 1, LZ_FLOAT32, 0, 1, k), y, 64));
  CHECK(memcmp(x, y, sizeof x) == 0);
  CHECK(lz_random_split_pair(k, &a, &b) == 0);
  CHECK(read_f32(lz_random_normal(&n, 1, LZ_FLOAT32, 0, 1, a), x, 64));
  CHECK(read_f32(lz_random_normal(&n, 1, LZ_FLOAT32, 0, 1, b), y, 64));
  int same = 0;
  for (int i = 0; i < 64; i++) same += x[i] == y[i];
  CHECK(same == 0);
  /* split keys differ from each other and from the parent */
  uint32_t ka[2], kb[2], kk[2];
  CHECK(read_u32(a, ka, 2) && read_u32(b, kb, 2) && read_u32(k, kk, 2));
  CHECK(memcmp(ka, kb, 8) != 0 && memcmp(ka, kk, 8) != 0 && memcmp(kb, kk, 8) != 0);
  /* the rows of split(k, 2) are the pair */
  uint32_t rows[4];
  CHECK(read_u32(lz_random_split(k, 2), rows, 4));
  CHECK(memcmp(rows, ka, 8) == 0 && memcmp(rows + 2, kb, 8) == 0);

  /* global sequence: reseeding replays it; successive draws differ */
  lz_random_seed(3);
  float g1 = lz_item_f32(lz_random_uniform(lz_float(0), lz_float(1), NULL, 0, LZ_FLOAT32, NULL));
  float g2 = lz_item_f32(lz_random_uniform(lz_float(0), lz_float(1), NULL, 0, LZ_FLOAT32, NULL));
  lz_random_seed(3);
  float h1 = lz_item_f32(lz_random_uniform(lz_float(0), lz_float(1), NULL, 0, LZ_FLOAT32, NULL));
  float h2 = lz_item_f32(lz_random_uniform(lz_float(0), lz_float(1), NULL, 0, LZ_FLOAT32, NULL));
  CHECK(g1 == h1 && g2 == h2 && g1 != g2);
}

/* Keys and parameters may be lazy, strided, sliced and broadcast views. */
static void test_views_and_broadcast(void) {
  /* a key taken as a column of a transposed (2, 3) array: stride 3 */
  lz_array *keys = lz_random_split(lz_random_key(5), 3); /* (3, 2) */
  lz_array *kt = lz_transpose(keys, NULL, 0);            /* (2, 3) view */
  int start[2] = {0, 1}, stop[2] = {2, 2};
  int two[1] = {2};
  lz_array *col = lz_reshape(lz_slice(kt, start, stop, NULL, 2), two, 1); /* keys[1] */
  CHECK_SHAPE(col, 2);
  uint32_t kw[6];
  CHECK(read_u32(keys, kw, 6));
  int n = 9;
  uint32_t want[9];
  CHECK(read_u32(lz_random_bits(&n, 1, 4, lz_array_from_data(kw + 2, two, 1, LZ_UINT32)), want, 9));
  check_u32("strided key", lz_random_bits(&n, 1, 4, col), want, 9);

  /* low (3,1) and high (1,3) broadcast to (3,3); high as a stride-0 view */
  float lo[3] = {-1, 0, 10}, hi[3] = {1, 2, 3};
  int s31[2] = {3, 1}, s13[2] = {1, 3}, s33[2] = {3, 3};
  lz_array *lo_a = lz_array_from_data(lo, s31, 2, LZ_FLOAT32);
  lz_array *hi_a = lz_broadcast_to(lz_array_from_data(hi, s13, 2, LZ_FLOAT32), s33, 2);
  lz_array *k = lz_random_key(77);
  float got[9];
  uint32_t w[9];
  CHECK(read_f32(lz_random_uniform(lo_a, hi_a, s33, 2, LZ_FLOAT32, k), got, 9));
  CHECK(read_u32(lz_random_bits(&n, 1, 4, k), w, 9));
  bool ok = true;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      float unit = (float)w[3 * i + j] * 0x1p-32f;
      if (unit > 1.0f - 0x1p-24f) unit = 1.0f - 0x1p-24f;
      volatile float prod = (hi[j] - lo[i]) * unit;
      ok &= got[3 * i + j] == prod + lo[i];
    }
  CHECK(ok);

  /* bernoulli with p broadcast along rows: p = 0 never, p = 1 always */
  float p[3] = {0, 1, 0.5f};
  int s43[2] = {4, 3};
  uint8_t bb[12];
  lz_array *pb = lz_random_bernoulli(lz_array_from_data(p, s13, 2, LZ_FLOAT32), s43, 2, k);
  CHECK_SHAPE(pb, 4, 3);
  CHECK(pb && lz_array_read(pb, LZ_UINT8, bb, 12) == 0);
  for (int i = 0; i < 4; i++) CHECK(bb[3 * i] == 0 && bb[3 * i + 1] == 1);

  /* a float16 p, compared in float32 as in MLX */
  lz_array *p16 = lz_astype(lz_float(0.5), LZ_FLOAT16);
  uint8_t b16[12], b32[12];
  CHECK(lz_array_read(lz_random_bernoulli(p16, s43, 2, k), LZ_UINT8, b16, 12) == 0);
  CHECK(lz_array_read(lz_random_bernoulli(lz_float(0.5), s43, 2, k), LZ_UINT8, b32, 12) == 0);
  CHECK(memcmp(b16, b32, 12) == 0);
}

/* ---- statistics ---- */

static void test_uniform_stats(void) {
  int n = N;
  lz_dtype dts[3] = {LZ_FLOAT32, LZ_FLOAT16, LZ_BFLOAT16};
  for (int t = 0; t < 3; t++) {
    lz_array *x = lz_random_uniform(lz_float(-3), lz_float(5), &n, 1, dts[t], lz_random_key(t));
    CHECK(lz_array_dtype(x) == dts[t]);
    CHECK(read_f64(x, samples, N));
    double lo = 1e9, hi = -1e9;
    for (int i = 0; i < N; i++) lo = fmin(lo, samples[i]), hi = fmax(hi, samples[i]);
    CHECK(lo >= -3 && hi < 5);
    CHECK_CLOSE(mean_of(samples, N), 1.0, 0.03);
    CHECK_CLOSE(var_of(samples, N), 64.0 / 12, 0.03);
  }
  /* low > high: values in (high, low] */
  CHECK(read_f64(lz_random_uniform(lz_float(5), lz_float(2), &n, 1, LZ_FLOAT32, lz_random_key(4)),
                 samples, N));
  double lo = 1e9, hi = -1e9;
  for (int i = 0; i < N; i++) lo = fmin(lo, samples[i]), hi = fmax(hi, samples[i]);
  CHECK(lo > 2 && hi <= 5);
}

static void test_normal_stats(void) {
  int n = N;
  lz_dtype dts[4] = {LZ_FLOAT32, LZ_FLOAT16, LZ_BFLOAT16, LZ_FLOAT64};
  for (int t = 0; t < 4; t++) {
    lz_array *x = lz_random_normal(&n, 1, dts[t], 1.5, 2.0, lz_random_key(10 + t));
    CHECK(lz_array_dtype(x) == dts[t]);
    CHECK(read_f64(x, samples, N));
    bool finite = true;
    for (int i = 0; i < N; i++) finite &= isfinite(samples[i]);
    CHECK(finite);
    CHECK_CLOSE(mean_of(samples, N), 1.5, 0.02);
    CHECK_CLOSE(var_of(samples, N), 4.0, 0.03);
  }
  /* float64 is the float32 draw widened: same values as float32 up to rounding */
  float f[8];
  double d[8];
  int n8 = 8;
  CHECK(read_f32(lz_random_normal(&n8, 1, LZ_FLOAT32, 0, 1, lz_random_key(11)), f, 8));
  CHECK(read_f64(lz_random_normal(&n8, 1, LZ_FLOAT64, 0, 1, lz_random_key(11)), d, 8));
  for (int i = 0; i < 8; i++) CHECK_CLOSE(d[i], f[i], 1e-6);
}

static void test_truncated_normal(void) {
  int n = N;
  lz_array *x = lz_random_truncated_normal(lz_float(-0.5), lz_float(1.5), &n, 1, LZ_FLOAT32,
                                           lz_random_key(8));
  CHECK(read_f64(x, samples, N));
  double lo = 1e9, hi = -1e9;
  for (int i = 0; i < N; i++) lo = fmin(lo, samples[i]), hi = fmax(hi, samples[i]);
  CHECK(lo >= -0.5 && hi <= 1.5);
  /* mean of N(0,1) truncated to [a, b]: (phi(a) - phi(b)) / (Phi(b) - Phi(a)) */
  double a = -0.5, b = 1.5, phi_a = exp(-a * a / 2) / sqrt(2 * M_PI),
         phi_b = exp(-b * b / 2) / sqrt(2 * M_PI);
  double Z = 0.5 * (erf(b / sqrt(2)) - erf(a / sqrt(2)));
  CHECK_CLOSE(mean_of(samples, N), (phi_a - phi_b) / Z, 0.02);

  /* per-element bounds broadcast, a NULL shape takes their broadcast shape */
  float lw[2] = {-2, 0}, up[3] = {0, 1, 2};
  int s12[2] = {1, 2}, s31[2] = {3, 1};
  lz_array *l = lz_array_from_data(lw, s12, 2, LZ_FLOAT32);
  lz_array *u = lz_array_from_data(up, s31, 2, LZ_FLOAT32);
  lz_array *t = lz_random_truncated_normal(l, u, NULL, 0, LZ_FLOAT16, lz_random_key(2));
  CHECK_SHAPE(t, 3, 2);
  CHECK(lz_array_dtype(t) == LZ_FLOAT16);
  float v[6];
  CHECK(read_f32(t, v, 6));
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 2; j++) CHECK(v[2 * i + j] >= lw[j] && v[2 * i + j] <= up[i]);
  /* lower > upper: every value is lower */
  CHECK(read_f32(
      lz_random_truncated_normal(lz_float(2), lz_float(-2), s31, 2, LZ_FLOAT32, lz_random_key(1)),
      v, 3));
  CHECK(v[0] == 2 && v[1] == 2 && v[2] == 2);
}

static void test_gumbel_laplace_stats(void) {
  int n = N;
  lz_dtype dts[3] = {LZ_FLOAT32, LZ_FLOAT16, LZ_BFLOAT16};
  for (int t = 0; t < 3; t++) {
    CHECK(read_f64(lz_random_gumbel(&n, 1, dts[t], lz_random_key(20 + t)), samples, N));
    CHECK_CLOSE(mean_of(samples, N), 0.5772157, 0.03);
    CHECK_CLOSE(var_of(samples, N), M_PI * M_PI / 6, 0.05);
  }
  lz_dtype ldts[4] = {LZ_FLOAT32, LZ_FLOAT16, LZ_BFLOAT16, LZ_FLOAT64};
  for (int t = 0; t < 4; t++) {
    lz_array *x = lz_random_laplace(&n, 1, ldts[t], -1, 0.5, lz_random_key(30 + t));
    CHECK(lz_array_dtype(x) == ldts[t]);
    CHECK(read_f64(x, samples, N));
    bool finite = true;
    for (int i = 0; i < N; i++) finite &= isfinite(samples[i]);
    CHECK(finite);
    CHECK_CLOSE(mean_of(samples, N), -1, 0.02);
    CHECK_CLOSE(var_of(samples, N), 2 * 0.25, 0.04);
  }
}

static void test_multivariate_normal(void) {
  float mean[2] = {4, 7}, cov[4] = {2, 0.5f, 0.5f, 1};
  int two = 2, s22[2] = {2, 2}, n = N;
  lz_array *m = lz_array_from_data(mean, &two, 1, LZ_FLOAT32);
  lz_array *c = lz_array_from_data(cov, s22, 2, LZ_FLOAT32);
  lz_array *x = lz_random_multivariate_normal(m, c, &n, 1, LZ_FLOAT32, lz_random_key(80));
  CHECK_SHAPE(x, N, 2);
  float *v = malloc(2 * N * sizeof *v);
  CHECK(read_f32(x, v, 2 * N));
  double mu[2] = {0, 0}, cv[3] = {0, 0, 0};
  for (int i = 0; i < N; i++) mu[0] += v[2 * i], mu[1] += v[2 * i + 1];
  mu[0] /= N, mu[1] /= N;
  for (int i = 0; i < N; i++) {
    double a = v[2 * i] - mu[0], b = v[2 * i + 1] - mu[1];
    cv[0] += a * a, cv[1] += a * b, cv[2] += b * b;
  }
  CHECK_CLOSE(mu[0], 4, 0.01);
  CHECK_CLOSE(mu[1], 7, 0.01);
  CHECK_CLOSE(cv[0] / N, 2, 0.03);
  CHECK_CLOSE(cv[1] / N, 0.5, 0.03);
  CHECK_CLOSE(cv[2] / N, 1, 0.03);
  free(v);
  /* a singular (semi-definite) covariance: the samples lie on the line x1 = -x0 (up to the
   * square root of float32 rounding in the zero singular value) */
  float sing[4] = {1, -1, -1, 1};
  float w[20];
  int ten = 10;
  CHECK(read_f32(lz_random_multivariate_normal(lz_zeros(&two, 1, LZ_FLOAT32),
                                               lz_array_from_data(sing, s22, 2, LZ_FLOAT32), &ten,
                                               1, LZ_FLOAT32, NULL),
                 w, 20));
  for (int i = 0; i < 10; i++) CHECK(fabsf(w[2 * i] + w[2 * i + 1]) < 2e-3f);
  /* shapes: mean (3,2) with shape (4,3) gives (4,3,2); int mean and cov are converted */
  int32_t mi[6] = {0, 7, 1, 2, 3, 4}, s32[2] = {3, 2}, s43[2] = {4, 3};
  int32_t ci[4] = {1, 0, 0, 1};
  lz_array *y = lz_random_multivariate_normal(lz_array_from_data(mi, s32, 2, LZ_INT32),
                                              lz_array_from_data(ci, s22, 2, LZ_INT32), s43, 2,
                                              LZ_FLOAT32, NULL);
  CHECK_SHAPE(y, 4, 3, 2);
  CHECK(lz_eval(y) == 0);
  int s222[3] = {2, 2, 2}, three = 3;
  CHECK_ERROR(lz_random_multivariate_normal(m, c, NULL, 0, LZ_FLOAT16, NULL),
              "dtype must be float32");
  CHECK_ERROR(
      lz_random_multivariate_normal(lz_zeros(&three, 1, LZ_FLOAT32), c, NULL, 0, LZ_FLOAT32, NULL),
      "cov must be (..., 3, 3)");
  CHECK_ERROR(
      lz_random_multivariate_normal(lz_zeros(s22, 2, LZ_FLOAT32), c, &three, 1, LZ_FLOAT32, NULL),
      "cannot be broadcast");
  CHECK_ERROR(
      lz_random_multivariate_normal(m, lz_zeros(s222, 3, LZ_FLOAT32), &three, 1, LZ_FLOAT32, NULL),
      "cannot be broadcast");
  CHECK_ERROR(lz_random_multivariate_normal(m, m, NULL, 0, LZ_FLOAT32, NULL), "needs at least");
}

/* randint as current MLX: bits modulo the width, exact at any magnitude, every value of
 * [low, high - 1] equally likely (low included), bool honours the range. */
static void test_randint(void) {
  int n = N;
  int32_t *v = malloc(N * sizeof *v);
  lz_array *x = lz_random_randint(lz_int(-10), lz_int(10), &n, 1, LZ_INT32, lz_random_key(40));
  CHECK(x && lz_array_read(x, LZ_INT32, v, N * sizeof *v) == 0);
  int counts[20] = {0};
  bool in = true;
  for (int i = 0; i < N; i++) {
    in &= v[i] >= -10 && v[i] < 10;
    if (v[i] >= -10 && v[i] < 10) counts[v[i] + 10]++;
  }
  CHECK(in);
  for (int i = 0; i < 20; i++) CHECK_CLOSE(counts[i] / (double)N, 0.05, 0.2);
  /* Bounds beyond 2^24 stay exact: never high, every value reached. */
  int64_t big = (1LL << 30) + 1;
  lz_array *bx =
      lz_random_randint(lz_int(big), lz_int(big + 3), &n, 1, LZ_INT32, lz_random_key(43));
  CHECK(read_f64(bx, samples, N));
  int seen[3] = {0, 0, 0};
  bool exact = true;
  for (int i = 0; i < N; i++) {
    int64_t d = (int64_t)samples[i] - big;
    exact &= d >= 0 && d < 3;
    if (d >= 0 && d < 3) seen[d]++;
  }
  CHECK(exact && seen[0] > N / 4 && seen[1] > N / 4 && seen[2] > N / 4);
  /* Float bounds convert to int64 toward zero (MLX's astype): [-2.5, 2.5) draws -2 .. 1. */
  lz_array *fx =
      lz_random_randint(lz_float(-2.5), lz_float(2.5), &n, 1, LZ_INT32, lz_random_key(44));
  CHECK(read_f64(fx, samples, N));
  double flo = 1e9, fhi = -1e9;
  for (int i = 0; i < N; i++) flo = fmin(flo, samples[i]), fhi = fmax(fhi, samples[i]);
  CHECK(flo == -2 && fhi == 1);
  /* low >= high gives low */
  int s33[2] = {3, 3};
  lz_array *y = lz_random_randint(lz_int(10), lz_int(-10), s33, 2, LZ_INT64, lz_random_key(1));
  CHECK(lz_array_dtype(y) == LZ_INT64);
  double want[9] = {10, 10, 10, 10, 10, 10, 10, 10, 10};
  CHECK_VALUES(y, want, 9, 0);
  /* bool honours the range: [0, 2) is a fair coin, [0, 1) always false */
  lz_array *z = lz_random_randint(lz_int(0), lz_int(2), &n, 1, LZ_BOOL, lz_random_key(41));
  CHECK(lz_array_dtype(z) == LZ_BOOL);
  CHECK(read_f64(z, samples, N));
  CHECK_CLOSE(mean_of(samples, N), 0.5, 0.05);
  CHECK(read_f64(lz_random_randint(lz_int(0), lz_int(1), &n, 1, LZ_BOOL, lz_random_key(45)),
                 samples, N));
  CHECK(mean_of(samples, N) == 0);
  lz_array *u8 = lz_random_randint(lz_int(3), lz_int(250), &n, 1, LZ_UINT8, lz_random_key(42));
  CHECK(read_f64(u8, samples, N));
  double lo = 1e9, hi = -1e9;
  for (int i = 0; i < N; i++) lo = fmin(lo, samples[i]), hi = fmax(hi, samples[i]);
  CHECK(lo == 3 && hi == 249);
  /* Without a key, 64-bit dtypes take two keys of the global sequence (low word first). */
  int four = 4;
  lz_random_seed(77);
  lz_array *g = lz_random_randint(lz_int(-1000), lz_int(1LL << 40), &four, 1, LZ_INT64, NULL);
  lz_random_seed(77);
  lz_array *w1 = lz_random_bits(&four, 1, 4, NULL), *w2 = lz_random_bits(&four, 1, 4, NULL);
  uint32_t a1[4], a2[4];
  int64_t got[4];
  CHECK(lz_array_read(w1, LZ_UINT32, a1, sizeof a1) == 0);
  CHECK(lz_array_read(w2, LZ_UINT32, a2, sizeof a2) == 0);
  CHECK(lz_array_read(g, LZ_INT64, got, sizeof got) == 0);
  uint64_t width = (uint64_t)(1LL << 40) + 1000;
  for (int i = 0; i < 4; i++)
    CHECK(got[i] == -1000 + (int64_t)((((uint64_t)a2[i] << 32) | a1[i]) % width));
  free(v);
}

static void test_bernoulli(void) {
  int n = N;
  CHECK(read_f64(lz_random_bernoulli(lz_float(0.3), &n, 1, lz_random_key(50)), samples, N));
  CHECK_CLOSE(mean_of(samples, N), 0.3, 0.02);
  float p[2] = {2, -2};
  int two = 2;
  double want[2] = {1, 0};
  lz_array *b =
      lz_random_bernoulli(lz_array_from_data(p, &two, 1, LZ_FLOAT32), NULL, 0, lz_random_key(1));
  CHECK_SHAPE(b, 2);
  CHECK_VALUES(b, want, 2, 0);
  /* float64 p, and the default 0-d shape */
  lz_array *s = lz_random_bernoulli(lz_scalar(1.0, LZ_FLOAT64), NULL, 0, NULL);
  CHECK(lz_array_ndim(s) == 0 && lz_item_bool(s));
}

static void test_categorical(void) {
  /* frequencies follow softmax(logits) */
  float lg[4] = {0, 1, 2, -1};
  int four = 4;
  lz_array *logits = lz_array_from_data(lg, &four, 1, LZ_FLOAT32);
  lz_array *c = lz_random_categorical(logits, 0, N, lz_random_key(60));
  CHECK_SHAPE(c, N);
  uint32_t *v = malloc(N * sizeof *v);
  CHECK(c && lz_array_read(c, LZ_UINT32, v, N * sizeof *v) == 0);
  double counts[4] = {0}, z = 0;
  for (int i = 0; i < N; i++) counts[v[i] < 4 ? v[i] : 0] += 1;
  for (int k = 0; k < 4; k++) z += exp(lg[k]);
  for (int k = 0; k < 4; k++) CHECK_CLOSE(counts[k] / N, exp(lg[k]) / z, 0.02);
  free(v);

  /* an infinite logit always wins; -inf never does */
  float inf_l[5] = {1, -2, INFINITY, 4, 3}, ninf_l[4] = {-INFINITY, -2, -INFINITY, -INFINITY};
  int five = 5;
  CHECK(lz_item_i64(lz_random_categorical(lz_array_from_data(inf_l, &five, 1, LZ_FLOAT32), -1, 0,
                                          NULL)) == 2);
  CHECK(lz_item_i64(lz_random_categorical(lz_array_from_data(ninf_l, &four, 1, LZ_FLOAT32), -1, 0,
                                          NULL)) == 1);

  /* shapes, as in MLX's tests */
  int s543[3] = {5, 4, 3}, s1020[2] = {10, 20}, s520[2] = {5, 20};
  lz_array *zl = lz_zeros(s543, 3, LZ_FLOAT32);
  CHECK_SHAPE(lz_random_categorical(zl, -1, 7, NULL), 5, 4, 7);
  CHECK_SHAPE(lz_random_categorical(zl, -2, 7, NULL), 5, 3, 7);
  CHECK_SHAPE(lz_random_categorical(zl, -3, 7, NULL), 4, 3, 7);
  CHECK_SHAPE(lz_random_categorical(zl, 1, 0, NULL), 5, 3);
  lz_array *z2 = lz_zeros(s1020, 2, LZ_FLOAT16);
  lz_array *cs = lz_random_categorical_shape(z2, 0, s520, 2, NULL);
  CHECK_SHAPE(cs, 5, 20);
  uint32_t big[100];
  CHECK(read_u32(cs, big, 100));
  uint32_t mx = 0;
  for (int i = 0; i < 100; i++) mx = big[i] > mx ? big[i] : mx;
  CHECK(mx < 10);

  /* the shape variant with the reduced shape equals the num_samples == 0 variant */
  lz_array *k = lz_random_key(61);
  int s10[1] = {10};
  uint32_t a[10], b[10];
  CHECK(read_u32(lz_random_categorical(z2, 1, 0, k), a, 10));
  CHECK(read_u32(lz_random_categorical_shape(z2, 1, s10, 1, k), b, 10));
  CHECK(memcmp(a, b, sizeof a) == 0);

  /* float64 and non-contiguous logits */
  double ld[6] = {0, 50, 0, 50, 0, 0};
  int s23[2] = {2, 3};
  lz_array *l64 = lz_transpose(lz_array_from_data(ld, s23, 2, LZ_FLOAT64), NULL, 0); /* (3,2) */
  uint32_t r[2];
  CHECK(read_u32(lz_random_categorical(l64, 0, 0, NULL), r, 2)); /* columns (0,50,0),(50,0,0) */
  CHECK(r[0] == 1 && r[1] == 0);
}

static void test_permutation(void) {
  lz_array *k = lz_random_key(70);
  int n = 16384;
  uint32_t *v = malloc(n * sizeof *v);
  char *seen = calloc((size_t)n, 1);
  lz_array *p = lz_random_permutation(n, k);
  CHECK(p && lz_array_read(p, LZ_UINT32, v, n * sizeof *v) == 0);
  bool perm = true, identity = true;
  for (int i = 0; i < n; i++) {
    perm &= v[i] < (uint32_t)n && !seen[v[i]];
    if (v[i] < (uint32_t)n) seen[v[i]] = 1;
    identity &= v[i] == (uint32_t)i;
  }
  CHECK(perm && !identity);
  free(v);
  free(seen);

  /* rows and columns of a matrix move whole, by the permutation of the same key */
  int s45[2] = {4, 5};
  lz_array *x = lz_reshape(lz_arange(0, 20, 1, LZ_INT32), s45, 2);
  uint32_t pr[4], pc[5];
  CHECK(read_u32(lz_random_permutation(4, k), pr, 4));
  CHECK(read_u32(lz_random_permutation(5, k), pc, 5));
  int32_t rows[20], cols[20];
  lz_array *xr = lz_random_permutation_array(x, 0, k);
  lz_array *xc =
      lz_random_permutation_array(lz_transpose(lz_transpose(x, NULL, 0), NULL, 0), -1, k);
  CHECK_SHAPE(xr, 4, 5);
  CHECK(lz_array_dtype(xr) == LZ_INT32);
  CHECK(xr && lz_array_read(xr, LZ_INT32, rows, sizeof rows) == 0);
  CHECK(xc && lz_array_read(xc, LZ_INT32, cols, sizeof cols) == 0);
  bool ok = true;
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 5; j++) {
      ok &= rows[5 * i + j] == (int32_t)(5 * pr[i] + j);
      ok &= cols[5 * i + j] == (int32_t)(5 * i + pc[j]);
    }
  CHECK(ok);
  /* a transposed (non-contiguous) input */
  lz_array *xt = lz_transpose(x, NULL, 0); /* (5,4) */
  int32_t t[20];
  CHECK(lz_array_read(lz_random_permutation_array(xt, 0, k), LZ_INT32, t, sizeof t) == 0);
  ok = true;
  for (int i = 0; i < 5; i++)
    for (int j = 0; j < 4; j++) ok &= t[4 * i + j] == (int32_t)(pc[i] + 5 * j);
  CHECK(ok);
}

/* ---- shapes, laziness, errors ---- */

static void test_empty_and_scalar(void) {
  int z = 0, s02[2] = {0, 2}, s30[2] = {3, 0};
  lz_array *k = lz_random_key(3);
  lz_array *e[] = {
      lz_random_bits(&z, 1, 4, k),
      lz_random_bits(&z, 1, 1, k),
      lz_random_split(k, 0),
      lz_random_uniform(lz_float(0), lz_float(1), s02, 2, LZ_FLOAT32, k),
      lz_random_normal(&z, 1, LZ_FLOAT16, 0, 1, k),
      lz_random_truncated_normal(lz_float(0), lz_float(1), &z, 1, LZ_FLOAT32, k),
      lz_random_gumbel(s30, 2, LZ_FLOAT32, k),
      lz_random_laplace(&z, 1, LZ_FLOAT64, 0, 1, k),
      lz_random_randint(lz_int(0), lz_int(5), &z, 1, LZ_INT32, k),
      lz_random_bernoulli(lz_float(0.5), &z, 1, k),
      lz_random_permutation(0, k),
      lz_random_permutation_array(lz_zeros(s30, 2, LZ_FLOAT32), 1, k),
      lz_random_categorical(lz_zeros(s30, 2, LZ_FLOAT32), 0, 0, k),
      lz_random_categorical(lz_zeros(s02, 2, LZ_FLOAT32), 1, 4, k),
  };
  for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
    CHECK(e[i] != NULL && lz_array_size(e[i]) == 0);
    CHECK(lz_eval(e[i]) == 0);
  }
  /* 0-d draws */
  lz_array *s[] = {
      lz_random_bits(NULL, 0, 2, k),
      lz_random_uniform(lz_float(0), lz_float(1), NULL, 0, LZ_BFLOAT16, k),
      lz_random_normal(NULL, 0, LZ_FLOAT32, 0, 1, k),
      lz_random_gumbel(NULL, 0, LZ_FLOAT16, k),
      lz_random_randint(lz_int(0), lz_int(5), NULL, 0, LZ_INT32, k),
      lz_random_truncated_normal(lz_float(-1), lz_float(1), NULL, 0, LZ_FLOAT32, k),
      lz_random_permutation(1, k),
  };
  for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
    CHECK(s[i] != NULL && lz_array_size(s[i]) == 1);
    CHECK(lz_eval(s[i]) == 0);
  }
}

static void test_laziness(void) {
  int n = 1000;
  lz_array *k = lz_random_key(9);
  CHECK(lz_eval(k) == 0);
  uint64_t kernels = lz_get_kernel_count();
  size_t mem = lz_get_active_memory();
  lz_array *x = lz_random_normal(&n, 1, LZ_FLOAT32, 0, 1, k);
  lz_array *s = lz_random_split(k, 4);
  CHECK(x && s && lz_get_kernel_count() == kernels && lz_get_active_memory() == mem);
  CHECK(!lz_array_is_evaluated(x));
  CHECK(lz_eval(x) == 0);
  CHECK(lz_get_kernel_count() == kernels + 1);
  CHECK(!lz_array_is_evaluated(s));
}

static void test_errors(void) {
  int n = 4, s3[1] = {3}, s12[2] = {1, 2}, bad[1] = {-1};
  int32_t ki[2] = {0, 0};
  uint32_t k3[3] = {0, 0, 0};
  lz_array *int_key = lz_array_from_data(ki, s12 + 1, 1, LZ_INT32);
  lz_array *long_key = lz_array_from_data(k3, s3, 1, LZ_UINT32);
  lz_array *flat_key = lz_array_from_data(k3, s12, 2, LZ_UINT32);
  lz_array *zero = lz_float(0), *one = lz_float(1);
  CHECK_ERROR(lz_random_bits(&n, 1, 4, int_key),
              "[lz_random_bits] expected a key of dtype uint32, got int32");
  CHECK_ERROR(lz_random_uniform(zero, one, &n, 1, LZ_FLOAT32, long_key),
              "key of shape (2), got (3,)");
  CHECK_ERROR(lz_random_normal(&n, 1, LZ_FLOAT32, 0, 1, flat_key), "got (1,2)");
  CHECK_ERROR(lz_random_split(int_key, 2), "[lz_random_split]");
  CHECK_ERROR(lz_random_split(lz_random_key(0), -1), "num must be >= 0");
  CHECK_ERROR(lz_random_bits(&n, 1, 3, NULL), "bit width must be 1, 2 or 4");
  CHECK_ERROR(lz_random_bits(bad, 1, 4, NULL), "negative dimension");
  CHECK_ERROR(lz_random_uniform(zero, one, &n, 1, LZ_INT32, NULL), "dtype must be float16");
  CHECK_ERROR(lz_random_uniform(zero, one, &n, 1, LZ_FLOAT64, NULL), "got float64");
  CHECK_ERROR(lz_random_gumbel(&n, 1, LZ_UINT8, NULL), "[lz_random_gumbel]");
  CHECK_ERROR(lz_random_normal(&n, 1, LZ_COMPLEX64, 0, 1, NULL), "got complex64");
  CHECK_ERROR(lz_random_laplace(&n, 1, LZ_INT64, 0, 1, NULL), "[lz_random_laplace]");
  int s33[2] = {3, 3}, s13[2] = {1, 3};
  lz_array *z33 = lz_zeros(s33, 2, LZ_FLOAT32);
  CHECK_ERROR(lz_random_uniform(z33, one, s13, 2, LZ_FLOAT32, NULL),
              "cannot generate random values of shape (1,3) from broadcast shape (3,3)");
  CHECK_ERROR(lz_random_uniform(lz_zeros(s3, 1, LZ_FLOAT32), lz_zeros(s13, 2, LZ_FLOAT32), s3, 1,
                                LZ_FLOAT32, NULL),
              "cannot generate random values of shape (3,) from broadcast shape (1,3)");
  CHECK_ERROR(lz_random_truncated_normal(lz_zeros(&n, 1, LZ_FLOAT32), lz_zeros(s3, 1, LZ_FLOAT32),
                                         NULL, 0, LZ_FLOAT32, NULL),
              "cannot be broadcast");
  CHECK_ERROR(lz_random_randint(zero, one, &n, 1, LZ_FLOAT32, NULL),
              "dtype must be an integer type or bool, got float32");
  CHECK_ERROR(lz_random_bernoulli(lz_int(1), NULL, 0, NULL),
              "p must have a float dtype, got int32");
  CHECK_ERROR(lz_random_bernoulli(lz_zeros(s3, 1, LZ_FLOAT32), s12 + 1, 1, NULL),
              "cannot be broadcast");
  CHECK_ERROR(lz_random_bernoulli(z33, s13, 2, NULL), "from broadcast shape (3,3)");
  CHECK_ERROR(lz_random_categorical(z33, 2, 0, NULL), "axis 2 is out of bounds");
  CHECK_ERROR(lz_random_categorical(z33, -3, 0, NULL), "out of bounds");
  CHECK_ERROR(lz_random_categorical(z33, 0, -1, NULL), "num_samples must be >= 0");
  CHECK_ERROR(lz_random_categorical_shape(z33, 1, s12 + 1, 1, NULL), "cannot be broadcast");
  int s1[1] = {1};
  CHECK_ERROR(lz_random_categorical_shape(z33, 1, s1, 1, NULL),
              "cannot generate random values of shape (1,)");
  CHECK_ERROR(lz_random_categorical(lz_zeros(s33 + 1, 0, LZ_FLOAT32), 0, 0, NULL), "out of bounds");
  int s30[2] = {3, 0};
  CHECK_ERROR(lz_random_categorical(lz_zeros(s30, 2, LZ_FLOAT32), 1, 0, NULL), "zero categories");
  CHECK_ERROR(lz_random_permutation(-2, NULL), "n must be >= 0");
  CHECK_ERROR(lz_random_permutation_array(lz_float(1), 0, NULL), "out of bounds");
  /* a NULL key means the global key sequence, even when it comes from a failed expression:
   * functions decide failure from their own results, never from the pending error (core.h);
   * the key's error stays pending for the caller */
  lz_clear_error();
  lz_array *nokey = lz_random_normal(&n, 1, LZ_FLOAT32, 0, 1, lz_random_bits(bad, 1, 4, NULL));
  CHECK(nokey != NULL && strstr(lz_last_error(), "negative dimension") != NULL);
  lz_free(nokey);
  lz_clear_error();
  lz_array *first = NULL, *second = NULL;
  lz_clear_error();
  CHECK(lz_random_split_pair(int_key, &first, &second) == -1 && !first && !second);
  CHECK(strstr(lz_last_error(), "[lz_random_split_pair]") != NULL);
  lz_clear_error();
  /* errors do not advance the global sequence */
  int four = 4;
  uint32_t a[4], b[4];
  lz_random_seed(8);
  CHECK(read_u32(lz_random_bits(&four, 1, 4, NULL), a, 4));
  lz_random_seed(8);
  CHECK_ERROR(lz_random_uniform(zero, one, &four, 1, LZ_INT8, NULL), "dtype");
  CHECK(read_u32(lz_random_bits(&four, 1, 4, NULL), b, 4));
  CHECK(memcmp(a, b, sizeof a) == 0);
}

/* Out of memory while sampling is an error, not a crash or a leak. */
static void test_allocation_failure(void) {
  int n = 5000, s[2] = {50, 100};
  int failures = 0;
  for (int f = 1; f <= 4; f++) {
    lz_scope_begin();
    lz_array *k = lz_random_key(1);
    lz_array *outs[3] = {lz_random_normal(&n, 1, LZ_FLOAT16, 0, 1, k),
                         lz_random_categorical(lz_zeros(s, 2, LZ_FLOAT32), 1, 3, k),
                         lz_random_permutation(n, k)};
    for (int i = 0; i < 3; i++) {
      lz_set_alloc_failure(f);
      int rc = lz_eval(outs[i]);
      lz_set_alloc_failure(0);
      if (rc != 0) {
        failures++;
        CHECK(lz_last_error_code() == LZ_ERROR_OUT_OF_MEMORY);
        lz_clear_error();
      }
    }
    lz_scope_end();
  }
  CHECK(failures > 0);
}

/* The global sequence hands out each key once, whichever threads ask. */
enum { THREADS = 4, DRAWS = 200 };
static uint32_t drawn[THREADS][DRAWS];

static void *draw_thread(void *arg) {
  uint32_t *out = arg;
  for (int i = 0; i < DRAWS; i++) {
    lz_array *x = lz_random_bits(NULL, 0, 4, NULL);
    out[i] = x && lz_array_read(x, LZ_UINT32, &out[i], 4) == 0 ? out[i] : 0;
    lz_free(x);
  }
  return NULL;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

static void test_global_sequence_threads(void) {
  static uint32_t serial[THREADS * DRAWS];
  lz_random_seed(2024);
  for (int i = 0; i < THREADS * DRAWS; i++) {
    lz_array *x = lz_random_bits(NULL, 0, 4, NULL);
    CHECK(read_u32(x, &serial[i], 1));
    lz_free(x);
  }
  lz_random_seed(2024);
  pthread_t th[THREADS];
  for (int t = 0; t < THREADS; t++) pthread_create(&th[t], NULL, draw_thread, drawn[t]);
  for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
  uint32_t *all = &drawn[0][0];
  qsort(all, THREADS * DRAWS, sizeof *all, cmp_u32);
  qsort(serial, THREADS * DRAWS, sizeof *serial, cmp_u32);
  CHECK(memcmp(all, serial, sizeof serial) == 0);
}

int main(void) {
  RUN(test_threefry_known_answers);
  RUN(test_mlx_published_values);
  RUN(test_bits_reference);
  RUN(test_parallel_layout);
  RUN(test_distributions_reference);
  RUN(test_fma_and_portable_paths_agree);
  RUN(test_determinism);
  RUN(test_views_and_broadcast);
  RUN(test_uniform_stats);
  RUN(test_normal_stats);
  RUN(test_truncated_normal);
  RUN(test_gumbel_laplace_stats);
  RUN(test_multivariate_normal);
  RUN(test_randint);
  RUN(test_bernoulli);
  RUN(test_categorical);
  RUN(test_permutation);
  RUN(test_empty_and_scalar);
  RUN(test_laziness);
  RUN(test_errors);
  RUN(test_allocation_failure);
  RUN(test_global_sequence_threads);
  return lzt_summary();
}
