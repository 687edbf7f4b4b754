"""Max and average pooling over channels-last inputs ``(N, *spatial, C)``."""

import operator
from functools import reduce

import lazuli.core as mx
from lazuli.nn.layers.base import Module


def _value_or_list(x, n, msg):
    if isinstance(x, (list, tuple)):
        if len(x) != n:
            raise ValueError(msg)
        return tuple(x)
    if not isinstance(x, int):
        raise ValueError(msg)
    return (x,) * n


def _windows(x, kernel, stride):
    """Every window offset's strided slice of ``x`` (spatial axes 1..n): a list of arrays of
    the output's shape, one per position in the window."""
    n = len(kernel)
    spatial = x.shape[1 : 1 + n]
    out = []
    for size, k, s in zip(spatial, kernel, stride):
        if size < k:
            raise ValueError(
                f"[Pooling] The window size ({k}) is larger than the input size ({size})."
            )
        out.append((size - k) // s + 1)
    slices = [[]]
    for d in range(n):
        slices = [
            prev + [slice(o, o + stride[d] * (out[d] - 1) + 1, stride[d])]
            for prev in slices
            for o in range(kernel[d])
        ]
    return [x[(slice(None), *sl, Ellipsis)] for sl in slices]


class _Pool(Module):
    def __init__(self, kernel_size, stride, padding, padding_value):
        super().__init__()
        self._kernel_size = kernel_size
        self._stride = stride
        self._padding = padding
        self._padding_value = padding_value

    def _extra_repr(self):
        ks = tuple(self._kernel_size)
        st = tuple(self._stride)
        pd = tuple(p[0] for p in self._padding)
        return f"kernel_size={ks}, stride={st}, padding={pd}"

    def _reduce(self, parts):
        raise NotImplementedError

    def __call__(self, x):
        n = len(self._kernel_size)
        if x.ndim != n + 2:
            raise ValueError(
                f"[{type(self).__name__}] expects an input of {n + 2} dimensions "
                f"(N, *spatial, C), got shape {tuple(x.shape)}"
            )
        if any(p[0] > 0 for p in self._padding):
            x = mx.pad(
                x,
                [(0, 0)] + list(self._padding) + [(0, 0)],
                constant_values=self._padding_value,
            )
        return self._reduce(_windows(x, self._kernel_size, self._stride))


class _MaxPool(_Pool):
    def __init__(self, kernel_size, stride, padding):
        super().__init__(kernel_size, stride, padding, float("-inf"))

    def _reduce(self, parts):
        return reduce(mx.maximum, parts)


class _AvgPool(_Pool):
    def __init__(self, kernel_size, stride, padding):
        super().__init__(kernel_size, stride, padding, 0)

    def _reduce(self, parts):
        return reduce(operator.add, parts) / len(parts)


def _pool_args(name, n, kernel_size, stride, padding):
    kernel_size = _value_or_list(
        kernel_size, n, f"[{name}] kernel_size must be an int or a tuple of {n} ints"
    )
    stride = (
        _value_or_list(stride, n, f"[{name}] stride must be an int or a tuple of {n} ints")
        if stride is not None
        else kernel_size
    )
    padding = _value_or_list(padding, n, f"[{name}] padding must be an int or a tuple of {n} ints")
    for p, k in zip(padding, kernel_size):
        if p > k // 2:
            raise ValueError(
                f"[{name}] padding ({p}) should be at most half the kernel size ({k})"
            )
    return kernel_size, stride, [(p, p) for p in padding]


def _make(name, base, n, doc):
    def __init__(self, kernel_size, stride=None, padding=0):
        base.__init__(self, *_pool_args(name, n, kernel_size, stride, padding))

    return type(name, (base,), {"__init__": __init__, "__doc__": doc})


MaxPool1d = _make("MaxPool1d", _MaxPool, 1, "Applies 1-dimensional max pooling to ``(N, L, C)`` inputs; ``stride`` defaults to ``kernel_size``; padding uses ``-inf``.")
MaxPool2d = _make("MaxPool2d", _MaxPool, 2, "Applies 2-dimensional max pooling to ``(N, H, W, C)`` inputs; ``stride`` defaults to ``kernel_size``; padding uses ``-inf``.")
MaxPool3d = _make("MaxPool3d", _MaxPool, 3, "Applies 3-dimensional max pooling to ``(N, D, H, W, C)`` inputs; ``stride`` defaults to ``kernel_size``; padding uses ``-inf``.")
AvgPool1d = _make("AvgPool1d", _AvgPool, 1, "Applies 1-dimensional average pooling to ``(N, L, C)`` inputs; ``stride`` defaults to ``kernel_size``; padding counts as zeros.")
AvgPool2d = _make("AvgPool2d", _AvgPool, 2, "Applies 2-dimensional average pooling to ``(N, H, W, C)`` inputs; ``stride`` defaults to ``kernel_size``; padding counts as zeros.")
AvgPool3d = _make("AvgPool3d", _AvgPool, 3, "Applies 3-dimensional average pooling to ``(N, D, H, W, C)`` inputs; ``stride`` defaults to ``kernel_size``; padding counts as zeros.")
