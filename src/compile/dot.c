/* Printing graphs: the compile debug dump of a tape, and lz_export_to_dot for any pending graph
 * (explicit stack, a hash set of visited nodes; nothing is evaluated). */
#include "compile/compile_impl.h"

#include <stdlib.h>

static const char *red_name(fz_red r) {
  static const char *const names[] = {"",          "sum",     "mean", "max", "min",
                                      "logsumexp", "softmax", "var",  "std"};
  return names[r];
}

void fz_prog_describe(const fz_prog *p, char *buf, size_t cap) {
  size_t n = 0;
  buf[0] = 0;
  if (p->rowwise) {
    int w = snprintf(buf, cap, "rows:");
    n = w > 0 && (size_t)w < cap ? (size_t)w : 0;
  } else if (p->mm && cap > 10) {
    n = (size_t)snprintf(buf, cap, "matmul ->");
  }
  for (int s = 0; s < p->nsteps && n + 1 < cap; s++) {
    const fz_step *st = &p->steps[s];
    const char *name = st->kind == FZ_COPY && st->op == LZ_OP_FUSED ? "copy" : lz__op(st->op)->name;
    if (st->squares) name = st->op == LZ_OP_SUM ? "sum_of_squares" : "mean_of_squares";
    int w = st->kind == FZ_PAIR
                ? snprintf(buf + n, cap - n, "%s%s+%s", n ? " " : "", name, lz__op(st->op2)->name)
                : snprintf(buf + n, cap - n, "%s%s", n ? " " : "", name);
    if (w < 0) break;
    n += (size_t)w;
  }
  if (p->red != FZ_RED_NONE && n + 1 < cap)
    snprintf(buf + n, cap - n, "%s-> %s(last %d axes)", n ? " " : "", red_name(p->red), p->naxes);
}

static void print_value(FILE *f, const cz_tape *t, int32_t v) {
  const cz_value *cv = &t->vals[v];
  char s[128];
  fprintf(f, "%%%d:%s%s", v, lz_dtype_name(cv->dtype),
          lz__fmt_shape(s, sizeof s, cv->shape, cv->ndim));
}

void cz_tape_print(FILE *f, const cz_tape *t) {
  fprintf(f, "[lz_compile] tape: %d inputs, %d constants, %d nodes, %d outputs\n", t->nin,
          t->nconsts, t->nnodes, t->nouts);
  for (int32_t v = t->nin; v < t->nvals; v++) {
    if (t->vals[v].kind != CZ_CONST) continue;
    fprintf(f, "  ");
    print_value(f, t, v);
    lz_array *a = t->consts[t->vals[v].ref];
    if (!a->node && a->size == 1)
      fprintf(f, " = %g\n", lz__load_f64(lz__data_ptr(a), a->dtype));
    else
      fprintf(f, " = constant\n");
  }
  char buf[1024];
  for (int32_t i = 0; i < t->nnodes; i++) {
    const cz_node *n = &t->nodes[i];
    fprintf(f, "  ");
    for (int k = 0; k < n->nout; k++) {
      if (k) fprintf(f, ", ");
      print_value(f, t, n->out[k]);
    }
    fprintf(f, " = %s(", lz__op(n->op)->name);
    for (int j = 0; j < n->nin; j++) fprintf(f, "%s%%%d", j ? ", " : "", n->in[j]);
    fprintf(f, ")");
    const lz_op_def *def = lz__op(n->op);
    if (def->params_print && n->params) {
      def->params_print(n->params, buf, sizeof buf);
      fprintf(f, " {%s}", buf);
    }
    fprintf(f, "\n");
  }
  fprintf(f, "  return");
  for (int i = 0; i < t->nouts; i++) fprintf(f, "%s %%%d", i ? "," : "", t->outs[i]);
  fprintf(f, "\n");
}

/* ---- DOT ---- */

static void dot_array_leaf(FILE *f, const lz_array *a) {
  char s[128];
  fprintf(f, "  a%llu [shape=box,label=\"%s%s\"];\n", (unsigned long long)a->id,
          lz_dtype_name(a->dtype), lz__fmt_shape(s, sizeof s, a->shape, a->ndim));
}

int lz_export_to_dot(FILE *f, lz_array *const *arrays, size_t n) {
  if (!f || (n && !arrays)) {
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_export_to_dot", "%s is NULL",
                     !f ? "the file" : "arrays");
  }
  for (size_t i = 0; i < n; i++)
    if (!arrays[i]) {
      if (!lz__has_error())
        lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_export_to_dot", "array %zu is NULL", i);
      return -1;
    }
  cz_map seen = {0};
  lz_node **stack = NULL;
  size_t sp = 0, cap = 0;
  int rc = 0;
  char buf[1024];
  fprintf(f, "digraph lazuli {\n  rankdir=TB;\n");
  for (size_t r = 0; r < n && rc == 0; r++) {
    lz_array *a = arrays[r];
    if (!a->node) {
      if (cz_map_get(&seen, a->id) < 0) {
        if (cz_map_put(&seen, a->id, 1)) rc = -1;
        dot_array_leaf(f, a);
      }
      fprintf(f, "  out%zu [shape=plaintext,label=\"output %zu\"];\n  a%llu -> out%zu;\n", r, r,
              (unsigned long long)a->id, r);
      continue;
    }
    fprintf(f, "  out%zu [shape=plaintext,label=\"output %zu\"];\n  n%llu -> out%zu;\n", r, r,
            (unsigned long long)a->node->id, r);
    if (cz_map_get(&seen, a->node->id) >= 0) continue;
    if (cz_map_put(&seen, a->node->id, 1)) rc = -1;
    if (sp == cap) {
      cap = cap ? cap * 2 : 64;
      lz_node **s = realloc(stack, cap * sizeof *s);
      if (!s) {
        rc = -1;
        break;
      }
      stack = s;
    }
    stack[sp++] = a->node;
    while (sp && rc == 0) {
      lz_node *nd = stack[--sp];
      const lz_op_def *def = lz__op(nd->op);
      buf[0] = 0;
      if (def->params_print && nd->params) def->params_print(nd->params, buf, sizeof buf);
      fprintf(f, "  n%llu [label=\"%s%s%s\"%s];\n", (unsigned long long)nd->id, def->name,
              buf[0] ? "\\n" : "", buf,
              nd->op == LZ_OP_FUSED ? ",style=filled,fillcolor=lightblue" : "");
      for (int i = 0; i < nd->ninputs && rc == 0; i++) {
        lz_array *in = nd->inputs[i];
        if (!in->node) {
          if (cz_map_get(&seen, in->id) < 0) {
            if (cz_map_put(&seen, in->id, 1)) rc = -1;
            dot_array_leaf(f, in);
          }
          fprintf(f, "  a%llu -> n%llu;\n", (unsigned long long)in->id, (unsigned long long)nd->id);
          continue;
        }
        fprintf(f, "  n%llu -> n%llu;\n", (unsigned long long)in->node->id,
                (unsigned long long)nd->id);
        if (cz_map_get(&seen, in->node->id) >= 0) continue;
        if (cz_map_put(&seen, in->node->id, 1)) rc = -1;
        if (sp == cap) {
          cap *= 2;
          lz_node **s = realloc(stack, cap * sizeof *s);
          if (!s) {
            rc = -1;
            break;
          }
          stack = s;
        }
        stack[sp++] = in->node;
      }
    }
  }
  fprintf(f, "}\n");
  free(stack);
  cz_map_free(&seen);
  if (rc) return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_export_to_dot", "out of memory");
  return 0;
}
