"""Python operators on arrays against NumPy, with MLX's dtype rules for Python scalars (weak:
they take the array's dtype) and MLX's errors for unsupported operands."""
import operator

import numpy as np
import pytest

import lazuli.core as mx
from conftest import assert_array_equal

X = np.array([[1.5, -2.0, 3.25], [0.5, 4.0, -1.0]], np.float32)
Y = np.array([2.0, -0.5, 1.5], np.float32)
XI = np.array([[7, -3, 12], [5, 0, -9]], np.int32)
YI = np.array([2, 5, -4], np.int32)

ARITH = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
         operator.mod, operator.pow]


@pytest.mark.parametrize("op", ARITH, ids=lambda f: f.__name__)
def test_arithmetic_float(op):
    got = op(mx.array(X), mx.array(Y))
    np.testing.assert_allclose(np.array(got), op(X, Y), rtol=1e-5, equal_nan=True)
    got = op(mx.array(X), 2.0)
    np.testing.assert_allclose(np.array(got), op(X, np.float32(2.0)), rtol=1e-5)
    got = op(3.0, mx.array(Y))  # reflected
    np.testing.assert_allclose(np.array(got), op(np.float32(3.0), Y), rtol=1e-5)
    assert got.dtype == mx.float32


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.floordiv,
                                operator.mod], ids=lambda f: f.__name__)
def test_arithmetic_int(op):
    yi = np.where(YI == 0, 1, YI)
    assert_array_equal(op(mx.array(XI), mx.array(yi)), op(XI, yi), mx.int32)
    assert_array_equal(op(mx.array(XI), 3), op(XI, np.int32(3)), mx.int32)
    assert_array_equal(op(10, mx.array(yi)), op(np.int32(10), yi), mx.int32)


def test_weak_scalars_keep_dtype():
    for dt in (mx.float16, mx.bfloat16, mx.int8, mx.uint8, mx.float64):
        x = mx.array([1, 2], dt)
        assert (x + 1).dtype == dt and (2 * x).dtype == dt
    assert (mx.array([1, 2], mx.int8) + 0.5).dtype == mx.float32
    assert (mx.array([1, 2], mx.float16) * 2.5).dtype == mx.float16
    assert (mx.array([True]) + 1).dtype == mx.int32
    assert (mx.array([1], mx.int32) / 2).dtype == mx.float32
    assert (mx.array([1.0]) + (1 + 1j)).dtype == mx.complex64


def test_promotion_between_arrays():
    assert (mx.array([1], mx.int8) + mx.array([1], mx.int16)).dtype == mx.int16
    assert (mx.array([1], mx.uint8) + mx.array([1], mx.int8)).dtype == mx.int16
    assert (mx.array([1], mx.int32) + mx.array([1.0], mx.float16)).dtype == mx.float16


@pytest.mark.parametrize("op", [operator.lt, operator.le, operator.gt, operator.ge, operator.eq,
                                operator.ne], ids=lambda f: f.__name__)
def test_comparisons(op):
    assert_array_equal(op(mx.array(X), mx.array(Y)), op(X, Y), mx.bool_)
    assert_array_equal(op(mx.array(X), 1.5), op(X, 1.5), mx.bool_)
    assert_array_equal(op(1.5, mx.array(X)), op(1.5, X), mx.bool_)


def test_equality_with_non_arrays():
    x = mx.array([1, 2])
    assert (x == "a") is False and (x != "a") is True
    assert (x == None) is False and (x != [1, 2]) is True  # noqa: E711
    with pytest.raises(ValueError, match="less than"):
        x < "a"


@pytest.mark.parametrize("op", [operator.and_, operator.or_, operator.xor, operator.lshift,
                                operator.rshift], ids=lambda f: f.__name__)
def test_bitwise_and_shifts(op):
    a = np.array([1, 6, 255, 12], np.uint8)
    b = np.array([3, 2, 1, 0], np.uint8)
    assert_array_equal(op(mx.array(a), mx.array(b)), op(a, b))
    with pytest.raises(ValueError, match="Floating point"):
        op(mx.array([1.0]), mx.array([1]))
    with pytest.raises(ValueError, match="Floating point"):
        op(mx.array([1]), 1.5)


def test_bool_bitwise():
    a, b = np.array([True, False, True]), np.array([True, True, False])
    assert_array_equal(mx.array(a) & mx.array(b), a & b, mx.bool_)
    assert_array_equal(mx.array(a) | mx.array(b), a | b, mx.bool_)
    assert_array_equal(~mx.array(a), ~a, mx.bool_)


def test_unary():
    assert_array_equal(-mx.array(X), -X, mx.float32)
    assert_array_equal(+mx.array(X), X, mx.float32)
    assert_array_equal(abs(mx.array(X)), np.abs(X), mx.float32)
    assert_array_equal(~mx.array(XI), ~XI, mx.int32)
    with pytest.raises(ValueError, match="bitwise inversion"):
        ~mx.array(X)


def test_matmul():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_allclose(np.array(mx.array(a) @ mx.array(b)), a @ b)
    x = mx.array(a)
    x @= mx.array(b)
    assert x.shape == (2, 4)
    with pytest.raises(ValueError, match="lz_matmul"):
        mx.array(a) @ mx.array(a)


def test_divmod():
    q, r = divmod(mx.array(XI), 4)
    assert_array_equal(q, XI // 4)
    assert_array_equal(r, XI % 4)


def test_inplace_rebinds_same_object():
    x = mx.array([1.0, 2.0])
    y = x
    x += 1
    x *= 2
    x -= 1
    x /= 2
    x **= 2
    assert y is x
    np.testing.assert_allclose(np.array(y), (((np.array([1.0, 2.0]) + 1) * 2 - 1) / 2) ** 2)
    i = mx.array([5, 7])
    j = i
    i //= 2
    i %= 2
    i <<= 1
    i |= 8
    assert j.tolist() == [8, 10]
    with pytest.raises(ValueError, match="In place division"):
        i /= 2
    assert i.dtype == mx.int32


def test_invalid_operands():
    x = mx.array([1, 2])
    for bad in ("a", [1, 2], (1,), None, object(), {"a": 1}):
        with pytest.raises(ValueError, match="Cannot perform addition"):
            x + bad
        with pytest.raises((ValueError, TypeError)):
            bad + x
    with pytest.raises(ValueError, match="inplace addition"):
        x += "a"
    with pytest.raises(TypeError):
        pow(x, 2, 3)
    with pytest.raises(ValueError):
        mx.array([1, 2]) + mx.array([1, 2, 3])
    assert x.tolist() == [1, 2]


def test_error_message_names_op_and_shapes():
    with pytest.raises(ValueError) as e:
        mx.array(np.zeros((2, 3))) + mx.array(np.zeros((4,)))
    assert "(2,3)" in str(e.value).replace(" ", "") or "(2, 3)" in str(e.value)


def test_numpy_operands():
    x = mx.array([1.0, 2.0])
    assert_array_equal(x * np.float64(2.0), [2.0, 4.0], mx.float32)
    assert_array_equal(x + np.int64(1), [2.0, 3.0], mx.float32)
    assert_array_equal(x + np.array([1.0, 1.0], np.float32), [2.0, 3.0], mx.float32)


def test_python_ints_beyond_int32():
    # A weak int would wrap; MLX makes such scalars int64.
    assert (mx.array([1], mx.int64) + 2 ** 40).tolist() == [2 ** 40 + 1]
    r = mx.array([1], mx.int32) * 2 ** 33
    assert r.dtype == mx.int64 and r.tolist() == [2 ** 33]
    assert (mx.array([1.0]) + 2 ** 40).dtype == mx.float32
    assert (mx.array([3], mx.int64) > 2 ** 35).tolist() == [False]
