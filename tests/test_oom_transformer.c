/* Out of memory through the transformer_lm example's training (its model.c and checkpoint.c,
 * linked in): the n-th allocation fails over one training step of a small model (value_and_grad
 * through embedding, RMSNorm, RoPE, causal attention and the MLP, gradient clipping, the AdamW
 * update, one evaluation, then the fused-op forward pass of generation), uncompiled with the
 * composed ops, uncompiled with the fused ops, compiled from a cold cache and from a warm one;
 * and over the example's checkpoint save and load (weights, optimizer state, vocabulary). Each
 * run ends in an out-of-memory error with a message or in the exact result of a clean run; the
 * parameters and the optimizer's step are then all old or all new, never a mix; the checkpoint
 * file always loads with the old or the new state; active memory returns to its baseline and
 * LSan (ASan build) sees no leak. The same under a range of memory limits.
 *
 * Every n runs under LZ_OOM_STRIDE=1 (make stress); `make test` runs every STRIDE-th point
 * (default 7, with an offset that changes per program so that over the programs every residue
 * is covered) to stay within seconds under ASan. LZ_OOM_VERBOSE=1 keeps the example's own
 * error lines (otherwise sent to /dev/null during the failing runs). */
#include <fcntl.h>
#include <unistd.h>

#include "lm.h"
#include "lz_test.h"
#include "oom_world.h"

int64_t lz__alloc_failure_pending(void);

static const lm_config cfg = {.vocab = 7, .dims = 8, .heads = 2, .layers = 1, .mlp = 16, .seq = 5};
enum { BATCH = 2, NPARAM_MAX = 1024 };
enum { P_STEP, P_STEP_FUSED, P_STEP_COLD, P_STEP_WARM, P_CHECKPOINT, P_COUNT };
static const char *const program_name[P_COUNT] = {
    "step (composed ops)", "step (fused ops)", "compiled step (cold cache)",
    "compiled step (warm cache)", "checkpoint save and load"};

static char tmpdir[64], ckpt[128];
static int stride = 7, verbose;
static size_t nparam;

/* ---- the model and one training step (as examples/transformer_lm/train.c runs it) -------- */

static lz_module *new_lm(uint32_t seed) {
  lz_module *m = lm_new(&cfg);
  if (m && oom_init_params(m, seed, 0.5f) != 0) lz_module_free(m), m = NULL;
  return m;
}

static lz_optimizer *new_opt(void) { return lz_optim_adamw(0.05, 0.9, 0.999, 1e-8, 0.01, false); }

static lz_array *tokens(int rows, uint32_t seed) {
  int32_t v[BATCH * 8];
  for (int i = 0; i < rows * cfg.seq; i++)
    seed = seed * 1664525u + 1013904223u, v[i] = (int32_t)((seed >> 16) % 7);
  return lz_array_from_data(v, (int[]){rows, cfg.seq}, 2, LZ_INT32);
}

static int world_new(world *w, int program) {
  memset(w, 0, sizeof *w);
  w->model = new_lm(1);
  w->opt = new_opt();
  w->loss_and_grad = w->model ? lz_nn_value_and_grad(w->model, lm_loss, NULL) : NULL;
  w->params = lz_dict_new(), w->grads = lz_dict_new();
  w->x = tokens(BATCH, 11), w->y = tokens(BATCH, 12), w->xtest = tokens(1, 13);
  if (!w->model || !w->opt || !w->loss_and_grad || !w->params || !w->grads || !w->x || !w->y ||
      !w->xtest)
    return -1;
  if (program == P_STEP_FUSED && lm_use_fast_ops(w->model, NULL) == 0) return -1;
  if (program == P_STEP_COLD || program == P_STEP_WARM) {
    w->traced = lz_closure_new(traced_grad_step, w, NULL);
    w->compiled = w->traced ? lz_compile_with_state(w->traced, 0, w->params, w->grads) : NULL;
    if (!w->compiled) return -1;
  }
  return 0;
}

/* The parameters as float32 in the dict's order; their count in *n. Returns 0 or -1. */
static int snapshot(lz_module *m, float *out, size_t *n) {
  return oom_snapshot(m, out, NPARAM_MAX, n);
}

enum { NPRED = 1 * 5 * 7 }; /* logits of xtest: (1, seq, vocab) */

/* Loss and gradients, clipping, the AdamW update, one evaluation; then the logits of xtest with
 * the fused ops (generation's forward pass). */
static int run_step(world *w, float *pred) {
  lz_scope_begin();
  lz_array *loss = NULL, *logits = NULL;
  lz_dict *grads = NULL, *clipped = NULL;
  int rc = loss_and_grads(w, &loss, &grads) == 0 &&
                   (clipped = lz_optim_clip_grad_norm(grads, 1.0, NULL)) &&
                   lz_optim_update(w->opt, w->model, clipped) == 0 &&
                   lz_optim_eval(w->opt, w->model, loss) == 0 &&
                   (logits = lm_forward(w->model, w->xtest, NULL, false)) && lz_eval(logits) == 0 &&
                   lz_array_read(logits, LZ_FLOAT32, pred, NPRED * sizeof(float)) == 0
               ? 0
               : -1;
  lz_dict_free(grads), lz_dict_free(clipped);
  lz_scope_end();
  return rc;
}

/* ---- the checkpoint -------------------------------------------------------------------------- */

static vocab the_vocab(void) {
  vocab v = {0};
  vocab_set(&v, (const uint8_t *)"\n aehst", 7);
  return v;
}

/* checkpoint_save, then checkpoint_load into *m2 and o2; the example's error lines go to
 * /dev/null unless verbose. */
static int run_checkpoint(world *w, lz_module **m2, lz_optimizer *o2) {
  vocab v = the_vocab(), v2 = {0};
  fflush(stderr);
  int saved = verbose ? -1 : dup(2), null = verbose ? -1 : open("/dev/null", O_WRONLY);
  if (null >= 0) dup2(null, 2), close(null);
  int rc = checkpoint_save(ckpt, w->model, w->opt, &v);
  if (rc == 0) rc = (*m2 = checkpoint_load(ckpt, o2, &v2)) ? 0 : -1;
  if (rc == 0 && (v2.size != v.size || memcmp(v2.chars, v.chars, 7) != 0)) rc = -2;
  fflush(stderr);
  if (saved >= 0) dup2(saved, 2), close(saved);
  return rc;
}

/* ---- the sweeps ---------------------------------------------------------------------------- */

typedef struct expected {
  float old_params[NPARAM_MAX], new_params[NPARAM_MAX], pred[NPRED];
} expected;

static void report(int program, int64_t n, size_t limit, int rc, int k, int64_t step) {
  fprintf(stderr, "%s, n = %lld, limit %zu: rc %d, parameters %s, step %lld\n",
          program_name[program], (long long)n, limit, rc,
          k == 0   ? "a mix"
          : k == 1 ? "old"
                   : "new",
          (long long)step);
}

/* One run with the n-th allocation failing (n = 0: none) or under a memory limit. Returns 1
 * when the program ran past its last allocation (n too large to fire). */
static int trial(int program, int64_t n, size_t limit, const void *expected_) {
  const expected *e = expected_;
  size_t base = lz_get_active_memory(), np;
  world w;
  float got[NPARAM_MAX], pred[NPRED];
  lz_clear_compile_cache();
  CHECK(world_new(&w, program) == 0);
  lz_module *m2 = NULL;
  lz_optimizer *o2 = NULL;
  if (program == P_STEP_WARM) { /* trace once, outside the failures */
    lz_scope_begin();
    lz_array *loss;
    lz_dict *grads;
    CHECK(loss_and_grads(&w, &loss, &grads) == 0);
    lz_dict_free(grads);
    lz_scope_end();
  }
  vocab v = the_vocab();
  if (program == P_CHECKPOINT) { /* the file holds the old state, the model the new one */
    CHECK(checkpoint_save(ckpt, w.model, w.opt, &v) == 0);
    CHECK(run_step(&w, pred) == 0);
    CHECK((o2 = new_opt()) != NULL);
  }
  if (limit) lz_set_memory_limit(lz_get_active_memory() + limit);
  lz_set_alloc_failure(n);
  lz_clear_error();
  int rc = program == P_CHECKPOINT ? run_checkpoint(&w, &m2, o2) : run_step(&w, pred);
  int past_end = n > 0 && lz__alloc_failure_pending() > 0;
  lz_set_alloc_failure(0);
  lz_set_memory_limit(0);
  CHECK(rc != -2); /* a checkpoint's vocabulary came back changed */
  if (n == 0 && limit == 0) CHECK(rc == 0);
  if (rc != 0) {
    CHECK(lz_last_error()[0] != '\0');
    if ((n > 0 || limit) && lz_last_error_code() != LZ_ERROR_OUT_OF_MEMORY)
      fprintf(stderr, "%s, n = %lld: %s\n", program_name[program], (long long)n, lz_last_error());
    CHECK(lz_last_error_code() == LZ_ERROR_OUT_OF_MEMORY);
  } else {
    CHECK(lz_last_error()[0] == '\0');
  }
  lz_clear_error();
  oom_outcome[rc == 0]++;
  if (program != P_CHECKPOINT) {
    CHECK(snapshot(w.model, got, &np) == 0 && np == nparam);
    int k = which(got, e->old_params, e->new_params, nparam);
    int64_t step = lz_optim_step(w.opt);
    if (k == 0 || (rc == 0 && k != 2) || step != (k == 2 ? 1 : 0))
      report(program, n, limit, rc, k, step);
    CHECK(k != 0);
    CHECK(rc != 0 || k == 2);
    CHECK(step == (k == 2 ? 1 : 0));
    if (rc == 0) CHECK(!memcmp(pred, e->pred, sizeof pred));
  } else {
    /* the file loads and holds the old or the new state, weights and step agreeing */
    lz_optimizer *of = new_opt();
    vocab vf;
    lz_module *f = checkpoint_load(ckpt, of, &vf);
    CHECK(f && snapshot(f, got, &np) == 0 && np == nparam);
    int kf = f ? which(got, e->old_params, e->new_params, nparam) : 0;
    if (kf == 0 || lz_optim_step(of) != kf - 1)
      report(program, n, limit, rc, kf, lz_optim_step(of));
    CHECK(kf != 0 && lz_optim_step(of) == kf - 1);
    lz_module_free(f), lz_optim_free(of);
    if (rc == 0) {
      CHECK(kf == 2 && snapshot(m2, got, &np) == 0 &&
            which(got, e->old_params, e->new_params, nparam) == 2);
      CHECK(lz_optim_step(o2) == 1);
    } else {
      CHECK(m2 == NULL);
    }
    lz_clear_error();
  }
  lz_module_free(m2), lz_optim_free(o2);
  world_free(&w);
  lz_clear_compile_cache();
  CHECK(lz_get_active_memory() == base);
  return past_end;
}

static void reference(int program, expected *e) {
  world w;
  size_t n0, n1;
  CHECK(world_new(&w, program == P_CHECKPOINT ? P_STEP : program) == 0);
  CHECK(snapshot(w.model, e->old_params, &n0) == 0);
  CHECK(run_step(&w, e->pred) == 0);
  CHECK(snapshot(w.model, e->new_params, &n1) == 0);
  world_free(&w);
  CHECK(n0 == n1 && n0 > 100);
  nparam = n0;
  CHECK(memcmp(e->old_params, e->new_params, nparam * sizeof(float)) != 0);
}

static void sweep(int program) {
  static expected e;
  reference(program, &e);
  oom_sweep(program_name[program], trial, program, &e, 1 + program % stride, stride);
}

static void test_step_alloc_failures(void) { sweep(P_STEP); }
static void test_fused_step_alloc_failures(void) { sweep(P_STEP_FUSED); }
static void test_compiled_step_cold_alloc_failures(void) { sweep(P_STEP_COLD); }
static void test_compiled_step_warm_alloc_failures(void) { sweep(P_STEP_WARM); }
static void test_checkpoint_alloc_failures(void) { sweep(P_CHECKPOINT); }

/* Memory limits from far too small to enough: an error or the right result, never a mix. */
static void test_memory_limits(void) {
  static expected e;
  for (int program = 0; program < P_COUNT; program++) {
    reference(program, &e);
    oom_limits(program_name[program], trial, program, &e, 256, (size_t)1 << 19, 4, 256 * stride,
               program == P_CHECKPOINT);
  }
}

int main(void) {
  const char *env = getenv("LZ_OOM_STRIDE"), *v = getenv("LZ_OOM_VERBOSE");
  if (env && atoi(env) > 0) stride = atoi(env);
  verbose = v && *v && *v != '0';
  snprintf(tmpdir, sizeof tmpdir, "/tmp/lz_oomlm_XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  snprintf(ckpt, sizeof ckpt, "%s/lm.safetensors", tmpdir);
  RUN(test_step_alloc_failures);
  RUN(test_fused_step_alloc_failures);
  RUN(test_compiled_step_cold_alloc_failures);
  RUN(test_compiled_step_warm_alloc_failures);
  RUN(test_checkpoint_alloc_failures);
  RUN(test_memory_limits);
  unlink(ckpt);
  rmdir(tmpdir);
  return lzt_summary();
}
