"""Embedding: a lookup table of vectors."""

import math

import lazuli.core as mx
from lazuli.nn.layers.base import Module


class Embedding(Module):
    r"""Maps integer indices to ``dims``-dimensional vectors; ``weight`` is
    ``(num_embeddings, dims)`` drawn from :math:`\mathcal{N}(0, 1/\text{dims})`."""

    def __init__(self, num_embeddings: int, dims: int):
        super().__init__()
        scale = math.sqrt(1 / dims)
        self.weight = mx.random.normal(shape=(num_embeddings, dims), scale=scale)

    def _extra_repr(self):
        return f"{self.weight.shape[0]}, {self.weight.shape[1]}"

    def __call__(self, x):
        return self.weight[x]

    def as_linear(self, x):
        """Uses the table as a linear layer: ``x @ weight.T`` (tied output projections)."""
        return x @ self.weight.T

    def to_quantized(self, group_size: int = 64, bits: int = 4, mode: str = "affine"):
        """A :class:`QuantizedEmbedding` with this table quantized."""
        from lazuli.nn.layers.quantized import QuantizedEmbedding

        return QuantizedEmbedding.from_embedding(self, group_size, bits, mode=mode)
