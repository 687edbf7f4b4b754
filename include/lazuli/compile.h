/* Compile: trace a function once, simplify and fuse its graph, replay it fast.
 *
 * lz_compile(f) returns a closure with f's signature. The first call for a given set of input
 * shapes and dtypes calls f on placeholder inputs (arrays with the right shape and dtype whose
 * data must not be read) and records its graph as a tape; the tape is simplified (common
 * subexpressions merged, scalar constants folded, no-ops such as x * 1 removed) and chains of
 * elementwise ops, with the reduction they feed, become single fused kernels (a matrix product
 * feeding such a chain runs it as its epilogue, block by block). Later calls with
 * the same signature replay the tape on the new inputs without calling f: they record the same,
 * smaller graph, lazily, as any op would. Example:
 *
 *   static int gelu(void *ctx, lz_array *const *in, int n, lz_array **out) {
 *     lz_array *x = in[0];
 *     out[0] = lz_multiply(lz_multiply(x, lz_float(0.5)),
 *                          lz_add(lz_float(1), lz_erf(lz_multiply(x, lz_float(0.7071067811865476)))));
 *     return out[0] ? 1 : -1;
 *   }
 *   lz_closure *f = lz_closure_new(gelu, NULL, NULL), *fast = lz_compile(f, 0);
 *   lz_array *y;
 *   lz_closure_call(fast, &x, 1, &y);   // traced on the first call, replayed after
 *   lz_closure_free(fast), lz_closure_free(f);
 *
 * Rules for a compiled function: it must not read array data (lz_eval, lz_array_data, lz_item_*
 * on anything computed from its inputs: "[lz_compile] the traced function read the data of
 * input i"); arrays it uses that are not inputs (weights, constants) are captured by reference
 * when it is traced, so later changes to them are not seen unless they are declared as state
 * (lz_compile_with_state), as in MLX. Random ops that draw from a key the function does not take
 * as an input or state draw the same numbers on every call.
 *
 * Transforms: lz_grad (vjp, jvp) of a compiled function differentiates the original function
 * (the forward pass still runs fused); lz_vmap of a compiled function batches the original
 * function, as MLX traces it under vmap; lz_compile of lz_grad(f) or lz_vmap(f) compiles the
 * whole transformed graph, and they nest in any order. Nothing here is thread-unsafe: the cache
 * is locked, tapes are immutable. */
#ifndef LAZULI_COMPILE_H
#define LAZULI_COMPILE_H

#include "core.h"
#include "dict.h"
#include "transforms.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Flags of lz_compile. */
enum {
  /* One trace serves every input shape with the same ndims and the same size-1 dims, when each
   * op of the tape can infer its shape again (elementwise ops, casts, where, reductions,
   * softmax, fused kernels); otherwise the function is traced once per shape. A call with an
   * input dtype other than the traced one is an error in this mode. */
  LZ_COMPILE_SHAPELESS = 1u << 0,
  /* Simplify but do not fuse (for comparisons and debugging). */
  LZ_COMPILE_NO_FUSE = 1u << 1,
  /* Fuse elementwise work, but keep every matrix product a plain node instead of running its
   * elementwise consumers as the product's epilogue (for comparisons and debugging). */
  LZ_COMPILE_NO_EPILOGUE = 1u << 2,
};

/* A closure computing f through a compiled tape. The new closure holds its own reference to f;
 * release it with lz_closure_free. Returns NULL with an error for a NULL f. */
LZ_API lz_closure *lz_compile(lz_closure *f, unsigned flags);

/* lz_compile with captured state, MLX's compile(inputs=, outputs=): at each call the arrays in
 * `state_in` (looked up by the keys it had when f was traced) are extra inputs of the tape, and
 * after each call every key f set in `state_out` holds the new value (f reads its state from the
 * dict with lz_dict_get and writes it with lz_dict_set; the two dicts may be the same). Use it
 * for model parameters, optimizer state and random keys. The closure does not own the dicts:
 * they must outlive it. Either may be NULL. */
LZ_API lz_closure *lz_compile_with_state(lz_closure *f, unsigned flags, lz_dict *state_in,
                                         lz_dict *state_out);

/* Turns compilation off for every compiled closure (they call f directly) or back on. */
LZ_API void lz_disable_compile(void);
LZ_API void lz_enable_compile(void);

/* Sets how many traced tapes the compile cache keeps (least recently used ones are dropped
 * first); returns the previous size. 0 keeps none (every call traces). The default is 64. */
LZ_API size_t lz_set_compile_cache_size(size_t entries);

/* Counters of the compile cache since start (or the last lz_clear_compile_cache). */
typedef struct lz_compile_stats {
  uint64_t hits;      /* calls that replayed a cached tape */
  uint64_t misses;    /* calls that traced */
  uint64_t evictions; /* tapes dropped to stay within the size */
  size_t entries;     /* tapes held now */
  size_t capacity;    /* the size set by lz_set_compile_cache_size */
} lz_compile_stats;
LZ_API lz_compile_stats lz_get_compile_stats(void);
/* Drops every cached tape and resets the counters. */
LZ_API void lz_clear_compile_cache(void);

/* Prints every traced tape (after simplification and fusion) to `f`, or stops when f is NULL.
 * The environment variable LZ_COMPILE_DEBUG=1 starts with printing to stderr. */
LZ_API void lz_set_compile_debug(FILE *f);

/* Writes the pending graph below arrays[0..n) as Graphviz DOT to `f` (evaluated arrays appear
 * as leaves; a fused node lists the ops it runs). Nothing is evaluated. Returns 0 or -1. */
LZ_API int lz_export_to_dot(FILE *f, lz_array *const *arrays, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_COMPILE_H */
