#!/usr/bin/env python3
"""Generates tests/data/elementwise_refs.h: reference values of Lazuli's elementwise ops.

Run from the repository root: python3 scripts/gen_elementwise_refs.py
Inputs are rounded to their dtype first; references are computed by NumPy (integers in their
own dtype, so wrapping matches) or in float64 and rounded to the output dtype (bfloat16, which
NumPy lacks, is emulated by rounding float32 to nearest even). erf and erfinv come from mpmath.
"""
import math
import os
import sys

import mpmath
import numpy as np

NP = {"bool": np.bool_, "uint8": np.uint8, "uint16": np.uint16, "int8": np.int8,
      "int16": np.int16, "int32": np.int32, "int64": np.int64, "float16": np.float16,
      "bfloat16": np.float32, "float32": np.float32, "float64": np.float64}
FLOATS = ("float16", "bfloat16", "float32", "float64")
# Relative tolerances by output dtype for computed math, and for exact ops.
MATH_TOL = {"float16": 2e-3, "bfloat16": 1.6e-2, "float32": 4e-7, "float64": 1e-14}


def bf16(x):
    f = np.asarray(x, dtype=np.float64).astype(np.float32)
    u = f.view(np.uint32).astype(np.uint64)
    u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
    r = (u & 0xFFFFFFFF).astype(np.uint32).view(np.float32).astype(np.float64)
    r[np.isnan(f)] = np.nan
    return r


def to_dtype(x, dt):
    """Values of x (float64 or int) as stored in dtype dt, returned as a numpy array of dt."""
    x = np.asarray(x)
    if dt == "bfloat16":
        return bf16(x).astype(np.float32)
    return x.astype(NP[dt])


def as_f64(x, dt):
    return bf16(x) if dt == "bfloat16" else np.asarray(x, dtype=np.float64)


def cnum(v):
    v = float(v)
    if math.isnan(v):
        return "NAN"
    if math.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    if v == int(v) and abs(v) < 2**53:
        return "%d.0" % int(v) if v != 0 or math.copysign(1, v) > 0 else "-0.0"
    return repr(v)


class Out:
    def __init__(self):
        self.arrays, self.cases = [], {"unary": [], "binary": []}
        self.names = {}  # identical arrays are written once

    def arr(self, values):
        vals = ", ".join(cnum(v) for v in np.asarray(values, dtype=np.float64).ravel()) or "0"
        if vals not in self.names:
            self.names[vals] = "r%d" % len(self.arrays)
            self.arrays.append("static const double %s[] = {%s};" % (self.names[vals], vals))
        return self.names[vals]

    def case(self, kind, op, param, dt, odt, a, b, out, tol):
        sa = list(np.shape(a))
        sb = list(np.shape(b)) if b is not None else []
        fields = [
            '"%s"' % op, cnum(param), "LZ_" + dt.upper(), "LZ_" + odt.upper(),
            str(len(sa)), "{%s}" % ", ".join(map(str, sa or [0])),
            str(len(sb)), "{%s}" % ", ".join(map(str, sb or [0])),
            self.arr(a), self.arr(b) if b is not None else "NULL",
            str(np.size(out)), self.arr(out), repr(tol)]
        self.cases[kind].append("    {%s}," % ", ".join(fields))


def rounded(values, odt):
    """float64 results rounded to the output dtype, as float64."""
    v = np.asarray(values, dtype=np.float64)
    if odt == "bfloat16":
        return bf16(v)
    with np.errstate(all="ignore"):
        return v.astype(NP[odt]).astype(np.float64)


def mp1(f):
    def g(x):
        out = []
        for v in np.asarray(x, dtype=np.float64).ravel():
            if math.isnan(v):
                out.append(math.nan)
            elif f is mpmath.erfinv and abs(v) >= 1:
                out.append(math.copysign(math.inf, v) if abs(v) == 1 else math.nan)
            else:
                out.append(float(f(mpmath.mpf(v))))
        return np.array(out).reshape(np.shape(x))
    return g


mpmath.mp.prec = 80
with np.errstate(all="ignore"):
    MATH = {
        "sqrt": (np.sqrt, "pos"), "rsqrt": (lambda x: 1 / np.sqrt(x), "pos"),
        "reciprocal": (lambda x: 1 / x, "pos"), "exp": (np.exp, "gen"),
        "expm1": (np.expm1, "small"), "log": (np.log, "pos"), "log2": (np.log2, "pos"),
        "log10": (np.log10, "pos"), "log1p": (np.log1p, "small"), "sin": (np.sin, "gen"),
        "cos": (np.cos, "gen"), "tan": (np.tan, "tan"), "arcsin": (np.arcsin, "unit"),
        "arccos": (np.arccos, "unit"), "arctan": (np.arctan, "gen"), "sinh": (np.sinh, "gen"),
        "cosh": (np.cosh, "gen"), "tanh": (np.tanh, "gen"), "arcsinh": (np.arcsinh, "gen"),
        "arccosh": (np.arccosh, "ge1"), "arctanh": (np.arctanh, "unit"),
        "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), "gen"), "erf": (mp1(mpmath.erf), "gen"),
        "erfinv": (mp1(mpmath.erfinv), "unit"),
    }
DOMAINS = {  # float inputs; integer inputs use INT_DOMAINS
    "pos": [0.125, 0.5, 1, 1.5, 2, 3, 10, 100, 1000, 0, -1, np.inf, np.nan],
    "gen": [-3.5, -1.25, -0.5, -0.0, 0.0, 0.25, 0.75, 1.5, 2, 3, 10, -np.inf, np.inf, np.nan],
    "small": [-0.5, -0.125, -1e-3, 0, 1e-4, 0.01, 0.5, 2, -1, np.inf, np.nan],
    "tan": [-1.25, -0.5, 0, 0.25, 0.75, 1.5, 2, 3, np.nan],
    "unit": [-0.99, -0.75, -0.5, -0.1, 0, 0.1, 0.5, 0.9, 0.999, 1, -1, 2, np.nan],
    "ge1": [1, 1.5, 2, 3, 10, 100, 0.5, np.inf, np.nan],
}
INT_DOMAINS = {"pos": [1, 2, 3, 5, 10, 100], "gen": [-3, -1, 0, 1, 2, 3],
               "small": [0, 1, 2, 3], "tan": [-1, 0, 1, 2, 3], "unit": [-1, 0, 1],
               "ge1": [1, 2, 3, 10]}


def gen_math(out):
    for op, (f, dom) in MATH.items():
        for dt in FLOATS + ("int32", "uint8", "int8", "bool"):
            if dt in FLOATS:
                vals = DOMAINS[dom]
                if dt == "float16" and op in ("exp", "sinh", "cosh"):
                    vals = [v for v in vals if not (isinstance(v, (int, float)) and v == 10)]
                odt = dt
            else:
                if dt == "bool" and op not in ("exp", "sqrt", "sin"):
                    continue
                vals = [0, 1] if dt == "bool" else INT_DOMAINS[dom]
                if dt == "uint8":
                    vals = [v for v in vals if v >= 0]
                odt = "float32"
            a = to_dtype(vals, dt)
            with np.errstate(all="ignore"):
                ref = rounded(f(as_f64(a, dt)), odt)
            out.case("unary", op, 0, dt, odt, as_f64(a, dt), None, ref, MATH_TOL[odt])


def gen_same(out):
    ints = {"int8": [-128, -15, -5, -1, 0, 1, 5, 15, 25, 127],
            "uint8": [0, 1, 5, 15, 25, 200, 255],
            "int32": [-2**31, -15, -5, -1, 0, 1, 5, 15, 25, 46341, 2**31 - 1],
            "int64": [-2**40, -15, -5, -1, 0, 1, 5, 15, 25, 3037000500, 2**40]}
    flt = [-2.5, -1.5, -0.5, -0.0, 0.5, 1.5, 2.5, 1.25, -3.75, 0.15, 2.675, 123.456,
           np.inf, -np.inf, np.nan]
    ops = {
        "abs": np.abs, "negative": np.negative, "sign": np.sign, "square": np.square,
        "floor": np.floor, "ceil": np.ceil, "trunc": np.trunc, "round": lambda x: np.round(x, 0),
        "round1": lambda x: np.round(x, 1), "round2": lambda x: np.round(x, 2),
        "round-1": lambda x: np.round(x, -1),
    }
    for op, f in ops.items():
        for dt in ("int8", "uint8", "int32", "int64", "float16", "bfloat16", "float32", "float64"):
            if dt == "uint8" and op == "negative":
                vals = ints[dt]
            vals = ints.get(dt, flt)
            a = to_dtype(vals, dt)
            name, param = op, 0
            if op.startswith("round"):
                name, param = "round", int(op[5:] or 0)
            if dt in ints and name == "round" and param < 0:
                # NumPy rounds integers through float; the exact answer is the one we want.
                a = to_dtype([-25, -15, -5, 5, 15, 25, 35, 44, 45, 46, 0, 100], dt) \
                    if dt != "uint8" else to_dtype([5, 15, 25, 35, 44, 45, 46, 0, 100], dt)
            with np.errstate(all="ignore"):
                if dt == "bfloat16":  # NumPy has no bfloat16: compute in float32
                    r = bf16(f(a.astype(np.float32)).astype(np.float64))
                else:
                    r = f(a).astype(np.float64)
            out.case("unary", name, param, dt, dt, as_f64(a, dt), None, r, 0.0)


def gen_classes(out):
    vals = [np.nan, np.inf, -np.inf, 0, 1.5, -2, 65504]
    fns = {"isnan": np.isnan, "isinf": np.isinf, "isfinite": np.isfinite,
           "isposinf": np.isposinf, "isneginf": np.isneginf}
    for op, f in fns.items():
        for dt in FLOATS + ("int32", "uint8", "bool"):
            v = vals if dt in FLOATS else [0, 1, 1, 0]
            a = to_dtype(v, dt)
            out.case("unary", op, 0, dt, "bool", as_f64(a, dt), None,
                     f(as_f64(a, dt)).astype(np.float64), 0.0)
    big = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38,
           "float32": float(np.finfo(np.float32).max), "float64": float(np.finfo(np.float64).max)}
    for dt in FLOATS:
        a = to_dtype([np.nan, np.inf, -np.inf, 1.5, -2], dt)
        r = np.nan_to_num(as_f64(a, dt), nan=0.0, posinf=big[dt], neginf=-big[dt])
        out.case("unary", "nan_to_num", 0, dt, dt, as_f64(a, dt), None, r, 0.0)
    for dt in ("int8", "float32", "bool", "uint8"):
        v = [0, 1, 3, 0, 1] if dt != "float32" else [0, 1.5, np.nan, -0.0, -2]
        a = to_dtype(v, dt)
        out.case("unary", "logical_not", 0, dt, "bool", as_f64(a, dt), None,
                 np.logical_not(as_f64(a, dt)).astype(np.float64), 0.0)
    for dt, v in (("int8", [-128, -1, 0, 5, 127]), ("uint8", [0, 1, 200, 255]),
                  ("int32", [-7, 0, 12345]), ("int64", [-2**40, 0, 99]), ("bool", [0, 1])):
        a = to_dtype(v, dt)
        out.case("unary", "bitwise_invert", 0, dt, dt, as_f64(a, dt), None,
                 np.invert(a).astype(np.float64), 0.0)


def mlx_result(dt_a, dt_b):
    """MLX/NumPy promotion for the (same-kind) pairs used below."""
    return np.result_type(NP[dt_a], NP[dt_b]).name if "bfloat16" not in (dt_a, dt_b) else "bfloat16"


def gen_binary(out):
    A = {"int8": [100, -100, 7, -128], "uint8": [200, 3, 0, 255], "int32": [2**31 - 1, -7, 12, 0],
         "int64": [2**40, -7, 12, 0], "bool": [1, 0, 1, 0]}
    B = {"int8": [50, -3, 1, 0, -1], "uint8": [100, 7, 1, 0, 2], "int32": [3, -3, 2, 0, -1],
         "int64": [3, -3, 2, 0, -1], "bool": [1, 1, 0, 0, 1]}
    FA = [7.5, -7.5, 3.0, 0.0, -1.0, np.nan]
    FB = [2.0, -2.0, 0.5, 4.0, 0.0, -np.inf, np.inf]

    def run(op, f, dts, odt_of, tol, va=None, vb=None, param=0, shape="grid"):
        for dt in dts:
            a_vals = va(dt) if va else (A[dt] if dt in A else FA)
            b_vals = vb(dt) if vb else (B[dt] if dt in B else FB)
            a = to_dtype(a_vals, dt)
            b = to_dtype(b_vals, dt)
            if shape == "grid":
                a, b = a.reshape(-1, 1), b.reshape(1, -1)
            odt = odt_of(dt)
            with np.errstate(all="ignore"):
                if dt in FLOATS:
                    r = f(as_f64(a, dt), as_f64(b, dt))
                    r = rounded(r, odt) if odt != "bool" else r.astype(np.float64)
                else:
                    r = f(a, b).astype(np.float64)
                    if odt in FLOATS:
                        r = rounded(r, odt)
            t = (MATH_TOL[odt] if odt in MATH_TOL else 0.0) if tol == "math" else tol
            out.case("binary", op, param, dt, odt, as_f64(a, dt), as_f64(b, dt), r, t)

    ALL = ("int8", "uint8", "int32", "int64", "float16", "bfloat16", "float32", "float64")
    same = lambda dt: dt
    flt = lambda dt: dt if dt in FLOATS else "float32"
    boolean = lambda dt: "bool"
    for op, f in (("add", np.add), ("subtract", np.subtract), ("multiply", np.multiply),
                  ("maximum", np.maximum), ("minimum", np.minimum)):
        dts = ALL + (("bool",) if op != "subtract" else ())
        if op == "add":
            run(op, lambda x, y: np.logical_or(x, y) if x.dtype == np.bool_ else x + y,
                dts, same, 0.0)
        else:
            run(op, f, dts, same, 0.0)
    run("divide", lambda x, y: np.true_divide(x.astype(np.float64), y.astype(np.float64)),
        ("int8", "int32", "float16", "bfloat16", "float32", "float64"), flt, 0.0)
    # MLX's float floor_divide is floor(a / b); NumPy's differs for infinite divisors
    # (-1 // inf is -1 there, -0 here), so those are left out.
    run("floor_divide", lambda x, y: np.floor_divide(x, y), ALL, same, 0.0,
        vb=lambda dt: B[dt] if dt in B else [2.0, -2.0, 0.5, 4.0, 0.0])
    run("remainder", np.remainder, ALL, same, 0.0)
    pa = {"int8": [3, -2, 0, 1, -1], "uint8": [3, 2, 0, 255], "int32": [3, -2, 7, 0],
          "int64": [3, -2, 7, 0]}
    pb = {"int8": [0, 1, 2, 5, 7], "uint8": [0, 1, 2, 5, 9], "int32": [0, 1, 3, 11, 31],
          "int64": [0, 1, 3, 11, 40]}
    run("power", np.power, ALL, same, "math",
        va=lambda dt: pa.get(dt, [2.0, -1.5, 0.0, 0.5, 9.0, np.nan]),
        vb=lambda dt: pb.get(dt, [0.0, 1.0, 2.0, 0.5, -1.0, 3.0]))
    run("arctan2", np.arctan2, ("int32", "float16", "bfloat16", "float32", "float64"), flt, "math",
        va=lambda dt: [1, -1, 0, 3] if dt == "int32" else [1.0, -1.0, 0.0, -0.0, 2.5, np.inf],
        vb=lambda dt: [1, -1, 0, 2] if dt == "int32" else [1.0, -1.0, 0.0, -0.0, np.inf, -3.0])
    run("logaddexp", np.logaddexp, ("int32", "float16", "bfloat16", "float32", "float64"), flt,
        "math",
        va=lambda dt: [1, -1, 0, 3] if dt == "int32" else [1.0, -1.0, 0.0, 30.0, -np.inf, np.inf, np.nan],
        vb=lambda dt: [1, -1, 0, 2] if dt == "int32" else [1.0, -2.0, 0.5, -30.0, -np.inf])
    for op, f in (("equal", np.equal), ("not_equal", np.not_equal), ("less", np.less),
                  ("less_equal", np.less_equal), ("greater", np.greater),
                  ("greater_equal", np.greater_equal)):
        run(op, f, ALL + ("bool",), boolean, 0.0,
            va=lambda dt: A[dt] if dt in A else [1.0, -2.0, np.nan, 0.0],
            vb=lambda dt: A[dt] if dt in A else [1.0, np.nan, -0.0, -2.0, 3.0])
    for op, f in (("logical_and", np.logical_and), ("logical_or", np.logical_or),
                  ("logical_xor", np.logical_xor)):
        run(op, f, ("int8", "float32", "bool"), boolean, 0.0,
            va=lambda dt: [0, 1, 0, -1.5] if dt == "float32" else [0, 1, 0, 1],
            vb=lambda dt: [0, np.nan, 2] if dt == "float32" else [0, 1, 3])
    for op, f in (("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or),
                  ("bitwise_xor", np.bitwise_xor)):
        run(op, f, ("int8", "uint8", "int32", "int64", "bool"), same, 0.0)
    shift_t = lambda dt: {"bool": "uint8"}.get(dt, dt)  # MLX: result_type, bool as uint8
    for op, f in (("left_shift", np.left_shift), ("right_shift", np.right_shift)):
        for dt in ("int8", "uint8", "int32", "int64"):
            odt = shift_t(dt)
            a = to_dtype(A[dt] if dt != "uint8" else [1, 200, 255, 3], dt).reshape(-1, 1)
            b = to_dtype([0, 1, 3, 7, 8, 15, 16, 31, 32, 63, 64, 100], "int64")
            b = b[b < 2 ** (8 * np.dtype(NP[odt]).itemsize)].reshape(1, -1)
            bb = b.astype(NP[dt]) if dt != "uint8" else b.astype(np.uint8)
            with np.errstate(all="ignore"):
                r = f(a.astype(NP[odt]), bb.astype(NP[odt])).astype(np.float64)
            out.case("binary", op, 0, dt, odt, as_f64(a, dt), bb.astype(np.float64), r, 0.0)
    for dt in ("float32", "float64", "int32"):
        a = to_dtype([1.0, 1.0, 0.0, np.inf, np.nan, 1e-9] if dt != "int32" else [1, 2, 3, 0], dt)
        b = to_dtype([1.0, 1.000001, 1e-9, np.inf, np.nan, 0.0] if dt != "int32" else [1, 2, 4, 0], dt)
        for en in (0, 1):
            r = np.isclose(as_f64(a, dt), as_f64(b, dt), rtol=1e-5, atol=1e-8, equal_nan=bool(en))
            out.case("binary", "isclose", en, dt, "bool", as_f64(a, dt), as_f64(b, dt),
                     r.astype(np.float64), 0.0)


def main():
    out = Out()
    gen_math(out)
    gen_same(out)
    gen_classes(out)
    gen_binary(out)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "tests", "data", "elementwise_refs.h")
    with open(path, "w") as fh:
        fh.write("/* Generated by scripts/gen_elementwise_refs.py (NumPy %s, mpmath %s); "
                 "do not edit. */\n" % (np.__version__, mpmath.__version__))
        fh.write("#ifndef LZ_ELEMENTWISE_REFS_H\n#define LZ_ELEMENTWISE_REFS_H\n\n"
                 "#include <math.h>\n\n#include \"lazuli.h\"\n\n")
        fh.write("/* One case: op(a [, b]) with a and b of `dtype` (b broadcast against a), "
                 "expected values of `out_dtype`, relative tolerance `tol`; `param` is the op's "
                 "scalar argument (round's decimals, isclose's equal_nan). */\n")
        fh.write("typedef struct lzt_ref {\n  const char *op;\n  double param;\n  lz_dtype dtype, "
                 "out_dtype;\n  int ndim_a, shape_a[2], ndim_b, shape_b[2];\n  const double *a, "
                 "*b;\n  int n;\n  const double *out;\n  double tol;\n} lzt_ref;\n\n")
        fh.write("\n".join(out.arrays) + "\n\n")
        for kind in ("unary", "binary"):
            fh.write("static const lzt_ref lzt_%s_refs[] = {\n%s\n};\n\n"
                     % (kind, "\n".join(out.cases[kind])))
        fh.write("#endif /* LZ_ELEMENTWISE_REFS_H */\n")
    print("wrote %s: %d unary and %d binary cases" % (path, len(out.cases["unary"]),
                                                       len(out.cases["binary"])))


if __name__ == "__main__":
    sys.exit(main())
