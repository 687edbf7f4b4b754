/* The collectives: constructors (validation, shapes, MLX's size-1 shortcuts), their registry
 * entries and their kernels, which hand contiguous buffers to MPI (mpi.c). */
#include "distributed/distributed_impl.h"
#include "ops/ops.h"

#include <stdlib.h>

static void dist_params_free(void *params) { lz_group_free(((lz_dist_params *)params)->group); }

/* A contiguous copy of the evaluated input's data, or its own data when already contiguous;
 * *tmp is set to what the caller frees. */
static const void *contiguous_data(lz_array *in, void **tmp, const char *op) {
  *tmp = NULL;
  if (lz__is_contiguous(in)) return lz__data_ptr(in);
  size_t nb = (size_t)in->size * lz_dtype_size(in->dtype);
  if (!(*tmp = lz__malloc(nb ? nb : 1))) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
    return NULL;
  }
  lz__copy_to_contiguous(*tmp, in);
  return *tmp;
}

/* The agreement check: before the data moves, the ranks compare (op, dtype, shape) with one
 * all-reduce of a few integers, so a rank whose array differs gets an error naming both sides
 * instead of a truncated message, a wrong result or a hang. It costs one small-message latency
 * per collective (a few microseconds on shared memory); LZ_DISTRIBUTED_CHECK=0 turns it off. */
static bool check_enabled(void) {
  const char *e = getenv("LZ_DISTRIBUTED_CHECK");
  return !e || strcmp(e, "0") != 0;
}

static int agree(const lz_node *node, const lz_array *x, const char *op) {
  const lz_dist_params *p = node->params;
  if (!check_enabled()) return 0;
  uint64_t h = 1469598103934665603ull; /* FNV-1a of the dims */
  for (int d = 0; d < x->ndim; d++) h = (h ^ (uint64_t)x->shape[d]) * 1099511628211ull;
  int64_t sig[5] = {node->op, x->dtype, x->ndim, x->size, (int64_t)(h >> 1)}, lo[5], hi[5];
  int rc = lz_mpi_agree(sig, 5, lo, hi, p->group->comm, op);
  if (rc <= 0) return rc;
  char s[128];
  lz__fmt_shape(s, sizeof s, x->shape, x->ndim);
  const char *what = lo[0] != hi[0]   ? "ranks ran different collectives"
                     : lo[1] != hi[1] ? "dtypes differ across ranks"
                                      : "shapes differ across ranks";
  return lz__error(LZ_ERROR_SHAPE, op,
                   "%s: rank %d has %s %s (%lld elements; %lld to %lld across the group)", what,
                   p->group->rank, s, lz_dtype_name(x->dtype), (long long)x->size,
                   (long long)lo[3], (long long)hi[3]);
}

static bool is_half(lz_dtype dt) { return dt == LZ_FLOAT16 || dt == LZ_BFLOAT16; }

/* float16/bfloat16 sums travel as float32, so the total is rounded once, not at every step of
 * MPI's reduction tree. `data` (n elements of dt) is replaced by the result of `reduce`. */
static float *to_f32(const void *data, int64_t n, lz_dtype dt, const char *op) {
  float *f = lz__malloc((size_t)(n ? n : 1) * sizeof *f);
  if (!f) lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
  else lz__convert(f, LZ_FLOAT32, data, dt, n);
  return f;
}

static int reduce_kernel(lz_node *node, lz_array **outs, lz_mpi_reduce r, const char *op) {
  const lz_dist_params *p = node->params;
  lz_array *in = node->inputs[0], *out = outs[0];
  if (agree(node, in, op) != 0 || lz__alloc_output(out, op) != 0) return -1;
  void *d = lz__data_ptr(out);
  lz__copy_to_contiguous(d, in);
  if (r != LZ_MPI_SUM || !is_half(out->dtype))
    return lz_mpi_all_reduce(d, d, out->size, out->dtype, r, p->group->comm, op);
  float *f = to_f32(d, out->size, out->dtype, op);
  int rc = f ? lz_mpi_all_reduce(f, f, out->size, LZ_FLOAT32, r, p->group->comm, op) : -1;
  if (rc == 0) lz__convert(d, out->dtype, f, LZ_FLOAT32, out->size);
  free(f);
  return rc;
}

static int cpu_all_sum(lz_node *n, lz_array **o) { return reduce_kernel(n, o, LZ_MPI_SUM, "lz_all_sum"); }
static int cpu_all_max(lz_node *n, lz_array **o) { return reduce_kernel(n, o, LZ_MPI_MAX, "lz_all_max"); }
static int cpu_all_min(lz_node *n, lz_array **o) { return reduce_kernel(n, o, LZ_MPI_MIN, "lz_all_min"); }

static int cpu_all_gather(lz_node *node, lz_array **outs) {
  const lz_dist_params *p = node->params;
  lz_array *in = node->inputs[0], *out = outs[0];
  void *tmp;
  if (agree(node, in, "lz_all_gather") != 0) return -1;
  const void *src = contiguous_data(in, &tmp, "lz_all_gather");
  int rc = src ? lz__alloc_output(out, "lz_all_gather") : -1;
  if (rc == 0)
    rc = lz_mpi_all_gather(src, lz__data_ptr(out), in->size, in->dtype, p->group->comm,
                           "lz_all_gather");
  free(tmp);
  return rc;
}

static int cpu_sum_scatter(lz_node *node, lz_array **outs) {
  const lz_dist_params *p = node->params;
  lz_array *in = node->inputs[0], *out = outs[0];
  void *tmp;
  if (agree(node, in, "lz_sum_scatter") != 0) return -1;
  const void *src = contiguous_data(in, &tmp, "lz_sum_scatter");
  int rc = src ? lz__alloc_output(out, "lz_sum_scatter") : -1;
  if (rc == 0 && is_half(in->dtype)) {
    float *f = to_f32(src, in->size, in->dtype, "lz_sum_scatter");
    rc = f ? lz_mpi_sum_scatter(f, f, out->size, LZ_FLOAT32, p->group->comm, "lz_sum_scatter")
           : -1;
    if (rc == 0) lz__convert(lz__data_ptr(out), out->dtype, f, LZ_FLOAT32, out->size);
    free(f);
  } else if (rc == 0) {
    rc = lz_mpi_sum_scatter(src, lz__data_ptr(out), out->size, in->dtype, p->group->comm,
                            "lz_sum_scatter");
  }
  free(tmp);
  return rc;
}

static int cpu_send(lz_node *node, lz_array **outs) {
  const lz_dist_params *p = node->params;
  lz_array *in = node->inputs[0];
  void *tmp;
  const void *src = contiguous_data(in, &tmp, "lz_send");
  int rc = src ? lz_mpi_send(src, in->size, in->dtype, p->peer, p->group->comm, "lz_send") : -1;
  free(tmp);
  if (rc == 0) lz__set_view(outs[0], in, 0, in->strides); /* the result is x itself */
  return rc;
}

static int cpu_recv(lz_node *node, lz_array **outs) {
  const lz_dist_params *p = node->params;
  lz_array *out = outs[0];
  if (lz__alloc_output(out, "lz_recv") != 0) return -1;
  return lz_mpi_recv(lz__data_ptr(out), out->size, out->dtype, p->peer, p->group->comm,
                     "lz_recv");
}

/* Communication is never merged or folded away by compile (params_free also keeps it out of
 * compiled tapes: a compiled function that communicates is called directly). */
#define DIST_OPDEF(NAME, FLAGS, KERNEL)                                                          \
  const lz_op_def lz_opdef_##NAME = {                                                            \
      .name = #NAME,                                                                             \
      .flags = (FLAGS) | LZ_OPF_NO_CSE,                                                          \
      .params_size = sizeof(lz_dist_params),                                                     \
      .cpu = KERNEL,                                                                             \
      .params_free = dist_params_free,                                                           \
  };
DIST_OPDEF(all_sum, LZ_OPF_DIFFERENTIABLE, cpu_all_sum)
DIST_OPDEF(all_max, 0, cpu_all_max)
DIST_OPDEF(all_min, 0, cpu_all_min)
DIST_OPDEF(all_gather, LZ_OPF_DIFFERENTIABLE, cpu_all_gather)
DIST_OPDEF(sum_scatter, 0, cpu_sum_scatter)
DIST_OPDEF(send, 0, cpu_send)
DIST_OPDEF(recv, 0, cpu_recv)

/* Records `op_id` on x (NULL for recv) with the group's reference moved into the params. */
static lz_array *record(int op_id, lz_group *g, int peer, lz_array *x, lz_dtype dt,
                        const int *shape, int ndim) {
  lz_dist_params p = {g, peer};
  lz_array *out = lz__make(op_id, &p, x ? &x : NULL, x ? 1 : 0, dt, shape, ndim);
  if (!out) lz_group_free(g);
  return out;
}

static lz_array *all_reduce(const char *op, int op_id, lz_mpi_reduce r, lz_array *x,
                            lz_group *group) {
  if (!lz__check_inputs(op, &x, 1)) return NULL;
  if (!lz_mpi_can_reduce(x->dtype, r)) {
    lz__error(LZ_ERROR_DTYPE, op, "%s is not supported for %s", r == LZ_MPI_MAX ? "max" : "min",
              lz_dtype_name(x->dtype));
    return NULL;
  }
  lz_group *g = lz_dist_group(group, op);
  if (!g) return NULL;
  if (g->size == 1) {
    lz_group_free(g);
    return lz_retain(x);
  }
  return record(op_id, g, 0, x, x->dtype, x->shape, x->ndim);
}

lz_array *lz_all_sum(lz_array *x, lz_group *group) {
  return all_reduce("lz_all_sum", LZ_OP_ALL_SUM, LZ_MPI_SUM, x, group);
}
lz_array *lz_all_max(lz_array *x, lz_group *group) {
  return all_reduce("lz_all_max", LZ_OP_ALL_MAX, LZ_MPI_MAX, x, group);
}
lz_array *lz_all_min(lz_array *x, lz_group *group) {
  return all_reduce("lz_all_min", LZ_OP_ALL_MIN, LZ_MPI_MIN, x, group);
}

lz_array *lz_all_gather(lz_array *x, lz_group *group) {
  const char *op = "lz_all_gather";
  if (!lz__check_inputs(op, &x, 1)) return NULL;
  lz_group *g = lz_dist_group(group, op);
  if (!g) return NULL;
  if (g->size == 1) {
    lz_group_free(g);
    return lz_retain(x);
  }
  int shape[LZ_MAX_NDIM], nd = x->ndim ? x->ndim : 1;
  if (x->ndim) memcpy(shape, x->shape, sizeof(int) * (size_t)nd);
  else shape[0] = 1;
  if ((int64_t)shape[0] * g->size > INT32_MAX) {
    lz__error(LZ_ERROR_SHAPE, op, "axis 0 of size %d times %d ranks is too large", shape[0],
              g->size);
    lz_group_free(g);
    return NULL;
  }
  shape[0] *= g->size;
  return record(LZ_OP_ALL_GATHER, g, 0, x, x->dtype, shape, nd);
}

lz_array *lz_sum_scatter(lz_array *x, lz_group *group) {
  const char *op = "lz_sum_scatter";
  char s[256];
  if (!lz__check_inputs(op, &x, 1)) return NULL;
  lz_group *g = lz_dist_group(group, op);
  if (!g) return NULL;
  if (g->size == 1) {
    lz_group_free(g);
    return lz_retain(x);
  }
  if (x->ndim == 0 || x->shape[0] % g->size != 0) {
    lz__error(LZ_ERROR_SHAPE, op,
              "invalid shape %s for a group of size %d: axis 0 must be divisible by the group "
              "size",
              lz__fmt_shape(s, sizeof s, x->shape, x->ndim), g->size);
    lz_group_free(g);
    return NULL;
  }
  int shape[LZ_MAX_NDIM];
  memcpy(shape, x->shape, sizeof(int) * (size_t)x->ndim);
  shape[0] /= g->size;
  return record(LZ_OP_SUM_SCATTER, g, 0, x, x->dtype, shape, x->ndim);
}

/* The group for send/recv with `peer` checked; NULL with MLX's errors. */
static lz_group *p2p_group(lz_group *group, int peer, const char *op, const char *what) {
  lz_group *g = lz_dist_group(group, op);
  if (!g) return NULL;
  if (g->size == 1) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "cannot %s a singleton group",
              op[3] == 's' ? "send to" : "recv from");
  } else if (peer < 0 || peer >= g->size) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "invalid %s %d for a group of size %d", what, peer,
              g->size);
  } else if (peer == g->rank) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%s %d is this process's own rank", what, peer);
  } else {
    return g;
  }
  lz_group_free(g);
  return NULL;
}

lz_array *lz_send(lz_array *x, int dst, lz_group *group) {
  const char *op = "lz_send";
  if (!lz__check_inputs(op, &x, 1)) return NULL;
  lz_group *g = p2p_group(group, dst, op, "destination");
  return g ? record(LZ_OP_SEND, g, dst, x, x->dtype, x->shape, x->ndim) : NULL;
}

lz_array *lz_recv(const int *shape, int ndim, lz_dtype dtype, int src, lz_group *group) {
  const char *op = "lz_recv";
  if (ndim < 0 || ndim > LZ_MAX_NDIM || (ndim > 0 && !shape) || !lz__dtype_valid(dtype)) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "invalid shape (ndim %d) or dtype %d", ndim,
              (int)dtype);
    return NULL;
  }
  for (int d = 0; d < ndim; d++)
    if (shape[d] < 0) {
      lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "negative dimension %d in the shape", shape[d]);
      return NULL;
    }
  lz_group *g = p2p_group(group, src, op, "source");
  return g ? record(LZ_OP_RECV, g, src, NULL, dtype, shape, ndim) : NULL;
}

lz_array *lz_recv_like(lz_array *x, int src, lz_group *group) {
  if (!lz__check_inputs("lz_recv_like", &x, 1)) return NULL;
  return lz_recv(x->shape, x->ndim, x->dtype, src, group);
}
