/* Op fuzz adapters: elementwise ops (include/lazuli/elementwise.h). */
#ifndef OP_FUZZ_ELEM_H
#define OP_FUZZ_ELEM_H

#include "op_fuzz_util.h"

/* result rules */
enum {
  R_KEEP,
  R_FLOAT,
  R_BOOL,
  R_ABS,
  R_REAL,
  R_PROMOTE,
  R_SHIFT,
  R_SUM,
  R_I32,
  R_U32,
  R_ACC,
  R_PROD
};
/* flags */
enum {
  F_CPLX = 1,       /* complex64 is supported (else it must be rejected) */
  F_NOBOOL = 2,     /* bool is rejected */
  F_INTONLY = 4,    /* integer and bool only */
  F_LOOSEBOOL = 8,  /* bool may be accepted or rejected (MLX is not explicit) */
  F_LOOSECPLX = 16, /* complex may be accepted or rejected */
  F_EMPTYERR = 32,  /* reducing an empty axis is an error (at build or evaluation) */
};

typedef lz_array *(*fz_f1)(lz_array *);
typedef lz_array *(*fz_f2)(lz_array *, lz_array *);

static lz_dtype fz_rule_dtype(int rule, lz_dtype d) {
  switch (rule) {
  case R_FLOAT:
    return fz_floaty(d);
  case R_BOOL:
    return LZ_BOOL;
  case R_ABS:
  case R_REAL:
    return d == LZ_COMPLEX64 ? LZ_FLOAT32 : d;
  case R_SHIFT: /* MLX: result_type, bool as uint8 */
    return d == LZ_BOOL ? LZ_UINT8 : d;
  case R_SUM:
    return d == LZ_BOOL ? LZ_INT32 : d;
  case R_ACC: /* sum and prod accumulate small integers (MLX): int32 / uint32 */
  case R_PROD:
    if (d == LZ_BOOL) return LZ_INT32;
    if (!fz_is_int(d) || lz_dtype_size(d) == 8) return d;
    return lz_dtype_is_signed(d) ? LZ_INT32 : LZ_UINT32;
  case R_I32:
    return LZ_INT32;
  case R_U32:
    return LZ_UINT32;
  default:
    return d;
  }
}
/* Whether a dtype is accepted by an op with these flags: 1 yes, 0 no, -1 either. */
static int fz_dtype_ok(int flags, lz_dtype d) {
  if (d == LZ_COMPLEX64) return (flags & F_LOOSECPLX) ? -1 : (flags & F_CPLX) ? 1 : 0;
  if (d == LZ_BOOL && (flags & F_LOOSEBOOL)) return -1;
  if (d == LZ_BOOL && (flags & F_NOBOOL)) return 0;
  if ((flags & F_INTONLY) && !fz_is_int(d) && d != LZ_BOOL) return 0;
  return 1;
}
/* Applies a dtype verdict: valid calls must build and evaluate, invalid ones must fail. */
static void fz_verdict(fz *z, int ok) {
  if (ok == 1) z->expect = FZ_OK, z->eval_ok = true;
  if (ok == 0) z->expect = FZ_FAIL;
}

static void ad_unary(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  fz_out(z, ((fz_f1)op->fn)(a));
  fz_expect(z, 0, fz_rule_dtype(op->rule, d), s, nd);
  fz_verdict(z, fz_dtype_ok(op->flags, d));
}

/* The second operand of a binary op: a random array that usually broadcasts against (s, nd),
 * sometimes a weak scalar (then the result dtype is not checked; *wint is a weak int's value). */
static lz_array *fz_operand(fz *z, lz_dtype d, const int *s, int nd, int *s2, int *nd2,
                            lz_dtype *d2, bool *weak, int64_t *wint) {
  *weak = fz_pct(z, 12);
  *wint = 0;
  if (*weak) {
    *nd2 = 0;
    int r = fz_below(&z->rng, 3);
    *d2 = r == 0 ? LZ_FLOAT32 : r == 1 ? LZ_INT32 : LZ_BOOL;
    fz_notef(z, " weak");
    return r == 0   ? lz_float(fz_value(z, LZ_FLOAT64, FZ_V_ANY))
           : r == 1 ? lz_int(*wint = fz_int(z, -3, 5))
                    : lz_bool(fz_pct(z, 50));
  }
  *nd2 = fz_shape_bcast(z, s, nd, s2);
  *d2 = fz_pct(z, 50) ? d : fz_dtype(z);
  return fz_array(z, *d2, s2, *nd2);
}

static void ad_binary(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], s2[LZ_MAX_NDIM], o[LZ_MAX_NDIM], nd, nd2;
  lz_dtype d = fz_dtype(z), d2;
  bool weak;
  int64_t wint;
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  lz_array *b = fz_operand(z, d, s, nd, s2, &nd2, &d2, &weak, &wint);
  bool swap = fz_pct(z, 30);
  fz_out(z, swap ? ((fz_f2)op->fn)(b, a) : ((fz_f2)op->fn)(a, b));
  int no = fz_bcast(s, nd, s2, nd2, o);
  lz_dtype p = lz_promote_types(d, d2);
  if (no < 0) {
    z->expect = FZ_FAIL;
    return;
  }
  if (weak) { /* the dtype follows the array (or float32 for a weak float and an integer) */
    if (d != LZ_COMPLEX64 && d2 != LZ_FLOAT32 && !(op->flags & F_INTONLY)) {
      fz_expect(z, 0, LZ_DTYPE_COUNT, o, no);
      fz_verdict(z, fz_dtype_ok(op->flags | F_LOOSEBOOL, d));
    }
    /* A negative weak int does not fit an unsigned array below 64 bits: an error (MLX). */
    if (d2 == LZ_INT32 && wint < 0 && fz_is_int(d) && !lz_dtype_is_signed(d) && d != LZ_UINT64)
      z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, fz_rule_dtype(op->rule, p), o, no);
  int ok = fz_dtype_ok(op->flags, p);
  if (op->flags & F_INTONLY) { /* both operands must be integer or bool */
    int o1 = fz_dtype_ok(op->flags, d), o2 = fz_dtype_ok(op->flags, d2);
    ok = (o1 == 0 || o2 == 0) ? 0 : ok;
  }
  if ((op->flags & F_LOOSECPLX) && (d == LZ_COMPLEX64 || d2 == LZ_COMPLEX64)) ok = -1;
  fz_verdict(z, ok);
}

static void ad_divmod(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], s2[LZ_MAX_NDIM], o[LZ_MAX_NDIM], nd, nd2;
  lz_dtype d = fz_dtype(z), d2;
  bool weak;
  int64_t wint;
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  lz_array *b = fz_operand(z, d, s, nd, s2, &nd2, &d2, &weak, &wint);
  lz_array *out[2] = {(lz_array *)&out, (lz_array *)&out}; /* must be overwritten */
  bool nullout = fz_pct(z, 3);
  int rc = lz_divmod(a, b, nullout ? NULL : out);
  if (nullout) out[0] = out[1] = NULL;
  fz_outs(z, rc, out, 2);
  if (nullout) {
    z->expect = FZ_FAIL;
    return;
  }
  int no = fz_bcast(s, nd, s2, nd2, o);
  if (no < 0) {
    z->expect = FZ_FAIL;
    return;
  }
  if (weak) {
    if (d2 == LZ_INT32 && wint < 0 && fz_is_int(d) && !lz_dtype_is_signed(d) && d != LZ_UINT64)
      z->expect = FZ_FAIL; /* a negative weak int does not fit: an error (MLX) */
    return;
  }
  lz_dtype p = lz_promote_types(d, d2);
  fz_expect(z, 0, p, o, no);
  fz_expect(z, 1, p, o, no);
  fz_verdict(z, fz_dtype_ok(F_LOOSEBOOL, p));
}

static void ad_where(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], s2[LZ_MAX_NDIM], s3[LZ_MAX_NDIM], o[LZ_MAX_NDIM], o2[LZ_MAX_NDIM], nd, nd2,
      nd3;
  lz_dtype dc = fz_pct(z, 60) ? LZ_BOOL : fz_dtype(z), dx = fz_dtype(z),
           dy = fz_pct(z, 50) ? dx : fz_dtype(z);
  lz_array *c = fz_rand(z, dc, s, &nd, 5);
  nd2 = fz_shape_bcast(z, s, nd, s2);
  lz_array *x = fz_array(z, dx, s2, nd2);
  nd3 = fz_shape_bcast(z, s, nd, s3);
  lz_array *y = fz_array(z, dy, s3, nd3);
  fz_out(z, lz_where(c, x, y));
  int no = fz_bcast(s, nd, s2, nd2, o);
  if (no >= 0) no = fz_bcast(o, no, s3, nd3, o2);
  if (no < 0) {
    z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, lz_promote_types(dx, dy), o2, no);
  fz_verdict(z, dc == LZ_COMPLEX64 ? -1 : 1);
}

static void ad_clip(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], s2[LZ_MAX_NDIM], s3[LZ_MAX_NDIM], o[LZ_MAX_NDIM], nd, nd2 = 0, nd3 = 0;
  lz_dtype d = fz_dtype(z), d2 = fz_pct(z, 60) ? d : fz_dtype(z), d3 = fz_pct(z, 60) ? d : d2;
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  int which = fz_below(&z->rng, 10); /* 0: no bound, 1-3: low only, 4-6: high only, 7-9 both */
  lz_array *lo = NULL, *hi = NULL;
  if (which >= 1 && (which <= 3 || which >= 7)) {
    nd2 = fz_shape_bcast(z, s, nd, s2);
    lo = fz_array_opt(z, d2, s2, nd2);
  }
  if (which >= 4) {
    nd3 = fz_shape_bcast(z, s, nd, s3);
    hi = fz_array_opt(z, d3, s3, nd3);
  }
  fz_out(z, lz_clip(a, lo, hi));
  int no = nd;
  memcpy(o, s, sizeof s);
  lz_dtype p = d;
  if (lo) no = no < 0 ? no : fz_bcast(o, no, s2, nd2, o), p = lz_promote_types(p, d2);
  if (hi) no = no < 0 ? no : fz_bcast(o, no, s3, nd3, o), p = lz_promote_types(p, d3);
  if (which == 0 || no < 0) {
    z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, p, o, no);
  fz_verdict(z, fz_dtype_ok(F_LOOSEBOOL, p));
}

static void ad_isclose(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], s2[LZ_MAX_NDIM], o[LZ_MAX_NDIM], nd, nd2;
  lz_dtype d = fz_dtype(z), d2 = fz_pct(z, 50) ? d : fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  nd2 = fz_shape_bcast(z, s, nd, s2);
  lz_array *b = fz_array(z, d2, s2, nd2);
  double rtol = fz_pct(z, 80) ? 1e-5 : fz_value(z, LZ_FLOAT64, FZ_V_ANY);
  double atol = fz_pct(z, 80) ? 1e-8 : fz_value(z, LZ_FLOAT64, FZ_V_ANY);
  bool en = fz_pct(z, 50);
  int no = fz_bcast(s, nd, s2, nd2, o);
  if (op->rule == 0) fz_out(z, lz_isclose(a, b, rtol, atol, en));
  if (op->rule == 1) fz_out(z, lz_allclose(a, b, rtol, atol, en));
  if (op->rule == 2) { /* different shapes are "not equal", never an error */
    fz_out(z, lz_array_equal(a, b, en));
    fz_expect(z, 0, LZ_BOOL, o, 0);
    fz_verdict(z, lz_promote_types(d, d2) == LZ_COMPLEX64 ? -1 : 1);
    return;
  }
  if (no < 0) {
    z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, LZ_BOOL, o, op->rule == 0 ? no : 0);
  fz_verdict(z, lz_promote_types(d, d2) == LZ_COMPLEX64 ? -1 : 1);
}

static void ad_round(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  int dec = fz_param(z, -4, 4);
  fz_notef(z, " decimals=%d", dec);
  fz_out(z, lz_round(a, dec));
  fz_expect(z, 0, d, s, nd);
  if (dec >= -10 && dec <= 10) fz_verdict(z, fz_dtype_ok(0, d));
}

static void ad_nan_to_num(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  double nan = fz_value(z, LZ_FLOAT64, FZ_V_ANY), pi = fz_value(z, LZ_FLOAT64, FZ_V_ANY),
         ni = fz_value(z, LZ_FLOAT64, FZ_V_ANY);
  fz_out(z, lz_nan_to_num(a, nan, fz_pct(z, 50) ? &pi : NULL, fz_pct(z, 50) ? &ni : NULL));
  fz_expect(z, 0, d, s, nd);
  fz_verdict(z, fz_dtype_ok(F_LOOSECPLX, d));
}

static void ad_astype(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z), t = fz_dtype_any(z, true);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  fz_notef(z, " ->%s", fz_dname(t));
  fz_out(z, lz_astype(a, t));
  if ((unsigned)t >= LZ_DTYPE_COUNT) {
    z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, t, s, nd);
  fz_verdict(z, d == LZ_COMPLEX64 && t != LZ_COMPLEX64 ? -1 : 1);
}

static void ad_view(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z), t = fz_dtype_any(z, true);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  fz_notef(z, " ->%s", fz_dname(t));
  fz_out(z, lz_view(a, t));
  if ((unsigned)t >= LZ_DTYPE_COUNT) {
    z->expect = FZ_FAIL;
    return;
  }
  size_t in = lz_dtype_size(d), out = lz_dtype_size(t);
  if (in != out) {
    if (nd == 0 || ((int64_t)s[nd - 1] * (int64_t)in) % (int64_t)out != 0) {
      z->expect = FZ_FAIL;
      return;
    }
    s[nd - 1] = (int)((int64_t)s[nd - 1] * (int64_t)in / (int64_t)out);
  }
  fz_expect(z, 0, t, s, nd);
  /* a bool view of arbitrary bytes holds values other than 0 and 1: nothing reads it here */
  fz_verdict(z, 1);
}

/* clang-format off */
static const fz_op fz_elem_ops[] = {
  FZ_OP("abs", ad_unary, lz_abs, R_ABS, F_CPLX),
  FZ_OP("negative", ad_unary, lz_negative, R_KEEP, F_CPLX | F_NOBOOL),
  FZ_OP("sign", ad_unary, lz_sign, R_KEEP, F_LOOSEBOOL),
  FZ_OP("square", ad_unary, lz_square, R_KEEP, F_CPLX | F_LOOSEBOOL),
  FZ_OP("floor", ad_unary, lz_floor, R_KEEP, 0),
  FZ_OP("ceil", ad_unary, lz_ceil, R_KEEP, 0),
  FZ_OP("trunc", ad_unary, lz_trunc, R_KEEP, 0),
  FZ_OP("sqrt", ad_unary, lz_sqrt, R_FLOAT, 0),
  FZ_OP("rsqrt", ad_unary, lz_rsqrt, R_FLOAT, 0),
  FZ_OP("reciprocal", ad_unary, lz_reciprocal, R_FLOAT, 0),
  FZ_OP("exp", ad_unary, lz_exp, R_FLOAT, 0),
  FZ_OP("expm1", ad_unary, lz_expm1, R_FLOAT, 0),
  FZ_OP("log", ad_unary, lz_log, R_FLOAT, 0),
  FZ_OP("log2", ad_unary, lz_log2, R_FLOAT, 0),
  FZ_OP("log10", ad_unary, lz_log10, R_FLOAT, 0),
  FZ_OP("log1p", ad_unary, lz_log1p, R_FLOAT, 0),
  FZ_OP("sin", ad_unary, lz_sin, R_FLOAT, 0),
  FZ_OP("cos", ad_unary, lz_cos, R_FLOAT, 0),
  FZ_OP("tan", ad_unary, lz_tan, R_FLOAT, 0),
  FZ_OP("arcsin", ad_unary, lz_arcsin, R_FLOAT, 0),
  FZ_OP("arccos", ad_unary, lz_arccos, R_FLOAT, 0),
  FZ_OP("arctan", ad_unary, lz_arctan, R_FLOAT, 0),
  FZ_OP("sinh", ad_unary, lz_sinh, R_FLOAT, 0),
  FZ_OP("cosh", ad_unary, lz_cosh, R_FLOAT, 0),
  FZ_OP("tanh", ad_unary, lz_tanh, R_FLOAT, 0),
  FZ_OP("arcsinh", ad_unary, lz_arcsinh, R_FLOAT, 0),
  FZ_OP("arccosh", ad_unary, lz_arccosh, R_FLOAT, 0),
  FZ_OP("arctanh", ad_unary, lz_arctanh, R_FLOAT, 0),
  FZ_OP("sigmoid", ad_unary, lz_sigmoid, R_FLOAT, 0),
  FZ_OP("erf", ad_unary, lz_erf, R_FLOAT, 0),
  FZ_OP("erfinv", ad_unary, lz_erfinv, R_FLOAT, 0),
  FZ_OP("degrees", ad_unary, lz_degrees, R_FLOAT, F_CPLX) /* a multiply, as in MLX */,
  FZ_OP("radians", ad_unary, lz_radians, R_FLOAT, F_CPLX),
  FZ_OP("isnan", ad_unary, lz_isnan, R_BOOL, 0),
  FZ_OP("isinf", ad_unary, lz_isinf, R_BOOL, 0),
  FZ_OP("isfinite", ad_unary, lz_isfinite, R_BOOL, 0),
  FZ_OP("isposinf", ad_unary, lz_isposinf, R_BOOL, 0),
  FZ_OP("isneginf", ad_unary, lz_isneginf, R_BOOL, 0),
  FZ_OP("conj", ad_unary, lz_conj, R_KEEP, F_CPLX),
  FZ_OP("conjugate", ad_unary, lz_conjugate, R_KEEP, F_CPLX),
  FZ_OP("real", ad_unary, lz_real, R_REAL, F_CPLX),
  FZ_OP("imag", ad_unary, lz_imag, R_REAL, F_CPLX),
  FZ_OP("stop_gradient", ad_unary, lz_stop_gradient, R_KEEP, F_CPLX),
  FZ_OP("logical_not", ad_unary, lz_logical_not, R_BOOL, F_LOOSECPLX),
  FZ_OP("bitwise_invert", ad_unary, lz_bitwise_invert, R_KEEP, F_INTONLY),
  FZ_OP("round", ad_round, lz_round, 0, 0),
  FZ_OP("nan_to_num", ad_nan_to_num, lz_nan_to_num, 0, 0),
  FZ_OP("astype", ad_astype, lz_astype, 0, 0),
  FZ_OP("view", ad_view, lz_view, 0, 0),
  FZ_OP("add", ad_binary, lz_add, R_PROMOTE, F_CPLX),
  FZ_OP("subtract", ad_binary, lz_subtract, R_PROMOTE, F_CPLX | F_LOOSEBOOL),
  FZ_OP("multiply", ad_binary, lz_multiply, R_PROMOTE, F_CPLX),
  FZ_OP("divide", ad_binary, lz_divide, R_FLOAT, F_CPLX),
  FZ_OP("maximum", ad_binary, lz_maximum, R_PROMOTE, 0),
  FZ_OP("minimum", ad_binary, lz_minimum, R_PROMOTE, 0),
  FZ_OP("floor_divide", ad_binary, lz_floor_divide, R_PROMOTE, F_LOOSEBOOL),
  FZ_OP("remainder", ad_binary, lz_remainder, R_PROMOTE, F_LOOSEBOOL),
  FZ_OP("power", ad_binary, lz_power, R_PROMOTE, F_LOOSEBOOL),
  FZ_OP("arctan2", ad_binary, lz_arctan2, R_FLOAT, 0),
  FZ_OP("logaddexp", ad_binary, lz_logaddexp, R_FLOAT, 0),
  FZ_OP("equal", ad_binary, lz_equal, R_BOOL, F_CPLX),
  FZ_OP("not_equal", ad_binary, lz_not_equal, R_BOOL, F_CPLX),
  FZ_OP("less", ad_binary, lz_less, R_BOOL, 0),
  FZ_OP("less_equal", ad_binary, lz_less_equal, R_BOOL, 0),
  FZ_OP("greater", ad_binary, lz_greater, R_BOOL, 0),
  FZ_OP("greater_equal", ad_binary, lz_greater_equal, R_BOOL, 0),
  FZ_OP("logical_and", ad_binary, lz_logical_and, R_BOOL, F_LOOSECPLX),
  FZ_OP("logical_or", ad_binary, lz_logical_or, R_BOOL, F_LOOSECPLX),
  FZ_OP("logical_xor", ad_binary, lz_logical_xor, R_BOOL, F_LOOSECPLX),
  FZ_OP("bitwise_and", ad_binary, lz_bitwise_and, R_PROMOTE, F_INTONLY),
  FZ_OP("bitwise_or", ad_binary, lz_bitwise_or, R_PROMOTE, F_INTONLY),
  FZ_OP("bitwise_xor", ad_binary, lz_bitwise_xor, R_PROMOTE, F_INTONLY),
  FZ_OP("left_shift", ad_binary, lz_left_shift, R_SHIFT, F_INTONLY),
  FZ_OP("right_shift", ad_binary, lz_right_shift, R_SHIFT, F_INTONLY),
  FZ_OP("divmod", ad_divmod, lz_divmod, 0, 0),
  FZ_OP("where", ad_where, lz_where, 0, 0),
  FZ_OP("clip", ad_clip, lz_clip, 0, 0),
  FZ_OP("isclose", ad_isclose, lz_isclose, 0, 0),
  FZ_OP("allclose", ad_isclose, lz_allclose, 1, 0),
  FZ_OP("array_equal", ad_isclose, lz_array_equal, 2, 0),
};
/* clang-format on */

#endif /* OP_FUZZ_ELEM_H */
