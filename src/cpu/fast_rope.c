/* Fused rotary positional encoding. The cos/sin of every (position, frequency) pair is computed
 * once into a table (in parallel), then each row of x is rotated in one pass. Angles follow MLX's
 * float32 recipe: theta = ((l + offset) * scale) * inv_freq. */
#include <math.h>

#include "../core/threads.h"
#include "fast.h"
#include "linalg_pack.h"

typedef struct rope_job {
  const lz_rope_params *p;
  const lz_array *x;
  lz_array *out;
  const float *inv_freq; /* (half,) */
  float *cs;             /* (L, half, 2): cos, sin */
  int64_t L, D, half;
  lz_fast_slots slots;
} rope_job;

static void table_rows(void *vctx, int64_t begin, int64_t end) {
  rope_job *j = vctx;
  for (int64_t t = begin; t < end; t++) {
    float pos = ((float)t + (float)j->p->offset) * j->p->scale;
    float *cs = j->cs + t * j->half * 2;
    for (int64_t i = 0; i < j->half; i++) {
      float th = pos * j->inv_freq[i];
      cs[2 * i] = cosf(th);
      cs[2 * i + 1] = sinf(th);
    }
  }
}

static void rope_rows(void *vctx, int64_t begin, int64_t end) {
  rope_job *j = vctx;
  int64_t D = j->D, half = j->half, dims = j->p->dims;
  bool trad = j->p->traditional, direct = j->out->dtype == LZ_FLOAT32;
  size_t oes = lz_dtype_size(j->out->dtype);
  void *mem;
  int slot = lz_fast_slot_claim(&j->slots, &mem);
  float *xbuf = mem, *ybuf = xbuf + D;
  for (int64_t r = begin; r < end; r++) {
    const float *x = lz_fast_row(j->x, r, xbuf);
    char *orow = lz__data_ptr(j->out) + r * D * (int64_t)oes;
    float *y = direct ? (float *)orow : ybuf;
    const float *cs = j->cs + (r % j->L) * half * 2;
    if (trad) {
      for (int64_t i = 0; i < half; i++) {
        float c = cs[2 * i], s = cs[2 * i + 1], x1 = x[2 * i], x2 = x[2 * i + 1];
        y[2 * i] = x1 * c - x2 * s;
        y[2 * i + 1] = x1 * s + x2 * c;
      }
    } else {
      for (int64_t i = 0; i < half; i++) {
        float c = cs[2 * i], s = cs[2 * i + 1], x1 = x[i], x2 = x[i + half];
        y[i] = x1 * c - x2 * s;
        y[i + half] = x1 * s + x2 * c;
      }
    }
    if (dims < D) memcpy(y + dims, x + dims, (size_t)(D - dims) * sizeof(float));
    if (!direct) lz_fast_store(orow, j->out->dtype, y, D);
  }
  lz_fast_slot_release(&j->slots, slot);
}

int lz_cpu_rope(lz_node *node, lz_array **outs) {
  const lz_rope_params *p = node->params;
  lz_array *x = node->inputs[0], *out = outs[0];
  if (lz__alloc_output(out, "lz_fast_rope") != 0) return -1;
  if (out->size == 0) return 0;
  rope_job j = {.p = p, .x = x, .out = out};
  j.D = x->shape[x->ndim - 1];
  j.L = x->shape[x->ndim - 2];
  j.half = p->dims / 2;
  size_t cap;
  float *mem =
      lz_cpu_scratch((size_t)(j.half + j.L * j.half * 2) * sizeof(float), &cap, "lz_fast_rope");
  if (!mem) return -1;
  float *inv = mem;
  if (p->has_freqs) {
    lz_array *f = node->inputs[1]; /* float32 */
    lz_fast_load(inv, lz__data_ptr(f), f->dtype, f->strides[0], j.half);
    for (int64_t i = 0; i < j.half; i++) inv[i] = 1.0f / inv[i];
  } else {
    float c = logf(p->base) / (float)j.half;
    for (int64_t i = 0; i < j.half; i++) inv[i] = expf(-(float)i * c);
  }
  j.inv_freq = inv;
  j.cs = mem + j.half;
  if (lz_fast_slots_init(&j.slots, 2 * (size_t)j.D * sizeof(float), "lz_fast_rope") != 0) {
    lz_cpu_scratch_free(mem, cap);
    return -1;
  }
  lz__parallel_for(j.L, 4096 / (j.half + 1) + 1, table_rows, &j);
  lz__parallel_for(x->size / j.D, 16384 / j.D + 1, rope_rows, &j);
  lz_fast_slots_free(&j.slots);
  lz_cpu_scratch_free(mem, cap);
  return 0;
}
