"""Gradients through the functions this binding composes from several C ops (pad's reflections,
hadamard_transform, convolve, vecdot, gather_mm, block_masked_mm, segmented_mm, gather_qmm's
dequantized product, full with an array) against central finite differences. Runs once the
transforms (mx.grad) are part of the module."""
import numpy as np
import pytest

import lazuli.core as mx
from conftest import to_np

pytestmark = pytest.mark.skipif(not hasattr(mx, "grad"), reason="mx.grad is not built in")

RNG = np.random.default_rng(7)


def finite_diff(f, x, eps=1e-3):
    """Central differences of the scalar f at every element of the float64 NumPy array x."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        g[i] = (f(xp) - f(xm)) / (2 * eps)
    return g


def check(fn, x, tol=2e-2):
    """grad of sum(fn(x) * w) for a fixed random w, against finite differences in float32."""
    w = None

    def loss(a):
        nonlocal w
        y = fn(a)
        if w is None:
            w = mx.array(RNG.standard_normal(y.shape).astype(np.float32))
        return mx.sum(y * w)

    loss(mx.array(x))  # fixes w
    g = to_np(mx.grad(loss)(mx.array(x)))
    num = finite_diff(lambda v: loss(mx.array(v.astype(np.float32))).item(), x.astype(np.float64))
    np.testing.assert_allclose(g, num, rtol=tol, atol=tol)


def rand(*s):
    return RNG.standard_normal(s).astype(np.float32)


@pytest.mark.parametrize("mode", ["reflect", "symmetric", "edge", "constant"])
def test_pad_grad(mode):
    check(lambda a: mx.pad(a, (2, 3), mode=mode), rand(3, 4))


def test_hadamard_convolve_vecdot_grad():
    check(lambda a: mx.hadamard_transform(a), rand(2, 8))
    v = mx.array(rand(3))
    check(lambda a: mx.convolve(a, v, mode="same"), rand(6))
    b = mx.array(rand(3, 4))
    check(lambda a: mx.vecdot(a, b), rand(3, 4))


def test_gather_block_segmented_grad():
    b = mx.array(rand(3, 4, 2))
    idx = mx.array(np.array([2, 0, 2], np.uint32))
    check(lambda a: mx.gather_mm(a, b, None, idx), rand(3, 5, 4))
    mask = mx.array(np.array([[True, False], [True, True]]))
    bm = mx.array(rand(40, 3))
    check(lambda a: mx.block_masked_mm(a, bm, 32, mask_lhs=mask), rand(40, 40))
    bb = mx.array(rand(4, 4))
    segs = mx.array(np.array([[0, 2], [1, 4]], np.int32))
    check(lambda a: mx.segmented_mm(a, bb, segs), rand(3, 4))


def test_full_and_dequantized_products_grad():
    check(lambda a: mx.full((3, 4), a), rand(4))
    wq, s, b = mx.quantize(mx.array(rand(4, 64)), 32, 4)
    check(lambda x: mx.gather_qmm(x, wq, s, b, group_size=32, bits=4), rand(2, 64), tol=5e-2)
