/* gather_mm and block_masked_mm against NumPy loops over matrices and blocks
 * (tests/data/matmul_ext_refs.h, scripts/gen_matmul_ext_refs.py): default indices, broadcast
 * indices, 1-D operands, bool, numeric and mixed masks, partial edge blocks; vjp and jvp
 * against finite differences; the errors. */
#include "data/matmul_ext_refs.h"
#include "test_grad_check.h"

#define REF(name, dt) lz_astype(lz_array_from_data(lzm_##name, lzm_##name##_shape, lzm_##name##_ndim, LZ_FLOAT64), dt)
#define CHECK_OUT(y, name, tol)                                                                  \
  do {                                                                                           \
    lz_array *y_ = (y);                                                                          \
    lzt_check_shape(__FILE__, __LINE__, y_, lzm_##name##_shape, lzm_##name##_ndim);              \
    CHECK_VALUES(y_, lzm_##name, sizeof lzm_##name / sizeof(double), tol);                     \
  } while (0)

static void test_gather_mm(void) {
  lz_scope_begin();
  lz_dtype f = LZ_FLOAT32, i = LZ_INT32;
  CHECK_OUT(lz_gather_mm(REF(g1_a, f), REF(g1_b, f), REF(g1_li, i), REF(g1_ri, LZ_UINT8), false),
            g1_out, 1e-4);
  CHECK_OUT(lz_gather_mm(REF(g2_a, f), REF(g2_b, f), NULL, REF(g2_ri, i), true), g2_out, 1e-4);
  CHECK_OUT(lz_gather_mm(REF(g3_a, f), REF(g3_b, f), NULL, REF(g3_ri, LZ_INT64), false), g3_out,
            1e-4);
  /* float16 and float32 promote to float32 */
  lz_array *y4 = lz_gather_mm(REF(g4_a, LZ_FLOAT16), REF(g4_b, f), REF(g4_li, i), NULL, false);
  CHECK(lz_array_dtype(y4) == LZ_FLOAT32);
  CHECK_OUT(y4, g4_out, 2e-2);
  /* no indices: plain matmul */
  lz_array *a = REF(g1_a, f), *b = lz_transpose(REF(g1_a, f), (int[]){0, 2, 1}, 3);
  CHECK(lz_item_bool(lz_array_equal(lz_gather_mm(a, b, NULL, NULL, false), lz_matmul(a, b), false)));
  /* errors */
  lz_array *ii = REF(g1_li, i);
  CHECK_ERROR(lz_gather_mm(a, REF(g1_b, f), lz_astype(ii, f), NULL, false),
              "[lz_gather_mm] lhs_indices must be integral, got float32");
  CHECK_ERROR(lz_gather_mm(a, a, ii, NULL, false),
              "[lz_gather_mm] last dimension of the first input (3,2,4) differs from the second "
              "to last of the second input (3,2,4)");
  CHECK_ERROR(lz_gather_mm(lz_astype(a, i), lz_astype(REF(g1_b, f), i), ii, NULL, false),
              "[lz_gather_mm] only real floating point types are supported, got int32 and int32");
  CHECK_ERROR(lz_gather_mm(a, REF(g1_b, f), ii, lz_arange(0, 4, 1, i), false),
              "[lz_gather_mm] shapes (2,3) and (4,) cannot be broadcast");
  CHECK_ERROR(lz_gather_mm(lz_zeros(NULL, 0, f), a, ii, NULL, false),
              "[lz_gather_mm] inputs must have at least one dimension");
  lz_clear_error();
  CHECK(lz_eval(lz_gather_mm(a, REF(g1_b, f), lz_full((int[]){1}, 1, 3, i), NULL, false)) != 0);
  CHECK(strstr(lz_last_error(), "index 3 is out of bounds") != NULL);
  lz_clear_error();
  lz_scope_end();
}

static lz_array *mask(const double *v, const int *shape, int nd, bool as_bool) {
  lz_array *m = lz_array_from_data(v, shape, nd, LZ_FLOAT64);
  return as_bool ? lz_not_equal(m, lz_float(0)) : lz_astype(m, LZ_FLOAT32);
}
#define MASK(name, b) mask(lzm_##name, lzm_##name##_shape, lzm_##name##_ndim, b)

static void test_block_masked_mm(void) {
  lz_scope_begin();
  lz_dtype f = LZ_FLOAT32;
  CHECK_OUT(lz_block_masked_mm(REF(b1_a, f), REF(b1_b, f), 32, MASK(b1_mo, true),
                               MASK(b1_ml, true), MASK(b1_mr, true)),
            b1_out, 1e-4);
  /* a bool lhs mask with a numeric rhs mask: both act as numbers */
  CHECK_OUT(lz_block_masked_mm(REF(b2_a, f), REF(b2_b, f), 32, NULL, MASK(b2_ml, true),
                               MASK(b2_mr, false)),
            b2_out, 1e-4);
  CHECK_OUT(lz_block_masked_mm(REF(b3_a, f), REF(b3_b, f), 32, MASK(b3_mo, true), NULL, NULL),
            b3_out, 1e-4);
  CHECK_OUT(lz_block_masked_mm(REF(b4_a, f), REF(b4_b, f), 64, MASK(b4_mo, false), NULL, NULL),
            b4_out, 1e-4);
  /* a masked-out block is zero even where the operands are not finite */
  lz_array *inf = lz_full((int[]){40, 40}, 2, INFINITY, f);
  lz_array *m = lz_array_from_data((bool[]){true, false, false, false}, (int[]){2, 2}, 2, LZ_BOOL);
  lz_array *y = lz_block_masked_mm(inf, inf, 32, m, NULL, NULL);
  CHECK_CLOSE(lz_item_f64(lz_take_flat(y, lz_int(39 * 40 + 39))), 0.0, 0);
  lz_array *a = REF(b1_a, f), *b = REF(b1_b, f);
  CHECK(lz_item_bool(lz_array_equal(lz_block_masked_mm(a, b, 32, NULL, NULL, NULL), lz_matmul(a, b), false)));
  CHECK_ERROR(lz_block_masked_mm(a, b, 16, MASK(b1_mo, true), NULL, NULL),
              "[lz_block_masked_mm] block size 16 is not supported (use 32 or 64)");
  CHECK_ERROR(lz_block_masked_mm(a, b, 32, MASK(b1_mr, true), NULL, NULL),
              "[lz_block_masked_mm] mask_out of shape (2,2) does not broadcast to the block "
              "grid (3,2)");
  CHECK_ERROR(lz_block_masked_mm(a, b, 32, NULL, MASK(b1_mr, true), NULL),
              "[lz_block_masked_mm] mask_lhs of shape (2,2) does not broadcast to the block grid (3,2)");
  CHECK_ERROR(lz_block_masked_mm(a, a, 32, NULL, MASK(b1_ml, true), NULL),
              "[lz_block_masked_mm] last dimension of the first input (70,40)");
  lz_scope_end();
}

/* ---- derivatives: gathered matrices scatter-add, masked blocks get zero ---- */
#define IN(lo, hi, ...) {(int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), {__VA_ARGS__}, lo, hi}

static lz_array *f_gather(lz_array *const *x) {
  lz_array *li = lz_array_from_data((int32_t[]){2, 0, 2}, (int[]){3}, 1, LZ_INT32);
  lz_array *ri = lz_array_from_data((int32_t[]){1, 1, 0}, (int[]){3}, 1, LZ_INT32);
  return lz_gather_mm(x[0], x[1], li, ri, false);
}
static lz_array *f_masked(lz_array *const *x) {
  lz_array *ml = lz_array_from_data((bool[]){true, false, true, true}, (int[]){2, 2}, 2, LZ_BOOL);
  lz_array *mr = lz_array_from_data((float[]){0.5f, 2.0f}, (int[]){2, 1}, 2, LZ_FLOAT32);
  lz_array *mo = lz_array_from_data((bool[]){true, false}, (int[]){2, 1}, 2, LZ_BOOL);
  return lz_block_masked_mm(x[0], x[1], 32, mo, ml, mr);
}

static void test_grads(void) {
  gc_check("gather_mm", f_gather, (gc_input[]){IN(-1, 1, 3, 2, 4), IN(-1, 1, 2, 4, 3)}, 2, 1e-6);
  gc_check("block_masked_mm", f_masked, (gc_input[]){IN(-1, 1, 40, 36), IN(-1, 1, 36, 5)}, 2,
           1e-6);
}

int main(void) {
  RUN(test_gather_mm);
  RUN(test_block_masked_mm);
  RUN(test_grads);
  return lzt_summary();
}
