"""Upsampling of channels-last inputs ``(N, *spatial, C)``: nearest, linear, cubic."""

import math
from typing import Literal, Tuple, Union

import lazuli.core as mx
from lazuli.nn.layers.base import Module


def _axis_shape(ndim, axis, n):
    shape = [1] * ndim
    shape[axis] = n
    return shape


def _source_coords(N, scale, align_corners):
    """Fractional source positions of the ``floor(N * scale)`` output positions."""
    M = int(math.floor(N * scale))
    i = mx.arange(M, dtype=mx.float32)
    if align_corners:
        return i * ((N - 1) / (M - 1)) if M > 1 else mx.zeros((M,)), M
    return (i + 0.5) * (1 / scale) - 0.5, M


def upsample_nearest(x, scale_factor: Tuple):
    """Nearest-neighbour upsampling: output position ``i`` of ``M`` takes input position
    ``round((i + 0.5) * N / M - 0.5)`` when enlarging, ``floor(i * N / M)`` otherwise."""
    dims = x.ndim - 2
    if dims != len(scale_factor):
        raise ValueError("A scale needs to be provided for each spatial dimension")
    for d, s in enumerate(scale_factor):
        axis = d + 1
        N = x.shape[axis]
        M = int(math.floor(N * s))
        i = mx.arange(M, dtype=mx.float32)
        if M > N:
            idx = mx.round((i + 0.5) * (N / M) - 0.5)
        else:
            idx = mx.floor(i * (N / M))
        idx = mx.minimum(idx.astype(mx.int32), N - 1)
        x = mx.take(x, idx, axis=axis)
    return x


def _interpolate(x, scale_factor, align_corners, weights_fn, taps):
    dims = x.ndim - 2
    if dims != len(scale_factor):
        raise ValueError("A scale needs to be provided for each spatial dimension")
    for d, s in enumerate(scale_factor):
        axis = d + 1
        N = x.shape[axis]
        src, M = _source_coords(N, s, align_corners)
        base = mx.floor(src)
        frac = src - base
        base = base.astype(mx.int32)
        out = None
        for t, w in zip(taps, weights_fn(frac)):
            idx = mx.clip(base + t, 0, N - 1)
            term = mx.take(x, idx, axis=axis) * w.reshape(_axis_shape(x.ndim, axis, M))
            out = term if out is None else out + term
        x = out
    return x


def upsample_linear(x, scale_factor: Tuple, align_corners: bool = False):
    """(Bi/tri)linear upsampling, separable over the spatial axes; source positions outside
    the input clamp to its edge samples."""
    return _interpolate_linear(x, scale_factor, align_corners)


def _interpolate_linear(x, scale_factor, align_corners):
    dims = x.ndim - 2
    if dims != len(scale_factor):
        raise ValueError("A scale needs to be provided for each spatial dimension")
    for d, s in enumerate(scale_factor):
        axis = d + 1
        N = x.shape[axis]
        src, M = _source_coords(N, s, align_corners)
        src = mx.clip(src, 0, N - 1)
        lo = mx.floor(src)
        frac = (src - lo).reshape(_axis_shape(x.ndim, axis, M))
        lo = lo.astype(mx.int32)
        hi = mx.minimum(lo + 1, N - 1)
        x = mx.take(x, lo, axis=axis) * (1 - frac) + mx.take(x, hi, axis=axis) * frac
    return x


def upsample_cubic(x, scale_factor: Tuple, align_corners: bool = False):
    """Bicubic upsampling (Keys' kernel with ``a = -0.75``), separable over the spatial
    axes, edges clamped."""
    a = -0.75

    def weights(t):
        def near(z):  # |z| <= 1
            return ((a + 2) * z - (a + 3)) * z * z + 1

        def far(z):  # 1 < |z| < 2
            return ((a * z - 5 * a) * z + 8 * a) * z - 4 * a

        return [far(t + 1), near(t), near(1 - t), far(2 - t)]

    return _interpolate(x, scale_factor, align_corners, weights, (-1, 0, 1, 2))


class Upsample(Module):
    """Upsamples ``(N, *spatial, C)`` inputs by ``scale_factor`` (one per spatial axis or
    one for all) with ``mode`` ``'nearest'``, ``'linear'`` or ``'cubic'``."""

    def __init__(
        self,
        scale_factor: Union[float, Tuple],
        mode: Literal["nearest", "linear", "cubic"] = "nearest",
        align_corners: bool = False,
    ):
        super().__init__()
        if mode not in ["nearest", "linear", "cubic"]:
            raise ValueError(f"[Upsample] Got unsupported upsampling algorithm: {mode}")
        if isinstance(scale_factor, (list, tuple)):
            self.scale_factor = tuple(map(float, scale_factor))
        else:
            self.scale_factor = float(scale_factor)
        self.mode = mode
        self.align_corners = align_corners

    def _extra_repr(self):
        return (
            f"scale_factor={self.scale_factor}, mode={self.mode!r}, "
            f"align_corners={self.align_corners}"
        )

    def __call__(self, x):
        dims = x.ndim - 2
        if dims <= 0:
            raise ValueError(
                f"[Upsample] The input should have at least 1 spatial dimension which means "
                f"it should be at least 3D but {x.ndim}D was given"
            )
        scale = self.scale_factor
        if isinstance(scale, tuple):
            if len(scale) != dims:
                raise ValueError(
                    f"[Upsample] One scale per spatial dimension is required but "
                    f"scale_factor={scale} and the number of spatial dimensions were {dims}"
                )
        else:
            scale = (scale,) * dims
        if self.mode == "nearest":
            return upsample_nearest(x, scale)
        if self.mode == "linear":
            return upsample_linear(x, scale, self.align_corners)
        return upsample_cubic(x, scale, self.align_corners)
