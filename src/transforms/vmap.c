/* lz_vmap: the closure that maps a function over an axis of its inputs.
 *
 * A call traces the function once on per-example placeholders (each mapped input without its
 * mapped axis, as zeros wrapped in a fresh identity node), then batches the recorded graph with
 * the engine (vmap_engine.c), which applies each node's vmap rule in topological order. Inputs
 * that are not mapped are passed to the function as they are. The result is an ordinary lazy
 * graph on the real inputs; the placeholders' graph is dropped. */
#include "transforms/vmap_impl.h"

#include <stdlib.h>

#define WHO "lz_vmap"

typedef struct vmap_ctx {
  lz_closure *f;
  int n_in, n_out;
  int *in_axes;  /* n_in entries, or NULL: every input mapped along axis 0 */
  int *out_axes; /* n_out entries, or NULL: every output's batch at axis 0 */
} vmap_ctx;

static void vmap_ctx_free(void *p) {
  vmap_ctx *c = p;
  lz_closure_free(c->f);
  free(c->in_axes);
  free(c->out_axes);
  free(c);
}

/* Validates the mapped axes of the inputs and finds the batch size. Normalised axes go to
 * axes[] (LZ__VMAP_NB for unmapped inputs). Returns the size or -1. */
static int batch_size(const vmap_ctx *c, lz_array *const *in, int n, int *axes) {
  int size = -1, first = -1;
  for (int i = 0; i < n; i++) {
    int ax = c->in_axes ? c->in_axes[i] : 0;
    if (ax == LZ_VMAP_NONE) {
      axes[i] = LZ__VMAP_NB;
      continue;
    }
    int r = in[i]->ndim;
    if (ax < -r || ax >= r) {
      char s[128];
      return lz__error(LZ_ERROR_INVALID_ARGUMENT, WHO,
                       "in_axes[%d] = %d is out of range for "
                       "input %d of shape %s",
                       i, ax, i, lz__fmt_shape(s, sizeof s, in[i]->shape, r));
    }
    axes[i] = ax < 0 ? ax + r : ax;
    int d = in[i]->shape[axes[i]];
    if (first < 0) {
      size = d, first = i;
    } else if (d != size) {
      return lz__error(LZ_ERROR_SHAPE, WHO,
                       "mapped inputs have different sizes: input %d has "
                       "size %d along axis %d, input %d has size %d along axis %d",
                       first, size, axes[first], i, d, axes[i]);
    }
  }
  if (first < 0)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, WHO,
                     "no input is mapped (every in_axes entry "
                     "is LZ_VMAP_NONE)");
  return size;
}

/* The per-example placeholder of a mapped input: zeros without the mapped axis, wrapped in an
 * identity node that the engine's walk starts from. */
static lz_array *placeholder(lz_array *x, int axis) {
  int shape[LZ_MAX_NDIM], nd = 0;
  for (int d = 0; d < x->ndim; d++)
    if (d != axis) shape[nd++] = x->shape[d];
  return lz__identity(lz_zeros(shape, nd, x->dtype));
}

/* Output j batched along `ax` (or not batched) moved to its out axis. */
static lz_array *place_output(lz_array *r, int ax, int oa, int size) {
  if (ax != LZ__VMAP_NB) return ax == oa ? lz_retain(r) : lz_moveaxis(r, ax, oa);
  int shape[LZ_MAX_NDIM];
  for (int d = 0, e = 0; d <= r->ndim; d++) shape[d] = d == oa ? size : r->shape[e++];
  return lz_broadcast_to(lz_expand_dims(r, &oa, 1), shape, r->ndim + 1);
}

static int vmap_call(void *ctx, lz_array *const *in, int n, lz_array **out) {
  vmap_ctx *c = ctx;
  if (n != c->n_in)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, WHO,
                     "the function was mapped with %d in_axes "
                     "but called with %d inputs",
                     c->n_in, n);
  if (!lz__check_inputs(WHO, in, n)) return -1;
  int *axes = malloc((size_t)(n ? n : 1) * sizeof *axes);
  lz_array **args = malloc((size_t)(n ? n : 1) * sizeof *args);
  lz_array **leaves = malloc((size_t)(n ? n : 1) * sizeof *leaves);
  lz_array **vals = malloc((size_t)(n ? n : 1) * sizeof *vals);
  int *vax = malloc((size_t)(n ? n : 1) * sizeof *vax);
  if (!axes || !args || !leaves || !vals || !vax) {
    free(axes), free(args), free(leaves), free(vals), free(vax);
    return lz__error(LZ_ERROR_OUT_OF_MEMORY, WHO, "out of memory");
  }
  int size = batch_size(c, in, n, axes);
  int rc = size < 0 ? -1 : 0, k = 0, nleaves = 0;
  lz_array *outs[LZ_MAX_OUTPUTS], *res[LZ_MAX_OUTPUTS];
  int res_axes[LZ_MAX_OUTPUTS];
  lz_scope_begin();
  for (int i = 0; i < n && rc == 0; i++) {
    if (axes[i] == LZ__VMAP_NB) {
      args[i] = in[i];
      continue;
    }
    if (!(args[i] = placeholder(in[i], axes[i]))) rc = -1;
    leaves[nleaves] = args[i], vals[nleaves] = in[i], vax[nleaves++] = axes[i];
  }
  if (rc == 0 && (k = lz__closure_call_named(WHO, c->f, args, n, outs)) < 0) rc = -1;
  for (int i = 0; i < nleaves && rc == 0; i++) {
    if (!leaves[i]->node) /* evaluated while tracing: the graph below it is gone */
      rc = lz__error(LZ_ERROR_INVALID_ARGUMENT, WHO,
                     "a mapped input was evaluated inside the "
                     "function (lz_eval, data access or a data-dependent op such as "
                     "lz_mask_select); vmap needs the function's lazy graph");
  }
  if (rc == 0 && c->out_axes && c->n_out != 1 && c->n_out != k)
    rc = lz__error(LZ_ERROR_INVALID_ARGUMENT, WHO, "%d out_axes for a function with %d outputs",
                   c->n_out, k);
  if (rc == 0) rc = lz__vmap_graph(WHO, leaves, vals, vax, nleaves, outs, k, size, res, res_axes);
  for (int j = 0; j < k && rc == 0; j++) {
    int oa = c->out_axes ? c->out_axes[c->n_out == 1 ? 0 : j] : 0, r = outs[j]->ndim;
    if (oa < -(r + 1) || oa > r) {
      char s[128];
      rc = lz__error(LZ_ERROR_INVALID_ARGUMENT, WHO,
                     "out_axes[%d] = %d is out of range for "
                     "output %d of per-example shape %s",
                     c->n_out == 1 ? 0 : j, oa, j, lz__fmt_shape(s, sizeof s, outs[j]->shape, r));
      break;
    }
    if (oa < 0) oa += r + 1;
    if (!(out[j] = place_output(res[j], res_axes[j], oa, size))) rc = -1;
  }
  for (int j = 0; j < k && rc == 0; j++) out[j] = lz_keep(out[j]);
  lz_scope_end();
  free(axes), free(args), free(leaves), free(vals), free(vax);
  if (rc) return -1;
  bool lost = false; /* lz_keep fails only for lack of memory */
  for (int j = 0; j < k; j++) lost |= !out[j];
  if (lost) {
    for (int j = 0; j < k; j++) lz_free(out[j]), out[j] = NULL;
    return -1;
  }
  return k;
}

lz_closure *lz_vmap(lz_closure *f, const int *in_axes, int n_in, const int *out_axes, int n_out) {
  if (!f) {
    if (!lz__has_error()) lz__error(LZ_ERROR_INVALID_ARGUMENT, WHO, "the closure is NULL");
    return NULL;
  }
  if (n_in < 0 || (out_axes && n_out <= 0) || n_out > LZ_MAX_OUTPUTS) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, WHO, "invalid counts: %d in_axes, %d out_axes", n_in,
              n_out);
    return NULL;
  }
  vmap_ctx *c = lz__malloc(sizeof *c);
  if (!c) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, WHO, "out of memory");
    return NULL;
  }
  memset(c, 0, sizeof *c);
  c->n_in = n_in, c->n_out = out_axes ? n_out : 0;
  if (in_axes && n_in > 0) {
    c->in_axes = lz__malloc((size_t)n_in * sizeof(int));
    if (c->in_axes) memcpy(c->in_axes, in_axes, (size_t)n_in * sizeof(int));
  }
  if (out_axes) {
    c->out_axes = lz__malloc((size_t)n_out * sizeof(int));
    if (c->out_axes) memcpy(c->out_axes, out_axes, (size_t)n_out * sizeof(int));
  }
  if ((in_axes && n_in > 0 && !c->in_axes) || (out_axes && !c->out_axes)) {
    vmap_ctx_free(c);
    lz__error(LZ_ERROR_OUT_OF_MEMORY, WHO, "out of memory");
    return NULL;
  }
  c->f = lz_closure_retain(f);
  lz_closure *r = lz_closure_new(vmap_call, c, vmap_ctx_free);
  if (!r) vmap_ctx_free(c);
  return r;
}
