/* Array and model files: .npy, .npz, .safetensors (and .gguf).
 *
 * Loading is lazy: a loaded array is a graph node that reads its bytes from the file only when
 * evaluated (the file stays open until then), so loading a model's weights over a lazily
 * initialised model never materialises the initial values. Files are untrusted input: a
 * malformed or truncated file is an error naming the file and the problem.
 *
 * Saving (every format, and lz_module_save_weights, lz_optim_save_state) evaluates every array
 * first, then writes a temporary file in the target's directory, syncs it and renames it over
 * the target. So arrays lazily loaded from a file may be saved back over that file, and a failed
 * save (an error, out of memory, a bad entry) leaves the old file unchanged and no temporary
 * file behind. An existing target's permissions are kept. */
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
 * NULL it receives a new dict of the file's "__metadata__" strings (free it too). Names and
 * strings may use any JSON escape (\uXXXX and surrogate pairs become UTF-8); a metadata value
 * that is not a string is an error. As in MLX, F8_E4M3 and F8_E8M0 tensors load as uint8 bytes:
 * lz_from_fp8 decodes E4M3; E8M0 are the power-of-two scales of the mx formats. An empty tensor
 * may sit at the offset where another starts. */
LZ_API lz_dict *lz_load_safetensors(const char *path, lz_dict **metadata);
/* Writes every array of `arrays` with optional string `metadata` (may be NULL; an entry that is
 * not a string is an error, as in MLX). */
LZ_API int lz_save_safetensors(const char *path, const lz_dict *arrays, const lz_dict *metadata);

/* GGUF (llama.cpp's format, versions 2 and 3): named tensors plus typed metadata. f32, f16,
 * bf16, f64 and i8-i64 tensors load as those dtypes. Quantized q4_0, q4_1, q5_0, q5_1 and q8_0
 * tensors map exactly to lz_quantize's affine layout with group size 32 (see quantize.h): a
 * tensor NAME gives NAME (uint32 codes, 4, 5 or 8 bits), PREFIX.scales and PREFIX.biases
 * (float16), where PREFIX is NAME without a ".weight" suffix; q4_0's w = d (q - 8) becomes
 * scale d, bias -8 d (q5_0: -16 d; q8_0's int8 codes shift by 128 with bias -128 d). Other
 * types (k-quants, i-quants) are an error. Shapes are row-major: GGUF's ne[] reversed. If
 * `metadata` is not NULL it receives a new dict of strings: string values as they are, numbers
 * in decimal (floats with 9 or 17 significant digits), bools as "true"/"false", arrays as
 * JSON-style lists: [1, 2] or ["a", "b"] (strings quoted and escaped). */
LZ_API lz_dict *lz_load_gguf(const char *path, lz_dict **metadata);
/* Writes every array of `arrays` (float32, float16, bfloat16, float64, int8-int64; a 0-d array
 * is stored as shape (1)) as GGUF version 3 with 32-byte alignment, and every entry of
 * `metadata` (may be NULL) with its type: a string as a string, a string list
 * (lz_dict_set_strings) as an array of strings, a 0-d array of bool, (u)int8-64, float32 or
 * float64 as that scalar type (uint32, float32, bool...), a 1-d one as an array of that type;
 * anything else is an error. lz_load_with_metadata reads them back as they were written, so a
 * llama.cpp file's metadata round-trips. Returns 0 or -1. */
LZ_API int lz_save_gguf(const char *path, const lz_dict *arrays, const lz_dict *metadata);

/* Loads a .npz, .safetensors or .gguf file (chosen by extension) as a dict; a .npy file gives a
 * dict with one entry, "arr_0". */
LZ_API lz_dict *lz_load(const char *path);
/* lz_load plus the file's metadata: *metadata (required) receives a new dict (the caller frees
 * it; empty for .npy and .npz). safetensors: its "__metadata__" strings. GGUF: every value with
 * its type: strings as strings, numbers and bools as 0-d arrays of their dtype (uint32, float32,
 * bool...), arrays of numbers as 1-d arrays, arrays of strings as string lists
 * (lz_dict_get_strings); nested arrays as the text lz_load_gguf gives them. On failure returns
 * NULL and sets *metadata to NULL. */
LZ_API lz_dict *lz_load_with_metadata(const char *path, lz_dict **metadata);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_IO_H */
