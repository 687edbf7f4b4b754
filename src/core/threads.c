/* The worker pool (serial until the pool lands: same contract, one thread). */
#include "threads.h"

void lz__parallel_for(int64_t n, int64_t grain, void (*fn)(void *ctx, int64_t begin, int64_t end),
                      void *ctx) {
  (void)grain;
  if (n > 0) fn(ctx, 0, n);
}

int lz__num_threads(void) { return 1; }
