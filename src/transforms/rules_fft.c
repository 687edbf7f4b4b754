/* vjp and jvp rules of the FFT op (ops/fft.c). Every transform is linear, so its jvp is the
 * same transform of the tangent. The node's input is already cropped or padded, so along each
 * transformed axis it has the n points of the transform.
 *
 * A complex cotangent g stands for dL/dRe - i dL/dIm (MLX's convention: the cotangent of
 * imag(z) is -i c, that of a product a * b is c * b), so the vjp of a complex-linear map is
 * its plain transpose. The DFT matrix is symmetric: fft's vjp is fft, ifft's is ifft. rfft is
 * fft of a real input cropped to n/2 + 1 frequencies on its last axis: its transpose pads the
 * cotangent back to n, applies fft and keeps the real part. irfft reads each interior
 * frequency k (0 < k < n/2) twice, as X_k and as the conjugate of X_(n-k), and the zero (and,
 * n even, the Nyquist) frequency once, ignoring their imaginary parts: its transpose is
 * conj(rfft) / N with the interior doubled, N the number of points. A norm scales a transform
 * and its transpose alike. */
#include "cpu/fft.h"
#include "transforms/transforms_impl.h"

#include <stdlib.h>

/* The sizes (input points) of the node's transform along its axes, and their product. */
static double fft_sizes(const lz_node *n, int *s) {
  const lz_fft_params *p = n->params;
  const lz_array *x = n->inputs[0], *y = n->outputs[0];
  double total = 1;
  for (int i = 0; i < p->naxes; i++) {
    /* the halved axis of irfft: its full length is the output's */
    bool last_real = p->real && p->inverse && i == p->naxes - 1;
    s[i] = last_real ? y->shape[p->axes[i]] : x->shape[p->axes[i]];
    total *= s[i];
  }
  return total;
}

/* The node's transform (forward or inverse, real or complex) of `v`, with the node's sizes,
 * under `norm`. */
static lz_array *transform(const lz_node *n, lz_array *v, bool real, bool inverse,
                           lz_fft_norm norm) {
  const lz_fft_params *p = n->params;
  int s[LZ_MAX_NDIM], k = p->naxes;
  fft_sizes(n, s);
  if (real)
    return inverse ? lz_irfftn_v2(v, s, p->axes, k, norm) : lz_rfftn_v2(v, s, p->axes, k, norm);
  return inverse ? lz_ifftn_v2(v, s, p->axes, k, norm) : lz_fftn_v2(v, s, p->axes, k, norm);
}

/* Weights (1, ..., m, ..., 1) along `axis` of an nd-dim array, float32: 2 for the interior
 * frequencies of an n-point real signal (m = n/2 + 1), 1 for zero and (n even) Nyquist. */
static lz_array *hermitian_weights(int n, int axis, int nd) {
  int m = n / 2 + 1, shape[LZ_MAX_NDIM];
  float *w = lz__malloc((size_t)m * sizeof *w);
  if (!w) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_vjp", "out of memory");
    return NULL;
  }
  for (int k = 0; k < m; k++) w[k] = (k == 0 || (n % 2 == 0 && k == n / 2)) ? 1.0f : 2.0f;
  for (int d = 0; d < nd; d++) shape[d] = d == axis ? m : 1;
  lz_array *r = lz_array_from_data(w, shape, nd, LZ_FLOAT32);
  free(w);
  return r;
}

static int vjp_fft(const lz_vjp_args *a, lz_array **g) {
  const lz_node *n = a->node;
  const lz_fft_params *p = n->params;
  lz_array *c = a->cotans[0], *x = a->inputs[0], *r;
  g[0] = NULL;
  if (!a->need[0] || !c) return 0;
  int s[LZ_MAX_NDIM];
  double total = fft_sizes(n, s);
  if (!p->real) { /* the DFT is symmetric: fft^T = fft, ifft^T = ifft (same norm) */
    r = transform(n, c, false, p->inverse, p->norm);
  } else if (!p->inverse) { /* rfft: pad back to n, fft (same norm), real part */
    r = lz_real(lz_fftn_v2(c, s, p->axes, p->naxes, p->norm));
  } else { /* irfft: conj(rfft) times irfft's scale, interior frequencies doubled */
    int last = p->axes[p->naxes - 1];
    r = lz_conj(transform(n, lz_astype(c, LZ_FLOAT32), true, false, LZ_FFT_NORM_BACKWARD));
    r = lz_multiply(r, hermitian_weights(s[p->naxes - 1], last, x->ndim));
    r = lz_multiply(r, lz_scalar(lz__fft_scale(p->norm, true, total), LZ_FLOAT32));
  }
  return (g[0] = lz_astype(r, x->dtype)) ? 0 : -1;
}

static int jvp_fft(const lz_jvp_args *a, lz_array **t) {
  const lz_node *n = a->node;
  const lz_fft_params *p = n->params;
  t[0] = NULL;
  if (!a->tangents[0]) return 0;
  lz_array *v = lz_astype(a->tangents[0], n->inputs[0]->dtype);
  return (t[0] = transform(n, v, p->real, p->inverse, p->norm)) ? 0 : -1;
}

const lz_rule lz__rules_fft[LZ_OP_COUNT] = {
    [LZ_OP_FFT] = {vjp_fft, jvp_fft, NULL},
};
