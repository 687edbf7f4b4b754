/* Scopes: a thread-local stack of owned handles, so nested expressions need no frees.
 * One flat list holds every open scope's entries; `marks` records where each scope starts.
 * lz_scope_suspend hides the open scopes: `base` and `mark_base` then mark where the visible
 * part of both lists starts, so the code that runs meanwhile sees depth 0. */
#include "internal.h"
#include "threads.h"

#include <stdlib.h>

typedef struct entry {
  lz_array *a; /* NULL once freed by the user */
  bool kept;
} entry;

static _Thread_local entry *entries;
static _Thread_local size_t n_entries, cap_entries;
static _Thread_local size_t *marks;
static _Thread_local int depth, cap_marks;
static _Thread_local size_t base;  /* entries below belong to suspended scopes */
static _Thread_local int mark_base; /* scopes below are suspended */
typedef struct suspended {
  size_t base;
  int mark_base;
} suspended;
static _Thread_local suspended *susp;
static _Thread_local int n_susp, cap_susp;

/* Gives back this thread's lists when it exits (arrays still in open scopes are not freed). */
static void free_lists(void) {
  free(entries), free(marks), free(susp);
  entries = NULL, marks = NULL, susp = NULL;
  n_entries = cap_entries = 0;
  depth = cap_marks = 0;
  base = 0, mark_base = 0, n_susp = cap_susp = 0;
}

static bool push_entry(lz_array *a, bool kept) {
  if (n_entries == cap_entries) {
    if (!entries) lz__at_thread_exit(free_lists);
    size_t cap = cap_entries ? cap_entries * 2 : 1024;
    entry *e = realloc(entries, cap * sizeof *e);
    if (!e) return false;
    entries = e, cap_entries = cap;
  }
  entries[n_entries++] = (entry){a, kept};
  a->scope_refs++;
  return true;
}

lz_array *lz__track(lz_array *a) {
  if (depth == mark_base || !a) return a;
  if (!push_entry(a, false)) {
    /* Cannot record ownership: fail the op rather than leak or double free later. */
    lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_scope", "out of memory tracking an array");
    lz__array_decref(a);
    return NULL;
  }
  return a;
}

void lz_scope_begin(void) {
  if (depth == cap_marks) {
    int cap = cap_marks ? cap_marks * 2 : 16;
    if (!marks) lz__at_thread_exit(free_lists);
    size_t *m = realloc(marks, (size_t)cap * sizeof *m);
    if (!m) { /* a scope we cannot open still nests correctly: it merges with its parent */
      lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_scope_begin", "out of memory opening a scope");
      return;
    }
    marks = m, cap_marks = cap;
  }
  marks[depth++] = n_entries;
}

void lz_scope_end(void) {
  if (depth == mark_base) return;
  size_t start = marks[--depth];
  size_t n_kept = 0;
  /* Kept entries slide down to `start` (they now belong to the parent); the rest are released.
   * Releasing may free arrays but never touches the entry list, so the loop is safe. */
  for (size_t i = start; i < n_entries; i++) {
    entry e = entries[i];
    if (!e.a) continue;
    if (e.kept) {
      entries[start + n_kept++] = (entry){e.a, false};
    } else {
      e.a->scope_refs--;
      lz__array_decref(e.a);
    }
  }
  n_entries = start + n_kept;
  if (depth == mark_base) { /* the caller owns what was kept */
    for (size_t i = base; i < n_entries; i++) entries[i].a->scope_refs--;
    n_entries = base;
    if (n_entries == 0 && cap_entries > 65536) {
      free(entries);
      entries = NULL, cap_entries = 0;
    }
  }
}

lz_array *lz_keep(lz_array *a) {
  if (!a || depth == mark_base) return a;
  size_t start = marks[depth - 1];
  for (size_t i = n_entries; i-- > start;) {
    if (entries[i].a == a && !entries[i].kept) {
      entries[i].kept = true;
      return a;
    }
  }
  /* Not created in this scope (e.g. made outside and passed in): take a new reference that
   * the enclosing scope, or the caller, will own. */
  lz__array_incref(a);
  if (!push_entry(a, true)) {
    lz__array_decref(a);
    lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_keep", "out of memory");
    return NULL;
  }
  return a;
}

int lz_scope_depth(void) { return depth - mark_base; }

int lz_scope_suspend(void) {
  if (n_susp == cap_susp) {
    int cap = cap_susp ? cap_susp * 2 : 8;
    if (!susp) lz__at_thread_exit(free_lists);
    suspended *s = realloc(susp, (size_t)cap * sizeof *s);
    if (!s) return lz__error(LZ_ERROR_OUT_OF_MEMORY, "lz_scope_suspend", "out of memory");
    susp = s, cap_susp = cap;
  }
  susp[n_susp++] = (suspended){base, mark_base};
  base = n_entries, mark_base = depth;
  return 0;
}

void lz_scope_resume(void) {
  if (n_susp == 0) return;
  while (depth > mark_base) lz_scope_end(); /* scopes left open meanwhile */
  suspended s = susp[--n_susp];
  base = s.base, mark_base = s.mark_base;
}

void lz_release(lz_array *a) {
  if (a) lz__array_decref(a);
}

/* Only the visible part: an array also held by a suspended scope keeps that entry. */
bool lz__scope_forget(lz_array *a) {
  for (size_t i = n_entries; i-- > base;) {
    if (entries[i].a == a) {
      entries[i].a = NULL;
      a->scope_refs--;
      return true;
    }
  }
  return false;
}
