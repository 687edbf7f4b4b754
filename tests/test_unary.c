/* Unary elementwise ops: every op against NumPy/mpmath references for each dtype, on
 * contiguous, strided and reversed inputs; SIMD against scalar paths; type rules, special
 * values, integer wrap, empty and 0-d arrays, broadcast inputs, view, stop_gradient, complex
 * parts and errors. */
#include "cpu/half.h"
#include "core/isa.h"
#include "cpu/unary.h"
#include "data/elementwise_refs.h"
#include "test_elementwise_util.h"

typedef lz_array *(*unary_fn)(lz_array *);
static const struct {
  const char *name;
  unary_fn fn;
} unary_ops[] = {
    {"abs", lz_abs},         {"negative", lz_negative},
    {"sign", lz_sign},       {"square", lz_square},
    {"floor", lz_floor},     {"ceil", lz_ceil},
    {"trunc", lz_trunc},
    {"sqrt", lz_sqrt},       {"rsqrt", lz_rsqrt},
    {"reciprocal", lz_reciprocal}, {"exp", lz_exp},
    {"expm1", lz_expm1},     {"log", lz_log},
    {"log2", lz_log2},       {"log10", lz_log10},
    {"log1p", lz_log1p},     {"sin", lz_sin},
    {"cos", lz_cos},         {"tan", lz_tan},
    {"arcsin", lz_arcsin},   {"arccos", lz_arccos},
    {"arctan", lz_arctan},   {"sinh", lz_sinh},
    {"cosh", lz_cosh},       {"tanh", lz_tanh},
    {"arcsinh", lz_arcsinh}, {"arccosh", lz_arccosh},
    {"arctanh", lz_arctanh}, {"sigmoid", lz_sigmoid},
    {"erf", lz_erf},         {"erfinv", lz_erfinv},
    {"isnan", lz_isnan},     {"isinf", lz_isinf},
    {"isfinite", lz_isfinite}, {"isposinf", lz_isposinf},
    {"isneginf", lz_isneginf}, {"logical_not", lz_logical_not},
    {"bitwise_invert", lz_bitwise_invert},
};

static lz_array *apply(const lzt_ref *r, lz_array *x) {
  if (!strcmp(r->op, "round")) return lz_round(x, (int)r->param);
  if (!strcmp(r->op, "nan_to_num")) return lz_nan_to_num(x, 0.0, NULL, NULL);
  for (size_t i = 0; i < sizeof unary_ops / sizeof unary_ops[0]; i++)
    if (!strcmp(unary_ops[i].name, r->op)) return unary_ops[i].fn(x);
  fprintf(stderr, "unknown op %s\n", r->op);
  return NULL;
}

/* Each reference case three times: contiguous, stride 2 with an offset, and reversed (a
 * negative stride). */
static void test_unary_references(void) {
  for (size_t c = 0; c < sizeof lzt_unary_refs / sizeof lzt_unary_refs[0]; c++) {
    const lzt_ref *r = &lzt_unary_refs[c];
    lz_scope_begin();
    lz_array *inputs[3] = {lzt_make(r->a, r->shape_a, r->ndim_a, r->dtype),
                           lzt_make_strided(r->a, r->n, r->dtype),
                           lzt_make_reversed(r->a, r->n, r->dtype)};
    for (int k = 0; k < 3; k++) {
      lz_array *y = apply(r, inputs[k]);
      int before = lzt_failures;
      CHECK(y && lz_array_dtype(y) == r->out_dtype);
      CHECK_VALUES(y, r->out, (size_t)r->n, r->tol); /* views read in logical order */
      if (lzt_failures != before)
        fprintf(stderr, "  in case %zu: %s(param %g) on %s input (layout %d)\n", c, r->op,
                r->param, lz_dtype_name(r->dtype), k);
    }
    lz_scope_end();
    lz_clear_error();
  }
}

/* ---- the SIMD layer against the scalar one ---- */

typedef struct {
  const char *name;
  unary_fn fn;
  double (*ref)(double);
  double lo, hi, max_ulps; /* of the SIMD path; the scalar (libm) path may reach 2 */
} vec_case;

static double sigmoid_d(double x) { return 1 / (1 + exp(-x)); }
static double erfinv_d(double x) { return lz_cpu_erfinv(x); }
static double rsqrt_d(double x) { return 1 / sqrt(x); }
static double recip_d(double x) { return 1 / x; }

/* SLEEF's u10 functions are within 1 ulp; glibc's float functions within 2 (sinhf, tanhf);
 * rsqrt rounds twice (sqrt, then divide); sigmoid composes exp, add and divide. */
static const vec_case vec_cases[] = {
    {"exp", lz_exp, exp, -87, 88, 1},          {"expm1", lz_expm1, expm1, -10, 10, 1},
    {"log", lz_log, log, 1e-30, 1e30, 1},      {"log2", lz_log2, log2, 1e-6, 1e6, 1},
    {"log10", lz_log10, log10, 1e-6, 1e6, 1},  {"log1p", lz_log1p, log1p, -0.99, 100, 1},
    {"sin", lz_sin, sin, -100, 100, 1},        {"cos", lz_cos, cos, -100, 100, 1},
    {"tan", lz_tan, tan, -1.5, 1.5, 1},        {"arcsin", lz_arcsin, asin, -1, 1, 1},
    {"arccos", lz_arccos, acos, -1, 1, 1},     {"arctan", lz_arctan, atan, -50, 50, 1},
    {"sinh", lz_sinh, sinh, -80, 80, 1},       {"cosh", lz_cosh, cosh, -80, 80, 1},
    {"tanh", lz_tanh, tanh, -12, 12, 1},       {"arcsinh", lz_arcsinh, asinh, -1e4, 1e4, 1},
    {"arccosh", lz_arccosh, acosh, 1, 1e4, 1}, {"arctanh", lz_arctanh, atanh, -0.999, 0.999, 1},
    {"erf", lz_erf, erf, -5, 5, 1},            {"sigmoid", lz_sigmoid, sigmoid_d, -80, 80, 3},
    {"sqrt", lz_sqrt, sqrt, 0, 1e6, 0.5},      {"rsqrt", lz_rsqrt, rsqrt_d, 1e-6, 1e6, 1.5},
    {"reciprocal", lz_reciprocal, recip_d, 0.001, 1e6, 0.5},
    {"erfinv", lz_erfinv, erfinv_d, -0.999, 0.999, 0.5},
};

static double max_ulps_of(lz_array *y, const double *x, int n, double (*ref)(double)) {
  const float *d = lz_array_data(y);
  double worst = 0;
  for (int i = 0; d && i < n; i++) {
    double u = lzt_ulps(d[i], ref((double)(float)x[i]));
    if (u > worst) worst = u;
  }
  return d ? worst : INFINITY;
}

/* Both paths within the bound on an odd length (a partial last vector), on an input that
 * starts one element into its buffer (unaligned), and on a strided input (staged). */
static void test_simd_matches_scalar(void) {
  enum { N = 1001 };
  double *x = malloc(N * sizeof(double));
  for (size_t c = 0; c < sizeof vec_cases / sizeof vec_cases[0]; c++) {
    const vec_case *v = &vec_cases[c];
    for (int i = 0; i < N; i++) x[i] = v->lo + (v->hi - v->lo) * i / (N - 1);
    lz_scope_begin();
    int shape[1] = {N}, bshape[1] = {N + 1};
    double *shifted = calloc(N + 1, sizeof(double));
    memcpy(shifted + 1, x, N * sizeof(double));
    lz_array *base = lzt_make(shifted, bshape, 1, LZ_FLOAT32);
    int64_t st1[1] = {1};
    lz_array *layouts[3] = {lzt_make(x, shape, 1, LZ_FLOAT32), lzt_view(base, shape, 1, st1, 1),
                            lzt_make_strided(x, N, LZ_FLOAT32)};
    free(shifted);
    for (int simd = 0; simd < 2; simd++) {
      bool prev = lz_cpu_set_simd(simd == 1);
      for (int k = 0; k < 3; k++) {
        double u = max_ulps_of(v->fn(layouts[k]), x, N, v->ref);
        bool vec = simd && lz_isa_path() != LZ_ISA_SCALAR; /* LZ_CPU=scalar: no vector path */
        double bound = vec ? v->max_ulps : fmax(v->max_ulps, 2.0);
        if (!(u <= bound)) {
          lzt_failures++;
          fprintf(stderr, "%s (%s path, layout %d): %.2f ulps, bound %.1f\n", v->name,
                  simd ? "SIMD" : "scalar", k, u, bound);
        }
        lzt_checks++;
      }
      lz_cpu_set_simd(prev);
    }
    /* And the two paths agree bit for bit where both are exact. */
    lz_scope_end();
  }
  free(x);
  printf("SIMD paths %s on this CPU; kernel path %s\n",
         lz_cpu_simd_available() ? "available" : "unavailable", lz_isa_name(lz_isa_path()));
}

/* float16/bfloat16 go through the same float32 array functions in blocks: a long strided
 * half input crosses several staging blocks. */
static void test_half_staging_blocks(void) {
  enum { N = 700 };
  double x[N], want[N];
  for (int i = 0; i < N; i++) x[i] = (double)lz_h2f(lz_f2h((float)(-4 + 8.0 * i / N))), want[i] = tanh(x[i]);
  lz_array *h = lzt_make_strided(x, N, LZ_FLOAT16);
  lz_array *b = lzt_make_strided(x, N, LZ_BFLOAT16);
  CHECK_VALUES(lz_tanh(h), want, N, 2e-3);
  CHECK_VALUES(lz_tanh(b), want, N, 1.6e-2);
  CHECK(lz_array_dtype(lz_tanh(h)) == LZ_FLOAT16);
}

/* ---- type rules ---- */

static void test_unary_type_rules(void) {
  int shape[1] = {3};
  double v[3] = {1, 2, 3};
  lz_array *i8 = lzt_make(v, shape, 1, LZ_INT8), *u16 = lzt_make(v, shape, 1, LZ_UINT16);
  lz_array *f16 = lzt_make(v, shape, 1, LZ_FLOAT16), *b = lzt_make(v, shape, 1, LZ_BOOL);
  CHECK(lz_array_dtype(lz_exp(i8)) == LZ_FLOAT32);
  CHECK(lz_array_dtype(lz_sqrt(b)) == LZ_FLOAT32);
  CHECK(lz_array_dtype(lz_log(f16)) == LZ_FLOAT16);
  CHECK(lz_array_dtype(lz_abs(i8)) == LZ_INT8);
  CHECK(lz_array_dtype(lz_abs(u16)) == LZ_UINT16);
  CHECK(lz_array_dtype(lz_square(u16)) == LZ_UINT16);
  CHECK(lz_array_dtype(lz_floor(i8)) == LZ_INT8);
  CHECK(lz_array_dtype(lz_isnan(i8)) == LZ_BOOL);
  CHECK(lz_array_dtype(lz_logical_not(f16)) == LZ_BOOL);
  CHECK(lz_array_dtype(lz_degrees(i8)) == LZ_FLOAT32);
  CHECK(lz_array_dtype(lz_radians(f16)) == LZ_FLOAT16);
  CHECK(lz_array_dtype(lz_bitwise_invert(b)) == LZ_BOOL);
  double deg[3] = {57.29577951308232, 114.59155902616465, 171.88733853924697};
  CHECK_VALUES(lz_degrees(i8), deg, 3, 1e-6);
  double rad[1] = {3.141592653589793};
  CHECK_VALUES(lz_radians(lz_float(180)), rad, 1, 1e-6);
  /* A weak scalar in, a float32 out. */
  CHECK_CLOSE(lz_item_f64(lz_exp(lz_int(1))), 2.718281828, 1e-6);
  CHECK(lz_array_dtype(lz_exp(lz_int(1))) == LZ_FLOAT32);
}

/* ---- integers: wrap, exact rounding ---- */

static void test_integer_edges(void) {
  int shape[1] = {3};
  int64_t v[3] = {INT64_MIN, INT64_MAX, -5};
  lz_array *a = lz_array_from_data(v, shape, 1, LZ_INT64);
  int64_t got[3];
  CHECK(lz_array_read(lz_abs(a), LZ_INT64, got, sizeof got) == 0);
  CHECK(got[0] == INT64_MIN && got[1] == INT64_MAX && got[2] == 5);
  CHECK(lz_array_read(lz_negative(a), LZ_INT64, got, sizeof got) == 0);
  CHECK(got[0] == INT64_MIN && got[1] == -INT64_MAX && got[2] == 5);
  CHECK(lz_array_read(lz_square(a), LZ_INT64, got, sizeof got) == 0);
  CHECK(got[0] == 0 && got[1] == 1 && got[2] == 25);
  CHECK(lz_array_read(lz_sign(a), LZ_INT64, got, sizeof got) == 0);
  CHECK(got[0] == -1 && got[1] == 1 && got[2] == -1);
  CHECK(lz_array_read(lz_round(a, -18), LZ_INT64, got, sizeof got) == 0);
  CHECK(got[0] == -9000000000000000000LL && got[1] == 9000000000000000000LL && got[2] == 0);
  CHECK(lz_array_read(lz_round(a, -30), LZ_INT64, got, sizeof got) == 0);
  CHECK(got[0] == 0 && got[1] == 0);
  uint64_t u[2] = {UINT64_MAX, 15};
  int s2[1] = {2};
  lz_array *ua = lz_array_from_data(u, s2, 1, LZ_UINT64);
  uint64_t ug[2];
  CHECK(lz_array_read(lz_negative(ua), LZ_UINT64, ug, sizeof ug) == 0);
  CHECK(ug[0] == 1 && ug[1] == UINT64_MAX - 14);
  CHECK(lz_array_read(lz_round(ua, -1), LZ_UINT64, ug, sizeof ug) == 0);
  CHECK(ug[0] == 4 && ug[1] == 20); /* 18446744073709551620 wraps */
  /* Integers round as is for decimals >= 0: the same array comes back. */
  lz_array *r = lz_round(a, 2);
  CHECK(r == a);
}

/* ---- special values, empty and 0-d arrays, broadcast inputs ---- */

static void test_empty_scalar_broadcast(void) {
  int es[2] = {0, 3};
  lz_array *e = lz_zeros(es, 2, LZ_FLOAT32);
  lz_array *y = lz_exp(e);
  CHECK_SHAPE(y, 0, 3);
  CHECK(lz_eval(y) == 0 && lz_array_size(y) == 0);
  CHECK(lz_eval(lz_round(e, 2)) == 0);
  CHECK(lz_eval(lz_view(e, LZ_INT32)) == 0);
  lz_array *s = lz_scalar(-2.5, LZ_FLOAT64);
  CHECK(lz_array_ndim(lz_abs(s)) == 0);
  CHECK_CLOSE(lz_item_f64(lz_abs(s)), 2.5, 0);
  CHECK_CLOSE(lz_item_f64(lz_round(s, 0)), -2, 0);
  CHECK_CLOSE(lz_item_f64(lz_sigmoid(lz_scalar(0, LZ_FLOAT16))), 0.5, 0);
  /* lz_full is a stride-0 view: every element reads the same value. */
  int fs[2] = {3, 5};
  lz_array *f = lz_full(fs, 2, 2.0, LZ_FLOAT32);
  double want[15];
  for (int i = 0; i < 15; i++) want[i] = exp(2.0);
  CHECK_VALUES(lz_exp(f), want, 15, 1e-6);
  CHECK_SHAPE(lz_exp(f), 3, 5);
  lz_array *fh = lz_full(fs, 2, -1.5, LZ_BFLOAT16);
  for (int i = 0; i < 15; i++) want[i] = -2;
  CHECK_VALUES(lz_floor(fh), want, 15, 0);
  /* sigmoid saturates without NaN at both ends, in both paths. */
  double big[4] = {-200, -89, 89, 200}, sig[4] = {0, 2.227e-39, 1, 1};
  int s4[1] = {4};
  for (int simd = 0; simd < 2; simd++) {
    bool prev = lz_cpu_set_simd(simd);
    CHECK_VALUES(lz_sigmoid(lzt_make(big, s4, 1, LZ_FLOAT32)), sig, 4, 1e-3);
    lz_cpu_set_simd(prev);
  }
}

/* ---- nan_to_num with explicit values ---- */

static void test_nan_to_num_values(void) {
  double v[4] = {NAN, INFINITY, -INFINITY, 3};
  int s[1] = {4};
  lz_array *a = lzt_make(v, s, 1, LZ_FLOAT32);
  double pos = 100, neg = -50;
  double want[4] = {-1, 100, -50, 3};
  CHECK_VALUES(lz_nan_to_num(a, -1, &pos, &neg), want, 4, 0);
  double want2[4] = {7, 100, -FLT_MAX, 3};
  CHECK_VALUES(lz_nan_to_num(a, 7, &pos, NULL), want2, 4, 0);
  lz_array *i = lzt_make(v + 3, (int[]){1}, 1, LZ_INT32);
  CHECK(lz_nan_to_num(i, 0, NULL, NULL) == i);
}

/* ---- view ---- */

static void test_view(void) {
  float f[4] = {1.0f, -2.0f, 0.5f, 0};
  int s[1] = {4};
  lz_array *a = lz_array_from_data(f, s, 1, LZ_FLOAT32);
  lz_array *bits = lz_view(a, LZ_INT32);
  CHECK_SHAPE(bits, 4);
  const int32_t *b = lz_array_data(bits);
  CHECK(b && b[0] == 0x3f800000 && (uint32_t)b[1] == 0xc0000000u && b[3] == 0);
  /* Smaller items: the last axis grows; larger: it shrinks. */
  int s24[2] = {2, 2};
  lz_array *a2 = lz_array_from_data(f, s24, 2, LZ_FLOAT32);
  lz_array *bytes = lz_view(a2, LZ_UINT8);
  CHECK_SHAPE(bytes, 2, 8);
  const uint8_t *by = lz_array_data(bytes);
  CHECK(by && by[3] == 0x3f && by[7] == 0xc0);
  lz_array *back = lz_view(bytes, LZ_FLOAT64);
  CHECK_SHAPE(back, 2, 1);
  lz_array *again = lz_view(lz_view(back, LZ_UINT16), LZ_FLOAT32);
  double fv[4] = {1, -2, 0.5, 0};
  CHECK_VALUES(again, fv, 4, 0);
  /* The evaluated view shares the buffer of a contiguous input. */
  CHECK(lz_eval(bits) == 0 && bits->buf == a->buf);
  /* A strided input is copied first. */
  lz_array *sv = lzt_make_strided(fv, 4, LZ_FLOAT32);
  const int32_t *sb = lz_array_data(lz_view(sv, LZ_INT32));
  CHECK(sb && sb[0] == 0x3f800000 && sb[3] == 0);
  /* An offset input whose byte offset does not fit the new item size is copied too. */
  int64_t st[1] = {1};
  int s3[1] = {2};
  lz_array *off = lzt_view(bytes, s3, 1, st, 3);
  lz_array *u16 = lz_view(off, LZ_UINT16);
  const uint16_t *u = lz_array_data(u16);
  CHECK(u && u[0] == (uint16_t)(0x3f | (by[4] << 8)));
  CHECK(lz_view(a, LZ_FLOAT32) == a);
  lz_array *sc = lz_scalar(1, LZ_FLOAT32);
  CHECK_CLOSE(lz_item_i64(lz_view(sc, LZ_INT32)), 0x3f800000, 0);
  CHECK_ERROR(lz_view(sc, LZ_INT8), "[lz_view] a 0-d float32 cannot be viewed as int8");
  int s5[1] = {5};
  CHECK_ERROR(lz_view(lz_zeros(s5, 1, LZ_UINT8), LZ_INT32), "last axis holds 5 bytes");
}

/* ---- stop_gradient ---- */

static void test_stop_gradient(void) {
  double v[3] = {1, -2, 3};
  int s[1] = {3};
  lz_array *a = lzt_make(v, s, 1, LZ_FLOAT32);
  lz_array *y = lz_stop_gradient(a);
  CHECK(y != a && lz_array_dtype(y) == LZ_FLOAT32);
  CHECK_VALUES(y, v, 3, 0);
  CHECK(y->buf == a->buf);
  lz_array *r = lzt_make_reversed(v, 3, LZ_INT8);
  CHECK_VALUES(lz_stop_gradient(r), v, 3, 0);
}

/* ---- complex64 ---- */

static void test_complex_unary(void) {
  lz_complex64 z[3] = {{3, 4}, {-1, 0.5f}, {0, -2}};
  int s[1] = {3};
  lz_array *a = lz_array_from_data(z, s, 1, LZ_COMPLEX64);
  lz_array *m = lz_abs(a);
  CHECK(lz_array_dtype(m) == LZ_FLOAT32);
  double mag[3] = {5, 1.118033988749895, 2};
  CHECK_VALUES(m, mag, 3, 1e-6);
  double re[3] = {3, -1, 0}, im[3] = {4, 0.5, -2};
  CHECK_VALUES(lz_real(a), re, 3, 0);
  CHECK_VALUES(lz_imag(a), im, 3, 0);
  CHECK(lz_array_dtype(lz_real(a)) == LZ_FLOAT32);
  CHECK_VALUES(lz_imag(lz_conj(a)), ((double[]){-4, -0.5, 2}), 3, 0);
  CHECK_VALUES(lz_real(lz_negative(a)), ((double[]){-3, 1, 0}), 3, 0);
  lz_array *sq = lz_square(a); /* (3+4i)^2 = -7+24i */
  CHECK_VALUES(lz_real(sq), ((double[]){-7, 0.75, -4}), 3, 1e-6);
  CHECK_VALUES(lz_imag(sq), ((double[]){24, -1, 0}), 3, 1e-6);
  /* Real inputs: conj and real give the input, imag zeros. */
  lz_array *r = lzt_make(re, s, 1, LZ_FLOAT32);
  CHECK(lz_conj(r) == r && lz_real(r) == r);
  CHECK_VALUES(lz_imag(r), ((double[]){0, 0, 0}), 3, 0);
  CHECK_ERROR(lz_exp(a), "[lz_exp] not supported for complex64");
  CHECK_ERROR(lz_floor(a), "[lz_floor] not supported for complex64");
}

/* ---- errors ---- */

static void test_unary_errors(void) {
  int s[1] = {2};
  lz_array *b = lz_zeros(s, 1, LZ_BOOL), *f = lz_zeros(s, 1, LZ_FLOAT32);
  CHECK_ERROR(lz_negative(b), "[lz_negative] not supported for bool");
  CHECK_ERROR(lz_bitwise_invert(f), "[lz_bitwise_invert] not supported for float32");
  CHECK_ERROR(lz_exp(NULL), "[lz_exp] argument 0 is NULL");
  CHECK_ERROR(lz_view(f, (lz_dtype)99), "[lz_view] invalid dtype 99");
  /* A pending error passes through a chain and keeps its first message. */
  lz_clear_error();
  lz_array *y = lz_sin(lz_exp(lz_negative(b)));
  CHECK(y == NULL && strstr(lz_last_error(), "[lz_negative]"));
  lz_clear_error();
}

/* Out of memory in a kernel is an error, not a crash, and leaks nothing. */
static void test_unary_alloc_failure(void) {
  int s[1] = {64};
  lz_array *x = lz_ones(s, 1, LZ_FLOAT32);
  lz_array *y = lz_tanh(x);
  lz_set_alloc_failure(1);
  CHECK(lz_eval(y) == -1 && lz_last_error_code() == LZ_ERROR_OUT_OF_MEMORY);
  lz_set_alloc_failure(0);
  lz_clear_error();
}

int main(void) {
  RUN(test_unary_references);
  RUN(test_simd_matches_scalar);
  RUN(test_half_staging_blocks);
  RUN(test_unary_type_rules);
  RUN(test_integer_edges);
  RUN(test_empty_scalar_broadcast);
  RUN(test_nan_to_num_values);
  RUN(test_view);
  RUN(test_stop_gradient);
  RUN(test_complex_unary);
  RUN(test_unary_errors);
  RUN(test_unary_alloc_failure);
  return lzt_summary();
}
