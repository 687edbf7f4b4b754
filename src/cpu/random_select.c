/* Random kernels that choose among values: categorical (argmax of logits plus gumbel noise)
 * and permutation (argsort of random bits, optionally applied along an array's axis). */
#include "../core/threads.h"
#include "cpu.h"
#include "random.h"
#include "random_math.h"

/* A temporary buffer of the allocator (counted, and subject to the failure hook). */
static lz_buffer *scratch(int64_t nbytes, const char *op) {
  return lz__buffer_new((size_t)(nbytes > 0 ? nbytes : 1), op);
}

/* ---- categorical ---- */

/* Gumbel noise in float32: -log(-log(u)) for u uniform in [0, 1). */
static void emit_gumbel_f32(void *arg, int64_t begin, int64_t n, const uint32_t *w) {
  float *g = (float *)arg + begin;
  for (int64_t t = 0; t < n; t++) g[t] = -logf(-logf(rnd_unit(RND_F32, w[t])));
}

typedef struct cat_ctx {
  const float *g; /* gumbel noise of shape gshape */
  const char *logits;
  bool wide; /* logits are float64 (else float32) */
  int ndim;  /* output dims */
  int64_t shape[LZ_MAX_NDIM + 1];
  int64_t lstride[LZ_MAX_NDIM + 1]; /* logits' element strides over the output dims */
  int64_t kstride;                  /* logits' stride along the categories */
  int64_t ncat, inner;
  uint32_t *out;
} cat_ctx;

static void cat_range(void *arg, int64_t begin, int64_t end) {
  const cat_ctx *c = arg;
  int64_t idx[LZ_MAX_NDIM + 1], off = 0, rem = begin;
  for (int d = c->ndim - 1; d >= 0; d--) {
    idx[d] = rem % c->shape[d];
    rem /= c->shape[d];
    off += idx[d] * c->lstride[d];
  }
  for (int64_t i = begin; i < end; i++) {
    int64_t o = i / c->inner, r = i % c->inner;
    const float *g = c->g + o * c->ncat * c->inner + r;
    uint32_t best = 0;
    if (c->wide) {
      const double *l = (const double *)c->logits + off;
      double bv = (double)g[0] + l[0];
      for (int64_t k = 1; k < c->ncat; k++) {
        double v = (double)g[k * c->inner] + l[k * c->kstride];
        if (v > bv || (isnan(v) && !isnan(bv))) bv = v, best = (uint32_t)k;
      }
    } else {
      const float *l = (const float *)c->logits + off;
      float bv = g[0] + l[0];
      for (int64_t k = 1; k < c->ncat; k++) {
        float v = g[k * c->inner] + l[k * c->kstride];
        if (v > bv || (isnan(v) && !isnan(bv))) bv = v, best = (uint32_t)k;
      }
    }
    c->out[i] = best;
    for (int d = c->ndim - 1; d >= 0; d--) { /* odometer step */
      idx[d]++;
      off += c->lstride[d];
      if (idx[d] < c->shape[d]) break;
      off -= c->lstride[d] * c->shape[d];
      idx[d] = 0;
    }
  }
}

int lz_cpu_random_categorical(lz_node *node, lz_array **outs) {
  const lz_random_params *p = node->params;
  lz_array *out = outs[0], *logits = node->inputs[1];
  if (lz__alloc_output(out, "lz_random_categorical") != 0) return -1;
  if (out->size == 0) return 0;
  int64_t gsize = 1;
  for (int d = 0; d < p->gndim; d++) gsize *= p->gshape[d];
  lz_buffer *gb = scratch(gsize * (int64_t)sizeof(float), "lz_random_categorical");
  if (!gb) return -1;
  uint32_t k0, k1;
  lz_cpu_random_key_words(node->inputs[0], &k0, &k1);
  lz_cpu_random_generate(k0, k1, gsize, emit_gumbel_f32, gb->data);

  /* The logits (with their optional trailing unit dim) broadcast against gshape. */
  int lnd = logits->ndim + (p->logits_expanded ? 1 : 0);
  cat_ctx c = {.g = gb->data, .logits = lz__data_ptr(logits), .out = (uint32_t *)lz__data_ptr(out)};
  c.wide = logits->dtype == LZ_FLOAT64;
  c.ncat = p->gshape[p->gaxis];
  c.inner = 1;
  for (int d = p->gaxis + 1; d < p->gndim; d++) c.inner *= p->gshape[d];
  for (int d = 0; d < p->gndim; d++) {
    int ld = d - (p->gndim - lnd);
    int64_t s = 0;
    if (ld >= 0 && ld < logits->ndim && logits->shape[ld] != 1) s = logits->strides[ld];
    if (d == p->gaxis) {
      c.kstride = s;
    } else {
      c.shape[c.ndim] = p->gshape[d];
      c.lstride[c.ndim++] = s;
    }
  }
  lz__parallel_for(out->size, 1024, cat_range, &c);
  lz__buffer_release(gb);
  return 0;
}

/* ---- permutation ---- */

/* Pairs (bits << 32 | index): sorting them is a stable argsort of the bits. */
static void emit_pairs(void *arg, int64_t begin, int64_t n, const uint32_t *w) {
  uint64_t *pairs = arg;
  for (int64_t t = 0; t < n; t++) pairs[begin + t] = (uint64_t)w[t] << 32 | (uint64_t)(begin + t);
}

/* Sorts the pairs by their high word, keeping the order of equal words (the pairs start in
 * index order): an LSD radix sort over the 4 bytes of the word, through `tmp`. */
static void sort_pairs(uint64_t *pairs, uint64_t *tmp, int64_t n) {
  uint64_t *src = pairs, *dst = tmp;
  for (int shift = 32; shift < 64; shift += 8) {
    int64_t count[257] = {0};
    for (int64_t i = 0; i < n; i++) count[((src[i] >> shift) & 0xff) + 1]++;
    for (int b = 0; b < 256; b++) count[b + 1] += count[b];
    for (int64_t i = 0; i < n; i++) dst[count[(src[i] >> shift) & 0xff]++] = src[i];
    uint64_t *t = src;
    src = dst, dst = t;
  }
  /* four passes: the sorted pairs are back in `pairs` */
}

typedef struct take_ctx {
  const uint64_t *perm; /* sorted pairs: the low word is the source index */
  const char *src;
  char *dst;
  size_t isz;
  int ndim, axis;
  const int *shape;
  const int64_t *strides; /* source element strides */
} take_ctx;

/* out[..., k, ...] = x[..., perm[k], ...] along the axis; out is contiguous. */
static void take_range(void *arg, int64_t begin, int64_t end) {
  const take_ctx *c = arg;
  int64_t idx[LZ_MAX_NDIM], rem = begin;
  for (int d = c->ndim - 1; d >= 0; d--) {
    idx[d] = rem % c->shape[d];
    rem /= c->shape[d];
  }
  for (int64_t i = begin; i < end; i++) {
    int64_t off = 0;
    for (int d = 0; d < c->ndim; d++) {
      int64_t j = d == c->axis ? (int64_t)(uint32_t)c->perm[idx[d]] : idx[d];
      off += j * c->strides[d];
    }
    memcpy(c->dst + i * (int64_t)c->isz, c->src + off * (int64_t)c->isz, c->isz);
    for (int d = c->ndim - 1; d >= 0; d--) {
      if (++idx[d] < c->shape[d]) break;
      idx[d] = 0;
    }
  }
}

int lz_cpu_random_permutation(lz_node *node, lz_array **outs) {
  const lz_random_params *p = node->params;
  lz_array *out = outs[0], *x = node->ninputs > 1 ? node->inputs[1] : NULL;
  if (lz__alloc_output(out, "lz_random_permutation") != 0) return -1;
  int64_t n = x ? x->shape[p->axis] : out->size;
  lz_buffer *pb = scratch(2 * n * (int64_t)sizeof(uint64_t), "lz_random_permutation");
  if (!pb) return -1;
  uint64_t *pairs = pb->data;
  uint32_t k0, k1;
  lz_cpu_random_key_words(node->inputs[0], &k0, &k1);
  lz_cpu_random_generate(k0, k1, n, emit_pairs, pairs);
  sort_pairs(pairs, pairs + n, n);
  if (!x) {
    uint32_t *dst = (uint32_t *)lz__data_ptr(out);
    for (int64_t i = 0; i < n; i++) dst[i] = (uint32_t)pairs[i];
  } else if (out->size > 0) {
    take_ctx c = {pairs,   lz__data_ptr(x), lz__data_ptr(out), lz_dtype_size(x->dtype),
                  x->ndim, p->axis,         x->shape,          x->strides};
    lz__parallel_for(out->size, 4096, take_range, &c);
  }
  lz__buffer_release(pb);
  return 0;
}
