/* lazuli.core: eval, async_eval, grad, value_and_grad, vjp, jvp and vmap over Python callables
 * and pytrees, built on liblazuli's closures (include/lazuli/transforms.h).
 *
 * Each call of a transformed function flattens its arguments into arrays, wraps the Python
 * function in a closure (pylz_fn) that rebuilds the arguments around the closure's inputs, runs
 * the C transform, and puts the results back into the trees the function used. The C library
 * calls the closure inside scopes of its own; the closure suspends them while Python runs, so
 * arrays Python holds are never owned by a scope. */
#include "xform.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors raised inside callbacks ----------------------------------------------------- */

static _Thread_local PyObject *stash_type, *stash_value, *stash_tb;

#define STASH_MESSAGE "the Python function raised an exception"

int pylz_xform_stash(void) {
  if (PyErr_Occurred()) {
    Py_CLEAR(stash_type);
    Py_CLEAR(stash_value);
    Py_CLEAR(stash_tb);
    PyErr_Fetch(&stash_type, &stash_value, &stash_tb);
  }
  lz_set_error(LZ_ERROR_INVALID_ARGUMENT, "python", STASH_MESSAGE);
  return -1;
}

PyObject *pylz_xform_raise(void) {
  /* the kept exception is the cause only if the transform stopped on it (the first error) */
  int ours = strstr(lz_last_error(), "[python] " STASH_MESSAGE) != NULL;
  if (stash_type && (ours || lz_last_error_code() == LZ_ERROR_NONE)) {
    lz_clear_error();
    PyErr_Restore(stash_type, stash_value, stash_tb);
    stash_type = stash_value = stash_tb = NULL;
    return NULL;
  }
  Py_CLEAR(stash_type);
  Py_CLEAR(stash_value);
  Py_CLEAR(stash_tb);
  return pylz_raise();
}

const char *pylz_type_name(PyObject *o) { return Py_TYPE(o)->tp_name; }

PyObject *pylz_wrap_borrowed(lz_array *a) { return pylz_wrap(lz_retain(a)); }

/* ---- releasing Python objects from any thread ------------------------------------------- */

/* A closure may be released on a thread that does not hold the GIL: an evaluation that frees
 * a custom function's node on async_eval's worker, say, while the main thread holds the GIL and
 * waits for that evaluation. Such releases wait in this list for the next call into the
 * transforms from Python, instead of taking the GIL there. */
typedef struct pending {
  void (*drop)(void *);
  void *ctx;
  struct pending *next;
} pending;

static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static pending *pending_head;

static void drop_now(void (*drop)(void *), void *ctx) {
  int susp = lz_scope_suspend() == 0; /* Python's arrays are released as Python's */
  drop(ctx);
  if (susp) lz_scope_resume();
}

void pylz_release_py(void (*drop)(void *), void *ctx) {
  if (!Py_IsInitialized()) return; /* at exit the interpreter's objects are gone already */
  if (PyGILState_Check()) {
    drop_now(drop, ctx);
    return;
  }
  pending *e = malloc(sizeof *e);
  if (!e) { /* cannot wait: take the GIL (the rare deadlock risk beats a leak of the graph) */
    PyGILState_STATE g = PyGILState_Ensure();
    drop_now(drop, ctx);
    PyGILState_Release(g);
    return;
  }
  e->drop = drop, e->ctx = ctx;
  pthread_mutex_lock(&pending_lock);
  e->next = pending_head;
  pending_head = e;
  pthread_mutex_unlock(&pending_lock);
}

void pylz_release_pending(void) {
  pthread_mutex_lock(&pending_lock);
  pending *e = pending_head;
  pending_head = NULL;
  pthread_mutex_unlock(&pending_lock);
  while (e) {
    pending *next = e->next;
    drop_now(e->drop, e->ctx);
    free(e);
    e = next;
  }
}

/* ---- Python callables as closures ------------------------------------------------------- */

static void fn_drop(void *ctx) {
  pylz_fn *p = ctx;
  Py_XDECREF(p->fun), Py_XDECREF(p->args), Py_XDECREF(p->kwargs), Py_XDECREF(p->flat);
  Py_XDECREF(p->result), Py_XDECREF(p->cap_in), Py_XDECREF(p->cap_out);
  Py_XDECREF(p->layout), Py_XDECREF(p->layouts);
  PyMem_RawFree(p->slots), PyMem_RawFree(p->keep);
  PyMem_RawFree(p);
}

static void fn_free(void *ctx) { pylz_release_py(fn_drop, ctx); }

/* The loss must be 0-d to be differentiated. */
static int check_scalar(pylz_fn *p, PyObject *x) {
  lz_array *a = ((PyLzArray *)x)->a;
  if (lz_array_ndim(a) == 0) return 0;
  PyObject *shape = pylz_shape_tuple(a);
  if (shape)
    PyErr_Format(PyExc_ValueError,
                 "%s The function whose gradient we want to compute must "
                 "return a scalar (0-d) array as its loss, got an array of shape %S.",
                 p->tag, shape);
  Py_XDECREF(shape);
  return -1;
}

static int check_output(pylz_fn *p, PyObject *res) {
  switch (p->out_mode) {
  case PYLZ_OUT_SCALAR:
    if (!PyLzArray_Check(res)) {
      PyErr_Format(PyExc_ValueError,
                   "%s The return value of the function whose gradient we "
                   "want to compute should be a scalar array; but %s was returned.",
                   p->tag, pylz_type_name(res));
      return -1;
    }
    return check_scalar(p, res);
  case PYLZ_OUT_LOSS:
    if (PyLzArray_Check(res)) return check_scalar(p, res);
    if (!PyTuple_Check(res)) {
      PyErr_Format(PyExc_ValueError,
                   "%s The return value of the function whose gradient we "
                   "want to compute should be either a scalar array or a tuple with the first "
                   "value being a scalar array (Union[array, tuple[array, Any, ...]]); but %s "
                   "was returned.",
                   p->tag, pylz_type_name(res));
      return -1;
    }
    if (PyTuple_GET_SIZE(res) == 0) {
      PyErr_Format(PyExc_ValueError,
                   "%s The return value of the function whose gradient we "
                   "want to compute should be either a scalar array or a non-empty tuple. The "
                   "first value should be a scalar array and the rest can be anything. "
                   "Instead, we got an empty tuple.",
                   p->tag);
      return -1;
    }
    if (!PyLzArray_Check(PyTuple_GET_ITEM(res, 0))) {
      PyErr_Format(PyExc_ValueError,
                   "%s The return value of the function whose gradient we "
                   "want to compute should be either a scalar array or a tuple with the first "
                   "value being a scalar array (Union[array, tuple[array, Any, ...]]); but it "
                   "was a tuple with the first value being of type %s .",
                   p->tag, pylz_type_name(PyTuple_GET_ITEM(res, 0)));
      return -1;
    }
    return check_scalar(p, PyTuple_GET_ITEM(res, 0));
  case PYLZ_OUT_ARRAYS:
    if (PyLzArray_Check(res)) return 0;
    if (PyList_Check(res) || PyTuple_Check(res)) {
      for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(res); i++)
        if (!PyLzArray_Check(PySequence_Fast_GET_ITEM(res, i))) {
          PyErr_Format(PyExc_ValueError,
                       "%s The function must return an array or a list of "
                       "arrays; item %zd is %s.",
                       p->tag, i, pylz_type_name(PySequence_Fast_GET_ITEM(res, i)));
          return -1;
        }
      return 0;
    }
    PyErr_Format(PyExc_ValueError,
                 "%s The function must return an array or a list of arrays; "
                 "but %s was returned.",
                 p->tag, pylz_type_name(res));
    return -1;
  default:
    return 0;
  }
}

/* The argument list for a call on `inputs`: the template's leaves with the inputs in their
 * slots. */
static PyObject *leaves_for(pylz_fn *p, lz_array *const *in, int n) {
  Py_ssize_t want = p->slots ? p->nslots : (p->flat ? PyList_GET_SIZE(p->flat) : n);
  if (n != want) {
    PyErr_Format(PyExc_ValueError,
                 "%s The function was called with %d arrays where %zd were "
                 "expected.",
                 p->tag, n, want);
    return NULL;
  }
  PyObject *l = p->flat ? PyList_GetSlice(p->flat, 0, PyList_GET_SIZE(p->flat)) : PyList_New(n);
  if (!l) return NULL;
  for (int i = 0; i < n; i++) {
    PyObject *w = pylz_wrap_borrowed(in[i]);
    if (!w) {
      Py_DECREF(l);
      return NULL;
    }
    Py_ssize_t at = p->slots ? p->slots[i] : i;
    if (p->flat)
      PyList_SetItem(l, at, w); /* steals w, releases the old leaf */
    else
      PyList_SET_ITEM(l, at, w);
  }
  return l;
}

/* Puts the traced values of compile's captured inputs into the captured trees. */
static int state_enter(pylz_fn *p, PyObject **olds, PyObject **news) {
  *olds = *news = NULL;
  if (!p->cap_in) return 0;
  if (!(*olds = pylz_tree_flatten(p->cap_in, 0))) return -1;
  if (!(*news = PyList_New(0))) return -1;
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(*olds); i++) {
    char key[32];
    snprintf(key, sizeof key, "%zd", i);
    lz_array *a = p->state_in ? lz_dict_get(p->state_in, key) : NULL;
    PyObject *w = a ? pylz_wrap(a) : Py_NewRef(PyList_GET_ITEM(*olds, i));
    if (!w || PyList_Append(*news, w) < 0) {
      Py_XDECREF(w);
      return -1;
    }
    Py_DECREF(w);
  }
  Py_ssize_t pos = 0;
  return pylz_tree_fill(p->cap_in, *news, &pos);
}

/* Gives compile the new values of the captured outputs and puts the originals of the captured
 * inputs back where the function left the traced values. */
static int state_leave(pylz_fn *p, PyObject *olds, PyObject *news, int ok) {
  int rc = 0;
  if (ok && p->cap_out && p->state_out) {
    PyObject *outs = pylz_tree_flatten(p->cap_out, 0);
    if (!outs) rc = -1;
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(outs); i++) {
      char key[32];
      snprintf(key, sizeof key, "%zd", i);
      if (lz_dict_set(p->state_out, key, ((PyLzArray *)PyList_GET_ITEM(outs, i))->a) < 0)
        rc = pylz_raise_int();
    }
    Py_XDECREF(outs);
  }
  if (olds && news) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (pylz_tree_replace(p->cap_in, news, olds) < 0) rc = -1;
    if (type) PyErr_Restore(type, value, tb);
  }
  return rc;
}

/* The call's arguments: the templates with their array leaves replaced by `leaves`, except the
 * arguments marked in p->keep, passed as they are. */
static int rebuild(pylz_fn *p, PyObject *leaves, PyObject **args, PyObject **kwargs) {
  Py_ssize_t pos = 0;
  if (!p->keep) {
    *args = pylz_tree_unflatten(p->args, leaves, &pos);
    if (*args && p->kwargs) *kwargs = pylz_tree_unflatten(p->kwargs, leaves, &pos);
    return !*args || (p->kwargs && !*kwargs) ? -1 : 0;
  }
  Py_ssize_t na = PyTuple_GET_SIZE(p->args), i = 0;
  if (!(*args = PyTuple_New(na))) return -1;
  for (; i < na; i++) {
    PyObject *a = PyTuple_GET_ITEM(p->args, i);
    PyObject *r = p->keep[i] ? Py_NewRef(a) : pylz_tree_unflatten(a, leaves, &pos);
    if (!r) return -1;
    PyTuple_SET_ITEM(*args, i, r);
  }
  if (!p->kwargs) return 0;
  if (!(*kwargs = PyDict_New())) return -1;
  PyObject *k, *v;
  Py_ssize_t it = 0;
  while (PyDict_Next(p->kwargs, &it, &k, &v)) {
    PyObject *r = p->keep[i++] ? Py_NewRef(v) : pylz_tree_unflatten(v, leaves, &pos);
    int rc = r ? PyDict_SetItem(*kwargs, k, r) : -1;
    Py_XDECREF(r);
    if (rc < 0) return -1;
  }
  return 0;
}

/* `res` with each array leaf replaced by one shared empty array, for pylz_tree_unflatten. */
static PyObject *structure_of(PyObject *res, PyObject *leaves) {
  static PyObject *stand_in;
  if (!stand_in && !(stand_in = pylz_wrap(lz_zeros((int[]){0}, 1, LZ_FLOAT32)))) return NULL;
  Py_ssize_t n = PyList_GET_SIZE(leaves), pos = 0;
  PyObject *l = PyList_New(n);
  if (!l) return NULL;
  for (Py_ssize_t i = 0; i < n; i++) PyList_SET_ITEM(l, i, Py_NewRef(stand_in));
  PyObject *s = pylz_tree_unflatten(res, l, &pos);
  Py_DECREF(l);
  return s;
}

static int fn_call(void *ctx, lz_array *const *in, int n, lz_array **out) {
  pylz_fn *p = ctx;
  PyGILState_STATE g = PyGILState_Ensure();
  if (lz_scope_suspend() < 0) {
    PyGILState_Release(g);
    return -1;
  }
  lz_array *tmp[LZ_MAX_OUTPUTS];
  int k = -1;
  PyObject *leaves = NULL, *args = NULL, *kwargs = NULL, *res = NULL, *outs = NULL;
  PyObject *olds = NULL, *news = NULL;
  if (!(leaves = leaves_for(p, in, n))) goto done;
  if (rebuild(p, leaves, &args, &kwargs) < 0) goto done;
  int entered = state_enter(p, &olds, &news) == 0;
  if (entered) res = PyObject_Call(p->fun, args, kwargs);
  if (state_leave(p, olds, news, res != NULL) < 0) Py_CLEAR(res);
  if (!res || check_output(p, res) < 0) goto done;
  PyObject *first =
      p->out_mode == PYLZ_OUT_LOSS && PyTuple_Check(res) ? PyTuple_GET_ITEM(res, 0) : res;
  if (p->out_mode == PYLZ_OUT_LOSS || p->out_mode == PYLZ_OUT_SCALAR) {
    /* only the loss goes through the closure; aux outputs are read from p->result */
    if (!(outs = PyList_New(1))) goto done;
    PyList_SET_ITEM(outs, 0, Py_NewRef(first));
  } else if (!(outs = pylz_tree_flatten(res, p->out_mode == PYLZ_OUT_STRICT))) {
    goto done;
  }
  Py_ssize_t m = PyList_GET_SIZE(outs);
  Py_CLEAR(p->layout);
  if (m == 0 || (m > LZ_MAX_OUTPUTS && !p->pack_ok)) {
    PyErr_Format(PyExc_ValueError,
                 "%s The function returned %zd arrays; a transformed function "
                 "returns 1 to %d arrays.",
                 p->tag, m, LZ_MAX_OUTPUTS);
    goto done;
  }
  if (m > LZ_MAX_OUTPUTS) { /* one flat array per dtype, unpacked by the caller */
    lz_array **leaves_c = PyMem_Malloc((size_t)m * sizeof *leaves_c);
    if (!leaves_c) {
      PyErr_NoMemory();
      goto done;
    }
    for (Py_ssize_t j = 0; j < m; j++) leaves_c[j] = ((PyLzArray *)PyList_GET_ITEM(outs, j))->a;
    int ng = pylz_pack(leaves_c, m, tmp, &p->layout);
    PyMem_Free(leaves_c);
    if (ng < 0) goto done;
    PyObject *sig = p->layouts ? pylz_signature(in, n, p->state_in) : NULL;
    if (p->layouts && (!sig || PyDict_SetItem(p->layouts, sig, p->layout) < 0)) {
      Py_XDECREF(sig);
      for (int j = 0; j < ng; j++) lz_release(tmp[j]);
      goto done;
    }
    Py_XDECREF(sig);
    m = ng;
  } else {
    for (Py_ssize_t j = 0; j < m; j++)
      tmp[j] = lz_retain(((PyLzArray *)PyList_GET_ITEM(outs, j))->a);
  }
  if (p->out_mode == PYLZ_OUT_LOSS || p->out_mode == PYLZ_OUT_SCALAR) {
    Py_XSETREF(p->result, Py_NewRef(res)); /* the value, aux outputs included */
  } else {
    /* only the structure is needed later: keeping the traced arrays would keep their graph */
    PyObject *s = structure_of(res, outs);
    if (!s) {
      for (Py_ssize_t j = 0; j < m; j++) lz_release(tmp[j]);
      goto done;
    }
    Py_XSETREF(p->result, s);
  }
  p->nout_arrays = (int)m;
  k = (int)m;
done:
  if (k < 0) pylz_xform_stash();
  Py_XDECREF(leaves), Py_XDECREF(args), Py_XDECREF(kwargs), Py_XDECREF(res), Py_XDECREF(outs);
  Py_XDECREF(olds), Py_XDECREF(news);
  lz_scope_resume();
  /* the outputs become the closure scope's (lz_closure_call keeps them); the unscoped handles
   * taken while suspended are dropped without touching that scope's entries */
  for (int j = 0; j < k; j++) {
    out[j] = lz_retain(tmp[j]);
    lz_release(tmp[j]);
  }
  PyGILState_Release(g);
  return k;
}

lz_closure *pylz_fn_closure(PyObject *fun, int out_mode, const char *tag, pylz_fn **out) {
  pylz_fn *p = PyMem_RawCalloc(1, sizeof *p);
  if (!p) {
    PyErr_NoMemory();
    return NULL;
  }
  p->fun = Py_NewRef(fun);
  p->out_mode = out_mode;
  p->tag = tag;
  lz_closure *c = lz_closure_new(fn_call, p, fn_free);
  if (!c) {
    fn_free(p);
    pylz_raise();
    return NULL;
  }
  *out = p;
  return c;
}

/* ---- eval ------------------------------------------------------------------------------ */

static int eval_args(PyObject *args, int async) {
  pylz_release_pending();
  PyObject *leaves = pylz_tree_flatten(args, 0);
  if (!leaves) return -1;
  Py_ssize_t n = PyList_GET_SIZE(leaves);
  lz_array **arr = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *arr);
  if (!arr) {
    Py_DECREF(leaves);
    PyErr_NoMemory();
    return -1;
  }
  for (Py_ssize_t i = 0; i < n; i++) arr[i] = ((PyLzArray *)PyList_GET_ITEM(leaves, i))->a;
  int rc = 0;
  if (!async) {
    rc = pylz_eval_many(arr, (size_t)n); /* GIL released, one evaluation at a time */
  } else {
    /* the worker holds what it computes; `leaves` keeps the arrays alive meanwhile */
    Py_BEGIN_ALLOW_THREADS;
    rc = lz_async_eval_many(arr, (size_t)n);
    Py_END_ALLOW_THREADS;
    if (rc < 0) pylz_raise();
  }
  PyMem_Free(arr);
  Py_DECREF(leaves);
  return rc < 0 ? -1 : 0;
}

static PyObject *py_eval(PyObject *self, PyObject *args) {
  (void)self;
  if (eval_args(args, 0) < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *py_async_eval(PyObject *self, PyObject *args) {
  (void)self;
  if (eval_args(args, 1) < 0) return NULL;
  Py_RETURN_NONE;
}

/* ---- grad and value_and_grad --------------------------------------------------------------- */

typedef struct {
  PyObject_HEAD PyObject *fun;
  PyObject *argnames; /* tuple of str */
  PyObject *weakreflist;
  int *argnums;
  int nargnums;
  int with_value;
  PyObject *dict; /* __wrapped__, __name__, __doc__ as functools.wraps sets them */
} GradFn;

static PyTypeObject GradFn_Type;

/* argnums: None, an int or a sequence of ints (sorted, checked); argnames: a str or a sequence
 * of str. */
static int parse_argnums(const char *tag, PyObject *argnums, PyObject *argnames, GradFn *g) {
  PyObject *names = NULL;
  if (PyUnicode_Check(argnames)) {
    names = PyTuple_Pack(1, argnames);
  } else {
    names = PySequence_Tuple(argnames);
    if (!names) {
      PyErr_Format(PyExc_TypeError, "%s argnames must be a str or a list of str", tag);
      return -1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names); i++)
      if (!PyUnicode_Check(PyTuple_GET_ITEM(names, i))) {
        PyErr_Format(PyExc_TypeError, "%s argnames must be a str or a list of str", tag);
        Py_DECREF(names);
        return -1;
      }
  }
  if (!names) return -1;
  g->argnames = names;
  int *nums = NULL, n = 0;
  if (argnums == Py_None) {
    if (PyTuple_GET_SIZE(names) == 0) {
      nums = PyMem_Malloc(sizeof *nums);
      if (!nums) return PyErr_NoMemory(), -1;
      nums[0] = 0, n = 1;
    }
  } else if (PyLong_Check(argnums)) {
    nums = PyMem_Malloc(sizeof *nums);
    if (!nums) return PyErr_NoMemory(), -1;
    if (pylz_as_int(argnums, &nums[0], "argnums") < 0) return PyMem_Free(nums), -1;
    n = 1;
  } else {
    PyObject *seq = PySequence_Fast(argnums, "argnums must be an int or a sequence of ints");
    if (!seq) return -1;
    n = (int)PySequence_Fast_GET_SIZE(seq);
    nums = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *nums);
    if (!nums) return Py_DECREF(seq), PyErr_NoMemory(), -1;
    for (int i = 0; i < n; i++)
      if (pylz_as_int(PySequence_Fast_GET_ITEM(seq, i), &nums[i], "argnums") < 0) {
        Py_DECREF(seq), PyMem_Free(nums);
        return -1;
      }
    Py_DECREF(seq);
  }
  g->argnums = nums, g->nargnums = n;
  if (n == 0 && PyTuple_GET_SIZE(names) == 0) {
    PyErr_Format(PyExc_ValueError, "%s Gradient wrt no argument requested", tag);
    return -1;
  }
  for (int i = 1; i < n; i++) /* insertion sort: few entries */
    for (int j = i; j > 0 && nums[j - 1] > nums[j]; j--) {
      int t = nums[j];
      nums[j] = nums[j - 1], nums[j - 1] = t;
    }
  if (n && nums[0] < 0) {
    PyErr_Format(PyExc_ValueError, "%s Can't compute the gradient of negative argument index %d",
                 tag, nums[0]);
    return -1;
  }
  for (int i = 1; i < n; i++)
    if (nums[i] == nums[i - 1]) {
      PyErr_Format(PyExc_ValueError, "%s Duplicate argument index %d is not allowed.", tag,
                   nums[i]);
      return -1;
    }
  return 0;
}

/* Copies __name__, __qualname__, __doc__, __module__ of fun, and sets __wrapped__. */
int pylz_copy_wraps(PyObject **dict, PyObject *fun) {
  if (!*dict && !(*dict = PyDict_New())) return -1;
  static const char *attrs[] = {"__name__", "__qualname__", "__doc__", "__module__"};
  for (size_t i = 0; i < sizeof attrs / sizeof *attrs; i++) {
    PyObject *v = PyObject_GetAttrString(fun, attrs[i]);
    if (!v) {
      PyErr_Clear();
      continue;
    }
    int rc = PyDict_SetItemString(*dict, attrs[i], v);
    Py_DECREF(v);
    if (rc < 0) return -1;
  }
  return PyDict_SetItemString(*dict, "__wrapped__", fun);
}

static PyObject *grad_call(PyObject *self, PyObject *args, PyObject *kwargs) {
  GradFn *g = (GradFn *)self;
  const char *tag = g->with_value ? "[value_and_grad]" : "[grad]";
  pylz_release_pending();
  Py_ssize_t nargs = PyTuple_GET_SIZE(args);
  if (g->nargnums > 0 && g->argnums[g->nargnums - 1] >= nargs) {
    PyErr_Format(PyExc_ValueError,
                 "%s Can't compute the gradient of argument index %d because "
                 "the function is called with only %zd positional arguments.",
                 tag, g->argnums[g->nargnums - 1], nargs);
    return NULL;
  }
  Py_ssize_t nnames = PyTuple_GET_SIZE(g->argnames);
  for (Py_ssize_t i = 0; i < nnames; i++) {
    PyObject *k = PyTuple_GET_ITEM(g->argnames, i);
    int has = kwargs ? PyDict_Contains(kwargs, k) : 0;
    if (has < 0) return NULL;
    if (!has) {
      PyObject *keys = kwargs ? PyDict_Keys(kwargs) : PyList_New(0);
      if (keys)
        PyErr_Format(PyExc_ValueError,
                     "%s Can't compute the gradient of keyword argument '%U' "
                     "because the function is called with the following keyword arguments %R",
                     tag, k, keys);
      Py_XDECREF(keys);
      return NULL;
    }
  }
  /* The array leaves of the differentiated arguments are the closure's inputs; the other
   * arguments are passed as they are (an nn.Module stays one). */
  Py_ssize_t nitems = nargs + (kwargs ? PyDict_GET_SIZE(kwargs) : 0);
  PyObject *flat = PyList_New(0), *result = NULL;
  Py_ssize_t nslots = 0;
  char *keep = PyMem_RawCalloc((size_t)nitems + 1, 1);
  lz_closure *c = NULL;
  lz_array **prim = NULL, **vjps = NULL;
  if (!flat || !keep) {
    if (!PyErr_Occurred()) PyErr_NoMemory();
    PyMem_RawFree(keep);
    goto fail;
  }
  int j = 0;
  for (Py_ssize_t i = 0; i < nargs + (kwargs ? PyDict_GET_SIZE(kwargs) : 0); i++) {
    PyObject *item, *key = NULL;
    int needs;
    if (i < nargs) {
      item = PyTuple_GET_ITEM(args, i);
      needs = j < g->nargnums && g->argnums[j] == i;
      if (needs) j++;
    } else {
      Py_ssize_t p = 0, want = i - nargs, at = 0;
      PyObject *v;
      item = NULL;
      while (PyDict_Next(kwargs, &p, &key, &v))
        if (at++ == want) {
          item = v;
          break;
        }
      needs = 0;
      for (Py_ssize_t q = 0; q < nnames && !needs; q++) {
        int eq = PyUnicode_Compare(key, PyTuple_GET_ITEM(g->argnames, q)) == 0;
        needs = eq;
      }
    }
    keep[i] = !needs;
    if (needs && pylz_tree_collect(item, flat, 1) < 0) {
      PyMem_RawFree(keep);
      goto fail;
    }
  }
  nslots = PyList_GET_SIZE(flat);
  pylz_fn *p;
  if (!(c = pylz_fn_closure(g->fun, g->with_value ? PYLZ_OUT_LOSS : PYLZ_OUT_SCALAR, tag, &p))) {
    PyMem_RawFree(keep);
    goto fail;
  }
  p->args = Py_NewRef(args);
  p->kwargs = kwargs ? Py_NewRef(kwargs) : NULL;
  p->keep = keep;
  prim = PyMem_Malloc((size_t)(nslots + 1) * sizeof *prim);
  vjps = PyMem_Calloc((size_t)nslots + 1, sizeof *vjps);
  if (!prim || !vjps) {
    PyErr_NoMemory();
    goto fail;
  }
  for (Py_ssize_t i = 0; i < nslots; i++) prim[i] = ((PyLzArray *)PyList_GET_ITEM(flat, i))->a;
  /* A weak 1.0 seeds the loss's cotangent in the loss's own dtype. */
  lz_array *seed = lz_float(1.0), *loss = NULL;
  int rc = seed ? lz_vjp(c, prim, (int)nslots, &seed, 1, &loss, vjps) : -1;
  lz_free(seed);
  if (rc < 0) {
    pylz_xform_raise();
    goto fail;
  }
  lz_free(loss); /* the same array as the loss inside p->result */
  PyObject *grads = PyList_New(nslots);
  if (!grads) goto fail_vjps;
  for (Py_ssize_t i = 0; i < nslots; i++) {
    PyObject *w = pylz_wrap(vjps[i]);
    vjps[i] = NULL;
    if (!w) {
      Py_DECREF(grads);
      goto fail_vjps;
    }
    PyList_SET_ITEM(grads, i, w);
  }
  /* Put the gradients in the shape of their arguments. */
  PyObject *pos_grads = NULL, *res_grads = NULL;
  Py_ssize_t at = 0;
  if (g->nargnums == 1) {
    pos_grads = pylz_tree_unflatten(PyTuple_GET_ITEM(args, g->argnums[0]), grads, &at);
  } else if (g->nargnums > 1) {
    pos_grads = PyTuple_New(g->nargnums);
    for (int i = 0; pos_grads && i < g->nargnums; i++) {
      PyObject *t = pylz_tree_unflatten(PyTuple_GET_ITEM(args, g->argnums[i]), grads, &at);
      if (!t)
        Py_CLEAR(pos_grads);
      else
        PyTuple_SET_ITEM(pos_grads, i, t);
    }
  } else {
    pos_grads = Py_NewRef(Py_None);
  }
  if (pos_grads && nnames == 0) {
    res_grads = Py_NewRef(pos_grads);
  } else if (pos_grads) {
    PyObject *kw = PyDict_New(), *k, *v;
    Py_ssize_t p2 = 0;
    while (kw && PyDict_Next(kwargs, &p2, &k, &v)) {
      int needs = 0;
      for (Py_ssize_t q = 0; q < nnames && !needs; q++)
        needs = PyUnicode_Compare(k, PyTuple_GET_ITEM(g->argnames, q)) == 0;
      if (!needs) continue;
      PyObject *t = pylz_tree_unflatten(v, grads, &at);
      if (!t || PyDict_SetItem(kw, k, t) < 0) Py_CLEAR(kw);
      Py_XDECREF(t);
    }
    if (kw) res_grads = PyTuple_Pack(2, pos_grads, kw);
    Py_XDECREF(kw);
  }
  Py_XDECREF(pos_grads);
  Py_DECREF(grads);
  if (!res_grads) goto fail;
  if (g->with_value) {
    result = PyTuple_Pack(2, p->result, res_grads);
    Py_DECREF(res_grads);
  } else {
    result = res_grads;
  }
  goto fail; /* shared clean-up */
fail_vjps:
  for (Py_ssize_t i = 0; i < nslots; i++) lz_free(vjps[i]);
fail:
  lz_closure_free(c);
  PyMem_Free(prim), PyMem_Free(vjps);
  Py_XDECREF(flat);
  return result;
}

static int grad_traverse(PyObject *self, visitproc visit, void *arg) {
  GradFn *g = (GradFn *)self;
  Py_VISIT(g->fun);
  Py_VISIT(g->dict);
  return 0;
}

static int grad_clear(PyObject *self) {
  GradFn *g = (GradFn *)self;
  Py_CLEAR(g->fun);
  Py_CLEAR(g->dict);
  return 0;
}

static void grad_dealloc(PyObject *self) {
  GradFn *g = (GradFn *)self;
  PyObject_GC_UnTrack(self);
  if (g->weakreflist) PyObject_ClearWeakRefs(self);
  grad_clear(self);
  Py_CLEAR(g->argnames); /* strings only: no cycle, so not part of clear/traverse */
  PyMem_Free(g->argnums);
  Py_TYPE(self)->tp_free(self);
}

PyObject *pylz_bind_method(PyObject *self, PyObject *obj, PyObject *type) {
  (void)type;
  if (!obj || obj == Py_None) return Py_NewRef(self);
  return PyMethod_New(self, obj); /* a transformed function used as a method binds self */
}

static PyTypeObject GradFn_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core._TransformedFunction",
    .tp_basicsize = sizeof(GradFn),
    .tp_dealloc = grad_dealloc,
    .tp_call = grad_call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = grad_traverse,
    .tp_clear = grad_clear,
    .tp_descr_get = pylz_bind_method,
    .tp_weaklistoffset = offsetof(GradFn, weakreflist),
    .tp_dictoffset = offsetof(GradFn, dict),
    .tp_doc = "A function transformed by grad or value_and_grad.",
};

static PyObject *make_grad(PyObject *args, PyObject *kwargs, int with_value) {
  static char *kwlist[] = {"fun", "argnums", "argnames", NULL};
  PyObject *fun, *argnums = Py_None, *argnames = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, with_value ? "O|OO:value_and_grad" : "O|OO:grad",
                                   kwlist, &fun, &argnums, &argnames))
    return NULL;
  if (!PyCallable_Check(fun)) {
    PyErr_Format(PyExc_TypeError, "%s fun must be callable, got %s",
                 with_value ? "[value_and_grad]" : "[grad]", pylz_type_name(fun));
    return NULL;
  }
  GradFn *g = PyObject_GC_New(GradFn, &GradFn_Type);
  if (!g) return NULL;
  g->fun = Py_NewRef(fun);
  g->argnames = NULL, g->argnums = NULL, g->nargnums = 0, g->dict = NULL, g->weakreflist = NULL;
  g->with_value = with_value;
  PyObject_GC_Track(g);
  PyObject *empty = NULL;
  if (!argnames) argnames = empty = PyTuple_New(0);
  int rc = argnames
               ? parse_argnums(with_value ? "[value_and_grad]" : "[grad]", argnums, argnames, g)
               : -1;
  Py_XDECREF(empty);
  if (rc < 0 || pylz_copy_wraps(&g->dict, fun) < 0) {
    Py_DECREF(g);
    return NULL;
  }
  return (PyObject *)g;
}

static PyObject *py_grad(PyObject *self, PyObject *args, PyObject *kwargs) {
  (void)self;
  return make_grad(args, kwargs, 0);
}

static PyObject *py_value_and_grad(PyObject *self, PyObject *args, PyObject *kwargs) {
  (void)self;
  return make_grad(args, kwargs, 1);
}

/* ---- vjp and jvp ----------------------------------------------------------------------- */

/* A list of arrays from a list/tuple argument (MLX: list[array]). */
static PyObject *array_list(PyObject *o, const char *tag, const char *what) {
  PyObject *seq = PyList_Check(o) || PyTuple_Check(o) ? PySequence_List(o) : NULL;
  if (!seq) {
    if (!PyErr_Occurred())
      PyErr_Format(PyExc_TypeError, "%s %s must be a list of arrays, got %s", tag, what,
                   pylz_type_name(o));
    return NULL;
  }
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(seq); i++) {
    PyObject *x = PyList_GET_ITEM(seq, i);
    if (PyLzArray_Check(x)) continue;
    lz_array *a = pylz_to_array(x);
    PyObject *w = a ? pylz_wrap(a) : NULL;
    if (!w) {
      PyErr_Clear();
      PyErr_Format(PyExc_TypeError, "%s %s must be a list of arrays; item %zd is %s", tag, what, i,
                   pylz_type_name(x));
      Py_DECREF(seq);
      return NULL;
    }
    PyList_SetItem(seq, i, w);
  }
  return seq;
}

static lz_array **c_arrays(PyObject *list) {
  Py_ssize_t n = PyList_GET_SIZE(list);
  lz_array **v = PyMem_Malloc((size_t)(n + 1) * sizeof *v);
  if (!v) return (lz_array **)PyErr_NoMemory();
  for (Py_ssize_t i = 0; i < n; i++) v[i] = ((PyLzArray *)PyList_GET_ITEM(list, i))->a;
  return v;
}

/* A list of n arrays, taking over the references. */
static PyObject *wrap_list(lz_array **v, Py_ssize_t n) {
  PyObject *l = PyList_New(n);
  for (Py_ssize_t i = 0; i < n; i++) {
    if (!l) {
      lz_free(v[i]);
      continue;
    }
    PyObject *w = pylz_wrap(v[i]);
    if (!w)
      Py_CLEAR(l);
    else
      PyList_SET_ITEM(l, i, w);
  }
  return l;
}

static PyObject *vjp_jvp(PyObject *args, PyObject *kwargs, int forward) {
  static char *kwlist_v[] = {"fun", "primals", "cotangents", NULL};
  static char *kwlist_j[] = {"fun", "primals", "tangents", NULL};
  const char *tag = forward ? "[jvp]" : "[vjp]";
  PyObject *fun, *po, *co;
  pylz_release_pending();
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, forward ? "OOO:jvp" : "OOO:vjp",
                                   forward ? kwlist_j : kwlist_v, &fun, &po, &co))
    return NULL;
  if (!PyCallable_Check(fun)) {
    PyErr_Format(PyExc_TypeError, "%s fun must be callable, got %s", tag, pylz_type_name(fun));
    return NULL;
  }
  PyObject *prim = array_list(po, tag, "primals");
  PyObject *cot = prim ? array_list(co, tag, forward ? "tangents" : "cotangents") : NULL;
  PyObject *result = NULL;
  lz_array **pv = NULL, **cv = NULL, *outs[LZ_MAX_OUTPUTS], **res = NULL;
  lz_closure *c = NULL;
  pylz_fn *p;
  if (!cot) goto done;
  Py_ssize_t n = PyList_GET_SIZE(prim), m = PyList_GET_SIZE(cot);
  if (forward && m != n) {
    PyErr_Format(PyExc_ValueError,
                 "[jvp] Number of tangents (%zd) does not match the number of "
                 "primals (%zd).",
                 m, n);
    goto done;
  }
  if (!(pv = c_arrays(prim)) || !(cv = c_arrays(cot))) goto done;
  if (!(c = pylz_fn_closure(fun, PYLZ_OUT_ARRAYS, tag, &p))) goto done;
  p->args = PyTuple_New(n); /* fun(*primals) */
  if (!p->args) goto done;
  for (Py_ssize_t i = 0; i < n; i++)
    PyTuple_SET_ITEM(p->args, i, Py_NewRef(PyList_GET_ITEM(prim, i)));
  if (forward) {
    lz_array *tans[LZ_MAX_OUTPUTS];
    p->pack_ok = 1;
    int k = lz_jvp(c, pv, (int)n, cv, outs, tans);
    if (k < 0) {
      pylz_xform_raise();
      goto done;
    }
    PyObject *o, *t;
    if (p->layout) { /* many outputs came packed (with their tangents) */
      o = pylz_unpack(p->layout, outs, k, 0);
      t = pylz_unpack(p->layout, tans, k, 0);
      for (int j = 0; j < k; j++) lz_free(outs[j]), lz_free(tans[j]);
    } else {
      o = wrap_list(outs, k), t = wrap_list(tans, k);
    }
    if (o && t) result = PyTuple_Pack(2, o, t);
    Py_XDECREF(o), Py_XDECREF(t);
  } else {
    if (!(res = PyMem_Calloc((size_t)n + 1, sizeof *res))) {
      PyErr_NoMemory();
      goto done;
    }
    for (int j = 0; j < LZ_MAX_OUTPUTS; j++) outs[j] = NULL;
    /* many outputs travel packed per dtype: so do their cotangents (same dtypes, same order) */
    lz_array *packed[LZ_MAX_OUTPUTS];
    PyObject *clayout = NULL;
    int nc = (int)m;
    if (m > LZ_MAX_OUTPUTS) {
      p->pack_ok = 1;
      if ((nc = pylz_pack(cv, m, packed, &clayout)) < 0) goto done;
    }
    int rc = lz_vjp(c, pv, (int)n, clayout ? packed : cv, nc, outs, res);
    for (int j = 0; clayout && j < nc; j++) lz_free(packed[j]);
    Py_XDECREF(clayout);
    if (rc < 0) {
      pylz_xform_raise();
      goto done;
    }
    PyObject *o, *t = wrap_list(res, n);
    if (p->layout) {
      o = pylz_unpack(p->layout, outs, nc, 0);
      for (int j = 0; j < nc; j++) lz_free(outs[j]);
    } else {
      o = wrap_list(outs, nc);
    }
    if (o && t) result = PyTuple_Pack(2, o, t);
    Py_XDECREF(o), Py_XDECREF(t);
  }
done:
  lz_closure_free(c);
  PyMem_Free(pv), PyMem_Free(cv), PyMem_Free(res);
  Py_XDECREF(prim), Py_XDECREF(cot);
  return result;
}

static PyObject *py_vjp(PyObject *self, PyObject *args, PyObject *kwargs) {
  (void)self;
  return vjp_jvp(args, kwargs, 0);
}

static PyObject *py_jvp(PyObject *self, PyObject *args, PyObject *kwargs) {
  (void)self;
  return vjp_jvp(args, kwargs, 1);
}

/* ---- vmap ------------------------------------------------------------------------------ */

typedef struct {
  PyObject_HEAD PyObject *fun, *in_axes, *out_axes;
  PyObject *dict;
} VmapFn;

static PyTypeObject VmapFn_Type;

static PyObject *vmap_call(PyObject *self, PyObject *args, PyObject *kwargs) {
  VmapFn *v = (VmapFn *)self;
  pylz_release_pending();
  if (kwargs && PyDict_GET_SIZE(kwargs)) {
    PyErr_SetString(PyExc_TypeError, "[vmap] The vectorized function takes positional "
                                     "arguments only");
    return NULL;
  }
  PyObject *flat = pylz_tree_flatten(args, 1), *result = NULL, *outs = NULL;
  pylz_ints in_axes = {0}, out_axes = {0};
  lz_closure *c = NULL, *vm = NULL;
  lz_array **iv = NULL, *res[LZ_MAX_OUTPUTS];
  int k = 0;
  if (!flat) goto done;
  PyObject *axes_tree = PyTuple_GET_SIZE(args) == 1 ? PyTuple_GET_ITEM(args, 0) : args;
  if (pylz_tree_axes(axes_tree, v->in_axes, 0, &in_axes) < 0) goto done;
  int mapped = 0;
  for (Py_ssize_t i = 0; i < in_axes.n; i++) mapped |= in_axes.v[i] != LZ_VMAP_NONE;
  if (!mapped) {
    PyErr_SetString(PyExc_ValueError, "[vmap] At least one of the inputs must be vmapped.");
    goto done;
  }
  pylz_fn *p;
  if (!(c = pylz_fn_closure(v->fun, PYLZ_OUT_STRICT, "[vmap]", &p))) goto done;
  p->args = Py_NewRef(args);
  p->pack_ok = 1;
  if (!(iv = c_arrays(flat))) goto done;
  if (!(vm = lz_vmap(c, in_axes.v, (int)in_axes.n, NULL, 0))) {
    pylz_xform_raise();
    goto done;
  }
  k = lz_closure_call(vm, iv, (int)PyList_GET_SIZE(flat), res);
  if (k < 0) {
    k = 0;
    pylz_xform_raise();
    goto done;
  }
  if (p->layout) { /* many outputs came packed: slice them apart behind the batch axis */
    outs = pylz_unpack(p->layout, res, k, 1);
    for (int j = 0; j < k; j++) lz_free(res[j]);
  } else {
    outs = wrap_list(res, k);
  }
  k = 0;
  if (!outs) goto done;
  /* the outputs are batched along axis 0: move each to its out axis */
  PyObject *structure = p->result;
  Py_ssize_t pos = 0;
  PyObject *batched = pylz_tree_unflatten(structure, outs, &pos);
  if (!batched) goto done;
  /* out axes count in the batched outputs' dims (an example's ndim + 1) */
  if (pylz_tree_axes(batched, v->out_axes, 1, &out_axes) < 0) {
    Py_DECREF(batched);
    goto done;
  }
  PyObject *moved = PyList_New(PyList_GET_SIZE(outs));
  for (Py_ssize_t i = 0; moved && i < PyList_GET_SIZE(outs); i++) {
    lz_array *a = ((PyLzArray *)PyList_GET_ITEM(outs, i))->a, *b;
    int ax = out_axes.v[i];
    if (ax == LZ_VMAP_NONE) {
      /* not mapped: every example's value is the same; the first stands for all */
      lz_array *i0 = lz_int(0);
      b = lz_take(a, i0, 0);
      lz_free(i0);
    } else {
      b = ax == 0 ? lz_retain(a) : lz_moveaxis(a, 0, ax);
    }
    PyObject *w = pylz_wrap(b);
    if (!w)
      Py_CLEAR(moved);
    else
      PyList_SET_ITEM(moved, i, w);
  }
  Py_DECREF(batched);
  if (moved) {
    pos = 0;
    result = pylz_tree_unflatten(structure, moved, &pos);
    Py_DECREF(moved);
  }
done:
  lz_closure_free(vm), lz_closure_free(c);
  PyMem_Free(iv);
  pylz_ints_free(&in_axes), pylz_ints_free(&out_axes);
  Py_XDECREF(flat), Py_XDECREF(outs);
  return result;
}

static int vmap_clear(PyObject *self);

static void vmap_dealloc(PyObject *self) {
  PyObject_GC_UnTrack(self);
  vmap_clear(self);
  Py_TYPE(self)->tp_free(self);
}

static int vmap_traverse(PyObject *self, visitproc visit, void *arg) {
  VmapFn *v = (VmapFn *)self;
  Py_VISIT(v->fun);
  Py_VISIT(v->in_axes);
  Py_VISIT(v->out_axes);
  Py_VISIT(v->dict);
  return 0;
}

static int vmap_clear(PyObject *self) {
  VmapFn *v = (VmapFn *)self;
  Py_CLEAR(v->fun);
  Py_CLEAR(v->in_axes);
  Py_CLEAR(v->out_axes);
  Py_CLEAR(v->dict);
  return 0;
}

static PyTypeObject VmapFn_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "lazuli.core._VectorizedFunction",
    .tp_basicsize = sizeof(VmapFn),
    .tp_dealloc = vmap_dealloc,
    .tp_call = vmap_call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = vmap_traverse,
    .tp_clear = vmap_clear,
    .tp_descr_get = pylz_bind_method,
    .tp_dictoffset = offsetof(VmapFn, dict),
    .tp_doc = "A function vectorized by vmap.",
};

static PyObject *py_vmap(PyObject *self, PyObject *args, PyObject *kwargs) {
  (void)self;
  static char *kwlist[] = {"fun", "in_axes", "out_axes", NULL};
  PyObject *fun, *in_axes = NULL, *out_axes = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OO:vmap", kwlist, &fun, &in_axes, &out_axes))
    return NULL;
  if (!PyCallable_Check(fun)) {
    PyErr_Format(PyExc_TypeError, "[vmap] fun must be callable, got %s", pylz_type_name(fun));
    return NULL;
  }
  VmapFn *v = PyObject_GC_New(VmapFn, &VmapFn_Type);
  if (!v) return NULL;
  v->fun = Py_NewRef(fun);
  v->in_axes = in_axes ? Py_NewRef(in_axes) : PyLong_FromLong(0);
  v->out_axes = out_axes ? Py_NewRef(out_axes) : PyLong_FromLong(0);
  v->dict = NULL;
  PyObject_GC_Track(v);
  if (!v->in_axes || !v->out_axes || pylz_copy_wraps(&v->dict, fun) < 0) {
    Py_DECREF(v);
    return NULL;
  }
  return (PyObject *)v;
}

/* ---- the module's functions ----------------------------------------------------------- */

static PyMethodDef methods[] = {
    {"eval", py_eval, METH_VARARGS,
     "eval(*args) -> None\n\n"
     "Evaluate an :class:`array` or tree of :class:`array`.\n\n"
     "Args:\n    *args (arrays or trees of arrays): Each argument can be a single array or a "
     "tree of\n      arrays (nested lists, tuples and dicts). Leaves which are not arrays are "
     "ignored.\n\nThe kernels run with the GIL released, so other Python threads go on."},
    {"async_eval", py_async_eval, METH_VARARGS,
     "async_eval(*args) -> None\n\n"
     "Asynchronously evaluate an :class:`array` or tree of :class:`array`: the computation "
     "starts on\na background thread and the call returns at once; reading a result waits for "
     "it.\n\nArgs:\n    *args (arrays or trees of arrays): as for :func:`eval`; leaves which are "
     "not arrays are ignored."},
    {"grad", (PyCFunction)(void (*)(void))py_grad, METH_VARARGS | METH_KEYWORDS,
     "grad(fun: Callable, argnums: Optional[Union[int, Sequence[int]]] = None, argnames: "
     "Union[str, Sequence[str]] = []) -> Callable\n\n"
     "Returns a function which computes the gradient of ``fun``.\n\n"
     "Args:\n    fun (Callable): A function which takes a variable number of :class:`array` or "
     "trees\n      of :class:`array` and returns a scalar output :class:`array`.\n"
     "    argnums (int or list(int), optional): Specify the index (or indices) of the "
     "positional\n      arguments of ``fun`` to compute the gradient with respect to. If neither "
     "``argnums``\n      nor ``argnames`` are provided ``argnums`` defaults to ``0``.\n"
     "    argnames (str or list(str), optional): Specify keyword arguments of ``fun`` to "
     "compute\n      gradients with respect to. Defaults to [].\n\n"
     "Returns:\n    Callable: A function which has the same input arguments as ``fun`` and "
     "returns the\n    gradient(s): one tree per argnum (a tuple for several), and with "
     "``argnames`` a pair\n    (positional gradients, dict of keyword gradients)."},
    {"value_and_grad", (PyCFunction)(void (*)(void))py_value_and_grad, METH_VARARGS | METH_KEYWORDS,
     "value_and_grad(fun: Callable, argnums: Optional[Union[int, Sequence[int]]] = None, "
     "argnames: Union[str, Sequence[str]] = []) -> Callable\n\n"
     "Returns a function which computes the value and gradient of ``fun``.\n\n"
     "The function passed to :func:`value_and_grad` should return either a scalar loss or a "
     "tuple\nin which the first element is a scalar loss and the remaining elements can be "
     "anything.\n\n"
     "Args:\n    fun (Callable): A function which takes a variable number of :class:`array` or "
     "trees\n      of :class:`array` and returns a scalar output :class:`array` or a tuple the "
     "first\n      element of which should be a scalar :class:`array`.\n"
     "    argnums (int or list(int), optional): the positional arguments to differentiate "
     "(default 0).\n"
     "    argnames (str or list(str), optional): the keyword arguments to differentiate.\n\n"
     "Returns:\n    Callable: A function which returns a tuple where the first element is the "
     "output of\n    ``fun`` and the second element is the gradients w.r.t. the loss."},
    {"vjp", (PyCFunction)(void (*)(void))py_vjp, METH_VARARGS | METH_KEYWORDS,
     "vjp(fun: Callable, primals: list[array], cotangents: list[array]) -> tuple[list[array], "
     "list[array]]\n\n"
     "Compute the vector-Jacobian product.\n\n"
     "Computes the product of the ``cotangents`` with the Jacobian of a function ``fun`` "
     "evaluated\nat ``primals``.\n\n"
     "Args:\n    fun (Callable): A function which takes a variable number of :class:`array` and "
     "returns\n      a single :class:`array` or list of :class:`array`.\n"
     "    primals (list(array)): A list of :class:`array` at which to evaluate the Jacobian.\n"
     "    cotangents (list(array)): A list of :class:`array` which are the \"vector\" in the\n"
     "      vector-Jacobian product, the same in number, shape and type as the outputs of "
     "``fun``.\n\n"
     "Returns:\n    tuple(list(array), list(array)): The outputs of ``fun`` and the "
     "vector-Jacobian\n    products, one per primal."},
    {"jvp", (PyCFunction)(void (*)(void))py_jvp, METH_VARARGS | METH_KEYWORDS,
     "jvp(fun: Callable, primals: list[array], tangents: list[array]) -> tuple[list[array], "
     "list[array]]\n\n"
     "Compute the Jacobian-vector product.\n\n"
     "This computes the product of the Jacobian of a function ``fun`` evaluated at "
     "``primals``\nwith the ``tangents``.\n\n"
     "Args:\n    fun (Callable): A function which takes a variable number of :class:`array` and "
     "returns\n      a single :class:`array` or list of :class:`array`.\n"
     "    primals (list(array)): A list of :class:`array` at which to evaluate the Jacobian.\n"
     "    tangents (list(array)): A list of :class:`array` which are the \"vector\" in the\n"
     "      Jacobian-vector product, the same in number, shape and type as the primals.\n\n"
     "Returns:\n    tuple(list(array), list(array)): The outputs of ``fun`` and the "
     "Jacobian-vector\n    products, one per output."},
    {"vmap", (PyCFunction)(void (*)(void))py_vmap, METH_VARARGS | METH_KEYWORDS,
     "vmap(fun: Callable, in_axes: object = 0, out_axes: object = 0) -> Callable\n\n"
     "Returns a vectorized version of ``fun``.\n\n"
     "Args:\n    fun (Callable): A function which takes a variable number of :class:`array` or "
     "a tree\n      of :class:`array` and returns a variable number of :class:`array` or a tree "
     "of :class:`array`.\n"
     "    in_axes (int, optional): An integer or a valid prefix tree of the inputs to ``fun``\n"
     "      where each node specifies the vmapped axis. If the value is ``None`` then the\n"
     "      corresponding input(s) are not vmapped. Defaults to ``0``.\n"
     "    out_axes (int, optional): An integer or a valid prefix tree of the outputs of "
     "``fun``\n      where each node specifies the vmapped axis. If the value is ``None`` then "
     "the\n      corresponding outputs(s) are not vmapped. Defaults to ``0``.\n\n"
     "Returns:\n    Callable: The vectorized function."},
    {NULL, NULL, 0, NULL},
};

int pylz_init_transforms(PyObject *m) {
  if (PyType_Ready(&GradFn_Type) < 0 || PyType_Ready(&VmapFn_Type) < 0) return -1;
  if (PyModule_AddFunctions(m, methods) < 0) return -1;
  if (pylz_init_custom(m) < 0 || pylz_init_compile(m) < 0) return -1;
  return 0;
}
