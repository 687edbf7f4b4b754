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

/* Rules given by the partial derivatives dx = d out/d x and dy = d out/d y (either may be NULL
 * when that input needs none): vjp c*dx, c*dy; jvp tx*dx + ty*dy. */
typedef void (*partials_fn)(lz_node *node, lz_array **dx, lz_array **dy);

static int vjp_partials(const lz_vjp_args *a, lz_array **g, partials_fn f) {
  lz_array *dx = NULL, *dy = NULL;
  f(a->node, a->need[0] ? &dx : NULL, a->need[1] ? &dy : NULL);
  return put(a, g, 0, a->need[0] && dx ? lz_multiply(C, dx) : NULL) |
         put(a, g, 1, a->need[1] && dy ? lz_multiply(C, dy) : NULL);
}
static int jvp_partials(const lz_jvp_args *a, lz_array **t, partials_fn f) {
  lz_array *dx = NULL, *dy = NULL;
  f(a->node, TX ? &dx : NULL, TY ? &dy : NULL);
  lz_array *p = TX ? lz_multiply(TX, dx) : NULL, *q = TY ? lz_multiply(TY, dy) : NULL;
  t[0] = lz__sum_tangents(p, q, a->node->outputs[0]);
  return t[0] ? 0 : -1;
}
#define PARTIAL_RULES(NAME)                                                                      \
  static int vjp_##NAME(const lz_vjp_args *a, lz_array **g) {                                    \
    return vjp_partials(a, g, partials_##NAME);                                                  \
  }                                                                                              \
  static int jvp_##NAME(const lz_jvp_args *a, lz_array **t) {                                    \
    return jvp_partials(a, t, partials_##NAME);                                                  \
  }

/* x^y: y x^(y-1) and x^y log x (0 where x <= 0: the limit at 0, undefined below). */
static void partials_power(lz_node *n, lz_array **dx, lz_array **dy) {
  lz_array *x = n->inputs[0], *y = n->inputs[1];
  if (dx) *dx = lz_multiply(y, lz_power(x, lz_subtract(y, lz_float(1))));
  if (dy) {
    lz_array *out = lz__node_output(n, 0);
    if (!out) out = lz_power(x, y);
    lz_array *pos = lz_greater(x, lz_float(0));
    lz_array *lg = lz_log(lz_where(pos, x, lz_float(1)));
    *dy = lz_where(pos, lz_multiply(out, lg), lz_float(0));
  }
}
PARTIAL_RULES(power)

/* arctan2(y=x0, x=x1): x1 / (x0^2 + x1^2) and -x0 / (x0^2 + x1^2). */
static void partials_arctan2(lz_node *n, lz_array **dx, lz_array **dy) {
  lz_array *x = n->inputs[0], *y = n->inputs[1];
  lz_array *r = lz_add(lz_square(x), lz_square(y));
  if (dx) *dx = lz_divide(y, r);
  if (dy) *dy = lz_negative(lz_divide(x, r));
}
PARTIAL_RULES(arctan2)

/* logaddexp: exp(x - out) and exp(y - out). */
static void partials_logaddexp(lz_node *n, lz_array **dx, lz_array **dy) {
  lz_array *x = n->inputs[0], *y = n->inputs[1], *out = lz__node_output(n, 0);
  if (!out) out = lz_logaddexp(x, y);
  if (dx) *dx = lz_exp(lz_subtract(x, out));
  if (dy) *dy = lz_exp(lz_subtract(y, out));
}
PARTIAL_RULES(logaddexp)

/* remainder x - floor(x / y) y: 1 and -floor(x / y) (MLX's convention). */
static void partials_remainder(lz_node *n, lz_array **dx, lz_array **dy) {
  lz_array *x = n->inputs[0], *y = n->inputs[1];
  if (dx) *dx = lz_ones_like(x);
  if (dy) *dy = lz_negative(lz_floor_divide(x, y));
}
PARTIAL_RULES(remainder)

/* divmod: the quotient is piecewise constant; the remainder as above. */
static int vjp_divmod(const lz_vjp_args *a, lz_array **g) {
  lz_array *c = a->cotans[1];
  g[0] = g[1] = NULL;
  if (!c) return 0;
  lz_array *x = X, *y = Y;
  return put(a, g, 0, a->need[0] ? c : NULL) |
         put(a, g, 1, a->need[1] ? lz_multiply(c, lz_negative(lz_floor_divide(x, y))) : NULL);
}
static int jvp_divmod(const lz_jvp_args *a, lz_array **t) {
  t[0] = NULL;
  return jvp_remainder(a, &t[1]);
}

/* where(cond, x, y): the cotangent goes to the side that was chosen; cond has none. */
static int vjp_where(const lz_vjp_args *a, lz_array **g) {
  lz_array *cond = a->inputs[0], *z = lz_scalar(0, C->dtype);
  g[0] = g[1] = g[2] = NULL;
  if (a->need[1] && !(g[1] = lz__unbroadcast(a->who, lz_where(cond, C, z), a->inputs[1])))
    return -1;
  if (a->need[2] && !(g[2] = lz__unbroadcast(a->who, lz_where(cond, z, C), a->inputs[2])))
    return -1;
  return 0;
}
static int jvp_where(const lz_jvp_args *a, lz_array **t) {
  lz_array *out = a->node->outputs[0], *z = lz_scalar(0, out->dtype);
  lz_array *tx = a->tangents[1] ? a->tangents[1] : z, *ty = a->tangents[2] ? a->tangents[2] : z;
  t[0] = lz__expand_to(lz_where(a->inputs[0], tx, ty), out);
  return t[0] ? 0 : -1;
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
    [LZ_OP_POWER] = {vjp_power, jvp_power, NULL},
    [LZ_OP_ARCTAN2] = {vjp_arctan2, jvp_arctan2, NULL},
    [LZ_OP_LOGADDEXP] = {vjp_logaddexp, jvp_logaddexp, NULL},
    [LZ_OP_REMAINDER] = {vjp_remainder, jvp_remainder, NULL},
    [LZ_OP_DIVMOD] = {vjp_divmod, jvp_divmod, NULL},
    [LZ_OP_WHERE] = {vjp_where, jvp_where, NULL},
    /* piecewise constant, boolean or integer results: zero derivative, as in MLX */
    [LZ_OP_FLOOR_DIVIDE] = ZERO,
    [LZ_OP_ISCLOSE] = ZERO,
    [LZ_OP_ALL_TRUE] = ZERO,
    [LZ_OP_LOGICAL_AND] = ZERO,
    [LZ_OP_LOGICAL_OR] = ZERO,
    [LZ_OP_LOGICAL_XOR] = ZERO,
    [LZ_OP_BITWISE_AND] = ZERO,
    [LZ_OP_BITWISE_OR] = ZERO,
    [LZ_OP_BITWISE_XOR] = ZERO,
    [LZ_OP_LEFT_SHIFT] = ZERO,
    [LZ_OP_RIGHT_SHIFT] = ZERO,
};
