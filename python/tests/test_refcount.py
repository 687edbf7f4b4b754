"""No leaks: Python objects (tracemalloc, refcounts) and Lazuli memory (get_active_memory) stay
flat over many iterations of array work: operators, indexing, conversions and errors."""
import gc
import os
import sys
import tracemalloc

import numpy as np
import pytest

import lazuli.core as mx

N = 10_000 if os.environ.get("LZ_TEST_SMALL") else 100_000


def step(w, x, idx):
    """A small training-step-like body built only from the array type's own operations."""
    y = (x @ w) * 0.5 + 1.0
    y = y - y[:, :1]
    g = y.T @ x
    w = w - 0.01 * g.T
    w[0] = w[0] * 0.999
    w = w.at[idx].add(0.001)
    s = float((w * w)[0, 0])
    try:
        w + [1]  # an error path must not leak either
    except ValueError:
        pass
    return w, s


def test_no_leak_over_many_steps():
    rng = np.random.default_rng(0)
    w = mx.array(rng.standard_normal((4, 3)).astype(np.float32))
    x = mx.array(rng.standard_normal((8, 4)).astype(np.float32))
    idx = mx.array([0, 2, 0])
    for _ in range(200):  # warm caches and free lists
        w, _ = step(w, x, idx)
    gc.collect()
    refs_x = sys.getrefcount(x)
    active = mx.get_active_memory()
    tracemalloc.start()
    snap0 = tracemalloc.take_snapshot()
    for _ in range(N):
        w, _ = step(w, x, idx)
    w.tolist()
    gc.collect()
    snap1 = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in snap1.compare_to(snap0, "filename"))
    assert grown < 64 * 1024, grown
    assert sys.getrefcount(x) == refs_x
    assert mx.get_active_memory() <= active + 4096


def test_conversions_do_not_leak():
    n = np.arange(100, dtype=np.float32)
    x = mx.array(n)
    for _ in range(200):
        mx.array(n).tolist(); np.array(x); memoryview(x).tolist(); x[3:9].tolist()
    gc.collect()
    refs = sys.getrefcount(n), sys.getrefcount(x)
    active = mx.get_active_memory()
    tracemalloc.start()
    s0 = tracemalloc.take_snapshot()
    for _ in range(N // 10):
        mx.array(n).tolist()
        np.array(x)
        memoryview(x).tolist()
        x[3:9].tolist()
        mx.array([[1, 2], [3, 4]]).tolist()
        for r in mx.array([[1, 2], [3, 4]]):
            int(r[0])
    gc.collect()
    s1 = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in s1.compare_to(s0, "filename"))
    assert grown < 64 * 1024, grown
    assert (sys.getrefcount(n), sys.getrefcount(x)) == refs
    assert mx.get_active_memory() <= active + 4096


def test_failed_calls_release_their_arguments():
    a = mx.array([1.0, 2.0])
    obj = object()
    refs = sys.getrefcount(a), sys.getrefcount(obj)
    for _ in range(1000):
        with pytest.raises(ValueError):
            a + obj
        with pytest.raises(ValueError):
            a[mx.array([0.5])]
        with pytest.raises((ValueError, TypeError)):
            mx.array([a, obj])
    assert (sys.getrefcount(a), sys.getrefcount(obj)) == refs
