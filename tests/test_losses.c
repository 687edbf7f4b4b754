/* nn losses against NumPy references (scripts/gen_nn_refs.py), every reduction mode, errors,
 * and gradients of the losses through value_and_grad. */
#include "nn_testutil.h"

#define TOL 2e-5
#define NONE LZ_NN_REDUCTION_NONE
#define MEAN LZ_NN_REDUCTION_MEAN
#define SUM LZ_NN_REDUCTION_SUM

static void test_cross_entropy(void) {
  lz_array *lg = nn_ref("loss:in:logits"), *t = nn_ref_i("loss:in:targets");
  CHECK_REF(lz_nn_cross_entropy(lg, t, NULL, -1, 0, NONE), "loss:out:ce", TOL);
  CHECK_REF(lz_nn_cross_entropy(lg, t, NULL, -1, 0.2, NONE), "loss:out:ce_smooth", TOL);
  CHECK_REF(lz_nn_cross_entropy(lg, nn_ref("loss:in:probs"), NULL, -1, 0, NONE),
            "loss:out:ce_probs", TOL);
  CHECK_REF(lz_nn_cross_entropy(lg, t, nn_ref("loss:in:weights"), -1, 0, NONE),
            "loss:out:ce_weights", TOL);
  CHECK_REF(lz_nn_cross_entropy(lg, t, nn_ref("loss:in:class_w"), 1, 0, MEAN),
            "loss:out:ce_class_w_mean", TOL);
  CHECK_REF(lz_nn_cross_entropy(lg, nn_ref_i("loss:in:targets_axis0"), NULL, 0, 0, NONE),
            "loss:out:ce_axis0", TOL);
  /* reductions of the plain loss */
  const nn_ref_entry *ce = nn_find("loss:out:ce");
  double s = ce->data[0] + ce->data[1] + ce->data[2];
  CHECK_VALUES(lz_nn_cross_entropy(lg, t, NULL, -1, 0, SUM), &s, 1, TOL);
  double mean = s / 3;
  CHECK_VALUES(lz_nn_cross_entropy(lg, t, NULL, -1, 0, MEAN), &mean, 1, TOL);
  /* a transposed (non-contiguous) logits view along axis 0 equals the original along axis 1 */
  lz_array *lt = lz_transpose(lg, NULL, 0);
  CHECK_REF(lz_nn_cross_entropy(lt, t, NULL, 0, 0, NONE), "loss:out:ce", TOL);
  CHECK_ERROR(lz_nn_cross_entropy(lg, t, NULL, -1, 1.0, NONE), "label_smoothing");
  CHECK_ERROR(lz_nn_cross_entropy(lg, lz_zeros((int[]){4}, 1, LZ_INT32), NULL, -1, 0, NONE),
              "do not fit logits");
  CHECK_ERROR(lz_nn_cross_entropy(lg, t, lz_ones((int[]){2}, 1, LZ_FLOAT32), -1, 0, NONE),
              "weights of shape (2,)");
  CHECK_ERROR(lz_nn_cross_entropy(lg, t, NULL, 2, 0, NONE), "axis 2");
  CHECK_ERROR(lz_nn_cross_entropy(lg, t, NULL, -1, 0, (lz_nn_reduction)7), "invalid reduction");
}

static void test_elementwise_losses(void) {
  lz_array *p = nn_ref("loss:in:p"), *t2 = nn_ref("loss:in:t2"), *bt = nn_ref("loss:in:bt");
  CHECK_REF(lz_nn_binary_cross_entropy(p, bt, NULL, true, NONE), "loss:out:bce_logits", TOL);
  CHECK_REF(lz_nn_binary_cross_entropy(p, bt, nn_ref("loss:in:bw"), true, MEAN),
            "loss:out:bce_logits_w_mean", TOL);
  CHECK_REF(lz_nn_binary_cross_entropy(nn_ref("loss:in:pr"), bt, NULL, false, NONE),
            "loss:out:bce_probs", TOL);
  /* probabilities of exactly 0 and 1 are clipped to log >= -100, not inf */
  lz_array *edge = lz_nn_binary_cross_entropy(
      lz_array_from_data((float[]){0, 1}, (int[]){2}, 1, LZ_FLOAT32),
      lz_array_from_data((float[]){1, 0}, (int[]){2}, 1, LZ_FLOAT32), NULL, false, NONE);
  CHECK_VALUES(edge, ((double[]){100, 100}), 2, 1e-6);
  CHECK_REF(lz_nn_nll_loss(nn_ref("loss:in:logp"), nn_ref_i("loss:in:targets"), -1, NONE),
            "loss:out:nll", TOL);
  CHECK_REF(lz_nn_mse_loss(p, t2, NONE), "loss:out:mse_none", TOL);
  CHECK_REF(lz_nn_mse_loss(p, t2, MEAN), "loss:out:mse_mean", TOL);
  CHECK_REF(lz_nn_mse_loss(p, t2, SUM), "loss:out:mse_sum", TOL);
  CHECK_REF(lz_nn_l1_loss(p, t2, MEAN), "loss:out:l1_mean", TOL);
  CHECK_REF(lz_nn_smooth_l1_loss(p, t2, 0.5, NONE), "loss:out:smooth_l1", TOL);
  CHECK_REF(lz_nn_huber_loss(p, t2, 0.7, NONE), "loss:out:huber", TOL);
  CHECK_REF(lz_nn_log_cosh_loss(p, t2, NONE), "loss:out:log_cosh", TOL);
  CHECK_REF(lz_nn_kl_div_loss(nn_ref("loss:in:logp"), nn_ref("loss:in:kl_t"), -1, NONE),
            "loss:out:kl_div", TOL);
  CHECK_REF(lz_nn_gaussian_nll_loss(p, t2, nn_ref("loss:in:var"), false, 1e-6, MEAN),
            "loss:out:gauss_nll_mean", 1e-4);
  CHECK_REF(lz_nn_gaussian_nll_loss(p, t2, nn_ref("loss:in:var"), true, 1e-6, NONE),
            "loss:out:gauss_nll_full", 1e-4);
  CHECK_REF(lz_nn_cosine_similarity_loss(nn_ref("loss:in:a1"), nn_ref("loss:in:a2"), 1, 1e-8, NONE),
            "loss:out:cosine", TOL);
  lz_array *ht = nn_ref("loss:in:ht");
  CHECK_REF(lz_nn_hinge_loss(p, ht, NONE), "loss:out:hinge", TOL);
  CHECK_REF(lz_nn_margin_ranking_loss(p, t2, ht, 0.3, NONE), "loss:out:margin_ranking", TOL);
  CHECK_REF(lz_nn_triplet_loss(nn_ref("loss:in:an"), nn_ref("loss:in:po"), nn_ref("loss:in:ne"), -1,
                               2, 1.0, 1e-6, NONE),
            "loss:out:triplet", TOL);
  /* float16 inputs keep their dtype */
  lz_array *h = lz_nn_mse_loss(lz_astype(p, LZ_FLOAT16), lz_astype(t2, LZ_FLOAT16), NONE);
  CHECK(lz_array_dtype(h) == LZ_FLOAT16);
  CHECK_REF(h, "loss:out:mse_none", 1e-2);
  /* empty inputs: mean is NaN, sum is 0 */
  lz_array *e = lz_zeros((int[]){0}, 1, LZ_FLOAT32);
  CHECK(isnan(lz_item_f64(lz_nn_l1_loss(e, e, MEAN))));
  CHECK(lz_item_f64(lz_nn_l1_loss(e, e, SUM)) == 0);
  CHECK_ERROR(lz_nn_mse_loss(p, lz_zeros((int[]){3, 2}, 2, LZ_FLOAT32), MEAN),
              "predictions shape (2,3) differs from targets shape (3,2)");
  CHECK_ERROR(lz_nn_nll_loss(nn_ref("loss:in:logp"), p, -1, NONE), "without axis");
  CHECK_ERROR(lz_nn_hinge_loss(NULL, p, NONE), "NULL");
}

/* Gradients of the losses flow through value_and_grad: d/dW of sum-reduced losses of a linear
 * model equal their analytic forms. */
typedef struct loss_case {
  int kind;
} loss_case;

static lz_array *loss_of(void *ctx, lz_module *m, lz_array *const *in, int n) {
  int kind = ((loss_case *)ctx)->kind;
  lz_array *y = lz_module_forward(m, in[0]);
  switch (kind) {
  case 0:
    return lz_nn_cross_entropy(y, in[1], NULL, -1, 0, MEAN);
  case 1:
    return lz_nn_mse_loss(y, in[2], SUM);
  default:
    return lz_nn_binary_cross_entropy(y, in[3], NULL, true, SUM);
  }
}

static void test_loss_gradients(void) {
  lz_module *m = lz_nn_linear_new(3, 2, false);
  float wv[6] = {0.1f, -0.2f, 0.3f, 0.5f, 0.4f, -0.6f}, xv[6] = {1, 2, -1, 0.5f, -1, 2};
  lz_dict *w = lz_dict_new();
  lz_dict_set(w, "weight", lz_array_from_data(wv, (int[]){2, 3}, 2, LZ_FLOAT32));
  lz_module_update(m, w);
  lz_dict_free(w);
  lz_array *x = lz_array_from_data(xv, (int[]){2, 3}, 2, LZ_FLOAT32);
  lz_array *cls = lz_array_from_data((int32_t[]){1, 0}, (int[]){2}, 1, LZ_INT32);
  lz_array *tgt = lz_array_from_data((float[]){1, -1, 0, 2}, (int[]){2, 2}, 2, LZ_FLOAT32);
  lz_array *bin = lz_array_from_data((float[]){1, 0, 0, 1}, (int[]){2, 2}, 2, LZ_FLOAT32);
  double logits[2][2];
  for (int i = 0; i < 2; i++)
    for (int o = 0; o < 2; o++)
      logits[i][o] =
          wv[o * 3] * xv[i * 3] + wv[o * 3 + 1] * xv[i * 3 + 1] + wv[o * 3 + 2] * xv[i * 3 + 2];
  for (int kind = 0; kind < 3; kind++) {
    /* dL/dlogits for each loss, then dW = dlogits^T x */
    double dl[2][2], gw[6] = {0};
    const float *tg = kind == 1 ? (const float[]){1, -1, 0, 2} : (const float[]){1, 0, 0, 1};
    for (int i = 0; i < 2; i++) {
      double e0 = exp(logits[i][0]), e1 = exp(logits[i][1]);
      for (int o = 0; o < 2; o++) {
        if (kind == 0)
          dl[i][o] = ((o ? e1 : e0) / (e0 + e1) - (o == (i == 0 ? 1 : 0))) / 2;
        else if (kind == 1)
          dl[i][o] = 2 * (logits[i][o] - tg[i * 2 + o]);
        else
          dl[i][o] = 1 / (1 + exp(-logits[i][o])) - tg[i * 2 + o];
      }
    }
    for (int o = 0; o < 2; o++)
      for (int j = 0; j < 3; j++) gw[o * 3 + j] = dl[0][o] * xv[j] + dl[1][o] * xv[3 + j];
    loss_case c = {kind};
    lz_nn_grad_fn *f = lz_nn_value_and_grad(m, loss_of, &c);
    lz_array *l;
    lz_dict *g;
    CHECK(lz_nn_grad_fn_call(f, (lz_array *[]){x, cls, tgt, bin}, 4, &l, &g) == 0);
    if (g) CHECK_VALUES(lz_dict_get(g, "weight"), gw, 6, 1e-5);
    lz_dict_free(g);
    lz_nn_grad_fn_free(f);
  }
  lz_module_free(m);
}

int main(void) {
  RUN(test_cross_entropy);
  RUN(test_elementwise_losses);
  RUN(test_loss_gradients);
  return lzt_summary();
}
