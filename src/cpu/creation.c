/* Kernels of the patterned creation ops: linspace, eye, tri, tril/triu masks and the NumPy
 * window functions. Values are computed in double and stored in the output dtype. */
#include "creation.h"

#include "../core/threads.h"

#include <math.h>

/* Stores value v at element i of the contiguous output. */
static inline void put(lz_array *out, int64_t i, double v) {
  lz__store_f64(lz__data_ptr(out) + i * (int64_t)lz_dtype_size(out->dtype), out->dtype, v);
}

/* NumPy's formula: start + i * step with step = (stop - start) / (n - 1); the last is stop. */
int lz_cpu_linspace(lz_node *node, lz_array **outs) {
  const lz_linspace_params *p = node->params;
  lz_array *out = outs[0];
  if (lz__alloc_output(out, "lz_linspace") != 0) return -1;
  int64_t n = out->size;
  double delta = p->stop - p->start, div = (double)(n - 1), step = n > 1 ? delta / div : 0;
  for (int64_t i = 0; i < n; i++) {
    double v = step != 0 ? (double)i * step : (double)i / (n > 1 ? div : 1) * delta;
    put(out, i, v + p->start);
  }
  if (n > 1) put(out, n - 1, p->stop);
  return 0;
}

/* Rows [begin, end) of (..., n, m) matrices stored contiguously: each row keeps (tril/tri:
 * copies or sets) columns [keep_lo, keep_hi) and zeroes the rest. keep_lo/keep_hi follow from
 * the row index within its matrix and k. */
typedef struct rows_ctx {
  lz_array *out;
  const lz_array *in; /* tril/triu: the source; NULL: eye/tri, which set ones */
  int k;
  enum { ROWS_EYE, ROWS_TRI, ROWS_TRIL, ROWS_TRIU } kind;
} rows_ctx;

static void rows_run(void *arg, int64_t begin, int64_t end) {
  const rows_ctx *c = arg;
  lz_array *out = c->out;
  int nd = out->ndim;
  int64_t n = out->shape[nd - 2], m = out->shape[nd - 1];
  size_t sz = lz_dtype_size(out->dtype);
  unsigned char one[16] = {0};
  lz__store_f64(one, out->dtype, 1.0);
  for (int64_t r = begin; r < end; r++) {
    int64_t i = r % n, lo, hi; /* row i of its matrix keeps columns [lo, hi) */
    switch (c->kind) {
    case ROWS_EYE:
      lo = i + c->k, hi = lo + 1;
      break;
    case ROWS_TRI:
    case ROWS_TRIL:
      lo = 0, hi = i + c->k + 1;
      break;
    default:
      lo = i + c->k, hi = m;
      break;
    }
    lo = lo < 0 ? 0 : lo > m ? m : lo;
    hi = hi < lo ? lo : hi > m ? m : hi;
    char *row = lz__data_ptr(out) + r * m * (int64_t)sz;
    memset(row, 0, (size_t)lo * sz);
    memset(row + hi * (int64_t)sz, 0, (size_t)(m - hi) * sz);
    if (hi == lo) continue;
    if (!c->in) {
      lz_cpu_fill(row + lo * (int64_t)sz, hi - lo, sz, one);
      continue;
    }
    /* The source row r of the input, read through its strides. */
    const lz_array *in = c->in;
    const char *src = lz__data_ptr(in);
    int64_t rem = r;
    for (int d = nd - 2; d >= 0; d--) {
      src += (rem % in->shape[d]) * in->strides[d] * (int64_t)sz;
      rem /= in->shape[d];
    }
    int shape[1] = {(int)(hi - lo)};
    int64_t dst_str[1] = {1};
    lz_cpu_copy_strided(1, shape, sz, row + lo * (int64_t)sz, dst_str,
                        src + lo * in->strides[nd - 1] * (int64_t)sz, &in->strides[nd - 1]);
  }
}

static int rows(lz_node *node, lz_array **outs, int kind, const char *op) {
  const lz_k_params *p = node->params;
  lz_array *out = outs[0];
  if (lz__alloc_output(out, op) != 0) return -1;
  if (out->size == 0) return 0;
  rows_ctx c = {out, node->ninputs ? node->inputs[0] : NULL, p->k, kind};
  int64_t m = out->shape[out->ndim - 1];
  lz__parallel_for(out->size / m, 1 + 16384 / m, rows_run, &c); /* ~16K elements a task */
  return 0;
}

int lz_cpu_eye(lz_node *node, lz_array **outs) { return rows(node, outs, ROWS_EYE, "lz_eye"); }
int lz_cpu_tri(lz_node *node, lz_array **outs) { return rows(node, outs, ROWS_TRI, "lz_tri"); }
int lz_cpu_tril(lz_node *node, lz_array **outs) { return rows(node, outs, ROWS_TRIL, "lz_tril"); }
int lz_cpu_triu(lz_node *node, lz_array **outs) { return rows(node, outs, ROWS_TRIU, "lz_triu"); }

/* ---- windows, NumPy's definitions with n = 1 - m + 2i running over (-(m-1), m-1) ---- */

double lz_cpu_bartlett(int64_t i, int64_t m) {
  double n = (double)(1 - m + 2 * i), d = (double)(m - 1);
  return n <= 0 ? 1 + n / d : 1 - n / d;
}
double lz_cpu_blackman(int64_t i, int64_t m) {
  double n = (double)(1 - m + 2 * i), d = (double)(m - 1);
  return 0.42 + 0.5 * cos(M_PI * n / d) + 0.08 * cos(2.0 * M_PI * n / d);
}
double lz_cpu_hamming(int64_t i, int64_t m) {
  return 0.54 + 0.46 * cos(M_PI * (double)(1 - m + 2 * i) / (double)(m - 1));
}
double lz_cpu_hanning(int64_t i, int64_t m) {
  return 0.5 + 0.5 * cos(M_PI * (double)(1 - m + 2 * i) / (double)(m - 1));
}

int lz_cpu_window(lz_node *node, lz_array **outs) {
  lz_window_fn fn = *(const lz_window_fn *)lz__op(node->op)->impl;
  lz_array *out = outs[0];
  if (lz__alloc_output(out, "lz_window") != 0) return -1;
  int64_t m = out->size;
  for (int64_t i = 0; i < m; i++) put(out, i, m == 1 ? 1.0 : fn(i, m));
  return 0;
}
