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

/* The checks of quantized_matmul (ops/quantize.c), shared with gather_qmm: fills in *p (the
 * mode's default group size and bits for 0s in p), the result dtype and N. 0 or -1. */
struct lz_quant_params;
LZ_HIDDEN int lz__qmm_check(const char *op, lz_array *x, lz_array *w, lz_array *scales,
                            lz_array *biases, bool transpose, lz_quant_mode mode,
                            struct lz_quant_params *p, lz_dtype *dt, int64_t *N);

#endif /* LZ_OPS_QUANTIZE_IMPL_H */
