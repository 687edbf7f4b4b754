/* lazuli.core.linalg: MLX's linear algebra module over lz_linalg_*. */
#include "ops_impl.h"

#include <math.h>
#include <string.h>

typedef lz_array *(*mat_fn)(lz_array *);
typedef lz_array *(*mat_upper_fn)(lz_array *, bool);
typedef int (*mat_multi_fn)(lz_array *, lz_array **);

/* inv, pinv, eigvals: (a, *, stream). */
static PyObject *one_call(PyObject *args, PyObject *kw, mat_fn fn) {
  static char *kws[] = {"a", "stream", NULL};
  PyObject *x, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$O", kws, &x, &stream)) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = fn(a);
  lz_free(a);
  return pylz_wrap(r);
}

/* tri_inv, cholesky, cholesky_inv: (a, upper=False, *, stream). */
static PyObject *upper_call(PyObject *args, PyObject *kw, mat_upper_fn fn) {
  static char *kws[] = {"a", "upper", "stream", NULL};
  PyObject *x, *oup = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O", kws, &x, &oup, &stream)) return NULL;
  bool upper = false;
  if (pyops_bool(oup, &upper, "upper") < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *r = fn(a, upper);
  lz_free(a);
  return pylz_wrap(r);
}

/* qr, lu, lu_factor, eig: (a, *, stream) -> a tuple of `nout` arrays. */
static PyObject *multi_out(PyObject *x, mat_multi_fn fn, int nout) {
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *outs[3] = {NULL, NULL, NULL};
  int rc = fn(a, outs);
  lz_free(a);
  if (rc < 0) return pylz_raise();
  return pyops_wrap_many(outs, nout, 0);
}

#define MULTI(NAME, FN, N)                                                                         \
  static PyObject *py_##NAME(PyObject *self, PyObject *args, PyObject *kw) {                       \
    pyops_name = #NAME;                                                                            \
    static char *kws[] = {"a", "stream", NULL};                                                    \
    PyObject *x, *stream = NULL;                                                                   \
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$O:" #NAME, kws, &x, &stream)) return NULL;      \
    return multi_out(x, FN, N);                                                                    \
  }
MULTI(qr, lz_linalg_qr, 2)
MULTI(lu, lz_linalg_lu, 3)
MULTI(lu_factor, lz_linalg_lu_factor, 2)
MULTI(eig, lz_linalg_eig, 2)

static PyObject *py_svd(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "svd";
  static char *kws[] = {"a", "compute_uv", "stream", NULL};
  PyObject *x, *ouv = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O:svd", kws, &x, &ouv, &stream)) return NULL;
  bool uv = true;
  if (pyops_bool(ouv, &uv, "compute_uv") < 0) return NULL;
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  lz_array *outs[3] = {NULL, NULL, NULL};
  int rc = lz_linalg_svd(a, uv, outs);
  lz_free(a);
  if (rc < 0) return pylz_raise();
  if (!uv) return pylz_wrap(outs[0]);
  return pyops_wrap_many(outs, 3, 0);
}

/* eigh and eigvalsh: (a, UPLO='L', *, stream). */
static PyObject *eigh_impl(PyObject *args, PyObject *kw, int vectors) {
  static char *kws[] = {"a", "UPLO", "stream", NULL};
  PyObject *x, *ouplo = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$O", kws, &x, &ouplo, &stream)) return NULL;
  const char *uplo = "L";
  if (ouplo && pyops_str(ouplo, &uplo, "UPLO") < 0) return NULL;
  if (strcmp(uplo, "L") && strcmp(uplo, "U")) {
    PyErr_Format(PyExc_ValueError, "[%s] UPLO must be 'L' or 'U', got '%s'",
                 vectors ? "eigh" : "eigvalsh", uplo);
    return NULL;
  }
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  if (!vectors) {
    lz_array *r = lz_linalg_eigvalsh(a, uplo);
    lz_free(a);
    return pylz_wrap(r);
  }
  lz_array *outs[2] = {NULL, NULL};
  int rc = lz_linalg_eigh(a, uplo, outs);
  lz_free(a);
  if (rc < 0) return pylz_raise();
  return pyops_wrap_many(outs, 2, 0);
}

static PyObject *py_eigh(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "eigh";
  return eigh_impl(args, kw, 1);
}

static PyObject *py_eigvalsh(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "eigvalsh";
  return eigh_impl(args, kw, 0);
}

static PyObject *py_norm(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "norm";
  static char *kws[] = {"", "ord", "axis", "keepdims", "stream", NULL};
  PyObject *x, *oord = Py_None, *oaxis = Py_None, *okeep = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOO$O:norm", kws, &x, &oord, &oaxis, &okeep,
                                   &stream))
    return NULL;
  pyops_ints axes;
  int all;
  bool keepdims = false;
  if (pyops_axes(oaxis, &axes, &all, "axis") < 0 || pyops_bool(okeep, &keepdims, "keepdims") < 0)
    return NULL;
  const char *sord = NULL;
  double dord = 0;
  if (oord != Py_None) {
    if (PyUnicode_Check(oord)) {
      if (pyops_str(oord, &sord, "ord") < 0) return NULL;
    } else if (pyops_double(oord, &dord, "ord") < 0) {
      return NULL;
    }
  }
  lz_array *a = pylz_to_array(x);
  if (!a) return NULL;
  const int *ax = all ? NULL : axes.v;
  int n = all ? 0 : axes.n;
  lz_array *r = oord == Py_None ? lz_linalg_norm(a, ax, n, keepdims)
                : sord          ? lz_linalg_norm_str(a, sord, ax, n, keepdims)
                                : lz_linalg_norm_ord(a, dord, ax, n, keepdims);
  lz_free(a);
  return pylz_wrap(r);
}

static PyObject *py_solve(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "solve";
  static char *kws[] = {"a", "b", "stream", NULL};
  PyObject *oa, *ob, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$O:solve", kws, &oa, &ob, &stream)) return NULL;
  lz_array *a, *b;
  if (PYOPS_CONVERT(PYOPS_ARRAY(oa, &a), PYOPS_ARRAY(ob, &b)) < 0) return NULL;
  PyObject *res = pylz_wrap(lz_linalg_solve(a, b));
  PYOPS_FREE(a, b);
  return res;
}

static PyObject *py_solve_triangular(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "solve_triangular";
  static char *kws[] = {"a", "b", "upper", "stream", NULL};
  PyObject *oa, *ob, *oup = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|$OO:solve_triangular", kws, &oa, &ob, &oup,
                                   &stream))
    return NULL;
  bool upper = false;
  if (pyops_bool(oup, &upper, "upper") < 0) return NULL;
  lz_array *a, *b;
  if (PYOPS_CONVERT(PYOPS_ARRAY(oa, &a), PYOPS_ARRAY(ob, &b)) < 0) return NULL;
  PyObject *res = pylz_wrap(lz_linalg_solve_triangular(a, b, upper));
  PYOPS_FREE(a, b);
  return res;
}

static PyObject *py_cross(PyObject *self, PyObject *args, PyObject *kw) {
  pyops_name = "cross";
  static char *kws[] = {"a", "b", "axis", "stream", NULL};
  PyObject *oa, *ob, *oaxis = NULL, *stream = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O$O:cross", kws, &oa, &ob, &oaxis, &stream))
    return NULL;
  int axis = -1;
  if (oaxis && pyops_int(oaxis, &axis, "axis") < 0) return NULL;
  lz_array *a, *b;
  if (PYOPS_CONVERT(PYOPS_ARRAY(oa, &a), PYOPS_ARRAY(ob, &b)) < 0) return NULL;
  PyObject *res = pylz_wrap(lz_linalg_cross(a, b, axis));
  PYOPS_FREE(a, b);
  return res;
}

#define S1(NAME, RET) NAME "(a: array, *, stream: StreamOrDevice = None) -> " RET "\n\n"
#define SU(NAME, ARG)                                                                              \
  NAME "(" ARG ": array, upper: bool = False, *, stream: StreamOrDevice = None) -> array\n\n"
/* X(name, lz function, description) */
#define ONE(X)                                                                                     \
  X(inv, lz_linalg_inv, "The inverse of square matrices (the last two axes).")                     \
  X(pinv, lz_linalg_pinv, "The Moore-Penrose pseudo-inverse, through the SVD.")                    \
  X(eigvals, lz_linalg_eigvals, "The (complex64) eigenvalues of general square matrices.")
#define UPPER(X)                                                                                   \
  X(tri_inv, a, lz_linalg_tri_inv,                                                                 \
    "The inverse of triangular matrices (lower, or upper when ``upper``).")                        \
  X(cholesky, a, lz_linalg_cholesky,                                                               \
    "The Cholesky factor L (``a = L @ L.T``), or U when ``upper``.")                               \
  X(cholesky_inv, L, lz_linalg_cholesky_inv, "The inverse of ``A`` from its Cholesky factor.")

#define DEFINE_ONE(NAME, FN, TEXT)                                                                 \
  static PyObject *py_##NAME(PyObject *self, PyObject *args, PyObject *kw) {                       \
    pyops_name = #NAME;                                                                            \
    return one_call(args, kw, FN);                                                                 \
  }
#define DEFINE_UPPER(NAME, ARG, FN, TEXT)                                                          \
  static PyObject *py_##NAME(PyObject *self, PyObject *args, PyObject *kw) {                       \
    pyops_name = #NAME;                                                                            \
    return upper_call(args, kw, FN);                                                               \
  }
ONE(DEFINE_ONE)
UPPER(DEFINE_UPPER)
#define ROW_ONE(NAME, FN, TEXT) PYOPS_F(#NAME, py_##NAME, S1(#NAME, "array") TEXT),
#define ROW_UPPER(NAME, ARG, FN, TEXT) PYOPS_F(#NAME, py_##NAME, SU(#NAME, #ARG) TEXT),

static PyMethodDef methods[] = {
    ONE(ROW_ONE) UPPER(ROW_UPPER) PYOPS_F(
        "norm", py_norm,
        "norm(a: array, /, ord: None | int | float | str = None, axis: None | int | list[int] = "
        "None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array\n\nVector or "
        "matrix norms: the 2-norm/Frobenius norm by default, or the order ``ord`` (numbers, inf, "
        "'fro', 'nuc') over one or two axes."),
    PYOPS_F("qr", py_qr,
            S1("qr", "tuple[array, array]") "The reduced QR factorization ``(Q, R)``."),
    PYOPS_F(
        "svd", py_svd,
        "svd(a: array, compute_uv: bool = True, *, stream: StreamOrDevice = None) -> tuple[array, "
        "array, array] | array\n\nThe singular value decomposition ``(U, S, Vt)``, or ``S`` alone "
        "without ``compute_uv``."),
    PYOPS_F("lu", py_lu,
            S1("lu", "tuple[array, array, array]") "The LU factorization ``(P, L, U)`` with ``A = "
                                                   "L[P] @ U``; P holds uint32 row indices."),
    PYOPS_F(
        "lu_factor", py_lu_factor,
        S1("lu_factor", "tuple[array, array]") "LAPACK-style LU: the packed factors and the uint32 "
                                               "pivots."),
    PYOPS_F("eig", py_eig,
            S1("eig", "tuple[array, array]") "Eigenvalues and eigenvectors (complex64) of general "
                                             "square matrices."),
    PYOPS_F("eigh", py_eigh,
            "eigh(a: array, UPLO: str = 'L', *, stream: StreamOrDevice = None) -> tuple[array, "
            "array]\n\nEigenvalues (ascending) and eigenvectors of symmetric matrices, reading the "
            "``UPLO`` triangle."),
    PYOPS_F("eigvalsh", py_eigvalsh,
            "eigvalsh(a: array, UPLO: str = 'L', *, stream: StreamOrDevice = None) -> array\n\nThe "
            "eigenvalues (ascending) of symmetric matrices."),
    PYOPS_F("solve", py_solve,
            "solve(a: array, b: array, *, stream: StreamOrDevice = None) -> array\n\nThe solution "
            "``x`` of ``a @ x = b``."),
    PYOPS_F("solve_triangular", py_solve_triangular,
            "solve_triangular(a: array, b: array, *, upper: bool = False, stream: StreamOrDevice = "
            "None) -> array\n\nThe solution of ``a @ x = b`` for triangular ``a``."),
    PYOPS_F("cross", py_cross,
            "cross(a: array, b: array, axis: int = -1, *, stream: StreamOrDevice = None) -> "
            "array\n\nThe cross product of 3-vectors along ``axis``."),
    {NULL, NULL, 0, NULL},
};

int pylz_init_linalg(PyObject *m) {
  PyObject *sub = pylz_add_submodule(m, "linalg", methods,
                                     "lazuli.core.linalg: linear algebra, as mlx.core.linalg.");
  return sub ? 0 : -1;
}
