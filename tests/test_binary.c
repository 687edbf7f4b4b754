/* Binary and ternary elementwise ops: every op against NumPy references for each dtype with
 * broadcasting, on contiguous, strided and reversed inputs; integer division that must not
 * trap; divmod as one node; where, clip, isclose, allclose, array_equal; complex64; type
 * promotion; the SIMD paths of power and arctan2; errors. */
#include <limits.h>

#include "core/isa.h"
#include "cpu/unary.h"
#include "data/elementwise_refs.h"
#include "test_elementwise_util.h"

typedef lz_array *(*binary_fn)(lz_array *, lz_array *);
static lz_array *isclose_0(lz_array *a, lz_array *b) { return lz_isclose(a, b, 1e-5, 1e-8, false); }
static lz_array *isclose_1(lz_array *a, lz_array *b) { return lz_isclose(a, b, 1e-5, 1e-8, true); }
static const struct {
  const char *name;
  binary_fn fn;
} binary_ops[] = {
    {"add", lz_add},
    {"subtract", lz_subtract},
    {"multiply", lz_multiply},
    {"divide", lz_divide},
    {"maximum", lz_maximum},
    {"minimum", lz_minimum},
    {"floor_divide", lz_floor_divide},
    {"remainder", lz_remainder},
    {"power", lz_power},
    {"arctan2", lz_arctan2},
    {"logaddexp", lz_logaddexp},
    {"equal", lz_equal},
    {"not_equal", lz_not_equal},
    {"less", lz_less},
    {"less_equal", lz_less_equal},
    {"greater", lz_greater},
    {"greater_equal", lz_greater_equal},
    {"logical_and", lz_logical_and},
    {"logical_or", lz_logical_or},
    {"logical_xor", lz_logical_xor},
    {"bitwise_and", lz_bitwise_and},
    {"bitwise_or", lz_bitwise_or},
    {"bitwise_xor", lz_bitwise_xor},
    {"left_shift", lz_left_shift},
    {"right_shift", lz_right_shift},
};

static binary_fn find_op(const lzt_ref *r) {
  if (!strcmp(r->op, "isclose")) return r->param ? isclose_1 : isclose_0;
  for (size_t i = 0; i < sizeof binary_ops / sizeof binary_ops[0]; i++)
    if (!strcmp(binary_ops[i].name, r->op)) return binary_ops[i].fn;
  fprintf(stderr, "unknown op %s\n", r->op);
  return NULL;
}

/* Each case three times: contiguous; a strided and b reversed; a reversed and b strided. The
 * (n,1) x (1,m) grids also exercise the scalar-left path of every loop. */
static void test_binary_references(void) {
  for (size_t c = 0; c < sizeof lzt_binary_refs / sizeof lzt_binary_refs[0]; c++) {
    const lzt_ref *r = &lzt_binary_refs[c];
    binary_fn fn = find_op(r);
    lz_scope_begin();
    lz_array *as[3] = {lzt_make(r->a, r->shape_a, r->ndim_a, r->dtype),
                       lzt_make_strided_shape(r->a, r->shape_a, r->ndim_a, r->dtype),
                       lzt_make_reversed_shape(r->a, r->shape_a, r->ndim_a, r->dtype)};
    lz_dtype bt = r->dtype; /* b has the case's dtype too */
    lz_array *bs[3] = {lzt_make(r->b, r->shape_b, r->ndim_b, bt),
                       lzt_make_reversed_shape(r->b, r->shape_b, r->ndim_b, bt),
                       lzt_make_strided_shape(r->b, r->shape_b, r->ndim_b, bt)};
    for (int k = 0; k < 3; k++) {
      int before = lzt_failures;
      lz_array *y = fn(as[k], bs[k]);
      CHECK(y && lz_array_dtype(y) == r->out_dtype);
      CHECK_VALUES(y, r->out, (size_t)r->n, r->tol);
      if (lzt_failures != before)
        fprintf(stderr, "  in case %zu: %s(param %g) on %s (layout %d)\n", c, r->op, r->param,
                lz_dtype_name(r->dtype), k);
    }
    lz_scope_end();
    lz_clear_error();
  }
}

/* The scalar-right path: b is one element broadcast over a. */
static void test_scalar_right(void) {
  double v[5] = {-7, -1, 0, 3, 8};
  int s[1] = {5};
  lz_array *a = lzt_make(v, s, 1, LZ_INT32);
  lz_array *three = lz_scalar(3, LZ_INT32);
  CHECK_VALUES(lz_floor_divide(a, three), ((double[]){-3, -1, 0, 1, 2}), 5, 0);
  CHECK_VALUES(lz_remainder(a, three), ((double[]){2, 2, 0, 0, 2}), 5, 0);
  CHECK_VALUES(lz_remainder(a, lz_scalar(-3, LZ_INT32)), ((double[]){-1, -1, 0, 0, -1}), 5, 0);
  CHECK_VALUES(lz_power(a, lz_scalar(2, LZ_INT32)), ((double[]){49, 1, 0, 9, 64}), 5, 0);
  CHECK_VALUES(lz_left_shift(a, lz_int(1)), ((double[]){-14, -2, 0, 6, 16}), 5, 0);
  CHECK_VALUES(lz_subtract(lz_int(1), a), ((double[]){8, 2, 1, -2, -7}), 5, 0);
}

/* ---- integer division never traps ---- */

#define DIV_EDGES(T, DT, MIN)                                                                    \
  do {                                                                                           \
    T av[4] = {MIN, MIN, 7, -7}, bv[4] = {-1, 0, 0, 0};                                          \
    int s[1] = {4};                                                                              \
    lz_array *a = lz_array_from_data(av, s, 1, DT), *b = lz_array_from_data(bv, s, 1, DT);       \
    T q[4], r[4];                                                                                \
    CHECK(lz_array_read(lz_floor_divide(a, b), DT, q, sizeof q) == 0);                           \
    CHECK(lz_array_read(lz_remainder(a, b), DT, r, sizeof r) == 0);                              \
    CHECK(q[0] == MIN && q[1] == 0 && q[2] == 0 && q[3] == 0);                                   \
    CHECK(r[0] == 0 && r[1] == 0 && r[2] == 0 && r[3] == 0);                                     \
  } while (0)

static void test_integer_division_edges(void) {
  DIV_EDGES(int8_t, LZ_INT8, INT8_MIN);
  DIV_EDGES(int16_t, LZ_INT16, INT16_MIN);
  DIV_EDGES(int32_t, LZ_INT32, INT32_MIN);
  DIV_EDGES(int64_t, LZ_INT64, INT64_MIN);
  uint32_t ua[2] = {5, 0}, ub[2] = {0, 0};
  int s[1] = {2};
  lz_array *a = lz_array_from_data(ua, s, 1, LZ_UINT32), *b = lz_array_from_data(ub, s, 1, LZ_UINT32);
  CHECK_VALUES(lz_floor_divide(a, b), ((double[]){0, 0}), 2, 0);
  CHECK_VALUES(lz_remainder(a, b), ((double[]){0, 0}), 2, 0);
  /* Floats: x // 0 is +-inf (NaN for 0 // 0), x % 0 is NaN. */
  double fa[3] = {1, -1, 0}, fz[3] = {0, 0, 0};
  int s3[1] = {3};
  lz_array *f = lzt_make(fa, s3, 1, LZ_FLOAT32), *z = lzt_make(fz, s3, 1, LZ_FLOAT32);
  CHECK_VALUES(lz_floor_divide(f, z), ((double[]){INFINITY, -INFINITY, NAN}), 3, 0);
  CHECK_VALUES(lz_remainder(f, z), ((double[]){NAN, NAN, NAN}), 3, 0);
}

/* ---- divmod: one node, two outputs ---- */

static void test_divmod(void) {
  double av[6] = {7, -7, 7, -7, 0, 5}, bv[6] = {2, 2, -2, -2, 3, 0};
  int s[1] = {6};
  lz_array *a = lzt_make(av, s, 1, LZ_INT16), *b = lzt_make(bv, s, 1, LZ_INT16);
  uint64_t nodes = lz_get_node_count();
  lz_array *out[2];
  CHECK(lz_divmod(a, b, out) == 0);
  CHECK(lz_get_node_count() - nodes == 1);
  CHECK(lz_array_dtype(out[0]) == LZ_INT16 && lz_array_dtype(out[1]) == LZ_INT16);
  CHECK_VALUES(out[0], ((double[]){3, -4, -4, 3, 0, 0}), 6, 0);
  CHECK_VALUES(out[1], ((double[]){1, 1, -1, -1, 0, 0}), 6, 0);
  /* Floats, and dropping one output before evaluation. */
  lz_array *fa = lzt_make(av, s, 1, LZ_FLOAT64), *fb = lzt_make(bv, s, 1, LZ_FLOAT64);
  CHECK(lz_divmod(fa, fb, out) == 0);
  lz_free(out[0]);
  CHECK_VALUES(out[1], ((double[]){1, 1, -1, -1, 0, NAN}), 6, 0);
  CHECK(lz_divmod(lz_float(7.5), lz_float(-2), out) == 0);
  CHECK_CLOSE(lz_item_f64(out[0]), -4, 0);
  CHECK_CLOSE(lz_item_f64(out[1]), -0.5, 0);
  CHECK(lz_divmod(a, NULL, out) == -1 && out[0] == NULL && out[1] == NULL);
  lz_clear_error();
  int s2[1] = {2};
  CHECK(lz_divmod(a, lz_zeros(s2, 1, LZ_INT16), out) == -1 && out[0] == NULL);
  CHECK(strstr(lz_last_error(), "[lz_divmod] shapes (6,) and (2,) cannot be broadcast"));
  lz_clear_error();
}

/* ---- power with negative integer exponents ---- */

static void test_integer_power(void) {
  double av[5] = {2, 1, -1, -1, 0}, bv[5] = {-1, -5, -3, -4, 3};
  int s[1] = {5};
  CHECK_VALUES(lz_power(lzt_make(av, s, 1, LZ_INT32), lzt_make(bv, s, 1, LZ_INT32)),
               ((double[]){0, 1, -1, 1, 0}), 5, 0);
  int64_t big[2] = {3, 2};
  int64_t e[2] = {40, 63};
  int s2[1] = {2};
  int64_t got[2];
  CHECK(lz_array_read(lz_power(lz_array_from_data(big, s2, 1, LZ_INT64),
                               lz_array_from_data(e, s2, 1, LZ_INT64)),
                      LZ_INT64, got, sizeof got) == 0);
  CHECK(got[0] == (int64_t)12157665459056928801ULL && got[1] == INT64_MIN); /* 3^40 and 2^63 wrap */
  /* A float exponent on an integer base promotes to float32 (weak float). */
  CHECK(lz_array_dtype(lz_power(lzt_make(av, s, 1, LZ_INT32), lz_float(0.5))) == LZ_FLOAT32);
}

/* ---- where ---- */

static void test_where(void) {
  double cv[3] = {1, 0, 2}, xv[2] = {10, 20}, yv[1] = {-1};
  int cs[2] = {3, 1}, xs[1] = {2}, ys[1] = {1};
  lz_array *c = lzt_make(cv, cs, 2, LZ_FLOAT32); /* nonzero is true */
  lz_array *x = lzt_make(xv, xs, 1, LZ_INT16), *y = lzt_make(yv, ys, 1, LZ_INT8);
  lz_array *w = lz_where(c, x, y);
  CHECK(lz_array_dtype(w) == LZ_INT16);
  CHECK_SHAPE(w, 3, 2);
  CHECK_VALUES(w, ((double[]){10, 20, -1, -1, 10, 20}), 6, 0);
  /* Every element size, strided and reversed operands, a weak scalar branch. */
  lz_dtype dts[5] = {LZ_BOOL, LZ_FLOAT16, LZ_FLOAT32, LZ_FLOAT64, LZ_INT64};
  double xv5[5] = {1, 2, 3, 4, 5}, cv5[5] = {1, 0, 0, 1, 1};
  int s5[1] = {5};
  for (int i = 0; i < 5; i++) {
    lz_array *xx = lzt_make_strided(xv5, 5, dts[i]);
    lz_array *cc = lzt_make_reversed(cv5, 5, LZ_BOOL);
    lz_array *ww = lz_where(cc, xx, lz_int(0));
    CHECK(lz_array_dtype(ww) == (dts[i] == LZ_BOOL ? LZ_INT32 : dts[i])); /* weak int + bool */
    double want[5];
    for (int k = 0; k < 5; k++) want[k] = cv5[k] ? (dts[i] == LZ_BOOL ? 1 : xv5[k]) : 0;
    CHECK_VALUES(ww, want, 5, 0);
  }
  lz_complex64 z[2] = {{1, 2}, {3, 4}};
  int s2[1] = {2};
  lz_array *zc = lz_array_from_data(z, s2, 1, LZ_COMPLEX64);
  lz_array *wz = lz_where(lzt_make(cv, s2, 1, LZ_BOOL), zc, lz_float(0));
  CHECK(lz_array_dtype(wz) == LZ_COMPLEX64);
  CHECK_VALUES(lz_imag(wz), ((double[]){2, 0}), 2, 0);
  CHECK_ERROR(lz_where(c, x, lzt_make(xv5, s5, 1, LZ_INT8)),
              "[lz_where] shapes (3,2) and (5,) cannot be broadcast");
  CHECK_ERROR(lz_where(c, x, NULL), "[lz_where] argument 2 is NULL");
}

/* ---- clip ---- */

static void test_clip(void) {
  double v[5] = {-3, -1, 0, 2, NAN};
  int s[1] = {5};
  lz_array *a = lzt_make(v, s, 1, LZ_FLOAT32);
  CHECK_VALUES(lz_clip(a, lz_float(-1), lz_float(1)), ((double[]){-1, -1, 0, 1, NAN}), 5, 0);
  CHECK_VALUES(lz_clip(a, NULL, lz_float(0)), ((double[]){-3, -1, 0, 0, NAN}), 5, 0);
  CHECK_VALUES(lz_clip(a, lz_float(0), NULL), ((double[]){0, 0, 0, 2, NAN}), 5, 0);
  double lo[2] = {0, -2};
  int s21[2] = {2, 1};
  lz_array *c = lz_clip(lzt_make(v, s, 1, LZ_INT8), lzt_make(lo, s21, 2, LZ_INT8), lz_int(1));
  CHECK_SHAPE(c, 2, 5);
  CHECK(lz_array_dtype(c) == LZ_INT8);
  CHECK_VALUES(c, ((double[]){0, 0, 0, 1, 0, -2, -1, 0, 1, 0}), 10, 0);
  CHECK(lz_array_dtype(lz_clip(lzt_make(v, s, 1, LZ_INT8), lz_float(0.5), NULL)) == LZ_FLOAT32);
  CHECK_ERROR(lz_clip(a, NULL, NULL), "[lz_clip] a_min and a_max are both NULL");
  CHECK_ERROR(lz_clip(NULL, a, a), "[lz_clip] argument 0 is NULL");
}

/* ---- closeness and equality ---- */

static void test_close_and_equal(void) {
  double av[4] = {1, 2, NAN, INFINITY}, bv[4] = {1, 2.00001, NAN, INFINITY};
  int s[1] = {4};
  lz_array *a = lzt_make(av, s, 1, LZ_FLOAT32), *b = lzt_make(bv, s, 1, LZ_FLOAT32);
  lz_array *t = lz_allclose(a, b, 1e-5, 1e-8, true);
  CHECK(lz_array_ndim(t) == 0 && lz_array_dtype(t) == LZ_BOOL);
  CHECK(lz_item_bool(t));
  CHECK(!lz_item_bool(lz_allclose(a, b, 1e-5, 1e-8, false))); /* NaN != NaN */
  CHECK(!lz_item_bool(lz_allclose(a, b, 1e-7, 0, true)));
  CHECK(lz_item_bool(lz_array_equal(a, a, true)));
  CHECK(!lz_item_bool(lz_array_equal(a, a, false)));
  CHECK(!lz_item_bool(lz_array_equal(a, b, true)));
  int s2[2] = {2, 2};
  CHECK(!lz_item_bool(lz_array_equal(a, lz_zeros(s2, 2, LZ_FLOAT32), false))); /* shapes */
  CHECK(lz_array_ndim(lz_array_equal(a, lz_zeros(s2, 2, LZ_FLOAT32), false)) == 0);
  int s1c[1] = {3};
  /* complex64 with equal_nan, as MLX: each part equal, or NaN in both (a regression: complex
   * arrays compared with ==, so a NaN part made them unequal to themselves) */
  float cv[6] = {NAN, 1, 2, NAN, 3, 4}, dv[6] = {1, NAN, 2, NAN, 3, 4};
  lz_array *c = lz_array_from_data(cv, s1c, 1, LZ_COMPLEX64);
  lz_array *d = lz_array_from_data(dv, s1c, 1, LZ_COMPLEX64);
  CHECK(lz_item_bool(lz_array_equal(c, c, true)));
  CHECK(!lz_item_bool(lz_array_equal(c, c, false)));
  CHECK(!lz_item_bool(lz_array_equal(c, d, true)));  /* NaN in another part */
  CHECK(!lz_item_bool(lz_array_equal(c, lz_astype(a, LZ_COMPLEX64), true)));
  CHECK(lz_item_bool(lz_array_equal(lz_astype(a, LZ_COMPLEX64), a, true))); /* promoted */
  /* Integers compare exactly, even where float64 cannot tell them apart. */
  int64_t x[2] = {(1LL << 60), 5}, y[2] = {(1LL << 60) + 1, 5};
  int s1[1] = {2};
  lz_array *xi = lz_array_from_data(x, s1, 1, LZ_INT64), *yi = lz_array_from_data(y, s1, 1, LZ_INT64);
  CHECK(!lz_item_bool(lz_array_equal(xi, yi, true)));
  CHECK(lz_item_bool(lz_array_equal(xi, xi, false)));
  /* Promotion: int8 against float32 values. */
  double iv[4] = {1, 2, 0, 3};
  CHECK(lz_item_bool(lz_array_equal(lzt_make(iv, s, 1, LZ_INT8), lzt_make(iv, s, 1, LZ_FLOAT32), false)));
  /* Empty arrays are all equal; broadcasting isclose keeps the shape. */
  int e[1] = {0};
  CHECK(lz_item_bool(lz_allclose(lz_zeros(e, 1, LZ_FLOAT32), lz_zeros(e, 1, LZ_FLOAT32), 1e-5, 1e-8, false)));
  CHECK_SHAPE(lz_isclose(a, lz_float(1), 1e-5, 1e-8, false), 4);
  /* A long strided input checks all_true across many runs. */
  enum { N = 3000 };
  double *ones = malloc(N * sizeof(double));
  for (int i = 0; i < N; i++) ones[i] = 1;
  lz_array *big = lzt_make_strided(ones, N, LZ_FLOAT32);
  CHECK(lz_item_bool(lz_allclose(big, lz_float(1), 0, 0, false)));
  ones[N - 1] = 2;
  CHECK(!lz_item_bool(lz_allclose(lzt_make_strided(ones, N, LZ_FLOAT32), lz_float(1), 0, 0, false)));
  free(ones);
}

/* ---- complex64 ---- */

static void test_complex_binary(void) {
  lz_complex64 av[2] = {{1, 2}, {3, -4}}, bv[2] = {{0, 1}, {3, -4}};
  int s[1] = {2};
  lz_array *a = lz_array_from_data(av, s, 1, LZ_COMPLEX64), *b = lz_array_from_data(bv, s, 1, LZ_COMPLEX64);
  lz_array *sum = lz_add(a, b), *dif = lz_subtract(a, b), *pro = lz_multiply(a, b), *quo = lz_divide(a, b);
  CHECK(lz_array_dtype(pro) == LZ_COMPLEX64 && lz_array_dtype(quo) == LZ_COMPLEX64);
  CHECK_VALUES(lz_real(sum), ((double[]){1, 6}), 2, 0);
  CHECK_VALUES(lz_imag(sum), ((double[]){3, -8}), 2, 0);
  CHECK_VALUES(lz_imag(dif), ((double[]){1, 0}), 2, 0);
  CHECK_VALUES(lz_real(pro), ((double[]){-2, -7}), 2, 0); /* (1+2i)i = -2+i; (3-4i)^2 = -7-24i */
  CHECK_VALUES(lz_imag(pro), ((double[]){1, -24}), 2, 0);
  CHECK_VALUES(lz_real(quo), ((double[]){2, 1}), 2, 1e-7); /* (1+2i)/i = 2-i */
  CHECK_VALUES(lz_imag(quo), ((double[]){-1, 0}), 2, 1e-7);
  CHECK_VALUES(lz_equal(a, b), ((double[]){0, 1}), 2, 0);
  CHECK_VALUES(lz_not_equal(a, b), ((double[]){1, 0}), 2, 0);
  /* Real operands promote to complex; a real integer divided by complex stays complex. */
  lz_array *m = lz_multiply(a, lz_float(2));
  CHECK(lz_array_dtype(m) == LZ_COMPLEX64);
  CHECK_VALUES(lz_imag(m), ((double[]){4, -8}), 2, 0);
  CHECK(lz_array_dtype(lz_divide(lz_scalar(1, LZ_INT32), a)) == LZ_COMPLEX64);
  CHECK_ERROR(lz_less(a, b), "[lz_less] not supported for complex64");
  CHECK_ERROR(lz_maximum(a, b), "[lz_maximum] not supported for complex64");
  CHECK_ERROR(lz_arctan2(a, b), "[lz_arctan2] not supported for complex64");
  lz_array *out[2];
  CHECK(lz_divmod(a, b, out) == -1);
  CHECK(strstr(lz_last_error(), "[lz_divmod] not supported for complex64"));
  lz_clear_error();
}

/* ---- type promotion ---- */

static void test_binary_type_rules(void) {
  int s[1] = {2};
  lz_array *i8 = lz_zeros(s, 1, LZ_INT8), *u8 = lz_zeros(s, 1, LZ_UINT8);
  lz_array *i32 = lz_zeros(s, 1, LZ_INT32), *f16 = lz_zeros(s, 1, LZ_FLOAT16);
  lz_array *bf = lz_zeros(s, 1, LZ_BFLOAT16), *b = lz_zeros(s, 1, LZ_BOOL);
  CHECK(lz_array_dtype(lz_add(i8, u8)) == LZ_INT16);
  CHECK(lz_array_dtype(lz_multiply(i32, f16)) == LZ_FLOAT16);
  CHECK(lz_array_dtype(lz_add(f16, bf)) == LZ_FLOAT32);
  CHECK(lz_array_dtype(lz_add(i8, lz_int(100))) == LZ_INT8);
  CHECK(lz_array_dtype(lz_add(i8, lz_float(0.5))) == LZ_FLOAT32);
  CHECK(lz_array_dtype(lz_power(f16, lz_int(2))) == LZ_FLOAT16);
  CHECK(lz_array_dtype(lz_floor_divide(i8, u8)) == LZ_INT16);
  CHECK(lz_array_dtype(lz_divide(i8, i8)) == LZ_FLOAT32);
  CHECK(lz_array_dtype(lz_arctan2(i8, i8)) == LZ_FLOAT32);
  CHECK(lz_array_dtype(lz_logaddexp(bf, bf)) == LZ_BFLOAT16);
  CHECK(lz_array_dtype(lz_logical_and(f16, i8)) == LZ_BOOL);
  CHECK(lz_array_dtype(lz_bitwise_or(b, b)) == LZ_BOOL);
  CHECK(lz_array_dtype(lz_bitwise_or(b, u8)) == LZ_UINT8);
  CHECK(lz_array_dtype(lz_left_shift(b, b)) == LZ_UINT8);
  /* Shifts keep result_type(a, b), bool as uint8 (MLX's ops.cpp); values wrap in it. */
  CHECK(lz_array_dtype(lz_left_shift(i8, i8)) == LZ_INT8);
  CHECK(lz_array_dtype(lz_right_shift(i8, lz_int(1))) == LZ_INT8);
  CHECK(lz_array_dtype(lz_left_shift(u8, i8)) == LZ_INT16);
  CHECK(lz_array_dtype(lz_right_shift(b, u8)) == LZ_UINT8);
  CHECK(lz_array_dtype(lz_left_shift(lz_zeros(s, 1, LZ_UINT16), b)) == LZ_UINT16);
  CHECK(lz_item_i64(lz_left_shift(lz_scalar(100, LZ_INT8), lz_scalar(1, LZ_INT8))) == -56);
  CHECK(lz_item_i64(lz_left_shift(lz_scalar(1, LZ_BOOL), lz_scalar(1, LZ_BOOL))) == 2);
  CHECK(lz_array_dtype(lz_right_shift(i32, lz_int(1))) == LZ_INT32);
  CHECK(lz_array_dtype(lz_isclose(i8, f16, 1e-5, 1e-8, false)) == LZ_BOOL);
  CHECK(lz_array_dtype(lz_where(b, i8, u8)) == LZ_INT16);
}

/* Weak scalars keep their exact value and convert straight to the other operand's dtype; an int
 * that does not fit the other operand's integer dtype is an error (MLX's ValueError). */
static void test_weak_scalar_exact(void) {
  int s1[1] = {1};
  int64_t one = 1;
  double tenth = 0.1;
  lz_array *i64 = lz_array_from_data(&one, s1, 1, LZ_INT64);
  lz_array *f64 = lz_array_from_data(&tenth, s1, 1, LZ_FLOAT64);
  CHECK(lz_item_i64(lz_add(i64, lz_int(1LL << 40))) == (1LL << 40) + 1);
  CHECK(lz_item_i64(lz_multiply(lz_int(-(1LL << 50)), i64)) == -(1LL << 50));
  CHECK(lz_item_f64(lz_add(f64, lz_float(0.1))) == 0.2); /* exact in float64 */
  CHECK(lz_item_f64(lz_subtract(lz_float(1e-300), f64)) == 1e-300 - 0.1);
  CHECK(lz_item_f64(lz_astype(lz_float(0.1), LZ_FLOAT64)) == 0.1);
  /* Other float dtypes get the value rounded to float32 first, as MLX. */
  CHECK(lz_item_f64(lz_add(lz_zeros(s1, 1, LZ_FLOAT32), lz_float(0.1))) == (double)0.1f);
  /* Alone: int32 while it fits, int64 beyond (as MLX), exact. */
  CHECK(lz_array_dtype(lz_int(2147483647)) == LZ_INT32);
  CHECK(lz_array_dtype(lz_int(-2147483648LL)) == LZ_INT32);
  CHECK(lz_array_dtype(lz_int(2147483648LL)) == LZ_INT64);
  CHECK(lz_item_i64(lz_int(-(1LL << 62))) == -(1LL << 62));
  CHECK(lz_array_dtype(lz_add(lz_int(1LL << 40), lz_int(1))) == LZ_INT64);
  CHECK(lz_array_dtype(lz_add(lz_int(1LL << 40), lz_float(1))) == LZ_FLOAT32);
  /* A big weak int keeps a strong int64/float's dtype; a bool array takes the int's. */
  CHECK(lz_array_dtype(lz_add(i64, lz_int(1LL << 40))) == LZ_INT64);
  CHECK(lz_array_dtype(lz_add(f64, lz_int(1LL << 40))) == LZ_FLOAT64);
  CHECK(lz_item_f64(lz_add(f64, lz_int((1LL << 53) + 1))) == 0.1 + (double)((1LL << 53) + 1));
  lz_array *bo = lz_ones(s1, 1, LZ_BOOL);
  CHECK(lz_array_dtype(lz_add(bo, lz_int(3))) == LZ_INT32);
  CHECK(lz_item_i64(lz_add(bo, lz_int(1LL << 40))) == (1LL << 40) + 1);
  /* Does not fit: an error for every op that takes it, never a wrapped value. */
  lz_array *u8 = lz_ones(s1, 1, LZ_UINT8), *i8 = lz_ones(s1, 1, LZ_INT8);
  lz_array *i32 = lz_ones(s1, 1, LZ_INT32), *u32 = lz_ones(s1, 1, LZ_UINT32);
  CHECK_ERROR(lz_add(u8, lz_int(300)), "[lz_add] Converting 300 to uint8 would result in overflow");
  CHECK(lz_add(u8, lz_int(300)) == NULL && lz_last_error_code() == LZ_ERROR_INVALID_ARGUMENT);
  lz_clear_error();
  CHECK_ERROR(lz_subtract(lz_int(-1), u8), "[lz_subtract] Converting -1 to uint8");
  CHECK_ERROR(lz_multiply(i8, lz_int(128)), "Converting 128 to int8");
  CHECK_ERROR(lz_maximum(i32, lz_int(1LL << 31)), "[lz_maximum] Converting 2147483648 to int32");
  CHECK_ERROR(lz_less(u32, lz_int(-5)), "[lz_less] Converting -5 to uint32");
  CHECK_ERROR(lz_where(bo, u8, lz_int(256)), "[lz_where] Converting 256 to uint8");
  CHECK_ERROR(lz_clip(u8, lz_int(-1), NULL), "Converting -1 to uint8");
  /* Checked against the other operand's dtype even where the op computes in float (MLX). */
  CHECK_ERROR(lz_divide(u8, lz_int(-1)), "[lz_divide] Converting -1 to uint8");
  CHECK_ERROR(lz_logaddexp(lz_int(70000), lz_ones(s1, 1, LZ_INT16)), "Converting 70000 to int16");
  /* Edges that fit are exact; 64-bit integer dtypes take anything; floats never fail. */
  CHECK(lz_item_i64(lz_add(lz_zeros(s1, 1, LZ_INT8), lz_int(-128))) == -128);
  CHECK(lz_item_i64(lz_add(lz_zeros(s1, 1, LZ_UINT32), lz_int(4294967295LL))) == 4294967295LL);
  CHECK(lz_array_dtype(lz_add(lz_ones(s1, 1, LZ_UINT64), lz_int(-1))) == LZ_UINT64);
  lz_array *h = lz_add(lz_ones(s1, 1, LZ_FLOAT16), lz_float(1e6));
  CHECK(lz_array_dtype(h) == LZ_FLOAT16 && isinf(lz_item_f64(h)));
  CHECK(lz_array_dtype(lz_add(lz_ones(s1, 1, LZ_FLOAT16), lz_int(100000))) == LZ_FLOAT16);
  /* An explicit astype wraps as MLX's astype does. */
  CHECK(lz_item_i64(lz_astype(lz_int(300), LZ_UINT8)) == 44);
}

/* ---- the SIMD paths of power and arctan2 ---- */

static void test_simd_power_arctan2(void) {
  enum { N = 515 };
  double *x = malloc(N * sizeof(double)), *y = malloc(N * sizeof(double));
  for (int i = 0; i < N; i++) x[i] = 0.01 + 20.0 * i / N, y[i] = -6 + 12.0 * ((i * 7) % N) / N;
  int s[1] = {N};
  lz_array *a = lzt_make(x, s, 1, LZ_FLOAT32), *b = lzt_make(y, s, 1, LZ_FLOAT32);
  lz_array *sa = lzt_make_strided(x, N, LZ_FLOAT32);
  for (int simd = 0; simd < 2; simd++) {
    bool prev = lz_cpu_set_simd(simd);
    lz_array *lay[2] = {a, sa};
    for (int k = 0; k < 2; k++) {
      const float *p = lz_array_data(lz_power(lay[k], b));
      const float *t = lz_array_data(lz_arctan2(b, lay[k]));
      double wp = 0, wt = 0;
      for (int i = 0; p && t && i < N; i++) {
        double xf = (float)x[i], yf = (float)y[i];
        wp = fmax(wp, lzt_ulps(p[i], pow(xf, yf)));
        wt = fmax(wt, lzt_ulps(t[i], atan2(yf, xf)));
      }
      bool vec = simd && lz_isa_path() != LZ_ISA_SCALAR; /* LZ_CPU=scalar: libm */
      CHECK(p && t && wp <= (vec ? 1.0 : 2.0) && wt <= (vec ? 1.0 : 2.0));
      if (!(wp <= 2 && wt <= 2)) fprintf(stderr, "power %.2f, arctan2 %.2f ulps\n", wp, wt);
    }
    lz_cpu_set_simd(prev);
  }
  free(x);
  free(y);
}

/* ---- empty, 0-d, errors ---- */

static void test_binary_shapes_and_errors(void) {
  int e[2] = {0, 4}, r[1] = {4};
  lz_array *z = lz_zeros(e, 2, LZ_FLOAT32), *row = lz_ones(r, 1, LZ_FLOAT32);
  lz_array *y = lz_logaddexp(z, row);
  CHECK_SHAPE(y, 0, 4);
  CHECK(lz_eval(y) == 0);
  CHECK(lz_eval(lz_where(lz_zeros(e, 2, LZ_BOOL), z, row)) == 0);
  CHECK_CLOSE(lz_item_f64(lz_logaddexp(lz_float(0), lz_float(0))), log(2.0), 1e-7);
  CHECK(lz_array_ndim(lz_power(lz_scalar(2, LZ_INT8), lz_scalar(3, LZ_INT8))) == 0);
  CHECK_CLOSE(lz_item_f64(lz_power(lz_scalar(2, LZ_INT8), lz_scalar(7, LZ_INT8))), -128, 0);
  int s[1] = {2};
  lz_array *f = lz_zeros(s, 1, LZ_FLOAT32), *i = lz_zeros(s, 1, LZ_INT32), *b = lz_zeros(s, 1, LZ_BOOL);
  CHECK_ERROR(lz_bitwise_and(f, f), "[lz_bitwise_and] not supported for float32");
  CHECK_ERROR(lz_bitwise_xor(i, f), "[lz_bitwise_xor] not supported for float32 (inputs int32 and float32)");
  CHECK_ERROR(lz_left_shift(f, i), "[lz_left_shift] not supported for float32");
  CHECK_ERROR(lz_right_shift(i, lz_float(1)), "[lz_right_shift] not supported for float32");
  CHECK_ERROR(lz_floor_divide(b, b), "[lz_floor_divide] not supported for bool");
  CHECK_ERROR(lz_power(b, b), "[lz_power] not supported for bool");
  CHECK_ERROR(lz_subtract(b, b), "[lz_subtract] not supported for bool");
  int s23[2] = {2, 3}, s43[2] = {4, 3};
  CHECK_ERROR(lz_remainder(lz_zeros(s23, 2, LZ_INT8), lz_zeros(s43, 2, LZ_INT8)),
              "[lz_remainder] shapes (2,3) and (4,3) cannot be broadcast");
  CHECK_ERROR(lz_logical_or(NULL, b), "[lz_logical_or] argument 0 is NULL");
  /* Out of memory while evaluating is an error, not a crash. */
  lz_array *big = lz_multiply(lz_ones(s43, 2, LZ_FLOAT32), lz_float(2));
  lz_set_alloc_failure(1);
  CHECK(lz_eval(big) == -1 && lz_last_error_code() == LZ_ERROR_OUT_OF_MEMORY);
  lz_set_alloc_failure(0);
  lz_clear_error();
}

int main(void) {
  RUN(test_binary_references);
  RUN(test_scalar_right);
  RUN(test_integer_division_edges);
  RUN(test_divmod);
  RUN(test_integer_power);
  RUN(test_where);
  RUN(test_clip);
  RUN(test_close_and_equal);
  RUN(test_complex_binary);
  RUN(test_binary_type_rules);
  RUN(test_weak_scalar_exact);
  RUN(test_simd_power_arctan2);
  RUN(test_binary_shapes_and_errors);
  return lzt_summary();
}
