/* Sorting ops: sort, argsort, partition, argpartition, topk and searchsorted (kernels in
 * cpu/sort.c). Without an axis the array is flattened (axis -1 in the parameters). */
#include "../cpu/reduce.h"
#include "ops.h"

static const int what_values = 0, what_indices = 1, what_topk = 2;

#define SORT_DEF(NAME, WHAT, FLAGS)                                                              \
  const lz_op_def lz_opdef_##NAME = {                                                            \
      .name = #NAME,                                                                             \
      .flags = (FLAGS),                                                                          \
      .params_size = sizeof(lz_axis_params),                                                     \
      .cpu = lz_cpu_sort,                                                                        \
      .impl = &WHAT,                                                                             \
  };
SORT_DEF(sort, what_values, LZ_OPF_DIFFERENTIABLE)
SORT_DEF(argsort, what_indices, 0)
SORT_DEF(partition, what_values, LZ_OPF_DIFFERENTIABLE)
SORT_DEF(argpartition, what_indices, 0)
SORT_DEF(topk, what_topk, LZ_OPF_DIFFERENTIABLE)

/* kind: 0 sort, 1 partition (kth), 2 topk (k). */
static lz_array *sort_op(const char *name, int op, lz_array *a, int axis, bool flat, int kind,
                         int k, bool indices) {
  if (!lz__check_inputs(name, &a, 1)) return NULL;
  if (a->dtype == LZ_COMPLEX64) {
    lz__error(LZ_ERROR_DTYPE, name, "complex64 is not supported");
    return NULL;
  }
  lz_axis_params p;
  memset(&p, 0, sizeof p);
  p.axis = -1;
  if (!flat && (p.axis = lz__norm_axis(name, axis, a->ndim)) < 0) return NULL;
  int64_t len = flat ? a->size : a->shape[p.axis];
  if (len > (int64_t)UINT32_MAX) {
    lz__error(LZ_ERROR_SHAPE, name, "axis of %lld elements is too long", (long long)len);
    return NULL;
  }
  if (kind == 1 && (k < -len || k >= len)) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, name, "kth %d is out of range for an axis of size %lld",
              k, (long long)len);
    return NULL;
  }
  if (kind == 2 && (k < 0 || k > len)) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, name, "k %d is out of range for an axis of size %lld", k,
              (long long)len);
    return NULL;
  }
  p.k = k;
  int shape[LZ_MAX_NDIM], nd = a->ndim;
  if (flat) {
    nd = 1;
    shape[0] = (int)len;
  } else {
    memcpy(shape, a->shape, sizeof(int) * (size_t)nd);
  }
  if (kind == 2) shape[flat ? 0 : p.axis] = k;
  return lz__make(op, &p, &a, 1, indices ? LZ_UINT32 : a->dtype, shape, nd);
}

lz_array *lz_sort(lz_array *a) { return sort_op("lz_sort", LZ_OP_SORT, a, 0, true, 0, 0, false); }
lz_array *lz_sort_axis(lz_array *a, int axis) {
  return sort_op("lz_sort", LZ_OP_SORT, a, axis, false, 0, 0, false);
}
lz_array *lz_argsort(lz_array *a) {
  return sort_op("lz_argsort", LZ_OP_ARGSORT, a, 0, true, 0, 0, true);
}
lz_array *lz_argsort_axis(lz_array *a, int axis) {
  return sort_op("lz_argsort", LZ_OP_ARGSORT, a, axis, false, 0, 0, true);
}
lz_array *lz_partition(lz_array *a, int kth) {
  return sort_op("lz_partition", LZ_OP_PARTITION, a, 0, true, 1, kth, false);
}
lz_array *lz_partition_axis(lz_array *a, int kth, int axis) {
  return sort_op("lz_partition", LZ_OP_PARTITION, a, axis, false, 1, kth, false);
}
lz_array *lz_argpartition(lz_array *a, int kth) {
  return sort_op("lz_argpartition", LZ_OP_ARGPARTITION, a, 0, true, 1, kth, true);
}
lz_array *lz_argpartition_axis(lz_array *a, int kth, int axis) {
  return sort_op("lz_argpartition", LZ_OP_ARGPARTITION, a, axis, false, 1, kth, true);
}
lz_array *lz_topk(lz_array *a, int k) {
  return sort_op("lz_topk", LZ_OP_TOPK, a, 0, true, 2, k, false);
}
lz_array *lz_topk_axis(lz_array *a, int k, int axis) {
  return sort_op("lz_topk", LZ_OP_TOPK, a, axis, false, 2, k, false);
}

const lz_op_def lz_opdef_searchsorted = {
    .name = "searchsorted",
    .params_size = sizeof(lz_axis_params),
    .cpu = lz_cpu_searchsorted,
};

lz_array *lz_searchsorted(lz_array *a, lz_array *v, bool right) {
  lz_array *in[2] = {a, v};
  if (!lz__check_inputs("lz_searchsorted", in, 2)) return NULL;
  if (a->ndim != 1) {
    char s[256];
    lz__error(LZ_ERROR_SHAPE, "lz_searchsorted", "a must be 1-d, got shape %s",
              lz__fmt_shape(s, sizeof s, a->shape, a->ndim));
    return NULL;
  }
  lz_dtype ct = lz__result_type(a, v);
  if (ct == LZ_COMPLEX64) {
    lz__error(LZ_ERROR_DTYPE, "lz_searchsorted", "complex64 is not supported");
    return NULL;
  }
  lz_axis_params p;
  memset(&p, 0, sizeof p);
  p.reverse = right;
  lz_array *ca = lz__cast("lz_searchsorted", a, ct),
           *cv = ca ? lz__cast("lz_searchsorted", v, ct) : NULL, *out = NULL;
  if (ca && cv) {
    lz_array *cin[2] = {ca, cv};
    out = lz__make(LZ_OP_SEARCHSORTED, &p, cin, 2, LZ_UINT32, v->shape, v->ndim);
  }
  if (ca) lz__uncast(ca, a);
  if (cv) lz__uncast(cv, v);
  return out;
}
