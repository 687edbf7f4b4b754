/* lz_grad and lz_value_and_grad: closures that run the vjp of a scalar function. */
#include "transforms/transforms_impl.h"

#include <stdlib.h>

typedef struct grad_ctx {
  lz_closure *f;
  bool with_value, has_aux;
  int nargs;
  int argnums[];
} grad_ctx;

static void grad_ctx_free(void *p) {
  grad_ctx *g = p;
  lz_closure_free(g->f);
  free(g);
}

static int grad_call(void *ctx, lz_array *const *in, int n, lz_array **out) {
  grad_ctx *g = ctx;
  const char *who = g->with_value ? "lz_value_and_grad" : "lz_grad";
  for (int i = 0; i < g->nargs; i++) {
    int a = g->argnums[i];
    if (a >= n)
      return lz__error(LZ_ERROR_INVALID_ARGUMENT, who, "argnum %d is out of range for a call "
                       "with %d inputs", a, n);
  }
  lz_array *outs[LZ_MAX_OUTPUTS];
  /* The gradients land in out[0..nargs) and move behind the values below. */
  int k = lz__vjp_core(who, g->f, in, n, g->argnums, g->nargs, NULL, 0, true, outs, out);
  if (k < 0) return -1;
  if (lz__conj_results(who, out, g->nargs) != 0) { /* MLX's convention for complex inputs */
    for (int j = 0; j < k; j++) lz_free(outs[j]);
    return -1;
  }
  if (k > 1 && !g->has_aux) {
    for (int j = 0; j < k; j++) lz_free(outs[j]);
    for (int i = 0; i < g->nargs; i++) lz_free(out[i]), out[i] = NULL;
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, who, "the function returned %d outputs; it "
                     "must return one scalar%s", k,
                     g->with_value ? " (or pass has_aux to return auxiliary outputs)" : "");
  }
  int nval = g->with_value ? k : 0;
  if (nval + g->nargs > LZ_MAX_OUTPUTS) {
    for (int j = 0; j < k; j++) lz_free(outs[j]);
    for (int i = 0; i < g->nargs; i++) lz_free(out[i]), out[i] = NULL;
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, who, "%d values and %d gradients exceed %d "
                     "outputs", nval, g->nargs, LZ_MAX_OUTPUTS);
  }
  if (nval) {
    memmove(out + nval, out, (size_t)g->nargs * sizeof *out);
    for (int j = 0; j < k; j++) out[j] = outs[j];
  } else {
    for (int j = 0; j < k; j++) lz_free(outs[j]);
  }
  return nval + g->nargs;
}

static lz_closure *make_grad(const char *who, lz_closure *f, const int *argnums, int nargnums,
                             bool with_value, bool has_aux) {
  if (!f) {
    if (!lz__has_error()) lz__error(LZ_ERROR_INVALID_ARGUMENT, who, "the closure is NULL");
    return NULL;
  }
  static const int first[1] = {0};
  if (!argnums || nargnums <= 0) argnums = first, nargnums = 1;
  if (nargnums > LZ_MAX_OUTPUTS) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, who, "%d argnums (at most %d)", nargnums,
              LZ_MAX_OUTPUTS);
    return NULL;
  }
  for (int i = 0; i < nargnums; i++) {
    if (argnums[i] < 0) {
      lz__error(LZ_ERROR_INVALID_ARGUMENT, who, "argnum %d is negative", argnums[i]);
      return NULL;
    }
    for (int j = 0; j < i; j++)
      if (argnums[j] == argnums[i]) {
        lz__error(LZ_ERROR_INVALID_ARGUMENT, who, "argnum %d is repeated", argnums[i]);
        return NULL;
      }
  }
  grad_ctx *g = lz__malloc(sizeof *g + (size_t)nargnums * sizeof(int));
  if (!g) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, who, "out of memory");
    return NULL;
  }
  g->f = lz_closure_retain(f);
  g->with_value = with_value, g->has_aux = has_aux, g->nargs = nargnums;
  memcpy(g->argnums, argnums, (size_t)nargnums * sizeof(int));
  lz_closure *c = lz_closure_new(grad_call, g, grad_ctx_free);
  if (!c) grad_ctx_free(g);
  return c;
}

lz_closure *lz_grad(lz_closure *f, const int *argnums, int nargnums) {
  return make_grad("lz_grad", f, argnums, nargnums, false, false);
}

lz_closure *lz_value_and_grad(lz_closure *f, const int *argnums, int nargnums, bool has_aux) {
  return make_grad("lz_value_and_grad", f, argnums, nargnums, true, has_aux);
}
