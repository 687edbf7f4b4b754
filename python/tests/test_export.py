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
