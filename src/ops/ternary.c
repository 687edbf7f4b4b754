/* where(cond, x, y): the one ternary elementwise op. */
#include "../cpu/binary.h"
#include "ops.h"

const lz_op_def lz_opdef_where = {
    .name = "where",
    .flags = LZ_OPF_ELEMENTWISE | LZ_OPF_DIFFERENTIABLE,
    .cpu = lz_cpu_where,
};

lz_array *lz_where(lz_array *cond, lz_array *x, lz_array *y) {
  lz_array *in[3] = {cond, x, y};
  if (!lz__check_inputs("lz_where", in, 3)) return NULL;
  int s1[LZ_MAX_NDIM], shape[LZ_MAX_NDIM];
  int n1 = lz__broadcast_shapes("lz_where", cond->shape, cond->ndim, x->shape, x->ndim, s1);
  if (n1 < 0) return NULL;
  int nd = lz__broadcast_shapes("lz_where", s1, n1, y->shape, y->ndim, shape);
  if (nd < 0) return NULL;
  lz_dtype ct = lz__result_type(x, y);
  lz_array *cc = lz__cast("lz_where", cond, LZ_BOOL);
  lz_array *cx = cc ? lz__cast("lz_where", x, ct) : NULL;
  lz_array *cy = cx ? lz__cast("lz_where", y, ct) : NULL;
  lz_array *out = NULL;
  if (cy) {
    lz_array *cin[3] = {cc, cx, cy};
    out = lz__make(LZ_OP_WHERE, NULL, cin, 3, ct, shape, nd);
  }
  if (cc) lz__uncast(cc, cond);
  if (cx) lz__uncast(cx, x);
  if (cy) lz__uncast(cy, y);
  return out;
}
