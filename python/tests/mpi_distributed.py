"""lazuli.core.distributed under mpirun (every rank runs this pytest file):
scripts/mpi_test.sh 2 python3 -m pytest python/tests/mpi_distributed.py"""
import numpy as np
import pytest

import lazuli.core as mx
import lazuli.nn as nn

dist = mx.distributed
world = dist.init(strict=True)
R, N = world.rank(), world.size()


def data(r, shape, dtype=np.float32):
    n = int(np.prod(shape))
    return ((np.arange(n) * 3 + (r + 1) * 7) % 23 - 11).astype(dtype).reshape(shape)


def test_world():
    assert N >= 2 and 0 <= R < N


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.float16, np.int64, np.uint8])
def test_reductions(dtype):
    if dtype == np.uint8:
        ref = [np.abs(data(r, (5, 3))).astype(dtype) for r in range(N)]
    else:
        ref = [data(r, (5, 3), dtype) for r in range(N)]
    x = mx.array(ref[R])
    np.testing.assert_array_equal(np.array(dist.all_sum(x)), np.sum(ref, axis=0).astype(dtype))
    np.testing.assert_array_equal(np.array(dist.all_max(x, group=world)), np.max(ref, axis=0))
    np.testing.assert_array_equal(np.array(dist.all_min(x, stream=mx.cpu)), np.min(ref, axis=0))


def test_gather_and_scatter():
    ref = [data(r, (2 * N, 3)) for r in range(N)]
    x = mx.array(ref[R])
    np.testing.assert_array_equal(np.array(dist.all_gather(x)), np.concatenate(ref))
    np.testing.assert_array_equal(np.array(dist.sum_scatter(x)),
                                  np.sum(ref, axis=0)[2 * R:2 * R + 2])
    with pytest.raises(ValueError, match="divisible"):
        dist.sum_scatter(mx.zeros((N + 1,)))


def test_send_recv_ring():
    nxt, prev = (R + 1) % N, (R - 1) % N
    x = mx.array(data(R, (4, 5)))
    s = dist.send(x, nxt)
    y = dist.recv_like(x, prev)
    if R % 2 == 0:
        mx.eval(s)
        mx.eval(y)
    else:
        mx.eval(y)
        mx.eval(s)
    np.testing.assert_array_equal(np.array(y), data(prev, (4, 5)))
    if R == 0:
        mx.eval(dist.send(x, 1))
    elif R == 1:
        z = dist.recv((4, 5), mx.float32, 0)
        np.testing.assert_array_equal(np.array(z), data(0, (4, 5)))


def test_split():
    g = world.split(R % 2)
    assert g.size() == len(range(R % 2, N, 2)) and g.rank() == R // 2
    y = dist.all_sum(mx.array(float(2 ** R)), group=g)
    assert y.item() == sum(2.0 ** r for r in range(R % 2, N, 2))


def test_grad_through_all_sum():
    w = mx.array(data(R + 3, (5,)))
    g = mx.grad(lambda x: (dist.all_sum(x) * w).sum())(mx.array(data(R, (5,))))
    np.testing.assert_array_equal(np.array(g), np.array(w))


def test_average_gradients():
    grads = {"a": mx.array(data(R, (3, 4))), "b": [mx.array(data(R + 1, (7,)))]}
    for size in [32 * 1024 ** 2, 16, 0]:
        out = nn.average_gradients(grads, all_reduce_size=size)
        np.testing.assert_allclose(np.array(out["a"]),
                                   np.mean([data(r, (3, 4)) for r in range(N)], axis=0), 1e-6)
        np.testing.assert_allclose(np.array(out["b"][0]),
                                   np.mean([data(r + 1, (7,)) for r in range(N)], axis=0), 1e-6)


def test_vmap_collectives():
    ref = [data(r, (4, 2 * N, 3)) for r in range(N)]
    x = mx.array(ref[R])
    # all_sum keeps the batch axis; all_gather gathers each example along its own axis 0.
    y = mx.vmap(dist.all_sum, in_axes=1)(x)
    np.testing.assert_array_equal(np.array(y), np.moveaxis(np.sum(ref, axis=0), 1, 0))
    g = mx.vmap(dist.all_gather)(x)
    np.testing.assert_array_equal(np.array(g), np.concatenate(ref, axis=1))
    s = mx.vmap(dist.sum_scatter)(x)
    np.testing.assert_array_equal(np.array(s), np.sum(ref, axis=0)[:, 2 * R:2 * R + 2])


def test_shapes_that_differ_are_an_error_on_every_rank():
    x = mx.zeros((3 + R, 2))
    with pytest.raises(ValueError, match=r"\[lz_all_sum\] shapes differ across ranks"):
        mx.eval(dist.all_sum(x))
    # the group still works
    assert dist.all_sum(mx.array(1.0)).item() == N
