/* Trains a character-level decoder-only transformer on Debian's fortunes (the `fortunes`
 * package): token embeddings, RoPE, RMSNorm, causal attention, a GELU MLP; AdamW with a linear
 * warmup and a cosine decay of the learning rate. One lz_eval per step computes the loss, the
 * gradients and the updated parameters and optimizer state together, as in MLX. Checkpoints
 * (weights, optimizer state, step, vocabulary) are single .safetensors files; a trained model
 * writes text from a prompt.
 *
 *   transformer_lm [--steps N] [--batch N] [--seq N] [--dims N] [--heads N] [--layers N] ...
 *   transformer_lm --resume lm.safetensors --generate "Q: " --temperature 0.8 --top-k 20
 */
#include <lazuli.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lm.h"
#include "train.h"

#define DEFAULT_DATA "/usr/share/games/fortunes"

static void usage(const char *prog) {
  fprintf(
      stderr,
      "usage: %s [options]\n"
      "Trains a character-level transformer on Debian's fortunes and writes text with it.\n"
      "model:     --dims N (128)  --heads N (4)  --layers N (4)  --mlp N (4 dims)  --seq N (128)\n"
      "training:  --steps N (500)  --batch N (32)  --lr X (0.002)  --warmup N (steps/10)\n"
      "           --min-lr X (lr/10)  --weight-decay X (0.01)  --clip X (1, 0: off)\n"
      "           --seed N (0)  --compile  (trace the forward and backward pass once)\n"
      "           --composed  (train with basic ops instead of the fused lz_fast_* ops)\n"
      "data:      --data DIR (" DEFAULT_DATA ")  --subset BYTES (all)\n"
      "progress:  --log-every N (25)  --eval-batches N (8; 0: no validation)\n"
      "files:     --save FILE.safetensors  --save-every N (0: at the end only)\n"
      "           --resume FILE  (continue up to --steps; with --generate and no --steps,\n"
      "                           only generate)\n"
      "sampling:  --generate PROMPT  --tokens N (300)  --temperature X (0.8)  --top-k N (0: all)\n"
      "checks:    --max-loss X  (exit 1 unless the final validation loss is below X and,\n"
      "                          from scratch, the training loss fell)\n"
      "Threads: LZ_NUM_THREADS (one per core by default).\n",
      prog);
}

/* Parses an integer or a number option; returns 0 or -1. */
static int parse_int(const char *s, int lo, int *out) {
  char *end;
  long x = strtol(s, &end, 10);
  if (*s == '\0' || *end || x < lo || x > 1 << 30) return -1;
  *out = (int)x;
  return 0;
}
static int parse_num(const char *s, double lo, double *out) {
  char *end;
  double x = strtod(s, &end);
  if (*s == '\0' || *end || !(x >= lo) || !isfinite(x)) return -1;
  *out = x;
  return 0;
}

static int parse_options(int argc, char **argv, options *o) {
  *o = (options){.cfg = {.dims = 128, .heads = 4, .layers = 4, .seq = 128},
                 .steps = 500,
                 .batch = 32,
                 .lr = 2e-3,
                 .warmup = -1,
                 .min_lr = -1,
                 .weight_decay = 0.01,
                 .clip = 1.0,
                 .log_every = 25,
                 .eval_batches = 8,
                 .tokens = 300,
                 .temperature = 0.8,
                 .data = DEFAULT_DATA};
  bool steps_given = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    int bad = 0;
    if (strcmp(a, "--compile") == 0 || strcmp(a, "--composed") == 0) { /* flags */
      if (strcmp(a, "--compile") == 0)
        o->compile = true;
      else
        o->composed = true;
      continue;
    }
    if (!v || strncmp(a, "--", 2) != 0) return -1;
    if (strcmp(a, "--dims") == 0)
      bad = parse_int(v, 2, &o->cfg.dims);
    else if (strcmp(a, "--heads") == 0)
      bad = parse_int(v, 1, &o->cfg.heads);
    else if (strcmp(a, "--layers") == 0)
      bad = parse_int(v, 1, &o->cfg.layers);
    else if (strcmp(a, "--mlp") == 0)
      bad = parse_int(v, 1, &o->cfg.mlp);
    else if (strcmp(a, "--seq") == 0)
      bad = parse_int(v, 2, &o->cfg.seq);
    else if (strcmp(a, "--steps") == 0)
      bad = parse_int(v, 0, &o->steps), steps_given = true;
    else if (strcmp(a, "--batch") == 0)
      bad = parse_int(v, 1, &o->batch);
    else if (strcmp(a, "--lr") == 0)
      bad = parse_num(v, 0, &o->lr);
    else if (strcmp(a, "--warmup") == 0)
      bad = parse_int(v, 0, &o->warmup);
    else if (strcmp(a, "--min-lr") == 0)
      bad = parse_num(v, 0, &o->min_lr);
    else if (strcmp(a, "--weight-decay") == 0)
      bad = parse_num(v, 0, &o->weight_decay);
    else if (strcmp(a, "--clip") == 0)
      bad = parse_num(v, 0, &o->clip);
    else if (strcmp(a, "--seed") == 0)
      bad = parse_int(v, 0, &o->seed);
    else if (strcmp(a, "--data") == 0)
      o->data = v;
    else if (strcmp(a, "--subset") == 0)
      bad = parse_int(v, 1, &o->subset);
    else if (strcmp(a, "--log-every") == 0)
      bad = parse_int(v, 1, &o->log_every);
    else if (strcmp(a, "--eval-batches") == 0)
      bad = parse_int(v, 0, &o->eval_batches);
    else if (strcmp(a, "--save") == 0)
      o->save = v;
    else if (strcmp(a, "--save-every") == 0)
      bad = parse_int(v, 0, &o->save_every);
    else if (strcmp(a, "--resume") == 0)
      o->resume = v;
    else if (strcmp(a, "--generate") == 0)
      o->prompt = v;
    else if (strcmp(a, "--tokens") == 0)
      bad = parse_int(v, 0, &o->tokens);
    else if (strcmp(a, "--temperature") == 0)
      bad = parse_num(v, 0, &o->temperature);
    else if (strcmp(a, "--top-k") == 0)
      bad = parse_int(v, 0, &o->top_k);
    else if (strcmp(a, "--max-loss") == 0)
      bad = parse_num(v, 0, &o->max_loss);
    else
      return -1;
    if (bad) {
      fprintf(stderr, "%s: bad value '%s' for %s\n", argv[0], v, a);
      return -1;
    }
    i++;
  }
  if (o->resume && o->prompt && !steps_given) o->steps = 0; /* only generate */
  if (o->cfg.mlp == 0) o->cfg.mlp = 4 * o->cfg.dims;
  if (o->warmup < 0) o->warmup = o->steps / 10;
  if (o->min_lr < 0) o->min_lr = o->lr / 10;
  if (o->cfg.dims % o->cfg.heads || (o->cfg.dims / o->cfg.heads) % 2) {
    fprintf(stderr, "%s: --dims %d must split into --heads %d heads of an even size\n", argv[0],
            o->cfg.dims, o->cfg.heads);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  options o;
  if (parse_options(argc, argv, &o) != 0) {
    usage(argv[0]);
    return 2;
  }
  lz_random_seed((uint64_t)o.seed);
  vocab v = {0};
  lz_optimizer *opt = lz_optim_adamw(o.lr, 0.9, 0.999, 1e-8, o.weight_decay, true);
  lz_module *model = NULL;
  if (o.resume) {
    if (!(model = checkpoint_load(o.resume, opt, &v))) {
      lz_optim_free(opt);
      return 1;
    }
    o.cfg = *lm_config_of(model); /* the checkpoint's shape wins */
  }
  corpus data = {0};
  bool need_data = o.steps > lz_optim_step(opt) || o.max_loss > 0 || !o.resume;
  if (need_data && corpus_load(o.data, (size_t)o.subset, &v, &data) != 0) {
    lz_module_free(model), lz_optim_free(opt);
    return 1;
  }
  if (need_data && (data.ntrain <= (size_t)o.cfg.seq || data.nval <= (size_t)o.cfg.seq)) {
    fprintf(stderr, "transformer_lm: too little text (%zu + %zu characters) for --seq %d\n",
            data.ntrain, data.nval, o.cfg.seq);
    corpus_free(&data), lz_module_free(model), lz_optim_free(opt);
    return 1;
  }
  o.cfg.vocab = v.size;
  if (!model && !(model = lm_new(&o.cfg))) {
    fprintf(stderr, "transformer_lm: %s\n", lz_last_error());
    corpus_free(&data), lz_optim_free(opt);
    return 1;
  }
  int rc = train(&o, model, opt, &v, &data);
  if (rc == 0 && o.prompt) {
    printf("---- sample (temperature %g, top-k %d) ----\n", o.temperature, o.top_k);
    rc = generate(model, &v, o.prompt, o.tokens, o.temperature, o.top_k, stdout);
  }
  corpus_free(&data);
  lz_module_free(model);
  lz_optim_free(opt);
  if (lz_get_active_memory() != 0) { /* every array was released: nothing may be left */
    fprintf(stderr, "transformer_lm: %zu bytes of arrays leaked\n", lz_get_active_memory());
    rc = -1;
  }
  return rc == 0 ? 0 : 1;
}
