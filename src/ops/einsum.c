/* einsum: parses the subscripts, validates them against the operands, and contracts the
 * operands pairwise through the contraction op. First every operand drops what only it uses
 * (diagonals of repeated letters and letters summed nowhere else) in a one-input contraction;
 * then, while more than one operand is left, the pair whose result is smallest is contracted
 * (a greedy path, the idea of numpy/MLX einsum_path), the last pair straight into the output's
 * letter order. */
#include <ctype.h>

#include "matmul_impl.h"

enum { NL = 64, ELL0 = 52, MAX_OPS = 32 };

typedef struct term {
  int8_t lab[LZ_MAX_NDIM];
  int n;
} term;

static int letter_id(char c) { return c >= 'a' && c <= 'z' ? c - 'a' : c - 'A' + 26; }

/* Parses one operand's subscripts (s, len) for an array of ndim dims (ndim < 0: the output,
 * with `nell` ellipsis dims). Returns 0 or -1. */
static int parse_term(const char *s, size_t len, int ndim, int nell, term *t, int *ell_out, int k) {
  int letters = 0, ell = -1;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '.') {
      if (ell >= 0 || i + 2 >= len || s[i + 1] != '.' || s[i + 2] != '.')
        return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_einsum",
                         "bad ellipsis in the subscripts of %s %d",
                         k < 0 ? "the output" : "operand", k < 0 ? 0 : k);
      ell = letters;
      i += 2;
    } else if (isalpha((unsigned char)s[i])) {
      letters++;
    } else if (!isspace((unsigned char)s[i])) {
      return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_einsum",
                       "invalid character '%c' in subscripts", s[i]);
    }
  }
  int ne = ndim >= 0 ? ndim - letters : (ell >= 0 ? nell : 0);
  if (ndim >= 0 && (ne < 0 || (ell < 0 && ne != 0)))
    return lz__error(LZ_ERROR_SHAPE, "lz_einsum",
                     "operand %d has %d dimensions but its subscripts name %d", k, ndim, letters);
  if (letters + ne > LZ_MAX_NDIM || ne > NL - ELL0)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_einsum", "too many subscripts");
  if (ell_out) *ell_out = ell >= 0 ? ne : 0;
  t->n = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '.') {
      /* ellipsis dims are right-aligned: the last one is label NL-1 */
      for (int e = 0; e < ne; e++) t->lab[t->n++] = (int8_t)(NL - ne + e);
      i += 2;
    } else if (isalpha((unsigned char)s[i])) {
      t->lab[t->n++] = (int8_t)letter_id(s[i]);
    }
  }
  return 0;
}

typedef struct plan {
  int n;
  lz_array *arr[MAX_OPS];
  term t[MAX_OPS];
  term out;
  int64_t size[NL];
  lz_dtype dt;
} plan;

static bool in_term(const term *t, int8_t l) {
  for (int i = 0; i < t->n; i++)
    if (t->lab[i] == l) return true;
  return false;
}

/* Whether label l is needed outside operands i and j (j < 0: outside i only). */
static bool needed(const plan *p, int8_t l, int i, int j) {
  if (in_term(&p->out, l)) return true;
  for (int k = 0; k < p->n; k++)
    if (k != i && k != j && p->arr[k] && in_term(&p->t[k], l)) return true;
  return false;
}

/* Labels kept by contracting operands i and j (j < 0: operand i alone), first-seen order. */
static void kept_labels(const plan *p, int i, int j, term *r) {
  bool seen[NL] = {false};
  r->n = 0;
  const term *ts[2] = {&p->t[i], j >= 0 ? &p->t[j] : NULL};
  for (int s = 0; s < 2 && ts[s]; s++)
    for (int d = 0; d < ts[s]->n; d++) {
      int8_t l = ts[s]->lab[d];
      if (seen[l] || !needed(p, l, i, j)) continue;
      seen[l] = true;
      if (r->n < NL) r->lab[r->n < LZ_MAX_NDIM ? r->n : LZ_MAX_NDIM - 1] = l;
      r->n++;
    }
}

/* Records the contraction of operand i (and j) into labels r; replaces operand i. */
static int contract_step(plan *p, int i, int j, const term *r) {
  if (r->n > LZ_MAX_NDIM)
    return lz__error(LZ_ERROR_SHAPE, "lz_einsum",
                     "an intermediate result would have %d dimensions, at most %d", r->n,
                     LZ_MAX_NDIM);
  int shape[LZ_MAX_NDIM]; /* sizes as these operands have them (ellipsis dims may be 1) */
  for (int d = 0; d < r->n; d++) {
    shape[d] = -1;
    for (int s = 0; s < 2; s++) {
      int k = s ? j : i;
      for (int e = 0; k >= 0 && e < p->t[k].n; e++)
        if (p->t[k].lab[e] == r->lab[d] && (shape[d] < 0 || shape[d] == 1))
          shape[d] = p->arr[k]->shape[e];
    }
  }
  lz_array *res = lz__contract(p->arr[i], j >= 0 ? p->arr[j] : NULL, p->t[i].lab,
                               j >= 0 ? p->t[j].lab : NULL, r->lab, r->n, p->dt, shape, r->n);
  if (!res) return -1;
  p->arr[i] = res; /* owned by the einsum's scope */
  p->t[i] = *r;
  if (j >= 0) p->arr[j] = NULL;
  return 0;
}

static int run_plan(plan *p) {
  int live = p->n;
  if (live == 1) return contract_step(p, 0, -1, &p->out);
  for (int i = 0; i < p->n; i++) { /* drop diagonals and letters only this operand sums */
    term r;
    kept_labels(p, i, -1, &r);
    bool same = r.n == p->t[i].n;
    for (int d = 0; same && d < r.n; d++) same = r.lab[d] == p->t[i].lab[d];
    if (!same && contract_step(p, i, -1, &r) != 0) return -1;
  }
  while (live > 1) {
    int bi = -1, bj = -1;
    double best = 0;
    for (int i = 0; i < p->n; i++)
      for (int j = i + 1; j < p->n && p->arr[i]; j++) {
        if (!p->arr[j]) continue;
        term r;
        kept_labels(p, i, j, &r);
        double cost = 1;
        for (int d = 0; d < r.n && d < LZ_MAX_NDIM; d++) cost *= (double)p->size[r.lab[d]];
        if (bi < 0 || cost < best) bi = i, bj = j, best = cost;
      }
    term r;
    if (live == 2)
      r = p->out;
    else
      kept_labels(p, bi, bj, &r);
    if (contract_step(p, bi, bj, &r) != 0) return -1;
    live--;
  }
  return 0;
}

/* Validates label sizes across operands (ellipsis dims broadcast) and the output. */
static int check_sizes(plan *p) {
  for (int l = 0; l < NL; l++) p->size[l] = -1;
  for (int k = 0; k < p->n; k++) {
    for (int d = 0; d < p->t[k].n; d++) {
      int8_t l = p->t[k].lab[d];
      int64_t s = p->arr[k]->shape[d], *cur = &p->size[l];
      if (*cur < 0 || *cur == s || (l >= ELL0 && (*cur == 1 || s == 1))) {
        if (*cur < 0 || *cur == 1) *cur = s;
        continue;
      }
      char c = (char)(l < 26 ? 'a' + l : 'A' + l - 26);
      if (l >= ELL0)
        return lz__error(LZ_ERROR_SHAPE, "lz_einsum",
                         "the ellipsis dimensions of operand %d (size %lld) do not broadcast "
                         "with %lld",
                         k, (long long)s, (long long)*cur);
      return lz__error(LZ_ERROR_SHAPE, "lz_einsum",
                       "subscript '%c' has size %lld in operand %d but %lld before", c,
                       (long long)s, k, (long long)*cur);
    }
  }
  bool seen[NL] = {false};
  for (int d = 0; d < p->out.n; d++) {
    int8_t l = p->out.lab[d];
    char c = (char)(l < 26 ? 'a' + l : 'A' + l - 26);
    if (seen[l])
      return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_einsum", "output subscript '%c' is repeated",
                       c);
    if (p->size[l] < 0)
      return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_einsum",
                       "output subscript '%c' is in no operand", c);
    seen[l] = true;
  }
  return 0;
}

static int parse(plan *p, const char *subscripts, lz_array *const *operands, int n) {
  const char *arrow = strstr(subscripts, "->");
  size_t in_len = arrow ? (size_t)(arrow - subscripts) : strlen(subscripts);
  const char *s = subscripts;
  int nell = 0;
  for (int k = 0; k < n; k++) {
    const char *comma = memchr(s, ',', in_len - (size_t)(s - subscripts));
    size_t len = comma ? (size_t)(comma - s) : in_len - (size_t)(s - subscripts);
    if ((k == n - 1) != !comma)
      return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_einsum",
                       "subscripts \"%s\" do not name %d operand%s", subscripts, n,
                       n == 1 ? "" : "s");
    int e;
    if (parse_term(s, len, operands[k]->ndim, 0, &p->t[k], &e, k) != 0) return -1;
    if (e > nell) nell = e;
    s += len + 1;
  }
  if (arrow) return parse_term(arrow + 2, strlen(arrow + 2), -1, nell, &p->out, NULL, -1);
  /* implicit output: ellipsis dims, then the letters used once, in alphabetical order */
  int count[NL] = {0};
  for (int k = 0; k < n; k++)
    for (int d = 0; d < p->t[k].n; d++) count[p->t[k].lab[d]]++;
  p->out.n = 0;
  for (int e = 0; e < nell; e++) p->out.lab[p->out.n++] = (int8_t)(NL - nell + e);
  for (int l = 0; l < ELL0; l++) {
    int8_t id = (int8_t)(l < 26 ? l + 26 : l - 26); /* uppercase sorts before lowercase */
    if (count[id] == 1) {
      if (p->out.n == LZ_MAX_NDIM)
        return lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_einsum", "too many output subscripts");
      p->out.lab[p->out.n++] = id;
    }
  }
  return 0;
}

lz_array *lz_einsum(const char *subscripts, lz_array *const *operands, int n) {
  if (!subscripts || n < 1 || n > MAX_OPS || !operands) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, "lz_einsum",
              "needs subscripts and 1 to %d operands (got %d)", MAX_OPS, n);
    return NULL;
  }
  if (!lz__check_inputs("lz_einsum", operands, n)) return NULL;
  plan p;
  memset(&p, 0, sizeof p);
  p.n = n;
  for (int k = 0; k < n; k++) p.arr[k] = operands[k];
  if (parse(&p, subscripts, operands, n) != 0 || check_sizes(&p) != 0) return NULL;
  p.dt = operands[0]->dtype;
  for (int k = 1; k < n; k++) p.dt = lz_promote_types(p.dt, operands[k]->dtype);
  if (!lz_dtype_is_float(p.dt)) {
    lz__error(LZ_ERROR_DTYPE, "lz_einsum",
              "only real floating point types are supported, the operands promote to %s",
              lz_dtype_name(p.dt));
    return NULL;
  }
  lz_scope_begin();
  lz_array *out = NULL;
  if (run_plan(&p) == 0) {
    for (int k = 0; k < n; k++)
      if (p.arr[k]) out = p.arr[k];
    lz_keep(out);
  }
  lz_scope_end();
  return out;
}
