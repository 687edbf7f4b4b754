/* Memory statistics and limits (MLX's names): get_active_memory, get_peak_memory,
 * reset_peak_memory, get_cache_memory, set_memory_limit, set_cache_limit, set_wired_limit,
 * clear_cache; and the `metal` submodule MLX keeps for its older, deprecated spellings
 * (mx.metal.get_active_memory ...), with is_available() False as on any machine without Metal. */
#include "ops_impl.h"

static size_t wired_limit; /* no wired memory on the CPU: only remembered */

static PyObject *get_active_memory(PyObject *m, PyObject *unused) {
  return PyLong_FromSize_t(lz_get_active_memory());
}
static PyObject *get_peak_memory(PyObject *m, PyObject *unused) {
  return PyLong_FromSize_t(lz_get_peak_memory());
}
static PyObject *reset_peak_memory(PyObject *m, PyObject *unused) {
  lz_reset_peak_memory();
  Py_RETURN_NONE;
}
static PyObject *get_cache_memory(PyObject *m, PyObject *unused) {
  return PyLong_FromSize_t(lz_get_cache_memory());
}
static PyObject *clear_cache(PyObject *m, PyObject *unused) {
  lz_clear_cache();
  Py_RETURN_NONE;
}

/* A byte count argument: a non-negative int. */
static int parse_limit(PyObject *args, PyObject *kwargs, const char *fmt, size_t *out) {
  static char *kwlist[] = {"limit", "relaxed", NULL};
  PyObject *limit, *relaxed = Py_None; /* `relaxed`: MLX's older signature, ignored */
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, fmt, kwlist, &limit, &relaxed)) return -1;
  if (!PyLong_Check(limit)) {
    PyErr_Format(PyExc_TypeError, "limit must be an int, not %.100s", Py_TYPE(limit)->tp_name);
    return -1;
  }
  size_t v = PyLong_AsSize_t(limit);
  if (v == (size_t)-1 && PyErr_Occurred()) {
    PyErr_Clear();
    PyErr_SetString(PyExc_ValueError, "limit must be a non-negative number of bytes");
    return -1;
  }
  *out = v;
  return 0;
}

static PyObject *set_memory_limit(PyObject *m, PyObject *args, PyObject *kwargs) {
  size_t v;
  if (parse_limit(args, kwargs, "O|$O:set_memory_limit", &v) < 0) return NULL;
  return PyLong_FromSize_t(lz_set_memory_limit(v));
}
static PyObject *set_cache_limit(PyObject *m, PyObject *args, PyObject *kwargs) {
  size_t v;
  if (parse_limit(args, kwargs, "O|$O:set_cache_limit", &v) < 0) return NULL;
  return PyLong_FromSize_t(lz_set_cache_limit(v));
}
static PyObject *set_wired_limit(PyObject *m, PyObject *args, PyObject *kwargs) {
  size_t v;
  if (parse_limit(args, kwargs, "O|$O:set_wired_limit", &v) < 0) return NULL;
  size_t old = wired_limit;
  wired_limit = v;
  return PyLong_FromSize_t(old);
}

#define MEMORY_FUNCTIONS                                                                           \
  {"get_active_memory", get_active_memory, METH_NOARGS,                                            \
   "get_active_memory() -> int\n\nThe bytes of array data currently allocated (not counting "      \
   "the cache)."},                                                                                 \
      {"get_peak_memory", get_peak_memory, METH_NOARGS,                                            \
       "get_peak_memory() -> int\n\nThe highest active memory since start or the last "            \
       "reset_peak_memory()."},                                                                    \
      {"reset_peak_memory", reset_peak_memory, METH_NOARGS,                                        \
       "reset_peak_memory() -> None\n\nReset the peak memory to zero."},                           \
      {"get_cache_memory", get_cache_memory, METH_NOARGS,                                          \
       "get_cache_memory() -> int\n\nThe bytes held in the buffer cache for reuse."},              \
      {"clear_cache", clear_cache, METH_NOARGS,                                                    \
       "clear_cache() -> None\n\nFree every cached buffer and the kernels' per-shape caches "      \
       "(oneDNN primitives, FFT plans)."},                                                         \
      PYOPS_F("set_memory_limit", set_memory_limit,                                                \
              "set_memory_limit(limit: int) -> int\n\nLimit the active memory in bytes "           \
              "(0: no limit); an allocation beyond it raises MemoryError. Returns the previous "   \
              "limit."),                                                                           \
      PYOPS_F("set_cache_limit", set_cache_limit,                                                  \
              "set_cache_limit(limit: int) -> int\n\nLimit the buffer cache in bytes (0 disables " \
              "caching). Returns the previous limit."),                                            \
      PYOPS_F("set_wired_limit", set_wired_limit,                                                  \
              "set_wired_limit(limit: int) -> int\n\nAccepted for MLX compatibility (there is no " \
              "wired memory on the CPU). Returns the previous value."),

static PyMethodDef memory_functions[] = {MEMORY_FUNCTIONS{NULL}};

static PyObject *metal_is_available(PyObject *m, PyObject *unused) { Py_RETURN_FALSE; }

static PyObject *metal_unavailable(PyObject *m, PyObject *args) {
  PyErr_SetString(PyExc_RuntimeError, "[metal] Metal is not available: Lazuli runs on the CPU.");
  return NULL;
}

static PyMethodDef metal_functions[] = {
    MEMORY_FUNCTIONS{"is_available", metal_is_available, METH_NOARGS,
                     "is_available() -> bool\n\nWhether Metal is available (never, on Lazuli)."},
    {"device_info", metal_unavailable, METH_VARARGS,
     "device_info() -> dict\n\nRaises "
     "RuntimeError: no Metal device."},
    {"start_capture", metal_unavailable, METH_VARARGS, "start_capture(path: str) -> None"},
    {"stop_capture", metal_unavailable, METH_VARARGS, "stop_capture() -> None"},
    {NULL},
};

int pylz_init_memory(PyObject *m) {
  if (PyModule_AddFunctions(m, memory_functions) < 0) return -1;
  return pylz_add_submodule(m, "metal", metal_functions,
                            "MLX's Metal functions: Lazuli has no Metal backend; the memory "
                            "functions here are the deprecated spellings of lazuli.core's.")
             ? 0
             : -1;
}
