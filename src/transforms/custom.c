/* Functions with their own derivative rules (lz_custom_function) and checkpointing.
 *
 * Calling a custom function records one custom_transforms node whose inputs are the function's
 * inputs followed by its outputs and whose outputs are views of those outputs. The forward value
 * is the function's; the transforms see the node and apply the user's rules to it. */
#include "transforms/transforms_impl.h"

#include <stdlib.h>

struct lz_custom_rec {
  atomic_long refs;
  lz_closure *fn, *vjp_fn, *jvp_fn, *vmap_fn;
  lz_closure *trace_fn; /* what vmap traces without a vmap rule (NULL: fn's recorded graph) */
  bool checkpoint;      /* vjp: recompute fn's graph once the cotangents exist */
};

static void rec_release(void *p) {
  lz_custom_rec *r = p;
  if (!r || atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1) return;
  lz_closure_free(r->fn);
  lz_closure_free(r->vjp_fn);
  lz_closure_free(r->jvp_fn);
  lz_closure_free(r->vmap_fn);
  lz_closure_free(r->trace_fn);
  free(r);
}

static void custom_params_free(void *params) { rec_release(((lz_custom_params *)params)->rec); }

static int custom_cpu(lz_node *node, lz_array **outs) {
  const lz_custom_params *p = node->params;
  for (int k = 0; k < node->noutputs; k++) {
    lz_array *in = node->inputs[p->n_primals + k];
    lz__set_view(outs[k], in, 0, in->strides);
  }
  return 0;
}

const lz_op_def lz_opdef_custom_transforms = {
    .name = "custom_transforms",
    .flags = LZ_OPF_VIEW | LZ_OPF_DIFFERENTIABLE | LZ_OPF_NO_CSE,
    .params_size = sizeof(lz_custom_params),
    .cpu = custom_cpu,
    .params_free = custom_params_free,
};

lz_closure *lz__custom_vmap_fn(const lz_custom_params *p) { return p->rec->vmap_fn; }
lz_closure *lz__custom_trace_fn(const lz_custom_params *p) { return p->rec->trace_fn; }

static int custom_call(void *ctx, lz_array *const *in, int n, lz_array **out) {
  lz_custom_rec *r = ctx;
  lz_array *fo[LZ_MAX_OUTPUTS];
  int m = lz__closure_call_named("lz_custom_function", r->fn, in, n, fo);
  if (m < 0) return -1;
  if (n + m > UINT16_MAX) {
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_custom_function", "too many inputs (%d)", n);
  }
  lz_array **node_in = lz__malloc((size_t)(n + m) * sizeof *node_in);
  if (!node_in) return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_custom_function", "out of memory");
  for (int i = 0; i < n; i++) node_in[i] = in[i];
  lz_dtype dt[LZ_MAX_OUTPUTS];
  const int *shapes[LZ_MAX_OUTPUTS];
  int nd[LZ_MAX_OUTPUTS];
  for (int k = 0; k < m; k++) {
    node_in[n + k] = fo[k];
    dt[k] = fo[k]->dtype, shapes[k] = fo[k]->shape, nd[k] = fo[k]->ndim;
  }
  atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed); /* the node's reference */
  lz_custom_params p = {r, n};
  int rc = lz__make_multi(LZ_OP_CUSTOM_TRANSFORMS, &p, node_in, n + m, m, dt, shapes, nd, out);
  free(node_in);
  if (rc != 0) {
    rec_release(r);
    return -1;
  }
  return m; /* fo[] belong to this call's scope; the node holds them */
}

static lz_closure *make_custom(lz_closure *f, lz_closure *vjp_fn, lz_closure *jvp_fn,
                               lz_closure *vmap_fn, lz_closure *trace_fn, bool checkpoint,
                               const char *who) {
  if (!f) {
    if (!lz__has_error()) lz__error(LZ_ERROR_INVALID_ARGUMENT, who, "f is NULL");
    return NULL;
  }
  lz_custom_rec *r = lz__malloc(sizeof *r);
  if (!r) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, who, "out of memory");
    return NULL;
  }
  atomic_init(&r->refs, 1);
  r->fn = lz_closure_retain(f);
  r->vjp_fn = lz_closure_retain(vjp_fn);
  r->jvp_fn = lz_closure_retain(jvp_fn);
  r->vmap_fn = lz_closure_retain(vmap_fn);
  r->trace_fn = lz_closure_retain(trace_fn);
  r->checkpoint = checkpoint;
  lz_closure *c = lz_closure_new(custom_call, r, rec_release);
  if (!c) rec_release(r);
  return c;
}

lz_closure *lz_custom_function(lz_closure *f, lz_closure *vjp_fn, lz_closure *jvp_fn,
                               lz_closure *vmap_fn) {
  return make_custom(f, vjp_fn, jvp_fn, vmap_fn, NULL, false, "lz_custom_function");
}

lz_closure *lz__custom_function_traced(lz_closure *f, lz_closure *vjp_fn, lz_closure *jvp_fn,
                                       lz_closure *trace_fn) {
  return make_custom(f, vjp_fn, jvp_fn, NULL, trace_fn, false, "lz_custom_function");
}

lz_closure *lz_checkpoint(lz_closure *f) {
  return make_custom(f, NULL, NULL, NULL, NULL, true, "lz_checkpoint");
}

/* ---- rules of custom_transforms ---- */

/* Checks that a user rule returned `want` arrays shaped like like[]. */
static int check_rule_results(const char *who, const char *what, int got, int want,
                              lz_array *const *res, lz_array *const *like) {
  if (got != want)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, who, "the custom %s returned %d arrays, "
                     "expected %d", what, got, want);
  for (int i = 0; i < want; i++) {
    const lz_array *a = res[i], *b = like[i];
    bool same = a->ndim == b->ndim;
    for (int d = 0; same && d < a->ndim; d++) same = a->shape[d] == b->shape[d];
    if (!same) {
      char s1[128], s2[128];
      return lz__error(LZ_ERROR_SHAPE, who, "the custom %s returned shape %s for an input "
                       "of shape %s (result %d)", what,
                       lz__fmt_shape(s1, sizeof s1, a->shape, a->ndim),
                       lz__fmt_shape(s2, sizeof s2, b->shape, b->ndim), i);
    }
  }
  return 0;
}

int lz__vjp_custom(const lz_vjp_args *a, lz_array **in_cotans) {
  const lz_custom_params *p = a->node->params;
  lz_custom_rec *r = p->rec;
  int n = p->n_primals, m = a->node->noutputs;
  lz_array *const *fouts = a->inputs + n;
  lz_array *cot[LZ_MAX_OUTPUTS];
  for (int k = 0; k < m; k++) {
    cot[k] = a->cotans[k] ? a->cotans[k] : lz_zeros_like(fouts[k]);
    if (!cot[k]) return -1;
  }
  lz_array **grads = lz__malloc((size_t)(n + 2 * m) * sizeof *grads);
  if (!grads) return lz__error(LZ_ERROR_OUT_OF_MEMORY, a->who, "out of memory");
  lz_array *outs[LZ_MAX_OUTPUTS];
  int rc = 0;
  if (r->vjp_fn) { /* user rule: (primals..., cotangents..., outputs...) -> one per primal */
    lz_array **args = lz__malloc((size_t)(n + 2 * m) * sizeof *args);
    if (!args) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, a->who, "out of memory");
    for (int k = 0; k < m && !rc; k++) /* the user's rule speaks MLX's convention */
      if (!(cot[k] = lz__conj_cotangent(cot[k]))) rc = -1;
    if (!rc) {
      for (int i = 0; i < n; i++) args[i] = a->inputs[i];
      for (int k = 0; k < m; k++) args[n + k] = cot[k], args[n + m + k] = fouts[k];
      lz_array *res[LZ_MAX_OUTPUTS];
      int got = lz__closure_call_named(a->who, r->vjp_fn, args, n + 2 * m, res);
      if (got < 0) rc = -1;
      else if (n > LZ_MAX_OUTPUTS || check_rule_results(a->who, "vjp", got, n, res, a->inputs))
        rc = -1;
      else if (lz__conj_results(a->who, res, n) != 0)
        rc = -1;
      for (int i = 0; i < n && rc == 0; i++) grads[i] = res[i]; /* owned by the scope */
    }
    free(args);
  } else {
    lz_array *const *primals = a->inputs;
    lz_array **dep = NULL;
    if (r->checkpoint) { /* recompute only once the cotangents exist: peak memory stays low */
      dep = lz__malloc((size_t)(n ? n : 1) * sizeof *dep);
      if (!dep) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, a->who, "out of memory");
      for (int i = 0; i < n && rc == 0; i++)
        if (!(dep[i] = lz__depends(a->inputs[i], cot, m))) rc = -1;
      primals = dep;
    }
    if (rc == 0 &&
        lz__vjp_core(a->who, r->fn, primals, n, NULL, n, cot, m, false, outs, grads) < 0)
      rc = -1;
    free(dep);
  }
  for (int i = 0; i < n && rc == 0; i++) in_cotans[i] = a->need[i] ? grads[i] : NULL;
  free(grads);
  return rc;
}

int lz__jvp_custom(const lz_jvp_args *a, lz_array **out_tangents) {
  const lz_custom_params *p = a->node->params;
  lz_custom_rec *r = p->rec;
  int n = p->n_primals, m = a->node->noutputs;
  lz_array **args = lz__malloc((size_t)(2 * n + 1) * sizeof *args);
  if (!args) return lz__error(LZ_ERROR_OUT_OF_MEMORY, a->who, "out of memory");
  int rc = 0;
  for (int i = 0; i < n && rc == 0; i++) {
    args[i] = a->inputs[i];
    args[n + i] = a->tangents[i] ? a->tangents[i] : lz_zeros_like(a->inputs[i]);
    if (!args[n + i]) rc = -1;
  }
  lz_array *res[LZ_MAX_OUTPUTS], *outs[LZ_MAX_OUTPUTS];
  if (rc == 0 && r->jvp_fn) { /* user rule: (primals..., tangents...) -> one per output */
    int got = lz__closure_call_named(a->who, r->jvp_fn, args, 2 * n, res);
    if (got < 0 || check_rule_results(a->who, "jvp", got, m, res, a->inputs + n)) rc = -1;
  } else if (rc == 0) {
    int got = lz__jvp_core(a->who, r->fn, args, n, args + n, outs, res);
    if (got < 0) rc = -1;
    else if (got != m) rc = lz__error(LZ_ERROR_INVALID_ARGUMENT, a->who,
                                      "the custom function returned %d outputs, then %d", m, got);
  }
  for (int k = 0; k < m && rc == 0; k++) out_tangents[k] = res[k];
  free(args);
  return rc;
}
