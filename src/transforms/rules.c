/* The rule tables: lookup by op id, the rules shared by many ops, and helpers rules use. */
#include "transforms/transforms_impl.h"

#include <pthread.h>

/* Rules of the ops the transforms record themselves, and of ops with no differentiable input. */

static int vjp_pass0(const lz_vjp_args *a, lz_array **in_cotans) {
  in_cotans[0] = a->need[0] && a->cotans[0] ? lz_retain(a->cotans[0]) : NULL;
  return 0;
}

static int jvp_pass0(const lz_jvp_args *a, lz_array **out_tangents) {
  out_tangents[0] = a->tangents[0] ? lz_retain(a->tangents[0]) : NULL;
  return 0;
}

int lz__vjp_zero(const lz_vjp_args *a, lz_array **in_cotans) {
  for (int i = 0; i < a->node->ninputs; i++) in_cotans[i] = NULL;
  return 0;
}

int lz__jvp_zero(const lz_jvp_args *a, lz_array **out_tangents) {
  for (int k = 0; k < a->node->noutputs; k++) out_tangents[k] = NULL;
  return 0;
}

const lz_rule lz__rules_misc[LZ_OP_COUNT] = {
    [LZ_OP_IDENTITY] = {vjp_pass0, jvp_pass0, NULL},
    [LZ_OP_DEPENDS] = {vjp_pass0, jvp_pass0, NULL},
    [LZ_OP_CUSTOM_TRANSFORMS] = {lz__vjp_custom, lz__jvp_custom, NULL},
    [LZ_OP_FULL] = {lz__vjp_zero, lz__jvp_zero, NULL},
    [LZ_OP_ARANGE] = {lz__vjp_zero, lz__jvp_zero, NULL},
    [LZ_OP_LINSPACE] = {lz__vjp_zero, lz__jvp_zero, NULL},
    [LZ_OP_EYE] = {lz__vjp_zero, lz__jvp_zero, NULL},
    [LZ_OP_TRI] = {lz__vjp_zero, lz__jvp_zero, NULL},
    [LZ_OP_BARTLETT] = {lz__vjp_zero, lz__jvp_zero, NULL},
    [LZ_OP_BLACKMAN] = {lz__vjp_zero, lz__jvp_zero, NULL},
    [LZ_OP_HAMMING] = {lz__vjp_zero, lz__jvp_zero, NULL},
    [LZ_OP_HANNING] = {lz__vjp_zero, lz__jvp_zero, NULL},
    [LZ_OP_LOAD] = {lz__vjp_zero, lz__jvp_zero, NULL},
};

/* Every family's table. An op's vjp, jvp and vmap slots may live in different tables (the
 * vmap rules are written apart from the derivative rules); each slot is taken from the first
 * table that sets it. */
static const lz_rule *const families[] = {
    lz__rules_misc,   lz__rules_binary, lz__rules_unary,  lz__rules_reduce,
    lz__rules_shape,  lz__rules_linalg, lz__rules_scan,   lz__rules_indexing,
    lz__rules_linalg_more, lz__rules_random, lz__rules_fast,
    lz__rules_fft, lz__rules_quantize, lz__rules_distributed,
};

static lz_rule merged[LZ_OP_COUNT];
static pthread_once_t merged_once = PTHREAD_ONCE_INIT;

static void merge_tables(void) {
  for (int op = 0; op < LZ_OP_COUNT; op++) {
    lz_rule r = {NULL, NULL, NULL};
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
      const lz_rule *t = &families[f][op];
      if (!r.vjp) r.vjp = t->vjp;
      if (!r.jvp) r.jvp = t->jvp;
      if (!r.vmap) r.vmap = t->vmap;
    }
    merged[op] = r;
  }
}

const lz_rule *lz__rule(int op) {
  static const lz_rule none = {NULL, NULL, NULL};
  if (op < 0 || op >= LZ_OP_COUNT) return &none;
  pthread_once(&merged_once, merge_tables);
  return &merged[op];
}

lz_array *lz__conj_cotangent(lz_array *c) {
  if (!c) return NULL;
  return c->dtype == LZ_COMPLEX64 ? lz_conj(c) : lz_retain(c);
}

lz_array *lz__node_output(lz_node *n, int k) {
  lz_array *o = n->outputs[k];
  return atomic_load_explicit(&o->refs, memory_order_acquire) > 0 ? o : NULL;
}

lz_array *lz__unbroadcast(const char *who, lz_array *c, const lz_array *like) {
  if (!c) return NULL;
  int lead = c->ndim - like->ndim, axes[LZ_MAX_NDIM], n = 0;
  if (lead < 0) {
    char s1[128], s2[128];
    lz__error(LZ_ERROR_INTERNAL, who, "cotangent of shape %s cannot be summed to shape %s",
              lz__fmt_shape(s1, sizeof s1, c->shape, c->ndim),
              lz__fmt_shape(s2, sizeof s2, like->shape, like->ndim));
    return NULL;
  }
  for (int d = 0; d < c->ndim; d++)
    if (d < lead || (like->shape[d - lead] == 1 && c->shape[d] != 1)) axes[n++] = d;
  if (n == 0) return lz_astype(c, like->dtype);
  lz_array *s = lz_sum_axes(c, axes, n, true);
  return lz_astype(lz_reshape(s, like->shape, like->ndim), like->dtype);
}

lz_array *lz__expand_to(lz_array *t, const lz_array *like) {
  if (!t) return NULL;
  bool same = t->ndim == like->ndim && t->dtype == like->dtype;
  for (int d = 0; same && d < t->ndim; d++) same = t->shape[d] == like->shape[d];
  if (same) return lz_retain(t);
  return lz_broadcast_to(lz_astype(t, like->dtype), like->shape, like->ndim);
}

lz_array *lz__sum_tangents(lz_array *a, lz_array *b, const lz_array *like) {
  if (a && b) return lz__expand_to(lz_add(a, b), like);
  return lz__expand_to(a ? a : b, like);
}
