"""Products, einsum, the Hadamard transform, convolutions and quantization against NumPy."""
import numpy as np
import pytest

import lazuli.core as mx
from conftest import to_np

RNG = np.random.default_rng(3)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def close(x, e, tol=1e-4):
    assert x.shape == np.shape(e), (x.shape, np.shape(e))
    np.testing.assert_allclose(to_np(x), e, rtol=tol, atol=tol)


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 5)), ((4,), (4, 2)), ((3, 4), (4,)),
                                   ((2, 1, 3, 4), (5, 4, 6))], ids=str)
def test_matmul(sa, sb):
    a, b = rand(*sa), rand(*sb)
    close(mx.matmul(mx.array(a), mx.array(b)), a @ b)
    with pytest.raises(ValueError):
        mx.matmul(mx.array(a), mx.array(rand(7, 3)))


def test_addmm_inner_outer_tensordot_vecdot():
    a, b, c = rand(3, 4), rand(4, 5), rand(3, 5)
    close(mx.addmm(mx.array(c), mx.array(a), mx.array(b)), a @ b + c)
    close(mx.addmm(mx.array(c), mx.array(a), mx.array(b), alpha=2.0, beta=0.5), 2 * a @ b + 0.5 * c)
    x, y = rand(3, 4), rand(2, 4)
    close(mx.inner(mx.array(x), mx.array(y)), np.inner(x, y))
    close(mx.outer(mx.array(x[0]), mx.array(y[0])), np.outer(x[0], y[0]))
    t1, t2 = rand(2, 3, 4), rand(3, 4, 5)
    close(mx.tensordot(mx.array(t1), mx.array(t2)), np.tensordot(t1, t2))
    close(mx.tensordot(mx.array(t1), mx.array(t2[0]), axes=1), np.tensordot(t1, t2[0], 1))
    close(mx.tensordot(mx.array(t1), mx.array(t2), axes=[[1, 2], [0, 1]]),
          np.tensordot(t1, t2, axes=([1, 2], [0, 1])))
    close(mx.vecdot(mx.array(x), mx.array(x)), np.sum(x * x, -1))
    close(mx.vecdot(mx.array(t1), mx.array(t1), axis=1), np.sum(t1 * t1, 1))


@pytest.mark.parametrize("eq,shapes", [("ij,jk->ik", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]),
                                       ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
                                       ("i,i", [(4,), (4,)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
                                       ("...ij->...ji", [(2, 3, 4)])])
def test_einsum(eq, shapes):
    ops = [rand(*s) for s in shapes]
    close(mx.einsum(eq, *[mx.array(o) for o in ops]), np.einsum(eq, *ops))


def _hadamard(n):
    h = np.array([[1.0]])
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h


@pytest.mark.parametrize("n", [1, 2, 8, 64])
def test_hadamard_transform(n):
    x = rand(3, n)
    close(mx.hadamard_transform(mx.array(x)), x @ _hadamard(n).T / np.sqrt(n))
    close(mx.hadamard_transform(mx.array(x), scale=1.0), x @ _hadamard(n).T)
    with pytest.raises(ValueError):
        mx.hadamard_transform(mx.array(rand(2, 6)))


def _conv_ref(x, w, stride, pad, dil, groups):
    """Direct n-d cross-correlation: x (N, *S, C), w (O, *K, C/groups)."""
    nd = x.ndim - 2
    x = np.pad(x, [(0, 0)] + [(p, p) for p in pad] + [(0, 0)])
    n, cin, cout = x.shape[0], x.shape[-1], w.shape[0]
    ks = w.shape[1:-1]
    outs = [(x.shape[1 + d] - dil[d] * (ks[d] - 1) - 1) // stride[d] + 1 for d in range(nd)]
    out = np.zeros([n] + outs + [cout], np.float64)
    cg, og = cin // groups, cout // groups
    for pos in np.ndindex(*outs):
        for kpos in np.ndindex(*ks):
            idx = tuple(pos[d] * stride[d] + kpos[d] * dil[d] for d in range(nd))
            patch = x[(slice(None),) + idx]  # (N, C)
            for g in range(groups):
                wk = w[(slice(g * og, (g + 1) * og),) + kpos]  # (og, cg)
                out[(slice(None),) + pos + (slice(g * og, (g + 1) * og),)] += \
                    patch[:, g * cg:(g + 1) * cg] @ wk.T
    return out


def test_conv1d_2d_3d():
    x, w = rand(2, 9, 4), rand(6, 3, 2)
    close(mx.conv1d(mx.array(x), mx.array(w), 2, 1, 1, 2), _conv_ref(x, w, [2], [1], [1], 2))
    close(mx.conv1d(mx.array(x), mx.array(rand(6, 3, 4) * 0 + w.repeat(2, -1)), stride=1,
                    padding=0, dilation=2),
          _conv_ref(x, w.repeat(2, -1), [1], [0], [2], 1))
    x2, w2 = rand(1, 6, 5, 3), rand(4, 3, 2, 3)
    close(mx.conv2d(mx.array(x2), mx.array(w2), (1, 2), 1),
          _conv_ref(x2, w2, [1, 2], [1, 1], [1, 1], 1))
    x3, w3 = rand(1, 4, 4, 4, 2), rand(2, 2, 2, 2, 2)
    close(mx.conv3d(mx.array(x3), mx.array(w3), stride=2),
          _conv_ref(x3, w3, [2, 2, 2], [0, 0, 0], [1, 1, 1], 1))
    with pytest.raises(ValueError):
        mx.conv2d(mx.array(x2), mx.array(rand(4, 3, 2, 5)))
    with pytest.raises(ValueError):
        mx.conv2d(mx.array(x2), mx.array(w2), stride=(1, 2, 3))


def test_conv_general_and_transpose():
    x, w = rand(1, 7, 2), rand(3, 3, 2)
    close(mx.conv_general(mx.array(x), mx.array(w), padding=([2], [1])),
          _conv_ref(np.pad(x, [(0, 0), (2, 1), (0, 0)]), w, [1], [0], [1], 1))
    close(mx.conv_general(mx.array(x), mx.array(w), flip=True),
          _conv_ref(x, w[:, ::-1], [1], [0], [1], 1))
    # conv_transpose1d is conv_general over the stride-dilated input with the flipped kernel
    xt, wt = rand(1, 5, 2), rand(3, 3, 2)
    expected = to_np(mx.conv_general(mx.array(xt), mx.array(wt), padding=2, input_dilation=2,
                                     flip=True))
    close(mx.conv_transpose1d(mx.array(xt), mx.array(wt), stride=2), expected)
    assert mx.conv_transpose2d(mx.array(rand(1, 3, 3, 2)), mx.array(rand(4, 2, 2, 2)),
                               stride=2, output_padding=1).shape == (1, 7, 7, 4)
    assert mx.conv_transpose3d(mx.array(rand(1, 2, 2, 2, 1)),
                               mx.array(rand(1, 2, 2, 2, 1))).shape == (1, 3, 3, 3, 1)


@pytest.mark.parametrize("mode", ["full", "valid", "same"])
@pytest.mark.parametrize("na,nv", [(7, 3), (4, 6), (5, 4)])
def test_convolve(mode, na, nv):
    a, v = rand(na), rand(nv)
    close(mx.convolve(mx.array(a), mx.array(v), mode=mode), np.convolve(a, v, mode))
    with pytest.raises(ValueError):
        mx.convolve(mx.array(a), mx.array(v), mode="bad")


@pytest.mark.parametrize("bits", [2, 4, 8])
@pytest.mark.parametrize("group_size", [32, 64])
def test_quantize_roundtrip_and_matmul(bits, group_size):
    w = rand(8, 128)
    wq, scales, biases = mx.quantize(mx.array(w), group_size, bits)
    assert wq.dtype == mx.uint32 and wq.shape == (8, 128 * bits // 32)
    assert scales.shape == (8, 128 // group_size) == biases.shape
    wd = to_np(mx.dequantize(wq, scales, biases, group_size=group_size, bits=bits))
    step = np.abs(to_np(scales)).repeat(group_size, axis=1)
    assert (np.abs(wd - w) <= step + 1e-6).all()
    x = rand(3, 128)
    close(mx.quantized_matmul(mx.array(x), wq, scales, biases, True, group_size, bits),
          x @ wd.T, tol=1e-3)
    # transpose=False: W quantized as (K, N), x @ W
    q = mx.quantize(mx.array(w), group_size, bits)
    wd_kn = to_np(mx.dequantize(*q, group_size, bits))  # (8, 128) used as (K=8, N=128)
    x8 = rand(3, 8)
    close(mx.quantized_matmul(mx.array(x8), *q, transpose=False, group_size=group_size,
                              bits=bits), x8 @ wd_kn, tol=1e-3)



def test_quantize_defaults_and_modes():
    w = mx.array(rand(2, 64))
    wq, s, b = mx.quantize(w)
    assert wq.shape == (2, 8) and s.shape == (2, 1)  # group_size 64, bits 4
    assert mx.dequantize(wq, s, b, dtype=mx.float16).dtype == mx.float16
    assert len(mx.quantize(w, mode="nvfp4")) == 2  # codes and scales (test_quantize_modes.py)
    with pytest.raises(ValueError):
        mx.quantize(mx.array(rand(2, 48)), 32)


def test_gather_mm():
    a, b = rand(3, 2, 4), rand(5, 4, 6)
    li = np.array([[0, 2], [1, 1]], np.uint32)
    ri = np.array([[4, 0], [3, 3]], np.uint32)
    close(mx.gather_mm(mx.array(a), mx.array(b), mx.array(li), mx.array(ri)), a[li] @ b[ri])
    close(mx.gather_mm(mx.array(a), mx.array(b[:3]), rhs_indices=mx.array([2, 0, 1])),
          a @ b[[2, 0, 1]])
    b4 = rand(2, 5, 4, 6)
    close(mx.gather_mm(mx.array(a[0]), mx.array(b4), None, mx.array([7, 0]),
                       sorted_indices=False), a[0] @ b4.reshape(10, 4, 6)[[7, 0]])
    # a vector operand is a one-row (or one-column) matrix, as in matmul
    close(mx.gather_mm(mx.array(a[0, 0]), mx.array(b), None, mx.array([3, 1])),
          a[0, 0] @ b[[3, 1]])
    with pytest.raises(ValueError):
        mx.gather_mm(mx.array(1.0), mx.array(b), None, mx.array([0]))
    with pytest.raises(ValueError):
        mx.gather_mm(mx.array(a), mx.array(rand(5, 3, 6)), None, mx.array([0]))
    with pytest.raises(ValueError):  # float indices
        mx.gather_mm(mx.array(a), mx.array(b), None, mx.array([0.0]))


def _expand(mask, bs, rows, cols):
    return np.repeat(np.repeat(mask, bs, -2), bs, -1)[..., :rows, :cols]


@pytest.mark.parametrize("bs", [32, 64])
def test_block_masked_mm(bs):
    # partial edge blocks: M, K, N not multiples of the block size
    M, K, N = bs + 5, 2 * bs + 3, bs - 7
    a, b = rand(2, M, K), rand(2, K, N)
    nb = lambda n: (n + bs - 1) // bs
    ml = RNG.random((2, nb(M), nb(K))) > 0.4
    mr = RNG.random((2, nb(K), nb(N))) > 0.4
    mo = RNG.random((2, nb(M), nb(N))) > 0.3
    e = ((a * _expand(ml, bs, M, K)) @ (b * _expand(mr, bs, K, N))) * _expand(mo, bs, M, N)
    close(mx.block_masked_mm(mx.array(a), mx.array(b), bs, mx.array(mo), mx.array(ml),
                             mx.array(mr)), e, tol=1e-3)
    sl = RNG.random((2, nb(M), nb(K))).astype(np.float32)
    close(mx.block_masked_mm(mx.array(a), mx.array(b), block_size=bs, mask_lhs=mx.array(sl)),
          (a * _expand(sl, bs, M, K)) @ b, tol=1e-3)
    close(mx.block_masked_mm(mx.array(a), mx.array(b), bs), a @ b, tol=1e-3)
    with pytest.raises(ValueError):
        mx.block_masked_mm(mx.array(a), mx.array(b), bs, mask_lhs=mx.array(np.ones((2, 9, 9), bool)))


def test_block_masked_mm_block_sizes():
    """MLX supports blocks of 32 and 64 only; 64 is the default."""
    a, b = rand(70, 40), rand(40, 65)
    mo = RNG.random((2, 2)) > 0.5
    close(mx.block_masked_mm(mx.array(a), mx.array(b), mask_out=mx.array(mo)),
          (a @ b) * _expand(mo, 64, 70, 65), tol=1e-3)
    for bad in (2, 16, 128, 0, -32):
        with pytest.raises(ValueError):
            mx.block_masked_mm(mx.array(a), mx.array(b), bad, mask_out=mx.array(mo))


def _fp8_table():
    """MLX's decoding of each E4M3 code: the low 7 bits as a float16 times 256, signed, and
    NaN for 0x7F and 0xFF (E4M3FN's NaN bytes; MLX decodes them so since its issue #4135)."""
    codes = np.arange(256, dtype=np.uint16)
    v = (((codes & 127) << 7).astype(np.uint16)).view(np.float16).astype(np.float64) * 256
    return np.where(codes & 127 == 127, np.nan, np.where(codes & 128, -v, v))


def _to_fp8_ref(x):
    """Nearest E4M3 code by brute force, ties to the even code; |x| >= 464 (MLX saturates from
    448: the same codes), inf and NaN saturate to 448 (0x7E) with the sign."""
    table = _fp8_table()[:0x7F]  # the non-negative finite codes 0..0x7E, increasing
    out = []
    for v in np.asarray(x, np.float32).astype(np.float64).ravel():
        s = 0x80 if np.signbit(v) else 0
        a = abs(v)
        if not np.isfinite(a) or a >= 464:
            out.append(0x7E | s)
            continue
        d = np.abs(table - a)
        best = np.flatnonzero(d == d.min())
        code = best[0] if len(best) == 1 else next(c for c in best if c % 2 == 0)
        out.append(int(code) | s)
    return np.array(out, np.uint8).reshape(np.shape(x))


def test_fp8_conversions():
    codes = np.arange(256, dtype=np.uint8)
    got = mx.from_fp8(mx.array(codes), mx.float32)
    np.testing.assert_array_equal(to_np(got), _fp8_table().astype(np.float32))
    assert mx.from_fp8(mx.array(codes)).dtype == mx.bfloat16
    for dt in (mx.float32, mx.float16, mx.bfloat16):  # the NaN bytes, in every float dtype
        nan = to_np(mx.from_fp8(mx.array(np.array([0x7F, 0xFF, 0x7E], np.uint8)), dt))
        assert np.isnan(nan[:2]).all() and nan[2] == 448
    finite = _fp8_table()[[c for c in range(256) if c & 127 != 127]]
    x = np.concatenate([finite, finite * 1.03, finite * 0.97, [0.0, -0.0, 500, -1e9, np.inf,
                                                                 -np.inf, np.nan, 2.0**-10,
                                                                 3 * 2.0**-10, 460, 463.9,
                                                                 464.5, 470, -479.9, 480]])
    x = x.astype(np.float32)
    enc = mx.to_fp8(mx.array(x))
    assert enc.dtype == mx.uint8
    np.testing.assert_array_equal(to_np(enc), _to_fp8_ref(x))
    with pytest.raises(ValueError):
        mx.to_fp8(mx.array([1, 2]))
    with pytest.raises(ValueError):
        mx.from_fp8(mx.array([1.0]))


def test_segmented_mm():
    a, b = rand(3, 10), rand(10, 4)
    segs = np.array([[0, 4], [4, 10], [2, 2], [1, 9]], np.int32)
    e = np.stack([a[:, s:t] @ b[s:t] for s, t in segs])
    close(mx.segmented_mm(mx.array(a), mx.array(b), mx.array(segs)), e)
    b[5, 0] = np.inf  # outside the first segment: it must not leak in
    out = to_np(mx.segmented_mm(mx.array(a), mx.array(b), segments=mx.array(segs[:1])))
    np.testing.assert_allclose(out[0], a[:, :4] @ b[:4], rtol=1e-4, atol=1e-4)
    two = segs.reshape(2, 2, 2)
    assert mx.segmented_mm(mx.array(a), mx.array(b), mx.array(two)).shape == (2, 2, 3, 4)


def test_gather_qmm():
    w = rand(3, 8, 64)  # three (N=8, K=64) matrices
    wq, s, b = mx.quantize(mx.array(w), 32, 4)
    wd = to_np(mx.dequantize(wq, s, b, 32, 4))
    x = rand(2, 5, 64)
    li = np.array([1, 0, 1], np.uint32)
    ri = np.array([2, 2, 0], np.uint32)
    out = mx.gather_qmm(mx.array(x), wq, s, b, mx.array(li), mx.array(ri), group_size=32, bits=4)
    close(out, x[li] @ np.swapaxes(wd[ri], -1, -2), tol=1e-3)
    out = mx.gather_qmm(mx.array(x[:1]), wq, s, b, rhs_indices=mx.array([0, 2]), transpose=True,
                        group_size=32, bits=4)
    close(out, x[:1] @ np.swapaxes(wd[[0, 2]], -1, -2), tol=1e-3)
    with pytest.raises(ValueError):
        mx.gather_qmm(mx.array(x), wq, s, None)
