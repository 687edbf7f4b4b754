"""Affine layers: Identity, Linear, Bilinear."""

import math
from typing import Any

import lazuli.core as mx
from lazuli.nn.layers.base import Module


class Identity(Module):
    """A placeholder that returns its input unchanged (arguments are ignored)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def __call__(self, x):
        return x


class Linear(Module):
    r"""An affine transformation :math:`y = x W^\top + b`.

    ``weight`` is ``(output_dims, input_dims)`` and ``bias`` ``(output_dims,)``, both drawn
    from :math:`\mathcal{U}(-k, k)` with :math:`k = 1/\sqrt{\text{input\_dims}}`.
    """

    def __init__(self, input_dims: int, output_dims: int, bias: bool = True) -> None:
        super().__init__()
        scale = math.sqrt(1.0 / input_dims)
        self.weight = mx.random.uniform(low=-scale, high=scale, shape=(output_dims, input_dims))
        if bias:
            self.bias = mx.random.uniform(low=-scale, high=scale, shape=(output_dims,))

    def _extra_repr(self) -> str:
        return (
            f"input_dims={self.weight.shape[1]}, output_dims={self.weight.shape[0]}, "
            f"bias={'bias' in self}"
        )

    def __call__(self, x):
        if "bias" in self:
            return mx.addmm(self["bias"], x, self["weight"].T)
        return x @ self["weight"].T

    def to_quantized(self, group_size: int = 64, bits: int = 4, mode: str = "affine"):
        """A :class:`QuantizedLinear` with this layer's weights quantized."""
        from lazuli.nn.layers.quantized import QuantizedLinear

        return QuantizedLinear.from_linear(self, group_size, bits, mode=mode)


class Bilinear(Module):
    r"""A bilinear transformation :math:`y_i = x_1^\top W_i x_2 + b_i`.

    ``weight`` is ``(output_dims, input2_dims, input1_dims)``, drawn from
    :math:`\mathcal{U}(-k, k)` with :math:`k = 1/\sqrt{\text{input1\_dims}}`.
    """

    def __init__(self, input1_dims: int, input2_dims: int, output_dims: int, bias: bool = True):
        super().__init__()
        scale = math.sqrt(1.0 / input1_dims)
        self.weight = mx.random.uniform(
            low=-scale, high=scale, shape=(output_dims, input2_dims, input1_dims)
        )
        if bias:
            self.bias = mx.random.uniform(low=-scale, high=scale, shape=(output_dims,))

    def _extra_repr(self) -> str:
        out, in2, in1 = self.weight.shape
        return f"input1_dims={in1}, input2_dims={in2}, output_dims={out}, bias={'bias' in self}"

    def __call__(self, x1, x2):
        out, in2, in1 = self.weight.shape
        lead = tuple(x1.shape[:-1])
        x1 = x1.reshape(-1, in1)
        x2 = x2.reshape(-1, 1, in2)
        # (N, in1) @ (in1, out*in2) -> (N, out, in2) -> (N, in2, out); then x2 @ it.
        w = self.weight.reshape(out * in2, in1)
        y = (x1 @ w.T).reshape(-1, out, in2).swapaxes(-2, -1)
        y = (x2 @ y).squeeze(1)
        if "bias" in self:
            y = y + self.bias
        return y.reshape(*lead, out)
