/* Fused rotary positional encoding. The cos/sin of every (position, frequency) pair is computed
 * once into a table (in parallel), then each row of x is rotated in one pass. Angles follow MLX's
 * float32 recipe: theta = ((l + offset) * scale) * inv_freq. With per-batch offsets the table has
 * one block of rows per offset. */
#include <math.h>
#include <stdlib.h>

#include "../core/threads.h"
#include "fast.h"
#include "linalg_pack.h"

typedef struct rope_job {
  const lz_rope_params *p;
  const lz_array *x;
  lz_array *out;
  const float *inv_freq; /* (half,) */
  const int32_t *offs;   /* (nb,) offsets added to p->offset (NULL: none) */
  float *cs;             /* (nb, L, half, 2): cos, sin per offset and position */
  int64_t L, D, half, nb, rows_per_b;
  lz_fast_slots slots;
} rope_job;

static void table_rows(void *vctx, int64_t begin, int64_t end) {
  rope_job *j = vctx;
  for (int64_t bt = begin; bt < end; bt++) {
    int64_t t = bt % j->L, off = j->p->offset + (j->offs ? j->offs[bt / j->L] : 0);
    float pos = ((float)t + (float)off) * j->p->scale;
    float *cs = j->cs + bt * j->half * 2;
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
    int64_t b = j->nb > 1 ? r / j->rows_per_b : 0;
    const float *cs = j->cs + (b * j->L + r % j->L) * half * 2;
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
  j.nb = 1;
  int32_t *offs = NULL;
  if (p->has_offsets) {
    lz_array *o = node->inputs[p->has_freqs ? 2 : 1]; /* int32 */
    j.nb = o->size;
    offs = malloc((size_t)j.nb * sizeof *offs);
    if (!offs) return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_fast_rope", "out of memory");
    lz__copy_to_contiguous(offs, o);
    j.offs = offs;
  }
  j.rows_per_b = x->size / j.D / (j.nb > 1 ? j.nb : 1);
  size_t cap;
  float *mem = lz_cpu_scratch((size_t)(j.half + j.nb * j.L * j.half * 2) * sizeof(float), &cap,
                              "lz_fast_rope");
  if (!mem) {
    free(offs);
    return -1;
  }
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
    free(offs);
    return -1;
  }
  lz__parallel_for(j.nb * j.L, 4096 / (j.half + 1) + 1, table_rows, &j);
  lz__parallel_for(x->size / j.D, 16384 / j.D + 1, rope_rows, &j);
  lz_fast_slots_free(&j.slots);
  lz_cpu_scratch_free(mem, cap);
  free(offs);
  return 0;
}
