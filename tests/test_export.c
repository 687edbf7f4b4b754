/* lz_export_function / lz_import_function: round trips for every op family compared bit for
 * bit with the original function, several traces in one file, shapeless exports replayed on
 * other shapes, imported closures under grad, vmap and compile, lazy constants, and malformed
 * files (truncated, bad magic, future versions, out-of-range references) refused with IO
 * errors. */
#include <unistd.h>

#include "core/internal.h" /* lz__op: parameter sizes for hand-made files */
#include "lz_test.h"

static char path[256];

static unsigned rng = 777;
static lz_array *randn(const int *shape, int nd, lz_dtype dt) {
  size_t n = 1;
  for (int i = 0; i < nd; i++) n *= (size_t)shape[i];
  float *v = malloc((n ? n : 1) * sizeof *v);
  for (size_t i = 0; i < n; i++) {
    rng = rng * 1664525u + 1013904223u;
    v[i] = (float)(rng >> 8) / 16777216.0f * 2 - 1;
  }
  lz_array *a = lz_astype(lz_array_from_data(v, shape, nd, LZ_FLOAT32), dt);
  free(v);
  lz_eval(a);
  return a;
}

/* Same dtype, shape and bytes. */
static bool same_bits(lz_array *a, lz_array *b) {
  if (!a || !b || lz_array_dtype(a) != lz_array_dtype(b) || lz_array_ndim(a) != lz_array_ndim(b))
    return false;
  for (int d = 0; d < lz_array_ndim(a); d++)
    if (lz_array_shape(a)[d] != lz_array_shape(b)[d]) return false;
  size_t nb = lz_array_nbytes(a);
  const void *x = lz_array_data(a), *y = lz_array_data(b);
  return x && y && memcmp(x, y, nb) == 0;
}

/* With LZ_EXPORT_SEEDS=dir (scripts/gen_export_seeds.sh), the files the tests write are
 * copied there as the fuzz target's seed corpus. */
static void save_seed(const char *name) {
  const char *dir = getenv("LZ_EXPORT_SEEDS");
  if (!dir) return;
  char to[512];
  snprintf(to, sizeof to, "%s/%s.lzfn", dir, name);
  FILE *in = fopen(path, "rb"), *out = fopen(to, "wb");
  char b[4096];
  size_t n;
  while (in && out && (n = fread(b, 1, sizeof b, in)) > 0) fwrite(b, 1, n, out);
  if (in) fclose(in);
  if (out) fclose(out);
}

typedef lz_array *(*case_fn)(lz_array *const *in);
typedef struct fn_case {
  const char *name;
  case_fn fn;
  int nin;
} fn_case;

static int call_case(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)n;
  out[0] = ((const fn_case *)ctx)->fn(in);
  return out[0] ? 1 : -1;
}

/* Weights the functions capture (constants of the exported file). */
static lz_array *W16, *WB16, *W32, *CONVW, *IDX, *KEY, *SPD, *QW[3];

static lz_array *f_elementwise(lz_array *const *in) {
  lz_array *x = in[0], *y = in[1];
  lz_array *a = lz_add(lz_multiply(lz_exp(x), lz_float(2)), lz_sin(y));
  lz_array *b = lz_where(lz_greater(x, y), lz_tanh(a), lz_power(lz_abs(a), lz_float(0.3f)));
  lz_array *c = lz_astype(lz_floor_divide(lz_astype(lz_multiply(b, lz_float(100)), LZ_INT32),
                                          lz_int(7)), LZ_FLOAT32);
  return lz_add(lz_subtract(lz_erf(b), lz_sigmoid(c)), lz_arctan2(x, lz_add(y, lz_float(3))));
}
static lz_array *f_reduce(lz_array *const *in) {
  lz_array *x = in[0];
  int ax[1] = {1};
  lz_array *s = lz_add(lz_sum_axes(x, ax, 1, true), lz_var_axes(x, ax, 1, true, 1));
  lz_array *m = lz_add(lz_logsumexp_axes(x, ax, 1, true), lz_softmax_axis(x, 1, false));
  lz_array *c = lz_cumsum(x, 0, false, true);
  lz_array *am = lz_astype(lz_argmax_axis(x, 1, true), LZ_FLOAT32);
  return lz_add(lz_add(lz_multiply(s, m), c), lz_add(am, lz_sort_axis(x, 1)));
}
static lz_array *f_shape(lz_array *const *in) {
  lz_array *x = in[0]; /* (4, 6) */
  int sh[3] = {2, 2, 6}, perm[3] = {2, 0, 1};
  lz_array *r = lz_transpose(lz_reshape(x, sh, 3), perm, 3); /* (6, 2, 2) */
  int st[3] = {1, 0, 0}, sp[3] = {5, 2, 2}, str[3] = {2, 1, 1};
  lz_array *s = lz_slice(r, st, sp, str, 3); /* (2, 2, 2) */
  lz_array *parts[2];
  if (lz_split(x, 2, 1, parts) != 0) return NULL; /* (4, 3) each */
  lz_array *cat[2] = {parts[1], parts[0]};
  lz_array *c = lz_concatenate(cat, 2, 0); /* (8, 3) */
  int pax[1] = {0}, lo[1] = {1}, hi[1] = {2};
  lz_array *p = lz_pad(c, pax, 1, lo, hi, "constant", 0.5); /* (11, 3) */
  int flat[1] = {-1};
  return lz_concatenate((lz_array *[]){lz_reshape(s, flat, 1), lz_reshape(p, flat, 1)}, 2, 0);
}
static lz_array *f_index(lz_array *const *in) {
  lz_array *x = in[0]; /* (4, 6) */
  lz_array *t = lz_take(x, IDX, 1);                      /* (4, 3) */
  lz_array *ta = lz_take_along_axis(x, lz_argsort_axis(x, 1), 1); /* sorted rows */
  lz_array *u = lz_slice_update(ta, lz_multiply(t, lz_float(10)), (int[]){0, 0}, (int[]){4, 3}, NULL);
  lz_array *pa = lz_put_along_axis(u, lz_zeros((int[]){4, 1}, 2, LZ_INT32), lz_float(-1), 1);
  return lz_multiply(pa, lz_take(x, lz_array_from_data((int32_t[]){3, 0, 1, 1}, (int[]){4}, 1, LZ_INT32), 0));
}
static lz_array *f_matmul(lz_array *const *in) {
  lz_array *x = in[0]; /* (4, 6) */
  lz_array *h = lz_matmul(lz_astype(x, LZ_FLOAT16), W16); /* (4, 5) float16 */
  lz_array *g = lz_matmul(lz_astype(x, LZ_BFLOAT16), WB16);
  lz_array *q = lz_quantized_matmul(lz_matmul(x, W32), QW[0], QW[1], QW[2], true, 32, 4);
  return lz_add(lz_add(lz_astype(h, LZ_FLOAT32), lz_astype(g, LZ_FLOAT32)), lz_sum_axis(q, 1, true));
}
static lz_array *f_conv(lz_array *const *in) {
  int sh[4] = {1, 4, 6, 1};
  lz_array *x = lz_reshape(in[0], sh, 4);
  return lz_conv2d(x, CONVW, 1, 1, 1, 0, 1, 1, 1);
}
static lz_array *f_fast(lz_array *const *in) {
  lz_array *x = in[0]; /* (4, 6) */
  int sh[4] = {1, 1, 4, 6};
  lz_array *q = lz_reshape(x, sh, 4);
  lz_array *r = lz_fast_rope(q, 6, false, 10000, 1, 0, NULL);
  lz_array *a = lz_fast_scaled_dot_product_attention(r, q, q, 0.5, "causal", NULL);
  return lz_add(lz_fast_rms_norm(lz_reshape(a, (int[]){4, 6}, 2), NULL, 1e-5),
                lz_fast_layer_norm(x, NULL, NULL, 1e-5));
}
static lz_array *f_random(lz_array *const *in) {
  lz_array *n = lz_random_normal((int[]){4, 6}, 2, LZ_FLOAT32, 0, 1, in[1]);
  return lz_add(in[0], lz_add(n, lz_random_normal((int[]){4, 6}, 2, LZ_FLOAT32, 0, 1, KEY)));
}
static lz_array *f_linalg(lz_array *const *in) {
  lz_array *x = in[0]; /* (4, 6) */
  lz_array *b = lz_matmul(x, lz_transpose(x, NULL, 0)); /* (4, 4) */
  return lz_add(lz_linalg_solve(SPD, b), lz_linalg_cholesky(SPD, false));
}
/* Scans, sorts and the reductions f_reduce leaves out. */
static lz_array *f_scan_sort(lz_array *const *in) {
  lz_array *x = in[0]; /* (4, 6) */
  lz_array *c = lz_add(lz_cumprod(x, 1, true, false), lz_cummax(x, 0, false, true));
  c = lz_add(c, lz_logcumsumexp(x, 1, false, true));
  lz_array *t = lz_topk_axis(x, 2, 1);                     /* (4, 2) */
  lz_array *p = lz_partition_axis(x, 1, 1);                /* (4, 6) */
  lz_array *ap = lz_astype(lz_argpartition_axis(x, 2, 0), LZ_FLOAT32);
  lz_array *d = lz_diff(x, 1, 1);                          /* (4, 5) */
  lz_array *s = lz_add(lz_sum(t, false), lz_add(lz_sum(d, false), lz_trace(x, 1, 0, 1)));
  s = lz_add(s, lz_add(lz_median(x, false), lz_prod_axis(x, 1, false)));  /* (4,) */
  s = lz_add(s, lz_astype(lz_sum(lz_sort(x), false), LZ_FLOAT32));
  return lz_add(lz_add(lz_add(c, p), ap), lz_reshape(s, (int[]){4, 1}, 2));
}
/* einsum, outer and tensordot record one contraction node each. */
static lz_array *f_contract(lz_array *const *in) {
  lz_array *x = in[0]; /* (4, 6) */
  lz_array *e = lz_einsum("ij,kj->ik", (lz_array *[]){x, x}, 2);          /* (4, 4) */
  lz_array *o = lz_outer(lz_sum_axis(x, 1, false), lz_sum_axis(x, 1, false)); /* (4, 4) */
  lz_array *d = lz_einsum("ii->i", (lz_array *[]){e}, 1);                 /* (4,) */
  return lz_add(lz_add(e, o), lz_add(d, lz_tensordot(e, o, 1)));
}
static lz_array *f_fft(lz_array *const *in) {
  lz_array *x = in[0]; /* (4, 6) */
  lz_array *r = lz_rfft(x, 6, 1);                           /* (4, 4) complex */
  lz_array *b = lz_irfft(r, 6, 1);                          /* (4, 6) */
  lz_array *f = lz_real(lz_fft(lz_astype(x, LZ_COMPLEX64), 8, 0)); /* (8, 6) padded */
  return lz_add(b, lz_slice(f, (int[]){0, 0}, (int[]){4, 6}, NULL, 2));
}
/* Gathers, scatters and views beyond f_index and f_shape. */
static lz_array *f_gather_scatter(lz_array *const *in) {
  lz_array *x = in[0]; /* (4, 6) */
  lz_array *i0 = lz_array_from_data((int32_t[]){3, 1}, (int[]){2}, 1, LZ_INT32);
  lz_array *g = lz_gather(x, &i0, (int[]){0}, 1, (int[]){1, 6});           /* (2, 1, 6) */
  lz_array *sc = lz_scatter_add(x, &i0, (int[]){0}, 1, lz_multiply_scalar(g, 2));
  lz_array *at = lz_at_add(sc, IDX, lz_float(1), 1);
  lz_array *f = lz_flip(at, NULL, 0);
  lz_array *st = lz_as_strided(f, (int[]){3, 6}, 2, (int64_t[]){6, 1}, 2);  /* (3, 6) */
  lz_array *start = lz_array_from_data((int32_t[]){1}, (int[]){1}, 1, LZ_INT32);
  lz_array *sd = lz_slice_dynamic(f, start, (int[]){0}, 1, (int[]){3, 6});
  lz_array *su = lz_slice_update_dynamic(f, lz_multiply_scalar(sd, 0.5), start, (int[]){0}, 1);
  lz_array *tri = lz_tril(lz_reshape(lz_slice(su, (int[]){0, 0}, (int[]){4, 4}, NULL, 2),
                                     (int[]){4, 4}, 2), 0);
  lz_array *dg = lz_diagonal(tri, 0, 0, 1);                                 /* (4,) */
  lz_array *v = lz_add(lz_sum(st, false), lz_sum(dg, false));
  return lz_add(lz_add(su, lz_broadcast_to(v, (int[]){4, 6}, 2)), lz_roll(x, (int[]){2}, (int[]){1}, 1));
}
static lz_array *f_linalg_more(lz_array *const *in) {
  lz_array *x = in[0]; /* (4, 6) */
  lz_array *qr[2];
  if (lz_linalg_qr(x, qr) != 0) return NULL;                     /* (4, 4), (4, 6) */
  lz_array *inv = lz_linalg_inv(lz_add(SPD, lz_matmul(qr[0], lz_transpose(qr[0], NULL, 0))));
  lz_array *n = lz_linalg_norm_ord(x, 1, (int[]){1}, 1, true);  /* (4, 1) */
  lz_array *dq = lz_dequantize(QW[0], QW[1], QW[2], 32, 4);      /* (8, 64) */
  lz_array *dqs = lz_sum_axis(lz_slice(dq, (int[]){0, 0}, (int[]){4, 64}, NULL, 2), 1, true);
  return lz_add(lz_add(lz_matmul(inv, qr[1]), n), dqs);
}

static const fn_case cases[] = {
    {"elementwise", f_elementwise, 2}, {"reduce", f_reduce, 1}, {"shape", f_shape, 1},
    {"index", f_index, 1},             {"matmul", f_matmul, 1}, {"conv", f_conv, 1},
    {"fast", f_fast, 1},               {"random", f_random, 2}, {"linalg", f_linalg, 1},
    {"scan_sort", f_scan_sort, 1},     {"contract", f_contract, 1}, {"fft", f_fft, 1},
    {"gather_scatter", f_gather_scatter, 1}, {"linalg_more", f_linalg_more, 1},
};

static void make_weights(void) {
  W16 = randn((int[]){6, 5}, 2, LZ_FLOAT16);
  WB16 = randn((int[]){6, 5}, 2, LZ_BFLOAT16);
  W32 = randn((int[]){6, 64}, 2, LZ_FLOAT32);
  lz_array *qw = randn((int[]){8, 64}, 2, LZ_FLOAT32);
  lz_quantize(qw, 32, 4, QW);
  lz_eval_many(QW, 3);
  lz_free(qw);
  CONVW = randn((int[]){3, 3, 3, 1}, 4, LZ_FLOAT32);
  int32_t idx[3] = {5, 0, 2};
  IDX = lz_array_from_data(idx, (int[]){3}, 1, LZ_INT32);
  KEY = lz_random_key(42);
  lz_array *m = randn((int[]){4, 4}, 2, LZ_FLOAT32);
  float four_i[16] = {4, 0, 0, 0, 0, 4, 0, 0, 0, 0, 4, 0, 0, 0, 0, 4};
  lz_array *d = lz_array_from_data(four_i, (int[]){4, 4}, 2, LZ_FLOAT32);
  SPD = lz_add(lz_matmul(m, lz_transpose(m, NULL, 0)), d);
  lz_free(d);
  lz_eval(SPD);
  lz_free(m);
}

static void free_weights(void) {
  lz_array *all[] = {W16, WB16, W32, CONVW, IDX, KEY, SPD, QW[0], QW[1], QW[2]};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) lz_free(all[i]);
}

static void test_every_family_round_trips_bit_for_bit(void) {
  make_weights();
  lz_array *x = randn((int[]){4, 6}, 2, LZ_FLOAT32), *y = randn((int[]){4, 6}, 2, LZ_FLOAT32);
  lz_array *key = lz_random_key(7);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    lzt_current = cases[i].name;
    lz_array *in[2] = {x, cases[i].fn == f_random ? key : y};
    lz_closure *f = lz_closure_new(call_case, (void *)&cases[i], NULL);
    lz_array *want = NULL, *got = NULL;
    CHECK(lz_closure_call(f, in, cases[i].nin, &want) == 1);
    CHECK(lz_export_function(path, f, in, cases[i].nin, NULL) == 0);
    save_seed(cases[i].name);
    if (lz_last_error()[0]) fprintf(stderr, "%s: %s\n", cases[i].name, lz_last_error());
    lz_closure *g = lz_import_function(path);
    CHECK(g != NULL);
    if (g) CHECK(lz_closure_call(g, in, cases[i].nin, &got) == 1);
    CHECK(same_bits(want, got));
    lz_free(want), lz_free(got);
    lz_closure_free(g), lz_closure_free(f);
    lz_clear_error();
  }
  lz_free(x), lz_free(y), lz_free(key);
  free_weights();
}


/* ---- several traces, shapeless, transforms, laziness ---- */

static lz_array *BIGW;

/* (B, 6) -> (B, 256): tanh(x @ W) with a captured weight */
static int mlp(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_tanh(lz_matmul(in[0], lz_astype(BIGW, lz_array_dtype(in[0]))));
  return out[0] ? 1 : -1;
}

static long file_size(const char *p) {
  FILE *f = fopen(p, "rb");
  if (!f) return -1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fclose(f);
  return n;
}

static void check_same_call(lz_closure *f, lz_closure *g, lz_array *const *in, int n) {
  lz_array *want = NULL, *got = NULL;
  CHECK(lz_closure_call(f, in, n, &want) == 1);
  CHECK(lz_closure_call(g, in, n, &got) == 1);
  CHECK(same_bits(want, got));
  lz_free(want), lz_free(got);
}

static void test_exporter_holds_several_traces_and_constants_once(void) {
  BIGW = randn((int[]){6, 256}, 2, LZ_FLOAT32);
  lz_closure *f = lz_closure_new(mlp, NULL, NULL);
  lz_array *a = randn((int[]){2, 6}, 2, LZ_FLOAT32), *b = randn((int[]){5, 6}, 2, LZ_FLOAT32);
  lz_array *h = randn((int[]){2, 6}, 2, LZ_FLOAT16);
  CHECK(lz_export_function(path, f, &a, 1, NULL) == 0);
  long one = file_size(path);
  lz_exporter *e = lz_exporter_new(path, f, NULL);
  CHECK(e && lz_exporter_add(e, &a, 1) == 0);
  CHECK(lz_exporter_add(e, &b, 1) == 0);
  CHECK(lz_exporter_add(e, &h, 1) == 0); /* its own constant: the float16 cast folds */
  CHECK(lz_exporter_close(e) == 0);
  save_seed("three_traces");
  long three = file_size(path);
  /* the float32 weight (6 KiB) is stored once; the float16 trace adds its cast (3 KiB) */
  CHECK(one > 6 * 256 * 4 && three - one < 6 * 256 * 4);
  lz_closure *g = lz_import_function(path);
  CHECK(g != NULL);
  check_same_call(f, g, &a, 1);
  check_same_call(f, g, &b, 1);
  check_same_call(f, g, &h, 1);
  lz_array *c = randn((int[]){3, 6}, 2, LZ_FLOAT32), *y = NULL;
  lz_clear_error();
  CHECK(lz_closure_call(g, &c, 1, &y) == -1);
  CHECK(strstr(lz_last_error(), "no trace taking float32 (3,6)") != NULL);
  lz_clear_error();
  CHECK_ERROR(lz_exporter_close(lz_exporter_new(path, f, NULL)) == 0 ? (void *)1 : NULL,
              "no trace was added");
  lz_closure_free(g), lz_closure_free(f);
  lz_free(a), lz_free(b), lz_free(c), lz_free(h), lz_free(BIGW);
}

/* y = sum(exp(x) * w + x / 3, axis 1), elementwise ops and a reduction only */
static int pointwise(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)n;
  lz_array *w = ctx, *x = in[0];
  out[0] = lz_sum_axis(lz_add(lz_multiply(lz_exp(x), w), lz_divide(x, lz_float(3))), 1, false);
  return out[0] ? 1 : -1;
}

static void test_shapeless_export_runs_on_other_shapes(void) {
  lz_array *w = randn((int[]){1, 8}, 2, LZ_FLOAT32);
  lz_closure *f = lz_closure_new(pointwise, w, NULL);
  lz_array *x = randn((int[]){2, 8}, 2, LZ_FLOAT32);
  lz_export_options o = {.shapeless = true};
  CHECK(lz_export_function(path, f, &x, 1, &o) == 0);
  save_seed("shapeless");
  lz_closure *g = lz_import_function(path);
  CHECK(g != NULL);
  int rows[4] = {2, 3, 9, 64};
  for (int i = 0; i < 4 && g; i++) {
    lz_array *z = randn((int[]){rows[i], 8}, 2, LZ_FLOAT32);
    check_same_call(f, g, &z, 1);
    lz_free(z);
  }
  lz_closure_free(g);
  BIGW = randn((int[]){8, 256}, 2, LZ_FLOAT32);
  lz_closure *m = lz_closure_new(mlp, NULL, NULL);
  lz_clear_error();
  CHECK(lz_export_function(path, m, &x, 1, &o) == -1);
  CHECK(strstr(lz_last_error(), "shapeless export: op 'matmul'") != NULL);
  lz_clear_error();
  lz_closure_free(m), lz_closure_free(f);
  lz_free(x), lz_free(w), lz_free(BIGW);
}

/* sum(tanh(x @ W)) */
static int loss(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_sum(lz_tanh(lz_matmul(in[0], BIGW)), false);
  return out[0] ? 1 : -1;
}

static void test_imported_closures_compose_with_transforms(void) {
  BIGW = randn((int[]){6, 3}, 2, LZ_FLOAT32);
  lz_closure *f = lz_closure_new(loss, NULL, NULL);
  lz_array *x = randn((int[]){4, 6}, 2, LZ_FLOAT32);
  CHECK(lz_export_function(path, f, &x, 1, NULL) == 0);
  lz_closure *g = lz_import_function(path);
  CHECK(g != NULL);
  lz_closure *df = lz_grad(f, NULL, 0), *dg = lz_grad(g, NULL, 0);
  check_same_call(df, dg, &x, 1);
  int ax = 0;
  lz_closure *vf = lz_vmap(f, &ax, 1, &ax, 1), *vg = lz_vmap(g, &ax, 1, &ax, 1);
  lz_array *xb = randn((int[]){5, 4, 6}, 3, LZ_FLOAT32);
  check_same_call(vf, vg, &xb, 1);
  lz_closure *cg = lz_compile(g, 0), *cf = lz_compile(f, 0);
  check_same_call(cf, cg, &x, 1);
  lz_closure_free(df), lz_closure_free(dg), lz_closure_free(vf), lz_closure_free(vg);
  lz_closure_free(cf), lz_closure_free(cg), lz_closure_free(g), lz_closure_free(f);
  lz_free(x), lz_free(xb), lz_free(BIGW);
}

static void test_constants_load_lazily(void) {
  BIGW = randn((int[]){6, 4096}, 2, LZ_FLOAT32);
  lz_closure *f = lz_closure_new(mlp, NULL, NULL);
  lz_array *x = randn((int[]){2, 6}, 2, LZ_FLOAT32), *want = NULL;
  CHECK(lz_closure_call(f, &x, 1, &want) == 1);
  CHECK(lz_export_function(path, f, &x, 1, NULL) == 0);
  lz_eval(want);
  lz_free(BIGW);
  lz_closure_free(f);
  size_t before = lz_get_active_memory();
  lz_closure *g = lz_import_function(path);
  CHECK(g != NULL);
  CHECK(lz_get_active_memory() == before); /* nothing read yet */
  lz_array *got = NULL, *again = NULL;
  CHECK(g && lz_closure_call(g, &x, 1, &got) == 1);
  CHECK(lz_get_active_memory() == before);
  CHECK(same_bits(want, got));
  CHECK(lz_get_active_memory() >= before + 6 * 4096 * 4); /* the weight, kept for later calls */
  CHECK(g && lz_closure_call(g, &x, 1, &again) == 1);
  CHECK(same_bits(want, again));
  lz_free(want), lz_free(got), lz_free(again), lz_free(x);
  lz_closure_free(g);
}

/* ---- malformed files ---- */

static void write_file(const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  if (n) fwrite(p, 1, n, f);
  fclose(f);
}

static void check_refused(const void *p, size_t n, const char *needle) {
  write_file(p, n);
  lz_clear_error();
  lz_closure *g = lz_import_function(path);
  lzt_checks++;
  if (g || lz_last_error_code() != LZ_ERROR_IO || !strstr(lz_last_error(), needle) ||
      !strstr(lz_last_error(), "[lz_import_function]")) {
    lzt_failures++;
    fprintf(stderr, "%s: %zu bytes: expected an IO error with \"%s\", got \"%s\"\n", lzt_current,
            n, needle, lz_last_error());
  }
  lz_closure_free(g);
  lz_clear_error();
}

typedef struct buf {
  unsigned char p[512];
  size_t n;
} buf;
static void w32(buf *b, uint32_t v) {
  for (int i = 0; i < 4; i++) b->p[b->n++] = (unsigned char)(v >> (8 * i));
}
static void w64(buf *b, uint64_t v) { w32(b, (uint32_t)v), w32(b, (uint32_t)(v >> 32)); }

/* A hand-made file computing -x for x float32 (4,): node input `in_ref`, output `out_ref`. */
typedef struct spec {
  const char *op;
  uint32_t psize_delta, version, in_ref, out_ref, dtype, ndim, out_dim;
} spec;
static buf make_file(spec s) {
  buf m = {{0}, 0}, f = {{0}, 0};
  w32(&m, 1); /* ops */
  w32(&m, (uint32_t)strlen(s.op));
  memcpy(m.p + m.n, s.op, strlen(s.op)), m.n += strlen(s.op);
  size_t psz = lz__op(LZ_OP_NEGATIVE)->params_size;
  w32(&m, (uint32_t)psz + s.psize_delta);
  w32(&m, 0); /* constants */
  w32(&m, 1); /* traces */
  w32(&m, 0), w32(&m, 1);
  m.p[m.n++] = (unsigned char)s.dtype, m.p[m.n++] = (unsigned char)s.ndim;
  for (uint32_t d = 0; d < s.ndim; d++) w32(&m, 4);
  w32(&m, 0); /* trace constants */
  w32(&m, 1); /* nodes */
  w32(&m, 0), w32(&m, 1), w32(&m, 1), w32(&m, s.in_ref);
  m.p[m.n++] = LZ_FLOAT32, m.p[m.n++] = 1;
  w32(&m, s.out_dim);
  m.n += psz; /* zero parameters */
  w32(&m, 1), w32(&m, s.out_ref);
  memcpy(f.p, "LZFUNC\r\n", 8), f.n = 8;
  w32(&f, s.version), w32(&f, 0);
  memcpy(f.p + f.n, "9.9.9", 5), f.n += 16;
  w64(&f, m.n), w64(&f, 48 + m.n);
  memcpy(f.p + f.n, m.p, m.n), f.n += m.n;
  return f;
}
static spec good(void) { return (spec){"negative", 0, 1, 0, 1, LZ_FLOAT32, 1, 4}; }

static void test_malformed_files_are_io_errors(void) {
  buf f = make_file(good()); /* the hand-made file itself is valid */
  write_file(f.p, f.n);
  save_seed("negative");
  lz_closure *g = lz_import_function(path);
  CHECK(g != NULL);
  lz_array *x = lz_array_from_data((float[]){1, -2, 3, 0}, (int[]){4}, 1, LZ_FLOAT32), *y = NULL;
  CHECK(g && lz_closure_call(g, &x, 1, &y) == 1);
  CHECK_VALUES(y, ((double[]){-1, 2, -3, 0}), 4, 0);
  lz_free(x), lz_free(y), lz_closure_free(g);
  for (size_t n = 0; n < f.n; n++) check_refused(f.p, n, n < 8 ? "not an exported" : "'");
  spec s = good();
  s.version = 3;
  f = make_file(s);
  check_refused(f.p, f.n, "format version 3 (by Lazuli 9.9.9); this library (0.1.0) reads "
                          "format versions up to 2");
  f = make_file(good());
  f.p[0] = 'X';
  check_refused(f.p, f.n, "bad magic");
  s = good(), s.in_ref = 1; /* its own output: a cycle */
  f = make_file(s);
  check_refused(f.p, f.n, "op 'negative' reads value 1, defined later or never");
  s = good(), s.in_ref = 77;
  f = make_file(s);
  check_refused(f.p, f.n, "reads value 77");
  s = good(), s.out_ref = 2;
  f = make_file(s);
  check_refused(f.p, f.n, "output 2 is not a value");
  s = good(), s.op = "no_such_op";
  f = make_file(s);
  check_refused(f.p, f.n, "unknown op 'no_such_op'");
  s = good(), s.psize_delta = 8;
  f = make_file(s);
  check_refused(f.p, f.n, "parameters in the file");
  s = good(), s.dtype = 200;
  f = make_file(s);
  check_refused(f.p, f.n, "unknown dtype 200");
  s = good(), s.ndim = 17;
  f = make_file(s);
  check_refused(f.p, f.n, "17 dims");
  s = good(), s.out_dim = 5;
  f = make_file(s);
  check_refused(f.p, f.n, "declares an output shape");
  s = good(), s.op = "load";
  f = make_file(s);
  check_refused(f.p, f.n, "op 'load' cannot be imported");
  f = make_file(good());
  f.p[f.n++] = 0; /* metadata says nothing of it, but the data offset moves: trailing byte */
  f.p[32] += 1, f.p[40] += 1;
  check_refused(f.p, f.n, "bytes after the last trace");
  lz_clear_error();
  CHECK(lz_import_function("/nonexistent/dir/f.lzfn") == NULL);
  CHECK(lz_last_error_code() == LZ_ERROR_IO && strstr(lz_last_error(), "cannot open"));
  lz_clear_error();
}

/* f(x, *, scale, shift) = x * scale + shift, exported with keyword names. */
static int affine_kw(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_add(lz_multiply(in[0], in[1]), in[2]);
  return out[0] ? 1 : -1;
}

/* NULL when rc is -1, for CHECK_ERROR on functions returning 0/-1. */
static void *failed(int rc) { return rc == -1 ? NULL : (void *)1; }

static void test_keyword_arguments_match_by_name(void) {
  lz_closure *f = lz_closure_new(affine_kw, NULL, NULL);
  lz_array *x = randn((int[]){3}, 1, LZ_FLOAT32), *s = randn((int[]){3}, 1, LZ_FLOAT32),
           *b = randn((int[]){3}, 1, LZ_FLOAT32), *b2 = randn((int[]){2}, 1, LZ_FLOAT32);
  const char *names[2] = {"scale", "shift"}, *swapped[2] = {"shift", "scale"};
  CHECK(lz_export_function_kw(path, f, &x, 1, names, (lz_array *[]){s, b}, 2, NULL) == 0);
  save_seed("keywords");
  lz_closure *g = lz_import_function(path);
  CHECK(g != NULL);
  lz_array *want = lz_add(lz_multiply(x, s), b), *got[LZ_MAX_OUTPUTS] = {NULL};
  /* names in another order pick the same inputs */
  CHECK(lz_imported_call_kw(g, &x, 1, swapped, (lz_array *[]){b, s}, 2, got) == 1);
  CHECK(same_bits(want, got[0]));
  lz_free(got[0]);
  CHECK(lz_imported_call_kw(g, &x, 1, names, (lz_array *[]){s, b}, 2, got) == 1);
  CHECK(same_bits(want, got[0]));
  lz_free(got[0]);
  /* positionally: keyword inputs last, in their exported order */
  CHECK(lz_closure_call(g, (lz_array *[]){x, s, b}, 3, got) == 1);
  CHECK(same_bits(want, got[0]));
  lz_free(got[0]);
  /* a wrong name, a missing one, a keyword given positionally, a wrong shape */
  CHECK_ERROR(failed(lz_imported_call_kw(g, &x, 1, (const char *[]){"scale", "bias"},
                                  (lz_array *[]){s, b}, 2, got)),
              "no trace taking float32 (3,), scale: float32 (3,), bias: float32 (3,)");
  CHECK_ERROR(failed(lz_imported_call_kw(g, &x, 1, names, (lz_array *[]){s}, 1, got)),
              "no trace taking");
  CHECK_ERROR(failed(lz_imported_call_kw(g, (lz_array *[]){x, s}, 2, names + 1, &b, 1, got)),
              "no trace taking");
  CHECK_ERROR(failed(lz_imported_call_kw(g, &x, 1, names, (lz_array *[]){s, b2}, 2, got)),
              "shift: float32 (2,)");
  CHECK_ERROR(failed(lz_imported_call_kw(f, &x, 1, names, (lz_array *[]){s, b}, 2, got)),
              "not a function lz_import_function read");
  CHECK_ERROR(failed(lz_export_function_kw(path, f, &x, 1, (const char *[]){"a", "a"},
                                    (lz_array *[]){s, b}, 2, NULL)),
              "keyword 'a' is given twice");
  lz_closure_free(g), lz_closure_free(f);
  lz_free(want), lz_free(x), lz_free(s), lz_free(b), lz_free(b2);
}

static int custom_mlp(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_closure *inner = lz_closure_new(mlp, NULL, NULL);
  lz_closure *cf = lz_custom_function(inner, NULL, NULL, NULL);
  int k = lz_closure_call(cf, in, 1, out);
  lz_closure_free(cf), lz_closure_free(inner);
  return k;
}

static void test_custom_functions_are_traced_through(void) {
  BIGW = randn((int[]){6, 4}, 2, LZ_FLOAT32);
  lz_array *x = randn((int[]){2, 6}, 2, LZ_FLOAT32);
  lz_closure *f = lz_closure_new(custom_mlp, NULL, NULL);
  /* a custom function's forward pass is traced through: only its arithmetic is saved */
  CHECK(lz_export_function(path, f, &x, 1, NULL) == 0);
  lz_closure *g = lz_import_function(path);
  CHECK(g != NULL);
  if (g) check_same_call(f, g, &x, 1);
  lz_closure_free(g), lz_closure_free(f);
  lz_free(x), lz_free(BIGW);
}

int main(void) {
  snprintf(path, sizeof path, "/tmp/lz_test_export_%d.lzfn", (int)getpid());
  RUN(test_every_family_round_trips_bit_for_bit);
  RUN(test_exporter_holds_several_traces_and_constants_once);
  RUN(test_shapeless_export_runs_on_other_shapes);
  RUN(test_imported_closures_compose_with_transforms);
  RUN(test_constants_load_lazily);
  RUN(test_malformed_files_are_io_errors);
  RUN(test_custom_functions_are_traced_through);
  RUN(test_keyword_arguments_match_by_name);
  unlink(path);
  return lzt_summary();
}
