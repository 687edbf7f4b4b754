/* Helpers shared by the nn files. nn is built on the public API only (lazuli.h). */
#ifndef LZ_NN_IMPL_H
#define LZ_NN_IMPL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazuli.h"
#include "lazuli/nn.h"

/* Whether an error is pending on this thread: only to avoid a second message, never to decide
 * that a call failed (a pending error may be an old, handled one; see lz_error_count). */
static inline bool lz_nn__failed(void) { return lz_last_error_code() != LZ_ERROR_NONE; }
/* Whether an error was reported since lz_error_count() returned `count`. */
static inline bool lz_nn__failed_since(uint64_t count) { return lz_error_count() != count; }

/* Composite functions build their result in a scope of their own, so temporaries need no frees
 * and a NULL anywhere in a nested expression passes through: NN_BEGIN ... return NN_END(r).
 * NN_BEGIN notes the error count, so NN_END fails only for errors reported in between. */
#define NN_BEGIN()                                                                               \
  const uint64_t lz_nn__errors = lz_error_count();                                               \
  (void)lz_nn__errors;                                                                           \
  lz_scope_begin()
static inline lz_array *lz_nn__end(lz_array *r, uint64_t errors) {
  if (r && lz_nn__failed_since(errors)) r = NULL; /* an error on the way (e.g. an optional input) */
  r = lz_keep(r);
  lz_scope_end();
  return r;
}
#define NN_END(r) lz_nn__end(r, lz_nn__errors)

/* "(2,3)" into buf. */
char *lz_nn__fmt_shape(char *buf, size_t cap, const int *shape, int ndim);
/* Whether two arrays have the same shape. */
bool lz_nn__same_shape(const lz_array *a, const lz_array *b);
/* A new reference to m's own parameter `name`, or NULL (no error) when absent. */
lz_array *lz_nn__get(const lz_module *m, const char *name);
/* Marks m's own parameter `name` as always frozen (BatchNorm's running statistics). */
int lz_nn__pin_frozen(lz_module *m, const char *name);
/* An allocated copy of `ctx_size` bytes of `ctx` for lz_module_new, or NULL with an error. */
void *lz_nn__dup(const void *ctx, size_t ctx_size, const char *who);
/* A module of `type` with a copy of the plain-data config `cfg` as ctx. */
lz_module *lz_nn__module(const char *type, lz_module_fn forward, const void *cfg, size_t size);
/* Uniform values in [-scale, scale) of `shape` (float32, global key sequence). */
lz_array *lz_nn__uniform(const int *shape, int ndim, double scale);
/* The optional input i of a forward call: NULL when n <= i or the entry is NULL. */
static inline lz_array *lz_nn__opt(lz_array *const *in, int n, int i) {
  return i < n ? in[i] : NULL;
}
/* Checks that a forward call got between lo and hi inputs and that required ones are set. */
int lz_nn__check_call(const char *who, lz_array *const *in, int n, int lo, int hi);
/* Sets an output of a forward: out[0] = r, returning 1, or -1 when r is NULL. */
static inline int lz_nn__out1(lz_array **out, lz_array *r) { return (out[0] = r) ? 1 : -1; }
/* x @ w^T (+ b when b is not NULL), the Linear map. */
lz_array *lz_nn__linear(lz_array *x, lz_array *w, lz_array *b);
/* QuantizedEmbedding.as_linear: x @ W^T with the quantized table. */
lz_array *lz_nn__quantized_as_linear(lz_module *embedding, lz_array *x);
/* Applies reduction to a loss. */
lz_array *lz_nn__reduce(lz_array *loss, lz_nn_reduction reduction, const char *who);

#endif /* LZ_NN_IMPL_H */
