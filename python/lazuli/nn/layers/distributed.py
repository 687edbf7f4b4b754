"""Tensor-parallel linear layers over ``lazuli.core.distributed``.

``AllToShardedLinear`` takes a replicated input and produces this process's slice of the
output features; ``ShardedToAllLinear`` takes a slice of the input features and sums the
partial products over the group. In a group of one process (or without
``lazuli.core.distributed``) both are plain linear layers.
"""

import math
from typing import Optional

import lazuli.core as mx
from lazuli.nn.layers.base import Module
from lazuli.nn.layers.linear import Linear
from lazuli.nn.layers.quantized import QuantizedLinear, _mode_kw


def _group_of(group):
    dist = getattr(mx, "distributed", None)
    if group is None and dist is not None and hasattr(dist, "init"):
        group = dist.init()
    if group is None:
        return None, 1, 0
    return group, group.size(), group.rank()


def _all_sum(x, group, size):
    return x if size == 1 else mx.distributed.all_sum(x, group=group)


def _sum_gradients(x, group, size):
    """Identity forward; the cotangent is summed over the group backward (the input is
    replicated, so each process holds only its share of its gradient)."""
    if size == 1:
        return x

    @mx.custom_function
    def identity(x):
        return x

    @identity.vjp
    def identity_vjp(primals, cotangent, output):
        return mx.distributed.all_sum(cotangent, group=group)

    return identity(x)


def _check_split(dims, size, what):
    if dims % size != 0:
        raise ValueError(
            f"The {what} dimensions ({dims}) must be divisible by the group size ({size})"
        )


class AllToShardedLinear(Module):
    """A linear layer whose output features are split over the group: each process holds
    ``output_dims / N`` rows of the weight and returns its slice of the output."""

    def __init__(self, input_dims: int, output_dims: int, bias: bool = True, group=None):
        super().__init__()
        self.group, N, _ = _group_of(group)
        _check_split(output_dims, N, "output")
        scale = math.sqrt(1.0 / input_dims)
        self.weight = mx.random.uniform(-scale, scale, (output_dims // N, input_dims))
        if bias:
            self.bias = mx.random.uniform(-scale, scale, (output_dims // N,))

    def _extra_repr(self):
        N = 1 if self.group is None else self.group.size()
        out, inp = self.weight.shape
        return f"input_dims={inp}, output_dims={out * N}, bias={'bias' in self}"

    def __call__(self, x):
        N = 1 if self.group is None else self.group.size()
        x = _sum_gradients(x, self.group, N)
        if "bias" in self:
            return mx.addmm(self["bias"], x, self["weight"].T)
        return x @ self["weight"].T

    @classmethod
    def from_linear(cls, linear_layer: Module, *, segments: int = 1, group=None):
        out, inp = linear_layer.weight.shape
        layer = cls(inp, out, "bias" in linear_layer, group)
        layer.update(_shard(linear_layer.parameters(), 0, segments, layer.group))
        return layer


class ShardedToAllLinear(Module):
    """A linear layer whose input features are split over the group: each process holds
    ``input_dims / N`` columns of the weight; the partial products are summed over the
    group and every process gets the whole output."""

    def __init__(self, input_dims: int, output_dims: int, bias: bool = True, group=None):
        super().__init__()
        self.group, N, _ = _group_of(group)
        _check_split(input_dims, N, "input")
        scale = math.sqrt(1.0 / input_dims)
        self.weight = mx.random.uniform(-scale, scale, (output_dims, input_dims // N))
        if bias:
            self.bias = mx.random.uniform(-scale, scale, (output_dims,))

    def _extra_repr(self):
        N = 1 if self.group is None else self.group.size()
        out, inp = self.weight.shape
        return f"input_dims={inp * N}, output_dims={out}, bias={'bias' in self}"

    def __call__(self, x):
        N = 1 if self.group is None else self.group.size()
        x = _all_sum(x @ self["weight"].T, self.group, N)
        if "bias" in self:
            x = x + self["bias"]
        return x

    @classmethod
    def from_linear(cls, linear_layer: Module, *, segments: int = 1, group=None):
        out, inp = linear_layer.weight.shape
        layer = cls(inp, out, "bias" in linear_layer, group)
        params = linear_layer.parameters()
        bias = params.pop("bias", None)
        sharded = _shard(params, -1, segments, layer.group)
        if bias is not None:
            sharded["bias"] = bias
        layer.update(sharded)
        return layer


class QuantizedAllToShardedLinear(QuantizedLinear):
    """:class:`AllToShardedLinear` with a quantized weight."""

    def __init__(self, input_dims, output_dims, bias=True, group_size=64, bits=4, group=None, *, mode="affine"):
        self_group, N, _ = _group_of(group)
        _check_split(output_dims, N, "output")
        super().__init__(input_dims, output_dims // N, bias, group_size, bits, mode)
        self.group = self_group

    def __call__(self, x):
        N = 1 if self.group is None else self.group.size()
        return super().__call__(_sum_gradients(x, self.group, N))

    @classmethod
    def from_quantized_linear(cls, layer: Module, *, segments: int = 1, group=None):
        out, packed = layer.weight.shape
        inp = packed * 32 // layer.bits
        new = cls(inp, out, "bias" in layer, layer.group_size, layer.bits, group, mode=layer.mode)
        new.update(_shard(layer.parameters(), 0, segments, new.group))
        return new


class QuantizedShardedToAllLinear(QuantizedLinear):
    """:class:`ShardedToAllLinear` with a quantized weight."""

    def __init__(self, input_dims, output_dims, bias=True, group_size=64, bits=4, group=None, *, mode="affine"):
        self_group, N, _ = _group_of(group)
        _check_split(input_dims, N, "input")
        super().__init__(input_dims // N, output_dims, bias, group_size, bits, mode)
        self.group = self_group

    def __call__(self, x):
        N = 1 if self.group is None else self.group.size()
        x = mx.quantized_matmul(
            x, self["weight"], scales=self["scales"], biases=self.get("biases"),
            transpose=True, group_size=self.group_size, bits=self.bits, **_mode_kw(self.mode),
        )
        x = _all_sum(x, self.group, N)
        if "bias" in self:
            x = x + self["bias"]
        return x

    @classmethod
    def from_quantized_linear(cls, layer: Module, *, segments: int = 1, group=None):
        out, packed = layer.weight.shape
        inp = packed * 32 // layer.bits
        new = cls(inp, out, "bias" in layer, layer.group_size, layer.bits, group, mode=layer.mode)
        params = layer.parameters()
        bias = params.pop("bias", None)
        sharded = _shard(params, -1, segments, new.group)
        if bias is not None:
            sharded["bias"] = bias
        new.update(sharded)
        return new


def _shard(params, axis, segments, group):
    """This process's slice of every array in ``params`` along ``axis``, taken from each
    of ``segments`` equal segments (fused projections keep their parts aligned)."""
    _, N, r = _group_of(group)

    def one(w):
        if N == 1:
            return w
        parts = mx.split(w, segments, axis=axis) if segments > 1 else [w]
        mine = [mx.split(p, N, axis=axis)[r] for p in parts]
        return mx.concatenate(mine, axis=axis) if len(mine) > 1 else mine[0]

    return {k: one(v) for k, v in params.items()}


def shard_linear(module: Module, sharding: str, *, segments: int = 1, group: Optional[object] = None):
    """A sharded copy of a (quantized) linear layer: ``sharding`` is ``"all-to-sharded"`` or
    ``"sharded-to-all"``."""
    table = {
        ("all-to-sharded", False): AllToShardedLinear.from_linear,
        ("sharded-to-all", False): ShardedToAllLinear.from_linear,
        ("all-to-sharded", True): QuantizedAllToShardedLinear.from_quantized_linear,
        ("sharded-to-all", True): QuantizedShardedToAllLinear.from_quantized_linear,
    }
    key = (sharding, isinstance(module, QuantizedLinear))
    if key not in table or not isinstance(module, (Linear, QuantizedLinear)):
        raise ValueError(f"Sharding {sharding!r} is not supported for {type(module).__name__}")
    return table[key](module, segments=segments, group=group)


def shard_inplace(module: Module, sharding: str, *, segments: int = 1, group: Optional[object] = None):
    """Shards the parameters of ``module`` in place along the output (``"all-to-sharded"``)
    or input (``"sharded-to-all"``) axis."""
    if sharding not in ("all-to-sharded", "sharded-to-all"):
        raise ValueError(f"Unknown sharding {sharding!r}")
    axis = 0 if sharding == "all-to-sharded" else -1
    params = module.parameters()
    keep = {}
    if sharding == "sharded-to-all" and "bias" in params:
        keep["bias"] = params.pop("bias")
    new = _shard(params, axis, segments, group)
    new.update(keep)
    module.update(new)
