/* float16 and bfloat16 kernels on the vector paths (cpu/half_block.h): every result must be the
 * float32 kernel's result on the widened inputs, rounded to the half type once, bit for bit;
 * where the float32 math is the same on every path (IEEE arithmetic, comparisons, rounding,
 * casts) it must also equal the scalar path's per-element loops bit for bit. Inputs mix raw
 * bit patterns (NaN payloads, infinities, subnormals) with ordinary values, in odd sizes,
 * contiguous, unaligned, strided, reversed and broadcast. CTest runs this under LZ_CPU=scalar,
 * avx2 and avx512emu. */
#include <stdint.h>

#include "core/isa.h"
#include "cpu/unary.h" /* lz_cpu_set_simd */
#include "test_elementwise_util.h"

static const int sizes[] = {1, 7, 8, 9, 15, 16, 17, 31, 33, 255, 256, 257, 1000, 70001};
enum { NSIZES = sizeof sizes / sizeof sizes[0], NLAYOUTS = 4 };
static const lz_dtype halves[2] = {LZ_FLOAT16, LZ_BFLOAT16};

static uint32_t rng_state;
static uint32_t rnd(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return rng_state >> 8;
}

/* A raw half pattern: a quarter of them any bits at all, the rest values in [-6, 6) (some of
 * them integers and halves, the ties of rounding). */
static uint16_t rnd_half(lz_dtype dt) {
  uint32_t r = rnd();
  if (r % 4 == 0) return (uint16_t)(rnd() & 0xffff);
  float v = (float)(rnd() % 12000) / 1000.0f - 6.0f;
  if (r % 7 == 1) v = (float)((int)(rnd() % 25) - 12) * 0.5f;
  return dt == LZ_FLOAT16 ? lz__f32_to_f16(v) : lz__f32_to_bf16(v);
}

/* n half values in one of the layouts: 0 contiguous, 1 contiguous one element into its buffer
 * (unaligned), 2 stride 2, 3 reversed. */
static lz_array *make_half(int n, lz_dtype dt, int layout) {
  int len = layout == 2 ? 2 * n + 1 : n + 1;
  uint16_t *bits = calloc((size_t)len, sizeof(uint16_t));
  for (int i = 0; i < len; i++) bits[i] = rnd_half(dt);
  lz_array *base = lz_array_from_data(bits, &len, 1, dt);
  free(bits);
  int64_t st = layout == 2 ? 2 : layout == 3 ? -1 : 1, off = layout == 0 ? 0 : layout == 3 ? n : 1;
  return lzt_view(base, &n, 1, &st, off);
}

/* Bit for bit, except that two NaNs of a half type match whatever their payloads (which of
 * two NaN operands an IEEE operation returns is not fixed). */
static bool same_bits(lz_array *a, lz_array *b) {
  if (!a || !b || lz_eval(a) || lz_eval(b) || lz_array_dtype(a) != lz_array_dtype(b) ||
      lz_array_size(a) != lz_array_size(b))
    return false;
  lz_dtype dt = lz_array_dtype(a);
  size_t n = lz_array_size(a), es = lz_dtype_size(dt);
  const unsigned char *p = lz_array_data(a), *q = lz_array_data(b);
  for (size_t i = 0; i < n; i++) {
    if (memcmp(p + i * es, q + i * es, es) == 0) continue;
    if (dt == LZ_FLOAT16 || dt == LZ_BFLOAT16) {
      uint16_t u, v;
      memcpy(&u, p + i * es, 2), memcpy(&v, q + i * es, 2);
      float x = dt == LZ_FLOAT16 ? lz__f16_to_f32(u) : lz__bf16_to_f32(u);
      float y = dt == LZ_FLOAT16 ? lz__f16_to_f32(v) : lz__bf16_to_f32(v);
      if (x != x && y != y) continue;
      fprintf(stderr, "  element %zu: 0x%04x vs 0x%04x\n", i, u, v);
    } else {
      fprintf(stderr, "  element %zu differs\n", i);
    }
    return false;
  }
  return true;
}

/* x widened to float32 (contiguous), and a float32 result rounded back to dt (bools stay). */
static lz_array *widen(lz_array *x) { return lz_astype(x, LZ_FLOAT32); }
static lz_array *narrow(lz_array *y, lz_dtype dt) {
  return lz_array_dtype(y) == LZ_FLOAT32 ? lz_astype(y, dt) : y;
}

/* The result of make() evaluated on the scalar path. */
static lz_array *on_scalar(lz_array *y) {
  bool was = lz_cpu_set_simd(false);
  if (y) lz_eval(y);
  lz_cpu_set_simd(was);
  return y;
}

typedef lz_array *(*unary_fn)(lz_array *);
typedef lz_array *(*binary_fn)(lz_array *, lz_array *);
static lz_array *round1(lz_array *x) { return lz_round(x, 1); }
static lz_array *n2n(lz_array *x) { /* explicit limits: the defaults depend on the dtype */
  double hi = 100, lo = -100;
  return lz_nan_to_num(x, 0.5, &hi, &lo);
}
static const struct {
  const char *name;
  unary_fn f;
  bool exact; /* the same float32 math on every path */
} unary_ops[] = {
    {"exp", lz_exp, false},
    {"expm1", lz_expm1, false},
    {"log", lz_log, false},
    {"log1p", lz_log1p, false},
    {"log2", lz_log2, false},
    {"sin", lz_sin, false},
    {"tanh", lz_tanh, false},
    {"sigmoid", lz_sigmoid, false},
    {"erf", lz_erf, false},
    {"arctan", lz_arctan, false},
    {"sqrt", lz_sqrt, true},
    {"rsqrt", lz_rsqrt, true},
    {"reciprocal", lz_reciprocal, true},
    {"abs", lz_abs, true},
    {"negative", lz_negative, true},
    {"square", lz_square, true},
    {"sign", lz_sign, true},
    {"floor", lz_floor, true},
    {"ceil", lz_ceil, true},
    {"trunc", lz_trunc, true},
    {"round", round1, true},
    {"nan_to_num", n2n, true},
    {"isnan", lz_isnan, true},
    {"isinf", lz_isinf, true},
    {"isfinite", lz_isfinite, true},
};
static lz_array *isclose1(lz_array *a, lz_array *b) { return lz_isclose(a, b, 1e-2, 1e-3, true); }
static const struct {
  const char *name;
  binary_fn f;
  bool exact;
} binary_ops[] = {
    {"add", lz_add, true},
    {"subtract", lz_subtract, true},
    {"multiply", lz_multiply, true},
    {"divide", lz_divide, true},
    {"maximum", lz_maximum, true},
    {"minimum", lz_minimum, true},
    {"equal", lz_equal, true},
    {"not_equal", lz_not_equal, true},
    {"less", lz_less, true},
    {"less_equal", lz_less_equal, true},
    {"greater", lz_greater, true},
    {"greater_equal", lz_greater_equal, true},
    {"floor_divide", lz_floor_divide, true},
    {"remainder", lz_remainder, true},
    {"logaddexp", lz_logaddexp, true},
    {"isclose", isclose1, true},
    {"power", lz_power, false},
    {"arctan2", lz_arctan2, false},
};

#define NUNARY (int)(sizeof unary_ops / sizeof unary_ops[0])
#define NBINARY (int)(sizeof binary_ops / sizeof binary_ops[0])

static void check_unary(int k, lz_array *x, lz_dtype dt, const char *what) {
  lz_scope_begin();
  lz_array *y = unary_ops[k].f(x), *ref = narrow(unary_ops[k].f(widen(x)), dt);
  bool ok = same_bits(y, ref);
  if (ok && unary_ops[k].exact) ok = same_bits(y, on_scalar(unary_ops[k].f(x)));
  if (!ok)
    fprintf(stderr, "  %s %s %s on %s\n", unary_ops[k].name, lz_dtype_name(dt), what,
            lz_isa_name(lz_isa_path()));
  CHECK(ok);
  lz_scope_end();
}

static void check_binary(int k, lz_array *a, lz_array *b, lz_dtype dt, const char *what) {
  lz_scope_begin();
  lz_array *y = binary_ops[k].f(a, b), *ref = narrow(binary_ops[k].f(widen(a), widen(b)), dt);
  bool ok = same_bits(y, ref);
  if (ok && binary_ops[k].exact) ok = same_bits(y, on_scalar(binary_ops[k].f(a, b)));
  if (!ok)
    fprintf(stderr, "  %s %s %s on %s\n", binary_ops[k].name, lz_dtype_name(dt), what,
            lz_isa_name(lz_isa_path()));
  CHECK(ok);
  lz_scope_end();
}

static void test_unary_half(void) {
  rng_state = 1;
  for (int d = 0; d < 2; d++)
    for (int s = 0; s < NSIZES; s++)
      for (int l = 0; l < NLAYOUTS; l++) {
        lz_scope_begin();
        lz_array *x = make_half(sizes[s], halves[d], l);
        char what[64];
        snprintf(what, sizeof what, "n=%d layout %d", sizes[s], l);
        for (int k = 0; k < NUNARY; k++) check_unary(k, x, halves[d], what);
        lz_scope_end();
      }
}

static void test_binary_half(void) {
  rng_state = 2;
  for (int d = 0; d < 2; d++) {
    lz_dtype dt = halves[d];
    for (int s = 0; s < NSIZES; s++)
      for (int l = 0; l < NLAYOUTS; l++) {
        lz_scope_begin();
        int n = sizes[s];
        lz_array *a = make_half(n, dt, l), *b = make_half(n, dt, (l + 1) % NLAYOUTS);
        lz_array *one = lz_reshape(make_half(1, dt, l), NULL, 0); /* a 0-d array */
        char what[64];
        for (int k = 0; k < NBINARY; k++) {
          snprintf(what, sizeof what, "n=%d layouts %d,%d", n, l, (l + 1) % NLAYOUTS);
          check_binary(k, a, b, dt, what);
          snprintf(what, sizeof what, "n=%d layout %d, one value right", n, l);
          check_binary(k, a, one, dt, what);
          snprintf(what, sizeof what, "n=%d layout %d, one value left", n, l);
          check_binary(k, one, a, dt, what);
        }
        lz_scope_end();
      }
    /* (r,1) against (1,c): runs of one broadcast value against runs of a row */
    lz_scope_begin();
    int r = 37, c = 45, sr[2] = {r, 1}, sc[2] = {1, c};
    lz_array *col = lz_reshape(make_half(r, dt, 2), sr, 2);
    lz_array *row = lz_reshape(make_half(c, dt, 1), sc, 2);
    for (int k = 0; k < NBINARY; k++) {
      check_binary(k, col, row, dt, "(37,1) x (1,45)");
      check_binary(k, row, col, dt, "(1,45) x (37,1)");
    }
    lz_scope_end();
  }
}

/* Casts between float32 and the half types, the vector conversions against the scalar ones:
 * raw float32 patterns (NaN payloads, subnormals, values beyond the half range) and values
 * exactly halfway between two halves. */
static void test_casts(void) {
  rng_state = 3;
  for (int s = 0; s < NSIZES; s++)
    for (int l = 0; l < NLAYOUTS; l++) {
      lz_scope_begin();
      int n = sizes[s], len = 2 * n + 1;
      uint32_t *bits = calloc((size_t)len, sizeof(uint32_t));
      for (int i = 0; i < len; i++) {
        uint32_t r = rnd();
        bits[i] = r % 3 == 0   ? (rnd() << 8 | (rnd() & 0xff))
                  : r % 3 == 1 ? 0x38000000u + (rnd() % 0x0f000000u)
                               : (rnd() & 0xffff0000u) | 0x8000u; /* ties for bf16 */
        if (r % 11 == 0) bits[i] = (bits[i] & 0x80000000u) | (rnd() % 0x01000000u); /* tiny */
        if (r % 13 == 0)
          bits[i] = (lz__f32_to_f16(0.0f) | (rnd() & 0x3ff)) << 13 | 0x1000u; /* f16 ties */
      }
      lz_array *base = lz_array_from_data(bits, &len, 1, LZ_FLOAT32);
      free(bits);
      int64_t st = l == 2 ? 2 : l == 3 ? -1 : 1, off = l == 0 ? 0 : l == 3 ? n : 1;
      lz_array *x = lzt_view(base, &n, 1, &st, off);
      for (int d = 0; d < 2; d++) {
        lz_array *h = lz_astype(x, halves[d]);
        CHECK(same_bits(h, on_scalar(lz_astype(x, halves[d]))));
        lz_array *hv = make_half(n, halves[d], l);
        CHECK(same_bits(lz_astype(hv, LZ_FLOAT32), on_scalar(lz_astype(hv, LZ_FLOAT32))));
        lz_dtype other = halves[1 - d]; /* float16 <-> bfloat16 */
        CHECK(same_bits(lz_astype(hv, other), on_scalar(lz_astype(hv, other))));
      }
      lz_scope_end();
    }
  /* bfloat16 keeps a NaN's top bits (quieted); float16 gives the canonical quiet NaN */
  float nan_in;
  uint32_t payload = 0xff812345u;
  memcpy(&nan_in, &payload, 4);
  int one = 1;
  lz_array *xn = lz_array_from_data(&nan_in, &one, 1, LZ_FLOAT32);
  const uint16_t *b = lz_array_data(lz_astype(xn, LZ_BFLOAT16));
  const uint16_t *h = lz_array_data(lz_astype(xn, LZ_FLOAT16));
  CHECK(b && b[0] == 0xffc1);
  CHECK(h && h[0] == 0xfe00);
}

/* Reductions, softmax and the norms of half inputs read the same float32 blocks as the
 * float32 kernels on a float32 twin: the same values at twice the strides (so it is loaded
 * block by block too, in the same row or column mode): bit for bit the same results.
 * Layouts of an (r,c) half matrix: 0 row-major, 1 one element in, 2 strides doubled,
 * 3 transposed. */
static lz_array *make_pair(int r, int c, lz_dtype dt, int layout, lz_array **twin) {
  int n = r * c, len = 2 * n + 1, flen = 2 * len, shape[2] = {r, c};
  uint16_t *bits = calloc((size_t)len, sizeof(uint16_t));
  float *wide = calloc((size_t)flen, sizeof(float));
  for (int i = 0; i < len; i++) {
    bits[i] = rnd_half(dt);
    wide[2 * i] = dt == LZ_FLOAT16 ? lz__f16_to_f32(bits[i]) : lz__bf16_to_f32(bits[i]);
    wide[2 * i + 1] = 1234.5f; /* never read */
  }
  lz_array *hb = lz_array_from_data(bits, &len, 1, dt),
           *fb = lz_array_from_data(wide, &flen, 1, LZ_FLOAT32);
  free(bits), free(wide);
  int64_t st[2] = {c, 1}, off = layout == 1 || layout == 2 ? 1 : 0;
  if (layout == 2) st[0] = 2 * c, st[1] = 2;
  if (layout == 3) st[0] = 1, st[1] = r;
  int64_t st2[2] = {2 * st[0], 2 * st[1]};
  *twin = lzt_view(fb, shape, 2, st2, 2 * off);
  return lzt_view(hb, shape, 2, st, off);
}

static void test_reductions_half(void) {
  rng_state = 4;
  const int shapes[][2] = {{1, 1}, {3, 7}, {5, 33}, {2, 257}, {17, 1000}, {1, 70001}, {300, 9}};
  for (int d = 0; d < 2; d++)
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++)
      for (int l = 0; l < NLAYOUTS; l++) {
        lz_scope_begin();
        lz_dtype dt = halves[d];
        int r = shapes[c][0], cols = shapes[c][1];
        lz_array *f, *h = make_pair(r, cols, dt, l, &f);
        char what[80];
        snprintf(what, sizeof what, "%s (%d,%d) layout %d on %s", lz_dtype_name(dt), r, cols, l,
                 lz_isa_name(lz_isa_path()));
        lzt_current = what;
        for (int axis = 0; axis < 2; axis++) {
          CHECK(same_bits(lz_sum_axis(h, axis, false), narrow(lz_sum_axis(f, axis, false), dt)));
          CHECK(same_bits(lz_mean_axis(h, axis, false), narrow(lz_mean_axis(f, axis, false), dt)));
          CHECK(same_bits(lz_max_axis(h, axis, false), narrow(lz_max_axis(f, axis, false), dt)));
          CHECK(same_bits(lz_min_axis(h, axis, false), narrow(lz_min_axis(f, axis, false), dt)));
          CHECK(same_bits(lz_var_axis(h, axis, false, 0),
                          narrow(lz_var_axis(f, axis, false, 0), dt)));
          CHECK(same_bits(lz_logsumexp_axis(h, axis, false),
                          narrow(lz_logsumexp_axis(f, axis, false), dt)));
          CHECK(same_bits(lz_softmax_axis(h, axis, false),
                          narrow(lz_softmax_axis(f, axis, false), dt)));
        }
        CHECK(same_bits(lz_sum(h, false), narrow(lz_sum(f, false), dt)));
        /* the norms over the last axis, with half weights */
        lz_array *w = make_half(cols, dt, l), *bias = make_half(cols, dt, (l + 1) % NLAYOUTS);
        CHECK(same_bits(lz_fast_layer_norm(h, w, bias, 1e-5),
                        narrow(lz_fast_layer_norm(widen(h), widen(w), widen(bias), 1e-5), dt)));
        CHECK(same_bits(lz_fast_rms_norm(h, w, 1e-5),
                        narrow(lz_fast_rms_norm(widen(h), widen(w), 1e-5), dt)));
        lzt_current = "test_reductions_half";
        lz_scope_end();
      }
}

int main(void) {
  RUN(test_unary_half);
  RUN(test_binary_half);
  RUN(test_casts);
  RUN(test_reductions_half);
  return lzt_summary();
}
