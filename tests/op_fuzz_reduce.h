/* Op fuzz adapters: reductions, scans, sorting (include/lazuli/reduce.h). */
#ifndef OP_FUZZ_REDUCE_H
#define OP_FUZZ_REDUCE_H

#include "op_fuzz_elem.h"

typedef lz_array *(*fz_fk)(lz_array *, bool);
typedef lz_array *(*fz_fik)(lz_array *, int, bool);
typedef lz_array *(*fz_fak)(lz_array *, const int *, int, bool);
typedef lz_array *(*fz_fkd)(lz_array *, bool, int);
typedef lz_array *(*fz_fikd)(lz_array *, int, bool, int);
typedef lz_array *(*fz_fakd)(lz_array *, const int *, int, bool, int);
typedef lz_array *(*fz_fscan)(lz_array *, int, bool, bool);
typedef lz_array *(*fz_fi)(lz_array *, int);
typedef lz_array *(*fz_fii)(lz_array *, int, int);

/* The shape of a reduction over the normalised axes `red` (a mask); returns its ndim. */
static int fz_reduced(const int *s, int nd, const bool *red, bool keep, int *o, bool *empty) {
  int n = 0;
  *empty = false;
  for (int i = 0; i < nd; i++) {
    if (red[i] && s[i] == 0) *empty = true;
    if (!red[i])
      o[n++] = s[i];
    else if (keep)
      o[n++] = 1;
  }
  return n;
}

/* The dtype of a reduction over the axes `red` of shape (s, nd): as fz_rule_dtype, except that
 * MLX returns the input itself for a sum over no axis and a product over size-1 axes only. */
static lz_dtype fz_red_dtype(int rule, lz_dtype d, const int *s, int nd, const bool *red) {
  bool any = false, ones = true;
  for (int i = 0; i < nd; i++) {
    if (!red[i]) continue;
    any = true;
    ones = ones && s[i] == 1;
  }
  if ((rule == R_ACC && !any) || (rule == R_PROD && ones)) return d;
  return fz_rule_dtype(rule, d);
}

/* Shared checks of the reductions: dtype verdict, empty reductions. */
static void fz_reduce_verdict(fz *z, const fz_op *op, lz_dtype d, bool empty) {
  int ok = fz_dtype_ok(op->flags, d);
  if (ok == 1 && empty && (op->flags & F_EMPTYERR)) ok = -1;
  fz_verdict(z, ok);
  z->tol = 1e-3;
}

/* rule R_*; the three forms share one adapter each */
static void ad_reduce_all(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], o[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  bool keep = fz_pct(z, 30), red[LZ_MAX_NDIM], empty;
  for (int i = 0; i < nd; i++) red[i] = true;
  fz_out(z, ((fz_fk)op->fn)(a, keep));
  int no = fz_reduced(s, nd, red, keep, o, &empty);
  fz_expect(z, 0, fz_red_dtype(op->rule, d, s, nd, red), o, no);
  fz_reduce_verdict(z, op, d, fz_prod(s, nd) == 0);
}
static void ad_reduce_axis(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], o[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  bool keep = fz_pct(z, 30), red[LZ_MAX_NDIM] = {0}, empty;
  int axis = fz_axis(z, nd), ax = fz_norm_axis(axis, nd);
  fz_notef(z, " axis=%d", axis);
  fz_out(z, ((fz_fik)op->fn)(a, axis, keep));
  if (ax < 0) {
    z->expect = FZ_FAIL;
    return;
  }
  red[ax] = true;
  int no = fz_reduced(s, nd, red, keep, o, &empty);
  fz_expect(z, 0, fz_red_dtype(op->rule, d, s, nd, red), o, no);
  fz_reduce_verdict(z, op, d, empty);
}
/* Draws axes; fills red; returns naxes and whether they are valid. NULL axes now and then. */
static const int *fz_reduce_axes(fz *z, int nd, int *axes, int *naxes, bool *red, bool *valid) {
  *naxes = fz_axes(z, nd, axes, valid);
  for (int i = 0; i < nd; i++) red[i] = false;
  for (int i = 0; *valid && i < *naxes; i++) red[fz_norm_axis(axes[i], nd)] = true;
  fz_notef(z, " axes=[");
  for (int i = 0; i < *naxes; i++) fz_notef(z, i ? ",%d" : "%d", axes[i]);
  fz_notef(z, "]");
  if (*naxes > 0 && fz_pct(z, 3)) {
    *valid = false;
    fz_notef(z, "NULL");
    return NULL;
  }
  if (fz_pct(z, 2)) {
    *naxes = -1;
    *valid = false;
  }
  return axes;
}
static void ad_reduce_axes(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], o[LZ_MAX_NDIM], axes[LZ_MAX_NDIM], nd, naxes;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  bool keep = fz_pct(z, 30), red[LZ_MAX_NDIM], empty, valid;
  const int *ap = fz_reduce_axes(z, nd, axes, &naxes, red, &valid);
  fz_out(z, ((fz_fak)op->fn)(a, ap, naxes, keep));
  if (!valid) {
    z->expect = FZ_FAIL;
    return;
  }
  int no = fz_reduced(s, nd, red, keep, o, &empty);
  fz_expect(z, 0, fz_red_dtype(op->rule, d, s, nd, red), o, no);
  fz_reduce_verdict(z, op, d, empty);
}

/* var and std: the three forms by op->rule (0 all, 1 axis, 2 axes) and a random ddof. */
static void ad_var(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], o[LZ_MAX_NDIM], axes[LZ_MAX_NDIM], nd, naxes;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  bool keep = fz_pct(z, 30), red[LZ_MAX_NDIM] = {0}, empty, valid = true;
  int ddof = fz_param(z, -1, 3);
  fz_notef(z, " ddof=%d", ddof);
  if (op->rule == 0) {
    for (int i = 0; i < nd; i++) red[i] = true;
    fz_out(z, ((fz_fkd)op->fn)(a, keep, ddof));
  } else if (op->rule == 1) {
    int axis = fz_axis(z, nd), ax = fz_norm_axis(axis, nd);
    fz_notef(z, " axis=%d", axis);
    fz_out(z, ((fz_fikd)op->fn)(a, axis, keep, ddof));
    valid = ax >= 0;
    if (valid) red[ax] = true;
  } else {
    const int *ap = fz_reduce_axes(z, nd, axes, &naxes, red, &valid);
    fz_out(z, ((fz_fakd)op->fn)(a, ap, naxes, keep, ddof));
  }
  if (!valid) {
    z->expect = FZ_FAIL;
    return;
  }
  int no = fz_reduced(s, nd, red, keep, o, &empty);
  fz_expect(z, 0, fz_floaty(d), o, no);
  if (ddof >= 0) fz_reduce_verdict(z, op, d, empty);
  z->tol = 1e-2;
}

/* argmax/argmin: op->rule 0 flattened, 1 along an axis */
static void ad_argreduce(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], o[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  bool keep = fz_pct(z, 30), red[LZ_MAX_NDIM] = {0}, empty;
  if (op->rule == 0) {
    fz_out(z, ((fz_fk)op->fn)(a, keep));
    for (int i = 0; i < nd; i++) red[i] = true;
  } else {
    int axis = fz_axis(z, nd), ax = fz_norm_axis(axis, nd);
    fz_notef(z, " axis=%d", axis);
    fz_out(z, ((fz_fik)op->fn)(a, axis, keep));
    if (ax < 0) {
      z->expect = FZ_FAIL;
      return;
    }
    red[ax] = true;
  }
  int no = fz_reduced(s, nd, red, keep, o, &empty);
  fz_expect(z, 0, LZ_UINT32, o, no);
  int ok = fz_dtype_ok(F_LOOSECPLX, d);
  fz_verdict(z, ok == 1 && (empty || fz_prod(s, nd) == 0) ? -1 : ok);
}

static void ad_trace(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], o[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  int off = fz_param(z, -3, 3), a1 = fz_axis(z, nd), a2 = fz_axis(z, nd);
  if (nd >= 2 && fz_pct(z, 60)) a1 = nd - 2, a2 = nd - 1;
  fz_notef(z, " off=%d axes=%d,%d", off, a1, a2);
  fz_out(z, lz_trace(a, off, a1, a2));
  int n1 = fz_norm_axis(a1, nd), n2 = fz_norm_axis(a2, nd), no = 0;
  if (n1 < 0 || n2 < 0 || n1 == n2) {
    z->expect = FZ_FAIL;
    return;
  }
  for (int i = 0; i < nd; i++)
    if (i != n1 && i != n2) o[no++] = s[i];
  fz_expect(z, 0, fz_rule_dtype(R_ACC, d), o, no);
  fz_verdict(z, fz_dtype_ok(F_LOOSECPLX, d));
}

/* softmax: op->rule 0 all axes, 1 one axis, 2 axes */
static void ad_softmax(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], axes[LZ_MAX_NDIM], nd, naxes;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  bool precise = fz_pct(z, 50), valid = true, red[LZ_MAX_NDIM];
  if (op->rule == 0) {
    fz_out(z, ((fz_fk)op->fn)(a, precise));
  } else if (op->rule == 1) {
    int axis = fz_axis(z, nd);
    fz_notef(z, " axis=%d", axis);
    fz_out(z, ((fz_fik)op->fn)(a, axis, precise));
    valid = fz_norm_axis(axis, nd) >= 0;
  } else {
    const int *ap = fz_reduce_axes(z, nd, axes, &naxes, red, &valid);
    fz_out(z, ((fz_fak)op->fn)(a, ap, naxes, precise));
  }
  if (!valid) {
    z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, fz_floaty(d), s, nd);
  fz_verdict(z, fz_dtype_ok(0, d));
  z->tol = 1e-3;
}

static void ad_scan(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  int axis = fz_axis(z, nd);
  bool rev = fz_pct(z, 40), incl = fz_pct(z, 70);
  fz_notef(z, " axis=%d rev=%d incl=%d", axis, rev, incl);
  fz_out(z, ((fz_fscan)op->fn)(a, axis, rev, incl));
  if (fz_norm_axis(axis, nd) < 0) {
    z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, fz_rule_dtype(op->rule, d), s, nd);
  fz_verdict(z, fz_dtype_ok(op->flags, d));
  z->tol = 1e-3;
}

static void ad_diff(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  int n = fz_param(z, 0, 3), axis = fz_axis(z, nd), ax = fz_norm_axis(axis, nd);
  fz_notef(z, " n=%d axis=%d", n, axis);
  fz_out(z, lz_diff(a, n, axis));
  if (n < 0 || nd == 0 || ax < 0) {
    z->expect = FZ_FAIL;
    return;
  }
  s[ax] = s[ax] > n ? s[ax] - n : 0;
  fz_expect(z, 0, d, s, nd);
  fz_verdict(z, fz_dtype_ok(F_LOOSECPLX, d));
}

/* sort, argsort: op->rule 0 flattened, 1 along an axis; op->flags & 1: indices */
static void ad_sort(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  lz_dtype rd = (op->flags & 1) ? LZ_UINT32 : d;
  if (op->rule == 0) {
    fz_out(z, ((fz_f1)op->fn)(a));
    int n = (int)fz_prod(s, nd);
    fz_expect(z, 0, rd, &n, 1);
  } else {
    int axis = fz_axis(z, nd);
    fz_notef(z, " axis=%d", axis);
    fz_out(z, ((fz_fi)op->fn)(a, axis));
    if (fz_norm_axis(axis, nd) < 0) {
      z->expect = FZ_FAIL;
      return;
    }
    fz_expect(z, 0, rd, s, nd);
  }
  fz_verdict(z, fz_dtype_ok(F_LOOSECPLX, d));
}

/* partition, argpartition, topk: op->rule 0 flattened, 1 along an axis; flags & 1: indices,
 * flags & 2: topk */
static void ad_partition(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  bool topk = op->flags & 2;
  lz_dtype rd = (op->flags & 1) ? LZ_UINT32 : d;
  int axis = 0, ax = 0, len;
  if (op->rule == 1) {
    axis = fz_axis(z, nd), ax = fz_norm_axis(axis, nd);
    len = ax >= 0 ? s[ax] : 1;
  } else {
    len = (int)fz_prod(s, nd);
  }
  int k = fz_pct(z, 85) ? fz_int(z, topk ? 0 : -len, len ? len - 1 + topk : 0) : fz_param(z, 0, 0);
  fz_notef(z, " k=%d axis=%d", k, axis);
  if (op->rule == 0)
    fz_out(z, ((fz_fi)op->fn)(a, k));
  else
    fz_out(z, ((fz_fii)op->fn)(a, k, axis));
  bool kok = topk ? (k >= 0 && k <= len) : (k >= -len && k < len);
  if (ax < 0 || !kok) {
    z->expect = FZ_FAIL;
    return;
  }
  if (op->rule == 0) nd = 1, s[0] = len, ax = 0;
  if (topk) s[ax] = k;
  fz_expect(z, 0, rd, s, nd);
  fz_verdict(z, fz_dtype_ok(F_LOOSECPLX, d));
  if (!topk) z->no_compare = true; /* only the kth element's place is promised */
}

static void ad_searchsorted(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], s2[LZ_MAX_NDIM], nd, nd2;
  lz_dtype d = fz_dtype(z), d2 = fz_pct(z, 60) ? d : fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, fz_pct(z, 85) ? 1 : 3);
  lz_array *v = fz_rand(z, d2, s2, &nd2, 4);
  fz_out(z, lz_searchsorted(a, v, fz_pct(z, 50)));
  if (nd != 1) {
    z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, LZ_UINT32, s2, nd2);
  fz_verdict(z, fz_dtype_ok(F_LOOSECPLX, lz_promote_types(d, d2)));
}

#define FZ_RED3(name, rule, flags)                                                                 \
  FZ_OP(#name, ad_reduce_all, lz_##name, rule, flags),                                             \
      FZ_OP(#name "_axis", ad_reduce_axis, lz_##name##_axis, rule, flags),                         \
      FZ_OP(#name "_axes", ad_reduce_axes, lz_##name##_axes, rule, flags)

/* clang-format off */
static const fz_op fz_reduce_ops[] = {
  FZ_RED3(sum, R_ACC, 0),
  FZ_RED3(prod, R_PROD, 0),
  FZ_RED3(max, R_KEEP, F_EMPTYERR),
  FZ_RED3(min, R_KEEP, F_EMPTYERR),
  FZ_RED3(all, R_BOOL, 0),
  FZ_RED3(any, R_BOOL, 0),
  FZ_RED3(count_nonzero, R_I32, 0),
  FZ_RED3(mean, R_FLOAT, 0),
  FZ_RED3(logsumexp, R_FLOAT, F_EMPTYERR),
  FZ_RED3(median, R_FLOAT, 0),
  FZ_OP("var", ad_var, lz_var, 0, 0),
  FZ_OP("var_axis", ad_var, lz_var_axis, 1, 0),
  FZ_OP("var_axes", ad_var, lz_var_axes, 2, 0),
  FZ_OP("std", ad_var, lz_std, 0, 0),
  FZ_OP("std_axis", ad_var, lz_std_axis, 1, 0),
  FZ_OP("std_axes", ad_var, lz_std_axes, 2, 0),
  FZ_OP("argmax", ad_argreduce, lz_argmax, 0, 0),
  FZ_OP("argmax_axis", ad_argreduce, lz_argmax_axis, 1, 0),
  FZ_OP("argmin", ad_argreduce, lz_argmin, 0, 0),
  FZ_OP("argmin_axis", ad_argreduce, lz_argmin_axis, 1, 0),
  FZ_OP("trace", ad_trace, lz_trace, 0, 0),
  FZ_OP("softmax", ad_softmax, lz_softmax, 0, 0),
  FZ_OP("softmax_axis", ad_softmax, lz_softmax_axis, 1, 0),
  FZ_OP("softmax_axes", ad_softmax, lz_softmax_axes, 2, 0),
  FZ_OP("cumsum", ad_scan, lz_cumsum, R_SUM, 0),
  FZ_OP("cumprod", ad_scan, lz_cumprod, R_KEEP, 0),
  FZ_OP("cummax", ad_scan, lz_cummax, R_KEEP, 0),
  FZ_OP("cummin", ad_scan, lz_cummin, R_KEEP, 0),
  FZ_OP("logcumsumexp", ad_scan, lz_logcumsumexp, R_FLOAT, 0),
  FZ_OP("diff", ad_diff, lz_diff, 0, 0),
  FZ_OP("sort", ad_sort, lz_sort, 0, 0),
  FZ_OP("sort_axis", ad_sort, lz_sort_axis, 1, 0),
  FZ_OP("argsort", ad_sort, lz_argsort, 0, 1),
  FZ_OP("argsort_axis", ad_sort, lz_argsort_axis, 1, 1),
  FZ_OP("partition", ad_partition, lz_partition, 0, 0),
  FZ_OP("partition_axis", ad_partition, lz_partition_axis, 1, 0),
  FZ_OP("argpartition", ad_partition, lz_argpartition, 0, 1),
  FZ_OP("argpartition_axis", ad_partition, lz_argpartition_axis, 1, 1),
  FZ_OP("topk", ad_partition, lz_topk, 0, 2),
  FZ_OP("topk_axis", ad_partition, lz_topk_axis, 1, 2),
  FZ_OP("searchsorted", ad_searchsorted, lz_searchsorted, 0, 0),
};
/* clang-format on */

#endif /* OP_FUZZ_REDUCE_H */
