/* The distributed figures: lz_bench_mpi (built next to lz_bench) run alone and on 2 ranks
 * under mpirun (scripts/mpi_test.sh: Open MPI's flags for root and containers, a timeout), its
 * lines relayed. The single process runs lz_bench's thread count; each of the 2 ranks one
 * thread, so both use the same cores. */
#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static const char *const names[] = {"all_sum_f32_64MB_GBps", "all_sum_4B_us", "all_sum_check_us",
                                    "mnist_step_ms_2proc_dp"};
#define NNAMES (int)(sizeof names / sizeof names[0])

/* Runs `cmd`, prints its lines; returns its exit status (-1 if it could not start). */
static int relay(const char *cmd, int *lines) {
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  char line[256];
  while (fgets(line, sizeof line, p)) {
    if (strstr(line, "skipped")) continue;
    fputs(line, stdout);
    (*lines)++;
  }
  fflush(stdout);
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void bench_distributed(void) {
  char self[PATH_MAX], cmd[2 * PATH_MAX + 256];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  char *slash = len > 0 ? (self[len] = 0, strrchr(self, '/')) : NULL;
  int lines = 0;
  if (!slash) {
    bench_skip("mnist_step_ms_1proc", "cannot find lz_bench_mpi");
  } else {
    *slash = 0;
    snprintf(cmd, sizeof cmd, "'%s/lz_bench_mpi'", self);
    if (relay(cmd, &lines) != 0 || lines != 1) bench_skip("mnist_step_ms_1proc", "the run failed");
  }
  lines = 0;
  int rc = -1;
  if (slash) {
    snprintf(cmd, sizeof cmd,
             "LZ_MPI_TIMEOUT=300 sh '%s/scripts/mpi_test.sh' 2 '%s/lz_bench_mpi' 2>/dev/null",
             LZ_SOURCE_DIR, self);
    rc = relay(cmd, &lines);
  }
  if (rc == 0 && lines == NNAMES) return;
  for (int i = lines; i < NNAMES; i++)
    bench_skip(names[i], rc == 77 ? "MPI not installed (mpirun missing)" : "the mpirun job failed");
}
