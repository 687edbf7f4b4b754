"""Shape functions against NumPy: reshape, transpose, broadcast, split, join, pad, roll, ..."""
import numpy as np
import pytest

import lazuli.core as mx
from conftest import assert_array_equal, to_np

A = np.arange(24, dtype=np.int32).reshape(2, 3, 4)


def test_reshape_flatten_unflatten():
    assert_array_equal(mx.reshape(mx.array(A), (4, -1)), A.reshape(4, -1))
    assert_array_equal(mx.reshape(mx.array(A), shape=[24]), A.reshape(24))
    assert_array_equal(mx.flatten(mx.array(A)), A.reshape(-1))
    assert_array_equal(mx.flatten(mx.array(A), 1, 2), A.reshape(2, 12))
    assert_array_equal(mx.flatten(mx.array(A), start_axis=0, end_axis=1), A.reshape(6, 4))
    assert_array_equal(mx.unflatten(mx.array(A), 2, (2, -1)), A.reshape(2, 3, 2, 2))
    with pytest.raises(ValueError):
        mx.reshape(mx.array(A), (5, 5))


def test_squeeze_expand_dims():
    a = A.reshape(1, 2, 1, 12)
    assert_array_equal(mx.squeeze(mx.array(a)), a.squeeze())
    assert_array_equal(mx.squeeze(mx.array(a), 2), a.squeeze(2))
    assert_array_equal(mx.squeeze(mx.array(a), axis=(0, 2)), a.squeeze((0, 2)))
    assert_array_equal(mx.expand_dims(mx.array(A), 1), np.expand_dims(A, 1))
    assert_array_equal(mx.expand_dims(mx.array(A), (0, -1)), np.expand_dims(A, (0, -1)))
    with pytest.raises(ValueError):
        mx.squeeze(mx.array(A), 0)


def test_transpose_family():
    assert_array_equal(mx.transpose(mx.array(A)), A.T)
    assert_array_equal(mx.transpose(mx.array(A), (1, 0, 2)), A.transpose(1, 0, 2))
    assert_array_equal(mx.permute_dims(mx.array(A), axes=[2, 0, 1]), A.transpose(2, 0, 1))
    assert_array_equal(mx.swapaxes(mx.array(A), 0, 2), A.swapaxes(0, 2))
    assert_array_equal(mx.moveaxis(mx.array(A), 0, -1), np.moveaxis(A, 0, -1))
    assert_array_equal(mx.matrix_transpose(mx.array(A)), A.swapaxes(-1, -2))
    assert_array_equal(mx.flip(mx.array(A)), np.flip(A))
    assert_array_equal(mx.flip(mx.array(A), 1), np.flip(A, 1))
    assert_array_equal(mx.flip(mx.array(A), axis=(0, 2)), np.flip(A, (0, 2)))


def test_broadcast():
    assert_array_equal(mx.broadcast_to(mx.array([1, 2, 3]), (2, 3)),
                       np.broadcast_to(np.array([1, 2, 3], np.int32), (2, 3)))
    assert mx.broadcast_to(1.0, (2, 2)).dtype == mx.float32
    outs = mx.broadcast_arrays(mx.array([[1], [2]]), mx.array([1, 2, 3]))
    assert isinstance(outs, tuple) and [o.shape for o in outs] == [(2, 3), (2, 3)]
    assert mx.broadcast_shapes((1,), (3, 1)) == (3, 1)
    assert mx.broadcast_shapes((6, 7), (5, 6, 1), (7,)) == (5, 6, 7)
    with pytest.raises(ValueError):
        mx.broadcast_shapes((2,), (3,))
    with pytest.raises(ValueError):
        mx.broadcast_to(mx.array([1, 2]), (3,))


def test_split_unstack():
    parts = mx.split(mx.array(A), 2, axis=2)
    assert isinstance(parts, list)
    for p, e in zip(parts, np.split(A, 2, axis=2)):
        assert_array_equal(p, e)
    for p, e in zip(mx.split(mx.array(A), [1, 3], axis=2), np.split(A, [1, 3], axis=2)):
        assert_array_equal(p, e)
    for p, e in zip(mx.split(mx.array(A), indices_or_sections=[1]), np.split(A, [1])):
        assert_array_equal(p, e)
    with pytest.raises(ValueError):
        mx.split(mx.array(A), 5, axis=2)
    us = mx.unstack(mx.array(A), axis=1)
    assert isinstance(us, tuple) and len(us) == 3
    assert_array_equal(us[1], A[:, 1])


def test_concatenate_stack():
    b = A + 100
    assert_array_equal(mx.concatenate([mx.array(A), mx.array(b)]), np.concatenate([A, b]))
    assert_array_equal(mx.concatenate((mx.array(A), mx.array(b)), axis=-1),
                       np.concatenate([A, b], -1))
    assert_array_equal(mx.concatenate([mx.array(A), mx.array(b)], axis=None),
                       np.concatenate([A, b], axis=None))
    assert_array_equal(mx.concat([mx.array(A), b], 1), np.concatenate([A, b], 1))
    assert_array_equal(mx.stack([mx.array(A), mx.array(b)], axis=1), np.stack([A, b], 1))
    assert_array_equal(mx.stack([mx.array(A), mx.array(b)]), np.stack([A, b]))
    assert mx.concatenate([mx.array([1]), mx.array([1.5])]).dtype == mx.float32
    with pytest.raises(ValueError):
        mx.stack([mx.array(A), mx.array(A[0])])
    with pytest.raises(ValueError):
        mx.concatenate([])


def test_repeat_tile():
    assert_array_equal(mx.repeat(mx.array(A), 2, axis=1), np.repeat(A, 2, axis=1))
    assert_array_equal(mx.repeat(mx.array(A), 3), np.repeat(A, 3))
    assert_array_equal(mx.tile(mx.array(A), 2), np.tile(A, 2))
    assert_array_equal(mx.tile(mx.array(A), (2, 1, 1, 3)), np.tile(A, (2, 1, 1, 3)))


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
@pytest.mark.parametrize("width", [1, (1,), (1, 2), [(0, 1), (2, 1), (1, 0)]], ids=str)
def test_pad(mode, width):
    np_width = width
    if isinstance(width, tuple) and len(width) == 1:
        np_width = width[0]
    out = mx.pad(mx.array(A), width, mode=mode)
    assert_array_equal(out, np.pad(A, np_width, mode=mode))


def test_pad_constant_values():
    assert_array_equal(mx.pad(mx.array(A), 1, constant_values=7), np.pad(A, 1, constant_values=7))
    assert_array_equal(mx.pad(mx.array(A), 1, "constant", mx.array(-1)),
                       np.pad(A, 1, constant_values=-1))
    with pytest.raises(ValueError):
        mx.pad(mx.array(A), 1, mode="wrap")
    # wider than the axis: repeated reflections, as NumPy
    for mode in ("reflect", "symmetric"):
        assert_array_equal(mx.pad(mx.array(A), (3, 7), mode=mode), np.pad(A, (3, 7), mode=mode))
        assert_array_equal(mx.pad(mx.array([[5]]), 2, mode=mode), np.pad([[5]], 2, mode=mode))


def test_roll():
    assert_array_equal(mx.roll(mx.array(A), 5), np.roll(A, 5))
    assert_array_equal(mx.roll(mx.array(A), -1, 2), np.roll(A, -1, 2))
    assert_array_equal(mx.roll(mx.array(A), (1, 2), (0, 2)), np.roll(A, (1, 2), (0, 2)))
    assert_array_equal(mx.roll(mx.array(A), 1, (1, 2)), np.roll(A, 1, (1, 2)))


def test_diag_diagonal_atleast_kron():
    m = A[0]
    assert_array_equal(mx.diagonal(mx.array(m)), np.diagonal(m))
    assert_array_equal(mx.diagonal(mx.array(A), 1, 1, 2), np.diagonal(A, 1, 1, 2))
    assert_array_equal(mx.diagonal(a=mx.array(m), offset=-1), np.diagonal(m, -1))
    assert_array_equal(mx.diag(mx.array(m), k=1), np.diag(m, 1))
    assert_array_equal(mx.diag(mx.array([1, 2])), np.diag([1, 2]).astype(np.int32))
    assert mx.atleast_1d(mx.array(1)).shape == (1,)
    assert mx.atleast_2d(mx.array([1, 2])).shape == (1, 2)
    assert mx.atleast_3d(mx.array([[1, 2]])).shape == np.atleast_3d(np.ones((1, 2))).shape
    outs = mx.atleast_2d(mx.array(1), mx.array([1, 2]))
    assert isinstance(outs, list) and [o.shape for o in outs] == [(1, 1), (1, 2)]
    k = mx.kron(mx.array([[1, 2], [3, 4]]), mx.array([[0, 5], [6, 7]]))
    assert_array_equal(k, np.kron([[1, 2], [3, 4]], [[0, 5], [6, 7]]).astype(np.int32))


def test_as_strided_contiguous():
    x = mx.arange(10)
    assert_array_equal(mx.as_strided(x, (3, 4), (2, 1), 1),
                       np.lib.stride_tricks.as_strided(np.arange(10, dtype=np.int32)[1:],
                                                       (3, 4), (8, 4)))
    assert_array_equal(mx.as_strided(mx.array(A)), A)
    t = mx.transpose(mx.array(A))
    assert_array_equal(mx.contiguous(t), A.T)


def test_dynamic_slice_and_update():
    a = mx.array([[1, 2, 3], [4, 5, 6]])
    assert_array_equal(mx.slice(a, mx.array(1), (0,), (1, 2)), np.array([[4, 5]], np.int32))
    assert_array_equal(mx.slice(a, start_indices=mx.array(1), axes=(1,), slice_size=(2, 1)),
                       np.array([[2], [5]], np.int32))
    out = mx.slice_update(mx.zeros((3, 3)), mx.ones((1, 2)), mx.array([1, 1]), (0, 1))
    expected = np.zeros((3, 3), np.float32)
    expected[1:2, 1:3] = 1
    assert_array_equal(out, expected)


def test_int_sequences_of_any_kind():
    a = mx.array(A)
    assert mx.transpose(a, range(2, -1, -1)).shape == (4, 3, 2)
    assert mx.reshape(a, np.array([4, 6])).shape == (4, 6)
    assert mx.sum(a, axis=np.array([0, 2])).shape == (3,)
    with pytest.raises(TypeError):
        mx.reshape(a, "46")
    with pytest.raises(TypeError):
        mx.reshape(a, [4.0, 6.0])
