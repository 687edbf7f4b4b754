"""Indexing against NumPy: ints, slices, None, Ellipsis, integer arrays and lists, their
combinations, assignment, and x.at[idx] updates that accumulate over repeated indices."""
import numpy as np
import pytest

import lazuli.core as mx
from conftest import assert_array_equal

A = np.arange(2 * 3 * 4 * 5, dtype=np.int32).reshape(2, 3, 4, 5)
I0 = np.array([1, 0, 1])
I2 = np.array([[3, -1], [0, 2]])
I3 = np.array([4, 0, -2])

GET_CASES = [
    1, -1, (0, 2), (1, -3, 3, -1), slice(None), slice(1, None), slice(None, None, -1),
    (slice(None), slice(0, 3, 2)), (Ellipsis, 1), (Ellipsis, slice(None, None, -2)),
    (1, Ellipsis, 2), None, (None, 1), (slice(None), None, 0), (Ellipsis, None),
    (None, Ellipsis, None), (slice(-2, None), slice(None, -1), slice(3, 0, -1)),
    (slice(10, 20),), (slice(None), slice(2, 1)),
    # advanced
    I0, (I0,), (slice(None), np.array([2, 0])), (I0, slice(None), I2[0:1, :1].reshape(1, 1)),
    (Ellipsis, I3), (slice(None), I0[:2], I2[0]), (0, slice(None), I2), (I0, 1),
    (slice(None), 1, slice(None), I3), (I0, None, slice(1, 3)), (None, I0, Ellipsis),
    (slice(None), slice(None), I2, I2), ([1, 0],), [1, 0, 1], (1, [2, 0]),
    (I0, slice(None), I0, slice(None)), (slice(None, None, -1), I0[:2]),
    (np.array([[1], [0]]), slice(None), 0), (Ellipsis, I2, slice(1, 4, 2)),
]


@pytest.mark.parametrize("idx", GET_CASES, ids=[repr(c)[:60] for c in GET_CASES])
def test_getitem_matches_numpy(idx):
    x = mx.array(A)
    expected = A[idx]
    assert_array_equal(x[idx], expected, mx.int32)


def test_getitem_with_lazuli_index_arrays():
    x = mx.array(A)
    assert_array_equal(x[mx.array(I0)], A[I0])
    assert_array_equal(x[:, mx.array([2, 0], mx.uint8), 1], A[:, [2, 0], 1])
    assert_array_equal(x[mx.array(1)], A[1])


def test_getitem_scalar_and_lazy_source():
    x = mx.array(A) * 2
    assert x[1, 2, 3, 4].item() == A[1, 2, 3, 4] * 2
    y = mx.array(5)
    assert y[...].item() == 5 and y[None].shape == (1,) and y[()].item() == 5


def test_getitem_errors():
    x = mx.array(A)
    with pytest.raises(IndexError):
        x[2]
    with pytest.raises(IndexError):
        x[0, 0, 0, 0, 0]
    with pytest.raises(IndexError):
        x[..., ...]
    with pytest.raises(IndexError):
        mx.array(1)[0]
    with pytest.raises(ValueError, match="boolean"):
        x[mx.array([True, False])]
    with pytest.raises(ValueError):
        x[mx.array([0.5])]
    with pytest.raises(ValueError):
        x["a"]
    with pytest.raises((TypeError, ValueError)):
        x[1.5]
    with pytest.raises(ValueError):
        x[np.array([0, 1]), np.array([0, 1, 2])]


def test_out_of_bounds_array_index_is_an_error_not_a_crash():
    x = mx.array([1, 2, 3])
    with pytest.raises(ValueError):
        x[mx.array([5])].tolist()


SET_CASES = [
    (1, 7), ((0, 2), np.arange(20).reshape(4, 5)), (slice(None, None, -1), 3),
    ((Ellipsis, 1), np.arange(4)), ((slice(None), slice(0, 3, 2), None), 9),
    ((0, slice(None), slice(3, 0, -1)), np.arange(9).reshape(3, 3, 1)),
    (I0[:2], np.arange(120).reshape(2, 3, 4, 5) + 100), ((slice(None), np.array([2, 0])), -5),
    ((0, slice(None), I2), np.arange(60).reshape(2, 2, 3, 5)),
    ((I0[:2], 1, slice(1, 3)), np.arange(20).reshape(2, 2, 5)), ((Ellipsis, I3), 1),
    ((slice(None), 1, slice(None), I3), np.arange(4)), ([1], 4),
    ((Ellipsis, None), np.ones((5, 1))), ((1, None, 2), np.arange(20).reshape(1, 4, 5)),
]


@pytest.mark.parametrize("idx,val", SET_CASES, ids=[repr(c[0])[:60] for c in SET_CASES])
def test_setitem_matches_numpy(idx, val):
    x = mx.array(A)
    alias = x
    e = A.copy()
    e[idx] = val
    x[idx] = val if np.isscalar(val) else mx.array(np.asarray(val, np.int32))
    assert_array_equal(x, e, mx.int32)
    assert alias is x  # the same object is rebound, as MLX does


def test_setitem_casts_to_array_dtype():
    x = mx.array([1.0, 2.0, 3.0])
    x[1] = 5
    x[mx.array([0])] = mx.array([7], mx.int8)
    assert_array_equal(x, [7.0, 5.0, 3.0], mx.float32)


def test_setitem_errors():
    x = mx.array([1, 2, 3])
    with pytest.raises(ValueError):
        x[0:2] = mx.array([1, 2, 3])
    with pytest.raises(IndexError):
        x[5] = 1
    with pytest.raises(TypeError):
        del x[0]
    with pytest.raises(TypeError):
        x[0] = "a"
    assert x.tolist() == [1, 2, 3]


def test_inplace_on_index_keeps_one_update():
    a = mx.array([0, 0])
    idx = mx.array([0, 1, 0, 1])
    a[idx] += 1
    assert a.tolist() == [1, 1]


AT_CASES = [
    (np.array([0, 1, 0, 1]), 1.0), (np.array([2, 2, 2]), np.array([[1.0], [2.0], [3.0]])),
    ((np.array([0, 0, 1]), np.array([1, 1, 0])), 2.0), (slice(1, 3), 5.0), (1, 3.0),
    ((slice(None), np.array([1, 1])), np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])),
    ((Ellipsis,), 2.0),
]
AT_OPS = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply,
          "divide": np.divide, "maximum": np.maximum, "minimum": np.minimum}


@pytest.mark.parametrize("op", list(AT_OPS))
@pytest.mark.parametrize("idx,val", AT_CASES, ids=[repr(c[0])[:40] for c in AT_CASES])
def test_at_accumulates_like_numpy_ufunc_at(op, idx, val):
    base = np.arange(1, 13, dtype=np.float32).reshape(3, 4) / 4 - 1
    e = base.copy()
    AT_OPS[op].at(e, idx, val)
    x = mx.array(base)
    v = val if np.isscalar(val) else mx.array(np.asarray(val, np.float32))
    r = getattr(x.at[idx], op)(v)
    np.testing.assert_allclose(np.array(r), e, rtol=1e-6)
    np.testing.assert_array_equal(np.array(x), base)  # functional: x is unchanged


def test_at_mlx_doc_example():
    a = mx.array([0, 0])
    idx = mx.array([0, 1, 0, 1])
    assert a.at[idx].add(1).tolist() == [2, 2]
    assert a.tolist() == [0, 0]


def test_at_errors():
    x = mx.array([1.0, 2.0])
    with pytest.raises(ValueError):
        x.at.add(1)
    with pytest.raises(TypeError):
        x.at[0].add("a")
    with pytest.raises(ValueError):
        x.at[mx.array([[0, 1]])].add(mx.array([1.0, 2.0, 3.0]))


def test_at_and_set_with_separated_advanced_indices():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    idx = (1, slice(3, None, -2), np.array([1, 2]))  # int and array apart: advanced dims first
    v = np.arange(4, dtype=np.float32).reshape(2, 2)
    e = a.copy()
    e[idx] += v
    np.testing.assert_array_equal(np.array(mx.array(a).at[idx].add(mx.array(v))), e)
    x, e = mx.array(a), a.copy()
    e[np.array([0, 1]), :, 0] = np.ones((1, 1, 3))
    x[mx.array([0, 1]), :, 0] = mx.ones((1, 1, 3)) if hasattr(mx, "ones") else 1.0
    np.testing.assert_array_equal(np.array(x), e)
    x, e = mx.array(a), a.copy()
    e[0, ..., None] = 5
    x[0, ..., None] = 5
    np.testing.assert_array_equal(np.array(x), e)
