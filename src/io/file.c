/* Open files shared by lazily loaded arrays, and the LOAD op that reads their bytes at eval. */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

lz_file *lz__file_open(const char *path, const char *op) {
  if (!path) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "path is NULL");
    return NULL;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    lz__error(LZ_ERROR_IO, op, "cannot open '%s': %s", path, strerror(errno));
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    lz__error(LZ_ERROR_IO, op, "'%s' is not a regular file", path);
    return NULL;
  }
  size_t len = strlen(path) + 1;
  lz_file *f = lz__malloc(sizeof *f + len);
  if (!f) {
    close(fd);
    lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
    return NULL;
  }
  atomic_init(&f->refs, 1);
  f->fd = fd;
  f->size = (uint64_t)st.st_size;
  memcpy(f->path, path, len);
  return f;
}

void lz__file_release(lz_file *f) {
  if (!f || atomic_fetch_sub(&f->refs, 1) != 1) return;
  close(f->fd);
  free(f);
}

int lz__file_read(lz_file *f, uint64_t offset, void *dst, size_t n, const char *op) {
  if (offset > f->size || n > f->size - offset)
    return lz__error(LZ_ERROR_IO, op, "'%s' is truncated: needs %llu bytes at offset %llu, has %llu",
                     f->path, (unsigned long long)n, (unsigned long long)offset,
                     (unsigned long long)f->size);
  char *p = dst;
  while (n) {
    ssize_t r = pread(f->fd, p, n, (off_t)offset);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0)
      return lz__error(LZ_ERROR_IO, op, "cannot read '%s': %s", f->path,
                       r < 0 ? strerror(errno) : "file truncated (unexpected end of file)");
    p += r, n -= (size_t)r, offset += (uint64_t)r;
  }
  return 0;
}

/* Inflates a raw deflate stream of `stored` bytes at `offset`, discarding `skip` bytes of
 * output, into dst (exactly n bytes). */
/* crc32 over any length (zlib takes at most 4 GiB at once). */
static uint32_t crc_update(uint32_t crc, const unsigned char *p, size_t n) {
  while (n) {
    size_t c = n < (1u << 30) ? n : (1u << 30);
    crc = (uint32_t)crc32(crc, p, (uInt)c);
    p += c, n -= c;
  }
  return crc;
}

static int inflate_into(lz_file *f, const lz_load_params *p, void *dst, size_t n, uint32_t *crc) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
    return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_load", "cannot start inflating '%s'", f->path);
  enum { IN_CHUNK = 1 << 16 };
  unsigned char *in = malloc(IN_CHUNK), sink[4096];
  int rc = in ? 0 : lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_load", "out of memory");
  uint64_t pos = p->offset, left = p->stored_size, skip = p->skip;
  size_t done = 0;
  int zr = Z_OK;
  while (rc == 0 && (done < n || skip)) { /* an empty array's header is still checked */
    if (zs.avail_in == 0) {
      if (left == 0) {
        rc = lz__error(LZ_ERROR_IO, "lz_load", "'%s': compressed data ends early", f->path);
        break;
      }
      size_t m = left < IN_CHUNK ? (size_t)left : IN_CHUNK;
      if (lz__file_read(f, pos, in, m, "lz_load") != 0) {
        rc = -1;
        break;
      }
      pos += m, left -= m;
      zs.next_in = in, zs.avail_in = (uInt)m;
    }
    if (skip) {
      zs.next_out = sink;
      zs.avail_out = (uInt)(skip < sizeof sink ? skip : sizeof sink);
      uInt before = zs.avail_out;
      zr = inflate(&zs, Z_NO_FLUSH);
      skip -= before - zs.avail_out;
      *crc = crc_update(*crc, sink, before - zs.avail_out);
    } else {
      size_t want = n - done < (1u << 30) ? n - done : (1u << 30);
      zs.next_out = (unsigned char *)dst + done;
      zs.avail_out = (uInt)want;
      zr = inflate(&zs, Z_NO_FLUSH);
      *crc = crc_update(*crc, (unsigned char *)dst + done, want - zs.avail_out);
      done += want - zs.avail_out;
    }
    if (zr == Z_STREAM_END && (done < n || skip)) {
      rc = lz__error(LZ_ERROR_IO, "lz_load", "'%s': compressed member is shorter than its header says",
                     f->path);
    } else if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
      rc = lz__error(LZ_ERROR_IO, "lz_load", "'%s': corrupt compressed data (%s)", f->path,
                     zs.msg ? zs.msg : "inflate failed");
    } else if (zr == Z_BUF_ERROR && zs.avail_in != 0) {
      rc = lz__error(LZ_ERROR_IO, "lz_load", "'%s': corrupt compressed data", f->path);
    }
  }
  inflateEnd(&zs);
  free(in);
  return rc;
}

static void byteswap(void *data, int64_t n, size_t size) {
  unsigned char *p = data;
  for (int64_t i = 0; i < n; i++, p += size)
    for (size_t a = 0, b = size - 1; a < b; a++, b--) {
      unsigned char t = p[a];
      p[a] = p[b], p[b] = t;
    }
}

static int load_cpu(lz_node *node, lz_array **outs) {
  const lz_load_params *p = node->params;
  lz_array *out = outs[0];
  if (lz__alloc_output(out, "lz_load") != 0) return -1;
  size_t n = (size_t)out->size * lz_dtype_size(out->dtype);
  uint32_t crc = 0;
  int rc;
  if (p->encoding == LZ_LOAD_DEFLATE) {
    rc = inflate_into(p->file, p, out->buf->data, n, &crc);
  } else {
    rc = lz__file_read(p->file, p->offset, out->buf->data, n, "lz_load");
    if (rc == 0 && p->check_crc) { /* the member's bytes before the data count too */
      unsigned char *head = p->skip ? malloc((size_t)p->skip) : NULL;
      if (p->skip && !head) rc = lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_load", "out of memory");
      else if (p->skip && p->offset < p->skip)
        rc = lz__error(LZ_ERROR_INTERNAL, "lz_load", "bad member offset");
      else if (p->skip) rc = lz__file_read(p->file, p->offset - p->skip, head, (size_t)p->skip, "lz_load");
      if (rc == 0) crc = crc_update(crc_update(0, head, (size_t)p->skip), out->buf->data, n);
      free(head);
    }
  }
  if (rc != 0) return -1;
  if (p->check_crc && crc != p->crc)
    return lz__error(LZ_ERROR_IO, "lz_load", "'%s': member '%s' is corrupt: its CRC-32 is %08x, "
                     "the archive says %08x", p->file->path, p->member ? p->member : "?", crc, p->crc);
  if (p->byteswap) {
    if (out->dtype == LZ_COMPLEX64) byteswap(out->buf->data, out->size * 2, 4);
    else byteswap(out->buf->data, out->size, lz_dtype_size(out->dtype));
  }
  if (p->fortran && out->ndim > 1) { /* column-major: the same bytes, reversed strides */
    int64_t s = 1;
    for (int d = 0; d < out->ndim; d++) out->strides[d] = s, s *= out->shape[d] ? out->shape[d] : 1;
    out->flags &= (uint16_t)~LZ_AF_CONTIGUOUS;
    if (lz__is_contiguous(out)) out->flags |= LZ_AF_CONTIGUOUS;
  }
  if (out->dtype == LZ_BOOL) { /* only 0/1 are valid bools */
    unsigned char *b = out->buf->data;
    for (size_t i = 0; i < n; i++) b[i] = b[i] != 0;
  }
  return 0;
}

static void load_params_free(void *params) {
  lz_load_params *p = params;
  lz__file_release(p->file);
  free(p->member);
}

const lz_op_def lz_opdef_load = {
    .name = "load",
    .flags = LZ_OPF_NO_CSE,
    .params_size = sizeof(lz_load_params),
    .cpu = load_cpu,
    .params_free = load_params_free,
};

lz_array *lz__load_array(const lz_load_params *p, lz_dtype dtype, const int *shape, int ndim,
                         const char *op) {
  lz_load_params q = *p;
  q.member = NULL;
  if (p->member && !(q.member = strdup(p->member))) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
    return NULL;
  }
  atomic_fetch_add(&p->file->refs, 1);
  lz_array *a = lz__make(LZ_OP_LOAD, &q, NULL, 0, dtype, shape, ndim);
  if (!a) lz__file_release(p->file), free(q.member);
  return a;
}
