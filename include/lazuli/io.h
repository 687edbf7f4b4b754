/* Array and model files: .npy, .npz, .safetensors (and .gguf).
 *
 * Loading is lazy: a loaded array is a graph node that reads its bytes from the file only when
 * evaluated (the file stays open until then), so loading a model's weights over a lazily
 * initialised model never materialises the initial values. Saving evaluates first. Files are
 * untrusted input: a malformed or truncated file is an error naming the file and the problem. */
#ifndef LAZULI_IO_H
#define LAZULI_IO_H

#include "core.h"
#include "dict.h"

#ifdef __cplusplus
extern "C" {
#endif

/* NumPy .npy: one array. bool, (u)int8-64, float16/32/64 and complex64, either byte order,
 * C or Fortran order. */
LZ_API lz_array *lz_load_npy(const char *path);
/* Writes `a` (evaluating it) as a version 1.0 .npy file. bfloat16 is not representable in
 * NumPy and is an error. Returns 0 or -1. */
LZ_API int lz_save_npy(const char *path, lz_array *a);

/* NumPy .npz: a zip of .npy files, stored or deflate-compressed (zip64 included). Keys are the
 * member names without ".npy". The caller frees the dict. */
LZ_API lz_dict *lz_load_npz(const char *path);
/* Writes every array of `arrays` (deflate-compressed if `compressed`). Returns 0 or -1. */
LZ_API int lz_save_npz(const char *path, const lz_dict *arrays, bool compressed);

/* safetensors: named arrays of every Lazuli dtype plus string metadata. If `metadata` is not
 * NULL it receives a new dict of the file's "__metadata__" strings (free it too). */
LZ_API lz_dict *lz_load_safetensors(const char *path, lz_dict **metadata);
/* Writes every array of `arrays` with optional string `metadata` (may be NULL). */
LZ_API int lz_save_safetensors(const char *path, const lz_dict *arrays, const lz_dict *metadata);

/* Loads a .npz or .safetensors file (chosen by extension) as a dict; a .npy file gives a dict
 * with one entry, "arr_0". */
LZ_API lz_dict *lz_load(const char *path);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_IO_H */
