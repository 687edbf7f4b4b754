/* Model-level figures: matmul, one transformer block's training step, and
 * the gradient of a 1000-op scalar function. Models are written with the public ops only. */
#include <cblas.h>
#include <math.h>

#include "bench.h"

/* ---- matmul ---- */

typedef struct mm_ctx {
  lz_array *a, *b;
} mm_ctx;

static int run_matmul(void *ctx) {
  mm_ctx *m = ctx;
  lz_scope_begin();
  int rc = lz_eval(lz_matmul(m->a, m->b));
  lz_scope_end();
  return rc;
}

/* The same product through cblas_sgemm directly, at the thread count OpenBLAS has now (Lazuli
 * gives it its own count): the yardstick for the matmul figures. */
typedef struct sgemm_ctx {
  const float *a, *b;
  float *c;
  int n;
} sgemm_ctx;

static int run_sgemm(void *ctx) {
  sgemm_ctx *g = ctx;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->n, g->n, g->n, 1.0f, g->a, g->n,
              g->b, g->n, 0.0f, g->c, g->n);
  return 0;
}

static void one_matmul(const char *name, int n, lz_dtype dt, int reps) {
  int s[2] = {n, n};
  lz_array *a = bench_rand(s, 2, -1, 1, 11), *b = bench_rand(s, 2, -1, 1, 12);
  mm_ctx m = {lz_astype(a, dt), lz_astype(b, dt)};
  lz_eval(m.a), lz_eval(m.b);
  double t = bench_time(run_matmul, &m, reps);
  if (t < 0) {
    bench_skip(name, "evaluation failed");
    lz_clear_error();
  } else {
    bench_print(name, 2.0 * n * n * (double)n / t / 1e9, "GFLOP/s");
  }
  if (dt == LZ_FLOAT32) { /* matmul_f32_<n>_vs_openblas: our time over sgemm's, same run */
    char rname[64];
    snprintf(rname, sizeof rname, "matmul_f32_%d_vs_openblas", n);
    sgemm_ctx g = {lz_array_data(m.a), lz_array_data(m.b), malloc((size_t)n * n * sizeof(float)),
                   n};
    /* alternated, the better of two each, so that load drift hits both alike */
    double tb = g.a && g.b && g.c ? bench_time(run_sgemm, &g, reps) : -1;
    double t2 = bench_time(run_matmul, &m, reps);
    double tb2 = tb > 0 ? bench_time(run_sgemm, &g, reps) : -1;
    if (t < 0 || tb <= 0 || t2 < 0 || tb2 <= 0) {
      bench_skip(rname, "a run failed");
      lz_clear_error();
    } else {
      bench_print(rname, (tb < tb2 ? tb : tb2) / (t < t2 ? t : t2), "ratio");
    }
    free(g.c);
  }
  lz_free(a), lz_free(b), lz_free(m.a), lz_free(m.b);
}

void bench_matmul(void) {
  if (!lz_matmul) {
    bench_skip("matmul_f32_1024_gflops", "lz_matmul not in the library yet");
    bench_skip("matmul_f32_1024_vs_openblas", "lz_matmul not in the library yet");
    bench_skip("matmul_f32_4096_gflops", "lz_matmul not in the library yet");
    bench_skip("matmul_f32_4096_vs_openblas", "lz_matmul not in the library yet");
    bench_skip("matmul_f16_1024_gflops", "lz_matmul not in the library yet");
    return;
  }
  one_matmul("matmul_f32_1024_gflops", 1024, LZ_FLOAT32, 7);
  one_matmul("matmul_f32_4096_gflops", 4096, LZ_FLOAT32, 3);
  one_matmul("matmul_f16_1024_gflops", 1024, LZ_FLOAT16, 5);
}

/* ---- one block's training step: value_and_grad of a loss, then SGD on every parameter (the
 * named whole-model steps are in bench_train.c) ---- */

typedef struct train {
  lz_closure *vg;
  lz_array *p[16]; /* parameters, then the batch */
  int nparams, ninputs;
} train;

static int run_train_step(void *ctx) {
  train *t = ctx;
  lz_array *res[1 + 16];
  lz_scope_begin();
  int n = lz_closure_call(t->vg, t->p, t->ninputs, res);
  if (n != 1 + t->nparams) {
    lz_scope_end();
    return -1;
  }
  lz_array *next[1 + 16];
  next[0] = res[0];
  for (int i = 0; i < t->nparams; i++)
    next[1 + i] = lz_keep(lz_subtract(t->p[i], lz_multiply(lz_float(0.01), res[1 + i])));
  int rc = lz_eval_many(next, (size_t)(1 + t->nparams));
  lz_scope_end();
  for (int i = 0; i < t->nparams; i++) { /* the updated parameters replace the old ones */
    lz_free(t->p[i]);
    t->p[i] = next[1 + i];
  }
  return rc;
}

static void run_training(const char *name, lz_fn loss, train *t, int reps) {
  int argnums[16];
  for (int i = 0; i < t->nparams; i++) argnums[i] = i;
  lz_closure *f = lz_closure_new(loss, NULL, NULL);
  t->vg = lz_value_and_grad(f, argnums, t->nparams, false);
  double s = t->vg ? bench_time(run_train_step, t, reps) : -1;
  if (s < 0) {
    char why[160];
    snprintf(why, sizeof why, "failed: %.120s", lz_last_error());
    for (char *c = why; *c; c++)
      if (*c == '\n') *c = ' ';
    bench_skip(name, why);
    lz_clear_error();
  } else {
    bench_print(name, s * 1e3, "ms");
  }
  lz_closure_free(t->vg);
  lz_closure_free(f);
  for (int i = 0; i < t->ninputs; i++) lz_free(t->p[i]);
}

/* ---- one pre-norm transformer block: B=8, T=128, D=256, 4 heads, FF=1024; loss mean(y^2) ---- */

enum { TB = 8, TT = 128, TD = 256, TH = 4, TF = 1024 };

static lz_array *layer_norm(lz_array *x, lz_array *g) {
  lz_array *mu = lz_mean_axis(x, -1, true), *var = lz_var_axis(x, -1, true, 0);
  return lz_multiply(lz_multiply(lz_subtract(x, mu), lz_rsqrt(lz_add(var, lz_float(1e-5)))), g);
}

/* (B,T,D) -> (B,H,T,D/H) */
static lz_array *heads(lz_array *x) {
  int s[4] = {TB, TT, TH, TD / TH}, perm[4] = {0, 2, 1, 3};
  return lz_transpose(lz_reshape(x, s, 4), perm, 4);
}

/* in = (wq, wk, wv, wo, w1, w2, g1, g2, x) */
static int block_loss(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *x = in[8], *h = layer_norm(x, in[6]);
  lz_array *q = heads(lz_matmul(h, in[0])), *k = heads(lz_matmul(h, in[1]));
  lz_array *v = heads(lz_matmul(h, in[2]));
  lz_array *sc = lz_multiply(lz_matmul(q, lz_swapaxes(k, -1, -2)), lz_float(1 / sqrt(TD / TH)));
  lz_array *att = lz_matmul(lz_softmax_axis(sc, -1, false), v); /* (B,H,T,dh) */
  int perm[4] = {0, 2, 1, 3}, s3[3] = {TB, TT, TD};
  att = lz_reshape(lz_transpose(att, perm, 4), s3, 3);
  x = lz_add(x, lz_matmul(att, in[3]));
  lz_array *f = lz_matmul(layer_norm(x, in[7]), in[4]);
  /* gelu, tanh approximation */
  lz_array *inner = lz_multiply(lz_add(f, lz_multiply(lz_multiply(lz_multiply(f, f), f),
                                                      lz_float(0.044715))),
                                lz_float(0.7978845608));
  f = lz_multiply(lz_multiply(f, lz_float(0.5)), lz_add(lz_tanh(inner), lz_float(1)));
  x = lz_add(x, lz_matmul(f, in[5]));
  out[0] = lz_mean(lz_square(x), false);
  return out[0] ? 1 : -1;
}

void bench_transformer_block(void) {
  if (!lz_value_and_grad || !lz_matmul || !lz_softmax_axis || !lz_var_axis || !lz_transpose ||
      !lz_reshape || !lz_tanh || !lz_rsqrt || !lz_swapaxes) {
    bench_skip("transformer_block_train_step_ms", "an op it needs is not in the library yet");
    return;
  }
  train t = {.nparams = 8, .ninputs = 9};
  int dd[2] = {TD, TD}, df[2] = {TD, TF}, fd[2] = {TF, TD}, g[1] = {TD}, xs[3] = {TB, TT, TD};
  float k = 1.0f / sqrtf(TD), kf = 1.0f / sqrtf(TF);
  for (int i = 0; i < 4; i++) t.p[i] = bench_rand(dd, 2, -k, k, 61 + (unsigned)i);
  t.p[4] = bench_rand(df, 2, -k, k, 65);
  t.p[5] = bench_rand(fd, 2, -kf, kf, 66);
  t.p[6] = bench_rand(g, 1, 0.9f, 1.1f, 67);
  t.p[7] = bench_rand(g, 1, 0.9f, 1.1f, 68);
  t.p[8] = bench_rand(xs, 3, -1, 1, 69);
  run_training("transformer_block_train_step_ms", block_loss, &t, 5);
}

/* ---- grad of a scalar function of 1000 ops ---- */

static int scalar_chain(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *x = in[0];
  lz_scope_begin();
  for (int i = 0; i < 333; i++) x = lz_add(lz_multiply(lz_sin(x), lz_float(0.9)), lz_float(0.1));
  out[0] = lz_keep(lz_add(x, in[0])); /* 1000 ops */
  lz_scope_end();
  return out[0] ? 1 : -1;
}

typedef struct grad_ctx {
  lz_closure *g;
  lz_array *x;
} grad_ctx;

static int run_grad(void *ctx) {
  grad_ctx *c = ctx;
  lz_array *res[1];
  lz_scope_begin();
  int rc = lz_closure_call(c->g, &c->x, 1, res) == 1 ? lz_eval(res[0]) : -1;
  lz_scope_end();
  return rc;
}

void bench_grad_scalar(void) {
  if (!lz_grad || !lz_closure_new || !lz_sin) {
    bench_skip("grad_1000_scalar_ops_ms", "lz_grad/lz_sin not in the library yet");
    return;
  }
  int argnums[1] = {0};
  lz_closure *f = lz_closure_new(scalar_chain, NULL, NULL);
  grad_ctx c = {lz_grad(f, argnums, 1), lz_scalar(0.5, LZ_FLOAT32)};
  double t = c.g ? bench_time(run_grad, &c, 9) : -1;
  if (t < 0) {
    bench_skip("grad_1000_scalar_ops_ms", "failed");
    lz_clear_error();
  } else {
    bench_print("grad_1000_scalar_ops_ms", t * 1e3, "ms");
  }
  lz_closure_free(c.g);
  lz_closure_free(f);
  lz_free(c.x);
}
