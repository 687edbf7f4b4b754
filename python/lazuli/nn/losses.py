"""Loss functions. ``reduction`` is ``'none'``, ``'mean'`` or ``'sum'``."""

import math
from typing import Literal

import lazuli.core as mx

Reduction = Literal["none", "mean", "sum"]

__all__ = [
    "binary_cross_entropy",
    "cosine_similarity_loss",
    "cross_entropy",
    "gaussian_nll_loss",
    "hinge_loss",
    "huber_loss",
    "kl_div_loss",
    "l1_loss",
    "log_cosh_loss",
    "margin_ranking_loss",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
    "triplet_loss",
]


def _reduce(loss, reduction: Reduction = "none"):
    if reduction == "mean":
        return mx.mean(loss)
    if reduction == "sum":
        return mx.sum(loss)
    if reduction == "none":
        return loss
    raise ValueError("Invalid reduction. Must be 'none', 'mean', or 'sum'.")


def _shape(x):
    return tuple(x.shape)


def cross_entropy(
    logits,
    targets,
    weights=None,
    axis: int = -1,
    label_smoothing: float = 0.0,
    reduction: Reduction = "none",
):
    """Cross entropy between ``logits`` and ``targets``: class indices (one dimension fewer
    than ``logits``) or probabilities (same shape). ``weights`` scale each element of the
    loss; ``label_smoothing`` in ``[0, 1)`` mixes the target with the uniform distribution.
    """
    if label_smoothing < 0 or label_smoothing >= 1:
        raise ValueError(f"Label smoothing must in [0, 1), got {label_smoothing}.")

    as_probs = targets.ndim == logits.ndim
    dropped = list(_shape(logits))
    if dropped:
        dropped.pop(axis)
    if (as_probs and _shape(targets) != _shape(logits)) or (
        not as_probs and _shape(targets) != tuple(dropped)
    ):
        raise ValueError(
            f"Targets shape {_shape(targets)} does not match logits shape {_shape(logits)}."
        )

    if as_probs:
        score = mx.sum(logits * targets, axis=axis)
    else:
        score = mx.take_along_axis(logits, mx.expand_dims(targets, axis), axis).squeeze(axis)

    lse = mx.logsumexp(logits, axis=axis)
    if label_smoothing > 0:
        adjusted = (1 - label_smoothing) * score
        smoothed = -mx.mean(logits, axis=axis) * label_smoothing
        loss = lse - adjusted + smoothed
    else:
        loss = lse - score

    if weights is not None:
        if _shape(weights) != _shape(loss):
            raise ValueError(
                f"Weights with shape {_shape(weights)} does not match computed loss of shape "
                f"{_shape(loss)}."
            )
        loss = loss * weights
    return _reduce(loss, reduction)


def binary_cross_entropy(
    inputs, targets, weights=None, with_logits: bool = True, reduction: Reduction = "mean"
):
    """Binary cross entropy; ``inputs`` are logits (``with_logits``) or probabilities
    (whose logarithms are clipped at -100)."""
    if _shape(inputs) != _shape(targets):
        raise ValueError(
            f"Inputs shape {_shape(inputs)} does not match targets shape {_shape(targets)}."
        )
    if with_logits:
        loss = mx.logaddexp(0.0, inputs) - inputs * targets
    else:
        log_p = mx.maximum(mx.log(inputs), -100)
        log_q = mx.maximum(mx.log(1 - inputs), -100)
        loss = -(targets * log_p + (1 - targets) * log_q)
    if weights is not None:
        if _shape(weights) != _shape(loss):
            raise ValueError(
                f"Weights with shape {_shape(weights)} does not match computed loss of shape "
                f"{_shape(loss)}."
            )
        loss = loss * weights
    return _reduce(loss, reduction)


def _check_pred(predictions, targets):
    if _shape(predictions) != _shape(targets):
        raise ValueError(
            f"Predictions shape {_shape(predictions)} does not match "
            f"targets shape {_shape(targets)}."
        )


def l1_loss(predictions, targets, reduction: Reduction = "mean"):
    """Mean absolute error."""
    _check_pred(predictions, targets)
    return _reduce(mx.abs(predictions - targets), reduction)


def mse_loss(predictions, targets, reduction: Reduction = "mean"):
    """Mean squared error."""
    _check_pred(predictions, targets)
    return _reduce(mx.square(predictions - targets), reduction)


def nll_loss(inputs, targets, axis: int = -1, reduction: Reduction = "none"):
    """Negative log likelihood of the class indices ``targets`` under log-probabilities
    ``inputs``."""
    loss = -mx.take_along_axis(inputs, mx.expand_dims(targets, -1), axis).squeeze(-1)
    return _reduce(loss, reduction)


def gaussian_nll_loss(
    inputs,
    targets,
    vars,
    full: bool = False,
    eps: float = 1e-6,
    reduction: Reduction = "mean",
):
    """Negative log likelihood of ``targets`` under Gaussians of means ``inputs`` and
    variances ``vars`` (clamped below at ``eps``); ``full`` adds the constant term."""
    if _shape(inputs) != _shape(targets):
        raise ValueError(
            f"Inputs shape {_shape(inputs)} does not match targets shape {_shape(targets)}."
        )
    if _shape(inputs) != _shape(vars):
        raise ValueError(
            f"Inputs shape {_shape(inputs)} does not match vars shape {_shape(vars)}."
        )
    vars = mx.maximum(vars, eps)
    loss = 0.5 * (mx.log(vars) + mx.square(targets - inputs) / vars)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def kl_div_loss(inputs, targets, axis: int = -1, reduction: Reduction = "none"):
    """Kullback-Leibler divergence; ``inputs`` and ``targets`` are log-probabilities."""
    loss = mx.sum(mx.exp(targets) * (targets - inputs), axis)
    return _reduce(loss, reduction)


def smooth_l1_loss(predictions, targets, beta: float = 1.0, reduction: Reduction = "mean"):
    """Squared error below ``beta`` (halved and divided by ``beta``), absolute error minus
    ``beta / 2`` above."""
    _check_pred(predictions, targets)
    diff = mx.abs(predictions - targets)
    loss = mx.where(diff < beta, 0.5 * mx.square(diff) / beta, diff - 0.5 * beta)
    return _reduce(loss, reduction)


def triplet_loss(
    anchors,
    positives,
    negatives,
    axis: int = -1,
    p: int = 2,
    margin: float = 1.0,
    eps: float = 1e-6,
    reduction: Reduction = "none",
):
    """``max(||a - p|| - ||a - n|| + margin, 0)`` with p-norms along ``axis``."""
    pos = mx.sqrt(mx.power(anchors - positives, p).sum(axis) + eps)
    neg = mx.sqrt(mx.power(anchors - negatives, p).sum(axis) + eps)
    return _reduce(mx.maximum(pos - neg + margin, 0), reduction)


def hinge_loss(inputs, targets, reduction: Reduction = "none"):
    """``max(1 - inputs * targets, 0)`` with targets in {-1, 1}."""
    return _reduce(mx.maximum(1 - inputs * targets, 0), reduction)


def huber_loss(inputs, targets, delta: float = 1.0, reduction: Reduction = "none"):
    """Quadratic below ``delta``, linear above."""
    errors = inputs - targets
    abs_errors = mx.abs(errors)
    quadratic = mx.minimum(abs_errors, delta)
    linear = abs_errors - quadratic
    return _reduce(0.5 * quadratic**2 + delta * linear, reduction)


def log_cosh_loss(inputs, targets, reduction: Reduction = "none"):
    """``log(cosh(inputs - targets))``, computed stably."""
    errors = inputs - targets
    return _reduce(mx.logaddexp(errors, -errors) - math.log(2), reduction)


def cosine_similarity_loss(x1, x2, axis: int = 1, eps: float = 1e-8, reduction: Reduction = "none"):
    """Cosine similarity of ``x1`` and ``x2`` along ``axis`` (norms clamped at ``eps``)."""
    n1 = mx.sqrt(mx.sum(mx.square(x1), axis=axis))
    n2 = mx.sqrt(mx.sum(mx.square(x2), axis=axis))
    loss = mx.sum(x1 * x2, axis=axis) / mx.maximum(n1 * n2, eps)
    return _reduce(loss, reduction)


def margin_ranking_loss(inputs1, inputs2, targets, margin: float = 0.0, reduction: Reduction = "none"):
    """``max(0, -targets * (inputs1 - inputs2) + margin)``."""
    if not (_shape(inputs1) == _shape(inputs2) == _shape(targets)):
        raise ValueError(
            f"The shapes of the arguments do not match. The provided shapes are "
            f"inputs1.shape={_shape(inputs1)}, inputs2.shape={_shape(inputs2)}, and "
            f"targets.shape={_shape(targets)}."
        )
    loss = mx.maximum(0, -targets * (inputs1 - inputs2) + margin)
    return _reduce(loss, reduction)
