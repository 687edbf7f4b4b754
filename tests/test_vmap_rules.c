/* vmap rules, op family by op family: each against the loop over the mapped axis, with mapped
 * and unmapped inputs on several axes (tests/test_vmap_check.h). */
#include "test_vmap_check.h"

#define NONE LZ_VMAP_NONE
#define TOL 1e-5
/* A one-output body. */
#define BODY(NAME, EXPR)                                                                           \
  static int NAME(lz_array *const *x, lz_array **o) {                                              \
    (void)x;                                                                                       \
    o[0] = (EXPR);                                                                                 \
    return o[0] ? 1 : -1;                                                                          \
  }

/* ---- elementwise ---- */

BODY(f_exp, lz_exp(x[0]))
BODY(f_sin_abs, lz_sin(lz_abs(x[0])))
BODY(f_sqrt, lz_sqrt(x[0]))
BODY(f_round, lz_round(x[0], 1))
BODY(f_astype, lz_astype(x[0], LZ_INT32))
BODY(f_not, lz_logical_not(lz_greater(x[0], lz_float(0))))
BODY(f_add, lz_add(x[0], x[1]))
BODY(f_sub_scalar, lz_subtract(lz_multiply(x[0], lz_float(3)), x[1]))
BODY(f_pow, lz_power(x[0], x[1]))
BODY(f_isclose, lz_isclose(x[0], x[1], 0.5, 0.1, false))
BODY(f_where, lz_where(lz_greater(x[0], lz_float(0)), x[1], x[2]))
BODY(f_stop, lz_stop_gradient(lz_negative(x[0])))
static int f_divmod(lz_array *const *x, lz_array **o) {
  return lz_divmod(x[0], x[1], o) == 0 ? 2 : -1;
}

static void test_elementwise(void) {
  vt_in one[1] = {VT_F32(0, 3, 4)};
  vt_in one1[1] = {VT_F32(1, 3, 4)};
  vt_in oneneg[1] = {VT_F32(-1, 3, 4)};
  vt_in pos[1] = {VT_IN(LZ_FLOAT32, 0.1, 4, 2, 2, 3)};
  vt_check("exp axis 0", f_exp, one, 1, TOL);
  vt_check("exp axis 1", f_exp, one1, 1, TOL);
  vt_check("exp axis -1", f_exp, oneneg, 1, TOL);
  vt_check("sin(abs)", f_sin_abs, one1, 1, TOL);
  vt_check("sqrt", f_sqrt, pos, 1, TOL);
  vt_check("round", f_round, one, 1, TOL);
  vt_check("astype", f_astype, one1, 1, 0);
  vt_check("logical_not", f_not, oneneg, 1, 0);
  vt_check("stop_gradient", f_stop, one1, 1, 0);
  vt_in zero_d[1] = {VT_IN0(LZ_FLOAT32, -1, 1, 0)};
  vt_check("exp 0-d examples", f_exp, zero_d, 1, TOL);

  vt_in bc[2] = {VT_F32(0, 3, 4), VT_F32(0, 4)};
  vt_in bc2[2] = {VT_F32(2, 3, 4), VT_F32(-1, 4)};
  vt_in bc3[2] = {VT_F32(NONE, 3, 4), VT_F32(0, 4)};
  vt_in bc4[2] = {VT_F32(1, 3, 1), VT_F32(NONE, 2, 1, 4)};
  vt_in bc5[2] = {VT_F32(0, 3, 4), VT_IN0(LZ_FLOAT32, -1, 1, 0)};
  vt_check("add (3,4)+(4) mapped 0,0", f_add, bc, 2, TOL);
  vt_check("add mapped 2,-1", f_add, bc2, 2, TOL);
  vt_check("add unmapped a", f_add, bc3, 2, TOL);
  vt_check("add (3,1)+(2,1,4) unmapped b", f_add, bc4, 2, TOL);
  vt_check("add with 0-d examples", f_add, bc5, 2, TOL);
  vt_check("weak scalar", f_sub_scalar, bc2, 2, TOL);
  vt_in pw[2] = {VT_IN(LZ_FLOAT32, 0.5, 2, 1, 2, 3), VT_F32(0, 3)};
  vt_check("power", f_pow, pw, 2, TOL);
  vt_check("isclose", f_isclose, bc2, 2, 0);
  vt_in ints[2] = {VT_IN(LZ_INT32, -9, 9, 0, 4), VT_IN(LZ_INT32, 1, 5, 1, 2, 4)};
  vt_check("divmod (2 outputs)", f_divmod, ints, 2, 0);
  vt_in w[3] = {VT_F32(0, 2, 3), VT_F32(NONE, 3), VT_F32(1, 2, 1)};
  vt_check("where", f_where, w, 3, TOL);
}

/* ---- reductions, scans, sorting ---- */

BODY(f_sum1, lz_sum_axis(x[0], 1, false))
BODY(f_sum_all, lz_sum(x[0], true))
BODY(f_mean, lz_mean(x[0], false))
BODY(f_max_keep, lz_max_axes(x[0], (int[]){0, 2}, 2, true))
BODY(f_var, lz_var_axis(x[0], -1, false, 1))
BODY(f_lse, lz_logsumexp_axis(x[0], 0, false))
BODY(f_median, lz_median_axis(x[0], 1, false))
BODY(f_argmax, lz_argmax_axis(x[0], 1, true))
BODY(f_argmin_flat, lz_argmin(x[0], false))
BODY(f_argmax_flat_keep, lz_argmax(x[0], true))
BODY(f_softmax, lz_softmax_axis(x[0], -1, false))
BODY(f_softmax_all, lz_softmax(x[0], false))
BODY(f_trace, lz_trace(x[0], 1, 0, 2))
BODY(f_any, lz_any_axis(x[0], 0, false))
BODY(f_cumsum, lz_cumsum(x[0], 1, true, false))
BODY(f_cummax, lz_cummax(x[0], 0, false, true))
BODY(f_lcse, lz_logcumsumexp(x[0], -1, false, true))
BODY(f_diff, lz_diff(x[0], 2, 1))
BODY(f_sort, lz_sort_axis(x[0], 0))
BODY(f_sort_flat, lz_sort(x[0]))
BODY(f_argsort, lz_argsort_axis(x[0], -1))
BODY(f_topk, lz_topk_axis(x[0], 2, 1))
BODY(f_partition, lz_partition_axis(x[0], 1, 1))
BODY(f_searchsorted, lz_searchsorted(x[0], x[1], false))

static void test_reduce(void) {
  vt_in a[1] = {VT_F32(1, 3, 4, 2)};
  vt_in b[1] = {VT_F32(-1, 3, 4, 2)};
  vt_check("sum axis 1", f_sum1, a, 1, TOL);
  vt_check("sum all keepdims", f_sum_all, b, 1, TOL);
  vt_check("mean all", f_mean, a, 1, TOL);
  vt_check("max axes keepdims", f_max_keep, b, 1, TOL);
  vt_check("var ddof 1", f_var, a, 1, TOL);
  vt_check("logsumexp", f_lse, b, 1, TOL);
  vt_check("median", f_median, a, 1, TOL);
  vt_check("argmax keepdims", f_argmax, b, 1, 0);
  vt_check("argmin flat", f_argmin_flat, a, 1, 0);
  vt_check("argmax flat keepdims", f_argmax_flat_keep, b, 1, 0);
  vt_check("softmax", f_softmax, a, 1, TOL);
  vt_check("softmax all", f_softmax_all, b, 1, TOL);
  vt_check("trace", f_trace, a, 1, TOL);
  vt_in bools[1] = {VT_IN(LZ_BOOL, 0, 1.3, 1, 3, 2)};
  vt_check("any", f_any, bools, 1, 0);
  vt_in zero_d[1] = {VT_IN0(LZ_FLOAT32, -1, 1, 0)};
  vt_check("sum of 0-d examples", f_sum_all, zero_d, 1, TOL);
}

static void test_scan_sort(void) {
  vt_in a[1] = {VT_F32(1, 3, 5)};
  vt_in b[1] = {VT_F32(-1, 4, 3)};
  vt_check("cumsum reverse exclusive", f_cumsum, a, 1, TOL);
  vt_check("cummax", f_cummax, b, 1, TOL);
  vt_check("logcumsumexp", f_lcse, a, 1, TOL);
  vt_check("diff n=2", f_diff, a, 1, TOL);
  vt_check("sort axis 0", f_sort, b, 1, 0);
  vt_check("sort flat", f_sort_flat, a, 1, 0);
  vt_check("argsort", f_argsort, b, 1, 0);
  vt_check("topk", f_topk, a, 1, 0);
  vt_check("partition", f_partition, b, 1, 0);
  vt_in ss[2] = {VT_F32(NONE, 6), VT_F32(1, 2, 3)};
  /* a sorted array shared by every example; then one per example (the loop) */
  ss[0].given = lz_sort(vt_random((int[]){6}, 1, LZ_FLOAT32, -2, 2));
  vt_check("searchsorted v mapped", f_searchsorted, ss, 2, 0);
  vt_in ss2[2] = {VT_F32(0, 6), VT_F32(NONE, 4)};
  ss2[0].given = lz_sort_axis(vt_random((int[]){3, 6}, 2, LZ_FLOAT32, -2, 2), 1);
  vt_check("searchsorted a mapped (loop)", f_searchsorted, ss2, 2, 0);
}

/* ---- shape ops ---- */

BODY(f_reshape, lz_reshape(x[0], (int[]){2, -1}, 2))
BODY(f_transpose, lz_transpose(x[0], (int[]){2, 0, 1}, 3))
BODY(f_expand, lz_expand_dims(x[0], (int[]){0, 3}, 2))
BODY(f_squeeze, lz_squeeze(x[0], (int[]){1}, 1))
BODY(f_bcast, lz_broadcast_to(x[0], (int[]){2, 3, 4}, 3))
BODY(f_slice, lz_slice(x[0], (int[]){1, 3}, (int[]){3, 0}, (int[]){1, -2}, 2))
BODY(f_flip, lz_flip(x[0], NULL, 0))
BODY(f_diagonal, lz_diagonal(x[0], -1, 2, 0))
BODY(f_contig, lz_contiguous(lz_transpose(x[0], NULL, 0)))
BODY(f_concat, lz_concatenate(x, 2, 1))
BODY(f_stack, lz_stack(x, 2, -1))
BODY(f_pad, lz_pad(x[0], (int[]){1}, 1, (int[]){2}, (int[]){1}, "constant", 7))
BODY(f_pad_edge, lz_pad(x[0], NULL, 2, (int[]){1, 0}, (int[]){0, 2}, "edge", 0))
BODY(f_tile, lz_tile(x[0], (int[]){2, 1}, 2))
BODY(f_repeat, lz_repeat(x[0], 2, 0))
BODY(f_roll, lz_roll(x[0], (int[]){1}, (int[]){1}, 1))
BODY(f_as_strided, lz_as_strided(x[0], (int[]){2, 2}, 2, (int64_t[]){1, 2}, 1))
BODY(f_diag, lz_diag(x[0], 1))
static int f_split(lz_array *const *x, lz_array **o) {
  return lz_split_indices(x[0], (int[]){1, 3}, 2, 1, o) == 0 ? 3 : -1;
}

static void test_shape(void) {
  vt_in a[1] = {VT_F32(1, 3, 4)};
  vt_in a3[1] = {VT_F32(-1, 3, 4, 2)};
  vt_check("reshape", f_reshape, a, 1, 0);
  vt_check("transpose", f_transpose, a3, 1, 0);
  vt_check("expand_dims", f_expand, a, 1, 0);
  vt_in sq[1] = {VT_F32(2, 3, 1, 4)};
  vt_check("squeeze", f_squeeze, sq, 1, 0);
  vt_in bc[1] = {VT_F32(0, 3, 1)};
  vt_check("broadcast_to", f_bcast, bc, 1, 0);
  vt_check("slice with steps", f_slice, a, 1, 0);
  vt_check("flip", f_flip, a3, 1, 0);
  vt_check("diagonal", f_diagonal, a3, 1, 0);
  vt_check("contiguous", f_contig, a, 1, 0);
  vt_in two[2] = {VT_F32(1, 3, 4), VT_F32(NONE, 3, 2)};
  vt_check("concatenate (one unmapped)", f_concat, two, 2, 0);
  vt_in same[2] = {VT_F32(0, 3, 2), VT_F32(2, 3, 2)};
  vt_check("stack", f_stack, same, 2, 0);
  vt_check("pad constant", f_pad, a, 1, 0);
  vt_check("pad edge", f_pad_edge, a, 1, 0);
  vt_check("split (3 outputs)", f_split, a, 1, 0);
  vt_check("tile", f_tile, a, 1, 0);
  vt_check("repeat", f_repeat, a, 1, 0);
  vt_check("roll", f_roll, a, 1, 0);
  vt_check("as_strided (loop)", f_as_strided, a, 1, 0);
  vt_in v[1] = {VT_F32(0, 3)};
  vt_check("diag (loop)", f_diag, v, 1, 0);
}

/* ---- matmul and contractions ---- */

BODY(f_matmul, lz_matmul(x[0], x[1]))
BODY(f_addmm, lz_addmm(x[2], x[0], x[1], 0.5, 2))
BODY(f_einsum, lz_einsum("ij,jk->ki", x, 2))
BODY(f_einsum_diag, lz_einsum("ii->i", x, 1))
BODY(f_outer, lz_outer(x[0], x[1]))
BODY(f_tensordot, lz_tensordot(x[0], x[1], 1))

static void test_matmul(void) {
  struct {
    const char *name;
    vt_in in[2];
  } cases[] = {
      {"mat@mat 0,0", {VT_F32(0, 3, 4), VT_F32(0, 4, 5)}},
      {"mat@mat 1,none", {VT_F32(1, 3, 4), VT_F32(NONE, 4, 5)}},
      {"mat@mat none,-1", {VT_F32(NONE, 3, 4), VT_F32(-1, 4, 5)}},
      {"vec@mat", {VT_F32(0, 4), VT_F32(1, 4, 5)}},
      {"vec@mat unmapped vec", {VT_F32(NONE, 4), VT_F32(0, 4, 5)}},
      {"mat@vec", {VT_F32(2, 3, 4), VT_F32(0, 4)}},
      {"mat@vec unmapped vec", {VT_F32(0, 3, 4), VT_F32(NONE, 4)}},
      {"vec@vec", {VT_F32(0, 4), VT_F32(0, 4)}},
      {"vec@vec one unmapped", {VT_F32(NONE, 4), VT_F32(0, 4)}},
      {"batched example @ mat", {VT_F32(1, 2, 3, 4), VT_F32(0, 4, 5)}},
      {"mat @ unmapped batched", {VT_F32(0, 3, 4), VT_F32(NONE, 2, 4, 5)}},
      {"vec @ unmapped batched", {VT_F32(0, 4), VT_F32(NONE, 2, 4, 5)}},
      {"unmapped batched @ vec", {VT_F32(NONE, 2, 3, 4), VT_F32(0, 4)}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    vt_check(cases[i].name, f_matmul, cases[i].in, 2, TOL);
  vt_in am[3] = {VT_F32(0, 3, 4), VT_F32(NONE, 4, 5), VT_F32(1, 3, 5)};
  vt_check("addmm", f_addmm, am, 3, TOL);
  vt_in am2[3] = {VT_F32(NONE, 4), VT_F32(0, 4, 5), VT_F32(NONE, 5)};
  vt_check("addmm vec, unmapped c", f_addmm, am2, 3, TOL);
  vt_in am3[3] = {VT_F32(0, 3, 4), VT_F32(0, 4), VT_F32(0, 1)};
  vt_check("addmm mat@vec, mapped c", f_addmm, am3, 3, TOL);
  vt_in es[2] = {VT_F32(1, 3, 4), VT_F32(NONE, 4, 2)};
  vt_check("einsum", f_einsum, es, 2, TOL);
  vt_in es2[2] = {VT_F32(0, 3, 4), VT_F32(0, 4, 2)};
  vt_check("einsum both mapped", f_einsum, es2, 2, TOL);
  vt_in ed[1] = {VT_F32(2, 3, 3)};
  vt_check("einsum diagonal", f_einsum_diag, ed, 1, TOL);
  vt_in ou[2] = {VT_F32(0, 3), VT_F32(NONE, 2)};
  vt_check("outer", f_outer, ou, 2, TOL);
  vt_in td[2] = {VT_F32(0, 2, 3), VT_F32(1, 3, 2)};
  vt_check("tensordot", f_tensordot, td, 2, TOL);
}

/* ---- indexing ---- */

BODY(f_take, lz_take(x[0], x[1], 1))
BODY(f_take_flat, lz_take_flat(x[0], x[1]))
BODY(f_tala, lz_take_along_axis(x[0], x[1], 1))
BODY(f_gather, lz_gather(x[0], (lz_array *[]){x[1], x[2]}, (int[]){0, 2}, 2, (int[]){1, 2, 1}))
BODY(f_gather1, lz_gather(x[0], &x[1], (int[]){1}, 1, (int[]){3, 1, 2}))
BODY(f_slice_dyn, lz_slice_dynamic(x[0], x[1], (int[]){1}, 1, (int[]){3, 2}))
BODY(f_at_add, lz_at_add(x[0], x[1], x[2], 0))
BODY(f_slice_update, lz_slice_update(x[0], x[1], (int[]){0, 1}, (int[]){3, 3}, NULL))
BODY(f_slice_update_step,
     lz_slice_update(x[0], x[1], (int[]){2, 3}, (int[]){0, 0}, (int[]){-2, -2}))

static void test_indexing(void) {
  vt_in idx_combos[][2] = {
      {VT_F32(0, 3, 4), VT_IN(LZ_INT32, -4, 4, NONE, 2, 2)},
      {VT_F32(NONE, 3, 4), VT_IN(LZ_INT32, 0, 4, 1, 5)},
      {VT_F32(2, 3, 4), VT_IN(LZ_INT32, -4, 4, 0, 2, 2)},
  };
  const char *names[] = {"x mapped", "indices mapped", "both mapped"};
  for (int i = 0; i < 3; i++) {
    char nm[64];
    snprintf(nm, sizeof nm, "take, %s", names[i]);
    vt_check(nm, f_take, idx_combos[i], 2, 0);
    snprintf(nm, sizeof nm, "take_flat, %s", names[i]);
    vt_in fl[2] = {idx_combos[i][0], idx_combos[i][1]};
    fl[1].lo = 0, fl[1].hi = 12;
    vt_check(nm, f_take_flat, fl, 2, 0);
  }
  vt_in ta[][2] = {
      {VT_F32(0, 3, 4), VT_IN(LZ_INT32, 0, 4, NONE, 3, 2)},
      {VT_F32(NONE, 3, 4), VT_IN(LZ_INT32, 0, 4, 2, 1, 5)},
      {VT_F32(1, 3, 4), VT_IN(LZ_INT32, 0, 4, 0, 3, 2)},
  };
  for (int i = 0; i < 3; i++) vt_check("take_along_axis", f_tala, ta[i], 2, 0);
  vt_in g[][3] = {
      {VT_F32(0, 3, 4, 2), VT_IN(LZ_INT32, 0, 3, NONE, 2), VT_IN(LZ_INT32, 0, 2, NONE, 2)},
      {VT_F32(NONE, 3, 4, 2), VT_IN(LZ_INT32, 0, 3, 0, 2), VT_IN(LZ_INT32, 0, 2, NONE, 1)},
      {VT_F32(1, 3, 4, 2), VT_IN(LZ_INT32, 0, 3, NONE, 2), VT_IN(LZ_INT32, 0, 2, -1, 2)},
  };
  for (int i = 0; i < 3; i++) vt_check("gather two indices", f_gather, g[i], 3, 0);
  vt_in g1[][2] = {
      {VT_F32(2, 3, 4, 2), VT_IN(LZ_INT32, 0, 4, NONE, 2, 2)},
      {VT_F32(0, 3, 4, 2), VT_IN(LZ_INT32, 0, 4, 1, 2, 2)},
  };
  for (int i = 0; i < 2; i++) vt_check("gather one index", f_gather1, g1[i], 2, 0);
  vt_in sd[2] = {VT_F32(1, 3, 4), VT_IN(LZ_INT32, 0, 3, NONE, 1)};
  vt_check("slice_dynamic", f_slice_dyn, sd, 2, 0);
  vt_in sd2[2] = {VT_F32(NONE, 3, 4), VT_IN(LZ_INT32, 0, 3, 0, 1)};
  vt_check("slice_dynamic mapped start (loop)", f_slice_dyn, sd2, 2, 0);
  vt_in at[3] = {VT_F32(0, 4, 2), VT_IN(LZ_INT32, 0, 4, NONE, 3), VT_F32(1, 3, 2)};
  vt_check("at_add (loop)", f_at_add, at, 3, TOL);
  vt_in su[][2] = {
      {VT_F32(1, 3, 4), VT_F32(NONE, 3, 2)},
      {VT_F32(NONE, 3, 4), VT_F32(0, 3, 2)},
      {VT_F32(-1, 3, 4), VT_F32(1, 1, 2)}, /* update broadcast over the slice */
  };
  for (int i = 0; i < 3; i++) vt_check("slice_update", f_slice_update, su[i], 2, 0);
  vt_in su2[2] = {VT_F32(0, 3, 4), VT_F32(NONE, 2)};
  vt_check("slice_update, strided", f_slice_update_step, su2, 2, 0);
}

/* ---- linalg ---- */

static lz_array *well_conditioned(lz_array *a) { /* a a^T + 3 I */
  int n = lz_array_shape(a)[lz_array_ndim(a) - 1];
  return lz_add(lz_matmul(a, lz_swapaxes(a, -1, -2)),
                lz_multiply(lz_float(3), lz_eye(n, n, 0, LZ_FLOAT32)));
}
BODY(f_inv, lz_linalg_inv(well_conditioned(x[0])))
BODY(f_chol, lz_linalg_cholesky(well_conditioned(x[0]), false))
BODY(f_det, lz_linalg_det(well_conditioned(x[0])))
BODY(f_solve, lz_linalg_solve(well_conditioned(x[0]), x[1]))
BODY(f_norm, lz_linalg_norm(x[0], (int[]){0}, 1, false))
BODY(f_norm_all, lz_linalg_norm(x[0], NULL, 0, false))
BODY(f_cross, lz_linalg_cross(x[0], x[1], -1))
BODY(f_tril, lz_tril(x[0], -1))
static int f_qr(lz_array *const *x, lz_array **o) { return lz_linalg_qr(x[0], o) == 0 ? 2 : -1; }

static void test_linalg(void) {
  vt_in sq[1] = {VT_F32(1, 3, 3)};
  vt_check("inv", f_inv, sq, 1, 1e-4);
  vt_check("cholesky", f_chol, sq, 1, 1e-4);
  vt_check("det", f_det, sq, 1, 1e-4);
  vt_check("tril", f_tril, sq, 1, 0);
  vt_in sv[2] = {VT_F32(0, 3, 3), VT_F32(NONE, 3)};
  vt_check("solve vector, b unmapped", f_solve, sv, 2, 1e-4);
  vt_in sm[2] = {VT_F32(NONE, 3, 3), VT_F32(2, 3, 2)};
  vt_check("solve matrix, a unmapped", f_solve, sm, 2, 1e-4);
  vt_in qr[1] = {VT_F32(0, 4, 3)};
  vt_check("qr", f_qr, qr, 1, 1e-4);
  vt_in nm[1] = {VT_F32(1, 3, 4)};
  vt_check("norm axis", f_norm, nm, 1, 1e-5);
  vt_check("norm all (loop)", f_norm_all, nm, 1, 1e-5);
  vt_in cr[2] = {VT_F32(0, 2, 3), VT_F32(NONE, 3)};
  vt_check("cross", f_cross, cr, 2, 1e-5);
}

/* ---- random ---- */

BODY(f_uniform, lz_random_uniform(lz_float(0), lz_float(1), (int[]){2, 3}, 2, LZ_FLOAT32, x[0]))
BODY(f_noise, lz_add(x[0], lz_random_normal((int[]){3}, 1, LZ_FLOAT32, 0, 1, x[1])))
BODY(f_bernoulli, lz_random_bernoulli(x[0], NULL, 0, x[1]))

static void test_random(void) {
  /* a mapped key: each example samples with its own key */
  vt_in k[1] = {VT_IN(LZ_UINT32, 0, 1, 0, 2)};
  k[0].given = lz_random_split(lz_random_key(7), 3);
  vt_check("uniform, mapped key", f_uniform, k, 1, 0);
  /* an unmapped key: the same draw for each example (the loop uses that key each time) */
  vt_in n[2] = {VT_F32(1, 3), VT_IN(LZ_UINT32, 0, 1, NONE, 2)};
  n[1].given = lz_random_key(11);
  vt_check("normal, unmapped key", f_noise, n, 2, TOL);
  vt_in b[2] = {VT_IN(LZ_FLOAT32, 0, 1, 0, 4), VT_IN(LZ_UINT32, 0, 1, NONE, 2)};
  b[1].given = lz_random_key(5);
  vt_check("bernoulli, mapped p, unmapped key", f_bernoulli, b, 2, 0);
}

int main(void) {
  RUN(test_elementwise);
  RUN(test_reduce);
  RUN(test_scan_sort);
  RUN(test_shape);
  RUN(test_matmul);
  RUN(test_indexing);
  RUN(test_linalg);
  RUN(test_random);
  return lzt_summary();
}
