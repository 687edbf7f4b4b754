/* nn.value_and_grad: the gradient of a loss with respect to a module's trainable parameters.
 *
 * The loss becomes a closure over the parameters: the transform calls it on its own handles of
 * them, which are swapped into the module for the call (as MLX's model.update does) and swapped
 * back afterwards. lz_vjp is used rather than lz_grad, so any number of parameters works. */
#include "nn/nn_impl.h"

struct lz_nn_grad_fn {
  lz_module *model;
  lz_nn_loss_fn fn;
  void *ctx;
};

typedef struct call_ctx {
  lz_nn_grad_fn *g;
  const lz_dict *names; /* trainable parameters: names and original arrays */
  lz_array *const *inputs;
  int n;
} call_ctx;

static int traced_loss(void *p, lz_array *const *in, int n, lz_array **out) {
  call_ctx *c = p;
  lz_dict *swap = lz_dict_new();
  if (!swap) return -1;
  int rc = 0;
  for (int i = 0; i < n && rc == 0; i++)
    rc = lz_dict_set(swap, lz_dict_key(c->names, (size_t)i), in[i]);
  if (rc == 0) rc = lz_module_update(c->g->model, swap);
  lz_dict_free(swap);
  out[0] = rc == 0 ? c->g->fn(c->g->ctx, c->g->model, c->inputs, c->n) : NULL;
  /* Put the original parameters back, whatever happened (this works with an error pending). */
  int back = lz_module_update(c->g->model, c->names);
  if (!out[0] || back != 0) {
    if (!lz_nn__failed())
      lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_value_and_grad", "the loss function failed");
    lz_free(out[0]);
    out[0] = NULL;
    return -1;
  }
  if (lz_array_ndim(out[0]) != 0) {
    char s[128];
    lz_set_error(LZ_ERROR_SHAPE, "lz_nn_value_and_grad",
                 "the loss must be a scalar (0-d array), "
                 "got shape %s",
                 lz_nn__fmt_shape(s, sizeof s, lz_array_shape(out[0]), lz_array_ndim(out[0])));
    lz_free(out[0]);
    out[0] = NULL;
    return -1;
  }
  return 1;
}

lz_nn_grad_fn *lz_nn_value_and_grad(lz_module *model, lz_nn_loss_fn fn, void *ctx) {
  if (!model || !fn) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_value_and_grad", "NULL %s",
                 model ? "function" : "model");
    return NULL;
  }
  lz_nn_grad_fn *g = malloc(sizeof *g);
  if (!g) {
    lz_set_error(LZ_ERROR_OUT_OF_MEMORY, "lz_nn_value_and_grad", "out of memory");
    return NULL;
  }
  g->model = lz_module_retain(model);
  g->fn = fn, g->ctx = ctx;
  return g;
}

void lz_nn_grad_fn_free(lz_nn_grad_fn *g) {
  if (!g) return;
  lz_module_free(g->model);
  free(g);
}

int lz_nn_grad_fn_call(lz_nn_grad_fn *g, lz_array *const *inputs, int n, lz_array **loss,
                       lz_dict **grads) {
  const char *who = "lz_nn_value_and_grad";
  if (loss) *loss = NULL;
  if (grads) *grads = NULL;
  if (!g || !loss || !grads || n < 0 || (n && !inputs))
    return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "invalid arguments");
  for (int i = 0; i < n; i++)
    if (!inputs[i]) {
      if (!lz_nn__failed()) lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "input %d is NULL", i);
      return -1;
    }
  lz_dict *params = lz_module_trainable_parameters(g->model);
  lz_dict *out = lz_dict_new();
  size_t np = params ? lz_dict_size(params) : 0;
  lz_array **prim = calloc(np + 1, sizeof *prim), **vjps = calloc(np + 1, sizeof *vjps);
  int rc = params && out && prim && vjps ? 0 : -1;
  if (rc && !lz_nn__failed()) lz_set_error(LZ_ERROR_OUT_OF_MEMORY, who, "out of memory");
  lz_closure *f = NULL;
  call_ctx c = {g, params, inputs, n};
  lz_scope_begin();
  for (size_t i = 0; i < np && rc == 0; i++) prim[i] = lz_dict_value(params, i);
  if (rc == 0) rc = (f = lz_closure_new(traced_loss, &c, NULL)) ? 0 : -1;
  lz_array *one = lz_float(1.0), *value = NULL;
  if (rc == 0) rc = lz_vjp(f, prim, (int)np, &one, 1, &value, vjps);
  for (size_t i = 0; i < np && rc == 0; i++) rc = lz_dict_set(out, lz_dict_key(params, i), vjps[i]);
  if (rc == 0) *loss = lz_keep(value);
  lz_scope_end();
  lz_closure_free(f);
  lz_dict_free(params);
  free(prim), free(vjps);
  if (rc != 0) {
    lz_dict_free(out);
    *loss = NULL;
    return -1;
  }
  *grads = out;
  return 0;
}
