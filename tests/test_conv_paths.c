/* The two convolution paths against each other: every case runs on oneDNN (cpu/conv_onednn.c)
 * and on the reference im2col/direct path (cpu/conv.c), forward and both gradients, on odd
 * sizes, channel counts on both sides of oneDNN's layout choice (fewer or more than 8 per
 * group), every mapping (forward, transposed = deconvolution, weight gradient = backward-weights),
 * strided, offset and broadcast operands, float16 and bfloat16, several threads and more shapes
 * than the primitive cache holds. The counts of runs per path check that oneDNN really ran where
 * it should; whatever it does not do must still be right (it falls back). The values of both
 * paths are checked against definitions and NumPy in test_conv.c and against finite
 * differences in test_grad_conv.c, which CTest runs on each path (LZ_CONV=ref). */
#include "lz_test.h"

#include <pthread.h>

#include "cpu/conv.h"

typedef struct pcase {
  int nsp, N, C, O, groups;
  int in[3], k[3], stride[3], lo[3], hi[3], kdil[3], idil[3];
  bool flip;
  int dnnl; /* convolutions of fwd + vjp (dx, dw) that must run on oneDNN */
} pcase;

#define ONE3                                                                                       \
  { 1, 1, 1 }
#define ZERO3                                                                                      \
  { 0, 0, 0 }

static const pcase cases[] = {
    /* ResNet-like: channels >= 8 (blocked layouts), odd spatial sizes */
    {2, 3, 16, 24, 1, {13, 11}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false, 3},
    {2, 2, 16, 8, 1, {15, 12}, {3, 3}, {2, 2}, {1, 1}, {1, 0}, {1, 1}, {1, 1}, false, 3},
    {2, 2, 24, 16, 1, {9, 10}, {3, 2}, {1, 2}, {2, 0}, {1, 2}, {2, 1}, {1, 1}, false, 3},
    {2, 2, 32, 16, 2, {9, 9}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false, 1},
    {2, 1, 16, 16, 1, {8, 8}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, {1, 1}, {1, 1}, false, 2},
    /* a kernel larger than the output: the backward-weights mapping, forward */
    {2, 3, 8, 6, 1, {5, 6}, {5, 4}, {1, 1}, {0, 0}, {0, 1}, {1, 1}, {1, 1}, false, 3},
    /* the same grouped with batch 1: grouped backward-weights, channels of a group as batch */
    {2, 1, 8, 6, 2, {6, 5}, {5, 4}, {1, 1}, {0, 0}, {0, 1}, {1, 1}, {1, 1}, false, 1},
    {1, 1, 5, 10, 5, {19}, {13}, {1}, {1}, {0}, {1}, {1}, false, 1},
    /* first layers: 1 and 3 input channels, 7x7 stride 2 */
    {2, 2, 3, 16, 1, {23, 21}, {7, 7}, {2, 2}, {3, 3}, {3, 3}, {1, 1}, {1, 1}, false, 3},
    {2, 4, 1, 8, 1, {12, 13}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false, 3},
    /* few channels, flip, kernel dilation, uneven and negative padding (cropping) */
    {2, 1, 3, 5, 1, {9, 8}, {3, 3}, {1, 2}, {2, 1}, {0, 2}, {2, 1}, {1, 1}, true, 1},
    {2, 2, 4, 6, 1, {10, 9}, {2, 3}, {1, 1}, {-1, 1}, {1, -2}, {1, 1}, {1, 1}, false, 1},
    /* transposed convolutions (input dilation): deconvolution primitives */
    {2, 2, 16, 8, 1, {7, 6}, {3, 3}, {1, 1}, {2, 1}, {3, 2}, {1, 1}, {2, 2}, true, 1},
    {2, 1, 8, 12, 2, {5, 7}, {4, 3}, {1, 1}, {2, 2}, {2, 3}, {1, 2}, {2, 3}, true, 1},
    {2, 1, 3, 4, 1, {6, 5}, {3, 3}, {1, 1}, {2, 2}, {2, 2}, {1, 1}, {2, 1}, false, 1},
    {2, 1, 8, 12, 2, {5, 7}, {4, 3}, {1, 1}, {2, 2}, {2, 3}, {1, 2}, {2, 3}, false, 1},
    {3, 1, 4, 4, 1, {3, 4, 3}, {2, 2, 3}, ONE3, {1, 1, 2}, {1, 1, 2}, ONE3, {2, 1, 2}, true, 1},
    {1, 2, 6, 4, 2, {7}, {3}, {1}, {2}, {3}, {1}, {3}, true, 1},
    /* input dilation with a stride, or a crop beyond the kernel: the reference path */
    {2, 1, 4, 4, 1, {6, 6}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, {2, 2}, false, 0},
    {2, 1, 4, 4, 1, {9, 9}, {2, 2}, {1, 1}, {-3, 0}, {0, 0}, {1, 1}, {2, 2}, true, 0},
    /* depthwise and grouped */
    {2, 2, 16, 16, 16, {9, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false, 1},
    {2, 1, 8, 16, 8, {7, 7}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false, 1},
    /* 1-D and 3-D */
    {1, 3, 16, 8, 1, {31}, {5}, {2}, {2}, {1}, {1}, {1}, false, 3},
    {1, 2, 2, 3, 1, {17}, {3}, {1}, {0}, {0}, {3}, {1}, false, 3},
    {1, 2, 8, 8, 1, {9}, {3}, {1}, {1}, {1}, {1}, {3}, true, 1},
    {3, 2, 8, 16, 1, {5, 6, 7}, {3, 3, 3}, {1, 2, 1}, ONE3, ONE3, ONE3, ONE3, false, 3},
    {3, 1, 3, 4, 1, {4, 5, 6}, {2, 3, 2}, ONE3, {0, 1, 0}, {1, 1, 1}, {1, 2, 1}, ONE3, true, 1},
};

static lz_array *rnd(const int *shape, int nd, lz_dtype dt, uint64_t seed) {
  lz_array *k = lz_random_key(seed);
  lz_array *a = lz_random_uniform(lz_float(-1), lz_float(1), shape, nd, dt, k);
  lz_free(k);
  return a;
}

static void shapes(const pcase *c, int *xs, int *ws) {
  xs[0] = c->N, ws[0] = c->O;
  for (int d = 0; d < c->nsp; d++) xs[d + 1] = c->in[d], ws[d + 1] = c->k[d];
  xs[c->nsp + 1] = c->C, ws[c->nsp + 1] = c->C / c->groups;
}

static lz_array *conv_of(const pcase *c, lz_array *x, lz_array *w) {
  return lz_conv_general(x, w, c->stride, c->lo, c->hi, c->kdil, c->idil, c->groups, c->flip);
}

static int conv_fn(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)n;
  out[0] = conv_of(ctx, in[0], in[1]);
  return out[0] ? 1 : -1;
}

/* The values of a (evaluated on the current path) as doubles; NULL on failure. */
static double *values(lz_array *a) {
  if (!a || lz_eval(a) != 0) return NULL;
  size_t n = lz_array_size(a);
  double *d = malloc((n ? n : 1) * sizeof(double));
  lz_array_read(a, LZ_FLOAT64, d, n * sizeof(double));
  return d;
}

/* Checks a against b elementwise within tol * max|b|. */
static void close_to(const char *what, int line, const double *a, const double *b, size_t n,
                     double tol) {
  lzt_checks++;
  if (!a || !b) {
    lzt_failures++;
    fprintf(stderr, "case line %d: %s: no result (%s)\n", line, what, lz_last_error());
    return;
  }
  double m = 0, worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(b[i]));
  for (size_t i = 0; i < n; i++)
    if (!(fabs(a[i] - b[i]) <= worst)) worst = fabs(a[i] - b[i]), at = i;
  if (worst > tol * (m > 1 ? m : 1)) {
    lzt_failures++;
    fprintf(stderr, "case line %d: %s: element %zu: %.9g against %.9g (max |ref| %.3g)\n", line,
            what, at, a[at], b[at], m);
  }
}

/* The forward result and both gradients of case c on one path: r[0..2], sizes n[0..2]. */
static void run_path(const pcase *c, int path, lz_array *x, lz_array *w, lz_array *ct, double **r) {
  lz_cpu_conv_set_path(path);
  lz_closure *f = lz_closure_new(conv_fn, (void *)c, NULL);
  lz_array *prim[2] = {x, w}, *out = NULL, *g[2] = {NULL, NULL};
  r[0] = values(conv_of(c, x, w));
  if (lz_vjp(f, prim, 2, &ct, 1, &out, g) == 0) {
    r[1] = values(g[0]);
    r[2] = values(g[1]);
  } else {
    r[1] = r[2] = NULL;
  }
  lz_free(out), lz_free(g[0]), lz_free(g[1]);
  lz_closure_free(f);
  lz_cpu_conv_set_path(-1);
}

static void compare_case(const pcase *c, lz_dtype dt, double tol, int line) {
  int xs[5], ws[5], nd = c->nsp + 2;
  shapes(c, xs, ws);
  lz_array *x = rnd(xs, nd, dt, 11 + (uint64_t)line), *w = rnd(ws, nd, dt, 12 + (uint64_t)line);
  lz_array *y = conv_of(c, x, w);
  if (!y) {
    CHECK(y != NULL);
    return;
  }
  lz_array *ct = rnd(lz_array_shape(y), nd, dt, 13 + (uint64_t)line);
  double *a[3], *b[3];
  long d0, d1, r0, r1;
  lz_cpu_conv_counts(&d0, &r0);
  run_path(c, LZ_CONV_PATH_ONEDNN, x, w, ct, a);
  lz_cpu_conv_counts(&d1, &r1);
  run_path(c, LZ_CONV_PATH_REF, x, w, ct, b);
  size_t n[3] = {lz_array_size(y), lz_array_size(x), lz_array_size(w)};
  static const char *what[3] = {"forward", "input gradient", "weight gradient"};
  for (int i = 0; i < 3; i++) {
    close_to(what[i], line, a[i], b[i], n[i], tol);
    free(a[i]), free(b[i]);
  }
  if (dt == LZ_FLOAT32) {
    lzt_checks++;
    if (d1 - d0 < c->dnnl) {
      lzt_failures++;
      fprintf(stderr, "case line %d: %ld convolutions ran on oneDNN, expected at least %d\n",
              line, d1 - d0, c->dnnl);
    }
  }
}

static void test_paths_table(void) {
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    lz_scope_begin();
    compare_case(&cases[i], LZ_FLOAT32, 2e-5, (int)i);
    lz_scope_end();
  }
}

/* Both paths compute in float32 and round once: at most a rounding step apart. */
static void test_paths_half(void) {
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i += 2) {
    lz_scope_begin();
    compare_case(&cases[i], LZ_FLOAT16, 2e-3, 100 + (int)i);
    compare_case(&cases[i], LZ_BFLOAT16, 1.6e-2, 200 + (int)i);
    lz_scope_end();
  }
}

/* Work above LZ_DNNL_SERIAL_FLOPS with a batch of 9 on 2 threads: cut into batch slices of
 * 2 and a last one of 1 (two primitives), run on Lazuli's pool; the weight gradient sums the
 * slices' partial gradients (also rounded to float16 at the end). */
static void test_paths_batch_slices(void) {
  static const pcase big[] = {
      {2, 9, 24, 24, 1, {12, 13}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false, 3},
      {2, 9, 24, 24, 1, {20, 21}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false, 3},
      {2, 9, 24, 16, 2, {11, 10}, {3, 3}, {1, 1}, {2, 1}, {2, 1}, {1, 1}, {2, 2}, true, 1},
  };
  int before = lz_get_num_threads();
  lz_set_num_threads(2);
  for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
    lz_scope_begin();
    compare_case(&big[i], LZ_FLOAT32, 2e-5, 300 + (int)i);
    compare_case(&big[i], LZ_FLOAT16, 2e-3, 400 + (int)i);
    lz_scope_end();
  }
  /* the same twice: the second time every primitive comes from the cache */
  lz_scope_begin();
  compare_case(&big[1], LZ_FLOAT32, 2e-5, 301);
  long made = lz_cpu_conv_created();
  compare_case(&big[1], LZ_FLOAT32, 2e-5, 301);
  lz_scope_end();
  CHECK(lz_cpu_conv_created() == made);
  lz_set_num_threads(before);
}

/* Every allocation of a oneDNN run failing in turn (scratch for reorders, the scratchpad,
 * partial gradients, the reversed weight): an out-of-memory error, no crash, no leak. */
static void test_paths_out_of_memory(void) {
  /* strided, batch 9: forward, deconvolution and backward-weights, each in batch slices */
  static const pcase big = {2, 9, 24, 24, 1, {20, 21}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false, 3};
  const pcase *c = &big;
  int xs[5], ws[5];
  shapes(c, xs, ws);
  lz_array *x = rnd(xs, 4, LZ_FLOAT16, 1), *w = rnd(ws, 4, LZ_FLOAT16, 2);
  lz_eval(x), lz_eval(w);
  int before = lz_get_num_threads(), failures = 0, successes = 0;
  lz_set_num_threads(2);
  lz_closure *f = lz_closure_new(conv_fn, (void *)c, NULL);
  for (int n = 1; n <= 60; n++) {
    lz_scope_begin();
    lz_array *prim[2] = {x, w}, *out = NULL, *g[2] = {NULL, NULL};
    lz_array *ct = lz_ones_like(conv_of(c, x, w));
    lz_eval(ct);
    int rc = lz_vjp(f, prim, 2, &ct, 1, &out, g);
    if (rc == 0) {
      lz_array *all[3] = {out, g[0], g[1]};
      lz_set_alloc_failure(n);
      rc = lz_eval_many(all, 3);
      lz_set_alloc_failure(0);
    }
    if (rc != 0) {
      failures++;
      CHECK(lz_last_error_code() == LZ_ERROR_OUT_OF_MEMORY);
      lz_clear_error();
    } else {
      successes++;
    }
    lz_free(out), lz_free(g[0]), lz_free(g[1]);
    lz_scope_end();
  }
  lz_closure_free(f);
  lz_set_num_threads(before);
  CHECK(failures > 0 && successes > 0);
}

/* Operands that are views: an input at an odd element offset with strided channels, one
 * stored (N, C, H, W) and transposed, a broadcast weight; results equal the contiguous ones. */
static void test_paths_views(void) {
  pcase c = {2, 2, 12, 16, 1, {9, 10}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false, 0};
  int big[4] = {2, 10, 12, 25}, st[4] = {0, 1, 1, 1}, en[4] = {2, 10, 11, 25}, step[4] = {1, 1, 1, 2};
  lz_array *xb = rnd(big, 4, LZ_FLOAT32, 5);
  lz_array *x = lz_slice(xb, st, en, step, 4); /* (2, 9, 10, 12), offset 1 + 25 + 300 */
  CHECK_SHAPE(x, 2, 9, 10, 12);
  int ws[4] = {16, 3, 3, 12};
  lz_array *w = rnd(ws, 4, LZ_FLOAT32, 6);
  lz_array *xc = lz_contiguous(x);
  double *want = values(conv_of(&c, xc, w));
  long d0, d1;
  lz_cpu_conv_counts(&d0, NULL);
  double *got = values(conv_of(&c, x, w));
  lz_cpu_conv_counts(&d1, NULL);
  size_t n = (size_t)2 * 9 * 10 * 16;
  close_to("offset strided input", __LINE__, got, want, n, 1e-6);
  CHECK(d1 - d0 == 1); /* described to oneDNN by its strides, not packed to the side */
  free(got);
  /* (N, C, H, W) storage */
  int to_nchw[4] = {0, 3, 1, 2}, perm[4] = {0, 2, 3, 1};
  lz_array *xt = lz_transpose(lz_contiguous(lz_transpose(xc, to_nchw, 4)), perm, 4);
  got = values(conv_of(&c, xt, w));
  close_to("transposed input", __LINE__, got, want, n, 1e-6);
  free(got), free(want);
  /* a weight broadcast along the output channels (zero stride) */
  int w1s[4] = {1, 3, 3, 12};
  lz_array *w1 = rnd(w1s, 4, LZ_FLOAT32, 7);
  lz_array *wb = lz_broadcast_to(w1, ws, 4);
  want = values(conv_of(&c, xc, lz_contiguous(wb)));
  got = values(conv_of(&c, x, wb));
  close_to("broadcast weight", __LINE__, got, want, n, 1e-6);
  free(got), free(want);
}

/* The weight gradient of a depthwise convolution (one input channel per group, multiplier 1
 * and 2, strided, 1-D and 2-D; float32 and bfloat16) is one convolution, not one per channel:
 * one oneDNN run (the grouped backward-weights primitive) on the default path, one run on the
 * reference path, and both agree with each other (and, in test_grad_conv.c, with finite differences). */
static void test_paths_depthwise_weight_grad(void) {
  static const pcase dw[] = {
      {2, 3, 24, 24, 24, {9, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false, 0},
      {2, 2, 16, 32, 16, {11, 10}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false, 0},
      {1, 4, 13, 13, 13, {17}, {5}, {1}, {2}, {2}, {2}, {1}, false, 0},
  };
  for (size_t i = 0; i < 2 * sizeof dw / sizeof dw[0]; i++) {
    lz_scope_begin();
    const pcase *c = &dw[i / 2];
    lz_dtype dt = i % 2 ? LZ_BFLOAT16 : LZ_FLOAT32;
    int xs[5], ws[5], nd = c->nsp + 2;
    shapes(c, xs, ws);
    lz_array *x = rnd(xs, nd, dt, 31 + i), *w = rnd(ws, nd, dt, 32 + i);
    lz_array *ct = rnd(lz_array_shape(conv_of(c, x, w)), nd, dt, 33 + i);
    lz_eval(x), lz_eval(w), lz_eval(ct);
    lz_closure *f = lz_closure_new(conv_fn, (void *)c, NULL);
    double *r[2] = {NULL, NULL};
    for (int path = 0; path < 2; path++) {
      lz_cpu_conv_set_path(path ? LZ_CONV_PATH_REF : LZ_CONV_PATH_ONEDNN);
      lz_array *prim[2] = {x, w}, *g[2] = {NULL, NULL};
      CHECK(lz_vjp(f, prim, 2, &ct, 1, NULL, g) == 0);
      long d0, r0, d1, r1;
      lz_cpu_conv_counts(&d0, &r0);
      r[path] = values(g[1]); /* the weight gradient alone */
      lz_cpu_conv_counts(&d1, &r1);
      CHECK(path ? d1 - d0 == 0 && r1 - r0 == 1 : d1 - d0 == 1 && r1 - r0 == 0);
      lz_free(g[0]), lz_free(g[1]);
    }
    lz_cpu_conv_set_path(-1);
    /* bfloat16: both compute in float32 and round once, at most a rounding step apart */
    close_to("depthwise weight gradient", (int)i, r[0], r[1], (size_t)lz_array_size(w),
             dt == LZ_FLOAT32 ? 2e-5 : 1e-2);
    free(r[0]), free(r[1]);
    lz_closure_free(f);
    lz_scope_end();
  }
}

/* Broadcast operands (zero strides, no oneDNN descriptor) are packed and still run on oneDNN:
 * an input broadcast along the batch, and the cotangent of a sum taken right after the
 * convolution (a broadcast scalar), which both gradients read; the results equal the
 * reference path's. */
static void test_paths_broadcast_operands(void) {
  static const pcase cs[] = {
      {2, 3, 3, 16, 1, {13, 12}, {7, 7}, {2, 2}, {3, 3}, {3, 3}, {1, 1}, {1, 1}, false, 0},
      {2, 2, 16, 16, 16, {9, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false, 0},
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
    lz_scope_begin();
    const pcase *c = &cs[i];
    int xs[5], ws[5], nd = c->nsp + 2, x1[5];
    shapes(c, xs, ws);
    memcpy(x1, xs, sizeof x1);
    x1[0] = 1;
    lz_array *x = lz_broadcast_to(rnd(x1, nd, LZ_FLOAT32, 41 + i), xs, nd);
    lz_array *w = rnd(ws, nd, LZ_FLOAT32, 42 + i);
    lz_array *y = conv_of(c, x, w);
    lz_array *ct = lz_broadcast_to(lz_float(0.5), lz_array_shape(y), nd);
    lz_closure *f = lz_closure_new(conv_fn, (void *)c, NULL);
    double *r[2][3];
    for (int path = 0; path < 2; path++) {
      lz_cpu_conv_set_path(path ? LZ_CONV_PATH_REF : LZ_CONV_PATH_ONEDNN);
      long d0, d1;
      lz_cpu_conv_counts(&d0, NULL);
      lz_array *prim[2] = {x, w}, *g[2] = {NULL, NULL};
      r[path][0] = values(conv_of(c, x, w));
      CHECK(lz_vjp(f, prim, 2, &ct, 1, NULL, g) == 0);
      r[path][1] = values(g[0]), r[path][2] = values(g[1]);
      lz_cpu_conv_counts(&d1, NULL);
      if (!path) CHECK(d1 - d0 == 3); /* forward, input and weight gradients */
      lz_free(g[0]), lz_free(g[1]);
    }
    lz_cpu_conv_set_path(-1);
    size_t n[3] = {lz_array_size(y), lz_array_size(x), lz_array_size(w)};
    static const char *what[3] = {"broadcast input", "input gradient, broadcast cotangent",
                                  "weight gradient, broadcast cotangent"};
    for (int k = 0; k < 3; k++) {
      close_to(what[k], (int)i, r[0][k], r[1][k], n[k], 2e-5);
      free(r[0][k]), free(r[1][k]);
    }
    lz_closure_free(f);
    lz_scope_end();
  }
}

/* More shapes than the primitive cache holds, from two threads at once, and a change of the
 * thread count (primitives are made per thread count): every result equals the reference. */
typedef struct job {
  int first, count;
  int bad;
} job;

static void *worker(void *arg) {
  job *j = arg;
  for (int i = j->first; i < j->first + j->count; i++) {
    lz_scope_begin();
    int H = 6 + i % 9, W = 5 + i / 9, xs[4] = {1, H, W, 8}, ws[4] = {8, 3, 3, 8};
    lz_array *x = rnd(xs, 4, LZ_FLOAT32, (uint64_t)i), *w = rnd(ws, 4, LZ_FLOAT32, 99);
    double *y = values(lz_conv2d(x, w, 1, 1, 1, 1, 1, 1, 1)), *xv = values(x), *wv = values(w);
    for (int h = 0; h < H && y; h++) /* by the definition: 3x3 taps, padding 1 */
      for (int v = 0; v < W; v++)
        for (int o = 0; o < 8; o++) {
          double s = 0;
          for (int r = 0; r < 3; r++)
            for (int q = 0; q < 3; q++) {
              int hi = h + r - 1, wi = v + q - 1;
              if (hi < 0 || hi >= H || wi < 0 || wi >= W) continue;
              for (int ch = 0; ch < 8; ch++)
                s += xv[(hi * W + wi) * 8 + ch] * wv[((o * 3 + r) * 3 + q) * 8 + ch];
            }
          if (fabs(y[(h * W + v) * 8 + o] - s) > 1e-4) j->bad++;
        }
    if (!y) j->bad++;
    free(y), free(xv), free(wv);
    lz_scope_end();
  }
  return NULL;
}

static void test_paths_cache_threads(void) {
  job j[2] = {{0, 45, 0}, {45, 45, 0}};
  pthread_t t;
  CHECK(pthread_create(&t, NULL, worker, &j[1]) == 0);
  worker(&j[0]);
  pthread_join(t, NULL);
  CHECK(j[0].bad == 0 && j[1].bad == 0);
  int before = lz_get_num_threads();
  lz_set_num_threads(1);
  job k = {0, 3, 0};
  worker(&k);
  lz_set_num_threads(before);
  CHECK(k.bad == 0);
  lz_cpu_conv_cache_clear();
  worker(&k);
  CHECK(k.bad == 0);
}

int main(void) {
  RUN(test_paths_table);
  RUN(test_paths_half);
  RUN(test_paths_batch_slices);
  RUN(test_paths_out_of_memory);
  RUN(test_paths_views);
  RUN(test_paths_depthwise_weight_grad);
  RUN(test_paths_broadcast_operands);
  RUN(test_paths_cache_threads);
  lz_cpu_conv_cache_clear();
  return lzt_summary();
}
