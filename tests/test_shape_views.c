/* Shape views: reshape, transpose, slice, flip, broadcast_to, diagonal, as_strided, split and
 * their relatives, against NumPy, in several dtypes; views share one buffer and allocate no
 * data; chains of views; empty and 0-d arrays; error messages. */
#include <limits.h>

#include "core/internal.h"
#include "shape_testutil.h"

static const lz_dtype DTYPES[] = {LZ_FLOAT32,   LZ_INT32,   LZ_FLOAT16, LZ_BOOL,
                                  LZ_COMPLEX64, LZ_FLOAT64, LZ_INT8,    LZ_BFLOAT16};
enum { NDTYPES = sizeof DTYPES / sizeof DTYPES[0] };

/* Every view op on x = arange(24) as (2,3,4), in every dtype, against NumPy. */
static void test_views_all_dtypes(void) {
  for (int t = 0; t < NDTYPES; t++) {
    lz_dtype dt = DTYPES[t];
    lz_array *x = IOTA(dt, 0, 2, 3, 4);
    lz_array *x12 = IOTA(dt, 0, 3, 4);
    CHECK_REF(lz_reshape(x, (int[]){4, 6}, 2), reshape_4x6, 0);
    CHECK_REF(lz_reshape(x, (int[]){-1, 8}, 2), reshape_infer, 0);
    CHECK_REF(lz_transpose(x, NULL, 0), transpose_rev, 0);
    CHECK_REF(lz_transpose(x, (int[]){1, 0, 2}, 3), transpose_102, 0);
    CHECK_REF(lz_reshape(lz_transpose(x, (int[]){2, 0, 1}, 3), (int[]){4, 6}, 2),
              reshape_of_transpose, 0);
    CHECK_REF(lz_reshape(lz_transpose(x, (int[]){1, 0, 2}, 3), (int[]){3, 2, 2, 2}, 4),
              reshape_split_transposed, 0);
    CHECK_REF(lz_swapaxes(x, 0, 2), swapaxes_02, 0);
    CHECK_REF(lz_moveaxis(x, 0, 2), moveaxis_0_2, 0);
    CHECK_REF(lz_moveaxis(x, -1, 0), moveaxis_m1_0, 0);
    CHECK_REF(lz_slice(x, (int[]){0, 1, 0}, (int[]){2, 3, 4}, (int[]){1, 1, 2}, 3), slice_basic, 0);
    CHECK_REF(lz_slice(x, (int[]){INT_MAX, -1, 3}, (int[]){INT_MIN, 0, 0}, (int[]){-1, -1, -2}, 3),
              slice_neg, 0);
    CHECK_REF(lz_slice(x, (int[]){-10, 5, -100}, (int[]){10, 10, 2}, NULL, 3), slice_clamp, 0);
    CHECK_REF(
        lz_slice(x12, (int[]){INT_MAX, INT_MIN}, (int[]){INT_MIN, INT_MIN}, (int[]){-1, -1}, 2),
        slice_rev_full, 0);
    CHECK_REF(lz_flip(x, (int[]){1}, 1), flip_1, 0);
    CHECK_REF(lz_flip(x, NULL, 0), flip_all, 0);
    CHECK_REF(lz_diagonal(x12, 0, 0, 1), diagonal_0, 0);
    CHECK_REF(lz_diagonal(x12, 1, 0, 1), diagonal_p1, 0);
    CHECK_REF(lz_diagonal(x12, -1, 0, 1), diagonal_m1, 0);
    CHECK_REF(lz_diagonal(x, 1, 2, 0), diagonal_3d, 0);
    CHECK_REF(lz_diag(x12, 1), diag_take_p1, 0);
    CHECK_REF(lz_broadcast_to(IOTA(dt, 0, 4), (int[]){3, 4}, 2), broadcast_row, 0);
    CHECK_REF(lz_broadcast_to(IOTA(dt, 0, 3, 1), (int[]){2, 3, 4}, 3), broadcast_col, 0);
    CHECK_REF(lz_flatten(x, 1, 2), flatten_12, 0);
    CHECK_REF(lz_as_strided(IOTA(dt, 0, 10), (int[]){4, 3}, 2, (int64_t[]){2, 1}, 0),
              as_strided_windows, 0);
    CHECK_REF(lz_as_strided(lz_transpose(x12, NULL, 0), (int[]){2, 2}, 2, (int64_t[]){1, 3}, 1),
              as_strided_of_transpose, 0);
    CHECK_REF(lz_contiguous(lz_transpose(x, NULL, 0)), transpose_rev, 0);
    lz_array *ch =
        lz_transpose(lz_slice(lz_broadcast_to(IOTA(dt, 0, 4), (int[]){3, 4}, 2),
                              (int[]){1, INT_MAX}, (int[]){3, INT_MIN}, (int[]){1, -1}, 2),
                     NULL, 0);
    CHECK_REF(ch, chain_t_slice_bcast, 0);
  }
}

/* A chain of views on an evaluated array allocates nothing and shares the input's buffer. */
static void test_views_share_one_buffer(void) {
  lz_array *x = IOTA(LZ_FLOAT32, 0, 4);
  lz_array *x24 = IOTA(LZ_FLOAT32, 0, 2, 3, 4);
  lz_array *both[2] = {x, x24};
  CHECK(lz_eval_many(both, 2) == 0);
  size_t mem = lz_get_active_memory();
  lz_array *b = lz_broadcast_to(x, (int[]){3, 4}, 2);
  lz_array *s = lz_slice(b, (int[]){1, INT_MAX}, (int[]){3, INT_MIN}, (int[]){1, -1}, 2);
  lz_array *t = lz_transpose(s, NULL, 0);
  lz_array *views[] = {
      t,
      lz_reshape(x24, (int[]){6, 4}, 2),
      lz_reshape(lz_transpose(x24, (int[]){1, 0, 2}, 3), (int[]){3, 2, 2, 2}, 4),
      lz_squeeze(lz_expand_dims(lz_transpose(x24, NULL, 0), (int[]){0, -1}, 2), NULL, 0),
      lz_flip(x24, NULL, 0),
      lz_diagonal(x24, 0, 1, 2),
      lz_swapaxes(lz_flatten(x24, 0, 1), 0, 1),
      lz_unflatten(x24, 2, (int[]){2, -1}, 2),
      lz_as_strided(x24, (int[]){3, 3}, 2, (int64_t[]){4, 1}, 2),
      lz_contiguous(x24),
      lz_atleast_3d(x),
  };
  int n = (int)(sizeof views / sizeof views[0]);
  CHECK(lz_eval_many(views, (size_t)n) == 0);
  CHECK(lz_get_active_memory() == mem);
  for (int i = 0; i < n; i++) {
    CHECK(views[i] && views[i]->buf == (i == 0 || i == n - 1 ? x->buf : x24->buf));
  }
  CHECK(t->strides[0] == -1 && t->strides[1] == 0); /* a negative and a zero stride */
  CHECK_REF(t, chain_t_slice_bcast, 0);
  /* lz_array_data on a strided view returns row-major data (copying now, not before). */
  const float *d = lz_array_data(views[5]); /* diagonal of (3,4) planes: (2,3) */
  CHECK(d && d[0] == 0 && d[1] == 5 && d[2] == 10 && d[3] == 12 && d[4] == 17 && d[5] == 22);
  CHECK(lz_get_active_memory() > mem);
}

/* Ops on views read through strides: add of a transposed flip and a flipped transpose. */
static void test_views_compose_with_binary(void) {
  lz_array *x = IOTA(LZ_FLOAT32, 0, 3, 4);
  lz_array *a = lz_flip(lz_transpose(x, NULL, 0), (int[]){0}, 1);
  lz_array *b = lz_transpose(lz_flip(x, (int[]){1}, 1), NULL, 0);
  CHECK_REF(lz_add(a, b), add_views, 0);
  lz_array *xi = IOTA(LZ_INT32, 0, 3, 4);
  lz_array *c = lz_multiply(lz_slice(xi, (int[]){0, 0}, (int[]){3, 4}, (int[]){2, 3}, 2),
                            lz_broadcast_to(lz_int(2), (int[]){2, 2}, 2));
  double want[4] = {0, 6, 16, 22};
  CHECK_VALUES(c, want, 4, 0);
}

/* reshape: -1, views vs copies, identity; squeeze, expand_dims, flatten, unflatten, atleast. */
static void test_reshape_family(void) {
  lz_array *x = IOTA(LZ_FLOAT32, 0, 2, 1, 3);
  CHECK_SHAPE(lz_reshape(x, (int[]){-1}, 1), 6);
  CHECK_SHAPE(lz_reshape(x, (int[]){3, -1, 1}, 3), 3, 2, 1);
  lz_array *same = lz_reshape(x, (int[]){2, 1, 3}, 3);
  CHECK(same == x); /* the same shape is the same array, as in MLX */
  CHECK_SHAPE(lz_squeeze(x, NULL, 0), 2, 3);
  CHECK_SHAPE(lz_squeeze(x, (int[]){-2}, 1), 2, 3);
  CHECK_SHAPE(lz_expand_dims(x, (int[]){0, 4}, 2), 1, 2, 1, 3, 1);
  CHECK_SHAPE(lz_expand_dims(x, (int[]){-1}, 1), 2, 1, 3, 1);
  CHECK_SHAPE(lz_flatten(x, 0, -1), 6);
  CHECK_SHAPE(lz_flatten(x, 1, 2), 2, 3);
  CHECK_SHAPE(lz_flatten(x, -1, -1), 2, 1, 3);
  CHECK_SHAPE(lz_unflatten(x, 2, (int[]){3, 1}, 2), 2, 1, 3, 1);
  CHECK_SHAPE(lz_unflatten(x, -1, (int[]){-1, 3}, 2), 2, 1, 1, 3);
  lz_array *v = IOTA(LZ_INT32, 0, 5), *s = lz_scalar(7, LZ_INT32);
  CHECK_SHAPE(lz_atleast_1d(s), 1);
  CHECK_SHAPE(lz_atleast_2d(s), 1, 1);
  CHECK_SHAPE(lz_atleast_3d(s), 1, 1, 1);
  CHECK_SHAPE(lz_atleast_1d(v), 5);
  CHECK_SHAPE(lz_atleast_2d(v), 1, 5);
  CHECK_SHAPE(lz_atleast_3d(v), 1, 5, 1);
  CHECK_SHAPE(lz_atleast_3d(x), 2, 1, 3);
  CHECK_SHAPE(lz_atleast_3d(lz_reshape(v, (int[]){5, 1}, 2)), 5, 1, 1);
  double want[5] = {0, 1, 2, 3, 4};
  CHECK_VALUES(lz_atleast_3d(v), want, 5, 0);
  /* A reshape that cannot be a view copies: values stay in row-major order. */
  lz_array *t = lz_transpose(IOTA(LZ_INT32, 0, 2, 3), NULL, 0); /* (3,2): 0 3 1 4 2 5 */
  double tw[6] = {0, 3, 1, 4, 2, 5};
  CHECK_VALUES(lz_reshape(t, (int[]){6}, 1), tw, 6, 0);
  CHECK_VALUES(lz_flatten(t, 0, 1), tw, 6, 0);
  /* Size-1 dims are free to add or drop even on a strided view. */
  lz_array *u = lz_expand_dims(t, (int[]){1}, 1);
  CHECK(lz_eval(u) == 0 && !lz__is_contiguous(u) && u->buf == t->buf);
}

/* 0-d and empty arrays go through every view. */
static void test_empty_and_scalar_views(void) {
  lz_array *s = lz_scalar(3.5, LZ_FLOAT32);
  CHECK_SHAPE(lz_flatten(s, 0, -1), 1);
  CHECK(lz_array_ndim(lz_reshape(lz_flatten(s, 0, -1), NULL, 0)) == 0);
  CHECK(lz_item_f32(lz_transpose(s, NULL, 0)) == 3.5f);
  CHECK(lz_item_f32(lz_squeeze(lz_reshape(s, (int[]){1, 1}, 2), NULL, 0)) == 3.5f);
  CHECK(lz_item_f32(lz_slice(s, NULL, NULL, NULL, 0)) == 3.5f);
  CHECK(lz_item_f32(lz_contiguous(s)) == 3.5f);
  lz_array *b = lz_broadcast_to(s, (int[]){2, 0, 3}, 3);
  CHECK_SHAPE(b, 2, 0, 3);
  CHECK(lz_eval(b) == 0);
  lz_array *e = lz_zeros((int[]){0, 4}, 2, LZ_INT32);
  CHECK_SHAPE(lz_transpose(e, NULL, 0), 4, 0);
  CHECK_SHAPE(lz_reshape(e, (int[]){4, 0, 7}, 3), 4, 0, 7);
  CHECK_SHAPE(lz_slice(e, (int[]){0, 1}, (int[]){5, 3}, NULL, 2), 0, 2);
  CHECK_SHAPE(lz_flip(e, NULL, 0), 0, 4);
  CHECK_SHAPE(lz_diagonal(e, 0, 0, 1), 0);
  CHECK_SHAPE(lz_diagonal(IOTA(LZ_INT32, 0, 2, 3), 5, 0, 1), 0);
  CHECK_SHAPE(lz_as_strided(e, (int[]){0, 9}, 2, (int64_t[]){1000, 1000}, 77), 0, 9);
  lz_array *outs[4] = {NULL};
  CHECK(lz_split(e, 2, 1, outs) == 0);
  CHECK_SHAPE(outs[1], 0, 2);
  CHECK(lz_unstack(e, 0, outs) == 0); /* zero outputs */
  lz_array *all[] = {
      lz_transpose(e, NULL, 0),
      lz_reshape(e, (int[]){0}, 1),
      lz_slice(e, (int[]){0, 1}, (int[]){5, 3}, NULL, 2),
      lz_flip(e, NULL, 0),
      lz_contiguous(lz_transpose(e, NULL, 0)),
      lz_diagonal(e, 0, 0, 1),
  };
  CHECK(lz_eval_many(all, sizeof all / sizeof all[0]) == 0);
  CHECK(lz_array_data(all[4]) != NULL);
}

/* split and unstack: one node, sibling outputs; eval one; free some before eval. */
static void test_split_unstack(void) {
  lz_array *x12 = IOTA(LZ_FLOAT32, 0, 3, 4), *x = IOTA(LZ_INT32, 0, 2, 3, 4);
  lz_array *p[4] = {NULL};
  CHECK(lz_split_indices(x12, (int[]){1, 3}, 2, 1, p) == 0);
  CHECK(p[0]->node == p[1]->node && p[1]->node == p[2]->node); /* siblings of one node */
  uint64_t k0 = lz_get_kernel_count();
  CHECK_REF(p[1], split_idx_1, 0); /* evaluating one output runs the node once */
  CHECK(lz_array_is_evaluated(p[0]) && lz_array_is_evaluated(p[2]));
  CHECK(lz_get_kernel_count() - k0 == 3); /* arange, its reshape view, and one split */
  CHECK_REF(p[0], split_idx_0, 0);
  CHECK_REF(p[2], split_idx_2, 0);
  CHECK(lz_split_indices(x12, (int[]){3, 1}, 2, 1, p) == 0); /* decreasing: an empty part */
  CHECK_REF(p[0], split_dec_0, 0);
  CHECK_REF(p[1], split_dec_1, 0);
  CHECK_REF(p[2], split_dec_2, 0);
  CHECK(lz_split(x, 2, -1, p) == 0);
  CHECK_REF(p[0], split_sec_0, 0);
  CHECK_REF(p[1], split_sec_1, 0);
  CHECK(lz_unstack(x, 1, p) == 0);
  CHECK_REF(p[0], unstack_0, 0);
  CHECK_REF(p[1], unstack_1, 0);
  CHECK_REF(p[2], unstack_2, 0);
  /* Free two of three outputs before evaluating the third. */
  lz_array *y = lz_add(x, lz_int(0));
  CHECK(lz_unstack(y, 1, p) == 0);
  lz_free(p[0]);
  lz_free(p[2]);
  CHECK_REF(p[1], unstack_1, 0);
  CHECK(lz_split(y, 3, 1, p) == 0);
  lz_free(p[0]), lz_free(p[1]), lz_free(p[2]); /* all freed, never evaluated */
  lz_scope_begin();
  CHECK(lz_split(IOTA(LZ_FLOAT16, 0, 6), 3, 0, p) == 0);
  lz_free(p[0]);
  lz_scope_end(); /* the scope frees the rest */
  /* A split view allocates nothing. */
  CHECK(lz_eval(x) == 0);
  size_t mem = lz_get_active_memory();
  CHECK(lz_split(x, 3, 1, p) == 0 && lz_eval(p[2]) == 0);
  CHECK(lz_get_active_memory() == mem && p[2]->buf == x->buf);
}

/* broadcast_arrays: n outputs of the common shape. */
static void test_broadcast_arrays(void) {
  lz_array *in[3] = {IOTA(LZ_FLOAT32, 0, 4), IOTA(LZ_INT32, 0, 3, 1), lz_float(1)};
  lz_array *out[3];
  CHECK(lz_broadcast_arrays(in, 3, out) == 0);
  CHECK_SHAPE(out[0], 3, 4);
  CHECK_SHAPE(out[1], 3, 4);
  CHECK_SHAPE(out[2], 3, 4);
  CHECK_REF(out[0], broadcast_row, 0);
  CHECK(lz_array_dtype(out[1]) == LZ_INT32);
  lz_array *bad[2] = {IOTA(LZ_FLOAT32, 0, 4), IOTA(LZ_FLOAT32, 0, 3)};
  lz_clear_error();
  CHECK(lz_broadcast_arrays(bad, 2, out) == -1 && out[0] == NULL && out[1] == NULL);
  CHECK(strstr(lz_last_error(), "[lz_broadcast_arrays] shapes (4,) and (3,) cannot be broadcast"));
  lz_clear_error();
}

/* Errors name the op and the shapes; NULL inputs pass a pending error through. */
static void test_view_errors(void) {
  lz_array *x = IOTA(LZ_FLOAT32, 0, 2, 3);
  CHECK_ERROR(lz_reshape(x, (int[]){4, 2}, 2),
              "[lz_reshape] cannot reshape array of shape (2,3) into shape (4,2)");
  CHECK_ERROR(lz_reshape(x, (int[]){-1, 4}, 2),
              "[lz_reshape] cannot reshape array of shape (2,3) into shape (-1,4)");
  CHECK_ERROR(lz_reshape(x, (int[]){-1, -1}, 2), "[lz_reshape] can only infer one dimension");
  CHECK_ERROR(lz_reshape(x, (int[]){-2, -3}, 2), "[lz_reshape] invalid dimension");
  CHECK_ERROR(lz_reshape(lz_zeros((int[]){0, 3}, 2, LZ_INT32), (int[]){0, -1}, 2),
              "[lz_reshape] cannot infer the -1");
  CHECK_ERROR(lz_transpose(x, (int[]){0}, 1),
              "[lz_transpose] 1 axes given for an array of dimension 2");
  CHECK_ERROR(lz_transpose(x, (int[]){0, 0}, 2), "[lz_transpose] repeated axis 0");
  CHECK_ERROR(lz_transpose(x, (int[]){0, 2}, 2),
              "[lz_transpose] axis 2 is out of bounds for array of dimension 2");
  CHECK_ERROR(lz_swapaxes(x, 0, -3), "[lz_swapaxes] axis -3 is out of bounds");
  CHECK_ERROR(lz_moveaxis(x, 2, 0), "[lz_moveaxis] axis 2 is out of bounds");
  CHECK_ERROR(lz_squeeze(x, (int[]){1}, 1), "[lz_squeeze] cannot squeeze axis 1 of size 3");
  CHECK_ERROR(lz_expand_dims(x, (int[]){3}, 1), "[lz_expand_dims] axis 3 is out of bounds");
  CHECK_ERROR(lz_expand_dims(x, (int[]){0, 0}, 2), "[lz_expand_dims] repeated axis");
  CHECK_ERROR(lz_flatten(x, 1, 0), "[lz_flatten] start_axis 1 is after end_axis 0");
  CHECK_ERROR(lz_unflatten(x, 1, (int[]){2, 2}, 2),
              "[lz_unflatten] cannot unflatten axis 1 of size 3 into shape (2,2)");
  CHECK_ERROR(lz_broadcast_to(x, (int[]){4, 3}, 2),
              "[lz_broadcast_to] cannot broadcast shape (2,3) to (4,3)");
  CHECK_ERROR(lz_broadcast_to(x, (int[]){3}, 1),
              "[lz_broadcast_to] cannot broadcast shape (2,3) to (3,)");
  CHECK_ERROR(lz_broadcast_to(x, (int[]){-2, 3}, 2), "[lz_broadcast_to] negative dimension");
  CHECK_ERROR(lz_slice(x, (int[]){0}, (int[]){1}, NULL, 1),
              "[lz_slice] 1 start/stop entries for an array of dimension 2");
  CHECK_ERROR(lz_slice(x, (int[]){0, 0}, (int[]){1, 1}, (int[]){1, 0}, 2),
              "[lz_slice] slice stride of axis 1 is zero");
  CHECK_ERROR(lz_flip(x, (int[]){5}, 1), "[lz_flip] axis 5 is out of bounds");
  CHECK_ERROR(lz_diagonal(x, 0, 1, -1), "[lz_diagonal] axis1 and axis2 are the same axis (1)");
  CHECK_ERROR(lz_diagonal(IOTA(LZ_FLOAT32, 0, 3), 0, 0, 1),
              "[lz_diagonal] needs an array of at least 2 dims");
  CHECK_ERROR(
      lz_as_strided(x, (int[]){3, 3}, 2, (int64_t[]){2, 1}, 0),
      "[lz_as_strided] shape (3,3) with these strides and offset 0 reaches outside the 6 elements");
  CHECK_ERROR(lz_as_strided(x, (int[]){2}, 1, (int64_t[]){-1}, 0), "[lz_as_strided] shape (2,)");
  CHECK_ERROR(lz_as_strided(x, (int[]){2}, 1, (int64_t[]){INT64_MAX}, 0), "reaches outside");
  lz_array *o[4];
  lz_clear_error();
  CHECK(lz_split(x, 4, 1, o) == -1 && o[0] == NULL);
  CHECK(
      strstr(lz_last_error(), "[lz_split] axis 1 of shape (2,3) cannot be split into 4 sections"));
  lz_clear_error();
  CHECK(lz_split(x, 0, 0, o) == -1 &&
        strstr(lz_last_error(), "[lz_split] sections must be positive"));
  lz_clear_error();
  CHECK(lz_unstack(lz_scalar(1, LZ_INT32), 0, o) == -1 &&
        strstr(lz_last_error(), "[lz_unstack] cannot unstack a 0-d array"));
  lz_clear_error();
  CHECK(lz_split_indices(x, (int[]){1}, 1, 2, o) == -1 &&
        strstr(lz_last_error(), "[lz_split_indices] axis 2 is out of bounds"));
  lz_clear_error();
  /* A NULL input passes the first error through untouched. */
  lz_array *bad = lz_reshape(x, (int[]){7}, 1);
  CHECK(bad == NULL);
  CHECK(lz_transpose(lz_slice(bad, NULL, NULL, NULL, 0), NULL, 0) == NULL);
  CHECK(lz_split(bad, 2, 0, o) == -1 && o[0] == NULL && o[1] == NULL);
  CHECK(
      strstr(lz_last_error(), "[lz_reshape] cannot reshape array of shape (2,3) into shape (7,)"));
  lz_clear_error();
  CHECK_ERROR(lz_reshape(NULL, (int[]){1}, 1), "[lz_reshape] argument 0 is NULL");
}

/* Out of memory inside a kernel that must copy is an error, not a crash or leak. */
static void test_view_copy_out_of_memory(void) {
  lz_array *t = lz_transpose(IOTA(LZ_FLOAT32, 0, 4, 4), NULL, 0);
  CHECK(lz_eval(t) == 0);
  lz_array *c = lz_reshape(t, (int[]){16}, 1);
  lz_set_alloc_failure(1);
  CHECK(lz_eval(c) == -1);
  lz_set_alloc_failure(0);
  CHECK(lz_last_error_code() == LZ_ERROR_OUT_OF_MEMORY);
  lz_clear_error();
}

int main(void) {
  RUN(test_views_all_dtypes);
  RUN(test_views_share_one_buffer);
  RUN(test_views_compose_with_binary);
  RUN(test_reshape_family);
  RUN(test_empty_and_scalar_views);
  RUN(test_split_unstack);
  RUN(test_broadcast_arrays);
  RUN(test_view_errors);
  RUN(test_view_copy_out_of_memory);
  return lzt_summary();
}
