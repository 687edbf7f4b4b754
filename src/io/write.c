/* Saving files atomically: a temporary file beside the target, renamed over it once complete. */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
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
  if (rc == 0) sync_dir(path);
  else unlink(tmp);
  free(tmp);
  return rc == 0 ? 0 : -1;
}

int lz__write_all(FILE *fp, const void *p, size_t n, const char *path, const char *op) {
  if (n && fwrite(p, 1, n, fp) != n)
    return lz__error(LZ_ERROR_IO, op, "cannot write '%s': %s", path, strerror(errno));
  return 0;
}
