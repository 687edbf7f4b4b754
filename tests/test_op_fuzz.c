/* A fuzz-style robustness test over every public op of the creation, elementwise, reduce,
 * shape, indexing and linalg headers.
 *
 * Each iteration picks an op from the table (tests/op_fuzz_*.h: one adapter per op that draws
 * its arguments from a seeded PRNG: shapes from 0-d to 5-d with empty and size-1 axes, every
 * dtype, valid, negative, out-of-range and repeated axes, wild parameters, NULL handles and
 * pointers, inputs that are transposed, sliced with steps, flipped, broadcast or unevaluated),
 * calls it, and checks the contract:
 *   - success: no error pending, a consistent shape and dtype (equal to the one the test
 *     computes itself where it can), and evaluation succeeds or fails with a clean error;
 *   - failure: NULL (or -1 with every output NULL), an error code, a message "[lz_...";
 *     a NULL input with an error already pending keeps that first error;
 *   - calls the test knows to be valid must succeed, known-invalid ones must fail;
 *   - the same call with every input contiguous gives the same result (values compared);
 *   - no array memory is left after the iteration's scope (ASan/LSan catch the rest).
 * A second test runs a sample of ops with the allocation-failure hook at every allocation.
 *
 * LZ_FUZZ_ITERS sets the number of iterations (default below), LZ_FUZZ_SEED the seed and
 * LZ_FUZZ_OP restricts the run to ops whose name contains it. */
#include "op_fuzz_creation.h"
#include "op_fuzz_elem.h"
#include "op_fuzz_index.h"
#include "op_fuzz_linalg.h"
#include "op_fuzz_reduce.h"
#include "op_fuzz_shape.h"

#define FZ_DEFAULT_ITERS 24000        /* about 100 calls per op */
#define FZ_SNAP_MAX ((size_t)1 << 16) /* elements of an output kept for comparison */

typedef struct fz_table {
  const fz_op *ops;
  size_t n;
} fz_table;
static const fz_table fz_tables[] = {
    {fz_elem_ops, sizeof fz_elem_ops / sizeof *fz_elem_ops},
    {fz_reduce_ops, sizeof fz_reduce_ops / sizeof *fz_reduce_ops},
    {fz_creation_ops, sizeof fz_creation_ops / sizeof *fz_creation_ops},
    {fz_shape_ops, sizeof fz_shape_ops / sizeof *fz_shape_ops},
    {fz_index_ops, sizeof fz_index_ops / sizeof *fz_index_ops},
    {fz_linalg_ops, sizeof fz_linalg_ops / sizeof *fz_linalg_ops},
};

/* What one run of a call produced, kept across its scope for the layout comparison. */
typedef struct fz_snap {
  int rc, nout;
  int eval_rc[FZ_MAX_OUT];
  lz_dtype dt[FZ_MAX_OUT];
  int nd[FZ_MAX_OUT];
  int shape[FZ_MAX_OUT][LZ_MAX_NDIM];
  void *data[FZ_MAX_OUT]; /* NULL when not read */
  size_t size[FZ_MAX_OUT];
  double tol;      /* the adapter's extra tolerance */
  bool no_compare; /* the adapter says values may depend on the layout */
  bool skip_float; /* float values may depend on the layout */
} fz_snap;

static void fz_snap_free(fz_snap *sn) {
  for (int k = 0; k < FZ_MAX_OUT; k++) free(sn->data[k]), sn->data[k] = NULL;
}

static int fz_failed_calls;
static bool fz_trace; /* LZ_FUZZ_TRACE: print each call's arguments before evaluating it */
static void fz_fail(fz *z, uint64_t seed, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fz_fail(fz *z, uint64_t seed, const char *fmt, ...) {
  lzt_failures++;
  if (++fz_failed_calls > 200) return; /* enough to read */
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "op fuzz lz_%s (seed %#llx%s%s): ", z->op, (unsigned long long)seed,
          z->contiguous ? ", contiguous" : "", z->oom ? ", alloc failure" : "");
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, " [args:%s] (error: %s)\n", z->note, lz_last_error());
}

static bool fz_msg_clean(void) {
  lz_error c = lz_last_error_code();
  return c != LZ_ERROR_NONE && c != LZ_ERROR_INTERNAL && c < LZ_ERROR_COUNT &&
         strncmp(lz_last_error(), "[lz_", 4) == 0;
}

/* Checks one output of a built call. */
static void fz_check_output(fz *z, uint64_t seed, int k) {
  lz_array *r = z->out[k];
  int nd = lz_array_ndim(r);
  lz_dtype d = lz_array_dtype(r);
  if (nd < 0 || nd > LZ_MAX_NDIM || (unsigned)d >= LZ_DTYPE_COUNT) {
    fz_fail(z, seed, "output %d has ndim %d, dtype %d", k, nd, (int)d);
    return;
  }
  const int *s = lz_array_shape(r);
  int64_t n = 1;
  for (int i = 0; i < nd; i++) {
    if (s[i] < 0) fz_fail(z, seed, "output %d has a negative dim", k);
    n *= s[i];
  }
  if ((int64_t)lz_array_size(r) != n)
    fz_fail(z, seed, "output %d: size %zu, shape product %lld", k, lz_array_size(r), (long long)n);
  if (!z->exp_set[k]) return;
  bool ok = nd == z->exp_nd[k];
  for (int i = 0; ok && i < nd; i++) ok = s[i] == z->exp_shape[k][i];
  char got[160], want[160];
  if (!ok)
    fz_fail(z, seed, "output %d has shape %s, expected %s", k, lz__fmt_shape(got, 160, s, nd),
            lz__fmt_shape(want, 160, z->exp_shape[k], z->exp_nd[k]));
  if (z->exp_dt[k] != LZ_DTYPE_COUNT && z->exp_dt[k] != d)
    fz_fail(z, seed, "output %d has dtype %s, expected %s", k, lz_dtype_name(d),
            lz_dtype_name(z->exp_dt[k]));
}

/* Runs one call of op with this seed; fills sn. In alloc-failure mode (oom > 0) the oom-th
 * allocation fails while building and evaluating, and the outputs are then evaluated again
 * with the hook off (their values go to sn); *hit tells whether any allocation failed.
 * oom < 0: a reference run for that mode (no NULL inputs injected). */
static void fz_run(const fz_op *op, uint64_t seed, bool contiguous, int64_t oom, fz_snap *sn,
                   bool *strided, bool *hit) {
  fz z;
  memset(&z, 0, sizeof z);
  memset(sn, 0, sizeof *sn);
  z.rng = seed;
  z.lrng = seed ^ 0x5DEECE66Dull;
  z.contiguous = contiguous;
  z.oom = oom > 0;
  z.op = op->name;
  z.null_at = -1;
  z.tol = 0;
  uint64_t ns = seed * 31 + 7;
  if (oom == 0 && fz_below(&ns, 100) < 5) {
    z.null_at = fz_below(&ns, 3);
    z.null_pending = fz_below(&ns, 2);
  }
  size_t mem0 = lz_get_active_memory();
  lz_clear_error();
  lz_scope_begin();
  if (z.oom) lz_set_alloc_failure(oom);
  op->run(&z, op);
  if (fz_trace) fprintf(stderr, "  args:%s\n", z.note);
  lz_error code = lz_last_error_code();
  bool clean = fz_msg_clean();
  bool oom_hit = code == LZ_ERROR_OUT_OF_MEMORY;
  char msg[256];
  snprintf(msg, sizeof msg, "%s", lz_last_error());
  if (!z.null_given) z.null_pending = false;
  if (z.null_given) z.expect = FZ_FAIL;
  sn->rc = z.rc;
  sn->nout = z.nout;
  if (z.rc == 0) {
    if (code != LZ_ERROR_NONE) fz_fail(&z, seed, "returned a result with an error pending");
    if (z.expect == FZ_FAIL && !z.oom) fz_fail(&z, seed, "accepted invalid arguments");
    for (int k = 0; k < z.nout; k++) {
      if (!z.out[k] || z.out[k] == FZ_MARKER) {
        fz_fail(&z, seed, "output %d is not set but the call succeeded", k);
        z.out[k] = NULL;
      } else {
        fz_check_output(&z, seed, k);
      }
    }
  } else {
    for (int k = 0; k < z.nout; k++)
      if (z.out[k]) fz_fail(&z, seed, "failed but output %d is not NULL", k), z.out[k] = NULL;
    if (!clean) fz_fail(&z, seed, "failed without a clean error (code %d)", (int)code);
    if (z.null_pending && strncmp(msg, "[lz_fuzz_marker]", 16) != 0)
      fz_fail(&z, seed, "a NULL input did not pass the pending error through");
    if (z.oom && code != LZ_ERROR_OUT_OF_MEMORY)
      fz_fail(&z, seed, "failed under the allocation hook with code %d", (int)code);
    if (!z.oom && !z.builder_failed && z.expect == FZ_OK)
      fz_fail(&z, seed, "rejected valid arguments");
    lz_clear_error();
  }
  for (int k = 0; z.rc == 0 && k < z.nout; k++) {
    if (!z.out[k]) z.rc = -1; /* reported above */
  }
  /* evaluation: one by one, or all at once */
  bool many = z.nout > 1 && fz_below(&ns, 2);
  if (z.rc == 0 && many) {
    int rc = lz_eval_many(z.out, (size_t)z.nout);
    if (rc != 0) {
      oom_hit |= lz_last_error_code() == LZ_ERROR_OUT_OF_MEMORY;
      if (!fz_msg_clean())
        fz_fail(&z, seed, "lz_eval_many failed without a clean error");
      else if (z.eval_ok && !z.oom)
        fz_fail(&z, seed, "a valid call failed to evaluate");
      lz_clear_error();
    }
  }
  for (int k = 0; z.rc == 0 && k < z.nout; k++) {
    int rc = lz_eval(z.out[k]);
    if (rc != 0) {
      oom_hit |= lz_last_error_code() == LZ_ERROR_OUT_OF_MEMORY;
      if (!fz_msg_clean())
        fz_fail(&z, seed, "evaluating output %d failed uncleanly", k);
      else if (z.oom && lz_last_error_code() != LZ_ERROR_OUT_OF_MEMORY)
        fz_fail(&z, seed, "evaluation under the allocation hook failed with code %d",
                (int)lz_last_error_code());
      else if (z.eval_ok && !z.oom)
        fz_fail(&z, seed, "a valid call failed to evaluate");
      lz_clear_error();
    }
    sn->eval_rc[k] = rc;
  }
  if (z.oom) { /* the hook is off: the same graph must now evaluate */
    lz_set_alloc_failure(0);
    lz_clear_error();
    for (int k = 0; z.rc == 0 && k < z.nout; k++) {
      sn->eval_rc[k] = lz_eval(z.out[k]);
      if (sn->eval_rc[k] != 0) {
        if (!fz_msg_clean()) fz_fail(&z, seed, "re-evaluating output %d failed uncleanly", k);
        lz_clear_error();
      }
    }
  }
  for (int k = 0; z.rc == 0 && k < z.nout; k++) {
    lz_array *r = z.out[k];
    sn->dt[k] = lz_array_dtype(r);
    sn->nd[k] = lz_array_ndim(r);
    memcpy(sn->shape[k], lz_array_shape(r), (size_t)sn->nd[k] * sizeof(int));
    sn->size[k] = lz_array_size(r);
    if (sn->eval_rc[k] != 0 || sn->size[k] > FZ_SNAP_MAX) continue;
    size_t nb = sn->size[k] * lz_dtype_size(sn->dt[k]);
    sn->data[k] = malloc(nb ? nb : 1);
    if (lz_array_read(r, sn->dt[k], sn->data[k], nb ? nb : 1) != 0) {
      fz_fail(&z, seed, "reading evaluated output %d failed", k);
      lz_clear_error();
      free(sn->data[k]), sn->data[k] = NULL;
    }
  }
  if (lz_last_error_code() != LZ_ERROR_NONE) {
    fz_fail(&z, seed, "an error is left pending");
    lz_clear_error();
  }
  lz_set_alloc_failure(0);
  lz_scope_end();
  sn->tol = z.tol;
  sn->no_compare = z.no_compare;
  /* huge inputs to an op that reorders float sums (z.tol > 0): float results may differ
   * entirely between layouts (cancellation, overflow in float32 lanes); integers still wrap
   * the same */
  sn->skip_float = z.tol > 0 && z.big;
  if (lz_get_active_memory() != mem0)
    fz_fail(&z, seed, "%zu bytes of array memory leaked", lz_get_active_memory() - mem0);
  *strided = z.strided;
  if (hit) *hit = oom_hit;
}

static double fz_tol(lz_dtype d) {
  switch (d) {
  case LZ_FLOAT64:
    return 1e-9;
  case LZ_FLOAT16:
  case LZ_BFLOAT16:
    return 2e-2;
  default:
    return 2e-5;
  }
}
/* Compares the results of the strided run (a) and the contiguous run (b). */
static void fz_compare(const fz_op *op, uint64_t seed, const fz_snap *a, const fz_snap *b,
                       double extra_tol, bool values) {
  fz z;
  memset(&z, 0, sizeof z);
  z.op = op->name;
  snprintf(z.note, sizeof z.note, " strided vs contiguous inputs");
  if (a->rc != b->rc) {
    fz_fail(&z, seed, "builds %s with strided inputs but %s with contiguous ones",
            a->rc ? "fails" : "succeeds", b->rc ? "fails" : "succeeds");
    return;
  }
  for (int k = 0; a->rc == 0 && k < a->nout; k++) {
    if (a->eval_rc[k] != b->eval_rc[k]) {
      fz_fail(&z, seed, "output %d evaluates %s with strided inputs, %s with contiguous", k,
              a->eval_rc[k] ? "with an error" : "fine", b->eval_rc[k] ? "with an error" : "fine");
      continue;
    }
    if (a->dt[k] != b->dt[k] || a->nd[k] != b->nd[k] ||
        memcmp(a->shape[k], b->shape[k], (size_t)a->nd[k] * sizeof(int)) != 0) {
      fz_fail(&z, seed, "output %d: shape or dtype depends on the layout", k);
      continue;
    }
    if (!values || !a->data[k] || !b->data[k]) continue;
    lz_dtype d = a->dt[k];
    if (a->skip_float && (fz_is_float(d) || d == LZ_COMPLEX64)) continue;
    size_t es = lz_dtype_size(d);
    int comps = d == LZ_COMPLEX64 ? 2 : 1;
    for (size_t i = 0; i < a->size[k]; i++) {
      const char *pa = (const char *)a->data[k] + i * es, *pb = (const char *)b->data[k] + i * es;
      bool same;
      if (!fz_is_float(d) && d != LZ_COMPLEX64) {
        same = memcmp(pa, pb, es) == 0 || (d == LZ_BOOL && (*pa != 0) == (*pb != 0));
      } else {
        same = true;
        for (int c = 0; c < comps; c++) {
          double x = d == LZ_COMPLEX64 ? ((const float *)pa)[c] : lz__load_f64(pa, d);
          double y = d == LZ_COMPLEX64 ? ((const float *)pb)[c] : lz__load_f64(pb, d);
          double tol = fz_tol(d) + extra_tol;
          if (!(x == y || (isnan(x) && isnan(y)) || fabs(x - y) <= tol * (1 + fabs(y))))
            same = false;
        }
      }
      if (!same) {
        fz_fail(&z, seed,
                "output %d element %zu is %.9g with strided inputs, %.9g with "
                "contiguous",
                k, i, lz__load_f64(pa, d), lz__load_f64(pb, d));
        break;
      }
    }
  }
}

static uint64_t fz_env_u64(const char *name, uint64_t dflt) {
  const char *e = getenv(name);
  return e && *e ? strtoull(e, NULL, 0) : dflt;
}

/* Collects the ops (optionally filtered by LZ_FUZZ_OP) into one list. */
static size_t fz_all_ops(const fz_op **list, size_t cap) {
  const char *only = getenv("LZ_FUZZ_OP");
  size_t n = 0;
  for (size_t t = 0; t < sizeof fz_tables / sizeof *fz_tables; t++)
    for (size_t i = 0; i < fz_tables[t].n && n < cap; i++)
      if (!only || !*only || strstr(fz_tables[t].ops[i].name, only))
        list[n++] = &fz_tables[t].ops[i];
  return n;
}

/* Runs one seeded call, and again with contiguous inputs when some input was strided. */
static void fz_call(const fz_op *op, uint64_t seed) {
  fz_snap a, b;
  bool strided = false, dummy;
  fz_run(op, seed, false, 0, &a, &strided, NULL);
  if (strided) {
    fz_run(op, seed, true, 0, &b, &dummy, NULL);
    fz_compare(op, seed, &a, &b, a.tol, !a.no_compare);
    fz_snap_free(&b);
  }
  fz_snap_free(&a);
}

static void test_op_fuzz(void) {
  static const fz_op *ops[512];
  bool trace = fz_trace = getenv("LZ_FUZZ_TRACE") != NULL;
  size_t nops = fz_all_ops(ops, 512);
  uint64_t iters = fz_env_u64("LZ_FUZZ_ITERS", FZ_DEFAULT_ITERS);
  uint64_t base = fz_env_u64("LZ_FUZZ_SEED", 0x4C415A554C49ull);
  uint64_t one = fz_env_u64("LZ_FUZZ_CALL_SEED", 0);        /* replays one call of every op */
  size_t old_limit = lz_set_memory_limit((size_t)64 << 20); /* wild sizes fail cleanly */
  CHECK(nops > 0);
  for (uint64_t it = 0; nops && it < iters; it++) {
    uint64_t s = base + it;
    uint64_t seed = one ? one : fz_next(&s);
    if (trace)
      fprintf(stderr, "call %llu: lz_%s seed %#llx\n", (unsigned long long)it, ops[it % nops]->name,
              (unsigned long long)seed);
    fz_call(ops[it % nops], seed);
  }
  lzt_checks += (int)iters;
  lz_set_memory_limit(old_limit);
  fprintf(stderr, "op fuzz: %zu ops, %llu calls\n", nops, (unsigned long long)iters);
}

/* A sample of ops from every family for the allocation-failure test. */
static const char *const fz_oom_sample[] = {"add",          "exp",
                                            "where",        "clip",
                                            "divmod",       "astype",
                                            "isclose",      "sum_axes",
                                            "var_axis",     "logsumexp_axis",
                                            "argmax_axis",  "cumsum",
                                            "sort_axis",    "topk_axis",
                                            "softmax_axis", "diff",
                                            "arange",       "eye",
                                            "tril",         "meshgrid",
                                            "linspace",     "reshape",
                                            "transpose",    "concatenate",
                                            "pad",          "split",
                                            "tile",         "repeat",
                                            "roll",         "kron",
                                            "take",         "take_along_axis",
                                            "at_add",       "scatter_add",
                                            "gather",       "slice_update",
                                            "nonzero",      "unique",
                                            "mask_select",  "matmul",
                                            "einsum",       "tensordot",
                                            "linalg_norm",  "linalg_inv",
                                            "linalg_svd",   "linalg_qr",
                                            "linalg_lu",    "linalg_eigh",
                                            "linalg_solve", "linalg_cross"};

/* Every allocation of a call, failed one at a time: each failure is a clean out-of-memory
 * error, nothing leaks, and with the hook off the same graph evaluates to the right values. */
static void test_op_fuzz_alloc_failure(void) {
  static const fz_op *ops[512];
  size_t nops = fz_all_ops(ops, 512), tested = 0;
  uint64_t fails = 0;
  size_t old_limit = lz_set_memory_limit((size_t)64 << 20);
  for (size_t k = 0; k < sizeof fz_oom_sample / sizeof *fz_oom_sample; k++) {
    const fz_op *op = NULL;
    for (size_t i = 0; i < nops; i++)
      if (!strcmp(ops[i]->name, fz_oom_sample[k])) op = ops[i];
    if (!op) continue; /* filtered out by LZ_FUZZ_OP */
    /* a seed whose call builds and evaluates, with something to compute */
    uint64_t s = 0x0DDBA11 + k, seed = 0;
    fz_snap ref;
    bool strided, hit, found = false;
    for (int tries = 0; tries < 200 && !found; tries++) {
      seed = fz_next(&s);
      fz_run(op, seed, false, -1, &ref, &strided, NULL);
      found = ref.rc == 0 && ref.nout > 0;
      for (int j = 0; found && j < ref.nout; j++)
        found = ref.eval_rc[j] == 0 && ref.data[j] && ref.size[j] > 0;
      if (!found) fz_snap_free(&ref);
    }
    CHECK(found);
    if (!found) continue;
    tested++;
    int clean_runs = 0;
    for (int64_t n = 1; n <= 200 && clean_runs < 3; n++) {
      fz_snap got;
      fz_run(op, seed, false, n, &got, &strided, &hit);
      clean_runs = hit ? 0 : clean_runs + 1;
      fails += hit;
      if (got.rc == 0) fz_compare(op, seed, &got, &ref, 0, true);
      fz_snap_free(&got);
    }
    fz_snap_free(&ref);
  }
  lz_set_memory_limit(old_limit);
  CHECK(tested > 0);
  CHECK(fails > tested); /* the hook did fire */
  fprintf(stderr, "op fuzz alloc failure: %zu ops, %llu failed allocations\n", tested,
          (unsigned long long)fails);
}

/* The bugs the fuzzer found, as fixed cases (they need not come up again with the seed). */
static void test_op_fuzz_regressions(void) {
  /* put_along_axis where a has an empty axis that the indices broadcast (1 against 0) */
  int sa[3] = {4, 34, 0}, si[3] = {1, 34, 1};
  lz_array *a = lz_zeros(sa, 3, LZ_FLOAT32), *i = lz_zeros(si, 3, LZ_INT32);
  lz_array *p = lz_put_along_axis(a, i, lz_float(1), 0);
  CHECK_SHAPE(p, 4, 34, 0);
  CHECK(lz_eval(p) == 0);
  /* iterative LAPACK routines on infinity / NaN: a clean error, not a hang or an internal one */
  float bad[4] = {1, INFINITY, 2, 3}, nan4[4] = {1, NAN, 2, 3};
  int s2[2] = {2, 2};
  lz_array *m = lz_array_from_data(bad, s2, 2, LZ_FLOAT32);
  lz_array *mn = lz_array_from_data(nan4, s2, 2, LZ_FLOAT32), *outs[3];
  CHECK(lz_linalg_svd(m, true, outs) == 0);
  CHECK(lz_eval(outs[1]) == -1 && lz_last_error_code() == LZ_ERROR_INVALID_ARGUMENT);
  CHECK(strstr(lz_last_error(), "[lz_linalg_svd] matrix 0 of the batch holds NaN or infinity"));
  lz_clear_error();
  lz_array *ev = lz_linalg_eigvals(m), *ph = lz_linalg_pinv(mn);
  CHECK(lz_eval(ev) == -1 && lz_last_error_code() == LZ_ERROR_INVALID_ARGUMENT);
  lz_clear_error();
  CHECK(lz_eval(ph) == -1 && lz_last_error_code() == LZ_ERROR_INVALID_ARGUMENT);
  lz_clear_error();
  lz_array *inv = lz_linalg_inv(mn), *det = lz_linalg_det(mn);
  CHECK(lz_eval(inv) == -1 && lz_last_error_code() == LZ_ERROR_INVALID_ARGUMENT);
  CHECK(strstr(lz_last_error(), "[lz_linalg_inv] matrix 0 of the batch holds NaN") != NULL);
  lz_clear_error();
  CHECK(lz_eval(det) == -1 && lz_last_error_code() == LZ_ERROR_INVALID_ARGUMENT);
  lz_clear_error();
  CHECK(isinf(lz_item_f32(lz_linalg_norm_ord(m, 2, NULL, 0, false))));
  CHECK(isnan(lz_item_f32(lz_linalg_norm_str(mn, "nuc", NULL, 0, false))));
  /* round with decimals INT_MIN: no signed overflow; everything rounds to 0 */
  int s1[1] = {3};
  double v[3] = {1.5, -2.5, 1e300};
  lz_array *x = lz_array_from_data(v, s1, 1, LZ_FLOAT64);
  const double zero[3] = {0, 0, 0};
  CHECK_VALUES(lz_round(lz_astype(x, LZ_INT64), INT_MIN), zero, 3, 0);
  CHECK_VALUES(lz_round(lz_astype(x, LZ_UINT8), INT_MIN), zero, 3, 0);
  lz_array *rf = lz_round(x, INT_MIN);
  CHECK(lz_eval(rf) == 0);
  /* out of memory inside a kernel names the public op */
  lz_array *y = lz_exp(lz_add(x, x));
  lz_set_alloc_failure(1);
  CHECK(lz_eval(y) == -1);
  lz_set_alloc_failure(0);
  CHECK(lz_last_error_code() == LZ_ERROR_OUT_OF_MEMORY);
  CHECK(strncmp(lz_last_error(), "[lz_add] out of memory", 22) == 0);
  lz_clear_error();
  CHECK(lz_eval(y) == 0);
}

int main(void) {
  RUN(test_op_fuzz_regressions);
  RUN(test_op_fuzz);
  RUN(test_op_fuzz_alloc_failure);
  return lzt_summary();
}
