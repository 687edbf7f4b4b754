"""save/savez/savez_compressed/save_safetensors/save_gguf and load: round trips for every
format through paths, pathlib paths and file objects; MLX's extensions, dicts and metadata."""
import io

import numpy as np
import pytest

import lazuli.core as mx
from conftest import assert_array_equal, to_np

A = np.arange(12, dtype=np.float32).reshape(3, 4)
B = np.array([1, -2, 3], np.int16)


def test_npy(tmp_path):
    mx.save(str(tmp_path / "a"), mx.array(A))  # ".npy" is added
    assert (tmp_path / "a.npy").exists()
    x = mx.load(str(tmp_path / "a.npy"))
    assert isinstance(x, mx.array)
    assert_array_equal(x, A)
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), A)  # NumPy reads it too
    np.save(tmp_path / "b.npy", B)
    assert_array_equal(mx.load(tmp_path / "b.npy"), B)  # a pathlib.Path


@pytest.mark.parametrize("compressed", [False, True])
def test_npz(tmp_path, compressed):
    save = mx.savez_compressed if compressed else mx.savez
    save(str(tmp_path / "z"), mx.array(A), b=mx.array(B))
    d = mx.load(str(tmp_path / "z.npz"))
    assert isinstance(d, dict) and set(d) == {"arr_0", "b"}
    assert_array_equal(d["arr_0"], A)
    assert_array_equal(d["b"], B)
    with np.load(tmp_path / "z.npz") as f:
        np.testing.assert_array_equal(f["b"], B)
    with pytest.raises(ValueError):
        mx.load(str(tmp_path / "z.npz"), return_metadata=True)


def test_safetensors(tmp_path):
    arrays = {"w": mx.array(A), "b": mx.array(B), "h": mx.array([1.5], dtype=mx.bfloat16)}
    mx.save_safetensors(tmp_path / "m", arrays, {"format": "mlx", "note": "x"})
    d = mx.load(str(tmp_path / "m.safetensors"))
    assert set(d) == {"w", "b", "h"}
    assert_array_equal(d["w"], A)
    assert d["h"].dtype == mx.bfloat16 and d["h"].item() == 1.5
    d, meta = mx.load(str(tmp_path / "m.safetensors"), return_metadata=True)
    assert meta == {"format": "mlx", "note": "x"}
    with pytest.raises(ValueError):
        mx.save_safetensors(tmp_path / "bad", arrays, {"n": 1})


def test_gguf(tmp_path):
    mx.save_gguf(str(tmp_path / "g"), {"w": mx.array(A), "i": mx.array(B.astype(np.int32))},
                 {"name": "tiny"})
    d, meta = mx.load(str(tmp_path / "g.gguf"), return_metadata=True)
    assert_array_equal(d["w"], A)
    assert_array_equal(d["i"], B.astype(np.int32))
    assert meta["name"] == "tiny"


def test_gguf_typed_metadata(tmp_path):
    """MLX's GGUF metadata: str, list of str, and scalar or 1-D arrays, read back with their
    types by load(..., return_metadata=True)."""
    meta = {"general.name": "tiny", "tokens": ["<s>", "a b", "\u00e9"],
            "n_layers": mx.array(3, dtype=mx.uint32), "eps": mx.array(1e-5),
            "flag": mx.array(True), "shape": mx.array([4, 5, 6], dtype=mx.int64),
            "ratio": mx.array(0.25, dtype=mx.float64)}
    mx.save_gguf(str(tmp_path / "t.gguf"), {"w": mx.array(A)}, meta)
    d, got = mx.load(str(tmp_path / "t.gguf"), return_metadata=True)
    assert set(got) == set(meta)
    assert got["general.name"] == "tiny"
    assert got["tokens"] == ["<s>", "a b", "\u00e9"] and isinstance(got["tokens"], list)
    for k in ("n_layers", "eps", "flag", "shape", "ratio"):
        assert isinstance(got[k], mx.array) and got[k].dtype == meta[k].dtype, k
        assert_array_equal(got[k], np.array(meta[k]))
    assert got["n_layers"].ndim == 0 and got["shape"].shape == (3,)
    assert_array_equal(d["w"], A)
    # format= on a file without the extension reads the same typed metadata
    (tmp_path / "t.gguf").rename(tmp_path / "t.bin")
    d, got = mx.load(str(tmp_path / "t.bin"), format="gguf", return_metadata=True)
    assert got["tokens"] == ["<s>", "a b", "\u00e9"] and got["shape"].dtype == mx.int64
    assert_array_equal(d["w"], A)
    # and from a file object
    with open(tmp_path / "t.bin", "rb") as f:
        d, got = mx.load(f, format="gguf", return_metadata=True)
    assert got["n_layers"].item() == 3 and got["general.name"] == "tiny"
    # values that are none of str, list of str, or an array of a GGUF type
    with pytest.raises((ValueError, TypeError)):
        mx.save_gguf(str(tmp_path / "bad"), {"w": mx.array(A)}, {"m": mx.zeros((2, 2))})
    with pytest.raises((ValueError, TypeError)):
        mx.save_gguf(str(tmp_path / "bad"), {"w": mx.array(A)}, {"m": {"nested": 1}})
    with pytest.raises(ValueError):
        mx.save_gguf(str(tmp_path / "bad"), {"w": mx.array(A)}, {"m": mx.array([1 + 2j])})


def test_format_argument_and_file_objects(tmp_path):
    mx.save(str(tmp_path / "plain.npy"), mx.array(A))
    (tmp_path / "plain.npy").rename(tmp_path / "plain.bin")
    assert_array_equal(mx.load(str(tmp_path / "plain.bin"), format="npy"), A)
    with pytest.raises(ValueError):
        mx.load(str(tmp_path / "plain.bin"))
    buf = io.BytesIO()
    mx.save(buf, mx.array(A))
    buf.seek(0)
    assert_array_equal(mx.load(buf, format="npy"), A)
    buf = io.BytesIO()
    mx.savez(buf, x=mx.array(B))
    buf.seek(0)
    assert_array_equal(mx.load(buf, format="npz")["x"], B)
    with open(tmp_path / "f.safetensors", "wb") as f:
        mx.save_safetensors(f, {"a": mx.array(A)})
    with open(tmp_path / "f.safetensors", "rb") as f:
        assert_array_equal(mx.load(f)["a"], A)


def test_load_is_lazy_and_errors(tmp_path):
    mx.save(str(tmp_path / "l.npy"), mx.array(A))
    x = mx.load(str(tmp_path / "l.npy"))
    assert to_np(x * 2).sum() == 2 * A.sum()
    with pytest.raises((OSError, ValueError, RuntimeError)):
        mx.load(str(tmp_path / "missing.npy"))
    (tmp_path / "junk.npy").write_bytes(b"not a numpy file")
    with pytest.raises((OSError, ValueError, RuntimeError)):
        mx.load(str(tmp_path / "junk.npy"))
    with pytest.raises(ValueError):
        mx.load(str(tmp_path / "l.npy"), format="zip")
    with pytest.raises(TypeError):
        mx.save_safetensors(str(tmp_path / "x"), [mx.array(A)])
