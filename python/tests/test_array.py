"""The array type: construction, attributes, conversions, printing, NumPy interop, pickling."""
import copy
import pickle

import numpy as np
import pytest

import lazuli.core as mx
from conftest import assert_array_equal


# ---- construction ---------------------------------------------------------------------------

@pytest.mark.parametrize("val,dtype", [
    (True, mx.bool_), (3, mx.int32), (2.5, mx.float32), (1 + 2j, mx.complex64),
    (2**31, mx.int64), (-2**31 - 1, mx.int64), (2**31 - 1, mx.int32),
])
def test_scalar_inference(val, dtype):
    x = mx.array(val)
    assert x.dtype == dtype
    assert x.shape == () and x.ndim == 0 and x.size == 1
    assert x.item() == val


@pytest.mark.parametrize("val,dtype", [
    ([True, False], mx.bool_), ([1, 2, 3], mx.int32), ([1, 2.5], mx.float32),
    ([True, 2], mx.int32), ([1, 1j], mx.complex64), ([[1, 2], [3, 4]], mx.int32),
    ((1.5, 2.5), mx.float32), ([(1, 2), (3, 4)], mx.int32), ([], mx.float32),
])
def test_list_inference(val, dtype):
    x = mx.array(val)
    assert x.dtype == dtype
    assert x.shape == np.array(val).shape
    np.testing.assert_array_equal(np.array(x), np.array(val).astype(np.array(x).dtype))


def test_list_ints_wrap_to_int32():
    # MLX stores list ints as int32: values beyond its range wrap.
    assert mx.array([2**31]).tolist() == [-2**31]


@pytest.mark.parametrize("dtype", [mx.bool_, mx.uint8, mx.uint16, mx.uint32, mx.uint64, mx.int8,
                                   mx.int16, mx.int32, mx.int64, mx.float16, mx.bfloat16,
                                   mx.float32, mx.float64, mx.complex64])
def test_dtype_argument(dtype):
    x = mx.array([0, 1, 2], dtype=dtype)
    assert x.dtype == dtype
    assert x.itemsize == dtype.size and x.nbytes == 3 * dtype.size
    assert x.tolist() == ([False, True, True] if dtype == mx.bool_ else [0, 1, 2])
    assert mx.array(1, dtype).dtype == dtype


def test_nonuniform_lists():
    for bad in ([[1, 2], [3]], [[1, 2], 3], [1, [2, 3]]):
        with pytest.raises(ValueError, match="non-uniform length"):
            mx.array(bad)


def test_bad_types():
    with pytest.raises(ValueError, match="Invalid type str"):
        mx.array([1, "a"])
    with pytest.raises(TypeError):
        mx.array(object())
    with pytest.raises(TypeError):
        mx.array([1], dtype="float32")
    with pytest.raises(OverflowError):
        mx.array(2**70)


def test_list_of_arrays_stacks():
    a, b = mx.array([1, 2]), mx.array([3, 4])
    assert_array_equal(mx.array([a, b]), [[1, 2], [3, 4]], mx.int32)
    assert_array_equal(mx.array([a, b], dtype=mx.float32), [[1, 2], [3, 4]], mx.float32)
    with pytest.raises(ValueError, match="non-uniform"):
        mx.array([a, mx.array([1, 2, 3])])


@pytest.mark.parametrize("npdt,dtype", [
    (np.bool_, mx.bool_), (np.uint8, mx.uint8), (np.uint16, mx.uint16), (np.uint32, mx.uint32),
    (np.uint64, mx.uint64), (np.int8, mx.int8), (np.int16, mx.int16), (np.int32, mx.int32),
    (np.int64, mx.int64), (np.float16, mx.float16), (np.float32, mx.float32),
    (np.float64, mx.float32), (np.complex64, mx.complex64), (np.complex128, mx.complex64),
])
def test_from_numpy(npdt, dtype):
    n = (np.arange(12).reshape(3, 4) % 3).astype(npdt)
    x = mx.array(n)
    assert x.dtype == dtype
    np.testing.assert_array_equal(np.array(x), n.astype(np.array(x).dtype))


def test_from_numpy_strided_and_dtype():
    n = np.arange(24, dtype=np.float32).reshape(4, 6)[::2, ::-3]
    assert_array_equal(mx.array(n), n, mx.float32)
    assert_array_equal(mx.array(n, dtype=mx.int16), n.astype(np.int16), mx.int16)
    assert mx.array(np.arange(3.0), dtype=mx.float64).dtype == mx.float64


def test_from_buffer_objects():
    import array as pyarray
    assert_array_equal(mx.array(pyarray.array("i", [1, 2, 3])), [1, 2, 3], mx.int32)
    assert_array_equal(mx.array(memoryview(b"\x01\x02")), [1, 2], mx.uint8)


def test_from_array_copies_reference_and_casts():
    x = mx.array([1, 2])
    assert_array_equal(mx.array(x), [1, 2], mx.int32)
    assert_array_equal(mx.array(x, mx.float32), [1.0, 2.0], mx.float32)


def test_mlx_array_protocol():
    class Wrapper:
        def __mlx_array__(self):
            return mx.array([7, 8])
    assert_array_equal(mx.array(Wrapper()), [7, 8], mx.int32)
    assert_array_equal(mx.array([1, 1]) + Wrapper(), [8, 9], mx.int32)


# ---- attributes and Python values -------------------------------------------------------------

def test_attributes():
    x = mx.array(np.zeros((2, 3, 4), np.float32))
    assert x.shape == (2, 3, 4) and isinstance(x.shape, tuple)
    assert x.ndim == 3 and x.size == 24 and x.itemsize == 4 and x.nbytes == 96
    assert x.dtype == mx.float32
    assert x.T.shape == (4, 3, 2)
    assert len(x) == 2
    with pytest.raises(TypeError):
        len(mx.array(1))


def test_item_and_tolist():
    assert mx.array([[1.5]]).item() == 1.5
    assert isinstance(mx.array(1, mx.uint8).item(), int)
    assert isinstance(mx.array(1, mx.float16).item(), float)
    assert mx.array(0.1).item() == float(np.float32(0.1))
    assert mx.array([1, 2, 3], mx.bfloat16).tolist() == [1.0, 2.0, 3.0]
    assert mx.array([[True], [False]]).tolist() == [[True], [False]]
    assert mx.array([1 + 2j]).tolist() == [1 + 2j]
    assert mx.array(5).tolist() == 5
    assert mx.array(np.zeros((2, 0))).tolist() == [[], []]
    with pytest.raises(ValueError):
        mx.array([1, 2]).item()


def test_scalar_conversions():
    assert int(mx.array(3.7)) == 3
    assert float(mx.array(2)) == 2.0 and isinstance(float(mx.array(2)), float)
    assert bool(mx.array(1)) is True and bool(mx.array(0.0)) is False
    assert [10, 20, 30][mx.array(1)] == 20
    with pytest.raises(TypeError):
        [1, 2][mx.array(1.0)]
    with pytest.raises(ValueError):
        bool(mx.array([1, 2]))
    x = mx.array(3)
    if x > 2:
        pass
    else:
        pytest.fail("scalar control flow")
    assert f"{mx.array(2.5):.2f}" == "2.50"


def test_iteration():
    x = mx.array([[1, 2], [3, 4], [5, 6]])
    rows = list(x)
    assert len(rows) == 3
    for r, e in zip(rows, [[1, 2], [3, 4], [5, 6]]):
        assert_array_equal(r, e, mx.int32)
    with pytest.raises(TypeError):
        iter(mx.array(1))


def test_repr():
    assert repr(mx.array([1, 2])) == "array([1, 2], dtype=int32)"
    assert str(mx.array(1.5)) == "array(1.5, dtype=float32)"
    assert repr(mx.float32) == "lazuli.core.float32"
    assert repr(mx.bool_) == "lazuli.core.bool"


# ---- NumPy interop ----------------------------------------------------------------------------

def test_numpy_zero_copy():
    x = mx.array([1.0, 2.0, 3.0])
    mx.eval(x) if hasattr(mx, "eval") else x.tolist()
    a = np.array(x, copy=False)
    b = np.array(x, copy=False)
    assert a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    m = memoryview(x)
    assert m.format == "f" and m.shape == (3,) and m.itemsize == 4
    assert np.frombuffer(m, np.float32).tolist() == [1.0, 2.0, 3.0]


def test_numpy_of_views_and_lazy():
    x = mx.array(np.arange(12, dtype=np.int32).reshape(3, 4))
    t = x.T + 0
    np.testing.assert_array_equal(np.array(t), np.arange(12).reshape(3, 4).T)
    np.testing.assert_array_equal(np.array(x.T), np.arange(12).reshape(3, 4).T)
    assert np.array(mx.array(np.zeros((0, 3)))).shape == (0, 3)


def test_numpy_complex_and_half():
    np.testing.assert_array_equal(np.array(mx.array([1 + 2j])), np.array([1 + 2j], np.complex64))
    assert np.array(mx.array([1.5], mx.float16)).dtype == np.float16


def test_bfloat16_buffer_as_mlx():
    # MLX exports bfloat16 as 2-byte items with format "B", which NumPy refuses.
    x = mx.array([1.0], mx.bfloat16)
    assert memoryview(x).itemsize == 2
    with pytest.raises((RuntimeError, ValueError, TypeError)):
        np.array(x)


def test_buffer_survives_rebinding():
    x = mx.array([1, 2, 3])
    m = memoryview(x)
    x += 10
    assert m.tolist() == [1, 2, 3]
    assert x.tolist() == [11, 12, 13]


# ---- copying and pickling --------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [mx.float32, mx.int64, mx.bool_, mx.bfloat16, mx.float16,
                                   mx.complex64, mx.float64, mx.uint32])
def test_pickle_roundtrip(dtype):
    x = mx.array([[1, 0], [2, 3]], dtype)
    y = pickle.loads(pickle.dumps(x))
    assert y.dtype == dtype and y.shape == x.shape
    assert y.tolist() == x.tolist()


def test_copy():
    x = mx.array([1, 2])
    for y in (copy.copy(x), copy.deepcopy(x)):
        assert y is not x and y.tolist() == [1, 2]
    d = copy.deepcopy({"w": x})
    assert d["w"].tolist() == [1, 2]


def test_hash_by_identity_like_mlx():
    x, y = mx.array(1), mx.array(1)
    assert hash(x) == hash(x) and hash(x) != hash(y)
    d = {x: "x", y: "y"}
    assert d[x] == "x" and d[y] == "y"


def test_weakref():
    import weakref
    x = mx.array(1)
    r = weakref.ref(x)
    assert r() is x
    del x
    assert r() is None


# ---- DLPack and __array__ -----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [mx.float32, mx.int64, mx.uint8, mx.float16, mx.complex64,
                                   mx.int8, mx.float64])
def test_dlpack_numpy_shares_memory(dtype):
    x = mx.array([[1, 2, 3], [4, 5, 6]], dtype)
    n = np.from_dlpack(x)
    assert n.shape == (2, 3)
    np.testing.assert_array_equal(n, np.array(x))
    assert n.__array_interface__["data"][0] == np.asarray(x).__array_interface__["data"][0]
    assert x.__dlpack_device__() == (1, 0)


def test_dlpack_keeps_data_alive():
    x = mx.array(np.arange(1000, dtype=np.float32)) * 2
    n = np.from_dlpack(x)
    del x
    import gc
    gc.collect()
    assert n[999] == 1998.0


def test_dlpack_torch_bfloat16():
    try:  # torch may fail to load its libraries late in a process (static TLS) or under ASan
        import torch
    except Exception as e:
        pytest.skip(f"torch unavailable: {e}")
    t = torch.from_dlpack(mx.array([1.5, -2.0], mx.bfloat16))
    assert t.dtype == torch.bfloat16 and t.tolist() == [1.5, -2.0]
    cap = mx.array([1]).__dlpack__()  # an unconsumed capsule frees itself
    del cap


def test_dunder_array():
    x = mx.array([[1, 2], [3, 4]])
    a = x.__array__()
    assert a.dtype == np.int32 and a.tolist() == [[1, 2], [3, 4]]
    assert x.__array__(np.float64).dtype == np.float64
