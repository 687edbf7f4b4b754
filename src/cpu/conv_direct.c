/* Direct depthwise convolution: one input channel per group, so output channel o reads input
 * channel o / Og. Each output pixel accumulates its taps into its output row; with one output
 * channel per group (the usual depthwise layer) the loop over channels is a contiguous
 * multiply-add that the compiler vectorises. Threads split the output lines (N * D * H). */
#include "conv.h"

#include "../core/threads.h"
#include "simd16_table.h"
#include "unary.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define LZ_DW_AVX2 1
#endif

typedef struct dw_job {
  const lz_conv_geom *g;
  const float *x, *wt;
  float *y;
  bool avx2;
  void (*row16)(float *acc, const float *x, const float *w, int64_t n); /* AVX-512 paths */
} dw_job;

/* acc[c] += xin[c] * wt[c] for c < n. */
static void fma_row(float *restrict acc, const float *restrict xin, const float *restrict wt,
                    int64_t n) {
  for (int64_t c = 0; c < n; c++) acc[c] += xin[c] * wt[c];
}

#ifdef LZ_DW_AVX2
__attribute__((target("avx2,fma"))) static void
fma_row_avx2(float *restrict acc, const float *restrict xin, const float *restrict wt, int64_t n) {
  for (int64_t c = 0; c < n; c++) acc[c] += xin[c] * wt[c];
}
#endif

static inline int64_t dw_index(const lz_conv_geom *g, int d, int64_t o, int64_t t) {
  int64_t p = o * g->stride[d] + t * g->kdil[d] - g->pad[d];
  if (p < 0) return -1;
  if (g->idil[d] > 1) {
    if (p % g->idil[d]) return -1;
    p /= g->idil[d];
  }
  return p < g->in[d] ? p : -1;
}

static void dw_lines(void *vctx, int64_t begin, int64_t end) {
  const dw_job *j = vctx;
  const lz_conv_geom *g = j->g;
  int64_t O = g->O, Og = g->Og, C = g->C;
  for (int64_t line = begin; line < end; line++) {
    int64_t o1 = line % g->out[1], t = line / g->out[1];
    int64_t o0 = t % g->out[0], n = t / g->out[0];
    const float *xn = j->x + n * g->in[0] * g->in[1] * g->in[2] * C;
    float *yl = j->y + line * g->out[2] * O;
    memset(yl, 0, (size_t)(g->out[2] * O) * sizeof(float));
    for (int64_t k0 = 0, tap = 0; k0 < g->k[0]; k0++) {
      int64_t i0 = dw_index(g, 0, o0, k0);
      for (int64_t k1 = 0; k1 < g->k[1]; k1++) {
        int64_t i1 = i0 < 0 ? -1 : dw_index(g, 1, o1, k1);
        for (int64_t k2 = 0; k2 < g->k[2]; k2++, tap++) {
          if (i1 < 0) continue;
          const float *wt = j->wt + tap * O;
          const float *xrow = xn + (i0 * g->in[1] + i1) * g->in[2] * C;
          for (int64_t o2 = 0; o2 < g->out[2]; o2++) {
            int64_t i2 = dw_index(g, 2, o2, k2);
            if (i2 < 0) continue;
            const float *xin = xrow + i2 * C;
            float *acc = yl + o2 * O;
            if (Og == 1) {
              if (j->row16) {
                j->row16(acc, xin, wt, O);
                continue;
              }
#ifdef LZ_DW_AVX2
              if (j->avx2) {
                fma_row_avx2(acc, xin, wt, O);
                continue;
              }
#endif
              fma_row(acc, xin, wt, O);
            } else {
              for (int64_t oc = 0; oc < O; oc++) acc[oc] += xin[oc / Og] * wt[oc];
            }
          }
        }
      }
    }
  }
}

void lz_cpu_conv_depthwise(const lz_conv_geom *g, const float *x, const float *wt, float *y) {
  dw_job j = {.g = g, .x = x, .wt = wt, .y = y};
#ifdef LZ_DW_AVX2
  j.avx2 = lz_cpu_vec_unary(LZ_VEC_EXP) != NULL; /* AVX2+FMA present and SIMD not turned off */
#endif
  const lz_s16_kernels *s16 = lz_s16_current();
  j.row16 = s16 ? s16->conv_fma_row : NULL;
  int64_t lines = g->N * g->out[0] * g->out[1];
  int64_t work = g->out[2] * g->O * g->kvol + 1;
  lz__parallel_for(lines, 65536 / work + 1, dw_lines, &j);
}
