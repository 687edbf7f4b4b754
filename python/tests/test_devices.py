"""Devices, streams and memory functions: MLX's objects on a machine without a GPU backend."""
import threading

import pytest

import lazuli.core as mx


def test_devices():
    assert mx.default_device() == mx.Device(mx.cpu)
    assert mx.default_device() == mx.cpu and mx.cpu == mx.default_device()
    assert repr(mx.Device(mx.cpu)) == "Device(cpu, 0)"
    assert mx.Device(mx.gpu, 1).type == mx.gpu and mx.Device(mx.gpu, 1).index == 1
    assert isinstance(mx.cpu, mx.DeviceType)
    assert mx.is_available(mx.cpu) and not mx.is_available(mx.gpu)
    with pytest.raises(TypeError):
        mx.Device("cpu")


def test_gpu_is_a_value_error():
    for f in (lambda: mx.set_default_device(mx.gpu), lambda: mx.new_stream(mx.gpu),
              lambda: mx.default_stream(mx.gpu), lambda: mx.stream(mx.gpu).__enter__()):
        with pytest.raises(ValueError, match="gpu"):
            f()
    assert mx.default_device() == mx.cpu


def test_streams():
    s = mx.default_stream(mx.cpu)
    assert repr(s) == "Stream(Device(cpu, 0), 0)"
    assert s.device == mx.cpu and s == mx.default_stream(mx.default_device())
    n = mx.new_stream(mx.cpu)
    assert n != s and n.device == mx.cpu
    with mx.stream(n):
        assert mx.default_stream(mx.cpu) == n
    assert mx.default_stream(mx.cpu) == s
    with mx.stream(mx.cpu):
        assert mx.default_device() == mx.cpu
    with pytest.raises(RuntimeError):
        mx.stream(None)
    mx.set_default_stream(n)
    assert mx.default_stream(mx.cpu) == n
    mx.set_default_stream(s)


def test_synchronize():
    mx.synchronize()
    mx.synchronize(mx.default_stream(mx.cpu))
    with pytest.raises(TypeError):
        mx.synchronize(3)


def test_clear_cache_between_ops():
    """clear_cache also empties the kernels' per-shape caches (oneDNN convolution primitives, FFT
    plans): the same ops afterwards make them again and compute the same values, also while
    another thread clears the cache over and over."""
    import numpy as np

    x = mx.array(np.linspace(-1, 1, 2 * 8 * 8 * 3, dtype=np.float32).reshape(2, 8, 8, 3))
    w = mx.array(np.linspace(-0.5, 0.5, 4 * 3 * 3 * 3, dtype=np.float32).reshape(4, 3, 3, 3))
    v = mx.array(np.linspace(0, 1, 64, dtype=np.float32))

    def ops():
        return np.array(mx.conv2d(x, w)), np.array(mx.fft.fft(v))

    c0, f0 = ops()
    mx.clear_cache()
    assert mx.get_cache_memory() == 0
    c1, f1 = ops()
    assert np.array_equal(c0, c1) and np.array_equal(f0, f1)
    np.testing.assert_allclose(f1, np.fft.fft(np.linspace(0, 1, 64)), rtol=1e-4, atol=1e-4)
    stop = threading.Event()

    def clearer():
        while not stop.is_set():
            mx.clear_cache()

    t = threading.Thread(target=clearer)
    t.start()
    try:
        for _ in range(20):
            c, f = ops()
            assert np.array_equal(c, c0) and np.array_equal(f, f0)
    finally:
        stop.set()
        t.join()


def test_memory_functions():
    mx.clear_cache()
    assert mx.get_cache_memory() == 0
    base = mx.get_active_memory()
    x = mx.array(list(range(1 << 16)))
    assert mx.get_active_memory() >= base + (1 << 18)
    assert mx.get_peak_memory() >= mx.get_active_memory()
    del x
    assert mx.get_active_memory() <= base + 64
    mx.reset_peak_memory()
    assert mx.get_peak_memory() <= mx.get_active_memory() + 64
    old = mx.set_cache_limit(0)
    assert mx.set_cache_limit(old) == 0
    assert mx.set_wired_limit(5) == 0 and mx.set_wired_limit(0) == 5
    assert not mx.metal.is_available()
    assert mx.metal.get_active_memory() == mx.get_active_memory()
    with pytest.raises(ValueError):
        mx.set_memory_limit(-1)
    with pytest.raises(TypeError):
        mx.set_cache_limit("1")


def test_memory_limit_gives_memory_error():
    old = mx.set_memory_limit(1 << 16)
    try:
        with pytest.raises(MemoryError):
            mx.array(list(range(1 << 16))) + 1
            (mx.array(list(range(1 << 16)), mx.float64) * 2).tolist()
    finally:
        mx.set_memory_limit(old)


def test_gil_released_while_evaluating():
    # A thread that sleeps 1 ms at a time needs the GIL to count each wake-up: it counts many
    # while the main thread evaluates a long graph only if evaluation releases the GIL.
    import time
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            time.sleep(0.001)
            ticks.append(1)
    t = threading.Thread(target=tick)
    t.start()
    try:
        x = mx.array(list(range(1 << 20)), mx.float32)
        for _ in range(200):
            x = x * 1.0001 + 1
        t0 = time.perf_counter()
        before = len(ticks)
        x[0].item()
        during = len(ticks) - before
        elapsed = time.perf_counter() - t0
    finally:
        stop.set()
        t.join()
    if elapsed > 0.05:  # long enough to tell
        assert during >= 3, (during, elapsed)


def test_threads_printing_and_rebinding_the_same_array():
    # Evaluations from several Python threads take turns; rebinding an array while another
    # thread evaluates it keeps the old graph alive until that evaluation ends.
    import numpy as np
    x = mx.array(np.arange(1 << 16, dtype=np.float32))
    for _ in range(30):
        x = x * 1.0001 + 1
    shared = {"x": x}
    errors = []

    def reader():
        try:
            for _ in range(5):
                repr(shared["x"])
                shared["x"].tolist()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    def writer():
        for _ in range(50):
            shared["x"] += 1
    threads = [threading.Thread(target=reader) for _ in range(3)] + [threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    expected = np.arange(1 << 16, dtype=np.float32)
    for _ in range(30):
        expected = expected * np.float32(1.0001) + 1
    np.testing.assert_allclose(np.array(shared["x"]), expected + 50, rtol=1e-5)


def test_file_errors_are_runtime_errors_as_in_mlx(tmp_path):
    # MLX raises std::runtime_error ("[load] Failed to open ...") for unreadable files.
    if not callable(getattr(mx, "load", None)):
        pytest.skip("lazuli.core.load is not in this build")
    with pytest.raises(RuntimeError, match="missing.npy"):
        mx.load(str(tmp_path / "missing.npy"))
