/* The matmul family: matmul, addmm, outer, inner, tensordot and einsum against NumPy
 * references (tests/data/linalg_refs.h) in float32, float64, float16 and bfloat16, with
 * batched, broadcast, vector, transposed, sliced and flipped operands, and their errors. */
#include <limits.h>

#include "data/linalg_refs.h"
#include "lz_test.h"

static const lz_dtype float_types[4] = {LZ_FLOAT32, LZ_FLOAT64, LZ_FLOAT16, LZ_BFLOAT16};
/* inputs are multiples of 1/4, so only the final rounding to the output dtype is inexact */
static double tol_of(lz_dtype dt) {
  return dt == LZ_FLOAT64 ? 1e-12 : dt == LZ_FLOAT32 ? 1e-6 : dt == LZ_FLOAT16 ? 2e-3 : 1e-2;
}

static lz_array *input(const lzr_case *c, int k, lz_dtype dt) {
  lz_array *x = lz_array_from_data(c->in[k], c->shape[k], c->ndim[k], LZ_FLOAT64);
  return lz_astype(x, dt);
}

static void check_case(const lzr_case *c, lz_array *y, lz_dtype dt) {
  CHECK(y != NULL);
  if (!y) return;
  CHECK(lz_array_dtype(y) == dt);
  lzt_check_shape(__FILE__, __LINE__, y, c->oshape, c->ondim);
  size_t n = 1;
  for (int d = 0; d < c->ondim; d++) n *= (size_t)c->oshape[d];
  CHECK_VALUES(y, c->out, n, tol_of(dt));
}

/* A view with the same values as x whose last two axes are transposed in memory. */
static lz_array *transposed_layout(lz_array *x) {
  if (lz_array_ndim(x) < 2) return x;
  return lz_swapaxes(lz_contiguous(lz_swapaxes(x, -1, -2)), -1, -2);
}

/* A view with the same values as x whose last axis has stride 2 (every other element). */
static lz_array *strided_layout(lz_array *x) {
  int nd = lz_array_ndim(x);
  if (nd < 1) return x;
  lz_array *r = lz_repeat(x, 2, -1);
  int start[LZ_MAX_NDIM] = {0}, stop[LZ_MAX_NDIM], step[LZ_MAX_NDIM];
  for (int d = 0; d < nd; d++) stop[d] = INT_MAX, step[d] = 1;
  step[nd - 1] = 2;
  return lz_slice(r, start, stop, step, nd);
}

/* The same values read backwards twice (negative strides). */
static lz_array *flipped_layout(lz_array *x) {
  int nd = lz_array_ndim(x);
  if (nd < 1) return x;
  int ax = nd - 1;
  return lz_flip(lz_contiguous(lz_flip(x, &ax, 1)), &ax, 1);
}

static void test_matmul_refs(void) {
  for (size_t i = 0; i < LZR_COUNT(lzr_matmul); i++) {
    const lzr_case *c = &lzr_matmul[i];
    for (int t = 0; t < 4; t++) {
      lz_array *a = input(c, 0, float_types[t]), *b = input(c, 1, float_types[t]);
      check_case(c, lz_matmul(a, b), float_types[t]);
    }
  }
}

static void test_matmul_layouts(void) {
  for (size_t i = 0; i < LZR_COUNT(lzr_matmul); i++) {
    const lzr_case *c = &lzr_matmul[i];
    for (int t = 0; t < 2; t++) {
      lz_dtype dt = float_types[t];
      lz_array *a = input(c, 0, dt), *b = input(c, 1, dt);
      check_case(c, lz_matmul(transposed_layout(a), b), dt);
      check_case(c, lz_matmul(a, transposed_layout(b)), dt);
      check_case(c, lz_matmul(transposed_layout(a), transposed_layout(b)), dt);
      check_case(c, lz_matmul(strided_layout(a), flipped_layout(b)), dt);
      check_case(c, lz_matmul(flipped_layout(a), strided_layout(b)), dt);
    }
  }
}

/* A transposed operand goes to BLAS as it is: evaluating allocates only the output. */
static void test_matmul_transposed_no_copy(void) {
  int s[2] = {128, 96};
  lz_array *base = lz_arange(0, 128 * 96, 1, LZ_FLOAT32);
  lz_array *a = lz_swapaxes(lz_reshape(base, s, 2), 0, 1); /* (96,128), column-major */
  lz_array *x = lz_ones((int[]){128, 2}, 2, LZ_FLOAT32);
  lz_array *xc = lz_contiguous(x);
  CHECK(lz_eval(a) == 0 && lz_eval(xc) == 0);
  lz_array *y = lz_matmul(a, xc);
  size_t before = lz_get_active_memory();
  lz_reset_peak_memory();
  CHECK(lz_eval(y) == 0);
  CHECK(lz_get_peak_memory() - before < 96 * 128 * 4 / 2); /* no copy of a */
  /* row i of a is base[j*96 + i] over j: the sum is 96*128*127/2 + 128*i, twice */
  CHECK_CLOSE(lz_item_f32(lz_slice(y, (int[]){5, 1}, (int[]){6, 2}, NULL, 2)),
              96.0 * 128 * 127 / 2 + 128 * 5, 1e-6);
}

/* Broadcast (stride 0) batch dims and a whole broadcast operand. */
static void test_matmul_broadcast_views(void) {
  const lzr_case *c = &lzr_matmul[0]; /* (3,4) @ (4,5) */
  lz_array *a = input(c, 0, LZ_FLOAT32), *b = input(c, 1, LZ_FLOAT32);
  lz_array *ab = lz_broadcast_to(a, (int[]){2, 3, 4}, 3);
  lz_array *y = lz_matmul(ab, b);
  CHECK_SHAPE(y, 2, 3, 5);
  double want[30];
  for (int i = 0; i < 15; i++) want[i] = want[15 + i] = c->out[i];
  CHECK_VALUES(y, want, 30, 1e-6);
  /* lz_full is a stride-0 view of one value */
  lz_array *f = lz_full((int[]){3, 4}, 2, 0.5, LZ_FLOAT32);
  lz_array *z = lz_matmul(f, lz_full((int[]){4, 2}, 2, 2.0, LZ_FLOAT32));
  double four[6] = {4, 4, 4, 4, 4, 4};
  CHECK_VALUES(z, four, 6, 0);
}

static void test_matmul_promotion(void) {
  const lzr_case *c = &lzr_matmul[0];
  lz_array *a = input(c, 0, LZ_FLOAT16), *b = input(c, 1, LZ_FLOAT32);
  lz_array *y = lz_matmul(a, b);
  CHECK(lz_array_dtype(y) == LZ_FLOAT32);
  CHECK_VALUES(y, c->out, 15, 1e-6);
  lz_array *bi = input(c, 1, LZ_INT32);
  lz_array *y2 = lz_matmul(input(c, 0, LZ_FLOAT64), bi);
  CHECK(lz_array_dtype(y2) == LZ_FLOAT64);
}

static void test_matmul_errors(void) {
  lz_array *a = lz_ones((int[]){3, 4}, 2, LZ_FLOAT32), *b = lz_ones((int[]){5, 6}, 2, LZ_FLOAT32);
  CHECK_ERROR(lz_matmul(a, b), "[lz_matmul] inner dimensions differ: (3,4) @ (5,6)");
  CHECK(lz_last_error_code() == LZ_ERROR_NONE);
  lz_clear_error();
  lz_matmul(a, b);
  CHECK(lz_last_error_code() == LZ_ERROR_SHAPE);
  lz_clear_error();
  CHECK_ERROR(lz_matmul(lz_ones((int[]){4}, 1, LZ_FLOAT32), lz_ones((int[]){3}, 1, LZ_FLOAT32)),
              "inner dimensions differ: (4,) @ (3,)");
  lz_array *ia = lz_ones((int[]){3, 4}, 2, LZ_INT32), *ib = lz_ones((int[]){4, 2}, 2, LZ_INT32);
  CHECK_ERROR(lz_matmul(ia, ib), "[lz_matmul] only real floating point types are supported");
  CHECK_ERROR(lz_matmul(lz_float(2), a), "[lz_matmul] inputs must have at least one dimension");
  CHECK_ERROR(
      lz_matmul(lz_ones((int[]){2, 3, 4}, 3, LZ_FLOAT32), lz_ones((int[]){3, 4, 5}, 3, LZ_FLOAT32)),
      "cannot be broadcast");
  CHECK_ERROR(lz_matmul(lz_ones((int[]){2, 2}, 2, LZ_COMPLEX64), a), "[lz_matmul]");
  CHECK_ERROR(lz_matmul(NULL, a), "[lz_matmul] argument 0 is NULL");
  /* a pending error passes through a NULL input and is kept */
  lz_clear_error();
  CHECK(lz_matmul(lz_matmul(a, b), a) == NULL);
  CHECK(strstr(lz_last_error(), "inner dimensions differ: (3,4) @ (5,6)") != NULL);
  lz_clear_error();
}

static void test_addmm(void) {
  for (size_t i = 0; i < LZR_COUNT(lzr_addmm); i++) {
    const lzr_case *c = &lzr_addmm[i];
    for (int t = 0; t < 4; t++) {
      lz_dtype dt = float_types[t];
      lz_array *y = lz_addmm(input(c, 0, dt), input(c, 1, dt), input(c, 2, dt), c->p0, c->p1);
      check_case(c, y, dt);
    }
  }
  lz_array *a = lz_ones((int[]){3, 4}, 2, LZ_FLOAT32), *b = lz_ones((int[]){4, 5}, 2, LZ_FLOAT32);
  CHECK_ERROR(lz_addmm(lz_ones((int[]){4, 5}, 2, LZ_FLOAT32), a, b, 1, 1),
              "[lz_addmm] c of shape (4,5) does not broadcast to the output (3,5)");
  CHECK_ERROR(lz_addmm(a, a, a, 1, 1), "[lz_addmm] inner dimensions differ: (3,4) @ (3,4)");
  /* a weak scalar c keeps the dtype of a @ b */
  lz_array *y = lz_addmm(lz_float(1), a, b, 1, 1);
  CHECK(lz_array_dtype(y) == LZ_FLOAT32);
  double five[15];
  for (int i = 0; i < 15; i++) five[i] = 5;
  CHECK_VALUES(y, five, 15, 0);
}

static void test_tensordot_inner_outer(void) {
  for (size_t i = 0; i < LZR_COUNT(lzr_tensordot); i++) {
    const lzr_case *c = &lzr_tensordot[i];
    for (int t = 0; t < 4; t++) {
      lz_dtype dt = float_types[t];
      check_case(c, lz_tensordot(input(c, 0, dt), input(c, 1, dt), (int)c->p0), dt);
    }
  }
  /* axes lists: a (2,3,4) with b (4,3,5) over a's (1,2) and b's (1,0) -> (2,5) */
  double av[24], bv[60];
  for (int i = 0; i < 24; i++) av[i] = i % 5 - 2;
  for (int i = 0; i < 60; i++) bv[i] = i % 7 - 3;
  lz_array *a = lz_array_from_data(av, (int[]){2, 3, 4}, 3, LZ_FLOAT64);
  lz_array *b = lz_array_from_data(bv, (int[]){4, 3, 5}, 3, LZ_FLOAT64);
  lz_array *y = lz_tensordot_axes(a, b, (int[]){1, 2}, (int[]){1, 0}, 2);
  CHECK_SHAPE(y, 2, 5);
  double want[10];
  for (int i = 0; i < 2; i++)
    for (int n = 0; n < 5; n++) {
      double s = 0;
      for (int j = 0; j < 3; j++)
        for (int k = 0; k < 4; k++) s += av[i * 12 + j * 4 + k] * bv[k * 15 + j * 5 + n];
      want[i * 5 + n] = s;
    }
  CHECK_VALUES(y, want, 10, 1e-12);
  CHECK_ERROR(lz_tensordot_axes(a, b, (int[]){0}, (int[]){0}, 1), "[lz_tensordot] axis 0 of");
  CHECK_ERROR(lz_tensordot(a, b, 4), "[lz_tensordot]");
  CHECK_ERROR(lz_tensordot_axes(a, b, (int[]){5}, (int[]){0}, 1), "out of bounds");

  /* inner: sum over the last axes */
  lz_array *u = lz_arange(0, 6, 1, LZ_FLOAT32), *v = lz_arange(1, 7, 1, LZ_FLOAT32);
  CHECK_CLOSE(lz_item_f64(lz_inner(u, v)), 70, 0);
  lz_array *m = lz_reshape(u, (int[]){2, 3}, 2);
  lz_array *im = lz_inner(m, m);
  double mm[4] = {5, 14, 14, 50};
  CHECK_SHAPE(im, 2, 2);
  CHECK_VALUES(im, mm, 4, 0);
  lz_array *sc = lz_inner(u, lz_float(2));
  CHECK_SHAPE(sc, 6);
  CHECK_ERROR(lz_inner(m, u), "[lz_inner] last dimensions differ: (2,3) and (6,)");
  CHECK_ERROR(lz_inner(lz_ones((int[]){3}, 1, LZ_INT32), lz_ones((int[]){3}, 1, LZ_INT32)),
              "[lz_inner] only real floating point");

  /* outer flattens and accepts integers (MLX computes it as a product) */
  lz_array *mi = lz_reshape(lz_arange(0, 6, 1, LZ_INT32), (int[]){2, 3}, 2);
  lz_array *o = lz_outer(lz_arange(1, 4, 1, LZ_INT32), mi);
  CHECK_SHAPE(o, 3, 6);
  CHECK(lz_array_dtype(o) == LZ_INT32);
  double ov[18];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 6; j++) ov[i * 6 + j] = (i + 1) * j;
  CHECK_VALUES(o, ov, 18, 0);
  lz_array *ob = lz_outer(lz_array_from_data((bool[]){true, false}, (int[]){2}, 1, LZ_BOOL),
                          lz_array_from_data((bool[]){true, true}, (int[]){2}, 1, LZ_BOOL));
  double obv[4] = {1, 1, 0, 0};
  CHECK(lz_array_dtype(ob) == LZ_BOOL);
  CHECK_VALUES(ob, obv, 4, 0);
  lz_array *o0 = lz_outer(lz_float(3), lz_zeros((int[]){0}, 1, LZ_FLOAT32));
  CHECK_SHAPE(o0, 1, 0);
}

static void test_einsum_refs(void) {
  for (size_t i = 0; i < LZR_COUNT(lzr_einsum); i++) {
    const lzr_case *c = &lzr_einsum[i];
    for (int t = 0; t < 4; t++) {
      lz_dtype dt = float_types[t];
      lz_array *ops[4];
      for (int k = 0; k < c->nin; k++) ops[k] = input(c, k, dt);
      lz_array *y = lz_einsum(c->name, ops, c->nin);
      if (!y) fprintf(stderr, "einsum \"%s\" failed: %s\n", c->name, lz_last_error());
      check_case(c, y, dt);
      for (int k = 0; k < c->nin; k++) ops[k] = transposed_layout(ops[k]);
      check_case(c, lz_einsum(c->name, ops, c->nin), dt);
    }
  }
}

static void test_einsum_errors(void) {
  lz_array *a = lz_ones((int[]){3, 4}, 2, LZ_FLOAT32), *b = lz_ones((int[]){5, 6}, 2, LZ_FLOAT32);
  lz_array *ab[2] = {a, b};
  CHECK_ERROR(lz_einsum("ij,jk->ik", ab, 2), "[lz_einsum] subscript 'j' has size 5 in operand 1");
  CHECK_ERROR(lz_einsum("ij->ik", ab, 1), "output subscript 'k' is in no operand");
  CHECK_ERROR(lz_einsum("ij->ii", ab, 1), "output subscript 'i' is repeated");
  CHECK_ERROR(lz_einsum("ijk->i", ab, 1), "operand 0 has 2 dimensions but its subscripts name 3");
  CHECK_ERROR(lz_einsum("ij", ab, 2), "do not name 2 operands");
  CHECK_ERROR(lz_einsum("ij,jk,kl", ab, 2), "do not name 2 operands");
  CHECK_ERROR(lz_einsum("i2->i", ab, 1), "invalid character '2'");
  CHECK_ERROR(lz_einsum("i..j->i", ab, 1), "bad ellipsis");
  lz_array *ia = lz_ones((int[]){3}, 1, LZ_INT32);
  CHECK_ERROR(lz_einsum("i->", &ia, 1), "only real floating point");
  CHECK_ERROR(lz_einsum(NULL, ab, 2), "[lz_einsum]");
  lz_array *nul[2] = {a, NULL};
  CHECK_ERROR(lz_einsum("ij,jk", nul, 2), "argument 1 is NULL");
}

/* The greedy order contracts the small pair first: (10,2)@(2,10) last, never a 10x10 first. */
static void test_einsum_path_and_empty(void) {
  lz_array *a = lz_ones((int[]){10, 2}, 2, LZ_FLOAT64), *b = lz_ones((int[]){2, 10}, 2, LZ_FLOAT64);
  lz_array *c = lz_ones((int[]){10}, 1, LZ_FLOAT64);
  lz_array *ops[3] = {a, b, c};
  lz_array *y = lz_einsum("ij,jk,k->i", ops, 3);
  double w[10];
  for (int i = 0; i < 10; i++) w[i] = 20;
  CHECK_VALUES(y, w, 10, 0);
  lz_array *e = lz_zeros((int[]){0, 3}, 2, LZ_FLOAT32);
  lz_array *ops2[2] = {e, lz_ones((int[]){3, 2}, 2, LZ_FLOAT32)};
  CHECK_SHAPE(lz_einsum("ij,jk->ik", ops2, 2), 0, 2);
  lz_array *ops3[2] = {lz_ones((int[]){2, 0}, 2, LZ_FLOAT32),
                       lz_ones((int[]){0, 3}, 2, LZ_FLOAT32)};
  lz_array *z = lz_einsum("ij,jk->ik", ops3, 2);
  double zeros[6] = {0};
  CHECK_VALUES(z, zeros, 6, 0);
  lz_array *s = lz_einsum("->", (lz_array *[]){lz_float(3)}, 1);
  CHECK_CLOSE(lz_item_f64(s), 3, 0);
}

/* Many small GEMMs split across threads give exactly the one-thread result. */
static void test_threads_match_serial(void) {
  lz_array *a = lz_sin(lz_reshape(lz_arange(0, 64 * 8 * 9, 1, LZ_FLOAT32), (int[]){64, 8, 9}, 3));
  lz_array *b = lz_cos(lz_reshape(lz_arange(0, 64 * 9 * 7, 1, LZ_FLOAT32), (int[]){64, 9, 7}, 3));
  lz_array *ops[2] = {a, b};
  int prev = lz_set_num_threads(1);
  lz_array *y1 = lz_matmul(a, b), *e1 = lz_einsum("bij,bjk->bik", ops, 2);
  CHECK(lz_eval(y1) == 0 && lz_eval(e1) == 0);
  lz_set_num_threads(4);
  lz_array *y4 = lz_matmul(a, b), *e4 = lz_einsum("bij,bjk->bik", ops, 2);
  CHECK(lz_eval(y4) == 0 && lz_eval(e4) == 0);
  lz_set_num_threads(prev);
  const float *p1 = lz_array_data(y1), *p4 = lz_array_data(y4);
  const float *q1 = lz_array_data(e1), *q4 = lz_array_data(e4);
  CHECK(p1 && p4 && memcmp(p1, p4, 64 * 8 * 7 * sizeof(float)) == 0);
  CHECK(q1 && q4 && memcmp(q1, q4, 64 * 8 * 7 * sizeof(float)) == 0);
}

int main(void) {
  RUN(test_matmul_refs);
  RUN(test_matmul_layouts);
  RUN(test_matmul_transposed_no_copy);
  RUN(test_matmul_broadcast_views);
  RUN(test_matmul_promotion);
  RUN(test_matmul_errors);
  RUN(test_addmm);
  RUN(test_tensordot_inner_outer);
  RUN(test_einsum_refs);
  RUN(test_einsum_errors);
  RUN(test_einsum_path_and_empty);
  RUN(test_threads_match_serial);
  return lzt_summary();
}
