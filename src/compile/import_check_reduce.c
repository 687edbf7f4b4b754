/* Import checks of the reductions, scans, sorts and softmax: each one is the op's public
 * constructor on the recorded input with the file's axes (see import_check.h). */
#include "compile/import_check.h"
#include "cpu/reduce.h" /* lz_reduce_params, lz_axis_params, lz_trace_params */

#define X (a->in[0])

/* The file's axes, before any constructor reads them: a count in [0, LZ_MAX_NDIM]. */
static bool axes_count_ok(const cz_check_args *a, int naxes) {
  if (naxes >= 0 && naxes <= LZ_MAX_NDIM) return true;
  cz_check_fail(a, "has %d axes", naxes);
  return false;
}

/* keepdims as the recorded output shape tells it. */
static bool keepdims(const cz_check_args *a) { return a->out[0]->ndim == X->ndim; }

typedef lz_array *(*reduce_fn)(lz_array *, const int *, int, bool);
static const reduce_fn reduce_ctor[LZ_OP_COUNT] = {
    [LZ_OP_SUM] = lz_sum_axes,       [LZ_OP_PROD] = lz_prod_axes,
    [LZ_OP_MAX] = lz_max_axes,       [LZ_OP_MIN] = lz_min_axes,
    [LZ_OP_ALL] = lz_all_axes,       [LZ_OP_ANY] = lz_any_axes,
    [LZ_OP_MEAN] = lz_mean_axes,     [LZ_OP_COUNT_NONZERO] = lz_count_nonzero_axes,
    [LZ_OP_LOGSUMEXP] = lz_logsumexp_axes, [LZ_OP_MEDIAN] = lz_median_axes,
};

static lz_array *check_reduce(const cz_check_args *a) {
  const lz_reduce_params *p = a->params;
  if (!cz_check_arity(a, 1, 1) || !axes_count_ok(a, p->naxes)) return NULL;
  return reduce_ctor[a->op](X, p->axes, p->naxes, keepdims(a));
}

static lz_array *check_var_std(const cz_check_args *a) {
  const lz_reduce_params *p = a->params;
  if (!cz_check_arity(a, 1, 1) || !axes_count_ok(a, p->naxes)) return NULL;
  return (a->op == LZ_OP_VAR ? lz_var_axes : lz_std_axes)(X, p->axes, p->naxes, keepdims(a),
                                                          p->ddof);
}

static lz_array *check_softmax(const cz_check_args *a) {
  const lz_reduce_params *p = a->params;
  if (!cz_check_arity(a, 1, 1) || !axes_count_ok(a, p->naxes)) return NULL;
  return lz_softmax_axes(X, p->axes, p->naxes, false);
}

/* argmax/argmin: axis -1 is the flattened array. */
static lz_array *check_argreduce(const cz_check_args *a) {
  const lz_axis_params *p = a->params;
  if (!cz_check_arity(a, 1, 1)) return NULL;
  bool mx = a->op == LZ_OP_ARGMAX;
  if (p->axis == -1) return (mx ? lz_argmax : lz_argmin)(X, keepdims(a));
  if (p->axis < 0) return cz_check_fail(a, "has axis %d", p->axis);
  return (mx ? lz_argmax_axis : lz_argmin_axis)(X, p->axis, keepdims(a));
}

static lz_array *check_trace(const cz_check_args *a) {
  const lz_trace_params *p = a->params;
  if (!cz_check_arity(a, 1, 1)) return NULL;
  if (p->axis1 < 0 || p->axis2 < 0) return cz_check_fail(a, "has axes %d and %d", p->axis1, p->axis2);
  return lz_trace(X, p->offset, p->axis1, p->axis2);
}

/* ---- scans and diff (normalised axes: a negative one is not the constructor's) ---- */

typedef lz_array *(*scan_fn)(lz_array *, int, bool, bool);
static const scan_fn scan_ctor[LZ_OP_COUNT] = {
    [LZ_OP_CUMSUM] = lz_cumsum, [LZ_OP_CUMPROD] = lz_cumprod, [LZ_OP_CUMMAX] = lz_cummax,
    [LZ_OP_CUMMIN] = lz_cummin, [LZ_OP_LOGCUMSUMEXP] = lz_logcumsumexp,
};

static lz_array *check_scan(const cz_check_args *a) {
  const lz_axis_params *p = a->params;
  if (!cz_check_arity(a, 1, 1)) return NULL;
  if (p->axis < 0) return cz_check_fail(a, "has axis %d", p->axis);
  return scan_ctor[a->op](X, p->axis, p->reverse, p->inclusive);
}

static lz_array *check_diff(const cz_check_args *a) {
  const lz_axis_params *p = a->params;
  if (!cz_check_arity(a, 1, 1)) return NULL;
  if (p->axis < 0) return cz_check_fail(a, "has axis %d", p->axis);
  return lz_diff(X, p->k, p->axis);
}

/* ---- sorts: axis -1 is the flattened array ---- */

static lz_array *check_sort(const cz_check_args *a) {
  const lz_axis_params *p = a->params;
  if (!cz_check_arity(a, 1, 1)) return NULL;
  if (p->axis < -1) return cz_check_fail(a, "has axis %d", p->axis);
  bool flat = p->axis == -1;
  switch (a->op) {
  case LZ_OP_SORT: return flat ? lz_sort(X) : lz_sort_axis(X, p->axis);
  case LZ_OP_ARGSORT: return flat ? lz_argsort(X) : lz_argsort_axis(X, p->axis);
  case LZ_OP_PARTITION: return flat ? lz_partition(X, p->k) : lz_partition_axis(X, p->k, p->axis);
  case LZ_OP_ARGPARTITION:
    return flat ? lz_argpartition(X, p->k) : lz_argpartition_axis(X, p->k, p->axis);
  default: return flat ? lz_topk(X, p->k) : lz_topk_axis(X, p->k, p->axis);
  }
}

static lz_array *check_searchsorted(const cz_check_args *a) {
  const lz_axis_params *p = a->params;
  return cz_check_arity(a, 2, 1) ? lz_searchsorted(X, a->in[1], p->reverse) : NULL;
}

#define R(ID) [LZ_OP_##ID] = check_reduce
#define S(ID) [LZ_OP_##ID] = check_scan
const cz_check_fn cz_checks_reduce[LZ_OP_COUNT] = {
    R(SUM), R(PROD), R(MAX), R(MIN), R(ALL), R(ANY), R(MEAN), R(COUNT_NONZERO), R(LOGSUMEXP),
    R(MEDIAN),
    [LZ_OP_VAR] = check_var_std, [LZ_OP_STD] = check_var_std, [LZ_OP_SOFTMAX] = check_softmax,
    [LZ_OP_ARGMAX] = check_argreduce, [LZ_OP_ARGMIN] = check_argreduce,
    [LZ_OP_TRACE] = check_trace,
    S(CUMSUM), S(CUMPROD), S(CUMMAX), S(CUMMIN), S(LOGCUMSUMEXP), [LZ_OP_DIFF] = check_diff,
    [LZ_OP_SORT] = check_sort, [LZ_OP_ARGSORT] = check_sort, [LZ_OP_PARTITION] = check_sort,
    [LZ_OP_ARGPARTITION] = check_sort, [LZ_OP_TOPK] = check_sort,
    [LZ_OP_SEARCHSORTED] = check_searchsorted,
};
