"""export_function / import_function / exporter: round trips equal bit for bit to the Python
function (keyword arguments, several traces, shapeless traces), and errors for wrong inputs and
missing files."""
import os

import numpy as np
import pytest

import lazuli.core as mx

rng = np.random.default_rng(3)
W = mx.array(rng.standard_normal((6, 4)).astype(np.float32))


def layer(x, y=None):
    h = mx.tanh(x @ W)
    return h if y is None else (h + y, mx.sum(h * y, axis=1))


def rand(*shape):
    return mx.array(rng.standard_normal(shape).astype(np.float32))


def same(a, b):
    a, b = np.array(a), np.array(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_round_trip_with_keyword_arguments(tmp_path):
    path = os.fspath(tmp_path / "f.lzfn")
    x, y = rand(3, 6), rand(3, 4)
    mx.export_function(path, layer, x, y=y)
    g = mx.import_function(path)
    got, want = g(x, y=y), layer(x, y=y)
    assert isinstance(got, tuple) and len(got) == 2
    assert same(got[0], want[0]) and same(got[1], want[1])
    with pytest.raises(ValueError, match="no trace taking float32 \\(5,6\\)"):
        g(rand(5, 6), y=rand(5, 4))


def affine(x, *, scale, shift):
    return x * scale + shift


def test_keyword_arguments_are_matched_by_name(tmp_path):
    # MLX's rule: keyword arrays are inputs by name, whatever the order of the call
    path = os.fspath(tmp_path / "f.lzfn")
    x, s, b = rand(4), rand(4), rand(4)
    mx.export_function(path, affine, x, shift=b, scale=s)
    g = mx.import_function(path)
    want = affine(x, scale=s, shift=b)
    assert same(g(x, scale=s, shift=b)[0], want)
    assert same(g(x, shift=b, scale=s)[0], want)
    # MLX's other form: one tuple of positional arrays and one dict of keyword arrays
    assert same(g((x,), {"shift": b, "scale": s})[0], want)
    with pytest.raises(ValueError, match="no trace taking float32 \\(4,\\), bias: float32 \\(4,\\), scale"):
        g(x, scale=s, bias=b)
    with pytest.raises(ValueError, match="no trace taking"):
        g(x, s, b)  # keyword inputs cannot be given by position
    with pytest.raises(ValueError, match="no trace taking"):
        g(x, scale=s)
    with pytest.raises(ValueError, match="keyword 'scale' is int"):
        g(x, scale=3, shift=b)


def test_tuple_and_dict_forms_export_like_arguments(tmp_path):
    path = os.fspath(tmp_path / "f.lzfn")
    x, y = rand(3, 6), rand(3, 4)
    mx.export_function(path, layer, (x,), {"y": y})
    g = mx.import_function(path)
    got, want = g(x, y=y), layer(x, y=y)
    assert same(got[0], want[0]) and same(got[1], want[1])
    mx.export_function(path, lambda **kw: kw["a"] - kw["b"], {"b": x, "a": x * 2})
    g = mx.import_function(path)
    assert same(g(b=x, a=x * 3)[0], x * 3 - x)


def test_exporter_writes_every_trace(tmp_path):
    path = tmp_path / "f.lzfn"
    with mx.exporter(path, layer) as ex:
        ex(rand(2, 6))
        ex(rand(7, 6))
    g = mx.import_function(path)
    for n in (2, 7):
        x = rand(n, 6)
        assert same(g(x)[0], layer(x))


def test_shapeless_export_runs_on_other_shapes(tmp_path):
    path = os.fspath(tmp_path / "f.lzfn")
    f = lambda x: mx.exp(x) * 2 - x / 3
    mx.export_function(path, f, rand(2, 6), shapeless=True)
    g = mx.import_function(path)
    for n in (1 + 1, 5, 40):
        x = rand(n, 6)
        assert same(g(x)[0], f(x))
    with pytest.raises(ValueError, match="shapeless export: op 'matmul'"):
        mx.export_function(path, layer, rand(2, 6), shapeless=True)


def test_bad_files(tmp_path):
    with pytest.raises(Exception, match="cannot open"):
        mx.import_function(tmp_path / "missing.lzfn")
    bad = tmp_path / "bad.lzfn"
    bad.write_bytes(b"not an exported function at all, just text")
    with pytest.raises(Exception, match="bad magic"):
        mx.import_function(bad)
    with pytest.raises(TypeError):
        mx.export_function(tmp_path / "f.lzfn", 3, rand(2))
