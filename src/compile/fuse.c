/* Fusion: groups of elementwise nodes (and the reduction they feed) become one fused node.
 *
 * Groups grow from consumers to producers, in reverse topological order: a node joins the
 * group of its consumers when every consumer is in that one group and it has the group's
 * iteration shape. So each group has a single exit (its root: the last node, whose value
 * leaves the group; other members may also be outputs of the function) and cannot form a cycle
 * with the rest of the graph: a path out of the group starts at the root, and every input of a
 * member was computed before the member. One linear sweep assigns groups, one writes the tape.
 *
 * Row groups: when a group would take in a per-row value of its rows (the keepdims or plain
 * result of a reduction over the last axis, or an elementwise op of such values), it becomes a
 * row group, provided its rows are of a length that stays in L1/L2 (ROW_MIN..ROW_MAX elements).
 * Its members are then elementwise ops over whole rows or over per-row values, reductions over
 * the last axis (sum, mean, max, min, var, std) and the broadcasts and reshapes between the two
 * forms; the fused kernel runs them one row at a time (fused_rows.c), so layer_norm, rms_norm,
 * softmax or logsumexp written with plain ops read their input from memory once. Longer or
 * shorter rows keep the plain rule: a reduction ends a group.
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
 * never join the group, and a row group takes no prologue. */
#include "compile/compile_impl.h"
#include "cpu/reduce.h"

#include <stdlib.h>

typedef struct group {
  int32_t root;
  int ndim;
  int shape[LZ_MAX_NDIM];
  int nmembers;
  int ext_estimate; /* operands the program will need, counted from above */
  int nseen;        /* distinct inputs and constants counted */
  int32_t seen[FZ_MAX_OPERANDS];
  bool red;
  bool row;   /* a row group (S = shape, rows along its last axis) */
  bool pend;  /* per-row values of rows whose length is not known yet (shape[-1] < 0) */
  int32_t mm; /* the matmul prologue's node, or -1 */
} group;

/* Rows of fewer elements cost more in per-row dispatch than the passes a row group saves; rows
 * of more no longer stay in L1/L2 with a few registers beside them. */
enum { ROW_MIN = 64, ROW_MAX = 16384 };

/* How a value's shape relates to a row group's shape S: S itself, S with the last axis kept
 * as 1 (a per-row value, keepdims) or removed (a per-row value without keepdims). */
enum { FORM_NONE, FORM_FULL, FORM_KEEP, FORM_NOKEEP };
static int form_of(const int *S, int nd, const cz_value *v) {
  size_t lead = nd > 0 ? (size_t)(nd - 1) * sizeof(int) : 0;
  if (v->ndim == nd && memcmp(v->shape, S, (size_t)nd * sizeof(int)) == 0) return FORM_FULL;
  if (nd < 1 || memcmp(v->shape, S, lead) != 0) return FORM_NONE;
  if (v->ndim == nd && v->shape[nd - 1] == 1) return FORM_KEEP;
  return v->ndim == nd - 1 ? FORM_NOKEEP : FORM_NONE;
}

enum { CG_UNSET = -1, CG_MIXED = -2, CG_NONE = -3 };

static fz_red red_kind(int op) {
  switch (op) {
  case LZ_OP_SUM:
    return FZ_RED_SUM;
  case LZ_OP_MEAN:
    return FZ_RED_MEAN;
  case LZ_OP_MAX:
    return FZ_RED_MAX;
  case LZ_OP_MIN:
    return FZ_RED_MIN;
  case LZ_OP_LOGSUMEXP:
    return FZ_RED_LSE;
  case LZ_OP_SOFTMAX:
    return FZ_RED_SOFTMAX;
  case LZ_OP_VAR:
    return FZ_RED_VAR;
  case LZ_OP_STD:
    return FZ_RED_STD;
  default:
    return FZ_RED_NONE;
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

static bool shape_is(const group *g, const cz_value *v) {
  return v->ndim == g->ndim && memcmp(v->shape, g->shape, (size_t)g->ndim * sizeof(int)) == 0;
}

/* A reduction a row group can hold: over the last axis only, of a floating input, with the
 * input's dtype (the row kernel reduces float16/bfloat16 in float32, as the unfused one). */
static bool row_red_ok(const cz_tape *t, const cz_node *n) {
  fz_red rk = red_kind(n->op);
  if (rk == FZ_RED_NONE || rk == FZ_RED_LSE || rk == FZ_RED_SOFTMAX || n->nin != 1 || n->nout != 1)
    return false;
  const cz_value *x = &t->vals[n->in[0]], *o = &t->vals[n->out[0]];
  lz_dtype d = x->dtype;
  if ((d != LZ_FLOAT32 && d != LZ_FLOAT64 && d != LZ_FLOAT16 && d != LZ_BFLOAT16) || o->dtype != d)
    return false;
  const lz_reduce_params *p = n->params;
  return x->ndim >= 1 && p->naxes == 1 && p->axes[0] == x->ndim - 1;
}

static bool row_len_ok(const group *g) {
  return g->ndim >= 1 && g->shape[g->ndim - 1] >= ROW_MIN && g->shape[g->ndim - 1] <= ROW_MAX;
}

/* Makes g a row group if it can be one. */
static bool to_row(const cz_tape *t, group *g) {
  if (g->row) return true;
  if (!row_len_ok(g) || (g->red && !row_red_ok(t, &t->nodes[g->root]))) return false;
  g->red = false, g->row = true;
  return true;
}

/* A group of per-row values whose rows' length is still unknown (it met a reshape between
 * the two per-row forms, as in log(sum(exp(x - m), -1)) + squeeze(m)): per-row members join,
 * and the first reduction over the rows tells their length and makes it a row group. */
static bool joins_pending(const cz_tape *t, group *g, const cz_node *n) {
  const cz_value *ov = &t->vals[n->out[0]];
  int nd = g->ndim, fo = form_of(g->shape, nd, ov);
  if (elem_ok(t, n)) return fo == FORM_KEEP || fo == FORM_NOKEEP;
  if (n->nin != 1) return false;
  const cz_value *iv = &t->vals[n->in[0]];
  if (n->op == LZ_OP_RESHAPE) {
    int fi = form_of(g->shape, nd, iv);
    return iv->dtype == ov->dtype && (fi == FORM_KEEP || fi == FORM_NOKEEP) &&
           (fo == FORM_KEEP || fo == FORM_NOKEEP);
  }
  if (!row_red_ok(t, n) || iv->ndim != nd ||
      memcmp(iv->shape, g->shape, (size_t)(nd - 1) * sizeof(int)) != 0)
    return false;
  group ng = *g;
  ng.shape[nd - 1] = iv->shape[nd - 1];
  if (!row_len_ok(&ng)) return false;
  ng.pend = false, ng.row = true;
  *g = ng;
  return true;
}

/* An elementwise group of per-row values without their last axis meets the reshape that
 * removes it (or of values with it, one that adds it): the group's rows become pending. */
static bool starts_pending(const cz_tape *t, group *g, const cz_node *n) {
  const cz_value *iv = &t->vals[n->in[0]], *ov = &t->vals[n->out[0]];
  int nd = g->ndim;
  if (g->red || g->row || n->op != LZ_OP_RESHAPE || iv->dtype != ov->dtype || ov->ndim != nd ||
      memcmp(ov->shape, g->shape, (size_t)nd * sizeof(int)) != 0)
    return false;
  if (iv->ndim == nd + 1 && iv->shape[nd] == 1 &&
      memcmp(iv->shape, g->shape, (size_t)nd * sizeof(int)) == 0) {
    g->shape[nd] = -1, g->ndim = nd + 1;
  } else if (nd >= 1 && iv->ndim == nd - 1 && g->shape[nd - 1] == 1 &&
             memcmp(iv->shape, g->shape, (size_t)(nd - 1) * sizeof(int)) == 0) {
    g->shape[nd - 1] = -1;
  } else {
    return false;
  }
  g->pend = true;
  return true;
}

/* Whether node n (all of whose consumers are in g) joins g, turning g into a row group or
 * giving it the shape of the rows its per-row values come from when that is what it takes. */
static bool joins(const cz_tape *t, group *g, const cz_node *n, const bool *across) {
  if (n->nout != 1 || g->nmembers + 3 >= FZ_MAX_STEPS) return false;
  const cz_value *ov = &t->vals[n->out[0]];
  /* a value of lower rank than a reader that is not a reshape (members have the group's rank
   * otherwise): a per-row value without its last axis broadcast against the rows, as in
   * x - sum(x, -1) with as many rows as columns, lines up with the columns, not the rows */
  if (across[n->out[0]]) return false;
  /* a group with a matmul prologue takes plain elementwise ops of its own shape only */
  if (g->mm >= 0) return elem_ok(t, n) && shape_is(g, ov);
  if (g->pend) return joins_pending(t, g, n);
  if (elem_ok(t, n)) {
    if (g->ndim == ov->ndim && memcmp(ov->shape, g->shape, (size_t)g->ndim * sizeof(int)) == 0)
      return true;
    int f = form_of(g->shape, g->ndim, ov);
    return (f == FORM_KEEP || f == FORM_NOKEEP) && to_row(t, g);
  }
  if (n->nin != 1) return false;
  const cz_value *iv = &t->vals[n->in[0]];
  if (row_red_ok(t, n)) {
    if (form_of(g->shape, g->ndim, iv) == FORM_FULL) return to_row(t, g);
    /* an elementwise group of per-row values (logsumexp's tail): its rows are the input's */
    cz_value gv = {.ndim = g->ndim};
    memcpy(gv.shape, g->shape, sizeof gv.shape);
    int f = form_of(iv->shape, iv->ndim, &gv);
    if (g->red || g->row || (f != FORM_KEEP && f != FORM_NOKEEP)) return false;
    group ng = *g;
    ng.ndim = iv->ndim;
    memcpy(ng.shape, iv->shape, (size_t)iv->ndim * sizeof(int));
    if (!row_len_ok(&ng)) return false;
    ng.row = true;
    *g = ng;
    return true;
  }
  if ((n->op != LZ_OP_BROADCAST_TO && n->op != LZ_OP_RESHAPE) || iv->dtype != ov->dtype ||
      lz_dtype_size(ov->dtype) > 8)
    return false;
  if (starts_pending(t, g, n)) return true;
  int fi = form_of(g->shape, g->ndim, iv), fo = form_of(g->shape, g->ndim, ov);
  bool per_row = (fi == FORM_KEEP || fi == FORM_NOKEEP);
  if (n->op == LZ_OP_BROADCAST_TO ? fi == FORM_KEEP && fo == FORM_FULL
                                  : per_row && (fo == FORM_KEEP || fo == FORM_NOKEEP))
    return to_row(t, g);
  return false;
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

/* ---- building a program ---- */

/* A step's op, dtypes, element sizes and its own copy of the node's params (ps bytes); false
 * when that copy cannot be allocated. */
static bool step_fill(fz_step *st, const cz_node *n, lz_dtype dto, const lz_dtype *dts, size_t ps) {
  st->op = n->op, st->nin = (uint8_t)n->nin;
  st->dt_out = dto, st->dt_in = dts[0];
  st->isz[0] = (uint8_t)lz_dtype_size(dto);
  for (int j = 0; j < n->nin; j++) st->isz[j + 1] = (uint8_t)lz_dtype_size(dts[j]);
  if (ps && !(st->ctx = malloc(ps))) return false;
  if (ps) memcpy(st->ctx, n->params, ps);
  return true;
}

typedef struct builder {
  const cz_tape *t;
  const int32_t *grp;
  int32_t g;
  fz_prog *p;
  int32_t ext[FZ_MAX_OPERANDS];       /* value ids of the node's inputs */
  uint8_t ext_frame[FZ_MAX_OPERANDS]; /* row groups: how each is aligned (FZ_FRAME_*) */
  int next;
  int32_t el[FZ_MAX_OPERANDS]; /* value ids of the elementwise outputs */
  int nel;
  int32_t mm_val; /* the matmul prologue's product (an operand, not a step), or -1 */
} builder;

static bool member_value(const builder *b, int32_t v) {
  const cz_value *cv = &b->t->vals[v];
  return cv->kind == CZ_NODE && b->grp[cv->ref] == b->g && v != b->mm_val;
}

static int ext_index_framed(builder *b, int32_t v, uint8_t frame) {
  for (int i = 0; i < b->next; i++)
    if (b->ext[i] == v && b->ext_frame[i] == frame) return i;
  if (b->nel + b->next >= FZ_MAX_OPERANDS) return -1;
  b->ext[b->next] = v;
  b->ext_frame[b->next] = frame;
  return b->next++;
}

static int ext_index(builder *b, int32_t v) { return ext_index_framed(b, v, FZ_FRAME_FULL); }

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
    if (!step_fill(st, n, t->vals[v].dtype, dts, lz__op(n->op)->params_size)) ok = false;
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

/* Builds the program of a row group (members mem[0..nm) in topological order, root last): a
 * step per member, over whole rows or over per-row values; values leaving the group are
 * outputs; row values between steps live in row-long registers, per-row values in slots.
 * Returns NULL when the group does not fit a program. */
static bool pairable(const fz_step *st) {
  if (st->kind != FZ_LOOP || st->scalar || st->nin != 2 || st->dt_out != LZ_FLOAT32 ||
      st->dt_in != LZ_FLOAT32 || st->isz[2] != 4)
    return false;
  return st->op == LZ_OP_ADD || st->op == LZ_OP_SUBTRACT || st->op == LZ_OP_MULTIPLY;
}

static bool loc_eq(fz_loc a, fz_loc b) { return a.kind == b.kind && a.idx == b.idx; }

/* Two float32 add/subtract/multiply steps over the row, the first's register read only by the
 * second, become one FZ_PAIR step: one pass instead of two, rounded as the two steps round. */
static void pair_steps(fz_prog *p) {
  for (int k = 0; k + 1 < p->nsteps; k++) {
    fz_step *a = &p->steps[k], *b = &p->steps[k + 1];
    if (!pairable(a) || !pairable(b) || a->out.kind != FZ_REG) continue;
    int uses = 0, at = -1;
    for (int j = 0; j < 2; j++)
      if (loc_eq(b->in[j], a->out)) uses++, at = j;
    for (int q = k + 2; q < p->nsteps && uses == 1; q++) { /* read later: not this pair's */
      const fz_step *u = &p->steps[q];
      for (int j = 0; j < u->nin; j++)
        if (loc_eq(u->in[j], a->out)) uses++;
      if ((u->has_mean && loc_eq(u->mean, a->out)) || loc_eq(u->out, a->out)) break;
    }
    if (uses != 1) continue;
    fz_step m = *a;
    m.kind = FZ_PAIR, m.nin = 3, m.op2 = b->op, m.pair_rev = at == 1;
    m.in[2] = b->in[1 - at], m.isz[3] = 4;
    m.out = b->out;
    free(b->ctx);
    *b = m;
    memmove(a, a + 1, (size_t)(p->nsteps - k - 1) * sizeof *a);
    p->nsteps--;
  }
}

/* A float32 square (x * x) read only by the sum or mean that follows becomes that reduction's
 * sum of squares (the row kernels' sum of (x - 0)^2, summed in the same blocks; the compiler
 * may fuse a product into its addition), one pass instead of two: rms norm's mean(x * x). */
static void fold_squares(fz_prog *p) {
  for (int k = 0; k + 1 < p->nsteps; k++) {
    fz_step *a = &p->steps[k], *b = &p->steps[k + 1];
    bool sq = a->kind == FZ_LOOP && !a->scalar && a->dt_out == LZ_FLOAT32 &&
              a->dt_in == LZ_FLOAT32 && a->out.kind == FZ_REG &&
              ((a->op == LZ_OP_SQUARE && a->nin == 1) ||
               (a->op == LZ_OP_MULTIPLY && a->nin == 2 && loc_eq(a->in[0], a->in[1])));
    if (!sq || b->kind != FZ_REDUCE || (b->op != LZ_OP_SUM && b->op != LZ_OP_MEAN) ||
        b->dt_in != LZ_FLOAT32 || !loc_eq(b->in[0], a->out))
      continue;
    bool later = false; /* the squares read again */
    for (int q = k + 2; q < p->nsteps && !later; q++) {
      const fz_step *u = &p->steps[q];
      for (int j = 0; j < u->nin; j++) later |= loc_eq(u->in[j], a->out);
      if (loc_eq(u->out, a->out)) break;
    }
    if (later) continue;
    b->in[0] = a->in[0], b->isz[1] = a->isz[1], b->squares = true;
    free(a->ctx);
    memmove(a, a + 1, (size_t)(p->nsteps - k - 1) * sizeof *a);
    p->nsteps--;
  }
}

/* The order of a row group's steps: reductions and per-row steps as early as they can run,
 * steps over the row as late as they can (just before their first reader), so that a step over
 * the row lands in the segment of the kernel that reads it and its value needs one tile, not a
 * stored row (layer norm's x - mean, taken before the variance, is used only after it).
 * Returns the number ordered (nm) into ord. */
static int row_order(const cz_tape *t, const int32_t *mem, int nm, const group *gr, int32_t *ord) {
  bool done[FZ_MAX_STEPS + 1] = {false};
  int no = 0, stack[FZ_MAX_STEPS + 1];
  for (int i = 0; i < nm; i++) {
    const cz_node *n = &t->nodes[mem[i]];
    if (red_kind(n->op) == FZ_RED_NONE &&
        form_of(gr->shape, gr->ndim, &t->vals[n->out[0]]) == FORM_FULL)
      continue; /* deferred */
    int sp = 0;
    stack[sp++] = i;
    while (sp > 0) { /* i after its deferred producers, each after its own */
      int j = stack[sp - 1], next = -1;
      const cz_node *nj = &t->nodes[mem[j]];
      for (int q = 0; q < nj->nin && next < 0; q++)
        for (int k = 0; k < j && next < 0; k++)
          if (!done[k] && t->nodes[mem[k]].out[0] == nj->in[q]) next = k;
      if (next >= 0 && sp <= FZ_MAX_STEPS) {
        stack[sp++] = next;
        continue;
      }
      sp--;
      if (!done[j]) done[j] = true, ord[no++] = mem[j];
    }
  }
  for (int i = 0; i < nm; i++)
    if (!done[i]) ord[no++] = mem[i];
  return no;
}

static fz_prog *build_row_prog(builder *b, const int32_t *mem_in, int nm, const bool *is_out,
                               const group *gr) {
  const cz_tape *t = b->t;
  int32_t mem[FZ_MAX_STEPS + 1];
  if (nm > FZ_MAX_STEPS || row_order(t, mem_in, nm, gr, mem) != nm) return NULL;
  int32_t root_v = t->nodes[mem_in[nm - 1]].out[0];
  fz_prog *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  atomic_init(&p->refs, 1);
  p->ndim = gr->ndim, p->rowwise = true;
  memcpy(p->shape, gr->shape, sizeof p->shape);
  b->p = p, b->next = 0, b->nel = 0;
  bool ok = nm + 2 <= FZ_MAX_STEPS;
  int form[FZ_MAX_STEPS + 1], last[FZ_MAX_STEPS + 1];
  for (int i = 0; ok && i < nm; i++) {
    int32_t v = t->nodes[mem[i]].out[0];
    form[i] = form_of(gr->shape, gr->ndim, &t->vals[v]);
    last[i] = -1;
    ok = form[i] != FORM_NONE;
    if (ok && (is_out[v] || v == root_v)) {
      ok = b->nel < FZ_MAX_OPERANDS;
      if (ok)
        p->frame[b->nel] = form[i] == FORM_NOKEEP ? FZ_FRAME_NOKEEP
                           : form[i] == FORM_KEEP ? FZ_FRAME_KEEP
                                                  : FZ_FRAME_FULL;
      if (ok) b->el[b->nel++] = v;
    }
  }
  p->nel = b->nel;
  int reg_isz = 1;
  fz_loc loc[FZ_MAX_STEPS + 1];
  bool reg_busy[FZ_MAX_STEPS + 1] = {false}, scal_busy[FZ_MAX_STEPS + 1] = {false};
  for (int i = 0; ok && i < nm; i++) /* last reader of each member value */
    for (int j = 0; j < t->nodes[mem[i]].nin; j++)
      for (int k = 0; k < i; k++)
        if (t->nodes[mem[k]].out[0] == t->nodes[mem[i]].in[j]) last[k] = i;
  for (int i = 0; ok && i < nm; i++) {
    const cz_node *n = &t->nodes[mem[i]];
    fz_step *st = &p->steps[p->nsteps];
    memset(st, 0, sizeof *st);
    lz_dtype dts[3];
    bool reshape = n->op == LZ_OP_RESHAPE;
    for (int j = 0; ok && j < n->nin; j++) {
      int32_t v = n->in[j];
      dts[j] = t->vals[v].dtype;
      if (member_value(b, v)) {
        int k = 0;
        while (t->nodes[mem[k]].out[0] != v) k++;
        /* a per-row value without its last axis broadcasts against the rows' leading axes,
         * not along them: only steps of the same form (or a reshape) may read it */
        ok = form[k] != FORM_NOKEEP || form[i] == FORM_NOKEEP || reshape;
        st->in[j] = loc[k];
      } else {
        int fi = reshape ? form_of(gr->shape, gr->ndim, &t->vals[v]) : form[i];
        int e = ext_index_framed(b, v, fi == FORM_NOKEEP ? FZ_FRAME_NOKEEP : FZ_FRAME_FULL);
        ok = e >= 0;
        st->in[j] = (fz_loc){FZ_OPND, (int16_t)(FZ_MAX_OPERANDS + e)}; /* fixed up below */
      }
    }
    int32_t v = n->out[0];
    lz_dtype dto = t->vals[v].dtype;
    if (!ok) break;
    size_t ps = lz__op(n->op)->params_size;
    if (red_kind(n->op) != FZ_RED_NONE) {
      st->kind = FZ_REDUCE;
      /* var/std of a row whose mean an earlier step took (layer norm's mean and var): the
       * mean is reused, the same float32/float64 value the var would compute */
      for (int k = 0; k < i && (n->op == LZ_OP_VAR || n->op == LZ_OP_STD); k++) {
        const cz_node *q = &t->nodes[mem[k]];
        if (q->op == LZ_OP_MEAN && q->in[0] == n->in[0] &&
            (dts[0] == LZ_FLOAT32 || dts[0] == LZ_FLOAT64))
          st->has_mean = true, st->mean = loc[k];
      }
    } else if (n->op == LZ_OP_BROADCAST_TO || reshape) {
      /* a reshape between the per-row forms copies one value per row whatever the rows; the
       * length a broadcast gives its rows may come from nowhere else */
      st->kind = FZ_COPY, ps = 0;
      if (!reshape) p->fixed_shape = true;
    } else if (!fz_step_supported(n->op, dts, n->nin, dto, st)) {
      ok = false;
      break;
    }
    st->scalar = form[i] != FORM_FULL;
    if (!step_fill(st, n, dto, dts, ps)) ok = false;
    p->nsteps++;
    int el = -1;
    for (int k = 0; k < b->nel; k++)
      if (b->el[k] == v) el = k;
    bool *busy = form[i] == FORM_FULL ? reg_busy : scal_busy;
    if (el >= 0) {
      loc[i] = (fz_loc){FZ_OPND, (int16_t)el};
    } else {
      int r = 0;
      while (busy[r]) r++;
      busy[r] = true;
      if (form[i] == FORM_FULL) {
        loc[i] = (fz_loc){FZ_REG, (int16_t)r};
        if (r + 1 > p->nregs) p->nregs = r + 1;
        if (st->isz[0] > reg_isz) reg_isz = st->isz[0];
      } else {
        loc[i] = (fz_loc){FZ_SCAL, (int16_t)r};
        if (r + 1 > p->nscal) p->nscal = r + 1;
      }
    }
    st->out = loc[i];
    /* registers whose last reader was this step; slots are never reused, since the kernel
     * runs the per-row steps of a segment before its steps over the row */
    for (int k = 0; k < i; k++)
      if (last[k] == i && loc[k].kind == FZ_REG) reg_busy[loc[k].idx] = false;
  }
  p->reg_isz = reg_isz;
  if (ok) fold_squares(p), pair_steps(p);
  for (int s = 0; ok && s < p->nsteps; s++) { /* inputs come after the outputs */
    fz_step *st = &p->steps[s];
    for (int j = 0; j < st->nin; j++)
      if (st->in[j].kind == FZ_OPND && st->in[j].idx >= FZ_MAX_OPERANDS)
        st->in[j].idx = (int16_t)(st->in[j].idx - FZ_MAX_OPERANDS + b->nel);
  }
  if (ok && b->nel + b->next <= FZ_MAX_OPERANDS)
    for (int e = 0; e < b->next; e++) p->frame[b->nel + e] = b->ext_frame[e];
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
  fz_prog *p = gr->row ? build_row_prog(&b, mem, nel_nm, is_out, gr)
                       : build_prog(&b, mem, nel_nm, is_out, gr);
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
  bool *across = calloc((size_t)nv + 1, sizeof *across); /* read by a higher-rank non-reshape */
  group *groups = malloc((size_t)(nn + 1) * sizeof *groups);
  int32_t *start = NULL, *members = NULL, *fill = NULL;
  int32_t ng = 0;
  int rc = grp && cg && map && is_out && across && groups && lo_grp && lo_idx && other_min ? 0 : -1;
  for (int32_t i = 0; rc == 0 && i < nn; i++) {
    const cz_node *n = &t->nodes[i];
    for (int j = 0; j < n->nin && n->nout > 0 && n->op != LZ_OP_RESHAPE; j++)
      if (t->vals[n->out[0]].ndim > t->vals[n->in[j]].ndim) across[n->in[j]] = true;
  }
  for (int32_t v = 0; rc == 0 && v < nv; v++) {
    cg[v] = CG_UNSET, map[v] = -1;
    lo_grp[v] = CG_UNSET, lo_idx[v] = -1, other_min[v] = INT32_MAX;
  }
  for (int i = 0; rc == 0 && i < t->nouts; i++) is_out[t->outs[i]] = true;
  /* reverse sweep: assign groups */
  for (int32_t i = nn - 1; rc == 0 && i >= 0; i--) {
    const cz_node *n = &t->nodes[i];
    grp[i] = -1;
    int32_t o = n->nout == 1 ? n->out[0] : -1;
    int32_t cgi = o >= 0 ? cg[o] : CG_NONE;
    /* an elementwise value read outside its consumers' group too, but only after the
     * group's root, joins it and is stored by the fused node */
    bool escapes = o >= 0 && cgi < 0 && elem_ok(t, n) && lo_grp[o] >= 0 &&
                   other_min[o] > groups[lo_grp[o]].root;
    if (escapes) cgi = lo_grp[o];
    if (cgi >= 0 &&
        groups[cgi].ext_estimate + added_operands(t, &groups[cgi], n) + escapes <
            FZ_MAX_OPERANDS - 2 &&
        joins(t, &groups[cgi], n, across)) {
      grp[i] = cgi;
      groups[cgi].nmembers++;
      groups[cgi].ext_estimate += added_operands(t, &groups[cgi], n) + escapes;
      note_inputs(t, &groups[cgi], n);
      if (escapes) is_out[o] = true; /* stored by the fused node */
    } else if (elem_ok(t, n)) {
      const cz_value *ov = &t->vals[n->out[0]];
      group *g = &groups[ng];
      g->root = i, g->ndim = ov->ndim, g->nmembers = 1, g->red = false, g->row = false;
      g->pend = false, g->nseen = 0, g->mm = -1;
      g->ext_estimate = 2 + added_operands(t, g, n); /* + its output */
      note_inputs(t, g, n);
      memcpy(g->shape, ov->shape, (size_t)ov->ndim * sizeof(int));
      grp[i] = ng++;
    } else if (red_ok(t, n)) {
      const cz_value *iv = &t->vals[n->in[0]];
      group *g = &groups[ng];
      g->root = i, g->ndim = iv->ndim, g->nmembers = 1, g->red = true, g->row = false;
      g->pend = false, g->ext_estimate = 2, g->nseen = 0, g->mm = -1;
      note_inputs(t, g, n);
      memcpy(g->shape, iv->shape, (size_t)iv->ndim * sizeof(int));
      grp[i] = ng++;
    } else if (epilogue && mm_ok(t, n)) {
      int32_t c = cg[o];
      bool esc = c < 0 && lo_grp[o] >= 0 && other_min[o] > groups[lo_grp[o]].root;
      if (esc) c = lo_grp[o];
      if (c >= 0 && !groups[c].red && !groups[c].row && !groups[c].pend && groups[c].mm < 0 &&
          shape_is(&groups[c], &t->vals[o]) && groups[c].nmembers + 4 < FZ_MAX_STEPS &&
          groups[c].ext_estimate + 1 < FZ_MAX_OPERANDS - 2) {
        grp[i] = c;
        groups[c].mm = i;
        groups[c].nmembers++;
        groups[c].ext_estimate++;
        if (esc) is_out[o] = true; /* stored by the fused node */
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
  /* singletons stay plain nodes: their own kernels are at least as fast; so do the members of
   * a group whose rows stayed unknown */
  for (int32_t i = 0; rc == 0 && i < nn; i++)
    if (grp[i] >= 0 && (groups[grp[i]].nmembers == 1 || groups[grp[i]].pend)) grp[i] = -1;
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
    if (g < 0)
      rc = copy_node(t, &t->nodes[i], out, map);
    else if (groups[g].root == i)
      rc = emit_group(t, out, map, grp, g, members + start[g], start[g + 1] - start[g], is_out,
                      &groups[g]);
  }
  if (rc == 0 && !(out->outs = malloc((size_t)(t->nouts ? t->nouts : 1) * sizeof(int32_t))))
    rc = -1;
  for (int i = 0; rc == 0 && i < t->nouts; i++)
    if ((out->outs[i] = map[t->outs[i]]) < 0) rc = LZ_ASSERT(0) ? -1 : -1;
  out->nouts = t->nouts;
  out->n_user_outs = t->n_user_outs;
  free(lo_grp), free(lo_idx), free(other_min);
  free(grp), free(cg), free(map), free(is_out), free(across), free(groups), free(start),
      free(members), free(fill);
  if (rc) {
    cz_tape_free(out);
    if (!lz__has_error()) lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_compile", "out of memory fusing");
    return -1;
  }
  return 0;
}
