/* Exporting and importing functions: a traced graph as a file, run later without the code that
 * made it (MLX's export_function / import_function / exporter).
 *
 * lz_export_function traces a closure on example inputs exactly as lz_compile does (placeholder
 * inputs, the recorded graph simplified: common subexpressions merged, no-ops removed, scalar
 * constants folded; no fusion) and writes one file holding the op list with each op's
 * parameters, the captured constants (the weights, stored once, in their own dtype), and the
 * input and output signatures. lz_import_function reads it back as a closure that replays the
 * graph on new inputs: its results equal the original function's bit for bit. Example:
 *
 *   lz_closure *f = lz_closure_new(forward, model, NULL);
 *   if (lz_export_function("model.lzfn", f, &x, 1, NULL) != 0) return -1;
 *   ...
 *   lz_closure *g = lz_import_function("model.lzfn");   // nothing is read but the graph
 *   lz_array *y;
 *   if (lz_closure_call(g, &x, 1, &y) < 0) return -1;   // weights are read when y is evaluated
 *   lz_closure_free(g);
 *
 * The same rules as for lz_compile hold for the traced function: it must not read the data of
 * anything computed from its inputs; arrays it uses that are not inputs are saved as constants.
 * Ops whose parameters hold a closure or an open file (custom functions whose forward pass is a
 * closure, lazily loaded arrays that depend on an input) cannot be saved: the export fails with
 * "[lz_export_function] op 'name' ...". The format is described in docs/export.md; a file of a
 * newer format version is refused with an error naming both versions. The importer treats the
 * file as untrusted input: every count, size, op, dtype, shape and graph edge is checked. */
#ifndef LAZULI_EXPORT_H
#define LAZULI_EXPORT_H

#include "core.h"
#include "transforms.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The file format version this library writes (and the newest it reads; 1 and 2 are read). */
#define LZ_EXPORT_FORMAT_VERSION 2

/* Options of an export; a NULL options pointer means every field zero. Zero-initialise it
 * (`lz_export_options o = {0};`) so that fields added later keep their defaults. */
typedef struct lz_export_options {
  /* One trace serves every input shape with the same ndims and the same size-1 dims (as
   * LZ_COMPILE_SHAPELESS): the importer infers each op's shapes again. The export fails, naming
   * the op, when an op of the function cannot infer its shape (e.g. reshape, matmul). */
  bool shapeless;
  unsigned reserved[7];
} lz_export_options;

/* Traces f on inputs[0..n) and writes the function to `path` (replaced atomically: a failed
 * export leaves an existing file as it was). The inputs are borrowed and not evaluated; the
 * constants f captures are evaluated and written. Returns 0, or -1 with an error. */
LZ_API int lz_export_function(const char *path, lz_closure *f, lz_array *const *inputs, int n,
                              const lz_export_options *options);

/* lz_export_function with keyword arguments (MLX's **kwargs): f is called with args[0..nargs)
 * then kwargs[0..nkw), and the file records names[0..nkw) (distinct, 1 to 255 bytes each) as
 * the names of those last inputs, so that lz_imported_call_kw can match them by name. */
LZ_API int lz_export_function_kw(const char *path, lz_closure *f, lz_array *const *args, int nargs,
                                 const char *const *names, lz_array *const *kwargs, int nkw,
                                 const lz_export_options *options);

/* Several traces of one function (different input shapes or dtypes) in one file, MLX's
 * exporter: constants shared by the traces are stored once. */
typedef struct lz_exporter lz_exporter;
/* An exporter of f to `path` (it holds a reference to f). NULL with an error. */
LZ_API lz_exporter *lz_exporter_new(const char *path, lz_closure *f,
                                    const lz_export_options *options);
/* Traces f on inputs[0..n) and adds the trace. Returns 0, or -1 with an error (the exporter
 * stays usable; traces added before are kept). */
LZ_API int lz_exporter_add(lz_exporter *e, lz_array *const *inputs, int n);
/* lz_exporter_add with keyword arguments, as lz_export_function_kw. */
LZ_API int lz_exporter_add_kw(lz_exporter *e, lz_array *const *args, int nargs,
                              const char *const *names, lz_array *const *kwargs, int nkw);
/* Writes the file (at least one trace must have been added) and frees the exporter, whether
 * writing succeeded or not; NULL is a no-op returning -1 without an error. Returns 0 or -1. */
LZ_API int lz_exporter_close(lz_exporter *e);

/* A closure replaying the function stored in `path`: called with inputs whose dtypes and shapes
 * match one of its traces (for a shapeless trace: same ndims and size-1 dims), it returns the
 * traced function's outputs. Constants are loaded lazily from the file (which must stay in
 * place) when the outputs are first evaluated, and kept for later calls (so evaluate the first
 * call's outputs before calling it from several threads at once). The closure composes with
 * lz_grad, lz_vmap, lz_compile like any closure. Release it with lz_closure_free. NULL with
 * an LZ_ERROR_IO error "[lz_import_function] 'path': ..." for a malformed file. */
LZ_API lz_closure *lz_import_function(const char *path);

/* Calls a closure lz_import_function made with positional and keyword arguments, as MLX's
 * imported functions: the trace taken has nargs positional inputs and keyword inputs of exactly
 * the names given (in any order), with matching dtypes and shapes. (lz_closure_call on an
 * imported closure passes every input positionally: keyword inputs last, in the order they
 * were exported.) Writes the outputs (new references) to out (LZ_MAX_OUTPUTS entries) and
 * returns their number, or -1 with an error: LZ_ERROR_SHAPE naming the arguments when no trace
 * matches, LZ_ERROR_INVALID_ARGUMENT when g is not an imported function. */
LZ_API int lz_imported_call_kw(lz_closure *g, lz_array *const *args, int nargs,
                               const char *const *names, lz_array *const *kwargs, int nkw,
                               lz_array **out);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_EXPORT_H */
