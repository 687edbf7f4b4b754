"""lazuli.nn activations (functions and modules), losses and initialisers against formulas."""
import math

import numpy as np
import pytest

import lazuli.core as mx
import lazuli.nn as nn
from lazuli.nn import init, losses


rng = np.random.default_rng(3)
X = np.linspace(-4, 4, 41).astype(np.float32)


def arr(x):
    return mx.array(np.asarray(x, dtype=np.float32))


def close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.array(a), np.asarray(b), rtol=rtol, atol=atol)


def sig(x):
    return 1 / (1 + np.exp(-x))


def softplus(x):
    return np.log1p(np.exp(x))


erf = np.vectorize(math.erf)

ACTIVATIONS = [
    ("sigmoid", nn.Sigmoid, {}, sig),
    ("relu", nn.ReLU, {}, lambda x: np.maximum(x, 0)),
    ("relu2", nn.ReLU2, {}, lambda x: np.maximum(x, 0) ** 2),
    ("relu6", nn.ReLU6, {}, lambda x: np.clip(x, 0, 6)),
    ("leaky_relu", nn.LeakyReLU, {}, lambda x: np.where(x > 0, x, 0.01 * x)),
    ("elu", nn.ELU, {}, lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    ("celu", nn.CELU, {}, lambda x: np.maximum(x, 0) + np.minimum(0, np.exp(x) - 1)),
    ("selu", nn.SELU, {}, lambda x: 1.0507 * np.where(x > 0, x, 1.67326 * (np.exp(x) - 1))),
    ("silu", nn.SiLU, {}, lambda x: x * sig(x)),
    ("softplus", nn.Softplus, {}, softplus),
    ("softsign", nn.Softsign, {}, lambda x: x / (1 + np.abs(x))),
    ("softshrink", nn.Softshrink, {}, lambda x: np.where(np.abs(x) > 0.5, x - np.sign(x) * 0.5, 0)),
    ("log_sigmoid", nn.LogSigmoid, {}, lambda x: np.log(sig(x))),
    ("gelu", nn.GELU, {}, lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2)))),
    ("gelu_approx", None, {}, lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))),
    ("gelu_fast_approx", None, {}, lambda x: x * sig(1.702 * x)),
    ("mish", nn.Mish, {}, lambda x: x * np.tanh(softplus(x))),
    ("hardswish", nn.Hardswish, {}, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    ("hard_tanh", nn.HardTanh, {}, lambda x: np.clip(x, -1, 1)),
    ("hard_shrink", nn.HardShrink, {}, lambda x: np.where(np.abs(x) > 0.5, x, 0)),
    ("tanh", nn.Tanh, {}, np.tanh),
    ("step", nn.Step, {}, lambda x: (x > 0).astype(np.float32)),
]


@pytest.mark.parametrize("name,cls,kw,ref", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation(name, cls, kw, ref):
    expected = ref(X.astype(np.float64))
    close(getattr(nn, name)(arr(X)), expected, rtol=1e-4, atol=1e-5)
    if cls is not None:
        close(cls(**kw)(arr(X)), expected, rtol=1e-4, atol=1e-5)


def test_activations_with_arguments():
    x = X.reshape(-1, 1) * np.ones((1, 4), np.float32)
    close(nn.leaky_relu(arr(X), 0.2), np.where(X > 0, X, 0.2 * X))
    close(nn.elu(arr(X), 2.0), np.where(X > 0, X, 2 * (np.exp(X) - 1)), rtol=1e-5)
    close(nn.GELU(approx="tanh")(arr(X)), nn.gelu_approx(arr(X)))
    close(nn.GELU(approx="fast")(arr(X)), nn.gelu_fast_approx(arr(X)))
    with pytest.raises(ValueError):
        nn.GELU(approx="bad")
    s = np.exp(x) / np.exp(x).sum(-1, keepdims=True)
    close(nn.softmax(arr(x)), s)
    close(nn.Softmax()(arr(x)), s)
    close(nn.log_softmax(arr(x)), np.log(s), atol=1e-5)
    close(nn.LogSoftmax()(arr(x)), np.log(s), atol=1e-5)
    close(nn.softmin(arr(X)), np.exp(-X) / np.exp(-X).sum(), atol=1e-6)
    g = rng.standard_normal((3, 6)).astype(np.float32)
    close(nn.glu(arr(g)), g[:, :3] * sig(g[:, 3:]))
    close(nn.GLU(axis=0)(arr(g[:2])), g[:1] * sig(g[1:2]))
    p = nn.PReLU(num_parameters=1, init=0.25)
    close(p(arr(X)), np.where(X > 0, X, 0.25 * X))
    assert p.weight.shape == (1,)
    close(nn.step(arr(X), 1.0), (X > 1).astype(np.float32))


def test_cross_entropy():
    logits = rng.standard_normal((4, 5)).astype(np.float32)
    t = np.array([0, 3, 4, 1])
    lse = np.log(np.exp(logits).sum(-1))
    ref = lse - logits[np.arange(4), t]
    close(losses.cross_entropy(arr(logits), mx.array(t)), ref, rtol=1e-5)
    probs = np.eye(5, dtype=np.float32)[t]
    close(losses.cross_entropy(arr(logits), arr(probs)), ref, rtol=1e-5)
    w = rng.random(4).astype(np.float32)
    close(losses.cross_entropy(arr(logits), mx.array(t), weights=arr(w), reduction="sum"), (ref * w).sum(), rtol=1e-5)
    ls = 0.1
    ref_ls = lse - (1 - ls) * logits[np.arange(4), t] - ls * logits.mean(-1)
    close(losses.cross_entropy(arr(logits), mx.array(t), label_smoothing=ls, reduction="mean"), ref_ls.mean(), rtol=1e-5)
    # class axis first
    close(losses.cross_entropy(arr(logits.T), mx.array(t), axis=0), ref, rtol=1e-5)
    with pytest.raises(ValueError):
        losses.cross_entropy(arr(logits), mx.array(t[:3]))
    with pytest.raises(ValueError):
        losses.cross_entropy(arr(logits), mx.array(t), label_smoothing=1.0)
    with pytest.raises(ValueError):
        losses.cross_entropy(arr(logits), mx.array(t), reduction="avg")


def test_binary_cross_entropy():
    z = rng.standard_normal(6).astype(np.float32)
    y = (rng.random(6) > 0.5).astype(np.float32)
    p = sig(z)
    ref = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    close(losses.binary_cross_entropy(arr(z), arr(y)), ref.mean(), rtol=1e-5)
    close(losses.binary_cross_entropy(arr(p), arr(y), with_logits=False, reduction="none"), ref, rtol=1e-4)
    # log clipped at -100
    close(losses.binary_cross_entropy(arr([0.0]), arr([1.0]), with_logits=False, reduction="sum"), 100.0)
    with pytest.raises(ValueError):
        losses.binary_cross_entropy(arr(z), arr(y[:3]))


def test_regression_losses():
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((3, 4)).astype(np.float32)
    d = a - b
    close(losses.mse_loss(arr(a), arr(b)), (d**2).mean())
    close(losses.l1_loss(arr(a), arr(b), reduction="sum"), np.abs(d).sum(), rtol=1e-5)
    ad = np.abs(d)
    close(losses.smooth_l1_loss(arr(a), arr(b), beta=0.5, reduction="none"), np.where(ad < 0.5, 0.5 * ad**2 / 0.5, ad - 0.25))
    close(losses.huber_loss(arr(a), arr(b), delta=0.7), np.where(ad <= 0.7, 0.5 * ad**2, 0.7 * (ad - 0.35)), atol=1e-6)
    close(losses.log_cosh_loss(arr(a), arr(b)), np.log(np.cosh(d)), atol=1e-6)
    var = rng.random((3, 4)).astype(np.float32) + 0.1
    ref = 0.5 * (np.log(var) + d**2 / var)
    close(losses.gaussian_nll_loss(arr(a), arr(b), arr(var)), ref.mean(), rtol=1e-5)
    close(losses.gaussian_nll_loss(arr(a), arr(b), arr(var), full=True), ref.mean() + 0.5 * math.log(2 * math.pi), rtol=1e-5)
    with pytest.raises(ValueError):
        losses.mse_loss(arr(a), arr(b[:2]))


def test_classification_and_metric_losses():
    logp = np.log(np.exp(a := rng.standard_normal((4, 3))) / np.exp(a).sum(-1, keepdims=True)).astype(np.float32)
    t = np.array([2, 0, 1, 1])
    close(losses.nll_loss(arr(logp), mx.array(t)), -logp[np.arange(4), t])
    q = np.log(np.exp(b := rng.standard_normal((4, 3))) / np.exp(b).sum(-1, keepdims=True)).astype(np.float32)
    close(losses.kl_div_loss(arr(logp), arr(q)), (np.exp(q) * (q - logp)).sum(-1), atol=1e-6)
    x = rng.standard_normal(5).astype(np.float32)
    y = np.sign(rng.standard_normal(5)).astype(np.float32)
    close(losses.hinge_loss(arr(x), arr(y)), np.maximum(1 - x * y, 0))
    x1, x2 = rng.standard_normal((2, 4, 3)).astype(np.float32)
    cos = (x1 * x2).sum(1) / (np.linalg.norm(x1, axis=1) * np.linalg.norm(x2, axis=1))
    close(losses.cosine_similarity_loss(arr(x1), arr(x2)), cos, rtol=1e-5)
    i1, i2 = rng.standard_normal((2, 5)).astype(np.float32)
    close(losses.margin_ranking_loss(arr(i1), arr(i2), arr(y), margin=0.1), np.maximum(0, -y * (i1 - i2) + 0.1))
    with pytest.raises(ValueError):
        losses.margin_ranking_loss(arr(i1), arr(i2[:2]), arr(y))
    an, po, ne = rng.standard_normal((3, 4, 6)).astype(np.float32)
    ref = np.maximum(np.sqrt(((an - po) ** 2).sum(-1) + 1e-6) - np.sqrt(((an - ne) ** 2).sum(-1) + 1e-6) + 1.0, 0)
    close(losses.triplet_loss(arr(an), arr(po), arr(ne)), ref, rtol=1e-5)


def test_initialisers():
    a = mx.zeros((64, 32))
    close(init.constant(0.5)(a), np.full((64, 32), 0.5))
    u = np.array(init.uniform(-2, -1)(a))
    assert u.min() >= -2 and u.max() < -1
    n = np.array(init.normal(3.0, 0.5)(mx.zeros((100, 100))))
    assert abs(n.mean() - 3) < 0.03 and abs(n.std() - 0.5) < 0.03
    close(init.identity()(mx.zeros((3, 3))), np.eye(3))
    with pytest.raises(ValueError):
        init.identity()(mx.zeros((2, 3)))
    big = mx.zeros((200, 300))
    g = np.array(init.glorot_normal()(big))
    assert abs(g.std() - math.sqrt(2 / 500)) < 0.005
    g = np.array(init.glorot_uniform()(big))
    assert np.abs(g).max() <= math.sqrt(6 / 500) + 1e-6
    h = np.array(init.he_normal()(big))
    assert abs(h.std() - 1 / math.sqrt(300)) < 0.003
    h = np.array(init.he_uniform()(big, mode="fan_out"))
    assert np.abs(h).max() <= math.sqrt(3 / 200) + 1e-6
    conv = np.array(init.he_normal()(mx.zeros((64, 3, 3, 16))))
    assert abs(conv.std() - 1 / math.sqrt(3 * 3 * 16)) < 0.01
    with pytest.raises(ValueError):
        init.glorot_normal()(mx.zeros((5,)))
    s = np.array(init.sparse(0.25)(mx.zeros((10, 8))))
    assert np.all((s == 0).sum(1) >= 2)
    o = np.array(init.orthogonal()(mx.zeros((6, 4))))
    np.testing.assert_allclose(o.T @ o, np.eye(4), atol=1e-4)
    assert init.normal(dtype=mx.float16)(a).dtype == mx.float16
