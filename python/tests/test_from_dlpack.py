"""from_dlpack: MLX's import of DLPack producers (NumPy arrays, PyTorch tensors), against the
producers' own values; the memory is shared when the layout allows (writes through the producer
show), copied when asked or needed."""
import gc

import numpy as np
import pytest

import lazuli.core as mx
from conftest import assert_array_equal

# (NumPy 1.24 and this PyTorch export no bool tensors; lazuli's own export covers bool.)
NP_DTYPES = [(np.uint8, mx.uint8), (np.uint16, mx.uint16),
             (np.uint32, mx.uint32), (np.uint64, mx.uint64), (np.int8, mx.int8),
             (np.int16, mx.int16), (np.int32, mx.int32), (np.int64, mx.int64),
             (np.float16, mx.float16), (np.float32, mx.float32), (np.float64, mx.float64),
             (np.complex64, mx.complex64)]


@pytest.mark.parametrize("npdt,dt", NP_DTYPES)
def test_dtypes(npdt, dt):
    x = (np.arange(12).reshape(3, 4) % 5).astype(npdt)
    assert_array_equal(mx.from_dlpack(x), x, dt)
    assert_array_equal(mx.from_dlpack(x, copy=True), x, dt)


def test_shares_memory_unless_copied():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    shared, copied = mx.from_dlpack(x), mx.from_dlpack(x, copy=True)
    assert_array_equal(shared, x)
    x[0, 0] = 42.0
    assert shared[0, 0].item() == 42.0 and copied[0, 0].item() == 0.0
    assert_array_equal(mx.from_dlpack(x, copy=False), x)


def test_strided_views():
    x = np.arange(24, dtype=np.float32).reshape(4, 6)
    for v in (x[:, ::2], x.T, x[1:3, 1:5], x[::2, ::3].T, x[:, 2]):
        assert_array_equal(mx.from_dlpack(v), v)
        assert_array_equal(mx.from_dlpack(v, copy=False), v)  # a strided view, no copy
        assert_array_equal(mx.from_dlpack(v, copy=True), v)


def test_copies_when_needed():
    x = np.arange(12, dtype=np.int32).reshape(3, 4)
    rev = x[::-1, ::-1]
    assert_array_equal(mx.from_dlpack(rev), rev)
    with pytest.raises(ValueError):
        mx.from_dlpack(rev, copy=False)
    empty = np.zeros((0, 3), np.float32)
    assert mx.from_dlpack(empty).shape == (0, 3)
    assert_array_equal(mx.from_dlpack(np.array(2.5, np.float32)), np.float32(2.5), mx.float32)


def test_keeps_the_producer_alive():
    x = np.arange(1000, dtype=np.float64) * 3
    a = mx.from_dlpack(x[::2])
    del x
    gc.collect()
    assert a[499].item() == 2994.0
    b = a * 2  # a lazy result of the shared memory, evaluated after the producer is gone
    del a
    gc.collect()
    assert b[1].item() == 12.0


def test_round_trip_through_lazuli_and_torch():
    a = mx.array([[1.5, -2.0], [3.0, 4.5]])
    assert_array_equal(mx.from_dlpack(a), np.array(a))
    try:  # torch may fail to load its libraries late in a process (static TLS) or under ASan
        import torch
    except Exception as e:
        pytest.skip(f"torch unavailable: {e}")
    t = torch.arange(6, dtype=torch.float32).reshape(2, 3).T.to(torch.bfloat16)
    b = mx.from_dlpack(t)
    assert b.dtype == mx.bfloat16 and b.shape == (3, 2)
    assert np.array(b.astype(mx.float32)).tolist() == t.float().tolist()
    assert_array_equal(mx.from_dlpack(torch.tensor([[1, 2], [3, 4]], dtype=torch.int16).T),
                       [[1, 3], [2, 4]], mx.int16)


def test_bool_through_lazuli_export():
    assert_array_equal(mx.from_dlpack(mx.array([True, False, True])), [True, False, True],
                       mx.bool_)


def test_errors():
    with pytest.raises(TypeError):
        mx.from_dlpack([1, 2, 3])
    with pytest.raises(TypeError):
        mx.from_dlpack(np.zeros(3), copy=1)
    with pytest.raises(TypeError):
        mx.from_dlpack(np.zeros(3), False)  # copy is keyword-only

    class Gpu:
        def __dlpack_device__(self):
            return (2, 0)

        def __dlpack__(self, **kw):
            raise AssertionError("not reached")
    with pytest.raises(ValueError):
        mx.from_dlpack(Gpu())

    class NotACapsule:
        def __dlpack_device__(self):
            return (1, 0)

        def __dlpack__(self, **kw):
            return object()
    with pytest.raises(ValueError):
        mx.from_dlpack(NotACapsule())
    with pytest.raises(ValueError):  # unsupported dtype: complex128
        mx.from_dlpack(np.zeros(2, np.complex128))
