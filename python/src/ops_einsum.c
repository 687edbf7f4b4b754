/* lazuli.core: einsum (lz_einsum) and einsum_path, MLX's report of the contraction order for
 * an Einstein summation. einsum_path needs only the operands' shapes; it plans as MLX's
 * einsum_path does, so that the same arguments give the same path and costs: NumPy's
 * (opt_einsum's) greedy algorithm, which contracts first the pair that removes the most
 * elements (ties: the lower cost, then the earlier pair), never a result larger than the
 * largest input or output nor a path costlier than the naive one, and outer products only when
 * nothing else is left. lz_einsum contracts with its own greedy order (the smallest
 * intermediate first); the values are the same. */
#include "ops_impl.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Parses `einsum(subscripts, *operands)`'s positional arguments. */
static int subscripts_and_operands(PyObject *args, const char *fn, const char **subs,
                                   lz_array ***ops, int *n) {
  if (PyTuple_GET_SIZE(args) < 1) {
    PyErr_Format(PyExc_TypeError, "%s() missing required argument 'subscripts'", fn);
    return -1;
  }
  if (pyops_str(PyTuple_GET_ITEM(args, 0), subs, "subscripts") < 0) return -1;
  PyObject *rest = PyTuple_GetSlice(args, 1, PyTuple_GET_SIZE(args));
  if (!rest) return -1;
  int rc = pyops_array_seq(rest, ops, n, "operands");
  Py_DECREF(rest);
  return rc;
}

static PyObject *py_einsum(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "einsum";
  if (pyops_only_stream_kw(kw, "einsum") < 0) return NULL;
  const char *subs;
  lz_array **ops;
  int n;
  if (subscripts_and_operands(args, "einsum", &subs, &ops, &n) < 0) return NULL;
  lz_array *r = lz_einsum(subs, ops, n);
  pyops_free_arrays(ops, n);
  return pylz_wrap(r);
}

/* ---- einsum_path ---- */

enum { NLET = 52, MAX_TERMS = 64, MAX_SUB = 128 };

/* Letters are bits 0-25 (a-z) and 26-51 (A-Z) of a term's mask. */
static int letter_bit(char c) { return c >= 'a' && c <= 'z' ? c - 'a' : c - 'A' + 26; }

typedef struct {
  char str[MAX_SUB]; /* the subscript, ellipsis expanded */
  uint64_t set;      /* its letters */
} term;

typedef struct {
  int nin;
  term in[MAX_TERMS];
  term out;
  double dim[NLET]; /* broadcast size of each letter (0 when it appears in no input) */
} problem;

static double set_size(const problem *p, uint64_t set) {
  double s = 1;
  for (int b = 0; b < NLET; b++)
    if (set >> b & 1) s *= p->dim[b];
  return s;
}

static int popcount64(uint64_t x) { return __builtin_popcountll(x); }

/* MLX's flop count of a contraction over `set`: its size times max(1, terms - 1), plus one
 * when something is summed. */
static double flops(const problem *p, uint64_t set, int inner, int nterms) {
  int factor = nterms - 1 > 1 ? nterms - 1 : 1;
  return set_size(p, set) * (factor + (inner ? 1 : 0));
}

/* The naive cost and scaling of contracting `terms` (n of them) into p->out at once. */
static void naive(const problem *p, const term *terms, int n, double *cost, int *scaling) {
  uint64_t all = 0;
  for (int i = 0; i < n; i++) all |= terms[i].set;
  *cost = flops(p, all, (all & ~p->out.set) != 0, n);
  *scaling = popcount64(all);
}

static PyObject *value_error(const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  PyErr_Format(PyExc_ValueError, "[einsum_path] %s", msg);
  return NULL;
}

/* Splits `subscripts` (spaces removed) into the problem's terms, infers the implicit output
 * (the letters seen once, sorted, after an ellipsis if any) and expands ellipses with unused
 * letters (the last ones of a-z, A-Z), as MLX does. Returns 0 or -1 with ValueError. */
static int parse(const char *subscripts, lz_array *const *ops, int n, problem *p) {
  char s[4 * MAX_SUB];
  size_t len = 0;
  for (const char *c = subscripts; *c; c++) {
    if (*c == ' ') continue;
    if (len + 1 >= sizeof s) return value_error("subscripts are too long"), -1;
    s[len++] = *c;
  }
  s[len] = 0;
  char out[MAX_SUB] = "";
  char *arrow = strstr(s, "->");
  if (arrow) {
    *arrow = 0;
    if (strlen(arrow + 2) >= MAX_SUB) return value_error("subscripts are too long"), -1;
    strcpy(out, arrow + 2);
  } else {
    int count[256] = {0};
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
      if (s[i] == ',') continue;
      if (s[i] == '.' && o == 0) {
        memcpy(out, "...", 3);
        o = 3;
        continue;
      }
      count[(unsigned char)s[i]]++;
    }
    for (int c = 0; c < 256; c++) /* sorted by character code, as MLX's std::sort */
      if (count[c] == 1 && o + 1 < MAX_SUB) out[o++] = (char)c;
    out[o] = 0;
    /* "..." (code 46) sorts before every letter, so it stays first */
  }
  /* split on commas, keeping empty subscripts (scalar operands) */
  char *in_str[MAX_TERMS];
  int nin = 0;
  for (char *start = s;;) {
    char *comma = strchr(start, ',');
    if (nin == MAX_TERMS) return value_error("more than %d operands", MAX_TERMS), -1;
    in_str[nin++] = start;
    if (!comma) break;
    *comma = 0;
    start = comma + 1;
  }
  if (n != nin)
    return value_error("Number of operands, %d, does not match number of input subscripts, %d", n,
                       nin),
           -1;
  /* letters unused by the whole subscripts string, for the ellipses */
  bool used[256] = {false};
  for (const char *c = subscripts; *c; c++) used[(unsigned char)*c] = true;
  char spare[NLET];
  int nspare = 0;
  for (char c = 'a'; c <= 'z'; c++)
    if (!used[(unsigned char)c]) spare[nspare++] = c;
  for (char c = 'A'; c <= 'Z'; c++)
    if (!used[(unsigned char)c]) spare[nspare++] = c;
  int max_ell = 0;
  for (int k = 0; k <= nin; k++) { /* the inputs, then the output (k == nin) */
    const char *src = k < nin ? in_str[k] : out;
    char *dst = k < nin ? p->in[k].str : p->out.str;
    int before = 0, after = 0, ell = 0;
    size_t sl = strlen(src);
    for (size_t i = 0; i < sl; i++) {
      if (!isalpha((unsigned char)src[i])) {
        if (i + 2 >= sl || src[i] != '.' || src[i + 1] != '.' || src[i + 2] != '.')
          return value_error("Subscripts must be letters, but got '%c'.", src[i]), -1;
        if (ell)
          return value_error("Only one ellipsis per subscript is allowed but found more in '%s'.",
                             src),
                 -1;
        ell = 1;
        i += 2;
        continue;
      }
      if (ell)
        after++;
      else
        before++;
    }
    int nell = 0;
    if (ell) {
      if (k < nin) {
        nell = lz_array_ndim(ops[k]) - before - after;
        if (nell < 0)
          return value_error("Operand %d has insufficient dimensions for subscript '%s'. The "
                             "ellipsis requires at least %d dimensions but the operand has %d "
                             "dimensions.",
                             k, src, before + after, lz_array_ndim(ops[k])),
                 -1;
        if (nell > max_ell) max_ell = nell;
      } else {
        nell = max_ell;
      }
      if (nell > nspare) return value_error("too many dimensions under the ellipsis"), -1;
    }
    if (before + after + nell >= MAX_SUB) return value_error("subscripts are too long"), -1;
    size_t d = 0;
    for (size_t i = 0; i < sl; i++) {
      if (src[i] == '.') {
        for (int e = 0; e < nell; e++) dst[d++] = spare[nspare - nell + e];
        i += 2;
      } else {
        dst[d++] = src[i];
      }
    }
    dst[d] = 0;
  }
  p->nin = nin;
  p->out.set = 0;
  for (const char *c = p->out.str; *c; c++) {
    uint64_t bit = 1ull << letter_bit(*c);
    if (p->out.set & bit) return value_error("Repeat indices not allowed in output."), -1;
    p->out.set |= bit;
  }
  for (int b = 0; b < NLET; b++) p->dim[b] = 0;
  bool seen[NLET] = {false};
  for (int i = 0; i < nin; i++) {
    term *t = &p->in[i];
    int nd = lz_array_ndim(ops[i]);
    if ((int)strlen(t->str) != nd)
      return value_error("Invalid number of subscripts %d for input %d with %d dimensions.",
                         (int)strlen(t->str), i, nd),
             -1;
    t->set = 0;
    int local[NLET] = {0};
    for (int j = 0; j < nd; j++) {
      int b = letter_bit(t->str[j]);
      int dim = lz_array_dim(ops[i], j);
      if (t->set >> b & 1 && local[b] != dim)
        return value_error("Dimensions of repeated subscripts do not have the same size (%d != "
                           "%d).",
                           local[b], dim),
               -1;
      local[b] = dim;
      t->set |= 1ull << b;
      if (!seen[b]) {
        seen[b] = true;
        p->dim[b] = dim;
      } else if (dim != 1 && p->dim[b] != 1 && p->dim[b] != dim) {
        return value_error("Cannot broadcast dimension %d of input %d to size %.0f.", j, i,
                           p->dim[b]),
               -1;
      }
      if (dim > p->dim[b]) p->dim[b] = dim;
    }
  }
  return 0;
}

/* The size of a subscript string (a repeated letter counts each time, as MLX's term_size). */
static double str_size(const problem *p, const char *s) {
  double r = 1;
  for (; *s; s++) r *= p->dim[letter_bit(*s)];
  return r;
}

typedef struct {
  double removed, cost;
  uint64_t out, all;
  int x, y;
} candidate;

typedef struct {
  int pos[MAX_TERMS];
  int n;
} step;

/* MLX's greedy path over the problem's terms. Writes the steps (positions in the shrinking
 * list of terms, the result appended at the end), their number, cost and scaling. */
static int greedy(const problem *p, double cost_limit, double memory_limit, step *path, int *npath,
                  double *path_cost, int *path_scaling) {
  term terms[MAX_TERMS];
  int nt = p->nin;
  memcpy(terms, p->in, sizeof(term) * (size_t)nt);
  candidate *cand = PyMem_Malloc(sizeof(candidate) * (size_t)(nt * nt + 1));
  int(*pairs)[2] = PyMem_Malloc(sizeof(int[2]) * (size_t)(nt * nt + 1));
  if (!cand || !pairs) {
    PyMem_Free(cand);
    PyMem_Free(pairs);
    PyErr_NoMemory();
    return -1;
  }
  int ncand = 0, npairs = 0;
  for (int i = 0; i < nt; i++)
    for (int j = i + 1; j < nt; j++) pairs[npairs][0] = i, pairs[npairs++][1] = j;
  *npath = 0;
  *path_cost = 0;
  *path_scaling = 0;
  int num_in = nt;
  for (int it = 0; it < num_in - 1; it++) {
    for (int pass = 0; pass < 2 && (pass == 0 || ncand == 0); pass++) {
      /* the new pairs without outer products, then (no candidate at all) with them */
      for (int q = 0; q < npairs; q++) {
        int p1 = pairs[q][0], p2 = pairs[q][1];
        if (pass == 0 && !(terms[p1].set & terms[p2].set)) continue;
        uint64_t all = terms[p1].set | terms[p2].set, keep = 0;
        for (int k = 0; k < nt; k++)
          if (k != p1 && k != p2) keep |= terms[k].set & all;
        keep |= p->out.set & all;
        double new_size = set_size(p, keep);
        if (new_size > memory_limit) continue;
        double removed = set_size(p, terms[p1].set) + set_size(p, terms[p2].set) - new_size;
        double cost = flops(p, all, popcount64(all) > popcount64(keep), 2);
        if (*path_cost + cost > cost_limit) continue;
        cand[ncand++] = (candidate){removed, cost, keep, all, p1, p2};
      }
    }
    if (ncand == 0) { /* the naive contraction of what is left */
      step *s = &path[(*npath)++];
      s->n = nt;
      for (int k = 0; k < nt; k++) s->pos[k] = k;
      double cost;
      int scaling;
      naive(p, terms, nt, &cost, &scaling);
      *path_cost += cost;
      if (scaling > *path_scaling) *path_scaling = scaling;
      break;
    }
    int b = 0;
    for (int k = 1; k < ncand; k++)
      if (cand[k].removed > cand[b].removed ||
          (cand[k].removed == cand[b].removed && cand[k].cost < cand[b].cost))
        b = k;
    candidate best = cand[b];
    if (popcount64(best.all) > *path_scaling) *path_scaling = popcount64(best.all);
    step *s = &path[(*npath)++];
    s->n = 2;
    s->pos[0] = best.x;
    s->pos[1] = best.y;
    /* drop both terms, append the result */
    term res = {"", best.out};
    for (int k = best.y; k < nt - 1; k++) terms[k] = terms[k + 1];
    for (int k = best.x; k < nt - 2; k++) terms[k] = terms[k + 1];
    nt -= 2;
    terms[nt++] = res;
    int kept = 0;
    for (int k = 0; k < ncand; k++) {
      candidate c = cand[k];
      if (c.x == best.x || c.x == best.y || c.y == best.x || c.y == best.y) continue;
      c.x -= (c.x > best.x) + (c.x > best.y);
      c.y -= (c.y > best.x) + (c.y > best.y);
      cand[kept++] = c;
    }
    ncand = kept;
    npairs = 0;
    for (int k = 0; k < nt - 1; k++) pairs[npairs][0] = k, pairs[npairs++][1] = nt - 1;
    *path_cost += best.cost;
  }
  PyMem_Free(cand);
  PyMem_Free(pairs);
  return 0;
}

static PyObject *py_einsum_path(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "einsum_path";
  if (kw && PyDict_GET_SIZE(kw) > 0) {
    PyObject *k = NULL, *v;
    Py_ssize_t pos = 0;
    PyDict_Next(kw, &pos, &k, &v);
    PyErr_Format(PyExc_TypeError, "einsum_path() got an unexpected keyword argument '%S'", k);
    return NULL;
  }
  const char *subs;
  lz_array **ops;
  int n;
  if (subscripts_and_operands(args, "einsum_path", &subs, &ops, &n) < 0) return NULL;
  PyObject *res = NULL;
  problem *p = PyMem_Calloc(1, sizeof *p);
  step *path = PyMem_Calloc(MAX_TERMS, sizeof *path);
  if (!p || !path) {
    PyErr_NoMemory();
    goto done;
  }
  if (n == 0) {
    value_error("At least one operand is required.");
    goto done;
  }
  if (parse(subs, ops, n, p) < 0) goto done;
  double max_size = str_size(p, p->out.str);
  for (int i = 0; i < p->nin; i++)
    if (str_size(p, p->in[i].str) > max_size) max_size = str_size(p, p->in[i].str);
  double naive_cost, opt_cost;
  int naive_scaling, opt_scaling, npath;
  naive(p, p->in, p->nin, &naive_cost, &naive_scaling);
  if (p->nin <= 2) {
    npath = 1;
    path[0].n = p->nin;
    for (int k = 0; k < p->nin; k++) path[0].pos[k] = k;
    opt_cost = naive_cost;
    opt_scaling = naive_scaling;
  } else if (greedy(p, naive_cost, max_size, path, &npath, &opt_cost, &opt_scaling) < 0) {
    goto done;
  }
  PyObject *list = PyList_New(npath);
  for (int s = 0; list && s < npath; s++) {
    PyObject *t = PyTuple_New(path[s].n);
    for (int k = 0; t && k < path[s].n; k++) {
      PyObject *v = PyLong_FromLong(path[s].pos[k]);
      if (!v)
        Py_CLEAR(t);
      else
        PyTuple_SET_ITEM(t, k, v);
    }
    if (!t)
      Py_CLEAR(list);
    else
      PyList_SET_ITEM(list, s, t);
  }
  if (!list) goto done;
  /* MLX's report: the costs as integers (size_t there) */
  PyObject *info = PyUnicode_FromFormat(
      "  Complete contraction:  %s\n         Naive scaling:  %d\n     Optimized scaling:  %d\n"
      "      Naive FLOP count:  %llu\n  Optimized FLOP count:  %llu\n",
      subs, naive_scaling, opt_scaling, (unsigned long long)naive_cost,
      (unsigned long long)opt_cost);
  if (info) res = PyTuple_Pack(2, list, info);
  Py_DECREF(list);
  Py_XDECREF(info);
done:
  PyMem_Free(p);
  PyMem_Free(path);
  pyops_free_arrays(ops, n);
  return res;
}

static PyMethodDef methods[] = {
    PYOPS_F(
        "einsum", py_einsum,
        "einsum(subscripts: str, *operands, stream: StreamOrDevice = None) -> array\n\nEinstein "
        "summation over the operands, contracted pairwise with :func:`matmul`."),
    PYOPS_F("einsum_path", py_einsum_path,
            "einsum_path(subscripts: str, *operands)\n\nThe contraction order MLX chooses for "
            ":func:`einsum` (NumPy's greedy path): a list of tuples of positions in the list of "
            "operands (each step's result goes to its end) and a str reporting the naive and "
            "optimized scaling and FLOP counts."),
    {NULL, NULL, 0, NULL},
};

int pyops_init_einsum(PyObject *m) { return pyops_add_functions(m, methods); }
