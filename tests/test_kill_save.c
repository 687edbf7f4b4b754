/* Files are never half-written: a child process saves weights and optimizer state over the same
 * file again and again, alternating two contents, in each format (npy, npz, npz deflated,
 * safetensors, gguf); the parent kills it with SIGKILL at a random moment, then the file on disk
 * must load and equal one of the two contents exactly. The child is this program run again
 * (fork + exec), so it starts with no threads of the parent's. 10 trials per format under
 * LZ_TEST_SMALL, 50 otherwise, LZ_KILL_TRIALS to set it (make stress). A killed save leaves its
 * temporary file (`<path>.tmp.<pid>.<k>`); the next save to the path removes it, and only the
 * temporaries of dead writers (test_stale_temporaries). */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lz_test.h"

enum { F_NPY, F_NPZ, F_NPZ_DEFLATE, F_SAFETENSORS, F_GGUF, F_COUNT };
static const char *const ext[F_COUNT] = {"npy", "npz", "npz", "safetensors", "gguf"};
static const char *const fmt_name[F_COUNT] = {"npy", "npz", "npz (deflate)", "safetensors", "gguf"};
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
  case F_NPZ:
    return lz_save_npz(path, d, false);
  case F_NPZ_DEFLATE:
    return lz_save_npz(path, d, true);
  case F_SAFETENSORS:
    return lz_save_safetensors(path, d, NULL);
  default:
    return lz_save_gguf(path, d, NULL);
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

/* Entries of tmpdir (not . and ..). */
static int count_files(void) {
  int n = 0;
  DIR *d = opendir(tmpdir);
  for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
  if (d) closedir(d);
  return n;
}

static bool exists(const char *path) { return access(path, F_OK) == 0; }

static void touch(const char *path) {
  FILE *fp = fopen(path, "wb");
  if (fp) fputs("partial", fp), fclose(fp);
}

/* Which temporaries a save removes: those of dead writers whose lock is free; never a live
 * process's (by pid or by lock), nor another file's, nor a name that only looks alike. */
static void test_stale_temporaries(void) {
  char path[256], p[16][320];
  snprintf(path, sizeof path, "%s/w.safetensors", tmpdir);
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, NULL, 0);
  pid_t live = fork();
  if (live == 0) {
    pause();
    _exit(0);
  }
  lz_dict *d = content(0);
  const char *fmt[] = {
      "%s.tmp.%ld.3",  /* 0: dead writer: removed */
      "%s.tmp.%ld.17", /* 1: dead writer: removed */
      "%s.tmp.%ld.4",  /* 2: dead pid, but locked (a writer in another pid namespace): kept */
      "%s.tmp.%ld.5",  /* 3: a live process's: kept */
      "%s.tmp.%ld.6",  /* 4: this process's: kept */
      "%s.tmpx.%ld.1", /* 5: not a temporary of the path: kept */
      "%s.tmp.%ld.x",  /* 6: kept */
      "%s.bak.tmp.%ld.1" /* 7: another file's temporary: kept */};
  long pids[] = {dead, dead, dead, live, (long)getpid(), dead, dead, dead};
  for (int i = 0; i < 8; i++) snprintf(p[i], sizeof p[i], fmt[i], path, pids[i]), touch(p[i]);
  int lock = open(p[2], O_RDONLY);
  CHECK(lock >= 0 && flock(lock, LOCK_EX) == 0);
  CHECK(lz_save_safetensors(path, d, NULL) == 0);
  for (int i = 0; i < 8; i++) {
    if (exists(p[i]) != (i >= 2))
      fprintf(stderr, "%s: %s\n", p[i], exists(p[i]) ? "kept" : "removed");
    CHECK(exists(p[i]) == (i >= 2));
  }
  /* once the lock is released and the process gone, the next save removes theirs */
  close(lock);
  kill(live, SIGKILL);
  waitpid(live, NULL, 0);
  CHECK(lz_save_safetensors(path, d, NULL) == 0);
  CHECK(!exists(p[2]) && !exists(p[3]) && exists(p[4]) && exists(p[5]));
  /* a failed save removes nothing (and leaves no temporary of its own) */
  snprintf(p[8], sizeof p[8], "%s.tmp.%ld.8", path, (long)dead);
  touch(p[8]);
  lz_array *bf = lz_zeros((int[]){2}, 1, LZ_BFLOAT16);
  CHECK(lz_save_npy(path, bf) == -1); /* bfloat16 has no .npy form */
  lz_clear_error();
  CHECK(exists(p[8]));
  lz_free(bf);
  for (int i = 0; i < 9; i++) unlink(p[i]);
  unlink(path);
  CHECK(count_files() == 0);
  lz_dict_free(d);
}

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
    int seen[2] = {0, 0}, mid_write = 0;
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
      /* A save killed while writing leaves its temporary file (named after the dead process)
       * beside the target, never a damaged target: count them (kills that hit a write). The
       * child's first save removed the one the previous kill left: at most this one is here. */
      int left = count_files() - 1;
      CHECK(left == 0 || left == 1);
      mid_write += left;
    }
    /* the next save removes the last one too */
    CHECK(save(f, path, want[0]) == 0);
    CHECK(count_files() == 1);
    CHECK(file_content(f, path, want) == 0);
    unlink(path);
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
  RUN(test_stale_temporaries);
  RUN(test_kill_during_save);
  rmdir(tmpdir);
  return lzt_summary();
}
