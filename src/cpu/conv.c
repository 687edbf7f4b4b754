/* The convolution kernel. Every convolution (1-3 spatial dims, strides, padding, kernel and
 * input dilation, groups, flip) runs as a 3-d one with leading dims of size 1, on float32 data:
 * inputs of another dtype or layout are packed into contiguous float32 first, and a float16 or
 * bfloat16 result is computed in float32 scratch and rounded once at the end.
 *
 * Three paths, chosen by shape:
 * - pointwise (1x1 kernel, stride 1, no padding): the input already is the (M, C) matrix, so
 *   each group is one GEMM straight on it;
 * - depthwise (one input channel per group): a direct loop (cpu/conv_direct.c), since a GEMM
 *   with an inner dimension of kvol would be mostly overhead;
 * - general: im2col + GEMM. The (M, kvol * Cg) patch matrix is built block by block (a block of
 *   rows sized to stay in cache, filled by all threads) and multiplied by the weight with one
 *   threaded GEMM per block and group. Measured on the ResNet 3x3 layer this beats building
 *   the whole patch matrix at once (it does not fit in cache) and one-GEMM-per-tap schemes. */
#include "conv.h"

#include "../core/threads.h"
#include "linalg_pack.h"

/* Patch-matrix block size, in floats (1 MB): 256K-4M floats measured within noise of each
 * other on the ResNet layer except 4M+ (slower: the block leaves the cache). */
enum { COL_BLOCK_FLOATS = 1 << 18 };

static void geom_init(lz_conv_geom *g, const lz_conv_params *p, const lz_array *x,
                      const lz_array *w) {
  int off = LZ_CONV_MAX_SPATIAL - p->nsp;
  g->N = x->shape[0];
  g->C = x->shape[x->ndim - 1];
  g->O = w->shape[0];
  g->G = p->groups;
  g->Cg = g->C / g->G;
  g->Og = g->O / g->G;
  g->kvol = 1;
  g->M = g->N;
  for (int d = 0; d < 3; d++) {
    int s = d - off;
    bool real = s >= 0;
    g->in[d] = real ? x->shape[1 + s] : 1;
    g->k[d] = real ? w->shape[1 + s] : 1;
    g->stride[d] = real ? p->stride[s] : 1;
    g->pad[d] = real ? p->pad_lo[s] : 0;
    g->kdil[d] = real ? p->kdil[s] : 1;
    g->idil[d] = real ? p->idil[s] : 1;
    int64_t ind = g->in[d] > 0 ? (g->in[d] - 1) * g->idil[d] + 1 : 0;
    int64_t hi = real ? p->pad_hi[s] : 0;
    g->out[d] = (ind + g->pad[d] + hi - (g->k[d] - 1) * g->kdil[d] - 1) / g->stride[d] + 1;
    g->kvol *= g->k[d];
    g->M *= g->out[d];
  }
}

/* Input index along dim d for output index o and tap t, or -1 when it falls in the padding or
 * between dilated input elements. */
static inline int64_t in_index(const lz_conv_geom *g, int d, int64_t o, int64_t t) {
  int64_t p = o * g->stride[d] + t * g->kdil[d] - g->pad[d];
  if (p < 0) return -1;
  if (g->idil[d] > 1) {
    if (p % g->idil[d]) return -1;
    p /= g->idil[d];
  }
  return p < g->in[d] ? p : -1;
}

/* ---- im2col + GEMM ---- */

typedef struct col_job {
  const lz_conv_geom *g;
  const float *x;
  float *col; /* rows [m0, m0 + rows) of the patch matrix, kvol * Cg floats each */
  int64_t m0, group;
} col_job;

static void col_rows(void *vctx, int64_t begin, int64_t end) {
  const col_job *j = vctx;
  const lz_conv_geom *g = j->g;
  int64_t Cg = g->Cg, K = g->kvol * Cg;
  size_t bytes = (size_t)Cg * sizeof(float);
  for (int64_t r = begin; r < end; r++) {
    int64_t m = j->m0 + r, o2 = m % g->out[2], t = m / g->out[2];
    int64_t o1 = t % g->out[1];
    t /= g->out[1];
    int64_t o0 = t % g->out[0], n = t / g->out[0];
    float *dst = j->col + r * K;
    const float *xn = j->x + n * g->in[0] * g->in[1] * g->in[2] * g->C + j->group * Cg;
    for (int64_t k0 = 0; k0 < g->k[0]; k0++) {
      int64_t i0 = in_index(g, 0, o0, k0);
      for (int64_t k1 = 0; k1 < g->k[1]; k1++) {
        int64_t i1 = i0 < 0 ? -1 : in_index(g, 1, o1, k1);
        for (int64_t k2 = 0; k2 < g->k[2]; k2++, dst += Cg) {
          int64_t i2 = i1 < 0 ? -1 : in_index(g, 2, o2, k2);
          if (i2 < 0)
            memset(dst, 0, bytes);
          else
            memcpy(dst, xn + ((i0 * g->in[1] + i1) * g->in[2] + i2) * g->C, bytes);
        }
      }
    }
  }
}

/* y (M, O) = conv(x, wp) with wp packed (O, kvol, Cg). Returns 0 or -1 (no memory). */
static int conv_im2col(const lz_conv_geom *g, const float *x, const float *wp, float *y) {
  int64_t K = g->kvol * g->Cg;
  int64_t rows = COL_BLOCK_FLOATS / K;
  if (rows < 16) rows = 16;
  if (rows > g->M) rows = g->M;
  size_t cap;
  float *col = lz_cpu_scratch((size_t)(rows * K) * sizeof(float), &cap, "lz_conv");
  if (!col) return -1;
  col_job j = {.g = g, .x = x, .col = col};
  int64_t grain = 16384 / K + 1; /* copy at least ~16K floats per task */
  for (int64_t m0 = 0; m0 < g->M; m0 += rows) {
    int64_t mb = g->M - m0 < rows ? g->M - m0 : rows;
    j.m0 = m0;
    for (int64_t gr = 0; gr < g->G; gr++) {
      j.group = gr;
      lz__parallel_for(mb, grain, col_rows, &j);
      lz_cpu_gemm(LZ_FLOAT32, false, true, mb, g->Og, K, 1.0, col, K, wp + gr * g->Og * K, K, 0.0,
                  y + m0 * g->O + gr * g->Og, g->O);
    }
  }
  lz_cpu_scratch_free(col, cap);
  return 0;
}

/* ---- weights ---- */

/* The weight as contiguous float32 (O, kvol, Cg), kernel reversed when flip: w itself when it
 * already is (*cap == 0), else scratch to free. For the depthwise path (Cg == 1) it is
 * transposed to (kvol, O) so the loop over channels is contiguous. */
static const float *pack_weight(const lz_conv_geom *g, const lz_array *w, bool flip, bool tap_major,
                                size_t *cap) {
  size_t n = (size_t)w->size;
  bool plain = w->dtype == LZ_FLOAT32 && lz__is_contiguous(w);
  *cap = 0;
  if (plain && !flip && !tap_major) return (const float *)lz__data_ptr(w); /* used in place */
  float *wp = lz_cpu_scratch(n * sizeof(float), cap, "lz_conv");
  if (!wp) return NULL;
  size_t tcap = 0;
  float *tmp = (float *)lz__data_ptr(w);
  if (!plain) {
    tmp = lz_cpu_scratch(n * sizeof(float), &tcap, "lz_conv");
    if (!tmp) {
      lz_cpu_scratch_free(wp, *cap);
      return NULL;
    }
    lz_cpu_pack(tmp, LZ_FLOAT32, w);
  }
  int64_t kv = g->kvol, Cg = g->Cg;
  for (int64_t o = 0; o < g->O; o++)
    for (int64_t t = 0; t < kv; t++) {
      int64_t ts = flip ? kv - 1 - t : t; /* reversing every spatial dim reverses the tap index */
      const float *src = tmp + (o * kv + ts) * Cg;
      if (tap_major)
        wp[t * g->O + o] = src[0];
      else
        memcpy(wp + (o * kv + t) * Cg, src, (size_t)Cg * sizeof(float));
    }
  if (tcap) lz_cpu_scratch_free(tmp, tcap);
  return wp;
}

void lz_cpu_conv_pack_weight(const lz_array *w, bool reverse, float *wp) {
  lz_cpu_pack(wp, LZ_FLOAT32, w);
  if (!reverse) return;
  int64_t kv = 1, Cg = w->shape[w->ndim - 1];
  for (int d = 1; d < w->ndim - 1; d++) kv *= w->shape[d];
  for (int64_t o = 0; o < w->shape[0]; o++) /* reversing every spatial dim reverses the tap */
    for (int64_t t = 0; t < kv / 2; t++) {
      float *a = wp + (o * kv + t) * Cg, *b = wp + (o * kv + kv - 1 - t) * Cg;
      for (int64_t c = 0; c < Cg; c++) {
        float v = a[c];
        a[c] = b[c], b[c] = v;
      }
    }
}

/* ---- the kernel ---- */

int lz_cpu_conv(lz_node *node, lz_array **outs) {
  const lz_conv_params *p = node->params;
  lz_array *x = node->inputs[0], *w = node->inputs[1], *out = outs[0];
  if (!LZ_ASSERT(p && p->groups >= 1 && p->nsp == x->ndim - 2)) return -1;
  if (lz__alloc_output(out, "lz_conv") != 0) return -1;
  if (out->size == 0) return 0;
  if (lz_cpu_conv_path() != LZ_CONV_PATH_REF && x->size > 0) {
    int r = lz_cpu_conv_onednn(p, x, w, out);
    if (r <= 0) return r;
  }
  lz_cpu_conv_count_ref();
  lz_conv_geom g;
  geom_init(&g, p, x, w);

  /* depthwise: one input channel per group; a single input channel (a grayscale first layer)
   * is one GEMM with K = kvol instead (the direct loop's per-channel gather was 10x slower) */
  bool pointwise = g.kvol == 1, depthwise = g.Cg == 1 && g.G > 1 && !pointwise;
  for (int d = 0; d < 3; d++)
    pointwise =
        pointwise && g.stride[d] == 1 && g.pad[d] == 0 && g.idil[d] == 1 && g.out[d] == g.in[d];

  size_t xcap = 0, wcap = 0, ycap = 0;
  const float *xs = (const float *)lz__data_ptr(x);
  float *xbuf = NULL, *ybuf = NULL;
  const float *wp = NULL;
  int rc = -1;
  if (x->dtype != LZ_FLOAT32 || !lz__is_contiguous(x)) {
    if (x->size > 0) {
      xbuf = lz_cpu_scratch((size_t)x->size * sizeof(float), &xcap, "lz_conv");
      if (!xbuf) return -1;
      lz_cpu_pack(xbuf, LZ_FLOAT32, x);
    }
    xs = xbuf;
  }
  float *y = (float *)lz__data_ptr(out);
  if (out->dtype != LZ_FLOAT32) {
    ybuf = lz_cpu_scratch((size_t)out->size * sizeof(float), &ycap, "lz_conv");
    if (!ybuf) goto done;
    y = ybuf;
  }
  if (x->size == 0 || g.kvol == 0 || g.Cg == 0) { /* nothing to sum: zeros */
    memset(y, 0, (size_t)out->size * sizeof(float));
  } else {
    wp = pack_weight(&g, w, p->flip, depthwise, &wcap);
    if (!wp) goto done;
    if (pointwise) {
      for (int64_t gr = 0; gr < g.G; gr++)
        lz_cpu_gemm(LZ_FLOAT32, false, true, g.M, g.Og, g.Cg, 1.0, xs + gr * g.Cg, g.C,
                    wp + gr * g.Og * g.Cg, g.Cg, 0.0, y + gr * g.Og, g.O);
    } else if (depthwise) {
      lz_cpu_conv_depthwise(&g, xs, wp, y);
    } else if (conv_im2col(&g, xs, wp, y) != 0) {
      goto done;
    }
  }
  if (ybuf) lz_cpu_unpack(out, ybuf, LZ_FLOAT32);
  rc = 0;
done:
  if (wcap) lz_cpu_scratch_free((void *)wp, wcap);
  if (ybuf) lz_cpu_scratch_free(ybuf, ycap);
  if (xbuf) lz_cpu_scratch_free(xbuf, xcap);
  return rc;
}
