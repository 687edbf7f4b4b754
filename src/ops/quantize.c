/* Affine quantization constructors (lz_quantize, lz_dequantize, lz_quantized_matmul):
 * validation, output shapes and dtypes, registry entries. Kernels are in cpu/quantize*.c. */
#include "../cpu/quantize.h"
#include "ops.h"

#define OPDEF(NAME, KERNEL, FLAGS)                                                               \
  const lz_op_def lz_opdef_##NAME = {                                                            \
      .name = #NAME, .flags = (FLAGS), .params_size = sizeof(lz_quant_params), .cpu = (KERNEL)};
OPDEF(quantize, lz_cpu_quantize, 0)
OPDEF(dequantize, lz_cpu_dequantize, LZ_OPF_DIFFERENTIABLE)
OPDEF(quantized_matmul, lz_cpu_quantized_matmul, LZ_OPF_DIFFERENTIABLE)

static int check_params(const char *op, int group_size, int bits) {
  if (group_size != 32 && group_size != 64 && group_size != 128)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op,
                     "group size %d is not supported (use 32, 64 or 128)", group_size);
  if (bits < 2 || bits > 8 || bits == 7)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op,
                     "%d bits is not supported (use 2, 3, 4, 5, 6 or 8)", bits);
  return 0;
}

static bool is_real_float(lz_dtype d) {
  return d == LZ_FLOAT32 || d == LZ_FLOAT16 || d == LZ_BFLOAT16;
}

int lz_quantize(lz_array *w, int group_size, int bits, lz_array *out[3]) {
  const char *op = "lz_quantize";
  if (!out) return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "out is NULL");
  out[0] = out[1] = out[2] = NULL;
  if (!lz__check_inputs(op, &w, 1) || check_params(op, group_size, bits) != 0) return -1;
  char s[256];
  if (!is_real_float(w->dtype))
    return lz__error(LZ_ERROR_DTYPE, op, "only float32, float16 and bfloat16 can be quantized, got %s",
                     lz_dtype_name(w->dtype));
  if (w->ndim < 2)
    return lz__error(LZ_ERROR_SHAPE, op, "needs at least 2 dimensions, got shape %s",
                     lz__fmt_shape(s, sizeof s, w->shape, w->ndim));
  int K = w->shape[w->ndim - 1];
  if (K % group_size != 0)
    return lz__error(LZ_ERROR_SHAPE, op, "last dimension of %s is not divisible by the group size %d",
                     lz__fmt_shape(s, sizeof s, w->shape, w->ndim), group_size);
  int qshape[LZ_MAX_NDIM], sshape[LZ_MAX_NDIM];
  memcpy(qshape, w->shape, sizeof(int) * (size_t)w->ndim);
  memcpy(sshape, w->shape, sizeof(int) * (size_t)w->ndim);
  qshape[w->ndim - 1] = (int)((int64_t)K * bits / 32);
  sshape[w->ndim - 1] = K / group_size;
  lz_quant_params p = {group_size, bits, false};
  lz_dtype dts[3] = {LZ_UINT32, w->dtype, w->dtype};
  const int *shapes[3] = {qshape, sshape, sshape};
  int nds[3] = {w->ndim, w->ndim, w->ndim};
  return lz__make_multi(LZ_OP_QUANTIZE, &p, &w, 1, 3, dts, shapes, nds, out);
}

/* Checks (w_q, scales, biases) against each other; returns the unpacked last dim or -1. */
static int64_t check_quantized(const char *op, lz_array *w, lz_array *scales, lz_array *biases,
                               int group_size, int bits) {
  char s1[256], s2[256], s3[256];
  if (w->dtype != LZ_UINT32)
    return lz__error(LZ_ERROR_DTYPE, op, "the packed weights must be uint32, got %s",
                     lz_dtype_name(w->dtype));
  if (!is_real_float(scales->dtype) || !is_real_float(biases->dtype))
    return lz__error(LZ_ERROR_DTYPE, op, "scales and biases must be floating point, got %s and %s",
                     lz_dtype_name(scales->dtype), lz_dtype_name(biases->dtype));
  bool ok = w->ndim >= 2 && scales->ndim == w->ndim && biases->ndim == w->ndim;
  for (int d = 0; ok && d < w->ndim; d++)
    ok = scales->shape[d] == biases->shape[d] && (d == w->ndim - 1 || scales->shape[d] == w->shape[d]);
  int64_t K = ok ? (int64_t)w->shape[w->ndim - 1] * 32 / bits : 0;
  if (ok) ok = ((int64_t)w->shape[w->ndim - 1] * 32) % bits == 0 &&
               K == (int64_t)scales->shape[w->ndim - 1] * group_size;
  if (!ok)
    return lz__error(LZ_ERROR_SHAPE, op,
                     "shapes do not fit %d-bit codes in groups of %d: w %s, scales %s, biases %s",
                     bits, group_size, lz__fmt_shape(s1, sizeof s1, w->shape, w->ndim),
                     lz__fmt_shape(s2, sizeof s2, scales->shape, scales->ndim),
                     lz__fmt_shape(s3, sizeof s3, biases->shape, biases->ndim));
  return K;
}

lz_array *lz_dequantize(lz_array *w, lz_array *scales, lz_array *biases, int group_size, int bits) {
  const char *op = "lz_dequantize";
  lz_array *in[3] = {w, scales, biases};
  if (!lz__check_inputs(op, in, 3) || check_params(op, group_size, bits) != 0) return NULL;
  int64_t K = check_quantized(op, w, scales, biases, group_size, bits);
  if (K < 0) return NULL;
  if (K > INT32_MAX) {
    lz__error(LZ_ERROR_SHAPE, op, "the unpacked last dimension %lld is too large", (long long)K);
    return NULL;
  }
  int shape[LZ_MAX_NDIM];
  memcpy(shape, w->shape, sizeof(int) * (size_t)w->ndim);
  shape[w->ndim - 1] = (int)K;
  lz_array *b = lz__cast("lz_dequantize", biases, scales->dtype);
  if (!b) return NULL;
  lz_quant_params p = {group_size, bits, false};
  lz_array *cin[3] = {w, scales, b};
  lz_array *out = lz__make(LZ_OP_DEQUANTIZE, &p, cin, 3, scales->dtype, shape, w->ndim);
  lz__uncast(b, biases);
  return out;
}

lz_array *lz_quantized_matmul(lz_array *x, lz_array *w, lz_array *scales, lz_array *biases,
                              bool transpose, int group_size, int bits) {
  const char *op = "lz_quantized_matmul";
  lz_array *in[4] = {x, w, scales, biases};
  if (!lz__check_inputs(op, in, 4) || check_params(op, group_size, bits) != 0) return NULL;
  char s1[256], s2[256];
  if (w->ndim != 2) {
    lz__error(LZ_ERROR_SHAPE, op, "the quantized weights must be 2-D, got shape %s",
              lz__fmt_shape(s1, sizeof s1, w->shape, w->ndim));
    return NULL;
  }
  int64_t wlast = check_quantized(op, w, scales, biases, group_size, bits);
  if (wlast < 0) return NULL;
  lz_dtype dt = lz_promote_types(lz_promote_types(x->dtype, scales->dtype), biases->dtype);
  if (!lz_dtype_is_float(dt)) {
    lz__error(LZ_ERROR_DTYPE, op, "x must be floating point, got %s", lz_dtype_name(x->dtype));
    return NULL;
  }
  if (x->ndim < 1) {
    lz__error(LZ_ERROR_SHAPE, op, "x must have at least 1 dimension, got a 0-d array");
    return NULL;
  }
  /* transpose: W is (N, K) with K = wlast; else W is (K, N) with N = wlast. */
  int64_t K = transpose ? wlast : w->shape[0], N = transpose ? w->shape[0] : wlast;
  if (x->shape[x->ndim - 1] != K) {
    lz__error(LZ_ERROR_SHAPE, op, "last dimension of x %s does not match W of shape (%lld,%lld)%s",
              lz__fmt_shape(s2, sizeof s2, x->shape, x->ndim), (long long)(transpose ? N : K),
              (long long)(transpose ? K : N), transpose ? " (transposed)" : "");
    return NULL;
  }
  if (N > INT32_MAX) {
    lz__error(LZ_ERROR_SHAPE, op, "the output dimension %lld is too large", (long long)N);
    return NULL;
  }
  int shape[LZ_MAX_NDIM];
  memcpy(shape, x->shape, sizeof(int) * (size_t)x->ndim);
  shape[x->ndim - 1] = (int)N;
  lz_quant_params p = {group_size, bits, transpose};
  return lz__make(LZ_OP_QUANTIZED_MATMUL, &p, in, 4, dt, shape, x->ndim);
}
