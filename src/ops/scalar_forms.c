/* `a op s` for a plain C number s: the weak scalar is made and released here, so nothing is left
 * for the caller to free, inside a scope or not. */
#include "ops.h"

#include <math.h>

/* s as a Python number would be: an int when integral (and in int64's range), else a float. */
static lz_array *python_number(double s) {
  if (s == floor(s) && fabs(s) < 0x1p63) return lz_int((int64_t)s);
  return lz_float(s);
}

static lz_array *with_scalar(const char *name, lz_array *(*op)(lz_array *, lz_array *),
                             lz_array *a, double s) {
  if (!lz__check_inputs(name, &a, 1)) return NULL;
  lz_scope_begin();
  lz_array *r = lz_keep(op(a, python_number(s)));
  lz_scope_end();
  return r;
}

#define SCALAR_FORM(name)                                                                        \
  lz_array *lz_##name##_scalar(lz_array *a, double s) {                                          \
    return with_scalar("lz_" #name "_scalar", lz_##name, a, s);                                  \
  }
SCALAR_FORM(add)
SCALAR_FORM(subtract)
SCALAR_FORM(multiply)
SCALAR_FORM(divide)
SCALAR_FORM(power)
SCALAR_FORM(maximum)
SCALAR_FORM(minimum)
SCALAR_FORM(floor_divide)
SCALAR_FORM(remainder)
SCALAR_FORM(equal)
SCALAR_FORM(not_equal)
SCALAR_FORM(less)
SCALAR_FORM(less_equal)
SCALAR_FORM(greater)
SCALAR_FORM(greater_equal)
