/* Files are never half-written: a child process saves weights and optimizer state over the same
 * file again and again, alternating two contents, in each format (npy, npz, npz deflated,
 * safetensors, gguf); the parent kills it with SIGKILL at a random moment, then the file on disk
 * must load and equal one of the two contents exactly. The child is this program run again
 * (fork + exec), so it starts with no threads of the parent's. 10 trials per format under
 * LZ_TEST_SMALL, 50 otherwise, LZ_KILL_TRIALS to set it (make stress). */
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lz_test.h"

enum { F_NPY, F_NPZ, F_NPZ_DEFLATE, F_SAFETENSORS, F_GGUF, F_COUNT };
static const char *const ext[F_COUNT] = {"npy", "npz", "npz", "safetensors", "gguf"};
static const char *const fmt_name[F_COUNT] = {"npy", "npz", "npz (deflate)", "safetensors",
                                              "gguf"};
enum { ROWS = 128, COLS = 256 };
static const char *const names[3] = {"layers.0.weight", "layers.0.weight.m", "layers.0.weight.v"};

/* Content `which` (0 or 1): every element differs between the two. */
static lz_dict *content(int which) {
  lz_dict *d = lz_dict_new();
  float *v = malloc((size_t)ROWS * COLS * sizeof *v);
  for (int k = 0; k < 3; k++) {
    for (size_t i = 0; i < (size_t)ROWS * COLS; i++)
      v[i] = (float)((i * 7 + (size_t)k * 13) % 1009) + (which ? 0.5f : 0.25f);
    lz_array *a = lz_array_from_data(v, (int[]){ROWS, COLS}, 2, LZ_FLOAT32);
    lz_dict_set(d, names[k], a);
    lz_free(a);
  }
  free(v);
  return d;
}

static int save(int f, const char *path, lz_dict *d) {
  switch (f) {
  case F_NPY: {
    lz_array *a = lz_dict_get(d, names[0]);
    int rc = lz_save_npy(path, a);
    lz_free(a);
    return rc;
  }
  case F_NPZ: return lz_save_npz(path, d, false);
  case F_NPZ_DEFLATE: return lz_save_npz(path, d, true);
  case F_SAFETENSORS: return lz_save_safetensors(path, d, NULL);
  default: return lz_save_gguf(path, d, NULL);
  }
}

/* The child: saves the two contents in turn forever, telling the parent (one byte on fd 1)
 * after the first complete save. */
static int child(int f, const char *path) {
  lz_dict *d[2] = {content(0), content(1)};
  for (unsigned i = 0;; i++) {
    if (save(f, path, d[i & 1]) != 0) {
      fprintf(stderr, "child: %s\n", lz_last_error());
      return 1;
    }
    if (i == 0 && write(1, "s", 1) != 1) return 1;
  }
}

/* Which content the file holds: 0 or 1, or -1 (unreadable or neither). */
static int file_content(int f, const char *path, lz_dict *const *want) {
  lz_dict *got = NULL;
  if (f == F_NPY) {
    lz_array *a = lz_load_npy(path);
    if (a) got = lz_dict_new(), lz_dict_set(got, names[0], a), lz_free(a);
  } else {
    got = lz_load(path);
  }
  if (!got) {
    fprintf(stderr, "%s: %s\n", path, lz_last_error());
    lz_clear_error();
    return -1;
  }
  int match = -1;
  int nnames = f == F_NPY ? 1 : 3;
  for (int w = 0; w < 2 && match < 0; w++) {
    bool same = lz_dict_size(got) == (size_t)nnames;
    for (int k = 0; same && k < nnames; k++) {
      lz_array *a = lz_dict_get(got, names[k]), *b = lz_dict_get(want[w], names[k]);
      lz_array *eq = a && b ? lz_array_equal(a, b, false) : NULL;
      same = eq && lz_eval(eq) == 0 && lz_item_bool(eq);
      lz_free(a), lz_free(b), lz_free(eq);
    }
    if (same) match = w;
  }
  lz_clear_error();
  lz_dict_free(got);
  return match;
}

static char self[4096], tmpdir[64];
static int trials = 50;

static void test_kill_during_save(void) {
  lz_dict *want[2] = {content(0), content(1)};
  unsigned seed = (unsigned)time(NULL);
  printf("kill during save: seed %u\n", seed);
  srand(seed);
  int total = 0;
  for (int f = 0; f < F_COUNT; f++) {
    char path[256];
    snprintf(path, sizeof path, "%s/state%d.%s", tmpdir, f, ext[f]);
    CHECK(save(f, path, want[1]) == 0);
    int seen[2] = {0, 0};
    for (int t = 0; t < trials; t++) {
      int fds[2];
      if (pipe(fds) != 0) break;
      pid_t pid = fork();
      if (pid == 0) {
        dup2(fds[1], 1), close(fds[0]), close(fds[1]);
        char fs[16];
        snprintf(fs, sizeof fs, "%d", f);
        execl(self, self, "--child", fs, path, (char *)NULL);
        _exit(127);
      }
      close(fds[1]);
      char c;
      bool started = read(fds[0], &c, 1) == 1;
      close(fds[0]);
      CHECK(started);
      usleep((useconds_t)(rand() % 4000)); /* 0 to 4 ms into the next saves */
      kill(pid, SIGKILL);
      int status = 0;
      waitpid(pid, &status, 0);
      CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
      int k = file_content(f, path, want);
      if (k < 0) fprintf(stderr, "%s, trial %d: the file is neither content\n", fmt_name[f], t);
      CHECK(k >= 0);
      if (k >= 0) seen[k]++;
      total++;
    }
    unlink(path);
    /* A save killed while writing leaves its temporary file (named after the dead process)
     * beside the target, never a damaged target: count them (kills that hit a write), then
     * remove them. */
    int mid_write = 0;
    DIR *d = opendir(tmpdir);
    char p[512];
    for (struct dirent *e; d && (e = readdir(d));)
      if (e->d_name[0] != '.')
        mid_write++, snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name), unlink(p);
    if (d) closedir(d);
    printf("%s: %d kills (%d while writing), old/new content %d/%d\n", fmt_name[f], trials,
           mid_write, seen[0], seen[1]);
  }
  printf("kill during save: %d trials\n", total);
  lz_dict_free(want[0]), lz_dict_free(want[1]);
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "--child")) return child(atoi(argv[2]), argv[3]);
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return 1;
  self[n] = '\0';
  const char *small = getenv("LZ_TEST_SMALL"), *env = getenv("LZ_KILL_TRIALS");
  if (small && *small) trials = 10;
  if (env && atoi(env) > 0) trials = atoi(env);
  snprintf(tmpdir, sizeof tmpdir, "/tmp/lz_kill_XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  RUN(test_kill_during_save);
  rmdir(tmpdir);
  return lzt_summary();
}
