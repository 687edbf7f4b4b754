/* Recurrent layers: RNN, GRU and LSTM (MLX's parameter names, shapes and update equations). */
#include <math.h>

#include "nn/nn_impl.h"

typedef struct rnn_cfg {
  int input_size, hidden_size;
  lz_nn_activation_fn nonlinearity;
} rnn_cfg;

/* Checks x (N, L, D) or (L, D) and returns the projected steps x W^T + b, unstacked along the
 * sequence axis into a malloc'd array of *len arrays (NULL on error). */
static lz_array **project_steps(const char *who, const rnn_cfg *c, lz_array *x, lz_array *w,
                                lz_array *b, int *len) {
  int nd = lz_array_ndim(x);
  if ((nd != 2 && nd != 3) || lz_array_dim(x, -1) != c->input_size) {
    char s[128];
    lz_set_error(LZ_ERROR_SHAPE, who, "expects (N, L, %d) or (L, %d) input, got %s", c->input_size,
                 c->input_size, lz_nn__fmt_shape(s, sizeof s, lz_array_shape(x), nd));
    return NULL;
  }
  *len = lz_array_dim(x, -2);
  lz_array **steps = calloc((size_t)*len + 1, sizeof *steps);
  if (!steps) {
    lz_set_error(LZ_ERROR_OUT_OF_MEMORY, who, "out of memory");
    return NULL;
  }
  if (lz_unstack(lz_nn__linear(x, w, b), nd - 2, steps) != 0) {
    free(steps);
    return NULL;
  }
  return steps;
}

/* Stacks the hidden states along the sequence axis. */
static lz_array *stack_steps(lz_array **h, int len, int nd) {
  if (len == 0) {
    lz_set_error(LZ_ERROR_SHAPE, "lz_nn_rnn", "the sequence is empty");
    return NULL;
  }
  return lz_stack(h, len, nd - 2);
}

static int init_params(lz_module *m, const char *const *names, const int shapes[][2],
                       const int *ndims, int n, double scale) {
  NN_BEGIN();
  int rc = 0;
  for (int i = 0; i < n && rc == 0; i++) {
    lz_array *a = lz_nn__uniform(shapes[i], ndims[i], scale);
    rc = a ? lz_module_set_param(m, names[i], a) : -1;
  }
  lz_scope_end();
  return rc;
}

static lz_module *rnn_module(const char *type, lz_module_fn fwd, int input_size, int hidden_size,
                             lz_nn_activation_fn nl, int gates, bool bias, bool gru) {
  if (input_size < 1 || hidden_size < 1) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, type, "sizes must be positive, got %d and %d",
                 input_size, hidden_size);
    return NULL;
  }
  rnn_cfg c = {input_size, hidden_size, nl ? nl : lz_tanh};
  lz_module *m = lz_nn__module(type, fwd, &c, sizeof c);
  if (!m) return NULL;
  int g = gates * hidden_size;
  const int shapes[4][2] = {{g, input_size}, {g, hidden_size}, {g, 0}, {hidden_size, 0}};
  const int nds[4] = {2, 2, 1, 1};
  const char *rnn_names[3] = {"Wxh", "Whh", "bias"};
  const char *gate_names[4] = {"Wx", "Wh", gru ? "b" : "bias", "bhn"};
  int n = bias ? (gru ? 4 : 3) : 2;
  int rc = init_params(m, gates == 1 ? rnn_names : gate_names, shapes, nds, n,
                       1.0 / sqrt((double)hidden_size));
  if (rc) lz_module_free(m), m = NULL;
  return m;
}

/* ---- RNN ---- */

static int rnn_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  const rnn_cfg *c = lz_module_ctx(m);
  if (lz_nn__check_call("RNN", in, n, 1, 2) != 0) return -1;
  lz_array *h = lz_nn__opt(in, n, 1);
  int len = 0;
  NN_BEGIN();
  lz_array *whh_t = lz_transpose(lz_nn__get(m, "Whh"), NULL, 0);
  lz_array **steps =
      project_steps("RNN", c, in[0], lz_nn__get(m, "Wxh"), lz_nn__get(m, "bias"), &len);
  if (!steps) return lz_nn__out1(out, NN_END(NULL));
  for (int t = 0; t < len; t++) {
    lz_array *pre = h ? lz_add(steps[t], lz_matmul(h, whh_t)) : steps[t];
    steps[t] = h = pre ? c->nonlinearity(pre) : NULL;
  }
  lz_array *r = stack_steps(steps, len, lz_array_ndim(in[0]));
  free(steps);
  return lz_nn__out1(out, NN_END(r));
}

lz_module *lz_nn_rnn_new(int input_size, int hidden_size, bool bias,
                         lz_nn_activation_fn nonlinearity) {
  return rnn_module("RNN", rnn_forward, input_size, hidden_size, nonlinearity, 1, bias, false);
}

/* ---- GRU ---- */

static int gru_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  const rnn_cfg *c = lz_module_ctx(m);
  if (lz_nn__check_call("GRU", in, n, 1, 2) != 0) return -1;
  lz_array *h = lz_nn__opt(in, n, 1);
  int len = 0;
  NN_BEGIN();
  lz_array *wh_t = lz_transpose(lz_nn__get(m, "Wh"), NULL, 0), *bhn = lz_nn__get(m, "bhn");
  lz_array **steps = project_steps("GRU", c, in[0], lz_nn__get(m, "Wx"), lz_nn__get(m, "b"), &len);
  if (!steps) return lz_nn__out1(out, NN_END(NULL));
  for (int t = 0; t < len; t++) {
    lz_array *parts[3], *hp[3];
    if (lz_split(steps[t], 3, -1, parts) != 0) break;
    lz_array *r = parts[0], *z = parts[1], *nn = parts[2];
    if (h) {
      if (lz_split(lz_matmul(h, wh_t), 3, -1, hp) != 0) break;
      lz_array *hn = bhn ? lz_add(hp[2], bhn) : hp[2];
      r = lz_add(r, hp[0]), z = lz_add(z, hp[1]);
      r = lz_sigmoid(r), z = lz_sigmoid(z);
      nn = lz_tanh(lz_add(nn, lz_multiply(r, hn)));
      h = lz_add(lz_multiply(lz_subtract(lz_int(1), z), nn), lz_multiply(z, h));
    } else {
      z = lz_sigmoid(z);
      h = lz_multiply(lz_subtract(lz_int(1), z), lz_tanh(nn));
    }
    steps[t] = h;
  }
  lz_array *r = lz_nn__failed_since(lz_nn__errors) ? NULL : stack_steps(steps, len, lz_array_ndim(in[0]));
  free(steps);
  return lz_nn__out1(out, NN_END(r));
}

lz_module *lz_nn_gru_new(int input_size, int hidden_size, bool bias) {
  return rnn_module("GRU", gru_forward, input_size, hidden_size, NULL, 3, bias, true);
}

/* ---- LSTM ---- */

static int lstm_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  const rnn_cfg *c = lz_module_ctx(m);
  if (lz_nn__check_call("LSTM", in, n, 1, 3) != 0) return -1;
  lz_array *h = lz_nn__opt(in, n, 1), *cell = lz_nn__opt(in, n, 2);
  int len = 0;
  NN_BEGIN();
  lz_array *wh_t = lz_transpose(lz_nn__get(m, "Wh"), NULL, 0);
  lz_array **steps =
      project_steps("LSTM", c, in[0], lz_nn__get(m, "Wx"), lz_nn__get(m, "bias"), &len);
  lz_array **cells = steps ? calloc((size_t)len + 1, sizeof *cells) : NULL;
  if (!cells) {
    free(steps);
    if (!lz_nn__failed()) lz_set_error(LZ_ERROR_OUT_OF_MEMORY, "LSTM", "out of memory");
    lz_scope_end();
    return -1;
  }
  for (int t = 0; t < len; t++) {
    lz_array *ifgo = h ? lz_add(steps[t], lz_matmul(h, wh_t)) : steps[t], *g4[4];
    if (!ifgo || lz_split(ifgo, 4, -1, g4) != 0) break;
    lz_array *i = lz_sigmoid(g4[0]), *f = lz_sigmoid(g4[1]), *g = lz_tanh(g4[2]);
    lz_array *o = lz_sigmoid(g4[3]);
    cell = cell ? lz_add(lz_multiply(f, cell), lz_multiply(i, g)) : lz_multiply(i, g);
    h = lz_multiply(o, lz_tanh(cell));
    steps[t] = h, cells[t] = cell;
  }
  int nd = lz_array_ndim(in[0]);
  lz_array *hs = lz_nn__failed_since(lz_nn__errors) ? NULL : stack_steps(steps, len, nd);
  lz_array *cs = lz_nn__failed_since(lz_nn__errors) ? NULL : stack_steps(cells, len, nd);
  free(steps), free(cells);
  hs = lz_keep(hs), cs = lz_keep(cs);
  lz_scope_end();
  if (!hs || !cs) {
    lz_free(hs), lz_free(cs);
    return -1;
  }
  out[0] = hs, out[1] = cs;
  return 2;
}

lz_module *lz_nn_lstm_new(int input_size, int hidden_size, bool bias) {
  return rnn_module("LSTM", lstm_forward, input_size, hidden_size, NULL, 4, bias, false);
}
