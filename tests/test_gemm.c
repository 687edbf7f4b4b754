/* The GEMM backends (cpu/gemm.c, cpu/gemm_half.c) through lz_matmul: float32, float16 and
 * bfloat16 products of odd sizes, transposed, strided, unaligned, batched and broadcast operands
 * against a float64 reference computed here from the same (rounded) inputs. CTest runs this file
 * under every backend (LZ_GEMM=openblas|onednn|onednn_matmul|auto) and under the CPU's default;
 * the checks compare values, and only test_auto_routes asks which library ran. */
#include <limits.h>

#include "cpu/gemm.h"
#include "lz_test.h"

/* (shape) float32 values in [-1, 1) from a fixed LCG, as dtype `dt`. */
static lz_array *rand_array(const int *shape, int ndim, lz_dtype dt, unsigned seed) {
  size_t n = 1;
  for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
  float *d = malloc((n ? n : 1) * sizeof *d);
  unsigned s = seed * 2654435761u + 12345;
  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    d[i] = -1.0f + 2.0f * (float)(s >> 8) * (1.0f / 16777216.0f);
  }
  lz_array *a = lz_astype(lz_array_from_data(d, shape, ndim, LZ_FLOAT32), dt);
  free(d);
  return a;
}

enum { L_CONTIG, L_TRANSPOSED, L_STRIDED, L_UNALIGNED, L_COUNT };
static const char *const layout_names[L_COUNT] = {"contiguous", "transposed", "strided",
                                                  "unaligned"};

/* A view of x with the same values and the given memory layout. */
static lz_array *layout(lz_array *x, int kind) {
  int nd = lz_array_ndim(x);
  const int *sh = lz_array_shape(x);
  if (kind == L_TRANSPOSED && nd >= 2)
    return lz_swapaxes(lz_contiguous(lz_swapaxes(x, -1, -2)), -1, -2);
  if (kind == L_STRIDED) { /* every other element of the last axis */
    lz_array *r = lz_repeat(x, 2, -1);
    int start[LZ_MAX_NDIM] = {0}, stop[LZ_MAX_NDIM], step[LZ_MAX_NDIM];
    for (int d = 0; d < nd; d++) stop[d] = INT_MAX, step[d] = 1;
    step[nd - 1] = 2;
    return lz_slice(r, start, stop, step, nd);
  }
  if (kind == L_UNALIGNED) { /* the data starts one element into a buffer */
    int n = (int)lz_array_size(x), one = 1;
    lz_array *flat = lz_concatenate(
        (lz_array *[]){lz_zeros(&one, 1, lz_array_dtype(x)), lz_reshape(x, &n, 1)}, 2, 0);
    int64_t st[LZ_MAX_NDIM], acc = 1;
    for (int d = nd - 1; d >= 0; d--) st[d] = acc, acc *= sh[d];
    return lz_as_strided(flat, sh, nd, st, 1);
  }
  return x;
}

/* The product of a (..., M, K) and b (..., K, N), batch dims broadcast, in float64 from the
 * arrays' own values, with scale[i] = sum_k |a||b| for the error bound. */
static void reference(lz_array *a, lz_array *b, lz_array *y, double **ref, double **scale) {
  int na = lz_array_ndim(a), nb = lz_array_ndim(b), ny = lz_array_ndim(y);
  const int *sy = lz_array_shape(y);
  int M = lz_array_shape(a)[na - 2], K = lz_array_shape(a)[na - 1], N = lz_array_shape(b)[nb - 1];
  size_t sa = lz_array_size(a), sb = lz_array_size(b), sz = lz_array_size(y);
  double *va = malloc(sa * sizeof *va), *vb = malloc(sb * sizeof *vb);
  *ref = calloc(sz ? sz : 1, sizeof **ref);
  *scale = calloc(sz ? sz : 1, sizeof **scale);
  CHECK(lz_array_read(a, LZ_FLOAT64, va, sa * sizeof *va) == 0);
  CHECK(lz_array_read(b, LZ_FLOAT64, vb, sb * sizeof *vb) == 0);
  size_t batches = sz / ((size_t)M * N);
  for (size_t t = 0; t < batches; t++) {
    /* batch index t of y -> offsets into a and b (size-1 or missing dims broadcast) */
    size_t rem = t, oa = 0, ob = 0, stra = (size_t)M * K, strb = (size_t)K * N;
    for (int d = ny - 3; d >= 0; d--) {
      size_t i = rem % (size_t)sy[d];
      rem /= (size_t)sy[d];
      int da = d - (ny - na), db = d - (ny - nb);
      if (da >= 0) {
        int ea = lz_array_shape(a)[da];
        if (ea > 1) oa += i * stra;
        stra *= (size_t)ea;
      }
      if (db >= 0) {
        int eb = lz_array_shape(b)[db];
        if (eb > 1) ob += i * strb;
        strb *= (size_t)eb;
      }
    }
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++) {
        double s = 0, g = 0;
        for (int k = 0; k < K; k++) {
          double p = va[oa + (size_t)i * K + k] * vb[ob + (size_t)k * N + j];
          s += p;
          g += fabs(p);
        }
        (*ref)[t * M * N + (size_t)i * N + j] = s;
        (*scale)[t * M * N + (size_t)i * N + j] = g;
      }
  }
  free(va);
  free(vb);
}

/* y = a @ b against the reference: float32 accumulation error (K+2) u32 * sum|ab| plus the
 * output dtype's rounding (twice its half-ulp, relative). */
static void check_product(lz_array *a, lz_array *b, const char *what) {
  lz_array *y = lz_matmul(a, b);
  CHECK(y != NULL && lz_eval(y) == 0);
  if (!y) return;
  lz_dtype dt = lz_array_dtype(y);
  double *ref, *scale;
  reference(a, b, y, &ref, &scale);
  size_t n = lz_array_size(y);
  double *got = malloc((n ? n : 1) * sizeof *got);
  CHECK(lz_array_read(y, LZ_FLOAT64, got, n * sizeof *got) == 0);
  int na = lz_array_ndim(a);
  double K = lz_array_shape(a)[na - 1];
  double rel = dt == LZ_FLOAT16 ? 0x1p-10 : dt == LZ_BFLOAT16 ? 0x1p-7 : 0.0;
  double abs_min = dt == LZ_FLOAT16 ? 0x1p-24 : 0.0;
  lzt_checks++;
  for (size_t i = 0; i < n; i++) {
    double acc = (K + 2) * 0x1p-24 * scale[i];
    double tol = acc + rel * (fabs(ref[i]) + acc) + abs_min;
    if (!(fabs(got[i] - ref[i]) <= tol)) {
      lzt_failures++;
      fprintf(stderr, "%s: %s %s (%s): element %zu = %.9g, expected %.9g (tol %.3g)\n", lzt_current,
              what, lz_dtype_name(dt), lz_cpu_gemm_backend_name(lz_cpu_gemm_backend()), i, got[i],
              ref[i], tol);
      break;
    }
  }
  free(got);
  free(ref);
  free(scale);
}

/* LZ_TEST_SMALL (the sanitizer builds): fewer layout pairs and no second large product. */
static bool small_run(void) { return getenv("LZ_TEST_SMALL") != NULL; }

static const lz_dtype dtypes[3] = {LZ_FLOAT32, LZ_FLOAT16, LZ_BFLOAT16};

/* Odd 2-D sizes, vectors and 1-row/1-column products in every layout of both operands. */
static void test_odd_sizes_layouts(void) {
  static const int sizes[][3] = {{1, 1, 1},    {3, 5, 7},      {17, 1, 33},   {1, 29, 13},
                                 {64, 64, 64}, {129, 65, 257}, {33, 300, 17}, {7, 9, 1}};
  for (int t = 0; t < 3; t++)
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
      int M = sizes[s][0], N = sizes[s][1], K = sizes[s][2];
      lz_array *a = rand_array((int[]){M, K}, 2, dtypes[t], 1 + (unsigned)s);
      lz_array *b = rand_array((int[]){K, N}, 2, dtypes[t], 100 + (unsigned)s);
      for (int la = 0; la < L_COUNT; la++)
        for (int lb = 0; lb < L_COUNT; lb++) {
          if (small_run() && la != lb && la != L_CONTIG && lb != L_CONTIG) continue;
          char what[96];
          snprintf(what, sizeof what, "%dx%dx%d a %s b %s", M, N, K, layout_names[la],
                   layout_names[lb]);
          check_product(layout(a, la), layout(b, lb), what);
        }
    }
}

/* Batched, broadcast and shared-b (folded into one GEMM) products, plain and transposed. */
static void test_batched(void) {
  for (int t = 0; t < 3; t++) {
    for (int lay = 0; lay < L_COUNT; lay++) {
      lz_array *a = rand_array((int[]){3, 13, 11}, 3, dtypes[t], 7);
      lz_array *b = rand_array((int[]){3, 11, 9}, 3, dtypes[t], 8);
      check_product(layout(a, lay), layout(b, lay), "batched (3,13,11) @ (3,11,9)");
      lz_array *a4 = rand_array((int[]){2, 1, 5, 12}, 4, dtypes[t], 9);
      lz_array *b3 = rand_array((int[]){3, 12, 6}, 3, dtypes[t], 10);
      check_product(layout(a4, lay), layout(b3, lay), "broadcast (2,1,5,12) @ (3,12,6)");
      lz_array *a3 = rand_array((int[]){4, 10, 33}, 3, dtypes[t], 11);
      lz_array *b2 = rand_array((int[]){33, 17}, 2, dtypes[t], 12);
      check_product(layout(a3, lay), layout(b2, lay), "shared b (4,10,33) @ (33,17)");
    }
    /* a few big products (run one after another, each on every thread) */
    lz_array *ab = rand_array((int[]){3, 257, 256}, 3, dtypes[t], 15);
    lz_array *bb = rand_array((int[]){3, 256, 256}, 3, dtypes[t], 16);
    check_product(ab, layout(bb, L_TRANSPOSED), "big batches (3,257,256) @ (3,256,256)");
    /* attention's shape: many small products */
    lz_array *q = rand_array((int[]){8, 128, 64}, 3, dtypes[t], 13);
    lz_array *k = rand_array((int[]){8, 64, 128}, 3, dtypes[t], 14);
    check_product(q, k, "attention (8,128,64) @ (8,64,128)");
    check_product(q, lz_swapaxes(lz_contiguous(lz_swapaxes(k, -1, -2)), -1, -2),
                  "attention q @ k^T view");
  }
}

/* Half-precision products larger than one conversion block in every dimension (blocks of
 * 256 x 1024 x 512), so partial blocks and the K-sum across blocks are covered. */
static void test_half_blocks(void) {
  for (int t = 1; t < 3; t++) {
    lz_array *a = rand_array((int[]){260, 515}, 2, dtypes[t], 21);
    lz_array *b = rand_array((int[]){515, 1030}, 2, dtypes[t], 22);
    check_product(a, b, "260x1030x515");
    if (!small_run())
      check_product(layout(a, L_TRANSPOSED), layout(b, L_TRANSPOSED), "260x1030x515 transposed");
  }
}

/* A buffer reused from the cache may hold NaN: beta = 0 must not read it (GEMM and GEMV). */
static void test_stale_output(void) {
  for (int t = 0; t < 3; t++) {
    lz_array *nan = lz_full((int[]){64, 64}, 2, NAN, dtypes[t]);
    CHECK(lz_eval(nan) == 0);
    lz_array *nanv = lz_full((int[]){64}, 1, NAN, dtypes[t]);
    CHECK(lz_eval(nanv) == 0);
    lz_free(nan);
    lz_free(nanv);
    lz_array *a = rand_array((int[]){64, 32}, 2, dtypes[t], 31);
    lz_array *b = rand_array((int[]){32, 64}, 2, dtypes[t], 32);
    lz_array *v = rand_array((int[]){32}, 1, dtypes[t], 33);
    check_product(a, b, "into a stale buffer");
    lz_array *y = lz_matmul(a, v);
    CHECK(lz_eval(y) == 0);
    double vy[64];
    CHECK(lz_array_read(y, LZ_FLOAT64, vy, sizeof vy) == 0);
    bool finite = true;
    for (int i = 0; i < 64; i++) finite = finite && !isnan(vy[i]);
    CHECK(finite);
  }
}

/* addmm in every dtype (half precision with beta takes the widening path). */
static void test_addmm_dtypes(void) {
  for (int t = 0; t < 3; t++) {
    lz_array *a = rand_array((int[]){19, 23}, 2, dtypes[t], 41);
    lz_array *b = rand_array((int[]){23, 21}, 2, dtypes[t], 42);
    lz_array *c = rand_array((int[]){21}, 1, dtypes[t], 43);
    lz_array *y = lz_addmm(c, a, b, 0.5, 2.0);
    lz_array *e =
        lz_add(lz_multiply(lz_astype(lz_matmul(lz_astype(a, LZ_FLOAT64), lz_astype(b, LZ_FLOAT64)),
                                     LZ_FLOAT64),
                           lz_float(0.5)),
               lz_multiply(lz_astype(c, LZ_FLOAT64), lz_float(2.0)));
    double ve[19 * 21];
    CHECK(lz_array_read(e, LZ_FLOAT64, ve, sizeof ve) == 0);
    CHECK_VALUES(y, ve, 19 * 21,
                 dtypes[t] == LZ_FLOAT32   ? 1e-5
                 : dtypes[t] == LZ_FLOAT16 ? 2e-3
                                           : 1.6e-2);
  }
}

/* Out of memory inside a half-precision product (its block scratch, oneDNN's scratchpad) is an
 * error, never a crash or a leak; without the failure the result is right. */
static void test_half_out_of_memory(void) {
  for (int t = 1; t < 3; t++) {
    lz_array *a = rand_array((int[]){2, 300, 70}, 3, dtypes[t], 51);
    lz_array *b = rand_array((int[]){70, 90}, 2, dtypes[t], 52);
    lz_eval(a), lz_eval(b);
    for (int n = 1; n <= 4; n++) {
      lz_scope_begin();
      lz_set_alloc_failure(n);
      lz_array *y = lz_matmul(a, b);
      int rc = y ? lz_eval(y) : -1;
      lz_set_alloc_failure(0);
      if (rc != 0) {
        CHECK(lz_last_error_code() == LZ_ERROR_OUT_OF_MEMORY);
        lz_clear_error();
      }
      lz_scope_end();
    }
    check_product(a, b, "after failures");
  }
}

/* Rounding to the output dtype: an outer product (K = 1) of half values is exact in float32, so
 * each element must equal the float32 product rounded by astype (SIMD rows and scalar tails
 * alike), across ties, overflow, subnormals, zeros, infinities and NaN. */
static void test_half_rounding(void) {
  enum { NA = 67, NB = 37 };
  float va[NA], vb[NB];
  unsigned s = 99;
  for (int i = 0; i < NA; i++) {
    s = s * 1664525u + 1013904223u;
    va[i] = ldexpf(-1.0f + 2.0f * (float)(s >> 8) / 16777216.0f, (int)(s % 41) - 20);
  }
  for (int i = 0; i < NB; i++) {
    s = s * 1664525u + 1013904223u;
    vb[i] = ldexpf(-1.0f + 2.0f * (float)(s >> 8) / 16777216.0f, (int)(s % 31) - 15);
  }
  va[0] = NAN, va[1] = INFINITY, va[2] = -0.0f, va[3] = 65504.0f, va[4] = 6e-8f, va[5] = 3e38f;
  /* times 1.5, these four land exactly halfway between two bfloat16 (first two) or float16
   * values, once with an odd and once with an even last bit kept */
  va[6] = 1 + 0x1p-7f, va[7] = 1 + 0x1p-7f + 0x1p-6f, va[8] = 1 + 0x1p-10f;
  va[9] = 1 + 0x1p-10f + 0x1p-9f;
  vb[0] = 1.0f, vb[1] = -2.0f, vb[2] = 0.0f, vb[3] = 1e-30f, vb[4] = 1.5f;
  for (int t = 1; t < 3; t++) {
    lz_array *a = lz_astype(lz_array_from_data(va, (int[]){NA, 1}, 2, LZ_FLOAT32), dtypes[t]);
    lz_array *b = lz_astype(lz_array_from_data(vb, (int[]){1, NB}, 2, LZ_FLOAT32), dtypes[t]);
    lz_array *y = lz_matmul(a, b);
    lz_array *e =
        lz_astype(lz_multiply(lz_astype(a, LZ_FLOAT32), lz_astype(b, LZ_FLOAT32)), dtypes[t]);
    static double gy[NA * NB], ge[NA * NB];
    CHECK(lz_array_read(y, LZ_FLOAT64, gy, sizeof gy) == 0);
    CHECK(lz_array_read(e, LZ_FLOAT64, ge, sizeof ge) == 0);
    int bad = -1;
    for (int i = 0; i < NA * NB && bad < 0; i++)
      if (!(gy[i] == ge[i] || (isnan(gy[i]) && isnan(ge[i])))) bad = i;
    CHECK(bad < 0);
    if (bad >= 0)
      fprintf(stderr, "%s element %d: %.9g, astype gives %.9g\n", lz_dtype_name(dtypes[t]), bad,
              gy[bad], ge[bad]);
  }
}

/* The paths the backend promises were taken: the matmul primitive under onednn_matmul, and the
 * native half-precision kernels where the CPU has them. */
static void test_paths_taken(void) {
  long long before = lz_cpu_gemm_primitive_runs();
  lz_array *a = rand_array((int[]){40, 50}, 2, LZ_FLOAT32, 61);
  lz_array *b = rand_array((int[]){50, 30}, 2, LZ_FLOAT32, 62);
  check_product(a, b, "f32 path");
  if (lz_cpu_gemm_backend() == LZ_GEMM_ONEDNN_MATMUL) CHECK(lz_cpu_gemm_primitive_runs() > before);
  if (lz_cpu_gemm_backend() == LZ_GEMM_OPENBLAS) CHECK(lz_cpu_gemm_primitive_runs() == before);
  for (int t = 1; t < 3; t++) {
    before = lz_cpu_gemm_primitive_runs();
    check_product(lz_astype(a, dtypes[t]), lz_astype(b, dtypes[t]), "half path");
    if (lz_cpu_gemm_half_native(dtypes[t])) CHECK(lz_cpu_gemm_primitive_runs() > before);
  }
  fprintf(stderr, "gemm backend %s; native float16 %d, bfloat16 %d\n",
          lz_cpu_gemm_backend_name(lz_cpu_gemm_backend()), lz_cpu_gemm_half_native(LZ_FLOAT16),
          lz_cpu_gemm_half_native(LZ_BFLOAT16));
}

/* The auto backend (AVX2 CPUs' default) sends each shape class to one library: tiny products,
 * vectors and big ones to OpenBLAS, small and thin ones (a classifier head, its gradients) to
 * oneDNN, those big enough to share in blocks on the pool. Each class, in every layout of both
 * operands, gives the reference's values on every backend, and under auto runs where promised. */
static void test_auto_routes(void) {
  static const struct {
    int M, N, K;
    bool onednn;
  } cases[] = {
      {3, 5, 7, false},      /* tiny */
      {45, 41, 43, true},    /* small, one call */
      {127, 127, 129, true}, /* small, in blocks on the pool */
      {131, 127, 129, false},
      {257, 10, 515, true}, /* thin: a head and its gradient */
      {259, 515, 11, true},
      {1031, 12, 517, false}, /* thin but bigger */
      {261, 517, 263, false}, /* training-sized, in blocks on the pool */
      {17, 1, 300, false},    /* vectors */
      {1, 300, 301, false},
  };
  bool is_auto = lz_cpu_gemm_backend() == LZ_GEMM_AUTO;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    int M = cases[c].M, N = cases[c].N, K = cases[c].K;
    bool big = (double)M * N * K > 1e8;
    CHECK(lz_cpu_gemm_auto_onednn(M, N, K) == cases[c].onednn);
    lz_array *a = rand_array((int[]){M, K}, 2, LZ_FLOAT32, 91 + (unsigned)c);
    lz_array *b = rand_array((int[]){K, N}, 2, LZ_FLOAT32, 191 + (unsigned)c);
    for (int la = 0; la < L_COUNT; la++)
      for (int lb = 0; lb < L_COUNT; lb++) {
        /* the big class (slow to check) in the layouts that reach BLAS without a copy */
        if ((big || small_run()) && la != lb && la != L_CONTIG && lb != L_CONTIG) continue;
        if (big && (la == L_STRIDED || lb == L_STRIDED)) continue;
        char what[96];
        snprintf(what, sizeof what, "route %dx%dx%d a %s b %s", M, N, K, layout_names[la],
                 layout_names[lb]);
        lz_scope_begin();
        lz_array *va = layout(a, la), *vb = layout(b, lb);
        CHECK(lz_eval(va) == 0 && lz_eval(vb) == 0);
        long long blas = lz_cpu_gemm_runs(LZ_GEMM_OPENBLAS), dnnl = lz_cpu_gemm_runs(LZ_GEMM_ONEDNN);
        check_product(va, vb, what);
        if (is_auto) {
          long long db = lz_cpu_gemm_runs(LZ_GEMM_OPENBLAS) - blas,
                    dd = lz_cpu_gemm_runs(LZ_GEMM_ONEDNN) - dnnl;
          CHECK(cases[c].onednn ? dd > 0 && db == 0 : db > 0 && dd == 0);
          if (cases[c].onednn ? !(dd > 0 && db == 0) : !(db > 0 && dd == 0))
            fprintf(stderr, "%s: %lld OpenBLAS and %lld oneDNN runs\n", what, db, dd);
        }
        lz_scope_end();
      }
  }
}

/* Many threads against one: the batched split and the nested-thread rule give the same values. */
static void test_threads(void) {
  for (int t = 0; t < 3; t++) {
    lz_array *a = rand_array((int[]){32, 64, 48}, 3, dtypes[t], 71);
    lz_array *b = rand_array((int[]){32, 48, 40}, 3, dtypes[t], 72);
    lz_array *w = rand_array((int[]){48, 200}, 2, dtypes[t], 73);
    int prev = lz_set_num_threads(1);
    check_product(a, b, "1 thread batched");
    check_product(a, w, "1 thread folded");
    lz_set_num_threads(3);
    check_product(a, b, "3 threads batched");
    check_product(a, w, "3 threads folded");
    lz_set_num_threads(prev);
  }
}

/* A threaded GEMM, then elementwise work on the pool, in a loop: under oneDNN the pool's job
 * runs on oneDNN's still-spinning OpenMP team (lz__omp_run); every value must be right. */
static void test_gemm_then_pool(void) {
  lz_array *a = rand_array((int[]){256, 784}, 2, LZ_FLOAT32, 81);
  lz_array *b = rand_array((int[]){784, 512}, 2, LZ_FLOAT32, 82);
  int n = 1 << 20;
  lz_array *x = lz_arange(0, n, 1, LZ_FLOAT32);
  CHECK(lz_eval(x) == 0);
  float *got = malloc((size_t)n * sizeof *got);
  for (int r = 0; r < 4; r++) {
    lz_scope_begin();
    if (r == 0) {
      check_product(a, b, "before a pool job");
    } else {
      lz_array *y = lz_matmul(a, b);
      CHECK(lz_eval(y) == 0);
    }
    lz_array *z = lz_add(lz_multiply(x, lz_float(2)), lz_float(1));
    CHECK(lz_array_read(z, LZ_FLOAT32, got, (size_t)n * sizeof *got) == 0);
    int bad = -1;
    for (int i = 0; i < n && bad < 0; i++)
      if (got[i] != 2.0f * (float)i + 1.0f) bad = i;
    CHECK(bad < 0);
    lz_scope_end();
  }
  free(got);
}

int main(void) {
  RUN(test_odd_sizes_layouts);
  RUN(test_batched);
  RUN(test_half_blocks);
  RUN(test_stale_output);
  RUN(test_addmm_dtypes);
  RUN(test_half_out_of_memory);
  RUN(test_half_rounding);
  RUN(test_paths_taken);
  RUN(test_auto_routes);
  RUN(test_threads);
  RUN(test_gemm_then_pool);
  return lzt_summary();
}
