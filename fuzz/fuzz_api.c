/* The API fuzzer: the input is a program of API calls on a few array slots: arrays of random
 * shapes and dtypes, unary, binary, reduction and shape ops with random axes and NULL inputs,
 * grad, vjp, jvp, vmap and compile of small closures (and their compositions), scopes (kept or
 * dropped results), frees, evals, and save/load round trips through a temporary file in every
 * format (npy, npz stored or deflated, safetensors, gguf). After each call: a failed call left a
 * message, a successful one left no error; a save that succeeded loads back with the same
 * dtype, shape and bits. Two anchors (an evaluated array and a transposed view of it) are inputs
 * the program may use but never owns: at the end every slot is freed, each anchor and its buffer
 * are back to one reference, and active memory is back to its value before the program (no
 * array, buffer or node outlives it; LSan sees the rest). Any violation aborts, which libFuzzer
 * reports with the input. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h" /* reference counts of the anchors */
#include "lazuli.h"

enum { SLOTS = 8, MAXDIM = 4, MAXRANK = 4 };

typedef struct prog {
  const uint8_t *p, *end;
  lz_array *anchor[2]; /* borrowed by the program: never put in a slot without a reference */
  lz_array *slot[SLOTS];
  int depth[SLOTS]; /* the scope depth that owns the slot's array */
} prog;

static unsigned byte(prog *g) { return g->p < g->end ? *g->p++ : 0; }

static void fail(const char *what) {
  fprintf(stderr, "fuzz_api: %s (last error: \"%s\")\n", what, lz_last_error());
  abort();
}

/* A call's result: NULL must come with a message, a result with no error pending. */
static lz_array *checked(lz_array *r) {
  if (!r && !lz_last_error()[0]) fail("a call failed without a message");
  if (r && lz_last_error()[0]) fail("a call succeeded with an error pending");
  lz_clear_error();
  return r;
}
static void checked_rc(int rc) {
  if (rc != 0 && !lz_last_error()[0]) fail("a call failed without a message");
  if (rc == 0 && lz_last_error()[0]) fail("a call succeeded with an error pending");
  lz_clear_error();
}

/* The array in a slot chosen by the next byte; SLOTS stands for NULL, then the two anchors. */
static lz_array *arg(prog *g) {
  unsigned k = byte(g) % (SLOTS + 3);
  return k < SLOTS ? g->slot[k] : k == SLOTS ? NULL : g->anchor[k - SLOTS - 1];
}

/* Gives up slot k's reference the way its owner allows: lz_release for one the caller owns,
 * lz_free for the current scope's (lz_free takes the innermost scope's entry for the handle, so
 * only when no other slot shares it there); an outer scope's is left to that scope's end. */
static void release(prog *g, int k) {
  lz_array *a = g->slot[k];
  int d = g->depth[k], now = lz_scope_depth();
  g->slot[k] = NULL;
  if (!a) return;
  if (d == 0) {
    if (now == 0)
      lz_free(a);
    else
      lz_release(a);
    return;
  }
  if (d != now) return;
  for (int j = 0; j < SLOTS; j++)
    if (g->slot[j] == a) return; /* shared: the scope's end releases both entries */
  lz_free(a);
}

static void put(prog *g, lz_array *r) {
  unsigned k = byte(g) % SLOTS;
  release(g, (int)k);
  g->slot[k] = r;
  g->depth[k] = lz_scope_depth();
}

static const lz_dtype dtypes[] = {LZ_FLOAT32, LZ_FLOAT16, LZ_BFLOAT16, LZ_FLOAT64,
                                  LZ_INT32,   LZ_INT64,   LZ_UINT8,    LZ_BOOL,
                                  LZ_INT8,    LZ_UINT32,  LZ_COMPLEX64};

static int shape_of(prog *g, int *shape) {
  int ndim = (int)(byte(g) % (MAXRANK + 1));
  for (int i = 0; i < ndim; i++) shape[i] = (int)(byte(g) % (MAXDIM + 1));
  return ndim;
}

static lz_array *make_array(prog *g) {
  int shape[MAXRANK];
  int ndim = shape_of(g, shape);
  lz_dtype t = dtypes[byte(g) % (sizeof dtypes / sizeof dtypes[0])];
  size_t n = 1;
  for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
  size_t bytes = n * lz_dtype_size(t);
  uint8_t *data = malloc(bytes ? bytes : 1);
  unsigned seed = byte(g);
  for (size_t i = 0; i < bytes; i++) data[i] = (uint8_t)(seed + i * 37u);
  if (t == LZ_BOOL)
    for (size_t i = 0; i < bytes; i++) data[i] &= 1;
  lz_array *a = lz_array_from_data(data, shape, ndim, t);
  free(data);
  return a;
}

/* ---- closures for the transforms ------------------------------------------------------- */

static int f_scalar(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx;
  if (n < 1) return -1;
  lz_scope_begin();
  lz_array *y = lz_sum(lz_multiply(lz_sin(in[0]), in[0]), false);
  out[0] = lz_keep(y);
  lz_scope_end();
  return y ? 1 : -1;
}

static int f_elementwise(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx;
  if (n < 1) return -1;
  lz_scope_begin();
  lz_array *y = lz_add(lz_exp(in[0]), lz_multiply(in[0], in[0]));
  out[0] = lz_keep(y);
  lz_scope_end();
  return y ? 1 : -1;
}

/* f_scalar's gradient as a function: compiled or vmapped below (transforms of transforms). */
static int f_grad(void *ctx, lz_array *const *in, int n, lz_array **out) {
  (void)ctx;
  lz_closure *f = lz_closure_new(f_scalar, NULL, NULL), *d = f ? lz_grad(f, NULL, 0) : NULL;
  int k = d ? lz_closure_call(d, in, n, out) : -1;
  lz_closure_free(d), lz_closure_free(f);
  return k;
}

/* Calls closure f on one slot; the first output goes to a slot. */
static void call(prog *g, lz_closure *f) {
  lz_array *in[1] = {arg(g)}, *out[LZ_MAX_OUTPUTS];
  int k = f ? lz_closure_call(f, in, 1, out) : -1;
  if (k < 0 && !lz_last_error()[0]) fail("a closure call failed without a message");
  lz_clear_error();
  for (int i = 1; i < k; i++) lz_free(out[i]);
  if (k >= 1) put(g, out[0]);
}

/* ---- save and load round trips --------------------------------------------------------- */

enum { F_NPY, F_NPZ, F_NPZ_DEFLATE, F_SAFETENSORS, F_GGUF, F_COUNT };
static const char *const ext[F_COUNT] = {"npy", "npz", "npz", "safetensors", "gguf"};
static char paths[F_COUNT][80];

/* `loaded` must hold what `saved` held: dtype, shape (GGUF stores a 0-d array as shape (1)) and
 * every element (NaNs equal). */
static void check_same(lz_array *saved, lz_array *loaded, int f) {
  if (!loaded) fail("a saved array is missing from the file");
  bool scalar = f == F_GGUF && lz_array_ndim(saved) == 0 && lz_array_ndim(loaded) == 1 &&
                lz_array_dim(loaded, 0) == 1;
  if (lz_array_dtype(saved) != lz_array_dtype(loaded) ||
      (!scalar && (lz_array_ndim(saved) != lz_array_ndim(loaded) ||
                   memcmp(lz_array_shape(saved), lz_array_shape(loaded),
                          (size_t)lz_array_ndim(saved) * sizeof(int)))))
    fail("a round trip changed the dtype or the shape");
  lz_scope_begin();
  if (scalar) loaded = lz_reshape(loaded, NULL, 0);
  lz_array *eq = lz_array_equal(saved, loaded, true);
  if (!eq || lz_eval(eq) != 0 || !lz_item_bool(eq)) {
    lz_array_print(saved, stderr), lz_array_print(loaded, stderr);
    fail("a round trip changed the values");
  }
  lz_scope_end();
}

/* Saves one or two slots in format f and loads them back into slots. */
static void save_load(prog *g) {
  int f = (int)(byte(g) % F_COUNT);
  lz_array *a[2] = {arg(g), arg(g)};
  const char *path = paths[f];
  if (f == F_NPY) {
    int rc = lz_save_npy(path, a[0]);
    checked_rc(rc);
    if (rc != 0) return;
    lz_array *r = checked(lz_load_npy(path));
    if (!r) fail("a saved .npy file does not load");
    check_same(a[0], r, f);
    put(g, r);
    return;
  }
  lz_dict *d = lz_dict_new();
  if (!d) fail("no dict");
  for (int i = 0; i < 2; i++)
    if (a[i]) checked_rc(lz_dict_set(d, i ? "b" : "layers.0.w", a[i]));
  int rc = f == F_NPZ || f == F_NPZ_DEFLATE ? lz_save_npz(path, d, f == F_NPZ_DEFLATE)
           : f == F_SAFETENSORS             ? lz_save_safetensors(path, d, NULL)
                                            : lz_save_gguf(path, d, NULL);
  checked_rc(rc);
  lz_dict *r = NULL;
  if (rc == 0) {
    r = lz_load(path);
    if (!r) fail("a saved file does not load");
    if (lz_dict_size(r) != lz_dict_size(d)) fail("a round trip changed the number of arrays");
    for (size_t i = 0; i < lz_dict_size(d); i++) {
      lz_array *s = lz_dict_value(d, i), *l = lz_dict_get(r, lz_dict_key(d, i));
      check_same(s, l, f);
      lz_free(s);
      put(g, l);
    }
  }
  lz_clear_error();
  lz_dict_free(r), lz_dict_free(d);
}

/* ---- the interpreter ------------------------------------------------------------------- */

typedef lz_array *(*unary_fn)(lz_array *);
typedef lz_array *(*binary_fn)(lz_array *, lz_array *);
static const unary_fn unary[] = {lz_abs, lz_negative, lz_sqrt, lz_exp, lz_log, lz_sin};
static const binary_fn binary[] = {lz_add,    lz_subtract, lz_multiply,
                                   lz_divide, lz_maximum,  lz_matmul};

static void step(prog *g) {
  unsigned op = byte(g) % 20;
  if (getenv("LZ_FUZZ_TRACE")) fprintf(stderr, "op %u\n", op);
  int shape[MAXRANK], axes[MAXRANK];
  switch (op) {
  case 0:
    put(g, checked(make_array(g)));
    break;
  case 1: {
    unary_fn f = unary[byte(g) % (sizeof unary / sizeof unary[0])];
    put(g, checked(f(arg(g))));
    break;
  }
  case 2: {
    binary_fn f = binary[byte(g) % (sizeof binary / sizeof binary[0])];
    lz_array *a = arg(g), *b = arg(g);
    put(g, checked(f(a, b)));
    break;
  }
  case 3: { /* reductions with a random axis (maybe out of range) */
    lz_array *a = arg(g);
    int axis = (int)(byte(g) % 11) - 5;
    bool keep = byte(g) & 1;
    switch (byte(g) % 5) {
    case 0:
      put(g, checked(lz_sum_axis(a, axis, keep)));
      break;
    case 1:
      put(g, checked(lz_max_axis(a, axis, keep)));
      break;
    case 2:
      put(g, checked(lz_mean(a, keep)));
      break;
    case 3:
      put(g, checked(lz_argmax_axis(a, axis, keep)));
      break;
    default:
      put(g, checked(lz_cumsum(a, axis, keep, true)));
      break;
    }
    break;
  }
  case 4: { /* shape ops: random shapes and axes */
    lz_array *a = arg(g);
    int ndim = shape_of(g, shape);
    for (int i = 0; i < ndim; i++) axes[i] = (int)(byte(g) % 9) - 4;
    switch (byte(g) % 5) {
    case 0:
      put(g, checked(lz_reshape(a, shape, ndim)));
      break;
    case 1:
      put(g, checked(lz_transpose(a, axes, ndim)));
      break;
    case 2:
      put(g, checked(lz_expand_dims(a, axes, ndim)));
      break;
    case 3:
      put(g, checked(lz_squeeze(a, axes, ndim)));
      break;
    default:
      put(g, checked(lz_broadcast_to(a, shape, ndim)));
      break;
    }
    break;
  }
  case 5: { /* astype */
    lz_array *a = arg(g);
    put(g, checked(lz_astype(a, dtypes[byte(g) % (sizeof dtypes / sizeof dtypes[0])])));
    break;
  }
  case 6: { /* eval */
    lz_array *a = arg(g);
    if (a) checked_rc(lz_eval(a));
    break;
  }
  case 7: { /* free */
    release(g, (int)(byte(g) % SLOTS));
    break;
  }
  case 8: { /* concatenate */
    lz_array *in[3] = {arg(g), arg(g), arg(g)};
    put(g, checked(lz_concatenate(in, 1 + (int)(byte(g) % 3), (int)(byte(g) % 7) - 3)));
    break;
  }
  case 9: { /* grad */
    lz_closure *f = lz_closure_new(f_scalar, NULL, NULL), *d = lz_grad(f, NULL, 0);
    call(g, d);
    lz_closure_free(d), lz_closure_free(f);
    break;
  }
  case 10: { /* vmap over a random axis */
    int ax = (int)(byte(g) % 5) - 2;
    lz_closure *f = lz_closure_new(f_elementwise, NULL, NULL), *v = lz_vmap(f, &ax, 1, NULL, 0);
    call(g, v);
    lz_closure_free(v), lz_closure_free(f);
    break;
  }
  case 11: { /* compile (shapeless or not) */
    lz_closure *f = lz_closure_new(byte(g) & 1 ? f_elementwise : f_scalar, NULL, NULL);
    lz_closure *c = lz_compile(f, byte(g) & 1 ? LZ_COMPILE_SHAPELESS : 0);
    call(g, c);
    lz_closure_free(c), lz_closure_free(f);
    break;
  }
  case 12: /* open a scope */
    if (lz_scope_depth() < 4) lz_scope_begin();
    break;
  case 13: { /* close a scope: keep some of its arrays, the rest are gone */
    if (lz_scope_depth() == 0) break;
    unsigned keep = byte(g);
    int d = lz_scope_depth();
    for (int k = 0; k < SLOTS; k++) {
      if (!g->slot[k] || g->depth[k] != d) continue;
      int first = 0; /* one decision per handle (an op may hand back its input) */
      while (g->slot[first] != g->slot[k] || (g->depth[first] != d && g->depth[first] != -d))
        first++;
      if (keep >> first & 1) lz_keep(g->slot[k]), g->depth[k] = -d;
    }
    for (int k = 0; k < SLOTS; k++) {
      if (g->slot[k] && g->depth[k] == -d)
        g->depth[k] = d - 1;
      else if (g->slot[k] && g->depth[k] == d)
        g->slot[k] = NULL;
    }
    lz_scope_end();
    break;
  }
  case 14:
    save_load(g);
    break;
  case 16: { /* vjp of an elementwise function: primal and cotangent from slots */
    lz_array *x = arg(g), *ct = arg(g), *y = NULL, *vj = NULL;
    lz_closure *f = lz_closure_new(f_elementwise, NULL, NULL);
    int rc = lz_vjp(f, &x, 1, &ct, 1, byte(g) & 1 ? &y : NULL, &vj);
    checked_rc(rc);
    lz_closure_free(f);
    if (rc == 0) put(g, vj), put(g, y);
    break;
  }
  case 17: { /* jvp: primal and tangent from slots */
    lz_array *x = arg(g), *t = arg(g), *y[LZ_MAX_OUTPUTS], *jv[LZ_MAX_OUTPUTS];
    lz_closure *f = lz_closure_new(byte(g) & 1 ? f_elementwise : f_scalar, NULL, NULL);
    int k = lz_jvp(f, &x, 1, &t, y, jv);
    checked_rc(k < 0 ? -1 : 0);
    lz_closure_free(f);
    for (int i = 1; i < k; i++) lz_free(y[i]), lz_free(jv[i]);
    if (k >= 1) put(g, jv[0]), put(g, y[0]);
    break;
  }
  case 18: { /* compile of grad */
    lz_closure *f = lz_closure_new(f_grad, NULL, NULL);
    lz_closure *c = lz_compile(f, byte(g) & 1 ? LZ_COMPILE_SHAPELESS : 0);
    call(g, c);
    lz_closure_free(c), lz_closure_free(f);
    break;
  }
  case 19: { /* vmap of grad: per-example gradients */
    int ax = (int)(byte(g) % 3) - 1;
    lz_closure *f = lz_closure_new(f_grad, NULL, NULL), *v = lz_vmap(f, &ax, 1, NULL, 0);
    call(g, v);
    lz_closure_free(v), lz_closure_free(f);
    break;
  }
  default: { /* where with a comparison */
    lz_array *a = arg(g), *b = arg(g);
    lz_array *c = checked(lz_greater(a, b));
    put(g, checked(lz_where(c, a, b)));
    lz_free(c);
    break;
  }
  }
}

/* The files live in a directory of their own, in memory where possible: every save syncs its
 * file, which on a disk costs milliseconds, and removes stale temporaries beside it. */
static char dir[64];
static void remove_dir(void) { rmdir(dir); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!dir[0]) {
    snprintf(dir, sizeof dir, "/dev/shm/lz_fuzz_api_XXXXXX");
    if (!mkdtemp(dir)) {
      snprintf(dir, sizeof dir, "/tmp/lz_fuzz_api_XXXXXX");
      if (!mkdtemp(dir)) fail("no temporary directory");
    }
    atexit(remove_dir);
    for (int f = 0; f < F_COUNT; f++)
      snprintf(paths[f], sizeof paths[f], "%s/%d.%s", dir, f, ext[f]);
  }
  lz_set_memory_limit((size_t)256 << 20);
  lz_clear_error();
  size_t base = lz_get_active_memory();
  prog g = {.p = data, .end = data + size};
  float v[12];
  for (int i = 0; i < 12; i++) v[i] = (float)i - 5.5f;
  g.anchor[0] = lz_array_from_data(v, (int[]){3, 4}, 2, LZ_FLOAT32);
  g.anchor[1] = lz_transpose(g.anchor[0], NULL, 0);
  if (!g.anchor[0] || !g.anchor[1] || lz_eval(g.anchor[1]) != 0) fail("no anchors");
  for (int i = 0; i < 256 && g.p < g.end; i++) step(&g);
  while (lz_scope_depth() > 0) { /* scopes left open: their arrays go */
    for (int k = 0; k < SLOTS; k++)
      if (g.slot[k] && g.depth[k] == lz_scope_depth()) g.slot[k] = NULL;
    lz_scope_end();
  }
  for (int k = 0; k < SLOTS; k++) release(&g, k);
  lz_clear_compile_cache();
  for (int i = 0; i < 2; i++)
    if (atomic_load(&g.anchor[i]->refs) != 1 || atomic_load(&g.anchor[i]->buf->refs) != 2)
      fail("a reference to an anchor outlived the program");
  lz_free(g.anchor[1]), lz_free(g.anchor[0]);
  if (lz_get_active_memory() != base) fail("array memory still live after the program");
  lz_clear_error();
  for (int f = 0; f < F_COUNT; f++) unlink(paths[f]);
  return 0;
}
