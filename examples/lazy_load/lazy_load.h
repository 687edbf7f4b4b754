/* Lazy initialisation + loading, measured: a model of `layers` Linear(dims, dims) layers is
 * created with float32 initial values, float16 weights are loaded over it from a safetensors
 * file and everything is evaluated once. Done lazily, the float32 initial values are never
 * computed; done eagerly (evaluate the model, then load), they are. Each run happens in a child
 * process so that its peak resident memory (VmHWM) is its own. Uses only the public API; shared
 * by examples/lazy_load/main.c and tests/test_lazy_load.c. */
#ifndef LAZY_LOAD_H
#define LAZY_LOAD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lazuli.h"

typedef struct ll_result {
  int ok;
  double lz_peak_mb;  /* lz_get_peak_memory() */
  double rss_peak_mb; /* VmHWM minus the resident memory at the start of the run */
  size_t num_params;
} ll_result;

static lz_module *ll_model(int layers, int dims) {
  lz_module **mods = malloc((size_t)layers * sizeof *mods);
  if (!mods) return NULL;
  for (int i = 0; i < layers; i++) mods[i] = lz_nn_linear_new(dims, dims, true);
  lz_module *m = lz_nn_sequential_new(layers, mods);
  free(mods);
  return m;
}

/* A "VmRSS:" or "VmHWM:" line of /proc/self/status, in MiB (-1 if unavailable). */
static double ll_status_mb(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  double v = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, field, strlen(field)) == 0) v = atof(line + strlen(field)) / 1024.0;
  if (f) fclose(f);
  return v;
}

static lz_array *ll_random_half(void *ctx, const char *name, lz_array *p) {
  return lz_random_normal(lz_array_shape(p), lz_array_ndim(p), LZ_FLOAT16, 0, 0.02, NULL);
}

/* Runs fn(arg) in a child process and returns what it reports. */
static ll_result ll_in_child(void (*fn)(const void *arg, ll_result *r), const void *arg) {
  ll_result r = {0};
  int fd[2];
  if (pipe(fd) != 0) return r;
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    ll_result c = {0};
    fn(arg, &c);
    ssize_t w = write(fd[1], &c, sizeof c);
    _exit(w == (ssize_t)sizeof c ? 0 : 1);
  }
  close(fd[1]);
  if (pid > 0) {
    if (read(fd[0], &r, sizeof r) != (ssize_t)sizeof r) r.ok = 0;
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) r.ok = 0;
  }
  close(fd[0]);
  return r;
}

typedef struct ll_job {
  const char *path;
  int layers, dims;
  bool eager;
} ll_job;

/* Writes float16 weights for the model to job->path. */
static void ll_write(const void *arg, ll_result *r) {
  const ll_job *j = arg;
  lz_module *m = ll_model(j->layers, j->dims);
  r->ok =
      m && lz_module_apply(m, ll_random_half, NULL) == 0 && lz_module_save_weights(m, j->path) == 0;
  lz_module_free(m);
}

/* Creates the model, loads the file over it and evaluates, lazily or eagerly. */
static void ll_measure(const void *arg, ll_result *r) {
  const ll_job *j = arg;
  FILE *f = fopen("/proc/self/clear_refs", "w"); /* resets VmHWM to the current RSS */
  if (f) fputs("5", f), fclose(f);
  double rss0 = ll_status_mb("VmRSS:");
  lz_reset_peak_memory();
  lz_module *m = ll_model(j->layers, j->dims);
  bool ok = m != NULL;
  if (ok && j->eager) ok = lz_module_eval(m) == 0; /* materialise the float32 initial values */
  ok = ok && lz_module_load_weights(m, j->path, true) == 0 && lz_module_eval(m) == 0;
  r->num_params = lz_module_num_parameters(m);
  r->lz_peak_mb = (double)lz_get_peak_memory() / (1024.0 * 1024.0);
  r->rss_peak_mb = ll_status_mb("VmHWM:") - rss0;
  r->ok = ok && rss0 >= 0;
  if (!ok) fprintf(stderr, "lazy_load: %s\n", lz_last_error());
  lz_module_free(m);
}

/* Writes the file, then measures the lazy and the eager way. Returns 0 or -1. */
static int ll_run(const char *path, int layers, int dims, ll_result *lazy, ll_result *eager) {
  ll_job j = {path, layers, dims, false};
  ll_result w = ll_in_child(ll_write, &j);
  if (!w.ok) return -1;
  *lazy = ll_in_child(ll_measure, &j);
  j.eager = true;
  *eager = ll_in_child(ll_measure, &j);
  return lazy->ok && eager->ok ? 0 : -1;
}

#endif /* LAZY_LOAD_H */
