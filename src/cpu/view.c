/* View kernels: each output shares its input's buffer with new strides and an offset, so they
 * allocate no data. reshape and contiguous fall back to a copy when the strides do not allow a
 * view; as_strided copies a non-contiguous input first. */
#include "shape.h"

/* Strides that let `in` be seen with shape (nshape, nnd) without copying, NumPy's rule: each
 * group of input dims that merges into (or splits from) a group of output dims must be
 * contiguous within itself. Size-1 dims never matter. Returns false when a copy is needed. */
static bool reshape_strides(const lz_array *in, const int *nshape, int nnd, int64_t *nstr) {
  int64_t odim[LZ_MAX_NDIM], ostr[LZ_MAX_NDIM];
  int ond = 0;
  for (int d = 0; d < in->ndim; d++) {
    if (in->shape[d] != 1) odim[ond] = in->shape[d], ostr[ond] = in->strides[d], ond++;
  }
  int oi = 0, oj = 1, ni = 0, nj = 1;
  while (ni < nnd && oi < ond) {
    int64_t np = nshape[ni], op = odim[oi];
    while (np != op) {
      if (np < op)
        np *= nshape[nj++];
      else
        op *= odim[oj++];
    }
    for (int k = oi; k < oj - 1; k++) {
      if (ostr[k] != odim[k + 1] * ostr[k + 1]) return false;
    }
    nstr[nj - 1] = ostr[oj - 1];
    for (int k = nj - 1; k > ni; k--) nstr[k - 1] = nstr[k] * nshape[k];
    ni = nj++;
    oi = oj++;
  }
  int64_t last = ni > 0 ? nstr[ni - 1] : 1;
  for (int k = ni; k < nnd; k++) nstr[k] = last; /* trailing size-1 dims */
  return true;
}

int lz_cpu_reshape(lz_node *node, lz_array **outs) {
  lz_array *in = node->inputs[0], *out = outs[0];
  int64_t str[LZ_MAX_NDIM];
  if (out->size == 0) { /* nothing to read: any strides do */
    lz__set_contiguous_strides(out);
    lz__set_view(out, in, 0, out->strides);
    return 0;
  }
  if (reshape_strides(in, out->shape, out->ndim, str)) {
    lz__set_view(out, in, 0, str);
    return 0;
  }
  if (lz__alloc_output(out, "lz_reshape") != 0) return -1;
  lz__copy_to_contiguous(lz__data_ptr(out), in); /* same row-major order, new dims */
  return 0;
}

int lz_cpu_transpose(lz_node *node, lz_array **outs) {
  const lz_transpose_params *p = node->params;
  lz_array *in = node->inputs[0], *out = outs[0];
  int64_t str[LZ_MAX_NDIM];
  for (int d = 0; d < out->ndim; d++) str[d] = in->strides[p->perm[d]];
  lz__set_view(out, in, 0, str);
  return 0;
}

int lz_cpu_broadcast_to(lz_node *node, lz_array **outs) {
  int64_t str[LZ_MAX_NDIM];
  lz_cpu_broadcast_strides(node->inputs[0], outs[0], str);
  lz__set_view(outs[0], node->inputs[0], 0, str);
  return 0;
}

int lz_cpu_slice(lz_node *node, lz_array **outs) {
  const lz_slice_params *p = node->params;
  lz_array *in = node->inputs[0], *out = outs[0];
  int64_t str[LZ_MAX_NDIM], off = 0;
  for (int d = 0; d < out->ndim; d++) {
    str[d] = in->strides[d] * p->step[d];
    off += in->strides[d] * p->start[d];
  }
  lz__set_view(out, in, out->size ? off : 0, str); /* an empty slice may start past the end */
  return 0;
}

int lz_cpu_diagonal(lz_node *node, lz_array **outs) {
  const lz_diagonal_params *p = node->params;
  lz_array *in = node->inputs[0], *out = outs[0];
  int64_t str[LZ_MAX_NDIM], s1 = in->strides[p->axis1], s2 = in->strides[p->axis2];
  int k = 0;
  for (int d = 0; d < in->ndim; d++) {
    if (d != p->axis1 && d != p->axis2) str[k++] = in->strides[d];
  }
  str[k] = s1 + s2;
  int64_t off = p->offset >= 0 ? p->offset * s2 : -(int64_t)p->offset * s1;
  lz__set_view(out, in, out->size ? off : 0, str);
  return 0;
}

int lz_cpu_as_strided(lz_node *node, lz_array **outs) {
  const lz_as_strided_params *p = node->params;
  lz_array *in = node->inputs[0], *out = outs[0];
  if (lz__is_contiguous(in)) {
    lz__set_view(out, in, p->offset, p->strides);
    return 0;
  }
  /* The strides address row-major data: view a contiguous copy of the input. */
  lz_array *tmp = lz__array_new_data(in->dtype, in->shape, in->ndim, "lz_as_strided");
  if (!tmp) return -1;
  lz__copy_to_contiguous(lz__data_ptr(tmp), in);
  lz__set_view(out, tmp, p->offset, p->strides);
  lz__array_decref(tmp);
  return 0;
}

int lz_cpu_contiguous(lz_node *node, lz_array **outs) {
  lz_array *in = node->inputs[0], *out = outs[0];
  if (lz__is_contiguous(in)) {
    lz__set_view(out, in, 0, in->strides);
    return 0;
  }
  if (lz__alloc_output(out, "lz_contiguous") != 0) return -1;
  lz__copy_to_contiguous(lz__data_ptr(out), in);
  return 0;
}

int lz_cpu_split(lz_node *node, lz_array **outs) {
  const lz_split_params *p = node->params;
  lz_array *in = node->inputs[0];
  int64_t pos = 0, step = in->strides[p->axis];
  for (int k = 0; k < node->noutputs; k++) {
    lz_array *out = outs[k];
    int64_t str[LZ_MAX_NDIM];
    int n = 0;
    for (int d = 0; d < in->ndim; d++) {
      if (d == p->axis && p->squeeze) continue;
      str[n++] = d == p->axis ? step : in->strides[d];
    }
    int64_t len = p->squeeze ? 1 : out->shape[p->axis];
    lz__set_view(out, in, out->size ? pos * step : 0, str);
    pos += len;
  }
  return 0;
}
