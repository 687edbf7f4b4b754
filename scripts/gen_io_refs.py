#!/usr/bin/env python3
"""Generates the reference files of tests/test_io.c into tests/data/io/ with NumPy.

Run once at development time: /usr/bin/python3 scripts/gen_io_refs.py
The values are simple formulas that test_io.c recomputes: element i of every array is
(i % 7) - 2 (or (i % 2 == 0) for bool), so the test needs no second copy of the data."""
import json, os, struct
import numpy as np

out = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "io")
os.makedirs(out, exist_ok=True)

def values(shape, dtype):
    n = int(np.prod(shape))
    i = np.arange(n)
    if dtype == np.bool_:
        return (i % 2 == 0).reshape(shape)
    v = (i % 7) - 2
    if np.dtype(dtype).kind == "u":
        v = i % 7
    if np.dtype(dtype).kind == "c":
        return (v + 1j * (i % 3)).astype(dtype).reshape(shape)
    return v.astype(dtype).reshape(shape)

# .npy: every dtype, plus fortran order and big-endian
for name in ["bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32",
             "int64", "float16", "float32", "float64", "complex64"]:
    dt = np.bool_ if name == "bool" else np.dtype(name)
    np.save(os.path.join(out, f"{name}.npy"), values((3, 4), dt))
np.save(os.path.join(out, "fortran.npy"), np.asfortranarray(values((3, 4), np.float32)))
np.save(os.path.join(out, "bigendian.npy"), values((3, 4), np.dtype(">i4")))
np.save(os.path.join(out, "scalar.npy"), np.array(5.5, dtype=np.float64))
np.save(os.path.join(out, "empty.npy"), np.zeros((0, 3), dtype=np.float32))

# .npz stored and compressed
arrs = {"a": values((2, 3), np.float32), "b": values((5,), np.int64),
        "c": values((2, 2, 2), np.float16)}
np.savez(os.path.join(out, "stored.npz"), **arrs)
np.savez_compressed(os.path.join(out, "compressed.npz"), **arrs)

# .safetensors written by hand from the spec (no safetensors package needed)
def save_st(path, tensors, meta):
    header, blobs, off = {}, [], 0
    names = {"float32": "F32", "int32": "I32", "float16": "F16", "uint8": "U8", "bool": "BOOL"}
    if meta:
        header["__metadata__"] = meta
    for k, v in tensors.items():
        b = v.tobytes()
        header[k] = {"dtype": names[v.dtype.name], "shape": list(v.shape),
                     "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))

save_st(os.path.join(out, "model.safetensors"),
        {"w": values((4, 3), np.float32), "b": values((3,), np.int32),
         "h": values((2, 2), np.float16), "m": values((5,), np.bool_)},
        {"format": "pt", "note": "quote \" and backslash \\"})
