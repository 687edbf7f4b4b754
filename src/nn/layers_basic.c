/* Identity, Linear, Bilinear, Embedding, Sequential and Dropout. */
#include <math.h>

#include "nn/nn_impl.h"

lz_array *lz_nn__uniform(const int *shape, int ndim, double scale) {
  NN_BEGIN();
  return NN_END(
      lz_random_uniform(lz_float(-scale), lz_float(scale), shape, ndim, LZ_FLOAT32, NULL));
}

lz_array *lz_nn__linear(lz_array *x, lz_array *w, lz_array *b) {
  NN_BEGIN();
  lz_array *y = lz_matmul(x, lz_transpose(w, NULL, 0));
  return NN_END(b ? lz_add(y, b) : y);
}

/* Sets a new parameter made by an expression (NULL passes the error through). */
static int init_param(lz_module *m, const char *name, lz_array *a) {
  return a ? lz_module_set_param(m, name, a) : -1;
}

/* ---- Identity ---- */

static int identity_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  if (lz_nn__check_call("Identity", in, n, 1, 1) != 0) return -1;
  return lz_nn__out1(out, lz_retain(in[0]));
}

lz_module *lz_nn_identity_new(void) {
  return lz_module_new("Identity", identity_forward, NULL, NULL);
}

/* ---- Linear ---- */

static int linear_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  if (lz_nn__check_call("Linear", in, n, 1, 1) != 0) return -1;
  NN_BEGIN();
  lz_array *y = lz_nn__linear(in[0], lz_nn__get(m, "weight"), lz_nn__get(m, "bias"));
  return lz_nn__out1(out, NN_END(y));
}

lz_module *lz_nn_linear_new(int input_dims, int output_dims, bool bias) {
  if (input_dims < 1 || output_dims < 1) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_linear_new",
                 "dims must be positive, got %d "
                 "and %d",
                 input_dims, output_dims);
    return NULL;
  }
  lz_module *m = lz_module_new("Linear", linear_forward, NULL, NULL);
  if (!m) return NULL;
  double scale = sqrt(1.0 / input_dims);
  int ws[2] = {output_dims, input_dims};
  NN_BEGIN();
  int rc = init_param(m, "weight", lz_nn__uniform(ws, 2, scale));
  if (rc == 0 && bias) rc = init_param(m, "bias", lz_nn__uniform(&output_dims, 1, scale));
  lz_scope_end();
  if (rc != 0) lz_module_free(m), m = NULL;
  return m;
}

/* ---- Bilinear ---- */

static int bilinear_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  if (lz_nn__check_call("Bilinear", in, n, 2, 2) != 0) return -1;
  NN_BEGIN();
  lz_array *w = lz_nn__get(m, "weight"), *b = lz_nn__get(m, "bias");
  const int *ws = lz_array_shape(w);
  int o = ws[0], in2 = ws[1], in1 = ws[2];
  lz_array *x1 = in[0], *x2 = in[1];
  int nd = lz_array_ndim(x1);
  if (nd < 1 || lz_array_dim(x1, -1) != in1 || lz_array_ndim(x2) < 1 ||
      lz_array_dim(x2, -1) != in2) {
    char s1[128], s2[128];
    lz_set_error(LZ_ERROR_SHAPE, "Bilinear", "inputs %s and %s do not end in %d and %d",
                 lz_nn__fmt_shape(s1, sizeof s1, lz_array_shape(x1), nd),
                 lz_nn__fmt_shape(s2, sizeof s2, lz_array_shape(x2), lz_array_ndim(x2)), in1, in2);
    return lz_nn__out1(out, NN_END(NULL));
  }
  /* y[b, o] = sum_ij x1[b, i] W[o, j, i] x2[b, j] */
  lz_array *a = lz_reshape(x1, (int[]){-1, in1}, 2);
  lz_array *c = lz_reshape(x2, (int[]){-1, 1, in2}, 3);
  lz_array *wf = lz_reshape(w, (int[]){o * in2, in1}, 2);
  lz_array *y = lz_matmul(a, lz_transpose(wf, NULL, 0));
  y = lz_swapaxes(lz_reshape(y, (int[]){-1, o, in2}, 3), -2, -1);
  y = lz_squeeze(lz_matmul(c, y), (int[]){1}, 1);
  if (b) y = lz_add(y, b);
  int shape[LZ_MAX_NDIM];
  for (int d = 0; d < nd - 1; d++) shape[d] = lz_array_shape(x1)[d];
  shape[nd - 1] = o;
  return lz_nn__out1(out, NN_END(lz_reshape(y, shape, nd)));
}

lz_module *lz_nn_bilinear_new(int input1_dims, int input2_dims, int output_dims, bool bias) {
  if (input1_dims < 1 || input2_dims < 1 || output_dims < 1) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_bilinear_new", "dims must be positive");
    return NULL;
  }
  lz_module *m = lz_module_new("Bilinear", bilinear_forward, NULL, NULL);
  if (!m) return NULL;
  double scale = sqrt(1.0 / input1_dims);
  int ws[3] = {output_dims, input2_dims, input1_dims};
  NN_BEGIN();
  int rc = init_param(m, "weight", lz_nn__uniform(ws, 3, scale));
  if (rc == 0 && bias) rc = init_param(m, "bias", lz_nn__uniform(&output_dims, 1, scale));
  lz_scope_end();
  if (rc != 0) lz_module_free(m), m = NULL;
  return m;
}

/* ---- Embedding ---- */

static int embedding_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  if (lz_nn__check_call("Embedding", in, n, 1, 1) != 0) return -1;
  NN_BEGIN();
  return lz_nn__out1(out, NN_END(lz_take(lz_nn__get(m, "weight"), in[0], 0)));
}

lz_module *lz_nn_embedding_new(int num_embeddings, int dims) {
  if (num_embeddings < 1 || dims < 1) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_embedding_new",
                 "sizes must be positive, got "
                 "%d and %d",
                 num_embeddings, dims);
    return NULL;
  }
  lz_module *m = lz_module_new("Embedding", embedding_forward, NULL, NULL);
  if (!m) return NULL;
  NN_BEGIN();
  int rc = init_param(
      m, "weight",
      lz_random_normal((int[]){num_embeddings, dims}, 2, LZ_FLOAT32, 0.0, sqrt(1.0 / dims), NULL));
  lz_scope_end();
  if (rc != 0) lz_module_free(m), m = NULL;
  return m;
}

lz_array *lz_nn_embedding_as_linear(lz_module *e, lz_array *x) {
  if (e && strcmp(lz_module_type(e), "QuantizedEmbedding") == 0) {
    if (!x && !lz_nn__failed())
      lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_embedding_as_linear", "NULL input");
    return x ? lz_nn__quantized_as_linear(e, x) : NULL;
  }
  if (!e || strcmp(lz_module_type(e), "Embedding") != 0) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_embedding_as_linear", "not an Embedding");
    return NULL;
  }
  NN_BEGIN();
  return NN_END(lz_nn__linear(x, lz_nn__get(e, "weight"), NULL));
}

/* ---- Sequential ---- */

static int sequential_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  int k = lz_module_num_children(m);
  if (k == 0) {
    if (lz_nn__check_call("Sequential", in, n, 1, 1) != 0) return -1;
    return lz_nn__out1(out, lz_retain(in[0]));
  }
  lz_array *tmp[LZ_NN_MAX_OUTPUTS];
  int nout = lz_module_call(lz_module_child_at(m, 0, NULL), in, n, tmp);
  for (int i = 1; i < k && nout > 0; i++) {
    for (int j = 1; j < nout; j++) lz_free(tmp[j]);
    lz_array *x = tmp[0];
    nout = lz_module_call(lz_module_child_at(m, i, NULL), &x, 1, tmp);
    lz_free(x);
  }
  for (int j = 0; j < nout; j++) out[j] = tmp[j];
  return nout;
}

lz_module *lz_nn_sequential_new(int n, lz_module *const *modules) {
  lz_module *m = lz_module_new("Sequential", sequential_forward, NULL, NULL);
  bool bad = !m || n < 0 || (n && !modules);
  for (int i = 0; i < n && modules; i++) {
    char name[32];
    snprintf(name, sizeof name, "layers.%d", i);
    if (bad)
      lz_module_free(modules[i]);
    else if (lz_module_add_child(m, name, modules[i]) != 0)
      bad = true;
  }
  if (bad) {
    lz_module_free(m);
    if (!lz_nn__failed())
      lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_sequential_new", "invalid modules");
    return NULL;
  }
  return m;
}

/* ---- Dropout ---- */

typedef struct dropout_cfg {
  double p;
  int spatial; /* 0: elementwise, 2: Dropout2d, 3: Dropout3d */
} dropout_cfg;

static int dropout_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  const dropout_cfg *c = lz_module_ctx(m);
  const char *who = lz_module_type(m);
  if (lz_nn__check_call(who, in, n, 1, 1) != 0) return -1;
  lz_array *x = in[0];
  int nd = lz_array_ndim(x);
  if (c->spatial && (nd < c->spatial + 1 || nd > c->spatial + 2)) {
    return lz_set_error(LZ_ERROR_SHAPE, who, "expects %d-d or %d-d input, got %d-d", c->spatial + 1,
                        c->spatial + 2, nd);
  }
  if (c->p == 0 || !lz_module_is_training(m)) return lz_nn__out1(out, lz_retain(x));
  int shape[LZ_MAX_NDIM];
  memcpy(shape, lz_array_shape(x), (size_t)nd * sizeof(int));
  for (int d = 0; d < c->spatial; d++) shape[nd - 2 - d] = 1;
  NN_BEGIN();
  lz_array *mask = lz_random_bernoulli(lz_float(1 - c->p), shape, nd, NULL);
  lz_array *y = lz_multiply(lz_multiply(x, mask), lz_float(1.0 / (1.0 - c->p)));
  return lz_nn__out1(out, NN_END(y));
}

static lz_module *dropout(const char *type, double p, int spatial) {
  if (!(p >= 0 && p < 1)) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_dropout_new", "p must be in [0, 1), got %g", p);
    return NULL;
  }
  dropout_cfg c = {p, spatial};
  return lz_nn__module(type, dropout_forward, &c, sizeof c);
}

lz_module *lz_nn_dropout_new(double p) { return dropout("Dropout", p, 0); }
lz_module *lz_nn_dropout2d_new(double p) { return dropout("Dropout2d", p, 2); }
lz_module *lz_nn_dropout3d_new(double p) { return dropout("Dropout3d", p, 3); }
