/* lz_export_function / lz_import_function: round trips for every op family compared bit for
 * bit with the original function, several traces in one file, shapeless exports replayed on
 * other shapes, imported closures under grad, vmap and compile, lazy constants, and malformed
 * files (truncated, bad magic, future versions, out-of-range references) refused with IO
 * errors. */
#include <unistd.h>

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

static const fn_case cases[] = {
    {"elementwise", f_elementwise, 2}, {"reduce", f_reduce, 1}, {"shape", f_shape, 1},
    {"index", f_index, 1},             {"matmul", f_matmul, 1}, {"conv", f_conv, 1},
    {"fast", f_fast, 1},               {"random", f_random, 2}, {"linalg", f_linalg, 1},
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
  SPD = lz_add(lz_matmul(m, lz_transpose(m, NULL, 0)), lz_multiply(lz_eye(4, 4, 0, LZ_FLOAT32), lz_float(4)));
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

int main(void) {
  snprintf(path, sizeof path, "/tmp/lz_test_export_%d.lzfn", (int)getpid());
  RUN(test_every_family_round_trips_bit_for_bit);
  unlink(path);
  return lzt_summary();
}
