"""``lazuli.nn``: MLX's ``mlx.nn`` over ``lazuli.core``.

Models subclass :class:`Module`, a dict of parameters (arrays) and sub-modules; layers,
activations, losses (``nn.losses``) and initialisers (``nn.init``) are as in MLX, and
:func:`value_and_grad` differentiates a loss with respect to a model's trainable parameters.
"""

from lazuli.nn import init, losses  # noqa: F401
from lazuli.nn.layers import *  # noqa: F401,F403
from lazuli.nn.layers import Module  # noqa: F401
from lazuli.nn.layers.quantized import quantize  # noqa: F401
from lazuli.nn.utils import average_gradients, checkpoint, value_and_grad  # noqa: F401
