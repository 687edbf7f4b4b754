"""lazuli.core.distributed in one process (a size-1 world group); the same module under mpirun
on 2 processes is python/tests/mpi_distributed.py (CTest python_distributed_mpi_2)."""
import numpy as np
import pytest

import lazuli.core as mx
import lazuli.nn as nn

dist = mx.distributed


def test_names():
    for name in ["is_available", "init", "Group", "all_sum", "all_gather", "all_max", "all_min",
                 "sum_scatter", "send", "recv", "recv_like"]:
        assert hasattr(dist, name), name


def test_init_gives_a_size_one_group():
    assert isinstance(dist.is_available(), bool)
    g = dist.init()
    assert isinstance(g, dist.Group)
    assert (g.rank(), g.size()) == (0, 1)
    s = g.split(0)
    assert (s.rank(), s.size()) == (0, 1)
    with pytest.raises(RuntimeError, match="MPI is not available"):
        dist.init(strict=True, backend="mpi")
    with pytest.raises(ValueError, match="unknown backend"):
        dist.init(backend="nccl")


def test_collectives_return_the_input():
    x = mx.array(np.arange(12, dtype=np.float32).reshape(3, 4))
    for f in [dist.all_sum, dist.all_max, dist.all_min, dist.all_gather, dist.sum_scatter]:
        y = f(x, group=dist.init(), stream=mx.cpu)
        np.testing.assert_array_equal(np.array(y), np.array(x))
    with pytest.raises(ValueError, match="singleton"):
        dist.send(x, 0)
    with pytest.raises(ValueError, match="singleton"):
        dist.recv_like(x, 0)
    with pytest.raises(ValueError, match="singleton"):
        dist.recv((2, 2), mx.float32, 0)
    with pytest.raises(TypeError):
        dist.all_sum(x, group=3)


def test_average_gradients_one_process():
    g = {"w": mx.array([1.0, 2.0]), "b": [mx.array(3.0)]}
    out = nn.average_gradients(g)
    assert out["w"] is g["w"] or np.array_equal(np.array(out["w"]), [1.0, 2.0])
