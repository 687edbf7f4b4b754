/* Op fuzz adapters: products and linear algebra (include/lazuli/linalg.h). */
#ifndef OP_FUZZ_LINALG_H
#define OP_FUZZ_LINALG_H

#include "op_fuzz_index.h"

static bool fz_is_f32f64(lz_dtype d) { return d == LZ_FLOAT32 || d == LZ_FLOAT64; }

/* A random linalg input: mostly small finite values, now and then NaN/inf. */
static lz_array *fz_lin_array(fz *z, lz_dtype d, const int *s, int nd) {
  return fz_array_k(z, d, s, nd, fz_pct(z, 90) ? FZ_V_SMALL : FZ_V_ANY, true);
}
/* A batch shape (0-2 dims) followed by (m, n); returns ndim. */
static int fz_mat_shape(fz *z, int *s, int m, int n) {
  int nb = fz_pct(z, 60) ? 0 : fz_int(z, 1, 2);
  for (int i = 0; i < nb; i++) s[i] = fz_pct(z, 10) ? 0 : fz_int(z, 1, 3);
  s[nb] = m, s[nb + 1] = n;
  return nb + 2;
}
static int fz_small_dim(fz *z) { return fz_pct(z, 8) ? 0 : fz_int(z, 1, 6); }

/* matmul (rule 0), addmm (rule 1) */
static void ad_matmul(fz *z, const fz_op *op) {
  int M = fz_small_dim(z), K = fz_small_dim(z), N = fz_small_dim(z), sa[LZ_MAX_NDIM],
      sb[LZ_MAX_NDIM], sc[LZ_MAX_NDIM], o[LZ_MAX_NDIM], na, nb, nc;
  lz_dtype da = fz_dtype_real_float(z), db = fz_pct(z, 70) ? da : fz_dtype_real_float(z);
  na = fz_pct(z, 15) ? (fz_pct(z, 20) ? 0 : 1) : fz_mat_shape(z, sa, M, K);
  if (na == 1) sa[0] = K;
  nb = fz_pct(z, 15) ? 1
       : na >= 2     ? fz_shape_bcast(z, sa, na - 2, sb) + 2
                     : fz_mat_shape(z, sb, K, N);
  if (nb == 1)
    sb[0] = K;
  else
    sb[nb - 2] = K, sb[nb - 1] = N;
  if (fz_pct(z, 8) && nb > 0) sb[nb - (nb > 1 ? 2 : 1)] += 1;
  lz_array *a = fz_lin_array(z, da, sa, na), *b = fz_lin_array(z, db, sb, nb);
  int ob = -1, no = 0;
  for (int i = 0; i < LZ_MAX_NDIM; i++) o[i] = 1;
  bool valid = na > 0 && nb > 0 && sa[na - 1] == sb[nb > 1 ? nb - 2 : 0];
  if (valid) {
    ob = fz_bcast(sa, na > 2 ? na - 2 : 0, sb, nb > 2 ? nb - 2 : 0, o);
    valid = ob >= 0;
    no = ob;
    if (valid && na > 1) o[no++] = sa[na - 2];
    if (valid && nb > 1) o[no++] = sb[nb - 1];
  }
  lz_dtype p = lz_promote_types(da, db);
  if (op->rule == 1) {
    nc = fz_shape_bcast(z, o, valid ? no : 2, sc);
    lz_dtype dc = fz_pct(z, 80) ? p : fz_dtype_real_float(z);
    lz_array *c = fz_lin_array(z, dc, sc, nc);
    p = lz_promote_types(p, dc);
    fz_out(z, lz_addmm(c, a, b, fz_value(z, LZ_FLOAT64, FZ_V_SMALL),
                       fz_value(z, LZ_FLOAT64, FZ_V_SMALL)));
    int t[LZ_MAX_NDIM];
    if (valid && (fz_bcast(o, no, sc, nc, t) != no || memcmp(t, o, (size_t)no * sizeof(int))))
      valid = false;
  } else {
    fz_out(z, lz_matmul(a, b));
  }
  z->tol = 1e-3;
  if (!valid) {
    z->expect = FZ_FAIL;
    return;
  }
  fz_expect(z, 0, p, o, no);
  fz_verdict(z, fz_is_float(p) ? 1 : 0);
}

static void ad_outer(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], s2[LZ_MAX_NDIM], nd, nd2;
  lz_dtype d = fz_dtype(z), d2 = fz_pct(z, 60) ? d : fz_dtype(z);
  lz_array *a = fz_rand(z, d, s, &nd, 2), *b = fz_rand(z, d2, s2, &nd2, 2);
  fz_out(z, lz_outer(a, b));
  int o[2] = {(int)fz_prod(s, nd), (int)fz_prod(s2, nd2)};
  lz_dtype p = lz_promote_types(d, d2);
  fz_expect(z, 0, p, o, 2);
  fz_verdict(z, fz_dtype_ok(F_LOOSECPLX | F_LOOSEBOOL, p));
}

static void ad_inner(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], s2[LZ_MAX_NDIM], o[LZ_MAX_NDIM], nd, nd2, no = 0;
  lz_dtype d = fz_dtype_real_float(z), d2 = fz_pct(z, 70) ? d : fz_dtype_real_float(z);
  nd = fz_shape(z, s, 3), nd2 = fz_shape(z, s2, 3);
  if (nd && nd2 && fz_pct(z, 80)) s2[nd2 - 1] = s[nd - 1];
  lz_array *a = fz_lin_array(z, d, s, nd), *b = fz_lin_array(z, d2, s2, nd2);
  fz_out(z, lz_inner(a, b));
  lz_dtype p = lz_promote_types(d, d2);
  z->tol = 1e-3;
  if (nd && nd2 && s[nd - 1] != s2[nd2 - 1]) {
    z->expect = FZ_FAIL;
    return;
  }
  if (nd == 0 || nd2 == 0) return; /* a product: MLX's shape rules */
  for (int i = 0; i < nd - 1; i++) o[no++] = s[i];
  for (int i = 0; i < nd2 - 1; i++) o[no++] = s2[i];
  fz_expect(z, 0, p, o, no);
  fz_verdict(z, fz_is_float(p) ? 1 : 0);
}

/* tensordot (rule 0), tensordot_axes (rule 1) */
static void ad_tensordot(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], s2[LZ_MAX_NDIM], o[2 * LZ_MAX_NDIM], nd, nd2, no = 0;
  lz_dtype d = fz_dtype_real_float(z), d2 = fz_pct(z, 70) ? d : fz_dtype_real_float(z);
  nd = fz_shape(z, s, 4);
  int k = fz_pct(z, 90) ? fz_int(z, 0, nd) : fz_param(z, 0, 2);
  bool valid = k >= 0 && k <= nd, used_a[LZ_MAX_NDIM] = {0}, used_b[LZ_MAX_NDIM] = {0};
  int aa[LZ_MAX_NDIM], ab[LZ_MAX_NDIM];
  if (op->rule == 0) {
    nd2 = valid ? k + fz_int(z, 0, 2) : 2;
    for (int i = 0; i < nd2; i++) s2[i] = valid && i < k ? s[nd - k + i] : fz_int(z, 1, 3);
    for (int i = 0; valid && i < k; i++) used_a[nd - k + i] = used_b[i] = true;
  } else {
    if (!valid) k = 0, valid = true; /* lists of k axes: k is checked by tensordot above */
    nd2 = fz_int(z, k, 4);
    for (int i = 0; i < nd2; i++) s2[i] = fz_int(z, 1, 3);
    for (int i = 0; i < k; i++) {
      aa[i] = i, ab[i] = nd2 - 1 - i;
      s2[ab[i]] = s[aa[i]];
      used_a[aa[i]] = used_b[ab[i]] = true;
    }
    if (fz_pct(z, 8) && k > 0) aa[0] = nd + 2, valid = false;
    if (fz_pct(z, 5) && k > 1) ab[1] = ab[0], valid = false;
  }
  if (fz_pct(z, 6) && nd2 > 0) s2[0] += 1; /* validity is judged on the final shapes */
  for (int i = 0; fz_prod(s2, nd2) > FZ_MAX_SIZE; i = (i + 1) % nd2) s2[i] = (s2[i] + 1) / 2;
  lz_array *a = fz_lin_array(z, d, s, nd), *b = fz_lin_array(z, d2, s2, nd2);
  fz_notef(z, " k=%d", k);
  if (op->rule == 0)
    fz_out(z, lz_tensordot(a, b, k));
  else
    fz_out(z, lz_tensordot_axes(a, b, aa, ab, k));
  z->tol = 1e-3;
  for (int i = 0; valid && i < nd; i++)
    if (used_a[i]) {
      int j = op->rule == 0 ? i - (nd - k) : 0;
      if (op->rule == 1)
        for (int q = 0; q < k; q++)
          if (aa[q] == i) j = ab[q];
      if (s[i] != s2[j]) valid = false;
    }
  if (!valid) {
    z->expect = FZ_FAIL;
    return;
  }
  for (int i = 0; i < nd; i++)
    if (!used_a[i]) o[no++] = s[i];
  for (int i = 0; i < nd2; i++)
    if (!used_b[i]) o[no++] = s2[i];
  if (no > LZ_MAX_NDIM) return;
  fz_expect(z, 0, lz_promote_types(d, d2), o, no);
  fz_verdict(z, fz_is_float(lz_promote_types(d, d2)) ? 1 : 0);
}

static void ad_einsum(fz *z, const fz_op *op) {
  int n = fz_int(z, 1, 3), size[26], s[3][LZ_MAX_NDIM], nd[3];
  bool seen[26] = {0}, valid = true;
  int count[26] = {0};
  char sub[128], *p = sub;
  lz_dtype d = fz_dtype_real_float(z);
  lz_array *ops[3];
  for (int i = 0; i < 26; i++) size[i] = fz_int(z, 1, 4);
  for (int k = 0; k < n; k++) {
    nd[k] = fz_int(z, 0, 3);
    if (k) *p++ = ',';
    for (int i = 0; i < nd[k]; i++) {
      int l = fz_below(&z->rng, 5);
      *p++ = (char)('i' + l);
      s[k][i] = size[l];
      seen[l] = true, count[l]++;
    }
  }
  if (fz_pct(z, 70)) { /* explicit output: letters seen, each once */
    *p++ = '-', *p++ = '>';
    for (int l = 0; l < 26; l++)
      if (seen[l] && fz_pct(z, 60)) *p++ = (char)('i' + l);
  }
  *p = '\0';
  char bad[][8] = {"ij->k", "i,j,k,l", "i-j", "iA", "...->ii", "ij->jj"};
  const char *subs = sub;
  int r = fz_below(&z->rng, 100);
  if (r < 5)
    subs = bad[fz_below(&z->rng, 6)], valid = false;
  else if (r < 10) {
    int k = fz_below(&z->rng, n);
    if (nd[k]) s[k][0] += 1, valid = false;
  }
  for (int k = 0; k < n; k++) ops[k] = fz_lin_array(z, d, s[k], nd[k]);
  fz_notef(z, " \"%s\"", subs);
  fz_out(z, lz_einsum(fz_pct(z, 2) ? NULL : subs, ops, n));
  z->tol = 1e-3;
  if (!valid) {
    if (subs != sub) z->expect = FZ_FAIL;
    return; /* a changed dim may still match another use of its letter: either way */
  }
  int o[LZ_MAX_NDIM], no = 0;
  const char *arrow = strstr(sub, "->");
  if (arrow) {
    for (const char *q = arrow + 2; *q; q++) o[no++] = size[*q - 'i'];
  } else {
    for (int l = 0; l < 26; l++)
      if (count[l] == 1) o[no++] = size[l];
  }
  if (z->rc == 0) fz_expect(z, 0, d, o, no);
}

/* linalg_norm (rule 0), _ord (rule 1), _str (rule 2) */
static void ad_norm(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], o[LZ_MAX_NDIM], axes[LZ_MAX_NDIM], nd, naxes;
  lz_dtype d = fz_dtype_real_float(z);
  nd = fz_shape(z, s, 4);
  lz_array *a = fz_lin_array(z, d, s, nd);
  bool valid, keep = fz_pct(z, 30), red[LZ_MAX_NDIM] = {0}, empty;
  naxes = fz_axes(z, nd, axes, &valid);
  if (naxes > 2 && fz_pct(z, 80)) naxes = 2;
  valid = true; /* recheck what is left */
  for (int i = 0; i < naxes; i++) {
    int ax = fz_norm_axis(axes[i], nd);
    if (ax < 0 || red[ax])
      valid = false;
    else
      red[ax] = true;
  }
  static const double ords[] = {1, -1, 2, -2, INFINITY, -INFINITY, 0, 3, 0.5};
  static const char *strs[] = {"fro", "nuc", "bogus", NULL};
  double ord = ords[fz_below(&z->rng, 9)];
  const char *so = strs[fz_pct(z, 90) ? fz_below(&z->rng, 2) : 2 + fz_below(&z->rng, 2)];
  fz_notef(z, " ord=%g/%s naxes=%d", ord, so ? so : "NULL", naxes);
  if (op->rule == 0) fz_out(z, lz_linalg_norm(a, naxes ? axes : NULL, naxes, keep));
  if (op->rule == 1) fz_out(z, lz_linalg_norm_ord(a, ord, naxes ? axes : NULL, naxes, keep));
  if (op->rule == 2) fz_out(z, lz_linalg_norm_str(a, so, naxes ? axes : NULL, naxes, keep));
  z->tol = 1e-3;
  if (!valid || naxes > 2) {
    z->expect = FZ_FAIL;
    return;
  }
  if (naxes == 0) {
    if (op->rule == 0) {
      for (int i = 0; i < nd; i++) red[i] = true;
    } else if (nd == 1 || nd == 2) {
      for (int i = 0; i < nd; i++) red[i] = true;
      naxes = nd;
    } else {
      z->expect = FZ_FAIL;
      return;
    }
  }
  if (op->rule == 1 && naxes == 2 && (ord == 0 || ord == 3 || ord == 0.5)) {
    z->expect = FZ_FAIL;
    return;
  }
  if (op->rule == 2 && (naxes != 2 || !so || !strcmp(so, "bogus"))) {
    z->expect = FZ_FAIL;
    return;
  }
  int no = fz_reduced(s, nd, red, keep, o, &empty);
  fz_expect(z, 0, d == LZ_COMPLEX64 ? LZ_FLOAT32 : d, o, no); /* complex norms are real */
  if (fz_is_float(d) && !(op->rule == 1 && ord < 0 && empty)) fz_verdict(z, 1);
  z->eval_ok = false; /* e.g. max over an empty axis */
}

enum { L_INV, L_TRIINV, L_CHOL, L_CHOLINV, L_DET, L_EIGVALSH, L_EIGVALS, L_PINV };
static void ad_lin1(fz *z, const fz_op *op) {
  int n = fz_small_dim(z), m = op->rule == L_PINV || fz_pct(z, 8) ? fz_small_dim(z) : n, s[4];
  int nd = fz_pct(z, 5) ? 1 : fz_mat_shape(z, s, n, m);
  if (nd == 1) s[0] = n;
  lz_dtype d = fz_pct(z, 85) ? (fz_pct(z, 70) ? LZ_FLOAT32 : LZ_FLOAT64) : fz_dtype_any(z, false);
  lz_array *a = fz_lin_array(z, d, s, nd);
  bool upper = fz_pct(z, 50);
  static const char *uplos[] = {NULL, "L", "U", "X"};
  const char *uplo = uplos[fz_pct(z, 95) ? fz_below(&z->rng, 3) : 3];
  lz_dtype rd = d;
  int o[4], no = nd - 2;
  memcpy(o, s, sizeof o);
  switch (op->rule) {
  case L_INV:
    fz_out(z, lz_linalg_inv(a));
    break;
  case L_TRIINV:
    fz_out(z, lz_linalg_tri_inv(a, upper));
    break;
  case L_CHOL:
    fz_out(z, lz_linalg_cholesky(a, upper));
    break;
  case L_CHOLINV:
    fz_out(z, lz_linalg_cholesky_inv(a, upper));
    break;
  case L_DET:
    fz_out(z, lz_linalg_det(a));
    break;
  case L_EIGVALSH:
    fz_out(z, lz_linalg_eigvalsh(a, uplo));
    break;
  case L_EIGVALS:
    fz_out(z, lz_linalg_eigvals(a));
    rd = LZ_COMPLEX64;
    break;
  case L_PINV:
    fz_out(z, lz_linalg_pinv(a));
    break;
  }
  z->tol = 1e-3;
  bool square_only = op->rule != L_PINV;
  /* det promotes integers and bool to float32; the eigenvalues take complex64 (MLX) */
  bool integral = d == LZ_BOOL || lz_dtype_is_integer(d);
  bool cplx_ok = d == LZ_COMPLEX64 && (op->rule == L_EIGVALSH || op->rule == L_EIGVALS);
  bool dtype_ok = fz_is_f32f64(d) || (op->rule == L_DET && integral) || cplx_ok;
  if (op->rule == L_DET && integral) rd = LZ_FLOAT32;
  if (op->rule == L_EIGVALSH && d == LZ_COMPLEX64) rd = LZ_FLOAT32;
  if (nd < 2 || !dtype_ok || (square_only && n != m) ||
      (op->rule == L_EIGVALSH && uplo && !strcmp(uplo, "X"))) {
    z->expect = FZ_FAIL;
    return;
  }
  if (op->rule == L_DET)
    no = nd - 2;
  else if (op->rule == L_EIGVALSH || op->rule == L_EIGVALS)
    no = nd - 1;
  else if (op->rule == L_PINV)
    no = nd, o[nd - 2] = m, o[nd - 1] = n;
  else
    no = nd;
  fz_expect(z, 0, rd, o, no);
  fz_verdict(z, 1);
  z->eval_ok = false; /* singular matrices, NaN inputs */
}

enum { L_QR, L_SVD, L_SVDS, L_LU, L_LUF, L_EIGH, L_EIG, L_SLOGDET };
static void ad_linN(fz *z, const fz_op *op) {
  int n = fz_small_dim(z), sq = op->rule >= L_EIGH, m = sq && fz_pct(z, 92) ? n : fz_small_dim(z);
  int s[4], nd = fz_pct(z, 5) ? 1 : fz_mat_shape(z, s, n, m);
  if (nd == 1) s[0] = n;
  lz_dtype d = fz_pct(z, 85) ? (fz_pct(z, 70) ? LZ_FLOAT32 : LZ_FLOAT64) : fz_dtype_any(z, false);
  lz_array *a = fz_lin_array(z, d, s, nd), *outs[3];
  fz_sentinel(outs, 3);
  static const char *uplos[] = {NULL, "L", "U", "X"};
  const char *uplo = uplos[fz_pct(z, 95) ? fz_below(&z->rng, 3) : 3];
  int nout = 2, rc = -1;
  switch (op->rule) {
  case L_QR:
    rc = lz_linalg_qr(a, outs);
    break;
  case L_SVD:
    rc = lz_linalg_svd(a, true, outs), nout = 3;
    break;
  case L_SVDS:
    rc = lz_linalg_svd(a, false, outs), nout = 1;
    break;
  case L_LU:
    rc = lz_linalg_lu(a, outs), nout = 3;
    break;
  case L_LUF:
    rc = lz_linalg_lu_factor(a, outs);
    break;
  case L_EIGH:
    rc = lz_linalg_eigh(a, uplo, outs);
    break;
  case L_EIG:
    rc = lz_linalg_eig(a, outs);
    break;
  case L_SLOGDET:
    rc = lz_linalg_slogdet(a, outs);
    break;
  }
  fz_outs(z, rc, outs, nout);
  z->tol = 1e-3;
  z->no_compare = op->rule != L_SLOGDET && op->rule != L_LUF && op->rule != L_LU; /* signs */
  /* slogdet promotes integers and bool to float32; svd, eigh and eig take complex64 (MLX) */
  bool integral = d == LZ_BOOL || lz_dtype_is_integer(d);
  bool cplx = d == LZ_COMPLEX64 &&
              (op->rule == L_SVD || op->rule == L_SVDS || op->rule == L_EIGH || op->rule == L_EIG);
  if (nd < 2 || !(fz_is_f32f64(d) || cplx || (op->rule == L_SLOGDET && integral)) ||
      (sq && n != m) || (op->rule == L_EIGH && uplo && !strcmp(uplo, "X"))) {
    z->expect = FZ_FAIL;
    return;
  }
  if (integral) d = LZ_FLOAT32;
  int b = nd - 2, k = n < m ? n : m, o[3][4];
  for (int j = 0; j < 3; j++) memcpy(o[j], s, sizeof s);
  lz_dtype dt[3] = {d, d, d};
  if (cplx && op->rule == L_SVD) dt[1] = LZ_FLOAT32;
  if (cplx && (op->rule == L_SVDS || op->rule == L_EIGH)) dt[0] = LZ_FLOAT32;
  int no[3] = {nd, nd, nd};
  switch (op->rule) {
  case L_QR:
    o[0][b + 1] = k, o[1][b] = k;
    break;
  case L_SVD:
    o[0][b + 1] = n, o[1][b] = k, no[1] = b + 1, o[2][b] = m;
    break;
  case L_SVDS:
    o[0][b] = k, no[0] = b + 1;
    break;
  case L_LU:
    no[0] = b + 1, dt[0] = LZ_UINT32, o[1][b + 1] = k, o[2][b] = k;
    break;
  case L_LUF:
    o[1][b] = k, no[1] = b + 1, dt[1] = LZ_UINT32;
    break;
  case L_EIGH:
    no[0] = b + 1;
    break;
  case L_EIG:
    no[0] = b + 1, dt[0] = dt[1] = LZ_COMPLEX64;
    break;
  case L_SLOGDET:
    no[0] = no[1] = b;
    break;
  }
  for (int j = 0; j < nout; j++) fz_expect(z, j, dt[j], o[j], no[j]);
  fz_verdict(z, 1);
  z->eval_ok = false; /* NaN inputs may make LAPACK fail */
}

/* solve (rule 0), solve_triangular (rule 1) */
static void ad_solve(fz *z, const fz_op *op) {
  int n = fz_small_dim(z), s[4], sb[LZ_MAX_NDIM], o[LZ_MAX_NDIM], nd, nb, no;
  nd = fz_mat_shape(z, s, n, fz_pct(z, 92) ? n : n + 1);
  lz_dtype d = fz_pct(z, 85) ? LZ_FLOAT32 : fz_pct(z, 70) ? LZ_FLOAT64 : fz_dtype_any(z, false);
  bool vec = fz_pct(z, 40);
  if (vec) {
    nb = fz_pct(z, 50) ? 1 : nd - 1;
    for (int i = 0; i < nb - 1; i++) sb[i] = s[i];
    sb[nb - 1] = n;
  } else {
    nb = nd;
    memcpy(sb, s, sizeof s);
    sb[nb - 1] = fz_int(z, 0, 3);
  }
  if (fz_pct(z, 5)) sb[nb - (vec ? 1 : 2)] += 1;
  lz_array *a = fz_lin_array(z, d, s, nd), *b = fz_lin_array(z, d, sb, nb);
  bool upper = fz_pct(z, 50);
  fz_out(z, op->rule ? lz_linalg_solve_triangular(a, b, upper) : lz_linalg_solve(a, b));
  z->tol = 1e-2;
  z->no_compare = true; /* ill-conditioned random systems amplify rounding differences */
  if (!fz_is_f32f64(d) || s[nd - 1] != s[nd - 2] || sb[nb - (vec ? 1 : 2)] != n) {
    z->expect = FZ_FAIL;
    return;
  }
  if (vec) {
    no = fz_bcast(s, nd - 2, sb, nb - 1, o);
    o[no++] = n;
  } else {
    no = fz_bcast(s, nd - 2, sb, nb - 2, o);
    o[no++] = n, o[no++] = sb[nb - 1];
  }
  fz_expect(z, 0, d, o, no);
  fz_verdict(z, 1);
  z->eval_ok = false; /* singular systems */
}

static void ad_cross(fz *z, const fz_op *op) {
  int s[LZ_MAX_NDIM], s2[LZ_MAX_NDIM], o[LZ_MAX_NDIM], nd, nd2;
  lz_dtype d = fz_dtype_real_float(z), d2 = fz_pct(z, 70) ? d : fz_dtype_real_float(z);
  nd = fz_shape_min(z, s, 1, 3);
  int axis = fz_axis(z, nd), ax = fz_norm_axis(axis, nd);
  if (ax >= 0 && fz_pct(z, 90)) s[ax] = 3;
  nd2 = fz_shape_bcast(z, s, nd, s2);
  if (ax >= 0 && nd2 >= nd - ax && fz_pct(z, 90)) s2[nd2 - (nd - ax)] = 3;
  lz_array *a = fz_lin_array(z, d, s, nd), *b = fz_lin_array(z, d2, s2, nd2);
  fz_notef(z, " axis=%d", axis);
  fz_out(z, lz_linalg_cross(a, b, axis));
  int no = fz_bcast(s, nd, s2, nd2, o), bx = fz_norm_axis(axis, nd2);
  if (axis >= 0 && nd != nd2) return; /* in each input, or of the broadcast: either way */
  if (ax < 0 || bx < 0 || no < 0) {   /* the axis counts in each input, as in MLX */
    z->expect = FZ_FAIL;
    return;
  }
  if (s[ax] != 3 || s2[bx] != 3) {
    z->expect = FZ_FAIL;
    return;
  }
  lz_dtype p = lz_promote_types(d, d2);
  fz_expect(z, 0, p, o, no);
  fz_verdict(z, fz_dtype_ok(F_LOOSEBOOL | F_LOOSECPLX, p) && fz_is_float(p) ? 1 : -1);
}

/* clang-format off */
static const fz_op fz_linalg_ops[] = {
  FZ_OP("matmul", ad_matmul, lz_matmul, 0, 0),
  FZ_OP("addmm", ad_matmul, lz_addmm, 1, 0),
  FZ_OP("outer", ad_outer, lz_outer, 0, 0),
  FZ_OP("inner", ad_inner, lz_inner, 0, 0),
  FZ_OP("tensordot", ad_tensordot, lz_tensordot, 0, 0),
  FZ_OP("tensordot_axes", ad_tensordot, lz_tensordot_axes, 1, 0),
  FZ_OP("einsum", ad_einsum, lz_einsum, 0, 0),
  FZ_OP("linalg_norm", ad_norm, lz_linalg_norm, 0, 0),
  FZ_OP("linalg_norm_ord", ad_norm, lz_linalg_norm_ord, 1, 0),
  FZ_OP("linalg_norm_str", ad_norm, lz_linalg_norm_str, 2, 0),
  FZ_OP("linalg_inv", ad_lin1, lz_linalg_inv, L_INV, 0),
  FZ_OP("linalg_tri_inv", ad_lin1, lz_linalg_tri_inv, L_TRIINV, 0),
  FZ_OP("linalg_cholesky", ad_lin1, lz_linalg_cholesky, L_CHOL, 0),
  FZ_OP("linalg_cholesky_inv", ad_lin1, lz_linalg_cholesky_inv, L_CHOLINV, 0),
  FZ_OP("linalg_det", ad_lin1, lz_linalg_det, L_DET, 0),
  FZ_OP("linalg_eigvalsh", ad_lin1, lz_linalg_eigvalsh, L_EIGVALSH, 0),
  FZ_OP("linalg_eigvals", ad_lin1, lz_linalg_eigvals, L_EIGVALS, 0),
  FZ_OP("linalg_pinv", ad_lin1, lz_linalg_pinv, L_PINV, 0),
  FZ_OP("linalg_qr", ad_linN, lz_linalg_qr, L_QR, 0),
  FZ_OP("linalg_svd", ad_linN, lz_linalg_svd, L_SVD, 0),
  FZ_OP("linalg_svd_s", ad_linN, lz_linalg_svd, L_SVDS, 0),
  FZ_OP("linalg_lu", ad_linN, lz_linalg_lu, L_LU, 0),
  FZ_OP("linalg_lu_factor", ad_linN, lz_linalg_lu_factor, L_LUF, 0),
  FZ_OP("linalg_eigh", ad_linN, lz_linalg_eigh, L_EIGH, 0),
  FZ_OP("linalg_eig", ad_linN, lz_linalg_eig, L_EIG, 0),
  FZ_OP("linalg_slogdet", ad_linN, lz_linalg_slogdet, L_SLOGDET, 0),
  FZ_OP("linalg_solve", ad_solve, lz_linalg_solve, 0, 0),
  FZ_OP("linalg_solve_triangular", ad_solve, lz_linalg_solve_triangular, 1, 0),
  FZ_OP("linalg_cross", ad_cross, lz_linalg_cross, 0, 0),
};
/* clang-format on */

#endif /* OP_FUZZ_LINALG_H */
