"""quantize, dequantize, quantized_matmul and gather_qmm in MLX's float modes (mxfp4, mxfp8,
nvfp4) with MLX's `mode=` keyword and per-mode defaults, against NumPy decoders of the packed
codes and scales: FP4 E2M1 and FP8 E4M3 codes, E8M0 (2^(s-127)) and E4M3 scales."""
import numpy as np
import pytest

import lazuli.core as mx
from conftest import to_np

RNG = np.random.default_rng(17)

# mode -> (group size, bits, scale format), MLX's defaults
MODES = {"mxfp4": (32, 4, "e8m0"), "mxfp8": (32, 8, "e8m0"), "nvfp4": (16, 4, "e4m3")}

E2M1 = np.array([0, 0.5, 1, 1.5, 2, 3, 4, 6], np.float64)


def rand(*s):
    return RNG.standard_normal(s).astype(np.float32)


def e4m3(c):
    """E4M3 (FN) values of uint8 codes: bias 7, 3 mantissa bits, subnormals below 2^-6."""
    c = np.asarray(c, np.int64)
    sign = np.where(c & 0x80, -1.0, 1.0)
    e, m = (c >> 3) & 0xF, c & 0x7
    v = np.where(e == 0, m / 8.0 * 2.0 ** -6, (1 + m / 8.0) * 2.0 ** (e - 7.0))
    return sign * v


def unpack(wq, bits):
    """uint32 words (..., W) -> codes (..., W * 32 / bits), low bits first."""
    w = np.asarray(wq, np.uint32).astype(np.uint64)
    per = 32 // bits
    shifts = (np.arange(per, dtype=np.uint64) * np.uint64(bits))
    codes = (w[..., None] >> shifts) & np.uint64((1 << bits) - 1)
    return codes.reshape(*w.shape[:-1], -1).astype(np.int64)


def decode(wq, scales, mode):
    gs, bits, sfmt = MODES[mode]
    codes = unpack(to_np(wq), bits)
    if bits == 4:
        vals = np.where(codes & 8, -1.0, 1.0) * E2M1[codes & 7]
    else:
        vals = e4m3(codes)
    s = to_np(scales).astype(np.int64)
    sv = 2.0 ** (s - 127.0) if sfmt == "e8m0" else e4m3(s)
    return vals * np.repeat(sv, gs, axis=-1)


def code_values(mode):
    """Every value a code of the mode can stand for."""
    return np.unique(np.abs(E2M1 if MODES[mode][1] == 4 else e4m3(np.arange(127))))


@pytest.mark.parametrize("mode", list(MODES))
def test_quantize_float_modes(mode):
    gs, bits, _ = MODES[mode]
    w = rand(4, 128)
    out = mx.quantize(mx.array(w), mode=mode)
    assert len(out) == 2  # no biases in the float modes, as MLX
    wq, scales = out
    assert wq.dtype == mx.uint32 and wq.shape == (4, 128 * bits // 32)
    assert scales.dtype == mx.uint8 and scales.shape == (4, 128 // gs)
    # explicit defaults give the same codes
    wq2, s2 = mx.quantize(mx.array(w), gs, bits, mode)
    np.testing.assert_array_equal(np.array(wq2), np.array(wq))
    np.testing.assert_array_equal(np.array(s2), np.array(scales))
    # every code is the nearest representable value of w / scale (ties either way)
    dec = decode(wq, scales, mode)
    s = to_np(scales).astype(np.int64)
    scale = np.repeat(2.0 ** (s - 127.0) if MODES[mode][2] == "e8m0" else e4m3(s), gs, axis=-1)
    vals = code_values(mode)
    target = np.clip(np.abs(w) / scale, 0, vals.max())
    best = np.abs(vals[None, None, :] - target[..., None]).min(-1)
    got = np.abs(np.abs(dec) / scale - target)
    assert (np.sign(dec) * np.sign(w) >= 0).all()
    assert (got <= best + 1e-6 * np.maximum(1, target)).all()
    # and the group's largest magnitude fits the scale (max|w| / scale within the code range)
    groups = np.abs(w).reshape(4, -1, gs).max(-1)
    assert (groups / scale[:, ::gs] <= vals.max() * 2 + 1e-6).all()


@pytest.mark.parametrize("mode", list(MODES))
def test_dequantize_float_modes(mode):
    w = rand(3, 64)
    wq, scales = mx.quantize(mx.array(w), mode=mode)
    ref = decode(wq, scales, mode)
    d = mx.dequantize(wq, scales, mode=mode)
    assert d.dtype == mx.bfloat16 and d.shape == (3, 64)  # MLX's default for the float modes
    np.testing.assert_allclose(to_np(d), ref, rtol=1 / 128, atol=1e-6)
    d32 = mx.dequantize(wq, scales, None, None, None, mode, dtype=mx.float32)
    assert d32.dtype == mx.float32
    np.testing.assert_allclose(np.array(d32), ref, rtol=1e-6, atol=1e-7)
    # the round trip stays within the format's precision of the group's scale
    assert np.abs(ref - w).max() < np.abs(w).max()


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("transpose", [True, False])
def test_quantized_matmul_float_modes(mode, transpose):
    w = rand(64, 64)
    wq, scales = mx.quantize(mx.array(w), mode=mode)
    wd = decode(wq, scales, mode)
    x = rand(3, 64)
    out = mx.quantized_matmul(mx.array(x), wq, scales, transpose=transpose, mode=mode)
    assert out.dtype == mx.float32 and out.shape == (3, 64)
    np.testing.assert_allclose(np.array(out), x @ (wd.T if transpose else wd), rtol=1e-4,
                               atol=1e-4)


@pytest.mark.parametrize("mode", ["affine", "mxfp4", "nvfp4"])
def test_gather_qmm_modes(mode):
    w = rand(3, 8, 64)
    q = mx.quantize(mx.array(w), mode=mode)
    wd = to_np(mx.dequantize(*q, mode=mode, dtype=mx.float32))
    x = rand(2, 5, 64)
    li, ri = np.array([1, 0, 1], np.uint32), np.array([2, 2, 0], np.uint32)
    out = mx.gather_qmm(mx.array(x), *q, lhs_indices=mx.array(li), rhs_indices=mx.array(ri),
                        mode=mode)
    np.testing.assert_allclose(np.array(out), x[li] @ np.swapaxes(wd[ri], -1, -2), rtol=1e-3,
                               atol=1e-3)
    # transpose=False: w (K, N) matrices
    wkn = rand(2, 64, 64)
    q2 = mx.quantize(mx.array(wkn), mode=mode)
    wd2 = to_np(mx.dequantize(*q2, mode=mode, dtype=mx.float32))
    out = mx.gather_qmm(mx.array(x[0, :1]), *q2, rhs_indices=mx.array([1, 0]), transpose=False,
                        mode=mode, sorted_indices=True)
    np.testing.assert_allclose(np.array(out), x[0, :1] @ wd2[[1, 0]], rtol=1e-3, atol=1e-3)


def test_affine_defaults_unchanged():
    w = mx.array(rand(2, 128))
    wq, s, b = mx.quantize(w)  # MLX's affine defaults: 64, 4
    assert wq.shape == (2, 16) and s.shape == (2, 2) and b.shape == (2, 2)
    same = mx.quantize(w, 64, 4, "affine")
    np.testing.assert_array_equal(np.array(same[0]), np.array(wq))
    assert mx.dequantize(wq, s, b).dtype == mx.float32
    assert mx.dequantize(wq, s, b, dtype=mx.bfloat16).dtype == mx.bfloat16


def test_mode_errors():
    w = mx.array(rand(2, 64))
    with pytest.raises(ValueError, match="Invalid quantization mode 'int4'"):
        mx.quantize(w, mode="int4")
    with pytest.raises(TypeError):
        mx.quantize(w, mode=4)
    with pytest.raises(ValueError):  # the mx formats use groups of 32 only
        mx.quantize(w, group_size=64, mode="mxfp4")
    with pytest.raises(ValueError):
        mx.quantize(w, bits=8, mode="nvfp4")
    wq, s = mx.quantize(w, mode="mxfp4")
    with pytest.raises(ValueError):  # affine needs biases
        mx.dequantize(wq, s)
    with pytest.raises(ValueError):  # the float modes take none
        mx.dequantize(wq, s, mx.zeros(s.shape), mode="mxfp4")
    with pytest.raises(ValueError):
        mx.quantized_matmul(mx.array(rand(1, 64)), wq, s, mx.zeros(s.shape), mode="mxfp4")
    with pytest.raises(ValueError):
        mx.gather_qmm(mx.array(rand(1, 64)), wq, s, mode="affine")
    # MLX's gather_qmm: no global_scale, and sorted_indices is keyword-only
    with pytest.raises(TypeError):
        mx.gather_qmm(mx.array(rand(1, 64)), wq, s, global_scale=None, mode="mxfp4")
    with pytest.raises(TypeError):
        mx.gather_qmm(mx.array(rand(1, 64)), wq, s, None, None, None, True, 32, 4, "mxfp4", True)
    with pytest.raises(ValueError):  # no global scale in the C library
        mx.quantize(w, mode="nvfp4", global_scale=mx.array(1.0))
    with pytest.raises(ValueError):
        mx.quantize(w, global_scale=mx.array(1.0))
    with pytest.raises(ValueError):  # integer input
        mx.quantize(mx.zeros((2, 64), dtype=mx.int32), mode="mxfp8")
