/* NumPy .npy files: header parsing (shared with .npz), lazy loading, saving. */
#include "io.h"

#include <errno.h>
#include <stdlib.h>

static const struct {
  const char *code;
  lz_dtype dtype;
} npy_types[] = {
    {"b1", LZ_BOOL},   {"u1", LZ_UINT8},  {"u2", LZ_UINT16},  {"u4", LZ_UINT32},
    {"u8", LZ_UINT64}, {"i1", LZ_INT8},   {"i2", LZ_INT16},   {"i4", LZ_INT32},
    {"i8", LZ_INT64},  {"f2", LZ_FLOAT16}, {"f4", LZ_FLOAT32}, {"f8", LZ_FLOAT64},
    {"c8", LZ_COMPLEX64},
};

const char *lz__npy_descr(lz_dtype d) {
  static const char *const descr[LZ_DTYPE_COUNT] = {
      [LZ_BOOL] = "|b1",    [LZ_UINT8] = "|u1",   [LZ_UINT16] = "<u2",  [LZ_UINT32] = "<u4",
      [LZ_UINT64] = "<u8",  [LZ_INT8] = "|i1",    [LZ_INT16] = "<i2",   [LZ_INT32] = "<i4",
      [LZ_INT64] = "<i8",   [LZ_FLOAT16] = "<f2", [LZ_FLOAT32] = "<f4", [LZ_FLOAT64] = "<f8",
      [LZ_COMPLEX64] = "<c8"};
  return lz__dtype_valid(d) ? descr[d] : NULL;
}

/* A tiny reader of the Python dict literal in a .npy header. */
typedef struct cursor {
  const char *p, *end;
} cursor;

static void skip_ws(cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}
static bool eat(cursor *c, char ch) {
  skip_ws(c);
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return true;
  }
  return false;
}
/* A quoted Python string into out (cap bytes); false if malformed or too long. */
static bool read_str(cursor *c, char *out, size_t cap) {
  skip_ws(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return false;
  char q = *c->p++;
  size_t n = 0;
  while (c->p < c->end && *c->p != q) {
    if (n + 1 >= cap) return false;
    out[n++] = *c->p++;
  }
  if (c->p >= c->end) return false;
  c->p++;
  out[n] = '\0';
  return true;
}

int lz__npy_parse_header(const unsigned char *buf, size_t n, lz_npy_header *h, const char *path,
                         const char *op) {
#define BAD(...) lz__error(LZ_ERROR_IO, op, "'%s': " __VA_ARGS__)
  if (n < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) return BAD("not a .npy file (bad magic)", path);
  int major = buf[6];
  size_t hlen, start;
  if (major == 1) hlen = lz__rd16(buf + 8), start = 10;
  else if (major == 2 || major == 3) {
    if (n < 12) return BAD("truncated .npy header", path);
    hlen = lz__rd32(buf + 8), start = 12;
  } else {
    return BAD("unsupported .npy version %d", path, major);
  }
  if (hlen > n - start) return BAD("truncated .npy header (%zu bytes declared)", path, hlen);
  cursor c = {(const char *)buf + start, (const char *)buf + start + hlen};
  bool have_descr = false, have_order = false, have_shape = false;
  char descr[32];
  memset(h, 0, sizeof *h);
  if (!eat(&c, '{')) return BAD("malformed .npy header: expected '{'", path);
  while (!eat(&c, '}')) {
    char key[32];
    if (!read_str(&c, key, sizeof key) || !eat(&c, ':'))
      return BAD("malformed .npy header near offset %td", path, c.p - (const char *)buf);
    if (strcmp(key, "descr") == 0 && !have_descr) {
      if (!read_str(&c, descr, sizeof descr)) return BAD("malformed descr in .npy header", path);
      have_descr = true;
    } else if (strcmp(key, "fortran_order") == 0 && !have_order) {
      skip_ws(&c);
      if (c.end - c.p >= 4 && memcmp(c.p, "True", 4) == 0) h->fortran = true, c.p += 4;
      else if (c.end - c.p >= 5 && memcmp(c.p, "False", 5) == 0) h->fortran = false, c.p += 5;
      else return BAD("malformed fortran_order in .npy header", path);
      have_order = true;
    } else if (strcmp(key, "shape") == 0 && !have_shape) {
      if (!eat(&c, '(')) return BAD("malformed shape in .npy header", path);
      while (!eat(&c, ')')) {
        skip_ws(&c);
        int64_t v = 0;
        const char *d0 = c.p;
        while (c.p < c.end && *c.p >= '0' && *c.p <= '9') {
          v = v * 10 + (*c.p++ - '0');
          if (v > INT32_MAX) return BAD("dimension too large in .npy shape", path);
        }
        if (c.p == d0) return BAD("malformed shape in .npy header", path);
        if (h->ndim == LZ_MAX_NDIM) return BAD("too many dimensions in .npy shape", path);
        h->shape[h->ndim++] = (int)v;
        if (!eat(&c, ',') && !(skip_ws(&c), c.p < c.end && *c.p == ')'))
          return BAD("malformed shape in .npy header", path);
      }
      have_shape = true;
    } else {
      return BAD("unexpected or repeated key '%s' in .npy header", path, key);
    }
    eat(&c, ',');
  }
  if (!have_descr || !have_order || !have_shape)
    return BAD("incomplete .npy header (descr, fortran_order and shape are required)", path);
  char order = descr[0];
  const char *code = descr + 1;
  if (order != '<' && order != '>' && order != '|' && order != '=') order = '|', code = descr;
  h->dtype = LZ_DTYPE_COUNT;
  for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
    if (strcmp(code, npy_types[i].code) == 0) h->dtype = npy_types[i].dtype;
  if (h->dtype == LZ_DTYPE_COUNT) return BAD("unsupported .npy dtype '%s'", path, descr);
  h->byteswap = order == '>' && lz_dtype_size(h->dtype) > 1;
  h->header_len = start + hlen;
  int64_t size = 1;
  for (int i = 0; i < h->ndim; i++) {
    if (h->shape[i] && size > ((int64_t)1 << 56) / h->shape[i])
      return BAD("shape in .npy header has too many elements", path);
    size *= h->shape[i];
  }
  return 0;
#undef BAD
}

size_t lz__npy_build_header(const lz_array *a, char *buf, size_t cap) {
  char shape[LZ_MAX_NDIM * 12 + 4];
  size_t n = 0;
  shape[0] = '\0';
  for (int i = 0; i < a->ndim; i++)
    n += (size_t)snprintf(shape + n, sizeof shape - n, "%d,%s", a->shape[i],
                          i + 1 < a->ndim ? " " : "");
  if (a->ndim > 1) shape[n - 1] = '\0'; /* "(2, 3)" not "(2, 3,)" */
  char dict[512];
  int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
                    lz__npy_descr(a->dtype), shape);
  size_t total = 10 + (size_t)dl + 1;
  size_t padded = (total + 63) / 64 * 64;
  if (padded > cap) return 0;
  memcpy(buf, "\x93NUMPY\x01\x00", 8);
  lz__wr16((unsigned char *)buf + 8, (uint16_t)(padded - 10));
  memcpy(buf + 10, dict, (size_t)dl);
  memset(buf + 10 + dl, ' ', padded - 10 - (size_t)dl - 1);
  buf[padded - 1] = '\n';
  return padded;
}

lz_array *lz_load_npy(const char *path) {
  lz_file *f = lz__file_open(path, "lz_load_npy");
  if (!f) return NULL;
  unsigned char head[65536 + 12];
  size_t n = f->size < sizeof head ? (size_t)f->size : sizeof head;
  lz_npy_header h;
  lz_array *a = NULL;
  if (lz__file_read(f, 0, head, n, "lz_load_npy") == 0 &&
      lz__npy_parse_header(head, n, &h, path, "lz_load_npy") == 0) {
    int64_t count = 1;
    for (int i = 0; i < h.ndim; i++) count *= h.shape[i];
    uint64_t need = (uint64_t)count * lz_dtype_size(h.dtype);
    if (need > f->size - h.header_len) {
      lz__error(LZ_ERROR_IO, "lz_load_npy", "'%s' is truncated: shape needs %llu data bytes, has %llu",
                path, (unsigned long long)need, (unsigned long long)(f->size - h.header_len));
    } else {
      lz_load_params p = {.file = f, .offset = h.header_len, .stored_size = need,
                          .encoding = LZ_LOAD_RAW, .byteswap = h.byteswap, .fortran = h.fortran};
      a = lz__load_array(&p, h.dtype, h.shape, h.ndim, "lz_load_npy");
    }
  }
  lz__file_release(f);
  return a;
}

int lz_save_npy(const char *path, lz_array *a) {
  if (!lz__check_inputs("lz_save_npy", &a, 1)) return -1;
  if (!lz__npy_descr(a->dtype) || a->dtype == LZ_BFLOAT16)
    return lz__error(LZ_ERROR_DTYPE, "lz_save_npy", "%s cannot be stored in a .npy file",
                     lz_dtype_name(a->dtype));
  const void *data = lz_array_data(a);
  if (!data) return -1;
  char head[1024];
  size_t hl = lz__npy_build_header(a, head, sizeof head);
  char *tmp;
  FILE *fp = lz__save_begin(path, &tmp, "lz_save_npy");
  if (!fp) return -1;
  int rc = lz__write_all(fp, head, hl, path, "lz_save_npy");
  if (rc == 0) rc = lz__write_all(fp, data, lz_array_nbytes(a), path, "lz_save_npy");
  return lz__save_end(fp, tmp, path, rc, "lz_save_npy");
}
