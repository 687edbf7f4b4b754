/* Internal constructors of the quantization family used by other modules (io/gguf.c). */
#ifndef LZ_OPS_QUANTIZE_IMPL_H
#define LZ_OPS_QUANTIZE_IMPL_H

#include "../core/internal.h"

/* For a GGML block type (a GGUF tensor type id): the bytes of one block of 32 values and the
 * bits of its codes in Lazuli's affine layout. Returns false for types that are not mapped. */
LZ_HIDDEN bool lz__ggml_block_info(int type, int *block_bytes, int *bits);
/* Converts `blocks` (uint8 of shape (nblocks, block_bytes), the raw blocks of a tensor of
 * `shape`, whose last dim is a multiple of 32) to Lazuli's affine layout with group size 32:
 * outs[0] the uint32 codes, outs[1] float16 scales, outs[2] float16 biases. Returns 0 or -1. */
LZ_HIDDEN int lz__ggml_unpack(lz_array *blocks, int type, const int *shape, int ndim,
                              lz_array **outs, const char *op);

#endif /* LZ_OPS_QUANTIZE_IMPL_H */
