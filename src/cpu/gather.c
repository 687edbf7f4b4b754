/* The index-plan engine (shared by gathers and scatters) and the gather kernels: take,
 * take_along_axis, gather, slice_dynamic and mask_select. Every input is read through its
 * strides and offset; outputs are contiguous. Index errors found by a worker thread are kept in
 * the walk's context and reported by the calling thread afterwards. */
#include "gather.h"

#include <limits.h>

#include "../core/threads.h"

/* ---- the engine ---------------------------------------------------------------------------- */

void lz_cpu_index_ref(lz_index_ref *r, const lz_array *idx, int64_t elem_offset,
                      const int64_t *strides, int axis, int64_t dim, int64_t extent,
                      int64_t tstride) {
  memset(r, 0, sizeof *r);
  r->ptr = lz__data_ptr(idx) + elem_offset * (int64_t)lz_dtype_size(idx->dtype);
  r->dtype = idx->dtype;
  memcpy(r->strides, strides, sizeof r->strides);
  r->axis = axis;
  r->dim = dim;
  r->extent = extent;
  r->tstride = tstride;
}

/* The value of an integer index element (the constructors admit integer dtypes only). */
static inline int64_t load_index(const char *p, lz_dtype dt) {
  switch (dt) {
  case LZ_UINT8:
    return *(const uint8_t *)p;
  case LZ_UINT16:
    return *(const uint16_t *)p;
  case LZ_UINT32:
    return *(const uint32_t *)p;
  case LZ_UINT64: {
    uint64_t u = *(const uint64_t *)p;
    return u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u;
  }
  case LZ_INT8:
    return *(const int8_t *)p;
  case LZ_INT16:
    return *(const int16_t *)p;
  case LZ_INT32:
    return *(const int32_t *)p;
  case LZ_INT64:
    return *(const int64_t *)p;
  default:
    return INT64_MAX; /* out of bounds for every axis */
  }
}

typedef struct walk {
  lz_index_plan *p;
  lz_cpu_combine_fn fn;
  int64_t inner_count; /* elements in one slice of the split dim */
  atomic_int failed;
  int64_t bad_value; /* written once, by whoever set `failed` */
  int bad_ref;
} walk;

static void record_failure(walk *w, int ref, int64_t value) {
  int expected = 0;
  if (atomic_compare_exchange_strong(&w->failed, &expected, 1)) {
    w->bad_value = value;
    w->bad_ref = ref;
  }
}

/* Element offset contributed by every index at the point whose per-ref offsets are `off`.
 * Returns false (after recording the failure) on a bad index. */
static inline bool index_offset(walk *w, const int64_t *off, int64_t *out) {
  const lz_index_plan *p = w->p;
  int64_t total = 0;
  for (int j = 0; j < p->nidx; j++) {
    const lz_index_ref *r = &p->idx[j];
    int64_t v = load_index(r->ptr + off[j] * (int64_t)lz_dtype_size(r->dtype), r->dtype);
    int64_t n = v < 0 ? v + r->dim : v;
    if (n < 0 || n > r->dim - r->extent) {
      record_failure(w, j, v);
      return false;
    }
    if (r->flat) {
      for (int d = r->tndim - 1; d >= 0; d--) {
        int64_t q = n / r->tshape[d];
        total += (n - q * r->tshape[d]) * r->tstrides[d];
        n = q;
      }
    } else {
      total += n * r->tstride;
    }
  }
  *out = total;
  return true;
}

static void copy_run(char *dst, int64_t ds, const char *src, int64_t ss, int64_t n, size_t sz) {
  if (ds == (int64_t)sz && ss == (int64_t)sz) {
    memcpy(dst, src, (size_t)n * sz);
    return;
  }
  switch (sz) {
  case 1:
    for (int64_t i = 0; i < n; i++) dst[i * ds] = src[i * ss];
    break;
  case 2:
    for (int64_t i = 0; i < n; i++) memcpy(dst + i * ds, src + i * ss, 2);
    break;
  case 4:
    for (int64_t i = 0; i < n; i++) memcpy(dst + i * ds, src + i * ss, 4);
    break;
  default:
    for (int64_t i = 0; i < n; i++) memcpy(dst + i * ds, src + i * ss, sz);
    break;
  }
}

/* Walks the points with coordinate `split` in [begin, end) (all points when split < 0) in
 * row-major order, one run along the last dim at a time. */
static void walk_range(void *ctx, int64_t begin, int64_t end) {
  walk *w = ctx;
  lz_index_plan *p = w->p;
  int nd = p->ndim, last = nd - 1;
  int64_t lo[LZ_MAX_NDIM], hi[LZ_MAX_NDIM], c[LZ_MAX_NDIM];
  for (int d = 0; d < nd; d++) lo[d] = 0, hi[d] = p->shape[d];
  if (p->split >= 0) lo[p->split] = begin, hi[p->split] = end;
  memcpy(c, lo, (size_t)nd * sizeof c[0]);
  int64_t sz = (int64_t)p->itemsize, len = hi[last] - lo[last];
  int64_t ds = p->dst_strides[last] * sz, ss = p->src_strides[last] * sz;
  bool run_const = true; /* do the indices stay the same along a run? */
  for (int j = 0; j < p->nidx; j++) run_const = run_const && p->idx[j].strides[last] == 0;
  for (;;) {
    if (atomic_load_explicit(&w->failed, memory_order_relaxed)) return;
    int64_t doff = 0, soff = 0, ioff[LZ_MAX_NDIM] = {0};
    for (int d = 0; d < nd; d++) {
      doff += c[d] * p->dst_strides[d];
      soff += c[d] * p->src_strides[d];
      for (int j = 0; j < p->nidx; j++) ioff[j] += c[d] * p->idx[j].strides[d];
    }
    if (run_const) {
      int64_t x;
      if (!index_offset(w, ioff, &x)) return;
      char *dp = p->dst + (doff + (p->indexes_dst ? x : 0)) * sz;
      const char *sp = p->src + (soff + (p->indexes_dst ? 0 : x)) * sz;
      if (w->fn)
        w->fn(dp, ds, sp, ss, len);
      else
        copy_run(dp, ds, sp, ss, len, p->itemsize);
    } else {
      for (int64_t i = 0; i < len; i++) {
        int64_t x;
        if (!index_offset(w, ioff, &x)) return;
        char *dp = p->dst + (doff + i * p->dst_strides[last] + (p->indexes_dst ? x : 0)) * sz;
        const char *sp = p->src + (soff + i * p->src_strides[last] + (p->indexes_dst ? 0 : x)) * sz;
        if (w->fn)
          w->fn(dp, ds, sp, ss, 1);
        else
          copy_run(dp, ds, sp, ss, 1, p->itemsize);
        for (int j = 0; j < p->nidx; j++) ioff[j] += p->idx[j].strides[last];
      }
    }
    int d = last - 1; /* next run: odometer over the dims before the last */
    while (d >= 0 && ++c[d] == hi[d]) c[d] = lo[d], d--;
    if (d < 0) return;
  }
}

int lz_cpu_index_run(lz_index_plan *p, lz_cpu_combine_fn fn) {
  int64_t total = 1;
  for (int d = 0; d < p->ndim; d++) total *= p->shape[d];
  if (total == 0) return 0;
  if (p->ndim == 0) { /* one point: a run of one along a dim of size 1 */
    p->ndim = 1;
    p->shape[0] = 1;
    p->dst_strides[0] = p->src_strides[0] = 0;
    for (int j = 0; j < p->nidx; j++) p->idx[j].strides[0] = 0;
    p->split = -1;
  }
  walk w = {.p = p, .fn = fn};
  atomic_init(&w.failed, 0);
  if (p->split >= 0 && p->shape[p->split] > 1) {
    int64_t per = total / p->shape[p->split];
    int64_t grain = per >= 16384 ? 1 : 16384 / per;
    lz__parallel_for(p->shape[p->split], grain, walk_range, &w);
  } else {
    p->split = -1;
    walk_range(&w, 0, 0);
  }
  if (atomic_load(&w.failed)) {
    const lz_index_ref *r = &p->idx[w.bad_ref];
    if (r->flat) {
      return lz__error(LZ_ERROR_INVALID_ARGUMENT, p->name,
                       "index %lld is out of bounds for size %lld", (long long)w.bad_value,
                       (long long)r->dim);
    }
    if (r->extent != 1) {
      return lz__error(LZ_ERROR_INVALID_ARGUMENT, p->name,
                       "index %lld with slice size %lld is out of bounds for axis %d with size "
                       "%lld",
                       (long long)w.bad_value, (long long)r->extent, r->axis, (long long)r->dim);
    }
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, p->name,
                     "index %lld is out of bounds for axis %d with size %lld",
                     (long long)w.bad_value, r->axis, (long long)r->dim);
  }
  return 0;
}

/* The first dim of size > 1: any dim is safe to split for a gather. */
static int first_split(const lz_index_plan *p) {
  for (int d = 0; d < p->ndim; d++)
    if (p->shape[d] > 1) return d;
  return -1;
}

/* Starts a gather plan: dst is `out` (allocated here, contiguous), walked in its own shape. */
static int gather_plan(lz_index_plan *p, lz_node *node, lz_array *out) {
  memset(p, 0, sizeof *p);
  if (lz__alloc_output(out, ((const lz_index_params *)node->params)->name) != 0) return -1;
  p->name = ((const lz_index_params *)node->params)->name;
  p->ndim = out->ndim;
  for (int d = 0; d < out->ndim; d++) {
    p->shape[d] = out->shape[d];
    p->dst_strides[d] = out->strides[d];
  }
  p->dst = lz__data_ptr(out);
  p->src = lz__data_ptr(node->inputs[0]);
  p->itemsize = lz_dtype_size(out->dtype);
  p->indexes_dst = false;
  return 0;
}

/* Element strides of `in` broadcast (right-aligned) over dims [at, at + in->ndim) of a walk of
 * `nd` dims; 0 elsewhere. */
static void place_strides(int64_t *s, int nd, const lz_array *in, const int *shape, int at) {
  for (int d = 0; d < nd; d++) s[d] = 0;
  for (int d = 0; d < in->ndim; d++)
    s[at + d] = (in->shape[d] == 1 && shape[at + d] != 1) ? 0 : in->strides[d];
}

/* ---- kernels ------------------------------------------------------------------------------- */

/* take: out is a.shape[:axis] + idx.shape + a.shape[axis+1:] (or idx.shape when flat). */
int lz_cpu_take(lz_node *node, lz_array **outs) {
  const lz_index_params *prm = node->params;
  lz_array *a = node->inputs[0], *idx = node->inputs[1], *out = outs[0];
  lz_index_plan p;
  if (gather_plan(&p, node, out) != 0) return -1;
  int64_t is[LZ_MAX_NDIM];
  if (prm->flat) {
    for (int d = 0; d < p.ndim; d++) p.src_strides[d] = 0;
    place_strides(is, p.ndim, idx, out->shape, 0);
    lz_cpu_index_ref(&p.idx[0], idx, 0, is, 0, a->size, 1, 0);
    p.idx[0].flat = true;
    p.idx[0].tndim = a->ndim;
    for (int d = 0; d < a->ndim; d++) {
      p.idx[0].tshape[d] = a->shape[d];
      p.idx[0].tstrides[d] = a->strides[d];
    }
  } else {
    int ax = prm->axis, k = idx->ndim;
    for (int d = 0; d < p.ndim; d++) {
      p.src_strides[d] = d < ax ? a->strides[d] : d < ax + k ? 0 : a->strides[d - k + 1];
    }
    place_strides(is, p.ndim, idx, out->shape, ax);
    lz_cpu_index_ref(&p.idx[0], idx, 0, is, ax, a->shape[ax], 1, a->strides[ax]);
  }
  p.nidx = 1;
  p.split = first_split(&p);
  return lz_cpu_index_run(&p, NULL);
}

/* take_along_axis: a and idx broadcast over every dim but `axis`. */
int lz_cpu_take_along_axis(lz_node *node, lz_array **outs) {
  const lz_index_params *prm = node->params;
  lz_array *a = node->inputs[0], *idx = node->inputs[1], *out = outs[0];
  lz_index_plan p;
  if (gather_plan(&p, node, out) != 0) return -1;
  int ax = prm->axis;
  int64_t is[LZ_MAX_NDIM];
  place_strides(p.src_strides, p.ndim, a, out->shape, 0);
  p.src_strides[ax] = 0;
  place_strides(is, p.ndim, idx, out->shape, 0);
  lz_cpu_index_ref(&p.idx[0], idx, 0, is, ax, a->shape[ax], 1, a->strides[ax]);
  p.nidx = 1;
  p.split = first_split(&p);
  return lz_cpu_index_run(&p, NULL);
}

/* gather: out is I + slice_sizes; inputs are a, then the index arrays. */
int lz_cpu_gather(lz_node *node, lz_array **outs) {
  const lz_index_params *prm = node->params;
  lz_array *a = node->inputs[0], *out = outs[0];
  lz_index_plan p;
  if (gather_plan(&p, node, out) != 0) return -1;
  int m = out->ndim - a->ndim; /* dims of the broadcast index shape */
  for (int d = 0; d < p.ndim; d++) p.src_strides[d] = d < m ? 0 : a->strides[d - m];
  for (int j = 0; j < prm->naxes; j++) {
    lz_array *idx = node->inputs[1 + j];
    int ax = prm->axes[j];
    int64_t is[LZ_MAX_NDIM];
    place_strides(is, p.ndim, idx, out->shape, m - idx->ndim);
    lz_cpu_index_ref(&p.idx[j], idx, 0, is, ax, a->shape[ax], prm->sizes[ax], a->strides[ax]);
  }
  p.nidx = prm->naxes;
  p.split = first_split(&p);
  return lz_cpu_index_run(&p, NULL);
}

/* slice_dynamic: inputs a and the start array; out has the slice sizes. */
int lz_cpu_slice_dynamic(lz_node *node, lz_array **outs) {
  const lz_index_params *prm = node->params;
  lz_array *a = node->inputs[0], *start = node->inputs[1], *out = outs[0];
  lz_index_plan p;
  if (gather_plan(&p, node, out) != 0) return -1;
  for (int d = 0; d < p.ndim; d++) p.src_strides[d] = a->strides[d];
  int64_t zero[LZ_MAX_NDIM] = {0};
  for (int j = 0; j < prm->naxes; j++) {
    int ax = prm->axes[j];
    int64_t off = start->ndim ? j * start->strides[0] : 0;
    lz_cpu_index_ref(&p.idx[j], start, off, zero, ax, a->shape[ax], prm->sizes[ax], a->strides[ax]);
  }
  p.nidx = prm->naxes;
  p.split = first_split(&p);
  return lz_cpu_index_run(&p, NULL);
}

/* mask_select: inputs a and the bool mask over a's leading dims; the output's first dim is the
 * number of true elements, counted when the op was built. */
int lz_cpu_mask_select(lz_node *node, lz_array **outs) {
  lz_array *a = node->inputs[0], *mask = node->inputs[1], *out = outs[0];
  if (lz__alloc_output(out, "lz_mask_select") != 0) return -1;
  int k = mask->ndim, rest = a->ndim - k;
  size_t sz = lz_dtype_size(a->dtype);
  int64_t block = 1;
  bool dense = true; /* are a's trailing dims one row-major block? */
  for (int d = a->ndim - 1; d >= k; d--) {
    dense = dense && (a->shape[d] == 1 || a->strides[d] == block);
    block *= a->shape[d];
  }
  char *dst = lz__data_ptr(out);
  const char *mp = lz__data_ptr(mask), *ap = lz__data_ptr(a);
  int64_t c[LZ_MAX_NDIM] = {0}, written = 0, nout = out->ndim ? out->shape[0] : 0;
  for (int64_t i = 0; i < mask->size; i++) {
    int64_t moff = 0, aoff = 0;
    for (int d = 0; d < k; d++) moff += c[d] * mask->strides[d], aoff += c[d] * a->strides[d];
    if (mp[moff]) {
      if (written == nout) {
        return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_mask_select",
                         "the mask changed after the result's size was computed");
      }
      /* copy the trailing block a[c, ...] (rest dims) in row-major order */
      int64_t r[LZ_MAX_NDIM] = {0};
      char *o = dst + written * block * (int64_t)sz;
      if (dense) memcpy(o, ap + aoff * (int64_t)sz, (size_t)block * sz);
      for (int64_t e = 0; !dense && e < block; e++) {
        int64_t off = aoff;
        for (int d = 0; d < rest; d++) off += r[d] * a->strides[k + d];
        memcpy(o + e * (int64_t)sz, ap + off * (int64_t)sz, sz);
        for (int d = rest - 1; d >= 0 && ++r[d] == a->shape[k + d]; d--) r[d] = 0;
      }
      written++;
    }
    for (int d = k - 1; d >= 0 && ++c[d] == mask->shape[d]; d--) c[d] = 0;
  }
  return 0;
}
