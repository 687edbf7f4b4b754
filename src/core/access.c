/* Reading data back: the implicit evaluation points (data pointer, items, printing). */
#include "internal.h"

#include <math.h>
#include <stdlib.h>

/* Row-major data of an evaluated array without changing it: its own data when its strides are
 * contiguous, else a copy made once and published with a compare-and-swap (a thread that loses
 * the race frees its copy and uses the winner's). Other threads may be reading `a` meanwhile, so
 * nothing they can see (buf, offset, strides, flags) is ever written here. */
static const void *dense_data(lz_array *a, const char *op) {
  if (a->size <= 1 || lz__is_contiguous(a)) return lz__data_ptr(a);
  lz_buffer *d = atomic_load_explicit(&a->dense, memory_order_acquire);
  if (d) return d->data;
  lz_buffer *b = lz__buffer_new((size_t)a->size * lz_dtype_size(a->dtype), op);
  if (!b) return NULL;
  lz__copy_to_contiguous(b->data, a);
  lz_buffer *expected = NULL;
  if (atomic_compare_exchange_strong_explicit(&a->dense, &expected, b, memory_order_acq_rel,
                                              memory_order_acquire))
    return b->data;
  lz__buffer_release(b);
  return expected->data;
}

static int eval_for(lz_array *a, const char *op) {
  if (!a) {
    if (!lz__has_error()) lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "array is NULL");
    return -1;
  }
  return lz_eval(a);
}

const void *lz_array_data(lz_array *a) {
  if (eval_for(a, "lz_array_data") != 0) return NULL;
  return dense_data(a, "lz_array_data");
}

int lz_array_read(lz_array *a, lz_dtype dtype, void *dst, size_t dst_bytes) {
  if (eval_for(a, "lz_array_read") != 0) return -1;
  if (!lz__dtype_valid(dtype))
    return lz__error(LZ_ERROR_DTYPE, "lz_array_read", "invalid dtype %d", (int)dtype);
  size_t need = (size_t)a->size * lz_dtype_size(dtype);
  if (!dst || dst_bytes < need)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_array_read",
                     "destination holds %zu bytes, %zu needed for %lld %s elements", dst_bytes,
                     need, (long long)a->size, lz_dtype_name(dtype));
  if (a->size == 0) return 0;
  if (a->size <= 1 || lz__is_contiguous(a)) {
    lz__convert(dst, dtype, lz__data_ptr(a), a->dtype, a->size);
  } else if (dtype == a->dtype) {
    lz__copy_to_contiguous(dst, a); /* straight into the caller's memory */
  } else {
    const void *src = dense_data(a, "lz_array_read");
    if (!src) return -1;
    lz__convert(dst, dtype, src, a->dtype, a->size);
  }
  return 0;
}

static const void *item_ptr(lz_array *a, const char *op);

int lz_item(lz_array *a, lz_dtype dtype, void *out) {
  if (!out) return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_item", "out is NULL");
  if (!lz__dtype_valid(dtype))
    return lz__error(LZ_ERROR_DTYPE, "lz_item", "invalid dtype %d", (int)dtype);
  const void *p = item_ptr(a, "lz_item");
  if (!p) return -1;
  lz__convert(out, dtype, p, a->dtype, 1);
  return 0;
}

static const void *item_ptr(lz_array *a, const char *op) {
  if (eval_for(a, op) != 0) return NULL;
  if (a->size != 1) {
    char s[256];
    lz__error(LZ_ERROR_SHAPE, op, "item needs a one-element array, got shape %s",
              lz__fmt_shape(s, sizeof s, a->shape, a->ndim));
    return NULL;
  }
  return lz__data_ptr(a);
}

double lz_item_f64(lz_array *a) {
  const void *p = item_ptr(a, "lz_item_f64");
  return p ? lz__load_f64(p, a->dtype) : 0.0;
}
float lz_item_f32(lz_array *a) {
  const void *p = item_ptr(a, "lz_item_f32");
  return p ? (float)lz__load_f64(p, a->dtype) : 0.0f;
}
int64_t lz_item_i64(lz_array *a) {
  const void *p = item_ptr(a, "lz_item_i64");
  return p ? lz__load_i64(p, a->dtype) : 0;
}
bool lz_item_bool(lz_array *a) {
  const void *p = item_ptr(a, "lz_item_bool");
  if (!p) return false;
  if (a->dtype == LZ_COMPLEX64) {
    const lz_complex64 *c = p;
    return c->re != 0 || c->im != 0;
  }
  return lz__load_f64(p, a->dtype) != 0;
}

/* ---- printing ---- */

typedef struct sbuf {
  char *s;
  size_t len, cap;
  bool oom;
} sbuf;

static void sb_put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_put(sbuf *b, const char *fmt, ...) {
  if (b->oom) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    /* the first call measures with no buffer yet (NULL + 0 is undefined) */
    int n = vsnprintf(b->s ? b->s + b->len : NULL, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (b->len + (size_t)n < b->cap) {
      b->len += (size_t)n;
      return;
    }
    size_t cap = (b->cap + (size_t)n + 64) * 2;
    char *s = realloc(b->s, cap);
    if (!s) {
      b->oom = true;
      return;
    }
    b->s = s, b->cap = cap;
  }
}

/* ---- MLX's repr (mlx/utils.cpp print_array with Python's capitalised bools) ---- */

enum { EDGE = 3 }; /* an axis longer than 2 * EDGE shows EDGE items, "...", EDGE items */

/* A float as C++'s default ostream writes it: printf's %g (6 significant digits), NaN always
 * "nan" whatever its sign bit (as on MLX's main platform). */
static void put_g(sbuf *b, double v) {
  if (isnan(v)) sb_put(b, "nan");
  else sb_put(b, "%g", v);
}

static void put_elem(sbuf *b, const char *p, lz_dtype d) {
  if (d == LZ_BOOL) {
    sb_put(b, "%s", *(const uint8_t *)p ? "True" : "False");
  } else if (d == LZ_COMPLEX64) { /* real, then "+imag" or "-|imag|", then "j" */
    const lz_complex64 *c = (const lz_complex64 *)p;
    put_g(b, c->re);
    bool plus = c->im >= 0 || isnan(c->im); /* -0.0 >= 0: MLX writes "+-0j" */
    sb_put(b, "%s", plus ? "+" : "-");
    put_g(b, plus ? (double)c->im : -(double)c->im);
    sb_put(b, "j");
  } else if (lz_dtype_is_float(d)) {
    put_g(b, lz__load_f64(p, d));
  } else if (d == LZ_UINT64) {
    sb_put(b, "%llu", (unsigned long long)*(const uint64_t *)p);
  } else {
    sb_put(b, "%lld", (long long)lz__load_i64(p, d));
  }
}

/* One axis: "[", the items separated by ", " (last axis) or ",\n" and 7 + dim spaces (no blank
 * lines), "]". `off` is the byte offset of the sub-array's first element from `base`. */
static void put_dims(sbuf *b, const lz_array *a, const char *base, int dim, int64_t off) {
  int n = a->shape[dim];
  int64_t st = a->strides[dim] * (int64_t)lz_dtype_size(a->dtype);
  bool last = dim == a->ndim - 1;
  sb_put(b, "[");
  for (int i = 0; i < n; i++) {
    if (i > 0 && last) sb_put(b, ", ");
    else if (i > 0) sb_put(b, ",\n%*s", 7 + dim, "");
    if (i == EDGE && n > 2 * EDGE) {
      sb_put(b, "...");
      i = n - EDGE - 1;
    } else if (last) {
      put_elem(b, base + off + i * st, a->dtype);
    } else {
      put_dims(b, a, base, dim + 1, off + i * st);
    }
  }
  sb_put(b, "]");
}

char *lz_array_tostring(lz_array *a) {
  if (eval_for(a, "lz_array_tostring") != 0) return NULL;
  sbuf b = {0};
  sb_put(&b, "array(");
  const char *base = a->size ? lz__data_ptr(a) : NULL;
  if (a->ndim == 0) put_elem(&b, base, a->dtype);
  else put_dims(&b, a, base, 0, 0); /* an empty axis prints [] (no element is read) */
  sb_put(&b, ", dtype=%s)", lz_dtype_name(a->dtype));
  if (b.oom) {
    free(b.s);
    lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_array_tostring", "out of memory");
    return NULL;
  }
  return b.s;
}

int lz_array_print(lz_array *a, FILE *f) {
  char *s = lz_array_tostring(a);
  if (!s) return -1;
  int rc = fprintf(f ? f : stdout, "%s\n", s) < 0 ? -1 : 0;
  free(s);
  return rc;
}
