/* nn modules: the parameter tree and its flattened names, lazy initialisation, freeze/unfreeze,
 * update/apply, train/eval, save/load (strict and not) and value_and_grad over a module. */
#include <unistd.h>

#include "nn_testutil.h"

static char tmpdir[64];

static const char *tmp_path(const char *name) {
  static char buf[4][256];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
  return buf[k];
}

static lz_module *mlp(void) {
  return lz_nn_sequential_new(3, (lz_module *[]){lz_nn_linear_new(3, 4, true), lz_nn_relu_new(),
                                                 lz_nn_linear_new(4, 2, true)});
}

static bool keys_are(lz_dict *d, const char *const *keys, size_t n) {
  if (!d || lz_dict_size(d) != n) return false;
  for (size_t i = 0; i < n; i++)
    if (strcmp(lz_dict_key(d, i), keys[i]) != 0) return false;
  return true;
}

static void test_tree_and_names(void) {
  lz_module *m = mlp();
  lz_dict *p = lz_module_parameters(m);
  const char *names[] = {"layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"};
  CHECK(keys_are(p, names, 4));
  lz_dict_free(p);
  CHECK(lz_module_num_parameters(m) == 12 + 4 + 8 + 2);
  CHECK_SHAPE(lz_module_param(m, "layers.2.weight"), 2, 4);
  CHECK(lz_module_has_param(m, "layers.0.bias") && !lz_module_has_param(m, "layers.1.bias"));
  CHECK_ERROR(lz_module_param(m, "layers.9.weight"), "no parameter 'layers.9.weight'");
  CHECK(strcmp(lz_module_type(lz_module_child(m, "layers.2")), "Linear") == 0);
  CHECK_ERROR(lz_module_child(m, "layers.7"), "no child module");
  CHECK(lz_module_num_children(m) == 3);
  const char *cn;
  CHECK(lz_module_child_at(m, 1, &cn) && strcmp(cn, "layers.1") == 0);
  CHECK_ERROR(lz_module_add_child(m, "layers.1", lz_nn_relu_new()) == 0 ? m : NULL, "exists");
  CHECK_ERROR(lz_module_set_param(m, "a.b", lz_float(1)) == 0 ? m : NULL, "has a dot");
  /* forward through the tree */
  lz_array *y = lz_module_forward(m, lz_ones((int[]){5, 3}, 2, LZ_FLOAT32));
  CHECK_SHAPE(y, 5, 2);
  /* a module shared by two parents */
  lz_module *shared = lz_nn_linear_new(2, 2, false);
  lz_module *pair = lz_module_new("Pair", NULL, NULL, NULL);
  CHECK(lz_module_add_child(pair, "a", lz_module_retain(shared)) == 0);
  CHECK(lz_module_add_child(pair, "b", lz_module_retain(shared)) == 0);
  lz_module_free(shared);
  CHECK(lz_module_num_parameters(pair) == 8);
  CHECK_ERROR(lz_module_forward(pair, y), "no forward function");
  lz_module_free(pair);
  lz_module_free(m);
}

/* A user-defined module, as an MLX subclass would be: y = scale * proj(x). */
static int scaled_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  lz_array *s = lz_module_param(m, "scale");
  out[0] = lz_multiply(s, lz_module_forward(lz_module_child(m, "proj"), in[0]));
  lz_free(s);
  return out[0] ? 1 : -1;
}

static void test_custom_module(void) {
  lz_module *m = lz_module_new("Scaled", scaled_forward, NULL, NULL);
  CHECK(lz_module_set_param(m, "scale", lz_full((int[]){1}, 1, 3.0, LZ_FLOAT32)) == 0);
  CHECK(lz_module_add_child(m, "proj", lz_nn_identity_new()) == 0);
  lz_array *x = lz_array_from_data((float[]){1, 2}, (int[]){2}, 1, LZ_FLOAT32);
  CHECK_VALUES(lz_module_forward(m, x), ((double[]){3, 6}), 2, 0);
  lz_module_free(m);
}

static void test_lazy_init(void) {
  uint64_t k0 = lz_get_kernel_count();
  size_t m0 = lz_get_active_memory();
  lz_module *m = lz_nn_transformer_encoder_new(2, 16, 4, 0, 0.0, NULL, true);
  CHECK(lz_get_kernel_count() == k0 && lz_get_active_memory() == m0); /* nothing computed */
  lz_dict *p = lz_module_parameters(m);
  CHECK(!lz_array_is_evaluated(lz_dict_value(p, 0)));
  CHECK(lz_module_eval(m) == 0);
  CHECK(lz_array_is_evaluated(lz_dict_value(p, 0)) && lz_get_active_memory() > m0);
  lz_dict_free(p);
  lz_module_free(m);
}

static void test_freeze(void) {
  lz_module *m = mlp();
  CHECK(lz_module_freeze(m, NULL) == 0);
  lz_dict *t = lz_module_trainable_parameters(m);
  CHECK(t && lz_dict_size(t) == 0);
  lz_dict_free(t);
  CHECK(lz_module_unfreeze(m, "layers.0") == 0);
  t = lz_module_trainable_parameters(m);
  CHECK(keys_are(t, (const char *[]){"layers.0.weight", "layers.0.bias"}, 2));
  lz_dict_free(t);
  CHECK(lz_module_unfreeze(m, NULL) == 0 && lz_module_freeze(m, "bias") == 0); /* own name */
  t = lz_module_trainable_parameters(m);
  CHECK(keys_are(t, (const char *[]){"layers.0.weight", "layers.2.weight"}, 2));
  lz_dict_free(t);
  CHECK(lz_module_is_frozen(m, "layers.2.bias") && !lz_module_is_frozen(m, "layers.2.weight"));
  CHECK(lz_module_unfreeze(m, "layers.2.bias") == 0 && !lz_module_is_frozen(m, "layers.2.bias"));
  CHECK_ERROR(lz_module_freeze(m, "layers.1") == 0 ? m : NULL, "no parameter matches 'layers.1'");
  lz_dict *all = lz_module_parameters(m);
  CHECK(lz_dict_size(all) == 4); /* frozen parameters are still parameters */
  lz_dict_free(all);
  /* a prefix ends at a dot: "layers.0" does not select "layers.01" */
  lz_module *c = lz_module_new("C", NULL, NULL, NULL);
  lz_module_add_child(c, "layers.0", lz_nn_linear_new(1, 1, false));
  lz_module_add_child(c, "layers.01", lz_nn_linear_new(1, 1, false));
  CHECK(lz_module_freeze(c, "layers.0") == 0);
  CHECK(lz_module_is_frozen(c, "layers.0.weight") && !lz_module_is_frozen(c, "layers.01.weight"));
  lz_module_free(c);
  lz_module_free(m);
}

static lz_array *times_two(void *ctx, const char *name, lz_array *p) {
  (*(int *)ctx)++;
  return lz_multiply(p, lz_float(2));
}

static void test_update_apply(void) {
  lz_module *m = mlp();
  lz_dict *u = lz_dict_new();
  lz_dict_set(u, "layers.0.bias", lz_zeros((int[]){4}, 1, LZ_FLOAT32));
  CHECK(lz_module_update(m, u) == 0);
  CHECK_VALUES(lz_module_param(m, "layers.0.bias"), ((double[]){0, 0, 0, 0}), 4, 0);
  lz_dict_set(u, "layers.0.bias", lz_ones((int[]){4}, 1, LZ_FLOAT32));
  lz_dict_set(u, "nope", lz_ones((int[]){4}, 1, LZ_FLOAT32));
  lz_dict_set(u, "layers.1.weight", lz_ones((int[]){4}, 1, LZ_FLOAT32));
  CHECK_ERROR(lz_module_update(m, u) == 0 ? m : NULL,
              "2 unknown parameter names: 'nope', 'layers.1.weight'");
  CHECK_VALUES(lz_module_param(m, "layers.0.bias"), ((double[]){0, 0, 0, 0}), 4, 0); /* unchanged */
  lz_dict_free(u);
  lz_array *w0 = lz_module_param(m, "layers.2.weight");
  int calls = 0;
  CHECK(lz_module_apply(m, times_two, &calls) == 0 && calls == 4);
  CHECK(lz_item_bool(lz_allclose(lz_module_param(m, "layers.2.weight"),
                                 lz_multiply(w0, lz_float(2)), 0, 0, false)));
  CHECK(lz_module_set_dtype(m, LZ_FLOAT16) == 0);
  lz_dict *p = lz_module_parameters(m);
  for (size_t i = 0; i < lz_dict_size(p); i++)
    CHECK(lz_array_dtype(lz_dict_value(p, i)) == LZ_FLOAT16);
  lz_dict_free(p);
  CHECK_SHAPE(lz_module_forward(m, lz_ones((int[]){1, 3}, 2, LZ_FLOAT16)), 1, 2);
  CHECK_ERROR(lz_module_set_dtype(m, LZ_INT32) == 0 ? m : NULL, "not a floating dtype");
  lz_module_train(m, false);
  CHECK(!lz_module_is_training(m) && !lz_module_is_training(lz_module_child(m, "layers.0")));
  lz_module_train(m, true);
  CHECK(lz_module_is_training(lz_module_child(m, "layers.2")));
  lz_module_free(m);
}

static bool same_params(lz_module *a, lz_module *b) {
  lz_dict *pa = lz_module_parameters(a), *pb = lz_module_parameters(b);
  bool ok = lz_dict_size(pa) == lz_dict_size(pb);
  for (size_t i = 0; ok && i < lz_dict_size(pa); i++) {
    lz_array *x = lz_dict_value(pa, i), *y = lz_dict_get(pb, lz_dict_key(pa, i));
    ok = y && lz_item_bool(lz_array_equal(x, y, false)) && lz_array_dtype(x) == lz_array_dtype(y);
  }
  lz_dict_free(pa), lz_dict_free(pb);
  return ok;
}

static void test_save_load(void) {
  lz_module *a = mlp(), *b = mlp();
  CHECK(!same_params(a, b));
  CHECK(lz_module_save_weights(a, tmp_path("w.safetensors")) == 0);
  uint64_t k0 = lz_get_kernel_count();
  CHECK(lz_module_load_weights(b, tmp_path("w.safetensors"), true) == 0);
  CHECK(lz_get_kernel_count() == k0); /* loading is lazy */
  CHECK(same_params(a, b));
  lz_module *c = mlp();
  CHECK(lz_module_save_weights(a, tmp_path("w.npz")) == 0);
  CHECK(lz_module_load_weights(c, tmp_path("w.npz"), true) == 0 && same_params(a, c));
  /* float16 weights load as float16 (the file's dtype, as MLX) */
  lz_module_set_dtype(a, LZ_FLOAT16);
  CHECK(lz_module_save_weights(a, tmp_path("h.safetensors")) == 0);
  CHECK(lz_module_load_weights(c, tmp_path("h.safetensors"), true) == 0 && same_params(a, c));
  CHECK_ERROR(lz_module_save_weights(a, tmp_path("w.bin")) == 0 ? a : NULL, "must end in");
  CHECK_ERROR(lz_module_load_weights(a, tmp_path("absent.npz"), true) == 0 ? a : NULL, "absent");
  lz_module_free(a), lz_module_free(b), lz_module_free(c);
}

static void test_strict_mismatch(void) {
  lz_module *m = mlp();
  lz_dict *w = lz_module_parameters(m);
  lz_dict_remove(w, "layers.2.bias");
  lz_dict_set(w, "extra", lz_zeros((int[]){1}, 1, LZ_FLOAT32));
  lz_dict_set(w, "layers.0.weight", lz_zeros((int[]){3, 4}, 2, LZ_FLOAT32));
  CHECK(lz_save_safetensors(tmp_path("bad.safetensors"), w, NULL) == 0);
  lz_module *t = mlp();
  lz_array *before = lz_module_param(t, "layers.2.weight");
  lz_clear_error();
  CHECK(lz_module_load_weights(t, tmp_path("bad.safetensors"), true) == -1);
  const char *e = lz_last_error();
  CHECK(strstr(e, "[lz_module_load_weights] 3 mismatches"));
  CHECK(strstr(e, "missing 'layers.2.bias'"));
  CHECK(strstr(e, "unexpected 'extra'"));
  CHECK(strstr(e, "shape of 'layers.0.weight' is (3,4), expected (4,3)"));
  lz_clear_error();
  lz_array *after = lz_module_param(t, "layers.2.weight");
  CHECK(lz_array_id(before) == lz_array_id(after)); /* nothing changed */
  /* non-strict: unknown names are ignored, missing ones kept, but shapes must match */
  CHECK_ERROR(lz_module_load_weights(t, tmp_path("bad.safetensors"), false) == 0 ? t : NULL,
              "1 mismatch: shape of 'layers.0.weight'");
  lz_dict_set(w, "layers.0.weight", lz_ones((int[]){4, 3}, 2, LZ_FLOAT32));
  CHECK(lz_module_load_weights_dict(t, w, false) == 0);
  CHECK_VALUES(lz_sum(lz_module_param(t, "layers.0.weight"), false), ((double[]){12}), 1, 0);
  CHECK(lz_array_id(lz_module_param(t, "layers.2.bias")) != 0);
  lz_dict_free(w);
  lz_module_free(m), lz_module_free(t);
}

/* loss = mean((model(x) - y)^2) */
static lz_array *mse(void *ctx, lz_module *model, lz_array *const *in, int n) {
  (*(int *)ctx)++;
  return lz_nn_mse_loss(lz_module_forward(model, in[0]), in[1], LZ_NN_REDUCTION_MEAN);
}

static lz_array *not_scalar(void *ctx, lz_module *model, lz_array *const *in, int n) {
  return lz_module_forward(model, in[0]);
}

static void test_value_and_grad(void) {
  lz_module *m = lz_nn_linear_new(3, 1, true);
  lz_dict *p0 = lz_dict_new();
  lz_dict_set(p0, "weight",
              lz_array_from_data((float[]){0.5f, -1, 2}, (int[]){1, 3}, 2, LZ_FLOAT32));
  lz_dict_set(p0, "bias", lz_array_from_data((float[]){0.25f}, (int[]){1}, 1, LZ_FLOAT32));
  CHECK(lz_module_update(m, p0) == 0);
  float xs[4][3] = {{1, 2, 3}, {0, -1, 1}, {2, 0, -2}, {1, 1, 1}}, ys[4] = {1, 0, -1, 2};
  lz_array *x = lz_array_from_data(xs, (int[]){4, 3}, 2, LZ_FLOAT32);
  lz_array *y = lz_array_from_data(ys, (int[]){4, 1}, 2, LZ_FLOAT32);
  double w[3] = {0.5, -1, 2}, b = 0.25, loss = 0, gw[3] = {0}, gb = 0;
  for (int i = 0; i < 4; i++) {
    double r = w[0] * xs[i][0] + w[1] * xs[i][1] + w[2] * xs[i][2] + b - ys[i];
    loss += r * r / 4, gb += 2 * r / 4;
    for (int j = 0; j < 3; j++) gw[j] += 2 * r * xs[i][j] / 4;
  }
  int calls = 0;
  lz_nn_grad_fn *f = lz_nn_value_and_grad(m, mse, &calls);
  lz_array *l;
  lz_dict *g;
  CHECK(lz_nn_grad_fn_call(f, (lz_array *[]){x, y}, 2, &l, &g) == 0 && calls == 1);
  CHECK(keys_are(g, (const char *[]){"weight", "bias"}, 2));
  CHECK_VALUES(l, &loss, 1, 1e-6);
  CHECK_VALUES(lz_dict_get(g, "weight"), gw, 3, 1e-6);
  CHECK_VALUES(lz_dict_get(g, "bias"), &gb, 1, 1e-6);
  /* the module's parameters are its own again after the call */
  lz_array *wnow = lz_module_param(m, "weight"), *wold = lz_dict_get(p0, "weight");
  CHECK(lz_array_id(wnow) == lz_array_id(wold));
  lz_dict_free(g);
  /* frozen parameters get no gradient */
  lz_module_freeze(m, "bias");
  CHECK(lz_nn_grad_fn_call(f, (lz_array *[]){x, y}, 2, &l, &g) == 0);
  CHECK(keys_are(g, (const char *[]){"weight"}, 1));
  CHECK_VALUES(lz_dict_get(g, "weight"), gw, 3, 1e-6);
  lz_dict_free(g);
  /* errors: a non-scalar loss, a failing loss; the parameters survive both */
  lz_nn_grad_fn *bad = lz_nn_value_and_grad(m, not_scalar, NULL);
  lz_clear_error();
  CHECK(lz_nn_grad_fn_call(bad, (lz_array *[]){x, y}, 2, &l, &g) == -1 && !l && !g);
  CHECK(strstr(lz_last_error(), "must be a scalar"));
  lz_clear_error();
  CHECK(lz_nn_grad_fn_call(f, (lz_array *[]){y, y}, 2, &l, &g) == -1 && !l && !g);
  CHECK(strstr(lz_last_error(), "[lz_matmul]"));
  lz_clear_error();
  CHECK(lz_array_id(lz_module_param(m, "weight")) == lz_array_id(wold));
  lz_nn_grad_fn_free(bad);
  lz_nn_grad_fn_free(f);
  lz_dict_free(p0);
  lz_module_free(m);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/lz_nn_module_XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  RUN(test_tree_and_names);
  RUN(test_custom_module);
  RUN(test_lazy_init);
  RUN(test_freeze);
  RUN(test_update_apply);
  RUN(test_save_load);
  RUN(test_strict_mismatch);
  RUN(test_value_and_grad);
  const char *files[] = {"w.safetensors", "w.npz", "h.safetensors", "bad.safetensors"};
  for (int i = 0; i < 4; i++) unlink(tmp_path(files[i]));
  rmdir(tmpdir);
  return lzt_summary();
}
