/* Helpers for the nn tests: reference arrays from tests/data/nn_refs.h by name. */
#ifndef NN_TESTUTIL_H
#define NN_TESTUTIL_H

#include "data/nn_refs.h"
#include "lz_test.h"

static inline const nn_ref_entry *nn_find(const char *name) {
  for (int i = 0; i < NN_REF_COUNT; i++)
    if (strcmp(NN_REFS[i].name, name) == 0) return &NN_REFS[i];
  fprintf(stderr, "missing reference %s\n", name);
  return NULL;
}

/* The reference array `name` as `dtype` (values exact in float32 for inputs). */
static inline lz_array *nn_ref_as(const char *name, lz_dtype dtype) {
  const nn_ref_entry *r = nn_find(name);
  if (!r) return NULL;
  lz_array *a = lz_array_from_data(r->data, r->shape, r->ndim, LZ_FLOAT64);
  lz_array *b = lz_astype(a, dtype);
  lz_free(a);
  return b;
}
static inline lz_array *nn_ref(const char *name) { return nn_ref_as(name, LZ_FLOAT32); }
static inline lz_array *nn_ref_i(const char *name) { return nn_ref_as(name, LZ_INT32); }

/* Checks shape and values of `a` against the reference `name`. */
#define CHECK_REF(a, name, tol)                                                                    \
  do {                                                                                             \
    const nn_ref_entry *nnt_r = nn_find(name);                                                     \
    lz_array *nnt_a = (a);                                                                         \
    CHECK(nnt_r != NULL);                                                                          \
    if (nnt_r) {                                                                                   \
      lzt_check_shape(__FILE__, __LINE__, nnt_a, nnt_r->shape, nnt_r->ndim);                       \
      lzt_check_values(__FILE__, __LINE__, nnt_a, nnt_r->data, (size_t)nnt_r->size, tol);          \
    }                                                                                              \
  } while (0)

/* A dict of the "<prefix>:p:<name>" references under their parameter names. */
static inline lz_dict *nn_params(const char *prefix) {
  lz_dict *d = lz_dict_new();
  char head[64];
  snprintf(head, sizeof head, "%s:p:", prefix);
  size_t k = strlen(head);
  for (int i = 0; i < NN_REF_COUNT; i++) {
    if (strncmp(NN_REFS[i].name, head, k) != 0) continue;
    lz_array *a = nn_ref(NN_REFS[i].name);
    lz_dict_set(d, NN_REFS[i].name + k, a);
    lz_free(a);
  }
  return d;
}

/* Loads the "<prefix>:p:*" references into m (strictly: every name must match). */
static inline int nn_load(lz_module *m, const char *prefix) {
  lz_dict *d = nn_params(prefix);
  int rc = lz_module_load_weights_dict(m, d, true);
  lz_dict_free(d);
  return rc;
}

#endif /* NN_TESTUTIL_H */
