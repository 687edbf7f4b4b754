/* Random number generation shared by the random op constructors (ops/random*.c) and their
 * kernels (cpu/random*.c): the Threefry-2x32 block function, MLX's layout of a key's bit
 * stream, the parameters of every random op, and the kernels. */
#ifndef LZ_CPU_RANDOM_H
#define LZ_CPU_RANDOM_H

#include "../core/internal.h"

/* Threefry-2x32 with 20 rounds (Salmon et al., SC'11), the block function of JAX's and MLX's
 * counter-based generator: (key, counter) -> two pseudo-random words. */
static inline uint32_t lz_rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

static inline void lz_threefry2x32(uint32_t k0, uint32_t k1, uint32_t c0, uint32_t c1, uint32_t *o0,
                                   uint32_t *o1) {
  const uint32_t k2 = k0 ^ k1 ^ 0x1BD11BDAu;
  uint32_t x0 = c0 + k0, x1 = c1 + k1;
#define LZ_TF_ROUND(r) (x0 += x1, x1 = lz_rotl32(x1, r), x1 ^= x0)
#define LZ_TF_EVEN() (LZ_TF_ROUND(13), LZ_TF_ROUND(15), LZ_TF_ROUND(26), LZ_TF_ROUND(6))
#define LZ_TF_ODD() (LZ_TF_ROUND(17), LZ_TF_ROUND(29), LZ_TF_ROUND(16), LZ_TF_ROUND(24))
  LZ_TF_EVEN();
  x0 += k1, x1 += k2 + 1u;
  LZ_TF_ODD();
  x0 += k2, x1 += k0 + 2u;
  LZ_TF_EVEN();
  x0 += k0, x1 += k1 + 3u;
  LZ_TF_ODD();
  x0 += k1, x1 += k2 + 4u;
  LZ_TF_EVEN();
  x0 += k2, x1 += k0 + 5u;
#undef LZ_TF_ODD
#undef LZ_TF_EVEN
#undef LZ_TF_ROUND
  *o0 = x0;
  *o1 = x1;
}

/* The n-word bit stream of a key, laid out as MLX's RandomBits does: with h = ceil(n/2),
 * counter (j, j + h) gives words j and j + h for j < n/2, and when n is odd the middle word
 * h-1 is the first word of counter (h-1, 0). `emit(ctx, begin, count, words)` receives runs
 * of consecutive words; it is called from several threads at once on disjoint runs. */
typedef void (*lz_random_emit_fn)(void *ctx, int64_t begin, int64_t count, const uint32_t *w);
LZ_HIDDEN void lz_cpu_random_generate(uint32_t k0, uint32_t k1, int64_t nwords,
                                      lz_random_emit_fn emit, void *ctx);
/* The first 4 words of a key's stream, i.e. the two keys of split(key): (w0,w1), (w2,w3). */
LZ_HIDDEN void lz_cpu_random_split2(uint32_t k0, uint32_t k1, uint32_t out[4]);
/* Testing hook: whether kernels may use the FMA instruction set where the CPU has it (they do
 * by default); the portable path gives the same bits. */
LZ_HIDDEN void lz_cpu_random_allow_fma(bool allow);
/* Reads the two words of an evaluated key array (uint32, shape (2,), any strides). */
LZ_HIDDEN void lz_cpu_random_key_words(const lz_array *key, uint32_t *k0, uint32_t *k1);

/* Parameters of every random op (one struct for the family; each op uses its part). */
typedef struct lz_random_params {
  lz_dtype dtype;    /* the sampling dtype (uniform, normal, ...) */
  int width;         /* bits: bytes per element, 1, 2 or 4 */
  double loc, scale; /* normal, laplace */
  /* categorical: the gumbel noise has shape gshape (gndim dims), the categories lie along
   * gshape[gaxis]; the logits broadcast against it after an optional trailing unit dim. */
  int gndim, gaxis;
  int gshape[LZ_MAX_NDIM + 1];
  bool logits_expanded;
  int axis; /* permutation of an array: the permuted axis */
} lz_random_params;

/* Kernels. Input 0 of every random op is its key; the parameter arrays that follow are already
 * converted to the dtype the kernel reads (see each constructor). */
LZ_HIDDEN int lz_cpu_random_bits(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_random_split(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_random_uniform(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_random_normal(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_random_truncated_normal(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_random_bernoulli(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_random_gumbel(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_random_laplace(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_random_categorical(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_random_permutation(lz_node *node, lz_array **outs);

#endif /* LZ_CPU_RANDOM_H */
