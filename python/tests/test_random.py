"""lazuli.core.random: keys, MLX's key values, the global key sequence in random.state, and the
documented properties of every sampler (ranges, shapes, dtypes, moments)."""
import numpy as np
import pytest

import lazuli.core as mx
from conftest import assert_array_equal, to_np


def test_key_and_split_match_mlx():
    key = mx.random.key(0)
    assert key.dtype == mx.uint32 and key.tolist() == [0, 0]
    assert mx.random.key(2**32 + 5).tolist() == [1, 5]
    k = mx.random.split(key)
    # MLX's documented values for split(key(0)) (its test_random.py)
    assert k.tolist() == [[4146024105, 967050713], [2718843009, 1272950319]]
    assert mx.random.split(key, num=3).shape == (3, 2)


def test_same_key_same_values_and_global_sequence():
    key = mx.random.key(7)
    a = mx.random.uniform(shape=(5,), key=key)
    b = mx.random.uniform(shape=(5,), key=key)
    assert_array_equal(a, to_np(b))
    mx.random.seed(3)
    x1 = to_np(mx.random.normal((4,)))
    x2 = to_np(mx.random.normal((4,)))
    assert not np.array_equal(x1, x2)
    mx.random.seed(3)
    np.testing.assert_array_equal(to_np(mx.random.normal((4,))), x1)
    # the global sequence is MLX's: state[0] is split into (new state, subkey) per draw
    mx.random.seed(3)
    assert mx.random.state[0].tolist() == mx.random.key(3).tolist()
    first, sub = mx.random.split(mx.random.key(3))
    np.testing.assert_array_equal(to_np(mx.random.normal((4,), key=sub)), x1)
    mx.random.normal((4,))
    assert mx.random.state[0].tolist() == first.tolist()


def test_uniform():
    key = mx.random.key(1)
    x = mx.random.uniform(-2, 3, (1000,), key=key)
    assert x.dtype == mx.float32 and x.shape == (1000,)
    v = to_np(x)
    assert v.min() >= -2 and v.max() < 3 and abs(v.mean() - 0.5) < 0.2
    lo = mx.array([0.0, 10.0])
    y = to_np(mx.random.uniform(lo, lo + 1, (500, 2), key=key))
    assert (y[:, 1] >= 10).all() and (y[:, 0] < 1).all()
    assert mx.random.uniform(shape=(2,), dtype=mx.float16, key=key).dtype == mx.float16
    assert mx.random.uniform(key=key).shape == ()


def test_normal_and_laplace():
    key = mx.random.key(2)
    v = to_np(mx.random.normal((20000,), key=key))
    assert abs(v.mean()) < 0.03 and abs(v.std() - 1) < 0.03
    w = to_np(mx.random.normal((20000,), loc=3.0, scale=2.0, key=key))
    np.testing.assert_allclose(w, 3 + 2 * v, rtol=1e-5, atol=1e-5)
    loc = mx.array([0.0, 100.0])
    z = to_np(mx.random.normal((1000, 2), loc=loc, key=key))
    assert abs(z[:, 1].mean() - 100) < 0.2
    lap = to_np(mx.random.laplace((20000,), key=key))
    assert abs(np.median(lap)) < 0.05 and abs(np.mean(np.abs(lap)) - 1) < 0.05
    assert mx.random.normal((2,), mx.float16, key=key).dtype == mx.float16


def test_randint_bernoulli_truncated():
    key = mx.random.key(3)
    r = mx.random.randint(2, 9, (2000,), key=key)
    v = to_np(r)
    assert r.dtype == mx.int32 and v.min() == 2 and v.max() == 8
    # below zero MLX truncates toward zero, so only bounds are promised
    v = to_np(mx.random.randint(-3, 5, (2000,), key=key))
    assert v.min() >= -3 and v.max() <= 4
    assert mx.random.randint(0, 4, (3,), mx.uint8, key=key).dtype == mx.uint8
    b = mx.random.bernoulli(0.3, (20000,), key=key)
    assert b.dtype == mx.bool_ and abs(to_np(b).mean() - 0.3) < 0.02
    assert mx.random.bernoulli(mx.array([0.0, 1.0]), key=key).tolist() == [False, True]
    t = to_np(mx.random.truncated_normal(-1, 0.5, (5000,), key=key))
    assert t.min() >= -1 and t.max() <= 0.5
    assert mx.random.truncated_normal(mx.zeros(3), mx.ones(3), key=key).shape == (3,)


def test_categorical():
    key = mx.random.key(4)
    logits = mx.log(mx.array([[0.1, 0.0, 0.9], [1.0, 0.0, 0.0]]) + 1e-30)
    s = mx.random.categorical(logits, key=key)
    assert s.dtype == mx.uint32 and s.shape == (2,)
    many = to_np(mx.random.categorical(logits, num_samples=4000, key=key))
    assert many.shape == (2, 4000)
    assert set(np.unique(many[0])) <= {0, 2} and abs((many[0] == 2).mean() - 0.9) < 0.03
    assert (many[1] == 0).all()
    assert mx.random.categorical(logits, shape=(5, 2), key=key).shape == (5, 2)
    with pytest.raises(ValueError):
        mx.random.categorical(logits, shape=(2,), num_samples=3, key=key)


def test_permutation_gumbel_bits_mvn():
    key = mx.random.key(5)
    p = to_np(mx.random.permutation(10, key=key))
    assert sorted(p.tolist()) == list(range(10))
    x = mx.reshape(mx.arange(12), (3, 4))
    px = to_np(mx.random.permutation(x, axis=1, key=key))
    assert (np.sort(px, 1) == np.arange(12).reshape(3, 4)).all()
    g = to_np(mx.random.gumbel((20000,), key=key))
    assert abs(g.mean() - 0.5772) < 0.05
    for width, dt in ((4, mx.uint32), (2, mx.uint16), (1, mx.uint8)):
        assert mx.random.bits((3,), width, key=key).dtype == dt
    mean = mx.array([1.0, -1.0])
    cov = mx.array([[1.0, 0.5], [0.5, 2.0]])
    s = to_np(mx.random.multivariate_normal(mean, cov, (20000,), key=key))
    assert s.shape == (20000, 2)
    np.testing.assert_allclose(s.mean(0), [1, -1], atol=0.05)
    np.testing.assert_allclose(np.cov(s.T), [[1, 0.5], [0.5, 2]], atol=0.1)


def test_random_errors():
    with pytest.raises(TypeError):
        mx.random.seed("x")
    with pytest.raises(TypeError):
        mx.random.uniform(shape=(2.5,))
    with pytest.raises(ValueError):
        mx.random.uniform(mx.zeros(3), 1, (2,), key=mx.random.key(0))
