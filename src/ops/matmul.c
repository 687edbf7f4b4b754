/* The matmul family's constructors: matmul, addmm, outer, inner, tensordot. Shapes and dtypes
 * follow MLX: 1-D operands act as vectors, batch dims broadcast, and products that go through
 * GEMM (matmul, addmm, inner, tensordot) accept only real floating point dtypes. */
#include "matmul_impl.h"

const lz_op_def lz_opdef_matmul = {
    .name = "matmul",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .cpu = lz_cpu_matmul,
};

const lz_op_def lz_opdef_addmm = {
    .name = "addmm",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_addmm_params),
    .cpu = lz_cpu_matmul,
};

const lz_op_def lz_opdef_contract = {
    .name = "contract",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_contract_params),
    .cpu = lz_cpu_contract,
};

static bool float_only(const char *op, lz_dtype dt, const lz_array *a, const lz_array *b) {
  if (lz_dtype_is_float(dt)) return true;
  lz__error(LZ_ERROR_DTYPE, op,
            "only real floating point types are supported, got %s and %s (promoted to %s)",
            lz_dtype_name(a->dtype), lz_dtype_name(b->dtype), lz_dtype_name(dt));
  return false;
}

/* Validates a @ b and computes the output shape; returns its ndim or -1. */
static int matmul_shape(const char *op, const lz_array *a, const lz_array *b, int *shape) {
  char sa[256], sb[256];
  if (a->ndim == 0 || b->ndim == 0) {
    lz__error(LZ_ERROR_SHAPE, op, "inputs must have at least one dimension, got %s @ %s",
              lz__fmt_shape(sa, sizeof sa, a->shape, a->ndim),
              lz__fmt_shape(sb, sizeof sb, b->shape, b->ndim));
    return -1;
  }
  int ka = a->shape[a->ndim - 1], kb = b->ndim == 1 ? b->shape[0] : b->shape[b->ndim - 2];
  if (ka != kb) {
    lz__error(LZ_ERROR_SHAPE, op, "inner dimensions differ: %s @ %s",
              lz__fmt_shape(sa, sizeof sa, a->shape, a->ndim),
              lz__fmt_shape(sb, sizeof sb, b->shape, b->ndim));
    return -1;
  }
  int nba = a->ndim > 2 ? a->ndim - 2 : 0, nbb = b->ndim > 2 ? b->ndim - 2 : 0;
  int nd = lz__broadcast_shapes(op, a->shape, nba, b->shape, nbb, shape);
  if (nd < 0) return -1;
  if (a->ndim > 1) shape[nd++] = a->shape[a->ndim - 2];
  if (b->ndim > 1) shape[nd++] = b->shape[b->ndim - 1];
  return nd;
}

/* Records op on (a, b[, c]) after casting every input to dt. */
static lz_array *make_cast(int op, const void *params, lz_array **in, int n, lz_dtype dt,
                           const int *shape, int nd) {
  lz_array *cin[3] = {NULL, NULL, NULL};
  lz_array *out = NULL;
  int k = 0;
  for (; k < n; k++)
    if (!(cin[k] = lz__cast(lz__op(op)->name, in[k], dt))) break;
  if (k == n) out = lz__make(op, params, cin, n, dt, shape, nd);
  for (int i = 0; i < k; i++) lz__uncast(cin[i], in[i]);
  return out;
}

lz_array *lz_matmul(lz_array *a, lz_array *b) {
  lz_array *in[2] = {a, b};
  if (!lz__check_inputs("lz_matmul", in, 2)) return NULL;
  int shape[LZ_MAX_NDIM + 2];
  int nd = matmul_shape("lz_matmul", a, b, shape);
  if (nd < 0) return NULL;
  lz_dtype dt = lz__result_type(a, b);
  if (!float_only("lz_matmul", dt, a, b)) return NULL;
  return make_cast(LZ_OP_MATMUL, NULL, in, 2, dt, shape, nd);
}

lz_array *lz_addmm(lz_array *c, lz_array *a, lz_array *b, double alpha, double beta) {
  lz_array *in[3] = {a, b, c};
  if (!lz__check_inputs("lz_addmm", in, 3)) return NULL;
  int shape[LZ_MAX_NDIM + 2];
  int nd = matmul_shape("lz_addmm", a, b, shape);
  if (nd < 0) return NULL;
  lz_dtype dt = lz_promote_types(lz__result_type(a, b), c->dtype);
  if (c->flags & LZ_AF_WEAK) dt = lz__result_type(a, b);
  if (!float_only("lz_addmm", dt, a, b)) return NULL;
  bool fits = c->ndim <= nd;
  for (int i = 0; fits && i < c->ndim; i++) {
    int dc = c->shape[c->ndim - 1 - i], d = shape[nd - 1 - i];
    fits = dc == d || dc == 1;
  }
  if (!fits) {
    char sc[256], so[256];
    lz__error(LZ_ERROR_SHAPE, "lz_addmm", "c of shape %s does not broadcast to the output %s",
              lz__fmt_shape(sc, sizeof sc, c->shape, c->ndim),
              lz__fmt_shape(so, sizeof so, shape, nd));
    return NULL;
  }
  lz_addmm_params p = {alpha, beta};
  return make_cast(LZ_OP_ADDMM, &p, in, 3, dt, shape, nd);
}

lz_array *lz__contract(lz_array *a, lz_array *b, const int8_t *la, const int8_t *lb,
                       const int8_t *lo, int nout, lz_dtype dtype, const int *shape, int ndim) {
  lz_contract_params p;
  memset(&p, 0, sizeof p);
  memcpy(p.la, la, (size_t)a->ndim);
  if (b) memcpy(p.lb, lb, (size_t)b->ndim);
  memcpy(p.lo, lo, (size_t)nout);
  p.nout = (int8_t)nout;
  lz_array *in[2] = {a, b};
  return lz__make(LZ_OP_CONTRACT, &p, in, b ? 2 : 1, dtype, shape, ndim);
}

lz_array *lz_outer(lz_array *a, lz_array *b) {
  lz_array *in[2] = {a, b};
  if (!lz__check_inputs("lz_outer", in, 2)) return NULL;
  lz_dtype dt = lz__result_type(a, b);
  if (dt == LZ_COMPLEX64) {
    lz__error(LZ_ERROR_DTYPE, "lz_outer", "complex64 is not supported (inputs %s and %s)",
              lz_dtype_name(a->dtype), lz_dtype_name(b->dtype));
    return NULL;
  }
  int8_t la[LZ_MAX_NDIM], lb[LZ_MAX_NDIM], lo[LZ_MAX_NDIM * 2];
  int nout = 0;
  for (int d = 0; d < a->ndim; d++) la[d] = lo[nout++] = (int8_t)d;
  for (int d = 0; d < b->ndim; d++) lb[d] = lo[nout++] = (int8_t)(a->ndim + d);
  if (nout > LZ_MAX_NDIM) { /* the kernel's output labels are limited; flatten first */
    lz__error(LZ_ERROR_SHAPE, "lz_outer", "inputs have %d dimensions together, at most %d", nout,
              LZ_MAX_NDIM);
    return NULL;
  }
  int shape[2] = {(int)a->size, (int)b->size};
  return lz__contract(a, b, la, lb, lo, nout, dt, shape, 2);
}

/* tensordot with validated, normalised axis lists. */
static lz_array *tensordot_axes(const char *op, lz_array *a, lz_array *b, const int *axa,
                                const int *axb, int n) {
  lz_dtype dt = lz__result_type(a, b);
  if (!float_only(op, dt, a, b)) return NULL;
  int8_t la[LZ_MAX_NDIM], lb[LZ_MAX_NDIM], lo[LZ_MAX_NDIM];
  bool ca[LZ_MAX_NDIM] = {false}, cb[LZ_MAX_NDIM] = {false};
  int shape[LZ_MAX_NDIM], nout = 0;
  for (int i = 0; i < n; i++) {
    if (a->shape[axa[i]] != b->shape[axb[i]]) {
      char sa[256], sb[256];
      lz__error(LZ_ERROR_SHAPE, op, "axis %d of %s and axis %d of %s differ in size", axa[i],
                lz__fmt_shape(sa, sizeof sa, a->shape, a->ndim), axb[i],
                lz__fmt_shape(sb, sizeof sb, b->shape, b->ndim));
      return NULL;
    }
    ca[axa[i]] = cb[axb[i]] = true;
    la[axa[i]] = lb[axb[i]] = (int8_t)i;
  }
  for (int d = 0; d < a->ndim; d++)
    if (!ca[d]) la[d] = (int8_t)(n + d), lo[nout] = la[d], shape[nout++] = a->shape[d];
  for (int d = 0; d < b->ndim; d++) {
    if (cb[d]) continue;
    if (nout == LZ_MAX_NDIM) {
      lz__error(LZ_ERROR_SHAPE, op, "the result would have more than %d dimensions", LZ_MAX_NDIM);
      return NULL;
    }
    lb[d] = (int8_t)(n + a->ndim + d), lo[nout] = lb[d], shape[nout++] = b->shape[d];
  }
  return lz__contract(a, b, la, lb, lo, nout, dt, shape, nout);
}

lz_array *lz_tensordot_axes(lz_array *a, lz_array *b, const int *axes_a, const int *axes_b,
                            int naxes) {
  lz_array *in[2] = {a, b};
  if (!lz__check_inputs("lz_tensordot", in, 2)) return NULL;
  int axa[LZ_MAX_NDIM], axb[LZ_MAX_NDIM];
  if (naxes < 0 || naxes > a->ndim || naxes > b->ndim) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_tensordot",
              "%d axes to contract for inputs of dimensions %d and %d", naxes, a->ndim, b->ndim);
    return NULL;
  }
  if (lz__norm_axes("lz_tensordot", axes_a, naxes, a->ndim, axa) != 0) return NULL;
  if (lz__norm_axes("lz_tensordot", axes_b, naxes, b->ndim, axb) != 0) return NULL;
  return tensordot_axes("lz_tensordot", a, b, axa, axb, naxes);
}

lz_array *lz_tensordot(lz_array *a, lz_array *b, int axes) {
  lz_array *in[2] = {a, b};
  if (!lz__check_inputs("lz_tensordot", in, 2)) return NULL;
  if (axes < 0 || axes > a->ndim || axes > b->ndim) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_tensordot",
              "cannot contract %d axes of inputs of dimensions %d and %d", axes, a->ndim, b->ndim);
    return NULL;
  }
  int axa[LZ_MAX_NDIM], axb[LZ_MAX_NDIM];
  for (int i = 0; i < axes; i++) axa[i] = a->ndim - axes + i, axb[i] = i;
  return tensordot_axes("lz_tensordot", a, b, axa, axb, axes);
}

lz_array *lz_inner(lz_array *a, lz_array *b) {
  lz_array *in[2] = {a, b};
  if (!lz__check_inputs("lz_inner", in, 2)) return NULL;
  if (a->ndim == 0 || b->ndim == 0) return lz_multiply(a, b);
  if (a->shape[a->ndim - 1] != b->shape[b->ndim - 1]) {
    char sa[256], sb[256];
    lz__error(LZ_ERROR_SHAPE, "lz_inner", "last dimensions differ: %s and %s",
              lz__fmt_shape(sa, sizeof sa, a->shape, a->ndim),
              lz__fmt_shape(sb, sizeof sb, b->shape, b->ndim));
    return NULL;
  }
  int axa = a->ndim - 1, axb = b->ndim - 1;
  return tensordot_axes("lz_inner", a, b, &axa, &axb, 1);
}
