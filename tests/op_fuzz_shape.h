/* Op fuzz adapters: shape ops (include/lazuli/shape.h). */
#ifndef OP_FUZZ_SHAPE_H
#define OP_FUZZ_SHAPE_H

#include "op_fuzz_reduce.h"

/* Python's slice length on an axis of `dim` (step != 0), computed in 64 bits. */
static int fz_slice_len(int64_t start, int64_t stop, int64_t step, int64_t dim) {
  if (step > 0) {
    start = start < 0 ? (start + dim < 0 ? 0 : start + dim) : (start > dim ? dim : start);
    stop = stop < 0 ? (stop + dim < 0 ? 0 : stop + dim) : (stop > dim ? dim : stop);
    return stop > start ? (int)((stop - start + step - 1) / step) : 0;
  }
  start = start < 0 ? (start + dim < -1 ? -1 : start + dim) : (start > dim - 1 ? dim - 1 : start);
  stop = stop < 0 ? (stop + dim < -1 ? -1 : stop + dim) : (stop > dim - 1 ? dim - 1 : stop);
  return start > stop ? (int)((start - stop - step - 1) / -step) : 0;
}

/* A target shape for reshape-like ops with `size` elements: a's dims merged, split and padded
 * with ones, sometimes with a -1, sometimes wrong. Returns ndim; *valid and the inferred shape
 * (in `o`) when valid. */
static int fz_reshape_target(fz *z, const int *s, int nd, int *t, int *o, bool *valid) {
  int n = 0;
  int64_t size = fz_prod(s, nd);
  for (int i = 0; i < nd && n < 8; i++) {
    int r = fz_below(&z->rng, 100), d = s[i];
    if (r < 20 && n > 0 && (int64_t)t[n - 1] * d < INT_MAX)
      t[n - 1] *= d; /* merge */
    else if (r < 40 && d >= 4 && d % 2 == 0)
      t[n++] = 2, t[n++] = d / 2; /* split */
    else
      t[n++] = d;
    if (fz_pct(z, 10) && n < 8) t[n++] = 1;
  }
  if (fz_pct(z, 25) && n > 0) t[fz_below(&z->rng, n)] = -1;
  if (fz_pct(z, 10) && n > 0) t[fz_below(&z->rng, n)] += fz_pct(z, 50) ? 1 : -2;
  if (fz_pct(z, 3) && n > 1) t[0] = t[1] = -1;
  int64_t known = 1;
  int inferred = -1, negs = 0;
  *valid = true;
  for (int i = 0; i < n; i++) {
    if (t[i] == -1)
      inferred = i, negs++;
    else if (t[i] < 0)
      *valid = false;
    else
      known *= t[i];
  }
  if (negs > 1) *valid = false;
  memcpy(o, t, (size_t)n * sizeof(int));
  if (*valid && inferred >= 0) {
    if (known == 0 || size % known != 0)
      *valid = false;
    else
      o[inferred] = (int)(size / known);
    if (known == 0) *valid = false; /* ambiguous: MLX and NumPy reject it */
  } else if (*valid && known != size) {
    *valid = false;
  }
  fz_notef(z, " target=(");
  for (int i = 0; i < n; i++) fz_notef(z, i ? ",%d" : "%d", t[i]);
  fz_notef(z, ")");
  return n;
}

static void ad_reshape(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], t[16], o[16], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  bool valid;
  int n = fz_reshape_target(z, s, nd, t, o, &valid);
  bool ambiguous = false;
  for (int i = 0; i < n; i++) ambiguous |= t[i] == -1 && fz_prod(s, nd) == 0;
  fz_out(z, lz_reshape(a, t, n));
  if (ambiguous) return;
  if (!valid) {
    z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, d, o, n);
  fz_verdict(z, 1);
}

static void ad_unflatten(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], t[16], o[16], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 4);
  int axis = fz_axis(z, nd), ax = fz_norm_axis(axis, nd);
  bool valid;
  int dim = ax >= 0 ? s[ax] : 4;
  int n = fz_reshape_target(z, &dim, 1, t, o, &valid);
  fz_notef(z, " axis=%d", axis);
  fz_out(z, lz_unflatten(a, axis, t, n));
  if (dim == 0 || n == 0) return;
  if (!valid || ax < 0) {
    z->expect = FZ_FAIL;
    return;
  }
  int e[LZ_MAX_NDIM + 16], ne = 0;
  for (int i = 0; i < nd; i++) {
    if (i == ax)
      for (int j = 0; j < n; j++) e[ne++] = o[j];
    else
      e[ne++] = s[i];
  }
  if (ne > LZ_MAX_NDIM) return;
  fz_expect(z, 0, d, e, ne);
  fz_verdict(z, 1);
}

static void ad_flatten(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], o[LZ_MAX_NDIM], nd, no = 0;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  int st = fz_pct(z, 20) ? 0 : fz_axis(z, nd), en = fz_pct(z, 20) ? -1 : fz_axis(z, nd);
  fz_notef(z, " %d..%d", st, en);
  fz_out(z, lz_flatten(a, st, en));
  if (nd == 0) {
    o[0] = 1;
    fz_expect(z, 0, d, o, 1);
    return;
  }
  int a1 = fz_norm_axis(st, nd), a2 = fz_norm_axis(en, nd);
  if (a1 < 0 || a2 < 0 || a1 > a2) {
    z->expect = FZ_FAIL;
    return;
  }
  for (int i = 0; i < nd; i++) {
    if (i <= a1 || i > a2)
      o[no++] = s[i];
    else
      o[no - 1] *= s[i];
  }
  fz_expect(z, 0, d, o, no);
  fz_verdict(z, 1);
}

static void ad_squeeze(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], o[LZ_MAX_NDIM], axes[LZ_MAX_NDIM], nd, no = 0, naxes;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  bool valid, all = fz_pct(z, 30), sq[LZ_MAX_NDIM] = {0};
  naxes = fz_axes(z, nd, axes, &valid);
  if (!all && valid && fz_pct(z, 70)) { /* keep to size-1 axes mostly */
    int m = 0;
    for (int i = 0; i < naxes; i++)
      if (s[fz_norm_axis(axes[i], nd)] == 1) axes[m++] = axes[i];
    naxes = m;
  }
  for (int i = 0; i < nd; i++) sq[i] = all && s[i] == 1;
  for (int i = 0; !all && valid && i < naxes; i++) {
    int ax = fz_norm_axis(axes[i], nd);
    if (s[ax] != 1) valid = false;
    sq[ax] = true;
  }
  fz_notef(z, all ? " all" : " %d axes", naxes);
  fz_out(z, lz_squeeze(a, all ? NULL : axes, all ? 0 : naxes));
  if (!valid && !all) {
    z->expect = FZ_FAIL;
    return;
  }
  for (int i = 0; i < nd; i++)
    if (!sq[i]) o[no++] = s[i];
  fz_expect(z, 0, d, o, no);
  fz_verdict(z, 1);
}

static void ad_expand_dims(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], o[LZ_MAX_NDIM], axes[LZ_MAX_NDIM], nd, naxes = 0;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 4);
  int want = fz_int(z, 0, 3), rn = nd + want; /* the result has nd + naxes dims */
  bool valid = true, ins[LZ_MAX_NDIM] = {0};
  for (int i = 0; i < want; i++) {
    int ax, k;
    do ax = fz_int(z, -rn, rn - 1), k = fz_norm_axis(ax, rn);
    while (k >= 0 && k < LZ_MAX_NDIM && ins[k] && fz_pct(z, 95));
    if (k < 0 || k >= LZ_MAX_NDIM) continue; /* cannot happen: ax is drawn in range */
    if (ins[k]) valid = false;                 /* repeated */
    ins[k] = true;
    axes[naxes++] = ax;
  }
  if (naxes > 0 && fz_pct(z, 6)) axes[0] = fz_pct(z, 50) ? rn : -rn - 1, valid = false;
  fz_notef(z, " %d axes", naxes);
  fz_out(z, lz_expand_dims(a, axes, naxes));
  if (!valid || rn > LZ_MAX_NDIM) {
    z->expect = FZ_FAIL;
    return;
  }
  for (int i = 0, j = 0; i < rn; i++) o[i] = ins[i] ? 1 : s[j++];
  fz_expect(z, 0, d, o, rn);
  fz_verdict(z, 1);
}

static void ad_atleast(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], o[LZ_MAX_NDIM], nd, no;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  fz_out(z, ((fz_f1)op->fn)(a));
  memcpy(o, s, sizeof s);
  no = nd;
  if (nd < op->rule) {
    if (nd == 0)
      no = op->rule, o[0] = o[1] = o[2] = 1;
    else if (nd == 1 && op->rule == 2)
      no = 2, o[0] = 1, o[1] = s[0];
    else if (nd == 1)
      no = 3, o[0] = 1, o[1] = s[0], o[2] = 1;
    else
      no = 3, o[2] = 1;
  }
  fz_expect(z, 0, d, o, no);
  fz_verdict(z, 1);
}

static void ad_transpose(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], o[LZ_MAX_NDIM], axes[LZ_MAX_NDIM + 1], nd, naxes;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  bool valid, rev = fz_pct(z, 20);
  naxes = fz_axes(z, nd, axes, &valid);
  if (valid && fz_pct(z, 80)) { /* a full permutation */
    naxes = nd;
    for (int i = 0; i < nd; i++) axes[i] = i;
    for (int i = nd - 1; i > 0; i--) {
      int j = fz_below(&z->rng, i + 1), t = axes[i];
      axes[i] = axes[j], axes[j] = t;
    }
    if (nd && fz_pct(z, 30)) axes[0] -= nd;
  }
  if (naxes != nd) valid = false;
  fz_out(z, lz_transpose(a, rev ? NULL : axes, rev ? 0 : naxes));
  if (rev) {
    for (int i = 0; i < nd; i++) o[i] = s[nd - 1 - i];
  } else if (!valid) {
    z->expect = FZ_FAIL;
    return;
  } else {
    for (int i = 0; i < nd; i++) o[i] = s[fz_norm_axis(axes[i], nd)];
  }
  fz_expect(z, 0, d, o, nd);
  fz_verdict(z, 1);
}

/* swapaxes (rule 0), moveaxis (rule 1) */
static void ad_swapaxes(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], o[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  int x = fz_axis(z, nd), y = fz_axis(z, nd), nx = fz_norm_axis(x, nd), ny = fz_norm_axis(y, nd);
  fz_notef(z, " %d,%d", x, y);
  fz_out(z, ((fz_fii)op->fn)(a, x, y));
  if (nx < 0 || ny < 0) {
    z->expect = FZ_FAIL;
    return;
  }
  memcpy(o, s, sizeof s);
  if (op->rule == 0) {
    o[nx] = s[ny], o[ny] = s[nx];
  } else {
    int rest[LZ_MAX_NDIM], m = 0;
    for (int i = 0; i < nd; i++)
      if (i != nx) rest[m++] = s[i];
    for (int i = 0, j = 0; i < nd; i++) o[i] = i == ny ? s[nx] : rest[j++];
  }
  fz_expect(z, 0, d, o, nd);
  fz_verdict(z, 1);
}

static void ad_broadcast_to(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], t[LZ_MAX_NDIM], o[LZ_MAX_NDIM], nd, nt;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 4);
  nt = fz_shape_bcast(z, s, nd, t);
  for (int i = 0; i < nt; i++) /* the target has no 1 where a has more */
    if (t[i] == 1 && fz_pct(z, 70)) t[i] = i >= nt - nd ? s[i - (nt - nd)] : 1;
  bool valid =
      nt >= nd && fz_bcast(s, nd, t, nt, o) == nt && memcmp(o, t, (size_t)nt * sizeof(int)) == 0;
  if (nt > 0 && fz_pct(z, 3)) t[0] = -3, valid = false;
  fz_out(z, lz_broadcast_to(a, t, nt));
  if (!valid) {
    z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, d, t, nt);
  fz_verdict(z, 1);
}

static void ad_broadcast_arrays(fz *z, const fz_op *op) {
  int n = fz_int(z, 1, 4), s[4][LZ_MAX_NDIM], nd[4], o[LZ_MAX_NDIM], no;
  lz_dtype d[4];
  lz_array *in[4], *outs[4];
  fz_sentinel(outs, 4);
  d[0] = fz_dtype(z);
  in[0] = fz_rand(z, d[0], s[0], &nd[0], 4);
  no = nd[0];
  memcpy(o, s[0], sizeof o);
  for (int i = 1; i < n; i++) {
    d[i] = fz_dtype(z);
    nd[i] = fz_shape_bcast(z, s[0], nd[0], s[i]);
    in[i] = fz_array(z, d[i], s[i], nd[i]);
    if (no >= 0) no = fz_bcast(o, no, s[i], nd[i], o);
  }
  fz_outs(z, lz_broadcast_arrays(in, n, outs), outs, n);
  if (no < 0) {
    z->expect = FZ_FAIL;
    return;
  }
  for (int i = 0; i < n; i++) fz_expect(z, i, d[i], o, no);
  fz_verdict(z, 1);
}

static void ad_slice(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], o[LZ_MAX_NDIM], st[LZ_MAX_NDIM], sp[LZ_MAX_NDIM], step[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  bool valid = true, nostep = fz_pct(z, 25);
  for (int i = 0; i < nd; i++) {
    st[i] = fz_pct(z, 20) ? fz_param(z, 0, 0) : fz_int(z, -s[i] - 2, s[i] + 2);
    sp[i] = fz_pct(z, 20) ? fz_param(z, 0, 0) : fz_int(z, -s[i] - 2, s[i] + 2);
    step[i] = nostep ? 1 : fz_pct(z, 15) ? fz_param(z, -3, 3) : fz_int(z, -3, 3);
    if (step[i] == 0)
      valid = false;
    else
      o[i] = fz_slice_len(st[i], sp[i], step[i], s[i]);
    fz_notef(z, " %d:%d:%d", st[i], sp[i], step[i]);
  }
  int n = nd;
  if (fz_pct(z, 4)) n = nd + 1, valid = false;
  fz_out(z, lz_slice(a, st, sp, nostep ? NULL : step, n));
  if (!valid) {
    z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, d, o, nd);
  fz_verdict(z, 1);
}

static void ad_flip(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], axes[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  bool valid, all = fz_pct(z, 25);
  int naxes = fz_axes(z, nd, axes, &valid);
  fz_out(z, lz_flip(a, all ? NULL : axes, all ? 0 : naxes));
  for (int i = 0; !all && i < naxes; i++)
    if (fz_norm_axis(axes[i], nd) < 0) {
      z->expect = FZ_FAIL;
      return;
    }
  fz_expect(z, 0, d, s, nd);
  if (valid || all) fz_verdict(z, 1);
}

/* diagonal (rule 0), diag (rule 1) */
static void ad_diagonal(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], o[LZ_MAX_NDIM], nd, no = 0;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, op->rule ? 3 : 5);
  int off = fz_param(z, -3, 3);
  if (op->rule == 1) {
    fz_notef(z, " k=%d", off);
    fz_out(z, lz_diag(a, off));
    int64_t k = off < 0 ? -(int64_t)off : off;
    if (nd == 1) {
      if ((s[0] + k) * (s[0] + k) > 1 << 22) return; /* too large: an error or an OOM */
      o[0] = o[1] = (int)(s[0] + k);
      fz_expect(z, 0, d, o, 2);
      fz_verdict(z, 1);
    } else if (nd == 2) {
      int64_t len =
          off >= 0 ? (s[0] < s[1] - k ? s[0] : s[1] - k) : (s[0] - k < s[1] ? s[0] - k : s[1]);
      o[0] = len > 0 ? (int)len : 0;
      fz_expect(z, 0, d, o, 1);
      fz_verdict(z, 1);
    } else {
      z->expect = FZ_FAIL;
    }
    return;
  }
  int a1 = fz_axis(z, nd), a2 = fz_axis(z, nd);
  if (nd >= 2 && fz_pct(z, 50)) a1 = 0, a2 = 1;
  int n1 = fz_norm_axis(a1, nd), n2 = fz_norm_axis(a2, nd);
  fz_notef(z, " off=%d axes=%d,%d", off, a1, a2);
  fz_out(z, lz_diagonal(a, off, a1, a2));
  if (n1 < 0 || n2 < 0 || n1 == n2) {
    z->expect = FZ_FAIL;
    return;
  }
  for (int i = 0; i < nd; i++)
    if (i != n1 && i != n2) o[no++] = s[i];
  int64_t k = off, d1 = s[n1], d2 = s[n2];
  int64_t len = k >= 0 ? (d1 < d2 - k ? d1 : d2 - k) : (d1 + k < d2 ? d1 + k : d2);
  o[no++] = len > 0 ? (int)len : 0;
  fz_expect(z, 0, d, o, no);
  fz_verdict(z, 1);
}

static void ad_as_strided(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], t[LZ_MAX_NDIM], nd, nt = fz_int(z, 0, 4);
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 4);
  int64_t size = fz_prod(s, nd), st[LZ_MAX_NDIM], off = fz_pct(z, 90) ? fz_int(z, 0, 3) : -1;
  int64_t lo = off, hi = off;
  for (int i = 0; i < nt; i++) {
    t[i] = fz_int(z, 0, 4);
    st[i] = fz_pct(z, 10) ? -fz_int(z, 1, 2) : fz_pct(z, 5) ? INT64_MAX / 2 : fz_int(z, 0, 3);
    if (t[i] > 1 && st[i] > 0) hi += st[i] > INT64_MAX / 8 ? INT64_MAX / 8 : (t[i] - 1) * st[i];
    if (t[i] > 0 && st[i] < 0) lo += (t[i] - 1) * st[i];
  }
  bool empty = fz_prod(t, nt) == 0;
  fz_notef(z, " nt=%d off=%lld", nt, (long long)off);
  fz_out(z, lz_as_strided(a, t, nt, st, off));
  if (empty) return;
  if (lo < 0 || hi >= size) {
    z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, d, t, nt);
  fz_verdict(z, 1);
}

static void ad_contiguous(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  fz_out(z, lz_contiguous(a));
  fz_expect(z, 0, d, s, nd);
  fz_verdict(z, 1);
}

/* split (rule 0), split_indices (rule 1), unstack (rule 2) */
static void ad_split(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], nd, idx[6];
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 4);
  lz_array *outs[FZ_MAX_OUT];
  fz_sentinel(outs, FZ_MAX_OUT);
  int axis = fz_axis(z, nd), ax = fz_norm_axis(axis, nd), dim = ax >= 0 ? s[ax] : 0, n = 0;
  fz_notef(z, " axis=%d", axis);
  if (op->rule == 0) {
    int sec = fz_pct(z, 10) ? fz_int(z, -1, 0) : fz_int(z, 1, 6);
    if (fz_pct(z, 50) && dim > 0 && dim <= FZ_MAX_OUT) sec = dim; /* one per element */
    fz_notef(z, " sections=%d", sec);
    fz_outs(z, lz_split(a, sec, axis, outs), outs, sec > 0 ? sec : 0);
    if (ax < 0 || sec <= 0 || dim % sec) {
      z->expect = FZ_FAIL;
      return;
    }
    for (int k = 0; k < sec; k++) {
      int o[LZ_MAX_NDIM];
      memcpy(o, s, sizeof o);
      o[ax] = dim / sec;
      fz_expect(z, k, d, o, nd);
    }
  } else if (op->rule == 1) {
    n = fz_int(z, 0, 5);
    for (int i = 0; i < n; i++)
      idx[i] = fz_pct(z, 10) ? fz_param(z, 0, 0) : fz_int(z, -dim - 1, dim + 1);
    fz_notef(z, " %d indices", n);
    fz_outs(z, lz_split_indices(a, n ? idx : NULL, n, axis, outs), outs, n + 1);
    if (ax < 0) {
      z->expect = FZ_FAIL;
      return;
    }
    for (int k = 0; k <= n; k++) {
      int o[LZ_MAX_NDIM];
      memcpy(o, s, sizeof o);
      o[ax] = fz_slice_len(k ? idx[k - 1] : 0, k < n ? idx[k] : INT_MAX, 1, dim);
      fz_expect(z, k, d, o, nd);
    }
  } else {
    if (dim > FZ_MAX_OUT) return;
    fz_outs(z, lz_unstack(a, axis, outs), outs, ax >= 0 && a ? dim : 0); /* NULL a: unknown */
    if (ax < 0) {
      z->expect = FZ_FAIL;
      return;
    }
    for (int k = 0; k < dim; k++) {
      int o[LZ_MAX_NDIM], no = 0;
      for (int i = 0; i < nd; i++)
        if (i != ax) o[no++] = s[i];
      fz_expect(z, k, d, o, no);
    }
  }
  fz_verdict(z, 1);
}

/* concatenate (rule 0), stack (rule 1) */
static void ad_concat(fz *z, const fz_op *op) {
  int n = fz_int(z, 1, 4), s[4][LZ_MAX_NDIM], nd, o[LZ_MAX_NDIM];
  lz_dtype d[4], p;
  lz_array *in[4];
  bool valid = true;
  nd = fz_shape(z, s[0], 4);
  int axis = fz_axis(z, nd + op->rule), ax = fz_norm_axis(axis, nd + op->rule);
  p = d[0] = fz_dtype(z);
  in[0] = fz_array(z, d[0], s[0], nd);
  for (int i = 1; i < n; i++) {
    memcpy(s[i], s[0], sizeof s[0]);
    if (op->rule == 0 && ax >= 0 && fz_pct(z, 60)) s[i][ax] = fz_int(z, 0, 4);
    if (fz_pct(z, 6) && nd > 0) s[i][fz_below(&z->rng, nd)] += 1;
    d[i] = fz_pct(z, 60) ? d[0] : fz_dtype(z);
    p = lz_promote_types(p, d[i]);
    in[i] = fz_array(z, d[i], s[i], nd);
  }
  fz_notef(z, " n=%d axis=%d", n, axis);
  fz_out(z, op->rule ? lz_stack(in, n, axis) : lz_concatenate(in, n, axis));
  if (ax < 0 || (op->rule == 0 && nd == 0)) {
    z->expect = FZ_FAIL;
    return;
  }
  int cat = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < nd; j++) {
      if (j == ax && op->rule == 0) continue;
      if (s[i][j] != s[0][j]) valid = false;
    }
  if (!valid) {
    z->expect = FZ_FAIL;
    return;
  }
  for (int i = 0; op->rule == 0 && i < n; i++) cat += s[i][ax];
  if (op->rule == 0) {
    memcpy(o, s[0], sizeof o);
    o[ax] = cat;
  } else {
    for (int i = 0, j = 0; i <= nd; i++) o[i] = i == ax ? n : s[0][j++];
  }
  fz_expect(z, 0, p, o, nd + op->rule);
  fz_verdict(z, 1);
}

static void ad_tile(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], r[6], o[LZ_MAX_NDIM], nd, nr = fz_int(z, 0, 5);
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 4);
  bool valid = true;
  for (int i = 0; i < nr; i++) {
    r[i] = fz_pct(z, 90) ? fz_int(z, 0, 3) : fz_param(z, 0, 3);
    if (r[i] < 0) valid = false;
    fz_notef(z, i ? ",%d" : " reps=%d", r[i]);
  }
  fz_out(z, lz_tile(a, nr ? r : NULL, nr));
  if (!valid) {
    z->expect = FZ_FAIL;
    return;
  }
  int no = nd > nr ? nd : nr;
  double total = 1;
  bool wide = false;
  for (int i = 0; i < no; i++) {
    int64_t sd = i < no - nd ? 1 : s[i - (no - nd)], rr = i < no - nr ? 1 : r[i - (no - nr)];
    total *= (double)(sd * rr);
    o[i] = sd * rr > INT_MAX ? -1 : (int)(sd * rr);
    wide |= sd * rr > INT_MAX;
  }
  if (wide) { /* a dim that does not fit an int */
    z->expect = FZ_FAIL;
    return;
  }
  if (total > 1 << 20) return; /* an error or an OOM, both clean */
  fz_expect(z, 0, d, o, no);
  fz_verdict(z, 1);
}

/* repeat (rule 0), repeat_flat (rule 1) */
static void ad_repeat(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 4);
  int rep = fz_pct(z, 90) ? fz_int(z, 0, 3) : fz_param(z, 0, 3);
  int axis = op->rule ? 0 : fz_axis(z, nd), ax = fz_norm_axis(axis, nd);
  fz_notef(z, " repeats=%d axis=%d", rep, axis);
  fz_out(z, op->rule ? lz_repeat_flat(a, rep) : lz_repeat(a, rep, axis));
  if (rep < 0 || (op->rule == 0 && ax < 0)) {
    z->expect = FZ_FAIL;
    return;
  }
  if (op->rule) s[0] = (int)fz_prod(s, nd), nd = 1, ax = 0;
  double total = (double)fz_prod(s, nd) * rep;
  if (total > 1 << 20 || (double)s[ax] * rep > INT_MAX) return;
  s[ax] *= rep;
  fz_expect(z, 0, d, s, nd);
  fz_verdict(z, 1);
}

static void ad_pad(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], axes[LZ_MAX_NDIM], lo[LZ_MAX_NDIM], hi[LZ_MAX_NDIM], nd, naxes;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 4);
  bool valid, all = fz_pct(z, 40), big = false;
  naxes = all ? nd : fz_axes(z, nd, axes, &valid);
  if (all) valid = true;
  for (int i = 0; i < naxes; i++) {
    lo[i] = fz_pct(z, 92) ? fz_int(z, 0, 2) : fz_param(z, 0, 2);
    hi[i] = fz_pct(z, 92) ? fz_int(z, 0, 2) : fz_param(z, 0, 2);
    if (lo[i] < 0 || hi[i] < 0) valid = false;
    if (lo[i] > 64 || hi[i] > 64) big = true;
  }
  static const char *modes[] = {NULL, "constant", "edge", "reflect"};
  const char *mode = modes[fz_pct(z, 95) ? fz_below(&z->rng, 3) : 3];
  fz_notef(z, " %s %d axes", mode ? mode : "NULL", naxes);
  fz_out(z, lz_pad(a, all ? NULL : axes, naxes, lo, hi, mode, fz_value(z, LZ_FLOAT64, FZ_V_ANY)));
  if (!valid || (mode && !strcmp(mode, "reflect"))) {
    z->expect = FZ_FAIL;
    return;
  }
  if (big) return;
  for (int i = 0; i < naxes; i++) {
    int ax = all ? i : fz_norm_axis(axes[i], nd);
    if (mode && !strcmp(mode, "edge") && s[ax] == 0 && lo[i] + hi[i] > 0) return; /* no edge */
    s[ax] += lo[i] + hi[i];
  }
  fz_expect(z, 0, d, s, nd);
  fz_verdict(z, 1);
}

static void ad_roll(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], axes[LZ_MAX_NDIM], sh[LZ_MAX_NDIM], nd, naxes;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 5);
  bool valid, flat = fz_pct(z, 30);
  naxes = flat ? 1 : fz_axes(z, nd, axes, &valid);
  for (int i = 0; i < naxes; i++) sh[i] = fz_param(z, -5, 5);
  fz_notef(z, flat ? " flat shift=%d" : " shift0=%d", sh[0]);
  fz_out(z, lz_roll(a, sh, flat ? NULL : axes, naxes));
  for (int i = 0; !flat && i < naxes; i++)
    if (fz_norm_axis(axes[i], nd) < 0) {
      z->expect = FZ_FAIL;
      return;
    }
  fz_expect(z, 0, d, s, nd);
  if (flat || (valid && naxes > 0)) fz_verdict(z, 1); /* no axes: MLX is silent */
}

static void ad_kron(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], s2[LZ_MAX_NDIM], o[LZ_MAX_NDIM], nd = fz_shape(z, s, 3),
                                                       nd2 = fz_shape(z, s2, 3);
  lz_dtype d = fz_dtype(z), d2 = fz_pct(z, 50) ? d : fz_dtype(z);
  for (int i = 0; fz_prod(s, nd) * fz_prod(s2, nd2) > 4096; i++) { /* a small product */
    if (nd2) s2[i % nd2] = (s2[i % nd2] + 1) / 2;
    if (nd) s[i % nd] = (s[i % nd] + 1) / 2;
  }
  lz_array *a = fz_array(z, d, s, nd), *b = fz_array(z, d2, s2, nd2);
  fz_out(z, lz_kron(a, b));
  int no = nd > nd2 ? nd : nd2;
  for (int i = 0; i < no; i++)
    o[i] = (i < no - nd ? 1 : s[i - (no - nd)]) * (i < no - nd2 ? 1 : s2[i - (no - nd2)]);
  fz_expect(z, 0, lz_promote_types(d, d2), o, no);
  fz_verdict(z, fz_dtype_ok(F_LOOSECPLX | F_LOOSEBOOL, lz_promote_types(d, d2)));
}

/* clang-format off */
static const fz_op fz_shape_ops[] = {
  FZ_OP("reshape", ad_reshape, lz_reshape, 0, 0),
  FZ_OP("flatten", ad_flatten, lz_flatten, 0, 0),
  FZ_OP("unflatten", ad_unflatten, lz_unflatten, 0, 0),
  FZ_OP("squeeze", ad_squeeze, lz_squeeze, 0, 0),
  FZ_OP("expand_dims", ad_expand_dims, lz_expand_dims, 0, 0),
  FZ_OP("atleast_1d", ad_atleast, lz_atleast_1d, 1, 0),
  FZ_OP("atleast_2d", ad_atleast, lz_atleast_2d, 2, 0),
  FZ_OP("atleast_3d", ad_atleast, lz_atleast_3d, 3, 0),
  FZ_OP("transpose", ad_transpose, lz_transpose, 0, 0),
  FZ_OP("swapaxes", ad_swapaxes, lz_swapaxes, 0, 0),
  FZ_OP("moveaxis", ad_swapaxes, lz_moveaxis, 1, 0),
  FZ_OP("broadcast_to", ad_broadcast_to, lz_broadcast_to, 0, 0),
  FZ_OP("broadcast_arrays", ad_broadcast_arrays, lz_broadcast_arrays, 0, 0),
  FZ_OP("slice", ad_slice, lz_slice, 0, 0),
  FZ_OP("flip", ad_flip, lz_flip, 0, 0),
  FZ_OP("diagonal", ad_diagonal, lz_diagonal, 0, 0),
  FZ_OP("as_strided", ad_as_strided, lz_as_strided, 0, 0),
  FZ_OP("contiguous", ad_contiguous, lz_contiguous, 0, 0),
  FZ_OP("split", ad_split, lz_split, 0, 0),
  FZ_OP("split_indices", ad_split, lz_split_indices, 1, 0),
  FZ_OP("unstack", ad_split, lz_unstack, 2, 0),
  FZ_OP("concatenate", ad_concat, lz_concatenate, 0, 0),
  FZ_OP("stack", ad_concat, lz_stack, 1, 0),
  FZ_OP("tile", ad_tile, lz_tile, 0, 0),
  FZ_OP("repeat", ad_repeat, lz_repeat, 0, 0),
  FZ_OP("repeat_flat", ad_repeat, lz_repeat_flat, 1, 0),
  FZ_OP("pad", ad_pad, lz_pad, 0, 0),
  FZ_OP("roll", ad_roll, lz_roll, 0, 0),
  FZ_OP("diag", ad_diagonal, lz_diag, 1, 0),
  FZ_OP("kron", ad_kron, lz_kron, 0, 0),
};
/* clang-format on */

#endif /* OP_FUZZ_SHAPE_H */
