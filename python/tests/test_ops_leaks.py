"""Reference counting of the module-level functions: calling them in a loop, on success and on
error paths, leaves Lazuli's active memory and Python's traced allocations flat. Each input is
made afresh inside the loop, so a leaked reference to it keeps its buffer alive and shows."""
import gc
import os
import tracemalloc

import numpy as np
import pytest

import lazuli.core as mx

N = 60 if os.environ.get("LZ_TEST_SMALL") else 200
BASE = np.arange(48, dtype=np.float32).reshape(4, 12) / 10


def fresh():
    return mx.array(BASE)


CASES = {
    "elementwise": lambda: [mx.add(fresh(), 1), mx.where(fresh() > 1, fresh(), 0.5),
                            mx.clip(fresh(), None, 2), mx.divmod(fresh(), 3)[1],
                            mx.isclose(fresh(), fresh()), mx.trunc(fresh())],
    "reduce": lambda: [mx.sum(fresh(), axis=(0, 1)), mx.var(fresh(), 1, ddof=1),
                       mx.cumsum(fresh(), reverse=True), mx.argmax(fresh(), 1),
                       mx.softmax(fresh(), -1), mx.minmax(fresh())[0]],
    "shape": lambda: [*mx.split(fresh(), 3, 1), mx.concatenate([fresh(), fresh()], None),
                      mx.pad(fresh(), 2, "reflect"), mx.stack([fresh(), fresh()]),
                      *mx.broadcast_arrays(fresh(), fresh()), mx.roll(fresh(), 1, 0),
                      mx.as_strided(fresh(), (2, 2), (3, 1))],
    "creation": lambda: [mx.full((3, 3), 2.0), mx.arange(0, 5, 0.5),
                         mx.linspace(0, 1, 7, endpoint=False), *mx.meshgrid(fresh(), fresh()),
                         mx.full((4, 12), fresh())],
    "index": lambda: [mx.take(fresh(), mx.array([1, 2]), 1), mx.sort(fresh(), None),
                      mx.topk(fresh(), 2), mx.put_along_axis(fresh(), mx.array([[0]]),
                                                             mx.array(1.0), 0),
                      *mx.unique(fresh(), 5, True, True, True)],
    "matmul": lambda: [mx.matmul(fresh(), mx.transpose(fresh())), mx.einsum("ij,kj->ik", fresh(),
                                                                            fresh()),
                       mx.hadamard_transform(mx.reshape(fresh(), (3, 16))),
                       mx.convolve(mx.flatten(fresh()), mx.array([1.0, 2.0])),
                       *mx.quantize(mx.tile(fresh(), (1, 8)), 32, 4)],
    "random": lambda: [mx.random.uniform(shape=(4,)), mx.random.normal((12,), loc=fresh()),
                       mx.random.categorical(fresh()), mx.random.permutation(fresh(), 1)],
    "linalg_fft_fast": lambda: [*mx.linalg.qr(mx.reshape(fresh(), (8, 6))),
                                mx.linalg.norm(fresh(), 2, 1), mx.fft.rfft2(fresh(), norm="ortho"),
                                mx.fast.rms_norm(fresh(), None, 1e-5),
                                mx.fast.layer_norm(fresh(), mx.ones(12), None, 1e-5)],
}


def bad_calls():
    a = fresh()
    for f in (lambda: mx.reshape(a, (5, 5)), lambda: mx.concatenate([a, mx.ones((3, 3))]),
              lambda: mx.matmul(a, a), lambda: mx.pad(a, 3, "wrap"),
              lambda: mx.take(a, mx.array([1.5])), lambda: mx.unique(a, -1),
              lambda: mx.random.uniform(a, 1, (2,)), lambda: mx.linalg.inv(a),
              lambda: mx.fft.fft(a, norm="bad"), lambda: mx.split(a, 5),
              lambda: mx.quantize(a, 64), lambda: mx.einsum("ij,jk", a, a)):
        try:
            f()
        except (TypeError, ValueError):
            pass
    return []


def run(case):
    outs = case()
    for o in outs:
        np.array(o.astype(mx.float32) if o.dtype == mx.bfloat16 else o)  # evaluate


@pytest.mark.parametrize("name", list(CASES) + ["errors"])
def test_no_leaks(name, tmp_path):
    case = bad_calls if name == "errors" else CASES[name]
    for _ in range(20):  # warm caches, interned objects, the global key chain's first links
        run(case)
    gc.collect()
    mx.clear_cache()
    tracemalloc.start()
    mem0 = mx.get_active_memory()
    snap0 = tracemalloc.take_snapshot()
    for _ in range(N):
        run(case)
    gc.collect()
    mx.clear_cache()
    mem1 = mx.get_active_memory()
    snap1 = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in snap1.compare_to(snap0, "filename"))
    # the global key's graph keeps growing with each draw (as MLX's does) until evaluated
    limit = 64 * N if name == "random" else 16384
    assert mem1 - mem0 <= limit, (name, mem1 - mem0)
    assert grown < 64 * 1024, (name, grown)


def test_io_no_leaks(tmp_path):
    path = str(tmp_path / "w.safetensors")
    mx.save_safetensors(path, {"a": fresh()})
    for _ in range(10):
        np.array(mx.load(path)["a"])
    gc.collect()
    mem0 = mx.get_active_memory()
    for _ in range(N // 2):
        mx.save_safetensors(path, {"a": fresh(), "b": fresh()}, {"k": "v"})
        d, meta = mx.load(path, return_metadata=True)
        np.array(d["b"])
    del d, meta
    gc.collect()
    assert mx.get_active_memory() - mem0 <= 16384
