/* Derivative rules, op by op: every vjp and jvp rule against central finite differences in
 * float64 at random inputs (broadcast inputs included), and vjp against jvp. */
#include "test_grad_check.h"

#define IN(lo, hi, ...) {(int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), {__VA_ARGS__}, lo, hi}
#define IN0(lo, hi) {0, {0}, lo, hi}

static lz_array *f_add(lz_array *const *x) { return lz_add(x[0], x[1]); }
static lz_array *f_subtract(lz_array *const *x) { return lz_subtract(x[0], x[1]); }
static lz_array *f_multiply(lz_array *const *x) { return lz_multiply(x[0], x[1]); }
static lz_array *f_divide(lz_array *const *x) { return lz_divide(x[0], x[1]); }
static lz_array *f_maximum(lz_array *const *x) { return lz_maximum(x[0], x[1]); }
static lz_array *f_minimum(lz_array *const *x) { return lz_minimum(x[0], x[1]); }
/* A round trip through float32 loses precision: compare with a looser tolerance. */
static lz_array *f_astype(lz_array *const *x) {
  return lz_multiply(lz_astype(lz_astype(x[0], LZ_FLOAT32), LZ_FLOAT64), x[0]);
}
/* Comparisons and integer casts carry no derivative: only the product term remains. */
static lz_array *f_compare(lz_array *const *x) {
  return lz_add(lz_multiply(lz_greater(x[0], x[1]), x[0]),
                lz_multiply(lz_astype(lz_astype(x[1], LZ_INT32), LZ_FLOAT64), x[1]));
}
/* An input used several times: cotangents are summed. */
static lz_array *f_reuse(lz_array *const *x) {
  lz_array *t = lz_multiply(x[0], x[1]);
  return lz_divide(lz_add(lz_multiply(t, t), x[0]), lz_add(x[1], t));
}
/* Weak scalars and constants inside the function. */
static lz_array *f_scalars(lz_array *const *x) {
  return lz_subtract(lz_multiply(x[0], lz_float(3)), lz_divide(lz_float(2), x[0]));
}

static void test_binary_rules(void) {
  gc_input same[2] = {IN(-1, 1, 3, 4), IN(-1, 1, 3, 4)};
  gc_input pos[2] = {IN(-1, 1, 3, 4), IN(0.5, 2, 3, 4)};
  gc_check("add", f_add, same, 2, 1e-6);
  gc_check("subtract", f_subtract, same, 2, 1e-6);
  gc_check("multiply", f_multiply, same, 2, 1e-6);
  gc_check("divide", f_divide, pos, 2, 1e-6);
  gc_check("maximum", f_maximum, same, 2, 1e-6);
  gc_check("minimum", f_minimum, same, 2, 1e-6);
  gc_check("reuse", f_reuse, pos, 2, 1e-6);
  gc_input one[1] = {IN(0.5, 2, 5)};
  gc_check("scalars", f_scalars, one, 1, 1e-6);
  gc_input zero_d[2] = {IN0(-1, 1), IN0(0.5, 2)};
  gc_check("divide 0-d", f_divide, zero_d, 2, 1e-6);
}

/* Broadcast inputs: cotangents are summed back to each input's shape. */
static void test_broadcast_rules(void) {
  gc_input row[2] = {IN(-1, 1, 3, 4), IN(0.5, 2, 4)};
  gc_input outer[2] = {IN(-1, 1, 3, 1), IN(0.5, 2, 1, 4)};
  gc_input scalar[2] = {IN0(-1, 1), IN(0.5, 2, 2, 3)};
  gc_input lead[2] = {IN(0.5, 2, 2, 1, 3), IN(-1, 1, 4, 1)};
  gc_body bodies[] = {f_add, f_subtract, f_multiply, f_divide, f_maximum, f_minimum, f_reuse};
  const char *names[] = {"add", "subtract", "multiply", "divide", "maximum", "minimum", "reuse"};
  for (int k = 0; k < 7; k++) {
    gc_check(names[k], bodies[k], row, 2, 1e-6);
    gc_check(names[k], bodies[k], outer, 2, 1e-6);
    gc_check(names[k], bodies[k], scalar, 2, 1e-6);
  }
  gc_check("multiply (2,1,3)*(4,1)", f_multiply, lead, 2, 1e-6);
  gc_check("divide (4,1)/(2,1,3)", f_divide, (gc_input[]){lead[1], lead[0]}, 2, 1e-6);
}

static lz_array *f_sum(lz_array *const *x) { return lz_sum_axis(x[0], 1, false); }
static lz_array *f_sum_all(lz_array *const *x) { return lz_sum(x[0], true); }
static lz_array *f_mean(lz_array *const *x) { return lz_mean_axes(x[0], (int[]){0, 2}, 2, false); }
static lz_array *f_max(lz_array *const *x) { return lz_max_axis(x[0], -1, false); }
static lz_array *f_min(lz_array *const *x) { return lz_min_axis(x[0], 0, true); }
static lz_array *f_lse(lz_array *const *x) { return lz_logsumexp_axis(x[0], 1, false); }
static lz_array *f_var(lz_array *const *x) { return lz_var_axis(x[0], 1, false, 1); }
static lz_array *f_std(lz_array *const *x) { return lz_std(x[0], false, 0); }
static lz_array *f_softmax(lz_array *const *x) {
  return lz_multiply(lz_softmax_axis(x[0], -1, true), x[0]);
}
static lz_array *f_argmax(lz_array *const *x) { /* argmax carries no derivative */
  return lz_multiply(lz_astype(lz_argmax_axis(x[0], 1, true), LZ_FLOAT64), x[0]);
}

static void test_reduce_rules(void) {
  gc_input m[1] = {IN(-1, 1, 3, 4)};
  gc_input m3[1] = {IN(-1, 1, 2, 3, 4)};
  gc_check("sum", f_sum, m, 1, 1e-6);
  gc_check("sum all", f_sum_all, m3, 1, 1e-6);
  gc_check("mean", f_mean, m3, 1, 1e-6);
  gc_check("max", f_max, m, 1, 1e-6);
  gc_check("min", f_min, m, 1, 1e-6);
  gc_check("logsumexp", f_lse, m, 1, 1e-6);
  gc_check("var", f_var, m, 1, 1e-6);
  gc_check("std", f_std, m3, 1, 1e-6);
  gc_check("softmax", f_softmax, m, 1, 1e-6);
  gc_check("argmax", f_argmax, m, 1, 1e-6);
}

static lz_array *f_reshape(lz_array *const *x) {
  return lz_multiply(lz_reshape(x[0], (int[]){4, 3}, 2), x[1]);
}
static lz_array *f_transpose(lz_array *const *x) {
  return lz_multiply(lz_transpose(x[0], (int[]){2, 0, 1}, 3), x[1]);
}
static lz_array *f_broadcast_to(lz_array *const *x) {
  return lz_multiply(lz_broadcast_to(x[0], (int[]){2, 3, 4}, 3), x[1]);
}

static void test_shape_rules(void) {
  gc_check("reshape", f_reshape, (gc_input[]){IN(-1, 1, 3, 4), IN(-1, 1, 4, 3)}, 2, 1e-6);
  gc_check("transpose", f_transpose, (gc_input[]){IN(-1, 1, 2, 3, 4), IN(-1, 1, 4, 2, 3)}, 2,
           1e-6);
  gc_check("broadcast_to", f_broadcast_to, (gc_input[]){IN(-1, 1, 3, 1), IN(-1, 1, 2, 3, 4)}, 2,
           1e-6);
}

#define UNARY_BODY(NAME)                                                                         \
  static lz_array *f_##NAME(lz_array *const *x) { return lz_##NAME(x[0]); }
UNARY_BODY(abs) UNARY_BODY(negative) UNARY_BODY(square) UNARY_BODY(sqrt) UNARY_BODY(rsqrt)
UNARY_BODY(reciprocal) UNARY_BODY(exp) UNARY_BODY(expm1) UNARY_BODY(log) UNARY_BODY(log2)
UNARY_BODY(log10) UNARY_BODY(log1p) UNARY_BODY(sin) UNARY_BODY(cos) UNARY_BODY(tan)
UNARY_BODY(arcsin) UNARY_BODY(arccos) UNARY_BODY(arctan) UNARY_BODY(sinh) UNARY_BODY(cosh)
UNARY_BODY(tanh) UNARY_BODY(arcsinh) UNARY_BODY(arccosh) UNARY_BODY(arctanh) UNARY_BODY(sigmoid)
UNARY_BODY(erf) UNARY_BODY(erfinv)
/* sign and floor carry no derivative: only the product with x remains. */
static lz_array *f_blocked(lz_array *const *x) {
  return lz_multiply(lz_add(lz_sign(x[0]), lz_floor(x[0])), x[0]);
}

static void test_unary_rules(void) {
  struct {
    const char *name;
    gc_body f;
    double lo, hi;
  } ops[] = {
      {"abs", f_abs, -1, 1},           {"negative", f_negative, -1, 1},
      {"square", f_square, -1, 1},     {"sqrt", f_sqrt, 0.2, 2},
      {"rsqrt", f_rsqrt, 0.2, 2},      {"reciprocal", f_reciprocal, 0.5, 2},
      {"exp", f_exp, -1, 1},           {"expm1", f_expm1, -1, 1},
      {"log", f_log, 0.2, 2},          {"log2", f_log2, 0.2, 2},
      {"log10", f_log10, 0.2, 2},      {"log1p", f_log1p, -0.5, 2},
      {"sin", f_sin, -2, 2},           {"cos", f_cos, -2, 2},
      {"tan", f_tan, -1, 1},           {"arcsin", f_arcsin, -0.8, 0.8},
      {"arccos", f_arccos, -0.8, 0.8}, {"arctan", f_arctan, -2, 2},
      {"sinh", f_sinh, -1, 1},         {"cosh", f_cosh, -1, 1},
      {"tanh", f_tanh, -2, 2},         {"arcsinh", f_arcsinh, -2, 2},
      {"arccosh", f_arccosh, 1.2, 3},  {"arctanh", f_arctanh, -0.8, 0.8},
      {"sigmoid", f_sigmoid, -3, 3},   {"erf", f_erf, -1.5, 1.5},
      {"erfinv", f_erfinv, -0.8, 0.8}, {"blocked", f_blocked, -2, 2},
  };
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
    gc_input in[1] = {IN(ops[k].lo, ops[k].hi, 2, 3)};
    gc_check(ops[k].name, ops[k].f, in, 1, 1e-6);
  }
}

/* stop_gradient: the value passes, the gradient does not (grad of x * stop(x) is x). */
static lz_array *f_stopped(lz_array *const *x) {
  return lz_multiply(x[0], lz_stop_gradient(x[0]));
}
static void test_stop_gradient(void) {
  lz_closure *f = gc_closure(f_stopped), *g = lz_grad(f, NULL, 0);
  lz_array *x = lz_scalar(3, LZ_FLOAT64), *out[LZ_MAX_OUTPUTS];
  CHECK(lz_closure_call(g, &x, 1, out) == 1);
  CHECK_CLOSE(lz_item_f64(out[0]), 3, 0);
  lz_closure_free(g), lz_closure_free(f);
}

static lz_array *f_matmul(lz_array *const *x) { return lz_matmul(x[0], x[1]); }

static void test_matmul_rules(void) {
  gc_check("matmul", f_matmul, (gc_input[]){IN(-1, 1, 3, 4), IN(-1, 1, 4, 2)}, 2, 1e-6);
  gc_check("matmul batch", f_matmul, (gc_input[]){IN(-1, 1, 2, 3, 4), IN(-1, 1, 4, 2)}, 2, 1e-6);
  /* a 2-d weight under two batch axes: its gradient is one product over all rows */
  gc_check("matmul 2 batch axes, 2-d weight", f_matmul,
           (gc_input[]){IN(-1, 1, 2, 3, 2, 4), IN(-1, 1, 4, 3)}, 2, 1e-6);
  gc_check("matmul bcast", f_matmul, (gc_input[]){IN(-1, 1, 2, 1, 3, 4), IN(-1, 1, 3, 4, 2)}, 2,
           1e-6);
  gc_check("vector @ matrix", f_matmul, (gc_input[]){IN(-1, 1, 4), IN(-1, 1, 2, 4, 3)}, 2, 1e-6);
  gc_check("matrix @ vector", f_matmul, (gc_input[]){IN(-1, 1, 3, 4), IN(-1, 1, 4)}, 2, 1e-6);
  gc_check("vector @ vector", f_matmul, (gc_input[]){IN(-1, 1, 4), IN(-1, 1, 4)}, 2, 1e-6);
}

static void test_cast_and_compare_rules(void) {
  gc_input one[1] = {IN(-1, 1, 6)};
  gc_check_h("astype", f_astype, one, 1, 1e-4, 1e-2); /* a step float32 rounding won't swamp */
  gc_input two[2] = {IN(-1, 1, 2, 3), IN(0.5, 2, 2, 3)};
  gc_check("compare", f_compare, two, 2, 1e-6);
}

/* maximum/minimum send the whole cotangent to one side, as MLX does: y wins ties. */
static void test_maximum_ties(void) {
  double a[3] = {1, 2, 3}, b[3] = {1, 5, 0};
  int s[1] = {3};
  lz_array *x = lz_array_from_data(a, s, 1, LZ_FLOAT64), *y = lz_array_from_data(b, s, 1, LZ_FLOAT64);
  lz_closure *f = gc_closure(f_maximum);
  lz_array *in[2] = {x, y}, *cot = lz_ones(s, 1, LZ_FLOAT64), *g[2];
  CHECK(lz_vjp(f, in, 2, &cot, 1, NULL, g) == 0);
  CHECK_VALUES(g[0], ((double[]){0, 0, 1}), 3, 0);
  CHECK_VALUES(g[1], ((double[]){1, 1, 0}), 3, 0);
  lz_closure_free(f);
}

int main(void) {
  RUN(test_binary_rules);
  RUN(test_broadcast_rules);
  RUN(test_cast_and_compare_rules);
  RUN(test_reduce_rules);
  RUN(test_shape_rules);
  RUN(test_matmul_rules);
  RUN(test_unary_rules);
  RUN(test_stop_gradient);
  RUN(test_maximum_ties);
  return lzt_summary();
}
