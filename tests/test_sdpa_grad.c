/* The fused gradient of lz_fast_scaled_dot_product_attention (cpu/fast_sdpa.c): the vjp records
 * one scaled_dot_product_attention_vjp node, whose dq, dk, dv (and sinks' gradient) are checked
 * against the vjp of the same attention composed of basic ops, over odd lengths, several key and
 * query blocks, causal (Lq <, =, > Lk), boolean masks with fully masked rows, additive masks,
 * grouped-query heads, batches, sinks, float16/bfloat16 and one thread against two; then
 * against finite differences (first order, and the gradient node's own vjp and jvp); vmap of
 * the gradient against the loop. */
#include <float.h>
#include <math.h>

#include "core/internal.h" /* the op of a gradient's node */
#include "test_grad_check.h"
#include "test_vmap_check.h"

static lz_array *rnd(const int *shape, int nd, uint32_t seed, lz_dtype dt) {
  size_t n = 1;
  for (int d = 0; d < nd; d++) n *= (size_t)shape[d];
  float *v = malloc(n * sizeof(float) + 4);
  uint32_t s = seed * 2654435761u + 7;
  for (size_t i = 0; i < n; i++)
    s = s * 1664525u + 1013904223u, v[i] = (float)((s >> 8) / 8388608.0 - 1.0);
  lz_array *a = lz_array_from_data(v, shape, nd, LZ_FLOAT32);
  free(v);
  return lz_astype(a, dt);
}

static double max_diff(lz_array *a, lz_array *b) {
  if (!a || !b) return INFINITY;
  return lz_item_f64(
      lz_max(lz_abs(lz_subtract(lz_astype(a, LZ_FLOAT32), lz_astype(b, LZ_FLOAT32))), false));
}

/* What a case feeds the closures. */
typedef struct sd_case {
  double scale;
  const char *mode;
  lz_array *mask, *sinks; /* constants of the function (sinks: an input when set) */
} sd_case;

/* softmax([sinks,] scale q k^T + mask) v from basic ops, k and v repeated over the query heads. */
static lz_array *composed(const sd_case *c, lz_array *q, lz_array *k, lz_array *v,
                          lz_array *sinks) {
  int B = lz_array_dim(q, 0), Hq = lz_array_dim(q, 1), Lq = lz_array_dim(q, 2);
  int Lk = lz_array_dim(k, 2), rep = Hq / lz_array_dim(k, 1);
  if (rep > 1) k = lz_repeat(k, rep, 1), v = lz_repeat(v, rep, 1);
  lz_array *s = lz_multiply(lz_matmul(q, lz_swapaxes(k, -1, -2)), lz_float(c->scale));
  lz_array *mask = c->mask;
  if (c->mode && strcmp(c->mode, "causal") == 0) {
    lz_array *qi = lz_reshape(lz_arange(Lk - Lq, Lk, 1, LZ_INT32), (int[]){Lq, 1}, 2);
    mask = lz_greater_equal(qi, lz_arange(0, Lk, 1, LZ_INT32));
  }
  if (mask && lz_array_dtype(mask) == LZ_BOOL)
    s = lz_where(mask, s, lz_float(-FLT_MAX));
  else if (mask)
    s = lz_add(s, mask);
  if (!sinks) return lz_matmul(lz_softmax_axis(s, -1, true), v);
  lz_array *sk =
      lz_broadcast_to(lz_reshape(sinks, (int[]){1, Hq, 1, 1}, 4), (int[]){B, Hq, Lq, 1}, 4);
  lz_array *p = lz_softmax_axis(lz_concatenate((lz_array *[]){sk, s}, 2, -1), -1, true);
  p = lz_slice(p, (int[]){0, 0, 0, 1}, (int[]){B, Hq, Lq, Lk + 1}, NULL, 4);
  return lz_matmul(p, v);
}

static const sd_case *cur;
static int f_fused(void *ctx, lz_array *const *x, int n, lz_array **out) {
  (void)ctx;
  out[0] = lz_fast_scaled_dot_product_attention_v2(x[0], x[1], x[2], cur->scale, cur->mode,
                                                   cur->mask, n > 3 ? x[3] : NULL);
  return out[0] ? 1 : -1;
}
static int f_composed(void *ctx, lz_array *const *x, int n, lz_array **out) {
  (void)ctx;
  lz_array *y = composed(cur, lz_astype(x[0], LZ_FLOAT32), lz_astype(x[1], LZ_FLOAT32),
                         lz_astype(x[2], LZ_FLOAT32), n > 3 ? lz_astype(x[3], LZ_FLOAT32) : NULL);
  out[0] = y;
  return y ? 1 : -1;
}

/* The vjp of the fused op against the composed one, at shapes q (B,Hq,Lq,D), k/v (B,Hkv,Lk,.). */
static void check_case(const char *what, const sd_case *c, int B, int Hq, int Hkv, int Lq, int Lk,
                       int D, int Dv, lz_dtype dt, double tol) {
  lz_scope_begin();
  cur = c;
  lz_array *in[4] = {rnd((int[]){B, Hq, Lq, D}, 4, 1, dt), rnd((int[]){B, Hkv, Lk, D}, 4, 2, dt),
                     rnd((int[]){B, Hkv, Lk, Dv}, 4, 3, dt), c->sinks};
  int n = c->sinks ? 4 : 3;
  lz_array *cot = rnd((int[]){B, Hq, Lq, Dv}, 4, 4, dt);
  lz_closure *ff = lz_closure_new(f_fused, NULL, NULL),
             *fc = lz_closure_new(f_composed, NULL, NULL);
  lz_array *gf[4] = {NULL}, *gc[4] = {NULL}, *of[1], *oc[1];
  lz_array *cotc = lz_astype(cot, LZ_FLOAT32);
  CHECK(lz_vjp(ff, in, n, &cot, 1, of, gf) == 0);
  CHECK(lz_vjp(fc, in, n, &cotc, 1, oc, gc) == 0);
  /* the gradient is the fused node, not the composition */
  lz_array *g0 = gf[0];
  CHECK(g0 && g0->node && g0->node->op == LZ_OP_SCALED_DOT_PRODUCT_ATTENTION_VJP);
  for (int i = 0; i < n; i++) {
    CHECK(gf[i] && lz_array_dtype(gf[i]) == lz_array_dtype(in[i]));
    double d = max_diff(gf[i], gc[i]),
           scale = lz_item_f64(lz_max(lz_abs(lz_astype(gc[i], LZ_FLOAT32)), false));
    if (!(d <= tol * (1 + scale))) {
      CHECK(d <= tol * (1 + scale));
      fprintf(stderr, "  %s: gradient %d differs by %g (scale %g)\n", what, i, d, scale);
    }
  }
  lz_closure_free(ff), lz_closure_free(fc);
  lz_scope_end();
}

static void test_against_composed(void) {
  lz_scope_begin();
  sd_case plain = {0.3, NULL, NULL, NULL}, causal = {0.125, "causal", NULL, NULL};
  check_case("plain", &plain, 2, 3, 3, 5, 7, 8, 6, LZ_FLOAT32, 1e-5);
  check_case("causal square odd", &causal, 1, 2, 2, 37, 37, 16, 16, LZ_FLOAT32, 1e-5);
  /* several key blocks (128) and query blocks; Lq < Lk and Lq > Lk (rows that see no key) */
  check_case("causal long", &causal, 1, 2, 1, 150, 301, 24, 20, LZ_FLOAT32, 1e-5);
  check_case("causal Lq > Lk", &causal, 2, 2, 2, 9, 4, 8, 8, LZ_FLOAT32, 1e-5);
  /* grouped-query heads, batched: the LM's layout at a smaller size */
  check_case("causal gqa batched", &causal, 3, 4, 2, 33, 33, 64, 64, LZ_FLOAT32, 1e-5);
  /* a boolean mask with a fully masked row, and an additive one with -inf entries */
  int Lq = 6, Lk = 11;
  bool bm[6 * 11];
  for (int i = 0; i < Lq * Lk; i++) bm[i] = (i * 7) % 3 != 0 && i / Lk != 2;
  sd_case boolm = {0.4, NULL, lz_array_from_data(bm, (int[]){Lq, Lk}, 2, LZ_BOOL), NULL};
  check_case("bool mask", &boolm, 2, 2, 1, Lq, Lk, 5, 3, LZ_FLOAT32, 1e-5);
  lz_array *add = lz_multiply(rnd((int[]){2, 1, Lq, Lk}, 4, 9, LZ_FLOAT32), lz_float(3));
  lz_array *row2 =
      lz_equal(lz_reshape(lz_arange(0, Lq, 1, LZ_INT32), (int[]){Lq, 1}, 2), lz_int(2));
  /* -inf where bm hides a key, but the row bm hides entirely keeps finite scores */
  add = lz_where(lz_logical_or(boolm.mask, row2), add, lz_float(-INFINITY));
  sd_case addm = {0.4, "array", add, NULL};
  check_case("additive mask", &addm, 2, 2, 1, Lq, Lk, 5, 3, LZ_FLOAT32, 1e-5);
  /* sinks (one per query head; their gradient sums over the batch), causal, GQA */
  sd_case sinks = {0.5, "causal", NULL,
                   lz_array_from_data((float[]){0.5f, -1, 2, 0}, (int[]){4}, 1, LZ_FLOAT32)};
  check_case("sinks", &sinks, 3, 4, 2, 13, 17, 8, 8, LZ_FLOAT32, 1e-5);
  /* half types: float32 accumulation, the result rounded once */
  check_case("float16", &causal, 2, 2, 1, 21, 21, 16, 16, LZ_FLOAT16, 2e-2);
  check_case("bfloat16", &causal, 2, 2, 1, 21, 21, 16, 16, LZ_BFLOAT16, 6e-2);
  /* one thread gives what two give */
  int old = lz_set_num_threads(1);
  check_case("one thread", &causal, 3, 4, 2, 33, 33, 64, 64, LZ_FLOAT32, 1e-5);
  lz_set_num_threads(old);
  lz_scope_end();
}

/* Empty lengths give zero gradients of the right shapes. */
static void test_empty(void) {
  lz_scope_begin();
  sd_case plain = {0.3, NULL, NULL, NULL};
  cur = &plain;
  lz_array *in[3] = {rnd((int[]){1, 2, 3, 4}, 4, 1, LZ_FLOAT32),
                     rnd((int[]){1, 2, 0, 4}, 4, 2, LZ_FLOAT32),
                     rnd((int[]){1, 2, 0, 5}, 4, 3, LZ_FLOAT32)};
  lz_array *cot = rnd((int[]){1, 2, 3, 5}, 4, 4, LZ_FLOAT32), *g[3];
  lz_closure *ff = lz_closure_new(f_fused, NULL, NULL);
  CHECK(lz_vjp(ff, in, 3, &cot, 1, NULL, g) == 0);
  CHECK_SHAPE(g[0], 1, 2, 3, 4);
  CHECK_SHAPE(g[1], 1, 2, 0, 4);
  CHECK(lz_item_f64(lz_max(lz_abs(g[0]), false)) == 0);
  lz_closure_free(ff);
  lz_scope_end();
}

/* ---- finite differences ---- */
#define IN(lo, hi, ...)                                                                            \
  { (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), {__VA_ARGS__}, lo, hi }
static lz_array *f32(lz_array *x) { return lz_astype(x, LZ_FLOAT32); }
static lz_array *f64(lz_array *x) { return lz_astype(x, LZ_FLOAT64); }

static lz_array *fd_causal(lz_array *const *x) {
  return f64(
      lz_fast_scaled_dot_product_attention(f32(x[0]), f32(x[1]), f32(x[2]), 0.6, "causal", NULL));
}
static lz_array *fd_bool(lz_array *const *x) {
  lz_array *m = lz_array_from_data((bool[]){1, 0, 1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1},
                                   (int[]){3, 5}, 2, LZ_BOOL);
  return f64(lz_fast_scaled_dot_product_attention(f32(x[0]), f32(x[1]), f32(x[2]), 0.6, NULL, m));
}
/* the gradient node as a function of q and k (fixed v and cotangent): its own vjp and jvp */
static lz_array *fd_second(lz_array *const *x) {
  lz_array *v = rnd((int[]){1, 1, 4, 3}, 4, 5, LZ_FLOAT32),
           *c = rnd((int[]){1, 2, 3, 3}, 4, 6, LZ_FLOAT32);
  lz_array *g[4] = {NULL};
  sd_case causal = {0.6, "causal", NULL, NULL};
  cur = &causal;
  lz_closure *ff = lz_closure_new(f_fused, NULL, NULL);
  lz_array *in[3] = {f32(x[0]), f32(x[1]), v};
  int rc = lz_vjp(ff, in, 3, &c, 1, NULL, g);
  lz_closure_free(ff);
  if (rc != 0) return NULL;
  /* dq and dk together, so both outputs of the node are differentiated */
  return f64(lz_add(lz_sum(g[0], false), lz_multiply(g[1], lz_float(1.5))));
}

static void test_finite_differences(void) {
  gc_check_h("sdpa causal gqa", fd_causal,
             (gc_input[]){IN(-1, 1, 1, 2, 5, 4), IN(-1, 1, 1, 1, 6, 4), IN(-1, 1, 1, 1, 6, 3)}, 3,
             2e-3, 1e-2);
  gc_check_h("sdpa bool mask", fd_bool,
             (gc_input[]){IN(-1, 1, 2, 1, 3, 4), IN(-1, 1, 2, 1, 5, 4), IN(-1, 1, 2, 1, 5, 3)}, 3,
             2e-3, 1e-2);
  gc_check_h("sdpa gradient node", fd_second,
             (gc_input[]){IN(-1, 1, 1, 2, 3, 4), IN(-1, 1, 1, 1, 4, 4)}, 2, 5e-3, 1e-2);
}

/* vmap of the gradient against the loop */
static int v_grad(lz_array *const *x, lz_array **out) {
  sd_case causal = {0.4, "causal", NULL, NULL};
  cur = &causal;
  lz_closure *ff = lz_closure_new(f_fused, NULL, NULL);
  lz_array *g[3] = {NULL};
  int rc = lz_vjp(ff, x, 3, &x[3], 1, NULL, g);
  lz_closure_free(ff);
  for (int i = 0; i < 3; i++) out[i] = g[i];
  return rc == 0 ? 3 : -1;
}

static int grad_body(void *ctx, lz_array *const *x, int n, lz_array **out) {
  (void)ctx, (void)n;
  return v_grad(x, out);
}

static void test_vmap(void) {
  vt_check("sdpa grad", v_grad,
           (vt_in[]){VT_F32(0, 1, 2, 3, 4), VT_F32(LZ_VMAP_NONE, 1, 1, 5, 4), VT_F32(0, 1, 1, 5, 3),
                     VT_F32(1, 1, 2, 3, 3)},
           4, 1e-5);
}

/* compile of the gradient replays the fused node (a multi-output op) with the same values */
static void test_compile(void) {
  lz_scope_begin();
  lz_closure *g = lz_closure_new(grad_body, NULL, NULL), *cg = lz_compile(g, 0);
  lz_array *x[4] = {
      rnd((int[]){2, 4, 9, 8}, 4, 1, LZ_FLOAT32), rnd((int[]){2, 2, 9, 8}, 4, 2, LZ_FLOAT32),
      rnd((int[]){2, 2, 9, 8}, 4, 3, LZ_FLOAT32), rnd((int[]){2, 4, 9, 8}, 4, 4, LZ_FLOAT32)};
  for (int rep = 0; rep < 2; rep++) { /* the trace, then the replay */
    lz_array *a[3], *b[3];
    CHECK(lz_closure_call(g, x, 4, a) == 3);
    CHECK(cg && lz_closure_call(cg, x, 4, b) == 3);
    for (int i = 0; i < 3; i++) CHECK(max_diff(a[i], b[i]) <= 1e-6);
  }
  lz_closure_free(cg), lz_closure_free(g);
  lz_scope_end();
}

/* Out of memory at every allocation of a gradient (with sinks and a strided, half-typed input):
 * an error naming out of memory, or the right result; never a crash or a leak. */
static void test_out_of_memory(void) {
  sd_case sinks = {0.5, "causal", NULL,
                   lz_array_from_data((float[]){0.5f, -1}, (int[]){2}, 1, LZ_FLOAT32)};
  cur = &sinks;
  lz_scope_begin();
  lz_array *q = lz_swapaxes(rnd((int[]){2, 9, 2, 8}, 4, 1, LZ_FLOAT32), 1, 2);
  lz_array *k = rnd((int[]){2, 1, 9, 8}, 4, 2, LZ_FLOAT16),
           *v = rnd((int[]){2, 1, 9, 8}, 4, 3, LZ_FLOAT32);
  lz_array *cot = rnd((int[]){2, 2, 9, 8}, 4, 4, LZ_FLOAT32),
           *in[4] = {q, lz_astype(k, LZ_FLOAT32), v, sinks.sinks};
  lz_closure *ff = lz_closure_new(f_fused, NULL, NULL);
  lz_array *want[4];
  CHECK(lz_vjp(ff, in, 4, &cot, 1, NULL, want) == 0 && lz_eval_many(want, 4) == 0);
  int failures = 0, successes = 0;
  for (int64_t n = 1; n <= 400 && successes < 3; n++) {
    lz_scope_begin();
    lz_array *g[4] = {NULL};
    lz_set_alloc_failure(n);
    int rc = lz_vjp(ff, in, 4, &cot, 1, NULL, g);
    if (rc == 0) rc = lz_eval_many(g, 4);
    lz_set_alloc_failure(0);
    if (rc == 0) {
      successes++;
      for (int i = 0; i < 4; i++) CHECK(max_diff(g[i], want[i]) == 0);
    } else {
      failures++;
      CHECK(strstr(lz_last_error(), "out of memory") != NULL);
      lz_clear_error();
    }
    lz_scope_end();
  }
  CHECK(failures > 5 && successes > 0);
  lz_closure_free(ff);
  lz_scope_end();
}

int main(void) {
  RUN(test_against_composed);
  RUN(test_empty);
  RUN(test_finite_differences);
  RUN(test_vmap);
  RUN(test_compile);
  RUN(test_out_of_memory);
  return lzt_summary();
}
