/* The GEMM epilogue, one product of the GPT-style LM's MLP at a time (16x128 tokens, d_model
 * 256, hidden 1024), each timed three ways, interleaved in one loop (plain call, compiled,
 * compiled with LZ_COMPILE_NO_EPILOGUE):
 *
 *   epilogue_fc1_gelu: x (2048,256) @ w (256,1024) + b, then GELU (erf form): the forward.
 *   epilogue_fc2_residual: h (2048,1024) @ w (1024,256) + b + r: the second layer + residual.
 *   epilogue_gelu_grad: (dy (2048,256) @ w^T) * GELU'(z): the backward through the activation.
 *   epilogue_adamw: the weight gradient x^T dy (256,2048)@(2048,1024) and AdamW's update of p,
 *     m, v from it (three outputs).
 *
 * For each: "_ms" (compiled, epilogue), "_plain_ms", "_no_epilogue_ms", and "_gain" (no
 * epilogue / epilogue, from the best runs). */
#include <math.h>

#include "bench.h"

#pragma weak lz_compile
#pragma weak lz_erf

enum { EM = 2048, ED = 256, EF = 1024 };

static lz_array *gelu(lz_array *y) {
  return lz_multiply(lz_multiply(y, lz_float(0.5f)),
                     lz_add(lz_float(1), lz_erf(lz_multiply(y, lz_float((float)M_SQRT1_2)))));
}

/* in = (x, w, b) */
static int fc1_gelu(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = gelu(lz_add(lz_matmul(in[0], in[1]), in[2]));
  return out[0] ? 1 : -1;
}

/* in = (h, w, b, r) */
static int fc2_residual(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  out[0] = lz_add(in[3], lz_add(lz_matmul(in[0], in[1]), in[2]));
  return out[0] ? 1 : -1;
}

/* in = (dy, w (1024,256), z): GELU'(z) = Phi(z) + z phi(z), times dy w^T */
static int gelu_grad(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *z = in[2];
  lz_array *cdf = lz_multiply(lz_float(0.5f),
                              lz_add(lz_float(1), lz_erf(lz_multiply(z, lz_float((float)M_SQRT1_2)))));
  lz_array *pdf = lz_multiply(lz_exp(lz_multiply(lz_square(z), lz_float(-0.5f))),
                              lz_float((float)(0.5 * M_2_SQRTPI * M_SQRT1_2)));
  out[0] = lz_multiply(lz_matmul(in[0], lz_swapaxes(in[1], 0, 1)),
                       lz_add(cdf, lz_multiply(z, pdf)));
  return out[0] ? 1 : -1;
}

/* in = (x (2048,256), dy (2048,1024), p, m, v (256,1024)): AdamW as bench_train.c's step */
static int adamw(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *g = lz_matmul(lz_swapaxes(in[0], 0, 1), in[1]);
  const float b1 = 0.9f, b2 = 0.999f, lr = 1e-3f, wd = 0.01f, eps = 1e-8f;
  out[1] = lz_add(lz_multiply(in[3], lz_float(b1)), lz_multiply(g, lz_float(1 - b1)));
  out[2] = lz_add(lz_multiply(in[4], lz_float(b2)), lz_multiply(lz_square(g), lz_float(1 - b2)));
  out[0] = lz_subtract(lz_multiply(in[2], lz_float(1 - lr * wd)),
                       lz_multiply(lz_float(lr), lz_divide(out[1], lz_add(lz_sqrt(out[2]),
                                                                          lz_float(eps)))));
  return 3;
}

typedef struct ecase {
  const char *name;
  lz_fn fn;
  int nin, nout;
  int shapes[5][2];
} ecase;

static int run_once(lz_closure *f, lz_array **in, int nin) {
  lz_array *out[4];
  lz_scope_begin();
  int got = lz_closure_call(f, in, nin, out);
  int rc = got > 0 ? lz_eval_many(out, (size_t)got) : -1;
  lz_scope_end();
  return rc;
}

static void time_case(const ecase *c, int reps) {
  lz_array *in[5];
  for (int i = 0; i < c->nin; i++)
    in[i] = bench_rand(c->shapes[i], c->shapes[i][1] ? 2 : 1, c->fn == adamw && i == 4 ? 0 : -1,
                       1, 300 + (unsigned)i); /* AdamW's v is >= 0 */
  lz_closure *f = lz_closure_new(c->fn, NULL, NULL);
  lz_closure *v[3] = {f, lz_compile(f, 0), lz_compile(f, LZ_COMPILE_NO_EPILOGUE)};
  double t[3][16];
  int ok = 1;
  for (int k = 0; k < 3; k++) ok &= run_once(v[k], in, c->nin) == 0; /* trace and warm up */
  for (int r = 0; ok && r < reps; r++) {
    for (int k = 0; k < 3; k++) {
      double t0 = bench_now();
      ok &= run_once(v[k], in, c->nin) == 0;
      t[k][r] = bench_now() - t0;
    }
  }
  char name[96];
  if (!ok) {
    snprintf(name, sizeof name, "epilogue_%s_ms", c->name);
    bench_skip(name, "evaluation failed");
    lz_clear_error();
  } else {
    static const char *const suffix[3] = {"_plain_ms", "_ms", "_no_epilogue_ms"};
    for (int k = 0; k < 3; k++) {
      snprintf(name, sizeof name, "epilogue_%s%s", c->name, suffix[k]);
      bench_print(name, bench_median(t[k], reps) * 1e3, "ms");
    }
    snprintf(name, sizeof name, "epilogue_%s_gain", c->name);
    bench_print(name, bench_min(t[2], reps) / bench_min(t[1], reps), "x");
  }
  for (int k = 0; k < 3; k++) lz_closure_free(v[k]);
  for (int i = 0; i < c->nin; i++) lz_free(in[i]);
}

void bench_epilogue(void) {
  if (!lz_compile || !lz_erf) {
    bench_skip("epilogue_fc1_gelu_ms", "lz_compile or lz_erf is not in the library yet");
    return;
  }
  static const ecase cases[] = {
      {"fc1_gelu", fc1_gelu, 3, 1, {{EM, ED}, {ED, EF}, {EF, 0}}},
      {"fc2_residual", fc2_residual, 4, 1, {{EM, EF}, {EF, ED}, {ED, 0}, {EM, ED}}},
      {"gelu_grad", gelu_grad, 3, 1, {{EM, ED}, {EF, ED}, {EM, EF}}},
      {"adamw", adamw, 5, 3, {{EM, ED}, {EM, EF}, {ED, EF}, {ED, EF}, {ED, EF}}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) time_case(&cases[i], 9);
}
