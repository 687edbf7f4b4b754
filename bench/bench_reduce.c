/* Reduction figures on a 4096x4096 float32 matrix, over each axis: sum, max, argmax, softmax
 * and logsumexp (bench/compare.py times NumPy on the same work), and the accuracy check of a
 * float32 sum of a million 0.1f values. */
#include <math.h>

#include "bench.h"

typedef struct red_ctx {
  lz_array *x;
  int axis, op;
} red_ctx;

enum { R_SUM, R_MAX, R_ARGMAX, R_SOFTMAX, R_LSE, R_COUNT };
static const char *const red_names[R_COUNT] = {"sum", "max", "argmax", "softmax", "logsumexp"};

static int run_red(void *ctx) {
  red_ctx *c = ctx;
  lz_scope_begin();
  lz_array *y = NULL;
  switch (c->op) {
  case R_SUM: y = lz_sum_axis(c->x, c->axis, false); break;
  case R_MAX: y = lz_max_axis(c->x, c->axis, false); break;
  case R_ARGMAX: y = lz_argmax_axis(c->x, c->axis, false); break;
  case R_SOFTMAX: y = lz_softmax_axis(c->x, c->axis, false); break;
  case R_LSE: y = lz_logsumexp_axis(c->x, c->axis, false); break;
  }
  int rc = lz_eval(y);
  lz_scope_end();
  return rc;
}

void bench_reduce(void) {
  int sq[2] = {4096, 4096};
  red_ctx c = {bench_rand(sq, 2, -4, 4, 5), 0, 0};
  char name[96];
  for (int op = 0; op < R_COUNT; op++) {
    for (int axis = 0; axis < 2; axis++) {
      snprintf(name, sizeof name, "%s_f32_4096x4096_axis%d_ms", red_names[op], axis);
      c.op = op, c.axis = axis;
      double t = bench_time(run_red, &c, op >= R_SOFTMAX ? 5 : 7);
      if (t < 0) {
        bench_skip(name, "evaluation failed");
        lz_clear_error();
      } else {
        bench_print(name, t * 1e3, "ms");
      }
    }
  }
  lz_free(c.x);
  /* float32 accuracy: sum of 1e6 values 0.1f, relative error against the exact sum */
  int n1m[1] = {1000000};
  float *d = malloc(sizeof(float) * 1000000);
  for (int i = 0; i < 1000000; i++) d[i] = 0.1f;
  lz_array *a = lz_array_from_data(d, n1m, 1, LZ_FLOAT32), *s = lz_sum(a, false);
  if (lz_eval(s) == 0) {
    double exact = 1e6 * (double)0.1f;
    bench_print("sum_f32_1M_of_0.1_rel_error", fabs((double)lz_item_f32(s) - exact) / exact,
                "relerr");
  } else {
    bench_skip("sum_f32_1M_of_0.1_rel_error", "evaluation failed");
    lz_clear_error();
  }
  lz_free(s), lz_free(a);
  free(d);
}
