/* Compile's row groups: layer_norm, rms_norm, softmax, log_softmax and logsumexp written with
 * plain ops (reductions over the last axis broadcast back onto their rows) compile into one
 * fused row kernel, whose results equal the uncompiled functions' and a float64 reference
 * computed here; odd row lengths (1, 7, 4099), non-contiguous and broadcast inputs, float16
 * and bfloat16, keepdims or not, several outputs, and gradients through compiled functions. */
#include "compile/compile_impl.h"
#include "lz_test.h"

static unsigned rng = 777;
static double urand(void) {
  rng = rng * 1664525u + 1013904223u;
  return (double)(rng >> 8) / 16777216.0;
}

/* values in [lo, hi) of dtype dt, evaluated */
static lz_array *rand_array(const int *shape, int nd, double lo, double hi, lz_dtype dt) {
  size_t n = 1;
  for (int i = 0; i < nd; i++) n *= (size_t)shape[i];
  double *v = malloc((n ? n : 1) * sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = lo + (hi - lo) * urand();
  lz_array *a = lz_astype(lz_array_from_data(v, shape, nd, LZ_FLOAT64), dt);
  free(v);
  lz_eval(a);
  return a;
}

static double *read64(lz_array *a) {
  size_t n = lz_array_size(a);
  double *v = malloc((n ? n : 1) * sizeof *v);
  if (lz_array_read(a, LZ_FLOAT64, v, n * sizeof *v) != 0) v[0] = NAN;
  return v;
}

/* |a - b| <= tol * (1 + |b|) everywhere, same dtype and shape (NaN matches NaN) */
static bool close_to(lz_array *a, lz_array *b, double tol) {
  if (!a || !b || lz_eval(a) || lz_eval(b)) return false;
  size_t n = lz_array_size(a);
  if (n != lz_array_size(b) || lz_array_dtype(a) != lz_array_dtype(b) ||
      lz_array_ndim(a) != lz_array_ndim(b))
    return false;
  for (int d = 0; d < lz_array_ndim(a); d++)
    if (lz_array_dim(a, d) != lz_array_dim(b, d)) return false;
  double *x = read64(a), *y = read64(b);
  bool ok = true;
  for (size_t i = 0; ok && i < n; i++)
    ok = (x[i] != x[i] && y[i] != y[i]) || fabs(x[i] - y[i]) <= tol * (1 + fabs(y[i]));
  free(x), free(y);
  return ok;
}

static lz_array *last_keep(lz_array *(*red)(lz_array *, int, bool), lz_array *x) {
  return red(x, -1, true);
}

/* ---- the functions, written with plain ops ---- */

/* (x - mean) * rsqrt(mean((x - mean)^2) + eps) * w + b */
static int layer_norm(void *ctx, lz_array *const *in, int n, lz_array **out) {
  lz_array *x = in[0], *d = lz_subtract(x, last_keep(lz_mean_axis, x));
  lz_array *var = last_keep(lz_mean_axis, lz_square(d));
  out[0] = lz_add(lz_multiply(lz_multiply(d, lz_rsqrt(lz_add(var, lz_float(1e-5)))), in[1]),
                  in[2]);
  return out[0] ? 1 : -1;
}

/* with var: the bench's form */
static int layer_norm_var(void *ctx, lz_array *const *in, int n, lz_array **out) {
  lz_array *x = in[0], *mu = lz_mean_axis(x, -1, true), *var = lz_var_axis(x, -1, true, 0);
  out[0] = lz_multiply(lz_multiply(lz_subtract(x, mu), lz_rsqrt(lz_add(var, lz_float(1e-5)))),
                       in[1]);
  return out[0] ? 1 : -1;
}

static int rms_norm(void *ctx, lz_array *const *in, int n, lz_array **out) {
  lz_array *x = in[0], *ms = last_keep(lz_mean_axis, lz_multiply(x, x));
  out[0] = lz_multiply(lz_multiply(x, lz_rsqrt(lz_add(ms, lz_float(1e-6)))), in[1]);
  return out[0] ? 1 : -1;
}

static int softmax(void *ctx, lz_array *const *in, int n, lz_array **out) {
  lz_array *x = in[0], *e = lz_exp(lz_subtract(x, last_keep(lz_max_axis, x)));
  out[0] = lz_divide(e, last_keep(lz_sum_axis, e));
  return out[0] ? 1 : -1;
}

/* logsumexp with keepdims (ctx NULL) or without (ctx non-NULL: the max squeezed back) */
static lz_array *lse(lz_array *x, bool keep) {
  lz_array *m = last_keep(lz_max_axis, x);
  lz_array *s = lz_sum_axis(lz_exp(lz_subtract(x, m)), -1, keep);
  if (keep) return lz_add(lz_log(s), m);
  int ax[1] = {-1};
  return lz_add(lz_log(s), lz_squeeze(m, ax, 1));
}

static int logsumexp(void *ctx, lz_array *const *in, int n, lz_array **out) {
  out[0] = lse(in[0], ctx == NULL);
  return out[0] ? 1 : -1;
}

static int log_softmax(void *ctx, lz_array *const *in, int n, lz_array **out) {
  out[0] = lz_subtract(in[0], lse(in[0], true));
  return out[0] ? 1 : -1;
}

/* two outputs from one row kernel: the centred, scaled rows and their means (a per-row value
 * the kernel also uses) */
static int norm_and_mean(void *ctx, lz_array *const *in, int n, lz_array **out) {
  lz_array *x = in[0];
  out[1] = lz_mean_axis(x, -1, true);
  out[0] = lz_divide(lz_subtract(x, out[1]), lz_add(lz_max_axis(lz_abs(x), -1, true), lz_float(1)));
  return out[0] && out[1] ? 2 : -1;
}

/* x - sum(x, -1) without keepdims: the sums broadcast along the rows, not across them */
static int minus_rowsum_across(void *ctx, lz_array *const *in, int n, lz_array **out) {
  out[0] = lz_multiply(lz_subtract(in[0], lz_sum_axis(in[0], -1, false)), lz_float(2));
  return out[0] ? 1 : -1;
}

/* Calls f and its compiled form on `in`; checks the results agree (tol), and that the replay
 * recorded `want_nodes` nodes, the first output's being one fused row kernel when `rows`. */
static void check_compiled(lz_fn fn, void *ctx, lz_array **in, int nin, double tol,
                           int want_nodes, bool rows, unsigned flags) {
  lz_closure *f = lz_closure_new(fn, ctx, NULL), *cf = lz_compile(f, flags);
  lz_array *want[LZ_MAX_OUTPUTS], *got[LZ_MAX_OUTPUTS];
  lz_scope_begin();
  int k = lz_closure_call(f, in, nin, want);
  CHECK(k >= 1);
  for (int i = 0; i < k; i++) CHECK(lz_eval(want[i]) == 0);
  if (getenv("LZ_TEST_DUMP")) lz_set_compile_debug(stderr);
  CHECK(lz_closure_call(cf, in, nin, got) == k); /* traced */
  lz_set_compile_debug(NULL);
  uint64_t n0 = lz_get_node_count(), k0 = lz_get_kernel_count();
  CHECK(lz_closure_call(cf, in, nin, got) == k); /* replayed */
  if (want_nodes > 0) {
    if (lz_get_node_count() - n0 != (uint64_t)want_nodes)
      fprintf(stderr, "  %d nodes replayed, want %d\n", (int)(lz_get_node_count() - n0),
              want_nodes);
    CHECK(lz_get_node_count() - n0 == (uint64_t)want_nodes);
  }
  if (rows) {
    lz_node *nd = got[0]->node;
    CHECK(nd && nd->op == LZ_OP_FUSED && ((lz_fused_params *)nd->params)->prog->rowwise);
  }
  for (int i = 0; i < k; i++) CHECK(lz_eval(got[i]) == 0);
  if (want_nodes == 1) CHECK(lz_get_kernel_count() - k0 == 1);
  for (int i = 0; i < k; i++) {
    bool ok = close_to(got[i], want[i], tol);
    if (!ok) fprintf(stderr, "  output %d differs compiled\n", i);
    CHECK(ok);
  }
  lz_scope_end();
  lz_closure_free(cf), lz_closure_free(f);
}

/* ---- float64 references ---- */

static void ref_layer_norm(const double *x, const double *w, const double *b, double *y, int R,
                           int L) {
  for (int r = 0; r < R; r++) {
    const double *xr = x + (size_t)r * L;
    double m = 0, v = 0;
    for (int j = 0; j < L; j++) m += xr[j];
    m /= L;
    for (int j = 0; j < L; j++) v += (xr[j] - m) * (xr[j] - m);
    double rs = 1 / sqrt(v / L + 1e-5);
    for (int j = 0; j < L; j++) y[(size_t)r * L + j] = (xr[j] - m) * rs * w[j] + b[j];
  }
}

static void ref_softmax(const double *x, double *y, int R, int L, bool log_sm) {
  for (int r = 0; r < R; r++) {
    const double *xr = x + (size_t)r * L;
    double m = -INFINITY, s = 0;
    for (int j = 0; j < L; j++) m = xr[j] > m ? xr[j] : m;
    for (int j = 0; j < L; j++) s += exp(xr[j] - m);
    for (int j = 0; j < L; j++)
      y[(size_t)r * L + j] = log_sm ? xr[j] - m - log(s) : exp(xr[j] - m) / s;
  }
}

static bool matches(lz_array *a, const double *ref, double tol) {
  if (!a || lz_eval(a)) return false;
  double *v = read64(a);
  bool ok = true;
  for (size_t i = 0; ok && i < lz_array_size(a); i++) ok = fabs(v[i] - ref[i]) <= tol * (1 + fabs(ref[i]));
  free(v);
  return ok;
}

static void test_layer_norm_is_one_row_kernel(void) {
  int R = 6, L = 4099, xs[2] = {R, L}, ws[1] = {L};
  lz_array *x = rand_array(xs, 2, -3, 5, LZ_FLOAT32), *w = rand_array(ws, 1, 0.5, 1.5, LZ_FLOAT32),
           *b = rand_array(ws, 1, -1, 1, LZ_FLOAT32), *in[3] = {x, w, b};
  check_compiled(layer_norm, NULL, in, 3, 1e-5, 1, true, 0);
  check_compiled(layer_norm_var, NULL, in, 2, 1e-5, 1, true, 0);
  /* against float64 */
  lz_closure *f = lz_closure_new(layer_norm, NULL, NULL), *cf = lz_compile(f, 0);
  lz_array *y;
  CHECK(lz_closure_call(cf, in, 3, &y) == 1);
  double *xd = read64(x), *wd = read64(w), *bd = read64(b), *ref = malloc((size_t)R * L * 8);
  ref_layer_norm(xd, wd, bd, ref, R, L);
  CHECK(matches(y, ref, 1e-4));
  free(xd), free(wd), free(bd), free(ref);
  lz_free(y);
  lz_closure_free(cf), lz_closure_free(f);
  lz_free(x), lz_free(w), lz_free(b);
}

static void test_rms_norm_softmax_logsumexp(void) {
  int xs[3] = {3, 5, 300}, ws[1] = {300};
  lz_array *x = rand_array(xs, 3, -4, 4, LZ_FLOAT32), *w = rand_array(ws, 1, 0.5, 1.5, LZ_FLOAT32);
  lz_array *in[2] = {x, w};
  check_compiled(rms_norm, NULL, in, 2, 1e-5, 1, true, 0);
  check_compiled(softmax, NULL, in, 1, 1e-6, 1, true, 0);
  check_compiled(log_softmax, NULL, in, 1, 1e-5, 1, true, 0);
  check_compiled(logsumexp, NULL, in, 1, 1e-6, 1, true, 0);
  check_compiled(logsumexp, (void *)1, in, 1, 1e-6, 1, true, 0); /* without keepdims */
  check_compiled(norm_and_mean, NULL, in, 1, 1e-6, 1, true, 0);
  /* compiled softmax against the native kernel and float64 */
  lz_closure *f = lz_closure_new(softmax, NULL, NULL), *cf = lz_compile(f, 0);
  lz_closure *g = lz_closure_new(log_softmax, NULL, NULL), *cg = lz_compile(g, 0);
  lz_array *y, *ly;
  CHECK(lz_closure_call(cf, in, 1, &y) == 1 && lz_closure_call(cg, in, 1, &ly) == 1);
  lz_array *native = lz_softmax_axis(x, -1, false);
  CHECK(close_to(y, native, 1e-6));
  double *xd = read64(x), *ref = malloc(15 * 300 * 8);
  ref_softmax(xd, ref, 15, 300, false);
  CHECK(matches(y, ref, 1e-6));
  ref_softmax(xd, ref, 15, 300, true);
  CHECK(matches(ly, ref, 1e-5));
  free(xd), free(ref);
  lz_free(y), lz_free(ly), lz_free(native);
  lz_closure_free(cg), lz_closure_free(g), lz_closure_free(cf), lz_closure_free(f);
  lz_free(x), lz_free(w);
}

/* Rows too short or too long for a row kernel keep the old fusion, with the same results; a
 * shapeless trace runs its row kernel on rows of 1, 7 and 4099 elements. */
static void test_odd_rows(void) {
  static const int lens[] = {1, 7, 63, 64, 4099, 20000};
  for (int i = 0; i < 6; i++) {
    int L = lens[i], xs[2] = {5, L}, ws[1] = {L};
    lz_array *x = rand_array(xs, 2, -3, 3, LZ_FLOAT32), *w = rand_array(ws, 1, 0.5, 1.5, LZ_FLOAT32),
             *b = rand_array(ws, 1, -1, 1, LZ_FLOAT32), *in[3] = {x, w, b};
    bool rows = L >= 64 && L <= 16384;
    check_compiled(layer_norm, NULL, in, 3, 1e-5, rows ? 1 : 0, rows, 0);
    check_compiled(softmax, NULL, in, 1, 1e-6, rows ? 1 : 0, rows, 0);
    check_compiled(logsumexp, NULL, in, 1, 1e-6, rows ? 1 : 0, rows, 0);
    lz_free(x), lz_free(w), lz_free(b);
  }
  /* shapeless: traced on rows of 150, replayed on rows of 7, 2 and 4099 */
  lz_closure *f = lz_closure_new(layer_norm, NULL, NULL), *cf = lz_compile(f, LZ_COMPILE_SHAPELESS);
  lz_closure *g = lz_closure_new(logsumexp, (void *)1, NULL), *cg = lz_compile(g, LZ_COMPILE_SHAPELESS);
  static const int replay[] = {150, 7, 2, 4099};
  for (int i = 0; i < 4; i++) {
    int L = replay[i], xs[2] = {3 + i, L}, ws[1] = {L};
    lz_array *x = rand_array(xs, 2, -3, 3, LZ_FLOAT32), *w = rand_array(ws, 1, 0.5, 1.5, LZ_FLOAT32),
             *b = rand_array(ws, 1, -1, 1, LZ_FLOAT32), *in[3] = {x, w, b}, *want, *got;
    lz_scope_begin();
    CHECK(lz_closure_call(f, in, 3, &want) == 1 && lz_closure_call(cf, in, 3, &got) == 1);
    CHECK(got->node && got->node->op == LZ_OP_FUSED);
    CHECK(close_to(got, want, 1e-5));
    CHECK(lz_closure_call(g, in, 1, &want) == 1 && lz_closure_call(cg, in, 1, &got) == 1);
    CHECK(got->node && got->node->op == LZ_OP_FUSED && lz_array_ndim(got) == 1);
    CHECK(close_to(got, want, 1e-6));
    lz_scope_end();
    lz_free(x), lz_free(w), lz_free(b);
  }
  lz_closure_free(cg), lz_closure_free(g), lz_closure_free(cf), lz_closure_free(f);
}

/* transposed and broadcast inputs, 3-d rows, rows of 1 element per row group input */
static void test_strided_and_broadcast_inputs(void) {
  int ts[2] = {300, 9}, perm[2] = {1, 0}, ws[1] = {300}, bs[2] = {9, 1};
  lz_array *xt = rand_array(ts, 2, -2, 2, LZ_FLOAT32), *x = lz_transpose(xt, perm, 2);
  lz_array *w = rand_array(ws, 1, 0.5, 1.5, LZ_FLOAT32), *b = rand_array(bs, 2, -1, 1, LZ_FLOAT32);
  lz_array *in[3] = {x, w, b};
  check_compiled(layer_norm, NULL, in, 3, 1e-5, 1, true, 0);
  check_compiled(softmax, NULL, in, 1, 1e-6, 1, true, 0);
  /* a slice with a step: rows of 150, every other column */
  int st[2] = {0, 0}, sp[2] = {9, 300}, step[2] = {1, 2};
  lz_array *xs = lz_slice(lz_transpose(xt, perm, 2), st, sp, step, 2);
  in[0] = xs;
  check_compiled(logsumexp, (void *)1, in, 1, 1e-6, 1, true, 0);
  check_compiled(rms_norm, NULL, (lz_array *[]){xs, lz_slice(w, (int[]){0}, (int[]){300}, (int[]){2}, 1)},
                 2, 1e-5, 0, true, 0);
  /* 3-d rows whose per-row term is an input of shape (2, 1, 1) */
  int s3[3] = {2, 3, 128}, r3[3] = {2, 1, 1};
  lz_array *x3 = rand_array(s3, 3, -2, 2, LZ_FLOAT32), *b3 = rand_array(r3, 3, -1, 1, LZ_FLOAT32);
  lz_array *w3 = rand_array((int[]){128}, 1, 0.5, 1.5, LZ_FLOAT32);
  check_compiled(layer_norm, NULL, (lz_array *[]){x3, w3, b3}, 3, 1e-5, 1, true, 0);
  /* the sums of rows broadcast across rows (4096 x 4096's trap, here 100 x 100) */
  int sq[2] = {100, 100};
  lz_array *q = rand_array(sq, 2, -1, 1, LZ_FLOAT32);
  check_compiled(minus_rowsum_across, NULL, &q, 1, 1e-6, 2, false, 0); /* sum, then the rest */
  lz_free(q), lz_free(x3), lz_free(b3), lz_free(w3);
  lz_free(xt), lz_free(x), lz_free(xs), lz_free(w), lz_free(b);
}

static int layer_norm_f32_inside(void *ctx, lz_array *const *in, int n, lz_array **out) {
  lz_array *x = lz_astype(in[0], LZ_FLOAT32), *y;
  lz_array *w = in[1];
  if (layer_norm_var(NULL, (lz_array *[]){x, w}, 2, &y) != 1) return -1;
  out[0] = lz_astype(y, lz_array_dtype(in[0]));
  return out[0] ? 1 : -1;
}

static void test_half_inputs(void) {
  static const lz_dtype dts[] = {LZ_FLOAT16, LZ_BFLOAT16};
  for (int i = 0; i < 2; i++) {
    int xs[2] = {7, 257}, ws[1] = {257};
    lz_array *x = rand_array(xs, 2, -3, 3, dts[i]), *w = rand_array(ws, 1, 0.5, 1.5, dts[i]),
             *b = rand_array(ws, 1, -1, 1, dts[i]), *in[3] = {x, w, b};
    double tol = dts[i] == LZ_FLOAT16 ? 2e-3 : 1.6e-2; /* a rounding step or two apart */
    check_compiled(layer_norm, NULL, in, 3, tol, 1, true, 0);
    check_compiled(softmax, NULL, in, 1, tol, 1, true, 0);
    check_compiled(logsumexp, NULL, in, 1, tol, 1, true, 0);
    check_compiled(layer_norm_f32_inside, NULL, in, 2, tol, 2, true, 0); /* + w's cast */
    lz_free(x), lz_free(w), lz_free(b);
  }
  int xs[2] = {4, 150}; /* float64 */
  lz_array *x = rand_array(xs, 2, -3, 3, LZ_FLOAT64), *w = rand_array((int[]){150}, 1, 1, 2, LZ_FLOAT64);
  check_compiled(layer_norm_var, NULL, (lz_array *[]){x, w}, 2, 1e-12, 1, true, 0);
  check_compiled(logsumexp, (void *)1, &x, 1, 1e-12, 1, true, 0);
  lz_free(x), lz_free(w);
}

/* NaN and infinities flow as uncompiled; max over a row with a NaN is NaN */
static void test_special_values(void) {
  enum { L = 160 };
  int xs[2] = {4, L};
  lz_array *x = rand_array(xs, 2, -3, 3, LZ_FLOAT32);
  float *v = malloc(4 * L * sizeof *v);
  lz_array_read(x, LZ_FLOAT32, v, 4 * L * sizeof *v);
  v[5] = NAN, v[L + 50] = INFINITY, v[2 * L + 50] = -INFINITY;
  for (int j = 0; j < L; j++) v[3 * L + j] = -INFINITY;
  lz_array *y = lz_array_from_data(v, xs, 2, LZ_FLOAT32);
  check_compiled(softmax, NULL, &y, 1, 1e-6, 1, true, 0);
  check_compiled(logsumexp, NULL, &y, 1, 1e-6, 1, true, 0);
  check_compiled(layer_norm_var, NULL, (lz_array *[]){y, lz_ones((int[]){L}, 1, LZ_FLOAT32)}, 2,
                 1e-6, 1, true, 0);
  free(v);
  lz_free(x), lz_free(y);
}

/* two arithmetic steps over the row run as one pass (every pair of add, subtract, multiply,
 * the first's value on either side of the second): same values as the two ops */
typedef struct pair_ctx {
  int op1, op2;
  bool rev;
} pair_ctx;

static lz_array *arith(int op, lz_array *a, lz_array *b) {
  return op == 0 ? lz_add(a, b) : op == 1 ? lz_subtract(a, b) : lz_multiply(a, b);
}

static int pair_fn(void *ctx, lz_array *const *in, int n, lz_array **out) {
  const pair_ctx *c = ctx;
  lz_array *a = arith(c->op1, in[0], lz_max_axis(in[0], -1, true));
  out[0] = c->rev ? arith(c->op2, in[1], a) : arith(c->op2, a, in[1]);
  return out[0] ? 1 : -1;
}

static void test_paired_steps(void) {
  int xs[2] = {3, 203}, ws[1] = {203};
  lz_array *x = rand_array(xs, 2, -3, 3, LZ_FLOAT32), *w = rand_array(ws, 1, 0.5, 1.5, LZ_FLOAT32);
  lz_array *in[2] = {x, w};
  for (int k = 0; k < 18; k++) {
    pair_ctx c = {k % 3, k / 3 % 3, k >= 9};
    check_compiled(pair_fn, &c, in, 2, 0, 1, true, 0); /* rounded alike: exactly equal */
  }
  lz_free(x), lz_free(w);
}

/* no rows, empty rows (a shapeless replay), and allocation failures anywhere in trace, replay
 * or the row kernel: results or out-of-memory errors, never a crash or a leak */
static void test_empty_and_out_of_memory(void) {
  int zs[2] = {0, 200}, ws[1] = {200};
  lz_array *z = lz_zeros(zs, 2, LZ_FLOAT32), *w = rand_array(ws, 1, 0.5, 1.5, LZ_FLOAT32);
  lz_array *zin[3] = {z, w, w};
  check_compiled(layer_norm, NULL, zin, 3, 0, 1, true, 0);
  lz_closure *f = lz_closure_new(softmax, NULL, NULL), *cf = lz_compile(f, LZ_COMPILE_SHAPELESS);
  int xs[2] = {3, 150}, es[2] = {3, 0};
  lz_array *x = rand_array(xs, 2, -1, 1, LZ_FLOAT32), *e = lz_zeros(es, 2, LZ_FLOAT32), *y;
  CHECK(lz_closure_call(cf, &x, 1, &y) == 1 && lz_eval(y) == 0);
  lz_free(y);
  /* the max of an empty row is an error, compiled as uncompiled */
  int k = lz_closure_call(cf, &e, 1, &y);
  CHECK(k != 1 || lz_eval(y) != 0);
  CHECK(strstr(lz_last_error(), "zero-size") != NULL);
  lz_clear_error();
  if (k == 1) lz_free(y);
  lz_closure_free(cf), lz_closure_free(f);

  f = lz_closure_new(layer_norm, NULL, NULL), cf = lz_compile(f, 0);
  int bs[2] = {4, 300}, bw[1] = {300};
  lz_array *xb = rand_array(bs, 2, -1, 1, LZ_FLOAT32), *wb = rand_array(bw, 1, 1, 2, LZ_FLOAT32);
  lz_array *in[3] = {xb, wb, wb};
  for (int fail = 1; fail < 40; fail++) {
    lz_clear_compile_cache();
    lz_scope_begin();
    lz_set_alloc_failure(fail);
    k = lz_closure_call(cf, in, 3, &y);
    int rc = k == 1 ? lz_eval(y) : -1;
    lz_set_alloc_failure(0);
    CHECK(rc == 0 || lz_last_error_code() == LZ_ERROR_OUT_OF_MEMORY);
    lz_clear_error();
    lz_scope_end();
  }
  lz_closure_free(cf), lz_closure_free(f);
  lz_free(x), lz_free(e), lz_free(z), lz_free(w), lz_free(xb), lz_free(wb);
}

/* ---- gradients ---- */

static int ln_loss(void *ctx, lz_array *const *in, int n, lz_array **out) {
  lz_array *y;
  if (layer_norm(NULL, in, 3, &y) != 1) return -1;
  out[0] = lz_sum(lz_multiply(y, lz_sin(in[0])), false);
  return out[0] ? 1 : -1;
}

static int lsm_loss(void *ctx, lz_array *const *in, int n, lz_array **out) {
  lz_array *y;
  if (log_softmax(NULL, in, 1, &y) != 1) return -1;
  out[0] = lz_sum(lz_multiply(y, in[1]), false);
  return out[0] ? 1 : -1;
}

static void test_grads_through_compiled(void) {
  int xs[2] = {5, 130}, ws[1] = {130};
  lz_array *x = rand_array(xs, 2, -2, 2, LZ_FLOAT32), *w = rand_array(ws, 1, 0.5, 1.5, LZ_FLOAT32),
           *b = rand_array(ws, 1, -1, 1, LZ_FLOAT32), *t = rand_array(xs, 2, 0, 1, LZ_FLOAT32);
  int argn[3] = {0, 1, 2};
  lz_closure *f = lz_closure_new(ln_loss, NULL, NULL), *cf = lz_compile(f, 0);
  lz_closure *gf = lz_grad(f, argn, 3), *gcf = lz_grad(cf, argn, 3), *cgf = lz_compile(gf, 0);
  lz_array *in[3] = {x, w, b}, *g1[3], *g2[3], *g3[3];
  CHECK(lz_closure_call(gf, in, 3, g1) == 3);
  CHECK(lz_closure_call(gcf, in, 3, g2) == 3);
  CHECK(lz_closure_call(cgf, in, 3, g3) == 3);
  CHECK(lz_closure_call(cgf, in, 3, g3) == 3); /* replayed */
  for (int i = 0; i < 3; i++) CHECK(close_to(g2[i], g1[i], 1e-5) && close_to(g3[i], g1[i], 1e-4));
  for (int i = 0; i < 3; i++) lz_free(g1[i]), lz_free(g2[i]), lz_free(g3[i]);
  lz_closure_free(cgf), lz_closure_free(gcf), lz_closure_free(gf), lz_closure_free(cf);
  lz_closure_free(f);

  /* log_softmax's gradient, compiled, against finite differences of the uncompiled loss */
  f = lz_closure_new(lsm_loss, NULL, NULL);
  gf = lz_grad(f, NULL, 0), cgf = lz_compile(gf, 0);
  lz_array *in2[2] = {x, t}, *g;
  CHECK(lz_closure_call(cgf, in2, 2, &g) == 1 && lz_closure_call(cgf, in2, 2, &g) == 1);
  double *gd = read64(g), *xd = read64(x);
  for (int k = 0; k < 5; k++) {
    int idx = k * 131;
    double h = 1e-2, lv[2];
    for (int sgn = 0; sgn < 2; sgn++) {
      double save = xd[idx];
      xd[idx] += sgn ? h : -h;
      lz_array *xp = lz_array_from_data(xd, xs, 2, LZ_FLOAT64), *xi[2] = {xp, lz_astype(t, LZ_FLOAT64)}, *l;
      CHECK(lsm_loss(NULL, xi, 2, &l) == 1);
      lv[sgn] = lz_item_f64(l);
      lz_free(l), lz_free(xp), lz_free(xi[1]);
      xd[idx] = save;
    }
    CHECK(fabs((lv[1] - lv[0]) / (2 * h) - gd[idx]) < 2e-3);
  }
  free(gd), free(xd);
  lz_free(g);
  lz_closure_free(cgf), lz_closure_free(gf), lz_closure_free(f);
  lz_free(x), lz_free(w), lz_free(b), lz_free(t);
}

/* the compile debug dump names the row kernel */
static void test_describe(void) {
  lz_closure *f = lz_closure_new(softmax, NULL, NULL), *cf = lz_compile(f, 0);
  int xs[2] = {2, 200};
  lz_array *x = rand_array(xs, 2, -1, 1, LZ_FLOAT32), *y;
  CHECK(lz_closure_call(cf, &x, 1, &y) == 1);
  char buf[256];
  CHECK(y->node && y->node->op == LZ_OP_FUSED);
  if (y->node) {
    lz__op(LZ_OP_FUSED)->params_print(y->node->params, buf, sizeof buf);
    CHECK(strstr(buf, "rows:") && strstr(buf, "max") && strstr(buf, "sum") && strstr(buf, "exp"));
  }
  lz_free(y), lz_free(x);
  lz_closure_free(cf), lz_closure_free(f);
}

int main(void) {
  RUN(test_layer_norm_is_one_row_kernel);
  RUN(test_rms_norm_softmax_logsumexp);
  RUN(test_odd_rows);
  RUN(test_strided_and_broadcast_inputs);
  RUN(test_half_inputs);
  RUN(test_special_values);
  RUN(test_paired_steps);
  RUN(test_empty_and_out_of_memory);
  RUN(test_grads_through_compiled);
  RUN(test_describe);
  lz_clear_compile_cache();
  return lzt_summary();
}
