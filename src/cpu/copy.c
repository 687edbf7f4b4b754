/* Copy kernels of the shape ops: a strided copy of any layout into any other (the building
 * block), concatenate, pad (constant and edge) and diag (vector to matrix). */
#include "shape.h"

static void copy_run(void *ctx, int64_t n, char **p, const int64_t *s) {
  size_t sz = *(const size_t *)ctx;
  char *d = p[0];
  const char *src = p[1];
  if (s[0] == (int64_t)sz && s[1] == (int64_t)sz) {
    memcpy(d, src, (size_t)n * sz);
    return;
  }
  switch (sz) { /* element-sized loads and stores; complex64 moves as one 8-byte word */
#define COPY(T)                                                                                    \
  for (int64_t i = 0; i < n; i++, d += s[0], src += s[1]) memcpy(d, src, sizeof(T));               \
  break;
  case 1:
    COPY(uint8_t)
  case 2:
    COPY(uint16_t)
  case 4:
    COPY(uint32_t)
  case 8:
    COPY(uint64_t)
#undef COPY
  default:
    for (int64_t i = 0; i < n; i++, d += s[0], src += s[1]) memcpy(d, src, sz);
  }
}

void lz_cpu_copy_strided(int ndim, const int *shape, size_t itemsize, char *dst,
                         const int64_t *dst_strides, const char *src, const int64_t *src_strides) {
  for (int d = 0; d < ndim; d++) {
    if (shape[d] == 0) return;
  }
  char *base[2] = {dst, (char *)src};
  const int64_t *strides[2] = {dst_strides, src_strides};
  size_t sizes[2] = {itemsize, itemsize};
  lz_cpu_iter it;
  lz_cpu_iter_init(&it, ndim, shape, 2, base, strides, sizes);
  lz_cpu_iter_for(&it, copy_run, &itemsize);
}

void lz_cpu_fill(char *dst, int64_t n, size_t itemsize, const void *value) {
  if (n <= 0) return;
  bool zero = true;
  for (size_t b = 0; b < itemsize; b++) zero = zero && ((const unsigned char *)value)[b] == 0;
  if (zero) {
    memset(dst, 0, (size_t)n * itemsize);
    return;
  }
  /* Write one element, then double the filled prefix with memcpy. */
  memcpy(dst, value, itemsize);
  int64_t done = 1;
  while (done < n) {
    int64_t m = done < n - done ? done : n - done;
    memcpy(dst + done * (int64_t)itemsize, dst, (size_t)m * itemsize);
    done += m;
  }
}

/* out is the inputs laid end to end along `axis`. */
int lz_cpu_concatenate(lz_node *node, lz_array **outs) {
  const lz_concatenate_params *p = node->params;
  lz_array *out = outs[0];
  if (lz__alloc_output(out, "lz_concatenate") != 0) return -1;
  size_t sz = lz_dtype_size(out->dtype);
  int64_t pos = 0;
  for (int i = 0; i < node->ninputs; i++) {
    lz_array *in = node->inputs[i];
    char *dst = lz__data_ptr(out) + pos * out->strides[p->axis] * (int64_t)sz;
    if (in->size) {
      lz_cpu_copy_strided(in->ndim, in->shape, sz, dst, out->strides, lz__data_ptr(in),
                          in->strides);
    }
    pos += in->shape[p->axis];
  }
  return 0;
}

/* Fills the edge padding of `axis` in the output `o` (whose interior along every axis already
 * holds the right values along axes done before) by broadcasting the first and last interior
 * slices outwards. */
static void pad_edge_axis(lz_array *o, int axis, int low, int len) {
  size_t sz = lz_dtype_size(o->dtype);
  int high = o->shape[axis] - low - len;
  int shape[LZ_MAX_NDIM];
  int64_t src_str[LZ_MAX_NDIM];
  memcpy(shape, o->shape, (size_t)o->ndim * sizeof(int));
  memcpy(src_str, o->strides, (size_t)o->ndim * sizeof(int64_t));
  src_str[axis] = 0;
  int64_t step = o->strides[axis] * (int64_t)sz;
  char *base = lz__data_ptr(o);
  if (low > 0) {
    shape[axis] = low;
    lz_cpu_copy_strided(o->ndim, shape, sz, base, o->strides, base + low * step, src_str);
  }
  if (high > 0) {
    shape[axis] = high;
    lz_cpu_copy_strided(o->ndim, shape, sz, base + (int64_t)(low + len) * step, o->strides,
                        base + (int64_t)(low + len - 1) * step, src_str);
  }
}

int lz_cpu_pad(lz_node *node, lz_array **outs) {
  const lz_pad_params *p = node->params;
  lz_array *in = node->inputs[0], *out = outs[0];
  if (lz__alloc_output(out, "lz_pad") != 0) return -1;
  size_t sz = lz_dtype_size(out->dtype);
  if (p->mode == LZ_PAD_CONSTANT) {
    unsigned char value[16] = {0};
    lz__store_f64(value, out->dtype, p->value);
    lz_cpu_fill(lz__data_ptr(out), out->size, sz, value);
  }
  if (in->size == 0) return 0;
  int64_t off = 0;
  for (int d = 0; d < out->ndim; d++) off += p->low[d] * out->strides[d];
  lz_cpu_copy_strided(in->ndim, in->shape, sz, lz__data_ptr(out) + off * (int64_t)sz, out->strides,
                      lz__data_ptr(in), in->strides);
  if (p->mode == LZ_PAD_EDGE) {
    for (int d = 0; d < out->ndim; d++) pad_edge_axis(out, d, p->low[d], in->shape[d]);
  }
  return 0;
}

/* out (n+|k|, n+|k|) is zero but for the input vector on diagonal k. */
int lz_cpu_diag(lz_node *node, lz_array **outs) {
  const lz_k_params *p = node->params;
  lz_array *in = node->inputs[0], *out = outs[0];
  if (lz__alloc_output(out, "lz_diag") != 0) return -1;
  size_t sz = lz_dtype_size(out->dtype);
  memset(lz__data_ptr(out), 0, (size_t)out->size * sz);
  int64_t row = p->k < 0 ? -(int64_t)p->k : 0, col = p->k > 0 ? p->k : 0;
  int shape[1] = {in->shape[0]};
  int64_t dst_str[1] = {out->strides[0] + out->strides[1]};
  char *dst = lz__data_ptr(out) + (row * out->strides[0] + col) * (int64_t)sz;
  lz_cpu_copy_strided(1, shape, sz, dst, dst_str, lz__data_ptr(in), in->strides);
  return 0;
}
