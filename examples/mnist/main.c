/* Trains a classifier on Fashion-MNIST (Debian's dataset-fashion-mnist package): an MLP
 * 784-512-512-10 with ReLU, cross-entropy, SGD with momentum. One lz_eval per step computes
 * the loss, the gradients and the updated parameters together, as in MLX. The learning rate
 * follows a cosine decay.
 *
 *   mnist [--epochs N] [--batch N] [--lr X] [--subset N] [--data DIR] [--plot FILE.png]
 *         [--min-accuracy X]
 */
#include <lazuli.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "idx.h"

#define DEFAULT_DATA "/usr/share/datasets/fashion-mnist"
enum { NLAYERS = 3, NPARAMS = 2 * NLAYERS };

typedef struct options {
  int epochs, batch, subset;
  double lr, momentum, min_accuracy;
  const char *data, *plot;
} options;

typedef struct dataset {
  int n;
  float *images; /* n x 784, scaled to [0, 1] */
  int32_t *labels;
} dataset;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void usage(const char *prog) {
  fprintf(stderr,
          "usage: %s [--epochs N] [--batch N] [--lr X] [--subset N] [--data DIR]\n"
          "          [--plot FILE.png] [--min-accuracy X]\n"
          "Trains a 784-512-512-10 MLP on Fashion-MNIST and prints the test accuracy.\n"
          "With --min-accuracy, exits 1 unless the test accuracy reaches X and the loss fell.\n",
          prog);
}

static int parse_options(int argc, char **argv, options *o) {
  *o = (options){.epochs = 10, .batch = 128, .lr = 0.1, .momentum = 0.9, .data = DEFAULT_DATA};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return -1;
    if (!v) return -1;
    if (strcmp(a, "--epochs") == 0) o->epochs = atoi(v);
    else if (strcmp(a, "--batch") == 0) o->batch = atoi(v);
    else if (strcmp(a, "--lr") == 0) o->lr = atof(v);
    else if (strcmp(a, "--subset") == 0) o->subset = atoi(v);
    else if (strcmp(a, "--data") == 0) o->data = v;
    else if (strcmp(a, "--plot") == 0) o->plot = v;
    else if (strcmp(a, "--min-accuracy") == 0) o->min_accuracy = atof(v);
    else return -1;
    i++;
  }
  return o->epochs > 0 && o->batch > 0 && o->lr > 0 ? 0 : -1;
}

static int load_split(const char *dir, const char *prefix, int subset, dataset *d) {
  char ipath[512], lpath[512], err[600];
  snprintf(ipath, sizeof ipath, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
  snprintf(lpath, sizeof lpath, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
  idx_file im, lb;
  if (idx_read(ipath, &im, err, sizeof err) != 0) {
    fprintf(stderr, "mnist: %s\n", err);
    fprintf(stderr, "mnist: install the data with: apt-get install dataset-fashion-mnist\n");
    return -1;
  }
  if (idx_read(lpath, &lb, err, sizeof err) != 0) {
    fprintf(stderr, "mnist: %s\n", err);
    idx_free(&im);
    return -1;
  }
  if (im.ndim != 3 || im.dims[1] != 28 || im.dims[2] != 28 || lb.ndim != 1 ||
      lb.dims[0] != im.dims[0]) {
    fprintf(stderr, "mnist: '%s' and '%s' do not match (%d images, %d labels)\n", ipath, lpath,
            im.dims[0], lb.dims[0]);
    idx_free(&im), idx_free(&lb);
    return -1;
  }
  d->n = subset > 0 && subset < im.dims[0] ? subset : im.dims[0];
  d->images = malloc((size_t)d->n * 784 * sizeof(float));
  d->labels = malloc((size_t)d->n * sizeof(int32_t));
  for (size_t i = 0; d->images && i < (size_t)d->n * 784; i++) d->images[i] = im.data[i] / 255.0f;
  for (int i = 0; d->labels && i < d->n; i++) {
    if (lb.data[i] > 9) {
      fprintf(stderr, "mnist: '%s' has label %d at %d (expected 0..9)\n", lpath, lb.data[i], i);
      d->n = 0;
      break;
    }
    d->labels[i] = lb.data[i];
  }
  idx_free(&im), idx_free(&lb);
  return d->images && d->labels && d->n > 0 ? 0 : -1;
}

/* ---- the model: params[2l] is layer l's weight (in, out), params[2l+1] its bias ---- */

static const int sizes[NLAYERS + 1] = {784, 512, 512, 10};

static lz_array *forward(lz_array *const *params, lz_array *x) {
  for (int l = 0; l < NLAYERS; l++) {
    x = lz_add(lz_matmul(x, params[2 * l]), params[2 * l + 1]);
    if (l + 1 < NLAYERS) x = lz_maximum(x, lz_float(0)); /* relu */
  }
  return x;
}

/* The loss as a closure of (params..., x, y): mean cross-entropy of the logits. */
static int loss_fn(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx, (void)n;
  lz_array *logits = forward(in, in[NPARAMS]);
  lz_array *y = lz_expand_dims(in[NPARAMS + 1], (int[]){1}, 1);
  lz_array *onehot = lz_equal(lz_arange(0, 10, 1, LZ_INT32), y);
  lz_array *picked = lz_sum_axis(lz_multiply(logits, onehot), 1, false);
  lz_array *ce = lz_subtract(lz_logsumexp_axis(logits, 1, false), picked);
  out[0] = lz_mean(ce, false);
  return out[0] ? 1 : -1;
}

/* Fraction of correct predictions over a dataset, in batches of 1000. */
static double accuracy(lz_array *const *params, const dataset *d) {
  long correct = 0;
  for (int i = 0; i < d->n; i += 1000) {
    int m = d->n - i < 1000 ? d->n - i : 1000;
    lz_scope_begin();
    lz_array *x = lz_array_from_data(d->images + (size_t)i * 784, (int[]){m, 784}, 2, LZ_FLOAT32);
    lz_array *y = lz_array_from_data(d->labels + i, (int[]){m}, 1, LZ_INT32);
    lz_array *hits = lz_sum(lz_equal(lz_argmax_axis(forward(params, x), 1, false), y), false);
    correct += lz_item_i64(hits);
    lz_scope_end();
  }
  return (double)correct / d->n;
}

static void shuffle(int *perm, int n, unsigned *seed) {
  for (int i = n - 1; i > 0; i--) {
    int j = (int)(rand_r(seed) % (unsigned)(i + 1)), t = perm[i];
    perm[i] = perm[j], perm[j] = t;
  }
}

/* Writes the curves with gnuplot (from Debian's gnuplot-nox) if it is installed. */
static void plot(const char *path, const double *loss, const double *train_acc,
                 const double *test_acc, int epochs) {
  char dat[512];
  snprintf(dat, sizeof dat, "%s.dat", path);
  FILE *f = fopen(dat, "w");
  if (!f) return;
  for (int e = 0; e < epochs; e++)
    fprintf(f, "%d %g %g %g\n", e + 1, loss[e], train_acc[e], test_acc[e]);
  fclose(f);
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "gnuplot -e \"set terminal png size 800,400; set output '%s'; set multiplot layout 1,2;"
           " set xlabel 'epoch'; plot '%s' using 1:2 with linespoints title 'train loss';"
           " plot '%s' using 1:3 with linespoints title 'train acc', '' using 1:4 with "
           "linespoints title 'test acc'\" 2>/dev/null",
           path, dat, dat);
  if (system(cmd) != 0) fprintf(stderr, "mnist: --plot needs gnuplot (apt-get install gnuplot-nox)\n");
  else printf("wrote %s\n", path);
  remove(dat);
}

int main(int argc, char **argv) {
  options o;
  if (parse_options(argc, argv, &o) != 0) {
    usage(argv[0]);
    return 2;
  }
  dataset train = {0}, test = {0};
  if (load_split(o.data, "train", o.subset, &train) != 0 ||
      load_split(o.data, "t10k", o.subset ? o.subset / 6 + 1 : 0, &test) != 0)
    return 1;
  printf("Fashion-MNIST: %d training and %d test images; MLP 784-512-512-10, batch %d, "
         "SGD lr %g (cosine decay) momentum %g\n",
         train.n, test.n, o.batch, o.lr, o.momentum);

  /* Parameters and momenta live outside any scope: we own them across steps. */
  lz_array *params[NPARAMS], *moms[NPARAMS];
  lz_array *key = lz_random_key(0);
  for (int l = 0; l < NLAYERS; l++) {
    double bound = 1.0 / sqrt((double)sizes[l]); /* MLX's Linear initialisation */
    lz_scope_begin();
    lz_array *k = lz_random_split(key, l + 2);
    lz_array *kl = lz_take(k, lz_int(l + 1), 0);
    params[2 * l] = lz_keep(lz_random_uniform(lz_float(-bound), lz_float(bound),
                                              (int[]){sizes[l], sizes[l + 1]}, 2, LZ_FLOAT32, kl));
    params[2 * l + 1] = lz_keep(lz_zeros((int[]){sizes[l + 1]}, 1, LZ_FLOAT32));
    lz_scope_end();
    moms[2 * l] = lz_zeros(lz_array_shape(params[2 * l]), 2, LZ_FLOAT32);
    moms[2 * l + 1] = lz_zeros(lz_array_shape(params[2 * l + 1]), 1, LZ_FLOAT32);
  }
  lz_free(key);
  if (lz_eval_many(params, NPARAMS) != 0) {
    fprintf(stderr, "mnist: %s\n", lz_last_error());
    return 1;
  }

  int argnums[NPARAMS];
  for (int i = 0; i < NPARAMS; i++) argnums[i] = i;
  lz_closure *loss = lz_closure_new(loss_fn, NULL, NULL);
  lz_closure *step_fn = lz_value_and_grad(loss, argnums, NPARAMS, false);
  int *perm = malloc((size_t)train.n * sizeof *perm);
  float *xb = malloc((size_t)o.batch * 784 * sizeof *xb);
  int32_t *yb = malloc((size_t)o.batch * sizeof *yb);
  double *hist = calloc(3 * (size_t)o.epochs, sizeof *hist);
  if (!step_fn || !perm || !xb || !yb || !hist) {
    fprintf(stderr, "mnist: %s\n", lz_last_error()[0] ? lz_last_error() : "out of memory");
    return 1;
  }
  for (int i = 0; i < train.n; i++) perm[i] = i;
  unsigned seed = 1;
  double t0 = now(), test_acc = 0;
  int steps_per_epoch = train.n / o.batch;
  for (int epoch = 0; epoch < o.epochs; epoch++) {
    shuffle(perm, train.n, &seed);
    double te = now(), loss_sum = 0;
    for (int s = 0; s < steps_per_epoch; s++) {
      /* cosine decay of the learning rate over the whole run */
      double progress = (double)(epoch * steps_per_epoch + s) / (o.epochs * steps_per_epoch);
      double lr = 0.5 * o.lr * (1 + cos(3.141592653589793 * progress));
      for (int b = 0; b < o.batch; b++) {
        int idx = perm[s * o.batch + b];
        memcpy(xb + (size_t)b * 784, train.images + (size_t)idx * 784, 784 * sizeof(float));
        yb[b] = train.labels[idx];
      }
      lz_scope_begin();
      lz_array *in[NPARAMS + 2], *res[1 + NPARAMS];
      memcpy(in, params, sizeof params);
      in[NPARAMS] = lz_array_from_data(xb, (int[]){o.batch, 784}, 2, LZ_FLOAT32);
      in[NPARAMS + 1] = lz_array_from_data(yb, (int[]){o.batch}, 1, LZ_INT32);
      if (lz_closure_call(step_fn, in, NPARAMS + 2, res) < 0) {
        fprintf(stderr, "mnist: %s\n", lz_last_error());
        return 1;
      }
      lz_array *todo[1 + 2 * NPARAMS];
      todo[0] = res[0];
      for (int i = 0; i < NPARAMS; i++) { /* momentum SGD, still lazy */
        lz_array *m = lz_add(lz_multiply(moms[i], lz_float(o.momentum)), res[1 + i]);
        lz_array *p = lz_subtract(params[i], lz_multiply(m, lz_float(lr)));
        lz_free(params[i]), lz_free(moms[i]); /* the old values are still in the graph */
        params[i] = lz_keep(p), moms[i] = lz_keep(m);
        todo[1 + 2 * i] = p, todo[2 + 2 * i] = m;
      }
      if (lz_eval_many(todo, 1 + 2 * NPARAMS) != 0) { /* forward, backward, update: one eval */
        fprintf(stderr, "mnist: %s\n", lz_last_error());
        return 1;
      }
      loss_sum += lz_item_f64(res[0]);
      lz_scope_end();
    }
    double train_acc = accuracy(params, &train);
    test_acc = accuracy(params, &test);
    double dt = now() - te, el = now() - t0;
    hist[epoch] = loss_sum / steps_per_epoch;
    hist[o.epochs + epoch] = train_acc;
    hist[2 * o.epochs + epoch] = test_acc;
    printf("epoch %2d/%d  loss %.4f  train acc %.2f%%  test acc %.2f%%  %.0f samples/s  "
           "elapsed %.1fs  eta %.0fs\n",
           epoch + 1, o.epochs, hist[epoch], 100 * train_acc, 100 * test_acc,
           steps_per_epoch * o.batch / dt, el, el / (epoch + 1) * (o.epochs - epoch - 1));
    fflush(stdout);
  }
  printf("test accuracy: %.2f%%\n", 100 * test_acc);
  if (o.plot) plot(o.plot, hist, hist + o.epochs, hist + 2 * o.epochs, o.epochs);

  int rc = test_acc >= o.min_accuracy ? 0 : 1;
  if (rc) fprintf(stderr, "mnist: accuracy below the required %.2f%%\n", 100 * o.min_accuracy);
  if (o.min_accuracy > 0 && o.epochs > 1 && !(hist[o.epochs - 1] < hist[0])) {
    fprintf(stderr, "mnist: the training loss did not fall (%.4f -> %.4f)\n", hist[0],
            hist[o.epochs - 1]);
    rc = 1;
  }
  for (int i = 0; i < NPARAMS; i++) lz_free(params[i]), lz_free(moms[i]);
  lz_closure_free(step_fn);
  lz_closure_free(loss);
  free(perm), free(xb), free(yb), free(hist);
  free(train.images), free(train.labels), free(test.images), free(test.labels);
  return rc;
}
