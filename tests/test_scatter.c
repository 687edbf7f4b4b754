/* Scatters (the at_* family, put_along_axis, MLX's scatter family, slice_update and
 * slice_update_dynamic) against NumPy reference values (np.<ufunc>.at for repeated indices):
 * dtypes, negative indices, broadcast values, strided inputs, empty indices and errors. */
#include "data/indexing_refs.h"
#include "indexing_testutil.h"

/* Every at_* op with repeated and negative indices, in several dtypes. */
static void test_at_ops(void) {
  lz_dtype dts[6] = {LZ_FLOAT32, LZ_FLOAT64, LZ_INT32, LZ_INT64, LZ_FLOAT16, LZ_BFLOAT16};
  for (int k = 0; k < 6; k++) {
    lz_dtype dt = dts[k];
    lz_array *a = REF(at_a, dt), *i = REF(at_i, LZ_INT64), *v = REF(at_v, dt);
    lz_array *r = lz_at_add(a, i, v, 0);
    CHECK(lz_array_dtype(r) == dt);
    CHECK_REF(r, at_add, 0);
    CHECK_REF(lz_at_subtract(a, i, v, 0), at_subtract, 0);
    CHECK_REF(lz_at_maximum(a, i, v, 0), at_maximum, 0);
    CHECK_REF(lz_at_minimum(a, lz_astype(i, LZ_INT8), v, 0), at_minimum, 0);
    if (dt != LZ_FLOAT16 && dt != LZ_BFLOAT16) /* products overflow half precision's integers */
      CHECK_REF(lz_at_multiply(a, i, v, 0), at_multiply, 0);
    if (dt == LZ_FLOAT32 || dt == LZ_FLOAT64)
      CHECK_REF(lz_at_divide(a, i, v, 0), at_divide, dt == LZ_FLOAT32 ? 1e-6 : 1e-15);
  }
  /* set: distinct indices; values taken from a (6,3) array's first rows */
  int si[3] = {4, 1, -2}, ss[1] = {3};
  lz_array *v3 = lz_take(REF(at_v, LZ_FLOAT32), lz_arange(0, 3, 1, LZ_INT32), 0);
  CHECK_REF(lz_at_set(REF(at_a, LZ_FLOAT32), i32(si, ss, 1), v3, 0), at_set, 0);
  /* axis 1 with a 2-d index array and values broadcast from (2,1) */
  CHECK_REF(lz_at_add(REF(at1_a, LZ_INT32), REF(at1_i, LZ_INT16), REF(at1_v, LZ_INT32), 1), at1_add,
            0);
  CHECK_REF(lz_at_add(REF(at1_a, LZ_FLOAT32), REF(at1_i, LZ_INT64), REF(at1_v, LZ_FLOAT32), -1),
            at1_add, 0);
  /* float16 accumulation rounds at every step, as np.add.at does */
  int hi[7] = {0, 0, 0, 1, 0, 2, 0}, hs[1] = {7}, zs[1] = {3};
  lz_array *h = lz_at_add(lz_zeros(zs, 1, LZ_FLOAT16), i32(hi, hs, 1), lz_float(0.1), 0);
  CHECK_REF(h, at_f16, 0);
  /* values convert to a's dtype (MLX): int32 + 2.7 -> 2 added */
  int one[1] = {0}, os[1] = {1};
  double want[3] = {2, 0, 0};
  CHECK_VALUES(lz_at_add(lz_zeros(zs, 1, LZ_INT32), i32(one, os, 1), lz_scalar(2.7, LZ_FLOAT32), 0),
               want, 3, 0);
}

/* The last of repeated "set" updates wins; the input is never modified. */
static void test_at_set_order_and_purity(void) {
  int iv[4] = {1, 1, -3, 2}, is[1] = {4};
  double vals[4] = {10, 20, 30, 40};
  lz_array *a = lz_arange(0, 4, 1, LZ_FLOAT32);
  lz_array *v = lz_array_from_data(vals, is, 1, LZ_FLOAT64);
  lz_array *r = lz_at_set(a, i32(iv, is, 1), v, 0);
  double want[4] = {0, 30, 40, 3};
  CHECK_VALUES(r, want, 4, 0);
  double orig[4] = {0, 1, 2, 3};
  CHECK_VALUES(a, orig, 4, 0);
}

/* Strided inputs: transposed a and indices, broadcast (stride-0) a and values. */
static void test_at_strided(void) {
  /* at_add on a^T along axis 1 == (at_add on a along axis 0)^T */
  lz_array *a = REF(at_a, LZ_FLOAT32), *i = REF(at_i, LZ_INT32), *v = REF(at_v, LZ_FLOAT32);
  lz_array *x = lz_at_add(lz_transpose(a, NULL, 0), i, lz_transpose(v, NULL, 0), 1);
  lz_array *y = lz_transpose(REF(at_add, LZ_FLOAT32), NULL, 0);
  double xv[15], yv[15];
  CHECK(lz_array_read(x, LZ_FLOAT64, xv, sizeof xv) == 0);
  CHECK(lz_array_read(y, LZ_FLOAT64, yv, sizeof yv) == 0);
  CHECK(memcmp(xv, yv, sizeof xv) == 0);
  /* a stride-0 input and stride-0 values */
  int s[2] = {3, 4}, iv[3] = {0, -1, 0}, is[1] = {3};
  CHECK_ERROR(lz_at_add(lz_full(s, 2, 1, LZ_INT32), i32(iv, is, 1), lz_full(s, 2, 5, LZ_INT32), 1),
              "values of shape (3,4) do not broadcast to the updated shape (3,3)");
  int vs[1] = {3};
  lz_array *g =
      lz_at_add(lz_full(s, 2, 1, LZ_INT32), i32(iv, is, 1), lz_full(vs, 1, 5, LZ_INT32), 1);
  double gw[12] = {11, 1, 1, 6, 11, 1, 1, 6, 11, 1, 1, 6};
  CHECK_VALUES(g, gw, 12, 0);
  /* an index array read through a transposed view */
  int i2[4] = {0, 1, 1, 0}, i2s[2] = {2, 2};
  lz_array *it = lz_transpose(i32(i2, i2s, 2), NULL, 0); /* [[0,1],[1,0]] */
  lz_array *h = lz_at_add(lz_zeros(vs, 1, LZ_FLOAT32), it, lz_float(1), 0);
  double hw[3] = {2, 2, 0};
  CHECK_VALUES(h, hw, 3, 0);
}

/* put_along_axis along each axis, with broadcast indices and values. */
static void test_put_along_axis(void) {
  lz_dtype dts[3] = {LZ_FLOAT32, LZ_INT64, LZ_BFLOAT16};
  for (int k = 0; k < 3; k++) {
    lz_array *a = REF(pal_a, dts[k]);
    CHECK_REF(lz_put_along_axis(a, REF(pal_i, LZ_INT32), REF(pal_v, dts[k]), 1), pal_ax1, 0);
  }
  int iv[4] = {2, 0, 1, 0}, is[2] = {1, 4};
  lz_array *a = REF(pal_a, LZ_FLOAT32);
  CHECK_REF(lz_put_along_axis(a, i32(iv, is, 2), lz_float(-7), 0), pal_ax0, 0);
  CHECK_REF(lz_put_along_axis(lz_transpose(lz_transpose(a, NULL, 0), NULL, 0), i32(iv, is, 2),
                              lz_float(-7), -2),
            pal_ax0, 0);
  CHECK_ERROR(lz_put_along_axis(a, i32(iv, is, 2), REF(pal_v, LZ_FLOAT32), 0), "do not broadcast");
  CHECK_EVAL_ERROR(lz_put_along_axis(a, lz_add(i32(iv, is, 2), lz_int(1)), lz_float(0), 0),
                   "[lz_put_along_axis] index 3 is out of bounds for axis 0 with size 3");
}

/* MLX's scatter family: rows, single elements from two broadcast index arrays, blocks. */
static void test_scatter_family(void) {
  lz_array *a = REF(sc_a, LZ_FLOAT32), *u = REF(sc_u, LZ_FLOAT32);
  lz_array *i = REF(sc_i, LZ_INT32);
  int ax0[1] = {0};
  CHECK_REF(lz_scatter_add(a, &i, ax0, 1, u), sc_add, 0);
  CHECK_REF(lz_scatter_prod(a, &i, ax0, 1, u), sc_prod, 0);
  CHECK_REF(lz_scatter_max(a, &i, ax0, 1, lz_astype(u, LZ_INT32)), sc_max, 0);
  CHECK_REF(lz_scatter_min(lz_astype(a, LZ_UINT8), &i, ax0, 1, u), sc_min, 0);
  lz_array *i2 = lz_take(i, lz_arange(0, 2, 1, LZ_INT32), 0);
  lz_array *u2 = lz_take(u, lz_arange(0, 2, 1, LZ_INT32), 0);
  CHECK_REF(lz_scatter(a, &i2, ax0, 1, u2), sc_set, 0);
  lz_array *rc[2] = {REF(sc2_r, LZ_INT64), REF(sc2_c, LZ_INT8)};
  int ax01[2] = {0, 1};
  CHECK_REF(lz_scatter_add(a, rc, ax01, 2, REF(sc2_u, LZ_FLOAT32)), sc2_add, 0);
  int ax1[1] = {1}, bv[2] = {0, 1}, bs[1] = {2};
  lz_array *bi = i32(bv, bs, 1);
  CHECK_REF(lz_scatter_add(a, &bi, ax1, 1, REF(sc3_u, LZ_FLOAT32)), sc3_add, 0);
  /* blocks that overlap (size 2 along the indexed axis) accumulate */
  CHECK_REF(lz_scatter_add(lz_transpose(lz_transpose(a, NULL, 0), NULL, 0), &bi, ax1, 1,
                           REF(sc3_u, LZ_FLOAT64)),
            sc3_add, 0);
  /* errors */
  CHECK_ERROR(lz_scatter_add(a, &i, ax0, 1, REF(sc2_u, LZ_FLOAT32)), "do not fit");
  CHECK_ERROR(lz_scatter_add(a, &i, ax0, 1, a), "updates of shape (4,5) do not fit");
  int bad[1] = {2};
  CHECK_ERROR(lz_scatter_add(a, &i, bad, 1, u), "axis 2 is out of bounds");
  CHECK_ERROR(lz_scatter(a, rc, ax01, 3, u), "3 index arrays for an array of 2 dims");
  lz_array *fi = lz_astype(i, LZ_FLOAT32);
  CHECK_ERROR(lz_scatter(a, &fi, ax0, 1, u), "indices must be integers, got float32");
  int ov[3] = {1, 4, 0}, os[1] = {3};
  lz_array *oob = i32(ov, os, 1);
  CHECK_EVAL_ERROR(lz_scatter_add(a, &oob, ax0, 1, u),
                   "[lz_scatter_add] index 4 is out of bounds for axis 0 with size 4");
  lz_array *b3 = lz_full(bs, 1, 4, LZ_INT32);
  CHECK_EVAL_ERROR(lz_scatter_add(a, &b3, ax1, 1, REF(sc3_u, LZ_FLOAT32)),
                   "index 4 with slice size 2 is out of bounds for axis 1 with size 5");
}

/* Static and dynamic slice updates. */
static void test_slice_update(void) {
  lz_array *a = REF(su_a, LZ_FLOAT32);
  double v3[3] = {7, 8, 9};
  int s3[1] = {3};
  lz_array *row = lz_array_from_data(v3, s3, 1, LZ_FLOAT64);
  int st[2] = {1, 0}, sp[2] = {4, 5}, ss[2] = {2, 2};
  CHECK_REF(lz_slice_update(a, row, st, sp, ss), su_step, 0);
  CHECK_REF(lz_slice_update(lz_astype(a, LZ_INT16), row, st, sp, ss), su_step, 0);
  double v4[4] = {1, 2, 3, 4};
  int s22[2] = {2, 2};
  int nst[2] = {3, -1}, nsp[2] = {-2147483647 - 1, 0}, nss[2] = {-2, -2};
  CHECK_REF(lz_slice_update(a, lz_array_from_data(v4, s22, 2, LZ_FLOAT64), nst, nsp, nss), su_neg,
            0);
  /* an empty slice changes nothing; a zero step is an error */
  int e0[2] = {3, 0}, e1[2] = {1, 5};
  CHECK_REF(lz_slice_update(a, lz_float(5), e0, e1, NULL), su_a, 0);
  int z[2] = {1, 0};
  CHECK_ERROR(lz_slice_update(a, row, st, sp, z), "slice step cannot be zero");
  CHECK_ERROR(lz_slice_update(a, lz_array_from_data(v4, s22, 2, LZ_FLOAT64), st, sp, ss),
              "do not broadcast");

  lz_array *d = REF(sud_a, LZ_FLOAT32), *u = REF(sud_u, LZ_FLOAT32);
  int sv[2] = {1, 2}, svs[1] = {2}, ax[2] = {1, 2};
  CHECK_REF(lz_slice_update_dynamic(d, u, i32(sv, svs, 1), ax, 2), sud_out, 0);
  int nv[2] = {1, -3}, ax02[2] = {0, 2};
  CHECK_REF(lz_slice_update_dynamic(lz_astype(d, LZ_INT32), u, i32(nv, svs, 1), ax02, 2), sud_neg,
            0);
  int ov[2] = {3, 0};
  CHECK_EVAL_ERROR(lz_slice_update_dynamic(d, u, i32(ov, svs, 1), ax, 2),
                   "[lz_slice_update_dynamic] index 3 with slice size 2 is out of bounds for axis "
                   "1 with size 4");
  CHECK_ERROR(lz_slice_update_dynamic(d, lz_transpose(d, NULL, 0), i32(sv, svs, 1), ax, 2),
              "update of shape (5,4,3) does not fit in an array of shape (3,4,5)");
  int ax01[2] = {0, 1};
  CHECK_ERROR(lz_slice_update_dynamic(u, d, i32(sv, svs, 1), ax01, 2), "does not fit");
  CHECK_ERROR(lz_slice_update_dynamic(d, u, lz_astype(i32(sv, svs, 1), LZ_FLOAT32), ax, 2),
              "start indices must be integers");
}

/* Errors of the at_* family and empty index arrays. */
static void test_scatter_errors_and_empty(void) {
  lz_array *a = REF(at_a, LZ_FLOAT32), *i = REF(at_i, LZ_INT32), *v = REF(at_v, LZ_FLOAT32);
  CHECK_ERROR(lz_at_add(a, i, v, 2), "[lz_at_add] axis 2 is out of bounds");
  CHECK_ERROR(lz_at_add(a, lz_astype(i, LZ_FLOAT64), v, 0), "indices must be integers");
  CHECK_ERROR(lz_at_add(a, i, a, 0), "[lz_at_add] values of shape (5,3) do not broadcast");
  CHECK_ERROR(lz_at_divide(lz_astype(a, LZ_INT32), i, v, 0),
              "[lz_at_divide] needs a floating dtype, got int32");
  CHECK_ERROR(lz_at_subtract(lz_astype(a, LZ_BOOL), i, v, 0), "subtract is not supported for bool");
  CHECK_ERROR(lz_at_add(NULL, i, v, 0), "argument 0 is NULL");
  int ov[2] = {0, 5}, os[1] = {2};
  CHECK_EVAL_ERROR(lz_at_add(a, i32(ov, os, 1), lz_float(1), 0),
                   "[lz_at_add] index 5 is out of bounds for axis 0 with size 5");
  int zero[1] = {0};
  lz_array *none = lz_zeros(zero, 1, LZ_INT32);
  CHECK_REF(lz_at_add(a, none, lz_float(1), 0), at_a, 0);
  CHECK_REF(lz_at_set(a, none, lz_float(1), 1), at_a, 0);
  int ax0[1] = {0}, us[3] = {0, 1, 3};
  CHECK_REF(lz_scatter_add(a, &none, ax0, 1, lz_zeros(us, 3, LZ_FLOAT32)), at_a, 0);
  /* a 0-d result of at_* on a 1-d array with a 0-d index */
  lz_array *x = lz_at_multiply(lz_arange(1, 4, 1, LZ_FLOAT32), lz_int(-1), lz_float(10), 0);
  double xw[3] = {1, 2, 30};
  CHECK_VALUES(x, xw, 3, 0);
  /* bool: add is "or", set copies */
  bool bv[3] = {false, true, false};
  int bs[1] = {3}, bi[2] = {0, 0};
  lz_array *b = lz_at_add(lz_array_from_data(bv, bs, 1, LZ_BOOL), i32(bi, os, 1), lz_bool(true), 0);
  double bw[3] = {1, 1, 0};
  CHECK_VALUES(b, bw, 3, 0);
}

/* A large scatter-add runs on the parallel path and matches a serial reference. */
static void test_scatter_large(void) {
  enum { R = 300, C = 128, K = 4000 };
  int *iv = malloc(K * sizeof *iv);
  for (int k = 0; k < K; k++) iv[k] = (int)((k * 7919L) % R);
  lz_array *idx = lz_array_from_data(iv, (int[]){K}, 1, LZ_INT32);
  int shape[2] = {R, C}, vshape[2] = {K, C};
  lz_array *r = lz_at_add(lz_zeros(shape, 2, LZ_FLOAT32), idx, lz_ones(vshape, 2, LZ_FLOAT32), 0);
  const float *d = lz_array_data(r);
  int *cnt = calloc(R, sizeof *cnt);
  for (int k = 0; k < K; k++) cnt[iv[k]]++;
  int bad = 0;
  for (int i = 0; d && i < R; i++)
    for (int c = 0; c < C; c++) bad += d[(size_t)i * C + c] != (float)cnt[i];
  CHECK(d && bad == 0);
  free(cnt);
  free(iv);
}

int main(void) {
  RUN(test_at_ops);
  RUN(test_at_set_order_and_purity);
  RUN(test_at_strided);
  RUN(test_put_along_axis);
  RUN(test_scatter_family);
  RUN(test_slice_update);
  RUN(test_scatter_errors_and_empty);
  RUN(test_scatter_large);
  return lzt_summary();
}
