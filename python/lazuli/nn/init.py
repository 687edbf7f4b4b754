"""Initialisers: each returns a function that fills an array of a given shape."""

import math
from typing import Callable, Literal

import lazuli.core as mx

__all__ = [
    "constant",
    "normal",
    "uniform",
    "identity",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "sparse",
    "orthogonal",
]


def constant(value: float, dtype=mx.float32) -> Callable:
    """An initialiser that fills with ``value``."""

    def initializer(a):
        return mx.full(a.shape, value, dtype=dtype)

    return initializer


def normal(mean: float = 0.0, std: float = 1.0, dtype=mx.float32) -> Callable:
    """An initialiser drawing from :math:`\\mathcal{N}(\\text{mean}, \\text{std}^2)`."""

    def initializer(a):
        return mx.random.normal(shape=a.shape, scale=std, loc=mean, dtype=dtype)

    return initializer


def uniform(low: float = 0.0, high: float = 1.0, dtype=mx.float32) -> Callable:
    """An initialiser drawing uniformly from ``[low, high)``."""

    def initializer(a):
        return mx.random.uniform(low, high, a.shape, dtype=dtype)

    return initializer


def identity(dtype=mx.float32) -> Callable:
    """An initialiser giving the identity matrix (square 2-D arrays only)."""

    def initializer(arr):
        if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
            raise ValueError(
                f"The input array must be a square matrix but got shape {tuple(arr.shape)}."
            )
        return mx.eye(n=arr.shape[0], dtype=dtype)

    return initializer


def _fans(x):
    if x.ndim < 2:
        raise ValueError(
            "Glorot / He initialization requires at least 2 dimensional input"
            f" but input with {x.ndim} dimensions."
        )
    fan_in, fan_out = x.shape[-1], x.shape[0]
    if x.ndim > 2:
        receptive = 1
        for d in x.shape[1:-1]:
            receptive *= d
        fan_in *= receptive
        fan_out *= receptive
    return fan_in, fan_out


def glorot_normal(dtype=mx.float32) -> Callable:
    """Glorot (Xavier) normal: std ``gain * sqrt(2 / (fan_in + fan_out))``."""

    def initializer(a, gain: float = 1.0):
        fan_in, fan_out = _fans(a)
        std = gain * math.sqrt(2.0 / (fan_in + fan_out))
        return mx.random.normal(shape=a.shape, dtype=dtype) * std

    return initializer


def glorot_uniform(dtype=mx.float32) -> Callable:
    """Glorot (Xavier) uniform on ``[-l, l]`` with ``l = gain * sqrt(6 / (fan_in + fan_out))``."""

    def initializer(a, gain: float = 1.0):
        fan_in, fan_out = _fans(a)
        limit = gain * math.sqrt(6.0 / (fan_in + fan_out))
        return mx.random.uniform(-limit, limit, a.shape, dtype=dtype)

    return initializer


def he_normal(dtype=mx.float32) -> Callable:
    """He (Kaiming) normal: std ``gain / sqrt(fan)``, fan by ``mode`` (``"fan_in"``/``"fan_out"``)."""

    def initializer(a, mode: Literal["fan_in", "fan_out"] = "fan_in", gain: float = 1.0):
        fan_in, fan_out = _fans(a)
        if mode == "fan_in":
            fan = fan_in
        elif mode == "fan_out":
            fan = fan_out
        else:
            raise ValueError(f"Invalid mode: {mode}. Valid modes are: fan_in, fan_out")
        std = gain / math.sqrt(fan)
        return mx.random.normal(shape=a.shape, dtype=dtype) * std

    return initializer


def he_uniform(dtype=mx.float32) -> Callable:
    """He (Kaiming) uniform on ``[-l, l]`` with ``l = gain * sqrt(3 / fan)``."""

    def initializer(a, mode: Literal["fan_in", "fan_out"] = "fan_in", gain: float = 1.0):
        fan_in, fan_out = _fans(a)
        if mode == "fan_in":
            fan = fan_in
        elif mode == "fan_out":
            fan = fan_out
        else:
            raise ValueError(f"Invalid mode: {mode}. Valid modes are: fan_in, fan_out")
        limit = gain * math.sqrt(3.0 / fan)
        return mx.random.uniform(-limit, limit, a.shape, dtype=dtype)

    return initializer


def sparse(sparsity: float, mean: float = 0.0, std: float = 1.0, dtype=mx.float32) -> Callable:
    """A 2-D initialiser drawing from a normal distribution, with a fraction ``sparsity`` of
    each column set to zero."""

    def initializer(a):
        if a.ndim != 2:
            raise ValueError("Only tensors with 2 dimensions are supported")
        rows, cols = a.shape
        num_zeros = int(math.ceil(sparsity * cols))
        order = mx.argsort(mx.random.uniform(shape=a.shape), axis=1)
        out = mx.random.normal(shape=a.shape, scale=std, loc=mean, dtype=dtype)
        keep = mx.argsort(order, axis=1) >= num_zeros
        return mx.where(keep, out, mx.zeros_like(out))

    return initializer


def orthogonal(gain: float = 1.0, dtype=mx.float32) -> Callable:
    """An initialiser giving a (semi-)orthogonal 2-D matrix scaled by ``gain``."""

    def initializer(a):
        if a.ndim != 2:
            raise ValueError(
                f"Orthogonal initialization requires a 2D array but got a {a.ndim}D array."
            )
        rows, cols = a.shape
        n = max(rows, cols)
        flat = mx.random.normal(shape=(n, min(rows, cols)))
        q, r = mx.linalg.qr(flat, stream=mx.cpu)
        q = q * mx.sign(mx.diag(r))
        if rows < cols:
            q = q.T
        return (gain * q[:rows, :cols]).astype(dtype)

    return initializer
