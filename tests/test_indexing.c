/* Gathers (take, take_flat, take_along_axis, gather, slice_dynamic) and the data-dependent
 * selections (nonzero, unique, mask_select) against NumPy reference values, over dtypes, index
 * dtypes, negative indices, strided and broadcast inputs, empty arrays and errors. */
#include "data/indexing_refs.h"
#include "indexing_testutil.h"


static const lz_dtype value_dtypes[] = {LZ_FLOAT32, LZ_FLOAT64, LZ_FLOAT16, LZ_BFLOAT16, LZ_INT32,
                                        LZ_INT64,   LZ_UINT8,   LZ_INT8,    LZ_UINT16,   LZ_UINT64};
enum { NDTYPES = sizeof value_dtypes / sizeof value_dtypes[0] };

/* take along each axis and flattened, over value dtypes and index dtypes, negative indices. */
static void test_take(void) {
  for (int k = 0; k < NDTYPES; k++) {
    lz_dtype dt = value_dtypes[k];
    lz_array *a = REF(take_a, dt);
    lz_array *r0 = lz_take(a, REF(take_i0, LZ_INT32), 0);
    CHECK(lz_array_dtype(r0) == dt);
    CHECK_REF(r0, take_ax0, 0);
    CHECK_REF(lz_take(a, REF(take_i1, LZ_INT64), 1), take_ax1, 0);
    CHECK_REF(lz_take(a, REF(take_i2, LZ_INT8), -1), take_axm1, 0);
    CHECK_REF(lz_take_flat(a, REF(take_iflat, LZ_INT16)), take_flat, 0);
  }
  lz_array *a = REF(take_a, LZ_FLOAT32);
  CHECK_REF(lz_take(a, lz_scalar(2, LZ_UINT8), 1), take_scalar, 0); /* a 0-d index drops the axis */
  int iv[3] = {2, 2, -3}, is[1] = {3};
  CHECK_REF(lz_take(REF(take_af, LZ_FLOAT32), i32(iv, is, 1), 1), take_af_ax1, 1e-6);
  CHECK_REF(lz_take(REF(take_af, LZ_FLOAT64), i32(iv, is, 1), 1), take_af_ax1, 0);
  /* bool values */
  bool bv[4] = {true, false, false, true};
  int bs[1] = {4}, bi[3] = {-1, 1, 0};
  double bw[3] = {1, 0, 1};
  CHECK_VALUES(lz_take(lz_array_from_data(bv, bs, 1, LZ_BOOL), i32(bi, is, 1), 0), bw, 3, 0);
}

/* Strided inputs: transposed and reversed arrays and indices, broadcast (stride-0) arrays. */
static void test_take_strided(void) {
  lz_array *a = REF(take_a, LZ_FLOAT32);
  lz_array *t = lz_transpose(a, NULL, 0); /* (5,4,3) */
  lz_array *i1 = REF(take_i1, LZ_INT32);
  /* take(a^T, i, axis 1) == transpose of take(a, i, axis 1) with the axes permuted */
  lz_array *got = lz_take(t, i1, 1); /* (5,2,3,3) */
  int perm[4] = {3, 1, 2, 0};
  lz_array *want = lz_transpose(lz_take(a, i1, 1), perm, 4); /* (3,2,3,5) -> (5,2,3,3) */
  CHECK_SHAPE(got, 5, 2, 3, 3);
  double w[90], g[90];
  CHECK(lz_array_read(want, LZ_FLOAT64, w, sizeof w) == 0);
  CHECK_VALUES(got, w, 90, 0);
  /* a transposed index array gives what its contiguous copy gives */
  lz_array *it2 = lz_transpose(i1, NULL, 0); /* (3,2) view */
  lz_array *r = lz_take(a, it2, 1);          /* (3,3,2,5) */
  lz_array *r2 = lz_take(a, lz_contiguous(it2), 1);
  CHECK(lz_array_read(r2, LZ_FLOAT64, w, sizeof w) == 0);
  CHECK(lz_array_read(r, LZ_FLOAT64, g, sizeof g) == 0);
  CHECK(memcmp(w, g, sizeof w) == 0);
  /* reversed (negative stride, offset) array: a[::-1] taken at i == a taken at -1 - i */
  int st[3] = {-1, 0, 0}, sp[3] = {-4, 4, 5}, ss[3] = {-1, 1, 1};
  lz_array *rev = lz_slice(a, st, sp, ss, 3);
  int ri[4] = {0, -1, 2, 1}, rs[1] = {4}, ri2[4] = {-1, 0, -3, -2};
  lz_array *x = lz_take(rev, i32(ri, rs, 1), 0), *y = lz_take(a, i32(ri2, rs, 1), 0);
  double xv[80], yv[80];
  CHECK(lz_array_read(x, LZ_FLOAT64, xv, sizeof xv) == 0);
  CHECK(lz_array_read(y, LZ_FLOAT64, yv, sizeof yv) == 0);
  CHECK(memcmp(xv, yv, sizeof xv) == 0);
  /* broadcast: every row of a stride-0 array is the same */
  double rowv[5] = {1, 2, 3, 4, 5};
  int rshape[1] = {5}, bshape[2] = {6, 5}, bi[3] = {5, 0, -1}, bis[1] = {3};
  lz_array *b = lz_broadcast_to(lz_array_from_data(rowv, rshape, 1, LZ_FLOAT64), bshape, 2);
  double bw[15] = {1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5};
  CHECK_VALUES(lz_take(b, i32(bi, bis, 1), 0), bw, 15, 0);
  int ci[2] = {4, -5}, cis[1] = {2};
  lz_array *c = lz_take(b, i32(ci, cis, 1), 1);
  CHECK_SHAPE(c, 6, 2);
  double cw[12] = {5, 1, 5, 1, 5, 1, 5, 1, 5, 1, 5, 1};
  CHECK_VALUES(c, cw, 12, 0);
  int fs[2] = {3, 4}, fi[2] = {3, -4}, fis[1] = {2};
  lz_array *f = lz_full(fs, 2, 2.5, LZ_FLOAT16);
  double fw[6] = {2.5, 2.5, 2.5, 2.5, 2.5, 2.5};
  CHECK_VALUES(lz_take(f, i32(fi, fis, 1), 1), fw, 6, 0);
  CHECK_VALUES(lz_take_flat(f, i32(fi, fis, 1)), fw, 2, 0);
  /* a broadcast index array (lz_full is a stride-0 view) */
  int ishape[2] = {2, 3};
  lz_array *ib = lz_full(ishape, 2, -1, LZ_INT32);
  lz_array *tb = lz_take(a, ib, 2);
  CHECK_SHAPE(tb, 3, 4, 2, 3);
  CHECK_CLOSE(lz_item_f64(lz_take_flat(tb, lz_int(0))), take_a[4], 0);
}

/* take_along_axis: argsort order, indices broadcast along the other axes, axis 0. */
static void test_take_along_axis(void) {
  lz_dtype dts[3] = {LZ_FLOAT32, LZ_INT16, LZ_BFLOAT16};
  for (int k = 0; k < 3; k++) {
    lz_array *a = REF(tal_a, dts[k]);
    CHECK_REF(lz_take_along_axis(a, REF(tal_i1, LZ_INT64), 1), tal_ax1, 0);
    CHECK_REF(lz_take_along_axis(a, REF(tal_ib, LZ_INT32), -1), tal_bcast, 0);
    CHECK_REF(lz_take_along_axis(a, REF(tal_i0, LZ_INT8), 0), tal_ax0, 0);
  }
  /* a transposed input: take_along_axis(a^T, i^T, 0) == take_along_axis(a, i, 1)^T */
  lz_array *a = REF(tal_a, LZ_FLOAT32), *i = REF(tal_i1, LZ_INT32);
  lz_array *x = lz_take_along_axis(lz_transpose(a, NULL, 0), lz_transpose(i, NULL, 0), 0);
  lz_array *y = lz_transpose(lz_take_along_axis(a, i, 1), NULL, 0);
  double xv[12], yv[12];
  CHECK(lz_array_read(x, LZ_FLOAT64, xv, sizeof xv) == 0);
  CHECK(lz_array_read(y, LZ_FLOAT64, yv, sizeof yv) == 0);
  CHECK(memcmp(xv, yv, sizeof xv) == 0);
  CHECK_ERROR(lz_take_along_axis(a, REF(take_i0, LZ_INT32), 1), "indices have 1 dims");
  int bad[2] = {2, 2}, tall[2] = {2, 4};
  CHECK_ERROR(lz_take_along_axis(a, lz_zeros(bad, 2, LZ_INT32), 1), "do not broadcast");
  CHECK_EVAL_ERROR(lz_take_along_axis(a, lz_full(tall, 2, 4, LZ_INT32), 0),
                   "[lz_take_along_axis] index 4 is out of bounds for axis 0 with size 3");
}

/* MLX's gather with broadcast index arrays and slices; slice_dynamic. */
static void test_gather_and_dynamic_slice(void) {
  lz_array *a = REF(take_a, LZ_FLOAT32);
  lz_array *idx[2] = {REF(gather_i0, LZ_INT32), REF(gather_i1, LZ_INT64)};
  int axes[2] = {0, 2}, sizes[3] = {1, 2, 2};
  CHECK_REF(lz_gather(a, idx, axes, 2, sizes), gather_out, 0);
  int one[1] = {1}, ov[2] = {1, 0}, os[1] = {2}, sizes1[3] = {3, 1, 5};
  lz_array *i1 = i32(ov, os, 1);
  CHECK_REF(lz_gather(a, &i1, one, 1, sizes1), gather_one, 0);
  int all[3] = {1, 2, 3};
  lz_array *whole = lz_gather(a, NULL, NULL, 0, all); /* no index: a[:1, :2, :3] */
  CHECK_SHAPE(whole, 1, 2, 3);
  CHECK_CLOSE(lz_item_f64(lz_take_flat(whole, lz_int(5))), take_a[7], 0);
  int big[3] = {3, 5, 1};
  CHECK_ERROR(lz_gather(a, &i1, one, 1, big), "do not fit");
  int rep[2] = {1, 1};
  lz_array *two[2] = {i1, i1};
  CHECK_ERROR(lz_gather(a, two, rep, 2, sizes), "repeated axis");
  int sv[3] = {3, 4, 5};
  CHECK_EVAL_ERROR(lz_gather(a, &i1, one, 1, sv),
                   "[lz_gather] index 1 with slice size 4 is out of bounds for axis 1 with size 4");

  int st[2] = {1, 2}, sts[1] = {2}, dax[2] = {0, 2}, dsz[3] = {2, 4, 3};
  CHECK_REF(lz_slice_dynamic(a, i32(st, sts, 1), dax, 2, dsz), dslice_out, 0);
  int neg[2] = {-2, -3};
  CHECK_REF(lz_slice_dynamic(a, lz_astype(i32(neg, sts, 1), LZ_INT64), dax, 2, dsz), dslice_out, 0);
  /* the start is data: computed lazily from other ops */
  lz_array *start = lz_add(i32(st, sts, 1), lz_int(0));
  CHECK_REF(lz_slice_dynamic(lz_transpose(lz_transpose(a, NULL, 0), NULL, 0), start, dax, 2, dsz),
            dslice_out, 0);
  int oob[2] = {2, 0};
  CHECK_EVAL_ERROR(lz_slice_dynamic(a, i32(oob, sts, 1), dax, 2, dsz),
                   "index 2 with slice size 2 is out of bounds for axis 0 with size 3");
  CHECK_ERROR(lz_slice_dynamic(a, lz_astype(i32(st, sts, 1), LZ_FLOAT32), dax, 2, dsz),
              "start indices must be integers, got float32");
  CHECK_ERROR(lz_slice_dynamic(a, i32(st, sts, 1), dax, 1, dsz), "2 start indices for 1 axes");
  int toobig[3] = {4, 4, 3};
  CHECK_ERROR(lz_slice_dynamic(a, i32(st, sts, 1), dax, 2, toobig), "does not fit");
  /* a 0-d start for one axis */
  int ax1[1] = {1}, sz1[3] = {3, 2, 5};
  lz_array *s = lz_slice_dynamic(a, lz_scalar(-2, LZ_INT32), ax1, 1, sz1);
  CHECK_SHAPE(s, 3, 2, 5);
  CHECK_CLOSE(lz_item_f64(lz_take_flat(s, lz_int(0))), take_a[10], 0);
}

/* Errors: bad axes, non-integer indices, out of bounds at evaluation, NULL inputs. */
static void test_take_errors(void) {
  lz_array *a = REF(take_a, LZ_FLOAT32), *i = REF(take_i0, LZ_INT32);
  CHECK_ERROR(lz_take(a, i, 3), "[lz_take] axis 3 is out of bounds for array of dimension 3");
  CHECK_ERROR(lz_take(a, i, -4), "axis -4 is out of bounds");
  CHECK_ERROR(lz_take(a, lz_astype(i, LZ_FLOAT32), 0),
              "[lz_take] indices must be integers, got float32");
  CHECK_ERROR(lz_take(a, lz_astype(i, LZ_BOOL), 0), "indices must be integers, got bool");
  CHECK_ERROR(lz_take(lz_scalar(1, LZ_FLOAT32), i, 0), "out of bounds for array of dimension 0");
  CHECK_ERROR(lz_take(a, NULL, 0), "argument 1 is NULL");
  int v[2] = {7, 0}, s[1] = {2};
  lz_array *five = lz_arange(0, 5, 1, LZ_FLOAT32);
  CHECK_EVAL_ERROR(lz_take(five, i32(v, s, 1), 0),
                   "[lz_take] index 7 is out of bounds for axis 0 with size 5");
  int nv[2] = {0, -6};
  CHECK_EVAL_ERROR(lz_take(five, i32(nv, s, 1), 0), "index -6 is out of bounds for axis 0");
  CHECK_EVAL_ERROR(lz_take_flat(a, lz_int(60)),
                   "[lz_take_flat] index 60 is out of bounds for size 60");
  CHECK_EVAL_ERROR(lz_take(five, lz_scalar(1e19, LZ_UINT64), 0), "out of bounds");
  /* the failed array stays pending and the error is reported again, without a crash */
  lz_array *bad = lz_take(five, i32(v, s, 1), 0);
  CHECK_EVAL_ERROR(bad, "index 7");
  CHECK_EVAL_ERROR(bad, "index 7");
}

/* Empty index arrays, empty axes and 0-d arrays. */
static void test_take_empty(void) {
  lz_array *a = REF(take_a, LZ_FLOAT32);
  int zero[1] = {0};
  lz_array *none = lz_zeros(zero, 1, LZ_INT32);
  lz_array *r = lz_take(a, none, 1);
  CHECK_SHAPE(r, 3, 0, 5);
  CHECK(lz_eval(r) == 0);
  CHECK_SHAPE(lz_take_flat(a, none), 0);
  int es[2] = {0, 4};
  lz_array *empty = lz_zeros(es, 2, LZ_FLOAT32);
  lz_array *e2 = lz_take(empty, lz_int(3), 1);
  CHECK_SHAPE(e2, 0);
  CHECK(lz_eval(e2) == 0);
  CHECK_SHAPE(lz_take(empty, none, 0), 0, 4);
  CHECK(lz_eval(lz_take(empty, none, 0)) == 0);
  CHECK_EVAL_ERROR(lz_take(empty, lz_int(0), 0), "index 0 is out of bounds for axis 0 with size 0");
  CHECK_CLOSE(lz_item_f64(lz_take_flat(lz_scalar(4, LZ_INT8), lz_int(-1))), 4, 0);
  lz_array *idx2[1] = {none};
  int ax0[1] = {0}, sz[3] = {1, 4, 5};
  CHECK_SHAPE(lz_gather(a, idx2, ax0, 1, sz), 0, 1, 4, 5);
}

/* A large take runs through the parallel path and matches an element-by-element reference. */
static void test_take_large(void) {
  enum { R = 1000, C = 64, K = 5000 };
  lz_array *a = lz_reshape(lz_arange(0, R * C, 1, LZ_FLOAT32), (int[]){R, C}, 2);
  int *iv = malloc(K * sizeof *iv);
  for (int k = 0; k < K; k++) iv[k] = (int)((k * 7919L) % (2 * R)) - R;
  lz_array *idx = lz_array_from_data(iv, (int[]){K}, 1, LZ_INT32);
  const float *rows = lz_array_data(lz_take(a, idx, 0));
  const float *cols = lz_array_data(lz_take(lz_transpose(a, NULL, 0), idx, 1));
  int bad = 0;
  for (int k = 0; rows && cols && k < K; k++) {
    int r = iv[k] < 0 ? iv[k] + R : iv[k];
    for (int c = 0; c < C; c++) {
      bad += rows[(size_t)k * C + c] != (float)(r * C + c);
      bad += cols[(size_t)c * K + k] != (float)(r * C + c);
    }
  }
  CHECK(rows && cols && bad == 0);
  free(iv);
}

/* nonzero, unique (+inverse, counts, NaN) and mask_select. */
static void test_data_dependent(void) {
  lz_array *nz = lz_nonzero(REF(nz_a, LZ_FLOAT32));
  CHECK(lz_array_dtype(nz) == LZ_INT32);
  CHECK_REF(nz, nz_out, 0);
  CHECK_REF(lz_nonzero(lz_not_equal(REF(nz_a, LZ_FLOAT16), lz_float(0))), nz_out, 0);
  CHECK_REF(lz_nonzero(lz_transpose(lz_transpose(REF(nz_a, LZ_FLOAT64), NULL, 0), NULL, 0)), nz_out,
            0);
  CHECK_SHAPE(lz_nonzero(lz_scalar(3, LZ_INT32)), 1, 0);
  CHECK_SHAPE(lz_nonzero(lz_scalar(0, LZ_INT32)), 0, 0);

  lz_array *inv = NULL, *cnt = NULL;
  lz_array *u = lz_unique(REF(uniq_a, LZ_FLOAT32), &inv, &cnt);
  CHECK_REF(u, uniq_vals, 0);
  CHECK_REF(inv, uniq_inv, 0);
  CHECK_REF(cnt, uniq_cnt, 0);
  CHECK(lz_array_dtype(u) == LZ_FLOAT32);
  CHECK_REF(lz_unique(REF(uniq_ia, LZ_INT64), NULL, NULL), uniq_ivals, 0);
  CHECK_REF(lz_unique(lz_transpose(REF(uniq_ia, LZ_INT16), NULL, 0), NULL, NULL), uniq_ivals, 0);
  int zero[1] = {0};
  CHECK_SHAPE(lz_unique(lz_zeros(zero, 1, LZ_UINT8), NULL, NULL), 0);
  CHECK_ERROR(lz_unique(NULL, &inv, NULL), "argument 0 is NULL");
  CHECK(inv == NULL);

  lz_array *a = REF(msel_a, LZ_FLOAT32);
  lz_array *lazy = lz_add(a, lz_float(0));
  lz_array *mask = lz_astype(REF(msel_mask, LZ_FLOAT32), LZ_BOOL);
  lz_array *m = lz_mask_select(lazy, mask);
  CHECK(!lz_array_is_evaluated(lazy)); /* only the mask was evaluated */
  CHECK_REF(m, msel_out, 0);
  lz_array *m2 = lz_mask_select(
      lz_take_flat(a, lz_reshape(lz_arange(0, 24, 1, LZ_INT32), (int[]){3, 4, 2}, 3)),
      lz_transpose(lz_transpose(mask, NULL, 0), NULL, 0));
  CHECK_REF(m2, msel_out, 0);
  int p021[3] = {0, 2, 1}; /* same values, trailing dims strided */
  lz_array *at = lz_transpose(lz_contiguous(lz_transpose(a, p021, 3)), p021, 3);
  CHECK_REF(lz_mask_select(at, mask), msel_out, 0);
  CHECK_SHAPE(lz_mask_select(a, lz_bool(true)), 1, 3, 4, 2);
  CHECK_ERROR(lz_mask_select(a, REF(msel_mask, LZ_FLOAT32)), "the mask must be bool, got float32");
  CHECK_ERROR(lz_mask_select(a, lz_transpose(mask, NULL, 0)), "does not match the leading dims");
}

int main(void) {
  RUN(test_take);
  RUN(test_take_strided);
  RUN(test_take_along_axis);
  RUN(test_gather_and_dynamic_slice);
  RUN(test_take_errors);
  RUN(test_take_empty);
  RUN(test_take_large);
  RUN(test_data_dependent);
  return lzt_summary();
}
