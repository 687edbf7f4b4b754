/* Import checks of matmul, convolution, the fast ops, quantization, random sampling, linear
 * algebra and the FFT: each one is the op's public constructor on the recorded inputs, its
 * arguments taken from the file's parameters and output signatures (see import_check.h). */
#include "compile/import_check.h"
#include "cpu/conv.h"
#include "cpu/fast.h"
#include "cpu/fft.h"
#include "cpu/linalg.h"
#include "cpu/matmul.h"
#include "cpu/quantize.h"
#include "cpu/random.h"

#define X (a->in[0])
#define Y (a->in[1])
#define OUT (a->out[0])

/* ---- matmul ---- */

static lz_array *check_matmul(const cz_check_args *a) {
  return cz_check_arity(a, 2, 1) ? lz_matmul(X, Y) : NULL;
}
static lz_array *check_addmm(const cz_check_args *a) {
  const lz_addmm_params *p = a->params; /* inputs: a, b, c */
  return cz_check_arity(a, 3, 1) ? lz_addmm(a->in[2], X, Y, p->alpha, p->beta) : NULL;
}

static lz_array *check_conv(const cz_check_args *a) {
  const lz_conv_params *p = a->params;
  if (!cz_check_arity(a, 2, 1)) return NULL;
  if (p->nsp != X->ndim - 2) return cz_check_fail(a, "has %d spatial dims for %d", p->nsp, X->ndim - 2);
  return lz_conv_general(X, Y, p->stride, p->pad_lo, p->pad_hi, p->kdil, p->idil, p->groups, p->flip);
}

/* ---- fast ---- */

static lz_array *check_norm(const cz_check_args *a) {
  const lz_norm_params *p = a->params;
  bool rms = a->op == LZ_OP_RMS_NORM;
  int n = 1 + p->has_weight + (!rms && p->has_bias);
  if (!cz_check_arity(a, n, 1)) return NULL;
  lz_array *w = p->has_weight ? a->in[1] : NULL, *b = !rms && p->has_bias ? a->in[n - 1] : NULL;
  return rms ? lz_fast_rms_norm(X, w, p->eps) : lz_fast_layer_norm(X, w, b, p->eps);
}

static lz_array *check_rope(const cz_check_args *a) {
  const lz_rope_params *p = a->params;
  if (p->has_offsets) return cz_check_fail(a, "has array offsets");
  if (!cz_check_arity(a, 1 + p->has_freqs, 1)) return NULL;
  return lz_fast_rope(X, p->dims, p->traditional, p->base, p->scale, p->offset,
                      p->has_freqs ? Y : NULL);
}

static lz_array *check_sdpa(const cz_check_args *a) {
  const lz_sdpa_params *p = a->params;
  bool arr = p->mask == LZ_SDPA_ARRAY;
  if (p->mask != LZ_SDPA_NONE && p->mask != LZ_SDPA_CAUSAL && !arr)
    return cz_check_fail(a, "has mask mode %d", p->mask);
  int n = 3 + arr + p->has_sinks;
  if (!cz_check_arity(a, n, 1)) return NULL;
  const char *mode = arr ? "array" : p->mask == LZ_SDPA_CAUSAL ? "causal" : "";
  return lz_fast_scaled_dot_product_attention_v2(X, Y, a->in[2], p->scale, mode,
                                                 arr ? a->in[3] : NULL,
                                                 p->has_sinks ? a->in[n - 1] : NULL);
}

/* ---- quantization ---- */

static bool mode_ok(const cz_check_args *a, int mode) {
  if (mode >= 0 && mode < LZ_QUANT_MODE_COUNT) return true;
  cz_check_fail(a, "has quantization mode %d", mode);
  return false;
}

static lz_array *check_quantize(const cz_check_args *a) {
  const lz_quant_params *p = a->params;
  lz_array *out[3];
  if (!mode_ok(a, p->mode) ||
      !cz_check_arity(a, 1, p->mode == LZ_QUANT_AFFINE ? 3 : 2) ||
      lz_quantize_v2(X, p->group_size, p->bits, (lz_quant_mode)p->mode, out) != 0)
    return NULL;
  return out[0];
}

static lz_array *check_dequantize(const cz_check_args *a) {
  const lz_quant_params *p = a->params;
  if (!mode_ok(a, p->mode)) return NULL;
  bool affine = p->mode == LZ_QUANT_AFFINE;
  if (!cz_check_arity(a, affine ? 3 : 2, 1)) return NULL;
  return lz_dequantize_v2(X, Y, affine ? a->in[2] : NULL, p->group_size, p->bits,
                          (lz_quant_mode)p->mode, OUT->dtype);
}

static lz_array *check_quantized_matmul(const cz_check_args *a) {
  const lz_quant_params *p = a->params;
  if (!mode_ok(a, p->mode)) return NULL;
  bool affine = p->mode == LZ_QUANT_AFFINE;
  if (!cz_check_arity(a, affine ? 4 : 3, 1)) return NULL;
  return lz_quantized_matmul_v2(X, Y, a->in[2], affine ? a->in[3] : NULL, p->transpose,
                                p->group_size, p->bits, (lz_quant_mode)p->mode);
}

/* ---- random: the key is input 0 ---- */

static lz_array *check_random(const cz_check_args *a) {
  const lz_random_params *p = a->params;
  const int *s = OUT->shape;
  int nd = OUT->ndim;
  switch (a->op) {
  case LZ_OP_RANDOM_BITS:
    return cz_check_arity(a, 1, 1) ? lz_random_bits(s, nd, p->width, X) : NULL;
  case LZ_OP_RANDOM_SPLIT: {
    lz_array *f, *g;
    return cz_check_arity(a, 1, 2) && lz_random_split_pair(X, &f, &g) == 0 ? f : NULL;
  }
  case LZ_OP_RANDOM_UNIFORM:
    return cz_check_arity(a, 3, 1) ? lz_random_uniform(Y, a->in[2], s, nd, p->dtype, X) : NULL;
  case LZ_OP_RANDOM_TRUNCATED_NORMAL:
    return cz_check_arity(a, 3, 1) ? lz_random_truncated_normal(Y, a->in[2], s, nd, p->dtype, X)
                                   : NULL;
  case LZ_OP_RANDOM_NORMAL:
    return cz_check_arity(a, 1, 1) ? lz_random_normal(s, nd, p->dtype, p->loc, p->scale, X) : NULL;
  case LZ_OP_RANDOM_LAPLACE:
    return cz_check_arity(a, 1, 1) ? lz_random_laplace(s, nd, p->dtype, p->loc, p->scale, X) : NULL;
  case LZ_OP_RANDOM_GUMBEL:
    return cz_check_arity(a, 1, 1) ? lz_random_gumbel(s, nd, p->dtype, X) : NULL;
  case LZ_OP_RANDOM_BERNOULLI:
    return cz_check_arity(a, 2, 1) ? lz_random_bernoulli(Y, s, nd, X) : NULL;
  default: /* permutation of 0..n-1, or of an array along an axis */
    if (a->nin == 1 && nd == 1) return lz_random_permutation(s[0], X);
    if (!cz_check_arity(a, 2, 1)) return NULL;
    if (p->axis < 0) return cz_check_fail(a, "has axis %d", p->axis);
    return lz_random_permutation_array(Y, p->axis, X);
  }
}

/* ---- linear algebra ---- */

static lz_array *check_linalg(const cz_check_args *a) {
  const lz_linalg_flag_params *p = a->params; /* NULL for ops without parameters */
  lz_array *o[3] = {NULL, NULL, NULL};
  int rc = -1;
  switch (a->op) {
  case LZ_OP_LINALG_INV: return cz_check_arity(a, 1, 1) ? lz_linalg_inv(X) : NULL;
  case LZ_OP_LINALG_TRI_INV: return cz_check_arity(a, 1, 1) ? lz_linalg_tri_inv(X, p->flag) : NULL;
  case LZ_OP_LINALG_CHOLESKY: return cz_check_arity(a, 1, 1) ? lz_linalg_cholesky(X, p->flag) : NULL;
  case LZ_OP_LINALG_CHOLESKY_INV:
    return cz_check_arity(a, 1, 1) ? lz_linalg_cholesky_inv(X, p->flag) : NULL;
  case LZ_OP_LINALG_PINV: return cz_check_arity(a, 1, 1) ? lz_linalg_pinv(X) : NULL;
  case LZ_OP_LINALG_DET: return cz_check_arity(a, 1, 1) ? lz_linalg_det(X) : NULL;
  case LZ_OP_LINALG_SOLVE: return cz_check_arity(a, 2, 1) ? lz_linalg_solve(X, Y) : NULL;
  case LZ_OP_LINALG_SOLVE_TRIANGULAR:
    return cz_check_arity(a, 2, 1) ? lz_linalg_solve_triangular(X, Y, p->flag & 1) : NULL;
  case LZ_OP_LINALG_QR: if (cz_check_arity(a, 1, 2)) rc = lz_linalg_qr(X, o); break;
  case LZ_OP_LINALG_LU: if (cz_check_arity(a, 1, 3)) rc = lz_linalg_lu(X, o); break;
  case LZ_OP_LINALG_LU_FACTOR: if (cz_check_arity(a, 1, 2)) rc = lz_linalg_lu_factor(X, o); break;
  case LZ_OP_LINALG_SLOGDET: if (cz_check_arity(a, 1, 2)) rc = lz_linalg_slogdet(X, o); break;
  case LZ_OP_LINALG_SVD:
    if (a->nout == 1) return cz_check_arity(a, 1, 1) && lz_linalg_svd(X, false, o) == 0 ? o[0] : NULL;
    if (cz_check_arity(a, 1, 3)) rc = lz_linalg_svd(X, true, o);
    break;
  case LZ_OP_LINALG_EIG:
    if (a->nout == 1) return cz_check_arity(a, 1, 1) ? lz_linalg_eigvals(X) : NULL;
    if (cz_check_arity(a, 1, 2)) rc = lz_linalg_eig(X, o);
    break;
  case LZ_OP_LINALG_EIGH: {
    if (p->flag != 'L' && p->flag != 'U') return cz_check_fail(a, "has UPLO %d", p->flag);
    const char *uplo = p->flag == 'U' ? "U" : "L";
    if (a->nout == 1) return cz_check_arity(a, 1, 1) ? lz_linalg_eigvalsh(X, uplo) : NULL;
    if (cz_check_arity(a, 1, 2)) rc = lz_linalg_eigh(X, uplo, o);
    break;
  }
  default: { /* cross */
    const lz_cross_params *c = a->params;
    if (!cz_check_arity(a, 2, 1)) return NULL;
    if (c->axis < 0) return cz_check_fail(a, "has axis %d", c->axis);
    return lz_linalg_cross(X, Y, c->axis);
  }
  }
  return rc == 0 ? o[0] : NULL;
}

/* ---- fft: the input is already cropped or padded to the transform's sizes ---- */

static lz_array *check_fft(const cz_check_args *a) {
  typedef lz_array *(*fftn_fn)(lz_array *, const int *, const int *, int, lz_fft_norm);
  const lz_fft_params *p = a->params;
  if (!cz_check_arity(a, 1, 1)) return NULL;
  if (p->naxes < 1 || p->naxes > X->ndim) return cz_check_fail(a, "has %d axes", p->naxes);
  if (OUT->ndim != X->ndim) return cz_check_fail(a, "declares %d dims for %d", OUT->ndim, X->ndim);
  int n[LZ_MAX_NDIM];
  for (int i = 0; i < p->naxes; i++) {
    if (p->axes[i] < 0 || p->axes[i] >= X->ndim) return cz_check_fail(a, "has axis %d", p->axes[i]);
    n[i] = X->shape[p->axes[i]];
  }
  if (p->real && p->inverse) n[p->naxes - 1] = OUT->shape[p->axes[p->naxes - 1]];
  fftn_fn f = p->real ? (p->inverse ? lz_irfftn_v2 : lz_rfftn_v2)
                      : (p->inverse ? lz_ifftn_v2 : lz_fftn_v2);
  return f(X, n, p->axes, p->naxes, (lz_fft_norm)p->norm);
}

#define RND(ID) [LZ_OP_##ID] = check_random
#define LA(ID) [LZ_OP_##ID] = check_linalg
const cz_check_fn cz_checks_nn[LZ_OP_COUNT] = {
    [LZ_OP_MATMUL] = check_matmul,
    [LZ_OP_ADDMM] = check_addmm,
    [LZ_OP_CONVOLUTION] = check_conv,
    [LZ_OP_RMS_NORM] = check_norm,
    [LZ_OP_LAYER_NORM] = check_norm,
    [LZ_OP_ROPE] = check_rope,
    [LZ_OP_SCALED_DOT_PRODUCT_ATTENTION] = check_sdpa,
    [LZ_OP_QUANTIZE] = check_quantize,
    [LZ_OP_DEQUANTIZE] = check_dequantize,
    [LZ_OP_QUANTIZED_MATMUL] = check_quantized_matmul,
    RND(RANDOM_BITS), RND(RANDOM_SPLIT), RND(RANDOM_UNIFORM), RND(RANDOM_NORMAL),
    RND(RANDOM_TRUNCATED_NORMAL), RND(RANDOM_GUMBEL), RND(RANDOM_LAPLACE), RND(RANDOM_BERNOULLI),
    RND(RANDOM_PERMUTATION),
    LA(LINALG_QR), LA(LINALG_SVD), LA(LINALG_INV), LA(LINALG_PINV), LA(LINALG_TRI_INV),
    LA(LINALG_CHOLESKY), LA(LINALG_CHOLESKY_INV), LA(LINALG_LU), LA(LINALG_LU_FACTOR),
    LA(LINALG_SOLVE), LA(LINALG_SOLVE_TRIANGULAR), LA(LINALG_CROSS), LA(LINALG_EIGH),
    LA(LINALG_EIG), LA(LINALG_DET), LA(LINALG_SLOGDET),
    [LZ_OP_FFT] = check_fft,
};
