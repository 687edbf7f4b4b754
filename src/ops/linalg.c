/* Linear algebra constructors (lz_linalg_*): validation, output shapes and dtypes, and the
 * registry entries. Multi-output ops (qr, svd, lu, lu_factor, eigh, eig, slogdet) record one
 * node with several outputs. */
#include <math.h>

#include "../cpu/linalg.h"
#include "ops.h"

#define OPDEF(NAME, KERNEL, PSIZE)                                                                 \
  const lz_op_def lz_opdef_##NAME = {                                                              \
      .name = #NAME, .flags = LZ_OPF_DIFFERENTIABLE, .params_size = (PSIZE), .cpu = (KERNEL)};
#define FLAGP sizeof(lz_linalg_flag_params)
OPDEF(linalg_norm, lz_cpu_norm, sizeof(lz_linalg_norm_params))
OPDEF(linalg_qr, lz_cpu_qr, 0)
OPDEF(linalg_svd, lz_cpu_svd, 0)
OPDEF(linalg_inv, lz_cpu_inv, 0)
OPDEF(linalg_pinv, lz_cpu_pinv, 0)
OPDEF(linalg_tri_inv, lz_cpu_tri_inv, FLAGP)
OPDEF(linalg_cholesky, lz_cpu_cholesky, FLAGP)
OPDEF(linalg_cholesky_inv, lz_cpu_cholesky_inv, FLAGP)
OPDEF(linalg_lu, lz_cpu_lu, 0)
OPDEF(linalg_lu_factor, lz_cpu_lu_factor, 0)
OPDEF(linalg_solve, lz_cpu_solve, FLAGP)
OPDEF(linalg_solve_triangular, lz_cpu_solve_triangular, FLAGP)
OPDEF(linalg_cross, lz_cpu_cross, sizeof(lz_cross_params))
OPDEF(linalg_eigh, lz_cpu_eigh, FLAGP)
OPDEF(linalg_eig, lz_cpu_eig, 0)
OPDEF(linalg_det, lz_cpu_det, 0)
OPDEF(linalg_slogdet, lz_cpu_slogdet, 0)

/* float32/float64 (or, where allowed, complex64) input of at least 2 dims, square if asked. */
static bool check_matrix_c(const char *op, const lz_array *a, bool square, bool complex_ok) {
  char s[256];
  if (a->dtype != LZ_FLOAT32 && a->dtype != LZ_FLOAT64 &&
      !(complex_ok && a->dtype == LZ_COMPLEX64)) {
    lz__error(LZ_ERROR_DTYPE, op, "only float32%s float64%s are supported, got %s",
              complex_ok ? "," : " and", complex_ok ? " and complex64" : "",
              lz_dtype_name(a->dtype));
    return false;
  }
  if (a->ndim < 2) {
    lz__error(LZ_ERROR_SHAPE, op, "expects an array of at least 2 dimensions, got shape %s",
              lz__fmt_shape(s, sizeof s, a->shape, a->ndim));
    return false;
  }
  if (square && a->shape[a->ndim - 1] != a->shape[a->ndim - 2]) {
    lz__error(LZ_ERROR_SHAPE, op, "expects square matrices, got shape %s",
              lz__fmt_shape(s, sizeof s, a->shape, a->ndim));
    return false;
  }
  return true;
}
static bool check_matrix(const char *op, const lz_array *a, bool square) {
  return check_matrix_c(op, a, square, false);
}
/* The real type of a's values: float32 for complex64 (singular values, Hermitian eigenvalues). */
static lz_dtype real_of(const lz_array *a) {
  return a->dtype == LZ_COMPLEX64 ? LZ_FLOAT32 : a->dtype;
}

/* One square-matrix input, one output of the input's shape and dtype. */
static lz_array *square_unary(const char *op, int id, lz_array *a, int flag) {
  if (!lz__check_inputs(op, &a, 1) || !check_matrix(op, a, true)) return NULL;
  lz_linalg_flag_params p = {flag};
  return lz__make(id, &p, &a, 1, a->dtype, a->shape, a->ndim);
}

lz_array *lz_linalg_inv(lz_array *a) {
  return square_unary("lz_linalg_inv", LZ_OP_LINALG_INV, a, 0);
}
lz_array *lz_linalg_tri_inv(lz_array *a, bool upper) {
  return square_unary("lz_linalg_tri_inv", LZ_OP_LINALG_TRI_INV, a, upper);
}
lz_array *lz_linalg_cholesky(lz_array *a, bool upper) {
  return square_unary("lz_linalg_cholesky", LZ_OP_LINALG_CHOLESKY, a, upper);
}
lz_array *lz_linalg_cholesky_inv(lz_array *l, bool upper) {
  return square_unary("lz_linalg_cholesky_inv", LZ_OP_LINALG_CHOLESKY_INV, l, upper);
}

lz_array *lz_linalg_pinv(lz_array *a) {
  if (!lz__check_inputs("lz_linalg_pinv", &a, 1) || !check_matrix("lz_linalg_pinv", a, false))
    return NULL;
  int shape[LZ_MAX_NDIM];
  memcpy(shape, a->shape, (size_t)a->ndim * sizeof *shape);
  shape[a->ndim - 2] = a->shape[a->ndim - 1], shape[a->ndim - 1] = a->shape[a->ndim - 2];
  return lz__make(LZ_OP_LINALG_PINV, NULL, &a, 1, a->dtype, shape, a->ndim);
}

/* Shapes for multi-output ops: batch + the given trailing dims. */
typedef struct out_shapes {
  int dims[3][LZ_MAX_NDIM];
  int nd[3];
  const int *ptr[3];
  lz_dtype dt[3];
} out_shapes;

static void add_shape(out_shapes *o, int k, const lz_array *a, lz_dtype dt, int n, int d0, int d1) {
  int nb = a->ndim - 2;
  memcpy(o->dims[k], a->shape, (size_t)nb * sizeof(int));
  o->nd[k] = nb + n;
  if (n > 0) o->dims[k][nb] = d0;
  if (n > 1) o->dims[k][nb + 1] = d1;
  o->ptr[k] = o->dims[k];
  o->dt[k] = dt;
}

static int make_multi(int id, const void *params, lz_array *a, int n, out_shapes *o,
                      lz_array **outs) {
  return lz__make_multi(id, params, &a, 1, n, o->dt, o->ptr, o->nd, outs);
}

int lz_linalg_qr(lz_array *a, lz_array **outs) {
  const char *op = "lz_linalg_qr";
  if (!outs) return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "outs is NULL");
  outs[0] = outs[1] = NULL;
  if (!lz__check_inputs(op, &a, 1) || !check_matrix(op, a, false)) return -1;
  int M = a->shape[a->ndim - 2], N = a->shape[a->ndim - 1], K = M < N ? M : N;
  out_shapes o;
  add_shape(&o, 0, a, a->dtype, 2, M, K);
  add_shape(&o, 1, a, a->dtype, 2, K, N);
  return make_multi(LZ_OP_LINALG_QR, NULL, a, 2, &o, outs);
}

int lz_linalg_svd(lz_array *a, bool compute_uv, lz_array **outs) {
  const char *op = "lz_linalg_svd";
  if (!outs) return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "outs is NULL");
  for (int k = 0; k < (compute_uv ? 3 : 1); k++) outs[k] = NULL;
  if (!lz__check_inputs(op, &a, 1) || !check_matrix_c(op, a, false, true)) return -1;
  int M = a->shape[a->ndim - 2], N = a->shape[a->ndim - 1], K = M < N ? M : N;
  out_shapes o;
  if (!compute_uv) {
    add_shape(&o, 0, a, real_of(a), 1, K, 0);
    return make_multi(LZ_OP_LINALG_SVD, NULL, a, 1, &o, outs);
  }
  add_shape(&o, 0, a, a->dtype, 2, M, M);
  add_shape(&o, 1, a, real_of(a), 1, K, 0);
  add_shape(&o, 2, a, a->dtype, 2, N, N);
  return make_multi(LZ_OP_LINALG_SVD, NULL, a, 3, &o, outs);
}

int lz_linalg_lu(lz_array *a, lz_array **outs) {
  const char *op = "lz_linalg_lu";
  if (!outs) return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "outs is NULL");
  outs[0] = outs[1] = outs[2] = NULL;
  if (!lz__check_inputs(op, &a, 1) || !check_matrix(op, a, false)) return -1;
  int M = a->shape[a->ndim - 2], N = a->shape[a->ndim - 1], K = M < N ? M : N;
  out_shapes o;
  add_shape(&o, 0, a, LZ_UINT32, 1, M, 0);
  add_shape(&o, 1, a, a->dtype, 2, M, K);
  add_shape(&o, 2, a, a->dtype, 2, K, N);
  return make_multi(LZ_OP_LINALG_LU, NULL, a, 3, &o, outs);
}

int lz_linalg_lu_factor(lz_array *a, lz_array **outs) {
  const char *op = "lz_linalg_lu_factor";
  if (!outs) return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "outs is NULL");
  outs[0] = outs[1] = NULL;
  if (!lz__check_inputs(op, &a, 1) || !check_matrix(op, a, false)) return -1;
  int M = a->shape[a->ndim - 2], N = a->shape[a->ndim - 1], K = M < N ? M : N;
  out_shapes o;
  add_shape(&o, 0, a, a->dtype, 2, M, N);
  add_shape(&o, 1, a, LZ_UINT32, 1, K, 0);
  return make_multi(LZ_OP_LINALG_LU_FACTOR, NULL, a, 2, &o, outs);
}

static int uplo_flag(const char *op, const char *uplo) {
  if (!uplo) return 'L';
  if ((uplo[0] == 'L' || uplo[0] == 'U') && uplo[1] == 0) return uplo[0];
  return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "UPLO must be \"L\" or \"U\", got \"%s\"", uplo);
}

int lz_linalg_eigh(lz_array *a, const char *uplo, lz_array **outs) {
  const char *op = "lz_linalg_eigh";
  if (!outs) return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "outs is NULL");
  outs[0] = outs[1] = NULL;
  if (!lz__check_inputs(op, &a, 1) || !check_matrix_c(op, a, true, true)) return -1;
  lz_linalg_flag_params p = {uplo_flag(op, uplo)};
  if (p.flag < 0) return -1;
  int n = a->shape[a->ndim - 1];
  out_shapes o;
  add_shape(&o, 0, a, real_of(a), 1, n, 0);
  add_shape(&o, 1, a, a->dtype, 2, n, n);
  return make_multi(LZ_OP_LINALG_EIGH, &p, a, 2, &o, outs);
}

lz_array *lz_linalg_eigvalsh(lz_array *a, const char *uplo) {
  const char *op = "lz_linalg_eigvalsh";
  if (!lz__check_inputs(op, &a, 1) || !check_matrix_c(op, a, true, true)) return NULL;
  lz_linalg_flag_params p = {uplo_flag(op, uplo)};
  if (p.flag < 0) return NULL;
  int n = a->shape[a->ndim - 1];
  out_shapes o;
  add_shape(&o, 0, a, real_of(a), 1, n, 0);
  lz_array *w = NULL;
  make_multi(LZ_OP_LINALG_EIGH, &p, a, 1, &o, &w);
  return w;
}

int lz_linalg_eig(lz_array *a, lz_array **outs) {
  const char *op = "lz_linalg_eig";
  if (!outs) return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "outs is NULL");
  outs[0] = outs[1] = NULL;
  if (!lz__check_inputs(op, &a, 1) || !check_matrix_c(op, a, true, true)) return -1;
  int n = a->shape[a->ndim - 1];
  out_shapes o;
  add_shape(&o, 0, a, LZ_COMPLEX64, 1, n, 0);
  add_shape(&o, 1, a, LZ_COMPLEX64, 2, n, n);
  return make_multi(LZ_OP_LINALG_EIG, NULL, a, 2, &o, outs);
}

lz_array *lz_linalg_eigvals(lz_array *a) {
  const char *op = "lz_linalg_eigvals";
  if (!lz__check_inputs(op, &a, 1) || !check_matrix_c(op, a, true, true)) return NULL;
  out_shapes o;
  add_shape(&o, 0, a, LZ_COMPLEX64, 1, a->shape[a->ndim - 1], 0);
  lz_array *w = NULL;
  make_multi(LZ_OP_LINALG_EIG, NULL, a, 1, &o, &w);
  return w;
}

/* det and slogdet take integer and bool matrices as float32 (MLX's at_least_float). */
static lz_array *at_least_float(lz_array *a) {
  bool integral = a->dtype == LZ_BOOL || lz_dtype_is_integer(a->dtype);
  return integral ? lz_astype(a, LZ_FLOAT32) : lz_retain(a);
}

lz_array *lz_linalg_det(lz_array *a) {
  const char *op = "lz_linalg_det";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  lz_array *f = at_least_float(a), *out = NULL;
  if (f && check_matrix(op, f, true))
    out = lz__make(LZ_OP_LINALG_DET, NULL, &f, 1, f->dtype, f->shape, f->ndim - 2);
  lz_free(f);
  return out;
}

int lz_linalg_slogdet(lz_array *a, lz_array **outs) {
  const char *op = "lz_linalg_slogdet";
  if (!outs) return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "outs is NULL");
  outs[0] = outs[1] = NULL;
  if (!lz__check_inputs(op, &a, 1)) return -1;
  lz_array *f = at_least_float(a);
  int rc = -1;
  if (f && check_matrix(op, f, true)) {
    out_shapes o;
    add_shape(&o, 0, f, f->dtype, 0, 0, 0);
    add_shape(&o, 1, f, f->dtype, 0, 0, 0);
    rc = make_multi(LZ_OP_LINALG_SLOGDET, NULL, f, 2, &o, outs);
  }
  lz_free(f);
  return rc;
}

/* ---- solves ---- */

static lz_array *solve_common(const char *op, int id, lz_array *a, lz_array *b, int flag) {
  lz_array *in[2] = {a, b};
  if (!lz__check_inputs(op, in, 2) || !check_matrix(op, a, true)) return NULL;
  char sa[256], sb[256];
  if (b->dtype != a->dtype) {
    lz__error(LZ_ERROR_DTYPE, op, "a and b must have the same dtype, got %s and %s",
              lz_dtype_name(a->dtype), lz_dtype_name(b->dtype));
    return NULL;
  }
  int n = a->shape[a->ndim - 1];
  bool vec = b->ndim == 1 || b->ndim == a->ndim - 1;
  int core = vec ? 1 : 2;
  if (b->ndim < 1 || b->shape[b->ndim - core] != n) {
    lz__error(LZ_ERROR_SHAPE, op, "a of shape %s and b of shape %s do not fit together",
              lz__fmt_shape(sa, sizeof sa, a->shape, a->ndim),
              lz__fmt_shape(sb, sizeof sb, b->shape, b->ndim));
    return NULL;
  }
  int shape[LZ_MAX_NDIM];
  int nd = lz__broadcast_shapes(op, a->shape, a->ndim - 2, b->shape, b->ndim - core, shape);
  if (nd < 0) return NULL;
  shape[nd++] = n;
  if (!vec) shape[nd++] = b->shape[b->ndim - 1];
  lz_linalg_flag_params p = {flag | (vec ? 2 : 0)};
  return lz__make(id, &p, in, 2, a->dtype, shape, nd);
}

lz_array *lz_linalg_solve(lz_array *a, lz_array *b) {
  return solve_common("lz_linalg_solve", LZ_OP_LINALG_SOLVE, a, b, 0);
}
lz_array *lz_linalg_solve_triangular(lz_array *a, lz_array *b, bool upper) {
  return solve_common("lz_linalg_solve_triangular", LZ_OP_LINALG_SOLVE_TRIANGULAR, a, b, upper);
}

/* ---- cross ---- */

lz_array *lz_linalg_cross(lz_array *a, lz_array *b, int axis) {
  const char *op = "lz_linalg_cross";
  lz_array *in[2] = {a, b};
  if (!lz__check_inputs(op, in, 2)) return NULL;
  lz_dtype dt = lz__result_type(a, b);
  if (dt == LZ_COMPLEX64) {
    lz__error(LZ_ERROR_DTYPE, op, "complex64 is not supported");
    return NULL;
  }
  /* As in MLX (and NumPy), `axis` is counted in each input: a positive axis is dim `axis` of a
   * and of b even when their ndims differ (a negative one counts from each end). */
  int da = axis < 0 ? axis + a->ndim : axis, db = axis < 0 ? axis + b->ndim : axis;
  if (da < 0 || da >= a->ndim || db < 0 || db >= b->ndim || a->shape[da] != 3 ||
      b->shape[db] != 3) {
    char sa[256], sb[256];
    lz__error(LZ_ERROR_SHAPE, op, "axis %d must have size 3 in both inputs, got %s and %s", axis,
              lz__fmt_shape(sa, sizeof sa, a->shape, a->ndim),
              lz__fmt_shape(sb, sizeof sb, b->shape, b->ndim));
    return NULL;
  }
  if (a->ndim != b->ndim && axis >= 0) {
    /* The vector dims are at different places of the broadcast shape: move each to the end,
     * broadcast the other dims, and put the result's vector dim at `axis` (NumPy's axisc). */
    lz_scope_begin();
    lz_array *ma = lz_moveaxis(a, da, -1), *mb = lz_moveaxis(b, db, -1);
    lz_array *r = lz_keep(lz_moveaxis(lz_linalg_cross(ma, mb, -1), -1, axis));
    lz_scope_end();
    return r;
  }
  int shape[LZ_MAX_NDIM];
  int nd = lz__broadcast_shapes(op, a->shape, a->ndim, b->shape, b->ndim, shape);
  if (nd < 0) return NULL;
  int ax = nd - a->ndim + da; /* the same dim of the broadcast shape for both inputs here */
  lz_array *ca = lz__cast("lz_linalg_cross", a, dt),
           *cb = ca ? lz__cast("lz_linalg_cross", b, dt) : NULL, *out = NULL;
  if (ca && cb) {
    lz_array *cin[2] = {ca, cb};
    lz_cross_params p = {ax};
    out = lz__make(LZ_OP_LINALG_CROSS, &p, cin, 2, dt, shape, nd);
  }
  if (ca) lz__uncast(ca, a);
  if (cb) lz__uncast(cb, b);
  return out;
}

/* ---- norms ---- */

/* A complex64 norm, float32 as MLX: every norm but the SVD-based matrix ones depends only on
 * |a|; the 2-norms and the nuclear norm are the max, min or sum of the singular values of the
 * complex matrices (moved to the last two axes). `shape` is the result's. */
static lz_array *norm_make(lz_array *a, lz_linalg_norm_params *p, bool keepdims);
static lz_array *norm_complex(lz_array *a, lz_linalg_norm_params *p, const int *shape, int nd) {
  lz_scope_begin();
  lz_array *out = NULL;
  if (p->kind != LZ_NORM_MAT_SVD && p->kind != LZ_NORM_NUC) {
    lz_array *m = lz_abs(a);
    out = m ? norm_make(m, p, p->keepdims) : NULL;
  } else {
    int perm[LZ_MAX_NDIM], k = 0;
    for (int d = 0; d < a->ndim; d++)
      if (d != p->axes[0] && d != p->axes[1]) perm[k++] = d;
    perm[k++] = p->axes[0], perm[k++] = p->axes[1];
    lz_array *s = NULL;
    if (lz_linalg_svd(lz_transpose(a, perm, a->ndim), false, &s) == 0) {
      lz_array *r = p->kind == LZ_NORM_NUC ? lz_sum_axis(s, -1, false)
                    : p->ord > 0           ? lz_max_axis(s, -1, false)
                                           : lz_min_axis(s, -1, false);
      out = r ? lz_reshape(r, shape, nd) : NULL;
    }
  }
  lz_keep(out);
  lz_scope_end();
  return out;
}

static lz_array *norm_make(lz_array *a, lz_linalg_norm_params *p, bool keepdims) {
  const char *op = "lz_linalg_norm";
  p->keepdims = keepdims;
  bool red[LZ_MAX_NDIM] = {false};
  for (int d = 0; d < a->ndim; d++) red[d] = p->naxes == 0;
  for (int i = 0; i < p->naxes; i++) red[p->axes[i]] = true;
  int shape[LZ_MAX_NDIM], nd = 0;
  for (int d = 0; d < a->ndim; d++) {
    if (!red[d])
      shape[nd++] = a->shape[d];
    else if (keepdims)
      shape[nd++] = 1;
  }
  lz_dtype dt = a->dtype;
  if (!lz_dtype_is_float(dt) && dt != LZ_COMPLEX64) {
    lz__error(LZ_ERROR_DTYPE, op, "only floating point and complex arrays are supported, got %s",
              lz_dtype_name(dt));
    return NULL;
  }
  if (dt == LZ_COMPLEX64) return norm_complex(a, p, shape, nd);
  return lz__make(LZ_OP_LINALG_NORM, p, &a, 1, dt, shape, nd);
}

/* Validates axes (0, 1 or 2 of them) into p. */
static int norm_axes(lz_array *a, const int *axes, int naxes, lz_linalg_norm_params *p) {
  const char *op = "lz_linalg_norm";
  if (naxes < 0 || naxes > 2)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "takes 1 or 2 axes, got %d", naxes);
  p->naxes = naxes;
  return lz__norm_axes(op, axes, naxes, a->ndim, p->axes);
}

lz_array *lz_linalg_norm(lz_array *a, const int *axes, int naxes, bool keepdims) {
  if (!lz__check_inputs("lz_linalg_norm", &a, 1)) return NULL;
  lz_linalg_norm_params p;
  memset(&p, 0, sizeof p);
  if (norm_axes(a, axes, naxes, &p) != 0) return NULL;
  p.kind = naxes == 2 ? LZ_NORM_FRO : LZ_NORM_VECTOR;
  p.ord = 2;
  return norm_make(a, &p, keepdims);
}

/* Without axes, ord applies to a 1-D (vector) or 2-D (matrix) array. */
static int default_axes(const char *what, lz_array *a, lz_linalg_norm_params *p) {
  if (a->ndim != 1 && a->ndim != 2) {
    char s[256];
    return lz__error(LZ_ERROR_SHAPE, "lz_linalg_norm",
                     "%s without axes needs a 1-D or 2-D array, got shape %s", what,
                     lz__fmt_shape(s, sizeof s, a->shape, a->ndim));
  }
  p->naxes = a->ndim;
  p->axes[0] = 0, p->axes[1] = 1;
  return 0;
}

lz_array *lz_linalg_norm_ord(lz_array *a, double ord, const int *axes, int naxes, bool keepdims) {
  const char *op = "lz_linalg_norm";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  lz_linalg_norm_params p;
  memset(&p, 0, sizeof p);
  p.ord = ord;
  if (naxes == 0 ? default_axes("a numeric order", a, &p) : norm_axes(a, axes, naxes, &p))
    return NULL;
  if (isnan(ord)) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "the order is NaN");
    return NULL;
  }
  if (p.naxes == 1) {
    p.kind = LZ_NORM_VECTOR;
  } else if (fabs(ord) == 1 || isinf(ord)) {
    p.kind = LZ_NORM_MAT_ABS;
  } else if (fabs(ord) == 2) {
    p.kind = LZ_NORM_MAT_SVD;
  } else {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "invalid order %g for a matrix norm", ord);
    return NULL;
  }
  return norm_make(a, &p, keepdims);
}

lz_array *lz_linalg_norm_str(lz_array *a, const char *ord, const int *axes, int naxes,
                             bool keepdims) {
  const char *op = "lz_linalg_norm";
  if (!lz__check_inputs(op, &a, 1)) return NULL;
  lz_linalg_norm_params p;
  memset(&p, 0, sizeof p);
  bool fro = ord && strcmp(ord, "fro") == 0, nuc = ord && strcmp(ord, "nuc") == 0;
  if (!fro && !nuc) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "unknown order \"%s\" (\"fro\" or \"nuc\")",
              ord ? ord : "(null)");
    return NULL;
  }
  if (naxes == 0 ? default_axes("\"fro\" or \"nuc\"", a, &p) : norm_axes(a, axes, naxes, &p))
    return NULL;
  if (p.naxes != 2) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "\"%s\" is a matrix norm and needs 2 axes", ord);
    return NULL;
  }
  p.kind = fro ? LZ_NORM_FRO : LZ_NORM_NUC;
  p.ord = fro ? 2 : 1;
  return norm_make(a, &p, keepdims);
}
