/* Indexing as MLX (NumPy's rules, without boolean masks): __getitem__, __setitem__ and
 * x.at[idx].add/subtract/multiply/divide/maximum/minimum(v).
 *
 * An index is first turned into a plan: one entry per index element (int, slice, None or integer
 * array; lists and NumPy arrays count as arrays), with `...` expanded into full slices and every
 * axis of the source covered. Then:
 * - basic indices (no arrays) are one lz_slice (a view) and a reshape; assignments one
 *   lz_slice_update;
 * - with arrays, slices are applied first, then one lz_gather over the array axes (ints are 0-d
 *   arrays there, as in NumPy) and the broadcast index dims go first, or in place of the
 *   indexed axes when those are adjacent (NumPy's rule); assignments and .at updates become one
 *   lz_scatter* whose index arrays cover every indexed axis (slices as aranges), so repeated
 *   indices accumulate in .at. */
#include "pylz.h"

#include <limits.h>
#include <string.h>

enum { E_INT, E_SLICE, E_NONE, E_ARRAY };
#define MAX_ENTRIES (2 * LZ_MAX_NDIM)

typedef struct {
  int kind;
  int axis;                   /* source axis (not for E_NONE) */
  int start, stop, step, len; /* E_SLICE: adjusted; E_INT: start is the index */
  lz_array *arr;              /* E_ARRAY: owned */
} entry;

typedef struct {
  entry e[MAX_ENTRIES];
  int n;
  int narrays;             /* E_ARRAY entries (plus E_INT ones when any array is present) */
  int gather_first;        /* advanced dims go first (advanced entries not adjacent) */
  int bshape[LZ_MAX_NDIM]; /* broadcast shape of the advanced indices */
  int bndim;
} plan;

static void plan_free(plan *p) {
  for (int i = 0; i < p->n; i++) lz_free(p->e[i].arr);
}

static int too_many(int ndim) {
  PyErr_Format(PyExc_IndexError, "Too many indices for array with %d dimensions.", ndim);
  return -1;
}

static int is_array_like_index(PyObject *o) {
  return PyLzArray_Check(o) || PyList_Check(o) || PyObject_CheckBuffer(o);
}

/* Parses one index element (not Ellipsis) into `e`, for source axis `axis` of size `dim`. */
static int parse_entry(PyObject *o, entry *e, int axis, int dim) {
  memset(e, 0, sizeof *e);
  e->axis = axis;
  if (o == Py_None) {
    e->kind = E_NONE;
    return 0;
  }
  if (PySlice_Check(o)) {
    Py_ssize_t start, stop, step;
    if (PySlice_Unpack(o, &start, &stop, &step) < 0) return -1;
    Py_ssize_t len = PySlice_AdjustIndices(dim, &start, &stop, step);
    e->kind = E_SLICE;
    e->start = (int)start;
    e->stop = (int)stop;
    e->step = step > INT_MAX ? INT_MAX : step < -INT_MAX ? -INT_MAX : (int)step;
    e->len = (int)len;
    return 0;
  }
  if (!PyLzArray_Check(o) && PyIndex_Check(o) && !PyObject_CheckBuffer(o)) {
    Py_ssize_t i = PyNumber_AsSsize_t(o, PyExc_IndexError);
    if (i == -1 && PyErr_Occurred()) return -1;
    if (i < -(Py_ssize_t)dim || i >= dim) {
      PyErr_Format(PyExc_IndexError, "index %zd is out of bounds for axis %d with size %d", i, axis,
                   dim);
      return -1;
    }
    e->kind = E_INT;
    e->start = (int)(i < 0 ? i + dim : i);
    return 0;
  }
  if (is_array_like_index(o) || PyTuple_Check(o)) {
    lz_array *a = pylz_to_array(o);
    if (!a) return -1;
    lz_dtype dt = lz_array_dtype(a);
    if (dt == LZ_BOOL) {
      lz_free(a);
      PyErr_SetString(PyExc_ValueError, "boolean indices are not yet supported");
      return -1;
    }
    if (!lz_dtype_is_integer(dt)) {
      lz_free(a);
      PyErr_Format(PyExc_ValueError, "index arrays must have an integer dtype, not %s",
                   lz_dtype_name(dt));
      return -1;
    }
    e->kind = E_ARRAY;
    e->arr = a;
    return 0;
  }
  PyErr_Format(PyExc_ValueError, "Cannot index lazuli array using the given type (%.100s).",
               Py_TYPE(o)->tp_name);
  return -1;
}

/* Builds the plan for index `idx` on an array of shape (ndim) `shape`. */
static int make_plan(PyObject *idx, const int *shape, int ndim, plan *p) {
  memset(p, 0, sizeof *p);
  PyObject *items;
  if (PyTuple_Check(idx)) {
    items = idx;
    Py_INCREF(items);
  } else {
    items = PyTuple_Pack(1, idx);
    if (!items) return -1;
  }
  Py_ssize_t n = PyTuple_GET_SIZE(items);
  int used = 0, ellipsis = -1;
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *o = PyTuple_GET_ITEM(items, i);
    if (o == Py_Ellipsis) {
      if (ellipsis >= 0) {
        Py_DECREF(items);
        PyErr_SetString(PyExc_IndexError, "An index can only have a single ellipsis (...)");
        return -1;
      }
      ellipsis = (int)i;
    } else if (o != Py_None) {
      used++;
    }
  }
  if (used > ndim) {
    Py_DECREF(items);
    return too_many(ndim);
  }
  int axis = 0, rc = -1;
  for (Py_ssize_t i = 0; i <= n; i++) {
    /* `...`, or the implicit trailing `:`s: full slices up to the axes still to come. */
    int fill = (i == ellipsis) || (i == n && ellipsis < 0);
    if (fill) {
      int remaining_used = 0;
      for (Py_ssize_t j = i + 1; j < n; j++) {
        PyObject *o = PyTuple_GET_ITEM(items, j);
        remaining_used += o != Py_None && o != Py_Ellipsis;
      }
      while (axis < ndim - remaining_used) {
        if (p->n >= MAX_ENTRIES) {
          too_many(ndim);
          goto out;
        }
        p->e[p->n++] = (entry){.kind = E_SLICE,
                               .axis = axis,
                               .start = 0,
                               .stop = shape[axis],
                               .step = 1,
                               .len = shape[axis]};
        axis++;
      }
    }
    if (i == n || i == ellipsis) continue;
    if (p->n >= MAX_ENTRIES) {
      too_many(ndim);
      goto out;
    }
    PyObject *o = PyTuple_GET_ITEM(items, i);
    entry *e = &p->e[p->n];
    if (parse_entry(o, e, axis, axis < ndim ? shape[axis] : 0) < 0) goto out;
    p->n++;
    if (e->kind != E_NONE) axis++;
  }
  rc = 0;
out:
  Py_DECREF(items);
  return rc;
}

/* Advanced-index bookkeeping: counts arrays, broadcasts their shapes, decides placement. */
static int plan_advanced(plan *p) {
  int any_array = 0;
  for (int i = 0; i < p->n; i++) any_array |= p->e[i].kind == E_ARRAY;
  if (!any_array) return 0;
  int seen = 0, gap = 0;
  p->bndim = 0;
  for (int i = 0; i < p->n; i++) {
    entry *e = &p->e[i];
    if (e->kind == E_ARRAY || e->kind == E_INT) {
      if (seen && gap) p->gather_first = 1;
      seen = 1;
      p->narrays++;
      if (e->kind == E_INT) continue;
      int nd = lz_array_ndim(e->arr);
      const int *sh = lz_array_shape(e->arr);
      if (nd > LZ_MAX_NDIM) {
        PyErr_SetString(PyExc_ValueError, "index array has too many dimensions");
        return -1;
      }
      /* NumPy broadcasting of the index shapes, right-aligned. */
      int out = nd > p->bndim ? nd : p->bndim;
      int nb[LZ_MAX_NDIM];
      for (int k = 0; k < out; k++) {
        int da = k - (out - nd) >= 0 ? sh[k - (out - nd)] : 1;
        int db = k - (out - p->bndim) >= 0 ? p->bshape[k - (out - p->bndim)] : 1;
        if (da != db && da != 1 && db != 1) {
          PyErr_SetString(PyExc_ValueError,
                          "shape mismatch: indexing arrays could not be broadcast together");
          return -1;
        }
        nb[k] = da == 1 ? db : da;
      }
      memcpy(p->bshape, nb, sizeof(int) * (size_t)out);
      p->bndim = out;
    } else if (seen) {
      gap = 1;
    }
  }
  return 1;
}

/* The shape of x[idx] (Nones included), from the plan. */
static int result_shape(const plan *p, int advanced, int *out) {
  int n = 0, placed = 0;
  if (advanced && p->gather_first) {
    memcpy(out, p->bshape, sizeof(int) * (size_t)p->bndim);
    n = p->bndim;
    placed = 1;
  }
  for (int i = 0; i < p->n; i++) {
    const entry *e = &p->e[i];
    if (n >= MAX_ENTRIES + LZ_MAX_NDIM) break;
    if (e->kind == E_NONE)
      out[n++] = 1;
    else if (e->kind == E_SLICE)
      out[n++] = e->len;
    else if (advanced && !placed) {
      memcpy(out + n, p->bshape, sizeof(int) * (size_t)p->bndim);
      n += p->bndim;
      placed = 1;
    }
  }
  return n;
}

static lz_array *reshape_to(lz_array *a, const int *shape, int ndim) {
  if (ndim > LZ_MAX_NDIM) {
    lz_free(a);
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_reshape", "result has more than %d dimensions",
                 LZ_MAX_NDIM);
    return NULL;
  }
  lz_array *r = lz_reshape(a, shape, ndim);
  lz_free(a);
  return r;
}

static lz_array *get_item(lz_array *src, PyObject *idx) {
  int ndim = lz_array_ndim(src);
  const int *shape = lz_array_shape(src);
  if (ndim == 0 && idx != Py_Ellipsis && idx != Py_None &&
      !(PyTuple_Check(idx) && PyTuple_GET_SIZE(idx) == 0)) {
    int only_none_ellipsis = PyTuple_Check(idx);
    for (Py_ssize_t i = 0; only_none_ellipsis && i < PyTuple_GET_SIZE(idx); i++) {
      PyObject *o = PyTuple_GET_ITEM(idx, i);
      only_none_ellipsis = o == Py_None || o == Py_Ellipsis;
    }
    if (!only_none_ellipsis) {
      PyErr_SetString(PyExc_IndexError, "too many indices for array: array is 0-dimensional");
      return NULL;
    }
  }
  plan p;
  if (make_plan(idx, shape, ndim, &p) < 0) {
    plan_free(&p);
    return NULL;
  }
  int advanced = plan_advanced(&p);
  lz_array *out = NULL;
  if (advanced < 0) goto done;
  int start[LZ_MAX_NDIM], stop[LZ_MAX_NDIM], step[LZ_MAX_NDIM];
  for (int k = 0; k < ndim; k++) {
    start[k] = 0;
    stop[k] = shape[k];
    step[k] = 1;
  }
  for (int i = 0; i < p.n; i++) {
    entry *e = &p.e[i];
    if (e->kind == E_SLICE) {
      start[e->axis] = e->start;
      stop[e->axis] = e->stop < 0 ? INT_MIN : e->stop; /* walked back past 0 */
      step[e->axis] = e->step;
    } else if (e->kind == E_INT && !advanced) {
      start[e->axis] = e->start;
      stop[e->axis] = e->start + 1;
    }
  }
  lz_array *sliced = lz_slice(src, start, stop, step, ndim);
  if (!sliced) goto done;
  int rshape[MAX_ENTRIES + LZ_MAX_NDIM];
  int rn = result_shape(&p, advanced, rshape);
  if (!advanced) {
    out = reshape_to(sliced, rshape, rn);
    goto done;
  }
  /* Gather over the advanced axes of the sliced array. */
  lz_array *idxs[LZ_MAX_NDIM];
  int axes[LZ_MAX_NDIM], sizes[LZ_MAX_NDIM], nidx = 0;
  const int *sshape = lz_array_shape(sliced);
  memcpy(sizes, sshape, sizeof(int) * (size_t)ndim);
  int first_adv_pos = -1, kept = 0; /* non-advanced axes before the first advanced one */
  for (int i = 0; i < p.n; i++) {
    entry *e = &p.e[i];
    if (e->kind == E_ARRAY || e->kind == E_INT) {
      if (first_adv_pos < 0) first_adv_pos = kept;
      idxs[nidx] = e->kind == E_ARRAY ? lz_retain(e->arr) : lz_scalar(e->start, LZ_INT32);
      axes[nidx] = e->axis;
      sizes[e->axis] = 1;
      nidx++;
    } else if (e->kind == E_SLICE) {
      kept++;
    }
  }
  lz_array *g = lz_gather(sliced, idxs, axes, nidx, sizes);
  for (int k = 0; k < nidx; k++) lz_free(idxs[k]);
  lz_free(sliced);
  /* g is B + sizes: drop the size-1 indexed axes. */
  int gshape[2 * LZ_MAX_NDIM], gn = 0;
  memcpy(gshape, p.bshape, sizeof(int) * (size_t)p.bndim);
  gn = p.bndim;
  for (int k = 0; k < ndim; k++) {
    int indexed = 0;
    for (int j = 0; j < nidx; j++) indexed |= axes[j] == k;
    if (!indexed) gshape[gn++] = sizes[k];
  }
  g = g ? reshape_to(g, gshape, gn) : NULL;
  if (g && !p.gather_first && first_adv_pos > 0 && p.bndim > 0) {
    /* Move the B dims after the first `first_adv_pos` kept axes. */
    int perm[LZ_MAX_NDIM], q = 0;
    for (int k = 0; k < first_adv_pos; k++) perm[q++] = p.bndim + k;
    for (int k = 0; k < p.bndim; k++) perm[q++] = k;
    for (int k = p.bndim + first_adv_pos; k < gn; k++) perm[q++] = k;
    lz_array *t = lz_transpose(g, perm, gn);
    lz_free(g);
    g = t;
  }
  out = g ? reshape_to(g, rshape, rn) : NULL;
done:
  if (!out && !PyErr_Occurred()) pylz_raise();
  plan_free(&p);
  return out;
}

static PyObject *array_subscript(PyObject *self, PyObject *idx) {
  /* Held: parsing the index may run Python code (__index__) that rebinds self. */
  lz_array *a = lz_retain(((PyLzArray *)self)->a);
  if (idx == Py_Ellipsis || (PyTuple_Check(idx) && PyTuple_GET_SIZE(idx) == 0)) return pylz_wrap(a);
  lz_array *r = get_item(a, idx);
  lz_free(a);
  return r ? pylz_wrap(r) : NULL;
}

/* ---- updates ------------------------------------------------------------------------------- */

enum { UPD_SET, UPD_ADD, UPD_SUB, UPD_MUL, UPD_DIV, UPD_MAX, UPD_MIN };

/* `v` made to fit x[idx] (shape G): leading size-1 dims beyond G's rank are dropped, then it is
 * broadcast to G and reshaped to (n) `to`. */
static lz_array *fit_update(lz_array *v, const int *g, int gn, const int *to, int tn) {
  int vn = lz_array_ndim(v);
  const int *vs = lz_array_shape(v);
  int s = 0;
  while (vn - s > gn && vs[s] == 1) s++;
  lz_array *u = s ? lz_reshape(v, vs + s, vn - s) : lz_retain(v);
  if (gn > LZ_MAX_NDIM) {
    lz_free(u);
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_scatter", "index has too many dimensions");
    return NULL;
  }
  lz_array *b = lz_broadcast_to(u, g, gn);
  lz_free(u);
  return b ? reshape_to(b, to, tn) : NULL;
}

static lz_array *combine_all(lz_array *src, lz_array *u, int op) {
  lz_array *r = NULL;
  switch (op) {
  case UPD_SET:
    return lz_astype(u, lz_array_dtype(src));
  case UPD_ADD:
    r = lz_add(src, u);
    break;
  case UPD_SUB:
    r = lz_subtract(src, u);
    break;
  case UPD_MUL:
    r = lz_multiply(src, u);
    break;
  case UPD_DIV:
    r = lz_divide(src, u);
    break;
  case UPD_MAX:
    r = lz_maximum(src, u);
    break;
  default:
    r = lz_minimum(src, u);
    break;
  }
  lz_array *c = r ? lz_astype(r, lz_array_dtype(src)) : NULL;
  lz_free(r);
  return c;
}

/* A copy of `src` with x[idx] combined with `v` by `op`; scatter based unless `op` is a set
 * with basic indices. */
static lz_array *update_item(lz_array *src, PyObject *idx, lz_array *v, int op) {
  int ndim = lz_array_ndim(src);
  const int *shape = lz_array_shape(src);
  plan p;
  lz_array *out = NULL;
  if (ndim == 0 && !(idx == Py_Ellipsis || (PyTuple_Check(idx) && PyTuple_GET_SIZE(idx) == 0))) {
    PyErr_SetString(PyExc_IndexError, "too many indices for array: array is 0-dimensional");
    return NULL;
  }
  if (make_plan(idx, shape, ndim, &p) < 0) {
    plan_free(&p);
    return NULL;
  }
  int advanced = plan_advanced(&p);
  if (advanced < 0) goto done;
  int g[MAX_ENTRIES + LZ_MAX_NDIM];
  int gn = result_shape(&p, advanced, g);
  if (!advanced && op == UPD_SET) {
    int start[LZ_MAX_NDIM], stop[LZ_MAX_NDIM], step[LZ_MAX_NDIM], sl[LZ_MAX_NDIM];
    for (int i = 0; i < p.n; i++) {
      entry *e = &p.e[i];
      if (e->kind == E_SLICE) {
        start[e->axis] = e->start;
        stop[e->axis] = e->stop < 0 ? INT_MIN : e->stop;
        step[e->axis] = e->step;
        sl[e->axis] = e->len;
      } else if (e->kind == E_INT) {
        start[e->axis] = e->start;
        stop[e->axis] = e->start + 1;
        step[e->axis] = 1;
        sl[e->axis] = 1;
      }
    }
    lz_array *u = fit_update(v, g, gn, sl, ndim);
    out = u ? lz_slice_update(src, u, start, stop, step) : NULL;
    lz_free(u);
    goto done;
  }
  /* Trailing full slices stay whole blocks of the scatter (T); every other entry indexes. */
  int last = p.n;
  while (last > 0 && p.e[last - 1].kind == E_SLICE && p.e[last - 1].start == 0 &&
         p.e[last - 1].step == 1 && p.e[last - 1].len == shape[p.e[last - 1].axis])
    last--;
  /* Slots of I: the result dims without Nones and without T. */
  int islots = 0, bpos = -1;
  int spos[MAX_ENTRIES];
  if (advanced && p.gather_first) {
    bpos = 0;
    islots = p.bndim;
  }
  for (int i = 0; i < last; i++) {
    entry *e = &p.e[i];
    if (e->kind == E_SLICE)
      spos[i] = islots++;
    else if ((e->kind == E_ARRAY || e->kind == E_INT) && bpos < 0) {
      bpos = islots;
      islots += p.bndim;
    }
  }
  if (bpos < 0) bpos = 0;
  int nidx = 0, axes[LZ_MAX_NDIM];
  lz_array *idxs[LZ_MAX_NDIM];
  for (int i = 0; i < last && islots <= LZ_MAX_NDIM; i++) {
    entry *e = &p.e[i];
    int ishape[LZ_MAX_NDIM];
    for (int k = 0; k < islots; k++) ishape[k] = 1;
    lz_array *ix = NULL;
    if (e->kind == E_SLICE) {
      ishape[spos[i]] = e->len;
      lz_array *r = lz_arange(e->start, e->len ? e->start + (double)e->step * e->len : e->start,
                              e->step, LZ_INT32);
      ix = r ? reshape_to(r, ishape, islots) : NULL;
    } else if (e->kind == E_INT) {
      ix = lz_scalar(e->start, LZ_INT32);
    } else if (e->kind == E_ARRAY) {
      int nd = lz_array_ndim(e->arr);
      memcpy(ishape + bpos + p.bndim - nd, lz_array_shape(e->arr), sizeof(int) * (size_t)nd);
      ix = lz_reshape(e->arr, ishape, islots);
    } else {
      continue;
    }
    if (!ix) goto fail_idx;
    idxs[nidx] = ix;
    axes[nidx++] = e->axis;
  }
  if (islots > LZ_MAX_NDIM) {
    lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_scatter", "index has too many dimensions");
    goto fail_idx;
  }
  /* Updates: v fitted to G, then shaped I + [1] * nidx + T. */
  int ushape[3 * LZ_MAX_NDIM], un = 0;
  {
    /* I dims are the non-None result dims except T's; read them back from the plan. */
    int tdims = 0;
    for (int i = last; i < p.n; i++) tdims += p.e[i].kind == E_SLICE;
    int nn = 0;
    int nonnone[MAX_ENTRIES + LZ_MAX_NDIM];
    /* Drop the Nones from G: they are the dims result_shape emitted for E_NONE entries. */
    int k = 0, placed = advanced && p.gather_first;
    if (placed)
      for (int b = 0; b < p.bndim; b++) nonnone[nn++] = g[k++];
    for (int i = 0; i < p.n; i++) {
      entry *e = &p.e[i];
      if (e->kind == E_NONE)
        k++;
      else if (e->kind == E_SLICE)
        nonnone[nn++] = g[k++];
      else if (advanced && !placed) {
        for (int b = 0; b < p.bndim; b++) nonnone[nn++] = g[k++];
        placed = 1;
      }
    }
    for (int q = 0; q < nn - tdims; q++) ushape[un++] = nonnone[q];
    for (int q = 0; q < nidx; q++) ushape[un++] = 1;
    for (int q = nn - tdims; q < nn; q++) ushape[un++] = nonnone[q];
    if (un > LZ_MAX_NDIM) {
      lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "lz_scatter", "index has too many dimensions");
      goto fail_idx;
    }
  }
  lz_array *u = fit_update(v, g, gn, ushape, un);
  if (u && nidx == 0) {
    /* Nothing indexes: the update covers the whole array. */
    int tshape[LZ_MAX_NDIM];
    memcpy(tshape, shape, sizeof(int) * (size_t)ndim);
    lz_array *w = reshape_to(u, tshape, ndim);
    out = w ? combine_all(src, w, op) : NULL;
    lz_free(w);
  } else if (u) {
    lz_array *w = NULL;
    switch (op) {
    case UPD_SET:
      out = lz_scatter(src, idxs, axes, nidx, u);
      break;
    case UPD_ADD:
      out = lz_scatter_add(src, idxs, axes, nidx, u);
      break;
    case UPD_SUB:
      w = lz_negative(u);
      out = lz_scatter_add(src, idxs, axes, nidx, w);
      break;
    case UPD_MUL:
      out = lz_scatter_prod(src, idxs, axes, nidx, u);
      break;
    case UPD_DIV:
      w = lz_reciprocal(u);
      out = lz_scatter_prod(src, idxs, axes, nidx, w);
      break;
    case UPD_MAX:
      out = lz_scatter_max(src, idxs, axes, nidx, u);
      break;
    default:
      out = lz_scatter_min(src, idxs, axes, nidx, u);
      break;
    }
    lz_free(w);
    lz_free(u);
  }
fail_idx:
  for (int k = 0; k < nidx; k++) lz_free(idxs[k]);
done:
  if (!out && !PyErr_Occurred()) pylz_raise();
  plan_free(&p);
  return out;
}

static int array_ass_subscript(PyObject *self, PyObject *idx, PyObject *value) {
  if (!value) {
    PyErr_SetString(PyExc_TypeError, "array elements cannot be deleted");
    return -1;
  }
  lz_array *v = pylz_to_array(value);
  if (!v) return -1;
  PyLzArray *s = (PyLzArray *)self;
  lz_array *src = lz_retain(s->a); /* held while the index is parsed (Python code may run) */
  lz_array *r = update_item(src, idx, v, UPD_SET);
  lz_free(src);
  lz_free(v);
  if (!r) return -1;
  pylz_array_set(s, r);
  return 0;
}

PyMappingMethods pylz_array_as_mapping = {
    .mp_length = NULL, /* len() comes from the sequence slot */
    .mp_subscript = array_subscript,
    .mp_ass_subscript = array_ass_subscript,
};

/* ---- x.at[idx] ----------------------------------------------------------------------------- */

typedef struct {
  PyObject_HEAD lz_array *a;
  PyObject *idx; /* NULL until indexed */
} PyLzArrayAt;

static PyTypeObject PyLzArrayAt_Type;

static void at_dealloc(PyObject *o) {
  PyLzArrayAt *at = (PyLzArrayAt *)o;
  lz_free(at->a);
  Py_XDECREF(at->idx);
  PyObject_Free(o);
}

static PyObject *at_new(lz_array *a, PyObject *idx) {
  PyLzArrayAt *at = PyObject_New(PyLzArrayAt, &PyLzArrayAt_Type);
  if (!at) return NULL;
  at->a = lz_retain(a);
  at->idx = idx;
  Py_XINCREF(idx);
  return (PyObject *)at;
}

PyObject *pylz_array_get_at(PyObject *self, void *closure) {
  return at_new(((PyLzArray *)self)->a, NULL);
}

static PyObject *at_getitem(PyObject *self, PyObject *idx) {
  return at_new(((PyLzArrayAt *)self)->a, idx);
}

static PyObject *at_apply(PyObject *self, PyObject *value, int op) {
  PyLzArrayAt *at = (PyLzArrayAt *)self;
  if (!at->idx) {
    PyErr_SetString(PyExc_ValueError, "index the .at helper first: x.at[idx].add(v)");
    return NULL;
  }
  lz_array *v = pylz_to_array(value);
  if (!v) return NULL;
  lz_array *r = update_item(at->a, at->idx, v, op);
  lz_free(v);
  return r ? pylz_wrap(r) : NULL;
}

#define AT_METHOD(name, op)                                                                        \
  static PyObject *at_##name(PyObject *self, PyObject *value) { return at_apply(self, value, op); }
AT_METHOD(add, UPD_ADD)
AT_METHOD(subtract, UPD_SUB)
AT_METHOD(multiply, UPD_MUL)
AT_METHOD(divide, UPD_DIV)
AT_METHOD(maximum, UPD_MAX)
AT_METHOD(minimum, UPD_MIN)
#undef AT_METHOD

static PyMethodDef at_methods[] = {
    {"add", at_add, METH_O,
     "add(self, value) -> array\n\nx with value added at the indices; "
     "repeated indices add every update."},
    {"subtract", at_subtract, METH_O, "subtract(self, value) -> array"},
    {"multiply", at_multiply, METH_O, "multiply(self, value) -> array"},
    {"divide", at_divide, METH_O, "divide(self, value) -> array"},
    {"maximum", at_maximum, METH_O, "maximum(self, value) -> array"},
    {"minimum", at_minimum, METH_O, "minimum(self, value) -> array"},
    {NULL},
};

static PyMappingMethods at_as_mapping = {.mp_subscript = at_getitem};

static PyTypeObject PyLzArrayAt_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core.ArrayAt",
    .tp_basicsize = sizeof(PyLzArrayAt),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A helper object to apply updates at specific indices: x.at[idx].add(y) applies "
              "every update, also where idx repeats (x[idx] += y keeps one per index).",
    .tp_dealloc = at_dealloc,
    .tp_as_mapping = &at_as_mapping,
    .tp_methods = at_methods,
};

int pylz_init_indexing(PyObject *m) {
  if (PyType_Ready(&PyLzArrayAt_Type) < 0) return -1;
  Py_INCREF(&PyLzArrayAt_Type);
  if (PyModule_AddObject(m, "ArrayAt", (PyObject *)&PyLzArrayAt_Type) < 0) {
    Py_DECREF(&PyLzArrayAt_Type);
    return -1;
  }
  return 0;
}
