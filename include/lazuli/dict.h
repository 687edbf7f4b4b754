/* lz_dict: an ordered map from names to arrays (and, for file metadata, to strings). Used for
 * model parameters ("layers.0.weight"), gradients, optimizer state and multi-array files. */
#ifndef LAZULI_DICT_H
#define LAZULI_DICT_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lz_dict lz_dict;

/* A new empty dict; the caller frees it with lz_dict_free. NULL on out of memory. */
LZ_API lz_dict *lz_dict_new(void);
/* Releases the dict and its references to its arrays. NULL is a no-op. */
LZ_API void lz_dict_free(lz_dict *d);
/* A new dict with the same entries (the arrays are shared, not copied). */
LZ_API lz_dict *lz_dict_copy(const lz_dict *d);
/* Sets key to `a` (the dict takes its own reference; `a` stays the caller's). Replaces an
 * existing entry in place, keeping its position. Returns 0, or -1 (NULL key or array). */
LZ_API int lz_dict_set(lz_dict *d, const char *key, lz_array *a);
/* Sets key to a copy of the string `value` (file metadata). Returns 0 or -1. */
LZ_API int lz_dict_set_string(lz_dict *d, const char *key, const char *value);
/* Sets key to a copy of the list of `n` strings `values` (file metadata: GGUF string arrays).
 * Returns 0 or -1. */
LZ_API int lz_dict_set_strings(lz_dict *d, const char *key, const char *const *values, size_t n);
/* The length of the string list under key, with *values (if not NULL) pointed at its strings
 * (owned by the dict); -1 and NULL when key is absent or not a list. */
LZ_API int64_t lz_dict_get_strings(const lz_dict *d, const char *key, const char *const **values);
/* A new reference to the array under key (owned like an op result), or NULL without setting
 * an error when there is none. */
LZ_API lz_array *lz_dict_get(const lz_dict *d, const char *key);
/* The string under key, owned by the dict, or NULL. */
LZ_API const char *lz_dict_get_string(const lz_dict *d, const char *key);
/* Whether key is present. */
LZ_API bool lz_dict_contains(const lz_dict *d, const char *key);
/* Removes key; returns 0, or -1 if it was not there. Later entries move up one position. */
LZ_API int lz_dict_remove(lz_dict *d, const char *key);
/* Number of entries, and the i-th in insertion order (key owned by the dict; the array as a
 * new reference, NULL for a string or string-list entry). */
LZ_API size_t lz_dict_size(const lz_dict *d);
LZ_API const char *lz_dict_key(const lz_dict *d, size_t i);
LZ_API lz_array *lz_dict_value(const lz_dict *d, size_t i);
/* Evaluates every array in the dict in one pass. Returns 0 or -1. */
LZ_API int lz_dict_eval(lz_dict *d);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_DICT_H */
