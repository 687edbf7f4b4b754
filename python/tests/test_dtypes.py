"""Dtype objects, categories, issubdtype, finfo and iinfo (MLX's values and printing)."""
import pickle

import numpy as np
import pytest

import lazuli.core as mx

ALL = [("bool_", 1), ("uint8", 1), ("uint16", 2), ("uint32", 4), ("uint64", 8), ("int8", 1),
       ("int16", 2), ("int32", 4), ("int64", 8), ("float16", 2), ("bfloat16", 2),
       ("float32", 4), ("float64", 8), ("complex64", 8)]


@pytest.mark.parametrize("name,size", ALL)
def test_dtype_objects(name, size):
    d = getattr(mx, name)
    assert isinstance(d, mx.Dtype)
    assert d.size == size
    assert repr(d) == "lazuli.core." + ("bool" if name == "bool_" else name)
    assert d == getattr(mx, name) and hash(d) == hash(getattr(mx, name))
    assert pickle.loads(pickle.dumps(d)) is d


def test_dtype_equality():
    assert mx.float32 != mx.float16
    assert mx.float32 != "float32" and not (mx.float32 == 4)
    assert len({mx.float32, mx.float32, mx.int8}) == 2


CATS = ["floating", "integer", "signedinteger", "unsignedinteger", "complexfloating",
        "inexact", "number", "generic"]


def test_categories_follow_numpy_tree():
    np_dt = {"bool_": np.bool_, "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32,
             "uint64": np.uint64, "int8": np.int8, "int16": np.int16, "int32": np.int32,
             "int64": np.int64, "float16": np.float16, "float32": np.float32,
             "float64": np.float64, "complex64": np.complex64}
    for name, npd in np_dt.items():
        for cat in CATS:
            assert mx.issubdtype(getattr(mx, name), getattr(mx, cat)) == \
                np.issubdtype(npd, getattr(np, cat)), (name, cat)
    assert mx.issubdtype(mx.bfloat16, mx.floating)
    for a in CATS:
        for b in CATS:
            assert mx.issubdtype(getattr(mx, a), getattr(mx, b)) == \
                np.issubdtype(getattr(np, a), getattr(np, b)), (a, b)


def test_issubdtype_dtypes_and_errors():
    assert mx.issubdtype(mx.float32, mx.float32)
    assert not mx.issubdtype(mx.float32, mx.float16)
    assert not mx.issubdtype(mx.floating, mx.float32)
    assert isinstance(mx.floating, mx.DtypeCategory)
    with pytest.raises(TypeError):
        mx.issubdtype(mx.float32, "floating")
    with pytest.raises(TypeError):
        mx.issubdtype(1, mx.floating)


@pytest.mark.parametrize("name", ["float16", "float32", "float64", "bfloat16"])
def test_finfo(name):
    f = mx.finfo(getattr(mx, name))
    if name == "bfloat16":
        assert f.max == 3.3895313892515355e38 and f.eps == 2 ** -7
    else:
        n = np.finfo(getattr(np, name))
        assert f.max == float(n.max) and f.min == float(n.min) and f.eps == float(n.eps)
    assert f.dtype == getattr(mx, name)


def test_finfo_repr_and_errors():
    assert repr(mx.finfo(mx.float32)) == "finfo(min=-3.40282e+38, max=3.40282e+38, dtype=float32)"
    with pytest.raises(ValueError):
        mx.finfo(mx.int32)
    with pytest.raises(TypeError):
        mx.finfo("float32")


@pytest.mark.parametrize("name", ["uint8", "uint16", "uint32", "uint64", "int8", "int16",
                                  "int32", "int64"])
def test_iinfo(name):
    i, n = mx.iinfo(getattr(mx, name)), np.iinfo(getattr(np, name))
    assert (i.min, i.max) == (int(n.min), int(n.max))
    assert repr(i) == f"iinfo(min={n.min}, max={n.max}, dtype={name})"
    with pytest.raises(ValueError):
        mx.iinfo(mx.float32)
