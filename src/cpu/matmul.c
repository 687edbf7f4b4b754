/* The matmul/addmm kernel: batched GEMM (gemm.c: oneDNN or OpenBLAS) with broadcast batch dims.
 * Operands are handed to the GEMM in place whenever their last two dims are row-major or
 * transposed (column-major) with a usable leading dimension; otherwise they are packed into
 * float32/float64 scratch. float16/bfloat16 products go to lz_cpu_gemm_half in place, whatever
 * their strides (it converts cache-sized blocks itself); only addmm with a nonzero beta in those
 * dtypes still widens its operands whole.
 * When b is shared by the whole batch and a's rows are evenly spaced, the batch folds into one
 * large GEMM (a (B,M,K) @ (K,N) is one (B*M,K) @ (K,N)). Small GEMMs split the batch across
 * threads; large ones leave threading to BLAS. */
#include "matmul.h"

#include "../core/threads.h"
#include "gemm.h"
#include "linalg_pack.h"

/* One operand as BLAS sees it. */
typedef struct mm_side {
  const char *base;             /* element (0,0) of batch 0, in the compute dtype */
  int64_t bstride[LZ_MAX_NDIM]; /* element strides over the output's batch dims (0: broadcast) */
  bool trans;
  int64_t ld;
  int64_t rs, cs; /* element strides of the matrix's rows and columns, as stored */
  void *scratch;
  size_t cap;
} mm_side;

/* How a (rows, cols) matrix with element strides (rs, cs) can be given to row-major BLAS. */
static bool blas_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs, bool *trans,
                        int64_t *ld) {
  int64_t mr = rows > 1 ? rows : 1, mc = cols > 1 ? cols : 1;
  if ((cols <= 1 || cs == 1) && (rows <= 1 || rs >= mc)) {
    *trans = false;
    *ld = rows <= 1 ? mc : rs;
    return true;
  }
  if ((rows <= 1 || rs == 1) && (cols <= 1 || cs >= mr)) {
    *trans = true;
    *ld = cols <= 1 ? mr : cs;
    return true;
  }
  return false;
}

/* Fills the side's batch strides and layout from `in`'s shape and the given element strides.
 * Returns false when BLAS cannot read the matrix as laid out. */
static bool describe(mm_side *s, const lz_array *in, const int64_t *strides, bool is_a, int nb,
                     const int *bshape) {
  int64_t rows, cols, rs, cs;
  int nd = in->ndim, inb = nd >= 2 ? nd - 2 : 0;
  if (nd == 1) {
    rows = is_a ? 1 : in->shape[0];
    cols = is_a ? in->shape[0] : 1;
    rs = is_a ? 0 : strides[0];
    cs = is_a ? strides[0] : 0;
  } else {
    rows = in->shape[nd - 2], cols = in->shape[nd - 1];
    rs = strides[nd - 2], cs = strides[nd - 1];
  }
  for (int d = 0; d < nb; d++) {
    int di = d - (nb - inb);
    s->bstride[d] = (di < 0 || in->shape[di] == 1) ? 0 : strides[di];
  }
  (void)bshape;
  s->rs = rs, s->cs = cs;
  return blas_layout(rows, cols, rs, cs, &s->trans, &s->ld);
}

static int prepare(mm_side *s, const lz_array *in, bool is_a, lz_dtype ct, int nb,
                   const int *bshape) {
  s->scratch = NULL;
  s->cap = 0;
  /* a half-precision product reads its operands in place in any layout */
  bool ok = describe(s, in, in->strides, is_a, nb, bshape);
  if ((in->dtype == ct && ok) || ct == LZ_FLOAT16 || ct == LZ_BFLOAT16) {
    s->base = lz__data_ptr(in);
    return 0;
  }
  s->scratch = lz_cpu_scratch((size_t)in->size * lz_dtype_size(ct), &s->cap, "lz_matmul");
  if (!s->scratch) return -1;
  lz_cpu_pack(s->scratch, ct, in);
  int64_t cs[LZ_MAX_NDIM], st = 1;
  for (int d = in->ndim - 1; d >= 0; d--) {
    cs[d] = st;
    st *= in->shape[d] > 0 ? in->shape[d] : 1;
  }
  ok = describe(s, in, cs, is_a, nb, bshape);
  (void)ok; /* a contiguous matrix always has a BLAS layout */
  s->base = s->scratch;
  return 0;
}

typedef struct mm_job {
  lz_dtype ct;
  int nb;
  int bshape[LZ_MAX_NDIM];
  int64_t M, N, K;
  double alpha, beta;
  const mm_side *a, *b;
  char *c; /* contiguous (batch, M, N) */
  atomic_bool failed; /* a half-precision product ran out of scratch memory */
} mm_job;

static void mm_batches(void *vctx, int64_t begin, int64_t end) {
  const mm_job *j = vctx;
  size_t esz = lz_dtype_size(j->ct);
  for (int64_t t = begin; t < end; t++) {
    int64_t rem = t, oa = 0, ob = 0;
    for (int d = j->nb - 1; d >= 0; d--) {
      int64_t i = rem % j->bshape[d];
      rem /= j->bshape[d];
      oa += i * j->a->bstride[d];
      ob += i * j->b->bstride[d];
    }
    if (j->ct == LZ_FLOAT16 || j->ct == LZ_BFLOAT16) {
      const uint16_t *a = (const uint16_t *)j->a->base + oa, *b = (const uint16_t *)j->b->base + ob;
      if (lz_cpu_gemm_half(j->ct, j->M, j->N, j->K, (float)j->alpha, a, j->a->rs, j->a->cs, b,
                           j->b->rs, j->b->cs, j->c + t * j->M * j->N * (int64_t)esz, j->N) != 0)
        atomic_store(&j->failed, true);
      continue;
    }
    lz_cpu_gemm(j->ct, j->a->trans, j->b->trans, j->M, j->N, j->K, j->alpha,
                j->a->base + oa * (int64_t)esz, j->a->ld, j->b->base + ob * (int64_t)esz, j->b->ld,
                j->beta, j->c + t * j->M * j->N * (int64_t)esz, j->N);
  }
}

/* True when a's batch dims step through rows evenly, so the batch folds into M. */
static bool foldable(const mm_job *j) {
  bool half = j->ct == LZ_FLOAT16 || j->ct == LZ_BFLOAT16;
  if (!half && j->a->trans) return false;
  for (int d = 0; d < j->nb; d++)
    if (j->b->bstride[d] != 0) return false;
  int64_t expect = j->M * (half ? j->a->rs : j->a->ld);
  for (int d = j->nb - 1; d >= 0; d--) {
    if (j->bshape[d] == 1) continue;
    if (j->a->bstride[d] != expect) return false;
    expect *= j->bshape[d];
  }
  return true;
}

int lz_cpu_matmul(lz_node *node, lz_array **outs) {
  lz_array *a = node->inputs[0], *b = node->inputs[1], *out = outs[0];
  lz_array *c = node->ninputs > 2 ? node->inputs[2] : NULL;
  const lz_addmm_params *p = node->params;
  if (lz__alloc_output(out, "lz_matmul") != 0) return -1;
  if (out->size == 0) return 0;
  mm_job j = {.ct = lz_cpu_compute_dtype(out->dtype),
              .alpha = p ? p->alpha : 1.0,
              .beta = c && p ? p->beta : 0.0};
  /* float16/bfloat16 in and out: computed by lz_cpu_gemm_half on the operands in place */
  bool half = (out->dtype == LZ_FLOAT16 || out->dtype == LZ_BFLOAT16) && a->dtype == out->dtype &&
              b->dtype == out->dtype && !(c && j.beta != 0);
  if (half) j.ct = out->dtype;
  atomic_init(&j.failed, false);
  j.M = a->ndim == 1 ? 1 : a->shape[a->ndim - 2];
  j.K = a->shape[a->ndim - 1];
  j.N = b->ndim == 1 ? 1 : b->shape[b->ndim - 1];
  j.nb = out->ndim - (a->ndim > 1) - (b->ndim > 1);
  int64_t nbatch = 1;
  for (int d = 0; d < j.nb; d++) nbatch *= (j.bshape[d] = out->shape[d]);

  mm_side sa, sb;
  void *cbuf = NULL;
  size_t ccap = 0;
  int rc = -1;
  sb.scratch = NULL;
  if (prepare(&sa, a, true, j.ct, j.nb, j.bshape) != 0) return -1;
  if (prepare(&sb, b, false, j.ct, j.nb, j.bshape) != 0) goto done;
  j.a = &sa, j.b = &sb;
  if (j.ct == out->dtype) {
    j.c = lz__data_ptr(out);
  } else {
    cbuf = lz_cpu_scratch((size_t)out->size * lz_dtype_size(j.ct), &ccap, "lz_matmul");
    if (!cbuf) goto done;
    j.c = cbuf;
  }
  if (c && j.beta != 0) { /* C starts as c broadcast to the output */
    int64_t cs[LZ_MAX_NDIM], os[LZ_MAX_NDIM], st = 1;
    lz_cpu_broadcast_strides(c, out, cs);
    for (int d = out->ndim - 1; d >= 0; d--) os[d] = st, st *= out->shape[d];
    lz_cpu_copy_cast(j.c, j.ct, os, lz__data_ptr(c), c->dtype, cs, out->ndim, out->shape);
  }
  if (nbatch > 1 && foldable(&j)) {
    j.M *= nbatch;
    mm_batches(&j, 0, 1);
  } else {
    /* Why: BLAS threads one GEMM well only when it is big; many small ones go to our pool. */
    int64_t work = j.M * j.N * (j.K > 0 ? j.K : 1);
    int64_t grain = work >= (int64_t)1 << 18 ? 1 : ((int64_t)1 << 18) / work;
    lz__parallel_for(nbatch, grain, mm_batches, &j);
  }
  if (atomic_load(&j.failed)) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_matmul", "out of memory allocating GEMM scratch");
    goto done;
  }
  if (cbuf) lz_cpu_unpack(out, cbuf, j.ct);
  rc = 0;
done:
  if (cbuf) lz_cpu_scratch_free(cbuf, ccap);
  if (sa.scratch) lz_cpu_scratch_free(sa.scratch, sa.cap);
  if (sb.scratch) lz_cpu_scratch_free(sb.scratch, sb.cap);
  return rc;
}
