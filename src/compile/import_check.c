/* The importer's per-op checks: run a node's constructor on placeholders and require the node
 * it makes to be the recorded one (import_check.h). */
#include "compile/import_check.h"

#include <stdarg.h>
#include <stdlib.h>

cz_check_fn cz_check_of(int op) {
  static const cz_check_fn *const tables[] = {cz_checks_elementwise, cz_checks_reduce,
                                               cz_checks_shape, cz_checks_nn,
                                               cz_checks_more};
  if (op < 0 || op >= LZ_OP_COUNT) return NULL;
  for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
    if (tables[i][op]) return tables[i][op];
  return NULL;
}

lz_array *cz_check_fail(const cz_check_args *a, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  lz__error(LZ_ERROR_INVALID_ARGUMENT, lz__op(a->op)->name, "%s", msg);
  return NULL;
}

bool cz_check_arity(const cz_check_args *a, int nin, int nout) {
  if (a->nin == nin && a->nout == nout) return true;
  cz_check_fail(a, "has %d inputs and %d outputs (expects %d and %d)", a->nin, a->nout, nin, nout);
  return false;
}

/* Whether the node that made r is the recorded one: its op, the placeholders as inputs in
 * order, and the recorded output signatures. */
static const char *same_node(const cz_check_args *a, const lz_array *r) {
  const lz_node *n = r ? r->node : NULL;
  if (!n || n->op != a->op) return "its constructor makes another op of these inputs";
  if (n->ninputs != a->nin || n->noutputs != a->nout)
    return "its constructor makes it with other inputs or outputs";
  for (int i = 0; i < a->nin; i++)
    if (n->inputs[i] != a->in[i]) return "its constructor converts its inputs first";
  for (int k = 0; k < a->nout; k++) {
    const lz_array *o = n->outputs[k];
    const cz_value *v = a->out[k];
    if (o->dtype != v->dtype) return "it declares an output dtype its inputs do not give";
    if (o->ndim != v->ndim || memcmp(o->shape, v->shape, (size_t)v->ndim * sizeof(int)) != 0)
      return "it declares an output shape its inputs do not give";
  }
  return NULL;
}

int cz_check_node(const char *who, const char *path, cz_tape *t, int32_t idx) {
  cz_node *n = &t->nodes[idx];
  const char *name = lz__op(n->op)->name;
  cz_check_fn fn = cz_check_of(n->op);
  if (!fn) return lz__error(LZ_ERROR_IO, who, "'%s': op '%s' has no import check", path, name);
  lz_array **ph = malloc((size_t)(n->nin ? n->nin : 1) * sizeof *ph);
  if (!ph) return lz__error(LZ_ERROR_OUT_OF_MEMORY, who, "out of memory");
  const cz_value *outs[LZ_MAX_OUTPUTS];
  for (int k = 0; k < n->nout; k++) outs[k] = &t->vals[n->out[k]];
  lz_scope_begin();
  bool made = true;
  for (int i = 0; i < n->nin && made; i++) {
    const cz_value *v = &t->vals[n->in[i]];
    lz_placeholder_params pp = {i, n->nin, 0};
    ph[i] = lz__make(LZ_OP_PLACEHOLDER, &pp, NULL, 0, v->dtype, v->shape, v->ndim);
    made = ph[i] != NULL;
  }
  cz_check_args a = {n->op, n->params, ph, n->nin, outs, n->nout};
  lz_array *r = made ? fn(&a) : NULL;
  int rc = 0;
  if (!made) {
    rc = -1;
  } else if (!r) {
    char msg[320];
    snprintf(msg, sizeof msg, "%s", lz_last_error());
    lz_clear_error();
    rc = lz__error(LZ_ERROR_IO, who, "'%s': op '%s' (node %d) is refused by its constructor: %s",
                   path, name, (int)idx, msg);
  } else {
    const char *why = same_node(&a, r);
    if (why) rc = lz__error(LZ_ERROR_IO, who, "'%s': op '%s' (node %d): %s", path, name, (int)idx, why);
    else if (lz__op(n->op)->params_size) memcpy(n->params, r->node->params, lz__op(n->op)->params_size);
  }
  lz_scope_end();
  free(ph);
  return rc;
}
