/* Random kernels: the key's bit stream split across threads by counter ranges, and the
 * elementwise samplers built on it (bits, split, uniform, normal, truncated normal, bernoulli,
 * gumbel, laplace). Each sampler maps word i of the stream to output element i the way MLX's
 * composite ops do, so a key gives the same values as in MLX. */
#include "../core/isa.h"
#include "random.h"

#include "../core/threads.h"
#include "cpu.h"
#include "random_math.h"

/* ---- the bit stream ---- */

enum { BLOCK = 256, GRAIN = 2048 };

typedef struct gen_job {
  uint32_t k0, k1;
  int64_t half, h; /* n/2 and ceil(n/2) */
  lz_random_emit_fn emit;
  void *ctx;
} gen_job;

static void gen_range(void *arg, int64_t jb, int64_t je) {
  const gen_job *g = arg;
  uint32_t a[BLOCK], b[BLOCK];
  for (int64_t j0 = jb; j0 < je; j0 += BLOCK) {
    int64_t m = je - j0 < BLOCK ? je - j0 : BLOCK;
    for (int64_t t = 0; t < m; t++) {
      int64_t j = j0 + t;
      uint32_t c1 = j < g->half ? (uint32_t)(j + g->h) : 0u;
      lz_threefry2x32(g->k0, g->k1, (uint32_t)j, c1, &a[t], &b[t]);
    }
    g->emit(g->ctx, j0, m, a);
    int64_t m2 = (j0 + m < g->half ? j0 + m : g->half) - j0; /* counters with a second word */
    if (m2 > 0) g->emit(g->ctx, j0 + g->h, m2, b);
  }
}

void lz_cpu_random_generate(uint32_t k0, uint32_t k1, int64_t nwords, lz_random_emit_fn emit,
                            void *ctx) {
  gen_job g = {k0, k1, nwords / 2, (nwords + 1) / 2, emit, ctx};
  lz__parallel_for(g.h, GRAIN, gen_range, &g);
}

void lz_cpu_random_split2(uint32_t k0, uint32_t k1, uint32_t out[4]) {
  lz_threefry2x32(k0, k1, 0, 2, &out[0], &out[2]);
  lz_threefry2x32(k0, k1, 1, 3, &out[1], &out[3]);
}

void lz_cpu_random_key_words(const lz_array *key, uint32_t *k0, uint32_t *k1) {
  const uint32_t *p = (const uint32_t *)lz__data_ptr(key);
  *k0 = p[0];
  *k1 = p[key->strides[0]];
}

/* ---- elementwise samplers: context, parameter cursor, stores ---- */

enum { MAX_PARAMS = 4 };

typedef struct smp_ctx {
  const lz_random_params *p;
  lz_array *out;
  char *dst;
  rnd_fmt fmt; /* the sampling format (f32, f16, bf16) */
  int nparams; /* parameter arrays, inputs 1.. of the node */
  const char *pbase[MAX_PARAMS];
  lz_dtype pdtype[MAX_PARAMS];
  int64_t pstride[MAX_PARAMS][LZ_MAX_NDIM]; /* elements, broadcast to the output shape */
  bool pscalar;                             /* every parameter is one value */
} smp_ctx;

/* Walks the output's multi-index to keep each parameter's element offset. */
typedef struct cursor {
  int64_t idx[LZ_MAX_NDIM];
  int64_t off[MAX_PARAMS];
} cursor;

static void cur_init(cursor *c, const smp_ctx *x, int64_t i) {
  const lz_array *o = x->out;
  for (int k = 0; k < x->nparams; k++) c->off[k] = 0;
  for (int d = o->ndim - 1; d >= 0; d--) {
    c->idx[d] = o->shape[d] ? i % o->shape[d] : 0;
    i = o->shape[d] ? i / o->shape[d] : 0;
    for (int k = 0; k < x->nparams; k++) c->off[k] += c->idx[d] * x->pstride[k][d];
  }
}

static inline void cur_next(cursor *c, const smp_ctx *x) {
  if (x->pscalar) return;
  const lz_array *o = x->out;
  for (int d = o->ndim - 1; d >= 0; d--) {
    c->idx[d]++;
    for (int k = 0; k < x->nparams; k++) c->off[k] += x->pstride[k][d];
    if (c->idx[d] < o->shape[d]) return;
    for (int k = 0; k < x->nparams; k++) c->off[k] -= x->pstride[k][d] * o->shape[d];
    c->idx[d] = 0;
  }
}

static inline double par(const smp_ctx *x, const cursor *c, int k) {
  const char *p = x->pbase[k] + c->off[k] * (int64_t)lz_dtype_size(x->pdtype[k]);
  switch (x->pdtype[k]) {
  case LZ_FLOAT32:
    return *(const float *)p;
  case LZ_FLOAT16:
    return lz_h2f(*(const uint16_t *)p);
  case LZ_BFLOAT16:
    return lz_b2f(*(const uint16_t *)p);
  case LZ_FLOAT64:
    return *(const double *)p;
  default:
    return lz__load_f64(p, x->pdtype[k]);
  }
}

static inline void store_float(const smp_ctx *x, int64_t i, double v) {
  switch (x->out->dtype) {
  case LZ_FLOAT32:
    ((float *)x->dst)[i] = (float)v;
    break;
  case LZ_FLOAT16:
    ((uint16_t *)x->dst)[i] = lz_f2h((float)v);
    break;
  case LZ_BFLOAT16:
    ((uint16_t *)x->dst)[i] = lz_f2b((float)v);
    break;
  case LZ_FLOAT64:
    ((double *)x->dst)[i] = v;
    break;
  default:
    break;
  }
}

static rnd_fmt fmt_of(lz_dtype d) {
  return d == LZ_FLOAT16 ? RND_F16 : d == LZ_BFLOAT16 ? RND_BF16 : RND_F32;
}

/* Sets up the context of an elementwise sampler, allocates the output and runs `emit` over
 * the output's words (one word per element). */
static int run_sampler(lz_node *node, lz_array **outs, lz_random_emit_fn emit, const char *op) {
  lz_array *out = outs[0];
  if (lz__alloc_output(out, op) != 0) return -1;
  smp_ctx x = {.p = node->params, .out = out, .dst = lz__data_ptr(out), .pscalar = true};
  x.fmt = fmt_of(x.p->dtype);
  x.nparams = node->ninputs - 1;
  for (int k = 0; k < x.nparams; k++) {
    lz_array *in = node->inputs[k + 1];
    x.pbase[k] = lz__data_ptr(in);
    x.pdtype[k] = in->dtype;
    lz_cpu_broadcast_strides(in, out, x.pstride[k]);
    for (int d = 0; d < out->ndim; d++) x.pscalar &= x.pstride[k][d] == 0;
  }
  uint32_t k0, k1;
  lz_cpu_random_key_words(node->inputs[0], &k0, &k1);
  lz_cpu_random_generate(k0, k1, out->size, emit, &x);
  return 0;
}

/* ---- bits and split ---- */

typedef struct bytes_ctx {
  char *dst;
  int64_t nbytes;
} bytes_ctx;

/* Word i covers bytes [4i, 4i + 4) of the output (the last word may be cut short). */
static void emit_bytes(void *arg, int64_t begin, int64_t n, const uint32_t *w) {
  const bytes_ctx *b = arg;
  int64_t start = 4 * begin, len = 4 * n;
  if (start + len > b->nbytes) len = b->nbytes - start;
  if (len > 0) memcpy(b->dst + start, w, (size_t)len);
}

int lz_cpu_random_bits(lz_node *node, lz_array **outs) {
  lz_array *out = outs[0];
  if (lz__alloc_output(out, "lz_random_bits") != 0) return -1;
  bytes_ctx b = {lz__data_ptr(out), out->size * (int64_t)lz_dtype_size(out->dtype)};
  uint32_t k0, k1;
  lz_cpu_random_key_words(node->inputs[0], &k0, &k1);
  lz_cpu_random_generate(k0, k1, (b.nbytes + 3) / 4, emit_bytes, &b);
  return 0;
}

int lz_cpu_random_split(lz_node *node, lz_array **outs) {
  uint32_t k0, k1, w[4];
  lz_cpu_random_key_words(node->inputs[0], &k0, &k1);
  lz_cpu_random_split2(k0, k1, w);
  for (int k = 0; k < 2; k++) {
    if (lz__alloc_output(outs[k], "lz_random_split_pair") != 0) return -1;
    memcpy(lz__data_ptr(outs[k]), w + 2 * k, 2 * sizeof(uint32_t));
  }
  return 0;
}

/* ---- uniform: low + (high - low) * unit, every step in the sampling dtype ---- */

static void emit_uniform(void *arg, int64_t begin, int64_t n, const uint32_t *w) {
  const smp_ctx *x = arg;
  if (x->pscalar && x->out->dtype == LZ_FLOAT32) { /* the common case, without the cursor */
    cursor c0;
    cur_init(&c0, x, 0);
    float lo = (float)par(x, &c0, 0), range = (float)par(x, &c0, 1) - lo;
    float *dst = (float *)x->dst + begin;
    for (int64_t t = 0; t < n; t++) {
      float v = range * rnd_unit(RND_F32, w[t]);
      dst[t] = v + lo;
    }
    return;
  }
  cursor c;
  cur_init(&c, x, begin);
  for (int64_t t = 0; t < n; t++, cur_next(&c, x)) {
    float lo = (float)par(x, &c, 0), hi = (float)par(x, &c, 1);
    float range = rnd_round(x->fmt, hi - lo);
    float v = rnd_round(x->fmt, range * rnd_unit(x->fmt, w[t]));
    store_float(x, begin + t, rnd_round(x->fmt, v + lo));
  }
}

int lz_cpu_random_uniform(lz_node *node, lz_array **outs) {
  return run_sampler(node, outs, emit_uniform, "lz_random_uniform");
}

/* A float32 uniform draw in [nextafter(-1, 0), 1), the first step of normal and laplace. */
static inline float unit_symmetric(uint32_t w) {
  const float lo = -1.0f + 0x1p-24f, range = 1.0f - lo;
  float v = range * rnd_unit(RND_F32, w);
  return v + lo;
}

/* ---- normal and truncated normal: erfinv-based, defined for each erfinv/erf variant ---- */

/* normal: sqrt(2) * erfinv(u) in float32, then scale and loc in the dtype. */
#define DEFINE_EMIT_NORMAL(NAME, ERFINV, ATTR)                                                     \
  ATTR static void NAME(void *arg, int64_t begin, int64_t n, const uint32_t *w) {                  \
    const smp_ctx *x = arg;                                                                        \
    const lz_random_params *p = x->p;                                                              \
    if (p->dtype == LZ_FLOAT64) {                                                                  \
      double s = sqrt(2.0) * p->scale;                                                             \
      for (int64_t t = 0; t < n; t++) {                                                            \
        double v = s * (double)ERFINV(unit_symmetric(w[t]));                                       \
        if (p->loc != 0) v = p->loc + v;                                                           \
        ((double *)x->dst)[begin + t] = v;                                                         \
      }                                                                                            \
      return;                                                                                      \
    }                                                                                              \
    rnd_fmt f = x->fmt;                                                                            \
    float s = rnd_round(f, rnd_round(f, (float)sqrt(2.0)) * rnd_round(f, (float)p->scale));        \
    float loc = rnd_round(f, (float)p->loc);                                                       \
    for (int64_t t = 0; t < n; t++) {                                                              \
      float v = rnd_round(f, s * rnd_round(f, ERFINV(unit_symmetric(w[t]))));                      \
      if (p->loc != 0) v = rnd_round(f, loc + v);                                                  \
      store_float(x, begin + t, v);                                                                \
    }                                                                                              \
  }

/* truncated normal: uniform between erf(lower/sqrt2) and erf(upper/sqrt2), mapped back by
 * sqrt2 * erfinv and clipped to [lower, upper]; every step in the dtype. */
#define DEFINE_EMIT_TRUNCATED(NAME, ERFINV, ERF, ATTR)                                             \
  ATTR static void NAME(void *arg, int64_t begin, int64_t n, const uint32_t *w) {                  \
    const smp_ctx *x = arg;                                                                        \
    rnd_fmt f = x->fmt;                                                                            \
    const float sqrt2 = rnd_round(f, (float)sqrt(2.0));                                            \
    float last_lo = NAN, last_hi = NAN, a = 0, b = 0;                                              \
    cursor c;                                                                                      \
    cur_init(&c, x, begin);                                                                        \
    for (int64_t t = 0; t < n; t++, cur_next(&c, x)) {                                             \
      float lo = (float)par(x, &c, 0), hi = (float)par(x, &c, 1);                                  \
      if (!(lo == last_lo && hi == last_hi)) { /* bounds repeat: erf them once */                  \
        a = rnd_round(f, ERF(rnd_round(f, lo / sqrt2)));                                           \
        b = rnd_round(f, ERF(rnd_round(f, hi / sqrt2)));                                           \
        last_lo = lo, last_hi = hi;                                                                \
      }                                                                                            \
      float range = rnd_round(f, b - a);                                                           \
      float u = rnd_round(f, rnd_round(f, range * rnd_unit(f, w[t])) + a);                         \
      float v = rnd_round(f, sqrt2 * rnd_round(f, ERFINV(u)));                                     \
      store_float(x, begin + t, rnd_maximum(rnd_minimum(hi, v), lo));                              \
    }                                                                                              \
  }

DEFINE_EMIT_NORMAL(emit_normal, rnd_erfinv, )
DEFINE_EMIT_TRUNCATED(emit_truncated_normal, rnd_erfinv, rnd_erf, )
#ifdef RND_FMA_ATTR
DEFINE_EMIT_NORMAL(emit_normal_fma, rnd_erfinv_fma, RND_FMA_ATTR)
DEFINE_EMIT_TRUNCATED(emit_truncated_normal_fma, rnd_erfinv_fma, rnd_erf_fma, RND_FMA_ATTR)

static atomic_bool fma_allowed = true;

void lz_cpu_random_allow_fma(bool allow) { atomic_store(&fma_allowed, allow); }

bool lz_cpu_random_use_fma(void) {
  return atomic_load(&fma_allowed) && lz_isa_path() >= LZ_ISA_AVX2; /* FMA included */
}
#define PICK(PLAIN, FMA) (lz_cpu_random_use_fma() ? (FMA) : (PLAIN))
#else
void lz_cpu_random_allow_fma(bool allow) { (void)allow; }
#define PICK(PLAIN, FMA) (PLAIN)
#endif

int lz_cpu_random_normal(lz_node *node, lz_array **outs) {
  return run_sampler(node, outs, PICK(emit_normal, emit_normal_fma), "lz_random_normal");
}

int lz_cpu_random_truncated_normal(lz_node *node, lz_array **outs) {
  return run_sampler(node, outs, PICK(emit_truncated_normal, emit_truncated_normal_fma),
                     "lz_random_truncated_normal");
}

/* ---- bernoulli: bits < p * nextafter(2^32 - 1 as float32, inf) ---- */

static void emit_bernoulli(void *arg, int64_t begin, int64_t n, const uint32_t *w) {
  const smp_ctx *x = arg;
  const float upper = 4294967808.0f; /* the float32 after (float)UINT32_MAX == 2^32 */
  bool wide = x->pdtype[0] == LZ_FLOAT64, *dst = (bool *)x->dst;
  cursor c;
  cur_init(&c, x, begin);
  for (int64_t t = 0; t < n; t++, cur_next(&c, x)) {
    double p = par(x, &c, 0);
    dst[begin + t] = wide ? (double)w[t] < p * (double)upper : (float)w[t] < (float)p * upper;
  }
}

int lz_cpu_random_bernoulli(lz_node *node, lz_array **outs) {
  return run_sampler(node, outs, emit_bernoulli, "lz_random_bernoulli");
}

/* ---- gumbel: -log(-log(u)), each step in the dtype ---- */

static void emit_gumbel(void *arg, int64_t begin, int64_t n, const uint32_t *w) {
  const smp_ctx *x = arg;
  rnd_fmt f = x->fmt;
  for (int64_t t = 0; t < n; t++) {
    float v = -rnd_round(f, logf(rnd_unit(f, w[t])));
    store_float(x, begin + t, -rnd_round(f, logf(v)));
  }
}

int lz_cpu_random_gumbel(lz_node *node, lz_array **outs) {
  return run_sampler(node, outs, emit_gumbel, "lz_random_gumbel");
}

/* ---- laplace: sign(u) * log1p(-|u|) for u uniform in (-1, 1), then scale and loc ---- */

static void emit_laplace(void *arg, int64_t begin, int64_t n, const uint32_t *w) {
  const smp_ctx *x = arg;
  const lz_random_params *p = x->p;
  float scale = (float)p->scale, loc = (float)p->loc;
  if (p->dtype == LZ_FLOAT64) { /* MLX's -1 * |u| is float64 here, so log1p is too */
    for (int64_t t = 0; t < n; t++) {
      float u = unit_symmetric(w[t]);
      double v = (double)((u > 0) - (u < 0)) * log1p(-1.0 * (double)fabsf(u));
      if (scale != 1.0f) v = (double)scale * v;
      if (loc != 0.0f) v = (double)loc + v;
      ((double *)x->dst)[begin + t] = v;
    }
    return;
  }
  rnd_fmt f = x->fmt;
  float s = rnd_round(f, scale), l = rnd_round(f, loc);
  for (int64_t t = 0; t < n; t++) {
    float u = unit_symmetric(w[t]);
    float v = rnd_round(f, (float)((u > 0) - (u < 0)) * log1pf(-1.0f * fabsf(u)));
    if (scale != 1.0f) v = rnd_round(f, s * v);
    if (loc != 0.0f) v = rnd_round(f, l + v);
    store_float(x, begin + t, v);
  }
}

int lz_cpu_random_laplace(lz_node *node, lz_array **outs) {
  return run_sampler(node, outs, emit_laplace, "lz_random_laplace");
}
