/* Random sampling with explicit keys, as in MLX (and JAX): a key is a uint32 array of shape (2,);
 * the same key always gives the same values, and lz_random_split derives independent keys.
 * The generator is Threefry-2x32 with 20 rounds, counter-based, and each sampler follows MLX's
 * algorithm step by step (the same counter layout, the same float pipeline and rounding in the
 * sampling dtype), so for a given key it returns the same values as the MLX function of the
 * same name on MLX's CPU backend; samplers that use log or erfinv (normal, truncated_normal,
 * gumbel, laplace, categorical) match up to the last-bit rounding of the C library's logf.
 *
 * Every sampler takes `key` last. A NULL key means the global key sequence: each call takes the
 * next key from it (as MLX's implicit global state does) and lz_random_seed restarts it. The
 * sequence is shared by all threads and safe to use from several at once; it starts from the
 * time of the first use unless seeded. A NULL key always means the global sequence, whatever
 * error is pending (core.h: a function decides failure from its own results).
 *
 * Results are lazy arrays (core.h: new references, inputs borrowed); the sampling runs at
 * evaluation. Parameter arrays (low, high, p, logits, ...) broadcast against the requested
 * shape, which must be the broadcast result. Samplers are not differentiable. */
#ifndef LAZULI_RANDOM_H
#define LAZULI_RANDOM_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- keys ---- */

/* A key made from a 64-bit seed: the uint32 array {seed >> 32, seed & 0xffffffff}. */
LZ_API lz_array *lz_random_key(uint64_t seed);
/* `num` new keys derived from `key`, as a (num, 2) uint32 array (lz_random_bits of shape
 * (num, 2)). num must be >= 0. */
LZ_API lz_array *lz_random_split(lz_array *key, int num);
/* The two keys of lz_random_split(key, 2), as two (2,) arrays: *first (the first row) and
 * *second. Returns 0, or -1 with both set to NULL. */
LZ_API int lz_random_split_pair(lz_array *key, lz_array **first, lz_array **second);
/* Restarts the global key sequence from lz_random_key(seed). */
LZ_API void lz_random_seed(uint64_t seed);

/* ---- raw bits ---- */

/* Random bits of `shape`: uint32, uint16 or uint8 for width 4, 2 or 1 (bytes per element). */
LZ_API lz_array *lz_random_bits(const int *shape, int ndim, int width, lz_array *key);

/* ---- continuous distributions ---- */

/* Uniform samples in [low, high) of `dtype` (float16, bfloat16 or float32). low and high are
 * converted to dtype and broadcast against `shape`. low > high gives values in (high, low]. */
LZ_API lz_array *lz_random_uniform(lz_array *low, lz_array *high, const int *shape, int ndim,
                                   lz_dtype dtype, lz_array *key);
/* Normal samples with mean `loc` and standard deviation `scale` of `dtype` (float16, bfloat16,
 * float32 or float64): sqrt(2) * erfinv(u) for u uniform in (-1, 1), drawn in float32. */
LZ_API lz_array *lz_random_normal(const int *shape, int ndim, lz_dtype dtype, double loc,
                                  double scale, lz_array *key);
/* Standard normal samples truncated to [lower, upper] (arrays broadcast against `shape`; a NULL
 * shape means the broadcast shape of lower and upper). dtype: float16, bfloat16 or float32.
 * Where lower > upper every sample is lower. */
LZ_API lz_array *lz_random_truncated_normal(lz_array *lower, lz_array *upper, const int *shape,
                                            int ndim, lz_dtype dtype, lz_array *key);
/* Samples of the multivariate normal with mean `mean` (..., n) and covariance `cov` (..., n, n),
 * float32 only (as in MLX): mean + z @ (U * sqrt(S) @ Vt) with z standard normal and U, S, Vt
 * the SVD of cov (so a positive semi-definite cov is fine). The result has the broadcast of
 * cov's and mean's batch dims and `shape`, then n. A composite of public ops: it is lazy and
 * the SVD runs at evaluation. */
LZ_API lz_array *lz_random_multivariate_normal(lz_array *mean, lz_array *cov, const int *shape,
                                               int ndim, lz_dtype dtype, lz_array *key);
/* Gumbel samples -log(-log(u)) of `dtype` (float16, bfloat16 or float32). */
LZ_API lz_array *lz_random_gumbel(const int *shape, int ndim, lz_dtype dtype, lz_array *key);
/* Laplace samples with location `loc` and scale `scale` of `dtype` (float16, bfloat16, float32
 * or float64); loc and scale are used as float32 values, as in MLX. */
LZ_API lz_array *lz_random_laplace(const int *shape, int ndim, lz_dtype dtype, double loc,
                                   double scale, lz_array *key);

/* ---- discrete distributions ---- */

/* Integers uniform in [low, high - 1] of an integer or bool `dtype`, drawn as current MLX
 * does, exactly at any magnitude: low and high are converted to int64 (floats truncate toward
 * zero), 32 random bits per element (64, from the two halves of lz_random_split_pair(key), or
 * two keys of the global sequence, for int64 and uint64) are reduced modulo high - low and added
 * to low, then converted to dtype (bool: randint(0, 2) gives both values, randint(0, 1) only
 * false). Where high <= low every value is low. With a key the values are MLX's bit for bit. */
LZ_API lz_array *lz_random_randint(lz_array *low, lz_array *high, const int *shape, int ndim,
                                   lz_dtype dtype, lz_array *key);
/* Bool samples that are true with probability p (a float array; p <= 0 is always false and
 * p >= 1 always true). A NULL shape means p's shape. */
LZ_API lz_array *lz_random_bernoulli(lz_array *p, const int *shape, int ndim, lz_array *key);
/* Samples from the categorical distributions given by unnormalised log-probabilities `logits`
 * along `axis`: uint32 category indices. num_samples == 0 draws one sample per distribution
 * (the result has logits' shape without `axis`); num_samples > 0 draws that many, on a new
 * last axis. */
LZ_API lz_array *lz_random_categorical(lz_array *logits, int axis, int num_samples, lz_array *key);
/* The same with an explicit result `shape`, which must be a broadcast of logits' shape without
 * `axis` (extra leading dims draw independent samples). */
LZ_API lz_array *lz_random_categorical_shape(lz_array *logits, int axis, const int *shape, int ndim,
                                             lz_array *key);
/* A random permutation of 0 .. n-1 (uint32, shape (n,)): the argsort of n random words. */
LZ_API lz_array *lz_random_permutation(int n, lz_array *key);
/* `x` with its entries along `axis` randomly permuted (same shape and dtype as x). */
LZ_API lz_array *lz_random_permutation_array(lz_array *x, int axis, lz_array *key);

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_RANDOM_H */
