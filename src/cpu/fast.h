/* Kernels of the fused ops (cpu/fast_norm.c, cpu/fast_rope.c, cpu/fast_sdpa.c), their parameter
 * structs, and the row helpers they share (cpu/fast_util.c). */
#ifndef LZ_CPU_FAST_H
#define LZ_CPU_FAST_H

#include <stdatomic.h>

#include "cpu.h"

/* rms_norm (inputs x[, weight]) and layer_norm (inputs x[, weight][, bias]). */
typedef struct lz_norm_params {
  float eps;
  bool has_weight, has_bias;
} lz_norm_params;

/* rope (inputs x[, freqs as float32][, offsets as int32: one, or one per entry of x's first
 * dim, added to `offset`]). */
typedef struct lz_rope_params {
  int dims, offset;
  float base, scale;
  bool traditional, has_freqs, has_offsets;
} lz_rope_params;

enum { LZ_SDPA_NONE, LZ_SDPA_CAUSAL, LZ_SDPA_ARRAY };
/* scaled_dot_product_attention (inputs q, k, v[, mask broadcast to (B, Hq, Lq, Lk)][, sinks
 * (Hq,)]). */
typedef struct lz_sdpa_params {
  float scale;
  int mask; /* LZ_SDPA_* */
  bool has_sinks;
} lz_sdpa_params;

LZ_HIDDEN int lz_cpu_rms_norm(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_layer_norm(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_rope(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_sdpa(lz_node *node, lz_array **outs);
/* The attention's gradient (inputs q, k, v[, mask][, sinks], cotangent of the output; outputs
 * dq, dk, dv[, dsinks]), fused: the scores are computed once per block, never in full. */
LZ_HIDDEN int lz_cpu_sdpa_vjp(lz_node *node, lz_array **outs);
/* Records the gradient op for an attention node's inputs `in` (n of them, as the node holds
 * them) and the output's cotangent; writes grads[0..3) (and grads[3], the sinks', when
 * p->has_sinks). Returns 0 or -1 (ops/fast.c). */
LZ_HIDDEN int lz__sdpa_vjp(const lz_sdpa_params *p, lz_array *const *in, int n, lz_array *cot,
                           lz_array **grads);

/* ---- shared helpers (cpu/fast_util.c) ---- */

/* Element offset of row `r` of `a` (rows: every index of all dims but the last). */
LZ_HIDDEN int64_t lz_fast_row_offset(const lz_array *a, int64_t r);
/* Reads n elements of dtype dt, `stride` elements apart, as float32 into dst. */
LZ_HIDDEN void lz_fast_load(float *dst, const char *src, lz_dtype dt, int64_t stride, int64_t n);
/* Writes n float32 values to contiguous elements of dtype dt. */
LZ_HIDDEN void lz_fast_store(char *dst, lz_dtype dt, const float *src, int64_t n);
/* Row `r`'s D values as float32: a pointer into `a` when it already is float32 with unit
 * stride, else a copy in `buf` (D floats). */
LZ_HIDDEN const float *lz_fast_row(const lz_array *a, int64_t r, float *buf);

/* Per-thread scratch for kernels that split work with lz__parallel_for: allocated before the
 * split (so an out-of-memory error is reported on the calling thread), one slot per thread
 * that may run a chunk; a chunk claims a free slot and releases it when done. */
enum { LZ_FAST_MAX_SLOTS = 257 };
typedef struct lz_fast_slots {
  char *base;
  size_t per, cap;
  int n;
  atomic_int busy[LZ_FAST_MAX_SLOTS];
} lz_fast_slots;

/* Allocates slots of `bytes` each (64-byte aligned). Returns 0 or -1 with an OOM error. */
LZ_HIDDEN int lz_fast_slots_init(lz_fast_slots *s, size_t bytes, const char *op);
LZ_HIDDEN void lz_fast_slots_free(lz_fast_slots *s);
/* Claims a free slot; returns its index (pass it to release) and sets *mem. */
LZ_HIDDEN int lz_fast_slot_claim(lz_fast_slots *s, void **mem);
LZ_HIDDEN void lz_fast_slot_release(lz_fast_slots *s, int i);

#endif /* LZ_CPU_FAST_H */
