"""A Python int beside a floating array: the operators take a fast path for small ints (a weak
float of the same value, no cast node). It must give exactly what the general weak-int path
gives, for every floating dtype, every operator and the edges of the fast range."""
import numpy as np
import pytest

import lazuli.core as mx

FLOATS = [mx.float16, mx.bfloat16, mx.float32, mx.float64]
INTS = [0, 1, -1, 3, 255, -(2**24), 2**24, 2**24 + 1, -(2**24) - 1, 2**31 + 7, -(2**40)]


def general(op, x, v):
    """The same operation with the int made an array first: the general weak-int path."""
    return op(x, mx.array(v, dtype=mx.int64).astype(x.dtype))


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("v", INTS)
def test_int_operand_matches_the_general_path(dt, v):
    x = mx.array([-2.5, 0.0, 1.25, 3.0, 1000.5], dtype=dt)
    ops = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: b - a,
           lambda a, b: a == b, lambda a, b: a < b, lambda a, b: a / b]
    for op in ops:
        got = op(x, v)
        ref = general(op, x, v)
        assert got.dtype == ref.dtype
        np.testing.assert_array_equal(np.array(got.astype(mx.float64)) if got.dtype != mx.bool_
                                      else np.array(got),
                                      np.array(ref.astype(mx.float64)) if ref.dtype != mx.bool_
                                      else np.array(ref))


@pytest.mark.parametrize("dt", FLOATS)
def test_in_place_and_reflected_forms(dt):
    x = mx.array([1.5, -2.0], dtype=dt)
    y = x
    y += 3
    assert y.dtype == dt and y.tolist() == [4.5, 1.0]
    assert x.tolist() == [4.5, 1.0]  # in place rebinds the one object, as MLX
    x = mx.array([1.5, -2.0], dtype=dt)
    assert (3 - x).dtype == dt and (3 - x).tolist() == [1.5, 5.0]
    assert (x ** 2).tolist() == [2.25, 4.0]


def test_integer_arrays_keep_the_int_path():
    a = mx.array([1, 2], dtype=mx.int32)
    assert (a + 1).dtype == mx.int32
    u = mx.array([1], dtype=mx.uint8)
    with pytest.raises(ValueError, match="overflow"):
        u + 300
