#!/usr/bin/python3
"""Writes tests/data/nn_refs.h: NumPy reference values for tests/test_nn*.c and
tests/test_losses.c, computed in float64 from MLX's formulas (mlx.nn layers, activations and
losses). Inputs and parameters are rounded to float32 first, the dtype the tests build them in.
Run from the repository root:
    /usr/bin/python3 scripts/gen_nn_refs.py

Every array is an entry "<case>:<role>:<name>": role "p" a module parameter (flattened name),
"in" an input, "out" an expected output.
"""
import math

import numpy as np

OUT = "tests/data/nn_refs.h"
rng = np.random.default_rng(2024)
ENTRIES = []


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def rnd(*shape, scale=1.0):
    return f32(rng.standard_normal(shape) * scale)


def add(case, role, name, a):
    ENTRIES.append((f"{case}:{role}:{name}", np.asarray(a, dtype=np.float64)))


# ---- activations ----
x = rnd(2, 3, 4, scale=2.0)
x[0, 0, :3] = [0.0, -3.5, 7.0]
add("act", "in", "x", x)
sig = lambda v: 1 / (1 + np.exp(-v))
softplus = lambda v: np.logaddexp(v, 0)
erf = np.vectorize(math.erf)
elu = lambda v, a=1.0: np.where(v > 0, v, a * (np.exp(v) - 1))
acts = {
    "relu": np.maximum(x, 0),
    "relu6": np.minimum(np.maximum(x, 0), 6),
    "leaky_relu": np.maximum(0.1 * x, x),
    "elu": elu(x, 0.5),
    "celu": np.maximum(x, 0) + 0.7 * (np.exp(np.minimum(x, 0) / 0.7) - 1),
    "selu": elu(x, 1.67326) * 1.0507,
    "gelu": x * (1 + erf(x / math.sqrt(2))) / 2,
    "gelu_approx": 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    "gelu_fast": x * sig(1.702 * x),
    "silu": x * sig(x),
    "mish": x * np.tanh(softplus(x)),
    "softplus": softplus(x),
    "softsign": x / (1 + np.abs(x)),
    "hardswish": x * np.minimum(np.maximum(x + 3, 0), 6) / 6,
    "hard_tanh": np.minimum(np.maximum(x, -1), 1),
    "log_sigmoid": -softplus(-x),
    "log_softmax": x - np.log(np.exp(x).sum(-1, keepdims=True)),
    "glu": x[..., :2] * sig(x[..., 2:]),
    "step": (x > 0.5).astype(np.float64),
    "prelu": np.maximum(x, 0) + np.array([0.25, -0.5, 1.0, 2.0]) * np.minimum(x, 0),
}
for k, v in acts.items():
    add("act", "out", k, v)

# ---- Linear, Bilinear, Embedding ----
x = rnd(2, 3, 4)
w, b = rnd(5, 4), rnd(5)
add("linear", "p", "weight", w), add("linear", "p", "bias", b), add("linear", "in", "x", x)
add("linear", "out", "y", x @ w.T + b)
x1, x2, w, b = rnd(2, 4), rnd(2, 3), rnd(5, 3, 4), rnd(5)
add("bilinear", "p", "weight", w), add("bilinear", "p", "bias", b)
add("bilinear", "in", "x1", x1), add("bilinear", "in", "x2", x2)
add("bilinear", "out", "y", np.einsum("bi,oji,bj->bo", x1, w, x2) + b)
w = rnd(10, 4)
idx = np.array([[1, 0, 9], [3, 3, 7]])
add("embedding", "p", "weight", w), add("embedding", "in", "idx", idx)
add("embedding", "out", "y", w[idx])
h = rnd(2, 4)
add("embedding", "in", "h", h), add("embedding", "out", "as_linear", h @ w.T)


# ---- normalisation ----
def norm(v, axes, eps):
    m = v.mean(axis=axes, keepdims=True)
    var = ((v - m) ** 2).mean(axis=axes, keepdims=True)
    return (v - m) / np.sqrt(var + eps)


x = rnd(2, 3, 4, scale=3.0) + 1.0
w, b = rnd(4), rnd(4)
add("norm", "in", "x", x), add("norm", "in", "w", w), add("norm", "in", "b", b)
add("norm", "out", "layer_norm", norm(x, -1, 1e-5) * w + b)
add("norm", "out", "layer_norm_plain", norm(x, -1, 1e-5))
add("norm", "out", "rms_norm", x / np.sqrt((x**2).mean(-1, keepdims=True) + 1e-5) * w)
# GroupNorm, 2 groups of 4 channels: MLX's default groups channel c with c % 2
g = x.reshape(2, -1, 2)
add("norm", "out", "group_norm", norm(g, 1, 1e-5).reshape(x.shape) * w + b)
g = x.reshape(2, -1, 2, 2).transpose(0, 2, 1, 3).reshape(2, 2, -1)
g = norm(g, -1, 1e-5).reshape(2, 2, -1, 2).transpose(0, 2, 1, 3).reshape(x.shape)
add("norm", "out", "group_norm_pt", g * w + b)
bm, bv = x.mean((0, 1)), x.var((0, 1))
add("norm", "out", "batch_norm_train", (x - bm) / np.sqrt(bv + 1e-5) * w + b)
add("norm", "out", "running_mean", 0.9 * 0 + 0.1 * bm)
add("norm", "out", "running_var", 0.9 * 1 + 0.1 * bv)
rm, rv = 0.1 * bm, 0.9 + 0.1 * bv
add("norm", "out", "batch_norm_eval", (x - rm) / np.sqrt(rv + 1e-5) * w + b)
x4 = rnd(2, 3, 2, 4)
add("norm", "in", "x4", x4)
add("norm", "out", "instance_norm", norm(x4, (1, 2), 1e-5))


# ---- pooling ----
def pool(v, k, s, p, is_max):
    nsp = v.ndim - 2
    pads = [(0, 0)] + [(p[i], p[i]) for i in range(nsp)] + [(0, 0)]
    v = np.pad(v, pads, constant_values=-np.inf if is_max else 0.0)
    outs = [(v.shape[1 + i] - k[i]) // s[i] + 1 for i in range(nsp)]
    res = np.zeros([v.shape[0]] + outs + [v.shape[-1]])
    for o in np.ndindex(*outs):
        sl = tuple(slice(o[i] * s[i], o[i] * s[i] + k[i]) for i in range(nsp))
        win = v[(slice(None),) + sl + (slice(None),)]
        red = win.max(axis=tuple(range(1, 1 + nsp))) if is_max else win.mean(axis=tuple(range(1, 1 + nsp)))
        res[(slice(None),) + o + (slice(None),)] = red
    return res


x1d, x2d = rnd(2, 7, 3), rnd(1, 5, 6, 2)
add("pool", "in", "x1d", x1d), add("pool", "in", "x2d", x2d)
add("pool", "out", "max1d_k2", pool(x1d, [2], [2], [0], True))
add("pool", "out", "avg1d_k3s2p1", pool(x1d, [3], [2], [1], False))
add("pool", "out", "max1d_k3s1p1", pool(x1d, [3], [1], [1], True))
add("pool", "out", "max2d_k2", pool(x2d, [2, 2], [2, 2], [0, 0], True))
add("pool", "out", "avg2d_k3s2p1", pool(x2d, [3, 3], [2, 2], [1, 1], False))
add("pool", "out", "max2d_k23s12", pool(x2d, [2, 3], [1, 2], [0, 1], True))


# ---- Upsample ----
def up_nearest(v, scales):
    for d, s in enumerate(scales):
        n = v.shape[1 + d]
        m = int(s * n)
        i = np.arange(m, dtype=np.float64)
        idx = np.round((i + 0.5) * (n / m) - 0.5) if m > n else np.floor(i * (n / m))
        v = np.take(v, np.clip(idx.astype(int), 0, n - 1), axis=1 + d)
    return v


def up_linear(v, scales, align):
    for d, s in enumerate(scales):
        n = v.shape[1 + d]
        m = int(s * n)
        i = np.arange(m, dtype=np.float64)
        if align:
            f = i * ((n - 1) / (m - 1))
        else:
            step = 1 / s
            f = i * step - ((m - 1) * step - n + 1) / 2
        f = np.clip(f, 0, n - 1)
        lo, hi = np.floor(f).astype(int), np.ceil(f).astype(int)
        wt = (f - np.floor(f)).reshape([m if k == 1 + d else 1 for k in range(v.ndim)])
        v = np.take(v, lo, axis=1 + d) * (1 - wt) + np.take(v, hi, axis=1 + d) * wt
    return v


x = rnd(1, 2, 3, 2)
add("upsample", "in", "x", x)
add("upsample", "out", "nearest2", up_nearest(x, [2, 2]))
add("upsample", "out", "nearest15", up_nearest(x, [1.5, 2.5]))
add("upsample", "out", "linear2", up_linear(x, [2, 2], False))
add("upsample", "out", "linear2_align", up_linear(x, [2, 3], True))


# ---- positional encodings ----
def rope(v, dims, trad, base, scale, offset):
    L = v.shape[-2]
    half = dims // 2
    inv = np.exp(-np.arange(half) * (math.log(base) / half))
    th = ((offset + np.arange(L)) * scale)[:, None] * inv[None, :]
    c, s = np.cos(th), np.sin(th)
    if trad:
        a, b_ = v[..., 0:dims:2], v[..., 1:dims:2]
        r = np.stack([a * c - b_ * s, a * s + b_ * c], -1).reshape(v.shape[:-1] + (dims,))
    else:
        a, b_ = v[..., :half], v[..., half:dims]
        r = np.concatenate([a * c - b_ * s, a * s + b_ * c], -1)
    return np.concatenate([r, v[..., dims:]], -1)


x = rnd(1, 2, 5, 8)
add("pos", "in", "x", x)
add("pos", "out", "rope", rope(x, 8, False, 10000, 1.0, 0))
add("pos", "out", "rope_trad", rope(x, 8, True, 10000, 1.0, 0))
add("pos", "out", "rope_partial", rope(x, 4, False, 500.0, 0.5, 3))
t = f32(np.array([0.0, 1.0, 2.5, 7.0, 30.0]))
add("pos", "in", "t", t)
half = 4
one_zero = 1 - np.arange(half) / (half - 1)
sig_ = np.exp(one_zero * (math.log(1.0) - math.log(1e-4)) + math.log(1e-4))
y = t[:, None] * sig_
add("pos", "out", "sinusoidal", np.concatenate([np.sin(y), np.cos(y)], -1) * math.sqrt(2 / 8))
add("pos", "out", "sinusoidal_cos", np.concatenate([np.cos(y * 2 * math.pi), np.sin(y * 2 * math.pi)], -1))
sc = rnd(1, 2, 3, 4)
add("pos", "in", "scores", sc)
H = 2
base_ = (2**8) ** (1 / H)
slopes = base_ ** -np.arange(1, H + 1)
dist = -np.abs(np.arange(3)[:, None] - np.arange(4)[None, :])
add("pos", "out", "alibi", sc + dist[None, None] * slopes[None, :, None, None])
dist2 = -np.abs((2 + np.arange(3))[:, None] - np.arange(4)[None, :])
add("pos", "out", "alibi_off2", sc + dist2[None, None] * slopes[None, :, None, None])


# ---- attention and transformers ----
def softmax(v):
    e = np.exp(v - v.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def mha(P, pre, q, k, v, heads, mask=None):
    def lin(name, a):
        r = a @ P[pre + name + ".weight"].T
        if pre + name + ".bias" in P:
            r = r + P[pre + name + ".bias"]
        return r

    q, k, v = lin("query_proj", q), lin("key_proj", k), lin("value_proj", v)
    B, L, D = q.shape
    S = k.shape[1]
    q = q.reshape(B, L, heads, -1).transpose(0, 2, 1, 3)
    k = k.reshape(B, S, heads, -1).transpose(0, 2, 1, 3)
    v = v.reshape(B, S, heads, -1).transpose(0, 2, 1, 3)
    s = (q * math.sqrt(1 / q.shape[-1])) @ k.transpose(0, 1, 3, 2)
    if mask is not None:
        s = s + mask
    o = (softmax(s) @ v).transpose(0, 2, 1, 3).reshape(B, L, -1)
    return lin("out_proj", o)


def params_mha(P, pre, dims, bias):
    for n in ["query_proj", "key_proj", "value_proj", "out_proj"]:
        P[pre + n + ".weight"] = rnd(dims, dims, scale=0.4)
        if bias:
            P[pre + n + ".bias"] = rnd(dims, scale=0.2)


P = {}
params_mha(P, "", 8, True)
q, kk, vv = rnd(2, 3, 8), rnd(2, 4, 8), rnd(2, 4, 8)
mask = f32(np.triu(np.full((3, 4), -1e9), 2))
for n, a in P.items():
    add("mha", "p", n, a)
add("mha", "in", "q", q), add("mha", "in", "k", kk), add("mha", "in", "v", vv)
add("mha", "in", "mask", mask)
add("mha", "out", "y", mha(P, "", q, kk, vv, 2))
add("mha", "out", "y_masked", mha(P, "", q, kk, vv, 2, mask))


def ln(P, pre, v):
    return norm(v, -1, 1e-5) * P[pre + ".weight"] + P[pre + ".bias"]


def lin(P, pre, v):
    return v @ P[pre + ".weight"].T + P[pre + ".bias"]


def encoder_layer(P, pre, x, mask, norm_first):
    if norm_first:
        y = ln(P, pre + "ln1", x)
        x = x + mha(P, pre + "attention.", y, y, y, 2, mask)
        y = ln(P, pre + "ln2", x)
        return x + lin(P, pre + "linear2", np.maximum(lin(P, pre + "linear1", y), 0))
    y = mha(P, pre + "attention.", x, x, x, 2, mask)
    x = ln(P, pre + "ln1", x + y)
    y = lin(P, pre + "linear2", np.maximum(lin(P, pre + "linear1", x), 0))
    return ln(P, pre + "ln2", x + y)


def params_encoder_layer(P, pre, dims, mlp):
    params_mha(P, pre + "attention.", dims, False)
    for i in (1, 2):
        P[pre + f"ln{i}.weight"] = 1 + rnd(dims, scale=0.1)
        P[pre + f"ln{i}.bias"] = rnd(dims, scale=0.1)
    P[pre + "linear1.weight"], P[pre + "linear1.bias"] = rnd(mlp, dims, scale=0.3), rnd(mlp, scale=0.1)
    P[pre + "linear2.weight"], P[pre + "linear2.bias"] = rnd(dims, mlp, scale=0.3), rnd(dims, scale=0.1)


P = {}
params_encoder_layer(P, "", 8, 16)
for n, a in P.items():
    add("enc", "p", n, a)
x = rnd(2, 3, 8)
cm = f32(np.triu(np.full((3, 3), -1e9), 1))
add("enc", "in", "x", x), add("enc", "in", "mask", cm)
add("enc", "out", "y_norm_first", encoder_layer(P, "", x, cm, True))
add("enc", "out", "y_post_norm", encoder_layer(P, "", x, None, False))

P = {}
params_mha(P, "self_attention.", 8, False)
params_mha(P, "cross_attention.", 8, False)
for i in (1, 2, 3):
    P[f"ln{i}.weight"], P[f"ln{i}.bias"] = 1 + rnd(8, scale=0.1), rnd(8, scale=0.1)
P["linear1.weight"], P["linear1.bias"] = rnd(16, 8, scale=0.3), rnd(16, scale=0.1)
P["linear2.weight"], P["linear2.bias"] = rnd(8, 16, scale=0.3), rnd(8, scale=0.1)
for n, a in P.items():
    add("dec", "p", n, a)
x, mem = rnd(2, 3, 8), rnd(2, 4, 8)
add("dec", "in", "x", x), add("dec", "in", "mem", mem), add("dec", "in", "mask", cm)
y = ln(P, "ln1", x)
x1 = x + mha(P, "self_attention.", y, y, y, 2, cm)
y = ln(P, "ln2", x1)
x2 = x1 + mha(P, "cross_attention.", y, mem, mem, 2)
y = ln(P, "ln3", x2)
add("dec", "out", "y_norm_first", x2 + lin(P, "linear2", np.maximum(lin(P, "linear1", y), 0)))
y = mha(P, "self_attention.", x, x, x, 2, cm)
x1 = ln(P, "ln1", x + y)
y = mha(P, "cross_attention.", x1, mem, mem, 2)
x2 = ln(P, "ln2", x1 + y)
y = lin(P, "linear2", np.maximum(lin(P, "linear1", x2), 0))
add("dec", "out", "y_post_norm", ln(P, "ln3", x2 + y))

# ---- recurrent layers ----
x, h0, c0 = rnd(2, 3, 4), rnd(2, 5), rnd(2, 5)
add("rnn", "in", "x", x), add("rnn", "in", "h0", h0), add("rnn", "in", "c0", c0)
Wxh, Whh, bb = rnd(5, 4, scale=0.5), rnd(5, 5, scale=0.5), rnd(5, scale=0.5)
add("rnn", "p", "Wxh", Wxh), add("rnn", "p", "Whh", Whh), add("rnn", "p", "bias", bb)


def rnn(h):
    xs, out = x @ Wxh.T + bb, []
    for t in range(3):
        h = np.tanh(xs[:, t] + (h @ Whh.T if h is not None else 0))
        out.append(h)
    return np.stack(out, 1)


add("rnn", "out", "y", rnn(None)), add("rnn", "out", "y_h0", rnn(h0))
Wx, Wh, b_, bhn = rnd(15, 4, scale=0.5), rnd(15, 5, scale=0.5), rnd(15, scale=0.5), rnd(5, scale=0.5)
add("gru", "p", "Wx", Wx), add("gru", "p", "Wh", Wh), add("gru", "p", "b", b_), add("gru", "p", "bhn", bhn)


def gru(h):
    xs, out = x @ Wx.T + b_, []
    for t in range(3):
        r, z, n = np.split(xs[:, t], 3, -1)
        if h is not None:
            hr, hz, hn = np.split(h @ Wh.T, 3, -1)
            r, z = sig(r + hr), sig(z + hz)
            n = np.tanh(n + r * (hn + bhn))
            h = (1 - z) * n + z * h
        else:
            z = sig(z)
            h = (1 - z) * np.tanh(n)
        out.append(h)
    return np.stack(out, 1)


add("gru", "out", "y", gru(None)), add("gru", "out", "y_h0", gru(h0))
Wx, Wh, b_ = rnd(20, 4, scale=0.5), rnd(20, 5, scale=0.5), rnd(20, scale=0.5)
add("lstm", "p", "Wx", Wx), add("lstm", "p", "Wh", Wh), add("lstm", "p", "bias", b_)


def lstm(h, c):
    xs, hs, cs = x @ Wx.T + b_, [], []
    for t in range(3):
        ifgo = xs[:, t] + (h @ Wh.T if h is not None else 0)
        i, f, g, o = np.split(ifgo, 4, -1)
        i, f, g, o = sig(i), sig(f), np.tanh(g), sig(o)
        c = f * c + i * g if c is not None else i * g
        h = o * np.tanh(c)
        hs.append(h), cs.append(c)
    return np.stack(hs, 1), np.stack(cs, 1)


hs, cs = lstm(None, None)
add("lstm", "out", "h", hs), add("lstm", "out", "c", cs)
hs, cs = lstm(h0, c0)
add("lstm", "out", "h_init", hs), add("lstm", "out", "c_init", cs)

# ---- losses ----
logits = rnd(3, 5)
tgt = np.array([1, 4, 0])
probs = softmax(rnd(3, 5))
wts = f32(np.array([0.5, 1.0, 2.0]))
cw = f32(np.array([1.0, 2.0, 0.5, 1.5, 3.0]))
add("loss", "in", "logits", logits), add("loss", "in", "targets", tgt)
add("loss", "in", "probs", f32(probs)), add("loss", "in", "weights", wts), add("loss", "in", "class_w", cw)
probs = f32(probs)
lse = np.log(np.exp(logits).sum(-1))
score = logits[np.arange(3), tgt]
add("loss", "out", "ce", lse - score)
add("loss", "out", "ce_smooth", lse - 0.8 * score - 0.2 * logits.mean(-1))
add("loss", "out", "ce_probs", lse - (logits * probs).sum(-1))
add("loss", "out", "ce_weights", (lse - score) * wts)
add("loss", "out", "ce_class_w_mean", ((lse - score) * cw[tgt]).mean())
add("loss", "out", "ce_axis0", np.log(np.exp(logits).sum(0)) - logits[np.array([2, 0, 1, 1, 2]), np.arange(5)])
add("loss", "in", "targets_axis0", np.array([2, 0, 1, 1, 2]))
p = rnd(2, 3)
bt = f32(rng.integers(0, 2, (2, 3)))
pr = f32(sig(rnd(2, 3)))
bw = rnd(2, 3)
add("loss", "in", "p", p), add("loss", "in", "bt", bt), add("loss", "in", "pr", pr), add("loss", "in", "bw", bw)
add("loss", "out", "bce_logits", np.logaddexp(0, p) - p * bt)
add("loss", "out", "bce_logits_w_mean", ((np.logaddexp(0, p) - p * bt) * bw).mean())
add("loss", "out", "bce_probs", -(bt * np.maximum(np.log(pr), -100) + (1 - bt) * np.maximum(np.log(1 - pr), -100)))
lp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
add("loss", "in", "logp", f32(lp))
lp = f32(lp)
add("loss", "out", "nll", -lp[np.arange(3), tgt])
t2 = rnd(2, 3)
add("loss", "in", "t2", t2)
d = p - t2
add("loss", "out", "mse_none", d**2)
add("loss", "out", "mse_mean", (d**2).mean())
add("loss", "out", "mse_sum", (d**2).sum())
add("loss", "out", "l1_mean", np.abs(d).mean())
ad = np.abs(d)
add("loss", "out", "smooth_l1", np.where(ad < 0.5, 0.5 * ad**2 / 0.5, ad - 0.25))
q_ = np.minimum(ad, 0.7)
add("loss", "out", "huber", 0.5 * q_**2 + 0.7 * (ad - q_))
add("loss", "out", "log_cosh", np.logaddexp(d, -d) - math.log(2))
tl = f32(softmax(rnd(3, 5)))
tl = np.log(tl)
add("loss", "in", "kl_t", tl)
tl = f32(tl)
add("loss", "out", "kl_div", (np.exp(tl) * (tl - lp)).sum(-1))
var = f32(np.abs(rnd(2, 3)) + 0.1)
var[0, 0] = 0.0
add("loss", "in", "var", var)
vv_ = np.maximum(var, 1e-6)
g_ = 0.5 * (np.log(vv_) + (t2 - p) ** 2 / vv_)
add("loss", "out", "gauss_nll_mean", g_.mean())
add("loss", "out", "gauss_nll_full", g_ + 0.5 * math.log(2 * math.pi))
a1, a2 = rnd(3, 4), rnd(3, 4)
a2[1] = 0
add("loss", "in", "a1", a1), add("loss", "in", "a2", a2)
add("loss", "out", "cosine", (a1 * a2).sum(1) / np.maximum(np.linalg.norm(a1, axis=1) * np.linalg.norm(a2, axis=1), 1e-8))
ht = f32(np.sign(rnd(2, 3)))
add("loss", "in", "ht", ht)
add("loss", "out", "hinge", np.maximum(1 - p * ht, 0))
add("loss", "out", "margin_ranking", np.maximum(0, -ht * (p - t2) + 0.3))
an, po, ne = rnd(3, 4), rnd(3, 4), rnd(3, 4)
add("loss", "in", "an", an), add("loss", "in", "po", po), add("loss", "in", "ne", ne)
tri = np.maximum(np.sqrt(((an - po) ** 2).sum(-1) + 1e-6) - np.sqrt(((an - ne) ** 2).sum(-1) + 1e-6) + 1.0, 0)
add("loss", "out", "triplet", tri)


# ---- convolution layers (channels last; weights (out, kernel..., in / groups)) ----
def conv_nd(v, w, stride, pad, dil, groups):
    nsp = v.ndim - 2
    v = np.pad(v, [(0, 0)] + [(p_, p_) for p_ in pad] + [(0, 0)])
    O, K, cg = w.shape[0], w.shape[1:-1], w.shape[-1]
    outs = [(v.shape[1 + i] - dil[i] * (K[i] - 1) - 1) // stride[i] + 1 for i in range(nsp)]
    y = np.zeros([v.shape[0]] + outs + [O])
    for kk in np.ndindex(*K):
        sl = tuple(slice(kk[i] * dil[i], kk[i] * dil[i] + stride[i] * (outs[i] - 1) + 1, stride[i])
                   for i in range(nsp))
        xs = v[(slice(None),) + sl + (slice(None),)]
        xs = xs.reshape(xs.shape[:-1] + (groups, cg))
        wk = w[(slice(None),) + kk + (slice(None),)].reshape(groups, O // groups, cg)
        y += np.einsum("...gc,goc->...go", xs, wk).reshape(y.shape)
    return y


def conv_transpose_nd(v, w, stride, pad, dil, opad):
    # y[i * s + k * d - p] += x[i] @ w[:, k, :].T
    nsp = v.ndim - 2
    O, K = w.shape[0], w.shape[1:-1]
    S = v.shape[1:-1]
    outs = [(S[i] - 1) * stride[i] - 2 * pad[i] + dil[i] * (K[i] - 1) + 1 + opad[i] for i in range(nsp)]
    y = np.zeros([v.shape[0]] + outs + [O])
    for ii in np.ndindex(*S):
        for kk in np.ndindex(*K):
            j = tuple(ii[i] * stride[i] + kk[i] * dil[i] - pad[i] for i in range(nsp))
            if all(0 <= j[i] < outs[i] for i in range(nsp)):
                xi = v[(slice(None),) + ii + (slice(None),)]
                y[(slice(None),) + j + (slice(None),)] += xi @ w[(slice(None),) + kk + (slice(None),)].T
    return y


conv_cases = [
    # name, input shape, weight shape, stride, pad, dil, groups / output padding, transposed
    ("conv1d", (2, 7, 4), (6, 3, 2), [2], [1], [1], 2, False),
    ("conv2d", (1, 5, 6, 3), (4, 3, 2, 3), [2, 1], [1, 0], [1, 2], 1, False),
    ("conv3d", (1, 4, 3, 4, 2), (3, 2, 2, 3, 2), [1, 2, 1], [0, 1, 1], [2, 1, 1], 1, False),
    ("conv_t1d", (2, 4, 3), (2, 3, 3), [2], [1], [1], [1], True),
    ("conv_t2d", (1, 3, 2, 2), (3, 2, 3, 2), [2, 1], [0, 1], [1, 2], [1, 0], True),
    ("conv_t3d", (1, 2, 3, 2, 2), (2, 2, 2, 2, 2), [1, 2, 2], [0, 1, 0], [1, 1, 2], [0, 1, 1], True),
]
for name, xs, ws, st, pd, dl, extra, tr in conv_cases:
    x, w, b = rnd(*xs), rnd(*ws, scale=0.5), rnd(ws[0], scale=0.5)
    add(name, "p", "weight", w), add(name, "p", "bias", b), add(name, "in", "x", x)
    y = conv_transpose_nd(x, w, st, pd, dl, extra) if tr else conv_nd(x, w, st, pd, dl, extra)
    add(name, "out", "y", y + b)


# ---- quantized layers: packed codes (a little-endian bit stream per row), scales, biases ----
def pack(codes, bits):
    rows, k = codes.shape
    words = np.zeros((rows, k * bits // 32), dtype=np.uint64)
    for r in range(rows):
        acc = 0
        for j in range(k):
            acc |= int(codes[r, j]) << (j * bits)
        for wd in range(words.shape[1]):
            words[r, wd] = (acc >> (32 * wd)) & 0xFFFFFFFF
    return words.astype(np.float64)


def quantized_case(name, rows, k, group, bits):
    codes = rng.integers(0, 2**bits, (rows, k))
    scales, biases = rnd(rows, k // group, scale=0.1), rnd(rows, k // group, scale=0.5)
    w = codes * np.repeat(scales, group, axis=1) + np.repeat(biases, group, axis=1)
    add(name, "p", "weight", pack(codes, bits)), add(name, "p", "scales", scales)
    add(name, "p", "biases", biases)
    return w


w = quantized_case("qlinear", 5, 64, 32, 4)
b = rnd(5)
add("qlinear", "p", "bias", b)
x = rnd(2, 3, 64)
add("qlinear", "in", "x", x), add("qlinear", "out", "y", x @ w.T + b)
w = quantized_case("qembedding", 6, 64, 32, 3)
idx = np.array([[0, 5, 2], [2, 3, 1]])
add("qembedding", "in", "idx", idx), add("qembedding", "out", "y", w[idx])
h = rnd(2, 64)
add("qembedding", "in", "h", h), add("qembedding", "out", "as_linear", h @ w.T)


# ---- Upsample, cubic (a = -0.75; taps past the border read the border) ----
def up_cubic(v, scales, align):
    def wt(t):
        a = -0.75
        return np.where(t <= 1, ((a + 2) * t - (a + 3)) * t * t + 1, (((t - 5) * t + 8) * t - 4) * a)

    for d, s_ in enumerate(scales):
        n = v.shape[1 + d]
        m = int(s_ * n)
        i = np.arange(m, dtype=np.float64)
        if align:
            f = i * ((n - 1) / (m - 1))
        else:
            f = i * (1 / s_) - ((m - 1) * (1 / s_) - n + 1) / 2
        fl = np.floor(f)
        acc = 0
        for t in range(4):
            g = fl - 1 + t
            ww = wt(np.abs(f - g)).reshape([m if k_ == 1 + d else 1 for k_ in range(v.ndim)])
            acc = acc + np.take(v, np.clip(g, 0, n - 1).astype(int), axis=1 + d) * ww
        v = acc
    return v


x = f32(rng.standard_normal((1, 3, 4, 2)))
add("upsample", "in", "xc", x)
add("upsample", "out", "cubic2", up_cubic(x, [2, 2], False))
add("upsample", "out", "cubic_align", up_cubic(x, [2, 1.5], True))


# ---- grouped-query attention: 4 query heads over 2 key/value heads ----
def gqa(P, q, k, v, heads, kv_heads, mask=None):
    def lin(name, a):
        return a @ P[name + ".weight"].T

    q, k, v = lin("query_proj", q), lin("key_proj", k), lin("value_proj", v)
    B, L, _ = q.shape
    S = k.shape[1]
    q = q.reshape(B, L, heads, -1).transpose(0, 2, 1, 3)
    k = np.repeat(k.reshape(B, S, kv_heads, -1).transpose(0, 2, 1, 3), heads // kv_heads, axis=1)
    v = np.repeat(v.reshape(B, S, kv_heads, -1).transpose(0, 2, 1, 3), heads // kv_heads, axis=1)
    sc = (q @ k.transpose(0, 1, 3, 2)) * math.sqrt(1 / q.shape[-1])
    if mask is not None:
        sc = sc + mask
    o = (softmax(sc) @ v).transpose(0, 2, 1, 3).reshape(B, L, -1)
    return lin("out_proj", o)


P = {"query_proj.weight": rnd(8, 8, scale=0.4), "key_proj.weight": rnd(4, 8, scale=0.4),
     "value_proj.weight": rnd(4, 8, scale=0.4), "out_proj.weight": rnd(8, 8, scale=0.4)}
for n_, a in P.items():
    add("gqa", "p", n_, a)
q, kk = rnd(2, 3, 8), rnd(2, 4, 8)
gmask = f32(np.triu(np.full((3, 4), -1e9), 2))
add("gqa", "in", "q", q), add("gqa", "in", "k", kk), add("gqa", "in", "mask", gmask)
add("gqa", "out", "y", gqa(P, q, kk, kk, 4, 2, gmask))


# ---- Transformer: one encoder layer and one decoder layer, each stack with a final LayerNorm ----
def decoder_layer(P, pre, x, mem, xmask, mmask):  # norm_first
    y = ln(P, pre + "ln1", x)
    x = x + mha(P, pre + "self_attention.", y, y, y, 2, xmask)
    y = ln(P, pre + "ln2", x)
    x = x + mha(P, pre + "cross_attention.", y, mem, mem, 2, mmask)
    y = ln(P, pre + "ln3", x)
    return x + lin(P, pre + "linear2", np.maximum(lin(P, pre + "linear1", y), 0))


P = {}
params_encoder_layer(P, "encoder.layers.0.", 8, 16)
P["encoder.ln.weight"], P["encoder.ln.bias"] = 1 + rnd(8, scale=0.1), rnd(8, scale=0.1)
params_mha(P, "decoder.layers.0.self_attention.", 8, False)
params_mha(P, "decoder.layers.0.cross_attention.", 8, False)
for i in (1, 2, 3):
    P[f"decoder.layers.0.ln{i}.weight"] = 1 + rnd(8, scale=0.1)
    P[f"decoder.layers.0.ln{i}.bias"] = rnd(8, scale=0.1)
P["decoder.layers.0.linear1.weight"] = rnd(16, 8, scale=0.3)
P["decoder.layers.0.linear1.bias"] = rnd(16, scale=0.1)
P["decoder.layers.0.linear2.weight"] = rnd(8, 16, scale=0.3)
P["decoder.layers.0.linear2.bias"] = rnd(8, scale=0.1)
P["decoder.ln.weight"], P["decoder.ln.bias"] = 1 + rnd(8, scale=0.1), rnd(8, scale=0.1)
for n_, a in P.items():
    add("tf", "p", n_, a)
src, tgt = rnd(2, 4, 8), rnd(2, 3, 8)
add("tf", "in", "src", src), add("tf", "in", "tgt", tgt), add("tf", "in", "tgt_mask", cm)
mem = ln(P, "encoder.ln", encoder_layer(P, "encoder.layers.0.", src, None, True))
dec = ln(P, "decoder.ln", decoder_layer(P, "decoder.layers.0.", tgt, mem, cm, None))
add("tf", "out", "memory", mem), add("tf", "out", "y", dec)


def emit():
    lines = ["/* Generated by scripts/gen_nn_refs.py from NumPy; do not edit. */",
             "#ifndef LZ_NN_REFS_H", "#define LZ_NN_REFS_H", "",
             "typedef struct nn_ref_entry {", "  const char *name;", "  int ndim;", "  int shape[6];",
             "  int size;", "  const double *data;", "} nn_ref_entry;", ""]
    for i, (name, a) in enumerate(ENTRIES):
        vals = ", ".join(repr(float(v)) for v in a.ravel())
        lines.append(f"static const double nn_ref_data_{i}[] = {{{vals if vals else '0'}}};")
    lines.append("")
    lines.append("static const nn_ref_entry NN_REFS[] = {")
    for i, (name, a) in enumerate(ENTRIES):
        shape = ", ".join(str(s) for s in a.shape) or "0"
        lines.append(f'    {{"{name}", {a.ndim}, {{{shape}}}, {a.size}, nn_ref_data_{i}}},')
    lines.append("};")
    lines.append(f"#define NN_REF_COUNT {len(ENTRIES)}")
    lines.append("")
    lines.append("#endif /* LZ_NN_REFS_H */")
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")


emit()
