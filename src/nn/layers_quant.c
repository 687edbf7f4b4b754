/* Quantized layers (QuantizedLinear, QuantizedEmbedding) and nn.quantize(model). */
#include <math.h>

#include "nn/nn_impl.h"

typedef struct quant_cfg {
  int group_size, bits;
} quant_cfg;

/* ---- x @ W^T with a quantized W, differentiable in x ---------------------------------------
 * The quantized matmul op has no derivative rule of its own, so it is wrapped in a custom
 * function: the product is linear in x, and its cotangent is the cotangent times W (the same op
 * without the transpose). The packed weights, scales and biases get zero cotangents (they are
 * frozen parameters). */

static int qmm_fn(void *ctx, lz_array *const *in, int n, lz_array **out) {
  const quant_cfg *c = ctx;
  (void)n;
  out[0] = lz_quantized_matmul(in[0], in[1], in[2], in[3], true, c->group_size, c->bits);
  return out[0] ? 1 : -1;
}

/* (x, w, scales, biases, cotangent, output) -> (dx, 0, 0, 0) */
static int qmm_vjp(void *ctx, lz_array *const *in, int n, lz_array **out) {
  const quant_cfg *c = ctx;
  (void)n;
  lz_array *dx = lz_quantized_matmul(in[4], in[1], in[2], in[3], false, c->group_size, c->bits);
  out[0] = dx ? lz_astype(dx, lz_array_dtype(in[0])) : NULL;
  lz_free(dx);
  for (int i = 1; i < 4; i++) out[i] = lz_zeros_like(in[i]);
  return out[0] && out[1] && out[2] && out[3] ? 4 : -1;
}

/* (x, w, scales, biases, tx, tw, ts, tb) -> (tx @ W^T) */
static int qmm_jvp(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)n;
  return qmm_fn(ctx, (lz_array *const[]){in[4], in[1], in[2], in[3]}, 4, out);
}

static lz_array *qmm(lz_module *m, lz_array *x) {
  quant_cfg *c = lz_module_ctx(m);
  lz_array *w = lz_nn__get(m, "weight"), *s = lz_nn__get(m, "scales"), *b = lz_nn__get(m, "biases");
  lz_closure *f = lz_closure_new(qmm_fn, c, NULL);
  lz_closure *v = lz_closure_new(qmm_vjp, c, NULL);
  lz_closure *j = lz_closure_new(qmm_jvp, c, NULL);
  lz_closure *cf = f && v && j ? lz_custom_function(f, v, j, NULL) : NULL;
  lz_array *in[4] = {x, w, s, b}, *out[LZ_MAX_OUTPUTS];
  lz_array *y = cf && lz_closure_call(cf, in, 4, out) == 1 ? out[0] : NULL;
  lz_closure_free(cf), lz_closure_free(f), lz_closure_free(v), lz_closure_free(j);
  lz_free(w), lz_free(s), lz_free(b);
  return y;
}

/* ---- modules -------------------------------------------------------------------------------- */

static int qlinear_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  if (lz_nn__check_call("QuantizedLinear", in, n, 1, 1) != 0) return -1;
  NN_BEGIN();
  lz_array *y = qmm(m, in[0]), *b = lz_nn__get(m, "bias");
  return lz_nn__out1(out, NN_END(y && b ? lz_add(y, b) : y));
}

static int qembedding_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  const quant_cfg *c = lz_module_ctx(m);
  if (lz_nn__check_call("QuantizedEmbedding", in, n, 1, 1) != 0) return -1;
  lz_array *idx = in[0];
  NN_BEGIN();
  /* dequantize needs a 2-d table: look the rows up by the flattened indices */
  lz_array *flat = lz_reshape(idx, (int[]){-1}, 1);
  lz_array *rows = lz_dequantize(lz_take(lz_nn__get(m, "weight"), flat, 0),
                                 lz_take(lz_nn__get(m, "scales"), flat, 0),
                                 lz_take(lz_nn__get(m, "biases"), flat, 0), c->group_size, c->bits);
  int nd = lz_array_ndim(idx), shape[LZ_MAX_NDIM];
  if (rows && nd + 1 > LZ_MAX_NDIM) {
    lz_set_error(LZ_ERROR_SHAPE, "QuantizedEmbedding", "indices have too many dimensions (%d)", nd);
    rows = NULL;
  }
  if (rows) {
    memcpy(shape, lz_array_shape(idx), (size_t)nd * sizeof(int));
    shape[nd] = lz_array_dim(rows, -1);
  }
  return lz_nn__out1(out, NN_END(rows ? lz_reshape(rows, shape, nd + 1) : NULL));
}

static bool check_quant(const char *who, int group_size, int bits) {
  bool ok = (group_size == 32 || group_size == 64 || group_size == 128) && bits >= 2 && bits <= 8 &&
            bits != 7;
  if (!ok)
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who,
                 "group_size %d or bits %d is not supported (32, 64, 128; 2 to 6 or 8 bits)",
                 group_size, bits);
  return ok;
}

/* A quantized module of `type` holding weight, scales and biases quantized from `w` (lazily),
 * plus `bias` when not NULL; all pinned frozen. */
static lz_module *quantized(const char *type, lz_module_fn fwd, lz_array *w, lz_array *bias,
                            int group_size, int bits) {
  if (!w || !check_quant(type, group_size, bits)) return NULL;
  quant_cfg c = {group_size, bits};
  lz_array *q[3];
  if (lz_quantize(w, group_size, bits, q) != 0) return NULL;
  lz_module *m = lz_nn__module(type, fwd, &c, sizeof c);
  int rc = m ? 0 : -1;
  const char *names[4] = {"weight", "scales", "biases", "bias"};
  for (int i = 0; i < 3 && rc == 0; i++) rc = lz_module_set_param(m, names[i], q[i]);
  if (rc == 0 && bias) rc = lz_module_set_param(m, "bias", bias);
  for (int i = 0; i < (bias ? 4 : 3) && rc == 0; i++) rc = lz_nn__pin_frozen(m, names[i]);
  for (int i = 0; i < 3; i++) lz_free(q[i]);
  if (rc != 0) lz_module_free(m), m = NULL;
  return m;
}

lz_module *lz_nn_quantized_linear_new(int input_dims, int output_dims, bool bias, int group_size,
                                      int bits) {
  const char *who = "lz_nn_quantized_linear_new";
  if (input_dims < 1 || output_dims < 1) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "dims must be positive, got %d and %d", input_dims,
                 output_dims);
    return NULL;
  }
  if (!check_quant(who, group_size, bits)) return NULL;
  NN_BEGIN();
  lz_array *w = lz_nn__uniform((int[]){output_dims, input_dims}, 2, sqrt(1.0 / input_dims));
  lz_array *b = bias ? lz_zeros(&output_dims, 1, LZ_FLOAT32) : NULL;
  lz_module *m = quantized("QuantizedLinear", qlinear_forward, w, b, group_size, bits);
  lz_scope_end();
  return m;
}

lz_module *lz_nn_quantized_embedding_new(int num_embeddings, int dims, int group_size, int bits) {
  const char *who = "lz_nn_quantized_embedding_new";
  if (num_embeddings < 1 || dims < 1) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "sizes must be positive, got %d and %d",
                 num_embeddings, dims);
    return NULL;
  }
  if (!check_quant(who, group_size, bits)) return NULL;
  NN_BEGIN();
  lz_array *w =
      lz_random_normal((int[]){num_embeddings, dims}, 2, LZ_FLOAT32, 0.0, sqrt(1.0 / dims), NULL);
  lz_module *m = quantized("QuantizedEmbedding", qembedding_forward, w, NULL, group_size, bits);
  lz_scope_end();
  return m;
}

static bool is_type(const lz_module *m, const char *type) {
  return m && strcmp(lz_module_type(m), type) == 0;
}

/* Quantizes a Linear or an Embedding (NULL with an error for anything else). */
static lz_module *from_layer(lz_module *layer, int group_size, int bits, const char *who) {
  bool linear = is_type(layer, "Linear");
  if (!linear && !is_type(layer, "Embedding")) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "expects a Linear or an Embedding, got %s",
                 layer ? lz_module_type(layer) : "NULL");
    return NULL;
  }
  NN_BEGIN();
  lz_array *w = lz_nn__get(layer, "weight"), *b = linear ? lz_nn__get(layer, "bias") : NULL;
  lz_module *m =
      linear ? quantized("QuantizedLinear", qlinear_forward, w, b, group_size, bits)
             : quantized("QuantizedEmbedding", qembedding_forward, w, NULL, group_size, bits);
  lz_scope_end();
  if (m) lz_module_train(m, lz_module_is_training(layer));
  return m;
}

lz_module *lz_nn_quantized_linear_from_linear(lz_module *linear, int group_size, int bits) {
  const char *who = "lz_nn_quantized_linear_from_linear";
  if (!is_type(linear, "Linear")) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "expects a Linear, got %s",
                 linear ? lz_module_type(linear) : "NULL");
    return NULL;
  }
  return from_layer(linear, group_size, bits, who);
}

lz_module *lz_nn_quantized_embedding_from_embedding(lz_module *embedding, int group_size,
                                                    int bits) {
  const char *who = "lz_nn_quantized_embedding_from_embedding";
  if (!is_type(embedding, "Embedding")) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "expects an Embedding, got %s",
                 embedding ? lz_module_type(embedding) : "NULL");
    return NULL;
  }
  return from_layer(embedding, group_size, bits, who);
}

lz_array *lz_nn__quantized_as_linear(lz_module *e, lz_array *x) {
  NN_BEGIN();
  return NN_END(qmm(e, x));
}

/* ---- nn.quantize ---------------------------------------------------------------------------- */

#define QPATH_MAX 1024

typedef struct quant_walk {
  int group_size, bits;
  lz_nn_quantize_predicate predicate;
  void *ctx;
  char **paths; /* chosen layers and their replacements */
  lz_module **repl;
  int n, cap;
} quant_walk;

static int walk_add(quant_walk *w, const char *path, lz_module *repl) {
  if (w->n == w->cap) {
    int cap = w->cap ? 2 * w->cap : 16;
    char **p = realloc(w->paths, (size_t)cap * sizeof *p);
    if (p) w->paths = p;
    lz_module **r = p ? realloc(w->repl, (size_t)cap * sizeof *r) : NULL;
    if (r) w->repl = r;
    if (!p || !r) {
      lz_module_free(repl);
      return lz_set_error(LZ_ERROR_OUT_OF_MEMORY, "lz_nn_quantize", "out of memory");
    }
    w->cap = cap;
  }
  size_t len = strlen(path) + 1;
  char *s = malloc(len);
  if (!s) {
    lz_module_free(repl);
    return lz_set_error(LZ_ERROR_OUT_OF_MEMORY, "lz_nn_quantize", "out of memory");
  }
  memcpy(s, path, len);
  w->paths[w->n] = s, w->repl[w->n++] = repl;
  return 0;
}

/* Visits the descendants of m (modules are shallow: the recursion is bounded by their depth). */
static int walk(quant_walk *w, lz_module *m, char *path, size_t len) {
  for (int i = 0; i < lz_module_num_children(m); i++) {
    const char *name;
    lz_module *c = lz_module_child_at(m, i, &name);
    size_t k = strlen(name) + (len ? 1 : 0);
    if (len + k + 1 > QPATH_MAX)
      return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_quantize", "module path too long");
    snprintf(path + len, QPATH_MAX - len, "%s%s", len ? "." : "", name);
    bool leaf = lz_module_num_children(c) == 0;
    if (leaf && (is_type(c, "Linear") || is_type(c, "Embedding")) &&
        (!w->predicate || w->predicate(w->ctx, path, c))) {
      lz_module *q = from_layer(c, w->group_size, w->bits, "lz_nn_quantize");
      if (!q) {
        char msg[QPATH_MAX + 64];
        snprintf(msg, sizeof msg, "%s", lz_last_error());
        lz_clear_error();
        return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_quantize", "cannot quantize '%s': %s",
                            path, msg);
      }
      if (walk_add(w, path, q) != 0) return -1;
    } else if (!leaf && walk(w, c, path, len + k) != 0) {
      return -1;
    }
    path[len] = '\0';
  }
  return 0;
}

int lz_nn_quantize(lz_module *model, int group_size, int bits, lz_nn_quantize_predicate predicate,
                   void *ctx) {
  if (!model) {
    if (!lz_nn__failed()) lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_quantize", "NULL model");
    return -1;
  }
  if (!check_quant("lz_nn_quantize", group_size, bits)) return -1;
  quant_walk w = {group_size, bits, predicate, ctx, NULL, NULL, 0, 0};
  char path[QPATH_MAX];
  path[0] = '\0';
  int rc = walk(&w, model, path, 0);
  for (int i = 0; i < w.n; i++) {
    /* every replacement was built before the first swap, so a failure changes nothing */
    if (rc == 0)
      rc = lz_module_replace_child(model, w.paths[i], w.repl[i]);
    else
      lz_module_free(w.repl[i]);
    free(w.paths[i]);
  }
  free(w.paths), free(w.repl);
  return rc == 0 ? w.n : -1;
}
