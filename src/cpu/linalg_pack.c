/* Packing for the matmul and linear algebra kernels: strided copies with dtype conversion,
 * and scratch memory (the GEMM entry point lz_cpu_gemm is in gemm.c). */
#include "linalg_pack.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "../core/threads.h"
#include "half.h"

typedef struct cast_ctx {
  lz_dtype ddt, sdt;
} cast_ctx;

/* One run of a converting copy: operand 0 is the destination, operand 1 the source. */
#define CAST_RUN(NAME, DT, ST, CONV)                                                               \
  static void NAME(int64_t n, char *d, int64_t ds, const char *s, int64_t ss) {                    \
    for (int64_t i = 0; i < n; i++, d += ds, s += ss) *(DT *)d = CONV(*(const ST *)s);             \
  }
#define SAME(v) (v)
#define TO_F(v) ((float)(v))
#define TO_D(v) ((double)(v))
CAST_RUN(f32_f32, float, float, SAME)
CAST_RUN(f64_f64, double, double, SAME)
CAST_RUN(f32_f16, float, uint16_t, lz_h2f)
CAST_RUN(f32_bf16, float, uint16_t, lz_b2f)
CAST_RUN(f16_f32, uint16_t, float, lz_f2h)
CAST_RUN(bf16_f32, uint16_t, float, lz_f2b)
CAST_RUN(f32_f64, float, double, TO_F)
CAST_RUN(f64_f32, double, float, TO_D)

static void cast_inner(void *vctx, int64_t n, char **p, const int64_t *s) {
  const cast_ctx *c = vctx;
  char *d = p[0];
  const char *src = p[1];
  if (c->ddt == c->sdt && s[0] == s[1] && s[0] == (int64_t)lz_dtype_size(c->ddt)) {
    memcpy(d, src, (size_t)(n * s[0]));
    return;
  }
#define PAIR(D, S) (c->ddt == (D) && c->sdt == (S))
  if (PAIR(LZ_FLOAT32, LZ_FLOAT32))
    f32_f32(n, d, s[0], src, s[1]);
  else if (PAIR(LZ_FLOAT64, LZ_FLOAT64))
    f64_f64(n, d, s[0], src, s[1]);
  else if (PAIR(LZ_FLOAT32, LZ_FLOAT16))
    f32_f16(n, d, s[0], src, s[1]);
  else if (PAIR(LZ_FLOAT32, LZ_BFLOAT16))
    f32_bf16(n, d, s[0], src, s[1]);
  else if (PAIR(LZ_FLOAT16, LZ_FLOAT32))
    f16_f32(n, d, s[0], src, s[1]);
  else if (PAIR(LZ_BFLOAT16, LZ_FLOAT32))
    bf16_f32(n, d, s[0], src, s[1]);
  else if (PAIR(LZ_FLOAT32, LZ_FLOAT64))
    f32_f64(n, d, s[0], src, s[1]);
  else if (PAIR(LZ_FLOAT64, LZ_FLOAT32))
    f64_f32(n, d, s[0], src, s[1]);
  else if (PAIR(LZ_COMPLEX64, LZ_COMPLEX64)) /* strided complex: both parts */
    for (int64_t i = 0; i < n; i++, d += s[0], src += s[1]) memcpy(d, src, 8);
  else if (lz_dtype_is_integer(c->ddt) || c->ddt == LZ_BOOL) {
    /* integer paths keep exact 64-bit values (int64 accumulators, wrapping stores) */
    for (int64_t i = 0; i < n; i++, d += s[0], src += s[1]) {
      int64_t v = lz_dtype_is_float(c->sdt) ? (int64_t)lz__load_f64(src, c->sdt)
                                            : lz__load_i64(src, c->sdt);
      switch (c->ddt) {
      case LZ_BOOL:
        *(uint8_t *)d = v != 0;
        break;
      case LZ_UINT8:
      case LZ_INT8:
        *(uint8_t *)d = (uint8_t)v;
        break;
      case LZ_UINT16:
      case LZ_INT16:
        *(uint16_t *)d = (uint16_t)v;
        break;
      case LZ_UINT32:
      case LZ_INT32:
        *(uint32_t *)d = (uint32_t)v;
        break;
      default:
        *(int64_t *)d = v;
        break;
      }
    }
  } else {
    for (int64_t i = 0; i < n; i++, d += s[0], src += s[1])
      lz__store_f64(d, c->ddt, lz__load_f64(src, c->sdt));
  }
#undef PAIR
}

void lz_cpu_copy_cast(char *dst, lz_dtype ddt, const int64_t *dstrides, const char *src,
                      lz_dtype sdt, const int64_t *sstrides, int ndim, const int *shape) {
  for (int d = 0; d < ndim; d++)
    if (shape[d] == 0) return;
  cast_ctx c = {ddt, sdt};
  char *base[2] = {dst, (char *)src};
  const int64_t *strides[2] = {dstrides, sstrides};
  size_t sizes[2] = {lz_dtype_size(ddt), lz_dtype_size(sdt)};
  lz_cpu_iter it;
  lz_cpu_iter_init(&it, ndim, shape, 2, base, strides, sizes);
  lz_cpu_iter_run(&it, 0, lz_cpu_iter_outer(&it), cast_inner, &c);
}

static void contiguous_strides(const int *shape, int ndim, int64_t *strides) {
  int64_t s = 1;
  for (int d = ndim - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d] > 0 ? shape[d] : 1;
  }
}

void lz_cpu_pack(void *dst, lz_dtype ddt, const lz_array *src) {
  int64_t ds[LZ_MAX_NDIM];
  contiguous_strides(src->shape, src->ndim, ds);
  lz_cpu_copy_cast(dst, ddt, ds, lz__data_ptr(src), src->dtype, src->strides, src->ndim,
                   src->shape);
}

void lz_cpu_unpack(lz_array *dst, const void *src, lz_dtype sdt) {
  int64_t ss[LZ_MAX_NDIM];
  contiguous_strides(dst->shape, dst->ndim, ss);
  lz_cpu_copy_cast(lz__data_ptr(dst), dst->dtype, dst->strides, src, sdt, ss, dst->ndim,
                   dst->shape);
}

void *lz_cpu_scratch(size_t nbytes, size_t *cap, const char *op) {
  void *p = lz__data_alloc(nbytes ? nbytes : 1, cap);
  if (!p)
    lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory allocating %zu bytes of scratch", nbytes);
  return p;
}

void lz_cpu_scratch_free(void *p, size_t cap) { lz__data_free(p, cap); }

/* ---- OpenBLAS threads for big LAPACK calls ----
 * OpenBLAS runs single-threaded (core/threads.c: its idle workers spin ~0.1 s after each
 * threaded call, beside our pool's kernels). A LAPACK call long enough to dwarf that spin gets
 * the pool's cores instead, lent for the call (lz__pool_lend: the pool is held idle meanwhile,
 * so its workers and OpenBLAS's never run together), then OpenBLAS goes back to one thread.
 * OpenBLAS's threads meet at spinning barriers after every BLAS call inside LAPACK, so a
 * descheduled one stalls the rest: on a machine whose cores other processes already keep busy
 * (2-core machine at load 17: QR of 2048 2.7x slower on 2 threads than on 1) the call only takes
 * the cores that no other process uses now (the kernel's count of running threads,
 * /proc/loadavg, less this process's own). */
void openblas_set_num_threads(int num_threads); /* from OpenBLAS */

static atomic_long threaded_calls;
static _Atomic double threaded_flops = LZ_LAPACK_THREADED_FLOPS;
static atomic_bool load_check = true;

double lz_cpu_lapack_set_threaded_flops(double flops, bool check_load) {
  atomic_store(&load_check, check_load);
  return atomic_exchange(&threaded_flops, flops);
}

int lz_cpu_idle_cores(const char *loadavg, int own_running, int cores) {
  /* "0.52 0.58 0.59 3/613 12345": the fourth field is running/total scheduling entities */
  const char *p = loadavg;
  for (int f = 0; f < 3 && p; f++) p = strchr(p, ' '), p = p ? p + 1 : NULL;
  long running = p ? strtol(p, NULL, 10) : 0;
  if (running < 1) return cores; /* unreadable: assume idle */
  long others = running - (own_running > 1 ? own_running : 1); /* the caller runs */
  long idle = cores - (others > 0 ? others : 0);
  return idle < 0 ? 0 : idle > cores ? cores : (int)idle;
}

/* This process's threads running now (spinning OpenBLAS or OpenMP workers are ours to use). */
static int own_running(void) {
  DIR *d = opendir("/proc/self/task");
  if (!d) return 1;
  int n = 0;
  struct dirent *e;
  char path[64], buf[256];
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/self/task/%.20s/stat", e->d_name);
    FILE *f = fopen(path, "r");
    size_t len = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[len] = 0;
    const char *p = strrchr(buf, ')'); /* the state follows the command name */
    n += p && p[1] == ' ' && p[2] == 'R';
  }
  closedir(d);
  return n;
}

static int idle_cores_now(int cores) {
  char buf[128];
  FILE *f = fopen("/proc/loadavg", "r");
  size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
  if (f) fclose(f);
  buf[n] = 0;
  if (!n) return cores;
  int idle = lz_cpu_idle_cores(buf, 1, cores);
  /* only when others seem to run: is it us? (one file per thread of this process) */
  return idle < cores ? lz_cpu_idle_cores(buf, own_running(), cores) : idle;
}

int lz_cpu_lapack_begin(double flops) {
  if (flops < atomic_load_explicit(&threaded_flops, memory_order_relaxed)) return 1;
  int lent = lz__pool_lend();
  if (lent <= 1) return 1; /* the pool is in use: so are the cores */
  int n = lent;
  if (atomic_load_explicit(&load_check, memory_order_relaxed)) {
    int free_cores = idle_cores_now(lent); /* the caller's included */
    n = free_cores < n ? free_cores : n;
  }
  if (n <= 1) {
    lz__pool_unlend(lent);
    return 1;
  }
  openblas_set_num_threads(n); /* global, but only the pool's lender sets it above 1 */
  atomic_fetch_add(&threaded_calls, 1);
  return n;
}

void lz_cpu_lapack_end(int n) {
  if (n <= 1) return;
  openblas_set_num_threads(1);
  lz__pool_unlend(n);
}

long lz_cpu_lapack_threaded_calls(void) { return atomic_load(&threaded_calls); }
