/* lazuli.core: MLX's file functions (save, savez, savez_compressed, save_safetensors, save_gguf,
 * load) over the C library's readers and writers. Files are named by a str or os.PathLike;
 * a binary file object works too: it goes through a temporary file (loading from one is then
 * eager, since the temporary file is removed before returning). */
#include "ops_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { FMT_NPY, FMT_NPZ, FMT_SAFETENSORS, FMT_GGUF, FMT_NONE };
static const char *const fmt_ext[] = {"npy", "npz", "safetensors", "gguf"};

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix);
}

static int is_file_object(PyObject *o, const char *method) {
  return !PyUnicode_Check(o) && !PyBytes_Check(o) && PyObject_HasAttrString(o, method) &&
         !PyObject_HasAttrString(o, "__fspath__");
}

/* The path of `o` (str or os.PathLike) as a new str object with `.ext` appended when missing
 * (when ext is not NULL). */
static PyObject *path_of(PyObject *o, const char *ext) {
  PyObject *p = PyOS_FSPath(o);
  if (!p) return NULL;
  if (!PyUnicode_Check(p)) {
    Py_DECREF(p);
    return pyops_type_error("file", "a str, a path or a file object", o), NULL;
  }
  if (!ext) return p;
  const char *s = PyUnicode_AsUTF8(p);
  if (!s) {
    Py_DECREF(p);
    return NULL;
  }
  char dot_ext[32];
  snprintf(dot_ext, sizeof dot_ext, ".%s", ext);
  if (ends_with(s, dot_ext)) return p;
  PyObject *q = PyUnicode_FromFormat("%U%s", p, dot_ext);
  Py_DECREF(p);
  return q;
}

/* A fresh temporary file name ending in `.ext` (created empty); the caller unlinks it. */
static int temp_path(char *buf, size_t cap, const char *ext) {
  const char *dir = getenv("TMPDIR");
  snprintf(buf, cap, "%s/lazuli-XXXXXX.%s", dir && *dir ? dir : "/tmp", ext);
  int fd = mkstemps(buf, (int)strlen(ext) + 1);
  if (fd < 0) {
    PyErr_SetFromErrnoWithFilename(PyExc_OSError, buf);
    return -1;
  }
  close(fd);
  return 0;
}

/* Writes the whole temporary file at `path` to the file object `f` (f.write(bytes)). */
static int copy_to_object(const char *path, PyObject *f) {
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
    return -1;
  }
  fseek(fp, 0, SEEK_END);
  long n = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  PyObject *bytes = PyBytes_FromStringAndSize(NULL, n > 0 ? n : 0);
  if (!bytes) {
    fclose(fp);
    return -1;
  }
  size_t got = n > 0 ? fread(PyBytes_AS_STRING(bytes), 1, (size_t)n, fp) : 0;
  fclose(fp);
  if ((long)got != (n > 0 ? n : 0)) {
    Py_DECREF(bytes);
    PyErr_Format(PyExc_OSError, "[save] could not read back %s", path);
    return -1;
  }
  PyObject *r = PyObject_CallMethod(f, "write", "O", bytes);
  Py_DECREF(bytes);
  if (!r) return -1;
  Py_DECREF(r);
  return 0;
}

/* The writer: writes to `path`. Returns 0 or -1 (a Lazuli error pending, or a Python one). */
typedef int (*writer_fn)(const char *path, void *ctx);

/* Runs `write` on the file named by `ofile` (extension `ext` appended when missing) or, for a
 * file object, on a temporary file copied into it. */
static PyObject *save_to(PyObject *ofile, const char *ext, writer_fn write, void *ctx) {
  if (is_file_object(ofile, "write")) {
    char tmp[4096];
    if (temp_path(tmp, sizeof tmp, ext) < 0) return NULL;
    int rc = write(tmp, ctx);
    if (rc == 0)
      rc = copy_to_object(tmp, ofile);
    else if (!PyErr_Occurred())
      pylz_raise();
    unlink(tmp);
    if (rc < 0) return NULL;
    Py_RETURN_NONE;
  }
  PyObject *p = path_of(ofile, ext);
  if (!p) return NULL;
  const char *path = PyUnicode_AsUTF8(p);
  int rc = path ? write(path, ctx) : -1;
  Py_DECREF(p);
  if (rc < 0) return PyErr_Occurred() ? NULL : pylz_raise();
  Py_RETURN_NONE;
}

static int write_npy(const char *path, void *ctx) { return lz_save_npy(path, (lz_array *)ctx); }

static PyObject *py_save(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "save";
  static char *kws[] = {"file", "arr", NULL};
  PyObject *ofile, *oarr;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO:save", kws, &ofile, &oarr)) return NULL;
  lz_array *a = pylz_to_array(oarr);
  if (!a) return NULL;
  if (pylz_eval_array(a) < 0) {
    lz_free(a);
    return NULL;
  }
  PyObject *res = save_to(ofile, "npy", write_npy, a);
  lz_free(a);
  return res;
}

/* A non-empty list or tuple of str as a string list under `key`: 1 when set, 0 when `v` is not
 * one, -1 on failure. */
static int set_string_list(lz_dict *out, const char *key, PyObject *v) {
  if (!(PyList_Check(v) || PyTuple_Check(v)) || PySequence_Fast_GET_SIZE(v) == 0) return 0;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(v);
  for (Py_ssize_t i = 0; i < n; i++)
    if (!PyUnicode_Check(PySequence_Fast_GET_ITEM(v, i))) return 0;
  const char **strs = PyMem_Calloc((size_t)n, sizeof *strs);
  if (!strs) return PyErr_NoMemory(), -1;
  int rc = 0;
  for (Py_ssize_t i = 0; i < n && rc == 0; i++)
    if (!(strs[i] = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(v, i)))) rc = -1;
  if (rc == 0 && lz_dict_set_strings(out, key, strs, (size_t)n) < 0) rc = -1;
  PyMem_Free(strs);
  return rc < 0 ? -1 : 1;
}

enum { DICT_ARRAYS, DICT_STRINGS, DICT_GGUF_METADATA };

/* A Python dict as a new lz_dict: name -> array-like (DICT_ARRAYS), name -> str (DICT_STRINGS,
 * safetensors metadata), or name -> str, list of str or array-like (DICT_GGUF_METADATA). */
static lz_dict *dict_from_py(PyObject *d, int strings, const char *what) {
  if (!PyDict_Check(d)) {
    pyops_type_error(what, "a dict", d);
    return NULL;
  }
  lz_dict *out = lz_dict_new();
  if (!out) {
    PyErr_NoMemory();
    return NULL;
  }
  Py_ssize_t pos = 0;
  PyObject *k, *v;
  int rc_list;
  while (PyDict_Next(d, &pos, &k, &v)) {
    if (!PyUnicode_Check(k)) {
      pyops_type_error("keys", "str", k);
      goto fail;
    }
    const char *key = PyUnicode_AsUTF8(k);
    if (!key) goto fail;
    if (strings == DICT_GGUF_METADATA && PyUnicode_Check(v)) {
      const char *str = PyUnicode_AsUTF8(v);
      if (!str || lz_dict_set_string(out, key, str) < 0) goto fail;
    } else if (strings == DICT_GGUF_METADATA && (rc_list = set_string_list(out, key, v)) != 0) {
      if (rc_list < 0) goto fail;
    } else if (strings == DICT_STRINGS) {
      if (!PyUnicode_Check(v)) {
        PyErr_Format(PyExc_ValueError, "[%s] %s values must be str, not %.100s", pyops_name, what,
                     Py_TYPE(v)->tp_name);
        goto fail;
      }
      const char *s = PyUnicode_AsUTF8(v);
      if (!s || lz_dict_set_string(out, key, s) < 0) goto fail;
    } else {
      lz_array *a = pylz_to_array(v);
      if (!a) goto fail;
      int rc = lz_dict_set(out, key, a);
      lz_free(a);
      if (rc < 0) goto fail;
    }
  }
  return out;
fail:
  if (!PyErr_Occurred()) pylz_raise();
  lz_dict_free(out);
  return NULL;
}

typedef struct {
  lz_dict *arrays, *metadata;
  bool compressed;
} save_ctx;

static int write_npz(const char *path, void *c) {
  save_ctx *s = c;
  return lz_save_npz(path, s->arrays, s->compressed);
}
static int write_safetensors(const char *path, void *c) {
  save_ctx *s = c;
  return lz_save_safetensors(path, s->arrays, s->metadata);
}
static int write_gguf(const char *path, void *c) {
  save_ctx *s = c;
  return lz_save_gguf(path, s->arrays, s->metadata);
}

/* savez(file, *args, **kwargs): positional arrays are named arr_0, arr_1, ... */
static PyObject *savez_impl(PyObject *args, PyObject *kw, bool compressed) {
  Py_ssize_t n = PyTuple_GET_SIZE(args);
  if (n < 1) {
    PyErr_SetString(PyExc_TypeError, "savez() missing required argument 'file'");
    return NULL;
  }
  save_ctx ctx = {lz_dict_new(), NULL, compressed};
  if (!ctx.arrays) return PyErr_NoMemory();
  PyObject *res = NULL;
  for (Py_ssize_t i = 1; i < n; i++) {
    char name[32];
    snprintf(name, sizeof name, "arr_%zd", i - 1);
    lz_array *a = pylz_to_array(PyTuple_GET_ITEM(args, i));
    if (!a) goto done;
    int rc = lz_dict_set(ctx.arrays, name, a);
    lz_free(a);
    if (rc < 0) {
      pylz_raise();
      goto done;
    }
  }
  if (kw) {
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(kw, &pos, &k, &v)) {
      const char *key = PyUnicode_AsUTF8(k);
      if (!key) goto done;
      if (lz_dict_contains(ctx.arrays, key)) {
        PyErr_Format(PyExc_ValueError, "[savez] Cannot use un-named variables and keyword %s", key);
        goto done;
      }
      lz_array *a = pylz_to_array(v);
      if (!a) goto done;
      int rc = lz_dict_set(ctx.arrays, key, a);
      lz_free(a);
      if (rc < 0) {
        pylz_raise();
        goto done;
      }
    }
  }
  res = save_to(PyTuple_GET_ITEM(args, 0), "npz", write_npz, &ctx);
done:
  lz_dict_free(ctx.arrays);
  return res;
}

static PyObject *py_savez(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "savez";
  return savez_impl(args, kw, false);
}

static PyObject *py_savez_compressed(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "savez_compressed";
  return savez_impl(args, kw, true);
}

/* save_safetensors / save_gguf(file, arrays, metadata=None). */
static PyObject *save_named(PyObject *args, PyObject *kw, int gguf) {
  static char *kws[] = {"file", "arrays", "metadata", NULL};
  PyObject *ofile, *oarrays, *ometa = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O", kws, &ofile, &oarrays, &ometa)) return NULL;
  save_ctx ctx = {NULL, NULL, false};
  PyObject *res = NULL;
  if (!(ctx.arrays = dict_from_py(oarrays, DICT_ARRAYS, "arrays"))) goto done;
  if (ometa != Py_None &&
      !(ctx.metadata = dict_from_py(ometa, gguf ? DICT_GGUF_METADATA : DICT_STRINGS, "metadata")))
    goto done;
  res = gguf ? save_to(ofile, "gguf", write_gguf, &ctx)
             : save_to(ofile, "safetensors", write_safetensors, &ctx);
done:
  lz_dict_free(ctx.arrays);
  lz_dict_free(ctx.metadata);
  return res;
}

static PyObject *py_save_safetensors(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "save_safetensors";
  return save_named(args, kw, 0);
}

static PyObject *py_save_gguf(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "save_gguf";
  return save_named(args, kw, 1);
}

/* A string list of an lz_dict as a Python list of str. */
static PyObject *strings_to_py(const char *const *strs, int64_t n) {
  PyObject *list = PyList_New((Py_ssize_t)n);
  for (int64_t i = 0; list && i < n; i++) {
    PyObject *s = PyUnicode_FromString(strs[i]);
    if (!s) {
      Py_CLEAR(list);
      break;
    }
    PyList_SET_ITEM(list, (Py_ssize_t)i, s);
  }
  return list;
}

/* An lz_dict as a Python dict: arrays wrapped, strings as str, string lists as lists of str. */
static PyObject *dict_to_py(const lz_dict *d) {
  PyObject *out = PyDict_New();
  if (!out) return NULL;
  size_t n = lz_dict_size(d);
  for (size_t i = 0; i < n; i++) {
    const char *key = lz_dict_key(d, i);
    lz_array *a = lz_dict_value(d, i);
    const char *const *strs;
    int64_t nstrs = a ? -1 : lz_dict_get_strings(d, key, &strs);
    PyObject *v = a            ? pylz_wrap(a)
                  : nstrs >= 0 ? strings_to_py(strs, nstrs)
                               : PyUnicode_FromString(lz_dict_get_string(d, key));
    if (!v || PyDict_SetItemString(out, key, v) < 0) {
      Py_XDECREF(v);
      Py_DECREF(out);
      return NULL;
    }
    Py_DECREF(v);
  }
  return out;
}

static PyObject *load_path(const char *path, int fmt, bool want_meta, int eager) {
  lz_dict *d = NULL, *meta = NULL;
  PyObject *res = NULL;
  if (fmt == FMT_NPY) {
    lz_array *a = lz_load_npy(path);
    if (!a) return pylz_raise();
    if (eager && pylz_eval_array(a) < 0) {
      lz_free(a);
      return NULL;
    }
    return pylz_wrap(a);
  }
  char link[4096];
  link[0] = 0;
  if (fmt == FMT_GGUF && want_meta && !ends_with(path, ".gguf")) {
    /* The typed GGUF metadata comes from lz_load_with_metadata, which tells the format by the
     * extension: read through a link named .gguf, eagerly since the link goes away. */
    if (temp_path(link, sizeof link, "gguf") < 0) return NULL;
    char *full = realpath(path, NULL);
    int ok = full && unlink(link) == 0 && symlink(full, link) == 0;
    free(full);
    if (!ok) {
      PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
      unlink(link);
      return NULL;
    }
    path = link;
    eager = 1;
  }
  d = fmt == FMT_NPZ           ? lz_load_npz(path)
      : fmt == FMT_SAFETENSORS ? lz_load_safetensors(path, want_meta ? &meta : NULL)
      : want_meta              ? lz_load_with_metadata(path, &meta)
                               : lz_load_gguf(path, NULL);
  if (!d) {
    if (link[0]) unlink(link);
    return pylz_raise();
  }
  if (eager && lz_dict_eval(d) < 0) {
    pylz_raise();
    goto done;
  }
  PyObject *arrays = dict_to_py(d);
  if (!arrays || !want_meta) {
    res = arrays;
    goto done;
  }
  PyObject *m = meta ? dict_to_py(meta) : PyDict_New();
  if (!m) {
    Py_DECREF(arrays);
    goto done;
  }
  res = PyTuple_Pack(2, arrays, m);
  Py_DECREF(arrays);
  Py_DECREF(m);
done:
  if (link[0]) unlink(link);
  lz_dict_free(d);
  lz_dict_free(meta);
  return res;
}

static int format_of(const char *name, int *fmt) {
  for (int i = 0; i < FMT_NONE; i++) {
    if (!strcmp(name, fmt_ext[i])) {
      *fmt = i;
      return 0;
    }
  }
  PyErr_Format(PyExc_ValueError, "[load] Invalid format: %s", name);
  return -1;
}

/* The format from the path's extension. */
static int format_of_path(const char *path, int *fmt) {
  const char *dot = strrchr(path, '.');
  const char *slash = strrchr(path, '/');
  if (!dot || (slash && dot < slash)) {
    PyErr_Format(PyExc_ValueError,
                 "[load] Could not infer file format from extension of %s; pass format=", path);
    return -1;
  }
  return format_of(dot + 1, fmt);
}

static PyObject *py_load(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "load";
  static char *kws[] = {"", "format", "return_metadata", "stream", NULL};
  PyObject *ofile, *oformat = Py_None, *ometa = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OO$O:load", kws, &ofile, &oformat, &ometa, &stream))
    return NULL;
  bool want_meta = false;
  int fmt = FMT_NONE;
  if (pyops_bool(ometa, &want_meta, "return_metadata") < 0) return NULL;
  if (oformat != Py_None) {
    const char *s;
    if (pyops_str(oformat, &s, "format") < 0 || format_of(s, &fmt) < 0) return NULL;
  }
  if (is_file_object(ofile, "read")) {
    if (fmt == FMT_NONE) {
      PyObject *name = PyObject_GetAttrString(ofile, "name");
      const char *s = name && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
      int rc = s ? format_of_path(s, &fmt) : -1;
      Py_XDECREF(name);
      if (rc < 0) {
        if (!s) {
          PyErr_Clear();
          PyErr_SetString(PyExc_ValueError,
                          "[load] Could not infer the format of a file object; pass format=");
        }
        return NULL;
      }
    }
    if (want_meta && (fmt == FMT_NPY || fmt == FMT_NPZ)) {
      PyErr_Format(PyExc_ValueError, "[load] metadata not supported for format %s", fmt_ext[fmt]);
      return NULL;
    }
    PyObject *bytes = PyObject_CallMethod(ofile, "read", NULL);
    if (!bytes) return NULL;
    if (!PyBytes_Check(bytes)) {
      Py_DECREF(bytes);
      PyErr_SetString(PyExc_TypeError, "[load] the file object must be opened in binary mode");
      return NULL;
    }
    char tmp[4096];
    if (temp_path(tmp, sizeof tmp, fmt_ext[fmt]) < 0) {
      Py_DECREF(bytes);
      return NULL;
    }
    FILE *fp = fopen(tmp, "wb");
    size_t n = (size_t)PyBytes_GET_SIZE(bytes);
    int ok = fp && fwrite(PyBytes_AS_STRING(bytes), 1, n, fp) == n;
    if (fp) ok = fclose(fp) == 0 && ok;
    Py_DECREF(bytes);
    PyObject *res =
        ok ? load_path(tmp, fmt, want_meta, 1) : PyErr_SetFromErrnoWithFilename(PyExc_OSError, tmp);
    unlink(tmp);
    return res;
  }
  PyObject *p = path_of(ofile, NULL);
  if (!p) return NULL;
  const char *path = PyUnicode_AsUTF8(p);
  PyObject *res = NULL;
  if (path && (fmt != FMT_NONE || format_of_path(path, &fmt) == 0)) {
    if (want_meta && (fmt == FMT_NPY || fmt == FMT_NPZ))
      PyErr_Format(PyExc_ValueError, "[load] metadata not supported for format %s", fmt_ext[fmt]);
    else
      res = load_path(path, fmt, want_meta, 0);
  }
  Py_DECREF(p);
  return res;
}

static PyMethodDef methods[] = {
    PYOPS_F(
        "save", py_save,
        "save(file: file | str | pathlib.Path, arr: array) -> None\n\nSaves ``arr`` as a ``.npy`` "
        "file (the extension is added when missing)."),
    PYOPS_F(
        "savez", py_savez,
        "savez(file: file | str | pathlib.Path, *args, **kwargs)\n\nSaves arrays to an "
        "uncompressed ``.npz`` file: positional ones as ``arr_0``, ``arr_1``, ..., keyword ones "
        "under their names."),
    PYOPS_F("savez_compressed", py_savez_compressed,
            "savez_compressed(file: file | str | pathlib.Path, *args, **kwargs)\n\nLike "
            ":func:`savez`, deflate-compressed."),
    PYOPS_F("save_safetensors", py_save_safetensors,
            "save_safetensors(file: file | str | pathlib.Path, arrays: dict[str, array], metadata: "
            "dict[str, str] | None = None)\n\nSaves named arrays and string metadata as "
            "``.safetensors``."),
    PYOPS_F(
        "save_gguf", py_save_gguf,
        "save_gguf(file: file | str | pathlib.Path, arrays: dict[str, array], metadata: dict[str, "
        "array | str | list[str]])\n\nSaves named arrays as ``.gguf`` with typed metadata: a "
        "str, a list of str, or a scalar or 1-D array (its dtype is the GGUF type)."),
    PYOPS_F(
        "load", py_load,
        "load(file: file | str | pathlib.Path, /, format: str | None = None, return_metadata: bool "
        "= False, *, stream: StreamOrDevice = None) -> array | dict[str, array] | "
        "tuple[dict[str, array], dict[str, Any]]\n\nLoads ``.npy`` (an array), ``.npz``, "
        "``.safetensors`` or ``.gguf`` (a dict of arrays, with the metadata too when "
        "``return_metadata``: str for safetensors; for GGUF str, list of str, or arrays of the "
        "value's type). Arrays read their data lazily, when evaluated."),
    {NULL, NULL, 0, NULL},
};

int pylz_init_io(PyObject *m) { return pyops_add_functions(m, methods); }
