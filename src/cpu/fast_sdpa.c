/* Fused scaled dot-product attention, flash-attention style: one task per (batch, query head,
 * block of query rows). A task walks the keys in blocks: S = scale * Q K^T (BLAS), the mask,
 * an online softmax (running row max m and sum l; earlier partial results are rescaled when
 * the max grows), and O += P V (BLAS). The (Lq, Lk) score matrix never exists in full, so
 * memory stays O(block) per thread, and causal attention skips the key blocks that lie
 * entirely above the diagonal.
 *
 * Blocks keep each GEMM at M*N*K <= 2^18 (32 query rows at head dim 64; 16, 64 and 128 rows
 * measured slower, forward and backward): the tasks run on our threads, each GEMM on its
 * task's thread. The row kernels (max, exp and sum, rescaling, the gradient's row) are
 * 16-lane ones on the AVX-512 paths (cpu/simd16_blocks.h), AVX2 or scalar ones otherwise.
 * float16/bfloat16 (and strided) operands are widened to
 * contiguous float32 once, up front; accumulation is float32 throughout.
 *
 * Masked entries follow MLX: a false boolean (and the causal mask) gives the lowest float,
 * so a row with every key masked averages V uniformly; an additive -inf gives weight 0 and a
 * row that is -inf everywhere gives NaN. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "../core/threads.h"
#include "fast.h"
#include "gemm.h"
#include "linalg_pack.h"
#include "simd16_table.h"
#include "unary.h"

/* Key blocks of 128 measured best (64..512 tried, head dim 64, L 1024). The gradient keeps a
 * block of query rows against every key: at most MAX_ROW_BLOCK scores (1 MiB). */
enum { GEMM_SINGLE_THREAD_MNK = 1 << 18, MAX_BQ = 64, MAX_BK = 128, MAX_ROW_BLOCK = 1 << 18 };

/* One operand as float32 with element strides (batch, head, row); columns are contiguous. */
typedef struct sd_side {
  const float *base;
  int64_t sb, sh, sr;
  float *scratch;
  size_t cap;
} sd_side;

static int side_init(sd_side *s, const lz_array *a) {
  int64_t L = a->shape[2], D = a->shape[3];
  const int64_t *st = a->strides;
  s->scratch = NULL;
  bool usable = a->dtype == LZ_FLOAT32 && (D <= 1 || st[3] == 1) && (L <= 1 || st[2] >= D) &&
                st[0] >= 0 && st[1] >= 0;
  if (usable) {
    s->base = (const float *)lz__data_ptr(a);
    s->sb = st[0], s->sh = st[1], s->sr = L <= 1 ? (D > 0 ? D : 1) : st[2];
    return 0;
  }
  s->scratch = lz_cpu_scratch((size_t)a->size * sizeof(float), &s->cap,
                              "lz_fast_scaled_dot_product_attention");
  if (!s->scratch) return -1;
  lz_cpu_pack(s->scratch, LZ_FLOAT32, a);
  s->base = s->scratch;
  s->sr = D > 0 ? D : 1;
  s->sh = L * D, s->sb = a->shape[1] * L * D;
  return 0;
}

typedef struct sd_job {
  const lz_sdpa_params *p;
  sd_side q, k, v;
  const lz_array *mask; /* (B, Hq, Lq, Lk) view, or NULL */
  const float *sinks;   /* (Hq,) or NULL: a key with no value in each head's softmax */
  lz_array *out;
  int64_t B, Hq, rep, Lq, Lk, D, Dv, bq, bk, nqb;
  bool avx2; /* the AVX2 row helpers are usable (and SIMD is on) */
  const lz_s16_kernels *s16; /* the 16-lane row kernels on the AVX-512 paths, else NULL */
  lz_fast_slots slots;
} sd_job;

/* Applies the mask to the (nq, nk) score block S (rows ld apart) whose rows are queries i0..
 * and columns keys j0..; mrow is scratch for one row of the mask. */
static void apply_mask(const sd_job *j, float *S, int64_t ld, int64_t b, int64_t h, int64_t i0,
                       int64_t nq, int64_t j0, int64_t nk, float *mrow) {
  if (j->p->mask == LZ_SDPA_CAUSAL) {
    int64_t off = j->Lk - j->Lq;
    for (int64_t i = 0; i < nq; i++) {
      int64_t last = i0 + i + off; /* keys j <= last are visible */
      for (int64_t c = last - j0 + 1 < 0 ? 0 : last - j0 + 1; c < nk; c++) S[i * ld + c] = -FLT_MAX;
    }
    return;
  }
  const lz_array *m = j->mask;
  size_t es = lz_dtype_size(m->dtype);
  bool is_bool = m->dtype == LZ_BOOL;
  for (int64_t i = 0; i < nq; i++) {
    int64_t off = m->offset + b * m->strides[0] + h * m->strides[1] + (i0 + i) * m->strides[2] +
                  j0 * m->strides[3];
    const char *src = (const char *)m->buf->data + off * (int64_t)es;
    float *s = S + i * ld;
    if (is_bool) {
      for (int64_t c = 0; c < nk; c++)
        if (!src[c * m->strides[3]]) s[c] = -FLT_MAX;
    } else {
      lz_fast_load(mrow, src, m->dtype, m->strides[3], nk);
      for (int64_t c = 0; c < nk; c++) s[c] += mrow[c];
    }
  }
}

/* p[c] = exp(s[c] - m) in place; returns their sum. */
static float exp_sum_base(float *s, int64_t n, float m) {
  float sum = 0;
  for (int64_t c = 0; c < n; c++) sum += (s[c] = expf(s[c] - m));
  return sum;
}

static float row_max_base(const float *s, int64_t n) {
  float mx = -INFINITY;
  for (int64_t c = 0; c < n; c++) mx = s[c] > mx ? s[c] : mx;
  return mx;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) /* clang: scalar path */
#define SD_AVX2 1
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#include <immintrin.h>
#include <sleef.h>

static float hsum8(__m256 v) {
  __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  a = _mm_add_ps(a, _mm_movehl_ps(a, a));
  return _mm_cvtss_f32(_mm_add_ss(a, _mm_movehdup_ps(a)));
}

static float exp_sum_avx2(float *s, int64_t n, float m) {
  __m256 vm = _mm256_set1_ps(m), acc = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 8 <= n; c += 8) {
    __m256 e = Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_loadu_ps(s + c), vm));
    _mm256_storeu_ps(s + c, e);
    acc = _mm256_add_ps(acc, e);
  }
  float sum = hsum8(acc);
  for (; c < n; c++) sum += (s[c] = expf(s[c] - m));
  return sum;
}

static float row_max_avx2(const float *s, int64_t n) {
  __m256 mx = _mm256_set1_ps(-INFINITY);
  int64_t c = 0;
  for (; c + 8 <= n; c += 8) mx = _mm256_max_ps(mx, _mm256_loadu_ps(s + c));
  __m128 a = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
  a = _mm_max_ps(a, _mm_movehl_ps(a, a));
  a = _mm_max_ss(a, _mm_movehdup_ps(a));
  float r = _mm_cvtss_f32(a);
  for (; c < n; c++) r = s[c] > r ? s[c] : r;
  return r;
}
#pragma GCC pop_options
#endif

#ifdef SD_AVX2
#define ROW_MAX row_max_avx2
#define EXP_SUM exp_sum_avx2
#else
#define ROW_MAX row_max_base
#define EXP_SUM exp_sum_base
#endif

/* Online softmax step for the rows of S: rescales O and l, leaves P = exp(S - m) in S. */
static void softmax_step(const sd_job *j, float *S, int64_t nq, int64_t nk, float *m, float *l,
                         float *O) {
  for (int64_t i = 0; i < nq; i++) {
    float *s = S + i * nk;
    float mx = j->s16 ? j->s16->sd_row_max(s, nk) : j->avx2 ? ROW_MAX(s, nk) : row_max_base(s, nk);
    float mnew = mx > m[i] ? mx : m[i];
    if (mnew == -INFINITY) { /* everything so far is -inf: contributes nothing yet */
      memset(s, 0, (size_t)nk * sizeof(float));
      continue;
    }
    float corr = m[i] == -INFINITY ? 0.0f : expf(m[i] - mnew);
    float sum = j->s16 ? j->s16->sd_exp_sum(s, nk, mnew)
                : j->avx2 ? EXP_SUM(s, nk, mnew) : exp_sum_base(s, nk, mnew);
    if (corr != 1.0f) {
      float *o = O + i * j->Dv;
      if (j->s16)
        j->s16->sd_scale(o, j->Dv, corr);
      else
        for (int64_t d = 0; d < j->Dv; d++) o[d] *= corr;
    }
    l[i] = l[i] * corr + sum;
    m[i] = mnew;
  }
}

static void sd_tasks(void *vctx, int64_t begin, int64_t end) {
  sd_job *j = vctx;
  void *mem;
  int slot = lz_fast_slot_claim(&j->slots, &mem);
  float *S = mem, *O = S + j->bq * j->bk, *m = O + j->bq * j->Dv, *l = m + j->bq;
  float *mrow = l + j->bq;
  size_t oes = lz_dtype_size(j->out->dtype);
  int64_t off = j->Lk - j->Lq;
  for (int64_t t = begin; t < end; t++) {
    int64_t qb = t % j->nqb, bh = t / j->nqb, h = bh % j->Hq, b = bh / j->Hq, hk = h / j->rep;
    int64_t i0 = qb * j->bq, nq = j->Lq - i0 < j->bq ? j->Lq - i0 : j->bq;
    const float *Q = j->q.base + b * j->q.sb + h * j->q.sh + i0 * j->q.sr;
    const float *K = j->k.base + b * j->k.sb + hk * j->k.sh;
    const float *V = j->v.base + b * j->v.sb + hk * j->v.sh;
    /* the sink starts each row's online softmax: its score is the running max, weight 1 */
    float sink = j->sinks ? j->sinks[h] : -INFINITY;
    for (int64_t i = 0; i < nq; i++) m[i] = sink, l[i] = sink == -INFINITY ? 0.0f : 1.0f;
    memset(O, 0, (size_t)(nq * j->Dv) * sizeof(float));
    int64_t kend = j->Lk;
    /* Causal: keys past the last row's diagonal are masked for every row of the block, unless
     * some row sees no key at all (then it averages all of them, as in MLX). */
    if (j->p->mask == LZ_SDPA_CAUSAL && i0 + off >= 0 && i0 + nq + off < kend) kend = i0 + nq + off;
    for (int64_t j0 = 0; j0 < kend; j0 += j->bk) {
      int64_t nk = kend - j0 < j->bk ? kend - j0 : j->bk;
      lz_cpu_gemm(LZ_FLOAT32, false, true, nq, nk, j->D, j->p->scale, Q, j->q.sr, K + j0 * j->k.sr,
                  j->k.sr, 0.0, S, nk);
      if (j->p->mask != LZ_SDPA_NONE) apply_mask(j, S, nk, b, h, i0, nq, j0, nk, mrow);
      softmax_step(j, S, nq, nk, m, l, O);
      lz_cpu_gemm(LZ_FLOAT32, false, false, nq, j->Dv, nk, 1.0, S, nk, V + j0 * j->v.sr, j->v.sr,
                  1.0, O, j->Dv);
    }
    for (int64_t i = 0; i < nq; i++) {
      float *o = O + i * j->Dv, inv = 1.0f / l[i];
      if (j->s16)
        j->s16->sd_scale(o, j->Dv, inv);
      else
        for (int64_t d = 0; d < j->Dv; d++) o[d] *= inv;
      char *dst = lz__data_ptr(j->out) + ((bh * j->Lq) + i0 + i) * j->Dv * (int64_t)oes;
      lz_fast_store(dst, j->out->dtype, o, j->Dv);
    }
  }
  lz_fast_slot_release(&j->slots, slot);
}

int lz_cpu_sdpa(lz_node *node, lz_array **outs) {
  const char *op = "lz_fast_scaled_dot_product_attention";
  const lz_sdpa_params *p = node->params;
  lz_array *q = node->inputs[0], *k = node->inputs[1], *v = node->inputs[2], *out = outs[0];
  if (lz__alloc_output(out, op) != 0) return -1;
  if (out->size == 0) return 0;
  sd_job j = {.p = p, .out = out, .mask = p->mask == LZ_SDPA_ARRAY ? node->inputs[3] : NULL};
  float *sinks = NULL;
  if (p->has_sinks) {
    const lz_array *sa = node->inputs[node->ninputs - 1];
    if (!(sinks = malloc((size_t)sa->size * sizeof(float) + 4)))
      return lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
    lz_fast_load(sinks, lz__data_ptr(sa), sa->dtype, sa->strides[0], sa->size);
    j.sinks = sinks;
  }
  j.B = q->shape[0], j.Hq = q->shape[1], j.Lq = q->shape[2], j.D = q->shape[3];
  j.rep = j.Hq / k->shape[1], j.Lk = k->shape[2], j.Dv = v->shape[3];
  if (j.Lk == 0) { /* no keys: an empty weighted sum */
    float z = 0;
    for (int64_t i = 0; i < out->size; i++)
      lz_fast_store(lz__data_ptr(out) + i * (int64_t)lz_dtype_size(out->dtype), out->dtype, &z, 1);
    free(sinks);
    return 0;
  }
  int64_t wide = j.D > j.Dv ? j.D : j.Dv;
  if (wide < 1) wide = 1;
  j.bk = j.Lk < MAX_BK ? j.Lk : MAX_BK;
  j.bq = GEMM_SINGLE_THREAD_MNK / (j.bk * wide);
  if (j.bq > MAX_BQ) j.bq = MAX_BQ;
  if (j.bq < 1) j.bq = 1;
  if (j.bq > j.Lq) j.bq = j.Lq;
  j.nqb = (j.Lq + j.bq - 1) / j.bq;
  j.avx2 = lz_cpu_vec_unary(LZ_VEC_EXP) != NULL; /* AVX2+FMA present and SIMD not turned off */
  j.s16 = lz_s16_current();
  j.q.scratch = j.k.scratch = j.v.scratch = NULL;
  int rc = -1;
  if (side_init(&j.q, q) || side_init(&j.k, k) || side_init(&j.v, v)) goto done;
  size_t slot = (size_t)(j.bq * j.bk + j.bq * j.Dv + 2 * j.bq + j.bk) * sizeof(float);
  if (lz_fast_slots_init(&j.slots, slot, op) != 0) goto done;
  int64_t tasks = j.B * j.Hq * j.nqb;
  int64_t work = j.bq * j.Lk * (j.D + j.Dv) + 1;
  lz__parallel_for(tasks, ((int64_t)1 << 17) / work + 1, sd_tasks, &j);
  lz_fast_slots_free(&j.slots);
  rc = 0;
done:
  if (j.q.scratch) lz_cpu_scratch_free(j.q.scratch, j.q.cap);
  if (j.k.scratch) lz_cpu_scratch_free(j.k.scratch, j.k.cap);
  if (j.v.scratch) lz_cpu_scratch_free(j.v.scratch, j.v.cap);
  free(sinks);
  return rc;
}

/* ---- the gradient ------------------------------------------------------------------------
 *
 * One task per (batch, kv head): it owns that head's dK and dV (float32 accumulators in its
 * slot) and the dQ rows of the rep query heads that read it, so no two tasks write the same
 * output. For each block of query rows it computes the (nq, keys) row block of scores once
 * (Q K^T, mask, softmax with the row max and sum of the forward: P), then dP = dO V^T,
 * delta = rowsum(P * dP) (equal to dO . O), dS = P * (dP - delta) (zero where the causal or
 * boolean mask hid the key), and dV += P^T dO, dQ = scale dS K, dK += scale dS^T Q. The score
 * row block is O(block * keys) per thread; the (Lq, Lk) matrix never exists, and nothing of
 * the forward is recomputed but the scores. A sink's logit gets -sum(P_sink * delta). */

typedef struct sb_job {
  sd_job f;            /* shapes, params, q, k, v, mask, sinks, block sizes */
  sd_side dout;        /* the cotangent (B, Hq, Lq, Dv) */
  lz_array *dq, *dk, *dv;
  double *dsink;       /* (B, Hq): each (batch, head)'s part of the sink gradient, or NULL */
  int64_t Hkv;
} sb_job;

/* Zeroes dS where the causal or boolean mask hid the key (its score did not depend on q, k). */
static void zero_masked(const sd_job *j, float *dS, int64_t ld, int64_t b, int64_t h, int64_t i0,
                        int64_t nq, int64_t nk) {
  if (j->p->mask == LZ_SDPA_CAUSAL) {
    int64_t off = j->Lk - j->Lq;
    for (int64_t i = 0; i < nq; i++) {
      int64_t first = i0 + i + off + 1;
      for (int64_t c = first < 0 ? 0 : first; c < nk; c++) dS[i * ld + c] = 0;
    }
    return;
  }
  const lz_array *m = j->mask;
  if (!m || m->dtype != LZ_BOOL) return;
  for (int64_t i = 0; i < nq; i++) {
    int64_t off = m->offset + b * m->strides[0] + h * m->strides[1] + (i0 + i) * m->strides[2];
    const char *src = (const char *)m->buf->data + off;
    for (int64_t c = 0; c < nk; c++)
      if (!src[c * m->strides[3]]) dS[i * ld + c] = 0;
  }
}

/* Stores n rows of w float32 values to `a` (contiguous, dtype of a) from row r0 on. */
static void store_rows(lz_array *a, int64_t r0, const float *src, int64_t n, int64_t w) {
  size_t es = lz_dtype_size(a->dtype);
  for (int64_t i = 0; i < n; i++)
    lz_fast_store(lz__data_ptr(a) + (r0 + i) * w * (int64_t)es, a->dtype, src + i * w, w);
}

static void sb_tasks(void *vctx, int64_t begin, int64_t end) {
  sb_job *g = vctx;
  sd_job *j = &g->f;
  int64_t Lk = j->Lk, D = j->D, Dv = j->Dv, bq = j->bq, bk = j->bk, off = j->Lk - j->Lq;
  float sc = j->p->scale;
  void *mem;
  int slot = lz_fast_slot_claim(&j->slots, &mem);
  float *dK = mem, *dV = dK + Lk * D, *P = dV + Lk * Dv, *dS = P + bq * Lk, *dQ = dS + bq * Lk;
  float *mrow = dQ + bq * D;
  for (int64_t t = begin; t < end; t++) {
    int64_t b = t / g->Hkv, hk = t % g->Hkv;
    const float *K = j->k.base + b * j->k.sb + hk * j->k.sh;
    const float *V = j->v.base + b * j->v.sb + hk * j->v.sh;
    memset(dK, 0, (size_t)(Lk * (D + Dv)) * sizeof(float));
    for (int64_t h = hk * j->rep; h < (hk + 1) * j->rep; h++) {
      float sink = j->sinks ? j->sinks[h] : -INFINITY;
      double dsink = 0;
      for (int64_t i0 = 0; i0 < j->Lq; i0 += bq) {
        int64_t nq = j->Lq - i0 < bq ? j->Lq - i0 : bq, kend = Lk;
        if (j->p->mask == LZ_SDPA_CAUSAL && i0 + off >= 0 && i0 + nq + off < kend)
          kend = i0 + nq + off; /* as the forward: later keys are hidden from every row */
        const float *Q = j->q.base + b * j->q.sb + h * j->q.sh + i0 * j->q.sr;
        const float *dO = g->dout.base + b * g->dout.sb + h * g->dout.sh + i0 * g->dout.sr;
        for (int64_t j0 = 0; j0 < kend; j0 += bk) { /* P = scale Q K^T (+ mask), dP = dO V^T */
          int64_t nk = kend - j0 < bk ? kend - j0 : bk;
          lz_cpu_gemm_serial(false, true, nq, nk, D, sc, Q, j->q.sr, K + j0 * j->k.sr,
                      j->k.sr, 0.0, P + j0, kend);
          if (j->p->mask != LZ_SDPA_NONE) apply_mask(j, P + j0, kend, b, h, i0, nq, j0, nk, mrow);
          lz_cpu_gemm_serial(false, true, nq, nk, Dv, 1.0, dO, g->dout.sr, V + j0 * j->v.sr,
                      j->v.sr, 0.0, dS + j0, kend);
        }
        for (int64_t i = 0; i < nq; i++) { /* softmax rows, delta, dS = P * (dP - delta) */
          float *p = P + i * kend, *ds = dS + i * kend;
          const lz_s16_kernels *k16 = j->s16;
          float mx = k16 ? k16->sd_row_max(p, kend) : j->avx2 ? ROW_MAX(p, kend) : row_max_base(p, kend);
          if (sink > mx) mx = sink;
          float sum = k16 ? k16->sd_exp_sum(p, kend, mx)
                      : j->avx2 ? EXP_SUM(p, kend, mx) : exp_sum_base(p, kend, mx);
          if (j->sinks) sum += expf(sink - mx);
          float inv = 1.0f / sum, delta = 0;
          if (k16) {
            delta = k16->sd_grad_row(p, ds, kend, inv);
          } else {
            for (int64_t c = 0; c < kend; c++) p[c] *= inv, delta += p[c] * ds[c];
            for (int64_t c = 0; c < kend; c++) ds[c] = p[c] * (ds[c] - delta);
          }
          if (j->sinks) dsink -= (double)(expf(sink - mx) * inv) * delta;
        }
        if (j->p->mask != LZ_SDPA_NONE) zero_masked(j, dS, kend, b, h, i0, nq, kend);
        for (int64_t j0 = 0; j0 < kend; j0 += bk) {
          int64_t nk = kend - j0 < bk ? kend - j0 : bk;
          lz_cpu_gemm_serial(true, false, nk, Dv, nq, 1.0, P + j0, kend, dO, g->dout.sr, 1.0,
                      dV + j0 * Dv, Dv);
          lz_cpu_gemm_serial(true, false, nk, D, nq, sc, dS + j0, kend, Q, j->q.sr, 1.0,
                      dK + j0 * D, D);
          lz_cpu_gemm_serial(false, false, nq, D, nk, sc, dS + j0, kend, K + j0 * j->k.sr,
                      j->k.sr, j0 ? 1.0 : 0.0, dQ, D);
        }
        store_rows(g->dq, (b * j->Hq + h) * j->Lq + i0, dQ, nq, D);
      }
      if (g->dsink) g->dsink[b * j->Hq + h] = dsink;
    }
    store_rows(g->dk, (b * g->Hkv + hk) * Lk, dK, Lk, D);
    store_rows(g->dv, (b * g->Hkv + hk) * Lk, dV, Lk, Dv);
  }
  lz_fast_slot_release(&j->slots, slot);
}

int lz_cpu_sdpa_vjp(lz_node *node, lz_array **outs) {
  const char *op = "lz_fast_scaled_dot_product_attention";
  const lz_sdpa_params *p = node->params;
  lz_array *q = node->inputs[0], *k = node->inputs[1], *v = node->inputs[2];
  lz_array *cot = node->inputs[node->ninputs - 1];
  for (int i = 0; i < node->noutputs; i++)
    if (lz__alloc_output(outs[i], op) != 0) return -1;
  sb_job g = {.dq = outs[0], .dk = outs[1], .dv = outs[2], .Hkv = k->shape[1]};
  sd_job *j = &g.f;
  j->p = p, j->mask = p->mask == LZ_SDPA_ARRAY ? node->inputs[3] : NULL;
  j->B = q->shape[0], j->Hq = q->shape[1], j->Lq = q->shape[2], j->D = q->shape[3];
  j->rep = g.Hkv ? j->Hq / g.Hkv : 1, j->Lk = k->shape[2], j->Dv = v->shape[3];
  float *sinks = NULL;
  int rc = -1;
  j->q.scratch = j->k.scratch = j->v.scratch = g.dout.scratch = NULL;
  if (p->has_sinks) {
    const lz_array *sa = node->inputs[node->ninputs - 2];
    size_t nd = (size_t)(j->B * j->Hq) + 1;
    sinks = lz__malloc((size_t)sa->size * sizeof(float) + 4);
    g.dsink = lz__malloc(nd * sizeof(double));
    if (!sinks || !g.dsink) {
      lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
      goto done;
    }
    memset(g.dsink, 0, nd * sizeof(double));
    lz_fast_load(sinks, lz__data_ptr(sa), sa->dtype, sa->strides[0], sa->size);
    j->sinks = sinks;
  }
  if (j->Lk == 0 || j->Lq == 0 || j->B == 0 || j->Hq == 0) { /* no scores: zero gradients */
    for (int i = 0; i < node->noutputs; i++)
      if (outs[i]->size) memset(lz__data_ptr(outs[i]), 0, (size_t)outs[i]->size * lz_dtype_size(outs[i]->dtype));
    rc = 0;
    goto done;
  }
  int64_t wide = j->D > j->Dv ? j->D : j->Dv;
  if (wide < 1) wide = 1;
  j->bk = j->Lk < MAX_BK ? j->Lk : MAX_BK;
  j->bq = GEMM_SINGLE_THREAD_MNK / (j->bk * wide);
  if (j->bq > MAX_BQ) j->bq = MAX_BQ;
  if (j->bq * j->Lk > MAX_ROW_BLOCK) j->bq = MAX_ROW_BLOCK / j->Lk; /* the slot stays small */
  if (j->bq < 1) j->bq = 1;
  if (j->bq > j->Lq) j->bq = j->Lq;
  j->avx2 = lz_cpu_vec_unary(LZ_VEC_EXP) != NULL;
  j->s16 = lz_s16_current();
  if (side_init(&j->q, q) || side_init(&j->k, k) || side_init(&j->v, v) || side_init(&g.dout, cot))
    goto done;
  size_t slot = (size_t)(j->Lk * (j->D + j->Dv) + 2 * j->bq * j->Lk + j->bq * j->D + j->Lk) *
                sizeof(float);
  if (lz_fast_slots_init(&j->slots, slot, op) != 0) goto done;
  int64_t work = j->rep * j->Lq * j->Lk * (2 * j->D + 3 * j->Dv) + 1;
  lz__parallel_for(j->B * g.Hkv, ((int64_t)1 << 17) / work + 1, sb_tasks, &g);
  lz_fast_slots_free(&j->slots);
  if (g.dsink) { /* the sink gradient sums over the batch: in order, so it is deterministic */
    float *ds = lz__malloc((size_t)j->Hq * sizeof(float) + 4);
    if (!ds) {
      lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
      goto done;
    }
    for (int64_t h = 0; h < j->Hq; h++) {
      double s = 0;
      for (int64_t b = 0; b < j->B; b++) s += g.dsink[b * j->Hq + h];
      ds[h] = (float)s;
    }
    lz_fast_store(lz__data_ptr(outs[3]), outs[3]->dtype, ds, j->Hq);
    free(ds);
  }
  rc = 0;
done:
  if (j->q.scratch) lz_cpu_scratch_free(j->q.scratch, j->q.cap);
  if (j->k.scratch) lz_cpu_scratch_free(j->k.scratch, j->k.cap);
  if (j->v.scratch) lz_cpu_scratch_free(j->v.scratch, j->v.cap);
  if (g.dout.scratch) lz_cpu_scratch_free(g.dout.scratch, g.dout.cap);
  free(sinks);
  free(g.dsink);
  return rc;
}
