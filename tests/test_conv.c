/* Tests of the convolutions: every variant against a direct reference loop in double precision
 * written here (conv_general's definition for plain convolutions, the scatter definition for
 * transposed ones), over a table of parameters, strided inputs, half types, empty arrays and
 * error cases; and a few NumPy-computed results (tests/data/conv_refs.h). */
#include "lz_test.h"

#include <stdint.h>

#include "cpu/unary.h" /* lz_cpu_set_simd: the scalar paths against the SIMD ones */
#include "data/conv_refs.h"

/* ---- deterministic data ---- */

/* The same sequence scripts/gen_conv_refs.py uses: values in [-1, 1). */
static double gen(int64_t i, int64_t seed) {
  uint64_t h = ((uint64_t)(i + seed) * 2654435761u) % 1000u;
  return (double)h / 500.0 - 1.0;
}

static double *gen_buf(size_t n, int seed) {
  double *d = malloc((n ? n : 1) * sizeof(double));
  for (size_t i = 0; i < n; i++) d[i] = (double)(float)gen((int64_t)i, seed);
  return d;
}

/* An array of `dt` from doubles; d is rounded in place to what the array holds. */
static lz_array *make(double *d, const int *shape, int ndim, lz_dtype dt) {
  size_t n = 1;
  for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
  lz_array *a = lz_array_from_data(d, shape, ndim, LZ_FLOAT64);
  lz_array *b = lz_astype(a, dt);
  lz_free(a);
  if (n) lz_array_read(b, LZ_FLOAT64, d, n * sizeof(double));
  return b;
}

/* ---- the reference ---- */

typedef struct conv_case {
  int nsp, N, C, O, groups;
  int in[3], k[3], stride[3], lo[3], hi[3], kdil[3], idil[3];
  bool flip;
} conv_case;

static size_t prod(const int *a, int n) {
  size_t p = 1;
  for (int i = 0; i < n; i++) p *= (size_t)a[i];
  return p;
}

/* conv_general by definition: for every output element sum x_dilated_padded[o * stride +
 * t * kdil] * w[t] over taps t (reversed when flip). Fills oshape (nsp + 2 dims) and returns a
 * malloc'd result. */
static double *ref_conv(const conv_case *c, const double *x, const double *w, int *oshape) {
  int ns = c->nsp, out[3];
  for (int d = 0; d < ns; d++) {
    int span = (c->in[d] - 1) * c->idil[d] + 1 + c->lo[d] + c->hi[d];
    out[d] = (span - (c->k[d] - 1) * c->kdil[d] - 1) / c->stride[d] + 1;
  }
  oshape[0] = c->N;
  for (int d = 0; d < ns; d++) oshape[d + 1] = out[d];
  oshape[ns + 1] = c->O;
  size_t osz = prod(oshape, ns + 2);
  double *y = calloc(osz ? osz : 1, sizeof(double));
  int Cg = c->C / c->groups, Og = c->O / c->groups;
  int o[3] = {0, 0, 0}, t[3] = {0, 0, 0};
  size_t nout = prod(out, ns), ntap = prod(c->k, ns);
  for (int n = 0; n < c->N; n++)
    for (size_t op = 0; op < nout; op++) {
      for (int d = ns - 1, r = (int)op; d >= 0; d--) o[d] = r % out[d], r /= out[d];
      for (int oc = 0; oc < c->O; oc++) {
        int g = oc / Og;
        double acc = 0;
        for (size_t tp = 0; tp < ntap; tp++) {
          for (int d = ns - 1, r = (int)tp; d >= 0; d--) t[d] = r % c->k[d], r /= c->k[d];
          size_t xi = (size_t)n, wi = (size_t)oc;
          bool ok = true;
          for (int d = 0; d < ns && ok; d++) {
            /* position in the dilated input; negative padding shifts it inside */
            int p = o[d] * c->stride[d] + t[d] * c->kdil[d] - c->lo[d];
            ok = p >= 0 && p % c->idil[d] == 0 && p / c->idil[d] < c->in[d];
            xi = xi * (size_t)c->in[d] + (size_t)(p / c->idil[d]);
            wi = wi * (size_t)c->k[d] + (size_t)(c->flip ? c->k[d] - 1 - t[d] : t[d]);
          }
          if (!ok) continue;
          for (int ci = 0; ci < Cg; ci++)
            acc += x[xi * (size_t)c->C + (size_t)(g * Cg + ci)] * w[wi * (size_t)Cg + (size_t)ci];
        }
        y[((size_t)n * nout + op) * (size_t)c->O + (size_t)oc] = acc;
      }
    }
  return y;
}

/* Transposed convolution by its scatter definition: input element i adds x[i] * w[o, t] to
 * output position i * stride + t * dil - pad. */
static double *ref_conv_transpose(int ns, int N, int C, int O, int groups, const int *in,
                                  const int *k, const int *stride, const int *pad, const int *dil,
                                  const int *opad, const double *x, const double *w, int *oshape) {
  int out[3];
  oshape[0] = N;
  for (int d = 0; d < ns; d++) {
    out[d] = (in[d] - 1) * stride[d] - 2 * pad[d] + dil[d] * (k[d] - 1) + 1 + opad[d];
    oshape[d + 1] = out[d];
  }
  oshape[ns + 1] = O;
  size_t osz = prod(oshape, ns + 2), nin = prod(in, ns), ntap = prod(k, ns), nout = prod(out, ns);
  double *y = calloc(osz ? osz : 1, sizeof(double));
  int Cg = C / groups, Og = O / groups, i[3], t[3];
  for (int n = 0; n < N; n++)
    for (size_t ip = 0; ip < nin; ip++) {
      for (int d = ns - 1, r = (int)ip; d >= 0; d--) i[d] = r % in[d], r /= in[d];
      for (size_t tp = 0; tp < ntap; tp++) {
        for (int d = ns - 1, r = (int)tp; d >= 0; d--) t[d] = r % k[d], r /= k[d];
        size_t op = 0;
        bool ok = true;
        for (int d = 0; d < ns; d++) {
          int p = i[d] * stride[d] + t[d] * dil[d] - pad[d];
          ok = ok && p >= 0 && p < out[d];
          op = op * (size_t)out[d] + (size_t)(ok ? p : 0);
        }
        if (!ok) continue;
        for (int oc = 0; oc < O; oc++) {
          int g = oc / Og;
          double acc = 0;
          for (int ci = 0; ci < Cg; ci++)
            acc += x[((size_t)n * nin + ip) * (size_t)C + (size_t)(g * Cg + ci)] *
                   w[((size_t)oc * ntap + tp) * (size_t)Cg + (size_t)ci];
          y[((size_t)n * nout + op) * (size_t)O + (size_t)oc] += acc;
        }
      }
    }
  return y;
}

static void case_shapes(const conv_case *c, int *xs, int *ws) {
  xs[0] = c->N, ws[0] = c->O;
  for (int d = 0; d < c->nsp; d++) xs[d + 1] = c->in[d], ws[d + 1] = c->k[d];
  xs[c->nsp + 1] = c->C, ws[c->nsp + 1] = c->C / c->groups;
}

/* Runs lz_conv_general on case c in dtype dt and compares with the reference. */
static void check_case(const conv_case *c, lz_dtype dt, double tol, int line) {
  int xs[5], ws[5], ys[5];
  case_shapes(c, xs, ws);
  int nd = c->nsp + 2;
  double *xd = gen_buf(prod(xs, nd), 1 + line), *wd = gen_buf(prod(ws, nd), 7 + line);
  lz_array *x = make(xd, xs, nd, dt), *w = make(wd, ws, nd, dt);
  double *ref = ref_conv(c, xd, wd, ys);
  lz_array *y =
      lz_conv_general(x, w, c->stride, c->lo, c->hi, c->kdil, c->idil, c->groups, c->flip);
  lzt_check_shape(__FILE__, line, y, ys, nd);
  lzt_check_values(__FILE__, line, y, ref, prod(ys, nd), tol);
  CHECK(!y || lz_array_dtype(y) == dt);
  free(xd), free(wd), free(ref);
}

#define ONE3                                                                                       \
  { 1, 1, 1 }
#define ZERO3                                                                                      \
  { 0, 0, 0 }

static const conv_case cases[] = {
    /* 1-D */
    {1, 2, 3, 4, 1, {9}, {3}, {1}, {0}, {0}, {1}, {1}, false},
    {1, 2, 3, 4, 1, {10}, {3}, {2}, {1}, {2}, {2}, {1}, false},
    {1, 1, 4, 6, 2, {7}, {2}, {1}, {0}, {3}, {1}, {3}, true},
    {1, 1, 2, 3, 1, {8}, {3}, {1}, {-2}, {-1}, {1}, {1}, false}, /* cropping */
    {1, 1, 2, 3, 1, {5}, {3}, {2}, {-1}, {2}, {2}, {2}, true},
    /* 2-D: stride, asymmetric padding, dilations, groups, depthwise, pointwise, flip */
    {2, 2, 3, 5, 1, {6, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false},
    {2, 1, 4, 4, 1, {7, 6}, {3, 2}, {2, 3}, {0, 2}, {1, 0}, {1, 1}, {1, 1}, false},
    {2, 1, 3, 2, 1, {7, 7}, {3, 3}, {1, 2}, {2, 1}, {2, 1}, {2, 3}, {1, 1}, true},
    {2, 2, 6, 4, 2, {5, 6}, {3, 2}, {1, 1}, {1, 0}, {1, 1}, {1, 1}, {1, 1}, false},
    {2, 2, 6, 6, 6, {6, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false}, /* depthwise */
    {2, 1, 4, 8, 4, {6, 6}, {3, 3}, {2, 1}, {1, 2}, {0, 1}, {1, 2}, {1, 1}, true},  /* x2 mult */
    {2, 1, 5, 5, 5, {4, 5}, {2, 3}, {1, 1}, {1, 1}, {2, 1}, {1, 1}, {2, 2}, false},
    {2, 2, 6, 4, 1, {5, 4}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, {1, 1}, {1, 1}, false}, /* 1x1 */
    {2, 2, 6, 4, 2, {5, 4}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, {1, 1}, {1, 1}, false}, /* 1x1 g */
    {2, 1, 6, 4, 1, {5, 5}, {1, 1}, {2, 2}, {0, 1}, {0, 1}, {1, 1}, {1, 1}, false}, /* 1x1 s2 */
    {2, 1, 3, 2, 1, {4, 4}, {3, 3}, {1, 1}, {2, 2}, {2, 2}, {1, 1}, {2, 3}, true},  /* idil */
    {2, 1, 2, 3, 1, {6, 6}, {2, 2}, {1, 1}, {-1, 0}, {0, -2}, {1, 1}, {1, 1}, false},
    /* 3-D */
    {3, 1, 2, 3, 1, {4, 5, 4}, {2, 3, 2}, {1, 1, 1}, {0, 1, 0}, {1, 1, 0}, ONE3, ONE3, false},
    {3, 2, 4, 2, 2, {5, 4, 4}, {3, 2, 2}, {2, 1, 2}, {1, 0, 1}, {1, 1, 1}, {1, 2, 1}, ONE3, true},
    {3, 1, 3, 3, 3, {4, 4, 5}, {2, 2, 3}, ONE3, ONE3, ONE3, ONE3, {1, 2, 1}, false},
};

static void test_conv_general_table(void) {
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    lz_scope_begin();
    check_case(&cases[i], LZ_FLOAT32, 1e-5, 1000 + (int)i);
    lz_scope_end();
  }
}

static void test_conv_half(void) {
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i += 3) {
    lz_scope_begin();
    check_case(&cases[i], LZ_FLOAT16, 1e-2, 2000 + (int)i);
    check_case(&cases[i], LZ_BFLOAT16, 3e-2, 3000 + (int)i);
    lz_scope_end();
  }
  /* float16 with float32 promotes to float32 */
  int xs[4] = {1, 4, 4, 2}, ws[4] = {3, 2, 2, 2};
  double *xd = gen_buf(32, 3), *wd = gen_buf(24, 4);
  lz_array *y =
      lz_conv2d(make(xd, xs, 4, LZ_FLOAT16), make(wd, ws, 4, LZ_FLOAT32), 1, 1, 0, 0, 1, 1, 1);
  CHECK(y && lz_array_dtype(y) == LZ_FLOAT32);
  conv_case c = {2, 1, 2, 3, 1, {4, 4}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, {1, 1}, {1, 1}, false};
  int ys[4];
  double *ref = ref_conv(&c, xd, wd, ys);
  CHECK_VALUES(y, ref, prod(ys, 4), 1e-5);
  free(xd), free(wd), free(ref);
}

/* The named wrappers are conv_general with their parameters. */
static void test_conv_named(void) {
  conv_case c1 = {1, 2, 4, 6, 2, {11}, {3}, {2}, {2}, {2}, {2}, {1}, false};
  conv_case c2 = {2, 2, 3, 4, 1, {7, 6}, {3, 2}, {2, 1}, {1, 0}, {1, 0}, {1, 2}, {1, 1}, false};
  conv_case c3 = {3,         1,         4,         4,         4,    {4, 5, 3}, {2, 2, 2},
                  {1, 2, 1}, {1, 0, 1}, {1, 0, 1}, {1, 1, 2}, ONE3, false};
  const conv_case *all[3] = {&c1, &c2, &c3};
  for (int i = 0; i < 3; i++) {
    const conv_case *c = all[i];
    int xs[5], ws[5], ys[5], nd = c->nsp + 2;
    case_shapes(c, xs, ws);
    double *xd = gen_buf(prod(xs, nd), 11 + i), *wd = gen_buf(prod(ws, nd), 12 + i);
    lz_array *x = make(xd, xs, nd, LZ_FLOAT32), *w = make(wd, ws, nd, LZ_FLOAT32), *y;
    if (i == 0)
      y = lz_conv1d(x, w, c->stride[0], c->lo[0], c->kdil[0], c->groups);
    else if (i == 1)
      y = lz_conv2d(x, w, c->stride[0], c->stride[1], c->lo[0], c->lo[1], c->kdil[0], c->kdil[1],
                    c->groups);
    else
      y = lz_conv3d(x, w, c->stride[0], c->stride[1], c->stride[2], c->lo[0], c->lo[1], c->lo[2],
                    c->kdil[0], c->kdil[1], c->kdil[2], c->groups);
    double *ref = ref_conv(c, xd, wd, ys);
    lzt_check_shape(__FILE__, __LINE__, y, ys, nd);
    CHECK_VALUES(y, ref, prod(ys, nd), 1e-5);
    free(xd), free(wd), free(ref);
  }
}

typedef struct tcase {
  int nsp, N, C, O, groups;
  int in[3], k[3], stride[3], pad[3], dil[3], opad[3];
} tcase;

static void test_conv_transpose(void) {
  static const tcase tc[] = {
      {1, 2, 3, 4, 1, {5}, {3}, {2}, {0}, {1}, {0}},
      {1, 1, 4, 2, 2, {6}, {4}, {3}, {1}, {2}, {2}},
      {1, 1, 2, 2, 1, {4}, {2}, {1}, {1}, {1}, {0}},
      {2, 2, 3, 5, 1, {4, 3}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 0}},
      {2, 1, 4, 6, 2, {3, 4}, {2, 3}, {1, 2}, {0, 1}, {2, 1}, {0, 1}},
      {2, 1, 4, 4, 4, {4, 4}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}}, /* depthwise */
      {2, 1, 3, 2, 1, {4, 3}, {2, 2}, {2, 1}, {2, 1}, {1, 1}, {0, 0}}, /* padding > k - 1: crop */
      {3, 1, 2, 3, 1, {3, 2, 3}, {2, 2, 2}, {2, 1, 2}, {0, 0, 1}, {1, 2, 1}, {1, 0, 0}},
  };
  for (size_t i = 0; i < sizeof tc / sizeof tc[0]; i++) {
    lz_scope_begin();
    const tcase *c = &tc[i];
    int xs[5] = {c->N}, ws[5] = {c->O}, ys[5], nd = c->nsp + 2;
    for (int d = 0; d < c->nsp; d++) xs[d + 1] = c->in[d], ws[d + 1] = c->k[d];
    xs[nd - 1] = c->C, ws[nd - 1] = c->C / c->groups;
    double *xd = gen_buf(prod(xs, nd), 21 + (int)i), *wd = gen_buf(prod(ws, nd), 31 + (int)i);
    lz_array *x = make(xd, xs, nd, LZ_FLOAT32), *w = make(wd, ws, nd, LZ_FLOAT32), *y;
    const int *s = c->stride, *p = c->pad, *d = c->dil, *o = c->opad;
    if (c->nsp == 1)
      y = lz_conv_transpose1d(x, w, s[0], p[0], d[0], o[0], c->groups);
    else if (c->nsp == 2)
      y = lz_conv_transpose2d(x, w, s[0], s[1], p[0], p[1], d[0], d[1], o[0], o[1], c->groups);
    else
      y = lz_conv_transpose3d(x, w, s[0], s[1], s[2], p[0], p[1], p[2], d[0], d[1], d[2], o[0],
                              o[1], o[2], c->groups);
    double *ref = ref_conv_transpose(c->nsp, c->N, c->C, c->O, c->groups, c->in, c->k, s, p, d, o,
                                     xd, wd, ys);
    lzt_check_shape(__FILE__, 4000 + (int)i, y, ys, nd);
    lzt_check_values(__FILE__, 4000 + (int)i, y, ref, prod(ys, nd), 1e-5);
    free(xd), free(wd), free(ref);
    lz_scope_end();
  }
}

/* Transposed/sliced views as input and weight give the same result as contiguous copies. */
static void test_conv_strided(void) {
  conv_case c = {2, 2, 4, 3, 1, {5, 6}, {3, 2}, {1, 2}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false};
  int xs[4], ws[4], ys[4];
  case_shapes(&c, xs, ws);
  /* x stored as (N, C, H, W), transposed to NHWC; w stored with 2x the channels, sliced. */
  int xt_shape[4] = {2, 4, 5, 6}, perm[4] = {0, 2, 3, 1};
  double *xraw = gen_buf(240, 5);
  lz_array *xt = lz_array_from_data(xraw, xt_shape, 4, LZ_FLOAT64);
  lz_array *x = lz_transpose(lz_astype(xt, LZ_FLOAT32), perm, 4);
  int wbig_shape[4] = {3, 3, 2, 8};
  double *wraw = gen_buf(144, 6);
  lz_array *wbig = lz_astype(lz_array_from_data(wraw, wbig_shape, 4, LZ_FLOAT64), LZ_FLOAT32);
  int st[4] = {0, 0, 0, 0}, sp[4] = {3, 3, 2, 8}, sstep[4] = {1, 1, 1, 2};
  lz_array *w = lz_slice(wbig, st, sp, sstep, 4);
  CHECK_SHAPE(x, 2, 5, 6, 4);
  CHECK_SHAPE(w, 3, 3, 2, 4);
  /* the logical values, row-major, for the reference */
  double *xd = malloc(240 * sizeof(double)), *wd = malloc(72 * sizeof(double));
  lz_array_read(x, LZ_FLOAT64, xd, 240 * sizeof(double));
  lz_array_read(w, LZ_FLOAT64, wd, 72 * sizeof(double));
  double *ref = ref_conv(&c, xd, wd, ys);
  lz_array *y = lz_conv2d(x, w, 1, 2, 1, 1, 1, 1, 1);
  CHECK_SHAPE(y, 2, 5, 4, 3);
  CHECK_VALUES(y, ref, prod(ys, 4), 1e-5);
  /* a negative-stride (flipped) input */
  int ax[1] = {2};
  lz_array *xf = lz_flip(x, ax, 1);
  double *xfd = malloc(240 * sizeof(double));
  lz_array_read(xf, LZ_FLOAT64, xfd, 240 * sizeof(double));
  double *ref2 = ref_conv(&c, xfd, wd, ys);
  CHECK_VALUES(lz_conv2d(xf, w, 1, 2, 1, 1, 1, 1, 1), ref2, prod(ys, 4), 1e-5);
  /* depthwise and pointwise paths on strided inputs too */
  conv_case dw = {2, 2, 4, 4, 4, {5, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false};
  int dws[4] = {4, 3, 3, 1};
  double *dwd = gen_buf(36, 8);
  double *ref3 = ref_conv(&dw, xd, dwd, ys);
  CHECK_VALUES(lz_conv2d(x, make(dwd, dws, 4, LZ_FLOAT32), 1, 1, 1, 1, 1, 1, 4), ref3, prod(ys, 4),
               1e-5);
  conv_case pw = {2, 2, 4, 3, 1, {5, 6}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, {1, 1}, {1, 1}, false};
  int pws[4] = {3, 1, 1, 4};
  double *pwd = gen_buf(12, 9);
  double *ref4 = ref_conv(&pw, xd, pwd, ys);
  CHECK_VALUES(lz_conv2d(x, make(pwd, pws, 4, LZ_FLOAT32), 1, 1, 0, 0, 1, 1, 1), ref4, prod(ys, 4),
               1e-5);
  free(xraw), free(wraw), free(xd), free(wd), free(xfd), free(ref), free(ref2), free(ref3);
  free(dwd), free(ref4), free(pwd);
}

/* Enough output rows to span several patch-matrix blocks, with 2 groups. */
static void test_conv_large(void) {
  conv_case c = {2, 2, 8, 6, 2, {64, 66}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false};
  check_case(&c, LZ_FLOAT32, 1e-5, 5000);
}

/* The depthwise loop's scalar path gives what its SIMD path gives. */
static void test_conv_simd_vs_scalar(void) {
  conv_case c = {2, 2, 12, 12, 12, {9, 8}, {3, 3}, {1, 2}, {1, 1}, {1, 0}, {1, 1}, {1, 1}, false};
  bool was = lz_cpu_set_simd(false);
  check_case(&c, LZ_FLOAT32, 1e-5, 6000);
  lz_cpu_set_simd(was);
  check_case(&c, LZ_FLOAT32, 1e-5, 6000);
}

/* Running out of memory at any allocation of the kernel (packing, scratch, output) is an
 * error, never a crash or a leak. */
static void test_conv_out_of_memory(void) {
  int xs[4] = {1, 6, 6, 4}, ws[4] = {4, 3, 3, 4}, dws[4] = {4, 3, 3, 1};
  double *xd = gen_buf(144, 1), *wd = gen_buf(144, 2);
  lz_array *x = make(xd, xs, 4, LZ_FLOAT16), *w = make(wd, ws, 4, LZ_FLOAT16);
  lz_array *dw = make(wd, dws, 4, LZ_FLOAT32);
  int failures = 0;
  for (int n = 1; n <= 8; n++) {
    lz_scope_begin();
    lz_array *y[2] = {lz_conv2d(x, w, 1, 1, 1, 1, 1, 1, 1), lz_conv2d(x, dw, 1, 1, 1, 1, 1, 1, 4)};
    lz_set_alloc_failure(n);
    int rc = lz_eval_many(y, 2);
    lz_set_alloc_failure(0);
    if (rc != 0) {
      failures++;
      CHECK(lz_last_error_code() == LZ_ERROR_OUT_OF_MEMORY);
      lz_clear_error();
    }
    lz_scope_end();
  }
  CHECK(failures > 0);
  free(xd), free(wd);
}

static void test_conv_empty(void) {
  int xs[4] = {0, 5, 5, 2}, ws[4] = {3, 3, 3, 2};
  lz_array *y =
      lz_conv2d(lz_zeros(xs, 4, LZ_FLOAT32), lz_ones(ws, 4, LZ_FLOAT32), 1, 1, 1, 1, 1, 1, 1);
  CHECK_SHAPE(y, 0, 5, 5, 3);
  CHECK(lz_eval(y) == 0);
  int ws0[4] = {0, 3, 3, 2};
  xs[0] = 1;
  y = lz_conv2d(lz_ones(xs, 4, LZ_FLOAT32), lz_ones(ws0, 4, LZ_FLOAT32), 1, 1, 0, 0, 1, 1, 1);
  CHECK_SHAPE(y, 1, 3, 3, 0);
  CHECK(lz_eval(y) == 0);
}

static void test_conv_refs(void) {
  /* NumPy's results (scripts/gen_conv_refs.py) for one conv2d and one conv_transpose2d */
  int xs[4] = {2, 5, 6, 4}, ws[4] = {6, 3, 3, 2}, ys[4];
  double *xd = gen_buf(240, 100), *wd = gen_buf(108, 200);
  lz_array *x = make(xd, xs, 4, LZ_FLOAT32), *w = make(wd, ws, 4, LZ_FLOAT32);
  lz_array *y = lz_conv2d(x, w, 2, 1, 1, 2, 1, 2, 2);
  CHECK_SHAPE(y, 2, 3, 6, 6);
  CHECK_VALUES(y, conv_ref_conv2d, sizeof conv_ref_conv2d / sizeof(double), 1e-5);
  int tws[4] = {3, 3, 2, 4};
  double *twd = gen_buf(72, 300);
  lz_array *yt = lz_conv_transpose2d(x, make(twd, tws, 4, LZ_FLOAT32), 2, 2, 1, 0, 1, 1, 1, 0, 1);
  (void)ys;
  CHECK_SHAPE(yt, 2, 10, 12, 3);
  CHECK_VALUES(yt, conv_ref_conv_transpose2d, sizeof conv_ref_conv_transpose2d / sizeof(double),
               1e-5);
  free(xd), free(wd), free(twd);
}

static void test_conv_errors(void) {
  int xs[4] = {1, 5, 5, 6}, ws[4] = {4, 3, 3, 4}, w3[3] = {4, 3, 6}, x3[3] = {1, 5, 6};
  int wgs[4] = {3, 3, 3, 2}; /* fits groups 3 */
  lz_array *x = lz_ones(xs, 4, LZ_FLOAT32), *w = lz_ones(ws, 4, LZ_FLOAT32);
  lz_array *wg = lz_ones(wgs, 4, LZ_FLOAT32);
  CHECK_ERROR(lz_conv2d(x, w, 1, 1, 0, 0, 1, 1, 1),
              "[lz_conv2d] input channels 6 != groups 1 * weight channels 4: input (1,5,5,6), "
              "weight (4,3,3,4)");
  CHECK_ERROR(lz_conv2d(x, w, 1, 1, 0, 0, 1, 1, 4), "[lz_conv2d] input channels 6 are not "
                                                    "divisible by groups 4");
  int wo[4] = {5, 3, 3, 3};
  CHECK_ERROR(lz_conv2d(x, lz_ones(wo, 4, LZ_FLOAT32), 1, 1, 0, 0, 1, 1, 2),
              "[lz_conv2d] output channels 5 are not divisible by groups 2");
  CHECK_ERROR(lz_conv2d(x, lz_ones(w3, 3, LZ_FLOAT32), 1, 1, 0, 0, 1, 1, 1),
              "[lz_conv2d] weight must have 4 dimensions (C_out,kernel...,C_in/groups), got shape "
              "(4,3,6)");
  CHECK_ERROR(lz_conv2d(lz_ones(x3, 3, LZ_FLOAT32), w, 1, 1, 0, 0, 1, 1, 1),
              "[lz_conv2d] input must have 4 dimensions (N,H,W,C), got shape (1,5,6)");
  CHECK_ERROR(lz_conv1d(x, w, 1, 0, 1, 1), "[lz_conv1d] input must have 3 dimensions");
  CHECK_ERROR(lz_conv2d(x, wg, 1, 1, -1, 0, 1, 1, 3), "[lz_conv2d] padding must be >= 0, got -1");
  CHECK_ERROR(lz_conv2d(x, wg, 0, 1, 0, 0, 1, 1, 3), "[lz_conv2d] stride must be positive, got 0");
  CHECK_ERROR(lz_conv2d(x, wg, 1, 1, 0, 0, 1, 0, 3),
              "[lz_conv2d] kernel dilation must be positive, got 0 along spatial dim 1");
  CHECK_ERROR(lz_conv2d(x, wg, 1, 1, 0, 0, 3, 1, 3),
              "[lz_conv2d] along spatial dim 0 the padded input (size 5) is smaller than the "
              "dilated kernel (size 7)");
  CHECK_ERROR(lz_conv2d(x, wg, 1, 1, 0, 0, 1, 1, 0), "[lz_conv2d] groups must be positive");
  CHECK_ERROR(lz_conv2d(lz_ones(xs, 4, LZ_INT32), lz_ones(wgs, 4, LZ_INT32), 1, 1, 0, 0, 1, 1, 3),
              "[lz_conv2d] only float16, bfloat16 and float32 are supported, got int32");
  CHECK_ERROR(lz_conv2d(lz_ones(xs, 4, LZ_FLOAT64), wg, 1, 1, 0, 0, 1, 1, 3), "float64");
  CHECK_ERROR(lz_conv_transpose2d(x, wg, 2, 2, 0, 0, 1, 1, -1, 0, 3),
              "[lz_conv_transpose2d] output_padding must be >= 0");
  CHECK_ERROR(lz_conv_transpose2d(x, wg, 2, 0, 0, 0, 1, 1, 0, 0, 3),
              "[lz_conv_transpose2d] stride must be positive");
  int lo[2] = {-4, 0}, hi[2] = {0, 0};
  CHECK_ERROR(lz_conv_general(x, wg, NULL, lo, hi, NULL, NULL, 3, false),
              "[lz_conv_general] along spatial dim 0 the padded input (size 1)");
  int x6[6] = {1, 2, 2, 2, 2, 1};
  CHECK_ERROR(lz_conv_general(lz_ones(x6, 6, LZ_FLOAT32), wg, NULL, NULL, NULL, NULL, NULL, 1, 0),
              "[lz_conv_general] input must have 3 to 5 dimensions");
  CHECK_ERROR(lz_conv2d(NULL, w, 1, 1, 0, 0, 1, 1, 1), "[lz_conv2d] argument 0 is NULL");
}

int main(void) {
  RUN(test_conv_general_table);
  RUN(test_conv_half);
  RUN(test_conv_named);
  RUN(test_conv_transpose);
  RUN(test_conv_strided);
  RUN(test_conv_large);
  RUN(test_conv_simd_vs_scalar);
  RUN(test_conv_out_of_memory);
  RUN(test_conv_empty);
  RUN(test_conv_refs);
  RUN(test_conv_errors);
  return lzt_summary();
}
