/* Shared machinery of the file formats: an open file shared by the arrays loaded from it, the
 * lazy LOAD op that reads (and inflates) bytes at eval, and little-endian helpers. */
#ifndef LZ_IO_H
#define LZ_IO_H

#include "../core/internal.h"

typedef struct lz_file {
  atomic_long refs;
  int fd;
  uint64_t size;
  char path[];
} lz_file;

/* Opens path for reading; NULL with an "[op] cannot open 'path': reason" error. */
LZ_HIDDEN lz_file *lz__file_open(const char *path, const char *op);
LZ_HIDDEN void lz__file_release(lz_file *f);
/* Reads exactly n bytes at offset; -1 with an error naming the file if short or failing. */
LZ_HIDDEN int lz__file_read(lz_file *f, uint64_t offset, void *dst, size_t n, const char *op);

enum lz_load_encoding { LZ_LOAD_RAW, LZ_LOAD_DEFLATE };

/* Where a lazily loaded array's bytes are. */
typedef struct lz_load_params {
  lz_file *file;        /* retained by the node */
  uint64_t offset;      /* of the stored bytes */
  uint64_t stored_size; /* bytes in the file (compressed size for deflate) */
  uint64_t skip;        /* for deflate: bytes of the inflated stream before the data */
  int encoding;         /* lz_load_encoding */
  bool byteswap;        /* big-endian data */
  bool fortran;         /* column-major data */
  /* A zip member's CRC-32, checked over all its bytes when it is read (check_crc): for raw
   * data, the `skip` bytes before `offset` are read too. `member` (owned by the node) names
   * the member in the error. */
  bool check_crc;
  uint32_t crc;
  char *member;
} lz_load_params;

/* A lazy array of (dtype, shape) whose bytes are described by p (the file is retained, the
 * member name copied). */
LZ_HIDDEN lz_array *lz__load_array(const lz_load_params *p, lz_dtype dtype, const int *shape,
                                   int ndim, const char *op);

static inline uint16_t lz__rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t lz__rd32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t lz__rd64(const unsigned char *p) {
  return (uint64_t)lz__rd32(p) | (uint64_t)lz__rd32(p + 4) << 32;
}
static inline void lz__wr16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8); }
static inline void lz__wr32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline void lz__wr64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* .npy headers, shared by npy.c and npz.c. */
typedef struct lz_npy_header {
  lz_dtype dtype;
  int ndim;
  int shape[LZ_MAX_NDIM];
  bool fortran, byteswap;
  size_t header_len; /* bytes before the data */
} lz_npy_header;

/* Parses a .npy header from buf (n bytes, at least the whole header). */
LZ_HIDDEN int lz__npy_parse_header(const unsigned char *buf, size_t n, lz_npy_header *h,
                                   const char *path, const char *op);
/* Builds a version 1.0 header for `a` into buf (capacity >= 256 + 24 * ndim); returns length. */
LZ_HIDDEN size_t lz__npy_build_header(const lz_array *a, char *buf, size_t cap);
/* NumPy type string ("<f4") of a dtype, or NULL (bfloat16). */
LZ_HIDDEN const char *lz__npy_descr(lz_dtype d);

/* lz_load_gguf with typed metadata (see lz_load_with_metadata). */
LZ_HIDDEN lz_dict *lz__load_gguf_typed(const char *path, lz_dict **metadata);

/* ---- saving (write.c) ----
 * Every saver evaluates its arrays first, then writes a temporary file beside the target and
 * renames it over the target only once it is complete and synced: a failed save leaves the old
 * file as it was (it may be the very file the arrays are lazily loaded from) and no temporary
 * file behind. The temporary, `<path>.tmp.<pid>.<k>`, is locked (flock) while its writer has it
 * open; a process killed mid-save leaves it behind, and the next successful save to the same
 * path removes every such temporary whose lock is free and whose pid is not a live process. */

/* Creates the temporary file for a save to `path` (same directory, the target's permissions if
 * it exists); *tmp receives its malloc'd name. NULL with an "[op] cannot create" error. */
LZ_HIDDEN FILE *lz__save_begin(const char *path, char **tmp, const char *op);
/* Ends a save begun with lz__save_begin. With rc == 0, flushes, syncs and closes the file and
 * renames it over `path`; otherwise, or if any of that fails, closes and removes it. Frees
 * tmp. Returns 0, or -1 (with an error naming `path` if this step failed). */
LZ_HIDDEN int lz__save_end(FILE *fp, char *tmp, const char *path, int rc, const char *op);
/* Writes n bytes to a FILE with an error on failure. */
LZ_HIDDEN int lz__write_all(FILE *fp, const void *p, size_t n, const char *path, const char *op);

#endif /* LZ_IO_H */
