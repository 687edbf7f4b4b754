/* MLX's gather_mm and block_masked_mm, built on take, where and matmul, so that their
 * derivatives are those of the ops they are made of (MLX's GatherMM and BlockMaskedMM
 * differentiate the same way: gathered rows scatter-add back, masked blocks get zero).
 * Both follow MLX's argument rules: a 1-D operand is a vector, the result is real floating
 * point, the masks and indices are checked here so that errors name the op and the shapes. */
#include "ops.h"

/* a and b as matrices (a 1-D a is (1,K), a 1-D b is (K,1)), cast to their floating result
 * type; 0 or -1 with an error naming `op`. The caller frees *pa and *pb. */
static int prepare(const char *op, lz_array *a, lz_array *b, lz_array **pa, lz_array **pb) {
  char s1[128], s2[128];
  *pa = *pb = NULL;
  if (a->ndim == 0 || b->ndim == 0)
    return lz__error(LZ_ERROR_SHAPE, op, "inputs must have at least one dimension, got %s and %s",
                     lz__fmt_shape(s1, sizeof s1, a->shape, a->ndim),
                     lz__fmt_shape(s2, sizeof s2, b->shape, b->ndim));
  int ka = a->shape[a->ndim - 1], kb = b->shape[b->ndim >= 2 ? b->ndim - 2 : 0];
  if (ka != kb)
    return lz__error(LZ_ERROR_SHAPE, op,
                     "last dimension of the first input %s differs from the second to last of "
                     "the second input %s",
                     lz__fmt_shape(s1, sizeof s1, a->shape, a->ndim),
                     lz__fmt_shape(s2, sizeof s2, b->shape, b->ndim));
  lz_dtype dt = lz__result_type(a, b);
  if (!lz_dtype_is_float(dt) || dt == LZ_COMPLEX64)
    return lz__error(LZ_ERROR_DTYPE, op,
                     "only real floating point types are supported, got %s and %s (giving %s)",
                     lz_dtype_name(a->dtype), lz_dtype_name(b->dtype), lz_dtype_name(dt));
  *pa = lz_astype(a, dt), *pb = lz_astype(b, dt);
  if (*pa && a->ndim == 1) *pa = lz_expand_dims(*pa, (int[]){0}, 1);
  if (*pb && b->ndim == 1) *pb = lz_expand_dims(*pb, (int[]){-1}, 1);
  return *pa && *pb ? 0 : -1;
}

/* Drops the axes inserted for 1-D operands. */
static lz_array *unvector(lz_array *out, const lz_array *a, const lz_array *b) {
  if (!out) return NULL;
  int axes[2], n = 0;
  if (a->ndim == 1) axes[n++] = out->ndim - 2;
  if (b->ndim == 1) axes[n++] = out->ndim - 1;
  return n ? lz_squeeze(out, axes, n) : out;
}

/* ---- gather_mm ---------------------------------------------------------------------------- */

/* x (..., R, C) as (B, R, C), and the default indices: arange(B) in x's batch shape. */
static lz_array *flat_batch(lz_array *x, lz_array **default_idx) {
  int nb = x->ndim - 2, B = 1;
  for (int d = 0; d < nb; d++) B *= x->shape[d];
  if (default_idx) {
    lz_array *r = lz_arange(0, B, 1, LZ_INT32);
    *default_idx = nb ? lz_reshape(r, x->shape, nb) : lz_reshape(r, NULL, 0);
  }
  return lz_reshape(x, (int[]){B, x->shape[nb], x->shape[nb + 1]}, 3);
}

lz_array *lz_gather_mm(lz_array *a, lz_array *b, lz_array *lhs_indices, lz_array *rhs_indices,
                       bool sorted_indices) {
  const char *op = "lz_gather_mm";
  (void)sorted_indices; /* a hint for the kernel order; results do not depend on it */
  if (!lz__check_inputs(op, (lz_array *[]){a, b}, 2)) return NULL;
  if (!lhs_indices && !rhs_indices) return lz_matmul(a, b);
  lz_array *idx[2] = {lhs_indices, rhs_indices};
  for (int i = 0; i < 2; i++) {
    if (idx[i] && !lz__check_inputs(op, &idx[i], 1)) return NULL;
    if (idx[i] && !lz_dtype_is_integer(idx[i]->dtype)) {
      lz__error(LZ_ERROR_DTYPE, op, "%s must be integral, got %s", i ? "rhs_indices" : "lhs_indices",
                lz_dtype_name(idx[i]->dtype));
      return NULL;
    }
  }
  lz_scope_begin();
  lz_array *out = NULL, *pa, *pb;
  if (prepare(op, a, b, &pa, &pb) == 0) {
    lz_array *li = NULL, *ri = NULL;
    lz_array *af = flat_batch(pa, lhs_indices ? NULL : &li);
    lz_array *bf = flat_batch(pb, rhs_indices ? NULL : &ri);
    lz_array *in[2] = {lhs_indices ? lhs_indices : li, rhs_indices ? rhs_indices : ri}, *bc[2];
    int bshape[LZ_MAX_NDIM]; /* checked here so that the error names gather_mm */
    if (af && bf && in[0] && in[1] &&
        lz__broadcast_shapes(op, in[0]->shape, in[0]->ndim, in[1]->shape, in[1]->ndim, bshape) >= 0 &&
        lz_broadcast_arrays(in, 2, bc) == 0)
      out = unvector(lz_matmul(lz_take(af, bc[0], 0), lz_take(bf, bc[1], 0)), a, b);
  }
  lz_keep(out);
  lz_scope_end();
  return out;
}

/* ---- block_masked_mm ---------------------------------------------------------------------- */

/* A block mask (..., y, x) of a product with batch shape `bs` (nb dims), checked against
 * (bs..., y, x) and expanded to elements: (bs..., rows, cols), each block repeated. */
static lz_array *expand_mask(const char *op, const char *name, lz_array *m, const int *bs, int nb,
                             int y, int x, int rows, int cols, int block) {
  int want[LZ_MAX_NDIM];
  memcpy(want, bs, sizeof(int) * (size_t)nb);
  want[nb] = y, want[nb + 1] = x;
  bool ok = m->ndim <= nb + 2;
  for (int i = 1; ok && i <= m->ndim; i++) {
    int v = m->shape[m->ndim - i];
    ok = v == 1 || v == want[nb + 2 - i];
  }
  if (!ok) {
    char s1[128], s2[128];
    lz__error(LZ_ERROR_SHAPE, op, "%s of shape %s does not broadcast to the block grid %s", name,
              lz__fmt_shape(s1, sizeof s1, m->shape, m->ndim),
              lz__fmt_shape(s2, sizeof s2, want, nb + 2));
    return NULL;
  }
  lz_array *e = lz_broadcast_to(m, want, nb + 2);
  e = lz_repeat(lz_repeat(e, block, nb), block, nb + 1);
  int start[LZ_MAX_NDIM] = {0}, stop[LZ_MAX_NDIM];
  memcpy(stop, want, sizeof(int) * (size_t)nb);
  stop[nb] = rows, stop[nb + 1] = cols;
  return lz_slice(e, start, stop, NULL, nb + 2);
}

/* x with its masked blocks zeroed (bool mask) or scaled (numeric mask), as MLX. */
static lz_array *apply_mask(lz_array *x, lz_array *m, bool as_bool) {
  if (!m) return x;
  if (as_bool) return lz_where(m, x, lz_zeros_like(x));
  return lz_multiply(x, lz_astype(m, x->dtype));
}

lz_array *lz_block_masked_mm(lz_array *a, lz_array *b, int block_size, lz_array *mask_out,
                             lz_array *mask_lhs, lz_array *mask_rhs) {
  const char *op = "lz_block_masked_mm";
  if (!lz__check_inputs(op, (lz_array *[]){a, b}, 2)) return NULL;
  lz_array *masks[3] = {mask_out, mask_lhs, mask_rhs};
  for (int i = 0; i < 3; i++)
    if (masks[i] && !lz__check_inputs(op, &masks[i], 1)) return NULL;
  if (!mask_out && !mask_lhs && !mask_rhs) return lz_matmul(a, b);
  if (block_size != 32 && block_size != 64) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "block size %d is not supported (use 32 or 64)",
              block_size);
    return NULL;
  }
  lz_scope_begin();
  lz_array *out = NULL, *pa, *pb;
  if (prepare(op, a, b, &pa, &pb) != 0) goto done;
  int bs[LZ_MAX_NDIM], nb = lz__broadcast_shapes(op, pa->shape, pa->ndim - 2, pb->shape,
                                                 pb->ndim - 2, bs);
  if (nb < 0) goto done;
  int M = pa->shape[pa->ndim - 2], K = pa->shape[pa->ndim - 1], N = pb->shape[pb->ndim - 1];
  int tm = (M + block_size - 1) / block_size, tk = (K + block_size - 1) / block_size,
      tn = (N + block_size - 1) / block_size;
  lz_array *mo = NULL, *ml = NULL, *mr = NULL;
  if (mask_out) {
    lz_array *m = mask_out;
    if (a->ndim == 1) m = lz_expand_dims(m, (int[]){-2}, 1);
    if (m && b->ndim == 1) m = lz_expand_dims(m, (int[]){-1}, 1);
    if (!m || !(mo = expand_mask(op, "mask_out", m, bs, nb, tm, tn, M, N, block_size))) goto done;
  }
  bool lr_bool = (!mask_lhs || mask_lhs->dtype == LZ_BOOL) && (!mask_rhs || mask_rhs->dtype == LZ_BOOL);
  if (mask_lhs) {
    lz_array *m = a->ndim == 1 ? lz_expand_dims(mask_lhs, (int[]){-2}, 1) : mask_lhs;
    if (!m || !(ml = expand_mask(op, "mask_lhs", m, bs, nb, tm, tk, M, K, block_size))) goto done;
  }
  if (mask_rhs) {
    lz_array *m = b->ndim == 1 ? lz_expand_dims(mask_rhs, (int[]){-1}, 1) : mask_rhs;
    if (!m || !(mr = expand_mask(op, "mask_rhs", m, bs, nb, tk, tn, K, N, block_size))) goto done;
  }
  lz_array *y = lz_matmul(apply_mask(pa, ml, lr_bool), apply_mask(pb, mr, lr_bool));
  out = unvector(apply_mask(y, mo, mask_out && mask_out->dtype == LZ_BOOL), a, b);
done:
  lz_keep(out);
  lz_scope_end();
  return out;
}
