#!/usr/bin/env python3
"""Generates python/tests/data/nn_reference.npz: inputs, weights and PyTorch's outputs for the
layers of lazuli.nn that have a PyTorch counterpart (convolutions, recurrent layers, pooling,
upsampling, norms). Everything is stored in MLX's channels-last layout, so the tests need
only NumPy. Run it again (with python3-torch installed) after changing a case:

    python3 scripts/gen_nn_reference.py
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "python", "tests", "data", "nn_reference.npz")
rng = np.random.default_rng(1234)
ref = {}


def rand(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def t(x):
    return torch.from_numpy(np.ascontiguousarray(x))


def cl(x):
    """channels-first torch output -> channels-last numpy."""
    x = x.detach().numpy()
    return np.moveaxis(x, 1, -1)


# ---- convolutions: (N, *spatial, C) inputs, (O, *k, I/groups) weights -------------------
def conv_case(name, nd, n, size, cin, cout, k, stride, padding, dilation, groups):
    x = rand(n, *([size] * nd), cin)
    w = rand(cout, *([k] * nd), cin // groups)
    b = rand(cout)
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nd]
    y = fn(t(np.moveaxis(x, -1, 1)), t(np.moveaxis(w, -1, 1)), t(b), stride, padding, dilation, groups)
    ref.update({f"{name}_x": x, f"{name}_w": w, f"{name}_b": b, f"{name}_y": cl(y)})


conv_case("conv1d", 1, 2, 9, 4, 6, 3, 2, 1, 1, 2)
conv_case("conv2d", 2, 2, 7, 3, 4, 3, 1, 1, 2, 1)
conv_case("conv3d", 3, 1, 5, 2, 3, 2, 1, 0, 1, 1)


def convt_case(name, nd, n, size, cin, cout, k, stride, padding, dilation, output_padding):
    x = rand(n, *([size] * nd), cin)
    w = rand(cout, *([k] * nd), cin)  # MLX layout (O, *k, I)
    b = rand(cout)
    fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[nd]
    # torch wants (I, O, *k)
    wt = np.moveaxis(w, [0, -1], [1, 0])
    y = fn(t(np.moveaxis(x, -1, 1)), t(wt), t(b), stride, padding, output_padding, 1, dilation)
    ref.update({f"{name}_x": x, f"{name}_w": w, f"{name}_b": b, f"{name}_y": cl(y)})


convt_case("convt1d", 1, 2, 5, 3, 4, 3, 2, 1, 1, 1)
convt_case("convt2d", 2, 1, 4, 2, 3, 3, 2, 0, 1, 0)
convt_case("convt3d", 3, 1, 3, 2, 2, 2, 1, 0, 1, 0)

# ---- recurrent layers: batch-first (N, L, D) --------------------------------------------
N, L, D, H = 2, 5, 3, 4
x = rand(N, L, D)
ref["rnn_x"] = x
h0 = rand(N, H)
ref["rnn_h0"] = h0

rnn = torch.nn.RNN(D, H, batch_first=True)
y, _ = rnn(t(x), t(h0[None]))
ref.update({"rnn_Wxh": rnn.weight_ih_l0.detach().numpy(), "rnn_Whh": rnn.weight_hh_l0.detach().numpy(),
            "rnn_b": (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().numpy(), "rnn_y": y.detach().numpy()})

gru = torch.nn.GRU(D, H, batch_first=True)
y, _ = gru(t(x), t(h0[None]))
b_ih = gru.bias_ih_l0.detach().numpy()
b_hh = gru.bias_hh_l0.detach().numpy()
# lazuli/MLX: b = b_ih + [b_hh_r, b_hh_z, 0], bhn = b_hh_n (inside the reset gate).
b = b_ih.copy()
b[: 2 * H] += b_hh[: 2 * H]
ref.update({"gru_Wx": gru.weight_ih_l0.detach().numpy(), "gru_Wh": gru.weight_hh_l0.detach().numpy(),
            "gru_b": b, "gru_bhn": b_hh[2 * H:], "gru_y": y.detach().numpy()})

lstm = torch.nn.LSTM(D, H, batch_first=True)
c0 = rand(N, H)
ref["lstm_c0"] = c0
(y, _) = lstm(t(x), (t(h0[None]), t(c0[None])))
ref.update({"lstm_Wx": lstm.weight_ih_l0.detach().numpy(), "lstm_Wh": lstm.weight_hh_l0.detach().numpy(),
            "lstm_b": (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().numpy(), "lstm_y": y.detach().numpy()})

# ---- pooling ------------------------------------------------------------------------------
x = rand(2, 8, 7, 3)
ref["pool2d_x"] = x
xc = t(np.moveaxis(x, -1, 1))
ref["maxpool2d_y"] = cl(F.max_pool2d(xc, 3, 2, 1))
ref["avgpool2d_y"] = cl(F.avg_pool2d(xc, 3, 2, 1, count_include_pad=True))
x1 = rand(2, 9, 3)
ref["pool1d_x"] = x1
ref["maxpool1d_y"] = cl(F.max_pool1d(t(np.moveaxis(x1, -1, 1)), 2))
ref["avgpool1d_y"] = cl(F.avg_pool1d(t(np.moveaxis(x1, -1, 1)), 3, 2))
x3 = rand(1, 4, 5, 6, 2)
ref["pool3d_x"] = x3
ref["maxpool3d_y"] = cl(F.max_pool3d(t(np.moveaxis(x3, -1, 1)), 2, 1))
ref["avgpool3d_y"] = cl(F.avg_pool3d(t(np.moveaxis(x3, -1, 1)), 2, 2))

# ---- upsampling ---------------------------------------------------------------------------
x = rand(1, 3, 4, 2)
ref["up_x"] = x
xc = t(np.moveaxis(x, -1, 1))
ref["up_nearest_y"] = cl(F.interpolate(xc, scale_factor=2, mode="nearest"))
ref["up_linear_y"] = cl(F.interpolate(xc, scale_factor=2, mode="bilinear", align_corners=False))
ref["up_linear_ac_y"] = cl(F.interpolate(xc, scale_factor=2, mode="bilinear", align_corners=True))
ref["up_cubic_y"] = cl(F.interpolate(xc, scale_factor=2, mode="bicubic", align_corners=False))
ref["up_cubic_ac_y"] = cl(F.interpolate(xc, scale_factor=2, mode="bicubic", align_corners=True))

# ---- norms ----------------------------------------------------------------------------------
x = rand(2, 3, 4, 8)
ref["gn_x"] = x
ref["gn_y"] = cl(F.group_norm(t(np.moveaxis(x, -1, 1)), 4, eps=1e-5))
ref["in_y"] = cl(F.instance_norm(t(np.moveaxis(x, -1, 1)), eps=1e-5))

# ---- transformer encoder layer (pre- and post-norm, ReLU), attention without biases ---------
D, HEADS, FF = 8, 2, 16
x = rand(2, 5, D)
ref["tel_x"] = x
mask = np.triu(np.full((5, 5), -1e9, np.float32), 1)
ref["tel_mask"] = mask
for norm_first in (True, False):
    tag = "pre" if norm_first else "post"
    layer = torch.nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, batch_first=True,
                                             norm_first=norm_first)
    with torch.no_grad():
        layer.self_attn.in_proj_bias.zero_()
        layer.self_attn.out_proj.bias.zero_()
        for p in (layer.norm1.weight, layer.norm2.weight, layer.norm1.bias, layer.norm2.bias):
            p.copy_(torch.from_numpy(rand(*p.shape)))
    layer.eval()
    y = layer(t(x), src_mask=t(mask))
    wq, wk, wv = layer.self_attn.in_proj_weight.detach().numpy().reshape(3, D, D)
    ref.update({
        f"tel_{tag}_wq": wq, f"tel_{tag}_wk": wk, f"tel_{tag}_wv": wv,
        f"tel_{tag}_wo": layer.self_attn.out_proj.weight.detach().numpy(),
        f"tel_{tag}_l1w": layer.linear1.weight.detach().numpy(),
        f"tel_{tag}_l1b": layer.linear1.bias.detach().numpy(),
        f"tel_{tag}_l2w": layer.linear2.weight.detach().numpy(),
        f"tel_{tag}_l2b": layer.linear2.bias.detach().numpy(),
        f"tel_{tag}_n1w": layer.norm1.weight.detach().numpy(),
        f"tel_{tag}_n1b": layer.norm1.bias.detach().numpy(),
        f"tel_{tag}_n2w": layer.norm2.weight.detach().numpy(),
        f"tel_{tag}_n2b": layer.norm2.bias.detach().numpy(),
        f"tel_{tag}_y": y.detach().numpy(),
    })

np.savez_compressed(OUT, **ref)
print(f"wrote {os.path.normpath(OUT)} ({len(ref)} arrays)")
