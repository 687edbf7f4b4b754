/* MLX's gather_qmm: the quantized product of gathered matrices (mixture-of-experts layers pick
 * one quantized expert per token). Built on take and the batched quantized_matmul, so the
 * gathered x rows and (affine) scales and biases get their derivatives by scatter-add. */
#include "ops.h"

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
  lz_array *li = lhs_indices ? lhs_indices : all_indices(x);
  lz_array *ri = rhs_indices ? rhs_indices : all_indices(w);
  lz_array *out = NULL, *bc[2];
  int bshape[LZ_MAX_NDIM]; /* checked here so that the error names gather_qmm */
  if (li && ri &&
      lz__broadcast_shapes(op, li->shape, li->ndim, ri->shape, ri->ndim, bshape) >= 0 &&
      lz_broadcast_arrays((lz_array *[]){li, ri}, 2, bc) == 0) {
    lz_array *xs = lz_take(flat(x), bc[0], 0);
    lz_array *ws = lz_take(flat(w), bc[1], 0), *ss = lz_take(flat(scales), bc[1], 0);
    lz_array *bs = biases ? lz_take(flat(biases), bc[1], 0) : NULL;
    if (bc[0]->ndim == 0) { /* one pair: a batch of one, dropped again */
      xs = lz_expand_dims(xs, (int[]){0}, 1), ws = lz_expand_dims(ws, (int[]){0}, 1);
      ss = lz_expand_dims(ss, (int[]){0}, 1);
      if (bs) bs = lz_expand_dims(bs, (int[]){0}, 1);
      out = lz_squeeze(lz_quantized_matmul_v2(xs, ws, ss, bs, transpose, group_size, bits, mode),
                       (int[]){0}, 1);
    } else {
      out = lz_quantized_matmul_v2(xs, ws, ss, bs, transpose, group_size, bits, mode);
    }
  }
  lz_keep(out);
  lz_scope_end();
  return out;
}
