/* GGUF (llama.cpp's model format, versions 2 and 3, little-endian): a header, typed metadata
 * key/values, tensor descriptions, then the aligned tensor data.
 *
 * The file is untrusted: the header is read through a bounded reader that refuses to read past
 * the end, every count is checked against the bytes left before anything is allocated for it,
 * and every tensor's extent must lie inside the data section. Tensors load lazily (the LOAD op
 * of io/file.c); quantized blocks are converted at evaluation by ggml_unpack (ops/quantize). */
#include "../ops/quantize_impl.h"
#include "io.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#define OP "lz_load_gguf"

enum { GGUF_MAGIC = 0x46554747, MAX_DEPTH = 4, READ_CHUNK = 1 << 16 };
/* Metadata value types. */
enum { T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STRING, T_ARRAY, T_U64, T_I64, T_F64, T_COUNT };
/* Tensor types that map to a Lazuli dtype directly. */
static const struct { int type; lz_dtype dtype; } plain_types[] = {
    {0, LZ_FLOAT32}, {1, LZ_FLOAT16}, {24, LZ_INT8},    {25, LZ_INT16},
    {26, LZ_INT32},  {27, LZ_INT64},  {28, LZ_FLOAT64}, {30, LZ_BFLOAT16}};

/* ---- a bounded, buffered reader ------------------------------------------------------------ */

typedef struct rd {
  lz_file *f;
  uint64_t pos;              /* file offset of the next byte */
  uint64_t buf_pos, buf_len; /* the buffer holds bytes [buf_pos, buf_pos + buf_len) */
  unsigned char buf[READ_CHUNK];
} rd;

static uint64_t rd_left(const rd *r) { return r->f->size - r->pos; }

static int rd_bytes(rd *r, void *dst, uint64_t n) {
  if (n > rd_left(r))
    return lz__error(LZ_ERROR_IO, OP, "'%s' is truncated: needs %" PRIu64 " bytes at offset %" PRIu64
                     ", has %" PRIu64, r->f->path, n, r->pos, r->f->size);
  unsigned char *d = dst;
  while (n) {
    if (r->pos < r->buf_pos || r->pos >= r->buf_pos + r->buf_len) {
      uint64_t m = rd_left(r) < READ_CHUNK ? rd_left(r) : READ_CHUNK;
      if (lz__file_read(r->f, r->pos, r->buf, (size_t)m, OP) != 0) return -1;
      r->buf_pos = r->pos, r->buf_len = m;
    }
    uint64_t off = r->pos - r->buf_pos, k = r->buf_len - off < n ? r->buf_len - off : n;
    memcpy(d, r->buf + off, (size_t)k);
    d += k, n -= k, r->pos += k;
  }
  return 0;
}

static int rd_u32(rd *r, uint32_t *v) {
  unsigned char b[4];
  if (rd_bytes(r, b, 4) != 0) return -1;
  *v = lz__rd32(b);
  return 0;
}

static int rd_u64(rd *r, uint64_t *v) {
  unsigned char b[8];
  if (rd_bytes(r, b, 8) != 0) return -1;
  *v = lz__rd64(b);
  return 0;
}

/* A GGUF string (u64 length + bytes) as a malloc'd C string; NUL bytes inside are an error. */
static int rd_string(rd *r, char **out, const char *what) {
  uint64_t n;
  *out = NULL;
  if (rd_u64(r, &n) != 0) return -1;
  if (n > rd_left(r))
    return lz__error(LZ_ERROR_IO, OP, "'%s': %s of %" PRIu64 " bytes at offset %" PRIu64
                     " runs past the end of the file", r->f->path, what, n, r->pos - 8);
  char *s = malloc((size_t)n + 1);
  if (!s) return lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  if (rd_bytes(r, s, n) != 0) {
    free(s);
    return -1;
  }
  s[n] = '\0';
  if (strlen(s) != n) {
    free(s);
    return lz__error(LZ_ERROR_IO, OP, "'%s': %s at offset %" PRIu64 " contains a NUL byte",
                     r->f->path, what, r->pos - n - 8);
  }
  *out = s;
  return 0;
}

/* ---- metadata values rendered as text ------------------------------------------------------ */

static size_t type_size(uint32_t t) {
  static const size_t sz[T_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
  return t < T_COUNT ? sz[t] : 0;
}

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

/* Reads one value of type t and appends its text to fp (strings inside arrays are quoted). */
static int read_value(rd *r, uint32_t t, FILE *fp, int depth) {
  unsigned char b[8];
  if (t == T_STRING) {
    char *s;
    if (rd_string(r, &s, "a metadata string") != 0) return -1;
    if (depth) put_json_string(fp, s);
    else fputs(s, fp);
    free(s);
    return 0;
  }
  if (t == T_ARRAY) {
    uint32_t et;
    uint64_t n;
    if (depth >= MAX_DEPTH)
      return lz__error(LZ_ERROR_IO, OP, "'%s': metadata arrays nested deeper than %d", r->f->path, MAX_DEPTH);
    if (rd_u32(r, &et) != 0 || rd_u64(r, &n) != 0) return -1;
    if (et >= T_COUNT)
      return lz__error(LZ_ERROR_IO, OP, "'%s': unknown metadata array type %u", r->f->path, et);
    /* Each element takes at least one byte (strings and arrays at least 8 or 12). */
    uint64_t min = et == T_STRING ? 8 : et == T_ARRAY ? 12 : type_size(et);
    if (n > rd_left(r) / min)
      return lz__error(LZ_ERROR_IO, OP, "'%s': metadata array of %" PRIu64 " elements exceeds the file",
                       r->f->path, n);
    fputc('[', fp);
    for (uint64_t i = 0; i < n; i++) {
      if (i) fputs(", ", fp);
      if (read_value(r, et, fp, depth + 1) != 0) return -1;
    }
    fputc(']', fp);
    return 0;
  }
  size_t sz = type_size(t);
  if (!sz) return lz__error(LZ_ERROR_IO, OP, "'%s': unknown metadata value type %u", r->f->path, t);
  if (rd_bytes(r, b, sz) != 0) return -1;
  switch (t) {
  case T_U8: fprintf(fp, "%u", b[0]); break;
  case T_I8: fprintf(fp, "%d", (int8_t)b[0]); break;
  case T_U16: fprintf(fp, "%u", lz__rd16(b)); break;
  case T_I16: fprintf(fp, "%d", (int16_t)lz__rd16(b)); break;
  case T_U32: fprintf(fp, "%" PRIu32, lz__rd32(b)); break;
  case T_I32: fprintf(fp, "%" PRId32, (int32_t)lz__rd32(b)); break;
  case T_U64: fprintf(fp, "%" PRIu64, lz__rd64(b)); break;
  case T_I64: fprintf(fp, "%" PRId64, (int64_t)lz__rd64(b)); break;
  case T_BOOL: fputs(b[0] ? "true" : "false", fp); break;
  case T_F32: {
    uint32_t u = lz__rd32(b);
    float f;
    memcpy(&f, &u, 4);
    fprintf(fp, "%.9g", (double)f);
    break;
  }
  default: {
    uint64_t u = lz__rd64(b);
    double d;
    memcpy(&d, &u, 8);
    fprintf(fp, "%.17g", d);
    break;
  }
  }
  return 0;
}

/* ---- metadata values with their types ------------------------------------------------------ */

/* The dtype of a scalar metadata type, or LZ_DTYPE_COUNT (strings, arrays). */
static lz_dtype meta_dtype(uint32_t t) {
  static const lz_dtype d[T_COUNT] = {LZ_UINT8, LZ_INT8, LZ_UINT16, LZ_INT16, LZ_UINT32,
                                      LZ_INT32, LZ_FLOAT32, LZ_BOOL, LZ_DTYPE_COUNT,
                                      LZ_DTYPE_COUNT, LZ_UINT64, LZ_INT64, LZ_FLOAT64};
  return t < T_COUNT ? d[t] : LZ_DTYPE_COUNT;
}

static int meta_type_of(lz_dtype d) {
  for (uint32_t t = 0; t < T_COUNT; t++)
    if (meta_dtype(t) == d) return (int)t;
  return -1;
}

/* meta[key] = n values of dtype d from bytes p (0-d when scalar). */
static int set_numbers(lz_dict *meta, const char *key, unsigned char *p, uint64_t n, lz_dtype d,
                       bool scalar) {
  if (d == LZ_BOOL)
    for (uint64_t i = 0; i < n; i++) p[i] = p[i] != 0;
  if (n > INT32_MAX) return lz__error(LZ_ERROR_IO, OP, "metadata array '%s' is too long", key);
  lz_scope_begin();
  lz_array *a = lz_array_from_data(p, scalar ? NULL : (int[]){(int)n}, scalar ? 0 : 1, d);
  int rc = a ? lz_dict_set(meta, key, a) : -1;
  lz_scope_end();
  return rc;
}

/* Reads a value of type t (already checked by read_value) into meta[key] with its type: numbers
 * and bools as 0-d arrays of their dtype, strings as strings, arrays of numbers as 1-d arrays,
 * arrays of strings as string lists. Returns 1, reading nothing, for nested arrays. */
static int read_typed(rd *r, uint32_t t, lz_dict *meta, const char *key) {
  if (t == T_STRING) {
    char *s;
    if (rd_string(r, &s, "a metadata string") != 0) return -1;
    int rc = lz_dict_set_string(meta, key, s);
    free(s);
    return rc;
  }
  uint32_t et = t;
  uint64_t n = 1, at = r->pos;
  if (t == T_ARRAY && (rd_u32(r, &et) != 0 || rd_u64(r, &n) != 0)) return -1;
  if (t == T_ARRAY && et == T_STRING) {
    char **v = calloc(n ? n : 1, sizeof *v);
    int rc = v ? 0 : lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
    for (uint64_t i = 0; rc == 0 && i < n; i++) rc = rd_string(r, &v[i], "a metadata string");
    if (rc == 0) rc = lz_dict_set_strings(meta, key, (const char *const *)v, (size_t)n);
    for (uint64_t i = 0; v && i < n; i++) free(v[i]);
    free(v);
    return rc;
  }
  lz_dtype d = meta_dtype(et);
  if (d == LZ_DTYPE_COUNT) {
    r->pos = at;
    return 1;
  }
  size_t sz = type_size(et);
  unsigned char *buf = malloc(n * sz > 0 ? n * sz : 1);
  int rc = buf ? rd_bytes(r, buf, n * sz) : lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  if (rc == 0) rc = set_numbers(meta, key, buf, n, d, t != T_ARRAY);
  free(buf);
  return rc;
}

/* ---- loading ------------------------------------------------------------------------------- */

typedef struct tinfo {
  char *name;
  uint32_t type;
  int ndim;
  int shape[LZ_MAX_NDIM]; /* row-major: the reverse of GGUF's ne[] */
  uint64_t offset, nbytes;
} tinfo;

/* Bytes of a tensor of type t and shape (also checks the shape). */
static int tensor_bytes(const char *path, tinfo *t) {
  uint64_t count = 1;
  for (int d = 0; d < t->ndim; d++) {
    if (t->shape[d] && count > ((uint64_t)1 << 56) / (uint64_t)t->shape[d])
      return lz__error(LZ_ERROR_IO, OP, "'%s': tensor '%s' has too many elements", path, t->name);
    count *= (uint64_t)t->shape[d];
  }
  for (size_t i = 0; i < sizeof plain_types / sizeof *plain_types; i++)
    if (plain_types[i].type == (int)t->type) {
      t->nbytes = count * lz_dtype_size(plain_types[i].dtype);
      return 0;
    }
  int bb, bits;
  if (!lz__ggml_block_info((int)t->type, &bb, &bits))
    return lz__error(LZ_ERROR_IO, OP, "'%s': tensor '%s' has type %u, which is not supported "
                     "(f32, f16, bf16, f64, i8-i64, q4_0, q4_1, q5_0, q5_1 and q8_0 are)",
                     path, t->name, t->type);
  if (t->ndim == 0 || t->shape[t->ndim - 1] % 32 != 0)
    return lz__error(LZ_ERROR_IO, OP, "'%s': quantized tensor '%s' has rows not made of 32-value blocks",
                     path, t->name);
  t->nbytes = count / 32 * (uint64_t)bb;
  return 0;
}

/* Adds tensor t (data at `start`) to the dict: one array, or for quantized types three
 * (NAME, PREFIX.scales, PREFIX.biases, where PREFIX is NAME without a ".weight" suffix). */
static int add_tensor(lz_dict *out, lz_file *f, const tinfo *t, uint64_t start) {
  lz_load_params p = {.file = f, .offset = start + t->offset, .stored_size = t->nbytes,
                      .encoding = LZ_LOAD_RAW};
  for (size_t i = 0; i < sizeof plain_types / sizeof *plain_types; i++)
    if (plain_types[i].type == (int)t->type) {
      lz_array *a = lz__load_array(&p, plain_types[i].dtype, t->shape, t->ndim, OP);
      int rc = a ? lz_dict_set(out, t->name, a) : -1;
      lz_free(a);
      return rc;
    }
  int bb, bits;
  lz__ggml_block_info((int)t->type, &bb, &bits);
  int bshape[2] = {(int)(t->nbytes / (uint64_t)bb), bb};
  if (t->nbytes / (uint64_t)bb > INT32_MAX)
    return lz__error(LZ_ERROR_IO, OP, "'%s': tensor '%s' is too large", f->path, t->name);
  lz_array *blocks = lz__load_array(&p, LZ_UINT8, bshape, 2, OP), *parts[3] = {NULL, NULL, NULL};
  int rc = blocks ? lz__ggml_unpack(blocks, (int)t->type, t->shape, t->ndim, parts, OP) : -1;
  lz_free(blocks);
  size_t len = strlen(t->name), sfx = strlen(".weight");
  size_t plen = len >= sfx && strcmp(t->name + len - sfx, ".weight") == 0 ? len - sfx : len;
  char *key = rc == 0 ? malloc(plen + 8) : NULL;
  if (rc == 0 && !key) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  for (int k = 0; rc == 0 && k < 3; k++) {
    if (k == 0) {
      strcpy(key, t->name);
    } else {
      memcpy(key, t->name, plen);
      strcpy(key + plen, k == 1 ? ".scales" : ".biases");
    }
    if (lz_dict_contains(out, key))
      rc = lz__error(LZ_ERROR_IO, OP, "'%s': entry '%s' appears twice", f->path, key);
    else
      rc = lz_dict_set(out, key, parts[k]);
  }
  free(key);
  for (int k = 0; k < 3; k++) lz_free(parts[k]);
  return rc;
}

static lz_dict *load_gguf(const char *path, lz_dict **metadata, bool typed) {
  if (metadata) *metadata = NULL;
  lz_file *f = lz__file_open(path, OP);
  if (!f) return NULL;
  rd *r = malloc(sizeof *r);
  tinfo *ts = NULL;
  uint64_t nt = 0, nkv = 0, alignment = 32;
  lz_dict *out = NULL, *meta = lz_dict_new();
  char *text = NULL, *key = NULL;
  size_t text_len = 0;
  int rc = r && meta ? 0 : lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  uint32_t magic = 0, version = 0;
  if (rc == 0) {
    memset(r, 0, offsetof(rd, buf));
    r->f = f;
    rc = rd_u32(r, &magic);
  }
  if (rc == 0 && magic != GGUF_MAGIC)
    rc = lz__error(LZ_ERROR_IO, OP, "'%s' is not a GGUF file (bad magic)", path);
  if (rc == 0) rc = rd_u32(r, &version);
  if (rc == 0 && version != 2 && version != 3)
    rc = lz__error(LZ_ERROR_IO, OP, "'%s': GGUF version %u is not supported (2 and 3 are; "
                   "big-endian files are not)", path, version);
  if (rc == 0) rc = rd_u64(r, &nt);
  if (rc == 0) rc = rd_u64(r, &nkv);
  /* A tensor description takes at least 24 bytes, a key/value at least 13. */
  if (rc == 0 && (nt > rd_left(r) / 24 || nkv > rd_left(r) / 13))
    rc = lz__error(LZ_ERROR_IO, OP, "'%s': %" PRIu64 " tensors and %" PRIu64
                   " metadata entries cannot fit in the file", path, nt, nkv);
  for (uint64_t i = 0; rc == 0 && i < nkv; i++) {
    uint32_t t;
    FILE *fp = NULL;
    if ((rc = rd_string(r, &key, "a metadata key")) != 0 || (rc = rd_u32(r, &t)) != 0) break;
    if (lz_dict_contains(meta, key)) {
      rc = lz__error(LZ_ERROR_IO, OP, "'%s': metadata key '%s' appears twice", path, key);
      break;
    }
    uint64_t at = r->pos;
    if (!(fp = open_memstream(&text, &text_len))) {
      rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
      break;
    }
    rc = read_value(r, t, fp, 0);
    if (fclose(fp) != 0 && rc == 0) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
    if (rc == 0 && strcmp(key, "general.alignment") == 0) {
      unsigned char b[4];
      uint64_t save = r->pos;
      r->pos = at;
      if (t != T_U32 || rd_bytes(r, b, 4) != 0 || (alignment = lz__rd32(b)) == 0 ||
          (alignment & (alignment - 1)) != 0)
        rc = lz__error(LZ_ERROR_IO, OP, "'%s': general.alignment must be a uint32 power of two", path);
      r->pos = save;
    }
    if (rc == 0 && typed) { /* read the value again, with its type */
      uint64_t end = r->pos;
      r->pos = at;
      int k = read_typed(r, t, meta, key);
      if (k < 0) rc = -1;
      if (k == 1) rc = lz_dict_set_string(meta, key, text); /* nested arrays: their text */
      r->pos = end;
    } else if (rc == 0) {
      rc = lz_dict_set_string(meta, key, text);
    }
    free(text), text = NULL;
    free(key), key = NULL;
  }
  if (rc == 0 && nt && !(ts = calloc((size_t)nt, sizeof *ts)))
    rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  for (uint64_t i = 0; rc == 0 && i < nt; i++) {
    tinfo *t = &ts[i];
    uint32_t nd;
    if ((rc = rd_string(r, &t->name, "a tensor name")) != 0 || (rc = rd_u32(r, &nd)) != 0) break;
    if (nd > LZ_MAX_NDIM) {
      rc = lz__error(LZ_ERROR_IO, OP, "'%s': tensor '%s' has %u dimensions", path, t->name, nd);
      break;
    }
    t->ndim = (int)nd;
    for (uint32_t d = 0; rc == 0 && d < nd; d++) {
      uint64_t ne = 0;
      if ((rc = rd_u64(r, &ne)) == 0 && ne > INT32_MAX)
        rc = lz__error(LZ_ERROR_IO, OP, "'%s': tensor '%s' has dimension %" PRIu64 " (too large)",
                       path, t->name, ne);
      t->shape[nd - 1 - d] = (int)ne;
    }
    if (rc == 0) rc = rd_u32(r, &t->type);
    if (rc == 0) rc = rd_u64(r, &t->offset);
    if (rc == 0) rc = tensor_bytes(path, t);
  }
  uint64_t start = rc == 0 ? (r->pos + alignment - 1) / alignment * alignment : 0;
  if (rc == 0 && start > f->size && nt)
    rc = lz__error(LZ_ERROR_IO, OP, "'%s' is truncated: its data section is missing", path);
  uint64_t data_len = start < f->size ? f->size - start : 0;
  for (uint64_t i = 0; rc == 0 && i < nt; i++) {
    const tinfo *t = &ts[i];
    if (t->offset % alignment != 0)
      rc = lz__error(LZ_ERROR_IO, OP, "'%s': tensor '%s' has offset %" PRIu64 ", not a multiple of "
                     "the alignment %" PRIu64, path, t->name, t->offset, alignment);
    else if (t->offset > data_len || t->nbytes > data_len - t->offset)
      rc = lz__error(LZ_ERROR_IO, OP, "'%s': tensor '%s' has bytes [%" PRIu64 ", %" PRIu64
                     ") outside the %" PRIu64 " data bytes", path, t->name, t->offset,
                     t->offset + t->nbytes, data_len);
  }
  if (rc == 0 && !(out = lz_dict_new())) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  for (uint64_t i = 0; rc == 0 && i < nt; i++) {
    if (lz_dict_contains(out, ts[i].name))
      rc = lz__error(LZ_ERROR_IO, OP, "'%s': entry '%s' appears twice", path, ts[i].name);
    else
      rc = add_tensor(out, f, &ts[i], start);
  }
  for (uint64_t i = 0; ts && i < nt; i++) free(ts[i].name);
  free(ts);
  free(text);
  free(key);
  free(r);
  lz__file_release(f);
  if (rc != 0) {
    lz_dict_free(out);
    lz_dict_free(meta);
    return NULL;
  }
  if (metadata) *metadata = meta;
  else lz_dict_free(meta);
  return out;
}

lz_dict *lz_load_gguf(const char *path, lz_dict **metadata) { return load_gguf(path, metadata, false); }
lz_dict *lz__load_gguf_typed(const char *path, lz_dict **metadata) {
  return load_gguf(path, metadata, true);
}

/* ---- saving -------------------------------------------------------------------------------- */

#undef OP
#define OP "lz_save_gguf"

static int gguf_type_of(lz_dtype d) {
  for (size_t i = 0; i < sizeof plain_types / sizeof *plain_types; i++)
    if (plain_types[i].dtype == d) return plain_types[i].type;
  return -1;
}

static void put_u32(FILE *fp, uint32_t v) {
  unsigned char b[4];
  lz__wr32(b, v);
  fwrite(b, 1, 4, fp);
}
static void put_u64(FILE *fp, uint64_t v) {
  unsigned char b[8];
  lz__wr64(b, v);
  fwrite(b, 1, 8, fp);
}
static void put_str(FILE *fp, const char *s) {
  put_u64(fp, strlen(s));
  fwrite(s, 1, strlen(s), fp);
}
static void put_pad(FILE *fp, uint64_t pos, uint64_t align) {
  for (; pos % align; pos++) fputc(0, fp);
}

int lz_save_gguf(const char *path, const lz_dict *arrays, const lz_dict *metadata) {
  const uint64_t align = 32;
  if (!arrays || !path)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, OP, "NULL %s", path ? "dict" : "path");
  size_t n = lz_dict_size(arrays), nmeta = metadata ? lz_dict_size(metadata) : 0;
  lz_array **arrs = calloc(n ? n : 1, sizeof *arrs);
  if (!arrs) return lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  int rc = 0;
  for (size_t i = 0; i < n; i++) arrs[i] = lz_dict_value(arrays, i);
  for (size_t i = 0; i < n && rc == 0; i++) {
    if (!arrs[i])
      rc = lz__error(LZ_ERROR_INVALID_ARGUMENT, OP, "entry '%s' is not an array", lz_dict_key(arrays, i));
    else if (gguf_type_of(lz_array_dtype(arrs[i])) < 0)
      rc = lz__error(LZ_ERROR_DTYPE, OP, "entry '%s' has dtype %s, which GGUF cannot hold (float32, "
                     "float16, bfloat16, float64 and int8-int64 can)", lz_dict_key(arrays, i),
                     lz_dtype_name(lz_array_dtype(arrs[i])));
  }
  lz_array **marr = calloc(nmeta ? nmeta : 1, sizeof *marr);
  if (!marr && rc == 0) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  for (size_t i = 0; i < nmeta && rc == 0; i++) {
    const char *k = lz_dict_key(metadata, i);
    lz_array *a = marr[i] = lz_dict_value(metadata, i);
    if (a && (meta_type_of(a->dtype) < 0 || a->ndim > 1))
      rc = lz__error(LZ_ERROR_INVALID_ARGUMENT, OP, "metadata entry '%s' is a %d-d %s array; GGUF "
                     "metadata holds strings, string lists, and 0-d or 1-d arrays of bool, "
                     "(u)int8-64, float32 or float64", k, a->ndim, lz_dtype_name(a->dtype));
  }
  if (rc == 0) rc = lz_eval_many(arrs, n);
  for (size_t i = 0; i < nmeta && rc == 0; i++)
    if (marr[i]) rc = lz_eval(marr[i]);
  /* The header goes to memory first, so that the data offsets are known. */
  char *hbuf = NULL;
  size_t hsize = 0;
  FILE *hp = rc == 0 ? open_memstream(&hbuf, &hsize) : NULL;
  if (rc == 0 && !hp) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  if (rc == 0) {
    put_u32(hp, GGUF_MAGIC);
    put_u32(hp, 3);
    put_u64(hp, n);
    put_u64(hp, nmeta);
    for (size_t i = 0; i < nmeta; i++) {
      const char *k = lz_dict_key(metadata, i), *const *list;
      int64_t nl = lz_dict_get_strings(metadata, k, &list);
      put_str(hp, k);
      if (marr[i]) { /* a typed number, or an array of them */
        lz_array *a = marr[i];
        uint32_t et = (uint32_t)meta_type_of(a->dtype);
        if (a->ndim == 1) put_u32(hp, T_ARRAY), put_u32(hp, et), put_u64(hp, (uint64_t)a->size);
        else put_u32(hp, et);
        const void *d = lz_array_data(a);
        if (d) fwrite(d, 1, lz_array_nbytes(a), hp);
        else rc = -1;
      } else if (nl >= 0) {
        put_u32(hp, T_ARRAY), put_u32(hp, T_STRING), put_u64(hp, (uint64_t)nl);
        for (int64_t j = 0; j < nl; j++) put_str(hp, list[j]);
      } else {
        put_u32(hp, T_STRING);
        put_str(hp, lz_dict_get_string(metadata, k));
      }
    }
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
      lz_array *a = arrs[i];
      int nd = lz_array_ndim(a);
      put_str(hp, lz_dict_key(arrays, i));
      put_u32(hp, nd ? (uint32_t)nd : 1); /* a 0-d array is stored as shape (1) */
      if (!nd) put_u64(hp, 1);
      for (int d = nd - 1; d >= 0; d--) put_u64(hp, (uint64_t)lz_array_shape(a)[d]);
      put_u32(hp, (uint32_t)gguf_type_of(lz_array_dtype(a)));
      put_u64(hp, off);
      off = (off + lz_array_nbytes(a) + align - 1) / align * align;
    }
    long pos = ftell(hp);
    put_pad(hp, pos < 0 ? 0 : (uint64_t)pos, align);
    if (fclose(hp) != 0) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  }
  char *tmp = NULL;
  FILE *fp = rc == 0 ? lz__save_begin(path, &tmp, OP) : NULL;
  if (rc == 0 && !fp) rc = -1;
  if (rc == 0) rc = lz__write_all(fp, hbuf, hsize, path, OP);
  static const unsigned char zeros[32] = {0};
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const void *d = lz_array_data(arrs[i]);
    size_t nb = lz_array_nbytes(arrs[i]);
    rc = d ? lz__write_all(fp, d, nb, path, OP) : -1;
    if (rc == 0 && i + 1 < n && nb % align)
      rc = lz__write_all(fp, zeros, (size_t)(align - nb % align), path, OP);
  }
  if (fp) rc = lz__save_end(fp, tmp, path, rc, OP);
  free(hbuf);
  for (size_t i = 0; i < n; i++) lz_free(arrs[i]);
  for (size_t i = 0; marr && i < nmeta; i++) lz_free(marr[i]);
  free(marr);
  free(arrs);
  return rc;
}
