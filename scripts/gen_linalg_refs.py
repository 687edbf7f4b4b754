#!/usr/bin/env python3
"""Writes tests/data/linalg_refs.h: inputs and NumPy results for the matmul family and
linear algebra tests. Run from the repository root: python3 scripts/gen_linalg_refs.py"""
import numpy as np

rng = np.random.default_rng(20240611)
arrays = []  # (name, values)
cases = {}   # table name -> list of C initialisers


def num(x):
    x = float(x)
    if np.isnan(x):
        return "NAN"
    if np.isinf(x):
        return "INFINITY" if x > 0 else "-INFINITY"
    return repr(x)


def arr(x):
    name = "lzr_d%d" % len(arrays)
    arrays.append((name, np.asarray(x, dtype=np.float64).ravel()))
    return name


def small(shape):
    """Values k/4 with |k| <= 8: exact in float16 and bfloat16, so products are exact."""
    return rng.integers(-8, 9, size=shape).astype(np.float64) / 4


def shp(s):
    s = tuple(s)
    return "%d, {%s}" % (len(s), ", ".join(str(v) for v in s) or "0")


def case(table, name, ins, out, p0=0.0, p1=0.0, axes=None):
    ins = [np.asarray(x, dtype=np.float64) for x in ins]
    out = np.asarray(out, dtype=np.float64)
    fields = ["\"%s\"" % name, str(len(ins))]
    ndims = [str(x.ndim) for x in ins] + ["0"] * (4 - len(ins))
    shapes = ["{%s}" % (", ".join(str(v) for v in x.shape) or "0") for x in ins]
    shapes += ["{0}"] * (4 - len(ins))
    datas = [arr(x) for x in ins] + ["NULL"] * (4 - len(ins))
    fields.append("{%s}" % ", ".join(ndims))
    fields.append("{%s}" % ", ".join(shapes))
    fields.append("{%s}" % ", ".join(datas))
    fields.append(shp(out.shape))
    fields.append(arr(out))
    fields.append(num(p0))
    fields.append(num(p1))
    axes = list(axes or [])
    fields.append("%d, {%s}" % (len(axes), ", ".join(str(v) for v in axes) or "0"))
    cases.setdefault(table, []).append("{%s}" % ", ".join(fields))


# ---- matmul: (a shape, b shape) ----
for sa, sb in [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 6)), ((4,), (4, 5)),
               ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4,)), ((4,), (2, 4, 3)),
               ((3, 0), (0, 4)), ((0, 3), (3, 4)), ((1, 3, 4), (2, 4, 5)), ((4, 5), (3, 5, 2)),
               ((7, 1), (1, 6)), ((1, 6), (6, 1)), ((10, 4, 4), (10, 4, 4)),
               ((33, 65), (65, 17)), ((3, 2, 8, 9), (2, 9, 1))]:
    a, b = small(sa), small(sb)
    case("matmul", "matmul", [a, b], np.matmul(a, b))

# ---- addmm: c, a, b, alpha, beta ----
for sc, sa, sb, al, be in [((3, 5), (3, 4), (4, 5), 1.0, 1.0), ((5,), (2, 3, 4), (4, 5), 0.5, 2.0),
                           ((), (3, 4), (4, 2), 2.0, -1.0), ((3, 1), (3, 4), (4, 5), 1.0, 0.0)]:
    c, a, b = small(sc), small(sa), small(sb)
    case("addmm", "addmm", [c, a, b], al * np.matmul(a, b) + be * c, al, be)

# ---- tensordot with an axes count ----
for sa, sb, n in [((3, 4, 5), (4, 5, 2), 2), ((3, 4), (4, 2), 1), ((2, 3), (4, 5), 0),
                  ((2, 3, 4), (2, 3, 4), 3)]:
    a, b = small(sa), small(sb)
    case("tensordot", "tensordot", [a, b], np.tensordot(a, b, n), n)

# ---- einsum ----
for sub, shapes in [("ij,jk->ik", [(3, 4), (4, 5)]), ("ij,jk", [(3, 4), (4, 5)]),
                    ("ii->i", [(4, 4)]), ("ii", [(4, 4)]), ("ij->ji", [(3, 4)]), ("ij->", [(3, 4)]),
                    ("ij->j", [(3, 4)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
                    ("i,j->ij", [(3,), (4,)]), ("i,i->", [(5,), (5,)]),
                    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
                    ("abc,cd,bd->ad", [(2, 3, 4), (4, 5), (3, 5)]),
                    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]), ("i...->...", [(3, 2, 2)]),
                    ("ijk,ikj->k", [(2, 3, 3), (2, 3, 3)]), ("Ab,bC->CA", [(2, 3), (3, 4)]),
                    ("ij,ij->ij", [(2, 3), (2, 3)]), ("iij->j", [(3, 3, 2)]),
                    ("ab,cd,ef->", [(2, 2), (2, 3), (3, 2)])]:
    ops = [small(s) for s in shapes]
    case("einsum", sub, ops, np.einsum(sub, *ops))

# ---- linear algebra (random normal inputs) ----
def normal(shape):
    return rng.standard_normal(shape)


def spd(shape):
    x = normal(shape)
    return x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])


for s in [(4, 4), (2, 3, 3), (1, 1)]:
    a = normal(s) + 3 * np.eye(s[-1])
    case("inv", "inv", [a], np.linalg.inv(a))
    sign, logdet = np.linalg.slogdet(a)
    case("det", "det", [a], np.linalg.det(a))
    case("slogdet", "slogdet", [a], np.stack([sign, logdet]))
for s in [(4, 4), (2, 3, 3)]:
    a = spd(s)
    case("cholesky", "cholesky", [a], np.linalg.cholesky(a))
    w = np.linalg.eigvalsh(a)
    case("eigvalsh", "eigvalsh", [a], w)
for s in [(4, 3), (3, 5), (2, 4, 4)]:
    a = normal(s)
    case("svdvals", "svd", [a], np.linalg.svd(a, compute_uv=False))
    case("pinv", "pinv", [a], np.linalg.pinv(a))
for sa, sb in [((4, 4), (4, 2)), ((2, 3, 3), (2, 3, 1)), ((3, 3), (3,))]:
    a, b = normal(sa) + 3 * np.eye(sa[-1]), normal(sb)
    case("solve", "solve", [a, b], np.linalg.solve(a, b))
for ord_, axis, s in [(2, -1, (3, 4)), (1, 0, (3, 4)), (np.inf, 1, (3, 4)), (-np.inf, 1, (3, 4)),
                      (0, -1, (3, 4)), (3.5, -1, (3, 4)), ("fro", None, (3, 4)),
                      ("nuc", None, (3, 4)), (np.inf, None, (3, 4)), (-np.inf, None, (3, 4)),
                      (1, None, (3, 4)), (-1, None, (3, 4)), (2, None, (3, 4)),
                      (-2, None, (3, 4)), (None, None, (2, 3, 4)), ("fro", (0, 2), (2, 3, 4)),
                      (2, (2, 1), (2, 3, 4))]:
    a = normal(s)
    a.ravel()[1] = 0.0
    code = {"fro": 100.0, "nuc": 101.0, None: 102.0}[ord_] if ord_ in ("fro", "nuc", None) else float(ord_)
    ax = [] if axis is None else (list(axis) if isinstance(axis, tuple) else [axis])
    case("norm", "norm", [a], np.linalg.norm(a, ord_, axis), code, 0, ax)

with open("tests/data/linalg_refs.h", "w") as f:
    f.write("/* Generated by scripts/gen_linalg_refs.py (NumPy %s); do not edit. */\n" % np.__version__)
    f.write("#ifndef LZ_LINALG_REFS_H\n#define LZ_LINALG_REFS_H\n\n#include <math.h>\n#include <stddef.h>\n\n")
    f.write("typedef struct lzr_case {\n  const char *name; /* op or einsum subscripts */\n"
            "  int nin;\n  int ndim[4];\n  int shape[4][6];\n  const double *in[4];\n"
            "  int ondim;\n  int oshape[6];\n  const double *out;\n"
            "  double p0, p1; /* parameters: alpha and beta, tensordot's axes, norm's ord */\n"
            "  int naxes;\n  int axes[4];\n"
            "} lzr_case;\n\n")
    for name, v in arrays:
        body = ", ".join(num(x) for x in v)
        f.write("static const double %s[] = {%s};\n" % (name, body or "0"))
    for table, rows in cases.items():
        f.write("\nstatic const lzr_case lzr_%s[] = {\n" % table)
        for r in rows:
            f.write("    %s,\n" % r)
        f.write("};\n")
    f.write("\n#define LZR_COUNT(t) (sizeof(t) / sizeof((t)[0]))\n\n#endif /* LZ_LINALG_REFS_H */\n")
