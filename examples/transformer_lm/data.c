/* Reading the fortunes: every plain text file of a directory, split into fortunes. */
#include "data.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The names of the regular files of dir that hold text, sorted; NULL if none or on error. */
static char **list_text_files(const char *dir, int *count) {
  DIR *d = opendir(dir);
  *count = 0;
  if (!d) return NULL;
  char **names = NULL;
  int n = 0, cap = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (e->d_name[0] == '.' || ends_with(e->d_name, ".dat") || ends_with(e->d_name, ".u8"))
      continue;
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      char **p = realloc(names, (size_t)cap * sizeof *p);
      if (!p) break;
      names = p;
    }
    if (!(names[n] = strdup(e->d_name))) break;
    n++;
  }
  closedir(d);
  if (n) qsort(names, (size_t)n, sizeof *names, cmp_names);
  *count = n;
  return names;
}

/* Appends the file's bytes (at most `room`) to *buf. Returns the number read or -1. */
static long append_file(const char *path, char **buf, size_t *len, size_t *cap, size_t room) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  long total = 0;
  for (;;) {
    if (*cap - *len < 65536) {
      size_t c = *cap ? 2 * *cap : 1 << 20;
      char *p = realloc(*buf, c);
      if (!p) break;
      *buf = p, *cap = c;
    }
    size_t want = *cap - *len < room - (size_t)total ? *cap - *len : room - (size_t)total;
    size_t got = want ? fread(*buf + *len, 1, want, f) : 0;
    *len += got, total += (long)got;
    if (got < want || got == 0) break;
  }
  fclose(f);
  return total;
}

int vocab_set(vocab *v, const uint8_t *chars, int n) {
  if (n < 1 || n > 256) return -1;
  memset(v->ids, 0xff, sizeof v->ids);
  for (int i = 0; i < n; i++) {
    if (v->ids[chars[i]] >= 0) return -1;
    v->chars[i] = chars[i], v->ids[chars[i]] = (int16_t)i;
  }
  v->size = n;
  return 0;
}

int corpus_load(const char *dir, size_t limit, vocab *v, corpus *c) {
  memset(c, 0, sizeof *c);
  int nfiles = 0;
  char **names = list_text_files(dir, &nfiles);
  char *text = NULL;
  size_t len = 0, cap = 0, room = limit ? limit : (size_t)-1;
  for (int i = 0; i < nfiles; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    if (len < room && append_file(path, &text, &len, &cap, room - len) > 0) c->nfiles++;
    free(names[i]);
  }
  free(names);
  if (len < 1000) {
    fprintf(stderr,
            "transformer_lm: found no fortune text in '%s'\n"
            "transformer_lm: install it with: apt-get install fortunes (or pass --data DIR)\n",
            dir);
    free(text);
    return -1;
  }
  if (v->size == 0) { /* the vocabulary: every byte that occurs */
    int seen[256] = {0};
    uint8_t chars[256];
    int n = 0;
    for (size_t i = 0; i < len; i++) seen[(uint8_t)text[i]] = 1;
    for (int b = 0; b < 256; b++)
      if (seen[b]) chars[n++] = (uint8_t)b;
    vocab_set(v, chars, n);
  }
  c->train = malloc(len * sizeof *c->train);
  c->val = malloc(len * sizeof *c->val);
  if (!c->train || !c->val) {
    fprintf(stderr, "transformer_lm: out of memory for %zu bytes of text\n", len);
    free(text), corpus_free(c);
    return -1;
  }
  /* A fortune ends after a line holding just "%"; every tenth one is for validation. */
  size_t fortune = 0;
  for (size_t i = 0; i < len; i++) {
    int id = v->ids[(uint8_t)text[i]];
    if (id >= 0) {
      if (fortune % 10 == 9)
        c->val[c->nval++] = id;
      else
        c->train[c->ntrain++] = id;
    }
    if (text[i] == '\n' && i >= 2 && text[i - 1] == '%' && text[i - 2] == '\n') fortune++;
  }
  free(text);
  return 0;
}

void corpus_free(corpus *c) {
  free(c->train), free(c->val);
  memset(c, 0, sizeof *c);
}
