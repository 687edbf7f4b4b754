/* Neural networks: modules (trees of named parameters), layers, activations, losses and
 * initializers, after MLX's mlx.nn. Built only on the public API.
 *
 * A module is a reference-counted node holding named parameters (arrays) and named child
 * modules. Its parameters flatten to dotted names, as MLX's tree_flatten gives them:
 * "layers.0.attention.query_proj.weight". A module is called with lz_module_forward (one input,
 * one output) or lz_module_call (several of each).
 *
 * Ownership of modules: a constructor returns a module the caller owns (release it with
 * lz_module_free). A function that takes CHILD modules (lz_nn_sequential_new,
 * lz_module_add_child) takes over the caller's reference to each child, even when it fails, so
 * constructors nest without leaks, like nn.Sequential(nn.Linear(2, 3), nn.ReLU()):
 *
 *   lz_module *mlp = lz_nn_sequential_new(3, (lz_module *[]){
 *       lz_nn_linear_new(2, 16, true), lz_nn_relu_new(), lz_nn_linear_new(16, 1, true)});
 *
 * A NULL child (a failed constructor) makes the container fail too. Arrays follow core.h: the
 * module keeps its own references to its parameters; functions returning arrays return new
 * references. Modules are not thread safe: use one module from one thread at a time.
 *
 * Lazy initialisation: constructors record the initial values as lazy nodes (random draws with
 * the global key sequence, or constant fills) and compute nothing, so loading weights over a
 * new model never materialises its initial values. lz_random_seed makes initial values
 * reproducible. lz_module_eval computes every parameter. */
#ifndef LAZULI_NN_H
#define LAZULI_NN_H

#include "core.h"
#include "dict.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lz_module lz_module;

/* ---- modules ---------------------------------------------------------------------------- */

/* The forward function of a module: reads n borrowed inputs, stores new references to its
 * outputs in out[] (room for LZ_NN_MAX_OUTPUTS) and returns their number, or -1 on error. An
 * input may be NULL for an optional argument the caller leaves out. */
#define LZ_NN_MAX_OUTPUTS 8
typedef int (*lz_module_fn)(lz_module *m, lz_array *const *inputs, int n, lz_array **out);

/* A new module of type `type` (a name like "Linear", copied) with no parameters and no
 * children, calling `forward` (may be NULL for a pure container). ctx is private data for the
 * forward function (lz_module_ctx); ctx_free (may be NULL) releases it with the module. */
LZ_API lz_module *lz_module_new(const char *type, lz_module_fn forward, void *ctx,
                                void (*ctx_free)(void *ctx));
/* Adds a reference to m and returns it (NULL passes through). */
LZ_API lz_module *lz_module_retain(lz_module *m);
/* Releases a reference; the last one releases the parameters and children. NULL is a no-op. */
LZ_API void lz_module_free(lz_module *m);
/* The type name given at creation ("Linear"). */
LZ_API const char *lz_module_type(const lz_module *m);
/* The ctx given at creation. */
LZ_API void *lz_module_ctx(const lz_module *m);

/* Sets m's own parameter `name` (no dots) to `a` (the module keeps its own reference), adding
 * it if new (trainable) or replacing it in place. Returns 0 or -1. */
LZ_API int lz_module_set_param(lz_module *m, const char *name, lz_array *a);
/* A new reference to the parameter with flattened name `name` ("layers.0.weight"), or NULL
 * with an error naming it if there is none. */
LZ_API lz_array *lz_module_param(const lz_module *m, const char *name);
/* Whether m has a parameter with flattened name `name` (sets no error). */
LZ_API bool lz_module_has_param(const lz_module *m, const char *name);
/* Adds `child` under `name` (it may contain dots, e.g. "layers.0"), taking over the caller's
 * reference (see the top of this file). Returns 0, or -1 (a NULL child, a name in use). */
LZ_API int lz_module_add_child(lz_module *m, const char *name, lz_module *child);
/* Replaces the child at dotted path `name` ("layers.0.attention.query_proj") by `child`, taking
 * over the caller's reference (even on failure) and releasing the old child. MLX's
 * update_modules for one entry. Returns 0, or -1 when there is no such child. */
LZ_API int lz_module_replace_child(lz_module *m, const char *name, lz_module *child);
/* The child at dotted path `name` ("layers.0.attention"), borrowed; NULL with an error if none. */
LZ_API lz_module *lz_module_child(const lz_module *m, const char *name);
/* Number of direct children, and the i-th (name and module borrowed) in insertion order. */
LZ_API int lz_module_num_children(const lz_module *m);
LZ_API lz_module *lz_module_child_at(const lz_module *m, int i, const char **name);

/* Calls m's forward function. Returns the number of outputs (stored in out as new references)
 * or -1 with an error. */
LZ_API int lz_module_call(lz_module *m, lz_array *const *inputs, int n, lz_array **out);
/* m(x) for a module with one input and one output (other outputs are released). */
LZ_API lz_array *lz_module_forward(lz_module *m, lz_array *x);

/* Every parameter as a new dict of flattened names in definition order (the arrays are shared,
 * not copied; the caller frees the dict). MLX's module.parameters(). */
LZ_API lz_dict *lz_module_parameters(const lz_module *m);
/* The parameters that are not frozen. MLX's module.trainable_parameters(). */
LZ_API lz_dict *lz_module_trainable_parameters(const lz_module *m);
/* Total number of elements over all parameters. */
LZ_API size_t lz_module_num_parameters(const lz_module *m);
/* Freezes the parameters selected by `name`: NULL selects all; otherwise the parameter with that
 * flattened name, or every parameter under that prefix ("layers.0" selects "layers.0.weight",
 * not "layers.01.weight"), or every parameter whose own name is `name` (MLX's keys=["bias"]).
 * Frozen parameters keep their values but leave trainable_parameters, so value_and_grad gives
 * them no gradient and optimizers do not touch them. Returns 0, or -1 if nothing matches. */
LZ_API int lz_module_freeze(lz_module *m, const char *name);
/* Undoes lz_module_freeze for the same selection. Parameters a layer always keeps frozen
 * (BatchNorm's running statistics) stay frozen. Returns 0 or -1. */
LZ_API int lz_module_unfreeze(lz_module *m, const char *name);
/* Whether the parameter with flattened name `name` is frozen (false if there is none). */
LZ_API bool lz_module_is_frozen(const lz_module *m, const char *name);

/* Replaces parameters by flattened name from `params` (arrays shared). Every key must name an
 * existing parameter, else nothing changes and the error lists the unknown names. Shapes and
 * dtypes may change, as in MLX. Returns 0 or -1. */
LZ_API int lz_module_update(lz_module *m, const lz_dict *params);
/* Replaces every parameter p (flattened name `name`) by fn(ctx, name, p), which returns a new
 * reference (lz_retain(p) keeps p). If fn fails (returns NULL) nothing changes. Returns 0 or -1.
 * MLX's module.apply(map_fn). */
LZ_API int lz_module_apply(lz_module *m, lz_array *(*fn)(void *ctx, const char *name, lz_array *p),
                           void *ctx);
/* Casts every floating-point parameter to `dtype` (lazily). MLX's module.set_dtype(dtype). */
LZ_API int lz_module_set_dtype(lz_module *m, lz_dtype dtype);
/* Sets training mode (true, the default for new modules) or evaluation mode (false) on m and
 * every descendant: Dropout and BatchNorm behave differently. MLX's train(mode) / eval(). */
LZ_API void lz_module_train(lz_module *m, bool mode);
LZ_API bool lz_module_is_training(const lz_module *m);
/* Computes every parameter in one pass (mx.eval(model.parameters())). Returns 0 or -1. */
LZ_API int lz_module_eval(lz_module *m);

/* Saves the parameters to `path`: safetensors for a ".safetensors" name, else npz (".npz").
 * Evaluates them. Returns 0 or -1. */
LZ_API int lz_module_save_weights(lz_module *m, const char *path);
/* Loads parameters from a .safetensors or .npz file (lazily: nothing is read until the
 * parameters are evaluated) and sets them as loaded, in the file's dtype (as MLX). With
 * `strict`, the file must hold exactly m's parameter names with m's shapes; otherwise names
 * absent from m are ignored and m's parameters missing from the file keep their values, but
 * shapes must still match. On a mismatch nothing changes and the error lists every one
 * ("missing ...", "unexpected ...", "shape of ... is (2,3), expected (3,2)"). Returns 0 or -1. */
LZ_API int lz_module_load_weights(lz_module *m, const char *path, bool strict);
/* The same from a dict of flattened names. */
LZ_API int lz_module_load_weights_dict(lz_module *m, const lz_dict *weights, bool strict);

/* ---- value_and_grad over a module -------------------------------------------------------- */

/* A loss computed with `model` on n borrowed inputs: a new 0-d array, or NULL on error. */
typedef lz_array *(*lz_nn_loss_fn)(void *ctx, lz_module *model, lz_array *const *inputs, int n);
typedef struct lz_nn_grad_fn lz_nn_grad_fn;

/* MLX's nn.value_and_grad(model, fn): an object whose call gives fn's value and its gradient
 * with respect to model's trainable parameters. It holds a reference to model. */
LZ_API lz_nn_grad_fn *lz_nn_value_and_grad(lz_module *model, lz_nn_loss_fn fn, void *ctx);
/* loss, grads = loss_and_grad(model, inputs...): *loss receives the loss (new reference) and
 * *grads a new dict with one gradient per trainable parameter, under the same names. Both are
 * lazy. Returns 0, or -1 with *loss and *grads NULL. */
LZ_API int lz_nn_grad_fn_call(lz_nn_grad_fn *f, lz_array *const *inputs, int n, lz_array **loss,
                              lz_dict **grads);
LZ_API void lz_nn_grad_fn_free(lz_nn_grad_fn *f);

/* ---- activations (functions): new arrays, MLX's formulas ---------------------------------- */

LZ_API lz_array *lz_nn_relu(lz_array *x);                              /* max(x, 0) */
LZ_API lz_array *lz_nn_relu6(lz_array *x);                             /* min(max(x, 0), 6) */
LZ_API lz_array *lz_nn_leaky_relu(lz_array *x, double negative_slope); /* MLX default 0.01 */
LZ_API lz_array *lz_nn_elu(lz_array *x, double alpha);  /* x > 0 ? x : alpha (e^x - 1) */
LZ_API lz_array *lz_nn_celu(lz_array *x, double alpha); /* max(x,0) + alpha(e^(min(x,0)/alpha)-1) */
LZ_API lz_array *lz_nn_selu(lz_array *x);               /* 1.0507 * elu(x, 1.67326) */
LZ_API lz_array *lz_nn_gelu(lz_array *x);               /* x (1 + erf(x / sqrt 2)) / 2 */
LZ_API lz_array *lz_nn_gelu_approx(lz_array *x);        /* tanh approximation */
LZ_API lz_array *lz_nn_gelu_fast_approx(lz_array *x);   /* x sigmoid(1.702 x) */
LZ_API lz_array *lz_nn_silu(lz_array *x);               /* x sigmoid(x) */
LZ_API lz_array *lz_nn_mish(lz_array *x);               /* x tanh(softplus(x)) */
LZ_API lz_array *lz_nn_softplus(lz_array *x);           /* log(1 + e^x) */
LZ_API lz_array *lz_nn_softsign(lz_array *x);           /* x / (1 + |x|) */
LZ_API lz_array *lz_nn_hardswish(lz_array *x);          /* x min(max(x + 3, 0), 6) / 6 */
LZ_API lz_array *lz_nn_hard_tanh(lz_array *x, double min_val, double max_val); /* -1, 1 */
LZ_API lz_array *lz_nn_log_sigmoid(lz_array *x);                               /* -softplus(-x) */
LZ_API lz_array *lz_nn_log_softmax(lz_array *x, int axis);  /* x - logsumexp(x, axis) */
LZ_API lz_array *lz_nn_glu(lz_array *x, int axis);          /* a sigmoid(b), (a, b) = split(x) */
LZ_API lz_array *lz_nn_prelu(lz_array *x, lz_array *alpha); /* max(x,0) + alpha min(x,0) */
LZ_API lz_array *lz_nn_step(lz_array *x, double threshold); /* x > threshold ? 1 : 0 */

/* ---- layers (MLX names, defaults and initialisation; channels last) --------------------- */

/* Identity(): returns its input. */
LZ_API lz_module *lz_nn_identity_new(void);
/* Linear(input_dims, output_dims, bias): y = x W^T + b, W (out, in) and b (out) uniform in
 * +-sqrt(1/input_dims). */
LZ_API lz_module *lz_nn_linear_new(int input_dims, int output_dims, bool bias);
/* Bilinear(input1_dims, input2_dims, output_dims, bias): y_o = x1^T W_o x2 + b_o with W
 * (out, in2, in1), uniform in +-sqrt(1/input1_dims). Called with two inputs. */
LZ_API lz_module *lz_nn_bilinear_new(int input1_dims, int input2_dims, int output_dims, bool bias);
/* Embedding(num_embeddings, dims): weight (num, dims) normal * sqrt(1/dims); forward takes
 * integer indices. */
LZ_API lz_module *lz_nn_embedding_new(int num_embeddings, int dims);
/* Embedding.as_linear(x): x @ weight^T (tied output projection); also QuantizedEmbedding's. */
LZ_API lz_array *lz_nn_embedding_as_linear(lz_module *embedding, lz_array *x);
/* Sequential(modules...): calls them in turn; children are "layers.0", "layers.1", ... Takes
 * over the n modules (see the top of this file). */
LZ_API lz_module *lz_nn_sequential_new(int n, lz_module *const *modules);
/* Dropout(p = 0.5): in training, zeroes elements with probability p and scales the rest by
 * 1/(1-p); identity in evaluation mode. Dropout2d zeroes whole channels of (N,H,W,C) or (H,W,C)
 * inputs, Dropout3d of (N,D,H,W,C) or (D,H,W,C). 0 <= p < 1. */
LZ_API lz_module *lz_nn_dropout_new(double p);
LZ_API lz_module *lz_nn_dropout2d_new(double p);
LZ_API lz_module *lz_nn_dropout3d_new(double p);

/* Activation modules (no parameters), for Sequential. */
LZ_API lz_module *lz_nn_relu_new(void);
LZ_API lz_module *lz_nn_relu6_new(void);
LZ_API lz_module *lz_nn_leaky_relu_new(double negative_slope);
LZ_API lz_module *lz_nn_elu_new(double alpha);
LZ_API lz_module *lz_nn_celu_new(double alpha);
LZ_API lz_module *lz_nn_selu_new(void);
LZ_API lz_module *
lz_nn_gelu_new(const char *approx); /* "none" (or NULL), "precise"/"tanh", "fast" */
LZ_API lz_module *lz_nn_silu_new(void);
LZ_API lz_module *lz_nn_mish_new(void);
LZ_API lz_module *lz_nn_softplus_new(void);
LZ_API lz_module *lz_nn_softsign_new(void);
LZ_API lz_module *lz_nn_hardswish_new(void);
LZ_API lz_module *lz_nn_hard_tanh_new(void);
LZ_API lz_module *lz_nn_log_sigmoid_new(void);
LZ_API lz_module *lz_nn_log_softmax_new(void);
LZ_API lz_module *lz_nn_glu_new(int axis);
LZ_API lz_module *lz_nn_step_new(double threshold);
LZ_API lz_module *lz_nn_sigmoid_new(void);
LZ_API lz_module *lz_nn_tanh_new(void);
/* PReLU(num_parameters = 1, init = 0.25): learnable slope `weight` of num_parameters values. */
LZ_API lz_module *lz_nn_prelu_new(int num_parameters, double init);

/* LayerNorm(dims, eps = 1e-5, affine = true, bias = true) over the last axis. */
LZ_API lz_module *lz_nn_layer_norm_new(int dims, double eps, bool affine, bool bias);
/* RMSNorm(dims, eps = 1e-5): x rsqrt(mean(x^2) + eps) weight. */
LZ_API lz_module *lz_nn_rms_norm_new(int dims, double eps);
/* GroupNorm(num_groups, dims, eps = 1e-5, affine = true, pytorch_compatible = false) over
 * (N, ..., dims) inputs. MLX's default puts channel c in group c % num_groups; PyTorch's puts
 * consecutive channels together. */
LZ_API lz_module *lz_nn_group_norm_new(int num_groups, int dims, double eps, bool affine,
                                       bool pytorch_compatible);
/* BatchNorm(num_features, eps = 1e-5, momentum = 0.1, affine = true, track_running_stats =
 * true) over every axis but the last of 2-d to 4-d inputs. In training it normalises by the
 * batch statistics and updates the frozen parameters running_mean / running_var (lazily); in
 * evaluation mode it uses them. */
LZ_API lz_module *lz_nn_batch_norm_new(int num_features, double eps, double momentum, bool affine,
                                       bool track_running_stats);
/* InstanceNorm(dims, eps = 1e-5, affine = false) over the axes between the first and last. */
LZ_API lz_module *lz_nn_instance_norm_new(int dims, double eps, bool affine);

/* MaxPool1d / AvgPool1d(kernel_size, stride = kernel_size, padding = 0) over (N, L, C);
 * stride <= 0 means kernel_size. Max pooling pads with -inf, average pooling with 0. */
LZ_API lz_module *lz_nn_max_pool1d_new(int kernel_size, int stride, int padding);
LZ_API lz_module *lz_nn_avg_pool1d_new(int kernel_size, int stride, int padding);
/* MaxPool2d / AvgPool2d over (N, H, W, C); stride NULL means kernel_size, padding NULL 0. */
LZ_API lz_module *lz_nn_max_pool2d_new(const int kernel_size[2], const int stride[2],
                                       const int padding[2]);
LZ_API lz_module *lz_nn_avg_pool2d_new(const int kernel_size[2], const int stride[2],
                                       const int padding[2]);
/* Upsample(scale_factor, mode, align_corners) of (N, spatial..., C) inputs with `nspatial`
 * scale factors; mode "nearest" (NULL), "linear" (bilinear for 2 spatial dims) or "cubic"
 * (bicubic, a = -0.75 as PyTorch without antialiasing; samples past the border repeat it). */
LZ_API lz_module *lz_nn_upsample_new(const double *scale_factor, int nspatial, const char *mode,
                                     bool align_corners);

/* Convolution layers over channels-last inputs (see lazuli/conv.h): (N, L, C), (N, H, W, C),
 * (N, D, H, W, C). weight is (out_channels, kernel..., in_channels / groups), uniform in
 * +-sqrt(1 / (in_channels * prod(kernel))); bias (out_channels) starts at zero. Per-dim arrays
 * may be NULL for MLX's defaults: stride 1, padding 0, dilation 1, output_padding 0.
 * Conv1d(in, out, kernel_size, stride = 1, padding = 0, dilation = 1, groups = 1, bias = true) */
LZ_API lz_module *lz_nn_conv1d_new(int in_channels, int out_channels, int kernel_size, int stride,
                                   int padding, int dilation, int groups, bool bias);
/* Conv2d(in, out, kernel_size, stride, padding, dilation, groups = 1, bias = true) */
LZ_API lz_module *lz_nn_conv2d_new(int in_channels, int out_channels, const int kernel_size[2],
                                   const int stride[2], const int padding[2], const int dilation[2],
                                   int groups, bool bias);
/* Conv3d(in, out, kernel_size, stride, padding, dilation, bias = true) (no groups, as MLX) */
LZ_API lz_module *lz_nn_conv3d_new(int in_channels, int out_channels, const int kernel_size[3],
                                   const int stride[3], const int padding[3], const int dilation[3],
                                   bool bias);
/* ConvTranspose1d(in, out, kernel_size, stride = 1, padding = 0, dilation = 1,
 * output_padding = 0, bias = true): weight (out_channels, kernel_size, in_channels), the same
 * initialisation as Conv1d; output length (L - 1) stride - 2 padding + dilation (k - 1) + 1 +
 * output_padding. */
LZ_API lz_module *lz_nn_conv_transpose1d_new(int in_channels, int out_channels, int kernel_size,
                                             int stride, int padding, int dilation,
                                             int output_padding, bool bias);
/* ConvTranspose2d / ConvTranspose3d: the same per spatial dim. */
LZ_API lz_module *lz_nn_conv_transpose2d_new(int in_channels, int out_channels,
                                             const int kernel_size[2], const int stride[2],
                                             const int padding[2], const int dilation[2],
                                             const int output_padding[2], bool bias);
LZ_API lz_module *lz_nn_conv_transpose3d_new(int in_channels, int out_channels,
                                             const int kernel_size[3], const int stride[3],
                                             const int padding[3], const int dilation[3],
                                             const int output_padding[3], bool bias);

/* RoPE(dims, traditional = false, base = 10000, scale = 1): rotary positional encoding of the
 * first `dims` features of (..., L, D) inputs. lz_nn_rope_forward gives a position offset. */
LZ_API lz_module *lz_nn_rope_new(int dims, bool traditional, double base, double scale);
LZ_API lz_array *lz_nn_rope_forward(lz_module *rope, lz_array *x, int offset);
/* SinusoidalPositionalEncoding(dims, min_freq = 1e-4, max_freq = 1, scale (<= 0 means
 * sqrt(2/dims)), cos_first = false, full_turns = false): x (...) gives (..., dims). */
LZ_API lz_module *lz_nn_sinusoidal_positional_encoding_new(int dims, double min_freq,
                                                           double max_freq, double scale,
                                                           bool cos_first, bool full_turns);
/* ALiBi(): adds linear attention biases to (B, heads, L, S) scores; inputs (scores, mask?). */
LZ_API lz_module *lz_nn_alibi_new(void);
LZ_API lz_array *lz_nn_alibi_forward(lz_module *alibi, lz_array *scores, int offset,
                                     lz_array *mask);

/* MultiHeadAttention(dims, num_heads, query/key/value_input_dims, value_dims,
 * value_output_dims (0 means MLX's default), bias = false). Inputs (queries, keys, values,
 * mask?): (B, L, D) arrays and an additive float or boolean mask broadcastable to
 * (B, heads, L, S). Children query_proj, key_proj, value_proj, out_proj. */
LZ_API lz_module *lz_nn_multi_head_attention_new(int dims, int num_heads, int query_input_dims,
                                                 int key_input_dims, int value_input_dims,
                                                 int value_dims, int value_output_dims, bool bias);
/* MultiHeadAttention with grouped-query attention: num_kv_heads (dividing num_heads; 0 means
 * num_heads) key/value heads, each shared by num_heads / num_kv_heads query heads. key_proj
 * maps to num_kv_heads * dims / num_heads features, value_proj to num_kv_heads * value_dims /
 * num_heads; with num_kv_heads == num_heads this is lz_nn_multi_head_attention_new. */
LZ_API lz_module *lz_nn_multi_head_attention_new_v2(int dims, int num_heads, int num_kv_heads,
                                                    int query_input_dims, int key_input_dims,
                                                    int value_input_dims, int value_dims,
                                                    int value_output_dims, bool bias);
/* MultiHeadAttention.create_additive_causal_mask(N): (N, N), 0 on and below the diagonal and
 * the dtype's lowest value above it. */
LZ_API lz_array *lz_nn_create_additive_causal_mask(int n, lz_dtype dtype);
/* Scaled dot-product attention softmax(q k^T * scale + mask) v of (B, heads, L, D) arrays;
 * mask may be NULL, additive (float) or boolean (false masks out). k and v may have fewer
 * heads than q, dividing them (grouped-query attention). Computed by the fused
 * lz_fast_scaled_dot_product_attention (masked scores get the dtype's lowest value) unless
 * an additive mask's dtype would widen the result (a float32 mask on float16 q), which is
 * composed from basic ops in the promoted dtype. */
LZ_API lz_array *lz_nn_scaled_dot_product_attention(lz_array *q, lz_array *k, lz_array *v,
                                                    double scale, lz_array *mask);
/* An activation for the transformer layers: NULL means relu. */
typedef lz_array *(*lz_nn_activation_fn)(lz_array *x);
/* TransformerEncoderLayer(dims, num_heads, mlp_dims (0: 4 dims), dropout, activation,
 * norm_first = true): inputs (x, mask?). Children attention, ln1, ln2, linear1, linear2,
 * dropout1, dropout2. */
LZ_API lz_module *lz_nn_transformer_encoder_layer_new(int dims, int num_heads, int mlp_dims,
                                                      double dropout,
                                                      lz_nn_activation_fn activation,
                                                      bool norm_first);
/* TransformerDecoderLayer(...): inputs (x, memory, x_mask?, memory_mask?). Children
 * self_attention, cross_attention, ln1..3, linear1, linear2, dropout1..3. */
LZ_API lz_module *lz_nn_transformer_decoder_layer_new(int dims, int num_heads, int mlp_dims,
                                                      double dropout,
                                                      lz_nn_activation_fn activation,
                                                      bool norm_first);
/* TransformerEncoder(num_layers, ...): layers.0 ... then the final LayerNorm "ln". */
LZ_API lz_module *lz_nn_transformer_encoder_new(int num_layers, int dims, int num_heads,
                                                int mlp_dims, double dropout,
                                                lz_nn_activation_fn activation, bool norm_first);

/* TransformerDecoder(num_layers, ...): inputs (x, memory, x_mask?, memory_mask?); layers.0 ...
 * then the final LayerNorm "ln". */
LZ_API lz_module *lz_nn_transformer_decoder_new(int num_layers, int dims, int num_heads,
                                                int mlp_dims, double dropout,
                                                lz_nn_activation_fn activation, bool norm_first);
/* Transformer(dims = 512, num_heads = 8, num_encoder_layers = 6, num_decoder_layers = 6,
 * mlp_dims (0: 4 dims), dropout = 0, activation (NULL: relu), custom_encoder, custom_decoder,
 * norm_first = true): children "encoder" and "decoder"; inputs (src, tgt, src_mask?,
 * tgt_mask?, memory_mask?) give decoder(tgt, encoder(src, src_mask), tgt_mask, memory_mask).
 * custom_encoder / custom_decoder (NULL: the standard stacks) are taken over (see the top of
 * this file); a NULL one means the standard stack, whatever error is pending (core.h: a
 * function decides failure from its own results). */
LZ_API lz_module *lz_nn_transformer_new(int dims, int num_heads, int num_encoder_layers,
                                        int num_decoder_layers, int mlp_dims, double dropout,
                                        lz_nn_activation_fn activation, lz_module *custom_encoder,
                                        lz_module *custom_decoder, bool norm_first);

/* RNN(input_size, hidden_size, bias = true, nonlinearity = tanh (NULL)): inputs (x, hidden?)
 * with x (N, L, D) or (L, D); returns every hidden state (N, L, H). Parameters Wxh, Whh, bias. */
LZ_API lz_module *lz_nn_rnn_new(int input_size, int hidden_size, bool bias,
                                lz_nn_activation_fn nonlinearity);
/* GRU(input_size, hidden_size, bias = true): inputs (x, hidden?). Parameters Wx, Wh, b, bhn. */
LZ_API lz_module *lz_nn_gru_new(int input_size, int hidden_size, bool bias);
/* LSTM(input_size, hidden_size, bias = true): inputs (x, hidden?, cell?); two outputs, every
 * hidden state and every cell state. Parameters Wx, Wh, bias. */
LZ_API lz_module *lz_nn_lstm_new(int input_size, int hidden_size, bool bias);

/* ---- quantized layers (MLX's affine quantization, lazuli/quantize.h) -------------------------
 * Parameters as MLX names them: "weight" (uint32 packed codes), "scales", "biases" and, for
 * QuantizedLinear, the optional float "bias". They are always frozen (MLX freezes them;
 * lz_module_unfreeze leaves them so): gradients flow to the layer's input, not its weights.
 * MLX's defaults: group_size 64, bits 4. */

/* QuantizedLinear(input_dims, output_dims, bias = true, group_size, bits): y = x W^T + b with W
 * (output_dims, input_dims) quantized; initialised as Linear then quantized (lazily). */
LZ_API lz_module *lz_nn_quantized_linear_new(int input_dims, int output_dims, bool bias,
                                             int group_size, int bits);
/* QuantizedEmbedding(num_embeddings, dims, group_size, bits): rows of a quantized table,
 * dequantized on lookup. lz_nn_embedding_as_linear accepts it (x @ W^T, quantized). */
LZ_API lz_module *lz_nn_quantized_embedding_new(int num_embeddings, int dims, int group_size,
                                                int bits);
/* QuantizedLinear.from_linear / QuantizedEmbedding.from_embedding: a new module quantizing the
 * (borrowed) layer's weight, sharing its bias and training mode. */
LZ_API lz_module *lz_nn_quantized_linear_from_linear(lz_module *linear, int group_size, int bits);
LZ_API lz_module *lz_nn_quantized_embedding_from_embedding(lz_module *embedding, int group_size,
                                                           int bits);
/* Whether the module at flattened path `path` (e.g. "layers.0.query_proj") should be quantized. */
typedef bool (*lz_nn_quantize_predicate)(void *ctx, const char *path, lz_module *m);
/* MLX's nn.quantize(model, group_size, bits, class_predicate): replaces, in place, every
 * descendant Linear and Embedding of `model` (not model itself) that `predicate` accepts (NULL:
 * all) by its quantized version. All or nothing: if one cannot be quantized (a last dim not
 * divisible by group_size, unsupported bits) nothing changes. To load a quantized checkpoint,
 * quantize the freshly built model with the file's settings, then lz_module_load_weights.
 * Returns the number of layers replaced, or -1. */
LZ_API int lz_nn_quantize(lz_module *model, int group_size, int bits,
                          lz_nn_quantize_predicate predicate, void *ctx);

/* ---- losses (mlx.nn.losses) -------------------------------------------------------------- */

typedef enum lz_nn_reduction {
  LZ_NN_REDUCTION_NONE,
  LZ_NN_REDUCTION_MEAN,
  LZ_NN_REDUCTION_SUM,
  LZ_NN_REDUCTION_COUNT
} lz_nn_reduction;

/* Cross entropy of unnormalised `logits` along `axis`. `targets` are class indices (logits'
 * shape without axis) or probabilities (logits' shape). `weights` (may be NULL) has the loss's
 * shape, or is a 1-d array of one weight per class when targets are indices. 0 <= label_smoothing
 * < 1. MLX default reduction: none. */
LZ_API lz_array *lz_nn_cross_entropy(lz_array *logits, lz_array *targets, lz_array *weights,
                                     int axis, double label_smoothing, lz_nn_reduction reduction);
/* Binary cross entropy of logits (with_logits, MLX's default) or probabilities. weights may be
 * NULL. MLX default reduction: mean. */
LZ_API lz_array *lz_nn_binary_cross_entropy(lz_array *inputs, lz_array *targets, lz_array *weights,
                                            bool with_logits, lz_nn_reduction reduction);
/* Negative log likelihood of log-probabilities `inputs` at class indices `targets` (none). */
LZ_API lz_array *lz_nn_nll_loss(lz_array *inputs, lz_array *targets, int axis,
                                lz_nn_reduction reduction);
LZ_API lz_array *lz_nn_mse_loss(lz_array *predictions, lz_array *targets,
                                lz_nn_reduction reduction); /* (p - t)^2, mean */
LZ_API lz_array *lz_nn_l1_loss(lz_array *predictions, lz_array *targets,
                               lz_nn_reduction reduction); /* |p - t|, mean */
/* |d| < beta ? 0.5 d^2 / beta : |d| - 0.5 beta (beta 1, mean). */
LZ_API lz_array *lz_nn_smooth_l1_loss(lz_array *predictions, lz_array *targets, double beta,
                                      lz_nn_reduction reduction);
/* 0.5 min(|d|, delta)^2 + delta (|d| - min(|d|, delta)) (delta 1, none). */
LZ_API lz_array *lz_nn_huber_loss(lz_array *inputs, lz_array *targets, double delta,
                                  lz_nn_reduction reduction);
/* log(cosh(d)) computed as logaddexp(d, -d) - log 2 (none). */
LZ_API lz_array *lz_nn_log_cosh_loss(lz_array *inputs, lz_array *targets,
                                     lz_nn_reduction reduction);
/* sum(exp(targets) (targets - inputs), axis) of log-probabilities (none). */
LZ_API lz_array *lz_nn_kl_div_loss(lz_array *inputs, lz_array *targets, int axis,
                                   lz_nn_reduction reduction);
/* 0.5 (log(max(vars, eps)) + (t - x)^2 / max(vars, eps)) [+ 0.5 log(2 pi) when full]
 * (eps 1e-6, mean). */
LZ_API lz_array *lz_nn_gaussian_nll_loss(lz_array *inputs, lz_array *targets, lz_array *vars,
                                         bool full, double eps, lz_nn_reduction reduction);
/* sum(x1 x2, axis) / max(|x1| |x2|, eps) (axis 1, eps 1e-8, none). */
LZ_API lz_array *lz_nn_cosine_similarity_loss(lz_array *x1, lz_array *x2, int axis, double eps,
                                              lz_nn_reduction reduction);
/* max(1 - inputs * targets, 0) (none). */
LZ_API lz_array *lz_nn_hinge_loss(lz_array *inputs, lz_array *targets, lz_nn_reduction reduction);
/* max(0, -targets (inputs1 - inputs2) + margin) (margin 0, none). */
LZ_API lz_array *lz_nn_margin_ranking_loss(lz_array *inputs1, lz_array *inputs2, lz_array *targets,
                                           double margin, lz_nn_reduction reduction);
/* max(sqrt(sum((a - p)^p_norm, axis) + eps) - sqrt(sum((a - n)^p_norm, axis) + eps) + margin, 0)
 * (axis -1, p_norm 2, margin 1, eps 1e-6, none). */
LZ_API lz_array *lz_nn_triplet_loss(lz_array *anchors, lz_array *positives, lz_array *negatives,
                                    int axis, double p_norm, double margin, double eps,
                                    lz_nn_reduction reduction);

/* ---- initializers (mlx.nn.init): a new array with the shape of `a` and its dtype (float32 for
 * a non-float `a`); random ones draw with `key` (NULL: the global key sequence). ---- */
LZ_API lz_array *lz_nn_init_constant(lz_array *a, double value);
LZ_API lz_array *lz_nn_init_normal(lz_array *a, double mean, double std, lz_array *key);
LZ_API lz_array *lz_nn_init_uniform(lz_array *a, double low, double high, lz_array *key);
/* The identity matrix; `a` must be square 2-d. */
LZ_API lz_array *lz_nn_init_identity(lz_array *a);
/* fan_in = shape[-1], fan_out = shape[0], both times the product of the middle dims; a must be
 * at least 2-d. glorot: std gain sqrt(2/(fan_in+fan_out)), limit gain sqrt(6/(fan_in+fan_out)). */
LZ_API lz_array *lz_nn_init_glorot_normal(lz_array *a, double gain, lz_array *key);
LZ_API lz_array *lz_nn_init_glorot_uniform(lz_array *a, double gain, lz_array *key);
/* he: std gain / sqrt(fan), limit gain sqrt(3 / fan), fan = fan_in unless fan_out is true. */
LZ_API lz_array *lz_nn_init_he_normal(lz_array *a, bool fan_out, double gain, lz_array *key);
LZ_API lz_array *lz_nn_init_he_uniform(lz_array *a, bool fan_out, double gain, lz_array *key);
/* A (rows, cols) matrix with orthonormal rows or columns times gain, from the QR decomposition
 * of a normal draw (sign-corrected by R's diagonal). a must be 2-d. */
LZ_API lz_array *lz_nn_init_orthogonal(lz_array *a, double gain, lz_array *key);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_NN_H */
