/* Fused rms_norm and layer_norm: one task per block of rows; each row is read from memory once
 * (the statistics passes and the output pass then hit the cache), against the 6 to 8 full
 * passes of the composed ops. Sums run in 16 float lanes (vectorised; the AVX2 build or the
 * AVX-512 kernels of cpu/simd16_kernels.h are chosen at run time) and are combined in double. float16/bfloat16 rows are widened into per-thread
 * scratch first and the result rounded once. */
#include <math.h>

#include "../core/threads.h"
#include "fast.h"
#include "linalg_pack.h"
#include "simd16_table.h"
#include "unary.h"

/* The row primitives, built twice: for the baseline target and for AVX2+FMA. */
#define LANES 16
#define NORM_ROW_FNS(SFX, ATTR)                                                                    \
  ATTR static double sum_##SFX(const float *x, int64_t n, float mu, bool sq) {                     \
    float acc[LANES] = {0};                                                                        \
    int64_t i = 0;                                                                                 \
    if (sq) {                                                                                      \
      for (; i + LANES <= n; i += LANES)                                                           \
        for (int l = 0; l < LANES; l++) {                                                          \
          float d = x[i + l] - mu;                                                                 \
          acc[l] += d * d;                                                                         \
        }                                                                                          \
    } else {                                                                                       \
      for (; i + LANES <= n; i += LANES)                                                           \
        for (int l = 0; l < LANES; l++) acc[l] += x[i + l];                                        \
    }                                                                                              \
    double s = 0;                                                                                  \
    for (int l = 0; l < LANES; l++) s += acc[l];                                                   \
    for (; i < n; i++) s += sq ? (double)(x[i] - mu) * (x[i] - mu) : x[i];                         \
    return s;                                                                                      \
  }                                                                                                \
  /* y = (x - mu) * inv * w + b; w, b may be NULL (1, 0). */                                       \
  ATTR static void apply_##SFX(float *restrict y, const float *restrict x, float mu, float inv,    \
                               const float *restrict w, const float *restrict b, int64_t n) {      \
    if (w && b)                                                                                    \
      for (int64_t i = 0; i < n; i++) y[i] = (x[i] - mu) * inv * w[i] + b[i];                      \
    else if (w)                                                                                    \
      for (int64_t i = 0; i < n; i++) y[i] = (x[i] - mu) * inv * w[i];                             \
    else if (b)                                                                                    \
      for (int64_t i = 0; i < n; i++) y[i] = (x[i] - mu) * inv + b[i];                             \
    else                                                                                           \
      for (int64_t i = 0; i < n; i++) y[i] = (x[i] - mu) * inv;                                    \
  }

NORM_ROW_FNS(base, )
#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_AVX2_ROWS 1
NORM_ROW_FNS(avx2, __attribute__((target("avx2,fma"))))
#endif

typedef struct norm_job {
  const lz_array *x;
  lz_array *out;
  const float *w, *b; /* float32 tables or NULL */
  float eps;
  bool layer;
  lz_isa path;
  lz_fast_slots slots;
} norm_job;

static void norm_rows(void *vctx, int64_t begin, int64_t end) {
  norm_job *j = vctx;
  int64_t D = j->x->shape[j->x->ndim - 1];
  void *mem;
  int slot = lz_fast_slot_claim(&j->slots, &mem);
  float *xbuf = mem, *ybuf = xbuf + D;
  bool direct = j->out->dtype == LZ_FLOAT32;
  size_t oes = lz_dtype_size(j->out->dtype);
  for (int64_t r = begin; r < end; r++) {
    const float *xr = lz_fast_row(j->x, r, xbuf);
    char *orow = lz__data_ptr(j->out) + r * D * (int64_t)oes;
    float *yr = direct ? (float *)orow : ybuf;
    double (*sum)(const float *, int64_t, float, bool) = sum_base;
    void (*apply)(float *, const float *, float, float, const float *, const float *, int64_t) =
        apply_base;
    const lz_s16_kernels *t = lz_s16_for(j->path);
    if (t) sum = t->norm_sum, apply = t->norm_apply;
#ifdef HAVE_AVX2_ROWS
    else if (j->path >= LZ_ISA_AVX2) sum = sum_avx2, apply = apply_avx2;
#endif
    float mu = 0, var;
    if (j->layer) {
      mu = (float)(sum(xr, D, 0, false) / (double)D);
      var = (float)(sum(xr, D, mu, true) / (double)D);
    } else {
      var = (float)(sum(xr, D, 0, true) / (double)D);
    }
    float inv = 1.0f / sqrtf(var + j->eps);
    apply(yr, xr, mu, inv, j->w, j->b, D);
    if (!direct) lz_fast_store(orow, j->out->dtype, yr, D);
  }
  lz_fast_slot_release(&j->slots, slot);
}

/* Loads a (D,) input as a float32 table into dst. */
static void load_vec(float *dst, const lz_array *a) {
  lz_fast_load(dst, lz__data_ptr(a), a->dtype, a->ndim ? a->strides[0] : 0, a->size);
}

static int run_norm(lz_node *node, lz_array **outs, bool layer) {
  const lz_norm_params *p = node->params;
  lz_array *x = node->inputs[0], *out = outs[0];
  const char *op = layer ? "lz_fast_layer_norm" : "lz_fast_rms_norm";
  if (lz__alloc_output(out, op) != 0) return -1;
  if (out->size == 0) return 0;
  int64_t D = x->shape[x->ndim - 1], rows = x->size / D;
  norm_job j = {.x = x, .out = out, .eps = p->eps, .layer = layer, .path = lz_isa_path()};
  /* Each slot: the row and the result row; the first slot also keeps the weight/bias tables,
   * allocated once up front so any out-of-memory error is raised here. */
  size_t cap = 0;
  float *tables = NULL;
  if (p->has_weight || p->has_bias) {
    tables = lz_cpu_scratch(2 * (size_t)D * sizeof(float), &cap, op);
    if (!tables) return -1;
    int k = 1;
    if (p->has_weight) load_vec(tables, node->inputs[k++]), j.w = tables;
    if (p->has_bias) load_vec(tables + D, node->inputs[k]), j.b = tables + D;
  }
  if (lz_fast_slots_init(&j.slots, 2 * (size_t)D * sizeof(float), op) != 0) {
    if (tables) lz_cpu_scratch_free(tables, cap);
    return -1;
  }
  lz__parallel_for(rows, 16384 / D + 1, norm_rows, &j);
  lz_fast_slots_free(&j.slots);
  if (tables) lz_cpu_scratch_free(tables, cap);
  return 0;
}

int lz_cpu_rms_norm(lz_node *node, lz_array **outs) { return run_norm(node, outs, false); }
int lz_cpu_layer_norm(lz_node *node, lz_array **outs) { return run_norm(node, outs, true); }
