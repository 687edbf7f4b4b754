/* The transformer: building the module tree and the forward pass. */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NORM_EPS 1e-5
#define ROPE_BASE 10000.0

typedef struct lm_layer {
  lz_module *attention_norm, *wq, *wk, *wv, *wo, *mlp_norm, *linear1, *linear2;
} lm_layer;

/* The model's private data: its configuration and borrowed pointers to its children. */
typedef struct lm_ctx {
  lm_config cfg;
  bool fast_norm, fast_rope, fast_attention; /* fused ops allowed in the training graph */
  lz_module *embedding, *rope, *norm, *head;
  lm_layer layer[LM_MAX_LAYERS];
} lm_ctx;

/* ---- the three operations with a fused and a composed form -------------------------------- */

/* RMSNorm with the weight of the RMSNorm module `norm`. */
static lz_array *rms_norm(lz_module *norm, lz_array *x, bool fast) {
  if (!fast) return lz_module_forward(norm, x); /* nn's RMSNorm, built from basic ops */
  lz_array *w = lz_module_param(norm, "weight");
  lz_array *y = lz_fast_rms_norm(x, w, NORM_EPS);
  lz_free(w);
  return y;
}

/* Rotary embedding of (B, H, L, hd) queries or keys at positions offset, offset + 1, ... */
static lz_array *rope(lz_module *rope_module, lz_array *x, int offset, bool fast) {
  if (!fast) return lz_nn_rope_forward(rope_module, x, offset);
  return lz_fast_rope(x, lz_array_dim(x, -1), false, ROPE_BASE, 1.0, offset, NULL);
}

/* Causal attention of (B, H, L, hd) queries over (B, H, S, hd) keys and values, S >= L: query
 * i sees keys j <= i + S - L. */
static lz_array *attention(lz_array *q, lz_array *k, lz_array *v, bool fast) {
  double scale = 1.0 / sqrt((double)lz_array_dim(q, -1));
  if (fast) return lz_fast_scaled_dot_product_attention(q, k, v, scale, "causal", NULL);
  int len = lz_array_dim(q, -2), slen = lz_array_dim(k, -2);
  lz_array *qi = lz_expand_dims(lz_arange(slen - len, slen, 1, LZ_INT32), (int[]){1}, 1);
  lz_array *kj = lz_expand_dims(lz_arange(0, slen, 1, LZ_INT32), (int[]){0}, 1);
  return lz_nn_scaled_dot_product_attention(q, k, v, scale, lz_less_equal(kj, qi));
}

/* ---- the forward pass ---------------------------------------------------------------------- */

/* (B, L, H * hd) -> (B, H, L, hd) and back */
static lz_array *split_heads(lz_array *x, int heads) {
  int b = lz_array_dim(x, 0), l = lz_array_dim(x, 1), d = lz_array_dim(x, 2);
  return lz_transpose(lz_reshape(x, (int[]){b, l, heads, d / heads}, 4), (int[]){0, 2, 1, 3}, 4);
}
static lz_array *merge_heads(lz_array *x) {
  int b = lz_array_dim(x, 0), h = lz_array_dim(x, 1), l = lz_array_dim(x, 2);
  int hd = lz_array_dim(x, 3);
  return lz_reshape(lz_transpose(x, (int[]){0, 2, 1, 3}, 4), (int[]){b, l, h * hd}, 3);
}

lz_array *lm_forward(lz_module *m, lz_array *tokens, lm_cache *cache, bool training) {
  lm_ctx *c = lz_module_ctx(m);
  if (!tokens) return NULL;
  bool fn = !training || c->fast_norm, fr = !training || c->fast_rope;
  bool fa = !training || c->fast_attention;
  int offset = cache ? cache->len : 0;
  lz_array *x = lz_module_forward(c->embedding, tokens); /* (B, L, dims) */
  for (int i = 0; i < c->cfg.layers; i++) {
    const lm_layer *ly = &c->layer[i];
    lz_array *h = rms_norm(ly->attention_norm, x, fn);
    lz_array *q = split_heads(lz_module_forward(ly->wq, h), c->cfg.heads);
    lz_array *k = split_heads(lz_module_forward(ly->wk, h), c->cfg.heads);
    lz_array *v = split_heads(lz_module_forward(ly->wv, h), c->cfg.heads);
    q = rope(c->rope, q, offset, fr);
    k = rope(c->rope, k, offset, fr);
    if (cache) {
      if (cache->k[i]) {
        k = lz_concatenate((lz_array *[]){cache->k[i], k}, 2, 2);
        v = lz_concatenate((lz_array *[]){cache->v[i], v}, 2, 2);
      }
      cache->k[i] = k, cache->v[i] = v;
    }
    lz_array *o = merge_heads(attention(q, k, v, fa));
    x = lz_add(x, lz_module_forward(ly->wo, o));
    h = rms_norm(ly->mlp_norm, x, fn);
    h = lz_module_forward(ly->linear2, lz_nn_gelu(lz_module_forward(ly->linear1, h)));
    x = lz_add(x, h);
  }
  if (cache) cache->len += lz_array_dim(tokens, 1);
  return lz_module_forward(c->head, rms_norm(c->norm, x, fn));
}

static int forward_fn(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  if (n != 1) return lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "TransformerLM", "expects 1 input");
  out[0] = lm_forward(m, in[0], NULL, lz_module_is_training(m));
  return out[0] ? 1 : -1;
}

lz_array *lm_loss(void *ctx, lz_module *m, lz_array *const *in, int n) {
  (void)ctx, (void)n;
  lz_array *logits = lm_forward(m, in[0], NULL, true);
  return lz_nn_cross_entropy(logits, in[1], NULL, -1, 0.0, LZ_NN_REDUCTION_MEAN);
}

lz_array *lm_eval_loss(lz_module *m, lz_array *x, lz_array *y) {
  lz_array *logits = lm_forward(m, x, NULL, false);
  return lz_nn_cross_entropy(logits, y, NULL, -1, 0.0, LZ_NN_REDUCTION_MEAN);
}

/* ---- building ------------------------------------------------------------------------------ */

static lz_module *linear(int in, int out) { return lz_nn_linear_new(in, out, false); }

static lz_module *make_block(const lm_config *c) {
  lz_module *attn = lz_module_new("Attention", NULL, NULL, NULL);
  lz_module *mlp = lz_module_new("MLP", NULL, NULL, NULL);
  lz_module *block = lz_module_new("TransformerBlock", NULL, NULL, NULL);
  int d = c->dims;
  int rc = attn && mlp && block ? 0 : -1;
  if (attn) {
    rc |= lz_module_add_child(attn, "query_proj", linear(d, d));
    rc |= lz_module_add_child(attn, "key_proj", linear(d, d));
    rc |= lz_module_add_child(attn, "value_proj", linear(d, d));
    rc |= lz_module_add_child(attn, "out_proj", linear(d, d));
  }
  if (mlp) {
    rc |= lz_module_add_child(mlp, "linear1", linear(d, c->mlp));
    rc |= lz_module_add_child(mlp, "linear2", linear(c->mlp, d));
  }
  if (block) {
    rc |= lz_module_add_child(block, "attention_norm", lz_nn_rms_norm_new(d, NORM_EPS));
    rc |= lz_module_add_child(block, "attention", attn);
    rc |= lz_module_add_child(block, "mlp_norm", lz_nn_rms_norm_new(d, NORM_EPS));
    rc |= lz_module_add_child(block, "mlp", mlp);
  } else {
    lz_module_free(attn), lz_module_free(mlp);
  }
  if (rc != 0) {
    lz_module_free(block);
    return NULL;
  }
  return block;
}

lz_module *lm_new(const lm_config *cfg) {
  if (cfg->layers < 1 || cfg->layers > LM_MAX_LAYERS || cfg->heads < 1 || cfg->dims % cfg->heads ||
      (cfg->dims / cfg->heads) % 2 || cfg->vocab < 1 || cfg->mlp < 1) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "transformer_lm",
                 "bad model shape: %d layers (1..%d), dims %d in %d heads of an even size",
                 cfg->layers, LM_MAX_LAYERS, cfg->dims, cfg->heads);
    return NULL;
  }
  lm_ctx *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->cfg = *cfg;
  lz_module *m = lz_module_new("TransformerLM", forward_fn, c, free);
  if (!m) {
    free(c);
    return NULL;
  }
  int rc = lz_module_add_child(m, "embedding", lz_nn_embedding_new(cfg->vocab, cfg->dims));
  rc |= lz_module_add_child(m, "rope", lz_nn_rope_new(cfg->dims / cfg->heads, false, ROPE_BASE, 1));
  for (int i = 0; i < cfg->layers && rc == 0; i++) {
    char name[32];
    snprintf(name, sizeof name, "layers.%d", i);
    rc |= lz_module_add_child(m, name, make_block(cfg));
  }
  rc |= lz_module_add_child(m, "norm", lz_nn_rms_norm_new(cfg->dims, NORM_EPS));
  rc |= lz_module_add_child(m, "head", linear(cfg->dims, cfg->vocab));
  if (rc != 0) {
    lz_module_free(m);
    return NULL;
  }
  c->embedding = lz_module_child(m, "embedding");
  c->rope = lz_module_child(m, "rope");
  c->norm = lz_module_child(m, "norm");
  c->head = lz_module_child(m, "head");
  for (int i = 0; i < cfg->layers; i++) {
    static const char *const names[8] = {"attention_norm",     "attention.query_proj",
                                         "attention.key_proj", "attention.value_proj",
                                         "attention.out_proj", "mlp_norm",
                                         "mlp.linear1",        "mlp.linear2"};
    lz_module **slots[8] = {&c->layer[i].attention_norm,
                            &c->layer[i].wq,
                            &c->layer[i].wk,
                            &c->layer[i].wv,
                            &c->layer[i].wo,
                            &c->layer[i].mlp_norm,
                            &c->layer[i].linear1,
                            &c->layer[i].linear2};
    for (int j = 0; j < 8; j++) {
      char path[96];
      snprintf(path, sizeof path, "layers.%d.%s", i, names[j]);
      *slots[j] = lz_module_child(m, path);
    }
  }
  return m;
}

const lm_config *lm_config_of(lz_module *m) { return &((lm_ctx *)lz_module_ctx(m))->cfg; }

/* ---- may the training graph use the fused ops? --------------------------------------------- */

enum { PROBE_NORM, PROBE_ROPE, PROBE_ATTENTION };
typedef struct probe {
  int op;
  bool fast;
  lz_module *norm, *rope;
} probe;

/* sum(op(x) * x): a scalar whose gradient depends on every output. x is (1, 2, 6, 8). */
static int probe_fn(void *ctx, lz_array *const *in, int n, lz_array **out) {
  const probe *p = ctx;
  (void)n;
  lz_array *x = in[0], *y;
  if (p->op == PROBE_NORM)
    y = rms_norm(p->norm, x, p->fast);
  else if (p->op == PROBE_ROPE)
    y = rope(p->rope, x, 3, p->fast);
  else
    y = attention(x, lz_multiply(x, lz_float(0.5)), lz_sin(x), p->fast);
  out[0] = lz_sum(lz_multiply(y, x), false);
  return out[0] ? 1 : -1;
}

/* The gradient of probe_fn at x, evaluated, or NULL (error cleared). */
static lz_array *probe_grad(probe *p, lz_array *x) {
  lz_closure *f = lz_closure_new(probe_fn, p, NULL);
  lz_closure *g = f ? lz_grad(f, NULL, 0) : NULL;
  lz_array *dx = NULL;
  if (!g || lz_closure_call(g, &x, 1, &dx) < 0 || lz_eval(dx) != 0) dx = NULL;
  lz_closure_free(g), lz_closure_free(f);
  return dx;
}

int lm_use_fast_ops(lz_module *m, FILE *log) {
  lm_ctx *c = lz_module_ctx(m);
  static const char *const names[3] = {"lz_fast_rms_norm", "lz_fast_rope",
                                       "lz_fast_scaled_dot_product_attention"};
  bool *flags[3] = {&c->fast_norm, &c->fast_rope, &c->fast_attention};
  lz_module *norm = lz_nn_rms_norm_new(8, NORM_EPS), *rp = lz_nn_rope_new(8, false, ROPE_BASE, 1);
  int used = 0;
  for (int op = 0; op < 3; op++) {
    lz_scope_begin();
    lz_array *x = lz_random_normal((int[]){1, 2, 6, 8}, 4, LZ_FLOAT32, 0.0, 1.0, lz_random_key(7));
    probe pf = {op, true, norm, rp}, pc = {op, false, norm, rp};
    lz_array *gc = probe_grad(&pc, x), *gf = probe_grad(&pf, x);
    const char *why = lz_last_error()[0] ? lz_last_error() : "";
    bool ok = gc && gf && lz_item_bool(lz_allclose(gf, gc, 1e-4, 1e-4, false));
    if (!ok && log)
      fprintf(log, "note: %s is not used for training: %s\n", names[op],
              gf ? "its gradient differs from the composed ops'" : why);
    lz_clear_error();
    *flags[op] = ok, used += ok;
    lz_scope_end();
  }
  lz_module_free(norm), lz_module_free(rp);
  return used;
}
