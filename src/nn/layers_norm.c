/* Normalisation layers: LayerNorm, RMSNorm (the fused lz_fast_* ops), GroupNorm, BatchNorm and
 * InstanceNorm. */
#include "nn/nn_impl.h"

typedef struct norm_cfg {
  int dims, groups;
  double eps, momentum;
  bool pytorch_compatible, track_running_stats;
} norm_cfg;

/* (x - mean) * rsqrt(var + eps) over `axes`. */
static lz_array *normalize(lz_array *x, const int *axes, int naxes, double eps) {
  lz_array *mean = lz_mean_axes(x, axes, naxes, true);
  lz_array *var = lz_var_axes(x, axes, naxes, true, 0);
  return lz_multiply(lz_subtract(x, mean), lz_rsqrt(lz_add(var, lz_float(eps))));
}

/* weight * x + bias for the parameters present. */
static lz_array *affine(lz_module *m, lz_array *x) {
  lz_array *w = lz_nn__get(m, "weight"), *b = lz_nn__get(m, "bias");
  if (w) x = lz_multiply(w, x);
  if (b) x = lz_add(x, b);
  return x;
}

static int check_last(const char *who, lz_array *x, int dims) {
  if (lz_array_ndim(x) < 1 || lz_array_dim(x, -1) != dims) {
    char s[128];
    return lz_set_error(LZ_ERROR_SHAPE, who, "input of shape %s does not end in %d",
                        lz_nn__fmt_shape(s, sizeof s, lz_array_shape(x), lz_array_ndim(x)), dims);
  }
  return 0;
}

static lz_module *norm_module(const char *type, lz_module_fn fwd, const norm_cfg *c, bool weight,
                              bool bias) {
  if (c->dims < 1 || !(c->eps >= 0)) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, type,
                 "dims must be positive and eps >= 0 (dims %d, "
                 "eps %g)",
                 c->dims, c->eps);
    return NULL;
  }
  lz_module *m = lz_nn__module(type, fwd, c, sizeof *c);
  if (!m) return NULL;
  NN_BEGIN();
  int rc = 0;
  if (weight) rc = lz_module_set_param(m, "weight", lz_ones(&c->dims, 1, LZ_FLOAT32));
  if (rc == 0 && bias) rc = lz_module_set_param(m, "bias", lz_zeros(&c->dims, 1, LZ_FLOAT32));
  lz_scope_end();
  if (rc != 0) lz_module_free(m), m = NULL;
  return m;
}

/* ---- LayerNorm ---- */

static int layer_norm_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  const norm_cfg *c = lz_module_ctx(m);
  if (lz_nn__check_call("LayerNorm", in, n, 1, 1) != 0) return -1;
  if (check_last("LayerNorm", in[0], c->dims) != 0) return -1;
  NN_BEGIN();
  lz_array *y = lz_fast_layer_norm(in[0], lz_nn__get(m, "weight"), lz_nn__get(m, "bias"), c->eps);
  return lz_nn__out1(out, NN_END(y));
}

lz_module *lz_nn_layer_norm_new(int dims, double eps, bool has_affine, bool bias) {
  norm_cfg c = {.dims = dims, .eps = eps};
  return norm_module("LayerNorm", layer_norm_forward, &c, has_affine, has_affine && bias);
}

/* ---- RMSNorm ---- */

static int rms_norm_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  const norm_cfg *c = lz_module_ctx(m);
  if (lz_nn__check_call("RMSNorm", in, n, 1, 1) != 0) return -1;
  if (check_last("RMSNorm", in[0], c->dims) != 0) return -1;
  NN_BEGIN();
  return lz_nn__out1(out, NN_END(lz_fast_rms_norm(in[0], lz_nn__get(m, "weight"), c->eps)));
}

lz_module *lz_nn_rms_norm_new(int dims, double eps) {
  norm_cfg c = {.dims = dims, .eps = eps};
  return norm_module("RMSNorm", rms_norm_forward, &c, true, false);
}

/* ---- GroupNorm ---- */

static int group_norm_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  const norm_cfg *c = lz_module_ctx(m);
  if (lz_nn__check_call("GroupNorm", in, n, 1, 1) != 0) return -1;
  lz_array *x = in[0];
  if (check_last("GroupNorm", x, c->dims) != 0) return -1;
  int nd = lz_array_ndim(x), batch = nd >= 2 ? lz_array_dim(x, 0) : 1;
  if (nd < 2) return lz_set_error(LZ_ERROR_SHAPE, "GroupNorm", "expects (N, ..., C) input");
  int g = c->groups, gs = c->dims / g;
  NN_BEGIN();
  lz_array *y;
  if (c->pytorch_compatible) {
    /* consecutive channels form a group */
    y = lz_reshape(x, (int[]){batch, -1, g, gs}, 4);
    y = lz_reshape(lz_transpose(y, (int[]){0, 2, 1, 3}, 4), (int[]){batch, g, -1}, 3);
    y = normalize(y, (int[]){-1}, 1, c->eps);
    y = lz_reshape(y, (int[]){batch, g, -1, gs}, 4);
    y = lz_transpose(y, (int[]){0, 2, 1, 3}, 4);
  } else {
    /* channel k belongs to group k % groups */
    y = normalize(lz_reshape(x, (int[]){batch, -1, g}, 3), (int[]){1}, 1, c->eps);
  }
  y = lz_reshape(y, lz_array_shape(x), nd);
  return lz_nn__out1(out, NN_END(affine(m, y)));
}

lz_module *lz_nn_group_norm_new(int num_groups, int dims, double eps, bool has_affine,
                                bool pytorch_compatible) {
  if (num_groups < 1 || dims % num_groups != 0) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_group_norm_new",
                 "%d groups do not divide %d "
                 "channels",
                 num_groups, dims);
    return NULL;
  }
  norm_cfg c = {
      .dims = dims, .groups = num_groups, .eps = eps, .pytorch_compatible = pytorch_compatible};
  return norm_module("GroupNorm", group_norm_forward, &c, has_affine, has_affine);
}

/* ---- BatchNorm ---- */

static int batch_norm_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  const norm_cfg *c = lz_module_ctx(m);
  if (lz_nn__check_call("BatchNorm", in, n, 1, 1) != 0) return -1;
  lz_array *x = in[0];
  int nd = lz_array_ndim(x);
  if (nd < 2 || nd > 4)
    return lz_set_error(LZ_ERROR_SHAPE, "BatchNorm", "expects 2-d to 4-d input, got %d-d", nd);
  if (check_last("BatchNorm", x, c->dims) != 0) return -1;
  int axes[3] = {0, 1, 2};
  NN_BEGIN();
  lz_array *mean, *var;
  bool training = lz_module_is_training(m);
  if (training || !c->track_running_stats) {
    mean = lz_mean_axes(x, axes, nd - 1, false);
    var = lz_var_axes(x, axes, nd - 1, false, 0);
    if (training && c->track_running_stats) {
      lz_array *mu = lz_float(c->momentum), *keep = lz_float(1 - c->momentum);
      lz_array *rm =
          lz_add(lz_multiply(keep, lz_nn__get(m, "running_mean")), lz_multiply(mu, mean));
      lz_array *rv = lz_add(lz_multiply(keep, lz_nn__get(m, "running_var")), lz_multiply(mu, var));
      if (!rm || !rv || lz_module_set_param(m, "running_mean", rm) != 0 ||
          lz_module_set_param(m, "running_var", rv) != 0)
        return lz_nn__out1(out, NN_END(NULL));
    }
  } else {
    mean = lz_nn__get(m, "running_mean");
    var = lz_nn__get(m, "running_var");
  }
  lz_array *y = lz_multiply(lz_subtract(x, mean), lz_rsqrt(lz_add(var, lz_float(c->eps))));
  return lz_nn__out1(out, NN_END(affine(m, y)));
}

lz_module *lz_nn_batch_norm_new(int num_features, double eps, double momentum, bool has_affine,
                                bool track_running_stats) {
  norm_cfg c = {.dims = num_features,
                .eps = eps,
                .momentum = momentum,
                .track_running_stats = track_running_stats};
  lz_module *m = norm_module("BatchNorm", batch_norm_forward, &c, has_affine, has_affine);
  if (!m || !track_running_stats) return m;
  NN_BEGIN();
  int rc = lz_module_set_param(m, "running_mean", lz_zeros(&num_features, 1, LZ_FLOAT32));
  if (rc == 0) rc = lz_module_set_param(m, "running_var", lz_ones(&num_features, 1, LZ_FLOAT32));
  if (rc == 0) rc = lz_nn__pin_frozen(m, "running_mean");
  if (rc == 0) rc = lz_nn__pin_frozen(m, "running_var");
  lz_scope_end();
  if (rc != 0) lz_module_free(m), m = NULL;
  return m;
}

/* ---- InstanceNorm ---- */

static int instance_norm_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  const norm_cfg *c = lz_module_ctx(m);
  if (lz_nn__check_call("InstanceNorm", in, n, 1, 1) != 0) return -1;
  lz_array *x = in[0];
  if (check_last("InstanceNorm", x, c->dims) != 0) return -1;
  int nd = lz_array_ndim(x), axes[LZ_MAX_NDIM];
  if (nd < 3)
    return lz_set_error(LZ_ERROR_SHAPE, "InstanceNorm",
                        "expects (N, ..., C) input "
                        "with at least one axis between N and C, got %d-d",
                        nd);
  for (int d = 1; d < nd - 1; d++) axes[d - 1] = d;
  NN_BEGIN();
  return lz_nn__out1(out, NN_END(affine(m, normalize(x, axes, nd - 2, c->eps))));
}

lz_module *lz_nn_instance_norm_new(int dims, double eps, bool has_affine) {
  norm_cfg c = {.dims = dims, .eps = eps};
  return norm_module("InstanceNorm", instance_norm_forward, &c, has_affine, has_affine);
}
