/* FFTs: every function against numpy.fft references (tests/data/fft_refs.h), also with strided
 * (transposed, negatively strided) inputs; ifft(fft(x)) = x and irfft(rfft(x)) = x; a naive
 * DFT for sizes that exercise FFTW's lane batching; several threads; dtypes, empty inputs and
 * the errors. */
#include "data/fft_refs.h"
#include "lz_test.h"

enum { CAP = 4096 };

static lz_array *make_input(const lzf_case *c, lz_dtype real_dt) {
  size_t n = 1;
  for (int d = 0; d < c->ndim; d++) n *= (size_t)c->shape[d];
  if (!c->complex_in) return lz_astype(lz_array_from_data(c->in, c->shape, c->ndim, LZ_FLOAT64), real_dt);
  float *f = malloc(2 * n * sizeof(float) + 1);
  for (size_t i = 0; i < 2 * n; i++) f[i] = (float)c->in[i];
  lz_array *a = lz_array_from_data(f, c->shape, c->ndim, LZ_COMPLEX64);
  free(f);
  return a;
}

static lz_array *apply(const lzf_case *c, lz_array *x) {
  const char *fn = c->fn;
  const int *s = c->ns < 0 ? NULL : c->s, *axes = c->naxes < 0 ? NULL : c->axes;
  int n1 = c->ns < 0 ? -1 : c->s[0], naxes = c->naxes >= 0 ? c->naxes : c->ns >= 0 ? c->ns : 0;
  if (c->norm >= 0) {
    lz_fft_norm nm = (lz_fft_norm)c->norm;
    if (!strcmp(fn, "fft")) return lz_fft_v2(x, n1, c->axes[0], nm);
    if (!strcmp(fn, "ifft")) return lz_ifft_v2(x, n1, c->axes[0], nm);
    if (!strcmp(fn, "rfft")) return lz_rfft_v2(x, n1, c->axes[0], nm);
    if (!strcmp(fn, "irfft")) return lz_irfft_v2(x, n1, c->axes[0], nm);
    if (!strcmp(fn, "fft2")) return lz_fft2_v2(x, s, axes, nm);
    if (!strcmp(fn, "ifft2")) return lz_ifft2_v2(x, s, axes, nm);
    if (!strcmp(fn, "rfft2")) return lz_rfft2_v2(x, s, axes, nm);
    if (!strcmp(fn, "irfft2")) return lz_irfft2_v2(x, s, axes, nm);
    if (!strcmp(fn, "fftn")) return lz_fftn_v2(x, s, axes, naxes, nm);
    if (!strcmp(fn, "ifftn")) return lz_ifftn_v2(x, s, axes, naxes, nm);
    if (!strcmp(fn, "rfftn")) return lz_rfftn_v2(x, s, axes, naxes, nm);
    if (!strcmp(fn, "irfftn")) return lz_irfftn_v2(x, s, axes, naxes, nm);
    return NULL;
  }
  if (!strcmp(fn, "fft")) return lz_fft(x, n1, c->axes[0]);
  if (!strcmp(fn, "ifft")) return lz_ifft(x, n1, c->axes[0]);
  if (!strcmp(fn, "rfft")) return lz_rfft(x, n1, c->axes[0]);
  if (!strcmp(fn, "irfft")) return lz_irfft(x, n1, c->axes[0]);
  if (!strcmp(fn, "fft2")) return lz_fft2(x, s, axes);
  if (!strcmp(fn, "ifft2")) return lz_ifft2(x, s, axes);
  if (!strcmp(fn, "rfft2")) return lz_rfft2(x, s, axes);
  if (!strcmp(fn, "irfft2")) return lz_irfft2(x, s, axes);
  if (!strcmp(fn, "fftn")) return lz_fftn(x, s, axes, naxes);
  if (!strcmp(fn, "ifftn")) return lz_ifftn(x, s, axes, naxes);
  if (!strcmp(fn, "rfftn")) return lz_rfftn(x, s, axes, naxes);
  if (!strcmp(fn, "irfftn")) return lz_irfftn(x, s, axes, naxes);
  if (!strcmp(fn, "fftfreq")) return lz_fftfreq(c->s[0], c->d);
  if (!strcmp(fn, "rfftfreq")) return lz_rfftfreq(c->s[0], c->d);
  if (!strcmp(fn, "fftshift")) return lz_fftshift(x, axes, naxes);
  if (!strcmp(fn, "ifftshift")) return lz_ifftshift(x, axes, naxes);
  return NULL;
}

static void check_case(const lzf_case *c, lz_array *y, const char *how) {
  lzt_check_shape(__FILE__, __LINE__, y, c->oshape, c->ondim);
  if (!y) return;
  bool is_shift = strstr(c->fn, "shift") != NULL;
  lz_dtype want = c->complex_out ? LZ_COMPLEX64 : is_shift ? lz_array_dtype(y) : LZ_FLOAT32;
  CHECK(lz_array_dtype(y) == want);
  size_t n = lz_array_size(y), m = c->complex_out ? 2 * n : n;
  double scale = 1;
  for (size_t i = 0; i < m; i++) scale = fmax(scale, fabs(c->out[i]));
  float *f = malloc(m * sizeof(float) + 1);
  if (lz_array_read(y, c->complex_out ? LZ_COMPLEX64 : LZ_FLOAT32, f, m * sizeof(float)) != 0) CHECK(0);
  for (size_t i = 0; i < m; i++)
    if (!(fabs(f[i] - c->out[i]) <= 2e-5 * scale)) {
      fprintf(stderr, "%s (%s): element %zu = %.7g, expected %.7g\n", c->fn, how, i, f[i], c->out[i]);
      CHECK(0);
      break;
    }
  free(f);
}

static void test_refs(void) {
  for (size_t i = 0; i < sizeof lzf_cases / sizeof *lzf_cases; i++) {
    const lzf_case *c = &lzf_cases[i];
    lz_scope_begin();
    /* Real inputs as float32 and float64 (which computes in single precision too). */
    lz_array *x = make_input(c, i % 2 ? LZ_FLOAT64 : LZ_FLOAT32);
    check_case(c, apply(c, x), "contiguous");
    if (c->ndim > 1) { /* the same values through a transposed view */
      lz_array *xt = lz_transpose(lz_contiguous(lz_transpose(x, NULL, 0)), NULL, 0);
      check_case(c, apply(c, xt), "transposed");
    }
    lz_array *xf = lz_flip(lz_contiguous(lz_flip(x, NULL, 0)), NULL, 0); /* negative strides */
    check_case(c, apply(c, xf), "reversed");
    lz_scope_end();
  }
}

static lz_array *rand_complex(const int *shape, int ndim, uint32_t seed) {
  size_t n = 1;
  for (int d = 0; d < ndim; d++) n *= (size_t)shape[d];
  float *f = malloc(2 * n * sizeof(float) + 1);
  uint32_t s = seed;
  for (size_t i = 0; i < 2 * n; i++) {
    s = s * 1664525u + 1013904223u;
    f[i] = (float)((s >> 8) / 8388608.0 - 1.0);
  }
  lz_array *a = lz_array_from_data(f, shape, ndim, LZ_COMPLEX64);
  free(f);
  return a;
}

static bool close_arrays(lz_array *a, lz_array *b, double tol) {
  return lz_item_bool(lz_allclose(lz_real(a), lz_real(b), tol, tol, false)) &&
         lz_item_bool(lz_allclose(lz_imag(a), lz_imag(b), tol, tol, false));
}

static void test_identities(void) {
  const int shapes[][3] = {{16, 1, 1}, {5, 7, 1}, {3, 4, 9}, {64, 33, 1}};
  const int ndims[] = {1, 2, 3, 2};
  for (int k = 0; k < 4; k++) {
    lz_array *x = rand_complex(shapes[k], ndims[k], (uint32_t)k + 1);
    for (int ax = 0; ax < ndims[k]; ax++)
      CHECK(close_arrays(lz_ifft(lz_fft(x, -1, ax), -1, ax), x, 1e-5));
    CHECK(close_arrays(lz_ifftn(lz_fftn(x, NULL, NULL, 0), NULL, NULL, 0), x, 1e-5));
    lz_array *r = lz_real(x);
    int last = shapes[k][ndims[k] - 1];
    CHECK(lz_item_bool(lz_allclose(lz_irfft(lz_rfft(r, -1, -1), last, -1), r, 1e-5, 1e-5, false)));
    CHECK(lz_item_bool(lz_allclose(lz_irfftn(lz_rfftn(r, NULL, NULL, 0), shapes[k], NULL, ndims[k]),
                                   r, 1e-5, 1e-5, false)));
  }
}

/* A naive DFT in double along axis 0 of (37, 13): 13 lanes of stride 13 (FFTW plans of 8 and 5
 * lanes), and along axis 1 of (13, 37) (rows). 37 is prime. */
static void test_naive_dft(void) {
  int R = 37, L = 13;
  lz_array *x = rand_complex((int[]){R, L}, 2, 99);
  float *xv = malloc(sizeof(float) * 2 * (size_t)(R * L)), *yv = malloc(sizeof(float) * 2 * (size_t)(R * L));
  CHECK(lz_array_read(x, LZ_COMPLEX64, xv, sizeof(float) * 2 * (size_t)(R * L)) == 0);
  for (int pass = 0; pass < 2; pass++) {
    lz_array *y = pass == 0 ? lz_fft(x, -1, 0) : lz_transpose(lz_fft(lz_contiguous(lz_transpose(x, NULL, 0)), -1, 1), NULL, 0);
    CHECK(lz_array_read(y, LZ_COMPLEX64, yv, sizeof(float) * 2 * (size_t)(R * L)) == 0);
    double maxerr = 0;
    for (int k = 0; k < R; k++)
      for (int l = 0; l < L; l++) {
        double re = 0, im = 0;
        for (int j = 0; j < R; j++) {
          double ang = -2 * M_PI * (double)j * k / R, a = xv[2 * (j * L + l)], b = xv[2 * (j * L + l) + 1];
          re += a * cos(ang) - b * sin(ang);
          im += a * sin(ang) + b * cos(ang);
        }
        maxerr = fmax(maxerr, fmax(fabs(re - yv[2 * (k * L + l)]), fabs(im - yv[2 * (k * L + l) + 1])));
      }
    CHECK(maxerr < 1e-4);
  }
  free(xv);
  free(yv);
}

/* Many threads give the same result as one (and share the plan cache safely). */
static void test_threads(void) {
  int old = lz_set_num_threads(1);
  lz_array *x = rand_complex((int[]){96, 1000}, 2, 7);
  lz_array *a = lz_fft(x, -1, 1), *b = lz_fft2(x, NULL, NULL), *c = lz_rfft(lz_real(x), -1, 0);
  lz_eval(a), lz_eval(b), lz_eval(c);
  lz_set_num_threads(4);
  CHECK(lz_item_bool(lz_array_equal(a, lz_fft(x, -1, 1), false)));
  CHECK(close_arrays(b, lz_fft2(x, NULL, NULL), 1e-6));
  CHECK(lz_item_bool(lz_array_equal(c, lz_rfft(lz_real(x), -1, 0), false)));
  lz_set_num_threads(old);
}

static void test_dtypes_and_empty(void) {
  lz_array *i = lz_arange(0, 8, 1, LZ_INT32);
  lz_array *y = lz_fft(i, -1, 0);
  CHECK(lz_array_dtype(y) == LZ_COMPLEX64);
  CHECK_CLOSE(lz_item_f64(lz_sum(lz_real(y), false)), 0.0, 1e-6); /* sum_k X[k] = 8 x[0] */
  CHECK_CLOSE(lz_item_f64(lz_real(lz_take(y, lz_int(0), 0))), 28.0, 1e-6);
  CHECK(lz_array_dtype(lz_irfft(lz_rfft(lz_astype(i, LZ_FLOAT16), -1, 0), -1, 0)) == LZ_FLOAT32);
  lz_array *e = lz_zeros((int[]){0, 4}, 2, LZ_FLOAT32);
  CHECK_SHAPE(lz_fft(e, -1, 1), 0, 4);
  CHECK_SHAPE(lz_rfft(e, -1, 1), 0, 3);
  lz_array *padded = lz_fft(e, 3, 0); /* zero-padded from nothing */
  CHECK_SHAPE(padded, 3, 4);
  double z[24] = {0};
  CHECK_VALUES(lz_real(padded), z, 12, 0);
  CHECK_SHAPE(lz_fftn(e, NULL, (int[]){0}, 0), 0, 4); /* no axes: unchanged */
  /* A complex input to rfft uses its real part. */
  lz_array *cx = rand_complex((int[]){6}, 1, 3);
  CHECK(close_arrays(lz_rfft(cx, -1, 0), lz_rfft(lz_real(cx), -1, 0), 0));
}

static void test_errors(void) {
  lz_array *x = lz_zeros((int[]){4, 5}, 2, LZ_FLOAT32);
  CHECK_ERROR(lz_fft(x, 0, 0), "[lz_fft] invalid FFT size 0");
  CHECK_ERROR(lz_rfftn_v2(x, NULL, NULL, 0, (lz_fft_norm)7), "[lz_rfftn] invalid norm 7");
  CHECK_ERROR(lz_ifft2_v2(x, NULL, NULL, LZ_FFT_NORM_COUNT), "[lz_ifft2] invalid norm 3");
  CHECK_ERROR(lz_rfft(x, -2, 0), "invalid FFT size -2");
  CHECK_ERROR(lz_fft(x, -1, 2), "axis 2 is out of bounds");
  CHECK_ERROR(lz_ifft(x, -1, -3), "[lz_ifft] axis -3");
  CHECK_ERROR(lz_fftn(x, (int[]){4, 0}, NULL, 2), "[lz_fftn] invalid FFT size 0");
  CHECK_ERROR(lz_fftn(x, NULL, (int[]){0, 0}, 2), "repeated");
  CHECK_ERROR(lz_fft2(x, NULL, (int[]){1, -1}), "repeated");
  CHECK_ERROR(lz_fftn(x, (int[]){1, 2, 3}, NULL, 3), "3 sizes");
  CHECK_ERROR(lz_irfft2(x, (int[]){4, 0}, NULL), "invalid FFT size 0");
  CHECK_ERROR(lz_fft(lz_float(1), -1, 0), "at least one dimension");
  CHECK_ERROR(lz_fft(NULL, -1, 0), "NULL");
  CHECK_ERROR(lz_fftfreq(0, 1.0), "[lz_fftfreq] n must be positive");
  CHECK_ERROR(lz_rfftfreq(-3, 1.0), "n must be positive");
  CHECK_ERROR(lz_fftshift(x, (int[]){5}, 1), "out of bounds");
}

int main(void) {
  RUN(test_refs);
  RUN(test_identities);
  RUN(test_naive_dft);
  RUN(test_threads);
  RUN(test_dtypes_and_empty);
  RUN(test_errors);
  return lzt_summary();
}
