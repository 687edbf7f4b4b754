"""Positional encodings: RoPE, SinusoidalPositionalEncoding, ALiBi."""

import math
from typing import Optional

import lazuli.core as mx
from lazuli.nn.layers.base import Module


class RoPE(Module):
    """Rotary positional encoding of the first ``dims`` features of the last axis, at
    positions ``offset + arange(L)`` along the second-to-last axis (fused ``fast.rope``).

    ``traditional`` rotates consecutive pairs instead of the two halves; the frequencies are
    ``base ** (-2i / dims)`` and positions are multiplied by ``scale``.
    """

    def __init__(self, dims: int, traditional: bool = False, base: float = 10000, scale: float = 1.0):
        super().__init__()
        self.dims = dims
        self.traditional = traditional
        self.base = base
        self.scale = scale

    def _extra_repr(self):
        return f"{self.dims}, traditional={self.traditional}"

    def __call__(self, x, offset: int = 0):
        return mx.fast.rope(
            x,
            self.dims,
            traditional=self.traditional,
            base=self.base,
            scale=self.scale,
            offset=offset,
        )


class SinusoidalPositionalEncoding(Module):
    r"""Sinusoidal encoding of (possibly fractional) positions into ``dims`` features, with
    ``dims // 2`` frequencies spaced geometrically from ``max_freq`` down to ``min_freq``.

    ``scale`` defaults to :math:`\sqrt{2/\text{dims}}`; ``cos_first`` puts the cosines first;
    ``full_turns`` multiplies the frequencies by :math:`2\pi`.
    """

    def __init__(
        self,
        dims: int,
        min_freq: float = 0.0001,
        max_freq: float = 1,
        scale: Optional[float] = None,
        cos_first: bool = False,
        full_turns: bool = False,
    ):
        super().__init__()
        half = dims // 2
        one_zero = 1 - mx.arange(0, half, dtype=mx.float32) / max(half - 1, 1)
        lo = math.log(min_freq)
        hi = math.log(max_freq)
        # Underscored: a constant, not a parameter.
        self._sigmas = mx.exp(one_zero * (hi - lo) + lo)
        if full_turns:
            self._sigmas = self._sigmas * (2 * math.pi)
        self.scale = scale or (2 / dims) ** 0.5
        self.cos_first = cos_first

    def __call__(self, x):
        y = x[..., None] * self._sigmas
        cosy = mx.cos(y)
        siny = mx.sin(y)
        y = mx.concatenate([cosy, siny] if self.cos_first else [siny, cosy], axis=-1)
        if self.scale != 1:
            y = y * self.scale
        return y


class ALiBi(Module):
    """Attention with linear biases: adds ``-slope_h * |i - j|`` to attention scores of
    shape ``(N, heads, L, S)``, with head slopes ``2 ** (-8 h / heads)``."""

    _cache = {}

    @staticmethod
    def create_alibi_matrix(q_sequence_length, k_sequence_length, num_heads, offset, dtype=mx.float32):
        key = (q_sequence_length, k_sequence_length, num_heads, offset, dtype)
        if key not in ALiBi._cache:
            x1 = mx.arange(offset, q_sequence_length)
            x2 = mx.arange(0, k_sequence_length)
            distance = -mx.abs(mx.expand_dims(x1[:, None] - x2[None, :], axis=(0, 1)))
            slope = ALiBi.create_alibi_slope(num_heads=num_heads)
            ALiBi._cache[key] = (distance * slope).astype(dtype)
        return ALiBi._cache[key]

    @staticmethod
    def create_alibi_slope(num_heads):
        x = (2**8) ** (1 / num_heads)
        out = mx.power(x, -mx.arange(1, num_heads + 1, dtype=mx.float32))
        return mx.expand_dims(out, axis=(-1, -2))

    def __call__(self, attention_scores, offset=0, mask=None):
        alibi = ALiBi.create_alibi_matrix(
            q_sequence_length=attention_scores.shape[-2] + offset,
            k_sequence_length=attention_scores.shape[-1],
            num_heads=attention_scores.shape[1],
            offset=offset,
            dtype=attention_scores.dtype,
        )
        if mask is not None:
            alibi = alibi + mask
        return attention_scores + alibi
