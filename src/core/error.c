/* The error model: one thread-local slot holding the first error since lz_clear_error().
 * Ops never abort; they return NULL and leave a message that starts with the op's name. */
#include "internal.h"

#include <stdio.h>

static _Thread_local lz_error tl_code;
static _Thread_local char tl_message[1024];
static _Thread_local uint64_t tl_count; /* every error reported, recorded or not */

int lz__error(lz_error code, const char *op, const char *fmt, ...) {
  tl_count++;
  if (tl_code != LZ_ERROR_NONE) return -1; /* keep the first error */
  tl_code = code;
  int n = snprintf(tl_message, sizeof tl_message, "[%s] ", op ? op : "lazuli");
  if (n < 0) n = 0;
  if ((size_t)n < sizeof tl_message) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tl_message + n, sizeof tl_message - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return -1;
}

int lz_set_error(lz_error code, const char *who, const char *fmt, ...) {
  tl_count++;
  if (tl_code != LZ_ERROR_NONE) return -1; /* keep the first error */
  if (code <= LZ_ERROR_NONE || code >= LZ_ERROR_COUNT) code = LZ_ERROR_INVALID_ARGUMENT;
  tl_code = code;
  int n = snprintf(tl_message, sizeof tl_message, "[%s] ", who ? who : "lazuli");
  if (n < 0) n = 0;
  if ((size_t)n < sizeof tl_message && fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tl_message + n, sizeof tl_message - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return -1;
}

bool lz__has_error(void) { return tl_code != LZ_ERROR_NONE; }
uint64_t lz_error_count(void) { return tl_count; }

bool lz__check_inputs(const char *op, lz_array *const *in, int n) {
  for (int i = 0; i < n; i++) {
    if (in[i] == NULL) {
      if (!lz__has_error()) lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "argument %d is NULL", i);
      return false;
    }
  }
  return true;
}

char *lz__fmt_shape(char *buf, size_t cap, const int *shape, int ndim) {
  size_t n = 0;
  if (cap == 0) return buf;
  buf[0] = '\0';
  n += (size_t)snprintf(buf + n, cap - n, "(");
  for (int i = 0; i < ndim && n < cap; i++)
    n += (size_t)snprintf(buf + n, cap - n, i ? ",%d" : "%d", shape[i]);
  if (ndim == 1 && n < cap) n += (size_t)snprintf(buf + n, cap - n, ",");
  if (n < cap) snprintf(buf + n, cap - n, ")");
  return buf;
}

const char *lz_last_error(void) { return tl_code == LZ_ERROR_NONE ? "" : tl_message; }
lz_error lz_last_error_code(void) { return tl_code; }
void lz_clear_error(void) {
  tl_code = LZ_ERROR_NONE;
  tl_message[0] = '\0';
}
