/* Forward mode: lz_jvp. The function is called on fresh identity handles of its inputs; the
 * walk finds the nodes between them and the outputs; in topological order each op's jvp rule
 * turns its inputs' tangents into its outputs'. Results are lazy arrays. */
#include "transforms/transforms_impl.h"

#include <stdlib.h>

static bool same_shape(const lz_array *a, const lz_array *b) {
  if (a->ndim != b->ndim) return false;
  for (int d = 0; d < a->ndim; d++)
    if (a->shape[d] != b->shape[d]) return false;
  return true;
}

static int forward(const char *who, lz_walk *w) {
  size_t cap = 0;
  lz_array **tin = NULL, **tout = NULL, **outs = NULL;
  int rc = 0;
  for (size_t idx = 0; idx < w->len && rc == 0; idx++) {
    lz_walk_node *wn = &w->nodes[idx];
    lz_node *node = wn->node;
    if (wn->leaf >= 0) continue;
    size_t want = (size_t)(node->ninputs > node->noutputs ? node->ninputs : node->noutputs);
    if (want > cap) {
      cap = want * 2;
      free(tin), free(tout), free(outs);
      tin = malloc(cap * sizeof *tin);
      tout = malloc(cap * sizeof *tout);
      outs = malloc(cap * sizeof *outs);
      if (!tin || !tout || !outs) {
        rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, who, "out of memory");
        break;
      }
    }
    int nwalk = node->op == LZ_OP_CUSTOM_TRANSFORMS
                    ? ((const lz_custom_params *)node->params)->n_primals
                    : node->ninputs;
    bool any = false;
    for (int i = 0; i < node->ninputs; i++) {
      lz_walk_node *src = i < nwalk ? lz__walk_find(w, node->inputs[i]) : NULL;
      tin[i] = src ? src->slots[node->inputs[i]->out_index] : NULL;
      any |= tin[i] != NULL;
    }
    if (!any) continue;
    const lz_rule *rule = lz__rule(node->op);
    if (!rule->jvp) {
      rc = lz__error(LZ_ERROR_NOT_IMPLEMENTED, who, "op '%s' has no jvp rule",
                     lz__op(node->op)->name);
      break;
    }
    for (int k = 0; k < node->noutputs; k++) {
      outs[k] = lz__node_output(node, k);
      tout[k] = NULL;
    }
    lz_jvp_args args = {who, node, node->inputs, outs, tin};
    if (rule->jvp(&args, tout) != 0) {
      if (!lz__has_error())
        lz__error(LZ_ERROR_INTERNAL, who, "the jvp rule of '%s' failed", lz__op(node->op)->name);
      rc = -1;
      break;
    }
    for (int k = 0; k < node->noutputs && rc == 0; k++) {
      lz_array *t = tout[k], *o = node->outputs[k];
      if (t && !same_shape(t, o)) {
        char s1[128], s2[128];
        rc = lz__error(LZ_ERROR_INTERNAL, who, "the jvp rule of '%s' gave shape %s for output "
                       "%d of shape %s", lz__op(node->op)->name,
                       lz__fmt_shape(s1, sizeof s1, t->shape, t->ndim), k,
                       lz__fmt_shape(s2, sizeof s2, o->shape, o->ndim));
      }
      wn->slots[k] = t;
    }
  }
  free(tin), free(tout), free(outs);
  return rc;
}

/* The tangent of an output nothing flowed to: zeros of its dtype, or float32 zeros when it has
 * no derivative by its dtype (bool or integer: comparisons, argmax), as MLX returns. */
static lz_array *zero_tangent(const lz_array *out) {
  bool inexact = lz_dtype_is_float(out->dtype) || out->dtype == LZ_COMPLEX64;
  return lz_zeros(out->shape, out->ndim, inexact ? out->dtype : LZ_FLOAT32);
}

int lz__jvp_core(const char *who, lz_closure *f, lz_array *const *inputs, int n,
                 lz_array *const *tangents, lz_array **outputs, lz_array **jvps) {
  if (!f || n < 0 || (n && (!inputs || !tangents))) {
    if (!lz__has_error())
      lz__error(LZ_ERROR_INVALID_ARGUMENT, who, "%s", !f ? "the closure is NULL"
                                                         : "invalid inputs or tangents");
    return -1;
  }
  if (!lz__check_inputs(who, inputs, n)) return -1;
  for (int i = 0; i < n; i++) {
    if (tangents[i] && !same_shape(tangents[i], inputs[i])) {
      char s1[128], s2[128];
      return lz__error(LZ_ERROR_SHAPE, who, "tangent %d has shape %s but primal %d has shape "
                       "%s", i, lz__fmt_shape(s1, sizeof s1, tangents[i]->shape,
                                              tangents[i]->ndim), i,
                       lz__fmt_shape(s2, sizeof s2, inputs[i]->shape, inputs[i]->ndim));
    }
  }
  lz_array *outs[LZ_MAX_OUTPUTS], *res[LZ_MAX_OUTPUTS];
  lz_walk w = {0};
  int k = -1, rc = 0;
  lz_scope_begin();
  lz__trace_begin(); /* an eval inside f keeps the graph for the walk (core/array.c) */
  lz_array **leaves = lz__malloc((size_t)(n ? n : 1) * sizeof *leaves);
  if (!leaves) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, who, "out of memory");
  for (int i = 0; i < n && rc == 0; i++)
    if (!(leaves[i] = lz__identity(inputs[i]))) rc = -1;
  if (rc == 0 && (k = lz__closure_call_named(who, f, leaves, n, outs)) < 0) rc = -1;
  if (rc == 0) rc = lz__walk_build(&w, who, leaves, n, outs, k);
  for (int i = 0; i < n && rc == 0; i++) {
    lz_walk_node *wn = lz__walk_find(&w, leaves[i]);
    if (wn) wn->slots[0] = tangents[i];
  }
  if (rc == 0) rc = forward(who, &w);
  for (int j = 0; j < k && rc == 0; j++) {
    lz_walk_node *wn = lz__walk_find(&w, outs[j]);
    lz_array *t = wn ? wn->slots[outs[j]->out_index] : NULL;
    res[j] = t ? lz__expand_to(t, outs[j]) : zero_tangent(outs[j]);
    if (!res[j]) rc = -1;
  }
  if (rc == 0)
    for (int j = 0; j < k; j++) {
      if (outputs) outputs[j] = lz_keep(outs[j]);
      jvps[j] = lz_keep(res[j]);
    }
  lz__walk_free(&w);
  free(leaves);
  lz__trace_end();
  lz_scope_end();
  if (rc) return -1;
  bool lost = false;
  for (int j = 0; j < k; j++) lost |= (outputs && !outputs[j]) || !jvps[j];
  if (lost) {
    for (int j = 0; j < k; j++) {
      if (outputs) lz_free(outputs[j]), outputs[j] = NULL;
      lz_free(jvps[j]), jvps[j] = NULL;
    }
    return -1;
  }
  return k;
}

int lz_jvp(lz_closure *f, lz_array *const *primals, int n, lz_array *const *tangents,
           lz_array **out_outputs, lz_array **out_jvps) {
  if (!out_jvps) return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_jvp", "out_jvps is NULL");
  for (int i = 0; i < n && tangents; i++)
    if (!tangents[i])
      return lz__has_error() ? -1
                             : lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_jvp", "tangent %d is "
                                         "NULL", i);
  return lz__jvp_core("lz_jvp", f, primals, n, tangents, out_outputs, out_jvps);
}
