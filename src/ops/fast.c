/* The fused ops of MLX's mx.fast: rms_norm, layer_norm, rope, scaled_dot_product_attention.
 * Validation and dtype rules follow MLX; each records one node computed by one kernel. */
#include "../cpu/fast.h"
#include "ops.h"

#include <math.h>

const lz_op_def lz_opdef_rms_norm = {
    .name = "rms_norm",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_norm_params),
    .cpu = lz_cpu_rms_norm,
};

const lz_op_def lz_opdef_layer_norm = {
    .name = "layer_norm",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_norm_params),
    .cpu = lz_cpu_layer_norm,
};

const lz_op_def lz_opdef_rope = {
    .name = "rope",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_rope_params),
    .cpu = lz_cpu_rope,
};

const lz_op_def lz_opdef_scaled_dot_product_attention = {
    .name = "scaled_dot_product_attention",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_sdpa_params),
    .cpu = lz_cpu_sdpa,
};

const lz_op_def lz_opdef_scaled_dot_product_attention_vjp = {
    .name = "scaled_dot_product_attention_vjp",
    .flags = LZ_OPF_DIFFERENTIABLE,
    .params_size = sizeof(lz_sdpa_params),
    .cpu = lz_cpu_sdpa_vjp,
};

/* Casts the n inputs to dt (a bool input stays bool: a mask) and records the op; frees the
 * casts. */
static lz_array *make_cast(int op, const void *params, lz_array **in, int n, lz_dtype dt,
                           const int *shape, int ndim) {
  lz_array *c[5] = {NULL, NULL, NULL, NULL, NULL};
  lz_array *out = NULL;
  int k = 0;
  for (; k < n; k++)
    if (!(c[k] = lz__cast(lz__op(op)->name, in[k], in[k]->dtype == LZ_BOOL ? LZ_BOOL : dt))) break;
  if (k == n) out = lz__make(op, params, c, n, dt, shape, ndim);
  for (int i = 0; i < k; i++) lz__uncast(c[i], in[i]);
  return out;
}

/* A (D,) vector matching x's last dim, or an error naming `what`. */
static bool vec_ok(const char *op, const char *what, const lz_array *a, const lz_array *x) {
  char s[256], sx[256];
  if (a->ndim != 1 || a->shape[0] != x->shape[x->ndim - 1]) {
    lz__error(LZ_ERROR_SHAPE, op, "%s must have shape (%d,) (the last dim of x %s), got %s", what,
              x->shape[x->ndim - 1], lz__fmt_shape(sx, sizeof sx, x->shape, x->ndim),
              lz__fmt_shape(s, sizeof s, a->shape, a->ndim));
    return false;
  }
  return true;
}

static bool float_ok(const char *op, lz_dtype dt) {
  if (lz_dtype_is_float(dt)) return true;
  lz__error(LZ_ERROR_DTYPE, op, "only floating point types are supported, got %s",
            lz_dtype_name(dt));
  return false;
}

static bool rank_ok(const char *op, const lz_array *x, int min) {
  if (x->ndim >= min) return true;
  char s[256];
  lz__error(LZ_ERROR_SHAPE, op, "x must have at least %d dimension%s, got shape %s", min,
            min > 1 ? "s" : "", lz__fmt_shape(s, sizeof s, x->shape, x->ndim));
  return false;
}

lz_array *lz_fast_rms_norm(lz_array *x, lz_array *weight, double eps) {
  const char *op = "lz_fast_rms_norm";
  lz_array *in[2] = {x, weight};
  if (!lz__check_inputs(op, in, 1) || (weight && !lz__check_inputs(op, in + 1, 1))) return NULL;
  if (!rank_ok(op, x, 1) || (weight && !vec_ok(op, "weight", weight, x))) return NULL;
  lz_dtype dt = weight ? lz__result_type(x, weight) : x->dtype;
  if (!float_ok(op, dt)) return NULL;
  lz_norm_params p = {.eps = (float)eps, .has_weight = weight != NULL};
  return make_cast(LZ_OP_RMS_NORM, &p, in, weight ? 2 : 1, dt, x->shape, x->ndim);
}

lz_array *lz_fast_layer_norm(lz_array *x, lz_array *weight, lz_array *bias, double eps) {
  const char *op = "lz_fast_layer_norm";
  lz_array *in[3] = {x, NULL, NULL};
  int n = 1;
  if (!lz__check_inputs(op, in, 1) || (weight && !lz__check_inputs(op, &weight, 1)) ||
      (bias && !lz__check_inputs(op, &bias, 1)))
    return NULL;
  if (!rank_ok(op, x, 1) || (weight && !vec_ok(op, "weight", weight, x)) ||
      (bias && !vec_ok(op, "bias", bias, x)))
    return NULL;
  lz_dtype dt = x->dtype;
  if (weight) dt = lz__result_type(x, weight), in[n++] = weight;
  if (bias) dt = lz_promote_types(dt, bias->dtype), in[n++] = bias;
  if (!float_ok(op, dt)) return NULL;
  lz_norm_params p = {.eps = (float)eps, .has_weight = weight != NULL, .has_bias = bias != NULL};
  return make_cast(LZ_OP_LAYER_NORM, &p, in, n, dt, x->shape, x->ndim);
}

static lz_array *rope_impl(lz_array *x, int dims, bool traditional, double base, double scale,
                           int offset, lz_array *offsets, lz_array *freqs) {
  const char *op = "lz_fast_rope";
  if (!lz__check_inputs(op, &x, 1) || (freqs && !lz__check_inputs(op, &freqs, 1))) return NULL;
  if (offsets) { /* MLX: an integer scalar, or one offset per batch entry (x's first dim) */
    char s[256], t[256];
    if (!lz__check_inputs(op, &offsets, 1)) return NULL;
    if (!lz_dtype_is_integer(offsets->dtype)) {
      lz__error(LZ_ERROR_DTYPE, op, "offset must be an integer array, got %s",
                lz_dtype_name(offsets->dtype));
      return NULL;
    }
    if (offsets->ndim > 1 || (offsets->size != 1 && (x->ndim < 1 || offsets->size != x->shape[0]))) {
      lz__error(LZ_ERROR_SHAPE, op,
                "offset must be a scalar or a vector of one offset per batch entry, got %s for x %s",
                lz__fmt_shape(s, sizeof s, offsets->shape, offsets->ndim),
                lz__fmt_shape(t, sizeof t, x->shape, x->ndim));
      return NULL;
    }
  }
  if (!rank_ok(op, x, 3) || !float_ok(op, x->dtype)) return NULL;
  int D = x->shape[x->ndim - 1];
  if (dims <= 0 || dims % 2 != 0 || dims > D) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op,
              "dims must be positive, even and at most the last dim of x (%d), got %d", D, dims);
    return NULL;
  }
  if (freqs && (freqs->ndim != 1 || freqs->shape[0] != dims / 2)) {
    char s[256];
    lz__error(LZ_ERROR_SHAPE, op, "freqs must have shape (%d,), got %s", dims / 2,
              lz__fmt_shape(s, sizeof s, freqs->shape, freqs->ndim));
    return NULL;
  }
  if (freqs && !lz_dtype_is_float(freqs->dtype) && !lz_dtype_is_integer(freqs->dtype)) {
    lz__error(LZ_ERROR_DTYPE, op, "freqs must be real, got %s", lz_dtype_name(freqs->dtype));
    return NULL;
  }
  if (!freqs && !(base > 0)) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "base must be positive, got %g", base);
    return NULL;
  }
  lz_rope_params p = {.dims = dims,
                      .offset = offset,
                      .base = (float)base,
                      .scale = (float)scale,
                      .traditional = traditional,
                      .has_freqs = freqs != NULL,
                      .has_offsets = offsets != NULL};
  lz_array *f = freqs ? lz__cast("lz_fast_rope", freqs, LZ_FLOAT32) : NULL;
  if (freqs && !f) return NULL;
  lz_array *o = offsets ? lz__cast("lz_fast_rope", offsets, LZ_INT32) : NULL;
  lz_array *in[3] = {x}, *out = NULL;
  int n = 1;
  if (f) in[n++] = f;
  if (o) in[n++] = o;
  if (!offsets || o) out = lz__make(LZ_OP_ROPE, &p, in, n, x->dtype, x->shape, x->ndim);
  if (f) lz__uncast(f, freqs);
  if (o) lz__uncast(o, offsets);
  return out;
}

lz_array *lz_fast_rope(lz_array *x, int dims, bool traditional, double base, double scale,
                       int offset, lz_array *freqs) {
  return rope_impl(x, dims, traditional, base, scale, offset, NULL, freqs);
}

lz_array *lz_fast_rope_v2(lz_array *x, int dims, bool traditional, double base, double scale,
                          lz_array *offset, lz_array *freqs) {
  if (!offset) return rope_impl(x, dims, traditional, base, scale, 0, NULL, freqs);
  return rope_impl(x, dims, traditional, base, scale, 0, offset, freqs);
}

/* ---- attention ---- */

static bool sdpa_shapes(const char *op, lz_array *q, lz_array *k, lz_array *v) {
  char sq[256], sk[256], sv[256];
  lz_array *all[3] = {q, k, v};
  const char *why = NULL;
  for (int i = 0; i < 3 && !why; i++)
    if (all[i]->ndim != 4) why = "q, k and v must have 4 dimensions (B, heads, L, D)";
  if (!why && (k->shape[0] != q->shape[0] || v->shape[0] != q->shape[0]))
    why = "batch sizes differ";
  if (!why && k->shape[3] != q->shape[3]) why = "q and k have different head dims";
  if (!why && v->shape[1] != k->shape[1]) why = "k and v have different numbers of heads";
  if (!why && v->shape[2] != k->shape[2]) why = "k and v have different lengths";
  if (!why && (k->shape[1] == 0 || q->shape[1] % k->shape[1] != 0))
    why = "the query heads are not a multiple of the key/value heads";
  if (!why) return true;
  lz__error(LZ_ERROR_SHAPE, op, "%s: q %s, k %s, v %s", why,
            lz__fmt_shape(sq, sizeof sq, q->shape, q->ndim),
            lz__fmt_shape(sk, sizeof sk, k->shape, k->ndim),
            lz__fmt_shape(sv, sizeof sv, v->shape, v->ndim));
  return false;
}

static lz_array *sdpa_impl(lz_array *q, lz_array *k, lz_array *v, double scale,
                           const char *mask_mode, lz_array *mask, lz_array *sinks) {
  const char *op = "lz_fast_scaled_dot_product_attention";
  lz_array *in[5] = {q, k, v, NULL, NULL};
  if (!lz__check_inputs(op, in, 3) || (mask && !lz__check_inputs(op, &mask, 1)) ||
      (sinks && !lz__check_inputs(op, &sinks, 1)))
    return NULL;
  if (!sdpa_shapes(op, q, k, v)) return NULL;
  const char *mode = mask_mode ? mask_mode : "";
  lz_sdpa_params p = {.scale = (float)scale, .mask = LZ_SDPA_NONE};
  if (strcmp(mode, "causal") == 0) {
    if (mask) {
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "mask_mode \"causal\" takes no mask array");
      return NULL;
    }
    p.mask = LZ_SDPA_CAUSAL;
  } else if (strcmp(mode, "array") == 0 || (mode[0] == 0 && mask)) {
    if (!mask) {
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "mask_mode \"array\" needs a mask array");
      return NULL;
    }
    p.mask = LZ_SDPA_ARRAY;
  } else if (mode[0] != 0) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op,
              "mask_mode must be \"causal\", \"array\" or \"\", got \"%s\"", mode);
    return NULL;
  }
  lz_dtype dt = lz_promote_types(lz_promote_types(q->dtype, k->dtype), v->dtype);
  if (!float_ok(op, dt)) return NULL;
  if (sinks) { /* MLX: one sink logit per query head, of a type that promotes to the output's */
    char s[256];
    if (sinks->ndim != 1 || sinks->shape[0] != q->shape[1]) {
      lz__error(LZ_ERROR_SHAPE, op, "sinks must have shape (%d,) (one per query head), got %s",
                q->shape[1], lz__fmt_shape(s, sizeof s, sinks->shape, sinks->ndim));
      return NULL;
    }
    if (sinks->dtype == LZ_BOOL || lz_promote_types(sinks->dtype, dt) != dt) {
      lz__error(LZ_ERROR_DTYPE, op, "the sinks' dtype %s must promote to the output dtype %s",
                lz_dtype_name(sinks->dtype), lz_dtype_name(dt));
      return NULL;
    }
    p.has_sinks = true;
  }
  int shape[4] = {q->shape[0], q->shape[1], q->shape[2], v->shape[3]};
  if (p.mask != LZ_SDPA_ARRAY) {
    if (sinks) in[3] = sinks;
    return make_cast(LZ_OP_SCALED_DOT_PRODUCT_ATTENTION, &p, in, sinks ? 4 : 3, dt, shape, 4);
  }
  if (mask->dtype != LZ_BOOL && lz_promote_types(mask->dtype, dt) != dt) {
    lz__error(LZ_ERROR_DTYPE, op, "the mask's dtype %s must promote to the output dtype %s",
              lz_dtype_name(mask->dtype), lz_dtype_name(dt));
    return NULL;
  }
  int mshape[4] = {q->shape[0], q->shape[1], q->shape[2], k->shape[2]};
  if (mask->ndim > 4) {
    char s[256];
    lz__error(LZ_ERROR_SHAPE, op, "the mask must have at most 4 dimensions, got shape %s",
              lz__fmt_shape(s, sizeof s, mask->shape, mask->ndim));
    return NULL;
  }
  int bshape[LZ_MAX_NDIM];
  int bnd = lz__broadcast_shapes(op, mask->shape, mask->ndim, mshape, 4, bshape);
  if (bnd < 0) return NULL;
  if (memcmp(bshape, mshape, sizeof mshape) != 0) {
    char s[256], t[256];
    lz__error(LZ_ERROR_SHAPE, op, "the mask %s does not broadcast to the scores %s",
              lz__fmt_shape(s, sizeof s, mask->shape, mask->ndim),
              lz__fmt_shape(t, sizeof t, mshape, 4));
    return NULL;
  }
  lz_array *mb = lz_broadcast_to(mask, mshape, 4);
  if (!mb) return NULL;
  in[3] = mb, in[4] = sinks;
  lz_array *out = make_cast(LZ_OP_SCALED_DOT_PRODUCT_ATTENTION, &p, in, sinks ? 5 : 4, dt, shape, 4);
  lz_free(mb);
  return out;
}

lz_array *lz_fast_scaled_dot_product_attention(lz_array *q, lz_array *k, lz_array *v, double scale,
                                               const char *mask_mode, lz_array *mask) {
  return sdpa_impl(q, k, v, scale, mask_mode, mask, NULL);
}

lz_array *lz_fast_scaled_dot_product_attention_v2(lz_array *q, lz_array *k, lz_array *v,
                                                  double scale, const char *mask_mode,
                                                  lz_array *mask, lz_array *sinks) {
  return sdpa_impl(q, k, v, scale, mask_mode, mask, sinks);
}

int lz__sdpa_vjp(const lz_sdpa_params *p, lz_array *const *in, int n, lz_array *cot,
                 lz_array **grads) {
  lz_array *ins[6];
  for (int i = 0; i < n; i++) ins[i] = in[i];
  lz_dtype dt = in[0]->dtype, dts[4];
  const int *shapes[4];
  int nds[4], nout = p->has_sinks ? 4 : 3;
  for (int i = 0; i < nout; i++) {
    const lz_array *x = in[i < 3 ? i : n - 1]; /* q, k, v, sinks */
    dts[i] = x->dtype, shapes[i] = x->shape, nds[i] = x->ndim;
  }
  ins[n] = lz__cast("scaled_dot_product_attention_vjp", cot, dt);
  if (!ins[n]) return -1;
  int rc = lz__make_multi(LZ_OP_SCALED_DOT_PRODUCT_ATTENTION_VJP, p, ins, n + 1, nout, dts, shapes,
                          nds, grads);
  lz__uncast(ins[n], cot);
  return rc;
}
