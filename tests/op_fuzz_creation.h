/* Op fuzz adapters: creation ops (include/lazuli/creation.h). */
#ifndef OP_FUZZ_CREATION_H
#define OP_FUZZ_CREATION_H

#include "op_fuzz_reduce.h"

/* A shape argument for creation: usually a valid random shape, sometimes negative dims,
 * dims whose product overflows, a wrong ndim or a NULL pointer. Returns the pointer to pass
 * and sets *nd; *valid says whether the test expects it accepted, *big that it is valid but
 * too large to evaluate in the fuzzer's memory limit. */
static const int *fz_shape_arg(fz *z, int *s, int *nd, bool *valid, bool *big) {
  *nd = fz_shape(z, s, 5);
  *valid = true, *big = false;
  int r = fz_below(&z->rng, 100);
  if (r < 5 && *nd > 0) {
    s[fz_below(&z->rng, *nd)] = -fz_int(z, 1, 3);
    *valid = false;
  } else if (r < 10) { /* a product that overflows 64 bits, or just a lot */
    *nd = fz_int(z, 1, 5);
    for (int i = 0; i < *nd; i++) s[i] = fz_pct(z, 70) ? INT_MAX : fz_int(z, 1, 3);
    double p = 1;
    for (int i = 0; i < *nd; i++) p *= s[i];
    *valid = p <= 7e16; /* the library's limit is 2^56 elements */
    *big = p > 1e6;
  } else if (r < 12) {
    *nd = fz_pct(z, 50) ? -1 : LZ_MAX_NDIM + 1;
    *valid = false;
    return s;
  } else if (r < 14 && *nd > 0) {
    *valid = false;
    return NULL;
  }
  fz_notef(z, " shape=(");
  for (int i = 0; i < *nd; i++) fz_notef(z, i ? ",%d" : "%d", s[i]);
  fz_notef(z, ")");
  return s;
}

/* full, zeros, ones: rule 0 full, 1 zeros/ones */
static void ad_full(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM + 1], nd;
  bool valid, big;
  const int *sp = fz_shape_arg(z, s, &nd, &valid, &big);
  lz_dtype d = fz_dtype_any(z, true);
  double v = fz_value(z, LZ_FLOAT64, FZ_V_ANY);
  fz_notef(z, " %s", fz_dname(d));
  if (op->rule == 0)
    fz_out(z, lz_full(sp, nd, v, d));
  else
    fz_out(z, ((lz_array * (*)(const int *, int, lz_dtype)) op->fn)(sp, nd, d));
  if (!valid || (unsigned)d >= LZ_DTYPE_COUNT) {
    z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, d, s, nd);
  fz_verdict(z, 1); /* a broadcast of one element: evaluating costs nothing */
}

static void ad_full_like(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  if (op->rule == 0)
    fz_out(z, lz_full_like(a, fz_value(z, LZ_FLOAT64, FZ_V_ANY)));
  else
    fz_out(z, ((fz_f1)op->fn)(a));
  fz_expect(z, 0, d, s, nd);
  fz_verdict(z, 1);
}

static void ad_arange(fz *z, const fz_op *op) {
  double start = fz_int(z, -5, 5), stop = fz_int(z, -10, 20),
         step = fz_pct(z, 70) ? 1 : fz_int(z, -3, 3);
  bool exact = true;
  int r = fz_below(&z->rng, 100);
  if (r < 10)
    start += 0.25, step = step ? step / 2 : 0.5, exact = false;
  else if (r < 16) { /* huge or non-finite */
    static const double w[] = {1e18, -1e18, 1e300, NAN, INFINITY, -INFINITY, 3e9, 1e-300};
    if (fz_pct(z, 50))
      stop = w[fz_below(&z->rng, 8)];
    else
      step = w[fz_below(&z->rng, 8)];
    exact = false;
  }
  lz_dtype d = fz_pct(z, 60) ? fz_dtype_real_float(z) : fz_dtype_any(z, true);
  fz_notef(z, " %g,%g,%g %s", start, stop, step, fz_dname(d));
  fz_out(z, lz_arange(start, stop, step, d));
  if (step == 0 || (unsigned)d >= LZ_DTYPE_COUNT || isnan(start) || isnan(stop) || isnan(step)) {
    z->expect = FZ_FAIL;
    return;
  }
  if (!exact) return;
  double q = ceil((stop - start) / step);
  int n = q > 0 ? (int)q : 0;
  fz_expect(z, 0, d, &n, 1);
  if (d != LZ_BOOL && d != LZ_COMPLEX64) fz_verdict(z, 1);
}

static void ad_linspace(fz *z, const fz_op *op) {
  double a = fz_value(z, LZ_FLOAT64, FZ_V_ANY), b = fz_value(z, LZ_FLOAT64, FZ_V_ANY);
  int num = fz_param(z, 0, 12);
  lz_dtype d = fz_pct(z, 60) ? fz_dtype_real_float(z) : fz_dtype_any(z, true);
  fz_notef(z, " %g,%g,%d %s", a, b, num, fz_dname(d));
  fz_out(z, lz_linspace(a, b, num, d));
  if (num < 0 || (unsigned)d >= LZ_DTYPE_COUNT) {
    z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, d, &num, 1);
  if (num <= 1000 && d != LZ_BOOL && d != LZ_COMPLEX64 && isfinite(a) && isfinite(b))
    fz_verdict(z, 1);
}

/* eye, tri (rule 0), identity (rule 1) */
static void ad_eye(fz *z, const fz_op *op) {
  int n = fz_param(z, 0, 6), m = fz_pct(z, 30) ? -1 : fz_param(z, 0, 6), k = fz_param(z, -3, 3);
  lz_dtype d = fz_dtype_any(z, true);
  if (op->rule == 1) m = n, k = 0;
  fz_notef(z, " n=%d m=%d k=%d %s", n, m, k, fz_dname(d));
  if (op->rule == 1)
    fz_out(z, lz_identity(n, d));
  else
    fz_out(z, ((lz_array * (*)(int, int, int, lz_dtype)) op->fn)(n, m, k, d));
  if (m < 0) m = n;
  if (n < 0 || (unsigned)d >= LZ_DTYPE_COUNT) {
    z->expect = FZ_FAIL;
    return;
  }
  int s[2] = {n, m};
  fz_expect(z, 0, d, s, 2);
  if ((int64_t)n * m <= 4096) fz_verdict(z, 1);
}

static void ad_tril(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  int k = fz_param(z, -3, 3);
  fz_notef(z, " k=%d", k);
  fz_out(z, ((fz_fi)op->fn)(a, k));
  if (nd < 2) {
    z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, d, s, nd);
  fz_verdict(z, fz_dtype_ok(F_LOOSECPLX, d));
}

static void ad_meshgrid(fz *z, const fz_op *op) {
  int n = fz_int(z, 0, 4), s[4][LZ_MAX_NDIM], nd[4], sz[4];
  lz_dtype d[4];
  lz_array *in[4], *outs[4];
  fz_sentinel(outs, 4);
  bool sparse = fz_pct(z, 40);
  for (int i = 0; i < n; i++) {
    d[i] = fz_dtype(z);
    nd[i] = fz_shape(z, s[i], 2);
    for (int j = 0; !sparse && fz_prod(s[i], nd[i]) > 6; j = (j + 1) % nd[i])
      s[i][j] = (s[i][j] + 1) / 2; /* keep the dense grid small */
    in[i] = fz_array(z, d[i], s[i], nd[i]);
    sz[i] = (int)fz_prod(s[i], nd[i]);
  }
  static const char *modes[] = {NULL, "xy", "ij", "ji", ""};
  const char *ix = modes[fz_pct(z, 90) ? fz_below(&z->rng, 3) : 3 + fz_below(&z->rng, 2)];
  fz_notef(z, " sparse=%d %s", sparse, ix ? ix : "NULL");
  bool nullouts = n > 0 && fz_pct(z, 3);
  int rc = lz_meshgrid(in, n, sparse, ix, nullouts ? NULL : outs);
  if (nullouts) memset(outs, 0, sizeof outs); /* nothing was written */
  fz_outs(z, rc, outs, n);
  bool xy = !ix || strcmp(ix, "xy") == 0;
  if (nullouts || (ix && strcmp(ix, "xy") && strcmp(ix, "ij"))) {
    z->expect = FZ_FAIL;
    return;
  }
  if (n == 0) return; /* MLX: an error or nothing */
  for (int i = 0; i < n; i++) {
    int o[4];
    for (int j = 0; j < n; j++) o[j] = sparse ? (i == j ? sz[j] : 1) : sz[j];
    if (xy && n >= 2) {
      int t = o[0];
      o[0] = o[1], o[1] = t;
    }
    fz_expect(z, i, d[i], o, n);
  }
  fz_verdict(z, 1);
}

static void ad_window(fz *z, const fz_op *op) {
  int m = fz_param(z, -2, 12);
  lz_dtype d = fz_pct(z, 80) ? fz_dtype_real_float(z) : fz_dtype_any(z, true);
  fz_notef(z, " m=%d %s", m, fz_dname(d));
  fz_out(z, ((lz_array * (*)(int, lz_dtype)) op->fn)(m, d));
  if ((unsigned)d >= LZ_DTYPE_COUNT) {
    z->expect = FZ_FAIL;
    return;
  }
  int n = m > 0 ? m : 0;
  fz_expect(z, 0, d, &n, 1);
  if (fz_is_float(d) && m <= 100000) fz_verdict(z, 1);
}

/* clang-format off */
static const fz_op fz_creation_ops[] = {
  FZ_OP("full", ad_full, lz_full, 0, 0),
  FZ_OP("zeros", ad_full, lz_zeros, 1, 0),
  FZ_OP("ones", ad_full, lz_ones, 1, 0),
  FZ_OP("full_like", ad_full_like, lz_full_like, 0, 0),
  FZ_OP("zeros_like", ad_full_like, lz_zeros_like, 1, 0),
  FZ_OP("ones_like", ad_full_like, lz_ones_like, 1, 0),
  FZ_OP("arange", ad_arange, lz_arange, 0, 0),
  FZ_OP("linspace", ad_linspace, lz_linspace, 0, 0),
  FZ_OP("eye", ad_eye, lz_eye, 0, 0),
  FZ_OP("tri", ad_eye, lz_tri, 0, 0),
  FZ_OP("identity", ad_eye, lz_identity, 1, 0),
  FZ_OP("tril", ad_tril, lz_tril, 0, 0),
  FZ_OP("triu", ad_tril, lz_triu, 0, 0),
  FZ_OP("meshgrid", ad_meshgrid, lz_meshgrid, 0, 0),
  FZ_OP("bartlett", ad_window, lz_bartlett, 0, 0),
  FZ_OP("blackman", ad_window, lz_blackman, 0, 0),
  FZ_OP("hamming", ad_window, lz_hamming, 0, 0),
  FZ_OP("hanning", ad_window, lz_hanning, 0, 0),
};
/* clang-format on */

#endif /* OP_FUZZ_CREATION_H */
