#!/usr/bin/env python3
"""Writes tests/data/gguf/blocks.gguf, a GGUF v3 file written by hand (NumPy only) with
metadata of every value type and tensors of types f32, f16, bf16, q4_0, q4_1, q5_0, q5_1 and
q8_0, and tests/data/gguf/blocks_expected.npz with each tensor's values dequantized by GGML's
formulas (float32). Also copies the file into fuzz/corpus/gguf/ as a seed.
Run from the repository root: python3 scripts/gen_gguf_refs.py"""
import shutil
import struct

import numpy as np

rng = np.random.default_rng(20240613)
ALIGN = 32
T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STRING, T_ARRAY, T_U64, T_I64, T_F64 = range(13)
FMT = {T_U8: "<B", T_I8: "<b", T_U16: "<H", T_I16: "<h", T_U32: "<I", T_I32: "<i", T_F32: "<f",
       T_BOOL: "<?", T_U64: "<Q", T_I64: "<q", T_F64: "<d"}


def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def value(t, v):
    if t == T_STRING:
        return gstr(v)
    if t == T_ARRAY:
        et, items = v
        return struct.pack("<IQ", et, len(items)) + b"".join(value(et, x) for x in items)
    return struct.pack(FMT[t], v)


def f16(shape):
    """Random float16 scales of moderate size."""
    return (rng.uniform(0.01, 0.2, size=shape) * rng.choice([-1, 1], size=shape)).astype(np.float16)


def q4_0(rows, cols):
    nb = cols // 32
    d = f16((rows, nb))
    qs = rng.integers(0, 256, size=(rows, nb, 16), dtype=np.uint8)
    raw = b"".join(d[r, b].tobytes() + qs[r, b].tobytes() for r in range(rows) for b in range(nb))
    q = np.concatenate([qs & 15, qs >> 4], axis=-1).astype(np.float32)  # (rows, nb, 32)
    w = (q - 8) * d.astype(np.float32)[..., None]
    return raw, w.reshape(rows, cols)


def q4_1(rows, cols):
    nb = cols // 32
    d, m = f16((rows, nb)), f16((rows, nb))
    qs = rng.integers(0, 256, size=(rows, nb, 16), dtype=np.uint8)
    raw = b"".join(d[r, b].tobytes() + m[r, b].tobytes() + qs[r, b].tobytes()
                   for r in range(rows) for b in range(nb))
    q = np.concatenate([qs & 15, qs >> 4], axis=-1).astype(np.float32)
    w = q * d.astype(np.float32)[..., None] + m.astype(np.float32)[..., None]
    return raw, w.reshape(rows, cols)


def q5(rows, cols, with_min):
    nb = cols // 32
    d, m = f16((rows, nb)), f16((rows, nb))
    qh = rng.integers(0, 2**32, size=(rows, nb), dtype=np.uint32)
    qs = rng.integers(0, 256, size=(rows, nb, 16), dtype=np.uint8)
    raw = b"".join(d[r, b].tobytes() + (m[r, b].tobytes() if with_min else b"") +
                   struct.pack("<I", int(qh[r, b])) + qs[r, b].tobytes()
                   for r in range(rows) for b in range(nb))
    j = np.arange(16, dtype=np.uint32)
    lo = (qs & 15) | (((qh[..., None] >> j) & 1) << 4).astype(np.uint8)
    hi = (qs >> 4) | (((qh[..., None] >> (j + 16)) & 1) << 4).astype(np.uint8)
    q = np.concatenate([lo, hi], axis=-1).astype(np.float32)
    df = d.astype(np.float32)[..., None]
    w = q * df + m.astype(np.float32)[..., None] if with_min else (q - 16) * df
    return raw, w.reshape(rows, cols)


def q8_0(rows, cols):
    nb = cols // 32
    d = f16((rows, nb))
    qs = rng.integers(-128, 128, size=(rows, nb, 32), dtype=np.int8)
    raw = b"".join(d[r, b].tobytes() + qs[r, b].tobytes() for r in range(rows) for b in range(nb))
    w = qs.astype(np.float32) * d.astype(np.float32)[..., None]
    return raw, w.reshape(rows, cols)


tensors = []  # (name, ggml type, shape (row-major), raw bytes)
expected = {}


def add(name, gtype, shape, raw, values):
    tensors.append((name, gtype, shape, raw))
    expected[name] = np.asarray(values, dtype=np.float32).reshape(shape)


x = np.round(rng.standard_normal((2, 3)), 3).astype(np.float32)
add("f32", 0, (2, 3), x.tobytes(), x)
h = np.round(rng.standard_normal(4), 2).astype(np.float16)
add("f16", 1, (4,), h.tobytes(), h)
b = (np.arange(6, dtype=np.float32) - 2.5)  # exact in bfloat16
add("bf16", 30, (3, 2), (b.view(np.uint32) >> 16).astype(np.uint16).tobytes(), b.reshape(3, 2))
for name, gtype, fn, shape in [("blk.0.attn_q.weight", 2, q4_0, (3, 64)), ("q41", 3, q4_1, (2, 64)),
                               ("q50.weight", 6, lambda r, c: q5(r, c, False), (2, 32)),
                               ("q51.weight", 7, lambda r, c: q5(r, c, True), (2, 64)),
                               ("blk.1.ffn.weight", 8, q8_0, (4, 32))]:
    raw, w = fn(*shape)
    add(name, gtype, shape, raw, w)

meta = [("general.architecture", T_STRING, "llama"), ("general.alignment", T_U32, ALIGN),
        ("u8", T_U8, 200), ("i8", T_I8, -5), ("u16", T_U16, 60000), ("i16", T_I16, -30000),
        ("i32", T_I32, -123456), ("f32", T_F32, 0.5), ("bool", T_BOOL, True),
        ("u64", T_U64, 2**63 + 5), ("i64", T_I64, -(2**40)), ("f64", T_F64, 0.1),
        ("ints", T_ARRAY, (T_I32, [1, -2, 3])), ("strs", T_ARRAY, (T_STRING, ["a", 'b"c'])),
        ("nested", T_ARRAY, (T_ARRAY, [(T_U8, [1, 2]), (T_U8, [])]))]

head = struct.pack("<IIQQ", 0x46554747, 3, len(tensors), len(meta))
head += b"".join(gstr(k) + struct.pack("<I", t) + value(t, v) for k, t, v in meta)
off, data = 0, b""
for name, gtype, shape, raw in tensors:
    head += gstr(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", n) for n in shape[::-1])
    head += struct.pack("<IQ", gtype, off)
    data += raw + b"\0" * (-len(raw) % ALIGN)
    off = len(data)
head += b"\0" * (-len(head) % ALIGN)
with open("tests/data/gguf/blocks.gguf", "wb") as f:
    f.write(head + data)
np.savez("tests/data/gguf/blocks_expected.npz", **expected)
shutil.copy("tests/data/gguf/blocks.gguf", "fuzz/corpus/gguf/blocks.gguf")
print("wrote %d tensors, %d bytes" % (len(tensors), len(head + data)))
