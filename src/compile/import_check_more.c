/* Import checks of the ops made only by composites or with several constructor forms:
 * contract (einsum, tensordot, inner, outer share one node whose parameters are axis labels),
 * gather_qmm, ggml_unpack, random_categorical and linalg_norm (see import_check.h). */
#include "compile/import_check.h"
#include "cpu/linalg.h"
#include "cpu/matmul.h"
#include "cpu/quantize.h"
#include "cpu/random.h"
#include "ops/quantize_impl.h" /* lz__ggml_unpack */

#define X (a->in[0])
#define Y (a->in[1])
#define OUT (a->out[0])

enum { NLABELS = 64 }; /* the contraction kernel's label space */

/* contract: lz__contract records what its callers validated, so the labels are checked here as
 * the kernel reads them: every label in range, the dims of one label of one size (size 1
 * broadcasts), each output label distinct and present in an input, a label of b alone kept,
 * and the output holding the product of the output labels' sizes. */
static lz_array *check_contract(const cz_check_args *a) {
  const lz_contract_params *p = a->params;
  if (a->nin < 1 || a->nin > 2 || a->nout != 1)
    return cz_check_fail(a, "has %d inputs and %d outputs", a->nin, a->nout);
  if (p->nout < 0 || p->nout > LZ_MAX_NDIM) return cz_check_fail(a, "has %d output labels", p->nout);
  for (int i = 0; i < a->nin; i++)
    if (a->in[i]->dtype == LZ_COMPLEX64 || a->in[i]->dtype == LZ_BOOL)
      return cz_check_fail(a, "does not take %s", lz_dtype_name(a->in[i]->dtype));
  if (OUT->dtype == LZ_COMPLEX64 || OUT->dtype == LZ_BOOL)
    return cz_check_fail(a, "does not give %s", lz_dtype_name(OUT->dtype));
  int64_t size[NLABELS];
  bool in_a[NLABELS] = {false}, in_b[NLABELS] = {false}, in_o[NLABELS] = {false};
  for (int l = 0; l < NLABELS; l++) size[l] = -1;
  for (int i = 0; i < a->nin; i++) {
    const lz_array *x = a->in[i];
    const int8_t *lab = i ? p->lb : p->la;
    for (int d = 0; d < x->ndim; d++) {
      int l = lab[d];
      if (l < 0 || l >= NLABELS) return cz_check_fail(a, "has label %d", l);
      int64_t n = x->shape[d];
      if (size[l] >= 0 && size[l] != 1 && n != 1 && n != size[l])
        return cz_check_fail(a, "gives label %d the sizes %lld and %lld", l, (long long)size[l],
                             (long long)n);
      if (size[l] < 0 || size[l] == 1) size[l] = n;
      (i ? in_b : in_a)[l] = true;
    }
  }
  int64_t total = 1;
  for (int k = 0; k < p->nout; k++) {
    int l = p->lo[k];
    if (l < 0 || l >= NLABELS || size[l] < 0 || in_o[l])
      return cz_check_fail(a, "has output label %d", l);
    in_o[l] = true;
    total *= size[l]; /* at most 16 factors below 2^31 each after the checks: no overflow */
    if (total > INT64_MAX / ((int64_t)1 << 31)) return cz_check_fail(a, "has too large an output");
  }
  for (int l = 0; l < NLABELS; l++)
    if (in_b[l] && !in_a[l] && !in_o[l]) return cz_check_fail(a, "sums label %d of b alone", l);
  int64_t declared = 1;
  for (int d = 0; d < OUT->ndim; d++) declared *= OUT->shape[d];
  if (declared != total)
    return cz_check_fail(a, "declares %lld output elements for %lld", (long long)declared,
                         (long long)total);
  return lz__make(LZ_OP_CONTRACT, p, a->in, a->nin, OUT->dtype, OUT->shape, OUT->ndim);
}

/* gather_qmm: inputs x, w, scales[, biases], lhs indices, rhs indices (int32, broadcast). */
static lz_array *check_gather_qmm(const cz_check_args *a) {
  const lz_quant_params *p = a->params;
  if (p->mode < 0 || p->mode >= LZ_QUANT_MODE_COUNT)
    return cz_check_fail(a, "has quantization mode %d", p->mode);
  bool affine = p->mode == LZ_QUANT_AFFINE;
  if (!cz_check_arity(a, affine ? 6 : 5, 1)) return NULL;
  int n = a->nin;
  return lz_gather_qmm(X, Y, a->in[2], affine ? a->in[3] : NULL, a->in[n - 2], a->in[n - 1],
                       p->transpose, p->group_size, p->bits, (lz_quant_mode)p->mode, false);
}

/* ggml_unpack: blocks (nblocks, block bytes) uint8 to codes, scales and biases of the shape the
 * scales' give (last dim x 32); the blocks must hold exactly that many values. */
static lz_array *check_ggml_unpack(const cz_check_args *a) {
  const lz_ggml_params *p = a->params;
  if (!cz_check_arity(a, 1, 3)) return NULL;
  const cz_value *s = a->out[1];
  if (s->ndim < 1) return cz_check_fail(a, "declares 0-d scales");
  int shape[LZ_MAX_NDIM];
  int64_t values = 1;
  for (int d = 0; d < s->ndim; d++) {
    int64_t v = d == s->ndim - 1 ? (int64_t)s->shape[d] * 32 : s->shape[d];
    if (v > INT32_MAX) return cz_check_fail(a, "declares scales of too many blocks");
    shape[d] = (int)v, values *= v;
  }
  if (X->ndim != 2 || (int64_t)X->shape[0] * 32 != values)
    return cz_check_fail(a, "has %lld blocks for %lld values",
                         (long long)(X->ndim ? X->shape[0] : 0), (long long)values);
  lz_array *outs[3];
  return lz__ggml_unpack(X, p->type, shape, s->ndim, outs, "lz_ggml_unpack") == 0 ? outs[0] : NULL;
}

/* categorical: key, logits; a draw of num_samples (a trailing samples axis), or of a shape. */
static lz_array *check_categorical(const cz_check_args *a) {
  const lz_random_params *p = a->params;
  if (!cz_check_arity(a, 2, 1)) return NULL;
  if (p->axis < 0) return cz_check_fail(a, "has axis %d", p->axis);
  if (p->logits_expanded) {
    if (OUT->ndim < 1) return cz_check_fail(a, "declares a 0-d result for samples");
    return lz_random_categorical(Y, p->axis, OUT->shape[OUT->ndim - 1], X);
  }
  return lz_random_categorical_shape(Y, p->axis, OUT->shape, OUT->ndim, X);
}

static lz_array *check_linalg_norm(const cz_check_args *a) {
  const lz_linalg_norm_params *p = a->params;
  if (!cz_check_arity(a, 1, 1)) return NULL;
  if (p->naxes < 0 || p->naxes > 2) return cz_check_fail(a, "has %d axes", p->naxes);
  bool keep = OUT->ndim == X->ndim;
  switch (p->kind) {
  case LZ_NORM_VECTOR:
    if (p->naxes == 0) return lz_linalg_norm(X, NULL, 0, keep);
    return lz_linalg_norm_ord(X, p->ord, p->axes, p->naxes, keep);
  case LZ_NORM_FRO: return lz_linalg_norm_str(X, "fro", p->axes, p->naxes, keep);
  case LZ_NORM_NUC: return lz_linalg_norm_str(X, "nuc", p->axes, p->naxes, keep);
  case LZ_NORM_MAT_ABS:
  case LZ_NORM_MAT_SVD: return lz_linalg_norm_ord(X, p->ord, p->axes, p->naxes, keep);
  default: return cz_check_fail(a, "has norm kind %d", p->kind);
  }
}

const cz_check_fn cz_checks_more[LZ_OP_COUNT] = {
    [LZ_OP_CONTRACT] = check_contract,
    [LZ_OP_GATHER_QMM] = check_gather_qmm,
    [LZ_OP_GGML_UNPACK] = check_ggml_unpack,
    [LZ_OP_RANDOM_CATEGORICAL] = check_categorical,
    [LZ_OP_LINALG_NORM] = check_linalg_norm,
};
