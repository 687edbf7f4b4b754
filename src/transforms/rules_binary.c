/* vjp and jvp rules of the binary elementwise ops (ops/binary.c). The node's inputs already
 * have the computation dtype; cotangents are summed back over broadcast axes. */
#include "transforms/transforms_impl.h"

#define X (a->inputs[0])
#define Y (a->inputs[1])
#define C (a->cotans[0])
#define TX (a->tangents[0])
#define TY (a->tangents[1])
#define OUT (a->node->outputs[0]) /* shape and dtype only: it may be a dropped zombie */

/* Stores unbroadcast(g) into in_cotans[i] when input i needs it. */
static int put(const lz_vjp_args *a, lz_array **in_cotans, int i, lz_array *g) {
  in_cotans[i] = NULL;
  if (!a->need[i]) return 0;
  if (!g || !(in_cotans[i] = lz__unbroadcast(a->who, g, a->inputs[i]))) return -1;
  return 0;
}

static lz_array *neg(lz_array *x) { return x ? lz_multiply(x, lz_float(-1.0)) : NULL; }

static int vjp_add(const lz_vjp_args *a, lz_array **g) {
  return put(a, g, 0, a->need[0] ? C : NULL) | put(a, g, 1, a->need[1] ? C : NULL);
}
static int jvp_add(const lz_jvp_args *a, lz_array **t) {
  t[0] = lz__sum_tangents(TX, TY, OUT);
  return (TX || TY) && !t[0] ? -1 : 0;
}

static int vjp_subtract(const lz_vjp_args *a, lz_array **g) {
  return put(a, g, 0, a->need[0] ? C : NULL) | put(a, g, 1, a->need[1] ? neg(C) : NULL);
}
static int jvp_subtract(const lz_jvp_args *a, lz_array **t) {
  t[0] = lz__sum_tangents(TX, neg(TY), OUT);
  return (TX || TY) && !t[0] ? -1 : 0;
}

static int vjp_multiply(const lz_vjp_args *a, lz_array **g) {
  return put(a, g, 0, a->need[0] ? lz_multiply(C, Y) : NULL) |
         put(a, g, 1, a->need[1] ? lz_multiply(C, X) : NULL);
}
static int jvp_multiply(const lz_jvp_args *a, lz_array **t) {
  lz_array *p = TX ? lz_multiply(TX, Y) : NULL, *q = TY ? lz_multiply(X, TY) : NULL;
  t[0] = lz__sum_tangents(p, q, OUT);
  return (TX || TY) && !t[0] ? -1 : 0;
}

/* d(x/y) = dx / y - dy * x / y^2 */
static int vjp_divide(const lz_vjp_args *a, lz_array **g) {
  return put(a, g, 0, a->need[0] ? lz_divide(C, Y) : NULL) |
         put(a, g, 1, a->need[1] ? neg(lz_divide(lz_multiply(C, X), lz_multiply(Y, Y))) : NULL);
}
static int jvp_divide(const lz_jvp_args *a, lz_array **t) {
  lz_array *p = TX ? lz_divide(TX, Y) : NULL;
  lz_array *q = TY ? neg(lz_divide(lz_multiply(TY, X), lz_multiply(Y, Y))) : NULL;
  t[0] = lz__sum_tangents(p, q, OUT);
  return (TX || TY) && !t[0] ? -1 : 0;
}

/* The gradient goes to x where x > y (maximum) or x < y (minimum), else to y, as in MLX. */
static int vjp_select(const lz_vjp_args *a, lz_array **g, lz_array *(*x_wins)(lz_array *,
                                                                              lz_array *),
                      lz_array *(*y_wins)(lz_array *, lz_array *)) {
  return put(a, g, 0, a->need[0] ? lz_multiply(C, x_wins(X, Y)) : NULL) |
         put(a, g, 1, a->need[1] ? lz_multiply(C, y_wins(X, Y)) : NULL);
}
static int jvp_select(const lz_jvp_args *a, lz_array **t, lz_array *(*x_wins)(lz_array *,
                                                                             lz_array *),
                      lz_array *(*y_wins)(lz_array *, lz_array *)) {
  lz_array *p = TX ? lz_multiply(TX, x_wins(X, Y)) : NULL;
  lz_array *q = TY ? lz_multiply(TY, y_wins(X, Y)) : NULL;
  t[0] = lz__sum_tangents(p, q, OUT);
  return (TX || TY) && !t[0] ? -1 : 0;
}
static int vjp_maximum(const lz_vjp_args *a, lz_array **g) {
  return vjp_select(a, g, lz_greater, lz_less_equal);
}
static int jvp_maximum(const lz_jvp_args *a, lz_array **t) {
  return jvp_select(a, t, lz_greater, lz_less_equal);
}
static int vjp_minimum(const lz_vjp_args *a, lz_array **g) {
  return vjp_select(a, g, lz_less, lz_greater_equal);
}
static int jvp_minimum(const lz_jvp_args *a, lz_array **t) {
  return jvp_select(a, t, lz_less, lz_greater_equal);
}

#define ZERO {lz__vjp_zero, lz__jvp_zero, NULL}
const lz_rule lz__rules_binary[LZ_OP_COUNT] = {
    [LZ_OP_ADD] = {vjp_add, jvp_add, NULL},
    [LZ_OP_SUBTRACT] = {vjp_subtract, jvp_subtract, NULL},
    [LZ_OP_MULTIPLY] = {vjp_multiply, jvp_multiply, NULL},
    [LZ_OP_DIVIDE] = {vjp_divide, jvp_divide, NULL},
    [LZ_OP_MAXIMUM] = {vjp_maximum, jvp_maximum, NULL},
    [LZ_OP_MINIMUM] = {vjp_minimum, jvp_minimum, NULL},
    [LZ_OP_EQUAL] = ZERO,
    [LZ_OP_NOT_EQUAL] = ZERO,
    [LZ_OP_LESS] = ZERO,
    [LZ_OP_LESS_EQUAL] = ZERO,
    [LZ_OP_GREATER] = ZERO,
    [LZ_OP_GREATER_EQUAL] = ZERO,
};
