/* vjp and jvp rules of the shape ops (ops/shape_*.c): views whose derivatives are the inverse
 * view of the cotangent, or the same view of the tangent. */
#include "cpu/shape.h"
#include "transforms/rules_util.h"

#include <stdlib.h>

#define X (a->inputs[0])
#define C (a->cotans[0])
#define T (a->tangents[0])
#define OUT (a->node->outputs[0]) /* shape only: it may be a dropped zombie */

static int done(lz_array **slot, lz_array *v) { return (*slot = v) ? 0 : -1; }

static int vjp_reshape(const lz_vjp_args *a, lz_array **g) {
  return done(&g[0], lz_reshape(C, X->shape, X->ndim));
}
static int jvp_reshape(const lz_jvp_args *a, lz_array **t) {
  return done(&t[0], lz_reshape(T, OUT->shape, OUT->ndim));
}

static int vjp_transpose(const lz_vjp_args *a, lz_array **g) {
  const lz_transpose_params *p = a->node->params;
  int inv[LZ_MAX_NDIM];
  for (int d = 0; d < X->ndim; d++) inv[p->perm[d]] = d;
  return done(&g[0], lz_transpose(C, inv, X->ndim));
}
static int jvp_transpose(const lz_jvp_args *a, lz_array **t) {
  const lz_transpose_params *p = a->node->params;
  return done(&t[0], lz_transpose(T, p->perm, X->ndim));
}

static int vjp_broadcast_to(const lz_vjp_args *a, lz_array **g) {
  return done(&g[0], lz__unbroadcast(a->who, C, X));
}
static int jvp_broadcast_to(const lz_jvp_args *a, lz_array **t) {
  return done(&t[0], lz_broadcast_to(T, OUT->shape, OUT->ndim));
}

static int vjp_contiguous(const lz_vjp_args *a, lz_array **g) { return done(&g[0], lz_retain(C)); }
static int jvp_contiguous(const lz_jvp_args *a, lz_array **t) { return done(&t[0], lz_retain(T)); }

/* x[start:stop] along `axis`, whole along the others. */
static lz_array *slice_axis(lz_array *x, int axis, int start, int stop) {
  int s[LZ_MAX_NDIM], e[LZ_MAX_NDIM];
  for (int d = 0; d < x->ndim; d++) s[d] = 0, e[d] = x->shape[d];
  s[axis] = start, e[axis] = stop;
  return lz_slice(x, s, e, NULL, x->ndim);
}

/* slice (and flip, a slice with step -1): the cotangent fills the sliced places of zeros. */
static int vjp_slice(const lz_vjp_args *a, lz_array **g) {
  const lz_slice_params *p = a->node->params;
  return done(&g[0], lz__slice_update_norm(lz_zeros_like(X), C, p->start, p->step, OUT->shape));
}
static int jvp_slice(const lz_jvp_args *a, lz_array **t) {
  const lz_slice_params *p = a->node->params;
  return done(&t[0], lz__slice_norm(T, p->start, p->step, OUT->shape));
}

/* diagonal: the output's last axis walks (i + r0, i + s0) on (axis1, axis2); the cotangent is
 * added back at those coordinates. */
static int vjp_diagonal(const lz_vjp_args *a, lz_array **g) {
  const lz_diagonal_params *p = a->node->params;
  int ond = X->ndim - 1, len = OUT->shape[ond - 1], j = 0;
  lz_array *coords[LZ_MAX_NDIM];
  for (int d = 0; d < X->ndim; d++) {
    if (d == p->axis1 || d == p->axis2) {
      int off = d == p->axis1 ? (p->offset < 0 ? -p->offset : 0) : (p->offset > 0 ? p->offset : 0);
      coords[d] = lz_add(lz__axis_iota(len, ond - 1, ond), lz_int(off));
    } else {
      coords[d] = lz__axis_iota(X->shape[d], j++, ond);
    }
  }
  return done(&g[0], lz__coord_scatter_add(lz_zeros_like(X), coords, X->ndim, C));
}
static int jvp_diagonal(const lz_jvp_args *a, lz_array **t) {
  const lz_diagonal_params *p = a->node->params;
  return done(&t[0], lz_diagonal(T, p->offset, p->axis1, p->axis2));
}

/* as_strided: output element i reads element offset + sum(i_d * strides_d) of x's row-major
 * data; the cotangent is added back there (overlapping windows accumulate). */
static int vjp_as_strided(const lz_vjp_args *a, lz_array **g) {
  const lz_as_strided_params *p = a->node->params;
  int nd = OUT->ndim, flat = (int)X->size;
  lz_array *idx = lz_scalar((double)p->offset, LZ_INT64);
  for (int d = 0; d < nd; d++) {
    lz_array *i = lz_astype(lz__axis_iota(OUT->shape[d], d, nd), LZ_INT64);
    idx = lz_add(idx, lz_multiply(i, lz_scalar((double)p->strides[d], LZ_INT64)));
  }
  lz_array *z = lz_zeros(&flat, 1, X->dtype);
  return done(&g[0], lz_reshape(lz_at_add(z, idx, C, 0), X->shape, X->ndim));
}
static int jvp_as_strided(const lz_jvp_args *a, lz_array **t) {
  const lz_as_strided_params *p = a->node->params;
  return done(&t[0], lz_as_strided(T, OUT->shape, OUT->ndim, p->strides, p->offset));
}

/* split and unstack: the cotangents (zeros where none flowed) joined back. */
static int vjp_split(const lz_vjp_args *a, lz_array **g) {
  const lz_split_params *p = a->node->params;
  int n = a->node->noutputs;
  lz_array **parts = lz__malloc((size_t)n * sizeof *parts);
  if (!parts) return lz__error(LZ_ERROR_OUT_OF_MEMORY, a->who, "out of memory");
  for (int k = 0; k < n; k++) {
    const lz_array *o = a->node->outputs[k];
    lz_array *c = a->cotans[k] ? a->cotans[k] : lz_zeros(o->shape, o->ndim, o->dtype);
    parts[k] = p->squeeze ? lz_expand_dims(c, &p->axis, 1) : c;
  }
  g[0] = lz_concatenate(parts, n, p->axis);
  free(parts);
  return g[0] ? 0 : -1;
}
static int jvp_split(const lz_jvp_args *a, lz_array **t) {
  const lz_split_params *p = a->node->params;
  int at = 0;
  for (int k = 0; k < a->node->noutputs; k++) {
    int len = p->squeeze ? 1 : a->node->outputs[k]->shape[p->axis];
    lz_array *part = slice_axis(T, p->axis, at, at + len);
    at += len;
    if (p->squeeze) part = lz_squeeze(part, &p->axis, 1);
    if (!(t[k] = part)) return -1;
  }
  return 0;
}

static int vjp_concatenate(const lz_vjp_args *a, lz_array **g) {
  const lz_concatenate_params *p = a->node->params;
  int at = 0;
  for (int i = 0; i < a->node->ninputs; i++) {
    int len = a->inputs[i]->shape[p->axis];
    g[i] = NULL;
    if (a->need[i] && !(g[i] = slice_axis(C, p->axis, at, at + len))) return -1;
    at += len;
  }
  return 0;
}
static int jvp_concatenate(const lz_jvp_args *a, lz_array **t) {
  const lz_concatenate_params *p = a->node->params;
  int n = a->node->ninputs;
  lz_array **parts = lz__malloc((size_t)n * sizeof *parts);
  if (!parts) return lz__error(LZ_ERROR_OUT_OF_MEMORY, a->who, "out of memory");
  for (int i = 0; i < n; i++) parts[i] = lz__or_zeros(a->tangents[i], a->inputs[i]);
  t[0] = lz_concatenate(parts, n, p->axis);
  free(parts);
  return t[0] ? 0 : -1;
}

/* pad: constant padding drops the padded cotangent; edge padding adds it to the edge element
 * it copied, axis by axis. */
static int vjp_pad(const lz_vjp_args *a, lz_array **g) {
  const lz_pad_params *p = a->node->params;
  lz_array *c = C;
  for (int d = 0; d < X->ndim && c; d++) {
    int n = X->shape[d], lo = p->low[d], hi = OUT->shape[d] - n - lo;
    if (lo == 0 && hi == 0) continue;
    lz_array *mid = slice_axis(c, d, lo, lo + n);
    if (p->mode == LZ_PAD_EDGE && n > 0) {
      int zero = 0, before = 0, after = n - 1;
      if (lo > 0) {
        lz_array *s = lz_sum_axis(slice_axis(c, d, 0, lo), d, true);
        mid = lz_add(mid, lz_pad(s, &d, 1, &zero, &after, "constant", 0));
      }
      if (hi > 0) {
        lz_array *s = lz_sum_axis(slice_axis(c, d, lo + n, lo + n + hi), d, true);
        mid = lz_add(mid, lz_pad(s, &d, 1, &after, &before, "constant", 0));
      }
    }
    c = mid;
  }
  return done(&g[0], c ? lz_astype(c, X->dtype) : NULL);
}
static int jvp_pad(const lz_jvp_args *a, lz_array **t) {
  const lz_pad_params *p = a->node->params;
  int hi[LZ_MAX_NDIM];
  for (int d = 0; d < X->ndim; d++) hi[d] = OUT->shape[d] - X->shape[d] - p->low[d];
  const char *mode = p->mode == LZ_PAD_EDGE ? "edge" : "constant";
  return done(&t[0], lz_pad(T, NULL, X->ndim, p->low, hi, mode, 0));
}

/* diag (vector to matrix) and its inverse, diagonal of a matrix. */
static int vjp_diag(const lz_vjp_args *a, lz_array **g) {
  return done(&g[0], lz_diagonal(C, ((const lz_k_params *)a->node->params)->k, 0, 1));
}
static int jvp_diag(const lz_jvp_args *a, lz_array **t) {
  return done(&t[0], lz_diag(T, ((const lz_k_params *)a->node->params)->k));
}

/* tril / triu keep a triangle: so do their derivatives. */
static int vjp_tril(const lz_vjp_args *a, lz_array **g) {
  int k = ((const lz_k_params *)a->node->params)->k;
  return done(&g[0], a->node->op == LZ_OP_TRIL ? lz_tril(C, k) : lz_triu(C, k));
}
static int jvp_tril(const lz_jvp_args *a, lz_array **t) {
  int k = ((const lz_k_params *)a->node->params)->k;
  return done(&t[0], a->node->op == LZ_OP_TRIL ? lz_tril(T, k) : lz_triu(T, k));
}

const lz_rule lz__rules_shape[LZ_OP_COUNT] = {
    [LZ_OP_RESHAPE] = {vjp_reshape, jvp_reshape, NULL},
    [LZ_OP_TRANSPOSE] = {vjp_transpose, jvp_transpose, NULL},
    [LZ_OP_BROADCAST_TO] = {vjp_broadcast_to, jvp_broadcast_to, NULL},
    [LZ_OP_CONTIGUOUS] = {vjp_contiguous, jvp_contiguous, NULL},
    [LZ_OP_SLICE] = {vjp_slice, jvp_slice, NULL},
    [LZ_OP_DIAGONAL] = {vjp_diagonal, jvp_diagonal, NULL},
    [LZ_OP_AS_STRIDED] = {vjp_as_strided, jvp_as_strided, NULL},
    [LZ_OP_SPLIT] = {vjp_split, jvp_split, NULL},
    [LZ_OP_CONCATENATE] = {vjp_concatenate, jvp_concatenate, NULL},
    [LZ_OP_PAD] = {vjp_pad, jvp_pad, NULL},
    [LZ_OP_DIAG] = {vjp_diag, jvp_diag, NULL},
    [LZ_OP_TRIL] = {vjp_tril, jvp_tril, NULL},
    [LZ_OP_TRIU] = {vjp_tril, jvp_tril, NULL},
};
