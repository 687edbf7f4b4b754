/* Closures: reference-counted function objects that transforms take and return. */
#include "transforms/transforms_impl.h"

#include <stdlib.h>

struct lz_closure {
  atomic_long refs;
  lz_fn fn;
  void *ctx;
  void (*ctx_free)(void *ctx);
};

lz_closure *lz_closure_new(lz_fn fn, void *ctx, void (*ctx_free)(void *ctx)) {
  if (!fn) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_closure_new", "fn is NULL");
    return NULL;
  }
  lz_closure *f = lz__malloc(sizeof *f);
  if (!f) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_closure_new", "out of memory");
    return NULL;
  }
  atomic_init(&f->refs, 1);
  f->fn = fn;
  f->ctx = ctx;
  f->ctx_free = ctx_free;
  return f;
}

void lz_closure_free(lz_closure *f) {
  if (!f || atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1) return;
  if (f->ctx_free) f->ctx_free(f->ctx);
  free(f);
}

lz_closure *lz_closure_retain(lz_closure *f) {
  if (f) atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
  return f;
}

void *lz__closure_ctx(const lz_closure *f) { return f ? f->ctx : NULL; }
lz_fn lz__closure_fn(const lz_closure *f) { return f ? f->fn : NULL; }

/* The function runs inside its own scope, so a loss written as one nested expression leaves no
 * intermediate handles behind: only the outputs survive (kept to the caller's scope). */
int lz__closure_call_named(const char *who, lz_closure *f, lz_array *const *inputs, int n_inputs,
                           lz_array **out) {
  if (!f || !out || (n_inputs > 0 && !inputs) || n_inputs < 0) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, who, "%s is NULL or invalid",
              !f ? "closure" : !out ? "out" : "inputs");
    return -1;
  }
  lz_array *tmp[LZ_MAX_OUTPUTS + 1];
  for (int i = 0; i <= LZ_MAX_OUTPUTS; i++) tmp[i] = NULL;
  int depth = lz_scope_depth();
  lz_scope_begin();
  if (lz_scope_depth() != depth + 1) return -1; /* could not open the scope */
  uint64_t errors = lz_error_count();
  int k = f->fn(f->ctx, inputs, n_inputs, tmp);
  bool ok = true;
  if (k < 0) {
    if (lz_error_count() == errors)
      lz__error(LZ_ERROR_INVALID_ARGUMENT, who, "the function returned an error (-1) but set "
                                                "no message");
    ok = false;
  } else if (k == 0 || k > LZ_MAX_OUTPUTS) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, who, "the function returned %d outputs (expected 1..%d)",
              k, LZ_MAX_OUTPUTS);
    ok = false;
  } else {
    for (int i = 0; i < k && ok; i++) {
      if (!tmp[i]) {
        if (!lz__has_error())
          lz__error(LZ_ERROR_INVALID_ARGUMENT, who, "the function returned NULL as output %d",
                    i);
        ok = false;
      }
    }
    if (ok && lz_error_count() != errors) ok = false; /* outputs made, but something failed */
  }
  if (ok)
    for (int i = 0; i < k; i++) out[i] = lz_keep(tmp[i]);
  lz_scope_end();
  if (!ok) return -1;
  for (int i = 0; i < k; i++)
    if (!out[i]) { /* lz_keep ran out of memory: give back what was kept */
      for (int j = 0; j < k; j++) lz_free(out[j]), out[j] = NULL;
      return -1;
    }
  return k;
}

int lz_closure_call(lz_closure *f, lz_array *const *inputs, int n_inputs, lz_array **out) {
  return lz__closure_call_named("lz_closure_call", f, inputs, n_inputs, out);
}
