/* Lazuli core: arrays, dtypes, errors, scopes, evaluation and memory statistics.
 *
 * Ownership, in one paragraph: every function that returns an lz_array* returns a NEW reference
 * that the caller owns. Inside a scope (lz_scope_begin/lz_scope_end) the scope owns it instead and
 * releases it at lz_scope_end unless the caller lz_keep()s it. Array arguments are BORROWED: no
 * function consumes its inputs. lz_free(NULL) is a no-op.
 *
 * Errors, in one paragraph: a function that fails returns NULL (or -1, or 0 for lz_item_*) and
 * stores a message in a thread-local slot read by lz_last_error(). A NULL argument to an op is
 * passed through: the op returns NULL and keeps the first error's message, so a nested expression
 * can be checked once at the end. The library never exits or aborts on a user's mistake. */
#ifndef LAZULI_CORE_H
#define LAZULI_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define LZ_API __declspec(dllexport)
#else
#define LZ_API __attribute__((visibility("default")))
#endif

#define LZ_MAX_NDIM 16

/* An opaque, reference-counted, lazily computed n-dimensional array. */
typedef struct lz_array lz_array;

/* Element types. The order is part of the ABI. */
typedef enum lz_dtype {
  LZ_BOOL,
  LZ_UINT8,
  LZ_UINT16,
  LZ_UINT32,
  LZ_UINT64,
  LZ_INT8,
  LZ_INT16,
  LZ_INT32,
  LZ_INT64,
  LZ_FLOAT16,
  LZ_BFLOAT16,
  LZ_FLOAT32,
  LZ_FLOAT64,
  LZ_COMPLEX64,
  LZ_DTYPE_COUNT
} lz_dtype;

/* Error codes reported by lz_last_error_code(). */
typedef enum lz_error {
  LZ_ERROR_NONE,
  LZ_ERROR_INVALID_ARGUMENT, /* bad axis, bad parameter, NULL handle */
  LZ_ERROR_SHAPE,            /* shapes that do not fit together */
  LZ_ERROR_DTYPE,            /* a dtype the op does not support */
  LZ_ERROR_OUT_OF_MEMORY,    /* allocation failed or the memory limit was hit */
  LZ_ERROR_IO,               /* a file could not be read or written, or is malformed */
  LZ_ERROR_NOT_IMPLEMENTED,  /* e.g. an op without a gradient rule */
  LZ_ERROR_INTERNAL,         /* a broken invariant inside Lazuli: please report it */
  LZ_ERROR_COUNT
} lz_error;

/* ---- dtypes ---------------------------------------------------------------------------- */

/* Size in bytes of one element of `dtype` (0 for an invalid dtype). */
LZ_API size_t lz_dtype_size(lz_dtype dtype);
/* MLX's name of `dtype` ("float32"), or "invalid". The string is static. */
LZ_API const char *lz_dtype_name(lz_dtype dtype);
/* The dtype two operands promote to, following MLX's (JAX's) promotion lattice. */
LZ_API lz_dtype lz_promote_types(lz_dtype a, lz_dtype b);
LZ_API bool lz_dtype_is_float(lz_dtype dtype);   /* float16, bfloat16, float32, float64 */
LZ_API bool lz_dtype_is_integer(lz_dtype dtype); /* signed or unsigned integers, not bool */
LZ_API bool lz_dtype_is_signed(lz_dtype dtype);  /* signed integers, floats and complex */

/* ---- errors ---------------------------------------------------------------------------- */

/* The first error message recorded on this thread since the last lz_clear_error(), or "" when
 * there is none. The string belongs to the library and stays valid until the next error or
 * lz_clear_error() on this thread. */
LZ_API const char *lz_last_error(void);
/* The code of that error, LZ_ERROR_NONE when there is none. */
LZ_API lz_error lz_last_error_code(void);
/* Forgets this thread's pending error. */
LZ_API void lz_clear_error(void);
/* Records an error on this thread the way Lazuli's own functions do, for code built on the
 * public API (user closures, layers): the message becomes "[who] " followed by the printf-style
 * text, unless an error is already pending (the first one is kept). Always returns -1. */
LZ_API int lz_set_error(lz_error code, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Number of errors reported on this thread so far, including those not recorded because an
 * earlier one was pending. Code built on the API reads it before and after some work: a larger
 * value means that work failed, whatever error was already pending before it.
 *
 * The rule every Lazuli function follows: it decides that it failed from its own results (a
 * NULL from a call it made, a -1, a count that grew), never from the pending error slot, so an
 * error the caller has handled without lz_clear_error() never makes a later valid call fail.
 * A NULL required input is an error (passed through silently when one is pending); a NULL
 * optional input (a key, a mask, a clip bound) means "absent". */
LZ_API uint64_t lz_error_count(void);

/* ---- reference counting and scopes ----------------------------------------------------- */

/* Releases one reference. NULL is a no-op. Freeing never recurses, however long the graph. */
LZ_API void lz_free(lz_array *a);
/* Returns a new reference to `a` (the same handle), owned like any op result. NULL -> NULL. */
LZ_API lz_array *lz_retain(lz_array *a);

/* Opens a scope on this thread: arrays returned from now on belong to it. Scopes nest. */
LZ_API void lz_scope_begin(void);
/* Closes the innermost scope: releases every array created in it that was not kept. Kept arrays
 * move to the enclosing scope, or to the caller when this was the outermost scope. */
LZ_API void lz_scope_end(void);
/* Marks `a` to survive the current scope's end; returns `a` for chaining. Outside any scope it
 * does nothing. A NULL `a` passes through. */
LZ_API lz_array *lz_keep(lz_array *a);
/* Number of open scopes on this thread. */
LZ_API int lz_scope_depth(void);
/* Hides every open scope of this thread until lz_scope_resume: meanwhile arrays are returned to
 * the caller as outside any scope, lz_scope_depth() is 0, and scopes opened then nest on their
 * own. For code that hands arrays to a runtime with its own ownership (a language binding
 * calling user code from inside a closure). Pairs nest. Returns 0, or -1 out of memory (then
 * nothing is hidden and lz_scope_resume must not be called). */
LZ_API int lz_scope_suspend(void);
/* Closes the scopes opened since the matching lz_scope_suspend and shows the hidden ones again. */
LZ_API void lz_scope_resume(void);
/* Releases a reference that no scope owns (one returned while the scopes were suspended or
 * outside any scope), leaving alone any scope's entry for the same array; lz_free would take
 * that entry instead. For bindings that mix their own references with scoped ones. */
LZ_API void lz_release(lz_array *a);

/* ---- creation -------------------------------------------------------------------------- */

/* A new array holding a copy of `data` (row-major, `ndim` dims of `shape`, of `dtype`). */
LZ_API lz_array *lz_array_from_data(const void *data, const int *shape, int ndim, lz_dtype dtype);
/* A new array that uses `data` in place (no copy). `release(data, ctx)` is called once when the
 * library no longer needs the memory (it may be NULL). The caller must not change the data while
 * any array may read it. On failure `release` is NOT called and the caller keeps the memory. */
LZ_API lz_array *lz_array_wrap(void *data, const int *shape, int ndim, lz_dtype dtype,
                               void (*release)(void *data, void *ctx), void *ctx);
/* A 0-d array of `dtype` holding `value` converted to it. */
LZ_API lz_array *lz_scalar(double value, lz_dtype dtype);
/* Weakly typed scalars, like Python numbers in MLX: `x * lz_float(2)` keeps x's float dtype,
 * `int_array + lz_float(0.5)` gives float32, `x + lz_int(1)` keeps x's dtype. Alone they are
 * float32, int32 (int64 when the value does not fit int32, as MLX) and bool.
 * They keep their exact value and convert straight to the other operand's dtype when used:
 * `float64 + lz_float(0.1)` adds the double 0.1 (any other dtype gets the value rounded to
 * float32 first, as MLX does with a Python float), `int64 + lz_int(1LL << 40)` is exact.
 * A weak int that does not fit the other operand's integer dtype (int8/16/32, uint8/16/32) is
 * an error instead of wrapping: `uint8 + lz_int(300)` fails with LZ_ERROR_INVALID_ARGUMENT and
 * "[lz_add] Converting 300 to uint8 would result in overflow" (MLX's Python layer raises
 * ValueError, from std::invalid_argument, with this text), checked against the other operand's
 * dtype even where the op computes in float (uint8 / lz_int(-1) fails as in MLX). int64 and
 * uint64 take any int64 value (uint64 wraps a negative one), and float dtypes take any value
 * (float16 + lz_float(1e6) is inf, float16 + lz_int(100000) too, no error). A bool operand
 * takes the weak int's dtype: int32, or int64 beyond int32 (where MLX wraps the value into
 * int32). lz_astype converts explicitly and wraps.
 * Like every result they are owned by the caller (or the scope): outside a scope,
 * `lz_multiply(x, lz_float(2))` leaks the scalar. The rule: outside a scope, use the `_scalar`
 * forms of elementwise.h (`lz_multiply_scalar(x, 2)`, nothing to free), or keep the scalar in a
 * variable and free it; inside a scope, write scalars inline. */
LZ_API lz_array *lz_float(double value);
LZ_API lz_array *lz_int(int64_t value);
LZ_API lz_array *lz_bool(bool value);

/* ---- properties (never evaluate) -------------------------------------------------------- */

LZ_API int lz_array_ndim(const lz_array *a);
/* Pointer to the `ndim` dims; valid while `a` lives. */
LZ_API const int *lz_array_shape(const lz_array *a);
/* Dimension `axis` (negative counts from the end); -1 on a bad axis. */
LZ_API int lz_array_dim(const lz_array *a, int axis);
LZ_API size_t lz_array_size(const lz_array *a);   /* number of elements */
LZ_API size_t lz_array_nbytes(const lz_array *a); /* size * itemsize */
LZ_API lz_dtype lz_array_dtype(const lz_array *a);
/* True once the array's data has been computed. */
LZ_API bool lz_array_is_evaluated(const lz_array *a);
/* Unique id of the array's current graph node or buffer, for debugging. */
LZ_API uint64_t lz_array_id(const lz_array *a);

/* ---- evaluation ------------------------------------------------------------------------ */

/* Computes `a` and everything it needs that is not computed yet, and nothing else.
 * Returns 0, or -1 with lz_last_error() set. Evaluating an evaluated array does nothing. */
LZ_API int lz_eval(lz_array *a);
/* Same for `n` arrays at once (one pass over their shared graph). NULL entries are an error. */
LZ_API int lz_eval_many(lz_array *const *arrays, size_t n);
/* Starts computing `a` on a background thread and returns at once (0, or -1 with an error for
 * a NULL array or no memory). A later lz_eval, data access or lz_async_eval on this thread waits
 * for it first; an error of the background evaluation is reported by that call. While it runs,
 * new ops may be built on `a` and arrays may be freed, but `a`'s graph must not be evaluated or
 * transformed from another thread. */
LZ_API int lz_async_eval(lz_array *a);
/* Same for `n` arrays at once. */
LZ_API int lz_async_eval_many(lz_array *const *arrays, size_t n);

/* Pointer to the array's data in row-major (C) order, evaluating first; NULL on error. If the
 * computed array is a strided view (a transpose, a slice), the pointer is to a row-major copy
 * made on the first call and kept with the array; the array itself is not changed. Valid while
 * `a` lives. Like every read below, safe on an evaluated array shared between threads. */
LZ_API const void *lz_array_data(lz_array *a);
/* Copies the evaluated data, converted to `dtype`, into `dst` (capacity `dst_bytes`).
 * Returns 0, or -1 with an error (e.g. too small a buffer). */
LZ_API int lz_array_read(lz_array *a, lz_dtype dtype, void *dst, size_t dst_bytes);

/* The value of a one-element array, evaluating first, converted to `dtype` (as lz_astype
 * converts) and written to `out` (room for one element of `dtype`). Returns 0, or -1 with an
 * error (not one element, a failed evaluation), leaving `out` untouched: unlike the typed forms
 * below it tells an error from a 0. MLX's item(). */
LZ_API int lz_item(lz_array *a, lz_dtype dtype, void *out);
/* Value of a one-element array, evaluating first (implicit evaluation). On error these return 0
 * (false) and set lz_last_error(): use lz_item where 0 is a possible value. */
LZ_API double lz_item_f64(lz_array *a);
LZ_API float lz_item_f32(lz_array *a);
LZ_API int64_t lz_item_i64(lz_array *a);
LZ_API bool lz_item_bool(lz_array *a);

/* Prints `a` (evaluating first) exactly as MLX's Python repr does, byte for byte, then a
 * newline. The rule (MLX's mlx/utils.cpp print_array, with Python's capitalised bools):
 *  - "array(", then the value of a 0-d array or the nested lists, then ", dtype=<name>)";
 *    every dtype has the suffix: array([1, 2], dtype=int32), array([1.5, 2], dtype=float32),
 *    array(True, dtype=bool).
 *  - Each axis longer than 6 shows its first 3 items, "...", and its last 3, whatever the
 *    array's size: array([1, 1, 1, ..., 1, 1, 1], dtype=int32); a summarised outer axis puts
 *    "..." on its own line.
 *  - Items of the last axis are separated by ", ", sub-arrays by ",\n" and then 7 + axis
 *    spaces, so no blank line separates the blocks of a 3-d array; nothing wraps, however long
 *    the line.
 *  - An empty axis prints "[]": array([], dtype=float32), array([[],\n       []], ...) for
 *    shape (2, 0).
 *  - Numbers as C++'s default stream writes them: integers in full; floats with printf's %g
 *    (6 significant digits, decided per number: 0.1, 2, 1e-05, 1.23457e+06, inf, -inf, -0,
 *    and nan whatever the sign bit); float16/bfloat16 through float32 (float16 1.2 is
 *    1.2002); bools True/False; complex as the real part, "+" and the imaginary part (also
 *    for -0 and nan: 1+-0j) or "-" and its magnitude, then "j": 1-1j.
 * Returns 0 or -1. */
LZ_API int lz_array_print(lz_array *a, FILE *f);
/* The same text (without the newline) in a malloc'd string that the caller frees with free();
 * NULL on error. */
LZ_API char *lz_array_tostring(lz_array *a);

/* ---- memory and counters --------------------------------------------------------------- */

/* Bytes of array data currently allocated by Lazuli (excluding the buffer cache). */
LZ_API size_t lz_get_active_memory(void);
/* Highest active memory since start or the last lz_reset_peak_memory(). */
LZ_API size_t lz_get_peak_memory(void);
LZ_API void lz_reset_peak_memory(void);
/* Bytes held in the buffer cache for reuse. The kernels' per-shape caches (oneDNN primitives,
 * FFTW plans) are not counted: neither library reports what an entry holds. */
LZ_API size_t lz_get_cache_memory(void);
/* Sets the most bytes the cache may hold (returns the previous limit). 0 disables caching. */
LZ_API size_t lz_set_cache_limit(size_t bytes);
/* Frees every cached buffer and empties the kernels' per-shape caches (oneDNN convolution and
 * matmul primitives, oneDNN's own primitive cache, FFTW plans); the next op of a shape makes
 * them again. Safe while other threads run ops: an entry in use is freed once its op is done. */
LZ_API void lz_clear_cache(void);
/* Sets a limit on active memory; an allocation above it fails with LZ_ERROR_OUT_OF_MEMORY.
 * 0 means no limit. Returns the previous limit. */
LZ_API size_t lz_set_memory_limit(size_t bytes);
/* Number of CPU kernels run since start (view ops that share a buffer count too). */
LZ_API uint64_t lz_get_kernel_count(void);
/* Number of graph nodes created since start. */
LZ_API uint64_t lz_get_node_count(void);

/* ---- threads ---------------------------------------------------------------------------
 * Thread safety: building graphs from several threads at once is safe (reference counts are
 * atomic, the allocator is locked; scopes and errors are per thread), and so is evaluating
 * independent graphs on several threads at once, or sharing evaluated arrays between threads
 * to read or to build new ops on. Evaluating, or freeing the last handle of, one unevaluated
 * graph from two threads at once is not: hand arrays to another thread after lz_eval.
 * The rule that makes sharing safe: once an array is evaluated, nothing changes what other
 * threads see of it. Reading (lz_array_data, lz_array_read, lz_item_*, printing, the shape
 * queries) never rewrites an evaluated array's data, buffer or strides, views included; the one
 * thing a read may add, the row-major copy of a strided view, is published atomically once. */

/* Sets the number of threads kernels (and OpenBLAS) use; n <= 0 means one per core. Returns
 * the previous number. The default is the LZ_NUM_THREADS environment variable, or one per core. */
LZ_API int lz_set_num_threads(int n);
/* The number of threads kernels use. */
LZ_API int lz_get_num_threads(void);

/* Testing hook: the `n`-th data allocation from now fails (1 = the next one), as if memory ran
 * out; n <= 0 turns the hook off. Used to prove that out-of-memory is an error, not a crash. */
LZ_API void lz_set_alloc_failure(int64_t n);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_CORE_H */
