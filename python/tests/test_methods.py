"""Array methods: each forwards to the module function of the same name with the array first
(same results, same keyword arguments), reshape/transpose take varargs, astype/view a dtype."""
import numpy as np
import pytest

import lazuli.core as mx
from conftest import assert_array_equal

X = np.array([[1.5, -2.0, 3.25], [0.5, 4.0, -1.0]], np.float32)

REDUCTIONS = ["sum", "prod", "min", "max", "mean", "all", "any", "logsumexp", "std", "var"]
UNARY = ["abs", "square", "sqrt", "rsqrt", "reciprocal", "exp", "log", "log2", "log10",
         "log1p", "sin", "cos", "conj"]


def needs(name):
    if not callable(getattr(mx, name, None)):
        pytest.skip(f"lazuli.core.{name} is not in this build")


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("kwargs", [{}, {"axis": 1}, {"axis": 0, "keepdims": True},
                                    {"axis": (0, 1)}])
def test_reduction_methods_forward(name, kwargs):
    needs(name)
    x = mx.array(np.abs(X) + 0.5)
    got = getattr(x, name)(**kwargs)
    want = getattr(mx, name)(x, **kwargs)
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-6)


@pytest.mark.parametrize("name", UNARY)
def test_unary_methods_forward(name):
    needs(name)
    x = mx.array(np.abs(X) + 0.5)
    np.testing.assert_allclose(np.array(getattr(x, name)()), np.array(getattr(mx, name)(x)),
                               rtol=1e-6)


def test_other_forwarded_methods():
    x = mx.array(X)
    for name, args, kwargs, ref in [
        ("argmax", (), {"axis": 1}, X.argmax(axis=1)),
        ("argmin", (0,), {}, X.argmin(axis=0)),
        ("cumsum", (1,), {}, np.cumsum(X, axis=1)),
        ("cumprod", (), {"axis": 0}, np.cumprod(X, axis=0)),
        ("logcumsumexp", (1,), {}, np.logaddexp.accumulate(X, axis=1)),
        ("logcumsumexp", (), {"axis": 0, "reverse": True},
         np.logaddexp.accumulate(X[::-1], axis=0)[::-1]),
        ("cummax", (1,), {"inclusive": True}, np.maximum.accumulate(X, axis=1)),
        ("flatten", (), {}, X.reshape(-1)),
        ("squeeze", (), {}, X),
        ("swapaxes", (0, 1), {}, X.T),
        ("moveaxis", (0, 1), {}, X.T),
        ("round", (), {"decimals": 1}, np.round(X, 1)),
        ("diagonal", (), {}, np.diagonal(X)),
        ("diag", (), {}, np.diag(X)),
    ]:
        needs(name)
        got = getattr(x, name)(*args, **kwargs)
        np.testing.assert_allclose(np.array(got), ref, rtol=1e-6, err_msg=name)
    needs("split")
    parts = x.split(3, axis=1)
    assert len(parts) == 3 and all(p.shape == (2, 1) for p in parts)


def test_forwarding_uses_the_module_function(monkeypatch):
    seen = []
    monkeypatch.setattr(mx, "sum", lambda a, *args, **kw: seen.append((a, args, kw)) or 7,
                        raising=False)
    x = mx.array([1, 2])
    assert x.sum(0, keepdims=True, stream=mx.cpu) == 7
    assert seen[0][0] is x and seen[0][1] == (0,) and seen[0][2] == {"keepdims": True,
                                                                       "stream": mx.cpu}
    monkeypatch.delattr(mx, "sum")
    with pytest.raises(AttributeError, match="lazuli.core.sum"):
        x.sum()


def test_reshape_and_transpose_varargs():
    x = mx.array(np.arange(24, dtype=np.int32).reshape(2, 3, 4))
    assert_array_equal(x.reshape(4, 6), np.arange(24).reshape(4, 6))
    assert_array_equal(x.reshape((4, -1)), np.arange(24).reshape(4, 6))
    assert_array_equal(x.reshape([24], stream=mx.cpu), np.arange(24))
    assert_array_equal(x.transpose(), np.arange(24).reshape(2, 3, 4).T)
    assert_array_equal(x.transpose(2, 0, 1), np.arange(24).reshape(2, 3, 4).transpose(2, 0, 1))
    assert_array_equal(x.transpose((1, 0, 2)), np.arange(24).reshape(2, 3, 4).transpose(1, 0, 2))
    with pytest.raises(ValueError):
        x.reshape(5, 5)
    with pytest.raises(TypeError):
        x.reshape()
    with pytest.raises(TypeError):
        x.reshape(2.0, 12)
    with pytest.raises(TypeError):
        x.reshape(24, order="C")
    with pytest.raises(ValueError):
        x.transpose(0, 1)


def test_astype_and_view():
    x = mx.array([1.5, -2.5])
    assert_array_equal(x.astype(mx.int32), [1, -2], mx.int32)
    assert x.astype(mx.float16, stream=None).dtype == mx.float16
    assert_array_equal(x.view(mx.int32), np.array([1.5, -2.5], np.float32).view(np.int32))
    with pytest.raises(TypeError):
        x.astype("int32")
    with pytest.raises(ValueError):
        mx.array([1, 2, 3], mx.int8).view(mx.int16)


def test_real_imag_properties():
    z = mx.array([1 + 2j, -3j])
    assert_array_equal(z.real, [1.0, 0.0], mx.float32)
    assert_array_equal(z.imag, [2.0, -3.0], mx.float32)
