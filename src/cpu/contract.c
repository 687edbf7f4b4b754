/* The contraction kernel behind einsum, tensordot, inner and outer. Labels are sorted into
 * batch (kept, in both inputs), M (kept, only in a), N (kept, only in b) and K (summed);
 * each input is packed into a contiguous (batch, M, K) / (batch, K, N) block in the compute
 * dtype (repeated labels of one input read its diagonal by adding their strides), one GEMM per
 * batch runs, and the (batch, M, N) result is written in the output's label order. The packing
 * copies are O(size) against the GEMM's O(M*N*K), and they make every layout the same case. */
#include "../core/threads.h"
#include "linalg_pack.h"
#include "matmul.h"

enum { NLABELS = 64 };

typedef struct label_info {
  int64_t size[NLABELS];
  int64_t sa[NLABELS], sb[NLABELS], so[NLABELS]; /* element strides per label (0: absent) */
  bool in_a[NLABELS], in_b[NLABELS], in_o[NLABELS];
} label_info;

/* Dims and strides of `n` labels for one operand. */
static void gather_dims(const label_info *li, const int8_t *labels, int n, const int64_t *str,
                        int *shape, int64_t *strides) {
  for (int i = 0; i < n; i++) {
    shape[i] = (int)li->size[labels[i]];
    strides[i] = str[labels[i]];
  }
}

static void contiguous(const int *shape, int n, int64_t *strides) {
  int64_t s = 1;
  for (int d = n - 1; d >= 0; d--) strides[d] = s, s *= shape[d];
}

typedef struct ct_job {
  lz_dtype ct;
  int64_t M, N, K;
  const char *A, *B;
  char *C;
} ct_job;

static void float_batches(void *vctx, int64_t begin, int64_t end) {
  const ct_job *j = vctx;
  int64_t esz = (int64_t)lz_dtype_size(j->ct);
  for (int64_t t = begin; t < end; t++) {
    lz_cpu_gemm(j->ct, false, false, j->M, j->N, j->K, 1.0, j->A + t * j->M * j->K * esz, j->K,
                j->B + t * j->K * j->N * esz, j->N, 0.0, j->C + t * j->M * j->N * esz, j->N);
  }
}

/* Integer GEMM with wrapping int64 arithmetic, i-k-j order so the inner loop is contiguous. */
static void int_batches(void *vctx, int64_t begin, int64_t end) {
  const ct_job *j = vctx;
  for (int64_t t = begin; t < end; t++) {
    const int64_t *A = (const int64_t *)j->A + t * j->M * j->K;
    const int64_t *B = (const int64_t *)j->B + t * j->K * j->N;
    uint64_t *C = (uint64_t *)j->C + t * j->M * j->N;
    memset(C, 0, (size_t)(j->M * j->N) * sizeof *C);
    for (int64_t i = 0; i < j->M; i++)
      for (int64_t k = 0; k < j->K; k++) {
        uint64_t x = (uint64_t)A[i * j->K + k];
        for (int64_t n = 0; n < j->N; n++) C[i * j->N + n] += x * (uint64_t)B[k * j->N + n];
      }
  }
}

/* Sums the rows of A (M,K) into C (M): the single-input contraction. */
static void row_sums(lz_dtype ct, int64_t M, int64_t K, const void *A, void *C) {
  for (int64_t i = 0; i < M; i++) {
    if (ct == LZ_INT64) {
      uint64_t s = 0;
      for (int64_t k = 0; k < K; k++) s += (uint64_t)((const int64_t *)A)[i * K + k];
      ((int64_t *)C)[i] = (int64_t)s;
    } else {
      double s = 0;
      for (int64_t k = 0; k < K; k++)
        s += ct == LZ_FLOAT64 ? ((const double *)A)[i * K + k] : ((const float *)A)[i * K + k];
      if (ct == LZ_FLOAT64)
        ((double *)C)[i] = s;
      else
        ((float *)C)[i] = (float)s;
    }
  }
}

int lz_cpu_contract(lz_node *node, lz_array **outs) {
  const lz_contract_params *p = node->params;
  lz_array *a = node->inputs[0], *b = node->ninputs > 1 ? node->inputs[1] : NULL, *out = outs[0];
  if (lz__alloc_output(out, "lz_einsum") != 0) return -1;
  if (out->size == 0) return 0;
  label_info li;
  memset(&li, 0, sizeof li);
  for (int l = 0; l < NLABELS; l++) li.size[l] = -1;
  /* a label's size is its largest; size-1 axes broadcast (stride 0) */
  for (int d = 0; d < a->ndim; d++) {
    int8_t l = p->la[d];
    if (li.size[l] < 0 || li.size[l] == 1) li.size[l] = a->shape[d];
    if (a->shape[d] != 1) li.sa[l] += a->strides[d];
    li.in_a[l] = true;
  }
  for (int d = 0; b && d < b->ndim; d++) {
    int8_t l = p->lb[d];
    if (li.size[l] < 0 || li.size[l] == 1) li.size[l] = b->shape[d];
    if (b->shape[d] != 1) li.sb[l] += b->strides[d];
    li.in_b[l] = true;
  }
  int oshape[LZ_MAX_NDIM];
  int64_t ostr[LZ_MAX_NDIM];
  for (int i = 0; i < p->nout; i++) li.in_o[p->lo[i]] = true, oshape[i] = (int)li.size[p->lo[i]];
  for (int l = 0; l < NLABELS; l++)
    if (li.in_b[l] && !li.in_a[l] && !li.in_o[l])
      return lz__error(LZ_ERROR_INTERNAL, "lz_einsum", "label %d is summed in one input only", l);
  contiguous(oshape, p->nout, ostr);
  for (int i = 0; i < p->nout; i++) li.so[p->lo[i]] = ostr[i];

  /* Label groups in natural order: batch, M, N follow the output; K follows a. */
  int8_t bat[LZ_MAX_NDIM], ml[LZ_MAX_NDIM], nl[LZ_MAX_NDIM], kl[LZ_MAX_NDIM];
  int nbat = 0, nm = 0, nn = 0, nk = 0;
  int64_t Bt = 1, M = 1, N = 1, K = 1;
  for (int i = 0; i < p->nout; i++) {
    int8_t l = p->lo[i];
    if (li.in_a[l] && li.in_b[l])
      bat[nbat++] = l, Bt *= li.size[l];
    else if (li.in_a[l])
      ml[nm++] = l, M *= li.size[l];
    else
      nl[nn++] = l, N *= li.size[l];
  }
  bool seen[NLABELS] = {false};
  for (int d = 0; d < a->ndim; d++) {
    int8_t l = p->la[d];
    if (!li.in_o[l] && !seen[l]) seen[l] = true, kl[nk++] = l, K *= li.size[l];
  }
  lz_dtype ct = lz_dtype_is_float(out->dtype) ? lz_cpu_compute_dtype(out->dtype) : LZ_INT64;
  size_t esz = lz_dtype_size(ct);
  int shape[LZ_MAX_NDIM];
  int64_t src[LZ_MAX_NDIM], dst[LZ_MAX_NDIM];
  int8_t lab[LZ_MAX_NDIM];

  if (!b && nk == 0) { /* a permuted (diagonal) copy */
    gather_dims(&li, p->lo, p->nout, li.sa, shape, src);
    gather_dims(&li, p->lo, p->nout, li.so, shape, dst);
    lz_cpu_copy_cast(lz__data_ptr(out), out->dtype, dst, lz__data_ptr(a), a->dtype, src, p->nout,
                     shape);
    return 0;
  }
  int rc = -1;
  size_t capA = 0, capB = 0, capC = 0;
  char *A = NULL, *B = NULL, *C = NULL;
  A = lz_cpu_scratch((size_t)(Bt * M * K) * esz, &capA, "lz_einsum");
  if (b && A) B = lz_cpu_scratch((size_t)(Bt * K * N) * esz, &capB, "lz_einsum");
  if (A && (B || !b)) C = lz_cpu_scratch((size_t)(Bt * M * N) * esz, &capC, "lz_einsum");
  if (!C) goto done;
  /* pack A as (batch..., M..., K...) */
  int n = 0;
  for (int i = 0; i < nbat; i++) lab[n++] = bat[i];
  for (int i = 0; i < nm; i++) lab[n++] = ml[i];
  for (int i = 0; i < nk; i++) lab[n++] = kl[i];
  gather_dims(&li, lab, n, li.sa, shape, src);
  contiguous(shape, n, dst);
  lz_cpu_copy_cast(A, ct, dst, lz__data_ptr(a), a->dtype, src, n, shape);
  if (b) { /* pack B as (batch..., K..., N...) */
    n = 0;
    for (int i = 0; i < nbat; i++) lab[n++] = bat[i];
    for (int i = 0; i < nk; i++) lab[n++] = kl[i];
    for (int i = 0; i < nn; i++) lab[n++] = nl[i];
    gather_dims(&li, lab, n, li.sb, shape, src);
    contiguous(shape, n, dst);
    lz_cpu_copy_cast(B, ct, dst, lz__data_ptr(b), b->dtype, src, n, shape);
    ct_job j = {ct, M, N, K, A, B, C};
    int64_t work = M * N * (K > 0 ? K : 1);
    int64_t grain = work >= (int64_t)1 << 18 ? 1 : ((int64_t)1 << 18) / work;
    lz__parallel_for(Bt, grain, ct == LZ_INT64 ? int_batches : float_batches, &j);
  } else {
    row_sums(ct, M, K, A, C);
  }
  /* C is (batch..., M..., N...): write it in the output's order */
  n = 0;
  for (int i = 0; i < nbat; i++) lab[n++] = bat[i];
  for (int i = 0; i < nm; i++) lab[n++] = ml[i];
  for (int i = 0; i < nn; i++) lab[n++] = nl[i];
  gather_dims(&li, lab, n, li.so, shape, dst);
  contiguous(shape, n, src);
  lz_cpu_copy_cast(lz__data_ptr(out), out->dtype, dst, C, ct, src, n, shape);
  rc = 0;
done:
  lz_cpu_scratch_free(A, capA);
  lz_cpu_scratch_free(B, capB);
  lz_cpu_scratch_free(C, capC);
  return rc;
}
