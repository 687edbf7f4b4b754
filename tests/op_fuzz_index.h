/* Op fuzz adapters: indexing ops (include/lazuli/indexing.h). */
#ifndef OP_FUZZ_INDEX_H
#define OP_FUZZ_INDEX_H

#include "op_fuzz_shape.h"

/* take (rule 0), take_flat (rule 1) */
static void ad_take(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], si[LZ_MAX_NDIM], o[2 * LZ_MAX_NDIM], nd, ni, no = 0;
  lz_dtype d = fz_dtype(z), di = fz_dtype_index(z);
  lz_array *a = fz_rand(z, d, s, &nd, 4);
  int axis = op->rule ? 0 : fz_axis(z, nd), ax = fz_norm_axis(axis, nd);
  int len = op->rule ? (int)fz_prod(s, nd) : ax >= 0 ? s[ax] : 3;
  ni = fz_shape(z, si, 3);
  bool in_range;
  lz_array *idx = fz_index(z, di, si, ni, len, &in_range);
  fz_notef(z, " axis=%d", axis);
  fz_out(z, op->rule ? lz_take_flat(a, idx) : lz_take(a, idx, axis));
  if ((op->rule == 0 && ax < 0) || !fz_is_int(di)) {
    z->expect = FZ_FAIL;
    return;
  }
  if (op->rule) {
    memcpy(o, si, sizeof si), no = ni;
  } else {
    for (int i = 0; i < ax; i++) o[no++] = s[i];
    for (int i = 0; i < ni; i++) o[no++] = si[i];
    for (int i = ax + 1; i < nd; i++) o[no++] = s[i];
  }
  if (no > LZ_MAX_NDIM) return;
  fz_expect(z, 0, d, o, no);
  fz_verdict(z, 1);
  z->eval_ok = in_range;
}

/* take_along_axis (rule 0), put_along_axis (rule 1) */
static void ad_along(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], si[LZ_MAX_NDIM], sv[LZ_MAX_NDIM], o[LZ_MAX_NDIM], nd, ni, nv;
  lz_dtype d = fz_dtype(z), di = fz_dtype_index(z);
  lz_array *a = fz_rand(z, d, s, &nd, 4);
  int axis = fz_axis(z, nd), ax = fz_norm_axis(axis, nd);
  ni = fz_shape_bcast(z, s, nd, si);
  if (fz_pct(z, 80)) ni = nd, memcpy(si, s, sizeof s);
  if (ax >= 0 && ni == nd && fz_pct(z, 60)) si[ax] = fz_int(z, 0, 4);
  for (int i = 0; fz_prod(si, ni) > FZ_MAX_SIZE; i = (i + 1) % ni) si[i] = (si[i] + 1) / 2;
  bool in_range;
  lz_array *idx = fz_index(z, di, si, ni, ax >= 0 ? s[ax] : 3, &in_range);
  fz_notef(z, " axis=%d", axis);
  int no = ni == nd && ax >= 0 ? fz_bcast(s, nd, si, ni, o) : -1;
  bool shape_ok = no >= 0;
  if (shape_ok) { /* the indices' axis may be any length; the others broadcast */
    int t[LZ_MAX_NDIM];
    memcpy(t, s, sizeof t);
    t[ax] = si[ax];
    no = fz_bcast(t, nd, si, ni, o);
    shape_ok = no >= 0;
  }
  if (op->rule == 0) {
    fz_out(z, lz_take_along_axis(a, idx, axis));
  } else {
    int ov[LZ_MAX_NDIM];
    if (shape_ok)
      memcpy(ov, o, sizeof ov);
    else
      memcpy(ov, si, sizeof ov);
    nv = shape_ok ? fz_shape_bcast(z, ov, shape_ok ? no : ni, sv) : fz_shape(z, sv, 3);
    lz_dtype dv = fz_pct(z, 70) ? d : fz_dtype(z);
    lz_array *v = fz_array(z, dv, sv, nv);
    fz_out(z, lz_put_along_axis(a, idx, v, axis));
    int tmp[LZ_MAX_NDIM];
    if (shape_ok && fz_bcast(ov, no, sv, nv, tmp) != no) shape_ok = false; /* values must fit */
    if (shape_ok && memcmp(tmp, ov, (size_t)no * sizeof(int)) != 0) shape_ok = false;
    if (shape_ok) no = nd, memcpy(o, s, sizeof o);
  }
  if (nd == 0 || ax < 0 || ni != nd || !fz_is_int(di)) {
    z->expect = FZ_FAIL;
    return;
  }
  if (!shape_ok) return; /* broadcasting rules differ in detail: either outcome is clean */
  fz_expect(z, 0, d, o, no);
  z->eval_ok = in_range && fz_prod(o, no) >= 0;
  if (op->rule == 0) fz_verdict(z, 1), z->eval_ok = in_range;
}

/* Index arrays for gather/scatter: nidx arrays broadcasting together, axes distinct. Returns
 * nidx; fills I (their broadcast shape, *ni dims); *valid for the test's verdict. */
static int fz_gather_args(fz *z, const int *s, int nd, lz_array **idx, int *axes, int *slice,
                          int *I, int *ni, bool *valid, bool *in_range) {
  int nidx = nd ? fz_int(z, 0, nd < 3 ? nd : 3) : 0, si[LZ_MAX_NDIM], perm[LZ_MAX_NDIM];
  *valid = nidx > 0 || fz_pct(z, 50), *in_range = true; /* MLX needs an index array */
  for (int i = 0; i < nd; i++) perm[i] = i;
  for (int i = nd - 1; i > 0; i--) {
    int j = fz_below(&z->rng, i + 1), t = perm[i];
    perm[i] = perm[j], perm[j] = t;
  }
  for (int k = 0; k < nidx; k++) axes[k] = fz_pct(z, 30) ? perm[k] - nd : perm[k];
  if (nidx > 1 && fz_pct(z, 5)) axes[1] = axes[0], *valid = false;
  if (nidx > 0 && fz_pct(z, 5)) axes[0] = nd + fz_int(z, 0, 2), *valid = false;
  for (int i = 0; i < nd; i++) {
    slice[i] = s[i] ? fz_int(z, 0, s[i]) : 0;
    if (fz_pct(z, 3)) slice[i] = s[i] + 1, *valid = false;
  }
  int T[LZ_MAX_NDIM], nt = fz_shape(z, T, 2); /* index shapes broadcast around T */
  *ni = 0;
  for (int k = 0; k < nidx; k++) {
    int nk = fz_shape_bcast(z, T, nt, si), ax = fz_norm_axis(axes[k], nd);
    int room = ax >= 0 ? s[ax] - slice[ax] + 1 : 1;
    bool ir;
    idx[k] = fz_index_k(z, fz_dtype_index(z), si, nk, room, true, &ir);
    if (!ir || room <= 0) *in_range = false;
    int r = fz_bcast(I, *ni, si, nk, I);
    if (r < 0)
      *valid = false;
    else
      *ni = r;
    if (idx[k] && !fz_is_int(lz_array_dtype(idx[k]))) *valid = false;
  }
  fz_notef(z, " nidx=%d", nidx);
  return nidx;
}

static void ad_gather(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], axes[LZ_MAX_NDIM], slice[LZ_MAX_NDIM], I[LZ_MAX_NDIM], o[2 * LZ_MAX_NDIM], nd,
      ni;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 4), *idx[LZ_MAX_NDIM];
  bool valid, in_range;
  int nidx = fz_gather_args(z, s, nd, idx, axes, slice, I, &ni, &valid, &in_range);
  fz_out(z, lz_gather(a, idx, axes, nidx, slice));
  if (nidx == 0) return; /* MLX needs at least one index array; either outcome is clean */
  if (!valid) {
    z->expect = FZ_FAIL;
    return;
  }
  memcpy(o, I, (size_t)ni * sizeof(int));
  memcpy(o + ni, slice, (size_t)nd * sizeof(int));
  if (ni + nd > LZ_MAX_NDIM) return;
  fz_expect(z, 0, d, o, ni + nd);
  fz_verdict(z, 1);
  z->eval_ok = in_range;
}

/* scatter family: op->fn takes (a, indices, axes, nidx, updates) */
typedef lz_array *(*fz_fscatter)(lz_array *, lz_array *const *, const int *, int, lz_array *);
static void ad_scatter(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], axes[LZ_MAX_NDIM], slice[LZ_MAX_NDIM], I[LZ_MAX_NDIM], u[2 * LZ_MAX_NDIM], nd,
      ni;
  lz_dtype d = fz_dtype(z), du = fz_pct(z, 70) ? d : fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 4), *idx[LZ_MAX_NDIM];
  bool valid, in_range;
  int nidx = fz_gather_args(z, s, nd, idx, axes, slice, I, &ni, &valid, &in_range);
  int nu = ni + nd;
  memcpy(u, I, (size_t)ni * sizeof(int));
  memcpy(u + ni, slice, (size_t)nd * sizeof(int));
  if (fz_pct(z, 5) && nd > 0) { /* an update block larger than a, or just another size */
    int j = fz_below(&z->rng, nd);
    u[ni + j] += 1;
    if (u[ni + j] > s[j]) valid = false;
    in_range = false; /* the block grew: its start may no longer fit */
  }
  if (nu > LZ_MAX_NDIM || fz_prod(u, nu) > 4 * FZ_MAX_SIZE) nu = 0, valid = false;
  lz_array *up = fz_array(z, du, u, nu);
  fz_out(z, ((fz_fscatter)op->fn)(a, idx, axes, nidx, up));
  if (nidx == 0) return; /* MLX needs an index array: either outcome is clean */
  if (!valid) {
    if (nu) z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, d, s, nd);
  if (du == LZ_COMPLEX64 && d != LZ_COMPLEX64) return;
  fz_verdict(z, fz_dtype_ok(F_LOOSECPLX | F_LOOSEBOOL, d));
  z->eval_ok = in_range;
}

/* at_set ... at_minimum: op->fn takes (a, indices, values, axis); rule 1: floats only */
typedef lz_array *(*fz_fat)(lz_array *, lz_array *, lz_array *, int);
static void ad_at(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], si[LZ_MAX_NDIM], t[2 * LZ_MAX_NDIM], sv[LZ_MAX_NDIM], nd, ni, nt = 0, nv;
  lz_dtype d = fz_dtype(z), di = fz_dtype_index(z), dv = fz_pct(z, 70) ? d : fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 4);
  int axis = fz_axis(z, nd), ax = fz_norm_axis(axis, nd);
  ni = fz_shape(z, si, 2);
  bool in_range;
  lz_array *idx = fz_index(z, di, si, ni, ax >= 0 ? s[ax] : 3, &in_range);
  for (int i = 0; ax >= 0 && i < ax; i++) t[nt++] = s[i];
  for (int i = 0; ax >= 0 && i < ni; i++) t[nt++] = si[i];
  for (int i = ax + 1; ax >= 0 && i < nd; i++) t[nt++] = s[i];
  if (nt > LZ_MAX_NDIM) nt = 0;
  nv = fz_shape_bcast(z, t, nt, sv);
  for (int i = 0; fz_prod(sv, nv) > 4 * FZ_MAX_SIZE; i = (i + 1) % nv) sv[i] = (sv[i] + 1) / 2;
  lz_array *v = fz_array(z, dv, sv, nv);
  fz_notef(z, " axis=%d", axis);
  fz_out(z, ((fz_fat)op->fn)(a, idx, v, axis));
  int tmp[2 * LZ_MAX_NDIM];
  bool fits = nv <= nt && fz_bcast(t, nt, sv, nv, tmp) == nt &&
              memcmp(tmp, t, (size_t)nt * sizeof(int)) == 0;
  if (ax < 0 || !fz_is_int(di)) {
    z->expect = FZ_FAIL;
    return;
  }
  if (!fits) return; /* values of a larger rank may or may not be accepted (MLX squeezes) */
  fz_expect(z, 0, d, s, nd);
  if (dv == LZ_COMPLEX64 && d != LZ_COMPLEX64) return;
  int ok = fz_dtype_ok(F_LOOSECPLX | F_LOOSEBOOL, d);
  if (op->rule == 1 && !fz_is_float(d)) ok = ok == 1 ? 0 : ok;
  fz_verdict(z, ok);
  z->eval_ok = in_range;
}

static void ad_slice_dynamic(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], axes[LZ_MAX_NDIM], sz[LZ_MAX_NDIM], nd, naxes;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 4);
  bool valid;
  naxes = fz_axes(z, nd, axes, &valid);
  for (int i = 0; i < nd; i++) sz[i] = s[i] ? fz_int(z, 0, s[i]) : 0;
  if (fz_pct(z, 4) && nd) sz[0] = s[0] + 1, valid = false;
  int sn = naxes, one = fz_pct(z, 20) && naxes == 1;
  bool in_range = true;
  int starts[LZ_MAX_NDIM];
  for (int k = 0; k < naxes; k++) {
    int ax = fz_norm_axis(axes[k], nd), room = ax >= 0 ? s[ax] - sz[ax] : 0;
    starts[k] = fz_pct(z, 90) ? fz_int(z, 0, room > 0 ? room : 0) : fz_int(z, -5, 9);
    if (ax >= 0 &&
        (starts[k] < -s[ax] || (starts[k] < 0 ? starts[k] + s[ax] : starts[k]) + sz[ax] > s[ax]))
      in_range = false;
  }
  lz_dtype ds = fz_dtype_index(z);
  for (int k = 0; k < naxes; k++) /* a negative start wraps in an unsigned dtype */
    if (starts[k] < 0 && !lz_dtype_is_signed(ds)) in_range = false;
  int32_t tmp[LZ_MAX_NDIM];
  for (int k = 0; k < naxes; k++) tmp[k] = starts[k];
  lz_array *st =
      fz_is_int(ds)
          ? lz_astype(lz_array_from_data(tmp, one ? NULL : &sn, one ? 0 : 1, LZ_INT32), ds)
          : lz_array_from_data(tmp, &sn, 1, LZ_INT32);
  if (!fz_is_int(ds)) st = lz_astype(st, LZ_FLOAT32), valid = false;
  fz_out(z, lz_slice_dynamic(a, st, axes, naxes, sz));
  if (!valid) {
    z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, d, sz, nd);
  fz_verdict(z, 1);
  z->eval_ok = in_range;
}

static void ad_slice_update(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], su[LZ_MAX_NDIM], o[LZ_MAX_NDIM], st[LZ_MAX_NDIM], sp[LZ_MAX_NDIM],
      step[LZ_MAX_NDIM], nd, nu;
  lz_dtype d = fz_dtype(z), du = fz_pct(z, 70) ? d : fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 4);
  bool valid = true, nostep = fz_pct(z, 30);
  for (int i = 0; i < nd; i++) {
    st[i] = fz_pct(z, 10) ? fz_param(z, 0, 0) : fz_int(z, -s[i] - 1, s[i] + 1);
    sp[i] = fz_pct(z, 10) ? fz_param(z, 0, 0) : fz_int(z, -s[i] - 1, s[i] + 1);
    step[i] = nostep ? 1 : fz_pct(z, 5) ? 0 : fz_int(z, -2, 2);
    if (step[i] == 0)
      valid = false;
    else
      o[i] = fz_slice_len(st[i], sp[i], step[i], s[i]);
  }
  nu = valid ? fz_shape_bcast(z, o, nd, su) : fz_shape(z, su, 3);
  lz_array *u = fz_array(z, du, su, nu);
  fz_out(z, lz_slice_update(a, u, st, sp, nostep ? NULL : step));
  int tmp[LZ_MAX_NDIM];
  if (!valid || fz_bcast(o, nd, su, nu, tmp) != nd || memcmp(tmp, o, (size_t)nd * sizeof(int))) {
    if (!valid) z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, d, s, nd);
  if (du == LZ_COMPLEX64 && d != LZ_COMPLEX64) return;
  fz_verdict(z, 1);
}

static void ad_slice_update_dynamic(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], axes[LZ_MAX_NDIM], su[LZ_MAX_NDIM], nd, naxes, nu;
  lz_dtype d = fz_dtype(z), du = fz_pct(z, 70) ? d : fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 4);
  bool valid;
  naxes = fz_axes(z, nd, axes, &valid);
  nu = nd;
  for (int i = 0; i < nd; i++) su[i] = s[i] ? fz_int(z, 0, s[i]) : 0;
  if (fz_pct(z, 4) && nd) su[0] = s[0] + 1, valid = false;
  int sn = naxes;
  int32_t starts[LZ_MAX_NDIM];
  for (int k = 0; k < naxes; k++) starts[k] = fz_int(z, -2, 4);
  lz_array *u = fz_array(z, du, su, nu);
  lz_array *st = lz_array_from_data(starts, &sn, 1, LZ_INT32);
  fz_out(z, lz_slice_update_dynamic(a, u, st, axes, naxes));
  if (!valid) {
    z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, d, s, nd);
  if (du == LZ_COMPLEX64 && d != LZ_COMPLEX64) return;
  fz_verdict(z, 1);
  z->eval_ok = false; /* starts may not fit */
}

static void ad_nonzero(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 4);
  fz_out(z, lz_nonzero(a));
  if (z->rc == 0 && z->out[0]) {
    const int *o = lz_array_shape(z->out[0]);
    if (lz_array_ndim(z->out[0]) != 2 || o[1] != nd || o[0] > fz_prod(s, nd) ||
        lz_array_dtype(z->out[0]) != LZ_INT32) {
      lzt_failures++;
      fprintf(stderr, "op fuzz nonzero: bad result shape [%s]\n", z->note);
    }
  }
  fz_verdict(z, fz_dtype_ok(F_LOOSECPLX, d));
}

static void ad_unique(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], nd;
  lz_dtype d = fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 4), *inv = FZ_MARKER, *cnt = FZ_MARKER;
  bool want_inv = fz_pct(z, 50), want_cnt = fz_pct(z, 50);
  lz_array *u = lz_unique(a, want_inv ? &inv : NULL, want_cnt ? &cnt : NULL);
  lz_array *outs[3] = {u, want_inv ? inv : NULL, want_cnt ? cnt : NULL};
  if (!u) {
    fz_out(z, NULL); /* the header promises nothing of *inverse and *counts then */
  } else {
    int n = 1;
    if (want_inv) outs[n++] = inv;
    if (want_cnt) outs[n++] = cnt;
    fz_outs(z, 0, outs, n);
    int size = (int)fz_prod(s, nd);
    if (want_inv) fz_expect(z, 1, LZ_INT32, &size, 1);
  }
  fz_verdict(z, fz_dtype_ok(F_LOOSECPLX, d));
}

static void ad_mask_select(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], sm[LZ_MAX_NDIM], nd, nm;
  lz_dtype d = fz_dtype(z), dm = fz_pct(z, 90) ? LZ_BOOL : fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 4);
  nm = fz_int(z, 0, nd);
  memcpy(sm, s, sizeof s);
  bool valid = dm == LZ_BOOL;
  if (fz_pct(z, 8) && nm > 0) sm[fz_below(&z->rng, nm)] += 1, valid = false;
  lz_array *m = fz_array(z, dm, sm, nm);
  fz_out(z, lz_mask_select(a, m));
  if (!valid) {
    z->expect = FZ_FAIL;
    return;
  }
  if (z->rc == 0 && z->out[0]) {
    int o[LZ_MAX_NDIM], no = 0;
    o[no++] = lz_array_ndim(z->out[0]) ? lz_array_shape(z->out[0])[0] : -1;
    for (int i = nm; i < nd; i++) o[no++] = s[i];
    fz_expect(z, 0, d, o, no);
  }
  fz_verdict(z, 1);
}

/* clang-format off */
static const fz_op fz_index_ops[] = {
  FZ_OP("take", ad_take, lz_take, 0, 0),
  FZ_OP("take_flat", ad_take, lz_take_flat, 1, 0),
  FZ_OP("take_along_axis", ad_along, lz_take_along_axis, 0, 0),
  FZ_OP("put_along_axis", ad_along, lz_put_along_axis, 1, 0),
  FZ_OP("gather", ad_gather, lz_gather, 0, 0),
  FZ_OP("slice_dynamic", ad_slice_dynamic, lz_slice_dynamic, 0, 0),
  FZ_OP("at_set", ad_at, lz_at_set, 0, 0),
  FZ_OP("at_add", ad_at, lz_at_add, 0, 0),
  FZ_OP("at_subtract", ad_at, lz_at_subtract, 0, 0),
  FZ_OP("at_multiply", ad_at, lz_at_multiply, 0, 0),
  FZ_OP("at_divide", ad_at, lz_at_divide, 1, 0),
  FZ_OP("at_maximum", ad_at, lz_at_maximum, 0, 0),
  FZ_OP("at_minimum", ad_at, lz_at_minimum, 0, 0),
  FZ_OP("scatter", ad_scatter, lz_scatter, 0, 0),
  FZ_OP("scatter_add", ad_scatter, lz_scatter_add, 0, 0),
  FZ_OP("scatter_prod", ad_scatter, lz_scatter_prod, 0, 0),
  FZ_OP("scatter_max", ad_scatter, lz_scatter_max, 0, 0),
  FZ_OP("scatter_min", ad_scatter, lz_scatter_min, 0, 0),
  FZ_OP("slice_update", ad_slice_update, lz_slice_update, 0, 0),
  FZ_OP("slice_update_dynamic", ad_slice_update_dynamic, lz_slice_update_dynamic, 0, 0),
  FZ_OP("nonzero", ad_nonzero, lz_nonzero, 0, 0),
  FZ_OP("unique", ad_unique, lz_unique, 0, 0),
  FZ_OP("mask_select", ad_mask_select, lz_mask_select, 0, 0),
};
/* clang-format on */

#endif /* OP_FUZZ_INDEX_H */
