"""take, take/put_along_axis, sorting, partitions, topk, searchsorted and unique against NumPy."""
import numpy as np
import pytest

import lazuli.core as mx
from conftest import assert_array_equal, to_np

RNG = np.random.default_rng(2)
A = RNG.permutation(24).reshape(2, 3, 4).astype(np.float32)


def test_take():
    idx = np.array([[0, 2], [1, -1]], np.int32)
    assert_array_equal(mx.take(mx.array(A), mx.array(idx), axis=1), np.take(A, idx, axis=1))
    assert_array_equal(mx.take(mx.array(A), mx.array(idx)), np.take(A, idx))
    assert_array_equal(mx.take(mx.array(A), 1, axis=2), np.take(A, 1, axis=2))
    assert_array_equal(mx.take(mx.array(A), indices=5), np.take(A, 5))
    with pytest.raises(TypeError):
        mx.take(mx.array(A), 1.5)


def test_take_put_along_axis():
    idx = np.argsort(A, axis=2).astype(np.int32)
    assert_array_equal(mx.take_along_axis(mx.array(A), mx.array(idx), axis=2),
                       np.take_along_axis(A, idx, 2))
    assert_array_equal(mx.take_along_axis(mx.array(A), mx.array(idx)),
                       np.take_along_axis(A, idx, -1))
    flat_idx = np.array([3, 0, 23], np.int32)
    assert_array_equal(mx.take_along_axis(mx.array(A), mx.array(flat_idx), axis=None),
                       np.take_along_axis(A, flat_idx, None))
    vals = -np.ones_like(idx[:, :, :1], dtype=np.float32)
    out = mx.put_along_axis(mx.array(A), mx.array(idx[:, :, :1]), mx.array(vals), axis=2)
    e = A.copy()
    np.put_along_axis(e, idx[:, :, :1], vals, 2)
    assert_array_equal(out, e)
    out = mx.put_along_axis(mx.array(A), mx.array(flat_idx), mx.array(0.0))
    e = A.copy().reshape(-1)
    e[flat_idx] = 0
    assert_array_equal(out, e.reshape(A.shape))


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_sort_argsort(axis):
    assert_array_equal(mx.sort(mx.array(A), axis), np.sort(A, axis=axis))
    out = mx.argsort(mx.array(A), axis=axis)
    assert out.dtype == mx.uint32
    np.testing.assert_array_equal(to_np(out), np.argsort(A, axis=axis, kind="stable"))
    assert_array_equal(mx.sort(mx.array(A)), np.sort(A, -1))


@pytest.mark.parametrize("axis", [None, 0, -1])
def test_partition(axis):
    kth = 1
    p = to_np(mx.partition(mx.array(A), kth, axis=axis))
    flat = A.reshape(-1) if axis is None else A
    ax = 0 if axis is None else axis
    s = np.sort(flat, ax)
    np.testing.assert_array_equal(np.take(p, kth, ax), np.take(s, kth, ax))
    assert (np.take(p, [0], ax) <= np.take(p, [kth], ax)).all()
    assert (np.take(p, np.arange(kth + 1, p.shape[ax]), ax) >= np.take(p, [kth], ax)).all()
    ip = to_np(mx.argpartition(mx.array(A), kth=kth, axis=axis))
    np.testing.assert_array_equal(np.take_along_axis(flat, ip.astype(np.int64), ax), p)


@pytest.mark.parametrize("axis", [None, 0, -1])
def test_topk(axis):
    k = 2
    out = to_np(mx.topk(mx.array(A), k, axis=axis))
    flat = A.reshape(-1) if axis is None else A
    ax = 0 if axis is None else axis
    e = np.take(np.sort(flat, ax), np.arange(flat.shape[ax] - k, flat.shape[ax]), ax)
    np.testing.assert_array_equal(np.sort(out, ax), e)


def test_searchsorted():
    a = mx.array([1, 2, 2, 4])
    assert_array_equal(mx.searchsorted(a, mx.array([0, 2, 3, 5])),
                       np.array([0, 1, 3, 4], np.uint32))
    assert_array_equal(mx.searchsorted(a, mx.array([0, 2, 3, 5]), side="right"),
                       np.array([0, 3, 3, 4], np.uint32))
    with pytest.raises(ValueError):
        mx.searchsorted(a, a, side="middle")


def test_unique():
    a = mx.array([2, 1, 2, 3, 1])
    assert_array_equal(mx.unique(a, 3), np.array([1, 2, 3], np.int32))
    assert_array_equal(mx.unique(a, 5), np.array([1, 2, 3, 1, 1], np.int32))
    values, index, inverse, counts = mx.unique(a, 4, True, True, True, fill_value=0)
    assert_array_equal(values, np.array([1, 2, 3, 0], np.int32))
    assert_array_equal(index, np.array([1, 0, 3, 1], np.uint32))
    assert_array_equal(inverse, np.array([1, 0, 1, 2, 0], np.uint32))
    assert_array_equal(counts, np.array([2, 2, 1, 0], np.int32))
    v, c = mx.unique(mx.array([[3.0, 1.0], [3.0, 2.0]]), 2, return_counts=True)
    assert_array_equal(v, np.array([1.0, 2.0], np.float32))
    assert_array_equal(c, np.array([1, 1], np.int32))
