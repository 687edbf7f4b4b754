/* quantized_matmul: x (M, K) times affine-quantized weights, in float32.
 *
 * Few rows of x (M < QMM_DIRECT_ROWS, e.g. token-by-token decoding) are memory bound: every
 * weight is read once, a group of codes is unpacked to floats and used for all rows of x.
 * With transpose (W is (N, K)) a group contributes scale * dot(x_g, q) + bias * sum(x_g), so
 * the inner loop is a plain float dot product; output columns split across threads. Without
 * transpose (W is (K, N), groups along N) each thread owns a range of column groups and
 * accumulates rows of dequantized weights (an axpy per row of x).
 * Many rows are compute bound: tiles of W are dequantized to float32 (in parallel) and handed
 * to BLAS sgemm. The inner loops are written so that gcc vectorises them; on x86-64 they are
 * compiled a second time for AVX2+FMA and chosen at run time. On the AVX-512 paths the 16-lane
 * kernels (cpu/simd16_blocks.h) run instead: they dequantize each group with one FMA (no
 * sums of x), and read 2-, 4- and 8-bit weights a vector of whole words at a time. */
#include "../core/isa.h"
#include <cblas.h>
#include <stdlib.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "../core/threads.h"
#include "quantize.h"
#include "simd16_table.h"

enum { QMM_DIRECT_ROWS = LZ_QMM_DIRECT_ROWS, QMM_MAX_GS = LZ_QMM_MAX_GS };

static bool use_simd = true;
void lz_cpu_qmm_use_simd(bool on) { use_simd = on; }

typedef lz_qmm_ctx qmm_ctx;

static inline __attribute__((always_inline)) float dot(const float *a, const float *b, int n) {
  float p[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int k = 0; k < n; k += 8)
    for (int j = 0; j < 8; j++) p[j] += a[k + j] * b[k + j];
  return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
}

/* Output columns [n0, n1) of x @ W.T. */
static inline __attribute__((always_inline)) void qmm_t_body(const qmm_ctx *c, int64_t n0,
                                                             int64_t n1) {
  int gs = c->gs, bits = c->bits;
  int64_t G = c->K / gs, gw = gs * bits / 32, M = c->M;
  float q[QMM_MAX_GS], acc[QMM_DIRECT_ROWS];
  for (int64_t n = n0; n < n1; n++) {
    const uint32_t *w = c->w + n * G * gw;
    const float *s = c->scales + n * G, *b = c->biases + n * G;
    for (int64_t m = 0; m < M; m++) acc[m] = 0;
    for (int64_t g = 0; g < G; g++) {
      lz_cpu_q_unpack(w + g * gw, bits, gs, q);
      if (c->lut)
        for (int j = 0; j < gs; j++) q[j] = c->lut[(int)q[j]];
      for (int64_t m = 0; m < M; m++)
        acc[m] += s[g] * dot(c->x + m * c->K + g * gs, q, gs) + b[g] * c->xsum[m * G + g];
    }
    for (int64_t m = 0; m < M; m++) c->out[m * c->N + n] = acc[m];
  }
}

/* Column groups [g0, g1) of x @ W (W is (K, N), groups along N). */
static inline __attribute__((always_inline)) void qmm_n_body(const qmm_ctx *c, int64_t g0,
                                                             int64_t g1) {
  int gs = c->gs, bits = c->bits;
  int64_t Gn = c->N / gs, gw = gs * bits / 32, M = c->M;
  float q[QMM_MAX_GS], acc[QMM_DIRECT_ROWS][QMM_MAX_GS];
  for (int64_t g = g0; g < g1; g++) {
    for (int64_t m = 0; m < M; m++)
      for (int j = 0; j < gs; j++) acc[m][j] = 0;
    for (int64_t k = 0; k < c->K; k++) {
      lz_cpu_q_unpack(c->w + (k * Gn + g) * gw, bits, gs, q);
      if (c->lut)
        for (int j = 0; j < gs; j++) q[j] = c->lut[(int)q[j]];
      float s = c->scales[k * Gn + g], b = c->biases[k * Gn + g];
      for (int j = 0; j < gs; j++) q[j] = s * q[j] + b;
      for (int64_t m = 0; m < M; m++) {
        float xv = c->x[m * c->K + k];
        for (int j = 0; j < gs; j++) acc[m][j] += xv * q[j];
      }
    }
    for (int64_t m = 0; m < M; m++)
      for (int j = 0; j < gs; j++) c->out[m * c->N + g * gs + j] = acc[m][j];
  }
}

/* Dequantizes tile rows [r0, r1): transpose, rows n of W (each K long); else rows k of W,
 * columns [n0, n0 + tn). */
static inline __attribute__((always_inline)) void dequant_tile_body(const qmm_ctx *c,
                                                                    int64_t r0, int64_t r1,
                                                                    bool transpose) {
  int gs = c->gs, bits = c->bits;
  int64_t gw = gs * bits / 32;
  for (int64_t r = r0; r < r1; r++) {
    int64_t G = transpose ? c->K / gs : c->tn / gs, g0 = transpose ? (c->n0 + r) * (c->K / gs)
                                                                   : r * (c->N / gs) + c->n0 / gs;
    float *dst = c->tile + r * (transpose ? c->K : c->tn);
    for (int64_t g = 0; g < G; g++) {
      float *d = dst + g * gs;
      lz_cpu_q_unpack(c->w + (g0 + g) * gw, bits, gs, d);
      if (c->lut)
        for (int j = 0; j < gs; j++) d[j] = c->lut[(int)d[j]];
      float s = c->scales[g0 + g], b = c->biases[g0 + g];
      for (int j = 0; j < gs; j++) d[j] = s * d[j] + b;
    }
  }
}

static void qmm_t_generic(void *c, int64_t b, int64_t e) { qmm_t_body(c, b, e); }
static void qmm_n_generic(void *c, int64_t b, int64_t e) { qmm_n_body(c, b, e); }
static void tile_t_generic(void *c, int64_t b, int64_t e) { dequant_tile_body(c, b, e, true); }
static void tile_n_generic(void *c, int64_t b, int64_t e) { dequant_tile_body(c, b, e, false); }

#if defined(__x86_64__) && defined(__GNUC__)
#define QMM_AVX2 __attribute__((target("avx2,fma")))
QMM_AVX2 static void qmm_t_avx2(void *c, int64_t b, int64_t e) { qmm_t_body(c, b, e); }
QMM_AVX2 static void qmm_n_avx2(void *c, int64_t b, int64_t e) { qmm_n_body(c, b, e); }
QMM_AVX2 static void tile_t_avx2(void *c, int64_t b, int64_t e) { dequant_tile_body(c, b, e, true); }
QMM_AVX2 static void tile_n_avx2(void *c, int64_t b, int64_t e) { dequant_tile_body(c, b, e, false); }

/* 4 bits, transpose, K % 64 == 0. Eight words (64 codes) load as one vector; shifting it by 4 j
 * gives code j of each word, i.e. the codes at k = 8 i + j, so x is permuted once per call into
 * that order (xp[64 c + 8 j + i] = x[64 c + 8 i + j]). Codes are dequantized with one FMA
 * (scale, bias per lane: groups of 32 cover half a vector) and shared by every row of x. */
QMM_AVX2 static void qmm_t4_avx2(void *ctx, int64_t n0, int64_t n1) {
  const qmm_ctx *c = ctx;
  int64_t K = c->K, C = K / 64, M = c->M, G = K / c->gs;
  int gs = c->gs;
  const __m256i mask = _mm256_set1_epi32(15);
  for (int64_t n = n0; n < n1; n++) {
    const uint32_t *w = c->w + n * (K / 8);
    const float *s = c->scales + n * G, *b = c->biases + n * G;
    __m256 acc[QMM_DIRECT_ROWS];
    for (int64_t m = 0; m < M; m++) acc[m] = _mm256_setzero_ps();
    for (int64_t ch = 0; ch < C; ch++) {
      __m256i v = _mm256_loadu_si256((const __m256i *)(w + ch * 8));
      __m256 sv, bv;
      if (gs == 32) {
        sv = _mm256_setr_m128(_mm_set1_ps(s[2 * ch]), _mm_set1_ps(s[2 * ch + 1]));
        bv = _mm256_setr_m128(_mm_set1_ps(b[2 * ch]), _mm_set1_ps(b[2 * ch + 1]));
      } else {
        sv = _mm256_set1_ps(s[ch * 64 / gs]);
        bv = _mm256_set1_ps(b[ch * 64 / gs]);
      }
      const float *xp = c->xp + ch * 64;
      for (int j = 0; j < 8; j++) {
        __m256 wq = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(v, mask)), sv, bv);
        v = _mm256_srli_epi32(v, 4);
        for (int64_t m = 0; m < M; m++)
          acc[m] = _mm256_fmadd_ps(wq, _mm256_loadu_ps(xp + m * K + 8 * j), acc[m]);
      }
    }
    for (int64_t m = 0; m < M; m++) {
      __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc[m]), _mm256_extractf128_ps(acc[m], 1));
      h = _mm_add_ps(h, _mm_movehl_ps(h, h));
      h = _mm_add_ss(h, _mm_movehdup_ps(h));
      c->out[m * c->N + n] = _mm_cvtss_f32(h);
    }
  }
}

static bool have_avx2(void) { return lz_isa_path() >= LZ_ISA_AVX2; /* core/isa.h */ }
#define PICK(name) (use_simd && have_avx2() ? name##_avx2 : name##_generic)
#else
#define PICK(name) name##_generic
#endif

/* The 16-lane kernel when the path is an AVX-512 one (cpu/simd16_table.h), else PICK's. */
#define PICK16(s16, entry, name) ((s16) ? (s16)->entry : PICK(name))

/* x permuted for the whole-word kernels: within each chunk of lanes * per values,
 * xp[lanes j + i] = x[per i + j] (code j of word i meets it). NULL when out of memory. */
static float *permute_x(const qmm_ctx *c, int lanes, int per) {
  float *xp = malloc((size_t)(c->M * c->K) * sizeof(float));
  if (!xp) return NULL;
  int64_t chunk = (int64_t)lanes * per;
  for (int64_t m = 0; m < c->M; m++)
    for (int64_t ch = 0; ch < c->K / chunk; ch++) {
      const float *x = c->x + m * c->K + ch * chunk;
      float *d = xp + m * c->K + ch * chunk;
      for (int i = 0; i < lanes; i++)
        for (int j = 0; j < per; j++) d[lanes * j + i] = x[per * i + j];
    }
  return xp;
}

static int qmm_blas(qmm_ctx *c, bool transpose, const lz_s16_kernels *s16) {
  /* Tiles of about 1M floats, a whole number of groups wide. */
  int64_t tn = ((1 << 20) / c->K) / c->gs * c->gs;
  if (tn < c->gs) tn = c->gs;
  if (tn > c->N) tn = c->N;
  c->tile = malloc((size_t)(tn * c->K) * sizeof(float));
  if (!c->tile)
    return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_quantized_matmul", "out of memory (tile)");
  for (int64_t n0 = 0; n0 < c->N; n0 += tn) {
    c->n0 = n0;
    c->tn = n0 + tn <= c->N ? tn : c->N - n0;
    if (transpose) {
      lz__parallel_for(c->tn, 1 + 16384 / c->K, PICK16(s16, qmm_tile_t, tile_t), c);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)c->M, (int)c->tn, (int)c->K, 1.0f,
                  c->x, (int)c->K, c->tile, (int)c->K, 0.0f, c->out + n0, (int)c->N);
    } else {
      lz__parallel_for(c->K, 1 + 16384 / c->tn, PICK16(s16, qmm_tile_n, tile_n), c);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c->M, (int)c->tn, (int)c->K,
                  1.0f, c->x, (int)c->K, c->tile, (int)c->tn, 0.0f, c->out + n0, (int)c->N);
    }
  }
  free(c->tile);
  return 0;
}

/* One product: c's x (M, K), weights and out set. */
static int qmm_one(qmm_ctx *cp, bool transpose, const char *op) {
  qmm_ctx c = *cp;
  const lz_s16_kernels *s16 = use_simd ? lz_s16_current() : NULL;
  if (c.M >= QMM_DIRECT_ROWS) return qmm_blas(&c, transpose, s16);
  if (s16 && transpose) {
    /* whole words: bits 2, 4 or 8, no table or FP4's 16 values (mxfp8's 256 take q_t) */
    int per = 32 / c.bits;
    bool words = (c.bits == 2 || c.bits == 4 || c.bits == 8) && c.K % (16 * per) == 0 &&
                 (!c.lut || c.bits == 4);
    if (words && !(c.xp = permute_x(&c, 16, per)))
      return lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
    lz__parallel_for(c.N, 1 + 65536 / (c.K * c.M), words ? s16->qmm_tw : s16->qmm_t, &c);
    free((void *)c.xp);
    return 0;
  }
  if (s16) {
    lz__parallel_for(c.N / c.gs, 1 + 65536 / (c.K * c.M * c.gs), s16->qmm_n, &c);
    return 0;
  }
#if defined(__x86_64__) && defined(__GNUC__)
  if (transpose && c.bits == 4 && !c.lut && c.K % 64 == 0 && use_simd && have_avx2()) {
    float *xp = permute_x(&c, 8, 8);
    if (!xp) return lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
    c.xp = xp;
    lz__parallel_for(c.N, 1 + 65536 / (c.K * c.M), qmm_t4_avx2, &c);
    free(xp);
    return 0;
  }
#endif
  if (transpose) {
    int64_t G = c.K / c.gs;
    float *xsum = malloc((size_t)(c.M * G) * sizeof(float));
    if (!xsum) return lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
    for (int64_t i = 0; i < c.M * G; i++) {
      float s = 0;
      for (int j = 0; j < c.gs; j++) s += c.x[i * c.gs + j];
      xsum[i] = s;
    }
    c.xsum = xsum;
    lz__parallel_for(c.N, 1 + 65536 / (c.K * c.M), PICK(qmm_t), &c);
    free(xsum);
  } else {
    int64_t Gn = c.N / c.gs;
    lz__parallel_for(Gn, 1 + 65536 / (c.K * c.M * c.gs), PICK(qmm_n), &c);
  }
  return 0;
}

/* The int32 indices `a` as a malloc'd array, each checked to lie in [0, bound). */
static int32_t *read_indices(const lz_array *a, int64_t bound, const char *op) {
  int32_t *v = malloc((size_t)(a->size ? a->size : 1) * sizeof *v);
  if (!v) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
    return NULL;
  }
  lz__copy_to_contiguous(v, a);
  for (int64_t i = 0; i < a->size; i++)
    if (v[i] < 0 || v[i] >= bound) {
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "index %d is out of bounds for %lld matrices",
                (int)v[i], (long long)bound);
      free(v);
      return NULL;
    }
  return v;
}

/* Inputs: x, w_q, scales[, biases]. With 2-D weights x is any (..., K) (rows M = its size / K);
 * with batched weights every input has the output's batch dims and each matrix is one product.
 * gather_qmm adds lhs and rhs indices: product b reads x[lhs[b]] and W[rhs[b]]. */
static int qmm_run(lz_node *node, lz_array **outs, const char *op, bool gather) {
  const lz_quant_params *p = node->params;
  lz_array *out = outs[0];
  if (lz__alloc_output(out, op) != 0) return -1;
  const lz_array *xa = node->inputs[0], *wa = node->inputs[1];
  bool affine = p->mode == LZ_QUANT_AFFINE;
  qmm_ctx c = {0};
  c.gs = p->group_size, c.bits = p->bits;
  c.K = xa->ndim ? xa->shape[xa->ndim - 1] : 1;
  c.N = out->shape[out->ndim - 1];
  int64_t B = 1, Bw = 1; /* products, and weight matrices */
  for (int d = 0; d < wa->ndim - 2; d++) Bw *= wa->shape[d];
  if (gather)
    for (int d = 0; d < out->ndim - 2; d++) B *= out->shape[d];
  else
    B = Bw;
  c.M = c.K && c.N && B ? out->size / c.N / B : 0;
  if (out->size == 0) return 0;
  int32_t *li = NULL, *ri = NULL;
  if (gather) {
    int n = node->ninputs;
    li = read_indices(node->inputs[n - 2], xa->shape[0], op);
    ri = li ? read_indices(node->inputs[n - 1], Bw, op) : NULL;
    if (!ri) {
      free(li);
      return -1;
    }
  }
  if (c.K == 0) { /* an empty sum */
    memset(lz__data_ptr(out), 0, (size_t)out->size * lz_dtype_size(out->dtype));
    free(li), free(ri);
    return 0;
  }
  float lut[256];
  if (!affine) lz_cpu_q_fp_table(p->mode, lut);
  void *ox = NULL, *ow = NULL, *os = NULL, *ob = NULL, *tmp = NULL;
  float *zeros = NULL;
  int rc = -1;
  const float *x = lz_cpu_q_as_f32(xa, &ox, op), *scales = NULL, *biases = NULL;
  const uint32_t *w = x ? lz_cpu_q_as_u32(wa, &ow, op) : NULL;
  if (w) scales = lz_cpu_q_scales(node->inputs[2], p->mode, &os, op);
  int64_t per_s = node->inputs[2]->size / Bw; /* scales (and biases) per matrix */
  if (scales && affine) biases = lz_cpu_q_as_f32(node->inputs[3], &ob, op);
  if (scales && !affine) biases = zeros = calloc((size_t)(per_s ? per_s : 1), sizeof(float));
  if (!biases) {
    if (scales && !affine) lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
    goto done;
  }
  bool direct_out = out->dtype == LZ_FLOAT32;
  float *o = direct_out ? (float *)lz__data_ptr(out) : (tmp = malloc((size_t)out->size * sizeof(float)));
  if (!o) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
    goto done;
  }
  int64_t per_w = wa->size / Bw;
  for (int64_t b = 0; b < B; b++) {
    int64_t bx = li ? li[b] : b, bw = ri ? ri[b] : b;
    c.x = x + bx * c.M * c.K, c.w = w + bw * per_w, c.scales = scales + bw * per_s;
    c.biases = zeros ? zeros : biases + bw * per_s;
    c.lut = affine ? NULL : lut;
    c.out = o + b * c.M * c.N;
    if (qmm_one(&c, p->transpose, op) != 0) goto done;
  }
  if (!direct_out) lz__convert(lz__data_ptr(out), out->dtype, o, LZ_FLOAT32, out->size);
  rc = 0;
done:
  free(ox);
  free(ow);
  free(os);
  free(ob);
  free(zeros);
  free(tmp);
  free(li);
  free(ri);
  return rc;
}

int lz_cpu_quantized_matmul(lz_node *node, lz_array **outs) {
  return qmm_run(node, outs, "lz_quantized_matmul", false);
}

int lz_cpu_gather_qmm(lz_node *node, lz_array **outs) {
  return qmm_run(node, outs, "lz_gather_qmm", true);
}
