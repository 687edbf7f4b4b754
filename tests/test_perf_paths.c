/* Fast paths that must not change results: buffer donation, the F16C conversions, the buffer
 * cache, and the cheap node-recording path. */
#include <stdint.h>
#include <sys/resource.h>

#include "core/internal.h"
#include "lz_test.h"

#if defined(__SANITIZE_ADDRESS__)
#define LZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LZ_ASAN 1
#endif
#endif

static lz_array *filled(int n, float v) {
  float *d = malloc((size_t)n * sizeof *d);
  for (int i = 0; i < n; i++) d[i] = v + (float)i;
  int shape[1] = {n};
  lz_array *a = lz_array_from_data(d, shape, 1, LZ_FLOAT32);
  free(d);
  return a;
}

/* A chain whose input nothing else holds runs in that input's buffer: no new memory at all. */
static void test_donation_reuses_buffer(void) {
  enum { N = 1 << 16 };
  lz_scope_begin(); /* intermediates and x are released when it ends: the graph holds them */
  lz_array *x = filled(N, 0);
  lz_array *y = lz_keep(lz_add(lz_multiply(lz_subtract(x, lz_float(1)), lz_float(2)), lz_float(3)));
  lz_scope_end();
  uint64_t before = lz__donation_count();
  lz_reset_peak_memory();
  size_t base = lz_get_active_memory();
  CHECK(base >= N * 4);
  CHECK(lz_eval(y) == 0);
  CHECK(lz_get_peak_memory() == base); /* not one byte more */
  CHECK(lz__donation_count() - before == 3);
  const float *p = lz_array_data(y);
  CHECK(p && p[0] == 1 && p[100] == (100 - 1) * 2 + 3);
}

/* No donation when the input is still visible: held by the user, a view, broadcast, another
 * element size, or used twice. */
static void test_no_donation_when_shared(void) {
  enum { N = 4096 };
  uint64_t before = lz__donation_count();
  lz_array *x = filled(N, 0);
  lz_array *y = lz_add(x, lz_float(1)); /* x is held by us */
  CHECK(lz_eval(y) == 0);
  CHECK(((const float *)lz_array_data(x))[5] == 5); /* untouched */
  CHECK(((const float *)lz_array_data(y))[5] == 6);
  lz_array *t = lz_retain(filled(N, 0));
  lz_array *d = lz_astype(t, LZ_FLOAT64); /* 8-byte output from 4-byte input */
  lz_array *tt = lz_add(t, t);            /* used twice by one node */
  lz_free(t);
  lz_free(t);
  CHECK(lz_eval(d) == 0 && lz_eval(tt) == 0);
  CHECK(((const double *)lz_array_data(d))[7] == 7);
  CHECK(((const float *)lz_array_data(tt))[7] == 14);
  int s2[2] = {2, N};
  lz_array *row = lz_retain(filled(N, 0));
  lz_array *b = lz_add(row, lz_full(s2, 2, 1, LZ_FLOAT32)); /* broadcast to twice the size */
  lz_free(row);
  lz_free(row);
  CHECK(lz_eval(b) == 0);
  CHECK(((const float *)lz_array_data(b))[N + 3] == 4);
  CHECK(lz__donation_count() == before);
  /* the astype of a same-size dtype does donate, and converts correctly in place */
  lz_array *i = lz_retain(filled(N, 0));
  lz_array *ci = lz_astype(i, LZ_INT32);
  lz_free(i);
  lz_free(i);
  CHECK(lz_eval(ci) == 0);
  CHECK(lz__donation_count() == before + 1);
  CHECK(((const int32_t *)lz_array_data(ci))[N - 1] == N - 1);
}

/* ---- float16: F16C against the scalar reference on every half value ---- */

static void test_f16_conversions_match_scalar(void) {
  enum { NH = 65536 };
  uint16_t *h = malloc(NH * sizeof *h), *h_fast = malloc(NH * sizeof *h),
           *h_ref = malloc(NH * sizeof *h);
  float *f_fast = malloc(NH * sizeof(float)), *f_ref = malloc(NH * sizeof(float));
  for (int i = 0; i < NH; i++) h[i] = (uint16_t)i;
  lz__convert(f_fast, LZ_FLOAT32, h, LZ_FLOAT16, NH);
  lz__convert_use_simd(false);
  lz__convert(f_ref, LZ_FLOAT32, h, LZ_FLOAT16, NH);
  lz__convert_use_simd(true);
  int bad = 0;
  for (int i = 0; i < NH; i++) {
    float r = lz__f16_to_f32(h[i]);
    bool same = memcmp(&f_ref[i], &r, 4) == 0 &&
                (memcmp(&f_fast[i], &r, 4) == 0 || (isnan(f_fast[i]) && isnan(r)));
    bad += !same;
  }
  CHECK(bad == 0);
  /* back again, exactly */
  lz__convert(h_fast, LZ_FLOAT16, f_ref, LZ_FLOAT32, NH);
  bad = 0;
  for (int i = 0; i < NH; i++) bad += h_fast[i] != lz__f32_to_f16(f_ref[i]);
  CHECK(bad == 0);
  /* rounding: every value half-way between two halves and just either side of it, tails of
   * odd lengths, subnormals, overflow to inf */
  enum { NF = 3 * 65536 };
  float *f = malloc(NF * sizeof *f);
  uint16_t *o_fast = malloc(NF * sizeof *o_fast), *o_ref = malloc(NF * sizeof *o_ref);
  for (int i = 0; i < 65536; i++) {
    uint32_t u;
    float v = lz__f16_to_f32((uint16_t)i);
    memcpy(&u, &v, 4);
    u += 1u << 12; /* half-way to the next half (normal range) */
    for (int k = 0; k < 3; k++) {
      uint32_t w = u + (uint32_t)(k - 1);
      memcpy(&f[3 * i + k], &w, 4);
    }
  }
  for (int n = NF - 7; n <= NF; n += 7) { /* odd tails */
    lz__convert(o_fast, LZ_FLOAT16, f, LZ_FLOAT32, n);
    bad = 0;
    for (int i = 0; i < n; i++) {
      o_ref[i] = lz__f32_to_f16(f[i]);
      bad += o_fast[i] != o_ref[i];
    }
    CHECK(bad == 0);
  }
  free(f), free(o_fast), free(o_ref);
  free(h), free(h_fast), free(h_ref), free(f_fast), free(f_ref);
}

/* ---- the buffer cache ---- */

/* Blocks from 64 KiB to 2 MiB are carved from 2 MiB huge-page chunks (core/alloc.c): the first
 * one of a chunk comes with the rest of the chunk in the cache, as blocks of classes that fill
 * it exactly, which later allocations take before asking the system again. (Off under ASan.) */
static void test_cache_carves_medium_blocks(void) {
  lz_clear_cache();
  size_t cap = 0;
  char *p = lz__data_alloc(1700000, &cap); /* the 1.75 MiB class */
  CHECK(p && cap == (size_t)7 << 18);
#ifndef LZ_ASAN
  size_t c2 = 0, c3 = 0;
  CHECK(((uintptr_t)p & ((2u << 20) - 1)) == 0);
  CHECK(lz_get_cache_memory() == ((size_t)2 << 20) - cap); /* the chunk's last 256 KiB */
  char *q = lz__data_alloc(250000, &c2);                   /* takes them */
  CHECK(q == p + cap && c2 == (size_t)1 << 18);
  CHECK(lz_get_cache_memory() == 0);
  /* 224 KiB leaves 1824 KiB: 1536 + 224 + 64 KiB (a greedy split would strand 32 KiB) */
  char *r = lz__data_alloc(220000, &c3);
  CHECK(r && c3 == (size_t)224 << 10);
  CHECK(lz_get_cache_memory() == ((size_t)2 << 20) - c3);
  memset(p, 1, cap), memset(q, 2, c2), memset(r, 3, c3);
  CHECK(p[cap - 1] == 1 && q[0] == 2 && q[c2 - 1] == 2 && r[c3 - 1] == 3);
  lz__data_free(q, c2);
  lz__data_free(r, c3);
#endif
  lz__data_free(p, cap);
  lz_clear_cache(); /* gives each carved block back on its own (munmap) */
  CHECK(lz_get_cache_memory() == 0);
  /* a cache limit below the chunk's rest: the rest goes back to the system at once */
  size_t old = lz_set_cache_limit(0);
  p = lz__data_alloc(1700000, &cap);
  CHECK(p != NULL && lz_get_cache_memory() == 0);
  if (p) memset(p, 1, cap);
  lz__data_free(p, cap);
  CHECK(lz_get_cache_memory() == 0);
  lz_set_cache_limit(old);
}

static void test_cache_reuse_and_limits(void) {
  lz_clear_cache();
  size_t cap = 0;
  void *p = lz__data_alloc(5000, &cap);
  CHECK(p && cap >= 5000 && cap < 6250); /* a size class wastes < 25% */
  CHECK(((uintptr_t)p & 63) == 0);
  lz__data_free(p, cap);
  CHECK(lz_get_cache_memory() == cap);
  size_t cap2 = 0;
  void *q = lz__data_alloc(4900, &cap2); /* same class: the cached block comes back */
  CHECK(q == p && cap2 == cap);
  CHECK(lz_get_cache_memory() == 0);
  lz__data_free(q, cap2);
  lz_clear_cache();
  /* big blocks (huge-page aligned) */
  void *big = lz__data_alloc((size_t)9 << 20, &cap);
  CHECK(big && ((uintptr_t)big & ((2u << 20) - 1)) == 0);
  memset(big, 1, (size_t)9 << 20);
  lz__data_free(big, cap);
  /* a cache limit of 0 disables caching */
  size_t old = lz_set_cache_limit(0);
  CHECK(lz_get_cache_memory() == 0);
  p = lz__data_alloc(5000, &cap);
  lz__data_free(p, cap);
  CHECK(lz_get_cache_memory() == 0);
  lz_set_cache_limit(old);
  /* the memory limit fails an allocation cleanly, with the limit in the message */
  lz_set_memory_limit(1 << 20);
  lz_array *z = lz_add(filled(1 << 18, 0), lz_float(1)); /* 1 MiB + 1 MiB */
  CHECK(lz_eval(z) == -1);
  CHECK(lz_last_error_code() == LZ_ERROR_OUT_OF_MEMORY);
  lz_clear_error();
  lz_set_memory_limit(0);
  CHECK(lz_eval(z) == 0);
  lz_clear_cache();
}

/* ---- node recording: errors still name the op though the name is no longer pre-formatted --- */

static long minor_faults(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

/* Blocks of 2 MiB and more are 2 MiB aligned (so transparent huge pages can back them), and a
 * loop that keeps making and dropping arrays of the same sizes takes no page faults once its
 * first iteration has run: every buffer comes back from the cache already mapped. Without the
 * cache the 64 MiB temporary alone (above glibc's largest mmap threshold, so unmapped when
 * freed) would take 32 to 16384 faults per iteration. */
static void test_steady_state_takes_no_page_faults(void) {
#ifdef LZ_ASAN
  /* ASan's allocator keeps freed memory in quarantine and hands out fresh pages instead: the
   * property is the optimised build's (which runs this test) */
  printf("  (skipped under AddressSanitizer)\n");
  return;
#endif
  int big[2] = {512, 1024}, mid[2] = {256, 1024}, w[2] = {1024, 1024};
  lz_array *x = lz_full(big, 2, 0.5, LZ_FLOAT32), *m = lz_full(mid, 2, 0.25, LZ_FLOAT32);
  lz_array *k = lz_full(w, 2, 0.001, LZ_FLOAT32),
           *g = lz_full((int[]){4096, 4096}, 2, 0.5, LZ_FLOAT32);
  CHECK(lz_eval(x) == 0 && lz_eval(m) == 0 && lz_eval(k) == 0 && lz_eval(g) == 0);
  CHECK(((uintptr_t)lz_array_data(x) & ((2u << 20) - 1)) == 0); /* 2 MiB: huge-page aligned */
  CHECK(((uintptr_t)lz_array_data(k) & ((2u << 20) - 1)) == 0); /* 4 MiB */
  long faults = 0;
  for (int it = 0; it < 7; it++) {
    long f0 = minor_faults();
    lz_scope_begin();
    lz_array *h = lz_matmul(lz_add(x, lz_float(1)), k);             /* 2 MiB temporaries */
    lz_array *s = lz_add(lz_multiply(m, lz_float(3)), lz_float(1)); /* 1 MiB ones */
    lz_array *t = lz_add(lz_multiply(g, lz_float(2)), lz_float(1)); /* a 64 MiB one */
    lz_array *r = lz_add(lz_add(lz_sum(h, false), lz_sum(s, false)), lz_max(t, false));
    CHECK(lz_eval(r) == 0);
    CHECK(fabsf(lz_item_f32(r) - (512.f * 1024 * 1.5f * 1024 * 0.001f + 256.f * 1024 * 1.75f + 2)) <
          0.01f * 256 * 1024);
    lz_scope_end();
    if (it >= 2) faults += minor_faults() - f0; /* after two warm-up iterations */
  }
  CHECK(faults <= 10); /* 5 iterations: ~0 (a few for unrelated first touches) */
  if (faults > 10) fprintf(stderr, "  %ld page faults in 5 steady-state iterations\n", faults);
  lz_free(x), lz_free(m), lz_free(k), lz_free(g);
}

/* A CNN's 2x2 max pooling, a max over axes 2 and 4 of (B,H,2,W,2,C), keeps only C contiguous
 * columns per output row: the reduction splits it into B*H*W items, each with a partial of C
 * values, from the allocator's cache. With a 32 KiB partial per item from malloc it took ~25,000
 * page faults per pooling of the MNIST CNN (2 million per epoch, a third of its wall time in
 * the kernel). */
static void test_pooling_takes_no_page_faults(void) {
#ifdef LZ_ASAN
  printf("  (skipped under AddressSanitizer)\n");
  return;
#endif
  int shape[6] = {32, 14, 2, 14, 2, 16};
  lz_array *x = lz_reshape(lz_arange(0, 32 * 28 * 28 * 16, 1, LZ_FLOAT32), shape, 6);
  CHECK(lz_eval(x) == 0);
  long faults = 0;
  for (int it = 0; it < 6; it++) {
    long f0 = minor_faults();
    lz_scope_begin();
    lz_array *y = lz_max_axes(x, (int[]){2, 4}, 2, false); /* (32,14,14,16) */
    CHECK(lz_eval(y) == 0);
    const float *v = lz_array_data(y);
    /* element (b,i,j,c) is the max of x at rows 2i+1, cols 2j+1 */
    CHECK(v && v[0] == (float)(1 * 28 * 16 + 1 * 16) && v[16 * 14 * 14 * 32 - 1] ==
                                                           (float)(32 * 28 * 28 * 16 - 1));
    lz_scope_end();
    if (it >= 2) faults += minor_faults() - f0;
  }
  CHECK(faults <= 10); /* 4 iterations */
  if (faults > 10) fprintf(stderr, "  %ld page faults in 4 poolings\n", faults);
  lz_free(x);
}

static void test_node_errors_name_op(void) {
  int big[3] = {1 << 30, 1 << 30, 1 << 30};
  lz_array *x = lz_full(big, 3, 1, LZ_FLOAT32);
  CHECK(x == NULL);
  CHECK(strstr(lz_last_error(), "too many elements") != NULL);
  lz_clear_error();
  lz_set_alloc_failure(1);
  lz_array *y = lz_add(lz_float(1), lz_float(2)); /* the node allocation fails */
  lz_set_alloc_failure(0);
  CHECK(y == NULL || lz_last_error()[0] != 0);
  if (!y) CHECK(strstr(lz_last_error(), "[lz_") != NULL);
  lz_clear_error();
  /* many tiny ops: the thread-local eval vectors are reused */
  lz_array *a = lz_float(0);
  int bad = 0;
  for (int i = 0; i < 2000; i++) {
    lz_array *b = lz_add(a, lz_float(1));
    bad += lz_eval(b) != 0;
    a = b;
  }
  CHECK(bad == 0);
  CHECK(lz_item_f32(a) == 2000);
}

int main(void) {
  RUN(test_donation_reuses_buffer);
  RUN(test_no_donation_when_shared);
  RUN(test_f16_conversions_match_scalar);
  RUN(test_cache_reuse_and_limits);
  RUN(test_steady_state_takes_no_page_faults);
  RUN(test_pooling_takes_no_page_faults);
  RUN(test_cache_carves_medium_blocks);
  RUN(test_node_errors_name_op);
  return lzt_summary();
}
