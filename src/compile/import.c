/* lz_import_function: read an exported function (format in export_impl.h, docs/export.md) into
 * tapes and replay them as compile does. The file is untrusted: every count is checked against
 * the bytes that remain, every op name against the registry and its parameter size, every dtype,
 * shape and size, every constant's bytes against the file, and every edge (a node reads only
 * values defined before it, so the graph has no cycle). Constants become lazy LOAD arrays. */
#include "compile/export_impl.h"
#include "compile/import_check.h"
#include "transforms/transforms_impl.h" /* lz__closure_ctx */

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>

#define OP "lz_import_function"

typedef struct ex_trace {
  cz_tape tape;
  bool shapeless;
  ex_names kw; /* names of the last kw.n inputs (format version 2) */
} ex_trace;

typedef struct imported {
  char *path;
  ex_trace *tr;
  int ntr;
  lz_array **consts; /* strong references, shared by the traces */
  int32_t nconsts;
} imported;

typedef struct cursor {
  const unsigned char *p;
  size_t n, pos;
  const char *path;
  bool failed;
  uint32_t version;
} cursor;

static int bad(cursor *c, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  c->failed = true;
  return lz__error(LZ_ERROR_IO, OP, "'%s': %s", c->path, msg);
}

static size_t left(const cursor *c) { return c->n - c->pos; }

static const unsigned char *take(cursor *c, size_t k) {
  if (c->failed) return NULL;
  if (k > left(c)) {
    bad(c, "truncated metadata (needs %zu bytes at offset %zu, has %zu)", k,
        (size_t)EX_HEADER_SIZE + c->pos, left(c));
    return NULL;
  }
  const unsigned char *p = c->p + c->pos;
  c->pos += k;
  return p;
}

static uint32_t get32(cursor *c) {
  const unsigned char *p = take(c, 4);
  return p ? lz__rd32(p) : 0;
}

static uint64_t get64(cursor *c) {
  const unsigned char *p = take(c, 8);
  return p ? lz__rd64(p) : 0;
}

/* A count of entries of at least `min_bytes` each: more than the bytes left is an error. */
static int64_t get_count(cursor *c, size_t min_bytes, uint32_t limit, const char *what) {
  uint32_t k = get32(c);
  if (c->failed) return -1;
  if (k > limit || (size_t)k > left(c) / min_bytes) {
    bad(c, "%u %s cannot fit in the %zu bytes left", k, what, left(c));
    return -1;
  }
  return k;
}

static int get_sig(cursor *c, lz_dtype *dt, int *shape, int *ndim, const char *what) {
  const unsigned char *p = take(c, 2);
  if (!p) return -1;
  if (p[0] >= LZ_DTYPE_COUNT) return bad(c, "%s has an unknown dtype %u", what, p[0]);
  if (p[1] > LZ_MAX_NDIM) return bad(c, "%s has %u dims (at most %d)", what, p[1], LZ_MAX_NDIM);
  *dt = (lz_dtype)p[0], *ndim = p[1];
  int64_t size = 1;
  for (int d = 0; d < *ndim; d++) {
    uint32_t v = get32(c);
    if (c->failed) return -1;
    if (v > INT32_MAX) return bad(c, "%s has a negative dim", what);
    shape[d] = (int)v;
    if (v && size > INT64_MAX / 16 / (int64_t)v) return bad(c, "%s is too large", what);
    size *= v;
  }
  return 0;
}

/* The op named by the next table entry: known, with the parameter size of this library. */
static int get_op(cursor *c) {
  uint32_t len = get32(c);
  if (c->failed) return -1;
  if (len == 0 || len > 64) return bad(c, "an op name of %u bytes", len);
  const unsigned char *name = take(c, len);
  uint32_t psz = get32(c);
  if (c->failed) return -1;
  for (uint32_t i = 0; i < len; i++)
    if (name[i] < 0x20 || name[i] > 0x7e) return bad(c, "an op name that is not text");
  for (int op = 0; op < LZ_OP_COUNT; op++) {
    const lz_op_def *d = lz__op(op);
    if (!d || strlen(d->name) != len || memcmp(d->name, name, len) != 0) continue;
    if (!ex_op_storable(op)) return bad(c, "op '%s' cannot be imported", d->name);
    if (d->params_size != psz)
      return bad(c, "op '%s' has %u bytes of parameters in the file, %zu in this library",
                 d->name, psz, d->params_size);
    return op;
  }
  return bad(c, "unknown op '%.*s'", (int)len, (const char *)name);
}

static int read_node(cursor *c, cz_tape *t, const int *ops, uint32_t nops) {
  uint32_t oi = get32(c), nin = get32(c), nout = get32(c);
  if (c->failed) return -1;
  if (oi >= nops) return bad(c, "op index %u (the table has %u)", oi, nops);
  int op = ops[oi];
  const char *name = lz__op(op)->name;
  if (nout < 1 || nout > LZ_MAX_OUTPUTS) return bad(c, "op '%s' has %u outputs", name, nout);
  if (nin > UINT16_MAX || nin > left(c) / 4) return bad(c, "op '%s' has %u inputs", name, nin);
  int32_t *in = malloc((nin ? nin : 1) * sizeof *in);
  if (!in) return lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  int rc = 0;
  for (uint32_t i = 0; i < nin && rc == 0; i++) {
    uint32_t v = get32(c);
    if (c->failed) rc = -1;
    else if (v >= (uint32_t)t->nvals)
      rc = bad(c, "op '%s' reads value %u, defined %s", name, v, "later or never");
    else in[i] = (int32_t)v;
  }
  lz_dtype dts[LZ_MAX_OUTPUTS];
  int shapes[LZ_MAX_OUTPUTS][LZ_MAX_NDIM], nds[LZ_MAX_OUTPUTS];
  const int *sp[LZ_MAX_OUTPUTS];
  for (uint32_t k = 0; k < nout && rc == 0; k++) {
    rc = get_sig(c, &dts[k], shapes[k], &nds[k], "an output");
    sp[k] = shapes[k];
  }
  size_t psz = lz__op(op)->params_size;
  const unsigned char *praw = rc == 0 ? take(c, psz) : NULL;
  if (rc == 0 && psz && !praw) rc = -1;
  void *params = NULL;
  if (rc == 0 && psz) {
    params = malloc(psz);
    if (!params) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
    else {
      memcpy(params, praw, psz);
      if (ex_name_field(op)) ((lz_index_params *)params)->name = ex_name_field(op);
    }
  }
  int32_t idx = -1;
  if (rc == 0) {
    idx = cz_tape_node(t, op, params, in, (int)nin, (int)nout, dts, sp, nds);
    if (idx < 0) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  }
  free(in), free(params);
  if (rc == 0 && cz_check_node(OP, c->path, t, idx) != 0) c->failed = true, rc = -1;
  return rc;
}

/* The keyword names of a trace (version 2): at most nin, each 1 to EX_MAX_NAME bytes of
 * printable text, distinct. */
static int read_names(cursor *c, ex_names *kw, int nin) {
  int64_t n = get_count(c, 5, (uint32_t)nin, "keyword names");
  if (n < 0) return -1;
  if (n && !(kw->name = calloc((size_t)n, sizeof *kw->name)))
    return lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  for (int64_t i = 0; i < n; i++) {
    uint32_t len = get32(c);
    if (c->failed) return -1;
    if (len == 0 || len > EX_MAX_NAME) return bad(c, "a keyword name of %u bytes", len);
    const unsigned char *p = take(c, len);
    if (!p) return -1;
    for (uint32_t j = 0; j < len; j++)
      if (p[j] < 0x20 || p[j] > 0x7e) return bad(c, "a keyword name that is not text");
    if (!(kw->name[i] = malloc(len + 1))) return lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
    memcpy(kw->name[i], p, len), kw->name[i][len] = 0;
    kw->n++;
    for (int64_t j = 0; j < i; j++)
      if (strcmp(kw->name[j], kw->name[i]) == 0) return bad(c, "keyword '%s' twice", kw->name[i]);
  }
  return 0;
}

static int read_trace(cursor *c, ex_trace *tr, const int *ops, uint32_t nops, lz_array **consts,
                      int32_t nconsts) {
  cz_tape *t = &tr->tape;
  uint32_t flags = get32(c);
  if (c->failed) return -1;
  if (flags & ~(uint32_t)EX_TRACE_SHAPELESS) return bad(c, "unknown trace flags 0x%x", flags);
  tr->shapeless = flags & EX_TRACE_SHAPELESS;
  int64_t nin = get_count(c, 2, UINT16_MAX, "inputs");
  if (nin < 0) return -1;
  t->nin = (int)nin;
  for (int64_t i = 0; i < nin; i++) {
    lz_dtype dt;
    int shape[LZ_MAX_NDIM], nd;
    if (get_sig(c, &dt, shape, &nd, "an input")) return -1;
    if (cz_tape_value(t, CZ_INPUT, (int32_t)i, dt, shape, nd) < 0)
      return lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  }
  if (c->version >= 2 && read_names(c, &tr->kw, t->nin)) return -1;
  int64_t nc = get_count(c, 4, INT32_MAX, "constants");
  for (int64_t i = 0; i < nc; i++) {
    uint32_t k = get32(c);
    if (c->failed) return -1;
    if (k >= (uint32_t)nconsts) return bad(c, "constant %u (the file has %d)", k, nconsts);
    if (cz_tape_const(t, consts[k]) < 0)
      return lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  }
  int64_t nn = nc < 0 ? -1 : get_count(c, 14, INT32_MAX, "nodes");
  for (int64_t i = 0; i < nn; i++)
    if (read_node(c, t, ops, nops)) return -1;
  int64_t no = nn < 0 ? -1 : get_count(c, 4, LZ_MAX_OUTPUTS, "outputs");
  if (no < 0) return -1;
  if (no == 0) return bad(c, "a trace without outputs");
  if (!(t->outs = malloc((size_t)no * sizeof *t->outs)))
    return lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  for (int64_t k = 0; k < no; k++) {
    uint32_t v = get32(c);
    if (c->failed) return -1;
    if (v >= (uint32_t)t->nvals) return bad(c, "output %u is not a value of the trace", v);
    t->outs[k] = (int32_t)v;
  }
  t->nouts = t->n_user_outs = (int)no;
  cz_check_shapeless(t);
  if (tr->shapeless && !t->shapeless_ok) return bad(c, "a shapeless trace of ops with fixed shapes");
  return 0;
}

static void imported_free(void *p) {
  imported *m = p;
  if (!m) return;
  for (int i = 0; i < m->ntr; i++) cz_tape_free(&m->tr[i].tape), ex_names_free(&m->tr[i].kw);
  for (int32_t i = 0; i < m->nconsts; i++) lz__array_decref(m->consts[i]);
  free(m->tr), free(m->consts), free(m->path), free(m);
}

/* The constant table: lazy LOAD arrays over the data section. */
static int read_consts(cursor *c, imported *m, lz_file *f, uint64_t data_start) {
  int64_t n = get_count(c, 10, INT32_MAX, "constants");
  if (n < 0) return -1;
  if (!(m->consts = calloc((size_t)n + 1, sizeof *m->consts)))
    return lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  uint64_t data_size = f->size - data_start;
  for (int64_t i = 0; i < n; i++) {
    lz_dtype dt;
    int shape[LZ_MAX_NDIM], nd;
    if (get_sig(c, &dt, shape, &nd, "a constant")) return -1;
    uint64_t off = get64(c);
    if (c->failed) return -1;
    uint64_t nb = lz_dtype_size(dt);
    for (int d = 0; d < nd; d++) nb *= (uint64_t)shape[d];
    if (off > data_size || nb > data_size - off)
      return bad(c, "constant %lld needs %llu bytes at offset %llu of the data, which has %llu",
                 (long long)i, (unsigned long long)nb, (unsigned long long)off,
                 (unsigned long long)data_size);
    lz_load_params p = {.file = f, .offset = data_start + off, .stored_size = nb,
                        .encoding = LZ_LOAD_RAW};
    lz_array *a = lz__load_array(&p, dt, shape, nd, OP);
    if (!a) return -1;
    lz__array_incref(a); /* ours; the scope's reference goes when the import's scope ends */
    m->consts[m->nconsts++] = a;
  }
  return 0;
}

static int read_file(imported *m, lz_file *f) {
  unsigned char h[EX_HEADER_SIZE];
  cursor c = {NULL, 0, 0, f->path, false, 0};
  if (f->size < 8) return bad(&c, "not an exported function (%llu bytes)", (unsigned long long)f->size);
  if (lz__file_read(f, 0, h, 8, OP)) return -1;
  if (memcmp(h, EX_MAGIC, 8) != 0) return bad(&c, "not an exported function (bad magic)");
  if (f->size < EX_HEADER_SIZE) return bad(&c, "truncated header");
  if (lz__file_read(f, 0, h, sizeof h, OP)) return -1;
  uint32_t version = lz__rd32(h + 8), hflags = lz__rd32(h + 12);
  char lib[17];
  memcpy(lib, h + 16, 16);
  lib[16] = 0;
  for (int i = 0; lib[i]; i++)
    if (lib[i] < 0x20 || lib[i] > 0x7e) lib[i] = '?';
  if (version > LZ_EXPORT_FORMAT_VERSION)
    return bad(&c, "written in format version %u (by Lazuli %s); this library (%d.%d.%d) reads "
               "format versions up to %d", version, lib, LZ_VERSION_MAJOR, LZ_VERSION_MINOR,
               LZ_VERSION_PATCH, LZ_EXPORT_FORMAT_VERSION);
  if (version == 0) return bad(&c, "format version 0 does not exist");
  c.version = version;
  if (hflags) return bad(&c, "unknown header flags 0x%x", hflags);
  uint64_t meta = lz__rd64(h + 32), data = lz__rd64(h + 40);
  if (meta > f->size - EX_HEADER_SIZE || meta > ((uint64_t)1 << 31) ||
      data < EX_HEADER_SIZE + meta || data > f->size)
    return bad(&c, "metadata of %llu bytes and data at %llu do not fit a file of %llu bytes",
               (unsigned long long)meta, (unsigned long long)data, (unsigned long long)f->size);
  unsigned char *buf = malloc(meta ? meta : 1);
  if (!buf) return lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  int rc = lz__file_read(f, EX_HEADER_SIZE, buf, meta, OP);
  c.p = buf, c.n = meta;
  int64_t nops = rc ? -1 : get_count(&c, 9, LZ_OP_COUNT, "ops");
  int ops[LZ_OP_COUNT];
  for (int64_t i = 0; i < nops && rc == 0; i++)
    if ((ops[i] = get_op(&c)) < 0) rc = -1;
  if (nops < 0) rc = -1;
  if (rc == 0) rc = read_consts(&c, m, f, data);
  int64_t ntr = rc ? -1 : get_count(&c, 20, UINT16_MAX, "traces");
  if (ntr == 0) rc = bad(&c, "no traces");
  if (ntr > 0 && !(m->tr = calloc((size_t)ntr, sizeof *m->tr)))
    rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  for (int64_t i = 0; i < ntr && rc == 0; i++) {
    m->ntr++;
    rc = read_trace(&c, &m->tr[i], ops, (uint32_t)nops, m->consts, m->nconsts);
  }
  if (ntr < 0) rc = -1;
  if (rc == 0 && left(&c)) rc = bad(&c, "%zu bytes after the last trace", left(&c));
  free(buf);
  return rc;
}

static bool sig_fits(const cz_value *v, const lz_array *a, bool shapeless) {
  if (v->dtype != a->dtype || v->ndim != a->ndim) return false;
  for (int d = 0; d < v->ndim; d++)
    if (shapeless ? (v->shape[d] == 1) != (a->shape[d] == 1) : v->shape[d] != a->shape[d])
      return false;
  return true;
}

/* "float32 (5,6), y: float32 (5,4)" into buf. */
static void describe_args(char *buf, size_t cap, lz_array *const *in, int n,
                          const char *const *names, int nkw) {
  size_t at = 0;
  buf[0] = 0;
  for (int k = 0; k < n && at + 64 < cap; k++) {
    char s[128];
    const char *name = k >= n - nkw ? names[k - (n - nkw)] : NULL;
    at += (size_t)snprintf(buf + at, cap - at, "%s%s%s%s %s", k ? ", " : "", name ? name : "",
                           name ? ": " : "", lz_dtype_name(in[k]->dtype),
                           lz__fmt_shape(s, sizeof s, in[k]->shape, in[k]->ndim));
  }
  if (!n) snprintf(buf, cap, "no inputs");
}

/* Replays trace tr on in[0..t->nin) (in the trace's order). */
static int replay(const ex_trace *tr, lz_array *const *in, lz_array **out) {
  const cz_tape *t = &tr->tape;
  lz_array **v = malloc((size_t)(t->nvals ? t->nvals : 1) * sizeof *v);
  if (!v) return lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  int rc = cz_replay(t, tr->shapeless, in, v);
  for (int i = 0; i < t->nouts && rc == 0; i++) out[i] = lz_retain(v[t->outs[i]]);
  free(v);
  return rc ? -1 : t->nouts;
}

/* Every input positionally: the first trace whose signatures fit. */
static int imported_call(void *ctx, lz_array *const *in, int n, lz_array **out) {
  imported *m = ctx;
  for (int i = 0; i < m->ntr; i++) {
    const cz_tape *t = &m->tr[i].tape;
    bool ok = t->nin == n;
    for (int k = 0; k < n && ok; k++) ok = sig_fits(&t->vals[k], in[k], m->tr[i].shapeless);
    if (ok) return replay(&m->tr[i], in, out);
  }
  char buf[512];
  describe_args(buf, sizeof buf, in, n, NULL, 0);
  return lz__error(LZ_ERROR_SHAPE, OP, "'%s' has no trace taking %s (%d traces)", m->path, buf,
                   m->ntr);
}

int lz_imported_call_kw(lz_closure *g, lz_array *const *args, int nargs, const char *const *names,
                        lz_array *const *kwargs, int nkw, lz_array **out) {
  const char *op = "lz_imported_call_kw";
  imported *m = lz__closure_fn(g) == imported_call ? lz__closure_ctx(g) : NULL;
  if (!m)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "not a function lz_import_function read");
  if (nargs < 0 || nkw < 0 || (nargs && !args) || (nkw && (!kwargs || !names)) || !out ||
      nargs > INT_MAX / 2 - nkw)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%d arguments and %d keyword arguments",
                     nargs, nkw);
  int n = nargs + nkw;
  lz_array **all = malloc((size_t)(n ? n : 1) * sizeof *all), **in = NULL;
  if (all) in = malloc((size_t)(n ? n : 1) * sizeof *in);
  if (!in) {
    free(all);
    return lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
  }
  for (int k = 0; k < n; k++) all[k] = k < nargs ? args[k] : kwargs[k - nargs];
  int rc = lz__check_inputs(op, all, n) ? -2 : -1;
  for (int i = 0; i < nkw && rc == -2; i++)
    if (!names[i]) rc = lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "keyword name %d is NULL", i);
  for (int i = 0; i < m->ntr && rc == -2; i++) {
    const ex_trace *tr = &m->tr[i];
    const cz_tape *t = &tr->tape;
    if (t->nin != n || tr->kw.n != nkw) continue;
    bool ok = true;
    for (int k = 0; k < nargs; k++) in[k] = args[k];
    for (int j = 0; j < nkw && ok; j++) { /* the trace's j-th name among the given ones */
      int at = -1;
      for (int q = 0; q < nkw && at < 0; q++)
        if (strcmp(names[q], tr->kw.name[j]) == 0) at = q;
      ok = at >= 0;
      if (ok) in[nargs + j] = kwargs[at];
    }
    for (int k = 0; k < n && ok; k++) ok = sig_fits(&t->vals[k], in[k], tr->shapeless);
    if (ok) rc = replay(tr, in, out);
  }
  if (rc == -2) {
    char buf[512];
    describe_args(buf, sizeof buf, all, n, names, nkw);
    rc = lz__error(LZ_ERROR_SHAPE, OP, "'%s' has no trace taking %s (%d traces)", m->path, buf,
                   m->ntr);
  }
  free(all), free(in);
  return rc;
}

int lz__import_trace(const lz_closure *g, int i, lz_dtype *dts, int (*shapes)[LZ_MAX_NDIM],
                     int *ndims, int cap, int64_t *max_elems) {
  const imported *m = lz__closure_fn(g) == imported_call ? lz__closure_ctx(g) : NULL;
  if (!m || i < 0 || i >= m->ntr) return -1;
  const cz_tape *t = &m->tr[i].tape;
  if (t->nin > cap) return -1;
  for (int k = 0; k < t->nin; k++) {
    dts[k] = t->vals[k].dtype, ndims[k] = t->vals[k].ndim;
    memcpy(shapes[k], t->vals[k].shape, sizeof(int) * (size_t)ndims[k]);
  }
  int64_t most = 0;
  for (int32_t v = 0; v < t->nvals; v++) {
    int64_t n = 1;
    for (int d = 0; d < t->vals[v].ndim; d++) n *= t->vals[v].shape[d];
    most = n > most ? n : most;
  }
  *max_elems = most;
  return t->nin;
}

lz_closure *lz_import_function(const char *path) {
  lz_file *f = lz__file_open(path, OP);
  if (!f) return NULL;
  imported *m = calloc(1, sizeof *m);
  size_t len = strlen(path) + 1;
  if (m) m->path = malloc(len);
  if (!m || !m->path) {
    free(m);
    lz__file_release(f);
    lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
    return NULL;
  }
  memcpy(m->path, path, len);
  lz_scope_begin();
  int rc = read_file(m, f);
  lz_scope_end();
  lz__file_release(f); /* the constants hold it */
  lz_closure *g = rc == 0 ? lz_closure_new(imported_call, m, imported_free) : NULL;
  if (!g) imported_free(m);
  return g;
}
