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

/* MLX's defaults and fixed formats per mode: affine 64/4, mxfp4 32/4, mxfp8 32/8, nvfp4 16/4. */
static const int DEFAULT_GS[LZ_QUANT_MODE_COUNT] = {64, 32, 32, 16};
static const int DEFAULT_BITS[LZ_QUANT_MODE_COUNT] = {4, 4, 8, 4};
static const char *const MODE_NAME[LZ_QUANT_MODE_COUNT] = {"affine", "mxfp4", "mxfp8", "nvfp4"};

/* Fills in the defaults (0) of `mode` and checks the group size and bits it allows. */
static int check_mode(const char *op, lz_quant_mode mode, int *group_size, int *bits) {
  if ((unsigned)mode >= LZ_QUANT_MODE_COUNT)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "invalid quantization mode %d", (int)mode);
  if (*group_size == 0) *group_size = DEFAULT_GS[mode];
  if (*bits == 0) *bits = DEFAULT_BITS[mode];
  if (mode == LZ_QUANT_AFFINE) return check_params(op, *group_size, *bits);
  if (*group_size != DEFAULT_GS[mode])
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%s quantization requires group size %d, got %d",
                     MODE_NAME[mode], DEFAULT_GS[mode], *group_size);
  if (*bits != DEFAULT_BITS[mode])
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%s quantization requires %d bits, got %d",
                     MODE_NAME[mode], DEFAULT_BITS[mode], *bits);
  return 0;
}

static bool is_real_float(lz_dtype d) {
  return d == LZ_FLOAT32 || d == LZ_FLOAT16 || d == LZ_BFLOAT16;
}

static int quantize_impl(const char *op, lz_array *w, int group_size, int bits, lz_quant_mode mode,
                         lz_array *out[3]) {
  if (!out) return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "out is NULL");
  out[0] = out[1] = out[2] = NULL;
  if (!lz__check_inputs(op, &w, 1) || check_mode(op, mode, &group_size, &bits) != 0) return -1;
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
  lz_quant_params p = {group_size, bits, false, (int)mode};
  bool affine = mode == LZ_QUANT_AFFINE;
  lz_dtype dts[3] = {LZ_UINT32, affine ? w->dtype : LZ_UINT8, w->dtype};
  const int *shapes[3] = {qshape, sshape, sshape};
  int nds[3] = {w->ndim, w->ndim, w->ndim};
  return lz__make_multi(LZ_OP_QUANTIZE, &p, &w, 1, affine ? 3 : 2, dts, shapes, nds, out);
}

int lz_quantize(lz_array *w, int group_size, int bits, lz_array *out[3]) {
  if (out) out[0] = out[1] = out[2] = NULL;
  if (check_params("lz_quantize", group_size, bits) != 0) return -1;
  return quantize_impl("lz_quantize", w, group_size, bits, LZ_QUANT_AFFINE, out);
}

int lz_quantize_v2(lz_array *w, int group_size, int bits, lz_quant_mode mode, lz_array *out[3]) {
  return quantize_impl("lz_quantize", w, group_size, bits, mode, out);
}

/* Checks (w_q, scales[, biases]) against each other; returns the unpacked last dim or -1. */
static int64_t check_quantized(const char *op, lz_array *w, lz_array *scales, lz_array *biases,
                               int group_size, int bits, lz_quant_mode mode) {
  char s1[256], s2[256], s3[256];
  if (w->dtype != LZ_UINT32)
    return lz__error(LZ_ERROR_DTYPE, op, "the packed weights must be uint32, got %s",
                     lz_dtype_name(w->dtype));
  if (mode == LZ_QUANT_AFFINE) {
    if (!biases)
      return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "affine quantization needs biases");
    if (!is_real_float(scales->dtype) || !is_real_float(biases->dtype))
      return lz__error(LZ_ERROR_DTYPE, op,
                       "scales and biases must be floating point, got %s and %s",
                       lz_dtype_name(scales->dtype), lz_dtype_name(biases->dtype));
  } else {
    if (biases)
      return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%s quantization takes no biases",
                       MODE_NAME[mode]);
    if (scales->dtype != LZ_UINT8)
      return lz__error(LZ_ERROR_DTYPE, op, "%s scales must be uint8, got %s", MODE_NAME[mode],
                       lz_dtype_name(scales->dtype));
  }
  lz_array *b = biases ? biases : scales;
  bool ok = w->ndim >= 2 && scales->ndim == w->ndim && b->ndim == w->ndim;
  for (int d = 0; ok && d < w->ndim; d++)
    ok = scales->shape[d] == b->shape[d] && (d == w->ndim - 1 || scales->shape[d] == w->shape[d]);
  int64_t K = ok ? (int64_t)w->shape[w->ndim - 1] * 32 / bits : 0;
  if (ok) ok = ((int64_t)w->shape[w->ndim - 1] * 32) % bits == 0 &&
               K == (int64_t)scales->shape[w->ndim - 1] * group_size;
  if (!ok)
    return lz__error(LZ_ERROR_SHAPE, op,
                     "shapes do not fit %d-bit codes in groups of %d: w %s, scales %s%s%s",
                     bits, group_size, lz__fmt_shape(s1, sizeof s1, w->shape, w->ndim),
                     lz__fmt_shape(s2, sizeof s2, scales->shape, scales->ndim),
                     biases ? ", biases " : "",
                     biases ? lz__fmt_shape(s3, sizeof s3, biases->shape, biases->ndim) : "");
  if (K > INT32_MAX)
    return lz__error(LZ_ERROR_SHAPE, op, "the unpacked last dimension %lld is too large",
                     (long long)K);
  return K;
}

static lz_array *dequantize_impl(lz_array *w, lz_array *scales, lz_array *biases, int group_size,
                                 int bits, lz_quant_mode mode, lz_dtype dtype, bool v2) {
  const char *op = "lz_dequantize";
  lz_array *in[3] = {w, scales, biases};
  if (!lz__check_inputs(op, in, 2) || (biases && !lz__check_inputs(op, &biases, 1)) ||
      check_mode(op, mode, &group_size, &bits) != 0)
    return NULL;
  if (dtype != LZ_DTYPE_COUNT && (!lz__dtype_valid(dtype) || !lz_dtype_is_float(dtype) ||
                                  dtype == LZ_COMPLEX64)) {
    lz__error(LZ_ERROR_DTYPE, op, "the output must be real floating point, got %s",
              lz__dtype_valid(dtype) ? lz_dtype_name(dtype) : "an invalid dtype");
    return NULL;
  }
  int64_t K = check_quantized(op, w, scales, biases, group_size, bits, mode);
  if (K < 0) return NULL;
  int shape[LZ_MAX_NDIM];
  memcpy(shape, w->shape, sizeof(int) * (size_t)w->ndim);
  shape[w->ndim - 1] = (int)K;
  lz_quant_params p = {group_size, bits, false, (int)mode};
  if (mode != LZ_QUANT_AFFINE) { /* MLX's default output for these modes is bfloat16 */
    lz_dtype dt = dtype == LZ_DTYPE_COUNT ? LZ_BFLOAT16 : dtype;
    return lz__make(LZ_OP_DEQUANTIZE, &p, in, 2, dt, shape, w->ndim);
  }
  /* affine: computed in the scales' dtype (the promoted one for _v2), then cast, as MLX */
  lz_dtype sdt = v2 ? lz_promote_types(scales->dtype, biases->dtype) : scales->dtype;
  lz_array *s = lz__cast("lz_dequantize", scales, sdt);
  lz_array *b = s ? lz__cast("lz_dequantize", biases, sdt) : NULL, *out = NULL;
  if (b) {
    lz_array *cin[3] = {w, s, b};
    out = lz__make(LZ_OP_DEQUANTIZE, &p, cin, 3, sdt, shape, w->ndim);
  }
  if (b) lz__uncast(b, biases);
  if (s) lz__uncast(s, scales);
  if (out && dtype != LZ_DTYPE_COUNT && dtype != sdt) {
    lz_array *c = lz_astype(out, dtype);
    lz_free(out);
    out = c;
  }
  return out;
}

lz_array *lz_dequantize(lz_array *w, lz_array *scales, lz_array *biases, int group_size, int bits) {
  if (check_params("lz_dequantize", group_size, bits) != 0) return NULL;
  if (!biases && !lz__check_inputs("lz_dequantize", &biases, 1)) return NULL;
  return dequantize_impl(w, scales, biases, group_size, bits, LZ_QUANT_AFFINE, LZ_DTYPE_COUNT,
                         false);
}

lz_array *lz_dequantize_v2(lz_array *w, lz_array *scales, lz_array *biases, int group_size,
                           int bits, lz_quant_mode mode, lz_dtype dtype) {
  return dequantize_impl(w, scales, biases, group_size, bits, mode, dtype, true);
}

/* `a` (batch dims then the last two) broadcast to batch shape bs (nb dims). */
static lz_array *to_batch(lz_array *a, const int *bs, int nb) {
  if (!a) return NULL;
  int shape[LZ_MAX_NDIM];
  memcpy(shape, bs, sizeof(int) * (size_t)nb);
  shape[nb] = a->shape[a->ndim - 2], shape[nb + 1] = a->shape[a->ndim - 1];
  return lz_broadcast_to(a, shape, nb + 2);
}

lz_array *lz_quantized_matmul_v2(lz_array *x, lz_array *w, lz_array *scales, lz_array *biases,
                                 bool transpose, int group_size, int bits, lz_quant_mode mode) {
  const char *op = "lz_quantized_matmul";
  lz_array *in[4] = {x, w, scales, biases};
  if (!lz__check_inputs(op, in, 3) || (biases && !lz__check_inputs(op, &biases, 1)) ||
      check_mode(op, mode, &group_size, &bits) != 0)
    return NULL;
  char s1[256], s2[256];
  if (w->ndim < 2) {
    lz__error(LZ_ERROR_SHAPE, op, "the quantized weights must be at least 2-D, got shape %s",
              lz__fmt_shape(s1, sizeof s1, w->shape, w->ndim));
    return NULL;
  }
  int64_t wlast = check_quantized(op, w, scales, biases, group_size, bits, mode);
  if (wlast < 0) return NULL;
  lz_dtype dt = mode == LZ_QUANT_AFFINE
                    ? lz_promote_types(lz_promote_types(x->dtype, scales->dtype), biases->dtype)
                    : x->dtype;
  if (!lz_dtype_is_float(dt) || dt == LZ_COMPLEX64) {
    lz__error(LZ_ERROR_DTYPE, op, "x must be floating point, got %s", lz_dtype_name(x->dtype));
    return NULL;
  }
  bool batched = w->ndim > 2;
  if (x->ndim < (batched ? 2 : 1)) {
    lz__error(LZ_ERROR_SHAPE, op, "x of shape %s has too few dimensions for weights of shape %s",
              lz__fmt_shape(s1, sizeof s1, x->shape, x->ndim),
              lz__fmt_shape(s2, sizeof s2, w->shape, w->ndim));
    return NULL;
  }
  /* transpose: W is (..., N, K) with K = wlast; else W is (..., K, N) with N = wlast. */
  int64_t rows = w->shape[w->ndim - 2];
  int64_t K = transpose ? wlast : rows, N = transpose ? rows : wlast;
  if (x->shape[x->ndim - 1] != K) {
    lz__error(LZ_ERROR_SHAPE, op, "last dimension of x %s does not match W of shape %s%s (K = %lld)",
              lz__fmt_shape(s1, sizeof s1, x->shape, x->ndim),
              lz__fmt_shape(s2, sizeof s2, w->shape, w->ndim), transpose ? " (transposed)" : "",
              (long long)K);
    return NULL;
  }
  lz_quant_params p = {group_size, bits, transpose, (int)mode};
  int n = mode == LZ_QUANT_AFFINE ? 4 : 3;
  if (!batched) {
    int shape[LZ_MAX_NDIM];
    memcpy(shape, x->shape, sizeof(int) * (size_t)x->ndim);
    shape[x->ndim - 1] = (int)N;
    return lz__make(LZ_OP_QUANTIZED_MATMUL, &p, in, n, dt, shape, x->ndim);
  }
  /* batched weights: the batch dims of x and W broadcast, one product per matrix */
  int bs[LZ_MAX_NDIM];
  int nb = lz__broadcast_shapes(op, x->shape, x->ndim - 2, w->shape, w->ndim - 2, bs);
  if (nb < 0) return NULL;
  lz_scope_begin();
  lz_array *bin[4];
  for (int i = 0; i < n; i++) bin[i] = to_batch(in[i], bs, nb);
  int shape[LZ_MAX_NDIM];
  memcpy(shape, bs, sizeof(int) * (size_t)nb);
  shape[nb] = x->shape[x->ndim - 2], shape[nb + 1] = (int)N;
  lz_array *out = bin[0] && bin[1] && bin[2] && bin[n - 1]
                      ? lz__make(LZ_OP_QUANTIZED_MATMUL, &p, bin, n, dt, shape, nb + 2)
                      : NULL;
  lz_keep(out);
  lz_scope_end();
  return out;
}

lz_array *lz_quantized_matmul(lz_array *x, lz_array *w, lz_array *scales, lz_array *biases,
                              bool transpose, int group_size, int bits) {
  if (check_params("lz_quantized_matmul", group_size, bits) != 0) return NULL;
  if (!biases && !lz__check_inputs("lz_quantized_matmul", &biases, 1)) return NULL;
  return lz_quantized_matmul_v2(x, w, scales, biases, transpose, group_size, bits,
                                LZ_QUANT_AFFINE);
}
