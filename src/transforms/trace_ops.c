/* Ops the transforms record: identity (a transform's own handle on each input, so inputs passed
 * twice or computed from each other stay distinct), depends (orders a recomputation after the
 * cotangents it waits for). Both are views: they cost no copy. */
#include "transforms/transforms_impl.h"

static int view_of_input0(lz_node *node, lz_array **outs) {
  lz_array *in = node->inputs[0];
  lz__set_view(outs[0], in, 0, in->strides);
  return 0;
}

const lz_op_def lz_opdef_identity = {
    .name = "identity",
    .flags = LZ_OPF_VIEW | LZ_OPF_DIFFERENTIABLE | LZ_OPF_NO_CSE,
    .cpu = view_of_input0,
};

const lz_op_def lz_opdef_depends = {
    .name = "depends",
    .flags = LZ_OPF_VIEW | LZ_OPF_DIFFERENTIABLE | LZ_OPF_NO_CSE,
    .cpu = view_of_input0,
};

lz_array *lz__identity(lz_array *a) {
  if (!lz__check_inputs("lz_identity", &a, 1)) return NULL;
  lz_array *r = lz__make(LZ_OP_IDENTITY, NULL, &a, 1, a->dtype, a->shape, a->ndim);
  if (r) r->flags |= LZ_AF_TRACER;
  return r;
}

lz_array *lz__depends(lz_array *a, lz_array *const *deps, int ndeps) {
  lz_array *in[1 + LZ_MAX_OUTPUTS];
  if (ndeps < 0 || ndeps > LZ_MAX_OUTPUTS) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_depends", "%d dependencies (at most %d)", ndeps,
              LZ_MAX_OUTPUTS);
    return NULL;
  }
  in[0] = a;
  for (int i = 0; i < ndeps; i++) in[1 + i] = deps[i];
  if (!lz__check_inputs("lz_depends", in, 1 + ndeps)) return NULL;
  return lz__make(LZ_OP_DEPENDS, NULL, in, 1 + ndeps, a->dtype, a->shape, a->ndim);
}
