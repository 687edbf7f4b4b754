/* Out of memory through whole programs: the n-th allocation fails, for every n over one training
 * step of a small MLP (forward, value_and_grad, Adam update, one evaluation; uncompiled, compiled
 * from a cold cache and from a warm one) and over a checkpoint save and load. Each run ends in
 * an error with a message or in the exact result of a clean run; the parameters (and the
 * optimizer's step) are then all the old ones or all the new ones, never a mix; active memory
 * returns to where it was and LSan (ASan build) sees no leak. The same under a range of memory
 * limits. Every n runs here (about 1,400 runs, seconds under ASan); LZ_OOM_STRIDE=k runs every
 * k-th. */
#include <unistd.h>

#include "lz_test.h"
#include "oom_world.h"

/* core/alloc.c: allocations left before the failure hook fires (0 once it fired). */
int64_t lz__alloc_failure_pending(void);

enum { IN = 4, HID = 8, OUT = 3, BATCH = 6, NPARAM = IN * HID + HID + HID * OUT + OUT };
enum { P_STEP, P_STEP_COLD, P_STEP_WARM, P_CHECKPOINT, P_COUNT };
static const char *const program_name[P_COUNT] = {"step", "compiled step (cold cache)",
                                                  "compiled step (warm cache)", "checkpoint"};

static char tmpdir[64];
static int stride = 1;

/* ---- the model and one training step ---------------------------------------------------- */

static lz_array *mlp_loss(void *ctx, lz_module *model, lz_array *const *in, int n) {
  (void)ctx, (void)n;
  lz_array *y = lz_module_forward(model, in[0]);
  lz_array *loss = lz_nn_mse_loss(y, in[1], LZ_NN_REDUCTION_MEAN);
  lz_free(y);
  return loss;
}

static lz_module *new_mlp(uint32_t seed) {
  lz_module *m =
      lz_nn_sequential_new(3, (lz_module *[]){lz_nn_linear_new(IN, HID, true), lz_nn_relu_new(),
                                              lz_nn_linear_new(HID, OUT, true)});
  if (m && oom_init_params(m, seed, 1.0f) != 0) lz_module_free(m), m = NULL;
  return m;
}

static lz_array *data(int rows, int cols, uint32_t seed) {
  float v[64];
  oom_fill(v, (size_t)rows * cols, seed, 1.0f);
  return lz_array_from_data(v, (int[]){rows, cols}, 2, LZ_FLOAT32);
}

static int world_new(world *w, int program) {
  memset(w, 0, sizeof *w);
  w->model = new_mlp(1);
  w->opt = lz_optim_adam(0.1, 0.9, 0.999, 1e-8, false);
  w->loss_and_grad = w->model ? lz_nn_value_and_grad(w->model, mlp_loss, NULL) : NULL;
  w->params = lz_dict_new(), w->grads = lz_dict_new();
  w->x = data(BATCH, IN, 11), w->y = data(BATCH, OUT, 12), w->xtest = data(2, IN, 13);
  if (!w->model || !w->opt || !w->loss_and_grad || !w->params || !w->grads || !w->x || !w->y ||
      !w->xtest)
    return -1;
  if (program == P_STEP_COLD || program == P_STEP_WARM) {
    w->traced = lz_closure_new(traced_grad_step, w, NULL);
    w->compiled = w->traced ? lz_compile_with_state(w->traced, 0, w->params, w->grads) : NULL;
    if (!w->compiled) return -1;
  }
  return 0;
}

/* The parameters of m, read as float32 in the dict's order. Returns 0 or -1. */
static int snapshot(lz_module *m, float *out) {
  size_t n;
  return oom_snapshot(m, out, NPARAM, &n) == 0 && n == NPARAM ? 0 : -1;
}

/* The program whose every allocation fails in turn. out: the evaluation's output (2 x OUT). */
static int run_step(world *w, float *out) {
  lz_scope_begin();
  lz_array *loss = NULL, *pred = NULL;
  lz_dict *grads = NULL;
  int rc = loss_and_grads(w, &loss, &grads) == 0 && lz_optim_update(w->opt, w->model, grads) == 0 &&
                   lz_optim_eval(w->opt, w->model, loss) == 0 &&
                   (pred = lz_module_forward(w->model, w->xtest)) && lz_eval(pred) == 0 &&
                   lz_array_read(pred, LZ_FLOAT32, out, 2 * OUT * sizeof(float)) == 0
               ? 0
               : -1;
  lz_dict_free(grads);
  lz_scope_end();
  return rc;
}

/* ---- checkpoints --------------------------------------------------------------------------- */

static const char *path_of(const char *name) {
  static char buf[2][256];
  static int k;
  k ^= 1;
  snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
  return buf[k];
}

/* Saves weights and optimizer state, then loads both into a second model and optimizer. */
static int run_checkpoint(world *w, lz_module *m2, lz_optimizer *o2) {
  return lz_module_save_weights(w->model, path_of("w.safetensors")) == 0 &&
                 lz_optim_save_state(w->opt, path_of("opt.safetensors")) == 0 &&
                 lz_module_load_weights(m2, path_of("w.safetensors"), true) == 0 &&
                 lz_module_eval(m2) == 0 && lz_optim_load_state(o2, path_of("opt.safetensors")) == 0
             ? 0
             : -1;
}

/* ---- the sweeps ---------------------------------------------------------------------------- */

typedef struct expected {
  float old_params[NPARAM], new_params[NPARAM], pred[2 * OUT];
  float m2_old[NPARAM]; /* checkpoint: the second model's own parameters */
} expected;

/* One run of `program` with the n-th allocation failing (n = 0: none) or under a memory limit.
 * Returns 1 when the program ran past its last allocation (n too large to fire). */
static int trial(int program, int64_t n, size_t limit, const void *expected_) {
  const expected *e = expected_;
  size_t base = lz_get_active_memory();
  world w;
  float got[NPARAM], pred[2 * OUT];
  int past_end = 0;
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
  if (program == P_CHECKPOINT) {
    /* The files hold the initial state; the model takes one clean step, then is checkpointed. */
    CHECK(lz_module_save_weights(w.model, path_of("w.safetensors")) == 0);
    CHECK(lz_optim_save_state(w.opt, path_of("opt.safetensors")) == 0);
    CHECK(run_step(&w, pred) == 0);
    m2 = new_mlp(2), o2 = lz_optim_adam(0.1, 0.9, 0.999, 1e-8, false);
    CHECK(m2 && o2);
  }
  if (limit) lz_set_memory_limit(lz_get_active_memory() + limit);
  lz_set_alloc_failure(n);
  lz_clear_error();
  int rc = program == P_CHECKPOINT ? run_checkpoint(&w, m2, o2) : run_step(&w, pred);
  past_end = n > 0 && lz__alloc_failure_pending() > 0;
  lz_set_alloc_failure(0);
  lz_set_memory_limit(0);
  if (rc != 0) {
    CHECK(lz_last_error()[0] != '\0');
    if (n > 0 && lz_last_error_code() != LZ_ERROR_OUT_OF_MEMORY)
      fprintf(stderr, "%s, n = %lld: %s\n", program_name[program], (long long)n, lz_last_error());
    CHECK(n == 0 || lz_last_error_code() == LZ_ERROR_OUT_OF_MEMORY);
  } else {
    CHECK(lz_last_error()[0] == '\0');
  }
  lz_clear_error();
  oom_outcome[rc == 0]++;
  if (program != P_CHECKPOINT) {
    /* Old or new parameters, and the optimizer's step agrees with them. */
    CHECK(snapshot(w.model, got) == 0);
    int k = which(got, e->old_params, e->new_params, NPARAM);
    if (k == 0 || (rc == 0 && k != 2) || lz_optim_step(w.opt) != (k == 2 ? 1 : 0))
      fprintf(stderr, "%s, n = %lld, limit %zu: rc %d, parameters %s, step %lld\n",
              program_name[program], (long long)n, limit, rc,
              k == 0   ? "a mix"
              : k == 1 ? "old"
                       : "new",
              (long long)lz_optim_step(w.opt));
    CHECK(k != 0);
    CHECK(rc != 0 || k == 2);
    CHECK(lz_optim_step(w.opt) == (k == 2 ? 1 : 0));
    if (rc == 0) CHECK(!memcmp(pred, e->pred, sizeof pred));
  } else {
    /* Each file loads and holds the old or the new state; the second model holds its own
     * parameters or the saved ones. */
    lz_module *f = new_mlp(3);
    CHECK(f && lz_module_load_weights(f, path_of("w.safetensors"), true) == 0);
    CHECK(snapshot(f, got) == 0);
    int kf = which(got, e->old_params, e->new_params, NPARAM);
    CHECK(kf != 0);
    lz_module_free(f);
    lz_optimizer *of = lz_optim_adam(0.1, 0.9, 0.999, 1e-8, false);
    CHECK(lz_optim_load_state(of, path_of("opt.safetensors")) == 0);
    CHECK(lz_optim_step(of) == 0 || lz_optim_step(of) == 1);
    lz_optim_free(of);
    CHECK(snapshot(m2, got) == 0);
    int k2 = which(got, e->m2_old, e->new_params, NPARAM);
    CHECK(k2 != 0);
    if (rc == 0) CHECK(k2 == 2 && kf == 2 && lz_optim_step(o2) == 1);
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
  CHECK(world_new(&w, program) == 0);
  CHECK(snapshot(w.model, e->old_params) == 0);
  CHECK(run_step(&w, e->pred) == 0);
  CHECK(snapshot(w.model, e->new_params) == 0);
  world_free(&w);
  lz_module *m2 = new_mlp(2);
  CHECK(snapshot(m2, e->m2_old) == 0);
  lz_module_free(m2);
  CHECK(memcmp(e->old_params, e->new_params, sizeof e->old_params) != 0);
}

static void sweep(int program) {
  expected e;
  reference(program, &e);
  oom_sweep(program_name[program], trial, program, &e, 1, stride);
}

static void test_step_alloc_failures(void) { sweep(P_STEP); }
static void test_compiled_step_cold_alloc_failures(void) { sweep(P_STEP_COLD); }
static void test_compiled_step_warm_alloc_failures(void) { sweep(P_STEP_WARM); }
static void test_checkpoint_alloc_failures(void) { sweep(P_CHECKPOINT); }

/* Memory limits from far too small to enough: an error or the right result, never a mix. */
static void test_memory_limits(void) {
  for (int program = 0; program < P_COUNT; program++) {
    expected e;
    reference(program, &e);
    oom_limits(program_name[program], trial, program, &e, 64, (size_t)1 << 16, 8, 64 * stride,
               program == P_CHECKPOINT);
  }
}

int main(void) {
  const char *env = getenv("LZ_OOM_STRIDE");
  if (env && atoi(env) > 0) stride = atoi(env);
  snprintf(tmpdir, sizeof tmpdir, "/tmp/lz_oom_XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  RUN(test_step_alloc_failures);
  RUN(test_compiled_step_cold_alloc_failures);
  RUN(test_compiled_step_warm_alloc_failures);
  RUN(test_checkpoint_alloc_failures);
  RUN(test_memory_limits);
  unlink(path_of("w.safetensors")), unlink(path_of("opt.safetensors"));
  rmdir(tmpdir);
  return lzt_summary();
}
