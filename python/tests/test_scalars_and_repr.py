"""Python numbers, integer accumulation, shifts, arange, randint and repr as MLX has them: the C
core's rules (core.h, reduce.h, creation.h, random.h) seen through the Python layer."""
import numpy as np
import pytest

import lazuli.core as mx


def test_python_ints_and_floats_keep_their_value():
    x = mx.array([1], mx.int64) + (1 << 40)
    assert x.dtype == mx.int64 and x.item() == (1 << 40) + 1
    assert (mx.array([0.1], mx.float64) + 0.1).item() == 0.2
    assert mx.array(1 << 40).dtype == mx.int64 and mx.array(1 << 40).item() == 1 << 40
    assert (mx.array([1], mx.float16) + 1e6).dtype == mx.float16  # inf, no error


@pytest.mark.parametrize("dtype,value", [(mx.uint8, 300), (mx.uint8, -1), (mx.int8, 128),
                                         (mx.int32, 1 << 31), (mx.uint32, -5)])
def test_python_int_that_does_not_fit_raises(dtype, value):
    with pytest.raises(ValueError, match="would result in overflow"):
        mx.array([1], dtype) + value
    with pytest.raises(ValueError, match="would result in overflow"):
        mx.array([1], dtype) / value  # checked before the float division, as MLX


def test_sum_and_prod_accumulate_small_ints():
    assert mx.sum(mx.array([100, 100, 100], mx.int8)).item() == 300
    assert mx.sum(mx.array([100, 100, 100], mx.int8)).dtype == mx.int32
    assert mx.prod(mx.array([200, 200], mx.uint8)).dtype == mx.uint32
    assert mx.sum(mx.array([True, True])).dtype == mx.int32
    assert mx.sum(mx.array([1, 2], mx.int64)).dtype == mx.int64


def test_shifts_keep_the_promoted_dtype():
    a = mx.array([100], mx.int8)
    assert (a << mx.array([1], mx.int8)).dtype == mx.int8
    assert (a << mx.array([1], mx.int8)).item() == -56
    assert (mx.array([True]) << mx.array([True])).dtype == mx.uint8


def test_arange_integer_dtype_fractional_step():
    np.testing.assert_array_equal(np.array(mx.arange(0, 3, 0.2, mx.int32)),
                                  np.arange(0, 3, 0.2, dtype=np.int32))
    assert mx.arange(0, 5, float("inf")).tolist() == [0.0]
    assert mx.arange(0, 5, -float("inf")).size == 0


def test_randint_range_and_bool():
    big = (1 << 30) + 1
    x = np.array(mx.random.randint(big, big + 3, (2000,), key=mx.random.key(3)))
    assert set(x.tolist()) == {big, big + 1, big + 2}
    b = np.array(mx.random.randint(0, 1, (100,), mx.bool_, key=mx.random.key(4)))
    assert not b.any()


def test_repr_as_mlx():
    # MLX's python/tests/test_array.py, test_array_repr.
    assert str(mx.array(True)) == "array(True, dtype=bool)"
    assert str(mx.array(1.0)) == "array(1, dtype=float32)"
    assert str(mx.array([1] * 7)) == "array([1, 1, 1, ..., 1, 1, 1], dtype=int32)"
    assert str(mx.array([[[1, 2], [1, 2]], [[1, 2], [1, 2]]])) == (
        "array([[[1, 2],\n        [1, 2]],\n       [[1, 2],\n        [1, 2]]], dtype=int32)")
    assert str(mx.array([1.2], dtype=mx.float16)) == "array([1.2002], dtype=float16)"
    assert str(mx.array([1 - 1j], dtype=mx.complex64)) == "array([1-1j], dtype=complex64)"
    assert repr(mx.array([1.5, 2])) == "array([1.5, 2], dtype=float32)"
    assert repr(mx.array([1234567.0])) == "array([1.23457e+06], dtype=float32)"
