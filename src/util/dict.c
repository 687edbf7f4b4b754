/* lz_dict: entries in insertion order plus an open-addressing hash index over them. */
#include "../core/internal.h"

#include <stdlib.h>

typedef struct dict_entry {
  char *key;
  lz_array *arr; /* one of arr/str/strs is set */
  char *str;
  char **strs;   /* a list of strings (GGUF string arrays), nstrs long */
  size_t nstrs;
  uint64_t hash;
} dict_entry;

struct lz_dict {
  dict_entry *entries;
  size_t len, cap;
  int64_t *index; /* slots hold entry positions, -1 when empty */
  size_t index_cap;
};

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = lz__malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static int rebuild_index(lz_dict *d, size_t cap) {
  int64_t *idx = lz__malloc(cap * sizeof *idx);
  if (!idx) return -1;
  for (size_t i = 0; i < cap; i++) idx[i] = -1;
  for (size_t e = 0; e < d->len; e++) {
    size_t s = d->entries[e].hash & (cap - 1);
    while (idx[s] >= 0) s = (s + 1) & (cap - 1);
    idx[s] = (int64_t)e;
  }
  free(d->index);
  d->index = idx;
  d->index_cap = cap;
  return 0;
}

static int64_t find(const lz_dict *d, const char *key, uint64_t h) {
  if (!d->index_cap) return -1;
  size_t s = h & (d->index_cap - 1);
  while (d->index[s] >= 0) {
    const dict_entry *e = &d->entries[d->index[s]];
    if (e->hash == h && strcmp(e->key, key) == 0) return d->index[s];
    s = (s + 1) & (d->index_cap - 1);
  }
  return -1;
}

lz_dict *lz_dict_new(void) {
  lz_dict *d = lz__malloc(sizeof *d);
  if (!d) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_dict_new", "out of memory");
    return NULL;
  }
  memset(d, 0, sizeof *d);
  return d;
}

static void free_strs(char **strs, size_t n) {
  for (size_t i = 0; strs && i < n; i++) free(strs[i]);
  free(strs);
}

void lz_dict_free(lz_dict *d) {
  if (!d) return;
  for (size_t i = 0; i < d->len; i++) {
    free(d->entries[i].key);
    free(d->entries[i].str);
    free_strs(d->entries[i].strs, d->entries[i].nstrs);
    lz__array_decref(d->entries[i].arr);
  }
  free(d->entries);
  free(d->index);
  free(d);
}

/* Copies n strings into a new list (one element even when n is 0, so that NULL means none). */
static char **dup_strs(const char *const *v, size_t n) {
  char **l = lz__malloc((n ? n : 1) * sizeof *l);
  for (size_t i = 0; l && i < n; i++)
    if (!(l[i] = dup_str(v[i]))) {
      free_strs(l, i);
      return NULL;
    }
  return l;
}

static int set_entry_list(lz_dict *d, const char *key, lz_array *a, const char *str,
                          const char *const *list, size_t nlist);
static int set_entry(lz_dict *d, const char *key, lz_array *a, const char *str) {
  return set_entry_list(d, key, a, str, NULL, 0);
}

static int set_entry_list(lz_dict *d, const char *key, lz_array *a, const char *str,
                          const char *const *list, size_t nlist) {
  if (!d || !key || (!a && !str && !list)) {
    if (!lz__has_error())
      lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_dict_set", "NULL %s",
                !d ? "dict" : !key ? "key" : "value");
    return -1;
  }
  uint64_t h = hash_str(key);
  char *s = NULL, **l = NULL;
  if (str && !(s = dup_str(str))) goto oom;
  if (list && !(l = dup_strs(list, nlist))) goto oom;
  int64_t at = find(d, key, h);
  if (at >= 0) {
    dict_entry *e = &d->entries[at];
    if (a) lz__array_incref(a);
    lz__array_decref(e->arr);
    free(e->str);
    free_strs(e->strs, e->nstrs);
    e->arr = a, e->str = s, e->strs = l, e->nstrs = l ? nlist : 0;
    return 0;
  }
  if (d->len == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 16;
    dict_entry *ne = realloc(d->entries, cap * sizeof *ne);
    if (!ne) goto oom;
    d->entries = ne, d->cap = cap;
  }
  if ((d->len + 1) * 2 > d->index_cap && rebuild_index(d, d->index_cap ? d->index_cap * 2 : 32))
    goto oom;
  char *k = dup_str(key);
  if (!k) goto oom;
  if (a) lz__array_incref(a);
  d->entries[d->len] = (dict_entry){k, a, s, l, l ? nlist : 0, h};
  size_t slot = h & (d->index_cap - 1);
  while (d->index[slot] >= 0) slot = (slot + 1) & (d->index_cap - 1);
  d->index[slot] = (int64_t)d->len++;
  return 0;
oom:
  free(s);
  free_strs(l, l ? nlist : 0);
  return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_dict_set", "out of memory");
}

int lz_dict_set(lz_dict *d, const char *key, lz_array *a) { return set_entry(d, key, a, NULL); }
int lz_dict_set_string(lz_dict *d, const char *key, const char *value) {
  return set_entry(d, key, NULL, value);
}
int lz_dict_set_strings(lz_dict *d, const char *key, const char *const *values, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!values || !values[i])
      return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_dict_set_strings", "string %zu is NULL", i);
  static const char *const none[1] = {""};
  return set_entry_list(d, key, NULL, NULL, n ? values : none, n);
}
int64_t lz_dict_get_strings(const lz_dict *d, const char *key, const char *const **values) {
  if (values) *values = NULL;
  if (!d || !key) return -1;
  int64_t at = find(d, key, hash_str(key));
  if (at < 0 || !d->entries[at].strs) return -1;
  if (values) *values = (const char *const *)d->entries[at].strs;
  return (int64_t)d->entries[at].nstrs;
}

lz_dict *lz_dict_copy(const lz_dict *d) {
  if (!d) return NULL;
  lz_dict *c = lz_dict_new();
  for (size_t i = 0; c && i < d->len; i++) {
    const dict_entry *e = &d->entries[i];
    if (set_entry_list(c, e->key, e->arr, e->str, (const char *const *)e->strs, e->nstrs) != 0) {
      lz_dict_free(c);
      return NULL;
    }
  }
  return c;
}

lz_array *lz_dict_get(const lz_dict *d, const char *key) {
  if (!d || !key) return NULL;
  int64_t at = find(d, key, hash_str(key));
  if (at < 0 || !d->entries[at].arr) return NULL;
  return lz_retain(d->entries[at].arr);
}

const char *lz_dict_get_string(const lz_dict *d, const char *key) {
  if (!d || !key) return NULL;
  int64_t at = find(d, key, hash_str(key));
  return at < 0 ? NULL : d->entries[at].str;
}

bool lz_dict_contains(const lz_dict *d, const char *key) {
  return d && key && find(d, key, hash_str(key)) >= 0;
}

int lz_dict_remove(lz_dict *d, const char *key) {
  if (!d || !key) return -1;
  int64_t at = find(d, key, hash_str(key));
  if (at < 0) return -1;
  dict_entry e = d->entries[at];
  memmove(d->entries + at, d->entries + at + 1, (d->len - (size_t)at - 1) * sizeof e);
  d->len--;
  free(e.key);
  free(e.str);
  free_strs(e.strs, e.nstrs);
  lz__array_decref(e.arr);
  /* positions moved: rebuild the index in place (same capacity, so no allocation) */
  for (size_t i = 0; i < d->index_cap; i++) d->index[i] = -1;
  for (size_t j = 0; j < d->len; j++) {
    size_t s = d->entries[j].hash & (d->index_cap - 1);
    while (d->index[s] >= 0) s = (s + 1) & (d->index_cap - 1);
    d->index[s] = (int64_t)j;
  }
  return 0;
}

size_t lz_dict_size(const lz_dict *d) { return d ? d->len : 0; }
const char *lz_dict_key(const lz_dict *d, size_t i) {
  return d && i < d->len ? d->entries[i].key : NULL;
}
lz_array *lz_dict_value(const lz_dict *d, size_t i) {
  return d && i < d->len && d->entries[i].arr ? lz_retain(d->entries[i].arr) : NULL;
}

int lz_dict_eval(lz_dict *d) {
  if (!d) return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_dict_eval", "dict is NULL");
  lz_array **arrs = lz__malloc((d->len ? d->len : 1) * sizeof *arrs);
  if (!arrs) return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_dict_eval", "out of memory");
  size_t n = 0;
  for (size_t i = 0; i < d->len; i++)
    if (d->entries[i].arr) arrs[n++] = d->entries[i].arr;
  int rc = lz_eval_many(arrs, n);
  free(arrs);
  return rc;
}
