"""Activation functions, as functions and as parameter-free modules (PReLU has a weight)."""

import math

import lazuli.core as mx
from lazuli.nn.layers.base import Module


def sigmoid(x):
    r"""The logistic sigmoid :math:`\sigma(x) = 1 / (1 + e^{-x})`."""
    return mx.sigmoid(x)


def relu(x):
    r"""The rectified linear unit :math:`\max(x, 0)`."""
    return mx.maximum(x, 0)


def relu2(x):
    r"""The squared rectified linear unit :math:`\max(x, 0)^2`."""
    return mx.square(mx.maximum(x, 0))


def relu6(x):
    r"""The rectified linear unit clipped at 6: :math:`\min(\max(x, 0), 6)`."""
    return mx.minimum(mx.maximum(x, 0), 6.0)


def leaky_relu(x, negative_slope=0.01):
    r""":math:`\max(\text{negative\_slope} \cdot x, x)`."""
    return mx.maximum(negative_slope * x, x)


def log_softmax(x, axis=-1):
    r""":math:`x - \log \sum_i e^{x_i}` along ``axis``."""
    return x - mx.logsumexp(x, axis=axis, keepdims=True)


def elu(x, alpha=1.0):
    r""":math:`x` for positive inputs, :math:`\alpha (e^x - 1)` otherwise."""
    return mx.where(x > 0, x, alpha * (mx.exp(x) - 1))


def softmax(x, axis=-1):
    r""":math:`e^{x_i} / \sum_j e^{x_j}` along ``axis``."""
    return mx.softmax(x, axis=axis)


def softplus(x):
    r""":math:`\log(1 + e^x)`."""
    return mx.logaddexp(x, 0)


def softsign(x):
    r""":math:`x / (1 + |x|)`."""
    return mx.divide(x, 1 + mx.abs(x))


def softshrink(x, lambd: float = 0.5):
    r""":math:`x - \lambda \operatorname{sign}(x)` where :math:`|x| > \lambda`, 0 elsewhere."""
    return mx.where(mx.abs(x) > lambd, x - mx.sign(x) * lambd, 0)


def celu(x, alpha=1.0):
    r""":math:`\max(0, x) + \min(0, \alpha (e^{x / \alpha} - 1))`."""
    return mx.maximum(x, 0.0) + alpha * (mx.exp(mx.minimum(x, 0.0) / alpha) - 1)


def silu(x):
    r"""The sigmoid linear unit (swish) :math:`x \sigma(x)`."""
    return x * mx.sigmoid(x)


def log_sigmoid(x):
    r""":math:`\log \sigma(x) = -\log(1 + e^{-x})`."""
    return -softplus(-x)


def gelu(x):
    r"""The Gaussian error linear unit :math:`x \Phi(x)`, with :math:`\Phi` the standard
    normal CDF."""
    return x * (1 + mx.erf(x / math.sqrt(2))) / 2


def gelu_approx(x):
    r"""The tanh approximation of :func:`gelu`:
    :math:`0.5 x (1 + \tanh(\sqrt{2/\pi} (x + 0.044715 x^3)))`."""
    return 0.5 * x * (1 + mx.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def gelu_fast_approx(x):
    r"""The sigmoid approximation of :func:`gelu`: :math:`x \sigma(1.702 x)`."""
    return x * mx.sigmoid(1.702 * x)


def glu(x, axis: int = -1):
    r"""The gated linear unit: splits ``x`` in two halves :math:`a, b` along ``axis`` and
    returns :math:`a \sigma(b)`."""
    a, b = mx.split(x, indices_or_sections=2, axis=axis)
    return a * mx.sigmoid(b)


def step(x, threshold: float = 0.0):
    r"""The binary step: 1 where :math:`x > \text{threshold}`, 0 elsewhere."""
    return mx.where(x > threshold, 1, 0)


def selu(x):
    r"""The scaled exponential linear unit :math:`\lambda \operatorname{elu}(x, \alpha)` with
    :math:`\lambda = 1.0507, \alpha = 1.67326`."""
    return elu(x, 1.67326) * 1.0507


def prelu(x, alpha):
    r"""The parametric ReLU :math:`\max(0, x) + \alpha \min(0, x)`."""
    return mx.maximum(0, x) + alpha * mx.minimum(0, x)


def mish(x):
    r""":math:`x \tanh(\operatorname{softplus}(x))`."""
    return x * mx.tanh(softplus(x))


def hardswish(x):
    r""":math:`x \min(\max(x + 3, 0), 6) / 6`."""
    return x * mx.minimum(mx.maximum(x + 3, 0), 6) / 6


def hard_tanh(x, min_val=-1.0, max_val=1.0):
    r""":math:`\min(\max(x, \text{min\_val}), \text{max\_val})`."""
    return mx.minimum(mx.maximum(x, min_val), max_val)


def hard_shrink(x, lambd=0.5):
    r""":math:`x` where :math:`|x| > \lambda`, 0 elsewhere."""
    return mx.where(mx.abs(x) > lambd, x, 0)


def softmin(x, axis=-1):
    r""":math:`e^{-x_i} / \sum_j e^{-x_j}` along ``axis``."""
    return mx.softmax(-x, axis=axis)


def tanh(x):
    """The hyperbolic tangent."""
    return mx.tanh(x)


def _module_of(fn, name, doc=None):
    """A parameter-free module whose call is ``fn``."""

    def __call__(self, x):
        return fn(x)

    return type(name, (Module,), {"__call__": __call__, "__doc__": doc or f"Applies :func:`{fn.__name__}`."})


Sigmoid = _module_of(sigmoid, "Sigmoid")
Mish = _module_of(mish, "Mish")
ReLU = _module_of(relu, "ReLU")
ReLU2 = _module_of(relu2, "ReLU2")
ReLU6 = _module_of(relu6, "ReLU6")
Softplus = _module_of(softplus, "Softplus")
Softsign = _module_of(softsign, "Softsign")
SiLU = _module_of(silu, "SiLU")
LogSigmoid = _module_of(log_sigmoid, "LogSigmoid")
Tanh = _module_of(tanh, "Tanh")
Hardswish = _module_of(hardswish, "Hardswish")
SELU = _module_of(selu, "SELU")
HardTanh = _module_of(hard_tanh, "HardTanh")
HardShrink = _module_of(hard_shrink, "HardShrink")
Softmax = _module_of(softmax, "Softmax")
Softmin = _module_of(softmin, "Softmin")
LogSoftmax = _module_of(log_softmax, "LogSoftmax")


class GLU(Module):
    """Applies :func:`glu` along ``axis``."""

    def __init__(self, axis: int = -1):
        super().__init__()
        self.axis = axis

    def __call__(self, x):
        return glu(x=x, axis=self.axis)


class LeakyReLU(Module):
    """Applies :func:`leaky_relu` with ``negative_slope``."""

    def __init__(self, negative_slope=1e-2):
        super().__init__()
        self._negative_slope = negative_slope

    def __call__(self, x):
        return leaky_relu(x, self._negative_slope)


class ELU(Module):
    """Applies :func:`elu` with ``alpha``."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self._alpha = alpha

    def __call__(self, x):
        return elu(x, self._alpha)


class Softshrink(Module):
    """Applies :func:`softshrink` with ``lambd``."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def __call__(self, x):
        return softshrink(x, self.lambd)


class CELU(Module):
    """Applies :func:`celu` with ``alpha``."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self._alpha = alpha

    def __call__(self, x):
        return celu(x, self._alpha)


class PReLU(Module):
    """The parametric ReLU with a learnt slope per channel (``num_parameters``), initialised
    to ``init``."""

    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        self.weight = mx.full([num_parameters], init)

    def __call__(self, x):
        return prelu(x, self.weight)


class GELU(Module):
    """Applies :func:`gelu`; ``approx`` is ``'none'``, ``'precise'``/``'tanh'``
    (:func:`gelu_approx`) or ``'fast'`` (:func:`gelu_fast_approx`)."""

    def __init__(self, approx="none"):
        super().__init__()
        if approx == "none":
            self._act = gelu
        elif approx in ("precise", "tanh"):
            self._act = gelu_approx
        elif approx == "fast":
            self._act = gelu_fast_approx
        else:
            raise ValueError(
                f"The approximation should be in ['none', 'precise', 'tanh', 'fast'] but '{approx}' was given"
            )

    def __call__(self, x):
        return self._act(x)


class Step(Module):
    """Applies :func:`step` with ``threshold``."""

    def __init__(self, threshold: float = 0.0):
        super().__init__()
        self.threshold = threshold

    def __call__(self, x):
        return step(x, self.threshold)
