/* lz_export_function and the exporter: trace the closure as lz_compile does (the same tracer and
 * simplification, no fusion), then write the tapes, their parameters and their constants to one
 * file (format in export_impl.h and docs/export.md). */
#include "compile/export_impl.h"

#include <limits.h>
#include <stddef.h>
#include <stdlib.h>

#define OP "lz_export_function"

struct lz_exporter {
  char *path;
  lz_closure *f;
  bool shapeless;
  cz_tape *tapes;
  bool *shapeless_of; /* per tape */
  ex_names *kw_of;    /* per tape: the names of its last kw_of[i].n inputs */
  int ntapes, cap;
};

typedef struct bytes {
  unsigned char *p;
  size_t n, cap;
  bool oom;
} bytes;

static unsigned char *put(bytes *b, size_t n) {
  if (b->oom) return NULL;
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + n) cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = true;
      return NULL;
    }
    b->p = p, b->cap = cap;
  }
  unsigned char *at = b->p + b->n;
  b->n += n;
  return at;
}
static void put32(bytes *b, uint32_t v) {
  unsigned char *p = put(b, 4);
  if (p) lz__wr32(p, v);
}
static void put64(bytes *b, uint64_t v) {
  unsigned char *p = put(b, 8);
  if (p) lz__wr64(p, v);
}
static void put_sig(bytes *b, lz_dtype dt, const int *shape, int ndim) {
  unsigned char *p = put(b, 2);
  if (p) p[0] = (unsigned char)dt, p[1] = (unsigned char)ndim;
  for (int d = 0; d < ndim; d++) put32(b, (uint32_t)shape[d]);
}

lz_exporter *lz_exporter_new(const char *path, lz_closure *f, const lz_export_options *options) {
  if (!path || !f) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, OP, "%s is NULL", path ? "the function" : "path");
    return NULL;
  }
  lz_exporter *e = calloc(1, sizeof *e);
  size_t len = strlen(path) + 1;
  if (e) e->path = malloc(len);
  if (!e || !e->path) {
    free(e);
    lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
    return NULL;
  }
  memcpy(e->path, path, len);
  e->f = lz_closure_retain(f);
  e->shapeless = options && options->shapeless;
  return e;
}

static int call_f(void *ctx, lz_array *const *ph, int nin, lz_array **outs, int cap, int *n_user) {
  (void)cap;
  int k = lz_closure_call(ctx, ph, nin, outs);
  *n_user = k;
  return k;
}

/* Refuses a tape holding an op that cannot be stored, or (shapeless) one that cannot infer its
 * shapes again. */
static int check_tape(const cz_tape *t, bool shapeless) {
  for (int32_t i = 0; i < t->nnodes; i++) {
    int op = t->nodes[i].op;
    if (!ex_op_storable(op))
      return lz__error(LZ_ERROR_INVALID_ARGUMENT, OP, "op '%s' cannot be exported: %s",
                       lz__op(op)->name, cz_check_of(op) ? "its parameters hold a closure, a file "
                       "or a compiled kernel" : "the importer has no check for it");
    if (shapeless && !cz_op_infers_shape(op))
      return lz__error(LZ_ERROR_INVALID_ARGUMENT, OP, "shapeless export: op '%s' cannot infer "
                       "its output shape from new input shapes; export with fixed shapes "
                       "(one trace per shape)", lz__op(op)->name);
  }
  return 0;
}

static int add_trace(lz_exporter *e, lz_array *const *inputs, int n, ex_names *kw);

/* A copy of the keyword names (checked: non-empty text of at most EX_MAX_NAME bytes, distinct). */
static int copy_names(ex_names *to, const char *const *names, int n) {
  to->n = 0, to->name = NULL;
  if (n == 0) return 0;
  if (!names) return lz__error(LZ_ERROR_INVALID_ARGUMENT, OP, "%d keyword arguments without names", n);
  for (int i = 0; i < n; i++) {
    size_t len = names[i] ? strlen(names[i]) : 0;
    if (len == 0 || len > EX_MAX_NAME)
      return lz__error(LZ_ERROR_INVALID_ARGUMENT, OP, "keyword name %d is %s", i,
                       len ? "longer than 255 bytes" : "empty or NULL");
    for (int j = 0; j < i; j++)
      if (strcmp(names[i], names[j]) == 0)
        return lz__error(LZ_ERROR_INVALID_ARGUMENT, OP, "keyword '%s' is given twice", names[i]);
  }
  if (!(to->name = calloc((size_t)n, sizeof *to->name)))
    return lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  for (int i = 0; i < n; i++, to->n++) {
    size_t len = strlen(names[i]) + 1;
    if (!(to->name[i] = malloc(len))) {
      ex_names_free(to);
      return lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
    }
    memcpy(to->name[i], names[i], len);
  }
  return 0;
}

int lz_exporter_add(lz_exporter *e, lz_array *const *inputs, int n) {
  return lz_exporter_add_kw(e, inputs, n, NULL, NULL, 0);
}

int lz_exporter_add_kw(lz_exporter *e, lz_array *const *args, int nargs, const char *const *names,
                       lz_array *const *kwargs, int nkw) {
  if (!e) return lz__error(LZ_ERROR_INVALID_ARGUMENT, OP, "the exporter is NULL");
  if (nargs < 0 || (nargs > 0 && !args) || nkw < 0 || (nkw > 0 && !kwargs) ||
      nargs > INT_MAX / 2 - nkw)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, OP, "%d inputs and %d keyword inputs", nargs, nkw);
  int n = nargs + nkw;
  lz_array **inputs = malloc((size_t)(n ? n : 1) * sizeof *inputs);
  if (!inputs) return lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  for (int i = 0; i < n; i++) inputs[i] = i < nargs ? args[i] : kwargs[i - nargs];
  int rc = 0;
  for (int i = 0; i < n && rc == 0; i++)
    if (!inputs[i])
      rc = lz__error(LZ_ERROR_INVALID_ARGUMENT, OP, "input %d is NULL", i);
  ex_names kw = {0, NULL};
  if (rc == 0) rc = copy_names(&kw, names, nkw);
  if (rc == 0) rc = add_trace(e, inputs, n, &kw);
  if (rc != 0) ex_names_free(&kw);
  free(inputs);
  return rc;
}

/* Traces f on inputs[0..n) and keeps the tape with its keyword names (taken on success). */
static int add_trace(lz_exporter *e, lz_array *const *inputs, int n, ex_names *kw) {
  if (e->ntapes == e->cap) {
    int cap = e->cap ? e->cap * 2 : 4;
    cz_tape *t = realloc(e->tapes, (size_t)cap * sizeof *t);
    if (t) e->tapes = t;
    bool *s = t ? realloc(e->shapeless_of, (size_t)cap * sizeof *s) : NULL;
    if (s) e->shapeless_of = s;
    ex_names *k = s ? realloc(e->kw_of, (size_t)cap * sizeof *k) : NULL;
    if (!k) return lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
    e->kw_of = k, e->cap = cap;
  }
  cz_tape raw, simple;
  int n_user = -1;
  cz_trace_result r = cz_trace(&raw, inputs, n, n, call_f, e->f, &n_user);
  if (r == CZ_TRACE_UNSUPPORTED)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, OP, "op '%s' has parameters that cannot be saved "
                     "(a closure or an open file)", lz__op(raw.unsupported_op)->name);
  if (r != CZ_TRACE_OK) return -1;
  int rc = cz_simplify(&raw, &simple);
  cz_tape_free(&raw);
  if (rc) return -1;
  if (check_tape(&simple, e->shapeless)) {
    cz_tape_free(&simple);
    return -1;
  }
  e->shapeless_of[e->ntapes] = e->shapeless;
  e->kw_of[e->ntapes] = *kw;
  e->tapes[e->ntapes++] = simple;
  return 0;
}

static void exporter_free(lz_exporter *e) {
  for (int i = 0; i < e->ntapes; i++) cz_tape_free(&e->tapes[i]), ex_names_free(&e->kw_of[i]);
  free(e->tapes), free(e->shapeless_of), free(e->kw_of), free(e->path);
  lz_closure_free(e->f);
  free(e);
}

static uint64_t align_up(uint64_t x) { return (x + EX_ALIGN - 1) / EX_ALIGN * EX_ALIGN; }

/* The constants of every tape, each array once: fills `consts` (borrowed) and returns how many;
 * `index` maps array pointers to their position. */
static int32_t collect_consts(lz_exporter *e, cz_map *index, lz_array ***consts) {
  int32_t n = 0, cap = 0;
  *consts = NULL;
  for (int i = 0; i < e->ntapes; i++)
    for (int32_t j = 0; j < e->tapes[i].nconsts; j++) {
      lz_array *a = e->tapes[i].consts[j];
      if (cz_map_get(index, (uint64_t)(uintptr_t)a) >= 0) continue;
      if (n == cap) {
        cap = cap ? cap * 2 : 64;
        lz_array **d = realloc(*consts, (size_t)cap * sizeof *d);
        if (!d) return -1;
        *consts = d;
      }
      if (cz_map_put(index, (uint64_t)(uintptr_t)a, n)) return -1;
      (*consts)[n++] = a;
    }
  return n;
}

/* The metadata: op table, constant table, traces. */
static void build_meta(bytes *b, lz_exporter *e, lz_array **consts, int32_t nconsts,
                       const uint64_t *offsets, const cz_map *cindex) {
  int32_t opidx[LZ_OP_COUNT];
  int order[LZ_OP_COUNT];
  for (int i = 0; i < LZ_OP_COUNT; i++) opidx[i] = -1;
  uint32_t nops = 0;
  for (int i = 0; i < e->ntapes; i++)
    for (int32_t j = 0; j < e->tapes[i].nnodes; j++) {
      int op = e->tapes[i].nodes[j].op;
      if (opidx[op] < 0) order[nops] = op, opidx[op] = (int32_t)nops++;
    }
  put32(b, nops);
  for (uint32_t i = 0; i < nops; i++) {
    int op = order[i];
    const char *name = lz__op(op)->name;
    size_t len = strlen(name);
    put32(b, (uint32_t)len);
    unsigned char *p = put(b, len);
    if (p) memcpy(p, name, len);
    put32(b, (uint32_t)lz__op(op)->params_size);
  }
  put32(b, (uint32_t)nconsts);
  for (int32_t i = 0; i < nconsts; i++) {
    put_sig(b, consts[i]->dtype, consts[i]->shape, consts[i]->ndim);
    put64(b, offsets[i]);
  }
  put32(b, (uint32_t)e->ntapes);
  for (int i = 0; i < e->ntapes; i++) {
    const cz_tape *t = &e->tapes[i];
    put32(b, e->shapeless_of[i] ? EX_TRACE_SHAPELESS : 0);
    put32(b, (uint32_t)t->nin);
    for (int k = 0; k < t->nin; k++) put_sig(b, t->vals[k].dtype, t->vals[k].shape, t->vals[k].ndim);
    const ex_names *kw = &e->kw_of[i];
    put32(b, (uint32_t)kw->n);
    for (int k = 0; k < kw->n; k++) {
      size_t len = strlen(kw->name[k]);
      put32(b, (uint32_t)len);
      unsigned char *p = put(b, len);
      if (p) memcpy(p, kw->name[k], len);
    }
    /* Values are renumbered in file order: inputs, this trace's constants, node outputs. */
    int32_t *ren = malloc((size_t)(t->nvals ? t->nvals : 1) * sizeof *ren);
    if (!ren) {
      b->oom = true;
      return;
    }
    int32_t next = t->nin;
    for (int k = 0; k < t->nin; k++) ren[k] = k;
    put32(b, (uint32_t)t->nconsts);
    for (int32_t v = 0; v < t->nvals; v++)
      if (t->vals[v].kind == CZ_CONST) {
        ren[v] = t->nin + t->vals[v].ref;
        put32(b, (uint32_t)cz_map_get(cindex, (uint64_t)(uintptr_t)t->consts[t->vals[v].ref]));
      }
    next += t->nconsts;
    put32(b, (uint32_t)t->nnodes);
    for (int32_t j = 0; j < t->nnodes; j++) {
      const cz_node *nd = &t->nodes[j];
      put32(b, (uint32_t)opidx[nd->op]);
      put32(b, nd->nin);
      put32(b, nd->nout);
      for (int k = 0; k < nd->nin; k++) put32(b, (uint32_t)ren[nd->in[k]]);
      for (int k = 0; k < nd->nout; k++) {
        const cz_value *v = &t->vals[nd->out[k]];
        put_sig(b, v->dtype, v->shape, v->ndim);
        ren[nd->out[k]] = next++;
      }
      size_t psz = lz__op(nd->op)->params_size;
      unsigned char *p = put(b, psz);
      if (p && psz) {
        memcpy(p, nd->params, psz);
        if (ex_name_field(nd->op)) /* the name pointer is not data: stored as zero */
          memset(p + offsetof(lz_index_params, name), 0, sizeof(const char *));
      }
    }
    put32(b, (uint32_t)t->nouts);
    for (int k = 0; k < t->nouts; k++) put32(b, (uint32_t)ren[t->outs[k]]);
    free(ren);
  }
}

/* Writes the constants' bytes (row-major), each at its offset from the data start. */
static int write_data(FILE *fp, lz_array **consts, int32_t n, const uint64_t *offsets,
                      uint64_t data_start, const char *path) {
  static const unsigned char zeros[EX_ALIGN];
  uint64_t pos = data_start;
  for (int32_t i = 0; i < n; i++) {
    uint64_t at = data_start + offsets[i];
    if (lz__write_all(fp, zeros, (size_t)(at - pos), path, OP)) return -1;
    size_t nb = lz_array_nbytes(consts[i]);
    const void *d = nb ? lz_array_data(consts[i]) : NULL;
    if (nb && !d) return -1;
    if (lz__write_all(fp, d, nb, path, OP)) return -1;
    pos = at + nb;
  }
  return 0;
}

int lz_exporter_close(lz_exporter *e) {
  if (!e) return -1;
  if (e->ntapes == 0) {
    exporter_free(e);
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, OP, "no trace was added to the exporter");
  }
  cz_map cindex = {0};
  lz_array **consts = NULL;
  uint64_t *offsets = NULL;
  bytes meta = {0};
  int rc = 0;
  int32_t nconsts = collect_consts(e, &cindex, &consts);
  if (nconsts < 0 || !(offsets = malloc((size_t)(nconsts + 1) * sizeof *offsets)))
    rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  if (rc == 0 && nconsts && lz_eval_many(consts, (size_t)nconsts) != 0) rc = -1;
  uint64_t off = 0;
  for (int32_t i = 0; rc == 0 && i < nconsts; i++) {
    offsets[i] = off = align_up(off);
    off += lz_array_nbytes(consts[i]);
  }
  if (rc == 0) {
    build_meta(&meta, e, consts, nconsts, offsets, &cindex);
    if (meta.oom) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  }
  if (rc == 0) {
    unsigned char h[EX_HEADER_SIZE] = {0};
    memcpy(h, EX_MAGIC, 8);
    lz__wr32(h + 8, LZ_EXPORT_FORMAT_VERSION);
    lz__wr32(h + 12, 0);
    snprintf((char *)h + 16, 16, "%d.%d.%d", LZ_VERSION_MAJOR, LZ_VERSION_MINOR,
             LZ_VERSION_PATCH);
    uint64_t data_start = align_up(EX_HEADER_SIZE + meta.n);
    lz__wr64(h + 32, meta.n);
    lz__wr64(h + 40, data_start);
    char *tmp = NULL;
    FILE *fp = lz__save_begin(e->path, &tmp, OP);
    if (!fp) rc = -1;
    static const unsigned char zeros[EX_ALIGN];
    if (rc == 0) rc = lz__write_all(fp, h, sizeof h, e->path, OP);
    if (rc == 0) rc = lz__write_all(fp, meta.p, meta.n, e->path, OP);
    if (rc == 0)
      rc = lz__write_all(fp, zeros, (size_t)(data_start - EX_HEADER_SIZE - meta.n), e->path, OP);
    if (rc == 0) rc = write_data(fp, consts, nconsts, offsets, data_start, e->path);
    if (fp) rc = lz__save_end(fp, tmp, e->path, rc, OP);
  }
  free(meta.p), free(offsets), free(consts);
  cz_map_free(&cindex);
  exporter_free(e);
  return rc ? -1 : 0;
}

int lz_export_function(const char *path, lz_closure *f, lz_array *const *inputs, int n,
                       const lz_export_options *options) {
  return lz_export_function_kw(path, f, inputs, n, NULL, NULL, 0, options);
}

int lz_export_function_kw(const char *path, lz_closure *f, lz_array *const *args, int nargs,
                          const char *const *names, lz_array *const *kwargs, int nkw,
                          const lz_export_options *options) {
  lz_exporter *e = lz_exporter_new(path, f, options);
  if (!e) return -1;
  if (lz_exporter_add_kw(e, args, nargs, names, kwargs, nkw) != 0) {
    lz_exporter_close(e); /* also reports "no trace": keep the first error */
    return -1;
  }
  return lz_exporter_close(e);
}
