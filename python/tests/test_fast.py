"""lazuli.core.fast against NumPy formulas: rms_norm, fused_rms_silu, layer_norm, rope (both
layouts, base and freqs, scalar and per-batch array offsets) and scaled_dot_product_attention
(no mask, causal, bool and additive masks, grouped-query heads, attention sinks)."""
import numpy as np
import pytest

import lazuli.core as mx
from conftest import to_np

fast = mx.fast
RNG = np.random.default_rng(6)


def rand(*s):
    return RNG.standard_normal(s).astype(np.float32)


def close(x, e, tol=1e-4):
    assert x.shape == e.shape
    np.testing.assert_allclose(to_np(x), e, rtol=tol, atol=tol)


def test_rms_norm_layer_norm():
    x, w, b = rand(2, 3, 8), rand(8), rand(8)
    rms = x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5)
    close(fast.rms_norm(mx.array(x), mx.array(w), 1e-5), rms * w)
    close(fast.rms_norm(mx.array(x), None, eps=1e-5), rms)
    ln = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    close(fast.layer_norm(mx.array(x), mx.array(w), mx.array(b), 1e-5), ln * w + b)
    close(fast.layer_norm(mx.array(x), None, None, 1e-5), ln)
    close(fast.layer_norm(mx.array(x), mx.array(w), None, 1e-5), ln * w)


def test_fused_rms_silu():
    x, w = rand(2, 3, 8), rand(8)
    n = x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5) * w
    close(fast.fused_rms_silu(mx.array(x), mx.array(w), 1e-5), n / (1 + np.exp(-n)))
    n = x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-3)
    close(fast.fused_rms_silu(mx.array(x), None, eps=1e-3), n / (1 + np.exp(-n)))
    with pytest.raises(TypeError):
        fast.fused_rms_silu(mx.array(x), None)
    with pytest.raises(ValueError):
        fast.fused_rms_silu(mx.array(x), mx.array(rand(5)), 1e-5)


def _rope_ref(x, dims, traditional, base, scale, offset, freqs=None):
    L = x.shape[-2]
    inv = 1.0 / freqs if freqs is not None else base ** (-np.arange(0, dims, 2) / dims)
    theta = (np.arange(L)[:, None] + offset) * scale * inv[None, :]
    cos, sin = np.cos(theta), np.sin(theta)
    out = x.copy()
    if traditional:
        x1, x2 = x[..., 0:dims:2], x[..., 1:dims:2]
        out[..., 0:dims:2] = x1 * cos - x2 * sin
        out[..., 1:dims:2] = x1 * sin + x2 * cos
    else:
        h = dims // 2
        x1, x2 = x[..., :h], x[..., h:dims]
        out[..., :h] = x1 * cos - x2 * sin
        out[..., h:dims] = x1 * sin + x2 * cos
    return out


@pytest.mark.parametrize("traditional", [False, True])
@pytest.mark.parametrize("dims", [8, 4])
def test_rope(traditional, dims):
    x = rand(1, 2, 5, 8)
    out = fast.rope(mx.array(x), dims, traditional=traditional, base=10000.0, scale=0.5,
                    offset=3)
    close(out, _rope_ref(x, dims, traditional, 10000.0, 0.5, 3), tol=1e-4)
    out = fast.rope(mx.array(x), dims, traditional=traditional, base=10000.0, scale=1.0,
                    offset=mx.array(2))
    close(out, _rope_ref(x, dims, traditional, 10000.0, 1.0, 2), tol=1e-4)
    freqs = np.linspace(1, 50, dims // 2).astype(np.float32)
    out = fast.rope(mx.array(x), dims, traditional=traditional, base=None, scale=1.0, offset=0,
                    freqs=mx.array(freqs))
    close(out, _rope_ref(x, dims, traditional, None, 1.0, 0, freqs), tol=1e-4)
    with pytest.raises(ValueError):
        fast.rope(mx.array(x), dims, traditional=traditional, base=None, scale=1.0, offset=0)
    with pytest.raises(TypeError):
        fast.rope(mx.array(x), dims)


@pytest.mark.parametrize("traditional", [False, True])
def test_rope_array_offsets(traditional):
    """MLX's array offset: one position per entry of the batch, read at evaluation."""
    x = rand(3, 2, 4, 8)
    offs = np.array([0, 5, 2], np.int32)
    out = fast.rope(mx.array(x), 8, traditional=traditional, base=10000.0, scale=1.0,
                    offset=mx.array(offs))
    expect = np.stack([_rope_ref(x[b:b + 1], 8, traditional, 10000.0, 1.0, int(offs[b]))[0]
                       for b in range(3)])
    close(out, expect, tol=1e-4)
    # a one-element array offset applies to every entry; NumPy integers are array offsets too
    out = fast.rope(mx.array(x), 8, traditional=traditional, base=10000.0, scale=1.0,
                    offset=mx.array([4]))
    close(out, _rope_ref(x, 8, traditional, 10000.0, 1.0, 4), tol=1e-4)
    out = fast.rope(mx.array(x), 8, traditional=traditional, base=10000.0, scale=1.0,
                    offset=np.int64(4))
    close(out, _rope_ref(x, 8, traditional, 10000.0, 1.0, 4), tol=1e-4)
    with pytest.raises(ValueError):  # neither a scalar nor one per batch entry
        np.array(fast.rope(mx.array(x), 8, traditional=traditional, base=10000.0, scale=1.0,
                           offset=mx.array([1, 2])))
    with pytest.raises(ValueError):  # not integers
        np.array(fast.rope(mx.array(x), 8, traditional=traditional, base=10000.0, scale=1.0,
                           offset=mx.array(1.5)))


def _attention(q, k, v, scale, mask=None):
    rep = q.shape[1] // k.shape[1]
    k, v = np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)
    s = scale * q @ np.swapaxes(k, -1, -2)
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == np.bool_ else s + mask
    s = s - s.max(-1, keepdims=True)
    p = np.exp(s)
    return (p / p.sum(-1, keepdims=True)) @ v


@pytest.mark.parametrize("hq,hkv", [(2, 2), (4, 2)])
def test_sdpa(hq, hkv):
    q, k, v = rand(1, hq, 3, 8), rand(1, hkv, 5, 8), rand(1, hkv, 5, 4)
    args = (mx.array(q), mx.array(k), mx.array(v))
    close(fast.scaled_dot_product_attention(*args, scale=0.3), _attention(q, k, v, 0.3))
    causal = np.tril(np.ones((3, 5), bool), k=2)
    close(fast.scaled_dot_product_attention(*args, scale=0.3, mask="causal"),
          _attention(q, k, v, 0.3, causal))
    boolmask = RNG.random((3, 5)) > 0.3
    boolmask[:, 0] = True
    close(fast.scaled_dot_product_attention(*args, scale=0.3, mask=mx.array(boolmask)),
          _attention(q, k, v, 0.3, boolmask))
    add = rand(3, 5)
    close(fast.scaled_dot_product_attention(*args, scale=0.3, mask=mx.array(add)),
          _attention(q, k, v, 0.3, add))
    with pytest.raises(ValueError, match="invalid mask option 'sideways'"):
        fast.scaled_dot_product_attention(*args, scale=0.3, mask="sideways")
    with pytest.raises(TypeError):
        fast.scaled_dot_product_attention(*args)


@pytest.mark.parametrize("mask", [None, "causal"])
def test_sdpa_sinks(mask):
    """An attention sink per query head is an extra logit in every row's softmax."""
    q, k, v = rand(2, 4, 3, 8), rand(2, 2, 5, 8), rand(2, 2, 5, 4)
    sinks = rand(4)
    out = fast.scaled_dot_product_attention(mx.array(q), mx.array(k), mx.array(v), scale=0.4,
                                            mask=mask, sinks=mx.array(sinks))
    kk, vv = np.repeat(k, 2, axis=1), np.repeat(v, 2, axis=1)
    s = 0.4 * q @ np.swapaxes(kk, -1, -2)
    if mask == "causal":
        s = np.where(np.tril(np.ones((3, 5), bool), k=2), s, -np.inf)
    sk = np.broadcast_to(sinks[None, :, None, None], s.shape[:-1] + (1,))
    full = np.concatenate([s, sk], -1)
    p = np.exp(full - full.max(-1, keepdims=True))
    p = p / p.sum(-1, keepdims=True)
    close(out, p[..., :-1] @ vv)
    with pytest.raises(ValueError):  # one sink per query head
        np.array(fast.scaled_dot_product_attention(mx.array(q), mx.array(k), mx.array(v),
                                                   scale=0.4, sinks=mx.array(rand(3))))
