"""lazuli.nn layers against NumPy formulas and PyTorch reference data
(data/nn_reference.npz, made by scripts/gen_nn_reference.py)."""
import math
import os

import numpy as np
import pytest

import lazuli.core as mx
import lazuli.nn as nn


REF = np.load(os.path.join(os.path.dirname(__file__), "data", "nn_reference.npz"))
rng = np.random.default_rng(0)


def arr(x):
    return mx.array(np.asarray(x, dtype=np.float32))


def rand(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def close(a, b, rtol=1e-4, atol=1e-5):
    np.testing.assert_allclose(np.array(a), np.asarray(b), rtol=rtol, atol=atol)


def test_linear_identity_bilinear():
    m = nn.Linear(4, 3)
    assert m.weight.shape == (3, 4) and m.bias.shape == (3,)
    bound = 1 / math.sqrt(4)
    assert np.all(np.abs(np.array(m.weight)) <= bound)
    x = rand(2, 5, 4)
    close(m(arr(x)), x @ np.array(m.weight).T + np.array(m.bias))
    m = nn.Linear(4, 3, bias=False)
    assert "bias" not in m
    close(m(arr(x)), x @ np.array(m.weight).T)
    assert np.array_equal(np.array(nn.Identity(1, k=2)(arr(x))), x)

    bl = nn.Bilinear(3, 5, 2)
    assert bl.weight.shape == (2, 5, 3)
    x1, x2 = rand(4, 3), rand(4, 5)
    W, b = np.array(bl.weight), np.array(bl.bias)
    close(bl(arr(x1), arr(x2)), np.einsum("ni,oji,nj->no", x1, W, x2) + b)


def test_embedding():
    e = nn.Embedding(10, 4)
    idx = np.array([[1, 3], [9, 0]])
    W = np.array(e.weight)
    close(e(mx.array(idx)), W[idx])
    x = rand(2, 4)
    close(e.as_linear(arr(x)), x @ W.T)


def conv_check(layer, name):
    layer.weight = arr(REF[f"{name}_w"])
    layer.bias = arr(REF[f"{name}_b"])
    close(layer(arr(REF[f"{name}_x"])), REF[f"{name}_y"], rtol=1e-4, atol=1e-4)


def test_convolutions_match_pytorch():
    conv_check(nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2), "conv1d")
    conv_check(nn.Conv2d(3, 4, 3, stride=1, padding=1, dilation=2), "conv2d")
    conv_check(nn.Conv3d(2, 3, 2), "conv3d")
    c = nn.Conv2d(3, 8, (3, 5))
    assert c.weight.shape == (8, 3, 5, 3) and np.all(np.array(c.bias) == 0)
    with pytest.raises(ValueError):
        nn.Conv1d(3, 4, 3, groups=2)


def test_transposed_convolutions_match_pytorch():
    conv_check(nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1, output_padding=1), "convt1d")
    conv_check(nn.ConvTranspose2d(2, 3, 3, stride=2), "convt2d")
    conv_check(nn.ConvTranspose3d(2, 2, 2), "convt3d")


def test_layer_norm_rms_norm():
    x = rand(2, 3, 8)
    ln = nn.LayerNorm(8)
    ln.weight = arr(rand(8))
    ln.bias = arr(rand(8))
    mu = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    ref = (x - mu) / np.sqrt(var + 1e-5) * np.array(ln.weight) + np.array(ln.bias)
    close(ln(arr(x)), ref, atol=1e-4)
    assert "weight" not in nn.LayerNorm(8, affine=False)
    assert "bias" not in nn.LayerNorm(8, bias=False)
    close(nn.LayerNorm(8, affine=False)(arr(x)), (x - mu) / np.sqrt(var + 1e-5), atol=1e-4)

    rms = nn.RMSNorm(8, eps=1e-6)
    rms.weight = arr(rand(8))
    ref = x / np.sqrt((x**2).mean(-1, keepdims=True) + 1e-6) * np.array(rms.weight)
    close(rms(arr(x)), ref, atol=1e-4)


def test_group_norm_instance_norm():
    x = REF["gn_x"]
    gn = nn.GroupNorm(4, 8, pytorch_compatible=True)
    close(gn(arr(x)), REF["gn_y"], atol=1e-4)
    # MLX's own grouping: channel c in group c % num_groups, normalised over all positions.
    gn = nn.GroupNorm(4, 8)
    g = x.reshape(2, -1, 4)
    ref = ((g - g.mean(1, keepdims=True)) / np.sqrt(g.var(1, keepdims=True) + 1e-5)).reshape(x.shape)
    close(gn(arr(x)), ref, atol=1e-4)
    close(nn.InstanceNorm(8)(arr(x)), REF["in_y"], atol=1e-4)
    inn = nn.InstanceNorm(8, affine=True)
    assert inn.weight.shape == (8,)


def test_batch_norm_train_and_eval():
    x = rand(16, 5)
    bn = nn.BatchNorm(5, momentum=0.1)
    assert sorted(k for k in bn.trainable_parameters()) == ["bias", "weight"]
    bn.unfreeze()
    assert "running_mean" not in bn.trainable_parameters()
    y = bn(arr(x))
    close(y, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), atol=1e-4)
    close(bn.running_mean, 0.1 * x.mean(0), atol=1e-5)
    close(bn.running_var, 0.9 + 0.1 * x.var(0, ddof=1), atol=1e-5)
    bn.eval()
    rm, rv = np.array(bn.running_mean), np.array(bn.running_var)
    close(bn(arr(x)), (x - rm) / np.sqrt(rv + 1e-5), atol=1e-4)
    x4 = rand(2, 3, 3, 5)
    bn = nn.BatchNorm(5, affine=False)
    close(bn(arr(x4)), (x4 - x4.mean((0, 1, 2))) / np.sqrt(x4.var((0, 1, 2)) + 1e-5), atol=1e-4)
    with pytest.raises(ValueError):
        bn(arr(rand(5)))


def test_dropout():
    x = mx.ones((200, 100))
    d = nn.Dropout(0.25)
    y = np.array(d(x))
    kept = y != 0
    assert 0.70 < kept.mean() < 0.80
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    d.eval()
    assert np.array_equal(np.array(d(x)), np.array(x))
    with pytest.raises(ValueError):
        nn.Dropout(1.0)
    y = np.array(nn.Dropout2d(0.5)(mx.ones((4, 3, 3, 50))))
    # whole channels are kept or dropped
    assert np.all((y == y[:, :1, :1, :]).all(axis=(1, 2)))
    y = np.array(nn.Dropout3d(0.5)(mx.ones((2, 2, 3, 3, 40))))
    assert np.all((y == y[:, :1, :1, :1, :]).all(axis=(1, 2, 3)))
    with pytest.raises(ValueError):
        nn.Dropout2d()(mx.ones((2, 3)))


def test_recurrent_layers_match_pytorch():
    x = arr(REF["rnn_x"])
    h0 = arr(REF["rnn_h0"])
    rnn = nn.RNN(3, 4)
    rnn.Wxh, rnn.Whh, rnn.bias = arr(REF["rnn_Wxh"]), arr(REF["rnn_Whh"]), arr(REF["rnn_b"])
    close(rnn(x, hidden=h0), REF["rnn_y"], atol=1e-5)

    gru = nn.GRU(3, 4)
    gru.Wx, gru.Wh = arr(REF["gru_Wx"]), arr(REF["gru_Wh"])
    gru.b, gru.bhn = arr(REF["gru_b"]), arr(REF["gru_bhn"])
    close(gru(x, hidden=h0), REF["gru_y"], atol=1e-5)

    lstm = nn.LSTM(3, 4)
    lstm.Wx, lstm.Wh, lstm.bias = arr(REF["lstm_Wx"]), arr(REF["lstm_Wh"]), arr(REF["lstm_b"])
    h, c = lstm(x, hidden=h0, cell=arr(REF["lstm_c0"]))
    close(h, REF["lstm_y"], atol=1e-5)
    assert c.shape == h.shape == (2, 5, 4)
    # unbatched input and no initial state
    assert rnn(x[0]).shape == (5, 4) and gru(x[0]).shape == (5, 4)


def test_pooling_matches_pytorch():
    close(nn.MaxPool2d(3, 2, 1)(arr(REF["pool2d_x"])), REF["maxpool2d_y"])
    close(nn.AvgPool2d(3, 2, 1)(arr(REF["pool2d_x"])), REF["avgpool2d_y"])
    close(nn.MaxPool1d(2)(arr(REF["pool1d_x"])), REF["maxpool1d_y"])
    close(nn.AvgPool1d(3, 2)(arr(REF["pool1d_x"])), REF["avgpool1d_y"])
    close(nn.MaxPool3d(2, 1)(arr(REF["pool3d_x"])), REF["maxpool3d_y"])
    close(nn.AvgPool3d(2, 2)(arr(REF["pool3d_x"])), REF["avgpool3d_y"])
    with pytest.raises(ValueError):
        nn.MaxPool2d((2, 2, 2))


def test_upsample_matches_pytorch():
    x = arr(REF["up_x"])
    close(nn.Upsample(2)(x), REF["up_nearest_y"])
    close(nn.Upsample(2, "linear")(x), REF["up_linear_y"])
    close(nn.Upsample(2, "linear", align_corners=True)(x), REF["up_linear_ac_y"])
    close(nn.Upsample(2, "cubic")(x), REF["up_cubic_y"], atol=1e-4)
    close(nn.Upsample(2, "cubic", align_corners=True)(x), REF["up_cubic_ac_y"], atol=1e-4)
    assert nn.Upsample((2, 3))(x).shape == (1, 6, 12, 2)
    with pytest.raises(ValueError):
        nn.Upsample(2, "area")


def softmax_np(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def test_multi_head_attention():
    mha = nn.MultiHeadAttention(8, 2, bias=True)
    q, k, v = rand(2, 3, 8), rand(2, 4, 8), rand(2, 4, 8)
    mask = np.where(rng.random((3, 4)) > 0.3, 0.0, -1e9).astype(np.float32)
    mask[:, 0] = 0
    P = {n: (np.array(getattr(mha, n).weight), np.array(getattr(mha, n).bias))
         for n in ["query_proj", "key_proj", "value_proj", "out_proj"]}
    lin = lambda x, n: x @ P[n][0].T + P[n][1]  # noqa: E731
    Q = lin(q, "query_proj").reshape(2, 3, 2, 4).transpose(0, 2, 1, 3)
    K = lin(k, "key_proj").reshape(2, 4, 2, 4).transpose(0, 2, 1, 3)
    V = lin(v, "value_proj").reshape(2, 4, 2, 4).transpose(0, 2, 1, 3)
    s = Q @ K.transpose(0, 1, 3, 2) / math.sqrt(4) + mask
    o = (softmax_np(s) @ V).transpose(0, 2, 1, 3).reshape(2, 3, 8)
    close(mha(arr(q), arr(k), arr(v), mask=arr(mask)), lin(o, "out_proj"), atol=1e-4)
    cm = np.array(nn.MultiHeadAttention.create_additive_causal_mask(3))
    assert cm[0, 0] == 0 and cm[1, 0] == 0 and cm[0, 1] < -1e30
    with pytest.raises(ValueError):
        nn.MultiHeadAttention(7, 2)


def test_transformer_shapes_and_causality():
    enc = nn.TransformerEncoder(2, 8, 2, mlp_dims=16)
    x = arr(rand(2, 5, 8))
    mask = nn.MultiHeadAttention.create_additive_causal_mask(5)
    y = np.array(enc(x, mask))
    assert y.shape == (2, 5, 8)
    # changing the last position leaves the earlier outputs alone under a causal mask
    x2 = np.array(x).copy()
    x2[:, -1] += rand(2, 8)
    y2 = np.array(enc(arr(x2), mask))
    np.testing.assert_allclose(y[:, :-1], y2[:, :-1], atol=1e-5)
    assert not np.allclose(y[:, -1], y2[:, -1])
    t = nn.Transformer(dims=8, num_heads=2, num_encoder_layers=1, num_decoder_layers=1, mlp_dims=16)
    out = t(x, arr(rand(2, 3, 8)), None, nn.MultiHeadAttention.create_additive_causal_mask(3), None)
    assert out.shape == (2, 3, 8)
    post = nn.TransformerEncoderLayer(8, 2, norm_first=False)
    assert post(x, None).shape == (2, 5, 8)


def rope_np(x, dims, traditional, base, scale, offset):
    L = x.shape[-2]
    pos = (np.arange(L) + offset) * scale
    freqs = base ** (-np.arange(0, dims, 2) / dims)
    theta = pos[:, None] * freqs[None]
    cos, sin = np.cos(theta), np.sin(theta)
    out = x.copy()
    if traditional:
        a, b = x[..., 0:dims:2], x[..., 1:dims:2]
        out[..., 0:dims:2] = a * cos - b * sin
        out[..., 1:dims:2] = a * sin + b * cos
    else:
        h = dims // 2
        a, b = x[..., :h], x[..., h:dims]
        out[..., :h] = a * cos - b * sin
        out[..., h:dims] = a * sin + b * cos
    return out


@pytest.mark.parametrize("traditional", [False, True])
def test_rope(traditional):
    x = rand(2, 3, 5, 8)
    r = nn.RoPE(6, traditional=traditional, base=100.0, scale=0.5)
    close(r(arr(x), offset=2), rope_np(x, 6, traditional, 100.0, 0.5, 2), atol=1e-4)


def test_sinusoidal_and_alibi():
    pe = nn.SinusoidalPositionalEncoding(8, min_freq=0.01, max_freq=1.0)
    pos = np.arange(4, dtype=np.float32)
    sig = np.exp(np.log(0.01) + (1 - np.arange(4) / 3) * (np.log(1.0) - np.log(0.01)))
    y = pos[:, None] * sig
    close(pe(arr(pos)), np.concatenate([np.sin(y), np.cos(y)], -1) * math.sqrt(2 / 8), atol=1e-5)
    assert "_sigmas" not in pe.parameters()
    pe = nn.SinusoidalPositionalEncoding(8, cos_first=True, scale=1.0)
    assert np.allclose(np.array(pe(arr([0.0])))[0, :4], 1.0)

    scores = rand(1, 2, 3, 3)
    slopes = np.array([2.0 ** -4, 2.0 ** -8])  # (2^8)^(1/2) = 16 -> 16^-1, 16^-2
    dist = -np.abs(np.arange(3)[:, None] - np.arange(3)[None])
    close(nn.ALiBi()(arr(scores)), scores + slopes[None, :, None, None] * dist, atol=1e-6)


def test_quantized_linear_and_embedding():
    lin = nn.Linear(64, 8)
    q = nn.QuantizedLinear.from_linear(lin, group_size=32, bits=8)
    x = rand(3, 64)
    close(q(arr(x)), np.array(lin(arr(x))), rtol=2e-2, atol=2e-2)
    assert names_of(q.trainable_parameters()) == ["bias"]  # bias copied and trainable
    q2 = nn.QuantizedLinear(64, 8)
    assert names_of(q2.trainable_parameters()) == []
    q2.unfreeze()  # the layer's own parameters stay frozen
    assert names_of(q2.trainable_parameters()) == []

    emb = nn.Embedding(16, 64)
    qe = emb.to_quantized(group_size=64, bits=8)
    assert isinstance(qe, nn.QuantizedEmbedding)
    idx = mx.array([[1, 5], [15, 0]])
    close(qe(idx), np.array(emb(idx)), atol=2e-2)
    close(qe.as_linear(arr(x)), x @ np.array(emb.weight).T, rtol=5e-2, atol=5e-2)


def names_of(tree):
    from lazuli.utils import tree_flatten

    return sorted(k for k, _ in tree_flatten(tree))


def test_quantize_model():
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Embedding(10, 64), nn.Linear(32, 7))
    nn.quantize(model, group_size=32, bits=4, class_predicate=lambda p, m: isinstance(m, nn.Linear) and m.weight.shape[-1] % 32 == 0)
    assert isinstance(model.layers[0], nn.QuantizedLinear)
    assert isinstance(model.layers[3], nn.QuantizedLinear)
    assert isinstance(model.layers[2], nn.Embedding)
    assert model.layers[0].bits == 4 and model.layers[0].group_size == 32
    model = nn.Sequential(nn.Linear(64, 32), nn.Embedding(10, 64))
    nn.quantize(model, 64, 8)
    assert isinstance(model.layers[1], nn.QuantizedEmbedding)
    with pytest.raises(ValueError):
        nn.quantize(nn.Sequential(nn.ReLU()), class_predicate=lambda p, m: True)


def test_checkpointed_layers_give_the_same_gradients():
    from lazuli.utils import tree_flatten

    enc = nn.TransformerEncoder(2, 8, 2, mlp_dims=16)
    enc_ck = nn.TransformerEncoder(2, 8, 2, mlp_dims=16, checkpoint=True)
    enc_ck.update(enc.parameters())
    x = arr(rand(2, 4, 8))

    def loss(m, x):
        return mx.sum(mx.square(m(x, None)))

    l1, g1 = nn.value_and_grad(enc, loss)(enc, x)
    l2, g2 = nn.value_and_grad(enc_ck, loss)(enc_ck, x)
    close(l1, np.array(l2))
    for (k, a), (_, b) in zip(tree_flatten(g1), tree_flatten(g2)):
        close(a, np.array(b), rtol=1e-4, atol=1e-5)
    # gradients flow back through a checkpointed layer to its input
    gx1 = mx.grad(lambda x: loss(enc, x))(x)
    gx2 = mx.grad(lambda x: loss(enc_ck, x))(x)
    close(gx1, np.array(gx2), rtol=1e-4, atol=1e-5)
    assert float(mx.sum(mx.abs(gx2))) > 0


def test_sharded_linear_layers_in_a_group_of_one():
    lin = nn.Linear(64, 16)
    x = arr(rand(3, 64))
    ref = np.array(lin(x))
    for sharding in ("all-to-sharded", "sharded-to-all"):
        s = nn.shard_linear(lin, sharding)
        assert s.weight.shape == (16, 64)
        close(s(x), ref)
    a = nn.AllToShardedLinear(64, 16, bias=False)
    assert "bias" not in a and a(x).shape == (3, 16)
    q = nn.QuantizedLinear.from_linear(lin, 32, 8)
    qref = np.array(q(x))
    for sharding in ("all-to-sharded", "sharded-to-all"):
        close(nn.shard_linear(q, sharding)(x), qref, rtol=1e-5, atol=1e-5)
    w = np.array(lin.weight)
    nn.shard_inplace(lin, "all-to-sharded")
    close(lin.weight, w)
    with pytest.raises(ValueError):
        nn.shard_linear(nn.Embedding(4, 4), "all-to-sharded")
    with pytest.raises(ValueError):
        nn.shard_inplace(lin, "sideways")


@pytest.mark.parametrize("tag", ["pre", "post"])
def test_transformer_encoder_layer_matches_pytorch(tag):
    layer = nn.TransformerEncoderLayer(8, 2, 16, norm_first=(tag == "pre"))
    g = lambda k: arr(REF[f"tel_{tag}_{k}"])  # noqa: E731
    layer.update({
        "attention": {"query_proj": {"weight": g("wq")}, "key_proj": {"weight": g("wk")},
                      "value_proj": {"weight": g("wv")}, "out_proj": {"weight": g("wo")}},
        "linear1": {"weight": g("l1w"), "bias": g("l1b")},
        "linear2": {"weight": g("l2w"), "bias": g("l2b")},
        "ln1": {"weight": g("n1w"), "bias": g("n1b")},
        "ln2": {"weight": g("n2w"), "bias": g("n2b")},
    })
    y = layer(arr(REF["tel_x"]), arr(REF["tel_mask"]))
    close(y, REF[f"tel_{tag}_y"], rtol=1e-4, atol=1e-4)
