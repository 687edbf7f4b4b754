#!/usr/bin/env python3
"""Generates tests/data/io/unicode.npz for tests/test_npz.c with NumPy.

Run once at development time: /usr/bin/python3 scripts/gen_npz_refs.py
Member names that are not ASCII ("café", "数据"): Python's zipfile, under np.savez, stores them
as UTF-8 with the zip UTF-8 flag (bit 11) set. Element i of each array is (i % 7) - 2."""
import os
import zipfile
import numpy as np

out = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "io")
os.makedirs(out, exist_ok=True)
path = os.path.join(out, "unicode.npz")
v = ((np.arange(6) % 7) - 2).astype(np.float32)
np.savez(path, **{"café": v.reshape(2, 3), "数据": v[:4].astype(np.int32), "plain": v[:2]})
with zipfile.ZipFile(path) as z:  # what the test checks of the writer, seen in NumPy's file
    for info in z.infolist():
        ascii_name = all(ord(ch) < 128 for ch in info.filename)
        assert bool(info.flag_bits & 0x800) == (not ascii_name), info.filename
