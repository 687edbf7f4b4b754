/* lz_module: a tree of named parameters and child modules, flattened to dotted names. */
#include "nn/nn_impl.h"

#define NAME_MAX_LEN 1024

enum { FLAG_FROZEN = 1, FLAG_PINNED = 2 }; /* pinned: always frozen (running statistics) */

typedef struct nn_child {
  char *name;
  lz_module *m;
} nn_child;

struct lz_module {
  int refs;
  char *type;
  lz_module_fn forward;
  void *ctx;
  void (*ctx_free)(void *ctx);
  lz_dict *params;      /* own parameters, local names, owns the references */
  unsigned char *flags; /* per parameter, in the dict's order */
  size_t flags_cap;
  nn_child *children;
  int nchildren, children_cap;
  bool training;
};

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

char *lz_nn__fmt_shape(char *buf, size_t cap, const int *shape, int ndim) {
  size_t n = 0;
  if (!cap) return buf;
  n += (size_t)snprintf(buf, cap, "(");
  for (int i = 0; i < ndim && n < cap; i++)
    n += (size_t)snprintf(buf + n, cap - n, i ? ",%d" : "%d", shape[i]);
  if (ndim == 1 && n < cap) n += (size_t)snprintf(buf + n, cap - n, ",");
  if (n < cap) snprintf(buf + n, cap - n, ")");
  return buf;
}

bool lz_nn__same_shape(const lz_array *a, const lz_array *b) {
  if (lz_array_ndim(a) != lz_array_ndim(b)) return false;
  for (int d = 0; d < lz_array_ndim(a); d++)
    if (lz_array_shape(a)[d] != lz_array_shape(b)[d]) return false;
  return true;
}

void *lz_nn__dup(const void *ctx, size_t size, const char *who) {
  void *p = malloc(size ? size : 1);
  if (!p) {
    lz_set_error(LZ_ERROR_OUT_OF_MEMORY, who, "out of memory");
    return NULL;
  }
  if (size) memcpy(p, ctx, size);
  return p;
}

lz_module *lz_nn__module(const char *type, lz_module_fn forward, const void *cfg, size_t size) {
  void *ctx = cfg ? lz_nn__dup(cfg, size, type) : NULL;
  if (cfg && !ctx) return NULL;
  lz_module *m = lz_module_new(type, forward, ctx, free);
  if (!m) free(ctx);
  return m;
}

int lz_nn__check_call(const char *who, lz_array *const *in, int n, int lo, int hi) {
  if (n < lo || n > hi || (n && !in)) {
    return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "called with %d inputs; it takes %d%s%d", n,
                        lo, lo == hi ? "" : " to ", lo == hi ? lo : hi);
  }
  for (int i = 0; i < lo; i++) {
    if (!in[i]) {
      if (!lz_nn__failed()) lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "input %d is NULL", i);
      return -1;
    }
  }
  return 0; /* a NULL optional input means "absent" */
}

/* ---- lifetime ----------------------------------------------------------------------------- */

lz_module *lz_module_new(const char *type, lz_module_fn forward, void *ctx,
                         void (*ctx_free)(void *ctx)) {
  lz_module *m = calloc(1, sizeof *m);
  if (m) m->params = lz_dict_new();
  if (m) m->type = dup_str(type ? type : "Module");
  if (!m || !m->params || !m->type) {
    if (m) lz_dict_free(m->params), free(m->type), free(m);
    lz_set_error(LZ_ERROR_OUT_OF_MEMORY, "lz_module_new", "out of memory");
    return NULL;
  }
  m->refs = 1;
  m->forward = forward;
  m->ctx = ctx, m->ctx_free = ctx_free;
  m->training = true;
  return m;
}

lz_module *lz_module_retain(lz_module *m) {
  if (m) m->refs++;
  return m;
}

void lz_module_free(lz_module *m) {
  if (!m || --m->refs > 0) return;
  for (int i = 0; i < m->nchildren; i++) {
    free(m->children[i].name);
    lz_module_free(m->children[i].m);
  }
  free(m->children);
  lz_dict_free(m->params);
  free(m->flags);
  if (m->ctx_free) m->ctx_free(m->ctx);
  free(m->type);
  free(m);
}

const char *lz_module_type(const lz_module *m) { return m ? m->type : ""; }
void *lz_module_ctx(const lz_module *m) { return m ? m->ctx : NULL; }

/* ---- own parameters and children ---------------------------------------------------------- */

static long param_index(const lz_module *m, const char *name) {
  if (!lz_dict_contains(m->params, name)) return -1;
  size_t n = lz_dict_size(m->params);
  for (size_t i = 0; i < n; i++)
    if (strcmp(lz_dict_key(m->params, i), name) == 0) return (long)i;
  return -1;
}

int lz_module_set_param(lz_module *m, const char *name, lz_array *a) {
  if (!m || !name || !a) {
    if (!lz_nn__failed())
      lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_module_set_param", "NULL %s",
                   !m      ? "module"
                   : !name ? "name"
                           : "array");
    return -1;
  }
  if (!*name || strchr(name, '.'))
    return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_module_set_param",
                        "parameter name '%s' is empty or has a dot", name);
  size_t n = lz_dict_size(m->params);
  bool is_new = !lz_dict_contains(m->params, name);
  if (is_new && n + 1 > m->flags_cap) {
    size_t cap = m->flags_cap ? m->flags_cap * 2 : 8;
    unsigned char *f = realloc(m->flags, cap);
    if (!f) return lz_set_error(LZ_ERROR_OUT_OF_MEMORY, "lz_module_set_param", "out of memory");
    m->flags = f, m->flags_cap = cap;
  }
  if (lz_dict_set(m->params, name, a) != 0) return -1;
  if (is_new) m->flags[n] = 0;
  return 0;
}

lz_array *lz_nn__get(const lz_module *m, const char *name) { return lz_dict_get(m->params, name); }

int lz_nn__pin_frozen(lz_module *m, const char *name) {
  long i = param_index(m, name);
  if (i < 0) return -1;
  m->flags[i] = FLAG_FROZEN | FLAG_PINNED;
  return 0;
}

int lz_module_add_child(lz_module *m, const char *name, lz_module *child) {
  if (!m || !name || !child || !*name) {
    lz_module_free(child);
    if (!lz_nn__failed())
      lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_module_add_child", "NULL or empty %s",
                   !m       ? "module"
                   : !child ? "child"
                            : "name");
    return -1;
  }
  for (int i = 0; i < m->nchildren; i++) {
    if (strcmp(m->children[i].name, name) == 0) {
      lz_module_free(child);
      return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_module_add_child",
                          "a child named '%s' exists", name);
    }
  }
  if (m->nchildren == m->children_cap) {
    int cap = m->children_cap ? m->children_cap * 2 : 4;
    nn_child *c = realloc(m->children, (size_t)cap * sizeof *c);
    if (!c) {
      lz_module_free(child);
      return lz_set_error(LZ_ERROR_OUT_OF_MEMORY, "lz_module_add_child", "out of memory");
    }
    m->children = c, m->children_cap = cap;
  }
  char *s = dup_str(name);
  if (!s) {
    lz_module_free(child);
    return lz_set_error(LZ_ERROR_OUT_OF_MEMORY, "lz_module_add_child", "out of memory");
  }
  m->children[m->nchildren++] = (nn_child){s, child};
  return 0;
}

/* The child whose name is a dotted prefix of `path` (path = name "." rest); *rest points past
 * the dot. */
static lz_module *child_prefix(const lz_module *m, const char *path, const char **rest) {
  for (int i = 0; i < m->nchildren; i++) {
    size_t k = strlen(m->children[i].name);
    if (strncmp(path, m->children[i].name, k) == 0 && path[k] == '.') {
      *rest = path + k + 1;
      return m->children[i].m;
    }
  }
  return NULL;
}

lz_module *lz_module_child(const lz_module *m, const char *name) {
  if (!m || !name) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_module_child", "NULL %s", m ? "name" : "module");
    return NULL;
  }
  const lz_module *cur = m;
  const char *path = name;
  while (cur) {
    for (int i = 0; i < cur->nchildren; i++)
      if (strcmp(cur->children[i].name, path) == 0) return cur->children[i].m;
    const char *rest;
    cur = child_prefix(cur, path, &rest);
    path = rest;
  }
  lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_module_child", "no child module '%s'", name);
  return NULL;
}

int lz_module_replace_child(lz_module *m, const char *name, lz_module *child) {
  const char *who = "lz_module_replace_child";
  if (!m || !name || !child) {
    lz_module_free(child);
    if (!lz_nn__failed()) lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "NULL argument");
    return -1;
  }
  lz_module *cur = m;
  const char *path = name;
  while (cur) {
    for (int i = 0; i < cur->nchildren; i++) {
      if (strcmp(cur->children[i].name, path) == 0) {
        lz_module *old = cur->children[i].m;
        cur->children[i].m = child;
        lz_module_free(old);
        return 0;
      }
    }
    const char *rest;
    cur = child_prefix(cur, path, &rest);
    path = rest;
  }
  lz_module_free(child);
  return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "no child module '%s'", name);
}

int lz_module_num_children(const lz_module *m) { return m ? m->nchildren : 0; }

lz_module *lz_module_child_at(const lz_module *m, int i, const char **name) {
  if (!m || i < 0 || i >= m->nchildren) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_module_child_at", "no child %d", i);
    return NULL;
  }
  if (name) *name = m->children[i].name;
  return m->children[i].m;
}

/* Finds the module that owns flattened name `flat` and the index of the parameter in it. */
static lz_module *find_param(const lz_module *m, const char *flat, long *index) {
  const lz_module *cur = m;
  const char *path = flat;
  while (cur) {
    long i = param_index(cur, path);
    if (i >= 0) {
      *index = i;
      return (lz_module *)cur;
    }
    const char *rest;
    cur = child_prefix(cur, path, &rest);
    path = rest;
  }
  return NULL;
}

lz_array *lz_module_param(const lz_module *m, const char *name) {
  long i;
  lz_module *owner = m && name ? find_param(m, name, &i) : NULL;
  if (!owner) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_module_param", "no parameter '%s'",
                 name ? name : "(null)");
    return NULL;
  }
  return lz_dict_value(owner->params, (size_t)i);
}

bool lz_module_has_param(const lz_module *m, const char *name) {
  long i;
  return m && name && find_param(m, name, &i);
}

bool lz_module_is_frozen(const lz_module *m, const char *name) {
  long i;
  lz_module *owner = m && name ? find_param(m, name, &i) : NULL;
  return owner && (owner->flags[i] & FLAG_FROZEN);
}

/* ---- calling -------------------------------------------------------------------------------- */

int lz_module_call(lz_module *m, lz_array *const *inputs, int n, lz_array **out) {
  if (!m || !out) {
    if (!lz_nn__failed())
      lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_module_call", "NULL %s", m ? "out" : "module");
    return -1;
  }
  if (!m->forward)
    return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_module_call",
                        "module of type %s has no forward function", m->type);
  lz_array *tmp[LZ_NN_MAX_OUTPUTS] = {0};
  uint64_t errors = lz_error_count();
  lz_scope_begin();
  int k = m->forward(m, inputs, n, tmp);
  if (k > LZ_NN_MAX_OUTPUTS) k = lz_set_error(LZ_ERROR_INTERNAL, m->type, "too many outputs");
  for (int i = 0; i < k && k > 0; i++)
    if (!tmp[i]) k = -1;
  if (k == 0) k = lz_set_error(LZ_ERROR_INTERNAL, m->type, "forward returned no output");
  if (k > 0 && lz_nn__failed_since(errors)) k = -1;
  for (int i = 0; i < k; i++) out[i] = lz_keep(tmp[i]);
  lz_scope_end();
  if (k < 0) {
    if (!lz_nn__failed()) lz_set_error(LZ_ERROR_INVALID_ARGUMENT, m->type, "forward failed");
    return -1;
  }
  return k;
}

lz_array *lz_module_forward(lz_module *m, lz_array *x) {
  lz_array *out[LZ_NN_MAX_OUTPUTS];
  int k = lz_module_call(m, &x, 1, out);
  if (k < 0) return NULL;
  for (int i = 1; i < k; i++) lz_free(out[i]);
  return out[0];
}

/* ---- walking the tree (modules are shallow trees: recursion is bounded by their depth) ----- */

typedef int (*visit_fn)(void *ctx, const char *flat, lz_module *owner, size_t index);

static int walk(lz_module *m, char *name, size_t len, visit_fn fn, void *ctx) {
  size_t n = lz_dict_size(m->params);
  for (size_t i = 0; i < n; i++) {
    const char *k = lz_dict_key(m->params, i);
    if (len + strlen(k) + 2 > NAME_MAX_LEN)
      return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_module", "parameter name too long");
    snprintf(name + len, NAME_MAX_LEN - len, "%s%s", len ? "." : "", k);
    if (fn(ctx, name, m, i) != 0) return -1;
  }
  for (int c = 0; c < m->nchildren; c++) {
    const char *k = m->children[c].name;
    size_t kl = strlen(k) + (len ? 1 : 0);
    if (len + kl + 1 > NAME_MAX_LEN)
      return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_module", "parameter name too long");
    snprintf(name + len, NAME_MAX_LEN - len, "%s%s", len ? "." : "", k);
    if (walk(m->children[c].m, name, len + kl, fn, ctx) != 0) return -1;
    name[len] = '\0';
  }
  return 0;
}

static int walk_all(const lz_module *m, visit_fn fn, void *ctx) {
  char name[NAME_MAX_LEN];
  name[0] = '\0';
  return walk((lz_module *)m, name, 0, fn, ctx);
}

typedef struct collect_ctx {
  lz_dict *d;
  bool trainable_only;
} collect_ctx;

static int visit_collect(void *p, const char *flat, lz_module *owner, size_t i) {
  collect_ctx *c = p;
  if (c->trainable_only && (owner->flags[i] & FLAG_FROZEN)) return 0;
  lz_array *a = lz_dict_value(owner->params, i);
  int rc = lz_dict_set(c->d, flat, a);
  lz_free(a);
  return rc;
}

static lz_dict *collect(const lz_module *m, bool trainable_only, const char *who) {
  if (!m) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "NULL module");
    return NULL;
  }
  collect_ctx c = {lz_dict_new(), trainable_only};
  if (!c.d) return NULL;
  lz_scope_begin();
  int rc = walk_all(m, visit_collect, &c);
  lz_scope_end();
  if (rc != 0) {
    lz_dict_free(c.d);
    return NULL;
  }
  return c.d;
}

lz_dict *lz_module_parameters(const lz_module *m) {
  return collect(m, false, "lz_module_parameters");
}

lz_dict *lz_module_trainable_parameters(const lz_module *m) {
  return collect(m, true, "lz_module_trainable_parameters");
}

static int visit_count(void *p, const char *flat, lz_module *owner, size_t i) {
  lz_array *a = lz_dict_value(owner->params, i);
  *(size_t *)p += lz_array_size(a);
  lz_free(a);
  return 0;
}

size_t lz_module_num_parameters(const lz_module *m) {
  size_t n = 0;
  if (m) {
    lz_scope_begin();
    walk_all(m, visit_count, &n);
    lz_scope_end();
  }
  return n;
}

/* ---- freezing ------------------------------------------------------------------------------ */

typedef struct freeze_ctx {
  const char *sel;
  bool freeze;
  int matched;
} freeze_ctx;

static bool selects(const char *sel, const char *flat, const char *local) {
  if (!sel) return true;
  size_t k = strlen(sel);
  if (strncmp(flat, sel, k) == 0 && (flat[k] == '\0' || flat[k] == '.')) return true;
  return strcmp(local, sel) == 0;
}

static int visit_freeze(void *p, const char *flat, lz_module *owner, size_t i) {
  freeze_ctx *c = p;
  if (!selects(c->sel, flat, lz_dict_key(owner->params, i))) return 0;
  c->matched++;
  if (owner->flags[i] & FLAG_PINNED) return 0;
  if (c->freeze)
    owner->flags[i] |= FLAG_FROZEN;
  else
    owner->flags[i] &= (unsigned char)~FLAG_FROZEN;
  return 0;
}

static int set_frozen(lz_module *m, const char *name, bool freeze, const char *who) {
  if (!m) return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "NULL module");
  freeze_ctx c = {name, freeze, 0};
  if (walk_all(m, visit_freeze, &c) != 0) return -1;
  if (name && c.matched == 0)
    return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "no parameter matches '%s'", name);
  return 0;
}

int lz_module_freeze(lz_module *m, const char *name) {
  return set_frozen(m, name, true, "lz_module_freeze");
}

int lz_module_unfreeze(lz_module *m, const char *name) {
  return set_frozen(m, name, false, "lz_module_unfreeze");
}

/* ---- replacing parameters ------------------------------------------------------------------ */

int lz_module_update(lz_module *m, const lz_dict *params) {
  const char *who = "lz_module_update";
  if (!m || !params) return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "NULL argument");
  size_t n = lz_dict_size(params);
  char msg[768];
  size_t len = 0;
  int unknown = 0;
  msg[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    const char *k = lz_dict_key(params, i);
    long idx;
    if (!find_param(m, k, &idx)) {
      if (len < sizeof msg)
        len += (size_t)snprintf(msg + len, sizeof msg - len, "%s'%s'", unknown ? ", " : "", k);
      unknown++;
    } else {
      lz_array *v = lz_dict_value(params, i);
      if (!v) return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "entry '%s' is not an array", k);
      lz_free(v);
    }
  }
  if (unknown)
    return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "%d unknown parameter name%s: %s", unknown,
                        unknown > 1 ? "s" : "", msg);
  lz_scope_begin();
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    long idx;
    lz_module *owner = find_param(m, lz_dict_key(params, i), &idx);
    lz_array *a = lz_dict_value(params, i);
    rc = lz_dict_set(owner->params, lz_dict_key(owner->params, (size_t)idx), a);
  }
  lz_scope_end();
  return rc;
}

typedef struct apply_ctx {
  lz_array *(*fn)(void *ctx, const char *name, lz_array *p);
  void *ctx;
  lz_dict *out;
} apply_ctx;

static int visit_apply(void *p, const char *flat, lz_module *owner, size_t i) {
  apply_ctx *c = p;
  lz_array *a = lz_dict_value(owner->params, i);
  lz_array *r = c->fn(c->ctx, flat, a);
  if (!r) {
    if (!lz_nn__failed())
      lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_module_apply", "the function failed on '%s'",
                   flat);
    return -1;
  }
  int rc = lz_dict_set(c->out, flat, r);
  lz_free(r);
  return rc;
}

int lz_module_apply(lz_module *m, lz_array *(*fn)(void *ctx, const char *name, lz_array *p),
                    void *ctx) {
  if (!m || !fn) return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_module_apply", "NULL argument");
  apply_ctx c = {fn, ctx, lz_dict_new()};
  if (!c.out) return -1;
  lz_scope_begin();
  int rc = walk_all(m, visit_apply, &c);
  if (rc == 0) rc = lz_module_update(m, c.out);
  lz_scope_end();
  lz_dict_free(c.out);
  return rc;
}

static lz_array *cast_float(void *ctx, const char *name, lz_array *p) {
  lz_dtype to = *(const lz_dtype *)ctx;
  return lz_dtype_is_float(lz_array_dtype(p)) ? lz_astype(p, to) : lz_retain(p);
}

int lz_module_set_dtype(lz_module *m, lz_dtype dtype) {
  if (!lz_dtype_is_float(dtype))
    return lz_set_error(LZ_ERROR_DTYPE, "lz_module_set_dtype", "%s is not a floating dtype",
                        lz_dtype_name(dtype));
  return lz_module_apply(m, cast_float, &dtype);
}

/* ---- modes and evaluation ------------------------------------------------------------------ */

void lz_module_train(lz_module *m, bool mode) {
  if (!m) return;
  m->training = mode;
  for (int i = 0; i < m->nchildren; i++) lz_module_train(m->children[i].m, mode);
}

bool lz_module_is_training(const lz_module *m) { return m && m->training; }

int lz_module_eval(lz_module *m) {
  lz_dict *p = lz_module_parameters(m);
  if (!p) return -1;
  int rc = lz_dict_eval(p);
  lz_dict_free(p);
  return rc;
}
