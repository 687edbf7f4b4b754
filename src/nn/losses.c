/* Loss functions (mlx.nn.losses) with MLX's reduction modes. */
#include <math.h>

#include "nn/nn_impl.h"

#define F(v) lz_float(v)

lz_array *lz_nn__reduce(lz_array *loss, lz_nn_reduction reduction, const char *who) {
  switch (reduction) {
  case LZ_NN_REDUCTION_NONE:
    return loss;
  case LZ_NN_REDUCTION_MEAN:
    return lz_mean(loss, false);
  case LZ_NN_REDUCTION_SUM:
    return lz_sum(loss, false);
  default:
    break;
  }
  lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "invalid reduction %d (none, mean or sum)",
               (int)reduction);
  return NULL;
}

/* Checks that the listed arrays are not NULL (passing a pending error through). */
static bool present(const char *who, lz_array *const *a, int n) {
  return lz_nn__check_call(who, a, n, n, n) == 0;
}

static bool same_shapes(const char *who, lz_array *a, lz_array *b, const char *what) {
  if (lz_nn__same_shape(a, b)) return true;
  char s1[128], s2[128];
  lz_set_error(LZ_ERROR_SHAPE, who, "%s shape %s differs from targets shape %s", what,
               lz_nn__fmt_shape(s1, sizeof s1, lz_array_shape(a), lz_array_ndim(a)),
               lz_nn__fmt_shape(s2, sizeof s2, lz_array_shape(b), lz_array_ndim(b)));
  return false;
}

/* logits along axis at integer `targets` (logits' shape without axis). */
static lz_array *pick(lz_array *logits, lz_array *targets, int axis) {
  lz_array *idx = lz_expand_dims(targets, &axis, 1);
  return lz_squeeze(lz_take_along_axis(logits, idx, axis), &axis, 1);
}

/* Whether `targets` has the shape of `x` without `axis` (already normalised). */
static bool drops_axis(lz_array *x, lz_array *targets, int axis) {
  int nd = lz_array_ndim(x);
  if (lz_array_ndim(targets) != nd - 1) return false;
  for (int d = 0, k = 0; d < nd; d++) {
    if (d == axis) continue;
    if (lz_array_shape(targets)[k++] != lz_array_shape(x)[d]) return false;
  }
  return true;
}

static int norm_axis(const char *who, lz_array *x, int axis) {
  int nd = lz_array_ndim(x);
  if (axis < -nd || axis >= nd) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "axis %d is out of range for %d-d input", axis,
                 nd);
    return -1;
  }
  return axis < 0 ? axis + nd : axis;
}

lz_array *lz_nn_cross_entropy(lz_array *logits, lz_array *targets, lz_array *weights, int axis,
                              double label_smoothing, lz_nn_reduction reduction) {
  const char *who = "lz_nn_cross_entropy";
  if (!present(who, (lz_array *[]){logits, targets}, 2)) return NULL;
  if (!(label_smoothing >= 0 && label_smoothing < 1)) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, who, "label_smoothing must be in [0, 1), got %g",
                 label_smoothing);
    return NULL;
  }
  if ((axis = norm_axis(who, logits, axis)) < 0) return NULL;
  bool probs = lz_array_ndim(targets) == lz_array_ndim(logits);
  if ((probs && !lz_nn__same_shape(targets, logits)) ||
      (!probs && !drops_axis(logits, targets, axis))) {
    char s1[128], s2[128];
    lz_set_error(LZ_ERROR_SHAPE, who, "targets of shape %s do not fit logits of shape %s",
                 lz_nn__fmt_shape(s1, sizeof s1, lz_array_shape(targets), lz_array_ndim(targets)),
                 lz_nn__fmt_shape(s2, sizeof s2, lz_array_shape(logits), lz_array_ndim(logits)));
    return NULL;
  }
  NN_BEGIN();
  lz_array *score =
      probs ? lz_sum_axis(lz_multiply(logits, targets), axis, false) : pick(logits, targets, axis);
  lz_array *lse = lz_logsumexp_axis(logits, axis, false), *loss;
  if (label_smoothing > 0) {
    lz_array *adjusted = lz_multiply(F(1 - label_smoothing), score);
    lz_array *smoothed =
        lz_multiply(lz_negative(lz_mean_axis(logits, axis, false)), F(label_smoothing));
    loss = lz_add(lz_subtract(lse, adjusted), smoothed);
  } else {
    loss = lz_subtract(lse, score);
  }
  if (weights && loss) {
    if (lz_nn__same_shape(weights, loss)) {
      loss = lz_multiply(loss, weights);
    } else if (!probs && lz_array_ndim(weights) == 1 &&
               lz_array_dim(weights, 0) == lz_array_dim(logits, axis)) {
      loss = lz_multiply(loss, lz_take(weights, targets, 0)); /* one weight per class */
    } else {
      char s1[128], s2[128];
      lz_set_error(LZ_ERROR_SHAPE, who,
                   "weights of shape %s fit neither the loss %s nor the "
                   "classes",
                   lz_nn__fmt_shape(s1, sizeof s1, lz_array_shape(weights), lz_array_ndim(weights)),
                   lz_nn__fmt_shape(s2, sizeof s2, lz_array_shape(loss), lz_array_ndim(loss)));
      loss = NULL;
    }
  }
  return NN_END(lz_nn__reduce(loss, reduction, who));
}

lz_array *lz_nn_binary_cross_entropy(lz_array *inputs, lz_array *targets, lz_array *weights,
                                     bool with_logits, lz_nn_reduction reduction) {
  const char *who = "lz_nn_binary_cross_entropy";
  if (!present(who, (lz_array *[]){inputs, targets}, 2)) return NULL;
  NN_BEGIN();
  lz_array *loss;
  if (with_logits) {
    loss = lz_subtract(lz_logaddexp(F(0.0), inputs), lz_multiply(inputs, targets));
  } else {
    lz_array *lg = lz_clip(lz_log(inputs), F(-100), NULL);
    lz_array *lg1 = lz_clip(lz_log(lz_subtract(lz_int(1), inputs)), F(-100), NULL);
    loss = lz_negative(
        lz_add(lz_multiply(targets, lg), lz_multiply(lz_subtract(lz_int(1), targets), lg1)));
  }
  if (weights) loss = lz_multiply(loss, weights);
  return NN_END(lz_nn__reduce(loss, reduction, who));
}

lz_array *lz_nn_nll_loss(lz_array *inputs, lz_array *targets, int axis, lz_nn_reduction reduction) {
  const char *who = "lz_nn_nll_loss";
  if (!present(who, (lz_array *[]){inputs, targets}, 2)) return NULL;
  if ((axis = norm_axis(who, inputs, axis)) < 0) return NULL;
  if (!drops_axis(inputs, targets, axis)) {
    lz_set_error(LZ_ERROR_SHAPE, who, "targets must have the inputs' shape without axis %d", axis);
    return NULL;
  }
  NN_BEGIN();
  return NN_END(lz_nn__reduce(lz_negative(pick(inputs, targets, axis)), reduction, who));
}

lz_array *lz_nn_mse_loss(lz_array *p, lz_array *t, lz_nn_reduction reduction) {
  const char *who = "lz_nn_mse_loss";
  if (!present(who, (lz_array *[]){p, t}, 2) || !same_shapes(who, p, t, "predictions")) return NULL;
  NN_BEGIN();
  return NN_END(lz_nn__reduce(lz_square(lz_subtract(p, t)), reduction, who));
}

lz_array *lz_nn_l1_loss(lz_array *p, lz_array *t, lz_nn_reduction reduction) {
  const char *who = "lz_nn_l1_loss";
  if (!present(who, (lz_array *[]){p, t}, 2) || !same_shapes(who, p, t, "predictions")) return NULL;
  NN_BEGIN();
  return NN_END(lz_nn__reduce(lz_abs(lz_subtract(p, t)), reduction, who));
}

lz_array *lz_nn_smooth_l1_loss(lz_array *p, lz_array *t, double beta, lz_nn_reduction reduction) {
  const char *who = "lz_nn_smooth_l1_loss";
  if (!present(who, (lz_array *[]){p, t}, 2) || !same_shapes(who, p, t, "predictions")) return NULL;
  NN_BEGIN();
  lz_array *d = lz_abs(lz_subtract(p, t));
  lz_array *loss =
      lz_where(lz_less(d, F(beta)), lz_divide(lz_multiply(F(0.5), lz_square(d)), F(beta)),
               lz_subtract(d, F(0.5 * beta)));
  return NN_END(lz_nn__reduce(loss, reduction, who));
}

lz_array *lz_nn_huber_loss(lz_array *x, lz_array *t, double delta, lz_nn_reduction reduction) {
  const char *who = "lz_nn_huber_loss";
  if (!present(who, (lz_array *[]){x, t}, 2)) return NULL;
  NN_BEGIN();
  lz_array *a = lz_abs(lz_subtract(x, t));
  lz_array *q = lz_minimum(a, F(delta)), *lin = lz_subtract(a, q);
  lz_array *loss = lz_add(lz_multiply(F(0.5), lz_square(q)), lz_multiply(F(delta), lin));
  return NN_END(lz_nn__reduce(loss, reduction, who));
}

lz_array *lz_nn_log_cosh_loss(lz_array *x, lz_array *t, lz_nn_reduction reduction) {
  const char *who = "lz_nn_log_cosh_loss";
  if (!present(who, (lz_array *[]){x, t}, 2)) return NULL;
  NN_BEGIN();
  lz_array *e = lz_subtract(x, t);
  lz_array *loss = lz_subtract(lz_logaddexp(e, lz_negative(e)), F(log(2.0)));
  return NN_END(lz_nn__reduce(loss, reduction, who));
}

lz_array *lz_nn_kl_div_loss(lz_array *x, lz_array *t, int axis, lz_nn_reduction reduction) {
  const char *who = "lz_nn_kl_div_loss";
  if (!present(who, (lz_array *[]){x, t}, 2)) return NULL;
  NN_BEGIN();
  lz_array *loss = lz_sum_axis(lz_multiply(lz_exp(t), lz_subtract(t, x)), axis, false);
  return NN_END(lz_nn__reduce(loss, reduction, who));
}

lz_array *lz_nn_gaussian_nll_loss(lz_array *x, lz_array *t, lz_array *vars, bool full, double eps,
                                  lz_nn_reduction reduction) {
  const char *who = "lz_nn_gaussian_nll_loss";
  if (!present(who, (lz_array *[]){x, t, vars}, 3) || !same_shapes(who, x, t, "inputs"))
    return NULL;
  NN_BEGIN();
  lz_array *v = lz_maximum(vars, F(eps));
  lz_array *loss =
      lz_multiply(F(0.5), lz_add(lz_log(v), lz_divide(lz_square(lz_subtract(t, x)), v)));
  if (full) loss = lz_add(loss, F(0.5 * log(2 * M_PI)));
  return NN_END(lz_nn__reduce(loss, reduction, who));
}

lz_array *lz_nn_cosine_similarity_loss(lz_array *x1, lz_array *x2, int axis, double eps,
                                       lz_nn_reduction reduction) {
  const char *who = "lz_nn_cosine_similarity_loss";
  if (!present(who, (lz_array *[]){x1, x2}, 2)) return NULL;
  NN_BEGIN();
  lz_array *n1 = lz_linalg_norm(x1, &axis, 1, false), *n2 = lz_linalg_norm(x2, &axis, 1, false);
  lz_array *loss = lz_divide(lz_sum_axis(lz_multiply(x1, x2), axis, false),
                             lz_maximum(lz_multiply(n1, n2), F(eps)));
  return NN_END(lz_nn__reduce(loss, reduction, who));
}

lz_array *lz_nn_hinge_loss(lz_array *x, lz_array *t, lz_nn_reduction reduction) {
  const char *who = "lz_nn_hinge_loss";
  if (!present(who, (lz_array *[]){x, t}, 2)) return NULL;
  NN_BEGIN();
  lz_array *loss = lz_maximum(lz_subtract(lz_int(1), lz_multiply(x, t)), lz_int(0));
  return NN_END(lz_nn__reduce(loss, reduction, who));
}

lz_array *lz_nn_margin_ranking_loss(lz_array *x1, lz_array *x2, lz_array *t, double margin,
                                    lz_nn_reduction reduction) {
  const char *who = "lz_nn_margin_ranking_loss";
  if (!present(who, (lz_array *[]){x1, x2, t}, 3)) return NULL;
  NN_BEGIN();
  lz_array *d = lz_subtract(x1, x2);
  lz_array *loss = lz_maximum(lz_int(0), lz_add(lz_multiply(lz_negative(t), d), F(margin)));
  return NN_END(lz_nn__reduce(loss, reduction, who));
}

lz_array *lz_nn_triplet_loss(lz_array *a, lz_array *p, lz_array *n, int axis, double p_norm,
                             double margin, double eps, lz_nn_reduction reduction) {
  const char *who = "lz_nn_triplet_loss";
  if (!present(who, (lz_array *[]){a, p, n}, 3)) return NULL;
  NN_BEGIN();
  lz_array *dp =
      lz_sqrt(lz_add(lz_sum_axis(lz_power(lz_subtract(a, p), F(p_norm)), axis, false), F(eps)));
  lz_array *dn =
      lz_sqrt(lz_add(lz_sum_axis(lz_power(lz_subtract(a, n), F(p_norm)), axis, false), F(eps)));
  lz_array *loss = lz_maximum(lz_add(lz_subtract(dp, dn), F(margin)), lz_int(0));
  return NN_END(lz_nn__reduce(loss, reduction, who));
}
