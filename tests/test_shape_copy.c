/* Shape ops that copy (concatenate, stack, tile, repeat, pad, roll, diag, kron) and the
 * patterned creation ops (linspace, eye, tri, tril, triu, meshgrid, windows), against NumPy,
 * in several dtypes and on strided inputs; empty and 0-d arrays; error messages. */
#include <limits.h>

#include "shape_testutil.h"

static const lz_dtype DTYPES[] = {LZ_FLOAT32,   LZ_INT32, LZ_FLOAT16, LZ_BOOL,
                                  LZ_COMPLEX64, LZ_INT64, LZ_UINT8};
enum { NDTYPES = sizeof DTYPES / sizeof DTYPES[0] };

static void test_copies_all_dtypes(void) {
  for (int t = 0; t < NDTYPES; t++) {
    lz_dtype dt = DTYPES[t];
    lz_array *x24 = IOTA(dt, 0, 2, 3, 4), *x12 = IOTA(dt, 0, 3, 4), *x6 = IOTA(dt, 0, 2, 3);
    lz_array *cat[2] = {x24, IOTA(dt, 100, 2, 1, 4)};
    CHECK_REF(lz_concatenate(cat, 2, 1), concat_1, 0);
    lz_array *cat2[2] = {lz_transpose(x12, NULL, 0), IOTA(dt, 0, 4, 2)};
    CHECK_REF(lz_concatenate(cat2, 2, -1), concat_t, 0);
    CHECK_REF(lz_tile(x6, (int[]){2, 1, 2}, 3), tile_3d, 0);
    CHECK_REF(lz_tile(x24, (int[]){2}, 1), tile_short, 0);
    CHECK_REF(lz_repeat(x6, 2, 1), repeat_ax1, 0);
    CHECK_REF(lz_repeat(x6, 3, -2), repeat_ax0, 0);
    CHECK_REF(lz_repeat_flat(x6, 2), repeat_flat, 0);
    if (dt != LZ_UINT8 && dt != LZ_COMPLEX64) { /* -1 is 0 in uint8, -1+0i in complex64 */
      CHECK_REF(lz_pad(x6, NULL, 2, (int[]){1, 0}, (int[]){2, 3}, "constant", -1), pad_const, 0);
    }
    if (dt != LZ_COMPLEX64) {
      CHECK_REF(lz_pad(x6, (int[]){-1}, 1, (int[]){2}, (int[]){1}, NULL, 7), pad_axis1, 0);
    }
    CHECK_REF(lz_pad(x6, NULL, 2, (int[]){2, 1}, (int[]){1, 2}, "edge", 0), pad_edge, 0);
    CHECK_REF(
        lz_pad(lz_flip(x24, (int[]){1}, 1), NULL, 3, (int[]){0, 1, 2}, (int[]){1, 0, 1}, "edge", 0),
        pad_edge_3d, 0);
    CHECK_REF(lz_roll(x12, (int[]){1}, (int[]){1}, 1), roll_ax1, 0);
    CHECK_REF(lz_roll(x12, (int[]){-5}, NULL, 0), roll_flat, 0);
    CHECK_REF(lz_roll(x12, (int[]){1, 6}, (int[]){0, 1}, 2), roll_two, 0);
    CHECK_REF(lz_roll(x12, (int[]){-7}, (int[]){0}, 1), roll_neg_big, 0);
    CHECK_REF(lz_diag(IOTA(dt, 0, 3), 1), diag_build_p1, 0);
    CHECK_REF(lz_diag(IOTA(dt, 0, 3), -2), diag_build_m2, 0);
    CHECK_REF(lz_diag(lz_flip(IOTA(dt, 0, 3), NULL, 0), -2), diag_build_m2_flipped_input, 0);
    CHECK_REF(lz_tril(x24, -1), tril_m1, 0);
    CHECK_REF(lz_triu(x24, 1), triu_p1, 0);
    CHECK_REF(lz_triu(lz_transpose(x12, NULL, 0), 0), triu_t, 0);
    lz_array *st[2] = {x12, IOTA(dt, 100, 3, 4)};
    CHECK_REF(lz_stack(st, 2, 1), stack_1, 0);
    lz_array *st3[3] = {x6, IOTA(dt, 100, 2, 3), IOTA(dt, 200, 2, 3)};
    CHECK_REF(lz_stack(st3, 3, -1), stack_last, 0);
    if (dt != LZ_COMPLEX64) { /* kron multiplies, which complex64 does not have yet */
      CHECK_REF(lz_kron(IOTA(dt, 0, 2, 2), x6), kron_2d, 0);
      CHECK_REF(lz_kron(IOTA(dt, 0, 3), x6), kron_1d_2d, 0);
    }
  }
}

/* concatenate promotes dtypes; a bool concat; concatenating one array. */
static void test_concatenate_details(void) {
  lz_array *a = IOTA(LZ_INT32, 0, 2, 2), *b = IOTA(LZ_FLOAT16, 4, 1, 2);
  lz_array *ab[2] = {a, b};
  lz_array *c = lz_concatenate(ab, 2, 0);
  CHECK(lz_array_dtype(c) == LZ_FLOAT16); /* int32 with float16 gives float16, as in MLX */
  double want[6] = {0, 1, 2, 3, 4, 5};
  CHECK_VALUES(c, want, 6, 0);
  lz_array *bools[2] = {IOTA(LZ_BOOL, 0, 2), IOTA(LZ_BOOL, 0, 3)};
  double wb[5] = {0, 1, 0, 1, 1};
  CHECK_VALUES(lz_concatenate(bools, 2, 0), wb, 5, 0);
  lz_array *one = lz_concatenate(&a, 1, 1);
  CHECK_VALUES(one, want, 4, 0);
  lz_array *e[3] = {lz_zeros((int[]){2, 0}, 2, LZ_INT32), IOTA(LZ_INT32, 0, 2, 2),
                    lz_zeros((int[]){2, 0}, 2, LZ_INT32)};
  double we[4] = {0, 1, 2, 3};
  CHECK_VALUES(lz_concatenate(e, 3, 1), we, 4, 0);
  lz_array *ee[2] = {lz_zeros((int[]){0, 3}, 2, LZ_FLOAT32),
                     lz_zeros((int[]){0, 3}, 2, LZ_FLOAT32)};
  lz_array *empty = lz_concatenate(ee, 2, 0);
  CHECK_SHAPE(empty, 0, 3);
  CHECK(lz_eval(empty) == 0);
}

/* Empty and 0-d inputs through the copying ops. */
static void test_copies_empty_and_scalar(void) {
  lz_array *s = lz_scalar(2, LZ_INT32), *e = lz_zeros((int[]){0, 3}, 2, LZ_FLOAT32);
  lz_array *ss[2] = {s, s};
  lz_array *st = lz_stack(ss, 2, 0);
  CHECK_SHAPE(st, 2);
  double w2[2] = {2, 2};
  CHECK_VALUES(st, w2, 2, 0);
  CHECK_SHAPE(lz_tile(s, (int[]){3}, 1), 3);
  CHECK(lz_array_ndim(lz_tile(s, NULL, 0)) == 0);
  double w3[3] = {2, 2, 2};
  CHECK_VALUES(lz_repeat_flat(s, 3), w3, 3, 0);
  CHECK(lz_item_i64(lz_roll(s, (int[]){5}, NULL, 0)) == 2);
  CHECK(lz_item_i64(lz_pad(s, NULL, 0, NULL, NULL, NULL, 0)) == 2);
  lz_array *all[] = {
      lz_tile(e, (int[]){2, 2}, 2),
      lz_repeat(e, 4, 1),
      lz_roll(e, (int[]){1}, (int[]){0}, 1),
      lz_roll(e, (int[]){1}, NULL, 0),
      lz_tril(e, 0),
      lz_tile(IOTA(LZ_INT32, 0, 3), (int[]){0}, 1),
      lz_repeat(IOTA(LZ_INT32, 0, 3), 0, 0),
      lz_diag(lz_zeros((int[]){0}, 1, LZ_INT32), 2),
  };
  int n = (int)(sizeof all / sizeof all[0]);
  CHECK(lz_eval_many(all, (size_t)n) == 0);
  CHECK_SHAPE(all[0], 0, 6);
  CHECK_SHAPE(all[1], 0, 12);
  CHECK_SHAPE(all[5], 0);
  CHECK_SHAPE(all[6], 0);
  CHECK_SHAPE(all[7], 2, 2);
  double z4[4] = {0, 0, 0, 0};
  CHECK_VALUES(all[7], z4, 4, 0);
  /* A complex constant pads with value + 0i. */
  lz_array *pc = lz_pad(IOTA(LZ_COMPLEX64, 1, 1), NULL, 1, (int[]){1}, (int[]){0}, NULL, 2);
  const float *d = lz_array_data(pc);
  CHECK(d && d[0] == 2 && d[1] == 0 && d[2] == 1 && d[3] == -1);
  lz_array *pe = lz_pad(e, NULL, 2, (int[]){1, 0}, (int[]){1, 1}, "constant", 5);
  double w8[8] = {5, 5, 5, 5, 5, 5, 5, 5};
  CHECK_SHAPE(pe, 2, 4);
  CHECK_VALUES(pe, w8, 8, 0);
}

static void test_creation(void) {
  CHECK_REF(lz_linspace(0, 1, 5, LZ_FLOAT32), linspace_5, 0);
  CHECK_REF(lz_linspace(-3, 7, 11, LZ_FLOAT32), linspace_11, 0);
  CHECK_REF(lz_linspace(0.1, 2.7, 7, LZ_FLOAT64), linspace_f64, 0);
  CHECK_REF(lz_linspace(2, 2, 4, LZ_FLOAT64), linspace_flat, 0);
  CHECK_REF(lz_linspace(3, 9, 1, LZ_FLOAT32), linspace_1, 0);
  CHECK_SHAPE(lz_linspace(0, 1, 0, LZ_FLOAT32), 0);
  /* full with an array of values: NumPy's broadcast_to(vals.astype(dtype), shape) */
  lz_array *fv = lz_array_from_data((float[]){1.5f, -2.7f, 3}, (int[]){3}, 1, LZ_FLOAT32);
  lz_array *fa = lz_full_array((int[]){2, 3}, 2, fv, LZ_INT32);
  CHECK(lz_array_dtype(fa) == LZ_INT32);
  CHECK_SHAPE(fa, 2, 3);
  CHECK_VALUES(fa, ((double[]){1, -2, 3, 1, -2, 3}), 6, 0);
  lz_array *fcol = lz_reshape(fv, (int[]){3, 1}, 2);
  CHECK_VALUES(lz_full_array((int[]){3, 2}, 2, fcol, LZ_FLOAT32),
               ((double[]){1.5, 1.5, -2.7f, -2.7f, 3, 3}), 6, 0);
  CHECK_VALUES(lz_full_array((int[]){2, 3}, 2, lz_transpose(fcol, NULL, 0), LZ_FLOAT64),
               ((double[]){1.5, -2.7f, 3, 1.5, -2.7f, 3}), 6, 0);
  CHECK_SHAPE(lz_full_array((int[]){0, 3}, 2, fv, LZ_FLOAT32), 0, 3);
  CHECK_ERROR(lz_full_array((int[]){2, 4}, 2, fv, LZ_FLOAT32),
              "[lz_full_array] values of shape (3,) cannot fill shape (2,4)");
  CHECK_ERROR(lz_full_array((int[]){3}, 1, fcol, LZ_FLOAT32),
              "[lz_full_array] values of shape (3,1) cannot fill shape (3,)");
  CHECK_ERROR(lz_full_array((int[]){-1, 3}, 2, fv, LZ_FLOAT32), "[lz_full_array]");
  double li[5] = {0, 2, 5, 7, 10}; /* int32: truncated, as MLX's astype */
  CHECK_VALUES(lz_linspace(0, 10, 5, LZ_INT32), li, 5, 0);
  CHECK_REF(lz_linspace(0, 1, 5, LZ_FLOAT16), linspace_5, 0);
  for (int t = 0; t < 4; t++) {
    lz_dtype dt = (lz_dtype[]){LZ_FLOAT32, LZ_INT32, LZ_BOOL, LZ_FLOAT16}[t];
    CHECK_REF(lz_eye(3, 4, 1, dt), eye_3x4_k1, 0);
    CHECK_REF(lz_eye(4, 3, -1, dt), eye_4x3_km1, 0);
    CHECK_REF(lz_tri(3, 4, 1, dt), tri_3x4_k1, 0);
    CHECK_REF(lz_tri(4, 3, -1, dt), tri_4x3_km1, 0);
    CHECK(lz_array_dtype(lz_eye(2, -1, 0, dt)) == dt);
  }
  double id[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  CHECK_VALUES(lz_identity(3, LZ_FLOAT64), id, 9, 0);
  CHECK_VALUES(lz_eye(3, -1, 0, LZ_INT8), id, 9, 0);
  CHECK_SHAPE(lz_eye(0, 5, 0, LZ_FLOAT32), 0, 5);
  CHECK(lz_eval(lz_tri(2, 0, 0, LZ_FLOAT32)) == 0);
  CHECK_REF(lz_hanning(7, LZ_FLOAT64), hanning_7, 1e-15);
  CHECK_REF(lz_hamming(8, LZ_FLOAT64), hamming_8, 1e-15);
  CHECK_REF(lz_blackman(9, LZ_FLOAT64), blackman_9, 1e-15);
  CHECK_REF(lz_bartlett(6, LZ_FLOAT64), bartlett_6, 1e-15);
  CHECK_REF(lz_bartlett(7, LZ_FLOAT32), bartlett_7, 1e-7);
  CHECK_REF(lz_hanning(7, LZ_FLOAT32), hanning_7, 1e-7);
  double one[1] = {1};
  CHECK_VALUES(lz_hamming(1, LZ_FLOAT32), one, 1, 0);
  CHECK_SHAPE(lz_blackman(0, LZ_FLOAT32), 0);
  CHECK_SHAPE(lz_blackman(-3, LZ_FLOAT32), 0);
  CHECK(lz_array_dtype(lz_hanning(3, LZ_FLOAT32)) == LZ_FLOAT32);
}

/* arange against NumPy: integer dtypes with fractional steps step by T(start+step) - T(start),
 * integers wrap, floats step in their own precision, infinite steps give one or no element. */
static void test_arange(void) {
  CHECK_REF(lz_arange(0, 3, 0.2, LZ_INT32), arange_i32_frac, 0);
  CHECK_REF(lz_arange(-1.5, 2, 1, LZ_INT32), arange_i32_neg_start, 0);
  CHECK_REF(lz_arange(0.5, 10, 1.5, LZ_INT8), arange_i8_frac, 0);
  CHECK_REF(lz_arange(5, -3, -0.7, LZ_INT64), arange_i64_down, 0);
  CHECK_REF(lz_arange(1, 7, 2.5, LZ_UINT8), arange_u8_frac, 0);
  CHECK_REF(lz_arange(250, 260, 3, LZ_UINT8), arange_u8_wrap, 0);
  CHECK_REF(lz_arange(0.1, 1.0, 0.1, LZ_FLOAT32), arange_f32, 0);
  CHECK_REF(lz_arange(-1, 1, 0.3, LZ_FLOAT64), arange_f64, 0);
  CHECK_REF(lz_arange(0, 2, 0.3, LZ_FLOAT16), arange_f16, 0);
  CHECK_REF(lz_arange(0, 5, INFINITY, LZ_FLOAT32), arange_inf_up, 0);
  CHECK_REF(lz_arange(5, 0, -INFINITY, LZ_FLOAT64), arange_inf_down, 0);
  CHECK_REF(lz_arange(0, 5, -INFINITY, LZ_FLOAT32), arange_inf_away, 0);
  CHECK_REF(lz_arange(3, 3, INFINITY, LZ_INT32), arange_inf_same, 0);
  CHECK(lz_array_dtype(lz_arange(0, 3, 0.2, LZ_INT32)) == LZ_INT32);
  int64_t big = 3000000000LL; /* int64 values beyond float32/int32 stay exact */
  lz_array *b = lz_arange((double)big, (double)big + 3, 1, LZ_INT64);
  CHECK(lz_item_i64(lz_take(b, lz_int(2), 0)) == big + 2);
  CHECK_ERROR(lz_arange(0, NAN, 1, LZ_FLOAT32), "[lz_arange] cannot compute the length");
  CHECK_ERROR(lz_arange(-INFINITY, 0, 1, LZ_FLOAT32), "[lz_arange] cannot compute the length");
  CHECK_ERROR(lz_arange(0, 1, NAN, LZ_FLOAT32), "[lz_arange] cannot compute the length");
  CHECK_ERROR(lz_arange(0, 1, 0, LZ_INT32), "[lz_arange] cannot compute the length");
  CHECK_ERROR(lz_arange(0, 1, 1, LZ_BOOL), "[lz_arange] dtype bool is not supported");
}

static void test_meshgrid(void) {
  lz_array *in[3] = {IOTA(LZ_FLOAT32, 0, 3), IOTA(LZ_FLOAT32, 10, 2), IOTA(LZ_FLOAT32, 20, 4)};
  lz_array *g[3];
  CHECK(lz_meshgrid(in, 3, false, NULL, g) == 0);
  CHECK_REF(g[0], meshgrid_xy_0, 0);
  CHECK_REF(g[1], meshgrid_xy_1, 0);
  CHECK_REF(g[2], meshgrid_xy_2, 0);
  CHECK(lz_meshgrid(in, 3, false, "ij", g) == 0);
  CHECK_REF(g[0], meshgrid_ij_0, 0);
  CHECK_REF(g[1], meshgrid_ij_1, 0);
  CHECK_REF(g[2], meshgrid_ij_2, 0);
  CHECK(lz_meshgrid(in, 3, true, "xy", g) == 0);
  CHECK_SHAPE(g[0], 1, 3, 1);
  CHECK_SHAPE(g[1], 2, 1, 1);
  CHECK_SHAPE(g[2], 1, 1, 4);
  /* The grids are broadcast views: evaluating them allocates nothing. */
  CHECK(lz_eval_many(in, 3) == 0);
  size_t mem = lz_get_active_memory();
  CHECK(lz_meshgrid(in, 3, false, "xy", g) == 0);
  CHECK(lz_eval_many(g, 3) == 0);
  CHECK(lz_get_active_memory() == mem);
  lz_clear_error();
  CHECK(lz_meshgrid(in, 2, false, "yx", g) == -1 && g[0] == NULL);
  CHECK(strstr(lz_last_error(), "[lz_meshgrid] indexing must be \"xy\" or \"ij\""));
  lz_clear_error();
}

static void test_copy_errors(void) {
  lz_array *x = IOTA(LZ_FLOAT32, 0, 2, 3), *y = IOTA(LZ_FLOAT32, 0, 3, 3);
  lz_array *xy[2] = {x, y};
  CHECK_ERROR(lz_concatenate(xy, 2, 1),
              "[lz_concatenate] shapes (2,3) and (3,3) differ outside axis 1");
  CHECK_ERROR(lz_concatenate(xy, 2, 2), "[lz_concatenate] axis 2 is out of bounds");
  lz_array *xv[2] = {x, IOTA(LZ_FLOAT32, 0, 3)};
  CHECK_ERROR(lz_concatenate(xv, 2, 0),
              "[lz_concatenate] shapes (2,3) and (3,) differ outside axis 0");
  lz_array *ss[2] = {lz_float(1), lz_float(2)};
  CHECK_ERROR(lz_concatenate(ss, 2, 0), "[lz_concatenate] cannot concatenate 0-d arrays");
  CHECK_ERROR(lz_concatenate(xy, 0, 0), "[lz_concatenate] needs 1 to 65535 arrays, got 0");
  CHECK_ERROR(lz_stack(xy, 2, 0),
              "[lz_stack] all arrays must have the same shape, got (2,3) and (3,3)");
  CHECK_ERROR(lz_stack(xy, 1, 3), "[lz_stack] axis 3 is out of bounds for array of dimension 3");
  CHECK_ERROR(lz_tile(x, (int[]){2, -1}, 2), "[lz_tile] negative repetition -1");
  CHECK_ERROR(lz_repeat(x, -1, 0), "[lz_repeat] negative repeats -1");
  CHECK_ERROR(lz_repeat(x, 2, 2), "[lz_repeat] axis 2 is out of bounds");
  CHECK_ERROR(lz_repeat(x, INT_MAX, 0), "[lz_repeat] a result dimension of");
  CHECK_ERROR(lz_pad(x, NULL, 2, (int[]){1, 1}, (int[]){1, 1}, "reflect", 0),
              "[lz_pad] unknown mode \"reflect\"");
  CHECK_ERROR(lz_pad(x, NULL, 1, (int[]){1}, (int[]){1}, NULL, 0),
              "[lz_pad] 1 pad widths for an array of dimension 2");
  CHECK_ERROR(lz_pad(x, (int[]){0}, 1, (int[]){-1}, (int[]){0}, NULL, 0),
              "[lz_pad] negative pad width");
  CHECK_ERROR(lz_pad(lz_zeros((int[]){0, 2}, 2, LZ_INT32), NULL, 2, (int[]){1, 0}, (int[]){0, 0},
                     "edge", 0),
              "[lz_pad] edge padding cannot extend the empty axis 0");
  CHECK_ERROR(lz_roll(x, (int[]){1}, (int[]){2}, 1), "[lz_roll] axis 2 is out of bounds");
  CHECK_ERROR(lz_roll(x, NULL, NULL, 0), "[lz_roll] needs shifts");
  CHECK_ERROR(lz_diag(IOTA(LZ_FLOAT32, 0, 2, 2, 2), 0),
              "[lz_diag] needs a 1-D or 2-D array, got shape (2,2,2)");
  CHECK_ERROR(lz_diag(lz_float(1), 0), "[lz_diag] needs a 1-D or 2-D array, got shape ()");
  CHECK_ERROR(lz_kron(IOTA(LZ_FLOAT32, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1), x),
              "[lz_kron] inputs of 9 dims");
  /* infinite start/stop are valid (NumPy's inf/NaN values): see tests/test_regressions.c */
  CHECK_ERROR(lz_linspace(0, 1, -1, LZ_FLOAT32), "[lz_linspace] needs num >= 0");
  CHECK_ERROR(lz_eye(-1, 2, 0, LZ_FLOAT32), "[lz_eye] negative size n = -1");
  CHECK_ERROR(lz_tri(2, 2, 0, (lz_dtype)99), "[lz_tri] invalid dtype 99");
  CHECK_ERROR(lz_tril(IOTA(LZ_FLOAT32, 0, 3), 0),
              "[lz_tril] needs an array of at least 2 dims, got shape (3,)");
  CHECK_ERROR(lz_triu(lz_float(1), 0), "[lz_triu] needs an array of at least 2 dims");
  CHECK_ERROR(lz_hanning(4, LZ_INT32), "[lz_hanning] needs a floating dtype, got int32");
  /* NULL inputs pass a pending error through. */
  lz_clear_error();
  lz_array *bad = lz_repeat(x, -1, 0);
  lz_array *arr[2] = {x, bad};
  CHECK(lz_concatenate(arr, 2, 0) == NULL && lz_stack(arr, 2, 0) == NULL);
  CHECK(lz_kron(bad, x) == NULL && lz_tile(bad, NULL, 0) == NULL && lz_tril(bad, 0) == NULL);
  CHECK(strstr(lz_last_error(), "[lz_repeat] negative repeats -1"));
  lz_clear_error();
}

/* A failing allocation in a copy kernel is an error, with nothing leaked. */
static void test_copy_out_of_memory(void) {
  lz_array *x = IOTA(LZ_FLOAT32, 0, 8, 8);
  CHECK(lz_eval(x) == 0);
  lz_array *ops[] = {lz_pad(x, NULL, 2, (int[]){1, 1}, (int[]){1, 1}, "edge", 0),
                     lz_concatenate((lz_array *[]){x, x}, 2, 0),
                     lz_tril(x, 0),
                     lz_diag(lz_flatten(x, 0, 1), 0),
                     lz_eye(8, 8, 0, LZ_FLOAT32),
                     lz_linspace(0, 1, 64, LZ_FLOAT32),
                     lz_hanning(64, LZ_FLOAT32)};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    lz_set_alloc_failure(1);
    CHECK(lz_eval(ops[i]) == -1 && lz_last_error_code() == LZ_ERROR_OUT_OF_MEMORY);
    lz_set_alloc_failure(0);
    lz_clear_error();
    CHECK(lz_eval(ops[i]) == 0); /* the graph is intact: it can run again */
  }
}

/* Large enough for the kernels to split work across threads; checked element by element. */
static void test_large_copies(void) {
  int n = 300, m = 400;
  lz_array *x = IOTA(LZ_FLOAT32, 0, 300, 400), *t = lz_transpose(x, NULL, 0);
  const float *c = lz_array_data(lz_contiguous(t));
  const float *l = lz_array_data(lz_tril(lz_reshape(t, (int[]){2, 200, 300}, 3), 5));
  const float *p = lz_array_data(lz_pad(t, NULL, 2, (int[]){1, 2}, (int[]){3, 1}, "edge", 0));
  lz_array *tt[2] = {t, t};
  const float *k = lz_array_data(lz_concatenate(tt, 2, 1));
  const float *ti = lz_array_data(lz_tile(x, (int[]){2, 1}, 2));
  CHECK(c && l && p && k && ti);
  if (!(c && l && p && k && ti)) return;
  int bad = 0;
  for (int i = 0; i < m; i++) {
    for (int j = 0; j < n; j++) {
      float v = (float)(j * m + i); /* t[i][j] */
      bad += c[i * n + j] != v;
      bad += k[i * 2 * n + j] != v || k[i * 2 * n + n + j] != v;
      int r = i % 200; /* row within its (200,300) matrix */
      bad += l[i * n + j] != (j <= r + 5 ? v : 0.0f);
    }
  }
  int pm = m + 4, pn = n + 3; /* padded (404, 303): edge values clamp the index */
  for (int i = 0; i < pm; i++) {
    for (int j = 0; j < pn; j++) {
      int si = i - 1 < 0 ? 0 : i - 1 >= m ? m - 1 : i - 1;
      int sj = j - 2 < 0 ? 0 : j - 2 >= n ? n - 1 : j - 2;
      bad += p[i * pn + j] != (float)(sj * m + si);
    }
  }
  for (int i = 0; i < 2 * n * m; i++) bad += ti[i] != (float)(i % (n * m));
  CHECK(bad == 0);
}

/* Roll sums the shifts of a repeated axis; split indices follow Python slicing. */
static void test_roll_split_details(void) {
  lz_array *x = IOTA(LZ_INT32, 0, 5);
  double w[5] = {3, 4, 0, 1, 2}; /* a total shift of -3 */
  CHECK_VALUES(lz_roll(x, (int[]){1, -4}, (int[]){0, -1}, 2), w, 5, 0);
  lz_array *o[3];
  CHECK(lz_split_indices(x, (int[]){-3, 99}, 2, 0, o) == 0);
  double w0[2] = {0, 1}, w1[3] = {2, 3, 4};
  CHECK_VALUES(o[0], w0, 2, 0);
  CHECK_VALUES(o[1], w1, 3, 0);
  CHECK_SHAPE(o[2], 0);
  CHECK(lz_split_indices(x, NULL, 0, 0, o) == 0);
  CHECK_SHAPE(o[0], 5);
}

int main(void) {
  RUN(test_arange);
  RUN(test_copies_all_dtypes);
  RUN(test_concatenate_details);
  RUN(test_copies_empty_and_scalar);
  RUN(test_creation);
  RUN(test_meshgrid);
  RUN(test_copy_errors);
  RUN(test_copy_out_of_memory);
  RUN(test_large_copies);
  RUN(test_roll_split_details);
  return lzt_summary();
}
