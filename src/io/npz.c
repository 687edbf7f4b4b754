/* NumPy .npz files: a zip archive of .npy members, stored or deflated, zip64 included.
 * Reading parses the central directory and each member's .npy header; the data is read (and
 * inflated) lazily by the LOAD op. Writing builds each member in memory, then the directory. */
#include "io.h"

#include <errno.h>
#include <stdlib.h>
#include <zlib.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOC64 0x07064b50u

typedef struct zip_member {
  char *name;
  int method; /* 0 stored, 8 deflate */
  uint32_t crc;
  uint64_t comp, uncomp, local_offset;
} zip_member;

static const char *OP = "lz_load_npz";

/* Finds the central directory: its offset, size and entry count. */
static int find_directory(lz_file *f, uint64_t *cd_off, uint64_t *cd_size, uint64_t *count) {
  uint64_t tail = f->size < 65536 + 22 ? f->size : 65536 + 22;
  unsigned char *buf = malloc(tail ? tail : 1);
  if (!buf) return lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  int rc = lz__file_read(f, f->size - tail, buf, (size_t)tail, OP);
  int64_t at = -1;
  for (int64_t i = (int64_t)tail - 22; rc == 0 && i >= 0; i--)
    if (lz__rd32(buf + i) == SIG_EOCD) {
      at = i;
      break;
    }
  if (rc == 0 && at < 0) rc = lz__error(LZ_ERROR_IO, OP, "'%s' is not a zip file (no end record)", f->path);
  if (rc == 0) {
    const unsigned char *e = buf + at;
    *count = lz__rd16(e + 10);
    *cd_size = lz__rd32(e + 12);
    *cd_off = lz__rd32(e + 16);
    uint64_t eocd_pos = f->size - tail + (uint64_t)at;
    if ((*count == 0xffff || *cd_size == 0xffffffffu || *cd_off == 0xffffffffu) && eocd_pos >= 20) {
      unsigned char loc[20], rec[56];
      rc = lz__file_read(f, eocd_pos - 20, loc, 20, OP);
      if (rc == 0 && lz__rd32(loc) == SIG_LOC64) {
        rc = lz__file_read(f, lz__rd64(loc + 8), rec, 56, OP);
        if (rc == 0 && lz__rd32(rec) != SIG_EOCD64)
          rc = lz__error(LZ_ERROR_IO, OP, "'%s': bad zip64 end record", f->path);
        if (rc == 0) *count = lz__rd64(rec + 32), *cd_size = lz__rd64(rec + 40), *cd_off = lz__rd64(rec + 48);
      }
    }
  }
  if (rc == 0 && (*cd_off > f->size || *cd_size > f->size - *cd_off || *count > *cd_size / 46))
    rc = lz__error(LZ_ERROR_IO, OP, "'%s': zip directory lies outside the file", f->path);
  free(buf);
  return rc;
}

static int read_directory(lz_file *f, zip_member **out, size_t *n_out) {
  uint64_t cd_off = 0, cd_size = 0, count = 0;
  if (find_directory(f, &cd_off, &cd_size, &count) != 0) return -1;
  unsigned char *cd = malloc(cd_size ? cd_size : 1);
  zip_member *m = calloc(count ? count : 1, sizeof *m);
  int rc = (cd && m) ? lz__file_read(f, cd_off, cd, (size_t)cd_size, OP)
                     : lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
  size_t pos = 0, n = 0;
  for (; rc == 0 && n < count; n++) {
    if (cd_size - pos < 46 || lz__rd32(cd + pos) != SIG_CENTRAL) {
      rc = lz__error(LZ_ERROR_IO, OP, "'%s': corrupt zip directory entry %zu", f->path, n);
      break;
    }
    const unsigned char *e = cd + pos;
    size_t nl = lz__rd16(e + 28), xl = lz__rd16(e + 30), cl = lz__rd16(e + 32);
    if (cd_size - pos - 46 < nl + xl + cl) {
      rc = lz__error(LZ_ERROR_IO, OP, "'%s': truncated zip directory entry %zu", f->path, n);
      break;
    }
    zip_member *z = &m[n];
    z->method = lz__rd16(e + 10);
    z->crc = lz__rd32(e + 16);
    z->comp = lz__rd32(e + 20);
    z->uncomp = lz__rd32(e + 24);
    z->local_offset = lz__rd32(e + 42);
    if (!(z->name = malloc(nl + 1))) {
      rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
      break;
    }
    memcpy(z->name, e + 46, nl);
    z->name[nl] = '\0';
    /* zip64 extra field: the 8-byte values replace the saturated 32-bit ones, in order */
    const unsigned char *x = e + 46 + nl, *xe = x + xl;
    while (xe - x >= 4) {
      uint16_t id = lz__rd16(x), sz = lz__rd16(x + 2);
      if (xe - x - 4 < sz) break;
      if (id == 1) {
        const unsigned char *v = x + 4, *ve = v + sz;
        if (z->uncomp == 0xffffffffu && ve - v >= 8) z->uncomp = lz__rd64(v), v += 8;
        if (z->comp == 0xffffffffu && ve - v >= 8) z->comp = lz__rd64(v), v += 8;
        if (z->local_offset == 0xffffffffu && ve - v >= 8) z->local_offset = lz__rd64(v);
      }
      x += 4 + sz;
    }
    pos += 46 + nl + xl + cl;
  }
  free(cd);
  *out = m;
  *n_out = n;
  return rc;
}

/* Loads one member as a lazy array: parses its .npy header now, leaves the data for eval. */
static lz_array *load_member(lz_file *f, const zip_member *z) {
  unsigned char loc[30];
  if (lz__file_read(f, z->local_offset, loc, 30, OP) != 0) return NULL;
  if (lz__rd32(loc) != SIG_LOCAL) {
    lz__error(LZ_ERROR_IO, OP, "'%s': member '%s' has a bad local header", f->path, z->name);
    return NULL;
  }
  uint64_t data = z->local_offset + 30 + lz__rd16(loc + 26) + lz__rd16(loc + 28);
  if (z->method != 0 && z->method != 8) {
    lz__error(LZ_ERROR_IO, OP, "'%s': member '%s' uses unsupported compression method %d", f->path,
              z->name, z->method);
    return NULL;
  }
  if (data > f->size || z->comp > f->size - data) {
    lz__error(LZ_ERROR_IO, OP, "'%s': member '%s' extends past the end of the file", f->path, z->name);
    return NULL;
  }
  enum { HEAD = 65536 + 12 };
  unsigned char *head = malloc(HEAD);
  if (!head) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
    return NULL;
  }
  size_t hn = z->uncomp < HEAD ? (size_t)z->uncomp : HEAD;
  int rc;
  if (z->method == 0) {
    if (hn > z->comp) hn = (size_t)z->comp;
    rc = lz__file_read(f, data, head, hn, OP);
  } else { /* inflate just the start of the member */
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    rc = inflateInit2(&zs, -MAX_WBITS) == Z_OK ? 0 : lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "zlib failed");
    size_t cn = z->comp < HEAD ? (size_t)z->comp : HEAD;
    unsigned char *cbuf = rc == 0 ? malloc(cn ? cn : 1) : NULL;
    if (rc == 0 && !cbuf) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, OP, "out of memory");
    if (rc == 0) rc = lz__file_read(f, data, cbuf, cn, OP);
    if (rc == 0) {
      zs.next_in = cbuf, zs.avail_in = (uInt)cn;
      zs.next_out = head, zs.avail_out = (uInt)hn;
      int zr = inflate(&zs, Z_SYNC_FLUSH);
      if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
        rc = lz__error(LZ_ERROR_IO, OP, "'%s': member '%s' has corrupt compressed data", f->path, z->name);
      hn = hn - zs.avail_out;
    }
    if (cbuf) inflateEnd(&zs);
    free(cbuf);
  }
  lz_npy_header h;
  lz_array *a = NULL;
  if (rc == 0 && lz__npy_parse_header(head, hn, &h, f->path, OP) == 0) {
    int64_t count = 1;
    for (int i = 0; i < h.ndim; i++) count *= h.shape[i];
    uint64_t need = (uint64_t)count * lz_dtype_size(h.dtype);
    if (z->uncomp < h.header_len || z->uncomp - h.header_len != need) {
      lz__error(LZ_ERROR_IO, OP, "'%s': member '%s' holds %llu bytes but its header needs %llu",
                f->path, z->name, (unsigned long long)(z->uncomp - (z->uncomp >= h.header_len ? h.header_len : 0)),
                (unsigned long long)need);
    } else if (z->method == 0 && z->comp != z->uncomp) {
      lz__error(LZ_ERROR_IO, OP, "'%s': stored member '%s' has mismatched sizes", f->path, z->name);
    } else {
      lz_load_params p = {.file = f, .byteswap = h.byteswap, .fortran = h.fortran,
                          .skip = h.header_len, .check_crc = true, .crc = z->crc,
                          .member = z->name};
      if (z->method == 0) p.encoding = LZ_LOAD_RAW, p.offset = data + h.header_len, p.stored_size = need;
      else p.encoding = LZ_LOAD_DEFLATE, p.offset = data, p.stored_size = z->comp;
      a = lz__load_array(&p, h.dtype, h.shape, h.ndim, OP);
    }
  }
  free(head);
  return a;
}

lz_dict *lz_load_npz(const char *path) {
  lz_file *f = lz__file_open(path, OP);
  if (!f) return NULL;
  zip_member *m = NULL;
  size_t n = 0;
  int rc = read_directory(f, &m, &n);
  lz_dict *d = rc == 0 ? lz_dict_new() : NULL;
  if (rc == 0 && !d) rc = -1;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    size_t len = strlen(m[i].name);
    if (len >= 4 && strcmp(m[i].name + len - 4, ".npy") == 0) m[i].name[len - 4] = '\0';
    if (lz_dict_contains(d, m[i].name)) {
      rc = lz__error(LZ_ERROR_IO, OP, "'%s': member '%s' appears twice", path, m[i].name);
      break;
    }
    lz_array *a = load_member(f, &m[i]);
    if (!a || lz_dict_set(d, m[i].name, a) != 0) rc = -1;
    lz_free(a);
  }
  for (size_t i = 0; i < n; i++) free(m[i].name);
  free(m);
  lz__file_release(f);
  if (rc != 0) {
    lz_dict_free(d);
    return NULL;
  }
  return d;
}

/* ---- writing ---- */

typedef struct written {
  uint32_t crc;
  uint64_t comp, uncomp, offset;
  int method;
} written;

static int deflate_member(const unsigned char *src, size_t n, unsigned char **out, size_t *out_n) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return -1;
  size_t cap = deflateBound(&zs, (uLong)n) + 64;
  unsigned char *buf = malloc(cap);
  if (!buf) {
    deflateEnd(&zs);
    return -1;
  }
  size_t done = 0, fed = 0;
  int zr = Z_OK;
  while (zr != Z_STREAM_END) {
    size_t chunk = n - fed < (1u << 30) ? n - fed : (1u << 30);
    zs.next_in = (unsigned char *)src + fed, zs.avail_in = (uInt)chunk;
    zs.next_out = buf + done, zs.avail_out = (uInt)(cap - done < (1u << 30) ? cap - done : (1u << 30));
    size_t before_out = zs.avail_out;
    zr = deflate(&zs, fed + chunk == n ? Z_FINISH : Z_NO_FLUSH);
    fed += chunk - zs.avail_in;
    done += before_out - zs.avail_out;
    if (zr == Z_STREAM_ERROR) break;
  }
  deflateEnd(&zs);
  if (zr != Z_STREAM_END) {
    free(buf);
    return -1;
  }
  *out = buf, *out_n = done;
  return 0;
}

/* General purpose flags of a member: bit 11 says the name is UTF-8 (set, as Python's zipfile
 * does, only when it is not plain ASCII, so that other readers do not decode it as CP437). */
static uint16_t name_flags(const char *name, int n) {
  for (int i = 0; i < n; i++)
    if ((unsigned char)name[i] >= 0x80) return 1u << 11;
  return 0;
}

int lz_save_npz(const char *path, const lz_dict *arrays, bool compressed) {
  const char *op = "lz_save_npz";
  if (!arrays || !path) return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "NULL %s", path ? "dict" : "path");
  size_t n = lz_dict_size(arrays);
  written *w = calloc(n ? n : 1, sizeof *w);
  lz_array **arrs = calloc(n ? n : 1, sizeof *arrs);
  int rc = 0;
  if (!w || !arrs) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
  for (size_t i = 0; rc == 0 && i < n; i++) {
    lz_array *a = arrs[i] = lz_dict_value(arrays, i);
    const char *key = lz_dict_key(arrays, i);
    if (!a)
      rc = lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "entry '%s' is not an array", key);
    else if (!lz__npy_descr(a->dtype) || a->dtype == LZ_BFLOAT16)
      rc = lz__error(LZ_ERROR_DTYPE, op, "'%s' is %s, which .npz cannot store", key,
                     lz_dtype_name(a->dtype));
  }
  if (rc == 0) rc = lz_eval_many(arrs, n); /* every read of the old file happens before the write */
  char *tmp = NULL;
  FILE *fp = rc == 0 ? lz__save_begin(path, &tmp, op) : NULL;
  if (rc == 0 && !fp) rc = -1;
  uint64_t pos = 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    lz_array *a = arrs[i];
    const char *key = lz_dict_key(arrays, i);
    const void *data = lz_array_data(a);
    char head[1024];
    size_t hl = data ? lz__npy_build_header(a, head, sizeof head) : 0;
    size_t nb = lz_array_nbytes(a), total = hl + nb;
    unsigned char *member = data ? malloc(total ? total : 1) : NULL;
    if (!member) rc = data ? lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory") : -1;
    unsigned char *payload = member, *comp = NULL;
    size_t payload_n = total;
    if (rc == 0) {
      memcpy(member, head, hl);
      memcpy(member + hl, data, nb);
      w[i].crc = 0;
      for (size_t off = 0; off < total; off += 1u << 30) {
        size_t c = total - off < (1u << 30) ? total - off : (1u << 30);
        w[i].crc = (uint32_t)crc32(w[i].crc, member + off, (uInt)c);
      }
      w[i].uncomp = total;
      w[i].method = 0;
      if (compressed) {
        if (deflate_member(member, total, &comp, &payload_n) != 0)
          rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "compressing '%s' failed", key);
        else payload = comp, w[i].method = 8;
      }
      w[i].comp = payload_n;
      w[i].offset = pos;
    }
    if (rc == 0) { /* local header, with a zip64 extra carrying both sizes when needed */
      char name[4096];
      int nl = snprintf(name, sizeof name, "%s.npy", key);
      if (nl < 0 || (size_t)nl >= sizeof name) nl = (int)sizeof name - 1;
      bool z64 = w[i].uncomp >= 0xffffffffu || w[i].comp >= 0xffffffffu;
      unsigned char lh[30], x[20];
      lz__wr32(lh, SIG_LOCAL);
      lz__wr16(lh + 4, z64 ? 45 : 20);
      lz__wr16(lh + 6, name_flags(name, nl));
      lz__wr16(lh + 8, (uint16_t)w[i].method);
      lz__wr16(lh + 10, 0);
      lz__wr16(lh + 12, 0x21); /* 1980-01-01 */
      lz__wr32(lh + 14, w[i].crc);
      lz__wr32(lh + 18, z64 ? 0xffffffffu : (uint32_t)w[i].comp);
      lz__wr32(lh + 22, z64 ? 0xffffffffu : (uint32_t)w[i].uncomp);
      lz__wr16(lh + 26, (uint16_t)nl);
      lz__wr16(lh + 28, z64 ? 20 : 0);
      lz__wr16(x, 1), lz__wr16(x + 2, 16), lz__wr64(x + 4, w[i].uncomp), lz__wr64(x + 12, w[i].comp);
      rc = lz__write_all(fp, lh, 30, path, op);
      if (rc == 0) rc = lz__write_all(fp, name, (size_t)nl, path, op);
      if (rc == 0 && z64) rc = lz__write_all(fp, x, 20, path, op);
      if (rc == 0) rc = lz__write_all(fp, payload, payload_n, path, op);
      pos += 30 + (uint64_t)nl + (z64 ? 20 : 0) + payload_n;
    }
    free(member);
    free(comp);
  }
  /* central directory */
  uint64_t cd_start = pos;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    char name[4096];
    int nl = snprintf(name, sizeof name, "%s.npy", lz_dict_key(arrays, i));
    if (nl < 0 || (size_t)nl >= sizeof name) nl = (int)sizeof name - 1;
    bool z64 = w[i].uncomp >= 0xffffffffu || w[i].comp >= 0xffffffffu || w[i].offset >= 0xffffffffu;
    unsigned char ch[46], x[28];
    memset(ch, 0, sizeof ch);
    lz__wr32(ch, SIG_CENTRAL);
    lz__wr16(ch + 4, 45);
    lz__wr16(ch + 6, z64 ? 45 : 20);
    lz__wr16(ch + 8, name_flags(name, nl));
    lz__wr16(ch + 10, (uint16_t)w[i].method);
    lz__wr16(ch + 14, 0x21);
    lz__wr32(ch + 16, w[i].crc);
    lz__wr32(ch + 20, z64 ? 0xffffffffu : (uint32_t)w[i].comp);
    lz__wr32(ch + 24, z64 ? 0xffffffffu : (uint32_t)w[i].uncomp);
    lz__wr16(ch + 28, (uint16_t)nl);
    lz__wr16(ch + 30, z64 ? 28 : 0);
    lz__wr32(ch + 42, z64 ? 0xffffffffu : (uint32_t)w[i].offset);
    lz__wr16(x, 1), lz__wr16(x + 2, 24);
    lz__wr64(x + 4, w[i].uncomp), lz__wr64(x + 12, w[i].comp), lz__wr64(x + 20, w[i].offset);
    rc = lz__write_all(fp, ch, 46, path, op);
    if (rc == 0) rc = lz__write_all(fp, name, (size_t)nl, path, op);
    if (rc == 0 && z64) rc = lz__write_all(fp, x, 28, path, op);
    pos += 46 + (uint64_t)nl + (z64 ? 28 : 0);
  }
  if (rc == 0) {
    uint64_t cd_size = pos - cd_start;
    bool z64 = n >= 0xffff || cd_start >= 0xffffffffu || cd_size >= 0xffffffffu;
    if (z64) {
      unsigned char r[56], l[20];
      memset(r, 0, sizeof r);
      lz__wr32(r, SIG_EOCD64), lz__wr64(r + 4, 44), lz__wr16(r + 12, 45), lz__wr16(r + 14, 45);
      lz__wr64(r + 24, n), lz__wr64(r + 32, n), lz__wr64(r + 40, cd_size), lz__wr64(r + 48, cd_start);
      memset(l, 0, sizeof l);
      lz__wr32(l, SIG_LOC64), lz__wr64(l + 8, pos), lz__wr32(l + 16, 1);
      rc = lz__write_all(fp, r, 56, path, op);
      if (rc == 0) rc = lz__write_all(fp, l, 20, path, op);
    }
    unsigned char e[22];
    memset(e, 0, sizeof e);
    lz__wr32(e, SIG_EOCD);
    lz__wr16(e + 8, z64 ? 0xffff : (uint16_t)n);
    lz__wr16(e + 10, z64 ? 0xffff : (uint16_t)n);
    lz__wr32(e + 12, z64 ? 0xffffffffu : (uint32_t)cd_size);
    lz__wr32(e + 16, z64 ? 0xffffffffu : (uint32_t)cd_start);
    if (rc == 0) rc = lz__write_all(fp, e, 22, path, op);
  }
  if (fp) rc = lz__save_end(fp, tmp, path, rc, op);
  for (size_t i = 0; arrs && i < n; i++) lz_free(arrs[i]);
  free(arrs);
  free(w);
  return rc;
}
