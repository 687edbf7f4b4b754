/* MLX's gather_qmm: the quantized product of gathered matrices (mixture-of-experts layers pick
 * one quantized expert per token). One GATHER_QMM node reads each pair of matrices by index,
 * so no gathered copy of the weights is made (kernel in cpu/quantize_mm.c); its derivatives
 * are those of take followed by the batched quantized_matmul (transforms/rules_quantize.c). */
#include "../cpu/quantize.h"
#include "ops.h"
#include "quantize_impl.h"

/* a (..., R, C) as (B, R, C), B the product of its batch dims. */
static lz_array *flat(lz_array *a) {
  if (!a) return NULL;
  int nb = a->ndim - 2, B = 1;
  for (int d = 0; d < nb; d++) B *= a->shape[d];
  return lz_reshape(a, (int[]){B, a->shape[nb], a->shape[nb + 1]}, 3);
}

/* arange over a's batch, in a's batch shape (0-d when a has none). */
static lz_array *all_indices(lz_array *a) {
  int nb = a->ndim - 2, B = 1;
  for (int d = 0; d < nb; d++) B *= a->shape[d];
  return lz_reshape(lz_arange(0, B, 1, LZ_INT32), a->shape, nb);
}

lz_array *lz_gather_qmm(lz_array *x, lz_array *w, lz_array *scales, lz_array *biases,
                        lz_array *lhs_indices, lz_array *rhs_indices, bool transpose,
                        int group_size, int bits, lz_quant_mode mode, bool sorted_indices) {
  const char *op = "lz_gather_qmm";
  (void)sorted_indices; /* a hint for the kernel order; results do not depend on it */
  if (!lhs_indices && !rhs_indices)
    return lz_quantized_matmul_v2(x, w, scales, biases, transpose, group_size, bits, mode);
  char s1[128], s2[128];
  lz_array *idx[2] = {lhs_indices, rhs_indices};
  if (!lz__check_inputs(op, (lz_array *[]){x, w, scales}, 3)) return NULL;
  for (int i = 0; i < 2; i++) {
    if (idx[i] && !lz__check_inputs(op, &idx[i], 1)) return NULL;
    if (idx[i] && !lz_dtype_is_integer(idx[i]->dtype)) {
      lz__error(LZ_ERROR_DTYPE, op, "%s must be integral, got %s", i ? "rhs_indices" : "lhs_indices",
                lz_dtype_name(idx[i]->dtype));
      return NULL;
    }
  }
  if (x->ndim < 2 || w->ndim < 2 || scales->ndim != w->ndim || (biases && biases->ndim != w->ndim)) {
    lz__error(LZ_ERROR_SHAPE, op, "x %s and the quantized weights %s must both be at least 2-D",
              lz__fmt_shape(s1, sizeof s1, x->shape, x->ndim),
              lz__fmt_shape(s2, sizeof s2, w->shape, w->ndim));
    return NULL;
  }
  lz_scope_begin();
  lz_array *out = NULL, *bc[2];
  lz_array *xf = flat(x), *wf = flat(w), *sf = flat(scales), *bf = flat(biases);
  lz_quant_params p = {group_size, bits, transpose, (int)mode};
  lz_dtype dt;
  int64_t N;
  lz_array *li = lhs_indices ? lhs_indices : all_indices(x);
  lz_array *ri = rhs_indices ? rhs_indices : all_indices(w);
  int bshape[LZ_MAX_NDIM]; /* checked here so that the error names gather_qmm */
  if (xf && wf && sf && (bf || !biases) && li && ri &&
      lz__qmm_check(op, xf, wf, sf, bf, transpose, mode, &p, &dt, &N) == 0 &&
      lz__broadcast_shapes(op, li->shape, li->ndim, ri->shape, ri->ndim, bshape) >= 0 &&
      lz_broadcast_arrays((lz_array *[]){li, ri}, 2, bc) == 0) {
    int nd = bc[0]->ndim, shape[LZ_MAX_NDIM];
    memcpy(shape, bc[0]->shape, sizeof(int) * (size_t)nd);
    shape[nd] = x->shape[x->ndim - 2], shape[nd + 1] = (int)N;
    lz_array *in[6] = {lz_astype(xf, dt), wf, sf}, **ip = in + 3;
    if (mode == LZ_QUANT_AFFINE) *ip++ = bf;
    *ip++ = lz_astype(bc[0], LZ_INT32), *ip++ = lz_astype(bc[1], LZ_INT32);
    int n = (int)(ip - in);
    if (in[0] && in[n - 2] && in[n - 1])
      out = lz__make(LZ_OP_GATHER_QMM, &p, in, n, dt, shape, nd + 2);
  }
  lz_keep(out);
  lz_scope_end();
  return out;
}
