/* Saving files atomically: a temporary file beside the target, renamed over it once complete. */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static atomic_uint save_counter;

FILE *lz__save_begin(const char *path, char **tmp, const char *op) {
  *tmp = NULL;
  if (!path) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "path is NULL");
    return NULL;
  }
  size_t cap = strlen(path) + 48;
  char *name = lz__malloc(cap);
  if (!name) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory saving '%s'", path);
    return NULL;
  }
  struct stat st;
  bool exists = stat(path, &st) == 0 && S_ISREG(st.st_mode);
  int fd = -1;
  for (int tries = 0; fd < 0 && tries < 100; tries++) {
    unsigned k = atomic_fetch_add(&save_counter, 1);
    snprintf(name, cap, "%s.tmp.%ld.%u", path, (long)getpid(), k);
    /* 0666 less the umask, as fopen would create it */
    fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    lz__error(LZ_ERROR_IO, op, "cannot create '%s': %s", path, strerror(errno));
    free(name);
    return NULL;
  }
  /* Held until the file is closed: a live writer's temporary is never taken for a stale one,
   * even by a process in another pid namespace (the lock is released when the process dies). */
  (void)flock(fd, LOCK_EX);
  if (exists) (void)fchmod(fd, st.st_mode & 07777); /* keep the target's permissions */
  FILE *fp = fdopen(fd, "wb");
  if (!fp) {
    lz__error(LZ_ERROR_IO, op, "cannot create '%s': %s", path, strerror(errno));
    close(fd);
    unlink(name);
    free(name);
    return NULL;
  }
  *tmp = name;
  return fp;
}

/* Makes the rename itself durable (best effort: some file systems cannot sync a directory). */
static void sync_dir(const char *path) {
  char *copy = strdup(path);
  if (!copy) return;
  int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
  free(copy);
}

/* If `name` is `base`.tmp.<pid>.<k>, the pid; otherwise 0. */
static long stale_pid(const char *name, const char *base, size_t nbase) {
  if (strncmp(name, base, nbase) != 0 || strncmp(name + nbase, ".tmp.", 5) != 0) return 0;
  const char *p = name + nbase + 5;
  char *end;
  if (*p < '0' || *p > '9') return 0;
  long pid = strtol(p, &end, 10);
  if (*end != '.' || end[1] < '0' || end[1] > '9') return 0;
  (void)strtoul(end + 1, &end, 10);
  return *end == '\0' && pid > 0 ? pid : 0;
}

/* Removes the temporaries of saves to `path` that were killed before they finished: names
 * `<path>.tmp.<pid>.<k>` whose pid is no live process and whose lock nobody holds (both: the
 * pid test alone is wrong across pid namespaces, the lock alone in the moment between a
 * writer's open and its flock). A pid reused since only delays the removal. Best effort: any
 * failure leaves the file. The directory is scanned once, with libc's allocations only. */
static void remove_stale_temporaries(const char *path) {
  char *dcopy = strdup(path), *bcopy = strdup(path);
  DIR *dir = dcopy && bcopy ? opendir(dirname(dcopy)) : NULL;
  const char *base = bcopy ? basename(bcopy) : NULL;
  size_t nbase = base ? strlen(base) : 0;
  int dfd = dir ? dirfd(dir) : -1;
  for (struct dirent *e; dir && (e = readdir(dir));) {
    long pid = stale_pid(e->d_name, base, nbase);
    if (pid == 0 || (long)(pid_t)pid != pid || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 ||
        errno != ESRCH)
      continue;
    int fd = openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0)
      (void)unlinkat(dfd, e->d_name, 0);
    close(fd);
  }
  if (dir) closedir(dir);
  free(dcopy), free(bcopy);
}

int lz__save_end(FILE *fp, char *tmp, const char *path, int rc, const char *op) {
  if (!fp) {
    free(tmp);
    return -1;
  }
  if (rc == 0 && (fflush(fp) != 0 || fsync(fileno(fp)) != 0))
    rc = lz__error(LZ_ERROR_IO, op, "cannot write '%s': %s", path, strerror(errno));
  if (fclose(fp) != 0 && rc == 0)
    rc = lz__error(LZ_ERROR_IO, op, "cannot write '%s': %s", path, strerror(errno));
  if (rc == 0 && rename(tmp, path) != 0)
    rc = lz__error(LZ_ERROR_IO, op, "cannot replace '%s': %s", path, strerror(errno));
  if (rc == 0)
    sync_dir(path), remove_stale_temporaries(path);
  else
    unlink(tmp);
  free(tmp);
  return rc == 0 ? 0 : -1;
}

int lz__write_all(FILE *fp, const void *p, size_t n, const char *path, const char *op) {
  if (n && fwrite(p, 1, n, fp) != n)
    return lz__error(LZ_ERROR_IO, op, "cannot write '%s': %s", path, strerror(errno));
  return 0;
}
