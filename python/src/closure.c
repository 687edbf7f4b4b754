/* lazuli.core: Python callables as liblazuli closures (pylz_fn, see xform.h), shared by every
 * transform: the call's arguments rebuilt around the closure's inputs, Python run with Lazuli's
 * scopes suspended (so every array Python holds is its own), the result's array leaves handed
 * back; a Python exception raised there kept on the thread and re-raised once the transform
 * returns; Python objects released from any thread; and the helpers of the transformed-function
 * types (grad's, vmap's, compile's). */
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

/* ---- helpers of the transformed-function types (grad, vmap, compile) ---- */

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

PyObject *pylz_bind_method(PyObject *self, PyObject *obj, PyObject *type) {
  (void)type;
  if (!obj || obj == Py_None) return Py_NewRef(self);
  return PyMethod_New(self, obj); /* a transformed function used as a method binds self */
}

lz_array **pylz_c_arrays(PyObject *list) {
  Py_ssize_t n = PyList_GET_SIZE(list);
  lz_array **v = PyMem_Malloc((size_t)(n + 1) * sizeof *v);
  if (!v) return (lz_array **)PyErr_NoMemory();
  for (Py_ssize_t i = 0; i < n; i++) v[i] = ((PyLzArray *)PyList_GET_ITEM(list, i))->a;
  return v;
}

PyObject *pylz_wrap_list(lz_array **v, Py_ssize_t n) {
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
