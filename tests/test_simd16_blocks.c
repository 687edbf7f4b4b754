/* The 16-lane kernels of the blocked ops (cpu/simd16_blocks.h) against the scalar path: each
 * case is computed on LZ_ISA_SCALAR, LZ_ISA_AVX2 and the AVX-512 path (native where the CPU has
 * it, else its AVX2 emulation), from fresh graphs, and the results compared. Quantized matmul:
 * every bit width and group size, each float mode, both layouts, the whole-word kernel and the
 * general one (K that is not a multiple of its chunk), 1 to 15 rows and the tiled BLAS path,
 * strided (transposed) and offset inputs. Attention: forward and fused gradient, odd lengths,
 * causal, boolean and additive masks, sinks, grouped heads, strided operands. Depthwise
 * convolution on the reference path (LZ_CONV=ref), odd channel counts, strides. */
#include "lz_test.h"

#include "core/isa.h"
#include "cpu/conv.h"
#include "cpu/simd16_table.h"

static lz_isa s16_path; /* the AVX-512 path this CPU runs, LZ_ISA_COUNT if none */

static lz_array *rnd(const int *shape, int nd, uint32_t seed) {
  size_t n = 1;
  for (int d = 0; d < nd; d++) n *= (size_t)shape[d];
  float *v = malloc(n * sizeof(float) + 4);
  uint32_t s = seed * 2654435761u + 7;
  for (size_t i = 0; i < n; i++)
    s = s * 1664525u + 1013904223u, v[i] = (float)((s >> 8) / 8388608.0 - 1.0);
  lz_array *a = lz_array_from_data(v, shape, nd, LZ_FLOAT32);
  free(v);
  return a;
}

/* Builds the case's outputs (fresh nodes each call) into out[]; returns how many. */
typedef int (*build_fn)(const void *ctx, lz_array **out);

/* Evaluates build on `path` and returns the outputs' values as float64 (malloc'd), lengths in n. */
static double *run_on(lz_isa path, build_fn build, const void *ctx, size_t *n) {
  lz_isa prev = lz_isa_set(path);
  lz_array *out[8] = {0};
  int k = build(ctx, out);
  size_t total = 0;
  for (int i = 0; i < k; i++) total += out[i] ? lz_array_size(out[i]) : 0;
  double *v = malloc((total ? total : 1) * sizeof(double));
  size_t at = 0;
  for (int i = 0; i < k; i++) {
    CHECK(out[i] != NULL);
    if (!out[i]) continue;
    size_t m = lz_array_size(out[i]);
    CHECK(lz_array_read(out[i], LZ_FLOAT64, v + at, m * sizeof(double)) == 0);
    at += m;
  }
  lz_isa_set(prev);
  *n = at;
  return v;
}

/* Every fast path against the scalar one, within tol relative to the output's largest value. */
static void compare_paths(const char *what, build_fn build, const void *ctx, double tol) {
  size_t n0, n1;
  double *ref = run_on(LZ_ISA_SCALAR, build, ctx, &n0);
  double big = 0;
  for (size_t i = 0; i < n0; i++) big = fabs(ref[i]) > big && isfinite(ref[i]) ? fabs(ref[i]) : big;
  lz_isa paths[2] = {LZ_ISA_AVX2, s16_path};
  for (int p = 0; p < 2; p++) {
    if (paths[p] == LZ_ISA_COUNT || !lz_isa_supported(paths[p])) continue;
    double *got = run_on(paths[p], build, ctx, &n1);
    CHECK(n1 == n0);
    for (size_t i = 0; i < n0 && i < n1; i++) {
      double g = got[i], e = ref[i];
      bool ok = (isnan(g) && isnan(e)) || g == e || fabs(g - e) <= tol * (1 + big);
      if (!ok) {
        lzt_failures++;
        fprintf(stderr, "%s: %s on %s: element %zu = %.9g, scalar %.9g\n", lzt_current, what,
                lz_isa_name(paths[p]), i, g, e);
        break;
      }
    }
    lzt_checks++;
    free(got);
  }
  free(ref);
}

/* ---- quantized matmul ---- */

typedef struct qcase {
  int M, N, K, gs, bits, mode;
  bool transpose, strided_x; /* x given as a transposed view */
  int xoff;                  /* x is a slice starting this many rows in */
} qcase;

static int build_qmm(const void *vc, lz_array **out) {
  const qcase *c = vc;
  int rows = c->transpose ? c->N : c->K, cols = c->transpose ? c->K : c->N;
  lz_array *w = rnd((int[]){rows, cols}, 2, (uint32_t)(c->N * 31 + c->K + c->bits));
  lz_array *q[3] = {0};
  if (lz_quantize_v2(w, c->gs, c->bits, (lz_quant_mode)c->mode, q) != 0) return 0;
  lz_array *x;
  if (c->strided_x)
    x = lz_transpose(rnd((int[]){c->K, c->M}, 2, 5), (int[]){1, 0}, 2);
  else
    x = lz_slice(rnd((int[]){c->M + c->xoff, c->K}, 2, 6), (int[]){c->xoff, 0},
                 (int[]){c->M + c->xoff, c->K}, NULL, 2);
  out[0] = lz_quantized_matmul_v2(x, q[0], q[1], q[2], c->transpose, c->gs, c->bits,
                                  (lz_quant_mode)c->mode);
  return 1;
}

static void test_qmm_affine(void) {
  static const int bits[] = {2, 3, 4, 5, 6, 8}, gss[] = {32, 64, 128};
  for (int b = 0; b < 6; b++)
    for (int g = 0; g < 3; g++)
      for (int t = 0; t < 2; t++) {
        /* K = 256: every chunk (64, 128, 256 codes) divides it; 384 + gs: not all do */
        int Ks[2] = {256, 384 + gss[g]};
        for (int k = 0; k < 2; k++) {
          /* W (N, K): any N; W (K, N): N a multiple of the group size */
          qcase c = {b % 3 == 0 ? 1 : 3 + 4 * g, t ? 2 * gss[g] + 5 : 3 * gss[g], Ks[k], gss[g],
                     bits[b], LZ_QUANT_AFFINE, t == 1, false, 0};
          compare_paths("quantized_matmul", build_qmm, &c, 2e-5);
        }
      }
}

static void test_qmm_rows_and_views(void) {
  /* every row count of the direct kernels, then the tiled BLAS path */
  for (int M = 1; M <= 17; M += 2) {
    qcase t4 = {M, 40, 512, 64, 4, LZ_QUANT_AFFINE, true, false, 0};
    compare_paths("qmm rows (N,K) 4-bit", build_qmm, &t4, 2e-5);
    qcase n3 = {M, 96, 70, 32, 3, LZ_QUANT_AFFINE, false, false, 0};
    compare_paths("qmm rows (K,N) 3-bit", build_qmm, &n3, 2e-5);
  }
  qcase big = {33, 64, 256, 32, 6, LZ_QUANT_AFFINE, true, false, 0};
  compare_paths("qmm tiles (N,K)", build_qmm, &big, 2e-5);
  qcase bign = {20, 128, 96, 64, 5, LZ_QUANT_AFFINE, false, false, 0};
  compare_paths("qmm tiles (K,N)", build_qmm, &bign, 2e-5);
  qcase tv = {5, 48, 256, 32, 2, LZ_QUANT_AFFINE, true, true, 0};
  compare_paths("qmm strided x", build_qmm, &tv, 2e-5);
  qcase ov = {3, 48, 256, 128, 8, LZ_QUANT_AFFINE, true, false, 3};
  compare_paths("qmm offset x", build_qmm, &ov, 2e-5);
}

static void test_qmm_float_modes(void) {
  static const int modes[] = {LZ_QUANT_MXFP4, LZ_QUANT_MXFP8, LZ_QUANT_NVFP4};
  static const int gs[] = {32, 32, 16}, bits[] = {4, 8, 4};
  for (int m = 0; m < 3; m++)
    for (int t = 0; t < 2; t++)
      for (int M = 1; M <= 4; M += 3) {
        qcase c = {M, 64, t ? 256 : 160, gs[m], bits[m], modes[m], t == 1, false, 0};
        compare_paths("quantized_matmul float mode", build_qmm, &c, 2e-5);
      }
}

/* ---- attention ---- */

typedef struct acase {
  int B, Hq, Hkv, Lq, Lk, D, Dv;
  const char *mode; /* NULL, "causal", "bool", "add" */
  bool sinks, strided_q, grad;
} acase;

static lz_array *sd_mask(const acase *c) {
  if (!c->mode || !strcmp(c->mode, "causal")) return NULL;
  lz_array *r = rnd((int[]){c->Lq, c->Lk}, 2, 77);
  if (!strcmp(c->mode, "bool")) return lz_greater(r, lz_float(-0.3));
  return lz_multiply(r, lz_float(2.0));
}

typedef struct sd_ctx {
  const acase *c;
  lz_array *mask;
} sd_ctx;

static int f_sdpa(void *vctx, lz_array *const *in, int n, lz_array **out) {
  const sd_ctx *s = vctx;
  const char *mode = s->c->mode && !strcmp(s->c->mode, "causal") ? "causal" : s->mask ? "array" : NULL;
  out[0] = lz_fast_scaled_dot_product_attention_v2(in[0], in[1], in[2], 0.37, mode, s->mask,
                                                   n > 3 ? in[3] : NULL);
  return out[0] ? 1 : -1;
}

static int build_sdpa(const void *vc, lz_array **out) {
  const acase *c = vc;
  lz_array *q = c->strided_q
                    ? lz_swapaxes(rnd((int[]){c->B, c->Lq, c->Hq, c->D}, 4, 1), 1, 2)
                    : rnd((int[]){c->B, c->Hq, c->Lq, c->D}, 4, 1);
  lz_array *k = lz_multiply(rnd((int[]){c->B, c->Hkv, c->Lk, c->D}, 4, 2), lz_float(3.0));
  lz_array *v = rnd((int[]){c->B, c->Hkv, c->Lk, c->Dv}, 4, 3);
  lz_array *in[4] = {q, k, v, c->sinks ? rnd((int[]){c->Hq}, 1, 4) : NULL};
  int n = c->sinks ? 4 : 3;
  sd_ctx s = {c, sd_mask(c)};
  if (!c->grad) {
    f_sdpa(&s, in, n, out);
    return 1;
  }
  lz_closure *f = lz_closure_new(f_sdpa, &s, NULL);
  lz_array *cot = rnd((int[]){c->B, c->Hq, c->Lq, c->Dv}, 4, 9), *o = NULL;
  int rc = lz_vjp(f, in, n, &cot, 1, &o, out);
  lz_closure_free(f);
  if (rc != 0) return 0;
  out[n] = o;
  return n + 1;
}

static void test_sdpa(void) {
  static const acase cases[] = {
      {1, 2, 2, 7, 13, 16, 16, NULL, false, false, false},
      {2, 4, 2, 33, 150, 24, 20, NULL, false, false, false},
      {1, 2, 1, 40, 40, 17, 9, "causal", false, false, false},
      {2, 2, 2, 19, 37, 32, 32, "bool", true, false, false},
      {1, 3, 3, 21, 130, 8, 40, "add", false, true, false},
      {1, 2, 2, 9, 1, 16, 16, NULL, true, false, false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    acase c = cases[i];
    compare_paths("sdpa", build_sdpa, &c, 2e-5);
    c.grad = true;
    compare_paths("sdpa gradient", build_sdpa, &c, 5e-5);
  }
}

/* ---- depthwise convolution (the reference path's direct loop) ---- */

typedef struct ccase {
  int N, C, H, W, k, stride, mult; /* mult: output channels per group */
} ccase;

static int build_dw(const void *vc, lz_array **out) {
  const ccase *c = vc;
  lz_array *x = rnd((int[]){c->N, c->H, c->W, c->C}, 4, 11);
  lz_array *w = rnd((int[]){c->C * c->mult, c->k, c->k, 1}, 4, 12);
  out[0] = lz_conv2d(x, w, c->stride, c->stride, c->k / 2, c->k / 2, 1, 1, c->C);
  return 1;
}

static void test_depthwise(void) {
  static const ccase cases[] = {
      {2, 16, 9, 8, 3, 1, 1}, {1, 37, 7, 11, 3, 2, 1}, {3, 5, 6, 6, 5, 1, 1}, {1, 19, 8, 8, 3, 1, 2},
  };
  lz_cpu_conv_set_path(LZ_CONV_PATH_REF);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    compare_paths("depthwise conv", build_dw, &cases[i], 1e-6);
  lz_cpu_conv_set_path(-1);
}

int main(void) {
  s16_path = lz_isa_supported(LZ_ISA_AVX512) ? LZ_ISA_AVX512
             : lz_isa_supported(LZ_ISA_AVX512EMU) ? LZ_ISA_AVX512EMU
                                                  : LZ_ISA_COUNT;
  if (s16_path == LZ_ISA_COUNT) fprintf(stderr, "no AVX-512 path on this CPU or build\n");
  RUN(test_qmm_affine);
  RUN(test_qmm_rows_and_views);
  RUN(test_qmm_float_modes);
  RUN(test_sdpa);
  RUN(test_depthwise);
  return lzt_summary();
}
