/* Unary elementwise kernels: casts. */
#include "unary.h"

typedef struct cast_ctx {
  lz_dtype to, from;
} cast_ctx;

/* Converts one run; strided runs go through a small contiguous staging block. */
static void cast_inner(void *ctx, int64_t n, char **p, const int64_t *s) {
  const cast_ctx *c = ctx;
  size_t os = lz_dtype_size(c->to), is = lz_dtype_size(c->from);
  if (s[0] == (int64_t)os && s[1] == (int64_t)is) {
    lz__convert(p[0], c->to, p[1], c->from, n);
    return;
  }
  enum { BLOCK = 256 };
  unsigned char in[BLOCK * 8], out[BLOCK * 8];
  for (int64_t i = 0; i < n; i += BLOCK) {
    int64_t m = n - i < BLOCK ? n - i : BLOCK;
    for (int64_t j = 0; j < m; j++) memcpy(in + j * (int64_t)is, p[1] + (i + j) * s[1], is);
    lz__convert(out, c->to, in, c->from, m);
    for (int64_t j = 0; j < m; j++) memcpy(p[0] + (i + j) * s[0], out + j * (int64_t)os, os);
  }
}

int lz_cpu_astype(lz_node *node, lz_array **outs) {
  lz_array *in = node->inputs[0], *out = outs[0];
  if (lz__alloc_output(out, "lz_astype") != 0) return -1;
  if (out->size == 0) return 0;
  cast_ctx c = {out->dtype, in->dtype};
  char *base[2] = {lz__data_ptr(out), lz__data_ptr(in)};
  const int64_t *strides[2] = {out->strides, in->strides};
  size_t sizes[2] = {lz_dtype_size(out->dtype), lz_dtype_size(in->dtype)};
  lz_cpu_iter it;
  lz_cpu_iter_init(&it, out->ndim, out->shape, 2, base, strides, sizes);
  lz_cpu_iter_for(&it, cast_inner, &c);
  return 0;
}
