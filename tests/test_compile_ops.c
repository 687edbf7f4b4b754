/* Compile over the op registry: every elementwise op (and every reduction compile fuses)
 * gives the same result compiled as uncompiled, on random shapes with broadcast and
 * non-contiguous (transposed) inputs, in several dtypes. A new elementwise op in the registry
 * must be added to the table below, or the test fails. */
#include "compile/compile_impl.h"
#include "lz_test.h"

typedef lz_array *(*un_fn)(lz_array *);
typedef lz_array *(*bin_fn)(lz_array *, lz_array *);

static lz_array *round2(lz_array *a) { return lz_round(a, 1); }
static lz_array *n2n(lz_array *a) {
  double hi = 9, lo = -9;
  return lz_nan_to_num(a, 0.5, &hi, &lo);
}
static lz_array *to_f16(lz_array *a) { return lz_astype(a, LZ_FLOAT16); }
static lz_array *iscl(lz_array *a, lz_array *b) { return lz_isclose(a, b, 0.1, 0.1, false); }
static lz_array *where_gt(lz_array *a, lz_array *b) { return lz_where(lz_greater(a, b), a, b); }

typedef struct op_case {
  int op;
  un_fn un;
  bin_fn bin;
} op_case;

#define U(ID, F) {LZ_OP_##ID, F, NULL}
#define B(ID, F) {LZ_OP_##ID, NULL, F}
static const op_case cases[] = {
    U(ASTYPE, to_f16), U(ABS, lz_abs), U(NEGATIVE, lz_negative), U(SIGN, lz_sign),
    U(SQUARE, lz_square), U(FLOOR, lz_floor), U(CEIL, lz_ceil), U(TRUNC, lz_trunc), U(ROUND, round2),
    U(SQRT, lz_sqrt), U(RSQRT, lz_rsqrt), U(RECIPROCAL, lz_reciprocal), U(EXP, lz_exp),
    U(EXPM1, lz_expm1), U(LOG, lz_log), U(LOG2, lz_log2), U(LOG10, lz_log10),
    U(LOG1P, lz_log1p), U(SIN, lz_sin), U(COS, lz_cos), U(TAN, lz_tan), U(ARCSIN, lz_arcsin),
    U(ARCCOS, lz_arccos), U(ARCTAN, lz_arctan), U(SINH, lz_sinh), U(COSH, lz_cosh),
    U(TANH, lz_tanh), U(ARCSINH, lz_arcsinh), U(ARCCOSH, lz_arccosh), U(ARCTANH, lz_arctanh),
    U(SIGMOID, lz_sigmoid), U(ERF, lz_erf), U(ERFINV, lz_erfinv), U(ISNAN, lz_isnan),
    U(ISINF, lz_isinf), U(ISFINITE, lz_isfinite), U(ISPOSINF, lz_isposinf),
    U(ISNEGINF, lz_isneginf), U(NAN_TO_NUM, n2n), U(LOGICAL_NOT, lz_logical_not),
    U(BITWISE_INVERT, lz_bitwise_invert), U(CONJUGATE, lz_conjugate), U(REAL, lz_real),
    U(IMAG, lz_imag), U(STOP_GRADIENT, lz_stop_gradient),
    B(ADD, lz_add), B(SUBTRACT, lz_subtract), B(MULTIPLY, lz_multiply), B(DIVIDE, lz_divide),
    B(MAXIMUM, lz_maximum), B(MINIMUM, lz_minimum), B(EQUAL, lz_equal),
    B(NOT_EQUAL, lz_not_equal), B(LESS, lz_less), B(LESS_EQUAL, lz_less_equal),
    B(GREATER, lz_greater), B(GREATER_EQUAL, lz_greater_equal),
    B(FLOOR_DIVIDE, lz_floor_divide), B(REMAINDER, lz_remainder), B(POWER, lz_power),
    B(ARCTAN2, lz_arctan2), B(LOGADDEXP, lz_logaddexp), B(LOGICAL_AND, lz_logical_and),
    B(LOGICAL_OR, lz_logical_or), B(LOGICAL_XOR, lz_logical_xor),
    B(BITWISE_AND, lz_bitwise_and), B(BITWISE_OR, lz_bitwise_or),
    B(BITWISE_XOR, lz_bitwise_xor), B(LEFT_SHIFT, lz_left_shift),
    B(RIGHT_SHIFT, lz_right_shift), B(ISCLOSE, iscl), B(WHERE, where_gt),
};
enum { NCASES = sizeof cases / sizeof cases[0] };
/* Elementwise ops tested elsewhere or not expressible as one-output functions here. */
static bool skipped(int op) { return op == LZ_OP_DIVMOD || op == LZ_OP_VIEW; }

static unsigned rng = 12345;
static double urand(void) {
  rng = rng * 1664525u + 1013904223u;
  return (double)(rng >> 8) / 16777216.0;
}

/* A random array of `dtype`, with values that keep integer ops well defined. */
static lz_array *rand_array(const int *shape, int nd, lz_dtype dt, bool positive) {
  size_t n = 1;
  for (int i = 0; i < nd; i++) n *= (size_t)shape[i];
  double *v = malloc(n * sizeof *v);
  for (size_t i = 0; i < n; i++) {
    double u = urand();
    v[i] = dt == LZ_BOOL ? (u > 0.5) : lz_dtype_is_float(dt) ? 4 * u - 2 : positive ? 1 + (int)(u * 5) : (int)(u * 11) - 5;
  }
  lz_array *a = lz_astype(lz_array_from_data(v, shape, nd, LZ_FLOAT64), dt);
  free(v);
  lz_eval(a);
  return a;
}

typedef struct case_ctx {
  const op_case *c;
} case_ctx;

/* f(x, y) = op(max(x, x) [, min(y, max(x, x))]): the op between other steps of the chain (y is
 * broadcast; a value computed at y's smaller shape would stay a node of its own). */
static int case_fn(void *ctx, lz_array *const *in, int n, lz_array **out) {
  const op_case *c = ((case_ctx *)ctx)->c;
  lz_array *x = lz_maximum(in[0], in[0]);
  out[0] = c->un ? c->un(x) : c->bin(x, lz_minimum(in[1], x));
  return out[0] ? 1 : -1;
}

static bool same_values(lz_array *a, lz_array *b, double tol) {
  size_t n = lz_array_size(a);
  if (n != lz_array_size(b) || lz_array_dtype(a) != lz_array_dtype(b) ||
      lz_array_ndim(a) != lz_array_ndim(b))
    return false;
  double *x = malloc((n ? n : 1) * sizeof *x), *y = malloc((n ? n : 1) * sizeof *y);
  bool ok = lz_array_read(a, LZ_FLOAT64, x, n * sizeof *x) == 0 &&
            lz_array_read(b, LZ_FLOAT64, y, n * sizeof *y) == 0;
  for (size_t i = 0; ok && i < n; i++)
    ok = (x[i] != x[i] && y[i] != y[i]) || x[i] == y[i] || fabs(x[i] - y[i]) <= tol * (1 + fabs(y[i]));
  free(x), free(y);
  return ok;
}

static void test_every_elementwise_op_is_covered(void) {
  for (int op = 0; op < LZ_OP_COUNT; op++) {
    if (!(lz__op(op)->flags & LZ_OPF_ELEMENTWISE) || skipped(op)) continue;
    bool found = false;
    for (int i = 0; i < NCASES && !found; i++) found = cases[i].op == op;
    if (!found) fprintf(stderr, "elementwise op '%s' has no compile test case\n", lz__op(op)->name);
    CHECK(found);
  }
}

static void test_elementwise_ops_compiled_equal_uncompiled(void) {
  static const lz_dtype dts[] = {LZ_FLOAT32, LZ_INT32, LZ_BOOL, LZ_FLOAT16, LZ_FLOAT64};
  static const int shapes[][3] = {{7, 13, 0}, {3, 1, 5}, {1, 9, 4}, {2, 3, 4}};
  int tested = 0;
  for (int i = 0; i < NCASES; i++) {
    case_ctx ctx = {&cases[i]};
    lz_closure *f = lz_closure_new(case_fn, &ctx, NULL), *cf = lz_compile(f, 0);
    for (size_t d = 0; d < sizeof dts / sizeof dts[0]; d++) {
      lz_scope_begin();
      const int *s = shapes[(i + d) % 4];
      int nd = s[2] ? 3 : 2;
      /* x transposed (non-contiguous), y broadcast along its first axis */
      int ts[3] = {s[nd - 1], s[1], s[0]}, tperm[3] = {2, 1, 0}, tperm2[2] = {1, 0};
      if (nd == 2) ts[0] = s[1], ts[1] = s[0];
      bool pos = cases[i].op == LZ_OP_FLOOR_DIVIDE || cases[i].op == LZ_OP_REMAINDER ||
                 cases[i].op == LZ_OP_LEFT_SHIFT || cases[i].op == LZ_OP_RIGHT_SHIFT ||
                 cases[i].op == LZ_OP_POWER;
      lz_array *xt = rand_array(ts, nd, dts[d], pos);
      lz_array *x = lz_transpose(xt, nd == 3 ? tperm : tperm2, nd);
      int ys[3] = {1, s[1], s[2]};
      lz_array *y = rand_array(ys, nd, dts[d], true);
      lz_array *in[2] = {x, y}, *want[LZ_MAX_OUTPUTS], *got[LZ_MAX_OUTPUTS];
      lz_clear_error();
      int k1 = lz_closure_call(f, in, 2, want);
      if (k1 != 1 || lz_eval(want[0]) != 0) { /* the op does not take this dtype */
        lz_clear_error();
        lz_scope_end();
        continue;
      }
      int k2 = lz_closure_call(cf, in, 2, got); /* traced */
      uint64_t n0 = lz_get_node_count(), k0 = lz_get_kernel_count();
      k2 = lz_closure_call(cf, in, 2, got); /* replayed: the whole chain is one node */
      CHECK(k2 == 1);
      /* (0 nodes when the result does not depend on the input: isinf of an integer) */
      if (lz_get_node_count() - n0 > 1)
        fprintf(stderr, "op %s dtype %s: %d nodes replayed\n", lz__op(cases[i].op)->name,
                lz_dtype_name(dts[d]), (int)(lz_get_node_count() - n0));
      CHECK(lz_get_node_count() - n0 <= 1);
      if (k2 == 1) {
        CHECK(lz_eval(got[0]) == 0);
        bool ok = same_values(got[0], want[0], 1e-6);
        if (!ok)
          fprintf(stderr, "op %s dtype %s differs compiled\n", lz__op(cases[i].op)->name,
                  lz_dtype_name(dts[d]));
        CHECK(ok);
        CHECK(lz_get_kernel_count() - k0 <= 1); /* one fused kernel */
        tested++;
      }
      lz_clear_error();
      lz_scope_end();
    }
    lz_closure_free(cf), lz_closure_free(f);
  }
  CHECK(tested > NCASES);
}

/* ---- reductions ---- */

typedef struct red_ctx {
  int which, axes_kind;
  bool keep;
} red_ctx;

static lz_array *reduce_one(int which, lz_array *x, const int *axes, int naxes, bool keep) {
  switch (which) {
  case 0: return lz_sum_axes(x, axes, naxes, keep);
  case 1: return lz_mean_axes(x, axes, naxes, keep);
  case 2: return lz_max_axes(x, axes, naxes, keep);
  case 3: return lz_min_axes(x, axes, naxes, keep);
  case 4: return lz_logsumexp_axes(x, axes, naxes, keep);
  case 5: return lz_softmax_axes(x, axes, naxes, false);
  case 6: return lz_var_axes(x, axes, naxes, keep, 1);
  case 7: return lz_std_axes(x, axes, naxes, keep, 0);
  default: return lz_prod_axes(x, axes, naxes, keep);
  }
}

/* r(exp(x * 0.5) + y) with r over the last axis, the last two, all, or the first one. */
static int red_fn(void *ctx, lz_array *const *in, int n, lz_array **out) {
  const red_ctx *r = ctx;
  lz_array *v = lz_add(lz_exp(lz_multiply(in[0], lz_float(0.5))), in[1]);
  int nd = lz_array_ndim(in[0]);
  int last[1] = {nd - 1}, two[2] = {nd - 2, nd - 1}, all[3] = {0, 1, 2}, first[1] = {0};
  const int *axes = r->axes_kind == 0 ? last : r->axes_kind == 1 ? two : r->axes_kind == 2 ? all : first;
  int naxes = r->axes_kind == 1 ? 2 : r->axes_kind == 2 ? nd : 1;
  out[0] = reduce_one(r->which, v, axes, naxes, r->keep);
  return out[0] ? 1 : -1;
}

static void test_reductions_compiled_equal_uncompiled(void) {
  static const int shapes[][3] = {{5, 6, 7}, {2, 3, 300}, {1, 4, 1}, {3, 2, 70000}};
  for (int which = 0; which < 9; which++)
    for (int ak = 0; ak < 4; ak++)
      for (int sh = 0; sh < 4; sh++) {
        if (sh == 3 && (ak != 2 || which > 1)) continue; /* one large case: chunked sums */
        red_ctx rc = {which, ak, (sh + ak) % 2 == 0};
        lz_closure *f = lz_closure_new(red_fn, &rc, NULL), *cf = lz_compile(f, 0);
        lz_scope_begin();
        lz_dtype dt = sh == 1 ? LZ_FLOAT64 : LZ_FLOAT32;
        int ts[3] = {shapes[sh][2], shapes[sh][1], shapes[sh][0]}, perm[3] = {2, 1, 0};
        lz_array *x = lz_transpose(rand_array(ts, 3, dt, false), perm, 3);
        int ys[1] = {shapes[sh][2]};
        lz_array *y = rand_array(ys, 1, dt, false), *in[2] = {x, y}, *want, *got;
        CHECK(lz_closure_call(f, in, 2, &want) == 1);
        CHECK(lz_closure_call(cf, in, 2, &got) == 1);
        uint64_t n0 = lz_get_node_count();
        CHECK(lz_closure_call(cf, in, 2, &got) == 1); /* replayed */
        /* fused with its prologue, unless over a leading axis, or prod, logsumexp or softmax
         * (never fused: their native kernels are faster): then two nodes, the prologue fused
         * and the reduction itself */
        bool fuses = which < 8 && which != 4 && which != 5 && ak != 3;
        CHECK(lz_get_node_count() - n0 == (fuses ? 1u : 2u));
        int want_op = fuses ? LZ_OP_FUSED
                      : which == 4 ? LZ_OP_LOGSUMEXP
                      : which == 5 ? LZ_OP_SOFTMAX : -1;
        if (want_op >= 0) CHECK(got->node && got->node->op == want_op);
        if (!fuses && ak != 3 && which != 8) /* its prologue is one fused node */
          CHECK(got->node && got->node->inputs[0]->node &&
                got->node->inputs[0]->node->op == LZ_OP_FUSED);
        bool ok = lz_eval(want) == 0 && lz_eval(got) == 0 && same_values(got, want, 1e-5);
        if (!ok) fprintf(stderr, "reduction %d axes %d shape %d differs\n", which, ak, sh);
        CHECK(ok);
        lz_scope_end();
        lz_closure_free(cf), lz_closure_free(f);
      }
}

/* softmax(x * scale + mask): the prologue is one fused kernel, the softmax its native kernel
 * (fusing it measured slower); softmax alone stays the plain softmax node. */
static int attn_fn(void *ctx, lz_array *const *in, int n, lz_array **out) {
  out[0] = lz_softmax_axis(lz_add(lz_multiply(in[0], lz_float(0.125)), in[1]), -1, false);
  return out[0] ? 1 : -1;
}

static int softmax_fn(void *ctx, lz_array *const *in, int n, lz_array **out) {
  out[0] = lz_softmax_axis(in[0], -1, false);
  return out[0] ? 1 : -1;
}

static void test_softmax_keeps_its_native_kernel(void) {
  int s[2] = {64, 128}, m[1] = {128};
  lz_array *x = rand_array(s, 2, LZ_FLOAT32, false), *mask = rand_array(m, 1, LZ_FLOAT32, false);
  lz_closure *f = lz_closure_new(attn_fn, NULL, NULL), *cf = lz_compile(f, 0);
  lz_array *in[2] = {x, mask}, *want, *got;
  CHECK(lz_closure_call(f, in, 2, &want) == 1 && lz_eval(want) == 0);
  CHECK(lz_closure_call(cf, in, 2, &got) == 1); /* traced */
  uint64_t n0 = lz_get_node_count(), k0 = lz_get_kernel_count();
  lz_array *again;
  CHECK(lz_closure_call(cf, in, 2, &again) == 1); /* replayed: fused prologue, then softmax */
  CHECK(lz_get_node_count() - n0 == 2);
  CHECK(again->node && again->node->op == LZ_OP_SOFTMAX);
  CHECK(again->node && again->node->inputs[0]->node &&
        again->node->inputs[0]->node->op == LZ_OP_FUSED);
  CHECK(lz_eval(again) == 0);
  CHECK(lz_get_kernel_count() - k0 == 2);
  CHECK(same_values(again, want, 1e-6));
  lz_closure_free(cf), lz_closure_free(f);

  /* alone: not wrapped in a fused node, so the native kernel runs */
  f = lz_closure_new(softmax_fn, NULL, NULL), cf = lz_compile(f, 0);
  CHECK(lz_closure_call(f, in, 1, &want) == 1 && lz_eval(want) == 0);
  CHECK(lz_closure_call(cf, in, 1, &got) == 1);
  n0 = lz_get_node_count(), k0 = lz_get_kernel_count();
  CHECK(lz_closure_call(cf, in, 1, &again) == 1);
  CHECK(lz_get_node_count() - n0 == 1);
  CHECK(again->node && again->node->op == LZ_OP_SOFTMAX);
  CHECK(lz_eval(again) == 0);
  CHECK(lz_get_kernel_count() - k0 == 1);
  CHECK(same_values(again, want, 0));
  lz_closure_free(cf), lz_closure_free(f);
}

int main(void) {
  RUN(test_every_elementwise_op_is_covered);
  RUN(test_elementwise_ops_compiled_equal_uncompiled);
  RUN(test_reductions_compiled_equal_uncompiled);
  RUN(test_softmax_keeps_its_native_kernel);
  lz_clear_compile_cache();
  return lzt_summary();
}
