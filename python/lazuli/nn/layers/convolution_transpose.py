"""Transposed convolutions over channels-last inputs: ConvTranspose1d/2d/3d."""

import math
from typing import Union

import lazuli.core as mx
from lazuli.nn.layers.base import Module
from lazuli.nn.layers.convolution import _check_groups, _tuple


class _ConvTranspose(Module):
    _n = 0
    _op = None

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        output_padding=0,
        groups=1,
        bias=True,
    ):
        super().__init__()
        n = self._n
        _check_groups(in_channels, groups)
        kernel = _tuple(kernel_size, n)
        fan = in_channels
        for k in kernel:
            fan *= k
        scale = math.sqrt(1 / fan)
        self.weight = mx.random.uniform(
            low=-scale, high=scale, shape=(out_channels, *kernel, in_channels // groups)
        )
        if bias:
            self.bias = mx.zeros((out_channels,))
        single = (lambda v: v) if n == 1 else (lambda v: _tuple(v, n))
        self.padding = single(padding)
        self.dilation = single(dilation)
        self.stride = single(stride)
        self.output_padding = single(output_padding)
        self.groups = groups

    def _extra_repr(self):
        out = self.weight.shape[0]
        kernel = tuple(self.weight.shape[1:-1])
        ks = kernel[0] if len(kernel) == 1 else kernel
        return (
            f"{self.weight.shape[-1] * self.groups}, {out}, kernel_size={ks}, "
            f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
            f"output_padding={self.output_padding}, groups={self.groups}, bias={'bias' in self}"
        )

    def __call__(self, x):
        op = getattr(mx, type(self)._op)
        kwargs = {}
        if self.groups != 1:
            kwargs["groups"] = self.groups
        y = op(
            x,
            self.weight,
            self.stride,
            self.padding,
            self.dilation,
            self.output_padding,
            **kwargs,
        )
        if "bias" in self:
            y = y + self.bias
        return y


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution over ``(N, L, C_in)`` inputs; ``weight`` is
    ``(C_out, K, C_in/groups)``."""

    _n = 1
    _op = "conv_transpose1d"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        output_padding: int = 0,
        groups: int = 1,
        bias: bool = True,
    ):
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation,
            output_padding, groups, bias,
        )


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution over ``(N, H, W, C_in)`` inputs."""

    _n = 2
    _op = "conv_transpose2d"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Union[int, tuple],
        stride: Union[int, tuple] = 1,
        padding: Union[int, tuple] = 0,
        dilation: Union[int, tuple] = 1,
        output_padding: Union[int, tuple] = 0,
        groups: int = 1,
        bias: bool = True,
    ):
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation,
            output_padding, groups, bias,
        )


class ConvTranspose3d(_ConvTranspose):
    """3-D transposed convolution over ``(N, D, H, W, C_in)`` inputs."""

    _n = 3
    _op = "conv_transpose3d"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Union[int, tuple],
        stride: Union[int, tuple] = 1,
        padding: Union[int, tuple] = 0,
        dilation: Union[int, tuple] = 1,
        output_padding: Union[int, tuple] = 0,
        groups: int = 1,
        bias: bool = True,
    ):
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation,
            output_padding, groups, bias,
        )
