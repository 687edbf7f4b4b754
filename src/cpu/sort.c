/* Sorting along one axis (or the flattened array): sort, argsort, partition, argpartition, topk
 * and searchsorted. Each lane is loaded into a compute-type buffer and merge-sorted (stable,
 * NaN last); partitions use the full sort, which is a valid partition. */
#include <stdlib.h>

#include "../core/threads.h"
#include "reduce.h"

/* Ascending order with NaN after every number (NaNs equal among themselves). */
#define LESS_F(a, b) ((a) < (b) || ((b) != (b) && (a) == (a)))
#define LESS_I(a, b) ((a) < (b))

enum { RUN = 16 };

#define SORT_FN(NAME, T, LESS)                                                                   \
  static void NAME(T *v, uint32_t *idx, int64_t n, T *tv, uint32_t *ti) {                        \
    for (int64_t s = 0; s < n; s += RUN) { /* insertion sort of short runs */                   \
      int64_t e = s + RUN < n ? s + RUN : n;                                                     \
      for (int64_t i = s + 1; i < e; i++) {                                                      \
        T x = v[i];                                                                              \
        uint32_t xi = idx ? idx[i] : 0;                                                          \
        int64_t j = i;                                                                           \
        for (; j > s && LESS(x, v[j - 1]); j--) {                                                \
          v[j] = v[j - 1];                                                                       \
          if (idx) idx[j] = idx[j - 1];                                                          \
        }                                                                                        \
        v[j] = x;                                                                                \
        if (idx) idx[j] = xi;                                                                    \
      }                                                                                          \
    }                                                                                            \
    T *a = v, *b = tv;                                                                           \
    uint32_t *ai = idx, *bi = ti;                                                                \
    for (int64_t w = RUN; w < n; w *= 2) { /* stable merges, ping-pong between buffers */       \
      for (int64_t lo = 0; lo < n; lo += 2 * w) {                                                \
        int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;             \
        int64_t i = lo, j = mid, k = lo;                                                         \
        while (i < mid && j < hi) {                                                              \
          bool right = LESS(a[j], a[i]);                                                         \
          int64_t s = right ? j++ : i++;                                                         \
          b[k] = a[s];                                                                           \
          if (idx) bi[k] = ai[s];                                                                \
          k++;                                                                                   \
        }                                                                                        \
        for (; i < mid; i++, k++) b[k] = a[i], idx ? (void)(bi[k] = ai[i]) : (void)0;            \
        for (; j < hi; j++, k++) b[k] = a[j], idx ? (void)(bi[k] = ai[j]) : (void)0;             \
      }                                                                                          \
      T *t = a;                                                                                  \
      a = b, b = t;                                                                              \
      uint32_t *tt = ai;                                                                         \
      ai = bi, bi = tt;                                                                          \
    }                                                                                            \
    if (a != v) {                                                                                \
      memcpy(v, a, (size_t)n * sizeof(T));                                                       \
      if (idx) memcpy(idx, ai, (size_t)n * sizeof(uint32_t));                                    \
    }                                                                                            \
  }
SORT_FN(sort_f32, float, LESS_F)
SORT_FN(sort_f64, double, LESS_F)
SORT_FN(sort_i64, int64_t, LESS_I)
SORT_FN(sort_u64, uint64_t, LESS_I)

void lz_cpu_sort_values(lz_dtype ct, void *v, uint32_t *idx, int64_t n, void *tmp) {
  size_t cs = lz_dtype_size(ct);
  uint32_t *ti = idx ? (uint32_t *)((char *)tmp + (size_t)n * cs) : NULL;
  switch (ct) {
  case LZ_FLOAT32: sort_f32(v, idx, n, tmp, ti); break;
  case LZ_FLOAT64: sort_f64(v, idx, n, tmp, ti); break;
  case LZ_UINT64: sort_u64(v, idx, n, tmp, ti); break;
  default: sort_i64(v, idx, n, tmp, ti); break;
  }
}

typedef struct sort_ctx {
  lz_cpu_lanes L;
  const lz_array *x;
  char *out;
  lz_dtype ct;
  size_t csize, isize, osize;
  lz_cpu_load_fn ld;
  lz_cpu_store_fn st;
  int what;      /* 0 values, 1 indices, 2 the k largest values */
  int64_t step;  /* output element stride along the lane */
  int64_t k;
  atomic_bool oom;
} sort_ctx;

static void sort_worker(void *ctx, int64_t begin, int64_t end) {
  sort_ctx *c = ctx;
  int64_t n = c->L.len;
  size_t m = (size_t)(n > 0 ? n : 1);
  char *buf = malloc(m * (2 * c->csize + 2 * sizeof(uint32_t)));
  if (!buf) {
    atomic_store(&c->oom, true);
    return;
  }
  char *tmp = buf + m * c->csize;
  uint32_t *idx = c->what == 1 ? (uint32_t *)(tmp + m * (c->csize + sizeof(uint32_t))) : NULL;
  for (int64_t l = begin; l < end; l++) {
    int64_t io, oo;
    lz_cpu_lanes_offsets(&c->L, l, &io, &oo);
    lz_cpu_lane_load(&c->L, c->ld, lz__data_ptr(c->x) + io * (int64_t)c->isize, c->isize, buf,
                     c->csize);
    if (idx)
      for (int64_t i = 0; i < n; i++) idx[i] = (uint32_t)i;
    lz_cpu_sort_values(c->ct, buf, idx, n, tmp);
    char *o = c->out + oo * (int64_t)c->osize;
    if (idx) {
      for (int64_t i = 0; i < n; i++) ((uint32_t *)o)[i * c->step] = idx[i];
    } else if (c->what == 2) {
      c->st(o, c->step * (int64_t)c->osize, buf + (n - c->k) * (int64_t)c->csize, c->k);
    } else {
      c->st(o, c->step * (int64_t)c->osize, buf, n);
    }
  }
  free(buf);
}

int lz_cpu_sort(lz_node *node, lz_array **outs) {
  const lz_axis_params *p = node->params;
  lz_array *x = node->inputs[0], *out = outs[0];
  if (lz__alloc_output(out, lz__op(node->op)->name) != 0) return -1;
  sort_ctx c;
  memset(&c, 0, sizeof c);
  c.what = *(const int *)lz__op(node->op)->impl;
  bool lane[LZ_MAX_NDIM];
  int64_t os[LZ_MAX_NDIM] = {0};
  for (int d = 0; d < x->ndim; d++) {
    lane[d] = p->axis < 0 || d == p->axis;
    if (p->axis >= 0) os[d] = out->strides[d];
  }
  lz_cpu_lanes_init(&c.L, x->ndim, x->shape, x->strides, os, lane);
  c.step = p->axis < 0 ? 1 : out->strides[p->axis];
  c.x = x;
  c.out = lz__data_ptr(out);
  c.ct = lz_cpu_compute_type(x->dtype);
  c.csize = lz_dtype_size(c.ct);
  c.isize = lz_dtype_size(x->dtype);
  c.osize = lz_dtype_size(out->dtype);
  c.ld = lz_cpu_loader(x->dtype, c.ct);
  c.st = lz_cpu_storer(x->dtype, c.ct);
  c.k = p->k;
  atomic_init(&c.oom, false);
  if (!c.ld || !c.st) {
    return lz__error(LZ_ERROR_DTYPE, "lz_eval", "%s has no kernel for %s",
                     lz__op(node->op)->name, lz_dtype_name(x->dtype));
  }
  if (c.L.nlanes == 0 || out->size == 0) return 0;
  lz__parallel_for(c.L.nlanes, 4096 / (c.L.len + 1) + 1, sort_worker, &c);
  if (atomic_load(&c.oom)) return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_sort", "out of memory");
  return 0;
}

/* ---- searchsorted: inputs a (1-d, sorted) and v, both of one dtype ---- */

#define SEARCH_FN(NAME, T, LESS)                                                                 \
  static uint32_t NAME(const T *a, int64_t n, T x, bool right) {                                 \
    int64_t lo = 0, hi = n;                                                                      \
    while (lo < hi) {                                                                            \
      int64_t mid = lo + (hi - lo) / 2;                                                          \
      bool go_right = right ? !LESS(x, a[mid]) : LESS(a[mid], x);                                \
      if (go_right) lo = mid + 1;                                                                \
      else hi = mid;                                                                             \
    }                                                                                            \
    return (uint32_t)lo;                                                                         \
  }
SEARCH_FN(search_f32, float, LESS_F)
SEARCH_FN(search_f64, double, LESS_F)
SEARCH_FN(search_i64, int64_t, LESS_I)
SEARCH_FN(search_u64, uint64_t, LESS_I)

int lz_cpu_searchsorted(lz_node *node, lz_array **outs) {
  const lz_axis_params *p = node->params; /* reverse: side right */
  lz_array *a = node->inputs[0], *v = node->inputs[1], *out = outs[0];
  if (lz__alloc_output(out, "lz_searchsorted") != 0) return -1;
  lz_dtype ct = lz_cpu_compute_type(a->dtype);
  size_t cs = lz_dtype_size(ct), is = lz_dtype_size(a->dtype);
  lz_cpu_load_fn ld = lz_cpu_loader(a->dtype, ct);
  if (!ld) return lz__error(LZ_ERROR_DTYPE, "lz_searchsorted", "no kernel for %s",
                            lz_dtype_name(a->dtype));
  int64_t n = a->shape[0];
  char *ab = malloc((size_t)(n > 0 ? n : 1) * cs);
  char *vb = malloc((size_t)(v->size > 0 ? v->size : 1) * cs);
  if (!ab || !vb) {
    free(ab), free(vb);
    return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_searchsorted", "out of memory");
  }
  ld(ab, lz__data_ptr(a), a->strides[0] * (int64_t)is, n);
  bool lane[LZ_MAX_NDIM];
  for (int d = 0; d < v->ndim; d++) lane[d] = true;
  lz_cpu_lanes L;
  lz_cpu_lanes_init(&L, v->ndim, v->shape, v->strides, NULL, lane);
  lz_cpu_lane_load(&L, ld, lz__data_ptr(v), is, vb, cs);
  uint32_t *o = (uint32_t *)lz__data_ptr(out);
  for (int64_t i = 0; i < v->size; i++) {
    switch (ct) {
    case LZ_FLOAT32: o[i] = search_f32((float *)ab, n, ((float *)vb)[i], p->reverse); break;
    case LZ_FLOAT64: o[i] = search_f64((double *)ab, n, ((double *)vb)[i], p->reverse); break;
    case LZ_UINT64: o[i] = search_u64((uint64_t *)ab, n, ((uint64_t *)vb)[i], p->reverse); break;
    default: o[i] = search_i64((int64_t *)ab, n, ((int64_t *)vb)[i], p->reverse); break;
    }
  }
  free(ab), free(vb);
  return 0;
}
