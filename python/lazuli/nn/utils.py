"""Training helpers: ``value_and_grad`` over a model, ``checkpoint``, ``average_gradients``."""

from functools import wraps
from typing import Any, Callable, Optional

import lazuli.core as mx
from lazuli.nn.layers.base import Module
from lazuli.utils import tree_flatten, tree_map, tree_unflatten


def value_and_grad(model: Module, fn: Callable):
    """Transforms ``fn(*args)`` into a function returning ``fn``'s value and its gradient
    with respect to ``model.trainable_parameters()`` (a tree of the same structure).

    .. code-block:: python

        loss_and_grad = nn.value_and_grad(model, loss_fn)
        loss, grads = loss_and_grad(model, x, y)
    """

    # The call's own arguments reach `fn` through the closure, untouched (a model passed as an
    # argument stays the Module it is); only the parameter tree is differentiated.
    @wraps(fn)
    def wrapped_value_grad_fn(*args, **kwargs):
        def inner_fn(params):
            model.update(params)
            return fn(*args, **kwargs)

        return mx.value_and_grad(inner_fn)(model.trainable_parameters())

    return wrapped_value_grad_fn


def checkpoint(module: Module, fn: Optional[Callable] = None):
    """Wraps ``fn`` (by default ``module.__call__``) so that its intermediate values are
    recomputed in the backward pass instead of being kept (gradient checkpointing)."""
    if fn is None:
        fn = module.__call__

    def inner_fn(params, *args, **kwargs):
        module.update(params)
        return fn(*args, **kwargs)

    checkpointed = mx.checkpoint(inner_fn)

    # The inputs go through the transform (gradients flow back to them).
    @wraps(fn)
    def wrapped(*args, **kwargs):
        return checkpointed(module.trainable_parameters(), *args, **kwargs)

    return wrapped


def average_gradients(
    gradients: Any,
    group: Optional[Any] = None,
    all_reduce_size: int = 32 * 1024**2,
    communication_type: Optional[Any] = None,
    communication_stream: Optional[Any] = None,
):
    """Averages ``gradients`` over the processes of ``group`` (the global group by default)
    with ``distributed.all_sum``, packing small arrays into messages of about
    ``all_reduce_size`` bytes (0 disables packing). ``communication_type`` casts before
    communicating. With one process the gradients are returned unchanged."""
    dist = getattr(mx, "distributed", None)
    if dist is None:
        return gradients
    group = group or dist.init()
    N = group.size()
    if N == 1:
        return gradients

    def average(x):
        dt = x.dtype
        x = x.astype(communication_type) if communication_type is not None else x
        return (dist.all_sum(x, group=group) / N).astype(dt)

    if all_reduce_size <= 0:
        return tree_map(average, gradients)

    flat = tree_flatten(gradients)
    if not flat:
        return gradients
    keys = [k for k, _ in flat]
    shapes = [tuple(v.shape) for _, v in flat]
    sizes = [v.size for _, v in flat]
    dtypes = [v.dtype for _, v in flat]
    if not all(d == dtypes[0] for d in dtypes):
        return average_gradients(gradients, group, 0, communication_type)
    itemsize = (communication_type or dtypes[0]).size
    groups, cur, cur_bytes = [], [], 0
    for i, s in enumerate(sizes):
        cur.append(i)
        cur_bytes += s * itemsize
        if cur_bytes >= all_reduce_size:
            groups.append(cur)
            cur, cur_bytes = [], 0
    if cur:
        groups.append(cur)

    out = []
    for idx in groups:
        big = mx.concatenate([flat[i][1].reshape(-1) for i in idx])
        big = average(big)
        offsets = []
        acc = 0
        for i in idx[:-1]:
            acc += sizes[i]
            offsets.append(acc)
        for i, part in zip(idx, mx.split(big, offsets)):
            out.append((keys[i], part.reshape(shapes[i])))
    return tree_unflatten(out)
