"""Module-level elementwise functions against NumPy: unary math, binary arithmetic with
broadcasting and weak Python scalars, comparisons, logical/bitwise ops, selection, casts."""
import numpy as np
import pytest

import lazuli.core as mx
from conftest import assert_array_equal, to_np

RNG = np.random.default_rng(0)
X = RNG.uniform(-3, 3, (3, 4)).astype(np.float32)
POS = RNG.uniform(0.1, 3, (3, 4)).astype(np.float32)
UNIT = RNG.uniform(-0.9, 0.9, (3, 4)).astype(np.float32)

UNARY = [
    ("abs", np.abs, X), ("sign", np.sign, X), ("negative", np.negative, X),
    ("positive", np.positive, X), ("trunc", np.trunc, X), ("square", np.square, X),
    ("sqrt", np.sqrt, POS), ("rsqrt", lambda v: 1 / np.sqrt(v), POS),
    ("reciprocal", np.reciprocal, POS), ("exp", np.exp, X), ("expm1", np.expm1, X),
    ("sin", np.sin, X), ("cos", np.cos, X), ("tan", np.tan, UNIT), ("arcsin", np.arcsin, UNIT),
    ("arccos", np.arccos, UNIT), ("arctan", np.arctan, X), ("sinh", np.sinh, X),
    ("cosh", np.cosh, X), ("tanh", np.tanh, X), ("arcsinh", np.arcsinh, X),
    ("arccosh", np.arccosh, POS + 1), ("arctanh", np.arctanh, UNIT),
    ("degrees", np.degrees, X), ("radians", np.radians, X), ("log", np.log, POS),
    ("log2", np.log2, POS), ("log10", np.log10, POS), ("log1p", np.log1p, POS),
    ("sigmoid", lambda v: 1 / (1 + np.exp(-v)), X), ("floor", np.floor, X),
    ("ceil", np.ceil, X), ("stop_gradient", lambda v: v, X),
    ("erf", lambda v: np.vectorize(__import__("math").erf)(v).astype(np.float32), X),
    ("isnan", np.isnan, X), ("isinf", np.isinf, X), ("isfinite", np.isfinite, X),
    ("conj", np.conj, X), ("conjugate", np.conjugate, X), ("real", np.real, X),
    ("imag", np.imag, X),
]


@pytest.mark.parametrize("name,ref,x", UNARY, ids=[u[0] for u in UNARY])
def test_unary(name, ref, x):
    out = getattr(mx, name)(mx.array(x))
    expected = ref(x)
    assert out.shape == x.shape
    if expected.dtype == np.bool_:
        assert out.dtype == mx.bool_
        np.testing.assert_array_equal(to_np(out), expected)
    else:
        assert out.dtype == mx.float32
        np.testing.assert_allclose(to_np(out), expected, rtol=2e-5, atol=2e-6)


def test_erfinv_inverts_erf():
    y = mx.erfinv(mx.erf(mx.array(UNIT)))
    np.testing.assert_allclose(to_np(y), UNIT, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["exp", "sqrt", "sin", "log1p", "sigmoid"])
def test_unary_int_inputs_give_float32(name):
    out = getattr(mx, name)(mx.array([1, 2, 3]))
    assert out.dtype == mx.float32
    np.testing.assert_allclose(to_np(out), to_np(getattr(mx, name)(mx.array([1.0, 2.0, 3.0]))))


def test_unary_accepts_python_scalars():
    assert mx.exp(0.0).item() == 1.0
    assert mx.abs(-3).item() == 3 and mx.abs(-3).dtype == mx.int32


def test_special_values():
    v = np.array([np.nan, np.inf, -np.inf, 1.0], np.float32)
    assert_array_equal(mx.isposinf(mx.array(v)), np.isposinf(v))
    assert_array_equal(mx.isneginf(mx.array(v)), np.isneginf(v))
    assert_array_equal(mx.nan_to_num(mx.array(v)), np.nan_to_num(v))
    assert_array_equal(mx.nan_to_num(mx.array(v), nan=5.0, posinf=7, neginf=-7.5),
                       np.nan_to_num(v, nan=5.0, posinf=7, neginf=-7.5))


BINARY = [
    ("add", np.add), ("subtract", np.subtract), ("multiply", np.multiply),
    ("divide", np.divide), ("maximum", np.maximum), ("minimum", np.minimum),
    ("power", lambda a, b: np.power(np.abs(a), b)), ("logaddexp", np.logaddexp),
    ("arctan2", np.arctan2), ("floor_divide", np.floor_divide), ("remainder", np.remainder),
    ("equal", np.equal), ("not_equal", np.not_equal), ("less", np.less),
    ("less_equal", np.less_equal), ("greater", np.greater), ("greater_equal", np.greater_equal),
]


@pytest.mark.parametrize("name,ref", BINARY, ids=[b[0] for b in BINARY])
def test_binary_broadcasting(name, ref):
    a = X.reshape(3, 1, 4)
    b = POS[:2].reshape(1, 2, 4)
    if name == "power":
        a = np.abs(a)
    out = getattr(mx, name)(mx.array(a), mx.array(b))
    expected = ref(a, b)
    assert out.shape == expected.shape
    if expected.dtype == np.bool_:
        assert out.dtype == mx.bool_
        np.testing.assert_array_equal(to_np(out), expected)
    else:
        np.testing.assert_allclose(to_np(out), expected, rtol=1e-5, atol=1e-6)


def test_weak_scalars_keep_array_dtype():
    i8 = mx.array([1, 2, 3], dtype=mx.int8)
    assert mx.add(i8, 1).dtype == mx.int8
    assert mx.multiply(2, i8).dtype == mx.int8
    assert mx.add(i8, 0.5).dtype == mx.float32
    f16 = mx.array([1.0], dtype=mx.float16)
    assert mx.multiply(f16, 2.0).dtype == mx.float16
    assert mx.add(mx.array([1, 2], dtype=mx.uint8), mx.array([1], dtype=mx.int8)).dtype == mx.int16
    assert mx.add(1, 2).dtype == mx.int32 and mx.add(1, 2).item() == 3


def test_integer_division_and_divmod():
    a = np.array([-7, -3, 0, 3, 7], np.int32)
    b = np.array([2, -2, 3, 2, -3], np.int32)
    assert_array_equal(mx.floor_divide(mx.array(a), mx.array(b)), a // b)
    assert_array_equal(mx.remainder(mx.array(a), mx.array(b)), a % b)
    q, r = mx.divmod(mx.array(a), mx.array(b))
    assert_array_equal(q, a // b)
    assert_array_equal(r, a % b)
    assert mx.divide(mx.array(a), mx.array(b)).dtype == mx.float32


def test_logical_and_bitwise():
    a = np.array([True, False, True, False])
    b = np.array([True, True, False, False])
    assert_array_equal(mx.logical_and(mx.array(a), mx.array(b)), a & b)
    assert_array_equal(mx.logical_or(mx.array(a), mx.array(b)), a | b)
    assert_array_equal(mx.logical_xor(mx.array(a), mx.array(b)), a ^ b)
    assert_array_equal(mx.logical_not(mx.array(a)), ~a)
    i = np.array([5, 12, -3, 0], np.int32)
    j = np.array([3, 10, 7, 1], np.int32)
    assert_array_equal(mx.bitwise_and(mx.array(i), mx.array(j)), i & j)
    assert_array_equal(mx.bitwise_or(mx.array(i), mx.array(j)), i | j)
    assert_array_equal(mx.bitwise_xor(mx.array(i), mx.array(j)), i ^ j)
    assert_array_equal(mx.bitwise_invert(mx.array(i)), ~i)
    assert_array_equal(mx.left_shift(mx.array(i), 2), i << 2)
    assert_array_equal(mx.right_shift(mx.array(i), 1), i >> 1)


def test_array_api_aliases():
    assert mx.acos is mx.arccos and mx.atan2 is mx.arctan2 and mx.pow is mx.power
    assert mx.bitwise_left_shift is mx.left_shift
    np.testing.assert_allclose(to_np(mx.asinh(mx.array(X))), np.arcsinh(X), rtol=1e-5)


def test_where_and_clip():
    c = X > 0
    assert_array_equal(mx.where(mx.array(c), mx.array(X), 0.0), np.where(c, X, 0.0))
    assert mx.where(mx.array([True, False]), 1, 2.5).dtype == mx.float32
    np.testing.assert_array_equal(to_np(mx.clip(mx.array(X), -1, 1)), np.clip(X, -1, 1))
    np.testing.assert_array_equal(to_np(mx.clip(mx.array(X), None, 1)), np.minimum(X, 1))
    np.testing.assert_array_equal(to_np(mx.clip(mx.array(X), -1, None)), np.maximum(X, -1))
    lo = mx.array([-1.0, -2.0, -3.0, -0.5])
    np.testing.assert_array_equal(to_np(mx.clip(mx.array(X), lo, 2.0)),
                                  np.clip(X, np.array([-1, -2, -3, -0.5], np.float32), 2))
    with pytest.raises(ValueError):
        mx.clip(mx.array(X), None, None)


def test_isclose_allclose_array_equal():
    a = np.array([1.0, np.nan, np.inf, 2.0], np.float32)
    b = np.array([1.0 + 1e-7, np.nan, np.inf, 2.1], np.float32)
    assert_array_equal(mx.isclose(mx.array(a), mx.array(b)), np.isclose(a, b))
    assert_array_equal(mx.isclose(mx.array(a), mx.array(b), equal_nan=True),
                       np.isclose(a, b, equal_nan=True))
    assert_array_equal(mx.isclose(mx.array(a), mx.array(b), 0.1, 0.0),
                       np.isclose(a, b, 0.1, 0.0))
    assert not mx.allclose(mx.array(a), mx.array(b)).item()
    assert mx.allclose(mx.array(a[:1]), mx.array(b[:1])).item()
    assert mx.array_equal(mx.array([1, 2]), mx.array([1.0, 2.0])).item()
    assert not mx.array_equal(mx.array([1, 2]), mx.array([1, 2, 3])).item()
    assert mx.array_equal(mx.array(a), mx.array(a), equal_nan=True).item()
    assert not mx.array_equal(mx.array(a), mx.array(a)).item()


@pytest.mark.parametrize("decimals", [0, 1, 2, -1])
def test_round(decimals):
    v = np.array([1.25, 2.5, -3.55, 14.5, 0.049], np.float32)
    np.testing.assert_allclose(to_np(mx.round(mx.array(v), decimals)), np.round(v, decimals),
                               rtol=1e-6)
    assert mx.round(mx.array(v), decimals=decimals).shape == v.shape


def test_astype_and_view():
    x = mx.array([1.5, -2.5, 3.0])
    assert_array_equal(mx.astype(x, mx.int32), np.array([1, -2, 3], np.int32))
    v = mx.view(mx.array([1.0], dtype=mx.float32), mx.uint32)
    assert v.dtype == mx.uint32 and v.item() == 0x3F800000
    assert mx.view(mx.array([1, 2], dtype=mx.int32), mx.int8).shape == (8,)


def test_docstrings_start_with_signature():
    for name in ["abs", "add", "where", "clip", "isclose", "round", "view", "astype"]:
        doc = getattr(mx, name).__doc__
        assert doc.startswith(name + "("), doc
        assert "stream" in doc.splitlines()[0]


def test_numpy_scalars_as_arguments():
    x = mx.array(X)
    assert mx.isclose(x, x, rtol=np.float32(1e-3)).all().item()
    assert mx.round(x, np.int64(1)).shape == X.shape
    np.testing.assert_array_equal(to_np(mx.nan_to_num(mx.array([np.nan]), nan=np.float32(2))), [2])
    with pytest.raises(TypeError):
        mx.isclose(x, x, rtol="0.1")
    with pytest.raises(TypeError):
        mx.round(x, 1.0)
