/* Whole programs on many threads at once, run under ThreadSanitizer by `make test` (test-tsan):
 * independent graphs built and evaluated on every thread; readers of shared evaluated arrays and
 * views of them; lz_async_eval overlapping graph building on the same and other threads;
 * compile's cache used from several threads (one compiled closure shared, the same function
 * compiled per thread, different functions, the cache cleared meanwhile); convolutions, FFTs and
 * oneDNN matmuls while another thread empties the kernels' caches (lz_clear_cache); and one model
 * with its optimizer per thread, trained. Every thread's results are compared with the same computation done
 * on the main thread alone first. Threads count their own failures (CHECK is not thread safe). */
#include <limits.h>
#include <pthread.h>

#include "lz_test.h"

#include "cpu/gemm.h"

enum { NT = 8 };
static int rounds = 6;

typedef void *(*thread_fn)(void *);
/* Runs fn on NT threads with arguments 0..NT-1 (started together); returns their failures. */
static pthread_barrier_t start;
typedef struct targ {
  int id, bad;
} targ;
static int run_threads(thread_fn fn) {
  pthread_t t[NT];
  targ a[NT];
  pthread_barrier_init(&start, NULL, NT);
  for (int i = 0; i < NT; i++) a[i] = (targ){i, 0}, pthread_create(&t[i], NULL, fn, &a[i]);
  int bad = 0;
  for (int i = 0; i < NT; i++) pthread_join(t[i], NULL), bad += a[i].bad;
  pthread_barrier_destroy(&start);
  return bad;
}

static lz_array *seq(int n, float scale, int rows) {
  float *v = malloc((size_t)n * sizeof *v);
  for (int i = 0; i < n; i++) v[i] = (float)((i * 37) % 101) * scale - 1.0f;
  lz_array *a = lz_array_from_data(v, (int[]){rows, n / rows}, 2, LZ_FLOAT32);
  free(v);
  return a;
}

/* Reads a (any dtype) as float32 into out[0..n); -1 if the size differs or the read fails. */
static int read_f32(lz_array *a, float *out, size_t n) {
  return a && lz_array_size(a) == n ? lz_array_read(a, LZ_FLOAT32, out, n * sizeof *out) : -1;
}

static bool close_to(const float *a, const float *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!(fabsf(a[i] - b[i]) <= 1e-5f * (1 + fabsf(b[i])))) return false;
  return true;
}

/* ---- independent graphs ------------------------------------------------------------------ */

enum { G_OUT = 16 * 8 };
/* A graph of mixed ops (matmul, softmax, reductions, views, concatenation, gather, sort) that
 * depends on `id`: its (16, 8) result. */
static lz_array *mixed_graph(int id) {
  lz_array *a = seq(16 * 32, 0.02f + 0.001f * (float)id, 16), *b = seq(32 * 8, 0.03f, 32);
  lz_array *h = lz_softmax_axis(lz_matmul(a, b), 1, false);
  lz_array *t = lz_transpose(lz_exp(lz_multiply(h, lz_float(0.5))), NULL, 0);      /* (8, 16) */
  lz_array *s = lz_sum_axis(t, 1, true);                                           /* (8, 1) */
  lz_array *c = lz_concatenate((lz_array *[]){h, lz_transpose(s, NULL, 0)}, 2, 0); /* (17, 8) */
  lz_array *idx = lz_arange(15, -1, -1, LZ_INT32);
  lz_array *g = lz_take(c, idx, 0); /* rows 15..0 */
  lz_array *sorted = lz_sort_axis(g, 1);
  lz_array *big = lz_sum_axis(lz_sin(lz_arange(0, 70000 + id, 1, LZ_FLOAT32)), 0, false);
  return lz_add(lz_tanh(sorted), lz_multiply(big, lz_float(1e-3)));
}

static float graph_ref[NT][G_OUT];

static void *graphs_main(void *arg) {
  targ *a = arg;
  pthread_barrier_wait(&start);
  for (int r = 0; r < rounds; r++) {
    int id = (a->id + r) % NT;
    float got[G_OUT];
    lz_scope_begin();
    lz_array *y = mixed_graph(id);
    a->bad +=
        lz_eval(y) != 0 || read_f32(y, got, G_OUT) != 0 || !close_to(got, graph_ref[id], G_OUT);
    lz_scope_end();
  }
  return NULL;
}

static void test_independent_graphs(void) {
  for (int id = 0; id < NT; id++) {
    lz_scope_begin();
    CHECK(read_f32(mixed_graph(id), graph_ref[id], G_OUT) == 0);
    lz_scope_end();
  }
  CHECK(run_threads(graphs_main) == 0);
}

/* ---- readers of shared evaluated arrays and views ------------------------------------------ */

enum { R = 48, C = 40, SR = R / 2, SC = (C - 3 + 2) / 3 };
static lz_array *shared, *shared_view[4]; /* x (R, C); transposed, sliced, broadcast, reshaped */

/* x[i][j] as made by seq(R * C, 0.01, R) */
static float xv(int i, int j) { return (float)(((i * C + j) * 37) % 101) * 0.01f - 1.0f; }

static void *readers_main(void *arg) {
  targ *a = arg;
  pthread_barrier_wait(&start);
  for (int r = 0; r < rounds * 4; r++) {
    lz_scope_begin();
    /* the views made before the threads: data pointers, reads, printing */
    const float *t = lz_array_data(shared_view[0]); /* (C, R) */
    a->bad += !t || t[5 * R + 7] != xv(7, 5);
    float s[SR * SC]; /* rows, ...; columns 3, 6, ... */
    a->bad +=
        read_f32(shared_view[1], s, SR * SC) != 0 || s[1] != xv(R - 1, 6) || s[SC] != xv(R - 3, 3);
    char *str = lz_array_tostring(shared_view[2]);
    a->bad += !str;
    free(str);
    a->bad += lz_item_f64(lz_sum(shared_view[3], false)) == 0;
    /* new views of the shared array on every thread, and ops on them */
    lz_array *sl = lz_slice(shared, (int[]){a->id, 1}, (int[]){R, C}, (int[]){NT, 2}, 2);
    lz_array *tr = lz_transpose(sl, NULL, 0);
    lz_array *row = lz_sum_axis(tr, 0, false); /* sums over the columns 1, 3, ... of rows id + 8k */
    float got[R / NT];
    if (read_f32(row, got, R / NT) != 0) {
      a->bad++;
    } else {
      for (int k = 0; k < R / NT; k++) {
        float want = 0;
        for (int j = 1; j < C; j += 2) want += xv(a->id + NT * k, j);
        a->bad += fabsf(got[k] - want) > 1e-4f * (1 + fabsf(want));
      }
    }
    lz_array *both = lz_add(shared_view[0], lz_transpose(shared, NULL, 0)); /* 2 x^T */
    const float *p = lz_array_data(both);
    a->bad += !p || p[3 * R + 2] != 2 * xv(2, 3);
    lz_scope_end();
  }
  return NULL;
}

static void test_shared_readers(void) {
  shared = seq(R * C, 0.01f, R);
  shared_view[0] = lz_transpose(shared, NULL, 0);
  shared_view[1] = lz_slice(shared, (int[]){-1, 3}, (int[]){INT_MIN, C}, (int[]){-2, 3}, 2);
  shared_view[2] =
      lz_broadcast_to(lz_slice(shared, (int[]){0, 0}, (int[]){1, C}, NULL, 2), (int[]){3, C}, 2);
  shared_view[3] = lz_reshape(shared_view[0], (int[]){C * R}, 1); /* a copy of a strided view */
  CHECK(lz_eval_many(shared_view, 4) == 0);
  CHECK(run_threads(readers_main) == 0);
  for (int i = 0; i < 4; i++) lz_free(shared_view[i]);
  lz_free(shared);
}

/* ---- async eval overlapping graph building -------------------------------------------------- */

static void *async_main(void *arg) {
  targ *a = arg;
  pthread_barrier_wait(&start);
  for (int r = 0; r < rounds; r++) {
    lz_scope_begin();
    int n = 20000 + 1000 * a->id;
    lz_array *x = lz_arange(0, n, 1, LZ_FLOAT32), *y = x;
    for (int k = 0; k < 20; k++) y = lz_add(lz_multiply(y, lz_float(1)), lz_float(1));
    a->bad += lz_async_eval(y) != 0;
    /* while y runs: a graph on y, an independent one, and a matmul graph, all built here */
    lz_array *on_y = lz_subtract(y, x);
    lz_array *other = lz_sum(lz_cos(lz_arange(0, 1000, 1, LZ_FLOAT32)), false);
    lz_array *m = lz_matmul(seq(64, 0.1f, 8), seq(64, 0.2f, 8));
    lz_array *outs[3] = {on_y, other, m};
    a->bad += lz_eval_many(outs, 3) != 0;
    const float *p = lz_array_data(on_y);
    a->bad += !p || p[0] != 20 || p[n - 1] != 20 || !lz_array_is_evaluated(y);
    lz_scope_end();
  }
  return NULL;
}

static void test_async_eval_overlap(void) { CHECK(run_threads(async_main) == 0); }

/* ---- compile's cache from several threads --------------------------------------------------- */

static int f_a(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_scope_begin();
  lz_array *y = lz_add(lz_multiply(lz_exp(in[0]), in[0]), lz_float(2));
  out[0] = lz_keep(lz_sum_axis(y, -1, false));
  lz_scope_end();
  return out[0] ? 1 : -1;
}
static int f_b(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_scope_begin();
  out[0] = lz_keep(lz_maximum(lz_tanh(in[0]), lz_multiply(in[0], lz_float(0.25))));
  lz_scope_end();
  return out[0] ? 1 : -1;
}
static int f_c(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_scope_begin();
  out[0] = lz_keep(lz_mean(lz_square(lz_subtract(in[0], lz_float(0.5))), false));
  lz_scope_end();
  return out[0] ? 1 : -1;
}
static const lz_fn fns[3] = {f_a, f_b, f_c};
static lz_closure *shared_compiled;

/* f_k on an input of `cols` columns, through closure c: compared with f_k run directly. */
static int compiled_matches(lz_closure *c, int k, int cols) {
  lz_scope_begin();
  lz_array *x = seq(4 * cols, 0.01f * (float)(k + 1), 4), *got = NULL, *want = NULL;
  int bad = lz_closure_call(c, &x, 1, &got) != 1 || fns[k](NULL, &x, 1, &want) != 1;
  size_t n = got ? lz_array_size(got) : 0;
  float *g = malloc((n ? n : 1) * sizeof *g), *w = malloc((n ? n : 1) * sizeof *w);
  bad = bad || read_f32(got, g, n) != 0 || read_f32(want, w, n) != 0 || !close_to(g, w, n);
  free(g), free(w);
  lz_scope_end();
  return bad;
}

static void *compile_main(void *arg) {
  targ *a = arg;
  pthread_barrier_wait(&start);
  for (int r = 0; r < rounds; r++) {
    int k = (a->id + r) % 3, cols = 8 + (a->id + r) % 5; /* new shapes trace concurrently */
    a->bad += compiled_matches(shared_compiled, 0, cols);
    if (a->id == NT - 1) lz_clear_compile_cache(); /* under the others' lookups and replays */
    lz_closure *f = lz_closure_new(fns[k], NULL, NULL);
    lz_closure *c = f ? lz_compile(f, r % 2 ? LZ_COMPILE_SHAPELESS : 0) : NULL;
    a->bad += !c || compiled_matches(c, k, cols) || compiled_matches(c, k, cols);
    lz_closure_free(c), lz_closure_free(f);
  }
  return NULL;
}

static void test_compile_cache_threads(void) {
  lz_closure *f = lz_closure_new(f_a, NULL, NULL);
  shared_compiled = lz_compile(f, 0);
  CHECK(shared_compiled != NULL);
  CHECK(run_threads(compile_main) == 0);
  lz_closure_free(shared_compiled), lz_closure_free(f);
  lz_clear_compile_cache();
}

/* ---- the kernels' caches cleared under running ops ---------------------------------------- */

enum { K_CONV = 2 * 5 * 5 * 4, K_FFT = 2 * 32, K_MM = 12 * 20 };
/* A convolution (oneDNN primitive), an FFT (FFTW plan) and a float32 product on oneDNN's matmul
 * primitive, shaped by `id` % 3 (so the threads share cache entries and make new ones). */
static int kernel_ops(int id, float *out) {
  int v = id % 3, bad = 0;
  lz_scope_begin();
  lz_array *x = seq(2 * 7 * 7 * 3, 0.01f * (float)(v + 1), 2 * 7 * 7);
  x = lz_reshape(x, (int[]){2, 7, 7, 3}, 4);
  lz_array *w = lz_reshape(seq(4 * 3 * 3 * 3, 0.02f, 4), (int[]){4, 3, 3, 3}, 4);
  bad += read_f32(lz_conv2d(x, w, 1, 1, 0, 0, 1, 1, 1), out, K_CONV) != 0;
  lz_array *f = lz_fft(lz_reshape(seq(32, 0.05f, 1), (int[]){32}, 1), 32 - 2 * v, 0);
  bad += !f || lz_array_read(f, LZ_COMPLEX64, out + K_CONV, (size_t)(32 - 2 * v) * 8) != 0;
  lz_scope_end();
  float A[12 * 16], B[16 * 20];
  for (int i = 0; i < 12 * 16; i++) A[i] = (float)((i + v) % 7) - 3;
  for (int i = 0; i < 16 * 20; i++) B[i] = (float)(i % 5) * 0.5f;
  bad += lz_cpu_onednn_matmul(LZ_FLOAT32, LZ_FLOAT32, 12, 20, 16 - v, 1.0f, 0.0f, A, 16, 1, B, 20,
                              1, out + K_CONV + K_FFT, 20) != 0;
  return bad;
}

static float kernel_ref[3][K_CONV + K_FFT + K_MM];

static void *kernel_main(void *arg) {
  targ *a = arg;
  float got[K_CONV + K_FFT + K_MM];
  pthread_barrier_wait(&start);
  for (int r = 0; r < 4 * rounds; r++) {
    if (a->id == NT - 1) lz_clear_cache(); /* under the others' ops */
    memset(got, 0, sizeof got);
    int v = (a->id + r) % 3;
    a->bad += kernel_ops(v, got) != 0 || !close_to(got, kernel_ref[v], K_CONV + K_FFT + K_MM);
  }
  return NULL;
}

static void test_kernel_caches_cleared(void) {
  for (int v = 0; v < 3; v++) CHECK(kernel_ops(v, kernel_ref[v]) == 0);
  CHECK(run_threads(kernel_main) == 0);
  lz_clear_cache();
}

/* ---- one model and optimizer per thread ------------------------------------------------------ */

enum { IN = 6, HID = 12, OUT = 3, BATCH = 10, NPARAM = IN * HID + HID + HID * OUT + OUT };

static lz_array *mlp_loss(void *ctx, lz_module *m, lz_array *const *in, int n) {
  (void)ctx, (void)n;
  lz_array *y = lz_module_forward(m, in[0]);
  lz_array *loss = lz_nn_mse_loss(y, in[1], LZ_NN_REDUCTION_MEAN);
  lz_free(y);
  return loss;
}

/* Trains an MLP whose parameters and data depend on `id` for a few Adam steps; its parameters
 * afterwards in out[NPARAM]. Returns 0 or -1. */
static int train(int id, float *out) {
  lz_module *m =
      lz_nn_sequential_new(3, (lz_module *[]){lz_nn_linear_new(IN, HID, true), lz_nn_relu_new(),
                                              lz_nn_linear_new(HID, OUT, true)});
  lz_optimizer *opt = lz_optim_adam(0.05, 0.9, 0.999, 1e-8, false);
  lz_nn_grad_fn *vg = m ? lz_nn_value_and_grad(m, mlp_loss, NULL) : NULL;
  int rc = m && opt && vg ? 0 : -1;
  lz_scope_begin();
  lz_dict *p = rc == 0 ? lz_module_parameters(m) : NULL;
  for (size_t i = 0; p && rc == 0 && i < lz_dict_size(p); i++) { /* deterministic values */
    lz_array *w = lz_dict_value(p, i);
    int nd = lz_array_ndim(w), rows = nd == 2 ? lz_array_dim(w, 0) : 1;
    lz_array *v = lz_reshape(seq((int)lz_array_size(w), 0.013f * (float)(i + 1 + id), rows),
                             lz_array_shape(w), nd);
    rc = lz_dict_set(p, lz_dict_key(p, i), v);
  }
  rc = rc == 0 && lz_module_update(m, p) == 0 ? 0 : -1;
  lz_dict_free(p);
  lz_array *in[2] = {seq(BATCH * IN, 0.02f * (float)(id + 1), BATCH),
                     seq(BATCH * OUT, 0.01f, BATCH)};
  for (int s = 0; rc == 0 && s < 4; s++) {
    lz_array *loss = NULL;
    lz_dict *grads = NULL;
    rc = lz_nn_grad_fn_call(vg, in, 2, &loss, &grads) == 0 && lz_optim_update(opt, m, grads) == 0 &&
                 lz_optim_eval(opt, m, loss) == 0
             ? 0
             : -1;
    lz_dict_free(grads);
  }
  p = rc == 0 ? lz_module_parameters(m) : NULL;
  size_t at = 0;
  for (size_t i = 0; p && rc == 0 && i < lz_dict_size(p); i++) {
    lz_array *w = lz_dict_value(p, i);
    size_t n = lz_array_size(w);
    rc = at + n <= NPARAM ? read_f32(w, out + at, n) : -1;
    at += n;
  }
  lz_dict_free(p);
  lz_scope_end();
  lz_nn_grad_fn_free(vg), lz_optim_free(opt), lz_module_free(m);
  return rc == 0 && at == NPARAM ? 0 : -1;
}

static float train_ref[NT][NPARAM];

static void *train_main(void *arg) {
  targ *a = arg;
  float got[NPARAM];
  pthread_barrier_wait(&start);
  for (int r = 0; r < 2; r++)
    a->bad += train(a->id, got) != 0 || !close_to(got, train_ref[a->id], NPARAM);
  return NULL;
}

static void test_models_per_thread(void) {
  for (int id = 0; id < NT; id++) CHECK(train(id, train_ref[id]) == 0);
  CHECK(memcmp(train_ref[0], train_ref[1], sizeof train_ref[0]) != 0);
  CHECK(run_threads(train_main) == 0);
}

int main(void) {
  const char *small = getenv("LZ_TEST_SMALL");
  if (small && *small) rounds = 3;
  RUN(test_independent_graphs);
  RUN(test_shared_readers);
  RUN(test_async_eval_overlap);
  RUN(test_compile_cache_threads);
  RUN(test_kernel_caches_cleared);
  RUN(test_models_per_thread);
  return lzt_summary();
}
