/* The named training workloads, each timed as a whole step (forward, backward, optimizer
 * update, one evaluation of the loss, the new parameters and the new optimizer state):
 *
 *   transformer_train_step_ms: a GPT-style LM: token and learned position embeddings, 2
 *     pre-LayerNorm blocks (d_model 256, 4 heads, causal attention, MLP 1024 with GELU), a final
 *     LayerNorm and an untied head; vocab 256, seq 128, batch 16; cross-entropy; AdamW.
 *   mlp_train_step_ms: MLP 784-512-512-10 (ReLU), batch 256, cross-entropy, SGD.
 *
 * Each runs uncompiled, compiled (the same step function through lz_compile_with_state) and
 * compiled with LZ_COMPILE_NO_EPILOGUE (matrix products kept out of fusion: "_no_epilogue", so
 * "_epilogue_gain" is what running elementwise consumers as GEMM epilogues gives),
 * prints the page faults one steady-state step takes (getrusage's minor faults) and the step's
 * GEMM floor (LZ_BENCH_REPS=n times n steps of each kind instead of the default): the time of
 * the step's matrix products alone, each shape timed through lz_matmul
 * (operands transposed as the backward pass has them), so "step / floor" is how far the rest of
 * the step (elementwise work, reductions, attention's softmax, the optimizer) keeps it from the
 * GEMM-bound limit. compare.py runs the same steps in PyTorch (bench_train_peers.py). */
#include <math.h>
#include <sys/resource.h>

#include "bench.h"

#pragma weak lz_compile_with_state
#pragma weak lz_fast_layer_norm
#pragma weak lz_fast_scaled_dot_product_attention
#pragma weak lz_nn_cross_entropy
#pragma weak lz_nn_gelu
#pragma weak lz_take
#pragma weak lz_split

static long minor_faults(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

/* CPU seconds of the whole process (every thread, user and system): on a shared, loaded
 * machine a step's CPU time moves much less than its wall time. */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void print_named(const char *base, const char *suffix, double v, const char *unit) {
  char name[128];
  snprintf(name, sizeof name, "%s%s", base, suffix);
  bench_print(name, v, unit);
}

static void skip_named(const char *base, const char *suffix, const char *why) {
  char name[128];
  snprintf(name, sizeof name, "%s%s", base, suffix);
  bench_skip(name, why);
}

/* ---- the GEMM floor: every product of a step, timed at its own shape ---- */

typedef struct gemm {
  int batch, m, k, n; /* (batch,) (m,k) @ (k,n) */
  bool ta, tb;        /* operand stored transposed (a view), as the backward pass has it */
  int count;          /* how many per step */
} gemm;

typedef struct gemm_ctx {
  lz_array *a, *b;
} gemm_ctx;

static int run_gemm(void *ctx) {
  gemm_ctx *g = ctx;
  lz_scope_begin();
  int rc = lz_eval(lz_matmul(g->a, g->b));
  lz_scope_end();
  return rc;
}

static lz_array *operand(int batch, int r, int c, bool t, unsigned seed) {
  int s[3] = {batch, t ? c : r, t ? r : c};
  lz_array *x = batch > 1 ? bench_rand(s, 3, -1, 1, seed) : bench_rand(s + 1, 2, -1, 1, seed);
  if (!t) return x;
  lz_array *y = lz_swapaxes(x, -1, -2);
  lz_free(x);
  return y;
}

/* The step's GEMMs with their operands, made once; floor_once times each once (times its
 * count), so that the floor is measured between the steps it is the floor of. */
typedef struct floor_set {
  int n;
  gemm g[32];
  gemm_ctx c[32];
  double flops;
} floor_set;

static int floor_prepare(floor_set *f) {
  f->flops = 0;
  int rc = 0;
  for (int i = 0; i < f->n; i++) {
    const gemm *g = &f->g[i];
    f->c[i] = (gemm_ctx){operand(g->batch, g->m, g->k, g->ta, 90 + i),
                         operand(g->batch, g->k, g->n, g->tb, 120 + i)};
    f->flops += 2.0 * g->batch * g->m * g->k * (double)g->n * g->count;
    if (run_gemm(&f->c[i]) != 0) rc = -1; /* warm-up */
  }
  return rc;
}

static double floor_once(floor_set *f) {
  double total = 0;
  for (int i = 0; i < f->n; i++) {
    double t0 = bench_now();
    if (run_gemm(&f->c[i]) != 0) return -1;
    total += (bench_now() - t0) * f->g[i].count;
  }
  return total;
}

static void floor_free(floor_set *f) {
  for (int i = 0; i < f->n; i++) lz_free(f->c[i].a), lz_free(f->c[i].b);
}

/* ---- the step: loss closure + value_and_grad + optimizer, parameters in a dict ---- */

enum { MAXP = 32 };

typedef struct model {
  const char *name;
  int np;     /* parameters p0..p{np-1} in `state` */
  bool adamw; /* else SGD */
  double lr;
  lz_fn loss;         /* (params..., batch inputs...) -> loss */
  lz_closure *vg;     /* value_and_grad of loss over the parameters */
  lz_dict *state;     /* "p<i>" and, for AdamW, "m<i>", "v<i>" */
  lz_array *batch[2]; /* inputs and integer targets */
} model;

static void key(char *buf, char c, int i) { snprintf(buf, 8, "%c%d", c, i); }

/* One step as a function of the batch; parameters and optimizer state are read from and
 * written to m->state (lz_compile_with_state's state when compiled). Returns the loss. */
static int step_fn(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)n;
  model *m = ctx;
  lz_array *args[MAXP + 2], *res[LZ_MAX_OUTPUTS];
  char k[8];
  for (int i = 0; i < m->np; i++) key(k, 'p', i), args[i] = lz_dict_get(m->state, k);
  args[m->np] = in[0], args[m->np + 1] = in[1];
  int got = lz_closure_call(m->vg, args, m->np + 2, res);
  int rc = got == 1 + m->np ? 0 : -1;
  /* AdamW as MLX's default (no bias correction): p *= 1 - lr wd; m = b1 m + (1 - b1) g;
   * v = b2 v + (1 - b2) g^2; p -= lr m / (sqrt(v) + eps). SGD: p -= lr g. */
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01;
  for (int i = 0; i < m->np && rc == 0; i++) {
    lz_array *p = args[i], *g = res[1 + i], *np_;
    if (m->adamw) {
      key(k, 'm', i);
      lz_array *mo = lz_dict_get(m->state, k);
      key(k, 'v', i);
      lz_array *vo = lz_dict_get(m->state, k);
      lz_array *mn = lz_add(lz_multiply(mo, lz_float(b1)), lz_multiply(g, lz_float(1 - b1)));
      lz_array *vn =
          lz_add(lz_multiply(vo, lz_float(b2)), lz_multiply(lz_square(g), lz_float(1 - b2)));
      np_ = lz_subtract(
          lz_multiply(p, lz_float(1 - m->lr * wd)),
          lz_multiply(lz_float(m->lr), lz_divide(mn, lz_add(lz_sqrt(vn), lz_float(eps)))));
      key(k, 'm', i), rc |= lz_dict_set(m->state, k, mn);
      key(k, 'v', i), rc |= lz_dict_set(m->state, k, vn);
    } else {
      np_ = lz_subtract(p, lz_multiply(lz_float(m->lr), g));
    }
    key(k, 'p', i), rc |= lz_dict_set(m->state, k, np_);
  }
  out[0] = rc == 0 ? res[0] : NULL; /* owned by the closure's scope, as an op result */
  return out[0] ? 1 : -1;
}

typedef struct step_ctx {
  model *m;
  lz_closure *step; /* step_fn itself or its compiled form */
} step_ctx;

/* One whole step and its single evaluation (loss, parameters, optimizer state). */
static int run_step(void *ctx) {
  step_ctx *s = ctx;
  lz_scope_begin();
  lz_array *loss;
  int rc = lz_closure_call(s->step, s->m->batch, 2, &loss) == 1 ? 0 : -1;
  if (rc == 0) {
    size_t n = lz_dict_size(s->m->state);
    lz_array *all[3 * MAXP + 1];
    all[0] = loss;
    for (size_t i = 0; i < n; i++) all[1 + i] = lz_dict_value(s->m->state, i);
    rc = lz_eval_many(all, n + 1);
    for (size_t i = 0; i < n; i++) lz_free(all[1 + i]);
    if (rc == 0 && !isfinite(lz_item_f32(loss))) rc = -1;
  }
  lz_scope_end();
  return rc;
}

/* Kernels one step runs and the step's peak memory (one step, after the timed ones). */
static void count_step(const char *base, const char *kind, step_ctx *s) {
  char suffix[64];
  uint64_t k0 = lz_get_kernel_count();
  lz_reset_peak_memory();
  if (run_step(s) != 0) return;
  snprintf(suffix, sizeof suffix, "%s_kernels_per_step", kind);
  print_named(base, suffix, (double)(lz_get_kernel_count() - k0), "kernels");
  snprintf(suffix, sizeof suffix, "%s_peak_mib", kind);
  print_named(base, suffix, (double)lz_get_peak_memory() / (1 << 20), "MiB");
}

/* Times the step uncompiled and compiled, interleaved (u, c, u, c, ...) so that the load of a
 * shared machine hits both alike; prints both, the speedup and the faults per step. */
static void time_steps(model *m, int reps, floor_set *fs) {
  int argnums[MAXP];
  for (int i = 0; i < m->np; i++) argnums[i] = i;
  lz_closure *loss = lz_closure_new(m->loss, NULL, NULL);
  m->vg = lz_value_and_grad(loss, argnums, m->np, false);
  lz_closure *step = lz_closure_new(step_fn, m, NULL);
  lz_closure *cstep =
      lz_compile_with_state ? lz_compile_with_state(step, 0, m->state, m->state) : NULL;
  lz_closure *estep = lz_compile_with_state
                          ? lz_compile_with_state(step, LZ_COMPILE_NO_EPILOGUE, m->state, m->state)
                          : NULL;
  step_ctx su = {m, step}, sc = {m, cstep}, se = {m, estep};
  double tu[64], tc[64], cu[64], cc[64], tf[64], te[64], ce[64];
  /* LZ_BENCH_STEPS=uncompiled or compiled runs one kind only (for profiling) */
  const char *only = getenv("LZ_BENCH_STEPS");
  bool want_u = !only || strcmp(only, "compiled") != 0,
       want_c = !only || strcmp(only, "uncompiled") != 0;
  if (only || (fs && floor_prepare(fs) != 0)) fs = NULL;
  double floor_s = 0;
  int ok = m->vg && step && (!want_u || (run_step(&su) == 0 && run_step(&su) == 0));
  int cok = ok && want_c && cstep && run_step(&sc) == 0 && run_step(&sc) == 0;
  int eok = cok && want_u && estep && run_step(&se) == 0 && run_step(&se) == 0;
  const char *rs = getenv("LZ_BENCH_REPS"); /* more steps where the machine is noisy */
  if (rs && atoi(rs) > 0) reps = atoi(rs);
  if (reps > 64) reps = 64;
  if (!ok) {
    char why[160];
    snprintf(why, sizeof why, "failed: %.120s", lz_last_error());
    for (char *c = why; *c; c++)
      if (*c == '\n') *c = ' ';
    skip_named(m->name, "_ms", why);
    lz_clear_error();
    goto done;
  }
  long fu = 0, fc = 0;
  for (int r = 0; r < reps; r++) {
    long f0 = minor_faults();
    double t0 = bench_now(), c0 = cpu_now();
    if (want_u) run_step(&su);
    tu[r] = bench_now() - t0, cu[r] = cpu_now() - c0;
    long f1 = minor_faults();
    fu += f1 - f0;
    if (cok) {
      t0 = bench_now(), c0 = cpu_now();
      run_step(&sc);
      tc[r] = bench_now() - t0, cc[r] = cpu_now() - c0;
      fc += minor_faults() - f1;
    }
    if (eok) {
      t0 = bench_now(), c0 = cpu_now();
      run_step(&se);
      te[r] = bench_now() - t0, ce[r] = cpu_now() - c0;
    }
    if (fs && (tf[r] = floor_once(fs)) < 0) fs = NULL;
  }
  if (fs) floor_s = bench_median(tf, reps);
  double mu = bench_median(tu, reps), mc = cok ? bench_median(tc, reps) : 0;
  if (want_u) {
    print_named(m->name, "_ms", mu * 1e3, "ms");
    print_named(m->name, "_cpu_ms", bench_median(cu, reps) * 1e3, "ms");
    print_named(m->name, "_faults_per_step", (double)fu / reps, "faults");
  }
  if (cok) {
    print_named(m->name, "_compiled_ms", mc * 1e3, "ms");
    print_named(m->name, "_compiled_cpu_ms", bench_median(cc, reps) * 1e3, "ms");
    print_named(m->name, "_compiled_faults_per_step", (double)fc / reps, "faults");
    if (want_u)
      print_named(m->name, "_compiled_speedup", bench_min(tu, reps) / bench_min(tc, reps), "x");
    if (eok) {
      print_named(m->name, "_compiled_no_epilogue_ms", bench_median(te, reps) * 1e3, "ms");
      print_named(m->name, "_compiled_no_epilogue_cpu_ms", bench_median(ce, reps) * 1e3, "ms");
      print_named(m->name, "_epilogue_gain", bench_min(te, reps) / bench_min(tc, reps), "x");
    }
  } else if (want_c) {
    skip_named(m->name, "_compiled_ms",
               "lz_compile_with_state missing or the compiled step failed");
    lz_clear_error();
  }
  if (eok) {
    count_step(m->name, "", &su);
    count_step(m->name, "_compiled", &sc);
    count_step(m->name, "_compiled_no_epilogue", &se);
  }
  if (floor_s > 0 && want_u) {
    print_named(m->name, "_gflop", fs->flops / 1e9, "GFLOP");
    print_named(m->name, "_gemm_gflops", fs->flops / floor_s / 1e9, "GFLOP/s");
    print_named(m->name, "_gemm_floor_ms", floor_s * 1e3, "ms");
    print_named(m->name, "_over_gemm_floor", bench_min(tu, reps) / bench_min(tf, reps), "ratio");
    if (cok)
      print_named(m->name, "_compiled_over_gemm_floor", bench_min(tc, reps) / bench_min(tf, reps),
                  "ratio");
  }
done:
  lz_closure_free(estep), lz_closure_free(cstep), lz_closure_free(step), lz_closure_free(m->vg), lz_closure_free(loss);
}

/* A linear layer x (M,K) @ w (K,N): forward, dX = dY w^T, dW = x^T dY (dX left out when x is
 * the batch). */
static int linear_gemms(gemm *g, int m, int k, int n, int count, bool dx) {
  int i = 0;
  g[i++] = (gemm){1, m, k, n, false, false, count};
  if (dx) g[i++] = (gemm){1, m, n, k, false, true, count};
  g[i++] = (gemm){1, k, m, n, true, false, count};
  return i;
}

/* ---- the GPT-style LM ---- */

enum { LV = 256, LT = 128, LB = 16, LD = 256, LH = 4, LF = 1024, LL = 2 };
enum {
  P_TOK,
  P_POS,
  P_BLOCK0,
  P_PER_BLOCK = 12,
  P_LNF = P_BLOCK0 + LL * P_PER_BLOCK,
  P_HEAD = P_LNF + 2,
  LM_NP
};

static lz_array *linear(lz_array *x, lz_array *w, lz_array *b) {
  lz_array *y = lz_matmul(x, w);
  return b ? lz_add(y, b) : y;
}

/* (B,T,D) -> (B,H,T,dh) and back */
static lz_array *split_heads(lz_array *x) {
  return lz_transpose(lz_reshape(x, (int[]){LB, LT, LH, LD / LH}, 4), (int[]){0, 2, 1, 3}, 4);
}
static lz_array *merge_heads(lz_array *x) {
  return lz_reshape(lz_transpose(x, (int[]){0, 2, 1, 3}, 4), (int[]){LB, LT, LD}, 3);
}

/* in = (params..., tokens (B,T) int32, targets (B,T) int32) */
static int lm_loss(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *const *p = in;
  lz_array *x = lz_add(lz_take(p[P_TOK], in[LM_NP], 0), p[P_POS]); /* (B,T,D) */
  for (int l = 0; l < LL; l++) {
    lz_array *const *q = p + P_BLOCK0 + l * P_PER_BLOCK;
    /* q: ln1 w, b; qkv w, b; out w, b; ln2 w, b; fc1 w, b; fc2 w, b */
    lz_array *h = lz_fast_layer_norm(x, q[0], q[1], 1e-5), *qkv[3];
    if (lz_split(linear(h, q[2], q[3]), 3, -1, qkv) != 0) return -1;
    lz_array *a = lz_fast_scaled_dot_product_attention(split_heads(qkv[0]), split_heads(qkv[1]),
                                                       split_heads(qkv[2]), 1 / sqrt(LD / LH),
                                                       "causal", NULL);
    x = lz_add(x, linear(merge_heads(a), q[4], q[5]));
    h = lz_nn_gelu(linear(lz_fast_layer_norm(x, q[6], q[7], 1e-5), q[8], q[9]));
    x = lz_add(x, linear(h, q[10], q[11]));
  }
  lz_array *logits = linear(lz_fast_layer_norm(x, p[P_LNF], p[P_LNF + 1], 1e-5), p[P_HEAD], NULL);
  out[0] = lz_nn_cross_entropy(logits, in[LM_NP + 1], NULL, -1, 0.0, LZ_NN_REDUCTION_MEAN);
  return out[0] ? 1 : -1;
}

static lz_array *int_batch(int rows, int cols, int vocab, int shift, unsigned seed) {
  int32_t *d = malloc((size_t)rows * cols * sizeof *d);
  for (int i = 0; i < rows * cols; i++) {
    int r = i / cols, c = i % cols + shift;
    d[i] = (int32_t)((r * 131u + (unsigned)c * 7u + seed * (unsigned)(c % 5)) % (unsigned)vocab);
  }
  lz_array *a = lz_array_from_data(d, (int[]){rows, cols}, 2, LZ_INT32);
  free(d);
  return a;
}

static void set_param(lz_dict *s, int i, lz_array *a, bool adamw) {
  char k[8];
  key(k, 'p', i), lz_dict_set(s, k, a);
  if (adamw) {
    for (int j = 0; j < 2; j++) { /* distinct arrays for m and v */
      lz_array *z = lz_zeros_like(a);
      lz_eval(z);
      key(k, j ? 'v' : 'm', i), lz_dict_set(s, k, z);
      lz_free(z);
    }
  }
  lz_free(a);
}

void bench_transformer(void) {
  if (!lz_take || !lz_split || !lz_fast_layer_norm || !lz_fast_scaled_dot_product_attention ||
      !lz_nn_cross_entropy || !lz_nn_gelu || !lz_value_and_grad) {
    bench_skip("transformer_train_step_ms", "an op it needs is not in the library yet");
    return;
  }
  model m = {"transformer_train_step", LM_NP, true, 1e-3, lm_loss, NULL, lz_dict_new(), {0}};
  float kd = 1.0f / sqrtf(LD), kf = 1.0f / sqrtf(LF);
  unsigned seed = 200;
  set_param(m.state, P_TOK, bench_rand((int[]){LV, LD}, 2, -0.02f, 0.02f, seed++), true);
  set_param(m.state, P_POS, bench_rand((int[]){LT, LD}, 2, -0.02f, 0.02f, seed++), true);
  for (int l = 0; l < LL; l++) {
    int b = P_BLOCK0 + l * P_PER_BLOCK;
    const int rows[6] = {0, LD, LD, 0, LD, LF}, cols[6] = {LD, 3 * LD, LD, LD, LF, LD};
    for (int j = 0; j < 6; j++) {
      if (rows[j] == 0) { /* a LayerNorm: weight 1, bias 0 */
        set_param(m.state, b + 2 * j, lz_ones((int[]){LD}, 1, LZ_FLOAT32), true);
        set_param(m.state, b + 2 * j + 1, lz_zeros((int[]){LD}, 1, LZ_FLOAT32), true);
      } else {
        float k = rows[j] == LF ? kf : kd;
        set_param(m.state, b + 2 * j, bench_rand((int[]){rows[j], cols[j]}, 2, -k, k, seed++),
                  true);
        set_param(m.state, b + 2 * j + 1, bench_rand((int[]){cols[j]}, 1, -k, k, seed++), true);
      }
    }
  }
  set_param(m.state, P_LNF, lz_ones((int[]){LD}, 1, LZ_FLOAT32), true);
  set_param(m.state, P_LNF + 1, lz_zeros((int[]){LD}, 1, LZ_FLOAT32), true);
  set_param(m.state, P_HEAD, bench_rand((int[]){LD, LV}, 2, -kd, kd, seed++), true);
  lz_dict_eval(m.state);
  m.batch[0] = int_batch(LB, LT, LV, 0, 1);
  m.batch[1] = int_batch(LB, LT, LV, 1, 1); /* the next token */

  floor_set fs = {0};
  gemm *g = fs.g;
  int ng = 0, M = LB * LT;
  ng += linear_gemms(g + ng, M, LD, 3 * LD, LL, true);
  ng += linear_gemms(g + ng, M, LD, LD, LL, true);
  ng += linear_gemms(g + ng, M, LD, LF, LL, true);
  ng += linear_gemms(g + ng, M, LF, LD, LL, true);
  ng += linear_gemms(g + ng, M, LD, LV, 1, true);
  /* attention per layer: S = Q K^T, O = P V; backward dP = dO V^T, dV = P^T dO, dQ = dS K,
   * dK = dS^T Q: batched over B*H */
  int bh = LB * LH, dh = LD / LH;
  g[ng++] = (gemm){bh, LT, dh, LT, false, true, LL}; /* Q K^T, dO V^T */
  g[ng - 1].count = 2 * LL;
  g[ng++] = (gemm){bh, LT, LT, dh, false, false, 2 * LL}; /* P V, dS K */
  g[ng++] = (gemm){bh, LT, LT, dh, true, false, 2 * LL};  /* P^T dO, dS^T Q */
  fs.n = ng;
  time_steps(&m, 5, &fs);
  floor_free(&fs);
  lz_dict_free(m.state), lz_free(m.batch[0]), lz_free(m.batch[1]);
}

/* ---- the MLP ---- */

/* in = (w1, b1, w2, b2, w3, b3, x (256,784), labels (256,) int32) */
static int mlp_loss(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *zero = lz_float(0);
  lz_array *h = lz_maximum(linear(in[6], in[0], in[1]), zero);
  h = lz_maximum(linear(h, in[2], in[3]), zero);
  out[0] = lz_nn_cross_entropy(linear(h, in[4], in[5]), in[7], NULL, -1, 0.0, LZ_NN_REDUCTION_MEAN);
  return out[0] ? 1 : -1;
}

void bench_mlp(void) {
  if (!lz_nn_cross_entropy || !lz_value_and_grad || !lz_matmul) {
    bench_skip("mlp_train_step_ms", "an op it needs is not in the library yet");
    return;
  }
  const int dims[4] = {784, 512, 512, 10};
  model m = {"mlp_train_step", 6, false, 0.01, mlp_loss, NULL, lz_dict_new(), {0}};
  for (int l = 0; l < 3; l++) {
    float k = 1.0f / sqrtf((float)dims[l]);
    set_param(m.state, 2 * l, bench_rand((int[]){dims[l], dims[l + 1]}, 2, -k, k, 31 + l), false);
    set_param(m.state, 2 * l + 1, bench_rand((int[]){dims[l + 1]}, 1, -k, k, 41 + l), false);
  }
  m.batch[0] = bench_rand((int[]){256, 784}, 2, 0, 1, 51);
  int32_t lab[256];
  for (int i = 0; i < 256; i++) lab[i] = (i * 7) % 10;
  m.batch[1] = lz_array_from_data(lab, (int[]){256}, 1, LZ_INT32);
  floor_set fs = {0};
  int ng = 0;
  for (int l = 0; l < 3; l++) ng += linear_gemms(fs.g + ng, 256, dims[l], dims[l + 1], 1, l > 0);
  fs.n = ng;
  time_steps(&m, 9, &fs);
  floor_free(&fs);
  lz_dict_free(m.state), lz_free(m.batch[0]), lz_free(m.batch[1]);
}
