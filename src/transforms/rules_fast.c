/* vjp and jvp rules of the convolution (ops/conv.c) and of the fused ops (ops/fast.c).
 *
 * A convolution is linear in each operand. Its input cotangent is a transposed convolution:
 * the cotangent dilated by the stride, correlated with the kernel flipped and its channels
 * swapped (per group), padded so that it lands on the input's (dilated) positions; the
 * weight cotangent is a convolution of the input with the cotangent, batch and channels
 * swapped, the stride becoming the kernel dilation: one per group (a product each, on views),
 * except with one input channel per group (depthwise), where those would be C tiny products:
 * there it is one grouped convolution of batch 1 whose group j reads the N images of input
 * channel j as its channels (x' (1, S..., C N), from a copy of x with channels outermost)
 * against group j's cotangent channels; cpu/conv_onednn.c runs it as one grouped
 * backward-weights primitive.
 *
 * The fused ops equal compositions of basic ops; their rules differentiate that composition
 * (a nested vjp/jvp), except rope, which is a rotation: its transpose rotates back, and
 * attention's vjp, which records the fused gradient node (its own rules differentiate the
 * composition's vjp, so grad of grad and jvp of vjp work). */
#include "cpu/conv.h"
#include "cpu/fast.h"
#include "transforms/rules_util.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#define X (a->inputs[0])
#define W (a->inputs[1])
#define C (a->cotans[0])

static int done(lz_array **slot, lz_array *v) { return (*slot = v) ? 0 : -1; }

/* ---- convolution -------------------------------------------------------------------------- */

/* (A, spatial..., B) -> (B, spatial..., A). */
static lz_array *swap_ends(lz_array *x) {
  if (!x) return NULL;
  int perm[LZ_MAX_NDIM], nd = x->ndim;
  for (int d = 0; d < nd; d++) perm[d] = d;
  perm[0] = nd - 1, perm[nd - 1] = 0;
  return lz_transpose(x, perm, nd);
}
/* x[..., start:start+len] on the last axis. */
static lz_array *last_axis(lz_array *x, int start, int len) {
  int s[LZ_MAX_NDIM], e[LZ_MAX_NDIM];
  for (int d = 0; d < x->ndim; d++) s[d] = 0, e[d] = x->shape[d];
  s[x->ndim - 1] = start, e[x->ndim - 1] = start + len;
  return lz_slice(x, s, e, NULL, x->ndim);
}

static lz_array *conv_grad_input(const lz_conv_params *p, lz_array *c, lz_array *x, lz_array *w) {
  int nsp = p->nsp, nd = nsp + 2, g = p->groups, O = w->shape[0], Cg = w->shape[nd - 1];
  int lo[3], hi[3], one[3] = {1, 1, 1}, shape[LZ_MAX_NDIM + 1], perm[LZ_MAX_NDIM + 1];
  /* w (O, K..., Cg) -> (g, Og, K..., Cg) -> (g, Cg, K..., Og) -> (C, K..., Og) */
  shape[0] = g, shape[1] = O / g;
  for (int d = 1; d < nd; d++) shape[d + 1] = w->shape[d];
  lz_array *wg = lz_reshape(w, shape, nd + 1);
  for (int d = 0; d <= nd; d++) perm[d] = d;
  perm[1] = nd, perm[nd] = 1;
  wg = lz_transpose(wg, perm, nd + 1);
  int ws[LZ_MAX_NDIM];
  ws[0] = g * Cg, ws[nd - 1] = O / g;
  for (int d = 1; d < nd - 1; d++) ws[d] = w->shape[d];
  wg = lz_reshape(wg, ws, nd);
  int lx[3];
  for (int d = 0; d < nsp; d++) {
    int k = w->shape[d + 1], n_out = c->shape[d + 1];
    lx[d] = (x->shape[d + 1] - 1) * p->idil[d] + 1; /* the dilated input */
    lo[d] = p->kdil[d] * (k - 1) - p->pad_lo[d];
    hi[d] = lx[d] - 1 + p->pad_lo[d] - (n_out - 1) * p->stride[d];
  }
  lz_array *gd = lz_conv_general(c, wg, one, lo, hi, p->kdil, p->stride, g, !p->flip);
  if (!gd) return NULL;
  /* back from the dilated input to the input: every idil-th element */
  int s[LZ_MAX_NDIM], e[LZ_MAX_NDIM], st[LZ_MAX_NDIM];
  for (int d = 0; d < nd; d++) s[d] = 0, e[d] = gd->shape[d], st[d] = 1;
  for (int d = 0; d < nsp; d++) st[d + 1] = p->idil[d];
  return lz_slice(gd, s, e, st, nd);
}

static lz_array *conv_grad_weight(const lz_conv_params *p, lz_array *c, lz_array *x, lz_array *w) {
  int nsp = p->nsp, nd = nsp + 2, g = p->groups, O = w->shape[0], Cg = w->shape[nd - 1];
  int hi[3];
  for (int d = 0; d < nsp; d++) {
    int k = w->shape[d + 1], n_out = c->shape[d + 1];
    int64_t have = (int64_t)(x->shape[d + 1] - 1) * p->idil[d] + 1 + p->pad_lo[d] + p->pad_hi[d];
    int64_t need = (int64_t)(n_out - 1) * p->stride[d] + (int64_t)(k - 1) * p->kdil[d] + 1;
    hi[d] = (int)(p->pad_hi[d] - (have - need)); /* drop what no output reads */
  }
  if (g > 1 && Cg == 1) { /* depthwise: one grouped convolution (see the comment above) */
    int nx = x->ndim, perm[LZ_MAX_NDIM], shape[LZ_MAX_NDIM];
    perm[0] = nx - 1; /* x (N, S..., C) -> T (C, N, S...), a copy */
    for (int d = 1; d < nx; d++) perm[d] = d - 1;
    lz_array *t = lz_contiguous(lz_transpose(x, perm, nx));
    shape[0] = g * x->shape[0]; /* (C N, S..., 1) -> x' (1, S..., C N) */
    for (int d = 1; d < nx - 1; d++) shape[d] = x->shape[d];
    shape[nx - 1] = 1;
    lz_array *xs = swap_ends(lz_reshape(t, shape, nx));
    lz_array *gw = swap_ends(lz_conv_general(xs, swap_ends(c), p->kdil, p->pad_lo, hi, p->stride,
                                             p->idil, g, false));
    if (p->flip && gw) {
      int axes[3] = {1, 2, 3};
      gw = lz_flip(gw, axes, nsp);
    }
    return gw;
  }
  lz_array **parts = lz__malloc((size_t)g * sizeof *parts);
  if (!parts) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_vjp", "out of memory");
    return NULL;
  }
  for (int j = 0; j < g; j++) {
    lz_array *xj = swap_ends(last_axis(x, j * Cg, Cg)), *cj = swap_ends(last_axis(c, j * (O / g), O / g));
    /* (Cg, K..., Og) -> (Og, K..., Cg) */
    parts[j] = swap_ends(lz_conv_general(xj, cj, p->kdil, p->pad_lo, hi, p->stride, p->idil, 1,
                                         false));
  }
  lz_array *gw = g == 1 ? parts[0] : lz_concatenate(parts, g, 0);
  free(parts);
  if (p->flip && gw) {
    int axes[3] = {1, 2, 3};
    gw = lz_flip(gw, axes, nsp);
  }
  return gw;
}

static int vjp_conv(const lz_vjp_args *a, lz_array **g) {
  const lz_conv_params *p = a->node->params;
  g[0] = g[1] = NULL;
  if (a->need[0] && !(g[0] = lz_astype(conv_grad_input(p, C, X, W), X->dtype))) return -1;
  if (a->need[1] && !(g[1] = lz_astype(conv_grad_weight(p, C, X, W), W->dtype))) return -1;
  return 0;
}
static int jvp_conv(const lz_jvp_args *a, lz_array **t) {
  const lz_conv_params *p = a->node->params;
  lz_array *tx = a->tangents[0], *tw = a->tangents[1], *r = NULL, *q = NULL;
  if (tx) r = lz_conv_general(tx, W, p->stride, p->pad_lo, p->pad_hi, p->kdil, p->idil, p->groups,
                              p->flip);
  if (tw) q = lz_conv_general(X, tw, p->stride, p->pad_lo, p->pad_hi, p->kdil, p->idil, p->groups,
                              p->flip);
  t[0] = lz__sum_tangents(r, q, a->node->outputs[0]);
  return t[0] ? 0 : -1;
}

/* ---- fused ops as compositions -------------------------------------------------------------- */

static lz_array *last_mean(lz_array *v) { return lz_mean_axis(v, -1, true); }

/* softmax(scale q k^T + mask) v from basic ops, for an attention node (or its gradient node:
 * the same parameters and dtype) on inputs in[0..n): q (B,Hq,Lq,D), k (B,Hkv,Lk,D),
 * v (B,Hkv,Lk,Dv)[, mask][, sinks]. */
static lz_array *sdpa_composite(const lz_node *node, lz_array *const *in, int n) {
  const lz_sdpa_params *p = node->params;
  lz_array *x = in[0], *k = in[1], *v = in[2];
  int B = x->shape[0], Hq = x->shape[1], Lq = x->shape[2], D = x->shape[3];
  int Hkv = k->shape[1], Lk = k->shape[2], Dv = v->shape[3], rep = Hq / Hkv;
  lz_array *q5 = lz_reshape(x, (int[]){B, Hkv, rep, Lq, D}, 5);
  lz_array *k5 = lz_reshape(k, (int[]){B, Hkv, 1, Lk, D}, 5);
  lz_array *v5 = lz_reshape(v, (int[]){B, Hkv, 1, Lk, Dv}, 5);
  lz_dtype dt = node->outputs[0]->dtype;
  lz_array *s = lz_multiply(lz_matmul(q5, lz_swapaxes(k5, -1, -2)), lz_scalar(p->scale, dt));
  s = lz_reshape(s, (int[]){B, Hq, Lq, Lk}, 4);
  double low = dt == LZ_FLOAT16 ? -65504.0 : dt == LZ_BFLOAT16 ? -3.3895313892515355e38 : -FLT_MAX;
  lz_array *lowest = lz_scalar(low, dt); /* what the kernel gives masked scores */
  if (p->mask == LZ_SDPA_CAUSAL)
    s = lz_where(lz_tri(Lq, Lk, Lk - Lq, LZ_BOOL), s, lowest);
  else if (p->mask == LZ_SDPA_ARRAY)
    s = in[3]->dtype == LZ_BOOL ? lz_where(in[3], s, lowest) : lz_add(s, in[3]);
  if (p->has_sinks) { /* a leading score column per head, dropped after the softmax */
    lz_array *sk = lz_broadcast_to(lz_reshape(in[n - 1], (int[]){1, Hq, 1, 1}, 4),
                                   (int[]){B, Hq, Lq, 1}, 4);
    s = lz_softmax_axis(lz_concatenate((lz_array *[]){sk, s}, 2, -1), -1, true);
    s = lz_slice(s, (int[]){0, 0, 0, 1}, (int[]){B, Hq, Lq, Lk + 1}, NULL, 4);
  } else {
    s = lz_softmax_axis(s, -1, true);
  }
  lz_array *pr = lz_reshape(s, (int[]){B, Hkv, rep, Lq, Lk}, 5);
  return lz_reshape(lz_matmul(pr, v5), (int[]){B, Hq, Lq, Dv}, 4);
}

static int sdpa_closure(void *ctx, lz_array *const *in, int n, lz_array **out) {
  const lz_node *node = ctx;
  out[0] = lz_astype(sdpa_composite(node, in, n), node->outputs[0]->dtype);
  return out[0] ? 1 : -1;
}

/* The composition each fused node computes, on the node's inputs `in`. */
static int composite(void *ctx, lz_array *const *in, int n, lz_array **out) {
  lz_node *node = ctx;
  lz_array *x = in[0], *y = NULL;
  switch (node->op) {
  case LZ_OP_RMS_NORM: {
    const lz_norm_params *p = node->params;
    y = lz_multiply(x, lz_rsqrt(lz_add(last_mean(lz_square(x)), lz_float(p->eps))));
    if (p->has_weight) y = lz_multiply(y, in[1]);
    break;
  }
  case LZ_OP_LAYER_NORM: {
    const lz_norm_params *p = node->params;
    lz_array *d = lz_subtract(x, last_mean(x));
    y = lz_multiply(d, lz_rsqrt(lz_add(last_mean(lz_square(d)), lz_float(p->eps))));
    if (p->has_weight) y = lz_multiply(y, in[1]);
    if (p->has_bias) y = lz_add(y, in[p->has_weight ? 2 : 1]);
    break;
  }
  case LZ_OP_SCALED_DOT_PRODUCT_ATTENTION_VJP: { /* the vjp of the composition */
    lz_closure *f = lz_closure_new(sdpa_closure, node, NULL);
    if (!f) return -1;
    lz_array *grads[5] = {NULL, NULL, NULL, NULL, NULL};
    int rc = lz_vjp(f, in, n - 1, &in[n - 1], 1, NULL, grads);
    lz_closure_free(f);
    if (rc != 0) return -1;
    for (int i = 0; i < node->noutputs; i++) {
      lz_array *gi = grads[i < 3 ? i : n - 2];
      if (!(out[i] = lz_astype(gi, node->outputs[i]->dtype))) return -1;
    }
    return node->noutputs;
  }
  default: /* scaled_dot_product_attention */
    y = sdpa_composite(node, in, n);
  }
  out[0] = y ? lz_astype(y, node->outputs[0]->dtype) : NULL;
  return out[0] ? 1 : -1;
}

/* Differentiates the composition (every output's cotangent; a missing one is zero). */
static int vjp_composite(const lz_vjp_args *a, lz_array **g) {
  int n = a->node->ninputs, nout = a->node->noutputs;
  lz_array *cot[4];
  for (int k = 0; k < nout; k++) {
    const lz_array *o = a->node->outputs[k];
    cot[k] = a->cotans[k] ? a->cotans[k] : lz_zeros(o->shape, o->ndim, o->dtype);
    if (!cot[k]) return -1;
  }
  lz_closure *f = lz_closure_new(composite, a->node, NULL);
  if (!f) return -1;
  lz_array *grads[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
  int rc = lz_vjp(f, a->inputs, n, cot, nout, NULL, grads);
  lz_closure_free(f);
  if (rc != 0) return -1;
  for (int i = 0; i < a->node->ninputs; i++) {
    bool keep = a->need[i] && lz_dtype_is_float(a->inputs[i]->dtype);
    g[i] = keep ? grads[i] : NULL;
  }
  return 0;
}
static int jvp_composite(const lz_jvp_args *a, lz_array **t) {
  int n = a->node->ninputs;
  lz_array *tan[6];
  for (int i = 0; i < n; i++) {
    bool zero = !a->tangents[i] || !lz_dtype_is_float(a->inputs[i]->dtype);
    tan[i] = zero ? lz_zeros_like(a->inputs[i]) : a->tangents[i];
  }
  lz_closure *f = lz_closure_new(composite, a->node, NULL);
  if (!f) return -1;
  int rc = lz_jvp(f, a->inputs, n, tan, NULL, t);
  lz_closure_free(f);
  return rc == a->node->noutputs ? 0 : -1;
}

/* Attention's gradient is one fused node (cpu/fast_sdpa.c), unless an additive mask wants its
 * own gradient (then the composition's). */
static int vjp_sdpa(const lz_vjp_args *a, lz_array **g) {
  const lz_sdpa_params *p = a->node->params;
  int n = a->node->ninputs;
  if (p->mask == LZ_SDPA_ARRAY && a->need[3] && lz_dtype_is_float(a->inputs[3]->dtype))
    return vjp_composite(a, g);
  for (int i = 0; i < n; i++) g[i] = NULL;
  if (!C) return 0;
  lz_array *gr[4] = {NULL, NULL, NULL, NULL};
  if (lz__sdpa_vjp(p, a->inputs, n, C, gr) != 0) return -1;
  for (int i = 0; i < 3; i++) g[i] = a->need[i] ? gr[i] : NULL;
  if (p->has_sinks && a->need[n - 1]) g[n - 1] = gr[3];
  return 0;
}

/* The node's rope (same offsets and freqs) of v with another scale. */
static lz_array *rope_again(const lz_node *n, lz_array *const *in, lz_array *v, float scale) {
  const lz_rope_params *p = n->params;
  lz_array *freqs = p->has_freqs ? in[1] : NULL;
  if (!p->has_offsets)
    return lz_fast_rope(v, p->dims, p->traditional, p->base, scale, p->offset, freqs);
  lz_array *o = in[p->has_freqs ? 2 : 1];
  if (p->offset) o = lz_add(o, lz_scalar(p->offset, LZ_INT32));
  return lz_fast_rope_v2(v, p->dims, p->traditional, p->base, scale, o, freqs);
}

/* rope rotates pairs of features by position-dependent angles: the transpose rotates back
 * (the same op with the angles negated). freqs and offsets get no derivative. */
static int vjp_rope(const lz_vjp_args *a, lz_array **g) {
  const lz_rope_params *p = a->node->params;
  lz_array *freqs = p->has_freqs ? a->inputs[1] : NULL;
  if (p->has_freqs) g[1] = NULL;
  if (p->has_offsets) g[p->has_freqs ? 2 : 1] = NULL;
  if (freqs && a->need[1])
    return lz__error(LZ_ERROR_NOT_IMPLEMENTED, a->who,
                     "lz_fast_rope has no derivative with respect to freqs");
  return done(&g[0], rope_again(a->node, a->inputs, C, -p->scale));
}
static int jvp_rope(const lz_jvp_args *a, lz_array **t) {
  const lz_rope_params *p = a->node->params;
  lz_array *freqs = p->has_freqs ? a->inputs[1] : NULL;
  if (freqs && a->tangents[1])
    return lz__error(LZ_ERROR_NOT_IMPLEMENTED, a->who,
                     "lz_fast_rope has no derivative with respect to freqs");
  t[0] = NULL;
  if (!a->tangents[0]) return 0;
  return done(&t[0], rope_again(a->node, a->inputs, a->tangents[0], p->scale));
}

const lz_rule lz__rules_fast[LZ_OP_COUNT] = {
    [LZ_OP_CONVOLUTION] = {vjp_conv, jvp_conv, NULL},
    [LZ_OP_RMS_NORM] = {vjp_composite, jvp_composite, NULL},
    [LZ_OP_LAYER_NORM] = {vjp_composite, jvp_composite, NULL},
    [LZ_OP_SCALED_DOT_PRODUCT_ATTENTION] = {vjp_sdpa, jvp_composite, NULL},
    [LZ_OP_SCALED_DOT_PRODUCT_ATTENTION_VJP] = {vjp_composite, jvp_composite, NULL},
    [LZ_OP_ROPE] = {vjp_rope, jvp_rope, NULL},
};
