/* lz_clear_cache's kernel half: the per-shape caches the CPU kernels keep (oneDNN convolution
 * and matmul primitives, FFTW plans) and oneDNN's own primitive cache, which holds the compiled
 * kernels of every primitive made so far (up to 1024) whatever our caches hold. Each cache
 * defers destroying an entry in use until its user is done, so this is safe while other threads
 * run ops; the next op of a cleared shape makes its primitive or plan again. */
#include "conv.h"
#include "fft.h"
#include "gemm.h"
#include "onednn.h"

#include <pthread.h>

static pthread_mutex_t flush_mu = PTHREAD_MUTEX_INITIALIZER; /* one capacity swap at a time */

void lz__clear_kernel_caches(void) {
  lz_cpu_conv_cache_clear();
  lz_cpu_gemm_cache_clear();
  lz_cpu_fft_cache_clear();
  /* oneDNN empties its cache when its capacity drops to 0 (under its own lock) */
  pthread_mutex_lock(&flush_mu);
  int cap = 0;
  if (dnnl_get_primitive_cache_capacity(&cap) == dnnl_success && cap > 0 &&
      dnnl_set_primitive_cache_capacity(0) == dnnl_success)
    dnnl_set_primitive_cache_capacity(cap);
  pthread_mutex_unlock(&flush_mu);
}
