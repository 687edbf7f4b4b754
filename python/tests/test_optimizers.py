"""lazuli.optimizers: each optimizer for a few steps against a NumPy computation of its
update rule, schedules, clipping, state save/load."""
import math

import numpy as np
import pytest

import lazuli.core as mx
import lazuli.nn as nn
import lazuli.optimizers as optim
from lazuli.utils import tree_flatten, tree_map, tree_unflatten


rng = np.random.default_rng(7)
P0 = {"w": rng.standard_normal((3, 4)).astype(np.float32), "b": [rng.standard_normal(4).astype(np.float32)]}
GRADS = [
    {"w": rng.standard_normal((3, 4)).astype(np.float32), "b": [rng.standard_normal(4).astype(np.float32)]}
    for _ in range(4)
]


def to_mx(tree):
    return tree_map(lambda x: mx.array(x), tree)


def run(opt, steps=3):
    params = to_mx(P0)
    for g in GRADS[:steps]:
        params = opt.apply_gradients(to_mx(g), params)
        mx.eval(params, opt.state)
    return params


def check(opt, rule, steps=3, rtol=1e-5, atol=1e-6):
    """rule(p, g, state, t) -> new p, for one NumPy leaf; state is a dict per leaf."""
    got = run(opt, steps)
    for (k, p0) in tree_flatten(P0):
        p = p0.astype(np.float64)
        st = {}
        for t in range(1, steps + 1):
            g = dict(tree_flatten(GRADS[t - 1]))[k].astype(np.float64)
            p = rule(p, g, st, t)
        np.testing.assert_allclose(np.array(dict(tree_flatten(got))[k]), p, rtol=rtol, atol=atol, err_msg=k)


def test_sgd_plain_momentum_nesterov_weight_decay():
    check(optim.SGD(0.1), lambda p, g, s, t: p - 0.1 * g)

    def mom(p, g, s, t, mu=0.9, wd=0.01, damp=0.1):
        g = g + wd * p
        s["v"] = mu * s.get("v", 0) + (1 - damp) * g
        return p - 0.05 * s["v"]

    check(optim.SGD(0.05, momentum=0.9, weight_decay=0.01, dampening=0.1), mom)

    def nest(p, g, s, t, mu=0.9):
        s["v"] = mu * s.get("v", 0) + g
        return p - 0.05 * (g + mu * s["v"])

    check(optim.SGD(0.05, momentum=0.9, nesterov=True), nest)
    with pytest.raises(ValueError):
        optim.SGD(0.1, nesterov=True)


def test_rmsprop_adagrad_adadelta():
    def rms(p, g, s, t):
        s["v"] = 0.9 * s.get("v", 0) + 0.1 * g * g
        return p - 0.01 * g / (np.sqrt(s["v"]) + 1e-8)

    check(optim.RMSprop(0.01, alpha=0.9), rms)

    def ada(p, g, s, t):
        s["v"] = s.get("v", 0) + g * g
        return p - 0.1 * g / (np.sqrt(s["v"]) + 1e-8)

    check(optim.Adagrad(0.1), ada)

    def delta(p, g, s, t):
        s["v"] = 0.9 * s.get("v", 0) + 0.1 * g * g
        d = np.sqrt(s.get("u", 0) + 1e-6) / np.sqrt(s["v"] + 1e-6) * g
        s["u"] = 0.9 * s.get("u", 0) + 0.1 * d * d
        return p - 1.0 * d

    check(optim.AdaDelta(1.0), delta)


def adam_rule(lr, b1, b2, eps, bias_correction=False, wd=0.0):
    def rule(p, g, s, t):
        p = p * (1 - lr * wd)
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
        if bias_correction:
            return p - lr / (1 - b1**t) * s["m"] / (np.sqrt(s["v"]) / np.sqrt(1 - b2**t) + eps)
        return p - lr * s["m"] / (np.sqrt(s["v"]) + eps)

    return rule


def test_adam_family():
    check(optim.Adam(0.01), adam_rule(0.01, 0.9, 0.999, 1e-8), rtol=1e-4)
    check(optim.Adam(0.01, bias_correction=True), adam_rule(0.01, 0.9, 0.999, 1e-8, True), rtol=1e-4)
    check(optim.AdamW(0.01, betas=[0.8, 0.99], weight_decay=0.1), adam_rule(0.01, 0.8, 0.99, 1e-8, wd=0.1), rtol=1e-4)

    def adamax(p, g, s, t):
        s["m"] = 0.9 * s.get("m", 0) + 0.1 * g
        s["v"] = np.maximum(0.999 * s.get("v", 0), np.abs(g))
        return p - 0.01 * s["m"] / (s["v"] + 1e-8)

    check(optim.Adamax(0.01), adamax, rtol=1e-4)

    def lion(p, g, s, t, lr=0.01, wd=0.1):
        m = s.get("m", 0)
        c = 0.9 * m + 0.1 * g
        s["m"] = 0.99 * m + 0.01 * g
        return (1 - lr * wd) * p - lr * np.sign(c)

    check(optim.Lion(0.01, weight_decay=0.1), lion)


def test_adafactor_unfactored_and_factored():
    def rule(p, g, s, t, eps1=1e-30, eps2=1e-3, clip=1.0, decay=-0.8):
        rms = lambda x: np.sqrt(np.mean(x * x))  # noqa: E731
        lr = max(eps2, rms(p)) * min(1e-2, 1 / math.sqrt(t))
        beta2 = 1 - t**decay
        u = g * g + eps1
        if g.ndim >= 2:
            s["r"] = beta2 * s.get("r", 0) + (1 - beta2) * u.mean(-1)
            s["c"] = beta2 * s.get("c", 0) + (1 - beta2) * u.mean(-2)
            r = 1 / np.sqrt(s["r"] / s["r"].mean(-1, keepdims=True))
            c = 1 / np.sqrt(s["c"])
            upd = np.outer(r, c) * g
        else:
            s["v"] = beta2 * s.get("v", 0) + (1 - beta2) * u
            upd = g / np.sqrt(s["v"])
        upd = upd / max(1.0, rms(upd) / clip)
        return p - lr * upd

    check(optim.Adafactor(), rule, rtol=1e-4, atol=1e-6)
    opt = optim.Adafactor(learning_rate=0.1, relative_step=False, beta_1=0.9)
    run(opt, 2)
    assert "exp_avg" in opt.state["w"] and "exp_avg_sq_row" in opt.state["w"]


def test_muon_orthogonalises_matrices():
    opt = optim.Muon(0.02, weight_decay=0.0)
    params = to_mx(P0)
    g = to_mx(GRADS[0])
    new = opt.apply_gradients(g, params)
    upd = (np.array(params["w"]) - np.array(new["w"])) / 0.02
    # The Newton-Schulz update has singular values near 1 (within the bf16 iteration's spread).
    sv = np.linalg.svd(upd / max(1, 3 / 4) ** 0.5, compute_uv=False)
    assert np.all(sv > 0.5) and np.all(sv < 1.5)
    # vectors get the momentum update
    v = (1 - 0.95) * GRADS[0]["b"][0]
    nesterov = GRADS[0]["b"][0] * (1 - 0.95) + v * 0.95
    np.testing.assert_allclose(np.array(new["b"][0]), P0["b"][0] - 0.02 * nesterov, rtol=1e-5)


def test_update_model_step_and_learning_rate():
    model = nn.Linear(2, 1)
    opt = optim.SGD(learning_rate=0.5)
    w0 = np.array(model.weight)
    grads = {"weight": mx.ones((1, 2)), "bias": mx.ones((1,))}
    opt.update(model, grads)
    np.testing.assert_allclose(np.array(model.weight), w0 - 0.5)
    assert opt.step.item() == 1
    opt.learning_rate = 0.25
    assert opt.learning_rate.item() == 0.25
    opt.update(model, grads)
    np.testing.assert_allclose(np.array(model.weight), w0 - 0.75)
    assert opt.step.item() == 2


def test_state_is_a_tree_that_saves_and_loads(tmp_path):
    opt = optim.Adam(0.01)
    run(opt, 2)
    flat = tree_flatten(opt.state)
    assert sorted(k for k, _ in flat) == ["b.0.m", "b.0.v", "learning_rate", "step", "w.m", "w.v"]
    mx.eval(opt.state)
    path = str(tmp_path / "opt.safetensors")
    mx.save_safetensors(path, dict(flat))
    opt2 = optim.Adam(0.01)
    opt2.state = tree_unflatten(list(mx.load(path).items()))
    assert opt2.step.item() == 2
    p1 = run_from(opt, 2)
    p2 = run_from(opt2, 2)
    for (k, a), (_, b) in zip(tree_flatten(p1), tree_flatten(p2)):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-6)


def run_from(opt, start):
    params = to_mx(P0)
    return opt.apply_gradients(to_mx(GRADS[start]), params)


def test_schedules():
    def values(s, n):
        return [float(s(mx.array(i))) for i in range(n)]

    np.testing.assert_allclose(values(optim.exponential_decay(0.1, 0.9), 4), [0.1 * 0.9**i for i in range(4)], rtol=1e-6)
    np.testing.assert_allclose(values(optim.step_decay(0.1, 0.5, 2), 5), [0.1, 0.1, 0.05, 0.05, 0.025], rtol=1e-6)
    cd = optim.cosine_decay(0.1, 10, end=0.01)
    ref = [0.01 + 0.5 * (1 + math.cos(math.pi * min(i, 10) / 10)) * 0.09 for i in range(13)]
    np.testing.assert_allclose(values(cd, 13), ref, rtol=1e-5)
    ls = optim.linear_schedule(0.0, 1.0, 4)
    np.testing.assert_allclose(values(ls, 6), [0, 0.25, 0.5, 0.75, 1, 1], rtol=1e-6)
    with pytest.raises(ValueError):
        optim.linear_schedule(0, 1, 0)
    js = optim.join_schedules([optim.linear_schedule(0, 0.1, 2), optim.exponential_decay(0.1, 0.5)], [2])
    np.testing.assert_allclose(values(js, 5), [0, 0.05, 0.1, 0.05, 0.025], rtol=1e-6)
    with pytest.raises(ValueError):
        optim.join_schedules([], [])
    with pytest.raises(ValueError):
        optim.join_schedules([ls, ls], [])
    # An optimizer evaluates its schedule at its step count.
    opt = optim.SGD(learning_rate=optim.step_decay(1.0, 0.5, 1))
    assert opt.learning_rate.item() == 1.0
    params = {"w": mx.zeros((1,))}
    for _ in range(3):
        params = opt.apply_gradients({"w": mx.ones((1,))}, params)
    np.testing.assert_allclose(np.array(params["w"]), [-(1 + 0.5 + 0.25)])
    # A schedule can also be set later.
    opt = optim.Adam(learning_rate=0.1)
    opt.learning_rate = optim.linear_schedule(0.0, 1.0, 10)
    assert opt.learning_rate.item() == 0.0
    opt.apply_gradients({"w": mx.ones((1,))}, {"w": mx.zeros((1,))})
    opt.apply_gradients({"w": mx.ones((1,))}, {"w": mx.zeros((1,))})
    assert abs(opt.learning_rate.item() - 0.1) < 1e-7


def test_clip_grad_norm():
    g = {"a": mx.array([3.0, 0.0]), "b": [mx.array([4.0])]}
    clipped, norm = optim.clip_grad_norm(g, 1.0)
    assert abs(norm.item() - 5.0) < 1e-6
    np.testing.assert_allclose(np.array(clipped["a"]), [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(np.array(clipped["b"][0]), [0.8], rtol=1e-5)
    clipped, _ = optim.clip_grad_norm(g, 10.0)
    np.testing.assert_allclose(np.array(clipped["a"]), [3.0, 0.0])


def test_multi_optimizer():
    opt = optim.MultiOptimizer(
        [optim.SGD(1.0), optim.SGD(0.1)], [lambda name, g: name.startswith("b")]
    )
    params = to_mx(P0)
    new = opt.apply_gradients(to_mx(GRADS[0]), params)
    np.testing.assert_allclose(np.array(new["b"][0]), P0["b"][0] - GRADS[0]["b"][0], rtol=1e-6)
    np.testing.assert_allclose(np.array(new["w"]), P0["w"] - 0.1 * GRADS[0]["w"], rtol=1e-6)
    assert len(opt.state["states"]) == 2
    opt.learning_rate = 0.5
    assert opt.optimizers[1].learning_rate.item() == 0.5
    with pytest.raises(ValueError):
        optim.MultiOptimizer([optim.SGD(1.0), optim.SGD(1.0)])


def test_training_reduces_loss():
    mx.random.seed(1)
    X = mx.array(rng.standard_normal((64, 4)).astype(np.float32))
    y = X @ mx.array([[1.0], [-2.0], [0.5], [3.0]]) + 0.3
    model = nn.Linear(4, 1)

    def loss_fn(m, x, y):
        return nn.losses.mse_loss(m(x), y)

    lg = nn.value_and_grad(model, loss_fn)
    for opt in [optim.Adam(0.05)]:
        first = None
        for _ in range(60):
            loss, grads = lg(model, X, y)
            opt.update(model, grads)
            mx.eval(model.parameters(), opt.state)
            first = first if first is not None else loss.item()
        assert loss.item() < 0.05 * first
