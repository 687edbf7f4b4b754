/* Activation functions (mlx.nn's formulas) and their parameter-free modules. */
#include <math.h>

#include "nn/nn_impl.h"

#define F(v) lz_float(v)

lz_array *lz_nn_relu(lz_array *x) {
  NN_BEGIN();
  return NN_END(lz_maximum(x, lz_int(0)));
}

lz_array *lz_nn_relu6(lz_array *x) {
  NN_BEGIN();
  return NN_END(lz_minimum(lz_maximum(x, lz_int(0)), F(6.0)));
}

lz_array *lz_nn_leaky_relu(lz_array *x, double negative_slope) {
  NN_BEGIN();
  return NN_END(lz_maximum(lz_multiply(F(negative_slope), x), x));
}

lz_array *lz_nn_elu(lz_array *x, double alpha) {
  NN_BEGIN();
  return NN_END(lz_where(lz_greater(x, lz_int(0)), x,
                         lz_multiply(F(alpha), lz_subtract(lz_exp(x), lz_int(1)))));
}

lz_array *lz_nn_celu(lz_array *x, double alpha) {
  NN_BEGIN();
  lz_array *e = lz_subtract(lz_exp(lz_divide(lz_minimum(x, F(0.0)), F(alpha))), lz_int(1));
  return NN_END(lz_add(lz_maximum(x, F(0.0)), lz_multiply(F(alpha), e)));
}

lz_array *lz_nn_selu(lz_array *x) {
  NN_BEGIN();
  return NN_END(lz_multiply(lz_nn_elu(x, 1.67326), F(1.0507)));
}

lz_array *lz_nn_gelu(lz_array *x) {
  NN_BEGIN();
  lz_array *e = lz_erf(lz_divide(x, F(sqrt(2.0))));
  return NN_END(lz_divide(lz_multiply(x, lz_add(lz_int(1), e)), lz_int(2)));
}

lz_array *lz_nn_gelu_approx(lz_array *x) {
  NN_BEGIN();
  lz_array *cube = lz_multiply(lz_multiply(x, x), x);
  lz_array *in = lz_multiply(F(sqrt(2.0 / M_PI)), lz_add(x, lz_multiply(F(0.044715), cube)));
  return NN_END(lz_multiply(lz_multiply(F(0.5), x), lz_add(lz_int(1), lz_tanh(in))));
}

lz_array *lz_nn_gelu_fast_approx(lz_array *x) {
  NN_BEGIN();
  return NN_END(lz_multiply(x, lz_sigmoid(lz_multiply(F(1.702), x))));
}

lz_array *lz_nn_silu(lz_array *x) {
  NN_BEGIN();
  return NN_END(lz_multiply(x, lz_sigmoid(x)));
}

lz_array *lz_nn_softplus(lz_array *x) {
  NN_BEGIN();
  return NN_END(lz_logaddexp(x, lz_int(0)));
}

lz_array *lz_nn_mish(lz_array *x) {
  NN_BEGIN();
  return NN_END(lz_multiply(x, lz_tanh(lz_nn_softplus(x))));
}

lz_array *lz_nn_softsign(lz_array *x) {
  NN_BEGIN();
  return NN_END(lz_divide(x, lz_add(lz_int(1), lz_abs(x))));
}

lz_array *lz_nn_hardswish(lz_array *x) {
  NN_BEGIN();
  lz_array *m = lz_maximum(lz_add(x, lz_int(3)), lz_int(0));
  return NN_END(lz_divide(lz_multiply(x, lz_minimum(m, lz_int(6))), lz_int(6)));
}

lz_array *lz_nn_hard_tanh(lz_array *x, double min_val, double max_val) {
  NN_BEGIN();
  return NN_END(lz_minimum(lz_maximum(x, F(min_val)), F(max_val)));
}

lz_array *lz_nn_log_sigmoid(lz_array *x) {
  NN_BEGIN();
  return NN_END(lz_negative(lz_nn_softplus(lz_negative(x))));
}

lz_array *lz_nn_log_softmax(lz_array *x, int axis) {
  NN_BEGIN();
  return NN_END(lz_subtract(x, lz_logsumexp_axis(x, axis, true)));
}

lz_array *lz_nn_glu(lz_array *x, int axis) {
  lz_array *ab[2];
  NN_BEGIN();
  if (lz_split(x, 2, axis, ab) != 0) return NN_END(NULL);
  return NN_END(lz_multiply(ab[0], lz_sigmoid(ab[1])));
}

lz_array *lz_nn_prelu(lz_array *x, lz_array *alpha) {
  NN_BEGIN();
  return NN_END(lz_add(lz_maximum(lz_int(0), x), lz_multiply(alpha, lz_minimum(lz_int(0), x))));
}

lz_array *lz_nn_step(lz_array *x, double threshold) {
  NN_BEGIN();
  return NN_END(lz_where(lz_greater(x, F(threshold)), lz_int(1), lz_int(0)));
}

/* ---- modules -------------------------------------------------------------------------------- */

typedef enum act_kind {
  ACT_RELU,
  ACT_RELU6,
  ACT_LEAKY_RELU,
  ACT_ELU,
  ACT_CELU,
  ACT_SELU,
  ACT_GELU,
  ACT_GELU_APPROX,
  ACT_GELU_FAST,
  ACT_SILU,
  ACT_MISH,
  ACT_SOFTPLUS,
  ACT_SOFTSIGN,
  ACT_HARDSWISH,
  ACT_HARD_TANH,
  ACT_LOG_SIGMOID,
  ACT_LOG_SOFTMAX,
  ACT_GLU,
  ACT_STEP,
  ACT_SIGMOID,
  ACT_TANH
} act_kind;

typedef struct act_cfg {
  act_kind kind;
  double a;
  int axis;
} act_cfg;

static int act_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  const act_cfg *c = lz_module_ctx(m);
  if (lz_nn__check_call(lz_module_type(m), in, n, 1, 1) != 0) return -1;
  lz_array *x = in[0], *r = NULL;
  switch (c->kind) {
  case ACT_RELU:
    r = lz_nn_relu(x);
    break;
  case ACT_RELU6:
    r = lz_nn_relu6(x);
    break;
  case ACT_LEAKY_RELU:
    r = lz_nn_leaky_relu(x, c->a);
    break;
  case ACT_ELU:
    r = lz_nn_elu(x, c->a);
    break;
  case ACT_CELU:
    r = lz_nn_celu(x, c->a);
    break;
  case ACT_SELU:
    r = lz_nn_selu(x);
    break;
  case ACT_GELU:
    r = lz_nn_gelu(x);
    break;
  case ACT_GELU_APPROX:
    r = lz_nn_gelu_approx(x);
    break;
  case ACT_GELU_FAST:
    r = lz_nn_gelu_fast_approx(x);
    break;
  case ACT_SILU:
    r = lz_nn_silu(x);
    break;
  case ACT_MISH:
    r = lz_nn_mish(x);
    break;
  case ACT_SOFTPLUS:
    r = lz_nn_softplus(x);
    break;
  case ACT_SOFTSIGN:
    r = lz_nn_softsign(x);
    break;
  case ACT_HARDSWISH:
    r = lz_nn_hardswish(x);
    break;
  case ACT_HARD_TANH:
    r = lz_nn_hard_tanh(x, -1.0, 1.0);
    break;
  case ACT_LOG_SIGMOID:
    r = lz_nn_log_sigmoid(x);
    break;
  case ACT_LOG_SOFTMAX:
    r = lz_nn_log_softmax(x, -1);
    break;
  case ACT_GLU:
    r = lz_nn_glu(x, c->axis);
    break;
  case ACT_STEP:
    r = lz_nn_step(x, c->a);
    break;
  case ACT_SIGMOID:
    r = lz_sigmoid(x);
    break;
  case ACT_TANH:
    r = lz_tanh(x);
    break;
  }
  return lz_nn__out1(out, r);
}

static lz_module *act(const char *type, act_kind kind, double a, int axis) {
  act_cfg c = {kind, a, axis};
  return lz_nn__module(type, act_forward, &c, sizeof c);
}

lz_module *lz_nn_relu_new(void) { return act("ReLU", ACT_RELU, 0, 0); }
lz_module *lz_nn_relu6_new(void) { return act("ReLU6", ACT_RELU6, 0, 0); }
lz_module *lz_nn_leaky_relu_new(double slope) { return act("LeakyReLU", ACT_LEAKY_RELU, slope, 0); }
lz_module *lz_nn_elu_new(double alpha) { return act("ELU", ACT_ELU, alpha, 0); }
lz_module *lz_nn_celu_new(double alpha) { return act("CELU", ACT_CELU, alpha, 0); }
lz_module *lz_nn_selu_new(void) { return act("SELU", ACT_SELU, 0, 0); }
lz_module *lz_nn_silu_new(void) { return act("SiLU", ACT_SILU, 0, 0); }
lz_module *lz_nn_mish_new(void) { return act("Mish", ACT_MISH, 0, 0); }
lz_module *lz_nn_softplus_new(void) { return act("Softplus", ACT_SOFTPLUS, 0, 0); }
lz_module *lz_nn_softsign_new(void) { return act("Softsign", ACT_SOFTSIGN, 0, 0); }
lz_module *lz_nn_hardswish_new(void) { return act("Hardswish", ACT_HARDSWISH, 0, 0); }
lz_module *lz_nn_hard_tanh_new(void) { return act("HardTanh", ACT_HARD_TANH, 0, 0); }
lz_module *lz_nn_log_sigmoid_new(void) { return act("LogSigmoid", ACT_LOG_SIGMOID, 0, 0); }
lz_module *lz_nn_log_softmax_new(void) { return act("LogSoftmax", ACT_LOG_SOFTMAX, 0, 0); }
lz_module *lz_nn_glu_new(int axis) { return act("GLU", ACT_GLU, 0, axis); }
lz_module *lz_nn_step_new(double threshold) { return act("Step", ACT_STEP, threshold, 0); }
lz_module *lz_nn_sigmoid_new(void) { return act("Sigmoid", ACT_SIGMOID, 0, 0); }
lz_module *lz_nn_tanh_new(void) { return act("Tanh", ACT_TANH, 0, 0); }

lz_module *lz_nn_gelu_new(const char *approx) {
  if (!approx || strcmp(approx, "none") == 0) return act("GELU", ACT_GELU, 0, 0);
  if (strcmp(approx, "precise") == 0 || strcmp(approx, "tanh") == 0)
    return act("GELU", ACT_GELU_APPROX, 0, 0);
  if (strcmp(approx, "fast") == 0) return act("GELU", ACT_GELU_FAST, 0, 0);
  lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_gelu_new",
               "approx must be \"none\", \"precise\", \"tanh\" or \"fast\", got \"%s\"", approx);
  return NULL;
}

static int prelu_forward(lz_module *m, lz_array *const *in, int n, lz_array **out) {
  if (lz_nn__check_call("PReLU", in, n, 1, 1) != 0) return -1;
  NN_BEGIN();
  return lz_nn__out1(out, NN_END(lz_nn_prelu(in[0], lz_nn__get(m, "weight"))));
}

lz_module *lz_nn_prelu_new(int num_parameters, double init) {
  if (num_parameters < 1) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_nn_prelu_new", "num_parameters is %d",
                 num_parameters);
    return NULL;
  }
  lz_module *m = lz_module_new("PReLU", prelu_forward, NULL, NULL);
  lz_scope_begin();
  if (m && lz_module_set_param(m, "weight", lz_full(&num_parameters, 1, init, LZ_FLOAT32)) != 0)
    lz_module_free(m), m = NULL;
  lz_scope_end();
  return m;
}
