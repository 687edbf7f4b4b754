/* lz_import_function on hand-made files whose nodes are well formed but wrong for their op:
 * parameters that contradict the input shapes (a bad permutation, an out-of-range slice or
 * axis, a wrong reshape size, a zero convolution stride, a negative pad, a bad quantization
 * group size, ...), outputs whose shapes or dtypes the inputs do not give, inputs of dtypes the
 * constructor would have converted, and ops the importer has no check for. Each family's op
 * is first imported and run with good parameters (the hand-made file itself is valid), then
 * refused with an IO error naming the op and the constructor's reason. */
#include <unistd.h>

#include "compile/import_check.h" /* cz_check_of */
#include "core/internal.h"
#include "cpu/conv.h"
#include "cpu/fast.h"
#include "cpu/fft.h"
#include "cpu/gather.h"
#include "cpu/linalg.h"
#include "cpu/matmul.h"
#include "cpu/quantize.h"
#include "cpu/random.h"
#include "cpu/reduce.h"
#include "cpu/shape.h"
#include "lz_test.h"

static char path[256];

typedef struct sig {
  lz_dtype dt;
  int nd;
  int shape[4];
} sig;

typedef struct buf {
  unsigned char p[4096];
  size_t n;
} buf;
static void w32(buf *b, uint32_t v) {
  for (int i = 0; i < 4; i++) b->p[b->n++] = (unsigned char)(v >> (8 * i));
}
static void w64(buf *b, uint64_t v) { w32(b, (uint32_t)v), w32(b, (uint32_t)(v >> 32)); }
static void wsig(buf *b, sig s) {
  b->p[b->n++] = (unsigned char)s.dt, b->p[b->n++] = (unsigned char)s.nd;
  for (int d = 0; d < s.nd; d++) w32(b, (uint32_t)s.shape[d]);
}

/* A file of one trace: inputs `in`, one node of `op` reading them all with `params` (the op's
 * params_size bytes, or none) and outputs `out`, which are the trace's outputs. */
static void write_node_file(const char *op, const sig *in, int nin, const void *params,
                            const sig *out, int nout) {
  int id = -1;
  for (int i = 0; i < LZ_OP_COUNT && id < 0; i++)
    if (strcmp(lz__op(i)->name, op) == 0) id = i;
  size_t psz = id >= 0 ? lz__op(id)->params_size : 0;
  static buf m, f;
  m.n = f.n = 0;
  w32(&m, 1), w32(&m, (uint32_t)strlen(op));
  memcpy(m.p + m.n, op, strlen(op)), m.n += strlen(op);
  w32(&m, (uint32_t)psz);
  w32(&m, 0); /* constants */
  w32(&m, 1); /* traces */
  w32(&m, 0), w32(&m, (uint32_t)nin);
  for (int i = 0; i < nin; i++) wsig(&m, in[i]);
  w32(&m, 0); /* trace constants */
  w32(&m, 1), w32(&m, 0), w32(&m, (uint32_t)nin), w32(&m, (uint32_t)nout);
  for (int i = 0; i < nin; i++) w32(&m, (uint32_t)i);
  for (int k = 0; k < nout; k++) wsig(&m, out[k]);
  if (psz) memcpy(m.p + m.n, params, psz), m.n += psz;
  w32(&m, (uint32_t)nout);
  for (int k = 0; k < nout; k++) w32(&m, (uint32_t)(nin + k));
  memcpy(f.p, "LZFUNC\r\n", 8), f.n = 8;
  w32(&f, 1), w32(&f, 0);
  memcpy(f.p + f.n, "0.1.0", 5), f.n += 16;
  w64(&f, m.n), w64(&f, 48 + m.n);
  memcpy(f.p + f.n, m.p, m.n), f.n += m.n;
  FILE *fp = fopen(path, "wb");
  fwrite(f.p, 1, f.n, fp);
  fclose(fp);
}

/* Ones of each input signature, plus 3 on the diagonal of square matrices (positive
 * definite), or a valid key for uint32 (2,). */
static lz_array *input_of(sig s) {
  if (s.dt == LZ_UINT32 && s.nd == 1 && s.shape[0] == 2) return lz_random_key(3);
  lz_array *x = lz_full(s.shape, s.nd, 1.0, LZ_FLOAT32);
  int n = s.nd >= 2 ? s.shape[s.nd - 1] : 0;
  if (n && s.shape[s.nd - 2] == n) x = lz_add(x, lz_multiply_scalar(lz_eye(n, n, 0, LZ_FLOAT32), 3));
  return lz_astype(x, s.dt);
}

/* The good file imports, and running it gives outputs of the declared signatures. */
static void check_accepted(const char *op, const sig *in, int nin, const void *params,
                           const sig *out, int nout) {
  write_node_file(op, in, nin, params, out, nout);
  lz_clear_error();
  lz_closure *g = lz_import_function(path);
  lzt_checks++;
  if (!g) {
    lzt_failures++;
    fprintf(stderr, "%s: good '%s' refused: %s\n", lzt_current, op, lz_last_error());
    lz_clear_error();
    return;
  }
  lz_scope_begin();
  lz_array *x[8], *y[8] = {NULL};
  for (int i = 0; i < nin; i++) x[i] = input_of(in[i]);
  int k = lz_closure_call(g, x, nin, y);
  bool ok = k == nout && lz_eval_many(y, nout) == 0;
  for (int j = 0; ok && j < nout; j++) {
    ok = lz_array_dtype(y[j]) == out[j].dt && lz_array_ndim(y[j]) == out[j].nd;
    for (int d = 0; ok && d < out[j].nd; d++) ok = lz_array_shape(y[j])[d] == out[j].shape[d];
  }
  lzt_checks++;
  if (!ok) {
    lzt_failures++;
    fprintf(stderr, "%s: good '%s' did not run as declared: %s\n", lzt_current, op,
            lz_last_error());
  }
  lz_scope_end();
  lz_closure_free(g);
  lz_clear_error();
}

static void check_refused(const char *op, const sig *in, int nin, const void *params,
                          const sig *out, int nout, const char *needle) {
  write_node_file(op, in, nin, params, out, nout);
  lz_clear_error();
  lz_closure *g = lz_import_function(path);
  char want[96];
  snprintf(want, sizeof want, "op '%s'", op);
  lzt_checks++;
  if (g || lz_last_error_code() != LZ_ERROR_IO || !strstr(lz_last_error(), want) ||
      !strstr(lz_last_error(), needle)) {
    lzt_failures++;
    fprintf(stderr, "%s: bad '%s': expected an IO error with \"%s\", got \"%s\"\n", lzt_current,
            op, needle, g ? "(imported)" : lz_last_error());
  }
  lz_closure_free(g);
  lz_clear_error();
}

#define F32(...) ((sig){LZ_FLOAT32, sizeof((int[]){__VA_ARGS__}) / sizeof(int), {__VA_ARGS__}})
#define S(dt, ...) ((sig){dt, sizeof((int[]){__VA_ARGS__}) / sizeof(int), {__VA_ARGS__}})
#define SCALAR(dt) ((sig){dt, 0, {0}})
#define GOOD(op, in, p, out) check_accepted(op, in, sizeof in / sizeof *in, p, out, sizeof out / sizeof *out)
#define BAD(op, in, p, out, needle) \
  check_refused(op, in, sizeof in / sizeof *in, p, out, sizeof out / sizeof *out, needle)

static void test_elementwise(void) {
  sig in[2] = {F32(4), F32(4)}, out[1] = {F32(4)};
  GOOD("add", in, NULL, out);
  sig mixed[2] = {F32(4), S(LZ_INT32, 4)};
  BAD("add", mixed, NULL, out, "converts its inputs"); /* the constructor casts the int32 */
  sig f16[1] = {S(LZ_FLOAT16, 4)};
  BAD("add", in, NULL, f16, "output dtype");
  sig three[2] = {F32(4), F32(3)};
  BAD("add", three, NULL, out, "[lz_add]"); /* shapes that do not broadcast */
  sig wide[1] = {F32(2, 4)};
  BAD("add", in, NULL, wide, "output shape");
  sig one[1] = {F32(4)}, i32[1] = {S(LZ_INT32, 4)};
  GOOD("sqrt", one, NULL, out);
  BAD("sqrt", i32, NULL, out, "converts its inputs"); /* integers are cast to float32 first */
  GOOD("astype", one, NULL, i32);
  sig cond[3] = {S(LZ_BOOL, 4), F32(4), F32(4)};
  GOOD("where", cond, NULL, out);
  sig notbool[3] = {F32(4), F32(4), F32(4)};
  BAD("where", notbool, NULL, out, "converts its inputs");
  sig two[2] = {F32(4), F32(4)}, dm[2] = {F32(4), F32(4)};
  GOOD("divmod", two, NULL, dm);
  BAD("divmod", two, NULL, out, "1 outputs");
}

static void test_reductions_scans_sorts(void) {
  sig in[1] = {F32(3, 4)};
  lz_reduce_params r = {1, {1}, 0};
  sig red[1] = {F32(3)}, keep[1] = {F32(3, 1)};
  GOOD("sum", in, &r, red);
  GOOD("sum", in, &r, keep);
  lz_reduce_params bad_axis = {1, {5}, 0};
  BAD("sum", in, &bad_axis, red, "[lz_sum]");
  lz_reduce_params many = {99, {0}, 0};
  BAD("mean", in, &many, red, "99 axes");
  lz_reduce_params twice = {2, {1, 1}, 0};
  BAD("max", in, &twice, red, "[lz_max]");
  BAD("sum", in, &r, (sig[]){F32(4)}, "output shape");
  sig same[1] = {F32(3, 4)};
  GOOD("softmax", in, &r, same);
  BAD("softmax", in, &bad_axis, same, "[lz_softmax]");
  lz_axis_params ax = {.axis = 1};
  GOOD("cumsum", in, &ax, same);
  GOOD("argmax", in, &ax, ((sig[]){S(LZ_UINT32, 3)}));
  lz_axis_params ax3 = {.axis = 3};
  BAD("cumsum", in, &ax3, same, "[lz_cumsum]");
  BAD("argmax", in, &ax3, ((sig[]){S(LZ_UINT32, 3)}), "[lz_argmax]");
  lz_axis_params topk = {.axis = 1, .k = 2};
  GOOD("topk", in, &topk, ((sig[]){F32(3, 2)}));
  lz_axis_params topk9 = {.axis = 1, .k = 9};
  BAD("topk", in, &topk9, ((sig[]){F32(3, 9)}), "[lz_topk]");
  lz_axis_params part = {.axis = 0, .k = -7};
  BAD("partition", in, &part, same, "[lz_partition]");
  BAD("sort", in, &ax, ((sig[]){S(LZ_UINT32, 3, 4)}), "output dtype");
}

static void test_shape_ops(void) {
  sig in[1] = {F32(2, 3)};
  lz_transpose_params perm = {{1, 0}}, dup = {{0, 0}}, far = {{1, 7}};
  sig t[1] = {F32(3, 2)};
  GOOD("transpose", in, &perm, t);
  BAD("transpose", in, &dup, t, "[lz_transpose]");
  BAD("transpose", in, &far, t, "[lz_transpose]");
  GOOD("reshape", in, NULL, ((sig[]){F32(6)}));
  BAD("reshape", in, NULL, ((sig[]){F32(7)}), "[lz_reshape]");
  GOOD("broadcast_to", in, NULL, ((sig[]){F32(4, 2, 3)}));
  BAD("broadcast_to", in, NULL, ((sig[]){F32(2, 4)}), "[lz_broadcast_to]");
  lz_slice_params s = {{0, 1}, {1, 2}};
  GOOD("slice", in, &s, ((sig[]){F32(2, 1)}));
  BAD("slice", in, &s, ((sig[]){F32(2, 2)}), "output shape"); /* 1, 3: past the end */
  lz_slice_params from_end = {{0, 5}, {1, 1}}, zero = {{0, 0}, {1, 0}}, back = {{1, 2}, {-1, -1}};
  BAD("slice", in, &from_end, ((sig[]){F32(2, 1)}), "output shape");
  BAD("slice", in, &zero, ((sig[]){F32(2, 1)}), "step 0");
  GOOD("slice", in, &back, ((sig[]){F32(2, 3)})); /* both axes reversed */
  BAD("slice", in, &back, ((sig[]){F32(3, 3)}), "output shape");
  lz_pad_params pad = {{1, 0}, LZ_PAD_CONSTANT, 0.5}, neg = {{-1, 0}, LZ_PAD_CONSTANT, 0},
                mode = {{0, 0}, 9, 0};
  GOOD("pad", in, &pad, ((sig[]){F32(4, 3)}));
  BAD("pad", in, &neg, ((sig[]){F32(2, 3)}), "[lz_pad]");
  BAD("pad", in, &pad, ((sig[]){F32(2, 3)}), "[lz_pad]"); /* a negative high width */
  BAD("pad", in, &mode, ((sig[]){F32(2, 3)}), "mode 9");
  lz_concatenate_params c0 = {0}, c5 = {5};
  sig two[2] = {F32(2, 3), F32(1, 3)};
  GOOD("concatenate", two, &c0, ((sig[]){F32(3, 3)}));
  BAD("concatenate", two, &c5, ((sig[]){F32(3, 3)}), "[lz_concatenate]");
  sig mism[2] = {F32(2, 3), F32(1, 4)};
  BAD("concatenate", mism, &c0, ((sig[]){F32(3, 3)}), "[lz_concatenate]");
  lz_split_params sp = {1, 0}, sp9 = {9, 0};
  GOOD("split", in, &sp, ((sig[]){F32(2, 1), F32(2, 2)}));
  BAD("split", in, &sp, ((sig[]){F32(2, 2), F32(2, 2)}), "output shape");
  BAD("split", in, &sp, ((sig[]){F32(2, 2), F32(2, 2), F32(2, 1)}), "more than its input");
  BAD("split", in, &sp9, ((sig[]){F32(2, 1), F32(2, 2)}), "axis 9");
  lz_as_strided_params st = {{1, 1}, 0}, outside = {{3, 1}, 2};
  GOOD("as_strided", in, &st, ((sig[]){F32(2, 2)}));
  BAD("as_strided", in, &outside, ((sig[]){F32(2, 2)}), "[lz_as_strided]");
  lz_diagonal_params dg = {0, 0, 1}, same = {0, 1, 1};
  GOOD("diagonal", in, &dg, ((sig[]){F32(2)}));
  BAD("diagonal", in, &same, ((sig[]){F32(2)}), "[lz_diagonal]");
  sig scalar[1] = {SCALAR(LZ_FLOAT32)};
  GOOD("full", scalar, NULL, ((sig[]){F32(2, 5)}));
  BAD("full", in, NULL, ((sig[]){F32(2, 5)}), "needs a 0-d");
}

static void test_indexing_ops(void) {
  sig in[2] = {F32(3, 4), S(LZ_INT32, 2)};
  lz_index_params t1 = {.axis = 1}, t7 = {.axis = 7};
  GOOD("take", in, &t1, ((sig[]){F32(3, 2)}));
  BAD("take", in, &t7, ((sig[]){F32(3, 2)}), "[lz_take]");
  sig fidx[2] = {F32(3, 4), F32(2)};
  BAD("take", fidx, &t1, ((sig[]){F32(3, 2)}), "[lz_take]"); /* float indices */
  sig along[2] = {F32(3, 4), S(LZ_INT32, 3, 2)};
  GOOD("take_along_axis", along, &t1, ((sig[]){F32(3, 2)}));
  sig flat_idx[2] = {F32(3, 4), S(LZ_INT32, 6)};
  BAD("take_along_axis", flat_idx, &t1, ((sig[]){F32(3, 2)}), "[lz_take_along_axis]");
  lz_index_params g = {.naxes = 1, .axes = {0}, .sizes = {1, 4}};
  GOOD("gather", in, &g, ((sig[]){F32(2, 1, 4)}));
  lz_index_params g_big = {.naxes = 1, .axes = {0}, .sizes = {1, 9}};
  BAD("gather", in, &g_big, ((sig[]){F32(2, 1, 9)}), "[lz_gather]");
  lz_index_params g_two = {.naxes = 2, .axes = {0, 1}, .sizes = {1, 1}};
  BAD("gather", in, &g_two, ((sig[]){F32(2, 1, 1)}), "2 axes for 1 indices");
  sig sc[3] = {F32(3, 4), S(LZ_INT32, 2), F32(2, 1, 4)};
  lz_index_params s_ok = {.mode = LZ_SCATTER_ADD, .naxes = 1, .axes = {0}},
                  s_mode = {.mode = 42, .naxes = 1, .axes = {0}},
                  s_axis = {.mode = LZ_SCATTER_SET, .naxes = 1, .axes = {6}};
  GOOD("scatter", sc, &s_ok, ((sig[]){F32(3, 4)}));
  BAD("scatter", sc, &s_mode, ((sig[]){F32(3, 4)}), "mode 42");
  BAD("scatter", sc, &s_axis, ((sig[]){F32(3, 4)}), "[lz_scatter]");
  sig upd[2] = {F32(3, 4), F32(2, 2)};
  lz_index_params su = {.start = {1, 0}, .step = {1, 2}, .sizes = {2, 2}},
                  su_far = {.start = {2, 0}, .step = {1, 1}, .sizes = {2, 2}},
                  su_step = {.start = {0, 0}, .step = {0, 1}, .sizes = {2, 2}};
  GOOD("slice_update", upd, &su, ((sig[]){F32(3, 4)}));
  BAD("slice_update", upd, &su_far, ((sig[]){F32(3, 4)}), "[lz_slice_update]");
  BAD("slice_update", upd, &su_step, ((sig[]){F32(3, 4)}), "step 0");
  sig pa[3] = {F32(3, 4), S(LZ_INT32, 3, 1), F32(1)};
  GOOD("put_along_axis", pa, &t1, ((sig[]){F32(3, 4)}));
  BAD("put_along_axis", pa, &t7, ((sig[]){F32(3, 4)}), "[lz_put_along_axis]");
}

static void test_nn_ops(void) {
  sig mm[2] = {F32(2, 3), F32(3, 5)}, mm_bad[2] = {F32(2, 3), F32(4, 5)};
  GOOD("matmul", mm, NULL, ((sig[]){F32(2, 5)}));
  BAD("matmul", mm_bad, NULL, ((sig[]){F32(2, 5)}), "[lz_matmul]");
  BAD("matmul", mm, NULL, ((sig[]){F32(2, 6)}), "output shape");
  sig cv[2] = {F32(1, 5, 5, 2), F32(3, 3, 3, 2)};
  lz_conv_params c = {.nsp = 2, .stride = {1, 1}, .kdil = {1, 1}, .idil = {1, 1}, .groups = 1};
  GOOD("convolution", cv, &c, ((sig[]){F32(1, 3, 3, 3)}));
  lz_conv_params c0 = c, cg = c, cn = c;
  c0.stride[0] = 0, cg.groups = 0, cn.nsp = 3;
  BAD("convolution", cv, &c0, ((sig[]){F32(1, 3, 3, 3)}), "[lz_conv_general]");
  BAD("convolution", cv, &cg, ((sig[]){F32(1, 3, 3, 3)}), "[lz_conv_general]");
  BAD("convolution", cv, &cn, ((sig[]){F32(1, 3, 3, 3)}), "3 spatial dims");
  lz_conv_params cp = c;
  cp.pad_lo[0] = -9;
  BAD("convolution", cv, &cp, ((sig[]){F32(1, 3, 3, 3)}), "[lz_conv_general]");
  sig rn[2] = {F32(2, 4), F32(4)}, rn_bad[2] = {F32(2, 4), F32(3)};
  lz_norm_params np = {1e-5f, true, false};
  GOOD("rms_norm", rn, &np, ((sig[]){F32(2, 4)}));
  BAD("rms_norm", rn_bad, &np, ((sig[]){F32(2, 4)}), "[lz_fast_rms_norm]");
  sig qkv[3] = {F32(1, 1, 4, 6), F32(1, 1, 4, 6), F32(1, 1, 4, 6)};
  lz_sdpa_params sd = {0.5f, LZ_SDPA_CAUSAL, false}, sd7 = {0.5f, 7, false};
  GOOD("scaled_dot_product_attention", qkv, &sd, ((sig[]){F32(1, 1, 4, 6)}));
  BAD("scaled_dot_product_attention", qkv, &sd7, ((sig[]){F32(1, 1, 4, 6)}), "mask mode 7");
  lz_rope_params rp = {.dims = 6, .base = 10000, .scale = 1}, rp_odd = {.dims = 7, .base = 1, .scale = 1};
  sig x4[1] = {F32(1, 1, 4, 6)};
  GOOD("rope", x4, &rp, x4);
  BAD("rope", x4, &rp_odd, x4, "[lz_fast_rope]");
  /* quantized_matmul: x (2, 64), w (8, 64/8) uint32 for 4 bits, scales/biases (8, 2) */
  sig q[4] = {F32(2, 64), S(LZ_UINT32, 8, 8), F32(8, 2), F32(8, 2)};
  lz_quant_params qp = {32, 4, true, LZ_QUANT_AFFINE}, q7 = {7, 4, true, LZ_QUANT_AFFINE},
                  qb = {32, 5, true, LZ_QUANT_AFFINE}, qm = {32, 4, true, 77};
  GOOD("quantized_matmul", q, &qp, ((sig[]){F32(2, 8)}));
  BAD("quantized_matmul", q, &q7, ((sig[]){F32(2, 8)}), "[lz_quantized_matmul]");
  BAD("quantized_matmul", q, &qb, ((sig[]){F32(2, 8)}), "[lz_quantized_matmul]");
  BAD("quantized_matmul", q, &qm, ((sig[]){F32(2, 8)}), "mode 77");
  sig dq[3] = {S(LZ_UINT32, 8, 8), F32(8, 2), F32(8, 2)};
  GOOD("dequantize", dq, &qp, ((sig[]){F32(8, 64)}));
  BAD("dequantize", dq, &q7, ((sig[]){F32(8, 64)}), "[lz_dequantize]");
}

static void test_random_linalg_fft(void) {
  sig key[1] = {S(LZ_UINT32, 2)};
  lz_random_params bits = {.width = 4}, bits3 = {.width = 3};
  GOOD("random_bits", key, &bits, ((sig[]){S(LZ_UINT32, 3, 2)}));
  BAD("random_bits", key, &bits3, ((sig[]){S(LZ_UINT32, 3, 2)}), "[lz_random_bits]");
  BAD("random_bits", key, &bits, ((sig[]){S(LZ_UINT8, 3, 2)}), "output dtype");
  sig badkey[1] = {S(LZ_UINT32, 3)};
  BAD("random_bits", badkey, &bits, ((sig[]){S(LZ_UINT32, 3, 2)}), "[lz_random_bits]");
  lz_random_params nrm = {.dtype = LZ_FLOAT32, .scale = 1}, nrm_i = {.dtype = LZ_INT32, .scale = 1};
  GOOD("random_normal", key, &nrm, ((sig[]){F32(4)}));
  BAD("random_normal", key, &nrm_i, ((sig[]){S(LZ_INT32, 4)}), "[lz_random_normal]");
  sig sq[1] = {F32(3, 3)}, rect[1] = {F32(3, 4)};
  lz_linalg_flag_params lower = {0};
  GOOD("linalg_cholesky", sq, &lower, sq);
  BAD("linalg_cholesky", rect, &lower, rect, "[lz_linalg_cholesky]");
  sig sv[2] = {F32(3, 3), F32(3)};
  GOOD("linalg_solve", sv, &lower, ((sig[]){F32(3)}));
  sig sv_bad[2] = {F32(3, 3), F32(4)};
  BAD("linalg_solve", sv_bad, &lower, ((sig[]){F32(4)}), "[lz_linalg_solve]");
  sig cx[1] = {S(LZ_COMPLEX64, 4, 8)};
  lz_fft_params fp = {.naxes = 1, .axes = {1}}, fp9 = {.naxes = 1, .axes = {9}},
                fn = {.naxes = 1, .axes = {1}, .norm = 12};
  GOOD("fft", cx, &fp, cx);
  BAD("fft", cx, &fp9, cx, "axis 9");
  BAD("fft", cx, &fn, cx, "[lz_fftn]");
  BAD("fft", ((sig[]){F32(4, 8)}), &fp, ((sig[]){F32(4, 8)}), "converts its inputs");
}

/* Ops whose nodes only composites make, checked directly: contract's labels, ggml blocks. */
static void test_composite_ops(void) {
  sig ab[2] = {F32(4, 6), F32(5, 6)};
  lz_contract_params c = {{0, 1}, {2, 1}, {0, 2}, 2};
  GOOD("contract", ab, &c, ((sig[]){F32(4, 5)}));
  GOOD("contract", ab, &c, ((sig[]){F32(20)})); /* outer's flattened output */
  BAD("contract", ab, &c, ((sig[]){F32(4, 6)}), "declares 24 output elements for 20");
  sig ab7[2] = {F32(4, 6), F32(5, 7)};
  BAD("contract", ab7, &c, ((sig[]){F32(4, 5)}), "sizes 6 and 7");
  lz_contract_params c9 = {{0, 1}, {2, 1}, {0, 9}, 2}, c70 = {{0, 70}, {2, 1}, {0, 2}, 2},
                     dup = {{0, 1}, {2, 1}, {0, 0}, 2}, b_alone = {{0, 1}, {2, 3}, {0}, 1};
  BAD("contract", ab, &c9, ((sig[]){F32(4, 5)}), "output label 9");
  BAD("contract", ab, &c70, ((sig[]){F32(4, 5)}), "label 70");
  BAD("contract", ab, &dup, ((sig[]){F32(4, 4)}), "output label 0");
  BAD("contract", ab, &b_alone, ((sig[]){F32(4)}), "of b alone");
  sig blocks[1] = {S(LZ_UINT8, 2, 18)}, few[1] = {S(LZ_UINT8, 1, 18)};
  sig unpacked[3] = {S(LZ_UINT32, 1, 8), S(LZ_FLOAT16, 1, 2), S(LZ_FLOAT16, 1, 2)};
  lz_ggml_params q40 = {LZ_GGML_Q4_0, 4}, q99 = {99, 4};
  GOOD("ggml_unpack", blocks, &q40, unpacked);
  BAD("ggml_unpack", few, &q40, unpacked, "1 blocks for 64 values");
  BAD("ggml_unpack", blocks, &q99, unpacked, "[lz_ggml_unpack]");
  sig kl[2] = {S(LZ_UINT32, 2), F32(3, 4)};
  lz_random_params cat = {.dtype = LZ_FLOAT32, .gndim = 2, .gaxis = 1, .gshape = {3, 4}, .axis = 1},
                   cat5 = {.dtype = LZ_FLOAT32, .axis = 5};
  GOOD("random_categorical", kl, &cat, ((sig[]){S(LZ_UINT32, 3)}));
  BAD("random_categorical", kl, &cat5, ((sig[]){S(LZ_UINT32, 3)}), "[lz_random_categorical");
  sig m[1] = {F32(3, 4)};
  lz_linalg_norm_params nv = {LZ_NORM_VECTOR, 2, 1, {1, 0}, false},
                        n3 = {LZ_NORM_VECTOR, 2, 3, {1, 0}, false},
                        n7 = {LZ_NORM_VECTOR, 2, 1, {7, 0}, false};
  GOOD("linalg_norm", m, &nv, ((sig[]){F32(3)}));
  BAD("linalg_norm", m, &n3, ((sig[]){F32(3)}), "3 axes");
  BAD("linalg_norm", m, &n7, ((sig[]){F32(3)}), "[lz_linalg_norm]");
}

/* Ops the importer has no check for are refused by name: in the op table, before any node. */
static void test_unchecked_ops_are_refused_by_name(void) {
  int refused = 0;
  for (int op = 0; op < LZ_OP_COUNT; op++) {
    const char *name = lz__op(op)->name;
    if (strcmp(name, "load") == 0 || strcmp(name, "fused") == 0 ||
        strcmp(name, "placeholder") == 0 || strcmp(name, "mask_select") == 0 ||
        strcmp(name, "all_sum") == 0 || strcmp(name, "all_gather") == 0 || strcmp(name, "custom_transforms") == 0) {
      sig in[1] = {F32(4)};
      unsigned char params[1024] = {0};
      write_node_file(name, in, 1, params, in, 1);
      lz_clear_error();
      lz_closure *g = lz_import_function(path);
      char want[96];
      snprintf(want, sizeof want, "op '%s' cannot be imported", name);
      CHECK(!g && strstr(lz_last_error(), want));
      lz_closure_free(g);
      lz_clear_error();
      refused++;
    }
  }
  CHECK(refused == 7); /* load, fused, placeholder, mask_select, custom_transforms, 2 collectives */
}

/* Every op of the registry has an import check except these, whose nodes cannot be stored:
 * compile's own (placeholder, fused), LOAD (a file), the transform-only ops (traced through),
 * mask_select (its shape depends on the data) and the collectives (their parameters hold a
 * group). A new op without a check fails here (and would be refused by the importer). */
static void test_every_other_op_has_a_check(void) {
  static const char *const unchecked[] = {
      "placeholder", "fused", "load", "identity", "depends", "custom_transforms", "mask_select",
      "all_sum", "all_max", "all_min", "all_gather", "sum_scatter", "send", "recv"};
  int n = (int)(sizeof unchecked / sizeof *unchecked);
  for (int op = 0; op < LZ_OP_COUNT; op++) {
    const char *name = lz__op(op)->name;
    bool listed = false;
    for (int i = 0; i < n; i++) listed |= strcmp(unchecked[i], name) == 0;
    lzt_checks++;
    if (listed == (cz_check_of(op) != NULL)) {
      lzt_failures++;
      fprintf(stderr, "%s: op '%s' %s\n", lzt_current, name,
              listed ? "is listed as unchecked but has an import check" : "has no import check");
    }
  }
}

int main(void) {
  snprintf(path, sizeof path, "/tmp/lz_test_export_checks_%d.lzfn", (int)getpid());
  RUN(test_elementwise);
  RUN(test_reductions_scans_sorts);
  RUN(test_shape_ops);
  RUN(test_indexing_ops);
  RUN(test_nn_ops);
  RUN(test_random_linalg_fft);
  RUN(test_composite_ops);
  RUN(test_unchecked_ops_are_refused_by_name);
  RUN(test_every_other_op_has_a_check);
  unlink(path);
  return lzt_summary();
}
