/* Norms and the cross product. A norm reads each reduced block (a vector along one axis, a
 * matrix over two, or every element) into float64 scratch and reduces it there; the 2-norm of
 * a matrix and the nuclear norm take its singular values (gesdd). */
#include <lapacke.h>
#include <math.h>

#include "linalg.h"
#include "linalg_pack.h"

static double vector_norm(const double *x, int64_t n, double ord) {
  double r = 0;
  if (ord == INFINITY || ord == -INFINITY) {
    r = n ? fabs(x[0]) : 0;
    for (int64_t i = 1; i < n; i++) {
      double v = fabs(x[i]);
      if (isnan(v) || (ord > 0 ? v > r : v < r)) r = v;
      if (isnan(r)) break;
    }
  } else if (ord == 0) {
    for (int64_t i = 0; i < n; i++) r += x[i] != 0;
  } else if (ord == 1) {
    for (int64_t i = 0; i < n; i++) r += fabs(x[i]);
  } else if (ord == 2) {
    for (int64_t i = 0; i < n; i++) r += x[i] * x[i];
    r = sqrt(r);
  } else {
    for (int64_t i = 0; i < n; i++) r += pow(fabs(x[i]), ord);
    r = pow(r, 1.0 / ord);
  }
  return r;
}

/* x is (R, C) row-major; sv is scratch for min(R,C) values. Returns NAN-free results unless
 * the input had NaN; -1 from *fail when the SVD did not converge. */
static double matrix_norm(double *x, int R, int C, const lz_linalg_norm_params *p, double *sv,
                          int *fail) {
  if (p->kind == LZ_NORM_FRO) return vector_norm(x, (int64_t)R * C, 2);
  if (p->kind == LZ_NORM_MAT_ABS) {
    bool cols = p->ord == 1 || p->ord == -1; /* sums down each column */
    bool want_max = p->ord > 0;
    int outer = cols ? C : R, inner = cols ? R : C;
    double best = 0;
    for (int o = 0; o < outer; o++) {
      double s = 0;
      for (int i = 0; i < inner; i++)
        s += fabs(cols ? x[(int64_t)i * C + o] : x[(int64_t)o * C + i]);
      if (o == 0 || (want_max ? s > best : s < best) || isnan(s)) best = s;
    }
    return best;
  }
  int K = R < C ? R : C;
  if (K == 0) return 0;
  /* gesdd may loop forever on infinity and LAPACKE rejects NaN (found by the op fuzz test):
   * a NaN gives NaN, an infinity an infinite norm (NaN for the smallest singular value). */
  bool has_nan = false, has_inf = false;
  for (int64_t i = 0; i < (int64_t)R * C; i++) has_nan |= isnan(x[i]), has_inf |= isinf(x[i]);
  if (has_nan || has_inf) return has_nan || p->ord < 0 ? NAN : INFINITY;
  int th = lz_cpu_lapack_begin(4.0 * R * C * (R < C ? R : C));
  lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', R, C, x, C, sv, NULL, R, NULL, C);
  lz_cpu_lapack_end(th);
  if (info != 0) {
    *fail = 1;
    return 0;
  }
  if (p->kind == LZ_NORM_NUC) {
    double s = 0;
    for (int k = 0; k < K; k++) s += sv[k];
    return s;
  }
  return p->ord > 0 ? sv[0] : sv[K - 1];
}

int lz_cpu_norm(lz_node *node, lz_array **outs) {
  const char *op = "lz_linalg_norm";
  const lz_linalg_norm_params *p = node->params;
  lz_array *a = node->inputs[0], *out = outs[0];
  if (lz__alloc_output(out, op) != 0) return -1;
  /* split a's dims into kept (outer) and reduced (block, in the order of p->axes) */
  bool red[LZ_MAX_NDIM] = {false};
  int bshape[LZ_MAX_NDIM], kshape[LZ_MAX_NDIM], nblock = 0, nkept = 0;
  int64_t bstr[LZ_MAX_NDIM], kstr[LZ_MAX_NDIM], blen = 1, count = 1;
  if (p->naxes == 0) {
    for (int d = 0; d < a->ndim; d++) red[d] = true;
    for (int d = 0; d < a->ndim; d++) bshape[nblock] = a->shape[d], bstr[nblock++] = a->strides[d];
  } else {
    for (int i = 0; i < p->naxes; i++) {
      int d = p->axes[i];
      red[d] = true;
      bshape[nblock] = a->shape[d], bstr[nblock++] = a->strides[d];
    }
  }
  for (int i = 0; i < nblock; i++) blen *= bshape[i];
  for (int d = 0; d < a->ndim; d++)
    if (!red[d]) kshape[nkept] = a->shape[d], kstr[nkept++] = a->strides[d], count *= a->shape[d];
  if (count == 0) return 0;
  int R = p->naxes == 2 ? bshape[0] : 1, C = p->naxes == 2 ? bshape[1] : 1;
  int K = R < C ? R : C;
  size_t cap = 0;
  double *x = lz_cpu_scratch((size_t)(blen + K + 1) * sizeof(double), &cap, op);
  if (!x) return -1;
  double *sv = x + blen;
  int64_t cont[LZ_MAX_NDIM], st = 1;
  for (int i = nblock - 1; i >= 0; i--) cont[i] = st, st *= bshape[i];
  size_t isz = lz_dtype_size(a->dtype), osz = lz_dtype_size(out->dtype);
  int fail = 0;
  for (int64_t t = 0; t < count && !fail; t++) {
    int64_t rem = t, off = 0;
    for (int d = nkept - 1; d >= 0; d--) off += (rem % kshape[d]) * kstr[d], rem /= kshape[d];
    lz_cpu_copy_cast((char *)x, LZ_FLOAT64, cont, lz__data_ptr(a) + off * (int64_t)isz, a->dtype,
                     bstr, nblock, bshape);
    double r = p->naxes == 2 ? matrix_norm(x, R, C, p, sv, &fail) : vector_norm(x, blen, p->ord);
    lz__store_f64(lz__data_ptr(out) + t * (int64_t)osz, out->dtype, r);
  }
  lz_cpu_scratch_free(x, cap);
  if (fail) return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "the SVD did not converge");
  return 0;
}

/* ---- cross product along one axis of size 3 ---- */

typedef struct cross_ctx {
  lz_dtype dt;
  int64_t ax[3]; /* byte strides along the axis: out, a, b */
} cross_ctx;

static double ld(const char *p, lz_dtype dt) {
  return dt == LZ_FLOAT32   ? *(const float *)p
         : dt == LZ_FLOAT64 ? *(const double *)p
                            : lz__load_f64(p, dt);
}
static void st(char *p, lz_dtype dt, double v) {
  if (dt == LZ_FLOAT32)
    *(float *)p = (float)v;
  else if (dt == LZ_FLOAT64)
    *(double *)p = v;
  else
    lz__store_f64(p, dt, v);
}

static void cross_inner(void *vctx, int64_t n, char **ptr, const int64_t *s) {
  const cross_ctx *c = vctx;
  char *o = ptr[0];
  const char *a = ptr[1], *b = ptr[2];
  for (int64_t i = 0; i < n; i++, o += s[0], a += s[1], b += s[2]) {
    double a0 = ld(a, c->dt), a1 = ld(a + c->ax[1], c->dt), a2 = ld(a + 2 * c->ax[1], c->dt);
    double b0 = ld(b, c->dt), b1 = ld(b + c->ax[2], c->dt), b2 = ld(b + 2 * c->ax[2], c->dt);
    st(o, c->dt, a1 * b2 - a2 * b1);
    st(o + c->ax[0], c->dt, a2 * b0 - a0 * b2);
    st(o + 2 * c->ax[0], c->dt, a0 * b1 - a1 * b0);
  }
}

int lz_cpu_cross(lz_node *node, lz_array **outs) {
  const lz_cross_params *p = node->params;
  lz_array *a = node->inputs[0], *b = node->inputs[1], *out = outs[0];
  if (lz__alloc_output(out, "lz_linalg_cross") != 0) return -1;
  if (out->size == 0) return 0;
  int64_t sa[LZ_MAX_NDIM], sb[LZ_MAX_NDIM];
  lz_cpu_broadcast_strides(a, out, sa);
  lz_cpu_broadcast_strides(b, out, sb);
  size_t esz = lz_dtype_size(out->dtype);
  cross_ctx c = {out->dtype,
                 {out->strides[p->axis] * (int64_t)esz, sa[p->axis] * (int64_t)esz,
                  sb[p->axis] * (int64_t)esz}};
  int shape[LZ_MAX_NDIM];
  memcpy(shape, out->shape, (size_t)out->ndim * sizeof *shape);
  shape[p->axis] = 1; /* the kernel walks the axis itself */
  char *base[3] = {lz__data_ptr(out), lz__data_ptr(a), lz__data_ptr(b)};
  const int64_t *strides[3] = {out->strides, sa, sb};
  size_t sizes[3] = {esz, esz, esz};
  lz_cpu_iter it;
  lz_cpu_iter_init(&it, out->ndim, shape, 3, base, strides, sizes);
  lz_cpu_iter_for(&it, cross_inner, &c);
  return 0;
}
