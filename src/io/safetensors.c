/* safetensors: an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
 * shape and byte range, then the bytes. The JSON reader here is strict and bounded: it accepts
 * only what the format needs and reports where a header goes wrong. */
#include "io.h"

#include <errno.h>
#include <stdlib.h>

static const char *const st_names[LZ_DTYPE_COUNT] = {
    [LZ_BOOL] = "BOOL", [LZ_UINT8] = "U8",    [LZ_UINT16] = "U16",  [LZ_UINT32] = "U32",
    [LZ_UINT64] = "U64", [LZ_INT8] = "I8",    [LZ_INT16] = "I16",   [LZ_INT32] = "I32",
    [LZ_INT64] = "I64", [LZ_FLOAT16] = "F16", [LZ_BFLOAT16] = "BF16", [LZ_FLOAT32] = "F32",
    [LZ_FLOAT64] = "F64", [LZ_COMPLEX64] = "C64"};

typedef struct js {
  const char *p, *end, *start, *path;
} js;

static int js_bad(js *j, const char *what) {
  return lz__error(LZ_ERROR_IO, "lz_load_safetensors", "'%s': malformed header at byte %td: %s",
                   j->path, j->p - j->start, what);
}
static void js_ws(js *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}
static bool js_eat(js *j, char c) {
  js_ws(j);
  if (j->p < j->end && *j->p == c) {
    j->p++;
    return true;
  }
  return false;
}

/* Four hex digits of a \\u escape; -1 if malformed. */
static long js_hex4(js *j) {
  long v = 0;
  for (int k = 0; k < 4; k++) {
    char h = j->p < j->end ? *j->p++ : 0;
    int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
          : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/* A \\u escape (the "\\u" read), a surrogate pair included, as UTF-8 into u (1-4 bytes);
 * returns the length, or -1 after reporting the error. */
static int js_unicode(js *j, char u[4]) {
  long c = js_hex4(j);
  if (c < 0) return js_bad(j, "bad \\u escape");
  if (c >= 0xDC00 && c <= 0xDFFF) return js_bad(j, "unpaired low surrogate in \\u escape");
  if (c >= 0xD800 && c <= 0xDBFF) { /* a high surrogate: a low one must follow */
    if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
      return js_bad(j, "unpaired high surrogate in \\u escape");
    j->p += 2;
    long lo = js_hex4(j);
    if (lo < 0xDC00 || lo > 0xDFFF) return js_bad(j, "unpaired high surrogate in \\u escape");
    c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
  }
  if (c == 0) return js_bad(j, "\\u0000 in a string");
  if (c < 0x80) return u[0] = (char)c, 1;
  if (c < 0x800) return u[0] = (char)(0xC0 | c >> 6), u[1] = (char)(0x80 | (c & 0x3F)), 2;
  if (c < 0x10000) {
    u[0] = (char)(0xE0 | c >> 12), u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    u[2] = (char)(0x80 | (c & 0x3F));
    return 3;
  }
  u[0] = (char)(0xF0 | c >> 18), u[1] = (char)(0x80 | ((c >> 12) & 0x3F));
  u[2] = (char)(0x80 | ((c >> 6) & 0x3F)), u[3] = (char)(0x80 | (c & 0x3F));
  return 4;
}

/* Reads a JSON string into a malloc'd buffer (*out). */
static int js_string(js *j, char **out) {
  js_ws(j);
  if (j->p >= j->end || *j->p != '"') return js_bad(j, "expected a string");
  j->p++;
  size_t cap = 32, n = 0;
  char *s = malloc(cap);
  if (!s) return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_load_safetensors", "out of memory");
  while (j->p < j->end && *j->p != '"') {
    char c = *j->p++, u[4];
    int ulen = 0; /* bytes of a decoded \\u escape in u */
    if ((unsigned char)c < 0x20) {
      free(s);
      return js_bad(j, "control character in string");
    }
    if (c == '\\') {
      if (j->p >= j->end) break;
      char e = *j->p++;
      switch (e) {
      case '"': case '\\': case '/': c = e; break;
      case 'b': c = '\b'; break;
      case 'f': c = '\f'; break;
      case 'n': c = '\n'; break;
      case 'r': c = '\r'; break;
      case 't': c = '\t'; break;
      case 'u':
        if ((ulen = js_unicode(j, u)) < 0) {
          free(s);
          return -1;
        }
        break;
      default: free(s); return js_bad(j, "bad escape");
      }
    }
    if (n + 5 > cap) {
      char *t = realloc(s, cap *= 2);
      if (!t) {
        free(s);
        return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_load_safetensors", "out of memory");
      }
      s = t;
    }
    if (ulen) memcpy(s + n, u, (size_t)ulen), n += (size_t)ulen;
    else s[n++] = c;
  }
  if (j->p >= j->end) {
    free(s);
    return js_bad(j, "unterminated string");
  }
  j->p++;
  s[n] = '\0';
  *out = s;
  return 0;
}

static int js_uint(js *j, uint64_t *v) {
  js_ws(j);
  const char *d0 = j->p;
  uint64_t x = 0;
  while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
    if (x > (UINT64_MAX - 9) / 10) return js_bad(j, "number too large");
    x = x * 10 + (uint64_t)(*j->p++ - '0');
  }
  if (j->p == d0) return js_bad(j, "expected a non-negative integer");
  *v = x;
  return 0;
}

/* [a, b, ...] of non-negative integers, at most max of them. */
static int js_uint_list(js *j, uint64_t *vals, int max, int *count) {
  if (!js_eat(j, '[')) return js_bad(j, "expected '['");
  int n = 0;
  if (!js_eat(j, ']')) {
    do {
      if (n == max) return js_bad(j, "list too long");
      if (js_uint(j, &vals[n++]) != 0) return -1;
    } while (js_eat(j, ','));
    if (!js_eat(j, ']')) return js_bad(j, "expected ']'");
  }
  *count = n;
  return 0;
}

typedef struct tensor_info {
  char *name;
  lz_dtype dtype;
  int ndim;
  int shape[LZ_MAX_NDIM];
  uint64_t begin, end;
} tensor_info;

static int parse_tensor(js *j, tensor_info *t) {
  if (!js_eat(j, '{')) return js_bad(j, "expected a tensor object");
  bool have_dtype = false, have_shape = false, have_off = false;
  if (!js_eat(j, '}')) {
    do {
      char *key = NULL;
      if (js_string(j, &key) != 0) return -1;
      int rc = 0;
      if (!js_eat(j, ':')) rc = js_bad(j, "expected ':'");
      else if (strcmp(key, "dtype") == 0 && !have_dtype) {
        char *v = NULL;
        rc = js_string(j, &v);
        t->dtype = LZ_DTYPE_COUNT;
        for (int d = 0; rc == 0 && d < LZ_DTYPE_COUNT; d++)
          if (strcmp(v, st_names[d]) == 0) t->dtype = (lz_dtype)d;
        /* 8-bit floats load as their bytes (uint8), as in MLX: lz_from_fp8 decodes E4M3;
         * E8M0 holds the power-of-two scales of mxfp formats */
        if (rc == 0 && (strcmp(v, "F8_E4M3") == 0 || strcmp(v, "F8_E8M0") == 0)) t->dtype = LZ_UINT8;
        if (rc == 0 && t->dtype == LZ_DTYPE_COUNT)
          rc = lz__error(LZ_ERROR_IO, "lz_load_safetensors", "'%s': tensor '%s' has unknown dtype '%s'",
                         j->path, t->name, v);
        free(v);
        have_dtype = true;
      } else if (strcmp(key, "shape") == 0 && !have_shape) {
        uint64_t dims[LZ_MAX_NDIM];
        rc = js_uint_list(j, dims, LZ_MAX_NDIM, &t->ndim);
        for (int d = 0; rc == 0 && d < t->ndim; d++) {
          if (dims[d] > INT32_MAX) rc = js_bad(j, "dimension too large");
          else t->shape[d] = (int)dims[d];
        }
        have_shape = true;
      } else if (strcmp(key, "data_offsets") == 0 && !have_off) {
        uint64_t off[2];
        int n = 0;
        rc = js_uint_list(j, off, 2, &n);
        if (rc == 0 && n != 2) rc = js_bad(j, "data_offsets needs two numbers");
        if (rc == 0) t->begin = off[0], t->end = off[1];
        have_off = true;
      } else {
        rc = js_bad(j, "unexpected or repeated key in tensor entry");
      }
      free(key);
      if (rc) return rc;
    } while (js_eat(j, ','));
    if (!js_eat(j, '}')) return js_bad(j, "expected '}'");
  }
  if (!have_dtype || !have_shape || !have_off)
    return lz__error(LZ_ERROR_IO, "lz_load_safetensors",
                     "'%s': tensor '%s' lacks dtype, shape or data_offsets", j->path, t->name);
  return 0;
}

static int parse_metadata(js *j, lz_dict *meta) {
  if (!js_eat(j, '{')) return js_bad(j, "expected the __metadata__ object");
  if (js_eat(j, '}')) return 0;
  do {
    char *k = NULL, *v = NULL;
    int rc = js_string(j, &k);
    if (rc == 0 && !js_eat(j, ':')) rc = js_bad(j, "expected ':'");
    js_ws(j);
    if (rc == 0 && (j->p >= j->end || *j->p != '"'))
      rc = lz__error(LZ_ERROR_IO, "lz_load_safetensors",
                     "'%s': metadata value of '%s' is not a string (safetensors metadata maps "
                     "strings to strings)", j->path, k);
    if (rc == 0) rc = js_string(j, &v);
    if (rc == 0 && meta) rc = lz_dict_set_string(meta, k, v);
    free(k);
    free(v);
    if (rc) return rc;
  } while (js_eat(j, ','));
  return js_eat(j, '}') ? 0 : js_bad(j, "expected '}'");
}

static int cmp_begin(const void *a, const void *b) {
  const tensor_info *x = a, *y = b;
  return x->begin < y->begin ? -1 : x->begin > y->begin;
}

lz_dict *lz_load_safetensors(const char *path, lz_dict **metadata) {
  const char *op = "lz_load_safetensors";
  if (metadata) *metadata = NULL;
  lz_file *f = lz__file_open(path, op);
  if (!f) return NULL;
  unsigned char len8[8];
  char *head = NULL;
  tensor_info *ts = NULL;
  size_t nt = 0, cap = 0;
  lz_dict *out = NULL, *meta = metadata ? lz_dict_new() : NULL;
  int rc = lz__file_read(f, 0, len8, 8, op);
  uint64_t hlen = rc == 0 ? lz__rd64(len8) : 0;
  if (rc == 0 && (hlen > f->size - 8 || hlen > (100u << 20)))
    rc = lz__error(LZ_ERROR_IO, op, "'%s': header length %llu exceeds the file", path,
                   (unsigned long long)hlen);
  if (rc == 0 && !(head = malloc(hlen + 1))) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
  if (rc == 0) rc = lz__file_read(f, 8, head, (size_t)hlen, op);
  js j = {head, head + hlen, head, path};
  if (rc == 0 && !js_eat(&j, '{')) rc = js_bad(&j, "expected '{'");
  if (rc == 0 && !js_eat(&j, '}')) {
    do {
      char *name = NULL;
      if ((rc = js_string(&j, &name)) != 0) break;
      if (!js_eat(&j, ':')) {
        free(name);
        rc = js_bad(&j, "expected ':'");
        break;
      }
      if (strcmp(name, "__metadata__") == 0) {
        free(name);
        if ((rc = parse_metadata(&j, meta)) != 0) break;
        continue;
      }
      if (nt == cap) {
        size_t nc = cap ? cap * 2 : 16;
        tensor_info *t = realloc(ts, nc * sizeof *t);
        if (!t) {
          free(name);
          rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
          break;
        }
        ts = t, cap = nc;
      }
      memset(&ts[nt], 0, sizeof ts[nt]);
      ts[nt].name = name;
      if ((rc = parse_tensor(&j, &ts[nt++])) != 0) break;
    } while (js_eat(&j, ','));
    if (rc == 0 && !js_eat(&j, '}')) rc = js_bad(&j, "expected '}' at the end of the header");
  }
  uint64_t data_start = 8 + hlen, data_len = f->size - data_start;
  /* Every tensor's range must match its shape, lie in the file and not overlap another. */
  for (size_t i = 0; rc == 0 && i < nt; i++) {
    tensor_info *t = &ts[i];
    uint64_t count = 1;
    for (int d = 0; d < t->ndim; d++) {
      if (t->shape[d] && count > ((uint64_t)1 << 56) / (uint64_t)t->shape[d]) {
        rc = lz__error(LZ_ERROR_IO, op, "'%s': tensor '%s' has too many elements", path, t->name);
        break;
      }
      count *= (uint64_t)t->shape[d];
    }
    if (rc) break;
    if (t->end < t->begin || t->end > data_len)
      rc = lz__error(LZ_ERROR_IO, op, "'%s': tensor '%s' has byte range [%llu, %llu) outside the %llu data bytes",
                     path, t->name, (unsigned long long)t->begin, (unsigned long long)t->end,
                     (unsigned long long)data_len);
    else if (t->end - t->begin != count * lz_dtype_size(t->dtype))
      rc = lz__error(LZ_ERROR_IO, op, "'%s': tensor '%s' has %llu bytes but its shape and dtype need %llu",
                     path, t->name, (unsigned long long)(t->end - t->begin),
                     (unsigned long long)(count * lz_dtype_size(t->dtype)));
  }
  if (rc == 0 && nt > 1) {
    tensor_info *sorted = malloc(nt * sizeof *sorted);
    if (!sorted) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
    else {
      memcpy(sorted, ts, nt * sizeof *sorted);
      qsort(sorted, nt, sizeof *sorted, cmp_begin);
      /* empty tensors occupy no bytes: one may sit where another tensor starts */
      size_t m = 0;
      for (size_t i = 0; i < nt; i++)
        if (sorted[i].end > sorted[i].begin) sorted[m++] = sorted[i];
      for (size_t i = 1; rc == 0 && i < m; i++)
        if (sorted[i].begin < sorted[i - 1].end)
          rc = lz__error(LZ_ERROR_IO, op, "'%s': tensors '%s' and '%s' overlap", path,
                         sorted[i - 1].name, sorted[i].name);
      free(sorted);
    }
  }
  if (rc == 0 && !(out = lz_dict_new())) rc = -1;
  for (size_t i = 0; rc == 0 && i < nt; i++) {
    if (lz_dict_contains(out, ts[i].name)) {
      rc = lz__error(LZ_ERROR_IO, op, "'%s': tensor '%s' appears twice", path, ts[i].name);
      break;
    }
    lz_load_params p = {.file = f, .offset = data_start + ts[i].begin,
                        .stored_size = ts[i].end - ts[i].begin, .encoding = LZ_LOAD_RAW};
    lz_array *a = lz__load_array(&p, ts[i].dtype, ts[i].shape, ts[i].ndim, op);
    if (!a || lz_dict_set(out, ts[i].name, a) != 0) rc = -1;
    lz_free(a);
  }
  for (size_t i = 0; i < nt; i++) free(ts[i].name);
  free(ts);
  free(head);
  lz__file_release(f);
  if (rc != 0) {
    lz_dict_free(out);
    lz_dict_free(meta);
    return NULL;
  }
  if (metadata) *metadata = meta;
  return out;
}

/* Writes a JSON string with escapes. */
static void put_json_string(FILE *fp, const char *s) {
  fputc('"', fp);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(fp, "\\%c", c);
    else if (c < 0x20) fprintf(fp, "\\u%04x", c);
    else fputc(c, fp);
  }
  fputc('"', fp);
}

int lz_save_safetensors(const char *path, const lz_dict *arrays, const lz_dict *metadata) {
  const char *op = "lz_save_safetensors";
  if (!arrays || !path) return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "NULL %s", path ? "dict" : "path");
  size_t n = lz_dict_size(arrays);
  lz_array **arrs = calloc(n ? n : 1, sizeof *arrs);
  if (!arrs) return lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
  int rc = 0;
  for (size_t i = 0; i < n; i++) arrs[i] = lz_dict_value(arrays, i);
  for (size_t i = 0; i < n && rc == 0; i++)
    if (!arrs[i]) rc = lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "entry '%s' is not an array",
                                 lz_dict_key(arrays, i));
  for (size_t i = 0; metadata && i < lz_dict_size(metadata) && rc == 0; i++)
    if (!lz_dict_get_string(metadata, lz_dict_key(metadata, i)))
      rc = lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "metadata entry '%s' is not a string",
                     lz_dict_key(metadata, i));
  if (rc == 0) rc = lz_eval_many(arrs, n);
  /* The header goes to memory first: its length prefixes the file. */
  char *hbuf = NULL;
  size_t hsize = 0;
  FILE *hp = rc == 0 ? open_memstream(&hbuf, &hsize) : NULL;
  if (rc == 0 && !hp) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
  if (rc == 0) {
    fputc('{', hp);
    bool first = true;
    if (metadata && lz_dict_size(metadata)) {
      fputs("\"__metadata__\":{", hp);
      for (size_t i = 0, k = 0; i < lz_dict_size(metadata); i++) {
        const char *v = lz_dict_get_string(metadata, lz_dict_key(metadata, i));
        if (k++) fputc(',', hp);
        put_json_string(hp, lz_dict_key(metadata, i));
        fputc(':', hp);
        put_json_string(hp, v);
      }
      fputc('}', hp);
      first = false;
    }
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
      lz_array *a = arrs[i];
      if (!first) fputc(',', hp);
      first = false;
      put_json_string(hp, lz_dict_key(arrays, i));
      fprintf(hp, ":{\"dtype\":\"%s\",\"shape\":[", st_names[a->dtype]);
      for (int d = 0; d < a->ndim; d++) fprintf(hp, d ? ",%d" : "%d", a->shape[d]);
      uint64_t nb = lz_array_nbytes(a);
      fprintf(hp, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
              (unsigned long long)(off + nb));
      off += nb;
    }
    fputc('}', hp);
    while ((ftell(hp) % 8) != 0) fputc(' ', hp); /* 8-byte alignment of the data */
    if (fclose(hp) != 0) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
  }
  char *tmp = NULL;
  FILE *fp = rc == 0 ? lz__save_begin(path, &tmp, op) : NULL;
  if (rc == 0 && !fp) rc = -1;
  if (rc == 0) {
    unsigned char len8[8];
    lz__wr64(len8, hsize);
    rc = lz__write_all(fp, len8, 8, path, op);
    if (rc == 0) rc = lz__write_all(fp, hbuf, hsize, path, op);
    for (size_t i = 0; rc == 0 && i < n; i++) {
      const void *d = lz_array_data(arrs[i]);
      rc = d ? lz__write_all(fp, d, lz_array_nbytes(arrs[i]), path, op) : -1;
    }
  }
  if (fp) rc = lz__save_end(fp, tmp, path, rc, op);
  free(hbuf);
  for (size_t i = 0; i < n; i++) lz_free(arrs[i]);
  free(arrs);
  return rc;
}
