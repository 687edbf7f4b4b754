/* Fusion: groups of elementwise nodes (and the reduction they feed) become one fused node.
 *
 * Groups grow from consumers to producers, in reverse topological order: a node joins the
 * group of its consumers when every consumer is in that one group and it has the group's
 * iteration shape. So each group has a single exit (its root: the last node, whose value
 * leaves the group; other members may also be outputs of the function) and cannot form a cycle
 * with the rest of the graph: a path out of the group starts at the root, and every input of a
 * member was computed before the member. One linear sweep assigns groups, one writes the tape.
 *
 * A node whose value is also read outside the group joins it too when every such reader comes
 * after the group's root (the group then stores that value as one more output): the fused node
 * runs at its root's place, so those readers still find the value made, and none of them can
 * feed the group. So GELU's forward keeps the values its gradient reads and still runs as one
 * pass (with the product before it, as its epilogue).
 *
 * A matmul whose consumers are one elementwise group of its output's shape (readers after the
 * group aside, as above: the product is then stored too) joins that group as its prologue: the
 * GEMM epilogue (bias, activation, residual, scaling, an optimizer update) runs on each block of
 * the product while it is in cache (fused.c). Its operands must exist whole, so their producers
 * never join the group. */
#include "compile/compile_impl.h"
#include "cpu/reduce.h"

#include <stdlib.h>

typedef struct group {
  int32_t root;
  int ndim;
  int shape[LZ_MAX_NDIM];
  int nmembers;
  int ext_estimate;   /* operands the program will need, counted from above */
  int nseen;          /* distinct inputs and constants counted */
  int32_t seen[FZ_MAX_OPERANDS];
  bool red;
  int32_t mm; /* the matmul prologue's node, or -1 */
} group;

enum { CG_UNSET = -1, CG_MIXED = -2, CG_NONE = -3 };

static fz_red red_kind(int op) {
  switch (op) {
  case LZ_OP_SUM: return FZ_RED_SUM;
  case LZ_OP_MEAN: return FZ_RED_MEAN;
  case LZ_OP_MAX: return FZ_RED_MAX;
  case LZ_OP_MIN: return FZ_RED_MIN;
  case LZ_OP_LOGSUMEXP: return FZ_RED_LSE;
  case LZ_OP_SOFTMAX: return FZ_RED_SOFTMAX;
  case LZ_OP_VAR: return FZ_RED_VAR;
  case LZ_OP_STD: return FZ_RED_STD;
  default: return FZ_RED_NONE;
  }
}

static bool elem_ok(const cz_tape *t, const cz_node *n) {
  uint32_t fl = lz__op(n->op)->flags;
  if (!(fl & LZ_OPF_ELEMENTWISE) || (fl & LZ_OPF_VIEW) || n->nout != 1 || n->nin > 3) return false;
  lz_dtype dts[3];
  for (int i = 0; i < n->nin; i++) dts[i] = t->vals[n->in[i]].dtype;
  fz_step st;
  return fz_step_supported(n->op, dts, n->nin, t->vals[n->out[0]].dtype, &st);
}

/* Softmax and logsumexp are never fused: their native kernels (cpu/reduce_simd.c) beat the
 * fused interpreter even with an elementwise prologue folded in (softmax(x * s + m), float32
 * 4096x4096: fused 64 ms, fused prologue + native softmax 27 ms), so they stay plain nodes and
 * a prologue feeding them becomes an elementwise group of its own. */
static bool red_ok(const cz_tape *t, const cz_node *n) {
  fz_red rk = red_kind(n->op);
  if (rk == FZ_RED_NONE || rk == FZ_RED_LSE || rk == FZ_RED_SOFTMAX || n->nin != 1 || n->nout != 1)
    return false;
  const cz_value *x = &t->vals[n->in[0]], *o = &t->vals[n->out[0]];
  if ((x->dtype != LZ_FLOAT32 && x->dtype != LZ_FLOAT64) || o->dtype != x->dtype) return false;
  const lz_reduce_params *p = n->params;
  if (p->naxes < 1 || x->ndim < 1) return false;
  for (int j = 0; j < p->naxes; j++)
    if (p->axes[j] != x->ndim - p->naxes + j) return false;
  return true;
}

/* A matmul the epilogue can run: A (..., M, K) @ B (K, N), one dtype (float32, float16 or
 * bfloat16) for both operands and the product. Batched B and float64 stay plain matmuls. */
static bool mm_ok(const cz_tape *t, const cz_node *n) {
  if (n->op != LZ_OP_MATMUL || n->nin != 2 || n->nout != 1) return false;
  const cz_value *a = &t->vals[n->in[0]], *b = &t->vals[n->in[1]], *o = &t->vals[n->out[0]];
  lz_dtype dt = o->dtype;
  return (dt == LZ_FLOAT32 || dt == LZ_FLOAT16 || dt == LZ_BFLOAT16) && a->dtype == dt &&
         b->dtype == dt && a->ndim >= 2 && b->ndim == 2 && o->ndim == a->ndim;
}

/* Operands that node n adds to group g if it joins (its own value stops being one): inputs
 * and constants are counted once per group, node values once per use (an upper bound). */
static int added_operands(const cz_tape *t, const group *g, const cz_node *n) {
  int add = -1;
  for (int j = 0; j < n->nin; j++) {
    int32_t v = n->in[j];
    if (t->vals[v].kind == CZ_NODE) {
      add++;
      continue;
    }
    bool seen = false;
    for (int k = 0; k < g->nseen && !seen; k++) seen = g->seen[k] == v;
    for (int k = 0; k < j && !seen; k++) seen = n->in[k] == v;
    if (!seen) add++;
  }
  return add;
}

static void note_inputs(const cz_tape *t, group *g, const cz_node *n) {
  for (int j = 0; j < n->nin; j++) {
    int32_t v = n->in[j];
    if (t->vals[v].kind == CZ_NODE) continue;
    bool seen = false;
    for (int k = 0; k < g->nseen && !seen; k++) seen = g->seen[k] == v;
    if (!seen && g->nseen < FZ_MAX_OPERANDS) g->seen[g->nseen++] = v;
  }
}

static bool shape_is(const group *g, const cz_value *v) {
  return v->ndim == g->ndim && memcmp(v->shape, g->shape, (size_t)g->ndim * sizeof(int)) == 0;
}

/* ---- building a program ---- */

typedef struct builder {
  const cz_tape *t;
  const int32_t *grp;
  int32_t g;
  fz_prog *p;
  int32_t ext[FZ_MAX_OPERANDS]; /* value ids of the node's inputs */
  int next;
  int32_t el[FZ_MAX_OPERANDS];  /* value ids of the elementwise outputs */
  int nel;
  int32_t mm_val; /* the matmul prologue's product (an operand, not a step), or -1 */
} builder;

static bool member_value(const builder *b, int32_t v) {
  const cz_value *cv = &b->t->vals[v];
  return cv->kind == CZ_NODE && b->grp[cv->ref] == b->g && v != b->mm_val;
}

static int ext_index(builder *b, int32_t v) {
  for (int i = 0; i < b->next; i++)
    if (b->ext[i] == v) return i;
  if (b->nel + b->next >= FZ_MAX_OPERANDS) return -1;
  b->ext[b->next] = v;
  return b->next++;
}

/* Builds the program of a group whose members are mem[0..nm) (topological order, root last).
 * Returns NULL when the group does not fit a program (the members then stay separate). */
static fz_prog *build_prog(builder *b, const int32_t *mem, int nm, const bool *is_out,
                           const group *gr) {
  const cz_tape *t = b->t;
  const cz_node *root = &t->nodes[mem[nm - 1]];
  fz_prog *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  atomic_init(&p->refs, 1);
  p->ndim = gr->ndim;
  b->p = p, b->next = 0, b->nel = 0;
  int nel_members = gr->red ? nm - 1 : nm;
  for (int i = 0; i < nel_members; i++) { /* elementwise outputs */
    int32_t v = t->nodes[mem[i]].out[0];
    if ((is_out[v] || i == nm - 1) && b->nel < FZ_MAX_OPERANDS) b->el[b->nel++] = v;
  }
  /* a product read after the group too (a bias gradient's sum) is stored: one more output */
  bool store_mm = b->mm_val >= 0 && is_out[b->mm_val] && b->nel < FZ_MAX_OPERANDS;
  if (store_mm) b->el[b->nel++] = b->mm_val;
  p->nel = b->nel;
  if (b->mm_val >= 0) { /* the product is operand nel: the first external one */
    p->mm = true;
    b->ext[b->next++] = b->mm_val;
  }
  if (store_mm) { /* copied from its block as the first step */
    fz_step *st = &p->steps[p->nsteps++];
    memset(st, 0, sizeof *st);
    lz_dtype dt = t->vals[b->mm_val].dtype;
    st->kind = FZ_COPY, st->nin = 1, st->op = LZ_OP_FUSED;
    st->dt_out = st->dt_in = dt;
    st->isz[0] = st->isz[1] = (uint8_t)lz_dtype_size(dt);
    st->in[0] = (fz_loc){FZ_OPND, (int16_t)FZ_MAX_OPERANDS}; /* fixed up below */
    st->out = (fz_loc){FZ_OPND, (int16_t)(b->nel - 1)};
  }
  if (gr->red) {
    const lz_reduce_params *rp = root->params;
    p->red = red_kind(root->op);
    p->red_op = root->op;
    p->naxes = rp->naxes;
    p->ddof = rp->ddof;
    p->red_dt = t->vals[root->in[0]].dtype;
    p->keepdims = t->vals[root->out[0]].ndim == gr->ndim;
  }
  /* last use of every member value, in steps */
  int32_t last[FZ_MAX_STEPS + 1];
  int32_t vals[FZ_MAX_STEPS + 1];
  int nv = 0;
  bool ok = nel_members + 2 <= FZ_MAX_STEPS;
  for (int i = 0; ok && i < nel_members; i++) vals[nv] = t->nodes[mem[i]].out[0], last[nv++] = -1;
  for (int i = 0; ok && i < nm; i++) {
    const cz_node *n = &t->nodes[mem[i]];
    for (int j = 0; j < n->nin; j++)
      for (int k = 0; k < nv; k++)
        if (vals[k] == n->in[j]) last[k] = gr->red && i == nm - 1 ? FZ_MAX_STEPS + 1 : i;
  }
  fz_loc loc[FZ_MAX_STEPS + 1];
  bool reg_busy[FZ_MAX_STEPS + 1] = {false};
  int32_t red_in = gr->red ? root->in[0] : -1;
  bool two_pass = p->red >= FZ_RED_LSE;
  for (int i = 0; ok && i < nel_members; i++) {
    const cz_node *n = &t->nodes[mem[i]];
    fz_step *st = &p->steps[p->nsteps];
    memset(st, 0, sizeof *st);
    lz_dtype dts[3];
    for (int j = 0; j < n->nin; j++) {
      int32_t v = n->in[j];
      dts[j] = t->vals[v].dtype;
      if (member_value(b, v)) {
        int k = 0;
        while (vals[k] != v) k++;
        st->in[j] = loc[k];
      } else {
        int e = ext_index(b, v);
        if (e < 0) ok = false;
        st->in[j] = (fz_loc){FZ_OPND, (int16_t)(FZ_MAX_OPERANDS + e)}; /* fixed up below */
      }
    }
    int32_t v = n->out[0];
    if (!ok || !fz_step_supported(n->op, dts, n->nin, t->vals[v].dtype, st)) {
      ok = false;
      break;
    }
    st->op = n->op, st->nin = (uint8_t)n->nin;
    st->dt_out = t->vals[v].dtype, st->dt_in = dts[0];
    st->isz[0] = (uint8_t)lz_dtype_size(st->dt_out);
    for (int j = 0; j < n->nin; j++) st->isz[j + 1] = (uint8_t)lz_dtype_size(dts[j]);
    size_t ps = lz__op(n->op)->params_size;
    if (ps && !(st->ctx = malloc(ps))) ok = false;
    if (ps && st->ctx) memcpy(st->ctx, n->params, ps);
    p->nsteps++;
    int el = -1;
    for (int k = 0; k < b->nel; k++)
      if (b->el[k] == v) el = k;
    if (el >= 0) {
      loc[i] = (fz_loc){FZ_OPND, (int16_t)el};
    } else if (v == red_in && two_pass) {
      loc[i] = (fz_loc){FZ_LANE, 0};
    } else {
      int r = 0;
      while (reg_busy[r]) r++;
      reg_busy[r] = true;
      if (r + 1 > p->nregs) p->nregs = r + 1;
      loc[i] = (fz_loc){FZ_REG, (int16_t)r};
    }
    st->out = loc[i];
    for (int k = 0; k < nv; k++) /* registers whose last reader was this step */
      if (last[k] == i && k < i && loc[k].kind == FZ_REG) reg_busy[loc[k].idx] = false;
  }
  if (ok && gr->red) {
    fz_loc in;
    if (member_value(b, red_in)) {
      int k = 0;
      while (vals[k] != red_in) k++;
      in = loc[k];
    } else {
      int e = ext_index(b, red_in);
      ok = e >= 0;
      in = (fz_loc){FZ_OPND, (int16_t)(FZ_MAX_OPERANDS + e)};
    }
    if (ok && two_pass && in.kind != FZ_LANE) { /* the lane must be stored: copy it */
      ok = p->nsteps < FZ_MAX_STEPS;
      if (ok) {
        fz_step *st = &p->steps[p->nsteps++];
        memset(st, 0, sizeof *st);
        st->kind = FZ_COPY, st->nin = 1, st->op = LZ_OP_FUSED;
        st->dt_out = st->dt_in = p->red_dt;
        st->isz[0] = st->isz[1] = (uint8_t)lz_dtype_size(p->red_dt);
        st->in[0] = in, st->out = (fz_loc){FZ_LANE, 0};
        in = st->out;
      }
    }
    p->red_in = in;
  }
  /* external operand indices come after the elementwise outputs */
  for (int s = 0; ok && s < p->nsteps; s++) {
    fz_step *st = &p->steps[s];
    for (int j = 0; j < st->nin; j++)
      if (st->in[j].kind == FZ_OPND && st->in[j].idx >= FZ_MAX_OPERANDS)
        st->in[j].idx = (int16_t)(st->in[j].idx - FZ_MAX_OPERANDS + b->nel);
  }
  if (p->red_in.kind == FZ_OPND && p->red_in.idx >= FZ_MAX_OPERANDS)
    p->red_in.idx = (int16_t)(p->red_in.idx - FZ_MAX_OPERANDS + b->nel);
  if (!ok || b->nel + b->next > FZ_MAX_OPERANDS) {
    fz_prog_release(p);
    return NULL;
  }
  return p;
}

/* ---- the pass ---- */

static int copy_node(const cz_tape *t, const cz_node *n, cz_tape *out, int32_t *map) {
  int32_t ins[64], *in = n->nin <= 64 ? ins : malloc((size_t)n->nin * sizeof *in);
  lz_dtype dts[LZ_MAX_OUTPUTS + 1];
  const int *shapes[LZ_MAX_OUTPUTS + 1];
  int nds[LZ_MAX_OUTPUTS + 1];
  if (!in || n->nout > LZ_MAX_OUTPUTS + 1) {
    if (in != ins) free(in);
    return -1;
  }
  for (int j = 0; j < n->nin; j++) in[j] = map[n->in[j]];
  for (int k = 0; k < n->nout; k++) {
    const cz_value *cv = &t->vals[n->out[k]];
    dts[k] = cv->dtype, shapes[k] = cv->shape, nds[k] = cv->ndim;
  }
  int32_t idx = cz_tape_node(out, n->op, n->params, in, n->nin, n->nout, dts, shapes, nds);
  if (in != ins) free(in);
  if (idx < 0) return -1;
  for (int k = 0; k < n->nout; k++) map[n->out[k]] = out->nodes[idx].out[k];
  return 0;
}

static int emit_group(const cz_tape *t, cz_tape *out, int32_t *map, const int32_t *grp, int32_t g,
                      int32_t *mem, int nm, const bool *is_out, const group *gr) {
  builder b = {.t = t, .grp = grp, .g = g, .mm_val = -1};
  const cz_node *mm = gr->mm >= 0 ? &t->nodes[gr->mm] : NULL;
  int nel_nm = nm;
  if (mm) { /* the steps are the other members: move the matmul to the end of the list */
    int k = 0;
    while (mem[k] != gr->mm) k++;
    memmove(mem + k, mem + k + 1, (size_t)(nm - k - 1) * sizeof *mem);
    mem[--nel_nm] = gr->mm;
    b.mm_val = mm->out[0];
  }
  fz_prog *p = build_prog(&b, mem, nel_nm, is_out, gr);
  if (!p) { /* does not fit: the members stay separate nodes, in topological order */
    if (mm && copy_node(t, mm, out, map)) return -1;
    for (int i = 0; i < nel_nm; i++)
      if (copy_node(t, &t->nodes[mem[i]], out, map)) return -1;
    return 0;
  }
  int32_t in[FZ_MAX_OPERANDS + 2];
  int nin = 0;
  for (int i = mm ? 1 : 0; i < b.next; i++) in[nin++] = map[b.ext[i]];
  if (mm) in[nin++] = map[mm->in[0]], in[nin++] = map[mm->in[1]];
  int nout = b.nel + (gr->red ? 1 : 0);
  lz_dtype dts[FZ_MAX_OPERANDS + 1];
  const int *shapes[FZ_MAX_OPERANDS + 1];
  int nds[FZ_MAX_OPERANDS + 1];
  int32_t outv[FZ_MAX_OPERANDS + 1];
  for (int k = 0; k < b.nel; k++) outv[k] = b.el[k];
  if (gr->red) outv[b.nel] = t->nodes[mem[nel_nm - 1]].out[0];
  for (int k = 0; k < nout; k++) {
    const cz_value *cv = &t->vals[outv[k]];
    dts[k] = cv->dtype, shapes[k] = cv->shape, nds[k] = cv->ndim;
  }
  lz_fused_params fp = {p};
  int32_t idx = cz_tape_node(out, LZ_OP_FUSED, &fp, in, nin, nout, dts, shapes, nds);
  fz_prog_release(p); /* the tape node holds its own reference */
  if (idx < 0) return -1;
  for (int k = 0; k < nout; k++) map[outv[k]] = out->nodes[idx].out[k];
  return 0;
}

int cz_fuse(const cz_tape *t, cz_tape *out, bool epilogue) {
  memset(out, 0, sizeof *out);
  int32_t nn = t->nnodes, nv = t->nvals;
  int32_t *grp = malloc((size_t)(nn + 1) * sizeof *grp);
  int32_t *cg = malloc((size_t)(nv + 1) * sizeof *cg);
  int32_t *map = malloc((size_t)(nv + 1) * sizeof *map);
  /* per value: the group of its earliest reader seen so far (the sweep goes backwards), that
   * reader, and the earliest reader outside that group */
  int32_t *lo_grp = malloc((size_t)(nv + 1) * sizeof *lo_grp);
  int32_t *lo_idx = malloc((size_t)(nv + 1) * sizeof *lo_idx);
  int32_t *other_min = malloc((size_t)(nv + 1) * sizeof *other_min);
  bool *is_out = calloc((size_t)nv + 1, sizeof *is_out);
  group *groups = malloc((size_t)(nn + 1) * sizeof *groups);
  int32_t *start = NULL, *members = NULL, *fill = NULL;
  int32_t ng = 0;
  int rc = grp && cg && map && is_out && groups && lo_grp && lo_idx && other_min ? 0 : -1;
  for (int32_t v = 0; rc == 0 && v < nv; v++) {
    cg[v] = CG_UNSET, map[v] = -1;
    lo_grp[v] = CG_UNSET, lo_idx[v] = -1, other_min[v] = INT32_MAX;
  }
  for (int i = 0; rc == 0 && i < t->nouts; i++) is_out[t->outs[i]] = true;
  /* reverse sweep: assign groups */
  for (int32_t i = nn - 1; rc == 0 && i >= 0; i--) {
    const cz_node *n = &t->nodes[i];
    grp[i] = -1;
    if (elem_ok(t, n)) {
      int32_t o = n->out[0], c = cg[o];
      const cz_value *ov = &t->vals[o];
      /* read outside its consumers' group too, but only after the group's root */
      bool escapes = c < 0 && lo_grp[o] >= 0 && other_min[o] > groups[lo_grp[o]].root;
      if (escapes) c = lo_grp[o];
      if (c >= 0 && shape_is(&groups[c], ov) && groups[c].nmembers + 3 < FZ_MAX_STEPS &&
          groups[c].ext_estimate + added_operands(t, &groups[c], n) + escapes <
              FZ_MAX_OPERANDS - 2) {
        grp[i] = c;
        groups[c].nmembers++;
        groups[c].ext_estimate += added_operands(t, &groups[c], n) + escapes;
        note_inputs(t, &groups[c], n);
        if (escapes) is_out[o] = true; /* stored by the fused node */
      } else {
        group *g = &groups[ng];
        g->root = i, g->ndim = ov->ndim, g->nmembers = 1, g->red = false, g->nseen = 0;
        g->mm = -1;
        g->ext_estimate = 2 + added_operands(t, g, n); /* + its output */
        note_inputs(t, g, n);
        memcpy(g->shape, ov->shape, (size_t)ov->ndim * sizeof(int));
        grp[i] = ng++;
      }
    } else if (red_ok(t, n)) {
      const cz_value *iv = &t->vals[n->in[0]];
      group *g = &groups[ng];
      g->root = i, g->ndim = iv->ndim, g->nmembers = 1, g->red = true, g->ext_estimate = 2;
      g->nseen = 0, g->mm = -1;
      note_inputs(t, g, n);
      memcpy(g->shape, iv->shape, (size_t)iv->ndim * sizeof(int));
      grp[i] = ng++;
    } else if (epilogue && mm_ok(t, n)) {
      int32_t o = n->out[0], c = cg[o];
      bool escapes = c < 0 && lo_grp[o] >= 0 && other_min[o] > groups[lo_grp[o]].root;
      if (escapes) c = lo_grp[o];
      if (c >= 0 && !groups[c].red && groups[c].mm < 0 && shape_is(&groups[c], &t->vals[o]) &&
          groups[c].nmembers + 4 < FZ_MAX_STEPS &&
          groups[c].ext_estimate + 1 < FZ_MAX_OPERANDS - 2) {
        grp[i] = c;
        groups[c].mm = i;
        groups[c].nmembers++;
        groups[c].ext_estimate++;
        if (escapes) is_out[o] = true; /* stored by the fused node */
      }
    }
    /* a matmul prologue's operands are read whole: their producers stay out of its group */
    int32_t mine = grp[i] >= 0 && groups[grp[i]].mm != i ? grp[i] : CG_NONE;
    for (int j = 0; j < n->nin; j++) {
      int32_t v = n->in[j], *c = &cg[v];
      *c = *c == CG_UNSET ? mine : *c == mine ? mine : CG_MIXED;
      if (lo_grp[v] != mine || mine < 0) {
        if (lo_idx[v] >= 0) other_min[v] = lo_idx[v]; /* every reader seen so far is later */
        lo_grp[v] = mine;
      }
      lo_idx[v] = i;
    }
  }
  /* singletons stay plain nodes: their own kernels are at least as fast */
  for (int32_t i = 0; rc == 0 && i < nn; i++)
    if (grp[i] >= 0 && groups[grp[i]].nmembers == 1) grp[i] = -1;
  /* members of each group in topological order */
  if (rc == 0) {
    start = calloc((size_t)ng + 2, sizeof *start);
    fill = calloc((size_t)ng + 2, sizeof *fill);
    members = malloc((size_t)(nn + 1) * sizeof *members);
    if (!start || !fill || !members) rc = -1;
  }
  for (int32_t i = 0; rc == 0 && i < nn; i++)
    if (grp[i] >= 0) start[grp[i] + 1]++;
  for (int32_t g = 0; rc == 0 && g < ng; g++) start[g + 1] += start[g];
  for (int32_t i = 0; rc == 0 && i < nn; i++)
    if (grp[i] >= 0) members[start[grp[i]] + fill[grp[i]]++] = i;
  /* emit */
  out->nin = t->nin;
  for (int32_t v = 0; rc == 0 && v < t->nin; v++) {
    const cz_value *cv = &t->vals[v];
    if (cz_tape_value(out, CZ_INPUT, v, cv->dtype, cv->shape, cv->ndim) != v) rc = -1;
    map[v] = v;
  }
  for (int32_t u = t->nin; rc == 0 && u < nv; u++) /* constants keep their order */
    if (t->vals[u].kind == CZ_CONST && (map[u] = cz_tape_const(out, t->consts[t->vals[u].ref])) < 0)
      rc = -1;
  for (int32_t i = 0; rc == 0 && i < nn; i++) {
    int32_t g = grp[i];
    if (g < 0) rc = copy_node(t, &t->nodes[i], out, map);
    else if (groups[g].root == i)
      rc = emit_group(t, out, map, grp, g, members + start[g], start[g + 1] - start[g], is_out,
                      &groups[g]);
  }
  if (rc == 0 && !(out->outs = malloc((size_t)(t->nouts ? t->nouts : 1) * sizeof(int32_t)))) rc = -1;
  for (int i = 0; rc == 0 && i < t->nouts; i++)
    if ((out->outs[i] = map[t->outs[i]]) < 0) rc = LZ_ASSERT(0) ? -1 : -1;
  out->nouts = t->nouts;
  out->n_user_outs = t->n_user_outs;
  free(lo_grp), free(lo_idx), free(other_min);
  free(grp), free(cg), free(map), free(is_out), free(groups), free(start), free(members), free(fill);
  if (rc) {
    cz_tape_free(out);
    if (!lz__has_error()) lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory fusing");
    return -1;
  }
  return 0;
}
