/* The 16-lane kernels of the blocked ops: attention's softmax rows (cpu/fast_sdpa.c), the
 * depthwise convolution's row (cpu/conv_direct.c) and quantized matmul (cpu/quantize_mm.c).
 * Written against the layer (cpu/simd16.h) and included by cpu/simd16_kernels.h, so they are
 * built natively and on the AVX2 emulation like the rest; their callers keep the scalar and
 * AVX2 versions beside them, and the tests compare each with the scalar path. */
#include "quantize.h"

/* ---- attention ---- */

/* max of s[0..n), NaN ignored (-inf for n == 0), as row_max_base */
static float sd_row_max(const float *s, int64_t n) {
  V m0 = K(-INFINITY), m1 = m0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) m0 = MAX(LOAD(s + i), m0), m1 = MAX(LOAD(s + i + 16), m1);
  for (; i < n; i += 16) {
    M t = TAIL(n - i);
    m0 = MAX(BLEND(t, m0, LOADZ(t, s + i)), m0);
  }
  return hext(MAX(m0, m1), true);
}

/* s = exp(s - m) in place; returns the sum */
static float sd_exp_sum(float *s, int64_t n, float m) {
  V mv = K(m), a0 = ZERO(), a1 = ZERO();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    V e0 = vexp(SUB(LOAD(s + i), mv)), e1 = vexp(SUB(LOAD(s + i + 16), mv));
    STORE(s + i, e0), STORE(s + i + 16, e1);
    a0 = ADD(a0, e0), a1 = ADD(a1, e1);
  }
  for (; i < n; i += 16) {
    M t = TAIL(n - i);
    V e = MASKZ(t, vexp(SUB(LOADZ(t, s + i), mv)));
    STOREM(s + i, t, e);
    a0 = ADD(a0, e);
  }
  return (float)s16_hsum_d(ADD(a0, a1));
}

/* o *= c */
static void sd_scale(float *o, int64_t n, float c) {
  V cv = K(c);
  for (int64_t i = 0; i < n; i += 16) {
    M t = TAIL(n - i);
    STOREM(o + i, t, MUL(LOADZ(t, o + i), cv));
  }
}

/* The gradient's row: p *= inv, delta = sum(p * ds), ds = p * (ds - delta); returns delta. */
static float sd_grad_row(float *p, float *ds, int64_t n, float inv) {
  V iv = K(inv), acc = ZERO();
  for (int64_t i = 0; i < n; i += 16) {
    M t = TAIL(n - i);
    V pv = MUL(LOADZ(t, p + i), iv);
    STOREM(p + i, t, pv);
    acc = FMA(pv, LOADZ(t, ds + i), acc);
  }
  float delta = (float)s16_hsum_d(acc);
  V dv = K(delta);
  for (int64_t i = 0; i < n; i += 16) {
    M t = TAIL(n - i);
    STOREM(ds + i, t, MUL(LOADZ(t, p + i), SUB(LOADZ(t, ds + i), dv)));
  }
  return delta;
}

/* ---- depthwise convolution: acc += x * w ---- */

static void cv_fma_row(float *acc, const float *x, const float *w, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) STORE(acc + i, FMA(LOAD(x + i), LOAD(w + i), LOAD(acc + i)));
  if (i < n) {
    M t = TAIL(n - i);
    STOREM(acc + i, t, FMA(LOADZ(t, x + i), LOADZ(t, w + i), LOADZ(t, acc + i)));
  }
}

/* ---- quantized matmul (lz_qmm_ctx, ranges as cpu/quantize_mm.c's kernels) ---- */

/* lut[code] for a 16-value table (FP4) */
static inline V q_lut16(const float *lut, VI code) {
  return BLEND(CMPEQI(ANDI(code, KI(8)), KI(8)), PERM8(lut, code), PERM8(lut + 8, code));
}

/* Codes j0 .. j0 + 15 of a group of nw words (any bit width): code j is bits [j bits, (j + 1)
 * bits) of the stream. The words it spans (at most 5) load masked to the group, each lane picks
 * its word and the next, and shifts them together; lb is lane * bits. */
static inline VI q_codes16(const uint32_t *w, int nw, int bits, int j0, VI lb) {
  int w0 = j0 * bits >> 5;
  VI words = AS_I(LOADZ(TAIL(nw - w0), (const float *)(w + w0)));
  VI p = ADDI(lb, KI(j0 * bits - 32 * w0)); /* bit offset from word w0 */
  VI k = SRLI(p, 5), sh = ANDI(p, KI(31));
  VI lo = SRLV(PERMI(words, k), sh), hi = SLLV(PERMI(words, ADDI(k, KI(1))), SUBI(KI(32), sh));
  return ANDI(ORI(lo, hi), KI((1 << bits) - 1)); /* sh = 0: hi shifted by 32 is 0 */
}

/* One group's dequantized weights: d[j] = s * value(code j) + b (gs a multiple of 16). */
static inline void q_group(const lz_qmm_ctx *c, const uint32_t *w, float s, float b, float *d) {
  int bits = c->bits, nw = c->gs * bits / 32;
  const int32_t lanes[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  VI lb = CVTT(MUL(CVTIF(LOADI(lanes)), K((float)bits)));
  V sv = K(s), bv = K(b);
  for (int j = 0; j < c->gs; j += 16) {
    VI code = q_codes16(w, nw, bits, j, lb);
    V v;
    if (!c->lut) {
      v = CVTIF(code);
    } else if (bits == 4) {
      v = q_lut16(c->lut, code);
    } else { /* FP8's 256 values */
      int32_t ci[16];
      float t[16];
      STORE((float *)ci, AS_F(code));
      for (int l = 0; l < 16; l++) t[l] = c->lut[ci[l]];
      v = LOAD(t);
    }
    STORE(d + j, FMA(v, sv, bv));
  }
}

/* W is (N, K): output columns [n0, n1), every bit width; each dequantized group meets every
 * row of x, the products summed in one vector per row. */
static void q_t(void *ctx, int64_t n0, int64_t n1) {
  const lz_qmm_ctx *c = ctx;
  int gs = c->gs;
  int64_t Kd = c->K, G = Kd / gs, gw = gs * c->bits / 32, Mr = c->M;
  float q[LZ_QMM_MAX_GS];
  V acc[LZ_QMM_DIRECT_ROWS];
  for (int64_t n = n0; n < n1; n++) {
    const uint32_t *w = c->w + n * G * gw;
    const float *s = c->scales + n * G, *b = c->biases + n * G;
    for (int64_t m = 0; m < Mr; m++) acc[m] = ZERO();
    for (int64_t g = 0; g < G; g++) {
      q_group(c, w + g * gw, s[g], b[g], q);
      const float *x = c->x + g * gs;
      for (int j = 0; j < gs; j += 16) {
        V qv = LOAD(q + j);
        for (int64_t m = 0; m < Mr; m++) acc[m] = FMA(LOAD(x + m * Kd + j), qv, acc[m]);
      }
    }
    for (int64_t m = 0; m < Mr; m++) c->out[m * c->N + n] = (float)s16_hsum_d(acc[m]);
  }
}

/* W is (K, N), groups along N: column groups [g0, g1). */
static void q_n(void *ctx, int64_t g0, int64_t g1) {
  const lz_qmm_ctx *c = ctx;
  int gs = c->gs;
  int64_t Gn = c->N / gs, gw = gs * c->bits / 32, Mr = c->M;
  float q[LZ_QMM_MAX_GS], acc[LZ_QMM_DIRECT_ROWS][LZ_QMM_MAX_GS];
  for (int64_t g = g0; g < g1; g++) {
    for (int64_t m = 0; m < Mr; m++)
      for (int j = 0; j < gs; j += 16) STORE(acc[m] + j, ZERO());
    for (int64_t k = 0; k < c->K; k++) {
      q_group(c, c->w + (k * Gn + g) * gw, c->scales[k * Gn + g], c->biases[k * Gn + g], q);
      for (int64_t m = 0; m < Mr; m++) {
        V xv = K(c->x[m * c->K + k]);
        for (int j = 0; j < gs; j += 16) STORE(acc[m] + j, FMA(xv, LOAD(q + j), LOAD(acc[m] + j)));
      }
    }
    for (int64_t m = 0; m < Mr; m++)
      for (int j = 0; j < gs; j += 16) STORE(c->out + m * c->N + g * gs + j, LOAD(acc[m] + j));
  }
}

/* Dequantized tile rows [r0, r1) for the BLAS path, as dequant_tile_body. */
static inline void q_tile(const lz_qmm_ctx *c, int64_t r0, int64_t r1, bool transpose) {
  int gs = c->gs;
  int64_t gw = gs * c->bits / 32;
  for (int64_t r = r0; r < r1; r++) {
    int64_t G = transpose ? c->K / gs : c->tn / gs;
    int64_t g0 = transpose ? (c->n0 + r) * (c->K / gs) : r * (c->N / gs) + c->n0 / gs;
    float *dst = c->tile + r * (transpose ? c->K : c->tn);
    for (int64_t g = 0; g < G; g++)
      q_group(c, c->w + (g0 + g) * gw, c->scales[g0 + g], c->biases[g0 + g], dst + g * gs);
  }
}
static void q_tile_t(void *c, int64_t b, int64_t e) { q_tile(c, b, e, true); }
static void q_tile_n(void *c, int64_t b, int64_t e) { q_tile(c, b, e, false); }

/* W is (N, K), bits 2, 4 or 8 (per = 32 / bits codes a word), K a multiple of 16 * per, no
 * table or FP4's 16 values. Sixteen words load as one vector; shifting it by `bits` j times
 * gives code j of each word, the codes at k = per * lane + j of the chunk, so x comes
 * permuted (c->xp, chunk by chunk: xp[16 j + lane] = x[per lane + j]). Each lane's word lies in
 * one group: its scale and bias are a per-lane vector, and a code becomes its weight with one
 * FMA shared by every row of x. */
static void q_tw(void *ctx, int64_t n0, int64_t n1) {
  const lz_qmm_ctx *c = ctx;
  int bits = c->bits, per = 32 / bits, chunk = 16 * per, gs = c->gs;
  int64_t Kd = c->K, C = Kd / chunk, G = Kd / gs, Mr = c->M;
  int gpc = chunk / gs; /* groups per chunk; 0: a group spans chunks */
  int32_t lane_g[16];
  for (int i = 0; i < 16; i++) lane_g[i] = gpc > 1 ? per * i / gs : 0;
  VI lg = LOADI(lane_g), cmask = KI((1 << bits) - 1);
  const float *lut = c->lut;
  V acc[LZ_QMM_DIRECT_ROWS];
  for (int64_t n = n0; n < n1; n++) {
    const uint32_t *w = c->w + n * (Kd / per);
    const float *s = c->scales + n * G, *b = c->biases + n * G;
    for (int64_t m = 0; m < Mr; m++) acc[m] = ZERO();
    for (int64_t ch = 0; ch < C; ch++) {
      VI v = LOADI(w + ch * 16);
      V sv, bv;
      if (gpc <= 1) {
        int64_t g = ch * chunk / gs;
        sv = K(s[g]), bv = K(b[g]);
      } else if (ch * gpc + 8 <= G) { /* 8 scales readable from the chunk's first on */
        sv = PERM8(s + ch * gpc, lg), bv = PERM8(b + ch * gpc, lg);
      } else {
        float st[16], bt[16];
        for (int i = 0; i < 16; i++) st[i] = s[ch * gpc + lane_g[i]], bt[i] = b[ch * gpc + lane_g[i]];
        sv = LOAD(st), bv = LOAD(bt);
      }
      const float *xp = c->xp + ch * chunk;
      for (int j = 0; j < per; j++) {
        VI code = ANDI(v, cmask);
        v = SRLI(v, bits);
        V qf = lut ? q_lut16(lut, code) : CVTIF(code);
        V wq = FMA(qf, sv, bv);
        for (int64_t m = 0; m < Mr; m++) acc[m] = FMA(wq, LOAD(xp + m * Kd + 16 * j), acc[m]);
      }
    }
    for (int64_t m = 0; m < Mr; m++) c->out[m * c->N + n] = (float)s16_hsum_d(acc[m]);
  }
}
