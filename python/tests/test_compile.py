"""compile: results equal to the uncompiled function, retracing on structure and constants,
shapeless mode, captured state (a training step updating a dict of parameters and optimizer
state), disable/enable, export_to_dot, and errors."""
import io
import os

import numpy as np
import pytest

import lazuli.core as mx
from xform_util import np_of, rand


def gelu(x):
    return 0.5 * x * (1 + mx.erf(x * 0.7071067811865476))


@pytest.mark.parametrize("fun", [
    gelu,
    lambda x: mx.sum(mx.exp(x) * mx.sin(x), axis=-1),
    lambda x: mx.softmax(x * 2 + 1, axis=-1),
    lambda x: (x @ mx.transpose(x)) / 3 - mx.mean(x),
])
def test_compiled_equals_uncompiled(fun):
    x = mx.array(rand(8, 16, seed=1))
    np.testing.assert_allclose(np_of(mx.compile(fun)(x)), np_of(fun(x)), rtol=1e-5, atol=1e-6)


def test_new_values_and_shapes_and_trees():
    calls = []

    def f(d, k):
        calls.append(1)
        return {"s": d["a"] * k + d["b"], "k": k}

    c = mx.compile(f)
    a, b = mx.array(rand(4, seed=2)), mx.array(rand(4, seed=3))
    r1 = c({"a": a, "b": b}, 2.0)
    r2 = c({"a": b, "b": a}, 2.0)  # same signature: replayed, not traced
    assert len(calls) == 1
    np.testing.assert_allclose(np_of(r2["s"]), np_of(b) * 2 + np_of(a), rtol=1e-6)
    assert r1["k"] == 2.0
    c({"a": a, "b": b}, 3.0)  # a new constant traces again
    assert len(calls) == 2
    np.testing.assert_allclose(np_of(c({"a": a, "b": b}, 3.0)["s"]), np_of(a) * 3 + np_of(b),
                               rtol=1e-6)
    c({"a": mx.ones((2, 2)), "b": mx.ones((2, 2))}, 3.0)  # a new shape traces again
    assert len(calls) == 3
    c({"a": a, "b": b}, 3)  # int 3 is not float 3.0
    assert len(calls) == 4
    c(d={"a": a, "b": b}, k=3.0)  # keywords are a different structure
    assert len(calls) == 5
    with pytest.raises(ValueError, match="constants"):
        c({"a": a, "b": b}, object())


def test_shapeless_serves_other_shapes_without_tracing():
    calls = []

    def f(x):
        calls.append(1)
        return mx.exp(x) * 2 + 1

    c = mx.compile(f, shapeless=True)
    for n in (3, 5, 9):
        x = mx.array(rand(n, seed=n))
        np.testing.assert_allclose(np_of(c(x)), np.exp(np_of(x)) * 2 + 1, rtol=1e-5)
    assert len(calls) == 1


def test_captured_state_sgd_step_over_a_dict():
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(32, 3)).astype(np.float32)
    true_w = np.array([[1.0], [-2.0], [0.5]], np.float32)
    ys = xs @ true_w
    x, y = mx.array(xs), mx.array(ys)
    params = {"w": mx.zeros((3, 1)), "b": mx.zeros((1,))}
    opt = {"step": mx.array(0.0), "lr": mx.array(0.1)}
    state = [params, opt]

    def loss_fn(p):
        return mx.mean(mx.square(x @ p["w"] + p["b"] - y))

    grad_fn = mx.value_and_grad(loss_fn)

    def step():
        loss, g = grad_fn(params)
        params["w"] = params["w"] - opt["lr"] * g["w"]
        params["b"] = params["b"] - opt["lr"] * g["b"]
        opt["step"] = opt["step"] + 1
        return loss

    compiled = mx.compile(step, inputs=state, outputs=state)
    # the same steps without compile, for reference
    ref_p = {"w": np.zeros((3, 1), np.float32), "b": np.zeros((1,), np.float32)}
    losses = []
    for i in range(60):
        loss = compiled()
        mx.eval(state)
        losses.append(float(np_of(loss)))
        r = xs @ ref_p["w"] + ref_p["b"] - ys
        assert abs(losses[-1] - float(np.mean(r * r))) < 1e-4 * max(1.0, losses[-1])
        ref_p["w"] = ref_p["w"] - 0.1 * (2 / 32) * xs.T @ r
        ref_p["b"] = ref_p["b"] - 0.1 * (2 / 32) * r.sum(0)
    assert float(np_of(opt["step"])) == 60.0
    np.testing.assert_allclose(np_of(params["w"]), ref_p["w"], rtol=1e-3, atol=1e-4)
    assert losses[-1] < 0.05 * losses[0]
    # the state lists are the same objects, updated in place
    assert state[0] is params and state[1] is opt


def test_state_changes_outside_are_seen():
    s = {"k": mx.array(2.0)}
    c = mx.compile(lambda x: x * s["k"], inputs=s)
    np.testing.assert_allclose(np_of(c(mx.array([1.0]))), [2.0])
    s["k"] = mx.array(5.0)
    np.testing.assert_allclose(np_of(c(mx.array([1.0]))), [5.0])
    # without inputs= the array is captured as a constant when traced, as in MLX
    k = {"k": mx.array(2.0)}
    c2 = mx.compile(lambda x: x * k["k"])
    c2(mx.array([1.0]))
    k["k"] = mx.array(7.0)
    np.testing.assert_allclose(np_of(c2(mx.array([1.0]))), [2.0])


def test_disable_and_enable_compile():
    calls = []

    def f(x):
        calls.append(1)
        return x + 1

    c = mx.compile(f)
    c(mx.ones(2))
    c(mx.ones(2))
    assert len(calls) == 1
    mx.disable_compile()
    try:
        np.testing.assert_allclose(np_of(c(mx.ones(2))), [2.0, 2.0])
        c(mx.ones(2))
        assert len(calls) == 3
    finally:
        mx.enable_compile()
    c(mx.ones(2))
    assert len(calls) == 3


def test_exceptions_and_metadata():
    class Oops(Exception):
        pass

    def bad(x):
        raise Oops()

    with pytest.raises(Oops):
        mx.compile(bad)(mx.ones(1))

    def named(x):
        """Doc."""
        return x

    c = mx.compile(named)
    assert c.__name__ == "named" and c.__doc__ == "Doc."
    with pytest.raises(ValueError):
        mx.compile(lambda x: x + mx.ones(3))(mx.ones(2))


def test_export_to_dot(tmp_path):
    x = mx.array([1.0, 2.0])
    y = mx.exp(x * 2) + 1
    buf = io.StringIO()
    mx.export_to_dot(buf, y)
    text = buf.getvalue()
    assert text.startswith("digraph") and "exp" in text and "multiply" in text
    path = os.path.join(tmp_path, "g.dot")
    mx.export_to_dot(path, {"out": y})
    with open(path) as f:
        assert f.read() == text
    mx.eval(y)  # exporting evaluated nothing before this


def test_large_captured_state():
    # a model-sized state: 120 parameters and two optimizer slots each, updated in one step
    n = 120
    params = {f"p{i}": mx.array(np.full((3,), float(i), np.float32)) for i in range(n)}
    opt = {"m": {k: mx.zeros((3,)) for k in params}, "v": {k: mx.zeros((3,)) for k in params}}
    state = [params, opt]

    def step(g):
        for k in params:
            opt["m"][k] = 0.9 * opt["m"][k] + g
            opt["v"][k] = 0.5 * opt["v"][k] + g * g
            params[k] = params[k] - 0.1 * opt["m"][k] / (mx.sqrt(opt["v"][k]) + 1)
        return mx.sum(params["p0"])

    compiled = mx.compile(step, inputs=state, outputs=state)
    ref = {k: np.full((3,), float(i), np.float64) for i, k in enumerate(params)}
    m = {k: np.zeros(3) for k in params}
    v = {k: np.zeros(3) for k in params}
    for it in range(3):
        g = float(it + 1)
        out = compiled(mx.array(g))
        mx.eval(state)
        for k in ref:
            m[k] = 0.9 * m[k] + g
            v[k] = 0.5 * v[k] + g * g
            ref[k] = ref[k] - 0.1 * m[k] / (np.sqrt(v[k]) + 1)
        np.testing.assert_allclose(np_of(out), ref["p0"].sum(), rtol=1e-5)
    for k in ref:
        np.testing.assert_allclose(np_of(params[k]), ref[k], rtol=1e-5)


def test_many_outputs_across_shapes_and_under_grad():
    calls = []

    def f(x):
        calls.append(1)
        return {"parts": [x * k for k in range(40)], "n": mx.sum(x).astype(mx.int32)}

    c = mx.compile(f)
    for n in (2, 3, 2):  # the third call replays the first trace: its own layout
        x = mx.array(np.arange(n, dtype=np.float32))
        r = c(x)
        assert len(r["parts"]) == 40 and r["parts"][39].shape == (n,)
        np.testing.assert_allclose(np_of(r["parts"][7]), 7 * np.arange(n))
        assert int(np_of(r["n"])) == n * (n - 1) // 2
    assert len(calls) == 2
    g = mx.grad(lambda x: sum((mx.sum(p) for p in c(x)["parts"]), mx.array(0.0)))(mx.ones(3))
    np.testing.assert_allclose(np_of(g), [780.0] * 3)
    with pytest.raises(ValueError, match="1 to 32 arrays"):
        mx.compile(f, shapeless=True)(mx.ones(2))



def test_captured_state_is_not_held_between_calls():
    import gc

    params = {"w": mx.array(rand(256, 256, seed=7))}
    state = [params]
    x = mx.array(rand(256, 256, seed=8))
    mx.eval(params, x)

    def step(x):
        params["w"] = params["w"] - 0.01 * x
        return mx.sum(params["w"])

    c = mx.compile(step, inputs=state, outputs=state)
    used = []
    for _ in range(4):
        loss = c(x)
        mx.eval(loss, state)
        del loss
        gc.collect()
        used.append(mx.get_active_memory())
    # w and x only: the previous step's w is not kept alive by the compiled function
    assert used[-1] == used[1], used
    assert used[-1] <= 2 * 256 * 256 * 4 + 4096, used


def test_captured_state_that_grows_during_the_step():
    # an optimizer that creates its slots on its first update, as MLX's optimizers do
    params = {"w": mx.array([1.0, 2.0])}
    opt = {}
    state = [params, opt]

    def step(g):
        if "m" not in opt:
            opt["m"] = mx.zeros_like(params["w"])
        opt["m"] = 0.5 * opt["m"] + g
        params["w"] = params["w"] - opt["m"]
        return mx.sum(params["w"])

    c = mx.compile(step, inputs=state, outputs=state)
    ref_w, ref_m = np.array([1.0, 2.0]), np.zeros(2)
    for it in range(4):
        out = c(mx.array([1.0, -1.0]))
        mx.eval(state)
        ref_m = 0.5 * ref_m + np.array([1.0, -1.0])
        ref_w = ref_w - ref_m
        np.testing.assert_allclose(np_of(params["w"]), ref_w, rtol=1e-6)
        np.testing.assert_allclose(np_of(opt["m"]), ref_m, rtol=1e-6)
        np.testing.assert_allclose(np_of(out), ref_w.sum(), rtol=1e-6)
