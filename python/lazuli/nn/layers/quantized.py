"""Quantized layers (weights packed by ``quantize``, products by ``quantized_matmul``) and
``quantize(model)``, which swaps a model's quantizable layers in place."""

import math
from typing import Callable, Optional, Union

import lazuli.core as mx
from lazuli.nn.layers.base import Module
from lazuli.utils import tree_map_with_path


def _mode_kw(mode):
    # Affine is the default everywhere; only other modes are spelled out.
    return {} if mode == "affine" else {"mode": mode}


def _quantize(w, group_size, bits, mode):
    q = mx.quantize(w, group_size, bits, **_mode_kw(mode))
    weight, scales, *rest = q
    biases = rest[0] if rest and rest[0] is not None else None
    return weight, scales, biases


def quantize(
    model: Module,
    group_size: int = 64,
    bits: int = 4,
    class_predicate: Optional[Callable[[str, Module], Union[bool, dict]]] = None,
    *,
    mode: str = "affine",
):
    """Replaces, in place, every leaf module of ``model`` that ``class_predicate(path,
    module)`` accepts (by default: every module with ``to_quantized``) with its quantized
    version. The predicate may return a dict of quantization arguments for that layer."""
    class_predicate = class_predicate or (lambda _, m: hasattr(m, "to_quantized"))

    def maybe_quantize(path, m):
        chosen = class_predicate(path, m)
        if not chosen:
            return m
        if not hasattr(m, "to_quantized"):
            raise ValueError(f"Unable to quantize model of type {type(m)}")
        if isinstance(chosen, bool):
            kwargs = {"group_size": group_size, "bits": bits, "mode": mode}
        elif isinstance(chosen, dict):
            kwargs = chosen
        else:
            raise ValueError("Quantization parameters must be a boolean or a dict")
        return m.to_quantized(**kwargs)

    leaves = model.leaf_modules()
    leaves = tree_map_with_path(maybe_quantize, leaves, is_leaf=Module.is_module)
    model.update_modules(leaves)


class QuantizedEmbedding(Module):
    """An :class:`Embedding` whose table is quantized with ``group_size`` and ``bits``.
    Parameters are frozen."""

    def __init__(
        self,
        num_embeddings: int,
        dims: int,
        group_size: int = 64,
        bits: int = 4,
        mode: str = "affine",
    ):
        super().__init__()
        self.group_size = group_size
        self.bits = bits
        self.mode = mode
        scale = math.sqrt(1 / dims)
        weight = mx.random.normal(shape=(num_embeddings, dims), scale=scale)
        self.weight, self.scales, self.biases = _quantize(weight, group_size, bits, mode)
        self.num_embeddings = num_embeddings
        self.dims = dims
        self.freeze()

    def _biases(self, rows=None):
        b = self.get("biases")
        if b is None:
            return None
        return b if rows is None else b[rows]

    def __call__(self, x):
        s = tuple(x.shape)
        x = x.flatten()
        out = mx.dequantize(
            self["weight"][x],
            scales=self["scales"][x],
            biases=self._biases(x),
            group_size=self.group_size,
            bits=self.bits,
            **_mode_kw(self.mode),
        )
        return out.reshape(*s, -1)

    def as_linear(self, x):
        """``x @ weight.T`` with the quantized table (tied output projections)."""
        return mx.quantized_matmul(
            x,
            self["weight"],
            scales=self["scales"],
            biases=self._biases(),
            transpose=True,
            group_size=self.group_size,
            bits=self.bits,
            **_mode_kw(self.mode),
        )

    def _extra_repr(self):
        return (
            f"{self.num_embeddings}, {self.dims}, group_size={self.group_size}, "
            f"bits={self.bits}, mode={self.mode}"
        )

    @classmethod
    def from_embedding(cls, embedding_layer: Module, group_size: int = 64, bits: int = 4, mode: str = "affine"):
        """Quantizes an :class:`Embedding`."""
        n, d = embedding_layer.weight.shape
        ql = cls(n, d, group_size, bits, mode=mode)
        ql.weight, ql.scales, ql.biases = _quantize(embedding_layer.weight, group_size, bits, mode)
        return ql


class QuantizedLinear(Module):
    """A :class:`Linear` whose weight is quantized with ``group_size`` and ``bits``; the
    product uses ``quantized_matmul``. Parameters are frozen (unfreezing keeps the quantized
    weight frozen)."""

    def __init__(
        self,
        input_dims: int,
        output_dims: int,
        bias: bool = True,
        group_size: int = 64,
        bits: int = 4,
        mode: str = "affine",
    ):
        super().__init__()
        self.group_size = group_size
        self.bits = bits
        self.mode = mode
        scale = math.sqrt(1 / input_dims)
        weight = mx.random.uniform(low=-scale, high=scale, shape=(output_dims, input_dims))
        self.weight, self.scales, self.biases = _quantize(weight, group_size, bits, mode)
        if bias:
            self.bias = mx.zeros((output_dims,))
        self.freeze()

    def unfreeze(self, *args, **kwargs):
        """Unfreezes as :meth:`Module.unfreeze`; the quantized weights stay frozen."""
        super().unfreeze(*args, **kwargs)
        self.freeze(recurse=False)
        return self

    def _extra_repr(self):
        out_dims, in_dims = self.weight.shape
        in_dims = in_dims * 32 // self.bits
        return (
            f"input_dims={in_dims}, output_dims={out_dims}, bias={'bias' in self}, "
            f"group_size={self.group_size}, bits={self.bits}, mode={self.mode}"
        )

    def __call__(self, x):
        x = mx.quantized_matmul(
            x,
            self["weight"],
            scales=self["scales"],
            biases=self.get("biases"),
            transpose=True,
            group_size=self.group_size,
            bits=self.bits,
            **_mode_kw(self.mode),
        )
        if "bias" in self:
            x = x + self["bias"]
        return x

    @classmethod
    def from_linear(cls, linear_layer: Module, group_size: int = 64, bits: int = 4, mode: str = "affine"):
        """Quantizes a :class:`Linear`."""
        output_dims, input_dims = linear_layer.weight.shape
        ql = cls(input_dims, output_dims, False, group_size, bits, mode=mode)
        ql.weight, ql.scales, ql.biases = _quantize(linear_layer.weight, group_size, bits, mode)
        if "bias" in linear_layer:
            ql.bias = linear_layer.bias
        return ql
