"""eval and async_eval: trees, implicit results, and the GIL released while kernels run."""
import threading
import time

import numpy as np

import lazuli.core as mx
from xform_util import np_of, rand


def test_eval_computes_every_leaf():
    xs = [mx.ones((3,)) * i for i in range(5)]
    mx.eval(xs, {"k": xs[0] + 1})
    for i, x in enumerate(xs):
        np.testing.assert_allclose(np_of(x), [i] * 3)


def test_async_eval_then_read():
    x = mx.array(rand(64, 64, seed=1))
    y = mx.exp(x) @ x
    mx.async_eval(y)
    z = y + 3
    mx.async_eval([z])
    np.testing.assert_allclose(np_of(z), np.exp(np_of(x)) @ np_of(x) + 3, rtol=1e-4, atol=1e-4)


def test_eval_errors_are_mlx_exceptions():
    with_error = None
    try:
        mx.eval(mx.ones((2, 3)) @ mx.ones((4, 5)))
    except ValueError as e:
        with_error = str(e)
    assert with_error and "(2,3)" in with_error.replace(" ", "") or "matmul" in with_error


def test_gil_is_released_while_kernels_run():
    n = 700
    a = mx.array(rand(n, n, seed=2))
    y = a
    for _ in range(12):
        y = mx.tanh(y @ a) * 0.5
    ticks = [0]
    started = threading.Event()
    stop = threading.Event()

    def spin():
        started.set()
        while not stop.is_set():
            ticks[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    started.wait()
    time.sleep(0.01)
    before = ticks[0]
    t0 = time.perf_counter()
    mx.eval(y)
    spent = time.perf_counter() - t0
    during = ticks[0] - before
    stop.set()
    t.join()
    # the other thread ran while this one computed (with the GIL held it could not run at all
    # for the whole eval; a thread switch interval is 5 ms)
    assert spent > 0.02, spent
    assert during > 1000, (during, spent)


def test_async_eval_releases_python_closures_on_its_worker():
    @mx.custom_function
    def f(x):
        return mx.exp(x) * 2

    @f.vjp
    def f_vjp(primals, cot, out):
        return cot * out

    x = mx.array(rand(256, seed=3))
    for i in range(50):
        # the custom node (holding Python callables) runs and is freed on the worker thread
        y = f(x + i)
        mx.async_eval(y)
        got = np.array(y)  # waits for the worker while this thread holds the GIL
        np.testing.assert_allclose(got, 2 * np.exp(np_of(x) + i), rtol=1e-5)
        del y
    mx.eval(x)  # releases what the worker left for a thread holding the GIL
    g = mx.grad(lambda x: mx.sum(f(x)))(x)
    np.testing.assert_allclose(np_of(g), 2 * np.exp(np_of(x)), rtol=1e-5)


def test_transformed_graphs_built_and_freed_on_other_threads():
    f = mx.grad(lambda x: mx.sum(mx.sin(x) * x))
    results = {}

    def work(k):
        x = mx.array(rand(32, seed=k))
        results[k] = (np_of(x), np.array(f(x)))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for x, g in results.values():
        np.testing.assert_allclose(g, np.cos(x) * x + np.sin(x), rtol=1e-5, atol=1e-6)
