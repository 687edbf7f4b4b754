/* The exported-function file format shared by the writer (export.c) and the reader
 * (import.c); docs/export.md describes it. Everything is little-endian. */
#ifndef LZ_EXPORT_IMPL_H
#define LZ_EXPORT_IMPL_H

#include "compile/compile_impl.h"
#include "compile/import_check.h"
#include "cpu/gather.h" /* lz_index_params */
#include "lazuli.h"
#include "io/io.h"
#include "lazuli/export.h"

#include <stdlib.h>

#define EX_MAGIC "LZFUNC\r\n"
enum {
  EX_HEADER_SIZE = 48, /* magic, version, flags, library version, meta size, data offset */
  EX_ALIGN = 64,       /* constants start at multiples of this (from the data offset) */
  EX_TRACE_SHAPELESS = 1u << 0,
  EX_MAX_NAME = 255, /* bytes of a keyword name */
};

/* The keyword names of a trace's last n inputs (format version 2). */
typedef struct ex_names {
  int n;
  char **name;
} ex_names;

static inline void ex_names_free(ex_names *k) {
  for (int i = 0; i < k->n; i++) free(k->name[i]);
  free(k->name);
  k->n = 0, k->name = NULL;
}

/* Ops whose parameters hold a pointer to their public name (the indexing family's
 * lz_index_params): the file stores it as zero and the reader points it at a static name. */
static inline const char *ex_index_name(int op) {
  switch (op) {
  case LZ_OP_TAKE: return "lz_take";
  case LZ_OP_TAKE_ALONG_AXIS: return "lz_take_along_axis";
  case LZ_OP_GATHER: return "lz_gather";
  case LZ_OP_SLICE_DYNAMIC: return "lz_slice";
  case LZ_OP_MASK_SELECT: return "lz_mask_select";
  case LZ_OP_SCATTER: return "lz_scatter";
  case LZ_OP_SCATTER_AXIS: return "lz_at";
  case LZ_OP_PUT_ALONG_AXIS: return "lz_put_along_axis";
  case LZ_OP_SLICE_UPDATE: return "lz_slice_update";
  case LZ_OP_SLICE_UPDATE_DYNAMIC: return "lz_slice_update";
  default: return NULL;
  }
}

/* The name to restore in op's parameters, or NULL when they hold no name pointer (mask_select,
 * of the same family, has no parameters). */
static inline const char *ex_name_field(int op) {
  return lz__op(op)->params_size == sizeof(lz_index_params) ? ex_index_name(op) : NULL;
}

/* Whether an op can be stored and read back: its parameters are plain bytes (no closures,
 * files, groups or programs) and the importer has a check for it (import_check.h). */
static inline bool ex_op_storable(int op) {
  return op != LZ_OP_FUSED && op != LZ_OP_PLACEHOLDER && op != LZ_OP_LOAD &&
         !lz__op(op)->params_free && cz_check_of(op) != NULL;
}

/* For the fuzz target: the input signatures of trace i of a closure lz_import_function made
 * (at most cap inputs) and the most elements any value of the trace holds. Returns the number
 * of inputs, or -1 when there is no trace i. */
LZ_HIDDEN int lz__import_trace(const lz_closure *g, int i, lz_dtype *dts,
                               int (*shapes)[LZ_MAX_NDIM], int *ndims, int cap,
                               int64_t *max_elems);

#endif /* LZ_EXPORT_IMPL_H */
