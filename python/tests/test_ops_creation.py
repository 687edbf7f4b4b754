"""Array creation functions against NumPy: zeros/ones/full(_like), arange's overloads and dtype
inference, linspace, eye/identity/tri/tril/triu, meshgrid and the window functions."""
import numpy as np
import pytest

import lazuli.core as mx
from conftest import assert_array_equal, to_np


@pytest.mark.parametrize("fn,val", [("zeros", 0), ("ones", 1), ("empty", 0)])
def test_zeros_ones(fn, val):
    x = getattr(mx, fn)((2, 3))
    assert x.dtype == mx.float32
    assert_array_equal(x, np.full((2, 3), val, np.float32))
    assert getattr(mx, fn)(4, mx.int8).dtype == mx.int8
    assert getattr(mx, fn)([], dtype=mx.bool_).shape == ()
    with pytest.raises(ValueError):
        getattr(mx, fn)((2, -1))


def test_like_functions():
    a = mx.array([[1, 2, 3]], dtype=mx.int16)
    assert_array_equal(mx.zeros_like(a), np.zeros((1, 3), np.int16))
    assert_array_equal(mx.ones_like(a), np.ones((1, 3), np.int16))
    assert mx.ones_like(a, dtype=mx.float32).dtype == mx.float32
    assert mx.empty_like(a).shape == (1, 3)
    assert_array_equal(mx.full_like(a, 7), np.full((1, 3), 7, np.int16))
    assert_array_equal(mx.full_like(a, 2.5, mx.float32), np.full((1, 3), 2.5, np.float32))


def test_full():
    assert_array_equal(mx.full((2, 2), 3), np.full((2, 2), 3, np.int32))
    assert_array_equal(mx.full(3, 1.5), np.full(3, 1.5, np.float32))
    assert_array_equal(mx.full((2,), True), np.full(2, True))
    assert_array_equal(mx.full((2, 3), mx.array([1, 2, 3])), np.tile(np.int32([1, 2, 3]), (2, 1)))
    assert_array_equal(mx.full((2,), 2, dtype=mx.float16), np.full(2, 2, np.float16))
    assert mx.full((1,), 2**40).dtype == mx.int64
    with pytest.raises(ValueError):
        mx.full((2, 2), mx.array([1, 2, 3]))


def test_arange_overloads_and_dtypes():
    assert_array_equal(mx.arange(5), np.arange(5, dtype=np.int32))
    assert_array_equal(mx.arange(2, 7), np.arange(2, 7, dtype=np.int32))
    assert_array_equal(mx.arange(2, 10, 3), np.arange(2, 10, 3, dtype=np.int32))
    assert_array_equal(mx.arange(10, 2, -2), np.arange(10, 2, -2, dtype=np.int32))
    assert_array_equal(mx.arange(5.0), np.arange(5, dtype=np.float32))
    assert_array_equal(mx.arange(0, 1, 0.25), np.arange(0, 1, 0.25, dtype=np.float32))
    assert_array_equal(mx.arange(5, step=2), np.arange(0, 5, 2, dtype=np.int32))
    assert_array_equal(mx.arange(start=1, stop=4), np.arange(1, 4, dtype=np.int32))
    assert_array_equal(mx.arange(3, dtype=mx.float16), np.arange(3, dtype=np.float16))
    assert_array_equal(mx.arange(0, 3, 1, mx.int8), np.arange(3, dtype=np.int8))
    assert mx.arange(2**33, 2**33 + 2).dtype == mx.int64
    assert mx.arange(1, 3, 1.0).dtype == mx.float32
    with pytest.raises(TypeError):
        mx.arange("5")
    with pytest.raises(TypeError):
        mx.arange()


def test_linspace():
    np.testing.assert_allclose(to_np(mx.linspace(0, 1, 5)), np.linspace(0, 1, 5), rtol=1e-6)
    np.testing.assert_allclose(to_np(mx.linspace(-2, 3)), np.linspace(-2, 3), rtol=1e-6)
    np.testing.assert_allclose(to_np(mx.linspace(0, 1, 4, endpoint=False)),
                               np.linspace(0, 1, 4, endpoint=False), rtol=1e-6)
    assert mx.linspace(0, 10, 3, dtype=mx.int32).dtype == mx.int32
    assert mx.linspace(0, 1, 0).shape == (0,)
    with pytest.raises(ValueError):
        mx.linspace(0, 1, -1)


def test_eye_identity_tri():
    assert_array_equal(mx.eye(3), np.eye(3, dtype=np.float32))
    assert_array_equal(mx.eye(2, 4, 1), np.eye(2, 4, 1, dtype=np.float32))
    assert_array_equal(mx.eye(3, k=-1, dtype=mx.int32), np.eye(3, k=-1, dtype=np.int32))
    assert_array_equal(mx.identity(4), np.identity(4, dtype=np.float32))
    assert_array_equal(mx.tri(3, 4, 1), np.tri(3, 4, 1, dtype=np.float32))
    assert_array_equal(mx.tri(3), np.tri(3, dtype=np.float32))
    m = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert_array_equal(mx.tril(mx.array(m)), np.tril(m))
    assert_array_equal(mx.triu(mx.array(m), 1), np.triu(m, 1))
    assert_array_equal(mx.tril(x=mx.array(m), k=-1), np.tril(m, -1))


@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
def test_meshgrid(indexing, sparse):
    a, b = np.arange(3, dtype=np.int32), np.arange(4, dtype=np.int32) * 10
    outs = mx.meshgrid(mx.array(a), mx.array(b), sparse=sparse, indexing=indexing)
    assert isinstance(outs, tuple)
    for o, e in zip(outs, np.meshgrid(a, b, sparse=sparse, indexing=indexing)):
        assert_array_equal(o, e)
    with pytest.raises(ValueError):
        mx.meshgrid(mx.array(a), indexing="yx")


@pytest.mark.parametrize("name", ["bartlett", "blackman", "hamming", "hanning"])
@pytest.mark.parametrize("m", [1, 5, 8])
def test_windows(name, m):
    out = getattr(mx, name)(m)
    assert out.dtype == mx.float32
    np.testing.assert_allclose(to_np(out), getattr(np, name)(m), atol=1e-6)
