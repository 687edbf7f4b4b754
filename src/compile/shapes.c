/* Shape inference for shapeless replay. Ops that can infer their output shapes from new input
 * shapes: every elementwise op (broadcasting; casts, where and divmod included), fused nodes,
 * the reductions whose parameters are normalised axes (sum, prod, max, min, all, any,
 * count_nonzero, mean, var, std, logsumexp) and softmax. Other ops (reshape, transpose, slices,
 * matmul, indexing, ...) carry shapes in their parameters or need the constructor's checks:
 * a tape holding one is traced once per input shape instead. */
#include "compile/compile_impl.h"
#include "cpu/reduce.h"

static bool is_reduction(int op) {
  switch (op) {
  case LZ_OP_SUM:
  case LZ_OP_PROD:
  case LZ_OP_MAX:
  case LZ_OP_MIN:
  case LZ_OP_ALL:
  case LZ_OP_ANY:
  case LZ_OP_COUNT_NONZERO:
  case LZ_OP_MEAN:
  case LZ_OP_VAR:
  case LZ_OP_STD:
  case LZ_OP_LOGSUMEXP:
    return true;
  default:
    return false;
  }
}

bool cz_op_infers_shape(int op) {
  return (lz__op(op)->flags & LZ_OPF_ELEMENTWISE) || op == LZ_OP_FUSED || op == LZ_OP_SOFTMAX ||
         is_reduction(op);
}

void cz_check_shapeless(cz_tape *t) {
  t->shapeless_ok = true;
  for (int32_t i = 0; i < t->nnodes && t->shapeless_ok; i++) {
    const cz_node *n = &t->nodes[i];
    /* a row program with a fixed shape, or a matmul prologue (the product's shape comes from
     * the matmul, as for a plain matmul), cannot replay on other shapes */
    const fz_prog *fp = n->op == LZ_OP_FUSED ? ((const lz_fused_params *)n->params)->prog : NULL;
    t->shapeless_ok = cz_op_infers_shape(n->op) && !(fp && (fp->fixed_shape || fp->mm));
  }
}

/* A row program's outputs: the rows' shape is its inputs' broadcast (per-row inputs without
 * their last axis aligned as if they had a trailing 1); each output is a row, or one value per
 * row with the last axis kept or removed. */
static int infer_rows(const fz_prog *p, lz_array *const *in, int nin, int (*shapes)[LZ_MAX_NDIM],
                      int *ndims) {
  int nd = p->ndim, S[LZ_MAX_NDIM];
  for (int d = 0; d < nd; d++) S[d] = 1;
  for (int i = 0; i < nin; i++) {
    const lz_array *x = in[i];
    int xnd = x->ndim + (p->frame[p->nel + i] == FZ_FRAME_NOKEEP);
    if (xnd > nd)
      return lz__error(LZ_ERROR_SHAPE, "lz_compile",
                       "input %d has %d dimensions, "
                       "more than the traced %d (shapeless replay)",
                       i, x->ndim, nd);
    for (int d = 0; d < x->ndim; d++) {
      int *s = &S[nd - xnd + d], v = x->shape[d];
      if (v != 1 && *s != 1 && *s != v) {
        char a[128];
        return lz__error(LZ_ERROR_SHAPE, "lz_compile",
                         "shape %s does not broadcast with the "
                         "others (shapeless replay)",
                         lz__fmt_shape(a, sizeof a, x->shape, x->ndim));
      }
      if (v != 1) *s = v;
    }
  }
  for (int k = 0; k < p->nel; k++) {
    memcpy(shapes[k], S, sizeof S);
    ndims[k] = p->frame[k] == FZ_FRAME_NOKEEP ? nd - 1 : nd;
    if (p->frame[k] == FZ_FRAME_KEEP) shapes[k][nd - 1] = 1;
  }
  return 0;
}

static int broadcast_all(lz_array *const *in, int n, int *shape) {
  int nd = 0;
  for (int i = 0; i < n; i++) nd = in[i]->ndim > nd ? in[i]->ndim : nd;
  for (int d = 0; d < nd; d++) shape[d] = 1;
  for (int i = 0; i < n; i++) {
    const lz_array *x = in[i];
    for (int d = 0; d < x->ndim; d++) {
      int *s = &shape[nd - x->ndim + d], v = x->shape[d];
      if (v != 1 && *s != 1 && *s != v) {
        char a[128], b[128];
        return lz__error(LZ_ERROR_SHAPE, "lz_compile",
                         "shapes %s and %s cannot be broadcast "
                         "(shapeless replay)",
                         lz__fmt_shape(a, sizeof a, x->shape, x->ndim),
                         lz__fmt_shape(b, sizeof b, shape, nd));
      }
      if (v != 1) *s = v;
    }
  }
  return nd;
}

/* `shape` (nd dims) with the given axes removed, or set to 1 when keepdims. */
static int reduce_shape(const int *shape, int nd, const int *axes, int naxes, bool keep, int *out) {
  bool red[LZ_MAX_NDIM] = {false};
  for (int i = 0; i < naxes; i++) red[axes[i]] = true;
  int k = 0;
  for (int d = 0; d < nd; d++) {
    if (!red[d])
      out[k++] = shape[d];
    else if (keep)
      out[k++] = 1;
  }
  return k;
}

int cz_infer_shapes(const cz_node *n, const cz_value *const *traced, lz_array *const *in,
                    int (*shapes)[LZ_MAX_NDIM], int *ndims) {
  int op = n->op;
  if (op == LZ_OP_SOFTMAX || is_reduction(op)) {
    const lz_reduce_params *p = n->params;
    const lz_array *x = in[0];
    for (int i = 0; i < p->naxes; i++)
      if (p->axes[i] >= x->ndim)
        return lz__error(LZ_ERROR_SHAPE, "lz_compile", "axis %d", p->axes[i]);
    if (op == LZ_OP_SOFTMAX) {
      memcpy(shapes[0], x->shape, (size_t)x->ndim * sizeof(int));
      ndims[0] = x->ndim;
    } else {
      ndims[0] =
          reduce_shape(x->shape, x->ndim, p->axes, p->naxes, traced[0]->ndim == x->ndim, shapes[0]);
    }
    return 0;
  }
  if (op == LZ_OP_FUSED && ((const lz_fused_params *)n->params)->prog->rowwise)
    return infer_rows(((const lz_fused_params *)n->params)->prog, in, n->nin, shapes, ndims);
  int shape[LZ_MAX_NDIM];
  int nd = broadcast_all(in, n->nin, shape);
  if (nd < 0) return -1;
  if (op == LZ_OP_FUSED) {
    const fz_prog *p = ((const lz_fused_params *)n->params)->prog;
    for (int k = 0; k < p->nel; k++) memcpy(shapes[k], shape, sizeof shape), ndims[k] = nd;
    if (p->red != FZ_RED_NONE) {
      int axes[LZ_MAX_NDIM];
      for (int i = 0; i < p->naxes; i++) axes[i] = nd - p->naxes + i;
      if (p->red == FZ_RED_SOFTMAX)
        memcpy(shapes[p->nel], shape, sizeof shape), ndims[p->nel] = nd;
      else
        ndims[p->nel] = reduce_shape(shape, nd, axes, p->naxes, p->keepdims, shapes[p->nel]);
    }
    return 0;
  }
  for (int k = 0; k < n->nout; k++) memcpy(shapes[k], shape, sizeof shape), ndims[k] = nd;
  return 0;
}
