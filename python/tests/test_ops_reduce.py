"""Reductions, arg-reductions, scans, softmax, trace and diff against NumPy, over every axis
form (None, int, negative, tuple) with and without keepdims."""
import numpy as np
import pytest

import lazuli.core as mx
from conftest import assert_array_equal, to_np

RNG = np.random.default_rng(1)
A = RNG.standard_normal((2, 3, 4)).astype(np.float32)
AXES = [None, 0, 1, -1, (0, 2), (1, 2), (0, 1, 2), ()]

REDUCTIONS = [
    ("sum", np.sum), ("prod", np.prod), ("max", np.max), ("min", np.min), ("mean", np.mean),
    ("all", np.all), ("any", np.any), ("median", np.median),
]


@pytest.mark.parametrize("name,ref", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(name, ref, axis, keepdims):
    a = (A > 0) if name in ("all", "any") else A
    out = getattr(mx, name)(mx.array(a), axis=axis, keepdims=keepdims)
    expected = ref(a, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(to_np(out), expected, rtol=1e-5, atol=1e-6)


def test_positional_axis_and_dtypes():
    i = np.arange(12, dtype=np.int32).reshape(3, 4)
    assert_array_equal(mx.sum(mx.array(i), 1), i.sum(1).astype(np.int32))
    assert mx.sum(mx.array([True, True, False])).dtype == mx.int32
    assert mx.mean(mx.array(i)).dtype == mx.float32
    assert mx.max(mx.array(i, dtype=mx.int8)).dtype == mx.int8
    assert mx.count_nonzero(mx.array(i)).item() == 11
    assert_array_equal(mx.count_nonzero(mx.array(i), axis=0, keepdims=True),
                       np.count_nonzero(i, axis=0, keepdims=True).astype(np.int32))


@pytest.mark.parametrize("axis", AXES[:-1], ids=str)
@pytest.mark.parametrize("ddof", [0, 1])
def test_var_std(axis, ddof):
    for name, ref in (("var", np.var), ("std", np.std)):
        out = getattr(mx, name)(mx.array(A), axis=axis, ddof=ddof)
        np.testing.assert_allclose(to_np(out), ref(A, axis=axis, ddof=ddof), rtol=1e-5)
    # correction= is MLX's keyword-only alias of ddof
    np.testing.assert_allclose(to_np(mx.var(mx.array(A), correction=1)), np.var(A, ddof=1),
                               rtol=1e-5)


@pytest.mark.parametrize("axis", AXES[:-1], ids=str)
def test_logsumexp(axis):
    ref = np.log(np.sum(np.exp(A), axis=axis))
    np.testing.assert_allclose(to_np(mx.logsumexp(mx.array(A), axis=axis)), ref, rtol=1e-5)
    big = mx.array([1000.0, 1000.0])
    assert abs(mx.logsumexp(big).item() - (1000 + np.log(2))) < 1e-3


@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_argmin(axis, keepdims):
    for name, ref in (("argmax", np.argmax), ("argmin", np.argmin)):
        out = getattr(mx, name)(mx.array(A), axis=axis, keepdims=keepdims)
        assert out.dtype == mx.uint32
        np.testing.assert_array_equal(to_np(out), ref(A, axis=axis, keepdims=keepdims))


def _scan_ref(fn, a, axis, reverse, inclusive, identity):
    if axis is None:
        a, axis = a.reshape(-1), 0
    if reverse:
        a = np.flip(a, axis)
    out = fn(a, axis=axis)
    if not inclusive:
        pad = [(0, 0)] * a.ndim
        pad[axis] = (1, 0)
        out = np.pad(out, pad, constant_values=identity)
        out = np.take(out, np.arange(a.shape[axis]), axis=axis)
    if reverse:
        out = np.flip(out, axis)
    return out


SCANS = [("cumsum", np.cumsum, 0), ("cumprod", np.cumprod, 1),
         ("cummax", np.maximum.accumulate, -np.inf), ("cummin", np.minimum.accumulate, np.inf),
         ("logcumsumexp", np.logaddexp.accumulate, -np.inf)]


@pytest.mark.parametrize("name,ref,identity", SCANS, ids=[s[0] for s in SCANS])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("inclusive", [True, False])
def test_scans(name, ref, identity, axis, reverse, inclusive):
    out = getattr(mx, name)(mx.array(A), axis, reverse=reverse, inclusive=inclusive)
    expected = _scan_ref(ref, A, axis, reverse, inclusive, identity)
    assert out.shape == expected.shape
    np.testing.assert_allclose(to_np(out), expected, rtol=1e-5, atol=1e-6)


def test_scan_dtype_and_aliases():
    out = mx.cumsum(mx.array([1, 2, 3], dtype=mx.int8), dtype=mx.float32)
    assert out.dtype == mx.float32 and out.tolist() == [1, 3, 6]
    assert mx.cumulative_sum is mx.cumsum and mx.cumulative_prod is mx.cumprod
    with pytest.raises(TypeError):
        mx.cummax(mx.array([1, 2]), dtype=mx.float32)


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)], ids=str)
def test_softmax(axis):
    e = np.exp(A - A.max(axis=axis, keepdims=True))
    ref = e / e.sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(to_np(mx.softmax(mx.array(A), axis=axis)), ref, rtol=1e-5)
    np.testing.assert_allclose(to_np(mx.softmax(mx.array(A), axis, precise=True)), ref, rtol=1e-5)


def test_trace_diff_minmax():
    m = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    for off, a1, a2 in ((0, 0, 1), (1, 1, 2), (-1, 0, 2)):
        np.testing.assert_allclose(to_np(mx.trace(mx.array(m), off, a1, a2)),
                                   np.trace(m, off, a1, a2))
    assert mx.trace(mx.array(m[0]), dtype=mx.int32).dtype == mx.int32
    for n, axis in ((1, -1), (2, 0), (0, 1)):
        np.testing.assert_array_equal(to_np(mx.diff(mx.array(A), n, axis)), np.diff(A, n, axis))
    lo, hi = mx.minmax(mx.array(A))
    assert lo.item() == A.min() and hi.item() == A.max()


def test_reduce_errors():
    with pytest.raises(ValueError):
        mx.sum(mx.array(A), axis=3)
    with pytest.raises(ValueError):
        mx.sum(mx.array(A), axis=(0, 0))
    with pytest.raises(TypeError):
        mx.sum(mx.array(A), axis=1.5)
    with pytest.raises(TypeError):
        mx.sum(mx.array(A), keepdims="yes")
