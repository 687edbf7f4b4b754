/* Unary elementwise ops and casts. */
#include "../cpu/unary.h"
#include "ops.h"

const lz_op_def lz_opdef_astype = {
    .name = "astype",
    .flags = LZ_OPF_ELEMENTWISE | LZ_OPF_DIFFERENTIABLE,
    .cpu = lz_cpu_astype,
};

lz_array *lz_astype(lz_array *a, lz_dtype dtype) {
  if (!lz__check_inputs("lz_astype", &a, 1)) return NULL;
  if (!lz__dtype_valid(dtype)) {
    lz__error(LZ_ERROR_DTYPE, "lz_astype", "invalid dtype %d", (int)dtype);
    return NULL;
  }
  if (a->dtype == dtype) return lz_retain(a);
  return lz__make(LZ_OP_ASTYPE, NULL, &a, 1, dtype, a->shape, a->ndim);
}
