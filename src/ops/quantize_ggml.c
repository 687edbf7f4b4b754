/* The conversion of GGML's quantized blocks (q4_0, q4_1, q5_0, q5_1, q8_0: blocks of 32
 * values with a float16 scale) to Lazuli's affine layout, exactly: every value of a block is
 * scale * code + bias for integer codes. Kernel in cpu/quantize_ggml.c. */
#include "../cpu/quantize.h"
#include "ops.h"
#include "quantize_impl.h"

const lz_op_def lz_opdef_ggml_unpack = {
    .name = "ggml_unpack",
    .params_size = sizeof(lz_ggml_params),
    .cpu = lz_cpu_ggml_unpack,
};

bool lz__ggml_block_info(int type, int *block_bytes, int *bits) {
  switch (type) {
  case LZ_GGML_Q4_0: *block_bytes = 18, *bits = 4; return true;
  case LZ_GGML_Q4_1: *block_bytes = 20, *bits = 4; return true;
  case LZ_GGML_Q5_0: *block_bytes = 22, *bits = 5; return true;
  case LZ_GGML_Q5_1: *block_bytes = 24, *bits = 5; return true;
  case LZ_GGML_Q8_0: *block_bytes = 34, *bits = 8; return true;
  default: return false;
  }
}

int lz__ggml_unpack(lz_array *blocks, int type, const int *shape, int ndim, lz_array **outs,
                    const char *op) {
  outs[0] = outs[1] = outs[2] = NULL;
  int bb, bits;
  if (!lz__check_inputs(op, &blocks, 1)) return -1;
  if (!lz__ggml_block_info(type, &bb, &bits) || ndim < 1 || shape[ndim - 1] % 32 != 0 ||
      blocks->dtype != LZ_UINT8 || blocks->ndim != 2 || blocks->shape[1] != bb)
    return lz__error(LZ_ERROR_INTERNAL, op, "bad ggml block conversion (type %d)", type);
  int qshape[LZ_MAX_NDIM], sshape[LZ_MAX_NDIM];
  memcpy(qshape, shape, sizeof(int) * (size_t)ndim);
  memcpy(sshape, shape, sizeof(int) * (size_t)ndim);
  qshape[ndim - 1] = shape[ndim - 1] / 32 * bits;
  sshape[ndim - 1] = shape[ndim - 1] / 32;
  lz_ggml_params p = {type, bits};
  lz_dtype dts[3] = {LZ_UINT32, LZ_FLOAT16, LZ_FLOAT16};
  const int *shapes[3] = {qshape, sshape, sshape};
  int nds[3] = {ndim, ndim, ndim};
  return lz__make_multi(LZ_OP_GGML_UNPACK, &p, &blocks, 1, 3, dts, shapes, nds, outs);
}
