#!/usr/bin/env python3
"""Writes tests/data/print_refs.h: the text lz_array_tostring must give for the arrays of
tests/test_api_usage.c. Run from the repository root: python3 scripts/gen_print_refs.py

The text is MLX's repr, modelled here from the rules of MLX's printer (mlx/utils.cpp:
print_array / print_subarray, with Python's capitalised bools) and checked against the outputs
MLX's own tests publish (python/tests/test_array.py, test_array_repr), asserted below:
"array(" then the value of a 0-d array or the nested lists, then ", dtype=<name>)" for every
dtype. Each axis longer than 6 shows its first 3 items, "...", its last 3, whatever the size;
items of the last axis are separated by ", ", sub-arrays by ",\n" and 7 + axis spaces (no
blank lines); an empty axis prints "[]"; nothing wraps. Numbers are written as C++'s default
ostream writes them: integers in full, floats with %g (6 significant digits, "1.23457e+06",
"1e-05", "inf", "nan"), float16/bfloat16 through float32, complex as real then "+imag" (also
for -0 and NaN) or "-|imag|", then "j". bfloat16 (which NumPy lacks) is printed from float32
values exact in bfloat16."""
import math

import numpy as np

FLOATS = ("float16", "bfloat16", "float32", "float64")


def g(v):
    return "nan" if math.isnan(v) else "%g" % v


def elem(x, dtype):
    if dtype == "bool":
        return "True" if x else "False"
    if dtype == "complex64":
        re, im = float(x.real), float(x.imag)
        plus = im >= 0 or math.isnan(im)
        return g(re) + ("+" + g(im) if plus else "-" + g(-im)) + "j"
    if dtype in FLOATS:
        return g(float(x))
    return str(int(x))


def sub(a, dtype, dim):
    n = a.shape[0]
    last = a.ndim == 1
    sep = ", " if last else ",\n" + " " * (7 + dim)
    items = []
    i = 0
    while i < n:
        if i == 3 and n > 6:
            items.append("...")
            i = n - 3
            continue
        items.append(elem(a[i], dtype) if last else sub(a[i], dtype, dim + 1))
        i += 1
    return "[" + sep.join(items) + "]"


def text(a, dtype=None):
    dtype = dtype or {"bool": "bool"}.get(str(a.dtype), str(a.dtype))
    body = elem(a[()], dtype) if a.ndim == 0 else sub(a, dtype, 0)
    return "array(" + body + ", dtype=" + dtype + ")"


# MLX's published outputs (python/tests/test_array.py, test_array_repr).
assert text(np.array(True)) == "array(True, dtype=bool)"
assert text(np.array(1, np.int32)) == "array(1, dtype=int32)"
assert text(np.array(1.0, np.float32)) == "array(1, dtype=float32)"
assert text(np.array([1, 0, 1], np.int32)) == "array([1, 0, 1], dtype=int32)"
assert text(np.array([1] * 6, np.int32)) == "array([1, 1, 1, 1, 1, 1], dtype=int32)"
assert text(np.array([1] * 7, np.int32)) == "array([1, 1, 1, ..., 1, 1, 1], dtype=int32)"
assert text(np.array([[1, 2]] * 3, np.int32)) == \
    "array([[1, 2],\n       [1, 2],\n       [1, 2]], dtype=int32)"
assert text(np.array([[[1, 2], [1, 2]], [[1, 2], [1, 2]]], np.int32)) == (
    "array([[[1, 2],\n        [1, 2]],\n       [[1, 2],\n        [1, 2]]], dtype=int32)")
assert text(np.array([[1, 2]] * 7, np.int32)) == (
    "array([[1, 2],\n       [1, 2],\n       [1, 2],\n       ...,\n       [1, 2],\n"
    "       [1, 2],\n       [1, 2]], dtype=int32)")
assert text(np.array([1], np.int8)) == "array([1], dtype=int8)"
assert text(np.array([1.2], np.float16)) == "array([1.2002], dtype=float16)"
assert text(np.array([1 + 1j], np.complex64)) == "array([1+1j], dtype=complex64)"
assert text(np.array([1 - 1j], np.complex64)) == "array([1-1j], dtype=complex64)"
assert text(np.array([1.123456789], np.float32)) == "array([1.12346], dtype=float32)"


def cases():
    i32 = np.int32
    return [
        ("bool_2x2", np.array([[True, False], [False, True]])),
        ("int32_2x3", np.arange(6, dtype=i32).reshape(2, 3)),
        ("int8", np.array([-128, -1, 0, 127], np.int8)),
        ("uint8", np.array([0, 255], np.uint8)),
        ("uint64", np.array([0, 2**64 - 1], np.uint64)),
        ("int64", np.array([-2**63, 2**63 - 1], np.int64)),
        ("float32", np.array([0.5, -1.25, 3, 1e-7, np.nan, np.inf], np.float32)),
        ("float32_big", np.array([-np.inf, 1e15, 16777215, 1234567, 1e6, -0.0], np.float32)),
        ("float32_small", np.array([1e-4, 1e-5, 0.1, 2.5e-38, 123456, 0.333333343], np.float32)),
        ("float64", np.array([0.1, 1 / 3, 123456789, 1e300, -2.5, 2.0**53])),
        ("float16", np.array([0.5, 65504, -0.1, 1, 1.2], np.float16)),
        ("bfloat16", np.array([1, 0.5, -3, 256, 3.140625], np.float32), "bfloat16"),
        ("complex64", np.array([1 + 2j, 3 - 1j, 0.5, -1.5 - 2.25j], np.complex64)),
        ("complex64_edges", np.array([complex(1, -0.0), complex(np.nan, np.nan),
                                      complex(0, np.inf), complex(1e6, -1e-5)], np.complex64)),
        ("scalar_int32", np.array(7, i32)),
        ("scalar_float32", np.array(2.5, np.float32)),
        ("scalar_bool", np.array(True)),
        ("scalar_complex", np.array(-1j, np.complex64)),
        ("empty_1d", np.zeros((0,), np.float32)),
        ("empty_2d", np.zeros((2, 0), np.float32)),
        ("empty_3d", np.zeros((0, 3, 1), i32)),
        ("empty_3d_inner", np.zeros((2, 0, 3), i32)),
        ("int32_3d", np.arange(24, dtype=i32).reshape(2, 3, 4)),
        ("int32_4d", np.arange(16, dtype=i32).reshape(2, 2, 2, 2)),
        ("transposed", np.arange(6, dtype=i32).reshape(2, 3).T),
        ("broadcast", np.broadcast_to(np.arange(3, dtype=i32), (2, 3))),
        ("six", np.arange(6, dtype=i32)),
        ("seven", np.arange(7, dtype=i32)),
        ("full_1000", np.arange(1000, dtype=i32)),
        ("summary_2d", np.arange(1200, dtype=i32).reshape(400, 3)),
        ("summary_cols", np.arange(14, dtype=i32).reshape(2, 7)),
        ("summary_3d", np.arange(1100, dtype=i32).reshape(11, 10, 10)),
        ("summary_4d", (np.arange(1120, dtype=i32) % 7).reshape(7, 2, 8, 10)),
    ]


def c_string(s):
    lines = s.split("\n")
    parts = []
    for i, line in enumerate(lines):
        esc = line.replace("\\", "\\\\").replace('"', '\\"')
        parts.append('    "' + esc + ("\\n" if i + 1 < len(lines) else "") + '"')
    return "\n".join(parts)


def main():
    out = ["/* Generated by scripts/gen_print_refs.py (MLX's repr rules): do not edit. */",
           "#ifndef LZ_PRINT_REFS_H", "#define LZ_PRINT_REFS_H", ""]
    for case in cases():
        name, a = case[0], case[1]
        dtype = case[2] if len(case) > 2 else None
        out.append("static const char print_ref_%s[] =" % name)
        out.append(c_string(text(a, dtype)) + ";")
    out += ["", "#endif"]
    with open("tests/data/print_refs.h", "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
