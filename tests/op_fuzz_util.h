/* Helpers of the op fuzz test (test_op_fuzz.c): a seeded PRNG, random shapes, axes, dtypes and
 * values, input arrays in random memory layouts (transposed, sliced with steps, flipped,
 * broadcast, lazy), shape arithmetic computed independently of the library, and the record of
 * one op call (its outputs and what the test expects of them). */
#ifndef OP_FUZZ_UTIL_H
#define OP_FUZZ_UTIL_H

#include <limits.h>
#include <stdint.h>

#include "core/internal.h" /* lz__store_f64 to write test values of every dtype */
#include "lz_test.h"

#define FZ_MAX_OUT 64
#define FZ_MAX_SIZE 512 /* elements of a random input */

enum { FZ_ANY, FZ_OK, FZ_FAIL }; /* what the test knows of a call: nothing, valid, invalid */

/* One op call: the random streams, its outputs and the expectations on them. */
typedef struct fz {
  uint64_t rng;      /* arguments and values: the same in the strided and the contiguous run */
  uint64_t lrng;     /* memory layouts only */
  bool contiguous;   /* the twin run: every input is a plain contiguous array */
  bool oom;          /* allocation-failure run: input builders may fail cleanly */
  bool strided;      /* some input of this call had a non-contiguous layout */
  int inputs;        /* fz_array calls so far */
  int null_at;       /* the fz_array call that returns NULL instead (-1: none) */
  bool null_pending; /* that NULL comes with an unrelated error already pending */
  bool null_given;   /* a NULL was handed to the op */
  bool builder_failed;
  const char *op;
  char note[512]; /* the arguments, for failure messages */
  int nout;
  int rc; /* 0 built, -1 failed */
  lz_array *out[FZ_MAX_OUT];
  bool exp_set[FZ_MAX_OUT];
  lz_dtype exp_dt[FZ_MAX_OUT]; /* LZ_DTYPE_COUNT: not checked */
  int exp_nd[FZ_MAX_OUT];
  int exp_shape[FZ_MAX_OUT][LZ_MAX_NDIM];
  int expect;      /* FZ_ANY, FZ_OK, FZ_FAIL */
  bool eval_ok;    /* evaluation must succeed too (no data-dependent error is possible) */
  bool no_compare; /* values may legitimately depend on the layout (e.g. partition order) */
  double tol;      /* extra relative tolerance of the layout comparison (reordered sums) */
  bool big;        /* some input value is huge: reordered float sums may differ entirely */
} fz;

/* ---- random numbers (splitmix64) --------------------------------------------------------- */

static inline uint64_t fz_next(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
/* Uniform in [0, n) (n > 0). */
static inline int fz_below(uint64_t *s, int n) { return (int)(fz_next(s) % (uint64_t)n); }
/* True with probability pct percent. */
static inline bool fz_pct(fz *z, int pct) { return fz_below(&z->rng, 100) < pct; }
static inline int fz_int(fz *z, int lo, int hi) { return lo + fz_below(&z->rng, hi - lo + 1); }
static inline double fz_unit(uint64_t *s) { return (double)(fz_next(s) >> 11) * 0x1.0p-53; }

static void fz_notef(fz *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fz_notef(fz *z, const char *fmt, ...) {
  size_t n = strlen(z->note);
  if (n + 1 >= sizeof z->note) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(z->note + n, sizeof z->note - n, fmt, ap);
  va_end(ap);
}

/* ---- dtypes ------------------------------------------------------------------------------ */

static inline bool fz_is_cplx(lz_dtype d) { return d == LZ_COMPLEX64; }
static inline bool fz_is_float(lz_dtype d) {
  return d == LZ_FLOAT16 || d == LZ_BFLOAT16 || d == LZ_FLOAT32 || d == LZ_FLOAT64;
}
static inline bool fz_is_int(lz_dtype d) { return d >= LZ_UINT8 && d <= LZ_INT64; }
/* The float dtype math gives: integers and bool give float32, floats keep theirs. */
static inline lz_dtype fz_floaty(lz_dtype d) {
  return (fz_is_float(d) || fz_is_cplx(d)) ? d : LZ_FLOAT32;
}
static const char *fz_dname(lz_dtype d) {
  static const char *n[] = {"b",   "u8",  "u16", "u32",  "u64", "i8",  "i16",
                            "i32", "i64", "f16", "bf16", "f32", "f64", "c64"};
  return (unsigned)d < LZ_DTYPE_COUNT ? n[d] : "BAD";
}
/* Any of the 14 dtypes, rarely an invalid one when `allow_bad`. */
static lz_dtype fz_dtype_any(fz *z, bool allow_bad) {
  if (allow_bad && fz_pct(z, 3)) return fz_pct(z, 50) ? LZ_DTYPE_COUNT : (lz_dtype)-1;
  return (lz_dtype)fz_below(&z->rng, LZ_DTYPE_COUNT);
}
/* A dtype, weighted toward the common float32/int32 but covering all 14. */
static lz_dtype fz_dtype(fz *z) {
  int r = fz_below(&z->rng, 100);
  if (r < 25) return LZ_FLOAT32;
  if (r < 35) return LZ_INT32;
  if (r < 42) return LZ_FLOAT64;
  return fz_dtype_any(z, false);
}
static lz_dtype fz_dtype_real_float(fz *z) {
  static const lz_dtype f[] = {LZ_FLOAT32, LZ_FLOAT32, LZ_FLOAT64, LZ_FLOAT16, LZ_BFLOAT16};
  if (fz_pct(z, 8)) return fz_dtype_any(z, false);
  return f[fz_below(&z->rng, 5)];
}
static lz_dtype fz_dtype_index(fz *z) {
  static const lz_dtype d[] = {LZ_INT32, LZ_INT32, LZ_INT64,  LZ_UINT32, LZ_INT16,
                               LZ_UINT8, LZ_INT8,  LZ_UINT64, LZ_UINT16};
  if (fz_pct(z, 6)) return fz_dtype_any(z, false); /* bool/float indices are errors */
  return d[fz_below(&z->rng, 9)];
}

/* ---- shapes ------------------------------------------------------------------------------ */

static int64_t fz_prod(const int *s, int nd) {
  int64_t n = 1;
  for (int i = 0; i < nd; i++) n *= s[i];
  return n;
}
static int fz_dim(fz *z) {
  int r = fz_below(&z->rng, 100);
  if (r < 6) return 0;
  if (r < 28) return 1;
  if (r < 36) return fz_int(z, 6, 40);
  return fz_int(z, 2, 5);
}
/* A random shape of at most maxnd dims and FZ_MAX_SIZE elements; returns ndim. */
static int fz_shape(fz *z, int *s, int maxnd) {
  static const int w[] = {8, 24, 30, 20, 11, 7}; /* percent for ndim 0..5 */
  int nd = 0, r = fz_below(&z->rng, 100), acc = 0;
  for (nd = 0; nd < 5; nd++) {
    acc += w[nd];
    if (r < acc) break;
  }
  if (nd > maxnd) nd = maxnd;
  for (int i = 0; i < nd; i++) s[i] = fz_dim(z);
  for (int i = 0; fz_prod(s, nd) > FZ_MAX_SIZE; i = (i + 1) % nd) s[i] = (s[i] + 1) / 2;
  return nd;
}
static int fz_shape_min(fz *z, int *s, int minnd, int maxnd) {
  int nd = fz_shape(z, s, maxnd);
  while (nd < minnd) s[nd++] = fz_int(z, 1, 4);
  for (int i = 0; fz_prod(s, nd) > FZ_MAX_SIZE; i = (i + 1) % nd) s[i] = (s[i] + 1) / 2;
  return nd;
}
/* A shape that usually broadcasts against s: fewer or more leading dims, some dims 1, and
 * now and then a dim that does not fit. */
static int fz_shape_bcast(fz *z, const int *s, int nd, int *o) {
  if (fz_pct(z, 8)) return fz_shape(z, o, 5);
  int drop = fz_pct(z, 30) ? fz_int(z, 0, nd) : 0, n = 0;
  if (nd < 5 && fz_pct(z, 15)) o[n++] = fz_int(z, 1, 3);
  for (int i = drop; i < nd; i++) {
    int r = fz_below(&z->rng, 100);
    o[n++] = r < 25 ? 1 : r < 28 ? fz_int(z, 0, 6) : s[i];
  }
  for (int i = 0; fz_prod(o, n) > FZ_MAX_SIZE; i = (i + 1) % n) o[i] = (o[i] + 1) / 2;
  return n;
}
/* NumPy broadcasting of two shapes, computed here independently of the library: the result's
 * ndim, or -1 if they do not broadcast. */
static int fz_bcast(const int *a, int na, const int *b, int nb, int *o) {
  int n = na > nb ? na : nb, t[2 * LZ_MAX_NDIM]; /* o may alias a or b */
  for (int i = 0; i < n; i++) {
    int da = i < n - na ? 1 : a[i - (n - na)], db = i < n - nb ? 1 : b[i - (n - nb)];
    if (da != db && da != 1 && db != 1) return -1;
    t[i] = da == 1 ? db : da;
  }
  memcpy(o, t, (size_t)n * sizeof(int));
  return n;
}
/* An axis for an array of nd dims: usually valid (either sign), sometimes out of range. */
static int fz_axis(fz *z, int nd) {
  int r = fz_below(&z->rng, 100);
  if (r < 8 || nd == 0) {
    static const int bad[] = {INT_MAX, INT_MIN, 5, -6, 16, -17};
    return r < 4   ? nd + fz_int(z, 0, 2)
           : r < 8 ? -nd - 1 - fz_int(z, 0, 2)
                   : bad[fz_below(&z->rng, 6)];
  }
  int a = fz_below(&z->rng, nd);
  return fz_pct(z, 35) ? a - nd : a;
}
/* Normalises an axis the way the library should: -1 if out of range. */
static int fz_norm_axis(int axis, int nd) {
  if (axis < -nd || axis >= nd) return -1;
  return axis < 0 ? axis + nd : axis;
}
/* A list of axes: usually distinct and valid, sometimes repeated or out of range. Returns
 * naxes; *valid says whether the test expects the list to be accepted. */
static int fz_axes(fz *z, int nd, int *axes, bool *valid) {
  int n = nd ? fz_int(z, 0, nd) : 0, perm[LZ_MAX_NDIM];
  for (int i = 0; i < nd; i++) perm[i] = i;
  for (int i = nd - 1; i > 0; i--) {
    int j = fz_below(&z->rng, i + 1), t = perm[i];
    perm[i] = perm[j], perm[j] = t;
  }
  for (int i = 0; i < n; i++) axes[i] = fz_pct(z, 35) ? perm[i] - nd : perm[i];
  *valid = true;
  int r = fz_below(&z->rng, 100);
  if (r < 8 && n > 0 && n < LZ_MAX_NDIM) { /* repeat an axis (maybe spelled negatively) */
    axes[n] = axes[0] < 0 ? axes[0] + nd : axes[0] - nd;
    if (fz_pct(z, 50)) axes[n] = axes[0];
    n++;
    *valid = false;
  } else if (r < 16 && n < LZ_MAX_NDIM) { /* an axis out of range */
    axes[n++] = fz_pct(z, 50) ? nd + fz_int(z, 0, 3) : -nd - 1 - fz_int(z, 0, 3);
    *valid = false;
  }
  return n;
}
/* A parameter that is usually small, sometimes negative, sometimes huge. */
static int fz_param(fz *z, int lo, int hi) {
  static const int wild[] = {-1, -2, INT_MIN, INT_MAX, INT_MAX / 2, 1 << 20, 65536, -65536};
  if (fz_pct(z, 10)) return wild[fz_below(&z->rng, 8)];
  return fz_int(z, lo, hi);
}

/* ---- values ------------------------------------------------------------------------------ */

enum { FZ_V_ANY, FZ_V_SMALL };

static double fz_value(fz *z, lz_dtype d, int kind) {
  uint64_t *s = &z->rng;
  if (d == LZ_BOOL) return (double)(fz_next(s) & 1);
  if (fz_is_int(d)) {
    bool sig = lz_dtype_is_signed(d);
    int bits = (int)lz_dtype_size(d) * 8;
    if (kind == FZ_V_ANY && fz_below(s, 100) < 12) {
      double mx = sig ? ldexp(1, bits - 1) - 1 : ldexp(1, bits) - 1;
      double mn = sig ? -ldexp(1, bits - 1) : 0;
      double e[] = {mx, mn, mx - 1, sig ? -1 : 1, 0};
      return e[fz_below(s, 5)];
    }
    return sig ? fz_below(s, 15) - 5 : fz_below(s, 10);
  }
  if (kind == FZ_V_ANY && fz_below(s, 100) < 15) {
    static const double e[] = {0.0,  -0.0,  1,     -1,  NAN, INFINITY, -INFINITY,
                               1e30, -1e30, 1e-30, 0.5, 2.5, -1.5,     3e38};
    return e[fz_below(s, 14)];
  }
  return (double)(fz_below(s, 129) - 64) / 16; /* exact in every float dtype */
}
/* n values of dtype d into buf. */
static void fz_fill(fz *z, void *buf, lz_dtype d, int64_t n, int kind) {
  size_t es = lz_dtype_size(d);
  for (int64_t i = 0; i < n; i++) {
    char *p = (char *)buf + i * (int64_t)es;
    double v = fz_value(z, d, kind);
    if (fabs(v) > 1e15) z->big = true;
    lz__store_f64(p, d, v);
    if (d == LZ_COMPLEX64) ((float *)p)[1] = (float)fz_value(z, LZ_FLOAT32, kind);
  }
}

/* ---- inputs in random layouts ------------------------------------------------------------ */

/* Records a failing input builder: a bug in the view ops, unless memory ran out on purpose. */
static void fz_builder_failed(fz *z, const char *what) {
  z->builder_failed = true;
  if (z->oom) return;
  lzt_checks++, lzt_failures++;
  fprintf(stderr, "op fuzz %s: building a %s input failed: %s [%s]\n", z->op, what, lz_last_error(),
          z->note);
}

/* The array of logical shape (s, nd) whose row-major elements are vals, built as
 * transpose(slice(base)) with random steps, offsets and axis order (all from z->lrng). */
static lz_array *fz_layout(fz *z, const void *vals, lz_dtype d, const int *s, int nd) {
  uint64_t *L = &z->lrng;
  size_t es = lz_dtype_size(d);
  int q[LZ_MAX_NDIM], ss[LZ_MAX_NDIM], B[LZ_MAX_NDIM], st[LZ_MAX_NDIM], sp[LZ_MAX_NDIM],
      step[LZ_MAX_NDIM];
  bool perm = nd > 1 && fz_below(L, 100) < 55, sliced = false;
  for (int i = 0; i < nd; i++) q[i] = i;
  for (int i = nd - 1; perm && i > 0; i--) {
    int j = fz_below(L, i + 1), t = q[i];
    q[i] = q[j], q[j] = t;
  }
  for (int i = 0; i < nd; i++) ss[q[i]] = s[i];
  for (int j = 0; j < nd; j++) {
    static const int steps[] = {1, 1, 1, 2, 3, -1, -1, -2};
    step[j] = fz_below(L, 100) < 60 ? steps[fz_below(L, 8)] : 1;
    int lo = fz_below(L, 2), hi = fz_below(L, 2), a = step[j] < 0 ? -step[j] : step[j];
    if (step[j] == 1 && fz_below(L, 100) < 70) lo = hi = 0;
    if (ss[j] == 0) {
      B[j] = fz_below(L, 3), st[j] = sp[j] = 0;
    } else {
      B[j] = lo + (ss[j] - 1) * a + 1 + hi;
      if (step[j] > 0) {
        st[j] = lo, sp[j] = lo + (ss[j] - 1) * step[j] + 1;
      } else {
        st[j] = B[j] - 1 - lo, sp[j] = st[j] + ss[j] * step[j];
        if (sp[j] < 0) sp[j] = INT_MIN; /* Python's rule: a negative stop counts from the end */
      }
    }
    if (step[j] != 1 || B[j] != ss[j]) sliced = true;
  }
  int64_t bn = fz_prod(B, nd), n = fz_prod(s, nd);
  char *base = malloc((size_t)(bn ? bn : 1) * es);
  for (int64_t i = 0; i < bn * (int64_t)es; i++) /* garbage the view must never read */
    base[i] = d == LZ_BOOL ? (char)(fz_next(L) & 1) : (char)fz_next(L);
  int64_t bstr[LZ_MAX_NDIM];
  for (int j = nd - 1, m = 1; j >= 0; m *= B[j], j--) bstr[j] = m;
  for (int64_t k = 0; k < n; k++) {
    int64_t r = k, off = 0;
    for (int i = nd - 1; i >= 0; i--) {
      int t = (int)(r % s[i]);
      r /= s[i];
      int j = q[i];
      off += (int64_t)(st[j] + t * step[j]) * bstr[j];
    }
    memcpy(base + off * (int64_t)es, (const char *)vals + k * (int64_t)es, es);
  }
  lz_array *x = lz_array_from_data(base, B, nd, d);
  free(base);
  if (x && sliced) x = lz_slice(x, st, sp, step, nd);
  if (x && perm) x = lz_transpose(x, q, nd);
  fz_notef(z, "%s%s", sliced ? "S" : "", perm ? "T" : "");
  return x;
}

/* A random input of shape (s, nd) and dtype d. Unless z->contiguous it may be a strided view,
 * a broadcast, or unevaluated; the values do not depend on the layout. `maybe_null`: this
 * input is required, so the fuzzer may hand the op NULL instead. */
static lz_array *fz_array_k(fz *z, lz_dtype d, const int *s, int nd, int kind, bool maybe_null) {
  int idx = z->inputs++;
  fz_notef(z, " %s(", fz_dname(d));
  for (int i = 0; i < nd; i++) fz_notef(z, i ? ",%d" : "%d", s[i]);
  fz_notef(z, ")");
  if (maybe_null && idx == z->null_at) {
    fz_notef(z, "NULL");
    z->null_given = true;
    if (z->null_pending) lz__error(LZ_ERROR_SHAPE, "lz_fuzz_marker", "an earlier failure");
    return NULL;
  }
  /* broadcast dims (main stream, so the twin run sees the same values) */
  int rs[LZ_MAX_NDIM];
  bool bc = nd > 0 && fz_pct(z, 15);
  for (int i = 0; i < nd; i++) rs[i] = bc && fz_pct(z, 50) ? 1 : s[i];
  int64_t rn = fz_prod(rs, nd), n = fz_prod(s, nd);
  size_t es = lz_dtype_size(d);
  char *vals = malloc((size_t)(rn ? rn : 1) * es);
  fz_fill(z, vals, d, rn, kind);
  int lay = fz_below(&z->lrng, 100);
  lz_array *x = NULL;
  if (z->contiguous || lay < 30 || nd == 0) {
    char *full = vals;
    if (bc) { /* expand the broadcast values */
      full = malloc((size_t)(n ? n : 1) * es);
      for (int64_t k = 0; k < n; k++) {
        int64_t r = k, src = 0, m = 1;
        for (int i = nd - 1; i >= 0; i--) {
          int t = (int)(r % s[i]);
          r /= s[i];
          if (rs[i] != 1) src += t * m;
          m *= rs[i];
        }
        memcpy(full + k * (int64_t)es, vals + src * (int64_t)es, es);
      }
    }
    x = lz_array_from_data(full, s, nd, d);
    if (full != vals) free(full);
  } else {
    z->strided = true;
    if (bc && rn == 1 && d != LZ_COMPLEX64 && d != LZ_INT64 && d != LZ_UINT64 &&
        fz_below(&z->lrng, 2)) {
      double v = lz__load_f64(vals, d);
      x = lz_full(s, nd, v, d);
      fz_notef(z, "F");
      bc = false;
    } else {
      x = fz_layout(z, vals, d, rs, nd);
    }
    if (x && bc) {
      x = lz_broadcast_to(x, s, nd);
      fz_notef(z, "B");
    }
    if (x && fz_below(&z->lrng, 100) < 15) {
      x = lz_stop_gradient(x); /* an unevaluated input */
      fz_notef(z, "L");
    } else if (x && fz_below(&z->lrng, 100) < 40) {
      if (lz_eval(x) != 0) x = NULL;
    }
  }
  free(vals);
  if (!x) {
    fz_builder_failed(z, "random");
    return NULL;
  }
  bool shape_ok = lz_array_ndim(x) == nd && lz_array_dtype(x) == d;
  for (int i = 0; shape_ok && i < nd; i++) shape_ok = lz_array_shape(x)[i] == s[i];
  if (!shape_ok && !z->oom) {
    lzt_checks++, lzt_failures++;
    fprintf(stderr, "op fuzz %s: a layout view has the wrong shape [%s]\n", z->op, z->note);
  }
  return x;
}
static lz_array *fz_array(fz *z, lz_dtype d, const int *s, int nd) {
  return fz_array_k(z, d, s, nd, FZ_V_ANY, true);
}
/* An input the op may legitimately receive as NULL (an optional argument): never NULL. */
static lz_array *fz_array_opt(fz *z, lz_dtype d, const int *s, int nd) {
  return fz_array_k(z, d, s, nd, FZ_V_ANY, false);
}
/* A random array of random shape (at most maxnd dims) and dtype. */
static lz_array *fz_rand(fz *z, lz_dtype d, int *s, int *nd, int maxnd) {
  *nd = fz_shape(z, s, maxnd);
  return fz_array(z, d, s, *nd);
}
/* An integer index array for an axis of length n: mostly in [-n, n), sometimes out of range
 * (an evaluation error). Its values come from the main stream like any input's. */
static lz_array *fz_index_k(fz *z, lz_dtype d, const int *s, int nd, int n, bool nonneg,
                            bool *in_range) {
  int64_t cnt = fz_prod(s, nd);
  bool bad = fz_pct(z, 10);
  if (in_range) *in_range = cnt == 0 || (!bad && n > 0);
  /* build through fz_array_k for the layout, then overwrite values: draw them first */
  double *v = malloc((size_t)(cnt ? cnt : 1) * sizeof(double));
  for (int64_t k = 0; k < cnt; k++) {
    v[k] = n > 0 ? fz_below(&z->rng, 2 * n) - n : 0;
    if (v[k] < 0 && (nonneg || !lz_dtype_is_signed(d))) v[k] += n;
  }
  if (bad && cnt > 0) {
    int64_t k = (int64_t)fz_below(&z->rng, (int)cnt);
    static const double far[] = {0, 1, 100, -100, 1e9};
    v[k] = fz_pct(z, 50) ? n + far[fz_below(&z->rng, 2)] : -n - 1 - far[fz_below(&z->rng, 5)];
    if (fz_pct(z, 30)) v[k] = far[2 + fz_below(&z->rng, 3)];
  }
  /* the values, then a random layout like any input's */
  char *buf = malloc((size_t)(cnt ? cnt : 1) * 16);
  for (int64_t k = 0; k < cnt; k++) lz__store_f64(buf + k * (int64_t)lz_dtype_size(d), d, v[k]);
  free(v);
  int idx = z->inputs++;
  fz_notef(z, " idx%s(", fz_dname(d));
  for (int i = 0; i < nd; i++) fz_notef(z, i ? ",%d" : "%d", s[i]);
  fz_notef(z, ")");
  lz_array *x = NULL;
  if (idx == z->null_at) {
    fz_notef(z, "NULL");
    z->null_given = true;
    if (z->null_pending) lz__error(LZ_ERROR_SHAPE, "lz_fuzz_marker", "an earlier failure");
    free(buf);
    return NULL;
  }
  if (!z->contiguous && nd > 0 && fz_below(&z->lrng, 100) < 50) {
    z->strided = true;
    x = fz_layout(z, buf, d, s, nd);
  } else {
    x = lz_array_from_data(buf, s, nd, d);
  }
  free(buf);
  if (!x) fz_builder_failed(z, "index");
  return x;
}
static lz_array *fz_index(fz *z, lz_dtype d, const int *s, int nd, int n, bool *in_range) {
  return fz_index_k(z, d, s, nd, n, false, in_range);
}

static char fz_sentinel_marker;
#define FZ_MARKER ((lz_array *)(void *)&fz_sentinel_marker)

/* ---- recording a call ---------------------------------------------------------------------- */

static void fz_out(fz *z, lz_array *r) {
  z->nout = 1;
  z->out[0] = r;
  z->rc = r ? 0 : -1;
}
static void fz_outs(fz *z, int rc, lz_array *const *outs, int n) {
  z->nout = n;
  z->rc = rc;
  for (int i = 0; i < n; i++) z->out[i] = outs[i];
}
/* Fills an outs array with a non-NULL marker: a failing op must overwrite it with NULL. */
static void fz_sentinel(lz_array **outs, int n) {
  for (int i = 0; i < n; i++) outs[i] = FZ_MARKER;
}
static void fz_expect(fz *z, int k, lz_dtype d, const int *s, int nd) {
  z->exp_set[k] = true;
  z->exp_dt[k] = d;
  z->exp_nd[k] = nd;
  for (int i = 0; i < nd; i++) z->exp_shape[k][i] = s[i];
}

/* ---- the table of ops --------------------------------------------------------------------- */

/* One public op: an adapter that draws its arguments and calls `fn` (cast back to its type),
 * with a family-specific result rule and flags. */
typedef void (*fz_fn)(void);
typedef struct fz_op {
  const char *name;
  void (*run)(fz *z, const struct fz_op *op);
  fz_fn fn;
  int rule, flags;
} fz_op;
#define FZ_OP(name, run, fn, rule, flags)                                                          \
  { name, run, (fz_fn)(fn), rule, flags }

#endif /* OP_FUZZ_UTIL_H */
