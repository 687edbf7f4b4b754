/* The error model: one thread-local slot holding the first error since lz_clear_error().
 * Ops never abort; they return NULL and leave a message that starts with the op's name. */
#include "internal.h"
#include "threads.h"

#include <stdio.h>
#include <stdlib.h>

/* The message lives on the heap, allocated at a thread's first error: a 1 KiB thread-local
 * array would sit in static TLS (the core uses initial-exec TLS), and a library loaded with
 * dlopen (the Python module) must leave that small shared area to the libraries loaded after
 * it (PyTorch's fail to load otherwise). */
#define MESSAGE_CAP 1024
static _Thread_local lz_error tl_code;
static _Thread_local char *tl_message;
static _Thread_local uint64_t tl_count; /* every error reported, recorded or not */

static void free_message(void) {
  free(tl_message);
  tl_message = NULL;
}

static void record(const char *who, const char *fmt, va_list ap) {
  if (!tl_message) {
    tl_message = malloc(MESSAGE_CAP);
    if (!tl_message) return; /* lz_last_error() then reports the code's generic text */
    lz__at_thread_exit(free_message);
  }
  int n = snprintf(tl_message, MESSAGE_CAP, "[%s] ", who ? who : "lazuli");
  if (n < 0) n = 0;
  if ((size_t)n < MESSAGE_CAP && fmt) vsnprintf(tl_message + n, MESSAGE_CAP - (size_t)n, fmt, ap);
}

int lz__error(lz_error code, const char *op, const char *fmt, ...) {
  tl_count++;
  if (tl_code != LZ_ERROR_NONE) return -1; /* keep the first error */
  tl_code = code;
  va_list ap;
  va_start(ap, fmt);
  record(op, fmt, ap);
  va_end(ap);
  return -1;
}

int lz_set_error(lz_error code, const char *who, const char *fmt, ...) {
  tl_count++;
  if (tl_code != LZ_ERROR_NONE) return -1; /* keep the first error */
  if (code <= LZ_ERROR_NONE || code >= LZ_ERROR_COUNT) code = LZ_ERROR_INVALID_ARGUMENT;
  tl_code = code;
  va_list ap;
  va_start(ap, fmt);
  record(who, fmt, ap);
  va_end(ap);
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

const char *lz_last_error(void) {
  if (tl_code == LZ_ERROR_NONE) return "";
  return tl_message ? tl_message : "[lazuli] error (no memory left for its message)";
}
lz_error lz_last_error_code(void) { return tl_code; }
void lz_clear_error(void) {
  tl_code = LZ_ERROR_NONE;
  if (tl_message) tl_message[0] = '\0';
}
