/* where: out = cond ? x : y, one loop per element size (the dtype does not matter). */
#include "binary.h"

#define WHERE_LOOP(NAME, T)                                                                      \
  static void NAME(void *ctx, int64_t n, char **p, const int64_t *s) {                           \
    (void)ctx;                                                                                   \
    if (s[0] == sizeof(T) && s[1] == 1 && s[2] == sizeof(T) && s[3] == sizeof(T)) {              \
      T *o = (T *)p[0];                                                                          \
      const uint8_t *c = (const uint8_t *)p[1];                                                  \
      const T *x = (const T *)p[2], *y = (const T *)p[3];                                        \
      for (int64_t i = 0; i < n; i++) o[i] = c[i] ? x[i] : y[i];                                 \
      return;                                                                                    \
    }                                                                                            \
    char *po = p[0];                                                                             \
    const char *pc = p[1], *px = p[2], *py = p[3];                                               \
    for (int64_t i = 0; i < n; i++, po += s[0], pc += s[1], px += s[2], py += s[3])              \
      *(T *)po = *(const uint8_t *)pc ? *(const T *)px : *(const T *)py;                         \
  }
WHERE_LOOP(where_1, uint8_t)
WHERE_LOOP(where_2, uint16_t)
WHERE_LOOP(where_4, uint32_t)
WHERE_LOOP(where_8, uint64_t)

int lz_cpu_where(lz_node *node, lz_array **outs) {
  lz_cpu_inner_fn fn;
  switch (lz_dtype_size(outs[0]->dtype)) {
  case 1: fn = where_1; break;
  case 2: fn = where_2; break;
  case 4: fn = where_4; break;
  case 8: fn = where_8; break;
  default:
    return lz__error(LZ_ERROR_DTYPE, "lz_where", "no kernel for %s",
                     lz_dtype_name(outs[0]->dtype));
  }
  return lz_cpu_run_elementwise(node, outs, 1, fn);
}
