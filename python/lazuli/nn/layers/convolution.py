"""Convolutions over channels-last inputs: Conv1d/2d/3d."""

import math
from typing import Union

import lazuli.core as mx
from lazuli.nn.layers.base import Module


def _tuple(x, n):
    return (x,) * n if isinstance(x, int) else tuple(x)


def _check_groups(in_channels, groups):
    if in_channels % groups != 0:
        raise ValueError(
            f"The number of input channels ({in_channels}) must be divisible by "
            f"the number of groups ({groups})"
        )


def _init_conv(self, in_channels, out_channels, kernel, groups, bias):
    _check_groups(in_channels, groups)
    fan = in_channels
    for k in kernel:
        fan *= k
    scale = math.sqrt(1 / fan)
    self.weight = mx.random.uniform(
        low=-scale, high=scale, shape=(out_channels, *kernel, in_channels // groups)
    )
    if bias:
        self.bias = mx.zeros((out_channels,))


def _repr(self, stride, padding, dilation, groups):
    out = self.weight.shape[0]
    kernel = tuple(self.weight.shape[1:-1])
    in_ch = self.weight.shape[-1] * groups
    ks = kernel[0] if len(kernel) == 1 else kernel
    return (
        f"{in_ch}, {out}, kernel_size={ks}, stride={stride}, padding={padding}, "
        f"dilation={dilation}, groups={groups}, bias={'bias' in self}"
    )


class Conv1d(Module):
    """1-D convolution over ``(N, L, C_in)`` inputs; ``weight`` is ``(C_out, K, C_in/groups)``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = True,
    ):
        super().__init__()
        _init_conv(self, in_channels, out_channels, (kernel_size,), groups, bias)
        self.padding = padding
        self.dilation = dilation
        self.stride = stride
        self.groups = groups

    def _extra_repr(self):
        return _repr(self, self.stride, self.padding, self.dilation, self.groups)

    def __call__(self, x):
        y = mx.conv1d(x, self.weight, self.stride, self.padding, self.dilation, self.groups)
        if "bias" in self:
            y = y + self.bias
        return y


class Conv2d(Module):
    """2-D convolution over ``(N, H, W, C_in)`` inputs; ``weight`` is
    ``(C_out, KH, KW, C_in/groups)``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Union[int, tuple],
        stride: Union[int, tuple] = 1,
        padding: Union[int, tuple] = 0,
        dilation: Union[int, tuple] = 1,
        groups: int = 1,
        bias: bool = True,
    ):
        super().__init__()
        _init_conv(self, in_channels, out_channels, _tuple(kernel_size, 2), groups, bias)
        self.padding = _tuple(padding, 2)
        self.stride = _tuple(stride, 2)
        self.dilation = _tuple(dilation, 2)
        self.groups = groups

    def _extra_repr(self):
        return _repr(self, self.stride, self.padding, self.dilation, self.groups)

    def __call__(self, x):
        y = mx.conv2d(x, self.weight, self.stride, self.padding, self.dilation, self.groups)
        if "bias" in self:
            y = y + self.bias
        return y


class Conv3d(Module):
    """3-D convolution over ``(N, D, H, W, C_in)`` inputs; ``weight`` is
    ``(C_out, KD, KH, KW, C_in/groups)``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Union[int, tuple],
        stride: Union[int, tuple] = 1,
        padding: Union[int, tuple] = 0,
        dilation: Union[int, tuple] = 1,
        groups: int = 1,
        bias: bool = True,
    ):
        super().__init__()
        _init_conv(self, in_channels, out_channels, _tuple(kernel_size, 3), groups, bias)
        self.padding = _tuple(padding, 3)
        self.stride = _tuple(stride, 3)
        self.dilation = _tuple(dilation, 3)
        self.groups = groups

    def _extra_repr(self):
        return _repr(self, self.stride, self.padding, self.dilation, self.groups)

    def __call__(self, x):
        if self.groups == 1:
            y = mx.conv3d(x, self.weight, self.stride, self.padding, self.dilation)
        else:
            y = mx.conv3d(x, self.weight, self.stride, self.padding, self.dilation, self.groups)
        if "bias" in self:
            y = y + self.bias
        return y
