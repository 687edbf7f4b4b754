/* Reverse mode: lz_vjp and the core that lz_grad, lz_value_and_grad and custom rules share.
 *
 * The function is called on fresh identity handles of its inputs (recording its graph, lazily);
 * the walk finds the nodes between those handles and the outputs; visiting them in reverse
 * topological order, each op's vjp rule turns its outputs' cotangents into its inputs', and
 * cotangents of an array used several times are summed. Everything built is a lazy array. */
#include "transforms/transforms_impl.h"

#include <stdlib.h>

static bool same_shape(const lz_array *a, const lz_array *b) {
  if (a->ndim != b->ndim) return false;
  for (int d = 0; d < a->ndim; d++)
    if (a->shape[d] != b->shape[d]) return false;
  return true;
}

/* Adds c to *slot (c is scope-owned). */
static int accumulate(lz_array **slot, lz_array *c) {
  if (!*slot) {
    *slot = c;
    return 0;
  }
  *slot = lz_add(*slot, c);
  return *slot ? 0 : -1;
}

/* Builds the input handles: a fresh identity node per input. */
static lz_array **make_leaves(const char *who, lz_array *const *inputs, int n) {
  lz_array **leaves = lz__malloc((size_t)(n ? n : 1) * sizeof *leaves);
  if (!leaves) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, who, "out of memory");
    return NULL;
  }
  for (int i = 0; i < n; i++) {
    if (!(leaves[i] = lz__identity(inputs[i]))) {
      free(leaves);
      return NULL;
    }
  }
  return leaves;
}

/* Runs the rules backwards over the walk; the leaves' slots end up holding the cotangents. */
static int backward(const char *who, lz_walk *w) {
  size_t cap = 0;
  bool *need = NULL;
  lz_array **in_cot = NULL, **outs = NULL;
  int rc = 0;
  for (size_t idx = w->len; idx-- > 0 && rc == 0;) {
    lz_walk_node *wn = &w->nodes[idx];
    lz_node *node = wn->node;
    if (wn->leaf >= 0) continue;
    bool any = false;
    for (int k = 0; k < node->noutputs && !any; k++) any = wn->slots[k] != NULL;
    if (!any) continue;
    const lz_rule *rule = lz__rule(node->op);
    if (!rule->vjp) {
      rc = lz__error(LZ_ERROR_NOT_IMPLEMENTED, who, "op '%s' has no vjp rule",
                     lz__op(node->op)->name);
      break;
    }
    size_t want = (size_t)(node->ninputs > node->noutputs ? node->ninputs : node->noutputs);
    if (want > cap) {
      cap = want * 2;
      free(need), free(in_cot), free(outs);
      need = malloc(cap * sizeof *need);
      in_cot = malloc(cap * sizeof *in_cot);
      outs = malloc(cap * sizeof *outs);
      if (!need || !in_cot || !outs) {
        rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, who, "out of memory");
        break;
      }
    }
    int nwalk = node->op == LZ_OP_CUSTOM_TRANSFORMS
                    ? ((const lz_custom_params *)node->params)->n_primals
                    : node->ninputs;
    for (int i = 0; i < node->ninputs; i++) {
      need[i] = i < nwalk && lz__walk_find(w, node->inputs[i]) != NULL;
      in_cot[i] = NULL;
    }
    for (int k = 0; k < node->noutputs; k++) outs[k] = lz__node_output(node, k);
    lz_vjp_args args = {who, node, node->inputs, outs, wn->slots, need};
    if (rule->vjp(&args, in_cot) != 0) {
      if (!lz__has_error())
        lz__error(LZ_ERROR_INTERNAL, who, "the vjp rule of '%s' failed", lz__op(node->op)->name);
      rc = -1;
      break;
    }
    for (int i = 0; i < node->ninputs && rc == 0; i++) {
      lz_array *in = node->inputs[i], *c = in_cot[i];
      if (!c || !need[i]) continue;
      if (!same_shape(c, in)) {
        char s1[128], s2[128];
        rc = lz__error(LZ_ERROR_INTERNAL, who, "the vjp rule of '%s' gave shape %s for input "
                       "%d of shape %s", lz__op(node->op)->name,
                       lz__fmt_shape(s1, sizeof s1, c->shape, c->ndim), i,
                       lz__fmt_shape(s2, sizeof s2, in->shape, in->ndim));
        break;
      }
      lz_walk_node *src = lz__walk_find(w, in);
      rc = accumulate(&src->slots[in->out_index], c);
    }
  }
  free(need), free(in_cot), free(outs);
  return rc;
}

int lz__conj_results(const char *who, lz_array **a, int n) {
  bool failed = false;
  for (int i = 0; i < n; i++) {
    if (!a[i] || a[i]->dtype != LZ_COMPLEX64) continue;
    lz_array *c = lz_conj(a[i]);
    lz_free(a[i]);
    failed |= !(a[i] = c);
  }
  if (!failed) return 0;
  for (int i = 0; i < n; i++) lz_free(a[i]), a[i] = NULL;
  return lz__has_error() ? -1 : lz__error(LZ_ERROR_OUT_OF_MEMORY, who, "out of memory");
}

int lz__vjp_core(const char *who, lz_closure *f, lz_array *const *inputs, int n,
                 const int *argnums, int nargs, lz_array *const *cotans, int ncot,
                 bool scalar_seed, lz_array **outputs, lz_array **grads) {
  if (!f || n < 0 || (n && !inputs)) {
    if (!lz__has_error())
      lz__error(LZ_ERROR_INVALID_ARGUMENT, who, "%s", !f ? "the closure is NULL"
                                                         : "invalid inputs");
    return -1;
  }
  if (!lz__check_inputs(who, inputs, n)) return -1;
  lz_array *outs[LZ_MAX_OUTPUTS], *seed[LZ_MAX_OUTPUTS] = {0};
  lz_walk w = {0};
  int k = -1, rc = 0;
  lz_scope_begin();
  lz__trace_begin(); /* an eval inside f keeps the graph for the walk (core/array.c) */
  lz_array **leaves = make_leaves(who, inputs, n);
  if (!leaves) rc = -1;
  if (rc == 0 && (k = lz__closure_call_named(who, f, leaves, n, outs)) < 0) rc = -1;
  if (rc == 0 && scalar_seed) {
    if (outs[0]->ndim != 0) {
      char s[128];
      rc = lz__error(LZ_ERROR_SHAPE, who, "the function must return a scalar (0-d array) to "
                     "differentiate, got shape %s",
                     lz__fmt_shape(s, sizeof s, outs[0]->shape, outs[0]->ndim));
    } else if (!(seed[0] = lz_ones_like(outs[0]))) {
      rc = -1;
    }
  } else if (rc == 0) {
    if (ncot != k)
      rc = lz__error(LZ_ERROR_INVALID_ARGUMENT, who, "%d cotangents for a function with %d "
                     "outputs", ncot, k);
    for (int j = 0; j < k && rc == 0; j++) {
      if (!cotans[j]) {
        rc = lz__has_error() ? -1
                             : lz__error(LZ_ERROR_INVALID_ARGUMENT, who, "cotangent %d is NULL",
                                         j);
      } else if (!same_shape(cotans[j], outs[j])) {
        char s1[128], s2[128];
        rc = lz__error(LZ_ERROR_SHAPE, who, "cotangent %d has shape %s but output %d has "
                       "shape %s", j,
                       lz__fmt_shape(s1, sizeof s1, cotans[j]->shape, cotans[j]->ndim), j,
                       lz__fmt_shape(s2, sizeof s2, outs[j]->shape, outs[j]->ndim));
      } else {
        seed[j] = cotans[j];
      }
    }
  }
  if (rc == 0) rc = lz__walk_build(&w, who, leaves, n, outs, k);
  for (int j = 0; j < k && rc == 0; j++) {
    lz_walk_node *wn = seed[j] ? lz__walk_find(&w, outs[j]) : NULL;
    if (wn) rc = accumulate(&wn->slots[outs[j]->out_index], seed[j]);
  }
  if (rc == 0) rc = backward(who, &w);
  for (int i = 0; i < nargs && rc == 0; i++) {
    int a = argnums ? argnums[i] : i;
    lz_walk_node *wn = lz__walk_find(&w, leaves[a]);
    lz_array *g = wn ? wn->slots[0] : NULL;
    if (g) g = lz_astype(g, inputs[a]->dtype);
    else g = lz_zeros_like(inputs[a]);
    if (!(grads[i] = g)) rc = -1;
  }
  if (rc == 0) {
    for (int j = 0; j < k; j++) outputs[j] = lz_keep(outs[j]);
    for (int i = 0; i < nargs; i++) grads[i] = lz_keep(grads[i]);
  }
  lz__walk_free(&w);
  free(leaves);
  lz__trace_end();
  lz_scope_end();
  if (rc) {
    for (int i = 0; i < nargs; i++) grads[i] = NULL; /* they went with the scope */
    return -1;
  }
  bool lost = false; /* lz_keep can only fail for lack of memory */
  for (int j = 0; j < k; j++) lost |= !outputs[j];
  for (int i = 0; i < nargs; i++) lost |= !grads[i];
  if (lost) {
    for (int j = 0; j < k; j++) lz_free(outputs[j]), outputs[j] = NULL;
    for (int i = 0; i < nargs; i++) lz_free(grads[i]), grads[i] = NULL;
    return -1;
  }
  return k;
}

int lz_vjp(lz_closure *f, lz_array *const *primals, int n, lz_array *const *cotangents, int m,
           lz_array **out_outputs, lz_array **out_vjps) {
  if (m < 0 || m > LZ_MAX_OUTPUTS || (m && !cotangents) || (n && !out_vjps)) {
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_vjp", "invalid cotangents (%d) or "
                     "out_vjps", m);
  }
  /* MLX's convention outside, the walk's inside: conjugate complex cotangents both ways */
  lz_array *outs[LZ_MAX_OUTPUTS], *cot[LZ_MAX_OUTPUTS] = {0};
  bool ok = true;
  for (int j = 0; j < m; j++)
    ok &= !(cot[j] = cotangents[j]) || (cot[j] = lz__conj_cotangent(cotangents[j])) != NULL;
  int k = ok ? lz__vjp_core("lz_vjp", f, primals, n, NULL, n, cot, m, false, outs, out_vjps) : -1;
  for (int j = 0; j < m; j++)
    if (cotangents[j]) lz_free(cot[j]);
  if (k < 0 || lz__conj_results("lz_vjp", out_vjps, n) != 0) {
    for (int j = 0; j < k; j++) lz_free(outs[j]);
    return -1;
  }
  for (int j = 0; j < k; j++) {
    if (out_outputs) out_outputs[j] = outs[j];
    else lz_free(outs[j]);
  }
  return 0;
}
