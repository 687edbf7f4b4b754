/* The smallest Lazuli program: build an expression lazily, evaluate it by printing. */
#include <lazuli.h>
#include <stdio.h>

int main(void) {
  lz_scope_begin();
  lz_array *x = lz_arange(0, 6, 1, LZ_FLOAT32);
  lz_array *y = lz_add(lz_multiply(x, x), lz_float(1));
  if (!y) {
    fprintf(stderr, "%s\n", lz_last_error());
    return 1;
  }
  printf("kernels run before eval: %llu\n", (unsigned long long)lz_get_kernel_count());
  lz_array_print(y, stdout);
  printf("kernels run after eval:  %llu\n", (unsigned long long)lz_get_kernel_count());
  lz_scope_end();
  return 0;
}
